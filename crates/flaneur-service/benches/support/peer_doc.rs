//! The JSON documents of the synthetic peer (see `peer.rs`): its collections and their items,
//! each made from the collection's number and the item's rank, shaped as Panoramax writes
//! them (assets, links, camera, orientation, about sixty EXIF tags) so that what is read and
//! stored per item weighs what it does with a real peer, about 4.5 KB.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value, json};

use crate::peer::{Collection, epoch, heading, instant, item_id};

/// Cities the collections start around: `(lon, lat)`.
const CITIES: [(f64, f64); 8] = [
    (2.35, 48.86),
    (4.84, 45.76),
    (-1.55, 47.22),
    (7.75, 48.58),
    (5.37, 43.30),
    (-0.58, 44.84),
    (3.06, 50.63),
    (1.44, 43.60),
];

/// Cameras: make, model, horizontal field of view, pixel size.
const CAMERAS: [(&str, &str, u32, [u32; 2]); 3] = [
    ("GoPro", "Max", 360, [5760, 2880]),
    ("SONY", "FDR-X3000", 94, [3840, 2160]),
    ("Xiaomi", "Redmi Note 8", 67, [4000, 3000]),
];

/// Where collection `number` starts and in which direction it goes, in degrees per picture.
fn walk(number: u32) -> ((f64, f64), (f64, f64)) {
    let (lon, lat) = CITIES[number as usize % CITIES.len()];
    let spread = f64::from(number % 97) / 97.0 - 0.5;
    let angle = f64::from(number * 53 % 360).to_radians();
    let step = 0.000_045;
    (
        (lon + spread * 0.1, lat - spread * 0.07),
        (step * angle.sin(), step * angle.cos()),
    )
}

fn camera(number: u32) -> (&'static str, &'static str, u32, [u32; 2]) {
    CAMERAS[number as usize % CAMERAS.len()]
}

fn captured(number: u32, rank: u32) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2024-06-01T07:30:00Z")
        .expect("a valid instant")
        .with_timezone(&Utc)
        + TimeDelta::hours(i64::from(number) * 5)
        + TimeDelta::seconds(i64::from(rank) * 2)
}

fn provider(number: u32) -> Value {
    let author = number % 23;
    json!([{
        "id": format!("0a0a0000-0000-4000-8000-{author:012x}"),
        "name": format!("contributor {author}"),
        "roles": ["producer"],
    }])
}

/// A listing entry: a tombstone when deleted, the collection's summary otherwise.
pub fn collection_json(api: &str, c: &Collection) -> Value {
    let id = c.id();
    if c.is_deleted {
        return json!({ "id": id, "geovisio:status": "deleted" });
    }
    let ((lon, lat), (dlon, dlat)) = walk(c.number);
    let end = (
        lon + dlon * f64::from(c.items),
        lat + dlat * f64::from(c.items),
    );
    let (make, model, _, _) = camera(c.number);
    json!({
        "type": "Collection",
        "stac_version": "1.0.0",
        "id": id,
        "title": format!("{make} {model} walk {}", c.number),
        "description": "A sequence of geolocated pictures",
        "keywords": ["pictures", format!("walk {}", c.number)],
        "license": "CC-BY-SA-4.0",
        "created": instant(epoch() + TimeDelta::minutes(i64::from(c.number))),
        "updated": instant(c.updated),
        "providers": provider(c.number),
        "extent": {
            "spatial": { "bbox": [[
                lon.min(end.0), lat.min(end.1), lon.max(end.0), lat.max(end.1),
            ]] },
            "temporal": { "interval": [[
                instant(captured(c.number, 1)),
                instant(captured(c.number, c.items)),
            ]] },
        },
        "geovisio:length_km": f64::from(c.items) * 0.005,
        "geovisio:upload-software": "cli",
        "quality:horizontal_accuracy": 4.0,
        "semantics": [],
        "stats:items": { "count": c.items },
        "links": [
            { "rel": "items", "href": format!("{api}/collections/{id}/items"),
              "type": "application/geo+json" },
            { "rel": "self", "href": format!("{api}/collections/{id}"),
              "type": "application/json" },
        ],
    })
}

