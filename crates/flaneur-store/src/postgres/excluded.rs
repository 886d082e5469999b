//! Excluded areas in the PostgreSQL catalog, tested in the application as on SQLite (rather
//! than with PostGIS) so that both catalogs give the same answer.

use flaneur_model::{AccountId, ExcludedAreaId};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};

use crate::excluded::{
    AreaScope, Candidate, ExcludedArea, Exclusion, NewExcludedArea, bbox, decide, from_stored,
    to_stored,
};
use crate::{Error, Result};

const COLUMNS: &str = "id, label, is_public, account_id, is_allowed, polygons";

pub(super) async fn list(pool: &PgPool, scope: AreaScope) -> Result<Vec<ExcludedArea>> {
    let query = match scope {
        AreaScope::General { include_private } => sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM excluded_areas
             WHERE account_id IS NULL AND (is_public OR $1) ORDER BY created_at, id"
        )))
        .bind(include_private),
        AreaScope::Account(account) => sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM excluded_areas WHERE account_id = $1 ORDER BY created_at, id"
        )))
        .bind(account.0),
    };
    let rows = query
        .fetch_all(pool)
        .await
        .map_err(Error::db("list excluded areas"))?;
    rows.iter().map(area_from_row).collect()
}

pub(super) async fn add(pool: &PgPool, area: &NewExcludedArea) -> Result<ExcludedArea> {
    let mut conn = pool
        .acquire()
        .await
        .map_err(Error::db("add excluded area"))?;
    insert(&mut conn, area).await
}

pub(super) async fn replace_general(
    pool: &PgPool,
    areas: &[NewExcludedArea],
) -> Result<Vec<ExcludedArea>> {
    let mut tx = pool
        .begin()
        .await
        .map_err(Error::db("replace excluded areas"))?;
    // Serialises concurrent replacements, so that one set wins whole.
    sqlx::query("LOCK TABLE excluded_areas IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
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

async fn insert(conn: &mut PgConnection, area: &NewExcludedArea) -> Result<ExcludedArea> {
    let id = ExcludedAreaId::new();
    let [min_lon, min_lat, max_lon, max_lat] = bbox(&area.polygons);
    sqlx::query(
        "INSERT INTO excluded_areas (id, label, is_public, account_id, is_allowed, polygons,
             min_lon, min_lat, max_lon, max_lat)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(id.0)
    .bind(&area.label)
    .bind(area.is_public)
    .bind(area.account_id.map(|a| a.0))
    .bind(area.is_allowed)
    .bind(to_stored(&area.polygons))
    .bind(min_lon)
    .bind(min_lat)
    .bind(max_lon)
    .bind(max_lat)
    .execute(&mut *conn)
    .await
    .map_err(Error::db("add excluded area"))?;
    Ok(ExcludedArea {
        id,
        area: area.clone(),
    })
}

pub(super) async fn delete(
    pool: &PgPool,
    id: ExcludedAreaId,
    owner: Option<AccountId>,
) -> Result<bool> {
    let done = sqlx::query(
        "DELETE FROM excluded_areas WHERE id = $1 AND account_id IS NOT DISTINCT FROM $2",
    )
    .bind(id.0)
    .bind(owner.map(|a| a.0))
    .execute(pool)
    .await
    .map_err(Error::db("delete excluded area"))?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn exclusion_at(
    pool: &PgPool,
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

/// Refuses, inside a transaction, a picture of `account` placed at `(lon, lat)` in an area
/// that concerns it. The share lock taken first waits for the area writes under way and holds
/// the next ones until the transaction ends (writes of pictures do not wait for each other),
/// so no area added meanwhile can miss the picture.
pub(super) async fn refuse_excluded(
    conn: &mut PgConnection,
    (lon, lat): (f64, f64),
    account: AccountId,
) -> Result<()> {
    sqlx::query("LOCK TABLE excluded_areas IN SHARE MODE")
        .execute(&mut *conn)
        .await
        .map_err(Error::db("test excluded areas"))?;
    match exclusion_in(conn, lon, lat, Some(account)).await? {
        Some(exclusion) => Err(Error::InExcludedArea(exclusion)),
        None => Ok(()),
    }
}

async fn exclusion_in(
    conn: &mut PgConnection,
    lon: f64,
    lat: f64,
    account: Option<AccountId>,
) -> Result<Option<Exclusion>> {
    let rows = sqlx::query(
        "SELECT account_id, is_allowed, polygons FROM excluded_areas
         WHERE (account_id IS NULL OR account_id = $1)
           AND min_lon <= $2 AND max_lon >= $2 AND min_lat <= $3 AND max_lat >= $3",
    )
    .bind(account.map(|a| a.0))
    .bind(lon)
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

fn parse_account(id: Option<uuid::Uuid>) -> Result<Option<AccountId>> {
    Ok(id.map(AccountId))
}

fn area_from_row(row: &PgRow) -> Result<ExcludedArea> {
    let get = |e: sqlx::Error| Error::corrupt("excluded_areas", e);
    Ok(ExcludedArea {
        id: ExcludedAreaId(row.try_get("id").map_err(get)?),
        area: NewExcludedArea {
            label: row.try_get("label").map_err(get)?,
            is_public: row.try_get("is_public").map_err(get)?,
            account_id: parse_account(row.try_get("account_id").map_err(get)?)?,
            is_allowed: row.try_get("is_allowed").map_err(get)?,
            polygons: from_stored(row.try_get("polygons").map_err(get)?)?,
        },
    })
}
