//! Derivatives of one picture: the thumbnail, the SD copy and the 360° tiles, all from a single
//! decode of the original.
//!
//! Storing the files and deciding when to make them belong to the processing jobs; this module
//! only turns bytes into bytes.

use flaneur_model::Projection;

use crate::decode;
use crate::encode::{Encoder, PREVIEW};
use crate::error::Result;
use crate::orientation::Orientation;
use crate::pixels::Rgb;
use crate::resize::{self, CropBox};
use crate::tile::{self, Tile};

/// Width of a thumbnail, flat or 360°.
pub const THUMB_WIDTH: usize = 500;

/// Height of a 360° thumbnail.
pub const PANO_THUMB_HEIGHT: usize = 300;

/// Width of the SD copy.
pub const SD_WIDTH: usize = 2048;

/// The 360° thumbnail is the centre of the panorama as the reference server cuts it: resized to
/// 2000x1000, then the box (750,350)-(1250,650). Expressed as fractions of the picture, the same
/// box can be resampled straight to 500x300 in one pass (0.7 ms instead of 9 ms on 5760x2880).
const PANO_THUMB_BOX: [f64; 4] = [
    750.0 / 2000.0,
    350.0 / 1000.0,
    500.0 / 2000.0,
    300.0 / 1000.0,
];

/// What the derivatives depend on besides the pixels, as read from the picture's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DerivativeSpec {
    /// Flat or 360°: 360° pictures get a centre-view thumbnail and tiles.
    pub projection: Projection,
    /// EXIF orientation (1 to 8); other values are taken as 1, as image viewers do.
    pub orientation: u16,
}

/// The derivatives of one picture, encoded as JPEG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derivatives {
    /// Flat: 500 px wide, proportional height. 360°: the 500x300 centre view.
    pub thumb: Vec<u8>,
    /// 2048 px wide with proportional height, or the picture's own size when it is narrower but
    /// needs rotating. `None` when the displayed picture is at most 2048 px wide and stored
    /// upright: the original then serves as SD, which avoids upscaling and a redundant file.
    pub sd: Option<Vec<u8>>,
    /// 360° only, in row-major order from the top-left tile; empty for flat pictures.
    pub tiles: Vec<Tile>,
    /// Width of the picture as displayed (orientation applied).
    pub width: u32,
    /// Height of the picture as displayed (orientation applied).
    pub height: u32,
}

