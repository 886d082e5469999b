//! How the server serves the web front-end's build: pages, assets and their cache headers,
//! the settings the pages read, and what it says when no build is there.

use reqwest::StatusCode;
use reqwest::header::{ACCEPT_LANGUAGE, CACHE_CONTROL, CONTENT_TYPE};

use crate::server::{Server, json_of};

/// A stand-in for a build of `web/`: three pages and one asset.
fn fake_build() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("index.html"), "<p>map</p>").expect("write index.html");
    std::fs::write(dir.path().join("upload.html"), "<p>upload</p>").expect("write upload.html");
    std::fs::write(dir.path().join("token-accepted.html"), "<p>token</p>").expect("write page");
    std::fs::create_dir_all(dir.path().join("assets/app-1")).expect("assets folder");
    std::fs::write(dir.path().join("assets/app-1/main.js"), "let a = 1;").expect("write js");
    dir
}

fn header(response: &reqwest::blocking::Response, name: reqwest::header::HeaderName) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn pages_and_assets_come_from_the_build_with_their_cache_headers() {
    let build = fake_build();
    let dir = build.path().to_str().expect("utf-8 temp path");
    let server = Server::start_with_env(&[
        ("FLANEUR_WEB_DIR", dir),
        (
            "FLANEUR_BASEMAP_STYLE",
            "https://tiles.example.org/style.json",
        ),
    ]);
    let origin = server.api.trim_end_matches("/api").to_owned();

    // Pages: HTML, revalidated on each visit.
    for (path, text) in [
        ("/", "<p>map</p>"),
        ("/upload", "<p>upload</p>"),
        ("/token-accepted", "<p>token</p>"),
        ("/token-accepted.html", "<p>token</p>"),
    ] {
        let response = server.get_url(&format!("{origin}{path}"));
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        assert!(header(&response, CONTENT_TYPE).starts_with("text/html"));
        assert_eq!(header(&response, CACHE_CONTROL), "no-cache");
        assert_eq!(response.text().expect("body"), text);
    }

    // Assets: cached for long, since their folder names change with their content.
    let response = server.get_url(&format!("{origin}/assets/app-1/main.js"));
    assert_eq!(response.status(), StatusCode::OK);
    assert!(header(&response, CONTENT_TYPE).contains("javascript"));
    assert!(header(&response, CACHE_CONTROL).contains("immutable"));
    // Missing files and folders are a JSON 404, never a redirect nor an empty answer.
    for path in [
        "/assets/app-1/nothing.js",
        "/assets/app-1/",
        "/assets/app-1",
        "/assets/",
    ] {
        let missing = server.get_url(&format!("{origin}{path}"));
        assert_eq!(missing.status(), StatusCode::NOT_FOUND, "GET {path}");
        assert!(!header(&missing, CACHE_CONTROL).contains("immutable"));
        let (_, body) = json_of(missing);
        assert_eq!(body["status_code"], 404, "GET {path}");
    }

    // Browsers ask for an icon at the root whatever the pages say: they get the logo.
    let icon = server.get_url(&format!("{origin}/favicon.ico"));
    assert_eq!(icon.status(), StatusCode::OK);
    assert!(header(&icon, CONTENT_TYPE).starts_with("image/"));

    // A page of the front-end missing from the build says how to build it.
    let sequences = server.get_url(&format!("{origin}/sequences"));
    assert_eq!(sequences.status(), StatusCode::NOT_FOUND);
    assert!(sequences.text().expect("body").contains("npm run build"));

    // The settings the pages read.
    let (status, settings) = server.get_json_url(&format!("{origin}/web/settings.json"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        settings["basemap_style"],
        "https://tiles.example.org/style.json"
    );

    // The API's own 404 is unchanged.
    let (status, body) = json_of(server.get_url(&server.url("/no-such-route")));
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["status_code"], 404);
}

#[test]
fn without_a_build_the_pages_say_how_to_make_one_and_the_api_works() {
    let empty = tempfile::tempdir().expect("temp dir");
    let dir = empty.path().to_str().expect("utf-8 temp path");
    let server = Server::start_with_env(&[("FLANEUR_WEB_DIR", dir)]);
    let origin = server.api.trim_end_matches("/api").to_owned();

    let response = server.get_url(&format!("{origin}/"));
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(header(&response, CONTENT_TYPE).starts_with("text/html"));
    let text = response.text().expect("body");
    assert!(
        text.contains("not built") && text.contains("--web-dir"),
        "{text}"
    );

    let (status, settings) = server.get_json_url(&format!("{origin}/web/settings.json"));
    assert_eq!(status, StatusCode::OK);
    assert!(settings["basemap_style"].is_null());
    server.get_ok("");

    // In French for a browser asking for French first, in English otherwise.
    let french = server
        .client()
        .get(format!("{origin}/upload"))
        .header(ACCEPT_LANGUAGE, "fr-FR,fr;q=0.9,en;q=0.8")
        .send()
        .expect("GET /upload in French");
    assert_eq!(french.status(), StatusCode::NOT_FOUND);
    let text = french.text().expect("body");
    assert!(
        text.contains("lang=\"fr\"") && text.contains("--web-dir"),
        "{text}"
    );
    let german = server
        .client()
        .get(format!("{origin}/upload"))
        .header(ACCEPT_LANGUAGE, "de-DE,de;q=0.9")
        .send()
        .expect("GET /upload in German");
    assert!(german.text().expect("body").contains("lang=\"en\""));
}

#[cfg(unix)]
#[test]
fn assets_never_lead_out_of_the_web_folder() {
    let build = fake_build();
    let outside = tempfile::tempdir().expect("temp dir");
    std::fs::write(outside.path().join("secret"), "not for the web").expect("write secret");
    let assets = build.path().join("assets/app-1");
    std::os::unix::fs::symlink(outside.path().join("secret"), assets.join("leak.js"))
        .expect("file link");
    std::os::unix::fs::symlink(outside.path(), assets.join("out")).expect("folder link");
    // A link staying inside the build is fine.
    std::os::unix::fs::symlink(assets.join("main.js"), assets.join("same.js")).expect("link");
    let dir = build.path().to_str().expect("utf-8 temp path");
    let server = Server::start_with_env(&[("FLANEUR_WEB_DIR", dir)]);
    let origin = server.api.trim_end_matches("/api").to_owned();

    for path in [
        "/assets/app-1/leak.js",
        "/assets/app-1/out/secret",
        "/assets/app-1/%2e%2e/%2e%2e/index.html",
    ] {
        let response = server.get_url(&format!("{origin}{path}"));
        let status = response.status();
        let text = response.text().expect("body");
        assert_eq!(status, StatusCode::NOT_FOUND, "GET {path}: {text}");
        assert!(!text.contains("not for the web"), "GET {path}");
    }
    let inside = server.get_url(&format!("{origin}/assets/app-1/same.js"));
    assert_eq!(inside.status(), StatusCode::OK);
    assert_eq!(inside.text().expect("body"), "let a = 1;");
}
