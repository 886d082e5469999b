//! The `panoramax.csv` sidecar: values a contributor gives for pictures that lack them
//! (position, capture time, heading, raw EXIF/XMP tags), sent as the upload API's `override_*`
//! form fields, as the Panoramax command-line uploader does.
//!
//! Columns: `file` (required), then any of `lon`, `lat`, `capture_time` (RFC 3339 with its
//! offset), `heading` (degrees), `field_of_view` (only 360, which marks a 360° picture), and
//! `Exif.*` / `Xmp.*` keys. The separator (comma, semicolon or tab) is the one of the header.

use std::collections::HashMap;
use std::path::Path;

use chrono::DateTime;

/// The file name the sidecar must have in the picture folder.
pub const FILE_NAME: &str = "panoramax.csv";

/// Form fields to send with each picture, by file name.
pub type Overrides = HashMap<String, Vec<(String, String)>>;

/// Reads the sidecar of a folder; `Ok(None)` when there is none.
///
/// # Errors
/// A message naming the line and column of the first value that cannot be used.
pub fn read(dir: &Path) -> Result<Option<Overrides>, String> {
    let path = dir.join(FILE_NAME);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    parse(&text)
        .map(Some)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses sidecar text.
///
/// # Errors
/// A message naming the line and column of the first value that cannot be used.
pub fn parse(text: &str) -> Result<Overrides, String> {
    // Spreadsheets often save "CSV UTF-8" with a byte-order mark before the header.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Ok(Overrides::new());
    };
    let separator = [',', ';', '\t']
        .into_iter()
        .max_by_key(|s| header.matches(*s).count())
        .unwrap_or(',');
    let columns: Vec<&str> = header.split(separator).map(str::trim).collect();
    let Some(file_col) = columns.iter().position(|c| *c == "file") else {
        return Err(
            "the header has no 'file' column naming each picture (columns are separated by \
             commas, semicolons or tabs)"
                .to_owned(),
        );
    };

    let mut overrides = Overrides::new();
    for (index, line) in lines {
        let line_no = index + 1;
        let cells: Vec<&str> = line.split(separator).map(str::trim).collect();
        let Some(file) = cells.get(file_col).filter(|f| !f.is_empty()) else {
            return Err(format!("line {line_no}: no file name"));
        };
        let mut fields = Vec::new();
        let mut position = (None, None);
        for (column, value) in columns.iter().zip(&cells) {
            if value.is_empty() {
                continue;
            }
            let bad = |what: &str| format!("line {line_no}, column {column}: {what}");
            match *column {
                "file" => {}
                "lon" => {
                    position.0 = Some(number(value, 180.0).ok_or_else(|| bad("not a longitude"))?)
                }
                "lat" => {
                    position.1 = Some(number(value, 90.0).ok_or_else(|| bad("not a latitude"))?)
                }
                "capture_time" => {
                    DateTime::parse_from_rfc3339(value).map_err(|_| {
                        bad("not an RFC 3339 instant with its offset (2021-07-29T11:16:54+02:00)")
                    })?;
                    fields.push(("override_capture_time".to_owned(), (*value).to_owned()));
                }
                "heading" => {
                    let h = number(value, 360.0).filter(|h| *h >= 0.0);
                    let h = h.ok_or_else(|| bad("not a heading in degrees (0 to 360)"))?;
                    let key = "override_Exif.GPSInfo.GPSImgDirection".to_owned();
                    fields.push((key, h.to_string()));
                }
                "field_of_view" => match number(value, 360.0) {
                    Some(360.0) => fields.push((
                        "override_Xmp.GPano.ProjectionType".to_owned(),
                        "equirectangular".to_owned(),
                    )),
                    _ => return Err(bad("only 360 (a 360° picture) can be given")),
                },
                key if key.starts_with("Exif.") || key.starts_with("Xmp.") => {
                    fields.push((format!("override_{key}"), (*value).to_owned()));
                }
                // Other columns are notes for people; the reference uploader ignores them too.
                _ => {}
            }
        }
        match position {
            (Some(lon), Some(lat)) => {
                fields.push(("override_longitude".to_owned(), lon.to_string()));
                fields.push(("override_latitude".to_owned(), lat.to_string()));
            }
            (None, None) => {}
            _ => return Err(format!("line {line_no}: give both lon and lat, or neither")),
        }
        if overrides.insert((*file).to_owned(), fields).is_some() {
            return Err(format!(
                "line {line_no}: {file} already has a line; keep one per picture"
            ));
        }
    }
    Ok(overrides)
}

fn number(text: &str, max_abs: f64) -> Option<f64> {
    text.parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && n.abs() <= max_abs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_reference_uploader_sidecar() {
        let text = "file,lon,lat,capture_time,field_of_view,heading\n\
                    e1.jpg,3.265,50.5151,2018-01-22T02:52:09+00:00,,\n\
                    e3.jpg,3.265277778,50.513433333,2018-01-22T02:54:09+00:00,360,15\n";
        let o = parse(text).expect("valid sidecar");
        let e1 = &o["e1.jpg"];
        assert!(e1.contains(&("override_longitude".into(), "3.265".into())));
        assert!(e1.contains(&("override_latitude".into(), "50.5151".into())));
        assert!(e1.contains(&(
            "override_capture_time".into(),
            "2018-01-22T02:52:09+00:00".into()
        )));
        let e3 = &o["e3.jpg"];
        assert!(e3.contains(&("override_Exif.GPSInfo.GPSImgDirection".into(), "15".into())));
        assert!(e3.contains(&(
            "override_Xmp.GPano.ProjectionType".into(),
            "equirectangular".into()
        )));
    }

    #[test]
    fn passes_raw_tags_and_detects_the_separator() {
        let text = "file;Exif.Image.Artist;Xmp.xmp.Rating\ne1.jpg;A 2 years old;1\n";
        let o = parse(text).expect("valid sidecar");
        assert_eq!(
            o["e1.jpg"],
            [
                (
                    "override_Exif.Image.Artist".to_owned(),
                    "A 2 years old".to_owned()
                ),
                ("override_Xmp.xmp.Rating".to_owned(), "1".to_owned()),
            ]
        );
    }

    #[test]
    fn accepts_a_byte_order_mark_and_refuses_duplicate_lines() {
        let o = parse("\u{feff}file,lat,lon\ne1.jpg,48.8,2.3\n").expect("BOM accepted");
        assert!(o.contains_key("e1.jpg"));
        let err = parse("file,lat,lon\ne1.jpg,48.8,2.3\ne1.jpg,48,2\n").expect_err("duplicate");
        assert!(err.contains("already has a line"), "{err}");
    }

    #[test]
    fn refuses_unusable_values_with_their_place() {
        let err = parse("file,lat\ne1.jpg,91\n").expect_err("latitude out of range");
        assert!(err.contains("line 2, column lat"), "{err}");
        let err = parse("file,lon\ne1.jpg,3\n").expect_err("lon without lat");
        assert!(err.contains("both lon and lat"), "{err}");
        let err = parse("file,capture_time\ne1.jpg,2018-01-22 02:52\n").expect_err("no offset");
        assert!(err.contains("RFC 3339"), "{err}");
        assert!(parse("name,lat\n").is_err());
    }
}
