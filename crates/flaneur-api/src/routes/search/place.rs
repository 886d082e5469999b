//! The `place_*` parameters of a search: pictures near a place and looking at it.

use flaneur_store::PlaceQuery;
use serde_json::Value;

use crate::ApiError;

/// Distances when the client gives none, in metres: close enough to see the place well.
pub(in crate::routes) const DEFAULT_DISTANCE_M: (f64, f64) = (3.0, 15.0);
/// Width of the cone around a flat picture's heading when the client gives none, in degrees.
pub(in crate::routes) const DEFAULT_TOLERANCE_DEG: f64 = 30.0;
/// The farthest a picture may be from the place, in metres: the bound keeps the box searched
/// around the place small, however deep the client pages.
pub(in crate::routes) const MAX_DISTANCE_M: f64 = 1_000.0;

/// The place parameters as the client sent them, still unchecked.
#[derive(Default)]
pub struct PlaceParams<'a> {
    /// `place_position`.
    pub position: Option<&'a Value>,
    /// `place_distance`.
    pub distance: Option<&'a Value>,
    /// `place_fov_tolerance`.
    pub tolerance: Option<&'a Value>,
}

impl PlaceParams<'_> {
    /// The place search asked for, or `None` when there is no `place_position`.
    ///
    /// # Errors
    /// A 400 naming the parameter when one is malformed or out of range, or when a distance
    /// or a tolerance comes without a position.
    pub fn read(&self) -> Result<Option<PlaceQuery>, ApiError> {
        let Some(position) = self.position else {
            if self.distance.is_some() || self.tolerance.is_some() {
                return Err(ApiError::bad_request(
                    "Parameters place_distance and place_fov_tolerance need place_position",
                ));
            }
            return Ok(None);
        };
        let position = read_position(position)?;
        let (min, max) = match self.distance {
            None => DEFAULT_DISTANCE_M,
            Some(d) => read_distance(d)?,
        };
        let tolerance = match self.tolerance {
            None => DEFAULT_TOLERANCE_DEG,
            Some(t) => read_tolerance(t)?,
        };
        Ok(Some(PlaceQuery {
            position,
            min_distance_m: min,
            max_distance_m: max,
            fov_tolerance_deg: tolerance,
        }))
    }
}

fn read_position(value: &Value) -> Result<[f64; 2], ApiError> {
    let bad = || {
        ApiError::bad_request(
            "Parameter place_position must be a longitude and a latitude in degrees, as \
             lon,lat (e.g. place_position=2.35,48.85)",
        )
    };
    let numbers: Vec<f64> = match value {
        Value::String(text) => text
            .split(',')
            .map(|p| p.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| bad())?,
        Value::Array(items) => items
            .iter()
            .map(Value::as_f64)
            .collect::<Option<_>>()
            .ok_or_else(bad)?,
        _ => return Err(bad()),
    };
    match numbers.as_slice() {
        [lon, lat] if (-180.0..=180.0).contains(lon) && (-90.0..=90.0).contains(lat) => {
            Ok([*lon, *lat])
        }
        _ => Err(bad()),
    }
}

fn read_distance(value: &Value) -> Result<(f64, f64), ApiError> {
    let bad = || {
        ApiError::bad_request(format!(
            "Parameter place_distance must be a range of metres as min-max, with \
             0 <= min <= max <= {MAX_DISTANCE_M} (e.g. place_distance=3-15)"
        ))
    };
    let text = value.as_str().ok_or_else(bad)?;
    let (min, max) = text.split_once('-').ok_or_else(bad)?;
    let min: f64 = min.trim().parse().map_err(|_| bad())?;
    let max: f64 = max.trim().parse().map_err(|_| bad())?;
    if !(0.0 <= min && min <= max && max <= MAX_DISTANCE_M) {
        return Err(bad());
    }
    Ok((min, max))
}

fn read_tolerance(value: &Value) -> Result<f64, ApiError> {
    let degrees = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(text) => text.trim().parse::<f64>().ok(),
        _ => None,
    };
    match degrees {
        Some(d) if (2.0..=180.0).contains(&d) => Ok(d),
        _ => Err(ApiError::bad_request(
            "Parameter place_fov_tolerance must be a number of degrees between 2 and 180",
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn read(position: Value, distance: Option<Value>, tolerance: Option<Value>) -> bool {
        let params = PlaceParams {
            position: Some(&position),
            distance: distance.as_ref(),
            tolerance: tolerance.as_ref(),
        };
        params.read().is_ok()
    }

    #[test]
    fn reads_defaults_and_both_forms() {
        let position = json!("-1.68,48.15");
        let place = PlaceParams {
            position: Some(&position),
            ..PlaceParams::default()
        };
        let place = place.read().expect("valid").expect("a place");
        assert_eq!(place.position, [-1.68, 48.15]);
        assert_eq!((place.min_distance_m, place.max_distance_m), (3.0, 15.0));
        assert_eq!(place.fov_tolerance_deg, 30.0);
        assert!(read(
            json!([-1.68, 48.15]),
            Some(json!("0-50")),
            Some(json!(2))
        ));
        assert!(read(json!("2,48"), None, Some(json!("180"))));
    }

    #[test]
    fn refuses_bad_values() {
        assert!(!read(json!("2"), None, None));
        assert!(!read(json!("200,48"), None, None));
        assert!(!read(json!("2,48"), Some(json!("15-3")), None));
        assert!(!read(json!("2,48"), Some(json!("3")), None));
        assert!(!read(json!("2,48"), Some(json!("0-5000")), None));
        assert!(!read(json!("2,48"), None, Some(json!(1))));
        assert!(!read(json!("2,48"), None, Some(json!(181))));
        let distance = json!("3-15");
        let lonely = PlaceParams {
            distance: Some(&distance),
            ..PlaceParams::default()
        };
        assert!(lonely.read().is_err());
    }
}
