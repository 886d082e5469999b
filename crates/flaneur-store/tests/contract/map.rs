//! The contract of what map tiles are drawn from: the picture grid, the stored sequence lines,
//! the pictures of a bbox, and the data version that moves whenever any of them shows
//! something else, but not while pictures are only received and prepared.

use chrono::{TimeZone, Utc};
use flaneur_model::{
    AccountId, NewPicture, NewUploadSet, Picture, PictureDetails, PictureId, PictureStatus,
    Projection, SequenceId, SequenceStatus, UploadFile, UploadSetId, Visibility, camera_model,
};
use flaneur_store::track::{SIMPLIFY_DEG, simplify, split_at_gaps};
use flaneur_store::{
    Catalog, DataVersion, DispatchPlan, MapQuery, PlannedPicture, PlannedSequence, RankQuery,
};

use crate::backend::{Sql, sql_contracts};
use crate::fixture;

/// A small deterministic generator (xorshift), so a failure replays identically.
pub struct Dice(pub u64);

impl Dice {
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    pub fn pick<T: Clone>(&mut self, items: &[T]) -> Option<T> {
        (!items.is_empty()).then(|| items[self.below(items.len())].clone())
    }
}

/// Visibilities as stored, the most open one twice as likely.
pub const VISIBILITIES: [&str; 4] = ["anyone", "anyone", "owner-only", "logged-only"];

const WORLD: MapQuery = MapQuery {
    bbox: [-180.0, -85.0, 180.0, 85.0],
    account: None,
    simplified: false,
};

/// A picture over four grid cells, some right on a cell's edge, seen by anyone or not, flat or
/// 360°, from one of two cameras.
pub fn new_picture(
    set: UploadSetId,
    account: AccountId,
    n: usize,
    dice: &mut Dice,
) -> (NewPicture, UploadFile) {
    let lon = 2.0 + dice.below(21) as f64 * 0.01;
    let lat = 48.0 + dice.below(11) as f64 * 0.0125;
    let at = Utc
        .timestamp_opt(1_600_000_000 + dice.below(1000) as i64, 0)
        .single()
        .expect("instant");
    let visibility = [
        Visibility::Anyone,
        Visibility::Anyone,
        Visibility::OwnerOnly,
        Visibility::LoggedOnly,
    ][dice.below(4)];
    let projection = if dice.below(3) == 0 {
        Projection::Equirectangular
    } else {
        Projection::Flat
    };
    let make = ["Acme", "Other"][dice.below(2)];
    let base = fixture::picture(set, account, n, at, (lon, lat));
    let picture = NewPicture {
        visibility,
        projection,
        details: PictureDetails {
            make: Some(make.to_owned()),
            model: Some("Cam 1".to_owned()),
            field_of_view_deg: Some(90.0),
            ..PictureDetails::default()
        },
        ..base
    };
    let file = UploadFile {
        upload_set_id: set,
        file_name: picture.file_name.clone(),
        size_bytes: Some(1),
        content_md5: Some(picture.content_md5.clone()),
        picture_id: Some(picture.id),
        inserted_at: at,
        rejection: None,
    };
    (picture, file)
}

/// A dispatch of the set's pictures into one to three sequences at random.
pub async fn random_plan(catalog: &dyn Catalog, set: UploadSetId, dice: &mut Dice) -> DispatchPlan {
    let pictures = catalog.upload_set_pictures(set).await.expect("pictures");
    let count = 1 + dice.below(3);
    let mut sequences: Vec<PlannedSequence> = (0..count)
        .map(|n| PlannedSequence {
            title: format!("part {n}"),
            sorted_by: "+gpsdate".to_owned(),
            pictures: Vec::new(),
            length_km: 0.0,
            gps_accuracy_m: None,
        })
        .collect();
    for p in pictures {
        if p.status == PictureStatus::WaitingForDelete {
            continue;
        }
        let at = dice.below(count);
        sequences[at].pictures.push(PlannedPicture {
            id: p.base.id,
            heading_deg: Some(dice.below(360) as f64),
            heading_computed: false,
        });
    }
    sequences.retain(|s| !s.pictures.is_empty());
    DispatchPlan {
        sequences,
        duplicates: Vec::new(),
    }
}

/// The index of the grid point nearest to `degrees` (a 0.1° grid), half away from zero.
fn grid_index(degrees: f64) -> i64 {
    (degrees / 0.1).round() as i64
}

