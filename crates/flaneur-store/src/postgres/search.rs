//! Picture search (bbox, area, place, time, ids, sequences) in any order with keyset pages,
//! and the extent of the catalog: the SQLite catalog's search on PostgreSQL, page for page.
//!
//! The space index narrows to the search boxes; the area and place tests are made here on the
//! decoded pictures, exactly as the SQLite catalog makes them, so both catalogs keep the same
//! pictures and page through them alike.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use flaneur_model::Picture;
use sqlx::postgres::PgPool;
use sqlx::{Postgres, QueryBuilder, Row};
use uuid::Uuid;

use super::codec::{PICTURE_COLUMNS, picture_from_row, stored};
use super::filter::{Column, canonical_id, push_filter, push_micros};
use super::map::push_in_box;
use crate::catalog::{Extent, NearbyQuery, Page, PictureQuery};
use crate::filter::{Filter, Literal};
use crate::search::{
    PageStart, PictureOrder, PlaceQuery, SortField, SortKey, SortValue, TagProperty, leaf_property,
};
use crate::{Error, Result};

/// Rows fetched per round when an area or a place drops some of them.
const FILTERED_BATCH: usize = 500;

/// Searches pictures; see [`crate::Catalog::search_pictures`].
pub(crate) async fn search_pictures(pool: &PgPool, query: &PictureQuery) -> Result<Page<Picture>> {
    match &query.order {
        PictureOrder::Keys(keys) => by_keys(pool, query, keys).await,
        PictureOrder::Nearest => nearest(pool, query).await,
    }
}

/// A page in a column order: SQL walks the order from the page start, and the area and place
/// tests drop rows here, fetching more until the page is full.
async fn by_keys(pool: &PgPool, query: &PictureQuery, keys: &[SortKey]) -> Result<Page<Picture>> {
    let backward = query.start.as_ref().is_some_and(|s| s.backward);
    let is_filtered = query.intersects.is_some() || query.place.is_some();
    // One row more than the page tells whether another page follows in this direction.
    let wanted = query.limit.saturating_add(1);
    let batch = if is_filtered { FILTERED_BATCH } else { wanted };

    let boxes = search_boxes(query);
    let mut start = query.start.clone();
    let mut found = Vec::with_capacity(wanted.min(FILTERED_BATCH));
    loop {
        let rows = fetch(pool, query, boxes.as_deref(), keys, start.as_ref(), batch).await?;
        let exhausted = rows.len() < batch;
        if let Some(last) = rows.last() {
            start = Some(PageStart {
                position: query.order.position_of(last, None),
                backward,
            });
        }
        found.extend(rows.into_iter().filter(|p| is_kept(query, p)));
        if exhausted || found.len() >= wanted {
            break;
        }
    }
    Ok(page(found, query.limit, query.start.as_ref()))
}

