//! What the GPS tags say about where the picture was taken: position (EXIF GPS IFD, then XMP
//! `exif:GPS*`), altitude, heading and horizontal accuracy. Capture time from the GPS lives in
//! the `time` module.

use exif::Tag;

use crate::error::ReadError;
use crate::fields::ExifFields;
use crate::mapillary::Mapillary;
use crate::metadata::HeadingSource;
use crate::xmp::Xmp;

/// One axis of a position, with the letters of its reference tag.
#[derive(Clone, Copy)]
struct Axis {
    name: &'static str,
    value: Tag,
    reference: Tag,
    positive: char,
    negative: char,
    max: f64,
}

const LATITUDE: Axis = Axis {
    name: "latitude",
    value: Tag::GPSLatitude,
    reference: Tag::GPSLatitudeRef,
    positive: 'N',
    negative: 'S',
    max: 90.0,
};

const LONGITUDE: Axis = Axis {
    name: "longitude",
    value: Tag::GPSLongitude,
    reference: Tag::GPSLongitudeRef,
    positive: 'E',
    negative: 'W',
    max: 180.0,
};

/// The position as `(lat, lon)` in WGS84 degrees, from the EXIF GPS tags, else XMP
/// `exif:GPS*`, else Mapillary's `MAPLatitude`/`MAPLongitude`; `Ok(None)` when absent, broken
/// or (0, 0).
///
/// (0, 0) counts as missing, as in the reference reader, so that the error keeps the
/// reference's shape (missing `location`); the warning says why.
///
/// # Errors
/// [`ReadError::InvalidValue`] when a coordinate is outside the WGS84 range.
pub(crate) fn position(
    exif: Option<&ExifFields>,
    xmp: &Xmp,
    mapillary: Option<&Mapillary>,
    warnings: &mut Vec<String>,
) -> Result<Option<(f64, f64)>, ReadError> {
    let from_exif = exif.and_then(|exif| {
        let lat = exif_coordinate(exif, LATITUDE, warnings)?;
        let lon = exif_coordinate(exif, LONGITUDE, warnings)?;
        Some((lat, lon))
    });
    let from_xmp = || {
        let lat = parse_xmp_coordinate(xmp.get("Xmp.exif.GPSLatitude")?, LATITUDE)?;
        let lon = parse_xmp_coordinate(xmp.get("Xmp.exif.GPSLongitude")?, LONGITUDE)?;
        Some((lat, lon))
    };
    let from_mapillary = || mapillary?.position();
    let Some((lat, lon)) = from_exif.or_else(from_xmp).or_else(from_mapillary) else {
        return Ok(None);
    };

    // Cameras without a fix often write zeros; nobody takes street pictures at (0, 0).
    if lat == 0.0 && lon == 0.0 {
        warnings.push("gps position is (0, 0), taken as missing".to_owned());
        return Ok(None);
    }
    for (axis, value) in [(LATITUDE, lat), (LONGITUDE, lon)] {
        if value.abs() > axis.max {
            return Err(ReadError::InvalidValue {
                field: axis.name,
                reason: format!("{value} is outside [-{0}, {0}]", axis.max),
            });
        }
    }
    Ok(Some((lat, lon)))
}

/// One signed coordinate from EXIF degrees/minutes/seconds (rationals or signed rationals,
/// or decimal degrees in the first one) and its N/S or E/W reference.
///
/// A `0/0` minute or second counts as 0 with a warning (some cameras write it for "unknown"
/// beside whole degrees); a `0/0` degree loses the coordinate.
fn exif_coordinate(exif: &ExifFields, axis: Axis, warnings: &mut Vec<String>) -> Option<f64> {
    let parts = exif.parts(axis.value)?;
    let Some(Some(_)) = parts.first() else {
        warnings.push(format!("gps {} has a zero denominator, ignored", axis.name));
        return None;
    };
    if parts.iter().take(3).any(Option::is_none) {
        warnings.push(format!(
            "gps {} has a 0/0 minute or second, read as 0",
            axis.name
        ));
    }
    let parts: Vec<f64> = parts.iter().take(3).map(|p| p.unwrap_or(0.0)).collect();
    let degrees = dms_to_degrees(&parts)?;
    let reference = exif.text(axis.reference);
    Some(apply_reference(
        degrees,
        reference.as_deref(),
        axis,
        warnings,
    ))
}

/// Degrees from one to three parts (degrees, minutes, seconds). A negative part (signed
/// rationals) makes the whole value negative: `-48° 30'` is -48.5, not -47.5.
fn dms_to_degrees(parts: &[f64]) -> Option<f64> {
    let (first, rest) = parts.split_first()?;
    let minutes = rest.first().copied().unwrap_or(0.0);
    let seconds = rest.get(1).copied().unwrap_or(0.0);
    let is_negative = parts.iter().any(|p| p.is_sign_negative() && *p != 0.0);
    let magnitude = first.abs() + minutes.abs() / 60.0 + seconds.abs() / 3600.0;
    let degrees = if is_negative { -magnitude } else { magnitude };
    degrees.is_finite().then_some(degrees)
}

