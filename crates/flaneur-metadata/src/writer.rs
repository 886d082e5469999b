//! Writes a client's metadata overrides (position, capture time, heading, raw EXIF keys) into a
//! JPEG, so that the stored original carries the values the picture is published with, as the
//! reference server does when an upload comes with overrides.
//!
//! Only the EXIF APP1 segment changes: its fields are parsed, the overridden ones replaced, and
//! the TIFF structure written again. Every other segment and the scan data stay byte for byte.
//! Reading the result is left to [`read`](crate::read); XMP is never touched.

use std::io::Cursor;
use std::ops::Range;

use chrono::{DateTime, FixedOffset, Timelike, Utc};
use exif::experimental::Writer;
use exif::{Field, In, Rational, Tag, Value};

use crate::segment::{self, Walk};

/// What a client asked to set in a picture's EXIF. Empty fields leave the picture's own tags.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TagOverrides {
    /// Longitude and latitude, WGS84 degrees: written as `GPSLatitude`/`GPSLongitude` in
    /// degrees, minutes and seconds, with their `Ref` letters.
    pub position: Option<(f64, f64)>,
    /// Capture instant with the local offset: written as `DateTimeOriginal`,
    /// `SubSecTimeOriginal` and `OffsetTimeOriginal` in local time, and as `GPSDateStamp` and
    /// `GPSTimeStamp` in UTC.
    pub captured_at: Option<DateTime<FixedOffset>>,
    /// Direction the camera faced, degrees clockwise from true north: written as
    /// `GPSImgDirection` with `GPSImgDirectionRef` `T`.
    pub heading_deg: Option<f64>,
    /// Text tags under exiv2 keys (`Exif.Image.Artist`), written as given after the typed
    /// overrides above, so a raw key wins over them. Only text-typed tags of `Exif.Image`,
    /// `Exif.Photo` and `Exif.GPSInfo` are accepted.
    pub raw: Vec<(String, String)>,
}

impl TagOverrides {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.position.is_none()
            && self.captured_at.is_none()
            && self.heading_deg.is_none()
            && self.raw.is_empty()
    }
}

/// A JPEG with the overrides written in.
#[derive(Debug, Clone, PartialEq)]
pub struct RewrittenJpeg {
    /// The whole file.
    pub bytes: Vec<u8>,
    /// What of the old EXIF could not be kept (unreadable fields, a thumbnail that did not fit).
    pub warnings: Vec<String>,
}

/// Why [`write_overrides`] could not write the overrides.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WriteError {
    /// The bytes do not start like a JPEG.
    #[error("not a jpeg file")]
    NotJpeg,
    /// The bytes end before the JPEG header does (before the first scan).
    #[error("jpeg header is truncated before the image data")]
    Truncated,
    /// The JPEG header is structurally broken.
    #[error("jpeg header is malformed: {reason}")]
    Malformed {
        /// What was wrong, with the byte offset where it was found.
        reason: String,
    },
    /// A typed override cannot be written as EXIF.
    #[error("override {field} cannot be written: {reason}")]
    InvalidOverride {
        /// Which override (`position`, `captured_at`, `heading_deg`).
        field: &'static str,
        /// What is wrong with its value.
        reason: String,
    },
    /// A raw key names no tag this writer can write.
    #[error("override key {key} is not supported: {reason}")]
    UnsupportedKey {
        /// The key as the client sent it.
        key: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// A raw value cannot be stored in its tag.
    #[error("value of override key {key} cannot be written: {reason}")]
    InvalidRawValue {
        /// The key as the client sent it.
        key: String,
        /// What is wrong with the value.
        reason: &'static str,
    },
    /// The EXIF encoder refused the fields.
    #[error("exif data cannot be encoded: {reason}")]
    Encode {
        /// The encoder's message.
        reason: String,
    },
    /// The new EXIF data is larger than one JPEG segment can hold, even without thumbnail.
    #[error("exif data of {size_bytes} bytes exceeds the {MAX_TIFF_BYTES} bytes of a segment")]
    TooLarge {
        /// Size of the encoded TIFF structure.
        size_bytes: usize,
    },
}

const EXIF_ID: &[u8] = b"Exif\0\0";
const APP0: u8 = 0xE0;
const APP1: u8 = 0xE1;

