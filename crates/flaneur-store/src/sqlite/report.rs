//! Reports in the SQLite catalog.

use chrono::Utc;
use flaneur_model::{NewReport, Report, ReportChange, ReportId, ReportQuery, ReportStatus};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use super::codec::{from_micros, get, parse_col, parse_opt_col, to_micros};
use super::edit::hide_reported;
use crate::report::ReportCount;
use crate::{Error, Result};

/// Reports with the owner of the data they are about (its picture's, else its sequence's).
const REPORTS: &str = "(SELECT r.*, coalesce(
         (SELECT account_id FROM pictures WHERE id = r.picture_id),
         (SELECT account_id FROM sequences WHERE id = r.sequence_id)) AS owner_account_id
     FROM reports r)";

pub(super) async fn create_report(pool: &SqlitePool, new: &NewReport) -> Result<Report> {
    let id = ReportId::new();
    let status = if new.hide {
        ReportStatus::OpenAutofix
    } else {
        ReportStatus::Open
    };
    let mut tx = super::begin_write(pool)
        .await
        .map_err(Error::db("create report"))?;
    // Data harvested from a peer is reported to its instance, which alone can act on it.
    let picture = new.picture_id.map(|p| p.to_string());
    let sequence = new.sequence_id.map(|s| s.to_string());
    super::federation::refuse_remote_rows(&mut tx, picture.as_deref(), sequence.as_deref()).await?;
    sqlx::query(
        "INSERT INTO reports (id, issue, status, picture_id, sequence_id, reporter_account_id,
             reporter_email, reporter_comments, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id.to_string())
    .bind(new.issue.as_str())
    .bind(status.as_str())
    .bind(new.picture_id.map(|p| p.to_string()))
    .bind(new.sequence_id.map(|s| s.to_string()))
    .bind(new.reporter.map(|a| a.to_string()))
    .bind(new.reporter_email.as_deref())
    .bind(new.reporter_comments.as_deref())
    .bind(to_micros(Utc::now()))
    .execute(&mut *tx)
    .await
    .map_err(Error::db("create report"))?;
    if new.hide {
        let picture = new.picture_id.map(|p| p.to_string());
        let sequence = new.sequence_id.map(|s| s.to_string());
        hide_reported(&mut tx, picture.as_deref(), sequence.as_deref()).await?;
    }
    let report = read(&mut tx, id).await?;
    tx.commit().await.map_err(Error::db("create report"))?;
    report.ok_or_else(|| Error::corrupt("reports", "report vanished while written"))
}

pub(super) async fn report(pool: &SqlitePool, id: ReportId) -> Result<Option<Report>> {
    let mut conn = pool.acquire().await.map_err(Error::db("read report"))?;
    read(&mut conn, id).await
}

async fn read(conn: &mut sqlx::SqliteConnection, id: ReportId) -> Result<Option<Report>> {
    let sql = format!("SELECT * FROM {REPORTS} WHERE id = ?");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await
        .map_err(Error::db("read report"))?;
    row.as_ref().map(report_from_row).transpose()
}

pub(super) async fn update_report(
    pool: &SqlitePool,
    id: ReportId,
    change: &ReportChange,
) -> Result<Option<Report>> {
    let mut tx = super::begin_write(pool)
        .await
        .map_err(Error::db("update report"))?;
    let closed_at = change
        .status
        .map(|s| s.is_closed().then(|| to_micros(Utc::now())));
    let done = sqlx::query(
        "UPDATE reports SET issue = coalesce(?, issue), status = coalesce(?, status),
             reporter_email = coalesce(?, reporter_email),
             resolver_comments = coalesce(?, resolver_comments),
             resolver_account_id = coalesce(?, resolver_account_id),
             closed_at = CASE WHEN ? THEN ? ELSE closed_at END
         WHERE id = ?",
    )
    .bind(change.issue.map(|i| i.as_str()))
    .bind(change.status.map(|s| s.as_str()))
    .bind(change.reporter_email.as_deref())
    .bind(change.resolver_comments.as_deref())
    .bind(change.resolver.map(|a| a.to_string()))
    .bind(closed_at.is_some())
    .bind(closed_at.flatten())
    .bind(id.to_string())
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

pub(super) async fn list_reports(pool: &SqlitePool, query: &ReportQuery) -> Result<Vec<Report>> {
    let mut sql: QueryBuilder<Sqlite> =
        QueryBuilder::new(format!("SELECT * FROM {REPORTS} WHERE 1"));
    if !query.statuses.is_empty() {
        sql.push(" AND status IN (");
        let mut list = sql.separated(", ");
        for status in &query.statuses {
            list.push_bind(status.as_str());
        }
        sql.push(")");
    }
    if let Some(reporter) = query.reporter {
        sql.push(" AND reporter_account_id = ")
            .push_bind(reporter.to_string());
    }
    if let Some(owner) = query.owner {
        sql.push(" AND owner_account_id = ")
            .push_bind(owner.to_string());
    }
    if let Some(account) = query.involving {
        sql.push(" AND (reporter_account_id = ")
            .push_bind(account.to_string())
            .push(" OR owner_account_id = ")
            .push_bind(account.to_string())
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

pub(super) async fn report_counts(pool: &SqlitePool) -> Result<Vec<ReportCount>> {
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

fn report_from_row(row: &SqliteRow) -> Result<Report> {
    const T: &str = "reports";
    Ok(Report {
        id: parse_col(row, T, "id")?,
        issue: parse_col(row, T, "issue")?,
        status: parse_col(row, T, "status")?,
        picture_id: parse_opt_col(row, T, "picture_id")?,
        sequence_id: parse_opt_col(row, T, "sequence_id")?,
        reporter: parse_opt_col(row, T, "reporter_account_id")?,
        reporter_email: get(row, T, "reporter_email")?,
        reporter_comments: get(row, T, "reporter_comments")?,
        resolver: parse_opt_col(row, T, "resolver_account_id")?,
        resolver_comments: get(row, T, "resolver_comments")?,
        owner: parse_opt_col(row, T, "owner_account_id")?,
        created_at: from_micros(get(row, T, "created_at")?),
        closed_at: get::<Option<i64>>(row, T, "closed_at")?.map(from_micros),
    })
}
