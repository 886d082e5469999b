//! Map vector tiles and their style (panoramax-api.md §6): the real pictures uploaded, tiles
//! fetched over their positions and decoded, compared with GeoVisio 2.15.1's recorded ones.

use std::collections::BTreeSet;
use std::f64::consts::PI;

use flaneur_service::tile::mvt::{self, Geometry, Layer, Value as MvtValue};
use reqwest::StatusCode;
use reqwest::header;
use serde_json::{Value, json};

use crate::accounts::{account_with_token, bearer, client, get_as};
use crate::server::Server;
use crate::visibility::publish_as;
use crate::{GOPRO, SONY, pictures};

/// Where the GoPro and the Sony pictures were taken, roughly.
pub(crate) const GOPRO_AT: (f64, f64) = (1.9192, 49.0069);
const SONY_AT: (f64, f64) = (-1.6846, 48.1551);

macro_rules! sample {
    ($name:literal) => {
        include_bytes!(concat!("../fixtures/geovisio-2.15.1/", $name))
    };
}

fn sample_json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("sample is JSON")
}

/// The `z/x/y` path of the tile holding a position, by the slippy-map formulas.
pub(crate) fn tile_path(z: u32, (lon, lat): (f64, f64)) -> String {
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n).floor();
    let lat = lat.to_radians();
    let y = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / PI) / 2.0 * n).floor();
    format!("/map/{z}/{x}/{y}.mvt")
}

fn layer<'a>(layers: &'a [Layer], name: &str) -> &'a Layer {
    layers
        .iter()
        .find(|l| l.name == name)
        .unwrap_or_else(|| panic!("no {name} layer in {layers:?}"))
}

/// A property as JSON, to compare with the recorded decoded tiles.
fn json_of(value: &MvtValue) -> Value {
    match value {
        MvtValue::Str(s) => json!(s),
        MvtValue::Int(i) => json!(i),
        MvtValue::Double(d) => json!(d),
        MvtValue::Bool(b) => json!(b),
    }
}

fn properties(feature: &mvt::Feature) -> serde_json::Map<String, Value> {
    feature
        .properties
        .iter()
        .map(|(k, v)| (k.clone(), json_of(v)))
        .collect()
}

fn keys(object: &serde_json::Map<String, Value>) -> BTreeSet<String> {
    object.keys().cloned().collect()
}

