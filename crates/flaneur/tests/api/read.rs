//! The read API: `/api/search` filters and paging, `/api/collections` paging, 404s and 400s
//! with GeoVisio's messages, CORS and trailing slashes.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use reqwest::header;
use serde_json::{Value, json};

use crate::server::{Server, feature_ids, link};
use crate::{GOPRO, SONY, pictures};

/// A server holding two ready sequences: the GoPro one (near Cergy, 2021-07-29) and the Sony
/// one (Rennes, 2022-10-19).
struct Catalog {
    server: Server,
    gopro: String,
    gopro_items: Vec<String>,
    sony: String,
    sony_items: Vec<String>,
}

fn catalog() -> Catalog {
    let server = Server::start();
    let mut sequences = Vec::new();
    for (title, names) in [("gopro", GOPRO), ("sony", SONY)] {
        let set = server.create_upload_set(title, Some(5));
        let items = server.upload_all(&set, &pictures(&names));
        let set_json = server.wait_ready(&set);
        let collection = set_json["associated_collections"][0]["id"]
            .as_str()
            .expect("collection id")
            .to_owned();
        sequences.push((collection, items));
    }
    let (sony, sony_items) = sequences.pop().expect("sony sequence");
    let (gopro, gopro_items) = sequences.pop().expect("gopro sequence");
    Catalog {
        server,
        gopro,
        gopro_items,
        sony,
        sony_items,
    }
}

fn ids(page: &Value) -> BTreeSet<String> {
    feature_ids(page).into_iter().collect()
}

fn set_of(ids: &[String]) -> BTreeSet<String> {
    ids.iter().cloned().collect()
}

fn assert_error(server: &Server, path: &str, status: StatusCode, message: &str) -> Value {
    let (got, body) = server.get_json(path);
    assert_eq!(got, status, "GET {path}: {body}");
    assert_eq!(body["message"], json!(message), "GET {path}: {body}");
    assert_eq!(
        body["status_code"],
        json!(status.as_u16()),
        "GET {path}: {body}"
    );
    body
}

#[test]
fn search_filters_by_bbox_datetime_ids_and_collections() {
    let Catalog {
        server,
        gopro,
        gopro_items,
        sony,
        sony_items,
    } = catalog();
    let all: BTreeSet<_> = set_of(&gopro_items)
        .union(&set_of(&sony_items))
        .cloned()
        .collect();

    assert_eq!(ids(&server.get_ok("/search")), all);
    let page = server.get_ok("/search?bbox=1.9185,49.0065,1.9200,49.0100");
    assert_eq!(ids(&page), set_of(&gopro_items));
    let page = server.get_ok("/search?bbox=-2,48,-1,49");
    assert_eq!(ids(&page), set_of(&sony_items));
    let page = server.get_ok("/search?bbox=10,10,11,11");
    assert_eq!(ids(&page), BTreeSet::new());

    let page = server.get_ok("/search?datetime=2021-07-29T00:00:00Z/2021-07-30T00:00:00Z");
    assert_eq!(ids(&page), set_of(&gopro_items));
    let page = server.get_ok("/search?datetime=2022-10-19T00:00:00Z/..");
    assert_eq!(ids(&page), set_of(&sony_items));

    let page = server.get_ok(&format!("/search?ids=%5B%22{}%22%5D", sony_items[2]));
    assert_eq!(ids(&page), set_of(&sony_items[2..3]));
    let page = server.get_ok(&format!("/search?collections=%5B%22{gopro}%22%5D"));
    assert_eq!(ids(&page), set_of(&gopro_items));

    let page = server.get_ok("/search?limit=3");
    assert_eq!(ids(&page).len(), 3);

    let (status, page) = server.post_json(
        "/search",
        &json!({"bbox": [1.9185, 49.0065, 1.9200, 49.0100], "limit": 10}),
    );
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(ids(&page), set_of(&gopro_items));
    let (status, page) = server.post_json("/search", &json!({"collections": [sony]}));
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(ids(&page), set_of(&sony_items));
    let (status, page) = server.post_json("/search", &json!({"ids": [gopro_items[0]]}));
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(ids(&page), set_of(&gopro_items[..1]));
}

