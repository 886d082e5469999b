//! The MapLibre styles of the map tiles (`/api/map/style.json`,
//! `/api/users/{id}/map/style.json` and `/api/users/me/map/style.json`), as the Panoramax
//! viewer merges them into its map (panoramax-api.md §6 and §10): one vector source and a
//! layer per tile layer, with the colours and zoom ramps of Panoramax instances.

use flaneur_model::AccountId;
use flaneur_service::tile::{GRID_FIELDS, PICTURE_FIELDS, SEQUENCE_FIELDS, geometry::MAX_ZOOM};
use serde_json::{Value, json};

use crate::InstanceInfo;
use crate::url::BaseUrl;

/// Name of the general vector source, which prefixes the layer ids; a user's is
/// `geovisio_<id>`, the caller's own `geovisio_me`.
const SOURCE: &str = "geovisio";

/// Which tiles a style draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StyledMap {
    /// Everyone's, at `/api/map`.
    General,
    /// One account's, at `/api/users/{id}/map`.
    User(AccountId),
    /// The caller's own, at `/api/users/me/map`.
    Me,
}

/// The colour of sequences and pictures.
const ORANGE: &str = "#FF6F00";

/// `["interpolate", ["linear"], input, stop, output, ...]`.
fn ramp(input: Value, stops: &[(f64, Value)]) -> Value {
    let mut expr = vec![json!("interpolate"), json!(["linear"]), input];
    for (stop, output) in stops {
        // Whole stops are written as integers, as Panoramax instances do.
        let stop = if stop.fract() == 0.0 {
            json!(*stop as i64)
        } else {
            json!(stop)
        };
        expr.push(stop);
        expr.push(output.clone());
    }
    Value::Array(expr)
}

fn by_zoom(stops: &[(f64, Value)]) -> Value {
    ramp(json!(["zoom"]), stops)
}

/// A grid circle radius: none for empty cells, `radius` otherwise.
fn grid_radius(radius: Value) -> Value {
    json!(["match", ["get", "coef"], 0, 0, radius])
}

/// The style document of a map's tiles served under `base`.
pub fn map_style(base: &BaseUrl, info: &InstanceInfo, kind: StyledMap) -> Value {
    let (source, tiles) = match kind {
        StyledMap::General => (SOURCE.to_owned(), base.api("/map/{z}/{x}/{y}.mvt")),
        StyledMap::User(id) => (
            format!("{SOURCE}_{id}"),
            base.api(&format!("/users/{id}/map/{{z}}/{{x}}/{{y}}.mvt")),
        ),
        StyledMap::Me => (
            format!("{SOURCE}_me"),
            base.api("/users/me/map/{z}/{x}/{y}.mvt"),
        ),
    };
    // A user's tiles have lines at every zoom, so they need not fade in.
    let line_opacity = match kind {
        StyledMap::General => by_zoom(&[(6.25, json!(0)), (7.0, json!(1))]),
        StyledMap::User(_) | StyledMap::Me => json!(1),
    };
    let sequences = json!({
        "id": format!("{source}_sequences"),
        "type": "line",
        "source": source,
        "source-layer": "sequences",
        "layout": { "line-cap": "square" },
        "paint": {
            "line-color": ORANGE,
            "line-width": by_zoom(&[
                (0.0, json!(0.5)), (10.0, json!(2)), (14.0, json!(4)), (16.0, json!(5)),
                (22.0, json!(3)),
            ]),
            "line-opacity": line_opacity,
        },
    });
    let pictures = json!({
        "id": format!("{source}_pictures"),
        "type": "circle",
        "source": source,
        "source-layer": "pictures",
        "paint": {
            "circle-color": ORANGE,
            "circle-radius": by_zoom(&[(15.0, json!(4.5)), (17.0, json!(8)), (22.0, json!(12))]),
            "circle-opacity": by_zoom(&[(15.0, json!(0)), (16.0, json!(1))]),
            "circle-stroke-color": "#ffffff",
            "circle-stroke-width": by_zoom(&[(17.0, json!(0)), (20.0, json!(2))]),
        },
    });
    let grid = json!({
        "id": format!("{source}_grid"),
        "type": "circle",
        "source": source,
        "source-layer": "grid",
        "layout": { "circle-sort-key": ["get", "coef"] },
        "paint": {
            "circle-color": ramp(json!(["get", "coef"]), &[
                (0.0, json!("#FFA726")), (0.5, json!("#E65100")), (1.0, json!("#3E2723")),
            ]),
            "circle-radius": by_zoom(&[
                (1.0, grid_radius(json!(1))),
                (4.0, grid_radius(json!(6))),
                (5.0, grid_radius(json!(2.5))),
                (6.0, grid_radius(json!(4))),
                (7.0, grid_radius(json!(7))),
            ]),
            "circle-opacity": by_zoom(&[
                (4.0, json!(0.5)), (5.0, json!(1)), (6.75, json!(1)), (7.0, json!(0)),
            ]),
        },
    });
    let mut fields = json!({ "sequences": SEQUENCE_FIELDS, "pictures": PICTURE_FIELDS });
    let mut layers = vec![sequences, pictures];
    if kind == StyledMap::General {
        fields["grid"] = json!(GRID_FIELDS);
        layers.push(grid);
    }
    json!({
        "version": 8,
        "name": info.name.label,
        "metadata": { "panoramax:fields": fields },
        "sources": {
            source: {
                "type": "vector",
                "tiles": [tiles],
                "minzoom": 0,
                "maxzoom": MAX_ZOOM,
            }
        },
        "layers": layers,
    })
}
