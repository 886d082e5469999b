//! Conversions between catalog rows and domain types.

use chrono::{DateTime, SubsecRound, Utc};
use flaneur_model::{NewPicture, Origin, Picture, Sequence};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{Postgres, Row};

use crate::federation::RemotePictureDoc;
use crate::{Error, Result};

/// An instant as stored: PostgreSQL keeps microseconds and would round the rest, where the
/// SQLite catalog cuts it off; cutting it here keeps both catalogs storing the same instants.
pub(super) fn stored(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

/// Reads a column, or says which one could not be read.
pub(super) fn get<'r, T>(row: &'r PgRow, table: &'static str, col: &str) -> Result<T>
where
    T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    row.try_get(col)
        .map_err(|e| Error::corrupt(table, format!("{col}: {e}")))
}

/// Reads a text column and parses it (statuses, visibilities, kinds).
pub(super) fn parse_col<T: std::str::FromStr>(
    row: &PgRow,
    table: &'static str,
    col: &str,
) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    let text: String = get(row, table, col)?;
    text.parse()
        .map_err(|e: T::Err| Error::corrupt(table, format!("{col}: {e}")))
}

/// Reads a JSON column and decodes it.
pub(super) fn json_col<T: serde::de::DeserializeOwned>(
    row: &PgRow,
    table: &'static str,
    col: &str,
) -> Result<T> {
    let Json(value): Json<serde_json::Value> = get(row, table, col)?;
    serde_json::from_value(value).map_err(|e| Error::corrupt(table, format!("{col}: {e}")))
}

/// The columns [`picture_from_row`] reads, for `SELECT` lists (`p` = pictures,
/// `sp` = sequence_pictures).
pub(super) const PICTURE_COLUMNS: &str = "p.doc, p.status, p.heading_deg, p.heading_computed, \
     p.created_at, p.updated_at, p.process_error, p.visibility, p.peer_id, p.remote_doc, \
     sp.sequence_id, sp.rank";

/// Decodes a picture row selected with [`PICTURE_COLUMNS`].
pub(super) fn picture_from_row(row: &PgRow) -> Result<Picture> {
    let t = "pictures";
    let origin = origin(row, t)?;
    let mut base: NewPicture = if origin.is_some() {
        json_col::<RemotePictureDoc>(row, t, "doc")?.into_base(None)
    } else {
        json_col(row, t, "doc")?
    };
    base.heading_deg = get(row, t, "heading_deg")?;
    base.visibility = parse_col(row, t, "visibility")?;
    let sequence_id: Option<uuid::Uuid> = get(row, "sequence_pictures", "sequence_id")?;
    Ok(Picture {
        base,
        status: parse_col(row, t, "status")?,
        heading_computed: get(row, t, "heading_computed")?,
        sequence_id: sequence_id.map(Into::into),
        rank: get(row, "sequence_pictures", "rank")?,
        created_at: get(row, t, "created_at")?,
        updated_at: get(row, t, "updated_at")?,
        process_error: get(row, t, "process_error")?,
        origin,
    })
}

/// The origin of a remote row, from its `peer_id` and `remote_doc` columns.
fn origin(row: &PgRow, table: &'static str) -> Result<Option<Origin>> {
    let peer: Option<uuid::Uuid> = get(row, table, "peer_id")?;
    let doc: Option<Json<serde_json::Value>> = get(row, table, "remote_doc")?;
    crate::federation::origin(table, peer.map(Into::into), doc.map(|Json(d)| d))
}

/// Decodes a `SELECT * FROM sequences` row.
pub(super) fn sequence_from_row(row: &PgRow) -> Result<Sequence> {
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
        id: get::<uuid::Uuid>(row, t, "id")?.into(),
        upload_set_id: get::<Option<uuid::Uuid>>(row, t, "upload_set_id")?.map(Into::into),
        account_id: get::<uuid::Uuid>(row, t, "account_id")?.into(),
        title: get(row, t, "title")?,
        status: parse_col(row, t, "status")?,
        visibility: parse_col(row, t, "visibility")?,
        sorted_by: get(row, t, "sorted_by")?,
        user_agent: get(row, t, "user_agent")?,
        relative_heading_deg: get(row, t, "relative_heading_deg")?,
        created_at: get(row, t, "created_at")?,
        updated_at: get(row, t, "updated_at")?,
        nb_pictures: get(row, t, "nb_pictures")?,
        min_captured_at: get(row, t, "min_captured_at")?,
        max_captured_at: get(row, t, "max_captured_at")?,
        bbox,
        length_km: get(row, t, "length_km")?,
        gps_accuracy_m: get(row, t, "gps_accuracy_m")?,
        origin: origin(row, t)?,
        origin_removed_at: get(row, t, "origin_removed_at")?,
    })
}
