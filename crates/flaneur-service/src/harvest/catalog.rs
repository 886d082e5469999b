//! The catalog as the harvester's store: each method forwards to the catalog's method of the
//! same name, so any catalog (SQLite, PostgreSQL, or one behind `Arc<dyn Catalog>`) can be
//! harvested into.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use flaneur_model::{
    ApplyOutcome, HarvestClaim, HarvestEnd, HarvestProgress, Holder, Peer, PeerId,
    RemoteCollection, RemoteItem, RemoteRemoval, SequenceId, Skip,
};
use flaneur_store::{Catalog, Result};

use super::HarvestStore;

#[async_trait]
impl<C: Catalog + ?Sized> HarvestStore for C {
    async fn peers(&self) -> Result<Vec<Peer>> {
        Catalog::peers(self).await
    }

    async fn peer(&self, id: PeerId) -> Result<Option<Peer>> {
        Catalog::peer(self, id).await
    }

    async fn claim_harvest(&self, id: PeerId, claim: &HarvestClaim) -> Result<bool> {
        Catalog::claim_harvest(self, id, claim).await
    }

    async fn renew_harvest(&self, id: PeerId, claim: &HarvestClaim) -> Result<bool> {
        Catalog::renew_harvest(self, id, claim).await
    }

    async fn release_harvest(&self, id: PeerId, claim: &HarvestClaim) -> Result<()> {
        Catalog::release_harvest(self, id, claim).await
    }

    async fn start_harvest(&self, id: PeerId, at: DateTime<Utc>) -> Result<()> {
        Catalog::start_harvest(self, id, at).await
    }

    async fn finish_harvest(
        &self,
        id: PeerId,
        claim: Option<&HarvestClaim>,
        end: &HarvestEnd,
    ) -> Result<()> {
        Catalog::finish_harvest(self, id, claim, end).await
    }

    async fn collection_holder(&self, id: SequenceId) -> Result<Option<Holder>> {
        Catalog::collection_holder(self, id).await
    }

    async fn record_skip(
        &self,
        peer: PeerId,
        id: SequenceId,
        skip: Skip,
        progress: &HarvestProgress,
    ) -> Result<()> {
        Catalog::record_skip(self, peer, id, skip, progress).await
    }

    async fn released_skips(&self, peer: PeerId, limit: u32) -> Result<Vec<SequenceId>> {
        Catalog::released_skips(self, peer, limit).await
    }

    async fn apply_remote_collection(
        &self,
        peer: PeerId,
        collection: &RemoteCollection,
        items: &[RemoteItem],
        progress: &HarvestProgress,
    ) -> Result<ApplyOutcome> {
        Catalog::apply_remote_collection(self, peer, collection, items, progress).await
    }

    async fn remove_remote_collection(
        &self,
        peer: PeerId,
        removal: &RemoteRemoval,
        progress: &HarvestProgress,
    ) -> Result<bool> {
        Catalog::remove_remote_collection(self, peer, removal, progress).await
    }

    async fn save_harvest_progress(&self, peer: PeerId, progress: &HarvestProgress) -> Result<()> {
        Catalog::save_harvest_progress(self, peer, progress).await
    }
}
