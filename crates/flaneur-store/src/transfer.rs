//! Copying an embedded catalog (SQLite) into a PostgreSQL one, table by table, keeping every
//! id and instant.
//!
//! Both schemas name their tables and columns alike; only the types differ (text ids become
//! `uuid`, microsecond integers `timestamptz`, JSON text `jsonb`, integer flags `boolean`).
//! Rows are written as they are, with the `updated_at` triggers switched off for the length
//! of the copy, so that harvest cursors and `updated` stay what they were.
//!
//! The copy is one transaction: the destination holds either the catalog as it was before
//! the run or the whole source. It is an upsert, so that a second run writes only what
//! differs, and ends by checking that the destination holds nothing but the source's rows.
//! The derived tables (map lines and grid) are not copied: every sequence written is marked
//! for redrawing, which the catalog does before it answers a map read. `table` lists what
//! is copied and why every other table is not.

use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use flaneur_model::PictureId;
use futures::TryStreamExt;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteRow};
use sqlx::{Postgres, QueryBuilder, Row};

use crate::{Error, Result, SqliteCatalog};

mod table;

use table::{Column, Kind, TABLES, TRIGGERED, Table};

/// Rows sent in one statement (PostgreSQL takes at most 65 535 parameters).
const BATCH_ROWS: usize = 500;

/// Key of the advisory lock a copy runs under, so that two copies into one catalog do not
/// race. An arbitrary constant.
const COPY_LOCK: i64 = 0x666c_616e_6575_7202;

/// What the copy did to one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCopy {
    /// The table.
    pub table: &'static str,
    /// Rows in the source.
    pub rows: u64,
    /// Rows written to the destination: new, or different there.
    pub written: u64,
}

/// What [`copy_catalog`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogCopy {
    /// Table by table, in copy order.
    pub tables: Vec<TableCopy>,
    /// Whether an unused default account of the destination (made when a process opened the
    /// empty catalog) was replaced by the source's.
    pub replaced_default_account: bool,
}

impl CatalogCopy {
    /// Rows written, all tables together.
    pub fn written(&self) -> u64 {
        self.tables.iter().map(|t| t.written).sum()
    }
}

/// A picture of the source, with the checksum of its original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcePicture {
    /// Its id.
    pub id: PictureId,
    /// Hex MD5 of the original file.
    pub content_md5: String,
}

/// An embedded catalog read for a copy.
#[derive(Debug)]
pub struct SqliteSource {
    pool: SqlitePool,
}

impl SqliteSource {
    /// Opens the catalog file, first bringing its schema up to date as `serve` would. The
    /// caller makes sure no other process writes to it meanwhile.
    ///
    /// # Errors
    /// Fails when the file is missing or cannot be read.
    pub async fn open(path: &Path) -> Result<SqliteSource> {
        if !path.is_file() {
            return Err(Error::Refused(format!(
                "no catalog at {}: is this the data folder of a flaneur instance?",
                path.display()
            )));
        }
        let catalog = SqliteCatalog::open(path).await?;
        catalog.close().await;
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(Error::db("parse sqlite options"))?
            .filename(path)
            .read_only(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await
            .map_err(Error::db("open source catalog"))?;
        Ok(SqliteSource { pool })
    }

    /// Every local picture with the checksum of its original, by id: a picture harvested from
    /// a peer has no files here.
    ///
    /// # Errors
    /// Fails when the catalog cannot be read.
    pub async fn pictures(&self) -> Result<Vec<SourcePicture>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, content_md5 FROM pictures WHERE peer_id IS NULL ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(Error::db("list source pictures"))?;
        rows.into_iter()
            .map(|(id, content_md5)| {
                let id = id
                    .parse::<uuid::Uuid>()
                    .map_err(|e| Error::corrupt("pictures", format!("id: {e}")))?;
                Ok(SourcePicture {
                    id: PictureId::from(id),
                    content_md5,
                })
            })
            .collect()
    }

