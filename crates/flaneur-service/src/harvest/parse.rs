//! Reading a peer's STAC JSON into remote collections and items. Each entry is checked on its
//! own: a bad entry is refused with its reason and the rest of the page is kept. Only a page
//! whose list is missing or not an array is an error of the whole page.

use std::collections::BTreeMap;

use chrono::{DateTime, SubsecRound, Utc};
use flaneur_model::{
    Crop, ORIGIN_UPDATED_KEY, PictureDetails, PictureId, Projection, RemoteAuthor,
    RemoteCollection, RemoteItem, RemoteRemoval, SequenceId, origin_time,
};
use serde_json::{Map, Value};
use url::Url;

use super::HarvestError;

/// Why one entry of a page was not kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("entry {id}: {field} {reason}")]
pub struct EntryError {
    /// The entry's `id` as sent, or its position on the page when it has none.
    pub id: String,
    /// The field at fault.
    pub field: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

/// One entry of a changed-collections listing.
#[derive(Debug, Clone, PartialEq)]
pub enum ListingEntry {
    /// The collection is deleted or no longer public at the peer. Its `updated`, for peers
    /// that give one (GeoVisio does not), moves the harvest's watermark as a collection's does.
    Tombstone(RemoteRemoval),
    /// The collection as it is now.
    Collection(Box<RemoteCollection>),
}

/// The array under `field` (`collections`, `features`) of a page.
///
/// # Errors
///
/// When the page is not an object or the field is missing or not an array.
pub fn page_entries<'a>(
    page: &'a Value,
    field: &'static str,
    url: &Url,
) -> Result<&'a [Value], HarvestError> {
    match page.get(field) {
        Some(Value::Array(entries)) => Ok(entries),
        other => Err(HarvestError::Shape {
            url: url.to_string(),
            field,
            reason: match other {
                None => "missing".to_owned(),
                Some(v) => format!("expected an array, got {}", kind(v)),
            },
        }),
    }
}

/// Reads one entry of a collections listing asked with `show_deleted=true`.
///
/// # Errors
///
/// When the entry's id is not a UUID, it is not a tombstone and has no valid `updated`, or it
/// is larger than `max_doc_bytes` once its links are dropped.
pub fn collection_entry(
    entry: &Value,
    index: usize,
    max_doc_bytes: usize,
) -> Result<ListingEntry, EntryError> {
    let Some(object) = entry.as_object() else {
        return Err(EntryError {
            id: format!("#{}", index + 1),
            field: "entry",
            reason: format!("is {}, not an object", kind(entry)),
        });
    };
    let doc = Entry::new(object, index);
    let id: SequenceId = doc.uuid()?.into();
    if object.get("geovisio:status").and_then(Value::as_str) == Some("deleted") {
        // A tombstone whose `updated` cannot be read is still a removal: only the watermark
        // stays where it was.
        let updated = doc
            .optional_time(object.get("updated"), "updated")
            .ok()
            .flatten();
        return Ok(ListingEntry::Tombstone(RemoteRemoval {
            id,
            updated,
            origin_updated: origin_time(object.get(ORIGIN_UPDATED_KEY)),
        }));
    }

    let updated = doc.required_time(object.get("updated"), "updated")?;
    let title = doc
        .optional_str(object.get("title"), "title")?
        .unwrap_or_default();
    let author = doc.author(object.get("providers"))?;
    let doc = doc.into_doc(max_doc_bytes)?;
    Ok(ListingEntry::Collection(Box::new(RemoteCollection {
        id,
        updated,
        is_deleted: false,
        title,
        author,
        doc,
    })))
}

