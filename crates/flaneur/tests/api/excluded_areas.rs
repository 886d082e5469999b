//! Excluded areas over HTTP with real tokens: who may list and change which areas, bad
//! GeoJSON refused saying why, and a real picture refused inside a general area, an inverted
//! set's outside, or its uploader's own area, but not inside another account's.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::accounts::{account_with_token, bearer, client, get_as, post_as, upload_bytes_as};
use crate::server::{Server, json_of};
use crate::{GOPRO, pictures};

/// Where `1.jpg` was taken.
pub const LON: f64 = 1.919_185;
pub const LAT: f64 = 49.006_890;

/// A square of 0.02° around `(lon, lat)` as a GeoJSON Polygon.
pub fn square(lon: f64, lat: f64) -> Value {
    let (w, s, e, n) = (lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01);
    json!({ "type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]] })
}

pub fn feature(geometry: Value, label: &str, is_public: bool) -> Value {
    json!({ "type": "Feature", "geometry": geometry,
            "properties": { "label": label, "is_public": is_public } })
}

pub fn send(
    server: &Server,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let mut request = bearer(client().request(method, server.url(path)), token);
    if let Some(body) = body {
        request = request
            .header("Content-Type", "application/geo+json")
            .body(body.to_string());
    }
    let response = request.send().expect("request");
    let status = response.status();
    if status == StatusCode::NO_CONTENT {
        return (status, Value::Null);
    }
    json_of(response)
}

/// Sends `1.jpg` to a new upload set of the token's account.
fn upload(server: &Server, token: &str) -> (StatusCode, Value, String) {
    let (status, set) = post_as(server, "/upload_sets", token, &json!({ "title": "walk" }));
    assert_eq!(status, StatusCode::OK, "{set}");
    let set = set["id"].as_str().expect("id").to_owned();
    let bytes = std::fs::read(&pictures(&GOPRO[..1])[0]).expect("picture");
    let (status, body) = upload_bytes_as(server, &set, token, bytes);
    (status, body, set)
}

fn labels(collection: &Value) -> Vec<String> {
    let features = collection["features"].as_array().expect("features");
    features
        .iter()
        .map(|f| {
            f["properties"]["label"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[test]
fn general_areas_are_managed_by_administrators_and_refuse_pictures() {
    let dir = tempfile::tempdir().expect("data folder");
    let ana = account_with_token(dir.path(), "ana", false);
    let root = account_with_token(dir.path(), "root", true);
    let server = Server::start_in(dir.path());
    let general = "/configuration/excluded_areas";

    // 1. Only administrators add, replace, delete, or list the private ones.
    let body = feature(square(LON, LAT), "airfield", false);
    for token in [&ana, "anonymous"] {
        let (status, refusal) = send(&server, reqwest::Method::POST, general, token, Some(&body));
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::UNAUTHORIZED,
            "{status} {refusal}"
        );
        let (status, _) = get_as(&server, &format!("{general}?all=true"), token);
        assert!(status == StatusCode::FORBIDDEN || status == StatusCode::UNAUTHORIZED);
    }
    let (status, added) = send(&server, reqwest::Method::POST, general, &root, Some(&body));
    assert_eq!(status, StatusCode::OK, "{added}");
    assert_eq!(added["geometry"]["type"], "MultiPolygon");
    assert_eq!(added["properties"]["label"], "airfield");
    assert_eq!(added["properties"]["account_id"], Value::Null);
    let id = added["properties"]["id"].as_str().expect("id").to_owned();

    // 2. A private area is listed to administrators asking for all only.
    let (status, public) = get_as(&server, general, "anonymous");
    assert_eq!(status, StatusCode::OK, "{public}");
    assert_eq!(public["type"], "FeatureCollection");
    assert!(labels(&public).is_empty(), "{public}");
    let (_, all) = get_as(&server, &format!("{general}?all=true"), &root);
    assert_eq!(labels(&all), ["airfield"]);

    // 3. It refuses Ana's picture, as Panoramax instances say, and the refusal is listed.
    let (status, refusal, set) = upload(&server, &ana);
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refusal}");
    assert_eq!(
        refusal["message"],
        "Picture is located within an excluded area"
    );
    assert_eq!(
        refusal["details"]["error"],
        "The picture is located within a general excluded area."
    );
    let (_, files) = get_as(&server, &format!("/upload_sets/{set}/files"), &ana);
    assert_eq!(
        files["files"][0]["rejected"]["reason"], "in_excluded_area",
        "{files}"
    );

    // 4. Deleted, it refuses nothing more; a second delete finds nothing.
    let one = format!("{general}/{id}");
    let (status, _) = send(&server, reqwest::Method::DELETE, &one, &ana, None);
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = send(&server, reqwest::Method::DELETE, &one, &root, None);
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(&server, reqwest::Method::DELETE, &one, &root, None);
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, accepted, _) = upload(&server, &ana);
    assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
}

#[test]
fn an_inverted_set_refuses_pictures_outside_its_areas() {
    let dir = tempfile::tempdir().expect("data folder");
    let ana = account_with_token(dir.path(), "ana", false);
    let bob = account_with_token(dir.path(), "bob", false);
    let root = account_with_token(dir.path(), "root", true);
    let server = Server::start_in(dir.path());
    let general = "/configuration/excluded_areas";

    // Allowed: a square elsewhere only. The picture lies outside it.
    let elsewhere = json!({ "type": "FeatureCollection", "features": [
        feature(square(LON + 1.0, LAT), "elsewhere", false)
    ]});
    let put = format!("{general}?invert=true");
    let (status, _) = send(&server, reqwest::Method::PUT, &put, &ana, Some(&elsewhere));
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, set) = send(&server, reqwest::Method::PUT, &put, &root, Some(&elsewhere));
    assert_eq!(status, StatusCode::OK, "{set}");
    // Allowed areas are public.
    let (_, public) = get_as(&server, general, "anonymous");
    assert_eq!(labels(&public), ["elsewhere"]);
    assert_eq!(public["features"][0]["properties"]["is_allowed"], true);
    let (status, refusal, _) = upload(&server, &ana);
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refusal}");

    // Allowed: the picture's place too.
    let both = json!({ "type": "FeatureCollection", "features": [
        feature(square(LON + 1.0, LAT), "elsewhere", false),
        feature(square(LON, LAT), "here", false),
    ]});
    let (status, _) = send(&server, reqwest::Method::PUT, &put, &root, Some(&both));
    assert_eq!(status, StatusCode::OK);
    let (status, accepted, _) = upload(&server, &bob);
    assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
}

#[test]
fn own_areas_refuse_their_account_s_pictures_only() {
    let dir = tempfile::tempdir().expect("data folder");
    let ana = account_with_token(dir.path(), "ana", false);
    let bob = account_with_token(dir.path(), "bob", false);
    let server = Server::start_in(dir.path());
    let own = "/users/me/excluded_areas";

    let (status, _) = get_as(&server, own, "anonymous");
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let body = feature(square(LON, LAT), "home", false);
    let (status, added) = send(&server, reqwest::Method::POST, own, &bob, Some(&body));
    assert_eq!(status, StatusCode::OK, "{added}");
    let id = added["properties"]["id"].as_str().expect("id").to_owned();
    let (_, listed) = get_as(&server, own, &bob);
    assert_eq!(labels(&listed), ["home"]);
    let (_, listed) = get_as(&server, own, &ana);
    assert!(labels(&listed).is_empty());
    // Not a general area: not listed there.
    let (_, general) = get_as(&server, "/configuration/excluded_areas", "anonymous");
    assert!(labels(&general).is_empty());

    // Bob's area: his picture is refused, Ana's accepted.
    let (status, refusal, _) = upload(&server, &bob);
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refusal}");
    assert_eq!(
        refusal["details"]["error"],
        "The picture is located within one of your own excluded area."
    );
    let (status, accepted, _) = upload(&server, &ana);
    assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");

    // Ana cannot delete Bob's area: it does not exist for her.
    let one = format!("{own}/{id}");
    let (status, _) = send(&server, reqwest::Method::DELETE, &one, &ana, None);
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(&server, reqwest::Method::DELETE, &one, &bob, None);
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, listed) = get_as(&server, own, &bob);
    assert!(labels(&listed).is_empty());
}

