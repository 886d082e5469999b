//! Map vector tiles of the published pictures, as Panoramax instances serve them
//! (panoramax-api.md §6): which layers each zoom carries, and the fields of their features.
//!
//! - [`geometry`]: Web-Mercator tile math and clipping.
//! - [`mvt`]: the vector tile encoding.
//!
//! Tiles are computed from the catalog at request time, so the map never lags behind it.

pub mod geometry;
pub mod mvt;

use flaneur_model::{Picture, PictureStatus};
use flaneur_store::{GridCell, SequenceTrack};

use self::geometry::{MAX_ZOOM, TileId, distance_m};
use self::mvt::{Feature, Geometry, Layer, Value};
use crate::read::{picture_is_visible, sequence_is_visible};
use crate::{Result, Services};

/// Deepest zoom with the `grid` layer, and first with `sequences` (without properties there).
pub const ZOOM_GRID_SEQUENCES: u8 = 6;

/// A sequence's line is broken between two consecutive pictures farther apart than this.
pub const MAX_GAP_M: f64 = 75.0;

/// Fields of each layer, announced by the style so the viewer knows what it may filter on.
pub const SEQUENCE_FIELDS: [&str; 7] = [
    "id",
    "account_id",
    "model",
    "type",
    "date",
    "gps_accuracy",
    "h_pixel_density",
];
/// See [`SEQUENCE_FIELDS`].
pub const PICTURE_FIELDS: [&str; 10] = [
    "id",
    "account_id",
    "ts",
    "heading",
    "sequences",
    "first_sequence",
    "type",
    "model",
    "gps_accuracy",
    "h_pixel_density",
];
/// See [`SEQUENCE_FIELDS`].
pub const GRID_FIELDS: [&str; 6] = [
    "nb_pictures",
    "nb_360_pictures",
    "nb_flat_pictures",
    "coef",
    "coef_360_pictures",
    "coef_flat_pictures",
];

impl Services {
    /// A token that changes whenever what tiles show may have changed, for their ETags.
    ///
    /// # Errors
    /// Fails when the catalog cannot be read.
    pub async fn map_version(&self) -> Result<String> {
        Ok(self.catalog.data_version().await?)
    }

    /// The vector tile of published pictures at a tile address.
    ///
    /// # Errors
    /// Fails when the catalog cannot be read.
    pub async fn map_tile(&self, tile: TileId) -> Result<Vec<u8>> {
        let mut layers = Vec::new();
        if tile.z >= ZOOM_GRID_SEQUENCES {
            let tracks = self
                .catalog
                .sequence_tracks(tile.bbox_with_buffer())
                .await?;
            let tracks: Vec<SequenceTrack> = tracks
                .into_iter()
                .filter(|t| sequence_is_visible(&t.sequence))
                .map(|mut t| {
                    t.pictures
                        .retain(|p| picture_is_visible(p) && p.status == PictureStatus::Ready);
                    t
                })
                .collect();
            layers.push(sequences_layer(tile, &tracks));
            if tile.z == MAX_ZOOM {
                layers.push(pictures_layer(tile, &tracks));
            }
        }
        if tile.z <= ZOOM_GRID_SEQUENCES {
            // TODO: the grid is aggregated over the whole catalog on every low-zoom request,
            // which is fine for thousands of pictures, not millions: keep it in a table updated
            // by the writes to pictures and sequences instead.
            let cells = self.catalog.picture_grid().await?;
            layers.push(grid_layer(tile, &cells));
        }
        Ok(mvt::encode(&layers))
    }
}

/// `make model` as Panoramax shows it, without repeating a make the model already starts with.
fn camera_model(p: &Picture) -> Option<String> {
    let d = &p.base.details;
    match (d.make.as_deref(), d.model.as_deref()) {
        (Some(make), Some(model)) if model.to_lowercase().starts_with(&make.to_lowercase()) => {
            Some(model.to_owned())
        }
        (Some(make), Some(model)) => Some(format!("{make} {model}")),
        (make, model) => make.or(model).map(str::to_owned),
    }
}

