//! Access to the EXIF fields of a picture, parsed by `kamadak-exif`: typed look-ups for the
//! values the reader interprets, and the full dump under exiv2-style keys
//! (`Exif.Image.Make`, `Exif.GPSInfo.GPSLatitude`...) with values written the way exiv2 does
//! (`49/1 0/1 1885/76`). Interpreting the values is left to the `gps`, `time` and `camera`
//! modules.

use std::collections::BTreeMap;

use exif::{Context, Exif, Field, In, Tag, Value};

/// Byte arrays longer than this are binary blobs (thumbnails, vendor data) and stay out of the
/// dump, as the reference server leaves them out of its `exif` property.
const MAX_DUMPED_BYTES: usize = 256;

/// Numeric arrays longer than this are tables, not values someone reads.
const MAX_DUMPED_NUMBERS: usize = 64;

/// The Windows `XP*` tags: known to exiv2 but not to kamadak-exif; UTF-16LE text in bytes.
const XP_TAGS: [(u16, &str); 5] = [
    (0x9c9b, "XPTitle"),
    (0x9c9c, "XPComment"),
    (0x9c9d, "XPAuthor"),
    (0x9c9e, "XPKeywords"),
    (0x9c9f, "XPSubject"),
];

/// Tags that kamadak-exif names differently from exiv2 (it follows the Exif 2.3 names).
const EXIV2_NAMES: [(Tag, &str); 1] = [(Tag::PhotographicSensitivity, "ISOSpeedRatings")];

/// A value that cannot be used because one of its rationals has a zero denominator.
///
/// Some cameras write `0/0` for "unknown" (invalid_exif.jpg has 0/0 coordinates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ZeroDenominator;

/// The EXIF fields of one picture.
pub(crate) struct ExifFields {
    exif: Exif,
}

impl ExifFields {
    /// Parses the TIFF structure of an EXIF APP1 segment.
    ///
    /// Errors in some fields do not lose the others: the parser keeps what it can read and
    /// each problem becomes a warning. `None` when nothing could be read.
    pub(crate) fn parse(tiff: &[u8], warnings: &mut Vec<String>) -> Option<Self> {
        let mut reader = exif::Reader::new();
        reader.continue_on_error(true);
        let parsed = reader.read_raw(tiff.to_vec()).or_else(|err| {
            err.distill_partial_result(|errors| {
                for error in errors {
                    warnings.push(format!("part of the exif data is unreadable: {error}"));
                }
            })
        });
        match parsed {
            Ok(exif) => Some(Self { exif }),
            Err(err) => {
                warnings.push(format!("exif data is unreadable: {err}"));
                None
            }
        }
    }

    fn field(&self, tag: Tag) -> Option<&Field> {
        self.exif.get_field(tag, In::PRIMARY)
    }

    /// The first string of an ASCII field, trimmed; `None` when absent or blank.
    pub(crate) fn text(&self, tag: Tag) -> Option<String> {
        let Value::Ascii(strings) = &self.field(tag)?.value else {
            return None;
        };
        let text = decode_text(strings.first()?);
        (!text.is_empty()).then_some(text)
    }

    /// The first value of an integer field.
    pub(crate) fn uint(&self, tag: Tag) -> Option<u32> {
        self.field(tag)?.value.get_uint(0)
    }

    /// The values of a numeric field as reals (at most 8 of them).
    ///
    /// `None` when absent or not numeric.
    pub(crate) fn reals(&self, tag: Tag) -> Option<Result<Vec<f64>, ZeroDenominator>> {
        let max = 8;
        let reals = match &self.field(tag)?.value {
            Value::Rational(v) => v
                .iter()
                .take(max)
                .map(|r| ratio(r.num.into(), r.denom.into()))
                .collect(),
            Value::SRational(v) => v
                .iter()
                .take(max)
                .map(|r| ratio(r.num.into(), r.denom.into()))
                .collect(),
            Value::Float(v) => Ok(v.iter().take(max).map(|&x| f64::from(x)).collect()),
            Value::Double(v) => Ok(v.iter().take(max).copied().collect()),
            other => {
                let ints: Vec<f64> = (0..max)
                    .map_while(|i| other.get_uint(i))
                    .map(f64::from)
                    .collect();
                if ints.is_empty() {
                    return None;
                }
                Ok(ints)
            }
        };
        Some(reals)
    }

