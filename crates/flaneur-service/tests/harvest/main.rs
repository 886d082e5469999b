//! Harvesting mock peers served on 127.0.0.1 into an in-memory store: full and incremental
//! passes, deletions, resuming, one pass of a peer at a time, and every way a peer can fail
//! or misbehave.

mod catalog;
mod lease;
mod memory;
mod peer;

use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use flaneur_model::{HarvestEnd, Projection, SequenceId};
use flaneur_service::harvest::{HarvestLimits, HarvestReport, PassKind, harvest_all, harvest_peer};
use memory::MemoryStore;
use peer::{MockPeer, Trouble, collections, seq_id};

/// Small pages so that few collections span several of them, and short waits.
fn limits() -> HarvestLimits {
    HarvestLimits {
        collections_per_page: 2,
        items_per_page: 2,
        request_timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(5),
        relist_margin: Duration::ZERO,
        ..HarvestLimits::default()
    }
}

fn seq(n: usize) -> SequenceId {
    seq_id(n).parse().expect("test id")
}

/// One pass of the peer as the store holds it now, asked for whatever its schedule.
async fn pass(store: &MemoryStore, peer: &MockPeer, limits: &HarvestLimits) -> HarvestReport {
    let declared = store
        .state()
        .peers
        .values()
        .find(|p| p.api_url == peer.api_url())
        .cloned()
        .expect("peer declared");
    harvest_peer(store, &declared, limits, PassKind::OnDemand).await
}

fn listing_requests(peer: &MockPeer) -> Vec<String> {
    let requests = peer.requests();
    requests
        .into_iter()
        .filter(|r| r.starts_with("/api/collections?"))
        .collect()
}

fn item_requests(peer: &MockPeer) -> usize {
    peer.requests()
        .iter()
        .filter(|r| r.contains("/items?"))
        .count()
}

mod passes {
    //! Passes that go through: first, incremental, deletions and resuming.

    use super::*;