/// A segment length counts its own two bytes, and is a `u16`.
const MAX_TIFF_BYTES: usize = u16::MAX as usize - 2 - EXIF_ID.len();

/// Writes `overrides` into the EXIF of `jpeg` and gives the new file.
///
/// The picture's other EXIF fields are kept (IFD0, Exif, GPS and Interop directories, and the
/// JPEG thumbnail), in the byte order they had. The maker note is dropped, with a warning:
/// rewritten elsewhere, its internal offsets would point at the wrong bytes. Without
/// overrides, the bytes come back unchanged.
///
/// # Errors
/// - [`WriteError::NotJpeg`], [`WriteError::Truncated`], [`WriteError::Malformed`] when the
///   bytes are not a complete JPEG header;
/// - [`WriteError::InvalidOverride`] for a position, time or heading out of range;
/// - [`WriteError::UnsupportedKey`] and [`WriteError::InvalidRawValue`] for a raw key that is
///   not a known text tag, or a value holding a NUL byte;
/// - [`WriteError::TooLarge`] when the EXIF data would not fit in one segment;
/// - [`WriteError::Encode`] when the EXIF encoder fails.
pub fn write_overrides(jpeg: &[u8], overrides: &TagOverrides) -> Result<RewrittenJpeg, WriteError> {
    // 1. Check the overrides before the file, so that a bad key fails the same way on any
    // picture.
    let new_fields = override_fields(overrides)?;

    // 2. The header tells where the current EXIF payload lies, if there is one.
    let header = match segment::walk(jpeg) {
        Walk::Header(header) => header,
        Walk::NeedMore if jpeg.len() < 3 => return Err(WriteError::NotJpeg),
        Walk::NeedMore => return Err(WriteError::Truncated),
        Walk::NotJpeg => return Err(WriteError::NotJpeg),
        Walk::Malformed(reason) => return Err(WriteError::Malformed { reason }),
    };
    if new_fields.is_empty() {
        return Ok(RewrittenJpeg {
            bytes: jpeg.to_vec(),
            warnings: Vec::new(),
        });
    }

    // 3. Keep what the old EXIF holds, then put the overrides over it.
    let mut warnings = Vec::new();
    let old = header
        .exif
        .map(|tiff| OldExif::parse(tiff, &mut warnings))
        .unwrap_or_default();
    let mut fields = old.fields;
    for field in new_fields {
        fields.retain(|kept| (kept.tag, kept.ifd_num) != (field.tag, field.ifd_num));
        fields.push(field);
    }
    add_gps_version(&mut fields);

    // 4. Encode; a thumbnail is the one thing worth dropping to fit in a segment.
    let tiff = match encode(&fields, old.thumbnail, old.little_endian)? {
        tiff if tiff.len() <= MAX_TIFF_BYTES => tiff,
        tiff if old.thumbnail.is_none() => return Err(too_large(&tiff)),
        _ => {
            warnings.push("exif thumbnail dropped: the exif data did not fit otherwise".into());
            let tiff = encode(&fields, None, old.little_endian)?;
            if tiff.len() > MAX_TIFF_BYTES {
                return Err(too_large(&tiff));
            }
            tiff
        }
    };

    // 5. Splice the new segment in place of the old one, or where an EXIF segment belongs.
    let replaced = match header.exif {
        Some(old_tiff) => exif_segment(jpeg, old_tiff),
        None => {
            let at = insertion_point(jpeg);
            at..at
        }
    };
    let mut bytes = Vec::with_capacity(jpeg.len() + tiff.len() + 10);
    bytes.extend_from_slice(&jpeg[..replaced.start]);
    bytes.extend_from_slice(&[0xFF, APP1]);
    let len = u16::try_from(2 + EXIF_ID.len() + tiff.len()).map_err(|_| too_large(&tiff))?;
    bytes.extend_from_slice(&len.to_be_bytes());
    bytes.extend_from_slice(EXIF_ID);
    bytes.extend_from_slice(&tiff);
    bytes.extend_from_slice(&jpeg[replaced.end..]);
    Ok(RewrittenJpeg { bytes, warnings })
}

fn too_large(tiff: &[u8]) -> WriteError {
    WriteError::TooLarge {
        size_bytes: tiff.len(),
    }
}

