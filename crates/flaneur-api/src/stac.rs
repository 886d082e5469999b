//! JSON shapes of the API: STAC items, collections and catalog, and the Panoramax upload set
//! and file objects. Keys and types follow a Panoramax instance so its clients work unchanged;
//! absent values are omitted rather than `null`, as they do.

use chrono::{DateTime, FixedOffset, Offset, SecondsFormat, Utc};
use flaneur_model::{Annotation, Picture, Projection, SemanticTag, Sequence, UploadFile};
use flaneur_service::upload_set::UploadSetView;
use serde_json::{Map, Value, json};

use crate::InstanceInfo;
use crate::url::BaseUrl;

pub mod openapi;
pub mod queryables;
pub mod remote;
pub mod user;

/// STAC version of every document.
pub const STAC_VERSION: &str = "1.0.0";

/// The version reported as `geovisio_version`, the Panoramax API level this instance follows.
pub const PANORAMAX_API_VERSION: &str = "2.15.1";

/// Conformance classes declared by the landing page and `/api/conformance`.
///
/// Item search declares its sort and filter extensions with both CQL2 encodings. The CQL2
/// operator classes (`basic-cql2`, `advanced-comparison-operators`) are left out although
/// their operators are read: clients check them by filtering on properties of satellite
/// imagery (`eo:cloud_cover`, `mission`) and expect an answer, where this instance refuses a
/// property it does not have with a 400 naming those it has.
pub const CONFORMANCE: [&str; 14] = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/simple-query",
    "https://api.stacspec.org/v1.0.0/core",
    "https://api.stacspec.org/v1.0.0/browseable",
    "https://api.stacspec.org/v1.0.0/collections",
    "https://api.stacspec.org/v1.0.0/ogcapi-features",
    "https://api.stacspec.org/v1.0.0/item-search",
    "https://api.stacspec.org/v1.0.0/item-search#sort",
    "https://api.stacspec.org/v1.0.0-rc.2/item-search#filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "https://api.stacspec.org/v1.0.0/collection-search",
];

/// UTC instants as Panoramax writes them: `2021-07-29T09:16:54+00:00`, sub-seconds kept.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// A link object.
pub fn link(rel: &str, kind: Option<&str>, href: String, title: Option<&str>) -> Value {
    let mut l = Map::new();
    l.insert("rel".into(), json!(rel));
    if let Some(k) = kind {
        l.insert("type".into(), json!(k));
    }
    if let Some(t) = title {
        l.insert("title".into(), json!(t));
    }
    l.insert("href".into(), json!(href));
    Value::Object(l)
}

/// A link with the HTTP method to follow it with, for routes answering more than `GET`.
fn with_method(mut link: Value, method: &str) -> Value {
    if let Value::Object(l) = &mut link {
        l.insert("method".into(), json!(method));
    }
    link
}

/// Semantic tags as Panoramax writes them: `[{"key", "value"}]`.
pub fn semantics(tags: &[SemanticTag]) -> Value {
    Value::Array(
        tags.iter()
            .map(|t| json!({ "key": t.key, "value": t.value }))
            .collect(),
    )
}

/// An annotation as its routes answer it.
pub fn annotation(a: &Annotation) -> Value {
    json!({
        "id": a.id,
        "picture_id": a.picture_id,
        "shape": a.shape.to_json(),
        "semantics": semantics(&a.semantics),
    })
}

/// Puts a picture's annotations into its item JSON, each without the picture's id.
pub fn set_item_annotations(item: &mut Value, annotations: &[Annotation]) {
    item["properties"]["annotations"] = annotations
        .iter()
        .map(|a| {
            let tags = semantics(&a.semantics);
            json!({ "id": a.id, "shape": a.shape.to_json(), "semantics": tags })
        })
        .collect();
}

/// Adds the `add_annotation` link of an item, for a caller that may annotate it.
pub fn add_annotation_link(item: &mut Value, href: String) {
    if let Some(links) = item["links"].as_array_mut() {
        links.push(json!({
            "rel": "add_annotation", "type": "application/json", "method": "POST", "href": href,
        }));
    }
}

/// Puts a sequence's tags into its collection JSON.
pub fn set_collection_semantics(collection: &mut Value, tags: &[SemanticTag]) {
    collection["semantics"] = semantics(tags);
}

