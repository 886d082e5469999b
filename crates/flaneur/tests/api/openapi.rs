//! The OpenAPI document (`/api/docs/specs.json`) against the server it describes: every
//! operation it lists is served and answers only what it says, the document is valid
//! OpenAPI 3.0 (openapi-spec-validator 0.9.0, installed by `scripts/test.sh` and given by
//! `FLANEUR_OPENAPI_SPEC_VALIDATOR`), and the page at `/api/docs/swagger` shows it.

use std::path::PathBuf;
use std::process::Command;

use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};

use crate::server::{Server, json_of, link};
use crate::{GOPRO, pictures};

/// The ids a served operation can be asked about: the server's own data.
struct Ids {
    collection: String,
    picture: String,
    account: String,
    upload_set: String,
}

/// A server holding one ready sequence of two 360° pictures, and the ids of its data.
fn server_with_a_sequence() -> (Server, Ids) {
    let server = Server::start();
    let upload_set = server.create_upload_set("described", Some(2));
    server.upload_all(&upload_set, &pictures(&GOPRO[..2]));
    let set = server.wait_ready(&upload_set);
    let collection = set["associated_collections"][0]["id"]
        .as_str()
        .expect("collection id")
        .to_owned();
    let item = server.collection_items(&collection)[0].clone();
    let ids = Ids {
        collection,
        picture: item["id"].as_str().expect("picture id").to_owned(),
        account: item["providers"][0]["id"]
            .as_str()
            .expect("account id")
            .to_owned(),
        upload_set,
    };
    (server, ids)
}

fn document(server: &Server) -> Value {
    let response = server.get_url(&server.url("/docs/specs.json"));
    assert_eq!(
        media_type(&response),
        "application/vnd.oai.openapi+json;version=3.0"
    );
    let (status, document) = json_of(response);
    assert_eq!(status, StatusCode::OK, "{document}");
    document
}

/// The media type of an answer, without parameters such as `charset`.
fn media_type(response: &reqwest::blocking::Response) -> String {
    let value = response.headers().get(CONTENT_TYPE);
    let value = value.and_then(|v| v.to_str().ok()).unwrap_or_default();
    essence(value)
}

fn essence(media_type: &str) -> String {
    // The document's own type keeps its `version` parameter: it is part of the name.
    if media_type.starts_with("application/vnd.oai.openapi") {
        return media_type.replace(' ', "");
    }
    let essence = media_type.split(';').next().unwrap_or_default();
    essence.trim().to_ascii_lowercase()
}

/// A value the server knows for a path segment, from its name, its route and its schema.
fn sample(path: &str, param: &Value, ids: &Ids) -> String {
    let name = param["name"].as_str().unwrap_or_default();
    let schema = &param["schema"];
    if let Some(first) = schema["enum"][0].as_str() {
        return first.to_owned();
    }
    match name {
        "item" => return ids.picture.clone(),
        // Any id: no annotation has it, which the routes answer as described.
        "annotation" => return ids.account.clone(),
        "tile" => return "0_0.jpg".to_owned(),
        "y_fmt" => return "0.mvt".to_owned(),
        "z" | "x" => return "0".to_owned(),
        "page" => return "terms-of-service".to_owned(),
        "lang" => return "en".to_owned(),
        _ => {}
    }
    for (prefix, id) in [
        ("/collections/", &ids.collection),
        ("/pictures/", &ids.picture),
        ("/users/", &ids.account),
        // Any id: these routes need an account, which the test does not send.
        ("/auth/tokens/", &ids.account),
        ("/reports/", &ids.account),
        ("/annotations/", &ids.account),
        ("/configuration/excluded_areas/", &ids.account),
        ("/upload_sets/", &ids.upload_set),
    ] {
        if path.starts_with(prefix) {
            return id.clone();
        }
    }
    panic!("no sample for the path parameter {name} of {path}");
}

/// Every operation of the document as (method, path, operation), deletions last so they do
/// not take away what the others read.
fn operations(document: &Value) -> Vec<(String, String, Value)> {
    let mut all = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            all.push((method.clone(), path.clone(), operation.clone()));
        }
    }
    all.sort_by_key(|(method, _, _)| method == "delete");
    all
}

