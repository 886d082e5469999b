//! What readers may see. Every read goes through here, so visibility is decided in one place:
//! anonymous readers see published sequences and ready pictures whose visibility is `anyone`.

use std::collections::HashMap;
use std::ops::Range;
use std::time::Duration;

use flaneur_model::{
    AccountId, Picture, PictureId, PictureStatus, Projection, SemanticTag, Sequence, SequenceId,
    SequenceStatus, Visibility,
};
use flaneur_store::{
    AccountSummary, BlobBody, Extent, NearbyQuery, Page, PagePosition, PictureQuery, RankQuery,
    SEQUENCE_QUERYABLES, SequenceCursor, SequenceQuery, SequenceSort, blob_keys, total_order,
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
    /// One deleted or hidden from the reader: only its id, so that copies elsewhere can be
    /// dropped.
    Tombstone(SequenceId),
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
}

impl SequencePage {
    /// Decides what anonymous readers see of each row, and where the pages around are.
    fn from_page(page: Page<Sequence>, sort: &[SequenceSort]) -> SequencePage {
        let edge = |s: Option<&Sequence>, exists: bool| {
            s.filter(|_| exists).map(|s| SequenceCursor::at(s, sort))
        };
        let prev = edge(page.rows.first(), page.has_prev);
        let next = edge(page.rows.last(), page.has_next);
        let rows = page
            .rows
            .into_iter()
            .map(|s| {
                if sequence_is_visible(&s) {
                    Listed::Shown(Box::new(s))
                } else {
                    Listed::Tombstone(s.id)
                }
            })
            .collect();
        SequencePage { rows, prev, next }
    }

    /// The sequences shown in full, tombstones left out.
    pub fn into_shown(self) -> Vec<Sequence> {
        self.rows
            .into_iter()
            .filter_map(|row| match row {
                Listed::Shown(s) => Some(*s),
                Listed::Tombstone(_) => None,
            })
            .collect()
    }
}

/// Who reads, which decides what non-public data they may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reader {
    /// Nobody logged in: only what is visible to anyone.
    Anonymous,
    /// A logged-in account: also `logged-only` data, and its own `owner-only` data.
    Account(AccountId),
}

