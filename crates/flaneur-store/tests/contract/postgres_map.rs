//! What only the PostgreSQL catalog's map has to get right: several processes write, redraw
//! and read it at once.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use flaneur_model::{NewUploadSet, PictureStatus, UploadSetId};
use flaneur_store::{Catalog, DispatchPlan, PgCatalog, PlannedPicture, PlannedSequence};
use sqlx::{Connection, PgConnection};

use crate::backend::{PgDatabase, pg_catalog};
use crate::map::{self, Dice, VISIBILITIES};

/// Key of the advisory lock the catalog redraws sequence lines under (see its
/// `sequence_line` module).
const REDRAW_LOCK: i64 = 0x666c_616e_6575_7202;

/// A map read that hangs is a failure, not a slow test.
const HANG: Duration = Duration::from_secs(60);

/// Writers of three processes publish, unpublish and redispatch pictures in the same grid
/// cells while others hide sequences in SQL and all of them read the map (so that redraws
/// run in several processes at once): no write or read fails, and the map ends as a recount
/// from scratch says.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writers_of_several_processes_leave_the_map_as_a_recount_says() {
    PgDatabase::run(|url| async move {
        let mut processes: Vec<Arc<PgCatalog>> = Vec::new();
        for _ in 0..3 {
            processes.push(Arc::new(pg_catalog(&url).await));
        }
        let (account, _) = processes[0].default_account().await.expect("account");
        let sets: Arc<Mutex<Vec<UploadSetId>>> = Arc::default();

        let mut tasks = Vec::new();
        for w in 0..6_u64 {
            let catalog = Arc::clone(&processes[w as usize % processes.len()]);
            let sets = Arc::clone(&sets);
            tasks.push(tokio::spawn(async move {
                let mut dice = Dice(0x9e37_79b9_7f4a_7c15 ^ (w + 1));
                let mut own: Vec<UploadSetId> = Vec::new();
                for _ in 0..20 {
                    match dice.below(4) {
                        0 => {
                            let spec = NewUploadSet::titled("busy", account);
                            let set = catalog.create_upload_set(spec).await.expect("set").id;
                            for n in 0..1 + dice.below(4) {
                                let (p, f) = map::new_picture(set, account, n, &mut dice);
                                let id = p.id;
                                catalog.insert_picture(p, f).await.expect("insert");
                                let status =
                                    [PictureStatus::Ready, PictureStatus::Preparing][dice.below(2)];
                                catalog
                                    .set_picture_status(id, status, None)
                                    .await
                                    .expect("status");
                            }
                            own.push(set);
                            sets.lock().expect("sets").push(set);
                        }
                        1 => {
                            if let Some(set) = dice.pick(&own) {
                                let plan = map::random_plan(&*catalog, set, &mut dice).await;
                                catalog.apply_dispatch(set, plan).await.expect("dispatch");
                            }
                        }
                        2 => {
                            if let Some(set) = dice.pick(&own) {
                                let pictures =
                                    catalog.upload_set_pictures(set).await.expect("pictures");
                                if let Some(p) = dice.pick(&pictures) {
                                    let status = [PictureStatus::Ready, PictureStatus::Broken]
                                        [dice.below(2)];
                                    catalog
                                        .set_picture_status(p.base.id, status, None)
                                        .await
                                        .expect("status");
                                }
                            }
                        }
                        _ => {
                            tokio::time::timeout(HANG, read_map(&*catalog))
                                .await
                                .expect("a map read that ends");
                        }
                    }
                }
            }));
        }
        // Sequences hidden and shown again in SQL, on their own connections.
        for w in 0..2_u64 {
            let sets = Arc::clone(&sets);
            let catalog = Arc::clone(&processes[0]);
            let url = url.clone();
            tasks.push(tokio::spawn(async move {
                let pool = sqlx::PgPool::connect(&url).await.expect("connect");
                let mut dice = Dice(0x5151_0000 + w);
                for _ in 0..20 {
                    let known = sets.lock().expect("sets").clone();
                    let Some(set) = dice.pick(&known) else {
                        tokio::task::yield_now().await;
                        continue;
                    };
                    let live = catalog.upload_set_sequences(set).await.expect("sequences");
                    if let Some(s) = dice.pick(&live) {
                        sqlx::query(
                            "UPDATE sequences SET status = $2, visibility = $3 WHERE id = $1",
                        )
                        .bind(s.sequence.id.0)
                        .bind(["ready", "ready", "waiting-for-process"][dice.below(3)])
                        .bind(VISIBILITIES[dice.below(VISIBILITIES.len())])
                        .execute(&pool)
                        .await
                        .expect("hide or show a sequence");
                    }
                }
                pool.close().await;
            }));
        }
        for task in tasks {
            task.await
                .expect("a writer that neither fails nor deadlocks");
        }

        let sets = sets.lock().expect("sets").clone();
        let expected = map::recount(&*processes[1], &sets).await;
        for process in &processes {
            assert_eq!(map::shown(&**process).await, expected);
        }
        assert!(
            !expected.grid.is_empty(),
            "the writers should publish pictures"
        );
        for process in processes {
            process.close().await;
        }
    })
    .await;
}

