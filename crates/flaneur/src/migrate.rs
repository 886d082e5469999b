//! `flaneur migrate-storage`: copies an embedded instance (the SQLite catalog and the picture
//! folder of a data folder) into a PostgreSQL catalog and a picture store, such as an S3
//! bucket, so that `serve` can run from them with every id, link and date unchanged.
//!
//! 1. The data folder is locked as `serve` locks it: while an instance runs from it, the copy
//!    refuses to start, and no instance starts from it until the copy ends.
//! 2. The destination catalog must be empty, or hold only what an earlier copy of this data
//!    folder wrote (and the default account an instance made on the empty database).
//! 3. Every file of the picture folder is copied, then read back: an original must match the
//!    MD5 the catalog holds, before the copy and after it; every other file (derivatives,
//!    tiles) must read back with the size and MD5 of its source. A file already at the
//!    destination with those is not copied again; any other is written again. A mismatch
//!    stops the run naming the picture.
//! 4. The catalog is copied in one transaction, rows as they are (see
//!    [`flaneur_store::transfer`]), only once every picture file is in place.
//!
//! Nothing in the data folder is ever deleted or changed, but for the schema upgrade `serve`
//! would make. A run stopped at any point can be started again: it goes on where the last
//! left off, and a run on a finished copy checks it and says there is nothing to do.
//!
//! Exit codes: 0 copied (or nothing to do), 1 failed (a checksum mismatch, a storage error),
//! 2 refused (bad options, a running instance, a destination holding other data).

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use bytes::Bytes;
use flaneur_store::transfer::{PgDestination, SqliteSource};
use flaneur_store::{BlobLocation, BlobStore, FsBlobStore, ProcessEnv, blob_keys};
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

    // 2. Picture files.
    let pictures = source
        .pictures()
        .await
        .context("cannot list the pictures")?;
    let originals: HashMap<String, (String, String)> = pictures
        .iter()
        .map(|p| {
            (
                blob_keys::original(p.id),
                (p.id.to_string(), p.content_md5.clone()),
            )
        })
        .collect();
    let from_root = args
        .from_pictures
        .clone()
        .unwrap_or_else(|| dir.join("pictures"));
    if !pictures.is_empty() && !from_root.is_dir() {
        return Err(Misuse(format!("no picture folder at {}", from_root.display())).into());
    }
    let from = FsBlobStore::open(from_root)
        .await
        .context("cannot open the source picture folder")?;
    let to = flaneur_store::open_location(&location)
        .await
        .with_context(|| format!("cannot open the picture store {destination_shown}"))?;
    let keys = list_keys(from.root())?;
    let present: std::collections::HashSet<&str> = keys.iter().map(String::as_str).collect();
    if let Some((key, (id, _))) = originals
        .iter()
        .find(|(key, _)| !present.contains(key.as_str()))
    {
        anyhow::bail!(
            "picture {id}: its original {key} is missing from {}; nothing was copied",
            from.root().display()
        );
    }
    let blobs = copy_blobs(&from, &*to, &keys, &originals).await?;

    // 3. Catalog rows, once every file they name is in place.
    progress(format_args!(
        "catalog: copying {} pictures' rows",
        pictures.len()
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
                "a flaneur process is using the data folder {}: stop it (Ctrl-C or SIGTERM to \
                 `flaneur serve`, which finishes its uploads first), then run the copy again",
                dir.display()
            ))
            .into());
        }
        locks.push(file);
    }
    Ok(locks)
}

