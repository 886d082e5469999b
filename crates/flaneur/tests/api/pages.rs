//! Pages administrators write (`/api/pages`), the terms of service accounts accept and read
//! (`/api/users/me/accept_tos`, `/api/users/me/tos_read`), and their enforcement on uploads
//! and logins (`API_ENFORCE_TOS_ACCEPTANCE`).

use reqwest::StatusCode;
use reqwest::blocking::Response;
use reqwest::header;
use serde_json::{Value, json};

use crate::accounts::{account_with_token, bearer, client, get_as, post_as};
use crate::login::{Browser, location, log_in, site};
use crate::login_provider::Provider;
use crate::server::{Server, json_of};

const TERMS: &str = "/pages/terms-of-service";

/// Sends `body` as `media_type` with `method` and a token.
fn send(
    server: &Server,
    method: reqwest::Method,
    path: &str,
    token: &str,
    media_type: &str,
    body: &str,
) -> (StatusCode, Value) {
    json_of(
        bearer(client().request(method, server.url(path)), token)
            .header(header::CONTENT_TYPE, media_type)
            .body(body.to_owned())
            .send()
            .expect("request"),
    )
}

fn put_html(server: &Server, path: &str, token: &str, html: &str) -> (StatusCode, Value) {
    send(
        server,
        reqwest::Method::PUT,
        path,
        token,
        "text/html; charset=utf-8",
        html,
    )
}

fn get(server: &Server, path: &str) -> Response {
    client().get(server.url(path)).send().expect("GET")
}

#[test]
fn administrators_write_pages_anyone_reads_them_and_accounts_read_their_changes() {
    let dir = tempfile::tempdir().expect("data folder");
    let root = account_with_token(dir.path(), "root", true);
    let ana = account_with_token(dir.path(), "ana", false);
    let server = Server::start_in(dir.path());

    // No text yet; only the four pages exist, in languages written as codes.
    assert_eq!(server.get_ok(TERMS)["languages"], json!([]));
    let (status, body) = server.get_json("/pages/about");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("custom-banner"),
        "{body}"
    );
    assert_eq!(
        get(&server, &format!("{TERMS}/en")).status(),
        StatusCode::NOT_FOUND
    );

    // Administrators only, in HTML only, within the size limit.
    let html = "<h1>Terms</h1><p>Be kind.</p>";
    let path = format!("{TERMS}/en");
    assert_eq!(
        put_html(&server, &path, "anonymous", html).0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        put_html(&server, &path, &ana, html).0,
        StatusCode::FORBIDDEN
    );
    let (status, _) = send(
        &server,
        reqwest::Method::PUT,
        &path,
        &root,
        "application/json",
        "{}",
    );
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (status, _) = put_html(&server, &format!("{TERMS}/en_GB"), &root, html);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let big = "a".repeat(600 * 1024);
    assert_eq!(
        put_html(&server, &path, &root, &big).0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let (status, listing) = put_html(&server, &path, &root, html);
    assert_eq!(status, StatusCode::OK, "{listing}");
    let (status, _) = send(
        &server,
        reqwest::Method::POST,
        &format!("{TERMS}/fr"),
        &root,
        "text/html",
        "<p>Soyez aimables.</p>",
    );
    assert_eq!(status, StatusCode::OK);

    // Anyone reads them, with the date of the text.
    let listing = server.get_ok(TERMS);
    let languages: Vec<&Value> = listing["languages"]
        .as_array()
        .expect("languages")
        .iter()
        .collect();
    assert_eq!(languages.len(), 2, "{listing}");
    assert_eq!(languages[0]["language"], json!("en"));
    assert_eq!(languages[0]["links"][0]["href"], json!(server.url(&path)));
    let response = get(&server, &path);
    assert_eq!(response.status(), StatusCode::OK);
    let kind = response.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(kind.starts_with("text/html"), "{kind}");
    assert!(response.headers().contains_key(header::LAST_MODIFIED));
    // Opened directly, the text runs no script on the API's origin.
    let policy = &response.headers()[header::CONTENT_SECURITY_POLICY];
    assert_eq!(
        policy,
        "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src * data:"
    );
    assert_eq!(
        response.headers()[header::X_CONTENT_TYPE_OPTIONS],
        "nosniff"
    );
    assert_eq!(response.text().expect("text"), html);
    assert_eq!(
        server.get_ok("/configuration")["pages"],
        json!(["terms-of-service"])
    );

    // An announced change is to be read again, until read.
    let (_, me) = get_as(&server, "/users/me", &ana);
    assert_eq!(
        (
            me["tos_accepted"].clone(),
            me["tos_latest_change_read"].clone()
        ),
        (json!(false), json!(true))
    );
    let publish = format!("{TERMS}/publish-change");
    assert_eq!(
        post_as(&server, &publish, &ana, &json!({})).0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post_as(&server, &publish, &root, &json!({})).0,
        StatusCode::OK
    );
    let (_, me) = get_as(&server, "/users/me", &ana);
    assert_eq!(me["tos_latest_change_read"], json!(false), "{me}");
    let (status, me) = post_as(&server, "/users/me/tos_read", &ana, &json!({}));
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["tos_latest_change_read"], json!(true), "{me}");
    let (_, me) = post_as(&server, "/users/me/accept_tos", &ana, &json!({}));
    assert_eq!(me["tos_accepted"], json!(true), "{me}");
    assert!(me["tos_accepted_at"].is_string(), "{me}");

    // Removing every language removes the page.
    let delete = |path: &str, token: &str| {
        bearer(client().delete(server.url(path)), token)
            .send()
            .expect("DELETE")
            .status()
    };
    assert_eq!(delete(&path, &ana), StatusCode::FORBIDDEN);
    assert_eq!(delete(&path, &root), StatusCode::NO_CONTENT);
    assert_eq!(delete(&path, &root), StatusCode::NOT_FOUND);
    assert_eq!(
        delete(&format!("{TERMS}/fr"), &root),
        StatusCode::NO_CONTENT
    );
    assert_eq!(server.get_ok("/configuration")["pages"], json!([]));
    assert_eq!(
        post_as(&server, &publish, &root, &json!({})).0,
        StatusCode::NOT_FOUND
    );
}

