//! Where `serve` and `worker` keep their data: the options naming the catalog and the blob
//! store, opening both, and the start-up rules of processes sharing them.
//!
//! By default everything lives in the data folder: the SQLite catalog `catalog.sqlite`, the
//! pictures in `pictures/` and uploads being received in `staging/`. `--db-url` and `--fs-url`
//! move the catalog and the pictures elsewhere, such as to servers that processes on several
//! machines share.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use flaneur_store::{BlobLocation, BlobStore, Catalog, CatalogOptions, CatalogUrl, ProcessEnv};
use tracing::{debug, info};

use crate::Misuse;

/// The catalog an administration command works on: the storage options of `serve`, from the
/// command line, the environment or the configuration file.
#[derive(Debug, clap::Args)]
pub struct CatalogArgs {
    #[command(flatten)]
    pub storage: StorageArgs,
    #[command(flatten)]
    pub config: crate::config::ConfigArgs,
}

/// Storage options of `flaneur serve` and `flaneur worker`.
#[derive(Debug, Clone, clap::Args)]
pub struct StorageArgs {
    /// Folder holding the catalog and the pictures unless `--db-url` and `--fs-url` say
    /// otherwise, and the uploads being received.
    #[arg(long, env = "FLANEUR_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    /// The catalog: `sqlite://PATH` or `postgresql://USER:PASSWORD@HOST:PORT/DATABASE`
    /// [default: the file `catalog.sqlite` of the data folder].
    #[arg(long, env = "DB_URL", hide_env_values = true)]
    db_url: Option<String>,
    /// Most connections this process holds open to a PostgreSQL catalog.
    #[arg(
        long,
        env = "DB_MAX_CNX",
        default_value_t = 10,
        value_parser = clap::value_parser!(u32).range(1..=1000)
    )]
    db_max_connections: u32,
    /// The picture store: a folder path, `file:///folder`, or
    /// `s3://[ACCESS_KEY:SECRET@]bucket[/prefix]?endpoint_url=<urlencoded>&region=<region>`
    /// (credentials otherwise from `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, or their
    /// `_FILE` variants) [default: the folder `pictures` of the data folder].
    #[arg(long, env = "FS_URL", hide_env_values = true)]
    fs_url: Option<String>,
}

/// The opened catalog and blob store, with the locks telling other processes this one uses
/// them.
pub struct Storage {
    /// The catalog.
    pub catalog: Arc<dyn Catalog>,
    /// The picture store.
    pub blobs: Arc<dyn BlobStore>,
    /// The catalog's URL, its password masked.
    pub catalog_shown: String,
    /// The picture store's URL or folder, its secrets masked.
    pub blobs_shown: String,
    /// Where uploads are received before they join the picture store.
    pub staging_dir: PathBuf,
    /// Held for the life of the process; see [`start_lock`].
    locks: Vec<File>,
}

impl StorageArgs {
    /// Whether the picture store can give addresses of its own (an S3 bucket), read from the
    /// options alone, before anything is opened.
    ///
    /// # Errors
    /// Fails with [`Misuse`] for a URL that cannot name a store.
    pub fn has_picture_addresses(&self) -> anyhow::Result<bool> {
        match &self.fs_url {
            Some(url) => Ok(matches!(
                BlobLocation::parse(url, &ProcessEnv)
                    .map_err(|e| Misuse(format!("--fs-url (FS_URL): {e}")))?,
                BlobLocation::S3(_)
            )),
            None => Ok(false),
        }
    }

