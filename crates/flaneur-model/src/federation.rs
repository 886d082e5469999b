//! Federation: the other instances this one harvests (its peers), how far each harvest got,
//! and what a harvest brings back.
//!
//! Remote collections and items are kept as their instance sent them, beside the few fields
//! the catalog indexes so that search, listings and maps treat them like local ones. Only
//! metadata crosses: the pictures stay at their instance, and asset addresses point there.

use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{HarvestPassId, PeerId, PictureDetails, PictureId, Projection, SequenceId};

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
    /// Collections of this peer not held here because their id is held by local data or by
    /// an unrelated peer, as its last listing of each found them.
    pub nb_conflicts: u64,
    /// While a pass holds the harvest of this peer (see [`HarvestClaim`]), when its lease runs
    /// out without news from it; `None` when no pass holds it.
    pub leased_until: Option<DateTime<Utc>>,
}

impl HarvestState {
    /// When the lease of the pass holding this peer at `now` runs out, if a pass holds it
    /// then. A lease that ran out holds nothing, though [`HarvestState::leased_until`] keeps
    /// it until the next claim: its pass may have died.
    pub fn harvesting_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.leased_until.filter(|until| *until > now)
    }
}

/// A pass's hold on the harvest of one peer: while it lasts, no other pass (in this process or
/// another sharing the catalog) harvests that peer, so that two passes neither fetch
/// everything twice nor race on its progress. The pass renews it as it goes; the lease of a
/// process that died runs out after `term`, and the peer is free again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HarvestClaim {
    /// The pass holding it, drawn when the pass starts.
    pub pass: HarvestPassId,
    /// How long the lease lasts from its last claim or renewal.
    pub term: Duration,
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
    /// The pass saving it, when it holds a lease: the save renews the lease, and writes
    /// nothing (the change saved with it included) when another pass holds the peer now.
    pub claim: Option<HarvestClaim>,
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

/// The key naming the API root of the instance a harvested document comes from: at the top
/// of a collection, in the `properties` of an item. A relay serves it with what it harvested,
/// so that who harvests the relay learns where the pictures are.
pub const ORIGIN_KEY: &str = "flaneur:origin";

/// The top-level key of a collection giving when it last changed at the instance it comes
/// from: served by a relay beside its own `updated`, and by a catalog on the tombstone of a
/// collection its origin removed (see [`Holder::Removed`]).
pub const ORIGIN_UPDATED_KEY: &str = "flaneur:origin_updated";

/// Longest origin address taken from a peer, in bytes.
const MAX_ORIGIN_BYTES: usize = 2048;

/// The API root of the instance a harvested document comes from: the `flaneur:origin` it
/// arrived with (`claimed`) when that is an http(s) address with a host and no user, query or
/// fragment, without its trailing slashes; else `peer_url`, the peer it was harvested from.
pub fn origin_url(claimed: Option<&str>, peer_url: &str) -> String {
    let Some(claimed) = claimed else {
        return peer_url.to_owned();
    };
    let rest = claimed
        .strip_prefix("https://")
        .or_else(|| claimed.strip_prefix("http://"));
    let host = rest.map(|r| r.split('/').next().unwrap_or_default());
    let is_api_root = claimed.len() <= MAX_ORIGIN_BYTES
        && host.is_some_and(|h| !h.is_empty() && !h.contains('@'))
        && !claimed.contains(['?', '#', '\\'])
        && !claimed.chars().any(|c| c.is_whitespace() || c.is_control());
    if !is_api_root {
        return peer_url.to_owned();
    }
    claimed.trim_end_matches('/').to_owned()
}

impl RemoteCollection {
    /// The API root of the instance it comes from, harvested from the peer at `peer_url`
    /// (see [`origin_url`]).
    pub fn origin(&self, peer_url: &str) -> String {
        origin_url(self.doc.get(ORIGIN_KEY).and_then(Value::as_str), peer_url)
    }

    /// When it last changed at the instance it comes from, harvested from the peer at
    /// `peer_url`: its `updated` when that peer is its origin, else what the relay says in
    /// `flaneur:origin_updated`, `None` when it says nothing readable.
    pub fn origin_updated(&self, peer_url: &str) -> Option<DateTime<Utc>> {
        if self.origin(peer_url) == peer_url {
            return Some(self.updated);
        }
        origin_time(self.doc.get(ORIGIN_UPDATED_KEY))
    }
}

