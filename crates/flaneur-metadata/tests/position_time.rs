//! Positions in every encoding met in the wild and clocks that disagree, read from the small
//! JPEGs in `tests/data/position_time/` (remade by `tests/data/make-position-time.sh`).

use chrono::{DateTime, Utc};
use flaneur_metadata::{
    HeadingSource, MissingField, PictureMetadata, ReadError, ReadOptions, read_with,
};

/// The instant the tests read at, so that "the future" does not move.
fn now() -> DateTime<Utc> {
    utc("2025-01-01T00:00:00Z")
}

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("valid test instant")
        .to_utc()
}

fn bytes(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/data/position_time/{name}.jpg",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|err| panic!("{path}: {err}"))
}

fn read_at(name: &str, now: DateTime<Utc>) -> Result<PictureMetadata, ReadError> {
    read_with(&bytes(name), &ReadOptions { now })
}

fn read(name: &str) -> PictureMetadata {
    read_at(name, now()).unwrap_or_else(|err| panic!("{name}: {err}"))
}

fn has_warning(meta: &PictureMetadata, words: &[&str]) -> bool {
    meta.warnings
        .iter()
        .any(|w| words.iter().all(|word| w.contains(word)))
}

#[test]
fn reads_positions_in_every_encoding() {
    // (file, latitude, longitude, words of an expected warning)
    let cases: &[(&str, f64, f64, Option<&[&str]>)] = &[
        ("pos-dms", 48.8566, 2.3522, None),
        ("pos-south-west", -34.6037, -58.3816, None),
        // Signed rationals are negative once, whatever the letter says.
        ("pos-signed-sw", -34.6037, -58.3816, None),
        (
            "pos-signed-ne",
            -34.6037,
            -58.3816,
            Some(&["negative", "read as S"]),
        ),
        (
            "pos-signed-no-ref",
            -34.6037,
            -58.3816,
            Some(&["missing", "assumed W"]),
        ),
        (
            "pos-no-ref",
            48.8566,
            2.3522,
            Some(&["latitude reference", "assumed N"]),
        ),
        ("pos-one-rational", 48.8566, 2.3522, None),
        ("pos-zero-seconds", 48.85, 2.35, Some(&["0/0", "read as 0"])),
        ("pos-xmp-minutes", 48.8566, 2.3522, None),
        ("pos-mapillary", 45.764_043, 4.835_659, None),
    ];
    for &(name, lat, lon, warning) in cases {
        let meta = read(name);
        assert!((meta.lat - lat).abs() < 1e-6, "{name}: lat {}", meta.lat);
        assert!((meta.lon - lon).abs() < 1e-6, "{name}: lon {}", meta.lon);
        match warning {
            Some(words) => assert!(has_warning(&meta, words), "{name}: {:?}", meta.warnings),
            None => assert!(
                !meta.warnings.iter().any(|w| w.starts_with("gps")),
                "{name}: {:?}",
                meta.warnings
            ),
        }
    }
}

#[test]
fn refuses_broken_positions_with_a_reason() {
    let missing = [MissingField::Location];
    for name in ["pos-null-island", "pos-zero-degrees"] {
        let err = read_at(name, now()).expect_err(name);
        assert_eq!(err.missing_fields(), missing, "{name}");
        assert_eq!(err.kind(), "missing_fields", "{name}");
    }
    let err = read_at("pos-out-of-range", now()).expect_err("latitude 95");
    assert_eq!(err.kind(), "invalid_value");
    assert_eq!(
        err.to_string(),
        "picture has an invalid latitude: 95 is outside [-90, 90]"
    );
}

#[test]
fn reads_what_mapillary_leaves_in_the_description() {
    let meta = read("pos-mapillary");
    assert_eq!(meta.captured_at, utc("2021-06-15T08:30:12.345Z"));
    assert_eq!(meta.heading_deg, Some(271.5));
    assert_eq!(meta.heading_source, Some(HeadingSource::MapillaryCompass));
    assert_eq!(meta.make.as_deref(), Some("Apple"));
    assert_eq!(meta.model.as_deref(), Some("iPhone 12"));
}

