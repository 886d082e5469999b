//! The contract of changes to published sequences and pictures and of their deletion: fields
//! and tags written, the sequence's order, headings and figures kept right, `updated` and the
//! map's version moved, tombstones and file jobs left for deletions, and a refused change
//! leaving nothing behind.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use flaneur_model::{
    AccountPreferences, Collaborative, JobKind, NewUploadSet, Picture, PictureEdit, PictureId,
    PictureSort, PictureStatus, SemanticTag, Sequence, SequenceEdit, SequenceId, SequenceStatus,
    TagAction, TagChange, Visibility,
};
use flaneur_store::{Arrangement, Catalog, Error, PlannedPicture, RankQuery};

use crate::backend::{Sql, catalog_contracts};
use crate::fixture::{self, offset};

/// Changes racing other writers, which need a connection of their own to the catalog.
mod concurrent {
    use super::collaboration_refused_meanwhile;
    use crate::backend::sql_contracts;

    sql_contracts! {
        a_collaborative_change_waits_for_the_owner_s_choice_being_written =>
            collaboration_refused_meanwhile;
    }
}

catalog_contracts! {
    edits_sequence_fields_and_tags => sequence_fields_and_tags;
    arranges_a_sequence_inside_the_change => arrangement_inside_the_change;
    refuses_an_arrangement_losing_a_picture_and_changes_nothing => bad_arrangement;
    edits_a_picture_and_keeps_its_sequence_figures => picture_fields;
    figures_cover_the_pictures_reaching_as_far_as_their_sequence => figures_over_reach;
    collaborative_changes_follow_the_owner_s_choice_read_in_the_change => collaboration;
    deletes_a_sequence_as_a_tombstone_with_file_jobs => sequence_deletion;
    deletes_a_picture_and_arranges_the_rest => picture_deletion;
    concurrent_moves_in_one_sequence_all_apply_in_order => concurrent_moves;
}

/// A published walk of three ready pictures, 10 m apart going east, 10 s apart.
async fn walk(catalog: &dyn Catalog) -> (SequenceId, Vec<PictureId>) {
    let (account, _) = catalog.default_account().await.expect("account");
    let set = catalog
        .create_upload_set(NewUploadSet::titled("walk", account))
        .await
        .expect("set")
        .id;
    let pictures = (0..3)
        .map(|n| {
            let at = Utc
                .timestamp_opt(1_600_000_000 + 10 * n, 0)
                .single()
                .expect("instant");
            let place = offset(10.0 * n as f64, 0.0);
            let picture = fixture::picture(set, account, n as usize, at, place);
            (picture, PictureStatus::Ready)
        })
        .collect();
    fixture::publish(catalog, set, "walk", pictures).await
}

async fn sequence(catalog: &dyn Catalog, id: SequenceId) -> Sequence {
    catalog.sequence(id).await.expect("read").expect("sequence")
}

async fn pictures(catalog: &dyn Catalog, id: SequenceId) -> Vec<Picture> {
    let all = RankQuery {
        include_unready: true,
        ..RankQuery::default()
    };
    catalog.sequence_pictures(id, all).await.expect("pictures")
}

fn tag(key: &str, value: &str, action: TagAction) -> TagChange {
    TagChange {
        tag: SemanticTag {
            key: key.to_owned(),
            value: value.to_owned(),
        },
        action,
    }
}

/// Waits past the instant the clocks of the triggers read, so a move is a visible one.
async fn tick() {
    tokio::time::sleep(Duration::from_millis(3)).await;
}

/// An arrangement keeping the given order, every heading set to `heading`, 1 km long.
fn same_order(heading: f64) -> impl Fn(&Sequence, Vec<Picture>) -> Arrangement + Send + Sync {
    move |_, pictures| Arrangement {
        pictures: pictures
            .iter()
            .map(|p| PlannedPicture {
                id: p.base.id,
                heading_deg: Some(heading),
                heading_computed: true,
            })
            .collect(),
        length_km: 1.0,
        gps_accuracy_m: Some(3.0),
    }
}

