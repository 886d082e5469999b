//! JPEG decoding: header checks, the memory guard and DCT-domain scaled decoding to RGB.
//!
//! This module decides nothing about derivative sizes; callers say how wide the decoded picture
//! must stay at least, and it picks the cheapest scale that keeps that many pixels.

use turbojpeg::{Colorspace, DecompressHeader, Decompressor, PixelFormat, ScalingFactor};

use crate::error::{ImagingError, Result};
use crate::pixels::Rgb;

/// Longest side accepted. JPEG allows 65,535 px, but no camera or stitcher we serve writes more
/// than 16,384 px on a side, and a larger side is only seen in crafted files.
pub const MAX_SIDE_PX: usize = 30_000;

/// Largest area accepted: 150 megapixels, enough for a 16384x8192 panorama (134 MP). Its RGB
/// buffer is 450 MB, twice that when a rotation is applied: the most one worker should take.
/// The header can announce this size in a few hundred bytes, so the check comes before any
/// allocation.
pub const MAX_PIXELS: usize = 150_000_000;

/// Progressive scans allowed. Real encoders write about ten; a crafted file with thousands of
/// tiny scans makes the decoder loop for minutes over the same pixels.
const MAX_SCANS: u32 = 100;

/// Decoder warnings after which the pixels are still whole. libjpeg-turbo reports warnings as
/// failures; stray bytes between segments (written by some camera firmware) and a damaged ICC
/// profile (which we do not use) leave the image data intact, while any other warning (a
/// truncated file, corrupt entropy data) leaves grey or smeared areas, so those are refused.
const HARMLESS_WARNINGS: [&str; 2] = ["extraneous bytes before marker", "bad ICC marker"];

/// The header of a JPEG that passed the size and colour-space checks.
pub(crate) struct Header {
    inner: DecompressHeader,
}

impl Header {
    /// Stored width in pixels, before orientation.
    pub(crate) fn width(&self) -> usize {
        self.inner.width
    }

    /// Stored height in pixels, before orientation.
    pub(crate) fn height(&self) -> usize {
        self.inner.height
    }
}

/// Reads and checks the header without decoding pixels.
///
/// # Errors
/// [`ImagingError::Decode`] when the bytes have no readable JPEG header,
/// [`ImagingError::TooLarge`] above [`MAX_SIDE_PX`] or [`MAX_PIXELS`],
/// [`ImagingError::UnsupportedColorspace`] for CMYK and YCCK.
pub(crate) fn read_header(jpeg: &[u8]) -> Result<Header> {
    let inner = turbojpeg::read_header(jpeg).map_err(|source| ImagingError::Decode { source })?;

    let (width, height) = (inner.width, inner.height);
    if width > MAX_SIDE_PX || height > MAX_SIDE_PX || width.saturating_mul(height) > MAX_PIXELS {
        return Err(ImagingError::TooLarge {
            width,
            height,
            max_side_px: MAX_SIDE_PX,
            max_megapixels: MAX_PIXELS / 1_000_000,
        });
    }

    // libjpeg-turbo decodes CMYK and YCCK only to CMYK pixels, and a correct conversion needs
    // the ICC profile; such files are print artwork, not camera pictures.
    if matches!(inner.colorspace, Colorspace::CMYK | Colorspace::YCCK) {
        return Err(ImagingError::UnsupportedColorspace {
            colorspace: format!("{:?}", inner.colorspace),
        });
    }
    Ok(Header { inner })
}

/// The smallest DCT scale (1/8, 1/4, 1/2 or 1) that keeps `stored_side` at `min_side` px or
/// more. Scaling in the DCT domain skips most of the inverse transform, so a 1/2 decode costs
/// about half of a full one (36 ms instead of 65 ms on a 5760x2880 picture).
pub(crate) fn scale_for(stored_side: usize, min_side: usize) -> ScalingFactor {
    [
        ScalingFactor::ONE_EIGHTH,
        ScalingFactor::ONE_QUARTER,
        ScalingFactor::ONE_HALF,
    ]
    .into_iter()
    .find(|factor| factor.scale(stored_side) >= min_side)
    .unwrap_or(ScalingFactor::ONE)
}

/// Decodes the picture to RGB at `scale`, before orientation.
///
/// # Errors
/// [`ImagingError::Decode`] when the data is corrupt, truncated or not a JPEG at all.
pub(crate) fn decode_rgb(jpeg: &[u8], header: &Header, scale: ScalingFactor) -> Result<Rgb> {
    let decode_err = |source| ImagingError::Decode { source };
    let mut decompressor = Decompressor::new().map_err(decode_err)?;
    decompressor.set_scan_limit(MAX_SCANS).map_err(decode_err)?;

    // Lossless JPEGs cannot be scaled in the DCT domain; decode them whole.
    let scale = if header.inner.is_lossless {
        ScalingFactor::ONE
    } else {
        scale
    };
    decompressor.set_scaling_factor(scale).map_err(decode_err)?;

    let scaled = header.inner.scaled(scale);
    let mut image = turbojpeg::Image {
        pixels: vec![0; scaled.width * scaled.height * 3],
        width: scaled.width,
        pitch: scaled.width * 3,
        height: scaled.height,
        format: PixelFormat::RGB,
    };
    match decompressor.decompress(jpeg, image.as_deref_mut()) {
        Ok(()) => {}
        Err(turbojpeg::Error::TurboJpegError(msg))
            if HARMLESS_WARNINGS.iter().any(|w| msg.contains(w)) => {}
        Err(source) => return Err(ImagingError::Decode { source }),
    }
    Ok(Rgb::new(scaled.width, scaled.height, image.pixels))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_keeps_the_minimum_side() {
        assert_eq!(scale_for(5760, 2048), ScalingFactor::ONE_HALF);
        assert_eq!(scale_for(1920, 500), ScalingFactor::ONE_HALF);
        assert_eq!(scale_for(4000, 2048), ScalingFactor::ONE);
        assert_eq!(scale_for(8000, 500), ScalingFactor::ONE_EIGHTH);
        assert_eq!(scale_for(300, 500), ScalingFactor::ONE);
    }

    #[test]
    fn refuses_garbage_before_decoding() {
        let err = read_header(b"not a jpeg at all").err();
        assert!(matches!(err, Some(ImagingError::Decode { .. })), "{err:?}");
    }
}
