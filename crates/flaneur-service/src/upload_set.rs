//! Upload sets: creation, status, completion and deletion.

use flaneur_model::{ItemsStatus, NewUploadSet, UploadFile, UploadSet, UploadSetId, Viewer};
use flaneur_store::SequenceSummary;
use tracing::info;

use crate::{Error, Result, Services};

/// An upload set with what came of it, as clients poll it.
#[derive(Debug, Clone)]
pub struct UploadSetView {
    /// The set.
    pub set: UploadSet,
    /// Its pictures' processing state, refused files counted.
    pub items_status: ItemsStatus,
    /// Sequences made from it.
    pub sequences: Vec<SequenceSummary>,
    /// Number of accepted pictures.
    pub nb_items: i64,
}

impl UploadSetView {
    /// Dispatched, and every sequence published with all its pictures processed.
    pub fn is_ready(&self) -> bool {
        self.set.dispatched
            && self.sequences.iter().all(|s| {
                s.sequence.status == flaneur_model::SequenceStatus::Ready
                    && s.items_status.not_processed == 0
                    && s.items_status.preparing == 0
            })
    }
}

impl Services {
    /// Stores a new upload set.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a visibility the instance refuses (see
    /// [`Services::check_visibility`]); fails when the catalog cannot be written.
    pub async fn create_upload_set(&self, spec: NewUploadSet) -> Result<UploadSet> {
        self.check_visibility(Some(spec.visibility))?;
        let set = self.catalog.create_upload_set(spec).await?;
        info!(upload_set.id = %set.id, "upload set created");
        Ok(set)
    }

    /// An upload set, without its progress.
    ///
    /// # Errors
    /// [`Error::UploadSetNotFound`] when it does not exist.
    pub async fn upload_set_spec(&self, id: UploadSetId) -> Result<UploadSet> {
        self.catalog
            .upload_set(id)
            .await?
            .ok_or_else(|| Error::UploadSetNotFound(id.to_string()))
    }

    /// An upload set and its progress, if `viewer` may see it; of its sequences, only those it
    /// may see.
    ///
    /// # Errors
    /// [`Error::UploadSetNotFound`] when it does not exist or may not be seen (alike, so that
    /// an id tells nothing of what it hides).
    pub async fn upload_set(&self, id: UploadSetId, viewer: Viewer) -> Result<UploadSetView> {
        let mut view = self.upload_set_view(id).await?;
        if !viewer.may_see(view.set.spec.visibility, view.set.spec.account_id) {
            return Err(Error::UploadSetNotFound(id.to_string()));
        }
        view.sequences
            .retain(|s| viewer.may_see(s.sequence.visibility, s.sequence.account_id));
        Ok(view)
    }

    /// An upload set and its progress, as its writer sees it right after a write.
    async fn upload_set_view(&self, id: UploadSetId) -> Result<UploadSetView> {
        let set = self
            .catalog
            .upload_set(id)
            .await?
            .ok_or_else(|| Error::UploadSetNotFound(id.to_string()))?;
        // Two reads, so pictures may progress between them. The sequences (which say whether
        // the set is ready) are read first: pictures only move forward, so the counts read
        // after them are never behind, and a set shown ready never shows a picture preparing.
        let sequences = self.catalog.upload_set_sequences(id).await?;
        let items_status = self.catalog.upload_set_items_status(id).await?;
        let nb_items = items_status.prepared
            + items_status.preparing
            + items_status.broken
            + items_status.not_processed;
        Ok(UploadSetView {
            set,
            items_status,
            sequences,
            nb_items,
        })
    }

    /// Every file received in an upload set, if `viewer` may see the set. Only its owner (or
    /// an administrator) learns which picture each file became, as on Panoramax instances.
    ///
    /// # Errors
    /// [`Error::UploadSetNotFound`] when it does not exist or may not be seen.
    pub async fn upload_set_files(
        &self,
        id: UploadSetId,
        viewer: Viewer,
    ) -> Result<Vec<UploadFile>> {
        let not_found = || Error::UploadSetNotFound(id.to_string());
        let set = self.catalog.upload_set(id).await?.ok_or_else(not_found)?;
        if !viewer.may_see(set.spec.visibility, set.spec.account_id) {
            return Err(not_found());
        }
        let mut files = self.catalog.upload_set_files(id).await?;
        if !viewer.acts_as_owner_of(set.spec.account_id) {
            for file in &mut files {
                file.picture_id = None;
            }
        }
        Ok(files)
    }

    /// Declares that every file was sent; the dispatch runs in the background.
    ///
    /// # Errors
    /// [`Error::UploadSetNotFound`] when it does not exist.
    pub async fn complete_upload_set(&self, id: UploadSetId) -> Result<UploadSetView> {
        if self.catalog.complete_upload_set(id).await?.is_none() {
            return Err(Error::UploadSetNotFound(id.to_string()));
        }
        self.wake_workers();
        self.upload_set_view(id).await
    }

    /// Deletes an upload set, its pictures and their files; its sequences become tombstones.
    ///
    /// # Errors
    /// [`Error::UploadSetNotFound`] when it does not exist.
    pub async fn delete_upload_set(&self, id: UploadSetId) -> Result<()> {
        if !self.catalog.delete_upload_set(id).await? {
            return Err(Error::UploadSetNotFound(id.to_string()));
        }
        info!(upload_set.id = %id, "upload set deleted");
        self.wake_workers();
        Ok(())
    }
}
