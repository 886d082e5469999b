//! When the picture was taken. Two clocks may say it: the GPS (always UTC) and the camera
//! (local time, with an offset tag only on recent cameras). This module reads both, keeps
//! sub-seconds, and picks the instant to trust.

use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc,
};
use exif::{Context, Tag};

use crate::fields::{ExifFields, ZeroDenominator};
use crate::mapillary::Mapillary;
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
/// `exif:GPSTimeStamp`, else Mapillary's `MAPGpsTime`.
///
/// The date stamp is the UTC date, which is the camera's next (or previous) day in the
/// evening west of Greenwich (or the morning east of it): it is read as it is, never moved
/// to the camera's local date.
pub(crate) fn gps_time(
    exif: Option<&ExifFields>,
    xmp: &Xmp,
    mapillary: Option<&Mapillary>,
    warnings: &mut Vec<String>,
) -> Option<DateTime<Utc>> {
    if let Some(at) = exif.and_then(|exif| exif_gps_time(exif, warnings)) {
        return Some(at.and_utc());
    }
    let from_xmp = xmp
        .get("Xmp.exif.GPSTimeStamp")
        .and_then(|text| parse_iso(text, None));
    if let Some((local, offset)) = from_xmp {
        return Some(camera_as_utc(CameraTime { local, offset }));
    }
    mapillary?.gps_time
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
/// `DateTime`, XMP `GPano:SourceImageCreateTime` and `exif:DateTimeOriginal`, then
/// Mapillary's `MAPCaptureTime` (UTC, as Mapillary's tools write it).
pub(crate) fn camera_time(
    exif: Option<&ExifFields>,
    xmp: &Xmp,
    mapillary: Option<&Mapillary>,
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
    let at = mapillary?.capture_time?;
    Some(CameraTime {
        local: at.naive_utc(),
        offset: FixedOffset::east_opt(0),
    })
}

/// How [`read_with`](crate::read_with) reads a picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    /// The present instant: a clock reading later than this (by more than a day, the most
    /// an offsetless camera clock read as UTC can be ahead) is taken as broken.
    pub now: DateTime<Utc>,
}

impl Default for ReadOptions {
    /// Options with `now` the current system time.
    fn default() -> Self {
        Self { now: Utc::now() }
    }
}

/// Digital cameras with clocks appeared around then; an earlier reading (often 1970, the
/// Unix epoch, or 1980, the GPS epoch) is a clock that was never set.
const FIRST_PLAUSIBLE_YEAR: i32 = 1990;

/// The GPS week number wraps every 1024 weeks; a receiver that misses the wrap reports
/// dates exactly that long before the true one.
const GPS_WEEK_ROLLOVER: TimeDelta = TimeDelta::days(7 * 1024);

/// How far the clocks may be from exactly one rollover apart: a camera clock without its
/// time zone can be up to a day off.
const ROLLOVER_SLACK: TimeDelta = TimeDelta::days(1);

/// How far in the future a reading may be: an offsetless camera clock read as UTC in the
/// zones east of Greenwich is up to 14 hours ahead.
const FUTURE_SLACK: TimeDelta = TimeDelta::days(1);

/// The two clocks once the clearly broken ones are dropped.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) struct Clocks {
    /// The GPS clock, UTC.
    pub gps: Option<DateTime<Utc>>,
    /// The camera clock, placed in its zone when one is known.
    pub camera: Option<CameraTime>,
}

/// One clock's reading in UTC while [`drop_implausible`] judges it.
#[derive(Clone, Copy)]
struct Reading {
    name: &'static str,
    at: DateTime<Utc>,
    is_kept: bool,
}

