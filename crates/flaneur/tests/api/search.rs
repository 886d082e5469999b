//! `/api/search` beyond its filters: every order paged forward and backward by GET and POST,
//! the pictures looking at a place, and the 400s of malformed sorts, places and page tokens.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::server::{Server, feature_ids, json_of};
use crate::{GOPRO, SONY, pictures};

/// A server holding the GoPro (360°, Cergy) and the Sony (flat, heading west, Rennes)
/// sequences, and the ids of their pictures in capture order.
fn catalog() -> (Server, Vec<String>, Vec<String>) {
    let server = Server::start();
    let mut items = Vec::new();
    for (title, names) in [("gopro", GOPRO), ("sony", SONY)] {
        let set = server.create_upload_set(title, Some(names.len()));
        items.push(server.upload_all(&set, &pictures(&names)));
        server.wait_ready(&set);
    }
    let sony = items.pop().expect("sony pictures");
    let gopro = items.pop().expect("gopro pictures");
    (server, gopro, sony)
}

fn find_link<'a>(page: &'a Value, rel: &str) -> Option<&'a Value> {
    page["links"].as_array()?.iter().find(|l| l["rel"] == rel)
}

/// Follows a paging link as a client would: a GET to its href, or a POST of its body.
fn follow(server: &Server, link: &Value) -> Value {
    let href = link["href"].as_str().expect("link href");
    let request = if link["method"] == "POST" {
        assert_eq!(
            link["merge"],
            json!(false),
            "POST links carry the whole search: {link}"
        );
        server.client().post(href).json(&link["body"])
    } else {
        server.client().get(href)
    };
    let (status, page) = json_of(request.send().expect("follow a link"));
    assert_eq!(status, StatusCode::OK, "{link}: {page}");
    page
}

/// Pages from `first` to the end by `next` links, then back to the start by `prev` links;
/// returns the ids in order both ways (the second list put back in forward order).
fn walk(server: &Server, first: Value) -> (Vec<String>, Vec<String>) {
    assert!(
        find_link(&first, "prev").is_none(),
        "the first page has no prev: {first}"
    );
    let mut forward = feature_ids(&first);
    let mut page = first;
    for _ in 0..20 {
        let Some(next) = find_link(&page, "next").cloned() else {
            break;
        };
        page = follow(server, &next);
        assert!(
            find_link(&page, "first").is_some(),
            "a later page links to the first"
        );
        forward.extend(feature_ids(&page));
    }
    let mut backward: Vec<Vec<String>> = vec![feature_ids(&page)];
    for _ in 0..20 {
        let Some(prev) = find_link(&page, "prev").cloned() else {
            break;
        };
        page = follow(server, &prev);
        backward.push(feature_ids(&page));
    }
    assert!(
        find_link(&page, "first").is_none(),
        "back on the first page: {page}"
    );
    let backward = backward.into_iter().rev().flatten().collect();
    (forward, backward)
}

/// The value an order compares, as text that sorts like the value (UTC instants all share
/// one format).
fn sort_value(feature: &Value, field: &str) -> String {
    let value = match field {
        "id" => &feature["id"],
        "datetime" => &feature["properties"]["datetime"],
        other => &feature["properties"][other],
    };
    value.as_str().expect("a string").to_owned()
}

