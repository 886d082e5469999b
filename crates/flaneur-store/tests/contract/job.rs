//! The job queue between workers: a job released by a stopping worker is claimed again at once,
//! only its current holder can release it, and processes sharing an SQLite file share the queue.

use std::time::Duration;

use flaneur_model::JobKind;
use flaneur_store::{Catalog, SqliteCatalog};

use crate::backend::catalog_contracts;

const LEASE: Duration = Duration::from_secs(600);

async fn released_jobs_are_claimed_again_at_once(catalog: &dyn Catalog) {
    catalog
        .enqueue_job(JobKind::DeleteFiles, "a-picture")
        .await
        .expect("enqueue");
    let first = catalog
        .claim_job(LEASE)
        .await
        .expect("claim")
        .expect("a job");
    assert!(
        catalog.claim_job(LEASE).await.expect("claim").is_none(),
        "a held job is not handed out twice"
    );

    // 1. The holder gives it back: the next claim gets it without waiting for the lease.
    catalog.release_job(&first).await.expect("release");
    let second = catalog
        .claim_job(LEASE)
        .await
        .expect("claim")
        .expect("the released job");
    assert_eq!(second.id, first.id);
    assert_eq!(second.attempt, first.attempt + 1, "the attempt counts");

    // 2. The first claim is stale: releasing it again leaves the new holder's lease alone.
    catalog.release_job(&first).await.expect("stale release");
    assert!(catalog.claim_job(LEASE).await.expect("claim").is_none());

    // 3. The new holder finishes it, and the queue is empty.
    catalog.finish_job(&second).await.expect("finish");
    assert_eq!(catalog.pending_jobs().await.expect("pending"), 0);
}

/// A holder whose lease ran out may still be running when the job is queued again and taken
/// by another worker: it must not end the new holder's run, and a request queued after a
/// run started is run again once that run ends.
async fn a_lapsed_holder_never_ends_a_run_claimed_after_it(catalog: &dyn Catalog) {
    let claim = |lease| async move { catalog.claim_job(lease).await.expect("claim") };
    let enqueue = || async {
        catalog
            .enqueue_job(JobKind::Prepare, "a-picture")
            .await
            .expect("enqueue");
    };

    // 1. The first holder's lease runs out while it works; the job is queued again and
    //    claimed by a second worker.
    enqueue().await;
    let lapsed = claim(Duration::ZERO).await.expect("a job");
    tokio::time::sleep(Duration::from_millis(5)).await;
    enqueue().await;
    let current = claim(LEASE).await.expect("the job queued again");
    assert_ne!(current.attempt, lapsed.attempt, "each claim is told apart");

    // 2. The lapsed holder finishes: the job stays the current holder's, who can still retry
    //    it.
    catalog.finish_job(&lapsed).await.expect("stale finish");
    assert_eq!(catalog.pending_jobs().await.expect("pending"), 1);
    catalog
        .retry_job(&current, "boom", Duration::ZERO)
        .await
        .expect("retry");
    let retried = claim(LEASE).await.expect("the retried job");
    catalog.finish_job(&retried).await.expect("finish");
    assert_eq!(catalog.pending_jobs().await.expect("pending"), 0);

    // 3. Queued again after a run started whose lease then ran out, with no other worker
    //    about: that run's end re-arms the job, since it may have started too early to
    //    cover the request.
    enqueue().await;
    let lapsed = claim(Duration::ZERO).await.expect("a job");
    tokio::time::sleep(Duration::from_millis(5)).await;
    enqueue().await;
    catalog.finish_job(&lapsed).await.expect("finish");
    let again = claim(LEASE)
        .await
        .expect("the request queued during the run");
    catalog.finish_job(&again).await.expect("finish");
    assert_eq!(catalog.pending_jobs().await.expect("pending"), 0);
}

catalog_contracts! {
    released_jobs_are_claimed_again_at_once => released_jobs_are_claimed_again_at_once;
    a_lapsed_holder_never_ends_a_run_claimed_after_it =>
        a_lapsed_holder_never_ends_a_run_claimed_after_it;
}

/// Two catalogs opened on one SQLite file act as two processes: claims never overlap, and
/// transactions that read before they write wait for the other's lock instead of failing.
#[tokio::test]
async fn sqlite_catalogs_of_two_processes_share_the_queue_without_lock_errors() {
    const JOBS: usize = 120;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("catalog.sqlite");
    let first = SqliteCatalog::open(&path).await.expect("open");
    let second = SqliteCatalog::open(&path).await.expect("open again");
    for n in 0..JOBS {
        first
            .enqueue_job(JobKind::DeleteFiles, &format!("picture-{n}"))
            .await
            .expect("enqueue");
    }

    let mut tasks = Vec::new();
    for catalog in [first.clone(), second.clone()] {
        for _ in 0..3 {
            let catalog = catalog.clone();
            tasks.push(tokio::spawn(async move {
                let mut done = Vec::new();
                while let Some(job) = catalog.claim_job(LEASE).await.expect("claim") {
                    // Writes between claim and finish, as a job does.
                    if job.kind == JobKind::DeleteFiles {
                        catalog
                            .enqueue_job(JobKind::Dispatch, &format!("set-{}", job.target))
                            .await
                            .expect("enqueue beside");
                    }
                    catalog.finish_job(&job).await.expect("finish");
                    done.push(job.target);
                }
                done
            }));
        }
    }
    let mut done = Vec::new();
    for task in tasks {
        done.extend(task.await.expect("task"));
    }
    let claimed = done.len();
    done.sort();
    done.dedup();
    assert_eq!(done.len(), claimed, "no job was claimed twice");
    assert_eq!(claimed, 2 * JOBS, "each job and the one it queued ran");
    assert_eq!(first.pending_jobs().await.expect("pending"), 0);
    first.close().await;
    second.close().await;
}
