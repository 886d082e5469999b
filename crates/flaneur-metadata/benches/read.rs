//! Reading speed of [`flaneur_metadata::read`] on every shared test picture, from memory: one
//! measurement per picture, then one over the whole set with time per picture as throughput.
//! Run with `cargo bench -p flaneur-metadata`; `scripts/bench-reader.sh` sets these figures
//! beside the reference reader's.
#![expect(
    missing_docs,
    reason = "criterion_group! defines an undocumented function"
)]

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// The shared pictures folder, or a stop saying how to fetch it.
fn pictures_dir() -> PathBuf {
    let root = std::env::var_os("FLANEUR_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").unwrap_or_default();
            PathBuf::from(home).join(".cache/flaneur/testdata")
        });
    let dir = root.join("pictures");
    assert!(
        dir.join("1.jpg").is_file(),
        "test pictures missing in {}: run scripts/fetch-testdata.sh (or set FLANEUR_TESTDATA \
         to the folder that contains pictures/)",
        dir.display()
    );
    dir
}

/// Every `.jpg` of the pictures folder and of its `cli-fixtures` subfolder, sorted, with its
/// bytes. Broken pictures stay in: the reference reader gets them too, and failing fast is
/// part of reading.
fn pictures(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    for sub in ["", "cli-fixtures/"] {
        let entries = std::fs::read_dir(dir.join(sub))
            .unwrap_or_else(|err| panic!("cannot list {}{sub}: {err}", dir.display()));
        for entry in entries.flatten() {
            let name = format!("{sub}{}", entry.file_name().to_string_lossy());
            if name.ends_with(".jpg") && entry.path().is_file() {
                found.push(name);
            }
        }
    }
    found.sort();
    found
        .into_iter()
        .map(|name| {
            let path = dir.join(&name);
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
            (name, bytes)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let pictures = pictures(&pictures_dir());

    let mut group = c.benchmark_group("read");
    for (name, bytes) in &pictures {
        group.bench_function(name.as_str(), |b| {
            b.iter(|| flaneur_metadata::read(black_box(bytes)))
        });
    }

    // The whole set at once, so criterion's throughput line gives a time per picture that
    // weighs heavy and light headers as the test set does.
    let count = u64::try_from(pictures.len()).expect("a few dozen pictures fit in u64");
    group.throughput(Throughput::Elements(count));
    group.bench_function("all_pictures", |b| {
        b.iter(|| {
            for (_, bytes) in &pictures {
                let _ = black_box(flaneur_metadata::read(black_box(bytes)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