    /// The values of a numeric field as reals, each `None` when its denominator is zero, so
    /// that a caller can accept `0/0` in a part that does not matter (GPS seconds).
    pub(crate) fn parts(&self, tag: Tag) -> Option<Vec<Option<f64>>> {
        let max = 8;
        let part = |num: f64, den: f64| ratio(num, den).ok();
        match &self.field(tag)?.value {
            Value::Rational(v) => Some(
                v.iter()
                    .take(max)
                    .map(|r| part(r.num.into(), r.denom.into()))
                    .collect(),
            ),
            Value::SRational(v) => Some(
                v.iter()
                    .take(max)
                    .map(|r| part(r.num.into(), r.denom.into()))
                    .collect(),
            ),
            _ => Some(self.reals(tag)?.ok()?.into_iter().map(Some).collect()),
        }
    }

    /// The first value of a numeric field as a real; `None` when absent, empty or not numeric.
    pub(crate) fn real(&self, tag: Tag) -> Option<Result<f64, ZeroDenominator>> {
        match self.reals(tag)? {
            Ok(values) => values.first().copied().map(Ok),
            Err(err) => Some(Err(err)),
        }
    }

    /// Writes every field worth showing into `tags`, under exiv2-style keys.
    pub(crate) fn dump(&self, tags: &mut BTreeMap<String, String>) {
        for field in self.exif.fields() {
            let Some(name) = exiv2_name(field.tag) else {
                continue;
            };
            let group = match (field.tag.context(), field.ifd_num) {
                (Context::Tiff, In::PRIMARY) => "Image",
                (Context::Tiff, _) => "Thumbnail",
                (Context::Gps, _) => "GPSInfo",
                (Context::Interop, _) => "Iop",
                _ => "Photo",
            };
            let text = if name.starts_with("XP") {
                xp_text(&field.value)
            } else if field.tag == Tag::UserComment {
                user_comment(&field.value, self.exif.little_endian())
            } else {
                value_text(&field.value)
            };
            if let Some(text) = text {
                tags.insert(format!("Exif.{group}.{name}"), text);
            }
        }
    }
}

/// A rational's value; its 32-bit parts convert to `f64` exactly.
fn ratio(num: f64, den: f64) -> Result<f64, ZeroDenominator> {
    if den == 0.0 {
        return Err(ZeroDenominator);
    }
    Ok(num / den)
}

/// The exiv2 name of a tag worth dumping; `None` for blobs and tags neither library knows.
fn exiv2_name(tag: Tag) -> Option<String> {
    if tag == Tag::MakerNote {
        return None;
    }
    if let Some((_, name)) = EXIV2_NAMES.iter().find(|(known, _)| *known == tag) {
        return Some((*name).to_owned());
    }
    let xp = XP_TAGS.iter().find(|(number, _)| *number == tag.number());
    if let (Context::Tiff, Some((_, name))) = (tag.context(), xp) {
        return Some((*name).to_owned());
    }
    // `description` is only known for tags kamadak-exif can name.
    tag.description()?;
    Some(tag.to_string())
}

/// Text of an ASCII string: UTF-8 when valid, else ISO-8859-1 (as the reference reader falls
/// back), up to its first NUL and trimmed of spaces.
pub(crate) fn decode_text(bytes: &[u8]) -> String {
    let bytes = until_nul(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    };
    text.trim().to_owned()
}

/// The bytes of a text field before its first NUL. A field of fixed size ends at a NUL, and
/// what follows is padding or older text some cameras leave there; keeping it would also
/// store a character PostgreSQL refuses in text.
fn until_nul(bytes: &[u8]) -> &[u8] {
    bytes.split(|&b| b == 0).next().unwrap_or_default()
}

