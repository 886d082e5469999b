//! What readers may see. Every read takes the [`Viewer`] it is made for and shows only what
//! [`Viewer::may_see`] allows it, for an object and for its sequence: the catalog applies the
//! same rule in its queries, and what is read by id is checked here with it.

use std::collections::HashMap;
use std::ops::Range;
use std::time::Duration;

use chrono::{DateTime, Utc};

use flaneur_model::{
    AccountId, Annotation, Picture, PictureId, PictureStatus, Projection, SemanticTag, Sequence,
    SequenceId, SequenceStatus, Viewer,
};
use flaneur_store::{
    AccountSummary, BlobBody, Extent, NearbyQuery, Page, PagePosition, PictureQuery, RankQuery,
    SEQUENCE_QUERYABLES, SequenceCursor, SequenceQuery, blob_keys, total_order,
};

use crate::{Error, Result, Services};

/// Most accounts a listing of users returns, as on Panoramax instances.
pub const MAX_USERS: usize = 1000;

/// How far a picture of another sequence may be to be related to an item, in metres.
pub const RELATED_WITHIN_M: f64 = 15.0;

/// How far apart two known headings may be, in degrees, for a picture of another sequence to
/// be related to a flat item: a flat picture facing away shows another scene.
pub const RELATED_MAX_HEADING_GAP_DEG: f64 = 101.0;

/// Semantic tags of the objects of one page.
#[derive(Debug, Clone, Default)]
pub struct Tags {
    /// Per sequence.
    pub sequences: HashMap<SequenceId, Vec<SemanticTag>>,
    /// Per picture.
    pub pictures: HashMap<PictureId, Vec<SemanticTag>>,
    /// The annotations of each picture, with their tags.
    pub annotations: HashMap<PictureId, Vec<Annotation>>,
}

/// A file of a picture that clients can fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asset {
    /// The original, untouched.
    Hd,
    /// The 2048 px wide copy.
    Sd,
    /// The thumbnail.
    Thumb,
    /// One tile of a 360° picture.
    Tile {
        /// Column, from the left.
        col: u32,
        /// Row, from the top.
        row: u32,
    },
}

/// A picture with its ready neighbours in its sequence.
#[derive(Debug, Clone)]
pub struct ItemView {
    /// The picture.
    pub picture: Picture,
    /// The ready picture before it.
    pub prev: Option<Picture>,
    /// The ready picture after it.
    pub next: Option<Picture>,
    /// The nearest picture of each other sequence seen from about the same place, nearest
    /// first.
    pub related: Vec<Picture>,
}

/// A sequence in a listing.
#[derive(Debug, Clone, PartialEq)]
pub enum Listed {
    /// One the reader may see, in full.
    Shown(Box<Sequence>),
    /// One deleted or hidden from the reader: only its id and when it last changed, so that
    /// copies elsewhere can be dropped and their harvesters' watermarks move past it.
    Tombstone {
        /// The sequence.
        id: SequenceId,
        /// When it last changed, its deletion or hiding included.
        updated_at: DateTime<Utc>,
        /// For a harvested collection its origin removed, the origin's time of the removal,
        /// which catalogs harvesting this one need to tell a relay's stale copy from a new one.
        origin_removed_at: Option<DateTime<Utc>>,
    },
}

/// One page of a listing of sequences, with the positions of the pages around it.
#[derive(Debug, Clone, PartialEq)]
pub struct SequencePage {
    /// The rows, in listing order.
    pub rows: Vec<Listed>,
    /// Where the previous page ends, when there is one.
    pub prev: Option<SequenceCursor>,
    /// Where the next page starts, when there is one.
    pub next: Option<SequenceCursor>,
    /// The position of each row, for a page ended before its last row.
    positions: Vec<SequenceCursor>,
}

impl SequencePage {
    /// Decides what the viewer of `query` sees of each row, and where the pages around are.
    fn from_page(page: Page<Sequence>, query: &SequenceQuery) -> SequencePage {
        let sort = &query.sort;
        let viewer = query.viewer;
        let is_shown = |s: &Sequence| {
            sequence_is_visible(s, viewer)
                || (query.include_unready && is_owners_unready(s, viewer))
        };
        let edge = |s: Option<&Sequence>, exists: bool| {
            s.filter(|_| exists).map(|s| SequenceCursor::at(s, sort))
        };
        let prev = edge(page.rows.first(), page.has_prev);
        let next = edge(page.rows.last(), page.has_next);
        let positions = page
            .rows
            .iter()
            .map(|s| SequenceCursor::at(s, sort))
            .collect();
        let rows = page
            .rows
            .into_iter()
            .map(|s| {
                if is_shown(&s) {
                    Listed::Shown(Box::new(s))
                } else {
                    Listed::Tombstone {
                        id: s.id,
                        updated_at: s.updated_at,
                        origin_removed_at: s.origin_removed_at,
                    }
                }
            })
            .collect();
        SequencePage {
            rows,
            prev,
            next,
            positions,
        }
    }

