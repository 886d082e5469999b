//! The catalog seam: every metadata read and write the services need, and the job queue.
//!
//! Implementations keep each method atomic: a method either applies all of its writes or none.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use flaneur_model::{
    Account, AccountId, AccountPreferences, ClaimOutcome, ExcludedAreaId, ItemsStatus, Job,
    JobKind, NewPicture, NewToken, NewUploadSet, OauthIdentity, Picture, PictureEdit, PictureId,
    PictureStatus, Projection, Role, SemanticTag, Sequence, SequenceEdit, SequenceId, Token,
    TokenId, UploadFile, UploadSet, UploadSetId, Viewer, Visibility,
};

use crate::annotation::AnnotationOutcome;
use crate::excluded::{AreaScope, ExcludedArea, Exclusion, NewExcludedArea};
use crate::filter::Filter;
use crate::listing::SequenceQuery;
use crate::report::ReportCount;
use crate::search::{PageStart, PictureOrder, PlaceQuery};
use crate::session::{EndedSession, LoginRequest, NewSession, SessionRecord};
use crate::{Area, Result};
use flaneur_model::{Annotation, AnnotationId, NewAnnotation, TagChange};
use flaneur_model::{
    ApplyOutcome, HarvestClaim, HarvestEnd, HarvestProgress, Holder, Peer, PeerId, PeerSource,
    RemoteCollection, RemoteItem, RemoteRemoval, Skip,
};
use flaneur_model::{NewReport, Report, ReportChange, ReportId, ReportQuery};

/// What became of a picture handed to [`Catalog::insert_picture`].
#[derive(Debug, Clone, PartialEq)]
pub enum InsertOutcome {
    /// Stored, its file recorded and its `prepare` job queued.
    Inserted,
    /// Another accepted file of the upload set already has this name.
    NameTaken {
        /// The picture made from that other file.
        existing: Option<PictureId>,
    },
    /// The picture id is already used.
    IdTaken,
    /// The same bytes are already a picture of this upload set (possibly sent at the same
    /// time by a concurrent upload).
    SameBytes {
        /// The picture made from the other upload.
        existing: PictureId,
    },
    /// The same bytes are a picture of other upload sets; the file was recorded as refused.
    SameBytesElsewhere {
        /// `(picture, upload set)` pairs holding them.
        existing: Vec<(PictureId, Option<UploadSetId>)>,
    },
}

/// A sequence of an upload set, with how far its pictures got.
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceSummary {
    /// The sequence.
    pub sequence: Sequence,
    /// Its pictures' processing state (`rejected` is always 0).
    pub items_status: ItemsStatus,
}

/// A picture placed in a planned sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedPicture {
    /// The picture.
    pub id: PictureId,
    /// Its heading after dispatch.
    pub heading_deg: Option<f64>,
    /// Whether that heading was computed from the track.
    pub heading_computed: bool,
}

/// A sequence that dispatch decided to create.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedSequence {
    /// Its title.
    pub title: String,
    /// Sort applied, in collection form (`+gpsdate`).
    pub sorted_by: String,
    /// Pictures in rank order.
    pub pictures: Vec<PlannedPicture>,
    /// Length of the track in kilometres.
    pub length_km: f64,
    /// Position error of its pictures (90th percentile), in metres.
    pub gps_accuracy_m: Option<f64>,
}

/// A picture that dispatch dropped as a near-duplicate of another.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedDuplicate {
    /// The dropped picture.
    pub id: PictureId,
    /// What it duplicates and by how much (`duplicate_of`, `distance`, `angle`).
    pub details: serde_json::Value,
}

/// The whole outcome of dispatching an upload set.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DispatchPlan {
    /// Sequences to create (or to reuse when a previous dispatch made them).
    pub sequences: Vec<PlannedSequence>,
    /// Pictures to drop.
    pub duplicates: Vec<PlannedDuplicate>,
}

/// Where the pictures of a sequence stand after a change: their order, their headings and
/// what the track measures.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Arrangement {
    /// Every picture of the sequence, in rank order, with its heading.
    pub pictures: Vec<PlannedPicture>,
    /// Length of the track in kilometres.
    pub length_km: f64,
    /// Position error of its pictures (90th percentile), in metres.
    pub gps_accuracy_m: Option<f64>,
}

/// The rule arranging a sequence from its row and its pictures in their current rank order.
///
/// The catalog calls it inside the transaction of the change, on the rows as they are once
/// the change is written: an order computed before the transaction from an earlier read could
/// undo a change another request made meanwhile. The rule must return every picture it is
/// given, each once; a change is refused otherwise.
pub type Arrange = dyn Fn(&Sequence, Vec<Picture>) -> Arrangement + Send + Sync;

/// An inclusive interval of instants; either end may be open.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TimeRange {
    /// Lower bound.
    pub start: Option<DateTime<Utc>>,
    /// Upper bound.
    pub end: Option<DateTime<Utc>>,
}

/// One page of a keyset listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The rows, in listing order.
    pub rows: Vec<T>,
    /// Whether rows exist after the last one.
    pub has_next: bool,
    /// Whether rows exist before the first one.
    pub has_prev: bool,
}

