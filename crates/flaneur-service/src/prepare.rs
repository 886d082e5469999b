//! The `prepare` job: a picture's derivatives (thumbnail, SD, 360° tiles) made from one decode
//! of its original, then the picture is published.

use bytes::Bytes;
use flaneur_imaging::{DerivativeSpec, ImagingError};
use flaneur_model::{PictureId, PictureStatus};
use flaneur_store::blob_keys;
use tracing::info;

use crate::{Error, Result, Services};

/// What became of a prepare job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prepared {
    /// Derivatives written, picture ready.
    Ready,
    /// The picture is gone or being deleted: nothing to do.
    Skipped,
}

impl Services {
    /// Makes and stores a picture's derivatives, then marks it ready.
    ///
    /// # Errors
    /// [`Error::Imaging`] when the original cannot be decoded (retrying will not help); other
    /// errors are storage failures worth retrying.
    pub async fn prepare(&self, id: PictureId) -> Result<Prepared> {
        let Some(picture) = self.catalog.picture(id).await? else {
            return Ok(Prepared::Skipped);
        };
        // A picture dropped by dispatch meanwhile is not worth the work.
        let startable = [
            PictureStatus::WaitingForProcess,
            PictureStatus::Preparing,
            PictureStatus::Broken,
            PictureStatus::Ready,
        ];
        let catalog = &self.catalog;
        if !catalog
            .transition_picture(id, &startable, PictureStatus::Preparing, None)
            .await?
        {
            return Ok(Prepared::Skipped);
        }

        // 1. The original, once in memory for the decoder.
        let original = self
            .blobs
            .get_bytes(&blob_keys::original(id))
            .await?
            .ok_or_else(|| Error::ItemNotFound(id.to_string()))?;

        // 2. Pixel work off the async threads.
        let spec = DerivativeSpec {
            projection: picture.base.projection,
            orientation: picture.base.orientation,
        };
        let derivatives = tokio::task::spawn_blocking(move || {
            flaneur_imaging::make_derivatives(&original, &spec)
        })
        .await
        .map_err(|e| Error::Task(e.to_string()))??;

        // 3. Files, then the status: a ready picture always has its derivatives. Tiles are
        //    written before the thumbnail so a reader seeing a thumbnail sees a full set.
        let mut bytes_written = 0usize;
        for tile in derivatives.tiles {
            bytes_written += tile.jpeg.len();
            let key = blob_keys::tile(id, tile.col, tile.row);
            self.blobs.put_bytes(&key, Bytes::from(tile.jpeg)).await?;
        }
        if let Some(sd) = derivatives.sd {
            bytes_written += sd.len();
            self.blobs
                .put_bytes(&blob_keys::derivative(id, "sd.jpg"), Bytes::from(sd))
                .await?;
        }
        bytes_written += derivatives.thumb.len();
        let thumb = Bytes::from(derivatives.thumb);
        self.blobs
            .put_bytes(&blob_keys::derivative(id, "thumb.jpg"), thumb)
            .await?;

        // Publish only if nothing dropped the picture while its derivatives were made; if
        // something did, its delete job may already have run, so the new files go here.
        let published = catalog
            .transition_picture(id, &[PictureStatus::Preparing], PictureStatus::Ready, None)
            .await?;
        if !published {
            self.blobs
                .delete_prefix(&blob_keys::derivatives(id))
                .await?;
            return Ok(Prepared::Skipped);
        }
        info!(picture.id = %id, derivative_bytes = bytes_written, "picture prepared");
        Ok(Prepared::Ready)
    }

    /// Marks a picture that cannot be processed as broken.
    ///
    /// # Errors
    /// Fails when the catalog cannot be written.
    pub async fn mark_broken(&self, id: PictureId, reason: &str) -> Result<()> {
        let from = [PictureStatus::WaitingForProcess, PictureStatus::Preparing];
        self.catalog
            .transition_picture(id, &from, PictureStatus::Broken, Some(reason))
            .await?;
        Ok(())
    }

    /// Removes a picture's files, then its row if it was waiting for that.
    ///
    /// # Errors
    /// Fails when storage cannot be written.
    pub async fn delete_files(&self, id: PictureId) -> Result<()> {
        self.blobs.delete(&blob_keys::original(id)).await?;
        self.blobs
            .delete_prefix(&blob_keys::derivatives(id))
            .await?;
        if let Some(picture) = self.catalog.picture(id).await?
            && picture.status == PictureStatus::WaitingForDelete
        {
            self.catalog.remove_picture(id).await?;
        }
        Ok(())
    }
}

/// Whether an error is about the picture itself, so that retrying cannot help.
pub(crate) fn is_permanent(err: &Error) -> bool {
    matches!(
        err,
        Error::Imaging(
            ImagingError::Decode { .. }
                | ImagingError::TooLarge { .. }
                | ImagingError::UnsupportedColorspace { .. }
        ) | Error::ItemNotFound(_)
    )
}