/// How far a visibility reaches.
fn reach(v: Visibility) -> u8 {
    match v {
        Visibility::Anyone => 2,
        Visibility::LoggedOnly => 1,
        Visibility::OwnerOnly => 0,
    }
}

/// What the map must show, worked out from the catalog's other reads: grid cells
/// `(x, y, pictures, 360° pictures)`, lines `(sequence, parts, simplified parts, camera,
/// capture date)` and the ids of the pictures of the pictures layer, in map order.
#[derive(Debug, PartialEq)]
pub struct Shown {
    pub grid: Vec<(i64, i64, i64, i64)>,
    pub lines: Vec<Line>,
    pub pictures: Vec<PictureId>,
}

pub type Line = (
    SequenceId,
    Vec<Vec<[f64; 2]>>,
    Vec<Vec<[f64; 2]>>,
    Option<String>,
    Option<String>,
);

/// The map worked out from scratch, from the sequences of `sets` and their pictures.
pub async fn recount(catalog: &dyn Catalog, sets: &[UploadSetId]) -> Shown {
    let mut sequences = Vec::new();
    for set in sets {
        for summary in catalog.upload_set_sequences(*set).await.expect("sequences") {
            sequences.push(summary.sequence);
        }
    }
    sequences.retain(|s| s.status == SequenceStatus::Ready);
    sequences.sort_by_key(|s| (s.created_at, s.id));

    let mut grid = std::collections::BTreeMap::<(i64, i64), (i64, i64)>::new();
    let mut lines = Vec::new();
    let mut pictures = Vec::new();
    for sequence in &sequences {
        let ranked: Vec<Picture> = catalog
            .sequence_pictures(
                sequence.id,
                RankQuery {
                    include_unready: true,
                    ..RankQuery::default()
                },
            )
            .await
            .expect("ranked pictures");
        let ready: Vec<&Picture> = ranked
            .iter()
            .filter(|p| p.status == PictureStatus::Ready)
            .collect();
        pictures.extend(ready.iter().map(|p| p.base.id));
        let drawn: Vec<&Picture> = ready
            .iter()
            .copied()
            .filter(|p| reach(p.base.visibility) >= reach(sequence.visibility))
            .collect();
        if sequence.visibility == Visibility::Anyone {
            for p in drawn
                .iter()
                .filter(|p| p.base.visibility == Visibility::Anyone)
            {
                let cell = grid
                    .entry((grid_index(p.base.lon), grid_index(p.base.lat)))
                    .or_default();
                cell.0 += 1;
                cell.1 += i64::from(p.base.projection == Projection::Equirectangular);
            }
        }
        let Some(first) = drawn.first() else {
            continue;
        };
        let points: Vec<[f64; 2]> = drawn.iter().map(|p| [p.base.lon, p.base.lat]).collect();
        let parts = split_at_gaps(&points);
        let simplified = parts.iter().map(|l| simplify(l, SIMPLIFY_DEG)).collect();
        let earliest = drawn.iter().map(|p| p.base.captured_at).min();
        lines.push((
            sequence.id,
            parts,
            simplified,
            camera_model(
                first.base.details.make.as_deref(),
                first.base.details.model.as_deref(),
            ),
            earliest.map(|t| t.format("%Y-%m-%d").to_string()),
        ));
    }
    Shown {
        grid: grid
            .into_iter()
            .map(|((x, y), (n, n_360))| (x, y, n, n_360))
            .collect(),
        lines,
        pictures,
    }
}

/// What the map shows, as the catalog's map reads give it.
pub async fn shown(catalog: &dyn Catalog) -> Shown {
    let grid = catalog
        .picture_grid()
        .await
        .expect("grid")
        .into_iter()
        .map(|c| {
            (
                grid_index(c.lon),
                grid_index(c.lat),
                c.nb_pictures,
                c.nb_360_pictures,
            )
        })
        .collect();
    let full = catalog.map_sequences(&WORLD).await.expect("lines");
    let simplified = catalog
        .map_sequences(&MapQuery {
            simplified: true,
            ..WORLD
        })
        .await
        .expect("simplified lines");
    assert_eq!(
        full.iter().map(|s| s.id).collect::<Vec<_>>(),
        simplified.iter().map(|s| s.id).collect::<Vec<_>>()
    );
    let lines = full
        .into_iter()
        .zip(simplified)
        .map(|(s, low)| (s.id, s.lines, low.lines, s.model, s.capture_date))
        .collect();
    let pictures = catalog
        .map_pictures(&WORLD)
        .await
        .expect("pictures")
        .into_iter()
        .map(|p| p.id)
        .collect();
    Shown {
        grid,
        lines,
        pictures,
    }
}

