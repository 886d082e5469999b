//! EXIF orientation: turning the stored pixels into the picture as it should be displayed.
//!
//! Reading the tag is the metadata reader's job; this module only applies the value it found,
//! so that every derivative (and every tile position) matches what a viewer shows.

use crate::pixels::{CHANNELS, Rgb};

/// How the stored rows must be moved to display the picture upright (EXIF tag 0x0112).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Orientation {
    /// 1: stored upright.
    Upright,
    /// 2: mirrored left to right.
    MirrorHorizontal,
    /// 3: upside down.
    Rotate180,
    /// 4: mirrored top to bottom.
    MirrorVertical,
    /// 5: mirrored along the top-left to bottom-right diagonal.
    Transpose,
    /// 6: needs a quarter turn clockwise.
    Rotate90,
    /// 7: mirrored along the top-right to bottom-left diagonal.
    Transverse,
    /// 8: needs a quarter turn anticlockwise.
    Rotate270,
}

impl Orientation {
    /// The orientation for an EXIF value. Values outside 1..=8 mean upright: that is what
    /// browsers and the reference server's image library do with them, so our derivatives keep
    /// matching the original as people see it.
    pub(crate) fn from_exif(value: u16) -> Orientation {
        match value {
            2 => Orientation::MirrorHorizontal,
            3 => Orientation::Rotate180,
            4 => Orientation::MirrorVertical,
            5 => Orientation::Transpose,
            6 => Orientation::Rotate90,
            7 => Orientation::Transverse,
            8 => Orientation::Rotate270,
            _ => Orientation::Upright,
        }
    }

    /// Whether displaying the picture exchanges its width and height.
    pub(crate) fn swaps_axes(self) -> bool {
        matches!(
            self,
            Orientation::Transpose
                | Orientation::Rotate90
                | Orientation::Transverse
                | Orientation::Rotate270
        )
    }

    /// The displayed size of a picture stored as `width` x `height`.
    pub(crate) fn apply_to_size(self, width: usize, height: usize) -> (usize, usize) {
        if self.swaps_axes() {
            (height, width)
        } else {
            (width, height)
        }
    }

    /// The picture as displayed. Upright pictures are returned unchanged without copying.
    pub(crate) fn apply(self, src: Rgb) -> Rgb {
        if self == Orientation::Upright {
            return src;
        }
        let (sw, sh) = (src.width(), src.height());
        let (dw, dh) = self.apply_to_size(sw, sh);
        let from = src.data();
        let mut out = vec![0; from.len()];

        // For each displayed pixel, the stored pixel it comes from. Writing the output in order
        // keeps stores sequential; the scattered reads are the cheaper side of a transpose.
        for (dy, row) in out.chunks_exact_mut(dw * CHANNELS).enumerate() {
            for (dx, pixel) in row.chunks_exact_mut(CHANNELS).enumerate() {
                let (sx, sy) = match self {
                    Orientation::Upright => (dx, dy),
                    Orientation::MirrorHorizontal => (sw - 1 - dx, dy),
                    Orientation::Rotate180 => (sw - 1 - dx, sh - 1 - dy),
                    Orientation::MirrorVertical => (dx, sh - 1 - dy),
                    Orientation::Transpose => (dy, dx),
                    Orientation::Rotate90 => (dy, sh - 1 - dx),
                    Orientation::Transverse => (sw - 1 - dy, sh - 1 - dx),
                    Orientation::Rotate270 => (sw - 1 - dy, dx),
                };
                let at = (sy * sw + sx) * CHANNELS;
                pixel.copy_from_slice(&from[at..at + CHANNELS]);
            }
        }
        Rgb::new(dw, dh, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3x2 picture whose red channel numbers the pixels 0..6 in reading order.
    fn numbered() -> Rgb {
        let data = (0..6u8).flat_map(|n| [n, 0, 0]).collect();
        Rgb::new(3, 2, data)
    }

    fn reds(rgb: &Rgb) -> Vec<u8> {
        rgb.data().chunks_exact(CHANNELS).map(|p| p[0]).collect()
    }

    #[test]
    fn every_orientation_moves_pixels_as_exif_says() {
        // Stored:  0 1 2
        //          3 4 5
        let cases: [(u16, (usize, usize), [u8; 6]); 8] = [
            (1, (3, 2), [0, 1, 2, 3, 4, 5]),
            (2, (3, 2), [2, 1, 0, 5, 4, 3]),
            (3, (3, 2), [5, 4, 3, 2, 1, 0]),
            (4, (3, 2), [3, 4, 5, 0, 1, 2]),
            (5, (2, 3), [0, 3, 1, 4, 2, 5]),
            (6, (2, 3), [3, 0, 4, 1, 5, 2]),
            (7, (2, 3), [5, 2, 4, 1, 3, 0]),
            (8, (2, 3), [2, 5, 1, 4, 0, 3]),
        ];
        for (value, size, expected) in cases {
            let out = Orientation::from_exif(value).apply(numbered());
            assert_eq!((out.width(), out.height()), size, "orientation {value}");
            assert_eq!(reds(&out), expected, "orientation {value}");
        }
    }

    #[test]
    fn out_of_range_values_mean_upright() {
        assert_eq!(Orientation::from_exif(0), Orientation::Upright);
        assert_eq!(Orientation::from_exif(9), Orientation::Upright);
    }
}
