//! The catalog in PostgreSQL with PostGIS, which several processes (servers and workers on
//! several machines) share.
//!
//! Every method behaves as the SQLite catalog's does: same results, same orders, same errors,
//! each one atomic. What differs is what several processes need: the schema is migrated under
//! an advisory lock, the job queue hands each job to one worker at a time with
//! `FOR UPDATE SKIP LOCKED` and a lease, and a stale worker can no longer act on a job it lost.

mod account;
mod annotation;
mod codec;
mod edit;
mod excluded;
mod federation;
mod filter;
mod job;
mod listing;
mod map;
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
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection};
use tracing::info;

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

/// How long a request waits for a free connection of the pool before it fails. Short, so that
/// with the database down a client hears "unavailable, retry" in seconds instead of hanging.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Key of the advisory lock the schema migrations run under: processes starting at once wait
/// for the first one to migrate instead of racing it. An arbitrary constant, the same in every
/// version.
const MIGRATION_LOCK: i64 = 0x666c_616e_6575_7201;

/// `(version, name, SQL)` of every migration, oldest first. Never edit one that shipped: add
/// a new one.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "catalog",
        include_str!("../migrations/postgres/0001_catalog.sql"),
    ),
    (
        2,
        "map",
        include_str!("../migrations/postgres/0002_map.sql"),
    ),
    (
        3,
        "accounts_and_tokens",
        include_str!("../migrations/postgres/0003_accounts_and_tokens.sql"),
    ),
    (
        4,
        "sessions",
        include_str!("../migrations/postgres/0004_sessions.sql"),
    ),
    (
        5,
        "reports",
        include_str!("../migrations/postgres/0005_reports.sql"),
    ),
    (
        6,
        "excluded_areas",
        include_str!("../migrations/postgres/0006_excluded_areas.sql"),
    ),
    (
        7,
        "sequence_figures_over_reach",
        include_str!("../migrations/postgres/0007_sequence_figures_over_reach.sql"),
    ),
    (
        8,
        "annotations",
        include_str!("../migrations/postgres/0008_annotations.sql"),
    ),
    (
        9,
        "pages",
        include_str!("../migrations/postgres/0009_pages.sql"),
    ),
    (
        10,
        "federation",
        include_str!("../migrations/postgres/0010_federation.sql"),
    ),
    (
        11,
        "harvest_stamps",
        include_str!("../migrations/postgres/0011_harvest_stamps.sql"),
    ),
    (
        12,
        "harvest_conflicts",
        include_str!("../migrations/postgres/0012_harvest_conflicts.sql"),
    ),
    (
        13,
        "harvest_leases",
        include_str!("../migrations/postgres/0013_harvest_leases.sql"),
    ),
    (
        14,
        "origin_removals",
        include_str!("../migrations/postgres/0014_origin_removals.sql"),
    ),
    (
        15,
        "harvest_skips",
        include_str!("../migrations/postgres/0015_harvest_skips.sql"),
    ),
];

/// How a [`PgCatalog`] connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgCatalogOptions {
    /// Most connections the catalog holds open at once.
    pub max_connections: u32,
}

impl Default for PgCatalogOptions {
    fn default() -> Self {
        PgCatalogOptions {
            max_connections: 10,
        }
    }
}

/// The catalog in a PostgreSQL database with PostGIS.
#[derive(Debug, Clone)]
pub struct PgCatalog {
    pool: PgPool,
    default_account: (AccountId, String),
    lines: Arc<sequence_line::LineRedraws>,
}

impl PgCatalog {
    /// Connects to the database at `url` (`postgresql://user@host:port/database`) and brings
    /// its schema up to date.
    ///
    /// # Errors
    /// Fails when the URL is malformed, the database cannot be reached, or a migration fails.
    pub async fn connect(url: &str, options: PgCatalogOptions) -> Result<PgCatalog> {
        let connect: PgConnectOptions = url.parse().map_err(Error::db("parse database URL"))?;
        let applied = migrate(&connect).await?;
        if applied > 0 {
            info!(migrations = applied, "catalog schema migrated");
        }
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(connect)
            .await
            .map_err(Error::db("open catalog"))?;
        let default_account = account::ensure_default_account(&pool).await?;
        // Lines marked stale by an upgrade or by writes just before a stop are redrawn in the
        // background rather than by the first map read.
        let lines = Arc::new(sequence_line::LineRedraws::default());
        lines.start(&pool);
        Ok(PgCatalog {
            pool,
            default_account,
            lines,
        })
    }

