//! Flat pictures: the Sony test picture and crafted JPEGs larger than the SD size.

use anyhow::{Result, ensure};
use flaneur_imaging::{DerivativeSpec, make_derivatives, thumbnail_only};
use flaneur_model::Projection;

use crate::support::{box_average, craft, decode, mean_abs_diff, picture, size_of};

const FLAT: DerivativeSpec = DerivativeSpec {
    projection: Projection::Flat,
    orientation: 1,
};

#[test]
fn full_hd_picture_gets_a_thumbnail_and_serves_itself_as_sd() -> Result<()> {
    let jpeg = picture("e1.jpg")?;
    let d = make_derivatives(&jpeg, &FLAT)?;
    assert_eq!((d.width, d.height), (1920, 1080));
    assert_eq!(size_of(&d.thumb)?, (500, 281));
    assert_eq!(d.sd, None, "a 1920 px picture is not upscaled to 2048");
    assert!(d.tiles.is_empty());
    Ok(())
}

#[test]
fn thumbnail_looks_like_the_original() -> Result<()> {
    // Compare with a plain average of the original over each thumbnail pixel's footprint.
    let jpeg = picture("e1.jpg")?;
    let thumb = decode(&make_derivatives(&jpeg, &FLAT)?.thumb)?;
    let original = decode(&jpeg)?;
    let whole = (0, 0, original.width, original.height);
    let reference = box_average(&original, whole, (thumb.width, thumb.height));
    let diff = mean_abs_diff(&thumb.rgb, &reference);
    ensure!(
        diff < 6.0,
        "thumbnail differs from the original by {diff:.2} on average"
    );
    assert_eq!(size_of(&thumbnail_only(&jpeg, &FLAT)?)?, (500, 281));
    Ok(())
}

#[test]
fn wide_picture_gets_a_2048_px_sd() -> Result<()> {
    // 5000 px is decoded at half size (2500 px), still above the SD width.
    let jpeg = craft(5000, 2500, |x, y| [(x % 256) as u8, (y % 256) as u8, 90])?;
    let d = make_derivatives(&jpeg, &FLAT)?;
    let sd = d.sd.unwrap_or_default();
    assert_eq!(size_of(&sd)?, (2048, 1024));
    assert_eq!(size_of(&d.thumb)?, (500, 250));
    Ok(())
}