    /// Opens the catalog (migrating its schema) and the blob store.
    ///
    /// # Errors
    /// Fails with [`Misuse`] for a URL that cannot name a store, and otherwise when a folder,
    /// the catalog or the blob store cannot be opened.
    pub async fn open(&self) -> anyhow::Result<Storage> {
        let catalog_url = self.catalog_url()?;
        // Read before the catalog is opened, so that a bad one leaves nothing made.
        let location = match &self.fs_url {
            Some(url) => BlobLocation::parse(url, &ProcessEnv)
                .map_err(|e| Misuse(format!("--fs-url (FS_URL): {e}")))?,
            None => BlobLocation::Folder(self.data_dir.join("pictures")),
        };
        let mut locks = Vec::new();

        // 1. The catalog. An SQLite file can only be shared by processes of this machine, and
        //    they all lock the file beside it: the first of them knows it starts alone.
        let mut is_alone = false;
        if let Some(path) = catalog_url.sqlite_path() {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create folder {}", parent.display()))?;
            }
            let (lock, alone) = start_lock(&lock_path_beside(path))?;
            locks.push(lock);
            is_alone = alone;
        }
        let options = CatalogOptions {
            max_connections: self.db_max_connections,
        };
        let catalog = open_catalog(&catalog_url, &options).await?;

        // 2. Jobs held by a process that is gone. Releasing them all is only right when no
        //    other process uses the catalog: alone on an SQLite file, the jobs still claimed
        //    were held by a previous run that crashed, and start again now. A catalog server
        //    may be shared with other machines, where no lock can tell: there, and beside
        //    running processes, jobs of a stopped process are taken up when their leases run
        //    out.
        if is_alone {
            let released = catalog
                .release_all_jobs()
                .await
                .context("cannot release stale jobs")?;
            if released > 0 {
                info!(
                    jobs = released,
                    "jobs interrupted by the previous run are queued again"
                );
            }
        } else {
            debug!("catalog may be shared: stale jobs wait for their leases to run out");
        }
        for lock in &locks {
            share(lock)?;
        }

        // 3. The blob store; an S3 bucket is asked once, so that a wrong key or address
        //    stops the start.
        let blobs_shown = location.describe();
        let blobs = flaneur_store::open_location(&location)
            .await
            .map_err(|err| start_check_error(err, &blobs_shown))?;

        Ok(Storage {
            catalog,
            blobs,
            catalog_shown: catalog_url.to_string(),
            blobs_shown,
            staging_dir: self.data_dir.join("staging"),
            locks,
        })
    }
}

impl StorageArgs {
    /// The catalog the options name.
    fn catalog_url(&self) -> anyhow::Result<CatalogUrl> {
        Ok(match &self.db_url {
            Some(url) => {
                CatalogUrl::parse(url).map_err(|e| Misuse(format!("--db-url (DB_URL): {e}")))?
            }
            None => CatalogUrl::Sqlite(self.data_dir.join("catalog.sqlite")),
        })
    }

    /// Opens the catalog alone (migrating its schema), for tools that need no pictures: it
    /// takes no start lock, so it runs beside servers and workers without changing what they
    /// do at start.
    ///
    /// # Errors
    /// Fails with [`Misuse`] for a URL that cannot name a catalog, and otherwise when the
    /// catalog cannot be opened.
    pub async fn open_catalog(&self) -> anyhow::Result<Arc<dyn Catalog>> {
        let catalog_url = self.catalog_url()?;
        if let Some(parent) = catalog_url
            .sqlite_path()
            .and_then(Path::parent)
            .filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create folder {}", parent.display()))?;
        }
        let options = CatalogOptions {
            max_connections: self.db_max_connections,
        };
        open_catalog(&catalog_url, &options).await
    }

    /// Opens a catalog that exists already (migrating its schema), for tools that work on
    /// what it holds: on a mistyped `--data-dir`, [`StorageArgs::open_catalog`] would make an
    /// empty catalog there and find nothing in it.
    ///
    /// # Errors
    /// Fails with [`Misuse`] naming the file when the SQLite catalog does not exist, and
    /// otherwise as [`StorageArgs::open_catalog`]. A catalog server is opened as it is: its
    /// database has to exist already to be reached at all.
    pub async fn open_existing_catalog(&self) -> anyhow::Result<Arc<dyn Catalog>> {
        let catalog_url = self.catalog_url()?;
        if let Some(path) = catalog_url.sqlite_path().filter(|path| !path.is_file()) {
            let problem = match &self.db_url {
                None => format!(
                    "no catalog in the data folder {}: {} does not exist; check --data-dir \
                     (FLANEUR_DATA_DIR)",
                    self.data_dir.display(),
                    path.display()
                ),
                Some(_) => format!(
                    "no catalog at {}: the file does not exist; check --db-url (DB_URL)",
                    path.display()
                ),
            };
            return Err(Misuse(problem).into());
        }
        self.open_catalog().await
    }
}

