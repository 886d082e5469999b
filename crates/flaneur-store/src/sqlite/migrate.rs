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
    (
        4,
        "map_triggers_under_conflict",
        include_str!("../../migrations/sqlite/0004_map_triggers_under_conflict.sql"),
    ),
    (
        5,
        "map_version",
        include_str!("../../migrations/sqlite/0005_map_version.sql"),
    ),
    (
        6,
        "pictures_rtree_triggers",
        include_str!("../../migrations/sqlite/0006_pictures_rtree_triggers.sql"),
    ),
    (
        7,
        "sequences_by_account",
        include_str!("../../migrations/sqlite/0007_sequences_by_account.sql"),
    ),
    (
        8,
        "updated_at",
        include_str!("../../migrations/sqlite/0008_updated_at.sql"),
    ),
    (
        9,
        "search_orders",
        include_str!("../../migrations/sqlite/0009_search_orders.sql"),
    ),
    (
        10,
        "sequences_by_update_and_capture",
        include_str!("../../migrations/sqlite/0010_sequences_by_update_and_capture.sql"),
    ),
    (
        11,
        "semantics",
        include_str!("../../migrations/sqlite/0011_semantics.sql"),
    ),
    (
        12,
        "semantics_updated_at",
        include_str!("../../migrations/sqlite/0012_semantics_updated_at.sql"),
    ),
    (
        13,
        "rank_moves_pictures_updated_at",
        include_str!("../../migrations/sqlite/0013_rank_moves_pictures_updated_at.sql"),
    ),
    (
        14,
        "accounts_and_tokens",
        include_str!("../../migrations/sqlite/0014_accounts_and_tokens.sql"),
    ),
    (
        15,
        "sessions",
        include_str!("../../migrations/sqlite/0015_sessions.sql"),
    ),
    (
        16,
        "reports",
        include_str!("../../migrations/sqlite/0016_reports.sql"),
    ),
    (
        17,
        "excluded_areas",
        include_str!("../../migrations/sqlite/0017_excluded_areas.sql"),
    ),
    (
        18,
        "sequence_figures_over_reach",
        include_str!("../../migrations/sqlite/0018_sequence_figures_over_reach.sql"),
    ),
    (
        19,
        "annotations",
        include_str!("../../migrations/sqlite/0019_annotations.sql"),
    ),
    (
        20,
        "pages",
        include_str!("../../migrations/sqlite/0020_pages.sql"),
    ),
    (
        21,
        "federation",
        include_str!("../../migrations/sqlite/0021_federation.sql"),
    ),
    (
        22,
        "harvest_conflicts",
        include_str!("../../migrations/sqlite/0022_harvest_conflicts.sql"),
    ),
    (
        23,
        "harvest_leases",
        include_str!("../../migrations/sqlite/0023_harvest_leases.sql"),
    ),
    (
        24,
        "origin_removals",
        include_str!("../../migrations/sqlite/0024_origin_removals.sql"),
    ),
    (
        25,
        "harvest_skips",
        include_str!("../../migrations/sqlite/0025_harvest_skips.sql"),
    ),
];

/// Migrations that rebuild a table other tables refer to. SQLite cannot drop a column's
/// `UNIQUE` in place: the table is made again under another name, filled, dropped and renamed,
/// which foreign key enforcement would refuse half-way. These run with enforcement off, and
/// [`run`] checks every reference before it commits them.
const REBUILDS: &[i64] = &[21];

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
    crate::catalog::refuse_newer_schema(&done, MIGRATIONS)?;

    let mut applied = 0;
    for (version, name, sql) in MIGRATIONS {
        if done.contains(version) {
            continue;
        }
        // The pragma is a no-op inside a transaction, so it is set on the connection before
        // the migration begins, and set back after, whatever happened.
        let mut conn = pool.acquire().await.map_err(Error::db("begin migration"))?;
        let is_rebuild = REBUILDS.contains(version);
        if is_rebuild {
            sqlx::raw_sql("PRAGMA foreign_keys = OFF")
                .execute(&mut *conn)
                .await
                .map_err(Error::db("begin migration"))?;
        }
        let outcome = apply(&mut conn, *version, name, sql, is_rebuild).await;
        if is_rebuild {
            sqlx::raw_sql("PRAGMA foreign_keys = ON")
                .execute(&mut *conn)
                .await
                .map_err(Error::db("end migration"))?;
        }
        if outcome? {
            applied += 1;
        }
    }
    Ok(applied)
}