    /// Closes the pool, waiting for running statements.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Applies the migrations the database has not seen yet, on a connection of its own holding
/// the migration lock; returns how many ran. The lock goes with the connection, whatever
/// happens.
pub(crate) async fn migrate(options: &PgConnectOptions) -> Result<usize> {
    let mut conn = options
        .connect()
        .await
        .map_err(Error::db("connect to migrate"))?;
    let applied = migrate_locked(&mut conn).await;
    let closed = conn.close().await.map_err(Error::db("close migration"));
    let applied = applied?;
    closed?;
    Ok(applied)
}

async fn migrate_locked(conn: &mut PgConnection) -> Result<usize> {
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("take migration lock"))?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version bigint PRIMARY KEY,
            name text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )",
    )
    .execute(&mut *conn)
    .await
    .map_err(Error::db("create migrations table"))?;
    let done: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
        .fetch_all(&mut *conn)
        .await
        .map_err(Error::db("read migrations"))?;
    crate::catalog::refuse_newer_schema(&done, MIGRATIONS)?;

    let mut applied = 0;
    for (version, name, sql) in MIGRATIONS {
        if done.contains(version) {
            continue;
        }
        // Each migration and its bookkeeping row commit together, so a failure mid-way leaves
        // the schema at the previous version.
        let mut tx = conn.begin().await.map_err(Error::db("begin migration"))?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(*sql))
            .execute(&mut *tx)
            .await
            .map_err(Error::db("apply migration"))?;
        sqlx::query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)")
            .bind(version)
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("record migration"))?;
        tx.commit().await.map_err(Error::db("commit migration"))?;
        applied += 1;
    }
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("release migration lock"))?;
    Ok(applied)
}

#[async_trait]
impl Catalog for PgCatalog {
    async fn default_account(&self) -> Result<(AccountId, String)> {
        Ok(self.default_account.clone())
    }

    async fn account_name(&self, id: AccountId) -> Result<Option<String>> {
        account::account_name(&self.pool, id).await
    }

    async fn accounts(&self, limit: usize) -> Result<Vec<(AccountId, String)>> {
        account::accounts(&self.pool, limit).await
    }

    async fn create_account(&self, name: &str, role: Role) -> Result<Account> {
        account::create_account(&self.pool, name, role).await
    }

    async fn account(&self, id: AccountId) -> Result<Option<Account>> {
        account::account(&self.pool, id).await
    }

    async fn account_by_name(&self, name: &str) -> Result<Option<Account>> {
        account::account_by_name(&self.pool, name).await
    }

    async fn upsert_oauth_account(&self, identity: &OauthIdentity, name: &str) -> Result<Account> {
        account::upsert_oauth_account(&self.pool, identity, name).await
    }

    async fn rekey_oauth_provider(&self, from: &str, to: &str) -> Result<u64> {
        account::rekey_oauth_provider(&self.pool, from, to).await
    }

    async fn set_account_role(&self, id: AccountId, role: Role) -> Result<bool> {
        account::set_account_role(&self.pool, id, role).await
    }

    async fn update_account_preferences(
        &self,
        id: AccountId,
        prefs: &AccountPreferences,
    ) -> Result<Option<Account>> {
        account::update_account_preferences(&self.pool, id, prefs).await
    }

    async fn delete_account(&self, id: AccountId) -> Result<bool> {
        account::delete_account(&self.pool, id).await
    }

    async fn create_token(&self, token: NewToken) -> Result<Token> {
        account::create_token(&self.pool, token).await
    }

    async fn claim_token(&self, id: TokenId, account: AccountId) -> Result<ClaimOutcome> {
        account::claim_token(&self.pool, id, account).await
    }

