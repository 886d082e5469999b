//! Upload sets and their files, including the insertion of accepted pictures.
//!
//! Several processes write at once, so each write to an upload set's files first locks the
//! upload set's row: the checks of a name already taken and the count of received files then
//! see every earlier write to that set. Bytes already received are checked under a lock on
//! their checksum, since the same bytes may arrive in two sets at the same time.

use chrono::Utc;
use flaneur_model::{
    FileRejection, ItemsStatus, JobKind, NewPicture, NewUploadSet, PictureId, RejectionReason,
    UploadFile, UploadSet, UploadSetId,
};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::codec::{get, json_col, stored};
use super::job;
use crate::catalog::InsertOutcome;
use crate::{Error, Result};

/// First key of the advisory locks taken on a picture checksum (the second is its hash).
const CHECKSUM_LOCK: i32 = 0x666c_6e01;

fn upload_set_from_row(row: &PgRow) -> Result<UploadSet> {
    let t = "upload_sets";
    Ok(UploadSet {
        id: get::<Uuid>(row, t, "id")?.into(),
        spec: json_col(row, t, "spec")?,
        created_at: get(row, t, "created_at")?,
        completed: get(row, t, "completed")?,
        dispatched: get(row, t, "dispatched")?,
    })
}

pub(super) async fn create_upload_set(pool: &PgPool, spec: NewUploadSet) -> Result<UploadSet> {
    let set = UploadSet {
        id: UploadSetId::new(),
        spec,
        created_at: Utc::now(),
        completed: false,
        dispatched: false,
    };
    sqlx::query(
        "INSERT INTO upload_sets (id, account_id, title, created_at, spec)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(set.id.0)
    .bind(set.spec.account_id.0)
    .bind(&set.spec.title)
    .bind(stored(set.created_at))
    .bind(Json(&set.spec))
    .execute(pool)
    .await
    .map_err(Error::db("create upload set"))?;
    Ok(set)
}

pub(super) async fn upload_set(pool: &PgPool, id: UploadSetId) -> Result<Option<UploadSet>> {
    let row = sqlx::query("SELECT * FROM upload_sets WHERE id = $1")
        .bind(id.0)
        .fetch_optional(pool)
        .await
        .map_err(Error::db("read upload set"))?;
    row.as_ref().map(upload_set_from_row).transpose()
}

fn file_from_row(row: &PgRow) -> Result<UploadFile> {
    let t = "files";
    let reason: Option<String> = get(row, t, "rejection_reason")?;
    let rejection = match reason {
        Some(reason) => {
            let details: Option<Json<serde_json::Value>> = get(row, t, "rejection_details")?;
            Some(FileRejection {
                reason: reason.parse().map_err(|e| Error::corrupt(t, e))?,
                message: get(row, t, "rejection_message")?,
                details: details.map(|Json(d)| d),
            })
        }
        None => None,
    };
    let size: Option<i64> = get(row, t, "size_bytes")?;
    Ok(UploadFile {
        upload_set_id: get::<Uuid>(row, t, "upload_set_id")?.into(),
        file_name: get(row, t, "file_name")?,
        size_bytes: size.and_then(|s| u64::try_from(s).ok()),
        content_md5: get(row, t, "content_md5")?,
        picture_id: get::<Option<Uuid>>(row, t, "picture_id")?.map(Into::into),
        inserted_at: get(row, t, "inserted_at")?,
        rejection,
    })
}

pub(super) async fn upload_set_files(pool: &PgPool, id: UploadSetId) -> Result<Vec<UploadFile>> {
    // Files received at the same instant come by name, as in every catalog.
    let rows =
        sqlx::query("SELECT * FROM files WHERE upload_set_id = $1 ORDER BY inserted_at, file_name")
            .bind(id.0)
            .fetch_all(pool)
            .await
            .map_err(Error::db("list upload set files"))?;
    rows.iter().map(file_from_row).collect()
}

pub(super) async fn upload_set_items_status(pool: &PgPool, id: UploadSetId) -> Result<ItemsStatus> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status, count(*) FROM pictures WHERE upload_set_id = $1 GROUP BY status",
    )
    .bind(id.0)
    .fetch_all(pool)
    .await
    .map_err(Error::db("count upload set pictures"))?;
    let mut status = super::sequence::items_status_from_counts(&rows);
    status.rejected = sqlx::query_scalar(
        "SELECT count(*) FROM files WHERE upload_set_id = $1 AND rejection_reason IS NOT NULL",
    )
    .bind(id.0)
    .fetch_one(pool)
    .await
    .map_err(Error::db("count rejected files"))?;
    Ok(status)
}

