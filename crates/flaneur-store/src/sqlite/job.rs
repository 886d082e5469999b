//! The job queue table: enqueue, claim with a lease, renew, release, finish, retry.

use std::time::Duration;

use chrono::Utc;
use flaneur_model::{Job, JobKind};
use sqlx::{Row, SqliteConnection, SqlitePool};

use super::codec::{parse_col, to_micros};
use crate::{Error, Result};

/// Queues a job inside the caller's transaction. A pending job of the same kind and target
/// is moved to now; one a worker holds is marked to run again once that worker is done.
///
/// A job counts as held until its holder ends the claim, even past its lease: the holder may
/// still be running, so its attempt count (the claim's identity) is kept, lest a later claim
/// get the same number and the lapsed holder end that claim's run; and its end re-arms the
/// job, since its run may have started too early to cover this request.
pub(super) async fn enqueue(
    conn: &mut SqliteConnection,
    kind: JobKind,
    target: &str,
) -> Result<()> {
    let now = to_micros(Utc::now());
    sqlx::query(
        "INSERT INTO jobs (kind, target, created_at, run_after) VALUES (?1, ?2, ?3, ?3)
         ON CONFLICT (kind, target) DO UPDATE SET
             run_after = excluded.run_after,
             last_error = NULL,
             attempts = CASE WHEN lease_until IS NOT NULL THEN attempts ELSE 0 END,
             requeued = CASE WHEN lease_until IS NOT NULL THEN 1 ELSE requeued END",
    )
    .bind(kind.as_str())
    .bind(target)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(Error::db("enqueue job"))?;
    Ok(())
}

pub(super) async fn claim(pool: &SqlitePool, lease: Duration) -> Result<Option<Job>> {
    let now = to_micros(Utc::now());
    let lease_us = i64::try_from(lease.as_micros()).unwrap_or(i64::MAX / 2);

    // Dispatch jobs go first: they are cheap and publish sequences, while prepare jobs are
    // many and slow. Each step walks the `run_after` order through an index, so claiming
    // costs the same with one job queued or fifty thousand. A run starting now covers every
    // request queued so far: `requeued` starts over.
    let mut row = None;
    for kind_filter in ["kind = 'dispatch'", "1 = 1"] {
        let sql = format!(
            "UPDATE jobs SET lease_until = ?1 + ?2, attempts = attempts + 1, requeued = 0
             WHERE id = (
                 SELECT id FROM jobs
                 WHERE {kind_filter} AND run_after <= ?1
                   AND (lease_until IS NULL OR lease_until < ?1)
                 ORDER BY run_after, id
                 LIMIT 1)
             RETURNING id, kind, target, attempts"
        );
        row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now)
            .bind(lease_us)
            .fetch_optional(pool)
            .await
            .map_err(Error::db("claim job"))?;
        if row.is_some() {
            break;
        }
    }

    let Some(row) = row else { return Ok(None) };
    Ok(Some(Job {
        id: row.try_get("id").map_err(|e| Error::corrupt("jobs", e))?,
        kind: parse_col(&row, "jobs", "kind")?,
        target: row
            .try_get("target")
            .map_err(|e| Error::corrupt("jobs", e))?,
        attempt: row
            .try_get("attempts")
            .map_err(|e| Error::corrupt("jobs", e))?,
    }))
}

pub(super) async fn renew(pool: &SqlitePool, job: &Job, lease: Duration) -> Result<()> {
    let lease_us = i64::try_from(lease.as_micros()).unwrap_or(i64::MAX / 2);
    sqlx::query(
        "UPDATE jobs SET lease_until = ? WHERE id = ? AND attempts = ? AND lease_until IS NOT NULL",
    )
    .bind(to_micros(Utc::now()).saturating_add(lease_us))
    .bind(job.id)
    .bind(job.attempt)
    .execute(pool)
    .await
    .map_err(Error::db("renew job lease"))?;
    Ok(())
}

pub(super) async fn release_all(pool: &SqlitePool) -> Result<u64> {
    let done = sqlx::query("UPDATE jobs SET lease_until = NULL WHERE lease_until IS NOT NULL")
        .execute(pool)
        .await
        .map_err(Error::db("release job leases"))?;
    Ok(done.rows_affected())
}

/// Frees a job claimed as `job` (same attempt). A queue request that came while it was held
/// is covered by the next run, which starts from the beginning.
pub(super) async fn release(pool: &SqlitePool, job: &Job) -> Result<()> {
    sqlx::query(
        "UPDATE jobs SET lease_until = NULL, requeued = 0
         WHERE id = ? AND attempts = ? AND lease_until IS NOT NULL",
    )
    .bind(job.id)
    .bind(job.attempt)
    .execute(pool)
    .await
    .map_err(Error::db("release job"))?;
    Ok(())
}

pub(super) async fn finish(pool: &SqlitePool, job: &Job) -> Result<()> {
    let mut tx = super::begin_write(pool)
        .await
        .map_err(Error::db("finish job"))?;
    let requeued: Option<i64> =
        sqlx::query_scalar("SELECT requeued FROM jobs WHERE id = ? AND attempts = ?")
            .bind(job.id)
            .bind(job.attempt)
            .fetch_optional(&mut *tx)
            .await
            .map_err(Error::db("finish job"))?;
    let sql = match requeued {
        // Another holder claimed it since: it is theirs to finish.
        None => return Ok(()),
        Some(1) => {
            "UPDATE jobs SET requeued = 0, lease_until = NULL, attempts = 0, last_error = NULL
             WHERE id = ?"
        }
        Some(_) => "DELETE FROM jobs WHERE id = ?",
    };
    sqlx::query(sql)
        .bind(job.id)
        .execute(&mut *tx)
        .await
        .map_err(Error::db("finish job"))?;
    tx.commit().await.map_err(Error::db("finish job"))
}

pub(super) async fn retry(
    pool: &SqlitePool,
    job: &Job,
    error: &str,
    delay: Duration,
) -> Result<()> {
    let delay_us = i64::try_from(delay.as_micros()).unwrap_or(i64::MAX / 2);
    sqlx::query(
        "UPDATE jobs SET lease_until = NULL, run_after = ?, last_error = ?, requeued = 0
         WHERE id = ? AND attempts = ?",
    )
    .bind(to_micros(Utc::now()).saturating_add(delay_us))
    .bind(error)
    .bind(job.id)
    .bind(job.attempt)
    .execute(pool)
    .await
    .map_err(Error::db("retry job"))?;
    Ok(())
}

pub(super) async fn pending(pool: &SqlitePool) -> Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM jobs")
        .fetch_one(pool)
        .await
        .map_err(Error::db("count jobs"))
}
