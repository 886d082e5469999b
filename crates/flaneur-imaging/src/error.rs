//! The one error type of the crate: what went wrong while turning a JPEG into derivatives.
//!
//! Callers know which picture they passed in; the variants carry what only this crate knows
//! (which derivative, which limit, which colour space).

/// Why derivatives could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImagingError {
    /// The bytes are not a JPEG the decoder can read: garbage, truncated or corrupt data.
    #[error("cannot decode the picture: {source}")]
    Decode {
        /// What the JPEG decoder reported.
        #[source]
        source: turbojpeg::Error,
    },

    /// The header announces more pixels than a worker may hold in memory.
    #[error(
        "picture of {width}x{height} px is too large \
         (limit {max_side_px} px per side and {max_megapixels} megapixels)"
    )]
    TooLarge {
        /// Width announced by the JPEG header.
        width: usize,
        /// Height announced by the JPEG header.
        height: usize,
        /// Longest side accepted.
        max_side_px: usize,
        /// Largest area accepted, in millions of pixels.
        max_megapixels: usize,
    },

    /// The JPEG stores colours in a space that has no direct RGB decoding (CMYK, YCCK).
    #[error("picture uses the {colorspace} colour space; only RGB, YCbCr and grey are supported")]
    UnsupportedColorspace {
        /// Name of the colour space found in the header.
        colorspace: String,
    },

    /// Resampling failed for one derivative.
    #[error("cannot resize the picture into the {derivative}: {source}")]
    Resize {
        /// Which derivative was being made (`thumbnail`, `sd`).
        derivative: &'static str,
        /// What the resizer reported.
        #[source]
        source: fast_image_resize::ResizeError,
    },

    /// Encoding one derivative back to JPEG failed.
    #[error("cannot encode the {derivative} as JPEG: {source}")]
    Encode {
        /// Which derivative was being encoded (`thumbnail`, `sd`, `tile 3_1`).
        derivative: String,
        /// What the JPEG encoder reported.
        #[source]
        source: turbojpeg::Error,
    },
}

/// Result of the imaging functions.
pub type Result<T> = std::result::Result<T, ImagingError>;
