//! `flaneur migrate-storage`: copies an embedded instance (the SQLite catalog and the picture
//! folder of a data folder) into a PostgreSQL catalog and a picture store, such as an S3
//! bucket, so that `serve` can run from them with every id, link and date unchanged.
//!
//! 1. The data folder is locked as `serve` locks it: while an instance runs from it, the copy
//!    refuses to start, and no instance starts from it until the copy ends.
//! 2. The destination catalog must be empty, or hold only what an earlier copy of this data
//!    folder wrote (and the default account an instance made on the empty database).
//! 3. The destination picture store must hold only files the picture folder has: anything
//!    else is another instance's data, and the copy is refused naming a few of those files.
//! 4. Every file of the picture folder is copied, several at once, then read back: an
//!    original must match the MD5 the catalog holds, before the copy and after it; every
//!    other file (derivatives, tiles) must read back with the size and MD5 of its source.
//!    Files are hashed, sent and read back a chunk at a time, so memory does not grow with
//!    their size. A file already at the destination with the same size and MD5 is not copied
//!    again; any other is written again. A mismatch stops the run naming the picture.
//! 5. The catalog is copied in one transaction, rows as they are (see
//!    [`flaneur_store::transfer`]), only once every picture file is in place.
//!
//! Nothing in the data folder is ever deleted or changed, but for the schema upgrade `serve`
//! would make. In memory the copy keeps the catalog MD5 of every original (checked against
//! each listed original) and one read buffer per file in flight; the keys of the picture
//! folder and of the destination are read as listings stream them, never gathered. A run stopped at any point can be started again: it goes on where the last
//! left off, and a run on a finished copy checks it and says there is nothing to do.
//!
//! Exit codes: 0 copied (or nothing to do), 1 failed (a checksum mismatch, a storage error),
//! 2 refused (bad options, a running instance, a destination holding other data).

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use flaneur_model::PictureId;
use flaneur_store::transfer::{PgDestination, SourcePicture, SqliteSource};
use flaneur_store::{BlobLocation, BlobStore, FsBlobStore, ProcessEnv, blob_keys};
use futures::StreamExt;
use md5::{Digest, Md5};

use crate::Misuse;

/// Options of `flaneur migrate-storage`.
#[derive(Debug, Clone, clap::Args)]
pub struct MigrateArgs {
    /// Data folder of the embedded instance to copy (its `catalog.sqlite` and `pictures/`).
    #[arg(long)]
    from_data_dir: PathBuf,
    /// The source's picture folder, when the instance kept its pictures elsewhere than the
    /// data folder's `pictures/` (with `--fs-url FOLDER`).
    #[arg(long)]
    from_pictures: Option<PathBuf>,
    /// The PostgreSQL catalog to copy into:
    /// `postgresql://USER:PASSWORD@HOST:PORT/DATABASE`. Its role must own the tables (it
    /// creates them on an empty database).
    #[arg(long, env = "DB_URL", hide_env_values = true)]
    db_url: String,
    /// The picture store to copy into: a folder path, `file:///folder`, or
    /// `s3://[ACCESS_KEY:SECRET@]bucket[/prefix]?endpoint_url=<urlencoded>&region=<region>`
    /// (credentials otherwise from `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, or their
    /// `_FILE` variants).
    #[arg(long, env = "FS_URL", hide_env_values = true)]
    fs_url: String,
    /// How many files are copied at once (1 to 64). Over S3 each file costs a few round
    /// trips, so several in flight keep the link busy; each one in flight stages a copy of
    /// its file in the temporary folder (TMPDIR).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    parallel: u16,
}

/// Runs the copy.
///
/// # Errors
/// Fails with [`Misuse`] (exit code 2) when the copy is refused before anything is written:
/// bad options, a running instance, a destination holding other data; otherwise when a
/// store cannot be reached or a file does not match its checksum.
pub async fn run(args: MigrateArgs) -> anyhow::Result<ExitCode> {
    copy(&args).await?;
    Ok(ExitCode::SUCCESS)
}

