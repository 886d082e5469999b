//! A synthetic Panoramax peer served on 127.0.0.1 for the harvest benchmark: a changed-collections
//! listing (`show_deleted`, `filter=updated >= '…'`, `sortby=+updated`, `limit` and keyset
//! `next` links) and each collection's items (`limit` and `startAfterRank`).
//!
//! Only one small record per collection is held; every item is written from its collection's
//! number and rank when a page is asked for, so a peer of 100,000 pictures costs a few
//! kilobytes until it answers. The peer counts its requests, the item pages asked per
//! collection and the bytes it sends.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde_json::{Value, json};

use crate::peer_doc::{collection_json, item_json};

/// One collection as the peer holds it; its items are made from it on request.
#[derive(Debug, Clone)]
pub struct Collection {
    /// Its number, from 1; its id and its items' ids are made from it.
    pub number: u32,
    /// Pictures in it, ranked 1 to `items`.
    pub items: u32,
    /// The listing's `updated`.
    pub updated: DateTime<Utc>,
    /// Whether it is listed as a tombstone.
    pub is_deleted: bool,
    /// Pictures of rank 1 to `edited` were edited `edits` times.
    pub edited: u32,
    /// How many times they were edited.
    pub edits: u32,
}

impl Collection {
    /// Its STAC id.
    pub fn id(&self) -> String {
        collection_id(self.number)
    }
}

/// The id of collection `number`.
pub fn collection_id(number: u32) -> String {
    format!("5eb1a2c0-{number:04x}-4c00-8000-00000000f1a0")
}

/// The id of the picture of `rank` in collection `number`.
pub fn item_id(number: u32, rank: u32) -> String {
    format!("9a7e0000-{number:04x}-4000-9000-{rank:012x}")
}

/// The heading the peer gives the picture of `rank` in `collection`, edits included.
pub fn heading(collection: &Collection, rank: u32) -> u32 {
    let base = (collection.number * 37 + rank * 3) % 360;
    if rank <= collection.edited {
        (base + 90 * collection.edits) % 360
    } else {
        base
    }
}

/// What the peer was asked and sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Traffic {
    /// Pages of the changed-collections listing.
    pub listing_pages: u64,
    /// Item pages asked, per collection number.
    pub item_pages: BTreeMap<u32, u64>,
    /// Body bytes sent.
    pub bytes: u64,
}

impl Traffic {
    /// Every request.
    pub fn requests(&self) -> u64 {
        self.listing_pages + self.item_pages.values().sum::<u64>()
    }
}

struct Shared {
    addr: SocketAddr,
    collections: Mutex<Vec<Collection>>,
    traffic: Mutex<Traffic>,
    bytes: AtomicU64,
}

/// A running synthetic peer.
#[derive(Clone)]
pub struct SyntheticPeer(Arc<Shared>);

/// The first `updated` of the peer: its collections were published a minute apart from then.
pub fn epoch() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-03-01T08:00:00.125000Z")
        .expect("a valid instant")
        .with_timezone(&Utc)
}

impl SyntheticPeer {
    /// Serves `collections` collections of `pictures` pictures on a free loopback port.
    pub async fn start(collections: u32, pictures: u32) -> SyntheticPeer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let held = (1..=collections)
            .map(|number| Collection {
                number,
                items: pictures,
                updated: epoch() + TimeDelta::minutes(i64::from(number)),
                is_deleted: false,
                edited: 0,
                edits: 0,
            })
            .collect();
        let peer = SyntheticPeer(Arc::new(Shared {
            addr: listener.local_addr().expect("the bound address"),
            collections: Mutex::new(held),
            traffic: Mutex::new(Traffic::default()),
            bytes: AtomicU64::new(0),
        }));
        let app = Router::new()
            .route("/api/collections", get(listing))
            .route("/api/collections/{id}/items", get(items))
            .with_state(peer.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        peer
    }

    /// The API root.
    pub fn api_url(&self) -> String {
        format!("http://{}/api", self.0.addr)
    }

