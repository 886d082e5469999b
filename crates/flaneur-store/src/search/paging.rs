//! How a picture search fills one page: the batches it reads, how they grow, which rows it
//! keeps, and the page links. Every catalog pages alike, so a cursor one catalog writes is read
//! back alike by the other.
//!
//! Reading a batch is the catalog's part, through [`PictureSource`]: its SQL narrows by what an
//! index answers (boxes, times, ids, filters) and walks the order from where the last batch
//! ended; the area and place tests, which need the decoded picture, are made here.

use std::cmp::Ordering;

use flaneur_model::Picture;

use super::{PageStart, PictureOrder, PlaceQuery, SortKey, SortValue};
use crate::Result;
use crate::catalog::{Page, PictureQuery};

/// Rows fetched per round when an area or a place drops some of them.
const FILTERED_BATCH: usize = 500;

/// How a catalog reads the candidates of a search, batch by batch.
pub(crate) trait PictureSource {
    /// The ready, public pictures of ready, public sequences matching the query's SQL
    /// conditions (time, ids, sequences, filter) inside one of `boxes` (anywhere when `None`),
    /// in `keys` order (reversed when `start` goes backward), strictly past `start`, at most
    /// `limit`.
    async fn fetch(
        &self,
        query: &PictureQuery,
        boxes: Option<&[[f64; 4]]>,
        keys: &[SortKey],
        start: Option<&PageStart>,
        limit: usize,
    ) -> Result<Vec<Picture>>;

    /// The same pictures with their planar distance to the query's place
    /// ([`PlaceQuery::planar_sq_deg`], `0` without a place), by that distance then by id,
    /// walking away from `cursor` (towards the place when `backward`), at most `limit` when
    /// there is one. The distance read back must compare equal to the one the next batch's
    /// SQL computes, since it becomes that batch's cursor.
    async fn fetch_near(
        &self,
        query: &PictureQuery,
        boxes: Option<&[[f64; 4]]>,
        cursor: &NearCursor,
        backward: bool,
        limit: Option<usize>,
    ) -> Result<Vec<(f64, Picture)>>;
}

/// Where the next batch of a nearest-first walk starts, in planar distance.
pub(crate) enum NearCursor {
    /// Every candidate, in one batch.
    Everything,
    /// From this planar distance on, going forward.
    Beyond(f64),
    /// Up to this planar distance, going backward.
    Within(f64),
    /// Strictly past the candidate at this planar distance with this id.
    After(f64, String),
}

/// One page of a picture search; see [`crate::Catalog::search_pictures`].
pub(crate) async fn search_pictures(
    source: &impl PictureSource,
    query: &PictureQuery,
) -> Result<Page<Picture>> {
    match &query.order {
        PictureOrder::Keys(keys) => by_keys(source, query, keys).await,
        PictureOrder::Nearest => nearest(source, query).await,
    }
}

/// A page in a column order: SQL walks the order from the page start, and the area and place
/// tests drop rows here, fetching more until the page is full.
async fn by_keys(
    source: &impl PictureSource,
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
        let rows = source
            .fetch(query, boxes.as_deref(), keys, start.as_ref(), batch)
            .await?;
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
async fn nearest(source: &impl PictureSource, query: &PictureQuery) -> Result<Page<Picture>> {
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
        let rows = source
            .fetch_near(query, boxes.as_deref(), &cursor, backward, batch)
            .await?;
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

/// Whether a row passes the tests SQL does not make: inside the area, looking at the place.
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
