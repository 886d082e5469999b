//! Annotations: semantic tags on a part of a picture. Who may change them follows the rule of
//! a picture's own tags ([`Services::item_rights`]): any logged-in account that sees the
//! picture. Who may read them follows the picture: what the caller may not see does not exist
//! for it, and a path naming a collection or picture the annotation is not in finds nothing.

use flaneur_model::{
    Annotation, AnnotationId, NewAnnotation, Picture, PictureId, SequenceId, Shape, TagAction,
    TagChange, Viewer, refuse_duplicate_tags,
};
use flaneur_store::AnnotationOutcome;
use tracing::info;

use crate::{Error, Result, Services};

/// An annotation as a client sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct AnnotationInput {
    /// The part of the picture, in its pixels.
    pub shape: Shape,
    /// Tag changes, in order.
    pub semantics: Vec<TagChange>,
    /// The id the client wants a new annotation to have.
    pub id: Option<AnnotationId>,
}

/// Where a request found a picture or an annotation: by its own id alone, or under the
/// collection and item of the path, which must be its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AnnotationPath {
    /// The collection of the path.
    pub collection: Option<SequenceId>,
    /// The item of the path.
    pub item: Option<PictureId>,
}

impl Services {
    /// An annotation `viewer` sees through its picture, found where the path says, with its
    /// picture.
    async fn visible_annotation(
        &self,
        viewer: Viewer,
        id: AnnotationId,
        path: AnnotationPath,
    ) -> Result<(Annotation, Picture)> {
        let not_found = || Error::AnnotationNotFound(id.to_string());
        let annotation = self.catalog.annotation(id).await?.ok_or_else(not_found)?;
        if path.item.is_some_and(|item| item != annotation.picture_id) {
            return Err(not_found());
        }
        let (picture, _) = self
            .visible_picture(path.collection, annotation.picture_id, viewer)
            .await
            .map_err(|e| match e {
                Error::ItemNotFound(_) => not_found(),
                other => other,
            })?;
        Ok((annotation, picture))
    }

    /// Refuses a change of annotations of `picture` by `viewer` unless it may change the
    /// picture's tags.
    async fn check_may_annotate(&self, viewer: Viewer, picture: &Picture) -> Result<()> {
        let rights = self
            .item_rights(viewer, picture)
            .await?
            .ok_or(Error::LoginRequired)?;
        if !rights.fields.contains(&"semantics") {
            return Err(Error::Forbidden(
                "you may not change the tags of this picture, nor its annotations".to_owned(),
            ));
        }
        Ok(())
    }

    /// Whether `viewer` may annotate a picture it sees, for the `add_annotation` link.
    ///
    /// # Errors
    /// Fails when the catalog cannot be read.
    pub async fn may_annotate(&self, viewer: Viewer, picture: &Picture) -> Result<bool> {
        match self.check_may_annotate(viewer, picture).await {
            Ok(()) => Ok(true),
            Err(Error::LoginRequired | Error::Forbidden(_) | Error::RemoteData { .. }) => Ok(false),
            Err(other) => Err(other),
        }
    }