/// How far ahead of this instance's clock a time another instance gives may be and still be
/// believed (clocks drift a little): beyond, it is a wrong clock or a lie, and one such time
/// would outweigh every true one compared with it.
const MAX_TIME_AHEAD: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// An RFC 3339 instant given as `flaneur:origin_updated`, to the microsecond as instants are
/// kept; `None` when it is anything else, or too far ahead to believe.
pub fn origin_time(value: Option<&Value>) -> Option<DateTime<Utc>> {
    let text = value?.as_str()?;
    let at = DateTime::parse_from_rfc3339(text)
        .ok()?
        .with_timezone(&Utc)
        .trunc_subsecs(6);
    (at <= Utc::now() + MAX_TIME_AHEAD).then_some(at)
}

/// A peer's word that a collection it lists is gone: deleted, or no longer public.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteRemoval {
    /// The collection.
    pub id: SequenceId,
    /// When it went at the peer, for peers that say so (GeoVisio does not).
    pub updated: Option<DateTime<Utc>>,
    /// When it went at its origin, as a relay says it in `flaneur:origin_updated`.
    pub origin_updated: Option<DateTime<Utc>>,
}

impl RemoteRemoval {
    /// When the collection went at its origin, as far as the peer tells: its own time when
    /// the peer is the origin (`is_direct`), else the one the relay passes on. A relay that
    /// passes none dropped the collection for a reason of its own (its peer removed), which
    /// says nothing of the origin.
    pub fn origin_time(&self, is_direct: bool) -> Option<DateTime<Utc>> {
        if is_direct {
            self.updated
        } else {
            self.origin_updated
        }
    }

    /// What this removal, listed by the peer `peer` at `peer_url`, takes out of a catalog
    /// where `held` holds the id: the copy of the peer holding it, and when the origin removed
    /// it ([`Holder::Removed`]) when that is known. It is the copy of the peer telling it, or
    /// a relay's copy when that peer is the collection's origin; any other holder (local
    /// data, another origin, a tombstone) stays as it is.
    pub fn takes_out(
        &self,
        peer: PeerId,
        peer_url: &str,
        held: Option<&Holder>,
    ) -> Option<(PeerId, Option<DateTime<Utc>>)> {
        let Some(Holder::Peer {
            id,
            origin,
            origin_updated: known,
            ..
        }) = held
        else {
            return None;
        };
        let is_direct = origin == peer_url;
        if *id != peer && !is_direct {
            return None;
        }
        // The origin's own time of the removal when told; else, from the origin itself
        // (GeoVisio tells none), the last change its copy here told of. Never later than now:
        // a removal cannot come from the future, whatever a clock or a relay says.
        let removed_at = match self.origin_time(is_direct) {
            Some(told) => Some(told),
            None if is_direct => *known,
            None => None,
        };
        Some((*id, removed_at.map(|at| at.min(Utc::now()))))
    }
}

/// Who holds a collection's id in the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Holder {
    /// A sequence of this instance (deleted ones included: their rows stay).
    Local,
    /// The tombstone of a harvested collection its origin removed (deleted or hid). A relay
    /// that has not heard of the removal yet, or a catalog harvesting this one back, still
    /// lists the collection: such a copy is stale unless it changed at its origin after
    /// `updated`. A tombstone left for another reason (its peer removed here, a relay
    /// dropping it) holds nothing.
    Removed {
        /// The origin's time of the removal, or its last `updated` known before it.
        updated: DateTime<Utc>,
    },
    /// A collection harvested from a peer.
    Peer {
        /// The peer it was harvested from.
        id: PeerId,
        /// That peer's API root.
        api_url: String,
        /// The API root of the instance it comes from (see [`origin_url`]).
        origin: String,
        /// The peer's `updated` of it.
        updated: Option<DateTime<Utc>>,
        /// When it last changed at its origin, as far as its copy tells (see
        /// [`RemoteCollection::origin_updated`]).
        origin_updated: Option<DateTime<Utc>>,
    },
}

/// What the catalog does with a collection a peer lists, given who holds its id: decided from
/// the listing entry alone, so that a collection not to be applied costs no item request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Claim {
    /// Apply it: nobody holds it, the same peer does, or a relay does while this copy comes
    /// straight from a peer listing it as its own (the relay's copy gives way, whatever
    /// origin the relay named).
    Take,
    /// Skip it quietly: it is a relay's copy of a collection held here from its origin, from
    /// an earlier relay of the same origin, of a local one come back through peers, or a
    /// stale copy of one its origin removed.
    Relayed {
        /// `local`, `removed`, or the API root of the peer holding it.
        holder: String,
    },
    /// Refuse it: its id is held by local data or a peer with another origin.
    Conflict {
        /// `local`, or the API root of the peer holding it.
        holder: String,
    },
}

