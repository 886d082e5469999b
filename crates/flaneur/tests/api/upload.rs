//! Uploading through `/api/upload_sets`: pictures becoming ready sequences with their derivates,
//! and every accepted or rejected file getting GeoVisio's outcome (panoramax-api.md §3.3).

use reqwest::StatusCode;
use reqwest::blocking::multipart;
use reqwest::header;
use serde_json::{Value, json};

use crate::server::Server;
use crate::{GOPRO, SONY, jpeg_size, pictures, pictures_dir};

/// The single collection an upload set was dispatched to, after checking it holds `n` items.
fn only_collection(set: &Value, n: u64) -> String {
    let collections = set["associated_collections"]
        .as_array()
        .expect("associated_collections");
    assert_eq!(collections.len(), 1, "one sequence expected: {set}");
    assert_eq!(collections[0]["nb_items"], json!(n), "{set}");
    assert_eq!(collections[0]["ready"], json!(true), "{set}");
    collections[0]["id"]
        .as_str()
        .expect("collection id")
        .to_owned()
}

/// Checks the items are the given files, ranked 1..n in that order, all ready.
fn assert_ranked_ready(items: &[Value], names: &[&str]) {
    let found: Vec<_> = items
        .iter()
        .map(|i| i["properties"]["original_file:name"].clone())
        .collect();
    assert_eq!(found, names.iter().map(|n| json!(n)).collect::<Vec<_>>());
    for (rank, item) in (1..).zip(items) {
        let properties = &item["properties"];
        assert_eq!(
            properties["geovisio:rank_in_collection"],
            json!(rank),
            "{item}"
        );
        assert_eq!(properties["geovisio:status"], json!("ready"), "{item}");
        assert!(
            properties["view:azimuth"].is_number(),
            "no view:azimuth: {item}"
        );
    }
}

fn asset(item: &Value, name: &str) -> String {
    item["assets"][name]["href"]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} asset: {item}"))
        .to_owned()
}

#[test]
fn gopro_360_pictures_become_one_ready_sequence_with_tiles_and_derivates() {
    let server = Server::start();
    let files = pictures(&GOPRO);
    let set = server.create_upload_set("gopro", Some(5));
    // Sent in reverse capture order: the sequence must be ordered by time, not by arrival.
    let reversed: Vec<_> = files.iter().rev().cloned().collect();
    server.upload_all(&set, &reversed);

    let set_json = server.wait_ready(&set);
    assert_eq!(set_json["completed"], json!(true), "{set_json}");
    assert_eq!(set_json["dispatched"], json!(true), "{set_json}");
    assert_eq!(set_json["items_status"]["prepared"], json!(5), "{set_json}");
    let collection = only_collection(&set_json, 5);
    let items = server.collection_items(&collection);
    assert_ranked_ready(&items, &GOPRO);

    for (item, file) in items.iter().zip(&files) {
        let original = std::fs::read(file).expect("original picture");

        let matrix = &item["properties"]["tiles:tile_matrix_sets"]["geovisio"]["tileMatrix"][0];
        assert_eq!(matrix["matrixWidth"], json!(8), "{item}");
        assert_eq!(matrix["matrixHeight"], json!(4), "{item}");

        let thumb = server.get_bytes(&asset(item, "thumb"));
        assert_eq!(jpeg_size(&thumb), (500, 300), "thumbnail of a 360° picture");
        let sd = server.get_bytes(&asset(item, "sd"));
        assert_eq!(jpeg_size(&sd).0, 2048, "SD width");

        let hd_url = asset(item, "hd");
        assert!(
            server.get_bytes(&hd_url) == original,
            "hd.jpg differs from {file:?}"
        );

        let template = item["asset_templates"]["tiles"]["href"]
            .as_str()
            .unwrap_or_else(|| panic!("no tiles template: {item}"));
        for col in 0..8 {
            for row in 0..4 {
                let url = template
                    .replace("{TileCol}", &col.to_string())
                    .replace("{TileRow}", &row.to_string());
                let tile = server.get_bytes(&url);
                assert_eq!(jpeg_size(&tile), (720, 720), "tile {col}_{row}");
            }
        }
        for (col, row) in [(8, 0), (0, 4)] {
            let url = template
                .replace("{TileCol}", &col.to_string())
                .replace("{TileRow}", &row.to_string());
            let response = server.get_url(&url);
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "tile {col}_{row}");
        }

        // Range on the HD picture.
        let response = server
            .client()
            .get(&hd_url)
            .header(header::RANGE, "bytes=100-1099")
            .send()
            .expect("range request");
        assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
        let content_range = response.headers()[header::CONTENT_RANGE]
            .to_str()
            .expect("ASCII Content-Range")
            .to_owned();
        assert_eq!(content_range, format!("bytes 100-1099/{}", original.len()));
        let part = response.bytes().expect("range body");
        assert!(part[..] == original[100..1100], "range bytes differ");

        // Conditional request.
        let response = server.get_url(&hd_url);
        let etag = response
            .headers()
            .get(header::ETAG)
            .expect("hd.jpg has an ETag")
            .clone();
        let response = server
            .client()
            .get(&hd_url)
            .header(header::IF_NONE_MATCH, etag)
            .send()
            .expect("conditional request");
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    }
}