/// The error of a write to an upload set that no longer exists: another request or process
/// deleted it while a file was on its way.
pub(super) fn missing_upload_set(id: UploadSetId) -> Error {
    Error::NotFound {
        kind: "upload set",
        id: id.to_string(),
    }
}

/// Locks an upload set's row until the end of the transaction; returns whether it exists.
pub(super) async fn lock_upload_set(conn: &mut PgConnection, id: UploadSetId) -> Result<bool> {
    let row: Option<(Uuid,)> =
        sqlx::query_as("SELECT id FROM upload_sets WHERE id = $1 FOR UPDATE")
            .bind(id.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(Error::db("lock upload set"))?;
    Ok(row.is_some())
}

/// Locks the rows of an upload set's pictures until the end of the transaction, in one order.
///
/// Writes lock pictures before sequences: a picture's change moves its sequences'
/// `updated_at` (a trigger), so a worker changing a picture holds it, then its sequence. A
/// write to the set's sequences and pictures takes every picture first, or it could hold a
/// sequence that such a worker waits for while waiting for that worker's picture.
pub(super) async fn lock_upload_set_pictures(
    conn: &mut PgConnection,
    id: UploadSetId,
) -> Result<()> {
    sqlx::query("SELECT id FROM pictures WHERE upload_set_id = $1 ORDER BY id FOR UPDATE")
        .bind(id.0)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("lock upload set pictures"))?;
    Ok(())
}

pub(super) async fn complete_upload_set(
    pool: &PgPool,
    id: UploadSetId,
) -> Result<Option<UploadSet>> {
    let mut tx = pool
        .begin()
        .await
        .map_err(Error::db("complete upload set"))?;
    let row = sqlx::query(
        "UPDATE upload_sets SET completed = true, dispatched = false WHERE id = $1 RETURNING *",
    )
    .bind(id.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(Error::db("complete upload set"))?;
    let Some(row) = row else {
        return Ok(None);
    };
    job::enqueue(&mut tx, JobKind::Dispatch, &id.to_string()).await?;
    let set = upload_set_from_row(&row)?;
    tx.commit()
        .await
        .map_err(Error::db("complete upload set"))?;
    Ok(Some(set))
}

pub(super) async fn delete_upload_set(pool: &PgPool, id: UploadSetId) -> Result<bool> {
    let mut tx = pool.begin().await.map_err(Error::db("delete upload set"))?;
    if !lock_upload_set(&mut tx, id).await? {
        return Ok(false);
    }
    lock_upload_set_pictures(&mut tx, id).await?;

    // 1. Sequences become tombstones, so harvesters learn they are gone.
    sqlx::query(
        "UPDATE sequences SET status = 'deleted', nb_pictures = 0 WHERE upload_set_id = $1",
    )
    .bind(id.0)
    .execute(&mut *tx)
    .await
    .map_err(Error::db("delete upload set sequences"))?;

    // 2. Each picture's files are removed by a job; the rows go now, with their pending
    //    processing jobs.
    let pictures: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM pictures WHERE upload_set_id = $1")
            .bind(id.0)
            .fetch_all(&mut *tx)
            .await
            .map_err(Error::db("delete upload set pictures"))?;
    for picture in pictures {
        let target = picture.to_string();
        job::enqueue(&mut tx, JobKind::DeleteFiles, &target).await?;
        sqlx::query("DELETE FROM jobs WHERE kind = 'prepare' AND target = $1")
            .bind(&target)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("delete upload set jobs"))?;
        delete_picture_row(&mut tx, picture.into()).await?;
    }

    // 3. The set itself; its file rows go with it.
    sqlx::query("DELETE FROM jobs WHERE kind = 'dispatch' AND target = $1")
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(Error::db("delete upload set jobs"))?;
    sqlx::query("DELETE FROM upload_sets WHERE id = $1")
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(Error::db("delete upload set"))?;
    tx.commit().await.map_err(Error::db("delete upload set"))?;
    Ok(true)
}

/// Deletes a picture row; its ranks and tags go with it.
pub(super) async fn delete_picture_row(conn: &mut PgConnection, id: PictureId) -> Result<()> {
    sqlx::query("DELETE FROM pictures WHERE id = $1")
        .bind(id.0)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("delete picture"))?;
    Ok(())
}

