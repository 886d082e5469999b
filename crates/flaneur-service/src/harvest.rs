//! Harvesting peers: asks each peer's public STAC API which collections changed since the last
//! visit, reads their items and hands them to the catalog, within limits on time, size and
//! pages so that a slow, broken or hostile peer costs little and blocks no other.
//!
//! One pass at a time harvests a peer, whatever the process: a pass first claims the peer's
//! lease in the catalog, renews it as it goes and releases it when it ends, and a peer another
//! pass holds is left alone (see [`flaneur_model::HarvestClaim`]).
//!
//! `client` talks to one peer and refuses to leave it, [`parse`] reads its JSON, and this
//! module runs the pass. What is stored, and how a remote collection replaces its previous
//! version, is the catalog's business, reached through [`HarvestStore`].

mod catalog;
mod client;
mod error;
pub mod parse;
mod schedule;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use flaneur_model::{
    ApplyOutcome, Claim, HarvestClaim, HarvestEnd, HarvestPassId, HarvestProgress, Holder, Peer,
    PeerId, RemoteCollection, RemoteItem, RemoteRemoval, SequenceId, Skip,
};
use futures::StreamExt;
use serde::Serialize;
use tracing::Instrument;
use url::Url;

use client::{PageTrail, PeerClient, next_link};
pub use error::HarvestError;
use parse::{EntryError, ListingEntry};
pub use schedule::{NotRun, PassKind, is_due};
use schedule::{hold, pass_end};

/// The bounds of one harvest pass. The defaults suit public instances of a few million
/// pictures harvested every quarter of an hour, and match the server's configuration
/// defaults; tests shrink them.
#[derive(Debug, Clone, PartialEq)]
pub struct HarvestLimits {
    /// Time allowed to open a connection to a peer (default 10 s).
    pub connect_timeout: Duration,
    /// Time allowed for one request, from connecting to the last byte (default 30 s).
    pub request_timeout: Duration,
    /// Time allowed for a whole pass of one peer (default 2 h); what was applied before it
    /// ran out stays, and the next pass resumes from there.
    pub budget: Duration,
    /// Largest answer read from a peer, in bytes (default 32 MiB); checked while the answer
    /// streams in, so a larger one is never held.
    pub max_response_bytes: u64,
    /// Largest collection or item kept, in bytes of JSON without its links (default 64 KiB).
    pub max_doc_bytes: usize,
    /// `limit` asked for each page of the changed-collections listing (default 100).
    pub collections_per_page: u32,
    /// `limit` asked for each page of a collection's items (default 1000).
    pub items_per_page: u32,
    /// Pages read at most in one listing before it is taken as endless (default 10 000).
    pub max_pages: u32,
    /// Items kept at most for one collection; a longer one is skipped (default 100 000).
    pub max_items_per_collection: usize,
    /// Bytes of item pages read at most for one collection, whose items are all held in
    /// memory until applied; a larger one is skipped (default 256 MiB).
    pub max_collection_bytes: u64,
    /// How far before the watermark a pass asks from (default 10 min): a change a peer
    /// stamped before the previous pass read its listing, but committed after, is older than
    /// the watermark and would be missed; collections listed again unchanged cost no more
    /// than their listing entry.
    pub relist_margin: Duration,
    /// Refused entries whose reasons are kept in the report (default 20).
    pub max_skip_reasons: usize,
    /// Collections skipped as relayed or conflicting, and let go by their holder since,
    /// fetched again at the end of a pass (default 100; the rest wait for the next pass).
    pub max_revisits: u32,
    /// Time between a successful pass and the next one (default 15 min).
    pub interval: Duration,
    /// Wait after a first failure, doubled at each failure in a row (default 1 min).
    pub backoff_initial: Duration,
    /// Longest wait after failures (default 6 h).
    pub backoff_max: Duration,
    /// Peers harvested at the same time by [`harvest_all`] (default 4).
    pub concurrency: usize,
    /// How long a pass's lease on its peer lasts without news from it (default 5 min). The
    /// pass renews it every third of it at most, at the pages it reads and the progress it
    /// saves; the peer of a process that died is free again within this delay.
    pub lease: Duration,
}

