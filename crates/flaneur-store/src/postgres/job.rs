//! The job queue table, shared by the workers of every process: enqueue, claim with a lease,
//! renew, release, finish, retry.
//!
//! Instants come from the database's clock, the one clock every worker shares. A claim is
//! identified by the job's `attempts` count: claiming again after a lease ran out moves it, so
//! a former holder's renew, finish or retry matches no row and does nothing.

use std::time::Duration;

use flaneur_model::{Job, JobKind};
use sqlx::postgres::types::PgInterval;
use sqlx::{PgConnection, PgPool};

use super::codec::{get, parse_col};
use crate::{Error, Result};

/// A duration as a PostgreSQL interval, capped far beyond any lease or delay.
fn interval(duration: Duration) -> PgInterval {
    PgInterval {
        months: 0,
        days: 0,
        microseconds: i64::try_from(duration.as_micros()).unwrap_or(i64::MAX / 2),
    }
}

/// Queues a job inside the caller's transaction. A pending job of the same kind and target
/// is moved to now; one a worker holds is marked to run again once that worker is done.
///
/// A job counts as held until its holder ends the claim, even past its lease: the holder may
/// still be running, so its attempt count (the claim's identity) is kept, lest a later claim
/// get the same number and the lapsed holder end that claim's run; and its end re-arms the
/// job, since its run may have started too early to cover this request.
pub(super) async fn enqueue(conn: &mut PgConnection, kind: JobKind, target: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO jobs (kind, target, created_at, run_after)
         VALUES ($1, $2, clock_timestamp(), clock_timestamp())
         ON CONFLICT (kind, target) DO UPDATE SET
             run_after = excluded.run_after,
             last_error = NULL,
             attempts = CASE WHEN jobs.leased_until IS NOT NULL THEN jobs.attempts ELSE 0 END,
             requeued = jobs.requeued OR jobs.leased_until IS NOT NULL",
    )
    .bind(kind.as_str())
    .bind(target)
    .execute(&mut *conn)
    .await
    .map_err(Error::db("enqueue job"))?;
    Ok(())
}

pub(super) async fn claim(pool: &PgPool, lease: Duration) -> Result<Option<Job>> {
    // Dispatch jobs go first: they are cheap and publish sequences, while prepare jobs are
    // many and slow. Each step walks the `run_after` order through an index and skips the rows
    // other workers are claiming right now, so claims neither wait for nor repeat each other.
    // A run starting now covers every request queued so far: `requeued` starts over.
    let mut row = None;
    for kind_filter in ["kind = 'dispatch'", "true"] {
        let sql = format!(
            "WITH next AS (
                 SELECT id FROM jobs
                 WHERE {kind_filter} AND run_after <= statement_timestamp()
                   AND (leased_until IS NULL OR leased_until < statement_timestamp())
                 ORDER BY run_after, id
                 LIMIT 1
                 FOR UPDATE SKIP LOCKED)
             UPDATE jobs SET leased_until = statement_timestamp() + $1, attempts = attempts + 1,
                 requeued = false
             FROM next WHERE jobs.id = next.id
             RETURNING jobs.id, jobs.kind, jobs.target, jobs.attempts"
        );
        row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(interval(lease))
            .fetch_optional(pool)
            .await
            .map_err(Error::db("claim job"))?;
        if row.is_some() {
            break;
        }
    }
    let Some(row) = row else { return Ok(None) };
    Ok(Some(Job {
        id: get(&row, "jobs", "id")?,
        kind: parse_col(&row, "jobs", "kind")?,
        target: get(&row, "jobs", "target")?,
        attempt: get(&row, "jobs", "attempts")?,
    }))
}

pub(super) async fn renew(pool: &PgPool, job: &Job, lease: Duration) -> Result<()> {
    sqlx::query(
        "UPDATE jobs SET leased_until = clock_timestamp() + $1
         WHERE id = $2 AND attempts = $3 AND leased_until IS NOT NULL",
    )
    .bind(interval(lease))
    .bind(job.id)
    .bind(job.attempt)
    .execute(pool)
    .await
    .map_err(Error::db("renew job lease"))?;
    Ok(())
}

/// Frees the jobs whose lease already ran out. Other processes may be running jobs under
/// leases still current, so those are left alone: a job of a crashed process is taken up when
/// its lease runs out (claims take such jobs anyway; freeing them only makes them read as
/// free).
pub(super) async fn release_expired(pool: &PgPool) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE jobs SET leased_until = NULL
         WHERE leased_until IS NOT NULL AND leased_until < clock_timestamp()",
    )
    .execute(pool)
    .await
    .map_err(Error::db("release job leases"))?;
    Ok(done.rows_affected())
}

/// Frees a job claimed as `job` (same attempt). A queue request that came while it was held
/// is covered by the next run, which starts from the beginning.
pub(super) async fn release(pool: &PgPool, job: &Job) -> Result<()> {
    sqlx::query(
        "UPDATE jobs SET leased_until = NULL, requeued = false
         WHERE id = $1 AND attempts = $2 AND leased_until IS NOT NULL",
    )
    .bind(job.id)
    .bind(job.attempt)
    .execute(pool)
    .await
    .map_err(Error::db("release job"))?;
    Ok(())
}

pub(super) async fn finish(pool: &PgPool, job: &Job) -> Result<()> {
    let mut tx = pool.begin().await.map_err(Error::db("finish job"))?;
    let requeued: Option<bool> =
        sqlx::query_scalar("SELECT requeued FROM jobs WHERE id = $1 AND attempts = $2 FOR UPDATE")
            .bind(job.id)
            .bind(job.attempt)
            .fetch_optional(&mut *tx)
            .await
            .map_err(Error::db("finish job"))?;
    let sql = match requeued {
        // Another holder claimed it since: it is theirs to finish.
        None => return Ok(()),
        Some(true) => {
            "UPDATE jobs SET requeued = false, leased_until = NULL, attempts = 0,
                 last_error = NULL
             WHERE id = $1"
        }
        Some(false) => "DELETE FROM jobs WHERE id = $1",
    };
    sqlx::query(sql)
        .bind(job.id)
        .execute(&mut *tx)
        .await
        .map_err(Error::db("finish job"))?;
    tx.commit().await.map_err(Error::db("finish job"))
}

pub(super) async fn retry(pool: &PgPool, job: &Job, error: &str, delay: Duration) -> Result<()> {
    sqlx::query(
        "UPDATE jobs SET leased_until = NULL, run_after = clock_timestamp() + $1,
             last_error = $2, requeued = false
         WHERE id = $3 AND attempts = $4",
    )
    .bind(interval(delay))
    .bind(error)
    .bind(job.id)
    .bind(job.attempt)
    .execute(pool)
    .await
    .map_err(Error::db("retry job"))?;
    Ok(())
}

pub(super) async fn pending(pool: &PgPool) -> Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM jobs")
        .fetch_one(pool)
        .await
        .map_err(Error::db("count jobs"))
}
