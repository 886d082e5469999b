//! Blobs as files in a local folder.

use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio_util::io::ReaderStream;

use super::{BlobBody, BlobMeta, BlobStore};
use crate::{Error, Result};

/// A blob store rooted at a local folder.
#[derive(Debug, Clone)]
pub struct FsBlobStore {
    root: PathBuf,
}

impl FsBlobStore {
    /// A store keeping its files under `root`, which is created if needed.
    ///
    /// # Errors
    /// Fails when the folder cannot be created.
    pub async fn open(root: impl Into<PathBuf>) -> Result<FsBlobStore> {
        let root = root.into();
        tokio::fs::create_dir_all(&root)
            .await
            .map_err(io_err(&root))?;
        Ok(FsBlobStore { root })
    }

    /// The folder holding the blobs.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The path of a key, refusing keys that could leave the root.
    fn path_of(&self, key: &str) -> Result<PathBuf> {
        let relative = Path::new(key);
        let is_plain = !key.is_empty()
            && relative
                .components()
                .all(|c| matches!(c, Component::Normal(_)));
        if !is_plain {
            return Err(Error::InvalidKey(key.to_owned()));
        }
        Ok(self.root.join(relative))
    }

    async fn ensure_parent(path: &Path) -> Result<()> {
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(io_err(parent))?;
        }
        Ok(())
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// Flushes a folder's entry list, so that a rename into it survives a crash.
async fn sync_dir(dir: &Path) -> Result<()> {
    let file = tokio::fs::File::open(dir).await.map_err(io_err(dir))?;
    file.sync_all().await.map_err(io_err(dir))
}

fn meta_of(m: &std::fs::Metadata) -> BlobMeta {
    let modified = m
        .modified()
        .map(DateTime::<Utc>::from)
        .unwrap_or_else(|_| Utc::now());
    BlobMeta {
        size_bytes: m.len(),
        modified,
    }
}

#[async_trait]
impl BlobStore for FsBlobStore {
    async fn put_file(&self, key: &str, staged: &Path) -> Result<()> {
        let path = self.path_of(key)?;
        Self::ensure_parent(&path).await?;

        // The staged file was synced by its writer; a rename within one file system is atomic,
        // and syncing the folder makes the new name durable. Across file systems the rename
        // fails and the bytes are copied instead.
        if tokio::fs::rename(staged, &path).await.is_err() {
            tokio::fs::copy(staged, &path)
                .await
                .map_err(io_err(&path))?;
            let copied = tokio::fs::File::open(&path).await.map_err(io_err(&path))?;
            copied.sync_all().await.map_err(io_err(&path))?;
            tokio::fs::remove_file(staged)
                .await
                .map_err(io_err(staged))?;
        }
        match path.parent() {
            Some(parent) => sync_dir(parent).await,
            None => Ok(()),
        }
    }

    async fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<()> {
        let path = self.path_of(key)?;
        Self::ensure_parent(&path).await?;

        // Write beside the target then rename, so readers never see half a file.
        let tmp = path.with_extension("partial");
        let mut file = tokio::fs::File::create(&tmp).await.map_err(io_err(&tmp))?;
        file.write_all(&bytes).await.map_err(io_err(&tmp))?;
        file.sync_data().await.map_err(io_err(&tmp))?;
        drop(file);
        tokio::fs::rename(&tmp, &path).await.map_err(io_err(&path))
    }

    async fn get(&self, key: &str, range: Option<Range<u64>>) -> Result<Option<BlobBody>> {
        let path = self.path_of(key)?;
        let mut file = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::Io { path, source: e }),
        };
        let meta = meta_of(&file.metadata().await.map_err(io_err(&path))?);

        let size = meta.size_bytes;
        let range = match range {
            Some(r) => r.start.min(size)..r.end.min(size),
            None => 0..size,
        };
        if range.start > 0 {
            file.seek(std::io::SeekFrom::Start(range.start))
                .await
                .map_err(io_err(&path))?;
        }
        let stream = ReaderStream::new(file.take(range.end - range.start)).boxed();
        Ok(Some(BlobBody {
            meta,
            range,
            stream,
        }))
    }

    async fn get_bytes(&self, key: &str) -> Result<Option<Bytes>> {
        let path = self.path_of(key)?;
        match tokio::fs::read(&path).await {
            Ok(b) => Ok(Some(Bytes::from(b))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::Io { path, source: e }),
        }
    }

    async fn stat(&self, key: &str) -> Result<Option<BlobMeta>> {
        let path = self.path_of(key)?;
        match tokio::fs::metadata(&path).await {
            Ok(m) => Ok(Some(meta_of(&m))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::Io { path, source: e }),
        }
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let path = self.path_of(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::Io { path, source: e }),
        }
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<()> {
        let path = self.path_of(prefix)?;
        match tokio::fs::remove_dir_all(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::Io { path, source: e }),
        }
    }
}
