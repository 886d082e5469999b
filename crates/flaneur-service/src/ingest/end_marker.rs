//! Finding the JPEG end marker while a body streams, to refuse pictures cut short.
//!
//! A decoder reading only the header cannot tell a truncated file from a whole one, and such a
//! file would only fail later, when its derivatives are made. In the compressed data after the
//! header, a 0xFF byte is always followed by 0x00 (stuffing) or a restart marker, so the bytes
//! 0xFF 0xD9 there can only be the end of the picture.

/// Scans the bytes after the JPEG header for the end-of-image marker.
#[derive(Debug, Default, Clone)]
pub(crate) struct EndMarkerScan {
    previous_was_ff: bool,
    found: bool,
}

impl EndMarkerScan {
    /// Feeds the next bytes of the compressed data.
    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        if self.found {
            return;
        }
        for &b in bytes {
            if self.previous_was_ff && b == 0xD9 {
                self.found = true;
                return;
            }
            self.previous_was_ff = b == 0xFF;
        }
    }

    /// Whether the end marker was seen.
    pub(crate) fn is_found(&self) -> bool {
        self.found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_marker_across_chunk_boundaries() {
        let mut scan = EndMarkerScan::default();
        scan.feed(&[0x12, 0xFF, 0x00, 0x34, 0xFF]);
        assert!(!scan.is_found());
        scan.feed(&[0xD9]);
        assert!(scan.is_found());
    }

    #[test]
    fn stuffed_bytes_and_restart_markers_are_not_the_end() {
        let mut scan = EndMarkerScan::default();
        scan.feed(&[0xFF, 0x00, 0xD9, 0xFF, 0xD0, 0xD9, 0xFF, 0xFF]);
        assert!(!scan.is_found());
    }
}