    /// Annotates a picture as `viewer`: the annotation of the same shape takes the tag
    /// changes, else a new one is made. Returns it as changed, or `None` when the changes left
    /// it without tags and it was deleted.
    ///
    /// # Errors
    /// [`Error::LoginRequired`] for an anonymous viewer; [`Error::ItemNotFound`] when the
    /// picture does not exist, may not be seen or is not in the collection of the path;
    /// [`Error::InvalidParameter`] for a shape outside the picture, changes adding no tag or
    /// the same tag twice, or an id another annotation has.
    pub async fn annotate(
        &self,
        viewer: Viewer,
        picture: PictureId,
        collection: Option<SequenceId>,
        input: AnnotationInput,
    ) -> Result<Option<Annotation>> {
        let author = viewer.account_id().ok_or(Error::LoginRequired)?;
        let (picture, _) = self.visible_picture(collection, picture, viewer).await?;
        self.check_may_annotate(viewer, &picture).await?;
        input
            .shape
            .check_within(picture.base.width, picture.base.height)
            .map_err(Error::invalid)?;
        refuse_duplicate_tags(&input.semantics).map_err(Error::invalid)?;
        if !input.semantics.iter().any(|c| c.action == TagAction::Add) {
            return Err(Error::invalid(
                "semantics should add at least one tag: an annotation is the tags of a part of \
                 a picture",
            ));
        }

        let new = NewAnnotation {
            id: input.id.unwrap_or_default(),
            picture_id: picture.base.id,
            shape: input.shape,
            account_id: author,
        };
        let outcome = self.catalog.annotate(&new, &input.semantics).await?;
        let annotation = match outcome {
            AnnotationOutcome::Tagged(annotation) => Some(annotation),
            AnnotationOutcome::Emptied => None,
            AnnotationOutcome::Missing => {
                return Err(Error::ItemNotFound(new.picture_id.to_string()));
            }
            AnnotationOutcome::IdTaken => {
                return Err(Error::invalid(format!(
                    "annotation id {} is already used by another annotation: send another id, \
                     or none to let the server choose",
                    new.id
                )));
            }
        };
        let id = annotation.as_ref().map(|a| a.id.to_string());
        info!(
            annotation.id = id.as_deref(),
            picture.id = %new.picture_id,
            account.id = %author,
            emptied = annotation.is_none(),
            "picture annotated"
        );
        Ok(annotation)
    }

    /// One annotation `viewer` may see.
    ///
    /// # Errors
    /// [`Error::AnnotationNotFound`] when it does not exist, its picture may not be seen, or
    /// the path names another collection or picture.
    pub async fn annotation(
        &self,
        viewer: Viewer,
        id: AnnotationId,
        path: AnnotationPath,
    ) -> Result<Annotation> {
        Ok(self.visible_annotation(viewer, id, path).await?.0)
    }

    /// Changes the tags of an annotation as `viewer`; `None` when it was left without tags and
    /// deleted.
    ///
    /// # Errors
    /// As [`Services::annotation`], with [`Error::LoginRequired`] for an anonymous viewer and
    /// [`Error::InvalidParameter`] for a tag added twice.
    pub async fn edit_annotation(
        &self,
        viewer: Viewer,
        id: AnnotationId,
        path: AnnotationPath,
        changes: &[TagChange],
    ) -> Result<Option<Annotation>> {
        let author = viewer.account_id().ok_or(Error::LoginRequired)?;
        let (_, picture) = self.visible_annotation(viewer, id, path).await?;
        self.check_may_annotate(viewer, &picture).await?;
        refuse_duplicate_tags(changes).map_err(Error::invalid)?;
        let annotation = match self.catalog.edit_annotation(id, changes).await? {
            AnnotationOutcome::Tagged(annotation) => Some(annotation),
            AnnotationOutcome::Emptied => None,
            AnnotationOutcome::Missing | AnnotationOutcome::IdTaken => {
                return Err(Error::AnnotationNotFound(id.to_string()));
            }
        };
        info!(
            annotation.id = %id,
            account.id = %author,
            emptied = annotation.is_none(),
            "annotation edited"
        );
        Ok(annotation)
    }

    /// Deletes an annotation as `viewer`.
    ///
    /// # Errors
    /// As [`Services::edit_annotation`].
    pub async fn delete_annotation(
        &self,
        viewer: Viewer,
        id: AnnotationId,
        path: AnnotationPath,
    ) -> Result<()> {
        let author = viewer.account_id().ok_or(Error::LoginRequired)?;
        let (_, picture) = self.visible_annotation(viewer, id, path).await?;
        self.check_may_annotate(viewer, &picture).await?;
        if !self.catalog.delete_annotation(id).await? {
            return Err(Error::AnnotationNotFound(id.to_string()));
        }
        info!(annotation.id = %id, account.id = %author, "annotation deleted");
        Ok(())
    }
}
