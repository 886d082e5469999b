//! The embedded catalog: one SQLite file in WAL mode, an R*Tree for space, and the job queue
//! in a table.
//!
//! Writes go through a pool of exactly one connection, so that they are serialised inside the
//! process and never fail with SQLite's "database is locked" when two transactions try to
//! upgrade to writers at once. Reads use a separate pool and run concurrently thanks to WAL.

mod account;
mod annotation;
mod codec;
mod edit;
mod excluded;
mod federation;
mod filter;
#[cfg(test)]
mod fixture;
mod job;
mod map;
mod migrate;
mod page;
mod picture;
mod report;
mod search;
mod semantics;
mod sequence;
mod sequence_line;
mod session;
mod stats;
mod upload;

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use flaneur_model::{
    Account, AccountId, AccountPreferences, ClaimOutcome, ExcludedAreaId, ItemsStatus, Job,
    JobKind, NewPicture, NewToken, NewUploadSet, OauthIdentity, Picture, PictureEdit, PictureId,
    PictureStatus, Role, SemanticTag, Sequence, SequenceEdit, SequenceId, Token, TokenId,
    UploadFile, UploadSet, UploadSetId, Viewer,
};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use tracing::{info, warn};

use crate::annotation::AnnotationOutcome;
use crate::catalog::{
    AccountSummary, Arrange, DataVersion, DispatchPlan, Extent, GridCell, InsertOutcome,
    MapPicture, MapQuery, MapSequence, NearbyQuery, Page, PictureQuery, RankQuery, SequenceSummary,
};
use crate::excluded::{AreaScope, ExcludedArea, Exclusion, NewExcludedArea};
use crate::listing::SequenceQuery;
use crate::report::ReportCount;
use crate::session::{EndedSession, LoginRequest, NewSession, SessionRecord};
use crate::{Catalog, Error, Result};
use flaneur_model::{Annotation, AnnotationId, NewAnnotation, TagChange};
use flaneur_model::{
    ApplyOutcome, HarvestClaim, HarvestEnd, HarvestProgress, Holder, Peer, PeerId, PeerSource,
    RemoteCollection, RemoteItem, RemoteRemoval, Skip,
};
use flaneur_model::{NewReport, Report, ReportChange, ReportId, ReportQuery};

/// How long a connection waits for another process holding the write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a map read waits for stale sequence lines to be redrawn before it reads the lines
/// as stored: a long write holding the writer delays the redraw, and should neither hold up
/// the map nor fail it. The redraw moves the data version when it lands, so what was drawn
/// meanwhile is replaced then.
const LINE_REDRAW_WAIT: Duration = Duration::from_secs(2);

/// The catalog in an SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteCatalog {
    writer: SqlitePool,
    reader: SqlitePool,
    default_account: (AccountId, String),
    lines: Arc<sequence_line::LineRedraws>,
}

impl SqliteCatalog {
    /// Opens (creating if needed) the catalog file and brings its schema up to date.
    ///
    /// # Errors
    /// Fails when the file cannot be opened or a migration fails.
    pub async fn open(path: &Path) -> Result<SqliteCatalog> {
        // FULL synchronous mode: a transaction that returned is on disk, so an upload that got
        // its 202 survives a power cut too, not only a crash of the process.
        Self::open_with(path, SqliteSynchronous::Full).await
    }

    /// Like [`SqliteCatalog::open`], for bulk loads that can be started over (benchmarks,
    /// imports): commits are not waited for on disk, so a crash of the machine may lose the
    /// last ones or damage the file. Never for a catalog that serves uploads.
    ///
    /// # Errors
    /// Fails when the file cannot be opened or a migration fails.
    pub async fn open_for_bulk_load(path: &Path) -> Result<SqliteCatalog> {
        Self::open_with(path, SqliteSynchronous::Off).await
    }