    #[tokio::test]
    async fn first_harvest_reads_every_page_of_collections_and_items() {
        let peer = MockPeer::start(collections(5, 3)).await;
        let store = MemoryStore::default();
        let declared = store.add_peer(&peer.api_url());

        let report = pass(&store, &peer, &limits()).await;

        assert_eq!(report.error, None);
        assert_eq!((report.collections_applied, report.items), (5, 15));
        // 3 listing pages, then 2 item pages for each of the 5 collections.
        assert_eq!(report.requests, 13);
        assert!(report.bytes_read > 0);
        let listing = listing_requests(&peer);
        assert_eq!(listing.len(), 3);
        assert_eq!(
            listing[0],
            "/api/collections?limit=2&show_deleted=true&sortby=%2Bupdated"
        );

        let state = store.state();
        assert_eq!(state.applied, (1..=5).map(seq).collect::<Vec<_>>());
        let (collection, items) = &state.collections[&(declared.id, seq(2))];
        assert_eq!(collection.author.name.as_deref(), Some("alice"));
        assert_eq!(items.iter().map(|i| i.rank).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(items[0].projection, Projection::Equirectangular);
        assert!(!items[0].doc.contains_key("links"));
        let harvest = &state.peers[&declared.id].harvest;
        assert_eq!(harvest.watermark, Some(peer.data().collections[4].updated));
        assert_eq!(harvest.resume_url, None);
        assert_eq!(harvest.failures, 0);
        assert!(matches!(state.ends[..], [HarvestEnd::Success { .. }]));
    }

    #[tokio::test]
    async fn incremental_harvest_asks_from_the_watermark_and_skips_unchanged_collections() {
        let peer = MockPeer::start(collections(5, 3)).await;
        let store = MemoryStore::default();
        store.add_peer(&peer.api_url());
        pass(&store, &peer, &limits()).await;
        let watermark = peer.data().collections[4].updated;
        peer.data().requests.clear();

        peer.touch(2, false);
        let report = pass(&store, &peer, &limits()).await;

        assert_eq!(report.error, None);
        assert_eq!(
            (report.collections_applied, report.collections_unchanged),
            (1, 1)
        );
        let at = watermark.to_rfc3339_opts(SecondsFormat::AutoSi, true);
        let filter: String =
            url::form_urlencoded::byte_serialize(format!("updated >= '{at}'").as_bytes()).collect();
        assert_eq!(
            listing_requests(&peer),
            [format!(
                "/api/collections?filter={filter}&limit=2&show_deleted=true&sortby=%2Bupdated"
            )]
        );
        // Only the changed collection's items were read again.
        assert_eq!(item_requests(&peer), 2);
        assert_eq!(report.requests, 3);
        assert_eq!(store.state().applied.len(), 6);
    }

    #[tokio::test]
    async fn tombstones_remove_held_collections() {
        let peer = MockPeer::start(collections(3, 1)).await;
        let store = MemoryStore::default();
        let declared = store.add_peer(&peer.api_url());
        pass(&store, &peer, &limits()).await;

        peer.touch(1, true);
        let report = pass(&store, &peer, &limits()).await;

        assert_eq!(report.error, None);
        assert_eq!(report.collections_removed, 1);
        let state = store.state();
        assert_eq!(state.removed, [seq(1)]);
        assert!(!state.collections.contains_key(&(declared.id, seq(1))));
        assert!(state.collections.contains_key(&(declared.id, seq(2))));
    }

    #[tokio::test]
    async fn the_watermark_moves_past_tombstones_that_tell_when_they_went() {
        let peer = MockPeer::start(collections(3, 1)).await;
        let store = MemoryStore::default();
        let declared = store.add_peer(&peer.api_url());
        pass(&store, &peer, &limits()).await;

        // A GeoVisio tombstone tells no time: the watermark stays where it was.
        peer.touch(1, true);
        let before = store.state().peers[&declared.id].harvest.watermark;
        pass(&store, &peer, &limits()).await;
        let watermark = |store: &MemoryStore| store.state().peers[&declared.id].harvest.watermark;
        assert_eq!(watermark(&store), before);

        // A Flâneur one does, and the next pass asks from there.
        peer.data().dated_tombstones = true;
        peer.touch(2, true);
        let report = pass(&store, &peer, &limits()).await;
        assert_eq!(report.error, None);
        assert_eq!(report.collections_removed, 1);
        assert_eq!(watermark(&store), Some(peer.data().collections[1].updated));
    }

    #[tokio::test]
    async fn an_entry_stamped_in_the_future_leaves_later_changes_in_reach() {
        let peer = MockPeer::start(collections(3, 1)).await;
        peer.data().collections[0].updated = Utc::now() + chrono::TimeDelta::days(365);
        let store = MemoryStore::default();
        let declared = store.add_peer(&peer.api_url());
        pass(&store, &peer, &limits()).await;
        let watermark = store.state().peers[&declared.id].harvest.watermark;
        assert!(
            watermark.is_some_and(|at| at <= Utc::now()),
            "{watermark:?}"
        );

        // A change the peer stamps now, before the future instant, is still listed.
        peer.data().collections[1].updated = Utc::now();
        let report = pass(&store, &peer, &limits()).await;

        assert_eq!(report.error, None);
        assert_eq!(
            (report.collections_applied, report.collections_unchanged),
            (1, 1)
        );
    }

    #[tokio::test]
    async fn a_failed_pass_resumes_at_its_page_without_applying_twice_or_missing_any() {
        let peer = MockPeer::start(collections(5, 1)).await;
        let store = MemoryStore::default();
        let declared = store.add_peer(&peer.api_url());
        // The items of the 4th collection, second on the second listing page, fail once.
        peer.set_trouble(Trouble::ItemsFailOnce(seq_id(4)));

        let report = pass(&store, &peer, &limits()).await;
        let error = report.error.expect("first pass fails");
        assert!(error.contains("HTTP status 500"), "{error}");
        assert!(error.contains(&seq_id(4)), "{error}");
        assert_eq!(report.collections_applied, 3);
        let stored = store.get(declared.id).harvest;
        let resume = stored.resume_url.expect("resume address saved");
        assert!(resume.contains("offset=1"), "{resume}");
        assert_eq!(stored.watermark, Some(peer.data().collections[2].updated));
        assert_eq!(stored.failures, 1);
        peer.data().requests.clear();

        let report = pass(&store, &peer, &limits()).await;

        assert_eq!(report.error, None);
        assert!(listing_requests(&peer)[0].contains("offset=1"));
        assert_eq!(
            (report.collections_applied, report.collections_unchanged),
            (2, 1)
        );
        assert_eq!(store.state().applied, (1..=5).map(seq).collect::<Vec<_>>());
        assert_eq!(store.get(declared.id).harvest.resume_url, None);
    }

    #[tokio::test]
    async fn a_resume_address_the_peer_refuses_gives_way_to_the_watermark() {
        let peer = MockPeer::start(collections(3, 1)).await;
        let store = MemoryStore::default();
        let declared = store.add_peer(&peer.api_url());
        pass(&store, &peer, &limits()).await;
        let watermark = store.get(declared.id).harvest.watermark;
        let saved = format!("{}/collections?limit=2&offset=7", peer.api_url());
        let elsewhere = "http://192.0.2.1/api/collections?offset=1".to_owned();
        peer.set_trouble(Trouble::RefuseOffsets);

        for resume in [saved, elsewhere] {
            store
                .state()
                .peers
                .get_mut(&declared.id)
                .expect("peer")
                .harvest
                .resume_url = Some(resume);
            peer.data().requests.clear();

            let report = pass(&store, &peer, &limits()).await;

            assert_eq!(report.error, None);
            assert_eq!(report.collections_unchanged, 1);
            assert!(
                listing_requests(&peer)
                    .last()
                    .expect("listed")
                    .contains("filter=")
            );
            let harvest = store.get(declared.id).harvest;
            assert_eq!((harvest.watermark, harvest.resume_url), (watermark, None));
        }
    }

    #[tokio::test]
    async fn a_collection_over_the_item_cap_is_skipped_and_the_pass_goes_on() {
        let mut listed = collections(3, 1);
        listed[1].items = 5;
        let peer = MockPeer::start(listed).await;
        let store = MemoryStore::default();
        store.add_peer(&peer.api_url());
        let limits = HarvestLimits {
            max_items_per_collection: 4,
            ..limits()
        };

        let report = pass(&store, &peer, &limits).await;

        assert_eq!(report.error, None);
        assert_eq!((report.collections_applied, report.skipped), (2, 1));
        assert!(report.skip_reasons[0].contains(&seq_id(2)));
        assert!(report.skip_reasons[0].contains("more than the 4"));
        assert_eq!(store.state().applied, [seq(1), seq(3)]);
    }

    #[tokio::test]
    async fn incremental_harvest_asks_from_a_margin_before_the_watermark() {
        let peer = MockPeer::start(collections(5, 1)).await;
        let store = MemoryStore::default();
        store.add_peer(&peer.api_url());
        let limits = HarvestLimits {
            relist_margin: Duration::from_secs(90),
            collections_per_page: 10,
            ..limits()
        };
        pass(&store, &peer, &limits).await;
        let watermark = peer.data().collections[4].updated;
        peer.data().requests.clear();

        let report = pass(&store, &peer, &limits).await;

        // Collections are a minute apart: the last two are listed again, and skipped.
        assert_eq!(report.error, None);
        assert_eq!(
            (report.collections_applied, report.collections_unchanged),
            (0, 2)
        );
        let from = watermark - chrono::TimeDelta::seconds(90);
        let at = from.to_rfc3339_opts(SecondsFormat::AutoSi, true);
        let filter: String =
            url::form_urlencoded::byte_serialize(format!("updated >= '{at}'").as_bytes()).collect();
        assert_eq!(
            listing_requests(&peer),
            [format!(
                "/api/collections?filter={filter}&limit=10&show_deleted=true&sortby=%2Bupdated"
            )]
        );
        assert_eq!(item_requests(&peer), 0);
    }

    #[tokio::test]
    async fn a_collection_over_the_byte_cap_is_skipped_and_the_pass_goes_on() {
        let mut listed = collections(3, 1);
        listed[1].items = 6;
        let peer = MockPeer::start(listed).await;
        let store = MemoryStore::default();
        store.add_peer(&peer.api_url());
        // One page of two items is under 2 KiB; three pages are not.
        let limits = HarvestLimits {
            max_collection_bytes: 2048,
            ..limits()
        };

        let report = pass(&store, &peer, &limits).await;

        assert_eq!(report.error, None);
        assert_eq!((report.collections_applied, report.skipped), (2, 1));
        assert!(report.skip_reasons[0].contains(&seq_id(2)), "{report:?}");
        assert!(report.skip_reasons[0].contains("2048 bytes"), "{report:?}");
        assert_eq!(store.state().applied, [seq(1), seq(3)]);
    }

    #[tokio::test]
    async fn invalid_entries_are_skipped_and_counted_with_their_reasons() {
        let peer = MockPeer::start(collections(1, 1)).await;
        let store = MemoryStore::default();
        store.add_peer(&peer.api_url());
        peer.set_trouble(Trouble::ItemsBody(
            r#"{"features": [
                {"id": "not-a-uuid", "geometry": {"type": "Point", "coordinates": [0, 0]}},
                {"id": "00000000-0000-4000-9001-000000000009",
                 "geometry": {"type": "Point", "coordinates": [0, 95]},
                 "properties": {"datetime": "2024-01-01T00:00:00Z"}}
            ]}"#,
        ));

