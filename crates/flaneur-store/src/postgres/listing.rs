//! Listings of sequences (filtered, in any order, by keyset pages, tombstones included on
//! demand) and what one account's published sequences cover.
//!
//! This module writes the SQL that selects the matching sequences; the keyset pages around it
//! are read as the SQLite catalog reads them, through [`crate::listing::paging`].

use chrono::{DateTime, Utc};
use flaneur_model::{AccountId, Sequence, Viewer};
use sqlx::postgres::PgPool;
use sqlx::{Postgres, QueryBuilder};

use super::codec::{sequence_from_row, stored};
use super::filter::push_micros;
use crate::catalog::{AccountSummary, Extent, Page};
use crate::filter::sql::push_filter;
use crate::listing::SequenceQuery;
use crate::listing::paging::{self, Bound, SequenceSource, push_listed, sequence_column};
use crate::visibility::push_visible;
use crate::{Error, Result};

/// One page of sequences; see [`crate::Catalog::list_sequences`].
pub(crate) async fn list_sequences(pool: &PgPool, query: &SequenceQuery) -> Result<Page<Sequence>> {
    paging::list_sequences(pool, query).await
}

impl SequenceSource for PgPool {
    type Db = Postgres;

    const CAPTURE_SORT: &'static str = "coalesce(min_captured_at, TIMESTAMPTZ 'epoch')";

    fn push_bound(sql: &mut QueryBuilder<Postgres>, bound: Bound) {
        match bound {
            Bound::Instant(micros) => push_micros(sql, micros),
            Bound::Id(id) => {
                sql.push_bind(id.0);
            }
        }
    }

    fn filtered_sequences(query: &SequenceQuery, head: &str) -> Result<QueryBuilder<Postgres>> {
        let mut sql = QueryBuilder::new(format!("{head} FROM sequences WHERE "));
        push_listed(&mut sql, query);
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

    async fn fetch_sequences(&self, mut sql: QueryBuilder<Postgres>) -> Result<Vec<Sequence>> {
        let rows = sql
            .build()
            .fetch_all(self)
            .await
            .map_err(Error::db("list sequences"))?;
        rows.iter().map(sequence_from_row).collect()
    }

    async fn has_row(&self, mut sql: QueryBuilder<Postgres>) -> Result<bool> {
        let row = sql
            .build()
            .fetch_optional(self)
            .await
            .map_err(Error::db("probe sequences"))?;
        Ok(row.is_some())
    }
}

/// What the published sequences of an account cover.
pub(crate) async fn account_summary(
    pool: &PgPool,
    id: AccountId,
    viewer: Viewer,
) -> Result<AccountSummary> {
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
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(
        "SELECT count(*), min(min_lon), min(min_lat), max(max_lon), max(max_lat),
                min(min_captured_at), max(max_captured_at), min(created_at), max(updated_at)
         FROM sequences
         WHERE status = 'ready' AND account_id = ",
    );
    sql.push_bind(id.0).push(" AND ");
    push_visible(&mut sql, viewer, "");
    let row: Row = sql
        .build_query_as()
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
