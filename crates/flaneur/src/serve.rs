//! `flaneur serve`: opens the embedded storage in a data folder, starts the picture workers
//! and serves the API until Ctrl-C or SIGTERM.
//!
//! Shutdown is graceful: the listener stops accepting, in-flight requests (uploads included)
//! run to their end, and each worker finishes the job it holds.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use flaneur_api::{AppState, PictureReads, WebSettings};
use flaneur_service::Services;
use flaneur_service::tile::MapState;
use flaneur_store::{BlobLocation, Catalog, ProcessEnv, SqliteCatalog};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::instance::InstanceArgs;

/// Options of `flaneur serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "FLANEUR_LISTEN", default_value = "127.0.0.1:5000")]
    listen: SocketAddr,
    /// Folder holding the catalog (SQLite) and the pictures.
    #[arg(long, env = "FLANEUR_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    /// Where the pictures are: a folder path, `file:///folder`, or
    /// `s3://[ACCESS_KEY:SECRET@]bucket[/prefix]?endpoint_url=<urlencoded>&region=<region>`
    /// (credentials otherwise from `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, or their
    /// `_FILE` variants) [default: the folder `pictures` of the data folder].
    #[arg(long, env = "FS_URL", hide_env_values = true)]
    fs_url: Option<String>,
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
    /// Number of picture workers inside this process (0: none; jobs wait for another process).
    #[arg(long, env = "FLANEUR_WORKERS")]
    workers: Option<usize>,
    /// Build links from the X-Forwarded-Proto and X-Forwarded-Host headers: set it when a
    /// reverse proxy of yours sets them, never when clients reach the server directly.
    #[arg(long, env = "FLANEUR_TRUST_FORWARDED_HEADERS")]
    trust_forwarded_headers: bool,
    /// How the instance presents itself.
    #[command(flatten)]
    instance: InstanceArgs,
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
    /// Log format: `text` for people, `json` for log collectors.
    #[arg(long, env = "FLANEUR_LOG_FORMAT", default_value = "text")]
    log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum PictureReadMode {
    Proxy,
    Redirect,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    // Colours only for a person watching a terminal, not in files or log collectors.
    let is_terminal = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(is_terminal);
    // A second initialisation (tests running several servers in one process) is harmless.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Runs the instance until a shutdown signal.
///
/// # Errors
/// Fails when the data folder, catalog or listening address cannot be opened.
pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    init_logs(args.log_format);

    // 1. Storage in the data folder.
    let info = args.instance.to_info()?;
    let web = WebSettings {
        dir: args.web_dir.clone(),
        basemap_style: args
            .basemap_style
            .clone()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty()),
    };
    let data_dir = args.data_dir;
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create data folder {}", data_dir.display()))?;
    // One process per data folder: the embedded catalog, the staging folder and the jobs it
    // holds are this process's alone. The lock goes with the process, even on a crash.
    let lock_path = data_dir.join(".lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("cannot open {}", lock_path.display()))?;
    if lock.try_lock().is_err() {
        anyhow::bail!(
            "another flaneur process is using the data folder {}; stop it or give this one \
             another --data-dir",
            data_dir.display()
        );
    }

    let catalog_path = data_dir.join("catalog.sqlite");
    let catalog = SqliteCatalog::open(&catalog_path)
        .await
        .with_context(|| format!("cannot open catalog {}", catalog_path.display()))?;
    let pictures = match &args.fs_url {
        Some(url) => BlobLocation::parse(url, &ProcessEnv).context("--fs-url (FS_URL)")?,
        None => BlobLocation::Folder(data_dir.join("pictures")),
    };
    let pictures_shown = pictures.describe();
    let blobs = flaneur_store::open_location(&pictures)
        .await
        .with_context(|| format!("cannot open the picture store {pictures_shown}"))?;
    let picture_reads =
        picture_reads(args.picture_reads, args.picture_url_ttl_secs, &*blobs).await?;

    // Uploads cut short by a crash left partial files here; none of them was acknowledged.
    let staging_dir = data_dir.join("staging");
    let _ = std::fs::remove_dir_all(&staging_dir);
    std::fs::create_dir_all(&staging_dir)
        .with_context(|| format!("cannot create staging folder {}", staging_dir.display()))?;

    // The embedded catalog belongs to this process alone: jobs still claimed were held by a
    // previous run that crashed, and can start again now.
    let released = catalog
        .release_all_jobs()
        .await
        .context("cannot release stale jobs")?;
    if released > 0 {
        info!(
            jobs = released,
            "jobs interrupted by the previous run are queued again"
        );
    }

    let mut services = Services::new(Arc::new(catalog.clone()), blobs, staging_dir);
    let tile_cache_bytes = args.tile_cache_mb.saturating_mul(1 << 20);
    services.map = Arc::new(MapState::new(tile_cache_bytes));

    // 2. Workers.
    let workers = args.workers.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let stop = CancellationToken::new();
    let mut worker_tasks = Vec::with_capacity(workers);
    for n in 0..workers {
        worker_tasks.push(tokio::spawn(flaneur_service::worker::run(
            services.clone(),
            n,
            stop.clone(),
        )));
    }

    // 3. HTTP.
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let local = listener
        .local_addr()
        .context("cannot read the listening address")?;
    info!(
        listen = %local,
        catalog = %catalog_path.display(),
        pictures = %pictures_shown,
        picture_reads = ?args.picture_reads,
        picture_url_ttl_secs = ?(args.picture_reads == PictureReadMode::Redirect)
            .then_some(args.picture_url_ttl_secs),
        workers,
        tile_cache_mb = args.tile_cache_mb,
        "flaneur is serving; API at http://{local}/api"
    );
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
    };
    let app =
        axum::ServiceExt::<axum::extract::Request>::into_make_service(flaneur_api::app(state));
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("http server failed")?;

    // 4. Workers finish the job they hold, then the catalog is closed cleanly.
    info!("stopping workers");
    stop.cancel();
    for task in worker_tasks {
        if let Err(err) = task.await {
            warn!(error = %err, "worker ended abnormally");
        }
    }
    catalog.close().await;
    drop(lock);
    info!("stopped");
    Ok(ExitCode::SUCCESS)
}

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
        anyhow::bail!(
            "--picture-reads redirect needs an S3 picture store (--fs-url s3://…): a folder's \
             files can only be streamed by the API"
        );
    }
    Ok(PictureReads::Redirect { url_ttl })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    info!("shutdown requested; finishing in-flight requests");
}