        let report = pass(&store, &peer, &limits()).await;

        assert_eq!(report.error, None);
        assert_eq!(
            (report.collections_applied, report.items, report.skipped),
            (1, 0, 2)
        );
        assert!(report.skip_reasons[0].contains("id is not a UUID"));
        assert!(report.skip_reasons[1].contains("geometry"));
    }
}

mod troubles {
    //! Peers that are down, slow, endless, or answer garbage or links elsewhere.

    use super::*;

    async fn failed_pass(trouble: Trouble, limits: &HarvestLimits) -> (MockPeer, HarvestReport) {
        let peer = MockPeer::start(collections(2, 1)).await;
        let store = MemoryStore::default();
        store.add_peer(&peer.api_url());
        peer.set_trouble(trouble);
        let report = pass(&store, &peer, limits).await;
        assert!(report.error.is_some(), "the pass should fail");
        assert_eq!(report.collections_applied, 0);
        (peer, report)
    }

    #[tokio::test]
    async fn a_peer_down_fails_with_a_growing_backoff() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
        let api = format!("http://{}/api", closed.local_addr().expect("address"));
        drop(closed);
        let store = MemoryStore::default();
        let declared = store.add_peer(&api);
        store
            .state()
            .peers
            .get_mut(&declared.id)
            .expect("declared")
            .harvest
            .failures = 2;
        let limits = limits();

