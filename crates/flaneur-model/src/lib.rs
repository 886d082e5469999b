//! Domain types shared by every layer of Flâneur: identifiers, accounts and tokens, pictures,
//! sequences, upload sets, visibility and who may see what, and background jobs. No I/O lives
//! here; storage and HTTP shapes are built from these types by the crates above.

mod account;
mod annotation;
mod edit;
mod federation;
mod id;
mod job;
mod picture;
mod report;
mod semantics;
mod sequence;
mod upload;
mod viewer;
mod visibility;

pub use account::{
    Account, AccountPreferences, ClaimOutcome, NewToken, OauthIdentity, Role, Token,
};
pub use annotation::{Annotation, MAX_SHAPE_POINTS, NewAnnotation, Shape, refuse_duplicate_tags};
pub use edit::{
    Collaborative, PictureEdit, PictureSort, PictureSortKey, SequenceEdit, TagAction, TagChange,
};
pub use federation::{
    ApplyOutcome, Claim, HarvestClaim, HarvestEnd, HarvestProgress, HarvestState, Holder,
    ORIGIN_KEY, ORIGIN_UPDATED_KEY, Origin, Peer, PeerSource, RemoteAuthor, RemoteCollection,
    RemoteItem, RemoteRemoval, Skip, origin_time, origin_url,
};
pub use id::{
    AccountId, AnnotationId, ExcludedAreaId, HarvestPassId, JobId, PeerId, PictureId, ReportId,
    SequenceId, TokenId, UploadSetId,
};
pub use job::{Job, JobKind};
pub use picture::{
    Crop, NewPicture, Picture, PictureDetails, PictureStatus, Projection, TileGrid, camera_model,
    h_pixel_density,
};
pub use report::{NewReport, Report, ReportChange, ReportIssue, ReportQuery, ReportStatus};
pub use semantics::{MAX_KEY_CHARS, MAX_TAGS, MAX_VALUE_CHARS, SemanticTag};
pub use sequence::{Sequence, SequenceStatus};
pub use upload::{
    DispatchSettings, FileRejection, ItemsStatus, NewUploadSet, RejectionReason, SortMethod,
    UploadFile, UploadSet,
};
pub use viewer::Viewer;
pub use visibility::Visibility;

/// A value that could not be parsed from its text form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} '{value}', expected one of: {expected}")]
pub struct ParseEnumError {
    /// What was being parsed (`visibility`, `sort method`, ...).
    pub kind: &'static str,
    /// The text that did not match.
    pub value: String,
    /// The accepted values, comma separated.
    pub expected: &'static str,
}
