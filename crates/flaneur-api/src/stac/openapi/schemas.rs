//! The component schemas of the OpenAPI document: the main JSON shapes the API reads and
//! answers, as [`crate::stac`] and the handlers build them.
//!
//! They name the keys clients rely on and their types, and leave the others open
//! (`additionalProperties` stays allowed): a schema that listed every STAC extension field
//! would be a second copy of the shape code, and would drift from it.

use serde_json::{Map, Value, json};

/// The error body of every route.
pub const ERROR: &str = "Error";
/// A link object.
pub const LINK: &str = "Link";
/// The landing page, a STAC catalog.
pub const CATALOG: &str = "Catalog";
/// One sequence as a STAC collection.
pub const COLLECTION: &str = "Collection";
/// A page of collections.
pub const COLLECTIONS: &str = "Collections";
/// One picture as a STAC item.
pub const ITEM: &str = "Item";
/// A GeoJSON feature collection of items.
pub const FEATURE_COLLECTION: &str = "FeatureCollection";
/// The JSON body of a search.
pub const SEARCH_BODY: &str = "SearchBody";
/// The JSON body creating an upload set.
pub const UPLOAD_SET_CREATE: &str = "UploadSetCreate";
/// An upload set.
pub const UPLOAD_SET: &str = "UploadSet";
/// A file sent to an upload set.
pub const UPLOAD_FILE: &str = "UploadFile";
/// The multipart form of a picture upload.
pub const UPLOAD_FORM: &str = "UploadForm";
/// A GeoJSON geometry.
pub const GEOMETRY: &str = "Geometry";
/// The body changing a sequence.
pub const SEQUENCE_EDIT: &str = "SequenceEdit";
/// The body changing a picture.
pub const ITEM_EDIT: &str = "ItemEdit";

/// A `$ref` to the component schema `name`.
pub fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// A string holding a UUID.
pub fn uuid() -> Value {
    json!({ "type": "string", "format": "uuid" })
}

/// Every component schema, by name.
pub fn components() -> Map<String, Value> {
    let mut schemas = Map::new();
    for (name, schema) in [
        (ERROR, error()),
        (LINK, link()),
        (CATALOG, catalog()),
        (COLLECTION, collection()),
        (COLLECTIONS, collections()),
        (ITEM, item()),
        (FEATURE_COLLECTION, feature_collection()),
        (GEOMETRY, geometry()),
        (SEARCH_BODY, search_body()),
        (UPLOAD_SET_CREATE, upload_set_create()),
        (UPLOAD_SET, upload_set()),
        (UPLOAD_FILE, upload_file()),
        (UPLOAD_FORM, upload_form()),
        (SEQUENCE_EDIT, sequence_edit()),
        (ITEM_EDIT, item_edit()),
    ] {
        schemas.insert(name.to_owned(), schema);
    }
    schemas
}

fn links() -> Value {
    json!({ "type": "array", "items": reference(LINK) })
}

fn error() -> Value {
    json!({
        "type": "object",
        "required": ["message", "status_code"],
        "properties": {
            "message": { "type": "string", "description": "What was wrong, for a person" },
            "status_code": { "type": "integer", "description": "The HTTP status again" },
            "details": {
                "description": "Which fields were refused and why: a list of \
                    `{fields, error, input}` for a refused upload set, an object with `error` \
                    for other refusals"
            },
            "request_id": {
                "type": "string",
                "format": "uuid",
                "description": "On internal errors only: the id under which the instance \
                    logged the cause"
            },
            "existing_item": {
                "type": "object",
                "description": "On a conflicting upload: the picture already there"
            },
            "upload_sets": {
                "type": "array",
                "items": { "type": "object" },
                "description": "On a picture sent before: where it was sent"
            }
        }
    })
}

fn link() -> Value {
    json!({
        "type": "object",
        "required": ["rel", "href"],
        "properties": {
            "rel": { "type": "string" },
            "href": { "type": "string" },
            "type": { "type": "string" },
            "title": { "type": "string" },
            "method": { "type": "string" }
        }
    })
}

