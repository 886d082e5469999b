//! What map tiles are drawn from: sequence tracks in a bbox, the picture grid, and the data
//! version that tile ETags carry.

use std::collections::HashMap;

use flaneur_model::SequenceId;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

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
    // Snapping rounds to the nearest grid point, as PostGIS's ST_SnapToGrid does.
    let rows = sqlx::query(
        "SELECT round(p.lon / ?1) * ?1 AS glon, round(p.lat / ?1) * ?1 AS glat,
                count(*) AS nb, sum(p.projection = 'equirectangular') AS nb_360
         FROM pictures p
         JOIN sequence_pictures sp ON sp.picture_id = p.id
         JOIN sequences s ON s.id = sp.sequence_id
         WHERE p.status = 'ready' AND s.status = 'ready'
           AND p.visibility = 'anyone' AND s.visibility = 'anyone'
         GROUP BY glon, glat",
    )
    .bind(GRID_STEP_DEG)
    .fetch_all(pool)
    .await
    .map_err(Error::db("count pictures per grid cell"))?;
    rows.iter()
        .map(|row| {
            let get = |col: &str| -> Result<f64> {
                row.try_get(col)
                    .map_err(|e| Error::corrupt("pictures", format!("{col}: {e}")))
            };
            let count = |col: &str| -> Result<i64> {
                row.try_get(col)
                    .map_err(|e| Error::corrupt("pictures", format!("{col}: {e}")))
            };
            Ok(GridCell {
                lon: get("glon")?,
                lat: get("glat")?,
                nb_pictures: count("nb")?,
                nb_360_pictures: count("nb_360")?,
            })
        })
        .collect()
}

pub(super) async fn data_version(pool: &SqlitePool) -> Result<String> {
    // Every write to a picture or a sequence bumps its `updated_at`, and removals change the
    // counts; status is included for sequences whose publication may not touch `updated_at`.
    let (version,): (String,) = sqlx::query_as(
        "SELECT (SELECT count(*) || '.' || coalesce(max(updated_at), 0) FROM pictures)
             || '.' || (SELECT count(*) || '.' || coalesce(max(updated_at), 0) || '.'
                        || coalesce(sum(status = 'ready'), 0) FROM sequences)",
    )
    .fetch_one(pool)
    .await
    .map_err(Error::db("read the catalog data version"))?;
    Ok(version)
}