        let report = harvest_peer(
            &store,
            &store.get(declared.id),
            &limits,
            PassKind::Scheduled,
        )
        .await;

        let error = report.error.expect("connection refused");
        assert!(
            error.contains(&format!("request to {api}/collections")),
            "{error}"
        );
        let state = store.state();
        let [
            HarvestEnd::Failure {
                at,
                next_attempt_at,
                error,
            },
        ] = &state.ends[..]
        else {
            panic!("one failure expected");
        };
        assert!(error.contains(&api));
        // A third failure in a row waits four times the first wait.
        assert_eq!((*next_attempt_at - *at).num_seconds(), 4 * 60);
        assert_eq!(state.peers[&declared.id].harvest.failures, 3);
    }

    #[tokio::test]
    async fn garbage_answers_fail_the_pass_naming_the_address_and_field() {
        let cases = [
            (
                Trouble::Body("text/html", "<html>oops</html>"),
                "is not JSON",
            ),
            (
                Trouble::Body("application/json", r#"{"collections": [{"id""#),
                "not valid JSON",
            ),
            (
                Trouble::Body("application/json", r#"{"collections": "many"}"#),
                "invalid collections: expected an array, got a string",
            ),
            (
                Trouble::Body("application/json", r#"{"collections": [], "links": {}}"#),
                "invalid links",
            ),
        ];
        for (trouble, expected) in cases {
            let (peer, report) = failed_pass(trouble, &limits()).await;
            let error = report.error.expect("failed");
            assert!(error.contains(expected), "{error}");
            assert!(
                error.contains(&format!("http://{}/api/collections", peer.addr)),
                "{error}"
            );
        }
    }

    #[tokio::test]
    async fn garbage_items_skip_their_collection_and_later_changes_still_come() {
        let peer = MockPeer::start(collections(3, 1)).await;
        let store = MemoryStore::default();
        store.add_peer(&peer.api_url());
        assert_eq!(pass(&store, &peer, &limits()).await.collections_applied, 3);

        // The first collection changes and its items come as garbage; the third is deleted
        // after it: the first is skipped naming the address and field, the third removed.
        peer.touch(1, false);
        peer.touch(3, true);
        peer.set_trouble(Trouble::ItemsBody(r#"{"features": {"0": {}}}"#));
        let report = pass(&store, &peer, &limits()).await;
        assert_eq!(report.error, None);
        assert_eq!((report.skipped, report.collections_removed), (1, 1));
        let reason = &report.skip_reasons[0];
        assert!(
            reason.contains("invalid features: expected an array, got an object"),
            "{reason}"
        );
        let items = format!("http://{}/api/collections/{}/items", peer.addr, seq_id(1));
        assert!(reason.contains(&items), "{reason}");
        assert_eq!(store.state().removed, [seq(3)]);
    }

    #[tokio::test]
    async fn an_endless_answer_stops_at_the_size_cap() {
        let limits = HarvestLimits {
            max_response_bytes: 256 * 1024,
            ..limits()
        };
        let (peer, report) = failed_pass(Trouble::Endless, &limits).await;

        let error = report.error.expect("too large");
        assert!(error.contains("exceeds 262144 bytes"), "{error}");
        // Read no more than the cap and one chunk; the peer could not push much more.
        assert!(report.bytes_read < 512 * 1024, "{}", report.bytes_read);
        assert!(peer.streamed.load(Ordering::Relaxed) < 16 * 1024 * 1024);
    }

    #[tokio::test]
    async fn an_endless_next_chain_stops_at_the_page_cap() {
        let limits = HarvestLimits {
            max_pages: 5,
            ..limits()
        };
        let (peer, report) = failed_pass(Trouble::EndlessChain, &limits).await;

        assert!(report.error.expect("endless").contains("past 5 pages"));
        assert_eq!(peer.requests().len(), 5);
    }

    #[tokio::test]
    async fn a_next_loop_is_ended() {
        let (peer, report) = failed_pass(Trouble::Loop, &limits()).await;

        assert!(report.error.expect("loop").contains("already read"));
        assert_eq!(peer.requests().len(), 2);
    }

    #[tokio::test]
    async fn a_next_link_to_another_host_or_path_is_not_followed() {
        let elsewhere = MockPeer::start(collections(1, 1)).await;
        let targets = [
            format!("http://{}/api/collections?offset=1", elsewhere.addr),
            format!("http://localhost:{}/api/collections", elsewhere.addr.port()),
        ];
        for target in targets {
            let (peer, report) = failed_pass(Trouble::NextTo(target.clone()), &limits()).await;
            let error = report.error.expect("refused");
            assert!(error.contains("leaves the peer"), "{error}");
            assert_eq!(peer.requests().len(), 1);
        }
        assert!(elsewhere.requests().is_empty());

        // Same host and port, outside the API path.
        let peer = MockPeer::start(collections(1, 1)).await;
        let store = MemoryStore::default();
        store.add_peer(&peer.api_url());
        peer.set_trouble(Trouble::NextTo(format!(
            "http://{}/admin/collections",
            peer.addr
        )));
        let report = pass(&store, &peer, &limits()).await;
        assert!(
            report
                .error
                .expect("refused")
                .contains("outside the peer's API path")
        );
        assert_eq!(peer.requests().len(), 1);
    }

    #[tokio::test]
    async fn a_redirect_to_another_host_is_not_followed() {
        let elsewhere = MockPeer::start(collections(1, 1)).await;
        let to = format!("{}/collections", elsewhere.api_url());
        let (_, report) = failed_pass(Trouble::RedirectTo(to), &limits()).await;

        assert!(report.error.expect("refused").contains("HTTP status 302"));
        assert!(elsewhere.requests().is_empty());
    }

    #[tokio::test]
    async fn a_pass_stops_when_its_time_budget_runs_out() {
        let limits = HarvestLimits {
            budget: Duration::from_millis(300),
            ..limits()
        };
        let (_, report) = failed_pass(Trouble::Slow(Duration::from_secs(5)), &limits).await;

        assert!(report.error.expect("out of time").contains("time budget"));
    }

    #[tokio::test]
    async fn a_slow_peer_times_out_while_another_is_harvested_fully() {
        let slow = MockPeer::start(collections(2, 1)).await;
        slow.set_trouble(Trouble::Slow(Duration::from_secs(30)));
        let fast = MockPeer::start(collections(4, 2)).await;
        let paused = MockPeer::start(collections(1, 1)).await;
        let not_due = MockPeer::start(collections(1, 1)).await;
        let store = MemoryStore::default();
        store.add_peer(&slow.api_url());
        store.add_peer(&fast.api_url());
        let p = store.add_peer(&paused.api_url());
        store.state().peers.get_mut(&p.id).expect("peer").is_paused = true;
        let n = store.add_peer(&not_due.api_url());
        store
            .state()
            .peers
            .get_mut(&n.id)
            .expect("peer")
            .harvest
            .next_attempt_at = Some(Utc::now() + chrono::TimeDelta::hours(1));
        let limits = HarvestLimits {
            // Long enough for a loaded machine to serve the fast peer, far below the slow one.
            request_timeout: Duration::from_secs(3),
            ..limits()
        };

        let reports = harvest_all(&store, &limits, Utc::now())
            .await
            .expect("reports");

        assert_eq!(reports.len(), 2);
        let of = |peer: &MockPeer| {
            reports
                .iter()
                .find(|r| r.peer_url == peer.api_url())
                .expect("report")
        };
        assert!(
            of(&slow)
                .error
                .as_deref()
                .is_some_and(|e| e.contains("timed out"))
        );
        assert_eq!(of(&fast).error, None);
        assert_eq!((of(&fast).collections_applied, of(&fast).items), (4, 8));
        assert!(paused.requests().is_empty() && not_due.requests().is_empty());
    }
}

mod origins {
    //! Collections reaching the catalog from more than one peer: through relays, straight
    //! from their origin, or with an id held by another.

    use flaneur_model::Holder;

    use super::*;

    /// A peer listing `n` collections of 2 items each, with the ids of [`collections`].
    async fn listing(n: usize, origin: Option<String>) -> MockPeer {
        let mut listed = collections(n, 2);
        for c in &mut listed {
            c.origin = origin.clone();
        }
        MockPeer::start(listed).await
    }

    fn holder(store: &MemoryStore, n: usize) -> Option<Holder> {
        let state = store.state();
        let (peer, collection) = state.collections.iter().find_map(|((p, id), (c, _))| {
            (*id == seq(n)).then(|| (*p, c.origin(&state.peers[p].api_url)))
        })?;
        Some(Holder::Peer {
            id: peer,
            api_url: state.peers[&peer].api_url.clone(),
            origin: collection,
            updated: None,
            origin_updated: None,
        })
    }

    #[tokio::test]
    async fn a_relayed_collection_keeps_its_origin_and_gives_way_to_the_origins_copy() {
        let origin = listing(2, None).await;
        let relay = listing(2, Some(format!("{}/", origin.api_url()))).await;
        let store = MemoryStore::default();
        let relay_peer = store.add_peer(&relay.api_url());

        let report = pass(&store, &relay, &limits()).await;
        assert_eq!((report.collections_applied, report.error), (2, None));
        let Some(Holder::Peer { id, origin: o, .. }) = holder(&store, 1) else {
            panic!("held");
        };
        assert_eq!((id, o), (relay_peer.id, origin.api_url()));

        // The origin declared in turn, both copies straight from it take the relay's place:
        // no conflict.
        let origin_peer = store.add_peer(&origin.api_url());
        let report = pass(&store, &origin, &limits()).await;
        assert_eq!(report.error, None);
        assert_eq!(
            (report.collections_applied, report.collections_conflicting),
            (2, 0)
        );
        let Some(Holder::Peer { id, .. }) = holder(&store, 2) else {
            panic!("held");
        };
        assert_eq!(id, origin_peer.id);
        assert_eq!(store.state().collections.len(), 2);

        // The relay's copies, changed there, are skipped quietly without reading their items.
        relay.touch(1, false);
        relay.touch(2, false);
        let before = item_requests(&relay);
        let report = pass(&store, &relay, &limits()).await;
        assert_eq!(report.error, None);
        assert_eq!(
            (
                report.collections_relayed,
                report.collections_conflicting,
                report.collections_applied
            ),
            (2, 0, 0)
        );
        assert_eq!(item_requests(&relay), before);
        assert!(store.state().conflicts.is_empty());
    }

    #[tokio::test]
    async fn a_conflicting_collection_costs_no_item_request_and_is_recorded_until_it_goes() {
        let first = listing(2, None).await;
        let second = listing(2, None).await;
        let store = MemoryStore::default();
        store.add_peer(&first.api_url());
        let declared = store.add_peer(&second.api_url());
        pass(&store, &first, &limits()).await;

        let report = pass(&store, &second, &limits()).await;
        assert_eq!(report.error, None);
        assert_eq!(
            (report.collections_conflicting, report.collections_applied),
            (2, 0)
        );
        assert_eq!(item_requests(&second), 0);
        assert_eq!(store.state().conflicts.len(), 2);

        // Listed again (the changed one, and the last one at the watermark): still no item
        // request, still one conflict each.
        second.touch(1, false);
        let report = pass(&store, &second, &limits()).await;
        assert_eq!(report.collections_conflicting, 2);
        assert_eq!(item_requests(&second), 0);
        assert_eq!(store.state().conflicts.len(), 2);

        // Deleted at its peer, it is no conflict any more.
        second.touch(2, true);
        pass(&store, &second, &limits()).await;
        let conflicts = store.state().conflicts.clone();
        assert_eq!(
            conflicts.into_iter().collect::<Vec<_>>(),
            [(declared.id, seq(1))]
        );
    }

    #[tokio::test]
    async fn a_collection_its_origin_removed_stays_out_whatever_a_relay_still_lists() {
        let origin = listing(1, None).await;
        let relay = listing(1, Some(origin.api_url())).await;
        let store = MemoryStore::default();
        store.add_peer(&origin.api_url());
        store.add_peer(&relay.api_url());
        assert_eq!(
            pass(&store, &origin, &limits()).await.collections_applied,
            1
        );

        origin.touch(1, true);
        assert_eq!(
            pass(&store, &origin, &limits()).await.collections_removed,
            1
        );

        // The relay has not heard of it and lists its copy, changed there since: stale all
        // the same, it is skipped without reading its items.
        relay.touch(1, false);
        let report = pass(&store, &relay, &limits()).await;
        assert_eq!(report.error, None);
        assert_eq!(
            (report.collections_relayed, report.collections_applied),
            (1, 0)
        );
        assert_eq!(item_requests(&relay), 0);
        assert!(store.state().collections.is_empty());
    }

    #[tokio::test]
    async fn a_relayed_copy_is_fetched_again_once_its_holder_lets_it_go() {
        let origin = listing(3, None).await;
        let relay = listing(3, Some(origin.api_url())).await;
        let store = MemoryStore::default();
        let origin_peer = store.add_peer(&origin.api_url());
        store.add_peer(&relay.api_url());
        pass(&store, &origin, &limits()).await;
        let report = pass(&store, &relay, &limits()).await;
        assert_eq!(report.collections_relayed, 3);

        // Held from the origin, nothing is let go: no collection is fetched on its own.
        let single = |requests: &[String]| -> Vec<String> {
            let prefix = "/api/collections/";
            let ids = requests.iter().filter_map(|r| r.strip_prefix(prefix));
            ids.filter(|rest| !rest.contains('/'))
                .map(str::to_owned)
                .collect()
        };
        pass(&store, &relay, &limits()).await;
        assert_eq!(single(&relay.requests()), Vec::<String>::new());

        // The origin removed here (its collections left as tombstones holding nothing), and
        // the first gone from the relay too without a change of `updated`: the relay's next
        // pass lists the last one again at its watermark and applies it, fetches the second
        // on its own and applies it, and forgets the first, which the relay no longer has.
        {
            let mut state = store.state();
            state.collections.retain(|(p, _), _| *p != origin_peer.id);
            state.let_go.extend((1..=3).map(seq));
            state.peers.remove(&origin_peer.id);
        }
        relay.data().collections[0].is_deleted = true;
        let before = relay.requests().len();
        let report = pass(&store, &relay, &limits()).await;
        assert_eq!(report.error, None);
        assert_eq!((report.collections_applied, report.items), (2, 4));
        let mut fetched = single(&relay.requests()[before..]);
        fetched.sort();
        assert_eq!(fetched, [seq_id(1), seq_id(2)]);
        assert!(store.state().relayed.is_empty() && store.state().conflicts.is_empty());
        let Some(Holder::Peer { origin: o, .. }) = holder(&store, 2) else {
            panic!("held");
        };
        assert_eq!(o, origin.api_url());

        // Nothing is left to fetch again.
        let before = relay.requests().len();
        pass(&store, &relay, &limits()).await;
        assert_eq!(single(&relay.requests()[before..]), Vec::<String>::new());
    }

    #[tokio::test]
    async fn a_relay_is_never_taken_for_an_origin_harvested_here_whatever_it_claims() {
        let origin = listing(1, None).await;
        let relay = listing(1, Some(origin.api_url())).await;
        let store = MemoryStore::default();
        store.add_peer(&origin.api_url());
        store.add_peer(&relay.api_url());

        // The relay is harvested first: its copy waits for the origin's, costing no item
        // request; then the origin deletes it, and the relay's copy, newer there, stays out.
        let report = pass(&store, &relay, &limits()).await;
        assert_eq!(
            (report.collections_relayed, report.collections_applied),
            (1, 0)
        );
        assert_eq!(
            pass(&store, &origin, &limits()).await.collections_applied,
            1
        );
        origin.touch(1, true);
        assert_eq!(
            pass(&store, &origin, &limits()).await.collections_removed,
            1
        );
        relay.touch(1, false);
        let report = pass(&store, &relay, &limits()).await;
        assert_eq!(
            (report.collections_relayed, report.collections_applied),
            (1, 0)
        );
        assert_eq!(item_requests(&relay), 0);
        assert!(store.state().collections.is_empty());
    }

    #[tokio::test]
    async fn a_local_collection_come_back_through_a_peer_is_never_applied() {
        let relay = listing(1, Some("https://this.example/api".to_owned())).await;
        let store = MemoryStore::default();
        store.state().local.insert(seq(1));
        store.add_peer(&relay.api_url());

        let report = pass(&store, &relay, &limits()).await;

        assert_eq!(report.error, None);
        assert_eq!(
            (
                report.collections_relayed,
                report.collections_conflicting,
                report.collections_applied
            ),
            (1, 0, 0)
        );
        assert_eq!(item_requests(&relay), 0);
        assert!(store.state().collections.is_empty());
    }
}
