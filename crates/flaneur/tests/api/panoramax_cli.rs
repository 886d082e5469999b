//! The real Panoramax uploader (panoramax-cli 1.4.1, installed by `scripts/test.sh` and given
//! by `FLANEUR_PANORAMAX_CLI`) uploading the shared pictures folder to our server, and
//! downloading sequences back from it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::json;
use tempfile::TempDir;

use crate::accounts::account_with_token;
use crate::server::{Server, link};
use crate::{GOPRO, SONY, pictures, pictures_dir};

/// The pictures the CLI sends out of the top-level test pictures: every JPEG but the two it
/// rejects locally for missing metadata (`e1_without_exif.jpg`, `invalid_exif.jpg`) and the two
/// it finds duplicated by its own client-side check (`1.jpg` duplicates `1_blurred.jpg` and
/// `e1.jpg` duplicates `e1_artist.jpg`: same position and heading). Read from what
/// panoramax-cli 1.4.1 reports and sends.
const SENT: [&str; 17] = [
    "1_blurred.jpg",
    "2.jpg",
    "3.jpg",
    "4.jpg",
    "5.jpg",
    "b1.jpg",
    "b2.jpg",
    "c1.jpg",
    "crop.jpg",
    "d1.jpg",
    "e1_artist.jpg",
    "e2.jpg",
    "e3.jpg",
    "e4.jpg",
    "e5.jpg",
    "focal_zero.jpg",
    "xpcomment.jpg",
];

pub(crate) fn panoramax_cli() -> PathBuf {
    let cli = std::env::var_os("FLANEUR_PANORAMAX_CLI").map(PathBuf::from);
    let cli = cli.unwrap_or_else(|| {
        panic!(
            "FLANEUR_PANORAMAX_CLI is not set: run the tests with scripts/test.sh, which \
             installs panoramax-cli 1.4.1 and points this variable to its `panoramax_cli`"
        )
    });
    assert!(
        cli.is_file(),
        "FLANEUR_PANORAMAX_CLI={} is not a file: run scripts/test.sh",
        cli.display()
    );
    cli
}

/// Runs a command of the CLI in `work` (its state and configuration stay there) against
/// `server`, with options then paths.
pub(crate) fn run_cli(
    cli: &Path,
    server: &Server,
    work: &Path,
    args: &[&str],
    paths: &[&Path],
) -> Output {
    let base = server.api.trim_end_matches("/api").to_owned();
    let (command, options) = args.split_first().expect("a command");
    Command::new(cli)
        .arg(command)
        .arg("--api-url")
        .arg(&base)
        .args(options)
        .args(paths)
        .current_dir(work)
        .env("XDG_CONFIG_HOME", work.join("config"))
        .env("HOME", work)
        .env("COLUMNS", "200")
        .env("NO_COLOR", "1")
        // The CLI asks PyPI for a newer version on every run: a dead loopback proxy keeps it
        // off the network, while the API on loopback is reached directly.
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("ALL_PROXY", "http://127.0.0.1:9")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .output()
        .expect("panoramax_cli runs")
}

/// A work folder for the CLI holding a `pictures` folder of copies of `sources`, since the CLI
/// writes its state file in the folder it uploads; returns both.
pub(crate) fn copy_pictures(sources: &[PathBuf]) -> (TempDir, PathBuf) {
    let work = tempfile::tempdir().expect("work folder");
    let folder = work.path().join("pictures");
    std::fs::create_dir(&folder).expect("pictures folder");
    for path in sources {
        let name = path.file_name().expect("file name");
        std::fs::copy(path, folder.join(name)).expect("copy picture");
    }
    (work, folder)
}

/// Uploads `folder` with the CLI run in `work`, waiting until the server has published it.
fn upload(cli: &Path, server: &Server, work: &Path, folder: &Path) -> Output {
    run_cli(cli, server, work, &["upload", "--wait"], &[folder])
}

/// What the CLI printed, and the server's logs, to explain a failure.
pub(crate) fn report(output: &Output, server: &Server) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}\nserver logs:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        server.logs()
    )
}

