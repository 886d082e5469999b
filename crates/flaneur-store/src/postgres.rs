//! The catalog in PostgreSQL with PostGIS, which several processes (servers and workers on
//! several machines) share.
//!
//! Every method behaves as the SQLite catalog's does: same results, same orders, same errors,
//! each one atomic. What differs is what several processes need: the schema is migrated under
//! an advisory lock, the job queue hands each job to one worker at a time with
//! `FOR UPDATE SKIP LOCKED` and a lease, and a stale worker can no longer act on a job it lost.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection};
use tracing::info;

use crate::{Error, Result};

/// How long a request waits for a free connection of the pool before it fails.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// Key of the advisory lock the schema migrations run under: processes starting at once wait
/// for the first one to migrate instead of racing it. An arbitrary constant, the same in every
/// version.
const MIGRATION_LOCK: i64 = 0x666c_616e_6575_7201;

/// `(version, name, SQL)` of every migration, oldest first. Never edit one that shipped: add
/// a new one.
const MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    "catalog",
    include_str!("../migrations/postgres/0001_catalog.sql"),
)];

/// How a [`PgCatalog`] connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgCatalogOptions {
    /// Most connections the catalog holds open at once.
    pub max_connections: u32,
}

impl Default for PgCatalogOptions {
    fn default() -> Self {
        PgCatalogOptions {
            max_connections: 10,
        }
    }
}

/// The catalog in a PostgreSQL database with PostGIS.
#[derive(Debug, Clone)]
pub struct PgCatalog {
    pool: PgPool,
}

impl PgCatalog {
    /// Connects to the database at `url` (`postgresql://user@host:port/database`) and brings
    /// its schema up to date.
    ///
    /// # Errors
    /// Fails when the URL is malformed, the database cannot be reached, or a migration fails.
    pub async fn connect(url: &str, options: PgCatalogOptions) -> Result<PgCatalog> {
        let connect: PgConnectOptions = url.parse().map_err(Error::db("parse database URL"))?;
        let applied = migrate(&connect).await?;
        if applied > 0 {
            info!(migrations = applied, "catalog schema migrated");
        }
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(connect)
            .await
            .map_err(Error::db("open catalog"))?;
        Ok(PgCatalog { pool })
    }

    /// Closes the pool, waiting for running statements.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Applies the migrations the database has not seen yet, on a connection of its own holding
/// the migration lock; returns how many ran. The lock goes with the connection, whatever
/// happens.
async fn migrate(options: &PgConnectOptions) -> Result<usize> {
    let mut conn = options
        .connect()
        .await
        .map_err(Error::db("connect to migrate"))?;
    let applied = migrate_locked(&mut conn).await;
    let closed = conn.close().await.map_err(Error::db("close migration"));
    let applied = applied?;
    closed?;
    Ok(applied)
}

async fn migrate_locked(conn: &mut PgConnection) -> Result<usize> {
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("take migration lock"))?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version bigint PRIMARY KEY,
            name text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )",
    )
    .execute(&mut *conn)
    .await
    .map_err(Error::db("create migrations table"))?;
    let done: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
        .fetch_all(&mut *conn)
        .await
        .map_err(Error::db("read migrations"))?;

    let mut applied = 0;
    for (version, name, sql) in MIGRATIONS {
        if done.contains(version) {
            continue;
        }
        // Each migration and its bookkeeping row commit together, so a failure mid-way leaves
        // the schema at the previous version.
        let mut tx = conn.begin().await.map_err(Error::db("begin migration"))?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(*sql))
            .execute(&mut *tx)
            .await
            .map_err(Error::db("apply migration"))?;
        sqlx::query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)")
            .bind(version)
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("record migration"))?;
        tx.commit().await.map_err(Error::db("commit migration"))?;
        applied += 1;
    }
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("release migration lock"))?;
    Ok(applied)
}