    async fn open_with(path: &Path, synchronous: SqliteSynchronous) -> Result<SqliteCatalog> {
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(Error::db("parse sqlite options"))?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .foreign_keys(true)
            // Rows a REPLACE removes fire their delete triggers, so the map's tables follow.
            .pragma("recursive_triggers", "ON")
            .busy_timeout(BUSY_TIMEOUT);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(Error::db("open catalog"))?;
        let applied = migrate::run(&writer).await?;
        if applied > 0 {
            info!(path = %path.display(), migrations = applied, "catalog schema migrated");
        }
        let reader = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.read_only(true))
            .await
            .map_err(Error::db("open catalog for reading"))?;

        let default_account = account::ensure_default_account(&writer).await?;
        // Lines marked stale by an upgrade (all of them) or by writes just before a stop are
        // redrawn in the background rather than by the first map read.
        let lines = Arc::new(sequence_line::LineRedraws::default());
        lines.start(&reader, &writer);
        Ok(SqliteCatalog {
            writer,
            reader,
            default_account,
            lines,
        })
    }

    /// Closes both pools, waiting for running statements.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

/// Starts a write transaction holding the write lock from its first statement.
///
/// A deferred transaction that reads before it writes cannot wait for the lock: when another
/// process (an API process beside a worker process) committed since its read, SQLite refuses
/// the upgrade at once with "database is locked", whatever the busy timeout. Taking the lock
/// up front makes it wait its turn instead.
async fn begin_write(pool: &SqlitePool) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

#[async_trait]
impl Catalog for SqliteCatalog {
    async fn default_account(&self) -> Result<(AccountId, String)> {
        Ok(self.default_account.clone())
    }

    async fn account_name(&self, id: AccountId) -> Result<Option<String>> {
        account::account_name(&self.reader, id).await
    }

    async fn accounts(&self, limit: usize) -> Result<Vec<(AccountId, String)>> {
        account::accounts(&self.reader, limit).await
    }

    async fn create_account(&self, name: &str, role: Role) -> Result<Account> {
        account::create_account(&self.writer, name, role).await
    }

    async fn account(&self, id: AccountId) -> Result<Option<Account>> {
        account::account(&self.reader, id).await
    }

    async fn account_by_name(&self, name: &str) -> Result<Option<Account>> {
        account::account_by_name(&self.reader, name).await
    }

    async fn upsert_oauth_account(&self, identity: &OauthIdentity, name: &str) -> Result<Account> {
        account::upsert_oauth_account(&self.writer, identity, name).await
    }

    async fn rekey_oauth_provider(&self, from: &str, to: &str) -> Result<u64> {
        account::rekey_oauth_provider(&self.writer, from, to).await
    }

    async fn set_account_role(&self, id: AccountId, role: Role) -> Result<bool> {
        account::set_account_role(&self.writer, id, role).await
    }

    async fn update_account_preferences(
        &self,
        id: AccountId,
        prefs: &AccountPreferences,
    ) -> Result<Option<Account>> {
        account::update_account_preferences(&self.writer, id, prefs).await
    }

    async fn delete_account(&self, id: AccountId) -> Result<bool> {
        account::delete_account(&self.writer, id).await
    }

    async fn create_token(&self, token: NewToken) -> Result<Token> {
        account::create_token(&self.writer, token).await
    }

    async fn claim_token(&self, id: TokenId, account: AccountId) -> Result<ClaimOutcome> {
        account::claim_token(&self.writer, id, account).await
    }

    async fn account_tokens(&self, account: AccountId) -> Result<Vec<Token>> {
        account::account_tokens(&self.reader, account).await
    }

    async fn token(&self, id: TokenId) -> Result<Option<Token>> {
        account::token(&self.reader, id).await
    }

    async fn resolve_token(&self, secret_sha256: &str) -> Result<Option<(Token, Option<Account>)>> {
        account::resolve_token(&self.reader, &self.writer, secret_sha256).await
    }

    async fn revoke_token(&self, id: TokenId) -> Result<bool> {
        account::revoke_token(&self.writer, id).await
    }

