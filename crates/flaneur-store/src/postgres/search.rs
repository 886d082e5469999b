//! Picture search (bbox, area, place, time, ids, sequences) in any order with keyset pages,
//! and the extent of the catalog: the SQLite catalog's search on PostgreSQL, page for page.
//!
//! This module writes the SQL that reads each batch of candidates, the space index narrowing
//! to the search boxes; the batches fill a page through [`crate::search::paging`], which the
//! SQLite catalog pages with too, so both catalogs keep the same pictures and page alike.

use chrono::{DateTime, Utc};
use flaneur_model::{Picture, Viewer};
use sqlx::postgres::PgPool;
use sqlx::{Postgres, QueryBuilder, Row};
use uuid::Uuid;

use super::codec::{PICTURE_COLUMNS, picture_from_row, stored};
use super::filter::{canonical_id, push_micros};
use super::map::push_in_box;
use crate::catalog::{Extent, NearbyQuery, Page, PictureQuery};
use crate::search::paging::{self, NearCursor, PictureSource};
use crate::search::sql::{order_by, push_picture_filter, sort_column};
use crate::search::{PageStart, PlaceQuery, SortField, SortKey, SortValue};
use crate::visibility::push_picture_visible;
use crate::{Error, Result};

/// Searches pictures; see [`crate::Catalog::search_pictures`].
pub(crate) async fn search_pictures(pool: &PgPool, query: &PictureQuery) -> Result<Page<Picture>> {
    paging::search_pictures(pool, query).await
}

/// Appends `SELECT <picture columns> FROM …` the ready pictures of ready sequences matching
/// every SQL filter of the query, inside one of `boxes`; with `planar`, each row's planar
/// distance to the place too (`planar_sq_deg`, with the id again as `picture_id`).
fn push_select(
    sql: &mut QueryBuilder<Postgres>,
    query: &PictureQuery,
    boxes: Option<&[[f64; 4]]>,
    planar: bool,
) -> Result<()> {
    sql.push(format!("SELECT {PICTURE_COLUMNS}"));
    if planar {
        sql.push(", ");
        push_planar(sql, query.place.as_ref());
        sql.push(" AS planar_sq_deg, p.id AS picture_id");
    }
    sql.push(
        " FROM pictures p
         JOIN sequence_pictures sp ON sp.picture_id = p.id
         JOIN sequences s ON s.id = sp.sequence_id
         WHERE p.status = 'ready' AND s.status = 'ready' AND ",
    );
    push_picture_visible(sql, query.viewer);
    if let Some(boxes) = boxes {
        sql.push(" AND (FALSE");
        for bbox in boxes {
            sql.push(" OR (TRUE");
            push_in_box(sql, "p.geom", *bbox);
            sql.push(")");
        }
        sql.push(")");
    }
    if let Some(start) = query.datetime.start {
        sql.push(" AND p.captured_at >= ").push_bind(stored(start));
    }
    if let Some(end) = query.datetime.end {
        sql.push(" AND p.captured_at <= ").push_bind(stored(end));
    }
    if !query.ids.is_empty() {
        let ids: Vec<Uuid> = query.ids.iter().map(|id| id.0).collect();
        sql.push(" AND p.id = ANY(").push_bind(ids).push(")");
    }
    if !query.collections.is_empty() {
        let ids: Vec<Uuid> = query.collections.iter().map(|id| id.0).collect();
        sql.push(" AND sp.sequence_id = ANY(")
            .push_bind(ids)
            .push(")");
    }
    if let Some(filter) = &query.filter {
        sql.push(" AND ");
        push_picture_filter(sql, filter)?;
    }
    Ok(())
}