/// Signs a coordinate by its reference letter.
///
/// - A missing or unknown letter counts as N or E, as the reference reader does, with a
///   warning; a negative value then stays negative (its sign was written on purpose).
/// - A negative value is never flipped back: with S or W it is read as south or west once
///   (exiftool and the reference reader would flip it twice, to the north or east), and with
///   N or E the two disagree and the sign wins, with a warning, since writers of signed values
///   often leave the letter at its default.
fn apply_reference(
    degrees: f64,
    reference: Option<&str>,
    axis: Axis,
    warnings: &mut Vec<String>,
) -> f64 {
    let letter = reference
        .and_then(|r| r.chars().next())
        .map(|c| c.to_ascii_uppercase());
    let magnitude = degrees.abs();
    let is_negative = degrees < 0.0;
    match letter {
        Some(c) if c == axis.negative => -magnitude,
        Some(c) if c == axis.positive && is_negative => {
            warnings.push(format!(
                "gps {} is negative with reference {}: read as {}",
                axis.name, axis.positive, axis.negative
            ));
            degrees
        }
        Some(c) if c == axis.positive => degrees,
        _ => {
            let assumed = if is_negative {
                axis.negative
            } else {
                axis.positive
            };
            warnings.push(format!(
                "gps {} reference is missing or unknown, assumed {assumed}",
                axis.name
            ));
            degrees
        }
    }
}

/// An XMP coordinate: `DDD,MM,SSk` or `DDD,MM.mmk` (XMP spec), or a signed decimal.
fn parse_xmp_coordinate(text: &str, axis: Axis) -> Option<f64> {
    let text = text.trim();
    let last = text.chars().last()?.to_ascii_uppercase();
    let sign = match last {
        c if c == axis.positive => 1.0,
        c if c == axis.negative => -1.0,
        _ => return text.parse::<f64>().ok().filter(|v| v.is_finite()),
    };
    let body = &text[..text.len() - 1];
    let parts: Option<Vec<f64>> = body.split(',').map(|p| p.trim().parse().ok()).collect();
    let parts = parts?;
    if parts.len() > 3 {
        return None;
    }
    Some(sign * dms_to_degrees(&parts)?)
}

/// Altitude in metres, negative below sea level (`GPSAltitudeRef` = 1).
pub(crate) fn altitude(exif: Option<&ExifFields>) -> Option<f64> {
    let exif = exif?;
    let metres = exif.real(Tag::GPSAltitude)?.ok()?;
    let below_sea = exif.uint(Tag::GPSAltitudeRef) == Some(1);
    Some(if below_sea { -metres } else { metres })
}

/// The direction the camera faced: `GPSImgDirection`, else Mapillary's compass
/// (`MAPCompassHeading.TrueHeading`), else the direction of travel (`GPSTrack`), else the
/// panorama's `PoseHeadingDegrees`.
///
/// Mapillary's JSON is parsed here again rather than passed in: it is small, and only read
/// when `GPSImgDirection` is missing.
pub(crate) fn heading(exif: Option<&ExifFields>, xmp: &Xmp) -> Option<(f64, HeadingSource)> {
    let exif_tag = |tag| exif.and_then(|e| e.real(tag)).and_then(Result::ok);
    let image_direction = exif_tag(Tag::GPSImgDirection);
    let compass = image_direction
        .is_none()
        .then(|| Mapillary::from_exif(exif)?.true_heading)
        .flatten();
    let candidates = [
        (image_direction, HeadingSource::GpsImgDirection),
        (compass, HeadingSource::MapillaryCompass),
        (exif_tag(Tag::GPSTrack), HeadingSource::GpsTrack),
        (
            xmp.number("Xmp.GPano.PoseHeadingDegrees"),
            HeadingSource::GPanoPoseHeading,
        ),
    ];
    candidates
        .into_iter()
        .find_map(|(value, source)| Some((wrap_heading(value?)?, source)))
}

/// A heading in [0, 360): 360 becomes 0, negative values turn the other way.
pub(crate) fn wrap_heading(degrees: f64) -> Option<f64> {
    if !degrees.is_finite() {
        return None;
    }
    let wrapped = degrees.rem_euclid(360.0);
    // rem_euclid can round up to exactly 360 for tiny negative inputs.
    Some(if wrapped >= 360.0 { 0.0 } else { wrapped })
}

