//! Login requests and browser sessions in the PostgreSQL catalog.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};

use super::account::{ACCOUNT_COLUMNS, account_from_row};
use super::codec::stored;
use crate::session::{EndedSession, LoginRequest, NewSession, SessionRecord};
use crate::{Error, Result};

pub(super) async fn put_login_request(
    pool: &PgPool,
    request: &LoginRequest,
    max_pending: u64,
) -> Result<()> {
    // Requests never answered (the browser closed, the user gave up) go as new ones come, and
    // the oldest go first when too many wait, so that anonymous requests cannot fill the table.
    let keep = i64::try_from(max_pending.saturating_sub(1)).unwrap_or(i64::MAX);
    sqlx::query(
        "DELETE FROM login_requests WHERE expires_at < $1 OR state_hash NOT IN \
         (SELECT state_hash FROM login_requests ORDER BY expires_at DESC, state_hash DESC \
          LIMIT $2)",
    )
    .bind(stored(Utc::now()))
    .bind(keep)
    .execute(pool)
    .await
    .map_err(Error::db("purge login requests"))?;
    sqlx::query(
        "INSERT INTO login_requests
             (state_hash, pkce_verifier, nonce, next_url, redirect_url, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&request.state_hash)
    .bind(&request.pkce_verifier)
    .bind(&request.nonce)
    .bind(&request.next_url)
    .bind(&request.redirect_url)
    .bind(stored(request.expires_at))
    .execute(pool)
    .await
    .map_err(Error::db("store login request"))?;
    Ok(())
}

pub(super) async fn take_login_request(
    pool: &PgPool,
    state_hash: &str,
) -> Result<Option<LoginRequest>> {
    let row = sqlx::query(
        "DELETE FROM login_requests WHERE state_hash = $1
         RETURNING state_hash, pkce_verifier, nonce, next_url, redirect_url, expires_at",
    )
    .bind(state_hash)
    .fetch_optional(pool)
    .await
    .map_err(Error::db("take login request"))?;
    row.map(|row| {
        let get = |e: sqlx::Error| Error::corrupt("login_requests", e);
        Ok(LoginRequest {
            state_hash: row.try_get("state_hash").map_err(get)?,
            pkce_verifier: row.try_get("pkce_verifier").map_err(get)?,
            nonce: row.try_get("nonce").map_err(get)?,
            next_url: row.try_get("next_url").map_err(get)?,
            redirect_url: row.try_get("redirect_url").map_err(get)?,
            expires_at: row.try_get("expires_at").map_err(get)?,
        })
    })
    .transpose()
}

pub(super) async fn create_session(pool: &PgPool, session: &NewSession) -> Result<()> {
    let now = Utc::now();
    sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
        .bind(stored(now))
        .execute(pool)
        .await
        .map_err(Error::db("purge sessions"))?;
    sqlx::query(
        "INSERT INTO sessions (id_hash, account_id, csrf_token, id_token, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&session.id_hash)
    .bind(session.account_id.0)
    .bind(&session.csrf_token)
    .bind(&session.id_token)
    .bind(stored(now))
    .bind(stored(session.expires_at))
    .execute(pool)
    .await
    .map_err(Error::db("create session"))?;
    Ok(())
}

pub(super) async fn session(
    pool: &PgPool,
    id_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<SessionRecord>> {
    // A deleted account keeps its row (its pictures name it) but logs nobody in.
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS}, s.csrf_token, s.id_token, s.expires_at
         FROM sessions s JOIN accounts a ON a.id = s.account_id
         WHERE s.id_hash = $1 AND s.expires_at > $2 AND a.deleted_at IS NULL
           AND a.peer_id IS NULL"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id_hash)
        .bind(stored(now))
        .fetch_optional(pool)
        .await
        .map_err(Error::db("read session"))?;
    row.as_ref().map(session_from_row).transpose()
}

pub(super) async fn end_session(pool: &PgPool, id_hash: &str) -> Result<Option<EndedSession>> {
    let id_token: Option<Option<String>> =
        sqlx::query_scalar("DELETE FROM sessions WHERE id_hash = $1 RETURNING id_token")
            .bind(id_hash)
            .fetch_optional(pool)
            .await
            .map_err(Error::db("end session"))?;
    Ok(id_token.map(|id_token| EndedSession { id_token }))
}

fn session_from_row(row: &PgRow) -> Result<SessionRecord> {
    let get = |e: sqlx::Error| Error::corrupt("sessions", e);
    Ok(SessionRecord {
        account: account_from_row(row)?,
        csrf_token: row.try_get("csrf_token").map_err(get)?,
        id_token: row.try_get("id_token").map_err(get)?,
        expires_at: row.try_get("expires_at").map_err(get)?,
    })
}
