//! `/api/configuration`: what the operator sets, and what a default instance says next to the
//! recorded answer of a Panoramax instance.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::accounts::{account_with_token, bearer, client, post_as};
use crate::server::{Server, json_of};
use crate::{SONY, pictures};

fn recorded() -> Value {
    serde_json::from_str(include_str!(
        "../fixtures/geovisio-2.15.1/configuration.json"
    ))
    .expect("configuration.json is JSON")
}

#[test]
fn a_default_instance_says_what_a_panoramax_instance_says_about_uploads() {
    let server = Server::start();
    let ours = server.get_ok("/configuration");
    let theirs = recorded();

    let keys =
        |v: &Value| -> Vec<String> { v.as_object().expect("object").keys().cloned().collect() };
    assert_eq!(keys(&ours), keys(&theirs), "{ours}");
    // The same dispatch defaults, written alike (whole metres and degrees, float seconds).
    for key in ["auth", "defaults", "visibility", "pages", "version"] {
        assert_eq!(ours[key], theirs[key], "{key}: {ours}");
    }
    for key in ["name", "description", "geo_coverage"] {
        let label = ours[key]["label"].as_str().expect("label");
        assert_eq!(ours[key]["langs"], json!({ "en": label }), "{key}: {ours}");
    }
    let logo = ours["logo"].as_str().expect("logo");
    assert_eq!(
        server.get_url(logo).status(),
        reqwest::StatusCode::OK,
        "{logo}"
    );
}

#[test]
fn the_operator_describes_the_instance_as_on_panoramax_or_option_by_option() {
    let summary = json!({
        "name": { "en": "Rennes pictures", "fr": "Photos de Rennes" },
        "description": { "en": "Streets of Rennes", "fr": "Les rues de Rennes" },
        "geo_coverage": { "fr": "Rennes et alentours" },
        "logo": "https://rennes.example/logo.svg",
        "color": "#5e499c",
        "email": "photos@rennes.example",
    });
    let summary = summary.to_string();
    let server = Server::start_with_env(&[
        ("API_SUMMARY", summary.as_str()),
        ("FLANEUR_INSTANCE_COLOR", "#123456"),
        ("FLANEUR_LICENSE_ID", "etalab-2.0"),
        (
            "FLANEUR_LICENSE_URL",
            "https://www.etalab.gouv.fr/licence-ouverte-open-licence",
        ),
    ]);
    let configuration = server.get_ok("/configuration");
    let expected = json!({
        "name": {
            "label": "Rennes pictures",
            "langs": { "en": "Rennes pictures", "fr": "Photos de Rennes" },
        },
        "description": {
            "label": "Streets of Rennes",
            "langs": { "en": "Streets of Rennes", "fr": "Les rues de Rennes" },
        },
        "geo_coverage": {
            "label": "Rennes et alentours",
            "langs": { "fr": "Rennes et alentours" },
        },
        "logo": "https://rennes.example/logo.svg",
        "color": "#123456",
        "email": "photos@rennes.example",
        "license": {
            "id": "etalab-2.0",
            "url": "https://www.etalab.gouv.fr/licence-ouverte-open-licence",
        },
    });
    for (key, value) in expected.as_object().expect("object") {
        assert_eq!(&configuration[key], value, "{key}: {configuration}");
    }
    let landing = server.get_ok("/");
    assert_eq!(landing["title"], json!("Rennes pictures"), "{landing}");
}

#[test]
fn a_summary_that_cannot_be_read_stops_the_start() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_flaneur"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(tempfile::tempdir().expect("temporary folder").path())
        .env("API_SUMMARY", "{\"name\": ")
        .output()
        .expect("flaneur runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("API_SUMMARY"), "{stderr}");
}

/// A PATCH with a token.
fn patch_as(server: &Server, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
    json_of(
        bearer(client().patch(server.url(path)), token)
            .json(body)
            .send()
            .expect("PATCH"),
    )
}

#[test]
fn logged_only_is_refused_wherever_a_visibility_is_set_when_registration_is_open() {
    let dir = tempfile::tempdir().expect("data folder");
    let root = account_with_token(dir.path(), "root", true);
    let open = [("API_REGISTRATION_IS_OPEN", "true")];
    let server = Server::start_in_with_env(dir.path(), &open);
    let configuration = server.get_ok("/configuration");
    assert_eq!(
        configuration["visibility"]["possible_values"],
        json!(["anyone", "owner-only"])
    );

    // Upload sets, a published sequence and a picture, and the account's default.
    let refused = |(status, body): (StatusCode, Value)| {
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains("anyone may make an account"), "{body}");
    };
    let body = json!({ "title": "walk", "visibility": "logged-only" });
    refused(post_as(&server, "/upload_sets", &root, &body));
    let sequence = server.upload_sequence("walk", &pictures(&SONY[..1]), "anyone");
    let logged_only = json!({ "visibility": "logged-only" });
    refused(patch_as(
        &server,
        &format!("/collections/{sequence}"),
        &root,
        &logged_only,
    ));
    let item = server.collection_items(&sequence)[0]["id"]
        .as_str()
        .expect("item id")
        .to_owned();
    let path = format!("/collections/{sequence}/items/{item}");
    refused(patch_as(&server, &path, &root, &logged_only));
    let body = json!({ "default_visibility": "logged-only" });
    refused(patch_as(&server, "/users/me", &root, &body));

    // The other visibilities are taken as usual.
    let owner_only = json!({ "visibility": "owner-only" });
    let (status, body) = patch_as(
        &server,
        &format!("/collections/{sequence}"),
        &root,
        &owner_only,
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    let body = json!({ "default_visibility": "owner-only" });
    let (status, body) = patch_as(&server, "/users/me", &root, &body);
    assert_eq!(status, StatusCode::OK, "{body}");
}
