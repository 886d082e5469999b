//! The one place where errors become HTTP answers.
//!
//! Every answer is JSON `{"message", "status_code", ...}` as on Panoramax instances, with the
//! extra keys their clients read (`details`, `existing_item`, `upload_sets`). A 5xx never
//! carries internal text: the full error goes to the log with the request id, and the body
//! carries that id.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use flaneur_service::account::AuthFailure;
use flaneur_service::login::LoginError;
use flaneur_service::{Error, IngestError};
use serde_json::{Value, json};
use tracing::{error, warn};

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: Value,
    /// The harvested object a change was refused for, when it was.
    remote: Option<RemoteOrigin>,
}

/// A change refused because its object was harvested from a peer: carried by the response
/// until the peer's address is known, so that the answer tells where to go.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RemoteOrigin {
    /// `sequence` or `picture`.
    pub kind: &'static str,
    /// The peer it comes from.
    pub peer: flaneur_model::PeerId,
}

/// The message refusing a change to a harvested object, naming its instance when known.
pub(crate) fn err_text(kind: &str, api_url: Option<&str>) -> String {
    match api_url {
        Some(url) => format!(
            "this {kind} comes from another instance and is read-only here: change it at its \
             instance, {url}"
        ),
        None => format!(
            "this {kind} comes from another instance and is read-only here: change it there"
        ),
    }
}

impl ApiError {
    /// An answer with a status and a message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        let message: String = message.into();
        ApiError {
            status,
            body: json!({ "message": message, "status_code": status.as_u16() }),
            remote: None,
        }
    }

    /// A 400 with a message.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// A 403 for a contribution sent to a catalog-only instance: no credentials would change
    /// the answer, and the route exists on the instances the pictures come from.
    pub(crate) fn catalog_only() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "This instance is a catalog that takes no contributions: send pictures, changes, \
             annotations and reports to the instance the pictures come from",
        )
    }

    /// Adds a key to the body.
    pub fn with(mut self, key: &str, value: Value) -> ApiError {
        if let Some(obj) = self.body.as_object_mut() {
            obj.insert(key.to_owned(), value);
        }
        self
    }

    /// The status of the answer.
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    /// The JSON body of the answer.
    #[cfg(test)]
    pub(crate) fn body(&self) -> &Value {
        &self.body
    }

    fn internal(err: &dyn std::error::Error) -> ApiError {
        let request_id = uuid::Uuid::new_v4();
        let chain = error_chain(err);
        error!(request_id = %request_id, error = %chain, "request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal error; the instance's operators can find it in the logs with this request id",
        )
        .with("request_id", json!(request_id))
    }
}

/// Seconds a client is asked to wait before sending a request again after a 503.
const RETRY_AFTER_SECONDS: u32 = 5;

impl ApiError {
    /// A 503: the catalog or object store cannot be reached or is too busy right now. The
    /// cause goes to the log; the client is told to send the request again later.
    fn unavailable(err: &dyn std::error::Error) -> ApiError {
        let request_id = uuid::Uuid::new_v4();
        warn!(request_id = %request_id, error = %error_chain(err), "storage unavailable");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "Storage is temporarily unavailable; retry in a few seconds (after \
                 {RETRY_AFTER_SECONDS} s)"
            ),
        )
        .with("request_id", json!(request_id))
    }
}

/// An error and its sources, on one line.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut chain = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        source = s.source();
    }
    chain
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            let retry = [(
                axum::http::header::RETRY_AFTER,
                RETRY_AFTER_SECONDS.to_string(),
            )];
            return (self.status, retry, Json(self.body)).into_response();
        }
        let mut response = (self.status, Json(self.body)).into_response();
        if let Some(remote) = self.remote {
            response.extensions_mut().insert(remote);
        }
        response
    }
}

