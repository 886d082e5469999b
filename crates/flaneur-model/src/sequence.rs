//! Sequences (STAC collections): pictures taken one after another, in order.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::federation::Origin;
use crate::{AccountId, ParseEnumError, SequenceId, UploadSetId, Visibility};

/// Where a sequence is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SequenceStatus {
    /// Created, pictures still being processed.
    WaitingForProcess,
    /// Published.
    Ready,
    /// Removed; kept as a tombstone for harvesters.
    Deleted,
}

impl SequenceStatus {
    /// The wire and database name.
    pub fn as_str(&self) -> &'static str {
        match self {
            SequenceStatus::WaitingForProcess => "waiting-for-process",
            SequenceStatus::Ready => "ready",
            SequenceStatus::Deleted => "deleted",
        }
    }
}

impl fmt::Display for SequenceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SequenceStatus {
    type Err = ParseEnumError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            SequenceStatus::WaitingForProcess,
            SequenceStatus::Ready,
            SequenceStatus::Deleted,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
        .ok_or_else(|| ParseEnumError {
            kind: "sequence status",
            value: s.to_owned(),
            expected: "waiting-for-process, ready, deleted",
        })
    }
}

/// A sequence as stored in the catalog, with the figures computed over its pictures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sequence {
    /// Its identifier.
    pub id: SequenceId,
    /// The upload set it was dispatched from.
    pub upload_set_id: Option<UploadSetId>,
    /// Its owner.
    pub account_id: AccountId,
    /// Its title.
    pub title: String,
    /// Processing state.
    pub status: SequenceStatus,
    /// Who may see it.
    pub visibility: Visibility,
    /// Sort applied to its pictures, in the STAC form (`+gpsdate`, `-filename`, ...).
    pub sorted_by: String,
    /// `User-Agent` of the client that uploaded it.
    pub user_agent: Option<String>,
    /// Heading of the camera relative to the direction of travel, in degrees.
    pub relative_heading_deg: Option<f64>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Number of pictures.
    pub nb_pictures: i64,
    /// Earliest capture instant.
    pub min_captured_at: Option<DateTime<Utc>>,
    /// Latest capture instant.
    pub max_captured_at: Option<DateTime<Utc>>,
    /// `[min lon, min lat, max lon, max lat]` of its pictures.
    pub bbox: Option<[f64; 4]>,
    /// Length of the track in kilometres.
    pub length_km: Option<f64>,
    /// Position error of its pictures (90th percentile), in metres.
    pub gps_accuracy_m: Option<f64>,
    /// The peer it was harvested from, `None` for a sequence of this instance; a remote
    /// sequence is read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// For the tombstone of a harvested collection its origin removed, the origin's time of
    /// the removal (see [`crate::Holder::Removed`]); `None` for any other sequence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_removed_at: Option<DateTime<Utc>>,
}
