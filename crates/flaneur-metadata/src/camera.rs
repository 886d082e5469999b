//! What the camera and its optics say about the picture: make, model, focal length and the
//! horizontal field of view, from the tags and, where they are silent, from the camera
//! table's entry for the model (looked up by the `camera_table` module).

use exif::Tag;
use flaneur_model::{Crop, Projection};

use crate::camera_table::CameraSpec;
use crate::fields::ExifFields;

/// The 36 mm width of the film frame that "35 mm equivalent" focal lengths refer to.
const FILM_WIDTH_MM: f64 = 36.0;

/// The maker, trimmed; `None` when absent or blank.
pub(crate) fn make(exif: Option<&ExifFields>) -> Option<String> {
    exif?.text(Tag::Make)
}

/// The model without a leading repeat of the maker (`GoPro Max` → `Max`), as the reference
/// reader reports it; the whole model when nothing would remain.
pub(crate) fn model(exif: Option<&ExifFields>, make: Option<&str>) -> Option<String> {
    let model = exif?.text(Tag::Model)?;
    Some(match make {
        Some(make) => strip_make(&model, make).to_owned(),
        None => model,
    })
}

/// `model` without `make` in front (ignoring case), or all of `model` if nothing would remain.
pub(crate) fn strip_make<'a>(model: &'a str, make: &str) -> &'a str {
    model
        .get(..make.len())
        .filter(|prefix| prefix.eq_ignore_ascii_case(make))
        .and_then(|_| model.get(make.len()..))
        .map(str::trim)
        .filter(|rest| !rest.is_empty())
        .unwrap_or(model)
}

/// The focal length in millimetres: the tag's, else the camera table's. A tag of 0 (written
/// by some phones) means unknown.
pub(crate) fn focal_length_mm(
    exif: Option<&ExifFields>,
    camera: Option<&CameraSpec>,
) -> Option<f64> {
    let tag = exif
        .and_then(|e| e.real(Tag::FocalLength))
        .and_then(Result::ok)
        .filter(|f| *f > 0.0 && f.is_finite());
    tag.or_else(|| camera?.focal_length_mm)
}

/// The horizontal field of view in degrees, in the reference reader's order: the covered part
/// of 360° for equirectangular pictures; else computed from the focal length and the table's
/// sensor width; else from the 35 mm equivalent focal length; else the table's own figure.
pub(crate) fn field_of_view_deg(
    exif: Option<&ExifFields>,
    projection: Projection,
    crop: Option<&Crop>,
    focal_length_mm: Option<f64>,
    camera: Option<&CameraSpec>,
) -> Option<f64> {
    if projection == Projection::Equirectangular {
        let covered = crop.map_or(1.0, |c| f64::from(c.width) / f64::from(c.full_width));
        return Some(360.0 * covered);
    }
    let from_sensor = || fov_from_sensor(camera?.sensor_width_mm?, focal_length_mm?);
    let from_35mm = || fov_from_35mm(f64::from(exif?.uint(Tag::FocalLengthIn35mmFilm)?));
    from_sensor()
        .or_else(from_35mm)
        .or_else(|| camera?.field_of_view_deg)
}

/// The angle a sensor of that width sees through a lens of that focal length.
fn fov_from_sensor(sensor_width_mm: f64, focal_length_mm: f64) -> Option<f64> {
    (sensor_width_mm > 0.0 && focal_length_mm > 0.0)
        .then(|| (2.0 * (sensor_width_mm / (2.0 * focal_length_mm)).atan()).to_degrees())
}

/// The same angle for a 35 mm film frame, which the "35 mm equivalent" focal length assumes.
fn fov_from_35mm(focal_35: f64) -> Option<f64> {
    fov_from_sensor(FILM_WIDTH_MM, focal_35)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_field_of_view_from_35mm_focal() {
        let fov = fov_from_35mm(26.0).expect("positive focal");
        assert!((fov - 69.39).abs() < 0.01, "{fov}");
        assert_eq!(fov_from_35mm(0.0), None);
    }

    #[test]
    fn strips_the_make_from_the_model() {
        assert_eq!(strip_make("GoPro Max", "GoPro"), "Max");
        assert_eq!(strip_make("ONEPLUS A5000", "OnePlus"), "A5000");
        assert_eq!(strip_make("SP-720UZ", "OLYMPUS IMAGING CORP."), "SP-720UZ");
        assert_eq!(strip_make("Canon", "Canon"), "Canon");
    }

    #[test]
    fn full_spheres_see_360_degrees() {
        assert_eq!(
            field_of_view_deg(None, Projection::Equirectangular, None, None, None),
            Some(360.0)
        );
        assert_eq!(
            field_of_view_deg(None, Projection::Flat, None, None, None),
            None
        );
    }

    #[test]
    fn computes_field_of_view_from_sensor_width_as_the_reference() {
        // Sony FDR-X1000V: 6.19 mm sensor, 2.8 mm lens; the reference server says 96.
        let fov = fov_from_sensor(6.19, 2.8).expect("positive sizes");
        assert_eq!(fov.round(), 96.0, "{fov}");
    }

    #[test]
    fn falls_back_to_the_table_field_of_view_last() {
        let table = CameraSpec {
            sensor_width_mm: Some(6.0),
            is_360: false,
            gps_accuracy_m: None,
            focal_length_mm: None,
            field_of_view_deg: Some(70.7),
        };
        let flat = Projection::Flat;
        let fov = field_of_view_deg(None, flat, None, Some(3.0), Some(&table));
        assert_eq!(fov.map(f64::round), Some(90.0));
        assert_eq!(
            field_of_view_deg(None, flat, None, None, Some(&table)),
            Some(70.7)
        );
    }
}
