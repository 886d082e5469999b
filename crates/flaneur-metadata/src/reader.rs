//! Puts a picture's metadata together: walks the JPEG header, parses EXIF and XMP, asks each
//! module for its values, places the clocks in the time zone of the position and decides what
//! is missing.

use std::collections::BTreeMap;

use chrono_tz::Tz;
use exif::Tag;

use crate::error::{MissingField, ReadError};
use crate::fields::ExifFields;
use crate::mapillary::Mapillary;
use crate::metadata::PictureMetadata;
use crate::segment::{self, Walk};
use crate::time::{CameraTime, Capture, Clocks, ReadOptions};
use crate::xmp::Xmp;
use crate::{accuracy, camera, camera_table, direction, gps, pano, time, zone};

/// Reads a picture's metadata from its bytes: the whole file, or any prefix that contains
/// every segment before the first SOS marker. Pixels are never decoded.
///
/// # Errors
/// - [`ReadError::NotJpeg`] when the bytes are not a JPEG;
/// - [`ReadError::Truncated`] when they end before the first scan;
/// - [`ReadError::Malformed`] when the header structure is broken or has no frame size;
/// - [`ReadError::InvalidValue`] for coordinates out of range or inconsistent GPano crops;
/// - [`ReadError::MissingFields`] when position or capture time are missing;
/// - [`ReadError::ImplausibleTime`] when the position is known but every clock is broken.
pub fn read(bytes: &[u8]) -> Result<PictureMetadata, ReadError> {
    read_with(bytes, &ReadOptions::default())
}

/// [`read`] with options: `now`, against which future clock readings are refused.
///
/// # Errors
/// As [`read`].
pub fn read_with(bytes: &[u8], options: &ReadOptions) -> Result<PictureMetadata, ReadError> {
    // 1. The header gives the frame size and the raw EXIF and XMP payloads.
    let header = match segment::walk(bytes) {
        Walk::Header(header) => header,
        Walk::NeedMore if bytes.len() < 3 => return Err(ReadError::NotJpeg),
        Walk::NeedMore => return Err(ReadError::Truncated),
        Walk::NotJpeg => return Err(ReadError::NotJpeg),
        Walk::Malformed(reason) => return Err(ReadError::Malformed { reason }),
    };
    let Some((width, height)) = header.size.filter(|&(w, h)| w > 0 && h > 0) else {
        return Err(ReadError::Malformed {
            reason: "no frame header with a size before the image data".to_owned(),
        });
    };

    // 2. Parse what is there; damage in either becomes warnings, not failures.
    let mut warnings = Vec::new();
    let exif = header
        .exif
        .and_then(|tiff| ExifFields::parse(tiff, &mut warnings));
    let exif = exif.as_ref();
    let xmp = header
        .xmp
        .map(|packet| Xmp::parse(packet, &mut warnings))
        .unwrap_or_default();

    // 3. Mandatory values. Both are looked at before failing so that the error names every
    // missing one, datetime first as the reference server lists them. The time zone comes
    // before the choice of clock: it can give the camera clock the offset that lets it win.
    // A broken clock is dropped before the choice, so that it cannot win over a good one.
    let mapillary = Mapillary::from_exif(exif);
    let mapillary = mapillary.as_ref();
    let position = gps::position(exif, &xmp, mapillary, &mut warnings)?;
    let time_zone = position.and_then(|(lat, lon)| zone::at(lat, lon));
    let ts_gps = time::gps_time(exif, &xmp, mapillary, &mut warnings);
    let camera_as_tagged = time::camera_time(exif, &xmp, mapillary, &mut warnings);
    let camera_time =
        camera_as_tagged.map(|camera| place_in_zone(camera, time_zone, &mut warnings));
    let clocks = Clocks {
        gps: ts_gps,
        camera: camera_time,
    };
    let (clocks, implausible) = match time::drop_implausible(clocks, options.now, &mut warnings) {
        Ok(clocks) => (clocks, None),
        Err(reason) => (Clocks::default(), Some(reason)),
    };
    let (ts_gps, camera_time) = (clocks.gps, clocks.camera);
    let camera_as_tagged = camera_as_tagged.filter(|_| camera_time.is_some());
    let capture = time::choose(ts_gps, camera_time, &mut warnings);
    if let (None, Some(_), Some(reason)) = (&capture, position, implausible) {
        return Err(ReadError::ImplausibleTime { reason });
    }
    let mut missing = Vec::new();
    if capture.is_none() {
        missing.push(MissingField::Datetime);
    }
    if position.is_none() {
        missing.push(MissingField::Location);
    }
    let (Some((lat, lon)), Some(capture)) = (position, capture) else {
        return Err(ReadError::MissingFields { fields: missing });
    };

    // 4. Everything else is optional. The camera table fills in what the tags lack.
    let make = camera::make(exif).or_else(|| mapillary?.make.clone());
    let model = camera::model(exif, make.as_deref()).or_else(|| mapillary?.model(make.as_deref()));
    let spec = make
        .as_deref()
        .zip(model.as_deref())
        .and_then(|(make, model)| camera_table::find(make, model));
    let (projection, crop) = pano::projection(&xmp, (width, height), spec, &mut warnings)?;
    let focal_length_mm = camera::focal_length_mm(exif, spec);
    let heading = direction::heading(exif, &xmp, &mut warnings);
    let gps_accuracy_m = accuracy::horizontal_m(gps::accuracy(exif, &xmp), spec, make.as_deref());
    let orientation = orientation(exif, &mut warnings);
    let pose = |camera_key: &str, gpano_key: &str| {
        xmp.number(camera_key).or_else(|| xmp.number(gpano_key))
    };

    let mut tags = BTreeMap::new();
    if let Some(exif) = exif {
        exif.dump(&mut tags);
    }
    tags.extend(xmp.props().iter().map(|(k, v)| (k.clone(), v.clone())));

    Ok(PictureMetadata {
        lat,
        lon,
        captured_at: capture.at,
        utc_offset_secs: utc_offset_secs(&capture, camera_time, camera_as_tagged, time_zone),
        time_zone: time_zone.map(|zone| zone.name().to_owned()),
        camera_utc_offset_secs: camera_time
            .and_then(|c| c.offset)
            .map(|o| o.local_minus_utc()),
        ts_gps,
        ts_camera: capture.ts_camera,
        camera_local_time: camera_time.map(|c| c.local),
        heading_deg: heading.map(|(deg, _)| deg),
        heading_source: heading.map(|(_, source)| source),
        make,
        model,
        width,
        height,
        orientation,
        projection,
        crop,
        focal_length_mm,
        sensor_width_mm: spec.and_then(|s| s.sensor_width_mm),
        field_of_view_deg: camera::field_of_view_deg(
            exif,
            projection,
            crop.as_ref(),
            focal_length_mm,
            spec,
        ),
        altitude_m: gps::altitude(exif),
        pitch_deg: pose("Xmp.Camera.Pitch", "Xmp.GPano.PosePitchDegrees"),
        roll_deg: pose("Xmp.Camera.Roll", "Xmp.GPano.PoseRollDegrees"),
        yaw_deg: pose("Xmp.Camera.Yaw", "Xmp.GPano.PoseHeadingDegrees"),
        gps_accuracy_m,
        artist: exif.and_then(|e| e.text(Tag::Artist)),
        copyright: exif.and_then(|e| e.text(Tag::Copyright)),
        tags,
        warnings,
    })
}