impl From<Error> for ApiError {
    fn from(err: Error) -> ApiError {
        match err {
            Error::Ingest(e) => ingest_error(e),
            Error::UploadSetNotFound(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "UploadSet doesn't exist")
            }
            Error::CollectionNotFound(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "Collection doesn't exist")
            }
            Error::UserNotFound(_) => ApiError::new(StatusCode::NOT_FOUND, "User doesn't exist"),
            Error::ItemNotFound(_) => ApiError::new(StatusCode::NOT_FOUND, "Item doesn't exist"),
            Error::TileNotFound {
                col,
                row,
                grid: Some((cols, rows)),
                ..
            } => ApiError::new(
                StatusCode::NOT_FOUND,
                format!(
                    "Tile {col}_{row} does not exist: this picture has {cols} columns and {rows} \
                     rows of tiles, numbered from 0_0 at the top left"
                ),
            ),
            Error::TileNotFound { grid: None, .. } => ApiError::new(
                StatusCode::NOT_FOUND,
                "This picture is not a 360° picture, so it has no tiles; use sd.jpg or hd.jpg",
            ),
            Error::PictureBroken(_) => ApiError::new(
                StatusCode::NOT_FOUND,
                "Picture could not be processed (its file is damaged), so it is not served",
            ),
            Error::PictureNotReady(_) => ApiError::new(
                StatusCode::FORBIDDEN,
                "Picture is not available (currently in processing)",
            ),
            Error::LoginRequired => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "This change needs a logged-in account: send an API token as \
                 `Authorization: Bearer <token>`",
            ),
            Error::Forbidden(message) => ApiError::new(StatusCode::FORBIDDEN, message),
            // The peer's address is read by `routes::federation::name_origin` on the way out.
            Error::RemoteData { kind, peer } => {
                let mut answer = ApiError::new(StatusCode::FORBIDDEN, err_text(kind, None));
                answer.remote = Some(RemoteOrigin { kind, peer });
                answer
            }
            Error::InvalidParameter { message, details } => match details {
                Some(d) => ApiError::bad_request(message).with("details", d),
                None => ApiError::bad_request(message),
            },
            Error::InvalidUploadSet(details) => {
                ApiError::bad_request("Impossible to create an UploadSet").with("details", details)
            }
            Error::Store(ref e) if e.is_unavailable() => ApiError::unavailable(e),
            Error::Store(ref e) => ApiError::internal(e),
            Error::Staging(ref e) => ApiError::internal(e),
            Error::Imaging(ref e) => ApiError::internal(e),
            Error::Task(_) | Error::Entropy(_) => ApiError::internal(&err),
            Error::Auth(failure) => auth_error(failure),
            Error::TokenNotFound(_) => ApiError::new(
                StatusCode::NOT_FOUND,
                "Token doesn't exist: it was revoked, or belongs to another account",
            ),
            Error::AnnotationNotFound(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "Annotation doesn't exist")
            }
            Error::PageNotFound(_) => ApiError::new(
                StatusCode::NOT_FOUND,
                "Page doesn't exist in this language; GET /api/pages/{page} lists its languages",
            ),
            Error::ReportNotFound(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "Report doesn't exist")
            }
            Error::AccountNotFound(_) => ApiError::new(StatusCode::NOT_FOUND, "User doesn't exist"),
        }
    }
}

/// Refused credentials: 401 when they are not a token of this instance at all, 403 when they
/// name a token that cannot act (as Panoramax instances answer).
fn auth_error(failure: AuthFailure) -> ApiError {
    match failure {
        AuthFailure::NotBearer => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "Only Bearer tokens are accepted: send `Authorization: Bearer <token>`",
        ),
        AuthFailure::InvalidValue => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "Token not valid: it was not made by this instance, or was cut or altered; send it \
             whole, or get a new one",
        ),
        AuthFailure::UnknownToken => ApiError::new(
            StatusCode::FORBIDDEN,
            "Token does not exist anymore: it was revoked, or its account deleted; get a new one",
        ),
        AuthFailure::Unclaimed => ApiError::new(
            StatusCode::FORBIDDEN,
            "Token not yet claimed: open its claim link while logged in, then use it again",
        ),
    }
}

