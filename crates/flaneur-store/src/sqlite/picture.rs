//! Reads and state changes of single pictures and of a sequence's pictures.

use flaneur_model::{Picture, PictureId, PictureStatus, SequenceId, UploadSetId};
use sqlx::SqlitePool;

use super::codec::{PICTURE_COLUMNS, picture_from_row};
use super::upload::delete_picture_row;
use crate::catalog::RankQuery;
use crate::{Error, Result};

pub(super) async fn pictures_by_md5(
    pool: &SqlitePool,
    md5: &str,
) -> Result<Vec<(PictureId, Option<UploadSetId>)>> {
    let rows: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT id, upload_set_id FROM pictures
         WHERE content_md5 = ? AND status != 'waiting-for-delete'",
    )
    .bind(md5)
    .fetch_all(pool)
    .await
    .map_err(Error::db("look up picture by checksum"))?;
    rows.into_iter()
        .map(|(id, set)| {
            let id = id.parse().map_err(|e| Error::corrupt("pictures", e))?;
            let set = match set {
                Some(s) => Some(s.parse().map_err(|e| Error::corrupt("pictures", e))?),
                None => None,
            };
            Ok((id, set))
        })
        .collect()
}

pub(super) async fn picture(pool: &SqlitePool, id: PictureId) -> Result<Option<Picture>> {
    let sql = format!(
        "SELECT {PICTURE_COLUMNS} FROM pictures p
         LEFT JOIN sequence_pictures sp ON sp.picture_id = p.id
         WHERE p.id = ?"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id.to_string())
        .fetch_optional(pool)
        .await
        .map_err(Error::db("read picture"))?;
    row.as_ref().map(picture_from_row).transpose()
}

pub(super) async fn upload_set_pictures(
    pool: &SqlitePool,
    id: UploadSetId,
) -> Result<Vec<Picture>> {
    let sql = format!(
        "SELECT {PICTURE_COLUMNS} FROM pictures p
         LEFT JOIN sequence_pictures sp ON sp.picture_id = p.id
         WHERE p.upload_set_id = ? AND p.status != 'waiting-for-delete'
         ORDER BY p.created_at, p.id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id.to_string())
        .fetch_all(pool)
        .await
        .map_err(Error::db("list upload set pictures"))?;
    rows.iter().map(picture_from_row).collect()
}

pub(super) async fn set_picture_status(
    pool: &SqlitePool,
    id: PictureId,
    status: PictureStatus,
    error: Option<&str>,
) -> Result<()> {
    // No write of this module sets `updated_at`: the triggers of the `updated_at` migration
    // move it when the row really changes.
    sqlx::query("UPDATE pictures SET status = ?, process_error = ? WHERE id = ?")
        .bind(status.as_str())
        .bind(error)
        .bind(id.to_string())
        .execute(pool)
        .await
        .map_err(Error::db("update picture status"))?;
    Ok(())
}

pub(super) async fn transition_picture(
    pool: &SqlitePool,
    id: PictureId,
    from: &[PictureStatus],
    to: PictureStatus,
    error: Option<&str>,
) -> Result<bool> {
    let mut sql = sqlx::QueryBuilder::new("UPDATE pictures SET status = ");
    sql.push_bind(to.as_str())
        .push(", process_error = ")
        .push_bind(error.map(str::to_owned))
        .push(" WHERE id = ")
        .push_bind(id.to_string())
        .push(" AND status IN (");
    let mut list = sql.separated(", ");
    for status in from {
        list.push_bind(status.as_str());
    }
    sql.push(")");
    let done = sql
        .build()
        .execute(pool)
        .await
        .map_err(Error::db("change picture status"))?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn remove_picture(pool: &SqlitePool, id: PictureId) -> Result<()> {
    let mut tx = pool.begin().await.map_err(Error::db("remove picture"))?;
    delete_picture_row(&mut tx, &id.to_string()).await?;
    tx.commit().await.map_err(Error::db("remove picture"))
}

pub(super) async fn sequence_pictures(
    pool: &SqlitePool,
    id: SequenceId,
    query: RankQuery,
) -> Result<Vec<Picture>> {
    let status_filter = if query.include_unready {
        ""
    } else {
        "AND p.status = 'ready'"
    };
    let sql = format!(
        "SELECT {PICTURE_COLUMNS} FROM sequence_pictures sp
         JOIN pictures p ON p.id = sp.picture_id
         WHERE sp.sequence_id = ? AND sp.rank > ? {status_filter}
         ORDER BY sp.rank
         LIMIT ?"
    );
    let limit = query
        .limit
        .map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id.to_string())
        .bind(query.after_rank.unwrap_or(i64::MIN))
        .bind(limit)
        .fetch_all(pool)
        .await
        .map_err(Error::db("list sequence pictures"))?;
    rows.iter().map(picture_from_row).collect()
}

pub(super) async fn sequence_rank_bounds(
    pool: &SqlitePool,
    id: SequenceId,
) -> Result<Option<(i64, i64)>> {
    let (min, max): (Option<i64>, Option<i64>) = sqlx::query_as(
        "SELECT min(sp.rank), max(sp.rank) FROM sequence_pictures sp
         JOIN pictures p ON p.id = sp.picture_id
         WHERE sp.sequence_id = ? AND p.status = 'ready'",
    )
    .bind(id.to_string())
    .fetch_one(pool)
    .await
    .map_err(Error::db("read sequence ranks"))?;
    Ok(min.zip(max))
}

pub(super) async fn sequence_neighbours(
    pool: &SqlitePool,
    id: SequenceId,
    rank: i64,
) -> Result<(Option<Picture>, Option<Picture>)> {
    let one = |op: &str, order: &str| {
        format!(
            "SELECT {PICTURE_COLUMNS} FROM sequence_pictures sp
             JOIN pictures p ON p.id = sp.picture_id
             WHERE sp.sequence_id = ? AND sp.rank {op} ? AND p.status = 'ready'
             ORDER BY sp.rank {order} LIMIT 1"
        )
    };
    let mut found = Vec::with_capacity(2);
    for sql in [one("<", "DESC"), one(">", "ASC")] {
        let row = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(id.to_string())
            .bind(rank)
            .fetch_optional(pool)
            .await
            .map_err(Error::db("read sequence neighbours"))?;
        found.push(row.as_ref().map(picture_from_row).transpose()?);
    }
    let next = found.pop().flatten();
    let prev = found.pop().flatten();
    Ok((prev, next))
}