#[test]
fn every_order_pages_both_ways_without_losing_an_item() {
    let (server, gopro, sony) = catalog();
    let all: BTreeSet<String> = gopro.iter().chain(&sony).cloned().collect();

    let orders = [
        (
            "-datetime",
            json!([{"field": "datetime", "direction": "desc"}]),
        ),
        (
            "+ts",
            json!([{"field": "properties.ts", "direction": "asc"}]),
        ),
        (
            "created,-id",
            json!([{"field": "created"}, {"field": "id", "direction": "desc"}]),
        ),
        (
            "-updated",
            json!([{"field": "updated", "direction": "desc"}]),
        ),
        ("-id", json!([{"field": "id", "direction": "desc"}])),
    ];
    for (text, body) in orders {
        let first = server.get_ok(&format!(
            "/search?limit=3&sortby={}",
            text.replace('+', "%2B")
        ));
        let (got, first_post) = server.post_json("/search", &json!({"limit": 3, "sortby": body}));
        assert_eq!(got, StatusCode::OK, "{first_post}");
        assert_eq!(
            feature_ids(&first),
            feature_ids(&first_post),
            "GET and POST agree on {text}"
        );
        assert_eq!(
            find_link(&first_post, "next").map(|l| l["method"].clone()),
            Some(json!("POST")),
            "{first_post}"
        );

        for page in [first, first_post] {
            let (forward, backward) = walk(&server, page);
            assert_eq!(forward.len(), all.len(), "{text}: {forward:?}");
            assert_eq!(
                forward.iter().cloned().collect::<BTreeSet<_>>(),
                all,
                "{text}"
            );
            assert_eq!(
                backward, forward,
                "{text}: prev links retrace the next links"
            );
        }

        // One page holding everything shows the order itself.
        let whole = server.get_ok(&format!(
            "/search?limit=20&sortby={}",
            text.replace('+', "%2B")
        ));
        let features = whole["features"].as_array().expect("features");
        let key = text.split(',').next().expect("a first key");
        let (descending, field) = match key.strip_prefix('-') {
            Some(f) => (true, f),
            None => (false, key.trim_start_matches('+')),
        };
        let field = if field == "ts" { "datetime" } else { field };
        for pair in features.windows(2) {
            let (a, b) = (sort_value(&pair[0], field), sort_value(&pair[1], field));
            assert!(
                if descending { a >= b } else { a <= b },
                "{text}: {a} then {b}"
            );
        }
    }

    // A page token belongs to the order it was made in.
    let first = server.get_ok("/search?limit=3&sortby=-datetime");
    let next = find_link(&first, "next").expect("a next page");
    let href = next["href"].as_str().expect("href");
    let swapped = href.replace("sortby=-datetime", "sortby=created");
    assert_ne!(swapped, href);
    let (status, body) = server.get_json_url(&swapped);
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // The default order is the most recently updated first.
    let default = server.get_ok("/search?limit=20");
    let explicit = server.get_ok("/search?limit=20&sortby=-updated,%2Bid");
    assert_eq!(feature_ids(&default), feature_ids(&explicit));
    // An empty POST sortby is the default order too, and a limit may come as digits.
    for sortby in [json!([]), json!(""), json!(" ")] {
        let (status, posted) =
            server.post_json("/search", &json!({"sortby": sortby, "limit": "20"}));
        assert_eq!(status, StatusCode::OK, "{sortby}: {posted}");
        assert_eq!(feature_ids(&posted), feature_ids(&default), "{sortby}");
    }
}

