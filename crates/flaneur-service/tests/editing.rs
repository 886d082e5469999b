//! Who may change and delete published sequences and pictures: owners and administrators
//! everything, other accounts tags always and the track's metadata when collaborative editing
//! is allowed, nobody what they may not see; and a refused change changes nothing.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{TimeZone, Utc};
use flaneur_model::{
    AccountId, AccountPreferences, JobKind, NewPicture, NewUploadSet, PictureDetails, PictureEdit,
    PictureId, PictureStatus, Projection, SemanticTag, SequenceEdit, SequenceId, TagAction,
    TagChange, UploadFile, UploadSetId, Viewer, Visibility,
};
use flaneur_service::{Error, Services};
use flaneur_store::{
    Catalog, DispatchPlan, FsBlobStore, PlannedPicture, PlannedSequence, RankQuery, SqliteCatalog,
    blob_keys,
};

/// Uploads the `n`th picture of a walk going east, 10 s and about 7 m apart, into `set`, and
/// makes it ready.
async fn insert_ready(
    catalog: &dyn Catalog,
    set: UploadSetId,
    account: AccountId,
    n: u32,
) -> PictureId {
    let at = Utc
        .timestamp_opt(1_600_000_000 + i64::from(n) * 10, 0)
        .single()
        .expect("instant");
    let id = PictureId::new();
    let picture = NewPicture {
        id,
        upload_set_id: Some(set),
        account_id: account,
        visibility: Visibility::Anyone,
        captured_at: at,
        utc_offset_secs: None,
        lon: 2.0 + f64::from(n) * 0.0001,
        lat: 48.0,
        heading_deg: None,
        projection: Projection::Flat,
        width: 100,
        height: 50,
        orientation: 1,
        content_md5: id.to_string(),
        file_name: format!("{n}.jpg"),
        size_bytes: 1,
        is_blurred: false,
        details: PictureDetails::default(),
    };
    let file = UploadFile {
        upload_set_id: set,
        file_name: picture.file_name.clone(),
        size_bytes: Some(1),
        content_md5: Some(id.to_string()),
        picture_id: Some(id),
        inserted_at: at,
        rejection: None,
    };
    catalog.insert_picture(picture, file).await.expect("insert");
    catalog
        .set_picture_status(id, PictureStatus::Ready, None)
        .await
        .expect("ready");
    id
}

/// Makes one sequence of `pictures` in their order, as a dispatch of `set` would.
async fn publish(catalog: &dyn Catalog, set: UploadSetId, pictures: &[PictureId]) -> SequenceId {
    let planned = pictures
        .iter()
        .map(|&id| PlannedPicture {
            id,
            heading_deg: Some(90.0),
            heading_computed: true,
        })
        .collect();
    let plan = DispatchPlan {
        sequences: vec![PlannedSequence {
            title: "walk".to_owned(),
            sorted_by: "+gpsdate".to_owned(),
            pictures: planned,
            length_km: 0.015,
            gps_accuracy_m: None,
        }],
        duplicates: Vec::new(),
    };
    catalog.apply_dispatch(set, plan).await.expect("dispatch")[0]
}

/// Services over a fresh catalog holding one ready walk of three pictures going east, owned
/// by the default account.
struct Walk {
    services: Services,
    owner: Viewer,
    set: UploadSetId,
    sequence: SequenceId,
    pictures: Vec<PictureId>,
    _dir: tempfile::TempDir,
}

impl Walk {
    async fn new() -> Walk {
        let dir = tempfile::tempdir().expect("temporary folder");
        let catalog = SqliteCatalog::open(&dir.path().join("catalog.sqlite"))
            .await
            .expect("catalog");
        let blobs = FsBlobStore::open(dir.path().join("pictures"))
            .await
            .expect("blob store");
        let (account, _) = catalog.default_account().await.expect("account");
        let set = catalog
            .create_upload_set(NewUploadSet::titled("walk", account))
            .await
            .expect("set")
            .id;
        let mut pictures = Vec::new();
        for n in 0..3_u32 {
            pictures.push(insert_ready(&catalog, set, account, n).await);
        }
        let sequence = publish(&catalog, set, &pictures).await;
        let services = Services::new(Arc::new(catalog), Arc::new(blobs), dir.path().join("s"));
        Walk {
            services,
            owner: Viewer::account(account, false),
            set,
            sequence,
            pictures,
            _dir: dir,
        }
    }

