//! Picture search (bbox, area, place, time, ids, sequences) in any order with keyset pages,
//! and the extent of the catalog.

use std::cmp::Ordering;

use flaneur_model::Picture;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

use super::codec::{PICTURE_COLUMNS, from_micros, picture_from_row, push_bbox_overlap, to_micros};
use super::filter::{Column, push_filter};
use crate::catalog::{Extent, Page, PictureQuery};
use crate::filter::{Filter, Literal};
use crate::search::{
    PageStart, PictureOrder, PlaceQuery, SortField, SortKey, SortValue, TagProperty, leaf_property,
};
use crate::{Error, Result};

/// Rows fetched per round when an area or a place drops some of them.
const FILTERED_BATCH: usize = 500;

pub(super) async fn search_pictures(
    pool: &SqlitePool,
    query: &PictureQuery,
) -> Result<Page<Picture>> {
    match &query.order {
        PictureOrder::Keys(keys) => by_keys(pool, query, keys).await,
        PictureOrder::Nearest => nearest(pool, query).await,
    }
}

/// A page in a column order: SQL walks the order from the page start, and the area and place
/// tests (which SQLite cannot do) drop rows here, fetching more until the page is full.
async fn by_keys(
    pool: &SqlitePool,
    query: &PictureQuery,
    keys: &[SortKey],
) -> Result<Page<Picture>> {
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
async fn nearest(pool: &SqlitePool, query: &PictureQuery) -> Result<Page<Picture>> {
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
    // Twice the page leaves room for pictures facing away, so a first page decodes a few
    // dozen pictures, not the whole neighbourhood; each further batch doubles, so that a
    // sparse neighbourhood takes few rounds.
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

/// Whether a row passes the tests SQL could not make: inside the area, looking at the place.
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
         WHERE p.status = 'ready' AND s.status = 'ready'
           AND p.visibility = 'anyone' AND s.visibility = 'anyone'"
    ));
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

/// The pictures of the query in `keys` order (reversed when the start goes backward) from
/// the start on, at most `limit`.
async fn fetch(
    pool: &SqlitePool,
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
            sql.push(format!(" AND {} {op} ", column(first.field)))
                .push_bind(bound);
        }
        (None, _) => {}
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

/// The pictures of the query with their planar distance to its place, walking away from
/// `cursor` (towards the place when `backward`), at most `limit` when there is one.
async fn fetch_near(
    pool: &SqlitePool,
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
    sql.push(format!(" AND {} {}= ", column(first.field), beyond(first)));
    push_value(sql, value);
    sql.push(" AND (");
    for (i, (key, value)) in keys.iter().zip(values).enumerate() {
        if i > 0 {
            sql.push(" OR ");
        }
        sql.push("(");
        for (tied, tied_value) in keys.iter().zip(values).take(i) {
            sql.push(format!("{} = ", column(tied.field)));
            push_value(sql, tied_value);
            sql.push(" AND ");
        }
        sql.push(format!("{} {} ", column(key.field), beyond(key)));
        push_value(sql, value);
        sql.push(")");
    }
    sql.push(")");
}

/// Appends a checked item search filter: tag conditions as `EXISTS` tests on the picture's
/// and its sequence's tags, every other condition through the shared filter translation.
fn push_picture_filter(sql: &mut QueryBuilder<Sqlite>, filter: &Filter) -> Result<()> {
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
    Some(Column::Plain(match property {
        "datetime" => "p.captured_at",
        "created" => "p.created_at",
        "updated" => "p.updated_at",
        "id" => "p.id",
        "collection" => "sp.sequence_id",
        "status" => "p.status",
        _ => return None,
    }))
}

/// A checked tag condition: whether the picture or its sequence has a tag of the key (any
/// tag for `semantics`), with one of the values when the condition names values.
fn push_tag_condition(sql: &mut QueryBuilder<Sqlite>, tags: TagProperty<'_>, leaf: &Filter) {
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
            sql.push(" AND t.value IN (");
            let mut list = sql.separated(", ");
            for value in values {
                match value {
                    Literal::Text(t) => list.push_bind(t.clone()),
                    other => list.push_bind(other.to_string()),
                };
            }
            sql.push(")");
        }
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
fn column(field: SortField) -> &'static str {
    match field {
        SortField::Captured => "p.captured_at",
        SortField::Created => "p.created_at",
        SortField::Updated => "p.updated_at",
        SortField::Id => "p.id",
    }
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
