//! Conversions between catalog rows and domain types.

use chrono::{DateTime, TimeZone, Utc};
use flaneur_model::{NewPicture, Origin, PeerId, Picture, Sequence};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};

use crate::federation::RemotePictureDoc;
use crate::{Error, Result};

/// Instants are stored as microseconds since the epoch: exact, compact and ordered.
/// Appends the condition that the box of columns `{prefix}min_lon`…`{prefix}max_lat` overlaps
/// `[min_lon, min_lat, max_lon, max_lat]`, with the bounds bound as parameters.
pub(super) fn push_bbox_overlap(sql: &mut QueryBuilder<Sqlite>, prefix: &str, bbox: [f64; 4]) {
    let [min_lon, min_lat, max_lon, max_lat] = bbox;
    sql.push(format!("{prefix}min_lon <= "))
        .push_bind(max_lon)
        .push(format!(" AND {prefix}max_lon >= "))
        .push_bind(min_lon)
        .push(format!(" AND {prefix}min_lat <= "))
        .push_bind(max_lat)
        .push(format!(" AND {prefix}max_lat >= "))
        .push_bind(min_lat);
}

pub(super) fn to_micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// The inverse of [`to_micros`].
pub(super) fn from_micros(us: i64) -> DateTime<Utc> {
    Utc.timestamp_micros(us)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Reads a text column and parses it.
pub(super) fn parse_col<T: std::str::FromStr>(
    row: &SqliteRow,
    table: &'static str,
    col: &str,
) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    let text: String = row.try_get(col).map_err(|e| Error::corrupt(table, e))?;
    text.parse()
        .map_err(|e: T::Err| Error::corrupt(table, format!("{col}: {e}")))
}

/// Reads a nullable text column and parses it when present.
pub(super) fn parse_opt_col<T: std::str::FromStr>(
    row: &SqliteRow,
    table: &'static str,
    col: &str,
) -> Result<Option<T>>
where
    T::Err: std::fmt::Display,
{
    let text: Option<String> = row.try_get(col).map_err(|e| Error::corrupt(table, e))?;
    text.map(|t| {
        t.parse()
            .map_err(|e: T::Err| Error::corrupt(table, format!("{col}: {e}")))
    })
    .transpose()
}

pub(super) fn get<'r, T>(row: &'r SqliteRow, table: &'static str, col: &str) -> Result<T>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    row.try_get(col)
        .map_err(|e| Error::corrupt(table, format!("{col}: {e}")))
}

/// The columns [`picture_from_row`] reads, for `SELECT` lists (`p` = pictures,
/// `sp` = sequence_pictures).
pub(super) const PICTURE_COLUMNS: &str = "p.doc, p.status, p.heading_deg, p.heading_computed, \
     p.created_at, p.updated_at, p.process_error, p.visibility, p.peer_id, p.remote_doc, \
     sp.sequence_id, sp.rank";

/// Decodes a picture row selected with [`PICTURE_COLUMNS`].
pub(super) fn picture_from_row(row: &SqliteRow) -> Result<Picture> {
    let doc: String = get(row, "pictures", "doc")?;
    let origin = origin(row, "pictures")?;
    let mut base: NewPicture = if origin.is_some() {
        let remote: RemotePictureDoc =
            serde_json::from_str(&doc).map_err(|e| Error::corrupt("pictures", e))?;
        remote.into_base(None)
    } else {
        serde_json::from_str(&doc).map_err(|e| Error::corrupt("pictures", e))?
    };
    base.heading_deg = get(row, "pictures", "heading_deg")?;
    base.visibility = parse_col(row, "pictures", "visibility")?;

    let sequence_id: Option<String> = get(row, "pictures", "sequence_id")?;
    let sequence_id = match sequence_id {
        Some(s) => Some(
            s.parse()
                .map_err(|e| Error::corrupt("sequence_pictures", e))?,
        ),
        None => None,
    };
    Ok(Picture {
        base,
        status: parse_col(row, "pictures", "status")?,
        heading_computed: get::<i64>(row, "pictures", "heading_computed")? != 0,
        sequence_id,
        rank: get(row, "pictures", "rank")?,
        created_at: from_micros(get(row, "pictures", "created_at")?),
        updated_at: from_micros(get(row, "pictures", "updated_at")?),
        process_error: get(row, "pictures", "process_error")?,
        origin,
    })
}

/// The origin of a remote row, from its `peer_id` and `remote_doc` columns.
fn origin(row: &SqliteRow, table: &'static str) -> Result<Option<Origin>> {
    let peer: Option<PeerId> = parse_opt_col(row, table, "peer_id")?;
    let doc: Option<String> = get(row, table, "remote_doc")?;
    let doc = doc
        .map(|d| serde_json::from_str(&d))
        .transpose()
        .map_err(|e| Error::corrupt(table, format!("remote_doc: {e}")))?;
    crate::federation::origin(table, peer, doc)
}

/// Decodes a `SELECT * FROM sequences` row.
pub(super) fn sequence_from_row(row: &SqliteRow) -> Result<Sequence> {
    let t = "sequences";
    let bbox = match (
        get::<Option<f64>>(row, t, "min_lon")?,
        get::<Option<f64>>(row, t, "min_lat")?,
        get::<Option<f64>>(row, t, "max_lon")?,
        get::<Option<f64>>(row, t, "max_lat")?,
    ) {
        (Some(a), Some(b), Some(c), Some(d)) => Some([a, b, c, d]),
        _ => None,
    };
    Ok(Sequence {
        id: parse_col(row, t, "id")?,
        upload_set_id: parse_opt_col(row, t, "upload_set_id")?,
        account_id: parse_col(row, t, "account_id")?,
        title: get(row, t, "title")?,
        status: parse_col(row, t, "status")?,
        visibility: parse_col(row, t, "visibility")?,
        sorted_by: get(row, t, "sorted_by")?,
        user_agent: get(row, t, "user_agent")?,
        relative_heading_deg: get(row, t, "relative_heading_deg")?,
        created_at: from_micros(get(row, t, "created_at")?),
        updated_at: from_micros(get(row, t, "updated_at")?),
        nb_pictures: get(row, t, "nb_pictures")?,
        min_captured_at: get::<Option<i64>>(row, t, "min_captured_at")?.map(from_micros),
        max_captured_at: get::<Option<i64>>(row, t, "max_captured_at")?.map(from_micros),
        bbox,
        length_km: get(row, t, "length_km")?,
        gps_accuracy_m: get(row, t, "gps_accuracy_m")?,
        origin: origin(row, t)?,
        origin_removed_at: get::<Option<i64>>(row, t, "origin_removed_at")?.map(from_micros),
    })
}
