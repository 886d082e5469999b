//! The contract of `updated_at`: which writes move it on pictures and sequences, which leave
//! it, and that the map's version ignores it; and that a dispatch made again leaves alone what
//! it cannot rewrite.
//!
//! Writes that no catalog method makes yet (a new title, a hidden sequence) are made in SQL,
//! written for each backend: the rules must hold for any write path, present or future.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use flaneur_model::{
    AccountId, NewPicture, NewUploadSet, PictureId, PictureStatus, SequenceId, UploadFile,
    UploadSetId,
};
use flaneur_store::{
    Catalog, DispatchPlan, MapQuery, PictureQuery, PlannedPicture, PlannedSequence, RankQuery,
};

use crate::backend::{Sql, sql_contracts};
use crate::fixture;

fn new_picture(set: UploadSetId, account: AccountId, n: u32) -> (NewPicture, UploadFile) {
    let at = Utc
        .timestamp_opt(1_600_000_000 + i64::from(n), 0)
        .single()
        .expect("instant");
    let place = (2.0 + f64::from(n) * 0.0001, 48.0);
    let picture = fixture::picture(set, account, n as usize, at, place);
    let file = UploadFile {
        upload_set_id: set,
        file_name: picture.file_name.clone(),
        size_bytes: Some(1),
        content_md5: Some(picture.content_md5.clone()),
        picture_id: Some(picture.id),
        inserted_at: at,
        rejection: None,
    };
    (picture, file)
}

fn planned(title: &str, pictures: &[PictureId]) -> PlannedSequence {
    PlannedSequence {
        title: title.to_owned(),
        sorted_by: "+gpsdate".to_owned(),
        pictures: pictures
            .iter()
            .map(|&id| PlannedPicture {
                id,
                heading_deg: Some(90.0),
                heading_computed: true,
            })
            .collect(),
        length_km: 0.1,
        gps_accuracy_m: None,
    }
}

/// A catalog with one published sequence of four ready pictures.
struct Walk<'a> {
    catalog: &'a dyn Catalog,
    sql: &'a Sql,
    set: UploadSetId,
    sequence: SequenceId,
    pictures: Vec<PictureId>,
}

impl<'a> Walk<'a> {
    async fn new(catalog: &'a dyn Catalog, sql: &'a Sql) -> Walk<'a> {
        let (account, _) = catalog.default_account().await.expect("account");
        // Tagged, so that dispatch writes the sequence's tags too.
        let spec = NewUploadSet {
            semantics: serde_json::json!([{"key": "transport", "value": "bike"}]),
            ..NewUploadSet::titled("walk", account)
        };
        let set = catalog.create_upload_set(spec).await.expect("set").id;
        let mut pictures = Vec::new();
        for n in 0..4 {
            let (picture, file) = new_picture(set, account, n);
            let id = picture.id;
            pictures.push(id);
            catalog.insert_picture(picture, file).await.expect("insert");
            catalog
                .set_picture_status(id, PictureStatus::Ready, None)
                .await
                .expect("ready");
        }
        let plan = DispatchPlan {
            sequences: vec![planned("walk", &pictures)],
            duplicates: Vec::new(),
        };
        let sequence = catalog.apply_dispatch(set, plan).await.expect("dispatch")[0];
        // The line drawn now (a map read redraws what is stale first), so that its redraw does
        // not move the map's version later.
        let lines = catalog
            .map_sequences(&MapQuery {
                bbox: [1.0, 47.0, 3.0, 49.0],
                ..MapQuery::default()
            })
            .await
            .expect("map read");
        assert_eq!(lines.len(), 1, "the line is drawn");
        Walk {
            catalog,
            sql,
            set,
            sequence,
            pictures,
        }
    }

    /// Dispatches the walk's upload set again, into these sequences.
    async fn redispatch(
        &self,
        sequences: Vec<PlannedSequence>,
    ) -> flaneur_store::Result<Vec<SequenceId>> {
        let plan = DispatchPlan {
            sequences,
            duplicates: Vec::new(),
        };
        self.catalog.apply_dispatch(self.set, plan).await
    }

    /// `updated_at` of the sequence and of the first picture, in microseconds.
    async fn stamps(&self) -> (i64, i64) {
        (
            self.sql.stamp("sequences", self.sequence.0).await,
            self.sql.stamp("pictures", self.pictures[0].0).await,
        )
    }

    /// Runs a statement with the sequence bound first and the first picture second.
    async fn run(&self, (sqlite, postgres): (&str, &str)) {
        self.sql
            .run(sqlite, postgres, &[self.sequence.0, self.pictures[0].0])
            .await;
    }
}