/// A page nearest first. SQL hands over the candidates in batches by a planar distance that
/// bounds the true one, starting near the page start; they are measured here, and no more
/// are fetched once the next batch could only hold pictures farther than the page's last.
/// Without a place every distance is zero, and near the poles (where the planar distance
/// bounds nothing) every candidate is read in one batch.
async fn nearest(pool: &PgPool, query: &PictureQuery) -> Result<Page<Picture>> {
    let backward = query.start.as_ref().is_some_and(|s| s.backward);
    let edge = query
        .start
        .as_ref()
        .map(|start| match start.position.0.as_slice() {
            [SortValue::Float(d), SortValue::Text(id)] => (*d, id.clone()),
            _ => (0.0, String::new()),
        });
    let place = query.place.as_ref().filter(|p| p.is_planar_close());
    let wanted = query.limit.saturating_add(1);
    // Twice the page leaves room for pictures facing away; each further batch doubles, so
    // that a sparse neighbourhood takes few rounds.
    let mut batch = place.map(|_| wanted.saturating_mul(2).clamp(32, FILTERED_BATCH));

    // Where the walk starts: no nearer than the page start (or the smallest distance) going
    // forward, no farther than the page start going backward.
    let mut cursor = match (place, &edge) {
        (None, _) => NearCursor::Everything,
        (Some(_), Some((d, _))) if backward => {
            NearCursor::Within(PlaceQuery::planar_sq_deg_within(*d))
        }
        (Some(p), edge) => {
            let nearest = edge
                .as_ref()
                .map_or(p.min_distance_m, |(d, _)| d.max(p.min_distance_m));
            NearCursor::Beyond(PlaceQuery::planar_sq_deg_beyond(nearest))
        }
    };

    let boxes = search_boxes(query);
    let distance = |p: &Picture| query.place.as_ref().map_or(0.0, |q| q.distance_m(p));
    let is_beyond = |m: &Measured| {
        edge.as_ref().is_none_or(|(d, id)| {
            let o = m.0.total_cmp(d).then_with(|| m.1.as_str().cmp(id));
            o == if backward {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        })
    };
    let mut found: Vec<Measured> = Vec::new();
    loop {
        let rows = fetch_near(pool, query, boxes.as_deref(), &cursor, backward, batch).await?;
        let is_exhausted = batch.is_none_or(|b| rows.len() < b);
        let last = rows.last().map(|(sq, p)| (*sq, p.base.id.to_string()));
        for (_, picture) in rows.into_iter().filter(|(_, p)| is_kept(query, p)) {
            let measured = (distance(&picture), picture.base.id.to_string(), picture);
            if is_beyond(&measured) {
                found.push(measured);
            }
        }
        // Nearest to the start first, keeping one picture more than the page.
        found.sort_by(|a, b| {
            let o = a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1));
            if backward { o.reverse() } else { o }
        });
        found.truncate(wanted);

        let Some((sq, id)) = last.filter(|_| !is_exhausted) else {
            break;
        };
        // Every picture still unread lies at least (going backward: at most) this far.
        if let Some(kth) = found.get(wanted - 1).map(|m| m.0) {
            let is_full = if backward {
                PlaceQuery::planar_max_m(sq) < kth
            } else {
                PlaceQuery::planar_min_m(sq) > kth
            };
            if is_full {
                break;
            }
        }
        cursor = NearCursor::After(sq, id);
        batch = batch.map(|b| b.saturating_mul(2).min(FILTERED_BATCH));
    }
    let found = found.into_iter().map(|(_, _, p)| p).collect();
    Ok(page(found, query.limit, query.start.as_ref()))
}

/// A candidate measured: its distance, its id and the picture.
type Measured = (f64, String, Picture);

/// Where the next batch of a nearest-first walk starts, in planar distance.
enum NearCursor {
    /// Every candidate, in one batch.
    Everything,
    /// From this planar distance on, going forward.
    Beyond(f64),
    /// Up to this planar distance, going backward.
    Within(f64),
    /// Strictly past the candidate at this planar distance with this id.
    After(f64, String),
}

/// The page from up to `limit + 1` rows found walking away from `start`: the extra row only
/// says that more follow. Rows found walking backward are put back in order.
fn page(mut found: Vec<Picture>, limit: usize, start: Option<&PageStart>) -> Page<Picture> {
    let more = found.len() > limit;
    found.truncate(limit);
    let backward = start.is_some_and(|s| s.backward);
    if backward {
        found.reverse();
    }
    // The page the client came from lies on the other side of the start; if its pictures
    // were since removed, that link leads to an empty page, which is still correct.
    let came_from = start.is_some();
    Page {
        rows: found,
        has_next: if backward { came_from } else { more },
        has_prev: if backward { more } else { came_from },
    }
}

/// Whether a row passes the tests SQL did not make: inside the area, looking at the place.
fn is_kept(query: &PictureQuery, picture: &Picture) -> bool {
    let in_area = query
        .intersects
        .as_ref()
        .is_none_or(|a| a.contains(picture.base.lon, picture.base.lat));
    in_area && query.place.as_ref().is_none_or(|p| p.is_seen_by(picture))
}

/// The boxes the pictures must fall in for the space index: the query's bbox, its area's box
/// and its place's boxes (two across the antimeridian) intersected; `None` when the query
/// has no bound in space.
fn search_boxes(query: &PictureQuery) -> Option<Vec<[f64; 4]>> {
    let intersect = |a: [f64; 4], b: [f64; 4]| {
        [
            a[0].max(b[0]),
            a[1].max(b[1]),
            a[2].min(b[2]),
            a[3].min(b[3]),
        ]
    };
    let others = [query.bbox, query.intersects.as_ref().and_then(|a| a.bbox())]
        .into_iter()
        .flatten()
        .reduce(intersect);
    let Some(place) = &query.place else {
        return others.map(|b| vec![b]);
    };
    let boxes = place.boxes().into_iter();
    Some(match others {
        Some(o) => boxes.map(|b| intersect(b, o)).collect(),
        None => boxes.collect(),
    })
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
         WHERE p.status = 'ready' AND s.status = 'ready'
           AND p.visibility = 'anyone' AND s.visibility = 'anyone'",
    );
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