    /// Ends the page after its first `len` rows (one at least), the next page starting right
    /// after them: for an answer that cannot hold them all. A page no longer than that is
    /// left as it is.
    pub fn truncate(&mut self, len: usize) {
        let len = len.max(1);
        if len >= self.rows.len() {
            return;
        }
        self.rows.truncate(len);
        self.positions.truncate(len);
        self.next = self.positions.last().cloned();
    }

    /// The sequences shown in full, tombstones left out.
    pub fn into_shown(self) -> Vec<Sequence> {
        self.rows
            .into_iter()
            .filter_map(|row| match row {
                Listed::Shown(s) => Some(*s),
                Listed::Tombstone { .. } => None,
            })
            .collect()
    }
}

/// The properties a listing with tombstones may filter and sort on: the only ones, besides
/// being gone, that a tombstone may reveal.
pub const TOMBSTONE_PROPERTIES: [&str; 2] = ["updated", "id"];

/// Refuses a listing with tombstones that would tell something of a hidden sequence beyond its
/// id and `updated`. A tombstone shows only these, but every condition of the listing decides
/// whether it is there and every order where it stands, and the page links carry the sort
/// values of the rows at the edges in clear: a tombstone's place, capture time, creation time
/// or visibility could be found by narrowing a `bbox` or by its rank in a `datetime` order.
///
/// Applying the other conditions to shown rows only was the alternative; it would make a page
/// hold rows outside its filter and its order, which no client expects. A harvester asks for
/// what changed since its last visit by `updated` only, and that stays possible.
///
/// # Errors
/// [`Error::InvalidParameter`] naming what is refused.
pub fn check_tombstone_query(query: &SequenceQuery) -> Result<()> {
    let refuse = |what: &str| {
        Err(Error::invalid(format!(
            "Parameter {what} cannot be used with show_deleted=true: deleted and hidden \
             sequences can only be filtered and sorted on {}",
            TOMBSTONE_PROPERTIES.join(" and ")
        )))
    };
    if query.bbox.is_some() {
        return refuse("bbox");
    }
    if query.datetime.start.is_some() || query.datetime.end.is_some() {
        return refuse("datetime");
    }
    if query.account.is_some() {
        return refuse("account");
    }
    let is_allowed = |name: &str| TOMBSTONE_PROPERTIES.contains(&name);
    if let Some(filter) = &query.filter {
        let other = SEQUENCE_QUERYABLES
            .iter()
            .find(|q| !is_allowed(q.name) && filter.mentions(q.name));
        if let Some(other) = other {
            return refuse(&format!("filter on {}", other.name));
        }
    }
    // The full order, with the default key when none is given: cursors carry all its values.
    let order = total_order(&query.sort);
    if let Some(key) = order.iter().find(|k| !is_allowed(k.field.as_str())) {
        return refuse(&format!("sortby on {}", key.field.as_str()));
    }
    Ok(())
}

/// Whether `viewer` may see a sequence as published.
pub(crate) fn sequence_is_visible(s: &Sequence, viewer: Viewer) -> bool {
    s.status == SequenceStatus::Ready && viewer.may_see(s.visibility, s.account_id)
}

/// Whether `viewer` may read a sequence by id: published and seen by it, or not published yet
/// and its own (see [`is_owners_unready`]). Its pictures are read, and both are changed, only
/// then.
pub(crate) fn sequence_is_readable(s: &Sequence, viewer: Viewer) -> bool {
    sequence_is_visible(s, viewer) || is_owners_unready(s, viewer)
}

/// Whether a sequence is one not published yet that `viewer` owns (or administers): listed to
/// it among its own sequences, as the reference lists an owner's sequences in progress.
fn is_owners_unready(s: &Sequence, viewer: Viewer) -> bool {
    s.status == SequenceStatus::WaitingForProcess && viewer.acts_as_owner_of(s.account_id)
}

/// Whether `viewer` may see a picture, its sequence aside.
pub(crate) fn picture_is_visible(p: &Picture, viewer: Viewer) -> bool {
    viewer.may_see(p.base.visibility, p.base.account_id) && p.sequence_id.is_some()
}