impl Default for HarvestLimits {
    fn default() -> HarvestLimits {
        HarvestLimits {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            budget: Duration::from_secs(2 * 3600),
            max_response_bytes: 32 * 1024 * 1024,
            max_doc_bytes: 64 * 1024,
            collections_per_page: 100,
            items_per_page: 1000,
            max_pages: 10_000,
            max_items_per_collection: 100_000,
            max_collection_bytes: 256 * 1024 * 1024,
            relist_margin: Duration::from_secs(10 * 60),
            max_skip_reasons: 20,
            max_revisits: 100,
            interval: Duration::from_secs(15 * 60),
            backoff_initial: Duration::from_secs(60),
            backoff_max: Duration::from_secs(6 * 3600),
            concurrency: 4,
            lease: Duration::from_secs(5 * 60),
        }
    }
}

impl HarvestLimits {
    /// How long to wait before trying a peer again after `failures` failed passes in a row
    /// (counting the one that just ended): `backoff_initial` doubled each time, at most
    /// `backoff_max`.
    pub fn backoff(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(32);
        self.backoff_initial
            .saturating_mul(2u32.saturating_pow(doublings))
            .min(self.backoff_max)
    }
}

/// What the catalog offers the harvester: every [`flaneur_store::Catalog`] implements it by
/// forwarding to its methods of the same names; tests may use a store of their own.
///
/// Every method fails with [`flaneur_store::Error`] when storage fails.
#[async_trait]
pub trait HarvestStore: Send + Sync {
    /// All declared peers.
    async fn peers(&self) -> flaneur_store::Result<Vec<Peer>>;
    /// One peer.
    async fn peer(&self, id: PeerId) -> flaneur_store::Result<Option<Peer>>;
    /// Claims the peer for a pass; `false` when another pass holds it.
    async fn claim_harvest(&self, id: PeerId, claim: &HarvestClaim) -> flaneur_store::Result<bool>;
    /// Renews the pass's lease; `false` when it no longer holds the peer.
    async fn renew_harvest(&self, id: PeerId, claim: &HarvestClaim) -> flaneur_store::Result<bool>;
    /// Frees the peer the pass holds.
    async fn release_harvest(&self, id: PeerId, claim: &HarvestClaim) -> flaneur_store::Result<()>;
    /// Records that a pass of the peer starts at `at`.
    async fn start_harvest(&self, id: PeerId, at: DateTime<Utc>) -> flaneur_store::Result<()>;
    /// Records how the pass ended and frees the peer, only while the pass `claim` names holds
    /// it ([`flaneur_store::Error::HarvestTaken`] otherwise); without a claim, whoever holds
    /// it.
    async fn finish_harvest(
        &self,
        id: PeerId,
        claim: Option<&HarvestClaim>,
        end: &HarvestEnd,
    ) -> flaneur_store::Result<()>;
    /// Who holds a collection's id here, if anybody does.
    async fn collection_holder(&self, id: SequenceId) -> flaneur_store::Result<Option<Holder>>;
    /// Records why the peer's collection is not held from it, saving `progress` with it.
    async fn record_skip(
        &self,
        peer: PeerId,
        id: SequenceId,
        skip: Skip,
        progress: &HarvestProgress,
    ) -> flaneur_store::Result<()>;
    /// Collections skipped from the peer whose holder let them go since (see
    /// [`flaneur_store::Catalog::released_skips`]).
    async fn released_skips(
        &self,
        peer: PeerId,
        limit: u32,
    ) -> flaneur_store::Result<Vec<SequenceId>>;
    /// Replaces the remote collection and its items, saving `progress` with them.
    async fn apply_remote_collection(
        &self,
        peer: PeerId,
        collection: &RemoteCollection,
        items: &[RemoteItem],
        progress: &HarvestProgress,
    ) -> flaneur_store::Result<ApplyOutcome>;
    /// Takes out a collection the peer lists as gone (see
    /// [`flaneur_store::Catalog::remove_remote_collection`]), saving `progress`; whether one was held.
    async fn remove_remote_collection(
        &self,
        peer: PeerId,
        removal: &RemoteRemoval,
        progress: &HarvestProgress,
    ) -> flaneur_store::Result<bool>;
    /// Saves where the pass stands.
    async fn save_harvest_progress(
        &self,
        peer: PeerId,
        progress: &HarvestProgress,
    ) -> flaneur_store::Result<()>;
}