    async fn account_tokens(&self, account: AccountId) -> Result<Vec<Token>> {
        account::account_tokens(&self.pool, account).await
    }

    async fn token(&self, id: TokenId) -> Result<Option<Token>> {
        account::token(&self.pool, id).await
    }

    async fn resolve_token(&self, secret_sha256: &str) -> Result<Option<(Token, Option<Account>)>> {
        account::resolve_token(&self.pool, secret_sha256).await
    }

    async fn revoke_token(&self, id: TokenId) -> Result<bool> {
        account::revoke_token(&self.pool, id).await
    }

    async fn forget_unclaimed_tokens(
        &self,
        before: chrono::DateTime<chrono::Utc>,
        keep: u64,
    ) -> Result<u64> {
        account::forget_unclaimed_tokens(&self.pool, before, keep).await
    }

    async fn instance_secret(&self, name: &str, fresh: &str) -> Result<String> {
        account::instance_secret(&self.pool, name, fresh).await
    }

    async fn put_login_request(&self, request: &LoginRequest, max_pending: u64) -> Result<()> {
        session::put_login_request(&self.pool, request, max_pending).await
    }

    async fn take_login_request(&self, state_hash: &str) -> Result<Option<LoginRequest>> {
        session::take_login_request(&self.pool, state_hash).await
    }

    async fn create_session(&self, new: &NewSession) -> Result<()> {
        session::create_session(&self.pool, new).await
    }

    async fn session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<Option<SessionRecord>> {
        session::session(&self.pool, id_hash, now).await
    }

    async fn end_session(&self, id_hash: &str) -> Result<Option<EndedSession>> {
        session::end_session(&self.pool, id_hash).await
    }

    async fn annotate(
        &self,
        new: &NewAnnotation,
        changes: &[TagChange],
    ) -> Result<AnnotationOutcome> {
        annotation::annotate(&self.pool, new, changes).await
    }

    async fn annotation(&self, id: AnnotationId) -> Result<Option<Annotation>> {
        annotation::annotation(&self.pool, id).await
    }

    async fn edit_annotation(
        &self,
        id: AnnotationId,
        changes: &[TagChange],
    ) -> Result<AnnotationOutcome> {
        annotation::edit_annotation(&self.pool, id, changes).await
    }

    async fn delete_annotation(&self, id: AnnotationId) -> Result<bool> {
        annotation::delete_annotation(&self.pool, id).await
    }

    async fn picture_annotations(
        &self,
        ids: &[PictureId],
    ) -> Result<HashMap<PictureId, Vec<Annotation>>> {
        annotation::picture_annotations(&self.pool, ids).await
    }

    async fn create_report(&self, new: &NewReport) -> Result<Report> {
        report::create_report(&self.pool, new).await
    }

    async fn report(&self, id: ReportId) -> Result<Option<Report>> {
        report::report(&self.pool, id).await
    }

    async fn update_report(&self, id: ReportId, change: &ReportChange) -> Result<Option<Report>> {
        report::update_report(&self.pool, id, change).await
    }

    async fn list_reports(&self, query: &ReportQuery) -> Result<Vec<Report>> {
        report::list_reports(&self.pool, query).await
    }

    async fn report_counts(&self) -> Result<Vec<ReportCount>> {
        report::report_counts(&self.pool).await
    }

    async fn instance_stats(&self) -> Result<crate::InstanceStats> {
        stats::instance_stats(&self.pool).await
    }

    async fn page_texts(&self, name: &str) -> Result<Vec<crate::PageText>> {
        page::page_texts(&self.pool, name).await
    }

    async fn page_names(&self) -> Result<Vec<String>> {
        page::page_names(&self.pool).await
    }

    async fn save_page(&self, name: &str, lang: &str, content: &str) -> Result<()> {
        page::save_page(&self.pool, name, lang, content).await
    }

    async fn delete_page(&self, name: &str, lang: &str) -> Result<bool> {
        page::delete_page(&self.pool, name, lang).await
    }

