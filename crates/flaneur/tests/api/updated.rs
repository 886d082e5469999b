//! `updated` of collections and items as a harvester reads it: it follows every change of the
//! sequence and of its pictures, reading moves nothing, and `filter=updated > …` on the
//! collection list asks what changed since a visit.

use serde_json::Value;

use crate::server::{Server, collection_ids};
use crate::{GOPRO, SONY, pictures};

/// `updated` of a collection or item document.
fn updated(document: &Value) -> String {
    document["updated"]
        .as_str()
        .or_else(|| document["properties"]["updated"].as_str())
        .unwrap_or_else(|| panic!("no updated: {document}"))
        .to_owned()
}

fn instant(text: &str) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// Ids of the collections listed with this `filter`.
fn changed(server: &Server, filter: &str) -> Vec<String> {
    let mut url = reqwest::Url::parse(&server.url("/collections")).expect("listing URL");
    url.query_pairs_mut().append_pair("filter", filter);
    let (status, page) = server.get_json_url(url.as_str());
    assert_eq!(status, reqwest::StatusCode::OK, "{filter}: {page}");
    collection_ids(&page)
}

#[test]
fn a_collection_is_updated_with_its_pictures_and_a_harvester_sees_only_what_changed() {
    let server = Server::start();
    let gopro = server.upload_sequence("gopro", &pictures(&GOPRO), "anyone");
    let collection = server.get_ok(&format!("/collections/{gopro}"));
    let items = server.collection_items(&gopro);

    // The sequence moved with the last change of its pictures (their processing ended after
    // they were put in it).
    let seen = updated(&collection);
    assert!(instant(&seen) >= instant(collection["created"].as_str().expect("created")));
    for item in &items {
        assert!(
            instant(&seen) >= instant(&updated(item)),
            "{seen} before {item}"
        );
    }

    // Reading again, single items included, moves nothing.
    for item in &items {
        let id = item["id"].as_str().expect("item id");
        let again = server.get_ok(&format!("/pictures/{id}"));
        assert_eq!(updated(&again), updated(item));
    }
    assert_eq!(
        updated(&server.get_ok(&format!("/collections/{gopro}"))),
        seen
    );

    // A harvester that saw the first sequence asks what changed since: only the new one.
    let sony = server.upload_sequence("sony", &pictures(&SONY), "anyone");
    assert_eq!(changed(&server, &format!("updated >= '{seen}'")).len(), 2);
    assert_eq!(changed(&server, &format!("updated > '{seen}'")), vec![sony]);
    assert_eq!(
        updated(&server.get_ok(&format!("/collections/{gopro}"))),
        seen
    );
}

/// Ids of the items `/search` finds with this `filter`, at most 100.
fn found(server: &Server, filter: &str) -> Vec<String> {
    let mut url = reqwest::Url::parse(&server.url("/search")).expect("search URL");
    url.query_pairs_mut()
        .append_pair("filter", filter)
        .append_pair("limit", "100");
    let (status, page) = server.get_json_url(url.as_str());
    assert_eq!(status, reqwest::StatusCode::OK, "{filter}: {page}");
    page["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| f["id"].as_str().expect("item id").to_owned())
        .collect()
}

#[test]
fn a_picture_moved_to_another_sequence_is_found_by_its_update() {
    // Sorted by file name, a far picture sent later as `b.jpg` falls between two close ones:
    // the dispatch made again splits the set around it, and `c.jpg` leaves its sequence.
    let server = Server::start();
    let body = serde_json::json!({ "title": "moved", "sort_method": "filename-asc" });
    let (status, set) = server.post_json("/upload_sets", &body);
    assert_eq!(status, reqwest::StatusCode::OK, "{set}");
    let set = set["id"].as_str().expect("upload set id").to_owned();
    let send = |name: &str, path: &std::path::Path| {
        let bytes = std::fs::read(path).expect("picture");
        let (status, body) = server.upload_bytes(&set, name, bytes);
        assert!(status.is_success(), "{name}: {body}");
    };
    let complete = || {
        let (status, body) =
            server.post_json(&format!("/upload_sets/{set}/complete"), &Value::Null);
        assert!(status.is_success(), "{body}");
        server.wait_ready(&set)
    };
    let close = pictures(&[SONY[0], SONY[1]]);
    send("a.jpg", &close[0]);
    send("c.jpg", &close[1]);
    let first = complete();
    let sequence = first["associated_collections"][0]["id"]
        .as_str()
        .expect("collection id")
        .to_owned();
    let items = server.collection_items(&sequence);
    assert_eq!(items.len(), 2, "{first}");
    let moved = items[1]["id"].as_str().expect("item id").to_owned();
    let since = items.iter().map(updated).max().expect("an item");

    std::thread::sleep(std::time::Duration::from_millis(5));
    send("b.jpg", &pictures(&[GOPRO[0]])[0]);
    let second = complete();
    let item = server.get_ok(&format!("/pictures/{moved}"));
    assert_ne!(
        item["collection"].as_str(),
        Some(sequence.as_str()),
        "{second}"
    );
    let changed = found(&server, &format!("updated > '{since}'"));
    assert!(changed.contains(&moved), "{changed:?}\n{item}");
}
