//! Federation end to end: a catalog harvesting three instances, each reached through a
//! counting relay, serves their union with each picture's origin, follows their changes while
//! asking only for what changed, and keeps serving beside peers that are down, answer garbage
//! or page without end.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use flaneur_service::tile::mvt::Value as MvtValue;
use serde_json::{Value, json};

use crate::accounts::{account_with_token, bearer, client, get_as};
use crate::server::{Server, feature_ids, link, poll};
use crate::tiles::{GOPRO_AT, features, fetch_tile, tile_path};
use crate::{GOPRO, SONY, pictures};

/// Where the Sony pictures were taken, roughly.
const SONY_AT: (f64, f64) = (-1.6846, 48.1551);

/// A bounding box holding every test picture, GoPro and Sony alike.
const ALL_BBOX: &str = "-2,48,2,49.5";

/// Starts an HTTP app on a free loopback port, serving until the test process ends; returns
/// `http://127.0.0.1:PORT`.
pub fn serve_app(app: Router) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    listener.set_nonblocking(true).expect("non-blocking");
    let origin = format!("http://{}", listener.local_addr().expect("address"));
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            axum::serve(listener, app).await.expect("app serves");
        });
    });
    origin
}

/// A relay in front of one instance, recording the method, path and query of each request.
/// It passes the `Host` it was asked for on, as a reverse proxy does, so the instance's links
/// name the relay and a harvester following them keeps going through it.
struct Relay {
    /// The relay's API root, which the catalog knows the peer by.
    api: String,
    asked: Arc<Mutex<Vec<String>>>,
}

#[derive(Clone)]
struct RelayState {
    upstream: String,
    http: reqwest::Client,
    asked: Arc<Mutex<Vec<String>>>,
}

impl Relay {
    fn start(peer: &Server) -> Relay {
        let upstream = peer.api.trim_end_matches("/api").to_owned();
        let asked = Arc::new(Mutex::new(Vec::new()));
        let state = RelayState {
            upstream,
            http: reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("relay client"),
            asked: asked.clone(),
        };
        let origin = serve_app(Router::new().fallback(relay).with_state(state));
        Relay {
            api: format!("{origin}/api"),
            asked,
        }
    }

    /// The requests recorded since the last call, in order.
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.asked.lock().expect("relay log"))
    }
}

async fn relay(
    State(state): State<RelayState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    state
        .asked
        .lock()
        .expect("relay log")
        .push(format!("{method} {target}"));
    let mut request = state
        .http
        .request(method, format!("{}{target}", state.upstream))
        .body(body);
    for name in [header::HOST, header::ACCEPT, header::CONTENT_TYPE] {
        if let Some(value) = headers.get(&name) {
            request = request.header(name, value);
        }
    }
    let Ok(answer) = request.send().await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let status = answer.status();
    let kind = answer.headers().get(header::CONTENT_TYPE).cloned();
    let bytes = answer.bytes().await.unwrap_or_default();
    let mut response = (status, bytes).into_response();
    if let Some(kind) = kind {
        response.headers_mut().insert(header::CONTENT_TYPE, kind);
    }
    response
}

/// What a pass asked of a peer, by kind: the changed-collections listing pages, and the item
/// pages of each collection read.
#[derive(Debug, Default, PartialEq)]
struct Asked {
    listings: usize,
    items_of: BTreeSet<String>,
    other: Vec<String>,
}

fn classify(requests: &[String]) -> Asked {
    let mut asked = Asked::default();
    for request in requests {
        let path = request.split(['?', ' ']).nth(1).unwrap_or_default();
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match parts[..] {
            ["api", "collections"] if request.starts_with("GET ") => asked.listings += 1,
            ["api", "collections", id, "items"] if request.starts_with("GET ") => {
                asked.items_of.insert(id.to_owned());
            }
            _ => asked.other.push(request.clone()),
        }
    }
    asked
}