/// What one pass of one peer did, for the command line and the logs.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct HarvestReport {
    /// The peer.
    pub peer_id: PeerId,
    /// Its API root.
    pub peer_url: String,
    /// Collections written (new or changed).
    pub collections_applied: u64,
    /// Collections listed but unchanged since the last pass.
    pub collections_unchanged: u64,
    /// Collections removed because the peer lists them as deleted.
    pub collections_removed: u64,
    /// Collections not written because their id belongs to local data or an unrelated peer.
    pub collections_conflicting: u64,
    /// Collections not written because the peer relays them and they are held here from
    /// their origin (or an earlier relay of it), or are this instance's own come back.
    pub collections_relayed: u64,
    /// Items written with the applied collections.
    pub items: u64,
    /// Collections and items refused as invalid.
    pub skipped: u64,
    /// The first reasons for refusals.
    pub skip_reasons: Vec<String>,
    /// Requests sent to the peer.
    pub requests: u64,
    /// Body bytes read from the peer.
    pub bytes_read: u64,
    /// How long the pass took.
    pub duration: Duration,
    /// Why the pass stopped before the end of the listing, when it did.
    pub error: Option<String>,
    /// Whether another pass took the peer over after this pass's lease ran out (a lease's
    /// term without a save or renewal): this pass stopped writing there, its end included,
    /// which the pass holding the peer now records. What it applied before stays, and no
    /// failure is counted against the peer.
    pub taken_over: bool,
    /// Why the pass did not run at all, when it did not: nothing was asked of the peer and
    /// nothing was written.
    pub not_run: Option<NotRun>,
}

impl HarvestReport {
    fn skip(&mut self, max_reasons: usize, reason: impl std::fmt::Display) {
        self.skipped += 1;
        if self.skip_reasons.len() < max_reasons {
            self.skip_reasons.push(reason.to_string());
        }
    }
}

/// Harvests every unpaused peer whose next attempt is due at `now`, a few at a time, each on
/// its own budget so that a slow or failing peer does not hold the others back.
///
/// # Errors
///
/// When the peers cannot be listed; a failing peer is reported in its own report instead.
pub async fn harvest_all<S: HarvestStore + ?Sized>(
    store: &S,
    limits: &HarvestLimits,
    now: DateTime<Utc>,
) -> Result<Vec<HarvestReport>, HarvestError> {
    let due: Vec<Peer> = store
        .peers()
        .await?
        .into_iter()
        .filter(|p| is_due(p, now))
        .collect();
    let reports = futures::stream::iter(due)
        .map(|peer| async move { harvest_peer(store, &peer, limits, PassKind::Scheduled).await })
        .buffer_unordered(limits.concurrency.max(1))
        .collect()
        .await;
    Ok(reports)
}

/// Runs one pass of `peer`: claims it (a peer another pass holds is left alone, see
/// [`HarvestReport::not_run`]), reads the collections changed since its watermark (or from
/// where an interrupted pass stopped), applies the changed ones with their items, removes the
/// deleted ones, records the end with the next attempt's time (see [`PassKind`]) and frees the
/// peer. A failure keeps what was applied and the progress, and sets a backoff. A pass whose
/// lease ran out and was taken by another pass stops writing, its end included, and leaves the
/// peer to that pass (see [`HarvestReport::taken_over`]).
///
/// The pass works from the peer as the catalog holds it once claimed, not from `peer`, which
/// may predate a pass that ended meanwhile.
pub async fn harvest_peer<S: HarvestStore + ?Sized>(
    store: &S,
    peer: &Peer,
    limits: &HarvestLimits,
    kind: PassKind,
) -> HarvestReport {
    let claim = HarvestClaim {
        pass: HarvestPassId::new(),
        term: limits.lease,
    };
    let span = tracing::info_span!(
        "harvest", peer.id = %peer.id, peer.url = %peer.api_url, pass.id = %claim.pass
    );
    async {
        let started = tokio::time::Instant::now();
        let mut report = HarvestReport {
            peer_id: peer.id,
            peer_url: peer.api_url.clone(),
            ..HarvestReport::default()
        };

        // 1. The peer is ours, and still to be harvested, or it is left alone.
        let held = match hold(store, peer.id, &claim, kind).await {
            Ok(Ok(held)) => held,
            Ok(Err(not_run)) => {
                tracing::debug!(?not_run, "peer left alone");
                report.not_run = Some(not_run);
                return report;
            }
            Err(err) => {
                let err = HarvestError::Store(err);
                tracing::warn!(error = %error_chain(&err), "peer not claimed; tried again later");
                report.error = Some(error_chain(&err));
                return report;
            }
        };

        // 2. The pass.
        let mut pass = Pass {
            store,
            peer: &held,
            limits,
            claim,
            renewed_at: tokio::time::Instant::now(),
            started_at: Utc::now(),
            peer_urls: std::collections::HashSet::new(),
            report: &mut report,
        };
        let outcome = pass.run().await;
        report.duration = started.elapsed();

        // 3. The end is written, freeing the peer in the same write, only while the pass
        //    holds the peer: a pass whose lease ran out and was taken, found so mid-pass or
        //    by this write, leaves its end to the pass holding the peer now rather than write
        //    over that pass's state. What it applied stays, and no failure is counted
        //    against the peer. If the write fails, the report says so, and the lease runs
        //    out on its own.
        report.taken_over = matches!(
            &outcome,
            Err(HarvestError::Store(
                flaneur_store::Error::HarvestTaken { .. }
            ))
        );
        if !report.taken_over {
            if let Err(err) = &outcome {
                report.error = Some(error_chain(err));
            }
            let end = pass_end(&held, limits, kind, &outcome);
            match store.finish_harvest(held.id, Some(&claim), &end).await {
                Ok(()) => {}
                Err(flaneur_store::Error::HarvestTaken { .. }) => report.taken_over = true,
                Err(err) => {
                    let err = HarvestError::Store(err);
                    tracing::error!(error = %error_chain(&err), "harvest end not recorded");
                    report.error.get_or_insert_with(|| error_chain(&err));
                }
            }
        }

        if report.taken_over {
            tracing::warn!(
                error = report.error.as_deref(),
                applied = report.collections_applied,
                requests = report.requests,
                "peer harvest taken over by another pass after this one's lease ran out; \
                 its end is left to that pass"
            );
            return report;
        }
        match &report.error {
            None => tracing::info!(
                applied = report.collections_applied,
                unchanged = report.collections_unchanged,
                removed = report.collections_removed,
                conflicting = report.collections_conflicting,
                relayed = report.collections_relayed,
                items = report.items,
                skipped = report.skipped,
                requests = report.requests,
                bytes = report.bytes_read,
                "peer harvested"
            ),
            Some(error) => tracing::warn!(
                error = %error,
                requests = report.requests,
                "peer harvest failed; retried after backoff"
            ),
        }
        report
    }
    .instrument(span)
    .await
}

