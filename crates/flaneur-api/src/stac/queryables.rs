//! The JSON Schemas of the properties the `filter` parameters accept (OGC API Features part 3
//! queryables), for item search and for the collection list.
//!
//! Only what this instance really filters on is declared, and every other property is
//! forbidden. Each schema is built from the very list its filter is checked against: the
//! store's [`SEQUENCE_QUERYABLES`] for the collection list, its [`PICTURE_QUERYABLES`] plus the
//! semantic tags (`semantics`, `semantics.<key>`) for item search.

use flaneur_store::{PICTURE_QUERYABLES, Queryable, QueryableKind, SEMANTICS, SEQUENCE_QUERYABLES};
use serde_json::{Map, Value, json};

use crate::url::BaseUrl;

/// The relation type of a link to a queryables schema.
pub const REL: &str = "http://www.opengis.net/def/rel/ogc/1.0/queryables";

/// The media type of a queryables schema.
pub const MEDIA_TYPE: &str = "application/schema+json";

/// How long clients and proxies may keep a schema: it changes only with the server's version.
pub const CACHE_CONTROL: &str = "public, max-age=3600";

/// The schema of `/api/queryables`: what `filter` of item search accepts.
pub fn items(base: &BaseUrl) -> Value {
    let mut schema = schema(
        base.api("/queryables"),
        "Queryable names for the item search filter of this instance.",
        PICTURE_QUERYABLES,
    );
    schema["properties"][SEMANTICS] = json!({
        "type": "string",
        "description": "Whether the picture, its sequence or one of its annotations has \
                        semantic tags: only `semantics IS NULL` and `semantics IS NOT NULL` \
                        apply",
    });
    schema["patternProperties"] = json!({
        format!("^{SEMANTICS}\\.(.+)$"): {
            "type": "string",
            "description": "The values of one semantic tag key of the picture, its sequence \
                            or its annotations, the key written after `semantics.`: compared \
                            with `=` or `IN`, or tested with `IS [NOT] NULL`",
        }
    });
    schema
}

/// The schema of `/api/collections/queryables`: what `filter` of the collection list accepts.
pub fn collections(base: &BaseUrl) -> Value {
    schema(
        base.api("/collections/queryables"),
        "Queryable names for the collection list filter of this instance.",
        SEQUENCE_QUERYABLES,
    )
}

/// The JSON Schema of one queryable. Time properties accept a date as well as a date-time,
/// as the filter does.
fn property(q: &Queryable) -> Value {
    let mut schema = match q.kind {
        QueryableKind::Timestamp => json!({
            "type": "string",
            "anyOf": [{"format": "date-time"}, {"format": "date"}],
        }),
        QueryableKind::Text => json!({ "type": "string" }),
        QueryableKind::OneOf(values) => json!({ "type": "string", "enum": values }),
        QueryableKind::Number => json!({ "type": "number" }),
        QueryableKind::Boolean => json!({ "type": "boolean" }),
    };
    schema["description"] = json!(q.description);
    schema
}

fn schema(id: String, description: &str, queryables: &[Queryable]) -> Value {
    let properties: Map<String, Value> = queryables
        .iter()
        .map(|q| (q.name.to_owned(), property(q)))
        .collect();
    json!({
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": id,
        "type": "object",
        "title": "Queryables for Panoramax STAC API",
        "description": description,
        "properties": properties,
        "additionalProperties": false,
    })
}