/// Puts the tags of a picture and of its sequence into its item JSON, where crawlers of
/// item lists read both.
pub fn set_item_semantics(item: &mut Value, picture: &[SemanticTag], sequence: &[SemanticTag]) {
    let properties = &mut item["properties"];
    properties["semantics"] = semantics(picture);
    properties["collection"]["semantics"] = semantics(sequence);
}

/// The `root` link every document carries.
pub fn root_link(base: &BaseUrl) -> Value {
    link(
        "root",
        Some("application/json"),
        base.api("/"),
        Some("Instance catalog"),
    )
}

/// `href` with query pairs appended, values percent-encoded.
pub fn with_query(href: String, pairs: &[(String, String)]) -> String {
    if pairs.is_empty() {
        return href;
    }
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    format!("{href}?{}", query.join("&"))
}

/// Percent-encodes a query value.
pub fn encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn license_link(info: &InstanceInfo) -> Value {
    let title = format!("License for this object ({})", info.license_id);
    link("license", None, info.license_url.clone(), Some(&title))
}

/// Drops `null` members, so absent values are omitted.
fn compact(mut v: Value) -> Value {
    if let Some(obj) = v.as_object_mut() {
        obj.retain(|_, v| !v.is_null());
    }
    v
}

/// The landing page `/api`. A catalog-only instance has no `report` link, as Panoramax
/// instances in read-only mode, so that viewers offer no report form.
pub fn landing(
    base: &BaseUrl,
    info: &InstanceInfo,
    extent: &flaneur_store::Extent,
    is_catalog_only: bool,
) -> Value {
    let bbox = extent.bbox.unwrap_or([-180.0, -90.0, 180.0, 90.0]);
    let mut temporal = json!({});
    if let Some((start, end)) = extent.interval {
        temporal = json!({ "interval": [[ts(start), ts(end)]] });
    }
    let api = |p: &str| base.api(p);
    let mut landing = json!({
        "stac_version": STAC_VERSION,
        "id": "flaneur",
        "type": "Catalog",
        "title": info.name.label,
        "description": info.description.label,
        "conformsTo": CONFORMANCE,
        "extent": { "spatial": { "bbox": [bbox] }, "temporal": temporal },
        "geovisio_version": PANORAMAX_API_VERSION,
        "stac_extensions": [
            "https://stac-extensions.github.io/web-map-links/v1.0.0/schema.json",
            "https://stac-extensions.github.io/contacts/v0.1.1/schema.json"
        ],
        "contacts": [{ "name": info.name.label, "emails": [{ "value": info.email }] }],
        "links": [
            link("self", Some("application/json"), api("/"), None),
            link("root", Some("application/json"), api("/"), Some("Instance catalog")),
            link("conformance", Some("application/json"), api("/conformance"), None),
            link("service-desc", Some(openapi::MEDIA_TYPE), api(openapi::PATH), None),
            link("service-doc", Some("text/html"), api(openapi::PAGE_PATH), None),
            link("data", Some("application/json"), api("/collections"), None),
            link("data", Some("application/rss+xml"), api("/collections?format=rss"), None),
            link("child", Some("application/json"), api("/users"), None),
            link("users", Some("application/json"), api("/users"), Some("List of users")),
            link("user-search", Some("application/json"), api("/users/search"),
                 Some("Search users")),
            with_method(link("search", Some("application/geo+json"), api("/search"), None), "GET"),
            with_method(link("search", Some("application/geo+json"), api("/search"), None), "POST"),
            link("collection-preview", Some("image/jpeg"), api("/collections/{id}/thumb.jpg"),
                 Some("Thumbnail URL for a given sequence")),
            link("item-preview", Some("image/jpeg"), api("/pictures/{id}/thumb.jpg"),
                 Some("Thumbnail URL for a given picture")),
            link("xyz", Some("application/vnd.mapbox-vector-tile"), api("/map/{z}/{x}/{y}.mvt"),
                 Some("Pictures and sequences vector tiles")),
            link("xyz-style", Some("application/json"), api("/map/style.json"),
                 Some("MapLibre Style JSON")),
            link(queryables::REL, Some(queryables::MEDIA_TYPE), api("/queryables"),
                 Some("Queryables")),
            link("report", Some("application/json"), api("/reports"),
                 Some("Report a problem with a picture or a sequence")),
            link("user-xyz", Some("application/vnd.mapbox-vector-tile"),
                 api("/users/{userId}/map/{z}/{x}/{y}.mvt"),
                 Some("Pictures and sequences vector tiles for a given user")),
            link("user-xyz-style", Some("application/json"), api("/users/{userId}/map/style.json"),
                 Some("MapLibre Style JSON")),
            license_link(info),
        ],
    });
    if let (true, Some(links)) = (is_catalog_only, landing["links"].as_array_mut()) {
        links.retain(|link| link["rel"] != "report");
    }
    landing
}