/// A slice of a sequence's pictures by rank.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RankQuery {
    /// Only ranks strictly greater than this.
    pub after_rank: Option<i64>,
    /// At most this many pictures.
    pub limit: Option<usize>,
    /// Include pictures that are not `ready` (the owner's view).
    pub include_unready: bool,
    /// Only the pictures this viewer may see; every picture when `None`, for the work the
    /// instance does on its own behalf (dispatch, processing, the owner's upload set).
    pub visible_to: Option<Viewer>,
}

/// Pictures around one picture, for its `related` links.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NearbyQuery {
    /// Longitude of the picture.
    pub lon: f64,
    /// Latitude of the picture.
    pub lat: f64,
    /// The picture's sequence, whose pictures are left out.
    pub sequence: SequenceId,
    /// How far a picture may be, in metres.
    pub within_m: f64,
    /// `(heading, largest gap)` in degrees: pictures with a heading must face within the gap
    /// of this heading. Pictures without one always qualify.
    pub facing: Option<(f64, f64)>,
    /// Who reads: only pictures it may see, in sequences it may see, are found.
    pub viewer: Viewer,
}

/// A picture search: filters, an order and where the page starts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PictureQuery {
    /// Only pictures inside `[min lon, min lat, max lon, max lat]`.
    pub bbox: Option<[f64; 4]>,
    /// Only pictures inside this area.
    pub intersects: Option<Area>,
    /// Only pictures captured in this interval.
    pub datetime: TimeRange,
    /// Only these pictures.
    pub ids: Vec<PictureId>,
    /// Only pictures of these sequences.
    pub collections: Vec<SequenceId>,
    /// Only pictures near this place and looking at it.
    pub place: Option<PlaceQuery>,
    /// Only pictures matching this filter, checked by [`crate::checked_picture_filter`].
    pub filter: Option<Filter>,
    /// The order of the results.
    pub order: PictureOrder,
    /// Page size.
    pub limit: usize,
    /// Where the page starts; the first page when `None`.
    pub start: Option<PageStart>,
    /// Who reads: only pictures it may see, in sequences it may see, are found.
    pub viewer: Viewer,
}

/// Space and time covered by the published pictures.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Extent {
    /// `[min lon, min lat, max lon, max lat]`, `None` when there are no pictures.
    pub bbox: Option<[f64; 4]>,
    /// Earliest and latest capture instants.
    pub interval: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// What the published sequences of one account cover.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AccountSummary {
    /// How many there are.
    pub nb_sequences: i64,
    /// Their space and capture time.
    pub extent: Extent,
    /// When the first of them was created.
    pub first_created_at: Option<DateTime<Utc>>,
    /// When one of them last changed.
    pub last_updated_at: Option<DateTime<Utc>>,
}

/// What a map read covers.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MapQuery {
    /// `[min lon, min lat, max lon, max lat]`.
    pub bbox: [f64; 4],
    /// Only what this account owns.
    pub account: Option<AccountId>,
    /// Sequences: the lines simplified for low zooms instead of the full ones.
    pub simplified: bool,
}

/// A ready sequence as the map draws it, whatever its visibility: readers decide who sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct MapSequence {
    /// The sequence.
    pub id: SequenceId,
    /// Its owner.
    pub account_id: AccountId,
    /// Who may see it.
    pub visibility: Visibility,
    /// Its line in parts, through its ready pictures whose visibility is no narrower than the
    /// sequence's, broken at gaps (see [`crate::track`]).
    pub lines: Vec<Vec<[f64; 2]>>,
    /// Camera of its first drawn picture.
    pub model: Option<String>,
    /// Projection of its first drawn picture.
    pub projection: Option<Projection>,
    /// Day of its earliest drawn picture, `YYYY-MM-DD`.
    pub capture_date: Option<String>,
    /// Position error of its pictures (90th percentile), in metres.
    pub gps_accuracy_m: Option<f64>,
    /// Pixels per degree of field of view of its first drawn picture.
    pub h_pixel_density: Option<i64>,
}

/// A ready picture of a ready sequence as the map draws it, whatever their visibility.
#[derive(Debug, Clone, PartialEq)]
pub struct MapPicture {
    /// The picture.
    pub id: PictureId,
    /// Its owner.
    pub account_id: AccountId,
    /// Its sequence.
    pub sequence_id: SequenceId,
    /// Who may see the picture.
    pub visibility: Visibility,
    /// Who may see its sequence.
    pub sequence_visibility: Visibility,
    /// Longitude.
    pub lon: f64,
    /// Latitude.
    pub lat: f64,
    /// Capture instant.
    pub captured_at: DateTime<Utc>,
    /// Heading, in degrees.
    pub heading_deg: Option<f64>,
    /// Projection.
    pub projection: Projection,
    /// Camera, as [`flaneur_model::camera_model`] names it.
    pub model: Option<String>,
    /// Position error, in metres.
    pub gps_accuracy_m: Option<f64>,
    /// Pixels per degree of horizontal field of view.
    pub h_pixel_density: Option<i64>,
}

