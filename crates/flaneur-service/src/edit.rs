//! Editing: changes to published sequences and pictures and their deletion, and who may make
//! each of them. The rule is the Panoramax one: owners and administrators change everything;
//! any other logged-in account may change tags, and the order and headings of a sequence or
//! the heading, time and place of a picture when the owner lets others edit (collaborative
//! editing). What the caller may not see does not exist for it.
//!
//! The catalog writes each change in one transaction and arranges the sequence there with
//! [`arrange`], the rule dispatch uses: sort, headings from the track, length and accuracy.

use std::collections::HashMap;

use flaneur_model::{
    AccountId, Collaborative, Picture, PictureEdit, PictureId, PictureSort, PictureSortKey,
    Sequence, SequenceEdit, SequenceId, SortMethod, Viewer, Visibility,
};
use flaneur_store::{Arrangement, PlannedPicture};
use tracing::info;

use crate::dispatch::{accuracy_p90, headings, sort, track_length_km};
use crate::read::{ItemView, sequence_is_readable};
use crate::{Error, Result, Services};

/// Instance settings of editing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EditSettings {
    /// Whether accounts other than the owner may change the order and headings of sequences
    /// and the heading, capture time and place of pictures, when the owner's account does not
    /// say; `None` lets them, as on Panoramax instances.
    pub collaborative_metadata: Option<bool>,
    /// Whether anyone may make an account: `logged-only` then hides nothing from anyone and
    /// is refused, as on Panoramax instances.
    pub registration_is_open: bool,
}

/// What a viewer may do to something published: the fields it may change, and whether it may
/// delete it. Clients show edit controls from it (the `edit` and `delete` links).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditRights {
    /// The body fields it may send, sorted.
    pub fields: Vec<&'static str>,
    /// Whether it may delete it.
    pub may_delete: bool,
}

/// The arrangement of a sequence from its pictures in rank order: sorted again as the sequence
/// says when `resort`, else kept in their order; headings without a source of their own
/// computed from the track and the sequence's relative heading; length and accuracy measured.
///
/// The track the sequence's readers see goes only through the pictures that reach as far as
/// the sequence ([`Visibility::reaches`]), as its count, time span and bbox do: its length,
/// accuracy and the computed headings of those pictures follow that track, so a hidden
/// picture far off neither lengthens it nor turns its neighbours towards itself. Pictures
/// hidden from the sequence's readers get their headings from the whole track.
pub fn arrange(sequence: &Sequence, mut pictures: Vec<Picture>, resort: bool) -> Arrangement {
    if resort && let Ok(order) = sequence.sorted_by.parse::<PictureSort>() {
        sort(&mut pictures, sort_method(order));
    }
    let relative = sequence.relative_heading_deg;
    let readable: Vec<Picture> = pictures
        .iter()
        .filter(|p| p.base.visibility.reaches(sequence.visibility))
        .cloned()
        .collect();

    let mut planned = headings(&pictures, relative);
    if readable.len() < pictures.len() {
        let seen: HashMap<PictureId, PlannedPicture> = headings(&readable, relative)
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        for p in &mut planned {
            if let Some(seen) = seen.get(&p.id) {
                *p = seen.clone();
            }
        }
    }
    Arrangement {
        pictures: planned,
        length_km: track_length_km(&readable),
        gps_accuracy_m: accuracy_p90(&readable),
    }
}

/// The sort of dispatch for a sequence's order. Both date orders read the capture instant
/// the catalog keeps, the one the metadata reader trusted most (or the one a contributor set):
/// a picture has no other time that edits keep right.
fn sort_method(order: PictureSort) -> SortMethod {
    match (order.key, order.descending) {
        (PictureSortKey::GpsDate | PictureSortKey::FileDate, false) => SortMethod::TimeAsc,
        (PictureSortKey::GpsDate | PictureSortKey::FileDate, true) => SortMethod::TimeDesc,
        (PictureSortKey::FileName, false) => SortMethod::FilenameAsc,
        (PictureSortKey::FileName, true) => SortMethod::FilenameDesc,
    }
}

/// Whether a sequence sorted as `sorted_by` may change order when a picture's time changes.
fn sorts_by_time(sorted_by: &str) -> bool {
    sorted_by
        .parse::<PictureSort>()
        .is_ok_and(|s| matches!(s.key, PictureSortKey::GpsDate | PictureSortKey::FileDate))
}

