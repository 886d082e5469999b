//! Accounts and API tokens over HTTP: tokens made by `flaneur account`, the generate → claim →
//! use flow, revocation, forged and foreign tokens, uploads acting for the token's account,
//! and the routes answering 501 without a login provider.

use std::path::Path;
use std::process::{Command, Output};

use reqwest::StatusCode;
use reqwest::blocking::RequestBuilder;
use serde_json::{Value, json};

use crate::server::{Server, json_of};
use crate::{GOPRO, pictures};

/// Runs `flaneur account ARGS` on the catalog of `data_dir` (as the run's backend keeps it).
fn run_account(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flaneur"))
        .arg("account")
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .envs(crate::backend::storage_env(data_dir))
        .env("RUST_LOG", "warn")
        .output()
        .expect("flaneur account runs")
}

/// Runs `flaneur account ARGS` on the catalog of `data_dir` (as the run's backend keeps it),
/// expecting success; returns its stdout.
pub fn account_command(data_dir: &Path, args: &[&str]) -> String {
    let output = run_account(data_dir, args);
    assert!(
        output.status.success(),
        "flaneur account {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// Makes an account (an administrator with `admin`) and a token of it; returns the token.
pub fn account_with_token(data_dir: &Path, name: &str, admin: bool) -> String {
    let mut create = vec!["create", name];
    if admin {
        create.push("--admin");
    }
    account_command(data_dir, &create);
    account_command(data_dir, &["token", name, "--description", "tests"])
        .trim()
        .to_owned()
}

/// A client keeping no connection between requests: a refused upload leaves its connection
/// closing, which a pooled client could pick for the next request.
pub(crate) fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .pool_max_idle_per_host(0)
        .no_proxy()
        .build()
        .expect("client")
}

/// A request with a bearer token; none for the token `anonymous`.
pub(crate) fn bearer(request: RequestBuilder, token: &str) -> RequestBuilder {
    if token == "anonymous" {
        return request;
    }
    request.header("Authorization", format!("Bearer {token}"))
}

pub(crate) fn get_as(server: &Server, path: &str, token: &str) -> (StatusCode, Value) {
    json_of(
        bearer(client().get(server.url(path)), token)
            .send()
            .expect("GET"),
    )
}

pub(crate) fn post_as(
    server: &Server,
    path: &str,
    token: &str,
    body: &Value,
) -> (StatusCode, Value) {
    json_of(
        bearer(client().post(server.url(path)), token)
            .json(body)
            .send()
            .expect("POST"),
    )
}

fn delete_as(server: &Server, path: &str, token: &str) -> StatusCode {
    bearer(client().delete(server.url(path)), token)
        .send()
        .expect("DELETE")
        .status()
}

/// Sends one picture to an upload set with a token.
fn upload_as(server: &Server, set: &str, token: &str) -> (StatusCode, Value) {
    let path = &pictures(&GOPRO[..1])[0];
    upload_bytes_as(server, set, token, std::fs::read(path).expect("picture"))
}

/// Sends bytes as a picture to an upload set with a token. Refusals come before the body is
/// read, and the server closes the connection then: refused uploads are sent small, so that
/// the whole request is out before the answer.
pub(crate) fn upload_bytes_as(
    server: &Server,
    set: &str,
    token: &str,
    bytes: Vec<u8>,
) -> (StatusCode, Value) {
    let part = reqwest::blocking::multipart::Part::bytes(bytes)
        .file_name("1.jpg")
        .mime_str("image/jpeg")
        .expect("mime");
    let form = reqwest::blocking::multipart::Form::new().part("file", part);
    let url = server.url(&format!("/upload_sets/{set}/files"));
    json_of(
        bearer(client().post(url), token)
            .multipart(form)
            .send()
            .expect("POST file"),
    )
}

#[test]
fn a_token_made_by_the_operator_acts_for_its_account_and_only_there() {
    let dir = tempfile::tempdir().expect("data folder");
    let ana = account_with_token(dir.path(), "ana", false);
    let bob = account_with_token(dir.path(), "bob", false);
    let root = account_with_token(dir.path(), "root", true);
    let server = Server::start_in(dir.path());

    // 1. Who the token is.
    let (status, me) = get_as(&server, "/users/me", &ana);
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["name"], "ana");
    assert_eq!(
        me["permissions"],
        json!({ "role": "user", "can_check_reports": false, "can_edit_excluded_areas": false,
                "can_edit_pages": false })
    );
    let ana_id = me["id"].as_str().expect("id").to_owned();
    let (_, root_me) = get_as(&server, "/users/me", &root);
    assert_eq!(root_me["permissions"]["role"], "admin");

    // 2. Her uploads are hers; anonymous ones the default account's.
    let (status, set) = post_as(&server, "/upload_sets", &ana, &json!({ "title": "ana's" }));
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(set["account_id"], json!(ana_id));
    let set = set["id"].as_str().expect("id").to_owned();
    let (status, file) = upload_as(&server, &set, &ana);
    assert_eq!(status, StatusCode::ACCEPTED, "{file}");
    let (_, anonymous) = server.post_json("/upload_sets", &json!({ "title": "anonymous" }));
    assert_ne!(anonymous["account_id"], json!(ana_id));

    // 3. Nobody else changes her upload set: nothing is added, completed or deleted.
    for token in [&bob, "anonymous"] {
        let (status, body) = upload_bytes_as(&server, &set, token, vec![0xFF, 0xD8, 0xFF]);
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        let complete = format!("/upload_sets/{set}/complete");
        let (status, body) = post_as(&server, &complete, token, &json!({}));
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        let status = delete_as(&server, &format!("/upload_sets/{set}"), token);
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let after = server.get_ok(&format!("/upload_sets/{set}"));
    assert_eq!(after["completed"], json!(false), "{after}");
    let files = server.get_ok(&format!("/upload_sets/{set}/files"));
    assert_eq!(files["files"].as_array().map(Vec::len), Some(1), "{files}");

    // 4. An administrator may.
    let (status, body) = post_as(
        &server,
        &format!("/upload_sets/{set}/complete"),
        &root,
        &json!({}),
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        delete_as(&server, &format!("/upload_sets/{set}"), &root),
        StatusCode::NO_CONTENT
    );
}

#[test]
fn a_generated_token_is_claimed_used_and_revoked() {
    let dir = tempfile::tempdir().expect("data folder");
    let ana = account_with_token(dir.path(), "ana", false);
    let bob = account_with_token(dir.path(), "bob", false);
    let server = Server::start_in(dir.path());

    // 1. Generated anonymously: it acts for nobody until claimed.
    let url = server.url("/auth/tokens/generate?description=my%20laptop");
    let (status, generated) = json_of(client().post(url).send().expect("POST"));
    assert_eq!(status, StatusCode::OK, "{generated}");
    assert_eq!(generated["description"], "my laptop");
    let value = generated["jwt_token"]
        .as_str()
        .expect("jwt_token")
        .to_owned();
    assert_eq!(value.split('.').count(), 3, "shaped as a JWT: {value}");
    let id = generated["id"].as_str().expect("id").to_owned();
    let claim = crate::server::link(&generated, "claim").expect("claim link");
    assert!(
        claim.ends_with(&format!("/api/auth/tokens/{id}/claim")),
        "{claim}"
    );
    let (status, body) = get_as(&server, "/users/me", &value);
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("not yet claimed")),
        "{body}"
    );

    // 2. Opening the link changes nothing: it says what a claim would do.
    let (status, body) = json_of(bearer(client().get(&claim), &ana).send().expect("look"));
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["claimed"], json!(false), "{body}");
    assert_eq!(body["description"], "my laptop", "{body}");
    assert_eq!(
        get_as(&server, "/users/me", &value).0,
        StatusCode::FORBIDDEN
    );

    // 3. Claimed by ana (with her own token, as no browser login is configured); claiming it
    //    again is harmless, and bob can neither take it nor learn about it.
    let (status, body) = json_of(bearer(client().post(&claim), &ana).send().expect("claim"));
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = json_of(bearer(client().post(&claim), &ana).send().expect("claim"));
    assert_eq!(status, StatusCode::OK);
    let (status, body) = json_of(bearer(client().get(&claim), &ana).send().expect("look"));
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["claimed"], json!(true), "{body}");
    for bob_asks in [client().post(&claim), client().get(&claim)] {
        let (status, body) = json_of(bearer(bob_asks, &bob).send().expect("claim"));
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert!(body.get("description").is_none(), "{body}");
    }
    let (status, me) = get_as(&server, "/users/me", &value);
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["name"], "ana");
    // Claiming needs an account; a token that does not exist is not found.
    let (status, body) = json_of(client().post(&claim).send().expect("claim"));
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let unknown = claim.replace(&id, &uuid::Uuid::new_v4().to_string());
    for ana_asks in [client().post(&unknown), client().get(&unknown)] {
        let (status, body) = json_of(bearer(ana_asks, &ana).send().expect("claim"));
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    }

    // 4. Listed among hers, without values; bob does not see it.
    let (status, tokens) = get_as(&server, "/users/me/tokens", &value);
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let listed = tokens.as_array().expect("list");
    assert_eq!(listed.len(), 2, "{tokens}");
    assert!(
        listed.iter().all(|t| t.get("jwt_token").is_none()),
        "{tokens}"
    );
    let (status, one) = get_as(&server, &format!("/users/me/tokens/{id}"), &ana);
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(one["description"], "my laptop");
    assert!(one.get("jwt_token").is_none(), "{one}");
    let (status, _) = get_as(&server, &format!("/users/me/tokens/{id}"), &bob);
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        delete_as(&server, &format!("/users/me/tokens/{id}"), &bob),
        StatusCode::NOT_FOUND
    );

    // 5. A token made through the API works at once.
    let (status, made) = post_as(
        &server,
        "/users/me/tokens",
        &ana,
        &json!({ "description": "ci" }),
    );
    assert_eq!(status, StatusCode::OK, "{made}");
    let made_value = made["jwt_token"].as_str().expect("jwt_token");
    assert_eq!(get_as(&server, "/users/me", made_value).1["name"], "ana");

    // 6. Revoked: refused at once.
    let revoked = bearer(
        client().delete(server.url(&format!("/users/me/tokens/{id}"))),
        &ana,
    )
    .send()
    .expect("DELETE");
    let (status, body) = json_of(revoked);
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["message"], "token revoked");
    let (status, body) = get_as(&server, "/users/me", &value);
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("does not exist")),
        "{body}"
    );
}

