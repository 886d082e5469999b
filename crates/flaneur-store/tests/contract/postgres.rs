//! What only the PostgreSQL catalog has to get right: several processes share its database.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use flaneur_model::JobKind;
use flaneur_store::{Catalog, PgCatalog};

use crate::backend::{PgDatabase, pg_catalog};

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
