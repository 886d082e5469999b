//! Harvesting a peer of 100,000 pictures (200 collections of 500, see `support/peer.rs`) into
//! an empty catalog, then again after changes at the peer, then again with none. Run with
//! `cargo bench -p flaneur-service --bench harvest`.
//!
//! Each pass is timed and its requests, bytes read and peak resident memory (of the whole
//! process, peer included) are printed. After each pass the catalog is checked against the
//! peer, and the item pages asked are checked to be those of the changed collections only.
//! It runs on an embedded SQLite catalog in a temporary folder, and also on PostgreSQL when
//! `FLANEUR_BENCH_DATABASE_URL` names an empty database. `FLANEUR_BENCH_PICTURES` changes the
//! size (in pictures, 500 per collection). It asserts nothing about time.
#![expect(
    clippy::print_stdout,
    reason = "a bench program reports to its terminal"
)]

#[path = "support/peer.rs"]
mod peer;
#[path = "support/peer_doc.rs"]
mod peer_doc;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use flaneur_model::{PeerId, PeerSource};
use flaneur_service::harvest::{HarvestLimits, HarvestReport, PassKind, harvest_peer};
use flaneur_store::{Catalog, PgCatalog, PgCatalogOptions, SqliteCatalog};

use peer::{SyntheticPeer, Traffic, collection_id, heading, item_id};

/// Pictures per collection.
const ITEMS: u32 = 500;
/// Pictures edited at the start of four collections between the first and second pass.
const EDITED_PICTURES: u32 = 25;

/// The four collections edited between the first and second pass, spread over the listing.
fn edited(collections: u32) -> [u32; 4] {
    [1, 3, 5, 7].map(|tenths| collections * tenths / 10)
}

/// The collection deleted between the first and second pass.
fn deleted(collections: u32) -> u32 {
    collections * 9 / 10
}

/// What one pass did and cost.
struct Pass {
    name: &'static str,
    seconds: f64,
    report: HarvestReport,
    traffic: Traffic,
    peak_rss_mib: Option<f64>,
}