pub(crate) fn fetch_tile(server: &Server, path: &str) -> Vec<Layer> {
    let response = server.get_url(&server.url(path));
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    let kind = response.headers()[header::CONTENT_TYPE].clone();
    assert_eq!(kind, "application/vnd.mapbox-vector-tile", "GET {path}");
    let bytes = response.bytes().expect("tile body");
    mvt::decode(&bytes).unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

/// Our decoder reads what PostGIS wrote as the recorder's decoder did (it counted y upwards).
#[test]
fn recorded_geovisio_tiles_decode_to_their_recorded_content() {
    for (bytes, decoded) in [
        (
            &sample!("tile_z12.mvt")[..],
            &sample!("tile_z12.decoded.json")[..],
        ),
        (
            &sample!("tile_z15.mvt")[..],
            &sample!("tile_z15.decoded.json")[..],
        ),
    ] {
        let layers = mvt::decode(bytes).expect("recorded tile decodes");
        let expected = sample_json(decoded);
        assert_eq!(layers.len(), expected.as_object().expect("layers").len());
        for l in &layers {
            let features = expected[&l.name]["features"].as_array().expect("features");
            assert_eq!(l.features.len(), features.len(), "{}", l.name);
            for (ours, theirs) in l.features.iter().zip(features) {
                assert_eq!(json!(properties(ours)), theirs["properties"]);
                let flip = |p: &[i32; 2]| json!([p[0], 4096 - p[1]]);
                let coordinates = match &ours.geometry {
                    Geometry::Points(points) => flip(&points[0]),
                    Geometry::Lines(lines) => json!(lines[0].iter().map(flip).collect::<Vec<_>>()),
                };
                assert_eq!(coordinates, theirs["geometry"]["coordinates"], "{}", l.name);
            }
        }
    }
}

#[test]
fn tiles_show_the_published_pictures_by_zoom() {
    let server = Server::start();
    let empty = server.get_url(&server.url(&tile_path(15, GOPRO_AT)));
    let etag_before = empty.headers()[header::ETAG].clone();
    assert!(
        empty.bytes().expect("body").is_empty(),
        "no layer before any upload"
    );

    let mut collections = Vec::new();
    for (title, names) in [("gopro", &GOPRO), ("sony", &SONY)] {
        let set = server.create_upload_set(title, Some(names.len()));
        server.upload_all(&set, &pictures(names));
        let set_json = server.wait_ready(&set);
        let id = set_json["associated_collections"][0]["id"]
            .as_str()
            .expect("collection id")
            .to_owned();
        collections.push(id);
    }
    let (gopro, sony) = (&collections[0], &collections[1]);

    // z5: only the grid, one cell per place, each the median of the catalog (0.5).
    let layers = fetch_tile(&server, &tile_path(5, GOPRO_AT));
    assert_eq!(layers.len(), 1, "{layers:?}");
    let grid = layer(&layers, "grid");
    assert_eq!(grid.features.len(), 1, "{grid:?}");
    let cell = properties(&grid.features[0]);
    let recorded = sample_json(sample!("tile_z5.decoded.json"));
    let mut expected = recorded["grid"]["features"][0]["properties"].clone();
    let expected = expected.as_object_mut().expect("grid properties");
    expected.retain(|k, _| !k.starts_with("logged_"));
    assert_eq!(&cell, expected, "GoPro cell");
    let layers = fetch_tile(&server, &tile_path(5, SONY_AT));
    let cell = properties(&layer(&layers, "grid").features[0]);
    assert_eq!(cell["nb_pictures"], json!(5));
    assert_eq!(cell["nb_flat_pictures"], json!(5));
    assert_eq!(cell["nb_360_pictures"], json!(0));
    assert_eq!(cell["coef_flat_pictures"], json!(0.5));
    assert_eq!(cell["coef_360_pictures"], json!(0.0));

    // z6: the grid, and sequences without properties (these tracks, shorter than a tile unit
    // there, collapse to a point and are dropped as PostGIS does).
    let layers = fetch_tile(&server, &tile_path(6, GOPRO_AT));
    assert!(layers.iter().any(|l| l.name == "grid"), "{layers:?}");
    for l in layers.iter().filter(|l| l.name == "sequences") {
        assert!(l.features.iter().all(|f| f.properties.is_empty()), "{l:?}");
    }

    // z12: the sequence as a line with the recorded fields.
    let recorded = sample_json(sample!("tile_z12.decoded.json"));
    let recorded_fields = &recorded["sequences"]["features"][0]["properties"];
    for (at, id, kind) in [
        (GOPRO_AT, gopro, "equirectangular"),
        (SONY_AT, sony, "flat"),
    ] {
        let layers = fetch_tile(&server, &tile_path(12, at));
        let names: Vec<_> = layers.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["sequences"]);
        let line = &layer(&layers, "sequences").features[0];
        let fields = properties(line);
        assert_eq!(
            keys(&fields),
            keys(recorded_fields.as_object().expect("fields"))
        );
        assert_eq!(fields["id"], json!(id));
        assert_eq!(fields["type"], json!(kind));
        let Geometry::Lines(lines) = &line.geometry else {
            panic!("sequence is not a line: {line:?}");
        };
        assert!(lines.iter().all(|l| l.len() >= 2), "{lines:?}");
        let inside = |p: &[i32; 2]| p.iter().all(|v| (0..4096).contains(v));
        assert!(lines.iter().flatten().all(inside), "{lines:?}");
    }
    let gopro_fields =
        properties(&layer(&fetch_tile(&server, &tile_path(12, GOPRO_AT)), "sequences").features[0]);
    for key in ["model", "type", "date", "gps_accuracy", "h_pixel_density"] {
        assert_eq!(gopro_fields[key], recorded_fields[key], "{key}");
    }

    // z15: every GoPro picture with its sequence, and the recorded fields.
    let layers = fetch_tile(&server, &tile_path(15, GOPRO_AT));
    let points = layer(&layers, "pictures");
    let items: BTreeSet<String> = server
        .collection_items(gopro)
        .iter()
        .map(|i| i["id"].as_str().expect("item id").to_owned())
        .collect();
    let shown: BTreeSet<String> = points
        .features
        .iter()
        .map(|f| properties(f)["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(shown, items);
    let recorded = sample_json(sample!("tile_z15.decoded.json"));
    let recorded_point = &recorded["pictures"]["features"][0]["properties"];
    let first = properties(&points.features[0]);
    assert_eq!(
        keys(&first),
        keys(recorded_point.as_object().expect("fields"))
    );
    assert_eq!(first["sequences"], json!(format!("[\"{gopro}\"]")));
    assert_eq!(first["first_sequence"], json!(gopro));
    assert_eq!(first["type"], json!("equirectangular"));
    let recorded_ts: BTreeSet<_> = recorded["pictures"]["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| f["properties"]["ts"].to_string())
        .collect();
    let ts: BTreeSet<_> = points
        .features
        .iter()
        .map(|f| properties(f)["ts"].to_string())
        .collect();
    assert_eq!(ts, recorded_ts);

    // The same tile as .pbf; caching headers and revalidation.
    let url = server.url(&tile_path(15, GOPRO_AT).replace(".mvt", ".pbf"));
    let response = server.get_url(&url);
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CACHE_CONTROL],
        "public, max-age=60"
    );
    let etag = response.headers()[header::ETAG].clone();
    assert_ne!(etag, etag_before, "the ETag follows the catalog");
    let again = server
        .client()
        .get(&url)
        .header(header::IF_NONE_MATCH, etag.clone())
        .send()
        .expect("conditional GET");
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    let other = server
        .client()
        .get(server.url(&tile_path(15, SONY_AT)))
        .header(header::IF_NONE_MATCH, etag)
        .send()
        .expect("conditional GET");
    assert_eq!(other.status(), StatusCode::OK, "an ETag names one tile");
}

#[test]
fn tiles_outside_the_pyramid_or_in_other_formats_are_refused_as_geovisio_does() {
    let server = Server::start();
    let (status, body) = server.get_json("/map/16/0/0.mvt");
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, sample_json(sample!("err_tile_zoom_16.json")));
    // The format is checked before the tile's bounds.
    for path in ["/map/1/0/0.png", "/map/16/0/0.png"] {
        let (status, body) = server.get_json(path);
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(body, sample_json(sample!("err_tile_bad_format.json")));
    }
    for path in [
        "/map/3/8/0.mvt",
        "/map/3/0/8.pbf",
        "/map/a/0/0.mvt",
        "/map/2/0/x.mvt",
        "/map/1/0/0",
    ] {
        let (status, body) = server.get_json(path);
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_eq!(body["status_code"], json!(404), "{path}: {body}");
    }
    let empty = server.get_url(&server.url("/map/0/0/0.pbf"));
    assert_eq!(empty.status(), StatusCode::OK);
}

