//! Pages in the SQLite catalog.

use chrono::{DateTime, Utc};
use sqlx::SqlitePool;
use sqlx::sqlite::SqliteRow;

use super::codec::{from_micros, get, to_micros};
use crate::page::PageText;
use crate::{Error, Result};

fn text_from_row(row: &SqliteRow) -> Result<PageText> {
    const T: &str = "pages";
    Ok(PageText {
        lang: get(row, T, "lang")?,
        content: get(row, T, "content")?,
        updated_at: from_micros(get(row, T, "updated_at")?),
        change_published_at: get::<Option<i64>>(row, T, "change_published_at")?.map(from_micros),
    })
}

pub(super) async fn page_texts(pool: &SqlitePool, name: &str) -> Result<Vec<PageText>> {
    let rows = sqlx::query(
        "SELECT lang, content, updated_at, change_published_at FROM pages WHERE name = ?
         ORDER BY lang",
    )
    .bind(name)
    .fetch_all(pool)
    .await
    .map_err(Error::db("read page"))?;
    rows.iter().map(text_from_row).collect()
}

pub(super) async fn page_names(pool: &SqlitePool) -> Result<Vec<String>> {
    sqlx::query_scalar("SELECT DISTINCT name FROM pages ORDER BY name")
        .fetch_all(pool)
        .await
        .map_err(Error::db("list pages"))
}

/// Saves a text; a new language of a page that had an announced change shares it, so that
/// adding a translation does not ask everyone to read again.
pub(super) async fn save_page(
    pool: &SqlitePool,
    name: &str,
    lang: &str,
    content: &str,
) -> Result<()> {
    let mut tx = super::begin_write(pool)
        .await
        .map_err(Error::db("begin page save"))?;
    sqlx::query(
        "INSERT INTO pages (name, lang, content, updated_at, change_published_at)
         VALUES (?1, ?2, ?3, ?4,
                 (SELECT max(change_published_at) FROM pages WHERE name = ?1))
         ON CONFLICT (name, lang) DO UPDATE SET content = excluded.content,
             updated_at = excluded.updated_at",
    )
    .bind(name)
    .bind(lang)
    .bind(content)
    .bind(to_micros(Utc::now()))
    .execute(&mut *tx)
    .await
    .map_err(Error::db("save page"))?;
    tx.commit().await.map_err(Error::db("commit page save"))
}

pub(super) async fn delete_page(pool: &SqlitePool, name: &str, lang: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM pages WHERE name = ? AND lang = ?")
        .bind(name)
        .bind(lang)
        .execute(pool)
        .await
        .map_err(Error::db("delete page"))?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn publish_page_change(
    pool: &SqlitePool,
    name: &str,
    at: DateTime<Utc>,
) -> Result<bool> {
    let done = sqlx::query("UPDATE pages SET change_published_at = ? WHERE name = ?")
        .bind(to_micros(at))
        .bind(name)
        .execute(pool)
        .await
        .map_err(Error::db("publish page change"))?;
    Ok(done.rows_affected() > 0)
}