/// Refuses a change asking for a field the viewer may not change, naming those it may.
fn check_rights(rights: Option<EditRights>, asked: &[(&str, bool)], what: &str) -> Result<()> {
    let rights = rights.ok_or(Error::LoginRequired)?;
    let refused: Vec<&str> = asked
        .iter()
        .filter(|(field, is_asked)| *is_asked && !rights.fields.contains(field))
        .map(|(field, _)| *field)
        .collect();
    if refused.is_empty() {
        return Ok(());
    }
    Err(Error::Forbidden(format!(
        "you may not change {} of this {what}: only its owner may, or others when the owner \
         allows collaborative editing; you may change {}",
        refused.join(", "),
        rights.fields.join(", ")
    )))
}

/// Refuses a change asked by nobody in particular: every change names its author.
fn logged(viewer: Viewer) -> Result<AccountId> {
    viewer.account_id().ok_or(Error::LoginRequired)
}

impl Services {
    /// Whether accounts other than `owner` may change the order, headings, times and places
    /// of what `owner` published: the owner's choice, else the instance's, else yes.
    async fn allows_collaborative_editing(&self, owner: AccountId) -> Result<bool> {
        let own = self.catalog.account(owner).await?;
        Ok(own
            .and_then(|a| a.collaborative_metadata)
            .or(self.editing.collaborative_metadata)
            .unwrap_or(true))
    }

    /// The condition of a change only collaborative editing allows: the rights were checked
    /// with the owner's choice as read before the change; the catalog reads it again in the
    /// change's transaction.
    fn collaborative(&self) -> Collaborative {
        Collaborative {
            instance_default: self.editing.collaborative_metadata,
        }
    }

    /// Refuses `logged-only` when anyone may make an account: every place a visibility is set
    /// (upload sets, edits, an account's default) asks here.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `logged-only` on an instance whose registration is open.
    pub fn check_visibility(&self, visibility: Option<Visibility>) -> Result<()> {
        if visibility == Some(Visibility::LoggedOnly) && self.editing.registration_is_open {
            return Err(Error::invalid(
                "visibility 'logged-only' is not accepted on this instance: anyone may make an \
                 account here, so it would hide nothing; use 'anyone' or 'owner-only'",
            ));
        }
        Ok(())
    }

    /// A sequence `viewer` may read by id, by the rule of reads: others than its owner change
    /// only a published sequence they see. Otherwise the error of an unknown id.
    async fn editable_sequence(&self, viewer: Viewer, id: SequenceId) -> Result<Sequence> {
        match self.catalog.sequence(id).await? {
            Some(s) if sequence_is_readable(&s, viewer) => Ok(s),
            _ => Err(Error::CollectionNotFound(id.to_string())),
        }
    }

    /// What `viewer` may do to a sequence it sees; `None` for an anonymous viewer, who may
    /// do nothing.
    ///
    /// # Errors
    /// Fails when the catalog cannot be read.
    pub async fn collection_rights(
        &self,
        viewer: Viewer,
        sequence: &Sequence,
    ) -> Result<Option<EditRights>> {
        if viewer.is_anonymous() {
            return Ok(None);
        }
        let rights = if viewer.acts_as_owner_of(sequence.account_id) {
            EditRights {
                fields: vec![
                    "relative_heading",
                    "semantics",
                    "sortby",
                    "title",
                    "visibility",
                ],
                may_delete: true,
            }
        } else if self
            .allows_collaborative_editing(sequence.account_id)
            .await?
        {
            EditRights {
                fields: vec!["relative_heading", "semantics", "sortby"],
                may_delete: false,
            }
        } else {
            EditRights {
                fields: vec!["semantics"],
                may_delete: false,
            }
        };
        Ok(Some(rights))
    }

    /// What `viewer` may do to a picture it sees; `None` for an anonymous viewer.
    ///
    /// # Errors
    /// Fails when the catalog cannot be read.
    pub async fn item_rights(
        &self,
        viewer: Viewer,
        picture: &Picture,
    ) -> Result<Option<EditRights>> {
        if viewer.is_anonymous() {
            return Ok(None);
        }
        let owner = picture.base.account_id;
        let rights = if viewer.acts_as_owner_of(owner) {
            EditRights {
                fields: vec![
                    "capture_time",
                    "heading",
                    "latitude",
                    "longitude",
                    "pitch",
                    "roll",
                    "semantics",
                    "visibility",
                    "yaw",
                ],
                may_delete: true,
            }
        } else if self.allows_collaborative_editing(owner).await? {
            EditRights {
                fields: vec![
                    "capture_time",
                    "heading",
                    "latitude",
                    "longitude",
                    "semantics",
                ],
                may_delete: false,
            }
        } else {
            EditRights {
                fields: vec!["semantics"],
                may_delete: false,
            }
        };
        Ok(Some(rights))
    }