    /// The collections as held now.
    pub fn collections(&self) -> MutexGuard<'_, Vec<Collection>> {
        self.0.collections.lock().expect("peer state")
    }

    /// What the peer was asked since the last call, which starts a new count.
    pub fn take_traffic(&self) -> Traffic {
        let mut traffic = std::mem::take(&mut *self.0.traffic.lock().expect("peer traffic"));
        traffic.bytes = self.0.bytes.swap(0, Ordering::Relaxed);
        traffic
    }

    /// Edits the first `pictures` pictures of collection `number` (new heading), as a
    /// contributor would, which moves the collection's `updated` past every other.
    pub fn edit(&self, number: u32, pictures: u32) {
        let mut held = self.collections();
        let next = latest(&held);
        let c = &mut held[number as usize - 1];
        c.edited = pictures.min(c.items);
        c.edits += 1;
        c.updated = next;
    }

    /// Deletes collection `number`: it is listed as a tombstone from now on.
    pub fn delete(&self, number: u32) {
        let mut held = self.collections();
        let next = latest(&held);
        let c = &mut held[number as usize - 1];
        c.is_deleted = true;
        c.updated = next;
    }

    /// Publishes a new collection of `pictures` pictures; returns its number.
    pub fn add(&self, pictures: u32) -> u32 {
        let mut held = self.collections();
        let number = held.len() as u32 + 1;
        let updated = latest(&held);
        held.push(Collection {
            number,
            items: pictures,
            updated,
            is_deleted: false,
            edited: 0,
            edits: 0,
        });
        number
    }

    fn count(&self, page: impl FnOnce(&mut Traffic)) {
        page(&mut self.0.traffic.lock().expect("peer traffic"));
    }

    fn answer(&self, content_type: &'static str, body: &Value) -> Response {
        let text = body.to_string();
        self.0.bytes.fetch_add(text.len() as u64, Ordering::Relaxed);
        ([(header::CONTENT_TYPE, content_type)], text).into_response()
    }
}

/// A second after the latest `updated` held, so that each change sorts last.
fn latest(held: &[Collection]) -> DateTime<Utc> {
    let last = held.iter().map(|c| c.updated).max().unwrap_or_else(epoch);
    last + TimeDelta::seconds(1) + TimeDelta::microseconds(271)
}

pub fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, false)
}