fn catalog() -> Value {
    json!({
        "type": "object",
        "required": ["type", "stac_version", "id", "description", "links"],
        "properties": {
            "type": { "type": "string", "enum": ["Catalog"] },
            "stac_version": { "type": "string" },
            "id": { "type": "string" },
            "title": { "type": "string" },
            "description": { "type": "string" },
            "conformsTo": { "type": "array", "items": { "type": "string" } },
            "links": links()
        }
    })
}

fn extent() -> Value {
    json!({
        "type": "object",
        "properties": {
            "spatial": { "type": "object", "properties": {
                "bbox": { "type": "array", "items": {
                    "type": "array", "items": { "type": "number" } } }
            } },
            "temporal": { "type": "object", "properties": {
                "interval": { "type": "array", "items": {
                    "type": "array", "items": { "type": "string", "nullable": true } } }
            } }
        }
    })
}

fn collection() -> Value {
    json!({
        "type": "object",
        "description": "A sequence of pictures, as a STAC collection",
        "required": ["type", "stac_version", "id", "description", "license", "extent", "links"],
        "properties": {
            "type": { "type": "string", "enum": ["Collection"] },
            "stac_version": { "type": "string" },
            "stac_extensions": { "type": "array", "items": { "type": "string" } },
            "id": uuid(),
            "title": { "type": "string" },
            "description": { "type": "string" },
            "license": { "type": "string" },
            "created": { "type": "string", "format": "date-time" },
            "updated": { "type": "string", "format": "date-time" },
            "geovisio:status": { "type": "string" },
            "geovisio:visibility": {
                "type": "string", "enum": ["anyone", "logged-only", "owner-only"]
            },
            "geovisio:length_km": { "type": "number" },
            "providers": { "type": "array", "items": { "type": "object" } },
            "extent": extent(),
            "summaries": { "type": "object" },
            "stats:items": { "type": "object", "properties": {
                "count": { "type": "integer" } } },
            "links": links()
        }
    })
}

fn collections() -> Value {
    json!({
        "type": "object",
        "required": ["collections", "links"],
        "properties": {
            "collections": { "type": "array", "items": { "anyOf": [
                reference(COLLECTION),
                {
                    "type": "object",
                    "description": "With show_deleted=true: a deleted or hidden sequence",
                    "required": ["id", "geovisio:status"],
                    "properties": {
                        "id": uuid(),
                        "geovisio:status": { "type": "string", "enum": ["deleted"] },
                        "updated": { "type": "string", "format": "date-time" }
                    }
                }
            ] } },
            "links": links()
        }
    })
}

fn item() -> Value {
    json!({
        "type": "object",
        "description": "A picture, as a STAC item (a GeoJSON feature)",
        "required": ["type", "stac_version", "id", "geometry", "properties", "assets", "links"],
        "properties": {
            "type": { "type": "string", "enum": ["Feature"] },
            "stac_version": { "type": "string" },
            "stac_extensions": { "type": "array", "items": { "type": "string" } },
            "id": uuid(),
            "collection": uuid(),
            "geometry": reference(GEOMETRY),
            "bbox": { "type": "array", "items": { "type": "number" } },
            "properties": {
                "type": "object",
                "required": ["datetime"],
                "properties": {
                    "datetime": { "type": "string", "format": "date-time" },
                    "view:azimuth": { "type": "integer" },
                    "geovisio:status": { "type": "string" },
                    "geovisio:producer": { "type": "string" },
                    "geovisio:image": { "type": "string" },
                    "geovisio:thumbnail": { "type": "string" },
                    "geovisio:rank_in_collection": { "type": "integer" },
                    "original_file:name": { "type": "string" },
                    "original_file:size": { "type": "integer" }
                }
            },
            "assets": { "type": "object", "properties": {
                "hd": { "type": "object" },
                "sd": { "type": "object" },
                "thumb": { "type": "object" }
            } },
            "asset_templates": {
                "type": "object",
                "description": "360° pictures only: the address template of their tiles"
            },
            "providers": { "type": "array", "items": { "type": "object" } },
            "links": links()
        }
    })
}

