//! Web-Mercator tile math: which tiles exist, the area a tile covers, and placing positions
//! and tracks in a tile's integer coordinates, clipped to the tile and its buffer.

use std::f64::consts::PI;

use super::mvt::EXTENT;

/// Deepest zoom served, as on Panoramax instances.
pub const MAX_ZOOM: u8 = 15;

/// Margin kept around a tile, in tile units, so that lines and circles drawn across the edge
/// of two tiles meet (the PostGIS default).
pub const BUFFER: i32 = 256;

/// The address of a tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileId {
    /// Zoom level.
    pub z: u8,
    /// Column, from the west.
    pub x: u32,
    /// Row, from the north.
    pub y: u32,
}

impl TileId {
    /// The tile, if it exists: `z` at most [`MAX_ZOOM`], `x` and `y` below `2^z`.
    pub fn new(z: u8, x: u32, y: u32) -> Option<TileId> {
        let n = 1u32.checked_shl(u32::from(z))?;
        (z <= MAX_ZOOM && x < n && y < n).then_some(TileId { z, x, y })
    }

    /// The tile holding a position at a zoom.
    pub fn containing(z: u8, lon: f64, lat: f64) -> TileId {
        let n = f64::from(1u32 << z);
        let [wx, wy] = world(lon, lat);
        let clamp = |v: f64| (v * n).floor().clamp(0.0, n - 1.0) as u32;
        TileId {
            z,
            x: clamp(wx),
            y: clamp(wy),
        }
    }

    fn scale(&self) -> f64 {
        f64::from(1u32 << self.z)
    }

    /// `[min lon, min lat, max lon, max lat]` covered by the tile and its buffer.
    pub fn bbox_with_buffer(&self) -> [f64; 4] {
        let margin = f64::from(BUFFER) / f64::from(EXTENT);
        let n = self.scale();
        let west = (f64::from(self.x) - margin) / n;
        let east = (f64::from(self.x) + 1.0 + margin) / n;
        let north = (f64::from(self.y) - margin) / n;
        let south = (f64::from(self.y) + 1.0 + margin) / n;
        [
            lon_of(west).max(-180.0),
            lat_of(south),
            lon_of(east).min(180.0),
            lat_of(north),
        ]
    }

    /// A position in the tile's coordinates (may lie outside `0..EXTENT`), unrounded.
    pub fn project(&self, lon: f64, lat: f64) -> [f64; 2] {
        let [wx, wy] = world(lon, lat);
        let n = self.scale();
        let extent = f64::from(EXTENT);
        [
            (wx * n - f64::from(self.x)) * extent,
            (wy * n - f64::from(self.y)) * extent,
        ]
    }

    /// A position in the tile's integer coordinates, if inside the tile or its buffer.
    pub fn point(&self, lon: f64, lat: f64) -> Option<[i32; 2]> {
        let [x, y] = self.project(lon, lat);
        let p = [x.round(), y.round()];
        let (lo, hi) = (f64::from(-BUFFER), f64::from(EXTENT as i32 + BUFFER));
        p.iter()
            .all(|v| (lo..=hi).contains(v))
            .then(|| [p[0] as i32, p[1] as i32])
    }

    /// A track of `(lon, lat)` positions as lines in the tile's integer coordinates: clipped
    /// to the tile and its buffer, rounded, with repeated points dropped. A track leaving and
    /// re-entering the tile gives several lines; a line shrunk to one point becomes a stub of
    /// one unit, so that a short sequence still shows at low zooms.
    pub fn lines(&self, track: &[[f64; 2]]) -> Vec<Vec<[i32; 2]>> {
        let projected: Vec<[f64; 2]> = track.iter().map(|p| self.project(p[0], p[1])).collect();
        let lo = f64::from(-BUFFER);
        let hi = f64::from(EXTENT as i32 + BUFFER);
        let mut lines: Vec<Vec<[i32; 2]>> = Vec::new();
        let mut current: Vec<[i32; 2]> = Vec::new();
        for pair in projected.windows(2) {
            let Some((a, b)) = clip_segment(pair[0], pair[1], lo, hi) else {
                flush(&mut lines, &mut current);
                continue;
            };
            let (a, b) = (round(a), round(b));
            if current.last() != Some(&a) {
                flush(&mut lines, &mut current);
                current.push(a);
            }
            if current.last() != Some(&b) {
                current.push(b);
            }
            // A segment leaving the box ends the line: the next one re-enters elsewhere.
            if round(pair[1]) != b {
                flush(&mut lines, &mut current);
            }
        }
        flush(&mut lines, &mut current);
        lines
    }
}

fn round(p: [f64; 2]) -> [i32; 2] {
    [p[0].round() as i32, p[1].round() as i32]
}

fn flush(lines: &mut Vec<Vec<[i32; 2]>>, current: &mut Vec<[i32; 2]>) {
    let mut line = std::mem::take(current);
    if let [[x, y]] = line[..] {
        line.push([x.saturating_add(1), y]);
    }
    if line.len() >= 2 {
        lines.push(line);
    }
}

