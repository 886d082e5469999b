//! Reads and state changes of single pictures and of a sequence's pictures.

use flaneur_model::{Picture, PictureId, PictureStatus, SequenceId, UploadSetId, Viewer};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use super::codec::{PICTURE_COLUMNS, picture_from_row, push_bbox_overlap};
use super::upload::delete_picture_row;
use crate::catalog::{NearbyQuery, RankQuery};
use crate::visibility::push_picture_visible;
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
    let done = sqlx::query(
        "UPDATE pictures SET status = ?, process_error = ? WHERE id = ? AND peer_id IS NULL",
    )
    .bind(status.as_str())
    .bind(error)
    .bind(id.to_string())
    .execute(pool)
    .await
    .map_err(Error::db("update picture status"))?;
    if done.rows_affected() == 0 {
        let mut conn = pool.acquire().await.map_err(Error::db("read origin"))?;
        super::federation::refuse_remote_rows(&mut conn, Some(&id.to_string()), None).await?;
    }
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
        .push(" WHERE peer_id IS NULL AND id = ")
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
    if done.rows_affected() == 1 {
        return Ok(true);
    }
    let mut conn = pool.acquire().await.map_err(Error::db("read origin"))?;
    super::federation::refuse_remote_rows(&mut conn, Some(&id.to_string()), None).await?;
    Ok(false)
}

pub(super) async fn remove_picture(pool: &SqlitePool, id: PictureId) -> Result<()> {
    let mut tx = super::begin_write(pool)
        .await
        .map_err(Error::db("remove picture"))?;
    super::federation::refuse_remote_rows(&mut tx, Some(&id.to_string()), None).await?;
    delete_picture_row(&mut tx, &id.to_string()).await?;
    tx.commit().await.map_err(Error::db("remove picture"))
}

pub(super) async fn sequence_pictures(
    pool: &SqlitePool,
    id: SequenceId,
    query: RankQuery,
) -> Result<Vec<Picture>> {
    let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
        "SELECT {PICTURE_COLUMNS} FROM sequence_pictures sp
         JOIN pictures p ON p.id = sp.picture_id
         JOIN sequences s ON s.id = sp.sequence_id
         WHERE sp.sequence_id = "
    ));
    sql.push_bind(id.to_string())
        .push(" AND sp.rank > ")
        .push_bind(query.after_rank.unwrap_or(i64::MIN));
    if !query.include_unready {
        sql.push(" AND p.status = 'ready'");
    }
    if let Some(viewer) = query.visible_to {
        sql.push(" AND ");
        push_picture_visible(&mut sql, viewer);
    }
    let limit = query
        .limit
        .map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
    sql.push(" ORDER BY sp.rank LIMIT ").push_bind(limit);
    let rows = sql
        .build()
        .fetch_all(pool)
        .await
        .map_err(Error::db("list sequence pictures"))?;
    rows.iter().map(picture_from_row).collect()
}

pub(super) async fn sequence_rank_bounds(
    pool: &SqlitePool,
    id: SequenceId,
    viewer: Viewer,
) -> Result<Option<(i64, i64)>> {
    let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(
        "SELECT min(sp.rank), max(sp.rank) FROM sequence_pictures sp
         JOIN pictures p ON p.id = sp.picture_id
         JOIN sequences s ON s.id = sp.sequence_id
         WHERE p.status = 'ready' AND sp.sequence_id = ",
    );
    sql.push_bind(id.to_string()).push(" AND ");
    push_picture_visible(&mut sql, viewer);
    let (min, max): (Option<i64>, Option<i64>) = sql
        .build_query_as()
        .fetch_one(pool)
        .await
        .map_err(Error::db("read sequence ranks"))?;
    Ok(min.zip(max))
}

