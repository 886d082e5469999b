//! What map tiles are drawn from: sequence tracks in a bbox, the picture grid, and the data
//! version that tile ETags carry.

use std::collections::HashMap;

use flaneur_model::SequenceId;
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use super::codec::{PICTURE_COLUMNS, picture_from_row, sequence_from_row};
use crate::catalog::{GridCell, SequenceTrack};
use crate::{Error, Result};

/// Size of a grid cell, in degrees.
const GRID_STEP_DEG: f64 = 0.1;

pub(super) async fn sequence_tracks(
    pool: &SqlitePool,
    bbox: [f64; 4],
) -> Result<Vec<SequenceTrack>> {
    let [min_lon, min_lat, max_lon, max_lat] = bbox;

    // 1. The published sequences whose bbox columns intersect the tile's.
    let rows = sqlx::query(
        "SELECT * FROM sequences
         WHERE status = 'ready' AND visibility = 'anyone'
           AND min_lon <= ? AND max_lon >= ? AND min_lat <= ? AND max_lat >= ?
         ORDER BY created_at, id",
    )
    .bind(max_lon)
    .bind(min_lon)
    .bind(max_lat)
    .bind(min_lat)
    .fetch_all(pool)
    .await
    .map_err(Error::db("list sequences of a tile"))?;
    let mut tracks = rows
        .iter()
        .map(|row| {
            Ok(SequenceTrack {
                sequence: sequence_from_row(row)?,
                pictures: Vec::new(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if tracks.is_empty() {
        return Ok(tracks);
    }

    // 2. All their ready, visible pictures in one query, grouped back by sequence.
    let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
        "SELECT {PICTURE_COLUMNS} FROM pictures p
         JOIN sequence_pictures sp ON sp.picture_id = p.id
         WHERE p.status = 'ready' AND p.visibility = 'anyone' AND sp.sequence_id IN ("
    ));
    let mut list = sql.separated(", ");
    for track in &tracks {
        list.push_bind(track.sequence.id.to_string());
    }
    sql.push(") ORDER BY sp.sequence_id, sp.rank");
    let rows = sql
        .build()
        .fetch_all(pool)
        .await
        .map_err(Error::db("list pictures of a tile's sequences"))?;
    let index: HashMap<SequenceId, usize> = tracks
        .iter()
        .enumerate()
        .map(|(i, t)| (t.sequence.id, i))
        .collect();
    for row in &rows {
        let picture = picture_from_row(row)?;
        let at = picture.sequence_id.and_then(|id| index.get(&id).copied());
        if let Some(track) = at.and_then(|i| tracks.get_mut(i)) {
            track.pictures.push(picture);
        }
    }
    Ok(tracks)
}

pub(super) async fn picture_grid(pool: &SqlitePool) -> Result<Vec<GridCell>> {
    // The triggers of the `map` migration keep the table current; cells that emptied stay at 0.
    let rows: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT cell_x, cell_y, nb_pictures, nb_360_pictures FROM map_grid
         WHERE nb_pictures > 0",
    )
    .fetch_all(pool)
    .await
    .map_err(Error::db("read the picture grid"))?;
    Ok(rows
        .into_iter()
        .map(|(x, y, nb, nb_360)| GridCell {
            lon: x as f64 * GRID_STEP_DEG,
            lat: y as f64 * GRID_STEP_DEG,
            nb_pictures: nb,
            nb_360_pictures: nb_360,
        })
        .collect())
}

pub(super) async fn data_version(pool: &SqlitePool) -> Result<String> {
    // Bumped by triggers on every row written to accounts, pictures, sequences and ranks.
    let version: i64 = sqlx::query_scalar("SELECT version FROM data_version")
        .fetch_one(pool)
        .await
        .map_err(Error::db("read the catalog data version"))?;
    Ok(version.to_string())
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use flaneur_model::{
        NewPicture, NewUploadSet, PictureDetails, PictureId, PictureStatus, Projection, UploadFile,
        UploadSetId, Visibility,
    };

    use super::*;
    use crate::catalog::{DispatchPlan, PlannedPicture, PlannedSequence};
    use crate::{Catalog, SqliteCatalog};

    /// A small deterministic generator (xorshift), so a failure replays identically.
    struct Dice(u64);

    impl Dice {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }

        fn pick<T: Clone>(&mut self, items: &[T]) -> Option<T> {
            (!items.is_empty()).then(|| items[self.below(items.len())].clone())
        }
    }

    fn spec(account: flaneur_model::AccountId) -> NewUploadSet {
        NewUploadSet {
            title: "walk".to_owned(),
            account_id: account,
            estimated_nb_files: None,
            sort_method: None,
            no_split: None,
            split_distance_m: None,
            split_time_secs: None,
            no_deduplication: None,
            duplicate_distance_m: None,
            duplicate_rotation_deg: None,
            relative_heading_deg: None,
            visibility: Visibility::Anyone,
            metadata: None,
            semantics: serde_json::json!([]),
            user_agent: None,
        }
    }

    fn new_picture(
        set: UploadSetId,
        account: flaneur_model::AccountId,
        dice: &mut Dice,
    ) -> (NewPicture, UploadFile) {
        let id = PictureId::new();
        let name = format!("{id}.jpg");
        // Positions over four grid cells, some right on a cell's edge.
        let lon = 2.0 + dice.below(21) as f64 * 0.01;
        let lat = 48.0 + dice.below(11) as f64 * 0.0125;
        let projection = if dice.below(3) == 0 {
            Projection::Equirectangular
        } else {
            Projection::Flat
        };
        let at = Utc
            .timestamp_opt(1_600_000_000, 0)
            .single()
            .expect("instant");
        let p = NewPicture {
            id,
            upload_set_id: set,
            account_id: account,
            visibility: Visibility::Anyone,
            captured_at: at,
            utc_offset_secs: None,
            lon,
            lat,
            heading_deg: None,
            projection,
            width: 100,
            height: 50,
            orientation: 1,
            content_md5: id.to_string(),
            file_name: name.clone(),
            size_bytes: 1,
            is_blurred: false,
            details: PictureDetails::default(),
        };
        let f = UploadFile {
            upload_set_id: set,
            file_name: name,
            size_bytes: Some(1),
            content_md5: Some(id.to_string()),
            picture_id: Some(id),
            inserted_at: at,
            rejection: None,
        };
        (p, f)
    }

    /// The grid counted from scratch, as the table must always read.
    async fn recount(pool: &SqlitePool) -> Vec<(i64, i64, i64, i64)> {
        sqlx::query_as(
            "SELECT CAST(round(p.lon / 0.1) AS INTEGER) AS x,
                    CAST(round(p.lat / 0.1) AS INTEGER) AS y,
                    count(*), sum(p.projection = 'equirectangular')
             FROM pictures p
             JOIN sequence_pictures sp ON sp.picture_id = p.id
             JOIN sequences s ON s.id = sp.sequence_id
             WHERE p.status = 'ready' AND p.visibility = 'anyone'
               AND s.status = 'ready' AND s.visibility = 'anyone'
             GROUP BY x, y ORDER BY x, y",
        )
        .fetch_all(pool)
        .await
        .expect("recount")
    }

    async fn table(pool: &SqlitePool) -> Vec<(i64, i64, i64, i64)> {
        sqlx::query_as(
            "SELECT cell_x, cell_y, nb_pictures, nb_360_pictures FROM map_grid
             WHERE nb_pictures != 0 OR nb_360_pictures != 0 ORDER BY cell_x, cell_y",
        )
        .fetch_all(pool)
        .await
        .expect("grid")
    }

    async fn random_plan(
        catalog: &SqliteCatalog,
        set: UploadSetId,
        dice: &mut Dice,
    ) -> DispatchPlan {
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
                heading_deg: None,
                heading_computed: false,
            });
        }
        sequences.retain(|s| !s.pictures.is_empty());
        DispatchPlan {
            sequences,
            duplicates: Vec::new(),
        }
    }

    #[tokio::test]
    async fn grid_matches_a_full_recount_after_every_write() {
        let dir = tempfile::tempdir().expect("tempdir");
        let catalog = SqliteCatalog::open(&dir.path().join("catalog.db"))
            .await
            .expect("open");
        let (account, _) = catalog.default_account().await.expect("account");
        let pool = &catalog.writer;
        let mut dice = Dice(0x5eed_cafe);
        let mut sets: Vec<UploadSetId> = Vec::new();
        let statuses = [
            PictureStatus::Ready,
            PictureStatus::Ready,
            PictureStatus::Preparing,
            PictureStatus::Broken,
            PictureStatus::WaitingForDelete,
        ];
        let visibilities = ["anyone", "anyone", "owner-only", "logged-only"];
        let sequence_statuses = ["ready", "ready", "deleted", "waiting-for-process"];

        for step in 0..400 {
            let pictures: Vec<String> = sqlx::query_scalar("SELECT id FROM pictures")
                .fetch_all(pool)
                .await
                .expect("pictures");
            let picture = dice
                .pick(&pictures)
                .and_then(|p| p.parse::<PictureId>().ok());
            let sequences: Vec<String> = sqlx::query_scalar("SELECT id FROM sequences")
                .fetch_all(pool)
                .await
                .expect("sequences");
            let sequence = dice.pick(&sequences);
            let op = dice.below(10);
            match (op, picture, sequence) {
                // New upload sets with a few pictures, some of them ready at once.
                (0, ..) | (_, None, _) => {
                    let set = catalog.create_upload_set(spec(account)).await.expect("set");
                    for _ in 0..1 + dice.below(8) {
                        let (p, f) = new_picture(set.id, account, &mut dice);
                        let id = p.id;
                        catalog.insert_picture(p, f).await.expect("insert");
                        if dice.below(2) == 0 {
                            catalog
                                .set_picture_status(id, PictureStatus::Ready, None)
                                .await
                                .expect("ready");
                        }
                    }
                    sets.push(set.id);
                }
                // Dispatch (again): sequences made, reused, pictures moved between them.
                (1 | 2, ..) => {
                    if let Some(set) = dice.pick(&sets) {
                        let plan = random_plan(&catalog, set, &mut dice).await;
                        catalog.apply_dispatch(set, plan).await.expect("dispatch");
                    }
                }
                (3 | 4, Some(p), _) => {
                    let status = statuses[dice.below(statuses.len())];
                    catalog
                        .set_picture_status(p, status, None)
                        .await
                        .expect("status");
                }
                (5, Some(p), _) => {
                    catalog.remove_picture(p).await.expect("remove");
                }
                // Writes no catalog method makes yet: the triggers must follow them anyway.
                (6, Some(p), _) => {
                    sqlx::query("UPDATE pictures SET visibility = ? WHERE id = ?")
                        .bind(visibilities[dice.below(visibilities.len())])
                        .bind(p.to_string())
                        .execute(pool)
                        .await
                        .expect("hide picture");
                }
                (7, Some(p), _) => {
                    sqlx::query(
                        "UPDATE pictures SET lon = lon + 0.05, lat = lat - 0.03 WHERE id = ?",
                    )
                    .bind(p.to_string())
                    .execute(pool)
                    .await
                    .expect("move picture");
                }
                (8, _, Some(s)) => {
                    sqlx::query("UPDATE sequences SET status = ?, visibility = ? WHERE id = ?")
                        .bind(sequence_statuses[dice.below(sequence_statuses.len())])
                        .bind(visibilities[dice.below(visibilities.len())])
                        .bind(s)
                        .execute(pool)
                        .await
                        .expect("change sequence");
                }
                _ => {
                    let set = (dice.below(4) == 0).then(|| dice.pick(&sets)).flatten();
                    if let Some(set) = set {
                        catalog.delete_upload_set(set).await.expect("delete set");
                        sets.retain(|s| *s != set);
                    }
                }
            }
            assert_eq!(
                table(pool).await,
                recount(pool).await,
                "after step {step}, op {op}"
            );
        }
        let counted: i64 = table(pool).await.iter().map(|c| c.2).sum();
        assert!(counted > 0, "the walk should end with pictures on the map");
    }
}
