//! Search and listing latency on a catalog of a million synthetic published pictures (the
//! catalog of the map benchmark, `flaneur-service/benches/support/synthetic.rs`, built on the
//! first run and kept). Run with `cargo bench -p flaneur-api --bench search`.
//!
//! Every request goes through the whole HTTP application (routing, parameters, catalog,
//! JSON), without a socket. For each kind of request it prints p50 and p95 in milliseconds;
//! deep pages are reached by following `next` links, as clients do, and timed beside the
//! first pages. It asserts nothing about time.
#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a bench program reports to its terminal"
)]

#[path = "../../flaneur-service/benches/support/synthetic.rs"]
mod synthetic;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use flaneur_api::{AppState, InstanceInfo, PictureReads, WebSettings};
use serde_json::Value;
use tower::ServiceExt;

use synthetic::{Dice, percentile, walks};

/// Requests per measured kind.
const REQUESTS: usize = 200;

/// Host the requests name; links are built on it.
const HOST: &str = "bench.invalid";

/// Pages followed to reach a deep one.
const DEEP_PAGES: usize = 1000;

struct Bench {
    state: AppState,
}

impl Bench {
    /// Answers `GET path`, returning the time taken and the JSON body.
    async fn get(&self, path: &str) -> (Duration, Value) {
        let request = Request::get(path)
            .header(header::HOST, HOST)
            .body(Body::empty())
            .expect("request");
        let app = flaneur_api::app(self.state.clone());
        let start = Instant::now();
        let response = app.oneshot(request).await.expect("answer");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        let took = start.elapsed();
        assert_eq!(
            status,
            StatusCode::OK,
            "{path}: {}",
            String::from_utf8_lossy(&bytes)
        );
        (took, serde_json::from_slice(&bytes).expect("JSON body"))
    }

    /// Times each path once.
    async fn time_all(&self, paths: &[String]) -> Stats {
        let mut times = Vec::with_capacity(paths.len());
        let mut returned = 0;
        for path in paths {
            let (took, body) = self.get(path).await;
            times.push(took);
            returned += count(&body);
        }
        Stats::new(times, returned)
    }

    /// Follows `next` links from `first` for `pages` pages (fewer when the listing ends),
    /// timing each page.
    async fn walk(&self, first: &str, pages: usize) -> Vec<(Duration, usize)> {
        let mut times = Vec::with_capacity(pages.min(10_000));
        let mut path = Some(first.to_owned());
        while let Some(p) = path.take() {
            let (took, body) = self.get(&p).await;
            times.push((took, count(&body)));
            if times.len() == pages {
                break;
            }
            path = next_link(&body);
        }
        times
    }
}

/// Latency figures of one kind of request.
struct Stats {
    p50: f64,
    p95: f64,
    requests: usize,
    mean_rows: f64,
}

impl Stats {
    fn of_walk(pages: &[(Duration, usize)]) -> Stats {
        let rows = pages.iter().map(|(_, n)| n).sum();
        Stats::new(pages.iter().map(|(t, _)| *t).collect(), rows)
    }

    fn new(mut times: Vec<Duration>, rows: usize) -> Stats {
        times.sort();
        Stats {
            p50: percentile(&times, 0.5),
            p95: percentile(&times, 0.95),
            requests: times.len(),
            mean_rows: rows as f64 / times.len().max(1) as f64,
        }
    }

    fn print(&self, what: &str) {
        println!(
            "| {what} | {} | {:.1} | {:.2} | {:.2} |",
            self.requests, self.mean_rows, self.p50, self.p95
        );
    }
}

/// Features or collections in a page.
fn count(body: &Value) -> usize {
    ["features", "collections"]
        .iter()
        .find_map(|k| body.get(k).and_then(Value::as_array))
        .map_or(0, Vec::len)
}

/// The path and query of the page's `next` link.
fn next_link(body: &Value) -> Option<String> {
    let href = body
        .get("links")?
        .as_array()?
        .iter()
        .find(|l| l.get("rel").and_then(Value::as_str) == Some("next"))?
        .get("href")?
        .as_str()?;
    let after_host = href.split_once(HOST)?.1;
    Some(after_host.to_owned())
}

/// [`REQUESTS`] small boxes (about 100 m across) around pictures spread over the catalog.
fn boxes(total: usize) -> Vec<[f64; 4]> {
    let mut dice = Dice(0x5ea7_c4a5);
    let points: Vec<[f64; 2]> = walks(total)
        .map(|w| w.points[dice.below(w.points.len())])
        .collect();
    (0..REQUESTS)
        .map(|_| {
            let p = points[dice.below(points.len())];
            [p[0] - 0.0007, p[1] - 0.0005, p[0] + 0.0007, p[1] + 0.0005]
        })
        .collect()
}

fn bbox_text(b: &[f64; 4]) -> String {
    format!("{:.6},{:.6},{:.6},{:.6}", b[0], b[1], b[2], b[3])
}

fn print_header() {
    println!("| request | requests | rows/answer | p50 ms | p95 ms |");
    println!("|---|---:|---:|---:|---:|");
}

