//! What a copy of the catalog carries over: every table holding data, column by column, with
//! how each column is stored on either side; and every other table of the embedded schema,
//! with the reason it is not copied. Tests hold the two lists against both schemas, so that
//! a table or column added by a migration is either copied or left out on purpose.

/// How a column is stored in each catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Hyphenated text / `uuid`.
    Uuid,
    /// Text in both.
    Text,
    /// Integer / `bigint`.
    Int,
    /// Real / `double precision`.
    Real,
    /// Integer 0 or 1 / `boolean`.
    Bool,
    /// Microseconds since the epoch / `timestamptz`.
    Instant,
    /// JSON text / `jsonb`.
    Json,
}

/// One column: its name in SQLite, in PostgreSQL, and its kind.
pub(super) type Column = (&'static str, &'static str, Kind);

/// A table copied as it is.
pub(super) struct Table {
    pub(super) name: &'static str,
    pub(super) columns: &'static [Column],
    /// The primary key (PostgreSQL names), for the upsert.
    pub(super) key: &'static [&'static str],
    /// Columns the copy leaves empty: state of the stopped process, not of the data.
    pub(super) cleared: &'static [&'static str],
}

/// The tables in an order foreign keys accept.
pub(super) const TABLES: &[Table] = &[
    // The peers come first: remote accounts, sequences and pictures name theirs. Their
    // harvest state goes with them, so that the next harvest goes on from where it was.
    Table {
        name: "peers",
        columns: &[
            ("id", "id", Kind::Uuid),
            ("api_url", "api_url", Kind::Text),
            ("source", "source", Kind::Text),
            ("is_paused", "is_paused", Kind::Bool),
            ("added_at", "added_at", Kind::Instant),
            ("last_attempt_at", "last_attempt_at", Kind::Instant),
            ("last_success_at", "last_success_at", Kind::Instant),
            ("failures", "failures", Kind::Int),
            ("next_attempt_at", "next_attempt_at", Kind::Instant),
            ("last_error", "last_error", Kind::Text),
            ("watermark", "watermark", Kind::Instant),
            ("resume_url", "resume_url", Kind::Text),
            ("nb_collections", "nb_collections", Kind::Int),
            ("nb_items", "nb_items", Kind::Int),
            ("lease_holder", "lease_holder", Kind::Uuid),
            ("leased_until", "leased_until", Kind::Instant),
        ],
        key: &["id"],
        // A harvest's lease belongs to the pass that took it, in a process now stopped: the
        // peer is free.
        cleared: &["lease_holder", "leased_until"],
    },
    // A peer's skipped collections name only their peer: the collections they stand for are
    // not held from it.
    Table {
        name: "harvest_conflicts",
        columns: &[
            ("peer_id", "peer_id", Kind::Uuid),
            ("sequence_id", "sequence_id", Kind::Uuid),
            ("is_conflict", "is_conflict", Kind::Bool),
        ],
        key: &["peer_id", "sequence_id"],
        cleared: &[],
    },
    Table {
        name: "accounts",
        columns: &[
            ("id", "id", Kind::Uuid),
            ("name", "name", Kind::Text),
            ("is_default", "is_default", Kind::Bool),
            ("created_at", "created_at", Kind::Instant),
            ("role", "role", Kind::Text),
            ("oauth_provider", "oauth_provider", Kind::Text),
            ("oauth_id", "oauth_id", Kind::Text),
            ("default_visibility", "default_visibility", Kind::Text),
            (
                "collaborative_metadata",
                "collaborative_metadata",
                Kind::Bool,
            ),
            ("tos_accepted_at", "tos_accepted_at", Kind::Instant),
            (
                "tos_latest_change_read_at",
                "tos_latest_change_read_at",
                Kind::Instant,
            ),
            ("deleted_at", "deleted_at", Kind::Instant),
            ("peer_id", "peer_id", Kind::Uuid),
            ("remote_key", "remote_key", Kind::Text),
        ],
        key: &["id"],
        cleared: &[],
    },
    Table {
        name: "tokens",
        columns: &[
            ("id", "id", Kind::Uuid),
            ("account_id", "account_id", Kind::Uuid),
            ("description", "description", Kind::Text),
            ("generated_at", "generated_at", Kind::Instant),
            ("last_used_at", "last_used_at", Kind::Instant),
            ("secret_sha256", "secret_sha256", Kind::Text),
        ],
        key: &["id"],
        cleared: &[],
    },
    // The key signing token values: without it, the copied tokens would not be accepted.
    Table {
        name: "instance_secrets",
        columns: &[("name", "name", Kind::Text), ("value", "value", Kind::Text)],
        key: &["name"],
        cleared: &[],
    },
    Table {
        name: "upload_sets",
        columns: &[
            ("id", "id", Kind::Uuid),
            ("account_id", "account_id", Kind::Uuid),
            ("title", "title", Kind::Text),
            ("created_at", "created_at", Kind::Instant),
            ("completed", "completed", Kind::Bool),
            ("dispatched", "dispatched", Kind::Bool),
            ("spec", "spec", Kind::Json),
        ],
        key: &["id"],
        cleared: &[],
    },
    Table {
        name: "pictures",
        columns: &[
            ("id", "id", Kind::Uuid),
            ("upload_set_id", "upload_set_id", Kind::Uuid),
            ("account_id", "account_id", Kind::Uuid),
            ("status", "status", Kind::Text),
            ("visibility", "visibility", Kind::Text),
            ("captured_at", "captured_at", Kind::Instant),
            ("lon", "lon", Kind::Real),
            ("lat", "lat", Kind::Real),
            ("heading_deg", "heading_deg", Kind::Real),
            ("heading_computed", "heading_computed", Kind::Bool),
            ("projection", "projection", Kind::Text),
            ("content_md5", "content_md5", Kind::Text),
            ("file_name", "file_name", Kind::Text),
            ("created_at", "created_at", Kind::Instant),
            ("updated_at", "updated_at", Kind::Instant),
            ("process_error", "process_error", Kind::Text),
            ("doc", "doc", Kind::Json),
            ("peer_id", "peer_id", Kind::Uuid),
            ("remote_doc", "remote_doc", Kind::Json),
        ],
        key: &["id"],
        cleared: &[],
    },
    Table {
        name: "files",
        columns: &[
            ("upload_set_id", "upload_set_id", Kind::Uuid),
            ("file_name", "file_name", Kind::Text),
            ("size_bytes", "size_bytes", Kind::Int),
            ("content_md5", "content_md5", Kind::Text),
            ("picture_id", "picture_id", Kind::Uuid),
            ("inserted_at", "inserted_at", Kind::Instant),
            ("rejection_reason", "rejection_reason", Kind::Text),
            ("rejection_message", "rejection_message", Kind::Text),
            ("rejection_details", "rejection_details", Kind::Json),
        ],
        key: &["upload_set_id", "file_name"],
        cleared: &[],
    },
    Table {
        name: "sequences",
        columns: &[
            ("id", "id", Kind::Uuid),
            ("upload_set_id", "upload_set_id", Kind::Uuid),
            ("account_id", "account_id", Kind::Uuid),
            ("title", "title", Kind::Text),
            ("status", "status", Kind::Text),
            ("visibility", "visibility", Kind::Text),
            ("sorted_by", "sorted_by", Kind::Text),
            ("user_agent", "user_agent", Kind::Text),
            ("relative_heading_deg", "relative_heading_deg", Kind::Real),
            ("created_at", "created_at", Kind::Instant),
            ("updated_at", "updated_at", Kind::Instant),
            ("nb_pictures", "nb_pictures", Kind::Int),
            ("min_captured_at", "min_captured_at", Kind::Instant),
            ("max_captured_at", "max_captured_at", Kind::Instant),
            ("min_lon", "min_lon", Kind::Real),
            ("min_lat", "min_lat", Kind::Real),
            ("max_lon", "max_lon", Kind::Real),
            ("max_lat", "max_lat", Kind::Real),
            ("length_km", "length_km", Kind::Real),
            ("gps_accuracy_m", "gps_accuracy_m", Kind::Real),
            ("peer_id", "peer_id", Kind::Uuid),
            ("remote_doc", "remote_doc", Kind::Json),
            ("remote_updated_at", "remote_updated_at", Kind::Instant),
            ("origin_removed_at", "origin_removed_at", Kind::Instant),
        ],
        key: &["id"],
        cleared: &[],
    },
    Table {
        name: "sequence_pictures",
        columns: &[
            ("sequence_id", "sequence_id", Kind::Uuid),
            ("rank", "rank", Kind::Int),
            ("picture_id", "picture_id", Kind::Uuid),
        ],
        key: &["sequence_id", "rank"],
        cleared: &[],
    },
    Table {
        name: "sequence_semantics",
        columns: &[
            ("sequence_id", "sequence_id", Kind::Uuid),
            ("key", "key", Kind::Text),
            ("value", "value", Kind::Text),
        ],
        key: &["sequence_id", "key", "value"],
        cleared: &[],
    },
    Table {
        name: "picture_semantics",
        columns: &[
            ("picture_id", "picture_id", Kind::Uuid),
            ("key", "key", Kind::Text),
            ("value", "value", Kind::Text),
        ],
        key: &["picture_id", "key", "value"],
        cleared: &[],
    },
    Table {
        name: "annotations",
        columns: &[
            ("id", "id", Kind::Uuid),
            ("picture_id", "picture_id", Kind::Uuid),
            ("shape", "shape", Kind::Text),
            ("account_id", "account_id", Kind::Uuid),
            ("created_at", "created_at", Kind::Instant),
            ("updated_at", "updated_at", Kind::Instant),
        ],
        key: &["id"],
        cleared: &[],
    },
    Table {
        name: "annotation_semantics",
        columns: &[
            ("annotation_id", "annotation_id", Kind::Uuid),
            ("key", "key", Kind::Text),
            ("value", "value", Kind::Text),
        ],
        key: &["annotation_id", "key", "value"],
        cleared: &[],
    },
    Table {
        name: "reports",
        columns: &[
            ("id", "id", Kind::Uuid),
            ("issue", "issue", Kind::Text),
            ("status", "status", Kind::Text),
            ("picture_id", "picture_id", Kind::Uuid),
            ("sequence_id", "sequence_id", Kind::Uuid),
            ("reporter_account_id", "reporter_account_id", Kind::Uuid),
            ("reporter_email", "reporter_email", Kind::Text),
            ("reporter_comments", "reporter_comments", Kind::Text),
            ("resolver_account_id", "resolver_account_id", Kind::Uuid),
            ("resolver_comments", "resolver_comments", Kind::Text),
            ("created_at", "created_at", Kind::Instant),
            ("closed_at", "closed_at", Kind::Instant),
        ],
        key: &["id"],
        cleared: &[],
    },
    // Both catalogs keep the polygons as the same GeoJSON text and derive the bounding box
    // with the same function, so the box is copied rather than computed again.
    Table {
        name: "excluded_areas",
        columns: &[
            ("id", "id", Kind::Uuid),
            ("label", "label", Kind::Text),
            ("is_public", "is_public", Kind::Bool),
            ("account_id", "account_id", Kind::Uuid),
            ("is_allowed", "is_allowed", Kind::Bool),
            ("polygons", "polygons", Kind::Text),
            ("min_lon", "min_lon", Kind::Real),
            ("min_lat", "min_lat", Kind::Real),
            ("max_lon", "max_lon", Kind::Real),
            ("max_lat", "max_lat", Kind::Real),
            ("created_at", "created_at", Kind::Instant),
        ],
        key: &["id"],
        cleared: &[],
    },
    // Browser sessions move, so that nobody is logged out by the move: only hashes of the
    // cookies are kept, and the instance checks them the same way on either catalog. Logins
    // waiting for the provider's answer move too, and can end once the instance is back.
    Table {
        name: "login_requests",
        columns: &[
            ("state_hash", "state_hash", Kind::Text),
            ("pkce_verifier", "pkce_verifier", Kind::Text),
            ("nonce", "nonce", Kind::Text),
            ("next_url", "next_url", Kind::Text),
            ("redirect_url", "redirect_url", Kind::Text),
            ("expires_at", "expires_at", Kind::Instant),
        ],
        key: &["state_hash"],
        cleared: &[],
    },
    Table {
        name: "sessions",
        columns: &[
            ("id_hash", "id_hash", Kind::Text),
            ("account_id", "account_id", Kind::Uuid),
            ("csrf_token", "csrf_token", Kind::Text),
            ("id_token", "id_token", Kind::Text),
            ("created_at", "created_at", Kind::Instant),
            ("expires_at", "expires_at", Kind::Instant),
        ],
        key: &["id_hash"],
        cleared: &[],
    },
    // The terms of service and other pages, with when their last change was announced: the
    // accounts that read them since need not read them again.
    Table {
        name: "pages",
        columns: &[
            ("name", "name", Kind::Text),
            ("lang", "lang", Kind::Text),
            ("content", "content", Kind::Text),
            ("updated_at", "updated_at", Kind::Instant),
            ("change_published_at", "change_published_at", Kind::Instant),
        ],
        key: &["name", "lang"],
        cleared: &[],
    },
    Table {
        name: "jobs",
        columns: &[
            ("id", "id", Kind::Int),
            ("kind", "kind", Kind::Text),
            ("target", "target", Kind::Text),
            ("created_at", "created_at", Kind::Instant),
            ("run_after", "run_after", Kind::Instant),
            ("attempts", "attempts", Kind::Int),
            ("lease_until", "leased_until", Kind::Instant),
            ("last_error", "last_error", Kind::Text),
            ("requeued", "requeued", Kind::Bool),
        ],
        key: &["id"],
        // A claim belongs to the process that made it, which is stopped: the job is free.
        cleared: &["leased_until"],
    },
];

