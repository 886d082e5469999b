//! Dispatch: turning the pictures of a completed upload set into sequences.
//!
//! The plan is computed by pure functions ([`plan`]) so that the rules can be tested without
//! storage: sort, split on time and distance gaps, drop near-duplicates, title the sequences
//! and fill missing headings from the track. [`Services::dispatch`] loads the pictures and
//! writes the plan in one catalog transaction.

use std::collections::HashMap;
use std::f64::consts::PI;

use flaneur_model::{DispatchSettings, Picture, SortMethod, UploadSetId};
use flaneur_store::{DispatchPlan, PlannedDuplicate, PlannedPicture, PlannedSequence};
use tracing::info;

use crate::{Error, Result, Services};

/// Mean Earth radius in metres, the value haversine distances usually take.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Great-circle distance between two points, in metres.
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lon1, lat1) = (a.0.to_radians(), a.1.to_radians());
    let (lon2, lat2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().asin()
}

/// Initial bearing from `a` to `b`, degrees clockwise from north in `[0, 360)`.
pub fn bearing_deg(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lon1, lat1) = (a.0.to_radians(), a.1.to_radians());
    let (lon2, lat2) = (b.0.to_radians(), b.1.to_radians());
    let y = (lon2 - lon1).sin() * lat2.cos();
    let x = lat1.cos() * lat2.sin() - lat1.sin() * lat2.cos() * (lon2 - lon1).cos();
    normalize_deg(y.atan2(x) * 180.0 / PI)
}

fn normalize_deg(d: f64) -> f64 {
    let d = d.rem_euclid(360.0);
    if d >= 360.0 { 0.0 } else { d }
}

/// Smallest angle between two headings, in degrees.
fn angle_between(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(360.0);
    d.min(360.0 - d)
}

/// Sorts pictures as the upload set asks.
pub fn sort(pictures: &mut [Picture], method: SortMethod) {
    match method {
        SortMethod::TimeAsc | SortMethod::TimeDesc => {
            pictures.sort_by(|a, b| {
                a.base
                    .captured_at
                    .cmp(&b.base.captured_at)
                    .then_with(|| a.base.file_name.cmp(&b.base.file_name))
            });
        }
        SortMethod::FilenameAsc | SortMethod::FilenameDesc => {
            // Numbered files (1.jpg, 2.jpg, 10.jpg) sort by number, as people expect; any
            // other name makes the whole set sort as text.
            let numbers: Option<Vec<u64>> = pictures
                .iter()
                .map(|p| stem(&p.base.file_name).parse().ok())
                .collect();
            match numbers {
                Some(_) => pictures.sort_by_key(|p| stem(&p.base.file_name).parse::<u64>().ok()),
                None => pictures.sort_by(|a, b| a.base.file_name.cmp(&b.base.file_name)),
            }
        }
    }
    if matches!(method, SortMethod::TimeDesc | SortMethod::FilenameDesc) {
        pictures.reverse();
    }
}

fn stem(file_name: &str) -> &str {
    file_name.rsplit_once('.').map_or(file_name, |(s, _)| s)
}

/// Splits sorted pictures where consecutive ones are too far apart in time or space.
pub fn split(pictures: Vec<Picture>, settings: &DispatchSettings) -> Vec<Vec<Picture>> {
    let mut groups: Vec<Vec<Picture>> = Vec::new();
    for picture in pictures {
        let starts_new = match groups.last().and_then(|g| g.last()) {
            None => true,
            Some(_) if settings.no_split => false,
            Some(prev) => {
                let gap = (picture.base.captured_at - prev.base.captured_at).abs();
                let gap_secs = gap.num_milliseconds() as f64 / 1000.0;
                let dist = distance_m(
                    (prev.base.lon, prev.base.lat),
                    (picture.base.lon, picture.base.lat),
                );
                gap_secs > settings.split_time_secs || dist > settings.split_distance_m
            }
        };
        match groups.last_mut() {
            Some(group) if !starts_new => group.push(picture),
            _ => groups.push(vec![picture]),
        }
    }
    groups
}

