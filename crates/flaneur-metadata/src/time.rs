//! When the picture was taken. Two clocks may say it: the GPS (always UTC) and the camera
//! (local time, with an offset tag only on recent cameras). This module reads both, keeps
//! sub-seconds, and picks the instant to trust.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc};
use exif::{Context, Tag};

use crate::fields::{ExifFields, ZeroDenominator};
use crate::xmp::Xmp;

/// Warning given when the camera clock is read as UTC for lack of anything better.
pub(crate) const CAMERA_TIME_AS_UTC: &str =
    "camera time has no time zone and no gps time is available: read as utc";

/// `DateTimeOriginal` written in IFD0 rather than in the EXIF IFD (some older writers do).
const IFD0_DATE_TIME_ORIGINAL: Tag = Tag(Context::Tiff, 0x9003);

/// The camera's own clock reading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CameraTime {
    /// Local time shown by the camera, sub-seconds included.
    pub local: NaiveDateTime,
    /// Offset from UTC when a tag gives it.
    pub offset: Option<FixedOffset>,
}

/// The instant chosen and what was learnt on the way.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Capture {
    /// Best instant.
    pub at: DateTime<Utc>,
    /// The camera reading as UTC (exact with an offset, naive reading as UTC without).
    pub ts_camera: Option<DateTime<Utc>>,
    /// The camera clock gave `at`, rather than the GPS.
    pub is_camera_time: bool,
}

/// The GPS date and time, in UTC: EXIF `GPSDateStamp` + `GPSTimeStamp`, else XMP
/// `exif:GPSTimeStamp`.
pub(crate) fn gps_time(
    exif: Option<&ExifFields>,
    xmp: &Xmp,
    warnings: &mut Vec<String>,
) -> Option<DateTime<Utc>> {
    if let Some(at) = exif.and_then(|exif| exif_gps_time(exif, warnings)) {
        return Some(at.and_utc());
    }
    let (local, offset) = parse_iso(xmp.get("Xmp.exif.GPSTimeStamp")?, None)?;
    Some(camera_as_utc(CameraTime { local, offset }))
}

fn exif_gps_time(exif: &ExifFields, warnings: &mut Vec<String>) -> Option<NaiveDateTime> {
    let date = exif.text(Tag::GPSDateStamp)?;
    let Some(date) = parse_date(&date) else {
        warnings.push(format!("gps date {date:?} is unreadable"));
        return None;
    };
    let time = match exif.reals(Tag::GPSTimeStamp) {
        Some(Ok(parts)) => time_from_parts(&parts),
        Some(Err(ZeroDenominator)) => None,
        // Some writers store the time as text.
        None => exif.text(Tag::GPSTimeStamp).and_then(|t| parse_time(&t)),
    };
    let Some(time) = time else {
        warnings.push("gps time stamp is missing or unreadable".to_owned());
        return None;
    };
    Some(date.and_time(time))
}

/// The camera clock: first usable of `DateTimeOriginal` (EXIF IFD, then IFD0),
/// `DateTime`, XMP `GPano:SourceImageCreateTime` and `exif:DateTimeOriginal`.
pub(crate) fn camera_time(
    exif: Option<&ExifFields>,
    xmp: &Xmp,
    warnings: &mut Vec<String>,
) -> Option<CameraTime> {
    if let Some(exif) = exif {
        // Each date tag pairs with its own sub-second and offset tags; `OffsetTime` belongs to
        // `DateTime` (last modification) and says nothing reliable about `DateTimeOriginal`.
        let sources = [
            (
                Tag::DateTimeOriginal,
                Tag::SubSecTimeOriginal,
                Tag::OffsetTimeOriginal,
            ),
            (
                IFD0_DATE_TIME_ORIGINAL,
                Tag::SubSecTimeOriginal,
                Tag::OffsetTimeOriginal,
            ),
            (Tag::DateTime, Tag::SubSecTime, Tag::OffsetTime),
        ];
        for (date_tag, subsec_tag, offset_tag) in sources {
            let Some(text) = exif.text(date_tag) else {
                continue;
            };
            let Some(local) = parse_exif_datetime(&text) else {
                warnings.push(format!("camera date {text:?} is unreadable"));
                continue;
            };
            let subsec = exif.text(subsec_tag).and_then(|s| parse_subsec(&s));
            let local = merge_subsec(local, subsec, warnings);
            let offset = exif.text(offset_tag).and_then(|o| parse_offset(&o));
            return Some(CameraTime { local, offset });
        }
    }

    // XMP dates are ISO 8601 and may carry their offset.
    for key in [
        "Xmp.GPano.SourceImageCreateTime",
        "Xmp.exif.DateTimeOriginal",
    ] {
        let Some(text) = xmp.get(key) else { continue };
        let subsec = xmp
            .get("Xmp.exif.SubsecTimeOriginal")
            .and_then(parse_subsec);
        match parse_iso(text, subsec) {
            Some((local, offset)) => return Some(CameraTime { local, offset }),
            None => warnings.push(format!("camera date {text:?} is unreadable")),
        }
    }
    None
}

