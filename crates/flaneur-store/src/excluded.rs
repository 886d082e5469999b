//! Excluded areas: where pictures are refused, for everyone (general areas) or for the uploads
//! of one account. This module owns their GeoJSON geometry, its checks, and the decision
//! whether a point is refused; each catalog keeps the rows and a bounding box per area so that
//! only the few areas whose box holds the point are read and tested here.
//!
//! Allowed areas (a general set sent "inverted") are kept as given rather than as the world
//! minus their union: a point is refused when there is at least one allowed area and none of
//! them holds it. That needs no polygon clipping and gives the same answer on both catalogs.

use flaneur_model::{AccountId, ExcludedAreaId};
use serde_json::Value;

use crate::Area;

/// Most positions an area may have in all its rings, so that one area cannot make every
/// upload test slow or fill the catalog.
pub const MAX_VERTICES: usize = 20_000;

/// Longest label, in characters.
pub const MAX_LABEL_CHARS: usize = 256;

/// Polygons as GeoJSON `MultiPolygon` coordinates: polygons of rings (outer first, then
/// holes) of `[lon, lat]` positions, each ring closed.
pub type Polygons = Vec<Vec<Vec<[f64; 2]>>>;

/// An area to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewExcludedArea {
    /// A name for people.
    pub label: Option<String>,
    /// Whether anyone may list it.
    pub is_public: bool,
    /// The account whose uploads it refuses; `None` for every upload.
    pub account_id: Option<AccountId>,
    /// The area is one of the allowed ones of an inverted general set: pictures are refused
    /// outside of every such area rather than inside this one.
    pub is_allowed: bool,
    /// Its geometry, checked by [`polygons_from_geojson`].
    pub polygons: Polygons,
}

/// A stored area.
#[derive(Debug, Clone, PartialEq)]
pub struct ExcludedArea {
    /// Its id.
    pub id: ExcludedAreaId,
    /// Everything else, as given.
    pub area: NewExcludedArea,
}

/// Which areas to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AreaScope {
    /// The general areas: the public ones only, or all of them.
    General {
        /// Include the areas that are not public.
        include_private: bool,
    },
    /// The areas of one account.
    Account(AccountId),
}

/// Why a point is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exclusion {
    /// It lies in a general area, or outside of every allowed area.
    General,
    /// It lies in one of the uploader's own areas.
    Own,
}

/// A candidate area read by a catalog: its owner, whether it is an allowed one, and its
/// polygons as stored.
pub(crate) struct Candidate {
    pub account_id: Option<AccountId>,
    pub is_allowed: bool,
    pub polygons: Polygons,
}

/// Decides for a point, given the areas whose box holds it and whether any allowed area
/// exists at all. Exclusions by the uploader's own areas are named first, since those are
/// the ones the uploader can change.
pub(crate) fn decide(
    lon: f64,
    lat: f64,
    candidates: &[Candidate],
    has_allowed: bool,
) -> Option<Exclusion> {
    let holds = |c: &Candidate| {
        let area = Area {
            polygons: c.polygons.clone(),
            ..Area::default()
        };
        area.contains(lon, lat)
    };
    let excluding = candidates.iter().filter(|c| !c.is_allowed && holds(c));
    let mut general = false;
    for c in excluding {
        if c.account_id.is_some() {
            return Some(Exclusion::Own);
        }
        general = true;
    }
    let outside_allowed = has_allowed && !candidates.iter().any(|c| c.is_allowed && holds(c));
    (general || outside_allowed).then_some(Exclusion::General)
}

/// `[min lon, min lat, max lon, max lat]` of the outer rings.
pub(crate) fn bbox(polygons: &Polygons) -> [f64; 4] {
    let area = Area {
        polygons: polygons.clone(),
        ..Area::default()
    };
    area.bbox().unwrap_or([0.0; 4])
}

/// Polygons as stored in a catalog's text column.
pub(crate) fn to_stored(polygons: &Polygons) -> String {
    serde_json::to_string(polygons).unwrap_or_else(|_| "[]".to_owned())
}

