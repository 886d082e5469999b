//! The metadata of one picture as the reader gives it to the rest of Flâneur.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use flaneur_model::{Crop, Projection};
use serde::Serialize;

use crate::time::{self, CameraTime};

/// Which tag gave the heading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HeadingSource {
    /// EXIF `GPSImgDirection`: where the camera looked.
    GpsImgDirection,
    /// EXIF `GPSTrack`: where the camera was moving.
    GpsTrack,
    /// XMP `GPano:PoseHeadingDegrees`: the panorama's centre direction.
    #[serde(rename = "gpano_pose_heading")]
    GPanoPoseHeading,
}

/// A picture's metadata, read from its JPEG header.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PictureMetadata {
    /// Latitude, WGS84 degrees.
    pub lat: f64,
    /// Longitude, WGS84 degrees.
    pub lon: f64,
    /// The best capture instant, with sub-seconds when a clock gives them.
    pub captured_at: DateTime<Utc>,
    /// Offset of local time at the capture, in seconds east of UTC, when a tag gives it.
    pub utc_offset_secs: Option<i32>,
    /// The GPS clock.
    pub ts_gps: Option<DateTime<Utc>>,
    /// The camera clock in UTC; when the camera gives no offset, its reading taken as UTC.
    pub ts_camera: Option<DateTime<Utc>>,
    /// The camera clock as shown by the camera (local time, no zone).
    pub camera_local_time: Option<NaiveDateTime>,
    /// Direction the camera faced, degrees clockwise from north, in [0, 360).
    pub heading_deg: Option<f64>,
    /// Which tag gave `heading_deg`.
    pub heading_source: Option<HeadingSource>,
    /// Camera maker.
    pub make: Option<String>,
    /// Camera model, without the maker's name in front.
    pub model: Option<String>,
    /// Pixel width as stored in the JPEG frame header, before orientation.
    pub width: u32,
    /// Pixel height as stored in the JPEG frame header, before orientation.
    pub height: u32,
    /// EXIF orientation, 1 to 8; 1 when absent.
    pub orientation: u16,
    /// Flat or 360°.
    pub projection: Projection,
    /// Where a panorama sits in its sphere, in the GPano tags' pixel space.
    pub crop: Option<Crop>,
    /// Focal length in millimetres.
    pub focal_length_mm: Option<f64>,
    /// Horizontal field of view in degrees (360 for full spheres).
    pub field_of_view_deg: Option<f64>,
    /// Altitude in metres above sea level.
    pub altitude_m: Option<f64>,
    /// Camera pitch, degrees.
    pub pitch_deg: Option<f64>,
    /// Camera roll, degrees.
    pub roll_deg: Option<f64>,
    /// Camera yaw, degrees.
    pub yaw_deg: Option<f64>,
    /// Horizontal accuracy of the position in metres, when tags give or imply it.
    pub gps_accuracy_m: Option<f64>,
    /// Author, from EXIF `Artist`.
    pub artist: Option<String>,
    /// Rights holder, from EXIF `Copyright`.
    pub copyright: Option<String>,
    /// Every readable EXIF and XMP tag under exiv2 keys (`Exif.Image.Make`,
    /// `Xmp.GPano.ProjectionType`), without maker notes and binary blobs.
    pub tags: BTreeMap<String, String>,
    /// What looked wrong but did not stop the reading.
    pub warnings: Vec<String>,
}

impl PictureMetadata {
    /// Width and height as displayed: swapped for orientations 5 to 8 (quarter turns).
    pub fn display_size(&self) -> (u32, u32) {
        if (5..=8).contains(&self.orientation) {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        }
    }

    /// Places an offsetless camera clock in the time zone found for the position, and picks
    /// the capture instant again with it.
    ///
    /// Does nothing when a tag already gave the offset or the offset is out of range.
    pub fn apply_zone_offset(&mut self, utc_offset_secs: i32) {
        if self.utc_offset_secs.is_some() {
            return;
        }
        let Some(offset) = FixedOffset::east_opt(utc_offset_secs) else {
            return;
        };
        let camera = self.camera_local_time.map(|local| CameraTime {
            local,
            offset: Some(offset),
        });
        let mut warnings = Vec::new();
        let Some(capture) = time::choose(self.ts_gps, camera, &mut warnings) else {
            return;
        };
        self.captured_at = capture.at;
        self.ts_camera = capture.ts_camera;
        self.utc_offset_secs = Some(utc_offset_secs);
        self.warnings.retain(|w| w != time::CAMERA_TIME_AS_UTC);
    }
}