/// The pictures of the query in `keys` order (reversed when the start goes backward) from
/// the start on, at most `limit`.
async fn fetch(
    pool: &PgPool,
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
    sql.push(" ORDER BY ");
    let mut order = sql.separated(", ");
    for key in keys {
        let descending = key.descending != backward;
        order.push(format!(
            "{} {}",
            column(key.field),
            if descending { "DESC" } else { "ASC" }
        ));
    }
    sql.push(" LIMIT ")
        .push_bind(i64::try_from(limit).unwrap_or(i64::MAX));

    let rows = sql
        .build()
        .fetch_all(pool)
        .await
        .map_err(Error::db("search pictures"))?;
    rows.iter().map(picture_from_row).collect()
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

/// The pictures of the query with their planar distance to its place, walking away from
/// `cursor` (towards the place when `backward`), at most `limit` when there is one.
async fn fetch_near(
    pool: &PgPool,
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
        .fetch_all(pool)
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
    let col = column(field);
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

/// Appends a checked item search filter: tag conditions as `EXISTS` tests on the picture's
/// and its sequence's tags, every other condition through the shared filter translation.
fn push_picture_filter(sql: &mut QueryBuilder<Postgres>, filter: &Filter) -> Result<()> {
    match filter {
        Filter::And(parts) | Filter::Or(parts) if !parts.is_empty() => {
            let joint = if matches!(filter, Filter::And(_)) {
                " AND "
            } else {
                " OR "
            };
            sql.push("(");
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    sql.push(joint);
                }
                push_picture_filter(sql, part)?;
            }
            sql.push(")");
        }
        Filter::Not(inner) => {
            sql.push("(NOT ");
            push_picture_filter(sql, inner)?;
            sql.push(")");
        }
        leaf => match leaf_property(leaf).and_then(TagProperty::of) {
            Some(tags) => push_tag_condition(sql, tags, leaf),
            None => push_filter(sql, leaf, &picture_column)?,
        },
    }
    Ok(())
}

/// Where search keeps each of [`crate::PICTURE_QUERYABLES`].
fn picture_column(property: &str) -> Option<Column> {
    Some(match property {
        "datetime" => Column::Plain("p.captured_at"),
        "created" => Column::Plain("p.created_at"),
        "updated" => Column::Plain("p.updated_at"),
        "id" => Column::Id("p.id"),
        "collection" => Column::Id("sp.sequence_id"),
        "status" => Column::Plain("p.status"),
        _ => return None,
    })
}

/// A checked tag condition: whether the picture or its sequence has a tag of the key (any
/// tag for `semantics`), with one of the values when the condition names values.
fn push_tag_condition(sql: &mut QueryBuilder<Postgres>, tags: TagProperty<'_>, leaf: &Filter) {
    let values: &[Literal] = match leaf {
        Filter::Compare { value, .. } => std::slice::from_ref(value),
        Filter::In { values, .. } => values,
        _ => &[],
    };
    if matches!(leaf, Filter::IsNull { .. }) {
        sql.push("NOT ");
    }
    sql.push("(");
    let owners = [
        ("picture_semantics", "picture_id", "p.id"),
        ("sequence_semantics", "sequence_id", "sp.sequence_id"),
    ];
    for (i, (table, owner, of)) in owners.into_iter().enumerate() {
        if i > 0 {
            sql.push(" OR ");
        }
        sql.push(format!(
            "EXISTS (SELECT 1 FROM {table} t WHERE t.{owner} = {of}"
        ));
        if let TagProperty::Key(key) = tags {
            sql.push(" AND t.key = ").push_bind(key.to_owned());
        }
        if !values.is_empty() {
            let values: Vec<String> = values
                .iter()
                .map(|value| match value {
                    Literal::Text(t) => t.clone(),
                    other => other.to_string(),
                })
                .collect();
            sql.push(" AND t.value = ANY(").push_bind(values).push(")");
        }
        sql.push(")");
    }
    sql.push(")");
}

/// The column of a sort field; every one is indexed together with the id.
fn column(field: SortField) -> &'static str {
    match field {
        SortField::Captured => "p.captured_at",
        SortField::Created => "p.created_at",
        SortField::Updated => "p.updated_at",
        SortField::Id => "p.id",
    }
}

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
             WHERE p.status = 'ready' AND p.visibility = 'anyone'
               AND s.status = 'ready' AND s.visibility = 'anyone' AND sp.sequence_id <> ",
        )
        .push_bind(query.sequence.0);
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