/// The configuration route `/api/configuration`.
pub fn configuration(
    base: &BaseUrl,
    info: &InstanceInfo,
    defaults: &flaneur_model::DispatchSettings,
    editing: &flaneur_service::edit::EditSettings,
    auth: &crate::AuthSettings,
    pages: &[String],
    is_catalog_only: bool,
) -> Value {
    let logo_url = info
        .logo_url
        .clone()
        .unwrap_or_else(|| format!("{}/static/logo.svg", base.0));
    let text = |t: &crate::LocalizedText| json!({ "label": t.label, "langs": t.langs });
    let mut configuration = json!({
        "name": text(&info.name),
        "description": text(&info.description),
        "geo_coverage": text(&info.geo_coverage),
        "email": info.email,
        "logo": logo_url,
        "color": info.color,
        "auth": auth_block(auth),
        "license": { "id": info.license_id, "url": info.license_url },
        "version": PANORAMAX_API_VERSION,
        "pages": pages,
        "defaults": dispatch_defaults(defaults, editing),
        "visibility": { "possible_values": possible_visibilities(editing) },
    });
    // The key Panoramax instances add when they take no writes; accounts still log in here.
    if is_catalog_only {
        configuration["is_read_only"] = json!(true);
    }
    configuration
}

/// The visibilities uploads and edits may set: all but `logged-only` when anyone may make an
/// account, since it would hide nothing then.
fn possible_visibilities(editing: &flaneur_service::edit::EditSettings) -> Vec<&'static str> {
    flaneur_model::Visibility::ALL
        .iter()
        .filter(|v| !(editing.registration_is_open && **v == flaneur_model::Visibility::LoggedOnly))
        .map(flaneur_model::Visibility::as_str)
        .collect()
}

/// The `auth` of the configuration: `{"enabled": false}` without a login provider, as
/// Panoramax clients expect (API tokens work all the same).
fn auth_block(auth: &crate::AuthSettings) -> Value {
    let Some(login) = &auth.login else {
        return json!({ "enabled": false });
    };
    let mut block = json!({
        "enabled": true,
        "registration_is_open": login.registration_is_open,
        "enforce_tos_acceptance": login.enforce_tos_acceptance,
    });
    if let Some(url) = &login.profile_url {
        block["user_profile"] = json!({ "url": url });
    }
    block
}

/// The `defaults` of the configuration: what upload sets get when they do not say. Split and
/// deduplication values are `null` when the instance turns them off, as on Panoramax
/// instances; whole numbers are written without a fraction, as they write them.
fn dispatch_defaults(
    defaults: &flaneur_model::DispatchSettings,
    editing: &flaneur_service::edit::EditSettings,
) -> Value {
    let number = |v: f64| {
        // Values are metres, seconds and degrees, far inside i64.
        #[expect(clippy::cast_possible_truncation, reason = "a whole number in range")]
        let whole = v as i64;
        if v.fract() == 0.0 && v.abs() < 1e15 {
            json!(whole)
        } else {
            json!(v)
        }
    };
    let (split_distance, split_time) = if defaults.no_split {
        (Value::Null, Value::Null)
    } else {
        (
            number(defaults.split_distance_m),
            json!(defaults.split_time_secs),
        )
    };
    let (duplicate_distance, duplicate_rotation) = if defaults.no_deduplication {
        (Value::Null, Value::Null)
    } else {
        (
            json!(defaults.duplicate_distance_m),
            number(defaults.duplicate_rotation_deg),
        )
    };
    json!({
        // `null` when the operator left it unset, which allows it, as on Panoramax instances.
        "collaborative_metadata": editing.collaborative_metadata,
        "default_visibility": flaneur_model::Visibility::default().as_str(),
        "duplicate_distance": duplicate_distance,
        "duplicate_rotation": duplicate_rotation,
        "split_distance": split_distance,
        "split_time": split_time,
    })
}

