//! Reads and state changes of single pictures and of a sequence's pictures.

use flaneur_model::{Picture, PictureId, PictureStatus, SequenceId, UploadSetId, Viewer};
use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::codec::{PICTURE_COLUMNS, picture_from_row};
use super::upload::delete_picture_row;
use crate::catalog::RankQuery;
use crate::visibility::push_picture_visible;
use crate::{Error, Result};

pub(super) async fn pictures_by_md5(
    pool: &PgPool,
    md5: &str,
) -> Result<Vec<(PictureId, Option<UploadSetId>)>> {
    let rows: Vec<(Uuid, Option<Uuid>)> = sqlx::query_as(
        "SELECT id, upload_set_id FROM pictures
         WHERE content_md5 = $1 AND status != 'waiting-for-delete'",
    )
    .bind(md5)
    .fetch_all(pool)
    .await
    .map_err(Error::db("look up picture by checksum"))?;
    Ok(rows
        .into_iter()
        .map(|(id, set)| (id.into(), set.map(Into::into)))
        .collect())
}

pub(super) async fn picture(pool: &PgPool, id: PictureId) -> Result<Option<Picture>> {
    let sql = format!(
        "SELECT {PICTURE_COLUMNS} FROM pictures p
         LEFT JOIN sequence_pictures sp ON sp.picture_id = p.id
         WHERE p.id = $1"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(pool)
        .await
        .map_err(Error::db("read picture"))?;
    row.as_ref().map(picture_from_row).transpose()
}

pub(super) async fn upload_set_pictures(pool: &PgPool, id: UploadSetId) -> Result<Vec<Picture>> {
    let sql = format!(
        "SELECT {PICTURE_COLUMNS} FROM pictures p
         LEFT JOIN sequence_pictures sp ON sp.picture_id = p.id
         WHERE p.upload_set_id = $1 AND p.status != 'waiting-for-delete'
         ORDER BY p.created_at, p.id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_all(pool)
        .await
        .map_err(Error::db("list upload set pictures"))?;
    rows.iter().map(picture_from_row).collect()
}

pub(super) async fn set_picture_status(
    pool: &PgPool,
    id: PictureId,
    status: PictureStatus,
    error: Option<&str>,
) -> Result<()> {
    // No write of this module sets `updated_at`: the triggers of the schema move it when the
    // row really changes.
    let done = sqlx::query(
        "UPDATE pictures SET status = $1, process_error = $2 WHERE id = $3 AND peer_id IS NULL",
    )
    .bind(status.as_str())
    .bind(error)
    .bind(id.0)
    .execute(pool)
    .await
    .map_err(Error::db("update picture status"))?;
    if done.rows_affected() == 0 {
        let mut conn = pool.acquire().await.map_err(Error::db("read origin"))?;
        super::federation::refuse_remote_rows(&mut conn, Some(id), None).await?;
    }
    Ok(())
}

pub(super) async fn transition_picture(
    pool: &PgPool,
    id: PictureId,
    from: &[PictureStatus],
    to: PictureStatus,
    error: Option<&str>,
) -> Result<bool> {
    let from: Vec<&str> = from.iter().map(PictureStatus::as_str).collect();
    let done = sqlx::query(
        "UPDATE pictures SET status = $1, process_error = $2
         WHERE id = $3 AND status = ANY ($4) AND peer_id IS NULL",
    )
    .bind(to.as_str())
    .bind(error)
    .bind(id.0)
    .bind(from)
    .execute(pool)
    .await
    .map_err(Error::db("change picture status"))?;
    if done.rows_affected() == 1 {
        return Ok(true);
    }
    let mut conn = pool.acquire().await.map_err(Error::db("read origin"))?;
    super::federation::refuse_remote_rows(&mut conn, Some(id), None).await?;
    Ok(false)
}

pub(super) async fn remove_picture(pool: &PgPool, id: PictureId) -> Result<()> {
    let mut conn = pool.acquire().await.map_err(Error::db("remove picture"))?;
    super::federation::refuse_remote_rows(&mut conn, Some(id), None).await?;
    delete_picture_row(&mut conn, id).await
}

pub(super) async fn sequence_pictures(
    pool: &PgPool,
    id: SequenceId,
    query: RankQuery,
) -> Result<Vec<Picture>> {
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(format!(
        "SELECT {PICTURE_COLUMNS} FROM sequence_pictures sp
         JOIN pictures p ON p.id = sp.picture_id
         JOIN sequences s ON s.id = sp.sequence_id
         WHERE sp.sequence_id = "
    ));
    sql.push_bind(id.0)
        .push(" AND sp.rank > ")
        .push_bind(query.after_rank.unwrap_or(i64::MIN));
    if !query.include_unready {
        sql.push(" AND p.status = 'ready'");
    }
    if let Some(viewer) = query.visible_to {
        sql.push(" AND ");
        push_picture_visible(&mut sql, viewer);
    }
    // No limit reads as `LIMIT NULL`: every row.
    let limit = query.limit.map(|l| i64::try_from(l).unwrap_or(i64::MAX));
    sql.push(" ORDER BY sp.rank LIMIT ").push_bind(limit);
    let rows = sql
        .build()
        .fetch_all(pool)
        .await
        .map_err(Error::db("list sequence pictures"))?;
    rows.iter().map(picture_from_row).collect()
}

pub(super) async fn sequence_rank_bounds(
    pool: &PgPool,
    id: SequenceId,
    viewer: Viewer,
) -> Result<Option<(i64, i64)>> {
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(
        "SELECT min(sp.rank), max(sp.rank) FROM sequence_pictures sp
         JOIN pictures p ON p.id = sp.picture_id
         JOIN sequences s ON s.id = sp.sequence_id
         WHERE p.status = 'ready' AND sp.sequence_id = ",
    );
    sql.push_bind(id.0).push(" AND ");
    push_picture_visible(&mut sql, viewer);
    let (min, max): (Option<i64>, Option<i64>) = sql
        .build_query_as()
        .fetch_one(pool)
        .await
        .map_err(Error::db("read sequence ranks"))?;
    Ok(min.zip(max))
}

pub(super) async fn sequence_neighbours(
    pool: &PgPool,
    id: SequenceId,
    rank: i64,
    viewer: Viewer,
) -> Result<(Option<Picture>, Option<Picture>)> {
    let mut found = Vec::with_capacity(2);
    for (op, order) in [("<", "DESC"), (">", "ASC")] {
        let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "SELECT {PICTURE_COLUMNS} FROM sequence_pictures sp
             JOIN pictures p ON p.id = sp.picture_id
             JOIN sequences s ON s.id = sp.sequence_id
             WHERE p.status = 'ready' AND sp.sequence_id = "
        ));
        sql.push_bind(id.0)
            .push(format!(" AND sp.rank {op} "))
            .push_bind(rank)
            .push(" AND ");
        push_picture_visible(&mut sql, viewer);
        sql.push(format!(" ORDER BY sp.rank {order} LIMIT 1"));
        let row = sql
            .build()
            .fetch_optional(pool)
            .await
            .map_err(Error::db("read sequence neighbours"))?;
        found.push(row.as_ref().map(picture_from_row).transpose()?);
    }
    let next = found.pop().flatten();
    let prev = found.pop().flatten();
    Ok((prev, next))
}