impl Services {
    /// Space and time covered by published pictures.
    ///
    /// # Errors
    /// Fails when the catalog cannot be read.
    pub async fn extent(&self) -> Result<Extent> {
        Ok(self.catalog.extent().await?)
    }

    /// A published sequence `viewer` may see.
    ///
    /// # Errors
    /// [`Error::CollectionNotFound`] when it does not exist or may not be seen.
    pub async fn collection(&self, id: SequenceId, viewer: Viewer) -> Result<Sequence> {
        match self.catalog.sequence(id).await? {
            Some(s) if sequence_is_visible(&s, viewer) => Ok(s),
            _ => Err(Error::CollectionNotFound(id.to_string())),
        }
    }

    /// A page of sequences, as the query's viewer may see them. Those it may not see (deleted,
    /// hidden from it or not yet published) are listed only when `query.with_hidden` asks for
    /// them, and then only as tombstones, so that harvesters learn to drop them.
    ///
    /// # Errors
    /// Fails when the catalog cannot be read, and with [`Error::InvalidParameter`] when
    /// tombstones are asked for with a condition or an order on anything but `updated` and
    /// `id` (see [`check_tombstone_query`]).
    pub async fn collections(&self, query: &SequenceQuery) -> Result<SequencePage> {
        if query.with_hidden {
            check_tombstone_query(query)?;
        }
        let query = SequenceQuery {
            include_unready: false,
            ..query.clone()
        };
        let page = self.catalog.list_sequences(&query).await?;
        Ok(SequencePage::from_page(page, &query))
    }

    /// Every account not deleted with its display name, oldest first, at most `limit` of
    /// them.
    ///
    /// # Errors
    /// Fails when the catalog cannot be read.
    pub async fn users(&self, limit: usize) -> Result<Vec<(AccountId, String)>> {
        Ok(self.catalog.accounts(limit).await?)
    }

    /// The display name of an account, for its profile.
    ///
    /// # Errors
    /// [`Error::UserNotFound`] when no account has this id, or it is deleted.
    pub async fn user(&self, id: AccountId) -> Result<String> {
        let account = self.catalog.account(id).await?;
        account
            .map(|a| a.name)
            .ok_or_else(|| Error::UserNotFound(id.to_string()))
    }

    /// The name an account's published sequences are credited to, also once the account is
    /// deleted: its pictures stay published under its name, as their licence asks.
    async fn credited_name(&self, id: AccountId) -> Result<String> {
        self.catalog
            .account_name(id)
            .await?
            .ok_or_else(|| Error::UserNotFound(id.to_string()))
    }

    /// An account's name, what its published sequences the query's viewer may see cover, and
    /// one page of them; `query`'s account is set to `id`. Its owner (or an administrator)
    /// also finds the sequences not yet published, as on Panoramax instances.
    ///
    /// # Errors
    /// [`Error::UserNotFound`] when no account has this id.
    pub async fn user_collections(
        &self,
        id: AccountId,
        query: &SequenceQuery,
    ) -> Result<(String, AccountSummary, SequencePage)> {
        let name = self.credited_name(id).await?;
        let summary = self.catalog.account_summary(id, query.viewer).await?;
        let query = SequenceQuery {
            account: Some(id),
            with_hidden: false,
            include_unready: query.viewer.acts_as_owner_of(id),
            ..query.clone()
        };
        let page = self.catalog.list_sequences(&query).await?;
        Ok((name, summary, SequencePage::from_page(page, &query)))
    }

    /// Accounts not deleted whose name contains `text`, ignoring case, oldest first, at most
    /// `limit`.
    ///
    /// # Errors
    /// Fails when the catalog cannot be read.
    pub async fn search_users(&self, text: &str, limit: usize) -> Result<Vec<(AccountId, String)>> {
        // Accounts are few on an instance without logins; matching in memory keeps the
        // catalog free of a text index it would need only for this.
        let text = text.to_lowercase();
        let mut found = self.catalog.accounts(MAX_USERS).await?;
        found.retain(|(_, name)| name.to_lowercase().contains(&text));
        found.truncate(limit);
        Ok(found)
    }

    /// Every published sequence of an account that `viewer` may see, oldest first.
    ///
    /// # Errors
    /// [`Error::UserNotFound`] when no account has this id.
    pub async fn user_all_collections(
        &self,
        id: AccountId,
        viewer: Viewer,
    ) -> Result<Vec<Sequence>> {
        self.credited_name(id).await?;
        let mut query = SequenceQuery {
            account: Some(id),
            limit: 1000,
            viewer,
            ..SequenceQuery::default()
        };
        let mut all = Vec::new();
        loop {
            let page = self.catalog.list_sequences(&query).await?;
            let Some(last) = page.rows.last() else {
                return Ok(all);
            };
            query.page = PagePosition::After(SequenceCursor::at(last, &query.sort));
            let has_next = page.has_next;
            all.extend(page.rows);
            if !has_next {
                return Ok(all);
            }
        }
    }