/// Makes every derivative of a picture from one decode of `jpeg`.
///
/// The decode is scaled in the DCT domain as far as the largest output allows: a flat picture
/// 5000 px wide is decoded at half size for its 2048 px SD, while a 360° picture is decoded at
/// full size for its tiles. EXIF orientation is applied before anything is cut.
///
/// # Errors
/// [`ImagingError::Decode`](crate::ImagingError::Decode) for data that is not a readable JPEG
/// (garbage, truncated, corrupt), [`ImagingError::TooLarge`](crate::ImagingError::TooLarge) above
/// the size limits, [`ImagingError::UnsupportedColorspace`](crate::ImagingError) for CMYK, and
/// the resize and encode errors, which only resource exhaustion should cause.
pub fn make_derivatives(jpeg: &[u8], spec: &DerivativeSpec) -> Result<Derivatives> {
    let header = decode::read_header(jpeg)?;
    let orientation = Orientation::from_exif(spec.orientation);
    let (width, height) = orientation.apply_to_size(header.width(), header.height());
    let is_pano = spec.projection == Projection::Equirectangular;

    // 1. Plan the SD copy: only when it saves pixels or fixes the orientation.
    let needs_sd = width > SD_WIDTH || orientation != Orientation::Upright;
    let sd_size = needs_sd.then(|| {
        let sd_width = width.min(SD_WIDTH);
        (
            sd_width,
            resize::proportional_height(width, height, sd_width),
        )
    });

    // 2. Decode once, as small as the largest output allows. Tiles need every pixel.
    let min_width = match (is_pano, sd_size) {
        (true, _) => width,
        (false, Some((sd_width, _))) => sd_width,
        (false, None) => THUMB_WIDTH,
    };
    let rgb = decode_displayed(jpeg, &header, orientation, min_width)?;

    // 3. Tiles take the longest, so they are encoded on other threads while this one makes the
    // SD copy and the thumbnail.
    let (thumb, sd, tiles) = std::thread::scope(|scope| {
        let tiles = is_pano.then(|| scope.spawn(|| tile::cut_tiles(&rgb)));
        let previews = make_previews(&rgb, sd_size, spec.projection);
        let tiles = match tiles {
            Some(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?,
            None => Vec::new(),
        };
        let (thumb, sd) = previews?;
        Ok::<_, crate::ImagingError>((thumb, sd, tiles))
    })?;

    Ok(Derivatives {
        thumb,
        sd,
        tiles,
        width: to_u32(width),
        height: to_u32(height),
    })
}

/// Makes only the thumbnail, decoding no more pixels than it needs (1/8 to 1/2 of the original
/// on common pictures). For on-demand regeneration when the other derivatives exist.
///
/// # Errors
/// As [`make_derivatives`].
pub fn thumbnail_only(jpeg: &[u8], spec: &DerivativeSpec) -> Result<Vec<u8>> {
    let header = decode::read_header(jpeg)?;
    let orientation = Orientation::from_exif(spec.orientation);

    // The 360° centre view spans a quarter of the width, which must keep 500 px.
    let min_width = match spec.projection {
        Projection::Equirectangular => THUMB_WIDTH * 4,
        Projection::Flat => THUMB_WIDTH,
    };
    let rgb = decode_displayed(jpeg, &header, orientation, min_width)?;
    make_thumb(&rgb, spec.projection)
}

/// Decodes at the smallest DCT scale that keeps `min_width` displayed pixels across, then
/// orients the pixels.
fn decode_displayed(
    jpeg: &[u8],
    header: &decode::Header,
    orientation: Orientation,
    min_width: usize,
) -> Result<Rgb> {
    // The displayed width is the stored height when the picture lies on its side.
    let stored_side = if orientation.swaps_axes() {
        header.height()
    } else {
        header.width()
    };
    let scale = decode::scale_for(stored_side, min_width);
    tracing::debug!(
        image.width = header.width(),
        image.height = header.height(),
        decode.scale = %scale,
        "decoding picture"
    );
    let rgb = decode::decode_rgb(jpeg, header, scale)?;
    Ok(orientation.apply(rgb))
}

/// Encodes the thumbnail and, when planned, the SD copy.
fn make_previews(
    rgb: &Rgb,
    sd_size: Option<(usize, usize)>,
    projection: Projection,
) -> Result<(Vec<u8>, Option<Vec<u8>>)> {
    let Some((sd_width, sd_height)) = sd_size else {
        return Ok((make_thumb(rgb, projection)?, None));
    };

    // A picture decoded at exactly the SD size (a rotated small picture) is encoded as is.
    let resized;
    let sd_pixels = if (rgb.width(), rgb.height()) == (sd_width, sd_height) {
        rgb
    } else {
        resized = resize::resize(rgb, None, sd_width, sd_height, "sd")?;
        &resized
    };
    let sd = Encoder::new(PREVIEW, "sd")?.encode(sd_pixels.as_image(), "sd")?;

    // A flat thumbnail from the SD pixels looks the same and reads a quarter as many; the 360°
    // centre view is a small crop, better taken from the full-resolution pixels.
    let thumb_source = match projection {
        Projection::Flat => sd_pixels,
        Projection::Equirectangular => rgb,
    };
    Ok((make_thumb(thumb_source, projection)?, Some(sd)))
}

/// Resamples and encodes the thumbnail of `rgb`, a displayed picture at any scale.
fn make_thumb(rgb: &Rgb, projection: Projection) -> Result<Vec<u8>> {
    let (w, h) = (rgb.width(), rgb.height());
    let pixels = match projection {
        Projection::Flat => {
            let height = resize::proportional_height(w, h, THUMB_WIDTH);
            resize::resize(rgb, None, THUMB_WIDTH, height, "thumbnail")?
        }
        Projection::Equirectangular => {
            let [left, top, width, height] = PANO_THUMB_BOX;
            let (w, h) = (w as f64, h as f64);
            let crop = CropBox {
                left: left * w,
                top: top * h,
                width: width * w,
                height: height * h,
            };
            resize::resize(rgb, Some(crop), THUMB_WIDTH, PANO_THUMB_HEIGHT, "thumbnail")?
        }
    };
    Encoder::new(PREVIEW, "thumbnail")?.encode(pixels.as_image(), "thumbnail")
}

/// A displayed side as the public API reports it.
fn to_u32(px: usize) -> u32 {
    u32::try_from(px).expect("picture sides are limited by decode::MAX_SIDE_PX")
}