async fn sequence_fields_and_tags(catalog: &dyn Catalog) {
    let (id, _) = walk(catalog).await;
    let before = sequence(catalog, id).await;
    let version = catalog.data_version().await.expect("version");
    tick().await;

    let edit = SequenceEdit {
        title: Some("Along the river".to_owned()),
        visibility: Some(Visibility::OwnerOnly),
        semantics: vec![
            tag("transport", "bike", TagAction::Add),
            tag("weather", "rain", TagAction::Add),
            tag("weather", "rain", TagAction::Delete),
            tag("surface", "gravel", TagAction::Delete),
        ],
        ..SequenceEdit::default()
    };
    let edited = catalog
        .edit_sequence(id, &edit, None)
        .await
        .expect("edit")
        .expect("sequence");
    assert_eq!(edited.title, "Along the river");
    assert_eq!(edited.visibility, Visibility::OwnerOnly);
    assert_eq!(
        edited.sorted_by, before.sorted_by,
        "the order was not asked for"
    );
    assert!(edited.updated_at > before.updated_at, "updated moves");
    assert_eq!(
        edited,
        sequence(catalog, id).await,
        "what is answered is stored"
    );

    let tags = catalog.sequence_semantics(&[id]).await.expect("tags");
    let pairs: Vec<(&str, &str)> = tags[&id]
        .iter()
        .map(|t| (t.key.as_str(), t.value.as_str()))
        .collect();
    assert_eq!(pairs, [("transport", "bike")]);

    // Hidden from anyone: the map's version moves.
    let after = catalog.data_version().await.expect("version");
    assert!(version.is_before(&after), "{version} then {after}");

    // A tag change alone moves `updated` too.
    tick().await;
    let tags_only = SequenceEdit {
        semantics: vec![tag("transport", "bike", TagAction::Delete)],
        ..SequenceEdit::default()
    };
    let again = catalog
        .edit_sequence(id, &tags_only, None)
        .await
        .expect("edit")
        .expect("sequence");
    assert!(again.updated_at > edited.updated_at);
    assert!(
        catalog
            .sequence_semantics(&[id])
            .await
            .expect("tags")
            .is_empty()
    );

    // No such sequence.
    let none = catalog
        .edit_sequence(SequenceId::new(), &edit, None)
        .await
        .expect("edit");
    assert_eq!(none, None);
}

async fn arrangement_inside_the_change(catalog: &dyn Catalog) {
    let (id, ids) = walk(catalog).await;
    let first_before = catalog
        .picture(ids[0])
        .await
        .expect("read")
        .expect("picture");
    tick().await;

    // The rule sees the row as the change wrote it, and the pictures in rank order.
    let reverse = |sequence: &Sequence, pictures: Vec<Picture>| {
        assert_eq!(sequence.sorted_by, "-gpsdate");
        assert_eq!(sequence.relative_heading_deg, Some(90.0));
        Arrangement {
            pictures: pictures
                .iter()
                .rev()
                .map(|p| PlannedPicture {
                    id: p.base.id,
                    heading_deg: Some(270.0),
                    heading_computed: true,
                })
                .collect(),
            length_km: 0.02,
            gps_accuracy_m: None,
        }
    };
    let edit = SequenceEdit {
        sort: Some("-gpsdate".parse::<PictureSort>().expect("sort")),
        relative_heading_deg: Some(90.0),
        ..SequenceEdit::default()
    };
    let edited = catalog
        .edit_sequence(id, &edit, Some(&reverse))
        .await
        .expect("edit")
        .expect("sequence");
    assert_eq!(edited.sorted_by, "-gpsdate");
    assert_eq!(edited.length_km, Some(0.02));

    let ranked: Vec<(PictureId, Option<i64>, Option<f64>)> = pictures(catalog, id)
        .await
        .iter()
        .map(|p| (p.base.id, p.rank, p.base.heading_deg))
        .collect();
    assert_eq!(
        ranked,
        [
            (ids[2], Some(1), Some(270.0)),
            (ids[1], Some(2), Some(270.0)),
            (ids[0], Some(3), Some(270.0)),
        ]
    );
    let first_after = catalog
        .picture(ids[0])
        .await
        .expect("read")
        .expect("picture");
    assert!(first_after.updated_at > first_before.updated_at);

    // The same order again writes no rank and keeps the pictures' `updated`.
    tick().await;
    let keep = same_order(270.0);
    catalog
        .edit_sequence(id, &SequenceEdit::default(), Some(&keep))
        .await
        .expect("edit");
    let kept = catalog
        .picture(ids[0])
        .await
        .expect("read")
        .expect("picture");
    assert_eq!(kept.updated_at, first_after.updated_at);
    assert_eq!(kept.rank, Some(3));
}

