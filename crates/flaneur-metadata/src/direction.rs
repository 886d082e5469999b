//! Which way the camera looked: the heading, in degrees clockwise from north, and the tag it
//! came from.
//!
//! Sources, first usable wins:
//! 1. EXIF `GPSImgDirection`, where the camera looked;
//! 2. EXIF `GPSTrack`, where it was moving, which is the same for a forward-facing camera;
//! 3. XMP `GPano:PoseHeadingDegrees`, the direction of a panorama's centre;
//! 4. DJI XMP `drone-dji:GimbalYawDegree`, then `drone-dji:FlightYawDegree`: drones tag no
//!    GPS direction (xpcomment.jpg, a Mini 3 Pro, has neither 1 nor 2) but give the yaw of the
//!    gimbal that holds the camera and of the aircraft, signed in -180..=180.
//!
//! The first three follow the reference reader and live in the `gps` module; the drone yaws
//! are ours: the reference leaves drone pictures without heading, so a sequence of them shows
//! no direction until the server computes one from the track.
//!
//! Every value is normalised to [0, 360): 360 becomes 0 and -123.1 becomes 236.9.

use crate::fields::ExifFields;
use crate::gps;
use crate::metadata::HeadingSource;
use crate::xmp::Xmp;

/// DJI's gimbal yaw: where the camera looked, which is what a heading means.
const GIMBAL_YAW: &str = "Xmp.drone-dji.GimbalYawDegree";
/// DJI's aircraft yaw: where the drone's nose pointed; the camera may turn away from it, so it
/// comes after the gimbal's.
const FLIGHT_YAW: &str = "Xmp.drone-dji.FlightYawDegree";

/// The heading in [0, 360) and its source; `None` when no tag gives a usable one.
pub(crate) fn heading(
    exif: Option<&ExifFields>,
    xmp: &Xmp,
    warnings: &mut Vec<String>,
) -> Option<(f64, HeadingSource)> {
    if let Some(found) = gps::heading(exif, xmp) {
        return Some(found);
    }
    let drone = [
        (GIMBAL_YAW, HeadingSource::DroneGimbalYaw),
        (FLIGHT_YAW, HeadingSource::DroneFlightYaw),
    ];
    drone
        .into_iter()
        .find_map(|(key, source)| Some((drone_yaw(xmp, key, warnings)?, source)))
}

/// A DJI yaw turned into a heading. DJI writes -180..=180; a value beyond a full turn either
/// way is no angle a gimbal reports, so it is left out with a warning rather than wrapped.
fn drone_yaw(xmp: &Xmp, key: &str, warnings: &mut Vec<String>) -> Option<f64> {
    let text = xmp.get(key)?;
    let yaw = crate::xmp::parse_number(text).filter(|yaw| yaw.abs() <= 360.0);
    if yaw.is_none() {
        warnings.push(format!("{key} is {text:?}, not a yaw in degrees: not used"));
    }
    gps::wrap_heading(yaw?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dji(attributes: &str) -> Xmp {
        let packet = format!(
            "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF \
             xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description \
             xmlns:dji=\"http://www.dji.com/drone-dji/1.0/\" \
             xmlns:GPano=\"http://ns.google.com/photos/1.0/panorama/\" {attributes}/>\
             </rdf:RDF></x:xmpmeta>"
        );
        Xmp::parse(packet.as_bytes(), &mut Vec::new())
    }

    fn heading_of(attributes: &str) -> (Option<(f64, HeadingSource)>, Vec<String>) {
        let mut warnings = Vec::new();
        let found = heading(None, &dji(attributes), &mut warnings);
        (found, warnings)
    }

    #[test]
    fn turns_signed_drone_yaws_into_headings() {
        let (found, _) = heading_of("dji:GimbalYawDegree=\"-123.1\" dji:FlightYawDegree=\"5\"");
        let (deg, source) = found.expect("gimbal yaw");
        assert!((deg - 236.9).abs() < 1e-9, "{deg}");
        assert_eq!(source, HeadingSource::DroneGimbalYaw);

        let (found, _) = heading_of("dji:FlightYawDegree=\"-180.0\"");
        assert_eq!(found, Some((180.0, HeadingSource::DroneFlightYaw)));
        let (found, _) = heading_of("dji:FlightYawDegree=\"+180\"");
        assert_eq!(found, Some((180.0, HeadingSource::DroneFlightYaw)));
        let (found, _) = heading_of("dji:GimbalYawDegree=\"360\"");
        assert_eq!(found, Some((0.0, HeadingSource::DroneGimbalYaw)));
    }

    #[test]
    fn prefers_the_panorama_pose_to_drone_yaws() {
        let (found, _) =
            heading_of("GPano:PoseHeadingDegrees=\"10\" dji:GimbalYawDegree=\"-123.1\"");
        assert_eq!(found, Some((10.0, HeadingSource::GPanoPoseHeading)));
    }

    #[test]
    fn skips_unusable_yaws_with_a_warning() {
        let (found, warnings) =
            heading_of("dji:GimbalYawDegree=\"1e300\" dji:FlightYawDegree=\"-90\"");
        assert_eq!(found, Some((270.0, HeadingSource::DroneFlightYaw)));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let (found, warnings) = heading_of("dji:GimbalYawDegree=\"north\"");
        assert_eq!(found, None);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(heading_of("").0, None);
    }
}