/// Removes near-duplicates from a sequence: a picture within `duplicate_distance_m` of an
/// earlier kept one, looking the same way (or either heading unknown), is dropped.
///
/// Kept pictures are indexed in a grid of cells about `duplicate_distance_m` wide, so each
/// picture is compared with its neighbours only, not with the whole sequence.
pub fn deduplicate(
    pictures: Vec<Picture>,
    settings: &DispatchSettings,
) -> (Vec<Picture>, Vec<PlannedDuplicate>) {
    if settings.no_deduplication || settings.duplicate_distance_m <= 0.0 {
        return (pictures, Vec::new());
    }
    // Cells are squares of about `duplicate_distance_m`. Longitudes are scaled by the cosine
    // of one latitude for the whole sequence (its first picture): with each picture's own
    // latitude, two pictures a metre apart far from Greenwich could land cells apart.
    let cell_deg = (settings.duplicate_distance_m / 111_320.0).max(1e-9);
    let lon_scale = pictures
        .first()
        .map_or(1.0, |p| p.base.lat.to_radians().cos().max(0.01));
    let cell_of = |p: &Picture| {
        (
            (p.base.lon * lon_scale / cell_deg).floor() as i64,
            (p.base.lat / cell_deg).floor() as i64,
        )
    };

    let mut kept: Vec<Picture> = Vec::with_capacity(pictures.len());
    let mut grid: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
    let mut dropped = Vec::new();
    for picture in pictures {
        let (cx, cy) = cell_of(&picture);
        let twin = (cx - 1..=cx + 1)
            .flat_map(|x| (cy - 1..=cy + 1).map(move |y| (x, y)))
            .filter_map(|cell| grid.get(&cell))
            .flatten()
            .map(|&i| &kept[i])
            .find_map(|other| {
                let dist = distance_m(
                    (other.base.lon, other.base.lat),
                    (picture.base.lon, picture.base.lat),
                );
                if dist > settings.duplicate_distance_m {
                    return None;
                }
                let angle = match (other.base.heading_deg, picture.base.heading_deg) {
                    (Some(a), Some(b)) if !other.heading_computed && !picture.heading_computed => {
                        Some(angle_between(a, b))
                    }
                    _ => None,
                };
                match angle {
                    Some(a) if a > settings.duplicate_rotation_deg => None,
                    _ => Some((other.base.id, dist, angle)),
                }
            });
        match twin {
            Some((of, dist, angle)) => dropped.push(PlannedDuplicate {
                id: picture.base.id,
                details: serde_json::json!({
                    "duplicate_of": of,
                    "distance": (dist * 100.0).round() / 100.0,
                    "angle": angle.map(|a| a.round()),
                }),
            }),
            None => {
                grid.entry((cx, cy)).or_default().push(kept.len());
                kept.push(picture);
            }
        }
    }
    (kept, dropped)
}

/// Headings for a sequence: a picture without one looks along the track (towards the next
/// picture, or from the previous one for the last), turned by the relative heading.
pub fn headings(pictures: &[Picture], relative_heading_deg: Option<f64>) -> Vec<PlannedPicture> {
    let relative = relative_heading_deg.unwrap_or(0.0);
    let point = |p: &Picture| (p.base.lon, p.base.lat);
    (0..pictures.len())
        .map(|i| {
            let p = &pictures[i];
            let own = p.base.heading_deg.filter(|_| !p.heading_computed);
            if let Some(h) = own {
                return PlannedPicture {
                    id: p.base.id,
                    heading_deg: Some(h),
                    heading_computed: false,
                };
            }
            let track = if i + 1 < pictures.len() {
                Some(bearing_deg(point(p), point(&pictures[i + 1])))
            } else if i > 0 {
                Some(bearing_deg(point(&pictures[i - 1]), point(p)))
            } else {
                None
            };
            let heading = match (track, relative_heading_deg) {
                (Some(t), _) => Some(normalize_deg(t + relative)),
                (None, Some(r)) => Some(normalize_deg(r)),
                (None, None) => None,
            };
            PlannedPicture {
                id: p.base.id,
                heading_deg: heading,
                heading_computed: heading.is_some(),
            }
        })
        .collect()
}

/// The 90th percentile of the pictures' position errors (nearest rank), when any is known: the
/// error most of the sequence stays within.
pub fn accuracy_p90(pictures: &[Picture]) -> Option<f64> {
    flaneur_store::track::accuracy_p90(
        pictures
            .iter()
            .filter_map(|p| p.base.details.gps_accuracy_m),
    )
}

