//! Helpers shared by the test modules: locating test pictures, crafting and inspecting JPEGs.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use turbojpeg::{Image, PixelFormat, Subsamp};

/// The bytes of a shared test picture, e.g. `1.jpg`. The folder comes from `FLANEUR_TESTDATA`
/// (holding `pictures/`), by default `$HOME/.cache/flaneur/testdata`.
pub fn picture(name: &str) -> Result<Vec<u8>> {
    let root = match std::env::var_os("FLANEUR_TESTDATA") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let home = std::env::var_os("HOME").context("HOME is not set")?;
            PathBuf::from(home).join(".cache/flaneur/testdata")
        }
    };
    let path = root.join("pictures").join(name);
    if !path.is_file() {
        bail!(
            "test picture {} is missing: run scripts/fetch-testdata.sh \
             (or point FLANEUR_TESTDATA at a folder holding pictures/)",
            path.display()
        );
    }
    std::fs::read(&path).with_context(|| format!("reading {}", path.display()))
}

/// A decoded JPEG: width, height and packed RGB rows.
pub struct Decoded {
    pub width: usize,
    pub height: usize,
    pub rgb: Vec<u8>,
}

impl Decoded {
    /// The RGB value at (`x`, `y`).
    pub fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        let at = (y * self.width + x) * 3;
        [self.rgb[at], self.rgb[at + 1], self.rgb[at + 2]]
    }
}

/// Decodes a JPEG made by the crate under test.
pub fn decode(jpeg: &[u8]) -> Result<Decoded> {
    let image = turbojpeg::decompress(jpeg, PixelFormat::RGB)?;
    Ok(Decoded {
        width: image.width,
        height: image.height,
        rgb: image.pixels,
    })
}

/// The size a JPEG announces in its header.
pub fn size_of(jpeg: &[u8]) -> Result<(usize, usize)> {
    let header = turbojpeg::read_header(jpeg)?;
    Ok((header.width, header.height))
}

/// Encodes a `width` x `height` picture whose pixel at (x, y) is `paint(x, y)`.
pub fn craft(
    width: usize,
    height: usize,
    paint: impl Fn(usize, usize) -> [u8; 3],
) -> Result<Vec<u8>> {
    let mut pixels = Vec::with_capacity(width * height * 3);
    for y in 0..height {
        for x in 0..width {
            pixels.extend(paint(x, y));
        }
    }
    let image = Image {
        pixels,
        width,
        pitch: width * 3,
        height,
        format: PixelFormat::RGB,
    };
    Ok(turbojpeg::compress(image.as_deref(), 95, Subsamp::Sub2x2)?.to_vec())
}

/// The `(left, top, width, height)` box of `image` shrunk to `out_w` x `out_h` by plain averaging
/// of each output pixel's footprint: a slow, obviously right reference for thumbnails.
pub fn box_average(
    image: &Decoded,
    (left, top, width, height): (usize, usize, usize, usize),
    (out_w, out_h): (usize, usize),
) -> Vec<u8> {
    let mut out = Vec::with_capacity(out_w * out_h * 3);
    for y in 0..out_h {
        let (y0, y1) = (
            top + y * height / out_h,
            top + ((y + 1) * height / out_h).max(1),
        );
        for x in 0..out_w {
            let (x0, x1) = (
                left + x * width / out_w,
                left + ((x + 1) * width / out_w).max(1),
            );
            let mut sum = [0usize; 3];
            for oy in y0..y1.max(y0 + 1) {
                for ox in x0..x1.max(x0 + 1) {
                    let p = image.pixel(ox, oy);
                    (0..3).for_each(|c| sum[c] += usize::from(p[c]));
                }
            }
            let n = (y1.max(y0 + 1) - y0) * (x1.max(x0 + 1) - x0);
            out.extend(sum.map(|s| (s / n) as u8));
        }
    }
    out
}

/// Mean absolute difference per channel between two equal-sized RGB regions.
pub fn mean_abs_diff(a: &[u8], b: &[u8]) -> f64 {
    let total: u64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    total as f64 / a.len().max(1) as f64
}
