//! The harvests `serve` runs on its own: the configured peers are declared at start, then a
//! task looks every few seconds for peers whose next attempt is due (a pass went through an
//! interval ago, or the backoff after failures ran out, and the peer is not paused) and
//! starts a pass of each that is not already being harvested, a few at a time. A peer being
//! harvested by another process sharing the catalog (another server, `flaneur harvest`) is
//! left to it: the pass holds the peer's lease in the catalog. Each pass runs on its own, so a
//! slow peer holds up only itself: the others go on at their own interval.
//!
//! Looking often rather than sleeping a whole interval is what makes `flaneur peer add`,
//! `resume` and `remove` take effect without a restart: the peers are read again each time.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use flaneur_model::{PeerId, PeerSource};
use flaneur_service::harvest::{HarvestLimits, PassKind, harvest_peer, is_due};
use flaneur_store::Catalog;
use tokio::task::{JoinHandle, JoinSet};
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
            let mut passes = Passes::default();
            loop {
                passes.reap();
                passes.start_due(&catalog, &limits).await;
                tokio::select! {
                    // A stop drops the passes under way: every collection they applied was
                    // committed with the progress, so the next start goes on from there.
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

/// The passes under way, one per peer at most.
#[derive(Default)]
struct Passes {
    running: JoinSet<()>,
    peers: HashMap<tokio::task::Id, PeerId>,
    in_flight: HashSet<PeerId>,
}

impl Passes {
    /// Forgets the passes that ended, so that their peers may be harvested again when due.
    fn reap(&mut self) {
        while let Some(ended) = self.running.try_join_next_with_id() {
            let id = match ended {
                Ok((id, ())) => id,
                Err(err) => {
                    warn!(error = %err, "harvest pass ended abnormally");
                    err.id()
                }
            };
            if let Some(peer) = self.peers.remove(&id) {
                self.in_flight.remove(&peer);
            }
        }
    }

    /// Starts a pass of each due peer not being harvested, up to the limit of passes at once.
    async fn start_due(&mut self, catalog: &Arc<dyn Catalog>, limits: &HarvestLimits) {
        let peers = match catalog.peers().await {
            Ok(peers) => peers,
            Err(err) => {
                warn!(error = %err, "cannot list the peers to harvest; trying again");
                return;
            }
        };
        let now = Utc::now();
        for peer in peers.into_iter().filter(|p| is_due(p, now)) {
            if self.in_flight.len() >= limits.concurrency.max(1) {
                return;
            }
            if !self.in_flight.insert(peer.id) {
                continue;
            }
            let (catalog, limits) = (Arc::clone(catalog), limits.clone());
            let peer_id = peer.id;
            let handle = self.running.spawn(async move {
                harvest_peer(&*catalog, &peer, &limits, PassKind::Scheduled).await;
            });
            self.peers.insert(handle.id(), peer_id);
        }
    }
}