    /// Ready pictures `viewer` may see of a sequence it may see, in rank order.
    ///
    /// # Errors
    /// [`Error::CollectionNotFound`] when the sequence cannot be seen.
    pub async fn collection_items(
        &self,
        id: SequenceId,
        viewer: Viewer,
        after_rank: Option<i64>,
        limit: Option<usize>,
    ) -> Result<Vec<Picture>> {
        self.collection(id, viewer).await?;
        let query = RankQuery {
            after_rank,
            limit,
            include_unready: false,
            visible_to: Some(viewer),
        };
        Ok(self.catalog.sequence_pictures(id, query).await?)
    }

    /// A sequence `viewer` may see with the pictures it may see in rank order, whatever their
    /// processing state: what its processing status reports. Pictures dropped as duplicates
    /// are left out, as they are on their way out of the sequence.
    ///
    /// # Errors
    /// [`Error::CollectionNotFound`] when the sequence cannot be seen.
    pub async fn collection_status(
        &self,
        id: SequenceId,
        viewer: Viewer,
    ) -> Result<(Sequence, Vec<Picture>)> {
        let sequence = self.collection(id, viewer).await?;
        let query = RankQuery {
            include_unready: true,
            visible_to: Some(viewer),
            ..RankQuery::default()
        };
        let pictures = self.catalog.sequence_pictures(id, query).await?;
        let pictures = pictures
            .into_iter()
            .filter(|p| p.status != PictureStatus::WaitingForDelete)
            .collect();
        Ok((sequence, pictures))
    }

    /// Lowest and highest rank of the ready pictures `viewer` may see in a sequence.
    ///
    /// # Errors
    /// Fails when the catalog cannot be read.
    pub async fn collection_rank_bounds(
        &self,
        id: SequenceId,
        viewer: Viewer,
    ) -> Result<Option<(i64, i64)>> {
        Ok(self.catalog.sequence_rank_bounds(id, viewer).await?)
    }

    /// A picture with its neighbours and related pictures `viewer` may see, whatever its
    /// processing state, if it may see the picture; in `collection` when a path names one.
    ///
    /// # Errors
    /// [`Error::ItemNotFound`] when it does not exist, may not be seen or is in another
    /// collection than the path's.
    pub async fn item(
        &self,
        collection: Option<SequenceId>,
        id: PictureId,
        viewer: Viewer,
    ) -> Result<ItemView> {
        let (picture, _) = self.visible_picture(collection, id, viewer).await?;
        let (Some(seq), Some(rank)) = (picture.sequence_id, picture.rank) else {
            return Err(Error::ItemNotFound(id.to_string()));
        };
        let (prev, next) = self.catalog.sequence_neighbours(seq, rank, viewer).await?;

        // A 360° picture shows every direction, so only a flat one with a known heading asks
        // the others to face its way.
        let facing = match (picture.base.projection, picture.base.heading_deg) {
            (Projection::Flat, Some(heading)) => Some((heading, RELATED_MAX_HEADING_GAP_DEG)),
            _ => None,
        };
        let nearby = NearbyQuery {
            lon: picture.base.lon,
            lat: picture.base.lat,
            sequence: seq,
            within_m: RELATED_WITHIN_M,
            facing,
            viewer,
        };
        let related = self.catalog.nearby_pictures(&nearby).await?;
        Ok(ItemView {
            picture,
            prev,
            next,
            related,
        })
    }

    /// A picture, whatever its processing state, with its sequence, if `viewer` may see both
    /// (its owner also while the sequence is not published yet) and the sequence is
    /// `collection` when a path names one. Otherwise the same error as for an unknown id, so
    /// that an id tells nothing of what it hides and a wrong path reaches nothing.
    pub(crate) async fn visible_picture(
        &self,
        collection: Option<SequenceId>,
        id: PictureId,
        viewer: Viewer,
    ) -> Result<(Picture, Sequence)> {
        let not_found = || Error::ItemNotFound(id.to_string());
        let picture = self.catalog.picture(id).await?.ok_or_else(not_found)?;
        if !picture_is_visible(&picture, viewer)
            || picture.status == PictureStatus::WaitingForDelete
        {
            return Err(not_found());
        }
        let seq = picture.sequence_id.ok_or_else(not_found)?;
        let sequence = self.catalog.sequence(seq).await?.ok_or_else(not_found)?;
        if !sequence_is_readable(&sequence, viewer) || collection.is_some_and(|c| c != seq) {
            return Err(not_found());
        }
        Ok((picture, sequence))
    }