#[test]
fn panoramax_cli_uploads_the_test_pictures_into_ready_sequences() {
    let cli = panoramax_cli();
    let server = Server::start();

    // The top-level pictures.
    let mut jpegs = Vec::new();
    for entry in std::fs::read_dir(pictures_dir()).expect("pictures folder") {
        let path = entry.expect("folder entry").path();
        if path.is_file() && path.extension().is_some_and(|e| e == "jpg") {
            jpegs.push(path);
        }
    }
    assert_eq!(
        jpegs.len(),
        SENT.len() + 4,
        "unexpected test pictures folder"
    );

    let (work, folder) = copy_pictures(&jpegs);
    let output = upload(&cli, &server, work.path(), &folder);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = report(&output, &server);
    assert!(output.status.success(), "panoramax_cli failed\n{report}");
    for expected in [
        "found 2 duplicate picture(s)",
        "found 2 rejected picture(s) because they have invalid metadata",
        "17 pictures uploaded",
        "All uploaded pictures are published",
    ] {
        assert!(
            stdout.contains(expected),
            "CLI output lacks {expected:?}\n{report}"
        );
    }

    // Every sent picture is in a ready sequence, and nothing else is.
    let mut found = Vec::new();
    let mut url = server.url("/collections?limit=100");
    for _ in 0..100 {
        let (status, page) = server.get_json_url(&url);
        assert_eq!(status, reqwest::StatusCode::OK, "GET {url}: {page}");
        for collection in page["collections"].as_array().expect("collections") {
            let id = collection["id"].as_str().expect("collection id");
            for item in server.collection_items(id) {
                let properties = &item["properties"];
                assert_eq!(properties["geovisio:status"], json!("ready"), "{item}");
                let name = properties["original_file:name"]
                    .as_str()
                    .expect("file name");
                found.push(name.to_owned());
            }
        }
        match link(&page, "next") {
            Some(next) => url = next,
            None => break,
        }
    }
    let unique: BTreeSet<_> = found.iter().map(String::as_str).collect();
    assert_eq!(
        unique.len(),
        found.len(),
        "a picture is in two sequences: {found:?}"
    );
    assert_eq!(unique, BTreeSet::from(SENT), "\n{report}");
}

#[test]
fn panoramax_cli_downloads_back_the_bytes_the_server_serves() {
    let cli = panoramax_cli();
    let server = Server::start();
    let sources = pictures(&GOPRO)
        .into_iter()
        .chain(pictures(&SONY))
        .collect::<Vec<_>>();
    let (work, folder) = copy_pictures(&sources);
    let output = upload(&cli, &server, work.path(), &folder);
    assert!(
        output.status.success(),
        "upload failed\n{}",
        report(&output, &server)
    );

    // Each sequence downloaded twice: its `hd` assets, which the CLI takes by default, and its
    // `sd` ones. On Panoramax instances as here, `hd` is the stored original (blurred when
    // blurring is on), not a derivative; `sd` is a derivative of wide pictures only.
    let collections = server.get_ok("/collections?limit=100");
    let collections = collections["collections"].as_array().expect("collections");
    assert!(!collections.is_empty(), "no sequence was made");
    let mut downloaded = 0;
    for collection in collections {
        let id = collection["id"].as_str().expect("collection id");
        let title = collection["title"].as_str().expect("collection title");
        for quality in ["hd", "sd"] {
            let into = work.path().join(quality);
            let args = [
                "download",
                "--collection",
                id,
                "--quality",
                quality,
                "--path",
            ];
            let output = run_cli(&cli, &server, work.path(), &args, &[&into]);
            assert!(
                output.status.success(),
                "download failed\n{}",
                report(&output, &server)
            );

            // The CLI names the folder after the title, punctuation and spaces made `_`.
            let dir_name: String = title
                .chars()
                .map(|c| {
                    if c.is_ascii_punctuation() || c.is_whitespace() {
                        '_'
                    } else {
                        c
                    }
                })
                .collect();
            for item in server.collection_items(id) {
                let name = item["properties"]["original_file:name"]
                    .as_str()
                    .expect("file name");
                let path = into.join(&dir_name).join(name);
                let got = std::fs::read(&path).unwrap_or_else(|e| {
                    panic!("{}: {e}\n{}", path.display(), report(&output, &server))
                });
                let href = item["assets"][quality]["href"]
                    .as_str()
                    .expect("asset href");
                assert!(
                    got == server.get_bytes(href),
                    "{quality} {name} differs from {href}"
                );
                // Nothing was blurred or overridden: the original stored is the file sent.
                if quality == "hd" {
                    let sent = std::fs::read(folder.join(name)).expect("sent picture");
                    assert!(got == sent, "{name} differs from the file sent");
                }
                downloaded += 1;
            }
        }
    }
    assert_eq!(downloaded, 2 * sources.len());
}

