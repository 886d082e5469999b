//! How a page of a sequence listing is read, for every catalog: the keyset condition of its
//! position, its order, the extra row that tells whether more follow, and the probe that
//! tells whether rows lie on the other side.
//!
//! Each catalog's [`SequenceSource`] supplies what differs: the SQL that selects the matching
//! sequences, how a position's values are bound, and how the query runs.

use flaneur_model::{Sequence, SequenceId};
use sqlx::{Database, Encode, QueryBuilder, Type};

use super::{
    PagePosition, SequenceCursor, SequenceQuery, SequenceSort, SequenceSortField, total_order,
};
use crate::Result;
use crate::catalog::Page;
use crate::filter::sql::{Column, FilterDialect};
use crate::visibility::push_visible;

/// How a catalog reads the rows of a sequence listing.
pub(crate) trait SequenceSource {
    /// The catalog's database.
    type Db: Database;

    /// The expression the capture time sorts by: the first capture instant, or the Unix epoch
    /// for a sequence without pictures (a NULL would make the keyset comparisons drop it).
    /// It matches an index.
    const CAPTURE_SORT: &'static str;

    /// Binds one value of a position.
    fn push_bound(sql: &mut QueryBuilder<Self::Db>, bound: Bound);

    /// `<head> FROM sequences WHERE <visible unless hidden ones are asked for, and matching
    /// the query's conditions>`, the properties of its filter mapped by [`sequence_column`].
    fn filtered_sequences(query: &SequenceQuery, head: &str) -> Result<QueryBuilder<Self::Db>>;

    /// The sequences a query built on [`Self::filtered_sequences`] selects.
    async fn fetch_sequences(&self, sql: QueryBuilder<Self::Db>) -> Result<Vec<Sequence>>;

    /// Whether a query built on [`Self::filtered_sequences`] selects any row.
    async fn has_row(&self, sql: QueryBuilder<Self::Db>) -> Result<bool>;
}

/// Appends which sequences of `sequences` a listing may show, before its own conditions: those
/// published and visible to its viewer (also the unpublished ones when it includes them, never
/// the deleted ones), or every one when it asks for the hidden ones as well.
pub(crate) fn push_listed<D: FilterDialect>(sql: &mut QueryBuilder<D>, query: &SequenceQuery) {
    if query.with_hidden {
        sql.push("TRUE");
        return;
    }
    sql.push(if query.include_unready {
        "status <> 'deleted' AND "
    } else {
        "status = 'ready' AND "
    });
    push_visible(sql, query.viewer, "");
}

/// One value of a position.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Bound {
    /// A sort value: an instant, in microseconds since the epoch.
    Instant(i64),
    /// The sequence id, which ends every position.
    Id(SequenceId),
}

/// One page of sequences; see [`crate::Catalog::list_sequences`].
pub(crate) async fn list_sequences<S: SequenceSource>(
    source: &S,
    query: &SequenceQuery,
) -> Result<Page<Sequence>>
where
    i64: for<'q> Encode<'q, S::Db> + Type<S::Db>,
{
    let keys = total_order(&query.sort);
    let limit = i64::try_from(query.limit).unwrap_or(i64::MAX - 1);

    // One row more than asked tells whether more follow in the reading direction. Previous
    // and last pages are read in the reverse order, then turned around.
    let mut sql = page_sql::<S>(query, &keys, "SELECT *")?;
    sql.push(" LIMIT ").push_bind(limit + 1);
    let mut sequences = source.fetch_sequences(sql).await?;
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
        PagePosition::After(_) => (
            exists_beyond(source, query, &keys, first, false).await?,
            more,
        ),
        PagePosition::Before(_) => (more, exists_beyond(source, query, &keys, last, true).await?),
        PagePosition::Last => (more, false),
    };
    Ok(Page {
        rows: sequences,
        has_next,
        has_prev,
    })
}

/// Where the sequences table keeps each of [`crate::SEQUENCE_QUERYABLES`].
pub(crate) fn sequence_column(property: &str) -> Option<Column> {
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

/// Whether a page is read in the reverse of the listing order.
fn reads_backwards(page: &PagePosition) -> bool {
    matches!(page, PagePosition::Before(_) | PagePosition::Last)
}

/// The column (or expression, matching an index) each sort field is read from.
fn sort_column<S: SequenceSource>(field: SequenceSortField) -> &'static str {
    match field {
        SequenceSortField::Created => "created_at",
        SequenceSortField::Updated => "updated_at",
        SequenceSortField::Datetime => S::CAPTURE_SORT,
        SequenceSortField::Id => "id",
    }
}

/// `<head> FROM sequences WHERE <filters> [AND <position>] ORDER BY <keys>`, the query of
/// one page without its limit.
pub(crate) fn page_sql<S: SequenceSource>(
    query: &SequenceQuery,
    keys: &[SequenceSort],
    head: &str,
) -> Result<QueryBuilder<S::Db>> {
    let mut sql = S::filtered_sequences(query, head)?;
    match &query.page {
        PagePosition::After(at) => push_position::<S>(&mut sql, keys, at, true),
        PagePosition::Before(at) => push_position::<S>(&mut sql, keys, at, false),
        PagePosition::First | PagePosition::Last => {}
    }
    let backwards = reads_backwards(&query.page);
    for (i, key) in keys.iter().enumerate() {
        sql.push(if i == 0 { " ORDER BY " } else { ", " });
        let descending = key.descending != backwards;
        sql.push(sort_column::<S>(key.field))
            .push(if descending { " DESC" } else { " ASC" });
    }
    Ok(sql)
}

/// ` AND <rows strictly after (or before) the position in the order of keys>`.
///
/// When every key runs in the same direction this is one row-value comparison, which SQLite
/// and PostgreSQL answer with a range scan of the matching index; mixed directions need the
/// expanded form `k1 > a OR (k1 = a AND k2 < b) OR …`.
fn push_position<S: SequenceSource>(
    sql: &mut QueryBuilder<S::Db>,
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
                .chain([Bound::Id(at.id)]),
        )
        .map(|(key, bound)| (sort_column::<S>(key.field), key.descending != after, bound))
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
            S::push_bound(sql, *bound);
        }
        sql.push(")");
        return;
    }
    sql.push(" AND (");
    for (i, (column, greater, bound)) in bounds.iter().enumerate() {
        sql.push(if i == 0 { "(" } else { " OR (" });
        for (equal_column, _, equal_bound) in &bounds[..i] {
            sql.push(format!("{equal_column} = "));
            S::push_bound(sql, *equal_bound);
            sql.push(" AND ");
        }
        sql.push(format!("{column} {} ", if *greater { ">" } else { "<" }));
        S::push_bound(sql, *bound);
        sql.push(")");
    }
    sql.push(")");
}

/// Whether a row matching the query lies after (or before) `edge` in the listing order.
async fn exists_beyond<S: SequenceSource>(
    source: &S,
    query: &SequenceQuery,
    keys: &[SequenceSort],
    edge: &Sequence,
    after: bool,
) -> Result<bool> {
    let mut sql = S::filtered_sequences(query, "SELECT id")?;
    push_position::<S>(
        &mut sql,
        keys,
        &SequenceCursor::at(edge, &query.sort),
        after,
    );
    sql.push(" LIMIT 1");
    source.has_row(sql).await
}
