//! `/api/configuration`: what the operator sets, and what a default instance says next to the
//! recorded answer of a Panoramax instance.

use serde_json::{Value, json};

use crate::server::Server;

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
