//! Feeds arbitrary bytes to `flaneur_metadata::read` and the header scan: any input must give a
//! reading or a `ReadError`, never a panic, a hang or a runaway allocation.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let scan = flaneur_metadata::header_end(bytes);
    let result = flaneur_metadata::read(bytes);
    // The two walks agree on where a complete header is.
    if let flaneur_metadata::HeaderScan::Complete(end) = scan {
        assert!(end <= bytes.len());
    }
    if let Ok(meta) = result {
        assert!(meta.width > 0 && meta.height > 0);
        if let Some(heading) = meta.heading_deg {
            assert!((0.0..360.0).contains(&heading), "heading {heading}");
        }
        assert!(meta.lat.abs() <= 90.0 && meta.lon.abs() <= 180.0);
    }
});