#[test]
fn search_next_links_page_through_every_item_once() {
    let Catalog {
        server,
        gopro,
        gopro_items,
        ..
    } = catalog();
    let mut url = server.url(&format!("/search?collections=%5B%22{gopro}%22%5D&limit=2"));
    let mut seen = Vec::new();
    for _ in 0..10 {
        let (status, page) = server.get_json_url(&url);
        assert_eq!(status, StatusCode::OK, "GET {url}: {page}");
        let features = page["features"].as_array().expect("features");
        assert!(features.len() <= 2, "limit=2 gave {}", features.len());
        seen.extend(
            features
                .iter()
                .map(|f| f["id"].as_str().expect("id").to_owned()),
        );
        match link(&page, "next") {
            Some(next) => url = next,
            None => break,
        }
    }
    let unique = set_of(&seen);
    assert_eq!(unique.len(), seen.len(), "an item came twice: {seen:?}");
    assert_eq!(
        unique,
        set_of(&gopro_items),
        "paging missed items: {seen:?}"
    );
}

#[test]
fn collections_page_with_limit_and_next() {
    let Catalog {
        server,
        gopro,
        sony,
        ..
    } = catalog();
    let first = server.get_ok("/collections?limit=1");
    let collections = first["collections"].as_array().expect("collections");
    assert_eq!(collections.len(), 1, "{first}");
    let next = link(&first, "next").unwrap_or_else(|| panic!("no next link: {first}"));
    let (status, second) = server.get_json_url(&next);
    assert_eq!(status, StatusCode::OK, "GET {next}: {second}");
    let second_collections = second["collections"].as_array().expect("collections");
    assert_eq!(second_collections.len(), 1, "{second}");
    let found: BTreeSet<_> = [&collections[0], &second_collections[0]]
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(found, BTreeSet::from([gopro, sony]));
    if let Some(third) = link(&second, "next") {
        let (status, third_page) = server.get_json_url(&third);
        assert_eq!(status, StatusCode::OK, "GET {third}: {third_page}");
        assert_eq!(
            third_page["collections"],
            json!([]),
            "a third page of two collections: {third_page}"
        );
    }

    let with_slash = server.get_ok("/collections/");
    assert_eq!(with_slash["collections"].as_array().map(Vec::len), Some(2));
}

/// The search forms STAC API asks for beyond GeoVisio's: any geometry type for `intersects`
/// (a point or a line holds the pictures lying exactly on it), 3D bboxes, a `limit` above the
/// most taken as the most; and what it refuses: `bbox` with `intersects`, a bracketed `bbox` in
/// a query string, a bare date as `datetime`.
#[test]
fn search_takes_the_stac_api_forms() {
    let Catalog {
        server, sony_items, ..
    } = catalog();
    let picture = server.get_ok(&format!("/search?ids={}", sony_items[1]));
    let position = &picture["features"][0]["geometry"]["coordinates"];
    let point = json!({"type": "Point", "coordinates": position});
    let (status, page) = server.post_json("/search", &json!({ "intersects": point }));
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(ids(&page), set_of(&sony_items[1..2]));
    let coordinate = |i: usize| position[i].as_f64().expect("picture coordinate");
    let (lon, lat) = (coordinate(0), coordinate(1));
    let line = json!({"type": "LineString", "coordinates": [[lon - 1.0, lat], [lon + 1.0, lat]]});
    let collection = json!({"type": "GeometryCollection", "geometries": [line]});
    let (status, page) = server.post_json("/search", &json!({ "intersects": collection }));
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(ids(&page).contains(&sony_items[1]), "{page}");
    let (status, page) = server.post_json(
        "/search",
        &json!({"intersects": {"type": "Point", "coordinates": [lon + 0.001, lat]}}),
    );
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(ids(&page), BTreeSet::new());

    let page = server.get_ok("/search?bbox=-2,48,0,-1,49,100");
    assert_eq!(ids(&page), set_of(&sony_items));
    let page = server.get_ok("/search?limit=100000");
    assert_eq!(ids(&page).len(), 10);

    let (status, body) = server.post_json(
        "/search",
        &json!({"bbox": [-2, 48, -1, 49], "intersects": point}),
    );
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(
        &server,
        "/search?bbox=%5B-2,48,-1,49%5D",
        StatusCode::BAD_REQUEST,
        "Parameter bbox must be in format minX,minY,maxX,maxY, without brackets",
    );
    assert_error(
        &server,
        "/search?datetime=2022-10-19",
        StatusCode::BAD_REQUEST,
        "Invalid `datetime` argument",
    );
}

