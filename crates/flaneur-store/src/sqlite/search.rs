//! Picture search (bbox, area, place, time, ids, sequences) in any order with keyset pages,
//! and the extent of the catalog.
//!
//! This module writes the SQL that reads each batch of candidates; how batches fill a page is
//! shared with the other catalog in [`crate::search::paging`].

use flaneur_model::{Picture, Viewer};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

use super::codec::{PICTURE_COLUMNS, from_micros, picture_from_row, push_bbox_overlap, to_micros};
use crate::catalog::{Extent, Page, PictureQuery};
use crate::search::paging::{self, NearCursor, PictureSource};
use crate::search::sql::{order_by, push_picture_filter, sort_column};
use crate::search::{PageStart, SortField, SortKey, SortValue};
use crate::visibility::push_picture_visible;
use crate::{Error, Result};

/// Searches pictures; see [`crate::Catalog::search_pictures`].
pub(super) async fn search_pictures(
    pool: &SqlitePool,
    query: &PictureQuery,
) -> Result<Page<Picture>> {
    paging::search_pictures(pool, query).await
}

/// `SELECT <picture columns><extra> FROM …` the ready pictures of ready sequences matching
/// every SQL filter of the query, inside one of `boxes`.
fn select(
    query: &PictureQuery,
    boxes: Option<&[[f64; 4]]>,
    extra: &str,
) -> Result<QueryBuilder<Sqlite>> {
    let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
        "SELECT {PICTURE_COLUMNS}{extra} FROM pictures p
         JOIN sequence_pictures sp ON sp.picture_id = p.id
         JOIN sequences s ON s.id = sp.sequence_id
         WHERE p.status = 'ready' AND s.status = 'ready' AND "
    ));
    push_picture_visible(&mut sql, query.viewer);
    if let Some(boxes) = boxes {
        sql.push(" AND p.rowid IN (SELECT id FROM pictures_rtree WHERE ");
        for (i, bbox) in boxes.iter().enumerate() {
            sql.push(if i > 0 { " OR (" } else { "(" });
            push_bbox_overlap(&mut sql, "", *bbox);
            sql.push(")");
        }
        if boxes.is_empty() {
            sql.push("0");
        }
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
    if let Some(filter) = &query.filter {
        sql.push(" AND ");
        push_picture_filter(&mut sql, filter)?;
    }
    Ok(sql)
}

impl PictureSource for SqlitePool {
    async fn fetch(
        &self,
        query: &PictureQuery,
        boxes: Option<&[[f64; 4]]>,
        keys: &[SortKey],
        start: Option<&PageStart>,
        limit: usize,
    ) -> Result<Vec<Picture>> {
        let mut sql = select(query, boxes, "")?;
        let backward = start.is_some_and(|s| s.backward);
        match (start, keys.first()) {
            (Some(start), _) => push_beyond(&mut sql, keys, &start.position.0, backward),
            // A first page has no position to seek to, and with the id in the other direction
            // than the time (`-datetime,+id`) SQLite then sorts every picture: 6 s on a
            // million against 0.3 ms with this always-true bound, which makes it walk the
            // time index and sort only runs of equal times.
            (None, Some(first)) if first.field != SortField::Id => {
                let descending = first.descending != backward;
                let (op, bound) = if descending {
                    ("<=", i64::MAX)
                } else {
                    (">=", i64::MIN)
                };
                sql.push(format!(" AND {} {op} ", sort_column(first.field)))
                    .push_bind(bound);
            }
            (None, _) => {}
        }
        sql.push(order_by(keys, backward));
        sql.push(" LIMIT ")
            .push_bind(i64::try_from(limit).unwrap_or(i64::MAX));

        let rows = sql
            .build()
            .fetch_all(self)
            .await
            .map_err(Error::db("search pictures"))?;
        rows.iter().map(picture_from_row).collect()
    }

