//! EXIF orientation, applied to crafted pictures whose corners can be told apart.

use anyhow::{Result, ensure};
use flaneur_imaging::{DerivativeSpec, make_derivatives};
use flaneur_model::Projection;

use crate::support::{Decoded, craft, decode, size_of};

/// An 800x400 picture, red in its top-left quarter and blue elsewhere.
fn red_corner() -> Result<Vec<u8>> {
    craft(800, 400, |x, y| {
        if x < 400 && y < 200 {
            [255, 0, 0]
        } else {
            [0, 0, 255]
        }
    })
}

fn is_red(image: &Decoded, x: usize, y: usize) -> bool {
    let [r, _, b] = image.pixel(x, y);
    r > 200 && b < 60
}

#[test]
fn orientation_6_turns_the_picture_clockwise() -> Result<()> {
    let spec = DerivativeSpec {
        projection: Projection::Flat,
        orientation: 6,
    };
    let d = make_derivatives(&red_corner()?, &spec)?;

    // Displayed upright it is 400x800, and the stored top-left corner is now top-right.
    assert_eq!((d.width, d.height), (400, 800));
    let thumb = decode(&d.thumb)?;
    assert_eq!((thumb.width, thumb.height), (500, 1000));
    ensure!(
        is_red(&thumb, 480, 20),
        "top-right of the thumbnail should be red"
    );
    ensure!(
        !is_red(&thumb, 20, 20),
        "top-left of the thumbnail should be blue"
    );

    // Narrower than 2048 px, but the original is stored sideways, so an upright SD is made at
    // the picture's own size.
    let sd = d.sd.unwrap_or_default();
    assert_eq!(size_of(&sd)?, (400, 800));
    Ok(())
}

#[test]
fn orientation_8_turns_the_picture_anticlockwise() -> Result<()> {
    let spec = DerivativeSpec {
        projection: Projection::Flat,
        orientation: 8,
    };
    let thumb = decode(&make_derivatives(&red_corner()?, &spec)?.thumb)?;
    assert_eq!((thumb.width, thumb.height), (500, 1000));
    ensure!(
        is_red(&thumb, 20, 980),
        "bottom-left of the thumbnail should be red"
    );
    ensure!(
        !is_red(&thumb, 480, 20),
        "top-right of the thumbnail should be blue"
    );
    Ok(())
}

#[test]
fn orientation_3_turns_the_picture_upside_down() -> Result<()> {
    let spec = DerivativeSpec {
        projection: Projection::Flat,
        orientation: 3,
    };
    let d = make_derivatives(&red_corner()?, &spec)?;
    assert_eq!((d.width, d.height), (800, 400));
    let thumb = decode(&d.thumb)?;
    ensure!(
        is_red(&thumb, 480, 240),
        "bottom-right of the thumbnail should be red"
    );
    ensure!(
        d.sd.is_some(),
        "a picture stored upside down needs an upright SD"
    );
    Ok(())
}
