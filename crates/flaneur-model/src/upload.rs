//! Upload sets: a batch of files sent together, dispatched into sequences once complete.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{AccountId, ParseEnumError, PictureId, UploadSetId, Visibility};

/// How the pictures of an upload set are ordered before they are split into sequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum SortMethod {
    /// By file name, ascending (numerically when every stem is a number).
    #[serde(rename = "filename-asc")]
    FilenameAsc,
    /// By file name, descending.
    #[serde(rename = "filename-desc")]
    FilenameDesc,
    /// By capture time, ascending.
    #[default]
    #[serde(rename = "time-asc")]
    TimeAsc,
    /// By capture time, descending.
    #[serde(rename = "time-desc")]
    TimeDesc,
}

impl SortMethod {
    const ALL: [SortMethod; 4] = [
        SortMethod::FilenameAsc,
        SortMethod::FilenameDesc,
        SortMethod::TimeAsc,
        SortMethod::TimeDesc,
    ];

    /// The wire name used by upload sets.
    pub fn as_str(&self) -> &'static str {
        match self {
            SortMethod::FilenameAsc => "filename-asc",
            SortMethod::FilenameDesc => "filename-desc",
            SortMethod::TimeAsc => "time-asc",
            SortMethod::TimeDesc => "time-desc",
        }
    }

    /// The form collections show in `geovisio:sorted-by`.
    pub fn as_collection_sort(&self) -> &'static str {
        match self {
            SortMethod::FilenameAsc => "+filename",
            SortMethod::FilenameDesc => "-filename",
            SortMethod::TimeAsc => "+gpsdate",
            SortMethod::TimeDesc => "-gpsdate",
        }
    }
}

impl fmt::Display for SortMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SortMethod {
    type Err = ParseEnumError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SortMethod::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| ParseEnumError {
                kind: "sort method",
                value: s.to_owned(),
                expected: "filename-asc, filename-desc, time-asc, time-desc",
            })
    }
}

/// The parameters that decide how an upload set becomes sequences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DispatchSettings {
    /// Order of pictures before splitting.
    pub sort_method: SortMethod,
    /// Keep every picture in one sequence.
    pub no_split: bool,
    /// Split when two consecutive pictures are further apart than this, in metres.
    pub split_distance_m: f64,
    /// Split when two consecutive pictures are further apart than this, in seconds.
    pub split_time_secs: f64,
    /// Keep near-duplicates.
    pub no_deduplication: bool,
    /// Pictures closer than this (metres) may be duplicates.
    pub duplicate_distance_m: f64,
    /// ... when their headings differ by at most this many degrees.
    pub duplicate_rotation_deg: f64,
}

impl Default for DispatchSettings {
    /// The defaults of a Panoramax instance: 100 m, 5 minutes, 1 m and 60°.
    fn default() -> Self {
        DispatchSettings {
            sort_method: SortMethod::TimeAsc,
            no_split: false,
            split_distance_m: 100.0,
            split_time_secs: 300.0,
            no_deduplication: false,
            duplicate_distance_m: 1.0,
            duplicate_rotation_deg: 60.0,
        }
    }
}

/// What a client asks for when it creates an upload set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewUploadSet {
    /// Its title, reused for the sequences.
    pub title: String,
    /// Its owner.
    pub account_id: AccountId,
    /// How many files the client plans to send; reaching it completes the set.
    pub estimated_nb_files: Option<i64>,
    /// Explicit dispatch choices; `None` fields fall back to the instance defaults.
    pub sort_method: Option<SortMethod>,
    /// See [`DispatchSettings::no_split`].
    pub no_split: Option<bool>,
    /// See [`DispatchSettings::split_distance_m`].
    pub split_distance_m: Option<f64>,
    /// See [`DispatchSettings::split_time_secs`].
    pub split_time_secs: Option<f64>,
    /// See [`DispatchSettings::no_deduplication`].
    pub no_deduplication: Option<bool>,
    /// See [`DispatchSettings::duplicate_distance_m`].
    pub duplicate_distance_m: Option<f64>,
    /// See [`DispatchSettings::duplicate_rotation_deg`].
    pub duplicate_rotation_deg: Option<f64>,
    /// Heading of the camera relative to the direction of travel.
    pub relative_heading_deg: Option<f64>,
    /// Who may see what comes of it.
    pub visibility: Visibility,
    /// Free JSON the client wants kept.
    pub metadata: Option<serde_json::Value>,
    /// Semantic tags given at creation, `[{key, value}]`.
    pub semantics: serde_json::Value,
    /// `User-Agent` of the creating client.
    pub user_agent: Option<String>,
}

impl NewUploadSet {
    /// An upload set of `account` named `title`, public, with every dispatch choice left to
    /// the instance defaults and nothing else given.
    pub fn titled(title: impl Into<String>, account_id: AccountId) -> NewUploadSet {
        NewUploadSet {
            title: title.into(),
            account_id,
            estimated_nb_files: None,
            sort_method: None,
            no_split: None,
            split_distance_m: None,
            split_time_secs: None,
            no_deduplication: None,
            duplicate_distance_m: None,
            duplicate_rotation_deg: None,
            relative_heading_deg: None,
            visibility: Visibility::Anyone,
            metadata: None,
            semantics: serde_json::json!([]),
            user_agent: None,
        }
    }
}

