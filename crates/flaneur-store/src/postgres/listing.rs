//! Listings of sequences (filtered, in any order, by keyset pages, tombstones included on
//! demand) and what one account's published sequences cover.

use chrono::{DateTime, Utc};
use flaneur_model::{AccountId, Sequence};
use sqlx::postgres::PgPool;
use sqlx::{Postgres, QueryBuilder};

use super::codec::{sequence_from_row, stored};
use super::filter::push_micros;
use crate::catalog::{AccountSummary, Extent, Page};
use crate::filter::sql::{Column, push_filter};
use crate::listing::{
    PagePosition, SequenceCursor, SequenceQuery, SequenceSort, SequenceSortField, total_order,
};
use crate::{Error, Result};

/// One page of sequences; see [`crate::Catalog::list_sequences`].
pub(crate) async fn list_sequences(pool: &PgPool, query: &SequenceQuery) -> Result<Page<Sequence>> {
    let keys = total_order(&query.sort);
    let limit = i64::try_from(query.limit).unwrap_or(i64::MAX - 1);

    // One row more than asked tells whether more follow in the reading direction. Previous
    // and last pages are read in the reverse order, then turned around.
    let mut sql = page_sql(query, &keys, "SELECT *")?;
    sql.push(" LIMIT ").push_bind(limit + 1);
    let rows = sql
        .build()
        .fetch_all(pool)
        .await
        .map_err(Error::db("list sequences"))?;
    let mut sequences = rows
        .iter()
        .map(sequence_from_row)
        .collect::<Result<Vec<_>>>()?;
    let more = sequences.len() > query.limit;
    sequences.truncate(query.limit);
    if reads_backwards(&query.page) {
        sequences.reverse();
    }

    // The other side of the page is checked with one indexed probe, so the links are exact
    // whatever the filters.
    let (Some(first), Some(last)) = (sequences.first(), sequences.last()) else {
        return Ok(Page {
            rows: sequences,
            has_next: false,
            has_prev: false,
        });
    };
    let (has_prev, has_next) = match &query.page {
        PagePosition::First => (false, more),
        PagePosition::After(_) => (exists_beyond(pool, query, &keys, first, false).await?, more),
        PagePosition::Before(_) => (more, exists_beyond(pool, query, &keys, last, true).await?),
        PagePosition::Last => (more, false),
    };
    Ok(Page {
        rows: sequences,
        has_next,
        has_prev,
    })
}

/// Whether a page is read in the reverse of the listing order.
fn reads_backwards(page: &PagePosition) -> bool {
    matches!(page, PagePosition::Before(_) | PagePosition::Last)
}

/// The column (or expression, matching an index) each sort field is read from. A sequence
/// without pictures has no capture time: it sorts as if taken at the epoch, because a NULL
/// would make the keyset comparisons drop it.
fn sort_column(field: SequenceSortField) -> &'static str {
    match field {
        SequenceSortField::Created => "created_at",
        SequenceSortField::Updated => "updated_at",
        SequenceSortField::Datetime => "coalesce(min_captured_at, TIMESTAMPTZ 'epoch')",
        SequenceSortField::Id => "id",
    }
}

/// `<head> FROM sequences WHERE <filters> [AND <position>] ORDER BY <keys>`, the query of
/// one page without its limit.
fn page_sql(
    query: &SequenceQuery,
    keys: &[SequenceSort],
    head: &str,
) -> Result<QueryBuilder<Postgres>> {
    let mut sql = filtered_sequences(query, head)?;
    match &query.page {
        PagePosition::After(at) => push_position(&mut sql, keys, at, true),
        PagePosition::Before(at) => push_position(&mut sql, keys, at, false),
        PagePosition::First | PagePosition::Last => {}
    }
    let backwards = reads_backwards(&query.page);
    for (i, key) in keys.iter().enumerate() {
        sql.push(if i == 0 { " ORDER BY " } else { ", " });
        let descending = key.descending != backwards;
        sql.push(sort_column(key.field))
            .push(if descending { " DESC" } else { " ASC" });
    }
    Ok(sql)
}

/// A bound of a position: an instant, or the id.
enum Bound {
    /// Microseconds since the epoch.
    Instant(i64),
    /// The sequence id.
    Id(uuid::Uuid),
}

fn push_bound(sql: &mut QueryBuilder<Postgres>, bound: &Bound) {
    match bound {
        Bound::Instant(micros) => push_micros(sql, *micros),
        Bound::Id(id) => {
            sql.push_bind(*id);
        }
    }
}

