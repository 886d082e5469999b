//! What map tiles are drawn from: stored sequence lines and pictures in a bbox (both through
//! their R*Tree), the picture grid, and the data version that tile ETags carry. Triggers of the
//! `map` and `map_sequences` migrations keep all of them current.

use flaneur_model::{AccountId, camera_model, h_pixel_density};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use super::codec::{from_micros, get, parse_col, parse_opt_col, push_bbox_overlap};
use crate::catalog::{DataVersion, GridCell, MapPicture, MapQuery, MapSequence};
use crate::track::decode_lines;
use crate::{Error, Result};

/// Size of a grid cell, in degrees.
const GRID_STEP_DEG: f64 = 0.1;

/// `AND <col> = ?` when the query is limited to one account.
fn push_account(sql: &mut QueryBuilder<Sqlite>, col: &str, account: Option<AccountId>) {
    if let Some(account) = account {
        sql.push(format!(" AND {col} = "));
        sql.push_bind(account.to_string());
    }
}

pub(super) async fn map_sequences(pool: &SqlitePool, query: &MapQuery) -> Result<Vec<MapSequence>> {
    let lines = if query.simplified {
        "m.lines_simplified"
    } else {
        "m.lines"
    };
    let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
        "SELECT s.id, s.account_id, s.visibility, s.gps_accuracy_m, {lines} AS lines,
                m.model, m.projection, m.capture_date, m.h_pixel_density
         FROM map_sequences_rtree r
         JOIN map_sequences m ON m.id = r.id
         JOIN sequences s ON s.id = m.sequence_id
         WHERE s.status = 'ready' AND "
    ));
    push_bbox_overlap(&mut sql, "r.", query.bbox);
    push_account(&mut sql, "s.account_id", query.account);
    sql.push(" ORDER BY s.created_at, s.id");
    let rows = sql
        .build()
        .fetch_all(pool)
        .await
        .map_err(Error::db("list sequences of a tile"))?;
    rows.iter().map(map_sequence_from_row).collect()
}

fn map_sequence_from_row(row: &SqliteRow) -> Result<MapSequence> {
    let t = "map_sequences";
    let bytes: Vec<u8> = get(row, t, "lines")?;
    Ok(MapSequence {
        id: parse_col(row, t, "id")?,
        account_id: parse_col(row, t, "account_id")?,
        visibility: parse_col(row, t, "visibility")?,
        lines: decode_lines(&bytes).ok_or_else(|| Error::corrupt(t, "lines: malformed"))?,
        model: get(row, t, "model")?,
        projection: parse_opt_col(row, t, "projection")?,
        capture_date: get(row, t, "capture_date")?,
        gps_accuracy_m: get(row, t, "gps_accuracy_m")?,
        h_pixel_density: get(row, t, "h_pixel_density")?,
    })
}

pub(super) async fn map_pictures(pool: &SqlitePool, query: &MapQuery) -> Result<Vec<MapPicture>> {
    // Only the fields the pictures layer shows are read out of the stored document: a whole
    // document carries every EXIF tag of the file.
    let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(
        "SELECT p.id, p.account_id, sp.sequence_id, p.visibility,
                s.visibility AS sequence_visibility, p.lon, p.lat, p.captured_at, p.heading_deg,
                p.projection, json_extract(p.doc, '$.details.make') AS make,
                json_extract(p.doc, '$.details.model') AS model,
                json_extract(p.doc, '$.details.gps_accuracy_m') AS gps_accuracy_m,
                json_extract(p.doc, '$.details.field_of_view_deg') AS field_of_view_deg,
                json_extract(p.doc, '$.width') AS width
         FROM pictures_rtree r
         JOIN pictures p ON p.rowid = r.id
         JOIN sequence_pictures sp ON sp.picture_id = p.id
         JOIN sequences s ON s.id = sp.sequence_id
         WHERE p.status = 'ready' AND s.status = 'ready' AND ",
    );
    push_bbox_overlap(&mut sql, "r.", query.bbox);
    push_account(&mut sql, "p.account_id", query.account);
    sql.push(" ORDER BY s.created_at, s.id, sp.rank");
    let rows = sql
        .build()
        .fetch_all(pool)
        .await
        .map_err(Error::db("list pictures of a tile"))?;
    rows.iter().map(map_picture_from_row).collect()
}