/// The picture of `rank` in collection `c`, with the properties a Panoramax item carries.
pub fn item_json(api: &str, c: &Collection, rank: u32) -> Value {
    let id = item_id(c.number, rank);
    let seq = c.id();
    let ((lon, lat), (dlon, dlat)) = walk(c.number);
    let (lon, lat) = (lon + dlon * f64::from(rank), lat + dlat * f64::from(rank));
    let (make, model, fov, [width, height]) = camera(c.number);
    let is_360 = fov == 360;
    let at = captured(c.number, rank);
    let edited = rank <= c.edited;
    let updated = if edited {
        c.updated
    } else {
        epoch() + TimeDelta::minutes(i64::from(c.number))
    };
    let picture = |size: &str| format!("{api}/pictures/{id}/{size}.jpg");

    let mut properties = Map::new();
    for (k, v) in [
        ("datetime", json!(instant(at))),
        (
            "datetimetz",
            json!(
                at.with_timezone(&chrono::FixedOffset::east_opt(7200).expect("offset"))
                    .to_rfc3339()
            ),
        ),
        (
            "created",
            json!(instant(epoch() + TimeDelta::minutes(i64::from(c.number)))),
        ),
        ("updated", json!(instant(updated))),
        ("license", json!("CC-BY-SA-4.0")),
        ("geovisio:status", json!("ready")),
        ("geovisio:visibility", json!("anyone")),
        ("geovisio:producer", provider(c.number)[0]["name"].clone()),
        ("geovisio:rank_in_collection", json!(rank)),
        ("geovisio:image", json!(picture("hd"))),
        ("geovisio:thumbnail", json!(picture("thumb"))),
        ("original_file:name", json!(format!("IMG_{rank:05}.JPG"))),
        (
            "original_file:size",
            json!(2_500_000 + (rank * 7919) % 1_000_000),
        ),
        ("panoramax:horizontal_pixel_density", json!(width / fov)),
        ("view:azimuth", json!(heading(c, rank))),
        ("pers:pitch", json!(0.0)),
        ("pers:roll", json!(0.0)),
        ("pers:yaw", json!(0.0)),
        (
            "pers:interior_orientation",
            json!({
                "camera_manufacturer": make, "camera_model": model, "field_of_view": fov,
                "focal_length": if is_360 { 3.0 } else { 4.2 },
                "sensor_array_dimensions": [width, height],
            }),
        ),
        (
            "quality:horizontal_accuracy",
            json!(if is_360 { 4.0 } else { 5.0 }),
        ),
        (
            "semantics",
            if edited {
                json!([{ "key": "surface", "value": format!("edit {}", c.edits) }])
            } else {
                json!([])
            },
        ),
        ("annotations", json!([])),
        ("collection", json!({ "semantics": [] })),
        (
            "exif",
            exif(make, model, at, lon, lat, heading(c, rank), [width, height]),
        ),
    ] {
        properties.insert(k.to_owned(), v);
    }
    let mut assets = json!({
        "hd": { "href": picture("hd"), "roles": ["data"], "type": "image/jpeg",
                "title": "HD picture" },
        "sd": { "href": picture("sd"), "roles": ["visual"], "type": "image/jpeg",
                "title": "SD picture" },
        "thumb": { "href": picture("thumb"), "roles": ["thumbnail"], "type": "image/jpeg",
                   "title": "Thumbnail" },
    });
    let mut item = json!({
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": id,
        "collection": seq,
        "bbox": [lon, lat, lon, lat],
        "geometry": { "type": "Point", "coordinates": [lon, lat] },
        "providers": provider(c.number),
        "links": [
            { "rel": "root", "href": format!("{api}/"), "type": "application/json" },
            { "rel": "parent", "href": format!("{api}/collections/{seq}"),
              "type": "application/json" },
            { "rel": "self", "href": format!("{api}/collections/{seq}/items/{id}"),
              "type": "application/geo+json" },
            { "rel": "license", "href": "https://spdx.org/licenses/CC-BY-SA-4.0.html" },
        ],
    });
    if is_360 {
        let tiles = format!("{api}/pictures/{id}/tiled/{{TileCol}}_{{TileRow}}.jpg");
        item["asset_templates"] =
            json!({ "tiles": { "href": tiles, "roles": ["data"], "type": "image/jpeg" } });
        properties.insert(
            "tiles:tile_matrix_sets".into(),
            json!({ "geovisio": {
                "identifier": format!("geovisio-{id}"),
                "tileMatrix": [{ "identifier": "0", "matrixHeight": 4, "matrixWidth": 8,
                                 "tileHeight": 720.0, "tileWidth": 720.0, "scaleDenominator": 1,
                                 "topLeftCorner": [0, 0], "type": "TileMatrixType" }],
            }}),
        );
        assets["hd"]["title"] = json!("HD picture (360°)");
    }
    item["assets"] = assets;
    item["properties"] = Value::Object(properties);
    item
}