/// Polygons read back from a catalog's text column.
pub(crate) fn from_stored(text: &str) -> crate::Result<Polygons> {
    serde_json::from_str(text).map_err(|e| crate::Error::corrupt("excluded_areas", e))
}

/// Reads and checks a GeoJSON `Polygon` or `MultiPolygon` geometry: rings of at least four
/// positions, closed, within WGS84 ranges, outer rings enclosing some surface, and at most
/// [`MAX_VERTICES`] positions in all. Altitudes are dropped.
///
/// # Errors
/// A message for the client saying what is wrong and where.
pub fn polygons_from_geojson(geometry: &Value) -> Result<Polygons, String> {
    let kind = geometry.get("type").and_then(Value::as_str);
    let coordinates = geometry
        .get("coordinates")
        .ok_or("the geometry has no `coordinates`")?;
    let raw: Vec<&Value> = match kind {
        Some("Polygon") => vec![coordinates],
        Some("MultiPolygon") => coordinates
            .as_array()
            .ok_or("MultiPolygon coordinates must be an array of polygons")?
            .iter()
            .collect(),
        Some(other) => {
            return Err(format!(
                "the geometry is a {other}: only Polygon and MultiPolygon are accepted"
            ));
        }
        None => return Err("the geometry has no `type`: use Polygon or MultiPolygon".to_owned()),
    };
    if raw.is_empty() {
        return Err("the MultiPolygon has no polygon".to_owned());
    }

    let mut polygons = Vec::with_capacity(raw.len());
    let mut vertices = 0usize;
    for (p, polygon) in raw.iter().enumerate() {
        let rings = polygon
            .as_array()
            .filter(|r| !r.is_empty())
            .ok_or_else(|| format!("polygon {p} must be a non-empty array of rings"))?;
        let mut parsed = Vec::with_capacity(rings.len());
        for (r, ring) in rings.iter().enumerate() {
            let ring = parse_ring(ring).map_err(|e| format!("polygon {p}, ring {r}: {e}"))?;
            vertices += ring.len();
            if vertices > MAX_VERTICES {
                return Err(format!(
                    "the geometry has more than {MAX_VERTICES} positions: simplify it or \
                     split it into several areas"
                ));
            }
            if r == 0 && ring_area(&ring) == 0.0 {
                return Err(format!("polygon {p}: its outer ring encloses no surface"));
            }
            parsed.push(ring);
        }
        polygons.push(parsed);
    }
    Ok(polygons)
}

fn parse_ring(ring: &Value) -> Result<Vec<[f64; 2]>, String> {
    let positions = ring
        .as_array()
        .ok_or("a ring must be an array of positions")?;
    if positions.len() < 4 {
        return Err(format!(
            "a ring needs at least 4 positions (the last one repeating the first), it has {}",
            positions.len()
        ));
    }
    let mut parsed = Vec::with_capacity(positions.len());
    for (i, position) in positions.iter().enumerate() {
        let numbers = position
            .as_array()
            .filter(|n| n.len() == 2 || n.len() == 3)
            .ok_or_else(|| format!("position {i} must be [longitude, latitude]"))?;
        let lon = numbers[0].as_f64();
        let lat = numbers[1].as_f64();
        let (Some(lon), Some(lat)) = (lon, lat) else {
            return Err(format!("position {i} must hold numbers"));
        };
        if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
            return Err(format!(
                "position {i} [{lon}, {lat}] is out of range: longitude must be within \
                 [-180, 180] and latitude within [-90, 90]"
            ));
        }
        parsed.push([lon, lat]);
    }
    if parsed.first() != parsed.last() {
        return Err("the ring is not closed: its last position must repeat the first".to_owned());
    }
    Ok(parsed)
}

/// Surface of a ring by the shoelace formula, in square degrees (sign dropped).
fn ring_area(ring: &[[f64; 2]]) -> f64 {
    let twice: f64 = ring
        .windows(2)
        .map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1])
        .sum();
    (twice / 2.0).abs()
}

