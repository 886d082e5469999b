//! Finding the shared test pictures: `$FLANEUR_TESTDATA/pictures`, by default under
//! `$HOME/.cache/flaneur/testdata`. A missing folder fails the test run with the fix.

use std::path::PathBuf;

/// The folder holding the test pictures; panics with the fix when it is missing.
pub fn pictures_dir() -> PathBuf {
    let root = match std::env::var_os("FLANEUR_TESTDATA") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let home = std::env::var_os("HOME").expect("HOME or FLANEUR_TESTDATA must be set");
            PathBuf::from(home).join(".cache/flaneur/testdata")
        }
    };
    let dir = root.join("pictures");
    assert!(
        dir.join("1.jpg").is_file(),
        "test pictures missing in {}: run scripts/fetch-testdata.sh (or set FLANEUR_TESTDATA \
         to the folder that contains pictures/)",
        dir.display()
    );
    dir
}

/// Every file of the pictures folder and its `cli-fixtures` subfolder, as paths relative to
/// the pictures folder, sorted.
pub fn all_files() -> Vec<String> {
    let dir = pictures_dir();
    let mut names = Vec::new();
    for sub in ["", "cli-fixtures/"] {
        let entries = std::fs::read_dir(dir.join(sub)).expect("pictures folder is readable");
        for entry in entries {
            let entry = entry.expect("pictures folder entry is readable");
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_file() && !name.starts_with('.') {
                names.push(format!("{sub}{name}"));
            }
        }
    }
    names.sort();
    names
}

/// The bytes of one test file.
pub fn bytes(name: &str) -> Vec<u8> {
    let path = pictures_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()))
}
