//! What map tiles are drawn from: stored sequence lines and pictures in a bbox (both through
//! their GiST index), the picture grid, and the data version that tile ETags carry. Triggers
//! of the `map` migration mark what to redraw and move the version; [`super::sequence_line`]
//! redraws.

use flaneur_model::{AccountId, camera_model, h_pixel_density};
use sqlx::postgres::{PgPool, PgRow};
use sqlx::types::Json;
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use super::codec::{get, parse_col};
use super::sequence_line::{GRID_STEP_DEG, LineRedraws};
use crate::catalog::{DataVersion, GridCell, MapPicture, MapQuery, MapSequence};
use crate::track::decode_lines;
use crate::{Error, Result};

/// ` AND <col> && <bbox>`, the bounds bound as parameters. A box whose minimum exceeds its
/// maximum holds nothing.
pub(super) fn push_in_box(sql: &mut QueryBuilder<Postgres>, col: &str, bbox: [f64; 4]) {
    let [min_lon, min_lat, max_lon, max_lat] = bbox;
    if !(min_lon <= max_lon && min_lat <= max_lat) {
        sql.push(" AND FALSE");
        return;
    }
    sql.push(format!(" AND {col} && ST_MakeEnvelope("))
        .push_bind(min_lon)
        .push(", ")
        .push_bind(min_lat)
        .push(", ")
        .push_bind(max_lon)
        .push(", ")
        .push_bind(max_lat)
        .push(", 4326)");
}

/// `AND <col> = $n` when the query is limited to one account.
fn push_account(sql: &mut QueryBuilder<Postgres>, col: &str, account: Option<AccountId>) {
    if let Some(account) = account {
        sql.push(format!(" AND {col} = "));
        sql.push_bind(account.0);
    }
}

/// The ready sequences of a map read, from their stored lines, after redrawing the stale ones
/// (waiting a while at most).
pub(crate) async fn map_sequences(
    pool: &PgPool,
    lines: &LineRedraws,
    query: &MapQuery,
) -> Result<Vec<MapSequence>> {
    lines.redraw_for_read(pool).await;
    let column = if query.simplified {
        "m.lines_simplified"
    } else {
        "m.lines"
    };
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(format!(
        "SELECT s.id, s.account_id, s.visibility, s.gps_accuracy_m, {column} AS lines,
                m.model, m.projection, m.capture_date, m.h_pixel_density
         FROM map_sequences m
         JOIN sequences s ON s.id = m.sequence_id
         WHERE s.status = 'ready'"
    ));
    push_in_box(&mut sql, "m.geom", query.bbox);
    push_account(&mut sql, "s.account_id", query.account);
    sql.push(" ORDER BY s.created_at, s.id");
    let rows = sql
        .build()
        .fetch_all(pool)
        .await
        .map_err(Error::db("list sequences of a tile"))?;
    rows.iter().map(map_sequence_from_row).collect()
}

fn map_sequence_from_row(row: &PgRow) -> Result<MapSequence> {
    let t = "map_sequences";
    let bytes: Vec<u8> = get(row, t, "lines")?;
    let projection: Option<String> = get(row, t, "projection")?;
    Ok(MapSequence {
        id: get::<Uuid>(row, t, "id")?.into(),
        account_id: get::<Uuid>(row, t, "account_id")?.into(),
        visibility: parse_col(row, t, "visibility")?,
        lines: decode_lines(&bytes).ok_or_else(|| Error::corrupt(t, "lines: malformed"))?,
        model: get(row, t, "model")?,
        projection: projection
            .map(|p| p.parse())
            .transpose()
            .map_err(|e| Error::corrupt(t, format!("projection: {e}")))?,
        capture_date: get(row, t, "capture_date")?,
        gps_accuracy_m: get(row, t, "gps_accuracy_m")?,
        h_pixel_density: get(row, t, "h_pixel_density")?,
    })
}

