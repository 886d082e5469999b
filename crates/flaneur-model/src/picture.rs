//! Pictures (STAC items): what the catalog keeps about each accepted file.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::federation::Origin;
use crate::{AccountId, ParseEnumError, PictureId, SequenceId, UploadSetId, Visibility};

/// Where a picture is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PictureStatus {
    /// Accepted, derivatives not made yet.
    WaitingForProcess,
    /// A worker is making its derivatives.
    Preparing,
    /// Derivatives exist; the picture is served.
    Ready,
    /// Processing failed for good.
    Broken,
    /// Dropped by dispatch (near-duplicate); its files are being removed.
    WaitingForDelete,
}

impl PictureStatus {
    /// The wire and database name.
    pub fn as_str(&self) -> &'static str {
        match self {
            PictureStatus::WaitingForProcess => "waiting-for-process",
            PictureStatus::Preparing => "preparing",
            PictureStatus::Ready => "ready",
            PictureStatus::Broken => "broken",
            PictureStatus::WaitingForDelete => "waiting-for-delete",
        }
    }
}

impl fmt::Display for PictureStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PictureStatus {
    type Err = ParseEnumError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            PictureStatus::WaitingForProcess,
            PictureStatus::Preparing,
            PictureStatus::Ready,
            PictureStatus::Broken,
            PictureStatus::WaitingForDelete,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
        .ok_or_else(|| ParseEnumError {
            kind: "picture status",
            value: s.to_owned(),
            expected: "waiting-for-process, preparing, ready, broken, waiting-for-delete",
        })
    }
}

/// How the picture maps to directions around the camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Projection {
    /// An ordinary picture.
    #[default]
    Flat,
    /// A 360° (or partial) equirectangular panorama.
    Equirectangular,
}

impl Projection {
    /// The wire name (`flat`, `equirectangular`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Projection::Flat => "flat",
            Projection::Equirectangular => "equirectangular",
        }
    }
}

impl FromStr for Projection {
    type Err = ParseEnumError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Projection::Flat, Projection::Equirectangular]
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| ParseEnumError {
                kind: "projection",
                value: s.to_owned(),
                expected: "flat, equirectangular",
            })
    }
}

/// Where a cropped panorama sits inside its full 360°×180° sphere, in pixels (XMP GPano).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Crop {
    /// Width of the full panorama.
    pub full_width: u32,
    /// Height of the full panorama.
    pub full_height: u32,
    /// Width of the stored image.
    pub width: u32,
    /// Height of the stored image.
    pub height: u32,
    /// Left edge of the stored image in the full panorama.
    pub left: u32,
    /// Top edge of the stored image in the full panorama.
    pub top: u32,
}

impl Crop {
    /// `[left, top, right margin, bottom margin]`, the STAC `visible_area`.
    pub fn visible_area(&self) -> [i64; 4] {
        let right = i64::from(self.full_width) - i64::from(self.left) - i64::from(self.width);
        let bottom = i64::from(self.full_height) - i64::from(self.top) - i64::from(self.height);
        [i64::from(self.left), i64::from(self.top), right, bottom]
    }

    /// Whether the crop covers the whole sphere.
    pub fn is_full(&self) -> bool {
        self.visible_area() == [0, 0, 0, 0]
    }
}

/// The grid of tiles a 360° picture is cut into for the viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TileGrid {
    /// Number of tile columns.
    pub cols: u32,
    /// Number of tile rows.
    pub rows: u32,
    /// Width of one tile in pixels.
    pub tile_width: u32,
    /// Height of one tile in pixels.
    pub tile_height: u32,
}

impl TileGrid {
    /// The grid for an equirectangular picture of the given size: about 512 px per column,
    /// rounded down to a power of two between 4 and 64 columns, and half as many rows (the
    /// limit of the viewer's sphere renderer).
    pub fn for_size(width: u32, height: u32) -> TileGrid {
        let ideal = (width / 512) & !1;
        let ideal = ideal.clamp(4, 64);
        let cols = [64, 32, 16, 8, 4]
            .into_iter()
            .find(|c| *c <= ideal)
            .unwrap_or(4);
        let rows = cols / 2;
        TileGrid {
            cols,
            rows,
            tile_width: width / cols,
            tile_height: height / rows,
        }
    }

    /// Whether `(col, row)` names a tile of this grid.
    pub fn contains(&self, col: u32, row: u32) -> bool {
        col < self.cols && row < self.rows
    }
}

/// Everything known about a picture when it is accepted, before it gets a sequence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewPicture {
    /// Its identifier.
    pub id: PictureId,
    /// The upload set it came in; `None` for a picture harvested from a peer, read back from
    /// the catalog (see [`Picture::origin`]).
    pub upload_set_id: Option<UploadSetId>,
    /// Its owner.
    pub account_id: AccountId,
    /// Who may see it.
    pub visibility: Visibility,
    /// The capture instant.
    pub captured_at: DateTime<Utc>,
    /// Offset of the local time zone at the capture place, in seconds east of UTC.
    pub utc_offset_secs: Option<i32>,
    /// Longitude, WGS84 degrees.
    pub lon: f64,
    /// Latitude, WGS84 degrees.
    pub lat: f64,
    /// Direction the camera looked at, degrees clockwise from north.
    pub heading_deg: Option<f64>,
    /// 360° or flat.
    pub projection: Projection,
    /// Pixel width as displayed (orientation applied).
    pub width: u32,
    /// Pixel height as displayed (orientation applied).
    pub height: u32,
    /// EXIF orientation (1 to 8).
    pub orientation: u16,
    /// MD5 of the original bytes, lowercase hex.
    pub content_md5: String,
    /// Name of the uploaded file.
    pub file_name: String,
    /// Size of the uploaded file in bytes.
    pub size_bytes: u64,
    /// Whether the contributor said faces and plates are already blurred.
    pub is_blurred: bool,
    /// The rest of what the metadata reader found.
    pub details: PictureDetails,
}