/// Random writes through the catalog, and in SQL the writes no catalog method makes yet
/// (hiding or moving a picture, hiding or unpublishing a sequence); after each one, the map
/// reads as a recount from scratch says, and the data version moved if the map shows
/// something else.
async fn map_follows_every_write(catalog: &dyn Catalog, sql: &Sql) {
    let (account, _) = catalog.default_account().await.expect("account");
    let mut dice = Dice(0x5eed_cafe);
    let mut sets: Vec<UploadSetId> = Vec::new();
    let mut live_sets: Vec<UploadSetId> = Vec::new();
    let mut pictures: Vec<PictureId> = Vec::new();
    let statuses = [
        PictureStatus::Ready,
        PictureStatus::Ready,
        PictureStatus::Preparing,
        PictureStatus::Broken,
        PictureStatus::WaitingForDelete,
    ];
    let mut before = (
        recount(catalog, &sets).await,
        catalog.data_version().await.expect("version"),
    );
    let mut ever_shown = (0, 0, 0);
    for step in 0..120 {
        let op = dice.below(11);
        match op {
            0 | 1 => {
                let spec = NewUploadSet {
                    visibility: [
                        Visibility::Anyone,
                        Visibility::Anyone,
                        Visibility::OwnerOnly,
                    ][dice.below(3)],
                    ..NewUploadSet::titled("walk", account)
                };
                let set = catalog.create_upload_set(spec).await.expect("set").id;
                for n in 0..1 + dice.below(4) {
                    let (p, f) = new_picture(set, account, n, &mut dice);
                    pictures.push(p.id);
                    catalog.insert_picture(p, f).await.expect("insert");
                }
                sets.push(set);
                live_sets.push(set);
            }
            2 | 3 => {
                if let Some(p) = dice.pick(&pictures) {
                    let status = statuses[dice.below(statuses.len())];
                    catalog
                        .set_picture_status(p, status, None)
                        .await
                        .expect("status");
                }
            }
            4 | 5 => {
                if let Some(set) = dice.pick(&live_sets) {
                    let plan = random_plan(catalog, set, &mut dice).await;
                    catalog.apply_dispatch(set, plan).await.expect("dispatch");
                }
            }
            6 => {
                if let Some(p) = dice.pick(&pictures) {
                    catalog.remove_picture(p).await.expect("remove");
                    pictures.retain(|q| *q != p);
                }
            }
            7 => {
                if let Some(set) = dice.pick(&live_sets).filter(|_| dice.below(3) == 0) {
                    catalog.delete_upload_set(set).await.expect("delete set");
                    live_sets.retain(|s| *s != set);
                }
            }
            8 => {
                if let Some(p) = dice.pick(&pictures) {
                    let visibility = VISIBILITIES[dice.below(VISIBILITIES.len())];
                    sql.run(
                        &format!("UPDATE pictures SET visibility = '{visibility}' WHERE id = ?1"),
                        &format!("UPDATE pictures SET visibility = '{visibility}' WHERE id = $1"),
                        &[p.0],
                    )
                    .await;
                }
            }
            9 => {
                // Its column and its document alike, to numbers written in decimal so that
                // both read back the same.
                if let Some(p) = dice.pick(&pictures) {
                    let (lon, lat) = (
                        format!("2.{:02}", dice.below(21)),
                        format!("48.{:04}", dice.below(11) * 125),
                    );
                    sql.run(
                        &format!(
                            "UPDATE pictures SET lon = {lon}, lat = {lat}, \
                             doc = json_set(doc, '$.lon', {lon}, '$.lat', {lat}) WHERE id = ?1"
                        ),
                        &format!(
                            "UPDATE pictures SET lon = {lon}, lat = {lat}, \
                             doc = jsonb_set(jsonb_set(doc, '{{lon}}', '{lon}'), \
                                             '{{lat}}', '{lat}') WHERE id = $1"
                        ),
                        &[p.0],
                    )
                    .await;
                }
            }
            _ => {
                let mut sequences = Vec::new();
                for set in &live_sets {
                    let live = catalog.upload_set_sequences(*set).await.expect("sequences");
                    sequences.extend(live.into_iter().map(|s| s.sequence.id));
                }
                if let Some(s) = dice.pick(&sequences) {
                    let status =
                        ["ready", "ready", "waiting-for-process", "deleted"][dice.below(4)];
                    let visibility = VISIBILITIES[dice.below(VISIBILITIES.len())];
                    let change = format!(
                        "UPDATE sequences SET status = '{status}', visibility = '{visibility}' \
                         WHERE id ="
                    );
                    sql.run(&format!("{change} ?1"), &format!("{change} $1"), &[s.0])
                        .await;
                }
            }
        }
        let now = shown(catalog).await;
        let expected = recount(catalog, &sets).await;
        assert_eq!(now, expected, "after step {step}, op {op}");
        let version = catalog.data_version().await.expect("version");
        if now != before.0 {
            assert!(
                before.1.is_before(&version),
                "after step {step}, op {op}: the map changed, the version stayed at {version}"
            );
        }
        ever_shown.0 += now.grid.len();
        ever_shown.1 += now.lines.len();
        ever_shown.2 += now.pictures.len();
        before = (now, version);
    }
    let (cells, lines, pictures) = ever_shown;
    assert!(
        cells > 0 && lines > 0 && pictures > 0,
        "the walk should put pictures on the map: {ever_shown:?}"
    );
}