async fn copy(args: &MigrateArgs) -> anyhow::Result<()> {
    let dir = &args.from_data_dir;
    // The destination is read before anything is opened: an SQLite URL would otherwise be
    // taken for a PostgreSQL server's address.
    match flaneur_store::CatalogUrl::parse(&args.db_url) {
        Ok(flaneur_store::CatalogUrl::Postgres(_)) => {}
        Ok(flaneur_store::CatalogUrl::Sqlite(_)) => {
            return Err(Misuse(
                "--db-url (DB_URL): the copy goes into a PostgreSQL catalog: \
                 postgresql://USER:PASSWORD@HOST:PORT/DATABASE, not an SQLite file"
                    .to_owned(),
            )
            .into());
        }
        Err(e) => return Err(Misuse(format!("--db-url (DB_URL): {e}")).into()),
    }
    if !dir.is_dir() {
        return Err(Misuse(format!("no data folder at {}", dir.display())).into());
    }
    let _locks = lock_data_dir(dir)?;
    let location = BlobLocation::parse(&args.fs_url, &ProcessEnv)
        .map_err(|e| Misuse(format!("--fs-url (FS_URL): {e}")))?;
    let destination_shown = location.describe();

    // 1. Both catalogs.
    let catalog_path = dir.join("catalog.sqlite");
    let source = SqliteSource::open(&catalog_path)
        .await
        .map_err(refused_or("cannot open the source catalog"))?;
    let catalog = PgDestination::connect(&args.db_url)
        .await
        .context("cannot open the destination catalog (--db-url)")?;
    catalog
        .check_holds_only(&source)
        .await
        .map_err(refused_or("cannot read the destination catalog"))?;

    // 2. Picture files. The destination may hold only files of this folder, copied by an
    //    earlier run.
    let pictures = source
        .pictures()
        .await
        .context("cannot list the pictures")?;
    let picture_count = pictures.len();
    let from_root = args
        .from_pictures
        .clone()
        .unwrap_or_else(|| dir.join("pictures"));
    if picture_count > 0 && !from_root.is_dir() {
        return Err(Misuse(format!("no picture folder at {}", from_root.display())).into());
    }
    let from = FsBlobStore::open(from_root)
        .await
        .context("cannot open the source picture folder")?;
    let to = flaneur_store::open_location(&location)
        .await
        .with_context(|| format!("cannot open the picture store {destination_shown}"))?;
    let originals = original_checksums(pictures, &from).await?;
    check_destination_holds_only(&from, &*to, &destination_shown).await?;
    let blobs = copy_blobs(&from, &*to, &originals, usize::from(args.parallel)).await?;

    // 3. Catalog rows, once every file they name is in place.
    progress(format_args!(
        "catalog: copying {picture_count} pictures' rows"
    ));
    let copied = flaneur_store::transfer::copy_catalog(&source, &catalog)
        .await
        .map_err(refused_or("cannot copy the catalog"))?;
    source.close().await;
    catalog.close().await;

    // 4. Summary.
    let mut out = std::io::stderr().lock();
    let _ = writeln!(out, "summary:");
    for table in &copied.tables {
        let _ = writeln!(
            out,
            "  {:<20} {:>8} rows, {:>8} written",
            table.table, table.rows, table.written
        );
    }
    let _ = writeln!(
        out,
        "  {:<20} {:>8} files ({}), {} copied ({}), every one verified",
        "picture files",
        blobs.files,
        mib(blobs.bytes),
        blobs.copied,
        mib(blobs.copied_bytes)
    );
    if copied.written() == 0 && blobs.copied == 0 && !copied.replaced_default_account {
        let _ = writeln!(
            out,
            "nothing to do: the destination already holds a verified copy of {}",
            dir.display()
        );
    } else {
        let _ = writeln!(
            out,
            "done: serve with --db-url and --fs-url (DB_URL, FS_URL) naming the destination \
             ({destination_shown}); {} was left as it was",
            dir.display()
        );
    }
    Ok(())
}

/// Makes a [`flaneur_store::Error::Refused`] a [`Misuse`] (exit code 2), and gives other errors
/// their context.
fn refused_or(context: &'static str) -> impl Fn(flaneur_store::Error) -> anyhow::Error {
    move |err| match err {
        flaneur_store::Error::Refused(why) => Misuse(why).into(),
        other => anyhow::Error::new(other).context(context),
    }
}

