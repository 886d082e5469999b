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
    /// `MAPCompassHeading.TrueHeading` in Mapillary's JSON `ImageDescription`.
    MapillaryCompass,
    /// DJI XMP `drone-dji:GimbalYawDegree`: where the drone's camera gimbal pointed.
    DroneGimbalYaw,
    /// DJI XMP `drone-dji:FlightYawDegree`: where the drone's nose pointed.
    DroneFlightYaw,
}

/// Largest picture, in pixels, that the server should decode: 150 megapixels, enough for a
/// 16384×8192 panorama (134 MP). The same figure as `flaneur_imaging::MAX_PIXELS`, which this
/// crate cannot name (it sits below the imaging crate); change both together.
///
/// A frame header announces up to 65535×65535 pixels in a few bytes, so check
/// [`PictureMetadata::fits_pixel_budget`] before any decoding.
pub const MAX_PIXELS: u64 = 150_000_000;

/// A picture's metadata, read from its JPEG header.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PictureMetadata {
    /// Latitude, WGS84 degrees.
    pub lat: f64,
    /// Longitude, WGS84 degrees.
    pub lon: f64,
    /// The best capture instant, with sub-seconds when a clock gives them.
    pub captured_at: DateTime<Utc>,
    /// Offset of local time at the capture, in seconds east of UTC: the camera clock's when
    /// it gave the instant, else that of `time_zone` at the instant, else the camera's tag.
    pub utc_offset_secs: Option<i32>,
    /// IANA name of the time zone at the position (`Europe/Paris`; `Etc/GMT+2` at sea), from
    /// the bundled boundaries; `None` when none is known there.
    pub time_zone: Option<String>,
    /// Offset the camera clock was read with, in seconds east of UTC: from its offset tag,
    /// else from `time_zone` at that reading; `None` when neither is known.
    pub camera_utc_offset_secs: Option<i32>,
    /// The GPS clock.
    pub ts_gps: Option<DateTime<Utc>>,
    /// The camera clock in UTC; when no offset is known for it, its reading taken as UTC.
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
    /// Focal length in millimetres, from the tags or, when they lack it, the camera table.
    pub focal_length_mm: Option<f64>,
    /// Sensor width in millimetres, from the camera table.
    pub sensor_width_mm: Option<f64>,
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
    /// Horizontal accuracy of the position in metres: from the GPS tags, else the camera
    /// table, else the usual figure for the maker's kind of device (survey rig, action
    /// camera, phone).
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
    /// Pixels in the frame, as the header announces them: what decoding would allocate for,
    /// times the bytes per pixel.
    pub fn pixel_count(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }

    /// Whether the picture is small enough to decode: at most [`MAX_PIXELS`].
    pub fn fits_pixel_budget(&self) -> bool {
        self.pixel_count() <= MAX_PIXELS
    }

    /// Width and height as displayed: swapped for orientations 5 to 8 (quarter turns).
    pub fn display_size(&self) -> (u32, u32) {
        if (5..=8).contains(&self.orientation) {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        }
    }

    /// Places the capture in a time zone the caller knows when the reader found none for
    /// the position: reads an offsetless camera clock with that offset, picks the capture
    /// instant again, and sets `utc_offset_secs`.
    ///
    /// Does nothing when the camera clock already has an offset (from a tag or from the time
    /// zone of the position), when a time zone was found, or when the offset is out of range.
    pub fn apply_zone_offset(&mut self, utc_offset_secs: i32) {
        if self.camera_utc_offset_secs.is_some() || self.time_zone.is_some() {
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
        if self.camera_local_time.is_some() {
            self.camera_utc_offset_secs = Some(utc_offset_secs);
        }
        self.warnings.retain(|w| w != time::CAMERA_TIME_AS_UTC);
    }
}
