//! CQL2 filters, sorting and tombstones on the collection lists: what a harvester relies on
//! to follow an instance incrementally.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::server::{Server, collection_ids};
use crate::{GOPRO, SONY, pictures};

/// Query parameters of a listing and the ids it should answer, in order.
type Case<'a> = (&'a [(&'a str, &'a str)], Vec<&'a String>);

/// `/collections` with these query parameters, encoded.
fn listing(server: &Server, pairs: &[(&str, &str)]) -> (StatusCode, Value) {
    let mut url = reqwest::Url::parse(&server.url("/collections")).expect("listing URL");
    url.query_pairs_mut().extend_pairs(pairs);
    server.get_json_url(url.as_str())
}

#[test]
fn filters_select_collections_and_bad_ones_say_where_they_fail() {
    let server = Server::start();
    let gopro = server.upload_sequence("gopro", &pictures(&GOPRO), "anyone");
    let sony = server.upload_sequence("sony", &pictures(&SONY), "anyone");

    let by_id = format!("id = '{sony}'");
    let json_by_id = json!({"op": "=", "args": [{"property": "id"}, sony]}).to_string();
    let cases: [Case; 6] = [
        (&[("filter", &by_id)], vec![&sony]),
        (
            &[("filter", &json_by_id), ("filter-lang", "cql2-json")],
            vec![&sony],
        ),
        (
            &[("filter", "updated >= '2000-01-01'")],
            vec![&gopro, &sony],
        ),
        (&[("filter", "created < DATE('2000-01-01')")], vec![]),
        (&[("filter", "datetime >= '2100-01-01T00:00:00Z'")], vec![]),
        (
            &[("filter", "visibility IN ('anyone') AND NOT id IS NULL")],
            vec![&gopro, &sony],
        ),
    ];
    for (pairs, expected) in cases {
        let (status, page) = listing(&server, pairs);
        assert_eq!(status, StatusCode::OK, "{pairs:?}: {page}");
        let expected: Vec<String> = expected.into_iter().cloned().collect();
        assert_eq!(collection_ids(&page), expected, "{pairs:?}");
    }

    for (pairs, needle) in [
        (&[("filter", "updated >= ")][..], "at character 12"),
        (&[("filter", "colour = 'red'")], "'colour'"),
        (&[("filter", "updated >= 'yesterday'")], "'updated'"),
        (&[("filter", "visibility = 'everyone'")], "'visibility'"),
        (
            &[("filter", "{"), ("filter-lang", "cql2-json")],
            "CQL2 JSON",
        ),
        (
            &[("filter", "id = 'a'"), ("filter-lang", "sql")],
            "filter-lang",
        ),
    ] {
        let (status, body) = listing(&server, pairs);
        assert_eq!(status, StatusCode::BAD_REQUEST, "{pairs:?}: {body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{pairs:?}: {message}");
    }
}

/// Every page of a listing, following `next` from `first_url`; also checks that no page holds
/// more than `limit` collections.
fn walk(server: &Server, first_url: &str, rel: &str, limit: usize) -> Vec<Value> {
    let mut url = Some(first_url.to_owned());
    let mut all = Vec::new();
    for _ in 0..50 {
        let Some(at) = url else {
            return all;
        };
        let (status, page) = server.get_json_url(&at);
        assert_eq!(status, StatusCode::OK, "GET {at}: {page}");
        let rows = page["collections"].as_array().expect("collections").clone();
        assert!(rows.len() <= limit, "GET {at}: {page}");
        if rel == "prev" {
            all.splice(0..0, rows);
        } else {
            all.extend(rows);
        }
        url = crate::server::link(&page, rel);
    }
    panic!("more than 50 pages from {first_url}");
}

/// The value a collection is sorted by for a `sortby` field.
fn sort_value(collection: &Value, field: &str) -> String {
    let value = match field {
        "datetime" => &collection["extent"]["temporal"]["interval"][0][0],
        other => &collection[other],
    };
    match field {
        // Instants are compared as instants, whatever their written precision.
        "id" => value.as_str().unwrap_or_default().to_owned(),
        _ => chrono::DateTime::parse_from_rfc3339(value.as_str().unwrap_or_default())
            .map(|t| format!("{:020}", t.timestamp_micros()))
            .unwrap_or_default(),
    }
}

