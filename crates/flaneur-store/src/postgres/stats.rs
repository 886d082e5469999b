//! The counts of the administrators' overview.

use sqlx::{PgPool, Row};

use crate::federation::HARVESTED_TOMBSTONE;
use crate::stats::{CountBy, InstanceStats, JobCount, SequenceCount};
use crate::{Error, Result};

/// Each count is one grouped scan of its table; they are not one snapshot, which an overview
/// does not need.
pub(super) async fn instance_stats(pool: &PgPool) -> Result<InstanceStats> {
    let by = |sql: &'static str| async move {
        let rows = sqlx::query(sql)
            .fetch_all(pool)
            .await
            .map_err(Error::db("count rows"))?;
        rows.iter()
            .map(|row| {
                Ok(CountBy {
                    value: row.try_get(0).map_err(|e| Error::corrupt("stats", e))?,
                    count: row.try_get(1).map_err(|e| Error::corrupt("stats", e))?,
                })
            })
            .collect::<Result<Vec<_>>>()
    };
    let accounts =
        by("SELECT role::text, count(*) FROM accounts WHERE peer_id IS NULL GROUP BY 1 ORDER BY 1")
            .await?;
    let pictures = by("SELECT status::text, count(*) FROM pictures GROUP BY 1 ORDER BY 1").await?;

    // A harvested collection's tombstone is no sequence of this instance's: it is kept only
    // for the catalogs harvesting this one.
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT status::text, visibility::text, count(*) FROM sequences
         WHERE NOT {HARVESTED_TOMBSTONE} GROUP BY 1, 2 ORDER BY 1, 2",
    )))
    .fetch_all(pool)
    .await
    .map_err(Error::db("count sequences"))?;
    let sequences = rows
        .iter()
        .map(|row| {
            let col = |i: usize| row.try_get(i).map_err(|e| Error::corrupt("sequences", e));
            Ok(SequenceCount {
                status: col(0)?,
                visibility: col(1)?,
                count: row.try_get(2).map_err(|e| Error::corrupt("sequences", e))?,
            })
        })
        .collect::<Result<Vec<_>>>()?;

    let rows = sqlx::query(
        "SELECT kind, count(*),
                count(*) FILTER (WHERE leased_until > clock_timestamp()),
                count(*) FILTER (WHERE attempts > 0
                                   AND (leased_until IS NULL
                                        OR leased_until <= clock_timestamp()))
         FROM jobs GROUP BY kind ORDER BY kind",
    )
    .fetch_all(pool)
    .await
    .map_err(Error::db("count jobs"))?;
    let jobs = rows
        .iter()
        .map(|row| {
            let n = |i: usize| {
                row.try_get::<i64, _>(i)
                    .map_err(|e| Error::corrupt("jobs", e))
            };
            Ok(JobCount {
                kind: row.try_get(0).map_err(|e| Error::corrupt("jobs", e))?,
                queued: n(1)?,
                running: n(2)?,
                retrying: n(3)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(InstanceStats {
        accounts,
        pictures,
        sequences,
        jobs,
    })
}
