//! Changes to published sequences and pictures, and their deletion, each in one transaction.
//! `updated_at`, the map's grid, lines and version follow through the triggers of the schema;
//! this module writes the rows and the sequences' figures.
//!
//! Rows are locked as the other writes lock them, pictures (in id order) before their
//! sequence: a worker publishing a picture holds it, then its sequence (a trigger moves the
//! sequence's `updated_at`), so a change holding the sequence first could wait for that
//! worker while it waits for the change.

use flaneur_model::{
    AccountId, Collaborative, JobKind, Picture, PictureEdit, PictureId, Sequence, SequenceEdit,
    SequenceId, TagAction, TagChange, Visibility,
};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::codec::{PICTURE_COLUMNS, picture_from_row, sequence_from_row, stored};
use super::job;
use super::sequence::refresh_sequence_figures;
use super::upload::delete_picture_row;
use crate::arrangement::rank_writes;
use crate::catalog::Arrange;
use crate::federation::refuse_remote;
use crate::{Error, Result};

pub(super) async fn edit_sequence(
    pool: &PgPool,
    id: SequenceId,
    edit: &SequenceEdit,
    arrange: Option<&Arrange>,
) -> Result<Option<Sequence>> {
    let mut tx = pool.begin().await.map_err(Error::db("edit sequence"))?;
    if arrange.is_some() {
        lock_sequence_pictures(&mut tx, id).await?;
    }
    let Some(sequence) = lock_live_sequence(&mut tx, id).await? else {
        return Ok(None);
    };
    refuse_remote("sequence", id, sequence.origin.map(|o| o.peer_id))?;
    check_collaborative(&mut tx, edit.collaborative, sequence.account_id).await?;

    // 1. The row: each field given replaces the stored one.
    sqlx::query(
        "UPDATE sequences SET title = coalesce($1, title), visibility = coalesce($2, visibility),
             sorted_by = coalesce($3, sorted_by),
             relative_heading_deg = coalesce($4, relative_heading_deg)
         WHERE id = $5",
    )
    .bind(edit.title.as_deref())
    .bind(edit.visibility.map(|v| v.as_str()))
    .bind(edit.sort.map(|s| s.to_string()))
    .bind(edit.relative_heading_deg)
    .bind(id.0)
    .execute(&mut *tx)
    .await
    .map_err(Error::db("edit sequence"))?;

    // 2. Tags, then the pictures' order, from the row as just written.
    write_tags(
        &mut tx,
        "sequence_semantics",
        "sequence_id",
        id.0,
        &edit.semantics,
    )
    .await?;
    // Its figures cover the pictures reaching as far as it does: a new visibility may
    // change which.
    match arrange {
        Some(arrange) => rearrange(&mut tx, id, arrange).await?,
        None if edit.visibility.is_some() => refresh_sequence_figures(&mut tx, id.0).await?,
        None => {}
    }

    let sequence = lock_live_sequence(&mut tx, id).await?;
    tx.commit().await.map_err(Error::db("edit sequence"))?;
    Ok(sequence)
}

pub(super) async fn edit_picture(
    pool: &PgPool,
    id: PictureId,
    edit: &PictureEdit,
    arrange: Option<&Arrange>,
) -> Result<Option<Picture>> {
    let mut tx = pool.begin().await.map_err(Error::db("edit picture"))?;
    // A change that arranges the sequence again writes its other pictures too: they are
    // locked with this one, in order.
    if arrange.is_some()
        && let Some(sequence) = read_picture(&mut tx, id).await?.and_then(|p| p.sequence_id)
    {
        lock_sequence_pictures(&mut tx, sequence).await?;
    }
    let Some(mut picture) = lock_picture(&mut tx, id).await? else {
        return Ok(None);
    };
    refuse_remote("picture", id, picture.origin.as_ref().map(|o| o.peer_id))?;

    // 1. The row: the columns and the document that repeats them, changed alike. A change of
    //    tags alone leaves the row as it is, and so the map's version.
    check_collaborative(&mut tx, edit.collaborative, picture.base.account_id).await?;
    // A move where the owner's pictures are refused is refused, in this transaction so that
    // an area added meanwhile cannot miss it.
    if let Some(place) = edit.position {
        super::excluded::refuse_excluded(&mut tx, place, picture.base.account_id).await?;
    }
    if edit.changes_row() {
        write_picture_row(&mut tx, &mut picture, edit).await?;
    }

    // 2. Tags, then its sequence: order and headings when asked, time span and bbox always.
    write_tags(
        &mut tx,
        "picture_semantics",
        "picture_id",
        id.0,
        &edit.semantics,
    )
    .await?;
    if let Some(sequence) = picture.sequence_id {
        match arrange {
            Some(arrange) => rearrange(&mut tx, sequence, arrange).await?,
            None => refresh_sequence_figures(&mut tx, sequence.0).await?,
        }
    }

    let picture = read_picture(&mut tx, id).await?;
    tx.commit().await.map_err(Error::db("edit picture"))?;
    Ok(picture)
}