#[test]
fn every_described_operation_is_served_and_answers_as_described() {
    let (server, ids) = server_with_a_sequence();
    let document = document(&server);
    let operations = operations(&document);
    assert!(operations.len() >= 30, "{} operations", operations.len());

    for (method, path, operation) in &operations {
        // The address, with the server's own ids and the required query parameters.
        let mut url = server.url(path);
        let mut query: Vec<String> = Vec::new();
        for param in operation["parameters"].as_array().expect("parameters") {
            let name = param["name"].as_str().expect("parameter name");
            match param["in"].as_str() {
                Some("path") => {
                    url = url.replace(&format!("{{{name}}}"), &sample(path, param, &ids));
                }
                Some("query") if param["required"] == json!(true) => {
                    query.push(format!("{name}=a"));
                }
                _ => {}
            }
        }
        if !query.is_empty() {
            url = format!("{url}?{}", query.join("&"));
        }
        let request = match method.as_str() {
            "get" => server.client().get(&url),
            "delete" => server.client().delete(&url),
            // An empty JSON object: enough to reach the handler, which says what it lacks.
            "post" if operation["requestBody"]["content"]["application/json"].is_object() => {
                server.client().post(&url).json(&json!({}))
            }
            "post" => server.client().post(&url),
            "patch" => server.client().patch(&url).json(&json!({})),
            "put" => server.client().put(&url).json(&json!({})),
            other => panic!("{other} {path}: a method this test does not send"),
        };
        let response = request
            .send()
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = response.status();
        let media = media_type(&response);
        let body = response.text().unwrap_or_default();
        let what = format!("{method} {url} answered {status} {media}: {body:.300}");

        // Served by its route, which reads only parameters the document names.
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{what}");
        assert!(!body.contains("No such route"), "{what}");
        assert!(
            !body.contains("OpenAPI description does not name"),
            "{what}"
        );

        // With a status and a media type the document gives for this operation.
        let answer = &operation["responses"][status.as_str()];
        assert!(answer.is_object(), "undescribed status: {what}");
        if let Some(content) = answer["content"].as_object() {
            let described: Vec<String> = content.keys().map(|m| essence(m)).collect();
            assert!(
                described.contains(&media),
                "undescribed type {described:?}: {what}"
            );
        }
    }

    // No path answers a method the document does not give it.
    for (path, methods) in document["paths"].as_object().expect("paths") {
        let url = server.url(&path.replace('{', "x").replace('}', ""));
        let Some(method) = ["put", "patch", "post"]
            .into_iter()
            .find(|m| methods.get(*m).is_none())
        else {
            continue;
        };
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let response = server.client().request(method.clone(), &url).send();
        let response = response.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {url}"
        );
    }
}

#[test]
fn the_document_is_valid_openapi_3_0() {
    let validator = std::env::var_os("FLANEUR_OPENAPI_SPEC_VALIDATOR").map(PathBuf::from);
    let validator = validator.unwrap_or_else(|| {
        panic!(
            "FLANEUR_OPENAPI_SPEC_VALIDATOR is not set: run the tests with scripts/test.sh, \
             which installs openapi-spec-validator 0.9.0 and points this variable to it"
        )
    });
    let server = Server::start();
    let document = document(&server);
    assert_eq!(document["openapi"], json!("3.0.3"));
    assert_eq!(document["servers"][0]["url"], json!(server.api));

    let dir = tempfile::tempdir().expect("temporary folder");
    let file = dir.path().join("specs.json");
    std::fs::write(&file, document.to_string()).expect("write the document");
    // The validator carries the OpenAPI schemas it checks against: it needs no network.
    let output = Command::new(&validator)
        .arg("--schema")
        .arg("3.0")
        .arg(&file)
        .output()
        .expect("run openapi-spec-validator");
    assert!(
        output.status.success(),
        "openapi-spec-validator refused the document:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_page_shows_every_operation_and_the_landing_links_to_both() {
    let server = Server::start();
    let landing = server.get_ok("");
    assert_eq!(
        link(&landing, "service-desc"),
        Some(server.url("/docs/specs.json"))
    );
    assert_eq!(
        link(&landing, "service-doc"),
        Some(server.url("/docs/swagger"))
    );

    let document = document(&server);
    let response = server.get_url(&server.url("/docs/swagger"));
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(media_type(&response), "text/html");
    let page = response.text().expect("page");
    assert!(!page.contains("<script"), "the page needs no script");
    for (_, path, operation) in operations(&document) {
        let id = operation["operationId"].as_str().expect("operationId");
        assert!(
            page.contains(&format!("id=\"{id}\"")),
            "{id} not on the page"
        );
        assert!(
            page.contains(&format!("<code>{path}</code>")),
            "{path} not on the page"
        );
    }
    for name in document["components"]["schemas"]
        .as_object()
        .expect("schemas")
        .keys()
    {
        assert!(
            page.contains(&format!("id=\"schema-{name}\"")),
            "schema {name}"
        );
    }
}