    /// A ready picture of the walk's upload set that no sequence holds yet.
    async fn unsequenced(&self) -> PictureId {
        let account = self.owner.account_id().expect("owner account");
        insert_ready(self.services.catalog.as_ref(), self.set, account, 3).await
    }

    async fn title(&self) -> String {
        let sequence = self.services.catalog.sequence(self.sequence).await;
        sequence.expect("read").expect("sequence").title
    }

    async fn order(&self) -> Vec<PictureId> {
        let all = RankQuery {
            include_unready: true,
            ..RankQuery::default()
        };
        let pictures = self
            .services
            .catalog
            .sequence_pictures(self.sequence, all)
            .await;
        pictures.expect("read").iter().map(|p| p.base.id).collect()
    }
}

fn someone() -> Viewer {
    Viewer::account(AccountId::new(), false)
}

fn retitle(title: &str) -> SequenceEdit {
    SequenceEdit {
        title: Some(title.to_owned()),
        ..SequenceEdit::default()
    }
}

fn tag(value: &str) -> Vec<TagChange> {
    vec![TagChange {
        tag: SemanticTag {
            key: "transport".to_owned(),
            value: value.to_owned(),
        },
        action: TagAction::Add,
    }]
}

#[tokio::test]
async fn owners_and_administrators_change_everything_of_a_collection() {
    let walk = Walk::new().await;
    let s = &walk.services;
    let edited = s
        .edit_collection(walk.owner, walk.sequence, retitle("mine"))
        .await;
    assert_eq!(edited.expect("owner").title, "mine");

    let admin = Viewer::account(AccountId::new(), true);
    let hide = SequenceEdit {
        visibility: Some(Visibility::OwnerOnly),
        ..retitle("moderated")
    };
    let edited = s.edit_collection(admin, walk.sequence, hide).await;
    assert_eq!(edited.expect("admin").visibility, Visibility::OwnerOnly);

    // Hidden now: another account does not find it, even to tag it.
    let tags = SequenceEdit {
        semantics: tag("bike"),
        ..SequenceEdit::default()
    };
    let hidden = s.edit_collection(someone(), walk.sequence, tags).await;
    assert!(
        matches!(hidden, Err(Error::CollectionNotFound(_))),
        "{hidden:?}"
    );
}

#[tokio::test]
async fn others_tag_and_arrange_collections_but_never_retitle_them() {
    let mut walk = Walk::new().await;
    let other = someone();

    let refused = walk
        .services
        .edit_collection(
            other,
            walk.sequence,
            SequenceEdit {
                semantics: tag("bike"),
                ..retitle("theirs")
            },
        )
        .await;
    assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");
    assert_eq!(walk.title().await, "walk", "nothing changed, tags included");
    let tags = walk.services.semantics(&[walk.sequence], &[]).await;
    assert!(tags.expect("tags").sequences.is_empty());

    let tagged = SequenceEdit {
        semantics: tag("bike"),
        ..SequenceEdit::default()
    };
    let done = walk
        .services
        .edit_collection(other, walk.sequence, tagged.clone())
        .await;
    assert!(done.is_ok(), "{done:?}");

    // Collaborative editing allowed by default: the order may change.
    let reverse = SequenceEdit {
        sort: Some("-gpsdate".parse().expect("sort")),
        ..SequenceEdit::default()
    };
    let done = walk
        .services
        .edit_collection(other, walk.sequence, reverse.clone())
        .await;
    assert_eq!(done.expect("sorted").sorted_by, "-gpsdate");
    let mut expected = walk.pictures.clone();
    expected.reverse();
    assert_eq!(walk.order().await, expected);

    // Not when the instance forbids it; tags still.
    walk.services.editing.collaborative_metadata = Some(false);
    let refused = walk
        .services
        .edit_collection(other, walk.sequence, reverse)
        .await;
    assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");
    let done = walk
        .services
        .edit_collection(other, walk.sequence, tagged)
        .await;
    assert!(done.is_ok(), "{done:?}");

    let anonymous = walk
        .services
        .edit_collection(Viewer::ANONYMOUS, walk.sequence, retitle("x"))
        .await;
    assert!(
        matches!(anonymous, Err(Error::LoginRequired)),
        "{anonymous:?}"
    );
}