    /// The semantic tags of the sequences and of the pictures of one page, and the pictures'
    /// annotations (objects without tags or annotations are absent).
    ///
    /// # Errors
    /// Fails when the catalog cannot be read.
    pub async fn semantics(
        &self,
        sequences: &[SequenceId],
        pictures: &[PictureId],
    ) -> Result<Tags> {
        Ok(Tags {
            sequences: self.catalog.sequence_semantics(sequences).await?,
            pictures: self.catalog.picture_semantics(pictures).await?,
            annotations: match pictures {
                [] => HashMap::new(),
                some => self.catalog.picture_annotations(some).await?,
            },
        })
    }

    /// Ready, visible pictures matching a search.
    ///
    /// # Errors
    /// Fails when the catalog cannot be read.
    pub async fn search(&self, query: &PictureQuery) -> Result<Page<Picture>> {
        Ok(self.catalog.search_pictures(query).await?)
    }

    /// Opens one file of a ready picture `viewer` may see.
    ///
    /// # Errors
    /// [`Error::ItemNotFound`] when the picture or the tile does not exist or may not be
    /// seen (alike, never a refusal that would tell the picture exists);
    /// [`Error::PictureNotReady`] while it is being processed.
    pub async fn picture_file(
        &self,
        id: PictureId,
        viewer: Viewer,
        asset: Asset,
        range: Option<Range<u64>>,
    ) -> Result<BlobBody> {
        let (key, _) = self.picture_file_key(id, viewer, asset).await?;
        self.blobs
            .get(&key, range)
            .await?
            .ok_or_else(|| Error::ItemNotFound(id.to_string()))
    }

    /// A time-limited address of one file of a picture, where clients fetch it from the
    /// storage itself. `None` when the blob store has no such addresses (a local folder) or
    /// the picture or its sequence is not for everyone: anyone holding the address can read
    /// the file until it expires, whoever asked for it, so restricted pictures are always
    /// streamed, to the viewers who may see them.
    ///
    /// # Errors
    /// As [`Services::picture_file`].
    pub async fn picture_file_url(
        &self,
        id: PictureId,
        viewer: Viewer,
        asset: Asset,
        expires: Duration,
    ) -> Result<Option<String>> {
        let (key, is_public) = self.picture_file_key(id, viewer, asset).await?;
        if !is_public {
            return Ok(None);
        }
        Ok(self.blobs.presign_read(&key, expires).await?)
    }

    /// One file of a ready picture `viewer` may see: the file's blob key, and whether anyone
    /// may see the picture (it and its sequence).
    async fn picture_file_key(
        &self,
        id: PictureId,
        viewer: Viewer,
        asset: Asset,
    ) -> Result<(String, bool)> {
        let (picture, sequence) = self.visible_picture(None, id, viewer).await?;
        // A harvested picture has no file here: see `Services::remote_picture_file`.
        if picture.origin.is_some() {
            return Err(Error::ItemNotFound(id.to_string()));
        }
        let is_public = picture_is_visible(&picture, Viewer::ANONYMOUS)
            && sequence_is_visible(&sequence, Viewer::ANONYMOUS);
        match picture.status {
            PictureStatus::Ready => {}
            PictureStatus::Broken => return Err(Error::PictureBroken(id)),
            PictureStatus::WaitingForProcess
            | PictureStatus::Preparing
            | PictureStatus::WaitingForDelete => return Err(Error::PictureNotReady(id)),
        }
        let key = match asset {
            Asset::Hd => blob_keys::original(id),
            Asset::Thumb => blob_keys::derivative(id, "thumb.jpg"),
            Asset::Sd => {
                // Pictures at most 2048 px wide and upright have no SD copy: the original is
                // already that size, and keeping a second copy would only cost storage.
                let sd = blob_keys::derivative(id, "sd.jpg");
                match self.blobs.stat(&sd).await? {
                    Some(_) => sd,
                    None => blob_keys::original(id),
                }
            }
            Asset::Tile { col, row } => {
                let grid = picture.tile_grid();
                if !grid.is_some_and(|g| g.contains(col, row)) {
                    let grid = grid.map(|g| (g.cols, g.rows));
                    return Err(Error::TileNotFound { id, col, row, grid });
                }
                blob_keys::tile(id, col, row)
            }
        };
        Ok((key, is_public))
    }
}