/// Locks the data folder exclusively, as a starting instance does: fails while `serve` (or
/// another process) uses it, and keeps any from starting on it until the copy ends.
fn lock_data_dir(dir: &Path) -> anyhow::Result<Vec<File>> {
    let mut locks = Vec::new();
    for path in [dir.join(".lock"), dir.join("catalog.sqlite.lock")] {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open lock file {}", path.display()))?;
        if file.try_lock().is_err() {
            return Err(Misuse(format!(
                "another flaneur process (a server, worker or a copy in progress) is using \
                 the data folder {}: wait for a copy to end, or stop a server or worker \
                 (Ctrl-C or SIGTERM; it finishes its uploads first), then run the copy again",
                dir.display()
            ))
            .into());
        }
        locks.push(file);
    }
    Ok(locks)
}

/// The MD5 the catalog holds for each picture's original, by picture id: the one thing kept
/// in memory per picture (about 50 bytes each), since every listed original is checked
/// against it. Fails, naming the picture, when a checksum is not an MD5 or an original is
/// missing from the picture folder, before anything is copied.
async fn original_checksums(
    pictures: Vec<SourcePicture>,
    from: &FsBlobStore,
) -> anyhow::Result<HashMap<PictureId, [u8; 16]>> {
    let mut originals = HashMap::with_capacity(pictures.len());
    for picture in pictures {
        let id = picture.id;
        let md5 = hex::decode(&picture.content_md5)
            .ok()
            .and_then(|bytes| <[u8; 16]>::try_from(bytes).ok())
            .with_context(|| {
                format!(
                    "picture {id}: the catalog's checksum {:?} is not an MD5; nothing was copied",
                    picture.content_md5
                )
            })?;
        let key = blob_keys::original(id);
        let present = from
            .stat(&key)
            .await
            .with_context(|| format!("cannot read {key} in the data folder"))?;
        if present.is_none() {
            anyhow::bail!(
                "picture {id}: its original {key} is missing from {}; nothing was copied",
                from.root().display()
            );
        }
        originals.insert(id, md5);
    }
    Ok(originals)
}

/// The picture whose original `key` names, if it names one.
fn original_of(key: &str) -> Option<PictureId> {
    let spread = key.strip_prefix("permanent/")?.strip_suffix(".jpg")?;
    let mut parts = spread.splitn(5, '/');
    let head: String = parts.by_ref().take(4).collect();
    let id: PictureId = format!("{head}-{}", parts.next()?).parse().ok()?;
    (blob_keys::original(id) == key).then_some(id)
}

/// How many files the picture folder holds, and their bytes: one walk before the copy, so
/// that progress lines can say how far it is.
async fn count_files(from: &FsBlobStore) -> anyhow::Result<(u64, u64)> {
    let mut keys = from
        .list("")
        .await
        .context("cannot list the source picture folder")?;
    let (mut files, mut bytes) = (0, 0);
    while let Some(key) = keys.next().await {
        let key = key.context("cannot list the source picture folder")?;
        let meta = from
            .stat(&key)
            .await
            .with_context(|| format!("cannot read {key} in the data folder"))?;
        files += 1;
        bytes += meta.map_or(0, |m| m.size_bytes);
    }
    Ok((files, bytes))
}

/// Refuses a destination holding blobs the source does not have: they belong to another
/// instance (or another copy), and mixing the two would serve neither well. A resumed copy
/// of this folder holds only keys the source has, so it goes on.
async fn check_destination_holds_only(
    from: &FsBlobStore,
    to: &dyn BlobStore,
    destination_shown: &str,
) -> anyhow::Result<()> {
    const SHOWN: usize = 5;
    let mut keys = to
        .list("")
        .await
        .with_context(|| format!("cannot list the picture store {destination_shown}"))?;
    let mut foreign = Vec::new();
    while let Some(key) = keys.next().await {
        let key =
            key.with_context(|| format!("cannot list the picture store {destination_shown}"))?;
        let in_source = from
            .stat(&key)
            .await
            .with_context(|| format!("cannot read {key} in the data folder"))?;
        if in_source.is_none() {
            foreign.push(key);
            if foreign.len() == SHOWN {
                break;
            }
        }
    }
    if foreign.is_empty() {
        return Ok(());
    }
    Err(Misuse(format!(
        "the picture store {destination_shown} holds files that are not in the data folder, \
         such as {}: it holds data of another instance. Copy into an empty bucket or folder, \
         or name another prefix in --fs-url (s3://bucket/other-prefix?...)",
        foreign.join(", ")
    ))
    .into())
}