    /// Changes a sequence as `viewer`, and answers it as changed.
    ///
    /// # Errors
    /// [`Error::LoginRequired`] for an anonymous viewer; [`Error::CollectionNotFound`] when it
    /// does not exist, is deleted or may not be seen; [`Error::Forbidden`] when the viewer may
    /// not make one of the changes (nothing is changed then); [`Error::InvalidParameter`] for
    /// a visibility the instance refuses.
    pub async fn edit_collection(
        &self,
        viewer: Viewer,
        id: SequenceId,
        edit: SequenceEdit,
    ) -> Result<Sequence> {
        let author = logged(viewer)?;
        let sequence = self.editable_sequence(viewer, id).await?;
        self.check_visibility(edit.visibility)?;

        // Others than the owner: tags always, order and headings when the owner allows.
        let rights = self.collection_rights(viewer, &sequence).await?;
        let asked = [
            ("title", edit.title.is_some()),
            ("visibility", edit.visibility.is_some()),
            ("sortby", edit.sort.is_some()),
            ("relative_heading", edit.relative_heading_deg.is_some()),
            ("semantics", !edit.semantics.is_empty()),
        ];
        check_rights(rights, &asked, "collection")?;
        let mut edit = edit;
        if !viewer.acts_as_owner_of(sequence.account_id) && edit.rearranges() {
            edit.collaborative = Some(self.collaborative());
        }

        let resort = edit.sort.is_some();
        let rule = move |s: &Sequence, pictures: Vec<Picture>| arrange(s, pictures, resort);
        // A new visibility changes which pictures reach the sequence's readers, so its track.
        let rearranges = edit.rearranges() || edit.visibility.is_some();
        let rule: Option<&flaneur_store::Arrange> = rearranges.then_some(&rule);
        (self.catalog.edit_sequence(id, &edit, rule).await?)
            .ok_or_else(|| Error::CollectionNotFound(id.to_string()))?;
        info!(collection.id = %id, account.id = %author, "collection edited");

        // The answer is what the caller reads now: a change made meanwhile may hide it.
        self.editable_sequence(viewer, id).await
    }

    /// Changes a picture as `viewer`, and answers it as changed with its neighbours; in
    /// `collection` when a path names one.
    ///
    /// # Errors
    /// As [`Services::edit_collection`], with [`Error::ItemNotFound`] for a picture that does
    /// not exist, is being deleted, may not be seen (itself or its sequence) or is in another
    /// collection than the path's.
    pub async fn edit_item(
        &self,
        viewer: Viewer,
        collection: Option<SequenceId>,
        id: PictureId,
        edit: PictureEdit,
    ) -> Result<ItemView> {
        let author = logged(viewer)?;
        let (picture, _) = self.visible_picture(collection, id, viewer).await?;
        self.check_visibility(edit.visibility)?;

        // Others than the owner: tags always, heading, time and place when the owner allows.
        let rights = self.item_rights(viewer, &picture).await?;
        let asked = [
            ("visibility", edit.visibility.is_some()),
            ("heading", edit.heading_deg.is_some()),
            ("capture_time", edit.captured_at.is_some()),
            ("longitude", edit.position.is_some()),
            ("latitude", edit.position.is_some()),
            ("pitch", edit.pitch_deg.is_some()),
            ("roll", edit.roll_deg.is_some()),
            ("yaw", edit.yaw_deg.is_some()),
            ("semantics", !edit.semantics.is_empty()),
        ];
        check_rights(rights, &asked, "picture")?;
        let mut edit = edit;
        let is_collaborative = edit.heading_deg.is_some() || edit.moves();
        if !viewer.acts_as_owner_of(picture.base.account_id) && is_collaborative {
            edit.collaborative = Some(self.collaborative());
        }

        // A picture may not be moved where it could not have been uploaded: the areas tested
        // are the general ones and those of its owner, as at upload. The catalog tests them in
        // the transaction of the change.
        // A move changes the track (headings computed from it, length) and, for a sequence
        // sorted by time, maybe the order. The rule reads the sequence's sort in the
        // transaction, so a concurrent change of it is taken into account.
        let retimed = edit.captured_at.is_some();
        let rule = move |s: &Sequence, pictures: Vec<Picture>| {
            arrange(s, pictures, retimed && sorts_by_time(&s.sorted_by))
        };
        // So does a new visibility: the picture joins or leaves the track the readers see.
        let rearranges = edit.moves() || edit.visibility.is_some();
        let rule: Option<&flaneur_store::Arrange> = rearranges.then_some(&rule);
        (self.catalog.edit_picture(id, &edit, rule).await?)
            .ok_or_else(|| Error::ItemNotFound(id.to_string()))?;
        info!(picture.id = %id, account.id = %author, "item edited");

        // The answer is what the caller reads now, neighbours and related pictures as it sees
        // them: a change made meanwhile may hide the picture from it.
        self.item(collection, id, viewer).await
    }

