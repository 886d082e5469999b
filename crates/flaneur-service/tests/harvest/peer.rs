//! A Panoramax-like peer served on 127.0.0.1: a changed-collections listing with keyset-like
//! `next` links and items listings, plus answers that go wrong on demand.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde_json::{Value, json};

/// A collection the peer holds.
#[derive(Clone)]
pub struct Collection {
    pub id: String,
    pub updated: DateTime<Utc>,
    pub is_deleted: bool,
    pub items: usize,
    /// The `flaneur:origin` it is listed with, as a relay lists what it harvested.
    pub origin: Option<String>,
}

/// How the peer misbehaves.
#[derive(Clone, Default)]
pub enum Trouble {
    #[default]
    None,
    /// Every answer is this body with this content type.
    Body(&'static str, &'static str),
    /// Item pages answer this body (as JSON) instead of their features.
    ItemsBody(&'static str),
    /// The listing answers 500 for the items of this collection, once.
    ItemsFailOnce(String),
    /// The listing streams JSON-looking bytes without end.
    Endless,
    /// Every listing page is empty and links to the next offset, without end.
    EndlessChain,
    /// The second listing page links back to the first.
    Loop,
    /// The first listing page's `next` is this address.
    NextTo(String),
    /// Every answer waits this long.
    Slow(Duration),
    /// The listing redirects to this address.
    RedirectTo(String),
    /// Listing pages past the first answer 400, as for an expired page address.
    RefuseOffsets,
}

#[derive(Default)]
pub struct Data {
    pub collections: Vec<Collection>,
    pub trouble: Trouble,
    /// Whether tombstones carry their `updated`, as a Flâneur peer's do; GeoVisio's do not.
    pub dated_tombstones: bool,
    /// Path and query of every request received.
    pub requests: Vec<String>,
}

/// A running mock peer.
#[derive(Clone)]
pub struct MockPeer {
    pub addr: SocketAddr,
    data: Arc<Mutex<Data>>,
    /// Bytes sent by endless answers.
    pub streamed: Arc<AtomicU64>,
}

/// A collection id made from a number, so tests can name them.
pub fn seq_id(n: usize) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

fn item_id(seq: usize, rank: usize) -> String {
    format!("00000000-0000-4000-9{seq:03}-{rank:012}")
}

/// `n` collections of `items` items each, updated one minute apart from 2024-01-01.
pub fn collections(n: usize, items: usize) -> Vec<Collection> {
    let base = DateTime::parse_from_rfc3339("2024-01-01T00:00:00.250Z")
        .expect("base instant")
        .with_timezone(&Utc);
    (1..=n)
        .map(|i| Collection {
            id: seq_id(i),
            updated: base + TimeDelta::minutes(i as i64),
            is_deleted: false,
            items,
            origin: None,
        })
        .collect()
}

impl MockPeer {
    pub async fn start(collections: Vec<Collection>) -> MockPeer {
        let data = Arc::new(Mutex::new(Data {
            collections,
            ..Data::default()
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("mock peer port");
        let addr = listener.local_addr().expect("mock peer address");
        let peer = MockPeer {
            addr,
            data,
            streamed: Arc::new(AtomicU64::new(0)),
        };
        let app = Router::new()
            .route("/api/collections", get(listing))
            .route("/api/collections/{id}", get(one_collection))
            .route("/api/collections/{id}/items", get(items))
            .fallback(other)
            .with_state(peer.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        peer
    }

    pub fn api_url(&self) -> String {
        format!("http://{}/api", self.addr)
    }

    pub fn data(&self) -> MutexGuard<'_, Data> {
        self.data.lock().expect("mock peer state")
    }

    pub fn requests(&self) -> Vec<String> {
        self.data().requests.clone()
    }

    pub fn set_trouble(&self, trouble: Trouble) {
        self.data().trouble = trouble;
    }

    /// Marks collection `n` as changed (or deleted) a day later than any other.
    pub fn touch(&self, n: usize, is_deleted: bool) {
        let mut data = self.data();
        let latest = data.collections.iter().map(|c| c.updated).max();
        let c = &mut data.collections[n - 1];
        c.updated = latest.expect("collections") + TimeDelta::days(1);
        c.is_deleted = is_deleted;
    }

    /// Records the request and returns the trouble to apply, after any delay.
    async fn enter(&self, path_and_query: String) -> Trouble {
        let trouble = {
            let mut data = self.data();
            data.requests.push(path_and_query);
            data.trouble.clone()
        };
        if let Trouble::Slow(delay) = trouble {
            tokio::time::sleep(delay).await;
        }
        trouble
    }
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, false)
}

fn json_response(content_type: &'static str, body: Value) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body.to_string()).into_response()
}

fn query_string(q: &HashMap<String, String>) -> String {
    let mut pairs: Vec<_> = q.iter().collect();
    pairs.sort();
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

async fn listing(
    State(peer): State<MockPeer>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let trouble = peer
        .enter(format!("/api/collections?{}", query_string(&q)))
        .await;
    let base = format!("http://{}/api/collections", peer.addr);
    let offset: usize = q.get("offset").and_then(|o| o.parse().ok()).unwrap_or(0);
    let mut next_query = q.clone();
    next_query.insert("offset".into(), (offset + 1).to_string());
    match trouble {
        Trouble::Body(content_type, body) => {
            return ([(header::CONTENT_TYPE, content_type)], body).into_response();
        }
        Trouble::Endless => {
            let streamed = peer.streamed.clone();
            let chunk = Bytes::from(format!("{{\"collections\": [{}", "0, ".repeat(2048)));
            let stream = futures::stream::repeat_with(move || {
                streamed.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                Ok::<_, std::io::Error>(chunk.clone())
            });
            return (
                [(header::CONTENT_TYPE, "application/json")],
                Body::from_stream(stream),
            )
                .into_response();
        }
        Trouble::EndlessChain => {
            let next = format!("{base}?{}", query_string(&next_query));
            return json_response(
                "application/json",
                json!({ "collections": [], "links": [{ "rel": "next", "href": next }] }),
            );
        }
        Trouble::Loop => {
            // The second page links back to the first, as it was first asked.
            if offset == 1 {
                next_query.remove("offset");
            }
            let next = format!("{base}?{}", query_string(&next_query));
            return json_response(
                "application/json",
                json!({ "collections": [], "links": [{ "rel": "next", "href": next }] }),
            );
        }
        Trouble::RedirectTo(to) => {
            return (StatusCode::FOUND, [(header::LOCATION, to)]).into_response();
        }
        Trouble::RefuseOffsets if offset > 0 => {
            return StatusCode::BAD_REQUEST.into_response();
        }
        Trouble::NextTo(next) => {
            return json_response(
                "application/json",
                json!({ "collections": [], "links": [{ "rel": "next", "href": next }] }),
            );
        }
        _ => {}
    }

    // `filter=updated >= '<instant>'`, the only filter a harvester sends.
    let since = q.get("filter").map(|f| {
        let at = f
            .strip_prefix("updated >= '")
            .and_then(|f| f.strip_suffix('\''))
            .expect("filter on updated");
        DateTime::parse_from_rfc3339(at)
            .expect("RFC 3339 filter")
            .with_timezone(&Utc)
    });
    assert_eq!(q.get("show_deleted").map(String::as_str), Some("true"));
    assert_eq!(q.get("sortby").map(String::as_str), Some("+updated"));
    let limit: usize = q.get("limit").and_then(|l| l.parse().ok()).expect("limit");

    let mut listed: Vec<Collection> = peer
        .data()
        .collections
        .iter()
        .filter(|c| since.is_none_or(|s| c.updated >= s))
        .cloned()
        .collect();
    listed.sort_by_key(|c| c.updated);
    let page: Vec<Value> = listed
        .iter()
        .skip(offset * limit)
        .take(limit)
        .map(|c| collection_json(&peer, c))
        .collect();
    let mut links = vec![json!({ "rel": "root", "href": format!("http://{}/api/", peer.addr) })];
    if (offset + 1) * limit < listed.len() {
        let next = format!("{base}?{}", query_string(&next_query));
        links.push(json!({ "rel": "next", "type": "application/json", "href": next }));
    }
    json_response(
        "application/json",
        json!({ "collections": page, "links": links }),
    )
}

/// One collection, as a Panoramax instance answers it: 404 once deleted.
async fn one_collection(State(peer): State<MockPeer>, Path(id): Path<String>) -> Response {
    peer.enter(format!("/api/collections/{id}")).await;
    let found = peer
        .data()
        .collections
        .iter()
        .find(|c| c.id == id && !c.is_deleted)
        .cloned();
    match found {
        Some(c) => json_response("application/json", collection_json(&peer, &c)),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn collection_json(peer: &MockPeer, c: &Collection) -> Value {
    if c.is_deleted && peer.data().dated_tombstones {
        return json!({ "id": c.id, "geovisio:status": "deleted", "updated": ts(c.updated) });
    }
    if c.is_deleted {
        return json!({ "id": c.id, "geovisio:status": "deleted" });
    }
    let mut listed = json!({
        "type": "Collection", "stac_version": "1.0.0", "id": c.id,
        "title": format!("Sequence {}", c.id), "updated": ts(c.updated),
        "providers": [{ "name": "alice", "id": "u-1", "roles": ["producer"] }],
        "links": [{ "rel": "items",
                    "href": format!("http://{}/api/collections/{}/items", peer.addr, c.id) }],
    });
    if let Some(origin) = &c.origin {
        listed["flaneur:origin"] = json!(origin);
    }
    listed
}

async fn items(
    State(peer): State<MockPeer>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let path = format!("/api/collections/{id}/items?{}", query_string(&q));
    match peer.enter(path).await {
        Trouble::Body(content_type, body) => {
            return ([(header::CONTENT_TYPE, content_type)], body).into_response();
        }
        Trouble::ItemsBody(body) => {
            return ([(header::CONTENT_TYPE, "application/geo+json")], body).into_response();
        }
        Trouble::ItemsFailOnce(failing) if failing == id => {
            peer.data().trouble = Trouble::None;
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        _ => {}
    }
    let Some(n) = peer.data().collections.iter().position(|c| c.id == id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let count = peer.data().collections[n].items;
    let limit: usize = q.get("limit").and_then(|l| l.parse().ok()).expect("limit");
    let after: usize = q
        .get("startAfterRank")
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    let features: Vec<Value> = (after + 1..=count.min(after + limit))
        .map(|rank| item_json(&id, n + 1, rank))
        .collect();
    let mut links = vec![];
    if after + limit < count {
        let href = format!(
            "http://{}/api/collections/{id}/items?limit={limit}&startAfterRank={}",
            peer.addr,
            after + limit
        );
        links.push(json!({ "rel": "next", "href": href }));
    }
    json_response(
        "application/geo+json",
        json!({ "type": "FeatureCollection", "features": features, "links": links }),
    )
}

fn item_json(seq: &str, n: usize, rank: usize) -> Value {
    json!({
        "type": "Feature", "id": item_id(n, rank), "collection": seq,
        "geometry": { "type": "Point", "coordinates": [2.0 + rank as f64 * 1e-4, 48.0] },
        "properties": {
            "datetime": "2024-01-01T10:00:00+00:00",
            "geovisio:rank_in_collection": rank,
            "view:azimuth": 90,
            "pers:interior_orientation": { "field_of_view": 360,
                                           "sensor_array_dimensions": [5760, 2880] },
        },
        "links": [{ "rel": "self", "href": "elsewhere" }],
    })
}

async fn other(State(peer): State<MockPeer>, uri: axum::http::Uri) -> Response {
    peer.enter(uri.to_string()).await;
    StatusCode::NOT_FOUND.into_response()
}
