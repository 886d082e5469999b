//! What the tags say about the camera and its optics: make, model, focal length and the
//! horizontal field of view. Camera-table defaults (sensor widths, known 360° models) are
//! left to the callers that own that table.

use exif::Tag;
use flaneur_model::{Crop, Projection};

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
fn strip_make<'a>(model: &'a str, make: &str) -> &'a str {
    model
        .get(..make.len())
        .filter(|prefix| prefix.eq_ignore_ascii_case(make))
        .and_then(|_| model.get(make.len()..))
        .map(str::trim)
        .filter(|rest| !rest.is_empty())
        .unwrap_or(model)
}

/// The focal length in millimetres; 0 (written by some phones) means unknown.
pub(crate) fn focal_length_mm(exif: Option<&ExifFields>) -> Option<f64> {
    let focal = exif?.real(Tag::FocalLength)?.ok()?;
    (focal > 0.0 && focal.is_finite()).then_some(focal)
}

/// The horizontal field of view in degrees: the covered part of 360° for equirectangular
/// pictures, else computed from the 35 mm equivalent focal length when the camera gives it.
pub(crate) fn field_of_view_deg(
    exif: Option<&ExifFields>,
    projection: Projection,
    crop: Option<&Crop>,
) -> Option<f64> {
    if projection == Projection::Equirectangular {
        let covered = crop.map_or(1.0, |c| f64::from(c.width) / f64::from(c.full_width));
        return Some(360.0 * covered);
    }
    let focal_35 = f64::from(exif?.uint(Tag::FocalLengthIn35mmFilm)?);
    fov_from_35mm(focal_35)
}

fn fov_from_35mm(focal_35: f64) -> Option<f64> {
    (focal_35 > 0.0).then(|| (2.0 * (FILM_WIDTH_MM / (2.0 * focal_35)).atan()).to_degrees())
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
            field_of_view_deg(None, Projection::Equirectangular, None),
            Some(360.0)
        );
        assert_eq!(field_of_view_deg(None, Projection::Flat, None), None);
    }
}