/// `geovisio:upload-software` from the uploader's `User-Agent`.
fn upload_software(user_agent: Option<&str>) -> &'static str {
    let Some(ua) = user_agent else {
        return "unknown";
    };
    let product = ua.split('/').next().unwrap_or("").to_ascii_lowercase();
    match product.as_str() {
        "geovisiocli" | "panoramaxcli" => "cli",
        "geovisiowebsite" => "website",
        "panoramaxapp" => "mobile_app",
        "" => "unknown",
        _ => "other",
    }
}

/// The links of a collection to itself, its items and this instance, local or harvested.
fn collection_links(base: &BaseUrl, id: &str) -> Vec<Value> {
    vec![
        link(
            "items",
            Some("application/geo+json"),
            base.api(&format!("/collections/{id}/items")),
            Some("Pictures in this sequence"),
        ),
        link(
            "parent",
            Some("application/json"),
            base.api("/"),
            Some("Instance catalog"),
        ),
        root_link(base),
        link(
            "self",
            Some("application/json"),
            base.api(&format!("/collections/{id}")),
            Some("Metadata of this sequence"),
        ),
    ]
}

/// The links of an item to itself, its collection and this instance, local or harvested.
fn item_links(base: &BaseUrl, seq: &str, id: &str) -> Vec<Value> {
    let collection = base.api(&format!("/collections/{seq}"));
    vec![
        root_link(base),
        link("parent", Some("application/json"), collection.clone(), None),
        link(
            "self",
            Some("application/geo+json"),
            base.api(&format!("/collections/{seq}/items/{id}")),
            None,
        ),
        link("collection", Some("application/json"), collection, None),
    ]
}

/// A sequence as a STAC collection.
pub fn collection(
    base: &BaseUrl,
    info: &InstanceInfo,
    s: &Sequence,
    producer: &str,
    summaries: Option<Value>,
) -> Value {
    let id = s.id.to_string();
    let bbox = s.bbox.unwrap_or([-180.0, -90.0, 180.0, 90.0]);
    let interval = match (s.min_captured_at, s.max_captured_at) {
        (Some(a), Some(b)) => json!([[ts(a), ts(b)]]),
        _ => json!([[null, null]]),
    };
    let mut links = collection_links(base, &id);
    links.push(license_link(info));
    if let Some(set) = s.upload_set_id {
        links.push(link(
            "upload_set",
            Some("application/json"),
            base.api(&format!("/upload_sets/{set}")),
            Some("Link to the upload set"),
        ));
    }
    let status = match s.status {
        flaneur_model::SequenceStatus::Ready => Value::Null,
        other => json!(other.as_str()),
    };
    compact(json!({
        "type": "Collection",
        "stac_version": STAC_VERSION,
        "stac_extensions": [
            "https://stac-extensions.github.io/stats/v0.2.0/schema.json",
            "https://stac.linz.govt.nz/v0.0.15/quality/schema.json"
        ],
        "id": id,
        "title": s.title,
        "description": "A sequence of geolocated pictures",
        "keywords": ["pictures", s.title],
        "semantics": [],
        "license": info.license_id,
        "created": ts(s.created_at),
        "updated": ts(s.updated_at),
        "geovisio:status": status,
        "geovisio:visibility": s.visibility.as_str(),
        "geovisio:sorted-by": s.sorted_by,
        "geovisio:upload-software": upload_software(s.user_agent.as_deref()),
        "geovisio:length_km": s.length_km.map(|l| (l * 1000.0).round() / 1000.0),
        "quality:horizontal_accuracy": s.gps_accuracy_m.map(|a| (a * 10.0).round() / 10.0),
        "quality:horizontal_accuracy_type": "95% confidence interval",
        "providers": [{ "name": producer, "roles": ["producer"], "id": s.account_id }],
        "extent": { "spatial": { "bbox": [bbox] }, "temporal": { "interval": interval } },
        "summaries": summaries,
        "stats:items": { "count": s.nb_pictures },
        "links": links,
    }))
}

