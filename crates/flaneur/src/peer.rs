//! `flaneur peer`: the operator's tools for the peers an instance harvests, working on the
//! catalog directly like `flaneur account` (a running server is not needed, nor stopped: it
//! reads the peers again before each harvest).
//!
//! Peers added here stay until removed; the peers of the configuration (`--peer`) are declared
//! again at each start of `serve`, so removing one of those lasts until the next start.
//!
//! Every command but `add` works on a catalog that exists already: one naming a data folder
//! (or SQLite file) without a catalog is refused, rather than making an empty one there.
//!
//! Exit codes: 0 done, 1 the operation failed (no such peer), 2 misuse (not a peer address,
//! no catalog where the options say).

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};
use flaneur_model::{Peer, PeerSource};
use flaneur_store::Catalog;

use crate::Misuse;
use crate::storage::CatalogArgs;

/// Options of `flaneur peer`.
#[derive(Debug, clap::Args)]
pub struct PeerArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Declares a peer: the next harvest (of `serve`, or `flaneur harvest`) reads its public
    /// catalog.
    Add {
        /// Its API root (`https://host/api`).
        url: String,
        #[command(flatten)]
        storage: CatalogArgs,
    },
    /// Removes a peer and deletes, at once, every item harvested from it; its collections stay
    /// as tombstones, so that catalogs harvesting this instance drop them too.
    Remove {
        /// Its API root.
        url: String,
        #[command(flatten)]
        storage: CatalogArgs,
    },
    /// Suspends the harvests of a peer; what was harvested stays served.
    Pause {
        /// Its API root.
        url: String,
        #[command(flatten)]
        storage: CatalogArgs,
    },
    /// Resumes the harvests of a paused peer.
    Resume {
        /// Its API root.
        url: String,
        #[command(flatten)]
        storage: CatalogArgs,
    },
    /// Lists the peers, tab-separated, after a header line naming the columns: API root,
    /// source (`config` or `admin`), `active` or `paused`, collections, items, last success,
    /// failures in a row, last error, conflicts, and the end of the lease of the pass
    /// harvesting it now (`-` for none).
    List {
        #[command(flatten)]
        storage: CatalogArgs,
    },
}

/// Runs one peer action, writing its result to `out`.
///
/// # Errors
/// Fails when the catalog cannot be opened, the address is not a peer's ([`Misuse`]) or no
/// peer is declared there.
pub async fn run(args: PeerArgs, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let written = match args.action {
        Action::Add { url, storage } => {
            // Refused before the catalog is opened: a misuse, not a failed operation.
            let url = crate::federation::new_peer_url(&url).map_err(Misuse)?;
            let catalog = storage.storage.open_catalog().await?;
            let peer = catalog.add_peer(&url, PeerSource::Admin).await?;
            writeln!(out, "{}\tadded", peer.api_url)
        }
        Action::Remove { url, storage } => {
            let (catalog, peer) = declared(&storage, &url).await?;
            catalog.remove_peer(peer.id).await?;
            writeln!(
                out,
                "{}\tremoved with {} collections and {} items",
                peer.api_url, peer.harvest.nb_collections, peer.harvest.nb_items
            )
        }
        Action::Pause { url, storage } => {
            let (catalog, peer) = declared(&storage, &url).await?;
            catalog.set_peer_paused(peer.id, true).await?;
            writeln!(out, "{}\tpaused", peer.api_url)
        }
        Action::Resume { url, storage } => {
            let (catalog, peer) = declared(&storage, &url).await?;
            catalog.set_peer_paused(peer.id, false).await?;
            writeln!(out, "{}\tactive", peer.api_url)
        }
        Action::List { storage } => {
            let catalog = storage.storage.open_existing_catalog().await?;
            let now = Utc::now();
            let peers = catalog.peers().await?;
            let lines: String = peers.iter().map(|peer| listed(peer, now)).collect();
            out.write_all(format!("{HEADER}\n{lines}").as_bytes())
        }
    };
    match written {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // `| head` closing the pipe is not a failure.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e).context("cannot write the result"),
    }
}

/// The catalog and the peer declared at `url`, or the failure naming the address.
async fn declared(
    storage: &CatalogArgs,
    url: &str,
) -> anyhow::Result<(std::sync::Arc<dyn Catalog>, Peer)> {
    let url = crate::federation::peer_url(url).map_err(Misuse)?;
    let catalog = storage.storage.open_existing_catalog().await?;
    let peer = catalog
        .peer_by_url(&url)
        .await?
        .with_context(|| format!("no peer is declared at {url} (flaneur peer list)"))?;
    Ok((catalog, peer))
}

/// The first line of `flaneur peer list`: its columns, named as `GET /api/federation/peers`
/// names the same figures, and `state` for `active` or `paused`. A script reading the lines
/// skips it (`tail -n +2`), and may find a column by its name.
const HEADER: &str = "api_url\tsource\tstate\tnb_collections\tnb_items\tlast_success_at\t\
                      failures\tlast_error\tnb_conflicts\tharvesting_until";

/// One line of `flaneur peer list`, with the lease of a pass harvesting the peer at `now`.
fn listed(peer: &Peer, now: DateTime<Utc>) -> String {
    let harvest = &peer.harvest;
    // The error is kept on one line, as it may hold anything the peer answered. Columns added
    // later go last, so that scripts reading the earlier ones by position keep working.
    let error = harvest
        .last_error
        .as_deref()
        .map_or_else(|| "-".to_owned(), |e| e.replace(['\t', '\n', '\r'], " "));
    format!(
        "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
        peer.api_url,
        peer.source.as_str(),
        if peer.is_paused { "paused" } else { "active" },
        harvest.nb_collections,
        harvest.nb_items,
        instant(harvest.last_success_at),
        harvest.failures,
        error,
        harvest.nb_conflicts,
        instant(harvest.harvesting_until(now)),
    )
}

/// An instant as the lists show it, `-` for none.
fn instant(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(
        || "-".to_owned(),
        |at| at.to_rfc3339_opts(SecondsFormat::Secs, true),
    )
}
