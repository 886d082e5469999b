//! Upload sets and their files, including the insertion of accepted pictures.

use chrono::Utc;
use flaneur_model::{
    FileRejection, ItemsStatus, JobKind, NewPicture, NewUploadSet, RejectionReason, UploadFile,
    UploadSet, UploadSetId,
};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection, SqlitePool};

use super::codec::{from_micros, parse_col, parse_opt_col, to_micros};
use super::job;
use crate::catalog::InsertOutcome;
use crate::{Error, Result};

fn upload_set_from_row(row: &SqliteRow) -> Result<UploadSet> {
    let t = "upload_sets";
    let spec: String = row.try_get("spec").map_err(|e| Error::corrupt(t, e))?;
    let completed: i64 = row.try_get("completed").map_err(|e| Error::corrupt(t, e))?;
    let dispatched: i64 = row
        .try_get("dispatched")
        .map_err(|e| Error::corrupt(t, e))?;
    Ok(UploadSet {
        id: parse_col(row, t, "id")?,
        spec: serde_json::from_str(&spec).map_err(|e| Error::corrupt(t, e))?,
        created_at: from_micros(
            row.try_get("created_at")
                .map_err(|e| Error::corrupt(t, e))?,
        ),
        completed: completed != 0,
        dispatched: dispatched != 0,
    })
}

pub(super) async fn create_upload_set(pool: &SqlitePool, spec: NewUploadSet) -> Result<UploadSet> {
    let set = UploadSet {
        id: UploadSetId::new(),
        spec,
        created_at: Utc::now(),
        completed: false,
        dispatched: false,
    };
    let spec_json = serde_json::to_string(&set.spec).map_err(|e| Error::corrupt("spec", e))?;
    sqlx::query(
        "INSERT INTO upload_sets (id, account_id, title, created_at, spec) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(set.id.to_string())
    .bind(set.spec.account_id.to_string())
    .bind(&set.spec.title)
    .bind(to_micros(set.created_at))
    .bind(spec_json)
    .execute(pool)
    .await
    .map_err(Error::db("create upload set"))?;
    Ok(set)
}

pub(super) async fn upload_set(pool: &SqlitePool, id: UploadSetId) -> Result<Option<UploadSet>> {
    let row = sqlx::query("SELECT * FROM upload_sets WHERE id = ?")
        .bind(id.to_string())
        .fetch_optional(pool)
        .await
        .map_err(Error::db("read upload set"))?;
    row.as_ref().map(upload_set_from_row).transpose()
}

fn file_from_row(row: &SqliteRow) -> Result<UploadFile> {
    let t = "files";
    let get_err = |e: sqlx::Error| Error::corrupt(t, e);
    let reason: Option<String> = row.try_get("rejection_reason").map_err(get_err)?;
    let rejection = match reason {
        Some(reason) => {
            let details: Option<String> = row.try_get("rejection_details").map_err(get_err)?;
            Some(FileRejection {
                reason: reason.parse().map_err(|e| Error::corrupt(t, e))?,
                message: row.try_get("rejection_message").map_err(get_err)?,
                details: match details {
                    Some(d) => Some(serde_json::from_str(&d).map_err(|e| Error::corrupt(t, e))?),
                    None => None,
                },
            })
        }
        None => None,
    };
    let size: Option<i64> = row.try_get("size_bytes").map_err(get_err)?;
    Ok(UploadFile {
        upload_set_id: parse_col(row, t, "upload_set_id")?,
        file_name: row.try_get("file_name").map_err(get_err)?,
        size_bytes: size.and_then(|s| u64::try_from(s).ok()),
        content_md5: row.try_get("content_md5").map_err(get_err)?,
        picture_id: parse_opt_col(row, t, "picture_id")?,
        inserted_at: from_micros(row.try_get("inserted_at").map_err(get_err)?),
        rejection,
    })
}

pub(super) async fn upload_set_files(
    pool: &SqlitePool,
    id: UploadSetId,
) -> Result<Vec<UploadFile>> {
    // Files received at the same instant come by name, as in every catalog.
    let rows =
        sqlx::query("SELECT * FROM files WHERE upload_set_id = ? ORDER BY inserted_at, file_name")
            .bind(id.to_string())
            .fetch_all(pool)
            .await
            .map_err(Error::db("list upload set files"))?;
    rows.iter().map(file_from_row).collect()
}

pub(super) async fn upload_set_items_status(
    pool: &SqlitePool,
    id: UploadSetId,
) -> Result<ItemsStatus> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status, count(*) FROM pictures WHERE upload_set_id = ? GROUP BY status",
    )
    .bind(id.to_string())
    .fetch_all(pool)
    .await
    .map_err(Error::db("count upload set pictures"))?;
    let mut status = super::sequence::items_status_from_counts(&rows);
    status.rejected = sqlx::query_scalar(
        "SELECT count(*) FROM files WHERE upload_set_id = ? AND rejection_reason IS NOT NULL",
    )
    .bind(id.to_string())
    .fetch_one(pool)
    .await
    .map_err(Error::db("count rejected files"))?;
    Ok(status)
}

