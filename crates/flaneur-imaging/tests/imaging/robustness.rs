//! Hostile and unusual input: garbage, truncation, huge headers, CMYK and grey pictures.

use anyhow::Result;
use flaneur_imaging::{DerivativeSpec, ImagingError, make_derivatives};
use flaneur_model::Projection;
use turbojpeg::{Image, PixelFormat, Subsamp};

use crate::support::{craft, size_of};

const FLAT: DerivativeSpec = DerivativeSpec {
    projection: Projection::Flat,
    orientation: 1,
};
const PANO: DerivativeSpec = DerivativeSpec {
    projection: Projection::Equirectangular,
    orientation: 1,
};

#[test]
fn garbage_is_a_decode_error() {
    for bytes in [
        &b""[..],
        b"\xff\xd8\xff",
        b"GIF89a and more bytes than that",
        &[0u8; 4096],
    ] {
        let result = make_derivatives(bytes, &FLAT);
        assert!(
            matches!(result, Err(ImagingError::Decode { .. })),
            "{result:?}"
        );
    }
}

#[test]
fn truncated_picture_is_a_decode_error() -> Result<()> {
    let jpeg = craft(640, 480, |x, y| {
        [(x % 251) as u8, (y % 241) as u8, ((x * y) % 239) as u8]
    })?;
    for keep in [jpeg.len() / 2, jpeg.len() - 10] {
        let result = make_derivatives(&jpeg[..keep], &FLAT);
        assert!(
            matches!(result, Err(ImagingError::Decode { .. })),
            "kept {keep} B: {result:?}"
        );
    }
    Ok(())
}

#[test]
fn corrupt_scan_data_never_panics() -> Result<()> {
    let jpeg = craft(320, 160, |x, y| [(x % 256) as u8, (y % 256) as u8, 7])?;
    // Flip bytes through the entropy-coded data; any outcome but a panic is fine.
    for at in (jpeg.len() / 3..jpeg.len() - 2).step_by(97) {
        let mut bad = jpeg.clone();
        bad[at] ^= 0x5a;
        let _ = make_derivatives(&bad, &PANO);
    }
    Ok(())
}

#[test]
fn huge_announced_size_is_refused_before_decoding() -> Result<()> {
    // Rewrite the frame header (SOF0: FF C0, length, precision, height, width) to 60000x40000.
    let mut jpeg = craft(64, 32, |_, _| [10, 20, 30])?;
    let sof = jpeg
        .windows(2)
        .position(|w| w == [0xff, 0xc0])
        .unwrap_or_default();
    jpeg[sof + 5..sof + 9].copy_from_slice(&[0x9c, 0x40, 0xea, 0x60]);
    let result = make_derivatives(&jpeg, &FLAT);
    assert!(
        matches!(result, Err(ImagingError::TooLarge { .. })),
        "{result:?}"
    );
    Ok(())
}

#[test]
fn cmyk_picture_is_refused_with_a_clear_error() -> Result<()> {
    let pixels = vec![40u8; 64 * 64 * 4];
    let image = Image {
        pixels,
        width: 64,
        pitch: 64 * 4,
        height: 64,
        format: PixelFormat::CMYK,
    };
    let jpeg = turbojpeg::compress(image.as_deref(), 90, Subsamp::None)?;
    let result = make_derivatives(&jpeg, &FLAT);
    assert!(
        matches!(result, Err(ImagingError::UnsupportedColorspace { .. })),
        "{result:?}"
    );
    Ok(())
}

#[test]
fn grey_picture_gets_rgb_derivatives() -> Result<()> {
    let pixels: Vec<u8> = (0..600 * 300).map(|i| (i % 256) as u8).collect();
    let image = Image {
        pixels,
        width: 600,
        pitch: 600,
        height: 300,
        format: PixelFormat::GRAY,
    };
    let jpeg = turbojpeg::compress(image.as_deref(), 90, Subsamp::Gray)?;
    let d = make_derivatives(&jpeg, &FLAT)?;
    assert_eq!(size_of(&d.thumb)?, (500, 250));
    Ok(())
}

#[test]
fn tiny_panorama_gets_no_empty_tiles() -> Result<()> {
    let jpeg = craft(3, 1, |_, _| [1, 2, 3])?;
    let d = make_derivatives(&jpeg, &PANO)?;
    assert!(d.tiles.is_empty());
    assert_eq!(size_of(&d.thumb)?, (500, 300));
    Ok(())
}