/// Publishes three pictures as one sequence of their own upload set.
pub async fn publish_three(
    catalog: &dyn Catalog,
    account: AccountId,
) -> (SequenceId, Vec<PictureId>) {
    let set = catalog
        .create_upload_set(NewUploadSet::titled("three", account))
        .await
        .expect("set")
        .id;
    let at = Utc
        .timestamp_opt(1_600_000_000, 0)
        .single()
        .expect("instant");
    let pictures = (0..3)
        .map(|n| {
            let p = fixture::picture(set, account, n, at, fixture::offset(n as f64 * 5.0, 0.0));
            (p, PictureStatus::Ready)
        })
        .collect();
    fixture::publish(catalog, set, "three", pictures).await
}

/// The version stays while pictures are received and prepared (they show nowhere yet), moves
/// when they are published and when a published one changes, and tells two catalogs apart.
async fn version_moves_with_what_the_map_shows(catalog: &dyn Catalog, _: &Sql) {
    let (account, _) = catalog.default_account().await.expect("account");
    let start = catalog.data_version().await.expect("version");
    let set = catalog
        .create_upload_set(NewUploadSet::titled("received", account))
        .await
        .expect("set")
        .id;
    let mut dice = Dice(11);
    let mut ids = Vec::new();
    for n in 0..3 {
        let (p, f) = new_picture(set, account, n, &mut dice);
        ids.push(p.id);
        catalog.insert_picture(p, f).await.expect("insert");
        for status in [PictureStatus::Preparing, PictureStatus::Ready] {
            catalog
                .set_picture_status(ids[n], status, None)
                .await
                .expect("status");
        }
    }
    assert_eq!(catalog.data_version().await.expect("version"), start);

    let plan = |heading: f64| DispatchPlan {
        sequences: vec![PlannedSequence {
            title: "one".to_owned(),
            sorted_by: "+gpsdate".to_owned(),
            pictures: ids
                .iter()
                .map(|id| PlannedPicture {
                    id: *id,
                    heading_deg: Some(heading),
                    heading_computed: false,
                })
                .collect(),
            length_km: 0.0,
            gps_accuracy_m: None,
        }],
        duplicates: Vec::new(),
    };
    catalog
        .apply_dispatch(set, plan(10.0))
        .await
        .expect("dispatch");
    let published = catalog.data_version().await.expect("version");
    assert!(start.is_before(&published), "{start} then {published}");

    // The same plan again writes nothing new; turning the pictures does.
    catalog
        .apply_dispatch(set, plan(10.0))
        .await
        .expect("dispatch");
    let again = catalog.data_version().await.expect("version");
    catalog
        .apply_dispatch(set, plan(90.0))
        .await
        .expect("dispatch");
    let turned = catalog.data_version().await.expect("version");
    assert!(again.is_before(&turned), "{again} then {turned}");

    // Reads move nothing (once the lines of the writes before are redrawn).
    let (sequence, _) = publish_three(catalog, account).await;
    shown(catalog).await;
    let read = catalog.data_version().await.expect("version");
    shown(catalog).await;
    catalog.sequence(sequence).await.expect("sequence");
    assert_eq!(catalog.data_version().await.expect("version"), read);

    // Versions of another catalog never read as before or after this one's.
    let other = DataVersion {
        catalog: format!("{}x", read.catalog),
        counter: read.counter + 1,
    };
    assert!(!read.is_before(&other));
}