/// The state of what the map shows, in one catalog.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DataVersion {
    /// A random id drawn when the catalog was created, so that the versions of two catalogs
    /// never read alike.
    pub catalog: String,
    /// Moves forward with every write that may change what the map shows.
    pub counter: i64,
}

impl DataVersion {
    /// Whether this version comes before `other` in the same catalog.
    pub fn is_before(&self, other: &DataVersion) -> bool {
        self.catalog == other.catalog && self.counter < other.counter
    }
}

impl std::fmt::Display for DataVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.catalog, self.counter)
    }
}

/// The published pictures snapped to one point of the 0.1° map grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridCell {
    /// Longitude of the grid point.
    pub lon: f64,
    /// Latitude of the grid point.
    pub lat: f64,
    /// Pictures counted there.
    pub nb_pictures: i64,
    /// How many of them are 360° pictures.
    pub nb_360_pictures: i64,
}

/// Metadata storage, search and job queue.
///
/// # Errors
/// Every method fails with [`crate::Error`] when the database cannot be reached or returns
/// something this version did not write.
#[async_trait]
pub trait Catalog: Send + Sync + 'static {
    // --- accounts -----------------------------------------------------------------------------

    /// The account anonymous uploads belong to, created on first use.
    async fn default_account(&self) -> Result<(AccountId, String)>;

    /// The display name of an account, deleted ones included: their pictures stay credited
    /// to them.
    async fn account_name(&self, id: AccountId) -> Result<Option<String>>;

    /// Every account not deleted with its display name, oldest first, at most `limit` of
    /// them.
    async fn accounts(&self, limit: usize) -> Result<Vec<(AccountId, String)>>;

    /// Makes an account.
    ///
    /// # Errors
    /// [`crate::Error::Refused`] when another account has this name.
    async fn create_account(&self, name: &str, role: Role) -> Result<Account>;

    /// One account, unless deleted.
    async fn account(&self, id: AccountId) -> Result<Option<Account>>;

    /// The account of this name, unless deleted.
    async fn account_by_name(&self, name: &str) -> Result<Option<Account>>;

    /// The account of an identity at a login provider, made on its first login, its name
    /// refreshed on the next ones. Names stay unique: when another account holds `name`, the
    /// first free of `name_2`, `name_3`… is used.
    async fn upsert_oauth_account(&self, identity: &OauthIdentity, name: &str) -> Result<Account>;

    /// Moves the login identities kept under the provider key `from` to the key `to`, except
    /// those whose identity `to` already holds; returns how many moved.
    async fn rekey_oauth_provider(&self, from: &str, to: &str) -> Result<u64>;

    /// Changes what an account may do; returns `false` when it does not exist, or stands for
    /// a peer's author (see [`flaneur_model::Account::origin`]).
    async fn set_account_role(&self, id: AccountId, role: Role) -> Result<bool>;

    /// Changes an account's preferences; returns the account as updated, or `None` when it
    /// does not exist.
    async fn update_account_preferences(
        &self,
        id: AccountId,
        prefs: &AccountPreferences,
    ) -> Result<Option<Account>>;

    /// Deletes an account: its tokens are revoked and it can no longer log in, but its row
    /// stays (marked deleted) since its upload sets, pictures and sequences name it. The
    /// default account cannot be deleted. Returns `false` when there was nothing to delete.
    async fn delete_account(&self, id: AccountId) -> Result<bool>;

    // --- tokens -------------------------------------------------------------------------------

    /// Stores a token, unclaimed or attached to an account.
    ///
    /// # Errors
    /// [`crate::Error::NotFound`] of kind `account` when its account does not exist, or stands
    /// for a peer's author.
    async fn create_token(&self, token: NewToken) -> Result<Token>;

    /// Attaches an unclaimed token to an account; a token already claimed is left as it is.
    ///
    /// # Errors
    /// [`crate::Error::NotFound`] of kind `account` when the account does not exist (or was
    /// deleted, or stands for a peer's author) and the token is unclaimed; nothing changes then.
    async fn claim_token(&self, id: TokenId, account: AccountId) -> Result<ClaimOutcome>;

    /// The tokens of an account, oldest first.
    async fn account_tokens(&self, account: AccountId) -> Result<Vec<Token>>;

    /// One token.
    async fn token(&self, id: TokenId) -> Result<Option<Token>>;

    /// The token whose secret value has this SHA-256 (lowercase hexadecimal), with its account
    /// when claimed (and neither deleted nor a peer's author). Records the use, at most once
    /// every few minutes.
    async fn resolve_token(&self, secret_sha256: &str) -> Result<Option<(Token, Option<Account>)>>;

    /// Deletes a token, which stops working at once; returns `false` when it did not exist.
    async fn revoke_token(&self, id: TokenId) -> Result<bool>;

    /// Deletes the tokens nobody claimed that were made before `before`, and the oldest ones
    /// beyond the `keep` newest; returns how many.
    async fn forget_unclaimed_tokens(&self, before: DateTime<Utc>, keep: u64) -> Result<u64>;

    /// The instance's secret called `name`: `fresh` is stored when it has none yet, and the
    /// stored value returned, so that every process of the catalog uses the first one made.
    async fn instance_secret(&self, name: &str, fresh: &str) -> Result<String>;
    // --- browser logins -----------------------------------------------------------------------

    /// Keeps a login request until the browser comes back from the provider; requests past
    /// their expiry are dropped meanwhile, and the oldest ones beyond `max_pending` waiting
    /// requests (this one included).
    async fn put_login_request(&self, request: &LoginRequest, max_pending: u64) -> Result<()>;

    /// Takes (and so removes) the login request of a `state` hash: each is answered once.
    async fn take_login_request(&self, state_hash: &str) -> Result<Option<LoginRequest>>;

    /// Opens a session; sessions past their expiry are dropped meanwhile.
    async fn create_session(&self, session: &NewSession) -> Result<()>;

    /// The session of a cookie hash, if it is open at `now` and its account still exists (a
    /// peer's author never has one).
    async fn session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<Option<SessionRecord>>;

    /// Ends a session; `None` when there was none of this hash.
    async fn end_session(&self, id_hash: &str) -> Result<Option<EndedSession>>;

    // --- upload sets --------------------------------------------------------------------------

    /// The excluded areas in `scope`, oldest first.
    async fn excluded_areas(&self, scope: AreaScope) -> Result<Vec<ExcludedArea>>;

    /// Stores one excluded area.
    async fn add_excluded_area(&self, area: &NewExcludedArea) -> Result<ExcludedArea>;

    /// Replaces every general area (those of no account) with `areas`, at once.
    async fn replace_general_areas(&self, areas: &[NewExcludedArea]) -> Result<Vec<ExcludedArea>>;

    /// Deletes an area of `owner` (`None`: a general one); `false` when it has no such area.
    async fn delete_excluded_area(
        &self,
        id: ExcludedAreaId,
        owner: Option<AccountId>,
    ) -> Result<bool>;

    /// Whether a picture of `account` at this position is refused, and by which kind of area.
    async fn exclusion_at(
        &self,
        lon: f64,
        lat: f64,
        account: Option<AccountId>,
    ) -> Result<Option<Exclusion>>;

    /// Stores a new upload set.
    async fn create_upload_set(&self, spec: NewUploadSet) -> Result<UploadSet>;

    /// One upload set.
    async fn upload_set(&self, id: UploadSetId) -> Result<Option<UploadSet>>;

    /// Every file received in an upload set, in arrival order.
    async fn upload_set_files(&self, id: UploadSetId) -> Result<Vec<UploadFile>>;

    /// Processing state of the pictures of an upload set, rejected files counted.
    async fn upload_set_items_status(&self, id: UploadSetId) -> Result<ItemsStatus>;

    /// The live sequences made from an upload set, in creation order.
    async fn upload_set_sequences(&self, id: UploadSetId) -> Result<Vec<SequenceSummary>>;

    /// Marks an upload set completed and queues its dispatch. Returns the updated set, or
    /// `None` when it does not exist.
    async fn complete_upload_set(&self, id: UploadSetId) -> Result<Option<UploadSet>>;

    /// Deletes an upload set: its pictures are removed (their files by queued `delete_files`
    /// jobs) and its sequences become tombstones. Returns `false` when it did not exist.
    async fn delete_upload_set(&self, id: UploadSetId) -> Result<bool>;

    // --- files and pictures -------------------------------------------------------------------

    /// Pictures (with their upload set) whose original has this MD5.
    async fn pictures_by_md5(&self, md5: &str) -> Result<Vec<(PictureId, Option<UploadSetId>)>>;

    /// Records a refused file. A previously refused file of the same name is replaced; an
    /// accepted one is never overwritten. Counts toward the upload set's expected file count.
    ///
    /// # Errors
    /// [`crate::Error::NotFound`] of kind `upload set` when the set was deleted meanwhile.
    async fn record_rejection(&self, file: UploadFile) -> Result<()>;

    /// Stores an accepted picture with its file row and queues its `prepare` job, in one
    /// transaction, unless its bytes, file name or id are already taken (see
    /// [`InsertOutcome`]). Counts toward the upload set's expected file count.
    ///
    /// # Errors
    /// [`crate::Error::NotFound`] of kind `upload set` when the set was deleted meanwhile;
    /// [`crate::Error::Refused`] when the picture is not of the file's upload set. Nothing is
    /// stored then.
    async fn insert_picture(&self, picture: NewPicture, file: UploadFile) -> Result<InsertOutcome>;

    /// One picture with its sequence and rank.
    async fn picture(&self, id: PictureId) -> Result<Option<Picture>>;

    /// Every picture of an upload set that is not being deleted.
    async fn upload_set_pictures(&self, id: UploadSetId) -> Result<Vec<Picture>>;

    /// Moves a picture to another processing state, with the error that caused it if any.
    async fn set_picture_status(
        &self,
        id: PictureId,
        status: PictureStatus,
        error: Option<&str>,
    ) -> Result<()>;

    /// Moves a picture to `to` only if its status is one of `from`, atomically; returns whether
    /// it moved. Lets a worker publish a picture without undoing a concurrent decision to drop
    /// it.
    async fn transition_picture(
        &self,
        id: PictureId,
        from: &[PictureStatus],
        to: PictureStatus,
        error: Option<&str>,
    ) -> Result<bool>;

    /// Deletes a picture's row, once its files are gone.
    async fn remove_picture(&self, id: PictureId) -> Result<()>;

    /// Writes the outcome of a dispatch: sequences with ranks and headings, dropped duplicates
    /// (rejected as `capture_duplicate` and their files queued for deletion), and marks the
    /// upload set dispatched. Sequences of an earlier dispatch are reused when they hold the
    /// same pictures, and tombstoned when no longer needed. Returns the sequence ids in plan
    /// order.
    async fn apply_dispatch(&self, id: UploadSetId, plan: DispatchPlan) -> Result<Vec<SequenceId>>;

    // --- editing ------------------------------------------------------------------------------

    /// Changes a sequence that is not deleted: its fields, then its tags in the order given,
    /// then, with `arrange`, its pictures' ranks and headings. Returns the changed sequence,
    /// or `None` when there is no such sequence (or it is deleted).
    async fn edit_sequence(
        &self,
        id: SequenceId,
        edit: &SequenceEdit,
        arrange: Option<&Arrange>,
    ) -> Result<Option<Sequence>>;

    /// Changes a picture: its fields, then its tags in the order given, then, with `arrange`,
    /// the ranks and headings of its sequence's pictures. Its sequence's time span and bbox
    /// follow. Returns the changed picture, or `None` when there is no such picture.
    async fn edit_picture(
        &self,
        id: PictureId,
        edit: &PictureEdit,
        arrange: Option<&Arrange>,
    ) -> Result<Option<Picture>>;

    /// Deletes a sequence: it becomes a tombstone, its pictures are removed (their files by
    /// queued `delete_files` jobs, their pending processing with them). Returns `false` when
    /// there was no such sequence, or it was already deleted.
    async fn delete_sequence(&self, id: SequenceId) -> Result<bool>;

    /// Deletes a picture (its files by a queued `delete_files` job), then arranges what is
    /// left of its sequence with `arrange` and updates the sequence's figures. Returns `false`
    /// when there was no such picture.
    async fn delete_picture(&self, id: PictureId, arrange: &Arrange) -> Result<bool>;

    // --- annotations --------------------------------------------------------------------------

    /// Applies tag changes, in order, to the annotation of the new one's picture with the same
    /// shape, or makes the new one when the picture has none of that shape. An annotation left
    /// without tags is deleted, and a new one that would have none is not made.
    async fn annotate(
        &self,
        new: &NewAnnotation,
        changes: &[TagChange],
    ) -> Result<AnnotationOutcome>;

    /// One annotation with its tags.
    async fn annotation(&self, id: AnnotationId) -> Result<Option<Annotation>>;

    /// Applies tag changes, in order, to an annotation, deleting it when it is left without
    /// tags.
    async fn edit_annotation(
        &self,
        id: AnnotationId,
        changes: &[TagChange],
    ) -> Result<AnnotationOutcome>;

    /// Deletes an annotation; `false` when there was none of this id.
    async fn delete_annotation(&self, id: AnnotationId) -> Result<bool>;

    /// The annotations of these pictures, each picture's oldest first, each with its tags
    /// sorted by key then value; pictures without annotations are absent from the map.
    async fn picture_annotations(
        &self,
        ids: &[PictureId],
    ) -> Result<HashMap<PictureId, Vec<Annotation>>>;

    // --- reports ------------------------------------------------------------------------------

    /// Records a report; with `hide`, hides the reported data from everyone but its owner in
    /// the same transaction, as an edit of its visibility would, and the report is
    /// `open_autofix` (else `open`).
    async fn create_report(&self, report: &NewReport) -> Result<Report>;

    /// One report, with the owner of the data it is about.
    async fn report(&self, id: ReportId) -> Result<Option<Report>>;

    /// Changes a report; `None` when there is no such report.
    async fn update_report(&self, id: ReportId, change: &ReportChange) -> Result<Option<Report>>;

    /// Reports the query selects, most recent first.
    async fn list_reports(&self, query: &ReportQuery) -> Result<Vec<Report>>;

    /// How many reports there are of each status and issue (pairs without any are absent).
    async fn report_counts(&self) -> Result<Vec<ReportCount>>;

    /// Accounts, pictures, sequences and queued jobs, counted for administrators.
    async fn instance_stats(&self) -> Result<crate::InstanceStats>;

    // --- pages --------------------------------------------------------------------------------

    /// The texts of a page, one per language, by language code.
    async fn page_texts(&self, name: &str) -> Result<Vec<crate::PageText>>;

    /// The names of the pages written in some language, sorted.
    async fn page_names(&self) -> Result<Vec<String>>;

    /// Writes a page's text in one language, replacing the one there was; a new language
    /// shares the page's last announced change.
    async fn save_page(&self, name: &str, lang: &str, content: &str) -> Result<()>;

    /// Removes a page's text in one language; false when there was none.
    async fn delete_page(&self, name: &str, lang: &str) -> Result<bool>;

    /// Records a change of a page announced at `at`, for every language; false when the
    /// page is written in none.
    async fn publish_page_change(
        &self,
        name: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool>;

    // --- sequences ----------------------------------------------------------------------------

    /// One sequence, deleted ones included.
    async fn sequence(&self, id: SequenceId) -> Result<Option<Sequence>>;

    /// Published sequences (ready, visible to the query's viewer) in the query's order, one
    /// page.
    async fn list_sequences(&self, query: &SequenceQuery) -> Result<Page<Sequence>>;

    /// What the published sequences of an account that `viewer` may see cover.
    async fn account_summary(&self, id: AccountId, viewer: Viewer) -> Result<AccountSummary>;

    /// Pictures of a sequence in rank order.
    async fn sequence_pictures(&self, id: SequenceId, query: RankQuery) -> Result<Vec<Picture>>;

    /// Lowest and highest rank of the ready pictures of a sequence that `viewer` may see.
    async fn sequence_rank_bounds(
        &self,
        id: SequenceId,
        viewer: Viewer,
    ) -> Result<Option<(i64, i64)>>;

    /// Processing state of a sequence's pictures.
    async fn sequence_items_status(&self, id: SequenceId) -> Result<ItemsStatus>;

    /// The ready pictures `viewer` may see just before and just after a rank in a sequence.
    async fn sequence_neighbours(
        &self,
        id: SequenceId,
        rank: i64,
        viewer: Viewer,
    ) -> Result<(Option<Picture>, Option<Picture>)>;

    /// Ready pictures in other ready sequences near a point, both visible to the query's
    /// viewer: the nearest one of each such sequence, nearest first.
    async fn nearby_pictures(&self, query: &NearbyQuery) -> Result<Vec<Picture>>;

    // --- search -------------------------------------------------------------------------------

    /// Ready pictures of ready sequences matching a query, both visible to the query's viewer,
    /// one page in the query's order.
    async fn search_pictures(&self, query: &PictureQuery) -> Result<Page<Picture>>;

    /// The semantic tags of these sequences, sorted by key then value; sequences without
    /// tags are absent from the map.
    async fn sequence_semantics(
        &self,
        ids: &[SequenceId],
    ) -> Result<HashMap<SequenceId, Vec<SemanticTag>>>;

    /// The semantic tags of these pictures, as [`Catalog::sequence_semantics`] gives those of
    /// sequences.
    async fn picture_semantics(
        &self,
        ids: &[PictureId],
    ) -> Result<HashMap<PictureId, Vec<SemanticTag>>>;

    /// Space and time covered by the published pictures anyone may see: what documents shown
    /// to everyone tell.
    async fn extent(&self) -> Result<Extent>;

    // --- map ----------------------------------------------------------------------------------

    /// Ready sequences whose line crosses the query's bbox, in `(created, id)` order. Lines
    /// are stored, not drawn from the pictures at each read; lines a write just changed may
    /// be read as they were for a moment when the catalog is busy, and the data version moves
    /// again once they are current.
    async fn map_sequences(&self, query: &MapQuery) -> Result<Vec<MapSequence>>;

    /// Ready pictures of ready sequences inside the query's bbox, found through the pictures'
    /// space index.
    async fn map_pictures(&self, query: &MapQuery) -> Result<Vec<MapPicture>>;

    /// Every ready, visible picture of a published sequence, counted per point of the 0.1°
    /// grid. Only non-empty cells are returned.
    async fn picture_grid(&self) -> Result<Vec<GridCell>>;

    /// The version of what the map shows: it moves with every write that may change the grid,
    /// a sequence line or a picture the map shows (and when stored lines are redrawn), and only
    /// with those. Cheap to read.
    async fn data_version(&self) -> Result<DataVersion>;

    // --- federation ---------------------------------------------------------------------------

    /// Declares a peer by its API root (trailing slashes dropped), or returns the one already
    /// declared there. A peer an administrator declares stays an administrator's peer, even
    /// when the configuration declared it first.
    async fn add_peer(&self, api_url: &str, source: PeerSource) -> Result<Peer>;

    /// Every peer, oldest first.
    async fn peers(&self) -> Result<Vec<Peer>>;

    /// One peer.
    async fn peer(&self, id: PeerId) -> Result<Option<Peer>>;

    /// The peer declared at this API root (trailing slashes ignored).
    async fn peer_by_url(&self, api_url: &str) -> Result<Option<Peer>>;

    /// Removes a peer with every picture and account its harvests brought, in one
    /// transaction, leaving a tombstone of each of its sequences (as
    /// [`Catalog::remove_remote_collection`] does); local rows stay. Returns `false` when
    /// there was no such peer.
    async fn remove_peer(&self, id: PeerId) -> Result<bool>;

    /// Suspends or resumes the harvests of a peer; `false` when there is no such peer. A paused
    /// peer has no next attempt: it is due as soon as it is resumed.
    async fn set_peer_paused(&self, id: PeerId, paused: bool) -> Result<bool>;

    /// Claims the harvest of a peer for the pass `claim` names, for `claim.term` from now:
    /// taken at once, in one statement, only when no pass holds it, its lease ran out, or the
    /// same pass holds it. `false` when another pass holds it; a peer that does not exist is
    /// not claimed either. See [`flaneur_model::HarvestClaim`].
    async fn claim_harvest(&self, id: PeerId, claim: &HarvestClaim) -> Result<bool>;

    /// Extends the lease of the pass `claim` names to `claim.term` from now; `false` (and
    /// nothing changes) when that pass no longer holds the peer, which it must then leave
    /// alone. Saving progress with [`HarvestProgress::claim`] renews the lease too.
    async fn renew_harvest(&self, id: PeerId, claim: &HarvestClaim) -> Result<bool>;

    /// Ends the lease of the pass `claim` names, so that the peer is free at once; a lease
    /// another pass took since is left alone.
    async fn release_harvest(&self, id: PeerId, claim: &HarvestClaim) -> Result<()>;

    /// Records that a harvest of a peer starts.
    async fn start_harvest(&self, id: PeerId, at: DateTime<Utc>) -> Result<()>;

    /// Records how a harvest ended: a success clears the failures, the error and the resume
    /// address; a failure counts one more, keeps its error and the progress saved so far. The
    /// next attempt of a peer paused meanwhile stays empty.
    ///
    /// With the `claim` of its pass, the end is written only while that pass holds the peer,
    /// and frees the peer in the same write, as [`Catalog::release_harvest`] would. Without
    /// one, it is written whoever holds the peer, and the lease is left as it is.
    ///
    /// # Errors
    ///
    /// [`crate::Error::HarvestTaken`] when `claim` names a pass that no longer holds the peer
    /// (another pass took it after its lease ran out, or the peer was removed): nothing is
    /// written, and the state of the pass holding it now stays as that pass left it.
    async fn finish_harvest(
        &self,
        id: PeerId,
        claim: Option<&HarvestClaim>,
        end: &HarvestEnd,
    ) -> Result<()>;

    /// The peer's `updated` of one of its collections held here, `None` when none is.
    async fn remote_collection_updated(
        &self,
        peer: PeerId,
        id: SequenceId,
    ) -> Result<Option<DateTime<Utc>>>;

    /// Who holds a collection's id here, `None` when nobody does: what the harvester needs to
    /// tell, from a listing entry alone, whether the collection is to be read and applied
    /// (see [`flaneur_model::Claim`]).
    async fn collection_holder(&self, id: SequenceId) -> Result<Option<Holder>>;

    /// Records why a peer's collection is not held from it (see [`Skip`]), in one transaction
    /// with the harvest's `progress`, until the collection is applied from that peer or gone
    /// from it; [`flaneur_model::HarvestState::nb_conflicts`] counts the conflicts.
    async fn record_skip(
        &self,
        peer: PeerId,
        id: SequenceId,
        skip: Skip,
        progress: &HarvestProgress,
    ) -> Result<()>;

    /// Up to `limit` collections skipped from a peer whose holder let them go since, leaving
    /// a tombstone holding nothing (its peer removed here, or a relay dropping it). Not those
    /// whose origin removed them ([`flaneur_model::Holder::Removed`]): a copy newer than the
    /// removal is listed again by its peer anyway; nor those nobody held yet (a relay's copy
    /// waiting for its origin, harvested here, to bring it).
    async fn released_skips(&self, peer: PeerId, limit: u32) -> Result<Vec<SequenceId>>;

    /// Makes a peer's collection and its items here match what the peer said, in one
    /// transaction with the harvest's `progress`: the sequence, its authors, every item (those
    /// gone from `items` are removed, ranks are [`RemoteItem::rank`]), the sequence's figures
    /// and the peer's counts. Who may hold it follows [`flaneur_model::Claim`]: a copy
    /// straight from its origin replaces one a relay brought (whose peer's counts go down); a
    /// relay's copy of one held from its origin is left out ([`ApplyOutcome::Relayed`]);
    /// when the collection's id or an item's belongs to local data or to an unrelated peer,
    /// the conflict is recorded (see [`Catalog::record_skip`]) and the holder named.
    /// Only `progress` is written besides, in both cases.
    ///
    /// # Errors
    /// [`crate::Error::Refused`] for a collection marked deleted: it goes to
    /// [`Catalog::remove_remote_collection`].
    async fn apply_remote_collection(
        &self,
        peer: PeerId,
        collection: &RemoteCollection,
        items: &[RemoteItem],
        progress: &HarvestProgress,
    ) -> Result<ApplyOutcome>;

    /// Takes out a collection a peer lists as gone, with its items, and clears the conflict
    /// recorded for it, in one transaction with the harvest's `progress`; `false` when that
    /// removed no collection here. The copy taken out is the peer's own, or a relay's when
    /// the peer is the collection's origin. The sequence stays as a tombstone, deleted as a
    /// local one is and stamped with the time of the removal, so that catalogs harvesting
    /// this one drop it too; it is nobody's. When the removal is its origin's word (see
    /// [`flaneur_model::RemoteRemoval::origin_time`]), the tombstone keeps when it happened and
    /// holds the id against relays' older copies ([`flaneur_model::Holder::Removed`]);
    /// otherwise it gives way to any later harvest of its id. When the removal takes nothing
    /// out and this peer has no skip recorded on the id (a tombstone listed again, one of a
    /// collection never held, or a relay's while the origin's copy is held), nothing is
    /// written, the progress included: the harvester saves it with its page. A pass whose lease was taken gets [`crate::Error::HarvestTaken`] either way.
    async fn remove_remote_collection(
        &self,
        peer: PeerId,
        removal: &RemoteRemoval,
        progress: &HarvestProgress,
    ) -> Result<bool>;

    /// Saves how far a harvest of a peer got.
    ///
    /// # Errors
    /// [`crate::Error::HarvestTaken`] when `progress` names a pass that no longer holds the
    /// peer; the same goes for the progress saved by [`Catalog::apply_remote_collection`] and
    /// [`Catalog::remove_remote_collection`], whose changes are then not written either.
    async fn save_harvest_progress(&self, peer: PeerId, progress: &HarvestProgress) -> Result<()>;

    // --- jobs ---------------------------------------------------------------------------------

    /// Queues a job, or moves an already queued one of the same kind and target to now.
    async fn enqueue_job(&self, kind: JobKind, target: &str) -> Result<()>;

    /// Claims the next runnable job for `lease`; the job is offered again if the lease runs
    /// out before [`Catalog::finish_job`] or [`Catalog::retry_job`].
    async fn claim_job(&self, lease: Duration) -> Result<Option<Job>>;

    /// Extends the lease of a job still running, so long jobs are not taken over.
    ///
    /// This and [`Catalog::finish_job`] and [`Catalog::retry_job`] act only while `job` is
    /// the current claim (same attempt): a worker whose lease ran out and whose job was
    /// claimed again cannot finish or re-arm it under the new holder.
    async fn renew_job(&self, job: &Job, lease: Duration) -> Result<()>;

    /// Frees claimed jobs at startup, so that the jobs held by the previous run of a crashed
    /// process are taken up at once instead of when their leases run out. A catalog no other
    /// process uses ([`crate::SqliteCatalog`]) frees every claimed job; one that several
    /// processes share ([`crate::PgCatalog`]) frees only those whose lease already ran out,
    /// since the others may be running elsewhere. Returns how many were freed.
    async fn release_all_jobs(&self) -> Result<u64>;

    /// Gives back a job its worker stops before finishing (a shutdown whose grace period ran
    /// out), so that another worker claims it at once instead of when the lease runs out. The
    /// attempt still counts. Acts only while `job` is the current claim, as
    /// [`Catalog::renew_job`] does.
    async fn release_job(&self, job: &Job) -> Result<()>;

    /// Removes a job that succeeded or failed for good.
    async fn finish_job(&self, job: &Job) -> Result<()>;

    /// Releases a job to be run again after `delay`, recording why it failed.
    async fn retry_job(&self, job: &Job, error: &str, delay: Duration) -> Result<()>;

    /// Number of queued jobs, claimed ones included.
    async fn pending_jobs(&self) -> Result<i64>;

    /// Waits for running statements and closes the connections, at the end of the process.
    /// Dropping the catalog without it is safe: connections then close as they are dropped.
    async fn close(&self) {}
}

