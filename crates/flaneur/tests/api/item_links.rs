//! Links of single items: `prev`/`next` along the sequence and `related` pictures of other
//! sequences taken from about the same place.

use serde_json::{Value, json};

use crate::server::Server;
use crate::{SONY, pictures};

/// The links of relation `rel` of a document.
fn links<'a>(document: &'a Value, rel: &str) -> Vec<&'a Value> {
    document["links"]
        .as_array()
        .unwrap_or_else(|| panic!("no links: {document}"))
        .iter()
        .filter(|l| l["rel"] == rel)
        .collect()
}

/// Metres between two `[lon, lat]` points, flat-Earth (they are a few metres apart).
fn distance_m(a: &Value, b: &Value) -> f64 {
    let coord = |v: &Value, i: usize| v[i].as_f64().expect("coordinate");
    let metres_per_deg = 6_371_008.8 * std::f64::consts::PI / 180.0;
    let dx = (coord(a, 0) - coord(b, 0)) * metres_per_deg * coord(a, 1).to_radians().cos();
    let dy = (coord(a, 1) - coord(b, 1)) * metres_per_deg;
    (dx * dx + dy * dy).sqrt()
}

#[test]
fn single_items_link_their_neighbours_and_the_nearest_picture_of_each_other_sequence() {
    // The five Sony pictures, about 3 m apart along one street, cut into three sequences.
    let server = Server::start();
    let files = pictures(&SONY);
    let first = server.upload_sequence("first", &files[..2], "anyone");
    let second = server.upload_sequence("second", &files[2..4], "anyone");
    let third = server.upload_sequence("third", &files[4..], "anyone");
    let items = |c: &str| -> Vec<Value> { server.collection_items(c) };
    let (first_items, second_items, third_items) = (items(&first), items(&second), items(&third));
    let id = |item: &Value| item["id"].as_str().expect("item id").to_owned();

    // e3 (first of the second sequence): e2 of the first at 3 m, e5 of the third at 6 m; e1
    // is of the first sequence too, and e4 of its own.
    let item = server.get_ok(&format!("/pictures/{}", id(&second_items[0])));
    let related = links(&item, "related");
    let related_ids: Vec<String> = related.iter().map(|l| id(l)).collect();
    assert_eq!(
        related_ids,
        vec![id(&first_items[1]), id(&third_items[0])],
        "{item}"
    );
    for link in &related {
        let keys: Vec<&String> = link.as_object().expect("link object").keys().collect();
        assert_eq!(
            keys,
            ["datetime", "geometry", "href", "id", "rel", "type"],
            "{link}"
        );
        assert_eq!(link["type"], json!("application/geo+json"));
        assert_eq!(link["geometry"]["type"], json!("Point"));
        assert!(
            distance_m(
                &link["geometry"]["coordinates"],
                &item["geometry"]["coordinates"]
            ) < 15.0
        );
        let target = server.get_ok(&format!("/pictures/{}", id(link)));
        assert_eq!(
            link["datetime"].as_str(),
            target["properties"]["datetime"]
                .as_str()
                .map(|d| d.replace("+00:00", "Z"))
                .as_deref(),
            "{link}"
        );
        let href = link["href"].as_str().expect("href");
        assert!(
            href.ends_with(&format!(
                "/collections/{}/items/{}",
                target["collection"].as_str().expect("collection"),
                id(link)
            )),
            "{href}"
        );
    }
    // Only the nearest, e3, stands for the second sequence seen from e2.
    let item = server.get_ok(&format!(
        "/collections/{first}/items/{}",
        id(&first_items[1])
    ));
    let related_ids: Vec<String> = links(&item, "related").iter().map(|l| id(l)).collect();
    assert_eq!(related_ids, vec![id(&second_items[0]), id(&third_items[0])]);

    // Along a sequence: the first item has a next and no prev, the last a prev and no next.
    let head = server.get_ok(&format!("/pictures/{}", id(&second_items[0])));
    assert!(links(&head, "prev").is_empty(), "{head}");
    assert_eq!(id(links(&head, "next")[0]), id(&second_items[1]));
    let tail = server.get_ok(&format!("/pictures/{}", id(&second_items[1])));
    assert!(links(&tail, "next").is_empty(), "{tail}");
    assert_eq!(id(links(&tail, "prev")[0]), id(&second_items[0]));

    // Lists and search carry no neighbour or related links.
    for item in second_items.iter().chain(
        &server.get_ok("/search")["features"]
            .as_array()
            .expect("features")
            .clone(),
    ) {
        assert!(links(item, "related").is_empty(), "{item}");
        assert!(links(item, "next").is_empty(), "{item}");
    }
}