    /// Deletes a sequence as `viewer`: a tombstone stays for harvesters, its pictures go and
    /// their files are removed in the background.
    ///
    /// # Errors
    /// As [`Services::edit_collection`]; only its owner and administrators may delete it.
    pub async fn delete_collection(&self, viewer: Viewer, id: SequenceId) -> Result<()> {
        let author = logged(viewer)?;
        let sequence = self.editable_sequence(viewer, id).await?;
        if !viewer.acts_as_owner_of(sequence.account_id) {
            return Err(Error::Forbidden(
                "only the owner of this collection may delete it".to_owned(),
            ));
        }
        if !self.catalog.delete_sequence(id).await? {
            return Err(Error::CollectionNotFound(id.to_string()));
        }
        info!(collection.id = %id, account.id = %author, "collection deleted");
        self.wake_workers();
        Ok(())
    }

    /// Deletes a picture as `viewer`; its files are removed in the background and its
    /// sequence's track, extent and headings follow.
    ///
    /// # Errors
    /// As [`Services::edit_item`]; only its owner and administrators may delete it.
    pub async fn delete_item(
        &self,
        viewer: Viewer,
        collection: Option<SequenceId>,
        id: PictureId,
    ) -> Result<()> {
        let author = logged(viewer)?;
        let (picture, _) = self.visible_picture(collection, id, viewer).await?;
        if !viewer.acts_as_owner_of(picture.base.account_id) {
            return Err(Error::Forbidden(
                "only the owner of this picture may delete it".to_owned(),
            ));
        }
        let rule = |s: &Sequence, pictures: Vec<Picture>| arrange(s, pictures, false);
        if !self.catalog.delete_picture(id, &rule).await? {
            return Err(Error::ItemNotFound(id.to_string()));
        }
        info!(picture.id = %id, account.id = %author, "item deleted");
        self.wake_workers();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, Utc};
    use flaneur_model::{
        NewPicture, PictureDetails, PictureStatus, Projection, SequenceStatus, UploadSetId,
    };

    use super::*;

    fn picture(name: &str, t: DateTime<Utc>, lon: f64, heading: Option<f64>) -> Picture {
        Picture {
            base: NewPicture {
                id: PictureId::new(),
                upload_set_id: Some(UploadSetId::new()),
                account_id: AccountId::new(),
                visibility: Visibility::Anyone,
                captured_at: t,
                utc_offset_secs: None,
                lon,
                lat: 48.0,
                heading_deg: heading,
                projection: Projection::Flat,
                width: 10,
                height: 10,
                orientation: 1,
                content_md5: String::new(),
                file_name: name.to_owned(),
                size_bytes: 1,
                is_blurred: false,
                details: PictureDetails::default(),
            },
            status: PictureStatus::Ready,
            heading_computed: heading.is_none(),
            sequence_id: None,
            rank: None,
            created_at: t,
            updated_at: t,
            process_error: None,
            origin: None,
        }
    }

    fn sequence(sorted_by: &str, relative: Option<f64>) -> Sequence {
        let t = DateTime::from_timestamp(1_600_000_000, 0).unwrap_or_default();
        Sequence {
            id: SequenceId::new(),
            upload_set_id: None,
            account_id: AccountId::new(),
            title: "walk".to_owned(),
            status: SequenceStatus::Ready,
            visibility: Visibility::Anyone,
            sorted_by: sorted_by.to_owned(),
            user_agent: None,
            relative_heading_deg: relative,
            created_at: t,
            updated_at: t,
            nb_pictures: 0,
            min_captured_at: None,
            max_captured_at: None,
            bbox: None,
            length_km: None,
            gps_accuracy_m: None,
            origin: None,
            origin_removed_at: None,
        }
    }