#[test]
fn place_search_finds_the_pictures_looking_at_it_nearest_first() {
    let (server, gopro, sony) = catalog();

    // 8 m west of the last Sony picture: e5, e4 and e3 look at it from 8, 10 and 14 m; e2 and
    // e1 look at it too but from beyond 15 m.
    let west = "/search?place_position=-1.68473,48.155075";
    let found = feature_ids(&server.get_ok(west));
    assert_eq!(
        found,
        vec![sony[4].clone(), sony[3].clone(), sony[2].clone()]
    );
    let wider = feature_ids(&server.get_ok(&format!("{west}&place_distance=0-25")));
    assert_eq!(wider.len(), 5, "{wider:?}");
    let (status, posted) = server.post_json(
        "/search",
        &json!({"place_position": [-1.68473, 48.155075], "place_distance": "9-15"}),
    );
    assert_eq!(status, StatusCode::OK, "{posted}");
    assert_eq!(feature_ids(&posted), vec![sony[3].clone(), sony[2].clone()]);

    // 8 m east of the first one, behind every Sony picture: none looks that way.
    let east = server.get_ok("/search?place_position=-1.68436,48.1550664&place_distance=0-40");
    assert_eq!(feature_ids(&east), Vec::<String>::new());

    // 360° pictures see the place whatever their heading: 6 m east of the third GoPro picture.
    let near_gopro = feature_ids(&server.get_ok("/search?place_position=1.91928,49.0069263"));
    assert!(near_gopro.contains(&gopro[2]), "{near_gopro:?}");
    assert!(
        near_gopro.iter().all(|id| gopro.contains(id)),
        "{near_gopro:?}"
    );

    // A sort given with a place replaces nearest-first; paging keeps the place.
    let first = server.get_ok(&format!("{west}&place_distance=0-25&sortby=id&limit=2"));
    let (forward, backward) = walk(&server, first);
    let mut sorted = wider.clone();
    sorted.sort();
    assert_eq!(forward, sorted);
    assert_eq!(backward, forward);
    let first = server.get_ok(&format!("{west}&place_distance=0-25&limit=2"));
    let next = find_link(&first, "next").expect("a next page").clone();
    let (forward, _) = walk(&server, first);
    assert_eq!(forward, wider, "nearest first across pages");

    // A page token belongs to its search: the same search by POST reads it, another place
    // (whose distances it would misread) or another criterion does not.
    let href = next["href"].as_str().expect("href");
    let token = href.split("page=").nth(1).expect("a page token");
    let second = feature_ids(&follow(&server, &next));
    let same = json!({"place_position": [-1.68473, 48.155075], "place_distance": "0-25",
                      "limit": 2, "page": token});
    let (status, posted) = server.post_json("/search", &same);
    assert_eq!(status, StatusCode::OK, "{posted}");
    assert_eq!(feature_ids(&posted), second);
    let moved = href.replace("48.155075", "48.155");
    let narrowed = format!("{href}&collections={}", collection_of(&server, &sony[0]));
    for other in [moved, narrowed] {
        assert_ne!(other, href);
        let (status, body) = server.get_json_url(&other);
        assert_eq!(status, StatusCode::BAD_REQUEST, "{other}: {body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains("Parameter page"), "{body}");
    }
    let mut elsewhere = same.clone();
    elsewhere["place_fov_tolerance"] = json!(90);
    let (status, body) = server.post_json("/search", &elsewhere);
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

/// The sequence holding a picture.
fn collection_of(server: &Server, picture: &str) -> String {
    let found = server.get_ok(&format!("/search?ids={picture}"));
    found["features"][0]["collection"]
        .as_str()
        .expect("the picture's collection")
        .to_owned()
}

#[test]
fn malformed_search_parameters_get_a_400_naming_them() {
    let server = Server::start();
    let cases = [
        "/search?sortby=-altitude",
        "/search?sortby=datetime,%2Bwhatever",
        "/search?place_position=2",
        "/search?place_position=200,48",
        "/search?place_position=2,48&place_distance=15-3",
        "/search?place_position=2,48&place_distance=far",
        "/search?place_position=2,48&place_fov_tolerance=1",
        "/search?place_position=2,48&place_fov_tolerance=270",
        "/search?place_distance=3-15",
        "/search?page=nonsense",
    ];
    for path in cases {
        let (status, body) = server.get_json(path);
        assert_eq!(status, StatusCode::BAD_REQUEST, "GET {path}: {body}");
        let message = body["message"].as_str().unwrap_or_default();
        let named = ["sortby", "place_", "page"]
            .iter()
            .any(|p| message.contains(p));
        assert!(named, "GET {path}: the message names the parameter: {body}");
    }
    let (status, body) = server.post_json(
        "/search",
        &json!({"sortby": [{"field": "datetime", "direction": "sideways"}]}),
    );
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    for limit in [json!("ten"), json!("-3"), json!(true), json!([10])] {
        let (status, body) = server.post_json("/search", &json!({ "limit": limit }));
        assert_eq!(status, StatusCode::BAD_REQUEST, "limit {limit}: {body}");
    }

    // Filters are read in CRS84 only, and say so when asked for another system.
    let crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
    let epsg = "http://www.opengis.net/def/crs/EPSG/0/4326";
    server.get_ok(&format!("/search?filter-crs={}", encode(crs84)));
    let (status, body) = server.get_json(&format!("/search?filter-crs={}", encode(epsg)));
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("CRS84"),
        "{body}"
    );
    let (status, body) = server.post_json("/search", &json!({ "filter-crs": crs84 }));
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = server.post_json("/search", &json!({ "filter-crs": epsg }));
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("filter-crs"),
        "{body}"
    );

    // A token made for one order is refused by another.
    let first = server.get_ok("/search?limit=1");
    assert!(
        find_link(&first, "next").is_none(),
        "an empty catalog has one page"
    );
}

