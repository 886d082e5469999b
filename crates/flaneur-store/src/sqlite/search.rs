//! Picture search (bbox, area, time, ids, sequences) and the extent of the catalog.

use flaneur_model::Picture;
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use super::codec::{PICTURE_COLUMNS, from_micros, picture_from_row, push_bbox_overlap, to_micros};
use crate::catalog::{Extent, PictureQuery};
use crate::{Error, Result};

/// Rows fetched per round when an area filter drops some of them.
const AREA_BATCH: usize = 500;

pub(super) async fn search_pictures(
    pool: &SqlitePool,
    query: &PictureQuery,
) -> Result<Vec<Picture>> {
    let Some(area) = &query.intersects else {
        return fetch(pool, query, query.limit).await;
    };

    // SQLite has no polygon test: the R*Tree narrows to the area's bbox, then each point is
    // tested here, fetching more batches until the page is full or the rows run out.
    let mut bounded = query.clone();
    bounded.bbox = match (query.bbox, area.bbox()) {
        (Some(a), Some(b)) => Some([
            a[0].max(b[0]),
            a[1].max(b[1]),
            a[2].min(b[2]),
            a[3].min(b[3]),
        ]),
        (a, b) => a.or(b),
    };
    let mut found = Vec::with_capacity(query.limit.min(AREA_BATCH));
    loop {
        let batch = fetch(pool, &bounded, AREA_BATCH).await?;
        let exhausted = batch.len() < AREA_BATCH;
        if let Some(last) = batch.last() {
            bounded.after = Some((last.updated_at, last.base.id));
        }
        for picture in batch {
            if area.contains(picture.base.lon, picture.base.lat) {
                found.push(picture);
                if found.len() == query.limit {
                    return Ok(found);
                }
            }
        }
        if exhausted {
            return Ok(found);
        }
    }
}

/// One page of ready pictures of ready sequences matching every filter but the area.
async fn fetch(pool: &SqlitePool, query: &PictureQuery, limit: usize) -> Result<Vec<Picture>> {
    let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
        "SELECT {PICTURE_COLUMNS} FROM pictures p
         JOIN sequence_pictures sp ON sp.picture_id = p.id
         JOIN sequences s ON s.id = sp.sequence_id
         WHERE p.status = 'ready' AND s.status = 'ready'
           AND p.visibility = 'anyone' AND s.visibility = 'anyone'"
    ));
    if let Some(bbox) = query.bbox {
        sql.push(" AND p.rowid IN (SELECT id FROM pictures_rtree WHERE ");
        push_bbox_overlap(&mut sql, "", bbox);
        sql.push(")");
    }
    if let Some(start) = query.datetime.start {
        sql.push(" AND p.captured_at >= ")
            .push_bind(to_micros(start));
    }
    if let Some(end) = query.datetime.end {
        sql.push(" AND p.captured_at <= ").push_bind(to_micros(end));
    }
    if !query.ids.is_empty() {
        sql.push(" AND p.id IN (");
        let mut list = sql.separated(", ");
        for id in &query.ids {
            list.push_bind(id.to_string());
        }
        sql.push(")");
    }
    if !query.collections.is_empty() {
        sql.push(" AND sp.sequence_id IN (");
        let mut list = sql.separated(", ");
        for id in &query.collections {
            list.push_bind(id.to_string());
        }
        sql.push(")");
    }
    if let Some((updated, id)) = &query.after {
        let updated = to_micros(*updated);
        sql.push(" AND (p.updated_at < ")
            .push_bind(updated)
            .push(" OR (p.updated_at = ")
            .push_bind(updated)
            .push(" AND p.id > ")
            .push_bind(id.to_string())
            .push("))");
    }
    sql.push(" ORDER BY p.updated_at DESC, p.id ASC LIMIT ")
        .push_bind(i64::try_from(limit).unwrap_or(i64::MAX));

    let rows = sql
        .build()
        .fetch_all(pool)
        .await
        .map_err(Error::db("search pictures"))?;
    rows.iter().map(picture_from_row).collect()
}

pub(super) async fn extent(pool: &SqlitePool) -> Result<Extent> {
    type Row = (
        Option<f64>,
        Option<f64>,
        Option<f64>,
        Option<f64>,
        Option<i64>,
        Option<i64>,
    );
    let (min_lon, min_lat, max_lon, max_lat, start, end): Row = sqlx::query_as(
        "SELECT min(lon), min(lat), max(lon), max(lat), min(captured_at), max(captured_at)
         FROM pictures WHERE status = 'ready' AND visibility = 'anyone'",
    )
    .fetch_one(pool)
    .await
    .map_err(Error::db("read extent"))?;
    let bbox = match (min_lon, min_lat, max_lon, max_lat) {
        (Some(a), Some(b), Some(c), Some(d)) => Some([a, b, c, d]),
        _ => None,
    };
    let interval = start
        .zip(end)
        .map(|(s, e)| (from_micros(s), from_micros(e)));
    Ok(Extent { bbox, interval })
}