    #[test]
    fn arranging_sorts_only_when_asked_and_turns_computed_headings() {
        let t0 = DateTime::from_timestamp(1_600_000_000, 0).unwrap_or_default();
        // Going east, the second one given first; the third has a heading of its own.
        let pictures = vec![
            picture("2.jpg", t0 + Duration::seconds(1), 2.0001, None),
            picture("1.jpg", t0, 2.0, None),
            picture("3.jpg", t0 + Duration::seconds(2), 2.0002, Some(7.0)),
        ];
        let names = |a: &Arrangement| -> Vec<String> {
            a.pictures
                .iter()
                .map(|p| {
                    let found = pictures.iter().find(|q| q.base.id == p.id);
                    found.map(|q| q.base.file_name.clone()).unwrap_or_default()
                })
                .collect()
        };
        let kept = arrange(&sequence("+gpsdate", None), pictures.clone(), false);
        assert_eq!(names(&kept), ["2.jpg", "1.jpg", "3.jpg"]);

        let sorted = arrange(&sequence("-filename", Some(90.0)), pictures.clone(), true);
        assert_eq!(names(&sorted), ["3.jpg", "2.jpg", "1.jpg"]);
        let headings: Vec<Option<f64>> = sorted
            .pictures
            .iter()
            .map(|p| p.heading_deg.map(f64::round))
            .collect();
        // The camera's own heading stays; the others look west (the way of the track) turned
        // right by 90°, so north.
        assert_eq!(headings, [Some(7.0), Some(0.0), Some(0.0)]);
        assert!(
            (sorted.length_km - 0.0149).abs() < 0.001,
            "{}",
            sorted.length_km
        );
    }

    #[test]
    fn a_picture_hidden_from_the_sequences_readers_shapes_none_of_its_track() {
        let t0 = DateTime::from_timestamp(1_600_000_000, 0).unwrap_or_default();
        // Going east, with a picture 1° north (about 111 km) between the first two, seen by
        // its owner only, and less precise than the others.
        let mut far = picture("far.jpg", t0 + Duration::seconds(1), 2.0, None);
        far.base.lat = 49.0;
        far.base.visibility = Visibility::OwnerOnly;
        far.base.details.gps_accuracy_m = Some(50.0);
        let mut pictures = vec![
            picture("1.jpg", t0, 2.0, None),
            far,
            picture("2.jpg", t0 + Duration::seconds(2), 2.0001, None),
            picture("3.jpg", t0 + Duration::seconds(3), 2.0002, None),
        ];
        for p in pictures
            .iter_mut()
            .filter(|p| p.base.file_name != "far.jpg")
        {
            p.base.details.gps_accuracy_m = Some(2.0);
        }

        let public = arrange(&sequence("+gpsdate", None), pictures.clone(), false);
        assert!(public.length_km < 0.02, "{}", public.length_km);
        assert_eq!(public.gps_accuracy_m, Some(2.0));
        // The first looks east to the next readable picture, not north to the hidden one; the
        // hidden one keeps a heading along the whole track (south, back to the second).
        let heading = |name: &str| {
            let id = pictures
                .iter()
                .find(|p| p.base.file_name == name)
                .map(|p| p.base.id);
            let planned = public.pictures.iter().find(|p| Some(p.id) == id);
            planned.and_then(|p| p.heading_deg).map(f64::round)
        };
        assert_eq!(heading("1.jpg"), Some(90.0));
        assert_eq!(heading("far.jpg"), Some(180.0));
        assert_eq!(public.pictures.len(), 4);

        // In a sequence only its owner sees, every picture counts.
        let mut own = sequence("+gpsdate", None);
        own.visibility = Visibility::OwnerOnly;
        let whole = arrange(&own, pictures, false);
        assert!(whole.length_km > 200.0, "{}", whole.length_km);
        assert_eq!(whole.gps_accuracy_m, Some(50.0));
    }

    #[test]
    fn others_find_no_sequence_to_change_before_it_is_published() {
        let mut unready = sequence("+gpsdate", None);
        unready.status = SequenceStatus::WaitingForProcess;
        let owner = Viewer::account(unready.account_id, false);
        let admin = Viewer::account(AccountId::new(), true);
        let other = Viewer::account(AccountId::new(), false);
        assert!(sequence_is_readable(&unready, owner));
        assert!(sequence_is_readable(&unready, admin));
        assert!(!sequence_is_readable(&unready, other));
        unready.status = SequenceStatus::Ready;
        assert!(sequence_is_readable(&unready, other));
        unready.status = SequenceStatus::Deleted;
        assert!(!sequence_is_readable(&unready, owner));
    }

    #[test]
    fn only_date_orders_follow_a_new_capture_time() {
        assert!(sorts_by_time("+gpsdate"));
        assert!(sorts_by_time("-filedate"));
        assert!(!sorts_by_time("+filename"));
        assert!(!sorts_by_time("anything else"));
    }
}