#[test]
fn forged_foreign_and_orphaned_tokens_are_refused() {
    let dir = tempfile::tempdir().expect("data folder");
    let ana = account_with_token(dir.path(), "ana", false);
    let gone = account_with_token(dir.path(), "gone", false);
    account_command(dir.path(), &["delete", "gone"]);
    let other = tempfile::tempdir().expect("another instance");
    let foreign = account_with_token(other.path(), "ana", false);
    let server = Server::start_in(dir.path());
    assert_eq!(get_as(&server, "/users/me", &ana).0, StatusCode::OK);

    // Not made by this instance, or altered: 401.
    let mut altered = ana.clone().into_bytes();
    let last = altered.len() - 2;
    altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).expect("ASCII");
    let truncated = &ana[..ana.len() - 10];
    for token in [
        altered.as_str(),
        truncated,
        foreign.as_str(),
        "not-a-token",
        "a.b.c",
    ] {
        let (status, body) = get_as(&server, "/users/me", token);
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token}: {body}");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains("not valid")),
            "{body}"
        );
    }
    // Not a bearer token: 401, on any route.
    let basic = client()
        .get(server.url("/collections"))
        .header("Authorization", "Basic YW5hOnNlY3JldA==")
        .send()
        .expect("GET");
    let (status, body) = json_of(basic);
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("Bearer")),
        "{body}"
    );

    // The token of a deleted account went with it: 403.
    let (status, body) = get_as(&server, "/users/me", &gone);
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let listed = account_command(dir.path(), &["list"]);
    assert!(!listed.contains("\tgone\n"), "{listed}");
}

