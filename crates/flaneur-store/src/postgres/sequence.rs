//! Sequences: writing a dispatch and reading single sequences. Listings are in `listing.rs`.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use flaneur_model::{
    FileRejection, ItemsStatus, JobKind, NewUploadSet, RejectionReason, SemanticTag, Sequence,
    SequenceId, UploadSetId,
};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::codec::{sequence_from_row, stored};
use super::job;
use super::upload::{lock_upload_set, lock_upload_set_pictures};
use crate::catalog::{DispatchPlan, SequenceSummary};
use crate::visibility::REACHES_SEQUENCE;
use crate::{Error, Result};

/// Folds `(status, count)` rows of pictures into the Panoramax status counters.
pub(super) fn items_status_from_counts(rows: &[(String, i64)]) -> ItemsStatus {
    let mut s = ItemsStatus::default();
    for (status, n) in rows {
        match status.as_str() {
            "ready" => s.prepared += n,
            "preparing" => s.preparing += n,
            "broken" => s.broken += n,
            "waiting-for-process" => s.not_processed += n,
            // Duplicates awaiting removal are counted as rejected files instead.
            _ => {}
        }
    }
    s
}

pub(super) async fn sequence_items_status(pool: &PgPool, id: SequenceId) -> Result<ItemsStatus> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT p.status, count(*) FROM sequence_pictures sp
         JOIN pictures p ON p.id = sp.picture_id
         WHERE sp.sequence_id = $1 GROUP BY p.status",
    )
    .bind(id.0)
    .fetch_all(pool)
    .await
    .map_err(Error::db("count sequence pictures"))?;
    Ok(items_status_from_counts(&rows))
}

pub(super) async fn sequence(pool: &PgPool, id: SequenceId) -> Result<Option<Sequence>> {
    let row = sqlx::query("SELECT * FROM sequences WHERE id = $1")
        .bind(id.0)
        .fetch_optional(pool)
        .await
        .map_err(Error::db("read sequence"))?;
    row.as_ref().map(sequence_from_row).transpose()
}

pub(super) async fn upload_set_sequences(
    pool: &PgPool,
    id: UploadSetId,
) -> Result<Vec<SequenceSummary>> {
    let rows = sqlx::query(
        "SELECT * FROM sequences WHERE upload_set_id = $1 AND status != 'deleted'
         ORDER BY created_at, id",
    )
    .bind(id.0)
    .fetch_all(pool)
    .await
    .map_err(Error::db("list upload set sequences"))?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let sequence = sequence_from_row(row)?;
        let items_status = sequence_items_status(pool, sequence.id).await?;
        out.push(SequenceSummary {
            sequence,
            items_status,
        });
    }
    Ok(out)
}

