//! Schema migrations, embedded in the binary and applied in order at startup.

use sqlx::SqlitePool;

use crate::{Error, Result};

/// `(version, name, SQL)` of every migration, oldest first. Never edit one that shipped: add
/// a new one.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "catalog",
        include_str!("../../migrations/sqlite/0001_catalog.sql"),
    ),
    (
        2,
        "map",
        include_str!("../../migrations/sqlite/0002_map.sql"),
    ),
    (
        3,
        "map_sequences",
        include_str!("../../migrations/sqlite/0003_map_sequences.sql"),
    ),
];

/// Applies the migrations the database has not seen yet; returns how many ran.
pub(super) async fn run(pool: &SqlitePool) -> Result<usize> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
        )",
    )
    .execute(pool)
    .await
    .map_err(Error::db("create migrations table"))?;

    let done: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
        .fetch_all(pool)
        .await
        .map_err(Error::db("read migrations"))?;

    let mut applied = 0;
    for (version, name, sql) in MIGRATIONS {
        if done.contains(version) {
            continue;
        }
        // Each migration and its bookkeeping row commit together, so a crash mid-way leaves
        // the schema at the previous version.
        let mut tx = pool.begin().await.map_err(Error::db("begin migration"))?;
        sqlx::raw_sql(*sql)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("apply migration"))?;
        sqlx::query("INSERT INTO schema_migrations (version, name) VALUES (?, ?)")
            .bind(version)
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("record migration"))?;
        tx.commit().await.map_err(Error::db("commit migration"))?;
        applied += 1;
    }
    Ok(applied)
}
