//! The contract of federation: peers, and the collections and items harvested from them,
//! which every read of the catalog covers as it covers local ones, and no write changes.

use chrono::{DateTime, TimeZone, Utc};
use flaneur_model::NewToken;
use flaneur_model::{
    AnnotationId, ApplyOutcome, HarvestEnd, HarvestProgress, Holder, NewAnnotation, NewReport,
    NewUploadSet, ORIGIN_KEY, ORIGIN_UPDATED_KEY, PeerId, PeerSource, Picture, PictureDetails,
    PictureEdit, PictureId, PictureStatus, Projection, RemoteAuthor, RemoteCollection, RemoteItem,
    RemoteRemoval, ReportIssue, ReportQuery, Role, SemanticTag, Sequence, SequenceEdit, SequenceId,
    SequenceStatus, Shape, Skip, TagAction, TagChange, TokenId, Viewer, Visibility,
};
use flaneur_store::{
    Arrangement, Catalog, CompareOp, CountBy, Error, Filter, Literal, MapQuery, NewSession,
    PictureQuery, PlannedPicture, RankQuery, SequenceQuery, SequenceSort, TimeRange,
};
use serde_json::{Map, Value, json};

use crate::backend::catalog_contracts;
use crate::fixture::{self, offset};

catalog_contracts! {
    peers_are_declared_once_paused_and_removed => peers_lifecycle;
    a_harvest_records_its_start_end_and_progress => harvest_state;
    remote_collections_read_as_local_ones_do => remote_reads;
    an_apply_again_leaves_exactly_the_items_the_peer_lists => reapply;
    a_removed_remote_collection_leaves_only_its_tombstone => remote_removal;
    removing_a_peer_removes_what_it_brought_and_nothing_local => peer_removal;
    tombstones_of_harvested_collections_are_listed_and_never_in_the_way => harvested_tombstones;
    ids_held_elsewhere_are_conflicts_and_nothing_is_written => conflicts;
    a_collection_deleted_at_its_peer_is_not_applied => deleted_refused;
    remote_authors_never_take_local_names => remote_authors;
    writes_to_remote_rows_are_refused_and_change_nothing => remote_refusals;
    a_collection_of_more_items_than_one_statement_takes_applies_whole => large_collection;
    tag_filters_match_harvested_tags_as_an_apply_leaves_them => remote_tags;
    a_copy_from_its_origin_takes_over_a_relayed_one_which_then_stays_out => relays;
    conflicts_are_counted_per_peer_until_they_go => conflict_counts;
    two_peers_bringing_one_new_id_at_once_leave_it_to_one => concurrent_claims;
    a_removal_at_its_origin_holds_against_older_relayed_copies => origin_removals;
    skipped_copies_are_released_when_their_holder_lets_go => released_skips;
}

const PEER: &str = "https://peer.example/api";
const OTHER_PEER: &str = "https://other.example/api";

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + seconds, 0)
        .single()
        .expect("instant")
}

fn doc(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn author(id: &str, name: &str) -> RemoteAuthor {
    RemoteAuthor {
        id: Some(id.to_owned()),
        name: Some(name.to_owned()),
    }
}

fn collection(id: SequenceId, title: &str, updated: DateTime<Utc>) -> RemoteCollection {
    RemoteCollection {
        id,
        updated,
        is_deleted: false,
        title: title.to_owned(),
        author: author("7", "alice"),
        doc: doc(json!({"id": id.to_string(), "title": title})),
    }
}

/// An item of rank `rank`, `east_m` metres east of the fixture's spot, taken `east_m`
/// seconds after [`at`]`(0)`.
fn item(rank: i64, east_m: i64) -> RemoteItem {
    let (lon, lat) = offset(east_m as f64, 0.0);
    let id = PictureId::new();
    RemoteItem {
        id,
        rank,
        captured_at: at(east_m),
        lon,
        lat,
        heading_deg: Some(90.0),
        projection: Projection::Equirectangular,
        width: Some(5760),
        height: Some(2880),
        updated: Some(at(1000)),
        author: author("7", "alice"),
        details: PictureDetails {
            make: Some("GoPro".to_owned()),
            model: Some("Max".to_owned()),
            ..PictureDetails::default()
        },
        doc: doc(json!({
            "id": id.to_string(),
            "assets": {"hd": {"href": format!("{PEER}/pictures/{id}/hd.jpg")}},
        })),
    }
}

/// `n` items 10 m apart, ranked from 1.
fn walk(n: i64) -> Vec<RemoteItem> {
    (1..=n).map(|r| item(r, r * 10)).collect()
}

/// A peer's word that the collection `id` is gone, telling no time.
pub(crate) fn removal(id: SequenceId) -> RemoteRemoval {
    RemoteRemoval {
        id,
        updated: None,
        origin_updated: None,
    }
}

fn progress(seconds: i64) -> HarvestProgress {
    HarvestProgress {
        watermark: Some(at(seconds)),
        resume_url: Some(format!("{PEER}/collections?page={seconds}")),
        claim: None,
    }
}

/// One published local sequence of three pictures, east of the spot by 1 to 3 metres.
async fn local_walk(catalog: &dyn Catalog) -> (SequenceId, Vec<PictureId>) {
    let (owner, _) = catalog.default_account().await.expect("account");
    let set = catalog
        .create_upload_set(NewUploadSet::titled("local", owner))
        .await
        .expect("set")
        .id;
    let pictures = (1..=3)
        .map(|n| {
            let p = fixture::picture(set, owner, n, at(n as i64), offset(n as f64, 0.0));
            (p, PictureStatus::Ready)
        })
        .collect();
    fixture::publish(catalog, set, "local", pictures).await
}

async fn peer(catalog: &dyn Catalog, url: &str) -> PeerId {
    catalog
        .add_peer(url, PeerSource::Config)
        .await
        .expect("peer")
        .id
}

async fn apply(
    catalog: &dyn Catalog,
    peer: PeerId,
    collection: &RemoteCollection,
    items: &[RemoteItem],
) -> ApplyOutcome {
    catalog
        .apply_remote_collection(peer, collection, items, &progress(1))
        .await
        .expect("apply")
}

async fn ranked(catalog: &dyn Catalog, id: SequenceId) -> Vec<(i64, PictureId)> {
    catalog
        .sequence_pictures(id, RankQuery::default())
        .await
        .expect("pictures")
        .into_iter()
        .map(|p| (p.rank.unwrap_or_default(), p.base.id))
        .collect()
}

const WORLD: MapQuery = MapQuery {
    bbox: [-180.0, -85.0, 180.0, 85.0],
    account: None,
    simplified: false,
};

/// A copy of an embedded catalog into PostgreSQL carries the peers and what they brought,
/// and leaves the files of remote pictures out: there are none here.
#[tokio::test]
async fn a_copy_to_postgresql_carries_peers_and_their_data() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("catalog.sqlite");
    let embedded = flaneur_store::SqliteCatalog::open(&path)
        .await
        .expect("open");
    let (local, local_pictures) = local_walk(&embedded).await;
    let id = peer(&embedded, PEER).await;
    let remote = collection(SequenceId::new(), "remote", at(100));
    let items = walk(3);
    apply(&embedded, id, &remote, &items).await;
    let removed = collection(SequenceId::new(), "removed", at(100));
    apply(&embedded, id, &removed, &walk(1)).await;
    embedded
        .remove_remote_collection(id, &removal(removed.id), &progress(2))
        .await
        .expect("remove");
    // A conflict, which the peer's count of conflicts shows once copied.
    embedded
        .record_skip(id, local, Skip::Conflict, &progress(3))
        .await
        .expect("conflict");
    // A relayed copy skipped, which is no conflict: copied as one, it would count.
    embedded
        .record_skip(id, SequenceId::new(), Skip::Relayed, &progress(4))
        .await
        .expect("skip");
    let peers = embedded.peers().await.expect("peers");
    assert_eq!(peers[0].harvest.nb_conflicts, 1);
    let sequence = embedded.sequence(remote.id).await.expect("read");
    let tombstone = embedded.sequence(removed.id).await.expect("read");
    assert_eq!(
        tombstone.as_ref().map(|t| (t.status, t.origin_removed_at)),
        Some((SequenceStatus::Deleted, Some(at(100))))
    );
    embedded.close().await;

    crate::backend::PgDatabase::run(|url| async move {
        let source = flaneur_store::transfer::SqliteSource::open(&path)
            .await
            .expect("source");
        let files: Vec<PictureId> = source
            .pictures()
            .await
            .expect("pictures")
            .iter()
            .map(|p| p.id)
            .collect();
        assert_eq!(files.len(), 3);
        assert!(local_pictures.iter().all(|p| files.contains(p)));
        let destination = flaneur_store::transfer::PgDestination::connect(&url)
            .await
            .expect("destination");
        flaneur_store::transfer::copy_catalog(&source, &destination)
            .await
            .expect("copy");
        destination.close().await;
        source.close().await;

        let copy = crate::backend::pg_catalog(&url).await;
        assert_eq!(copy.peers().await.expect("peers"), peers);
        assert_eq!(copy.sequence(remote.id).await.expect("read"), sequence);
        // The tombstone of a harvested collection goes too, for the catalogs harvesting this
        // one.
        assert_eq!(copy.sequence(removed.id).await.expect("read"), tombstone);
        assert_eq!(
            ranked(&copy, remote.id).await,
            items.iter().map(|i| (i.rank, i.id)).collect::<Vec<_>>()
        );
        assert_eq!(ranked(&copy, local).await.len(), 3);
        let grid = copy.picture_grid().await.expect("grid");
        assert_eq!(grid.iter().map(|c| c.nb_pictures).sum::<i64>(), 6);
        // It still gives way to a harvest of its id.
        assert_eq!(
            apply(&copy, id, &removed, &walk(1)).await,
            ApplyOutcome::Applied
        );
        copy.close().await;
    })
    .await;
}