/// Reads one feature of a collection's items listing; `rank` is its place in the whole
/// listing, used when the feature does not give `geovisio:rank_in_collection`.
///
/// # Errors
///
/// When the id is not a UUID, the feature belongs to another collection, its geometry is not
/// a point with coordinates in range, its `datetime` is missing or invalid, an optional
/// property has the wrong type or an impossible value, or it is larger than `max_doc_bytes`
/// once its links are dropped.
pub fn item_entry(
    entry: &Value,
    collection: SequenceId,
    rank: i64,
    max_doc_bytes: usize,
) -> Result<RemoteItem, EntryError> {
    let index = usize::try_from(rank - 1).unwrap_or(0);
    let Some(object) = entry.as_object() else {
        return Err(EntryError {
            id: format!("#{rank}"),
            field: "entry",
            reason: format!("is {}, not an object", kind(entry)),
        });
    };
    let e = Entry::new(object, index);
    let id: PictureId = e.uuid()?.into();
    if let Some(of) = e.optional_str(object.get("collection"), "collection")?
        && uuid::Uuid::parse_str(&of).ok() != Some(collection.0)
    {
        return Err(e.error("collection", format!("names {of}, not {collection}")));
    }
    let (lon, lat) = e.point(object.get("geometry"))?;

    let empty = Map::new();
    let props = match object.get("properties") {
        Some(Value::Object(p)) => p,
        None | Some(Value::Null) => &empty,
        Some(other) => return Err(e.error("properties", format!("is {}", kind(other)))),
    };
    let captured_at = e.required_time(props.get("datetime"), "properties.datetime")?;
    let updated = e.optional_time(props.get("updated"), "properties.updated")?;
    let heading_deg = e.number_in(props.get("view:azimuth"), "view:azimuth", 0.0, 360.0)?;
    let rank = match props.get("geovisio:rank_in_collection") {
        None | Some(Value::Null) => rank,
        Some(v) => v
            .as_i64()
            .filter(|r| *r >= 1)
            .ok_or_else(|| e.error("geovisio:rank_in_collection", "is not a rank from 1"))?,
    };

    let empty = Map::new();
    let interior = match props.get("pers:interior_orientation") {
        Some(Value::Object(o)) => o,
        None | Some(Value::Null) => &empty,
        Some(other) => {
            return Err(e.error("pers:interior_orientation", format!("is {}", kind(other))));
        }
    };
    let fov = e.number_in(interior.get("field_of_view"), "field_of_view", 0.0, 360.0)?;
    let (size, crop) = e.size(interior)?;

    // A peer says 360° through the tile matrix it offers for the viewer (as GeoVisio and this
    // server do for equirectangular pictures only), or through a full field of view.
    let is_tiled = props
        .get("tiles:tile_matrix_sets")
        .is_some_and(|t| !t.is_null())
        || entry.pointer("/asset_templates/tiles").is_some();
    let projection = if is_tiled || fov == Some(360.0) {
        Projection::Equirectangular
    } else {
        Projection::Flat
    };

    let details = PictureDetails {
        make: e.optional_str(interior.get("camera_manufacturer"), "camera_manufacturer")?,
        model: e.optional_str(interior.get("camera_model"), "camera_model")?,
        focal_length_mm: e.number_in(interior.get("focal_length"), "focal_length", 0.0, 1e4)?,
        field_of_view_deg: fov,
        crop,
        pitch_deg: e.number_in(props.get("pers:pitch"), "pers:pitch", -180.0, 180.0)?,
        roll_deg: e.number_in(props.get("pers:roll"), "pers:roll", -180.0, 180.0)?,
        yaw_deg: e.number_in(props.get("pers:yaw"), "pers:yaw", -360.0, 360.0)?,
        gps_accuracy_m: e.number_in(
            props.get("quality:horizontal_accuracy"),
            "quality:horizontal_accuracy",
            0.0,
            1e7,
        )?,
        exif: e.exif(props.get("exif"))?,
        ..PictureDetails::default()
    };
    let author = e.author(object.get("providers"))?;
    let doc = e.into_doc(max_doc_bytes)?;
    Ok(RemoteItem {
        id,
        rank,
        captured_at,
        lon,
        lat,
        heading_deg,
        projection,
        width: size.map(|s| s.0),
        height: size.map(|s| s.1),
        updated,
        author,
        details,
        doc,
    })
}

/// An entry being read, naming itself in its errors.
struct Entry<'a> {
    object: &'a Map<String, Value>,
    id: String,
}