impl Claim {
    /// The claim on `collection`, listed by the peer `peer` at `peer_url`, whose id `holder`
    /// holds; `origin_is_peer` tells whether the catalog harvests the collection's origin
    /// itself.
    pub fn of(
        peer: PeerId,
        peer_url: &str,
        collection: &RemoteCollection,
        holder: Option<&Holder>,
        origin_is_peer: bool,
    ) -> Claim {
        let origin = collection.origin(peer_url);
        let is_direct = origin == peer_url;
        // The origin harvested here says itself what it holds, deletions and hidings
        // included: a relay's word on its collections, stale or untrue, is never taken.
        // Removed as a peer here, its collections skipped so are fetched again from relays
        // (see [`Skip::Relayed`]).
        if origin_is_peer && !is_direct && !matches!(holder, Some(Holder::Local)) {
            return Claim::Relayed { holder: origin };
        }
        match holder {
            None => Claim::Take,
            Some(Holder::Peer { id, .. }) if *id == peer => Claim::Take,
            // Its origin listing it again brings it back (it was unhidden there); a relay's
            // copy only when it changed at its origin since the removal, which a copy from
            // before it, or one that says nothing of its origin's time, does not show.
            Some(Holder::Removed { updated }) => {
                let is_newer = collection
                    .origin_updated(peer_url)
                    .is_some_and(|at| at > *updated);
                if is_direct || is_newer {
                    Claim::Take
                } else {
                    Claim::Relayed {
                        holder: "removed".to_owned(),
                    }
                }
            }
            // A local collection listed by a peer as its own is a clash of ids; listed as
            // coming from elsewhere, it is this instance's own come back (A → B → A).
            Some(Holder::Local) if is_direct => Claim::Conflict {
                holder: "local".to_owned(),
            },
            Some(Holder::Local) => Claim::Relayed {
                holder: "local".to_owned(),
            },
            Some(Holder::Peer {
                api_url,
                origin: held_origin,
                ..
            }) => {
                // A peer listing a collection as its own outweighs a relay's word on where
                // that collection comes from, whichever origin the relay named: a relay
                // naming the wrong instance would otherwise keep the true one out for good.
                if is_direct && api_url != held_origin {
                    Claim::Take
                } else if *held_origin != origin {
                    Claim::Conflict {
                        holder: api_url.clone(),
                    }
                } else {
                    Claim::Relayed {
                        holder: api_url.clone(),
                    }
                }
            }
        }
    }
}

/// Why a collection a peer lists is not held from it, as the catalog keeps it until the
/// collection is applied from that peer or gone from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Skip {
    /// A relay's copy of a collection held from elsewhere ([`Claim::Relayed`]): taken again
    /// when its holder lets it go (its peer removed here, or a relay dropping it).
    Relayed,
    /// Its id is held by local data or an unrelated peer ([`Claim::Conflict`]); counted in
    /// [`HarvestState::nb_conflicts`].
    Conflict,
}