async fn peers_lifecycle(catalog: &dyn Catalog) {
    // Declared again, by the configuration or with a trailing slash: one peer.
    let first = catalog
        .add_peer(&format!("{PEER}/"), PeerSource::Config)
        .await
        .expect("add");
    assert_eq!(first.api_url, PEER);
    assert_eq!(first.source, PeerSource::Config);
    assert!(!first.is_paused);
    let again = catalog
        .add_peer(PEER, PeerSource::Config)
        .await
        .expect("add");
    assert_eq!(again.id, first.id);

    // An administrator's declaration keeps it, whatever the configuration says next.
    let kept = catalog
        .add_peer(PEER, PeerSource::Admin)
        .await
        .expect("add");
    assert_eq!((kept.id, kept.source), (first.id, PeerSource::Admin));
    let still = catalog
        .add_peer(PEER, PeerSource::Config)
        .await
        .expect("add");
    assert_eq!(still.source, PeerSource::Admin);

    let other = peer(catalog, OTHER_PEER).await;
    let listed: Vec<PeerId> = catalog
        .peers()
        .await
        .expect("peers")
        .iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(listed, [first.id, other]);
    let by_url = catalog
        .peer_by_url(&format!("{PEER}/"))
        .await
        .expect("read");
    assert_eq!(by_url.map(|p| p.id), Some(first.id));

    assert!(
        catalog
            .set_peer_paused(first.id, true)
            .await
            .expect("pause")
    );
    let paused = catalog.peer(first.id).await.expect("read").expect("peer");
    assert!(paused.is_paused);
    assert!(
        !catalog
            .set_peer_paused(PeerId::new(), true)
            .await
            .expect("pause")
    );

    assert!(catalog.remove_peer(first.id).await.expect("remove"));
    assert!(!catalog.remove_peer(first.id).await.expect("remove"));
    assert_eq!(catalog.peer(first.id).await.expect("read"), None);
    assert_eq!(catalog.peer_by_url(PEER).await.expect("read"), None);
}

async fn harvest_state(catalog: &dyn Catalog) {
    let id = peer(catalog, PEER).await;
    catalog.start_harvest(id, at(10)).await.expect("start");
    catalog
        .save_harvest_progress(id, &progress(5))
        .await
        .expect("progress");
    catalog
        .finish_harvest(
            id,
            None,
            &HarvestEnd::Failure {
                at: at(20),
                error: "peer answered 503".to_owned(),
                next_attempt_at: at(80),
            },
        )
        .await
        .expect("finish");
    let failed = catalog.peer(id).await.expect("read").expect("peer").harvest;
    assert_eq!(failed.last_attempt_at, Some(at(10)));
    assert_eq!(failed.failures, 1);
    assert_eq!(failed.last_error.as_deref(), Some("peer answered 503"));
    assert_eq!(failed.next_attempt_at, Some(at(80)));
    assert_eq!(failed.last_success_at, None);
    // A failure keeps how far the harvest got.
    assert_eq!(failed.watermark, Some(at(5)));
    assert_eq!(failed.resume_url, progress(5).resume_url);

    catalog
        .finish_harvest(
            id,
            None,
            &HarvestEnd::Success {
                at: at(30),
                next_attempt_at: at(90),
            },
        )
        .await
        .expect("finish");
    let done = catalog.peer(id).await.expect("read").expect("peer").harvest;
    assert_eq!(done.failures, 0);
    assert_eq!(done.last_error, None);
    assert_eq!(done.resume_url, None);
    assert_eq!(done.last_success_at, Some(at(30)));
    assert_eq!(done.next_attempt_at, Some(at(90)));
    assert_eq!(done.watermark, Some(at(5)));
}