/// Waits past the instant the clocks of the triggers read, so a move is a visible one.
async fn tick() {
    tokio::time::sleep(Duration::from_millis(3)).await;
}

async fn picture_changes(catalog: &dyn Catalog, sql: &Sql) {
    let walk = Walk::new(catalog, sql).await;
    // The sequence is bound first, the first picture second.
    let changes = [
        (
            "UPDATE pictures SET heading_deg = 180 WHERE id = ?2 AND ?1 IS NOT NULL",
            "UPDATE pictures SET heading_deg = 180 WHERE id = $2 AND $1::uuid IS NOT NULL",
        ),
        (
            "UPDATE pictures SET visibility = 'owner-only' WHERE id = ?2 AND ?1 IS NOT NULL",
            "UPDATE pictures SET visibility = 'owner-only' WHERE id = $2 AND $1::uuid IS NOT NULL",
        ),
        (
            "UPDATE pictures SET lon = lon + 0.001 WHERE id = ?2 AND ?1 IS NOT NULL",
            "UPDATE pictures SET lon = lon + 0.001 WHERE id = $2 AND $1::uuid IS NOT NULL",
        ),
        (
            "UPDATE pictures SET doc = json_set(doc, '$.details.make', 'X') \
             WHERE id = ?2 AND ?1 IS NOT NULL",
            "UPDATE pictures SET doc = jsonb_set(doc, '{details,make}', '\"X\"') \
             WHERE id = $2 AND $1::uuid IS NOT NULL",
        ),
    ];
    for sql in changes {
        let before = walk.stamps().await;
        tick().await;
        walk.run(sql).await;
        let after = walk.stamps().await;
        assert!(after.0 > before.0, "sequence after {sql:?}");
        assert!(after.1 > before.1, "picture after {sql:?}");
    }

    let before = walk.stamps().await;
    tick().await;
    walk.catalog
        .set_picture_status(walk.pictures[0], PictureStatus::Broken, Some("decode"))
        .await
        .expect("status");
    let after = walk.stamps().await;
    assert!(after.0 > before.0 && after.1 > before.1, "status change");
}

async fn sequence_changes(catalog: &dyn Catalog, sql: &Sql) {
    let walk = Walk::new(catalog, sql).await;
    let changes = [
        (
            "UPDATE sequences SET title = 'renamed' WHERE id = ?1 AND ?2 IS NOT NULL",
            "UPDATE sequences SET title = 'renamed' WHERE id = $1 AND $2::uuid IS NOT NULL",
        ),
        (
            "UPDATE sequences SET visibility = 'logged-only' WHERE id = ?1 AND ?2 IS NOT NULL",
            "UPDATE sequences SET visibility = 'logged-only' \
             WHERE id = $1 AND $2::uuid IS NOT NULL",
        ),
        (
            "UPDATE sequences SET relative_heading_deg = 90 WHERE id = ?1 AND ?2 IS NOT NULL",
            "UPDATE sequences SET relative_heading_deg = 90 \
             WHERE id = $1 AND $2::uuid IS NOT NULL",
        ),
        (
            "UPDATE sequences SET status = 'hidden' WHERE id = ?1 AND ?2 IS NOT NULL",
            "UPDATE sequences SET status = 'hidden' WHERE id = $1 AND $2::uuid IS NOT NULL",
        ),
        // Membership: a rank moved, then a picture taken out.
        (
            "UPDATE sequence_pictures SET rank = 10 WHERE sequence_id = ?1 AND picture_id = ?2",
            "UPDATE sequence_pictures SET rank = 10 WHERE sequence_id = $1 AND picture_id = $2",
        ),
        (
            "DELETE FROM sequence_pictures WHERE sequence_id = ?1 AND picture_id = ?2",
            "DELETE FROM sequence_pictures WHERE sequence_id = $1 AND picture_id = $2",
        ),
    ];
    for sql in changes {
        let before = walk.stamps().await;
        tick().await;
        walk.run(sql).await;
        assert!(walk.stamps().await.0 > before.0, "sequence after {sql:?}");
    }
}

