//! Changes to published sequences and pictures, and their deletion, each in one write
//! transaction. `updated_at`, the map's grid, lines and version follow through the triggers of
//! the schema; this module writes the rows and the sequences' figures.

use flaneur_model::{
    AccountId, Collaborative, JobKind, Picture, PictureEdit, PictureId, Sequence, SequenceEdit,
    SequenceId, TagAction, TagChange, Visibility,
};
use sqlx::{SqliteConnection, SqlitePool};

use super::codec::{PICTURE_COLUMNS, picture_from_row, sequence_from_row, to_micros};
use super::job;
use super::sequence::refresh_sequence_figures;
use super::upload::delete_picture_row;
use crate::arrangement::rank_writes;
use crate::catalog::Arrange;
use crate::federation::refuse_remote;
use crate::{Error, Result};

pub(super) async fn edit_sequence(
    pool: &SqlitePool,
    id: SequenceId,
    edit: &SequenceEdit,
    arrange: Option<&Arrange>,
) -> Result<Option<Sequence>> {
    let id_text = id.to_string();
    let mut tx = super::begin_write(pool)
        .await
        .map_err(Error::db("edit sequence"))?;
    let Some(sequence) = live_sequence(&mut tx, &id_text).await? else {
        return Ok(None);
    };
    refuse_remote("sequence", id, sequence.origin.map(|o| o.peer_id))?;
    check_collaborative(&mut tx, edit.collaborative, sequence.account_id).await?;

    // 1. The row: each field given replaces the stored one.
    sqlx::query(
        "UPDATE sequences SET title = coalesce(?, title), visibility = coalesce(?, visibility),
             sorted_by = coalesce(?, sorted_by),
             relative_heading_deg = coalesce(?, relative_heading_deg)
         WHERE id = ?",
    )
    .bind(edit.title.as_deref())
    .bind(edit.visibility.map(|v| v.as_str()))
    .bind(edit.sort.map(|s| s.to_string()))
    .bind(edit.relative_heading_deg)
    .bind(&id_text)
    .execute(&mut *tx)
    .await
    .map_err(Error::db("edit sequence"))?;

    // 2. Tags, then the pictures' order, from the row as just written.
    write_tags(
        &mut tx,
        "sequence_semantics",
        "sequence_id",
        &id_text,
        &edit.semantics,
    )
    .await?;
    // Its figures cover the pictures reaching as far as it does: a new visibility may
    // change which.
    match arrange {
        Some(arrange) => rearrange(&mut tx, id, arrange).await?,
        None if edit.visibility.is_some() => refresh_sequence_figures(&mut tx, &id_text).await?,
        None => {}
    }

    let sequence = live_sequence(&mut tx, &id_text).await?;
    tx.commit().await.map_err(Error::db("edit sequence"))?;
    Ok(sequence)
}

pub(super) async fn edit_picture(
    pool: &SqlitePool,
    id: PictureId,
    edit: &PictureEdit,
    arrange: Option<&Arrange>,
) -> Result<Option<Picture>> {
    let id_text = id.to_string();
    let mut tx = super::begin_write(pool)
        .await
        .map_err(Error::db("edit picture"))?;
    let Some(mut picture) = read_picture(&mut tx, &id_text).await? else {
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
        &id_text,
        &edit.semantics,
    )
    .await?;
    if let Some(sequence) = picture.sequence_id {
        match arrange {
            Some(arrange) => rearrange(&mut tx, sequence, arrange).await?,
            None => refresh_sequence_figures(&mut tx, &sequence.to_string()).await?,
        }
    }

    let picture = read_picture(&mut tx, &id_text).await?;
    tx.commit().await.map_err(Error::db("edit picture"))?;
    Ok(picture)
}