async fn remote_reads(catalog: &dyn Catalog) {
    let (local, local_pictures) = local_walk(catalog).await;
    let id = peer(catalog, PEER).await;
    let before = catalog.data_version().await.expect("version");
    let remote = collection(SequenceId::new(), "remote walk", at(500));
    let items = walk(3);
    assert_eq!(
        catalog
            .apply_remote_collection(id, &remote, &items, &progress(500))
            .await
            .expect("apply"),
        ApplyOutcome::Applied
    );
    let remote_ids: Vec<PictureId> = items.iter().map(|i| i.id).collect();

    // The sequence, with figures computed over its items and the peer's JSON.
    let sequence = catalog
        .sequence(remote.id)
        .await
        .expect("read")
        .expect("sequence");
    assert_eq!(sequence.title, "remote walk");
    assert_eq!(sequence.nb_pictures, 3);
    assert_eq!(sequence.min_captured_at, Some(at(10)));
    assert_eq!(sequence.max_captured_at, Some(at(30)));
    let length_m = sequence.length_km.expect("length") * 1000.0;
    assert!((length_m - 20.0).abs() < 0.1, "{length_m}");
    let origin = sequence.origin.expect("remote");
    assert_eq!(origin.peer_id, id);
    assert_eq!(origin.doc, remote.doc);
    let local_sequence = catalog.sequence(local).await.expect("read").expect("local");
    assert_eq!(local_sequence.origin, None);

    // Its pictures, in rank order, remote and carrying what the peer sent.
    assert_eq!(
        ranked(catalog, remote.id).await,
        [(1, remote_ids[0]), (2, remote_ids[1]), (3, remote_ids[2])]
    );
    let picture = catalog
        .picture(remote_ids[1])
        .await
        .expect("read")
        .expect("picture");
    assert_eq!(picture.status, PictureStatus::Ready);
    assert_eq!(picture.base.heading_deg, Some(90.0));
    assert_eq!(picture.base.width, 5760);
    assert_eq!(picture.base.details.make.as_deref(), Some("GoPro"));
    assert_eq!(picture.sequence_id, Some(remote.id));
    // No upload set, no file: nothing a local picture's code could look up.
    assert_eq!(picture.base.upload_set_id, None);
    assert_eq!(picture.base.file_name, "");
    let origin = picture.origin.expect("remote");
    assert_eq!((origin.peer_id, &origin.doc), (id, &items[1].doc));
    let local_picture = catalog
        .picture(local_pictures[0])
        .await
        .expect("read")
        .expect("picture");
    assert_eq!(local_picture.origin, None);
    assert!(local_picture.base.upload_set_id.is_some());

    // Search, by place, time, collection and filter.
    let search = |query: PictureQuery| async move {
        let mut ids: Vec<PictureId> = catalog
            .search_pictures(&PictureQuery {
                limit: 100,
                ..query
            })
            .await
            .expect("search")
            .rows
            .iter()
            .map(|p| p.base.id)
            .collect();
        ids.sort();
        ids
    };
    let sorted = |mut ids: Vec<PictureId>| {
        ids.sort();
        ids
    };
    let mut everything = remote_ids.clone();
    everything.extend(&local_pictures);
    assert_eq!(search(PictureQuery::default()).await, sorted(everything));
    let (east, _) = offset(5.0, 0.0);
    let bbox = [
        east,
        fixture::LAT - 0.01,
        1.0 + fixture::LON,
        fixture::LAT + 0.01,
    ];
    assert_eq!(
        search(PictureQuery {
            bbox: Some(bbox),
            ..PictureQuery::default()
        })
        .await,
        sorted(remote_ids.clone())
    );
    assert_eq!(
        search(PictureQuery {
            datetime: TimeRange {
                start: Some(at(15)),
                end: Some(at(25)),
            },
            ..PictureQuery::default()
        })
        .await,
        vec![remote_ids[1]]
    );
    assert_eq!(
        search(PictureQuery {
            collections: vec![remote.id],
            ..PictureQuery::default()
        })
        .await,
        sorted(remote_ids.clone())
    );
    let filter = flaneur_store::checked_picture_filter(flaneur_store::Filter::Compare {
        property: "datetime".to_owned(),
        op: flaneur_store::CompareOp::Ge,
        value: flaneur_store::Literal::Timestamp(at(20)),
    })
    .expect("filter");
    assert_eq!(
        search(PictureQuery {
            filter: Some(filter),
            ..PictureQuery::default()
        })
        .await,
        sorted(remote_ids[1..].to_vec())
    );

    // Listings and the extent.
    let listed: Vec<SequenceId> = catalog
        .list_sequences(&SequenceQuery {
            limit: 10,
            viewer: Viewer::ANONYMOUS,
            ..SequenceQuery::default()
        })
        .await
        .expect("list")
        .rows
        .iter()
        .map(|s| s.id)
        .collect();
    assert!(
        listed.contains(&remote.id) && listed.contains(&local),
        "{listed:?}"
    );
    let extent = catalog.extent().await.expect("extent");
    let [_, _, max_lon, _] = extent.bbox.expect("bbox");
    assert_eq!(max_lon, items[2].lon);
    assert_eq!(extent.interval.map(|(_, end)| end), Some(at(30)));

    // The map: pictures, lines, the grid and the version tiles are cached under.
    let mapped: Vec<PictureId> = catalog
        .map_pictures(&WORLD)
        .await
        .expect("map")
        .iter()
        .map(|p| p.id)
        .collect();
    assert!(
        remote_ids.iter().all(|id| mapped.contains(id)),
        "{mapped:?}"
    );
    let lines = catalog.map_sequences(&WORLD).await.expect("lines");
    let line = lines
        .iter()
        .find(|l| l.id == remote.id)
        .expect("remote line");
    assert_eq!(line.lines.iter().map(Vec::len).sum::<usize>(), 3);
    assert_eq!(line.model.as_deref(), Some("GoPro Max"));
    let grid = catalog.picture_grid().await.expect("grid");
    assert_eq!(grid.iter().map(|c| c.nb_pictures).sum::<i64>(), 6);
    assert_eq!(grid.iter().map(|c| c.nb_360_pictures).sum::<i64>(), 3);
    assert!(before.is_before(&catalog.data_version().await.expect("version")));

    // The peer's counts and progress, written with the rows.
    let state = catalog.peer(id).await.expect("read").expect("peer").harvest;
    assert_eq!((state.nb_collections, state.nb_items), (1, 3));
    assert_eq!(state.watermark, Some(at(500)));
    assert_eq!(state.resume_url, progress(500).resume_url);
    assert_eq!(
        catalog
            .remote_collection_updated(id, remote.id)
            .await
            .expect("read"),
        Some(at(500))
    );
    assert_eq!(
        catalog
            .remote_collection_updated(id, local)
            .await
            .expect("read"),
        None
    );
}

async fn reapply(catalog: &dyn Catalog) {
    let id = peer(catalog, PEER).await;
    let remote = collection(SequenceId::new(), "walk", at(100));
    let items = walk(4);
    apply(catalog, id, &remote, &items).await;

    // The peer dropped the second item and moved the fourth between the first and third.
    let mut moved = items[3].clone();
    moved.rank = 2;
    let (lon, lat) = offset(15.0, 0.0);
    (moved.lon, moved.lat) = (lon, lat);
    let mut third = items[2].clone();
    third.rank = 3;
    let now = [items[0].clone(), moved, third];
    let version = catalog.data_version().await.expect("version");
    apply(
        catalog,
        id,
        &collection(remote.id, "walk again", at(200)),
        &now,
    )
    .await;

    assert_eq!(
        ranked(catalog, remote.id).await,
        [(1, items[0].id), (2, items[3].id), (3, items[2].id)]
    );
    assert_eq!(catalog.picture(items[1].id).await.expect("read"), None);
    let moved = catalog
        .picture(items[3].id)
        .await
        .expect("read")
        .expect("picture");
    assert_eq!((moved.base.lon, moved.base.lat), (lon, lat));
    let sequence = catalog
        .sequence(remote.id)
        .await
        .expect("read")
        .expect("sequence");
    assert_eq!(sequence.title, "walk again");
    assert_eq!(sequence.nb_pictures, 3);
    let state = catalog.peer(id).await.expect("read").expect("peer").harvest;
    assert_eq!((state.nb_collections, state.nb_items), (1, 3));
    assert_eq!(
        catalog
            .remote_collection_updated(id, remote.id)
            .await
            .expect("read"),
        Some(at(200))
    );
    let grid = catalog.picture_grid().await.expect("grid");
    assert_eq!(grid.iter().map(|c| c.nb_pictures).sum::<i64>(), 3);
    assert!(version.is_before(&catalog.data_version().await.expect("version")));
}

