//! JSON shapes: every key and JSON type of GeoVisio 2.15.1's recorded responses
//! (`tests/fixtures/geovisio-2.15.1/`) present in ours for the same requests on the same pictures.

use reqwest::StatusCode;
use serde_json::Value;

use crate::server::Server;
use crate::{GOPRO, pictures, pictures_dir};

/// Ends of key paths (as printed by [`shape_mismatches`]) allowed to differ from GeoVisio,
/// each with the reason. Keep this list short: a mismatch is a product bug unless justified.
const EXCEPTIONS: &[(&str, &str)] = &[
    (
        ".exif.Exif.Image.ExifTag",
        "IFD pointer: a byte offset inside the file that exiv2 lists as a tag; no information",
    ),
    (
        ".exif.Exif.Image.GPSTag",
        "IFD pointer: a byte offset inside the file that exiv2 lists as a tag; no information",
    ),
    (
        "collections_queryables.properties.created",
        "the collection list reads no filter yet: the schema declares nothing it cannot do",
    ),
    (
        "collections_queryables.properties.updated",
        "the collection list reads no filter yet: the schema declares nothing it cannot do",
    ),
    (
        ".exif.Exif.Photo.InteroperabilityTag",
        "IFD pointer: a byte offset inside the file that exiv2 lists as a tag; no information",
    ),
];

macro_rules! sample {
    ($name:literal) => {
        serde_json::from_str::<Value>(include_str!(concat!(
            "../fixtures/geovisio-2.15.1/",
            $name,
            ".json"
        )))
        .expect(concat!($name, ".json is JSON"))
    };
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Where `ours` lacks a key of `sample` or has another JSON type for it. Values are ignored;
/// arrays are compared on their first elements; a `null` in the sample accepts any type (its
/// type is unknown).
fn shape_mismatches(sample: &Value, ours: &Value, path: &str, out: &mut Vec<String>) {
    match (sample, ours) {
        (Value::Null, _) => {}
        (Value::Object(sample), Value::Object(ours)) => {
            for (key, sample_value) in sample {
                let key_path = format!("{path}.{key}");
                match ours.get(key) {
                    Some(value) => shape_mismatches(sample_value, value, &key_path, out),
                    None => out.push(format!("{key_path}: missing")),
                }
            }
        }
        (Value::Array(sample), Value::Array(ours)) => match (sample.first(), ours.first()) {
            (Some(sample), Some(ours)) => {
                shape_mismatches(sample, ours, &format!("{path}[0]"), out)
            }
            (Some(_), None) => out.push(format!("{path}: empty, the reference has elements")),
            _ => {}
        },
        _ if type_name(sample) == type_name(ours) => {}
        _ => out.push(format!(
            "{path}: {} instead of {}",
            type_name(ours),
            type_name(sample)
        )),
    }
}

/// Collects the shape differences of `ours` against `sample` not listed in [`EXCEPTIONS`].
#[derive(Default)]
struct Shapes(Vec<String>);

impl Shapes {
    fn check(&mut self, name: &str, sample: &Value, ours: &Value) {
        let mut mismatches = Vec::new();
        shape_mismatches(sample, ours, name, &mut mismatches);
        mismatches.retain(|m| {
            let path = m.split_once(": ").map_or(m.as_str(), |(path, _)| path);
            !EXCEPTIONS.iter().any(|(end, _)| path.ends_with(end))
        });
        self.0.extend(mismatches);
    }

    /// Fails listing every difference found.
    fn assert_none(&self) {
        assert!(
            self.0.is_empty(),
            "shapes differ from GeoVisio 2.15.1:\n  {}",
            self.0.join("\n  ")
        );
    }
}

#[test]
fn shape_comparison_finds_missing_keys_and_type_changes() {
    let sample = serde_json::json!({"a": 1, "b": {"c": "x"}, "d": [{"e": true}], "f": null});
    let mut out = Vec::new();
    let ours = serde_json::json!({"a": 2.5, "b": {"c": "y", "z": 1}, "d": [{"e": false}], "f": 1});
    shape_mismatches(&sample, &ours, "$", &mut out);
    assert!(out.is_empty(), "{out:?}");
    let ours = serde_json::json!({"a": "1", "b": {}, "d": [], "f": 1});
    shape_mismatches(&sample, &ours, "$", &mut out);
    assert_eq!(
        out,
        [
            "$.a: string instead of number",
            "$.b.c: missing",
            "$.d: empty, the reference has elements"
        ]
    );
}

#[test]
fn responses_have_every_key_and_type_of_geovisio() {
    let server = Server::start();
    let mut shapes = Shapes::default();

    shapes.check(
        "conformance",
        &sample!("conformance"),
        &server.get_ok("/conformance"),
    );
    shapes.check(
        "configuration",
        &sample!("configuration"),
        &server.get_ok("/configuration"),
    );
    shapes.check(
        "queryables",
        &sample!("queryables"),
        &server.get_ok("/queryables"),
    );
    shapes.check(
        "collections_queryables",
        &sample!("collections_queryables"),
        &server.get_ok("/collections/queryables"),
    );

    let set = server.create_upload_set("samples 360", Some(5));
    let files = pictures(&GOPRO);
    let (status, added) = server.upload_file(&set, &files[0]);
    assert_eq!(status, StatusCode::ACCEPTED, "{added}");
    shapes.check(
        "upload_set_file_added",
        &sample!("upload_set_file_added"),
        &added,
    );
    server.upload_all(&set, &files[1..]);
    let set_json = server.wait_ready(&set);
    shapes.check("upload_set", &sample!("upload_set"), &set_json);
    shapes.check(
        "upload_set_files",
        &sample!("upload_set_files"),
        &server.get_ok(&format!("/upload_sets/{set}/files")),
    );

    let collection = set_json["associated_collections"][0]["id"]
        .as_str()
        .expect("collection id");
    shapes.check(
        "collection",
        &sample!("collection"),
        &server.get_ok(&format!("/collections/{collection}")),
    );
    let items = server.get_ok(&format!("/collections/{collection}/items"));
    shapes.check("collection_items", &sample!("collection_items"), &items);
    shapes.check(
        "collection_status",
        &sample!("collection_status"),
        &server.get_ok(&format!("/collections/{collection}/geovisio_status")),
    );
    let first = items["features"][0]["id"].as_str().expect("item id");
    shapes.check(
        "item",
        &sample!("item"),
        &server.get_ok(&format!("/collections/{collection}/items/{first}")),
    );
    shapes.check(
        "search_bbox",
        &sample!("search_bbox"),
        &server.get_ok("/search?bbox=1.9185,49.0065,1.9200,49.0100"),
    );

    // With the pictures in, as when the sample was recorded.
    shapes.check("landing", &sample!("landing"), &server.get_ok(""));
    shapes.check("users", &sample!("users"), &server.get_ok("/users"));

    // Rejected files, first of them a picture without coordinates as in the sample.
    let rejects = server.create_upload_set("rejects", None);
    let dir = pictures_dir().join("cli-fixtures");
    for name in [
        "e2_without_coord.jpg",
        "e1_without_exif.jpg",
        "not_a_pic.md",
        "invalid_pic.jpg",
    ] {
        let (status, body) = server.upload_file(&rejects, &dir.join(name));
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {body}");
    }
    shapes.check(
        "upload_set_with_rejections_files",
        &sample!("upload_set_with_rejections_files"),
        &server.get_ok(&format!("/upload_sets/{rejects}/files")),
    );
    shapes.assert_none();
}
