//! Pixels of Flâneur pictures: JPEG decoding, EXIF orientation, and the derivatives served
//! beside each original (thumbnail, SD copy, 360° tiles).
//!
//! The crate turns bytes into bytes and keeps no state. Reading metadata (is it 360°, which
//! orientation) belongs to `flaneur-metadata`; storing the files and scheduling the work belong
//! to the service layer.
//!
//! ```no_run
//! use flaneur_imaging::{DerivativeSpec, make_derivatives};
//! use flaneur_model::Projection;
//!
//! let jpeg = std::fs::read("1.jpg")?;
//! let spec = DerivativeSpec { projection: Projection::Equirectangular, orientation: 1 };
//! let derivatives = make_derivatives(&jpeg, &spec)?;
//! assert_eq!(derivatives.tiles.len(), 32);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod decode;
mod derivative;
mod encode;
mod error;
mod orientation;
mod pixels;
mod resize;
mod tile;

pub use decode::{MAX_PIXELS, MAX_SIDE_PX};
pub use derivative::{
    DerivativeSpec, Derivatives, PANO_THUMB_HEIGHT, SD_WIDTH, THUMB_WIDTH, make_derivatives,
    thumbnail_only,
};
pub use error::{ImagingError, Result};
pub use tile::Tile;
