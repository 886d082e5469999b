//! The configuration file of `serve` and `worker`: honoured under the command line and the
//! environment, and refused with every problem named.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::server::{Server, poll};

fn write_config(dir: &Path, text: &str) -> String {
    let path = dir.join("flaneur.toml");
    std::fs::write(&path, text).expect("write the configuration file");
    path.display().to_string()
}

#[test]
fn the_file_sets_options_that_the_environment_and_command_line_override() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The harness gives `--log-format json` on the command line and finds the server by its
    // JSON logs: had the file's `text` won, the server would not be found.
    let config = write_config(
        dir.path(),
        r##"
            log_format = "text"
            instance_name = "Pictures of the file"
            instance_color = "#111111"
            license_id = "etalab-2.0"
            instance_summary = { description = { en = "From a table", fr = "D'une table" } }
            tile_cache_mb = 8
        "##,
    );
    let server = Server::start_with_env(&[
        ("FLANEUR_CONFIG", config.as_str()),
        ("FLANEUR_INSTANCE_COLOR", "#222222"),
    ]);
    let configuration = server.get_ok("/configuration");
    assert_eq!(
        configuration["name"]["label"],
        json!("Pictures of the file")
    );
    assert_eq!(
        configuration["color"],
        json!("#222222"),
        "the environment wins"
    );
    assert_eq!(configuration["license"]["id"], json!("etalab-2.0"));
    assert_eq!(
        configuration["description"]["langs"],
        json!({ "en": "From a table", "fr": "D'une table" })
    );
}

/// Runs `flaneur` with a configuration file until it exits, which it must do on its own.
fn run(args: &[&str], config: &str) -> Output {
    let data = tempfile::tempdir().expect("data folder");
    let mut child = Command::new(env!("CARGO_BIN_EXE_flaneur"))
        .args(args)
        .arg("--data-dir")
        .arg(data.path())
        .args(["--config", config])
        .env_remove("FLANEUR_WORKERS")
        .env_remove("FLANEUR_LISTEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run flaneur");
    let exited = poll(Duration::from_secs(60), "flaneur to exit", || {
        child.try_wait().expect("flaneur status")
    });
    if let Err(e) = exited {
        let _ = child.kill();
        panic!("{e}: {args:?} with {config} started instead of refusing it");
    }
    child.wait_with_output().expect("flaneur output")
}

#[test]
fn a_bad_file_stops_the_start_with_every_problem_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(
        dir.path(),
        "data_dri = \"/srv\"\nlisten = \"nowhere\"\nworkers = -1\n",
    );
    let output = run(&["serve"], &config);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    for key in ["'data_dri'", "'listen'", "'workers'"] {
        assert!(stderr.contains(key), "{key}: {stderr}");
    }
    assert!(stderr.contains(&config), "the file is named: {stderr}");

    let output = run(
        &["worker"],
        &dir.path().join("missing.toml").display().to_string(),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("missing.toml"), "{stderr}");

    let config = write_config(dir.path(), "workers = \n");
    let output = run(&["worker"], &config);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not valid TOML"), "{stderr}");
}

#[test]
fn the_worker_reads_its_keys_and_leaves_those_of_serve() {
    let dir = tempfile::tempdir().expect("temp dir");
    // `listen` belongs to serve: the worker takes the file all the same, and its `workers`
    // key reaches the worker, which refuses zero.
    let config = write_config(dir.path(), "listen = \"127.0.0.1:0\"\nworkers = 0\n");
    let output = run(&["worker"], &config);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("at least one worker"), "{stderr}");
}

#[test]
fn an_incomplete_login_setup_stops_the_start_naming_what_is_missing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(
        dir.path(),
        "oauth_provider = \"oidc\"\nlisten = \"127.0.0.1:0\"\n",
    );
    let output = run(&["serve"], &config);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("OAUTH_CLIENT_ID"), "{stderr}");
    assert!(stderr.contains("OAUTH_OIDC_URL"), "{stderr}");

    let config = write_config(
        dir.path(),
        "oauth_client_id = \"x\"\nlisten = \"127.0.0.1:0\"\n",
    );
    let output = run(&["serve"], &config);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no provider"), "{stderr}");

    let config = write_config(dir.path(), "oauth_provider = \"keycloak\"\n");
    let output = run(&["serve"], &config);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("'oauth_provider'"), "{stderr}");
}

#[test]
fn a_bad_peer_stops_the_start_naming_it_and_the_form_expected() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(
        dir.path(),
        "peers = [\"https://a.example.org/api\", \"https://me:pw@b.example.org/api\"]\n\
         harvest_interval = \"1d\"\n",
    );
    let output = run(&["serve"], &config);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("'peers'"), "{stderr}");
    assert!(
        stderr.contains("https://me:pw@b.example.org/api"),
        "{stderr}"
    );
    assert!(stderr.contains("user name or password"), "{stderr}");
    assert!(stderr.contains("'harvest_interval'"), "{stderr}");

    // A peer at the address listened on is this very instance.
    let config = write_config(dir.path(), "listen = \"127.0.0.1:5999\"\n");
    let output = run(&["serve", "--peer", "http://localhost:5999/api/"], &config);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("http://localhost:5999/api"), "{stderr}");
    assert!(stderr.contains("itself"), "{stderr}");
}

#[test]
fn peers_from_the_environment_are_taken_separated_by_commas() {
    let server = Server::start_with_env(&[
        (
            "FLANEUR_PEERS",
            "http://127.0.0.1:9/api/,http://[::1]:9/api",
        ),
        ("FLANEUR_HARVEST_INTERVAL", "1h"),
    ]);
    server.get_ok("/configuration");
}