#[test]
fn sony_flat_pictures_become_one_ready_sequence_with_500px_thumbnails() {
    let server = Server::start();
    let files = pictures(&SONY);
    let set = server.create_upload_set("sony", Some(5));
    server.upload_all(&set, &files);

    let set_json = server.wait_ready(&set);
    let collection = only_collection(&set_json, 5);
    let items = server.collection_items(&collection);
    assert_ranked_ready(&items, &SONY);

    for (item, file) in items.iter().zip(&files) {
        let original = std::fs::read(file).expect("original picture");
        let (width, height) = jpeg_size(&original);
        assert!(
            item["properties"].get("tiles:tile_matrix_sets").is_none(),
            "a flat picture has no tiles: {item}"
        );
        let thumb = server.get_bytes(&asset(item, "thumb"));
        let expected_height = (500.0 * f64::from(height) / f64::from(width)).round();
        let (thumb_width, thumb_height) = jpeg_size(&thumb);
        assert_eq!(thumb_width, 500, "thumbnail width of a flat picture");
        assert!(
            (f64::from(thumb_height) - expected_height).abs() <= 1.0,
            "thumbnail height {thumb_height}, expected about {expected_height}"
        );
        assert!(
            server.get_bytes(&asset(item, "hd")) == original,
            "hd.jpg differs"
        );
    }
}

/// Checks an error body: its message and its `status_code` matching the HTTP status.
fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, message: &str) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["message"], json!(message), "{body}");
    assert_eq!(body["status_code"], json!(expected.as_u16()), "{body}");
}

