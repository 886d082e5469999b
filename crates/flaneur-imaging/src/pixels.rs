//! The decoded picture held in memory: tightly packed 8-bit RGB rows, top row first.
//!
//! Every stage (decode, orientation, resize, encode) passes this type along so that the buffer
//! layout is stated once.

/// Bytes per pixel: R, G, B.
pub(crate) const CHANNELS: usize = 3;

/// An RGB picture with rows of exactly `width * 3` bytes.
pub(crate) struct Rgb {
    width: usize,
    height: usize,
    data: Vec<u8>,
}

impl Rgb {
    /// Wraps a buffer of `width * height * 3` bytes.
    pub(crate) fn new(width: usize, height: usize, data: Vec<u8>) -> Rgb {
        debug_assert_eq!(
            data.len(),
            width * height * CHANNELS,
            "RGB buffer of the wrong size"
        );
        Rgb {
            width,
            height,
            data,
        }
    }

    /// Width in pixels.
    pub(crate) fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub(crate) fn height(&self) -> usize {
        self.height
    }

    /// The packed rows.
    pub(crate) fn data(&self) -> &[u8] {
        &self.data
    }

    /// A view of the rectangle at (`left`, `top`) of `width` x `height` pixels, sharing this
    /// buffer: rows keep the full picture's pitch, so cutting a tile copies nothing. `None` when
    /// the rectangle is empty or does not lie inside the picture.
    pub(crate) fn region(
        &self,
        left: usize,
        top: usize,
        width: usize,
        height: usize,
    ) -> Option<turbojpeg::Image<&[u8]>> {
        if width == 0 || height == 0 || left + width > self.width || top + height > self.height {
            return None;
        }
        let pitch = self.width * CHANNELS;
        let start = top * pitch + left * CHANNELS;
        let end = start + (height - 1) * pitch + width * CHANNELS;
        Some(turbojpeg::Image {
            pixels: &self.data[start..end],
            width,
            pitch,
            height,
            format: turbojpeg::PixelFormat::RGB,
        })
    }

    /// The whole picture as an encoder input.
    pub(crate) fn as_image(&self) -> turbojpeg::Image<&[u8]> {
        turbojpeg::Image {
            pixels: &self.data,
            width: self.width,
            pitch: self.width * CHANNELS,
            height: self.height,
            format: turbojpeg::PixelFormat::RGB,
        }
    }
}