async fn remote_removal(catalog: &dyn Catalog) {
    let id = peer(catalog, PEER).await;
    let kept = collection(SequenceId::new(), "kept", at(100));
    let gone = collection(SequenceId::new(), "gone", at(100));
    let kept_items = walk(2);
    let gone_items = walk(3);
    apply(catalog, id, &kept, &kept_items).await;
    apply(catalog, id, &gone, &gone_items).await;

    assert!(
        catalog
            .remove_remote_collection(id, &removal(gone.id), &progress(300))
            .await
            .expect("remove")
    );
    let tombstone = catalog
        .sequence(gone.id)
        .await
        .expect("read")
        .expect("tombstone");
    assert_eq!(
        (tombstone.status, tombstone.nb_pictures, tombstone.origin),
        (SequenceStatus::Deleted, 0, None)
    );
    for item in &gone_items {
        assert_eq!(catalog.picture(item.id).await.expect("read"), None);
    }
    assert_eq!(ranked(catalog, kept.id).await.len(), 2);
    let state = catalog.peer(id).await.expect("read").expect("peer").harvest;
    assert_eq!((state.nb_collections, state.nb_items), (1, 2));
    assert_eq!(state.watermark, Some(at(300)));
    let grid = catalog.picture_grid().await.expect("grid");
    assert_eq!(grid.iter().map(|c| c.nb_pictures).sum::<i64>(), 2);
    // The tombstone is no sequence of this instance's to count.
    let stats = catalog.instance_stats().await.expect("stats");
    let statuses: Vec<&str> = stats.sequences.iter().map(|c| c.status.as_str()).collect();
    assert_eq!(statuses, ["ready"], "{:?}", stats.sequences);

    // Removing it again, or a collection of another peer, removes nothing and writes
    // nothing, not even the progress, which the harvester saves with its page.
    let version = catalog.data_version().await.expect("version");
    assert!(
        !catalog
            .remove_remote_collection(id, &removal(gone.id), &progress(400))
            .await
            .expect("remove")
    );
    let other = peer(catalog, OTHER_PEER).await;
    assert!(
        !catalog
            .remove_remote_collection(other, &removal(kept.id), &progress(400))
            .await
            .expect("remove")
    );
    assert_eq!(ranked(catalog, kept.id).await.len(), 2);
    assert_eq!(harvest_of(catalog, id).await.watermark, Some(at(300)));
    assert_eq!(harvest_of(catalog, other).await.watermark, None);
    assert_eq!(catalog.data_version().await.expect("version"), version);
}

async fn peer_removal(catalog: &dyn Catalog) {
    let (local, local_pictures) = local_walk(catalog).await;
    let id = peer(catalog, PEER).await;
    let other = peer(catalog, OTHER_PEER).await;
    let remote = collection(SequenceId::new(), "remote", at(100));
    let items = walk(3);
    apply(catalog, id, &remote, &items).await;
    let kept = collection(SequenceId::new(), "other", at(100));
    apply(catalog, other, &kept, &walk(2)).await;
    let author = catalog
        .picture(items[0].id)
        .await
        .expect("read")
        .expect("picture")
        .base
        .account_id;

    assert!(catalog.remove_peer(id).await.expect("remove"));
    let tombstone = catalog
        .sequence(remote.id)
        .await
        .expect("read")
        .expect("tombstone");
    assert_eq!(
        (tombstone.status, tombstone.nb_pictures, tombstone.origin),
        (SequenceStatus::Deleted, 0, None)
    );
    assert_eq!(catalog.picture(items[0].id).await.expect("read"), None);
    assert_eq!(catalog.account(author).await.expect("read"), None);
    assert_eq!(ranked(catalog, local).await.len(), 3);
    assert_eq!(ranked(catalog, kept.id).await.len(), 2);
    let searched = catalog
        .search_pictures(&PictureQuery {
            limit: 100,
            ..PictureQuery::default()
        })
        .await
        .expect("search")
        .rows;
    assert_eq!(searched.len(), 5);
    assert!(
        local_pictures
            .iter()
            .all(|p| searched.iter().any(|s| s.base.id == *p))
    );
    let grid = catalog.picture_grid().await.expect("grid");
    assert_eq!(grid.iter().map(|c| c.nb_pictures).sum::<i64>(), 5);
    let lines = catalog.map_sequences(&WORLD).await.expect("lines");
    assert!(lines.iter().all(|l| l.id != remote.id));
    assert_eq!(lines.len(), 2);
}

/// The ids of a listing by `updated` of every sequence, tombstones included when
/// `with_hidden`, from `from` on when given: what a harvester of this catalog reads.
async fn listed(
    catalog: &dyn Catalog,
    with_hidden: bool,
    from: Option<DateTime<Utc>>,
) -> Vec<SequenceId> {
    let filter = from.map(|t| Filter::Compare {
        property: "updated".to_owned(),
        op: CompareOp::Ge,
        value: Literal::Timestamp(t),
    });
    let query = SequenceQuery {
        limit: 100,
        sort: vec![SequenceSort::UPDATED_ASC],
        filter,
        with_hidden,
        viewer: Viewer::ANONYMOUS,
        ..SequenceQuery::default()
    };
    let page = catalog.list_sequences(&query).await.expect("list");
    page.rows.iter().map(|s| s.id).collect()
}

async fn harvested_tombstones(catalog: &dyn Catalog) {
    let (local, _) = local_walk(catalog).await;
    let id = peer(catalog, PEER).await;
    let gone = collection(SequenceId::new(), "gone", at(100));
    let gone_items = walk(2);
    apply(catalog, id, &gone, &gone_items).await;
    let held = catalog
        .sequence(gone.id)
        .await
        .expect("read")
        .expect("held");

    // 1. Removed at its peer, it stays a tombstone as a deleted local sequence does, stamped
    //    no earlier than its last change: a harvester asking from then on finds it. It is
    //    neither listed as published, nor searched, nor counted.
    assert!(
        catalog
            .remove_remote_collection(id, &removal(gone.id), &progress(2))
            .await
            .expect("remove")
    );
    let tombstone = catalog
        .sequence(gone.id)
        .await
        .expect("read")
        .expect("tombstone");
    assert_eq!(tombstone.status, SequenceStatus::Deleted);
    assert!(tombstone.updated_at >= held.updated_at);
    assert!(
        listed(catalog, true, Some(held.updated_at))
            .await
            .contains(&gone.id)
    );
    assert!(!listed(catalog, false, None).await.contains(&gone.id));
    let found = catalog
        .search_pictures(&PictureQuery {
            collections: vec![gone.id],
            limit: 100,
            ..PictureQuery::default()
        })
        .await
        .expect("search");
    assert!(found.rows.is_empty());
    let state = catalog.peer(id).await.expect("read").expect("peer").harvest;
    assert_eq!((state.nb_collections, state.nb_items), (0, 0));
    assert_eq!(
        catalog
            .remote_collection_updated(id, gone.id)
            .await
            .expect("read"),
        None
    );

    // 2. Another peer listing it is no conflict: the collection lives again, as that peer's.
    let other = peer(catalog, OTHER_PEER).await;
    assert_eq!(
        apply(catalog, other, &gone, &walk(2)).await,
        ApplyOutcome::Applied
    );
    let back = catalog
        .sequence(gone.id)
        .await
        .expect("read")
        .expect("back");
    assert_eq!((back.status, back.nb_pictures), (SequenceStatus::Ready, 2));
    assert_eq!(back.origin.map(|o| o.peer_id), Some(other));
    let state = catalog
        .peer(other)
        .await
        .expect("read")
        .expect("peer")
        .harvest;
    assert_eq!((state.nb_collections, state.nb_items), (1, 2));
    assert!(listed(catalog, false, None).await.contains(&gone.id));

    // 3. A peer removed leaves a tombstone of each of its collections, which a harvest of the
    //    peer declared again brings back.
    let kept = collection(SequenceId::new(), "kept", at(100));
    apply(catalog, id, &kept, &walk(3)).await;
    let before = catalog
        .sequence(kept.id)
        .await
        .expect("read")
        .expect("held")
        .updated_at;
    assert!(catalog.remove_peer(id).await.expect("remove"));
    assert!(listed(catalog, true, Some(before)).await.contains(&kept.id));
    assert!(!listed(catalog, false, None).await.contains(&kept.id));
    let again = peer(catalog, PEER).await;
    assert_eq!(
        apply(catalog, again, &kept, &walk(3)).await,
        ApplyOutcome::Applied
    );
    let state = catalog
        .peer(again)
        .await
        .expect("read")
        .expect("peer")
        .harvest;
    assert_eq!((state.nb_collections, state.nb_items), (1, 3));

    // 4. A local sequence deleted still holds its id, so that a peer relaying this instance
    //    does not bring it back.
    assert!(catalog.delete_sequence(local).await.expect("delete"));
    assert_eq!(
        apply(
            catalog,
            again,
            &collection(local, "relayed", at(100)),
            &walk(1)
        )
        .await,
        ApplyOutcome::Conflict {
            holder: "local".to_owned()
        }
    );
}

