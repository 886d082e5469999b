//! `updated` of collections and items as a harvester reads it: it follows every change of the
//! sequence and of its pictures, reading moves nothing, and `filter=updated > …` on the
//! collection list asks what changed since a visit.

use serde_json::Value;

use crate::server::Server;
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
    page["collections"]
        .as_array()
        .expect("collections")
        .iter()
        .map(|c| c["id"].as_str().expect("collection id").to_owned())
        .collect()
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