fn ingest_error(err: IngestError) -> ApiError {
    match err {
        IngestError::NoFile => ApiError::bad_request("No file was sent").with(
            "details",
            json!({ "error": "send the picture as a multipart/form-data field named file" }),
        ),
        IngestError::NotJpegName { .. } => ApiError::bad_request(
            "Picture file is either missing or in an unsupported format (should be jpg)",
        ),
        IngestError::BadParameter { field, reason } => {
            ApiError::bad_request("Impossible to parse parameters")
                .with("details", json!([{ "fields": [field], "error": reason }]))
        }
        IngestError::DuplicateInSet { existing } => ApiError::new(
            StatusCode::CONFLICT,
            "The item has already been added to this upload set",
        )
        .with("existing_item", json!({ "id": existing })),
        IngestError::DuplicateElsewhere { existing } => {
            let sets: Vec<Value> = existing
                .iter()
                .map(|(pic, set)| json!({ "existing_item_id": pic, "upload_set_id": set }))
                .collect();
            ApiError::new(
                StatusCode::CONFLICT,
                "The same picture has already been sent in a past upload",
            )
            .with("upload_sets", json!(sets))
        }
        IngestError::InvalidMetadata {
            error,
            missing_fields,
            kind,
        } => {
            let mut details = json!({ "error": error, "kind": kind });
            if !missing_fields.is_empty() {
                details["missing_fields"] = json!(missing_fields);
            }
            ApiError::bad_request("Impossible to parse picture metadata").with("details", details)
        }
        IngestError::NotAnImage { reason } => ApiError::bad_request(
            "Impossible to open file as image. The only supported image format is jpg.",
        )
        .with("details", json!({ "error": reason })),
        IngestError::InExcludedArea { error } => {
            ApiError::bad_request("Picture is located within an excluded area")
                .with("details", json!({ "error": error }))
        }
        IngestError::NameTaken { existing, .. } => ApiError::new(
            StatusCode::CONFLICT,
            "A different picture with the same name has already been added to this uploadset",
        )
        .with("existing_item", json!({ "id": existing })),
        IngestError::IdConflict(_) => ApiError::new(
            StatusCode::CONFLICT,
            "A picture with the same ID already exists",
        ),
        IngestError::BodyRead(e) if e.kind() == std::io::ErrorKind::FileTooLarge => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "The picture is larger than this instance accepts ({} MiB); send a smaller \
                     file",
                crate::MAX_UPLOAD_BYTES >> 20
            ),
        ),
        IngestError::BodyRead(_) => ApiError::bad_request(
            "The upload was interrupted before the whole file arrived; send it again",
        ),
    }
}

/// Result of handlers.
pub type ApiResult<T> = std::result::Result<T, ApiError>;

impl From<LoginError> for ApiError {
    fn from(err: LoginError) -> ApiError {
        match err {
            LoginError::UnknownState => ApiError::bad_request(
                "This login answer matches no login in progress: it was already used, or it \
                 was not started here; start again from /api/auth/login",
            ),
            LoginError::Expired => {
                ApiError::bad_request("This login took too long; start again from /api/auth/login")
            }
            LoginError::Refused(why) => ApiError::new(
                StatusCode::UNAUTHORIZED,
                format!(
                    "The login provider refused this login ({why}); start again from \
                     /api/auth/login"
                ),
            ),
            LoginError::NotProven(why) => ApiError::new(
                StatusCode::UNAUTHORIZED,
                format!(
                    "The login provider's answer does not prove who logged in ({why}); start \
                     again from /api/auth/login"
                ),
            ),
            LoginError::Provider(ref why) => {
                let request_id = uuid::Uuid::new_v4();
                warn!(request_id = %request_id, error = %why, "login provider unusable");
                ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    "The login provider cannot be reached or answered something unusable; \
                     try again later, or tell the instance's operators this request id",
                )
                .with("request_id", json!(request_id))
            }
            LoginError::Store(e) => Error::Store(e).into(),
        }
    }
}