#[test]
fn without_a_login_provider_login_routes_answer_501_and_accounts_need_a_token() {
    let server = Server::start();
    for route in ["login", "redirect", "logout", "post_logout_redirect"] {
        let (status, body) = server.get_json(&format!("/auth/{route}?next_url=%2F"));
        assert_eq!(status, StatusCode::NOT_IMPLEMENTED, "{route}: {body}");
        assert_eq!(
            body["message"],
            "authentication is not activated on this instance"
        );
    }
    assert_eq!(
        server.get_ok("/configuration")["auth"],
        json!({ "enabled": false })
    );

    // Routes of the caller's account: 401 JSON saying how to get a token, browsers included.
    for path in ["/users/me", "/users/me/tokens", "/users/me/collection"] {
        let response = client()
            .get(server.url(path))
            .header("Accept", "text/html,application/xhtml+xml")
            .send()
            .expect("GET");
        let (status, body) = json_of(response);
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}: {body}");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains("flaneur account token")),
            "{body}"
        );
    }
}

#[test]
fn the_caller_changes_its_preferences_and_finds_its_own_sequences() {
    let dir = tempfile::tempdir().expect("data folder");
    let ana = account_with_token(dir.path(), "ana", false);
    let server = Server::start_in(dir.path());

    let patch = |body: Value| {
        json_of(
            bearer(client().patch(server.url("/users/me")), &ana)
                .json(&body)
                .send()
                .expect("PATCH"),
        )
    };
    let (status, me) = patch(json!({ "default_visibility": "owner-only",
                                     "collaborative_metadata": false }));
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["default_visibility"], "owner-only");
    assert_eq!(me["collaborative_metadata"], json!(false));
    let (status, body) = patch(json!({ "default_visibility": "everyone" }));
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = patch(json!({ "role": "admin" }));
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (_, me) = get_as(&server, "/users/me", &ana);
    assert_eq!(
        me["default_visibility"], "owner-only",
        "a refused change changes nothing"
    );
    assert_eq!(me["permissions"]["role"], "user");

    // Her new upload sets take her default visibility unless they say otherwise.
    let (_, set) = post_as(
        &server,
        "/upload_sets",
        &ana,
        &json!({ "title": "default" }),
    );
    assert_eq!(set["visibility"], "owner-only", "{set}");
    let body = json!({ "title": "said", "visibility": "anyone" });
    let (_, set) = post_as(&server, "/upload_sets", &ana, &body);
    assert_eq!(set["visibility"], "anyone", "{set}");

    // `me` leads to the account's own routes.
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let response = bearer(client.get(server.url("/users/me/collection?limit=5")), &ana)
        .send()
        .expect("GET");
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()["location"].to_str().expect("location");
    let id = me["id"].as_str().expect("id");
    assert!(
        location.ends_with(&format!("/api/users/{id}/collection?limit=5")),
        "{location}"
    );
}