#[test]
fn places_clocks_in_utc() {
    // (file, capture instant, offset of local time in seconds)
    let cases = [
        // The GPS date is already June 2nd in UTC: not a day off.
        ("time-gps-next-day", "2024-06-02T00:30:00Z", -4 * 3600),
        (
            "time-offset-kathmandu",
            "2024-03-10T06:15:00Z",
            5 * 3600 + 45 * 60,
        ),
        (
            "time-offset-newfoundland",
            "2024-01-15T12:30:00Z",
            -(3 * 3600 + 30 * 60),
        ),
        ("time-zone-of-position", "2024-01-15T11:00:00Z", 3600),
    ];
    for (name, at, offset) in cases {
        let meta = read(name);
        assert_eq!(meta.captured_at, utc(at), "{name}");
        assert_eq!(meta.utc_offset_secs, Some(offset), "{name}");
        assert!(
            !has_warning(&meta, &["discarded"]),
            "{name}: {:?}",
            meta.warnings
        );
    }
    let next_day = read("time-gps-next-day");
    assert_eq!(next_day.ts_camera, next_day.ts_gps);
}

#[test]
fn drops_a_broken_clock_for_the_plausible_one() {
    // (file, capture instant, words of the warning naming the dropped clock)
    let cases: [(&str, &str, &[&str]); 4] = [
        (
            "time-camera-1970",
            "2024-04-04T09:30:06Z",
            &["camera time 1970", "before 1990"],
        ),
        (
            "time-gps-1980",
            "2024-04-04T09:30:06Z",
            &["gps time 1980", "before 1990"],
        ),
        (
            "time-gps-rollover",
            "2024-04-04T09:30:06Z",
            &["gps time 2004", "rollover"],
        ),
        (
            "time-camera-future",
            "2024-04-04T09:30:06Z",
            &["camera time 2031", "after"],
        ),
    ];
    for (name, at, words) in cases {
        let meta = read(name);
        assert_eq!(meta.captured_at, utc(at), "{name}");
        assert!(has_warning(&meta, words), "{name}: {:?}", meta.warnings);
        assert!(
            has_warning(&meta, &["discarded"]),
            "{name}: {:?}",
            meta.warnings
        );
        // The dropped clock is not kept as if it were a reading.
        let gps_dropped = words[0].starts_with("gps");
        assert_eq!(meta.ts_gps.is_none(), gps_dropped, "{name}");
        assert_eq!(meta.ts_camera.is_none(), !gps_dropped, "{name}");
    }
}

#[test]
fn refuses_pictures_without_a_plausible_clock() {
    for name in ["time-only-1970", "time-only-future"] {
        let err = read_at(name, now()).expect_err(name);
        assert_eq!(err.kind(), "implausible_time", "{name}");
        assert_eq!(err.missing_fields(), [MissingField::Datetime], "{name}");
        assert!(
            err.message()
                .starts_with("No valid date in picture EXIF tags ("),
            "{name}: {}",
            err.message()
        );
    }
    // The future is relative to the caller's now; `read` takes the system clock's.
    let later = read_at("time-only-future", utc("2100-01-01T00:00:00Z")).expect("past by then");
    assert_eq!(later.captured_at, utc("2099-01-01T12:00:00Z"));
    let err = flaneur_metadata::read(&bytes("time-only-future")).expect_err("2099");
    assert_eq!(err.kind(), "implausible_time");

    let err = read_at("time-none", now()).expect_err("no clock");
    assert_eq!(err.kind(), "missing_fields");
    assert_eq!(err.missing_fields(), [MissingField::Datetime]);
}

#[test]
fn keeps_the_order_of_pictures_within_one_second() {
    for prefix in ["time-subsec", "time-gps-decimal"] {
        let times: Vec<DateTime<Utc>> = ["10", "50", "90"]
            .iter()
            .map(|sub| read(&format!("{prefix}-{sub}")).captured_at)
            .collect();
        let expected: Vec<DateTime<Utc>> = ["10", "50", "90"]
            .iter()
            .map(|sub| utc(&format!("2024-04-04T09:30:06.{sub}Z")))
            .collect();
        assert_eq!(times, expected, "{prefix}");
    }
}
