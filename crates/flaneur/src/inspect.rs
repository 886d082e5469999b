//! `flaneur inspect`: shows what the metadata reader finds in pictures, as the server would see
//! them on upload.
//!
//! This module owns reading files from disk (with a size cap), shaping the reader's answer as text
//! or JSON lines, and the exit code. Reading the tags themselves is `flaneur-metadata`'s job.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use flaneur_metadata::{HeaderScan, HeadingSource, PictureMetadata, ReadError};
use serde::Serialize;

/// Most bytes read from one file. Only the JPEG header (the segments before the image data) is
/// read, usually well under 1 MiB; the cap keeps a mistaken argument such as a video or a broken
/// file without image data from filling memory.
const MAX_HEADER_BYTES: usize = 64 * 1024 * 1024;

/// Bytes read at a time while looking for the end of the header: most headers fit in one.
const CHUNK_BYTES: usize = 256 * 1024;

/// Show what the metadata reader finds in pictures: position, time, heading, camera.
#[derive(Debug, Clone, clap::Args)]
pub struct InspectArgs {
    /// Pictures to read (JPEG files).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Print one JSON object per line and per file instead of text blocks.
    #[arg(long)]
    pub json: bool,
}

/// Reads every file of `args` and writes what was found to `out`.
///
/// Returns exit code 0 when every file was read and 1 when at least one could not be (its
/// error is written in place of its metadata). A closed output pipe ends the listing early and
/// counts as success, so `flaneur inspect *.jpg | head -1` is not an error.
///
/// # Errors
/// Fails when writing to `out` fails for another reason than a closed pipe.
pub fn run(args: &InspectArgs, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    match inspect_all(args, out) {
        Ok(true) => Ok(ExitCode::SUCCESS),
        Ok(false) => Ok(ExitCode::FAILURE),
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(err) => Err(anyhow::Error::new(err).context("cannot write the output")),
    }
}

/// Inspects each file in turn; returns whether all of them were read.
fn inspect_all(args: &InspectArgs, out: &mut impl Write) -> io::Result<bool> {
    let mut is_all_read = true;
    for (index, path) in args.files.iter().enumerate() {
        let result = read_picture(path);
        is_all_read &= result.is_ok();

        let name = path.display().to_string();
        if args.json {
            let line = match &result {
                Ok(meta) => serde_json::to_string(&JsonMetadata::new(&name, meta)),
                Err(err) => serde_json::to_string(&JsonFailure::new(&name, err)),
            };
            writeln!(out, "{}", line.map_err(io::Error::other)?)?;
        } else {
            // A blank line between blocks, none before the first, so that the output of one
            // file reads the same as a block of a longer listing.
            if index > 0 {
                writeln!(out)?;
            }
            match &result {
                Ok(meta) => write_text(out, &name, meta)?,
                Err(err) => {
                    // Multi-line messages (a list of missing fields) stay inside the block.
                    let lines: Vec<&str> = err.message.lines().map(str::trim).collect();
                    let message = lines.join("\n    ");
                    writeln!(out, "{name}\n  error ({}): {message}", err.kind)?;
                }
            }
        }
    }
    out.flush()?;
    Ok(is_all_read)
}

/// Why a file gave no metadata: a stable machine code and a human message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct InspectError {
    /// The reader's error kind (`not_jpeg`, `missing_fields`, ...), or `io` / `too_large` when
    /// the file could not be read at all.
    kind: &'static str,
    /// What went wrong, in words (for missing fields, the reference server's text).
    message: String,
    /// With `missing_fields`: which ones (`location`, `datetime`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    missing_fields: Vec<&'static str>,
}

impl InspectError {
    fn from_read_error(err: &ReadError) -> Self {
        InspectError {
            kind: err.kind(),
            message: err.message(),
            missing_fields: err
                .missing_fields()
                .iter()
                .map(|field| field.as_str())
                .collect(),
        }
    }
}

/// Reads the JPEG header of one file (up to [`MAX_HEADER_BYTES`]) and hands it to the metadata
/// reader. Reading only the header makes `inspect` as fast on a 30 MiB panorama as on a thumbnail.
fn read_picture(path: &Path) -> Result<PictureMetadata, InspectError> {
    let io_error = |err: io::Error| InspectError {
        kind: "io",
        message: err.to_string(),
        missing_fields: Vec::new(),
    };
    let mut file = File::open(path).map_err(io_error)?;

    // Read chunks until the header is complete. A file that is not a JPEG, or ends inside its
    // header, is handed over as it is: the reader then says precisely what is wrong with it.
    let mut bytes = Vec::new();
    loop {
        let read = (&mut file)
            .take(CHUNK_BYTES as u64)
            .read_to_end(&mut bytes)
            .map_err(io_error)?;
        match flaneur_metadata::header_end(&bytes) {
            HeaderScan::Complete(end) => {
                bytes.truncate(end);
                break;
            }
            HeaderScan::NotJpeg => break,
            HeaderScan::NeedMore if read == 0 => break,
            HeaderScan::NeedMore if bytes.len() > MAX_HEADER_BYTES => {
                return Err(InspectError {
                    kind: "too_large",
                    message: format!(
                        "no image data in the first {MAX_HEADER_BYTES} bytes: \
                         not a picture this reader can handle"
                    ),
                    missing_fields: Vec::new(),
                });
            }
            HeaderScan::NeedMore => {}
        }
    }

    flaneur_metadata::read(&bytes).map_err(|err| InspectError::from_read_error(&err))
}

