//! Broken and hostile files: each gets a specific [`ReadError`] or a correct reading, quickly,
//! and never a panic. The files are remade by `tests/data/make-hostile.sh`.
//!
//! Reading times are printed (`cargo test --test hostile -- --nocapture`), not asserted: a
//! loaded CI machine must not fail the suite. Every file reads in well under 10 ms.

use std::path::PathBuf;
use std::sync::Once;
use std::time::{Duration, Instant};

use flaneur_metadata::{MAX_PIXELS, PictureMetadata, ReadError};
use flaneur_model::Projection;

fn bytes(name: &str) -> Vec<u8> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests/data/hostile", name]
        .iter()
        .collect();
    std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// Reads a file, printing how long the reading took and what came out.
#[expect(clippy::print_stdout, reason = "the timing table is the test's report")]
fn read(name: &str) -> Result<PictureMetadata, ReadError> {
    // The first reading in a process loads the time-zone boundaries (about half a second in
    // a debug build); that is start-up work, not the file's cost.
    static WARM: Once = Once::new();
    WARM.call_once(|| {
        let _ = flaneur_metadata::read(&bytes("base.jpg"));
    });

    let bytes = bytes(name);
    let start = Instant::now();
    let result = flaneur_metadata::read(&bytes);
    let took = start.elapsed();
    let mark = if took < Duration::from_millis(10) {
        ""
    } else {
        "  SLOW"
    };
    let outcome = result.as_ref().map_or_else(ReadError::kind, |_| "ok");
    println!(
        "{name:32} {:>6} B {took:>10.1?} {outcome}{mark}",
        bytes.len()
    );
    result
}

fn kind(name: &str) -> &'static str {
    match read(name) {
        Ok(_) => "ok",
        Err(err) => err.kind(),
    }
}

/// The base picture's values, which every readable variant must keep.
fn assert_base_values(meta: &PictureMetadata) {
    assert!((meta.lat - 48.8566).abs() < 1e-6, "lat {}", meta.lat);
    assert!((meta.lon - 2.3522).abs() < 1e-6, "lon {}", meta.lon);
    assert_eq!(
        meta.camera_local_time.map(|t| t.to_string()).as_deref(),
        Some("2024-04-04 11:30:06")
    );
    assert_eq!((meta.width, meta.height), (64, 32));
}

#[test]
fn refuses_what_is_not_a_jpeg() {
    for name in ["empty.jpg", "png.jpg", "text.jpg", "soi-only.jpg"] {
        assert_eq!(read(name), Err(ReadError::NotJpeg), "{name}");
    }
}

#[test]
fn says_where_the_header_is_cut_short() {
    for name in [
        "truncated-in-exif.jpg",
        "truncated-in-sof.jpg",
        "truncated-before-sos.jpg",
    ] {
        assert_eq!(read(name), Err(ReadError::Truncated), "{name}");
    }
}

#[test]
fn names_broken_marker_structure() {
    for (name, says) in [
        ("segment-length-1.jpg", "segment length 1"),
        ("stray-byte.jpg", "not a marker"),
        ("sof-zero-width.jpg", "no frame header with a size"),
    ] {
        match read(name) {
            Err(ReadError::Malformed { reason }) => assert!(reason.contains(says), "{reason}"),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn reads_progressive_arithmetic_and_cmyk_jpegs() {
    for name in ["base.jpg", "progressive.jpg", "arithmetic.jpg", "cmyk.jpg"] {
        let meta = read(name).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_base_values(&meta);
        assert_eq!(meta.projection, Projection::Flat);
    }
}

#[test]
fn reads_huge_frames_and_tells_whether_they_fit_the_pixel_budget() {
    let panorama = read("sof-16384x8192.jpg").expect("a large but real size");
    assert_eq!((panorama.width, panorama.height), (16384, 8192));
    assert_eq!(panorama.pixel_count(), 134_217_728);
    assert!(panorama.fits_pixel_budget());

    let bomb = read("sof-65535x65535.jpg").expect("the header is valid");
    assert_eq!(bomb.pixel_count(), 65535 * 65535);
    assert!(bomb.pixel_count() > MAX_PIXELS);
    assert!(!bomb.fits_pixel_budget());

    let small = read("base.jpg").expect("base picture");
    assert!(small.fits_pixel_budget());
}

#[test]
fn survives_exif_loops_and_pointers_past_the_end() {
    let loops = [
        "exif-next-ifd-loop.jpg",
        "exif-subifd-loop.jpg",
        "exif-gps-next-loop.jpg",
    ];
    let past_end = [
        "exif-count-past-end.jpg",
        "exif-offset-past-end.jpg",
        "exif-ifd0-past-end.jpg",
        "exif-entry-count-past-end.jpg",
    ];
    // What is readable is read: a loop or a bad pointer costs the tags behind it only.
    for name in loops.into_iter().chain(past_end) {
        if matches!(name, "exif-subifd-loop.jpg" | "exif-ifd0-past-end.jpg") {
            continue;
        }
        let meta = read(name).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_base_values(&meta);
    }
    // Without a readable IFD0 (past the end, or the GPS and Exif pointers sent back to it),
    // position and date are lost: the picture lacks them, as one without EXIF does.
    for name in ["exif-subifd-loop.jpg", "exif-ifd0-past-end.jpg"] {
        let err = read(name).expect_err("mandatory values lost");
        assert_eq!(err.kind(), "missing_fields", "{name}");
        assert_eq!(err.missing_fields().len(), 2, "{name}");
    }
}

#[test]
fn does_not_expand_xml_entities() {
    // roxmltree is run with DTDs refused: the packet is dropped with a warning, the EXIF
    // values still read, and nothing grows to the 10^9 "lol"s the entities describe.
    let meta = read("xmp-billion-laughs.jpg").expect("exif values still read");
    assert_base_values(&meta);
    assert!(
        meta.tags.keys().all(|key| !key.starts_with("Xmp.")),
        "{:?}",
        meta.tags
    );
    assert!(meta.tags.values().all(|value| value.len() < 1000));
    assert!(
        meta.warnings
            .iter()
            .any(|w| w.starts_with("xmp data is unreadable")),
        "{:?}",
        meta.warnings
    );
}

#[test]
fn reads_deeply_nested_xmp_without_overflowing_the_stack() {
    let meta = read("xmp-deep-nesting.jpg").expect("exif values still read");
    assert_base_values(&meta);
}

#[test]
fn every_prefix_of_a_hostile_file_reads_without_panicking() {
    for name in [
        "base.jpg",
        "exif-subifd-loop.jpg",
        "xmp-billion-laughs.jpg",
        "cmyk.jpg",
    ] {
        let bytes = bytes(name);
        for cut in 0..bytes.len() {
            let _ = flaneur_metadata::read(&bytes[..cut]);
        }
    }
}

#[test]
fn gives_each_hostile_file_a_known_outcome() {
    // One line per file, for the printed timing table.
    let dir: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests/data/hostile"]
        .iter()
        .collect();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("hostile folder")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    for name in &names {
        let outcome = kind(name);
        let known = [
            "ok",
            "not_jpeg",
            "truncated",
            "malformed_jpeg",
            "missing_fields",
        ];
        assert!(known.contains(&outcome), "{name}: {outcome}");
    }
}