#[tokio::main]
async fn main() {
    let total = synthetic::wanted_size();
    let (services, built) = synthetic::services(total).await;
    let bench = Bench {
        state: AppState {
            services,
            info: Arc::new(InstanceInfo::default()),
            trust_forwarded_headers: false,
            web: Arc::new(WebSettings {
                // No front-end: only API routes are asked.
                dir: std::env::temp_dir().join("flaneur-bench-no-web"),
                basemap_style: None,
            }),
            picture_reads: PictureReads::Proxy,
            auth: Arc::default(),
            is_catalog_only: false,
            max_page_bytes: flaneur_api::DEFAULT_MAX_PAGE_BYTES,
        },
    };
    println!("catalog: {built}");
    println!();
    print_header();

    // 1. Item search in a small box, as a viewer asks around a place.
    let boxes = boxes(total);
    let paths: Vec<String> = boxes
        .iter()
        .map(|b| format!("/api/search?bbox={}&limit=10", bbox_text(b)))
        .collect();
    bench
        .time_all(&paths)
        .await
        .print("search, 100 m box, limit 10");
    let paths: Vec<String> = boxes
        .iter()
        .map(|b| format!("/api/search?bbox={}&limit=100", bbox_text(b)))
        .collect();
    bench
        .time_all(&paths)
        .await
        .print("search, 100 m box, limit 100");

    // 2. CQL2 filters: one week of captures (about 1 % of the catalog), alone and in a box
    //    around a city centre.
    let week = "datetime >= TIMESTAMP('2021-06-01T00:00:00Z') AND datetime < TIMESTAMP('2021-06-08T00:00:00Z')";
    let paths: Vec<String> = (0..REQUESTS)
        .map(|i| {
            // A different limit each time, so no two requests are the same.
            let limit = 10 + i % 10;
            format!("/api/search?limit={limit}&filter={}", encode(week))
        })
        .collect();
    bench
        .time_all(&paths)
        .await
        .print("search, CQL2 filter on one week of captures, limit 10–19");
    let paths: Vec<String> = boxes
        .iter()
        .map(|b| {
            let [x, y] = [(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0];
            let city = [x - 0.05, y - 0.03, x + 0.05, y + 0.03];
            format!(
                "/api/search?bbox={}&limit=10&filter={}",
                bbox_text(&city),
                encode(week)
            )
        })
        .collect();
    bench
        .time_all(&paths)
        .await
        .print("search, CQL2 week filter in a 7 km box, limit 10");

    // 3. Deep pages of the whole search, reached by following `next`.
    let times = bench.walk("/api/search?limit=10", DEEP_PAGES).await;
    let (first, deep) = ends(times);
    first.print("search, pages 1–10 of limit 10");
    deep.print(&format!(
        "search, pages {}–{} of limit 10",
        DEEP_PAGES - 9,
        DEEP_PAGES
    ));
    // The same in capture order, newest first.
    let times = bench
        .walk("/api/search?limit=10&sortby=-datetime", DEEP_PAGES)
        .await;
    let (first, deep) = ends(times);
    first.print("search by -datetime, pages 1–10 of limit 10");
    deep.print(&format!(
        "search by -datetime, pages {}–{} of limit 10",
        DEEP_PAGES - 9,
        DEEP_PAGES
    ));

    // 3b. Pictures looking at a place: the centres of the small boxes, 3–15 m and 0–100 m.
    for distance in ["3-15", "0-100"] {
        let paths: Vec<String> = boxes
            .iter()
            .map(|b| {
                let (lon, lat) = ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
                format!(
                    "/api/search?place_position={lon:.6},{lat:.6}&place_distance={distance}\
                     &place_fov_tolerance=180&limit=10"
                )
            })
            .collect();
        bench
            .time_all(&paths)
            .await
            .print(&format!("search, place within {distance} m, limit 10"));
    }

    // 4. The collection list, page after page.
    let mut times = Vec::new();
    while times.len() < REQUESTS {
        let before = times.len();
        times.extend(bench.walk("/api/collections?limit=100", REQUESTS).await);
        if times.len() == before {
            break;
        }
    }
    times.truncate(REQUESTS);
    Stats::of_walk(&times).print("collections, every page of limit 100");
    let times = bench.walk("/api/collections?limit=10", usize::MAX).await;
    let pages = times.len();
    let (first, deep) = ends(times);
    first.print("collections, pages 1–10 of limit 10");
    deep.print(&format!(
        "collections, pages {}–{pages} of limit 10",
        pages.saturating_sub(9)
    ));

    // 5. What a harvester asks: the sequences updated since a given instant, oldest change
    //    first, every page followed (here the newer half of the catalog).
    let (_, newest) = bench.get("/api/collections?limit=1&sortby=-updated").await;
    let (_, oldest) = bench
        .get("/api/collections?limit=1&sortby=%2Bupdated")
        .await;
    let since = midpoint(&oldest, &newest);
    let filter = format!("updated >= '{since}'");
    let first = format!(
        "/api/collections?limit=100&sortby=%2Bupdated&filter={}",
        encode(&filter)
    );
    let times = bench.walk(&first, usize::MAX).await;
    Stats::of_walk(&times).print("collections, filter updated >= t, +updated, every page of 100");
}

/// The instant halfway between the `updated` of the only collection of two pages.
fn midpoint(a: &Value, b: &Value) -> String {
    let updated = |page: &Value| {
        let text = page["collections"][0]["updated"].as_str().expect("updated");
        chrono::DateTime::parse_from_rfc3339(text).expect("instant")
    };
    let (a, b) = (updated(a), updated(b));
    (a + (b - a) / 2)
        .with_timezone(&chrono::Utc)
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 2);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Statistics of the first ten and the last ten pages of a walk.
fn ends(pages: Vec<(Duration, usize)>) -> (Stats, Stats) {
    let n = pages.len();
    (
        Stats::of_walk(&pages[..n.min(10)]),
        Stats::of_walk(&pages[n.saturating_sub(10)..]),
    )
}
