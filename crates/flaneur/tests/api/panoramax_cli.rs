//! The real Panoramax uploader (panoramax-cli 1.4.1, installed by `scripts/test.sh` and given
//! by `FLANEUR_PANORAMAX_CLI`) uploading the shared pictures folder to our server.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use serde_json::json;

use crate::pictures_dir;
use crate::server::{Server, link};

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

fn panoramax_cli() -> PathBuf {
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

#[test]
fn panoramax_cli_uploads_the_test_pictures_into_ready_sequences() {
    let cli = panoramax_cli();
    let server = Server::start();

    // A copy of the top-level pictures: the CLI writes its state file in the folder.
    let work = tempfile::tempdir().expect("work folder");
    let folder = work.path().join("pictures");
    std::fs::create_dir(&folder).expect("pictures folder");
    let mut jpegs = 0;
    for entry in std::fs::read_dir(pictures_dir()).expect("pictures folder") {
        let path = entry.expect("folder entry").path();
        if path.is_file() && path.extension().is_some_and(|e| e == "jpg") {
            let name = path.file_name().expect("file name");
            std::fs::copy(&path, folder.join(name)).expect("copy picture");
            jpegs += 1;
        }
    }
    assert_eq!(jpegs, SENT.len() + 4, "unexpected test pictures folder");

    let base = server.api.trim_end_matches("/api").to_owned();
    let output = Command::new(&cli)
        .arg("upload")
        .arg("--api-url")
        .arg(&base)
        .arg(&folder)
        .arg("--wait")
        .current_dir(work.path())
        .env("XDG_CONFIG_HOME", work.path().join("config"))
        .env("COLUMNS", "200")
        .env("NO_COLOR", "1")
        // The CLI asks PyPI for a newer version on every run: a dead loopback proxy keeps it
        // off the network, while the API on loopback is reached directly.
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("ALL_PROXY", "http://127.0.0.1:9")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .output()
        .expect("panoramax_cli runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report = format!(
        "stdout:\n{stdout}\nstderr:\n{stderr}\nserver logs:\n{}",
        server.logs()
    );
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