    async fn forget_unclaimed_tokens(
        &self,
        before: chrono::DateTime<chrono::Utc>,
        keep: u64,
    ) -> Result<u64> {
        account::forget_unclaimed_tokens(&self.writer, before, keep).await
    }

    async fn instance_secret(&self, name: &str, fresh: &str) -> Result<String> {
        account::instance_secret(&self.writer, name, fresh).await
    }

    async fn put_login_request(&self, request: &LoginRequest, max_pending: u64) -> Result<()> {
        session::put_login_request(&self.writer, request, max_pending).await
    }

    async fn take_login_request(&self, state_hash: &str) -> Result<Option<LoginRequest>> {
        session::take_login_request(&self.writer, state_hash).await
    }

    async fn create_session(&self, new: &NewSession) -> Result<()> {
        session::create_session(&self.writer, new).await
    }

    async fn session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<Option<SessionRecord>> {
        session::session(&self.reader, id_hash, now).await
    }

    async fn end_session(&self, id_hash: &str) -> Result<Option<EndedSession>> {
        session::end_session(&self.writer, id_hash).await
    }

    async fn annotate(
        &self,
        new: &NewAnnotation,
        changes: &[TagChange],
    ) -> Result<AnnotationOutcome> {
        annotation::annotate(&self.writer, new, changes).await
    }

    async fn annotation(&self, id: AnnotationId) -> Result<Option<Annotation>> {
        annotation::annotation(&self.reader, id).await
    }

    async fn edit_annotation(
        &self,
        id: AnnotationId,
        changes: &[TagChange],
    ) -> Result<AnnotationOutcome> {
        annotation::edit_annotation(&self.writer, id, changes).await
    }

    async fn delete_annotation(&self, id: AnnotationId) -> Result<bool> {
        annotation::delete_annotation(&self.writer, id).await
    }

    async fn picture_annotations(
        &self,
        ids: &[PictureId],
    ) -> Result<HashMap<PictureId, Vec<Annotation>>> {
        annotation::picture_annotations(&self.reader, ids).await
    }

    async fn create_report(&self, new: &NewReport) -> Result<Report> {
        report::create_report(&self.writer, new).await
    }

    async fn report(&self, id: ReportId) -> Result<Option<Report>> {
        report::report(&self.reader, id).await
    }

    async fn update_report(&self, id: ReportId, change: &ReportChange) -> Result<Option<Report>> {
        report::update_report(&self.writer, id, change).await
    }

    async fn list_reports(&self, query: &ReportQuery) -> Result<Vec<Report>> {
        report::list_reports(&self.reader, query).await
    }

    async fn report_counts(&self) -> Result<Vec<ReportCount>> {
        report::report_counts(&self.reader).await
    }

    async fn instance_stats(&self) -> Result<crate::InstanceStats> {
        stats::instance_stats(&self.reader).await
    }

    async fn page_texts(&self, name: &str) -> Result<Vec<crate::PageText>> {
        page::page_texts(&self.reader, name).await
    }

    async fn page_names(&self) -> Result<Vec<String>> {
        page::page_names(&self.reader).await
    }

    async fn save_page(&self, name: &str, lang: &str, content: &str) -> Result<()> {
        page::save_page(&self.writer, name, lang, content).await
    }

    async fn delete_page(&self, name: &str, lang: &str) -> Result<bool> {
        page::delete_page(&self.writer, name, lang).await
    }