fn feature_collection() -> Value {
    json!({
        "type": "object",
        "description": "A page of items as a GeoJSON feature collection",
        "required": ["type", "features", "links"],
        "properties": {
            "type": { "type": "string", "enum": ["FeatureCollection"] },
            "features": { "type": "array", "items": reference(ITEM) },
            "links": links()
        }
    })
}

fn geometry() -> Value {
    json!({
        "type": "object",
        "description": "A GeoJSON geometry",
        "required": ["type"],
        "properties": {
            "type": {
                "type": "string",
                "enum": ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                         "MultiPolygon", "GeometryCollection"]
            },
            "coordinates": { "type": "array", "items": {} },
            "geometries": { "type": "array", "items": { "type": "object" } }
        }
    })
}

fn search_body() -> Value {
    json!({
        "type": "object",
        "description": "Item search criteria; a `null` value counts as absent",
        "properties": {
            "limit": {
                "oneOf": [
                    { "type": "integer", "minimum": 1 },
                    { "type": "string", "pattern": "^[0-9]+$" }
                ],
                "default": 10,
                "description": "Items a page holds, a number or a string of digits as in \
                    GET; above 10000 taken as 10000"
            },
            "bbox": {
                "type": "array", "items": { "type": "number" }, "minItems": 4, "maxItems": 6,
                "description": "minX, minY, maxX, maxY in WGS 84 (6 numbers for a 3D box, \
                    whose heights are ignored); not with intersects"
            },
            "intersects": reference(GEOMETRY),
            "datetime": {
                "type": "string",
                "description": "An RFC 3339 instant, or an interval start/end with .. or \
                    nothing for an open end"
            },
            "ids": {
                "type": "array", "items": uuid(), "maxItems": crate::params::MAX_IDS,
                "description": "Only these pictures"
            },
            "collections": {
                "type": "array", "items": uuid(), "maxItems": crate::params::MAX_IDS,
                "description": "Only pictures of these sequences"
            },
            "filter": {
                "description": "Only pictures matching this CQL2 filter: an object is CQL2 \
                    JSON, a string CQL2 text, unless filter-lang says otherwise; /queryables \
                    lists the properties it may name",
                "oneOf": [{ "type": "object" }, { "type": "string" }]
            },
            "filter-lang": { "type": "string", "enum": ["cql2-text", "cql2-json"] },
            "filter-crs": {
                "type": "string", "enum": [crate::cql2::CRS84],
                "description": "The coordinate system of filter: only CRS84"
            },
            "sortby": {
                "description": "Order of the items, as in GET (`-datetime,+id`) or as a \
                    list; an empty string or list is the default order",
                "oneOf": [
                    { "type": "string" },
                    { "type": "array", "items": { "type": "object", "required": ["field"],
                        "properties": {
                            "field": { "type": "string",
                                "enum": ["datetime", "ts", "created", "updated", "id",
                                         "properties.datetime", "properties.ts",
                                         "properties.created", "properties.updated",
                                         "properties.id"] },
                            "direction": { "type": "string", "enum": ["asc", "desc"],
                                           "default": "asc" } } } }
                ]
            },
            "place_position": {
                "description": "Only pictures near this place and looking at it: \
                    `[lon, lat]` or `\"lon,lat\"`",
                "oneOf": [
                    { "type": "array", "items": { "type": "number" },
                      "minItems": 2, "maxItems": 2 },
                    { "type": "string" }
                ]
            },
            "place_distance": {
                "type": "string",
                "description": "With place_position: `min-max` metres from the place"
            },
            "place_fov_tolerance": {
                "oneOf": [
                    { "type": "number", "minimum": 2, "maximum": 180 },
                    { "type": "string" }
                ],
                "description": "With place_position: degrees off a flat picture's heading"
            },
            "page": {
                "type": "string",
                "description": "A page token from the body of a paging link; never built by \
                    hand"
            }
        }
    })
}