#[test]
fn bad_geojson_is_refused_saying_why() {
    let dir = tempfile::tempdir().expect("data folder");
    let ana = account_with_token(dir.path(), "ana", false);
    let server = Server::start_in(dir.path());
    let own = "/users/me/excluded_areas";
    let open_ring = json!({ "type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 2]]] });
    let cases = [
        (json!({ "type": "Point", "coordinates": [0, 0] }), "Feature"),
        (feature(open_ring, "x", false), "not closed"),
        (
            feature(
                json!({ "type": "LineString", "coordinates": [[0, 0], [1, 1]] }),
                "x",
                false,
            ),
            "only Polygon and MultiPolygon",
        ),
        (
            feature(
                json!({ "type": "Polygon", "coordinates": [[[0, 0], [0, 95], [1, 1], [0, 0]]] }),
                "x",
                false,
            ),
            "out of range",
        ),
        (
            json!({ "type": "Feature", "geometry": square(LON, LAT),
                    "properties": { "is_public": 1 } }),
            "is_public",
        ),
    ];
    for (body, expected) in cases {
        let (status, refusal) = send(&server, reqwest::Method::POST, own, &ana, Some(&body));
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {refusal}");
        let message = refusal["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(expected),
            "{message} should say {expected}"
        );
    }
    let response = bearer(client().post(server.url(own)), &ana)
        .header("Content-Type", "application/geo+json")
        .body("{ not json")
        .send()
        .expect("POST");
    let (status, refusal) = json_of(response);
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refusal}");
}
