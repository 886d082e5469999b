//! Upload sets: create, read, add files, list files, complete, delete.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::header::{LOCATION, USER_AGENT};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::DateTime;
use flaneur_model::{
    MAX_TAGS, NewUploadSet, SemanticTag, SortMethod, UploadSetId, Viewer, Visibility,
};
use flaneur_service::ingest::{self, FileOptions, Overrides, StagedFile};
use flaneur_service::{Error, IngestError};
use futures::TryStreamExt;
use serde_json::{Map, Value, json};

use crate::auth::Uploader;
use crate::url::BaseUrl;
use crate::{ApiError, ApiResult, AppState, ReadAs, stac};
use crate::{nul, params};

fn set_id(text: &str) -> Result<UploadSetId, ApiError> {
    params::path_id(text, "UploadSet doesn't exist")
}

/// `POST /api/upload_sets`: creates an upload set from a JSON body.
pub async fn create(
    State(state): State<AppState>,
    base: BaseUrl,
    uploader: Uploader,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body = params::json_body(
        &headers,
        body,
        "Parameter for creating an UploadSet should be a valid JSON",
    )?;
    let fields: Map<String, Value> = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "Parameters for creating an UploadSet are not a valid JSON object: {e}"
        ))
    })?;

    let account_id = uploader.account_id;
    let user_agent = headers
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let spec = upload_set_spec(&fields, account_id, uploader.default_visibility, user_agent)?;
    let set = state.services.create_upload_set(spec).await?;
    // Its creator owns it.
    let owner = Viewer::account(set.spec.account_id, false);
    let view = state.services.upload_set(set.id, owner).await?;
    let location = base.api(&format!("/upload_sets/{}", set.id));
    Ok(([(LOCATION, location)], Json(stac::upload_set(&base, &view))).into_response())
}

/// Checks every field of an upload set request, reporting all problems at once in the
/// Panoramax `details` list form.
fn upload_set_spec(
    fields: &Map<String, Value>,
    account_id: flaneur_model::AccountId,
    default_visibility: Option<Visibility>,
    user_agent: Option<String>,
) -> Result<NewUploadSet, ApiError> {
    let mut problems: Vec<Value> = Vec::new();
    let mut problem = |field: &str, error: &str, input: Option<&Value>| {
        // Long inputs are echoed cut short: the client has them already.
        let input = match input {
            Some(Value::String(s)) if s.chars().count() > 100 => Some(json!(format!(
                "{}…",
                s.chars().take(100).collect::<String>()
            ))),
            Some(Value::Object(_)) => Some(json!("(the request body)")),
            other => other.cloned(),
        };
        problems.push(json!({ "fields": [field], "error": error, "input": input }));
    };
    let get = |k: &str| fields.get(k).filter(|v| !v.is_null());

    let title = match get("title") {
        Some(Value::String(t)) if !t.trim().is_empty() && t.chars().count() <= 250 => t.clone(),
        Some(v) => {
            problem(
                "title",
                "Title should be a non-empty string of at most 250 characters",
                Some(v),
            );
            String::new()
        }
        None => {
            problem(
                "title",
                "Field required",
                Some(&Value::Object(fields.clone())),
            );
            String::new()
        }
    };
    let mut int = |k: &str, min: i64| match get(k) {
        None => None,
        Some(v) => match v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        {
            Some(n) if n >= min => Some(n),
            _ => {
                problem(
                    k,
                    &format!("Input should be a valid integer of at least {min}"),
                    Some(v),
                );
                None
            }
        },
    };
    let estimated_nb_files = int("estimated_nb_files", 0);
    let mut number = |k: &str, range: std::ops::RangeInclusive<f64>| match get(k) {
        None => None,
        Some(v) => match v
            .as_f64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        {
            Some(n) if range.contains(&n) => Some(n),
            _ => {
                let msg = if *range.end() == f64::MAX {
                    format!("Input should be a number of at least {}", range.start())
                } else {
                    format!(
                        "Input should be a number between {} and {}",
                        range.start(),
                        range.end()
                    )
                };
                problem(k, &msg, Some(v));
                None
            }
        },
    };
    let split_distance_m = number("split_distance", 0.0..=f64::MAX);
    let duplicate_distance_m = number("duplicate_distance", 0.0..=f64::MAX);
    let duplicate_rotation_deg = number("duplicate_rotation", 0.0..=180.0);
    let relative_heading_deg = number("relative_heading", -180.0..=180.0);
    let split_time_secs = match get("split_time") {
        None => None,
        Some(v) => match v
            .as_f64()
            .filter(|n| *n >= 0.0)
            .or_else(|| v.as_str().and_then(iso_duration_secs))
        {
            Some(n) => Some(n),
            None => {
                problem(
                    "split_time",
                    "Input should be a number of seconds or an ISO 8601 \
                         duration such as PT5M",
                    Some(v),
                );
                None
            }
        },
    };
    let mut boolean = |k: &str| match get(k) {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(v) => {
            problem(k, "Input should be a valid boolean", Some(v));
            None
        }
    };
    let no_split = boolean("no_split");
    let no_deduplication = boolean("no_deduplication");
    let sort_method = match get("sort_method") {
        None => None,
        Some(v) => match v.as_str().map(str::parse::<SortMethod>) {
            Some(Ok(m)) => Some(m),
            _ => {
                problem(
                    "sort_method",
                    "Input should be 'filename-asc', 'filename-desc', \
                         'time-asc' or 'time-desc'",
                    Some(v),
                );
                None
            }
        },
    };
    // The account's choice when the request makes none.
    let visibility = match get("visibility") {
        None => default_visibility.unwrap_or_default(),
        Some(v) => match v.as_str().map(str::parse::<Visibility>) {
            Some(Ok(vis)) => vis,
            _ => {
                problem(
                    "visibility",
                    "Input should be 'anyone', 'logged-only' or 'owner-only'",
                    Some(v),
                );
                Visibility::Anyone
            }
        },
    };
    let semantics = match get("semantics") {
        None => json!([]),
        Some(v) if v.as_array().is_some_and(|tags| tags.len() > MAX_TAGS) => {
            problem(
                "semantics",
                &format!("Input should be a list of at most {MAX_TAGS} tags"),
                None,
            );
            json!([])
        }
        // Kept as sent once it reads as tags: dispatch copies them to the sequences.
        Some(v) if SemanticTag::list_from_json(v).is_some() => v.clone(),
        Some(v) => {
            problem(
                "semantics",
                "Input should be a list of {key, value} tags, with a non-empty key of at \
                 most 256 characters and a value of at most 2048",
                Some(v),
            );
            json!([])
        }
    };
    let metadata = get("metadata").cloned();

    if !problems.is_empty() {
        return Err(Error::InvalidUploadSet(json!(problems)).into());
    }
    Ok(NewUploadSet {
        title,
        account_id,
        estimated_nb_files,
        sort_method,
        no_split,
        split_distance_m,
        split_time_secs,
        no_deduplication,
        duplicate_distance_m,
        duplicate_rotation_deg,
        relative_heading_deg,
        visibility,
        metadata,
        semantics,
        user_agent,
    })
}

