//! One pass of a peer at a time: passes started together, a scheduled pass chosen before
//! another ended, a pass whose lease was taken over, and when a pass asked for by hand plans
//! the next one.

use std::sync::Arc;

use flaneur_model::{HarvestPassId, PeerSource};
use flaneur_service::harvest::NotRun;
use flaneur_store::{Catalog, SqliteCatalog};

use super::memory::State;
use super::*;

async fn sqlite(dir: &tempfile::TempDir) -> Arc<dyn Catalog> {
    let catalog = SqliteCatalog::open(&dir.path().join("catalog.sqlite"))
        .await
        .expect("catalog");
    Arc::new(catalog)
}

#[tokio::test]
async fn two_passes_of_one_peer_at_once_fetch_it_once() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let catalog = sqlite(&dir).await;
    let peer = MockPeer::start(collections(3, 2)).await;
    // Slow answers keep the first pass under way while the second starts.
    peer.set_trouble(Trouble::Slow(Duration::from_millis(100)));
    let declared = catalog
        .add_peer(&peer.api_url(), PeerSource::Config)
        .await
        .expect("peer declared");

    let limits = limits();
    let (a, b) = tokio::join!(
        harvest_peer(catalog.as_ref(), &declared, &limits, PassKind::OnDemand),
        harvest_peer(catalog.as_ref(), &declared, &limits, PassKind::OnDemand),
    );

    let (ran, left) = if a.not_run.is_none() { (a, b) } else { (b, a) };
    assert_eq!(ran.error, None, "{ran:?}");
    assert_eq!(ran.collections_applied, 3);
    assert!(
        matches!(left.not_run, Some(NotRun::Busy { until: Some(_) })),
        "{left:?}"
    );
    assert_eq!((left.requests, left.collections_applied), (0, 0));
    // Every request the peer received came from the pass that ran.
    assert_eq!(peer.requests().len() as u64, ran.requests);
    let harvest = catalog
        .peer(declared.id)
        .await
        .expect("read")
        .expect("peer");
    assert_eq!(harvest.harvest.leased_until, None, "released at the end");
    assert_eq!(harvest.harvest.nb_collections, 3);
}

#[tokio::test]
async fn a_scheduled_pass_chosen_before_another_ended_leaves_the_peer_alone() {
    let store = MemoryStore::default();
    let peer = MockPeer::start(collections(2, 1)).await;
    let declared = store.add_peer(&peer.api_url());
    let first = harvest_peer(&store, &declared, &limits(), PassKind::Scheduled).await;
    assert_eq!(first.error, None);
    peer.data().requests.clear();

    // Chosen from the peer as it was before the first pass, now harvested an interval ago.
    let late = harvest_peer(&store, &declared, &limits(), PassKind::Scheduled).await;

    assert_eq!(late.not_run, Some(NotRun::NotDue));
    assert!(peer.requests().is_empty());
    assert_eq!(store.state().ends.len(), 1);
    assert!(store.state().holders.is_empty(), "released");
}

#[tokio::test]
async fn a_pass_whose_lease_ran_out_and_was_taken_over_stops_and_records_nothing() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let catalog = sqlite(&dir).await;
    let peer = MockPeer::start(collections(4, 1)).await;
    peer.set_trouble(Trouble::Slow(Duration::from_millis(100)));
    let declared = catalog
        .add_peer(&peer.api_url(), PeerSource::Config)
        .await
        .expect("peer declared");
    // Leases that run out at once: the second pass takes the peer while the first reads.
    let limits = HarvestLimits {
        lease: Duration::ZERO,
        ..limits()
    };

    let first = harvest_peer(catalog.as_ref(), &declared, &limits, PassKind::OnDemand);
    let second = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        harvest_peer(catalog.as_ref(), &declared, &limits, PassKind::OnDemand).await
    };
    let (first, second) = tokio::join!(first, second);

    // Told apart from a failure: the pass stopped, but the peer is harvested all the same.
    assert!(first.taken_over, "{first:?}");
    assert_eq!(first.error, None, "{first:?}");
    assert_eq!(second.error, None, "{second:?}");
    assert!(!second.taken_over, "{second:?}");
    assert_eq!(second.not_run, None);
    let harvest = catalog
        .peer(declared.id)
        .await
        .expect("read")
        .expect("peer")
        .harvest;
    assert_eq!((harvest.failures, harvest.last_error), (0, None));
    assert_eq!(harvest.nb_collections, 4);
}

