//! What only the PostgreSQL catalog has to get right: several processes share its database.

use flaneur_store::PgCatalog;

use crate::backend::{PgDatabase, pg_catalog};

/// Processes starting at once on an empty database: one migrates, the others wait for it and
/// find the schema ready, and none fails on a half-made schema.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_opens_migrate_the_schema_once() {
    PgDatabase::run(|url| async move {
        let opens: Vec<_> = (0..8)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { pg_catalog(&url).await })
            })
            .collect();
        let mut catalogs: Vec<PgCatalog> = Vec::new();
        for open in opens {
            catalogs.push(open.await.expect("open task"));
        }
        let (versions, distinct): (i64, i64) =
            sqlx::query_as("SELECT count(*), count(DISTINCT name) FROM schema_migrations")
                .fetch_one(&sqlx::PgPool::connect(&url).await.expect("connect"))
                .await
                .expect("read migrations");
        assert!(versions >= 1);
        assert_eq!(versions, distinct, "each migration recorded once");
        for catalog in catalogs {
            catalog.close().await;
        }
    })
    .await;
}
