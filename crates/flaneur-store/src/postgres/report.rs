//! Reports in the PostgreSQL catalog.

use chrono::{DateTime, Utc};
use flaneur_model::{NewReport, Report, ReportChange, ReportId, ReportQuery, ReportStatus};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::codec::{get, parse_col, stored};
use super::edit::hide_reported;
use crate::report::ReportCount;
use crate::{Error, Result};

/// Reports with the owner of the data they are about (its picture's, else its sequence's).
const REPORTS: &str = "(SELECT r.*, coalesce(
         (SELECT account_id FROM pictures WHERE id = r.picture_id),
         (SELECT account_id FROM sequences WHERE id = r.sequence_id)) AS owner_account_id
     FROM reports r) AS reports";

pub(super) async fn create_report(pool: &PgPool, new: &NewReport) -> Result<Report> {
    let id = ReportId::new();
    let status = if new.hide {
        ReportStatus::OpenAutofix
    } else {
        ReportStatus::Open
    };
    let mut tx = pool.begin().await.map_err(Error::db("create report"))?;
    // Data harvested from a peer is reported to its instance, which alone can act on it.
    super::federation::refuse_remote_rows(&mut tx, new.picture_id, new.sequence_id).await?;
    // The picture is locked before the report is written, as edits lock it first.
    if new.hide {
        hide_reported(&mut tx, new.picture_id, new.sequence_id).await?;
    }
    sqlx::query(
        "INSERT INTO reports (id, issue, status, picture_id, sequence_id, reporter_account_id,
             reporter_email, reporter_comments, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id.0)
    .bind(new.issue.as_str())
    .bind(status.as_str())
    .bind(new.picture_id.map(|p| p.0))
    .bind(new.sequence_id.map(|s| s.0))
    .bind(new.reporter.map(|a| a.0))
    .bind(new.reporter_email.as_deref())
    .bind(new.reporter_comments.as_deref())
    .bind(stored(Utc::now()))
    .execute(&mut *tx)
    .await
    .map_err(Error::db("create report"))?;
    let report = read(&mut tx, id).await?;
    tx.commit().await.map_err(Error::db("create report"))?;
    report.ok_or_else(|| Error::corrupt("reports", "report vanished while written"))
}

pub(super) async fn report(pool: &PgPool, id: ReportId) -> Result<Option<Report>> {
    let mut conn = pool.acquire().await.map_err(Error::db("read report"))?;
    read(&mut conn, id).await
}

async fn read(conn: &mut PgConnection, id: ReportId) -> Result<Option<Report>> {
    let sql = format!("SELECT * FROM {REPORTS} WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(Error::db("read report"))?;
    row.as_ref().map(report_from_row).transpose()
}

pub(super) async fn update_report(
    pool: &PgPool,
    id: ReportId,
    change: &ReportChange,
) -> Result<Option<Report>> {
    let mut tx = pool.begin().await.map_err(Error::db("update report"))?;
    let closed_at = change
        .status
        .map(|s| s.is_closed().then(|| stored(Utc::now())));
    let done = sqlx::query(
        "UPDATE reports SET issue = coalesce($1, issue), status = coalesce($2, status),
             reporter_email = coalesce($3, reporter_email),
             resolver_comments = coalesce($4, resolver_comments),
             resolver_account_id = coalesce($5, resolver_account_id),
             closed_at = CASE WHEN $6 THEN $7 ELSE closed_at END
         WHERE id = $8",
    )
    .bind(change.issue.map(|i| i.as_str()))
    .bind(change.status.map(|s| s.as_str()))
    .bind(change.reporter_email.as_deref())
    .bind(change.resolver_comments.as_deref())
    .bind(change.resolver.map(|a| a.0))
    .bind(closed_at.is_some())
    .bind(closed_at.flatten())
    .bind(id.0)
    .execute(&mut *tx)
    .await
    .map_err(Error::db("update report"))?;
    if done.rows_affected() == 0 {
        return Ok(None);
    }
    let report = read(&mut tx, id).await?;
    tx.commit().await.map_err(Error::db("update report"))?;
    Ok(report)
}

pub(super) async fn list_reports(pool: &PgPool, query: &ReportQuery) -> Result<Vec<Report>> {
    let mut sql: QueryBuilder<Postgres> =
        QueryBuilder::new(format!("SELECT * FROM {REPORTS} WHERE true"));
    if !query.statuses.is_empty() {
        let statuses: Vec<&str> = query.statuses.iter().map(|s| s.as_str()).collect();
        sql.push(" AND status = ANY(").push_bind(statuses).push(")");
    }
    if let Some(reporter) = query.reporter {
        sql.push(" AND reporter_account_id = ")
            .push_bind(reporter.0);
    }
    if let Some(owner) = query.owner {
        sql.push(" AND owner_account_id = ").push_bind(owner.0);
    }
    if let Some(account) = query.involving {
        sql.push(" AND (reporter_account_id = ")
            .push_bind(account.0)
            .push(" OR owner_account_id = ")
            .push_bind(account.0)
            .push(")");
    }
    sql.push(" ORDER BY created_at DESC, id LIMIT ")
        .push_bind(i64::try_from(query.limit).unwrap_or(i64::MAX));
    let rows = sql
        .build()
        .fetch_all(pool)
        .await
        .map_err(Error::db("list reports"))?;
    rows.iter().map(report_from_row).collect()
}

pub(super) async fn report_counts(pool: &PgPool) -> Result<Vec<ReportCount>> {
    let rows = sqlx::query(
        "SELECT status, issue, count(*) AS n FROM reports GROUP BY status, issue
         ORDER BY status, issue",
    )
    .fetch_all(pool)
    .await
    .map_err(Error::db("count reports"))?;
    rows.iter()
        .map(|row| {
            Ok(ReportCount {
                status: parse_col(row, "reports", "status")?,
                issue: parse_col(row, "reports", "issue")?,
                count: get(row, "reports", "n")?,
            })
        })
        .collect()
}

fn report_from_row(row: &PgRow) -> Result<Report> {
    const T: &str = "reports";
    let id = |col: &str| get::<Option<Uuid>>(row, T, col);
    Ok(Report {
        id: get::<Uuid>(row, T, "id")?.into(),
        issue: parse_col(row, T, "issue")?,
        status: parse_col(row, T, "status")?,
        picture_id: id("picture_id")?.map(Into::into),
        sequence_id: id("sequence_id")?.map(Into::into),
        reporter: id("reporter_account_id")?.map(Into::into),
        reporter_email: get(row, T, "reporter_email")?,
        reporter_comments: get(row, T, "reporter_comments")?,
        resolver: id("resolver_account_id")?.map(Into::into),
        resolver_comments: get(row, T, "resolver_comments")?,
        owner: id("owner_account_id")?.map(Into::into),
        created_at: get(row, T, "created_at")?,
        closed_at: get::<Option<DateTime<Utc>>>(row, T, "closed_at")?,
    })
}
