//! Federation: the other instances this one harvests (its peers), how far each harvest got,
//! and what a harvest brings back.
//!
//! Remote collections and items are kept as their instance sent them, beside the few fields
//! the catalog indexes so that search, listings and maps treat them like local ones. Only
//! metadata crosses: the pictures stay at their instance, and asset addresses point there.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{PeerId, PictureDetails, PictureId, Projection, SequenceId};

/// Another instance whose public catalog this one harvests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Peer {
    /// Its identifier here.
    pub id: PeerId,
    /// Its API root as configured, without a trailing slash (`https://host/api`).
    pub api_url: String,
    /// Where it was declared.
    pub source: PeerSource,
    /// Whether harvests of it are suspended by an administrator.
    pub is_paused: bool,
    /// When it was first declared.
    pub added_at: DateTime<Utc>,
    /// How its harvests went.
    pub harvest: HarvestState,
}

/// Where a peer was declared: the configuration declares its peers again at each start, while
/// an administrator's peers stay until removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PeerSource {
    /// `--peer`, `FLANEUR_PEERS` or the configuration file.
    Config,
    /// `flaneur peer add`.
    Admin,
}

impl PeerSource {
    /// The stored name (`config`, `admin`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Config => "config",
            Self::Admin => "admin",
        }
    }
}

impl std::str::FromStr for PeerSource {
    type Err = crate::ParseEnumError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "config" => Ok(Self::Config),
            "admin" => Ok(Self::Admin),
            _ => Err(crate::ParseEnumError {
                kind: "peer source",
                value: s.to_owned(),
                expected: "config, admin",
            }),
        }
    }
}

/// How the harvests of one peer went, and where the next one starts.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HarvestState {
    /// When a harvest last started.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// When a harvest last went through to its end.
    pub last_success_at: Option<DateTime<Utc>>,
    /// Harvests failed in a row since the last success.
    pub failures: u32,
    /// Not before when the next harvest may start (backoff after failures).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// What made the last harvest fail, in words.
    pub last_error: Option<String>,
    /// The peer's `updated` of the last collection applied in order: the next harvest asks
    /// for collections updated at or after it. `None` before a first complete pass.
    pub watermark: Option<DateTime<Utc>>,
    /// The listing page an interrupted harvest was about to read, so that a restart goes on
    /// from there rather than from the first page.
    pub resume_url: Option<String>,
    /// Collections of this peer held here.
    pub nb_collections: u64,
    /// Items of this peer held here.
    pub nb_items: u64,
}

/// Where a remote sequence or picture read from the catalog comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Origin {
    /// The peer it was harvested from (see [`Peer`] for its address).
    pub peer_id: PeerId,
    /// Its JSON as the peer sent it ([`RemoteCollection::doc`], [`RemoteItem::doc`]).
    pub doc: Map<String, Value>,
}

/// Who contributed a remote collection or item, as its instance names them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RemoteAuthor {
    /// The account's identifier at its instance, when given.
    pub id: Option<String>,
    /// The account's name, when given.
    pub name: Option<String>,
}

/// A collection (sequence) of a peer, as one entry of its changed-collections listing says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteCollection {
    /// Its identifier, the same as at its instance.
    pub id: SequenceId,
    /// When it last changed at its instance: the harvest's watermark moves with it.
    pub updated: DateTime<Utc>,
    /// Whether the listing gave it as deleted or hidden: its items go away here.
    pub is_deleted: bool,
    /// Its title.
    pub title: String,
    /// Its contributor.
    pub author: RemoteAuthor,
    /// The collection's JSON as received, without its `links` (rebuilt when served).
    pub doc: Map<String, Value>,
}

/// An item (picture) of a peer's collection, with what search, listings and maps need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteItem {
    /// Its identifier, the same as at its instance.
    pub id: PictureId,
    /// Its place in the collection's listing, from 1.
    pub rank: i64,
    /// The capture instant.
    pub captured_at: DateTime<Utc>,
    /// Longitude, WGS84 degrees.
    pub lon: f64,
    /// Latitude, WGS84 degrees.
    pub lat: f64,
    /// Direction the camera looked at, degrees clockwise from north.
    pub heading_deg: Option<f64>,
    /// 360° or flat.
    pub projection: Projection,
    /// Pixel width, when given.
    pub width: Option<u32>,
    /// Pixel height, when given.
    pub height: Option<u32>,
    /// When it last changed at its instance.
    pub updated: Option<DateTime<Utc>>,
    /// Its contributor.
    pub author: RemoteAuthor,
    /// Camera, orientation and the other properties search filters read.
    pub details: PictureDetails,
    /// The item's JSON as received, without its `links` (rebuilt when served); its asset
    /// addresses still point to its instance.
    pub doc: Map<String, Value>,
}

/// Where a harvest stands after a step, saved with the step's change in one transaction so
/// that a restart neither skips nor repeats more than the step under way.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HarvestProgress {
    /// See [`HarvestState::watermark`].
    pub watermark: Option<DateTime<Utc>>,
    /// See [`HarvestState::resume_url`].
    pub resume_url: Option<String>,
}

/// How a harvest of one peer ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum HarvestEnd {
    /// It went through to the end of the listing.
    Success {
        /// When it ended.
        at: DateTime<Utc>,
        /// Not before when the next scheduled harvest starts.
        next_attempt_at: DateTime<Utc>,
    },
    /// It stopped on an error; what was applied before stays, and so does the progress.
    Failure {
        /// When it stopped.
        at: DateTime<Utc>,
        /// What went wrong, in words.
        error: String,
        /// Not before when it is tried again (backoff).
        next_attempt_at: DateTime<Utc>,
    },
}

/// What became of a remote collection given to the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ApplyOutcome {
    /// Its rows now match what the peer said.
    Applied,
    /// Its identifier, or one of its items', already belongs to local data or to another
    /// peer: nothing was written, and the holder is named.
    Conflict {
        /// `local`, or the API address of the peer holding the identifier.
        holder: String,
    },
}