async fn write_picture_row(
    conn: &mut PgConnection,
    picture: &mut Picture,
    edit: &PictureEdit,
) -> Result<()> {
    edit.apply_to(picture);
    sqlx::query(
        "UPDATE pictures SET visibility = $1, captured_at = $2, lon = $3, lat = $4,
             heading_deg = $5, heading_computed = $6, doc = $7
         WHERE id = $8",
    )
    .bind(picture.base.visibility.as_str())
    .bind(stored(picture.base.captured_at))
    .bind(picture.base.lon)
    .bind(picture.base.lat)
    .bind(picture.base.heading_deg)
    .bind(picture.heading_computed)
    .bind(Json(&picture.base))
    .bind(picture.base.id.0)
    .execute(&mut *conn)
    .await
    .map_err(Error::db("edit picture"))?;
    Ok(())
}

/// Hides reported data from everyone but its owner, as an edit of its visibility would: the
/// picture when given (its sequence's figures follow), else the sequence.
pub(super) async fn hide_reported(
    conn: &mut PgConnection,
    picture: Option<PictureId>,
    sequence: Option<SequenceId>,
) -> Result<()> {
    let edit = PictureEdit {
        visibility: Some(Visibility::OwnerOnly),
        ..PictureEdit::default()
    };
    if let Some(id) = picture {
        let Some(mut picture) = lock_picture(conn, id).await? else {
            return Ok(());
        };
        write_picture_row(conn, &mut picture, &edit).await?;
        if let Some(sequence) = picture.sequence_id {
            refresh_sequence_figures(conn, sequence.0).await?;
        }
    } else if let Some(id) = sequence {
        sqlx::query("UPDATE sequences SET visibility = $1 WHERE id = $2 AND status != 'deleted'")
            .bind(Visibility::OwnerOnly.as_str())
            .bind(id.0)
            .execute(&mut *conn)
            .await
            .map_err(Error::db("hide reported sequence"))?;
        refresh_sequence_figures(conn, id.0).await?;
    }
    Ok(())
}

pub(super) async fn delete_sequence(pool: &PgPool, id: SequenceId) -> Result<bool> {
    let mut tx = pool.begin().await.map_err(Error::db("delete sequence"))?;
    let pictures = lock_sequence_pictures(&mut tx, id).await?;
    let Some(sequence) = lock_live_sequence(&mut tx, id).await? else {
        return Ok(false);
    };
    refuse_remote("sequence", id, sequence.origin.map(|o| o.peer_id))?;

    // 1. The tombstone first, so that the map's triggers count its pictures out once.
    sqlx::query("UPDATE sequences SET status = 'deleted', nb_pictures = 0 WHERE id = $1")
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(Error::db("delete sequence"))?;

    // 2. Its pictures: files by a job each, rows and pending processing now.
    for picture in pictures {
        drop_picture(&mut tx, picture.into()).await?;
    }
    tx.commit().await.map_err(Error::db("delete sequence"))?;
    Ok(true)
}

pub(super) async fn delete_picture(
    pool: &PgPool,
    id: PictureId,
    arrange: &Arrange,
) -> Result<bool> {
    let mut tx = pool.begin().await.map_err(Error::db("delete picture"))?;
    // Its sequence's pictures are locked with it, in order, as the arrangement writes them.
    let Some(picture) = read_picture(&mut tx, id).await? else {
        return Ok(false);
    };
    if let Some(sequence) = picture.sequence_id {
        lock_sequence_pictures(&mut tx, sequence).await?;
    }
    let Some(picture) = lock_picture(&mut tx, id).await? else {
        return Ok(false);
    };
    refuse_remote("picture", id, picture.origin.as_ref().map(|o| o.peer_id))?;
    drop_picture(&mut tx, id).await?;
    if let Some(sequence) = picture.sequence_id {
        rearrange(&mut tx, sequence, arrange).await?;
    }
    tx.commit().await.map_err(Error::db("delete picture"))?;
    Ok(true)
}

/// Removes a picture's row and pending processing, and queues the removal of its files.
async fn drop_picture(conn: &mut PgConnection, id: PictureId) -> Result<()> {
    let target = id.to_string();
    job::enqueue(conn, JobKind::DeleteFiles, &target).await?;
    sqlx::query("DELETE FROM jobs WHERE kind = 'prepare' AND target = $1")
        .bind(&target)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("cancel picture processing"))?;
    delete_picture_row(conn, id).await
}

/// Locks the pictures ranked in a sequence, in id order; returns their ids.
async fn lock_sequence_pictures(conn: &mut PgConnection, id: SequenceId) -> Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "SELECT p.id FROM pictures p JOIN sequence_pictures sp ON sp.picture_id = p.id
         WHERE sp.sequence_id = $1 ORDER BY p.id FOR UPDATE OF p",
    )
    .bind(id.0)
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::db("lock sequence pictures"))
}

