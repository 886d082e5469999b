//! Whether a picture is a 360° panorama and which part of the sphere it covers: from the
//! XMP GPano tags (Google's photo-sphere namespace, written by phones, GoPro, DJI...), else
//! from the camera table and the picture's 2:1 shape.
//!
//! A 2:1 shape alone does not make a sphere. The reference reader takes any 2:1 picture from
//! a camera missing from its table as equirectangular, and flat pictures cropped to 2:1 then
//! show as broken spheres. Here a picture without GPano tags is a sphere only when the table
//! knows its camera shoots spheres; a 2:1 picture from an unknown camera stays flat, with a
//! warning. The cost is that spheres from unknown cameras that write no GPano tags show flat:
//! still viewable, where a flat picture wrapped on a sphere is not.
//!
//! A partial panorama, cropped left and right as well as top and bottom (a 90° sweep from a
//! phone), stays equirectangular with its crop, not flat: the reference viewer places it on
//! the sphere by its `visible_area`, its field of view is 360° × cropped width / full width,
//! and shown flat its horizon would bend. Only a cylindrical panorama without crop tags, whose
//! place on the sphere is unknown, is flat.

use flaneur_model::{Crop, Projection};

use crate::camera_table::CameraSpec;
use crate::error::ReadError;
use crate::xmp::Xmp;

const FULL_WIDTH: &str = "Xmp.GPano.FullPanoWidthPixels";
const FULL_HEIGHT: &str = "Xmp.GPano.FullPanoHeightPixels";
const WIDTH: &str = "Xmp.GPano.CroppedAreaImageWidthPixels";
const HEIGHT: &str = "Xmp.GPano.CroppedAreaImageHeightPixels";
const LEFT: &str = "Xmp.GPano.CroppedAreaLeftPixels";
const TOP: &str = "Xmp.GPano.CroppedAreaTopPixels";

/// Warning given when the shape alone would have made a sphere in the reference reader.
pub(crate) const TWO_TO_ONE_READ_AS_FLAT: &str = "picture is 2:1 without panorama tags and \
     its camera is not known to shoot 360°: read as flat";

/// The projection and, for panoramas with GPano crop tags, the crop.
///
/// Without a GPano projection type, a picture of `size` (stored width and height) is
/// equirectangular when `camera` shoots spheres and the picture is 2:1, as full spheres are.
///
/// The crop is given in the GPano pixel space, as the tags say it: a downscaled sphere (d1.jpg
/// is 1024 pixels wide, its tags say 8704) keeps its tag values, as the reference server
/// reports them. Scale by `width / crop.width` to reach stored pixels.
///
/// # Errors
/// [`ReadError::InvalidValue`] (field `crop`) when crop tags are partial or inconsistent.
pub(crate) fn projection(
    xmp: &Xmp,
    size: (u32, u32),
    camera: Option<&CameraSpec>,
    warnings: &mut Vec<String>,
) -> Result<(Projection, Option<Crop>), ReadError> {
    let Some(kind) = xmp.get("Xmp.GPano.ProjectionType") else {
        return Ok((projection_from_camera(size, camera, warnings), None));
    };
    if kind.eq_ignore_ascii_case("equirectangular") {
        return Ok((Projection::Equirectangular, crop(xmp)?));
    }
    // The reference reader takes a cropped cylindrical panorama as equirectangular.
    if kind.eq_ignore_ascii_case("cylindrical")
        && let Some(crop) = crop(xmp)?
    {
        return Ok((Projection::Equirectangular, Some(crop)));
    }
    Ok((Projection::Flat, None))
}

/// The projection of a picture without GPano projection type: see the module docs for why
/// the shape needs a known 360° camera.
fn projection_from_camera(
    (width, height): (u32, u32),
    camera: Option<&CameraSpec>,
    warnings: &mut Vec<String>,
) -> Projection {
    let is_two_to_one = u64::from(width) == 2 * u64::from(height);
    match camera {
        Some(camera) if camera.is_360 && is_two_to_one => Projection::Equirectangular,
        // A known flat camera, or a known 360° camera's flat shot (a cropped frame).
        Some(_) => Projection::Flat,
        None => {
            if is_two_to_one {
                warnings.push(TWO_TO_ONE_READ_AS_FLAT.to_owned());
            }
            Projection::Flat
        }
    }
}

