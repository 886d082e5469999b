//! The blob store seam: picture originals and derivatives, addressed by key.
//!
//! Two implementations: [`FsBlobStore`] (a local folder) and [`S3BlobStore`] (an S3-compatible
//! bucket). [`open_blob_store`] picks one from a URL; the layout of keys is [`blob_keys`].

mod fs;
mod location;
mod s3;

use std::ops::Range;
use std::path::{Component, Path};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;

pub use fs::FsBlobStore;
pub use location::{BlobLocation, EnvSource, ProcessEnv, S3Config, S3Credentials, Secret};
pub use location::{open_blob_store, open_location, read_secret_file};
pub use s3::S3BlobStore;

use crate::{Error, Result};

/// Size and age of a stored blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobMeta {
    /// Size in bytes.
    pub size_bytes: u64,
    /// Last write.
    pub modified: DateTime<Utc>,
}

/// A blob being read, whole or in part.
pub struct BlobBody {
    /// The whole blob's size and age.
    pub meta: BlobMeta,
    /// The byte range being streamed.
    pub range: Range<u64>,
    /// The bytes of `range`.
    pub stream: BoxStream<'static, std::io::Result<Bytes>>,
}

/// Storage for picture files.
///
/// Keys are relative paths made of `/`-separated segments (see [`blob_keys`]).
///
/// # Errors
/// Methods fail with [`crate::Error::InvalidKey`] for malformed keys, and with
/// [`crate::Error::Io`] (folder) or [`crate::Error::ObjectStore`] (S3) when the storage cannot
/// be read or written.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Moves a fully written local file into the store under `key`, durably: once this
    /// returns, the blob survives a crash. The local file is gone afterwards. Fails with
    /// [`crate::Error::AlreadyExists`] (and keeps the local file) when the key is taken.
    async fn put_file(&self, key: &str, staged: &Path) -> Result<()>;

    /// Stores bytes under `key`, replacing any previous blob.
    async fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<()>;

    /// Reads a blob, or the part of it within `range` (clamped to its size). `None` when the
    /// key does not exist.
    async fn get(&self, key: &str, range: Option<Range<u64>>) -> Result<Option<BlobBody>>;

    /// Reads a whole blob into memory.
    async fn get_bytes(&self, key: &str) -> Result<Option<Bytes>>;

    /// Size and age of a blob.
    async fn stat(&self, key: &str) -> Result<Option<BlobMeta>>;

    /// Removes a blob; removing a missing one is not an error.
    async fn delete(&self, key: &str) -> Result<()>;

    /// Removes every blob whose key starts with `prefix/`.
    async fn delete_prefix(&self, prefix: &str) -> Result<()>;

    /// The keys of every blob whose key starts with `prefix/`, or of every blob of the store
    /// when `prefix` is empty, in no particular order. Keys come as the storage gives them
    /// (a folder at a time, a page of keys at a time), so a store of any size is listed in
    /// little memory. A key is listed once; blobs written or removed during the listing may
    /// or may not show. The stream ends after its first error.
    async fn list(&self, prefix: &str) -> Result<BoxStream<'static, Result<String>>>;

    /// A URL anyone holding it can read the blob at, valid for `expires`, so that clients
    /// fetch the bytes from the storage itself. `None` when the store has no such URLs (a
    /// local folder). The URL is not checked: a missing blob answers 404 there.
    async fn presign_read(&self, key: &str, expires: Duration) -> Result<Option<String>>;
}

/// The segments of a key, refusing keys that are empty, absolute, or climb with `..`. Empty
/// and `.` segments are dropped, so `a//b` and `a/./b` name the blob `a/b`, as in a folder.
pub(crate) fn key_segments(key: &str) -> Result<Vec<&str>> {
    let path = Path::new(key);
    let mut segments = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(segment) => {
                // Keys are `&str`, so every segment of one is too.
                let segment = segment
                    .to_str()
                    .ok_or_else(|| Error::InvalidKey(key.to_owned()))?;
                segments.push(segment);
            }
            _ => return Err(Error::InvalidKey(key.to_owned())),
        }
    }
    if segments.is_empty() {
        return Err(Error::InvalidKey(key.to_owned()));
    }
    Ok(segments)
}

/// Where each file of a picture lives. The layout spreads pictures over nested folders by the
/// first bytes of their id, as Panoramax instances do, so no folder grows too large.
pub mod blob_keys {
    use flaneur_model::PictureId;

    fn spread(id: PictureId) -> String {
        let s = id.to_string();
        format!(
            "{}/{}/{}/{}/{}",
            &s[0..2],
            &s[2..4],
            &s[4..6],
            &s[6..8],
            &s[9..]
        )
    }

    /// The original file, served untouched as `hd.jpg`.
    pub fn original(id: PictureId) -> String {
        format!("permanent/{}.jpg", spread(id))
    }

    /// The folder of a picture's derivatives.
    pub fn derivatives(id: PictureId) -> String {
        format!("derivates/{}", spread(id))
    }

    /// One derivative (`sd.jpg`, `thumb.jpg`).
    pub fn derivative(id: PictureId, name: &str) -> String {
        format!("{}/{name}", derivatives(id))
    }

    /// One tile of a 360° picture.
    pub fn tile(id: PictureId, col: u32, row: u32) -> String {
        format!("{}/tiles/{col}_{row}.jpg", derivatives(id))
    }
}
