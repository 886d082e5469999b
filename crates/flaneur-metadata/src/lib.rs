//! Reads what a street-level picture says about itself — where, when, which way, with which
//! camera, flat or 360° — from its JPEG header, without decoding pixels.
//!
//! [`read`] takes the file's bytes (or just its header, see [`header_end`]) and gives a
//! [`PictureMetadata`] with warnings, or a [`ReadError`] naming what is missing or broken. The
//! rules follow the Panoramax reference reader (geopic-tag-reader) for common cameras.
//! Camera-table lookups (sensor widths, 360° models) and time-zone lookups from the position
//! are left to the callers: see [`PictureMetadata::apply_zone_offset`].
//!
//! ```
//! let err = flaneur_metadata::read(b"not a picture").unwrap_err();
//! assert_eq!(err.kind(), "not_jpeg");
//! ```

mod camera;
mod error;
mod fields;
mod gps;
mod metadata;
mod pano;
mod reader;
mod segment;
mod time;
mod xmp;

pub use error::{MissingField, ReadError};
pub use metadata::{HeadingSource, PictureMetadata};
pub use reader::read;
pub use segment::{HeaderScan, header_end};

/// Result of this crate's fallible functions.
pub type Result<T, E = ReadError> = std::result::Result<T, E>;