/// About sixty tags, as a camera writes them and Panoramax passes them on.
fn exif(
    make: &str,
    model: &str,
    at: DateTime<Utc>,
    lon: f64,
    lat: f64,
    heading: u32,
    [width, height]: [u32; 2],
) -> Value {
    let stamp = at.format("%Y:%m:%d %H:%M:%S").to_string();
    let dms = |v: f64| {
        let v = v.abs();
        let (d, m) = (v.trunc(), (v.fract() * 60.0).trunc());
        let s = ((v * 3600.0) % 60.0 * 1000.0).round();
        format!("{d}/1 {m}/1 {s}/1000")
    };
    let mut tags = BTreeMap::new();
    for (k, v) in [
        ("Exif.Image.Make", make.to_owned()),
        ("Exif.Image.Model", model.to_owned()),
        ("Exif.Image.DateTime", stamp.clone()),
        ("Exif.Photo.DateTimeOriginal", stamp.clone()),
        ("Exif.Photo.DateTimeDigitized", stamp.clone()),
        ("Exif.Photo.PixelXDimension", width.to_string()),
        ("Exif.Photo.PixelYDimension", height.to_string()),
        ("Exif.GPSInfo.GPSLatitude", dms(lat)),
        (
            "Exif.GPSInfo.GPSLatitudeRef",
            if lat < 0.0 { "S" } else { "N" }.into(),
        ),
        ("Exif.GPSInfo.GPSLongitude", dms(lon)),
        (
            "Exif.GPSInfo.GPSLongitudeRef",
            if lon < 0.0 { "W" } else { "E" }.into(),
        ),
        (
            "Exif.GPSInfo.GPSImgDirection",
            format!("{}/100", heading * 100),
        ),
        ("Exif.GPSInfo.GPSImgDirectionRef", "T".into()),
        (
            "Exif.GPSInfo.GPSDateStamp",
            at.format("%Y:%m:%d").to_string(),
        ),
        (
            "Exif.GPSInfo.GPSTimeStamp",
            at.format("%-H/1 %-M/1 %-S/1").to_string(),
        ),
    ] {
        tags.insert(k.to_owned(), Value::String(v));
    }
    // Tags that vary little from picture to picture, as most of a camera's do.
    let constant = [
        "GPSInfo.GPSAltitudeRef",
        "GPSInfo.GPSVersionID",
        "Image.Orientation",
        "Image.ResolutionUnit",
        "Image.XResolution",
        "Image.YResolution",
        "Image.Software",
        "Image.YCbCrPositioning",
        "Image.ExifTag",
        "Image.GPSTag",
        "Photo.ApertureValue",
        "Photo.ColorSpace",
        "Photo.ComponentsConfiguration",
        "Photo.Contrast",
        "Photo.CustomRendered",
        "Photo.DigitalZoomRatio",
        "Photo.ExifVersion",
        "Photo.ExposureBiasValue",
        "Photo.ExposureMode",
        "Photo.ExposureProgram",
        "Photo.ExposureTime",
        "Photo.FNumber",
        "Photo.FileSource",
        "Photo.Flash",
        "Photo.FlashpixVersion",
        "Photo.FocalLength",
        "Photo.FocalLengthIn35mmFilm",
        "Photo.GainControl",
        "Photo.ISOSpeedRatings",
        "Photo.LightSource",
        "Photo.MaxApertureValue",
        "Photo.MeteringMode",
        "Photo.Saturation",
        "Photo.SceneCaptureType",
        "Photo.SceneType",
        "Photo.SensingMethod",
        "Photo.Sharpness",
        "Photo.ShutterSpeedValue",
        "Photo.SubjectDistanceRange",
        "Photo.WhiteBalance",
        "Thumbnail.Compression",
        "Thumbnail.JPEGInterchangeFormat",
        "Thumbnail.JPEGInterchangeFormatLength",
        "Thumbnail.ResolutionUnit",
    ];
    for (i, name) in constant.iter().enumerate() {
        tags.insert(
            format!("Exif.{name}"),
            Value::String(format!("{}/{}", i * 7 + 1, 100)),
        );
    }
    Value::Object(tags.into_iter().collect())
}