async fn bad_arrangement(catalog: &dyn Catalog) {
    let (id, ids) = walk(catalog).await;
    let before = sequence(catalog, id).await;
    let lose_one = |_: &Sequence, pictures: Vec<Picture>| Arrangement {
        pictures: pictures
            .iter()
            .skip(1)
            .map(|p| PlannedPicture {
                id: p.base.id,
                heading_deg: None,
                heading_computed: false,
            })
            .collect(),
        ..Arrangement::default()
    };
    let edit = SequenceEdit {
        title: Some("lost".to_owned()),
        sort: Some("+filename".parse().expect("sort")),
        ..SequenceEdit::default()
    };
    let refused = catalog.edit_sequence(id, &edit, Some(&lose_one)).await;
    assert!(refused.is_err(), "{refused:?}");
    assert_eq!(
        sequence(catalog, id).await,
        before,
        "the title change was undone"
    );
    assert_eq!(pictures(catalog, id).await.len(), ids.len());
}

async fn picture_fields(catalog: &dyn Catalog) {
    let (id, ids) = walk(catalog).await;
    let before = sequence(catalog, id).await;
    let version = catalog.data_version().await.expect("version");
    tick().await;

    // The last picture moves 1 km north, an hour later, and gets a heading of its own.
    let moved_to = offset(20.0, 1000.0);
    let later = Utc
        .timestamp_opt(1_600_003_600, 0)
        .single()
        .expect("instant");
    let edit = PictureEdit {
        visibility: None,
        heading_deg: Some(42.0),
        captured_at: Some(later),
        utc_offset_secs: Some(3600),
        position: Some(moved_to),
        pitch_deg: Some(-5.0),
        roll_deg: Some(1.5),
        yaw_deg: Some(300.0),
        semantics: vec![tag("osm|traffic_sign", "stop", TagAction::Add)],
        collaborative: None,
    };
    let keep = same_order(10.0);
    let edited = catalog
        .edit_picture(ids[2], &edit, Some(&keep))
        .await
        .expect("edit")
        .expect("picture");
    assert_eq!((edited.base.lon, edited.base.lat), moved_to);
    assert_eq!(edited.base.captured_at, later);
    assert_eq!(edited.base.utc_offset_secs, Some(3600));
    assert_eq!(edited.base.details.pitch_deg, Some(-5.0));
    assert_eq!(edited.base.details.roll_deg, Some(1.5));
    assert_eq!(edited.base.details.yaw_deg, Some(300.0));
    // The arrangement ran after the change and had the last word on headings.
    assert_eq!(edited.base.heading_deg, Some(10.0));
    assert!(edited.updated_at > before.updated_at);
    assert_eq!(
        Some(edited.clone()),
        catalog.picture(ids[2]).await.expect("read"),
        "what is answered is stored"
    );

    // The sequence's figures follow the move.
    let after = sequence(catalog, id).await;
    assert_eq!(after.max_captured_at, Some(later));
    let bbox = after.bbox.expect("bbox");
    assert!((bbox[3] - moved_to.1).abs() < 1e-12, "{bbox:?}");
    assert_eq!(after.length_km, Some(1.0));
    assert!(after.updated_at > before.updated_at);
    let moved = catalog.data_version().await.expect("version");
    assert!(version.is_before(&moved));

    let tags = catalog.picture_semantics(&[ids[2]]).await.expect("tags");
    assert_eq!(tags[&ids[2]][0].value, "stop");

    // A tag change alone leaves the row, and so the map's version, as they are.
    tick().await;
    let tags_only = PictureEdit {
        semantics: vec![tag("osm|traffic_sign", "stop", TagAction::Delete)],
        ..PictureEdit::default()
    };
    let untagged = catalog
        .edit_picture(ids[2], &tags_only, None)
        .await
        .expect("edit")
        .expect("picture");
    assert!(untagged.updated_at > edited.updated_at);
    assert_eq!(untagged.base, edited.base);
    assert_eq!(catalog.data_version().await.expect("version"), moved);

    let none = catalog
        .edit_picture(PictureId::new(), &tags_only, None)
        .await
        .expect("edit");
    assert_eq!(none, None);
}

