//! What the server refuses on purpose: links pointed at another site, bodies too large for
//! their route, methods a route does not take, leap seconds, too many tags, text holding a NUL
//! character, and changes sent by the pages of other sites.

use reqwest::StatusCode;
use reqwest::blocking::multipart;
use serde_json::json;

use crate::server::{Server, json_of};

#[test]
fn forwarded_headers_count_only_when_the_operator_trusts_them() {
    let host = |server: &Server| {
        let response = server
            .client()
            .get(server.url("/"))
            .header("X-Forwarded-Host", "pictures.example.org")
            .header("X-Forwarded-Proto", "https")
            .send()
            .expect("GET /api");
        let (_, landing) = json_of(response);
        landing["links"][0]["href"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let plain = Server::start();
    assert!(
        host(&plain).starts_with("http://127.0.0.1:"),
        "{}",
        host(&plain)
    );
    let proxied = Server::start_with_env(&[("FLANEUR_TRUST_FORWARDED_HEADERS", "true")]);
    assert!(
        host(&proxied).starts_with("https://pictures.example.org/api"),
        "{}",
        host(&proxied)
    );
}

#[test]
fn oversize_json_bodies_and_wrong_methods_get_json_errors() {
    let server = Server::start();
    let big = json!({ "title": "x".repeat(2 << 20) });
    let (status, body) = server.post_json("/upload_sets", &big);
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| m.contains("KiB")),
        "{body}"
    );

    // The server closes the connection of a 413 without reading the rest of the body, and a
    // pooled connection may be reused before the client notices: a fresh client has none.
    let response = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .expect("HTTP client")
        .delete(server.url("/collections"))
        .send()
        .expect("DELETE");
    let (status, body) = json_of(response);
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(body["message"].is_string(), "{body}");
}

#[test]
fn a_leap_second_capture_time_is_refused() {
    let server = Server::start();
    let set = server.create_upload_set("leap", None);
    let file = crate::pictures_dir().join("e1.jpg");
    let bytes = std::fs::read(&file).expect("read e1.jpg");
    let form = multipart::Form::new()
        .part("file", multipart::Part::bytes(bytes).file_name("e1.jpg"))
        .text("override_capture_time", "2016-12-31T23:59:60Z");
    let (status, body) = server.post_form(&set, form);
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body["details"][0]["fields"][0],
        json!("override_capture_time"),
        "{body}"
    );
}

/// The methods a browser is allowed on `path` from a page of `origin`, when it asks before
/// sending `method`, with `headers` of its own if any.
fn allowed_methods(
    server: &Server,
    path: &str,
    origin: &str,
    method: &str,
    headers: Option<&str>,
) -> String {
    let mut preflight = server
        .client()
        .request(reqwest::Method::OPTIONS, server.url(path))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method);
    if let Some(headers) = headers {
        preflight = preflight.header("Access-Control-Request-Headers", headers);
    }
    let response = preflight.send().expect("OPTIONS");
    response
        .headers()
        .get("access-control-allow-methods")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn pages_of_other_sites_may_read_but_not_write() {
    let server = Server::start();
    let set = server.create_upload_set("kept", None);
    let own_origin = server.url("").trim_end_matches("/api").to_owned();
    let evil = "http://127.0.0.1:1";

    // Reads are open to every site, without credentials.
    let response = server
        .client()
        .get(server.url(""))
        .header("Origin", evil)
        .send()
        .expect("GET /api");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");

    // Pages of other sites may send an API token with their reads: the preflight names the
    // header back, as browsers do not let `*` stand for `Authorization`.
    let preflight = server
        .client()
        .request(reqwest::Method::OPTIONS, server.url("/users/me"))
        .header("Origin", evil)
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "authorization")
        .send()
        .expect("OPTIONS /users/me");
    let allowed_headers = preflight
        .headers()
        .get("access-control-allow-headers")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        allowed_headers.contains("authorization"),
        "{allowed_headers}"
    );

    // A browser asking before a DELETE gets no permission for it.
    let allowed = allowed_methods(
        &server,
        &format!("/upload_sets/{set}"),
        evil,
        "DELETE",
        None,
    );
    assert!(!allowed.contains("DELETE"), "{allowed}");

    // Item search by POST is a read: another site's page may send it, and be told so by
    // the preflight.
    let allowed = allowed_methods(&server, "/search", evil, "POST", Some("content-type"));
    assert!(allowed.contains("POST"), "{allowed}");
    let response = server
        .client()
        .post(server.url("/search"))
        .header("Origin", evil)
        .json(&json!({ "limit": 1 }))
        .send()
        .expect("POST /search");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");

    // A DELETE sent anyway from another site's page changes nothing.
    let delete = |origin: &str| {
        server
            .client()
            .delete(server.url(&format!("/upload_sets/{set}")))
            .header("Origin", origin)
            .send()
            .expect("DELETE")
    };
    let (status, body) = json_of(delete(evil));
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("another site")),
        "{body}"
    );
    server.get_ok(&format!("/upload_sets/{set}"));

    // Nor does a simple form post, which browsers send without asking first.
    let form = multipart::Form::new().part(
        "file",
        multipart::Part::bytes(b"not a picture".to_vec()).file_name("x.jpg"),
    );
    let response = server
        .client()
        .post(server.url(&format!("/upload_sets/{set}/files")))
        .header("Origin", "null")
        .multipart(form)
        .send()
        .expect("POST a file");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // The instance's own pages may.
    let status = delete(&own_origin).status();
    assert!(status.is_success(), "{status}");
}

