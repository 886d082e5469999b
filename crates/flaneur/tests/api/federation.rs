//! Federation between two real instances on loopback: a peer with uploaded pictures, and a
//! catalog declaring it (`flaneur peer add`, or `--peer` at start) and harvesting it (`flaneur
//! harvest`, or on its own) into its catalog, listed by `/api/federation/peers`; pausing and
//! removing a peer from the command line.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::accounts::{account_with_token, get_as};
use crate::server::{Server, poll};
use crate::{GOPRO, pictures};

/// Runs `flaneur ARGS` on the catalog of `data_dir` (as the run's backend keeps it).
fn flaneur(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flaneur"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .envs(crate::backend::storage_env(data_dir))
        .env("RUST_LOG", "warn")
        .output()
        .expect("flaneur runs")
}

/// Runs `flaneur ARGS` expecting the exit code `code`; returns its stdout.
fn flaneur_exits(data_dir: &Path, args: &[&str], code: i32) -> String {
    let output = flaneur(data_dir, args);
    assert_eq!(
        output.status.code(),
        Some(code),
        "flaneur {args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// The peers the catalog lists, as `token` reads them.
fn peers(server: &Server, token: &str) -> Vec<Value> {
    let (status, body) = get_as(server, "/federation/peers", token);
    assert_eq!(status, StatusCode::OK, "{body}");
    body["peers"].as_array().expect("peers").clone()
}

/// A peer instance holding one public sequence of the five GoPro pictures; its id.
fn peer_with_pictures() -> (Server, String) {
    let peer = Server::start();
    let collection = peer.upload_sequence("at the peer", &pictures(&GOPRO), "anyone");
    (peer, collection)
}

#[test]
fn peers_are_added_paused_resumed_and_removed_from_the_command_line() {
    let dir = tempfile::tempdir().expect("data folder");
    let data = dir.path();
    let url = "http://127.0.0.1:9/api";

    assert_eq!(
        flaneur_exits(data, &["peer", "add", "http://127.0.0.1:9/api/"], 0),
        format!("{url}\tadded\n")
    );
    flaneur_exits(data, &["peer", "add", "ftp://127.0.0.1:9/api"], 2);
    flaneur_exits(data, &["peer", "pause", url], 0);
    let listed = flaneur_exits(data, &["peer", "list"], 0);
    assert_eq!(listed, format!("{url}\tadmin\tpaused\t0\t0\t-\t0\t-\n"));

    // A paused peer is left out of a pass: nothing is asked of it, and it records no failure
    // although nothing listens at its address.
    assert_eq!(flaneur_exits(data, &["harvest"], 0), "");
    assert!(flaneur_exits(data, &["peer", "list"], 0).contains("\tpaused\t0\t0\t-\t0\t-"));

    // Resumed, it is harvested, and its failure is told by the exit code and the list.
    flaneur_exits(data, &["peer", "resume", url], 0);
    let report = flaneur_exits(data, &["harvest"], 1);
    assert!(report.starts_with(&format!("{url}\tfailed: ")), "{report}");
    let listed = flaneur_exits(data, &["peer", "list"], 0);
    assert!(listed.contains("\tactive\t0\t0\t-\t1\t"), "{listed}");

    flaneur_exits(data, &["peer", "remove", url], 0);
    assert_eq!(flaneur_exits(data, &["peer", "list"], 0), "");
    flaneur_exits(data, &["peer", "remove", url], 1);
    flaneur_exits(data, &["harvest", "--peer", url], 1);
}

#[test]
fn a_harvested_peer_is_served_counted_and_removed_with_its_data() {
    let (peer, collection) = peer_with_pictures();
    let dir = tempfile::tempdir().expect("catalog data folder");
    let data = dir.path();

    // 1. Declared and harvested from the command line, before the catalog serves.
    flaneur_exits(data, &["peer", "add", &peer.api], 0);
    let report = flaneur_exits(data, &["harvest"], 0);
    assert!(
        report.starts_with(&format!("{}\tharvested\tapplied 1\t", peer.api)),
        "{report}"
    );
    assert!(report.contains("\titems 5\t"), "{report}");

    // 2. The catalog lists the peer with its counts; only administrators read its last error.
    let catalog = Server::start_in_with_env(data, &[("FLANEUR_CATALOG_ONLY", "true")]);
    let listed = peers(&catalog, "anonymous");
    assert_eq!(listed.len(), 1, "{listed:?}");
    let shown = &listed[0];
    assert_eq!(shown["api_url"], json!(peer.api));
    assert_eq!(shown["source"], json!("admin"));
    assert_eq!(shown["paused"], json!(false));
    assert_eq!(shown["failures"], json!(0));
    assert_eq!(shown["nb_collections"], json!(1));
    assert_eq!(shown["nb_items"], json!(5));
    assert!(shown["last_success_at"].is_string(), "{shown}");
    assert!(shown["next_attempt_at"].is_string(), "{shown}");
    assert!(shown.get("last_error").is_none(), "{shown}");
    let admin = account_with_token(data, "operator", true);
    assert_eq!(peers(&catalog, &admin)[0]["last_error"], json!(null));

    // 3. The peer's pictures are found in the catalog's search.
    let found = |server: &Server| {
        let (status, page) = server.get_json(&format!("/search?collections={collection}"));
        assert_eq!(status, StatusCode::OK, "{page}");
        page["features"].as_array().map_or(0, Vec::len)
    };
    assert_eq!(found(&catalog), 5);

    // 4. Paused, the peer is left out of a pass, and what was harvested stays served.
    flaneur_exits(data, &["peer", "pause", &peer.api], 0);
    assert_eq!(peers(&catalog, "anonymous")[0]["paused"], json!(true));
    assert_eq!(flaneur_exits(data, &["harvest"], 0), "");
    assert_eq!(found(&catalog), 5);

    // 5. Removed, the peer and everything harvested from it go.
    let removed = flaneur_exits(data, &["peer", "remove", &peer.api], 0);
    assert!(
        removed.contains("with 1 collections and 5 items"),
        "{removed}"
    );
    assert!(peers(&catalog, "anonymous").is_empty());
    assert_eq!(found(&catalog), 0);
}

#[test]
fn serve_harvests_its_configured_peers_on_its_own() {
    let (peer, _collection) = peer_with_pictures();
    let catalog = Server::start_with_env(&[("FLANEUR_PEERS", &peer.api)]);
    let harvested = poll(Duration::from_secs(60), "the peer harvested", || {
        let listed = peers(&catalog, "anonymous");
        (listed.first()?["nb_items"] == json!(5)).then_some(listed)
    })
    .unwrap_or_else(|last| panic!("{last}\nlogs:\n{}", catalog.logs()));
    assert_eq!(harvested[0]["source"], json!("config"));
    assert_eq!(harvested[0]["failures"], json!(0));
}
