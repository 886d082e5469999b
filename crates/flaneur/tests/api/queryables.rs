//! `/api/queryables` and `/api/collections/queryables`: the filter schemas and the links to
//! them.

use reqwest::header;
use serde_json::json;

use crate::server::{Server, json_of, link};

#[test]
fn queryables_declare_what_the_filters_accept_and_are_cached_for_an_hour() {
    let server = Server::start();
    for path in ["/queryables", "/collections/queryables"] {
        let response = server.get_url(&server.url(path));
        let cache = response.headers().get(header::CACHE_CONTROL).cloned();
        assert_eq!(
            cache.as_ref().and_then(|v| v.to_str().ok()),
            Some("public, max-age=3600"),
            "{path}"
        );
        let (status, schema) = json_of(response);
        assert_eq!(status, reqwest::StatusCode::OK, "{path}: {schema}");
        assert_eq!(schema["type"], json!("object"), "{schema}");
        let names: Vec<&str> = schema["properties"]
            .as_object()
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let expected: &[&str] = if path == "/queryables" {
            &[
                "collection",
                "created",
                "datetime",
                "id",
                "semantics",
                "status",
                "updated",
            ]
        } else {
            &["created", "datetime", "id", "updated", "visibility"]
        };
        assert_eq!(names, expected, "{schema}");
        assert_eq!(schema["additionalProperties"], json!(false), "{schema}");
        assert_eq!(schema["$id"], json!(server.url(path)), "{schema}");

        // OGC API clients ask for JSON Schema's own media type, and get it.
        let asked = server
            .client()
            .get(server.url(path))
            .header(header::ACCEPT, "application/schema+json")
            .send()
            .expect("queryables");
        let kind = asked.headers().get(header::CONTENT_TYPE).cloned();
        assert_eq!(
            kind.as_ref().and_then(|v| v.to_str().ok()),
            Some("application/schema+json"),
            "{path}"
        );
    }
}

#[test]
fn landing_and_collection_list_link_to_their_queryables() {
    let server = Server::start();
    let rel = "http://www.opengis.net/def/rel/ogc/1.0/queryables";
    for (page, target) in [
        ("", "/queryables"),
        ("/collections", "/collections/queryables"),
    ] {
        let document = server.get_ok(page);
        let found = document["links"]
            .as_array()
            .expect("links")
            .iter()
            .find(|l| l["rel"] == rel)
            .unwrap_or_else(|| panic!("no queryables link in {page}: {document}"));
        assert_eq!(found["type"], json!("application/schema+json"), "{found}");
        assert_eq!(link(&document, rel), Some(server.url(target)), "{page}");
        let (status, _) = server.get_json_url(&server.url(target));
        assert_eq!(status, reqwest::StatusCode::OK, "{target}");
    }
}