async fn tag_changes(catalog: &dyn Catalog, sql: &Sql) {
    let walk = Walk::new(catalog, sql).await;
    let version = walk.catalog.data_version().await.expect("version");
    // (sequence, picture) moves expected.
    let changes = [
        (
            (
                "INSERT INTO sequence_semantics VALUES (?1, 'surface', 'gravel') RETURNING ?2",
                "INSERT INTO sequence_semantics VALUES ($1, 'surface', 'gravel') \
                 RETURNING $2::uuid",
            ),
            (true, false),
        ),
        (
            (
                "UPDATE sequence_semantics SET value = 'asphalt' \
                 WHERE sequence_id = ?1 AND key = 'surface' AND ?2 IS NOT NULL",
                "UPDATE sequence_semantics SET value = 'asphalt' \
                 WHERE sequence_id = $1 AND key = 'surface' AND $2::uuid IS NOT NULL",
            ),
            (true, false),
        ),
        (
            (
                "DELETE FROM sequence_semantics WHERE sequence_id = ?1 AND key = 'surface' \
                 AND ?2 IS NOT NULL",
                "DELETE FROM sequence_semantics WHERE sequence_id = $1 AND key = 'surface' \
                 AND $2::uuid IS NOT NULL",
            ),
            (true, false),
        ),
        (
            (
                "INSERT INTO picture_semantics VALUES (?2, 'osm|amenity', 'bench') RETURNING ?1",
                "INSERT INTO picture_semantics VALUES ($2, 'osm|amenity', 'bench') \
                 RETURNING $1::uuid",
            ),
            (true, true),
        ),
        (
            (
                "UPDATE picture_semantics SET value = 'fountain' WHERE picture_id = ?2 \
                 AND ?1 IS NOT NULL",
                "UPDATE picture_semantics SET value = 'fountain' WHERE picture_id = $2 \
                 AND $1::uuid IS NOT NULL",
            ),
            (true, true),
        ),
        (
            (
                "DELETE FROM picture_semantics WHERE picture_id = ?2 AND ?1 IS NOT NULL",
                "DELETE FROM picture_semantics WHERE picture_id = $2 AND $1::uuid IS NOT NULL",
            ),
            (true, true),
        ),
    ];
    for (sql, (sequence_moves, picture_moves)) in changes {
        let before = walk.stamps().await;
        tick().await;
        walk.run(sql).await;
        let after = walk.stamps().await;
        assert_eq!(after.0 > before.0, sequence_moves, "sequence after {sql:?}");
        assert_eq!(after.1 > before.1, picture_moves, "picture after {sql:?}");
    }
    assert_eq!(walk.catalog.data_version().await.expect("version"), version);
}

async fn removals(catalog: &dyn Catalog, sql: &Sql) {
    let walk = Walk::new(catalog, sql).await;
    walk.sql
        .run(
            "INSERT INTO picture_semantics VALUES (?1, 'osm|amenity', 'bench')",
            "INSERT INTO picture_semantics VALUES ($1, 'osm|amenity', 'bench')",
            &[walk.pictures[3].0],
        )
        .await;
    let before = walk.stamps().await;
    tick().await;
    walk.catalog
        .remove_picture(walk.pictures[3])
        .await
        .expect("remove");
    let removed = walk.stamps().await;
    assert!(removed.0 > before.0, "picture removed");

    tick().await;
    walk.catalog
        .delete_upload_set(walk.set)
        .await
        .expect("delete set");
    let tombstone = walk
        .catalog
        .sequence(walk.sequence)
        .await
        .expect("read")
        .expect("tombstone kept");
    assert!(tombstone.updated_at.timestamp_micros() > removed.0);
}