async fn hide(catalog: &dyn Catalog, id: PictureId, visibility: Visibility) {
    let edit = PictureEdit {
        visibility: Some(visibility),
        ..PictureEdit::default()
    };
    catalog
        .edit_picture(id, &edit, None)
        .await
        .expect("edit")
        .expect("picture");
}

async fn figures_over_reach(catalog: &dyn Catalog) {
    let (id, ids) = walk(catalog).await;
    let whole = sequence(catalog, id).await;
    assert_eq!(whole.nb_pictures, 3);

    // The last picture hidden from the sequence's readers no longer counts, nor stretches its
    // time span and bbox: they end at the second picture.
    hide(catalog, ids[2], Visibility::OwnerOnly).await;
    let second = catalog
        .picture(ids[1])
        .await
        .expect("read")
        .expect("picture");
    let shrunk = sequence(catalog, id).await;
    assert_eq!(shrunk.nb_pictures, 2);
    assert_eq!(shrunk.min_captured_at, whole.min_captured_at);
    assert_eq!(shrunk.max_captured_at, Some(second.base.captured_at));
    let bbox = shrunk.bbox.expect("bbox");
    assert!((bbox[2] - second.base.lon).abs() < 1e-12, "{bbox:?}");
    assert_eq!(
        pictures(catalog, id).await.len(),
        3,
        "the picture stays in its sequence"
    );

    // Logged-only reaches a logged-only sequence, and owner-only one of the same level.
    hide(catalog, ids[2], Visibility::LoggedOnly).await;
    assert_eq!(sequence(catalog, id).await.nb_pictures, 2);
    let logged = SequenceEdit {
        visibility: Some(Visibility::LoggedOnly),
        ..SequenceEdit::default()
    };
    catalog
        .edit_sequence(id, &logged, None)
        .await
        .expect("edit")
        .expect("sequence");
    let logged_figures = sequence(catalog, id).await;
    assert_eq!(
        (logged_figures.nb_pictures, logged_figures.bbox),
        (3, whole.bbox)
    );
    hide(catalog, ids[2], Visibility::OwnerOnly).await;
    assert_eq!(sequence(catalog, id).await.nb_pictures, 2);
    let owner_only = SequenceEdit {
        visibility: Some(Visibility::OwnerOnly),
        ..SequenceEdit::default()
    };
    catalog
        .edit_sequence(id, &owner_only, None)
        .await
        .expect("edit")
        .expect("sequence");
    assert_eq!(sequence(catalog, id).await.nb_pictures, 3);

    // Shown to anyone again, the picture counts again.
    let anyone = SequenceEdit {
        visibility: Some(Visibility::Anyone),
        ..SequenceEdit::default()
    };
    catalog
        .edit_sequence(id, &anyone, None)
        .await
        .expect("edit")
        .expect("sequence");
    assert_eq!(sequence(catalog, id).await.nb_pictures, 2);
    hide(catalog, ids[2], Visibility::Anyone).await;
    let back = sequence(catalog, id).await;
    assert_eq!((back.nb_pictures, back.bbox), (3, whole.bbox));
    assert_eq!(back.max_captured_at, whole.max_captured_at);
}