/// The crop from the six GPano crop tags; `None` when none is present.
///
/// A missing full size is inferred as a 2:1 sphere around the cropped area, and missing
/// offsets centre it, as the reference reader does.
fn crop(xmp: &Xmp) -> Result<Option<Crop>, ReadError> {
    let value = |key: &'static str| -> Result<Option<u32>, ReadError> {
        let Some(text) = xmp.get(key) else {
            return Ok(None);
        };
        let number = crate::xmp::parse_number(text)
            .filter(|n| n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(n))
            .ok_or_else(|| invalid(format!("{key} is {text:?}, not a pixel count")))?;
        // Integral and within u32, checked above.
        Ok(Some(number as u32))
    };
    let keys = [FULL_WIDTH, FULL_HEIGHT, WIDTH, HEIGHT, LEFT, TOP];
    let values: Vec<Option<u32>> = keys.iter().map(|k| value(k)).collect::<Result<_, _>>()?;
    let [full_width, full_height, width, height, left, top] = values[..] else {
        return Ok(None);
    };
    if values.iter().all(Option::is_none) {
        return Ok(None);
    }

    let (Some(width), Some(height)) = (width, height) else {
        return Err(invalid(
            "GPano crop tags lack the cropped area size".to_owned(),
        ));
    };
    let (full_width, full_height) = match (full_width, full_height) {
        (Some(w), Some(h)) => (w, h),
        (Some(w), None) => (w, w / 2),
        (None, Some(h)) => (h.saturating_mul(2), h),
        (None, None) => {
            let w = width.max(height.saturating_mul(2));
            (w, w / 2)
        }
    };
    let left = left.unwrap_or(full_width.saturating_sub(width) / 2);
    let top = top.unwrap_or(full_height.saturating_sub(height) / 2);

    let crop = Crop {
        full_width,
        full_height,
        width,
        height,
        left,
        top,
    };
    // A crop past the right edge would wrap across the seam: GPano does not say it may, the
    // viewer cannot show it, and its `visible_area` would have a negative margin.
    let past_right = left.saturating_add(width) > full_width;
    if width == 0 || height == 0 || past_right || top.saturating_add(height) > full_height {
        return Err(invalid(format!(
            "GPano crop {crop:?} does not fit in its panorama"
        )));
    }
    Ok(Some(crop))
}