#[test]
fn the_style_and_the_landing_page_point_to_the_tiles() {
    let server = Server::start();
    let style = server.get_ok("/map/style.json");
    let recorded = sample_json(sample!("map_style.json"));
    assert_eq!(style["version"], json!(8));
    assert_eq!(style["layers"], recorded["layers"]);
    let tiles = server.url("/map/{z}/{x}/{y}.mvt");
    let mut source = recorded["sources"]["geovisio"].clone();
    source["tiles"] = json!([tiles]);
    assert_eq!(style["sources"], json!({ "geovisio": source }));
    for layer in ["sequences", "pictures", "grid"] {
        let ours = style["metadata"]["panoramax:fields"][layer]
            .as_array()
            .unwrap_or_else(|| panic!("no {layer} fields: {style}"));
        let theirs = recorded["metadata"]["panoramax:fields"][layer]
            .as_array()
            .expect("recorded fields");
        // GeoVisio's `logged_coef*` exist only on instances with closed registration.
        for field in theirs
            .iter()
            .filter(|f| !f.as_str().unwrap_or("").starts_with("logged"))
        {
            assert!(ours.contains(field), "{layer}: {field} missing in {ours:?}");
        }
    }

    let landing = server.get_ok("");
    let links = landing["links"].as_array().expect("links");
    let find = |rel: &str| {
        links
            .iter()
            .find(|l| l["rel"] == json!(rel))
            .unwrap_or_else(|| panic!("no {rel} link: {landing}"))
    };
    assert_eq!(
        find("xyz")["type"],
        json!("application/vnd.mapbox-vector-tile")
    );
    assert_eq!(find("xyz")["href"], json!(tiles));
    assert_eq!(find("xyz-style")["type"], json!("application/json"));
    assert_eq!(
        find("xyz-style")["href"],
        json!(server.url("/map/style.json"))
    );
}