/// Horizontal accuracy in metres: `GPSHPositioningError` (EXIF, then XMP), else the dilution
/// of precision times 1 with differential correction and 3 without, else 2 m when the fix is
/// differential. Camera-model defaults are left to callers.
pub(crate) fn accuracy(exif: Option<&ExifFields>, xmp: &Xmp) -> Option<f64> {
    let positive = |v: f64| (v > 0.0).then_some(v);
    let exif_real = |tag| {
        exif.and_then(|e| e.real(tag))
            .and_then(Result::ok)
            .and_then(positive)
    };

    if let Some(error) = exif_real(Tag::GPSHPositioningError) {
        return Some(error);
    }
    if let Some(error) = xmp
        .number("Xmp.exif.GPSHPositioningError")
        .and_then(positive)
    {
        return Some(error);
    }
    let differential = exif.and_then(|e| e.uint(Tag::GPSDifferential)) == Some(1);
    match exif_real(Tag::GPSDOP) {
        Some(dop) if differential => Some(dop),
        Some(dop) => Some(dop * 3.0),
        None => differential.then_some(2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_degrees_minutes_seconds() {
        let lat = dms_to_degrees(&[49.0, 0.0, 1885.0 / 76.0]).expect("three parts");
        assert!((lat - 49.006_889_619_883_3).abs() < 1e-9);
        assert_eq!(dms_to_degrees(&[48.5]), Some(48.5));
        assert_eq!(dms_to_degrees(&[48.0, 30.0]), Some(48.5));
        assert_eq!(dms_to_degrees(&[]), None);
    }

    #[test]
    fn signs_coordinates_by_reference() {
        let mut warnings = Vec::new();
        assert_eq!(
            apply_reference(1.5, Some("W"), LONGITUDE, &mut warnings),
            -1.5
        );
        assert_eq!(
            apply_reference(1.5, Some("s"), LATITUDE, &mut warnings),
            -1.5
        );
        assert_eq!(
            apply_reference(1.5, Some("N"), LATITUDE, &mut warnings),
            1.5
        );
        assert!(warnings.is_empty());
    }

    #[test]
    fn assumes_north_and_east_without_reference() {
        let mut warnings = Vec::new();
        assert_eq!(apply_reference(1.5, None, LATITUDE, &mut warnings), 1.5);
        assert_eq!(
            apply_reference(1.5, Some(""), LONGITUDE, &mut warnings),
            1.5
        );
        assert_eq!(warnings.len(), 2);
        assert!(warnings[0].contains("assumed N"), "{warnings:?}");
    }

    #[test]
    fn never_flips_a_negative_value_back() {
        let mut warnings = Vec::new();
        let signed = dms_to_degrees(&[-48.0, 30.0, 0.0]).expect("three parts");
        assert_eq!(signed, -48.5);
        assert_eq!(
            apply_reference(signed, Some("S"), LATITUDE, &mut warnings),
            -48.5
        );
        assert!(warnings.is_empty());
        assert_eq!(
            apply_reference(signed, Some("N"), LATITUDE, &mut warnings),
            -48.5
        );
        assert_eq!(
            apply_reference(signed, None, LATITUDE, &mut warnings),
            -48.5
        );
        assert_eq!(warnings.len(), 2);
        assert!(warnings[1].contains("assumed S"), "{warnings:?}");
    }

    #[test]
    fn reads_xmp_coordinates() {
        let lat = parse_xmp_coordinate("48,9.30398N", LATITUDE).expect("degrees and minutes");
        assert!((lat - (48.0 + 9.30398 / 60.0)).abs() < 1e-12);
        assert_eq!(parse_xmp_coordinate("1,30,0W", LONGITUDE), Some(-1.5));
        assert_eq!(parse_xmp_coordinate("-1.25", LONGITUDE), Some(-1.25));
        assert_eq!(parse_xmp_coordinate("1,x,0W", LONGITUDE), None);
    }

    #[test]
    fn wraps_headings_into_a_turn() {
        assert_eq!(wrap_heading(360.0), Some(0.0));
        assert_eq!(wrap_heading(-90.0), Some(270.0));
        assert_eq!(wrap_heading(349.5), Some(349.5));
        assert_eq!(wrap_heading(f64::NAN), None);
        assert_eq!(wrap_heading(-1e-20), Some(0.0));
    }

    #[test]
    fn ignores_zero_zero_and_refuses_out_of_range() {
        let xmp_of = |lat: &str, lon: &str| {
            let packet = format!(
                "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF \
                 xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\
                 <rdf:Description xmlns:exif=\"http://ns.adobe.com/exif/1.0/\" \
                 exif:GPSLatitude=\"{lat}\" exif:GPSLongitude=\"{lon}\"/>\
                 </rdf:RDF></x:xmpmeta>"
            );
            Xmp::parse(packet.as_bytes(), &mut Vec::new())
        };
        let mut warnings = Vec::new();
        let zero = position(None, &xmp_of("0,0N", "0,0E"), None, &mut warnings);
        assert_eq!(zero, Ok(None));
        let far = position(None, &xmp_of("91,0N", "0,0E"), None, &mut warnings);
        assert!(matches!(
            far,
            Err(ReadError::InvalidValue {
                field: "latitude",
                ..
            })
        ));
        let ok = position(None, &xmp_of("48,30N", "1,30W"), None, &mut warnings);
        assert_eq!(ok, Ok(Some((48.5, -1.5))));
    }
}