#[tokio::main]
async fn main() {
    let pictures: u32 = std::env::var("FLANEUR_BENCH_PICTURES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let collections = (pictures / ITEMS).max(10);
    println!(
        "peer: {collections} collections of {ITEMS} pictures; changes: {} pictures edited in \
         collections {:?}, collection {} deleted, one of {ITEMS} added",
        EDITED_PICTURES * 4,
        edited(collections),
        deleted(collections),
    );
    println!();
    println!(concat!(
        "| catalog | pass | wall s | requests (item pages) | MiB read ",
        "| applied / unchanged / removed | items written | peak RSS MiB |"
    ));
    println!("|---|---|---:|---:|---:|---|---:|---:|");

    let dir = tempfile::tempdir().expect("a temporary folder");
    let sqlite = SqliteCatalog::open(&dir.path().join("catalog.sqlite"))
        .await
        .expect("the SQLite catalog");
    run("SQLite", Arc::new(sqlite), collections).await;

    if let Ok(url) = std::env::var("FLANEUR_BENCH_DATABASE_URL") {
        let pg = PgCatalog::connect(&url, PgCatalogOptions::default())
            .await
            .expect("the PostgreSQL catalog");
        run("PostgreSQL", Arc::new(pg), collections).await;
    }
}

/// The three passes on one catalog, each checked, with their figures printed.
async fn run(backend: &str, catalog: Arc<dyn Catalog>, collections: u32) {
    let peer = SyntheticPeer::start(collections, ITEMS).await;
    let declared = catalog
        .add_peer(&peer.api_url(), PeerSource::Config)
        .await
        .expect("peer declared");

    // 1. The first pass reads every collection's items, one page each.
    let full = pass("full", catalog.as_ref(), declared.id, &peer).await;
    let every: BTreeSet<u32> = (1..=collections).collect();
    expect_item_pages(&full, &every);
    expect_catalog(catalog.as_ref(), declared.id, &peer).await;

    // 2. After the changes only the edited and added collections are read again.
    for number in edited(collections) {
        peer.edit(number, EDITED_PICTURES);
    }
    peer.delete(deleted(collections));
    let added = peer.add(ITEMS);
    let changed = pass("after 100 changes", catalog.as_ref(), declared.id, &peer).await;
    let expected: BTreeSet<u32> = edited(collections).into_iter().chain([added]).collect();
    expect_item_pages(&changed, &expected);
    assert_eq!(
        changed.report.collections_removed, 1,
        "{backend}: one removal"
    );
    expect_catalog(catalog.as_ref(), declared.id, &peer).await;

    // 3. With nothing changed, one listing page and no item page.
    let unchanged = pass("no change", catalog.as_ref(), declared.id, &peer).await;
    expect_item_pages(&unchanged, &BTreeSet::new());
    assert_eq!(
        unchanged.traffic.listing_pages, 1,
        "{backend}: one listing page"
    );

    for p in [full, changed, unchanged] {
        let r = &p.report;
        let rss = p
            .peak_rss_mib
            .map_or_else(|| "n/a".to_owned(), |m| format!("{m:.0}"));
        println!(
            "| {backend} | {} | {:.2} | {} ({}) | {:.1} | {} / {} / {} | {} | {rss} |",
            p.name,
            p.seconds,
            r.requests,
            p.traffic.item_pages.values().sum::<u64>(),
            r.bytes_read as f64 / 1_048_576.0,
            r.collections_applied,
            r.collections_unchanged,
            r.collections_removed,
            r.items,
        );
    }
}

/// Runs one pass of the peer as the catalog holds it, timed, with the peak memory reset first.
async fn pass(name: &'static str, catalog: &dyn Catalog, id: PeerId, peer: &SyntheticPeer) -> Pass {
    let record = catalog
        .peer(id)
        .await
        .expect("peer read")
        .expect("peer kept");
    let is_reset = reset_peak_rss();
    let started = Instant::now();
    let report = harvest_peer(
        catalog,
        &record,
        &HarvestLimits::default(),
        PassKind::OnDemand,
    )
    .await;
    let seconds = started.elapsed().as_secs_f64();
    let peak_rss_mib = peak_rss_mib().filter(|_| is_reset);
    assert_eq!(report.error, None, "{name}: the pass failed");
    assert_eq!(report.skipped, 0, "{name}: {:?}", report.skip_reasons);
    let traffic = peer.take_traffic();
    assert_eq!(
        report.requests,
        traffic.requests(),
        "{name}: requests counted twice"
    );
    Pass {
        name,
        seconds,
        report,
        traffic,
        peak_rss_mib,
    }
}

fn expect_item_pages(pass: &Pass, collections: &BTreeSet<u32>) {
    let asked: BTreeSet<u32> = pass.traffic.item_pages.keys().copied().collect();
    assert_eq!(
        &asked, collections,
        "{}: collections whose items were read",
        pass.name
    );
    assert!(
        pass.traffic.item_pages.values().all(|&n| n == 1),
        "{}: one page per collection",
        pass.name
    );
}

/// Checks that the catalog holds what the peer publishes: every collection with its
/// `updated`, none of the deleted ones, the counts, and the edited pictures' headings.
async fn expect_catalog(catalog: &dyn Catalog, id: PeerId, peer: &SyntheticPeer) {
    let held = peer.collections().clone();
    let mut pictures = 0;
    for c in &held {
        let sequence = collection_id(c.number).parse().expect("a collection id");
        let updated = catalog
            .remote_collection_updated(id, sequence)
            .await
            .expect("collection read");
        if c.is_deleted {
            assert_eq!(updated, None, "collection {} removed", c.number);
            continue;
        }
        assert_eq!(
            updated,
            Some(c.updated),
            "collection {} up to date",
            c.number
        );
        pictures += u64::from(c.items);

        // The last edited picture and the first one left as it was.
        for rank in [c.edited.max(1), c.edited + 1] {
            let picture = item_id(c.number, rank).parse().expect("an item id");
            let picture = catalog
                .picture(picture)
                .await
                .expect("picture read")
                .expect("picture held");
            let expected = f64::from(heading(c, rank));
            assert_eq!(
                picture.base.heading_deg,
                Some(expected),
                "{} #{rank}",
                c.number
            );
        }
    }
    let state = catalog
        .peer(id)
        .await
        .expect("peer read")
        .expect("peer kept")
        .harvest;
    let live = held.iter().filter(|c| !c.is_deleted).count() as u64;
    assert_eq!(
        (state.nb_collections, state.nb_items),
        (live, pictures),
        "the peer's counts"
    );
}

/// Resets the process's peak resident size (Linux `clear_refs`); `false` where it cannot.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The process's peak resident size since the last reset, from `/proc/self/status`.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
