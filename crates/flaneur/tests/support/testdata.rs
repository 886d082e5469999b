//! Where the shared real pictures are, for every test binary of the crate.

use std::path::PathBuf;

/// The shared real pictures, where `scripts/fetch-testdata.sh` puts them.
pub fn pictures_dir() -> PathBuf {
    let root = std::env::var_os("FLANEUR_TESTDATA")
        .map(PathBuf::from)
        .or_else(|| {
            let cache = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from);
            let cache =
                cache.or_else(|| Some(PathBuf::from(std::env::var_os("HOME")?).join(".cache")));
            cache.map(|cache| cache.join("flaneur/testdata"))
        });
    let dir = root.map(|root| root.join("pictures")).unwrap_or_default();
    assert!(
        dir.join("1.jpg").is_file() && dir.join("cli-fixtures/e1.jpg").is_file(),
        "test pictures not found in '{}': run scripts/fetch-testdata.sh",
        dir.display()
    );
    dir
}