/// Seconds of an ISO 8601 duration made of days, hours, minutes and seconds (`PT5M`,
/// `P1DT2H`, `PT1.5S`).
fn iso_duration_secs(text: &str) -> Option<f64> {
    let rest = text.strip_prefix('P')?;
    let (date, time) = rest.split_once('T').unwrap_or((rest, ""));
    let mut total = 0.0;
    let mut take = |part: &str, units: &[(char, f64)]| -> Option<()> {
        let mut number = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                number.push(c);
                continue;
            }
            let factor = units.iter().find(|(u, _)| *u == c)?.1;
            total += number.parse::<f64>().ok()? * factor;
            number.clear();
        }
        number.is_empty().then_some(())
    };
    take(date, &[('D', 86_400.0), ('W', 604_800.0)])?;
    take(time, &[('H', 3600.0), ('M', 60.0), ('S', 1.0)])?;
    Some(total)
}

/// `GET /api/upload_sets/{id}`: 404 when the caller may not see it.
pub async fn one(
    State(state): State<AppState>,
    ReadAs(viewer): ReadAs,
    base: BaseUrl,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let view = state.services.upload_set(set_id(&id)?, viewer).await?;
    Ok(Json(stac::upload_set(&base, &view)))
}

/// `DELETE /api/upload_sets/{id}`: by its owner or an administrator.
pub async fn delete(
    State(state): State<AppState>,
    uploader: Uploader,
    ReadAs(viewer): ReadAs,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = owned_set(&state, &uploader, viewer, &id).await?;
    state.services.delete_upload_set(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/upload_sets/{id}/complete`: by its owner or an administrator.
pub async fn complete(
    State(state): State<AppState>,
    base: BaseUrl,
    uploader: Uploader,
    ReadAs(viewer): ReadAs,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = owned_set(&state, &uploader, viewer, &id).await?;
    let view = state.services.complete_upload_set(id).await?;
    Ok(Json(stac::upload_set(&base, &view)))
}

/// The upload set of a path, once the uploader is known to own it (or administer the
/// instance). A set the caller may not see is unknown to it (404), as for reading: a 403 would
/// tell that a hidden set exists.
async fn owned_set(
    state: &AppState,
    uploader: &Uploader,
    viewer: Viewer,
    id: &str,
) -> Result<UploadSetId, ApiError> {
    let set = state.services.upload_set_spec(set_id(id)?).await?;
    // Anonymous uploads act for the default account, which sees its own hidden sets.
    let owns = uploader.check_owns(set.spec.account_id);
    if owns.is_err() && !viewer.may_see(set.spec.visibility, set.spec.account_id) {
        return Err(Error::UploadSetNotFound(id.to_owned()).into());
    }
    owns?;
    Ok(set.id)
}

/// `GET /api/upload_sets/{id}/files`: accepted and refused files, the pictures they became
/// told to the owner only; 404 when the caller may not see the set.
pub async fn files(
    State(state): State<AppState>,
    ReadAs(viewer): ReadAs,
    base: BaseUrl,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = set_id(&id)?;
    let files = state.services.upload_set_files(id, viewer).await?;
    let files: Vec<Value> = files.iter().map(|f| stac::upload_file(&base, f)).collect();
    let href = base.api(&format!("/upload_sets/{id}/files"));
    let links = [stac::link("self", Some("application/json"), href, None)];
    Ok(Json(json!({ "files": files, "links": links })))
}

/// `POST /api/upload_sets/{id}/files`: one picture as multipart field `file`, with optional
/// `isBlurred`, `override_longitude`, `override_latitude`, `override_capture_time` and
/// `picture_id`.
pub async fn add_file(
    State(state): State<AppState>,
    base: BaseUrl,
    uploader: Uploader,
    ReadAs(viewer): ReadAs,
    Path(id): Path<String>,
    request: Request,
) -> ApiResult<Response> {
    // The set and its owner are checked before the body is read, so a wrong URL or token
    // costs no staging. A refusal still reads the body to its end and drops it: a server
    // that answers and closes while the client is still sending makes most clients report a
    // broken connection instead of the answer.
    let set = match owned_set(&state, &uploader, viewer, &id).await {
        Ok(set) => set,
        Err(refusal) => {
            discard_body(request).await;
            return Err(refusal);
        }
    };

    let mut multipart = Multipart::from_request(request, &()).await.map_err(|_| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content type should be multipart/form-data",
        )
    })?;

    // 1. Read the form. The file part is streamed to staging as it comes; the other fields
    //    are small and may come before or after it.
    let mut staged: Option<StagedFile> = None;
    let mut file_name: Option<String> = None;
    let mut form: Vec<(String, String)> = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                let too_large = std::io::Error::new(std::io::ErrorKind::FileTooLarge, e);
                return Err(IngestError::BodyRead(too_large).into_api());
            }
            Err(e) => {
                return Err(ApiError::bad_request(format!(
                    "The multipart body could not be read ({e}); send the picture again"
                )));
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            if file_name.is_some() {
                return Err(ApiError::bad_request(
                    "Only one file per request: send each picture in its own request",
                ));
            }
            let fname = field.file_name().unwrap_or_default().to_owned();
            if ingest::has_jpeg_name(&fname) {
                let body = field.map_err(|e| {
                    let kind = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                        std::io::ErrorKind::FileTooLarge
                    } else {
                        std::io::ErrorKind::UnexpectedEof
                    };
                    std::io::Error::new(kind, e)
                });
                staged = match ingest::stage(&state.services.staging_dir, Box::pin(body)).await {
                    Ok(staged) => Some(staged),
                    Err(Error::Ingest(IngestError::NotAnImage { reason })) => {
                        state
                            .services
                            .reject_unreadable(set, &fname, &reason)
                            .await?;
                        return Err(IngestError::NotAnImage { reason }.into_api());
                    }
                    Err(err) => return Err(err.into()),
                };
            }
            file_name = Some(fname);
            continue;
        }
        let value = small_field(field, &name).await?;
        nul::check_form_text(&name, &value)?;
        form.push((name, value));
    }

    // 2. Refusals in the order Panoramax clients expect.
    let Some(file_name) = file_name else {
        return Err(IngestError::NoFile.into_api());
    };
    let Some(staged) = staged else {
        state.services.reject_file_name(set, &file_name).await?;
        return Err(IngestError::NotJpegName { file_name }.into_api());
    };
    let options = file_options(file_name, &form)?;

    // 3. Store it.
    let file = state.services.add_file(set, staged, options).await?;
    Ok((StatusCode::ACCEPTED, Json(stac::upload_file(&base, &file))).into_response())
}

/// Longest value accepted for a form field other than the file.
const MAX_FIELD_BYTES: usize = 64 << 10;

/// Reads a small form field, refusing one that would hold megabytes in memory.
/// How long the body of a refused upload is read and dropped before the answer goes.
const DISCARD_SECS: u64 = 30;

/// Reads a request's body to its end, or for [`DISCARD_SECS`], keeping none of it.
async fn discard_body(request: Request) {
    let mut body = request.into_body().into_data_stream();
    let drain = async { while let Ok(Some(_)) = body.try_next().await {} };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(DISCARD_SECS), drain).await;
}

async fn small_field(
    mut field: axum::extract::multipart::Field<'_>,
    name: &str,
) -> Result<String, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| ApiError::bad_request(format!("Form field {name} could not be read: {e}")))?
    {
        if bytes.len() + chunk.len() > MAX_FIELD_BYTES {
            return Err(ApiError::bad_request(format!(
                "Form field {name} is longer than {} KiB; only the file may be large",
                MAX_FIELD_BYTES >> 10
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes)
        .map_err(|_| ApiError::bad_request(format!("Form field {name} is not UTF-8 text")))
}

trait IntoApi {
    fn into_api(self) -> ApiError;
}

impl IntoApi for IngestError {
    fn into_api(self) -> ApiError {
        Error::from(self).into()
    }
}

fn file_options(file_name: String, form: &[(String, String)]) -> Result<FileOptions, ApiError> {
    let get = |k: &str| {
        form.iter()
            .rev()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim())
    };
    let bad = |field: &str, reason: &str| {
        IngestError::BadParameter {
            field: field.to_owned(),
            reason: reason.to_owned(),
        }
        .into_api()
    };

    let is_blurred = match get("isBlurred").map(str::to_ascii_lowercase).as_deref() {
        None | Some("") | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(bad("isBlurred", "should be true or false")),
    };
    let coordinate = |k: &str, max: f64| -> Result<Option<f64>, ApiError> {
        match get(k).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => match v.parse::<f64>() {
                Ok(n) if n.is_finite() && n.abs() <= max => Ok(Some(n)),
                _ => Err(bad(
                    k,
                    &format!("should be a number between -{max} and {max}"),
                )),
            },
        }
    };
    let lon = coordinate("override_longitude", 180.0)?;
    let lat = coordinate("override_latitude", 90.0)?;
    let position = match (lon, lat) {
        (Some(lon), Some(lat)) => Some((lon, lat)),
        (None, None) => None,
        _ => {
            return Err(ApiError::bad_request(
                "Longitude and latitude must be overridden together: send both \
                 override_longitude and override_latitude, or neither",
            ));
        }
    };
    let captured_at = match get("override_capture_time").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(DateTime::parse_from_rfc3339(v).map_err(|_| {
            bad(
                "override_capture_time",
                "should be an RFC 3339 instant with its offset, like \
                         2021-07-29T11:16:54+02:00",
            )
        })?),
    };
    // chrono keeps a leap second as a 60th second, which many clients refuse to parse back.
    if captured_at.is_some_and(|t| chrono::Timelike::nanosecond(&t) >= 1_000_000_000) {
        return Err(bad(
            "override_capture_time",
            "leap seconds (:60) are not accepted; give the instant as :59.999 or the next second",
        ));
    }
    let picture_id = match get("picture_id").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(
            v.parse()
                .map_err(|_| bad("picture_id", "should be a UUID"))?,
        ),
    };
    // Tags given by key, as the Panoramax uploader sends its sidecar columns. The heading and
    // the 360° projection also count as values of the picture; every tag is kept for the file.
    let raw_tags: Vec<(String, String)> = form
        .iter()
        .filter_map(|(name, value)| {
            let key = name.strip_prefix("override_")?;
            (key.starts_with("Exif.") || key.starts_with("Xmp."))
                .then(|| (key.to_owned(), value.trim().to_owned()))
        })
        .collect();
    let tag = |key: &str| {
        raw_tags
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let heading_deg = match tag("Exif.GPSInfo.GPSImgDirection") {
        None => None,
        Some(v) => match v.parse::<f64>() {
            Ok(h) if (0.0..=360.0).contains(&h) => Some(h % 360.0),
            _ => {
                let field = "override_Exif.GPSInfo.GPSImgDirection";
                return Err(bad(field, "should be a heading in degrees, from 0 to 360"));
            }
        },
    };
    let projection = match tag("Xmp.GPano.ProjectionType") {
        None => None,
        Some("equirectangular") => Some(flaneur_model::Projection::Equirectangular),
        Some(_) => {
            let field = "override_Xmp.GPano.ProjectionType";
            return Err(bad(
                field,
                "only equirectangular (a 360° picture) can be given",
            ));
        }
    };
    Ok(FileOptions {
        file_name,
        is_blurred,
        overrides: Overrides {
            position,
            captured_at,
            heading_deg,
            projection,
            raw_tags,
        },
        picture_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_iso_durations() {
        assert_eq!(iso_duration_secs("PT5M"), Some(300.0));
        assert_eq!(iso_duration_secs("P1DT1H"), Some(90_000.0));
        assert_eq!(iso_duration_secs("PT1.5S"), Some(1.5));
        assert_eq!(iso_duration_secs("5 minutes"), None);
    }
}