async fn conflicts(catalog: &dyn Catalog) {
    let (local, local_pictures) = local_walk(catalog).await;
    let id = peer(catalog, PEER).await;
    let version = catalog.data_version().await.expect("version");

    // A collection with a local sequence's id.
    let outcome = catalog
        .apply_remote_collection(
            id,
            &collection(local, "taken", at(100)),
            &walk(2),
            &progress(7),
        )
        .await
        .expect("apply");
    assert_eq!(
        outcome,
        ApplyOutcome::Conflict {
            holder: "local".to_owned()
        }
    );
    let sequence = catalog.sequence(local).await.expect("read").expect("local");
    assert_eq!((sequence.title.as_str(), sequence.origin), ("local", None));
    // The progress is saved all the same: the harvest goes on past it.
    let state = catalog.peer(id).await.expect("read").expect("peer").harvest;
    assert_eq!(state.watermark, Some(at(7)));
    assert_eq!((state.nb_collections, state.nb_items), (0, 0));

    // An item with a local picture's id.
    let mut items = walk(2);
    items[1].id = local_pictures[0];
    let remote = collection(SequenceId::new(), "remote", at(100));
    assert_eq!(
        apply(catalog, id, &remote, &items).await,
        ApplyOutcome::Conflict {
            holder: "local".to_owned()
        }
    );
    assert_eq!(catalog.sequence(remote.id).await.expect("read"), None);
    assert_eq!(catalog.picture(items[0].id).await.expect("read"), None);
    let picture = catalog
        .picture(local_pictures[0])
        .await
        .expect("read")
        .expect("local");
    assert_eq!(picture.origin, None);
    assert_eq!(catalog.data_version().await.expect("version"), version);

    // The same collection, or one of its items, at two peers: the first one keeps it.
    let items = walk(2);
    apply(catalog, id, &remote, &items).await;
    let other = peer(catalog, OTHER_PEER).await;
    assert_eq!(
        apply(catalog, other, &remote, &walk(2)).await,
        ApplyOutcome::Conflict {
            holder: PEER.to_owned()
        }
    );
    assert_eq!(
        apply(
            catalog,
            other,
            &collection(SequenceId::new(), "copy", at(100)),
            &items
        )
        .await,
        ApplyOutcome::Conflict {
            holder: PEER.to_owned()
        }
    );
    let origin = catalog
        .sequence(remote.id)
        .await
        .expect("read")
        .expect("remote")
        .origin
        .expect("remote");
    assert_eq!(origin.peer_id, id);
    let state = catalog
        .peer(other)
        .await
        .expect("read")
        .expect("peer")
        .harvest;
    assert_eq!((state.nb_collections, state.nb_items), (0, 0));
}

async fn deleted_refused(catalog: &dyn Catalog) {
    let id = peer(catalog, PEER).await;
    let mut gone = collection(SequenceId::new(), "gone", at(100));
    gone.is_deleted = true;
    let refused = catalog
        .apply_remote_collection(id, &gone, &walk(1), &progress(1))
        .await;
    assert!(
        matches!(refused, Err(flaneur_store::Error::Refused(_))),
        "{refused:?}"
    );
    assert_eq!(catalog.sequence(gone.id).await.expect("read"), None);
}

async fn remote_authors(catalog: &dyn Catalog) {
    let bob = catalog
        .create_account("bob", Role::User)
        .await
        .expect("account");
    let before = catalog.instance_stats().await.expect("stats").accounts;
    let id = peer(catalog, PEER).await;
    let mut remote = collection(SequenceId::new(), "bob's walk", at(100));
    remote.author = author("42", "bob");
    let mut items = walk(2);
    items[0].author = author("42", "bob");
    items[1].author = RemoteAuthor {
        id: None,
        name: Some("carol".to_owned()),
    };
    assert_eq!(
        apply(catalog, id, &remote, &items).await,
        ApplyOutcome::Applied
    );

    // The remote bob stands apart from the local one.
    let sequence = catalog
        .sequence(remote.id)
        .await
        .expect("read")
        .expect("sequence");
    assert_ne!(sequence.account_id, bob.id);
    let remote_bob = catalog
        .account(sequence.account_id)
        .await
        .expect("read")
        .expect("account");
    assert_eq!(remote_bob.name, "bob");
    assert_eq!(remote_bob.origin, Some(id));
    assert_eq!(
        catalog
            .account_by_name("bob")
            .await
            .expect("read")
            .map(|a| a.id),
        Some(bob.id)
    );
    assert_eq!(
        catalog
            .account_name(sequence.account_id)
            .await
            .expect("read")
            .as_deref(),
        Some("bob")
    );

    // Local lists leave remote authors out, and a local carol may still come.
    let listed: Vec<String> = catalog
        .accounts(100)
        .await
        .expect("accounts")
        .into_iter()
        .map(|(_, name)| name)
        .collect();
    assert_eq!(listed.iter().filter(|n| *n == "bob").count(), 1);
    assert!(!listed.contains(&"carol".to_owned()), "{listed:?}");
    assert_eq!(
        catalog.instance_stats().await.expect("stats").accounts,
        before
    );
    let carol = catalog
        .create_account("carol", Role::User)
        .await
        .expect("a local carol");
    assert_eq!(carol.origin, None);
    assert_eq!(
        catalog.instance_stats().await.expect("stats").accounts,
        [
            CountBy {
                value: "admin".to_owned(),
                count: 1
            },
            CountBy {
                value: "user".to_owned(),
                count: 2
            }
        ]
    );

    // A remote author never logs in: no token, no session, no role.
    let token = catalog
        .create_token(NewToken {
            id: TokenId::new(),
            account_id: Some(remote_bob.id),
            description: "remote".to_owned(),
            secret_sha256: "ab".repeat(32),
        })
        .await;
    assert!(
        matches!(
            token,
            Err(Error::NotFound {
                kind: "account",
                ..
            })
        ),
        "{token:?}"
    );
    assert!(
        !catalog
            .set_account_role(remote_bob.id, Role::Admin)
            .await
            .expect("role")
    );
    let session = NewSession {
        id_hash: "cd".repeat(32),
        account_id: remote_bob.id,
        csrf_token: "csrf".to_owned(),
        id_token: None,
        expires_at: at(1_000_000_000),
    };
    if catalog.create_session(&session).await.is_ok() {
        let open = catalog
            .session(&session.id_hash, at(0))
            .await
            .expect("read");
        assert_eq!(open, None);
    }

    // Applied again, one account per author still.
    apply(catalog, id, &remote, &items).await;
    let again = catalog
        .sequence(remote.id)
        .await
        .expect("read")
        .expect("sequence");
    assert_eq!(again.account_id, sequence.account_id);
}