impl<'a> Entry<'a> {
    fn new(object: &'a Map<String, Value>, index: usize) -> Entry<'a> {
        let id = match object.get("id") {
            Some(Value::String(s)) => s.chars().take(64).collect(),
            _ => format!("#{}", index + 1),
        };
        Entry { object, id }
    }

    fn error(&self, field: &'static str, reason: impl Into<String>) -> EntryError {
        EntryError {
            id: self.id.clone(),
            field,
            reason: reason.into(),
        }
    }

    fn uuid(&self) -> Result<uuid::Uuid, EntryError> {
        let id = self.object.get("id").and_then(Value::as_str);
        let id = id.ok_or_else(|| self.error("id", "is missing or not a string"))?;
        uuid::Uuid::parse_str(id).map_err(|_| self.error("id", "is not a UUID"))
    }

    fn optional_str(
        &self,
        value: Option<&Value>,
        field: &'static str,
    ) -> Result<Option<String>, EntryError> {
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.error(field, format!("is {}, not a string", kind(other)))),
        }
    }

    fn optional_time(
        &self,
        value: Option<&Value>,
        field: &'static str,
    ) -> Result<Option<DateTime<Utc>>, EntryError> {
        let Some(text) = self.optional_str(value, field)? else {
            return Ok(None);
        };
        // Catalogs keep instants to the microsecond: a finer one would never compare equal
        // to what is held, and its collection would be fetched again at every pass.
        DateTime::parse_from_rfc3339(&text)
            .map(|t| Some(t.with_timezone(&Utc).trunc_subsecs(6)))
            .map_err(|e| self.error(field, format!("is not an RFC 3339 instant: {e}")))
    }

    fn required_time(
        &self,
        value: Option<&Value>,
        field: &'static str,
    ) -> Result<DateTime<Utc>, EntryError> {
        self.optional_time(value, field)?
            .ok_or_else(|| self.error(field, "is missing"))
    }

    /// A finite number within `[min, max]`; peers write some numbers as strings.
    fn number_in(
        &self,
        value: Option<&Value>,
        field: &'static str,
        min: f64,
        max: f64,
    ) -> Result<Option<f64>, EntryError> {
        let n = match value {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
            Some(other) => return Err(self.error(field, format!("is {}", kind(other)))),
        };
        match n {
            Some(n) if n.is_finite() && (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(self.error(field, format!("is not a number from {min} to {max}"))),
        }
    }

    fn point(&self, geometry: Option<&Value>) -> Result<(f64, f64), EntryError> {
        let geometry = geometry.and_then(Value::as_object);
        let geometry = geometry.ok_or_else(|| self.error("geometry", "is missing"))?;
        if geometry.get("type").and_then(Value::as_str) != Some("Point") {
            return Err(self.error("geometry", "is not a Point"));
        }
        let coordinates = geometry.get("coordinates").and_then(Value::as_array);
        let lon_lat = match coordinates.map(Vec::as_slice) {
            Some([lon, lat, ..]) => lon.as_f64().zip(lat.as_f64()),
            _ => None,
        };
        match lon_lat {
            Some((lon, lat))
                if lon.is_finite()
                    && lat.is_finite()
                    && (-180.0..=180.0).contains(&lon)
                    && (-90.0..=90.0).contains(&lat) =>
            {
                Ok((lon, lat))
            }
            _ => Err(self.error("geometry", "has no longitude and latitude in range")),
        }
    }

    /// The pixel size shown and, for a cropped panorama, where it sits in its sphere, from
    /// `sensor_array_dimensions` (the full size) and `visible_area` (the margins).
    #[expect(clippy::type_complexity, reason = "a pair of small optional shapes")]
    fn size(
        &self,
        interior: &Map<String, Value>,
    ) -> Result<(Option<(u32, u32)>, Option<Crop>), EntryError> {
        let pixels = |value: &Value| value.as_u64().and_then(|n| u32::try_from(n).ok());
        let sensor = match interior.get("sensor_array_dimensions") {
            None | Some(Value::Null) => return Ok((None, None)),
            Some(Value::Array(wh)) if wh.len() == 2 => pixels(&wh[0]).zip(pixels(&wh[1])),
            Some(_) => None,
        };
        let (full_width, full_height) = sensor
            .filter(|(w, h)| *w > 0 && *h > 0)
            .ok_or_else(|| self.error("sensor_array_dimensions", "is not two pixel counts"))?;
        let margins = match interior.get("visible_area") {
            None | Some(Value::Null) => return Ok((Some((full_width, full_height)), None)),
            Some(Value::Array(m)) if m.len() == 4 => {
                m.iter().map(pixels).collect::<Option<Vec<u32>>>()
            }
            Some(_) => None,
        };
        let crop = margins.and_then(|m| {
            let width = full_width.checked_sub(m[0])?.checked_sub(m[2])?;
            let height = full_height.checked_sub(m[1])?.checked_sub(m[3])?;
            Some(Crop {
                full_width,
                full_height,
                width,
                height,
                left: m[0],
                top: m[1],
            })
        });
        let crop = crop
            .filter(|c| c.width > 0 && c.height > 0)
            .ok_or_else(|| self.error("visible_area", "is not four margins within the size"))?;
        Ok((Some((crop.width, crop.height)), Some(crop)))
    }

    /// The first provider, as the contributor.
    fn author(&self, providers: Option<&Value>) -> Result<RemoteAuthor, EntryError> {
        let first = match providers {
            None | Some(Value::Null) => return Ok(RemoteAuthor::default()),
            Some(Value::Array(p)) => p.first(),
            Some(other) => return Err(self.error("providers", format!("is {}", kind(other)))),
        };
        let Some(first) = first else {
            return Ok(RemoteAuthor::default());
        };
        Ok(RemoteAuthor {
            id: self.optional_str(first.get("id"), "providers.id")?,
            name: self.optional_str(first.get("name"), "providers.name")?,
        })
    }

    /// The tags read from the file; values that are not strings are written as JSON.
    fn exif(&self, value: Option<&Value>) -> Result<BTreeMap<String, String>, EntryError> {
        let tags = match value {
            None | Some(Value::Null) => return Ok(BTreeMap::new()),
            Some(Value::Object(tags)) => tags,
            Some(other) => return Err(self.error("exif", format!("is {}", kind(other)))),
        };
        Ok(tags
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => (k.clone(), s.clone()),
                other => (k.clone(), other.to_string()),
            })
            .collect())
    }

    /// The entry as kept: everything but its `links`, within the size cap.
    fn into_doc(self, max_doc_bytes: usize) -> Result<Map<String, Value>, EntryError> {
        let mut doc = self.object.clone();
        // Links are rebuilt when served, but for those naming its license: the terms under
        // which its pictures may be reused are the peer's to say.
        let licenses = license_links(doc.remove("links").as_ref());
        if !licenses.is_empty() {
            doc.insert("links".to_owned(), Value::Array(licenses));
        }
        // PostgreSQL keeps no NUL character in text or JSON: refused here for every backend
        // alike, rather than failing the collection's write.
        if doc.iter().any(|(k, v)| k.contains('\0') || has_nul(v)) {
            return Err(self.error("entry", "holds a NUL character"));
        }
        let size = serde_json::to_vec(&doc)
            .map(|b| b.len())
            .unwrap_or(usize::MAX);
        if size > max_doc_bytes {
            return Err(self.error(
                "entry",
                format!("is {size} bytes, over the {max_doc_bytes} kept for one entry"),
            ));
        }
        Ok(doc)
    }
}

