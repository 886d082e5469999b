//! Pictures kept in an S3 bucket (`FS_URL=s3://…`): uploaded, processed and read through the
//! API in both read modes, streamed (`proxy`) and sent to presigned addresses (`redirect`).
//!
//! The bucket is the test S3 server's (`FLANEUR_TEST_S3_*`, printed by `scripts/services.sh
//! start`), under a random prefix. Without it the test says it was skipped and passes, unless
//! `FLANEUR_REQUIRE_SERVICES=1`, where it fails.

use reqwest::StatusCode;
use reqwest::blocking::Client;
use reqwest::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_RANGE, LOCATION, RANGE};

use crate::pictures;
use crate::server::Server;

/// The test S3 server, or `None` when none is configured and none is required.
pub fn s3_env() -> Option<[String; 5]> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let Some(endpoint) = var("FLANEUR_TEST_S3_ENDPOINT") else {
        assert!(
            std::env::var("FLANEUR_REQUIRE_SERVICES").as_deref() != Ok("1"),
            "FLANEUR_TEST_S3_ENDPOINT is not set: start the test servers with \
             `scripts/services.sh start` and export the variables it prints"
        );
        skipped();
        return None;
    };
    let need = |name: &str| var(name).unwrap_or_else(|| panic!("{name} is not set"));
    Some([
        endpoint,
        need("FLANEUR_TEST_S3_BUCKET"),
        need("FLANEUR_TEST_S3_REGION"),
        need("FLANEUR_TEST_S3_ACCESS_KEY"),
        need("FLANEUR_TEST_S3_SECRET_KEY"),
    ])
}

#[expect(
    clippy::print_stderr,
    reason = "a skipped test says so in the test output"
)]
fn skipped() {
    eprintln!("skipped: FLANEUR_TEST_S3_ENDPOINT is not set (no S3 server)");
}

/// GET with an optional Range, not following redirects.
fn get(client: &Client, url: &str, range: Option<&str>) -> reqwest::blocking::Response {
    let mut request = client.get(url);
    if let Some(range) = range {
        request = request.header(RANGE, range);
    }
    request.send().unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

/// The bytes of a response of the expected status.
fn body_of(response: reqwest::blocking::Response, status: StatusCode) -> Vec<u8> {
    let url = response.url().to_string();
    assert_eq!(response.status(), status, "GET {url}");
    response.bytes().expect("body").to_vec()
}

#[test]
fn pictures_in_s3_are_read_streamed_or_through_presigned_addresses() {
    let Some([endpoint, bucket, region, access_key, secret_key]) = s3_env() else {
        return;
    };
    let encoded =
        percent_encoding::utf8_percent_encode(&endpoint, percent_encoding::NON_ALPHANUMERIC);
    let prefix = format!("api/{}", uuid::Uuid::new_v4().simple());
    let fs_url = format!("s3://{bucket}/{prefix}?endpoint_url={encoded}&region={region}");
    let env = |mode: &'static str| {
        vec![
            ("FS_URL", fs_url.clone()),
            ("AWS_ACCESS_KEY_ID", access_key.clone()),
            ("AWS_SECRET_ACCESS_KEY", secret_key.clone()),
            ("FLANEUR_PICTURE_READS", mode.to_owned()),
        ]
    };
    let plain = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("HTTP client");

    // 1. A 360° picture goes into the bucket and is processed from there.
    let data = tempfile::tempdir().expect("data folder");
    let file = pictures(&["1.jpg"]).remove(0);
    let original = std::fs::read(&file).expect("original picture");
    let proxy_env = env("proxy");
    let server = Server::start_in_with_env(data.path(), &as_refs(&proxy_env));
    let collection = server.upload_sequence("in s3", std::slice::from_ref(&file), "anyone");
    let items = server.collection_items(&collection);
    let id = items[0]["id"].as_str().expect("picture id").to_owned();
    assert!(
        !data.path().join("pictures").exists(),
        "pictures went to the data folder"
    );
    let files = ["hd.jpg", "sd.jpg", "thumb.jpg"].map(|f| format!("/pictures/{id}/{f}"));

    // 2. Streamed: whole files and ranges, as with a folder.
    let mut whole = Vec::new();
    for path in &files {
        let bytes = body_of(get(&plain, &server.url(path), None), StatusCode::OK);
        crate::jpeg_size(&bytes);
        let part = get(&plain, &server.url(path), Some("bytes=100-199"));
        assert_eq!(
            part.headers()[CONTENT_RANGE],
            format!("bytes 100-199/{}", bytes.len()).as_str()
        );
        assert_eq!(body_of(part, StatusCode::PARTIAL_CONTENT), bytes[100..200]);
        whole.push(bytes);
    }
    assert!(whole[0] == original, "hd.jpg is the original");
    assert!(whole[1].len() < whole[0].len() && whole[2].len() < whole[1].len());
    server.kill();

    // 3. Redirected: a presigned address of the bucket gives the same bytes and ranges.
    let redirect_env = env("redirect");
    let server = Server::start_in_with_env(data.path(), &as_refs(&redirect_env));
    for (path, bytes) in files.iter().zip(&whole) {
        let answer = get(&plain, &server.url(path), None);
        assert_eq!(answer.status(), StatusCode::FOUND, "GET {path}");
        assert_eq!(answer.headers()[CACHE_CONTROL], "public, max-age=1800");
        let location = answer.headers()[LOCATION].to_str().expect("location");
        assert!(location.starts_with(&endpoint), "{location}");
        assert!(location.contains("X-Amz-Signature="), "{location}");
        assert!(body_of(get(&plain, location, None), StatusCode::OK) == *bytes);
        let part = get(&plain, location, Some("bytes=100-199"));
        assert_eq!(body_of(part, StatusCode::PARTIAL_CONTENT), bytes[100..200]);

        // HEAD cannot use an address signed for GET: it is answered by the API.
        let head = plain
            .head(server.url(path))
            .send()
            .expect("HEAD picture file");
        assert_eq!(head.status(), StatusCode::OK, "HEAD {path}");
        assert_eq!(
            head.headers()[CONTENT_LENGTH],
            bytes.len().to_string().as_str()
        );
    }

    // Errors stay the API's own: an unknown picture is a JSON 404, not a redirect.
    let missing = format!("/pictures/{}/hd.jpg", uuid::Uuid::new_v4());
    let (status, body) = crate::server::json_of(get(&plain, &server.url(&missing), None));
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

fn as_refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[test]
fn redirects_over_a_folder_store_stop_the_start() {
    let data = tempfile::tempdir().expect("data folder");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_flaneur"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--picture-reads",
            "redirect",
        ])
        .arg("--data-dir")
        .arg(data.path())
        .output()
        .expect("flaneur serve runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("needs an S3 picture store"), "{stderr}");
    // Refused before the catalog is made.
    assert!(!data.path().join("catalog.sqlite").exists(), "{stderr}");
}

#[test]
fn a_malformed_fs_url_stops_the_start_saying_what_is_expected() {
    let data = tempfile::tempdir().expect("data folder");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_flaneur"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(data.path())
        .env("FS_URL", "s3://KEY:hunter2@bucket?regoin=eu")
        .output()
        .expect("flaneur serve runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("unknown parameter 'regoin'"), "{stderr}");
    // Refused before the catalog is made.
    assert!(!data.path().join("catalog.sqlite").exists(), "{stderr}");
    assert!(
        stderr.contains("s3://[ACCESS_KEY:SECRET@]bucket"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
}