/// A peer with an administrator, and the relay the catalog reaches it through.
pub(crate) struct Peer {
    pub(crate) server: Server,
    admin: String,
    relay: Relay,
    _data: tempfile::TempDir,
}

impl Peer {
    pub(crate) fn start() -> Peer {
        let data = tempfile::tempdir().expect("peer data folder");
        let server = Server::start_in(data.path());
        let admin = account_with_token(data.path(), "operator", true);
        let relay = Relay::start(&server);
        Peer {
            server,
            admin,
            relay,
            _data: data,
        }
    }

    /// Publishes `names` as one public sequence; its id and its items' ids.
    pub(crate) fn publish(&self, title: &str, names: &[&str]) -> (String, Vec<String>) {
        let sequence = self
            .server
            .upload_sequence(title, &pictures(names), "anyone");
        let items = self
            .server
            .collection_items(&sequence)
            .iter()
            .map(|i| i["id"].as_str().expect("item id").to_owned())
            .collect();
        (sequence, items)
    }

    /// Sends `method path` with the peer's administrator token, expecting `expected`.
    pub(crate) fn change(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        expected: StatusCode,
    ) {
        let mut request = bearer(client().request(method, self.server.url(path)), &self.admin);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer = request.send().expect("request to the peer");
        let status = answer.status();
        let text = answer.text().unwrap_or_default();
        assert_eq!(status, expected, "{path}: {text}");
    }
}

/// Runs `flaneur harvest` on the catalog of `data_dir`; its exit code and report lines.
fn harvest(data_dir: &Path) -> (Option<i32>, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_flaneur"))
        .args([
            "harvest",
            "--harvest-interval",
            "1h",
            "--harvest-max-pages",
            "20",
        ])
        .arg("--data-dir")
        .arg(data_dir)
        .envs(crate::backend::storage_env(data_dir))
        .env("RUST_LOG", "warn")
        .output()
        .expect("flaneur harvest runs");
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    let errors = String::from_utf8_lossy(&output.stderr);
    assert!(!errors.contains("panicked"), "{errors}");
    (output.status.code(), report)
}

/// The report line of the peer at `api`.
fn line_of<'a>(report: &'a str, api: &str) -> &'a str {
    report
        .lines()
        .find(|l| l.starts_with(&format!("{api}\t")))
        .unwrap_or_else(|| panic!("no line for {api} in:\n{report}"))
}

/// The peers the catalog lists, by API root, as `token` reads them.
fn peers(catalog: &Server, token: &str) -> BTreeMap<String, Value> {
    let (status, body) = get_as(catalog, "/federation/peers", token);
    assert_eq!(status, StatusCode::OK, "{body}");
    body["peers"]
        .as_array()
        .expect("peers")
        .iter()
        .map(|p| {
            (
                p["api_url"].as_str().expect("api_url").to_owned(),
                p.clone(),
            )
        })
        .collect()
}

/// Every item found by `GET /search` with `query`, following `next` links.
fn search_get(catalog: &Server, query: &str) -> Vec<Value> {
    let mut url = catalog.url(&format!("/search?limit=50&{query}"));
    let mut found = Vec::new();
    for _ in 0..20 {
        let (status, page) = catalog.get_json_url(&url);
        assert_eq!(status, StatusCode::OK, "{url}: {page}");
        found.extend(page["features"].as_array().expect("features").clone());
        match link(&page, "next") {
            Some(next) => url = next,
            None => return found,
        }
    }
    panic!("more than 20 pages of search results for {query}");
}

/// Item id → origin, of a list of items.
fn origins(items: &[Value]) -> BTreeMap<String, String> {
    items
        .iter()
        .map(|item| {
            let id = item["id"].as_str().expect("item id").to_owned();
            let origin = item["properties"]["flaneur:origin"].as_str();
            (id, origin.unwrap_or("local").to_owned())
        })
        .collect()
}

