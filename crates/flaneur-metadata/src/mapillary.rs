//! What Mapillary's tools leave in EXIF `ImageDescription`: a JSON object of `MAP*` keys with
//! the position, the capture time, the compass heading and the device. The reference reader
//! takes these keys after the EXIF and XMP ones, and so does this crate; this module only
//! parses them.

use chrono::{DateTime, NaiveDateTime, Utc};
use exif::Tag;
use serde::Deserialize;

use crate::fields::ExifFields;

/// The `MAP*` keys this crate uses; any of them may be missing or of the wrong type.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Mapillary {
    /// `MAPLatitude`, signed degrees.
    pub latitude: Option<f64>,
    /// `MAPLongitude`, signed degrees.
    pub longitude: Option<f64>,
    /// `MAPCaptureTime`, in UTC as Mapillary's tools write it.
    pub capture_time: Option<DateTime<Utc>>,
    /// `MAPGpsTime`, UTC.
    pub gps_time: Option<DateTime<Utc>>,
    /// `MAPCompassHeading.TrueHeading`, degrees.
    pub true_heading: Option<f64>,
    /// `MAPDeviceMake`.
    pub make: Option<String>,
    /// `MAPDeviceModel`.
    pub model: Option<String>,
}

/// The JSON as written; values are taken loosely (numbers may come as strings).
#[derive(Deserialize)]
struct Raw {
    #[serde(rename = "MAPLatitude")]
    latitude: Option<serde_json::Value>,
    #[serde(rename = "MAPLongitude")]
    longitude: Option<serde_json::Value>,
    #[serde(rename = "MAPCaptureTime")]
    capture_time: Option<serde_json::Value>,
    #[serde(rename = "MAPGpsTime")]
    gps_time: Option<serde_json::Value>,
    #[serde(rename = "MAPCompassHeading")]
    compass: Option<serde_json::Value>,
    #[serde(rename = "MAPDeviceMake")]
    make: Option<serde_json::Value>,
    #[serde(rename = "MAPDeviceModel")]
    model: Option<serde_json::Value>,
}

impl Mapillary {
    /// The keys of the picture's `ImageDescription`; `None` when it is absent or no JSON
    /// object with at least one `MAP*` key this crate knows.
    pub(crate) fn from_exif(exif: Option<&ExifFields>) -> Option<Self> {
        Self::parse(&exif?.text(Tag::ImageDescription)?)
    }

    /// Parses the JSON text of an `ImageDescription`.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        // Most descriptions are plain text; only an object can hold the keys.
        if !text.starts_with('{') {
            return None;
        }
        let raw: Raw = serde_json::from_str(text).ok()?;
        let found = Self {
            latitude: raw.latitude.as_ref().and_then(number),
            longitude: raw.longitude.as_ref().and_then(number),
            capture_time: raw.capture_time.as_ref().and_then(time),
            gps_time: raw.gps_time.as_ref().and_then(time),
            true_heading: raw
                .compass
                .as_ref()
                .and_then(|c| c.get("TrueHeading"))
                .and_then(number),
            make: raw.make.as_ref().and_then(text_value),
            model: raw.model.as_ref().and_then(text_value),
        };
        (found != Self::default()).then_some(found)
    }

    /// `MAPDeviceModel` without a leading repeat of the maker, as for EXIF models.
    pub(crate) fn model(&self, make: Option<&str>) -> Option<String> {
        let model = self.model.as_deref()?;
        Some(match make {
            Some(make) => crate::camera::strip_make(model, make).to_owned(),
            None => model.to_owned(),
        })
    }

    /// The position, when both keys are there.
    pub(crate) fn position(&self) -> Option<(f64, f64)> {
        Some((self.latitude?, self.longitude?))
    }
}

/// A finite number, or a string holding one.
fn number(value: &serde_json::Value) -> Option<f64> {
    let number = match value {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    number.filter(|n| n.is_finite())
}

fn text_value(value: &serde_json::Value) -> Option<String> {
    let text = value.as_str()?.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// `YYYY_MM_DD_HH_MM_SS_mmm`, UTC; the milliseconds may be missing.
fn time(value: &serde_json::Value) -> Option<DateTime<Utc>> {
    let text = value.as_str()?.trim();
    let parts: Vec<&str> = text.split('_').collect();
    let (date_time, millis) = match parts.as_slice() {
        [y, mo, d, h, mi, s, ms] => ([*y, *mo, *d, *h, *mi, *s], Some(*ms)),
        [y, mo, d, h, mi, s] => ([*y, *mo, *d, *h, *mi, *s], None),
        _ => return None,
    };
    let [y, mo, d, h, mi, s] = date_time;
    let text = match millis {
        Some(ms) if !ms.is_empty() && ms.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{y}-{mo}-{d}T{h}:{mi}:{s}.{ms}")
        }
        Some(_) => return None,
        None => format!("{y}-{mo}-{d}T{h}:{mi}:{s}"),
    };
    let local = NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    Some(local.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_keys_the_reader_uses() {
        let text = r#"{"MAPLatitude": 45.1234, "MAPLongitude": "-1.5",
            "MAPCaptureTime": "2021_06_15_08_30_12_345",
            "MAPCompassHeading": {"TrueHeading": 271.5, "MagneticHeading": 270},
            "MAPDeviceMake": "Apple", "MAPDeviceModel": "iPhone 12", "MAPOther": [1]}"#;
        let found = Mapillary::parse(text).expect("mapillary keys");
        assert_eq!(found.position(), Some((45.1234, -1.5)));
        let at = found.capture_time.expect("capture time");
        assert_eq!(at.to_rfc3339(), "2021-06-15T08:30:12.345+00:00");
        assert_eq!(found.true_heading, Some(271.5));
        assert_eq!(found.make.as_deref(), Some("Apple"));
        assert_eq!(found.model.as_deref(), Some("iPhone 12"));
    }

    #[test]
    fn ignores_plain_and_unrelated_descriptions() {
        assert_eq!(Mapillary::parse("A street in Lyon"), None);
        assert_eq!(Mapillary::parse(r#"{"title": "x"}"#), None);
        assert_eq!(Mapillary::parse("{broken"), None);
        let bad_time = Mapillary::parse(r#"{"MAPCaptureTime": "2021_06_15", "MAPLatitude": 1}"#);
        assert_eq!(bad_time.and_then(|m| m.capture_time), None);
    }
}
