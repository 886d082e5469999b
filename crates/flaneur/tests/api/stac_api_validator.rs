//! The STAC API validator (stac-api-validator 0.6.8, installed by `scripts/test.sh` and given
//! by `FLANEUR_STAC_API_VALIDATOR`) checking every conformance class we declare that it knows.
//!
//! It runs offline through `tests/fixtures/stac-api-validator/offline.py`, which gives it the
//! JSON schemas kept beside that file. `collection-search` is declared but not checked: the
//! validator has no check for it. For the filter extension it checks the queryables schema
//! and, for each CQL2 operator class declared, filters of its own (none is declared: see
//! `CONFORMANCE` in the API crate).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use crate::server::Server;
use crate::{GOPRO, SONY, pictures};

/// The validator's names of the classes declared in `/api/conformance`.
const CLASSES: [&str; 7] = [
    "core",
    "browseable",
    "collections",
    "features",
    "item-search",
    "item-search#sort",
    "filter",
];

fn validator_python() -> PathBuf {
    let validator = std::env::var_os("FLANEUR_STAC_API_VALIDATOR").map(PathBuf::from);
    let validator = validator.unwrap_or_else(|| {
        panic!(
            "FLANEUR_STAC_API_VALIDATOR is not set: run the tests with scripts/test.sh, which \
             installs stac-api-validator 0.6.8 and points this variable to it"
        )
    });
    // The runner is a Python script that loads the validator: it needs the same environment.
    let python = validator.with_file_name("python");
    assert!(
        python.is_file(),
        "no Python beside FLANEUR_STAC_API_VALIDATOR={}: run scripts/test.sh",
        validator.display()
    );
    python
}

#[test]
fn stac_api_validator_passes_every_declared_class() {
    let python = validator_python();
    let server = Server::start();
    let mut collection = String::new();
    for (title, names) in [("gopro", GOPRO), ("sony", SONY)] {
        let set = server.create_upload_set(title, Some(names.len()));
        server.upload_all(&set, &pictures(&names));
        let set = server.wait_ready(&set);
        collection = set["associated_collections"][0]["id"]
            .as_str()
            .expect("collection id")
            .to_owned();
    }

    let runner =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stac-api-validator/offline.py");
    // An area holding both sequences, for the intersects checks.
    let area = json!({"type": "Polygon", "coordinates": [[
        [-2.0, 47.0], [3.0, 47.0], [3.0, 50.0], [-2.0, 50.0], [-2.0, 47.0]
    ]]});
    let mut command = Command::new(&python);
    command
        .arg(&runner)
        .arg("--root-url")
        .arg(&server.api)
        .arg("--collection")
        .arg(&collection)
        .arg("--geometry")
        .arg(area.to_string())
        // Ten pictures page quickly; on a large catalog this would be the slow part.
        .arg("--validate-pagination");
    for class in CLASSES {
        command.arg("--conformance").arg(class);
    }
    let output = command.output().expect("run stac-api-validator");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("Errors: none"),
        "stac-api-validator failed ({}):\n{stdout}\n{stderr}\nserver logs:\n{}",
        output.status,
        server.logs()
    );
}
