//! Service errors: each variant says what went wrong in terms a client can act on; the API
//! maps them to HTTP statuses in one place.

use flaneur_model::{PeerId, PictureId, UploadSetId};

/// Why a file sent to an upload set was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The request had no `file` part.
    #[error("no file was sent")]
    NoFile,
    /// The file name does not end in `.jpg` or `.jpeg`.
    #[error("file '{file_name}' is not named as a JPEG")]
    NotJpegName {
        /// The name sent.
        file_name: String,
    },
    /// A form field could not be understood.
    #[error("invalid parameter {field}: {reason}")]
    BadParameter {
        /// The field.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The same bytes are already in this upload set.
    #[error("picture already in this upload set as {existing}")]
    DuplicateInSet {
        /// The picture made of them.
        existing: PictureId,
    },
    /// The same bytes were sent in another upload set.
    #[error("picture already sent in another upload set")]
    DuplicateElsewhere {
        /// `(picture, upload set)` pairs holding them.
        existing: Vec<(PictureId, Option<UploadSetId>)>,
    },
    /// Position or time missing or unusable.
    #[error("invalid picture metadata: {error}")]
    InvalidMetadata {
        /// The reader's explanation.
        error: String,
        /// `location` and/or `datetime` when those are missing.
        missing_fields: Vec<&'static str>,
        /// The reader's stable error code.
        kind: &'static str,
    },
    /// The bytes are not a JPEG picture.
    #[error("file is not a readable JPEG: {reason}")]
    NotAnImage {
        /// What the reader found.
        reason: String,
    },
    /// Another accepted file of this upload set has this name.
    #[error("another picture named '{file_name}' is already in this upload set")]
    NameTaken {
        /// The name.
        file_name: String,
        /// The picture holding it.
        existing: Option<PictureId>,
    },
    /// The picture lies in an area where pictures are refused.
    #[error("picture within an excluded area: {error}")]
    InExcludedArea {
        /// Which kind of area, as Panoramax instances say it.
        error: &'static str,
    },
    /// The pre-assigned picture id is already used.
    #[error("picture id {0} is already used")]
    IdConflict(PictureId),
    /// The body could not be read from the client.
    #[error("upload interrupted while reading the body")]
    BodyRead(#[source] std::io::Error),
}

/// What can go wrong in a service call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file was refused.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// No such upload set.
    #[error("upload set {0} does not exist")]
    UploadSetNotFound(String),
    /// No such visible sequence.
    #[error("collection {0} does not exist")]
    CollectionNotFound(String),
    /// No such account.
    #[error("user {0} does not exist")]
    UserNotFound(String),
    /// No such visible picture.
    #[error("item {0} does not exist")]
    ItemNotFound(String),
    /// The picture has no such tile.
    #[error("picture {id} has no tile {col}_{row}")]
    TileNotFound {
        /// The picture.
        id: PictureId,
        /// Column asked for.
        col: u32,
        /// Row asked for.
        row: u32,
        /// `(columns, rows)` of its grid; `None` for a flat picture, which has no tiles.
        grid: Option<(u32, u32)>,
    },
    /// The picture could not be processed: its file is damaged.
    #[error("picture {0} could not be processed")]
    PictureBroken(PictureId),
    /// The picture exists but its file is not available (still processing).
    #[error("picture {0} is not available (currently in processing)")]
    PictureNotReady(PictureId),
    /// The change needs a logged-in account.
    #[error("this change needs a logged-in account")]
    LoginRequired,
    /// The caller may see the object but not make this change to it; the text says why.
    #[error("{0}")]
    Forbidden(String),
    /// The object was harvested from a peer: it is read-only here, and changes go to its
    /// instance.
    #[error("this {kind} comes from another instance and is read-only here: change it there")]
    RemoteData {
        /// `sequence` or `picture`.
        kind: &'static str,
        /// The peer it comes from.
        peer: PeerId,
    },
    /// A request parameter is wrong.
    #[error("{message}")]
    InvalidParameter {
        /// What is wrong and how to fix it.
        message: String,
        /// Structured context.
        details: Option<serde_json::Value>,
    },
    /// The upload set request body is wrong.
    #[error("invalid upload set: {0}")]
    InvalidUploadSet(serde_json::Value),
    /// Storage failed.
    #[error("storage failed")]
    Store(#[source] flaneur_store::Error),
    /// Local staging i/o failed.
    #[error("staging file i/o failed")]
    Staging(#[source] std::io::Error),
    /// Image processing failed for good.
    #[error("image processing failed")]
    Imaging(#[from] flaneur_imaging::ImagingError),
    /// A blocking task panicked or was cancelled.
    #[error("background task failed: {0}")]
    Task(String),
    /// The request's credentials act for nobody.
    #[error("credentials refused: {0:?}")]
    Auth(crate::account::AuthFailure),
    /// No such visible annotation.
    #[error("annotation {0} does not exist")]
    AnnotationNotFound(String),
    /// No such page, or not in that language.
    #[error("page {0} does not exist")]
    PageNotFound(String),
    /// No such report.
    #[error("report {0} does not exist")]
    ReportNotFound(String),
    /// No such token (or not one of the caller's).
    #[error("token {0} does not exist")]
    TokenNotFound(String),
    /// No such account (by id or name).
    #[error("account {0} does not exist")]
    AccountNotFound(String),
    /// The system gave no random bytes.
    #[error("no random bytes available: {0}")]
    Entropy(String),
}

impl Error {
    /// A 400 for a bad parameter.
    pub fn invalid(message: impl Into<String>) -> Error {
        Error::InvalidParameter {
            message: message.into(),
            details: None,
        }
    }
}

impl From<flaneur_store::Error> for Error {
    /// A storage error, except a write naming an upload set another request or process
    /// deleted meanwhile (the client asked for a set that is gone, as if it had never been)
    /// and the refusals of a change (collaborative editing not allowed, a picture placed in
    /// an excluded area, remote data).
    fn from(err: flaneur_store::Error) -> Error {
        match err {
            flaneur_store::Error::NotFound {
                kind: "upload set",
                id,
            } => Error::UploadSetNotFound(id),
            flaneur_store::Error::CollaborationRefused => Error::Forbidden(
                "you may not make this change: the owner does not allow collaborative editing \
                 of its order, headings, times and places"
                    .to_owned(),
            ),
            flaneur_store::Error::RemoteData { kind, peer, .. } => Error::RemoteData { kind, peer },
            flaneur_store::Error::InExcludedArea(exclusion) => Error::InvalidParameter {
                message: crate::excluded::REFUSED.to_owned(),
                details: Some(serde_json::json!({
                    "error": crate::excluded::explanation(exclusion)
                })),
            },
            other => Error::Store(other),
        }
    }
}

/// Result of service calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_to_a_deleted_upload_set_reads_as_a_missing_upload_set() {
        let gone = flaneur_store::Error::NotFound {
            kind: "upload set",
            id: "6a0c1a4e-3b83-4c4f-9a55-2f0a3b7d1e10".to_owned(),
        };
        assert!(matches!(
            Error::from(gone),
            Error::UploadSetNotFound(id) if id == "6a0c1a4e-3b83-4c4f-9a55-2f0a3b7d1e10"
        ));
        let other = flaneur_store::Error::NotFound {
            kind: "picture",
            id: "p".to_owned(),
        };
        assert!(matches!(Error::from(other), Error::Store(_)));
    }
}