/// Ids of the pictures a tile over `at` shows at zoom 15.
fn on_map(catalog: &Server, at: (f64, f64)) -> BTreeSet<String> {
    let tile = fetch_tile(catalog, &tile_path(15, at));
    features(&tile, "pictures")
        .iter()
        .filter_map(|f| {
            f.properties.iter().find_map(|(k, v)| match v {
                MvtValue::Str(id) if k == "id" => Some(id.clone()),
                _ => None,
            })
        })
        .collect()
}

/// A sequence's id and its items' ids.
type Walk = (String, Vec<String>);

/// What the catalog should hold: for each peer, its relay's API root and its sequences with
/// their items.
struct Expected<'a> {
    held: Vec<(&'a str, Vec<Walk>)>,
}

impl Expected<'_> {
    fn items(&self) -> BTreeMap<String, String> {
        let mut all = BTreeMap::new();
        for (api, sequences) in &self.held {
            for (_, items) in sequences {
                for item in items {
                    all.insert(item.clone(), (*api).to_owned());
                }
            }
        }
        all
    }

    fn sequences(&self) -> BTreeMap<String, String> {
        self.held
            .iter()
            .flat_map(|(api, sequences)| {
                sequences.iter().map(|(s, _)| (s.clone(), api.to_string()))
            })
            .collect()
    }
}

/// Checks that every read path of the catalog shows exactly the expected union, each picture
/// and sequence with its origin, its `via` link and its files at its peer.
fn serves_union(catalog: &Server, expected: &Expected) {
    let items = expected.items();

    // Search, by GET and by POST, over every picture's place.
    assert_eq!(
        origins(&search_get(catalog, &format!("bbox={ALL_BBOX}"))),
        items
    );
    let (status, page) = catalog.post_json(
        "/search",
        &json!({ "bbox": ALL_BBOX.split(',').map(|n| n.parse::<f64>().expect("number"))
            .collect::<Vec<_>>(), "limit": 100 }),
    );
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(
        origins(page["features"].as_array().expect("features")),
        items
    );

    // A filter on the collection keeps only the pictures of the sequences it names, from
    // whichever peer they come.
    let sequences = expected.sequences();
    let picked: Vec<&String> = sequences.keys().step_by(2).collect();
    let in_picked: BTreeMap<String, String> = expected
        .held
        .iter()
        .flat_map(|(api, seqs)| {
            seqs.iter()
                .filter(|(s, _)| picked.contains(&s))
                .flat_map(|(_, ids)| ids.iter().map(|i| (i.clone(), api.to_string())))
        })
        .collect();
    let list = picked
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let filter = format!("collection IN ({list})");
    let encoded =
        percent_encoding::utf8_percent_encode(&filter, percent_encoding::NON_ALPHANUMERIC);
    let got = search_get(catalog, &format!("bbox={ALL_BBOX}&filter={encoded}"));
    assert_eq!(origins(&got), in_picked, "{filter}");
    let (status, page) = catalog.post_json(
        "/search",
        &json!({ "bbox": [-2, 48, 2, 49.5], "filter": filter, "limit": 100 }),
    );
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(
        origins(page["features"].as_array().expect("features")),
        in_picked
    );

    // The collections listing.
    let (status, listing) = catalog.get_json("/collections?limit=100");
    assert_eq!(status, StatusCode::OK, "{listing}");
    let listed: BTreeMap<String, String> = listing["collections"]
        .as_array()
        .expect("collections")
        .iter()
        .map(|c| {
            let id = c["id"].as_str().expect("collection id").to_owned();
            let origin = c["flaneur:origin"].as_str().unwrap_or("local").to_owned();
            (id, origin)
        })
        .collect();
    assert_eq!(listed, sequences);

    // Each collection and each of its items, one by one.
    for (api, seqs) in &expected.held {
        for (sequence, ids) in seqs {
            let shown = catalog.get_ok(&format!("/collections/{sequence}"));
            assert_eq!(shown["flaneur:origin"], json!(api), "{shown}");
            let root = api.strip_suffix("/api").expect("peer API root");
            assert_eq!(link(&shown, "via"), Some(root.to_owned()), "{shown}");
            let alternate = format!("{api}/collections/{sequence}");
            assert_eq!(link(&shown, "alternate"), Some(alternate), "{shown}");
            let listed = catalog.collection_items(sequence);
            let listed_ids: BTreeSet<String> = listed
                .iter()
                .map(|i| i["id"].as_str().expect("item id").to_owned())
                .collect();
            assert_eq!(listed_ids, ids.iter().cloned().collect(), "{sequence}");
            for id in ids {
                let path = format!("/collections/{sequence}/items/{id}");
                let item = catalog.get_ok(&path);
                assert_eq!(item["properties"]["flaneur:origin"], json!(api), "{item}");
                assert_eq!(link(&item, "via"), Some(root.to_owned()), "{item}");
                let alternate = Some(format!("{api}{path}"));
                assert_eq!(link(&item, "alternate"), alternate, "{item}");
                assert_eq!(link(&item, "self"), Some(catalog.url(&path)), "{item}");
                for (name, asset) in item["assets"].as_object().expect("assets") {
                    let href = asset["href"].as_str().expect("asset href");
                    assert!(href.starts_with(&format!("{api}/")), "{name}: {href}");
                }
            }
        }
    }

    // The map, over both places pictures were taken.
    let mut mapped = on_map(catalog, GOPRO_AT);
    mapped.extend(on_map(catalog, SONY_AT));
    assert_eq!(mapped, items.keys().cloned().collect());
}