/// Web-Mercator position of a point in `[0, 1]²`, from the north-west corner.
fn world(lon: f64, lat: f64) -> [f64; 2] {
    // Beyond ±85.0511° the projection diverges; tiles stop there.
    let lat = lat.clamp(-85.051_128_78, 85.051_128_78).to_radians();
    let x = (lon + 180.0) / 360.0;
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / PI) / 2.0;
    [x, y]
}

fn lon_of(wx: f64) -> f64 {
    wx * 360.0 - 180.0
}

fn lat_of(wy: f64) -> f64 {
    (PI * (1.0 - 2.0 * wy)).sinh().atan().to_degrees()
}

/// The part of segment `a`–`b` inside the square `[lo, hi]²` (Liang–Barsky).
fn clip_segment(a: [f64; 2], b: [f64; 2], lo: f64, hi: f64) -> Option<([f64; 2], [f64; 2])> {
    let d = [b[0] - a[0], b[1] - a[1]];
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for axis in 0..2 {
        for (p, q) in [(-d[axis], a[axis] - lo), (d[axis], hi - a[axis])] {
            if p == 0.0 {
                if q < 0.0 {
                    return None;
                }
                continue;
            }
            let t = q / p;
            if p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    if t0 > t1 {
        return None;
    }
    let at = |t: f64| [a[0] + t * d[0], a[1] + t * d[1]];
    Some((at(t0), at(t1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tiles_of_the_pyramid_exist() {
        assert!(TileId::new(0, 0, 0).is_some());
        assert!(TileId::new(15, 32767, 32767).is_some());
        assert!(TileId::new(16, 0, 0).is_none());
        assert!(TileId::new(3, 8, 0).is_none());
        assert!(TileId::new(3, 0, 8).is_none());
        assert!(TileId::new(200, 0, 0).is_none());
    }

    #[test]
    fn positions_fall_in_the_tiles_of_the_reference() {
        // The GoPro pictures in GeoVisio's recorded tiles (panoramax-api.md samples).
        let (lon, lat) = (1.9192, 49.0069);
        assert_eq!(
            TileId::containing(15, lon, lat),
            TileId {
                z: 15,
                x: 16558,
                y: 11252
            }
        );
        assert_eq!(
            TileId::containing(12, lon, lat),
            TileId {
                z: 12,
                x: 2069,
                y: 1406
            }
        );
        assert_eq!(
            TileId::containing(5, lon, lat),
            TileId { z: 5, x: 16, y: 10 }
        );
        // Grid point (1.9, 49.0) is at (692, 43) in tile 5/16/10 of the recorded sample, whose
        // decoder counted y upwards: 4096 - 43 = 4053 from the top.
        let tile = TileId::new(5, 16, 10).expect("tile");
        assert_eq!(tile.point(1.9, 49.0), Some([692, 4053]));
    }

    #[test]
    fn corners_project_to_the_extent() {
        let tile = TileId::new(1, 1, 0).expect("tile");
        let [x, y] = tile.project(0.0, 0.0);
        assert!(x.abs() < 1e-6 && (y - 4096.0).abs() < 1e-6, "{x} {y}");
        let [x, y] = tile.project(180.0, 85.051_128_78);
        assert!((x - 4096.0).abs() < 1e-6 && y.abs() < 1e-3, "{x} {y}");
        let bbox = TileId::new(1, 1, 0).expect("tile").bbox_with_buffer();
        assert!(
            bbox[0] < 0.0 && bbox[1] < 0.0 && bbox[2] == 180.0,
            "{bbox:?}"
        );
    }

    #[test]
    fn points_outside_the_buffer_are_dropped() {
        let tile = TileId::new(10, 512, 511).expect("tile");
        assert!(tile.point(0.1, 0.1).is_some());
        assert!(tile.point(10.0, 0.1).is_none());
    }

    #[test]
    fn a_short_track_stays_visible_when_zoomed_out() {
        // Four metres are a hundredth of a unit at zoom 5: the line keeps a one-unit stub.
        let tile = TileId::new(5, 16, 11).expect("tile");
        let track = [[1.919, 49.007], [1.919_03, 49.007_02]];
        let lines = tile.lines(&track);
        assert_eq!(lines.len(), 1, "{lines:?}");
        let [a, b] = [lines[0][0], lines[0][1]];
        assert_eq!((b[0] - a[0], b[1] - a[1]), (1, 0));
        // A single position is no line at all.
        assert!(tile.lines(&track[..1]).is_empty());
    }

    #[test]
    fn tracks_are_clipped_at_the_buffer_and_split_when_they_leave() {
        let tile = TileId::new(0, 0, 0).expect("tile");
        // In world units of zoom 0 one tile unit is 360/4096 degrees of longitude.
        let unit = 360.0 / 4096.0;
        let at = |x: f64| [x * unit - 180.0, 0.0];
        let lines = tile.lines(&[at(100.0), at(200.0), at(5000.0), at(4000.0), at(3000.0)]);
        assert_eq!(
            lines,
            vec![
                vec![[100, 2048], [200, 2048], [4352, 2048]],
                vec![[4352, 2048], [4000, 2048], [3000, 2048]],
            ]
        );
        // A track entirely outside gives nothing.
        assert!(tile.lines(&[at(-1000.0), at(-900.0)]).is_empty());
    }
}
