//! What only the PostgreSQL catalog has to get right: several processes share its database.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use flaneur_model::{JobKind, NewUploadSet, PictureStatus};
use flaneur_store::{Catalog, DispatchPlan, PgCatalog, PlannedPicture, PlannedSequence};

use crate::backend::{PgDatabase, pg_catalog};
use crate::fixture;

/// Processes starting at once on an empty database: one migrates, the others wait for it and
/// find the schema ready, and none fails on a half-made schema.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_opens_migrate_the_schema_once() {
    PgDatabase::run(|url| async move {
        let opens: Vec<_> = (0..8)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { pg_catalog(&url).await })
            })
            .collect();
        let mut catalogs: Vec<PgCatalog> = Vec::new();
        for open in opens {
            catalogs.push(open.await.expect("open task"));
        }
        let (versions, distinct): (i64, i64) =
            sqlx::query_as("SELECT count(*), count(DISTINCT name) FROM schema_migrations")
                .fetch_one(&sqlx::PgPool::connect(&url).await.expect("connect"))
                .await
                .expect("read migrations");
        assert!(versions >= 1);
        assert_eq!(versions, distinct, "each migration recorded once");
        for catalog in catalogs {
            catalog.close().await;
        }
    })
    .await;
}

/// Workers of several processes claiming at once: each job goes to exactly one of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claimers_never_get_the_same_job() {
    PgDatabase::run(|url| async move {
        const JOBS: usize = 60;
        let mut processes = Vec::new();
        for _ in 0..3 {
            processes.push(Arc::new(pg_catalog(&url).await));
        }
        for n in 0..JOBS {
            processes[0]
                .enqueue_job(JobKind::Prepare, &format!("picture-{n}"))
                .await
                .expect("enqueue");
        }
        let workers: Vec<_> = (0..12)
            .map(|w| {
                let catalog = Arc::clone(&processes[w % processes.len()]);
                tokio::spawn(async move {
                    let mut claimed = Vec::new();
                    // Jobs are held, never finished: a job handed out twice shows as such.
                    while let Some(job) = catalog
                        .claim_job(Duration::from_secs(600))
                        .await
                        .expect("claim")
                    {
                        claimed.push(job.id);
                    }
                    claimed
                })
            })
            .collect();
        let mut all = Vec::new();
        for worker in workers {
            all.extend(worker.await.expect("worker"));
        }
        let distinct: HashSet<i64> = all.iter().copied().collect();
        assert_eq!(all.len(), JOBS, "every job claimed once: {all:?}");
        assert_eq!(distinct.len(), JOBS);
        for catalog in processes {
            catalog.close().await;
        }
    })
    .await;
}

/// A process starting while others run jobs frees only leases that already ran out.
#[tokio::test]
async fn releasing_jobs_at_startup_leaves_current_leases() {
    PgDatabase::run(|url| async move {
        let running = pg_catalog(&url).await;
        for target in ["held", "lapsed"] {
            running
                .enqueue_job(JobKind::Prepare, target)
                .await
                .expect("enqueue");
        }
        let held = running
            .claim_job(Duration::from_secs(600))
            .await
            .expect("claim")
            .expect("a job");
        let lapsed = running
            .claim_job(Duration::ZERO)
            .await
            .expect("claim")
            .expect("a job");
        tokio::time::sleep(Duration::from_millis(5)).await;

        let starting = pg_catalog(&url).await;
        assert_eq!(starting.release_all_jobs().await.expect("release"), 1);
        let next = starting
            .claim_job(Duration::from_secs(600))
            .await
            .expect("claim")
            .expect("the lapsed job");
        assert_eq!(next.id, lapsed.id);
        assert!(
            starting
                .claim_job(Duration::from_secs(600))
                .await
                .expect("claim")
                .is_none(),
            "{held:?} is still held"
        );
        running.close().await;
        starting.close().await;
    })
    .await;
}