/// One line of `--json` output for a file that was read. Field names follow the STAC and
/// Panoramax words where one exists (`datetime`, `type` as in `pers:` / `view:` usage).
#[derive(Debug, Serialize)]
struct JsonMetadata<'a> {
    file: &'a str,
    lat: f64,
    lon: f64,
    /// Capture instant in UTC, RFC 3339 with milliseconds.
    datetime: String,
    /// Offset of the camera's local time from UTC, as `+02:00`, when the picture says it.
    utc_offset: Option<String>,
    datetime_gps: Option<String>,
    datetime_camera: Option<String>,
    /// The camera clock as it reads, in local time without zone.
    camera_local_time: Option<String>,
    heading: Option<f64>,
    heading_source: Option<HeadingSource>,
    #[serde(rename = "type")]
    projection: &'static str,
    make: Option<&'a str>,
    model: Option<&'a str>,
    width: u32,
    height: u32,
    orientation: u16,
    crop: Option<flaneur_model::Crop>,
    focal_length: Option<f64>,
    field_of_view: Option<f64>,
    altitude: Option<f64>,
    pitch: Option<f64>,
    roll: Option<f64>,
    yaw: Option<f64>,
    gps_accuracy: Option<f64>,
    artist: Option<&'a str>,
    copyright: Option<&'a str>,
    tags: &'a std::collections::BTreeMap<String, String>,
    warnings: &'a [String],
}

impl<'a> JsonMetadata<'a> {
    fn new(file: &'a str, meta: &'a PictureMetadata) -> Self {
        JsonMetadata {
            file,
            lat: meta.lat,
            lon: meta.lon,
            datetime: to_rfc3339(&meta.captured_at),
            utc_offset: meta.utc_offset_secs.map(format_utc_offset),
            datetime_gps: meta.ts_gps.as_ref().map(to_rfc3339),
            datetime_camera: meta.ts_camera.as_ref().map(to_rfc3339),
            heading: meta.heading_deg,
            camera_local_time: meta.camera_local_time.as_ref().map(to_local_text),
            heading_source: meta.heading_source,
            projection: meta.projection.as_str(),
            make: meta.make.as_deref(),
            model: meta.model.as_deref(),
            width: meta.width,
            height: meta.height,
            orientation: meta.orientation,
            crop: meta.crop,
            focal_length: meta.focal_length_mm,
            field_of_view: meta.field_of_view_deg,
            altitude: meta.altitude_m,
            pitch: meta.pitch_deg,
            roll: meta.roll_deg,
            yaw: meta.yaw_deg,
            gps_accuracy: meta.gps_accuracy_m,
            artist: meta.artist.as_deref(),
            copyright: meta.copyright.as_deref(),
            tags: &meta.tags,
            warnings: &meta.warnings,
        }
    }
}

/// One line of `--json` output for a file that could not be read.
#[derive(Debug, Serialize)]
struct JsonFailure<'a> {
    file: &'a str,
    error: &'a InspectError,
}

impl<'a> JsonFailure<'a> {
    fn new(file: &'a str, error: &'a InspectError) -> Self {
        JsonFailure { file, error }
    }
}