/// One pass under way.
struct Pass<'a, S: ?Sized> {
    store: &'a S,
    peer: &'a Peer,
    limits: &'a HarvestLimits,
    /// The pass's lease on the peer.
    claim: HarvestClaim,
    /// When the lease was last renewed by [`Pass::keep_lease`].
    renewed_at: tokio::time::Instant,
    /// When the pass began, by this catalog's clock: the watermark never goes past it.
    started_at: DateTime<Utc>,
    /// The API roots of every peer declared when the pass began: a relay's copy of a
    /// collection whose origin is one of them is never taken (see [`Claim::of`]).
    peer_urls: std::collections::HashSet<String>,
    report: &'a mut HarvestReport,
}

impl<S: HarvestStore + ?Sized> Pass<'_, S> {
    async fn run(&mut self) -> Result<(), HarvestError> {
        self.store
            .start_harvest(self.peer.id, self.started_at)
            .await?;
        let peers = self.store.peers().await?;
        self.peer_urls = peers.into_iter().map(|p| p.api_url).collect();
        let mut client = PeerClient::new(&self.peer.api_url, self.limits)?;
        let result = match self.listing(&mut client).await {
            Ok(mut progress) => self.revisit(&mut client, &mut progress).await,
            Err(err) => Err(err),
        };
        self.report.requests = client.requests;
        self.report.bytes_read = client.bytes_read;
        result
    }

    /// Renews the lease once a third of it went by, before a page is read: reading the items
    /// of a large collection saves no progress for minutes. Stops the pass when another pass
    /// holds the peer now.
    async fn keep_lease(&mut self) -> Result<(), HarvestError> {
        if self.renewed_at.elapsed() < self.claim.term / 3 {
            return Ok(());
        }
        if !self.store.renew_harvest(self.peer.id, &self.claim).await? {
            let peer = self.peer.id;
            return Err(flaneur_store::Error::HarvestTaken { peer }.into());
        }
        self.renewed_at = tokio::time::Instant::now();
        Ok(())
    }

    /// Moves the watermark up to `updated`, but never past the start of this pass: a peer
    /// stamping an entry in the future (a clock ahead, or a lie) would otherwise put every
    /// change it makes before then out of the listing's reach. Such an entry is listed again
    /// at each pass until that time, and skipped as unchanged.
    fn advance(&self, progress: &mut HarvestProgress, updated: Option<DateTime<Utc>>) {
        let seen = updated.map(|at| at.min(self.started_at));
        progress.watermark = progress.watermark.max(seen);
    }

    /// Reads the changed-collections listing page by page, applying each entry in order;
    /// the progress it ended with.
    async fn listing(&mut self, client: &mut PeerClient) -> Result<HarvestProgress, HarvestError> {
        // Each save renews the lease, and fails when another pass took the peer over.
        // A watermark saved in the future (by a pass before this rule) is brought back too.
        let mut progress = HarvestProgress {
            watermark: self
                .peer
                .harvest
                .watermark
                .map(|at| at.min(self.started_at)),
            resume_url: None,
            claim: Some(self.claim),
        };
        let from_watermark = self.first_page(client, progress.watermark)?;

        // An interrupted pass goes on from the page it was reading; entries of that page it
        // already applied come back unchanged and are skipped. A saved address that is no
        // longer on the peer (its address changed) is dropped for the watermark.
        let mut resume = self.peer.harvest.resume_url.as_deref().and_then(|saved| {
            client
                .link(saved, &from_watermark)
                .inspect_err(|err| tracing::warn!(error = %err, "resume address dropped"))
                .ok()
        });
        let first = resume.clone().unwrap_or_else(|| from_watermark.clone());
        let mut trail = PageTrail::new(&first, self.limits.max_pages);
        let mut next = Some(first);

        while let Some(url) = next.take() {
            trail.enter(&url)?;
            self.keep_lease().await?;
            let page = match client.get_json(&url).await {
                // A page address the peer no longer understands (its pagination changed or
                // the page expired) would stop every pass: start over from the watermark,
                // which was saved with it, rather than fail again and again.
                Err(HarvestError::Status { status, .. })
                    if resume.as_ref() == Some(&url) && matches!(status, 400 | 404 | 410 | 422) =>
                {
                    tracing::warn!(status, "resume address refused; listing from the watermark");
                    resume = None;
                    next = Some(from_watermark.clone());
                    continue;
                }
                page => page?,
            };
            let entries = parse::page_entries(&page, "collections", &url)?;
            progress.resume_url = Some(url.to_string());
            for (index, entry) in entries.iter().enumerate() {
                client.check_budget()?;
                self.entry(client, entry, index, &mut progress).await?;
            }

            next = match next_link(&page, &url)? {
                Some(href) => Some(client.link(href, &url)?),
                None => None,
            };
            // Where the next page starts is saved before reading it, so that a failure there
            // does not replay this one.
            progress.resume_url = next.as_ref().map(Url::to_string);
            self.store
                .save_harvest_progress(self.peer.id, &progress)
                .await?;
        }
        Ok(progress)
    }

    /// Fetches again, one by one, the collections of this peer skipped as relayed or
    /// conflicting whose holder has let them go since (see
    /// [`HarvestStore::released_skips`]): they may not change at the peer for long, so its
    /// listing would not bring them. Up to [`HarvestLimits::max_revisits`] at a pass; the
    /// watermark stays where the listing left it.
    async fn revisit(
        &mut self,
        client: &mut PeerClient,
        progress: &mut HarvestProgress,
    ) -> Result<(), HarvestError> {
        let peer = self.peer.id;
        let released = self
            .store
            .released_skips(peer, self.limits.max_revisits)
            .await?;
        for id in released {
            client.check_budget()?;
            self.keep_lease().await?;
            let url = client.endpoint(&format!("collections/{id}"))?;
            let doc = match client.get_json(&url).await {
                Ok(doc) => doc,
                // No longer at the peer, or no longer public there: gone from it.
                Err(HarvestError::Status {
                    status: 403 | 404 | 410,
                    ..
                }) => {
                    let removal = RemoteRemoval {
                        id,
                        updated: None,
                        origin_updated: None,
                    };
                    self.store
                        .remove_remote_collection(peer, &removal, progress)
                        .await?;
                    continue;
                }
                Err(err) => return Err(err),
            };
            tracing::debug!(collection.id = %id, "skipped collection let go by its holder; fetched again");
            let entry = parse::collection_entry(&doc, 0, self.limits.max_doc_bytes);
            let answered = match &entry {
                Ok(ListingEntry::Collection(collection)) => Some(collection.id),
                Ok(ListingEntry::Tombstone(removal)) => Some(removal.id),
                Err(_) => None,
            };
            if answered.is_some_and(|answered| answered != id) {
                let reason = format!("collections/{id} answered another collection");
                self.report.skip(self.limits.max_skip_reasons, &reason);
                continue;
            }
            match entry {
                Ok(ListingEntry::Collection(collection)) => {
                    self.collection(client, *collection, progress).await?;
                }
                Ok(ListingEntry::Tombstone(removal)) => {
                    self.store
                        .remove_remote_collection(peer, &removal, progress)
                        .await?;
                }
                Err(err) => self.report.skip(self.limits.max_skip_reasons, &err),
            }
        }
        Ok(())
    }

    /// `{api}/collections?show_deleted=true&sortby=+updated&limit=…`, with
    /// `filter=updated >= '<watermark less the relist margin>'` once there is a watermark.
    fn first_page(
        &self,
        client: &PeerClient,
        watermark: Option<DateTime<Utc>>,
    ) -> Result<Url, HarvestError> {
        let mut url = client.endpoint("collections")?;
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("show_deleted", "true");
            if let Some(watermark) = watermark {
                let margin = chrono::TimeDelta::from_std(self.limits.relist_margin)
                    .unwrap_or(chrono::TimeDelta::zero());
                let from = watermark.checked_sub_signed(margin).unwrap_or(watermark);
                let at = from.to_rfc3339_opts(SecondsFormat::AutoSi, true);
                query.append_pair("filter", &format!("updated >= '{at}'"));
            }
            query.append_pair("sortby", "+updated");
            query.append_pair("limit", &self.limits.collections_per_page.to_string());
        }
        Ok(url)
    }

    /// Applies one listing entry: removes a tombstone, skips an unchanged collection, or
    /// reads and applies a changed one; the progress moves with it.
    async fn entry(
        &mut self,
        client: &mut PeerClient,
        entry: &serde_json::Value,
        index: usize,
        progress: &mut HarvestProgress,
    ) -> Result<(), HarvestError> {
        let peer = self.peer.id;
        let max_reasons = self.limits.max_skip_reasons;
        let collection = match parse::collection_entry(entry, index, self.limits.max_doc_bytes) {
            Ok(ListingEntry::Tombstone(removal)) => {
                tracing::debug!(collection.id = %removal.id, "remote collection deleted");
                // A tombstone listed again by `updated >= watermark` is known with its
                // `updated`, as a collection is: without moving past it, every tombstone of
                // the peer would be listed again at every pass.
                self.advance(progress, removal.updated);
                if self
                    .store
                    .remove_remote_collection(peer, &removal, progress)
                    .await?
                {
                    self.report.collections_removed += 1;
                }
                return Ok(());
            }
            Ok(ListingEntry::Collection(c)) => c,
            Err(err) => {
                tracing::debug!(error = %err, "remote collection refused");
                self.report.skip(max_reasons, &err);
                return Ok(());
            }
        };

        // `updated >= watermark` lists the last collection of the previous pass again, and a
        // resumed page lists those already applied: both are known with this `updated`.
        self.advance(progress, Some(collection.updated));
        self.collection(client, *collection, progress).await
    }

    /// Applies a collection of the peer unless it is unchanged or may not be held here: the
    /// holder and the claim first, then its items.
    async fn collection(
        &mut self,
        client: &mut PeerClient,
        collection: RemoteCollection,
        progress: &mut HarvestProgress,
    ) -> Result<(), HarvestError> {
        let peer = self.peer.id;
        let max_reasons = self.limits.max_skip_reasons;
        let holder = self.store.collection_holder(collection.id).await?;
        if let Some(held) = &holder
            && is_unchanged(held, peer, &self.peer.api_url, &collection)
        {
            self.report.collections_unchanged += 1;
            return Ok(());
        }

        // Whether the collection may be held is told by the listing entry and the holder
        // alone: one that may not costs no item request, at this pass or any later one.
        let origin = collection.origin(&self.peer.api_url);
        let origin_is_peer = self.peer_urls.contains(&origin);
        match Claim::of(
            peer,
            &self.peer.api_url,
            &collection,
            holder.as_ref(),
            origin_is_peer,
        ) {
            Claim::Take => {}
            Claim::Relayed { holder } => {
                tracing::debug!(
                    collection.id = %collection.id,
                    holder = %holder,
                    origin = %origin,
                    "relayed copy of a collection held from elsewhere or removed at its origin; skipped"
                );
                self.report.collections_relayed += 1;
                self.store
                    .record_skip(peer, collection.id, Skip::Relayed, progress)
                    .await?;
                return Ok(());
            }
            Claim::Conflict { holder } => {
                self.conflict(&collection, &holder);
                self.store
                    .record_skip(peer, collection.id, Skip::Conflict, progress)
                    .await?;
                return Ok(());
            }
        }

        // Items the peer serves wrong (not JSON, a wrong shape, too many, off the peer) are
        // its fault in this collection alone: the collection is skipped and the pass goes on,
        // rather than stop there at every attempt and hold back every later change of the
        // peer, deletions included. A peer unreachable or failing (5xx) stops the pass, to be
        // tried again from there.
        let refusal = match self.items(client, collection.id).await {
            Ok(Ok(items)) => Ok(items),
            Ok(Err(err)) => Err(err.to_string()),
            Err(err) if err.is_faulty_answer() => Err(error_chain(&err)),
            Err(err) => return Err(err),
        };
        let items = match refusal {
            Ok(items) => items,
            Err(reason) => {
                tracing::debug!(collection.id = %collection.id, %reason, "remote collection refused");
                self.report.skip(max_reasons, &reason);
                self.store.save_harvest_progress(peer, progress).await?;
                return Ok(());
            }
        };
        let applied = self
            .store
            .apply_remote_collection(peer, &collection, &items, progress)
            .await;
        match applied {
            // Data the catalog refuses (an item listed twice, a rank given twice) is the
            // peer's fault in this collection alone: skipping it lets the pass go on rather
            // than stop at the same place at every attempt.
            Err(flaneur_store::Error::Refused(reason)) => {
                tracing::warn!(collection.id = %collection.id, %reason, "remote collection refused");
                self.report.skip(max_reasons, &reason);
                self.store.save_harvest_progress(peer, progress).await?;
            }
            Err(err) => return Err(err.into()),
            Ok(ApplyOutcome::Applied) => {
                self.report.collections_applied += 1;
                self.report.items += items.len() as u64;
            }
            // A holder come since it was read, or an item's id held elsewhere: the catalog
            // recorded the conflict with the progress.
            Ok(ApplyOutcome::Conflict { holder }) => self.conflict(&collection, &holder),
            Ok(ApplyOutcome::Relayed { .. }) => self.report.collections_relayed += 1,
        }
        Ok(())
    }

    /// Counts a conflict, logging it as a warning for the first few of the pass only: a peer
    /// listing thousands would otherwise flood the log, and the pass's summary counts them.
    fn conflict(&mut self, collection: &RemoteCollection, holder: &str) {
        let message = "remote collection conflicts with data held here; not applied";
        let max_warned = self.limits.max_skip_reasons as u64;
        if self.report.collections_conflicting < max_warned {
            tracing::warn!(collection.id = %collection.id, holder = %holder, "{message}");
        } else {
            tracing::debug!(collection.id = %collection.id, holder = %holder, "{message}");
        }
        self.report.collections_conflicting += 1;
    }

    /// Reads all the items of a collection. The inner error refuses the collection alone
    /// (too many items); the outer one stops the pass.
    async fn items(
        &mut self,
        client: &mut PeerClient,
        collection: SequenceId,
    ) -> Result<Result<Vec<RemoteItem>, EntryError>, HarvestError> {
        let mut first = client.endpoint(&format!("collections/{collection}/items"))?;
        first
            .query_pairs_mut()
            .append_pair("limit", &self.limits.items_per_page.to_string());
        let mut trail = PageTrail::new(&first, self.limits.max_pages);
        let mut next = Some(first);
        let mut items = Vec::new();
        let mut listed = 0i64;
        let bytes_before = client.bytes_read;

        while let Some(url) = next.take() {
            trail.enter(&url)?;
            self.keep_lease().await?;
            let page = client.get_json(&url).await?;
            for entry in parse::page_entries(&page, "features", &url)? {
                listed += 1;
                match parse::item_entry(entry, collection, listed, self.limits.max_doc_bytes) {
                    Ok(item) => items.push(item),
                    Err(err) => {
                        tracing::trace!(error = %err, "remote item refused");
                        self.report.skip(self.limits.max_skip_reasons, &err);
                    }
                }
            }
            let bytes = client.bytes_read - bytes_before;
            if bytes > self.limits.max_collection_bytes {
                return Ok(Err(EntryError {
                    id: collection.to_string(),
                    field: "items",
                    reason: format!(
                        "take more than the {} bytes read for one collection",
                        self.limits.max_collection_bytes
                    ),
                }));
            }
            if items.len() > self.limits.max_items_per_collection {
                return Ok(Err(EntryError {
                    id: collection.to_string(),
                    field: "items",
                    reason: format!(
                        "are more than the {} kept for one collection",
                        self.limits.max_items_per_collection
                    ),
                }));
            }
            next = match next_link(&page, &url)? {
                Some(href) => Some(client.link(href, &url)?),
                None => None,
            };
        }
        Ok(Ok(items))
    }
}