#[tokio::test]
async fn the_owner_s_own_choice_of_collaborative_editing_comes_first() {
    let mut walk = Walk::new().await;
    let owner = walk.owner.account_id().expect("owner account");
    let choose = |allowed: bool| AccountPreferences {
        collaborative_metadata: Some(Some(allowed)),
        ..AccountPreferences::default()
    };
    let heading = PictureEdit {
        heading_deg: Some(12.0),
        ..PictureEdit::default()
    };

    // The owner says no, the instance says nothing: refused.
    let catalog = walk.services.catalog.clone();
    catalog
        .update_account_preferences(owner, &choose(false))
        .await
        .expect("preferences");
    let refused = walk
        .services
        .edit_item(someone(), None, walk.pictures[0], heading.clone())
        .await;
    assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");

    // The owner says yes, the instance no: allowed.
    catalog
        .update_account_preferences(owner, &choose(true))
        .await
        .expect("preferences");
    walk.services.editing.collaborative_metadata = Some(false);
    let done = walk
        .services
        .edit_item(someone(), None, walk.pictures[0], heading)
        .await;
    assert_eq!(done.expect("allowed").picture.base.heading_deg, Some(12.0));
}

#[tokio::test]
async fn logged_only_is_refused_where_anyone_may_register() {
    let mut walk = Walk::new().await;
    walk.services.editing.registration_is_open = true;
    let logged_only = SequenceEdit {
        visibility: Some(Visibility::LoggedOnly),
        ..SequenceEdit::default()
    };
    let refused = walk
        .services
        .edit_collection(walk.owner, walk.sequence, logged_only)
        .await;
    assert!(
        matches!(refused, Err(Error::InvalidParameter { .. })),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_new_capture_time_ranks_the_picture_again() {
    let walk = Walk::new().await;
    let other = someone();

    // The first picture taken last: it goes to the end of a sequence sorted by time.
    let later = Utc
        .timestamp_opt(1_600_000_100, 0)
        .single()
        .expect("instant");
    let retime = PictureEdit {
        captured_at: Some(later),
        ..PictureEdit::default()
    };
    let view = walk
        .services
        .edit_item(other, None, walk.pictures[0], retime)
        .await;
    let view = view.expect("collaborative edit");
    assert_eq!(view.picture.rank, Some(3));
    assert_eq!(view.prev.map(|p| p.base.id), Some(walk.pictures[2]));
    assert_eq!(view.next, None);
    let p = &walk.pictures;
    assert_eq!(walk.order().await, [p[1], p[2], p[0]]);

    // Visibility and pose are the owner's.
    let hide = PictureEdit {
        visibility: Some(Visibility::OwnerOnly),
        ..PictureEdit::default()
    };
    let refused = walk
        .services
        .edit_item(other, None, p[1], hide.clone())
        .await;
    assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");
    let done = walk.services.edit_item(walk.owner, None, p[1], hide).await;
    assert!(done.is_ok(), "{done:?}");
    let hidden = walk
        .services
        .edit_item(other, None, p[1], PictureEdit::default())
        .await;
    assert!(matches!(hidden, Err(Error::ItemNotFound(_))), "{hidden:?}");
}

#[tokio::test]
async fn only_owners_delete_and_what_is_deleted_is_gone() {
    let walk = Walk::new().await;
    let s = &walk.services;
    let refused = s.delete_item(someone(), None, walk.pictures[1]).await;
    assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");
    let refused = s.delete_collection(someone(), walk.sequence).await;
    assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");
    assert_eq!(walk.order().await.len(), 3);

    s.delete_item(walk.owner, None, walk.pictures[1])
        .await
        .expect("delete item");
    assert_eq!(walk.order().await, [walk.pictures[0], walk.pictures[2]]);
    let again = s.delete_item(walk.owner, None, walk.pictures[1]).await;
    assert!(matches!(again, Err(Error::ItemNotFound(_))), "{again:?}");

    s.delete_collection(walk.owner, walk.sequence)
        .await
        .expect("delete collection");
    let gone = s
        .edit_collection(walk.owner, walk.sequence, retitle("x"))
        .await;
    assert!(
        matches!(gone, Err(Error::CollectionNotFound(_))),
        "{gone:?}"
    );
    let gone = s
        .edit_item(walk.owner, None, walk.pictures[0], PictureEdit::default())
        .await;
    assert!(matches!(gone, Err(Error::ItemNotFound(_))), "{gone:?}");
}

/// Keys of a picture's original and thumbnail.
fn keys(id: PictureId) -> [String; 2] {
    [
        blob_keys::original(id),
        blob_keys::derivative(id, "thumb.jpg"),
    ]
}

/// Runs the queued file removals, as a worker would; returns the pictures they were for.
async fn remove_files(services: &Services) -> Vec<PictureId> {
    let mut removed = Vec::new();
    let lease = Duration::from_secs(60);
    while let Some(job) = services.catalog.claim_job(lease).await.expect("claim") {
        if job.kind == JobKind::DeleteFiles {
            let id: PictureId = job.target.parse().expect("picture id");
            services.delete_files(id).await.expect("remove files");
            removed.push(id);
        }
        services.catalog.finish_job(&job).await.expect("finish");
    }
    removed.sort();
    removed
}

#[tokio::test]
async fn deleted_pictures_lose_their_files_once_the_jobs_ran() {
    let walk = Walk::new().await;
    let s = &walk.services;
    for id in &walk.pictures {
        for key in keys(*id) {
            s.blobs
                .put_bytes(&key, Bytes::from_static(b"jpeg"))
                .await
                .expect("put");
        }
    }
    // Jobs queued by the upload (prepare) are not the concern here.
    remove_files(s).await;

    s.delete_item(walk.owner, None, walk.pictures[0])
        .await
        .expect("delete item");
    assert_eq!(remove_files(s).await, [walk.pictures[0]]);
    s.delete_collection(walk.owner, walk.sequence)
        .await
        .expect("delete collection");
    let mut rest = walk.pictures[1..].to_vec();
    rest.sort();
    assert_eq!(remove_files(s).await, rest);
    for id in &walk.pictures {
        for key in keys(*id) {
            assert_eq!(s.blobs.stat(&key).await.expect("stat"), None, "{key}");
        }
    }
}

#[tokio::test]
async fn rights_name_what_each_viewer_may_change() {
    let mut walk = Walk::new().await;
    let sequence = walk.services.catalog.sequence(walk.sequence).await;
    let sequence = sequence.expect("read").expect("sequence");
    let picture = walk.services.catalog.picture(walk.pictures[0]).await;
    let picture = picture.expect("read").expect("picture");
    let s = &walk.services;

    assert_eq!(
        s.collection_rights(Viewer::ANONYMOUS, &sequence)
            .await
            .expect("rights"),
        None
    );
    let owner = s
        .collection_rights(walk.owner, &sequence)
        .await
        .expect("rights");
    let owner = owner.expect("owner's rights");
    assert!(owner.may_delete && owner.fields.contains(&"title"));
    let other = s
        .collection_rights(someone(), &sequence)
        .await
        .expect("rights");
    assert_eq!(
        other.map(|r| (r.fields, r.may_delete)),
        Some((vec!["relative_heading", "semantics", "sortby"], false))
    );
    let other = s.item_rights(someone(), &picture).await.expect("rights");
    assert_eq!(other.map(|r| r.fields.len()), Some(5));

    walk.services.editing.collaborative_metadata = Some(false);
    let other = walk
        .services
        .item_rights(someone(), &picture)
        .await
        .expect("rights");
    assert_eq!(other.map(|r| r.fields), Some(vec!["semantics"]));
    let admin = Viewer::account(AccountId::new(), true);
    let admin = walk
        .services
        .item_rights(admin, &picture)
        .await
        .expect("rights");
    assert!(admin.is_some_and(|r| r.may_delete && r.fields.contains(&"visibility")));
}

#[tokio::test]
async fn pictures_no_sequence_holds_are_unknown_to_changes() {
    let walk = Walk::new().await;
    let s = &walk.services;
    let loose = walk.unsequenced().await;
    let heading = PictureEdit {
        heading_deg: Some(12.0),
        ..PictureEdit::default()
    };

    // Read by id as an unknown one, for everyone: changed and deleted by nobody.
    for viewer in [someone(), walk.owner] {
        assert!(matches!(
            s.item(None, loose, viewer).await,
            Err(Error::ItemNotFound(_))
        ));
        let refused = s.edit_item(viewer, None, loose, heading.clone()).await;
        assert!(
            matches!(refused, Err(Error::ItemNotFound(_))),
            "{refused:?}"
        );
        let refused = s.delete_item(viewer, None, loose).await;
        assert!(
            matches!(refused, Err(Error::ItemNotFound(_))),
            "{refused:?}"
        );
    }
    let kept = s.catalog.picture(loose).await.expect("read");
    assert_eq!(
        kept.expect("picture").base.heading_deg,
        None,
        "nothing changed"
    );
}

#[tokio::test]
async fn a_change_answers_what_its_author_reads() {
    let walk = Walk::new().await;
    let s = &walk.services;
    let other = someone();

    // Another walk passed by the first picture: it is related to it.
    let catalog = s.catalog.as_ref();
    let account = walk.owner.account_id().expect("owner account");
    let again = NewUploadSet::titled("again", account);
    let again = catalog.create_upload_set(again).await.expect("set").id;
    let passing = insert_ready(catalog, again, account, 0).await;
    publish(catalog, again, &[passing]).await;

    // The owner hides the middle picture: the other account's change of the first one
    // answers it without that neighbour and with its related picture, as its read does.
    let hide = PictureEdit {
        visibility: Some(Visibility::OwnerOnly),
        ..PictureEdit::default()
    };
    s.edit_item(walk.owner, None, walk.pictures[1], hide)
        .await
        .expect("hide");
    let heading = PictureEdit {
        heading_deg: Some(12.0),
        ..PictureEdit::default()
    };
    let answer = s.edit_item(other, None, walk.pictures[0], heading).await;
    let answer = answer.expect("collaborative edit");
    let read = s.item(None, walk.pictures[0], other).await.expect("read");
    assert_eq!(format!("{answer:?}"), format!("{read:?}"));
    assert_eq!(
        answer.next.as_ref().map(|p| p.base.id),
        Some(walk.pictures[2])
    );
    assert_eq!(answer.related.len(), 1, "{answer:?}");

    // The same for a collection, hidden from the other account meanwhile: nothing to answer.
    let tags = SequenceEdit {
        semantics: tag("bike"),
        ..SequenceEdit::default()
    };
    let answer = s.edit_collection(other, walk.sequence, tags.clone()).await;
    let read = s.collection(walk.sequence, other).await;
    assert_eq!(format!("{answer:?}"), format!("{read:?}"));
    let owner_only = SequenceEdit {
        visibility: Some(Visibility::OwnerOnly),
        ..SequenceEdit::default()
    };
    s.edit_collection(walk.owner, walk.sequence, owner_only)
        .await
        .expect("hide");
    let hidden = s.edit_collection(other, walk.sequence, tags).await;
    assert!(
        matches!(hidden, Err(Error::CollectionNotFound(_))),
        "{hidden:?}"
    );
}
