//! Annotations in the SQLite catalog: each change is read, applied to the tags in memory and
//! written as the difference, in one write transaction, so that a change that alters nothing
//! writes nothing and moves no `updated_at`. The picture's and its sequence's `updated_at`
//! follow through the schema's triggers.

use std::collections::HashMap;

use chrono::Utc;
use flaneur_model::{
    AccountId, Annotation, AnnotationId, NewAnnotation, PictureId, SemanticTag, Shape, TagChange,
};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool};

use super::codec::{from_micros, get, parse_col, to_micros};
use crate::annotation::{AnnotationOutcome, apply_changes};
use crate::{Error, Result};

pub(super) async fn annotate(
    pool: &SqlitePool,
    new: &NewAnnotation,
    changes: &[TagChange],
) -> Result<AnnotationOutcome> {
    let picture = new.picture_id.to_string();
    let shape = new.shape.to_text();
    let mut tx = super::begin_write(pool)
        .await
        .map_err(Error::db("annotate picture"))?;
    let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM pictures WHERE id = ?")
        .bind(&picture)
        .fetch_optional(&mut *tx)
        .await
        .map_err(Error::db("annotate picture"))?;
    if exists.is_none() {
        return Ok(AnnotationOutcome::Missing);
    }
    super::federation::refuse_remote_rows(&mut tx, Some(&picture), None).await?;

    // The annotation of the same shape takes the change; else a new one, unless it would
    // have no tag.
    let same_shape: Option<String> =
        sqlx::query_scalar("SELECT id FROM annotations WHERE picture_id = ? AND shape = ?")
            .bind(&picture)
            .bind(&shape)
            .fetch_optional(&mut *tx)
            .await
            .map_err(Error::db("annotate picture"))?;
    let outcome = match same_shape {
        Some(id) => retag(&mut tx, &id, changes).await?,
        None => {
            if apply_changes(&[], changes).is_empty() {
                return Ok(AnnotationOutcome::Emptied);
            }
            let id = new.id.to_string();
            let taken: Option<i64> = sqlx::query_scalar("SELECT 1 FROM annotations WHERE id = ?")
                .bind(&id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(Error::db("annotate picture"))?;
            if taken.is_some() {
                return Ok(AnnotationOutcome::IdTaken);
            }
            let now = to_micros(Utc::now());
            sqlx::query(
                "INSERT INTO annotations (id, picture_id, shape, account_id, created_at,
                     updated_at)
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(&id)
            .bind(&picture)
            .bind(&shape)
            .bind(new.account_id.to_string())
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("annotate picture"))?;
            retag(&mut tx, &id, changes).await?
        }
    };
    tx.commit().await.map_err(Error::db("annotate picture"))?;
    Ok(outcome)
}

pub(super) async fn edit_annotation(
    pool: &SqlitePool,
    id: AnnotationId,
    changes: &[TagChange],
) -> Result<AnnotationOutcome> {
    let mut tx = super::begin_write(pool)
        .await
        .map_err(Error::db("edit annotation"))?;
    let outcome = retag(&mut tx, &id.to_string(), changes).await?;
    tx.commit().await.map_err(Error::db("edit annotation"))?;
    Ok(outcome)
}