/// Whether a write was refused as a change of remote data of `peer`.
fn is_remote_refusal<T: std::fmt::Debug>(outcome: Result<T, Error>, peer: PeerId) -> bool {
    match outcome {
        Err(Error::RemoteData { peer: p, .. }) => p == peer,
        other => panic!("expected a refusal of remote data, got {other:?}"),
    }
}

fn keep_order(_: &Sequence, pictures: Vec<Picture>) -> Arrangement {
    Arrangement {
        pictures: pictures
            .iter()
            .map(|p| PlannedPicture {
                id: p.base.id,
                heading_deg: p.base.heading_deg,
                heading_computed: false,
            })
            .collect(),
        ..Arrangement::default()
    }
}

async fn remote_refusals(catalog: &dyn Catalog) {
    let id = peer(catalog, PEER).await;
    let remote = collection(SequenceId::new(), "remote", at(100));
    let items = walk(3);
    apply(catalog, id, &remote, &items).await;
    let (owner, _) = catalog.default_account().await.expect("account");
    // A map read redraws the line the apply left stale, which moves the data version: done
    // now, so that a redraw started in the background by the catalog's opening cannot move
    // it during the refusals below.
    catalog.map_sequences(&WORLD).await.expect("map");
    let version = catalog.data_version().await.expect("version");
    let picture = items[1].id;

    let edit = SequenceEdit {
        title: Some("renamed".to_owned()),
        ..SequenceEdit::default()
    };
    assert!(is_remote_refusal(
        catalog.edit_sequence(remote.id, &edit, None).await,
        id
    ));
    let edit = PictureEdit {
        visibility: Some(Visibility::OwnerOnly),
        ..PictureEdit::default()
    };
    assert!(is_remote_refusal(
        catalog.edit_picture(picture, &edit, None).await,
        id
    ));
    assert!(is_remote_refusal(
        catalog.delete_picture(picture, &keep_order).await,
        id
    ));
    assert!(is_remote_refusal(
        catalog.delete_sequence(remote.id).await,
        id
    ));
    assert!(is_remote_refusal(
        catalog
            .set_picture_status(picture, PictureStatus::Broken, Some("no file"))
            .await,
        id
    ));
    assert!(is_remote_refusal(
        catalog
            .transition_picture(
                picture,
                &[PictureStatus::Ready],
                PictureStatus::WaitingForDelete,
                None
            )
            .await,
        id
    ));
    assert!(is_remote_refusal(catalog.remove_picture(picture).await, id));
    let annotation = NewAnnotation {
        id: AnnotationId::new(),
        picture_id: picture,
        shape: Shape::from_box(0, 0, 10, 10),
        account_id: owner,
    };
    let tag = TagChange {
        tag: SemanticTag {
            key: "sign".to_owned(),
            value: "stop".to_owned(),
        },
        action: TagAction::Add,
    };
    assert!(is_remote_refusal(
        catalog.annotate(&annotation, &[tag]).await,
        id
    ));
    for (picture, sequence) in [(Some(picture), None), (None, Some(remote.id))] {
        let report = NewReport {
            issue: ReportIssue::Privacy,
            picture_id: picture,
            sequence_id: sequence,
            reporter: None,
            reporter_email: None,
            reporter_comments: Some("a face".to_owned()),
            hide: true,
        };
        assert!(is_remote_refusal(catalog.create_report(&report).await, id));
    }

    // Nothing changed.
    let sequence = catalog
        .sequence(remote.id)
        .await
        .expect("read")
        .expect("sequence");
    assert_eq!(
        (sequence.title.as_str(), sequence.nb_pictures),
        ("remote", 3)
    );
    assert_eq!(sequence.visibility, Visibility::Anyone);
    let kept = catalog
        .picture(picture)
        .await
        .expect("read")
        .expect("picture");
    assert_eq!(
        (kept.status, kept.base.visibility),
        (PictureStatus::Ready, Visibility::Anyone)
    );
    assert_eq!(ranked(catalog, remote.id).await.len(), 3);
    assert!(
        catalog
            .picture_annotations(&[picture])
            .await
            .expect("annotations")
            .is_empty()
    );
    assert!(
        catalog
            .list_reports(&ReportQuery::default())
            .await
            .expect("reports")
            .is_empty()
    );
    assert_eq!(catalog.data_version().await.expect("version"), version);
}

/// More items than one multi-row statement carries, so that every batch boundary is crossed
/// on the way in, on the way out and when the peer drops some.
async fn large_collection(catalog: &dyn Catalog) {
    let id = peer(catalog, PEER).await;
    let remote = collection(SequenceId::new(), "long walk", at(100));
    let items: Vec<RemoteItem> = (1..=1201).map(|r| item(r, r)).collect();
    apply(catalog, id, &remote, &items).await;
    let sequence = catalog
        .sequence(remote.id)
        .await
        .expect("read")
        .expect("sequence");
    assert_eq!(sequence.nb_pictures, 1201);
    assert_eq!(sequence.max_captured_at, Some(at(1201)));

    // Every other item dropped, the rest ranked again from 1.
    let kept: Vec<RemoteItem> = items
        .iter()
        .step_by(2)
        .enumerate()
        .map(|(n, i)| RemoteItem {
            rank: n as i64 + 1,
            ..i.clone()
        })
        .collect();
    apply(catalog, id, &remote, &kept).await;
    let ranks = ranked(catalog, remote.id).await;
    assert_eq!(
        ranks,
        kept.iter().map(|i| (i.rank, i.id)).collect::<Vec<_>>()
    );
    let state = catalog.peer(id).await.expect("read").expect("peer").harvest;
    assert_eq!((state.nb_collections, state.nb_items), (1, 601));
    let grid = catalog.picture_grid().await.expect("grid");
    assert_eq!(grid.iter().map(|c| c.nb_pictures).sum::<i64>(), 601);
    assert!(
        catalog
            .remove_remote_collection(id, &removal(remote.id), &progress(2))
            .await
            .expect("remove")
    );
    let state = catalog.peer(id).await.expect("read").expect("peer").harvest;
    assert_eq!((state.nb_collections, state.nb_items), (0, 0));
}

/// The pictures a `semantics.<key> = value` filter finds, sorted.
async fn tagged(catalog: &dyn Catalog, key: &str, value: &str) -> Vec<PictureId> {
    let filter = flaneur_store::checked_picture_filter(flaneur_store::Filter::Compare {
        property: format!("semantics.{key}"),
        op: flaneur_store::CompareOp::Eq,
        value: flaneur_store::Literal::Text(value.to_owned()),
    })
    .expect("filter");
    let mut ids: Vec<PictureId> = catalog
        .search_pictures(&PictureQuery {
            filter: Some(filter),
            limit: 100,
            ..PictureQuery::default()
        })
        .await
        .expect("search")
        .rows
        .iter()
        .map(|p| p.base.id)
        .collect();
    ids.sort();
    ids
}