impl Reader {
    /// Whether this reader may see data of `owner` shown to `visibility`.
    pub fn may_see(self, visibility: Visibility, owner: AccountId) -> bool {
        match (visibility, self) {
            (Visibility::Anyone, _) => true,
            (Visibility::LoggedOnly, Reader::Account(_)) => true,
            (Visibility::OwnerOnly, Reader::Account(me)) => me == owner,
            (_, Reader::Anonymous) => false,
        }
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

/// Whether anonymous readers may see a sequence.
pub(crate) fn sequence_is_visible(s: &Sequence) -> bool {
    s.status == SequenceStatus::Ready && s.visibility == Visibility::Anyone
}

/// Whether anonymous readers may see a picture (its sequence aside).
pub(crate) fn picture_is_visible(p: &Picture) -> bool {
    p.base.visibility == Visibility::Anyone && p.sequence_id.is_some()
}

impl Services {
    /// Space and time covered by published pictures.
    ///
    /// # Errors
    /// Fails when the catalog cannot be read.
    pub async fn extent(&self) -> Result<Extent> {
        Ok(self.catalog.extent().await?)
    }

    /// A visible sequence.
    ///
    /// # Errors
    /// [`Error::CollectionNotFound`] when it does not exist or may not be seen.
    pub async fn collection(&self, id: SequenceId) -> Result<Sequence> {
        match self.catalog.sequence(id).await? {
            Some(s) if sequence_is_visible(&s) => Ok(s),
            _ => Err(Error::CollectionNotFound(id.to_string())),
        }
    }

    /// A page of sequences. Those anonymous readers may not see (deleted, hidden or not
    /// yet published) are listed only when `query.with_hidden` asks for them, and then only
    /// as tombstones, so that harvesters learn to drop them.
    ///
    /// # Errors
    /// Fails when the catalog cannot be read, and with [`Error::InvalidParameter`] when
    /// tombstones are asked for with a condition or an order on anything but `updated` and
    /// `id` (see [`check_tombstone_query`]).
    pub async fn collections(&self, query: &SequenceQuery) -> Result<SequencePage> {
        if query.with_hidden {
            check_tombstone_query(query)?;
        }
        let page = self.catalog.list_sequences(query).await?;
        Ok(SequencePage::from_page(page, &query.sort))
    }

    /// Every account with its display name, oldest first, at most `limit` of them.
    ///
    /// # Errors
    /// Fails when the catalog cannot be read.
    pub async fn users(&self, limit: usize) -> Result<Vec<(AccountId, String)>> {
        Ok(self.catalog.accounts(limit).await?)
    }

    /// The display name of an account.
    ///
    /// # Errors
    /// [`Error::UserNotFound`] when no account has this id.
    pub async fn user(&self, id: AccountId) -> Result<String> {
        self.catalog
            .account_name(id)
            .await?
            .ok_or_else(|| Error::UserNotFound(id.to_string()))
    }

    /// An account's name, what its published sequences cover, and one page of them; `query`'s
    /// account is set to `id`.
    ///
    /// # Errors
    /// [`Error::UserNotFound`] when no account has this id.
    pub async fn user_collections(
        &self,
        id: AccountId,
        query: &SequenceQuery,
    ) -> Result<(String, AccountSummary, SequencePage)> {
        let name = self.user(id).await?;
        let summary = self.catalog.account_summary(id).await?;
        let query = SequenceQuery {
            account: Some(id),
            with_hidden: false,
            ..query.clone()
        };
        let page = self.catalog.list_sequences(&query).await?;
        Ok((name, summary, SequencePage::from_page(page, &query.sort)))
    }

    /// Accounts whose name contains `text`, ignoring case, oldest first, at most `limit`.
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

    /// Every published sequence of an account, oldest first.
    ///
    /// # Errors
    /// [`Error::UserNotFound`] when no account has this id.
    pub async fn user_all_collections(&self, id: AccountId) -> Result<Vec<Sequence>> {
        self.user(id).await?;
        let mut query = SequenceQuery {
            account: Some(id),
            limit: 1000,
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

    /// Ready pictures of a visible sequence, in rank order.
    ///
    /// # Errors
    /// [`Error::CollectionNotFound`] when the sequence cannot be seen.
    pub async fn collection_items(
        &self,
        id: SequenceId,
        after_rank: Option<i64>,
        limit: Option<usize>,
    ) -> Result<Vec<Picture>> {
        self.collection(id).await?;
        let query = RankQuery {
            after_rank,
            limit,
            include_unready: false,
        };
        let pictures = self.catalog.sequence_pictures(id, query).await?;
        Ok(pictures.into_iter().filter(picture_is_visible).collect())
    }

    /// A visible sequence with its visible pictures in rank order, whatever their processing
    /// state: what its processing status reports. Pictures dropped as duplicates are left out,
    /// as they are on their way out of the sequence.
    ///
    /// # Errors
    /// [`Error::CollectionNotFound`] when the sequence cannot be seen.
    pub async fn collection_status(&self, id: SequenceId) -> Result<(Sequence, Vec<Picture>)> {
        let sequence = self.collection(id).await?;
        let query = RankQuery {
            include_unready: true,
            ..RankQuery::default()
        };
        let pictures = self.catalog.sequence_pictures(id, query).await?;
        let pictures = pictures
            .into_iter()
            .filter(|p| picture_is_visible(p) && p.status != PictureStatus::WaitingForDelete)
            .collect();
        Ok((sequence, pictures))
    }

    /// Lowest and highest rank of a sequence's ready pictures.
    ///
    /// # Errors
    /// Fails when the catalog cannot be read.
    pub async fn collection_rank_bounds(&self, id: SequenceId) -> Result<Option<(i64, i64)>> {
        Ok(self.catalog.sequence_rank_bounds(id).await?)
    }

    /// A picture with its neighbours and related pictures, whatever its processing state, if
    /// it may be seen.
    ///
    /// # Errors
    /// [`Error::ItemNotFound`] when it does not exist or may not be seen.
    pub async fn item(&self, id: PictureId) -> Result<ItemView> {
        let picture = self.visible_picture(id).await?;
        let (Some(seq), Some(rank)) = (picture.sequence_id, picture.rank) else {
            return Err(Error::ItemNotFound(id.to_string()));
        };
        let (prev, next) = self.catalog.sequence_neighbours(seq, rank).await?;
        let prev = prev.filter(picture_is_visible);
        let next = next.filter(picture_is_visible);

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
        };
        let related = self.catalog.nearby_pictures(&nearby).await?;
        let related = related.into_iter().filter(picture_is_visible).collect();
        Ok(ItemView {
            picture,
            prev,
            next,
            related,
        })
    }

    /// A picture, whatever its processing state, if it and its sequence may be seen.
    async fn visible_picture(&self, id: PictureId) -> Result<Picture> {
        let not_found = || Error::ItemNotFound(id.to_string());
        let picture = self.catalog.picture(id).await?.ok_or_else(not_found)?;
        if !picture_is_visible(&picture) || picture.status == PictureStatus::WaitingForDelete {
            return Err(not_found());
        }
        let seq = picture.sequence_id.ok_or_else(not_found)?;
        let sequence = self.catalog.sequence(seq).await?.ok_or_else(not_found)?;
        if !sequence_is_visible(&sequence) {
            return Err(not_found());
        }
        Ok(picture)
    }

    /// The semantic tags of the sequences and of the pictures of one page, in two maps
    /// (objects without tags are absent).
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
        })
    }