#[test]
fn every_order_pages_forward_and_back_and_deletions_come_back_as_tombstones() {
    let server = Server::start();
    let mut public = Vec::new();
    for name in [&SONY[1], &SONY[0], &GOPRO[0], &SONY[3]] {
        public.push(server.upload_sequence(name, &pictures(&[name]), "anyone"));
    }
    let hidden = server.upload_sequence("hidden", &pictures(&[SONY[2]]), "owner-only");

    // 1. Each order, two per page: forward with next, back from the last page with prev,
    //    every public sequence exactly once, in order.
    for sortby in [
        "created",
        "-created",
        "+updated",
        "-updated",
        "datetime",
        "-datetime",
        "id",
        "-id",
        "-datetime,+created",
    ] {
        let mut url = reqwest::Url::parse(&server.url("/collections")).expect("URL");
        url.query_pairs_mut()
            .append_pair("sortby", sortby)
            .append_pair("limit", "2");
        let forward = walk(&server, url.as_str(), "next", 2);
        let mut seen: Vec<String> = collection_ids(&json!({ "collections": forward }));
        assert_eq!(seen.len(), public.len(), "{sortby}: {seen:?}");
        seen.sort();
        let mut expected = public.clone();
        expected.sort();
        assert_eq!(seen, expected, "{sortby}");

        let first_key = sortby.split(',').next().unwrap_or_default();
        let (descending, field) = match first_key.strip_prefix('-') {
            Some(f) => (true, f),
            None => (false, first_key.trim_start_matches('+')),
        };
        let values: Vec<String> = forward.iter().map(|c| sort_value(c, field)).collect();
        let mut sorted = values.clone();
        sorted.sort();
        if descending {
            sorted.reverse();
        }
        assert_eq!(values, sorted, "{sortby} is not in order");

        let (_, first) = server.get_json_url(url.as_str());
        let last = crate::server::link(&first, "last").expect("last link");
        let backward = walk(&server, &last, "prev", 2);
        assert_eq!(
            collection_ids(&json!({ "collections": backward })),
            collection_ids(&json!({ "collections": forward })),
            "{sortby}: backward pages differ"
        );
    }

    // 2. A harvester's visit: changes since a date, oldest change first, with tombstones.
    let (_, before) = listing(&server, &[("sortby", "-updated"), ("limit", "1")]);
    let since = before["collections"][0]["updated"]
        .as_str()
        .expect("updated")
        .to_owned();
    let gone = public[1].clone();
    let set = server.get_ok(&format!("/collections/{gone}"));
    let set = crate::server::link(&set, "upload_set").expect("upload set link");
    let response = server
        .client()
        .delete(&set)
        .send()
        .expect("DELETE upload set");
    assert!(response.status().is_success(), "{}", response.status());

    let changes = format!("updated >= '{since}'");
    let legacy = format!("status IN ('deleted','ready') AND {changes}");
    for pairs in [
        &[("filter", changes.as_str()), ("show_deleted", "true")][..],
        &[("filter", legacy.as_str())],
    ] {
        let mut all = pairs.to_vec();
        all.push(("sortby", "+updated"));
        let (status, page) = listing(&server, &all);
        assert_eq!(status, StatusCode::OK, "{page}");
        let rows = page["collections"].as_array().expect("collections");
        let last = rows.last().expect("a row");
        let updated = last["updated"].as_str().expect("a tombstone's updated");
        let tombstone = json!({ "id": gone, "geovisio:status": "deleted", "updated": updated });
        assert_eq!(last, &tombstone, "{pairs:?}: {page}");
    }
    let (_, everything) = listing(&server, &[("show_deleted", "true"), ("limit", "100")]);
    let tombstones: Vec<String> = everything["collections"]
        .as_array()
        .expect("collections")
        .iter()
        .filter(|c| c["geovisio:status"] == "deleted")
        .map(|c| c["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    let mut expected = vec![gone.clone(), hidden.clone()];
    expected.sort();
    let mut tombstones = tombstones;
    tombstones.sort();
    assert_eq!(tombstones, expected, "{everything}");
    let (_, plain) = listing(&server, &[("filter", changes.as_str())]);
    assert!(!collection_ids(&plain).contains(&gone), "{plain}");

    // 3. What cannot be read is refused with a reason.
    for pairs in [
        &[("filter", "status = 'deleted'")][..],
        &[("sortby", "-colour")],
        &[("sortby", "+updated"), ("page", "after:1_2_3")],
        &[("show_deleted", "yes")],
        &[("limit", "1001")],
        &[("limit", "0")],
    ] {
        let (status, body) = listing(&server, pairs);
        assert_eq!(status, StatusCode::BAD_REQUEST, "{pairs:?}: {body}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
    }
}

/// The `page` parameter of a link of a listing page, when the link is there.
fn page_of(page: &Value, rel: &str) -> Option<String> {
    let href = crate::server::link(page, rel)?;
    let url = reqwest::Url::parse(&href).expect("link URL");
    url.query_pairs()
        .find(|(k, _)| k == "page")
        .map(|(_, v)| v.into_owned())
}

#[test]
fn tombstones_tell_nothing_of_a_hidden_sequence_but_its_id_and_update() {
    let server = Server::start();
    let first = server.upload_sequence("first", &pictures(&[SONY[1]]), "anyone");
    let hidden = server.upload_sequence("hidden", &pictures(&[SONY[2]]), "owner-only");
    let last = server.upload_sequence("last", &pictures(&[GOPRO[0]]), "anyone");

    // 1. Whatever would make a tombstone's presence or rank depend on its place, capture
    //    time, creation time or visibility is refused, saying what may be used instead.
    for pairs in [
        &[("bbox", "-180,-90,180,90")][..],
        &[("datetime", "2000-01-01T00:00:00Z/..")],
        &[("filter", "datetime >= '2000-01-01'")],
        &[(
            "filter",
            "updated >= '2000-01-01' AND created >= '2000-01-01'",
        )],
        &[("filter", "NOT visibility = 'anyone'")],
        &[("sortby", "datetime")],
        &[("sortby", "+updated,-created")],
        &[("format", "rss")],
    ] {
        let mut all = pairs.to_vec();
        all.push(("show_deleted", "true"));
        let (status, body) = listing(&server, &all);
        assert_eq!(status, StatusCode::BAD_REQUEST, "{pairs:?}: {body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains("show_deleted"), "{pairs:?}: {message}");
    }
    let legacy = "status IN ('deleted','ready') AND datetime >= '2000-01-01'";
    let (status, body) = listing(&server, &[("filter", legacy)]);
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // 2. One row a page, in the default order of tombstone listings: every page position
    //    carries the `updated` of its edge row and its id, nothing else; and a shown row's
    //    `updated` is what its position carries, so positions are `updated` values.
    let mut url = reqwest::Url::parse(&server.url("/collections")).expect("URL");
    url.query_pairs_mut()
        .append_pair("show_deleted", "true")
        .append_pair("limit", "1");
    let mut at = Some(url.to_string());
    let mut seen = Vec::new();
    while let Some(here) = at {
        let (status, page) = server.get_json_url(&here);
        assert_eq!(status, StatusCode::OK, "{page}");
        let row = page["collections"][0].clone();
        let id = row["id"].as_str().expect("id").to_owned();
        for rel in ["next", "prev"] {
            let Some(position) = page_of(&page, rel) else {
                continue;
            };
            let (_, values) = position.split_once(':').expect("side");
            let (value, edge) = values.split_once('_').expect("one value and an id");
            assert_eq!(edge, id, "{rel} of {page}");
            if let Some(updated) = row["updated"].as_str() {
                let micros = chrono::DateTime::parse_from_rfc3339(updated)
                    .expect("updated")
                    .timestamp_micros();
                assert_eq!(value, micros.to_string(), "{rel} of {page}");
            }
        }
        seen.push(row);
        assert!(seen.len() <= 3, "more pages than sequences");
        at = crate::server::link(&page, "next");
    }
    assert_eq!(seen.len(), 3, "{seen:?}");
    let updated = seen[1]["updated"].as_str().expect("a tombstone's updated");
    let tombstone = json!({ "id": hidden, "geovisio:status": "deleted", "updated": updated });
    assert_eq!(seen[1], tombstone, "{seen:?}");
    assert_eq!(
        collection_ids(&json!({ "collections": [&seen[0], &seen[2]] })),
        [first, last]
    );

    // 3. The harvest query still finds it, and a page past the end links back to the first.
    let (_, page) = listing(
        &server,
        &[
            ("show_deleted", "true"),
            ("filter", "updated >= '2000-01-01' AND id IS NOT NULL"),
            ("sortby", "+updated"),
        ],
    );
    assert!(
        page["collections"]
            .as_array()
            .expect("rows")
            .contains(&tombstone)
    );
    let beyond = format!("after:{}_{hidden}", i64::MAX);
    let (status, page) = listing(&server, &[("show_deleted", "true"), ("page", &beyond)]);
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["collections"], json!([]));
    assert!(crate::server::link(&page, "first").is_some(), "{page}");
}
