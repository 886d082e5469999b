//! Reads what a street-level picture says about itself — where, when, which way, with which
//! camera, flat or 360° — from its JPEG header, without decoding pixels.
//!
//! [`read`] takes the file's bytes (or just its header, see [`header_end`]) and gives a
//! [`PictureMetadata`] with warnings, or a [`ReadError`] naming what is missing or broken. The
//! rules follow the Panoramax reference reader (geopic-tag-reader) for common cameras.
//!
//! Two bundled data sets fill in what tags leave out, with no network access:
//! - the reference reader's camera table (geopic-tag-reader 1.11.0, MIT), for sensor widths,
//!   default focal lengths and fields of view, GPS accuracy and which models shoot 360°;
//! - time-zone boundaries (tzf-rs lite data from timezone-boundary-builder, © OpenStreetMap
//!   contributors, ODbL) and the IANA rules (chrono-tz), to read a camera clock that has no
//!   offset tag in the zone of the position, and to give GPS instants their local offset.
//!
//! One rule differs from the reference reader on purpose: a 2:1 picture without panorama
//! tags is a 360° sphere only when the camera table knows its camera shoots spheres. The
//! reference also takes 2:1 pictures from unknown cameras as spheres, which turns flat
//! pictures cropped to 2:1 into broken spheres; here they stay flat, with a warning.
//!
//! ```
//! let err = flaneur_metadata::read(b"not a picture").unwrap_err();
//! assert_eq!(err.kind(), "not_jpeg");
//! ```

mod accuracy;
mod camera;
mod camera_table;
mod direction;
mod error;
mod fields;
mod gps;
mod mapillary;
mod metadata;
mod pano;
mod reader;
mod segment;
mod time;
mod writer;
mod xmp;
mod zone;

pub use error::{MissingField, ReadError};
pub use metadata::{HeadingSource, MAX_PIXELS, PictureMetadata};
pub use reader::{read, read_with};
pub use segment::{HeaderScan, header_end};
pub use time::ReadOptions;
pub use writer::{RewrittenJpeg, TagOverrides, WriteError, write_overrides};

/// Result of this crate's fallible functions.
pub type Result<T, E = ReadError> = std::result::Result<T, E>;
