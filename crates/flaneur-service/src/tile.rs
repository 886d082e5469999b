//! Map vector tiles of the published pictures, as Panoramax instances serve them
//! (panoramax-api.md §6): which layers each zoom carries, and the fields of their features.
//!
//! - [`geometry`]: Web-Mercator tile math and clipping.
//! - [`mvt`]: the vector tile encoding.
//! - [`cache`]: encoded tiles kept per data version.
//! - [`filter`]: the `filter` of user maps.
//!
//! Tiles are drawn from what the catalog keeps current with every write (the grid, sequence
//! lines, the pictures' space index), so the map never lags behind the catalog and no tile
//! reads more than its own area. Drawn tiles are kept until the catalog's data version moves.

pub mod cache;
pub mod filter;
pub mod geometry;
pub mod mvt;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use flaneur_model::{AccountId, Viewer, Visibility};
use flaneur_store::{DataVersion, Filter, GridCell, MapPicture, MapQuery, MapSequence};

use self::geometry::{MAX_ZOOM, TileId};
use self::mvt::{Feature, Geometry, Layer, Value};
use crate::{Result, Services};

/// Deepest zoom with the `grid` layer, and first with `sequences` (without properties there).
pub const ZOOM_GRID_SEQUENCES: u8 = 6;

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

/// Which map a tile belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MapKind {
    /// Everyone's pictures, with the grid at low zooms.
    General,
    /// One account's pictures: sequences at every zoom, no grid.
    User(AccountId),
}

/// The grid with the spreads its coefficients are computed from, for one data version.
#[derive(Debug, Default)]
pub struct Grid {
    cells: Vec<GridCell>,
    all: (f64, i64),
    pano: (f64, i64),
    flat: (f64, i64),
}

impl Grid {
    fn new(cells: Vec<GridCell>) -> Grid {
        Grid {
            all: spread(cells.iter().map(|c| c.nb_pictures)),
            pano: spread(cells.iter().map(|c| c.nb_360_pictures)),
            flat: spread(cells.iter().map(flat_count)),
            cells,
        }
    }
}

/// Map state shared by every request: encoded tiles and the grid of the current version.
#[derive(Debug)]
pub struct MapState {
    /// Encoded tiles.
    pub tiles: cache::TileCache,
    grid: Mutex<Option<(DataVersion, Arc<Grid>)>>,
    /// Tiles being drawn for the cache, each with the turn its requests take, so that many
    /// asking at once for a tile not kept yet draw it once.
    drawing: Arc<Mutex<HashMap<TileKey, Arc<tokio::sync::Mutex<()>>>>>,
}

type TileKey = (MapKind, TileId);

impl MapState {
    /// Map state keeping at most `cache_bytes` of encoded tiles (0: none).
    pub fn new(cache_bytes: usize) -> MapState {
        MapState {
            tiles: cache::TileCache::new(cache_bytes),
            grid: Mutex::new(None),
            drawing: Arc::default(),
        }
    }

