//! The header alone is enough: `header_end` finds it, and reading it gives the same result as
//! reading the whole file.

use flaneur_metadata::{HeaderScan, ReadError};

use crate::testdata;

#[test]
fn reading_the_header_prefix_equals_reading_the_file() {
    for name in testdata::all_files() {
        let bytes = testdata::bytes(&name);
        let HeaderScan::Complete(end) = flaneur_metadata::header_end(&bytes) else {
            assert_eq!(
                flaneur_metadata::read(&bytes),
                Err(ReadError::NotJpeg),
                "{name}"
            );
            continue;
        };
        assert!(end < bytes.len(), "{name}: header end {end} past the file");
        let whole = flaneur_metadata::read(&bytes);
        let prefix = flaneur_metadata::read(&bytes[..end]);
        assert_eq!(whole, prefix, "{name}");

        // One byte short of the header is not enough.
        assert_eq!(
            flaneur_metadata::header_end(&bytes[..end - 1]),
            HeaderScan::NeedMore
        );
        assert_eq!(
            flaneur_metadata::read(&bytes[..end - 1]),
            Err(ReadError::Truncated)
        );
    }
}

#[test]
fn small_or_foreign_inputs_are_not_jpeg() {
    assert_eq!(flaneur_metadata::read(b""), Err(ReadError::NotJpeg));
    assert_eq!(
        flaneur_metadata::read(b"0123456789abcdef"),
        Err(ReadError::NotJpeg)
    );
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0";
    assert_eq!(flaneur_metadata::read(png), Err(ReadError::NotJpeg));
    assert_eq!(flaneur_metadata::header_end(png), HeaderScan::NotJpeg);
    assert_eq!(flaneur_metadata::header_end(&[0xFF]), HeaderScan::NeedMore);
}

#[test]
fn never_panics_on_damaged_headers() {
    // Flip bytes across the header of a real picture: any answer but a panic is fine.
    let bytes = testdata::bytes("e1_artist.jpg");
    let HeaderScan::Complete(end) = flaneur_metadata::header_end(&bytes) else {
        panic!("e1_artist.jpg has a header");
    };
    let header = &bytes[..end];
    for position in (0..header.len()).step_by(7) {
        for value in [0x00, 0xFF, 0x7F] {
            let mut damaged = header.to_vec();
            damaged[position] = value;
            let _ = flaneur_metadata::read(&damaged);
        }
    }
    for cut in (0..header.len()).step_by(13) {
        let _ = flaneur_metadata::read(&header[..cut]);
    }
}
