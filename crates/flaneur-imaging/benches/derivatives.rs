//! End-to-end derivative making on the shared test pictures: one 360° (`1.jpg`, 5760x2880) and
//! one flat (`e1.jpg`, 1920x1080). Run with `cargo bench -p flaneur-imaging`.
#![expect(
    missing_docs,
    reason = "criterion_group! defines an undocumented function"
)]

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use flaneur_imaging::{DerivativeSpec, Derivatives, make_derivatives};
use flaneur_model::Projection;

/// Reads a shared test picture, or stops the bench saying how to fetch it.
fn picture(name: &str) -> Vec<u8> {
    let root = std::env::var_os("FLANEUR_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").unwrap_or_default();
            PathBuf::from(home).join(".cache/flaneur/testdata")
        });
    let path = root.join("pictures").join(name);
    std::fs::read(&path).unwrap_or_else(|err| {
        panic!(
            "cannot read {} ({err}): run scripts/fetch-testdata.sh",
            path.display()
        )
    })
}

/// Bytes of all derivatives together.
fn stored_bytes(d: &Derivatives) -> usize {
    let tiles: usize = d.tiles.iter().map(|t| t.jpeg.len()).sum();
    d.thumb.len() + d.sd.as_ref().map_or(0, Vec::len) + tiles
}

fn bench(c: &mut Criterion) {
    let cases = [
        ("360_5760x2880", "1.jpg", Projection::Equirectangular),
        ("flat_1920x1080", "e1.jpg", Projection::Flat),
    ];
    let mut group = c.benchmark_group("make_derivatives");
    for (label, file, projection) in cases {
        let jpeg = picture(file);
        let spec = DerivativeSpec {
            projection,
            orientation: 1,
        };

        // The byte figures go with the timings in reports, so print them once per picture.
        if let Ok(d) = make_derivatives(&jpeg, &spec) {
            #[expect(clippy::print_stderr, reason = "a bench reports to its operator")]
            {
                eprintln!(
                    "{file}: original {} B, derivatives {} B (thumb {}, sd {}, {} tiles {})",
                    jpeg.len(),
                    stored_bytes(&d),
                    d.thumb.len(),
                    d.sd.as_ref().map_or(0, Vec::len),
                    d.tiles.len(),
                    d.tiles.iter().map(|t| t.jpeg.len()).sum::<usize>(),
                );
            }
        }
        group.bench_function(label, |b| {
            b.iter(|| make_derivatives(black_box(&jpeg), &spec))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