async fn split_dispatch(catalog: &dyn Catalog, sql: &Sql) {
    let walk = Walk::new(catalog, sql).await;
    let before = walk.stamps().await;
    tick().await;
    let parts = vec![
        planned("walk", &walk.pictures[..2]),
        planned("walk, part 2", &walk.pictures[2..]),
    ];
    let ids = walk.redispatch(parts).await.expect("dispatch");
    assert_eq!(ids[0], walk.sequence, "the first part keeps the sequence");
    let after = walk.stamps().await;
    assert!(after.0 > before.0, "the sequence lost pictures");
    let second = walk
        .catalog
        .sequence(ids[1])
        .await
        .expect("read")
        .expect("second part");
    assert!(second.updated_at.timestamp_micros() > before.0);
}

async fn same_dispatch(catalog: &dyn Catalog, sql: &Sql) {
    let walk = Walk::new(catalog, sql).await;
    let before = walk.stamps().await;
    let version = walk.catalog.data_version().await.expect("version");
    tick().await;
    let ids = walk
        .redispatch(vec![planned("walk", &walk.pictures)])
        .await
        .expect("dispatch");
    assert_eq!(ids, vec![walk.sequence]);
    assert_eq!(walk.stamps().await, before);
    assert_eq!(walk.catalog.data_version().await.expect("version"), version);
}

async fn no_op_writes_and_reads(catalog: &dyn Catalog, sql: &Sql) {
    let walk = Walk::new(catalog, sql).await;
    let before = walk.stamps().await;
    tick().await;

    walk.catalog
        .set_picture_status(walk.pictures[0], PictureStatus::Ready, None)
        .await
        .expect("same status");
    walk.run((
        "UPDATE sequences SET title = title, status = status WHERE id = ?1 AND ?2 IS NOT NULL",
        "UPDATE sequences SET title = title, status = status \
         WHERE id = $1 AND $2::uuid IS NOT NULL",
    ))
    .await;
    walk.run((
        "UPDATE pictures SET heading_deg = heading_deg WHERE id = ?2 AND ?1 IS NOT NULL",
        "UPDATE pictures SET heading_deg = heading_deg WHERE id = $2 AND $1::uuid IS NOT NULL",
    ))
    .await;
    walk.catalog.sequence(walk.sequence).await.expect("read");
    walk.catalog.picture(walk.pictures[0]).await.expect("read");
    walk.catalog
        .sequence_pictures(walk.sequence, RankQuery::default())
        .await
        .expect("read");
    walk.catalog
        .search_pictures(&PictureQuery {
            limit: 10,
            ..PictureQuery::default()
        })
        .await
        .expect("search");

    assert_eq!(walk.stamps().await, before);
}