fn invalid(reason: String) -> ReadError {
    ReadError::InvalidValue {
        field: "crop",
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn projection(xmp: &Xmp) -> Result<(Projection, Option<Crop>), ReadError> {
        super::projection(xmp, (64, 48), None, &mut Vec::new())
    }

    fn sphere_camera(is_360: bool) -> CameraSpec {
        CameraSpec {
            sensor_width_mm: None,
            is_360,
            gps_accuracy_m: None,
            focal_length_mm: None,
            field_of_view_deg: None,
        }
    }

    fn xmp(attributes: &str) -> Xmp {
        let packet = format!(
            "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF \
             xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description \
             xmlns:GPano=\"http://ns.google.com/photos/1.0/panorama/\" {attributes}/>\
             </rdf:RDF></x:xmpmeta>"
        );
        Xmp::parse(packet.as_bytes(), &mut Vec::new())
    }

    #[test]
    fn reads_a_cropped_sphere() {
        let tags = xmp(
            "GPano:ProjectionType=\"equirectangular\" GPano:FullPanoWidthPixels=\"15872\" \
             GPano:FullPanoHeightPixels=\"7936\" GPano:CroppedAreaImageWidthPixels=\"15872\" \
             GPano:CroppedAreaImageHeightPixels=\"2606\" GPano:CroppedAreaLeftPixels=\"0\" \
             GPano:CroppedAreaTopPixels=\"2538\"",
        );
        let (projection, crop) = projection(&tags).expect("valid crop");
        assert_eq!(projection, Projection::Equirectangular);
        let crop = crop.expect("crop tags present");
        assert_eq!(crop.visible_area(), [0, 2538, 0, 2792]);
    }

    #[test]
    fn reads_a_partial_sphere_and_refuses_one_past_the_seam() {
        let partial = "GPano:ProjectionType=\"equirectangular\" \
             GPano:FullPanoWidthPixels=\"8192\" GPano:FullPanoHeightPixels=\"4096\" \
             GPano:CroppedAreaImageWidthPixels=\"2048\" \
             GPano:CroppedAreaImageHeightPixels=\"1024\" GPano:CroppedAreaTopPixels=\"1536\"";
        let at = |left: u32| {
            projection(&xmp(&format!(
                "{partial} GPano:CroppedAreaLeftPixels=\"{left}\""
            )))
        };
        let crop = at(6144).expect("fits").1.expect("crop");
        assert_eq!(crop.visible_area(), [6144, 1536, 0, 1536]);
        assert!(matches!(
            at(6145),
            Err(ReadError::InvalidValue { field: "crop", .. })
        ));
        assert!(at(u32::MAX).is_err());
    }

    #[test]
    fn infers_a_missing_full_size_and_centres() {
        let tags = xmp("GPano:ProjectionType=\"equirectangular\" \
             GPano:CroppedAreaImageWidthPixels=\"4000\" \
             GPano:CroppedAreaImageHeightPixels=\"1000\"");
        let crop = projection(&tags).expect("valid crop").1.expect("crop");
        assert_eq!(
            (crop.full_width, crop.full_height, crop.left, crop.top),
            (4000, 2000, 0, 500)
        );
    }

    #[test]
    fn refuses_partial_crops() {
        let tags = xmp("GPano:ProjectionType=\"equirectangular\" GPano:FullPanoWidthPixels=\"8\"");
        assert!(matches!(
            projection(&tags),
            Err(ReadError::InvalidValue { field: "crop", .. })
        ));
        let tags = xmp("GPano:ProjectionType=\"equirectangular\" GPano:FullPanoWidthPixels=\"x\"");
        assert!(projection(&tags).is_err());
        // Crop tags on a flat picture are not looked at.
        let tags = xmp("GPano:FullPanoWidthPixels=\"8\"");
        assert_eq!(projection(&tags), Ok((Projection::Flat, None)));
    }

    #[test]
    fn is_flat_without_gpano() {
        assert_eq!(projection(&Xmp::default()), Ok((Projection::Flat, None)));
    }

    #[test]
    fn takes_two_to_one_pictures_of_known_360_cameras_as_spheres() {
        let mut warnings = Vec::new();
        let sphere = sphere_camera(true);
        let flat = sphere_camera(false);
        let shape = |size, camera| projection_from_camera(size, camera, &mut Vec::new());
        assert_eq!(
            shape((5760, 2880), Some(&sphere)),
            Projection::Equirectangular
        );
        assert_eq!(shape((4000, 3000), Some(&sphere)), Projection::Flat);
        assert_eq!(shape((5760, 2880), Some(&flat)), Projection::Flat);
        let unknown = projection_from_camera((5760, 2880), None, &mut warnings);
        assert_eq!(unknown, Projection::Flat);
        assert_eq!(warnings, [TWO_TO_ONE_READ_AS_FLAT]);
    }

    #[test]
    fn lets_gpano_tags_decide_before_the_camera() {
        let sphere = sphere_camera(true);
        let flat = xmp("GPano:ProjectionType=\"flat\"");
        let got = super::projection(&flat, (64, 32), Some(&sphere), &mut Vec::new());
        assert_eq!(got, Ok((Projection::Flat, None)));
    }
}