/// ` AND <rows strictly after (or before) the position in the order of keys>`.
///
/// When every key runs in the same direction this is one row-value comparison, which
/// PostgreSQL answers with a range scan of the matching index; mixed directions need the
/// expanded form `k1 > a OR (k1 = a AND k2 < b) OR …`.
fn push_position(
    sql: &mut QueryBuilder<Postgres>,
    keys: &[SequenceSort],
    at: &SequenceCursor,
    after: bool,
) {
    let bounds: Vec<(&'static str, bool, Bound)> = keys
        .iter()
        .zip(
            at.values
                .iter()
                .map(|v| Bound::Instant(*v))
                .chain([Bound::Id(at.id.0)]),
        )
        .map(|(key, bound)| (sort_column(key.field), key.descending != after, bound))
        .collect();

    let greater = bounds.first().is_some_and(|(_, g, _)| *g);
    if bounds.iter().all(|(_, g, _)| *g == greater) {
        let columns: Vec<&str> = bounds.iter().map(|(c, _, _)| *c).collect();
        let op = if greater { ">" } else { "<" };
        sql.push(format!(" AND ({}) {op} (", columns.join(", ")));
        for (i, (_, _, bound)) in bounds.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            push_bound(sql, bound);
        }
        sql.push(")");
        return;
    }
    sql.push(" AND (");
    for (i, (column, greater, bound)) in bounds.iter().enumerate() {
        sql.push(if i == 0 { "(" } else { " OR (" });
        for (equal_column, _, equal_bound) in &bounds[..i] {
            sql.push(format!("{equal_column} = "));
            push_bound(sql, equal_bound);
            sql.push(" AND ");
        }
        sql.push(format!("{column} {} ", if *greater { ">" } else { "<" }));
        push_bound(sql, bound);
        sql.push(")");
    }
    sql.push(")");
}

/// `<head> FROM sequences WHERE <visible unless hidden ones are asked for, and matching the
/// filters>`.
fn filtered_sequences(query: &SequenceQuery, head: &str) -> Result<QueryBuilder<Postgres>> {
    let mut sql = QueryBuilder::new(format!("{head} FROM sequences WHERE "));
    sql.push(if query.with_hidden {
        "TRUE"
    } else {
        "status = 'ready' AND visibility = 'anyone'"
    });
    if let Some(account) = query.account {
        sql.push(" AND account_id = ").push_bind(account.0);
    }
    if let Some([min_lon, min_lat, max_lon, max_lat]) = query.bbox {
        sql.push(" AND min_lon <= ")
            .push_bind(max_lon)
            .push(" AND max_lon >= ")
            .push_bind(min_lon)
            .push(" AND min_lat <= ")
            .push_bind(max_lat)
            .push(" AND max_lat >= ")
            .push_bind(min_lat);
    }
    if let Some(start) = query.datetime.start {
        sql.push(" AND max_captured_at >= ")
            .push_bind(stored(start));
    }
    if let Some(end) = query.datetime.end {
        sql.push(" AND min_captured_at <= ").push_bind(stored(end));
    }
    if let Some(filter) = &query.filter {
        sql.push(" AND ");
        push_filter(&mut sql, filter, &sequence_column)?;
    }
    Ok(sql)
}

/// Where the sequences table keeps each of [`crate::SEQUENCE_QUERYABLES`].
fn sequence_column(property: &str) -> Option<Column> {
    Some(match property {
        "created" => Column::Plain("created_at"),
        "updated" => Column::Plain("updated_at"),
        "datetime" => Column::Span {
            start: "min_captured_at",
            end: "max_captured_at",
        },
        "id" => Column::Id("id"),
        "visibility" => Column::Plain("visibility"),
        _ => return None,
    })
}

/// Whether a row matching the query lies after (or before) `edge` in the listing order.
async fn exists_beyond(
    pool: &PgPool,
    query: &SequenceQuery,
    keys: &[SequenceSort],
    edge: &Sequence,
    after: bool,
) -> Result<bool> {
    let mut sql = filtered_sequences(query, "SELECT id")?;
    push_position(
        &mut sql,
        keys,
        &SequenceCursor::at(edge, &query.sort),
        after,
    );
    sql.push(" LIMIT 1");
    let row = sql
        .build()
        .fetch_optional(pool)
        .await
        .map_err(Error::db("probe sequences"))?;
    Ok(row.is_some())
}

/// What the published sequences of an account cover.
pub(crate) async fn account_summary(pool: &PgPool, id: AccountId) -> Result<AccountSummary> {
    type Row = (
        i64,
        Option<f64>,
        Option<f64>,
        Option<f64>,
        Option<f64>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
    );
    let row: Row = sqlx::query_as(
        "SELECT count(*), min(min_lon), min(min_lat), max(max_lon), max(max_lat),
                min(min_captured_at), max(max_captured_at), min(created_at), max(updated_at)
         FROM sequences
         WHERE status = 'ready' AND visibility = 'anyone' AND account_id = $1",
    )
    .bind(id.0)
    .fetch_one(pool)
    .await
    .map_err(Error::db("summarize account sequences"))?;
    let (nb_sequences, min_lon, min_lat, max_lon, max_lat, start, end, created, updated) = row;
    let bbox = match (min_lon, min_lat, max_lon, max_lat) {
        (Some(a), Some(b), Some(c), Some(d)) => Some([a, b, c, d]),
        _ => None,
    };
    Ok(AccountSummary {
        nb_sequences,
        extent: Extent {
            bbox,
            interval: start.zip(end),
        },
        first_created_at: created,
        last_updated_at: updated,
    })
}
