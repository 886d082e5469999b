//! Excluded areas in the SQLite catalog.

use chrono::Utc;
use flaneur_model::{AccountId, ExcludedAreaId};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection, SqlitePool};

use super::begin_write;
use super::codec::to_micros;
use crate::excluded::{
    AreaScope, Candidate, ExcludedArea, Exclusion, NewExcludedArea, bbox, decide, from_stored,
    to_stored,
};
use crate::{Error, Result};

const COLUMNS: &str = "id, label, is_public, account_id, is_allowed, polygons";

pub(super) async fn list(pool: &SqlitePool, scope: AreaScope) -> Result<Vec<ExcludedArea>> {
    let query = match scope {
        AreaScope::General { include_private } => sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM excluded_areas
             WHERE account_id IS NULL AND (is_public OR ?) ORDER BY created_at, id"
        )))
        .bind(include_private),
        AreaScope::Account(account) => sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM excluded_areas WHERE account_id = ? ORDER BY created_at, id"
        )))
        .bind(account.to_string()),
    };
    let rows = query
        .fetch_all(pool)
        .await
        .map_err(Error::db("list excluded areas"))?;
    rows.iter().map(area_from_row).collect()
}

pub(super) async fn add(pool: &SqlitePool, area: &NewExcludedArea) -> Result<ExcludedArea> {
    let mut conn = pool
        .acquire()
        .await
        .map_err(Error::db("add excluded area"))?;
    insert(&mut conn, area).await
}

pub(super) async fn replace_general(
    pool: &SqlitePool,
    areas: &[NewExcludedArea],
) -> Result<Vec<ExcludedArea>> {
    let mut tx = begin_write(pool)
        .await
        .map_err(Error::db("replace excluded areas"))?;
    sqlx::query("DELETE FROM excluded_areas WHERE account_id IS NULL")
        .execute(&mut *tx)
        .await
        .map_err(Error::db("replace excluded areas"))?;
    let mut stored = Vec::with_capacity(areas.len());
    for area in areas {
        stored.push(insert(&mut tx, area).await?);
    }
    tx.commit()
        .await
        .map_err(Error::db("replace excluded areas"))?;
    Ok(stored)
}

async fn insert(conn: &mut SqliteConnection, area: &NewExcludedArea) -> Result<ExcludedArea> {
    let id = ExcludedAreaId::new();
    let [min_lon, min_lat, max_lon, max_lat] = bbox(&area.polygons);
    sqlx::query(
        "INSERT INTO excluded_areas (id, label, is_public, account_id, is_allowed, polygons,
             min_lon, min_lat, max_lon, max_lat, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id.to_string())
    .bind(&area.label)
    .bind(area.is_public)
    .bind(area.account_id.map(|a| a.to_string()))
    .bind(area.is_allowed)
    .bind(to_stored(&area.polygons))
    .bind(min_lon)
    .bind(min_lat)
    .bind(max_lon)
    .bind(max_lat)
    .bind(to_micros(Utc::now()))
    .execute(&mut *conn)
    .await
    .map_err(Error::db("add excluded area"))?;
    Ok(ExcludedArea {
        id,
        area: area.clone(),
    })
}

pub(super) async fn delete(
    pool: &SqlitePool,
    id: ExcludedAreaId,
    owner: Option<AccountId>,
) -> Result<bool> {
    let done = sqlx::query("DELETE FROM excluded_areas WHERE id = ? AND account_id IS ?")
        .bind(id.to_string())
        .bind(owner.map(|a| a.to_string()))
        .execute(pool)
        .await
        .map_err(Error::db("delete excluded area"))?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn exclusion_at(
    pool: &SqlitePool,
    lon: f64,
    lat: f64,
    account: Option<AccountId>,
) -> Result<Option<Exclusion>> {
    let mut conn = pool
        .acquire()
        .await
        .map_err(Error::db("test excluded areas"))?;
    exclusion_in(&mut conn, lon, lat, account).await
}

/// Refuses, inside a write transaction, a picture of `account` placed at `(lon, lat)` in an
/// area that concerns it. The writer is one connection at a time, so no area changes before
/// the transaction ends.
pub(super) async fn refuse_excluded(
    conn: &mut SqliteConnection,
    (lon, lat): (f64, f64),
    account: AccountId,
) -> Result<()> {
    match exclusion_in(conn, lon, lat, Some(account)).await? {
        Some(exclusion) => Err(Error::InExcludedArea(exclusion)),
        None => Ok(()),
    }
}

async fn exclusion_in(
    conn: &mut SqliteConnection,
    lon: f64,
    lat: f64,
    account: Option<AccountId>,
) -> Result<Option<Exclusion>> {
    let rows = sqlx::query(
        "SELECT account_id, is_allowed, polygons FROM excluded_areas
         WHERE (account_id IS NULL OR account_id = ?)
           AND min_lon <= ? AND max_lon >= ? AND min_lat <= ? AND max_lat >= ?",
    )
    .bind(account.map(|a| a.to_string()))
    .bind(lon)
    .bind(lon)
    .bind(lat)
    .bind(lat)
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::db("test excluded areas"))?;
    let has_allowed: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM excluded_areas WHERE account_id IS NULL AND is_allowed)",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(Error::db("test excluded areas"))?;
    let candidates = rows
        .iter()
        .map(|row| {
            let get = |e: sqlx::Error| Error::corrupt("excluded_areas", e);
            Ok(Candidate {
                account_id: parse_account(row.try_get("account_id").map_err(get)?)?,
                is_allowed: row.try_get("is_allowed").map_err(get)?,
                polygons: from_stored(row.try_get("polygons").map_err(get)?)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(decide(lon, lat, &candidates, has_allowed))
}

fn parse_account(text: Option<String>) -> Result<Option<AccountId>> {
    text.map(|t| t.parse().map_err(|e| Error::corrupt("excluded_areas", e)))
        .transpose()
}

fn area_from_row(row: &SqliteRow) -> Result<ExcludedArea> {
    let get = |e: sqlx::Error| Error::corrupt("excluded_areas", e);
    let id: String = row.try_get("id").map_err(get)?;
    Ok(ExcludedArea {
        id: id
            .parse()
            .map_err(|e| Error::corrupt("excluded_areas", e))?,
        area: NewExcludedArea {
            label: row.try_get("label").map_err(get)?,
            is_public: row.try_get("is_public").map_err(get)?,
            account_id: parse_account(row.try_get("account_id").map_err(get)?)?,
            is_allowed: row.try_get("is_allowed").map_err(get)?,
            polygons: from_stored(row.try_get("polygons").map_err(get)?)?,
        },
    })
}