/// An upload set as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadSet {
    /// Its identifier.
    pub id: UploadSetId,
    /// What it was created with.
    #[serde(flatten)]
    pub spec: NewUploadSet,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Whether the client said (or the file count showed) that every file arrived.
    pub completed: bool,
    /// Whether its pictures were grouped into sequences.
    pub dispatched: bool,
}

impl UploadSet {
    /// The dispatch parameters, with instance defaults for what the set leaves open.
    pub fn dispatch_settings(&self, defaults: &DispatchSettings) -> DispatchSettings {
        let s = &self.spec;
        DispatchSettings {
            sort_method: s.sort_method.unwrap_or(defaults.sort_method),
            no_split: s.no_split.unwrap_or(defaults.no_split),
            split_distance_m: s.split_distance_m.unwrap_or(defaults.split_distance_m),
            split_time_secs: s.split_time_secs.unwrap_or(defaults.split_time_secs),
            no_deduplication: s.no_deduplication.unwrap_or(defaults.no_deduplication),
            duplicate_distance_m: s
                .duplicate_distance_m
                .unwrap_or(defaults.duplicate_distance_m),
            duplicate_rotation_deg: s
                .duplicate_rotation_deg
                .unwrap_or(defaults.duplicate_rotation_deg),
        }
    }
}

/// Why a file of an upload set was not turned into a published picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectionReason {
    /// Not a JPEG, or not readable as one.
    InvalidFile,
    /// Position or capture time missing or unusable.
    InvalidMetadata,
    /// The same bytes were already sent in another upload set.
    FileDuplicate,
    /// Dropped by dispatch as too close to another picture.
    CaptureDuplicate,
    /// A pre-assigned picture id was already taken.
    IdConflict,
    /// Inside an area where pictures are refused.
    InExcludedArea,
    /// Anything else.
    OtherError,
}

impl RejectionReason {
    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            RejectionReason::InvalidFile => "invalid_file",
            RejectionReason::InvalidMetadata => "invalid_metadata",
            RejectionReason::FileDuplicate => "file_duplicate",
            RejectionReason::CaptureDuplicate => "capture_duplicate",
            RejectionReason::IdConflict => "id_conflict",
            RejectionReason::InExcludedArea => "in_excluded_area",
            RejectionReason::OtherError => "other_error",
        }
    }

    /// `info` for what is expected (duplicates dropped on purpose), `error` otherwise.
    pub fn severity(&self) -> &'static str {
        match self {
            RejectionReason::CaptureDuplicate => "info",
            RejectionReason::InvalidFile
            | RejectionReason::InvalidMetadata
            | RejectionReason::FileDuplicate
            | RejectionReason::IdConflict
            | RejectionReason::InExcludedArea
            | RejectionReason::OtherError => "error",
        }
    }
}

impl FromStr for RejectionReason {
    type Err = ParseEnumError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            RejectionReason::InvalidFile,
            RejectionReason::InvalidMetadata,
            RejectionReason::FileDuplicate,
            RejectionReason::CaptureDuplicate,
            RejectionReason::IdConflict,
            RejectionReason::InExcludedArea,
            RejectionReason::OtherError,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
        .ok_or_else(|| ParseEnumError {
            kind: "rejection reason",
            value: s.to_owned(),
            expected: "invalid_file, invalid_metadata, file_duplicate, capture_duplicate, \
                       id_conflict, in_excluded_area, other_error",
        })
    }
}

/// A rejection as recorded on a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRejection {
    /// Why.
    pub reason: RejectionReason,
    /// A sentence for the contributor.
    pub message: String,
    /// Structured context (`missing_fields`, `duplicate_of`, ...).
    pub details: Option<serde_json::Value>,
}

/// A file received in an upload set, accepted or not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadFile {
    /// The upload set.
    pub upload_set_id: UploadSetId,
    /// The file name the client gave.
    pub file_name: String,
    /// Size in bytes, when the body was read.
    pub size_bytes: Option<u64>,
    /// MD5 of the bytes, lowercase hex, when the body was read.
    pub content_md5: Option<String>,
    /// The picture made of it, when accepted.
    pub picture_id: Option<PictureId>,
    /// When it was received.
    pub inserted_at: DateTime<Utc>,
    /// Why it was not accepted, if so.
    pub rejection: Option<FileRejection>,
}

/// How far the pictures of an upload set or sequence got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ItemsStatus {
    /// Derivatives made.
    pub prepared: i64,
    /// Being processed now.
    pub preparing: i64,
    /// Failed for good.
    pub broken: i64,
    /// Waiting for a worker.
    pub not_processed: i64,
    /// Files refused (only counted for upload sets).
    pub rejected: i64,
}