pub(super) async fn complete_upload_set(
    pool: &SqlitePool,
    id: UploadSetId,
) -> Result<Option<UploadSet>> {
    let mut tx = super::begin_write(pool)
        .await
        .map_err(Error::db("complete upload set"))?;
    let done = sqlx::query("UPDATE upload_sets SET completed = 1, dispatched = 0 WHERE id = ?")
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(Error::db("complete upload set"))?;
    if done.rows_affected() == 0 {
        return Ok(None);
    }
    job::enqueue(&mut tx, JobKind::Dispatch, &id.to_string()).await?;
    let row = sqlx::query("SELECT * FROM upload_sets WHERE id = ?")
        .bind(id.to_string())
        .fetch_one(&mut *tx)
        .await
        .map_err(Error::db("complete upload set"))?;
    let set = upload_set_from_row(&row)?;
    tx.commit()
        .await
        .map_err(Error::db("complete upload set"))?;
    Ok(Some(set))
}

pub(super) async fn delete_upload_set(pool: &SqlitePool, id: UploadSetId) -> Result<bool> {
    let id_text = id.to_string();
    let mut tx = super::begin_write(pool)
        .await
        .map_err(Error::db("delete upload set"))?;
    let exists: Option<String> = sqlx::query_scalar("SELECT id FROM upload_sets WHERE id = ?")
        .bind(&id_text)
        .fetch_optional(&mut *tx)
        .await
        .map_err(Error::db("delete upload set"))?;
    if exists.is_none() {
        return Ok(false);
    }

    // 1. Sequences become tombstones, so harvesters learn they are gone.
    sqlx::query("UPDATE sequences SET status = 'deleted', nb_pictures = 0 WHERE upload_set_id = ?")
        .bind(&id_text)
        .execute(&mut *tx)
        .await
        .map_err(Error::db("delete upload set sequences"))?;

    // 2. Each picture's files are removed by a job; the rows go now, with their space index
    //    entries and pending processing jobs.
    let pictures: Vec<String> =
        sqlx::query_scalar("SELECT id FROM pictures WHERE upload_set_id = ?")
            .bind(&id_text)
            .fetch_all(&mut *tx)
            .await
            .map_err(Error::db("delete upload set pictures"))?;
    for picture in &pictures {
        job::enqueue(&mut tx, JobKind::DeleteFiles, picture).await?;
        sqlx::query("DELETE FROM jobs WHERE kind = 'prepare' AND target = ?")
            .bind(picture)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("delete upload set jobs"))?;
        delete_picture_row(&mut tx, picture).await?;
    }

    // 3. The set itself; its file rows go with it.
    sqlx::query("DELETE FROM jobs WHERE kind = 'dispatch' AND target = ?")
        .bind(&id_text)
        .execute(&mut *tx)
        .await
        .map_err(Error::db("delete upload set jobs"))?;
    sqlx::query("DELETE FROM upload_sets WHERE id = ?")
        .bind(&id_text)
        .execute(&mut *tx)
        .await
        .map_err(Error::db("delete upload set"))?;
    tx.commit().await.map_err(Error::db("delete upload set"))?;
    Ok(true)
}