/// What became of a remote collection given to the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ApplyOutcome {
    /// Its rows now match what the peer said.
    Applied,
    /// Its identifier, or one of its items', already belongs to local data or to an
    /// unrelated peer: nothing was written but the conflict, and the holder is named.
    Conflict {
        /// `local`, or the API address of the peer holding the identifier.
        holder: String,
    },
    /// It is a relay's copy of a collection held here from its origin or through another
    /// relay, or a stale copy of one its origin removed (see [`Claim::Relayed`]): nothing was
    /// written but the skip.
    Relayed {
        /// `local`, `removed`, or the API address of the peer holding it.
        holder: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_is_being_harvested_until_its_lease_runs_out() {
        let now = Utc::now();
        let held = |leased_until| HarvestState {
            leased_until,
            ..HarvestState::default()
        };
        let later = now + chrono::TimeDelta::minutes(5);
        assert_eq!(held(Some(later)).harvesting_until(now), Some(later));
        assert_eq!(held(Some(now)).harvesting_until(now), None);
        assert_eq!(held(None).harvesting_until(now), None);
    }

    const O: &str = "https://origin.test/api";
    const R: &str = "https://relay.test/api";

    #[test]
    fn an_origin_is_taken_when_it_is_an_http_api_root_else_the_peer_is() {
        assert_eq!(origin_url(Some("https://origin.test/api/"), R), O);
        assert_eq!(
            origin_url(Some("http://10.0.0.1:5000/api"), R),
            "http://10.0.0.1:5000/api"
        );
        for claimed in [
            None,
            Some(""),
            Some("ftp://origin.test/api"),
            Some("https:///api"),
            Some("https://user@origin.test/api"),
            Some("https://origin.test/api?x=1"),
            Some("https://origin.test/api#top"),
            Some("https://origin.test/a pi"),
        ] {
            assert_eq!(origin_url(claimed, R), R, "{claimed:?}");
        }
        let long = format!("https://origin.test/{}", "a".repeat(MAX_ORIGIN_BYTES));
        assert_eq!(origin_url(Some(&long), R), R);
    }

    /// A collection as a listing gives it: `origin` named unless `None`, with a relay's
    /// `flaneur:origin_updated` when given.
    fn listed(origin: Option<&str>, origin_updated: Option<DateTime<Utc>>) -> RemoteCollection {
        let mut doc = Map::new();
        if let Some(origin) = origin {
            doc.insert(ORIGIN_KEY.to_owned(), Value::from(origin));
        }
        if let Some(at) = origin_updated {
            doc.insert(ORIGIN_UPDATED_KEY.to_owned(), Value::from(at.to_rfc3339()));
        }
        RemoteCollection {
            id: SequenceId::new(),
            updated: at(30),
            is_deleted: false,
            title: String::new(),
            author: RemoteAuthor::default(),
            doc,
        }
    }

    fn at(day: u32) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2026-01-{day:02}T00:00:00Z"))
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn a_copy_from_its_origin_takes_over_a_relayed_one_and_not_the_reverse() {
        let (me, other) = (PeerId::new(), PeerId::new());
        let held = |api_url: &str, origin: &str| Holder::Peer {
            id: other,
            api_url: api_url.to_owned(),
            origin: origin.to_owned(),
            updated: None,
            origin_updated: None,
        };
        let relayed = |holder: &str| Claim::Relayed {
            holder: holder.to_owned(),
        };
        let conflict = |holder: &str| Claim::Conflict {
            holder: holder.to_owned(),
        };
        let own = listed(None, None);
        let from = |origin: &str| listed(Some(origin), None);

        assert_eq!(Claim::of(me, O, &own, None, false), Claim::Take);
        assert_eq!(
            Claim::of(me, O, &own, Some(&held(R, O)), false),
            Claim::Take
        );
        assert_eq!(
            Claim::of(me, R, &from(O), Some(&held(O, O)), false),
            relayed(O)
        );
        let second_relay = "https://relay2.test/api";
        assert_eq!(
            Claim::of(me, second_relay, &from(O), Some(&held(R, O)), false),
            relayed(R)
        );
        assert_eq!(
            Claim::of(me, O, &own, Some(&held(R, R)), false),
            conflict(R)
        );
        let elsewhere = "https://elsewhere.test/api";
        assert_eq!(
            Claim::of(me, O, &own, Some(&held(R, elsewhere)), false),
            Claim::Take
        );
        assert_eq!(
            Claim::of(me, second_relay, &from(O), Some(&held(R, elsewhere)), false),
            conflict(R)
        );
        assert_eq!(
            Claim::of(me, R, &from(O), Some(&Holder::Local), false),
            relayed("local")
        );
        assert_eq!(
            Claim::of(me, R, &own, Some(&Holder::Local), false),
            conflict("local")
        );
        let mine = Holder::Peer {
            id: me,
            api_url: R.to_owned(),
            origin: R.to_owned(),
            updated: None,
            origin_updated: None,
        };
        assert_eq!(Claim::of(me, R, &from(O), Some(&mine), false), Claim::Take);
    }

    #[test]
    fn a_removal_at_the_origin_holds_against_older_relayed_copies_only() {
        let me = PeerId::new();
        let removed = Holder::Removed { updated: at(10) };
        let relayed = Claim::Relayed {
            holder: "removed".to_owned(),
        };
        // The origin listing it again (unhidden there) brings it back, whatever its time.
        assert_eq!(
            Claim::of(me, O, &listed(None, None), Some(&removed), false),
            Claim::Take
        );
        // A relay's copy from before the removal, or of the same time, is stale.
        let stale = listed(Some(O), Some(at(9)));
        assert_eq!(Claim::of(me, R, &stale, Some(&removed), false), relayed);
        let same = listed(Some(O), Some(at(10)));
        assert_eq!(Claim::of(me, R, &same, Some(&removed), false), relayed);
        // One changed at its origin since is taken.
        let newer = listed(Some(O), Some(at(11)));
        assert_eq!(Claim::of(me, R, &newer, Some(&removed), false), Claim::Take);
        // A relay saying nothing of its origin's time proves nothing: its own `updated`
        // (day 30 here) is when its copy changed, not the collection.
        assert_eq!(
            Claim::of(me, R, &listed(Some(O), None), Some(&removed), false),
            relayed
        );
        let garbled = RemoteCollection {
            doc: Map::from_iter([
                (ORIGIN_KEY.to_owned(), Value::from(O)),
                (ORIGIN_UPDATED_KEY.to_owned(), Value::from("tomorrow")),
            ]),
            ..listed(None, None)
        };
        assert_eq!(Claim::of(me, R, &garbled, Some(&removed), false), relayed);
    }

    #[test]
    fn relays_are_never_taken_for_an_origin_harvested_here() {
        let (me, other) = (PeerId::new(), PeerId::new());
        let relayed = Claim::Relayed {
            holder: O.to_owned(),
        };
        let copy = listed(Some(O), Some(at(20)));
        // Whatever holds the id, or nothing, or a tombstone older than the copy.
        assert_eq!(Claim::of(me, R, &copy, None, true), relayed);
        let removed = Holder::Removed { updated: at(10) };
        assert_eq!(Claim::of(me, R, &copy, Some(&removed), true), relayed);
        let relay_held = Holder::Peer {
            id: other,
            api_url: R.to_owned(),
            origin: O.to_owned(),
            updated: None,
            origin_updated: None,
        };
        assert_eq!(Claim::of(me, R, &copy, Some(&relay_held), true), relayed);
        // The origin's own listing is taken; a local id stays this instance's.
        assert_eq!(
            Claim::of(me, O, &listed(None, None), None, true),
            Claim::Take
        );
        assert_eq!(
            Claim::of(me, R, &copy, Some(&Holder::Local), true),
            Claim::Relayed {
                holder: "local".to_owned()
            }
        );
    }

    #[test]
    fn a_removal_tells_the_origin_time_only_when_it_knows_it() {
        let removal = RemoteRemoval {
            id: SequenceId::new(),
            updated: Some(at(12)),
            origin_updated: None,
        };
        assert_eq!(removal.origin_time(true), Some(at(12)));
        assert_eq!(removal.origin_time(false), None);
        let relayed = RemoteRemoval {
            origin_updated: Some(at(11)),
            ..removal
        };
        assert_eq!(relayed.origin_time(false), Some(at(11)));
        assert_eq!(relayed.origin_time(true), Some(at(12)));
    }

    #[test]
    fn an_origin_removal_telling_no_time_keeps_the_last_one_its_copy_told() {
        let (origin, relay) = (PeerId::new(), PeerId::new());
        let silent = RemoteRemoval {
            id: SequenceId::new(),
            updated: None,
            origin_updated: None,
        };
        // A relay's copy held here, told changed at its origin on day 15: the origin's
        // removal takes it out from then on, whatever the relay's own `updated`.
        let relayed = Holder::Peer {
            id: relay,
            api_url: R.to_owned(),
            origin: O.to_owned(),
            updated: Some(at(20)),
            origin_updated: Some(at(15)),
        };
        assert_eq!(
            silent.takes_out(origin, O, Some(&relayed)),
            Some((relay, Some(at(15))))
        );
        // The relay dropping it without a word of the origin's time keeps nothing.
        assert_eq!(
            silent.takes_out(relay, R, Some(&relayed)),
            Some((relay, None))
        );
        // A third peer, neither holder nor origin, takes nothing out.
        let third = "https://third.test/api";
        assert_eq!(silent.takes_out(PeerId::new(), third, Some(&relayed)), None);
        // A time told by the origin is the one kept, whatever its copy here said (a relay
        // may have claimed a later one).
        let told = RemoteRemoval {
            updated: Some(at(12)),
            ..silent
        };
        assert_eq!(
            told.takes_out(origin, O, Some(&relayed)),
            Some((relay, Some(at(12))))
        );
        // A removal is never kept as later than now.
        let ahead = RemoteRemoval {
            updated: Some(Utc::now() + chrono::TimeDelta::days(400)),
            ..silent
        };
        let Some((_, Some(kept))) = ahead.takes_out(origin, O, Some(&relayed)) else {
            panic!("taken out with a time");
        };
        assert!(kept <= Utc::now());
    }

    #[test]
    fn origin_times_are_kept_to_the_microsecond_and_never_far_ahead() {
        let precise = Value::from("2026-01-02T03:04:05.123456789Z");
        let at = origin_time(Some(&precise)).map(|t| t.to_rfc3339());
        assert_eq!(at.as_deref(), Some("2026-01-02T03:04:05.123456+00:00"));
        assert_eq!(
            origin_time(Some(&Value::from("9999-01-01T00:00:00Z"))),
            None
        );
        assert_eq!(origin_time(Some(&Value::from(12))), None);
        assert_eq!(origin_time(None), None);
    }
}
