//! An in-memory harvest store keeping peers, remote collections and a log of the calls, so
//! that tests can count what was applied and removed.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use flaneur_model::{
    ApplyOutcome, Claim, HarvestClaim, HarvestEnd, HarvestPassId, HarvestProgress, HarvestState,
    Holder, Peer, PeerId, PeerSource, RemoteCollection, RemoteItem, RemoteRemoval, SequenceId,
    Skip,
};
use flaneur_service::harvest::HarvestStore;
use flaneur_store::Result;

#[derive(Default)]
pub struct State {
    pub peers: HashMap<PeerId, Peer>,
    pub collections: HashMap<(PeerId, SequenceId), (RemoteCollection, Vec<RemoteItem>)>,
    /// Collections applied, in order.
    pub applied: Vec<SequenceId>,
    /// Collections removed, in order.
    pub removed: Vec<SequenceId>,
    /// Passes ended, in order.
    pub ends: Vec<HarvestEnd>,
    /// Ids of local sequences.
    pub local: HashSet<SequenceId>,
    /// Conflicts recorded, by peer and collection.
    pub conflicts: HashSet<(PeerId, SequenceId)>,
    /// Relayed copies skipped, by peer and collection.
    pub relayed: HashSet<(PeerId, SequenceId)>,
    /// The pass holding each peer held; leases here never run out, but a test may hand a
    /// peer to another pass, as a catalog does once a lease ran out.
    pub holders: HashMap<PeerId, HarvestPassId>,
    /// Collections their origin removed, with when (see [`Holder::Removed`]).
    pub removed_at_origin: HashMap<SequenceId, DateTime<Utc>>,
    /// Collections held once and let go without their origin's word (tombstones holding
    /// nothing, as a peer's removal leaves).
    pub let_go: HashSet<SequenceId>,
    /// Runs once on the state just before the next end is written, as another process would
    /// act meanwhile.
    pub before_end: Option<StateChange>,
}

/// A change a test makes to the state from within a call of the harvester.
pub type StateChange = Box<dyn FnOnce(&mut State) + Send>;

impl State {
    /// Clears the skip of a peer's collection; whether there was one.
    fn forget_skip(&mut self, peer: PeerId, id: SequenceId) -> bool {
        let conflict = self.conflicts.remove(&(peer, id));
        self.relayed.remove(&(peer, id)) || conflict
    }

    fn holder(&self, id: SequenceId) -> Option<Holder> {
        if self.local.contains(&id) {
            return Some(Holder::Local);
        }
        let Some(((peer, _), (collection, _))) =
            self.collections.iter().find(|((_, held), _)| *held == id)
        else {
            let updated = *self.removed_at_origin.get(&id)?;
            return Some(Holder::Removed { updated });
        };
        let api_url = self.peers[peer].api_url.clone();
        Some(Holder::Peer {
            id: *peer,
            origin: collection.origin(&api_url),
            origin_updated: collection.origin_updated(&api_url),
            api_url,
            updated: Some(collection.updated),
        })
    }
}

#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("memory store state")
    }

    /// Declares a peer and returns it.
    pub fn add_peer(&self, api_url: &str) -> Peer {
        let peer = Peer {
            id: PeerId::new(),
            api_url: api_url.to_owned(),
            source: PeerSource::Config,
            is_paused: false,
            added_at: Utc::now(),
            harvest: HarvestState::default(),
        };
        self.state().peers.insert(peer.id, peer.clone());
        peer
    }

    /// The peer as stored now.
    pub fn get(&self, id: PeerId) -> Peer {
        self.state().peers[&id].clone()
    }

    fn progress(&self, state: &mut State, peer: PeerId, progress: &HarvestProgress) {
        if let Some(p) = state.peers.get_mut(&peer) {
            p.harvest.watermark = progress.watermark;
            p.harvest.resume_url = progress.resume_url.clone();
        }
    }
}

#[async_trait]
impl HarvestStore for MemoryStore {
    async fn peers(&self) -> Result<Vec<Peer>> {
        Ok(self.state().peers.values().cloned().collect())
    }

    async fn peer(&self, id: PeerId) -> Result<Option<Peer>> {
        Ok(self.state().peers.get(&id).cloned())
    }

    async fn claim_harvest(&self, id: PeerId, claim: &HarvestClaim) -> Result<bool> {
        let mut state = self.state();
        if !state.peers.contains_key(&id) {
            return Ok(false);
        }
        let holder = state.holders.entry(id).or_insert(claim.pass);
        Ok(*holder == claim.pass)
    }

    async fn renew_harvest(&self, id: PeerId, claim: &HarvestClaim) -> Result<bool> {
        Ok(self.state().holders.get(&id) == Some(&claim.pass))
    }

    async fn release_harvest(&self, id: PeerId, claim: &HarvestClaim) -> Result<()> {
        let mut state = self.state();
        if state.holders.get(&id) == Some(&claim.pass) {
            state.holders.remove(&id);
        }
        Ok(())
    }

    async fn start_harvest(&self, id: PeerId, at: DateTime<Utc>) -> Result<()> {
        if let Some(p) = self.state().peers.get_mut(&id) {
            p.harvest.last_attempt_at = Some(at);
        }
        Ok(())
    }