#[test]
fn every_cli_fixture_gets_geovisio_outcome_and_rejections_are_listed() {
    let server = Server::start();
    let dir = pictures_dir().join("cli-fixtures");
    let set = server.create_upload_set("fixtures", None);
    let send = |name: &str| server.upload_file(&set, &dir.join(name));

    let mut accepted = serde_json::Map::new();
    for name in ["e1.jpg", "e2.jpg", "e3.jpg"] {
        let (status, body) = send(name);
        assert_eq!(status, StatusCode::ACCEPTED, "{name}: {body}");
        assert_eq!(body["file_name"], json!(name), "{body}");
        assert!(body["picture_id"].is_string(), "{body}");
        accepted.insert(name.to_owned(), body["picture_id"].clone());
    }

    for name in ["e1_without_exif.jpg", "e3_without_exif.jpg"] {
        let (status, body) = send(name);
        let message = "Impossible to parse picture metadata";
        assert_error(status, &body, StatusCode::BAD_REQUEST, message);
        assert_eq!(
            body["details"]["missing_fields"],
            json!(["datetime", "location"]),
            "{name}: {body}"
        );
        assert!(body["details"]["error"].is_string(), "{name}: {body}");
    }
    let (status, body) = send("e2_without_coord.jpg");
    let message = "Impossible to parse picture metadata";
    assert_error(status, &body, StatusCode::BAD_REQUEST, message);
    assert_eq!(
        body["details"]["missing_fields"],
        json!(["location"]),
        "{body}"
    );

    let (status, body) = send("invalid_pic.jpg");
    let message = "Impossible to open file as image. The only supported image format is jpg.";
    assert_error(status, &body, StatusCode::BAD_REQUEST, message);

    let (status, body) = send("not_a_pic.md");
    let message = "Picture file is either missing or in an unsupported format (should be jpg)";
    assert_error(status, &body, StatusCode::BAD_REQUEST, message);

    let form = multipart::Form::new().text("isBlurred", "false");
    let (status, body) = server.post_form(&set, form);
    assert_error(status, &body, StatusCode::BAD_REQUEST, "No file was sent");

    let (status, body) = send("e1.jpg");
    let message = "The item has already been added to this upload set";
    assert_error(status, &body, StatusCode::CONFLICT, message);
    assert_eq!(body["existing_item"]["id"], accepted["e1.jpg"], "{body}");

    let other = server.create_upload_set("other", None);
    let (status, body) = server.upload_file(&other, &dir.join("e1.jpg"));
    let message = "The same picture has already been sent in a past upload";
    assert_error(status, &body, StatusCode::CONFLICT, message);
    assert_eq!(
        body["upload_sets"],
        json!([{"existing_item_id": accepted["e1.jpg"], "upload_set_id": set}]),
        "{body}"
    );

    // What `/files` tracks: accepted files and tracked rejections, not the untracked errors.
    let files = server.get_ok(&format!("/upload_sets/{set}/files"));
    let listed: Vec<(String, Option<String>)> = files["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| {
            let name = f["file_name"].as_str().expect("file_name").to_owned();
            let reason = f["rejected"]["reason"].as_str().map(str::to_owned);
            (name, reason)
        })
        .collect();
    let mut listed_sorted = listed.clone();
    listed_sorted.sort();
    let expected = [
        ("e1.jpg", None),
        ("e1_without_exif.jpg", Some("invalid_metadata")),
        ("e2.jpg", None),
        ("e2_without_coord.jpg", Some("invalid_metadata")),
        ("e3.jpg", None),
        ("e3_without_exif.jpg", Some("invalid_metadata")),
        ("invalid_pic.jpg", Some("invalid_file")),
        ("not_a_pic.md", Some("invalid_file")),
    ]
    .map(|(n, r)| (n.to_owned(), r.map(str::to_owned)));
    assert_eq!(listed_sorted, expected, "{files}");
    for file in files["files"].as_array().expect("files") {
        let name = file["file_name"].as_str().expect("file_name");
        if let Some(rejected) = file.get("rejected") {
            assert_eq!(rejected["severity"], json!("error"), "{file}");
            assert!(rejected["message"].is_string(), "{file}");
        }
        match name {
            "e2_without_coord.jpg" => assert_eq!(
                file["rejected"]["details"]["missing_fields"],
                json!(["location"]),
                "{file}"
            ),
            "e1_without_exif.jpg" | "e3_without_exif.jpg" => assert_eq!(
                file["rejected"]["details"]["missing_fields"],
                json!(["datetime", "location"]),
                "{file}"
            ),
            "not_a_pic.md" => assert_eq!(
                file["rejected"]["message"],
                json!("Picture file is either missing or in an unsupported format (should be jpg)"),
                "{file}"
            ),
            _ => {}
        }
    }
    let set_json = server.get_ok(&format!("/upload_sets/{set}"));
    assert_eq!(set_json["items_status"]["rejected"], json!(5), "{set_json}");

    let other_files = server.get_ok(&format!("/upload_sets/{other}/files"));
    let other_files = other_files["files"].as_array().expect("files");
    assert_eq!(other_files.len(), 1, "{other_files:?}");
    assert_eq!(other_files[0]["file_name"], json!("e1.jpg"));
    assert_eq!(
        other_files[0]["rejected"]["reason"],
        json!("file_duplicate")
    );
    assert_eq!(
        other_files[0]["rejected"]["message"],
        json!("The same picture has already been sent in a past upload")
    );
}

