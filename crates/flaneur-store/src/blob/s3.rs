//! Blobs as objects of an S3-compatible bucket, through OpenDAL.
//!
//! Keys map to object names under the configured prefix. Credentials come only from the
//! [`S3Config`]: OpenDAL's own search (environment, `~/.aws`, instance metadata) is turned
//! off, so nothing but the configured server is ever asked.

use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use opendal::layers::{RetryLayer, TimeoutLayer};
use opendal::services::S3;
use opendal::{ErrorKind, Operator};
use tokio::sync::oneshot;
use tokio_util::io::ReaderStream;
use tracing::instrument;

use super::{BlobBody, BlobMeta, BlobStore, S3Config, key_segments};
use crate::{Error, Result};

/// How much of a staged file is read at a time.
const READ_CHUNK_BYTES: usize = 1 << 20;

/// Keys asked per listing request: S3's maximum.
const DEFAULT_LISTING_PAGE: usize = 1000;

/// The user metadata entry holding the token of the write that stored an object.
const WRITE_TOKEN: &str = "flaneur-write";

/// A request carrying a part or a body chunk may take this long, for slow links.
const IO_TIMEOUT: Duration = Duration::from_secs(60);

/// A blob store in an S3-compatible bucket.
#[derive(Clone)]
pub struct S3BlobStore {
    op: Operator,
    /// Signs presigned addresses: `op`, or the same bucket at its public endpoint.
    presigner: Operator,
    bucket: String,
    prefix: String,
    listing_page: usize,
}

impl std::fmt::Debug for S3BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3BlobStore")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Logs a request the client sends again, in one line: the error's plain text, without the
/// backtrace its debug form carries.
fn log_retry(event: opendal::layers::RetryEvent<'_>) {
    tracing::warn!(
        operation = ?event.op,
        attempt = event.attempt,
        retry_in_s = event.retry_after.as_secs_f64(),
        error = %event.err,
        "object store request failed; sending it again"
    );
}

fn remote<'a>(operation: &'static str, key: &'a str) -> impl FnOnce(opendal::Error) -> Error + 'a {
    move |source| Error::ObjectStore {
        operation,
        key: key.to_owned(),
        source: Box::new(source),
    }
}

/// The content type stored with a blob, so that the bucket serves pictures as pictures.
fn content_type(key: &str) -> &'static str {
    let lower = key.to_ascii_lowercase();
    if lower.ends_with(".jpg") || lower.ends_with(".jpeg") {
        "image/jpeg"
    } else {
        "application/octet-stream"
    }
}

/// When an object was last written. S3 always says; a server that does not gets the epoch, a
/// stable value, so that the validators derived from it do not change from one read to the
/// next.
fn to_utc(timestamp: Option<opendal::raw::Timestamp>) -> DateTime<Utc> {
    timestamp.map_or(DateTime::<Utc>::UNIX_EPOCH, |t| {
        DateTime::<Utc>::from(std::time::SystemTime::from(t))
    })
}

impl S3BlobStore {
    /// Size of the parts of a multipart upload, and so the most of a file held in memory
    /// while it is uploaded; smaller files go in one request. S3 wants parts of 5 MiB at least
    /// (the last one aside).
    pub const PART_SIZE_BYTES: usize = 8 << 20;

