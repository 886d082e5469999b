//! What both catalogs share about remote data: how a peer's address is kept, which account
//! stands for a remote author, the figures of a remote sequence, the part of a remote item
//! stored where local pictures keep what their file said, and what a harvested collection
//! leaves when it goes.

use chrono::{DateTime, Utc};
use flaneur_model::{
    AccountId, Holder, MAX_KEY_CHARS, MAX_VALUE_CHARS, NewPicture, Origin, PeerId, PictureDetails,
    PictureId, Projection, RemoteAuthor, RemoteCollection, RemoteItem, Visibility, origin_time,
    origin_url,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::track::{accuracy_p90, distance_m};
use crate::{Error, Result};

/// The rows of `sequences` that are tombstones of harvested collections: deleted, of no peer,
/// and still holding the peer's `updated` of their last apply, which no local sequence has.
/// Such a tombstone holds its id only against relays' stale copies, and only when its origin
/// removed it (see [`Holder::Removed`]); a local tombstone holds it against any copy, so that
/// a peer relaying this instance's data does not bring a deleted sequence back.
pub(crate) const HARVESTED_TOMBSTONE: &str =
    "(status = 'deleted' AND peer_id IS NULL AND remote_updated_at IS NOT NULL)";

/// The assignments of an `UPDATE sequences` that turn a harvested collection's row into its
/// tombstone, once its items are deleted. Like a local sequence deleted, it stays a row
/// listed by `show_deleted=true`, stamped with the time of the removal by the `updated_at`
/// triggers, so that catalogs harvesting this one drop it too. It leaves its peer and its
/// remote author, which may go before it (removing a peer deletes both), for the instance's
/// default account, and keeps none of the peer's JSON.
pub(crate) const TOMBSTONE_ASSIGNMENTS: &str = "status = 'deleted', nb_pictures = 0, \
     peer_id = NULL, remote_doc = NULL, account_id = (SELECT id FROM accounts WHERE is_default)";

/// What `holder_of` reads of a sequence's row to tell who holds it.
pub(crate) struct HolderRow {
    /// Its peer, none for local data and tombstones.
    pub peer: Option<PeerId>,
    /// That peer's API root.
    pub api_url: Option<String>,
    /// The `flaneur:origin` its JSON names.
    pub claimed: Option<String>,
    /// The `flaneur:origin_updated` its JSON gives.
    pub claimed_updated: Option<String>,
    /// The peer's `updated` of it.
    pub updated: Option<DateTime<Utc>>,
    /// Whether it is the tombstone of a harvested collection ([`HARVESTED_TOMBSTONE`]).
    pub is_harvested_tombstone: bool,
    /// When its origin removed it, for such a tombstone.
    pub origin_removed_at: Option<DateTime<Utc>>,
}

impl HolderRow {
    /// Who holds the sequence: `None` for the tombstone of a harvested collection left for
    /// another reason than its origin's removal.
    pub(crate) fn holder(self) -> Option<Holder> {
        if self.is_harvested_tombstone {
            return self
                .origin_removed_at
                .map(|updated| Holder::Removed { updated });
        }
        let Some(id) = self.peer else {
            return Some(Holder::Local);
        };
        let api_url = self.api_url.unwrap_or_default();
        let origin = origin_url(self.claimed.as_deref(), &api_url);
        let origin_updated = if origin == api_url {
            self.updated
        } else {
            origin_time(self.claimed_updated.map(Value::String).as_ref())
        };
        Some(Holder::Peer {
            id,
            origin,
            api_url,
            updated: self.updated,
            origin_updated,
        })
    }
}

/// A peer's API root as stored and looked up: without trailing slashes, so that
/// `https://host/api/` and `https://host/api` name one peer.
pub(crate) fn peer_url(api_url: &str) -> &str {
    api_url.trim_end_matches('/')
}

/// The key and name of the account standing for a remote author: its id at the peer when
/// given, else its name; an author the peer names in no way shares the empty key with every
/// other such author of that peer.
pub(crate) fn author_key(author: &RemoteAuthor) -> (String, String) {
    let key = author
        .id
        .clone()
        .or_else(|| author.name.clone())
        .unwrap_or_default();
    let name = author.name.clone().unwrap_or_else(|| key.clone());
    (key, name)
}

/// Refuses a write to a row harvested from a peer: it changes only when its peer is
/// harvested again.
pub(crate) fn refuse_remote(
    kind: &'static str,
    id: impl ToString,
    peer: Option<PeerId>,
) -> Result<()> {
    match peer {
        Some(peer) => Err(Error::RemoteData {
            kind,
            id: id.to_string(),
            peer,
        }),
        None => Ok(()),
    }
}

/// Refuses a collection the harvester should have given to the removal instead.
pub(crate) fn refuse_deleted(collection: &RemoteCollection) -> Result<()> {
    if collection.is_deleted {
        return Err(Error::Refused(format!(
            "collection {} is deleted at its instance: remove it rather than apply it",
            collection.id
        )));
    }
    Ok(())
}

/// What the catalog computes over a remote sequence's items, as dispatch does for local ones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TrackFigures {
    /// Length of the track through the items in rank order, in kilometres.
    pub length_km: f64,
    /// 90th percentile of the items' position error, in metres.
    pub gps_accuracy_m: Option<f64>,
}

