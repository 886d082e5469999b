//! The OpenAPI description of the public read API, linked from the landing page as its
//! `service-desc` (STAC API core asks for one).
//!
//! It names each path and method with a summary and says which answers are GeoJSON or JSON;
//! parameters and schemas are left to the STAC API and Panoramax documentation, which these
//! routes follow, rather than written twice and left to drift.

use serde_json::{Map, Value, json};

use crate::url::BaseUrl;

/// The media type of the document, and of the `service-desc` link to it.
pub const MEDIA_TYPE: &str = "application/vnd.oai.openapi+json;version=3.0";

/// The path of the document under the API root, where Panoramax instances keep theirs.
pub const PATH: &str = "/docs/specs.json";

/// Method, path under `/api`, summary and answer media type of each described operation.
const OPERATIONS: &[(&str, &str, &str, &str)] = &[
    ("get", "/", "Landing page", "application/json"),
    (
        "get",
        "/conformance",
        "Conformance classes",
        "application/json",
    ),
    (
        "get",
        "/collections",
        "Ready sequences as STAC collections",
        "application/json",
    ),
    (
        "get",
        "/collections/{collectionId}",
        "One sequence",
        "application/json",
    ),
    (
        "get",
        "/collections/{collectionId}/items",
        "Pictures of a sequence",
        GEOJSON,
    ),
    (
        "get",
        "/collections/{collectionId}/items/{itemId}",
        "One picture",
        GEOJSON,
    ),
    ("get", "/search", "Item search", GEOJSON),
    ("post", "/search", "Item search with a JSON body", GEOJSON),
    (
        "get",
        "/queryables",
        "Queryables of item search",
        "application/schema+json",
    ),
    ("get", "/users", "Accounts", "application/json"),
    (
        "get",
        "/users/{userId}/collection",
        "Sequences of an account",
        "application/json",
    ),
    (
        "get",
        "/map/style.json",
        "Vector tile style",
        "application/json",
    ),
    (
        "get",
        "/map/{z}/{x}/{y}.mvt",
        "Vector tiles",
        "application/vnd.mapbox-vector-tile",
    ),
    (
        "get",
        "/configuration",
        "Instance configuration",
        "application/json",
    ),
];

const GEOJSON: &str = "application/geo+json";

/// The document, with `base` as its only server.
pub fn document(base: &BaseUrl, version: &str) -> Value {
    let mut paths = Map::new();
    for &(method, path, summary, media_type) in OPERATIONS {
        let operation = json!({
            "summary": summary,
            "parameters": path_parameters(path),
            "responses": {
                "200": { "description": summary, "content": { media_type: {} } }
            }
        });
        let entry = paths.entry(path).or_insert_with(|| json!({}));
        entry[method] = operation;
    }
    json!({
        "openapi": "3.0.3",
        "info": { "title": "Flâneur API", "version": version },
        "servers": [{ "url": base.api("") }],
        "paths": paths,
    })
}

/// The `{name}` segments of a path, as required string path parameters.
fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.split_once('}'))
        .map(|(name, _)| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_path_parameters() {
        let names: Vec<Value> = path_parameters("/map/{z}/{x}/{y}.mvt")
            .into_iter()
            .map(|p| p["name"].clone())
            .collect();
        assert_eq!(names, [json!("z"), json!("x"), json!("y")]);
    }
}