/// Applies one migration unless another process did meanwhile; returns whether it ran.
async fn apply(
    conn: &mut sqlx::SqliteConnection,
    version: i64,
    name: &str,
    sql: &'static str,
    check_references: bool,
) -> Result<bool> {
    use sqlx::Connection;

    // Each migration and its bookkeeping row commit together, so a crash mid-way leaves the
    // schema at the previous version.
    let mut tx = conn
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(Error::db("begin migration"))?;
    // Another process opening the catalog at the same time may have applied it meanwhile.
    let is_done: Option<i64> =
        sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = ?")
            .bind(version)
            .fetch_optional(&mut *tx)
            .await
            .map_err(Error::db("read migrations"))?;
    if is_done.is_some() {
        return Ok(false);
    }
    sqlx::raw_sql(sql)
        .execute(&mut *tx)
        .await
        .map_err(Error::db("apply migration"))?;
    if check_references {
        let broken: Vec<(String,)> =
            sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
                .fetch_all(&mut *tx)
                .await
                .map_err(Error::db("check migration references"))?;
        if let Some((table,)) = broken.first() {
            return Err(Error::corrupt(
                "schema_migrations",
                format!("migration {version} would leave rows of {table} referring to nothing"),
            ));
        }
    }
    sqlx::query("INSERT INTO schema_migrations (version, name) VALUES (?, ?)")
        .bind(version)
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(Error::db("record migration"))?;
    tx.commit().await.map_err(Error::db("commit migration"))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use chrono::Utc;
    use flaneur_model::{AccountId, UploadSetId};
    use sqlx::sqlite::SqliteConnectOptions;

    use super::*;
    use crate::catalog::MapQuery;
    use crate::sqlite::fixture;
    use crate::{Catalog, SqliteCatalog};

    /// A catalog written by the first schema: one public sequence of three ready pictures.
    async fn first_schema_catalog(path: &std::path::Path) {
        let options = SqliteConnectOptions::from_str("sqlite:")
            .expect("options")
            .filename(path)
            .create_if_missing(true);
        let pool = SqlitePool::connect_with(options).await.expect("open");
        sqlx::raw_sql(MIGRATIONS[0].2)
            .execute(&pool)
            .await
            .expect("schema");
        sqlx::raw_sql(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,
                 applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
             INSERT INTO schema_migrations (version, name) VALUES (1, 'catalog');",
        )
        .execute(&pool)
        .await
        .expect("bookkeeping");
        let account = AccountId::new();
        let sequence = flaneur_model::SequenceId::new().to_string();
        sqlx::query(
            "INSERT INTO accounts (id, name, is_default, created_at) VALUES (?, 'a', 1, 0)",
        )
        .bind(account.to_string())
        .execute(&pool)
        .await
        .expect("account");
        sqlx::query(
            "INSERT INTO sequences (id, account_id, title, status, visibility, sorted_by,
                 created_at, updated_at)
             VALUES (?, ?, 'walk', 'ready', 'anyone', '+gpsdate', 0, 0)",
        )
        .bind(&sequence)
        .bind(account.to_string())
        .execute(&pool)
        .await
        .expect("sequence");
        for n in 0..3 {
            let doc = fixture::picture(
                UploadSetId::new(),
                account,
                format!("{n}.jpg"),
                Utc::now(),
                2.0,
                48.0 + f64::from(n) * 0.0001,
            );
            let id = doc.id;
            sqlx::query(
                "INSERT INTO pictures (id, account_id, status, visibility, captured_at, lon, lat,
                     projection, content_md5, file_name, created_at, updated_at, doc)
                 VALUES (?, ?, 'ready', 'anyone', 0, 2.0, ?, 'flat', ?, ?, 0, 0, ?)",
            )
            .bind(id.to_string())
            .bind(account.to_string())
            .bind(doc.lat)
            .bind(id.to_string())
            .bind(&doc.file_name)
            .bind(serde_json::to_string(&doc).expect("doc"))
            .execute(&pool)
            .await
            .expect("picture");
            sqlx::query(
                "INSERT INTO sequence_pictures (sequence_id, rank, picture_id) VALUES (?, ?, ?)",
            )
            .bind(&sequence)
            .bind(n + 1)
            .bind(id.to_string())
            .execute(&pool)
            .await
            .expect("rank");
        }
        pool.close().await;
    }

    #[tokio::test]
    async fn an_existing_catalog_gets_its_map_tables_filled() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("catalog.sqlite");
        first_schema_catalog(&path).await;

        let catalog = SqliteCatalog::open(&path).await.expect("upgrade");
        let grid = catalog.picture_grid().await.expect("grid");
        assert_eq!(grid.len(), 1, "{grid:?}");
        assert_eq!(grid[0].nb_pictures, 3);
        let query = MapQuery {
            bbox: [1.9, 47.9, 2.1, 48.1],
            ..MapQuery::default()
        };
        let lines = catalog.map_sequences(&query).await.expect("lines");
        assert_eq!(lines.len(), 1);
        assert_eq!(
            lines[0].lines,
            vec![vec![[2.0, 48.0], [2.0, 48.0001], [2.0, 48.0002]]]
        );
        assert!(
            !catalog
                .data_version()
                .await
                .expect("version")
                .catalog
                .is_empty()
        );

        // The accounts table, made again by the federation migration, keeps its rows, and
        // the writer enforces references again after it.
        let (default, name) = catalog.default_account().await.expect("default");
        assert_eq!(name, "a");
        assert!(catalog.account(default).await.expect("read").is_some());
        let enforced: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&catalog.writer)
            .await
            .expect("pragma");
        assert_eq!(enforced, 1);
        let dangling = sqlx::query(
            "INSERT INTO sequences (id, account_id, title, status, visibility, sorted_by,
                 created_at, updated_at)
             VALUES ('s', 'nobody', 't', 'ready', 'anyone', '+gpsdate', 0, 0)",
        )
        .execute(&catalog.writer)
        .await;
        assert!(dangling.is_err(), "a sequence of no account was stored");
    }
}
