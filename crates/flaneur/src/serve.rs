//! `flaneur serve`: opens the storage, starts the picture workers (unless told not to) and
//! the harvests of its peers, and serves the API until Ctrl-C or SIGTERM.
//!
//! Shutdown is graceful: the listener stops accepting, in-flight requests (uploads included)
//! run to their end, and each worker finishes the job it holds; after the grace period, the
//! requests still running are cut off and the jobs still running are given back to the queue.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use flaneur_api::{AppState, AuthSettings, LoginSettings, PictureReads, WebSettings};
use flaneur_service::Services;
use flaneur_service::edit::EditSettings;
use flaneur_service::tile::MapState;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::Misuse;
use crate::config::ConfigArgs;
use crate::federation::{FederationArgs, FederationConfig};
use crate::instance::InstanceArgs;
use crate::jobs::{JobArgs, Workers};
use crate::login::LoginArgs;
use crate::logs::LogArgs;
use crate::schedule::Harvests;
use crate::storage::StorageArgs;

/// Options of `flaneur serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "FLANEUR_LISTEN", default_value = "127.0.0.1:5000")]
    listen: SocketAddr,
    /// Where the catalog and the pictures are.
    #[command(flatten)]
    storage: StorageArgs,
    /// How picture files reach clients: `proxy` streams them through the API; `redirect`
    /// sends clients to a time-limited address of the S3 picture store for pictures anyone
    /// may see.
    #[arg(long, env = "FLANEUR_PICTURE_READS", default_value = "proxy")]
    picture_reads: PictureReadMode,
    /// How long an address given by `--picture-reads redirect` stays valid, in seconds.
    #[arg(
        long,
        env = "FLANEUR_PICTURE_URL_TTL_SECS",
        default_value_t = 3600,
        value_parser = clap::value_parser!(u64).range(2..=604_800)
    )]
    picture_url_ttl_secs: u64,
    /// The picture workers of this process.
    #[command(flatten)]
    jobs: JobArgs,
    /// Serve the API only, with no picture workers whatever `--workers` says: jobs wait for
    /// `flaneur worker` processes.
    #[arg(long, env = "FLANEUR_NO_WORKERS")]
    no_workers: bool,
    /// Run as a catalog taking no contributions: uploads, changes and deletions of pictures
    /// and sequences, annotations and reports are refused (403), and no picture workers run.
    /// Accounts, logins and administration stay.
    #[arg(long, env = "FLANEUR_CATALOG_ONLY")]
    catalog_only: bool,
    /// Build links from the X-Forwarded-Proto and X-Forwarded-Host headers: set it when a
    /// reverse proxy of yours sets them, never when clients reach the server directly.
    #[arg(long, env = "FLANEUR_TRUST_FORWARDED_HEADERS")]
    trust_forwarded_headers: bool,
    /// Refuse uploads without an API token (401); otherwise anonymous uploads belong to the
    /// default account.
    #[arg(long, env = "API_FORCE_AUTH_ON_UPLOAD")]
    force_auth_on_upload: bool,
    /// Anyone may make an account at the login provider: `logged-only` would hide nothing, so
    /// it is refused (400) wherever a visibility is set, and not offered in
    /// `/api/configuration`.
    #[arg(long, env = "API_REGISTRATION_IS_OPEN")]
    registration_is_open: bool,
    /// Accounts must accept the terms of service (the `terms-of-service` page) before
    /// uploading (401 until then), and logins lead to the page asking it first.
    #[arg(long, env = "API_ENFORCE_TOS_ACCEPTANCE")]
    enforce_tos_acceptance: bool,
    /// Whether a logged-in account may change the order and headings of others' sequences and
    /// the heading, capture time and place of their pictures, when the owner's account does
    /// not say (unset: it may); `false` leaves that to owners and administrators. Tags are
    /// open to every logged-in account either way.
    #[arg(long, env = "FLANEUR_COLLABORATIVE_METADATA")]
    collaborative_metadata: Option<bool>,
    /// How the instance presents itself.
    #[command(flatten)]
    instance: InstanceArgs,
    /// Largest page of a listing or search answered, in MiB of documents: a page reaching it
    /// ends early, its `next` link leading on from its last document. Documents harvested
    /// from peers are the large ones.
    #[arg(
        long,
        env = "FLANEUR_MAX_PAGE_MB",
        default_value_t = (flaneur_api::DEFAULT_MAX_PAGE_BYTES >> 20) as u64,
        value_parser = clap::value_parser!(u64).range(1..=1024)
    )]
    max_page_mb: u64,
    /// Memory for map tiles kept between requests, in MiB; 0 draws every tile afresh.
    #[arg(long, env = "FLANEUR_TILE_CACHE_MB", default_value_t = 64)]
    tile_cache_mb: usize,
    /// Folder holding the built web front-end (`npm run build` in the repository's `web/`).
    #[arg(long, env = "FLANEUR_WEB_DIR", default_value = "web/dist")]
    web_dir: PathBuf,
    /// Address of a MapLibre style for the web map's background, such as a vector tile
    /// provider's; without it, the map shows land outlines served by this instance, offline.
    #[arg(long, env = "FLANEUR_BASEMAP_STYLE")]
    basemap_style: Option<String>,
    /// Browser login.
    #[command(flatten)]
    login: LoginArgs,
    /// The other instances harvested.
    #[command(flatten)]
    federation: FederationArgs,
    /// Logs.
    #[command(flatten)]
    logs: LogArgs,
    /// The configuration file.
    #[command(flatten)]
    config: ConfigArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum PictureReadMode {
    Proxy,
    Redirect,
}