/// The fields of the picture's current EXIF that can be written again.
struct OldExif<'a> {
    fields: Vec<Field>,
    thumbnail: Option<&'a [u8]>,
    little_endian: bool,
}

impl Default for OldExif<'_> {
    fn default() -> Self {
        // exiv2, which the reference server writes with, uses little-endian for new EXIF.
        Self {
            fields: Vec::new(),
            thumbnail: None,
            little_endian: true,
        }
    }
}

impl<'a> OldExif<'a> {
    /// Parses the old TIFF structure, keeping what can be written back.
    ///
    /// The maker note is dropped, with a warning. It is a vendor structure whose internal
    /// offsets often count from the start of the TIFF header (Sony, Canon, Olympus), and the
    /// encoder moves it: kept as it is, exiftool reads wrong values from a moved Sony maker note
    /// without any warning (the tests show it). Nothing in Flâneur reads maker notes.
    fn parse(tiff: &'a [u8], warnings: &mut Vec<String>) -> Self {
        let mut reader = exif::Reader::new();
        reader.continue_on_error(true);
        let parsed = reader.read_raw(tiff.to_vec()).or_else(|err| {
            err.distill_partial_result(|errors| {
                for error in errors {
                    warnings.push(format!("unreadable part of the old exif dropped: {error}"));
                }
            })
        });
        let exif = match parsed {
            Ok(exif) => exif,
            Err(err) => {
                warnings.push(format!("old exif data unreadable and replaced: {err}"));
                return Self::default();
            }
        };

        // IFD1 describes the thumbnail; it is worth keeping only with a JPEG thumbnail that the
        // encoder can place again (it does not rewrite strip offsets).
        let thumbnail = jpeg_thumbnail(&exif, tiff);
        let mut fields: Vec<Field> = Vec::new();
        for field in exif.fields() {
            if (field.ifd_num == In::THUMBNAIL && thumbnail.is_none()) || field.ifd_num.index() > 1
            {
                continue;
            }
            if field.tag == Tag::MakerNote {
                // TODO: keep the maker note by leaving the old TIFF bytes in place and adding
                // new directories after them, as exiv2 does — the encoder cannot place a value
                // at a given offset, so for now the camera's vendor data is lost on rewrite.
                warnings.push("exif maker note dropped: its offsets would not survive".into());
                continue;
            }
            if let Value::Unknown(..) = field.value {
                warnings.push(format!("exif field {} of unknown type dropped", field.tag));
                continue;
            }
            // Duplicates in one directory would be written twice; the reader takes the first.
            if fields
                .iter()
                .any(|f| (f.tag, f.ifd_num) == (field.tag, field.ifd_num))
            {
                continue;
            }
            fields.push(field.clone());
        }
        if thumbnail.is_none() && exif.fields().any(|f| f.ifd_num == In::THUMBNAIL) {
            warnings
                .push("exif thumbnail directory without a usable jpeg thumbnail dropped".into());
        }
        Self {
            fields,
            thumbnail,
            little_endian: exif.little_endian(),
        }
    }
}

/// The JPEG thumbnail of IFD1, when its offset and length lie inside the TIFF structure.
fn jpeg_thumbnail<'a>(exif: &exif::Exif, tiff: &'a [u8]) -> Option<&'a [u8]> {
    let uint = |tag| exif.get_field(tag, In::THUMBNAIL)?.value.get_uint(0);
    if exif.get_field(Tag::StripOffsets, In::THUMBNAIL).is_some() {
        return None;
    }
    let start = usize::try_from(uint(Tag::JPEGInterchangeFormat)?).ok()?;
    let len = usize::try_from(uint(Tag::JPEGInterchangeFormatLength)?).ok()?;
    tiff.get(start..start.checked_add(len)?)
        .filter(|jpeg| jpeg.starts_with(&[0xFF, 0xD8]))
}

/// Writes the TIFF structure of an EXIF segment.
fn encode(
    fields: &[Field],
    thumbnail: Option<&[u8]>,
    little_endian: bool,
) -> Result<Vec<u8>, WriteError> {
    let mut writer = Writer::new();
    for field in fields {
        if field.ifd_num == In::PRIMARY || thumbnail.is_some() {
            writer.push_field(field);
        }
    }
    if let Some(jpeg) = thumbnail {
        writer.set_jpeg(jpeg, In::THUMBNAIL);
    }
    let mut out = Cursor::new(Vec::new());
    writer
        .write(&mut out, little_endian)
        .map_err(|err| WriteError::Encode {
            reason: err.to_string(),
        })?;
    Ok(out.into_inner())
}