/// The features of a layer, or none when the tile has no such layer.
pub(crate) fn features<'a>(layers: &'a [Layer], name: &str) -> &'a [mvt::Feature] {
    layers
        .iter()
        .find(|l| l.name == name)
        .map_or(&[], |l| &l.features[..])
}

#[test]
fn user_tiles_show_one_account_and_deletions_show_at_once() {
    let server = Server::start();

    // The Sony walk in two upload sets: one grid cell, two sequences.
    let sony = pictures(&SONY);
    let mut sets = Vec::new();
    for (title, files) in [("first", &sony[..2]), ("rest", &sony[2..])] {
        let set = server.create_upload_set(title, Some(files.len()));
        server.upload_all(&set, files);
        server.wait_ready(&set);
        sets.push(set);
    }
    let grid_count = |server: &Server| {
        let layers = fetch_tile(server, &tile_path(5, SONY_AT));
        features(&layers, "grid")
            .iter()
            .map(|f| properties(f)["nb_pictures"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(grid_count(&server), [json!(5)]);
    let layers = fetch_tile(&server, &tile_path(15, SONY_AT));
    assert_eq!(features(&layers, "pictures").len(), 5);
    let account = properties(&features(&layers, "pictures")[0])["account_id"]
        .as_str()
        .expect("account id")
        .to_owned();

    // The account's tiles: sequences with their fields, pictures at z15, never a grid.
    let user_path = |z: u32| format!("/users/{account}{}", tile_path(z, SONY_AT));
    let layers = fetch_tile(&server, &user_path(12));
    let names: Vec<_> = layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["sequences"]);
    assert_eq!(features(&layers, "sequences").len(), 2);
    let fields = properties(&features(&layers, "sequences")[0]);
    assert_eq!(fields["account_id"], json!(account));
    assert!(
        !fields.contains_key("hidden"),
        "public sequences: {fields:?}"
    );
    let layers = fetch_tile(&server, &user_path(15));
    assert_eq!(features(&layers, "pictures").len(), 5);
    assert!(features(&fetch_tile(&server, &user_path(5)), "grid").is_empty());

    // Another account's tiles are empty; what is no account id is not found.
    let stranger =
        "/users/00000000-0000-4000-8000-000000000000".to_owned() + &tile_path(15, SONY_AT);
    assert!(fetch_tile(&server, &stranger).is_empty());
    let (status, _) = server.get_json(&format!("/users/nobody{}", tile_path(15, SONY_AT)));
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = server.get_json(&format!("/users/{account}/map/16/0/0.mvt"));
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, sample_json(sample!("err_tile_zoom_16.json")));

    // Deleting a set shows at once: grid count, lines and points, and a new ETag, although
    // the tiles were just drawn and kept.
    let url = server.url(&tile_path(15, SONY_AT));
    let etag = server.get_url(&url).headers()[header::ETAG].clone();
    let response = server
        .client()
        .delete(server.url(&format!("/upload_sets/{}", sets[1])))
        .send()
        .expect("DELETE upload set");
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(grid_count(&server), [json!(2)]);
    let layers = fetch_tile(&server, &tile_path(15, SONY_AT));
    assert_eq!(features(&layers, "pictures").len(), 2);
    assert_eq!(features(&layers, "sequences").len(), 1);
    let layers = fetch_tile(&server, &user_path(12));
    assert_eq!(features(&layers, "sequences").len(), 1);
    assert_ne!(server.get_url(&url).headers()[header::ETAG], etag);
}

#[test]
fn user_styles_and_landing_links_name_the_user_tiles() {
    let server = Server::start();
    let id = "5b1a8c0e-2f7e-4d0a-9b3c-0e8f6a4d2c11";
    let style = server.get_ok(&format!("/users/{id}/map/style.json"));
    let source = format!("geovisio_{id}");
    let tiles = server.url(&format!("/users/{id}/map/{{z}}/{{x}}/{{y}}.mvt"));
    assert_eq!(style["sources"][&source]["tiles"], json!([tiles]));
    let ids: Vec<_> = style["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|l| l["id"].as_str().expect("layer id").to_owned())
        .collect();
    assert_eq!(
        ids,
        [format!("{source}_sequences"), format!("{source}_pictures")]
    );
    assert!(
        style["layers"]
            .as_array()
            .expect("layers")
            .iter()
            .all(|l| l["source"] == json!(source))
    );
    assert!(style["metadata"]["panoramax:fields"].get("grid").is_none());
    let (status, _) = server.get_json("/users/nobody/map/style.json");
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The landing links, as GeoVisio writes them (its host replaced by ours).
    let landing = server.get_ok("");
    let recorded = sample_json(sample!("landing.json"));
    for rel in ["user-xyz", "user-xyz-style"] {
        let find = |doc: &Value| {
            doc["links"]
                .as_array()
                .expect("links")
                .iter()
                .find(|l| l["rel"] == json!(rel))
                .cloned()
                .unwrap_or_else(|| panic!("no {rel} link"))
        };
        let mut expected = find(&recorded);
        let href = expected["href"].as_str().expect("href");
        let path = href.split("/api").nth(1).expect("api path");
        expected["href"] = json!(server.url(path));
        assert_eq!(find(&landing), expected, "{rel}");
    }
}

#[test]
fn tiles_are_served_with_the_tile_cache_turned_off() {
    let server = Server::start_with_env(&[("FLANEUR_TILE_CACHE_MB", "0")]);
    let set = server.create_upload_set("sony", Some(SONY.len()));
    server.upload_all(&set, &pictures(&SONY));
    server.wait_ready(&set);
    let first = fetch_tile(&server, &tile_path(15, SONY_AT));
    assert_eq!(features(&first, "pictures").len(), 5);
    assert_eq!(fetch_tile(&server, &tile_path(15, SONY_AT)), first);
}

#[test]
fn tiles_of_two_catalogs_never_share_an_etag() {
    let (first, second) = (Server::start(), Server::start());
    let etag = |server: &Server| {
        let response = server.get_url(&server.url("/map/0/0/0.mvt"));
        assert_eq!(response.status(), StatusCode::OK);
        response.headers()[header::ETAG]
            .to_str()
            .expect("ascii")
            .to_owned()
    };
    let (a, b) = (etag(&first), etag(&second));
    assert_ne!(a, b, "two empty catalogs, two ETags");
    assert!(
        a.contains(env!("CARGO_PKG_VERSION")),
        "the release that drew it: {a}"
    );
}

/// A tile fetched with a token (none for `anonymous`): its status, cache header and layers
/// (none unless 200).
fn tile_as(server: &Server, path: &str, token: &str) -> (StatusCode, String, Vec<Layer>) {
    let response = bearer(client().get(server.url(path)), token)
        .send()
        .expect("GET tile");
    let status = response.status();
    let cache = response
        .headers()
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = response.bytes().expect("tile body");
    let layers = match status {
        StatusCode::OK => mvt::decode(&bytes).unwrap_or_else(|e| panic!("GET {path}: {e}")),
        _ => Vec::new(),
    };
    (status, cache, layers)
}

/// The ids of a layer's features, sorted.
fn ids(layers: &[Layer], name: &str) -> Vec<String> {
    let mut ids: Vec<String> = features(layers, name)
        .iter()
        .map(|f| properties(f)["id"].as_str().expect("id").to_owned())
        .collect();
    ids.sort();
    ids
}

#[test]
fn the_callers_own_tiles_show_it_its_hidden_pictures_and_filter_them() {
    let dir = tempfile::tempdir().expect("data folder");
    let ana = account_with_token(dir.path(), "ana", false);
    let bob = account_with_token(dir.path(), "bob", false);
    let server = Server::start_in(dir.path());
    let (_, me) = get_as(&server, "/users/me", &ana);
    let ana_id = me["id"].as_str().expect("account id").to_owned();
    let (_, hidden_seq, mut hidden) = publish_as(&server, &ana, &GOPRO[..2], "owner-only");
    let (_, public_seq, mut public) = publish_as(&server, &ana, &GOPRO[2..], "anyone");
    hidden.sort();
    public.sort();
    let mut all = [hidden.clone(), public.clone()].concat();
    all.sort();

    // Its owner's tile: both sequences, the hidden one marked so; private to its browser,
    // which asks again before showing it, as the address is every account's.
    let mine = format!("/users/me{}", tile_path(15, GOPRO_AT));
    let (status, cache, layers) = tile_as(&server, &mine, &ana);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cache, "private, no-cache");
    let response = bearer(client().get(server.url(&mine)), &ana)
        .send()
        .expect("GET tile");
    let vary = response.headers()[header::VARY]
        .to_str()
        .unwrap_or_default();
    assert!(
        vary.contains("Cookie") && vary.contains("Authorization"),
        "{vary}"
    );
    assert_eq!(ids(&layers, "pictures"), all);
    for feature in features(&layers, "pictures") {
        let fields = properties(feature);
        let is_hidden = hidden.contains(&fields["id"].as_str().unwrap_or_default().to_owned());
        assert_eq!(
            fields.get("hidden") == Some(&json!(true)),
            is_hidden,
            "{fields:?}"
        );
    }
    let mut both = vec![hidden_seq.clone(), public_seq.clone()];
    both.sort();
    assert_eq!(ids(&layers, "sequences"), both);

    // A filter keeps what is hidden, or what is public; other properties are refused.
    let filtered = |filter: &str| {
        let query = format!(
            "?filter={}",
            filter.replace(' ', "%20").replace('\'', "%27")
        );
        tile_as(&server, &format!("{mine}{query}"), &ana)
    };
    let (_, _, layers) = filtered("visibility <> 'anyone'");
    assert_eq!(ids(&layers, "pictures"), hidden);
    assert_eq!(ids(&layers, "sequences"), std::slice::from_ref(&hidden_seq));
    let (_, _, layers) = filtered("visibility = 'anyone'");
    assert_eq!(ids(&layers, "pictures"), public);
    let (status, _, _) = filtered("status = 'hidden'");
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Another account's own tile holds nothing of hers; without an account, none is drawn.
    let (status, _, layers) = tile_as(&server, &mine, &bob);
    assert_eq!(status, StatusCode::OK);
    assert!(ids(&layers, "pictures").is_empty(), "{layers:?}");
    let (status, _, _) = tile_as(&server, &mine, "anonymous");
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Her public map takes the same filter, for what its reader may see.
    let hers = format!("/users/{ana_id}{}", tile_path(15, GOPRO_AT));
    let (_, cache, layers) = tile_as(
        &server,
        &format!("{hers}?filter=visibility%3D%27anyone%27"),
        "anonymous",
    );
    assert!(cache.starts_with("public"), "{cache}");
    assert_eq!(ids(&layers, "pictures"), public);
    let (_, _, layers) = tile_as(
        &server,
        &format!("{hers}?filter=visibility%3C%3E%27anyone%27"),
        "anonymous",
    );
    assert!(ids(&layers, "pictures").is_empty(), "{layers:?}");

    // The style of her own tiles, for her only.
    let response = bearer(client().get(server.url("/users/me/map/style.json")), &ana)
        .send()
        .expect("GET style");
    let cache = response.headers()[header::CACHE_CONTROL].clone();
    assert!(cache.to_str().unwrap_or_default().starts_with("private"));
    let style: Value = response.json().expect("style");
    let tiles = server.url("/users/me/map/{z}/{x}/{y}.mvt");
    assert_eq!(style["sources"]["geovisio_me"]["tiles"], json!([tiles]));
    assert_eq!(style["layers"][0]["id"], json!("geovisio_me_sequences"));
    let (status, _) = get_as(&server, "/users/me/map/style.json", "anonymous");
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