/// Every file of the picture folder as a blob key, sorted; files an interrupted write left
/// (`*.partial`) are not blobs.
fn list_keys(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut keys = Vec::new();
    let mut folders = vec![root.to_owned()];
    while let Some(folder) = folders.pop() {
        let entries = std::fs::read_dir(&folder)
            .with_context(|| format!("cannot list {}", folder.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot list {}", folder.display()))?;
            let path = entry.path();
            let kind = entry
                .file_type()
                .with_context(|| format!("cannot read {}", path.display()))?;
            if kind.is_dir() {
                folders.push(path);
            } else if kind.is_file() && path.extension().is_none_or(|e| e != "partial") {
                let relative = path
                    .strip_prefix(root)
                    .context("a listed file is in the folder")?;
                let key = relative
                    .to_str()
                    .with_context(|| format!("file name is not UTF-8: {}", path.display()))?
                    .replace(std::path::MAIN_SEPARATOR, "/");
                keys.push(key);
            }
        }
    }
    keys.sort();
    Ok(keys)
}

/// What [`copy_blobs`] did.
struct BlobCopy {
    files: u64,
    bytes: u64,
    copied: u64,
    copied_bytes: u64,
}

/// Copies every key not already at the destination with the same bytes, verifying sources
/// against the catalog's checksums and destinations against their sources.
async fn copy_blobs(
    from: &FsBlobStore,
    to: &dyn BlobStore,
    keys: &[String],
    originals: &HashMap<String, (String, String)>,
) -> anyhow::Result<BlobCopy> {
    let total_bytes: u64 = keys
        .iter()
        .filter_map(|k| std::fs::metadata(from.root().join(k)).ok())
        .map(|m| m.len())
        .sum();
    progress(format_args!(
        "picture files: {} to check ({})",
        keys.len(),
        mib(total_bytes)
    ));
    // A line every 5 %, at most every 1000 files.
    let step = (keys.len() as u64 / 20).clamp(1, 1000);
    let mut done = BlobCopy {
        files: 0,
        bytes: 0,
        copied: 0,
        copied_bytes: 0,
    };
    for key in keys {
        let bytes = from
            .get_bytes(key)
            .await
            .with_context(|| format!("cannot read {key} from the data folder"))?
            .with_context(|| format!("{key} vanished from the data folder during the copy"))?;
        let digest = md5_hex(&bytes);
        let picture = originals.get(key);
        if let Some((id, expected)) = picture
            && !expected.eq_ignore_ascii_case(&digest)
        {
            anyhow::bail!(
                "picture {id}: its original {key} in the data folder does not match the \
                 checksum the catalog holds (MD5 {digest}, expected {expected}); the copy \
                 stopped, nothing was deleted"
            );
        }
        let what = match picture {
            Some((id, _)) => format!("picture {id}: {key}"),
            None => key.clone(),
        };
        let there = read_back(to, key).await?;
        if there.as_ref() != Some(&(bytes.len(), digest.clone())) {
            let size = bytes.len() as u64;
            to.put_bytes(key, bytes)
                .await
                .with_context(|| format!("cannot write {what} to the destination"))?;
            match read_back(to, key).await? {
                Some((len, ref copy)) if len as u64 == size && *copy == digest => {}
                other => anyhow::bail!(
                    "{what}: the copy at the destination does not match the data folder's \
                     (size {}, MD5 {}; expected {size}, {digest}); the copy stopped",
                    other.as_ref().map_or(0, |o| o.0),
                    other.as_ref().map_or("none", |o| o.1.as_str()),
                ),
            }
            done.copied += 1;
            done.copied_bytes += size;
        }
        done.files += 1;
        done.bytes += std::fs::metadata(from.root().join(key)).map_or(0, |m| m.len());
        if done.files.is_multiple_of(step) || done.files == keys.len() as u64 {
            progress(format_args!(
                "picture files: {}/{} checked ({} of {}), {} copied ({})",
                done.files,
                keys.len(),
                mib(done.bytes),
                mib(total_bytes),
                done.copied,
                mib(done.copied_bytes)
            ));
        }
    }
    Ok(done)
}

/// Size and MD5 of a blob at the destination, if it is there.
async fn read_back(to: &dyn BlobStore, key: &str) -> anyhow::Result<Option<(usize, String)>> {
    let bytes: Option<Bytes> = to
        .get_bytes(key)
        .await
        .with_context(|| format!("cannot read {key} back from the destination"))?;
    Ok(bytes.map(|b| (b.len(), md5_hex(&b))))
}

fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
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
