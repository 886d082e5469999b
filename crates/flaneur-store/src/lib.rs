//! The two storage seams of Flâneur and their implementations.
//!
//! - [`Catalog`]: metadata (accounts, upload sets, files, pictures, sequences), search and the
//!   durable job queue. [`SqliteCatalog`] is the embedded implementation; [`PgCatalog`] keeps
//!   it in PostgreSQL with PostGIS, shared by several processes.
//! - [`BlobStore`]: picture files and their derivatives, by key. [`FsBlobStore`] keeps them in a
//!   local folder, [`S3BlobStore`] in an S3-compatible bucket; [`open_blob_store`] opens the
//!   one a URL names.
//!
//! Nothing above this crate names a driver type: services hold `Arc<dyn Catalog>` and
//! `Arc<dyn BlobStore>`; [`open_catalog`] opens the catalog a URL names.

mod account;
mod annotation;
mod area;
mod arrangement;
pub mod blob;
mod catalog;
mod error;
mod excluded;
mod federation;
pub mod filter;
mod listing;
mod location;
mod page;
mod postgres;
mod report;
mod search;
mod session;
mod sqlite;
mod stats;
pub mod track;
pub mod transfer;
mod visibility;

pub use annotation::AnnotationOutcome;
pub use area::Area;
pub use blob::{
    BlobBody, BlobLocation, BlobMeta, BlobStore, EnvSource, FsBlobStore, ProcessEnv, S3BlobStore,
    S3Config, S3Credentials, Secret, blob_keys, open_blob_store, open_location,
};
pub use catalog::{
    AccountSummary, Arrange, Arrangement, Catalog, DataVersion, DispatchPlan, Extent, GridCell,
    InsertOutcome, MapPicture, MapQuery, MapSequence, NearbyQuery, Page, PictureQuery,
    PlannedDuplicate, PlannedPicture, PlannedSequence, RankQuery, SequenceSummary, TimeRange,
};
pub use error::{Error, Result};
pub use excluded::{
    AreaScope, ExcludedArea, Exclusion, MAX_LABEL_CHARS, MAX_VERTICES, NewExcludedArea, Polygons,
    polygons_from_geojson, polygons_to_geojson,
};
pub use filter::{CompareOp, Filter, FilterError, Literal, Queryable, QueryableKind};
pub use listing::{
    PagePosition, SEQUENCE_QUERYABLES, SequenceCursor, SequenceQuery, SequenceSort,
    SequenceSortField, total_order,
};
pub use location::{CatalogOptions, CatalogUrl, open_catalog, redact_url};
pub use page::PageText;
pub use postgres::{PgCatalog, PgCatalogOptions};
pub use report::ReportCount;
pub use search::{
    PICTURE_QUERYABLES, PageStart, PictureOrder, PlaceQuery, Position, SEMANTICS, SortField,
    SortKey, SortValue, TagProperty, bearing_deg, checked_picture_filter,
};
pub use session::{EndedSession, LoginRequest, NewSession, SessionRecord};
pub use sqlite::SqliteCatalog;
pub use stats::{CountBy, InstanceStats, JobCount, SequenceCount};
