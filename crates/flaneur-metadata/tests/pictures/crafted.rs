//! Small JPEGs built here, with just the tags a rule needs: references, 0/0 rationals, clock
//! choices and time zones, XMP placement, orientation, camera-table defaults.

use exif::experimental::Writer;
use exif::{Field, In, Rational, Tag, Value};
use flaneur_metadata::{HeadingSource, MissingField, PictureMetadata, ReadError};
use flaneur_model::Projection;

/// A JPEG with the given EXIF fields (no EXIF segment when there are none), optional XMP
/// placed before the EXIF (as GoPro does), a 64×48 frame header and a scan header, without
/// pixel data.
fn jpeg(fields: &[Field], xmp: Option<&str>) -> Vec<u8> {
    jpeg_sized(fields, xmp, (64, 48))
}

/// [`jpeg`] with another frame size (width, height).
fn jpeg_sized(fields: &[Field], xmp: Option<&str>, (width, height): (u8, u8)) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    if let Some(xmp) = xmp {
        let payload = [b"http://ns.adobe.com/xap/1.0/\0", xmp.as_bytes()].concat();
        push_segment(&mut out, 0xE1, &payload);
    }
    if !fields.is_empty() {
        let mut writer = Writer::new();
        for field in fields {
            writer.push_field(field);
        }
        let mut tiff = std::io::Cursor::new(Vec::new());
        let written = writer.write(&mut tiff, false);
        written.expect("test exif is writable");
        push_segment(
            &mut out,
            0xE1,
            &[b"Exif\0\0", tiff.get_ref().as_slice()].concat(),
        );
    }
    let frame = [
        8, 0, height, 0, width, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1,
    ];
    push_segment(&mut out, 0xC0, &frame);
    push_segment(&mut out, 0xDA, &[3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0]);
    out
}