/// Pixels per degree of horizontal field of view.
fn pixel_density(p: &Picture) -> Option<i64> {
    let fov = p.base.details.field_of_view_deg.filter(|f| *f > 0.0)?;
    Some((f64::from(p.base.width) / fov).round() as i64)
}

fn projection_name(p: &Picture) -> &'static str {
    p.base.projection.as_str()
}

/// A track's positions, cut where consecutive pictures are more than [`MAX_GAP_M`] apart.
fn track_parts(pictures: &[Picture]) -> Vec<Vec<[f64; 2]>> {
    let points: Vec<[f64; 2]> = pictures.iter().map(|p| [p.base.lon, p.base.lat]).collect();
    track_points_parts(&points)
}

/// [`track_parts`] over `(lon, lat)` positions.
fn track_points_parts(points: &[[f64; 2]]) -> Vec<Vec<[f64; 2]>> {
    let mut parts: Vec<Vec<[f64; 2]>> = Vec::new();
    let mut current: Vec<[f64; 2]> = Vec::new();
    for &here in points {
        if current
            .last()
            .is_some_and(|&last| distance_m(last, here) > MAX_GAP_M)
        {
            parts.push(std::mem::take(&mut current));
        }
        current.push(here);
    }
    parts.push(current);
    parts
}

fn sequences_layer(tile: TileId, tracks: &[SequenceTrack]) -> Layer {
    let mut features = Vec::new();
    for track in tracks {
        let lines: Vec<Vec<[i32; 2]>> = track_parts(&track.pictures)
            .iter()
            .flat_map(|part| tile.lines(part))
            .collect();
        if lines.is_empty() {
            continue;
        }

        // At the first sequence zoom lines are many and small: geometry only, as Panoramax.
        let mut properties = Vec::new();
        if tile.z > ZOOM_GRID_SEQUENCES {
            let s = &track.sequence;
            let first = track.pictures.first();
            let mut put = |key: &str, value: Option<Value>| {
                if let Some(v) = value {
                    properties.push((key.to_owned(), v));
                }
            };
            put("id", Some(Value::Str(s.id.to_string())));
            put("account_id", Some(Value::Str(s.account_id.to_string())));
            put("model", first.and_then(camera_model).map(Value::Str));
            put("type", first.map(|p| Value::Str(projection_name(p).into())));
            let date = s.min_captured_at.map(|t| t.format("%Y-%m-%d").to_string());
            put("date", date.map(Value::Str));
            put("gps_accuracy", s.gps_accuracy_m.map(Value::Double));
            put(
                "h_pixel_density",
                first.and_then(pixel_density).map(Value::Int),
            );
        }
        features.push(Feature {
            geometry: Geometry::Lines(lines),
            properties,
        });
    }
    Layer {
        name: "sequences".into(),
        features,
    }
}

fn pictures_layer(tile: TileId, tracks: &[SequenceTrack]) -> Layer {
    let mut features = Vec::new();
    for track in tracks {
        let sequence = track.sequence.id.to_string();
        for p in &track.pictures {
            let Some(point) = tile.point(p.base.lon, p.base.lat) else {
                continue;
            };
            let mut properties = Vec::new();
            let mut put = |key: &str, value: Option<Value>| {
                if let Some(v) = value {
                    properties.push((key.to_owned(), v));
                }
            };
            put("id", Some(Value::Str(p.base.id.to_string())));
            let ts = p.base.captured_at.format("%Y-%m-%d %H:%M:%S%.f+00");
            put("ts", Some(Value::Str(ts.to_string())));
            put(
                "heading",
                p.base.heading_deg.map(|h| Value::Int(h.round() as i64)),
            );
            put(
                "account_id",
                Some(Value::Str(p.base.account_id.to_string())),
            );
            put("type", Some(Value::Str(projection_name(p).into())));
            put("model", camera_model(p).map(Value::Str));
            put(
                "gps_accuracy",
                p.base.details.gps_accuracy_m.map(Value::Double),
            );
            put("h_pixel_density", pixel_density(p).map(Value::Int));
            let list = serde_json::json!([sequence]).to_string();
            put("sequences", Some(Value::Str(list)));
            put("first_sequence", Some(Value::Str(sequence.clone())));
            features.push(Feature {
                geometry: Geometry::Points(vec![point]),
                properties,
            });
        }
    }
    Layer {
        name: "pictures".into(),
        features,
    }
}