    async fn finish_harvest(
        &self,
        id: PeerId,
        claim: Option<&HarvestClaim>,
        end: &HarvestEnd,
    ) -> Result<()> {
        let mut state = self.state();
        if let Some(before_end) = state.before_end.take() {
            before_end(&mut state);
        }
        if let Some(claim) = claim {
            if state.holders.get(&id) != Some(&claim.pass) {
                return Err(flaneur_store::Error::HarvestTaken { peer: id });
            }
            state.holders.remove(&id);
        }
        state.ends.push(end.clone());
        let Some(p) = state.peers.get_mut(&id) else {
            return Ok(());
        };
        match end {
            HarvestEnd::Success {
                at,
                next_attempt_at,
            } => {
                p.harvest.last_success_at = Some(*at);
                p.harvest.failures = 0;
                p.harvest.last_error = None;
                p.harvest.next_attempt_at = Some(*next_attempt_at);
            }
            HarvestEnd::Failure {
                error,
                next_attempt_at,
                ..
            } => {
                p.harvest.failures += 1;
                p.harvest.last_error = Some(error.clone());
                p.harvest.next_attempt_at = Some(*next_attempt_at);
            }
        }
        Ok(())
    }

    async fn collection_holder(&self, id: SequenceId) -> Result<Option<Holder>> {
        Ok(self.state().holder(id))
    }

    async fn record_skip(
        &self,
        peer: PeerId,
        id: SequenceId,
        skip: Skip,
        progress: &HarvestProgress,
    ) -> Result<()> {
        let mut state = self.state();
        state.forget_skip(peer, id);
        match skip {
            Skip::Conflict => state.conflicts.insert((peer, id)),
            Skip::Relayed => state.relayed.insert((peer, id)),
        };
        self.progress(&mut state, peer, progress);
        Ok(())
    }

    async fn released_skips(&self, peer: PeerId, limit: u32) -> Result<Vec<SequenceId>> {
        let state = self.state();
        let mut released: Vec<SequenceId> = (state.conflicts.iter())
            .chain(&state.relayed)
            .filter(|(p, id)| {
                *p == peer && state.holder(*id).is_none() && state.let_go.contains(id)
            })
            .map(|(_, id)| *id)
            .collect();
        released.sort();
        released.truncate(limit as usize);
        Ok(released)
    }

    async fn apply_remote_collection(
        &self,
        peer: PeerId,
        collection: &RemoteCollection,
        items: &[RemoteItem],
        progress: &HarvestProgress,
    ) -> Result<ApplyOutcome> {
        let mut state = self.state();
        let peer_url = state.peers[&peer].api_url.clone();
        let held = state.holder(collection.id);
        self.progress(&mut state, peer, progress);
        let origin = collection.origin(&peer_url);
        let origin_is_peer = state.peers.values().any(|p| p.api_url == origin);
        match Claim::of(peer, &peer_url, collection, held.as_ref(), origin_is_peer) {
            Claim::Take => {}
            Claim::Relayed { holder } => {
                state.relayed.insert((peer, collection.id));
                return Ok(ApplyOutcome::Relayed { holder });
            }
            Claim::Conflict { holder } => {
                state.conflicts.insert((peer, collection.id));
                return Ok(ApplyOutcome::Conflict { holder });
            }
        }
        if let Some(Holder::Peer { id: relay, .. }) = held {
            state.collections.remove(&(relay, collection.id));
        }
        state.forget_skip(peer, collection.id);
        state.removed_at_origin.remove(&collection.id);
        state.let_go.remove(&collection.id);
        state
            .collections
            .insert((peer, collection.id), (collection.clone(), items.to_vec()));
        state.applied.push(collection.id);
        self.progress(&mut state, peer, progress);
        Ok(ApplyOutcome::Applied)
    }

    async fn remove_remote_collection(
        &self,
        peer: PeerId,
        removal: &RemoteRemoval,
        progress: &HarvestProgress,
    ) -> Result<bool> {
        let mut state = self.state();
        let id = removal.id;
        let peer_url = state.peers[&peer].api_url.clone();
        // As a catalog does: the origin's word is kept against stale copies.
        let target = removal.takes_out(peer, &peer_url, state.holder(id).as_ref());
        let held = match target {
            Some((holder, removed_at)) => {
                state.collections.remove(&(holder, id));
                match removed_at {
                    Some(at) => state.removed_at_origin.insert(id, at).is_none(),
                    None => state.let_go.insert(id),
                };
                true
            }
            None => false,
        };
        let was_conflict = state.forget_skip(peer, id);
        if held {
            state.removed.push(id);
        }
        // As a catalog does, nothing is written for an id the peer holds nothing of.
        if held || was_conflict {
            self.progress(&mut state, peer, progress);
        }
        Ok(held)
    }

    async fn save_harvest_progress(&self, peer: PeerId, progress: &HarvestProgress) -> Result<()> {
        let mut state = self.state();
        self.progress(&mut state, peer, progress);
        Ok(())
    }
}