/// A sequence that is not deleted, locked until the end of the transaction.
async fn lock_live_sequence(conn: &mut PgConnection, id: SequenceId) -> Result<Option<Sequence>> {
    let row =
        sqlx::query("SELECT * FROM sequences WHERE id = $1 AND status != 'deleted' FOR UPDATE")
            .bind(id.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(Error::db("read sequence"))?;
    row.as_ref().map(sequence_from_row).transpose()
}

async fn read_picture(conn: &mut PgConnection, id: PictureId) -> Result<Option<Picture>> {
    picture_query(conn, id, "").await
}

async fn lock_picture(conn: &mut PgConnection, id: PictureId) -> Result<Option<Picture>> {
    picture_query(conn, id, "FOR UPDATE OF p").await
}

async fn picture_query(
    conn: &mut PgConnection,
    id: PictureId,
    lock: &'static str,
) -> Result<Option<Picture>> {
    let sql = format!(
        "SELECT {PICTURE_COLUMNS} FROM pictures p
         LEFT JOIN sequence_pictures sp ON sp.picture_id = p.id
         WHERE p.id = $1 {lock}"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(Error::db("read picture"))?;
    row.as_ref().map(picture_from_row).transpose()
}

/// Adds and removes tags of one object, in order. `table` and `column` are constants of this
/// module, never input.
async fn write_tags(
    conn: &mut PgConnection,
    table: &'static str,
    column: &'static str,
    id: Uuid,
    changes: &[TagChange],
) -> Result<()> {
    let add = format!(
        "INSERT INTO {table} ({column}, key, value) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
    );
    let delete = format!("DELETE FROM {table} WHERE {column} = $1 AND key = $2 AND value = $3");
    for change in changes {
        let sql = match change.action {
            TagAction::Add => &add,
            TagAction::Delete => &delete,
        };
        sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(id)
            .bind(&change.tag.key)
            .bind(&change.tag.value)
            .execute(&mut *conn)
            .await
            .map_err(Error::db("write tag"))?;
    }
    Ok(())
}

/// Ranks a sequence's pictures and sets their headings as `arrange` says, then its length,
/// accuracy, count, time span and bbox.
async fn rearrange(conn: &mut PgConnection, id: SequenceId, arrange: &Arrange) -> Result<()> {
    let Some(sequence) = lock_live_sequence(conn, id).await? else {
        return Ok(());
    };
    let sql = format!(
        "SELECT {PICTURE_COLUMNS} FROM sequence_pictures sp
         JOIN pictures p ON p.id = sp.picture_id
         WHERE sp.sequence_id = $1 ORDER BY sp.rank"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_all(&mut *conn)
        .await
        .map_err(Error::db("read sequence pictures"))?;
    let pictures = rows
        .iter()
        .map(picture_from_row)
        .collect::<Result<Vec<_>>>()?;
    let current: Vec<(i64, PictureId)> = pictures
        .iter()
        .filter_map(|p| p.rank.map(|r| (r, p.base.id)))
        .collect();
    let arrangement = arrange(&sequence, pictures);
    let writes = rank_writes(id, &current, &arrangement)?;

    if !writes.remove.is_empty() {
        sqlx::query("DELETE FROM sequence_pictures WHERE sequence_id = $1 AND rank = ANY($2)")
            .bind(id.0)
            .bind(&writes.remove)
            .execute(&mut *conn)
            .await
            .map_err(Error::db("clear sequence ranks"))?;
    }
    for (rank, picture) in &writes.insert {
        sqlx::query(
            "INSERT INTO sequence_pictures (sequence_id, rank, picture_id) VALUES ($1, $2, $3)",
        )
        .bind(id.0)
        .bind(rank)
        .bind(picture.0)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("write sequence rank"))?;
    }
    // Rows whose heading is already right are not written: the triggers would find nothing
    // changed, but the statement would still cost a write per picture.
    for planned in &arrangement.pictures {
        sqlx::query(
            "UPDATE pictures SET heading_deg = $1, heading_computed = $2
             WHERE id = $3
               AND (heading_deg IS DISTINCT FROM $1 OR heading_computed IS DISTINCT FROM $2)",
        )
        .bind(planned.heading_deg)
        .bind(planned.heading_computed)
        .bind(planned.id.0)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("write picture heading"))?;
    }
    sqlx::query("UPDATE sequences SET length_km = $1, gps_accuracy_m = $2 WHERE id = $3")
        .bind(arrangement.length_km)
        .bind(arrangement.gps_accuracy_m)
        .bind(id.0)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("write sequence length"))?;
    refresh_sequence_figures(conn, id.0).await
}

/// Refuses a change made under collaborative editing when the owner does not allow it. The
/// owner's row is read under a share lock, so a change of the owner's choice waits for this
/// transaction, and one made before is read.
async fn check_collaborative(
    conn: &mut PgConnection,
    collaborative: Option<Collaborative>,
    owner: AccountId,
) -> Result<()> {
    let Some(rule) = collaborative else {
        return Ok(());
    };
    let choice: Option<Option<bool>> =
        sqlx::query_scalar("SELECT collaborative_metadata FROM accounts WHERE id = $1 FOR SHARE")
            .bind(owner.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(Error::db("read collaborative editing"))?;
    if rule.is_allowed_by(choice.flatten()) {
        return Ok(());
    }
    Err(Error::CollaborationRefused)
}
