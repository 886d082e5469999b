//! Flâneur's services: everything the API and the command line do, without HTTP.
//!
//! - [`account`]: accounts and API tokens, and who a bearer value acts for; [`token`] makes
//!   and checks the values.
//! - [`ingest`]: receiving a file into an upload set, from the streamed body to the stored
//!   picture or the tracked rejection.
//! - [`upload_set`]: creating, completing, reading and deleting upload sets.
//! - [`dispatch`]: turning a completed upload set into sequences.
//! - [`edit`]: changing and deleting published sequences and pictures, and who may.
//! - [`prepare`]: making a picture's derivatives.
//! - [`worker`]: the loop that runs queued jobs.
//! - [`read`]: what readers may see: sequences, pictures, search and picture files.
//! - [`tile`]: map vector tiles of the published pictures.
//! - [`harvest`]: reading what changed at peer instances into the catalog; [`peer`] lists
//!   the peers.

pub mod account;
pub mod annotation;
pub mod dispatch;
pub mod edit;
mod error;
pub mod excluded;
pub mod harvest;
pub mod ingest;
pub mod login;
pub mod page;
pub mod peer;
pub mod prepare;
pub mod read;
pub mod report;
pub mod stats;
pub mod tile;
pub mod token;
pub mod upload_set;
pub mod worker;

use std::path::PathBuf;
use std::sync::Arc;

use flaneur_model::DispatchSettings;
use flaneur_store::{BlobStore, Catalog};
use tokio::sync::Notify;

pub use error::{Error, IngestError, Result};

/// The shared state of an instance's services.
#[derive(Clone)]
pub struct Services {
    /// Metadata storage.
    pub catalog: Arc<dyn Catalog>,
    /// Picture storage.
    pub blobs: Arc<dyn BlobStore>,
    /// Local folder where uploads are written while they arrive.
    pub staging_dir: PathBuf,
    /// Dispatch parameters used when an upload set leaves them open.
    pub dispatch_defaults: DispatchSettings,
    /// Woken whenever a job is queued, so idle workers start at once.
    pub jobs_queued: Arc<Notify>,
    /// Map tiles kept in memory and the grid of the current data version.
    pub map: Arc<tile::MapState>,
    /// Who may change what others published, and which visibility levels are accepted.
    pub editing: edit::EditSettings,
    /// Accounts and API tokens.
    pub accounts: account::Accounts,
}

impl Services {
    /// Services over a catalog and a blob store, staging uploads in `staging_dir`.
    pub fn new(
        catalog: Arc<dyn Catalog>,
        blobs: Arc<dyn BlobStore>,
        staging_dir: PathBuf,
    ) -> Services {
        Services {
            catalog: catalog.clone(),
            blobs,
            staging_dir,
            dispatch_defaults: DispatchSettings::default(),
            jobs_queued: Arc::new(Notify::new()),
            map: Arc::new(tile::MapState::default()),
            editing: edit::EditSettings::default(),
            accounts: account::Accounts::new(catalog),
        }
    }

    /// Wakes the workers after something queued a job.
    pub(crate) fn wake_workers(&self) {
        self.jobs_queued.notify_waiters();
    }
}
