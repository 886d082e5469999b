//! Search areas: polygons given as GeoJSON geometries, tested against picture points.

use serde::{Deserialize, Serialize};

/// One or more polygons in WGS84 degrees; each polygon is a list of rings (outer first, then
/// holes), each ring a list of `[lon, lat]` positions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Area {
    /// The polygons.
    pub polygons: Vec<Vec<Vec<[f64; 2]>>>,
}

impl Area {
    /// `[min lon, min lat, max lon, max lat]` of every outer ring, or `None` when empty.
    pub fn bbox(&self) -> Option<[f64; 4]> {
        let mut points = self.polygons.iter().filter_map(|p| p.first()).flatten();
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
    /// its holes). Points exactly on an edge may fall either way.
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        self.polygons.iter().any(|rings| {
            let mut rings = rings.iter();
            let Some(outer) = rings.next() else {
                return false;
            };
            ring_contains(outer, lon, lat) && !rings.any(|hole| ring_contains(hole, lon, lat))
        })
    }
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
}