#[test]
fn a_catalog_serves_three_peers_union_and_fetches_only_what_changed() {
    // 1. Three instances with pictures of their own; peers 1 and 3 share a place.
    let peer1 = Peer::start();
    let peer2 = Peer::start();
    let peer3 = Peer::start();
    let (walk1, items1) = peer1.publish("first", &GOPRO[..2]);
    let (walk2, items2) = peer2.publish("second", &SONY[..3]);
    let (walk3, items3) = peer3.publish("third", &GOPRO[3..]);

    // 2. The catalog declares them at start and harvests them on its own once; its next
    //    passes are due an hour later, so the command line runs the others.
    let dir = tempfile::tempdir().expect("catalog data folder");
    let data = dir.path();
    let apis = [&peer1, &peer2, &peer3].map(|p| p.relay.api.clone());
    let catalog = Server::start_in_with_env(
        data,
        &[
            ("FLANEUR_CATALOG_ONLY", "true"),
            ("FLANEUR_PEERS", &apis.join(",")),
            ("FLANEUR_HARVEST_INTERVAL", "1h"),
        ],
    );
    poll(
        Duration::from_secs(120),
        "the first pass of each peer",
        || {
            let listed = peers(&catalog, "anonymous");
            let done =
                listed.len() == 3 && listed.values().all(|p| p["last_success_at"].is_string());
            done.then_some(())
        },
    )
    .unwrap_or_else(|e| {
        panic!(
            "{e}: {:?}\nlogs:\n{}",
            peers(&catalog, "anonymous"),
            catalog.logs()
        )
    });

    // The first pass read each listing once and each sequence's items once.
    for (peer, walk) in [(&peer1, &walk1), (&peer2, &walk2), (&peer3, &walk3)] {
        let asked = classify(&peer.relay.take());
        assert_eq!(asked.listings, 1, "{asked:?}");
        assert_eq!(asked.items_of, BTreeSet::from([walk.clone()]), "{asked:?}");
        assert!(asked.other.is_empty(), "{asked:?}");
    }
    let mut expected = Expected {
        held: vec![
            (&apis[0], vec![(walk1.clone(), items1)]),
            (&apis[1], vec![(walk2.clone(), items2.clone())]),
            (&apis[2], vec![(walk3.clone(), items3.clone())]),
        ],
    };
    serves_union(&catalog, &expected);
    let listed = peers(&catalog, "anonymous");
    for (api, nb) in [(&apis[0], 2), (&apis[1], 3), (&apis[2], 2)] {
        assert_eq!(listed[api.as_str()]["nb_items"], json!(nb), "{listed:?}");
    }

    // 3. Changes: peer 1 deletes its sequence, peer 2 hides a picture, peer 3 publishes
    //    another sequence.
    peer1.change(
        Method::DELETE,
        &format!("/collections/{walk1}"),
        None,
        StatusCode::NO_CONTENT,
    );
    let hidden = items2[1].clone();
    peer2.change(
        Method::PATCH,
        &format!("/collections/{walk2}/items/{hidden}"),
        Some(json!({ "visibility": "owner-only" })),
        StatusCode::OK,
    );
    let (walk4, items4) = peer3.publish("fourth", &SONY[3..]);
    for peer in [&peer1, &peer2, &peer3] {
        peer.relay.take();
    }

    let (code, report) = harvest(data);
    assert_eq!(code, Some(0), "{report}");
    assert!(
        line_of(&report, &apis[0]).contains("\tremoved 1\t"),
        "{report}"
    );
    assert!(
        line_of(&report, &apis[1]).contains("\tapplied 1\t"),
        "{report}"
    );
    assert!(
        line_of(&report, &apis[2]).contains("\tapplied 1\t"),
        "{report}"
    );

    // Only what changed was read: the listings, the changed sequence's items at peer 2 and
    // the new sequence's at peer 3.
    let asked = [&peer1, &peer2, &peer3].map(|p| classify(&p.relay.take()));
    assert_eq!(asked[0].items_of, BTreeSet::new(), "{asked:?}");
    assert_eq!(
        asked[1].items_of,
        BTreeSet::from([walk2.clone()]),
        "{asked:?}"
    );
    assert_eq!(
        asked[2].items_of,
        BTreeSet::from([walk4.clone()]),
        "{asked:?}"
    );
    for asked in &asked {
        assert_eq!(asked.listings, 1, "{asked:?}");
        assert!(asked.other.is_empty(), "{asked:?}");
    }

    let kept: Vec<String> = items2.iter().filter(|i| **i != hidden).cloned().collect();
    expected.held = vec![
        (&apis[1], vec![(walk2.clone(), kept)]),
        (&apis[2], vec![(walk3, items3), (walk4, items4)]),
    ];
    serves_union(&catalog, &expected);
    let (status, gone) = catalog.get_json(&format!("/collections/{walk1}"));
    assert!(matches!(status.as_u16(), 404 | 410), "{gone}");
    let (status, gone) = catalog.get_json(&format!("/collections/{walk2}/items/{hidden}"));
    assert_eq!(status.as_u16(), 404, "{gone}");

    // 4. With no change anywhere, a pass reads the listings only.
    let (code, report) = harvest(data);
    assert_eq!(code, Some(0), "{report}");
    for (peer, api) in [&peer1, &peer2, &peer3].iter().zip(&apis) {
        let asked = classify(&peer.relay.take());
        assert_eq!(
            asked,
            Asked {
                listings: 1,
                ..Asked::default()
            },
            "{api}"
        );
        assert!(line_of(&report, api).contains("\tapplied 0\t"), "{report}");
    }
    serves_union(&catalog, &expected);
}