/// Inserts or replaces a file row.
async fn upsert_file(conn: &mut PgConnection, file: &UploadFile) -> Result<()> {
    let (reason, message, details) = match &file.rejection {
        Some(r) => (
            Some(r.reason.as_str()),
            Some(r.message.as_str()),
            r.details.as_ref().map(Json),
        ),
        None => (None, None, None),
    };
    sqlx::query(
        "INSERT INTO files (upload_set_id, file_name, size_bytes, content_md5, picture_id,
             inserted_at, rejection_reason, rejection_message, rejection_details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (upload_set_id, file_name) DO UPDATE SET
             size_bytes = excluded.size_bytes, content_md5 = excluded.content_md5,
             picture_id = excluded.picture_id, inserted_at = excluded.inserted_at,
             rejection_reason = excluded.rejection_reason,
             rejection_message = excluded.rejection_message,
             rejection_details = excluded.rejection_details",
    )
    .bind(file.upload_set_id.0)
    .bind(&file.file_name)
    .bind(file.size_bytes.and_then(|s| i64::try_from(s).ok()))
    .bind(&file.content_md5)
    .bind(file.picture_id.map(|p| p.0))
    .bind(stored(file.inserted_at))
    .bind(reason)
    .bind(message)
    .bind(details)
    .execute(&mut *conn)
    .await
    .map_err(Error::db("record file"))?;
    Ok(())
}

/// After a new file: an upload set with an expected file count completes when that many files
/// arrived (refused ones included), and a completed set that gets one more file reopens, as on
/// Panoramax instances. Completion queues the dispatch. The caller holds the set's lock.
async fn update_completion(conn: &mut PgConnection, id: UploadSetId) -> Result<()> {
    let (completed, estimated): (bool, Option<i64>) = sqlx::query_as(
        "SELECT completed, (spec ->> 'estimated_nb_files')::bigint FROM upload_sets
         WHERE id = $1",
    )
    .bind(id.0)
    .fetch_one(&mut *conn)
    .await
    .map_err(Error::db("read upload set completion"))?;
    let received: i64 = sqlx::query_scalar("SELECT count(*) FROM files WHERE upload_set_id = $1")
        .bind(id.0)
        .fetch_one(&mut *conn)
        .await
        .map_err(Error::db("count files"))?;

    // Exactly the expected count, as on Panoramax instances: a client that sends more files
    // than it announced completes the set itself.
    let now_complete = !completed && estimated.is_some_and(|e| received == e);
    sqlx::query("UPDATE upload_sets SET completed = $1 WHERE id = $2")
        .bind(now_complete)
        .bind(id.0)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("update upload set completion"))?;
    if now_complete {
        job::enqueue(conn, JobKind::Dispatch, &id.to_string()).await?;
    }
    Ok(())
}

/// Records a refused file inside a transaction. The file row never names a picture: the one
/// it would name belongs to someone else.
async fn reject_in(
    conn: &mut PgConnection,
    mut file: UploadFile,
    rejection: FileRejection,
) -> Result<()> {
    file.picture_id = None;
    file.rejection = Some(rejection);
    upsert_file(conn, &file).await?;
    update_completion(conn, file.upload_set_id).await
}

/// The file row of that name in that set, when it holds an accepted picture.
async fn accepted_file_picture(
    conn: &mut PgConnection,
    file: &UploadFile,
) -> Result<Option<Option<Uuid>>> {
    let row: Option<(Option<Uuid>,)> = sqlx::query_as(
        "SELECT picture_id FROM files
         WHERE upload_set_id = $1 AND file_name = $2 AND rejection_reason IS NULL",
    )
    .bind(file.upload_set_id.0)
    .bind(&file.file_name)
    .fetch_optional(&mut *conn)
    .await
    .map_err(Error::db("look up file name"))?;
    Ok(row.map(|(p,)| p))
}

pub(super) async fn record_rejection(pool: &PgPool, file: UploadFile) -> Result<()> {
    let mut tx = pool.begin().await.map_err(Error::db("record rejection"))?;
    if !lock_upload_set(&mut tx, file.upload_set_id).await? {
        return Err(missing_upload_set(file.upload_set_id));
    }
    // A refusal never hides an accepted file of the same name.
    if accepted_file_picture(&mut tx, &file).await?.is_some() {
        return Ok(());
    }
    upsert_file(&mut tx, &file).await?;
    update_completion(&mut tx, file.upload_set_id).await?;
    tx.commit().await.map_err(Error::db("record rejection"))
}

