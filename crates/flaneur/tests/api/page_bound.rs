//! Pages of harvested documents larger than one answer may hold (`--max-page-mb`): the
//! collection list, a collection's items and search end early, and their `next` links lead
//! on to every document once.

use std::collections::BTreeSet;
use std::path::Path;

use axum::Router;
use axum::extract::Path as UrlPath;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::federation_union::serve_app;
use crate::server::{Server, collection_ids, feature_ids, link};

/// Collections at the peer; the first holds [`FIRST_ITEMS`] items, the others one each.
const COLLECTIONS: usize = 30;
/// Items of the first collection.
const FIRST_ITEMS: usize = 40;
/// Bytes of filler in each document: 30 collections or 40 items are more than a page of
/// 1 MiB holds, and each stays below the 64 KiB kept of a harvested document.
const FILLER_BYTES: usize = 40_000;
/// The page size set, in MiB.
const MAX_PAGE_MB: usize = 1;

fn collection_id(n: usize) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

fn item_id(collection: usize, rank: usize) -> String {
    format!("00000000-0000-4000-9{collection:03}-{rank:012}")
}

fn items_of(collection: usize) -> usize {
    if collection == 1 { FIRST_ITEMS } else { 1 }
}

/// A peer whose every collection and item is large: the whole listing in one page, and each
/// collection's items in one page.
fn large_peer() -> String {
    let app = Router::new()
        .route("/api/collections", get(listing))
        .route("/api/collections/{id}/items", get(items));
    format!("{}/api", serve_app(app))
}

fn geojson(body: Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/geo+json")],
        body.to_string(),
    )
        .into_response()
}

async fn listing() -> Response {
    let collections: Vec<Value> = (1..=COLLECTIONS)
        .map(|n| {
            json!({
                "type": "Collection", "stac_version": "1.0.0", "id": collection_id(n),
                "title": format!("Sequence {n}"),
                "description": "c".repeat(FILLER_BYTES),
                "updated": format!("2024-01-01T00:{n:02}:00Z"),
                "providers": [{ "name": "alice", "id": "u-1", "roles": ["producer"] }],
            })
        })
        .collect();
    let body = json!({ "collections": collections, "links": [] });
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn items(UrlPath(id): UrlPath<String>) -> Response {
    let Some(n) = (1..=COLLECTIONS).find(|n| collection_id(*n) == id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let features: Vec<Value> = (1..=items_of(n))
        .map(|rank| {
            json!({
                "type": "Feature", "id": item_id(n, rank), "collection": id,
                "geometry": { "type": "Point",
                              "coordinates": [2.0 + rank as f64 * 1e-4, 48.0 + n as f64 * 1e-3] },
                "properties": {
                    "datetime": format!("2024-01-01T10:{n:02}:{rank:02}+00:00"),
                    "geovisio:rank_in_collection": rank,
                    "view:azimuth": 90,
                    "description": "i".repeat(FILLER_BYTES),
                },
                "links": [],
            })
        })
        .collect();
    geojson(json!({ "type": "FeatureCollection", "features": features, "links": [] }))
}

/// Runs `flaneur ARGS` on the catalog of `data_dir`, which must succeed.
fn flaneur(data_dir: &Path, args: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_flaneur"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .envs(crate::backend::storage_env(data_dir))
        .env("RUST_LOG", "warn")
        .output()
        .expect("flaneur runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "flaneur {args:?}: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Follows `next` links from `path`, checking that each page stays within the bound; the ids
/// of every page, in order.
fn walk(catalog: &Server, path: &str, ids: fn(&Value) -> Vec<String>) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut url = Some(catalog.url(path));
    while let Some(at) = url {
        assert!(pages.len() < 20, "{path} pages without end");
        let bytes = catalog.get_bytes(&at);
        // The bound counts the documents; links and the envelope come on top.
        assert!(
            bytes.len() < (MAX_PAGE_MB << 20) + 16_384,
            "{at}: {}",
            bytes.len()
        );
        let page: Value = serde_json::from_slice(&bytes).expect("JSON page");
        pages.push(ids(&page));
        url = link(&page, "next");
    }
    pages
}

/// Checks that `pages` hold `expected` once each, in order, over more than one page.
fn holds_all_once(pages: &[Vec<String>], expected: &[String], what: &str) {
    assert!(pages.len() > 1, "{what}: one page of {}", pages[0].len());
    assert!(pages.iter().all(|p| !p.is_empty()), "{what}: {pages:?}");
    let got: Vec<String> = pages.concat();
    assert_eq!(
        got,
        expected,
        "{what}: pages of {:?}",
        pages.iter().map(Vec::len)
    );
}

#[test]
fn pages_of_large_harvested_documents_end_early_and_lead_on_to_every_document_once() {
    let api = large_peer();
    let dir = tempfile::tempdir().expect("catalog data folder");
    flaneur(dir.path(), &["peer", "add", &api]);
    let report = flaneur(dir.path(), &["harvest"]);
    assert!(report.contains("\tharvested\t"), "{report}");
    let catalog = Server::start_in_with_env(
        dir.path(),
        &[("FLANEUR_MAX_PAGE_MB", &MAX_PAGE_MB.to_string())],
    );

    // The collection list, in its default order (oldest first: as harvested, in turn).
    let pages = walk(&catalog, "/collections?limit=1000", collection_ids);
    let listed: Vec<String> = pages.concat();
    let expected: BTreeSet<String> = (1..=COLLECTIONS).map(collection_id).collect();
    assert_eq!(listed.iter().cloned().collect::<BTreeSet<_>>(), expected);
    holds_all_once(&pages, &listed, "collections");
    assert_eq!(listed.len(), COLLECTIONS);

    // A collection's items by rank, asked whole or by pages.
    let ranked: Vec<String> = (1..=FIRST_ITEMS).map(|r| item_id(1, r)).collect();
    let items = format!("/collections/{}/items", collection_id(1));
    holds_all_once(&walk(&catalog, &items, feature_ids), &ranked, "items");
    let paged = format!("{items}?limit=1000");
    holds_all_once(
        &walk(&catalog, &paged, feature_ids),
        &ranked,
        "items by pages",
    );

    // Search, by GET, in its default order.
    let pages = walk(&catalog, "/search?limit=1000", feature_ids);
    let found: Vec<String> = pages.concat();
    let every: BTreeSet<String> = (1..=COLLECTIONS)
        .flat_map(|n| (1..=items_of(n)).map(move |r| item_id(n, r)))
        .collect();
    assert_eq!(found.len(), every.len(), "{pages:?}");
    assert_eq!(found.iter().cloned().collect::<BTreeSet<_>>(), every);
    holds_all_once(&pages, &found, "search");
}