/// Whether the collection `listed` by the peer `peer` at `peer_url` is the copy `held` holds:
/// the same peer's, of the same `updated`; or, for a relay's copy, of the same origin and
/// origin's time. A relay's own `updated` moves whenever it applies a copy again, as two
/// catalogs harvesting each other would at every pass, each taking the other's bump for a
/// change, when nothing changed at the origin. A relay telling no origin time (or one not
/// believed) has its copy taken once, and again only when it names one.
fn is_unchanged(held: &Holder, peer: PeerId, peer_url: &str, listed: &RemoteCollection) -> bool {
    let Holder::Peer {
        id,
        origin,
        updated,
        origin_updated,
        ..
    } = held
    else {
        return false;
    };
    if *id != peer {
        return false;
    }
    let is_relayed = origin != peer_url;
    *updated == Some(listed.updated)
        || (is_relayed
            && *origin == listed.origin(peer_url)
            && *origin_updated == listed.origin_updated(peer_url))
}

/// The error and its sources, as one line.
fn error_chain(err: &HarvestError) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    // Addresses in the text come from the peer and can be long: what is stored and logged
    // stays readable.
    if let Some((cut, _)) = text.char_indices().nth(MAX_ERROR_CHARS) {
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// Characters of an error's text kept in a peer's harvest state.
const MAX_ERROR_CHARS: usize = 1000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_first_wait_up_to_the_cap() {
        let limits = HarvestLimits::default();
        let mins = |n| limits.backoff(n).as_secs() / 60;
        assert_eq!([mins(1), mins(2), mins(3), mins(4)], [1, 2, 4, 8]);
        assert_eq!(mins(9), 256);
        assert_eq!(mins(10), 360);
        assert_eq!(mins(u32::MAX), 360);
    }

    #[test]
    fn a_relays_copy_is_unchanged_while_its_origin_and_origin_time_are() {
        const R: &str = "https://relay.test/api";
        const O: &str = "https://origin.test/api";
        let at = |day: u32| {
            DateTime::parse_from_rfc3339(&format!("2026-01-{day:02}T00:00:00Z"))
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_default()
        };
        let peer = PeerId::new();
        let held = |origin_updated: Option<DateTime<Utc>>| Holder::Peer {
            id: peer,
            api_url: R.to_owned(),
            origin: O.to_owned(),
            updated: Some(at(1)),
            origin_updated,
        };
        let listed = |origin: &str, origin_updated: Option<&str>| {
            let mut doc = serde_json::Map::new();
            doc.insert(flaneur_model::ORIGIN_KEY.to_owned(), origin.into());
            if let Some(at) = origin_updated {
                doc.insert(flaneur_model::ORIGIN_UPDATED_KEY.to_owned(), at.into());
            }
            RemoteCollection {
                id: SequenceId::new(),
                updated: at(9),
                is_deleted: false,
                title: String::new(),
                author: flaneur_model::RemoteAuthor::default(),
                doc,
            }
        };
        let day5 = Some("2026-01-05T00:00:00Z");
        // The relay's `updated` moved (day 9), its origin's time did not.
        assert!(is_unchanged(&held(Some(at(5))), peer, R, &listed(O, day5)));
        assert!(is_unchanged(&held(None), peer, R, &listed(O, None)));
        // The origin's time moved, or came, or the origin named changed: a change.
        assert!(!is_unchanged(&held(Some(at(4))), peer, R, &listed(O, day5)));
        assert!(!is_unchanged(&held(None), peer, R, &listed(O, day5)));
        let elsewhere = "https://elsewhere.test/api";
        assert!(!is_unchanged(
            &held(Some(at(5))),
            peer,
            R,
            &listed(elsewhere, day5)
        ));
        // Another peer's copy is never this one's.
        assert!(!is_unchanged(
            &held(Some(at(5))),
            PeerId::new(),
            R,
            &listed(O, day5)
        ));
    }

    #[test]
    fn error_texts_kept_for_a_peer_are_bounded() {
        let err = HarvestError::Loop {
            url: format!("http://peer.test/api/{}", "é".repeat(100_000)),
        };
        let text = error_chain(&err);
        assert_eq!(text.chars().count(), MAX_ERROR_CHARS + 1);
        assert!(text.starts_with("link http://peer.test/api/é") && text.ends_with('…'));
    }
}