/// How picture files are answered, for the start-up log line.
fn reads_shown(args: &ServeArgs) -> String {
    match args.picture_reads {
        PictureReadMode::Proxy => "proxy".to_owned(),
        PictureReadMode::Redirect => {
            format!("redirect (addresses valid {} s)", args.picture_url_ttl_secs)
        }
    }
}

/// Runs the instance until a shutdown signal.
///
/// # Errors
/// Fails when the storage or the listening address cannot be opened.
pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    args.logs.init();

    // 1. Storage, once the whole configuration is known to be usable.
    let info = args.instance.to_info()?;
    let federation = args.federation.to_config(args.listen)?;
    let login_settings = args.login.settings()?;
    let web = WebSettings {
        dir: args.web_dir.clone(),
        basemap_style: args
            .basemap_style
            .clone()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty()),
    };
    if args.picture_reads == PictureReadMode::Redirect && !args.storage.has_picture_addresses()? {
        return Err(Misuse(REDIRECT_NEEDS_S3.to_owned()).into());
    }
    let mut storage = args.storage.open().await?;
    storage.prepare_staging()?;
    let picture_reads = picture_reads(
        args.picture_reads,
        args.picture_url_ttl_secs,
        &*storage.blobs,
    )
    .await?;
    let mut services = Services::new(
        storage.catalog.clone(),
        storage.blobs.clone(),
        storage.staging_dir.clone(),
    );
    services.accounts = services
        .accounts
        .clone()
        .with_max_unclaimed(args.login.max_pending_logins());
    let login = match login_settings {
        Some(settings) => {
            let login = flaneur_service::login::Login::new(settings, storage.catalog.clone())
                .await
                .map_err(Misuse)?;
            login
                .adopt_kind_keyed_identities()
                .await
                .context("cannot move the login identities to their provider's address")?;
            Some(login)
        }
        None => None,
    };
    let tile_cache_bytes = args.tile_cache_mb.saturating_mul(1 << 20);
    services.map = Arc::new(MapState::new(tile_cache_bytes));
    let auth = AuthSettings {
        force_auth_on_upload: args.force_auth_on_upload,
        enforce_tos_acceptance: args.enforce_tos_acceptance,
        login: login.as_ref().map(|login| LoginSettings {
            profile_url: args.login.profile_url().or_else(|| login.profile_url()),
            registration_is_open: args.registration_is_open,
            enforce_tos_acceptance: args.enforce_tos_acceptance,
        }),
        provider: login,
        cookie_secure: args.login.cookie_secure().forced(),
        login_rate: Arc::new(flaneur_api::RateLimit::per_minute(
            args.login.login_rate_per_minute(),
        )),
        ..AuthSettings::default()
    };
    services.editing = EditSettings {
        collaborative_metadata: args.collaborative_metadata,
        registration_is_open: args.registration_is_open,
    };

    // 2. Workers. One stop request ends both them and the HTTP server, so that the grace of
    //    the jobs runs while the last requests finish.
    // A catalog takes no uploads, so it has no pictures to process.
    let workers = if args.no_workers || args.catalog_only {
        0
    } else {
        args.jobs.count()
    };
    let stop = CancellationToken::new();
    crate::schedule::declare_peers(&*storage.catalog, &federation.peers).await?;
    let worker_tasks = Workers::start(&services, workers, args.jobs.timing(), &stop);
    let harvests = Harvests::start(storage.catalog.clone(), federation.limits(), &stop);
    tokio::spawn({
        let stop = stop.clone();
        async move {
            crate::shutdown::shutdown_signal().await;
            stop.cancel();
        }
    });

    // 3. HTTP.
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let local = listener
        .local_addr()
        .context("cannot read the listening address")?;
    info!(
        listen = %local,
        catalog = %storage.catalog_shown,
        pictures = %storage.blobs_shown,
        picture_reads = %reads_shown(&args),
        config = %args.config.shown(),
        workers,
        lease_secs = args.jobs.timing().lease.as_secs(),
        tile_cache_mb = args.tile_cache_mb,
        max_page_mb = args.max_page_mb,
        "flaneur is serving; API at http://{local}/api"
    );
    if args.catalog_only {
        info!("catalog only: contributions are refused and no picture workers run");
    } else if workers == 0 {
        info!("no workers in this process: jobs wait for flaneur worker processes");
    }
    log_peers(&federation);
    if !web.is_built() {
        warn!(
            web_dir = %web.dir.display(),
            fix = "npm ci && npm run build in web/, or --web-dir",
            "web front-end not built; its pages say so, the API works"
        );
    }
    let state = AppState {
        services,
        info: Arc::new(info),
        trust_forwarded_headers: args.trust_forwarded_headers,
        web: Arc::new(web),
        picture_reads,
        auth: Arc::new(auth),
        is_catalog_only: args.catalog_only,
        max_page_bytes: usize::try_from(args.max_page_mb << 20).unwrap_or(usize::MAX),
    };
    let app = axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
        std::net::SocketAddr,
    >(flaneur_api::app(state));
    let server = axum::serve(listener, app).with_graceful_shutdown(stop.clone().cancelled_owned());
    // Requests still running get the grace period too: a client gone quiet mid-upload would
    // otherwise hold the stop for as long as its connection stays open. Those cut off are
    // what a crash would lose, and their clients send them again.
    let grace = args.jobs.timing().grace;
    let grace_over = async {
        stop.cancelled().await;
        tokio::time::sleep(grace).await;
    };
    let served = tokio::select! {
        served = std::future::IntoFuture::into_future(server) => served,
        () = grace_over => {
            warn!(
                grace_secs = grace.as_secs(),
                "requests still running at the end of the grace period; cut off"
            );
            Ok(())
        }
    };

    // 4. Workers finish or give back their jobs, then the catalog is closed cleanly.
    stop.cancel();
    info!("stopping workers");
    worker_tasks.wait().await;
    harvests.wait().await;
    storage.close().await;
    served.context("http server failed")?;
    info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Says which peers were configured and how they are harvested.
