//! The lease on a peer's harvest: one pass holds a peer at a time, renews its lease as it goes
//! and frees the peer when it ends; a lease nobody renews runs out; a pass that lost its
//! lease writes nothing more, its end included. Also how pausing a peer leaves its next
//! attempt.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use flaneur_model::{
    ApplyOutcome, HarvestClaim, HarvestEnd, HarvestPassId, HarvestProgress, PeerId, PeerSource,
    RemoteAuthor, RemoteCollection, SequenceId,
};
use flaneur_store::{Catalog, Error};
use serde_json::Map;

use crate::backend::catalog_contracts;
use crate::federation::removal;

catalog_contracts! {
    one_pass_at_a_time_holds_a_peer_until_it_releases_it => claims;
    a_lease_nobody_renews_runs_out_and_its_pass_writes_nothing_more => expiry;
    renewing_or_saving_progress_keeps_the_peer_past_the_first_term => renewal;
    a_pass_ends_only_while_it_holds_the_peer_and_its_end_frees_it => fenced_end;
    a_paused_peer_has_no_next_attempt => paused;
}

const HOUR: Duration = Duration::from_secs(3600);

fn claim(term: Duration) -> HarvestClaim {
    HarvestClaim {
        pass: HarvestPassId::new(),
        term,
    }
}

async fn peer(catalog: &dyn Catalog) -> PeerId {
    catalog
        .add_peer("https://peer.example/api", PeerSource::Config)
        .await
        .expect("peer")
        .id
}

async fn leased_until(catalog: &dyn Catalog, id: PeerId) -> Option<chrono::DateTime<Utc>> {
    let peer = catalog.peer(id).await.expect("read").expect("peer");
    peer.harvest.leased_until
}

/// Progress of the pass `claim`, at a watermark `seconds` after a fixed instant.
fn progress(seconds: i64, claim: Option<HarvestClaim>) -> HarvestProgress {
    HarvestProgress {
        watermark: Utc.timestamp_opt(1_700_000_000 + seconds, 0).single(),
        resume_url: None,
        claim,
    }
}

/// Lets a lease of zero term run out: the catalog's clock moves on.
async fn run_out() {
    tokio::time::sleep(Duration::from_millis(5)).await;
}

async fn claims(catalog: &dyn Catalog) {
    let id = peer(catalog).await;
    let (first, second) = (claim(HOUR), claim(HOUR));
    assert_eq!(leased_until(catalog, id).await, None);

    // 1. Two passes claim at once: one gets the peer, the other is refused.
    let (a, b) = tokio::join!(
        catalog.claim_harvest(id, &first),
        catalog.claim_harvest(id, &second)
    );
    let (a, b) = (a.expect("claim"), b.expect("claim"));
    assert!(a != b, "one claim and one only succeeds: {a} {b}");
    let (holder, other) = if a { (first, second) } else { (second, first) };
    let until = leased_until(catalog, id).await.expect("leased");
    assert!(
        until > Utc::now() + chrono::TimeDelta::minutes(50),
        "{until}"
    );
    assert!(!catalog.claim_harvest(id, &other).await.expect("claim"));
    assert!(!catalog.renew_harvest(id, &other).await.expect("renew"));

    // 2. The holder claims again as well as it renews; another pass's release changes nothing.
    assert!(catalog.claim_harvest(id, &holder).await.expect("claim"));
    catalog.release_harvest(id, &other).await.expect("release");
    assert!(leased_until(catalog, id).await.is_some());
    assert!(!catalog.claim_harvest(id, &other).await.expect("claim"));

    // 3. Released, the peer is free at once; the former holder cannot renew.
    catalog.release_harvest(id, &holder).await.expect("release");
    assert_eq!(leased_until(catalog, id).await, None);
    assert!(!catalog.renew_harvest(id, &holder).await.expect("renew"));
    assert!(catalog.claim_harvest(id, &other).await.expect("claim"));

    // 4. A peer that does not exist is claimed by no one.
    assert!(
        !catalog
            .claim_harvest(PeerId::new(), &holder)
            .await
            .expect("claim")
    );
}