pub(super) async fn insert_picture(
    pool: &PgPool,
    picture: NewPicture,
    file: UploadFile,
) -> Result<InsertOutcome> {
    crate::catalog::refuse_other_upload_set(&picture, &file)?;
    let mut tx = pool.begin().await.map_err(Error::db("insert picture"))?;

    // 1. Refuse what would repeat or overwrite, under locks so that concurrent uploads of the
    //    same bytes or the same name cannot both pass: the same bytes already here or in
    //    another upload set, an accepted file of the same name, a taken id.
    if !lock_upload_set(&mut tx, file.upload_set_id).await? {
        return Err(missing_upload_set(file.upload_set_id));
    }
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind(CHECKSUM_LOCK)
        .bind(&picture.content_md5)
        .execute(&mut *tx)
        .await
        .map_err(Error::db("lock picture checksum"))?;
    let same: Vec<(Uuid, Option<Uuid>)> = sqlx::query_as(
        "SELECT id, upload_set_id FROM pictures
         WHERE content_md5 = $1 AND status != 'waiting-for-delete'",
    )
    .bind(&picture.content_md5)
    .fetch_all(&mut *tx)
    .await
    .map_err(Error::db("look up picture checksum"))?;
    if let Some((existing, _)) = same.iter().find(|(_, s)| *s == Some(file.upload_set_id.0)) {
        return Ok(InsertOutcome::SameBytes {
            existing: (*existing).into(),
        });
    }
    if !same.is_empty() {
        let existing = same
            .iter()
            .map(|(id, set)| ((*id).into(), set.map(Into::into)))
            .collect();
        let rejection = FileRejection {
            reason: RejectionReason::FileDuplicate,
            message: "The same picture has already been sent in a past upload".to_owned(),
            details: None,
        };
        reject_in(&mut tx, file, rejection).await?;
        tx.commit().await.map_err(Error::db("insert picture"))?;
        return Ok(InsertOutcome::SameBytesElsewhere { existing });
    }
    if let Some(existing) = accepted_file_picture(&mut tx, &file).await? {
        return Ok(InsertOutcome::NameTaken {
            existing: existing.map(Into::into),
        });
    }
    let taken: Option<Uuid> = sqlx::query_scalar("SELECT id FROM pictures WHERE id = $1")
        .bind(picture.id.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(Error::db("look up picture id"))?;
    if taken.is_some() {
        let rejection = FileRejection {
            reason: RejectionReason::IdConflict,
            message: "A picture with the same ID already exists".to_owned(),
            details: None,
        };
        reject_in(&mut tx, file, rejection).await?;
        tx.commit().await.map_err(Error::db("insert picture"))?;
        return Ok(InsertOutcome::IdTaken);
    }

    // Where pictures are refused is read here, in the transaction of the write, so that an
    // area added since the upload's first test cannot miss it. The refusal undoes nothing:
    // nothing is written yet.
    super::excluded::refuse_excluded(&mut tx, (picture.lon, picture.lat), picture.account_id)
        .await?;

    // 2. The picture row (its point for the space index is derived from it).
    let now = stored(Utc::now());
    sqlx::query(
        "INSERT INTO pictures (id, upload_set_id, account_id, status, visibility, captured_at,
             lon, lat, heading_deg, projection, content_md5, file_name, created_at, updated_at,
             doc)
         VALUES ($1, $2, $3, 'waiting-for-process', $4, $5, $6, $7, $8, $9, $10, $11, $12, $12,
             $13)",
    )
    .bind(picture.id.0)
    .bind(file.upload_set_id.0)
    .bind(picture.account_id.0)
    .bind(picture.visibility.as_str())
    .bind(stored(picture.captured_at))
    .bind(picture.lon)
    .bind(picture.lat)
    .bind(picture.heading_deg)
    .bind(picture.projection.as_str())
    .bind(&picture.content_md5)
    .bind(&picture.file_name)
    .bind(now)
    .bind(Json(&picture))
    .execute(&mut *tx)
    .await
    .map_err(Error::db("insert picture"))?;

    // 3. The file row, the processing job and the set's completion, in the same transaction:
    //    a picture is never stored without the job that publishes it.
    upsert_file(&mut tx, &file).await?;
    job::enqueue(&mut tx, JobKind::Prepare, &picture.id.to_string()).await?;
    // A set already dispatched is not any more: this picture is in no sequence yet.
    sqlx::query("UPDATE upload_sets SET dispatched = false WHERE id = $1")
        .bind(file.upload_set_id.0)
        .execute(&mut *tx)
        .await
        .map_err(Error::db("insert picture"))?;
    update_completion(&mut tx, file.upload_set_id).await?;
    tx.commit().await.map_err(Error::db("insert picture"))?;
    Ok(InsertOutcome::Inserted)
}