/// What [`copy_blobs`] did.
struct BlobCopy {
    files: u64,
    bytes: u64,
    copied: u64,
    copied_bytes: u64,
}

/// What became of one file.
struct FileCopied {
    size_bytes: u64,
    is_copied: bool,
}

/// Copies every file not already at the destination with the same bytes, `parallel` at a
/// time, verifying sources against the catalog's checksums and destinations against their
/// sources.
///
/// Keys come from the folder's listing as it is read, a folder at a time, so no list of the
/// files is kept. At the first failure no more copies start; those running end, then the
/// first failure is returned.
async fn copy_blobs(
    from: &FsBlobStore,
    to: &dyn BlobStore,
    originals: &HashMap<PictureId, [u8; 16]>,
    parallel: usize,
) -> anyhow::Result<BlobCopy> {
    let (total_files, total_bytes) = count_files(from).await?;
    progress(format_args!(
        "picture files: {total_files} to check ({})",
        mib(total_bytes)
    ));
    // Files are staged outside the data folder, which the copy never writes to: `put_file`
    // takes its file away, and a hard link to the source would tie the copy to it.
    let staging = tempfile::Builder::new()
        .prefix("flaneur-migrate-")
        .tempdir()
        .context("cannot make a staging folder in the temporary folder (TMPDIR)")?;

    let is_stopping = AtomicBool::new(false);
    let keys = from
        .list("")
        .await
        .context("cannot list the source picture folder")?;
    let mut copies = keys
        .take_while(|_| std::future::ready(!is_stopping.load(Ordering::Relaxed)))
        .map(|key| {
            let staging = staging.path();
            async move {
                let key = key.context("cannot list the source picture folder")?;
                copy_file(from, to, staging, &key, originals).await
            }
        })
        .buffer_unordered(parallel);

    // A line every 5 %, at most every 1000 files.
    let step = (total_files / 20).clamp(1, 1000);
    let mut done = BlobCopy {
        files: 0,
        bytes: 0,
        copied: 0,
        copied_bytes: 0,
    };
    let mut first_error = None;
    while let Some(copied) = copies.next().await {
        let file = match copied {
            Ok(file) => file,
            Err(err) => {
                is_stopping.store(true, Ordering::Relaxed);
                first_error.get_or_insert(err);
                continue;
            }
        };
        done.files += 1;
        done.bytes += file.size_bytes;
        if file.is_copied {
            done.copied += 1;
            done.copied_bytes += file.size_bytes;
        }
        if done.files.is_multiple_of(step) || done.files == total_files {
            progress(format_args!(
                "picture files: {}/{total_files} checked ({} of {}), {} copied ({})",
                done.files,
                mib(done.bytes),
                mib(total_bytes),
                done.copied,
                mib(done.copied_bytes)
            ));
        }
    }
    match first_error {
        Some(err) => Err(err.context("the copy stopped at its first failure; nothing was deleted")),
        None => Ok(done),
    }
}

/// Copies one file unless the destination holds the same bytes, and proves the copy by
/// reading it back.
async fn copy_file(
    from: &FsBlobStore,
    to: &dyn BlobStore,
    staging: &Path,
    key: &str,
    originals: &HashMap<PictureId, [u8; 16]>,
) -> anyhow::Result<FileCopied> {
    let source = from.root().join(key);
    let expected = original_of(key).and_then(|id| originals.get(&id).map(|md5| (id, md5)));
    let what = match expected {
        Some((id, _)) => format!("picture {id}: {key}"),
        None => key.to_owned(),
    };
    let check_original = |md5: &[u8; 16]| match expected {
        Some((id, catalog)) if catalog != md5 => Err(anyhow::anyhow!(
            "picture {id}: its original {key} in the data folder does not match the checksum \
             the catalog holds (MD5 {}, expected {})",
            hex::encode(md5),
            hex::encode(catalog)
        )),
        _ => Ok(()),
    };

    // 1. A file there with the source's size may be a finished copy: the cheap size check
    //    comes first, then both checksums prove it.
    let size_bytes = tokio::fs::metadata(&source)
        .await
        .with_context(|| format!("cannot read {key} in the data folder"))?
        .len();
    let there = to
        .stat(key)
        .await
        .with_context(|| format!("cannot read {key} at the destination"))?;
    if there.is_some_and(|meta| meta.size_bytes == size_bytes) {
        let md5 = hash_file(source.clone()).await?;
        check_original(&md5)?;
        if read_back(to, key).await? == Some((size_bytes, md5)) {
            return Ok(FileCopied {
                size_bytes,
                is_copied: false,
            });
        }
    }

    // 2. Staged, the bytes are hashed as they are read, once; the staged file is what is
    //    sent, so the checksum is that of the bytes sent.
    let staged = Staged(staging.join(uuid::Uuid::new_v4().simple().to_string()));
    let (size_bytes, md5) = stage(source, staged.0.clone()).await?;
    check_original(&md5)?;

    // 3. `put_file` never replaces a blob, so a different one is removed first.
    if there.is_some() {
        to.delete(key)
            .await
            .with_context(|| format!("cannot replace {what} at the destination"))?;
    }
    to.put_file(key, &staged.0)
        .await
        .with_context(|| format!("cannot write {what} to the destination"))?;

    // 4. Read back whole.
    match read_back(to, key).await? {
        Some(copy) if copy == (size_bytes, md5) => Ok(FileCopied {
            size_bytes,
            is_copied: true,
        }),
        other => anyhow::bail!(
            "{what}: the copy at the destination does not match the data folder's (size {}, \
             MD5 {}; expected {size_bytes}, {})",
            other.map_or(0, |o| o.0),
            other.map_or_else(|| "none".to_owned(), |o| hex::encode(o.1)),
            hex::encode(md5),
        ),
    }
}

