//! The synthetic catalog the benchmarks run on: about a million published pictures, built
//! once through the catalog's own write paths (upload set, picture, status, dispatch), so its
//! grid, lines and indexes are what real uploads leave, and kept in `FLANEUR_BENCH_DIR`
//! (default: the target folder's bench space) for the next runs. Pictures walk a few metres
//! apart in sequences of 200 to 500 around a few dozen European cities, about one sequence in
//! ten 360°. `FLANEUR_BENCH_PICTURES` changes the size.
//!
//! Shared by the benchmarks of several crates through `#[path]`, so not every bench uses every
//! item.
#![allow(dead_code, reason = "each bench uses a part of the shared builder")]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use flaneur_model::{
    AccountId, NewPicture, NewUploadSet, PictureDetails, PictureId, PictureStatus, Projection,
    UploadFile, Visibility,
};
use flaneur_service::Services;
use flaneur_store::{
    Catalog, DispatchPlan, FsBlobStore, MapQuery, PlannedPicture, PlannedSequence, SqliteCatalog,
};

/// Cities the sequences start around: `(lon, lat)`.
const CITIES: [(f64, f64); 36] = [
    (2.35, 48.86),
    (-0.13, 51.51),
    (13.40, 52.52),
    (-3.70, 40.42),
    (12.50, 41.90),
    (4.90, 52.37),
    (4.35, 50.85),
    (16.37, 48.21),
    (14.42, 50.09),
    (19.04, 47.50),
    (21.01, 52.23),
    (9.19, 45.46),
    (2.17, 41.39),
    (-9.14, 38.72),
    (11.58, 48.14),
    (10.00, 53.55),
    (8.68, 50.11),
    (6.96, 50.94),
    (4.84, 45.76),
    (5.37, 43.30),
    (1.44, 43.60),
    (-1.55, 47.22),
    (-1.68, 48.11),
    (7.75, 48.58),
    (3.06, 50.63),
    (-0.58, 44.84),
    (8.54, 47.37),
    (6.14, 46.20),
    (12.57, 55.68),
    (18.07, 59.33),
    (10.75, 59.91),
    (24.94, 60.17),
    (-6.26, 53.35),
    (-3.19, 55.95),
    (23.73, 37.98),
    (26.10, 44.43),
];

/// Camera makes and models, with a horizontal field of view.
const CAMERAS: [(&str, &str, f64); 4] = [
    ("GoPro", "GoPro Max", 360.0),
    ("SONY", "FDR-X3000", 94.0),
    ("Xiaomi", "Redmi Note 8", 67.0),
    ("Insta360", "Insta360 X3", 360.0),
];

/// A small deterministic generator (xorshift), so every run builds the same catalog.
pub struct Dice(pub u64);

