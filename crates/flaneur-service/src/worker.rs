//! The job loop: claims queued jobs from the catalog and runs them, until told to stop.
//!
//! Jobs are durable: a job claimed by a worker that dies is offered again when its lease runs
//! out. A stopping worker claims nothing more and lets the job it holds run for a grace period;
//! a job still running then is abandoned and given back to the queue, so that another worker
//! takes it at once. Abandoning is safe because every job can start over: it is what a crash
//! does too.

use std::time::{Duration, Instant};

use flaneur_model::{Job, JobKind, PictureId, UploadSetId};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, error, info, info_span, warn};

use crate::prepare::is_permanent;
use crate::{Error, Result, Services};

/// How often an idle worker looks for jobs queued by other processes.
const IDLE_POLL: Duration = Duration::from_secs(2);
/// Attempts before a job failing for another reason than storage is given up; a job failing
/// on storage is retried until it succeeds, and logged as an error from this attempt on.
const MAX_ATTEMPTS: i64 = 5;
/// Longest wait between two runs of a failing job.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(15 * 60);

/// How a worker holds its jobs and gives them back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobTiming {
    /// How long a claimed job stays reserved for its worker without news from it. The worker
    /// renews the lease every third of it while the job runs, so a job of a dead worker is
    /// taken up by another within this delay, and a long job is never taken over. Each claim
    /// carries its own lease, so processes may use different ones.
    pub lease: Duration,
    /// How long a stopping worker lets its job run before giving it back to the queue.
    pub grace: Duration,
}

/// Runs jobs until `stop` is cancelled. The job in hand then gets up to `timing.grace` to
/// finish before it is given back to the queue.
pub async fn run(services: Services, worker: usize, stop: CancellationToken, timing: JobTiming) {
    loop {
        if stop.is_cancelled() {
            return;
        }
        let job = match services.catalog.claim_job(timing.lease).await {
            Ok(job) => job,
            Err(err) => {
                error!(worker, error = %err, "cannot claim jobs; retrying");
                None
            }
        };
        let Some(job) = job else {
            // Idle: wait for a local wake-up, a poll tick (jobs from other processes) or stop.
            let queued = services.jobs_queued.notified();
            tokio::select! {
                () = queued => {}
                () = tokio::time::sleep(IDLE_POLL) => {}
                () = stop.cancelled() => return,
            }
            continue;
        };
        let span = info_span!("job", worker, job.id = job.id, job.kind = %job.kind,
                              job.target = %job.target, job.attempt = job.attempt);
        run_one(&services, job, &stop, timing)
            .instrument(span)
            .await;
    }
}

async fn run_one(services: &Services, job: Job, stop: &CancellationToken, timing: JobTiming) {
    let JobTiming { lease, grace } = timing;
    let started = Instant::now();
    debug!("job started");
    let outcome = {
        let work = execute(services, &job);
        tokio::pin!(work);
        let mut heartbeat = tokio::time::interval(lease / 3);
        heartbeat.tick().await;
        // Resolves once the stop request is `grace` old.
        let grace_over = async {
            stop.cancelled().await;
            info!(
                grace_secs = grace.as_secs(),
                "stop requested; letting the job finish"
            );
            tokio::time::sleep(grace).await;
        };
        tokio::pin!(grace_over);
        loop {
            tokio::select! {
                outcome = &mut work => break Some(outcome),
                _ = heartbeat.tick() => {
                    if let Err(err) = services.catalog.renew_job(&job, lease).await {
                        warn!(error = %err, "cannot renew job lease");
                    }
                }
                () = &mut grace_over => break None,
            }
        }
    };
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let bookkeeping = match outcome {
        None => {
            // The work was dropped above: what it wrote so far is redone by the next run.
            warn!(
                elapsed_ms,
                "job still running at the end of the grace period; given back"
            );
            services.catalog.release_job(&job).await
        }
        Some(Ok(())) => {
            info!(elapsed_ms, "job done");
            services.catalog.finish_job(&job).await
        }
        Some(Err(err)) => match on_failure(&err, job.attempt) {
            Failure::GiveUp => {
                error!(error = %chain(&err), "job failed for good");
                give_up(services, &job, &err).await;
                services.catalog.finish_job(&job).await
            }
            Failure::Retry(delay) if job.attempt >= MAX_ATTEMPTS => {
                error!(error = %chain(&err), retry_in_secs = delay.as_secs(),
                       "job still failing on storage; will retry");
                services.catalog.retry_job(&job, &chain(&err), delay).await
            }
            Failure::Retry(delay) => {
                warn!(error = %chain(&err), retry_in_secs = delay.as_secs(),
                      "job failed; will retry");
                services.catalog.retry_job(&job, &chain(&err), delay).await
            }
        },
    };
    if let Err(err) = bookkeeping {
        // The lease will expire and the job will run again; nothing is lost.
        error!(error = %err, "cannot record job outcome");
    }
}