/// The whole APP1 segment (marker to end) around the EXIF payload `tiff`, a sub-slice of
/// `jpeg` found by the segment walker.
fn exif_segment(jpeg: &[u8], tiff: &[u8]) -> Range<usize> {
    // The walker hands out sub-slices; their distance from the start of the file is their
    // offset, which saves walking the segments a second time here.
    let offset = tiff.as_ptr().addr() - jpeg.as_ptr().addr();
    let marker_and_length = 4;
    offset - EXIF_ID.len() - marker_and_length..offset + tiff.len()
}

/// Where a new EXIF segment goes: right after SOI, or after the JFIF APP0 segment that the JFIF
/// format wants first.
fn insertion_point(jpeg: &[u8]) -> usize {
    let after_soi = 2;
    let Some(&[0xFF, APP0, hi, lo]) = jpeg.get(after_soi..after_soi + 4) else {
        return after_soi;
    };
    let end = after_soi + 2 + usize::from(u16::from_be_bytes([hi, lo]));
    // The walker has checked that every segment fits in the file.
    if end <= jpeg.len() { end } else { after_soi }
}

/// The EXIF fields for the overrides, in the order they are applied.
fn override_fields(overrides: &TagOverrides) -> Result<Vec<Field>, WriteError> {
    let mut fields = Vec::new();
    if let Some((lon, lat)) = overrides.position {
        position_fields(lon, lat, &mut fields)?;
    }
    if let Some(at) = overrides.captured_at {
        time_fields(at, &mut fields)?;
    }
    if let Some(heading) = overrides.heading_deg {
        if !heading.is_finite() {
            return Err(invalid("heading_deg", format!("{heading} is not a number")));
        }
        let hundredths = (heading.rem_euclid(360.0) * 100.0).round() as u32 % 36_000;
        fields.push(field(Tag::GPSImgDirection, rationals(&[(hundredths, 100)])));
        fields.push(field(Tag::GPSImgDirectionRef, ascii("T")));
    }
    for (key, value) in &overrides.raw {
        let tag = raw_tag(key)?;
        if value.contains('\0') {
            return Err(WriteError::InvalidRawValue {
                key: key.clone(),
                reason: "exif text cannot hold a NUL character",
            });
        }
        fields.retain(|f| f.tag != tag);
        fields.push(field(tag, ascii(value)));
    }
    Ok(fields)
}

fn position_fields(lon: f64, lat: f64, fields: &mut Vec<Field>) -> Result<(), WriteError> {
    if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
        return Err(invalid(
            "position",
            format!("latitude {lat} is not in [-90, 90]"),
        ));
    }
    if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
        return Err(invalid(
            "position",
            format!("longitude {lon} is not in [-180, 180]"),
        ));
    }
    let lat_ref = if lat < 0.0 { "S" } else { "N" };
    let lon_ref = if lon < 0.0 { "W" } else { "E" };
    fields.push(field(Tag::GPSLatitude, dms(lat)));
    fields.push(field(Tag::GPSLatitudeRef, ascii(lat_ref)));
    fields.push(field(Tag::GPSLongitude, dms(lon)));
    fields.push(field(Tag::GPSLongitudeRef, ascii(lon_ref)));
    Ok(())
}

/// Degrees, minutes and seconds of an angle's magnitude, seconds to the microsecond of arc
/// (3e-11 degrees, far below GPS precision). Counting in whole micro-arcseconds first avoids
/// a rounded 60 in the seconds.
fn dms(deg: f64) -> Value {
    const MICRO_PER_MIN: u64 = 60_000_000;
    let total = (deg.abs() * 3600.0 * 1e6).round() as u64;
    let degrees = total / (60 * MICRO_PER_MIN);
    let minutes = total / MICRO_PER_MIN % 60;
    let micro_secs = total % MICRO_PER_MIN;
    // Bounded by 180, 59 and 60e6: each fits in a u32.
    let parts = [degrees, minutes, micro_secs].map(|p| u32::try_from(p).unwrap_or(u32::MAX));
    rationals(&[(parts[0], 1), (parts[1], 1), (parts[2], 1_000_000)])
}

