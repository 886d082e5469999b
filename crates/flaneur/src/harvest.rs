//! `flaneur harvest`: one harvest pass now, over the peers declared in the catalog (by the
//! configuration of `serve` at its start, or by `flaneur peer add`), whatever their next
//! scheduled attempt; paused peers are left alone. It works on the catalog directly, beside a
//! running server or without one, and prints what the pass did for each peer.
//!
//! A peer another pass is harvesting (a server's, or another `flaneur harvest`) is reported
//! busy and left to it rather than harvested twice at once. A pass whose lease ran out (a
//! lease's term without a save, as when the process was suspended) and was taken by another
//! pass is reported taken over: what it applied stays, and the other pass, holding the peer
//! now, records its own end. A pass moves the peer's next
//! scheduled attempt no later than it was planned: this command does not know the interval of
//! the servers harvesting the peer (see [`PassKind::OnDemand`]).
//!
//! Exit codes: 0 every peer harvested, 1 a peer's pass failed (or no peer is declared at the
//! address given), 2 misuse, 3 no pass failed but a peer was left to another pass: busy and
//! not harvested, or taken over.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use flaneur_model::Peer;
use flaneur_service::harvest::{HarvestReport, NotRun, PassKind, harvest_peer};

use crate::Misuse;
use crate::federation::HarvestLimitArgs;
use crate::storage::CatalogArgs;

/// Options of `flaneur harvest`.
#[derive(Debug, clap::Args)]
pub struct HarvestArgs {
    /// Harvest only the peer at this API root, even when it is paused.
    #[arg(long = "peer", value_name = "URL")]
    only: Option<String>,
    #[command(flatten)]
    limits: HarvestLimitArgs,
    #[command(flatten)]
    storage: CatalogArgs,
}

/// Runs one pass over the peers and writes each one's report to `out`.
///
/// # Errors
/// Fails when the catalog cannot be opened or read, the address is not a peer's
/// ([`Misuse`]) or no peer is declared there.
pub async fn run(args: HarvestArgs, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let only = match &args.only {
        Some(url) => Some(crate::federation::peer_url(url).map_err(Misuse)?),
        None => None,
    };
    let catalog = args.storage.storage.open_catalog().await?;
    let peers: Vec<Peer> = match &only {
        Some(url) => vec![
            catalog
                .peer_by_url(url)
                .await?
                .with_context(|| format!("no peer is declared at {url} (flaneur peer list)"))?,
        ],
        None => catalog
            .peers()
            .await?
            .into_iter()
            .filter(|p| !p.is_paused)
            .collect(),
    };

    // One peer after the other: the command is run by hand or by a timer, and its output
    // follows the order of `flaneur peer list`.
    let limits = args.limits.limits();
    let mut has_failed = false;
    let mut has_yielded = false;
    let mut written = Ok(());
    for peer in &peers {
        let report = harvest_peer(&*catalog, peer, &limits, PassKind::OnDemand).await;
        has_failed |= report.error.is_some();
        has_yielded |= report.taken_over || matches!(report.not_run, Some(NotRun::Busy { .. }));
        if written.is_ok() {
            written = out.write_all(shown(&report).as_bytes());
        }
    }
    catalog.close().await;
    match written {
        Ok(()) => {}
        // `| head` closing the pipe is not a failure.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(e).context("cannot write the result"),
    }
    Ok(if has_failed {
        ExitCode::FAILURE
    } else if has_yielded {
        ExitCode::from(BUSY)
    } else {
        ExitCode::SUCCESS
    })
}

/// Exit code when no pass failed but a peer was left to the pass holding it, before or
/// during this one's.
const BUSY: u8 = 3;

/// A report as lines: the peer and its figures, tab-separated, then one indented line per
/// refusal reason kept.
fn shown(report: &HarvestReport) -> String {
    match &report.not_run {
        Some(NotRun::Busy { until: Some(until) }) => {
            return format!(
                "{}\tbusy: another harvest holds it (lease until {}); not harvested\n",
                report.peer_url,
                until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
        }
        Some(NotRun::Busy { until: None }) => {
            return format!(
                "{}\tbusy: another harvest held it just now; not harvested\n",
                report.peer_url
            );
        }
        // An asked-for pass runs whatever the schedule: only a removal stops it.
        Some(NotRun::NotDue) => {
            return format!("{}\tremoved meanwhile; not harvested\n", report.peer_url);
        }
        None => {}
    }
    // A failure comes first, even in a pass taken over afterwards: it says what went wrong.
    let outcome = match (&report.error, report.taken_over) {
        (Some(error), _) => format!("failed: {}", error.replace(['\n', '\r'], " ")),
        (None, true) => "taken over: another harvest holds it since this one's lease ran out; \
                         what this one applied stays"
            .to_owned(),
        (None, false) => "harvested".to_owned(),
    };
    let mut text = format!(
        "{}\t{outcome}\tapplied {}\tunchanged {}\tremoved {}\tconflicting {}\trelayed {}\t\
         items {}\tskipped {}\trequests {}\tbytes {}\t{:.1} s\n",
        report.peer_url,
        report.collections_applied,
        report.collections_unchanged,
        report.collections_removed,
        report.collections_conflicting,
        report.collections_relayed,
        report.items,
        report.skipped,
        report.requests,
        report.bytes_read,
        report.duration.as_secs_f64(),
    );
    for reason in &report.skip_reasons {
        text.push_str(&format!(
            "  skipped: {}\n",
            reason.replace(['\n', '\r'], " ")
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(error: Option<&str>, taken_over: bool) -> HarvestReport {
        HarvestReport {
            peer_url: "https://peer.example/api".to_owned(),
            collections_applied: 2,
            error: error.map(str::to_owned),
            taken_over,
            ..HarvestReport::default()
        }
    }

    #[test]
    fn a_pass_taken_over_is_told_apart_from_a_failure_unless_it_failed_first() {
        let line = shown(&report(None, true));
        assert!(
            line.starts_with("https://peer.example/api\ttaken over: another harvest holds it"),
            "{line}"
        );
        assert!(line.contains("\tapplied 2\t"), "{line}");

        let line = shown(&report(Some("peer answered 503"), true));
        assert!(line.contains("\tfailed: peer answered 503\t"), "{line}");
        assert!(shown(&report(None, false)).contains("\tharvested\t"));
    }
}
