//! 360° pictures: the GoPro Max test picture and crafted equirectangular JPEGs.

use anyhow::{Result, ensure};
use flaneur_imaging::{DerivativeSpec, make_derivatives, thumbnail_only};
use flaneur_model::Projection;

use crate::support::{box_average, craft, decode, mean_abs_diff, picture, size_of};

const PANO: DerivativeSpec = DerivativeSpec {
    projection: Projection::Equirectangular,
    orientation: 1,
};

#[test]
fn gopro_picture_gets_centre_thumb_sd_and_full_tile_grid() -> Result<()> {
    let jpeg = picture("1.jpg")?;
    let d = make_derivatives(&jpeg, &PANO)?;

    assert_eq!((d.width, d.height), (5760, 2880));
    assert_eq!(size_of(&d.thumb)?, (500, 300));
    let sd = d.sd.as_deref().unwrap_or_default();
    assert_eq!(size_of(sd)?, (2048, 1024));

    // 8 columns by 4 rows of 720 px, in row-major order from the top-left corner.
    assert_eq!(d.tiles.len(), 32);
    for (i, tile) in d.tiles.iter().enumerate() {
        assert_eq!((tile.col, tile.row), (i as u32 % 8, i as u32 / 8));
        assert_eq!(
            size_of(&tile.jpeg)?,
            (720, 720),
            "tile {}_{}",
            tile.col,
            tile.row
        );
    }

    // Storage: everything together stays below the original's weight.
    let tiles: usize = d.tiles.iter().map(|t| t.jpeg.len()).sum();
    let total = tiles + sd.len() + d.thumb.len();
    ensure!(
        total < jpeg.len(),
        "derivatives weigh {total} B, original {} B",
        jpeg.len()
    );
    Ok(())
}

#[test]
fn tiles_show_the_matching_part_of_the_original() -> Result<()> {
    let jpeg = picture("1.jpg")?;
    let d = make_derivatives(&jpeg, &PANO)?;
    let original = decode(&jpeg)?;

    // Tile (col, row) covers x from col * 720 and y from row * 720 of the original.
    for (col, row) in [(0u32, 0u32), (2, 1)] {
        let tile = d.tiles.iter().find(|t| (t.col, t.row) == (col, row));
        let (left, top) = (col as usize * 720, row as usize * 720);
        let tile = decode(tile.map(|t| t.jpeg.as_slice()).unwrap_or_default())?;
        let mut region = Vec::with_capacity(720 * 720 * 3);
        for y in top..top + 720 {
            let start = (y * original.width + left) * 3;
            region.extend_from_slice(&original.rgb[start..start + 720 * 3]);
        }
        let diff = mean_abs_diff(&tile.rgb, &region);
        ensure!(
            diff < 3.0,
            "tile {col}_{row} differs from the original by {diff:.2} on average"
        );
    }
    Ok(())
}

#[test]
fn thumbnail_only_matches_the_full_run() -> Result<()> {
    let jpeg = picture("1.jpg")?;
    let full = decode(&make_derivatives(&jpeg, &PANO)?.thumb)?;
    let alone = decode(&thumbnail_only(&jpeg, &PANO)?)?;
    assert_eq!((alone.width, alone.height), (500, 300));

    // Both show the box (2160, 1008)-(3600, 1872) of the original, the centre view the
    // reference server cuts; the lone one comes from a half-size decode. Hamming keeps more
    // detail than the plain average, hence some difference: a box shifted by 6 px differs by 16
    // or more, a right one by about 7.
    let original = decode(&jpeg)?;
    let reference = box_average(&original, (2160, 1008, 1440, 864), (500, 300));
    for (name, thumb) in [("full run", &full), ("thumbnail_only", &alone)] {
        let diff = mean_abs_diff(&thumb.rgb, &reference);
        ensure!(
            diff < 10.0,
            "{name} thumbnail differs from the centre by {diff:.2} on average"
        );
    }
    Ok(())
}

#[test]
fn small_panorama_keeps_the_original_as_sd() -> Result<()> {
    // 1024x512: the grid is 4x2 tiles of 256 px, and nothing is wider than the SD size.
    let jpeg = craft(1024, 512, |x, y| [(x / 4) as u8, (y / 2) as u8, 128])?;
    let d = make_derivatives(&jpeg, &PANO)?;
    assert_eq!(d.sd, None);
    assert_eq!(size_of(&d.thumb)?, (500, 300));
    assert_eq!(d.tiles.len(), 8);
    for tile in &d.tiles {
        assert_eq!(size_of(&tile.jpeg)?, (256, 256));
    }
    Ok(())
}

#[test]
fn centre_thumbnail_shows_the_centre() -> Result<()> {
    // Only the box GeoVisio keeps, (0.375..0.625, 0.35..0.65) of the picture, is red.
    let (w, h) = (2000, 1000);
    let jpeg = craft(w, h, |x, y| {
        let inside = (750..1250).contains(&x) && (350..650).contains(&y);
        if inside { [255, 0, 0] } else { [0, 0, 255] }
    })?;
    let thumb = decode(&make_derivatives(&jpeg, &PANO)?.thumb)?;
    for (x, y) in [(5, 5), (250, 150), (494, 294)] {
        let [r, _, b] = thumb.pixel(x, y);
        ensure!(
            r > 200 && b < 60,
            "thumbnail pixel ({x},{y}) is not red: {r},{b}"
        );
    }
    Ok(())
}