    /// The turn to draw a tile, shared by the requests asking for it now.
    fn drawing_turn(&self, key: TileKey) -> DrawingTurn {
        let mut drawing = lock(&self.drawing);
        let gate = Arc::clone(drawing.entry(key).or_default());
        DrawingTurn {
            drawing: Arc::clone(&self.drawing),
            key,
            gate,
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A request's hold on a tile's turn; the last one to leave (done or given up) forgets it.
struct DrawingTurn {
    drawing: Arc<Mutex<HashMap<TileKey, Arc<tokio::sync::Mutex<()>>>>>,
    key: TileKey,
    gate: Arc<tokio::sync::Mutex<()>>,
}

impl Drop for DrawingTurn {
    fn drop(&mut self) {
        let mut drawing = lock(&self.drawing);
        // Held by the table and this turn only: nobody else waits.
        if Arc::strong_count(&self.gate) == 2 {
            drawing.remove(&self.key);
        }
    }
}

impl Default for MapState {
    fn default() -> MapState {
        MapState::new(cache::DEFAULT_BUDGET_MIB << 20)
    }
}

impl Services {
    /// A token that changes whenever what tiles show may have changed, for their ETags.
    ///
    /// # Errors
    /// Fails when the catalog cannot be read.
    pub async fn map_version(&self) -> Result<DataVersion> {
        Ok(self.catalog.data_version().await?)
    }

    /// The vector tile at a tile address of a map as `viewer` may see it, drawn from the
    /// catalog at `version` (see [`Services::map_version`]), with only the sequences and
    /// pictures passing `filter` (checked against [`filter::MAP_QUERYABLES`]). Anonymous
    /// unfiltered tiles, the same for every anonymous reader, are kept in the tile cache; a
    /// logged-in viewer's tile or a filtered one is drawn for its request alone and never
    /// kept, so that no other reader is ever answered with it.
    ///
    /// # Errors
    /// Fails when the catalog cannot be read.
    pub async fn map_tile(
        &self,
        kind: MapKind,
        tile: TileId,
        viewer: Viewer,
        filter: Option<&Filter>,
        version: &DataVersion,
    ) -> Result<Bytes> {
        if !viewer.is_anonymous() || filter.is_some() {
            let drawn = self.draw_tile(kind, tile, viewer, filter, version).await?;
            return Ok(Bytes::from(drawn));
        }
        if let Some(body) = self.map.tiles.get(version, kind, tile) {
            return Ok(body);
        }
        // Requests for the same tile draw it one after the other: the first keeps it, the
        // others find it kept.
        let turn = self
            .map
            .tiles
            .is_enabled()
            .then(|| self.map.drawing_turn((kind, tile)));
        let _drawing = match &turn {
            Some(turn) => Some(turn.gate.lock().await),
            None => None,
        };
        if let Some(body) = self.map.tiles.get(version, kind, tile) {
            return Ok(body);
        }
        let mut drawn = self
            .draw_tile(kind, tile, Viewer::ANONYMOUS, None, version)
            .await?;
        // The cache counts the bytes of a tile: it holds no more than those.
        drawn.shrink_to_fit();
        let body = Bytes::from(drawn);
        if !self.map.tiles.is_enabled() {
            return Ok(body);
        }
        // Any id is drawn an (empty) map: keep only those of accounts, or anyone could fill
        // the cache with tiles of made-up ids.
        if let MapKind::User(account) = kind
            && self.catalog.account_name(account).await?.is_none()
        {
            return Ok(body);
        }
        // A write during the drawing may show in the tile: keep it only if the version did not
        // move, so the cache never holds a tile under a version it does not match.
        if self.map_version().await? == *version {
            self.map.tiles.put(version, kind, tile, body.clone());
        }
        Ok(body)
    }

    /// Draws a tile of a map as `viewer` may see it, with what passes `filter` only. The grid
    /// of low zooms counts only what anyone may see, whoever the viewer and the filter.
    ///
    /// # Errors
    /// Fails when the catalog cannot be read.
    pub async fn draw_tile(
        &self,
        kind: MapKind,
        tile: TileId,
        viewer: Viewer,
        filter: Option<&Filter>,
        version: &DataVersion,
    ) -> Result<Vec<u8>> {
        let shown = Shown { viewer, filter };
        let first_sequence_zoom = match kind {
            MapKind::General => ZOOM_GRID_SEQUENCES,
            MapKind::User(_) => 0,
        };
        let mut layers = Vec::new();
        if tile.z >= first_sequence_zoom {
            let query = map_query(kind, tile);
            let with_properties = kind != MapKind::General || tile.z > ZOOM_GRID_SEQUENCES;
            let sequences = self.catalog.map_sequences(&query).await?;
            layers.push(sequences_layer(tile, &sequences, shown, with_properties));
            if tile.z == MAX_ZOOM {
                let pictures = self.catalog.map_pictures(&query).await?;
                layers.push(pictures_layer(tile, &pictures, shown));
            }
        }
        if kind == MapKind::General && tile.z <= ZOOM_GRID_SEQUENCES {
            let grid = self.map_grid(version).await?;
            layers.push(grid_layer(tile, &grid));
        }
        Ok(mvt::encode(&layers))
    }

    /// The grid and its coefficients, computed once per data version.
    async fn map_grid(&self, version: &DataVersion) -> Result<Arc<Grid>> {
        let lock = || {
            self.map
                .grid
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some((v, grid)) = lock().as_ref()
            && v == version
        {
            return Ok(Arc::clone(grid));
        }
        let grid = Arc::new(Grid::new(self.catalog.picture_grid().await?));
        *lock() = Some((version.clone(), Arc::clone(&grid)));
        Ok(grid)
    }
}

/// What a tile reads from the catalog. On the general map, lines at the first sequence zoom
/// are many and small: simplified, and geometry only, as Panoramax draws them; a user's map
/// draws whole lines at every zoom.
fn map_query(kind: MapKind, tile: TileId) -> MapQuery {
    let (account, simplified) = match kind {
        MapKind::General => (None, tile.z <= ZOOM_GRID_SEQUENCES),
        MapKind::User(account) => (Some(account), false),
    };
    MapQuery {
        bbox: tile.bbox_with_buffer(),
        account,
        simplified,
    }
}

/// Who a tile is drawn for and what it keeps.
#[derive(Clone, Copy)]
struct Shown<'a> {
    viewer: Viewer,
    filter: Option<&'a Filter>,
}

impl Shown<'_> {
    /// Whether the tile shows data of `owner` seen by `visibility`.
    fn shows(&self, visibility: Visibility, owner: AccountId) -> bool {
        self.viewer.may_see(visibility, owner)
            && self.filter.is_none_or(|f| filter::keeps(f, visibility))
    }
}

/// Adds the properties that have a value, in order.
fn properties(fields: Vec<(&str, Option<Value>)>) -> Vec<(String, Value)> {
    fields
        .into_iter()
        .filter_map(|(key, value)| Some((key.to_owned(), value?)))
        .collect()
}

/// `Some(true)` when the data is not public: the `hidden` field, absent otherwise.
fn hidden(visibilities: &[Visibility]) -> Option<Value> {
    visibilities
        .iter()
        .any(|v| *v != Visibility::Anyone)
        .then_some(Value::Bool(true))
}

fn sequences_layer(
    tile: TileId,
    sequences: &[MapSequence],
    shown: Shown<'_>,
    with_properties: bool,
) -> Layer {
    let mut features = Vec::new();
    for s in sequences {
        if !shown.shows(s.visibility, s.account_id) {
            continue;
        }
        let lines: Vec<Vec<[i32; 2]>> = s.lines.iter().flat_map(|l| tile.lines(l)).collect();
        if lines.is_empty() {
            continue;
        }
        let properties = if with_properties {
            properties(vec![
                ("id", Some(Value::Str(s.id.to_string()))),
                ("account_id", Some(Value::Str(s.account_id.to_string()))),
                ("hidden", hidden(&[s.visibility])),
                ("model", s.model.clone().map(Value::Str)),
                ("type", s.projection.map(|p| Value::Str(p.as_str().into()))),
                ("date", s.capture_date.clone().map(Value::Str)),
                ("gps_accuracy", s.gps_accuracy_m.map(Value::Double)),
                ("h_pixel_density", s.h_pixel_density.map(Value::Int)),
            ])
        } else {
            Vec::new()
        };
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

fn pictures_layer(tile: TileId, pictures: &[MapPicture], shown: Shown<'_>) -> Layer {
    let mut features = Vec::new();
    for p in pictures {
        let visibility = filter::narrower(p.visibility, p.sequence_visibility);
        let seen = shown.viewer.may_see(p.visibility, p.account_id)
            && shown.viewer.may_see(p.sequence_visibility, p.account_id)
            && shown.shows(visibility, p.account_id);
        let Some(point) = tile.point(p.lon, p.lat).filter(|_| seen) else {
            continue;
        };
        let sequence = p.sequence_id.to_string();
        let ts = p.captured_at.format("%Y-%m-%d %H:%M:%S%.f+00").to_string();
        let properties = properties(vec![
            ("id", Some(Value::Str(p.id.to_string()))),
            ("ts", Some(Value::Str(ts))),
            (
                "heading",
                p.heading_deg.map(|h| Value::Int(h.round() as i64)),
            ),
            ("account_id", Some(Value::Str(p.account_id.to_string()))),
            ("hidden", hidden(&[p.visibility, p.sequence_visibility])),
            ("type", Some(Value::Str(p.projection.as_str().into()))),
            ("model", p.model.clone().map(Value::Str)),
            ("gps_accuracy", p.gps_accuracy_m.map(Value::Double)),
            ("h_pixel_density", p.h_pixel_density.map(Value::Int)),
            (
                "sequences",
                Some(Value::Str(serde_json::json!([sequence]).to_string())),
            ),
            ("first_sequence", Some(Value::Str(sequence))),
        ]);
        features.push(Feature {
            geometry: Geometry::Points(vec![point]),
            properties,
        });
    }
    Layer {
        name: "pictures".into(),
        features,
    }
}

fn flat_count(c: &GridCell) -> i64 {
    c.nb_pictures - c.nb_360_pictures
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

fn grid_layer(tile: TileId, grid: &Grid) -> Layer {
    // Coefficients compare a cell with every cell of the catalog, not only this tile's.
    let mut features = Vec::new();
    for c in &grid.cells {
        let Some(point) = tile.point(c.lon, c.lat) else {
            continue;
        };
        let flat = flat_count(c);
        let properties = vec![
            ("nb_pictures".into(), Value::Int(c.nb_pictures)),
            ("nb_360_pictures".into(), Value::Int(c.nb_360_pictures)),
            ("nb_flat_pictures".into(), Value::Int(flat)),
            (
                "coef".into(),
                Value::Double(coef(c.nb_pictures, grid.all.0, grid.all.1)),
            ),
            (
                "coef_360_pictures".into(),
                Value::Double(coef(c.nb_360_pictures, grid.pano.0, grid.pano.1)),
            ),
            (
                "coef_flat_pictures".into(),
                Value::Double(coef(flat, grid.flat.0, grid.flat.1)),
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

    /// A catalog holding one owner-only sequence of three ready pictures, and its owner.
    async fn hidden_walk(dir: &std::path::Path) -> (Services, AccountId) {
        use chrono::{TimeZone, Utc};
        use flaneur_model::{
            NewPicture, NewUploadSet, PictureDetails, PictureId, PictureStatus, Projection,
            UploadFile,
        };
        use flaneur_store::{
            Catalog, DispatchPlan, FsBlobStore, PlannedPicture, PlannedSequence, SqliteCatalog,
        };

        let catalog = SqliteCatalog::open(&dir.join("catalog.db"))
            .await
            .expect("catalog");
        let blobs = FsBlobStore::open(dir.join("blobs")).await.expect("blobs");
        let (account, _) = catalog.default_account().await.expect("account");
        let set = catalog
            .create_upload_set(NewUploadSet {
                visibility: Visibility::OwnerOnly,
                ..NewUploadSet::titled("hidden", account)
            })
            .await
            .expect("set");
        let mut planned = Vec::new();
        for n in 0..3 {
            let id = PictureId::new();
            let at = Utc
                .timestamp_opt(1_600_000_000 + n, 0)
                .single()
                .expect("instant");
            let picture = NewPicture {
                id,
                upload_set_id: Some(set.id),
                account_id: account,
                visibility: Visibility::OwnerOnly,
                captured_at: at,
                utc_offset_secs: None,
                lon: 2.0,
                lat: 48.0 + n as f64 * 0.0001,
                heading_deg: None,
                projection: Projection::Flat,
                width: 100,
                height: 50,
                orientation: 1,
                content_md5: id.to_string(),
                file_name: format!("{n}.jpg"),
                size_bytes: 1,
                is_blurred: false,
                details: PictureDetails::default(),
            };
            let file = UploadFile {
                upload_set_id: set.id,
                file_name: format!("{n}.jpg"),
                size_bytes: Some(1),
                content_md5: Some(id.to_string()),
                picture_id: Some(id),
                inserted_at: at,
                rejection: None,
            };
            catalog.insert_picture(picture, file).await.expect("insert");
            catalog
                .set_picture_status(id, PictureStatus::Ready, None)
                .await
                .expect("ready");
            planned.push(PlannedPicture {
                id,
                heading_deg: None,
                heading_computed: false,
            });
        }
        let plan = DispatchPlan {
            sequences: vec![PlannedSequence {
                title: "hidden".to_owned(),
                sorted_by: "+gpsdate".to_owned(),
                pictures: planned,
                length_km: 0.0,
                gps_accuracy_m: None,
            }],
            duplicates: Vec::new(),
        };
        catalog
            .apply_dispatch(set.id, plan)
            .await
            .expect("dispatch");
        let services = Services::new(Arc::new(catalog), Arc::new(blobs), dir.join("staging"));
        (services, account)
    }

    #[tokio::test]
    async fn non_public_data_is_drawn_hidden_for_whoever_may_see_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (services, owner) = hidden_walk(dir.path()).await;
        let version = services.map_version().await.expect("version");
        let tile = TileId::containing(15, 2.0, 48.0001);
        let draw = |viewer| {
            let (services, version) = (&services, &version);
            async move {
                let bytes = services
                    .draw_tile(MapKind::User(owner), tile, viewer, None, version)
                    .await
                    .expect("tile");
                mvt::decode(&bytes).expect("decodes")
            }
        };

        // Anonymous readers see nothing of it, on the owner's map or the general one.
        assert!(draw(Viewer::ANONYMOUS).await.is_empty());
        let general = |viewer| {
            let (services, version) = (&services, &version);
            async move {
                services
                    .map_tile(MapKind::General, tile, viewer, None, version)
                    .await
                    .expect("tile")
            }
        };
        assert!(general(Viewer::ANONYMOUS).await.is_empty());

        // Its owner sees the line and the pictures, each marked hidden, on the general map
        // too; the anonymous tile kept meanwhile is not the owner's, nor the other way round.
        let own = Viewer::account(owner, false);
        assert!(!general(own).await.is_empty());
        assert!(general(Viewer::ANONYMOUS).await.is_empty());
        let admin = Viewer::account(AccountId::new(), true);
        assert!(!draw(admin).await.is_empty());
        let layers = draw(own).await;
        let names: Vec<&str> = layers.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["sequences", "pictures"]);
        for layer in &layers {
            assert!(!layer.features.is_empty(), "{layer:?}");
            for feature in &layer.features {
                let hidden = feature.properties.iter().find(|(k, _)| k == "hidden");
                assert_eq!(
                    hidden.map(|h| &h.1),
                    Some(&Value::Bool(true)),
                    "{feature:?}"
                );
            }
        }
        assert!(
            draw(Viewer::account(AccountId::new(), false))
                .await
                .is_empty()
        );

        // A filter on visibility keeps the hidden walk, or leaves the tile empty.
        let filtered = |value: &str| {
            let filter = Filter::Compare {
                property: "visibility".to_owned(),
                op: flaneur_store::CompareOp::Eq,
                value: flaneur_store::Literal::Text(value.to_owned()),
            };
            let (services, version) = (&services, &version);
            async move {
                let bytes = services
                    .map_tile(MapKind::User(owner), tile, own, Some(&filter), version)
                    .await
                    .expect("tile");
                mvt::decode(&bytes).expect("decodes")
            }
        };
        assert_eq!(filtered("owner-only").await, layers);
        let public = filtered("anyone").await;
        assert!(public.iter().all(|l| l.features.is_empty()), "{public:?}");
    }

    #[test]
    fn only_the_general_map_draws_simplified_lines() {
        let user = MapKind::User(AccountId::new());
        for z in 0..=MAX_ZOOM {
            let tile = TileId::new(z, 0, 0).expect("tile");
            assert!(!map_query(user, tile).simplified, "z{z}");
            assert_eq!(
                map_query(MapKind::General, tile).simplified,
                z <= ZOOM_GRID_SEQUENCES,
                "z{z}"
            );
        }
    }

    /// The walk's tile at zoom 15 and the data version once a first map read has redrawn the
    /// new lines (which moves the version).
    async fn settled_tile(services: &Services) -> (TileId, DataVersion) {
        let tile = TileId::containing(15, 2.0, 48.0001);
        let version = services.map_version().await.expect("version");
        services
            .map_tile(MapKind::General, tile, Viewer::ANONYMOUS, None, &version)
            .await
            .expect("tile");
        (tile, services.map_version().await.expect("version"))
    }

    #[tokio::test]
    async fn a_tile_asked_for_many_times_at_once_is_kept_once_and_forgotten_after() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (services, _) = hidden_walk(dir.path()).await;
        let (tile, version) = settled_tile(&services).await;
        let asks = (0..8)
            .map(|_| services.map_tile(MapKind::General, tile, Viewer::ANONYMOUS, None, &version));
        let tiles = futures::future::join_all(asks).await;
        assert!(tiles.iter().all(Result::is_ok));
        assert!(
            services
                .map
                .tiles
                .get(&version, MapKind::General, tile)
                .is_some()
        );
        assert!(lock(&services.map.drawing).is_empty(), "turns forgotten");
    }

    #[tokio::test]
    async fn tiles_of_unknown_accounts_are_not_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (services, owner) = hidden_walk(dir.path()).await;
        let (tile, version) = settled_tile(&services).await;
        let kept = services.map.tiles.used_bytes();
        let unknown = MapKind::User(AccountId::new());
        services
            .map_tile(unknown, tile, Viewer::ANONYMOUS, None, &version)
            .await
            .expect("tile");
        assert_eq!(services.map.tiles.used_bytes(), kept);
        services
            .map_tile(
                MapKind::User(owner),
                tile,
                Viewer::ANONYMOUS,
                None,
                &version,
            )
            .await
            .expect("tile");
        assert!(
            services.map.tiles.used_bytes() > kept,
            "an account's tile is kept"
        );
    }
}