fn upload_set_create() -> Value {
    json!({
        "type": "object",
        "required": ["title"],
        "description": "Every refused field is reported at once, in the error's details",
        "properties": {
            "title": { "type": "string", "minLength": 1, "maxLength": 250 },
            "estimated_nb_files": { "type": "integer", "minimum": 0 },
            "sort_method": {
                "type": "string",
                "enum": ["filename-asc", "filename-desc", "time-asc", "time-desc"],
                "description": "Order of the pictures in the sequences; the capture time \
                    when absent"
            },
            "no_split": { "type": "boolean" },
            "split_distance": {
                "type": "number", "minimum": 0,
                "description": "Metres between two pictures that start a new sequence"
            },
            "split_time": {
                "oneOf": [
                    { "type": "number", "minimum": 0 },
                    { "type": "string", "description": "An ISO 8601 duration such as PT5M" }
                ],
                "description": "Seconds between two pictures that start a new sequence"
            },
            "no_deduplication": { "type": "boolean" },
            "duplicate_distance": {
                "type": "number", "minimum": 0,
                "description": "Metres under which two pictures may be duplicates"
            },
            "duplicate_rotation": {
                "type": "number", "minimum": 0, "maximum": 180,
                "description": "Degrees of heading under which two pictures may be duplicates"
            },
            "relative_heading": {
                "type": "number", "minimum": -180, "maximum": 180,
                "description": "Heading of the pictures relative to the direction of travel"
            },
            "visibility": {
                "type": "string", "enum": ["anyone", "logged-only", "owner-only"],
                "default": "anyone"
            },
            "semantics": {
                "type": "array",
                "maxItems": flaneur_model::MAX_TAGS,
                "items": { "type": "object", "properties": {
                    "key": { "type": "string" }, "value": { "type": "string" } } }
            },
            "metadata": { "type": "object", "description": "Kept as given" }
        }
    })
}

fn upload_set() -> Value {
    json!({
        "type": "object",
        "required": ["id", "created_at", "completed", "dispatched", "ready", "title",
                     "items_status", "associated_collections", "links"],
        "properties": {
            "id": uuid(),
            "created_at": { "type": "string", "format": "date-time" },
            "completed": { "type": "boolean" },
            "dispatched": { "type": "boolean" },
            "ready": { "type": "boolean" },
            "account_id": uuid(),
            "title": { "type": "string" },
            "estimated_nb_files": { "type": "integer" },
            "sort_method": { "type": "string" },
            "visibility": { "type": "string" },
            "nb_items": { "type": "integer" },
            "items_status": {
                "type": "object",
                "properties": {
                    "prepared": { "type": "integer" },
                    "preparing": { "type": "integer" },
                    "broken": { "type": "integer" },
                    "rejected": { "type": "integer" },
                    "not_processed": { "type": "integer" }
                }
            },
            "associated_collections": {
                "type": "array",
                "description": "The sequences made of the set's pictures once dispatched",
                "items": { "type": "object", "properties": {
                    "id": uuid(),
                    "nb_items": { "type": "integer" },
                    "title": { "type": "string" },
                    "ready": { "type": "boolean" },
                    "links": links()
                } }
            },
            "links": links()
        }
    })
}

fn upload_file() -> Value {
    json!({
        "type": "object",
        "required": ["file_name", "inserted_at", "file_type", "links"],
        "properties": {
            "picture_id": uuid(),
            "file_name": { "type": "string" },
            "content_md5": { "type": "string" },
            "inserted_at": { "type": "string", "format": "date-time" },
            "file_type": { "type": "string", "enum": ["picture"] },
            "size": { "type": "integer" },
            "rejected": {
                "type": "object",
                "description": "Present when the file was refused",
                "properties": {
                    "reason": { "type": "string" },
                    "severity": { "type": "string" },
                    "message": { "type": "string" },
                    "details": {}
                }
            },
            "links": links()
        }
    })
}

