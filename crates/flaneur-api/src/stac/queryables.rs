//! The JSON Schemas of the properties the `filter` parameters accept (OGC API Features part 3
//! queryables), for item search and for the collection list.
//!
//! Only what this instance really filters on is declared. Neither `/api/search` nor
//! `/api/collections` reads a `filter` parameter yet, so both schemas declare no property and
//! forbid any other: a client reading them learns, truthfully, that nothing can be filtered.

use serde_json::{Value, json};

use crate::url::BaseUrl;

/// The relation type of a link to a queryables schema.
pub const REL: &str = "http://www.opengis.net/def/rel/ogc/1.0/queryables";

/// The media type of a queryables schema.
pub const MEDIA_TYPE: &str = "application/schema+json";

/// How long clients and proxies may keep a schema: it changes only with the server's version.
pub const CACHE_CONTROL: &str = "public, max-age=3600";

/// The schema of `/api/queryables`: what `filter` of item search accepts.
pub fn items(base: &BaseUrl) -> Value {
    schema(
        base.api("/queryables"),
        "Queryable names for the item search filter of this instance.",
    )
}

/// The schema of `/api/collections/queryables`: what `filter` of the collection list accepts.
pub fn collections(base: &BaseUrl) -> Value {
    schema(
        base.api("/collections/queryables"),
        "Queryable names for the collection list filter of this instance.",
    )
}

fn schema(id: String, description: &str) -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": id,
        "type": "object",
        "title": "Queryables for Panoramax STAC API",
        "description": description,
        "properties": {},
        "additionalProperties": false,
    })
}