    /// A store on the bucket `config` names. Nothing is sent yet: [`S3BlobStore::check`]
    /// asks the server.
    ///
    /// # Errors
    /// [`Error::ObjectStore`] when OpenDAL refuses the configuration (such as an endpoint it
    /// cannot use).
    pub fn open(config: &S3Config) -> Result<S3BlobStore> {
        // The reqwest transport, installed once for the process.
        opendal::install_default();

        // The bucket at an endpoint: the one requests go to, or the one addresses are
        // presigned for.
        let at = |endpoint: Option<&String>| {
            let mut builder = S3::default()
                .bucket(&config.bucket)
                .root(&format!("/{}", config.prefix))
                .region(&config.region)
                .access_key_id(&config.credentials.access_key_id)
                .secret_access_key(config.credentials.secret_access_key.expose())
                // The configured key pair goes first in OpenDAL's chain and always answers, so
                // the rest of it is never asked; turning off the environment, the profile
                // files and the instance metadata endpoint makes sure of it.
                .disable_config_load()
                .disable_ec2_metadata();
            if let Some(token) = &config.credentials.session_token {
                builder = builder.session_token(token.expose());
            }
            if let Some(endpoint) = endpoint {
                builder = builder.endpoint(endpoint);
            }
            if !config.path_style {
                builder = builder.enable_virtual_host_style();
            }
            if let Some(acl) = &config.acl {
                builder = builder.default_acl(acl);
            }
            Operator::new(builder).map_err(remote("open", ""))
        };
        let op = at(config.endpoint.as_ref())?
            .layer(TimeoutLayer::new().with_io_timeout(IO_TIMEOUT))
            .layer(RetryLayer::new().with_jitter().with_notify(log_retry));
        // Signing is local: the public endpoint is never asked anything.
        let presigner = match &config.public_endpoint {
            Some(public) => at(Some(public))?,
            None => op.clone(),
        };
        Ok(S3BlobStore {
            op,
            presigner,
            bucket: config.bucket.clone(),
            prefix: config.prefix.clone(),
            listing_page: DEFAULT_LISTING_PAGE,
        })
    }

    /// The same store asking for `keys` keys per listing request (1000, S3's maximum, by
    /// default), for servers with a lower limit.
    #[must_use]
    pub fn with_listing_page(mut self, keys: usize) -> S3BlobStore {
        self.listing_page = keys.max(1);
        self
    }

    /// Asks the server for one key of the bucket, so that a wrong endpoint, bucket or key pair
    /// shows at once.
    ///
    /// # Errors
    /// [`Error::ObjectStore`] when the server cannot be reached or refuses the request.
    pub async fn check(&self) -> Result<()> {
        self.op.check().await.map_err(remote("check", ""))
    }

    /// The object path of a key, relative to the prefix.
    fn path_of(key: &str) -> Result<String> {
        Ok(key_segments(key)?.join("/"))
    }

    /// Uploads a staged file under `path`, refusing to replace an object. Runs in a task of
    /// its own ([`BlobStore::put_file`] spawns it): `caller` closes when the caller stops
    /// waiting, and the upload is then aborted at the next part rather than left half done.
    async fn upload(
        &self,
        path: &str,
        staged: &Path,
        mut caller: oneshot::Receiver<()>,
    ) -> Result<()> {
        let io = |source| Error::Io {
            path: staged.to_owned(),
            source,
        };
        let file = tokio::fs::File::open(staged).await.map_err(io)?;

        // Parts are cut from the file as it is read, so a picture of any size costs one part
        // of memory. The server refuses to complete the upload when the key appeared
        // meanwhile (`If-None-Match: *`), and a failed upload is aborted so that its parts do
        // not linger in the bucket. The token names this write among all others of the key.
        let token = uuid::Uuid::new_v4().simple().to_string();
        let mut writer = self
            .op
            .writer_with(path)
            .chunk(Self::PART_SIZE_BYTES)
            .if_not_exists(true)
            .content_type(content_type(path))
            .user_metadata([(WRITE_TOKEN.to_owned(), token.clone())])
            .await
            .map_err(remote("put", path))?;
        let mut chunks = ReaderStream::with_capacity(file, READ_CHUNK_BYTES);
        let written = async {
            loop {
                // Checked before each chunk and before the complete.
                if matches!(caller.try_recv(), Err(oneshot::error::TryRecvError::Closed)) {
                    return Err(io(std::io::Error::new(
                        std::io::ErrorKind::Interrupted,
                        "the upload was abandoned by its caller",
                    )));
                }
                let Some(chunk) = chunks.next().await else {
                    break;
                };
                writer
                    .write(chunk.map_err(io)?)
                    .await
                    .map_err(remote("put", path))?;
            }
            writer.close().await.map_err(remote("put", path))
        }
        .await;
        let Err(err) = written else {
            return Ok(());
        };

        // A request whose answer was lost is sent again by the retry layer. When the first
        // one went through, the second finds the key taken (412, or 409 on AWS while
        // completes race) or, for a multipart complete, the upload gone (404): the object
        // carrying this write's token says the write succeeded all the same.
        let kind = match &err {
            Error::ObjectStore { source, .. } => Some(source.kind()),
            _ => None,
        };
        let refused = matches!(
            kind,
            Some(ErrorKind::ConditionNotMatch | ErrorKind::Conflict | ErrorKind::NotFound)
        );
        if refused && self.written_by(path, &token).await {
            return Ok(());
        }
        let _ = writer.abort().await;
        match kind {
            Some(ErrorKind::ConditionNotMatch | ErrorKind::Conflict) => {
                Err(Error::AlreadyExists(path.to_owned()))
            }
            _ => Err(err),
        }
    }