async fn expiry(catalog: &dyn Catalog) {
    let id = peer(catalog).await;
    let lapsed = claim(Duration::ZERO);
    assert!(catalog.claim_harvest(id, &lapsed).await.expect("claim"));
    catalog
        .save_harvest_progress(id, &progress(5, Some(lapsed)))
        .await
        .expect("progress of the holder");
    run_out().await;

    // 1. Nobody renewed it: another pass takes the peer.
    let current = claim(HOUR);
    assert!(catalog.claim_harvest(id, &current).await.expect("claim"));

    // 2. The lapsed pass can neither renew nor write: not its progress, nor a collection
    //    with it.
    assert!(!catalog.renew_harvest(id, &lapsed).await.expect("renew"));
    let saved = catalog
        .save_harvest_progress(id, &progress(9, Some(lapsed)))
        .await;
    assert!(
        matches!(saved, Err(Error::HarvestTaken { peer }) if peer == id),
        "{saved:?}"
    );
    let collection = RemoteCollection {
        id: SequenceId::new(),
        updated: Utc::now(),
        is_deleted: false,
        title: "late".to_owned(),
        author: RemoteAuthor::default(),
        doc: Map::new(),
    };
    let applied = catalog
        .apply_remote_collection(id, &collection, &[], &progress(9, Some(lapsed)))
        .await;
    assert!(
        matches!(applied, Err(Error::HarvestTaken { .. })),
        "{applied:?}"
    );
    let removed = catalog
        .remove_remote_collection(id, &removal(collection.id), &progress(9, Some(lapsed)))
        .await;
    assert!(
        matches!(removed, Err(Error::HarvestTaken { .. })),
        "{removed:?}"
    );
    let held = catalog
        .remote_collection_updated(id, collection.id)
        .await
        .expect("read");
    assert_eq!(held, None);
    let harvest = catalog.peer(id).await.expect("read").expect("peer").harvest;
    assert_eq!(harvest.watermark, progress(5, None).watermark);

    // 3. The current holder writes as usual.
    assert_eq!(
        catalog
            .apply_remote_collection(id, &collection, &[], &progress(9, Some(current)))
            .await
            .expect("apply"),
        ApplyOutcome::Applied
    );
    let harvest = catalog.peer(id).await.expect("read").expect("peer").harvest;
    assert_eq!(harvest.watermark, progress(9, None).watermark);
}

async fn renewal(catalog: &dyn Catalog) {
    let id = peer(catalog).await;
    let other = claim(HOUR);

    // Renewed for an hour before its first term ran out.
    let renewed = claim(Duration::ZERO);
    assert!(catalog.claim_harvest(id, &renewed).await.expect("claim"));
    let renewed = HarvestClaim {
        term: HOUR,
        ..renewed
    };
    assert!(catalog.renew_harvest(id, &renewed).await.expect("renew"));
    run_out().await;
    assert!(!catalog.claim_harvest(id, &other).await.expect("claim"));
    catalog
        .release_harvest(id, &renewed)
        .await
        .expect("release");

    // Renewed by saving progress.
    let saving = claim(Duration::ZERO);
    assert!(catalog.claim_harvest(id, &saving).await.expect("claim"));
    let saving = HarvestClaim {
        term: HOUR,
        ..saving
    };
    catalog
        .save_harvest_progress(id, &progress(5, Some(saving)))
        .await
        .expect("progress");
    run_out().await;
    assert!(!catalog.claim_harvest(id, &other).await.expect("claim"));
}

/// An instant `seconds` after a fixed one.
fn at(seconds: i64) -> chrono::DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + seconds, 0)
        .single()
        .expect("instant")
}