fn push_segment(out: &mut Vec<u8>, code: u8, payload: &[u8]) {
    let len = u16::try_from(payload.len() + 2).expect("test segments are small");
    out.extend_from_slice(&[0xFF, code]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
}

fn field(tag: Tag, value: Value) -> Field {
    Field {
        tag,
        ifd_num: In::PRIMARY,
        value,
    }
}

fn ascii(tag: Tag, text: &str) -> Field {
    field(tag, Value::Ascii(vec![text.as_bytes().to_vec()]))
}

fn rationals(tag: Tag, parts: &[(u32, u32)]) -> Field {
    field(
        tag,
        Value::Rational(parts.iter().map(|&p| Rational::from(p)).collect()),
    )
}

/// Position 48°30'N 1°15'W and a GPS clock at 2022-10-19 07:56:34 UTC.
fn gps_fields() -> Vec<Field> {
    vec![
        rationals(Tag::GPSLatitude, &[(48, 1), (30, 1), (0, 1)]),
        ascii(Tag::GPSLatitudeRef, "N"),
        rationals(Tag::GPSLongitude, &[(1, 1), (15, 1), (0, 1)]),
        ascii(Tag::GPSLongitudeRef, "W"),
        ascii(Tag::GPSDateStamp, "2022:10:19"),
        rationals(Tag::GPSTimeStamp, &[(7, 1), (56, 1), (34_000, 1000)]),
    ]
}

fn read(fields: &[Field], xmp: Option<&str>) -> Result<PictureMetadata, ReadError> {
    flaneur_metadata::read(&jpeg(fields, xmp))
}

fn with(mut fields: Vec<Field>, extra: Vec<Field>) -> Vec<Field> {
    let replaced: Vec<Tag> = extra.iter().map(|f| f.tag).collect();
    fields.retain(|f| !replaced.contains(&f.tag));
    fields.extend(extra);
    fields
}

fn without(mut fields: Vec<Field>, tags: &[Tag]) -> Vec<Field> {
    fields.retain(|f| !tags.contains(&f.tag));
    fields
}

fn utc(text: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(text)
        .expect("valid test instant")
        .to_utc()
}

#[test]
fn reads_a_minimal_picture() {
    let picture = read(&gps_fields(), None).expect("minimal picture reads");
    assert_eq!((picture.lat, picture.lon), (48.5, -1.25));
    assert_eq!(picture.captured_at, utc("2022-10-19T07:56:34Z"));
    assert_eq!((picture.width, picture.height), (64, 48));
    assert_eq!(picture.orientation, 1);
    assert!(picture.warnings.is_empty(), "{:?}", picture.warnings);
}

#[test]
fn assumes_north_and_east_when_references_are_missing() {
    let fields = without(gps_fields(), &[Tag::GPSLatitudeRef, Tag::GPSLongitudeRef]);
    let picture = read(&fields, None).expect("reads without refs");
    assert_eq!((picture.lat, picture.lon), (48.5, 1.25));
    assert_eq!(picture.warnings.len(), 2, "{:?}", picture.warnings);
}

#[test]
fn takes_zero_denominators_as_missing() {
    let fields = with(
        gps_fields(),
        vec![rationals(Tag::GPSLatitude, &[(0, 0), (0, 0), (0, 0)])],
    );
    let err = read(&fields, None).expect_err("0/0 latitude");
    assert_eq!(
        err,
        ReadError::MissingFields {
            fields: vec![MissingField::Location]
        }
    );

    let fields = with(
        gps_fields(),
        vec![rationals(Tag::GPSTimeStamp, &[(0, 0), (0, 0), (0, 0)])],
    );
    let err = read(&fields, None).expect_err("0/0 time and no camera time");
    assert_eq!(err.missing_fields(), [MissingField::Datetime]);
}

#[test]
fn takes_null_island_as_missing_and_refuses_out_of_range() {
    let zero = [(0, 1), (0, 1), (0, 1)];
    let fields = with(
        gps_fields(),
        vec![
            rationals(Tag::GPSLatitude, &zero),
            rationals(Tag::GPSLongitude, &zero),
        ],
    );
    assert_eq!(
        read(&fields, None).expect_err("(0, 0)").missing_fields(),
        [MissingField::Location]
    );

    let fields = with(
        gps_fields(),
        vec![rationals(Tag::GPSLongitude, &[(181, 1)])],
    );
    let err = read(&fields, None).expect_err("longitude 181");
    assert!(
        matches!(
            err,
            ReadError::InvalidValue {
                field: "longitude",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.kind(), "invalid_value");
}

#[test]
fn keeps_gps_sub_seconds() {
    let fields = with(
        gps_fields(),
        vec![rationals(
            Tag::GPSTimeStamp,
            &[(7, 1), (56, 1), (3425, 100)],
        )],
    );
    let picture = read(&fields, None).expect("reads");
    assert_eq!(picture.captured_at, utc("2022-10-19T07:56:34.25Z"));
}

#[test]
fn prefers_a_finer_camera_clock_with_its_own_offset() {
    let camera = vec![
        ascii(Tag::DateTimeOriginal, "2022:10:19 09:56:35"),
        ascii(Tag::SubSecTimeOriginal, "125"),
    ];
    let offset = vec![ascii(Tag::OffsetTimeOriginal, "+03:00")];
    let fields = with(gps_fields(), [camera, offset].concat());
    let picture = read(&fields, None).expect("reads");
    assert_eq!(picture.captured_at, utc("2022-10-19T06:56:35.125Z"));
    assert_eq!(picture.utc_offset_secs, Some(10_800));
    assert_eq!(picture.camera_utc_offset_secs, Some(10_800));
    assert_eq!(picture.ts_gps, Some(utc("2022-10-19T07:56:34Z")));
}

#[test]
fn reads_an_offsetless_camera_clock_in_the_zone_of_the_position() {
    let camera = vec![
        ascii(Tag::DateTimeOriginal, "2022:10:19 09:56:35"),
        ascii(Tag::SubSecTimeOriginal, "125"),
    ];
    // OffsetTime belongs to DateTime, not to DateTimeOriginal: the zone (Paris, summer
    // time) places the finer camera clock, which then wins over the GPS.
    let fields = with(
        gps_fields(),
        [camera, vec![ascii(Tag::OffsetTime, "+05:00")]].concat(),
    );
    let picture = read(&fields, None).expect("reads");
    assert_eq!(picture.time_zone.as_deref(), Some("Europe/Paris"));
    assert_eq!(picture.captured_at, utc("2022-10-19T07:56:35.125Z"));
    assert_eq!(picture.utc_offset_secs, Some(7200));
    assert_eq!(picture.camera_utc_offset_secs, Some(7200));

    // Without camera clock, the GPS instant still gets the local offset.
    let picture = read(&gps_fields(), None).expect("reads");
    assert_eq!(picture.captured_at, utc("2022-10-19T07:56:34Z"));
    assert_eq!(picture.utc_offset_secs, Some(7200));
    assert_eq!(picture.camera_utc_offset_secs, None);
}

#[test]
fn reads_a_camera_clock_at_sea_in_the_nautical_zone_with_a_warning() {
    // 40°N 30°W, mid-Atlantic: nautical zone Etc/GMT+2, two hours behind UTC.
    let fields = vec![
        rationals(Tag::GPSLatitude, &[(40, 1), (0, 1), (0, 1)]),
        ascii(Tag::GPSLatitudeRef, "N"),
        rationals(Tag::GPSLongitude, &[(30, 1), (0, 1), (0, 1)]),
        ascii(Tag::GPSLongitudeRef, "W"),
        ascii(Tag::DateTimeOriginal, "2022:10:19 05:56:35"),
    ];
    let picture = read(&fields, None).expect("reads");
    assert_eq!(picture.time_zone.as_deref(), Some("Etc/GMT+2"));
    assert_eq!(picture.captured_at, utc("2022-10-19T07:56:35Z"));
    assert_eq!(picture.utc_offset_secs, Some(-7200));
    assert!(
        picture.warnings.iter().any(|w| w.contains("at sea")),
        "{:?}",
        picture.warnings
    );
}

#[test]
fn falls_back_to_the_camera_clock_without_gps_time() {
    let fields = [
        without(gps_fields(), &[Tag::GPSDateStamp, Tag::GPSTimeStamp]),
        vec![
            ascii(Tag::DateTimeOriginal, "2022:10:19 09:56:35"),
            ascii(Tag::OffsetTimeOriginal, "+02:00"),
        ],
    ]
    .concat();
    let picture = read(&fields, None).expect("reads");
    assert_eq!(picture.captured_at, utc("2022-10-19T07:56:35Z"));
    assert!(picture.warnings.is_empty(), "{:?}", picture.warnings);
}

#[test]
fn picks_headings_in_order_and_wraps_a_full_turn() {
    let fields = with(
        gps_fields(),
        vec![
            rationals(Tag::GPSImgDirection, &[(360, 1)]),
            rationals(Tag::GPSTrack, &[(90, 1)]),
        ],
    );
    let picture = read(&fields, None).expect("reads");
    assert_eq!(picture.heading_deg, Some(0.0));
    assert_eq!(picture.heading_source, Some(HeadingSource::GpsImgDirection));

    let fields = with(
        gps_fields(),
        vec![rationals(Tag::GPSImgDirection, &[(1, 0)])],
    );
    let fields = with(fields, vec![rationals(Tag::GPSTrack, &[(90, 1)])]);
    let picture = read(&fields, None).expect("reads");
    assert_eq!(picture.heading_deg, Some(90.0));
    assert_eq!(picture.heading_source, Some(HeadingSource::GpsTrack));
}

#[test]
fn swaps_display_size_for_quarter_turns() {
    let fields = with(
        gps_fields(),
        vec![field(Tag::Orientation, Value::Short(vec![6]))],
    );
    let picture = read(&fields, None).expect("reads");
    assert_eq!(picture.orientation, 6);
    assert_eq!(picture.display_size(), (48, 64));
}

#[test]
fn keeps_the_first_string_of_the_model_and_drops_the_make() {
    let fields = with(
        gps_fields(),
        vec![
            ascii(Tag::Make, "GoPro"),
            field(
                Tag::Model,
                Value::Ascii(vec![b"GoPro Max".to_vec(), b"junk".to_vec()]),
            ),
        ],
    );
    let picture = read(&fields, None).expect("reads");
    assert_eq!(picture.make.as_deref(), Some("GoPro"));
    assert_eq!(picture.model.as_deref(), Some("Max"));
    assert_eq!(
        picture.tags.get("Exif.Image.Model").map(String::as_str),
        Some("GoPro Max")
    );
}

const PANO_XMP: &str = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:GPano="http://ns.google.com/photos/1.0/panorama/"
  xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="45,30.0N"
  exif:GPSLongitude="5,15.0E" exif:DateTimeOriginal="2024-05-01T10:00:00.5+02:00">
<GPano:ProjectionType>equirectangular</GPano:ProjectionType>
<GPano:PoseHeadingDegrees>45.5</GPano:PoseHeadingDegrees>
<GPano:CroppedAreaImageWidthPixels>64</GPano:CroppedAreaImageWidthPixels>
<GPano:CroppedAreaImageHeightPixels>32</GPano:CroppedAreaImageHeightPixels>
</rdf:Description></rdf:RDF></x:xmpmeta>"#;

#[test]
fn reads_xmp_before_exif_with_position_time_and_pano() {
    let picture = read(&[ascii(Tag::Make, "Ricoh")], Some(PANO_XMP)).expect("xmp only reads");
    assert_eq!((picture.lat, picture.lon), (45.5, 5.25));
    assert_eq!(picture.captured_at, utc("2024-05-01T08:00:00.5Z"));
    assert_eq!(picture.utc_offset_secs, Some(7200));
    assert_eq!(picture.projection, Projection::Equirectangular);
    assert_eq!(picture.heading_deg, Some(45.5));
    assert_eq!(
        picture.heading_source,
        Some(HeadingSource::GPanoPoseHeading)
    );
    let crop = picture.crop.expect("crop inferred from the cropped size");
    assert_eq!(
        (crop.full_width, crop.full_height, crop.left, crop.top),
        (64, 32, 0, 0)
    );
    assert_eq!(picture.field_of_view_deg, Some(360.0));
    assert_eq!(
        picture
            .tags
            .get("Xmp.GPano.PoseHeadingDegrees")
            .map(String::as_str),
        Some("45.5")
    );
}

#[test]
fn refuses_partial_gpano_crops() {
    let xmp = PANO_XMP
        .replace("<GPano:CroppedAreaImageHeightPixels>32", "<GPano:Other>32")
        .replace("</GPano:CroppedAreaImageHeightPixels>", "</GPano:Other>");
    let err = read(&gps_fields(), Some(&xmp)).expect_err("crop without height");
    assert!(
        matches!(err, ReadError::InvalidValue { field: "crop", .. }),
        "{err:?}"
    );
}

#[test]
fn fills_in_focal_field_of_view_and_accuracy_from_the_camera_table() {
    // Google Pixel 8: the table gives a focal length and a field of view; phones get 5 m.
    let pixel = vec![ascii(Tag::Make, "Google"), ascii(Tag::Model, "Pixel 8")];
    let picture = read(&with(gps_fields(), pixel), None).expect("reads");
    assert_eq!(picture.focal_length_mm, Some(6.9));
    assert_eq!(picture.field_of_view_deg, Some(70.7));
    assert_eq!(picture.gps_accuracy_m, Some(5.0));

    // Olympus SP-720UZ: sensor width from the table, focal length from the tags.
    let olympus = vec![
        ascii(Tag::Make, "OLYMPUS IMAGING CORP."),
        ascii(Tag::Model, "SP-720UZ"),
        rationals(Tag::FocalLength, &[(466, 100)]),
    ];
    let picture = read(&with(gps_fields(), olympus), None).expect("reads");
    assert_eq!(picture.sensor_width_mm, Some(6.16));
    let fov = picture
        .field_of_view_deg
        .expect("fov from sensor and focal");
    assert!((fov - 66.92).abs() < 0.01, "{fov}");
    assert_eq!(
        picture.gps_accuracy_m, None,
        "olympus is no known kind of device"
    );
}

#[test]
fn takes_two_to_one_pictures_as_spheres_only_for_known_360_cameras() {
    let max = vec![ascii(Tag::Make, "GoPro"), ascii(Tag::Model, "GoPro Max")];
    let bytes = jpeg_sized(&with(gps_fields(), max.clone()), None, (64, 32));
    let picture = flaneur_metadata::read(&bytes).expect("reads");
    assert_eq!(picture.projection, Projection::Equirectangular);
    assert_eq!(picture.field_of_view_deg, Some(360.0));
    assert_eq!(picture.crop, None);
    assert_eq!(picture.gps_accuracy_m, Some(4.0));

    // The same camera in another shape, and an unknown camera in 2:1, are flat.
    let picture = read(&with(gps_fields(), max), None).expect("reads");
    assert_eq!(picture.projection, Projection::Flat);
    let unknown = vec![ascii(Tag::Make, "Nobody"), ascii(Tag::Model, "Sphere 1")];
    let bytes = jpeg_sized(&with(gps_fields(), unknown), None, (64, 32));
    let picture = flaneur_metadata::read(&bytes).expect("reads");
    assert_eq!(picture.projection, Projection::Flat);
    assert!(
        picture.warnings.iter().any(|w| w.contains("2:1")),
        "{:?}",
        picture.warnings
    );
}

#[test]
fn reads_a_jpeg_without_position_or_time_as_missing_both() {
    let both = [MissingField::Datetime, MissingField::Location];
    let err = read(&[], None).expect_err("no exif at all");
    assert_eq!(err.missing_fields(), both);
    let err = read(&[ascii(Tag::Make, "Sony")], None).expect_err("exif without gps or date");
    assert_eq!(err.missing_fields(), both);
}

#[test]
fn cuts_file_text_at_its_first_nul_as_a_c_string() {
    // Fixed-size text fields end at a NUL, and some cameras leave older text after it.
    let xp_comment = Tag(exif::Context::Tiff, 0x9C9C);
    let utf16: Vec<u8> = "Hi\0old"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let fields = with(
        gps_fields(),
        vec![
            field(
                Tag::UserComment,
                Value::Undefined(b"ASCII\0\0\0Jane\0stale text".to_vec(), 0),
            ),
            field(xp_comment, Value::Byte(utf16)),
        ],
    );
    let picture = read(&fields, None).expect("reads");
    let tag = |key: &str| picture.tags.get(key).map(String::as_str);
    assert_eq!(tag("Exif.Photo.UserComment"), Some("Jane"));
    assert_eq!(tag("Exif.Image.XPComment"), Some("Hi"));
    assert!(
        picture.tags.values().all(|v| !v.contains('\0')),
        "{:?}",
        picture.tags
    );
}
