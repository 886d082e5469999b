//! Writes overrides into the shared real pictures, then checks the result two ways: our reader
//! gives the overridden values back, and exiftool (an independent reader) agrees and reports no
//! error. Everything that was not overridden must come through unchanged.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use chrono::{DateTime, FixedOffset, Utc};
use flaneur_metadata::{HeaderScan, TagOverrides, header_end, read, write_overrides};
use serde_json::{Map, Value};

/// The shared pictures folder; fails with the fix when it is missing.
fn picture(name: &str) -> Vec<u8> {
    let root = match std::env::var_os("FLANEUR_TESTDATA") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let home = std::env::var_os("HOME").expect("HOME or FLANEUR_TESTDATA must be set");
            PathBuf::from(home).join(".cache/flaneur/testdata")
        }
    };
    let path = root.join("pictures").join(name);
    std::fs::read(&path).unwrap_or_else(|err| {
        panic!(
            "cannot read test picture {}: {err}; run scripts/fetch-testdata.sh (or set \
             FLANEUR_TESTDATA to the folder that contains pictures/)",
            path.display()
        )
    })
}

/// What exiftool reads in a file, as `Group1:Tag` → value with `-n` (numbers unformatted).
fn exiftool(bytes: &[u8]) -> Map<String, Value> {
    let mut child = Command::new("exiftool")
        .args(["-j", "-n", "-G1", "-a", "-s", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("exiftool is installed (scripts/install-deps.sh)");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin.write_all(bytes).expect("exiftool reads its input");
    drop(stdin);
    let output = child.wait_with_output().expect("exiftool runs");
    let json: Value = serde_json::from_slice(&output.stdout).expect("exiftool prints json");
    let Some(Value::Object(tags)) = json.get(0).cloned() else {
        panic!("exiftool printed no object: {json}");
    };
    assert!(
        !tags.contains_key("ExifTool:Error"),
        "exiftool error: {:?}",
        tags["ExifTool:Error"]
    );
    tags
}

fn number(tags: &Map<String, Value>, key: &str) -> f64 {
    tags.get(key)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("exiftool gives no number for {key}: {:?}", tags.get(key)))
}

fn text(tags: &Map<String, Value>, key: &str) -> String {
    match tags.get(key) {
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
        None => panic!("exiftool gives no {key}"),
    }
}

/// The bytes from the first scan on: the compressed pixels.
fn scan_data(bytes: &[u8]) -> &[u8] {
    let HeaderScan::Complete(end) = header_end(bytes) else {
        panic!("not a complete jpeg header");
    };
    &bytes[end..]
}

fn at(rfc3339: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(rfc3339).expect("test instants are valid")
}

#[test]
fn gives_a_picture_without_exif_its_position_and_time() {
    let original = picture("e1_without_exif.jpg");
    let captured_at = at("2021-07-29T11:16:54.123+02:00");
    let overrides = TagOverrides {
        position: Some((1.919_185_4, -49.006_889_3)),
        captured_at: Some(captured_at),
        heading_deg: Some(271.25),
        ..TagOverrides::default()
    };
    assert!(
        read(&original).is_err(),
        "the picture should lack position and time"
    );

    let written = write_overrides(&original, &overrides).expect("overrides are written");
    assert!(written.warnings.is_empty(), "{:?}", written.warnings);

    let meta = read(&written.bytes).expect("the result has position and time");
    assert!((meta.lon - 1.919_185_4).abs() < 1e-6, "lon {}", meta.lon);
    assert!((meta.lat + 49.006_889_3).abs() < 1e-6, "lat {}", meta.lat);
    assert_eq!(meta.captured_at, captured_at.with_timezone(&Utc));
    assert_eq!(meta.ts_gps, Some(captured_at.with_timezone(&Utc)));
    assert_eq!(meta.camera_utc_offset_secs, Some(7200));
    assert_eq!(meta.heading_deg, Some(271.25));
    assert_eq!(scan_data(&written.bytes), scan_data(&original));

    // The new segment is the only change: it sits after JFIF's APP0, as JFIF asks.
    let app0_end = 4 + usize::from(u16::from_be_bytes([original[4], original[5]]));
    let segment_len = 2 + usize::from(u16::from_be_bytes([
        written.bytes[app0_end + 2],
        written.bytes[app0_end + 3],
    ]));
    assert_eq!(&written.bytes[app0_end..app0_end + 4][..2], [0xFF, 0xE1]);
    let mut without_exif = written.bytes[..app0_end].to_vec();
    without_exif.extend_from_slice(&written.bytes[app0_end + segment_len..]);
    assert_eq!(without_exif, original);

    let tags = exiftool(&written.bytes);
    assert!((number(&tags, "Composite:GPSLatitude") + 49.006_889_3).abs() < 1e-6);
    assert!((number(&tags, "Composite:GPSLongitude") - 1.919_185_4).abs() < 1e-6);
    assert_eq!(
        text(&tags, "ExifIFD:DateTimeOriginal"),
        "2021:07:29 11:16:54"
    );
    assert_eq!(text(&tags, "ExifIFD:SubSecTimeOriginal"), "123");
    assert_eq!(text(&tags, "ExifIFD:OffsetTimeOriginal"), "+02:00");
    assert_eq!(text(&tags, "GPS:GPSDateStamp"), "2021:07:29");
    assert_eq!(text(&tags, "GPS:GPSTimeStamp"), "09:16:54.123");
    assert_eq!(number(&tags, "GPS:GPSImgDirection"), 271.25);
    assert_eq!(text(&tags, "GPS:GPSImgDirectionRef"), "T");
}

#[test]
fn moves_a_gopro_sphere_and_keeps_its_xmp_and_pixels() {
    // GoPro puts XMP before EXIF, and its EXIF has a maker note and a thumbnail.
    let original = picture("1.jpg");
    let before = read(&original).expect("1.jpg is readable");
    let overrides = TagOverrides {
        position: Some((2.35, 48.85)),
        ..TagOverrides::default()
    };

    let written = write_overrides(&original, &overrides).expect("overrides are written");

    let after = read(&written.bytes).expect("the result is readable");
    assert!((after.lon - 2.35).abs() < 1e-6 && (after.lat - 48.85).abs() < 1e-6);
    assert_eq!(after.projection, before.projection);
    assert_eq!(after.crop, before.crop);
    assert_eq!(after.captured_at, before.captured_at);
    let xmp = |tags: &BTreeMap<String, String>| {
        tags.iter()
            .filter(|(key, _)| key.starts_with("Xmp."))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<Vec<_>>()
    };
    assert!(
        xmp(&after.tags)
            .iter()
            .any(|(key, _)| key == "Xmp.GPano.ProjectionType")
    );
    assert_eq!(xmp(&after.tags), xmp(&before.tags));
    assert_eq!(scan_data(&written.bytes), scan_data(&original));

    let tags = exiftool(&written.bytes);
    assert!((number(&tags, "Composite:GPSLatitude") - 48.85).abs() < 1e-6);
    assert!((number(&tags, "Composite:GPSLongitude") - 2.35).abs() < 1e-6);
    assert_eq!(
        number(&tags, "IFD1:ThumbnailLength"),
        number(&exiftool(&original), "IFD1:ThumbnailLength")
    );
}

#[test]
fn keeps_every_other_tag_when_adding_a_position() {
    let original = picture("cli-fixtures/e2_without_coord.jpg");
    let before = read(&original).expect_err("the picture should lack a position");
    assert_eq!(before.kind(), "missing_fields");
    let overrides = TagOverrides {
        position: Some((-4.5, 47.25)),
        ..TagOverrides::default()
    };

    let written = write_overrides(&original, &overrides).expect("overrides are written");

    let after = read(&written.bytes).expect("the result has a position");
    assert!((after.lon + 4.5).abs() < 1e-6 && (after.lat - 47.25).abs() < 1e-6);
    assert_eq!(scan_data(&written.bytes), scan_data(&original));

    // Ours and exiftool's view of every tag, minus the overridden ones and those exiftool
    // derives from the file layout.
    let overridden = [
        "GPSLatitude",
        "GPSLongitude",
        "GPSLatitudeRef",
        "GPSLongitudeRef",
    ];
    let is_layout = |key: &str| {
        // The maker note (group Sony here) is dropped on purpose; see the test below.
        ["System:", "File:", "Composite:", "ExifTool:", "Sony:"]
            .iter()
            .any(|g| key.starts_with(g))
            || key.ends_with(":ThumbnailOffset")
            || key.ends_with(":GPSVersionID")
    };
    let kept = |tags: Map<String, Value>| {
        tags.into_iter()
            .filter(|(key, _)| !is_layout(key) && !overridden.iter().any(|o| key.ends_with(o)))
            .collect::<BTreeMap<_, _>>()
    };
    let old_tags = kept(exiftool(&original));
    assert!(old_tags.contains_key("IFD0:Make"), "{old_tags:?}");
    assert_eq!(kept(exiftool(&written.bytes)), old_tags);
}

#[test]
fn keeps_every_tag_our_reader_sees_except_the_overridden_ones() {
    // e2_without_coord.jpg cannot be read before it has a position; e1.jpg, from the same
    // camera, can be read before and after.
    let original = picture("e1.jpg");
    let before = read(&original).expect("e1.jpg is readable");
    let overrides = TagOverrides {
        position: Some((-4.5, 47.25)),
        ..TagOverrides::default()
    };

    let written = write_overrides(&original, &overrides).expect("overrides are written");

    let after = read(&written.bytes).expect("the result is readable");
    let overridden = [
        "GPSLatitude",
        "GPSLongitude",
        "GPSLatitudeRef",
        "GPSLongitudeRef",
    ];
    let kept = |tags: &BTreeMap<String, String>| {
        let mut tags = tags.clone();
        tags.retain(|key, _| {
            !overridden
                .iter()
                .any(|o| key == &format!("Exif.GPSInfo.{o}"))
        });
        // Where the thumbnail lies changes with the layout; the thumbnail itself must not.
        tags.remove("Exif.Thumbnail.JPEGInterchangeFormat");
        tags
    };
    assert!(before.tags.len() > 40, "{:?}", before.tags);
    assert_eq!(kept(&after.tags), kept(&before.tags));
    assert_ne!(after.tags, before.tags);
}

#[test]
fn writes_raw_text_keys_that_read_back() {
    let original = picture("e1.jpg");
    let overrides = TagOverrides {
        raw: vec![
            ("Exif.Image.Artist".into(), "Ada Lovelace".into()),
            ("Exif.Photo.LensModel".into(), "Flâneur 1.0".into()),
        ],
        ..TagOverrides::default()
    };

    let written = write_overrides(&original, &overrides).expect("overrides are written");

    let meta = read(&written.bytes).expect("the result is readable");
    assert_eq!(meta.artist.as_deref(), Some("Ada Lovelace"));
    assert_eq!(meta.tags["Exif.Image.Artist"], "Ada Lovelace");
    let tags = exiftool(&written.bytes);
    assert_eq!(text(&tags, "IFD0:Artist"), "Ada Lovelace");
    assert_eq!(text(&tags, "ExifIFD:LensModel"), "Flâneur 1.0");
    assert_eq!(
        text(&tags, "IFD0:Model"),
        text(&exiftool(&original), "IFD0:Model")
    );
    assert_eq!(scan_data(&written.bytes), scan_data(&original));
}

#[test]
fn refuses_keys_it_cannot_write_and_names_them() {
    let original = picture("e1.jpg");
    for key in [
        "Xmp.GPano.ProjectionType",
        "Exif.Photo.FNumber",
        "Exif.Image.Artiste",
    ] {
        let overrides = TagOverrides {
            raw: vec![(key.into(), "1".into())],
            ..TagOverrides::default()
        };
        let err = write_overrides(&original, &overrides).expect_err(key);
        assert!(err.to_string().contains(key), "{err}");
    }
}

#[test]
fn drops_the_maker_note_with_a_warning_rather_than_leave_it_misread() {
    // Sony's maker note (e1.jpg) points into the TIFF structure from inside; moved, exiftool
    // reads wrong values from it without a warning, so the writer drops it.
    let original = picture("e1.jpg");
    assert!(
        exiftool(&original)
            .keys()
            .any(|key| key.starts_with("Sony:"))
    );
    let overrides = TagOverrides {
        heading_deg: Some(90.0),
        ..TagOverrides::default()
    };

    let written = write_overrides(&original, &overrides).expect("overrides are written");

    assert!(
        written.warnings.iter().any(|w| w.contains("maker note")),
        "{:?}",
        written.warnings
    );
    let tags = exiftool(&written.bytes);
    assert!(!tags.keys().any(|key| key.starts_with("Sony:")), "{tags:?}");
    assert!(!tags.contains_key("ExifIFD:MakerNoteSony"));
}