/// The ready pictures of ready sequences of a map read.
pub(crate) async fn map_pictures(pool: &PgPool, query: &MapQuery) -> Result<Vec<MapPicture>> {
    // Only the fields the pictures layer shows are read out of the stored document: a whole
    // document carries every EXIF tag of the file.
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(
        "SELECT p.id, p.account_id, sp.sequence_id, p.visibility,
                s.visibility AS sequence_visibility, p.lon, p.lat, p.captured_at, p.heading_deg,
                p.projection, p.doc #>> '{details,make}' AS make,
                p.doc #>> '{details,model}' AS model,
                p.doc #> '{details,gps_accuracy_m}' AS gps_accuracy_m,
                p.doc #> '{details,field_of_view_deg}' AS field_of_view_deg,
                p.doc -> 'width' AS width
         FROM pictures p
         JOIN sequence_pictures sp ON sp.picture_id = p.id
         JOIN sequences s ON s.id = sp.sequence_id
         WHERE p.status = 'ready' AND s.status = 'ready'",
    );
    push_in_box(&mut sql, "p.geom", query.bbox);
    push_account(&mut sql, "p.account_id", query.account);
    sql.push(" ORDER BY s.created_at, s.id, sp.rank");
    let rows = sql
        .build()
        .fetch_all(pool)
        .await
        .map_err(Error::db("list pictures of a tile"))?;
    rows.iter().map(map_picture_from_row).collect()
}

/// A number of the picture document, read as SQLite's `json_extract` reads it: a JSON number
/// is the number, anything else (absent, null, text) none.
pub(super) fn json_number(row: &PgRow, table: &'static str, col: &str) -> Result<Option<f64>> {
    let value: Option<Json<serde_json::Value>> = get(row, table, col)?;
    Ok(value.and_then(|Json(v)| v.as_f64()))
}

fn map_picture_from_row(row: &PgRow) -> Result<MapPicture> {
    let t = "pictures";
    let make: Option<String> = get(row, t, "make")?;
    let model: Option<String> = get(row, t, "model")?;
    let width = json_number(row, t, "width")?
        .and_then(|w| u32::try_from(w as i64).ok())
        .unwrap_or(0);
    Ok(MapPicture {
        id: get::<Uuid>(row, t, "id")?.into(),
        account_id: get::<Uuid>(row, t, "account_id")?.into(),
        sequence_id: get::<Uuid>(row, t, "sequence_id")?.into(),
        visibility: parse_col(row, t, "visibility")?,
        sequence_visibility: parse_col(row, t, "sequence_visibility")?,
        lon: get(row, t, "lon")?,
        lat: get(row, t, "lat")?,
        captured_at: get(row, t, "captured_at")?,
        heading_deg: get(row, t, "heading_deg")?,
        projection: parse_col(row, t, "projection")?,
        model: camera_model(make.as_deref(), model.as_deref()),
        gps_accuracy_m: json_number(row, t, "gps_accuracy_m")?,
        h_pixel_density: h_pixel_density(width, json_number(row, t, "field_of_view_deg")?),
    })
}

/// The published pictures per point of the grid, after redrawing the stale sequences (waiting
/// a while at most).
pub(crate) async fn picture_grid(pool: &PgPool, lines: &LineRedraws) -> Result<Vec<GridCell>> {
    lines.redraw_for_read(pool).await;
    let rows: Vec<(i32, i32, i64, i64)> = sqlx::query_as(
        "SELECT cell_x, cell_y, sum(nb_pictures)::bigint, sum(nb_360_pictures)::bigint
         FROM map_grid GROUP BY cell_x, cell_y HAVING sum(nb_pictures) > 0
         ORDER BY cell_x, cell_y",
    )
    .fetch_all(pool)
    .await
    .map_err(Error::db("read the picture grid"))?;
    Ok(rows
        .into_iter()
        .map(|(x, y, nb, nb_360)| GridCell {
            lon: f64::from(x) * GRID_STEP_DEG,
            lat: f64::from(y) * GRID_STEP_DEG,
            nb_pictures: nb,
            nb_360_pictures: nb_360,
        })
        .collect())
}

/// The catalog's data version, moved by the triggers of the `map` migration and by redraws.
pub(crate) async fn data_version(pool: &PgPool) -> Result<DataVersion> {
    let (catalog, counter): (String, i64) =
        sqlx::query_as("SELECT catalog_id, version FROM catalog_identity, data_version")
            .fetch_one(pool)
            .await
            .map_err(Error::db("read the catalog data version"))?;
    Ok(DataVersion { catalog, counter })
}