/// Uploads pictures in an upload set created with semantic tags; returns the sequence id and
/// the picture ids.
fn tagged_sequence(server: &Server, names: &[&str], tags: Value) -> (String, Vec<String>) {
    let body = json!({ "title": "tagged", "estimated_nb_files": names.len(), "semantics": tags });
    let (status, set) = server.post_json("/upload_sets", &body);
    assert_eq!(status, StatusCode::OK, "{set}");
    let set = set["id"].as_str().expect("upload set id").to_owned();
    let items = server.upload_all(&set, &pictures(names));
    let set = server.wait_ready(&set);
    let collection = set["associated_collections"][0]["id"]
        .as_str()
        .expect("collection id");
    (collection.to_owned(), items)
}

#[test]
fn filters_match_semantic_tags_of_sequences_and_other_properties() {
    let server = Server::start();
    let car = json!([
        {"key": "transport", "value": "car"},
        {"key": "osm|traffic_sign", "value": "yes"},
    ]);
    let (gopro_seq, gopro) = tagged_sequence(&server, &GOPRO, car);
    let bike = json!([{"key": "transport", "value": "bike"}]);
    let (_, sony) = tagged_sequence(&server, &SONY, bike);
    let sorted = |ids: &[String]| ids.iter().cloned().collect::<BTreeSet<_>>();
    let both = sorted(&[gopro.clone(), sony.clone()].concat());

    // The sequences carry their upload set's tags, and their items show them.
    let collection = server.get_ok(&format!("/collections/{gopro_seq}"));
    assert_eq!(
        collection["semantics"],
        json!([{"key": "osm|traffic_sign", "value": "yes"}, {"key": "transport", "value": "car"}])
    );
    let item = server.get_ok(&format!("/collections/{gopro_seq}/items/{}", gopro[0]));
    assert_eq!(
        item["properties"]["collection"]["semantics"],
        collection["semantics"]
    );
    assert_eq!(item["properties"]["semantics"], json!([]));

    let found = |filter: &str| {
        let path = format!("/search?limit=20&filter={}", encode(filter));
        sorted(&feature_ids(&server.get_ok(&path)))
    };
    assert_eq!(found("semantics.transport='car'"), sorted(&gopro));
    assert_eq!(found("semantics.transport IN ('car', 'bike')"), both);
    assert_eq!(
        found("\"semantics.osm|traffic_sign\" IS NOT NULL"),
        sorted(&gopro)
    );
    assert_eq!(
        found("\"semantics.osm|traffic_sign\" IS NULL"),
        sorted(&sony)
    );
    assert_eq!(found("semantics IS NOT NULL"), both);
    assert_eq!(found("semantics IS NULL"), BTreeSet::new());
    assert_eq!(
        found("semantics.transport='car' OR semantics.transport='bike'"),
        both
    );
    // AND is read too: here, bike tags on pictures taken in 2022.
    let recent_bikes = "semantics.transport='bike' AND datetime >= '2022-01-01'";
    assert_eq!(found(recent_bikes), sorted(&sony));
    assert_eq!(
        found("semantics.transport='car' AND datetime >= '2022-01-01'"),
        BTreeSet::new()
    );
    assert_eq!(
        found(&format!("collection = '{gopro_seq}'")),
        sorted(&gopro)
    );
    assert_eq!(
        found(&format!("id IN ('{}', '{}')", gopro[1], sony[1])).len(),
        2
    );
    assert_eq!(found("status = 'ready' AND created >= '2020-01-01'"), both);

    // The JSON form in a POST, with paging that keeps the filter.
    let body = json!({
        "limit": 2,
        "filter": {"op": "=", "args": [{"property": "semantics.transport"}, "car"]},
    });
    let (status, first) = server.post_json("/search", &body);
    assert_eq!(status, StatusCode::OK, "{first}");
    let (forward, backward) = walk(&server, first);
    assert_eq!(sorted(&forward), sorted(&gopro));
    assert_eq!(backward, forward);
    let text = "/search?limit=2&filter=semantics.transport%3D%27bike%27&sortby=datetime";
    let (forward, _) = walk(&server, server.get_ok(text));
    assert_eq!(forward, sony, "bike pictures in capture order");

    for bad in [
        "semantics.transport <> 'car'",
        "semantics = 'car'",
        "semantics.transport = 3",
        "altitude > 3",
        "status = 'hidden'",
        "semantics.transport LIKE 'c%'",
    ] {
        let (status, body) = server.get_json(&format!("/search?filter={}", encode(bad)));
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains("filter"), "{bad}: {body}");
    }
}

/// Percent-encodes a query value.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
