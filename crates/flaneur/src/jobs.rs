//! The picture workers of a process: how many, how they stop, and the tasks running them.
//!
//! Both `flaneur serve` and `flaneur worker` run them; the job loop itself belongs to
//! `flaneur_service::worker`.

use std::time::Duration;

use flaneur_service::Services;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::warn;

/// Options of the picture workers.
#[derive(Debug, Clone, clap::Args)]
pub struct JobArgs {
    /// Number of picture workers in this process [default: the number of cores].
    #[arg(long, env = "FLANEUR_WORKERS")]
    workers: Option<usize>,
    /// Seconds a stopping worker lets its current job run before giving it back to the queue
    /// for another worker.
    #[arg(long, env = "FLANEUR_STOP_GRACE_SECS", default_value_t = 30)]
    stop_grace_secs: u64,
}

impl JobArgs {
    /// The number of workers asked for, or one per core.
    pub fn count(&self) -> usize {
        self.workers.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
    }

    /// How long a stopping worker's job may still run.
    pub fn grace(&self) -> Duration {
        Duration::from_secs(self.stop_grace_secs)
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
        grace: Duration,
        stop: &CancellationToken,
    ) -> Workers {
        let tasks = (0..count)
            .map(|n| {
                tokio::spawn(flaneur_service::worker::run(
                    services.clone(),
                    n,
                    stop.clone(),
                    grace,
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