    async fn publish_page_change(
        &self,
        name: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool> {
        page::publish_page_change(&self.writer, name, at).await
    }

    async fn excluded_areas(&self, scope: AreaScope) -> Result<Vec<ExcludedArea>> {
        excluded::list(&self.reader, scope).await
    }

    async fn add_excluded_area(&self, area: &NewExcludedArea) -> Result<ExcludedArea> {
        excluded::add(&self.writer, area).await
    }

    async fn replace_general_areas(&self, areas: &[NewExcludedArea]) -> Result<Vec<ExcludedArea>> {
        excluded::replace_general(&self.writer, areas).await
    }

    async fn delete_excluded_area(
        &self,
        id: ExcludedAreaId,
        owner: Option<AccountId>,
    ) -> Result<bool> {
        excluded::delete(&self.writer, id, owner).await
    }

    async fn exclusion_at(
        &self,
        lon: f64,
        lat: f64,
        account: Option<AccountId>,
    ) -> Result<Option<Exclusion>> {
        excluded::exclusion_at(&self.reader, lon, lat, account).await
    }

    async fn create_upload_set(&self, spec: NewUploadSet) -> Result<UploadSet> {
        upload::create_upload_set(&self.writer, spec).await
    }

    async fn upload_set(&self, id: UploadSetId) -> Result<Option<UploadSet>> {
        upload::upload_set(&self.reader, id).await
    }

    async fn upload_set_files(&self, id: UploadSetId) -> Result<Vec<UploadFile>> {
        upload::upload_set_files(&self.reader, id).await
    }

    async fn upload_set_items_status(&self, id: UploadSetId) -> Result<ItemsStatus> {
        upload::upload_set_items_status(&self.reader, id).await
    }

    async fn upload_set_sequences(&self, id: UploadSetId) -> Result<Vec<SequenceSummary>> {
        sequence::upload_set_sequences(&self.reader, id).await
    }

    async fn complete_upload_set(&self, id: UploadSetId) -> Result<Option<UploadSet>> {
        upload::complete_upload_set(&self.writer, id).await
    }

    async fn delete_upload_set(&self, id: UploadSetId) -> Result<bool> {
        upload::delete_upload_set(&self.writer, id).await
    }

    async fn pictures_by_md5(&self, md5: &str) -> Result<Vec<(PictureId, Option<UploadSetId>)>> {
        picture::pictures_by_md5(&self.reader, md5).await
    }

    async fn record_rejection(&self, file: UploadFile) -> Result<()> {
        upload::record_rejection(&self.writer, file).await
    }

    async fn insert_picture(&self, picture: NewPicture, file: UploadFile) -> Result<InsertOutcome> {
        upload::insert_picture(&self.writer, picture, file).await
    }

    async fn picture(&self, id: PictureId) -> Result<Option<Picture>> {
        picture::picture(&self.reader, id).await
    }

    async fn upload_set_pictures(&self, id: UploadSetId) -> Result<Vec<Picture>> {
        picture::upload_set_pictures(&self.reader, id).await
    }

    async fn set_picture_status(
        &self,
        id: PictureId,
        status: PictureStatus,
        error: Option<&str>,
    ) -> Result<()> {
        picture::set_picture_status(&self.writer, id, status, error).await
    }

    async fn transition_picture(
        &self,
        id: PictureId,
        from: &[PictureStatus],
        to: PictureStatus,
        error: Option<&str>,
    ) -> Result<bool> {
        picture::transition_picture(&self.writer, id, from, to, error).await
    }

    async fn remove_picture(&self, id: PictureId) -> Result<()> {
        picture::remove_picture(&self.writer, id).await
    }

    async fn apply_dispatch(&self, id: UploadSetId, plan: DispatchPlan) -> Result<Vec<SequenceId>> {
        sequence::apply_dispatch(&self.writer, id, plan).await
    }

    async fn edit_sequence(
        &self,
        id: SequenceId,
        edit: &SequenceEdit,
        arrange: Option<&Arrange>,
    ) -> Result<Option<Sequence>> {
        edit::edit_sequence(&self.writer, id, edit, arrange).await
    }

    async fn edit_picture(
        &self,
        id: PictureId,
        edit: &PictureEdit,
        arrange: Option<&Arrange>,
    ) -> Result<Option<Picture>> {
        edit::edit_picture(&self.writer, id, edit, arrange).await
    }

    async fn delete_sequence(&self, id: SequenceId) -> Result<bool> {
        edit::delete_sequence(&self.writer, id).await
    }

    async fn delete_picture(&self, id: PictureId, arrange: &Arrange) -> Result<bool> {
        edit::delete_picture(&self.writer, id, arrange).await
    }

    async fn sequence(&self, id: SequenceId) -> Result<Option<Sequence>> {
        sequence::sequence(&self.reader, id).await
    }

    async fn list_sequences(&self, query: &SequenceQuery) -> Result<Page<Sequence>> {
        sequence::list_sequences(&self.reader, query).await
    }

    async fn account_summary(&self, id: AccountId, viewer: Viewer) -> Result<AccountSummary> {
        sequence::account_summary(&self.reader, id, viewer).await
    }

    async fn sequence_pictures(&self, id: SequenceId, query: RankQuery) -> Result<Vec<Picture>> {
        picture::sequence_pictures(&self.reader, id, query).await
    }

    async fn sequence_rank_bounds(
        &self,
        id: SequenceId,
        viewer: Viewer,
    ) -> Result<Option<(i64, i64)>> {
        picture::sequence_rank_bounds(&self.reader, id, viewer).await
    }

    async fn sequence_items_status(&self, id: SequenceId) -> Result<ItemsStatus> {
        sequence::sequence_items_status(&self.reader, id).await
    }

    async fn sequence_neighbours(
        &self,
        id: SequenceId,
        rank: i64,
        viewer: Viewer,
    ) -> Result<(Option<Picture>, Option<Picture>)> {
        picture::sequence_neighbours(&self.reader, id, rank, viewer).await
    }

    async fn nearby_pictures(&self, query: &NearbyQuery) -> Result<Vec<Picture>> {
        picture::nearby_pictures(&self.reader, query).await
    }

    async fn search_pictures(&self, query: &PictureQuery) -> Result<Page<Picture>> {
        search::search_pictures(&self.reader, query).await
    }

    async fn sequence_semantics(
        &self,
        ids: &[SequenceId],
    ) -> Result<HashMap<SequenceId, Vec<SemanticTag>>> {
        semantics::sequence_semantics(&self.reader, ids).await
    }

    async fn picture_semantics(
        &self,
        ids: &[PictureId],
    ) -> Result<HashMap<PictureId, Vec<SemanticTag>>> {
        semantics::picture_semantics(&self.reader, ids).await
    }

    async fn extent(&self) -> Result<Extent> {
        search::extent(&self.reader).await
    }

    async fn map_sequences(&self, query: &MapQuery) -> Result<Vec<MapSequence>> {
        let redraw = self.lines.redraw(&self.reader, &self.writer);
        match tokio::time::timeout(LINE_REDRAW_WAIT, redraw).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => warn!(error = %e, "map read from sequence lines not redrawn"),
            Err(_) => info!("map read from sequence lines still being redrawn"),
        }
        map::map_sequences(&self.reader, query).await
    }