fn upload_form() -> Value {
    json!({
        "type": "object",
        "required": ["file"],
        "description": "Fields other than the file may come before or after it, each at \
            most 64 KiB. Fields named `override_Exif.…` or `override_Xmp.…` give tags of the \
            picture (`override_Exif.GPSInfo.GPSImgDirection`: heading in degrees, 0 to 360; \
            `override_Xmp.GPano.ProjectionType`: only `equirectangular`).",
        "properties": {
            "file": {
                "type": "string", "format": "binary",
                "description": "The picture, a JPEG whose name ends in .jpg or .jpeg"
            },
            "isBlurred": {
                "type": "string", "enum": ["true", "false"], "default": "false",
                "description": "Whether faces and plates are blurred already"
            },
            "override_longitude": {
                "type": "number", "minimum": -180, "maximum": 180,
                "description": "Replaces the picture's longitude; with override_latitude only"
            },
            "override_latitude": {
                "type": "number", "minimum": -90, "maximum": 90,
                "description": "Replaces the picture's latitude; with override_longitude only"
            },
            "override_capture_time": {
                "type": "string", "format": "date-time",
                "description": "Replaces the capture time: an RFC 3339 instant with its offset"
            },
            "picture_id": {
                "type": "string", "format": "uuid",
                "description": "The id the picture gets, instead of a new one"
            }
        },
        "additionalProperties": { "type": "string" }
    })
}

/// Visibility and its deprecated form, as both change bodies read them.
fn visibility_fields() -> [(&'static str, Value); 2] {
    [
        (
            "visibility",
            json!({ "type": "string", "enum": ["anyone", "logged-only", "owner-only"],
                    "description": "Who may see it; logged-only is refused where anyone may \
                        make an account" }),
        ),
        (
            "visible",
            json!({ "type": "string", "enum": ["true", "false"], "deprecated": true,
                    "description": "true is visibility anyone, false owner-only" }),
        ),
    ]
}

/// The tag changes both change bodies read.
fn semantics_changes() -> Value {
    json!({
        "type": "array",
        "description": "Tags to add or delete, in order; in a JSON body only",
        "items": {
            "type": "object", "required": ["key", "value"], "additionalProperties": false,
            "properties": {
                "key": { "type": "string", "minLength": 1, "maxLength": 256 },
                "value": { "type": "string", "maxLength": 2048 },
                "action": { "type": "string", "enum": ["add", "delete"], "default": "add" }
            }
        }
    })
}

fn sequence_edit() -> Value {
    let mut properties = Map::new();
    for (name, schema) in visibility_fields() {
        properties.insert(name.to_owned(), schema);
    }
    for (name, schema) in [
        (
            "title",
            json!({ "type": "string", "minLength": 1, "maxLength": 250 }),
        ),
        (
            "sortby",
            json!({ "type": "string",
                    "enum": ["+gpsdate", "-gpsdate", "+filedate", "-filedate", "+filename",
                             "-filename"],
                    "description": "A new order of the pictures, which are ranked again; both \
                        date orders read the capture time" }),
        ),
        (
            "relative_heading",
            json!({ "type": "number", "minimum": -180, "maximum": 180,
                    "description": "Heading of the camera relative to the direction of travel; \
                        headings computed from the track are computed again" }),
        ),
        ("semantics", semantics_changes()),
    ] {
        properties.insert(name.to_owned(), schema);
    }
    json!({
        "type": "object", "additionalProperties": false, "properties": properties,
        "description": "Fields left out stay as they are; every refused field is reported at \
            once, in the error's details"
    })
}

fn item_edit() -> Value {
    let mut properties = Map::new();
    for (name, schema) in visibility_fields() {
        properties.insert(name.to_owned(), schema);
    }
    let degrees = |min: i32, max: i32| json!({ "type": "number", "minimum": min, "maximum": max });
    for (name, schema) in [
        ("heading", degrees(0, 360)),
        (
            "capture_time",
            json!({ "type": "string", "format": "date-time",
                    "description": "RFC 3339, with its offset" }),
        ),
        ("longitude", degrees(-180, 180)),
        ("latitude", degrees(-90, 90)),
        ("pitch", degrees(-90, 90)),
        ("roll", degrees(-90, 90)),
        ("yaw", degrees(0, 360)),
        ("semantics", semantics_changes()),
    ] {
        properties.insert(name.to_owned(), schema);
    }
    json!({
        "type": "object", "additionalProperties": false, "properties": properties,
        "description": "Fields left out stay as they are; longitude and latitude come \
            together. Every refused field is reported at once, in the error's details"
    })
}
