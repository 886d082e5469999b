//! CQL2 filters, sorting and tombstones on the collection lists: what a harvester relies on
//! to follow an instance incrementally.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::server::Server;
use crate::{GOPRO, SONY, pictures};

/// Ids of the collections of a listing page.
fn ids(page: &Value) -> Vec<String> {
    page["collections"]
        .as_array()
        .expect("collections")
        .iter()
        .map(|c| c["id"].as_str().expect("collection id").to_owned())
        .collect()
}

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
        assert_eq!(ids(&page), expected, "{pairs:?}");
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
        let mut seen: Vec<String> = ids(&json!({ "collections": forward }));
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
            ids(&json!({ "collections": backward })),
            ids(&json!({ "collections": forward })),
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
        let tombstone = json!({ "id": gone, "geovisio:status": "deleted" });
        assert_eq!(rows.last(), Some(&tombstone), "{pairs:?}: {page}");
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
    assert!(!ids(&plain).contains(&gone), "{plain}");

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