/// What the metadata reader found beyond position, time and heading, kept for the item's
/// properties.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PictureDetails {
    /// Camera maker.
    pub make: Option<String>,
    /// Camera model, without the maker's name repeated.
    pub model: Option<String>,
    /// Focal length in millimetres.
    pub focal_length_mm: Option<f64>,
    /// Horizontal field of view in degrees (360 for a full panorama).
    pub field_of_view_deg: Option<f64>,
    /// Where a cropped panorama sits in its sphere.
    pub crop: Option<Crop>,
    /// Altitude in metres above sea level.
    pub altitude_m: Option<f64>,
    /// Camera pitch in degrees.
    pub pitch_deg: Option<f64>,
    /// Camera roll in degrees.
    pub roll_deg: Option<f64>,
    /// Camera yaw in degrees.
    pub yaw_deg: Option<f64>,
    /// Estimated position error in metres.
    pub gps_accuracy_m: Option<f64>,
    /// Author named in the file.
    pub artist: Option<String>,
    /// Copyright notice in the file.
    pub copyright: Option<String>,
    /// Capture instant according to the GPS.
    pub captured_at_gps: Option<DateTime<Utc>>,
    /// Capture instant according to the camera clock.
    pub captured_at_camera: Option<DateTime<Utc>>,
    /// Which tag the heading came from.
    pub heading_source: Option<String>,
    /// Doubts the reader had (missing heading, assumed time zone...).
    pub warnings: Vec<String>,
    /// Every tag of the file, keyed as `Exif.Image.Make`, `Xmp.GPano.ProjectionType`...
    pub exif: std::collections::BTreeMap<String, String>,
}

/// A picture as stored in the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Picture {
    /// What was known at upload time.
    #[serde(flatten)]
    pub base: NewPicture,
    /// Processing state.
    pub status: PictureStatus,
    /// Whether the heading was computed from the track rather than read from the file.
    pub heading_computed: bool,
    /// The sequence it belongs to, once dispatched.
    pub sequence_id: Option<SequenceId>,
    /// Its rank in that sequence, from 1.
    pub rank: Option<i64>,
    /// When it was accepted.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Why processing failed, when it did.
    pub process_error: Option<String>,
    /// The peer it was harvested from, `None` for a picture of this instance. A remote picture
    /// has no upload set, file or derivatives here, and is read-only: `base` holds what the
    /// peer said (see [`Origin`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

impl NewPicture {
    /// The camera as Panoramax names it: `make model`, without repeating a make the model
    /// already starts with.
    pub fn camera_model(&self) -> Option<String> {
        camera_model(self.details.make.as_deref(), self.details.model.as_deref())
    }

    /// Pixels per degree of horizontal field of view, when the field of view is known.
    pub fn h_pixel_density(&self) -> Option<i64> {
        h_pixel_density(self.width, self.details.field_of_view_deg)
    }
}

/// See [`NewPicture::camera_model`]; for callers holding the two tags only.
pub fn camera_model(make: Option<&str>, model: Option<&str>) -> Option<String> {
    match (make, model) {
        (Some(make), Some(model)) if model.to_lowercase().starts_with(&make.to_lowercase()) => {
            Some(model.to_owned())
        }
        (Some(make), Some(model)) => Some(format!("{make} {model}")),
        (make, model) => make.or(model).map(str::to_owned),
    }
}

/// See [`NewPicture::h_pixel_density`]; for callers holding the two values only.
pub fn h_pixel_density(width: u32, field_of_view_deg: Option<f64>) -> Option<i64> {
    let fov = field_of_view_deg.filter(|f| *f > 0.0)?;
    Some((f64::from(width) / fov).round() as i64)
}

impl Picture {
    /// The tile grid of a 360° picture, `None` for a flat one.
    pub fn tile_grid(&self) -> Option<TileGrid> {
        match self.base.projection {
            Projection::Equirectangular => {
                Some(TileGrid::for_size(self.base.width, self.base.height))
            }
            Projection::Flat => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_grid_matches_reference_examples() {
        let g = TileGrid::for_size(5760, 2880);
        assert_eq!(
            (g.cols, g.rows, g.tile_width, g.tile_height),
            (8, 4, 720, 720)
        );
        let g = TileGrid::for_size(8192, 4096);
        assert_eq!((g.cols, g.rows, g.tile_width), (16, 8, 512));
        let g = TileGrid::for_size(11008, 5504);
        assert_eq!((g.cols, g.rows, g.tile_width), (16, 8, 688));
        let g = TileGrid::for_size(1000, 500);
        assert_eq!((g.cols, g.rows), (4, 2));
    }

    #[test]
    fn crop_reports_visible_area() {
        let crop = Crop {
            full_width: 8000,
            full_height: 4000,
            width: 6000,
            height: 2000,
            left: 1000,
            top: 500,
        };
        assert_eq!(crop.visible_area(), [1000, 500, 1000, 1500]);
        assert!(!crop.is_full());
    }
}