#[test]
fn upload_set_creation_errors_match_geovisio() {
    let server = Server::start();

    let response = server
        .client()
        .post(server.url("/upload_sets"))
        .header(header::CONTENT_TYPE, "text/plain")
        .body("title=nope")
        .send()
        .expect("POST /upload_sets");
    let (status, body) = crate::server::json_of(response);
    let message = "Parameter for creating an UploadSet should be a valid JSON";
    assert_error(status, &body, StatusCode::UNSUPPORTED_MEDIA_TYPE, message);

    let (status, body) = server.post_json("/upload_sets", &json!({"estimated_nb_files": "many"}));
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "Impossible to create an UploadSet",
    );
    let details = body["details"].as_array().expect("details is a list");
    let fields: Vec<_> = details.iter().map(|d| d["fields"].clone()).collect();
    assert!(fields.contains(&json!(["title"])), "{body}");
    assert!(fields.contains(&json!(["estimated_nb_files"])), "{body}");
    for detail in details {
        assert!(detail["error"].is_string(), "{detail}");
    }

    let unknown = "00000000-0000-0000-0000-000000000000";
    let (status, body) = server.get_json(&format!("/upload_sets/{unknown}"));
    assert_error(
        status,
        &body,
        StatusCode::NOT_FOUND,
        "UploadSet doesn't exist",
    );
    let (status, body) = server.get_json(&format!("/upload_sets/{unknown}/files"));
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // A tiny body: when a server answers before reading a large request body (allowed by
    // HTTP, and curl and Python clients get the answer), reqwest's blocking client reports a
    // body send error instead of the response.
    let (status, body) = server.upload_bytes(unknown, "e1.jpg", b"\xFF\xD8 tiny".to_vec());
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body["message"].is_string(), "{body}");
}

#[test]
fn a_picture_cut_short_is_refused_when_it_arrives() {
    let server = Server::start();
    let set = server.create_upload_set("cut", None);
    let whole = std::fs::read(pictures_dir().join("e1.jpg")).expect("read e1.jpg");
    let cut = whole[..whole.len() * 3 / 5].to_vec();
    let (status, body) = server.upload_bytes(&set, "cut.jpg", cut);
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let reason = body["details"]["error"].as_str().unwrap_or_default();
    assert!(reason.contains("cut short"), "{body}");
    let (_, files) = server.get_json(&format!("/upload_sets/{set}/files"));
    assert_eq!(
        files["files"][0]["rejected"]["reason"],
        json!("invalid_file"),
        "{files}"
    );
}

#[test]
fn a_body_not_starting_like_a_jpeg_is_refused_before_the_rest_arrives() {
    use std::io::{BufRead, BufReader, Read, Write};

    let data = tempfile::tempdir().expect("temp dir");
    let server = Server::start_in(data.path());
    let set = server.create_upload_set("zeros", None);

    // A form announcing 256 MiB of zeros named x.jpg, of which only the first MiB is sent: the
    // answer must come without the rest.
    let boundary = "flaneur-test-boundary";
    let start = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.jpg\"\r\n\
         Content-Type: image/jpeg\r\n\r\n"
    );
    let announced = start.len() + (256 << 20);
    let url =
        reqwest::Url::parse(&server.url(&format!("/upload_sets/{set}/files"))).expect("a URL");
    let address = format!(
        "{}:{}",
        url.host_str().expect("a host"),
        url.port().expect("a port")
    );
    let mut stream = std::net::TcpStream::connect(address).expect("the server answers");
    // Only a guard against waiting forever when the server waits for the rest.
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .expect("a read timeout");
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\n\
         Content-Length: {announced}\r\n\r\n{start}",
        url.path()
    );
    stream.write_all(head.as_bytes()).expect("head sent");
    stream
        .write_all(&vec![0_u8; 1 << 20])
        .expect("first MiB sent");

    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader
        .read_line(&mut status_line)
        .expect("an answer before the rest of the body");
    assert!(status_line.starts_with("HTTP/1.1 400"), "{status_line}");
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("a header");
        if line == "\r\n" {
            break;
        }
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().expect("a length");
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).expect("the JSON answer");
    let body: Value = serde_json::from_slice(&body).expect("a JSON answer");
    assert_eq!(
        body["message"],
        json!("Impossible to open file as image. The only supported image format is jpg."),
        "{body}"
    );

    let staged: Vec<_> = std::fs::read_dir(data.path().join("staging"))
        .expect("the staging folder")
        .collect();
    assert!(staged.is_empty(), "{staged:?}");
    let (_, files) = server.get_json(&format!("/upload_sets/{set}/files"));
    assert_eq!(
        files["files"][0]["rejected"]["reason"],
        json!("invalid_file"),
        "{files}"
    );
}