    /// Ready, visible pictures matching a search.
    ///
    /// # Errors
    /// Fails when the catalog cannot be read.
    pub async fn search(&self, query: &PictureQuery) -> Result<Page<Picture>> {
        Ok(self.catalog.search_pictures(query).await?)
    }

    /// Opens one file of a visible, ready picture.
    ///
    /// # Errors
    /// [`Error::ItemNotFound`] when the picture or the tile does not exist or may not be
    /// seen; [`Error::PictureNotReady`] while it is being processed.
    pub async fn picture_file(
        &self,
        id: PictureId,
        asset: Asset,
        range: Option<Range<u64>>,
    ) -> Result<BlobBody> {
        let (_, key) = self.picture_file_key(id, asset).await?;
        self.blobs
            .get(&key, range)
            .await?
            .ok_or_else(|| Error::ItemNotFound(id.to_string()))
    }

    /// A time-limited address of one file of a picture, where clients fetch it from the
    /// storage itself. `None` when the blob store has no such addresses (a local folder) or
    /// the picture is not for everyone: anyone holding the address can read the file until
    /// it expires, whoever asked for it, so restricted pictures are always streamed.
    ///
    /// # Errors
    /// As [`Services::picture_file`].
    pub async fn picture_file_url(
        &self,
        id: PictureId,
        asset: Asset,
        expires: Duration,
    ) -> Result<Option<String>> {
        // Reads go through `visible_picture`, which admits only what anonymous readers see,
        // sequence included; the picture's own visibility is checked again here so that an
        // address never leaks a restricted picture, whoever may read it through the API.
        let (picture, key) = self.picture_file_key(id, asset).await?;
        if picture.base.visibility != Visibility::Anyone {
            return Ok(None);
        }
        Ok(self.blobs.presign_read(&key, expires).await?)
    }

    /// One file of a visible, ready picture: the picture and the file's blob key.
    async fn picture_file_key(&self, id: PictureId, asset: Asset) -> Result<(Picture, String)> {
        let picture = self.visible_picture(id).await?;
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
        Ok((picture, key))
    }
}