pub(super) async fn delete_annotation(pool: &SqlitePool, id: AnnotationId) -> Result<bool> {
    let done = sqlx::query("DELETE FROM annotations WHERE id = ?")
        .bind(id.to_string())
        .execute(pool)
        .await
        .map_err(Error::db("delete annotation"))?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn annotation(pool: &SqlitePool, id: AnnotationId) -> Result<Option<Annotation>> {
    let mut conn = pool.acquire().await.map_err(Error::db("read annotation"))?;
    read(&mut conn, &id.to_string()).await
}

pub(super) async fn picture_annotations(
    pool: &SqlitePool,
    ids: &[PictureId],
) -> Result<HashMap<PictureId, Vec<Annotation>>> {
    let mut out: HashMap<PictureId, Vec<Annotation>> = HashMap::new();
    // SQLite takes at most 32766 bound values; pages are far smaller, lists are cut anyway.
    for chunk in ids.chunks(10_000) {
        let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(
            "SELECT a.*, t.key, t.value FROM annotations a
             JOIN annotation_semantics t ON t.annotation_id = a.id
             WHERE a.picture_id IN (",
        );
        let mut list = sql.separated(", ");
        for id in chunk {
            list.push_bind(id.to_string());
        }
        sql.push(") ORDER BY a.picture_id, a.created_at, a.id, t.key, t.value");
        let rows = sql
            .build()
            .fetch_all(pool)
            .await
            .map_err(Error::db("read annotations"))?;
        for annotation in gather(&rows)? {
            out.entry(annotation.picture_id)
                .or_default()
                .push(annotation);
        }
    }
    Ok(out)
}

/// Applies `changes` to the tags of annotation `id`, deleting it when none is left.
async fn retag(
    conn: &mut SqliteConnection,
    id: &str,
    changes: &[TagChange],
) -> Result<AnnotationOutcome> {
    let Some(current) = read(conn, id).await? else {
        return Ok(AnnotationOutcome::Missing);
    };
    let tags = apply_changes(&current.semantics, changes);
    if tags.is_empty() {
        sqlx::query("DELETE FROM annotations WHERE id = ?")
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(Error::db("delete annotation"))?;
        return Ok(AnnotationOutcome::Emptied);
    }
    if tags == current.semantics {
        return Ok(AnnotationOutcome::Tagged(current));
    }

    for gone in current.semantics.iter().filter(|t| !tags.contains(t)) {
        sqlx::query(
            "DELETE FROM annotation_semantics WHERE annotation_id = ? AND key = ? AND value = ?",
        )
        .bind(id)
        .bind(&gone.key)
        .bind(&gone.value)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("write annotation tag"))?;
    }
    for added in tags.iter().filter(|t| !current.semantics.contains(t)) {
        sqlx::query(
            "INSERT INTO annotation_semantics (annotation_id, key, value) VALUES (?, ?, ?)",
        )
        .bind(id)
        .bind(&added.key)
        .bind(&added.value)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("write annotation tag"))?;
    }
    sqlx::query("UPDATE annotations SET updated_at = max(?, updated_at) WHERE id = ?")
        .bind(to_micros(Utc::now()))
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("edit annotation"))?;
    match read(conn, id).await? {
        Some(annotation) => Ok(AnnotationOutcome::Tagged(annotation)),
        None => Err(Error::corrupt(
            "annotations",
            "annotation vanished while written",
        )),
    }
}

/// One annotation with its tags; one just made has none yet.
async fn read(conn: &mut SqliteConnection, id: &str) -> Result<Option<Annotation>> {
    let rows = sqlx::query(
        "SELECT a.*, t.key, t.value FROM annotations a
         LEFT JOIN annotation_semantics t ON t.annotation_id = a.id
         WHERE a.id = ? ORDER BY t.key, t.value",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::db("read annotation"))?;
    Ok(gather(&rows)?.into_iter().next())
}

/// Annotations from rows of an annotation and one of its tags each (`NULL` for none), the
/// rows of one annotation next to each other.
fn gather(rows: &[SqliteRow]) -> Result<Vec<Annotation>> {
    let t = "annotations";
    let mut out: Vec<Annotation> = Vec::new();
    for row in rows {
        let id: AnnotationId = parse_col(row, t, "id")?;
        if out.last().is_none_or(|a| a.id != id) {
            let shape: String = get(row, t, "shape")?;
            out.push(Annotation {
                id,
                picture_id: parse_col(row, t, "picture_id")?,
                shape: Shape::from_text(&shape)
                    .ok_or_else(|| Error::corrupt(t, format!("shape: {shape}")))?,
                account_id: parse_col::<AccountId>(row, t, "account_id")?,
                created_at: from_micros(get(row, t, "created_at")?),
                updated_at: from_micros(get(row, t, "updated_at")?),
                semantics: Vec::new(),
            });
        }
        let key: Option<String> = row.try_get("key").map_err(|e| Error::corrupt(t, e))?;
        let value: Option<String> = row.try_get("value").map_err(|e| Error::corrupt(t, e))?;
        if let (Some(key), Some(value), Some(annotation)) = (key, value, out.last_mut()) {
            annotation.semantics.push(SemanticTag { key, value });
        }
    }
    Ok(out)
}
