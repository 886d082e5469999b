//! The harvests `serve` runs on its own: the configured peers are declared at start, then a
//! task looks every few seconds for peers whose next attempt is due (a pass went through an
//! interval ago, or the backoff after failures ran out, and the peer is not paused) and
//! harvests them.
//!
//! Looking often rather than sleeping a whole interval is what makes `flaneur peer add`,
//! `resume` and `remove` take effect without a restart: the peers are read again each time.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use flaneur_model::PeerSource;
use flaneur_service::harvest::{HarvestLimits, harvest_all};
use flaneur_store::Catalog;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// Time between two looks for due peers.
const TICK: Duration = Duration::from_secs(5);

/// Declares the configured peers, so that they are harvested and listed like the others.
///
/// # Errors
/// Fails when the catalog refuses one.
pub async fn declare_peers(catalog: &dyn Catalog, peers: &[String]) -> anyhow::Result<()> {
    for url in peers {
        catalog
            .add_peer(url, PeerSource::Config)
            .await
            .with_context(|| format!("cannot declare peer {url}"))?;
    }
    Ok(())
}

/// The running harvest task.
pub struct Harvests {
    task: JoinHandle<()>,
}

impl Harvests {
    /// Starts harvesting due peers until `stop` is cancelled.
    pub fn start(
        catalog: Arc<dyn Catalog>,
        limits: HarvestLimits,
        stop: &CancellationToken,
    ) -> Harvests {
        let stop = stop.clone();
        let task = tokio::spawn(async move {
            loop {
                // A stop drops a pass under way: every collection it applied was committed
                // with the progress, so the next start goes on from there.
                tokio::select! {
                    () = stop.cancelled() => return,
                    passed = harvest_all(&*catalog, &limits, Utc::now()) => {
                        if let Err(err) = passed {
                            warn!(error = %err, "cannot list the peers to harvest; trying again");
                        }
                    }
                }
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(TICK) => {}
                }
            }
        });
        Harvests { task }
    }

    /// Waits for the task to end, after `stop` was cancelled.
    pub async fn wait(self) {
        match self.task.await {
            Ok(()) => info!("harvests stopped"),
            Err(err) => warn!(error = %err, "harvest task ended abnormally"),
        }
    }
}