/// The camera clock with an offset: its tag's, else that of the position's time zone at
/// that reading, as the reference reader does; unchanged when neither is known.
fn place_in_zone(
    camera: CameraTime,
    time_zone: Option<Tz>,
    warnings: &mut Vec<String>,
) -> CameraTime {
    let (None, Some(zone)) = (camera.offset, time_zone) else {
        return camera;
    };
    if zone::is_nautical(zone) {
        warnings.push(format!(
            "camera time has no time zone and the position is at sea: read in {}",
            zone.name()
        ));
    }
    CameraTime {
        offset: Some(zone::offset_of_local(zone, camera.local)),
        ..camera
    }
}

/// The offset to show the capture instant in local time: the camera clock's when it gave the
/// instant, else the zone's at the instant, else the camera's offset tag (which the reading of
/// a nearby moment still tells better than nothing).
fn utc_offset_secs(
    capture: &Capture,
    camera: Option<CameraTime>,
    camera_as_tagged: Option<CameraTime>,
    time_zone: Option<Tz>,
) -> Option<i32> {
    let camera_offset = camera
        .and_then(|c| c.offset)
        .filter(|_| capture.is_camera_time)
        .map(|o| o.local_minus_utc());
    let zone_offset = || Some(zone::offset_at(time_zone?, capture.at));
    let tag_offset = || Some(camera_as_tagged?.offset?.local_minus_utc());
    camera_offset.or_else(zone_offset).or_else(tag_offset)
}

/// EXIF orientation 1..=8; anything else counts as 1 (upright), with a warning.
fn orientation(exif: Option<&ExifFields>, warnings: &mut Vec<String>) -> u16 {
    let Some(value) = exif.and_then(|e| e.uint(Tag::Orientation)) else {
        return 1;
    };
    match u16::try_from(value) {
        Ok(orientation @ 1..=8) => orientation,
        _ => {
            warnings.push(format!("orientation {value} is not in 1..=8, taken as 1"));
            1
        }
    }
}