/// Deletes a picture row (a trigger takes its space index entry).
pub(super) async fn delete_picture_row(conn: &mut SqliteConnection, id: &str) -> Result<()> {
    sqlx::query("DELETE FROM pictures WHERE id = ?")
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("delete picture"))?;
    Ok(())
}

/// Inserts or replaces a file row.
async fn upsert_file(conn: &mut SqliteConnection, file: &UploadFile) -> Result<()> {
    let (reason, message, details) = match &file.rejection {
        Some(r) => (
            Some(r.reason.as_str()),
            Some(r.message.as_str()),
            r.details.as_ref().map(|d| d.to_string()),
        ),
        None => (None, None, None),
    };
    sqlx::query(
        "INSERT OR REPLACE INTO files (upload_set_id, file_name, size_bytes, content_md5,
             picture_id, inserted_at, rejection_reason, rejection_message, rejection_details)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(file.upload_set_id.to_string())
    .bind(&file.file_name)
    .bind(file.size_bytes.and_then(|s| i64::try_from(s).ok()))
    .bind(&file.content_md5)
    .bind(file.picture_id.map(|p| p.to_string()))
    .bind(to_micros(file.inserted_at))
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
/// Panoramax instances. Completion queues the dispatch.
async fn update_completion(conn: &mut SqliteConnection, id: UploadSetId) -> Result<()> {
    let id_text = id.to_string();
    let (completed, estimated): (i64, Option<i64>) = sqlx::query_as(
        "SELECT completed, json_extract(spec, '$.estimated_nb_files') FROM upload_sets
         WHERE id = ?",
    )
    .bind(&id_text)
    .fetch_one(&mut *conn)
    .await
    .map_err(Error::db("read upload set completion"))?;
    let received: i64 = sqlx::query_scalar("SELECT count(*) FROM files WHERE upload_set_id = ?")
        .bind(&id_text)
        .fetch_one(&mut *conn)
        .await
        .map_err(Error::db("count files"))?;

    // Exactly the expected count, as on Panoramax instances: a client that sends more files
    // than it announced completes the set itself.
    let now_complete = completed == 0 && estimated.is_some_and(|e| received == e);
    sqlx::query("UPDATE upload_sets SET completed = ? WHERE id = ?")
        .bind(i64::from(now_complete))
        .bind(&id_text)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("update upload set completion"))?;
    if now_complete {
        job::enqueue(conn, JobKind::Dispatch, &id_text).await?;
    }
    Ok(())
}

/// Records a refused file inside a transaction. The file row never names a picture: the one
/// it would name belongs to someone else.
async fn reject_in(
    conn: &mut SqliteConnection,
    mut file: UploadFile,
    rejection: FileRejection,
) -> Result<()> {
    file.picture_id = None;
    file.rejection = Some(rejection);
    upsert_file(conn, &file).await?;
    update_completion(conn, file.upload_set_id).await
}

/// Fails when the upload set no longer exists: another request or process deleted it while a
/// file was on its way. The caller's write transaction keeps it from going meanwhile.
async fn ensure_upload_set(conn: &mut SqliteConnection, id: UploadSetId) -> Result<()> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM upload_sets WHERE id = ?")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await
        .map_err(Error::db("look up upload set"))?;
    if found.is_none() {
        return Err(Error::NotFound {
            kind: "upload set",
            id: id.to_string(),
        });
    }
    Ok(())
}

/// The file row of that name in that set, when it holds an accepted picture.
async fn accepted_file_picture(
    conn: &mut SqliteConnection,
    file: &UploadFile,
) -> Result<Option<Option<String>>> {
    let row: Option<(Option<String>,)> = sqlx::query_as(
        "SELECT picture_id FROM files
         WHERE upload_set_id = ? AND file_name = ? AND rejection_reason IS NULL",
    )
    .bind(file.upload_set_id.to_string())
    .bind(&file.file_name)
    .fetch_optional(&mut *conn)
    .await
    .map_err(Error::db("look up file name"))?;
    Ok(row.map(|(p,)| p))
}