pub(super) async fn apply_dispatch(
    pool: &PgPool,
    upload_set: UploadSetId,
    plan: DispatchPlan,
) -> Result<Vec<SequenceId>> {
    let now = stored(Utc::now());
    let mut tx = pool.begin().await.map_err(Error::db("apply dispatch"))?;

    // 0. The set is locked first: pictures received or another dispatch of the same set wait
    //    for this one, as they would behind SQLite's single writer. Then its pictures, before
    //    any sequence (see `lock_upload_set_pictures`).
    lock_upload_set(&mut tx, upload_set).await?;
    lock_upload_set_pictures(&mut tx, upload_set).await?;

    // 1. What an earlier dispatch made: sequence of each picture.
    let previous: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "SELECT sp.picture_id, sp.sequence_id FROM sequence_pictures sp
         JOIN sequences s ON s.id = sp.sequence_id
         WHERE s.upload_set_id = $1 AND s.status != 'deleted'",
    )
    .bind(upload_set.0)
    .fetch_all(&mut *tx)
    .await
    .map_err(Error::db("read previous dispatch"))?;
    let previous: HashMap<Uuid, Uuid> = previous.into_iter().collect();
    let mut old_sequences: HashSet<Uuid> = previous.values().copied().collect();

    let spec: Option<(Uuid, Json<serde_json::Value>)> =
        sqlx::query_as("SELECT account_id, spec FROM upload_sets WHERE id = $1")
            .bind(upload_set.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(Error::db("read upload set"))?;
    let (account_id, Json(spec)) = spec.ok_or_else(|| Error::NotFound {
        kind: "upload set",
        id: upload_set.to_string(),
    })?;
    let spec: NewUploadSet =
        serde_json::from_value(spec).map_err(|e| Error::corrupt("upload_sets", e))?;

    // Each sequence carries the upload set's tags as they are at dispatch. The upload set
    // route refused malformed ones: tags that cannot be read here are a damaged row, and
    // taking them as none would delete every tag of the sequences made again.
    let tags = SemanticTag::list_from_json(&spec.semantics).ok_or_else(|| {
        Error::corrupt(
            "upload_sets",
            "semantics are not a list of {key, value} tags",
        )
    })?;
    let tag_pairs: HashSet<(&str, &str)> = tags
        .iter()
        .map(|t| (t.key.as_str(), t.value.as_str()))
        .collect();

    // 2. Each planned sequence reuses an earlier one holding one of its pictures, or is new.
    let mut ids = Vec::with_capacity(plan.sequences.len());
    for planned in &plan.sequences {
        let reused = planned
            .pictures
            .iter()
            .filter_map(|p| previous.get(&p.id.0))
            .find(|s| old_sequences.contains(*s))
            .copied();
        let id = match reused {
            Some(s) => {
                old_sequences.remove(&s);
                SequenceId::from(s)
            }
            None => SequenceId::new(),
        };

        // A sequence made again keeps its `updated_at` unless its row changes: the triggers
        // move it then, as they do for each write below.
        sqlx::query(
            "INSERT INTO sequences (id, upload_set_id, account_id, title, status, visibility,
                 sorted_by, user_agent, relative_heading_deg, created_at, updated_at, length_km,
                 gps_accuracy_m)
             VALUES ($1, $2, $3, $4, 'ready', $5, $6, $7, $8, $9, $9, $10, $11)
             ON CONFLICT (id) DO UPDATE SET title = excluded.title, status = 'ready',
                 sorted_by = excluded.sorted_by, length_km = excluded.length_km,
                 gps_accuracy_m = excluded.gps_accuracy_m",
        )
        .bind(id.0)
        .bind(upload_set.0)
        .bind(account_id)
        .bind(&planned.title)
        .bind(spec.visibility.as_str())
        .bind(&planned.sorted_by)
        .bind(&spec.user_agent)
        .bind(spec.relative_heading_deg)
        .bind(now)
        .bind(planned.length_km)
        .bind(planned.gps_accuracy_m)
        .execute(&mut *tx)
        .await
        .map_err(Error::db("write sequence"))?;

        // Tags already there stay, as ranks do below: taking them out and in again would move
        // the sequence's `updated_at` with nothing changed. Adding one already there is ignored.
        let stored: Vec<(String, String)> =
            sqlx::query_as("SELECT key, value FROM sequence_semantics WHERE sequence_id = $1")
                .bind(id.0)
                .fetch_all(&mut *tx)
                .await
                .map_err(Error::db("read sequence tags"))?;
        for (key, value) in stored {
            if tag_pairs.contains(&(key.as_str(), value.as_str())) {
                continue;
            }
            sqlx::query(
                "DELETE FROM sequence_semantics
                 WHERE sequence_id = $1 AND key = $2 AND value = $3",
            )
            .bind(id.0)
            .bind(&key)
            .bind(&value)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("remove sequence tag"))?;
        }
        for tag in &tags {
            sqlx::query(
                "INSERT INTO sequence_semantics (sequence_id, key, value) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
            )
            .bind(id.0)
            .bind(&tag.key)
            .bind(&tag.value)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("write sequence tag"))?;
        }

        // Ranks already as planned stay: writing them again would move the `updated_at` of
        // the sequence and of its pictures, and the map's version, with nothing changed. The
        // others are taken out first, which frees their places for the planned ones.
        let ranks: Vec<(i64, Uuid)> = sqlx::query_as(
            "SELECT rank, picture_id FROM sequence_pictures WHERE sequence_id = $1
             ORDER BY rank",
        )
        .bind(id.0)
        .fetch_all(&mut *tx)
        .await
        .map_err(Error::db("read sequence ranks"))?;
        let planned_ranks: HashSet<(i64, Uuid)> = (1_i64..)
            .zip(&planned.pictures)
            .map(|(rank, p)| (rank, p.id.0))
            .collect();
        for (rank, _) in ranks.iter().filter(|r| !planned_ranks.contains(*r)) {
            sqlx::query("DELETE FROM sequence_pictures WHERE sequence_id = $1 AND rank = $2")
                .bind(id.0)
                .bind(rank)
                .execute(&mut *tx)
                .await
                .map_err(Error::db("clear sequence rank"))?;
        }
        let kept: HashSet<&(i64, Uuid)> = ranks.iter().collect();
        for (rank, picture) in (1_i64..).zip(&planned.pictures) {
            if !kept.contains(&(rank, picture.id.0)) {
                // A picture moving from another sequence of this set leaves it first.
                sqlx::query("DELETE FROM sequence_pictures WHERE picture_id = $1")
                    .bind(picture.id.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(Error::db("move picture"))?;
                sqlx::query(
                    "INSERT INTO sequence_pictures (sequence_id, rank, picture_id)
                     VALUES ($1, $2, $3)",
                )
                .bind(id.0)
                .bind(rank)
                .bind(picture.id.0)
                .execute(&mut *tx)
                .await
                .map_err(Error::db("write sequence rank"))?;
            }
            sqlx::query(
                "UPDATE pictures SET heading_deg = $1, heading_computed = $2 WHERE id = $3",
            )
            .bind(picture.heading_deg)
            .bind(picture.heading_computed)
            .bind(picture.id.0)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("write picture heading"))?;
        }
        refresh_sequence_figures(&mut tx, id.0).await?;
        ids.push(id);
    }

    // 3. Earlier sequences no longer needed become tombstones.
    for old in old_sequences {
        sqlx::query("DELETE FROM sequence_pictures WHERE sequence_id = $1")
            .bind(old)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("clear old sequence"))?;
        sqlx::query("UPDATE sequences SET status = 'deleted', nb_pictures = 0 WHERE id = $1")
            .bind(old)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("tombstone old sequence"))?;
    }

    // 4. Duplicates: refused as such on their file, their files removed by a job.
    for dup in &plan.duplicates {
        let rejection = FileRejection {
            reason: RejectionReason::CaptureDuplicate,
            message: "The picture is too similar to another one (nearby and taken almost at the \
                      same time)"
                .to_owned(),
            details: Some(dup.details.clone()),
        };
        sqlx::query(
            "UPDATE files SET rejection_reason = $1, rejection_message = $2,
                 rejection_details = $3
             WHERE upload_set_id = $4 AND picture_id = $5",
        )
        .bind(rejection.reason.as_str())
        .bind(&rejection.message)
        .bind(rejection.details.as_ref().map(Json))
        .bind(upload_set.0)
        .bind(dup.id.0)
        .execute(&mut *tx)
        .await
        .map_err(Error::db("reject duplicate"))?;
        sqlx::query("DELETE FROM sequence_pictures WHERE picture_id = $1")
            .bind(dup.id.0)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("unlink duplicate"))?;
        sqlx::query("UPDATE pictures SET status = 'waiting-for-delete' WHERE id = $1")
            .bind(dup.id.0)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("mark duplicate"))?;
        sqlx::query("DELETE FROM jobs WHERE kind = 'prepare' AND target = $1")
            .bind(dup.id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(Error::db("cancel duplicate processing"))?;
        job::enqueue(&mut tx, JobKind::DeleteFiles, &dup.id.to_string()).await?;
    }

    // 5. The set is dispatched only if no picture arrived after the plan was made; otherwise
    //    it is planned again, with the newcomers.
    let planned: usize = plan.sequences.iter().map(|s| s.pictures.len()).sum();
    let live: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pictures
         WHERE upload_set_id = $1 AND status != 'waiting-for-delete'",
    )
    .bind(upload_set.0)
    .fetch_one(&mut *tx)
    .await
    .map_err(Error::db("count dispatched pictures"))?;
    if usize::try_from(live).ok() == Some(planned) {
        sqlx::query("UPDATE upload_sets SET dispatched = true WHERE id = $1")
            .bind(upload_set.0)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("mark dispatched"))?;
    } else {
        job::enqueue(&mut tx, JobKind::Dispatch, &upload_set.to_string()).await?;
    }
    tx.commit().await.map_err(Error::db("apply dispatch"))?;
    Ok(ids)
}

