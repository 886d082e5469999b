//! The catalogs every contract runs against: a fresh SQLite file, and a fresh PostgreSQL
//! database made from the server's template.
//!
//! PostgreSQL tests read the server's address from `FLANEUR_TEST_DATABASE_URL` (printed by
//! `scripts/services.sh start`). Each test makes its own database and drops it after, so
//! tests run in parallel. Without the variable they say they were skipped and pass, unless
//! `FLANEUR_REQUIRE_SERVICES=1`, where they fail.

use flaneur_store::{PgCatalog, PgCatalogOptions};
use sqlx::{Connection, PgConnection};

/// A database of its own for one test, dropped by [`PgDatabase::drop`].
pub struct PgDatabase {
    /// The server's maintenance database, where databases are made and dropped.
    admin_url: String,
    name: String,
    /// The address of this database.
    pub url: String,
}

impl PgDatabase {
    /// Makes a database from the `flaneur_template` template (PostGIS installed, nothing
    /// else), or `None` when no server is configured and none is required.
    #[expect(
        clippy::print_stderr,
        reason = "a skipped test says so in the test output"
    )]
    pub async fn create() -> Option<PgDatabase> {
        let admin_url = match std::env::var("FLANEUR_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => {
                assert!(
                    std::env::var("FLANEUR_REQUIRE_SERVICES").as_deref() != Ok("1"),
                    "FLANEUR_TEST_DATABASE_URL is not set: start the test servers with \
                     `scripts/services.sh start` and export the variables it prints"
                );
                eprintln!("skipped: FLANEUR_TEST_DATABASE_URL is not set (no PostgreSQL)");
                return None;
            }
        };
        let name = format!("flaneur_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .expect("connect to the test server");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE {name} TEMPLATE flaneur_template"
        )))
        .execute(&mut admin)
        .await
        .expect("create a test database");
        admin.close().await.expect("disconnect");
        let url = match admin_url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("FLANEUR_TEST_DATABASE_URL has no database: {admin_url}"),
        };
        Some(PgDatabase {
            admin_url,
            name,
            url,
        })
    }

    /// Drops the database, closing the connections still open on it.
    pub async fn drop(self) {
        let mut admin = PgConnection::connect(&self.admin_url)
            .await
            .expect("connect to the test server");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&mut admin)
        .await
        .expect("drop the test database");
        admin.close().await.expect("disconnect");
    }

    /// Runs `test` with the address of a fresh database (skipping it as
    /// [`PgDatabase::create`] says), and drops the database after, whether the test passed or
    /// panicked.
    pub async fn run<F, Fut>(test: F)
    where
        F: FnOnce(String) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let Some(db) = PgDatabase::create().await else {
            return;
        };
        let outcome =
            futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(test(db.url.clone())))
                .await;
        db.drop().await;
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    }
}

/// A catalog on the PostgreSQL database at `url`, with the default options.
pub async fn pg_catalog(url: &str) -> PgCatalog {
    PgCatalog::connect(url, PgCatalogOptions::default())
        .await
        .expect("connect the catalog")
}

/// Instantiates contracts of the calling module, each an `async fn(&dyn Catalog)`, once per
/// backend: `sqlite::<name>` on a fresh SQLite file, `postgres::<name>` on a fresh PostgreSQL
/// database.
macro_rules! catalog_contracts {
    ($($name:ident => $contract:ident;)*) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let dir = tempfile::tempdir().expect("temp dir");
                    let catalog =
                        flaneur_store::SqliteCatalog::open(&dir.path().join("catalog.sqlite"))
                            .await
                            .expect("open");
                    super::$contract(&catalog).await;
                    catalog.close().await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    crate::backend::PgDatabase::run(|url| async move {
                        let catalog = crate::backend::pg_catalog(&url).await;
                        super::$contract(&catalog).await;
                        catalog.close().await;
                    })
                    .await;
                }
            )*
        }
    };
}
pub(crate) use catalog_contracts;

/// Direct access to a catalog's database, for contracts about writes that no catalog method
/// makes yet: the rules the schema keeps must hold for any write path, present or future.
pub enum Sql {
    /// The SQLite file, on a connection of its own.
    Sqlite(sqlx::SqlitePool),
    /// The PostgreSQL database.
    Postgres(sqlx::PgPool),
}