fn time_fields(at: DateTime<FixedOffset>, fields: &mut Vec<Field>) -> Result<(), WriteError> {
    use chrono::Datelike;

    // EXIF dates have four-digit years, and offsets whole minutes.
    if !(0..=9999).contains(&at.year()) || !(0..=9999).contains(&at.with_timezone(&Utc).year()) {
        return Err(invalid(
            "captured_at",
            format!("year of {at} is not in 0..=9999"),
        ));
    }
    let offset_secs = at.offset().local_minus_utc();
    if offset_secs % 60 != 0 {
        return Err(invalid(
            "captured_at",
            format!("offset of {at} has seconds"),
        ));
    }

    // A leap second (nanoseconds past 1e9) is written as the end of the second before.
    let nanos = at.nanosecond().min(999_999_999);
    let mut subsec = format!("{nanos:09}");
    while subsec.len() > 3 && subsec.ends_with('0') {
        subsec.pop();
    }
    let sign = if offset_secs < 0 { '-' } else { '+' };
    let offset_min = offset_secs.unsigned_abs() / 60;
    let offset = format!("{sign}{:02}:{:02}", offset_min / 60, offset_min % 60);
    let local = at.format("%Y:%m:%d %H:%M:%S").to_string();
    fields.push(field(Tag::DateTimeOriginal, ascii(&local)));
    fields.push(field(Tag::SubSecTimeOriginal, ascii(&subsec)));
    fields.push(field(Tag::OffsetTimeOriginal, ascii(&offset)));

    let utc = at.with_timezone(&Utc);
    let micro_secs = utc.second() * 1_000_000 + nanos / 1000;
    fields.push(field(
        Tag::GPSDateStamp,
        ascii(&utc.format("%Y:%m:%d").to_string()),
    ));
    fields.push(field(
        Tag::GPSTimeStamp,
        rationals(&[(utc.hour(), 1), (utc.minute(), 1), (micro_secs, 1_000_000)]),
    ));
    Ok(())
}

/// Adds `GPSVersionID` 2.3.0.0 when GPS fields exist without it, as the EXIF standard asks.
fn add_gps_version(fields: &mut Vec<Field>) {
    let has_gps = fields.iter().any(|f| f.tag.context() == exif::Context::Gps);
    if has_gps && !fields.iter().any(|f| f.tag == Tag::GPSVersionID) {
        fields.push(field(Tag::GPSVersionID, Value::Byte(vec![2, 3, 0, 0])));
    }
}

/// The text tags that raw keys may set, under their exiv2 group and name. Tags of other types
/// are refused: their values would need parsing rules per type, and no client sends them.
const TEXT_TAGS: &[(&str, Tag)] = &[
    ("Image", Tag::ImageDescription),
    ("Image", Tag::Make),
    ("Image", Tag::Model),
    ("Image", Tag::Software),
    ("Image", Tag::DateTime),
    ("Image", Tag::Artist),
    ("Image", Tag::Copyright),
    ("Photo", Tag::DateTimeOriginal),
    ("Photo", Tag::DateTimeDigitized),
    ("Photo", Tag::OffsetTime),
    ("Photo", Tag::OffsetTimeOriginal),
    ("Photo", Tag::OffsetTimeDigitized),
    ("Photo", Tag::SubSecTime),
    ("Photo", Tag::SubSecTimeOriginal),
    ("Photo", Tag::SubSecTimeDigitized),
    ("Photo", Tag::SpectralSensitivity),
    ("Photo", Tag::RelatedSoundFile),
    ("Photo", Tag::ImageUniqueID),
    ("Photo", Tag::CameraOwnerName),
    ("Photo", Tag::BodySerialNumber),
    ("Photo", Tag::LensMake),
    ("Photo", Tag::LensModel),
    ("Photo", Tag::LensSerialNumber),
    ("GPSInfo", Tag::GPSLatitudeRef),
    ("GPSInfo", Tag::GPSLongitudeRef),
    ("GPSInfo", Tag::GPSSatellites),
    ("GPSInfo", Tag::GPSStatus),
    ("GPSInfo", Tag::GPSMeasureMode),
    ("GPSInfo", Tag::GPSSpeedRef),
    ("GPSInfo", Tag::GPSTrackRef),
    ("GPSInfo", Tag::GPSImgDirectionRef),
    ("GPSInfo", Tag::GPSMapDatum),
    ("GPSInfo", Tag::GPSDestLatitudeRef),
    ("GPSInfo", Tag::GPSDestLongitudeRef),
    ("GPSInfo", Tag::GPSDestBearingRef),
    ("GPSInfo", Tag::GPSDestDistanceRef),
    ("GPSInfo", Tag::GPSDateStamp),
];

