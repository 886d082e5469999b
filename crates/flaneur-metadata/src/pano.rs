//! Whether a picture is a 360° panorama and which part of the sphere it covers, from the
//! XMP GPano tags (Google's photo-sphere namespace, written by phones, GoPro, DJI...).

use flaneur_model::{Crop, Projection};

use crate::error::ReadError;
use crate::xmp::Xmp;

const FULL_WIDTH: &str = "Xmp.GPano.FullPanoWidthPixels";
const FULL_HEIGHT: &str = "Xmp.GPano.FullPanoHeightPixels";
const WIDTH: &str = "Xmp.GPano.CroppedAreaImageWidthPixels";
const HEIGHT: &str = "Xmp.GPano.CroppedAreaImageHeightPixels";
const LEFT: &str = "Xmp.GPano.CroppedAreaLeftPixels";
const TOP: &str = "Xmp.GPano.CroppedAreaTopPixels";

/// The projection and, for panoramas with GPano crop tags, the crop.
///
/// The crop is given in the GPano pixel space, as the tags say it: a downscaled sphere (d1.jpg
/// is 1024 pixels wide, its tags say 8704) keeps its tag values, as the reference server
/// reports them. Scale by `width / crop.width` to reach stored pixels.
///
/// # Errors
/// [`ReadError::InvalidValue`] (field `crop`) when crop tags are partial or inconsistent.
pub(crate) fn projection(xmp: &Xmp) -> Result<(Projection, Option<Crop>), ReadError> {
    let kind = xmp.get("Xmp.GPano.ProjectionType").unwrap_or_default();
    if kind.eq_ignore_ascii_case("equirectangular") {
        return Ok((Projection::Equirectangular, crop(xmp)?));
    }
    // The reference reader takes a cropped cylindrical panorama as equirectangular.
    if kind.eq_ignore_ascii_case("cylindrical")
        && let Some(crop) = crop(xmp)?
    {
        return Ok((Projection::Equirectangular, Some(crop)));
    }
    // TODO: pictures with no GPano tags but a 2:1 ratio from a known 360° camera are flat
    // here — the camera table that tells which cameras shoot 360° is not wired in yet.
    Ok((Projection::Flat, None))
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
    if width == 0 || height == 0 || width > full_width || top.saturating_add(height) > full_height {
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
}