#[tokio::test]
async fn a_pass_taken_over_before_its_end_leaves_the_end_to_the_pass_holding_the_peer() {
    let peer = MockPeer::start(collections(2, 1)).await;
    let store = MemoryStore::default();
    let declared = store.add_peer(&peer.api_url());
    // Just before each end is written, another pass takes the peer, as one does once a lease
    // ran out.
    let take_over = |store: &MemoryStore| {
        let rival = HarvestPassId::new();
        let id = declared.id;
        store.state().before_end = Some(Box::new(move |state: &mut State| {
            state.holders.insert(id, rival);
        }));
        rival
    };

    // 1. A pass that went through: what it applied stays, its end is not written, and the
    //    peer stays the other pass's.
    let rival = take_over(&store);
    let report = harvest_peer(&store, &declared, &limits(), PassKind::OnDemand).await;
    assert!(report.taken_over, "{report:?}");
    assert_eq!(report.error, None, "{report:?}");
    assert_eq!(report.collections_applied, 2);
    {
        let state = store.state();
        assert_eq!(state.applied.len(), 2);
        assert!(state.ends.is_empty(), "{:?}", state.ends);
        assert_eq!(state.holders.get(&declared.id), Some(&rival));
    }
    let harvest = store.get(declared.id).harvest;
    assert_eq!((harvest.last_success_at, harvest.failures), (None, 0));

    // 2. A pass that failed says so, but counts no failure against the peer either.
    store.state().holders.clear();
    peer.set_trouble(Trouble::Body("oops", "text/plain"));
    take_over(&store);
    let report = harvest_peer(&store, &declared, &limits(), PassKind::OnDemand).await;
    assert!(report.taken_over, "{report:?}");
    assert!(report.error.is_some(), "{report:?}");
    assert!(store.state().ends.is_empty());
    let harvest = store.get(declared.id).harvest;
    assert_eq!((harvest.failures, harvest.last_error), (0, None));
}

#[tokio::test]
async fn a_pass_asked_for_by_hand_never_puts_the_next_scheduled_one_off() {
    let peer = MockPeer::start(collections(1, 1)).await;
    let store = MemoryStore::default();
    let declared = store.add_peer(&peer.api_url());
    let planned = Utc::now() + chrono::TimeDelta::minutes(5);
    store
        .state()
        .peers
        .get_mut(&declared.id)
        .expect("peer")
        .harvest
        .next_attempt_at = Some(planned);
    let next_attempt = || store.get(declared.id).harvest.next_attempt_at;

    // 1. An hour's interval here would put off the server's attempt in five minutes.
    let hourly = HarvestLimits {
        interval: Duration::from_secs(3600),
        ..limits()
    };
    let report = harvest_peer(&store, &declared, &hourly, PassKind::OnDemand).await;
    assert_eq!(report.error, None);
    assert_eq!(next_attempt(), Some(planned));

    // 2. A shorter interval brings it nearer.
    let report = harvest_peer(&store, &declared, &limits_every(60), PassKind::OnDemand).await;
    assert_eq!(report.error, None);
    let Some(HarvestEnd::Success { at, .. }) = store.state().ends.last().cloned() else {
        panic!("a success recorded");
    };
    assert_eq!(next_attempt(), Some(at + chrono::TimeDelta::seconds(60)));

    // 3. With no attempt planned, the pass plans from its own interval.
    store
        .state()
        .peers
        .get_mut(&declared.id)
        .expect("peer")
        .harvest
        .next_attempt_at = None;
    harvest_peer(&store, &declared, &hourly, PassKind::OnDemand).await;
    let Some(HarvestEnd::Success { at, .. }) = store.state().ends.last().cloned() else {
        panic!("a success recorded");
    };
    assert_eq!(next_attempt(), Some(at + chrono::TimeDelta::hours(1)));

    // 4. A scheduled pass plans from its own interval, even from an attempt that was due.
    store
        .state()
        .peers
        .get_mut(&declared.id)
        .expect("peer")
        .harvest
        .next_attempt_at = Some(Utc::now() - chrono::TimeDelta::minutes(1));
    harvest_peer(&store, &declared, &hourly, PassKind::Scheduled).await;
    let Some(HarvestEnd::Success { at, .. }) = store.state().ends.last().cloned() else {
        panic!("a success recorded");
    };
    assert_eq!(next_attempt(), Some(at + chrono::TimeDelta::hours(1)));
}

fn limits_every(seconds: u64) -> HarvestLimits {
    HarvestLimits {
        interval: Duration::from_secs(seconds),
        ..limits()
    }
}