/// The tag a raw exiv2 key names, when this writer can write it.
fn raw_tag(key: &str) -> Result<Tag, WriteError> {
    let unsupported = |reason| WriteError::UnsupportedKey {
        key: key.to_owned(),
        reason,
    };
    if key.starts_with("Xmp.") {
        return Err(unsupported("xmp keys cannot be overridden, only exif ones"));
    }
    let mut parts = key.split('.');
    let (Some("Exif"), Some(group), Some(name), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(unsupported(
            "keys look like Exif.<Image|Photo|GPSInfo>.<TagName>",
        ));
    };
    TEXT_TAGS
        .iter()
        .find(|(g, tag)| *g == group && tag.to_string() == name)
        .map(|&(_, tag)| tag)
        .ok_or_else(|| unsupported("not a text tag of Exif.Image, Exif.Photo or Exif.GPSInfo"))
}

fn invalid(field: &'static str, reason: String) -> WriteError {
    WriteError::InvalidOverride { field, reason }
}

fn field(tag: Tag, value: Value) -> Field {
    Field {
        tag,
        ifd_num: In::PRIMARY,
        value,
    }
}

fn ascii(text: &str) -> Value {
    Value::Ascii(vec![text.as_bytes().to_vec()])
}

fn rationals(parts: &[(u32, u32)]) -> Value {
    Value::Rational(
        parts
            .iter()
            .map(|&(num, denom)| Rational { num, denom })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reals(value: &Value) -> Vec<f64> {
        let Value::Rational(parts) = value else {
            panic!("not rationals: {value:?}");
        };
        parts.iter().map(Rational::to_f64).collect()
    }

    #[test]
    fn writes_angles_as_degrees_minutes_and_seconds_without_a_sixty() {
        assert_eq!(reals(&dms(-1.5)), [1.0, 30.0, 0.0]);
        assert_eq!(reals(&dms(180.0)), [180.0, 0.0, 0.0]);
        let just_below = reals(&dms(10.0 - 1e-12));
        assert_eq!(just_below, [10.0, 0.0, 0.0]);
        let [d, m, s] = reals(&dms(49.006_889_3))[..] else {
            panic!("three parts");
        };
        assert!((d + m / 60.0 + s / 3600.0 - 49.006_889_3).abs() < 1e-9);
    }

    #[test]
    fn refuses_xmp_unknown_and_non_text_keys_by_name() {
        for key in [
            "Xmp.GPano.ProjectionType",
            "Exif.Image.Nope",
            "Exif.Photo.FocalLength",
            "Exif.Image",
            "Iptc.Application2.City",
        ] {
            let overrides = TagOverrides {
                raw: vec![(key.to_owned(), "x".to_owned())],
                ..TagOverrides::default()
            };
            let err = override_fields(&overrides).expect_err(key);
            assert!(err.to_string().contains(key), "{err}");
        }
    }

    #[test]
    fn refuses_positions_out_of_range() {
        for position in [(0.0, 91.0), (-181.0, 0.0), (f64::NAN, 0.0)] {
            let overrides = TagOverrides {
                position: Some(position),
                ..TagOverrides::default()
            };
            assert!(matches!(
                override_fields(&overrides),
                Err(WriteError::InvalidOverride {
                    field: "position",
                    ..
                })
            ));
        }
    }

    #[test]
    fn gives_back_files_that_are_not_jpeg_as_errors() {
        let overrides = TagOverrides {
            heading_deg: Some(12.0),
            ..TagOverrides::default()
        };
        assert_eq!(
            write_overrides(b"GIF89a", &overrides),
            Err(WriteError::NotJpeg)
        );
        assert_eq!(
            write_overrides(&[0xFF, 0xD8, 0xFF, 0xE1, 0, 40], &overrides),
            Err(WriteError::Truncated)
        );
    }
}