/// Recomputes a sequence's count, time span and bbox from the pictures that reach as far as
/// it (see [`REACHES_SEQUENCE`]): the figures everyone who may read the sequence reads, its
/// owner included.
pub(super) async fn refresh_sequence_figures(conn: &mut PgConnection, id: Uuid) -> Result<()> {
    let figures = format!(
        "UPDATE sequences SET
             nb_pictures = f.nb_pictures,
             min_captured_at = f.min_captured_at, max_captured_at = f.max_captured_at,
             min_lon = f.min_lon, min_lat = f.min_lat, max_lon = f.max_lon, max_lat = f.max_lat
         FROM (SELECT count(*) AS nb_pictures,
                      min(p.captured_at) AS min_captured_at, max(p.captured_at) AS max_captured_at,
                      min(p.lon) AS min_lon, min(p.lat) AS min_lat,
                      max(p.lon) AS max_lon, max(p.lat) AS max_lat
               FROM sequence_pictures sp
               JOIN pictures p ON p.id = sp.picture_id
               JOIN sequences s ON s.id = sp.sequence_id
               WHERE sp.sequence_id = $1 AND {REACHES_SEQUENCE}) f
         WHERE sequences.id = $1"
    );
    sqlx::query(sqlx::AssertSqlSafe(figures))
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("refresh sequence figures"))?;
    Ok(())
}