#[test]
fn an_upload_set_with_more_than_a_thousand_tags_is_refused_saying_the_bound() {
    let server = Server::start();
    let tags = |n: usize| -> Vec<serde_json::Value> {
        (0..n)
            .map(|i| json!({ "key": "label", "value": i.to_string() }))
            .collect()
    };
    let (status, body) = server.post_json(
        "/upload_sets",
        &json!({ "title": "many tags", "semantics": tags(1001) }),
    );
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body["details"][0]["fields"][0],
        json!("semantics"),
        "{body}"
    );
    let error = body["details"][0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("at most 1000 tags"), "{body}");

    let (status, body) = server.post_json(
        "/upload_sets",
        &json!({ "title": "enough tags", "semantics": tags(1000) }),
    );
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Asserts a 400 whose message names the NUL character, for a request holding one.
fn assert_nul_refused(status: StatusCode, body: &serde_json::Value, what: &str) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains("NUL"), "{what}: {body}");
}

#[test]
fn text_holding_a_nul_character_is_refused_on_every_backend() {
    let server = Server::start();

    // JSON bodies: a title, a tag value, a CQL2 literal of a search body.
    let (status, body) = server.post_json("/upload_sets", &json!({ "title": "a\u{0}b" }));
    assert_nul_refused(status, &body, "title");
    let tags = json!([{ "key": "surface", "value": "cobble\u{0}stone" }]);
    let (status, body) = server.post_json(
        "/upload_sets",
        &json!({ "title": "tags", "semantics": tags }),
    );
    assert_nul_refused(status, &body, "tag value");
    let (status, body) = server.post_json(
        "/search",
        &json!({ "filter": "\"semantics.surface\" = 'a\u{0}'", "filter-lang": "cql2-text" }),
    );
    assert_nul_refused(status, &body, "search body filter");

    // A JSON text holding a backslash before `u0000` holds no NUL.
    let (status, body) = server.post_json("/upload_sets", &json!({ "title": "C:\\u0000" }));
    assert_eq!(status, StatusCode::OK, "{body}");

    // Query strings: CQL2 literals of both listings.
    for path in [
        "/search?filter=%22semantics.surface%22%3D%27a%00%27",
        "/collections?filter=title%3D%27a%00%27",
    ] {
        let (status, body) = server.get_json(path);
        assert_nul_refused(status, &body, path);
    }

    // Upload forms: the file name and a tag given by key. The name comes in a header of the
    // form's part, which the form parser refuses as it is read, before the file: a few bytes
    // stand for the picture there, as the server may answer before a large body is all sent.
    let set = server.create_upload_set("nul", None);
    let form = multipart::Form::new().part(
        "file",
        multipart::Part::bytes(b"\xFF\xD8".to_vec()).file_name("e\u{0}1.jpg"),
    );
    let (status, body) = server.post_form(&set, form);
    assert_eq!(status, StatusCode::BAD_REQUEST, "file name: {body}");
    let bytes = std::fs::read(crate::pictures_dir().join("e1.jpg")).expect("read e1.jpg");
    let form = multipart::Form::new()
        .part("file", multipart::Part::bytes(bytes).file_name("e1.jpg"))
        .text("override_Exif.Image.Artist", "Jane\u{0}Doe");
    let (status, body) = server.post_form(&set, form);
    assert_nul_refused(status, &body, "tag form field");

    // Nothing was half stored: the set holds no file.
    let files = server.get_ok(&format!("/upload_sets/{set}/files"));
    assert_eq!(files["files"], json!([]), "{files}");
}
