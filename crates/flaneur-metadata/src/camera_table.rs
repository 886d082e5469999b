//! The camera table: what is known of about 3,800 camera models that their tags do not say
//! (sensor width, whether they shoot full spheres, how good their GPS is, a default focal
//! length and field of view). The data is the reference reader's own table, shipped in
//! `data/cameras.csv`; using its values is left to the `camera`, `pano` and `accuracy`
//! modules.

use std::sync::LazyLock;

/// The table as shipped; parsed once, on first use.
const CAMERAS_CSV: &str = include_str!("../data/cameras.csv");

static TABLE: LazyLock<Vec<Maker>> = LazyLock::new(|| by_maker(parse(CAMERAS_CSV)));

/// What the table knows of one camera model. Unknown values are `None`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CameraSpec {
    /// Width of the sensor in millimetres.
    pub sensor_width_mm: Option<f64>,
    /// The camera shoots full spheres.
    pub is_360: bool,
    /// Typical horizontal accuracy of its GPS, metres.
    pub gps_accuracy_m: Option<f64>,
    /// Focal length for pictures that do not give theirs, millimetres.
    pub focal_length_mm: Option<f64>,
    /// Horizontal field of view, degrees, for when nothing better can be computed.
    pub field_of_view_deg: Option<f64>,
}

/// One line of the table, with make and model lowercased for matching.
#[derive(Debug)]
struct Row {
    make: String,
    model: String,
    spec: CameraSpec,
}

/// The rows of one make. The table has about 90 makers for 3,800 rows: matching the make once
/// per maker rather than once per row took the whole reading of b1.jpg from 100 µs to 21 µs.
#[derive(Debug)]
struct Maker {
    make: String,
    rows: Vec<Row>,
}

/// Groups rows by make, in the table's order.
fn by_maker(rows: Vec<Row>) -> Vec<Maker> {
    let mut makers: Vec<Maker> = Vec::new();
    for row in rows {
        match makers.iter_mut().find(|m| m.make == row.make) {
            Some(maker) => maker.rows.push(row),
            None => makers.push(Maker {
                make: row.make.clone(),
                rows: vec![row],
            }),
        }
    }
    makers
}

/// The table's entry for a camera, matched as the reference reader does: the table's make is
/// found anywhere in the picture's make ("Olympus" in "OLYMPUS IMAGING CORP."), then the
/// longest table model that starts the picture's model ("EOS 6D" for "EOS 6D0"), both
/// ignoring case.
///
/// A picture make can contain several table makes ("LG" and "LG Electronics"); their models
/// are searched together, and on equal model lengths the longer make wins, so that a short
/// make matched by chance never hides the real one.
pub(crate) fn find(make: &str, model: &str) -> Option<&'static CameraSpec> {
    find_in(&TABLE, make, model)
}

fn find_in<'a>(makers: &'a [Maker], make: &str, model: &str) -> Option<&'a CameraSpec> {
    let make = make.to_lowercase();
    let model = model.to_lowercase();
    makers
        .iter()
        .filter(|maker| make.contains(maker.make.as_str()))
        .flat_map(|maker| &maker.rows)
        .filter(|row| model.starts_with(row.model.as_str()))
        .max_by_key(|row| (row.model.len(), row.make.len()))
        .map(|row| &row.spec)
}

/// Reads the `;`-separated, quoted lines of the table. Comment lines (`#`), the header and
/// lines with an empty make or model are skipped: an empty key would match every camera.
fn parse(text: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') || line.starts_with("\"make\"") {
            continue;
        }
        let cells: Vec<&str> = line
            .split(';')
            .map(|c| c.trim().trim_matches('"'))
            .collect();
        let [make, model, sensor, is_360, accuracy, focal, fov] = cells[..] else {
            continue;
        };
        if make.is_empty() || model.is_empty() {
            continue;
        }
        rows.push(Row {
            make: make.to_lowercase(),
            model: model.to_lowercase(),
            spec: CameraSpec {
                sensor_width_mm: positive(sensor),
                is_360: is_360 == "1",
                gps_accuracy_m: positive(accuracy),
                focal_length_mm: positive(focal),
                field_of_view_deg: positive(fov),
            },
        });
    }
    rows
}

/// A cell as a positive number; empty, zero (the table's "unknown") or unreadable is `None`.
fn positive(cell: &str) -> Option<f64> {
    cell.parse::<f64>()
        .ok()
        .filter(|v| *v > 0.0 && v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ships_every_line_of_the_reference_table() {
        let data_lines = CAMERAS_CSV
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("\"make\""))
            .count();
        let rows: usize = TABLE.iter().map(|maker| maker.rows.len()).sum();
        assert_eq!(rows, data_lines);
        assert!(rows > 3_700, "{rows}");
    }

    #[test]
    fn matches_make_by_substring_and_model_by_longest_prefix() {
        let olympus = find("OLYMPUS IMAGING CORP.", "SP-720UZ").expect("olympus is known");
        assert_eq!(olympus.sensor_width_mm, Some(6.16));
        let canon = find("Canon", "EOS 6D0").expect("prefix EOS 6D matches");
        assert_eq!(canon.sensor_width_mm, Some(35.8));
        assert_eq!(find("Canon", "Unknown 1"), None);
        assert_eq!(find("Nobody", "Max"), None);
    }

    #[test]
    fn knows_the_test_cameras_as_the_reference_does() {
        let gopro = find("GoPro", "Max").expect("gopro max is known");
        assert!(gopro.is_360);
        assert_eq!(gopro.sensor_width_mm, Some(6.17));
        assert_eq!(gopro.gps_accuracy_m, None);
        let sony = find("SONY", "FDR-X1000V").expect("sony action cam is known");
        assert_eq!(sony.gps_accuracy_m, Some(4.0));
        assert!(!sony.is_360);
        let pixel = find("Google", "Pixel 8").expect("pixel 8 is known");
        assert_eq!(pixel.focal_length_mm, Some(6.9));
        assert_eq!(pixel.field_of_view_deg, Some(70.7));
    }

    #[test]
    fn prefers_longer_models_then_longer_makes() {
        let rows = parse(
            "\"LG\";\"R1\";\"1\";;;;\n\"LG Electronics\";\"R1\";\"2\";;;;\n\
             \"LG Electronics\";\"R10\";\"3\";;;;\n\"X\";\"\";\"9\";;;;\n",
        );
        assert_eq!(rows.len(), 3, "empty models are skipped");
        let rows = by_maker(rows);
        let width = |make, model| find_in(&rows, make, model).and_then(|s| s.sensor_width_mm);
        assert_eq!(width("LG Electronics", "R105"), Some(3.0));
        assert_eq!(width("LG Electronics", "R1"), Some(2.0));
        assert_eq!(width("LG", "R1"), Some(1.0));
    }

    #[test]
    fn reads_zero_and_blank_cells_as_unknown() {
        assert_eq!(positive(""), None);
        assert_eq!(positive("0"), None);
        assert_eq!(positive("4"), Some(4.0));
        assert_eq!(positive("x"), None);
    }
}