async fn fenced_end(catalog: &dyn Catalog) {
    let id = peer(catalog).await;
    let harvest = async || catalog.peer(id).await.expect("read").expect("peer").harvest;
    let success = HarvestEnd::Success {
        at: at(10),
        next_attempt_at: at(20),
    };
    let failure = HarvestEnd::Failure {
        at: at(30),
        error: "peer answered 503".to_owned(),
        next_attempt_at: at(40),
    };

    // 1. A pass's end is written and frees the peer at once.
    let first = claim(HOUR);
    assert!(catalog.claim_harvest(id, &first).await.expect("claim"));
    catalog
        .finish_harvest(id, Some(&first), &success)
        .await
        .expect("finish");
    let ended = harvest().await;
    assert_eq!(ended.last_success_at, Some(at(10)));
    assert_eq!(ended.next_attempt_at, Some(at(20)));
    assert_eq!(ended.leased_until, None);

    // 2. A pass whose lease ran out and was taken cannot end: the pass holding the peer now
    //    keeps its lease, its progress and the state it found.
    let lapsed = claim(Duration::ZERO);
    assert!(catalog.claim_harvest(id, &lapsed).await.expect("claim"));
    run_out().await;
    let current = claim(HOUR);
    assert!(catalog.claim_harvest(id, &current).await.expect("claim"));
    let mut saved = progress(9, Some(current));
    saved.resume_url = Some("https://peer.example/api/collections?page=2".to_owned());
    catalog
        .save_harvest_progress(id, &saved)
        .await
        .expect("progress");
    let before = harvest().await;
    for end in [&failure, &success] {
        let ended = catalog.finish_harvest(id, Some(&lapsed), end).await;
        assert!(
            matches!(ended, Err(Error::HarvestTaken { peer }) if peer == id),
            "{ended:?}"
        );
    }
    assert_eq!(harvest().await, before);
    assert_eq!(before.failures, 0);
    assert_eq!(before.resume_url, saved.resume_url);
    assert!(
        !catalog
            .claim_harvest(id, &claim(HOUR))
            .await
            .expect("claim")
    );

    // 3. The holder ends as usual, freeing the peer.
    catalog
        .finish_harvest(id, Some(&current), &failure)
        .await
        .expect("finish");
    let ended = harvest().await;
    assert_eq!(ended.failures, 1);
    assert_eq!(ended.last_error.as_deref(), Some("peer answered 503"));
    assert_eq!(ended.leased_until, None);

    // 4. An end without a claim is written whoever holds the peer, and leaves the lease.
    let holder = claim(HOUR);
    assert!(catalog.claim_harvest(id, &holder).await.expect("claim"));
    let until = harvest().await.leased_until;
    catalog
        .finish_harvest(id, None, &success)
        .await
        .expect("finish");
    let ended = harvest().await;
    assert_eq!((ended.failures, ended.leased_until), (0, until));
    assert!(
        !catalog
            .claim_harvest(id, &claim(HOUR))
            .await
            .expect("claim")
    );

    // 5. A pass ending on a peer removed meanwhile is told it no longer holds it.
    catalog.remove_peer(id).await.expect("remove");
    let ended = catalog.finish_harvest(id, Some(&holder), &success).await;
    assert!(
        matches!(ended, Err(Error::HarvestTaken { .. })),
        "{ended:?}"
    );
}

async fn paused(catalog: &dyn Catalog) {
    let id = peer(catalog).await;
    let next = Utc
        .timestamp_opt(1_700_000_090, 0)
        .single()
        .expect("instant");
    let success = HarvestEnd::Success {
        at: Utc::now(),
        next_attempt_at: next,
    };
    let next_attempt = async || {
        let peer = catalog.peer(id).await.expect("read").expect("peer");
        peer.harvest.next_attempt_at
    };
    catalog
        .finish_harvest(id, None, &success)
        .await
        .expect("finish");
    assert_eq!(next_attempt().await, Some(next));

    // Paused, no attempt is planned, not even by a pass that ends after the pause.
    assert!(catalog.set_peer_paused(id, true).await.expect("pause"));
    assert_eq!(next_attempt().await, None);
    catalog
        .finish_harvest(id, None, &success)
        .await
        .expect("finish");
    let failure = HarvestEnd::Failure {
        at: Utc::now(),
        error: "peer answered 503".to_owned(),
        next_attempt_at: next,
    };
    catalog
        .finish_harvest(id, None, &failure)
        .await
        .expect("finish");
    assert_eq!(next_attempt().await, None);

    // Resumed, the peer is due at once.
    assert!(catalog.set_peer_paused(id, false).await.expect("resume"));
    assert_eq!(next_attempt().await, None);
}
