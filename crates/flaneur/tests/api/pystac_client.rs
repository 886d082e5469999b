//! pystac-client (0.9.1, installed by `scripts/test.sh` and found through
//! `FLANEUR_PYSTAC_CLIENT_PYTHON`) paging through item search and the collection list.
//!
//! The client runs `tests/fixtures/pystac-client/page_through.py`, which reaches only the
//! loopback host.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::server::Server;
use crate::{GOPRO, SONY, pictures};

fn pystac_client_python() -> PathBuf {
    let python = std::env::var_os("FLANEUR_PYSTAC_CLIENT_PYTHON").map(PathBuf::from);
    let python = python.unwrap_or_else(|| {
        panic!(
            "FLANEUR_PYSTAC_CLIENT_PYTHON is not set: run the tests with scripts/test.sh, \
             which installs pystac-client 0.9.1 and points this variable to its Python"
        )
    });
    assert!(
        python.is_file(),
        "FLANEUR_PYSTAC_CLIENT_PYTHON={} is not a file: run scripts/test.sh",
        python.display()
    );
    python
}

/// The ids of each page, as the script printed them.
fn pages(report: &Value, key: &str) -> Vec<Vec<String>> {
    report[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key}: {report}"))
        .iter()
        .map(|page| {
            page.as_array()
                .expect("page of ids")
                .iter()
                .map(|id| id.as_str().expect("id").to_owned())
                .collect()
        })
        .collect()
}

#[test]
fn pystac_client_pages_through_every_item_and_collection_exactly_once() {
    let python = pystac_client_python();
    let server = Server::start();

    // Ten pictures in four sequences.
    let (gopro, sony) = (pictures(&GOPRO), pictures(&SONY));
    let mut collections = BTreeSet::new();
    let mut items = BTreeSet::new();
    for (n, files) in [&gopro[..2], &gopro[2..], &sony[..3], &sony[3..]]
        .into_iter()
        .enumerate()
    {
        let collection = server.upload_sequence(&format!("part {n}"), files, "anyone");
        for item in server.collection_items(&collection) {
            items.insert(item["id"].as_str().expect("item id").to_owned());
        }
        collections.insert(collection);
    }
    assert_eq!(items.len(), 10);

    // Pages of three: four of items, two of collections.
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pystac-client/page_through.py");
    let output = Command::new(&python)
        .arg(&script)
        .arg(&server.api)
        .arg("3")
        .output()
        .expect("run pystac-client");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "pystac-client failed\nstdout:\n{stdout}\nstderr:\n{stderr}\nserver logs:\n{}",
        server.logs()
    );
    let report: Value = serde_json::from_str(&stdout).expect("the script prints JSON");

    for (key, expected, nb_pages) in [
        ("item_pages", &items, 4),
        ("collection_pages", &collections, 2),
    ] {
        let pages = pages(&report, key);
        assert_eq!(pages.len(), nb_pages, "{key}: {pages:?}");
        assert!(pages.iter().all(|p| p.len() <= 3), "{key}: {pages:?}");
        let read: Vec<&String> = pages.iter().flatten().collect();
        let unique: BTreeSet<String> = read.iter().map(|id| (*id).clone()).collect();
        assert_eq!(unique.len(), read.len(), "{key} read twice: {pages:?}");
        assert_eq!(&unique, expected, "{key}");
    }
}