/// Refuses a picture handed to [`Catalog::insert_picture`] with a file of another upload set
/// than its own: the two rows would disagree on where it came from.
pub(crate) fn refuse_other_upload_set(
    picture: &flaneur_model::NewPicture,
    file: &UploadFile,
) -> Result<()> {
    if picture.upload_set_id == Some(file.upload_set_id) {
        return Ok(());
    }
    Err(crate::Error::Refused(format!(
        "picture {} is not of upload set {}, whose file {} it was given with",
        picture.id, file.upload_set_id, file.file_name
    )))
}

/// Refuses a catalog whose schema holds migrations this version does not know (`done` lists
/// the applied versions, `known` this version's migrations): a later version of Flâneur
/// migrated it, and rows written by this one could break what that schema expects.
pub(crate) fn refuse_newer_schema(done: &[i64], known: &[(i64, &str, &str)]) -> Result<()> {
    let Some(unknown) = done
        .iter()
        .filter(|v| !known.iter().any(|(k, _, _)| k == *v))
        .max()
    else {
        return Ok(());
    };
    let latest = known.iter().map(|(v, _, _)| *v).max().unwrap_or_default();
    Err(crate::Error::Refused(format!(
        "the catalog schema is at version {unknown}, newer than this version of flaneur \
         knows (up to {latest}): a later version migrated it; upgrade flaneur before starting \
         it on this catalog"
    )))
}