async fn never_backwards(catalog: &dyn Catalog, sql: &Sql) {
    let walk = Walk::new(catalog, sql).await;
    let before = walk.stamps().await;
    let version = walk.catalog.data_version().await.expect("version");

    walk.run((
        "UPDATE sequences SET updated_at = 0 WHERE id = ?1 AND ?2 IS NOT NULL",
        "UPDATE sequences SET updated_at = 'epoch' WHERE id = $1 AND $2::uuid IS NOT NULL",
    ))
    .await;
    walk.run((
        "UPDATE pictures SET updated_at = 0 WHERE id = ?2 AND ?1 IS NOT NULL",
        "UPDATE pictures SET updated_at = 'epoch' WHERE id = $2 AND $1::uuid IS NOT NULL",
    ))
    .await;
    assert_eq!(walk.stamps().await, before);

    // A change kept elsewhere (such as tags) may move `updated_at` alone: the map shows the
    // same, so its version stays.
    walk.run((
        "UPDATE sequences SET updated_at = updated_at + 5 WHERE id = ?1 AND ?2 IS NOT NULL",
        "UPDATE sequences SET updated_at = updated_at + interval '5 microseconds' \
         WHERE id = $1 AND $2::uuid IS NOT NULL",
    ))
    .await;
    walk.run((
        "UPDATE pictures SET updated_at = updated_at + 5 WHERE id = ?2 AND ?1 IS NOT NULL",
        "UPDATE pictures SET updated_at = updated_at + interval '5 microseconds' \
         WHERE id = $2 AND $1::uuid IS NOT NULL",
    ))
    .await;
    assert_eq!(walk.stamps().await, (before.0 + 5, before.1 + 5));
    assert_eq!(walk.catalog.data_version().await.expect("version"), version);
}

async fn rank_changes(catalog: &dyn Catalog, sql: &Sql) {
    let walk = Walk::new(catalog, sql).await;
    let mut before = Vec::new();
    for &id in &walk.pictures {
        before.push(walk.sql.stamp("pictures", id.0).await);
    }
    tick().await;

    // The last two leave for a new sequence: they move, and so does the second, whose next
    // picture is gone. The first keeps its sequence and its neighbour.
    let parts = vec![
        planned("walk", &walk.pictures[..2]),
        planned("walk, part 2", &walk.pictures[2..]),
    ];
    walk.redispatch(parts).await.expect("dispatch");
    let mut after = Vec::new();
    for &id in &walk.pictures {
        after.push(walk.sql.stamp("pictures", id.0).await);
    }
    assert_eq!(after[0], before[0], "the first picture did not change");
    for n in 1..4 {
        assert!(
            after[n] > before[n],
            "picture {n} did not move: {before:?} {after:?}"
        );
    }
}

async fn unreadable_tags(catalog: &dyn Catalog, sql: &Sql) {
    let walk = Walk::new(catalog, sql).await;
    walk.sql
        .run(
            "UPDATE upload_sets SET spec = json_set(spec, '$.semantics', 'bike') WHERE id = ?1",
            "UPDATE upload_sets SET spec = jsonb_set(spec, '{semantics}', '\"bike\"') \
             WHERE id = $1",
            &[walk.set.0],
        )
        .await;
    let result = walk.redispatch(vec![planned("walk", &walk.pictures)]).await;
    assert!(
        matches!(
            result,
            Err(flaneur_store::Error::Corrupt {
                table: "upload_sets",
                ..
            })
        ),
        "{result:?}"
    );
    let kept = walk
        .sql
        .count(
            "SELECT count(*) FROM sequence_semantics WHERE sequence_id = ?1",
            "SELECT count(*) FROM sequence_semantics WHERE sequence_id = $1",
            &[walk.sequence.0],
        )
        .await;
    assert_eq!(kept, 1, "the sequence's tag is kept");
}

sql_contracts! {
    every_change_of_a_picture_moves_it_and_its_sequence => picture_changes;
    every_change_of_a_sequence_moves_it => sequence_changes;
    every_change_of_a_tag_moves_what_it_describes_but_not_the_map => tag_changes;
    removing_a_picture_or_its_upload_set_moves_the_sequence => removals;
    a_new_dispatch_moves_the_sequences_whose_pictures_move => split_dispatch;
    dispatching_the_same_plan_again_moves_nothing => same_dispatch;
    writes_that_change_nothing_and_reads_leave_it => no_op_writes_and_reads;
    it_never_goes_backwards_and_alone_leaves_the_map_version => never_backwards;
    a_rank_change_moves_the_pictures_whose_neighbours_or_sequence_change => rank_changes;
    a_dispatch_refuses_unreadable_tags_rather_than_delete_the_sequences_ones => unreadable_tags;
}