/// The processing status of a sequence and of each of its pictures, in rank order.
///
/// The catalog keeps no separate processing instant or error count: `processed_at` is the
/// last change of a picture that finished processing (ready or broken), and `nb_errors` is 1
/// for a picture whose processing failed for good, 0 otherwise.
pub fn collection_status(s: &Sequence, pictures: &[Picture]) -> Value {
    use flaneur_model::PictureStatus;
    let items: Vec<Value> = pictures
        .iter()
        .map(|p| {
            let finished = matches!(p.status, PictureStatus::Ready | PictureStatus::Broken);
            compact(json!({
                "id": p.base.id,
                "status": p.status.as_str(),
                "processing_in_progress": p.status == PictureStatus::Preparing,
                "process_error": p.process_error,
                "nb_errors": i64::from(p.status == PictureStatus::Broken),
                "processed_at": finished.then(|| ts(p.updated_at)),
                "rank": p.rank,
            }))
        })
        .collect();
    json!({ "status": s.status.as_str(), "items": items })
}

/// Distinct camera descriptions over a sequence's pictures, for `summaries`.
pub fn summaries(pictures: &[Picture]) -> Value {
    let mut cameras: Vec<Value> = Vec::new();
    let mut densities: Vec<i64> = Vec::new();
    for p in pictures {
        let d = &p.base.details;
        let cam = compact(json!({
            "make": d.make,
            "model": d.model,
            "focal_length": d.focal_length_mm.map(|f| f.to_string()),
            "field_of_view": d.field_of_view_deg.map(|f| f.round().to_string()),
        }));
        if !cameras.contains(&cam) {
            cameras.push(cam);
        }
        if let Some(density) = pixel_density(p)
            && !densities.contains(&density)
        {
            densities.push(density);
        }
    }
    json!({
        "pers:interior_orientation": cameras,
        "panoramax:horizontal_pixel_density": densities,
    })
}

/// Pixels per degree of horizontal field of view.
fn pixel_density(p: &Picture) -> Option<i64> {
    let fov = p.base.details.field_of_view_deg.filter(|f| *f > 0.0)?;
    Some((f64::from(p.base.width) / fov).round() as i64)
}