/// Most `license` links kept from one document.
const MAX_LICENSE_LINKS: usize = 4;

/// The `rel=license` links among `links` whose `href` is an http(s) address, as
/// `{rel, href, title?}` (a string title only), a few at most.
fn license_links(links: Option<&Value>) -> Vec<Value> {
    let Some(links) = links.and_then(Value::as_array) else {
        return Vec::new();
    };
    links
        .iter()
        .filter(|link| link.get("rel").and_then(Value::as_str) == Some("license"))
        .filter_map(|link| {
            let href = link.get("href").and_then(Value::as_str)?;
            if !(href.starts_with("https://") || href.starts_with("http://")) {
                return None;
            }
            let mut kept = Map::new();
            kept.insert("rel".to_owned(), Value::from("license"));
            kept.insert("href".to_owned(), Value::from(href));
            if let Some(title) = link.get("title").and_then(Value::as_str) {
                kept.insert("title".to_owned(), Value::from(title));
            }
            Some(Value::Object(kept))
        })
        .take(MAX_LICENSE_LINKS)
        .collect()
}

/// Whether a NUL character is in any string or key of `value`.
fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(values) => values.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// A JSON value's kind, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SEQ: &str = "7a1c3f2e-5b4d-4e6f-8a9b-0c1d2e3f4a5b";
    const PIC: &str = "0f9e8d7c-6b5a-4c3d-9e2f-1a0b9c8d7e6f";

    fn seq() -> SequenceId {
        SEQ.parse().expect("test id")
    }

    fn listing_entry(v: Value) -> Result<ListingEntry, EntryError> {
        collection_entry(&v, 0, 64 * 1024)
    }

    fn item(v: Value) -> Result<RemoteItem, EntryError> {
        item_entry(&v, seq(), 3, 64 * 1024)
    }

    fn panorama() -> Value {
        json!({
            "type": "Feature", "id": PIC, "collection": SEQ,
            "geometry": { "type": "Point", "coordinates": [2.35, 48.85] },
            "providers": [{ "name": "alice", "id": "u-1", "roles": ["producer"] }],
            "properties": {
                "datetime": "2024-05-01T10:00:00+02:00",
                "updated": "2024-05-02T00:00:00+00:00",
                "view:azimuth": 271,
                "pers:pitch": 1.5, "pers:roll": -0.5, "pers:yaw": 0.0,
                "pers:interior_orientation": {
                    "camera_manufacturer": "GoPro", "camera_model": "Max",
                    "focal_length": 3.0, "field_of_view": 360,
                    "sensor_array_dimensions": [5760, 2880]
                },
                "geovisio:rank_in_collection": 7,
                "quality:horizontal_accuracy": 4.0,
                "semantics": [{ "key": "surface", "value": "asphalt" }],
                "exif": { "Exif.Image.Make": "GoPro", "Exif.Photo.ISO": 100 },
                "tiles:tile_matrix_sets": { "geovisio": {} }
            },
            "links": [{ "rel": "self", "href": "https://peer/api/x" }]
        })
    }

    #[test]
    fn reads_a_collection_entry_without_its_links() {
        let entry = json!({
            "type": "Collection", "id": SEQ, "title": "Along the river",
            "updated": "2024-05-02T08:30:00.123456+00:00",
            "providers": [{ "name": "alice", "id": "u-1", "roles": ["producer"] }],
            "links": [{ "rel": "items", "href": "https://peer/api/collections/x/items" }]
        });
        let Ok(ListingEntry::Collection(c)) = listing_entry(entry) else {
            panic!("collection expected");
        };
        assert_eq!(c.id, seq());
        assert_eq!(c.title, "Along the river");
        assert_eq!(c.updated.to_rfc3339(), "2024-05-02T08:30:00.123456+00:00");
        assert_eq!(c.author.name.as_deref(), Some("alice"));
        assert_eq!(c.author.id.as_deref(), Some("u-1"));
        assert!(!c.is_deleted);
        assert!(!c.doc.contains_key("links"));
        assert_eq!(c.doc["title"], "Along the river");
    }

    #[test]
    fn reads_tombstones_with_or_without_other_fields() {
        let gone = |updated| {
            Ok(ListingEntry::Tombstone(RemoteRemoval {
                id: seq(),
                updated,
                origin_updated: None,
            }))
        };
        let bare = json!({ "id": SEQ, "geovisio:status": "deleted" });
        assert_eq!(listing_entry(bare), gone(None));
        let full = json!({ "id": SEQ, "geovisio:status": "deleted", "title": "gone" });
        assert_eq!(listing_entry(full), gone(None));
        let bad = json!({ "id": SEQ, "geovisio:status": "deleted", "updated": "yesterday" });
        assert_eq!(listing_entry(bad), gone(None));
    }

    #[test]
    fn keeps_the_updated_of_tombstones_that_have_one() {
        let entry = json!({
            "id": SEQ, "geovisio:status": "deleted",
            "updated": "2024-05-02T08:30:00.123456789Z",
        });
        let Ok(ListingEntry::Tombstone(removal)) = listing_entry(entry) else {
            panic!("not a tombstone");
        };
        let updated = removal.updated.map(|t| t.to_rfc3339());
        assert_eq!(updated.as_deref(), Some("2024-05-02T08:30:00.123456+00:00"));
        assert_eq!(removal.origin_updated, None);
    }

    #[test]
    fn keeps_the_origin_time_a_relay_gives_with_a_tombstone() {
        let entry = json!({
            "id": SEQ, "geovisio:status": "deleted",
            "updated": "2024-05-03T00:00:00Z",
            "flaneur:origin_updated": "2024-05-02T08:30:00Z",
        });
        let Ok(ListingEntry::Tombstone(removal)) = listing_entry(entry) else {
            panic!("not a tombstone");
        };
        let origin = removal.origin_updated.map(|t| t.to_rfc3339());
        assert_eq!(origin.as_deref(), Some("2024-05-02T08:30:00+00:00"));
        let garbled = json!({
            "id": SEQ, "geovisio:status": "deleted", "flaneur:origin_updated": 12,
        });
        let Ok(ListingEntry::Tombstone(removal)) = listing_entry(garbled) else {
            panic!("not a tombstone");
        };
        assert_eq!(removal.origin_updated, None);
    }

    #[test]
    fn refuses_collection_entries_without_id_or_updated() {
        let err = listing_entry(json!({ "id": SEQ, "title": "t" })).expect_err("refused");
        assert_eq!((err.id.as_str(), err.field), (SEQ, "updated"));
        let err = listing_entry(json!({ "id": SEQ, "updated": "yesterday" })).expect_err("refused");
        assert_eq!(err.field, "updated");
        let err = listing_entry(json!({ "id": "abc", "updated": "2024-01-01T00:00:00Z" }));
        assert_eq!(err.expect_err("refused").field, "id");
        let err = listing_entry(json!(["not", "an", "object"])).expect_err("refused");
        assert_eq!((err.id.as_str(), err.field), ("#1", "entry"));
        let err = listing_entry(json!({ "id": SEQ, "updated": "2024-01-01T00:00:00Z",
                                        "title": 12 }));
        assert_eq!(err.expect_err("refused").field, "title");
    }

    #[test]
    fn reads_a_panorama_item() {
        let item = item(panorama()).expect("valid item");
        assert_eq!(item.id.to_string(), PIC);
        assert_eq!(item.rank, 7);
        assert_eq!(item.captured_at.to_rfc3339(), "2024-05-01T08:00:00+00:00");
        assert_eq!((item.lon, item.lat), (2.35, 48.85));
        assert_eq!(item.heading_deg, Some(271.0));
        assert_eq!(item.projection, Projection::Equirectangular);
        assert_eq!((item.width, item.height), (Some(5760), Some(2880)));
        assert_eq!(item.author.name.as_deref(), Some("alice"));
        let d = &item.details;
        assert_eq!(
            (d.make.as_deref(), d.model.as_deref()),
            (Some("GoPro"), Some("Max"))
        );
        assert_eq!(
            (d.focal_length_mm, d.field_of_view_deg),
            (Some(3.0), Some(360.0))
        );
        assert_eq!(
            (d.pitch_deg, d.roll_deg, d.yaw_deg),
            (Some(1.5), Some(-0.5), Some(0.0))
        );
        assert_eq!(d.gps_accuracy_m, Some(4.0));
        assert_eq!(d.exif["Exif.Photo.ISO"], "100");
        assert!(!item.doc.contains_key("links"));
        assert_eq!(item.doc["properties"]["semantics"][0]["value"], "asphalt");
    }

    #[test]
    fn reads_a_flat_item_and_a_cropped_panorama() {
        let mut flat = panorama();
        let props = &mut flat["properties"];
        props
            .as_object_mut()
            .expect("object")
            .remove("tiles:tile_matrix_sets");
        props["pers:interior_orientation"]["field_of_view"] = json!(96);
        props["pers:interior_orientation"]["sensor_array_dimensions"] = json!([1920, 1080]);
        props
            .as_object_mut()
            .expect("object")
            .remove("geovisio:rank_in_collection");
        let item = item(flat).expect("valid item");
        assert_eq!(item.projection, Projection::Flat);
        assert_eq!(
            (item.width, item.height, item.rank),
            (Some(1920), Some(1080), 3)
        );

        let mut cropped = panorama();
        cropped["properties"]["pers:interior_orientation"]["visible_area"] =
            json!([0, 500, 0, 380]);
        let item = super::tests::item(cropped).expect("valid item");
        assert_eq!((item.width, item.height), (Some(5760), Some(2000)));
        assert_eq!(item.details.crop.map(|c| c.top), Some(500));
    }

    #[test]
    fn refuses_items_with_bad_places_times_or_types() {
        let cases: [(&str, Value, &str); 9] = [
            ("/id", json!("P-1"), "id"),
            (
                "/collection",
                json!("0f9e8d7c-6b5a-4c3d-9e2f-1a0b9c8d7e60"),
                "collection",
            ),
            ("/geometry/coordinates", json!([200.0, 48.0]), "geometry"),
            ("/geometry/coordinates", json!(["2", "48"]), "geometry"),
            ("/geometry/type", json!("LineString"), "geometry"),
            ("/properties/datetime", json!(null), "properties.datetime"),
            ("/properties/view:azimuth", json!("north"), "view:azimuth"),
            ("/properties/pers:pitch", json!(1e300), "pers:pitch"),
            ("/properties/exif", json!([1, 2]), "exif"),
        ];
        for (pointer, value, field) in cases {
            let mut entry = panorama();
            *entry.pointer_mut(pointer).expect("fixture field") = value;
            let err = item(entry).expect_err(pointer);
            assert_eq!(err.field, field, "{pointer}");
        }
    }

    #[test]
    fn refuses_entries_over_the_size_cap() {
        let mut entry = panorama();
        entry["properties"]["exif"]["Exif.Photo.MakerNote"] = json!("x".repeat(70_000));
        let err = item(entry).expect_err("too large");
        assert_eq!(err.field, "entry");
        assert!(err.reason.contains("65536"), "{}", err.reason);
    }

    #[test]
    fn page_lists_must_be_arrays() {
        let url = Url::parse("https://peer/api/collections").expect("test address");
        let page = json!({ "features": { "0": {} } });
        let err = page_entries(&page, "features", &url).expect_err("object");
        assert!(
            err.to_string()
                .contains("invalid features: expected an array, got an object")
        );
        assert!(err.to_string().contains("https://peer/api/collections"));
        let err = page_entries(&json!([]), "collections", &url).expect_err("missing");
        assert!(err.to_string().contains("collections: missing"));
        assert!(page_entries(&json!({ "collections": [] }), "collections", &url).is_ok());
    }

    #[test]
    fn refuses_an_entry_holding_a_nul_character_anywhere() {
        let mut entry = panorama();
        entry["properties"]["exif"] = json!({ "Exif.Image.Make": "Go\u{0}Pro" });
        let err = item(entry).expect_err("NUL refused");
        assert!(err.to_string().contains("NUL"), "{err}");

        let mut entry = panorama();
        entry["properties"]["a\u{0}b"] = json!(1);
        assert!(item(entry).is_err());
    }

    #[test]
    fn keeps_instants_to_the_microsecond() {
        let c = listing_entry(json!({
            "id": SEQ, "type": "Collection", "title": "t",
            "updated": "2024-05-02T08:30:00.123456789Z",
        }))
        .expect("collection");
        let ListingEntry::Collection(c) = c else {
            panic!("not a tombstone");
        };
        assert_eq!(c.updated.to_rfc3339(), "2024-05-02T08:30:00.123456+00:00");
    }

    #[test]
    fn keeps_only_the_license_links_of_a_document() {
        let spdx = "https://spdx.org/licenses/CC-BY-SA-4.0.html";
        let c = listing_entry(json!({
            "id": SEQ, "type": "Collection", "updated": "2024-05-02T08:30:00Z",
            "links": [
                { "rel": "self", "href": "https://peer.test/api/collections/x" },
                { "rel": "license", "href": spdx, "title": "CC-BY-SA-4.0", "extra": 1 },
                { "rel": "license", "href": "javascript:alert(1)" },
                { "rel": "license", "href": 12 },
            ],
        }))
        .expect("collection");
        let ListingEntry::Collection(c) = c else {
            panic!("not a tombstone");
        };
        assert_eq!(
            c.doc.get("links"),
            Some(&json!([{ "rel": "license", "href": spdx, "title": "CC-BY-SA-4.0" }]))
        );
        let none = listing_entry(json!({
            "id": SEQ, "type": "Collection", "updated": "2024-05-02T08:30:00Z",
            "links": [{ "rel": "self", "href": "https://peer.test/api/collections/x" }],
        }))
        .expect("collection");
        let ListingEntry::Collection(none) = none else {
            panic!("not a tombstone");
        };
        assert_eq!(none.doc.get("links"), None);
    }
}
