//! Resampling with `fast_image_resize`: whole pictures and cropped views in one pass.
//!
//! The filter is Hamming, the one the reference server uses, so that derivatives look alike on
//! both servers; it is as fast as bilinear and as sharp as bicubic when shrinking.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use crate::error::{ImagingError, Result};
use crate::pixels::Rgb;

/// A rectangle of the source picture, in source pixels (fractions allowed: the resizer weighs
/// partial pixels at the edges).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CropBox {
    pub(crate) left: f64,
    pub(crate) top: f64,
    pub(crate) width: f64,
    pub(crate) height: f64,
}

/// Resamples `src` (or the `crop` part of it) to `width` x `height`; `derivative` names the
/// output in errors.
///
/// # Errors
/// [`ImagingError::Resize`] when the resizer refuses the crop box or the buffers.
pub(crate) fn resize(
    src: &Rgb,
    crop: Option<CropBox>,
    width: usize,
    height: usize,
    derivative: &'static str,
) -> Result<Rgb> {
    let resize_err = |source| ImagingError::Resize { derivative, source };

    // Sizes were checked against decode::MAX_SIDE_PX, far below u32::MAX.
    let src_view = ImageRef::new(
        side(src.width()),
        side(src.height()),
        src.data(),
        PixelType::U8x3,
    )
    .expect("an Rgb buffer holds width * height packed RGB pixels, which need no alignment");
    let mut dst = Image::new(side(width), side(height), PixelType::U8x3);

    let mut options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Hamming));
    if let Some(c) = crop {
        options = options.crop(c.left, c.top, c.width, c.height);
    }
    Resizer::new()
        .resize(&src_view, &mut dst, &options)
        .map_err(resize_err)?;
    Ok(Rgb::new(width, height, dst.into_vec()))
}

/// A side length as the resizer wants it.
fn side(px: usize) -> u32 {
    u32::try_from(px).expect("picture sides are limited by decode::MAX_SIDE_PX")
}

/// The height that keeps the proportions of a `width` x `height` picture at `new_width`,
/// rounded to the nearest pixel and never zero.
pub(crate) fn proportional_height(width: usize, height: usize, new_width: usize) -> usize {
    let scaled = (height as u128 * new_width as u128 + width as u128 / 2) / (width as u128).max(1);
    usize::try_from(scaled).unwrap_or(usize::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proportional_height_rounds_to_nearest() {
        assert_eq!(proportional_height(1920, 1080, 500), 281);
        assert_eq!(proportional_height(5760, 2880, 2048), 1024);
        assert_eq!(proportional_height(4000, 3000, 2048), 1536);
        assert_eq!(proportional_height(10_000, 1, 500), 1);
    }

    #[test]
    fn uniform_picture_stays_uniform() {
        let src = Rgb::new(40, 20, [10u8, 120, 240].repeat(800));
        let out = resize(&src, None, 10, 5, "test").ok();
        let out = out.map(|rgb| rgb.data().to_vec()).unwrap_or_default();
        assert_eq!(out, [10u8, 120, 240].repeat(50));
    }
}