/// Picks the capture instant from the GPS and camera clocks.
///
/// GPS time wins, except when the camera time is finer (it has sub-seconds and the GPS time
/// has none) and can be placed in UTC (it has an offset, from a tag or from the time zone of
/// the position). Without that offset a finer camera clock is no help: its reading could be
/// hours off.
/// `None` when neither clock is known.
pub(crate) fn choose(
    gps: Option<DateTime<Utc>>,
    camera: Option<CameraTime>,
    warnings: &mut Vec<String>,
) -> Option<Capture> {
    let ts_camera = camera.map(camera_as_utc);
    let (at, is_camera_time) = match (gps, camera) {
        (None, None) => return None,
        (Some(gps), None) => (gps, false),
        (Some(gps), Some(camera)) => {
            let camera_is_finer = has_subsec(camera.local.time()) && !has_subsec(gps.time());
            match (camera_is_finer, camera.offset) {
                (true, Some(_)) => (camera_as_utc(camera), true),
                _ => (gps, false),
            }
        }
        (None, Some(camera)) => {
            if camera.offset.is_none() {
                warnings.push(CAMERA_TIME_AS_UTC.to_owned());
            }
            (camera_as_utc(camera), true)
        }
    };
    Some(Capture {
        at,
        ts_camera,
        is_camera_time,
    })
}

/// The camera reading in UTC: exact with an offset, the naive reading taken as UTC without.
pub(crate) fn camera_as_utc(camera: CameraTime) -> DateTime<Utc> {
    match camera.offset {
        Some(offset) => (camera.local - offset).and_utc(),
        None => camera.local.and_utc(),
    }
}

fn has_subsec(time: NaiveTime) -> bool {
    chrono::Timelike::nanosecond(&time) != 0
}

/// `YYYY:MM:DD` (EXIF) or `YYYY-MM-DD`.
fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    NaiveDate::parse_from_str(text, "%Y:%m:%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%Y-%m-%d"))
        .ok()
}

/// `HH:MM:SS` with optional decimal seconds.
fn parse_time(text: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M:%S%.f").ok()
}

/// A time of day from hours, minutes and seconds, each possibly fractional (GPS rationals).
fn time_from_parts(parts: &[f64]) -> Option<NaiveTime> {
    let [hours, minutes, seconds, ..] = parts else {
        return None;
    };
    let total = hours * 3600.0 + minutes * 60.0 + seconds;
    if !(0.0..86_400.0).contains(&total) {
        return None;
    }
    // Round to the microsecond: rationals like 1/3 s have no exact decimal form.
    let micros = (total * 1e6).round() as i64;
    let since_midnight = TimeDelta::microseconds(micros);
    Some(NaiveTime::MIN.overflowing_add_signed(since_midnight).0)
}