async fn remote_tags(catalog: &dyn Catalog) {
    let id = peer(catalog, PEER).await;
    let mut remote = collection(SequenceId::new(), "tagged", at(10));
    remote.doc.insert(
        "semantics".to_owned(),
        json!([{"key": "transport", "value": "bike"}, {"key": "", "value": "dropped"}]),
    );
    let mut items = walk(3);
    items[0].doc.insert(
        "properties".to_owned(),
        json!({
            "semantics": [{"key": "surface", "value": "gravel"}, {"key": 3, "value": "x"}],
            "annotations": [{"id": "a", "semantics": [{"key": "osm|amenity", "value": "bench"}]}],
        }),
    );
    assert_eq!(
        apply(catalog, id, &remote, &items).await,
        ApplyOutcome::Applied
    );

    // The collection's tag reaches all its pictures; an item's own and its annotations' tags
    // that item only.
    let mut all: Vec<PictureId> = items.iter().map(|i| i.id).collect();
    all.sort();
    assert_eq!(tagged(catalog, "transport", "bike").await, all);
    assert_eq!(
        tagged(catalog, "surface", "gravel").await,
        vec![items[0].id]
    );
    assert_eq!(
        tagged(catalog, "osm|amenity", "bench").await,
        vec![items[0].id]
    );

    // Applied again without them, they are gone.
    remote.doc.remove("semantics");
    let plain = walk(2);
    assert_eq!(
        apply(catalog, id, &remote, &plain).await,
        ApplyOutcome::Applied
    );
    assert!(tagged(catalog, "transport", "bike").await.is_empty());
    assert!(tagged(catalog, "surface", "gravel").await.is_empty());
    assert!(tagged(catalog, "osm|amenity", "bench").await.is_empty());
}

/// The state of a peer's harvest as stored now.
async fn harvest_of(catalog: &dyn Catalog, id: PeerId) -> flaneur_model::HarvestState {
    catalog.peer(id).await.expect("read").expect("peer").harvest
}

async fn relays(catalog: &dyn Catalog) {
    let relay = peer(catalog, OTHER_PEER).await;
    let items = walk(2);

    // A relay's copy keeps the origin it came with.
    let mut relayed = collection(SequenceId::new(), "walk", at(100));
    relayed
        .doc
        .insert(ORIGIN_KEY.to_owned(), json!(format!("{PEER}/")));
    assert_eq!(
        apply(catalog, relay, &relayed, &items).await,
        ApplyOutcome::Applied
    );
    assert_eq!(
        catalog.collection_holder(relayed.id).await.expect("holder"),
        Some(Holder::Peer {
            id: relay,
            api_url: OTHER_PEER.to_owned(),
            origin: PEER.to_owned(),
            updated: Some(at(100)),
            origin_updated: None,
        })
    );

    // The origin declared as a peer in turn, its copy, items and all, takes the relay's
    // place.
    let origin = peer(catalog, PEER).await;
    let direct = collection(relayed.id, "walk", at(100));
    assert_eq!(
        apply(catalog, origin, &direct, &items).await,
        ApplyOutcome::Applied
    );
    let held = catalog
        .sequence(direct.id)
        .await
        .expect("read")
        .expect("held");
    assert_eq!(held.origin.expect("remote").peer_id, origin);
    assert_eq!(ranked(catalog, direct.id).await.len(), 2);
    let counts = |h: flaneur_model::HarvestState| (h.nb_collections, h.nb_items, h.nb_conflicts);
    assert_eq!(counts(harvest_of(catalog, relay).await), (0, 0, 0));
    assert_eq!(counts(harvest_of(catalog, origin).await), (1, 2, 0));

    // The relay's copy then stays out, quietly: no conflict, nothing written.
    let version = catalog.data_version().await.expect("version");
    let mut changed = relayed.clone();
    changed.updated = at(200);
    assert_eq!(
        apply(catalog, relay, &changed, &items).await,
        ApplyOutcome::Relayed {
            holder: PEER.to_owned()
        }
    );
    assert_eq!(counts(harvest_of(catalog, relay).await), (0, 0, 0));
    assert_eq!(catalog.data_version().await.expect("version"), version);

    // A relay's copy of a local sequence is this instance's own come back: left out too.
    let (local, _) = local_walk(catalog).await;
    assert_eq!(
        catalog.collection_holder(local).await.expect("holder"),
        Some(Holder::Local)
    );
    let mut echo = collection(local, "echo", at(100));
    echo.doc
        .insert(ORIGIN_KEY.to_owned(), json!("https://this.example/api"));
    assert_eq!(
        apply(catalog, relay, &echo, &walk(2)).await,
        ApplyOutcome::Relayed {
            holder: "local".to_owned()
        }
    );
    assert_eq!(counts(harvest_of(catalog, relay).await), (0, 0, 0));
    assert_eq!(
        catalog
            .collection_holder(SequenceId::new())
            .await
            .expect("holder"),
        None
    );
}

async fn origin_removals(catalog: &dyn Catalog) {
    let origin = peer(catalog, PEER).await;
    let relay = peer(catalog, OTHER_PEER).await;
    let items = walk(2);
    let id = SequenceId::new();
    // A relay's copy, changed there at `at(500)`, and at its origin at `origin_updated`.
    let relayed = |origin_updated: Option<i64>| {
        let mut copy = collection(id, "walk", at(500));
        copy.doc.insert(ORIGIN_KEY.to_owned(), json!(PEER));
        if let Some(seconds) = origin_updated {
            let told = at(seconds).to_rfc3339();
            copy.doc.insert(ORIGIN_UPDATED_KEY.to_owned(), json!(told));
        }
        copy
    };
    let told = |updated: Option<i64>, origin_updated: Option<i64>| RemoteRemoval {
        id,
        updated: updated.map(at),
        origin_updated: origin_updated.map(at),
    };
    let holder = || async { catalog.collection_holder(id).await.expect("holder") };
    let removed_at = || async {
        let row = catalog.sequence(id).await.expect("read").expect("row");
        row.origin_removed_at
    };
    let counts = |h: flaneur_model::HarvestState| (h.nb_collections, h.nb_items, h.nb_conflicts);

    // 1. Held from its origin, then hidden there by an origin telling no time (as GeoVisio
    //    does): the tombstone holds the id from the last change known. While the origin is
    //    harvested here, no relay's copy is taken, however new it says it is.
    let direct = collection(id, "walk", at(100));
    assert_eq!(
        apply(catalog, origin, &direct, &items).await,
        ApplyOutcome::Applied
    );
    assert!(
        catalog
            .remove_remote_collection(origin, &removal(id), &progress(2))
            .await
            .expect("remove")
    );
    assert_eq!(holder().await, Some(Holder::Removed { updated: at(100) }));
    assert_eq!(removed_at().await, Some(at(100)));
    assert_eq!(
        apply(catalog, relay, &relayed(Some(150)), &items).await,
        ApplyOutcome::Relayed {
            holder: PEER.to_owned()
        }
    );

    // 2. The origin no longer harvested here, the tombstone stays. A relay's copy from
    //    before the removal, of its time, or telling no origin time is stale: left out
    //    quietly, writing nothing.
    assert!(catalog.remove_peer(origin).await.expect("remove peer"));
    assert_eq!(holder().await, Some(Holder::Removed { updated: at(100) }));
    let version = catalog.data_version().await.expect("version");
    for stale in [Some(50), Some(100), None] {
        assert_eq!(
            apply(catalog, relay, &relayed(stale), &items).await,
            ApplyOutcome::Relayed {
                holder: "removed".to_owned()
            },
            "{stale:?}"
        );
    }
    assert_eq!(catalog.data_version().await.expect("version"), version);
    assert_eq!(counts(harvest_of(catalog, relay).await), (0, 0, 0));

    // 3. One changed at its origin since (unhidden there) is taken.
    assert_eq!(
        apply(catalog, relay, &relayed(Some(150)), &items).await,
        ApplyOutcome::Applied
    );
    assert!(matches!(holder().await, Some(Holder::Peer { id, .. }) if id == relay));
    assert_eq!(removed_at().await, None);

    // 4. The origin harvested again, hiding it again without telling when: the relay's copy
    //    is taken out from the origin's time that copy told, not the relay's own.
    let origin = peer(catalog, PEER).await;
    assert!(
        catalog
            .remove_remote_collection(origin, &removal(id), &progress(3))
            .await
            .expect("remove")
    );
    assert_eq!(holder().await, Some(Holder::Removed { updated: at(150) }));
    assert_eq!(counts(harvest_of(catalog, relay).await), (0, 0, 0));
    assert!(ranked(catalog, id).await.is_empty());

    // 5. Without the origin, a relay passing a removal on keeps the origin's time it tells,
    //    not its own.
    assert!(catalog.remove_peer(origin).await.expect("remove peer"));
    assert_eq!(
        apply(catalog, relay, &relayed(Some(400)), &items).await,
        ApplyOutcome::Applied
    );
    assert!(
        catalog
            .remove_remote_collection(relay, &told(Some(600), Some(450)), &progress(4))
            .await
            .expect("remove")
    );
    assert_eq!(holder().await, Some(Holder::Removed { updated: at(450) }));

    // 6. A relay dropping it without the origin's word (its own peer removed) says nothing
    //    of the origin: the tombstone holds nothing.
    assert_eq!(
        apply(catalog, relay, &relayed(Some(460)), &items).await,
        ApplyOutcome::Applied
    );
    assert!(
        catalog
            .remove_remote_collection(relay, &told(Some(700), None), &progress(5))
            .await
            .expect("remove")
    );
    assert_eq!(holder().await, None);
    assert_eq!(removed_at().await, None);

    // 7. Nor does removing a peer here: what it brought may come back through relays.
    let origin = peer(catalog, PEER).await;
    assert_eq!(
        apply(catalog, origin, &collection(id, "walk", at(800)), &items).await,
        ApplyOutcome::Applied
    );
    assert!(catalog.remove_peer(origin).await.expect("remove peer"));
    assert_eq!(holder().await, None);
    assert_eq!(
        apply(catalog, relay, &relayed(Some(10)), &items).await,
        ApplyOutcome::Applied
    );
}