impl PictureSource for PgPool {
    async fn fetch(
        &self,
        query: &PictureQuery,
        boxes: Option<&[[f64; 4]]>,
        keys: &[SortKey],
        start: Option<&PageStart>,
        limit: usize,
    ) -> Result<Vec<Picture>> {
        let mut sql = QueryBuilder::new("");
        push_select(&mut sql, query, boxes, false)?;
        let backward = start.is_some_and(|s| s.backward);
        if let Some(start) = start {
            push_beyond(&mut sql, keys, &start.position.0, backward);
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
        // The distance is computed once per row, in the inner query, and compared by the outer
        // one: the same value orders the rows and is read back as the next batch's cursor.
        let mut sql = QueryBuilder::new("SELECT * FROM (");
        push_select(&mut sql, query, boxes, true)?;
        sql.push(") near WHERE TRUE");
        let (past, direction) = if backward {
            ("<", "DESC")
        } else {
            (">", "ASC")
        };
        match cursor {
            NearCursor::Everything => {}
            NearCursor::Beyond(sq) => {
                sql.push(" AND planar_sq_deg >= ").push_bind(*sq);
            }
            NearCursor::Within(sq) => {
                sql.push(" AND planar_sq_deg <= ").push_bind(*sq);
            }
            NearCursor::After(sq, id) => {
                sql.push(format!(" AND (planar_sq_deg {past} "))
                    .push_bind(*sq)
                    .push(" OR (planar_sq_deg = ")
                    .push_bind(*sq)
                    .push(" AND ");
                push_id_beyond(&mut sql, "picture_id", past, id);
                sql.push("))");
            }
        }
        sql.push(format!(
            " ORDER BY planar_sq_deg {direction}, picture_id {direction}"
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

/// Appends the planar distance of `p` to the query's place, in squared degrees, as
/// [`PlaceQuery::planar_sq_deg`] computes it (`0` without a place).
fn push_planar(sql: &mut QueryBuilder<Postgres>, place: Option<&PlaceQuery>) {
    let Some(place) = place else {
        sql.push("0::float8");
        return;
    };
    let (lon, lat) = (place.position[0], place.position[1]);
    let scale = place.planar_lon_scale();
    let dlon = |sql: &mut QueryBuilder<Postgres>| {
        sql.push("((CASE WHEN p.lon - ")
            .push_bind(lon)
            .push(" > 180.0 THEN p.lon - ")
            .push_bind(lon)
            .push(" - 360.0 WHEN p.lon - ")
            .push_bind(lon)
            .push(" < -180.0 THEN p.lon - ")
            .push_bind(lon)
            .push(" + 360.0 ELSE p.lon - ")
            .push_bind(lon)
            .push(" END) * ")
            .push_bind(scale)
            .push(")");
    };
    sql.push("(");
    dlon(sql);
    sql.push(" * ");
    dlon(sql);
    sql.push(" + (p.lat - ")
        .push_bind(lat)
        .push(") * (p.lat - ")
        .push_bind(lat)
        .push("))");
}

/// ` AND <row beyond the position in the walking direction>`: the rows tied with the position
/// on the first keys and past it on the next one, for each key in turn. The leading bound on
/// the first key alone lets PostgreSQL seek its index instead of scanning from the top.
fn push_beyond(
    sql: &mut QueryBuilder<Postgres>,
    keys: &[SortKey],
    values: &[SortValue],
    backward: bool,
) {
    let beyond = |key: &SortKey| if key.descending != backward { "<" } else { ">" };
    let (Some(first), Some(value)) = (keys.first(), values.first()) else {
        return;
    };
    sql.push(" AND ");
    push_key_compare(sql, first.field, &format!("{}=", beyond(first)), value);
    sql.push(" AND (");
    for (i, (key, value)) in keys.iter().zip(values).enumerate() {
        if i > 0 {
            sql.push(" OR ");
        }
        sql.push("(");
        for (tied, tied_value) in keys.iter().zip(values).take(i) {
            push_key_compare(sql, tied.field, "=", tied_value);
            sql.push(" AND ");
        }
        push_key_compare(sql, key.field, beyond(key), value);
        sql.push(")");
    }
    sql.push(")");
}

/// `<column of field> <op> <value>` (`op` one of `=`, `<`, `<=`, `>`, `>=`), the value in the
/// type of the column. A position holds instants as microseconds and ids as text, as the
/// SQLite catalog stores them; a value that is no instant or id of this catalog (a position
/// not checked against its order) still compares as it would there.
fn push_key_compare(
    sql: &mut QueryBuilder<Postgres>,
    field: SortField,
    op: &str,
    value: &SortValue,
) {
    let col = sort_column(field);
    match (field, value) {
        (SortField::Id, SortValue::Text(id)) => push_id_beyond(sql, col, op, id),
        // Values of the other kind compare as the SQLite catalog compares them: a number
        // with an id as its text, a text with an instant as the number it writes, or after
        // every number when it writes none.
        (SortField::Id, SortValue::Int(n)) => push_id_beyond(sql, col, op, &n.to_string()),
        (SortField::Id, SortValue::Float(f)) => push_id_beyond(sql, col, op, &format!("{f:?}")),
        (_, SortValue::Text(t)) => match t.trim().parse::<i64>() {
            Ok(n) => push_key_compare(sql, field, op, &SortValue::Int(n)),
            Err(_) => match t.trim().parse::<f64>() {
                Ok(f) if f.is_finite() => push_key_compare(sql, field, op, &SortValue::Float(f)),
                _ => {
                    sql.push(if op.starts_with('<') { "TRUE" } else { "FALSE" });
                }
            },
        },
        (_, SortValue::Int(micros)) => {
            sql.push(format!("{col} {op} "));
            push_micros(sql, *micros);
        }
        // Instants are whole microseconds: a fraction is rounded towards the instants that
        // satisfy the comparison, and none equals it.
        (_, SortValue::Float(f)) if f.is_nan() => {
            sql.push("FALSE");
        }
        (_, SortValue::Float(f)) if f.fract() == 0.0 => {
            sql.push(format!("{col} {op} "));
            push_micros(sql, *f as i64);
        }
        (_, SortValue::Float(f)) => match op {
            ">" | ">=" => {
                sql.push(format!("{col} >= "));
                push_micros(sql, f.ceil() as i64);
            }
            "<" | "<=" => {
                sql.push(format!("{col} <= "));
                push_micros(sql, f.floor() as i64);
            }
            _ => {
                sql.push("FALSE");
            }
        },
    }
}

/// `<id column> <op> <id>`, as uuids when the text is an id as the catalog writes them, and as
/// text (by code point) otherwise.
fn push_id_beyond(sql: &mut QueryBuilder<Postgres>, col: &str, op: &str, id: &str) {
    match canonical_id(id) {
        Some(id) => {
            sql.push(format!("{col} {op} ")).push_bind(id);
        }
        None => {
            sql.push(format!("{col}::text COLLATE \"C\" {op} "))
                .push_bind(id.to_owned());
        }
    }
}

/// The column of a sort field; every one is indexed together with the id.
/// Space and time covered by the published pictures.
pub(crate) async fn extent(pool: &PgPool) -> Result<Extent> {
    type Row = (
        Option<f64>,
        Option<f64>,
        Option<f64>,
        Option<f64>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
    );
    // The extent is shown to everyone (the landing page, the collections' listing): it
    // covers only what anyone may see, sequences included.
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(
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
    Ok(Extent {
        bbox,
        interval: start.zip(end),
    })
}

/// Metres per degree of latitude (and of longitude at the equator), on a sphere of the Earth's
/// mean radius: at 15 m, the flat-Earth distance below is off by far less than a GPS fix.
const METRES_PER_DEG: f64 = 6_371_008.8 * std::f64::consts::PI / 180.0;

/// The nearest published picture of each other sequence around a picture; see
/// [`crate::Catalog::nearby_pictures`].
pub(crate) async fn nearby_pictures(pool: &PgPool, query: &NearbyQuery) -> Result<Vec<Picture>> {
    // Metres per degree of longitude shrink with the latitude; near the poles the box spans
    // every longitude rather than dividing by almost nothing.
    let x_m_per_deg = METRES_PER_DEG * query.lat.to_radians().cos();
    let half_lat = query.within_m / METRES_PER_DEG;
    let half_lon = if x_m_per_deg > query.within_m / 180.0 {
        query.within_m / x_m_per_deg
    } else {
        180.0
    };
    let bbox = [
        query.lon - half_lon,
        query.lat - half_lat,
        query.lon + half_lon,
        query.lat + half_lat,
    ];

    // One statement: the space index narrows to the box, the squared distance in metres keeps
    // the circle, and a window keeps the nearest picture of each sequence.
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(format!(
        "WITH near AS (
             SELECT {PICTURE_COLUMNS}, p.id AS picture_id,
                 ((p.lon - "
    ));
    sql.push_bind(query.lon)
        .push(") * ")
        .push_bind(x_m_per_deg)
        .push(") * ((p.lon - ")
        .push_bind(query.lon)
        .push(") * ")
        .push_bind(x_m_per_deg)
        .push(") + ((p.lat - ")
        .push_bind(query.lat)
        .push(") * ")
        .push_bind(METRES_PER_DEG)
        .push(") * ((p.lat - ")
        .push_bind(query.lat)
        .push(") * ")
        .push_bind(METRES_PER_DEG)
        .push(
            ") AS distance_m2
             FROM pictures p
             JOIN sequence_pictures sp ON sp.picture_id = p.id
             JOIN sequences s ON s.id = sp.sequence_id
             WHERE p.status = 'ready' AND s.status = 'ready' AND sp.sequence_id <> ",
        )
        .push_bind(query.sequence.0)
        .push(" AND ");
    push_picture_visible(&mut sql, query.viewer);
    push_in_box(&mut sql, "p.geom", bbox);
    if let Some((heading, gap)) = query.facing {
        // Headings lie in [0, 360): the gap between two is the shorter way round.
        sql.push(" AND (p.heading_deg IS NULL OR least(abs(p.heading_deg - ")
            .push_bind(heading)
            .push("), 360 - abs(p.heading_deg - ")
            .push_bind(heading)
            .push(")) < ")
            .push_bind(gap)
            .push(")");
    }
    sql.push(
        "), nearest AS (
             SELECT *, row_number() OVER (
                 PARTITION BY sequence_id ORDER BY distance_m2, picture_id) AS nth
             FROM near WHERE distance_m2 <= ",
    )
    .push_bind(query.within_m * query.within_m)
    .push(") SELECT * FROM nearest WHERE nth = 1 ORDER BY distance_m2, picture_id");

    let rows = sql
        .build()
        .fetch_all(pool)
        .await
        .map_err(Error::db("read nearby pictures"))?;
    rows.iter().map(picture_from_row).collect()
}