/// Map reads limited to a bbox and to one account.
async fn map_reads_keep_to_their_bbox_and_account(catalog: &dyn Catalog, _: &Sql) {
    let (account, _) = catalog.default_account().await.expect("account");
    let (sequence, ids) = publish_three(catalog, account).await;
    let [lon, lat] = {
        let (lon, lat) = fixture::offset(5.0, 0.0);
        [lon, lat]
    };
    let around_middle = MapQuery {
        bbox: [lon - 1e-6, lat - 1e-6, lon + 1e-6, lat + 1e-6],
        account: Some(account),
        simplified: false,
    };
    let pictures = catalog
        .map_pictures(&around_middle)
        .await
        .expect("pictures");
    assert_eq!(
        pictures.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![ids[1]]
    );
    let sequences = catalog.map_sequences(&around_middle).await.expect("lines");
    assert_eq!(
        sequences.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![sequence]
    );
    let elsewhere = MapQuery {
        bbox: [lon + 1.0, lat, lon + 2.0, lat + 1.0],
        ..around_middle
    };
    assert!(
        catalog
            .map_pictures(&elsewhere)
            .await
            .expect("pictures")
            .is_empty()
    );
    assert!(
        catalog
            .map_sequences(&elsewhere)
            .await
            .expect("lines")
            .is_empty()
    );
    // A box whose minimum exceeds its maximum holds nothing.
    let inverted = MapQuery {
        bbox: [lon + 1e-6, lat - 1e-6, lon - 1e-6, lat + 1e-6],
        ..around_middle
    };
    assert!(
        catalog
            .map_pictures(&inverted)
            .await
            .expect("pictures")
            .is_empty()
    );
    let someone_else = MapQuery {
        account: Some(AccountId::new()),
        ..around_middle
    };
    assert!(
        catalog
            .map_pictures(&someone_else)
            .await
            .expect("pictures")
            .is_empty()
    );
    assert!(
        catalog
            .map_sequences(&someone_else)
            .await
            .expect("lines")
            .is_empty()
    );
    let extent = catalog.extent().await.expect("extent");
    let bbox = extent.bbox.expect("a bbox");
    assert_eq!(bbox[1], fixture::LAT);
    assert_eq!(bbox[0], fixture::LON);
    assert_eq!(bbox[2], fixture::offset(10.0, 0.0).0);
}

/// A row this release cannot read (written by another release, or by hand) leaves its
/// sequence off the map, not every sequence drawn after it.
async fn an_unreadable_sequence_leaves_the_others_drawn(catalog: &dyn Catalog, sql: &Sql) {
    let (account, _) = catalog.default_account().await.expect("account");
    let (first, first_pictures) = publish_three(catalog, account).await;
    let (second, _) = publish_three(catalog, account).await;
    for picture in first_pictures {
        let corrupt = "UPDATE pictures SET projection = 'cubemap' WHERE id =";
        sql.run(
            &format!("{corrupt} ?1"),
            &format!("{corrupt} $1"),
            &[picture.0],
        )
        .await;
    }
    let drawn = catalog.map_sequences(&WORLD).await.expect("map read");
    assert_eq!(
        drawn.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![second],
        "{first} is left off"
    );
    let stale = sql
        .count(
            "SELECT count(*) FROM map_sequences_stale",
            "SELECT count(*) FROM map_sequences_stale",
            &[],
        )
        .await;
    assert_eq!(stale, 0, "every line is redrawn or given up");
}

sql_contracts! {
    an_unreadable_sequence_leaves_the_others_drawn => an_unreadable_sequence_leaves_the_others_drawn;
    map_follows_every_write => map_follows_every_write;
    data_version_moves_with_what_the_map_shows => version_moves_with_what_the_map_shows;
    map_reads_keep_to_their_bbox_and_account => map_reads_keep_to_their_bbox_and_account;
}