/// Length of the track through pictures in their order, in kilometres.
pub fn track_length_km(pictures: &[Picture]) -> f64 {
    let length_m: f64 = pictures
        .windows(2)
        .map(|w| {
            distance_m(
                (w[0].base.lon, w[0].base.lat),
                (w[1].base.lon, w[1].base.lat),
            )
        })
        .sum();
    length_m / 1000.0
}

/// The whole dispatch of an upload set's pictures.
pub fn plan(
    mut pictures: Vec<Picture>,
    settings: &DispatchSettings,
    title: &str,
    relative_heading_deg: Option<f64>,
) -> DispatchPlan {
    sort(&mut pictures, settings.sort_method);
    let groups = split(pictures, settings);

    let mut plan = DispatchPlan::default();
    let mut kept_groups = Vec::with_capacity(groups.len());
    for group in groups {
        let (kept, dropped) = deduplicate(group, settings);
        plan.duplicates.extend(dropped);
        if !kept.is_empty() {
            kept_groups.push(kept);
        }
    }

    let several = kept_groups.len() > 1;
    for (n, group) in (1..).zip(kept_groups) {
        plan.sequences.push(PlannedSequence {
            title: if several {
                format!("{title}-{n}")
            } else {
                title.to_owned()
            },
            sorted_by: settings.sort_method.as_collection_sort().to_owned(),
            pictures: headings(&group, relative_heading_deg),
            length_km: track_length_km(&group),
            gps_accuracy_m: accuracy_p90(&group),
        });
    }
    plan
}