pub(super) async fn record_rejection(pool: &SqlitePool, file: UploadFile) -> Result<()> {
    let mut tx = super::begin_write(pool)
        .await
        .map_err(Error::db("record rejection"))?;
    ensure_upload_set(&mut tx, file.upload_set_id).await?;
    // A refusal never hides an accepted file of the same name.
    if accepted_file_picture(&mut tx, &file).await?.is_some() {
        return Ok(());
    }
    upsert_file(&mut tx, &file).await?;
    update_completion(&mut tx, file.upload_set_id).await?;
    tx.commit().await.map_err(Error::db("record rejection"))
}

pub(super) async fn insert_picture(
    pool: &SqlitePool,
    picture: NewPicture,
    file: UploadFile,
) -> Result<InsertOutcome> {
    crate::catalog::refuse_other_upload_set(&picture, &file)?;
    let mut tx = super::begin_write(pool)
        .await
        .map_err(Error::db("insert picture"))?;
    ensure_upload_set(&mut tx, file.upload_set_id).await?;

    // 1. Refuse what would repeat or overwrite, inside the transaction so that concurrent
    //    uploads of the same bytes cannot both pass: the same bytes already here or in another
    //    upload set, an accepted file of the same name, a taken id.
    let same: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT id, upload_set_id FROM pictures
         WHERE content_md5 = ? AND status != 'waiting-for-delete'",
    )
    .bind(&picture.content_md5)
    .fetch_all(&mut *tx)
    .await
    .map_err(Error::db("look up picture checksum"))?;
    let set_text = file.upload_set_id.to_string();
    if let Some((existing, _)) = same.iter().find(|(_, s)| s.as_deref() == Some(&set_text)) {
        let existing = existing
            .parse()
            .map_err(|e| Error::corrupt("pictures", e))?;
        return Ok(InsertOutcome::SameBytes { existing });
    }
    if !same.is_empty() {
        let mut existing = Vec::with_capacity(same.len());
        for (id, set) in &same {
            let id = id.parse().map_err(|e| Error::corrupt("pictures", e))?;
            let set = match set {
                Some(s) => Some(s.parse().map_err(|e| Error::corrupt("pictures", e))?),
                None => None,
            };
            existing.push((id, set));
        }
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
        let existing = existing.and_then(|p| p.parse().ok());
        return Ok(InsertOutcome::NameTaken { existing });
    }
    let taken: Option<String> = sqlx::query_scalar("SELECT id FROM pictures WHERE id = ?")
        .bind(picture.id.to_string())
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

    // 2. The picture row (a trigger puts its point in the space index).
    let now = to_micros(Utc::now());
    let doc = serde_json::to_string(&picture).map_err(|e| Error::corrupt("pictures", e))?;
    sqlx::query(
        "INSERT INTO pictures (id, upload_set_id, account_id, status, visibility, captured_at,
             lon, lat, heading_deg, projection, content_md5, file_name, created_at, updated_at,
             doc)
         VALUES (?, ?, ?, 'waiting-for-process', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(picture.id.to_string())
    .bind(file.upload_set_id.to_string())
    .bind(picture.account_id.to_string())
    .bind(picture.visibility.as_str())
    .bind(to_micros(picture.captured_at))
    .bind(picture.lon)
    .bind(picture.lat)
    .bind(picture.heading_deg)
    .bind(picture.projection.as_str())
    .bind(&picture.content_md5)
    .bind(&picture.file_name)
    .bind(now)
    .bind(now)
    .bind(doc)
    .execute(&mut *tx)
    .await
    .map_err(Error::db("insert picture"))?;

    // 3. The file row, the processing job and the set's completion, in the same transaction:
    //    a picture is never stored without the job that publishes it.
    upsert_file(&mut tx, &file).await?;
    job::enqueue(&mut tx, JobKind::Prepare, &picture.id.to_string()).await?;
    // A set already dispatched is not any more: this picture is in no sequence yet.
    sqlx::query("UPDATE upload_sets SET dispatched = 0 WHERE id = ?")
        .bind(file.upload_set_id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(Error::db("insert picture"))?;
    update_completion(&mut tx, file.upload_set_id).await?;
    tx.commit().await.map_err(Error::db("insert picture"))?;
    Ok(InsertOutcome::Inserted)
}
