//! Blobs as files in a local folder.

use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio_util::io::ReaderStream;

use super::{BlobBody, BlobMeta, BlobStore, key_segments};
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

    /// Syncs every folder from the blob's up to the root, so that folders created for it
    /// survive a crash too.
    async fn sync_dirs(&self, path: &Path) -> Result<()> {
        let mut dir = path.parent();
        while let Some(d) = dir {
            sync_dir(d).await?;
            if d == self.root {
                break;
            }
            dir = d.parent();
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

/// Flushes a folder's entry list, so that a new name in it survives a crash.
async fn sync_dir(dir: &Path) -> Result<()> {
    let file = tokio::fs::File::open(dir).await.map_err(io_err(dir))?;
    file.sync_all().await.map_err(io_err(dir))
}

/// Copies a file into a new one that must not exist yet, and syncs it.
async fn copy_new(from: PathBuf, to: PathBuf) -> std::io::Result<()> {
    let task = tokio::task::spawn_blocking(move || {
        let mut src = std::fs::File::open(&from)?;
        let mut dst = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&to)?;
        std::io::copy(&mut src, &mut dst)?;
        dst.sync_all()
    });
    task.await.map_err(std::io::Error::other)?
}

/// Whether a file name is one [`FsBlobStore::put_bytes`] writes before renaming it
/// (`thumb.<32 hex digits>.partial`): a write in progress, or one a crash cut short, and no
/// blob.
fn is_partial_write(name: &str) -> bool {
    let Some(rest) = name.strip_suffix(".partial") else {
        return false;
    };
    rest.rsplit_once('.')
        .is_some_and(|(_, token)| token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A walk through the folders of a listing, one folder open at a time: only the folders
/// still to visit are kept, never the keys already given.
struct Walk {
    /// The folder being read, its path and the key of its path.
    current: Option<(tokio::fs::ReadDir, PathBuf, String)>,
    /// Folders found and not read yet, with the keys of their paths.
    pending: Vec<(PathBuf, String)>,
}

impl Walk {
    /// The next blob's key, `None` at the end.
    async fn next_key(&mut self) -> Result<Option<String>> {
        loop {
            let Some((dir, folder, base)) = &mut self.current else {
                let Some((path, base)) = self.pending.pop() else {
                    return Ok(None);
                };
                match tokio::fs::read_dir(&path).await {
                    Ok(dir) => self.current = Some((dir, path, base)),
                    // Removed since it was found, or a blob rather than a folder: nothing
                    // under it.
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                        ) => {}
                    Err(source) => return Err(Error::Io { path, source }),
                }
                continue;
            };
            let Some(entry) = dir.next_entry().await.map_err(io_err(folder))? else {
                self.current = None;
                continue;
            };
            let path = entry.path();
            let name = entry.file_name().into_string().map_err(|_| Error::Io {
                path: path.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "a file name that is not UTF-8 cannot be a key",
                ),
            })?;
            let key = if base.is_empty() {
                name.clone()
            } else {
                format!("{base}/{name}")
            };
            // Links are followed, as reads do.
            let file_type = match entry.file_type().await {
                Ok(t) if t.is_symlink() => tokio::fs::metadata(&path).await.map(|m| m.file_type()),
                other => other,
            };
            match file_type {
                Ok(t) if t.is_dir() => self.pending.push((path, key)),
                Ok(t) if t.is_file() && !is_partial_write(&name) => return Ok(Some(key)),
                Ok(_) => {}
                // Removed since it was listed.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(Error::Io { path, source }),
            }
        }
    }
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

        // The staged file was synced by its writer. A hard link gives it its final name
        // atomically and fails when the name is taken, so an existing blob is never replaced;
        // across file systems the bytes are copied into a new file instead.
        let linked = match tokio::fs::hard_link(staged, &path).await {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                copy_new(staged.to_owned(), path.clone()).await
            }
            other => other,
        };
        match linked {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(Error::AlreadyExists(key.to_owned()));
            }
            Err(source) => return Err(Error::Io { path, source }),
        }
        tokio::fs::remove_file(staged)
            .await
            .map_err(io_err(staged))?;
        self.sync_dirs(&path).await
    }

    async fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<()> {
        let path = self.path_of(key)?;
        Self::ensure_parent(&path).await?;

        // Write beside the target under a name of its own, then rename, so that readers never
        // see half a file and two writers never share a temporary file.
        let tmp = path.with_extension(format!("{}.partial", uuid::Uuid::new_v4().simple()));
        let written = async {
            let mut file = tokio::fs::File::create(&tmp).await.map_err(io_err(&tmp))?;
            file.write_all(&bytes).await.map_err(io_err(&tmp))?;
            file.sync_data().await.map_err(io_err(&tmp))?;
            drop(file);
            tokio::fs::rename(&tmp, &path).await.map_err(io_err(&path))
        }
        .await;
        if written.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        written
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

    async fn list(&self, prefix: &str) -> Result<BoxStream<'static, Result<String>>> {
        let base = if prefix.is_empty() {
            String::new()
        } else {
            key_segments(prefix)?.join("/")
        };
        let walk = Walk {
            current: None,
            pending: vec![(self.root.join(&base), base)],
        };
        let keys = futures::stream::try_unfold(walk, |mut walk| async move {
            Ok(walk.next_key().await?.map(|key| (key, walk)))
        });
        Ok(keys.boxed())
    }

    async fn presign_read(&self, key: &str, _expires: Duration) -> Result<Option<String>> {
        // Files of a folder have no address of their own: the API streams them.
        self.path_of(key)?;
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::is_partial_write;

    #[test]
    fn only_the_temporary_files_of_writes_are_left_out_of_listings() {
        let token = uuid::Uuid::new_v4().simple().to_string();
        assert!(is_partial_write(&format!("thumb.{token}.partial")));
        assert!(!is_partial_write(&format!("{token}.partial")));
        for blob in [
            "thumb.jpg",
            "notes.partial",
            "a.b.partial",
            "thumb.jpg.partial",
        ] {
            assert!(!is_partial_write(blob), "{blob}");
        }
    }
}