fn log_peers(federation: &FederationConfig) {
    if federation.peers.is_empty() {
        return;
    }
    info!(
        peers = %federation.peers.join(" "),
        harvest_interval_secs = federation.harvest_interval.as_secs(),
        harvest_max_answer_bytes = federation.max_answer_bytes,
        harvest_timeout_secs = federation.request_timeout.as_secs(),
        harvest_max_pages = federation.max_pages,
        "peers configured; harvested now and every interval after"
    );
}

const REDIRECT_NEEDS_S3: &str = "--picture-reads redirect needs an S3 picture store (--fs-url \
     s3://…): a folder's files can only be streamed by the API";

/// The read mode of the picture routes. Redirects need a store with addresses of its own:
/// asking for them over a folder is a mistake worth stopping for.
async fn picture_reads(
    mode: PictureReadMode,
    url_ttl_secs: u64,
    blobs: &dyn flaneur_store::BlobStore,
) -> anyhow::Result<PictureReads> {
    if mode == PictureReadMode::Proxy {
        return Ok(PictureReads::Proxy);
    }
    let url_ttl = std::time::Duration::from_secs(url_ttl_secs);
    // Signing is local: this sends nothing.
    let probe = blobs
        .presign_read("permanent/probe.jpg", url_ttl)
        .await
        .context("cannot sign picture addresses")?;
    if probe.is_none() {
        return Err(Misuse(REDIRECT_NEEDS_S3.to_owned()).into());
    }
    Ok(PictureReads::Redirect { url_ttl })
}