pub(super) async fn sequence_neighbours(
    pool: &SqlitePool,
    id: SequenceId,
    rank: i64,
    viewer: Viewer,
) -> Result<(Option<Picture>, Option<Picture>)> {
    let mut found = Vec::with_capacity(2);
    for (op, order) in [("<", "DESC"), (">", "ASC")] {
        let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "SELECT {PICTURE_COLUMNS} FROM sequence_pictures sp
             JOIN pictures p ON p.id = sp.picture_id
             JOIN sequences s ON s.id = sp.sequence_id
             WHERE p.status = 'ready' AND sp.sequence_id = "
        ));
        sql.push_bind(id.to_string())
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

/// Metres per degree of latitude (and of longitude at the equator), on a sphere of the Earth's
/// mean radius: at 15 m, the flat-Earth distance below is off by far less than a GPS fix.
const METRES_PER_DEG: f64 = 6_371_008.8 * std::f64::consts::PI / 180.0;

pub(super) async fn nearby_pictures(
    pool: &SqlitePool,
    query: &NearbyQuery,
) -> Result<Vec<Picture>> {
    // Metres per degree of longitude shrink with the latitude; near the poles the box spans
    // every longitude rather than dividing by almost nothing.
    let x_m_per_deg = METRES_PER_DEG * query.lat.to_radians().cos();
    let half_lat = query.within_m / METRES_PER_DEG;
    let half_lon = if x_m_per_deg > query.within_m / 180.0 {
        query.within_m / x_m_per_deg
    } else {
        180.0
    };
    let bbox = [
        query.lon - half_lon,
        query.lat - half_lat,
        query.lon + half_lon,
        query.lat + half_lat,
    ];

    // One statement: the R*Tree narrows to the box, the squared distance in metres keeps the
    // circle, and a window keeps the nearest picture of each sequence.
    let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
        "WITH near AS (
             SELECT {PICTURE_COLUMNS}, p.id AS picture_id,
                 ((p.lon - "
    ));
    sql.push_bind(query.lon)
        .push(") * ")
        .push_bind(x_m_per_deg)
        .push(") * ((p.lon - ")
        .push_bind(query.lon)
        .push(") * ")
        .push_bind(x_m_per_deg)
        .push(") + ((p.lat - ")
        .push_bind(query.lat)
        .push(") * ")
        .push_bind(METRES_PER_DEG)
        .push(") * ((p.lat - ")
        .push_bind(query.lat)
        .push(") * ")
        .push_bind(METRES_PER_DEG)
        .push(
            ") AS distance_m2
             FROM pictures_rtree r
             JOIN pictures p ON p.rowid = r.id
             JOIN sequence_pictures sp ON sp.picture_id = p.id
             JOIN sequences s ON s.id = sp.sequence_id
             WHERE p.status = 'ready' AND s.status = 'ready' AND sp.sequence_id != ",
        )
        .push_bind(query.sequence.to_string())
        .push(" AND ");
    push_picture_visible(&mut sql, query.viewer);
    sql.push(" AND ");
    push_bbox_overlap(&mut sql, "r.", bbox);
    if let Some((heading, gap)) = query.facing {
        // Headings lie in [0, 360): the gap between two is the shorter way round.
        sql.push(" AND (p.heading_deg IS NULL OR min(abs(p.heading_deg - ")
            .push_bind(heading)
            .push("), 360 - abs(p.heading_deg - ")
            .push_bind(heading)
            .push(")) < ")
            .push_bind(gap)
            .push(")");
    }
    sql.push(
        "), nearest AS (
             SELECT *, row_number() OVER (
                 PARTITION BY sequence_id ORDER BY distance_m2, picture_id) AS nth
             FROM near WHERE distance_m2 <= ",
    )
    .push_bind(query.within_m * query.within_m)
    .push(") SELECT * FROM nearest WHERE nth = 1 ORDER BY distance_m2, picture_id");

    let rows = sql
        .build()
        .fetch_all(pool)
        .await
        .map_err(Error::db("read nearby pictures"))?;
    rows.iter().map(picture_from_row).collect()
}