/// The geometry of stored polygons as GeoJSON, a `MultiPolygon` as Panoramax instances show.
pub fn polygons_to_geojson(polygons: &Polygons) -> Value {
    serde_json::json!({ "type": "MultiPolygon", "coordinates": polygons })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn square(x: f64, y: f64, side: f64) -> Value {
        json!({ "type": "Polygon", "coordinates": [[
            [x, y], [x + side, y], [x + side, y + side], [x, y + side], [x, y]
        ]]})
    }

    #[test]
    fn reads_polygons_and_multipolygons() {
        let one = polygons_from_geojson(&square(0.0, 0.0, 1.0)).expect("polygon");
        assert_eq!(one.len(), 1);
        let many = json!({ "type": "MultiPolygon", "coordinates": [
            square(0.0, 0.0, 1.0)["coordinates"], square(5.0, 5.0, 1.0)["coordinates"]
        ]});
        assert_eq!(polygons_from_geojson(&many).expect("multi").len(), 2);
    }

    #[test]
    fn refuses_bad_geometries_saying_why() {
        let cases = [
            (
                json!({ "type": "Point", "coordinates": [1, 2] }),
                "only Polygon",
            ),
            (json!({ "type": "Polygon" }), "no `coordinates`"),
            (
                json!({ "type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 2]]] }),
                "not closed",
            ),
            (
                json!({ "type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]] }),
                "at least 4",
            ),
            (
                json!({ "type": "Polygon", "coordinates":
                    [[[0, 0], [200, 0], [1, 1], [0, 0]]] }),
                "out of range",
            ),
            (
                json!({ "type": "Polygon", "coordinates":
                    [[[0, 0], [1, 1], [2, 2], [0, 0]]] }),
                "no surface",
            ),
            (
                json!({ "type": "MultiPolygon", "coordinates": [] }),
                "no polygon",
            ),
        ];
        for (geometry, expected) in cases {
            let err = polygons_from_geojson(&geometry).expect_err("refused");
            assert!(err.contains(expected), "{err} should say {expected}");
        }
    }

    #[test]
    fn refuses_too_many_vertices() {
        let n = MAX_VERTICES + 1;
        let mut ring: Vec<[f64; 2]> = (0..n)
            .map(|i| {
                let t = i as f64 / n as f64 * std::f64::consts::TAU;
                [t.cos(), t.sin()]
            })
            .collect();
        ring.push(ring[0]);
        let geometry = json!({ "type": "Polygon", "coordinates": [ring] });
        let err = polygons_from_geojson(&geometry).expect_err("refused");
        assert!(err.contains("more than"), "{err}");
    }

    fn candidate(account: Option<AccountId>, is_allowed: bool, x: f64) -> Candidate {
        let geometry = square(x, 0.0, 1.0);
        Candidate {
            account_id: account,
            is_allowed,
            polygons: polygons_from_geojson(&geometry).expect("square"),
        }
    }

    #[test]
    fn own_areas_are_named_before_general_ones() {
        let own = AccountId::new();
        let areas = [
            candidate(None, false, 0.0),
            candidate(Some(own), false, 0.0),
        ];
        assert_eq!(decide(0.5, 0.5, &areas, false), Some(Exclusion::Own));
        assert_eq!(
            decide(0.5, 0.5, &areas[..1], false),
            Some(Exclusion::General)
        );
        assert_eq!(decide(2.5, 0.5, &areas, false), None);
    }

    #[test]
    fn allowed_areas_refuse_what_lies_outside_all_of_them() {
        let areas = [candidate(None, true, 0.0), candidate(None, true, 2.0)];
        assert_eq!(decide(0.5, 0.5, &areas, true), None);
        assert_eq!(decide(2.5, 0.5, &areas, true), None);
        assert_eq!(decide(1.5, 0.5, &areas, true), Some(Exclusion::General));
        // No allowed area's box holds the point, but allowed areas exist.
        assert_eq!(decide(9.0, 9.0, &[], true), Some(Exclusion::General));
        assert_eq!(decide(9.0, 9.0, &[], false), None);
    }
}
