//! The picture workers of a process: how many, how they stop, and the tasks running them.
//!
//! Both `flaneur serve` and `flaneur worker` run them; the job loop itself belongs to
//! `flaneur_service::worker`.

use std::time::Duration;

use flaneur_service::Services;
use flaneur_service::worker::JobTiming;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::warn;

/// Options of the picture workers.
#[derive(Debug, Clone, clap::Args)]
pub struct JobArgs {
    /// Number of picture workers in this process [default: the number of cores].
    #[arg(long, env = "FLANEUR_WORKERS")]
    workers: Option<usize>,
    /// Seconds a stopping process lets its current jobs and requests run before giving the
    /// jobs back to the queue for another worker and cutting the requests off.
    #[arg(long, env = "FLANEUR_STOP_GRACE_SECS", default_value_t = 30)]
    stop_grace_secs: u64,
    /// Seconds a claimed job stays reserved for its worker without news from it (renewed every
    /// third of it): a job whose process died is taken up by another worker after this delay.
    #[arg(
        long,
        env = "FLANEUR_JOB_LEASE_SECS",
        default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(MIN_LEASE_SECS..=MAX_LEASE_SECS)
    )]
    job_lease_secs: u64,
}

/// The shortest lease: renewed every third of it, it must outlast a slow catalog round trip,
/// or a live worker's job would be taken over and run twice.
const MIN_LEASE_SECS: u64 = 5;
/// The longest lease: an hour during which a dead worker's job waits.
const MAX_LEASE_SECS: u64 = 3600;

impl JobArgs {
    /// The number of workers asked for, or one per core.
    pub fn count(&self) -> usize {
        self.workers.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
    }

    /// How the workers hold their jobs and give them back.
    pub fn timing(&self) -> JobTiming {
        JobTiming {
            lease: Duration::from_secs(self.job_lease_secs),
            grace: Duration::from_secs(self.stop_grace_secs),
        }
    }
}

/// Running workers.
pub struct Workers {
    tasks: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Starts `count` workers, which stop claiming jobs once `stop` is cancelled.
    pub fn start(
        services: &Services,
        count: usize,
        timing: JobTiming,
        stop: &CancellationToken,
    ) -> Workers {
        let tasks = (0..count)
            .map(|n| {
                tokio::spawn(flaneur_service::worker::run(
                    services.clone(),
                    n,
                    stop.clone(),
                    timing,
                ))
            })
            .collect();
        Workers { tasks }
    }

    /// Waits for every worker to end, after `stop` was cancelled: each finishes or gives back
    /// the job it holds.
    pub async fn wait(self) {
        for task in self.tasks {
            if let Err(err) = task.await {
                warn!(error = %err, "worker ended abnormally");
            }
        }
    }
}
