//! Values given by the contributor instead of the file's: `override_*` form fields of the upload
//! API and the `panoramax.csv` sidecar of `flaneur upload`, written into the stored original.

use std::process::Command;

use reqwest::StatusCode;
use reqwest::blocking::multipart;
use serde_json::json;

use crate::pictures_dir;
use crate::server::Server;

fn file_part(path: &std::path::Path) -> multipart::Part {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .expect("file name")
        .to_owned();
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    multipart::Part::bytes(bytes).file_name(name)
}

#[test]
fn overridden_position_heading_and_tags_are_written_into_the_stored_original() {
    let server = Server::start();
    let set = server.create_upload_set("overrides", None);
    let file = pictures_dir().join("cli-fixtures/e2_without_coord.jpg");

    // Without a position the file is refused; with one it is accepted.
    let (status, body) = server.upload_file(&set, &file);
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let form = multipart::Form::new()
        .part("file", file_part(&file))
        .text("override_longitude", "3.2651")
        .text("override_latitude", "50.5152")
        .text("override_Exif.GPSInfo.GPSImgDirection", "42")
        .text("override_Exif.Image.Artist", "Jane Doe");
    let (status, body) = server.post_form(&set, form);
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let picture = body["picture_id"].as_str().expect("picture id").to_owned();

    // The published item and the stored file say the same.
    server.post_json(&format!("/upload_sets/{set}/complete"), &json!({}));
    server.wait_ready(&set);
    let item = server.get_ok(&format!("/pictures/{picture}"));
    assert_eq!(
        item["geometry"]["coordinates"],
        json!([3.2651, 50.5152]),
        "{item}"
    );
    assert_eq!(item["properties"]["view:azimuth"], json!(42), "{item}");
    let hd = server.get_bytes(&server.url(&format!("/pictures/{picture}/hd.jpg")));
    let stored = flaneur_metadata::read(&hd).expect("stored original is readable");
    assert!((stored.lon - 3.2651).abs() < 1e-6 && (stored.lat - 50.5152).abs() < 1e-6);
    assert_eq!(stored.heading_deg.map(f64::round), Some(42.0));
    assert_eq!(stored.artist.as_deref(), Some("Jane Doe"));
}

#[test]
fn unsupported_override_keys_are_refused_with_the_key() {
    let server = Server::start();
    let set = server.create_upload_set("bad overrides", None);
    let file = pictures_dir().join("e1.jpg");
    let form = multipart::Form::new()
        .part("file", file_part(&file))
        .text("override_Exif.Photo.ExposureTime", "1/2");
    let (status, body) = server.post_form(&set, form);
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let field = &body["details"][0]["fields"][0];
    assert_eq!(field, &json!("override_Exif.Photo.ExposureTime"), "{body}");
}

#[test]
fn flaneur_upload_sends_the_panoramax_csv_sidecar() {
    let server = Server::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let fixtures = pictures_dir().join("cli-fixtures");
    for name in ["e1.jpg", "e2_without_coord.jpg"] {
        std::fs::copy(fixtures.join(name), dir.path().join(name)).expect("copy picture");
    }
    std::fs::write(
        dir.path().join("panoramax.csv"),
        "file,lon,lat,heading\ne2_without_coord.jpg,3.26534,50.51516,90\n",
    )
    .expect("write sidecar");

    let api = server.url("").trim_end_matches("/api").to_owned();
    let output = Command::new(env!("CARGO_BIN_EXE_flaneur"))
        .args(["upload", "--wait", "--api", &api])
        .arg(dir.path())
        .output()
        .expect("run flaneur upload");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("sent 2"), "{stdout}");

    let (_, found) = server.get_json("/search?bbox=3.26533,50.51515,3.26535,50.51517&limit=10");
    let features = found["features"].as_array().expect("features");
    assert_eq!(features.len(), 1, "{found}");
    assert_eq!(
        features[0]["properties"]["original_file:name"],
        json!("e2_without_coord.jpg")
    );
    assert_eq!(features[0]["properties"]["view:azimuth"], json!(90));
}

#[test]
fn a_picture_over_the_pixel_budget_is_refused_before_any_decoding() {
    let server = Server::start();
    let set = server.create_upload_set("huge", None);
    // A small file whose frame header claims 65535×65535 pixels, given a position and a time.
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../flaneur-metadata/tests/data/hostile/sof-65535x65535.jpg");
    let form = multipart::Form::new()
        .part("file", file_part(&file))
        .text("override_longitude", "2.35")
        .text("override_latitude", "48.85")
        .text("override_capture_time", "2024-05-01T10:00:00+02:00");
    let (status, body) = server.post_form(&set, form);
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let reason = body["details"]["error"].as_str().unwrap_or_default();
    assert!(reason.contains("65535×65535"), "{body}");

    let (_, files) = server.get_json(&format!("/upload_sets/{set}/files"));
    assert_eq!(
        files["files"][0]["rejected"]["reason"],
        json!("invalid_file"),
        "{files}"
    );
}
