//! Annotations in the PostgreSQL catalog: each change is read, applied to the tags in memory
//! and written as the difference, in one transaction holding its picture's row, so that two
//! changes of one picture's annotations wait for each other and the same shape is never made
//! twice. The picture is locked before anything of its annotations, as deletions of pictures
//! lock it before their cascade reaches them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use flaneur_model::{
    Annotation, AnnotationId, NewAnnotation, PictureId, SemanticTag, Shape, TagChange,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use super::codec::{get, stored};
use crate::annotation::{AnnotationOutcome, apply_changes};
use crate::{Error, Result};

pub(super) async fn annotate(
    pool: &PgPool,
    new: &NewAnnotation,
    changes: &[TagChange],
) -> Result<AnnotationOutcome> {
    let shape = new.shape.to_text();
    let mut tx = pool.begin().await.map_err(Error::db("annotate picture"))?;
    if !lock_picture(&mut tx, new.picture_id.0).await? {
        return Ok(AnnotationOutcome::Missing);
    }
    super::federation::refuse_remote_rows(&mut tx, Some(new.picture_id), None).await?;

    // The annotation of the same shape takes the change; else a new one, unless it would
    // have no tag.
    let same_shape: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM annotations WHERE picture_id = $1 AND md5(shape) = md5($2)
             AND shape = $2",
    )
    .bind(new.picture_id.0)
    .bind(&shape)
    .fetch_optional(&mut *tx)
    .await
    .map_err(Error::db("annotate picture"))?;
    let outcome = match same_shape {
        Some(id) => retag(&mut tx, id, changes).await?,
        None => {
            if apply_changes(&[], changes).is_empty() {
                return Ok(AnnotationOutcome::Emptied);
            }
            let now = stored(Utc::now());
            let made = sqlx::query(
                "INSERT INTO annotations (id, picture_id, shape, account_id, created_at,
                     updated_at)
                 VALUES ($1, $2, $3, $4, $5, $5)
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(new.id.0)
            .bind(new.picture_id.0)
            .bind(&shape)
            .bind(new.account_id.0)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("annotate picture"))?;
            if made.rows_affected() == 0 {
                return Ok(AnnotationOutcome::IdTaken);
            }
            retag(&mut tx, new.id.0, changes).await?
        }
    };
    tx.commit().await.map_err(Error::db("annotate picture"))?;
    Ok(outcome)
}

pub(super) async fn edit_annotation(
    pool: &PgPool,
    id: AnnotationId,
    changes: &[TagChange],
) -> Result<AnnotationOutcome> {
    let mut tx = pool.begin().await.map_err(Error::db("edit annotation"))?;
    if !lock_picture_of(&mut tx, id.0).await? {
        return Ok(AnnotationOutcome::Missing);
    }
    let outcome = retag(&mut tx, id.0, changes).await?;
    tx.commit().await.map_err(Error::db("edit annotation"))?;
    Ok(outcome)
}

pub(super) async fn delete_annotation(pool: &PgPool, id: AnnotationId) -> Result<bool> {
    let mut tx = pool.begin().await.map_err(Error::db("delete annotation"))?;
    if !lock_picture_of(&mut tx, id.0).await? {
        return Ok(false);
    }
    let done = sqlx::query("DELETE FROM annotations WHERE id = $1")
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(Error::db("delete annotation"))?;
    tx.commit().await.map_err(Error::db("delete annotation"))?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn annotation(pool: &PgPool, id: AnnotationId) -> Result<Option<Annotation>> {
    let mut conn = pool.acquire().await.map_err(Error::db("read annotation"))?;
    read(&mut conn, id.0).await
}

pub(super) async fn picture_annotations(
    pool: &PgPool,
    ids: &[PictureId],
) -> Result<HashMap<PictureId, Vec<Annotation>>> {
    let ids: Vec<Uuid> = ids.iter().map(|p| p.0).collect();
    let rows = sqlx::query(
        "SELECT a.*, t.key, t.value FROM annotations a
         JOIN annotation_semantics t ON t.annotation_id = a.id
         WHERE a.picture_id = ANY ($1)
         ORDER BY a.picture_id, a.created_at, a.id, t.key, t.value",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await
    .map_err(Error::db("read annotations"))?;
    let mut out: HashMap<PictureId, Vec<Annotation>> = HashMap::new();
    for annotation in gather(&rows)? {
        out.entry(annotation.picture_id)
            .or_default()
            .push(annotation);
    }
    Ok(out)
}

/// Locks a picture's row; `false` when there is no such picture.
async fn lock_picture(conn: &mut PgConnection, picture: Uuid) -> Result<bool> {
    let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pictures WHERE id = $1 FOR UPDATE")
        .bind(picture)
        .fetch_optional(&mut *conn)
        .await
        .map_err(Error::db("lock annotated picture"))?;
    Ok(found.is_some())
}

/// Locks the picture of an annotation; `false` when there is no such annotation, or it went
/// with its picture meanwhile.
async fn lock_picture_of(conn: &mut PgConnection, id: Uuid) -> Result<bool> {
    let picture: Option<Uuid> =
        sqlx::query_scalar("SELECT picture_id FROM annotations WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(Error::db("read annotation"))?;
    match picture {
        Some(picture) => lock_picture(conn, picture).await,
        None => Ok(false),
    }
}

/// Applies `changes` to the tags of annotation `id`, deleting it when none is left.
async fn retag(
    conn: &mut PgConnection,
    id: Uuid,
    changes: &[TagChange],
) -> Result<AnnotationOutcome> {
    let Some(current) = read(conn, id).await? else {
        return Ok(AnnotationOutcome::Missing);
    };
    let tags = apply_changes(&current.semantics, changes);
    if tags.is_empty() {
        sqlx::query("DELETE FROM annotations WHERE id = $1")
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
            "DELETE FROM annotation_semantics WHERE annotation_id = $1 AND key = $2
                 AND value = $3",
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
            "INSERT INTO annotation_semantics (annotation_id, key, value) VALUES ($1, $2, $3)",
        )
        .bind(id)
        .bind(&added.key)
        .bind(&added.value)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("write annotation tag"))?;
    }
    sqlx::query("UPDATE annotations SET updated_at = greatest($1, updated_at) WHERE id = $2")
        .bind(stored(Utc::now()))
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
async fn read(conn: &mut PgConnection, id: Uuid) -> Result<Option<Annotation>> {
    let rows = sqlx::query(
        "SELECT a.*, t.key, t.value FROM annotations a
         LEFT JOIN annotation_semantics t ON t.annotation_id = a.id
         WHERE a.id = $1 ORDER BY t.key, t.value",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::db("read annotation"))?;
    Ok(gather(&rows)?.into_iter().next())
}

/// Annotations from rows of an annotation and one of its tags each (`NULL` for none), the
/// rows of one annotation next to each other.
fn gather(rows: &[PgRow]) -> Result<Vec<Annotation>> {
    let t = "annotations";
    let mut out: Vec<Annotation> = Vec::new();
    for row in rows {
        let id = AnnotationId(get(row, t, "id")?);
        if out.last().is_none_or(|a| a.id != id) {
            let shape: String = get(row, t, "shape")?;
            out.push(Annotation {
                id,
                picture_id: PictureId(get(row, t, "picture_id")?),
                shape: Shape::from_text(&shape)
                    .ok_or_else(|| Error::corrupt(t, format!("shape: {shape}")))?,
                account_id: flaneur_model::AccountId(get(row, t, "account_id")?),
                created_at: get::<DateTime<Utc>>(row, t, "created_at")?,
                updated_at: get::<DateTime<Utc>>(row, t, "updated_at")?,
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
