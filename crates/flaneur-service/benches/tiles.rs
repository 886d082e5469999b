//! Map tile latency on a catalog of a million synthetic published pictures (see
//! `support/synthetic.rs`). Run with `cargo bench -p flaneur-service --bench tiles`.
//!
//! For zooms 3, 8, 12 and 15 it draws about 200 tiles where pictures are, cold (no kept tile,
//! no kept grid) and from the tile cache, and prints p50/p95 per zoom. It asserts nothing
//! about time.
#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a bench program reports to its terminal"
)]

#[path = "support/synthetic.rs"]
mod synthetic;

use std::sync::Arc;
use std::time::Instant;

use flaneur_model::Viewer;
use flaneur_service::Services;
use flaneur_service::tile::geometry::TileId;
use flaneur_service::tile::{MapKind, MapState};

use synthetic::{Dice, percentile, walks};

const ZOOMS: [u8; 4] = [3, 8, 12, 15];
const TILES_PER_ZOOM: usize = 200;

/// About [`TILES_PER_ZOOM`] tiles of a zoom where pictures are: the tiles of pictures spread
/// over the whole catalog, each at most once, repeated in turn when fewer exist (low zooms).
fn tiles_with_data(total: usize, z: u8) -> (Vec<TileId>, usize) {
    let mut distinct: Vec<TileId> = Vec::new();
    let mut dice = Dice(0xb0a7_u64 + u64::from(z));
    for walk in walks(total) {
        let p = walk.points[dice.below(walk.points.len())];
        let tile = TileId::containing(z, p[0], p[1]);
        if !distinct.contains(&tile) {
            distinct.push(tile);
        }
    }
    for i in (1..distinct.len()).rev() {
        distinct.swap(i, dice.below(i + 1));
    }
    distinct.truncate(TILES_PER_ZOOM);
    let tiles = distinct
        .iter()
        .cycle()
        .take(TILES_PER_ZOOM)
        .copied()
        .collect();
    (tiles, distinct.len())
}

/// Times answering `tiles` as the tile route does (data version, then tile); `fresh` gives
/// each request empty map state (cold).
async fn time_tiles(services: &Services, tiles: &[TileId], fresh: bool) -> (f64, f64, usize) {
    let mut times = Vec::with_capacity(tiles.len());
    let mut bytes = 0;
    for tile in tiles {
        let mut services = services.clone();
        if fresh {
            services.map = Arc::new(MapState::new(0));
        }
        let start = Instant::now();
        let version = services.map_version().await.expect("version");
        let body = services
            .map_tile(MapKind::General, *tile, Viewer::ANONYMOUS, None, &version)
            .await
            .expect("tile");
        times.push(start.elapsed());
        bytes += body.len();
    }
    times.sort();
    (
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        bytes / tiles.len().max(1),
    )
}

#[tokio::main]
async fn main() {
    let total = synthetic::wanted_size();
    let (services, built) = synthetic::services(total).await;

    // 2. Cold: every tile drawn from the catalog. Cached: the same tiles, kept.
    println!("catalog: {built}");
    println!();
    println!(concat!(
        "| zoom | requests (distinct tiles) | bytes/tile ",
        "| cold p50 ms | cold p95 ms | cached p50 ms | cached p95 ms |"
    ));
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for z in ZOOMS {
        let (tiles, distinct) = tiles_with_data(total, z);
        let (cold50, cold95, size) = time_tiles(&services, &tiles, true).await;
        let _warm = time_tiles(&services, &tiles, false).await;
        let (hot50, hot95, _) = time_tiles(&services, &tiles, false).await;
        let requests = tiles.len();
        println!(
            "| {z} | {requests} ({distinct}) | {size} \
             | {cold50:.2} | {cold95:.2} | {hot50:.3} | {hot95:.3} |"
        );
    }
}