/// A value written as exiv2 does: numbers separated by spaces, rationals as `num/den`.
fn value_text(value: &Value) -> Option<String> {
    fn join<T: ToString>(items: &[T], max: usize) -> Option<String> {
        if items.len() > max {
            return None;
        }
        let parts: Vec<String> = items.iter().map(ToString::to_string).collect();
        Some(parts.join(" "))
    }
    match value {
        Value::Ascii(strings) => Some(strings.first().map(|s| decode_text(s)).unwrap_or_default()),
        Value::Byte(v) | Value::Undefined(v, _) => join(v, MAX_DUMPED_BYTES),
        Value::SByte(v) => join(v, MAX_DUMPED_BYTES),
        Value::Short(v) => join(v, MAX_DUMPED_NUMBERS),
        Value::SShort(v) => join(v, MAX_DUMPED_NUMBERS),
        Value::Long(v) => join(v, MAX_DUMPED_NUMBERS),
        Value::SLong(v) => join(v, MAX_DUMPED_NUMBERS),
        Value::Float(v) => join(v, MAX_DUMPED_NUMBERS),
        Value::Double(v) => join(v, MAX_DUMPED_NUMBERS),
        Value::Rational(v) => {
            let parts: Vec<String> = v.iter().map(|r| format!("{}/{}", r.num, r.denom)).collect();
            join(&parts, MAX_DUMPED_NUMBERS)
        }
        Value::SRational(v) => {
            let parts: Vec<String> = v.iter().map(|r| format!("{}/{}", r.num, r.denom)).collect();
            join(&parts, MAX_DUMPED_NUMBERS)
        }
        Value::Unknown(..) => None,
    }
}

/// Windows `XP*` tags: UTF-16LE in a byte array, NUL-terminated.
fn xp_text(value: &Value) -> Option<String> {
    let Value::Byte(bytes) = value else {
        return value_text(value);
    };
    Some(utf16_text(bytes, true))
}

/// `UserComment`: an 8-byte character-code header then the text.
fn user_comment(value: &Value, little_endian: bool) -> Option<String> {
    let Value::Undefined(bytes, _) = value else {
        return value_text(value);
    };
    let (code, text) = bytes.split_at_checked(8).unwrap_or((bytes, &[]));
    if code == b"UNICODE\0" {
        return Some(utf16_text(text, little_endian));
    }
    if text.len() > MAX_DUMPED_BYTES * 16 {
        return None;
    }
    Some(decode_text(text))
}

fn utf16_text(bytes: &[u8], little_endian: bool) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|pair| {
            let pair = [pair[0], pair[1]];
            if little_endian {
                u16::from_le_bytes(pair)
            } else {
                u16::from_be_bytes(pair)
            }
        })
        .collect();
    let end = units.iter().position(|&u| u == 0).unwrap_or(units.len());
    String::from_utf16_lossy(&units[..end]).trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_values_like_exiv2() {
        let dms = Value::Rational(vec![(49, 1).into(), (0, 1).into(), (1885, 76).into()]);
        assert_eq!(value_text(&dms).as_deref(), Some("49/1 0/1 1885/76"));
        let version = Value::Undefined(b"0230".to_vec(), 0);
        assert_eq!(value_text(&version).as_deref(), Some("48 50 51 48"));
        let blob = Value::Undefined(vec![0; MAX_DUMPED_BYTES + 1], 0);
        assert_eq!(value_text(&blob), None);
    }

    #[test]
    fn decodes_windows_and_user_comments() {
        let xp = Value::Byte(b"p\0a\0n\0o\0\0\0".to_vec());
        assert_eq!(xp_text(&xp).as_deref(), Some("pano"));
        let comment = Value::Undefined(b"ASCII\0\0\0hello  ".to_vec(), 0);
        assert_eq!(user_comment(&comment, true).as_deref(), Some("hello"));
    }

    #[test]
    fn falls_back_to_latin1_for_invalid_utf8() {
        assert_eq!(decode_text(b"Carto'Cit\xc3\xa9\0"), "Carto'Cité");
        assert_eq!(decode_text(b"Cit\xe9 "), "Cité");
    }

    #[test]
    fn refuses_zero_denominators() {
        assert_eq!(ratio(0.0, 0.0), Err(ZeroDenominator));
        assert_eq!(ratio(34_000.0, 1000.0), Ok(34.0));
    }
}