/// Opens a catalog, a URL it cannot use being misuse.
async fn open_catalog(
    url: &CatalogUrl,
    options: &CatalogOptions,
) -> anyhow::Result<Arc<dyn Catalog>> {
    flaneur_store::open_catalog(url, options)
        .await
        .map_err(|err| match err {
            flaneur_store::Error::InvalidCatalogUrl { .. } => {
                anyhow::Error::new(Misuse(format!("--db-url (DB_URL): {err}")))
            }
            other => anyhow::Error::new(other).context(format!("cannot open catalog {url}")),
        })
}

/// Why the picture store refused the start check, in a line an operator can act on: a bucket
/// that does not exist or a key pair the server refuses is a configuration error (exit code
/// 2, restarting cannot help); a server out of reach may come back (exit code 1).
fn start_check_error(err: flaneur_store::Error, shown: &str) -> anyhow::Error {
    if err.is_store_refusal() {
        anyhow::Error::new(Misuse(format!(
            "the bucket of the picture store {shown} does not exist or these credentials may \
             not list it: check FS_URL and the AWS_* keys"
        )))
    } else if err.is_unavailable() {
        anyhow::anyhow!(
            "the picture store {shown} cannot be reached: check that its server is running and \
             that FS_URL names its endpoint"
        )
    } else {
        anyhow::Error::new(err).context(format!("cannot open the picture store {shown}"))
    }
}

impl Storage {
    /// Prepares the staging folder for uploads. Partial files left by a crash are removed
    /// when no other process uses the data folder; beside others, they could be uploads in
    /// progress, and stay until a process starts alone.
    ///
    /// # Errors
    /// Fails when the folder or its lock cannot be made.
    pub fn prepare_staging(&mut self) -> anyhow::Result<()> {
        let data_dir = self
            .staging_dir
            .parent()
            .context("the staging folder has a parent")?
            .to_owned();
        std::fs::create_dir_all(&data_dir)
            .with_context(|| format!("cannot create data folder {}", data_dir.display()))?;
        let (lock, is_alone) = start_lock(&data_dir.join(".lock"))?;
        if is_alone {
            let _ = std::fs::remove_dir_all(&self.staging_dir);
        }
        std::fs::create_dir_all(&self.staging_dir).with_context(|| {
            format!(
                "cannot create staging folder {}",
                self.staging_dir.display()
            )
        })?;
        share(&lock)?;
        self.locks.push(lock);
        Ok(())
    }

    /// Closes the catalog cleanly, at the end of the process.
    pub async fn close(self) {
        self.catalog.close().await;
    }
}

/// `catalog.sqlite` → `catalog.sqlite.lock`.
fn lock_path_beside(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Locks a file every process using a resource locks, and tells whether this process is the
/// only one. The lock is exclusive until [`share`] is called, so that a process starting
/// alone can clean up after a crashed one before others join; a process starting beside
/// others waits for such a clean-up to end. The operating system drops the lock when the
/// process ends, even on a crash.
fn start_lock(path: &Path) -> anyhow::Result<(File, bool)> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .with_context(|| format!("cannot open lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok((file, true)),
        Err(std::fs::TryLockError::WouldBlock) => {
            file.lock_shared()
                .with_context(|| format!("cannot lock {}", path.display()))?;
            Ok((file, false))
        }
        Err(std::fs::TryLockError::Error(err)) => {
            Err(err).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

/// Lets other processes take the lock beside this one's.
fn share(lock: &File) -> anyhow::Result<()> {
    lock.lock_shared().context("cannot share a lock file")
}