fn bad_request(message: String) -> Response {
    let body = json!({ "message": message, "status_code": 400 });
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

/// `'<text>'` pieces of a filter or cursor, in order.
fn quoted(text: &str) -> Vec<&str> {
    text.split('\'').skip(1).step_by(2).collect()
}

fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    let text = text.replacen(' ', "T", 1);
    DateTime::parse_from_rfc3339(&text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// `GET /api/collections`: collections sorted by `(updated, id)` with `sortby=+updated`
/// (by number otherwise), from the `updated >= '…'` filter and after the `page` cursor.
async fn listing(
    State(peer): State<SyntheticPeer>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    peer.count(|t| t.listing_pages += 1);
    let limit = match q.get("limit").map(|l| l.parse::<usize>()) {
        None => 100,
        Some(Ok(l)) if (1..=1000).contains(&l) => l,
        Some(_) => return bad_request("limit must be an integer from 1 to 1000".into()),
    };
    let show_deleted = q.get("show_deleted").is_some_and(|v| v == "true");
    let by_updated = match q.get("sortby").map(String::as_str) {
        None | Some("+created") => false,
        Some("+updated") => true,
        Some(other) => return bad_request(format!("unsupported sortby {other}")),
    };
    let since = match q.get("filter") {
        None => None,
        Some(f) => match (f.starts_with("updated >= '"), quoted(f).first()) {
            (true, Some(at)) => match parse_instant(at) {
                Some(at) => Some(at),
                None => return bad_request(format!("invalid instant in filter {f}")),
            },
            _ => return bad_request(format!("unsupported filter {f}")),
        },
    };
    // The cursor names the last entry of the previous page, as the reference's keyset
    // expressions do: `updated > 'T' OR (updated = 'T' AND id > 'I')`.
    let after = match q.get("page").map(|p| quoted(p)) {
        None => None,
        Some(parts) => match (parts.first().and_then(|t| parse_instant(t)), parts.get(2)) {
            (Some(at), Some(id)) => Some((at, (*id).to_owned())),
            _ => return bad_request("invalid page cursor".into()),
        },
    };

    let mut listed: Vec<Collection> = {
        let held = peer.collections();
        held.iter()
            .filter(|c| show_deleted || !c.is_deleted)
            .filter(|c| since.is_none_or(|s| c.updated >= s))
            .cloned()
            .collect()
    };
    if by_updated {
        listed.sort_by_key(|c| (c.updated, c.id()));
    }
    if let Some((at, id)) = &after {
        listed.retain(|c| (c.updated, c.id()) > (*at, id.clone()));
    }
    let more = listed.len() > limit;
    listed.truncate(limit);

    let base = format!("{}/collections", peer.api_url());
    let mut links = vec![
        json!({ "rel": "root", "href": format!("{}/", peer.api_url()),
                "type": "application/json" }),
        json!({ "rel": "self", "href": base, "type": "application/json" }),
    ];
    if let (true, Some(last)) = (more, listed.last()) {
        let at = instant(last.updated);
        let cursor = format!(
            "updated > '{at}' OR (updated = '{at}' AND id > '{}')",
            last.id()
        );
        let mut next = url::Url::parse(&base).expect("the peer's address");
        {
            let mut pairs = next.query_pairs_mut();
            let mut kept: Vec<_> = q.iter().filter(|(k, _)| *k != "page").collect();
            kept.sort();
            for (k, v) in kept {
                pairs.append_pair(k, v);
            }
            pairs.append_pair("page", &cursor);
        }
        links.push(json!({ "rel": "next", "href": next.as_str(), "type": "application/json" }));
    }
    let collections: Vec<Value> = listed
        .iter()
        .map(|c| collection_json(&peer.api_url(), c))
        .collect();
    peer.answer(
        "application/json",
        &json!({ "collections": collections, "links": links }),
    )
}

/// `GET /api/collections/{id}/items`: `limit` items after `startAfterRank`.
async fn items(
    State(peer): State<SyntheticPeer>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let collection = {
        let held = peer.collections();
        held.iter().find(|c| c.id() == id && !c.is_deleted).cloned()
    };
    let Some(collection) = collection else {
        let body = json!({ "message": "Collection doesn't exist", "status_code": 404 });
        return (StatusCode::NOT_FOUND, axum::Json(body)).into_response();
    };
    peer.count(|t| *t.item_pages.entry(collection.number).or_default() += 1);
    let limit = match q.get("limit").map(|l| l.parse::<u32>()) {
        None => collection.items,
        Some(Ok(l)) if (1..=10_000).contains(&l) => l,
        Some(_) => return bad_request("limit must be an integer from 1 to 10000".into()),
    };
    let after = match q.get("startAfterRank").map(|r| r.parse::<u32>()) {
        None => 0,
        Some(Ok(r)) => r,
        Some(Err(_)) => return bad_request("startAfterRank must be an integer".into()),
    };

    let last = collection.items.min(after.saturating_add(limit));
    let api = peer.api_url();
    let features: Vec<Value> = (after + 1..=last)
        .map(|rank| item_json(&api, &collection, rank))
        .collect();
    let base = format!("{api}/collections/{id}/items");
    let mut links = vec![json!({ "rel": "self", "href": base, "type": "application/geo+json" })];
    if last < collection.items {
        let href = format!("{base}?limit={limit}&startAfterRank={last}");
        links.push(json!({ "rel": "next", "href": href, "type": "application/geo+json" }));
    }
    peer.answer(
        "application/geo+json",
        &json!({ "type": "FeatureCollection", "features": features, "links": links }),
    )
}
