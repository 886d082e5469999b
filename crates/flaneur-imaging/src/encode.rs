//! JPEG encoding of derivatives: the qualities and chroma subsampling we store, and why.
//!
//! Storage is the project's main cost, so these settings are chosen by measured bytes; see
//! `TILE_QUALITY` for the figures.

use turbojpeg::{Compressor, Image, Subsamp};

use crate::error::{ImagingError, Result};

/// Encoder settings of one kind of derivative.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JpegSettings {
    quality: i32,
    subsamp: Subsamp,
}

/// Thumbnail and SD: quality 75 with 4:2:0 chroma, what the reference server writes, so both
/// servers serve look-alike files of about the same weight.
pub(crate) const PREVIEW: JpegSettings = JpegSettings {
    quality: 75,
    subsamp: Subsamp::Sub2x2,
};

/// 360° tiles: quality 80 with 4:2:0 chroma.
///
/// The reference server writes tiles at quality 95, which makes them outweigh the original.
/// Measured on the five GoPro Max test pictures (5760x2880, 3.25-3.34 MB each, 32 tiles of
/// 720x720), tile bytes as a share of the original and PSNR against the decoded original:
///
/// | quality | 4:2:0 | 4:2:2 | 4:4:4 |
/// |---|---|---|---|
/// | 75      | 56-73%, 38.1-39.1 dB | 59-76%, 38.6-39.5 dB | 64-82%, 38.7-39.6 dB |
/// | 80      | 63-81%, 40.0-40.3 dB | 66-84%, 40.7-40.9 dB | 72-91%, 40.8-41.0 dB |
/// | 85      | 73-92%, 42.2-42.5 dB | 77-95%, 43.1-43.4 dB | 84-103%, 43.2-43.5 dB |
/// | 90      | 88-110%, 44.6-45.4 dB | 92-114%, 46.0-46.9 dB | 100-122%, 46.0-47.0 dB |
/// | 95      | 121-146%, 47.4-48.9 dB | 125-150%, 49.4-50.9 dB | 135-163%, 50.1-51.2 dB |
///
/// On `1.jpg` (3,296,115 B): 4.0 MB of tiles at 95, 2.9 MB at 90, 2.4 MB at 85, 2.07 MB at 80.
/// With the SD copy and thumbnail (about 9% more), quality 85 already reaches the original's
/// weight on busy scenes, while 80 keeps all derivatives at 72-90% of it. Around 40 dB the
/// difference does not show at the zoom levels where the viewer loads full-resolution tiles, and
/// the original stays available for anyone who wants every pixel.
///
/// 4:2:0 rather than 4:2:2 (the cameras' own choice): keeping vertical chroma costs 5% more bytes
/// for 0.5 dB, while spending those bytes on luma (a higher quality) gains more, and the eye is
/// least sensitive to colour detail. It also matches the thumbnail and SD encoding.
pub(crate) const TILE: JpegSettings = JpegSettings {
    quality: 80,
    subsamp: Subsamp::Sub2x2,
};

/// A JPEG encoder set up for one kind of derivative; reused across images to keep its buffers.
pub(crate) struct Encoder {
    compressor: Compressor,
}

impl Encoder {
    /// An encoder writing with `settings`.
    ///
    /// # Errors
    /// [`ImagingError::Encode`] when libjpeg-turbo cannot allocate its state.
    pub(crate) fn new(settings: JpegSettings, derivative: &str) -> Result<Encoder> {
        let err = |source| ImagingError::Encode {
            derivative: derivative.to_owned(),
            source,
        };
        let mut compressor = Compressor::new().map_err(err)?;
        compressor.set_quality(settings.quality).map_err(err)?;
        compressor.set_subsamp(settings.subsamp).map_err(err)?;
        Ok(Encoder { compressor })
    }

    /// Encodes `image`; `derivative` names it in errors.
    ///
    /// # Errors
    /// [`ImagingError::Encode`] when libjpeg-turbo fails.
    pub(crate) fn encode(&mut self, image: Image<&[u8]>, derivative: &str) -> Result<Vec<u8>> {
        self.compressor
            .compress_to_vec(image)
            .map_err(|source| ImagingError::Encode {
                derivative: derivative.to_owned(),
                source,
            })
    }
}
