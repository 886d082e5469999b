//! Collections and items harvested from peers, as this instance serves them: the JSON their
//! instance sent, with links rebuilt to lead through this instance (self, parent, collection,
//! root, and prev/next by the ranks held here), a `via` link to the instance they come from,
//! an `alternate` link to the same document there, and `flaneur:origin` naming that instance's
//! API root.
//!
//! The instance they come from is the one holding their pictures: the `flaneur:origin` they
//! arrived with when a relay (an instance that harvested them in turn) served them, else the
//! peer they were harvested from (see [`flaneur_model::origin_url`]). So a catalog harvesting
//! a relay still sends readers and changes to the pictures' own instance.
//!
//! A collection's `updated` is when this instance's copy last changed, the instant its
//! listing filters, sorts and pages by: a catalog harvesting this one keeps the highest
//! `updated` it saw to ask for what changed since, so the two must agree. The peer's own
//! `updated` stays beside it, as `flaneur:origin_updated`, or the one a relay passed on.
//!
//! Asset addresses stay as received: the pictures are served by their instance only. The
//! `via` link is how clients such as the Panoramax viewer find where to send changes, since
//! this instance refuses them: the viewer takes its address as the instance's root and adds
//! `/api/collections/…` itself, so it names the root rather than the document.

use flaneur_model::{Origin, Picture, Sequence, origin_time, origin_url};
use serde_json::{Value, json};

use super::{collection_links, item_links, neighbour_link, ts};
use crate::url::BaseUrl;

pub use flaneur_model::{ORIGIN_KEY, ORIGIN_UPDATED_KEY};

/// The links to where a harvested document comes from: `via` to its instance's root (the
/// peer's API root without its `/api`) and `alternate` to the document itself there.
fn origin_links(peer_url: &str, document: String, kind: &str) -> [Value; 2] {
    let root = peer_url.strip_suffix("/api").unwrap_or(peer_url);
    [
        json!({
            "rel": "via",
            "type": "application/json",
            "href": root,
            "title": "The instance this document comes from",
        }),
        json!({
            "rel": "alternate",
            "type": kind,
            "href": document,
            "title": "This document at the instance it comes from",
        }),
    ]
}

/// The `license` links a harvested document was kept with (the only links kept from it).
fn license_links(doc: &serde_json::Map<String, Value>) -> Vec<Value> {
    let links = doc.get("links").and_then(Value::as_array);
    let licenses = links.into_iter().flatten();
    licenses
        .filter(|link| link.get("rel").and_then(Value::as_str) == Some("license"))
        .cloned()
        .collect()
}

/// A remote picture as a STAC item, from its `origin` harvested from the peer whose API root
/// is `peer_url`, with its neighbours held here.
pub fn item(
    base: &BaseUrl,
    p: &Picture,
    origin: &Origin,
    peer_url: &str,
    neighbours: (Option<&Picture>, Option<&Picture>),
) -> Value {
    let id = p.base.id;
    let seq = p.sequence_id.map(|s| s.to_string()).unwrap_or_default();
    let mut item = Value::Object(origin.doc.clone());
    // What makes it an item is ours to say, whatever the peer sent.
    item["type"] = json!("Feature");
    item["id"] = json!(id);
    item["collection"] = json!(seq);
    if !item["properties"].is_object() {
        item["properties"] = json!({});
    }
    let claimed = item["properties"][ORIGIN_KEY].as_str();
    let peer_url = origin_url(claimed, peer_url);
    let peer_url = peer_url.as_str();
    item["properties"][ORIGIN_KEY] = json!(peer_url);

    let mut links = item_links(base, &seq, &id.to_string());
    links.extend(origin_links(
        peer_url,
        format!("{peer_url}/collections/{seq}/items/{id}"),
        "application/geo+json",
    ));
    links.extend(license_links(&origin.doc));
    if let Some(prev) = neighbours.0 {
        links.push(neighbour_link(base, "prev", prev));
    }
    if let Some(next) = neighbours.1 {
        links.push(neighbour_link(base, "next", next));
    }
    item["links"] = json!(links);
    item
}

/// A remote sequence as a STAC collection, from its `origin` harvested from the peer whose
/// API root is `peer_url`.
pub fn collection(base: &BaseUrl, s: &Sequence, origin: &Origin, peer_url: &str) -> Value {
    let id = s.id;
    let claimed = origin.doc.get(ORIGIN_KEY).and_then(Value::as_str);
    let origin_root = origin_url(claimed, peer_url);
    // A relay's copy passes on the time its origin gave, so that it survives any number of
    // hops; a copy from the origin gives its own.
    let origin_updated = if origin_root == peer_url {
        origin_time(origin.doc.get("updated"))
    } else {
        origin_time(origin.doc.get(ORIGIN_UPDATED_KEY))
    };
    let peer_url = origin_root.as_str();
    let mut collection = Value::Object(origin.doc.clone());
    collection["type"] = json!("Collection");
    collection["id"] = json!(id);
    collection[ORIGIN_KEY] = json!(peer_url);
    collection[ORIGIN_UPDATED_KEY] = origin_updated.map_or(Value::Null, |at| json!(ts(at)));
    collection["updated"] = json!(ts(s.updated_at));
    let mut links = collection_links(base, &id.to_string());
    links.extend(origin_links(
        peer_url,
        format!("{peer_url}/collections/{id}"),
        "application/json",
    ));
    links.extend(license_links(&origin.doc));
    collection["links"] = json!(links);
    collection
}