#[test]
fn read_errors_are_json_with_geovisio_messages() {
    let Catalog { server, gopro, .. } = catalog();
    assert_error(
        &server,
        "/search?bbox=1,2,3",
        StatusCode::BAD_REQUEST,
        "Parameter bbox must be in format [minX, minY, maxX, maxY]",
    );
    assert_error(
        &server,
        "/search?limit=0",
        StatusCode::BAD_REQUEST,
        "Parameter limit must be either empty or a number between 1 and 10000",
    );
    let body = assert_error(
        &server,
        "/search?datetime=yesterday",
        StatusCode::BAD_REQUEST,
        "Invalid `datetime` argument",
    );
    assert!(body["details"]["error"].is_string(), "{body}");
    assert_error(
        &server,
        "/collections?limit=0",
        StatusCode::BAD_REQUEST,
        "limit parameter should be an integer between 1 and 1000",
    );
    assert_error(
        &server,
        &format!("/collections/{gopro}/items?limit=-1"),
        StatusCode::BAD_REQUEST,
        "limit parameter should be an integer between 1 and 10000",
    );

    let unknown = "00000000-0000-0000-0000-000000000000";
    assert_error(
        &server,
        &format!("/collections/{unknown}"),
        StatusCode::NOT_FOUND,
        "Collection doesn't exist",
    );
    assert_error(
        &server,
        &format!("/collections/{gopro}/items/{unknown}"),
        StatusCode::NOT_FOUND,
        "Item doesn't exist",
    );
    let (status, body) = server.get_json(&format!("/collections/{unknown}/items"));
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = server.get_json("/nope");
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[test]
fn reads_allow_any_origin() {
    let server = Server::start();
    let response = server
        .client()
        .get(server.url("/collections"))
        .header(header::ORIGIN, "https://viewer.example")
        .send()
        .expect("GET /collections");
    assert_eq!(response.status(), StatusCode::OK);
    let allowed = response
        .headers()
        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .expect("Access-Control-Allow-Origin on a cross-origin read")
        .to_str()
        .expect("ASCII header");
    assert!(
        allowed == "*" || allowed == "https://viewer.example",
        "Access-Control-Allow-Origin: {allowed}"
    );
}

#[test]
fn any_encoding_means_one_every_client_reads() {
    // Clients that accept `*` get plain or gzip bytes, never an encoding few of them decode.
    let server = Server::start();
    let encoding = |accepted: &str| {
        let response = server
            .client()
            .get(server.url("/collections"))
            .header(header::ACCEPT_ENCODING, accepted)
            .send()
            .expect("GET /collections");
        assert_eq!(response.status(), StatusCode::OK);
        response
            .headers()
            .get(header::CONTENT_ENCODING)
            .map(|v| v.to_str().expect("ASCII header").to_owned())
    };
    let any = encoding("*");
    assert!(
        any.is_none() || any.as_deref() == Some("gzip"),
        "Accept-Encoding: * answered with {any:?}"
    );
    assert_eq!(encoding("gzip").as_deref(), Some("gzip"));
    assert_eq!(encoding("zstd, br"), None);
}

#[test]
fn the_operator_names_and_licenses_the_instance() {
    let server = Server::start_with_env(&[
        ("FLANEUR_INSTANCE_NAME", "Pictures of Rennes"),
        ("FLANEUR_CONTACT_EMAIL", "photos@rennes.example"),
        ("FLANEUR_LICENSE_ID", "etalab-2.0"),
    ]);
    let landing = server.get_ok("/");
    assert_eq!(landing["title"], json!("Pictures of Rennes"), "{landing}");
    assert_eq!(
        landing["contacts"][0]["emails"][0]["value"],
        json!("photos@rennes.example")
    );
    let configuration = server.get_ok("/configuration");
    assert_eq!(
        configuration["name"]["label"],
        json!("Pictures of Rennes"),
        "{configuration}"
    );
    assert_eq!(
        configuration["license"]["id"],
        json!("etalab-2.0"),
        "{configuration}"
    );
}