/// What to do with a job that failed.
#[derive(Debug, PartialEq, Eq)]
enum Failure {
    /// Drop it, and mark its picture broken.
    GiveUp,
    /// Run it again after this delay.
    Retry(Duration),
}

/// Decides the fate of a job whose `attempt`th run failed with `err`.
///
/// Storage that cannot be reached is no fault of the picture: giving up would mark a sound
/// picture broken, or leave a deleted picture's files in the store for good, because the
/// catalog server or the bucket was down for a few minutes. Such jobs wait for it, however
/// long it takes.
fn on_failure(err: &Error, attempt: i64) -> Failure {
    let is_hopeless = is_permanent(err) || matches!(err, Error::InvalidParameter { .. });
    let is_storage = matches!(err, Error::Store(_) | Error::Staging(_));
    if is_hopeless || (!is_storage && attempt >= MAX_ATTEMPTS) {
        return Failure::GiveUp;
    }
    // Back off 5 s, 20 s, 45 s... up to a quarter of an hour: storage hiccups get time to
    // pass.
    let secs = 5u64.saturating_mul(u64::try_from(attempt.max(1)).unwrap_or(1).pow(2));
    Failure::Retry(Duration::from_secs(secs).min(MAX_RETRY_DELAY))
}

async fn execute(services: &Services, job: &Job) -> Result<()> {
    match job.kind {
        JobKind::Prepare => {
            let outcome = services.prepare(picture_id(job)?).await?;
            debug!(?outcome, "prepare done");
            Ok(())
        }
        JobKind::Dispatch => {
            let id: UploadSetId = job.target.parse().map_err(|_| bad_target(job))?;
            match services.dispatch(id).await {
                // Deleted since it was queued: nothing left to dispatch.
                Err(Error::UploadSetNotFound(_)) => Ok(()),
                other => other,
            }
        }
        JobKind::DeleteFiles => services.delete_files(picture_id(job)?).await,
    }
}

async fn give_up(services: &Services, job: &Job, err: &Error) {
    if job.kind != JobKind::Prepare {
        return;
    }
    if let Ok(id) = picture_id(job)
        && let Err(e) = services.mark_broken(id, &err.to_string()).await
    {
        error!(error = %e, "cannot mark picture broken");
    }
}

/// An error with its causes, for the operator: `storage failed: blob store i/o failed on ...`.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn picture_id(job: &Job) -> Result<PictureId> {
    job.target.parse().map_err(|_| bad_target(job))
}

fn bad_target(job: &Job) -> Error {
    Error::invalid(format!(
        "job {} has an invalid target '{}'",
        job.id, job.target
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage_down() -> Error {
        Error::Store(flaneur_store::Error::Refused(
            "the object store did not answer".to_owned(),
        ))
    }

    #[test]
    fn a_storage_outage_never_gives_a_job_up() {
        for attempt in 1..=100 {
            let Failure::Retry(delay) = on_failure(&storage_down(), attempt) else {
                panic!("attempt {attempt} of a job failing on storage was given up");
            };
            assert!(
                delay >= Duration::from_secs(5),
                "attempt {attempt}: {delay:?}"
            );
            assert!(delay <= MAX_RETRY_DELAY, "attempt {attempt}: {delay:?}");
        }
        assert_eq!(
            on_failure(&storage_down(), 2),
            Failure::Retry(Duration::from_secs(20))
        );
    }

    #[test]
    fn other_failures_are_given_up_after_a_few_attempts() {
        let panicked = Error::Task("decoder panicked".to_owned());
        assert!(matches!(on_failure(&panicked, 1), Failure::Retry(_)));
        assert_eq!(on_failure(&panicked, MAX_ATTEMPTS), Failure::GiveUp);
    }

    #[test]
    fn a_job_that_cannot_succeed_is_given_up_at_once() {
        let gone = Error::ItemNotFound("6a0c1a4e-3b83-4c4f-9a55-2f0a3b7d1e10".to_owned());
        assert_eq!(on_failure(&gone, 1), Failure::GiveUp);
        let job = Job {
            id: 1,
            kind: JobKind::Prepare,
            target: "not-a-picture-id".to_owned(),
            attempt: 1,
        };
        assert_eq!(on_failure(&bad_target(&job), 1), Failure::GiveUp);
    }
}