async fn released_skips(catalog: &dyn Catalog) {
    let (local, _) = local_walk(catalog).await;
    let origin = peer(catalog, PEER).await;
    let relay = peer(catalog, OTHER_PEER).await;
    let relayed = |id: SequenceId| {
        let mut copy = collection(id, "walk", at(100));
        copy.doc.insert(ORIGIN_KEY.to_owned(), json!(PEER));
        copy
    };
    let released = async |limit| catalog.released_skips(relay, limit).await.expect("read");

    // 1. The relay's copies of two collections held from their origin are skipped, and its
    //    copy of a local sequence is a conflict: all are held, none is released.
    let (removed, dropped) = (SequenceId::new(), SequenceId::new());
    for id in [removed, dropped] {
        let direct = collection(id, "walk", at(100));
        assert_eq!(
            apply(catalog, origin, &direct, &walk(1)).await,
            ApplyOutcome::Applied
        );
        assert!(matches!(
            apply(catalog, relay, &relayed(id), &walk(1)).await,
            ApplyOutcome::Relayed { .. }
        ));
    }
    assert!(matches!(
        apply(
            catalog,
            relay,
            &collection(local, "mine", at(100)),
            &walk(1)
        )
        .await,
        ApplyOutcome::Conflict { .. }
    ));
    // A relay's copy of a collection the origin, harvested here, has not brought yet waits
    // for it: skipped, held by nobody, not released.
    let waiting = SequenceId::new();
    assert!(matches!(
        apply(catalog, relay, &relayed(waiting), &walk(1)).await,
        ApplyOutcome::Relayed { .. }
    ));
    assert_eq!(released(10).await, []);
    assert_eq!(harvest_of(catalog, relay).await.nb_conflicts, 1);

    // 2. Removed at its origin, one stays held against the relay's copy; the origin removed
    //    here, the other is let go, and so released, up to the limit asked.
    assert!(
        catalog
            .remove_remote_collection(origin, &removal(removed), &progress(2))
            .await
            .expect("remove")
    );
    assert_eq!(released(10).await, []);
    assert!(catalog.remove_peer(origin).await.expect("remove peer"));
    assert_eq!(released(10).await, [dropped]);
    assert_eq!(released(0).await, []);

    // 3. Applied from the relay, it is no longer skipped.
    assert_eq!(
        apply(catalog, relay, &relayed(dropped), &walk(1)).await,
        ApplyOutcome::Applied
    );
    assert_eq!(released(10).await, []);
    assert_eq!(harvest_of(catalog, relay).await.nb_conflicts, 1);
}

async fn conflict_counts(catalog: &dyn Catalog) {
    let (local, _) = local_walk(catalog).await;
    let id = peer(catalog, PEER).await;
    let conflicts = async || harvest_of(catalog, id).await.nb_conflicts;

    // A conflict counts once however often it is met.
    let taken = collection(local, "taken", at(100));
    for _ in 0..2 {
        assert!(matches!(
            apply(catalog, id, &taken, &walk(2)).await,
            ApplyOutcome::Conflict { .. }
        ));
    }
    assert_eq!(conflicts().await, 1);

    // The harvester records one it told from the listing; a relayed copy is no conflict.
    let other = SequenceId::new();
    catalog
        .record_skip(id, other, Skip::Conflict, &progress(9))
        .await
        .expect("recorded");
    assert_eq!(conflicts().await, 2);
    assert_eq!(harvest_of(catalog, id).await.watermark, Some(at(9)));
    catalog
        .record_skip(id, other, Skip::Relayed, &progress(10))
        .await
        .expect("recorded as relayed");
    assert_eq!(conflicts().await, 1);

    // Applied once its id is free, or deleted at its peer: it goes.
    catalog
        .record_skip(id, other, Skip::Conflict, &progress(11))
        .await
        .expect("recorded");
    assert_eq!(
        apply(catalog, id, &collection(other, "free", at(100)), &walk(1)).await,
        ApplyOutcome::Applied
    );
    assert_eq!(conflicts().await, 1);
    let held = catalog
        .remove_remote_collection(id, &removal(local), &progress(12))
        .await
        .expect("removed");
    assert!(!held);
    assert_eq!(conflicts().await, 0);

    // A removed peer takes its conflicts with it.
    apply(catalog, id, &taken, &walk(2)).await;
    assert_eq!(conflicts().await, 1);
    assert!(catalog.remove_peer(id).await.expect("removed"));
}

/// Two peers applying the same new collection at the same time: one takes it, the other is
/// told of a conflict, whatever the order their statements run in. Tried several times, as
/// each run interleaves the two applies its own way.
async fn concurrent_claims(catalog: &dyn Catalog) {
    let first = peer(catalog, PEER).await;
    let second = peer(catalog, OTHER_PEER).await;
    for _ in 0..20 {
        let remote = collection(SequenceId::new(), "both", at(100));
        let (first_items, second_items) = (walk(2), walk(2));
        let (a, b) = tokio::join!(
            apply(catalog, first, &remote, &first_items),
            apply(catalog, second, &remote, &second_items),
        );
        let (winner, loser) = match (&a, &b) {
            (ApplyOutcome::Applied, ApplyOutcome::Conflict { holder }) => (first, holder),
            (ApplyOutcome::Conflict { holder }, ApplyOutcome::Applied) => (second, holder),
            other => panic!("one apply and one conflict expected, got {other:?}"),
        };
        let winner_url = if winner == first { PEER } else { OTHER_PEER };
        assert_eq!(loser, winner_url);
        let origin = catalog
            .sequence(remote.id)
            .await
            .expect("read")
            .expect("remote")
            .origin
            .expect("remote");
        assert_eq!(origin.peer_id, winner);
    }
    let counts = |state: flaneur_model::HarvestState| state.nb_collections;
    let total =
        counts(harvest_of(catalog, first).await) + counts(harvest_of(catalog, second).await);
    assert_eq!(total, 20);
}