/// A dispatch made again while workers change the states of its pictures: the writes lock
/// pictures before sequences in every path, so none of them fails on a deadlock.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dispatch_and_workers_never_deadlock() {
    PgDatabase::run(|url| async move {
        let catalog = Arc::new(pg_catalog(&url).await);
        let (account, _) = catalog.default_account().await.expect("account");
        let set = catalog
            .create_upload_set(NewUploadSet::titled("busy", account))
            .await
            .expect("create")
            .id;
        let at = Utc
            .timestamp_opt(1_600_000_000, 0)
            .single()
            .expect("instant");
        let mut pictures = Vec::new();
        for n in 0..8 {
            let picture = fixture::picture(set, account, n, at, fixture::offset(n as f64, 0.0));
            pictures.push((picture.id, picture.heading_deg));
            let file = flaneur_model::UploadFile {
                upload_set_id: set,
                file_name: picture.file_name.clone(),
                size_bytes: Some(1),
                content_md5: Some(picture.content_md5.clone()),
                picture_id: Some(picture.id),
                inserted_at: at,
                rejection: None,
            };
            catalog.insert_picture(picture, file).await.expect("insert");
        }
        let plan = |round: usize| DispatchPlan {
            sequences: vec![PlannedSequence {
                title: "busy".to_owned(),
                sorted_by: "+gpsdate".to_owned(),
                pictures: pictures
                    .iter()
                    .map(|&(id, _)| PlannedPicture {
                        id,
                        heading_deg: Some((round % 4) as f64 * 90.0),
                        heading_computed: true,
                    })
                    .collect(),
                length_km: 0.0,
                gps_accuracy_m: None,
            }],
            duplicates: Vec::new(),
        };
        catalog
            .apply_dispatch(set, plan(0))
            .await
            .expect("dispatch");
        for round in 1..30 {
            let dispatch = {
                let catalog = Arc::clone(&catalog);
                let plan = plan(round);
                tokio::spawn(async move { catalog.apply_dispatch(set, plan).await })
            };
            let workers: Vec<_> = pictures
                .iter()
                .rev()
                .map(|&(id, _)| {
                    let catalog = Arc::clone(&catalog);
                    let status = if round % 2 == 0 {
                        PictureStatus::Ready
                    } else {
                        PictureStatus::Preparing
                    };
                    tokio::spawn(async move { catalog.set_picture_status(id, status, None).await })
                })
                .collect();
            dispatch.await.expect("task").expect("dispatch");
            for worker in workers {
                worker.await.expect("task").expect("status");
            }
        }
        catalog.close().await;
    })
    .await;
}

/// An upload set deleted while workers change the states of its pictures: neither fails on a
/// deadlock.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deletion_and_workers_never_deadlock() {
    PgDatabase::run(|url| async move {
        let catalog = Arc::new(pg_catalog(&url).await);
        let (account, _) = catalog.default_account().await.expect("account");
        let at = Utc
            .timestamp_opt(1_600_000_000, 0)
            .single()
            .expect("instant");
        for round in 0..15 {
            let set = catalog
                .create_upload_set(NewUploadSet::titled("busy", account))
                .await
                .expect("create")
                .id;
            let pictures = (0..8)
                .map(|n| {
                    let place = fixture::offset(n as f64, 0.0);
                    let picture = fixture::picture(set, account, n, at, place);
                    (picture, PictureStatus::Preparing)
                })
                .collect();
            let (_, ids) = fixture::publish(catalog.as_ref(), set, "busy", pictures).await;
            let delete = {
                let catalog = Arc::clone(&catalog);
                tokio::spawn(async move { catalog.delete_upload_set(set).await })
            };
            let workers: Vec<_> = ids
                .iter()
                .rev()
                .map(|&id| {
                    let catalog = Arc::clone(&catalog);
                    tokio::spawn(async move {
                        catalog
                            .set_picture_status(id, PictureStatus::Ready, None)
                            .await
                    })
                })
                .collect();
            assert!(
                delete.await.expect("task").expect("delete"),
                "round {round}"
            );
            for worker in workers {
                worker.await.expect("task").expect("status");
            }
        }
        catalog.close().await;
    })
    .await;
}