/// Tables whose user triggers move `updated_at` or the map: off while rows are copied as
/// they are.
pub(super) const TRIGGERED: &[&str] = &[
    "pictures",
    "sequences",
    "sequence_pictures",
    "sequence_semantics",
    "picture_semantics",
    "annotations",
    "annotation_semantics",
];

/// Tables of the embedded schema that are not copied, each with its reason: held against the
/// schema by the tests below, as the copy itself reads only [`TABLES`].
#[cfg(test)]
const NOT_COPIED: &[(&str, &str)] = &[
    (
        "data_version",
        "a counter of this catalog's writes; the copy moves the destination's own on",
    ),
    (
        "catalog_identity",
        "drawn when a catalog is created, so that two catalogs' versions never read alike",
    ),
    (
        "map_grid",
        "derived from the pictures, drawn again in the destination",
    ),
    (
        "map_sequences",
        "derived from the sequences, drawn again in the destination",
    ),
    ("map_sequences_rtree", "the SQLite index of map_sequences"),
    (
        "map_sequences_stale",
        "work list of the map drawing, filled in the destination with every sequence",
    ),
    ("pictures_rtree", "the SQLite index of picture positions"),
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use sqlx::postgres::{PgConnectOptions, PgPool};
    use sqlx::sqlite::SqlitePoolOptions;

    use super::*;
    use crate::SqliteCatalog;

    /// The tables of an embedded catalog with every migration run, but for SQLite's own, the
    /// ledger of migrations (each catalog keeps its own) and the tables an R*Tree keeps its
    /// nodes in.
    async fn schema() -> Vec<(String, BTreeSet<String>)> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("catalog.sqlite");
        SqliteCatalog::open(&path)
            .await
            .expect("catalog")
            .close()
            .await;
        let pool = SqlitePoolOptions::new()
            .connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("open catalog");
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM pragma_table_list
             WHERE schema = 'main' AND type IN ('table', 'virtual')
               AND name NOT LIKE 'sqlite%' AND name <> 'schema_migrations'
             ORDER BY name",
        )
        .fetch_all(&pool)
        .await
        .expect("list tables");
        let mut tables = Vec::new();
        for name in names {
            let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?)")
                .bind(&name)
                .fetch_all(&pool)
                .await
                .expect("list columns");
            tables.push((name, columns.into_iter().collect()));
        }
        pool.close().await;
        tables
    }

    #[tokio::test]
    async fn every_table_of_the_embedded_schema_is_copied_or_left_out_with_a_reason() {
        let schema = schema().await;
        assert!(
            schema.iter().any(|(name, _)| name == "pictures"),
            "{schema:?}"
        );
        for (name, _) in &schema {
            let copied = TABLES.iter().any(|t| t.name == name);
            let left_out = NOT_COPIED.iter().any(|(n, _)| n == name);
            assert!(
                copied != left_out,
                "table {name}: add it to TABLES (copied) or to NOT_COPIED (with the reason), \
                 and to one of them only"
            );
        }
        for name in TABLES
            .iter()
            .map(|t| t.name)
            .chain(NOT_COPIED.iter().map(|n| n.0))
        {
            assert!(
                schema.iter().any(|(n, _)| n == name),
                "table {name} is listed but not in the schema"
            );
        }
    }

    #[tokio::test]
    async fn every_column_of_a_copied_table_is_copied() {
        let schema = schema().await;
        for table in TABLES {
            let (_, columns) = schema
                .iter()
                .find(|(n, _)| *n == table.name)
                .unwrap_or_else(|| panic!("table {} is not in the schema", table.name));
            let listed: BTreeSet<String> = table.columns.iter().map(|c| c.0.to_owned()).collect();
            let missing: Vec<&String> = columns.difference(&listed).collect();
            assert!(
                missing.is_empty(),
                "table {}: columns {missing:?} are not copied; add them to its columns",
                table.name
            );
            let unknown: Vec<&String> = listed.difference(columns).collect();
            assert!(
                unknown.is_empty(),
                "table {}: columns {unknown:?} are listed but not in the schema",
                table.name
            );
        }
    }

    /// The tables and columns of a PostgreSQL catalog with every migration run, but for the
    /// ledger of migrations, PostGIS's own table and generated columns (the database computes
    /// them, such as a picture's point geometry); `None` without a test server.
    #[expect(
        clippy::print_stderr,
        reason = "a skipped test says so in the test output"
    )]
    async fn postgres_schema() -> Option<Vec<(String, BTreeSet<String>)>> {
        let Some(admin_url) = std::env::var("FLANEUR_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        else {
            assert!(
                std::env::var("FLANEUR_REQUIRE_SERVICES").as_deref() != Ok("1"),
                "FLANEUR_TEST_DATABASE_URL is not set: start the test servers with \
                 `scripts/services.sh start` and export the variables it prints"
            );
            eprintln!("skipped: FLANEUR_TEST_DATABASE_URL is not set (no PostgreSQL)");
            return None;
        };
        let name = format!("transfer_{}", uuid::Uuid::new_v4().simple());
        let admin = PgPool::connect(&admin_url).await.expect("test server");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE {name} TEMPLATE flaneur_template"
        )))
        .execute(&admin)
        .await
        .expect("create database");
        let options: PgConnectOptions = admin_url.parse().expect("database URL");
        let options = options.database(&name);
        crate::postgres::migrate(&options).await.expect("migrate");
        let pool = PgPool::connect_with(options).await.expect("open database");
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT c.table_name::text, c.column_name::text
             FROM information_schema.columns c
             JOIN information_schema.tables t USING (table_schema, table_name)
             WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
               AND c.table_name NOT IN ('schema_migrations', 'spatial_ref_sys')
               AND c.is_generated = 'NEVER'
             ORDER BY 1, 2",
        )
        .fetch_all(&pool)
        .await
        .expect("list columns");
        pool.close().await;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {name} WITH (FORCE)"
        )))
        .execute(&admin)
        .await
        .expect("drop database");
        let mut tables: Vec<(String, BTreeSet<String>)> = Vec::new();
        for (table, column) in rows {
            match tables.last_mut() {
                Some((name, columns)) if *name == table => {
                    columns.insert(column);
                }
                _ => tables.push((table, BTreeSet::from([column]))),
            }
        }
        Some(tables)
    }

    /// A table or column added to the PostgreSQL schema only is caught as well: every
    /// column of a copied table there gets a value from the copy.
    #[tokio::test]
    async fn every_table_and_column_of_the_postgresql_schema_is_copied_or_left_out() {
        let Some(schema) = postgres_schema().await else {
            return;
        };
        assert!(
            schema.iter().any(|(name, _)| name == "pictures"),
            "{schema:?}"
        );
        for (name, columns) in &schema {
            if NOT_COPIED.iter().any(|(n, _)| n == name) {
                continue;
            }
            let table = TABLES
                .iter()
                .find(|t| t.name == name)
                .unwrap_or_else(|| panic!("table {name}: add it to TABLES or to NOT_COPIED"));
            let listed: BTreeSet<String> = table.columns.iter().map(|c| c.1.to_owned()).collect();
            assert_eq!(
                columns, &listed,
                "table {name}: the PostgreSQL columns and the ones copied differ"
            );
        }
    }

    #[test]
    fn every_key_and_cleared_column_is_a_copied_column() {
        for table in TABLES {
            for name in table.key.iter().chain(table.cleared) {
                assert!(
                    table.columns.iter().any(|c| c.1 == *name),
                    "table {}: {name} is not one of its columns",
                    table.name
                );
            }
        }
    }
}
