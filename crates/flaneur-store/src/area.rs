//! Search areas: GeoJSON geometries (polygons, lines, points) tested against picture points.

use serde::{Deserialize, Serialize};

/// Positions this close (in degrees, about a tenth of a millimetre) are one place: a picture
/// lies on a point or a line of the area only within this distance.
const TOUCH: f64 = 1e-9;

/// Polygons, lines and points in WGS84 degrees, as `[lon, lat]` positions. Each polygon is a
/// list of rings (outer first, then holes); each line a list of positions.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Area {
    /// The polygons.
    pub polygons: Vec<Vec<Vec<[f64; 2]>>>,
    /// The lines (GeoJSON line strings).
    #[serde(default)]
    pub lines: Vec<Vec<[f64; 2]>>,
    /// The points.
    #[serde(default)]
    pub points: Vec<[f64; 2]>,
}

impl Area {
    /// `[min lon, min lat, max lon, max lat]` of every outer ring, line and point, or `None`
    /// when empty.
    pub fn bbox(&self) -> Option<[f64; 4]> {
        let rings = self.polygons.iter().filter_map(|p| p.first());
        let mut points = rings
            .chain(self.lines.iter())
            .flatten()
            .chain(self.points.iter());
        let first = points.next()?;
        let mut b = [first[0], first[1], first[0], first[1]];
        for p in points {
            b[0] = b[0].min(p[0]);
            b[1] = b[1].min(p[1]);
            b[2] = b[2].max(p[0]);
            b[3] = b[3].max(p[1]);
        }
        Some(b)
    }

    /// Whether the point lies inside one of the polygons (inside its outer ring and outside
    /// its holes; points exactly on an edge may fall either way), on one of the lines or on one
    /// of the points.
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        let on_point = |p: &[f64; 2]| (p[0] - lon).abs() <= TOUCH && (p[1] - lat).abs() <= TOUCH;
        if self.points.iter().any(on_point) {
            return true;
        }
        let on_line = |line: &Vec<[f64; 2]>| {
            line.len() == 1 && on_point(&line[0])
                || line
                    .windows(2)
                    .any(|w| segment_distance(w[0], w[1], lon, lat) <= TOUCH)
        };
        if self.lines.iter().any(on_line) {
            return true;
        }
        self.polygons.iter().any(|rings| {
            let mut rings = rings.iter();
            let Some(outer) = rings.next() else {
                return false;
            };
            ring_contains(outer, lon, lat) && !rings.any(|hole| ring_contains(hole, lon, lat))
        })
    }
}

/// Distance in degrees from a point to the segment `a`–`b`, in the plane of `[lon, lat]`.
fn segment_distance(a: [f64; 2], b: [f64; 2], lon: f64, lat: f64) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let length2 = dx * dx + dy * dy;
    let t = if length2 == 0.0 {
        0.0
    } else {
        (((lon - a[0]) * dx + (lat - a[1]) * dy) / length2).clamp(0.0, 1.0)
    };
    let (x, y) = (a[0] + t * dx, a[1] + t * dy);
    ((lon - x).powi(2) + (lat - y).powi(2)).sqrt()
}

/// Even-odd rule: count the ring edges that a ray going east from the point crosses.
fn ring_contains(ring: &[[f64; 2]], lon: f64, lat: f64) -> bool {
    let mut inside = false;
    let n = ring.len();
    if n < 3 {
        return false;
    }
    let mut j = n - 1;
    for i in 0..n {
        let (xi, yi) = (ring[i][0], ring[i][1]);
        let (xj, yj) = (ring[j][0], ring[j][1]);
        if (yi > lat) != (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square_with_hole() -> Area {
        Area {
            polygons: vec![vec![
                vec![
                    [0.0, 0.0],
                    [10.0, 0.0],
                    [10.0, 10.0],
                    [0.0, 10.0],
                    [0.0, 0.0],
                ],
                vec![[4.0, 4.0], [6.0, 4.0], [6.0, 6.0], [4.0, 6.0], [4.0, 4.0]],
            ]],
            ..Area::default()
        }
    }

    #[test]
    fn point_in_polygon_respects_holes() {
        let area = square_with_hole();
        assert!(area.contains(1.0, 1.0));
        assert!(!area.contains(5.0, 5.0));
        assert!(!area.contains(11.0, 5.0));
        assert_eq!(area.bbox(), Some([0.0, 0.0, 10.0, 10.0]));
    }

    #[test]
    fn points_and_lines_hold_only_what_lies_on_them() {
        let area = Area {
            lines: vec![vec![[0.0, 0.0], [2.0, 2.0]]],
            points: vec![[5.0, -1.0]],
            ..Area::default()
        };
        assert!(area.contains(1.0, 1.0));
        assert!(!area.contains(1.0, 1.001));
        assert!(!area.contains(3.0, 3.0));
        assert!(area.contains(5.0, -1.0));
        assert!(!area.contains(5.0, -1.001));
        assert_eq!(area.bbox(), Some([0.0, -1.0, 5.0, 2.0]));
    }
}