    async fn map_pictures(&self, query: &MapQuery) -> Result<Vec<MapPicture>> {
        map::map_pictures(&self.reader, query).await
    }

    async fn picture_grid(&self) -> Result<Vec<GridCell>> {
        map::picture_grid(&self.reader).await
    }

    async fn data_version(&self) -> Result<DataVersion> {
        map::data_version(&self.reader).await
    }

    async fn add_peer(&self, api_url: &str, source: PeerSource) -> Result<Peer> {
        federation::add_peer(&self.writer, api_url, source).await
    }

    async fn peers(&self) -> Result<Vec<Peer>> {
        federation::peers(&self.reader).await
    }

    async fn peer(&self, id: PeerId) -> Result<Option<Peer>> {
        federation::peer(&self.reader, id).await
    }

    async fn peer_by_url(&self, api_url: &str) -> Result<Option<Peer>> {
        federation::peer_by_url(&self.reader, api_url).await
    }

    async fn remove_peer(&self, id: PeerId) -> Result<bool> {
        federation::remove_peer(&self.writer, id).await
    }

    async fn set_peer_paused(&self, id: PeerId, paused: bool) -> Result<bool> {
        federation::set_peer_paused(&self.writer, id, paused).await
    }

    async fn claim_harvest(&self, id: PeerId, claim: &HarvestClaim) -> Result<bool> {
        federation::claim_harvest(&self.writer, id, claim).await
    }

