//! The storage every server of a test run uses, chosen by `FLANEUR_TEST_BACKEND`:
//!
//! - unset or `embedded`: the data folder's own SQLite catalog and picture folder;
//! - `postgres-s3`: a fresh PostgreSQL database made from the test server's template
//!   (`FLANEUR_TEST_DATABASE_URL`) and a fresh key prefix of the test S3 bucket
//!   (`FLANEUR_TEST_S3_*`), both printed by `scripts/services.sh start`.
//!
//! A data folder is given its database and prefix once: they are written in the folder, so a
//! server restarted on it finds the same catalog and pictures again.

use std::path::Path;

use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};

/// The file of a data folder naming the database and prefix its servers use.
const REMEMBERED: &str = "test-backend.json";

/// The PostgreSQL database and S3 prefix of one data folder.
pub struct Remote {
    /// `postgresql://…/flaneur_test_…`
    pub db_url: String,
    /// `s3://bucket/prefix?endpoint_url=…&region=…`
    pub fs_url: String,
    pub s3: S3Env,
}

/// The test S3 server.
#[derive(Clone)]
pub struct S3Env {
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key: String,
    pub secret_key: String,
}

impl S3Env {
    /// The test S3 server named by `FLANEUR_TEST_S3_*`, or `None` when unset.
    pub fn from_env() -> Option<S3Env> {
        let endpoint = var("FLANEUR_TEST_S3_ENDPOINT")?;
        Some(S3Env {
            endpoint,
            bucket: need("FLANEUR_TEST_S3_BUCKET"),
            region: need("FLANEUR_TEST_S3_REGION"),
            access_key: need("FLANEUR_TEST_S3_ACCESS_KEY"),
            secret_key: need("FLANEUR_TEST_S3_SECRET_KEY"),
        })
    }

    /// The `FS_URL` of a prefix of the bucket.
    pub fn fs_url(&self, prefix: &str) -> String {
        let endpoint = percent_encoding::utf8_percent_encode(
            &self.endpoint,
            percent_encoding::NON_ALPHANUMERIC,
        );
        format!(
            "s3://{}/{prefix}?endpoint_url={endpoint}&region={}",
            self.bucket, self.region
        )
    }
}

impl Remote {
    /// The variables a `flaneur` process needs to use this database and prefix.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("DB_URL".to_owned(), self.db_url.clone()),
            ("FS_URL".to_owned(), self.fs_url.clone()),
            ("AWS_ACCESS_KEY_ID".to_owned(), self.s3.access_key.clone()),
            (
                "AWS_SECRET_ACCESS_KEY".to_owned(),
                self.s3.secret_key.clone(),
            ),
        ]
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn need(name: &str) -> String {
    var(name).unwrap_or_else(|| {
        panic!(
            "{name} is not set: start the test servers with `scripts/services.sh start` and \
             export the variables it prints"
        )
    })
}

/// Whether this run's servers keep their data in PostgreSQL and S3.
pub fn is_remote() -> bool {
    match var("FLANEUR_TEST_BACKEND").as_deref() {
        None | Some("embedded") => false,
        Some("postgres-s3") => true,
        Some(other) => panic!("FLANEUR_TEST_BACKEND={other}: expected embedded or postgres-s3"),
    }
}

/// The environment a `flaneur serve` or `flaneur worker` on `data_dir` gets for this run's
/// backend: nothing for the embedded one; for PostgreSQL + S3, the database and prefix of the
/// folder, made on first use.
pub fn storage_env(data_dir: &Path) -> Vec<(String, String)> {
    if is_remote() {
        remote_for(data_dir).env()
    } else {
        Vec::new()
    }
}

/// The database and prefix of `data_dir`, made on first use and remembered in the folder.
pub fn remote_for(data_dir: &Path) -> Remote {
    let s3 = S3Env::from_env().unwrap_or_else(|| {
        panic!("FLANEUR_TEST_S3_ENDPOINT is not set: start the test servers with `scripts/services.sh start`")
    });
    let remembered = data_dir.join(REMEMBERED);
    let (db_url, prefix) = match std::fs::read(&remembered) {
        Ok(bytes) => {
            let saved: Value = serde_json::from_slice(&bytes).expect("remembered backend");
            let field = |name: &str| saved[name].as_str().expect("remembered field").to_owned();
            (field("db_url"), field("prefix"))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let db_url = create_database();
            let prefix = format!("api/{}", uuid::Uuid::new_v4().simple());
            let saved = json!({ "db_url": db_url, "prefix": prefix });
            std::fs::create_dir_all(data_dir).expect("data folder");
            std::fs::write(&remembered, saved.to_string()).expect("remember the backend");
            (db_url, prefix)
        }
        Err(e) => panic!("{}: {e}", remembered.display()),
    };
    let fs_url = s3.fs_url(&prefix);
    Remote { db_url, fs_url, s3 }
}

/// Makes a database from the test server's `flaneur_template` (PostGIS, nothing else) and
/// returns its address.
pub fn create_database() -> String {
    let admin_url = need("FLANEUR_TEST_DATABASE_URL");
    let name = format!("flaneur_test_{}", uuid::Uuid::new_v4().simple());
    block_on(async {
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .expect("connect to the test PostgreSQL server");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE {name} TEMPLATE flaneur_template"
        )))
        .execute(&mut admin)
        .await
        .expect("create a test database");
        admin.close().await.expect("disconnect");
    });
    match admin_url.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => panic!("FLANEUR_TEST_DATABASE_URL has no database: {admin_url}"),
    }
}

/// Runs a future to its end on a runtime of its own.
pub fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}
