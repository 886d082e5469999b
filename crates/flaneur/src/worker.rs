//! `flaneur worker`: runs picture jobs (prepare, dispatch, file deletion) queued by API
//! processes sharing its storage, with no HTTP listener, until Ctrl-C or SIGTERM.
//!
//! Any number of worker processes may share a catalog: each job is claimed under a lease by
//! one of them at a time. On a stop request, workers claim nothing more, finish the job they
//! hold within the grace period or give it back, and the process exits with 0.

use std::process::ExitCode;

use flaneur_service::Services;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::Misuse;
use crate::config::ConfigArgs;
use crate::jobs::{JobArgs, Workers};
use crate::logs::LogArgs;
use crate::storage::StorageArgs;

/// Options of `flaneur worker`.
#[derive(Debug, Clone, clap::Args)]
pub struct WorkerArgs {
    /// Where the catalog and the pictures are: the same as the API processes'.
    #[command(flatten)]
    storage: StorageArgs,
    /// The picture workers of this process.
    #[command(flatten)]
    jobs: JobArgs,
    /// Logs.
    #[command(flatten)]
    logs: LogArgs,
    /// The configuration file.
    #[command(flatten)]
    config: ConfigArgs,
}

/// Runs jobs until a shutdown signal.
///
/// # Errors
/// Fails when the storage cannot be opened, and with [`Misuse`] for `--workers 0`.
pub async fn run(args: WorkerArgs) -> anyhow::Result<ExitCode> {
    args.logs.init();
    let count = args.jobs.count();
    if count == 0 {
        return Err(
            Misuse("flaneur worker needs at least one worker (--workers)".to_owned()).into(),
        );
    }

    let storage = args.storage.open().await?;
    let services = Services::new(
        storage.catalog.clone(),
        storage.blobs.clone(),
        storage.staging_dir.clone(),
    );
    let stop = CancellationToken::new();
    let timing = args.jobs.timing();
    let workers = Workers::start(&services, count, timing, &stop);
    info!(
        catalog = %storage.catalog_shown,
        pictures = %storage.blobs_shown,
        workers = count,
        grace_secs = timing.grace.as_secs(),
        lease_secs = timing.lease.as_secs(),
        config = %args.config.shown(),
        "flaneur worker is running jobs"
    );

    crate::shutdown::shutdown_signal().await;
    info!("stopping workers");
    stop.cancel();
    workers.wait().await;
    storage.close().await;
    info!("stopped");
    Ok(ExitCode::SUCCESS)
}