    /// The id of the source's default account.
    async fn default_account(&self) -> Result<Option<String>> {
        sqlx::query_scalar("SELECT id FROM accounts WHERE is_default = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(Error::db("read source default account"))
    }

    /// Ids of the source's accounts.
    async fn account_ids(&self) -> Result<Vec<String>> {
        sqlx::query_scalar("SELECT id FROM accounts")
            .fetch_all(&self.pool)
            .await
            .map_err(Error::db("list source accounts"))
    }

    async fn count(&self, table: &str) -> Result<u64> {
        let n: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                .fetch_one(&self.pool)
                .await
                .map_err(Error::db("count source rows"))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Closes the file.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A PostgreSQL catalog being filled by a copy.
#[derive(Debug)]
pub struct PgDestination {
    pool: PgPool,
}

impl PgDestination {
    /// Connects and brings the schema up to date, without creating the default account a
    /// serving catalog would (the source's is copied).
    ///
    /// # Errors
    /// Fails when the URL is malformed or the database cannot be reached or migrated.
    pub async fn connect(url: &str) -> Result<PgDestination> {
        let options: PgConnectOptions = url.parse().map_err(Error::db("parse database URL"))?;
        crate::postgres::migrate(&options).await?;
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await
            .map_err(Error::db("open destination catalog"))?;
        Ok(PgDestination { pool })
    }

    /// Refuses a destination holding data that is not the source's: an account the source
    /// does not have (but an unused default account), or more rows than the source in a
    /// table. The copy checks every row again in its transaction; this answers before any
    /// blob is copied.
    ///
    /// # Errors
    /// [`Error::Refused`] naming what is there; database errors.
    pub async fn check_holds_only(&self, source: &SqliteSource) -> Result<()> {
        let source_accounts = source.account_ids().await?;
        let foreign: Vec<(String, String)> = sqlx::query_as(
            "SELECT a.id::text, a.name FROM accounts a
             WHERE NOT (a.id::text = ANY ($1))
               AND NOT (a.is_default AND NOT EXISTS (SELECT 1 FROM upload_sets u
                                                     WHERE u.account_id = a.id)
                        AND NOT EXISTS (SELECT 1 FROM pictures p WHERE p.account_id = a.id)
                        AND NOT EXISTS (SELECT 1 FROM sequences s WHERE s.account_id = a.id))
             ORDER BY a.name LIMIT 3",
        )
        .bind(&source_accounts)
        .fetch_all(&self.pool)
        .await
        .map_err(Error::db("check destination accounts"))?;
        if let Some((id, name)) = foreign.first() {
            return Err(Error::Refused(format!(
                "the destination catalog holds data of another instance (account '{name}', \
                 {id}); copy into an empty database, or one an earlier copy of this data \
                 folder filled"
            )));
        }
        for table in TABLES {
            let there = self.count(table.name).await?;
            let here = source.count(table.name).await?;
            if there > here {
                return Err(Error::Refused(format!(
                    "the destination catalog holds {there} rows in {} where the source has \
                     {here}: it holds data of another instance; copy into an empty database, \
                     or one an earlier copy of this data folder filled",
                    table.name
                )));
            }
        }
        Ok(())
    }

    async fn count(&self, table: &str) -> Result<u64> {
        let n: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                .fetch_one(&self.pool)
                .await
                .map_err(Error::db("count destination rows"))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Closes the connections.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// One value read from SQLite, typed for PostgreSQL.
enum Value {
    Text(Option<String>),
    Int(Option<i64>),
    Real(Option<f64>),
    Bool(Option<bool>),
    Instant(Option<DateTime<Utc>>),
}

fn read_value(row: &SqliteRow, table: &'static str, (col, _, kind): &Column) -> Result<Value> {
    let corrupt = |e: sqlx::Error| Error::corrupt(table, format!("{col}: {e}"));
    Ok(match kind {
        Kind::Uuid | Kind::Text | Kind::Json => {
            Value::Text(row.try_get::<Option<String>, _>(*col).map_err(corrupt)?)
        }
        Kind::Int => Value::Int(row.try_get(*col).map_err(corrupt)?),
        Kind::Real => Value::Real(row.try_get(*col).map_err(corrupt)?),
        Kind::Bool => Value::Bool(
            row.try_get::<Option<i64>, _>(*col)
                .map_err(corrupt)?
                .map(|v| v != 0),
        ),
        Kind::Instant => Value::Instant(
            row.try_get::<Option<i64>, _>(*col)
                .map_err(corrupt)?
                .map(|us| {
                    DateTime::from_timestamp_micros(us).ok_or_else(|| {
                        Error::corrupt(table, format!("{col}: instant {us} out of range"))
                    })
                })
                .transpose()?,
        ),
    })
}

/// Copies every table of `source` into `destination` in one transaction. Rows already there
/// and equal are left alone; rows that differ take the source's values.
///
/// # Errors
/// [`Error::Refused`] when the destination holds rows the source does not (nothing is
/// written then); database errors, such as a role that does not own the tables (it must,
/// to switch their triggers off for the copy).
pub async fn copy_catalog(
    source: &SqliteSource,
    destination: &PgDestination,
) -> Result<CatalogCopy> {
    let mut tx = destination
        .pool
        .begin()
        .await
        .map_err(Error::db("begin copy"))?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(COPY_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(Error::db("take copy lock"))?;
    for table in TRIGGERED {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER TABLE {table} DISABLE TRIGGER USER"
        )))
        .execute(&mut *tx)
        .await
        .map_err(Error::db("switch triggers off for the copy"))?;
    }

    // An empty catalog opened by a process got a default account of its own: the source's
    // takes its place while nothing refers to it.
    let source_default = source.default_account().await?;
    let replaced = sqlx::query(
        "DELETE FROM accounts a
         WHERE a.is_default AND a.id::text IS DISTINCT FROM $1
           AND NOT EXISTS (SELECT 1 FROM upload_sets u WHERE u.account_id = a.id)
           AND NOT EXISTS (SELECT 1 FROM pictures p WHERE p.account_id = a.id)
           AND NOT EXISTS (SELECT 1 FROM sequences s WHERE s.account_id = a.id)",
    )
    .bind(source_default)
    .execute(&mut *tx)
    .await
    .map_err(Error::db("replace unused default account"))?
    .rows_affected()
        > 0;

    let mut tables = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let written = copy_table(source, &mut tx, table).await?;
        let rows = source.count(table.name).await?;
        let there: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM {}",
            table.name
        )))
        .fetch_one(&mut *tx)
        .await
        .map_err(Error::db("count copied rows"))?;
        if u64::try_from(there).unwrap_or(0) != rows {
            // Dropping the transaction rolls it back.
            return Err(Error::Refused(format!(
                "the destination catalog holds {there} rows in {} where the source has \
                 {rows}: it holds data of another instance; nothing was written",
                table.name
            )));
        }
        tables.push(TableCopy {
            table: table.name,
            rows,
            written,
        });
    }

    let copied = CatalogCopy {
        tables,
        replaced_default_account: replaced,
    };
    if copied.written() > 0 || replaced {
        // Jobs keep their ids: the next one queued takes the one after the last.
        sqlx::query(
            "SELECT setval(pg_get_serial_sequence('jobs', 'id'),
                           greatest((SELECT max(id) FROM jobs), 1))",
        )
        .execute(&mut *tx)
        .await
        .map_err(Error::db("move job ids on"))?;
        // The map is drawn again from the copied rows, and tiles cached anywhere are stale.
        sqlx::raw_sql(
            "INSERT INTO map_sequences_stale (sequence_id) SELECT id FROM sequences;
             SELECT data_version_move();",
        )
        .execute(&mut *tx)
        .await
        .map_err(Error::db("mark the map for redrawing"))?;
    }
    for table in TRIGGERED {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER TABLE {table} ENABLE TRIGGER USER"
        )))
        .execute(&mut *tx)
        .await
        .map_err(Error::db("switch triggers back on"))?;
    }
    tx.commit().await.map_err(Error::db("commit copy"))?;
    Ok(copied)
}

