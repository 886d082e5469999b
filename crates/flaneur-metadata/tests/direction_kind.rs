//! Which way a picture looks and what kind it is: the order of heading sources (EXIF
//! direction, GPS track, GPano pose, DJI gimbal and flight yaws) and GPano panoramas, full,
//! cropped top and bottom, or partial. Files are remade by `tests/data/make-hostile.sh`; the
//! DJI values are those xpcomment.jpg (a Mini 3 Pro 360°) carries.

use std::path::PathBuf;

use flaneur_metadata::{HeadingSource, PictureMetadata};
use flaneur_model::{Crop, Projection};

fn read(name: &str) -> PictureMetadata {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests/data/direction_kind",
        name,
    ]
    .iter()
    .collect();
    let bytes = std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    flaneur_metadata::read(&bytes).unwrap_or_else(|err| panic!("{name}: {err}"))
}

fn heading(name: &str) -> (f64, HeadingSource) {
    let meta = read(name);
    let deg = meta
        .heading_deg
        .unwrap_or_else(|| panic!("{name} has no heading"));
    (deg, meta.heading_source.expect("a source with the heading"))
}

#[test]
fn takes_headings_in_the_documented_order() {
    // GPSImgDirection 360 (and a track of 90): the direction wins, and 360 wraps to 0.
    assert_eq!(
        heading("img-direction.jpg"),
        (0.0, HeadingSource::GpsImgDirection)
    );
    // GPSTrack before the GPano pose.
    assert_eq!(heading("track.jpg"), (90.5, HeadingSource::GpsTrack));
    // GPano pose 370 wraps to 10.
    assert_eq!(
        heading("gpano-pose.jpg"),
        (10.0, HeadingSource::GPanoPoseHeading)
    );
}

#[test]
fn reads_dji_gimbal_then_flight_yaw() {
    let (deg, source) = heading("dji-gimbal.jpg");
    assert!(
        (deg - 236.9).abs() < 1e-9,
        "-123.1 should turn into 236.9, got {deg}"
    );
    assert_eq!(source, HeadingSource::DroneGimbalYaw);
    assert_eq!(
        heading("dji-flight.jpg"),
        (180.0, HeadingSource::DroneFlightYaw)
    );
}

#[test]
fn reads_the_drone_360_of_the_shared_pictures() {
    let Some(home) = std::env::var_os("HOME") else {
        return;
    };
    let path = PathBuf::from(home).join(".cache/flaneur/testdata/pictures/xpcomment.jpg");
    // The shared pictures are not in the repository; tests/pictures says when they are
    // missing, so this one just has nothing to check.
    let Ok(bytes) = std::fs::read(&path) else {
        return;
    };
    let meta = flaneur_metadata::read(&bytes).expect("xpcomment.jpg reads");
    // exiftool: XMP-drone-dji:GimbalYawDegree -123.1, no GPS direction or track.
    let deg = meta.heading_deg.expect("the gimbal yaw");
    assert!((deg - 236.9).abs() < 1e-9, "{deg}");
    assert_eq!(meta.heading_source, Some(HeadingSource::DroneGimbalYaw));
    assert_eq!(meta.projection, Projection::Equirectangular);
    assert_eq!(meta.field_of_view_deg, Some(360.0));
}

fn crop(meta: &PictureMetadata) -> Crop {
    meta.crop.expect("GPano crop tags")
}

#[test]
fn reads_a_full_sphere() {
    let meta = read("pano-full.jpg");
    assert_eq!(meta.projection, Projection::Equirectangular);
    assert!(crop(&meta).is_full());
    assert_eq!(meta.field_of_view_deg, Some(360.0));
}

#[test]
fn reads_a_sphere_cropped_top_and_bottom() {
    let meta = read("pano-vertical-crop.jpg");
    assert_eq!(meta.projection, Projection::Equirectangular);
    assert_eq!(crop(&meta).visible_area(), [0, 1024, 0, 2048]);
    // All the way around: still 360° wide.
    assert_eq!(meta.field_of_view_deg, Some(360.0));
}

#[test]
fn reads_a_partial_panorama_as_equirectangular_with_its_visible_area() {
    // 2048 of 8192 columns: a quarter of the turn. It stays equirectangular, placed by its
    // visible area, which the reference viewer shows as a partial sphere; as flat, its
    // straight-looking rows would be curves.
    let meta = read("pano-partial.jpg");
    assert_eq!(meta.projection, Projection::Equirectangular);
    assert_eq!(crop(&meta).visible_area(), [3072, 1536, 3072, 1536]);
    assert_eq!(meta.field_of_view_deg, Some(90.0));
}

#[test]
fn refuses_a_crop_past_the_seam() {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests/data/direction_kind/pano-past-seam.jpg",
    ]
    .iter()
    .collect();
    let bytes = std::fs::read(path).expect("crafted file");
    let err = flaneur_metadata::read(&bytes).expect_err("left + width > full width");
    assert_eq!(err.kind(), "invalid_value");
}

#[test]
fn takes_an_uncropped_cylindrical_panorama_as_flat() {
    let meta = read("cylindrical-uncropped.jpg");
    assert_eq!(meta.projection, Projection::Flat);
    assert_eq!(meta.crop, None);
}