impl Sql {
    /// A connection to the SQLite file at `path`, set up as the catalog sets up its own.
    pub async fn sqlite(path: &std::path::Path) -> Sql {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(path)
            .foreign_keys(true)
            .pragma("recursive_triggers", "ON")
            .busy_timeout(std::time::Duration::from_secs(30));
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .expect("open the catalog file");
        Sql::Sqlite(pool)
    }

    /// A pool on the PostgreSQL database at `url`.
    pub async fn postgres(url: &str) -> Sql {
        Sql::Postgres(sqlx::PgPool::connect(url).await.expect("connect"))
    }

    /// Runs the statement written for this backend, with `ids` bound in order (`?1`, `?2`…
    /// in SQLite, `$1`, `$2`… in PostgreSQL, where they are uuids).
    pub async fn run(&self, sqlite: &str, postgres: &str, ids: &[uuid::Uuid]) {
        match self {
            Sql::Sqlite(pool) => {
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sqlite));
                for id in ids {
                    query = query.bind(id.to_string());
                }
                query.execute(pool).await.map(drop)
            }
            Sql::Postgres(pool) => {
                let mut query = sqlx::query(sqlx::AssertSqlSafe(postgres));
                for id in ids {
                    query = query.bind(*id);
                }
                query.execute(pool).await.map(drop)
            }
        }
        .unwrap_or_else(|e| panic!("{sqlite} / {postgres}: {e}"));
    }

    /// `updated_at` of a row of `pictures` or `sequences`, in microseconds since the epoch.
    pub async fn stamp(&self, table: &str, id: uuid::Uuid) -> i64 {
        let sql = format!("SELECT updated_at FROM {table} WHERE id = ");
        match self {
            Sql::Sqlite(pool) => sqlx::query_scalar(sqlx::AssertSqlSafe(format!("{sql}?")))
                .bind(id.to_string())
                .fetch_one(pool)
                .await
                .expect("stamp"),
            Sql::Postgres(pool) => {
                let at: chrono::DateTime<chrono::Utc> =
                    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("{sql}$1")))
                        .bind(id)
                        .fetch_one(pool)
                        .await
                        .expect("stamp");
                at.timestamp_micros()
            }
        }
    }

    /// The number of rows a `SELECT count(*) …` counts, with `ids` bound as in [`Sql::run`].
    pub async fn count(&self, sqlite: &str, postgres: &str, ids: &[uuid::Uuid]) -> i64 {
        match self {
            Sql::Sqlite(pool) => {
                let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sqlite));
                for id in ids {
                    query = query.bind(id.to_string());
                }
                query.fetch_one(pool).await
            }
            Sql::Postgres(pool) => {
                let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(postgres));
                for id in ids {
                    query = query.bind(*id);
                }
                query.fetch_one(pool).await
            }
        }
        .unwrap_or_else(|e| panic!("{sqlite} / {postgres}: {e}"))
    }

    pub async fn close(&self) {
        match self {
            Sql::Sqlite(pool) => pool.close().await,
            Sql::Postgres(pool) => pool.close().await,
        }
    }
}

/// Like [`catalog_contracts`], for contracts `async fn(&dyn Catalog, &Sql)` that also write to
/// the catalog's database directly.
macro_rules! sql_contracts {
    ($($name:ident => $contract:ident;)*) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let dir = tempfile::tempdir().expect("temp dir");
                    let path = dir.path().join("catalog.sqlite");
                    let catalog = flaneur_store::SqliteCatalog::open(&path).await.expect("open");
                    let sql = crate::backend::Sql::sqlite(&path).await;
                    super::$contract(&catalog, &sql).await;
                    sql.close().await;
                    catalog.close().await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    crate::backend::PgDatabase::run(|url| async move {
                        let catalog = crate::backend::pg_catalog(&url).await;
                        let sql = crate::backend::Sql::postgres(&url).await;
                        super::$contract(&catalog, &sql).await;
                        sql.close().await;
                        catalog.close().await;
                    })
                    .await;
                }
            )*
        }
    };
}
pub(crate) use sql_contracts;