impl TrackFigures {
    /// The figures of `items`, whatever their order in the slice.
    pub(crate) fn of(items: &[RemoteItem]) -> TrackFigures {
        let mut ranked: Vec<&RemoteItem> = items.iter().collect();
        ranked.sort_by_key(|i| i.rank);
        let length_m: f64 = ranked
            .windows(2)
            .map(|w| distance_m([w[0].lon, w[0].lat], [w[1].lon, w[1].lat]))
            .sum();
        TrackFigures {
            length_km: length_m / 1000.0,
            gps_accuracy_m: accuracy_p90(items.iter().filter_map(|i| i.details.gps_accuracy_m)),
        }
    }
}

/// What a remote picture's `doc` column holds: the fields a local picture's `doc` has under
/// the same names (`width`, `details`...), so that the map and filters read both alike. No
/// upload set, file name or checksum: a remote picture has none here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RemotePictureDoc {
    pub id: PictureId,
    pub account_id: AccountId,
    pub captured_at: DateTime<Utc>,
    pub lon: f64,
    pub lat: f64,
    pub projection: Projection,
    pub width: u32,
    pub height: u32,
    pub details: PictureDetails,
}

impl RemotePictureDoc {
    /// The stored part of an item, credited to `account`.
    pub(crate) fn from_item(item: &RemoteItem, account: AccountId) -> RemotePictureDoc {
        RemotePictureDoc {
            id: item.id,
            account_id: account,
            captured_at: item.captured_at,
            lon: item.lon,
            lat: item.lat,
            projection: item.projection,
            width: item.width.unwrap_or(0),
            height: item.height.unwrap_or(0),
            details: item.details.clone(),
        }
    }

    /// The picture's base as [`flaneur_model::Picture`] carries it. A remote picture has no
    /// upload set, and no file here: its file fields are empty, and readers tell it by
    /// [`flaneur_model::Picture::origin`].
    pub(crate) fn into_base(self, heading_deg: Option<f64>) -> NewPicture {
        NewPicture {
            id: self.id,
            upload_set_id: None,
            account_id: self.account_id,
            visibility: Visibility::Anyone,
            captured_at: self.captured_at,
            utc_offset_secs: None,
            lon: self.lon,
            lat: self.lat,
            heading_deg,
            projection: self.projection,
            width: self.width,
            height: self.height,
            orientation: 1,
            content_md5: String::new(),
            file_name: String::new(),
            size_bytes: 0,
            is_blurred: false,
            details: self.details,
        }
    }
}

/// The origin of a row, from its `peer_id` and `remote_doc` columns; `None` for a local row.
pub(crate) fn origin(
    table: &'static str,
    peer: Option<PeerId>,
    doc: Option<Value>,
) -> Result<Option<Origin>> {
    let Some(peer_id) = peer else {
        return Ok(None);
    };
    let doc: Map<String, Value> = match doc {
        Some(Value::Object(map)) => map,
        Some(_) => return Err(Error::corrupt(table, "remote_doc: not a JSON object")),
        None => Map::new(),
    };
    Ok(Some(Origin { peer_id, doc }))
}

/// The sort a remote collection says its items follow, `+gpsdate` when it says none.
pub(crate) fn sorted_by(collection: &RemoteCollection) -> String {
    collection
        .doc
        .get("geovisio:sorted-by")
        .and_then(Value::as_str)
        .unwrap_or("+gpsdate")
        .to_owned()
}

/// Refuses items that would break the collection's rows: one id or one rank twice.
pub(crate) fn check_items(collection: &RemoteCollection, items: &[RemoteItem]) -> Result<()> {
    let mut ids = std::collections::HashSet::with_capacity(items.len());
    let mut ranks = std::collections::HashSet::with_capacity(items.len());
    for item in items {
        if !ids.insert(item.id) {
            return Err(Error::Refused(format!(
                "collection {} lists item {} twice",
                collection.id, item.id
            )));
        }
        if !ranks.insert(item.rank) {
            return Err(Error::Refused(format!(
                "collection {} gives rank {} to two items",
                collection.id, item.rank
            )));
        }
    }
    Ok(())
}

/// The tags search filters match for a harvested collection: its `semantics`, as its instance
/// lists them.
pub(crate) fn collection_tags(collection: &RemoteCollection) -> Vec<(String, String)> {
    tags_of(collection.doc.get("semantics"))
}

/// The tags search filters match for a harvested item: its own `semantics` and those of its
/// annotations, as a local picture's tags and its annotations' are matched.
pub(crate) fn item_tags(item: &RemoteItem) -> Vec<(String, String)> {
    let properties = item.doc.get("properties");
    let mut tags = tags_of(properties.and_then(|p| p.get("semantics")));
    if let Some(Value::Array(annotations)) = properties.and_then(|p| p.get("annotations")) {
        for annotation in annotations {
            tags.extend(tags_of(annotation.get("semantics")));
        }
    }
    tags.sort_unstable();
    tags.dedup();
    tags
}

/// `[{"key": …, "value": …}, …]` as pairs, each once; entries that are not such a pair, or
/// longer than a local tag may be, are left out.
fn tags_of(list: Option<&Value>) -> Vec<(String, String)> {
    let Some(Value::Array(list)) = list else {
        return Vec::new();
    };
    let mut tags: Vec<(String, String)> = list
        .iter()
        .filter_map(|tag| {
            let key = tag.get("key")?.as_str()?;
            let value = tag.get("value")?.as_str()?;
            let fits = !key.is_empty()
                && key.chars().count() <= MAX_KEY_CHARS
                && value.chars().count() <= MAX_VALUE_CHARS;
            fits.then(|| (key.to_owned(), value.to_owned()))
        })
        .collect();
    tags.sort_unstable();
    tags.dedup();
    tags
}