    async fn publish_page_change(
        &self,
        name: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool> {
        page::publish_page_change(&self.pool, name, at).await
    }

    async fn excluded_areas(&self, scope: AreaScope) -> Result<Vec<ExcludedArea>> {
        excluded::list(&self.pool, scope).await
    }

    async fn add_excluded_area(&self, area: &NewExcludedArea) -> Result<ExcludedArea> {
        excluded::add(&self.pool, area).await
    }

    async fn replace_general_areas(&self, areas: &[NewExcludedArea]) -> Result<Vec<ExcludedArea>> {
        excluded::replace_general(&self.pool, areas).await
    }

    async fn delete_excluded_area(
        &self,
        id: ExcludedAreaId,
        owner: Option<AccountId>,
    ) -> Result<bool> {
        excluded::delete(&self.pool, id, owner).await
    }

    async fn exclusion_at(
        &self,
        lon: f64,
        lat: f64,
        account: Option<AccountId>,
    ) -> Result<Option<Exclusion>> {
        excluded::exclusion_at(&self.pool, lon, lat, account).await
    }

    async fn create_upload_set(&self, spec: NewUploadSet) -> Result<UploadSet> {
        upload::create_upload_set(&self.pool, spec).await
    }

    async fn upload_set(&self, id: UploadSetId) -> Result<Option<UploadSet>> {
        upload::upload_set(&self.pool, id).await
    }

    async fn upload_set_files(&self, id: UploadSetId) -> Result<Vec<UploadFile>> {
        upload::upload_set_files(&self.pool, id).await
    }

    async fn upload_set_items_status(&self, id: UploadSetId) -> Result<ItemsStatus> {
        upload::upload_set_items_status(&self.pool, id).await
    }

    async fn upload_set_sequences(&self, id: UploadSetId) -> Result<Vec<SequenceSummary>> {
        sequence::upload_set_sequences(&self.pool, id).await
    }

    async fn complete_upload_set(&self, id: UploadSetId) -> Result<Option<UploadSet>> {
        upload::complete_upload_set(&self.pool, id).await
    }

    async fn delete_upload_set(&self, id: UploadSetId) -> Result<bool> {
        upload::delete_upload_set(&self.pool, id).await
    }

    async fn pictures_by_md5(&self, md5: &str) -> Result<Vec<(PictureId, Option<UploadSetId>)>> {
        picture::pictures_by_md5(&self.pool, md5).await
    }

    async fn record_rejection(&self, file: UploadFile) -> Result<()> {
        upload::record_rejection(&self.pool, file).await
    }

    async fn insert_picture(&self, picture: NewPicture, file: UploadFile) -> Result<InsertOutcome> {
        upload::insert_picture(&self.pool, picture, file).await
    }

    async fn picture(&self, id: PictureId) -> Result<Option<Picture>> {
        picture::picture(&self.pool, id).await
    }

    async fn upload_set_pictures(&self, id: UploadSetId) -> Result<Vec<Picture>> {
        picture::upload_set_pictures(&self.pool, id).await
    }

    async fn set_picture_status(
        &self,
        id: PictureId,
        status: PictureStatus,
        error: Option<&str>,
    ) -> Result<()> {
        picture::set_picture_status(&self.pool, id, status, error).await
    }

    async fn transition_picture(
        &self,
        id: PictureId,
        from: &[PictureStatus],
        to: PictureStatus,
        error: Option<&str>,
    ) -> Result<bool> {
        picture::transition_picture(&self.pool, id, from, to, error).await
    }

    async fn remove_picture(&self, id: PictureId) -> Result<()> {
        picture::remove_picture(&self.pool, id).await
    }

    async fn apply_dispatch(&self, id: UploadSetId, plan: DispatchPlan) -> Result<Vec<SequenceId>> {
        sequence::apply_dispatch(&self.pool, id, plan).await
    }

    async fn edit_sequence(
        &self,
        id: SequenceId,
        edit: &SequenceEdit,
        arrange: Option<&Arrange>,
    ) -> Result<Option<Sequence>> {
        edit::edit_sequence(&self.pool, id, edit, arrange).await
    }

    async fn edit_picture(
        &self,
        id: PictureId,
        edit: &PictureEdit,
        arrange: Option<&Arrange>,
    ) -> Result<Option<Picture>> {
        edit::edit_picture(&self.pool, id, edit, arrange).await
    }

    async fn delete_sequence(&self, id: SequenceId) -> Result<bool> {
        edit::delete_sequence(&self.pool, id).await
    }

    async fn delete_picture(&self, id: PictureId, arrange: &Arrange) -> Result<bool> {
        edit::delete_picture(&self.pool, id, arrange).await
    }

    async fn sequence(&self, id: SequenceId) -> Result<Option<Sequence>> {
        sequence::sequence(&self.pool, id).await
    }

    async fn list_sequences(&self, query: &SequenceQuery) -> Result<Page<Sequence>> {
        listing::list_sequences(&self.pool, query).await
    }

    async fn account_summary(&self, id: AccountId, viewer: Viewer) -> Result<AccountSummary> {
        listing::account_summary(&self.pool, id, viewer).await
    }

    async fn sequence_pictures(&self, id: SequenceId, query: RankQuery) -> Result<Vec<Picture>> {
        picture::sequence_pictures(&self.pool, id, query).await
    }

    async fn sequence_rank_bounds(
        &self,
        id: SequenceId,
        viewer: Viewer,
    ) -> Result<Option<(i64, i64)>> {
        picture::sequence_rank_bounds(&self.pool, id, viewer).await
    }

    async fn sequence_items_status(&self, id: SequenceId) -> Result<ItemsStatus> {
        sequence::sequence_items_status(&self.pool, id).await
    }

    async fn sequence_neighbours(
        &self,
        id: SequenceId,
        rank: i64,
        viewer: Viewer,
    ) -> Result<(Option<Picture>, Option<Picture>)> {
        picture::sequence_neighbours(&self.pool, id, rank, viewer).await
    }

    async fn nearby_pictures(&self, query: &NearbyQuery) -> Result<Vec<Picture>> {
        search::nearby_pictures(&self.pool, query).await
    }

    async fn search_pictures(&self, query: &PictureQuery) -> Result<Page<Picture>> {
        search::search_pictures(&self.pool, query).await
    }

    async fn sequence_semantics(
        &self,
        ids: &[SequenceId],
    ) -> Result<HashMap<SequenceId, Vec<SemanticTag>>> {
        semantics::sequence_semantics(&self.pool, ids).await
    }

    async fn picture_semantics(
        &self,
        ids: &[PictureId],
    ) -> Result<HashMap<PictureId, Vec<SemanticTag>>> {
        semantics::picture_semantics(&self.pool, ids).await
    }

    async fn extent(&self) -> Result<Extent> {
        search::extent(&self.pool).await
    }

    async fn map_sequences(&self, query: &MapQuery) -> Result<Vec<MapSequence>> {
        map::map_sequences(&self.pool, &self.lines, query).await
    }

    async fn map_pictures(&self, query: &MapQuery) -> Result<Vec<MapPicture>> {
        map::map_pictures(&self.pool, query).await
    }

    async fn picture_grid(&self) -> Result<Vec<GridCell>> {
        map::picture_grid(&self.pool, &self.lines).await
    }

    async fn data_version(&self) -> Result<DataVersion> {
        map::data_version(&self.pool).await
    }

    async fn add_peer(&self, api_url: &str, source: PeerSource) -> Result<Peer> {
        federation::add_peer(&self.pool, api_url, source).await
    }

    async fn peers(&self) -> Result<Vec<Peer>> {
        federation::peers(&self.pool).await
    }

    async fn peer(&self, id: PeerId) -> Result<Option<Peer>> {
        federation::peer(&self.pool, id).await
    }

    async fn peer_by_url(&self, api_url: &str) -> Result<Option<Peer>> {
        federation::peer_by_url(&self.pool, api_url).await
    }

    async fn remove_peer(&self, id: PeerId) -> Result<bool> {
        federation::remove_peer(&self.pool, id).await
    }

    async fn set_peer_paused(&self, id: PeerId, paused: bool) -> Result<bool> {
        federation::set_peer_paused(&self.pool, id, paused).await
    }

    async fn claim_harvest(&self, id: PeerId, claim: &HarvestClaim) -> Result<bool> {
        federation::claim_harvest(&self.pool, id, claim).await
    }

    async fn renew_harvest(&self, id: PeerId, claim: &HarvestClaim) -> Result<bool> {
        federation::renew_harvest(&self.pool, id, claim).await
    }

    async fn release_harvest(&self, id: PeerId, claim: &HarvestClaim) -> Result<()> {
        federation::release_harvest(&self.pool, id, claim).await
    }

    async fn start_harvest(&self, id: PeerId, at: DateTime<Utc>) -> Result<()> {
        federation::start_harvest(&self.pool, id, at).await
    }

    async fn finish_harvest(
        &self,
        id: PeerId,
        claim: Option<&HarvestClaim>,
        end: &HarvestEnd,
    ) -> Result<()> {
        federation::finish_harvest(&self.pool, id, claim, end).await
    }

    async fn remote_collection_updated(
        &self,
        peer: PeerId,
        id: SequenceId,
    ) -> Result<Option<DateTime<Utc>>> {
        federation::remote_collection_updated(&self.pool, peer, id).await
    }

    async fn collection_holder(&self, id: SequenceId) -> Result<Option<Holder>> {
        federation::collection_holder(&self.pool, id).await
    }

    async fn record_skip(
        &self,
        peer: PeerId,
        id: SequenceId,
        skip: Skip,
        progress: &HarvestProgress,
    ) -> Result<()> {
        federation::record_skip(&self.pool, peer, id, skip, progress).await
    }

    async fn released_skips(&self, peer: PeerId, limit: u32) -> Result<Vec<SequenceId>> {
        federation::released_skips(&self.pool, peer, limit).await
    }

    async fn apply_remote_collection(
        &self,
        peer: PeerId,
        collection: &RemoteCollection,
        items: &[RemoteItem],
        progress: &HarvestProgress,
    ) -> Result<ApplyOutcome> {
        federation::apply_remote_collection(&self.pool, peer, collection, items, progress).await
    }

    async fn remove_remote_collection(
        &self,
        peer: PeerId,
        removal: &RemoteRemoval,
        progress: &HarvestProgress,
    ) -> Result<bool> {
        federation::remove_remote_collection(&self.pool, peer, removal, progress).await
    }

    async fn save_harvest_progress(&self, peer: PeerId, progress: &HarvestProgress) -> Result<()> {
        federation::save_harvest_progress(&self.pool, peer, progress).await
    }

    async fn enqueue_job(&self, kind: JobKind, target: &str) -> Result<()> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(Error::db("enqueue job"))?;
        job::enqueue(&mut conn, kind, target).await
    }

    async fn claim_job(&self, lease: Duration) -> Result<Option<Job>> {
        job::claim(&self.pool, lease).await
    }

    async fn renew_job(&self, claimed: &Job, lease: Duration) -> Result<()> {
        job::renew(&self.pool, claimed, lease).await
    }

    /// Frees only the jobs whose lease already ran out: other processes sharing the database
    /// may be running the others. A job held by a crashed process is taken up when its lease
    /// runs out, by whichever worker claims next.
    async fn release_all_jobs(&self) -> Result<u64> {
        job::release_expired(&self.pool).await
    }

    async fn release_job(&self, claimed: &Job) -> Result<()> {
        job::release(&self.pool, claimed).await
    }

    async fn finish_job(&self, claimed: &Job) -> Result<()> {
        job::finish(&self.pool, claimed).await
    }

    async fn retry_job(&self, claimed: &Job, error: &str, delay: Duration) -> Result<()> {
        job::retry(&self.pool, claimed, error, delay).await
    }

    async fn pending_jobs(&self) -> Result<i64> {
        job::pending(&self.pool).await
    }

    async fn close(&self) {
        PgCatalog::close(self).await;
    }
}