impl Dice {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One synthetic sequence: positions in order, projection, camera.
pub struct Walk {
    pub points: Vec<[f64; 2]>,
    pub is_360: bool,
    pub camera: usize,
    pub start_secs: i64,
}

/// The sequences of a catalog of about `total` pictures, always the same for one `total`.
pub fn walks(total: usize) -> impl Iterator<Item = Walk> {
    let mut dice = Dice(0x7115_f1a7_e0b5_2026);
    let mut made = 0;
    std::iter::from_fn(move || {
        if made >= total {
            return None;
        }
        let n = (200 + dice.below(301)).min(total - made);
        made += n;
        let (lon0, lat0) = CITIES[dice.below(CITIES.len())];
        let metres_per_deg_lon = 111_320.0 * lat0.to_radians().cos();
        // Start within about 10 km of the centre, denser near it.
        let (r, a) = (
            10_000.0 * dice.unit() * dice.unit(),
            dice.unit() * std::f64::consts::TAU,
        );
        let mut at = [
            lon0 + r * a.cos() / metres_per_deg_lon,
            lat0 + r * a.sin() / 111_320.0,
        ];
        let mut heading = dice.unit() * std::f64::consts::TAU;
        let mut points = Vec::with_capacity(n);
        for _ in 0..n {
            points.push(at);
            heading += (dice.unit() - 0.5) * 0.35;
            let step = 3.0 + 2.0 * dice.unit();
            at[0] += step * heading.sin() / metres_per_deg_lon;
            at[1] += step * heading.cos() / 111_320.0;
        }
        let is_360 = dice.below(10) == 0;
        let camera = if is_360 {
            3 * dice.below(2)
        } else {
            1 + dice.below(2)
        };
        let start_secs = 1_600_000_000 + dice.below(60_000_000) as i64;
        Some(Walk {
            points,
            is_360,
            camera,
            start_secs,
        })
    })
}

fn upload_spec(account: AccountId) -> NewUploadSet {
    NewUploadSet {
        user_agent: Some("flaneur-bench".to_owned()),
        ..NewUploadSet::titled("walk", account)
    }
}

/// Builds the catalog through the catalog's write paths; returns the number of pictures.
async fn build(catalog: &SqliteCatalog, total: usize) -> usize {
    let (account, _) = catalog.default_account().await.expect("account");
    let mut count = 0;
    for (w, walk) in walks(total).enumerate() {
        let set = catalog
            .create_upload_set(upload_spec(account))
            .await
            .expect("upload set");
        let (make, model, fov) = CAMERAS[walk.camera];
        let mut planned = Vec::with_capacity(walk.points.len());
        for (i, p) in walk.points.iter().enumerate() {
            let id = PictureId::new();
            let at = Utc
                .timestamp_opt(walk.start_secs + i as i64, 0)
                .single()
                .expect("instant");
            let name = format!("{i}.jpg");
            let picture = NewPicture {
                id,
                upload_set_id: Some(set.id),
                account_id: account,
                visibility: Visibility::Anyone,
                captured_at: at,
                utc_offset_secs: Some(3600),
                lon: p[0],
                lat: p[1],
                heading_deg: Some(90.0),
                projection: if walk.is_360 {
                    Projection::Equirectangular
                } else {
                    Projection::Flat
                },
                width: if walk.is_360 { 5760 } else { 4000 },
                height: if walk.is_360 { 2880 } else { 3000 },
                orientation: 1,
                content_md5: format!("{w}-{i}"),
                file_name: name.clone(),
                size_bytes: 3_000_000,
                is_blurred: false,
                details: PictureDetails {
                    make: Some(make.to_owned()),
                    model: Some(model.to_owned()),
                    field_of_view_deg: Some(fov),
                    gps_accuracy_m: Some(4.0),
                    ..PictureDetails::default()
                },
            };
            let file = UploadFile {
                upload_set_id: set.id,
                file_name: name,
                size_bytes: Some(3_000_000),
                content_md5: Some(format!("{w}-{i}")),
                picture_id: Some(id),
                inserted_at: at,
                rejection: None,
            };
            catalog
                .insert_picture(picture, file)
                .await
                .expect("picture");
            catalog
                .set_picture_status(id, PictureStatus::Ready, None)
                .await
                .expect("ready");
            planned.push(PlannedPicture {
                id,
                heading_deg: Some(90.0),
                heading_computed: false,
            });
        }
        count += planned.len();
        let plan = DispatchPlan {
            sequences: vec![PlannedSequence {
                title: "walk".to_owned(),
                sorted_by: "+gpsdate".to_owned(),
                pictures: planned,
                length_km: 1.0,
                gps_accuracy_m: Some(4.0),
            }],
            duplicates: Vec::new(),
        };
        catalog
            .apply_dispatch(set.id, plan)
            .await
            .expect("dispatch");
        if w % 200 == 199 {
            eprintln!("  {count} pictures");
        }
    }

    // The first map read draws the stored lines; part of building.
    let world = MapQuery {
        bbox: [-180.0, -85.0, 180.0, 85.0],
        ..MapQuery::default()
    };
    catalog.map_sequences(&world).await.expect("lines");
    count
}

/// The size asked by `FLANEUR_BENCH_PICTURES`, a million by default.
pub fn wanted_size() -> usize {
    std::env::var("FLANEUR_BENCH_PICTURES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

/// The catalog of about `total` pictures, built when missing (a build cut short is started
/// over): its folder, and the line saying how it was built.
pub async fn catalog_dir(total: usize) -> (PathBuf, String) {
    let root = std::env::var_os("FLANEUR_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("flaneur-bench"));
    let dir = root.join(format!("synthetic-{total}"));
    let done = dir.join("complete");
    if !done.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("bench folder");
        eprintln!(
            "building a catalog of {total} pictures in {}",
            dir.display()
        );
        let catalog = SqliteCatalog::open_for_bulk_load(&dir.join("catalog.db"))
            .await
            .expect("catalog");
        let start = Instant::now();
        let count = build(&catalog, total).await;
        let secs = start.elapsed().as_secs_f64();
        catalog.close().await;
        std::fs::write(&done, format!("{count} pictures built in {secs:.0} s\n")).expect("marker");
    }
    let built = std::fs::read_to_string(&done).unwrap_or_default();
    (dir, built.trim().to_owned())
}

/// The services over the catalog of about `total` pictures, built first when missing; and
/// the line saying how it was built.
pub async fn services(total: usize) -> (Services, String) {
    let (dir, built) = catalog_dir(total).await;
    let catalog = SqliteCatalog::open(&dir.join("catalog.db"))
        .await
        .expect("catalog");
    let blobs = FsBlobStore::open(dir.join("blobs")).await.expect("blobs");
    let services = Services::new(Arc::new(catalog), Arc::new(blobs), dir.join("staging"));
    (services, built)
}

/// The `p` quantile (0..1) of sorted durations, in milliseconds.
pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(at).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}