#[test]
fn an_enforcing_instance_takes_uploads_of_accounts_that_accepted_its_terms_only() {
    let dir = tempfile::tempdir().expect("data folder");
    let ana = account_with_token(dir.path(), "ana", false);
    let server = Server::start_in_with_env(dir.path(), &[("API_ENFORCE_TOS_ACCEPTANCE", "true")]);
    let body = json!({ "title": "walk" });
    let (status, refused) = post_as(&server, "/upload_sets", &ana, &body);
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{refused}");
    let page = format!("{}/tos-validation.html", site(&server));
    assert_eq!(
        refused["details"]["validation_page"],
        json!(page),
        "{refused}"
    );

    let (status, _) = post_as(&server, "/users/me/accept_tos", &ana, &json!({}));
    assert_eq!(status, StatusCode::OK);
    let (status, set) = post_as(&server, "/upload_sets", &ana, &body);
    assert_eq!(status, StatusCode::OK, "{set}");
    // Anonymous uploads, the default account's, are not asked.
    let (status, set) = server.post_json("/upload_sets", &body);
    assert_eq!(status, StatusCode::OK, "{set}");
}

#[test]
fn a_login_leads_to_the_terms_first_until_they_are_accepted() {
    let provider = Provider::start();
    let server = Server::start_with_env(&[
        ("OAUTH_PROVIDER", "oidc"),
        ("OAUTH_OIDC_URL", &provider.url),
        ("OAUTH_CLIENT_ID", crate::login_provider::CLIENT_ID),
        ("OAUTH_CLIENT_SECRET", crate::login_provider::CLIENT_SECRET),
        ("API_ENFORCE_TOS_ACCEPTANCE", "true"),
    ]);
    let configuration = server.get_ok("/configuration");
    assert_eq!(configuration["auth"]["enforce_tos_acceptance"], json!(true));

    let mut browser = Browser::new();
    let upload = format!("{}/upload", site(&server));
    let done = log_in(&mut browser, &server, &upload);
    assert_eq!(done.status(), StatusCode::FOUND);
    let expected = format!("{}/tos-validation.html?next_url=%2Fupload", site(&server));
    assert_eq!(location(&done), expected);

    // Accepted from the instance's page, the next login goes on at once.
    let accept = browser
        .request(reqwest::Method::POST, &server.url("/users/me/accept_tos"))
        .header(header::ORIGIN, site(&server));
    let accepted = browser.send(accept);
    assert_eq!(accepted.status(), StatusCode::OK);
    let mut again = Browser::new();
    let done = log_in(&mut again, &server, &upload);
    assert_eq!(location(&done), "/upload");
}
