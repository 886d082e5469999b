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
