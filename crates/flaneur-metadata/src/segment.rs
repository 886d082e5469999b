//! Walks the JPEG header: the marker segments between SOI and the first SOS. It finds where the
//! header ends, the picture size in the SOF segment and the APP1 payloads holding EXIF and
//! XMP. It never looks at scan data, so a prefix of the file is enough.

/// Where the JPEG header (everything before the scan data) ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderScan {
    /// The header is complete; the offset is just past the SOS segment header.
    Complete(usize),
    /// The bytes end inside the header: read more and ask again.
    NeedMore,
    /// The bytes are not a JPEG, or its header is broken.
    NotJpeg,
}

/// Where the JPEG header ends, from a prefix of the file.
///
/// Call it again with a longer prefix while it answers [`HeaderScan::NeedMore`].
pub fn header_end(bytes: &[u8]) -> HeaderScan {
    match walk(bytes) {
        Walk::Header(header) => HeaderScan::Complete(header.end),
        Walk::NeedMore => HeaderScan::NeedMore,
        Walk::NotJpeg | Walk::Malformed(_) => HeaderScan::NotJpeg,
    }
}

/// What a complete header holds that the reader needs.
#[derive(Debug, Default)]
pub(crate) struct Header<'a> {
    /// Offset just past the SOS segment header.
    pub end: usize,
    /// Width and height from the first SOF segment.
    pub size: Option<(u32, u32)>,
    /// The TIFF structure of the first EXIF APP1 segment (after `Exif\0\0`).
    pub exif: Option<&'a [u8]>,
    /// The packet of the first standard XMP APP1 segment.
    pub xmp: Option<&'a [u8]>,
}

/// The outcome of walking the header.
#[derive(Debug)]
pub(crate) enum Walk<'a> {
    /// The header is complete.
    Header(Header<'a>),
    /// The bytes end before the first SOS.
    NeedMore,
    /// The bytes do not start with a JPEG signature.
    NotJpeg,
    /// The structure is broken; says what and where.
    Malformed(String),
}

const EXIF_ID: &[u8] = b"Exif\0\0";
const XMP_ID: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";

const APP1: u8 = 0xE1;
const SOS: u8 = 0xDA;
const EOI: u8 = 0xD9;
const SOI: u8 = 0xD8;

/// Walks the segments from SOI to the first SOS.
///
/// The work is linear in the header size: every segment is at least 4 bytes long and is
/// visited once.
pub(crate) fn walk(bytes: &[u8]) -> Walk<'_> {
    // A JPEG starts with SOI immediately followed by another marker.
    let signature = [0xFF, SOI, 0xFF];
    if bytes.len() < signature.len() {
        return if signature.starts_with(bytes) && !bytes.is_empty() {
            Walk::NeedMore
        } else {
            Walk::NotJpeg
        };
    }
    if !bytes.starts_with(&signature) {
        return Walk::NotJpeg;
    }

    let mut header = Header::default();
    let mut pos = 2;
    loop {
        // A marker is 0xFF then a code; extra 0xFF bytes before the code are fill bytes.
        match bytes.get(pos) {
            None => return Walk::NeedMore,
            Some(0xFF) => {}
            Some(other) => {
                return Walk::Malformed(format!("byte {other:#04x} at offset {pos}, not a marker"));
            }
        }
        while bytes.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let Some(&code) = bytes.get(pos) else {
            return Walk::NeedMore;
        };
        pos += 1;

        // Stand-alone markers carry no length.
        match code {
            0x01 | 0xD0..=0xD7 => continue,
            SOI | EOI | 0x00 => {
                return Walk::Malformed(format!(
                    "marker {code:#04x} at offset {} in header",
                    pos - 1
                ));
            }
            _ => {}
        }

        let Some(len_bytes) = bytes.get(pos..pos + 2) else {
            return Walk::NeedMore;
        };
        let len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
        if len < 2 {
            return Walk::Malformed(format!("segment length {len} at offset {pos}"));
        }
        let Some(data) = bytes.get(pos + 2..pos + len) else {
            return Walk::NeedMore;
        };
        pos += len;

        match code {
            SOS => {
                header.end = pos;
                return Walk::Header(header);
            }
            APP1 => keep_app1(&mut header, data),
            // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC) which share the range.
            0xC0..=0xCF if !matches!(code, 0xC4 | 0xC8 | 0xCC) && header.size.is_none() => {
                header.size = frame_size(data);
            }
            _ => {}
        }
    }
}

/// Keeps the first EXIF and the first standard XMP payload. Their order varies: GoPro puts
/// XMP before EXIF, and readers that only look at the first APP1 miss its EXIF.
fn keep_app1<'a>(header: &mut Header<'a>, data: &'a [u8]) {
    if let Some(tiff) = data.strip_prefix(EXIF_ID) {
        header.exif.get_or_insert(tiff);
    } else if let Some(packet) = data.strip_prefix(XMP_ID) {
        header.xmp.get_or_insert(packet);
    }
}

/// Width and height from a SOF payload: precision (1 byte), height, width (2 bytes each).
fn frame_size(data: &[u8]) -> Option<(u32, u32)> {
    let height = u16::from_be_bytes([*data.get(1)?, *data.get(2)?]);
    let width = u16::from_be_bytes([*data.get(3)?, *data.get(4)?]);
    Some((u32::from(width), u32::from(height)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A marker segment with its length field.
    fn segment(code: u8, payload: &[u8]) -> Vec<u8> {
        let len = u16::try_from(payload.len() + 2).expect("test payloads are small");
        let mut out = vec![0xFF, code];
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    fn tiny_jpeg() -> Vec<u8> {
        let mut out = vec![0xFF, SOI];
        out.extend(segment(APP1, b"http://ns.adobe.com/xap/1.0/\0<x/>"));
        out.extend(segment(APP1, b"Exif\0\0MM\0*"));
        out.extend(segment(0xC0, &[8, 0, 21, 0, 128, 3]));
        out.extend(segment(SOS, &[1, 1, 0, 0, 63, 0]));
        out.extend_from_slice(&[0x12, 0x34, 0xFF, EOI]);
        out
    }

    #[test]
    fn finds_header_end_size_and_app1_payloads_in_any_order() {
        let bytes = tiny_jpeg();
        let Walk::Header(header) = walk(&bytes) else {
            panic!("tiny jpeg should walk");
        };
        assert_eq!(header.end, bytes.len() - 4);
        assert_eq!(header.size, Some((128, 21)));
        assert_eq!(header.exif, Some(&b"MM\0*"[..]));
        assert_eq!(header.xmp, Some(&b"<x/>"[..]));
        assert_eq!(header_end(&bytes), HeaderScan::Complete(bytes.len() - 4));
    }

    #[test]
    fn asks_for_more_on_every_strict_prefix_of_the_header() {
        let bytes = tiny_jpeg();
        let end = bytes.len() - 4;
        for cut in 1..end {
            assert_eq!(
                header_end(&bytes[..cut]),
                HeaderScan::NeedMore,
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn rejects_what_is_not_a_jpeg() {
        assert_eq!(header_end(b""), HeaderScan::NotJpeg);
        assert_eq!(header_end(b"\x89PNG\r\n\x1a\n"), HeaderScan::NotJpeg);
        assert_eq!(header_end(b"hello, not a pic"), HeaderScan::NotJpeg);
        assert_eq!(header_end(&[0xFF, SOI, 0xFF, EOI]), HeaderScan::NotJpeg);
        assert_eq!(
            header_end(&[0xFF, SOI, 0xFF, 0xE0, 0, 1]),
            HeaderScan::NotJpeg
        );
    }
}