/// Drops each clock that is clearly broken — before 1990, in the future relative to `now`,
/// or exactly one GPS week rollover (1024 weeks) before the other clock — with a warning
/// naming it, so that a plausible clock wins over a broken one.
///
/// # Errors
/// Why no clock is left, when every clock present was broken. Absent clocks are no error
/// here: the caller reports them as missing.
pub(crate) fn drop_implausible(
    clocks: Clocks,
    now: DateTime<Utc>,
    warnings: &mut Vec<String>,
) -> Result<Clocks, String> {
    let reading = |name, at| Reading {
        name,
        at,
        is_kept: true,
    };
    let mut gps = clocks.gps.map(|at| reading("gps time", at));
    let mut camera = clocks
        .camera
        .map(|c| reading("camera time", camera_as_utc(c)));
    let mut reasons = Vec::new();

    // 1. Each clock on its own.
    for clock in gps.iter_mut().chain(camera.iter_mut()) {
        let why = if clock.at.year() < FIRST_PLAUSIBLE_YEAR {
            format!("is before {FIRST_PLAUSIBLE_YEAR}")
        } else if clock.at > now + FUTURE_SLACK {
            format!("is after the time of reading ({})", now.to_rfc3339())
        } else {
            continue;
        };
        clock.is_kept = false;
        reasons.push(format!("{} {} {why}", clock.name, clock.at.to_rfc3339()));
    }

    // 2. The two against each other: the earlier one missed a GPS week rollover. Both are
    // plausible on their own, and either may be the broken one (cameras set their clock
    // from the GPS too).
    if let (Some(g), Some(c)) = (gps.as_mut(), camera.as_mut())
        && g.is_kept
        && c.is_kept
    {
        let (earlier, later) = if g.at < c.at { (g, c) } else { (c, g) };
        if (later.at - earlier.at - GPS_WEEK_ROLLOVER).abs() <= ROLLOVER_SLACK {
            earlier.is_kept = false;
            reasons.push(format!(
                "{} {} is 1024 weeks (a gps week rollover) before the {}",
                earlier.name,
                earlier.at.to_rfc3339(),
                later.name
            ));
        }
    }

    let is_kept = |clock: Option<Reading>| clock.is_some_and(|c| c.is_kept);
    let kept = Clocks {
        gps: clocks.gps.filter(|_| is_kept(gps)),
        camera: clocks.camera.filter(|_| is_kept(camera)),
    };
    if kept.gps.is_none() && kept.camera.is_none() && !reasons.is_empty() {
        return Err(reasons.join("; "));
    }
    for reason in reasons {
        warnings.push(format!("{reason}: discarded"));
    }
    Ok(kept)
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
    fn drops_clocks_that_are_clearly_broken() {
        let now = utc("2025-01-01T00:00:00Z");
        let good = utc("2024-04-04T09:30:06Z");
        let cam = |text: &str| Some(camera(text, Some("+00:00")));
        let cases = [
            // (gps, camera, kept gps, kept camera)
            (Some(good), cam("1970:01:01 00:00:00"), true, false),
            (
                Some(utc("1989-12-31T23:59:59Z")),
                cam("2024:04:04 09:30:06"),
                false,
                true,
            ),
            (
                Some(utc("2004-08-19T09:30:06Z")),
                cam("2024:04:04 09:30:06"),
                false,
                true,
            ),
            (Some(good), cam("2004:08:19 09:30:06"), true, false),
            (Some(good), cam("2025:01:02 12:00:00"), true, false),
            // A day ahead at most is a clock read in the wrong zone, not a broken one.
            (Some(good), cam("2025:01:01 13:00:00"), true, true),
            // 1024 weeks and three days apart: no rollover.
            (
                Some(utc("2004-08-16T09:30:06Z")),
                cam("2024:04:04 09:30:06"),
                true,
                true,
            ),
        ];
        for (gps, camera, kept_gps, kept_camera) in cases {
            let mut warnings = Vec::new();
            let clocks = Clocks { gps, camera };
            let kept = drop_implausible(clocks, now, &mut warnings).expect("one clock left");
            assert_eq!(kept.gps.is_some(), kept_gps, "{clocks:?}");
            assert_eq!(kept.camera.is_some(), kept_camera, "{clocks:?}");
            assert_eq!(warnings.len(), usize::from(!(kept_gps && kept_camera)));
        }
    }

    #[test]
    fn names_every_broken_clock_when_none_is_left() {
        let clocks = Clocks {
            gps: Some(utc("1980-01-06T00:00:00Z")),
            camera: Some(camera("2030:01:01 00:00:00", None)),
        };
        let now = utc("2025-01-01T00:00:00Z");
        let reason = drop_implausible(clocks, now, &mut Vec::new()).expect_err("both broken");
        assert!(reason.contains("gps time 1980"), "{reason}");
        assert!(reason.contains("camera time 2030"), "{reason}");
        let none = drop_implausible(Clocks::default(), now, &mut Vec::new());
        assert_eq!(none, Ok(Clocks::default()));
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