/// Upserts every row of one table; returns how many were new or different.
async fn copy_table(
    source: &SqliteSource,
    tx: &mut sqlx::Transaction<'_, Postgres>,
    table: &Table,
) -> Result<u64> {
    let select = format!(
        "SELECT {} FROM {} ORDER BY {}",
        table
            .columns
            .iter()
            .map(|c| c.0)
            .collect::<Vec<_>>()
            .join(", "),
        table.name,
        table
            .columns
            .iter()
            .filter(|c| table.key.contains(&c.1))
            .map(|c| c.0)
            .collect::<Vec<_>>()
            .join(", "),
    );
    let mut rows = sqlx::query(sqlx::AssertSqlSafe(select)).fetch(&source.pool);
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    let mut written = 0;
    while let Some(row) = rows
        .try_next()
        .await
        .map_err(Error::db("read source rows"))?
    {
        let values = table
            .columns
            .iter()
            .map(|c| read_value(&row, table.name, c))
            .collect::<Result<Vec<_>>>()?;
        batch.push(values);
        if batch.len() == BATCH_ROWS {
            written += upsert(tx, table, std::mem::take(&mut batch)).await?;
        }
    }
    if !batch.is_empty() {
        written += upsert(tx, table, batch).await?;
    }
    Ok(written)
}