    async fn renew_harvest(&self, id: PeerId, claim: &HarvestClaim) -> Result<bool> {
        federation::renew_harvest(&self.writer, id, claim).await
    }

    async fn release_harvest(&self, id: PeerId, claim: &HarvestClaim) -> Result<()> {
        federation::release_harvest(&self.writer, id, claim).await
    }

    async fn start_harvest(&self, id: PeerId, at: DateTime<Utc>) -> Result<()> {
        federation::start_harvest(&self.writer, id, at).await
    }

    async fn finish_harvest(
        &self,
        id: PeerId,
        claim: Option<&HarvestClaim>,
        end: &HarvestEnd,
    ) -> Result<()> {
        federation::finish_harvest(&self.writer, id, claim, end).await
    }

    async fn remote_collection_updated(
        &self,
        peer: PeerId,
        id: SequenceId,
    ) -> Result<Option<DateTime<Utc>>> {
        federation::remote_collection_updated(&self.reader, peer, id).await
    }

    async fn collection_holder(&self, id: SequenceId) -> Result<Option<Holder>> {
        federation::collection_holder(&self.reader, id).await
    }

    async fn record_skip(
        &self,
        peer: PeerId,
        id: SequenceId,
        skip: Skip,
        progress: &HarvestProgress,
    ) -> Result<()> {
        federation::record_skip(&self.writer, peer, id, skip, progress).await
    }

    async fn released_skips(&self, peer: PeerId, limit: u32) -> Result<Vec<SequenceId>> {
        federation::released_skips(&self.reader, peer, limit).await
    }

    async fn apply_remote_collection(
        &self,
        peer: PeerId,
        collection: &RemoteCollection,
        items: &[RemoteItem],
        progress: &HarvestProgress,
    ) -> Result<ApplyOutcome> {
        federation::apply_remote_collection(&self.writer, peer, collection, items, progress).await
    }

    async fn remove_remote_collection(
        &self,
        peer: PeerId,
        removal: &RemoteRemoval,
        progress: &HarvestProgress,
    ) -> Result<bool> {
        federation::remove_remote_collection(&self.writer, peer, removal, progress).await
    }

    async fn save_harvest_progress(&self, peer: PeerId, progress: &HarvestProgress) -> Result<()> {
        federation::save_harvest_progress(&self.writer, peer, progress).await
    }

    async fn enqueue_job(&self, kind: JobKind, target: &str) -> Result<()> {
        let mut conn = self
            .writer
            .acquire()
            .await
            .map_err(Error::db("enqueue job"))?;
        job::enqueue(&mut conn, kind, target).await
    }

    async fn claim_job(&self, lease: Duration) -> Result<Option<Job>> {
        job::claim(&self.writer, lease).await
    }

    async fn renew_job(&self, claimed: &Job, lease: Duration) -> Result<()> {
        job::renew(&self.writer, claimed, lease).await
    }

    async fn release_all_jobs(&self) -> Result<u64> {
        job::release_all(&self.writer).await
    }

    async fn release_job(&self, claimed: &Job) -> Result<()> {
        job::release(&self.writer, claimed).await
    }

    async fn finish_job(&self, claimed: &Job) -> Result<()> {
        job::finish(&self.writer, claimed).await
    }

    async fn retry_job(&self, claimed: &Job, error: &str, delay: Duration) -> Result<()> {
        job::retry(&self.writer, claimed, error, delay).await
    }

    async fn pending_jobs(&self) -> Result<i64> {
        job::pending(&self.reader).await
    }

    async fn close(&self) {
        SqliteCatalog::close(self).await;
    }
}