async fn collaboration(catalog: &dyn Catalog) {
    let (id, ids) = walk(catalog).await;
    let owner = sequence(catalog, id).await.account_id;
    let turn = |instance_default| PictureEdit {
        heading_deg: Some(33.0),
        collaborative: Some(Collaborative { instance_default }),
        ..PictureEdit::default()
    };
    let reorder = |instance_default| SequenceEdit {
        relative_heading_deg: Some(90.0),
        collaborative: Some(Collaborative { instance_default }),
        ..SequenceEdit::default()
    };

    // The owner says nothing: the instance decides, yes when it says nothing either.
    let refused = catalog.edit_picture(ids[0], &turn(Some(false)), None).await;
    assert!(
        matches!(refused, Err(Error::CollaborationRefused)),
        "{refused:?}"
    );
    let refused = catalog.edit_sequence(id, &reorder(Some(false)), None).await;
    assert!(
        matches!(refused, Err(Error::CollaborationRefused)),
        "{refused:?}"
    );
    let before = catalog
        .picture(ids[0])
        .await
        .expect("read")
        .expect("picture");
    assert_ne!(before.base.heading_deg, Some(33.0), "nothing changed");
    let done = catalog.edit_picture(ids[0], &turn(None), None).await;
    assert_eq!(
        done.expect("edit").expect("picture").base.heading_deg,
        Some(33.0)
    );

    // The owner's choice comes first.
    let choose = |allowed| AccountPreferences {
        collaborative_metadata: Some(Some(allowed)),
        ..AccountPreferences::default()
    };
    (catalog
        .update_account_preferences(owner, &choose(false))
        .await)
        .expect("preferences");
    let refused = catalog.edit_picture(ids[1], &turn(Some(true)), None).await;
    assert!(
        matches!(refused, Err(Error::CollaborationRefused)),
        "{refused:?}"
    );
    (catalog
        .update_account_preferences(owner, &choose(true))
        .await)
        .expect("preferences");
    let done = catalog.edit_sequence(id, &reorder(Some(false)), None).await;
    assert!(done.expect("edit").is_some());
}

async fn collaboration_refused_meanwhile(catalog: &dyn Catalog, sql: &Sql) {
    let (id, ids) = walk(catalog).await;
    let owner = sequence(catalog, id).await.account_id;
    let turn = PictureEdit {
        heading_deg: Some(33.0),
        collaborative: Some(Collaborative::default()),
        ..PictureEdit::default()
    };

    // The owner refuses collaborative editing in a transaction that commits while the change
    // runs: the change waits for it and is refused, rather than reading the choice before.
    let pause = Duration::from_millis(300);
    let turned = match sql {
        Sql::Sqlite(pool) => {
            let mut tx = pool.begin().await.expect("begin");
            sqlx::query("UPDATE accounts SET collaborative_metadata = 0 WHERE id = ?")
                .bind(owner.to_string())
                .execute(&mut *tx)
                .await
                .expect("refuse");
            let commit = async {
                tokio::time::sleep(pause).await;
                tx.commit().await.expect("commit");
            };
            tokio::join!(catalog.edit_picture(ids[0], &turn, None), commit).0
        }
        Sql::Postgres(pool) => {
            let mut tx = pool.begin().await.expect("begin");
            sqlx::query("UPDATE accounts SET collaborative_metadata = false WHERE id = $1")
                .bind(owner.0)
                .execute(&mut *tx)
                .await
                .expect("refuse");
            let commit = async {
                tokio::time::sleep(pause).await;
                tx.commit().await.expect("commit");
            };
            tokio::join!(catalog.edit_picture(ids[0], &turn, None), commit).0
        }
    };
    assert!(
        matches!(turned, Err(Error::CollaborationRefused)),
        "{turned:?}"
    );
}

async fn file_jobs(catalog: &dyn Catalog) -> Vec<String> {
    let mut targets = Vec::new();
    while let Some(job) = catalog
        .claim_job(Duration::from_secs(60))
        .await
        .expect("claim")
    {
        if job.kind == JobKind::DeleteFiles {
            targets.push(job.target.clone());
        }
        catalog.finish_job(&job).await.expect("finish");
    }
    targets.sort();
    targets
}

async fn sequence_deletion(catalog: &dyn Catalog) {
    let (id, ids) = walk(catalog).await;
    let (other, _) = walk(catalog).await;
    let version = catalog.data_version().await.expect("version");
    let before = sequence(catalog, id).await;
    tick().await;

    assert!(catalog.delete_sequence(id).await.expect("delete"));
    let tombstone = sequence(catalog, id).await;
    assert_eq!(tombstone.status, SequenceStatus::Deleted);
    assert_eq!(tombstone.nb_pictures, 0);
    assert!(
        tombstone.updated_at > before.updated_at,
        "harvesters see it go"
    );
    for picture in &ids {
        assert_eq!(catalog.picture(*picture).await.expect("read"), None);
    }
    let mut expected: Vec<String> = ids.iter().map(ToString::to_string).collect();
    expected.sort();
    assert_eq!(file_jobs(catalog).await, expected);
    let after = catalog.data_version().await.expect("version");
    assert!(version.is_before(&after));

    // The other walk is untouched; deleting again, or editing the tombstone, finds nothing.
    assert_eq!(pictures(catalog, other).await.len(), 3);
    assert!(!catalog.delete_sequence(id).await.expect("delete"));
    assert!(
        !catalog
            .delete_sequence(SequenceId::new())
            .await
            .expect("delete")
    );
    let edit = SequenceEdit {
        title: Some("back".to_owned()),
        ..SequenceEdit::default()
    };
    assert_eq!(
        catalog.edit_sequence(id, &edit, None).await.expect("edit"),
        None
    );
}