/// How dense a cell is among all non-empty cells, in `[0, 1]` by steps of 0.1: up to the
/// median the first half of the scale, above it the second half.
fn coef(count: i64, median: f64, max: i64) -> f64 {
    if count <= 0 || max <= 0 {
        return 0.0;
    }
    let count = count as f64;
    let raw = if count <= median {
        0.5 * count / median
    } else {
        0.5 + 0.5 * count / max as f64
    };
    (raw * 10.0).round() / 10.0
}

/// Median and maximum of the non-zero counts.
fn spread(counts: impl Iterator<Item = i64>) -> (f64, i64) {
    let mut counts: Vec<i64> = counts.filter(|c| *c > 0).collect();
    counts.sort_unstable();
    let Some(&max) = counts.last() else {
        return (0.0, 0);
    };
    let mid = counts.len() / 2;
    let median = if counts.len() % 2 == 1 {
        counts[mid] as f64
    } else {
        (counts[mid - 1] + counts[mid]) as f64 / 2.0
    };
    (median, max)
}

fn grid_layer(tile: TileId, cells: &[GridCell]) -> Layer {
    // Coefficients compare a cell with every cell of the catalog, not only this tile's.
    let flat = |c: &GridCell| c.nb_pictures - c.nb_360_pictures;
    let all = spread(cells.iter().map(|c| c.nb_pictures));
    let pano = spread(cells.iter().map(|c| c.nb_360_pictures));
    let plain = spread(cells.iter().map(flat));

    let mut features = Vec::new();
    for c in cells {
        let Some(point) = tile.point(c.lon, c.lat) else {
            continue;
        };
        let properties = vec![
            ("nb_pictures".into(), Value::Int(c.nb_pictures)),
            ("nb_360_pictures".into(), Value::Int(c.nb_360_pictures)),
            ("nb_flat_pictures".into(), Value::Int(flat(c))),
            (
                "coef".into(),
                Value::Double(coef(c.nb_pictures, all.0, all.1)),
            ),
            (
                "coef_360_pictures".into(),
                Value::Double(coef(c.nb_360_pictures, pano.0, pano.1)),
            ),
            (
                "coef_flat_pictures".into(),
                Value::Double(coef(flat(c), plain.0, plain.1)),
            ),
        ];
        features.push(Feature {
            geometry: Geometry::Points(vec![point]),
            properties,
        });
    }
    Layer {
        name: "grid".into(),
        features,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracks_break_where_pictures_are_far_apart() {
        // 0.0005° of latitude is about 56 m, 0.001° about 111 m.
        let lats = [48.0, 48.0005, 48.001, 48.002, 48.0025];
        let parts = track_points_parts(&lats.map(|lat| [2.0, lat]));
        let sizes: Vec<usize> = parts.iter().map(Vec::len).collect();
        assert_eq!(sizes, [3, 2]);
        assert_eq!(track_points_parts(&[]), vec![Vec::<[f64; 2]>::new()]);
    }

    #[test]
    fn coefficients_follow_the_median_and_the_maximum() {
        let (median, max) = spread([0, 5, 10, 100].into_iter());
        assert_eq!((median, max), (10.0, 100));
        assert_eq!(coef(0, median, max), 0.0);
        assert_eq!(coef(5, median, max), 0.3);
        assert_eq!(coef(10, median, max), 0.5);
        assert_eq!(coef(100, median, max), 1.0);
        assert_eq!(coef(50, median, max), 0.8);
        // A single cell is at its own median: 0.5, as in GeoVisio's recorded z5 tile.
        let (median, max) = spread([5].into_iter());
        assert_eq!(coef(5, median, max), 0.5);
        assert_eq!(spread(std::iter::empty()), (0.0, 0));
    }
}