    /// Whether the object at `path` was stored by the write carrying `token`.
    async fn written_by(&self, path: &str, token: &str) -> bool {
        match self.stat_object(path).await {
            Ok(Some(stat)) => stat
                .user_metadata()
                .and_then(|meta| meta.get(WRITE_TOKEN))
                .is_some_and(|stored| stored == token),
            _ => false,
        }
    }

    async fn stat_object(&self, path: &str) -> Result<Option<opendal::Metadata>> {
        match self.op.stat(path).await {
            Ok(stat) => Ok(Some(stat)),
            Err(err) if err.kind() == ErrorKind::NotFound => Ok(None),
            Err(err) => Err(remote("stat", path)(err)),
        }
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
    #[instrument(level = "debug", skip_all, fields(blob.key = key))]
    async fn put_file(&self, key: &str, staged: &Path) -> Result<()> {
        let path = Self::path_of(key)?;

        // The conditional write below is what keeps a blob from being replaced. A server
        // that ignores `If-None-Match` would replace it silently, so the key is looked up
        // first too: on such servers only two writers racing for one fresh key could both
        // succeed, and keys embed new picture ids, which no two uploads share.
        if self.stat(&path).await?.is_some() {
            return Err(Error::AlreadyExists(key.to_owned()));
        }

        // The upload runs in a task of its own, so that it ends in a complete or an abort
        // even when this future is dropped (a client hanging up mid-upload): a multipart
        // upload left open would keep its parts, billed and unseen, in the bucket. Dropping
        // `caller_waits` tells the task to abort at its next part.
        let (caller_waits, caller) = oneshot::channel();
        let task = tokio::spawn({
            let store = self.clone();
            let staged = staged.to_owned();
            async move {
                store.upload(&path, &staged, caller).await?;
                // Stored durably: the staged copy is no longer needed.
                tokio::fs::remove_file(&staged)
                    .await
                    .map_err(|source| Error::Io {
                        path: staged.clone(),
                        source,
                    })
            }
        });
        let uploaded = match task.await {
            Ok(uploaded) => uploaded,
            Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
            Err(err) => Err(Error::Io {
                path: staged.to_owned(),
                source: std::io::Error::other(err),
            }),
        };
        drop(caller_waits);
        match uploaded {
            Err(Error::AlreadyExists(_)) => Err(Error::AlreadyExists(key.to_owned())),
            other => other,
        }
    }

    #[instrument(level = "debug", skip_all, fields(blob.key = key))]
    async fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<()> {
        let path = Self::path_of(key)?;
        // One PUT: the object appears whole or not at all, as a rename does in a folder.
        self.op
            .write_with(&path, bytes)
            .content_type(content_type(&path))
            .await
            .map_err(remote("put", &path))?;
        Ok(())
    }

    #[instrument(level = "debug", skip_all, fields(blob.key = key))]
    async fn get(&self, key: &str, range: Option<Range<u64>>) -> Result<Option<BlobBody>> {
        let path = Self::path_of(key)?;
        let Some(stat) = self.stat_object(&path).await? else {
            return Ok(None);
        };
        let meta = BlobMeta {
            size_bytes: stat.content_length(),
            modified: to_utc(stat.last_modified()),
        };

        let size = meta.size_bytes;
        let range = match range {
            Some(r) => r.start.min(size)..r.end.min(size),
            None => 0..size,
        };
        if range.is_empty() {
            let stream = futures::stream::empty().boxed();
            return Ok(Some(BlobBody {
                meta,
                range,
                stream,
            }));
        }

        // The bytes must be those of the object just looked at: if it was replaced since,
        // the server refuses (`If-Match`) rather than mix two versions' size and bytes.
        let mut reader = self.op.reader_with(&path).content_length_hint(size);
        if let Some(etag) = stat.etag() {
            reader = reader.if_match(etag);
        }
        let reader = reader.await.map_err(remote("get", &path))?;
        let stream = reader
            .into_bytes_stream(range.clone())
            .await
            .map_err(remote("get", &path))?;
        Ok(Some(BlobBody {
            meta,
            range,
            stream: stream.boxed(),
        }))
    }

    #[instrument(level = "debug", skip_all, fields(blob.key = key))]
    async fn get_bytes(&self, key: &str) -> Result<Option<Bytes>> {
        let path = Self::path_of(key)?;
        match self.op.read(&path).await {
            Ok(buffer) => Ok(Some(buffer.to_bytes())),
            Err(err) if err.kind() == ErrorKind::NotFound => Ok(None),
            Err(err) => Err(remote("get", &path)(err)),
        }
    }

    #[instrument(level = "debug", skip_all, fields(blob.key = key))]
    async fn stat(&self, key: &str) -> Result<Option<BlobMeta>> {
        let path = Self::path_of(key)?;
        Ok(self.stat_object(&path).await?.map(|stat| BlobMeta {
            size_bytes: stat.content_length(),
            modified: to_utc(stat.last_modified()),
        }))
    }

    #[instrument(level = "debug", skip_all, fields(blob.key = key))]
    async fn delete(&self, key: &str) -> Result<()> {
        let path = Self::path_of(key)?;
        // S3 answers a deletion of a missing object with success, as the trait asks.
        self.op.delete(&path).await.map_err(remote("delete", &path))
    }

    #[instrument(level = "debug", skip_all, fields(blob.prefix = prefix))]
    async fn delete_prefix(&self, prefix: &str) -> Result<()> {
        let folder = format!("{}/", Self::path_of(prefix)?);

        // Listing pages feed batched deletions (up to 1000 keys a request) as they come, so a
        // large prefix is never held in memory whole.
        let lister = self
            .op
            .lister_with(&folder)
            .recursive(true)
            .limit(self.listing_page)
            .await
            .map_err(remote("list", &folder))?;
        let keys = lister.map_ok(|entry| entry.path().to_owned());
        self.op
            .delete_try_stream(keys)
            .await
            .map_err(remote("delete", &folder))
    }

    #[instrument(level = "debug", skip_all, fields(blob.prefix = prefix))]
    async fn list(&self, prefix: &str) -> Result<BoxStream<'static, Result<String>>> {
        let folder = if prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", Self::path_of(prefix)?)
        };

        // One listing request per page of keys, sent as the stream is read. Entries that are
        // no objects (the folder itself, folder markers some tools write) are left out.
        let lister = self
            .op
            .lister_with(&folder)
            .recursive(true)
            .limit(self.listing_page)
            .await
            .map_err(remote("list", &folder))?;
        let keys = lister
            .map_err(move |source| Error::ObjectStore {
                operation: "list",
                key: folder.clone(),
                source: Box::new(source),
            })
            .try_filter_map(|entry| async move {
                let (path, meta) = entry.into_parts();
                Ok((meta.is_file() && !path.ends_with('/')).then_some(path))
            });
        Ok(keys.boxed())
    }

    #[instrument(level = "debug", skip_all, fields(blob.key = key))]
    async fn presign_read(&self, key: &str, expires: Duration) -> Result<Option<String>> {
        let path = Self::path_of(key)?;
        let request = self
            .presigner
            .presign_read(&path, expires)
            .await
            .map_err(remote("presign", &path))?;
        Ok(Some(request.uri().to_string()))
    }
}