async fn picture_deletion(catalog: &dyn Catalog) {
    let (id, ids) = walk(catalog).await;
    let before = sequence(catalog, id).await;
    tick().await;

    let keep = same_order(0.0);
    assert!(catalog.delete_picture(ids[2], &keep).await.expect("delete"));
    assert_eq!(catalog.picture(ids[2]).await.expect("read"), None);
    let left: Vec<(PictureId, Option<i64>)> = pictures(catalog, id)
        .await
        .iter()
        .map(|p| (p.base.id, p.rank))
        .collect();
    assert_eq!(left, [(ids[0], Some(1)), (ids[1], Some(2))]);

    let after = sequence(catalog, id).await;
    assert_eq!(after.nb_pictures, 2);
    assert!(after.updated_at > before.updated_at);
    assert!(after.max_captured_at < before.max_captured_at);
    let (east_before, east_after) = (before.bbox.expect("bbox")[2], after.bbox.expect("bbox")[2]);
    assert!(east_after < east_before, "{east_after} < {east_before}");
    assert_eq!(after.length_km, Some(1.0));
    assert_eq!(file_jobs(catalog).await, [ids[2].to_string()]);

    // The first one: the rank of the one left stays as it is, gap and all.
    assert!(catalog.delete_picture(ids[0], &keep).await.expect("delete"));
    let left: Vec<Option<i64>> = pictures(catalog, id).await.iter().map(|p| p.rank).collect();
    assert_eq!(left, [Some(2)]);
    assert!(!catalog.delete_picture(ids[0], &keep).await.expect("delete"));
}

/// Arranges pictures by capture time, as a sequence sorted `+gpsdate` is.
fn by_time(_: &Sequence, mut pictures: Vec<Picture>) -> Arrangement {
    pictures.sort_by_key(|p| (p.base.captured_at, p.base.id));
    Arrangement {
        pictures: pictures
            .iter()
            .map(|p| PlannedPicture {
                id: p.base.id,
                heading_deg: p.base.heading_deg,
                heading_computed: p.heading_computed,
            })
            .collect(),
        ..Arrangement::default()
    }
}

async fn concurrent_moves(catalog: &dyn Catalog) {
    let (id, ids) = walk(catalog).await;
    let (_, more) = walk(catalog).await;
    let base = Utc
        .timestamp_opt(1_700_000_000, 0)
        .single()
        .expect("instant");

    // Every picture gets a new time, the first the latest: each change arranges the sequence
    // from the rows its transaction sees, so the last one to commit orders them all right.
    let moves = ids.iter().enumerate().map(|(n, picture)| {
        let edit = PictureEdit {
            captured_at: Some(base - chrono::Duration::seconds(n as i64)),
            ..PictureEdit::default()
        };
        async move { catalog.edit_picture(*picture, &edit, Some(&by_time)).await }
    });
    // Meanwhile the pictures of another walk are deleted, each arranging what is left of it.
    let deletions = more.iter().map(|picture| async move {
        catalog
            .delete_picture(*picture, &by_time)
            .await
            .map(|_| None)
    });
    let (moved, deleted) = futures::future::join(
        futures::future::join_all(moves),
        futures::future::join_all(deletions),
    )
    .await;
    for outcome in moved.into_iter().chain(deleted) {
        assert!(outcome.is_ok(), "{outcome:?}");
    }

    let order: Vec<PictureId> = pictures(catalog, id)
        .await
        .iter()
        .map(|p| p.base.id)
        .collect();
    let mut expected = ids.clone();
    expected.reverse();
    assert_eq!(order, expected);
}