/// Writes the text block of one picture: a header line with its name, then one indented line per
/// fact, leaving out what the picture does not say.
fn write_text(out: &mut impl Write, name: &str, meta: &PictureMetadata) -> io::Result<()> {
    writeln!(out, "{name}")?;
    writeln!(
        out,
        "  position      {:.7}, {:.7} (lat, lon)",
        meta.lat, meta.lon
    )?;
    if let Some(accuracy) = meta.gps_accuracy_m {
        writeln!(out, "  gps accuracy  {accuracy} m")?;
    }
    if let Some(altitude) = meta.altitude_m {
        writeln!(out, "  altitude      {altitude} m")?;
    }

    let offset = match meta.utc_offset_secs {
        Some(secs) => format!(" (local time at UTC{})", format_utc_offset(secs)),
        None => String::new(),
    };
    writeln!(
        out,
        "  captured      {}{offset}",
        to_rfc3339(&meta.captured_at)
    )?;
    if let Some(ts) = &meta.ts_gps {
        writeln!(out, "    gps clock     {}", to_rfc3339(ts))?;
    }
    if let Some(ts) = &meta.ts_camera {
        writeln!(out, "    camera clock  {}", to_rfc3339(ts))?;
    }
    if let Some(local) = &meta.camera_local_time {
        writeln!(out, "    as displayed  {}", to_local_text(local))?;
    }

    match (meta.heading_deg, meta.heading_source) {
        (Some(heading), Some(source)) => {
            writeln!(
                out,
                "  heading       {heading}° (from {})",
                tag_name(source)
            )?;
        }
        (Some(heading), None) => writeln!(out, "  heading       {heading}°")?,
        (None, _) => writeln!(out, "  heading       unknown")?,
    }
    let angles = [
        ("pitch", meta.pitch_deg),
        ("roll", meta.roll_deg),
        ("yaw", meta.yaw_deg),
    ];
    let angles: Vec<String> = angles
        .iter()
        .filter_map(|(name, value)| value.map(|v| format!("{name} {v}°")))
        .collect();
    if !angles.is_empty() {
        writeln!(out, "  attitude      {}", angles.join(", "))?;
    }

    writeln!(
        out,
        "  type          {}, {}×{} px, orientation {}",
        meta.projection.as_str(),
        meta.width,
        meta.height,
        meta.orientation
    )?;
    if let Some(crop) = &meta.crop {
        writeln!(
            out,
            "  crop          {}×{} at ({}, {}) of {}×{}",
            crop.width, crop.height, crop.left, crop.top, crop.full_width, crop.full_height
        )?;
    }
    let camera = [meta.make.as_deref(), meta.model.as_deref()];
    let camera: Vec<&str> = camera.into_iter().flatten().collect();
    if !camera.is_empty() {
        writeln!(out, "  camera        {}", camera.join(" "))?;
    }
    if let Some(focal) = meta.focal_length_mm {
        writeln!(out, "  focal length  {focal} mm")?;
    }
    if let Some(fov) = meta.field_of_view_deg {
        writeln!(out, "  field of view {fov}°")?;
    }
    if let Some(artist) = &meta.artist {
        writeln!(out, "  artist        {artist}")?;
    }
    if let Some(copyright) = &meta.copyright {
        writeln!(out, "  copyright     {copyright}")?;
    }
    for warning in &meta.warnings {
        writeln!(out, "  warning: {warning}")?;
    }
    Ok(())
}

/// The tag a heading came from, as photographers and exiftool name it.
fn tag_name(source: HeadingSource) -> &'static str {
    match source {
        HeadingSource::GpsImgDirection => "GPSImgDirection",
        HeadingSource::GpsTrack => "GPSTrack",
        HeadingSource::GPanoPoseHeading => "GPano:PoseHeadingDegrees",
        HeadingSource::MapillaryCompass => "MAPCompassHeading.TrueHeading",
        HeadingSource::DroneGimbalYaw => "drone-dji:GimbalYawDegree",
        HeadingSource::DroneFlightYaw => "drone-dji:FlightYawDegree",
    }
}