/// A staged file, removed when dropped if `put_file` did not take it.
struct Staged(PathBuf);

impl Drop for Staged {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Bytes read from disk at a time: memory per running copy, whatever the file's size.
const CHUNK_BYTES: usize = 256 * 1024;

/// MD5 of a local file, read a chunk at a time.
async fn hash_file(path: PathBuf) -> anyhow::Result<[u8; 16]> {
    tokio::task::spawn_blocking(move || {
        let mut file =
            File::open(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let mut hasher = Md5::new();
        let mut buffer = vec![0; CHUNK_BYTES];
        loop {
            let n = file
                .read(&mut buffer)
                .with_context(|| format!("cannot read {}", path.display()))?;
            if n == 0 {
                return Ok(hasher.finalize().into());
            }
            hasher.update(&buffer[..n]);
        }
    })
    .await
    .context("hashing a file stopped")?
}

/// Copies a local file to `staged` a chunk at a time, durably, hashing what it writes.
/// Returns the size and MD5 of the staged bytes.
async fn stage(source: PathBuf, staged: PathBuf) -> anyhow::Result<(u64, [u8; 16])> {
    tokio::task::spawn_blocking(move || {
        let read_err = || format!("cannot read {}", source.display());
        let write_err = || format!("cannot stage a copy at {}", staged.display());
        let mut from = File::open(&source).with_context(read_err)?;
        let mut to = File::create_new(&staged).with_context(write_err)?;
        let mut hasher = Md5::new();
        let mut buffer = vec![0; CHUNK_BYTES];
        let mut size = 0u64;
        loop {
            let n = from.read(&mut buffer).with_context(read_err)?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
            to.write_all(&buffer[..n]).with_context(write_err)?;
            size += n as u64;
        }
        to.sync_data().with_context(write_err)?;
        Ok((size, hasher.finalize().into()))
    })
    .await
    .context("staging a file stopped")?
}

/// Size and MD5 of a blob at the destination, if it is there, read as a stream.
async fn read_back(to: &dyn BlobStore, key: &str) -> anyhow::Result<Option<(u64, [u8; 16])>> {
    let read_err = || format!("cannot read {key} back from the destination");
    let Some(body) = to.get(key, None).await.with_context(read_err)? else {
        return Ok(None);
    };
    let mut stream = body.stream;
    let mut hasher = Md5::new();
    let mut size = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.with_context(read_err)?;
        hasher.update(&chunk);
        size += chunk.len() as u64;
    }
    Ok(Some((size, hasher.finalize().into())))
}

fn mib(bytes: u64) -> String {
    #[expect(
        clippy::cast_precision_loss,
        reason = "a size shown to a tenth of a MiB"
    )]
    let value = bytes as f64 / f64::from(1u32 << 20);
    format!("{value:.1} MiB")
}

/// One progress line on stderr; a closed stderr stops nothing.
fn progress(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr(), "{line}");
}