/// Serves `body` with `content_type` to every request.
fn garbage(content_type: &'static str, body: &'static str) -> String {
    let app = Router::new().fallback(move || async move {
        ([(header::CONTENT_TYPE, content_type)], body).into_response()
    });
    format!("{}/api", serve_app(app))
}

/// Answers every listing page with no collection and a link to one more page.
fn endless() -> String {
    let origin = Arc::new(Mutex::new(String::new()));
    let seen = origin.clone();
    let app = Router::new().fallback(move |Query(query): Query<BTreeMap<String, String>>| {
        let origin = seen.lock().expect("origin").clone();
        async move {
            let page: u64 = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(0);
            let next = format!("{origin}/api/collections?page={}", page + 1);
            axum::Json(json!({
                "type": "FeatureCollection",
                "collections": [],
                "links": [{ "rel": "next", "href": next, "type": "application/json" }],
            }))
        }
    });
    let started = serve_app(app);
    *origin.lock().expect("origin") = started.clone();
    format!("{started}/api")
}

#[test]
fn failing_peers_fail_alone_and_the_catalog_keeps_serving() {
    let healthy = Peer::start();
    let (walk, items) = healthy.publish("healthy", &SONY[..2]);
    let down = {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
        let port = closed.local_addr().expect("address").port();
        format!("http://127.0.0.1:{port}/api")
    };
    let html = garbage("text/html", "<html><body>Not an API</body></html>");
    let truncated = garbage("application/json", r#"{"collections": [{"id": "#);
    let endless = endless();
    let bad = [&down, &html, &truncated, &endless];

    // Declared by the operator, then harvested from the command line.
    let dir = tempfile::tempdir().expect("catalog data folder");
    let data = dir.path();
    for api in std::iter::once(&healthy.relay.api).chain(bad) {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_flaneur"))
            .args(["peer", "add", api, "--data-dir"])
            .arg(data)
            .envs(crate::backend::storage_env(data))
            .env("RUST_LOG", "warn")
            .output()
            .expect("flaneur peer add runs");
        assert!(output.status.success(), "{output:?}");
    }
    let (code, report) = harvest(data);
    assert_eq!(code, Some(1), "{report}");
    assert!(
        line_of(&report, &healthy.relay.api).contains("\tharvested\tapplied 1\t"),
        "{report}"
    );
    for api in bad {
        assert!(line_of(&report, api).contains("\tfailed: "), "{report}");
    }
    // The endless listing is cut at the configured number of pages.
    let cut = line_of(&report, &endless);
    assert!(
        cut.contains("past 20 pages") && cut.contains("\trequests 20\t"),
        "{cut}"
    );

    // The catalog serves what it has, and tells each bad peer's failure.
    let catalog = Server::start_in_with_env(data, &[("FLANEUR_CATALOG_ONLY", "true")]);
    let admin = account_with_token(data, "operator", true);
    let expected = Expected {
        held: vec![(&healthy.relay.api, vec![(walk.clone(), items.clone())])],
    };
    serves_union(&catalog, &expected);
    let listed = peers(&catalog, &admin);
    assert_eq!(
        listed[&healthy.relay.api]["failures"],
        json!(0),
        "{listed:?}"
    );
    assert_eq!(
        listed[&healthy.relay.api]["nb_items"],
        json!(2),
        "{listed:?}"
    );
    for (api, told) in [
        (&down, "127.0.0.1"),
        (&html, "text/html"),
        (&truncated, "JSON"),
        (&endless, "past 20 pages"),
    ] {
        let peer = &listed[api.as_str()];
        assert_eq!(peer["failures"], json!(1), "{peer}");
        assert!(peer["next_attempt_at"].is_string(), "{peer}");
        assert!(peer["last_success_at"].is_null(), "{peer}");
        let error = peer["last_error"].as_str().unwrap_or_default();
        assert!(error.contains(told), "{api}: {error}");
    }

    // A change at the healthy peer is picked up by the next pass while the others still fail.
    let (more, more_items) = healthy.publish("more", &SONY[2..4]);
    let (code, report) = harvest(data);
    assert_eq!(code, Some(1), "{report}");
    assert!(
        line_of(&report, &healthy.relay.api).contains("\tharvested\tapplied 1\t"),
        "{report}"
    );
    let expected = Expected {
        held: vec![(&healthy.relay.api, vec![(walk, items), (more, more_items)])],
    };
    serves_union(&catalog, &expected);
    let listed = peers(&catalog, &admin);
    for api in bad {
        let failures = listed[api.as_str()]["failures"]
            .as_u64()
            .unwrap_or_default();
        assert!(failures >= 2, "{api}: {listed:?}");
    }
    let (status, page) = catalog.get_json("/search");
    assert_eq!(status.as_u16(), 200, "{page}");
    assert_eq!(feature_ids(&page).len(), 4, "{page}");
}
