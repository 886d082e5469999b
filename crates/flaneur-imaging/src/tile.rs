//! 360° tiles: cutting the displayed panorama into the viewer's grid and encoding each cell.
//!
//! The grid itself (how many columns and rows for a given width) is a domain rule owned by
//! `flaneur_model::TileGrid`; this module only cuts and encodes.

use std::num::NonZeroUsize;
use std::thread;

use flaneur_model::TileGrid;

use crate::encode::{Encoder, TILE};
use crate::error::Result;
use crate::pixels::Rgb;

/// Threads that encode tiles at most. Encoding is about 1.4 ms per 720x720 tile, so a few
/// threads bring the 32 tiles of a common 360° picture from ~45 ms to ~20 ms; more would mostly
/// compete with the other pictures that workers process at the same time.
const MAX_TILE_THREADS: usize = 4;

/// One cell of a 360° picture's tile grid, encoded as JPEG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tile {
    /// Column, from 0 at the left edge.
    pub col: u32,
    /// Row, from 0 at the top edge.
    pub row: u32,
    /// The encoded tile.
    pub jpeg: Vec<u8>,
}

/// Cuts `rgb` (already oriented) into the `TileGrid` for its size and encodes every tile, in
/// row-major order (`0_0`, `1_0`, …). When the picture's size is not a multiple of the grid,
/// the few pixels past the last column or row belong to no tile, as in the reference server.
/// A picture narrower than its column count or lower than its row count (a few pixels: only
/// crafted files) has empty cells and gets no tiles.
///
/// # Errors
/// [`crate::ImagingError::Encode`] naming the first tile that failed.
pub(crate) fn cut_tiles(rgb: &Rgb) -> Result<Vec<Tile>> {
    // Sizes were checked against decode::MAX_SIDE_PX, far below u32::MAX.
    let (width, height) = (rgb.width() as u32, rgb.height() as u32);
    let grid = TileGrid::for_size(width, height);
    if grid.tile_width == 0 || grid.tile_height == 0 {
        return Ok(Vec::new());
    }
    let cells: Vec<(u32, u32)> = (0..grid.rows)
        .flat_map(|row| (0..grid.cols).map(move |col| (col, row)))
        .collect();
    let threads = thread::available_parallelism()
        .map_or(1, NonZeroUsize::get)
        .clamp(1, MAX_TILE_THREADS)
        .min(cells.len().max(1));
    let per_thread = cells.len().div_ceil(threads);

    // Each thread gets a run of consecutive cells and its own encoder; the runs come back in
    // order, so the output keeps row-major order without sorting.
    thread::scope(|scope| {
        let mut runs = cells.chunks(per_thread.max(1));
        let first = runs.next().unwrap_or(&[]);
        let handles: Vec<_> = runs
            .map(|run| scope.spawn(move || encode_run(rgb, grid, run)))
            .collect();
        let mut tiles = encode_run(rgb, grid, first)?;
        for handle in handles {
            let run = handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            tiles.extend(run?);
        }
        Ok(tiles)
    })
}

/// Encodes the tiles at `cells` with one encoder.
fn encode_run(rgb: &Rgb, grid: TileGrid, cells: &[(u32, u32)]) -> Result<Vec<Tile>> {
    let mut encoder = Encoder::new(TILE, "tiles")?;
    let (tw, th) = (grid.tile_width as usize, grid.tile_height as usize);
    cells
        .iter()
        .map(|&(col, row)| {
            let view = rgb
                .region(col as usize * tw, row as usize * th, tw, th)
                .expect("non-empty cells of a grid made for the picture's size lie inside it");
            let jpeg = encoder.encode(view, &format!("tile {col}_{row}"))?;
            Ok(Tile { col, row, jpeg })
        })
        .collect()
}