/// Formats an instant as RFC 3339 in UTC with milliseconds (`2021-07-29T09:16:54.000Z`), the
/// form Panoramax clients compare against.
fn to_rfc3339(ts: &DateTime<Utc>) -> String {
    ts.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Formats a zone-less camera clock reading as ISO 8601 without offset.
fn to_local_text(local: &NaiveDateTime) -> String {
    local.format("%Y-%m-%dT%H:%M:%S%.f").to_string()
}

/// Formats an offset in seconds as `+HH:MM` (seconds dropped: no camera records them).
fn format_utc_offset(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let minutes = secs.unsigned_abs() / 60;
    format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
#[path = "../tests/support/testdata.rs"]
mod testdata;

#[cfg(test)]
mod tests {
    use super::*;

    use testdata::pictures_dir;

    /// A writer that reports a closed pipe, as stdout does under `| head -1`.
    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _buf: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
    }

    fn args(files: Vec<PathBuf>, json: bool) -> InspectArgs {
        InspectArgs { files, json }
    }

    #[test]
    fn formats_utc_offsets_with_sign_hours_and_minutes() {
        assert_eq!(format_utc_offset(7200), "+02:00");
        assert_eq!(format_utc_offset(0), "+00:00");
        assert_eq!(format_utc_offset(-(9 * 3600 + 30 * 60)), "-09:30");
        assert_eq!(format_utc_offset(20700), "+05:45");
    }

    #[test]
    fn formats_datetimes_in_utc_with_milliseconds() {
        let ts = DateTime::from_timestamp(1_627_550_214, 0).expect("a valid timestamp");
        assert_eq!(to_rfc3339(&ts), "2021-07-29T09:16:54.000Z");
    }

    #[test]
    fn reports_a_missing_file_as_an_io_error_line() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let missing = dir.path().join("nope.jpg");
        let mut out = Vec::new();

        let code = run(&args(vec![missing.clone()], true), &mut out).expect("output is written");

        assert_eq!(code, ExitCode::FAILURE);
        let line: serde_json::Value = serde_json::from_slice(&out).expect("one JSON line");
        assert_eq!(line["file"], missing.display().to_string());
        assert_eq!(line["error"]["kind"], "io");
        assert!(
            line["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }

    #[test]
    fn reports_a_file_that_is_not_a_picture_with_the_reader_error_kind() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("notes.jpg");
        std::fs::write(&path, b"# not a picture\n").expect("file written");
        let mut out = Vec::new();

        let code = run(&args(vec![path], false), &mut out).expect("output is written");

        assert_eq!(code, ExitCode::FAILURE);
        let text = String::from_utf8(out).expect("utf-8 output");
        assert!(text.contains("notes.jpg\n  error ("), "{text}");
    }

    #[test]
    fn reads_the_real_pictures_as_json_lines() {
        let dir = pictures_dir();
        let names = ["1.jpg", "e1.jpg", "d1.jpg", "e1_without_exif.jpg"];
        let files = names.iter().map(|name| dir.join(name)).collect();
        let mut out = Vec::new();

        let code = run(&args(files, true), &mut out).expect("output is written");

        assert_eq!(code, ExitCode::FAILURE, "one picture has no metadata");
        let lines: Vec<serde_json::Value> = String::from_utf8(out)
            .expect("utf-8 output")
            .lines()
            .map(|line| serde_json::from_str(line).expect("each line is a JSON object"))
            .collect();
        assert_eq!(lines.len(), names.len());

        // The GoPro walk: its capture instant is the GPS time, as GeoVisio shows it.
        let gopro = &lines[0];
        assert!(
            gopro["file"]
                .as_str()
                .is_some_and(|file| file.ends_with("1.jpg"))
        );
        assert_eq!(gopro["datetime"], "2021-07-29T09:16:54.000Z");
        assert_eq!(gopro["type"], "equirectangular");
        assert_eq!(
            (gopro["width"].as_u64(), gopro["height"].as_u64()),
            (Some(5760), Some(2880))
        );
        assert!((gopro["lat"].as_f64().unwrap_or_default() - 49.00689).abs() < 1e-4);
        assert!((gopro["lon"].as_f64().unwrap_or_default() - 1.91919).abs() < 1e-4);
        assert!(gopro["heading"].is_number());
        assert_eq!(gopro["make"], "GoPro");
        assert!(gopro["warnings"].is_array());

        let sony = &lines[1];
        assert_eq!(sony["type"], "flat");
        assert_eq!(
            (sony["width"].as_u64(), sony["height"].as_u64()),
            (Some(1920), Some(1080))
        );

        let phone = &lines[2];
        assert_eq!(phone["type"], "equirectangular");
        assert_eq!(phone["utc_offset"], "+01:00");

        let bare = &lines[3];
        assert_eq!(bare["error"]["kind"], "missing_fields");
        assert_eq!(
            bare["error"]["missing_fields"],
            serde_json::json!(["datetime", "location"])
        );
        assert!(bare.get("lat").is_none());
    }

    #[test]
    fn writes_one_text_block_per_real_picture() {
        let dir = pictures_dir();
        let files = vec![dir.join("1.jpg"), dir.join("e1.jpg")];
        let mut out = Vec::new();

        let code = run(&args(files, false), &mut out).expect("output is written");

        assert_eq!(code, ExitCode::SUCCESS);
        let text = String::from_utf8(out).expect("utf-8 output");
        let blocks: Vec<&str> = text.split("\n\n").collect();
        assert_eq!(blocks.len(), 2, "{text}");
        assert!(
            blocks[0].contains("captured      2021-07-29T09:16:54.000Z"),
            "{text}"
        );
        assert!(
            blocks[0].contains("equirectangular, 5760×2880 px"),
            "{text}"
        );
        assert!(blocks[1].contains("flat, 1920×1080 px"), "{text}");
    }

    #[test]
    fn treats_a_closed_output_pipe_as_success() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("x.jpg");
        std::fs::write(&path, b"x").expect("file written");

        for json in [false, true] {
            let code = run(&args(vec![path.clone()], json), &mut ClosedPipe).expect("no error");
            assert_eq!(code, ExitCode::SUCCESS);
        }
    }
}