/// `YYYY:MM:DD HH:MM:SS` with optional decimal seconds; also accepts `-` and `T`.
pub(crate) fn parse_exif_datetime(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    [
        "%Y:%m:%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y:%m:%dT%H:%M:%S%.f",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
}

/// An XMP date: ISO 8601 with or without offset. Returns the local time and its offset.
fn parse_iso(text: &str, subsec: Option<u32>) -> Option<(NaiveDateTime, Option<FixedOffset>)> {
    let text = text.trim();
    let (local, offset) = match DateTime::parse_from_rfc3339(text) {
        Ok(at) => (at.naive_local(), Some(*at.offset())),
        Err(_) => (parse_exif_datetime(text)?, None),
    };
    let local = merge_subsec(local, subsec, &mut Vec::new());
    Some((local, offset))
}

/// Sub-seconds from `SubSecTime*` digits, as nanoseconds: `"497"` → 0.497 s, `"00"` → 0.
pub(crate) fn parse_subsec(text: &str) -> Option<u32> {
    let digits = text.trim().trim_end_matches('\0');
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Nanoseconds have nine digits; finer digits are dropped, shorter ones padded.
    let nine: String = digits
        .chars()
        .chain(std::iter::repeat('0'))
        .take(9)
        .collect();
    nine.parse().ok()
}

/// Puts sub-seconds into a time; when the date text had its own decimals too, the larger
/// wins (some writers fill one of them with zeros) and a disagreement is reported.
fn merge_subsec(
    local: NaiveDateTime,
    subsec: Option<u32>,
    warnings: &mut Vec<String>,
) -> NaiveDateTime {
    let Some(subsec) = subsec else { return local };
    let inline = chrono::Timelike::nanosecond(&local);
    if inline != 0 && subsec != 0 && inline != subsec {
        warnings.push(format!(
            "camera date has {inline} ns in its text and {subsec} ns in its sub-second tag"
        ));
    }
    chrono::Timelike::with_nanosecond(&local, inline.max(subsec)).unwrap_or(local)
}

/// `+01:00`, `-0530` or `Z`.
pub(crate) fn parse_offset(text: &str) -> Option<FixedOffset> {
    let text = text.trim();
    if text == "Z" {
        return FixedOffset::east_opt(0);
    }
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("valid test date")
            .to_utc()
    }

    fn camera(text: &str, offset: Option<&str>) -> CameraTime {
        CameraTime {
            local: parse_exif_datetime(text).expect("valid test date"),
            offset: offset.and_then(parse_offset),
        }
    }

    #[test]
    fn reads_sub_seconds_of_any_length() {
        assert_eq!(parse_subsec("497"), Some(497_000_000));
        assert_eq!(parse_subsec("00"), Some(0));
        assert_eq!(parse_subsec("057946"), Some(57_946_000));
        assert_eq!(parse_subsec("1234567891234"), Some(123_456_789));
        assert_eq!(parse_subsec(" 5 "), Some(500_000_000));
        assert_eq!(parse_subsec("ab"), None);
        assert_eq!(parse_subsec(""), None);
    }

    #[test]
    fn reads_offsets() {
        assert_eq!(
            parse_offset("+01:00").map(|o| o.local_minus_utc()),
            Some(3600)
        );
        assert_eq!(
            parse_offset("-0530").map(|o| o.local_minus_utc()),
            Some(-19_800)
        );
        assert_eq!(parse_offset("Z").map(|o| o.local_minus_utc()), Some(0));
        assert_eq!(parse_offset("   :  "), None);
    }

    #[test]
    fn reads_gps_rationals_with_fractional_seconds() {
        let time = time_from_parts(&[7.0, 56.0, 34.25]).expect("valid time");
        assert_eq!(time.to_string(), "07:56:34.250");
        assert_eq!(time_from_parts(&[24.0, 0.0, 0.0]), None);
        assert_eq!(time_from_parts(&[7.0, 56.0]), None);
    }

    #[test]
    fn rejects_blank_camera_dates() {
        assert_eq!(parse_exif_datetime("0000:00:00 00:00:00"), None);
        assert_eq!(parse_exif_datetime("    :  :     :  :  "), None);
        assert!(parse_exif_datetime("2015:05:04 13:08:52.00").is_some());
    }

    #[test]
    fn prefers_gps_time_over_an_offsetless_camera_clock() {
        // GoPro Max: camera two hours ahead with no offset tag, GPS right.
        let gps = utc("2021-07-29T09:16:54Z");
        let cam = camera("2021:07:29 11:16:42", None);
        let capture = choose(Some(gps), Some(cam), &mut Vec::new()).expect("some time");
        assert_eq!(capture.at, gps);
        let cam = camera("2021:07:29 11:16:42.5", None);
        let capture = choose(Some(gps), Some(cam), &mut Vec::new()).expect("some time");
        assert_eq!(capture.at, gps);
    }

    #[test]
    fn prefers_a_finer_camera_clock_with_offset() {
        let gps = utc("2023-12-18T13:32:30Z");
        let cam = camera("2023:12:18 14:32:47.497", Some("+01:00"));
        let capture = choose(Some(gps), Some(cam), &mut Vec::new()).expect("some time");
        assert_eq!(capture.at, utc("2023-12-18T13:32:47.497Z"));
        assert_eq!(capture.ts_camera, Some(capture.at));
    }

    #[test]
    fn reads_an_offsetless_camera_clock_as_utc_with_a_warning() {
        let mut warnings = Vec::new();
        let cam = camera("2015:05:04 13:08:52", None);
        let capture = choose(None, Some(cam), &mut warnings).expect("some time");
        assert_eq!(capture.at, utc("2015-05-04T13:08:52Z"));
        assert_eq!(warnings, [CAMERA_TIME_AS_UTC]);
        assert_eq!(choose(None, None, &mut warnings), None);
    }

    #[test]
    fn keeps_the_larger_of_inline_and_tagged_sub_seconds() {
        let local = parse_exif_datetime("2015:05:04 13:08:52.25").expect("valid");
        let mut warnings = Vec::new();
        let merged = merge_subsec(local, Some(0), &mut warnings);
        assert_eq!(merged.to_string(), "2015-05-04 13:08:52.250");
        assert!(warnings.is_empty());
        merge_subsec(local, Some(300_000_000), &mut warnings);
        assert_eq!(warnings.len(), 1);
    }
}