#[test]
fn with_uploads_forced_to_authenticate_anonymous_ones_are_refused() {
    let dir = tempfile::tempdir().expect("data folder");
    let ana = account_with_token(dir.path(), "ana", false);
    let server = Server::start_in_with_env(dir.path(), &[("API_FORCE_AUTH_ON_UPLOAD", "true")]);

    let (status, body) = server.post_json("/upload_sets", &json!({ "title": "anonymous" }));
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, set) = post_as(&server, "/upload_sets", &ana, &json!({ "title": "ana's" }));
    assert_eq!(status, StatusCode::OK, "{set}");
    let set = set["id"].as_str().expect("id");
    let (status, body) = upload_bytes_as(&server, set, "anonymous", vec![0xFF, 0xD8, 0xFF]);
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // Reads stay open.
    assert_eq!(
        server.get_json(&format!("/upload_sets/{set}")).0,
        StatusCode::OK
    );
}

#[test]
fn flaneur_account_says_what_went_wrong_with_its_exit_code() {
    let dir = tempfile::tempdir().expect("data folder");
    account_command(dir.path(), &["create", "ana"]);
    let stderr = |output: &Output| String::from_utf8_lossy(&output.stderr).into_owned();

    // A failed operation: 1, saying why.
    let taken = run_account(dir.path(), &["create", "ana"]);
    assert_eq!(taken.status.code(), Some(1), "{}", stderr(&taken));
    assert!(
        stderr(&taken).contains("already exists"),
        "{}",
        stderr(&taken)
    );
    for args in [
        &["token", "bob"][..],
        &["delete", "bob"],
        &["set-role", "bob", "admin"],
    ] {
        let missing = run_account(dir.path(), args);
        assert_eq!(
            missing.status.code(),
            Some(1),
            "{args:?}: {}",
            stderr(&missing)
        );
        assert!(stderr(&missing).contains("bob"), "{}", stderr(&missing));
    }
    let default = account_command(dir.path(), &["list"]);
    assert!(
        default.contains("\tadmin\t0\tDefault account\n"),
        "{default}"
    );
    let refused = run_account(dir.path(), &["delete", "Default account"]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));

    // Misuse: 2.
    let bad_role = run_account(dir.path(), &["set-role", "ana", "root"]);
    assert_eq!(bad_role.status.code(), Some(2), "{}", stderr(&bad_role));
    // A name that would fake a row of the listing, or reach the terminal showing it.
    for name in ["eve\tadmin\t0\troot", "eve\nbob", "\u{1b}[2Jeve"] {
        let refused = run_account(dir.path(), &["create", name]);
        assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
        assert!(
            stderr(&refused).contains("control characters"),
            "{}",
            stderr(&refused)
        );
    }
    let listed = account_command(dir.path(), &["list"]);
    assert_eq!(listed.lines().count(), 2, "{listed:?}");

    // The role changes, and the configuration file of `serve` is read too.
    account_command(dir.path(), &["set-role", "ana", "admin"]);
    let config = dir.path().join("flaneur.toml");
    let toml = format!(
        "data_dir = {:?}\nworkers = 2\n",
        dir.path().display().to_string()
    );
    std::fs::write(&config, toml).expect("configuration file");
    let output = Command::new(env!("CARGO_BIN_EXE_flaneur"))
        .args(["account", "list", "--config"])
        .arg(&config)
        .envs(crate::backend::storage_env(dir.path()))
        .output()
        .expect("flaneur account runs");
    assert!(output.status.success(), "{}", stderr(&output));
    let listed = String::from_utf8_lossy(&output.stdout);
    assert!(listed.contains("\tadmin\t0\tana\n"), "{listed}");
}