impl Services {
    /// Runs the dispatch of an upload set: plans its sequences and writes them.
    ///
    /// # Errors
    /// Fails when the upload set is gone or the catalog cannot be written.
    pub async fn dispatch(&self, id: UploadSetId) -> Result<()> {
        let set = self
            .catalog
            .upload_set(id)
            .await?
            .ok_or_else(|| Error::UploadSetNotFound(id.to_string()))?;
        let settings = set.dispatch_settings(&self.dispatch_defaults);
        let pictures = self.catalog.upload_set_pictures(id).await?;
        let count = pictures.len();
        let plan = plan(
            pictures,
            &settings,
            &set.spec.title,
            set.spec.relative_heading_deg,
        );
        let (sequences, duplicates) = (plan.sequences.len(), plan.duplicates.len());
        self.catalog.apply_dispatch(id, plan).await?;
        info!(upload_set.id = %id, pictures = count, sequences, duplicates, "upload set dispatched");
        if duplicates > 0 {
            self.wake_workers();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, Utc};
    use flaneur_model::{
        AccountId, NewPicture, PictureDetails, PictureId, PictureStatus, Projection, UploadSetId,
        Visibility,
    };

    use super::*;

    fn picture(name: &str, t: DateTime<Utc>, lon: f64, lat: f64, heading: Option<f64>) -> Picture {
        Picture {
            base: NewPicture {
                id: PictureId::new(),
                upload_set_id: Some(UploadSetId::new()),
                account_id: AccountId::new(),
                visibility: Visibility::Anyone,
                captured_at: t,
                utc_offset_secs: None,
                lon,
                lat,
                heading_deg: heading,
                projection: Projection::Flat,
                width: 10,
                height: 10,
                orientation: 1,
                content_md5: String::new(),
                file_name: name.to_owned(),
                size_bytes: 1,
                is_blurred: false,
                details: PictureDetails::default(),
            },
            status: PictureStatus::WaitingForProcess,
            heading_computed: false,
            sequence_id: None,
            rank: None,
            created_at: t,
            updated_at: t,
            process_error: None,
            origin: None,
        }
    }

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_600_000_000, 0).unwrap_or_default()
    }

    #[test]
    fn splits_on_time_and_distance_gaps() {
        let s = DispatchSettings::default();
        let pics = vec![
            picture("a.jpg", t0(), 2.0, 48.0, Some(0.0)),
            picture(
                "b.jpg",
                t0() + Duration::seconds(10),
                2.0001,
                48.0,
                Some(0.0),
            ),
            // 10 minutes later: new sequence.
            picture(
                "c.jpg",
                t0() + Duration::seconds(610),
                2.0002,
                48.0,
                Some(0.0),
            ),
            // 1 km away: new sequence.
            picture(
                "d.jpg",
                t0() + Duration::seconds(612),
                2.0140,
                48.0,
                Some(0.0),
            ),
        ];
        let plan = plan(pics, &s, "walk", None);
        let sizes: Vec<usize> = plan.sequences.iter().map(|s| s.pictures.len()).collect();
        assert_eq!(sizes, [2, 1, 1]);
        let titles: Vec<&str> = plan.sequences.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(titles, ["walk-1", "walk-2", "walk-3"]);
    }

    #[test]
    fn no_split_keeps_one_sequence() {
        let s = DispatchSettings {
            no_split: true,
            ..DispatchSettings::default()
        };
        let pics = vec![
            picture("a.jpg", t0(), 2.0, 48.0, None),
            picture("b.jpg", t0() + Duration::hours(5), 3.0, 48.0, None),
        ];
        let plan = plan(pics, &s, "one", None);
        assert_eq!(plan.sequences.len(), 1);
        assert_eq!(plan.sequences[0].title, "one");
    }

    #[test]
    fn drops_later_near_duplicate_looking_the_same_way() {
        let s = DispatchSettings::default();
        let a = picture("a.jpg", t0(), 2.0, 48.0, Some(10.0));
        let b = picture(
            "b.jpg",
            t0() + Duration::seconds(1),
            2.000001,
            48.0,
            Some(20.0),
        );
        let c = picture(
            "c.jpg",
            t0() + Duration::seconds(2),
            2.000002,
            48.0,
            Some(190.0),
        );
        let (a_id, b_id) = (a.base.id, b.base.id);
        let plan = plan(vec![c, b, a], &s, "t", None);
        assert_eq!(plan.duplicates.len(), 1);
        assert_eq!(plan.duplicates[0].id, b_id);
        assert_eq!(
            plan.duplicates[0].details["duplicate_of"],
            serde_json::json!(a_id)
        );
        assert_eq!(plan.sequences[0].pictures.len(), 2);
    }

    #[test]
    fn finds_duplicates_far_from_greenwich() {
        let s = DispatchSettings::default();
        // About 0.9 m apart north-south at 151° E, 45° S, looking the same way.
        let mut dropped = 0;
        for i in 0..50 {
            let lat = -45.0 + f64::from(i) * 0.0001;
            let a = picture("a.jpg", t0(), 151.2, lat, Some(10.0));
            let b = picture(
                "b.jpg",
                t0() + Duration::seconds(1),
                151.2,
                lat + 0.000008,
                Some(10.0),
            );
            dropped += plan(vec![a, b], &s, "t", None).duplicates.len();
        }
        assert_eq!(dropped, 50);
    }

    #[test]
    fn fills_missing_headings_from_the_track() {
        let s = DispatchSettings::default();
        let pics = vec![
            picture("1.jpg", t0(), 2.0, 48.0, None),
            picture("2.jpg", t0() + Duration::seconds(1), 2.0, 48.0001, None),
            picture(
                "3.jpg",
                t0() + Duration::seconds(2),
                2.0001,
                48.0001,
                Some(42.0),
            ),
        ];
        let plan = plan(pics, &s, "t", Some(90.0));
        let h: Vec<Option<f64>> = plan.sequences[0]
            .pictures
            .iter()
            .map(|p| p.heading_deg.map(f64::round))
            .collect();
        // North then turned right by 90°, east then +90°, and the camera's own heading kept.
        assert_eq!(h, [Some(90.0), Some(180.0), Some(42.0)]);
    }

    #[test]
    fn sorts_numbered_file_names_as_numbers() {
        let mut pics = vec![
            picture("10.jpg", t0(), 0.0, 0.0, None),
            picture("9.jpg", t0(), 0.0, 0.0, None),
            picture("100.jpg", t0(), 0.0, 0.0, None),
        ];
        sort(&mut pics, SortMethod::FilenameAsc);
        let names: Vec<&str> = pics.iter().map(|p| p.base.file_name.as_str()).collect();
        assert_eq!(names, ["9.jpg", "10.jpg", "100.jpg"]);
        sort(&mut pics, SortMethod::FilenameDesc);
        assert_eq!(pics[0].base.file_name, "100.jpg");
    }

    #[test]
    fn distance_and_bearing_are_sane() {
        let d = distance_m((2.0, 48.0), (2.0, 49.0));
        assert!((d - 111_195.0).abs() < 50.0, "{d}");
        assert!((bearing_deg((2.0, 48.0), (3.0, 48.0)) - 89.6).abs() < 0.5);
    }
}