/// The local time of the capture, in the zone of the place when known, else in UTC (as
/// Panoramax instances do when they cannot tell the zone).
fn datetimetz(p: &Picture) -> String {
    let offset = p
        .base
        .utc_offset_secs
        .and_then(FixedOffset::east_opt)
        .unwrap_or(Utc.fix());
    p.base
        .captured_at
        .with_timezone(&offset)
        .to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// A neighbour link (`prev`, `next`) carrying the id and position the viewer reads.
fn neighbour_link(base: &BaseUrl, rel: &str, p: &Picture) -> Value {
    let seq = p.sequence_id.map(|s| s.to_string()).unwrap_or_default();
    json!({
        "rel": rel,
        "type": "application/geo+json",
        "id": p.base.id,
        "geometry": { "type": "Point", "coordinates": [p.base.lon, p.base.lat] },
        "href": base.api(&format!("/collections/{seq}/items/{}", p.base.id)),
    })
}

/// Adds to a collection's or item's `links` what the caller may do to it, as Panoramax
/// instances say it: an `edit` link naming the fields a `PATCH` may change, and a `delete`
/// link when it may delete it. Nothing for an anonymous caller (`None`).
pub fn add_rights_links(
    document: &mut Value,
    href: &str,
    rights: Option<&flaneur_service::edit::EditRights>,
) {
    let (Some(rights), Some(links)) = (rights, document["links"].as_array_mut()) else {
        return;
    };
    links.push(json!({
        "rel": "edit", "type": "application/json", "method": "PATCH",
        "attributes": rights.fields, "href": href,
    }));
    if rights.may_delete {
        links.push(json!({
            "rel": "delete", "type": "application/json", "method": "DELETE", "href": href,
        }));
    }
}

/// A `related` link: a picture of another sequence taken from about the same place, with the
/// capture time the viewer offers it by.
pub fn related_link(base: &BaseUrl, p: &Picture) -> Value {
    let mut link = neighbour_link(base, "related", p);
    link["datetime"] = json!(
        p.base
            .captured_at
            .to_rfc3339_opts(SecondsFormat::Secs, true)
    );
    link
}

/// A picture as a STAC item.
pub fn item(
    base: &BaseUrl,
    info: &InstanceInfo,
    p: &Picture,
    producer: &str,
    neighbours: (Option<&Picture>, Option<&Picture>),
) -> Value {
    let id = p.base.id.to_string();
    let seq = p.sequence_id.map(|s| s.to_string()).unwrap_or_default();
    let d = &p.base.details;
    let file = |name: &str| base.api(&format!("/pictures/{id}/{name}"));
    let is_360 = p.base.projection == Projection::Equirectangular;

    let sensor = match d.crop {
        Some(c) if !c.is_full() => [c.full_width, c.full_height],
        _ => [p.base.width, p.base.height],
    };
    let visible_area = d.crop.filter(|c| !c.is_full()).map(|c| c.visible_area());
    let interior = compact(json!({
        "camera_manufacturer": d.make,
        "camera_model": d.model,
        "focal_length": d.focal_length_mm,
        "field_of_view": d.field_of_view_deg.map(|f| f.round() as i64),
        "sensor_array_dimensions": sensor,
        "visible_area": visible_area,
    }));

    let mut extensions = vec![
        "https://stac-extensions.github.io/view/v1.0.0/schema.json",
        "https://stac-extensions.github.io/perspective-imagery/v1.0.0/schema.json",
    ];
    let mut properties = json!({
        "datetime": ts(p.base.captured_at),
        "datetimetz": datetimetz(p),
        "created": ts(p.created_at),
        "updated": ts(p.updated_at),
        "license": info.license_id,
        "view:azimuth": p.base.heading_deg.map(|h| h.round() as i64),
        "pers:interior_orientation": interior,
        "pers:pitch": d.pitch_deg,
        "pers:roll": d.roll_deg,
        "pers:yaw": d.yaw_deg,
        "geovisio:status": p.status.as_str(),
        "geovisio:visibility": p.base.visibility.as_str(),
        "geovisio:producer": producer,
        "geovisio:rank_in_collection": p.rank,
        "geovisio:image": file("hd.jpg"),
        "geovisio:thumbnail": file("thumb.jpg"),
        "original_file:size": p.base.size_bytes,
        "original_file:name": p.base.file_name,
        "panoramax:horizontal_pixel_density": pixel_density(p),
        "quality:horizontal_accuracy": d.gps_accuracy_m.map(|a| (a * 10.0).round() / 10.0),
        "exif": d.exif,
        "semantics": [],
        "annotations": [],
        "collection": { "semantics": [] },
    });
    let mut item = json!({
        "type": "Feature",
        "stac_version": STAC_VERSION,
        "id": id,
        "collection": seq,
        "geometry": { "type": "Point", "coordinates": [p.base.lon, p.base.lat] },
        "bbox": [p.base.lon, p.base.lat, p.base.lon, p.base.lat],
        "assets": {
            "hd": { "title": "HD picture", "description": "Highest resolution available of this picture",
                    "roles": ["data"], "type": "image/jpeg", "href": file("hd.jpg") },
            "sd": { "title": "SD picture",
                    "description": "Picture in standard definition (fixed width of 2048px)",
                    "roles": ["visual"], "type": "image/jpeg", "href": file("sd.jpg") },
            "thumb": { "title": "Thumbnail",
                       "description": "Picture in low definition (fixed width of 500px)",
                       "roles": ["thumbnail"], "type": "image/jpeg", "href": file("thumb.jpg") },
        },
    });

    if is_360 && let Some(grid) = p.tile_grid() {
        extensions.push("https://stac-extensions.github.io/tiled-assets/v1.0.0/schema.json");
        properties["tiles:tile_matrix_sets"] = json!({ "geovisio": {
            "type": "TileMatrixSetType",
            "title": format!("GeoVisio tile matrix for picture {id}"),
            "identifier": format!("geovisio-{id}"),
            "tileMatrix": [{
                "type": "TileMatrixType", "identifier": "0", "scaleDenominator": 1,
                "topLeftCorner": [0, 0],
                "tileWidth": grid.tile_width, "tileHeight": grid.tile_height,
                "matrixWidth": grid.cols, "matrixHeight": grid.rows,
            }],
        }});
        item["asset_templates"] = json!({ "tiles": {
            "title": "HD tiled picture",
            "description": "Highest resolution available of this picture, as tiles",
            "roles": ["data"], "type": "image/jpeg",
            "href": base.api(&format!("/pictures/{id}/tiled/{{TileCol}}_{{TileRow}}.jpg")),
        }});
    }

    let mut providers =
        vec![json!({ "name": producer, "roles": ["producer"], "id": p.base.account_id })];
    if let Some(artist) = &d.artist {
        providers.push(json!({ "name": artist, "roles": ["producer"] }));
    }
    item["providers"] = json!(providers);
    item["stac_extensions"] = json!(extensions);
    item["properties"] = compact(properties);

    let mut links = item_links(base, &seq, &id);
    links.push(license_link(info));
    if let Some(prev) = neighbours.0 {
        links.push(neighbour_link(base, "prev", prev));
    }
    if let Some(next) = neighbours.1 {
        links.push(neighbour_link(base, "next", next));
    }
    item["links"] = json!(links);
    item
}

/// An upload set with its progress.
pub fn upload_set(base: &BaseUrl, view: &UploadSetView) -> Value {
    let set = &view.set;
    let spec = &set.spec;
    let id = set.id.to_string();
    let collections: Vec<Value> = view
        .sequences
        .iter()
        .map(|s| {
            let seq = &s.sequence;
            let st = s.items_status;
            let interval = match (seq.min_captured_at, seq.max_captured_at) {
                (Some(a), Some(b)) => json!([[ts(a), ts(b)]]),
                _ => json!([]),
            };
            json!({
                "id": seq.id,
                "nb_items": seq.nb_pictures,
                "extent": { "temporal": { "interval": interval } },
                "title": seq.title,
                "items_status": { "prepared": st.prepared, "preparing": st.preparing,
                                  "broken": st.broken, "not_processed": st.not_processed },
                "links": [link("self", Some("application/json"),
                               base.api(&format!("/collections/{}", seq.id)), None)],
                "ready": seq.status == flaneur_model::SequenceStatus::Ready
                    && st.not_processed == 0 && st.preparing == 0,
            })
        })
        .collect();
    let st = view.items_status;
    let set_url = base.api(&format!("/upload_sets/{id}"));
    compact(json!({
        "id": id,
        "created_at": ts(set.created_at),
        "completed": set.completed,
        "dispatched": set.dispatched,
        "ready": view.is_ready(),
        "account_id": spec.account_id,
        "title": spec.title,
        "estimated_nb_files": spec.estimated_nb_files,
        "sort_method": spec.sort_method.unwrap_or_default().as_str(),
        "split_distance": spec.split_distance_m,
        "split_time": spec.split_time_secs,
        "duplicate_distance": spec.duplicate_distance_m,
        "duplicate_rotation": spec.duplicate_rotation_deg,
        "no_split": spec.no_split,
        "no_deduplication": spec.no_deduplication,
        "relative_heading": spec.relative_heading_deg,
        "visibility": spec.visibility.as_str(),
        "metadata": spec.metadata,
        "semantics": spec.semantics,
        "nb_items": view.nb_items,
        "items_status": { "prepared": st.prepared, "preparing": st.preparing, "broken": st.broken,
                          "rejected": st.rejected, "not_processed": st.not_processed },
        "associated_collections": collections,
        "links": [
            link("self", Some("application/json"), set_url.clone(), None),
            json!({ "rel": "add_files", "type": "application/json", "method": "POST",
                    "href": format!("{set_url}/files") }),
            json!({ "rel": "complete", "type": "application/json", "method": "POST",
                    "href": format!("{set_url}/complete") }),
            json!({ "rel": "delete", "type": "application/json", "method": "DELETE",
                    "href": set_url }),
        ],
    }))
}

/// A file received in an upload set.
pub fn upload_file(base: &BaseUrl, f: &UploadFile) -> Value {
    let rejected = f.rejection.as_ref().map(|r| {
        compact(json!({
            "reason": r.reason.as_str(),
            "severity": r.reason.severity(),
            "message": r.message,
            "details": r.details,
        }))
    });
    compact(json!({
        "picture_id": f.picture_id,
        "file_name": f.file_name,
        "content_md5": f.content_md5,
        "inserted_at": f.inserted_at.to_rfc3339_opts(SecondsFormat::Micros, true),
        "file_type": "picture",
        "size": f.size_bytes,
        "links": [link("parent", Some("application/json"),
                       base.api(&format!("/upload_sets/{}", f.upload_set_id)), None)],
        "rejected": rejected,
    }))
}
