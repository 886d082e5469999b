//! Whether a pass of a peer runs, and when the next one is due: a pass holds the peer's lease
//! in the catalog (see [`flaneur_model::HarvestClaim`]) or leaves it to the pass holding it,
//! and its kind decides whether it still runs once held and how it plans the next attempt.
//! The pass itself is the parent module's.

use chrono::{DateTime, Utc};
use flaneur_model::{HarvestClaim, HarvestEnd, Peer, PeerId};
use serde::Serialize;

use super::{HarvestError, HarvestLimits, HarvestStore, error_chain};

/// Why a pass of a peer did not run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum NotRun {
    /// Another pass, of this process or another sharing the catalog, holds the peer.
    Busy {
        /// When that pass's lease runs out if it is not renewed (`None` when it ended just
        /// now).
        until: Option<DateTime<Utc>>,
    },
    /// A scheduled pass found the peer no longer due once it held it: another pass harvested
    /// it meanwhile, or it was paused or removed.
    NotDue,
}

/// How a pass was started, which decides whether it runs and when the next one is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassKind {
    /// By the schedule of a server, or [`harvest_all`](super::harvest_all): runs only if the
    /// peer is still due once held, and sets the next attempt an interval or a backoff after
    /// its end.
    Scheduled,
    /// Asked for now (`flaneur harvest`): runs whatever the schedule. Its end moves the next
    /// scheduled attempt no later than it was planned, and earlier when the pass's own
    /// interval or backoff says so: the pass does not know the interval of the servers
    /// harvesting the peer, and must not put their next pass off further than they would.
    /// With no attempt planned, it plans from its own interval or backoff.
    OnDemand,
}

/// Whether `peer` is to be harvested at `now`: not paused, its backoff or interval over, and
/// held by no pass (a lease that ran out holds nothing).
pub fn is_due(peer: &Peer, now: DateTime<Utc>) -> bool {
    is_planned(peer, now) && peer.harvest.harvesting_until(now).is_none()
}

/// Whether the schedule calls for a pass of `peer` at `now`, whoever holds it.
fn is_planned(peer: &Peer, now: DateTime<Utc>) -> bool {
    !peer.is_paused && peer.harvest.next_attempt_at.is_none_or(|t| t <= now)
}

/// Claims the peer for the pass and reads it as it stands then; the reason to leave it alone
/// instead, after freeing it again if it was claimed.
pub(super) async fn hold<S: HarvestStore + ?Sized>(
    store: &S,
    id: PeerId,
    claim: &HarvestClaim,
    kind: PassKind,
) -> flaneur_store::Result<Result<Peer, NotRun>> {
    if !store.claim_harvest(id, claim).await? {
        let until = store.peer(id).await?.and_then(|p| p.harvest.leased_until);
        return Ok(Err(NotRun::Busy { until }));
    }
    // A scheduled pass chose the peer from a listing read before the claim: another pass may
    // have harvested it in between, and moved its next attempt.
    let held = match store.peer(id).await {
        Ok(held) => held,
        Err(err) => {
            // Freed at once if the catalog answers again; otherwise the lease runs out.
            let _ = store.release_harvest(id, claim).await;
            return Err(err);
        }
    };
    match held {
        Some(peer) if kind == PassKind::OnDemand || is_planned(&peer, Utc::now()) => Ok(Ok(peer)),
        _ => {
            store.release_harvest(id, claim).await?;
            Ok(Err(NotRun::NotDue))
        }
    }
}

/// How the pass ended, with the next attempt its kind calls for (see [`PassKind`]).
pub(super) fn pass_end(
    peer: &Peer,
    limits: &HarvestLimits,
    kind: PassKind,
    outcome: &Result<(), HarvestError>,
) -> HarvestEnd {
    let at = Utc::now();
    let own = match outcome {
        Ok(()) => at + limits.interval,
        Err(_) => at + limits.backoff(peer.harvest.failures.saturating_add(1)),
    };
    // An attempt that was due stays due: a server takes the peer up at its next look, and
    // plans from its own end. With none planned (no pass yet, or resumed), there is no
    // schedule to keep, and taking the peer up again at once would only repeat this pass.
    let next_attempt_at = match (kind, peer.harvest.next_attempt_at) {
        (PassKind::OnDemand, Some(planned)) => own.min(planned),
        (PassKind::OnDemand, None) | (PassKind::Scheduled, _) => own,
    };
    match outcome {
        Ok(()) => HarvestEnd::Success {
            at,
            next_attempt_at,
        },
        Err(err) => HarvestEnd::Failure {
            at,
            error: error_chain(err),
            next_attempt_at,
        },
    }
}
