//! The time zone of a position, found offline in bundled boundary data, and the offsets it
//! gives: for reading an offsetless camera clock, and for showing a GPS instant in local time.
//! Choosing which clock to trust is left to the `time` module.
//!
//! Boundaries come from the `tzf-rs` lite data set (OpenStreetMap boundaries by
//! timezone-boundary-builder, ODbL), the rules of each zone from `chrono-tz` (IANA tz
//! database). Seas are covered by nautical zones (`Etc/GMT+2`), as in the reference reader's
//! timezonefinder, so a zone is found almost everywhere.

use std::sync::LazyLock;

use chrono::{DateTime, FixedOffset, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use tzf_rs::EmbeddedFinder;

/// The boundary finder, built on first use.
///
/// `EmbeddedFinder` reads the bundled bytes in place: it opens in about 4 ms and a lookup
/// takes about 0.4 µs. `DefaultFinder` answers in about 0.2 µs but spends 200 ms and more
/// memory expanding the polygons first, which a reader called once per upload never wins
/// back. `None` when the bundled data does not load, which only a broken build can cause.
static FINDER: LazyLock<Option<EmbeddedFinder>> =
    LazyLock::new(|| EmbeddedFinder::from_tzb(tzf_dist::load_lite_tzb()).ok());

/// The zone at a WGS84 position; `None` when the data has none there, or names a zone the
/// tz database does not know (the two data sets are released separately).
pub(crate) fn at(lat: f64, lon: f64) -> Option<Tz> {
    let name = FINDER.as_ref()?.get_tz_name(lon, lat);
    name.parse().ok()
}

/// Whether `zone` is a nautical zone, given at sea, rather than a country's.
pub(crate) fn is_nautical(zone: Tz) -> bool {
    zone.name().starts_with("Etc/")
}

/// The offset of `zone` for a reading of its local clock.
///
/// A reading in the hour repeated when clocks go back takes the first (summer) offset; one in
/// the hour skipped when they go forward, which no correct clock shows, takes the offset in
/// force at that instant read as UTC, so that the reading still lands near the change.
pub(crate) fn offset_of_local(zone: Tz, local: NaiveDateTime) -> FixedOffset {
    match zone.offset_from_local_datetime(&local).earliest() {
        Some(offset) => offset.fix(),
        None => zone.offset_from_utc_datetime(&local).fix(),
    }
}

/// The offset of `zone` at an instant, in seconds east of UTC.
pub(crate) fn offset_at(zone: Tz, at: DateTime<Utc>) -> i32 {
    zone.offset_from_utc_datetime(&at.naive_utc())
        .fix()
        .local_minus_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").expect("valid test time")
    }

    #[test]
    fn finds_zones_on_land_and_at_sea() {
        assert_eq!(at(49.006_89, 1.919_19), Some(Tz::Europe__Paris));
        assert_eq!(at(50.870_7, -1.526_1), Some(Tz::Europe__London));
        assert_eq!(at(47.56, 7.59), Some(Tz::Europe__Zurich));
        let atlantic = at(40.0, -30.0).expect("nautical zone");
        assert_eq!(atlantic.name(), "Etc/GMT+2");
        assert!(is_nautical(atlantic));
        assert!(!is_nautical(Tz::Europe__Paris));
    }

    #[test]
    fn gives_summer_and_winter_offsets() {
        let summer = DateTime::parse_from_rfc3339("2021-07-29T09:16:54Z").expect("valid");
        assert_eq!(offset_at(Tz::Europe__Paris, summer.to_utc()), 7200);
        let winter = DateTime::parse_from_rfc3339("2023-12-18T13:32:30Z").expect("valid");
        assert_eq!(offset_at(Tz::Europe__Paris, winter.to_utc()), 3600);
    }

    #[test]
    fn reads_local_clocks_around_changes() {
        let paris = Tz::Europe__Paris;
        let offset = |text| offset_of_local(paris, local(text)).local_minus_utc();
        assert_eq!(offset("2015-04-25 15:37:48"), 7200);
        // 02:30 happens twice on 2023-10-29: the first, summer one is taken.
        assert_eq!(offset("2023-10-29 02:30:00"), 7200);
        // 02:30 never happens on 2023-03-26; 02:30 UTC is already summer time.
        assert_eq!(offset("2023-03-26 02:30:00"), 7200);
    }
}