    async fn fetch_near(
        &self,
        query: &PictureQuery,
        boxes: Option<&[[f64; 4]]>,
        cursor: &NearCursor,
        backward: bool,
        limit: Option<usize>,
    ) -> Result<Vec<(f64, Picture)>> {
        // The same expression as PlaceQuery::planar_sq_deg, with the place's numbers written in
        // (they are finite floats, printed exactly): SQLite computes it alike for every batch,
        // so a cursor read back from one batch compares equal in the next.
        let planar = match &query.place {
            Some(place) => {
                let (lon, lat) = (place.position[0], place.position[1]);
                let scale = place.planar_lon_scale();
                let dlon = format!(
                    "(CASE WHEN p.lon - {lon:?} > 180.0 THEN p.lon - {lon:?} - 360.0 \
                     WHEN p.lon - {lon:?} < -180.0 THEN p.lon - {lon:?} + 360.0 \
                     ELSE p.lon - {lon:?} END) * {scale:?}"
                );
                format!("(({dlon}) * ({dlon}) + (p.lat - {lat:?}) * (p.lat - {lat:?}))")
            }
            None => "0.0".to_owned(),
        };
        let mut sql = select(query, boxes, &format!(", {planar} AS planar_sq_deg"))?;
        let (past, direction) = if backward {
            ("<", "DESC")
        } else {
            (">", "ASC")
        };
        match cursor {
            NearCursor::Everything => {}
            NearCursor::Beyond(sq) => {
                sql.push(format!(" AND {planar} >= ")).push_bind(*sq);
            }
            NearCursor::Within(sq) => {
                sql.push(format!(" AND {planar} <= ")).push_bind(*sq);
            }
            NearCursor::After(sq, id) => {
                sql.push(format!(" AND ({planar} {past} "))
                    .push_bind(*sq)
                    .push(format!(" OR ({planar} = "))
                    .push_bind(*sq)
                    .push(format!(" AND p.id {past} "))
                    .push_bind(id.clone())
                    .push("))");
            }
        }
        sql.push(format!(
            " ORDER BY planar_sq_deg {direction}, p.id {direction}"
        ));
        if let Some(limit) = limit {
            sql.push(" LIMIT ")
                .push_bind(i64::try_from(limit).unwrap_or(i64::MAX));
        }

        let rows = sql
            .build()
            .fetch_all(self)
            .await
            .map_err(Error::db("search pictures near a place"))?;
        rows.iter()
            .map(|row| {
                let sq: f64 = row
                    .try_get("planar_sq_deg")
                    .map_err(Error::db("read planar distance"))?;
                Ok((sq, picture_from_row(row)?))
            })
            .collect()
    }
}

/// ` AND <row beyond the position in the walking direction>`: the rows tied with the position
/// on the first keys and past it on the next one, for each key in turn. The leading bound on
/// the first key alone lets SQLite seek its index instead of scanning from the top.
fn push_beyond(
    sql: &mut QueryBuilder<Sqlite>,
    keys: &[SortKey],
    values: &[SortValue],
    backward: bool,
) {
    let beyond = |key: &SortKey| if key.descending != backward { "<" } else { ">" };
    let (Some(first), Some(value)) = (keys.first(), values.first()) else {
        return;
    };
    sql.push(format!(
        " AND {} {}= ",
        sort_column(first.field),
        beyond(first)
    ));
    push_value(sql, value);
    sql.push(" AND (");
    for (i, (key, value)) in keys.iter().zip(values).enumerate() {
        if i > 0 {
            sql.push(" OR ");
        }
        sql.push("(");
        for (tied, tied_value) in keys.iter().zip(values).take(i) {
            sql.push(format!("{} = ", sort_column(tied.field)));
            push_value(sql, tied_value);
            sql.push(" AND ");
        }
        sql.push(format!("{} {} ", sort_column(key.field), beyond(key)));
        push_value(sql, value);
        sql.push(")");
    }
    sql.push(")");
}

fn push_value(sql: &mut QueryBuilder<Sqlite>, value: &SortValue) {
    match value {
        SortValue::Int(v) => sql.push_bind(*v),
        SortValue::Float(v) => sql.push_bind(*v),
        SortValue::Text(v) => sql.push_bind(v.clone()),
    };
}

/// The column of a sort field; every one is indexed together with the id.
pub(super) async fn extent(pool: &SqlitePool) -> Result<Extent> {
    type Row = (
        Option<f64>,
        Option<f64>,
        Option<f64>,
        Option<f64>,
        Option<i64>,
        Option<i64>,
    );
    // The extent is shown to everyone (the landing page, the collections' listing): it
    // covers only what anyone may see, sequences included.
    let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(
        "SELECT min(p.lon), min(p.lat), max(p.lon), max(p.lat),
                min(p.captured_at), max(p.captured_at)
         FROM pictures p
         JOIN sequence_pictures sp ON sp.picture_id = p.id
         JOIN sequences s ON s.id = sp.sequence_id
         WHERE p.status = 'ready' AND s.status = 'ready' AND ",
    );
    push_picture_visible(&mut sql, Viewer::ANONYMOUS);
    let (min_lon, min_lat, max_lon, max_lat, start, end): Row = sql
        .build_query_as()
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