/// Every map read, while others write: they are no snapshot of one instant, but none fails.
async fn read_map(catalog: &dyn Catalog) {
    catalog.picture_grid().await.expect("grid");
    catalog.map_sequences(&WORLD).await.expect("lines");
    catalog.map_pictures(&WORLD).await.expect("pictures");
    catalog.data_version().await.expect("version");
}

/// A redraw that another process holds up leaves map reads answering from the lines as stored;
/// the lines are drawn once it lets go.
#[tokio::test]
async fn a_redraw_held_up_elsewhere_does_not_hold_up_map_reads() {
    PgDatabase::run(|url| async move {
        let catalog = pg_catalog(&url).await;
        let (account, _) = catalog.default_account().await.expect("account");
        // The lines of the catalog's first pictures, drawn.
        let (first, _) = map::publish_three(&catalog, account).await;
        let drawn = catalog.map_sequences(&WORLD).await.expect("map read");
        assert_eq!(drawn.iter().map(|s| s.id).collect::<Vec<_>>(), vec![first]);

        let mut other = PgConnection::connect(&url).await.expect("connect");
        let mut held = other.begin().await.expect("begin");
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(REDRAW_LOCK)
            .execute(&mut *held)
            .await
            .expect("hold the redraw lock");
        let (second, _) = map::publish_three(&catalog, account).await;
        let read = tokio::time::timeout(HANG, catalog.map_sequences(&WORLD))
            .await
            .expect("a map read that ends")
            .expect("map read");
        assert_eq!(
            read.iter().map(|s| s.id).collect::<Vec<_>>(),
            vec![first],
            "the new line is not drawn yet, the old one still is"
        );

        held.commit().await.expect("let go");
        let read = tokio::time::timeout(HANG, catalog.map_sequences(&WORLD))
            .await
            .expect("a map read that ends")
            .expect("map read");
        assert_eq!(
            read.iter().map(|s| s.id).collect::<Vec<_>>(),
            vec![first, second]
        );
        other.close().await.expect("disconnect");
        catalog.close().await;
    })
    .await;
}

const WORLD: flaneur_store::MapQuery = flaneur_store::MapQuery {
    bbox: [-180.0, -85.0, 180.0, 85.0],
    account: None,
    simplified: false,
};

/// Readers see a new data version exactly when they see the write that moved it: not while
/// the writing transaction is open, and never for one rolled back.
#[tokio::test]
async fn the_data_version_moves_when_the_write_commits() {
    PgDatabase::run(|url| async move {
        let catalog = pg_catalog(&url).await;
        let (account, _) = catalog.default_account().await.expect("account");
        let (sequence, pictures) = map::publish_three(&catalog, account).await;
        map::shown(&catalog).await;
        let before = catalog.data_version().await.expect("version");

        let mut writer = PgConnection::connect(&url).await.expect("connect");
        let turn = "UPDATE pictures SET heading_deg = 180 WHERE id = $1";
        let mut tx = writer.begin().await.expect("begin");
        sqlx::query(turn)
            .bind(pictures[0].0)
            .execute(&mut *tx)
            .await
            .expect("turn a picture");
        assert_eq!(catalog.data_version().await.expect("version"), before);
        tx.rollback().await.expect("roll back");
        assert_eq!(catalog.data_version().await.expect("version"), before);

        let mut tx = writer.begin().await.expect("begin");
        for picture in &pictures {
            sqlx::query(turn)
                .bind(picture.0)
                .execute(&mut *tx)
                .await
                .expect("turn a picture");
        }
        assert_eq!(catalog.data_version().await.expect("version"), before);
        tx.commit().await.expect("commit");
        let after = catalog.data_version().await.expect("version");
        assert!(before.is_before(&after), "{before} then {after}");
        // One transaction moves it once, however many rows it writes.
        assert_eq!(after.counter, before.counter + 1);

        // A dispatch moving pictures between sequences, in one transaction, too.
        let plan = DispatchPlan {
            sequences: vec![PlannedSequence {
                title: "again".to_owned(),
                sorted_by: "+gpsdate".to_owned(),
                pictures: pictures
                    .iter()
                    .rev()
                    .map(|id| PlannedPicture {
                        id: *id,
                        heading_deg: Some(0.0),
                        heading_computed: false,
                    })
                    .collect(),
                length_km: 0.0,
                gps_accuracy_m: None,
            }],
            duplicates: Vec::new(),
        };
        let set = catalog
            .sequence(sequence)
            .await
            .expect("read")
            .and_then(|s| s.upload_set_id)
            .expect("the sequence's upload set");
        catalog.apply_dispatch(set, plan).await.expect("dispatch");
        let dispatched = catalog.data_version().await.expect("version");
        assert_eq!(dispatched.counter, after.counter + 1);
        writer.close().await.expect("disconnect");
        catalog.close().await;
    })
    .await;
}