#[test]
fn panoramax_cli_uploads_for_the_account_of_a_token_made_by_flaneur_account() {
    let cli = panoramax_cli();
    let dir = tempfile::tempdir().expect("data folder");
    let token = account_with_token(dir.path(), "ana", false);
    let server = Server::start_in(dir.path());
    let me = server
        .client()
        .get(server.url("/users/me"))
        .bearer_auth(&token)
        .send()
        .expect("GET /users/me");
    let ana: serde_json::Value = me.json().expect("profile");
    let ana = ana["id"].as_str().expect("account id").to_owned();

    let (work, folder) = copy_pictures(&pictures(&SONY[1..3]));
    let output = run_cli(
        &cli,
        &server,
        work.path(),
        &["upload", "--wait", "--token", &token],
        &[&folder],
    );
    let said = report(&output, &server);
    assert!(output.status.success(), "panoramax_cli failed\n{said}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("token of ana"), "{said}");

    // The sequence is ana's.
    let collection = server.get_ok(&format!("/users/{ana}/collection"));
    let children = collection["links"]
        .as_array()
        .expect("links")
        .iter()
        .filter(|l| l["rel"] == "child")
        .count();
    assert_eq!(children, 1, "{collection}\n{said}");

    // A revoked token stops the CLI before it sends anything.
    let made = server
        .client()
        .get(server.url("/users/me/tokens"))
        .bearer_auth(&token)
        .send()
        .expect("GET tokens");
    let tokens: serde_json::Value = made.json().expect("tokens");
    let id = tokens[0]["id"].as_str().expect("token id");
    let revoked = server
        .client()
        .delete(server.url(&format!("/users/me/tokens/{id}")))
        .bearer_auth(&token)
        .send()
        .expect("DELETE token");
    assert_eq!(revoked.status(), reqwest::StatusCode::OK);
    let output = run_cli(
        &cli,
        &server,
        work.path(),
        &["upload", "--token", &token],
        &[&folder],
    );
    assert!(!output.status.success(), "{}", report(&output, &server));
}

/// `panoramax_cli login` stores a generated token and prints its claim link; once the token is
/// claimed there by a logged account (here with that account's bearer, as the instance has no
/// browser login), the next `login` says whose it is. Without a login provider the instance
/// says `auth.enabled: false`, so `upload` without `--token` stays anonymous whatever `login`
/// stored.
#[test]
fn panoramax_cli_login_gets_a_token_claimed_through_its_link() {
    let cli = panoramax_cli();
    let dir = tempfile::tempdir().expect("data folder");
    let ana = account_with_token(dir.path(), "ana", false);
    let server = Server::start_in(dir.path());
    let work = tempfile::tempdir().expect("work folder");
    let login = |server: &Server| run_cli(&cli, server, work.path(), &["login"], &[]);

    // 1. A token is generated and its claim link printed.
    let output = login(&server);
    let said = report(&output, &server);
    assert!(output.status.success(), "{said}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let claim = stdout
        .split_whitespace()
        .find(|word| word.contains("/api/auth/tokens/") && word.ends_with("/claim"))
        .unwrap_or_else(|| panic!("no claim link printed\n{said}"))
        .to_owned();
    let stored = std::fs::read_to_string(work.path().join("config/geovisio/config.toml"))
        .expect("stored credentials");
    assert!(stored.contains("jwt_token"), "{stored}");

    // 2. Claimed by ana: the next login finds her.
    let claimed = server
        .client()
        .post(&claim)
        .bearer_auth(&ana)
        .send()
        .expect("claim");
    assert_eq!(claimed.status(), reqwest::StatusCode::OK, "{claim}");
    let output = login(&server);
    let said = report(&output, &server);
    assert!(output.status.success(), "{said}");
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("Already logged to instance as ana"),
        "{said}"
    );
}