async fn upsert(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    table: &Table,
    batch: Vec<Vec<Value>>,
) -> Result<u64> {
    let names: Vec<&str> = table.columns.iter().map(|c| c.1).collect();
    let mut sql = QueryBuilder::<Postgres>::new(format!(
        "INSERT INTO {} ({}) ",
        table.name,
        names.join(", ")
    ));
    if table.name == "jobs" {
        sql.push("OVERRIDING SYSTEM VALUE ");
    }
    sql.push_values(batch, |mut row, values| {
        for (value, (_, name, kind)) in values.into_iter().zip(table.columns) {
            if table.cleared.contains(name) {
                row.push("NULL");
                continue;
            }
            match value {
                Value::Text(v) => {
                    row.push_bind(v);
                    match kind {
                        Kind::Uuid => row.push_unseparated("::uuid"),
                        Kind::Json => row.push_unseparated("::jsonb"),
                        _ => row.push_unseparated("::text"),
                    };
                }
                Value::Int(v) => {
                    row.push_bind(v);
                }
                Value::Real(v) => {
                    row.push_bind(v);
                }
                Value::Bool(v) => {
                    row.push_bind(v);
                }
                Value::Instant(v) => {
                    row.push_bind(v);
                }
            }
        }
    });
    let rest: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| !table.key.contains(n))
        .collect();
    if rest.is_empty() {
        sql.push(" ON CONFLICT DO NOTHING");
    } else {
        let set = rest
            .iter()
            .map(|n| format!("{n} = EXCLUDED.{n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let old = rest
            .iter()
            .map(|n| format!("{}.{n}", table.name))
            .collect::<Vec<_>>()
            .join(", ");
        let new = rest
            .iter()
            .map(|n| format!("EXCLUDED.{n}"))
            .collect::<Vec<_>>()
            .join(", ");
        sql.push(format!(
            " ON CONFLICT ({}) DO UPDATE SET {set} WHERE ROW({old}) IS DISTINCT FROM ROW({new})",
            table.key.join(", ")
        ));
    }
    let done = sql
        .build()
        .execute(&mut **tx)
        .await
        .map_err(Error::db("copy rows"))?;
    Ok(done.rows_affected())
}