async fn write_picture_row(
    conn: &mut SqliteConnection,
    picture: &mut Picture,
    edit: &PictureEdit,
) -> Result<()> {
    edit.apply_to(picture);
    let doc = serde_json::to_string(&picture.base).map_err(|e| Error::corrupt("pictures", e))?;
    sqlx::query(
        "UPDATE pictures SET visibility = ?, captured_at = ?, lon = ?, lat = ?,
             heading_deg = ?, heading_computed = ?, doc = ?
         WHERE id = ?",
    )
    .bind(picture.base.visibility.as_str())
    .bind(to_micros(picture.base.captured_at))
    .bind(picture.base.lon)
    .bind(picture.base.lat)
    .bind(picture.base.heading_deg)
    .bind(i64::from(picture.heading_computed))
    .bind(doc)
    .bind(picture.base.id.to_string())
    .execute(&mut *conn)
    .await
    .map_err(Error::db("edit picture"))?;
    Ok(())
}

pub(super) async fn delete_sequence(pool: &SqlitePool, id: SequenceId) -> Result<bool> {
    let id_text = id.to_string();
    let mut tx = super::begin_write(pool)
        .await
        .map_err(Error::db("delete sequence"))?;
    let Some(sequence) = live_sequence(&mut tx, &id_text).await? else {
        return Ok(false);
    };
    refuse_remote("sequence", id, sequence.origin.map(|o| o.peer_id))?;

    // 1. The tombstone first, so that the map's triggers count its pictures out once.
    sqlx::query("UPDATE sequences SET status = 'deleted', nb_pictures = 0 WHERE id = ?")
        .bind(&id_text)
        .execute(&mut *tx)
        .await
        .map_err(Error::db("delete sequence"))?;

    // 2. Its pictures: files by a job each, rows and pending processing now.
    let pictures: Vec<String> =
        sqlx::query_scalar("SELECT picture_id FROM sequence_pictures WHERE sequence_id = ?")
            .bind(&id_text)
            .fetch_all(&mut *tx)
            .await
            .map_err(Error::db("delete sequence pictures"))?;
    for picture in &pictures {
        drop_picture(&mut tx, picture).await?;
    }
    tx.commit().await.map_err(Error::db("delete sequence"))?;
    Ok(true)
}

pub(super) async fn delete_picture(
    pool: &SqlitePool,
    id: PictureId,
    arrange: &Arrange,
) -> Result<bool> {
    let id_text = id.to_string();
    let mut tx = super::begin_write(pool)
        .await
        .map_err(Error::db("delete picture"))?;
    let Some(picture) = read_picture(&mut tx, &id_text).await? else {
        return Ok(false);
    };
    refuse_remote("picture", id, picture.origin.as_ref().map(|o| o.peer_id))?;
    drop_picture(&mut tx, &id_text).await?;
    if let Some(sequence) = picture.sequence_id {
        rearrange(&mut tx, sequence, arrange).await?;
    }
    tx.commit().await.map_err(Error::db("delete picture"))?;
    Ok(true)
}

/// Removes a picture's row and pending processing, and queues the removal of its files.
async fn drop_picture(conn: &mut SqliteConnection, id: &str) -> Result<()> {
    job::enqueue(conn, JobKind::DeleteFiles, id).await?;
    sqlx::query("DELETE FROM jobs WHERE kind = 'prepare' AND target = ?")
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("cancel picture processing"))?;
    delete_picture_row(conn, id).await
}

/// A sequence that is not deleted.
async fn live_sequence(conn: &mut SqliteConnection, id: &str) -> Result<Option<Sequence>> {
    let row = sqlx::query("SELECT * FROM sequences WHERE id = ? AND status != 'deleted'")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(Error::db("read sequence"))?;
    row.as_ref().map(sequence_from_row).transpose()
}

