//! Errors of the storage layer.

use std::path::PathBuf;

/// What can go wrong in a catalog or blob store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database driver failed (connection, SQL, constraint).
    #[error("catalog query failed during {operation}")]
    Database {
        /// What the catalog was doing.
        operation: &'static str,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// Schema migrations could not be applied.
    #[error("catalog migration failed")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A stored value could not be decoded: the database holds something this version did not
    /// write.
    #[error("corrupt catalog row in {table}: {reason}")]
    Corrupt {
        /// The table of the row.
        table: &'static str,
        /// What was wrong with it.
        reason: String,
    },
    /// A blob could not be read or written.
    #[error("blob store i/o failed on {path}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// An object store (S3) refused or failed a request: unreachable, wrong credentials,
    /// missing bucket, or a server error.
    #[error("object store request {operation} failed{}", on_key(key))]
    ObjectStore {
        /// What the store was doing (`put`, `get`, `stat`, `delete`, `list`, `presign`).
        operation: &'static str,
        /// The key involved, within the store (empty for the whole bucket).
        key: String,
        /// The client's error.
        #[source]
        source: Box<opendal::Error>,
    },
    /// The URL naming the picture storage is malformed or incomplete.
    #[error(
        "invalid picture storage URL: {0}; expected a folder path, file:///folder, or \
         s3://[ACCESS_KEY:SECRET@]bucket[/prefix]?endpoint_url=<urlencoded URL>&region=<region>"
    )]
    InvalidBlobUrl(String),
    /// A file meant to hold a picture storage credential cannot be used: missing, a folder,
    /// empty, or readable by every account. The text names its variable.
    #[error("{0}")]
    BadSecretFile(String),
    /// An operation was refused before it changed anything; the text says why and what to
    /// do.
    #[error("{0}")]
    Refused(String),
    /// The owner does not let others make a change only collaborative editing allows: the
    /// change was not made.
    #[error("the owner does not allow collaborative editing")]
    CollaborationRefused,
    /// The write names a sequence or picture harvested from a peer: remote data is read-only
    /// here, changed only by harvesting its peer again. Nothing was written.
    #[error("{kind} {id} was harvested from peer {peer} and is read-only here")]
    RemoteData {
        /// What was to be changed (`sequence`, `picture`).
        kind: &'static str,
        /// Its id.
        id: String,
        /// The peer it comes from.
        peer: flaneur_model::PeerId,
    },
    /// A harvest pass wrote with a lease it no longer holds: another pass took the peer over
    /// after the lease ran out, or the peer was removed. Nothing was written; the pass is to
    /// stop, as the holder now harvests the peer.
    #[error("the harvest of peer {peer} is no longer held by this pass; nothing was written")]
    HarvestTaken {
        /// The peer.
        peer: flaneur_model::PeerId,
    },
    /// A picture would lie where it is refused: the change was not made.
    #[error("the picture would lie within an excluded area ({0:?})")]
    InExcludedArea(crate::Exclusion),
    /// A blob already exists under this key; blobs are never silently replaced.
    #[error("a blob already exists under key '{0}'")]
    AlreadyExists(String),
    /// A blob key was malformed (empty, absolute, or climbing out of the store).
    #[error("invalid blob key '{0}'")]
    InvalidKey(String),
    /// The upload set, picture or sequence named in a write does not exist.
    #[error("{kind} {id} does not exist")]
    NotFound {
        /// What was looked up.
        kind: &'static str,
        /// Its id.
        id: String,
    },
    /// A filter names a property the listing has no column for: it was not checked against
    /// the listing's queryables first.
    #[error("filter cannot be run: {0}")]
    Filter(#[from] crate::filter::FilterError),
    /// The URL naming the catalog cannot be used; it is shown with its secrets masked.
    #[error("invalid catalog URL '{url}': {reason}")]
    InvalidCatalogUrl {
        /// The URL, as [`crate::redact_url`] shows it.
        url: String,
        /// What is wrong, and the expected form.
        reason: String,
    },
    /// A task shared by several requests failed; each of them gets its error.
    #[error(transparent)]
    Shared(std::sync::Arc<Error>),
}

/// ` on 'key'`, or nothing for requests on the whole bucket.
fn on_key(key: &str) -> String {
    if key.is_empty() {
        String::new()
    } else {
        format!(" on '{key}'")
    }
}

impl Error {
    /// Whether the storage could not be reached or was too busy to answer right now: the
    /// catalog's pool timed out or lost its connection, the database was locked or shutting
    /// down, or the object store was unreachable, overloaded or throttling. The same request
    /// may succeed when sent again later, so callers answer "try again" rather than "broken".
    pub fn is_unavailable(&self) -> bool {
        match self {
            Error::Database { source, .. } => database_unavailable(source),
            Error::ObjectStore { source, .. } => object_store_unavailable(source),
            Error::Shared(inner) => inner.is_unavailable(),
            _ => false,
        }
    }

    /// Whether the object store answered that the bucket does not exist or that it refuses
    /// these credentials (404 `NoSuchBucket`, 403 `InvalidAccessKeyId`,
    /// `SignatureDoesNotMatch`, `AccessDenied`): a configuration to fix, not an outage.
    pub fn is_store_refusal(&self) -> bool {
        match self {
            Error::ObjectStore { source, .. } => matches!(
                source.kind(),
                opendal::ErrorKind::NotFound
                    | opendal::ErrorKind::PermissionDenied
                    | opendal::ErrorKind::ConfigInvalid
            ),
            Error::Shared(inner) => inner.is_store_refusal(),
            _ => false,
        }
    }

    /// Wraps a driver error with the operation it interrupted.
    pub(crate) fn db(operation: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
        move |source| Error::Database { operation, source }
    }

    /// A row that cannot be decoded.
    pub(crate) fn corrupt(table: &'static str, reason: impl ToString) -> Error {
        Error::Corrupt {
            table,
            reason: reason.to_string(),
        }
    }
}

/// Whether a driver error means the database is out of reach or busy rather than the query
/// being wrong.
fn database_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // SQLITE_BUSY and SQLITE_LOCKED, with any extended code.
                let code = db.code().and_then(|c| c.parse::<i32>().ok()).unwrap_or(0);
                matches!(code & 0xff, 5 | 6)
            } else {
                // SQLSTATE classes 08 (connection), 53 (insufficient resources) and 57P
                // (server shutting down or starting).
                db.code().is_some_and(|c| {
                    c.starts_with("08") || c.starts_with("53") || c.starts_with("57P")
                })
            }
        }
        _ => false,
    }
}

/// Whether an object store error means the endpoint could not be reached or asked to slow
/// down (after the client's own retries), rather than a refusal of this request.
fn object_store_unavailable(err: &opendal::Error) -> bool {
    match err.kind() {
        opendal::ErrorKind::RateLimited => true,
        opendal::ErrorKind::Unexpected => err.is_temporary() || err.is_persistent(),
        _ => false,
    }
}

/// Result of storage operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;