fn map_picture_from_row(row: &SqliteRow) -> Result<MapPicture> {
    let t = "pictures";
    let make: Option<String> = get(row, t, "make")?;
    let model: Option<String> = get(row, t, "model")?;
    let width: Option<i64> = get(row, t, "width")?;
    let width = width.and_then(|w| u32::try_from(w).ok()).unwrap_or(0);
    Ok(MapPicture {
        id: parse_col(row, t, "id")?,
        account_id: parse_col(row, t, "account_id")?,
        sequence_id: parse_col(row, t, "sequence_id")?,
        visibility: parse_col(row, t, "visibility")?,
        sequence_visibility: parse_col(row, t, "sequence_visibility")?,
        lon: get(row, t, "lon")?,
        lat: get(row, t, "lat")?,
        captured_at: from_micros(get(row, t, "captured_at")?),
        heading_deg: get(row, t, "heading_deg")?,
        projection: parse_col(row, t, "projection")?,
        model: camera_model(make.as_deref(), model.as_deref()),
        gps_accuracy_m: get(row, t, "gps_accuracy_m")?,
        h_pixel_density: h_pixel_density(width, get(row, t, "field_of_view_deg")?),
    })
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

pub(super) async fn data_version(pool: &SqlitePool) -> Result<DataVersion> {
    // Bumped by the triggers of the `map_version` migration.
    let (catalog, counter): (String, i64) =
        sqlx::query_as("SELECT catalog_id, version FROM catalog_identity, data_version")
            .fetch_one(pool)
            .await
            .map_err(Error::db("read the catalog data version"))?;
    Ok(DataVersion { catalog, counter })
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use flaneur_model::{
        NewPicture, NewUploadSet, PictureId, PictureStatus, Projection, UploadFile, UploadSetId,
    };

    use super::*;
    use crate::catalog::{DispatchPlan, PlannedPicture, PlannedSequence};
    use crate::sqlite::fixture;
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
        NewUploadSet::titled("walk", account)
    }

    fn new_picture(
        set: UploadSetId,
        account: flaneur_model::AccountId,
        dice: &mut Dice,
    ) -> (NewPicture, UploadFile) {
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
        let p = fixture::picture(set, account, String::new(), at, lon, lat);
        let p = NewPicture {
            file_name: format!("{}.jpg", p.id),
            projection,
            ..p
        };
        let f = fixture::upload_file(&p);
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

    type StoredLine = (String, Vec<u8>, Vec<u8>, Option<String>, Option<String>);

    /// The stored lines once the stale ones are redrawn.
    async fn lines(catalog: &SqliteCatalog) -> Vec<StoredLine> {
        super::super::sequence_line::redraw_stale_sequences(&catalog.reader, &catalog.writer)
            .await
            .expect("redraw");
        sqlx::query_as(
            "SELECT sequence_id, lines, lines_simplified, model, capture_date
             FROM map_sequences ORDER BY sequence_id",
        )
        .fetch_all(&catalog.writer)
        .await
        .expect("lines")
    }

    /// The stored lines after redrawing every sequence, as they must always read.
    async fn redrawn_lines(catalog: &SqliteCatalog) -> Vec<StoredLine> {
        sqlx::query("INSERT OR IGNORE INTO map_sequences_stale SELECT id FROM sequences")
            .execute(&catalog.writer)
            .await
            .expect("mark every line stale");
        lines(catalog).await
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

    async fn stale_lines(pool: &SqlitePool) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM map_sequences_stale")
            .fetch_one(pool)
            .await
            .expect("stale lines")
    }

    #[tokio::test]
    async fn map_reads_neither_stop_the_redraw_nor_wait_long_for_the_writer() {
        let dir = tempfile::tempdir().expect("tempdir");
        let catalog = SqliteCatalog::open(&dir.path().join("catalog.db"))
            .await
            .expect("open");
        let (account, _) = catalog.default_account().await.expect("account");
        let mut dice = Dice(7);
        let set = catalog.create_upload_set(spec(account)).await.expect("set");
        for _ in 0..3 {
            let (p, f) = new_picture(set.id, account, &mut dice);
            let id = p.id;
            catalog.insert_picture(p, f).await.expect("insert");
            catalog
                .set_picture_status(id, PictureStatus::Ready, None)
                .await
                .expect("ready");
        }
        let plan = random_plan(&catalog, set.id, &mut dice).await;
        catalog
            .apply_dispatch(set.id, plan)
            .await
            .expect("dispatch");
        let query = MapQuery {
            bbox: [-180.0, -85.0, 180.0, 85.0],
            account: None,
            simplified: false,
        };
        assert!(stale_lines(&catalog.reader).await > 0);

        // A long write holds the writer: a map read waiting for the redraw is given up, and
        // another one is answered from the lines as stored, without the writer.
        let before = catalog.data_version().await.expect("version");
        let held = catalog.writer.acquire().await.expect("hold the writer");
        let read = tokio::time::timeout(
            std::time::Duration::from_millis(200),
            catalog.map_sequences(&query),
        )
        .await;
        assert!(read.is_err(), "the read should wait for the redraw a while");
        let read = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            catalog.map_sequences(&query),
        )
        .await;
        let drawn = read
            .expect("answered while the writer is held")
            .expect("map read");
        assert!(drawn.is_empty(), "no line was drawn yet");
        drop(held);

        // The redraw goes on without any reader waiting for it.
        for _ in 0..100 {
            if stale_lines(&catalog.reader).await == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(stale_lines(&catalog.reader).await, 0, "lines left stale");
        let sequences = catalog.map_sequences(&query).await.expect("map read");
        assert!(!sequences.is_empty());
        let after = catalog.data_version().await.expect("version");
        assert!(before.is_before(&after), "the redraw moves the version");
    }

    /// Everything the map shows, for anyone or for its owner.
    async fn map_shows(catalog: &SqliteCatalog) -> String {
        let world = MapQuery {
            bbox: [-180.0, -85.0, 180.0, 85.0],
            account: None,
            simplified: false,
        };
        let grid = catalog.picture_grid().await.expect("grid");
        let sequences = catalog.map_sequences(&world).await.expect("sequences");
        let pictures = catalog.map_pictures(&world).await.expect("pictures");
        format!("{grid:?}\n{sequences:?}\n{pictures:?}")
    }

    #[tokio::test]
    async fn a_sequence_that_cannot_be_read_leaves_the_others_drawn() {
        let dir = tempfile::tempdir().expect("tempdir");
        let catalog = SqliteCatalog::open(&dir.path().join("catalog.db"))
            .await
            .expect("open");
        let (account, _) = catalog.default_account().await.expect("account");
        let mut dice = Dice(13);
        let mut first_pictures = Vec::new();
        for n in 0..2 {
            let set = catalog.create_upload_set(spec(account)).await.expect("set");
            for _ in 0..2 {
                let (p, f) = new_picture(set.id, account, &mut dice);
                let id = p.id;
                catalog.insert_picture(p, f).await.expect("insert");
                catalog
                    .set_picture_status(id, PictureStatus::Ready, None)
                    .await
                    .expect("ready");
                if n == 0 {
                    first_pictures.push(id);
                }
            }
            let mut plan = random_plan(&catalog, set.id, &mut dice).await;
            let pictures = plan.sequences.drain(..).flat_map(|s| s.pictures).collect();
            plan.sequences.push(PlannedSequence {
                title: format!("set {n}"),
                sorted_by: "+gpsdate".to_owned(),
                pictures,
                length_km: 0.0,
                gps_accuracy_m: None,
            });
            catalog
                .apply_dispatch(set.id, plan)
                .await
                .expect("dispatch");
        }
        // A value this release does not know, written by another one or by hand.
        sqlx::query("UPDATE pictures SET projection = 'cubemap' WHERE id = ?")
            .bind(first_pictures[0].to_string())
            .execute(&catalog.writer)
            .await
            .expect("corrupt a picture");
        sqlx::query("UPDATE pictures SET projection = 'cubemap' WHERE id = ?")
            .bind(first_pictures[1].to_string())
            .execute(&catalog.writer)
            .await
            .expect("corrupt a picture");

        let world = MapQuery {
            bbox: [-180.0, -85.0, 180.0, 85.0],
            account: None,
            simplified: false,
        };
        let sequences = catalog.map_sequences(&world).await.expect("map read");
        assert_eq!(sequences.len(), 1, "{sequences:?}");
        assert_eq!(stale_lines(&catalog.reader).await, 0);
    }

    #[tokio::test]
    async fn the_version_stays_while_pictures_are_received_and_prepared() {
        let dir = tempfile::tempdir().expect("tempdir");
        let catalog = SqliteCatalog::open(&dir.path().join("catalog.db"))
            .await
            .expect("open");
        let (account, _) = catalog.default_account().await.expect("account");
        let mut dice = Dice(11);
        let set = catalog.create_upload_set(spec(account)).await.expect("set");
        let start = catalog.data_version().await.expect("version");
        let mut ids = Vec::new();
        for _ in 0..3 {
            let (p, f) = new_picture(set.id, account, &mut dice);
            ids.push(p.id);
            catalog.insert_picture(p, f).await.expect("insert");
            for status in [PictureStatus::Preparing, PictureStatus::Ready] {
                catalog
                    .set_picture_status(ids[ids.len() - 1], status, None)
                    .await
                    .expect("status");
            }
        }
        assert_eq!(catalog.data_version().await.expect("version"), start);

        let plan = random_plan(&catalog, set.id, &mut dice).await;
        catalog
            .apply_dispatch(set.id, plan)
            .await
            .expect("dispatch");
        let published = catalog.data_version().await.expect("version");
        assert!(start.is_before(&published), "{start} then {published}");
        sqlx::query("UPDATE pictures SET heading_deg = 90 WHERE id = ?")
            .bind(ids[0].to_string())
            .execute(&catalog.writer)
            .await
            .expect("turn a published picture");
        let turned = catalog.data_version().await.expect("version");
        assert!(published.is_before(&turned), "{published} then {turned}");
    }

    #[tokio::test]
    async fn grid_and_lines_match_a_full_recount_after_every_write() {
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

        let mut shown = (
            map_shows(&catalog).await,
            catalog.data_version().await.expect("v"),
        );
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
            let op = dice.below(12);
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
                // An upsert touching a sequence twice in one transaction: the second finds it
                // marked stale already, under the upsert's own conflict clause.
                (9, _, Some(s)) => {
                    let mut tx = pool.begin().await.expect("begin");
                    for _ in 0..2 {
                        sqlx::query(
                            "INSERT INTO sequences SELECT * FROM sequences WHERE id = ?1
                             ON CONFLICT (id) DO UPDATE SET visibility = ?2",
                        )
                        .bind(&s)
                        .bind(visibilities[dice.below(visibilities.len())])
                        .execute(&mut *tx)
                        .await
                        .expect("upsert sequence");
                    }
                    tx.commit().await.expect("commit");
                }
                // A REPLACE moving a ranked picture onto another's rank: both rows it collides
                // with go, as deletes.
                (10, Some(p), _) => {
                    let rank: Option<(String, i64)> = sqlx::query_as(
                        "SELECT sequence_id, rank FROM sequence_pictures WHERE picture_id = ?",
                    )
                    .bind(p.to_string())
                    .fetch_optional(pool)
                    .await
                    .expect("rank");
                    if let Some((s, rank)) = rank {
                        sqlx::query(
                            "INSERT OR REPLACE INTO sequence_pictures (sequence_id, rank, picture_id)
                             SELECT sequence_id, rank, ?2 FROM sequence_pictures
                             WHERE sequence_id = ?1 AND rank < ?3 ORDER BY rank DESC LIMIT 1",
                        )
                        .bind(&s)
                        .bind(p.to_string())
                        .bind(rank)
                        .execute(pool)
                        .await
                        .expect("replace rank");
                    }
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
            assert_eq!(
                lines(&catalog).await,
                redrawn_lines(&catalog).await,
                "after step {step}, op {op}"
            );
            let misplaced: i64 = sqlx::query_scalar(
                "SELECT (SELECT count(*) FROM pictures_rtree) - (SELECT count(*) FROM pictures p
                     JOIN pictures_rtree r ON r.id = p.rowid
                     WHERE abs(r.min_lon - p.lon) < 1e-4 AND abs(r.max_lat - p.lat) < 1e-4)
                 + (SELECT count(*) FROM pictures) - (SELECT count(*) FROM pictures_rtree)",
            )
            .fetch_one(pool)
            .await
            .expect("space index");
            assert_eq!(misplaced, 0, "space index after step {step}, op {op}");
            // The version moves whenever the map shows something else.
            let now = (
                map_shows(&catalog).await,
                catalog.data_version().await.expect("v"),
            );
            if now.0 != shown.0 {
                assert!(shown.1.is_before(&now.1), "after step {step}, op {op}");
            }
            shown = now;
        }
        let counted: i64 = table(pool).await.iter().map(|c| c.2).sum();
        assert!(counted > 0, "the walk should end with pictures on the map");
    }
}