async fn read_picture(conn: &mut SqliteConnection, id: &str) -> Result<Option<Picture>> {
    let sql = format!(
        "SELECT {PICTURE_COLUMNS} FROM pictures p
         LEFT JOIN sequence_pictures sp ON sp.picture_id = p.id
         WHERE p.id = ?"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(Error::db("read picture"))?;
    row.as_ref().map(picture_from_row).transpose()
}

/// Adds and removes tags of one object, in order. `table` and `column` are constants of this
/// module, never input.
async fn write_tags(
    conn: &mut SqliteConnection,
    table: &'static str,
    column: &'static str,
    id: &str,
    changes: &[TagChange],
) -> Result<()> {
    let add = format!("INSERT OR IGNORE INTO {table} ({column}, key, value) VALUES (?, ?, ?)");
    let delete = format!("DELETE FROM {table} WHERE {column} = ? AND key = ? AND value = ?");
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
async fn rearrange(conn: &mut SqliteConnection, id: SequenceId, arrange: &Arrange) -> Result<()> {
    let id_text = id.to_string();
    let Some(sequence) = live_sequence(conn, &id_text).await? else {
        return Ok(());
    };
    let sql = format!(
        "SELECT {PICTURE_COLUMNS} FROM sequence_pictures sp
         JOIN pictures p ON p.id = sp.picture_id
         WHERE sp.sequence_id = ? ORDER BY sp.rank"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(&id_text)
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

    for rank in &writes.remove {
        sqlx::query("DELETE FROM sequence_pictures WHERE sequence_id = ? AND rank = ?")
            .bind(&id_text)
            .bind(rank)
            .execute(&mut *conn)
            .await
            .map_err(Error::db("clear sequence rank"))?;
    }
    for (rank, picture) in &writes.insert {
        sqlx::query(
            "INSERT INTO sequence_pictures (sequence_id, rank, picture_id) VALUES (?, ?, ?)",
        )
        .bind(&id_text)
        .bind(rank)
        .bind(picture.to_string())
        .execute(&mut *conn)
        .await
        .map_err(Error::db("write sequence rank"))?;
    }
    // Rows whose heading is already right are not written: the triggers would find nothing
    // changed, but the statement would still cost a write per picture.
    for planned in &arrangement.pictures {
        sqlx::query(
            "UPDATE pictures SET heading_deg = ?1, heading_computed = ?2
             WHERE id = ?3 AND (heading_deg IS NOT ?1 OR heading_computed IS NOT ?2)",
        )
        .bind(planned.heading_deg)
        .bind(i64::from(planned.heading_computed))
        .bind(planned.id.to_string())
        .execute(&mut *conn)
        .await
        .map_err(Error::db("write picture heading"))?;
    }
    sqlx::query("UPDATE sequences SET length_km = ?, gps_accuracy_m = ? WHERE id = ?")
        .bind(arrangement.length_km)
        .bind(arrangement.gps_accuracy_m)
        .bind(&id_text)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("write sequence length"))?;
    refresh_sequence_figures(conn, &id_text).await
}

/// Hides reported data from everyone but its owner, as an edit of its visibility would: the
/// picture when given (its sequence's figures follow), else the sequence.
pub(super) async fn hide_reported(
    conn: &mut SqliteConnection,
    picture: Option<&str>,
    sequence: Option<&str>,
) -> Result<()> {
    let edit = PictureEdit {
        visibility: Some(Visibility::OwnerOnly),
        ..PictureEdit::default()
    };
    if let Some(id) = picture {
        let Some(mut picture) = read_picture(conn, id).await? else {
            return Ok(());
        };
        write_picture_row(conn, &mut picture, &edit).await?;
        if let Some(sequence) = picture.sequence_id {
            refresh_sequence_figures(conn, &sequence.to_string()).await?;
        }
    } else if let Some(id) = sequence {
        sqlx::query("UPDATE sequences SET visibility = ? WHERE id = ? AND status != 'deleted'")
            .bind(Visibility::OwnerOnly.as_str())
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(Error::db("hide reported sequence"))?;
        refresh_sequence_figures(conn, id).await?;
    }
    Ok(())
}

/// Refuses a change made under collaborative editing when the owner does not allow it, as
/// the owner's row reads in the transaction of the change: the writer is one connection at a
/// time, so the owner's choice cannot change before the change is made.
async fn check_collaborative(
    conn: &mut SqliteConnection,
    collaborative: Option<Collaborative>,
    owner: AccountId,
) -> Result<()> {
    let Some(rule) = collaborative else {
        return Ok(());
    };
    let choice: Option<Option<i64>> =
        sqlx::query_scalar("SELECT collaborative_metadata FROM accounts WHERE id = ?")
            .bind(owner.to_string())
            .fetch_optional(&mut *conn)
            .await
            .map_err(Error::db("read collaborative editing"))?;
    if rule.is_allowed_by(choice.flatten().map(|c| c != 0)) {
        return Ok(());
    }
    Err(Error::CollaborationRefused)
}
