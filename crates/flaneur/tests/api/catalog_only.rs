//! `flaneur serve --catalog-only`: every contribution route refused with one clear 403, reads,
//! accounts and administration served, and the landing page, configuration and OpenAPI
//! document offering no contribution.

use std::time::Duration;

use reqwest::Method;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::accounts::{account_with_token, bearer, client, get_as};
use crate::server::{Server, json_of, link};
use crate::{GOPRO, pictures};

/// Sends `method` to an API path as the account of `token`, with a JSON body; the answer must
/// be a 403.
fn refused_as(server: &Server, method: &Method, path: &str, token: &str, body: &Value) -> Value {
    let url = server.url(path);
    let (status, answer) = json_of(
        bearer(client().request(method.clone(), &url), token)
            .json(body)
            .send()
            .unwrap_or_else(|e| panic!("{method} {url}: {e}")),
    );
    assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {answer}");
    answer
}

fn has_rel(document: &Value, rel: &str) -> bool {
    link(document, rel).is_some()
}

/// The contribution routes, with a body each would take: all of them must be refused.
fn contributions(collection: &str, item: &str) -> Vec<(Method, String, Value)> {
    let other = "0a6fd3cf-1d3c-4b5e-9c8e-5f0e4d6b7a21";
    let in_item = format!("/collections/{collection}/items/{item}");
    let annotation =
        json!({ "shape": [0, 0, 10, 10], "semantics": [{ "key": "a", "value": "b" }] });
    vec![
        (
            Method::POST,
            "/upload_sets".to_owned(),
            json!({ "title": "new" }),
        ),
        (Method::GET, format!("/upload_sets/{other}"), json!(null)),
        (Method::DELETE, format!("/upload_sets/{other}"), json!(null)),
        (
            Method::GET,
            format!("/upload_sets/{other}/files"),
            json!(null),
        ),
        (
            Method::POST,
            format!("/upload_sets/{other}/files"),
            json!(null),
        ),
        (
            Method::POST,
            format!("/upload_sets/{other}/complete"),
            json!(null),
        ),
        (
            Method::PATCH,
            format!("/collections/{collection}"),
            json!({ "title": "x" }),
        ),
        (
            Method::DELETE,
            format!("/collections/{collection}"),
            json!(null),
        ),
        (Method::PATCH, in_item.clone(), json!({ "heading": 12 })),
        (Method::DELETE, in_item.clone(), json!(null)),
        (
            Method::POST,
            format!("{in_item}/annotations"),
            annotation.clone(),
        ),
        (
            Method::POST,
            format!("/pictures/{item}/annotations"),
            annotation,
        ),
        (
            Method::PATCH,
            format!("{in_item}/annotations/{other}"),
            json!({ "semantics": [] }),
        ),
        (
            Method::PATCH,
            format!("/annotations/{other}"),
            json!({ "semantics": [] }),
        ),
        (
            Method::DELETE,
            format!("{in_item}/annotations/{other}"),
            json!(null),
        ),
        (Method::DELETE, format!("/annotations/{other}"), json!(null)),
        (
            Method::POST,
            "/reports".to_owned(),
            json!({ "issue": "blur_missing", "picture_id": item }),
        ),
    ]
}

#[test]
fn a_catalog_only_instance_serves_what_it_holds_and_refuses_every_contribution() {
    // 1. A sequence contributed before the instance became a catalog, and an administrator.
    let dir = tempfile::tempdir().expect("data folder");
    let server = Server::start_in(dir.path());
    let collection = server.upload_sequence("before", &pictures(&GOPRO[..2]), "anyone");
    let item = server.collection_items(&collection)[0]["id"]
        .as_str()
        .expect("item id")
        .to_owned();
    let (status, _) = server.terminate(Duration::from_secs(30));
    assert!(status.success());
    let admin = account_with_token(dir.path(), "moderator", true);

    // 2. The same data, as a catalog: each contribution refused, whoever sends it.
    let server = Server::start_in_with_env(dir.path(), &[("FLANEUR_CATALOG_ONLY", "true")]);
    assert!(server.logs().contains("catalog only"), "{}", server.logs());
    for (method, path, body) in &contributions(&collection, &item) {
        for token in ["anonymous", admin.as_str()] {
            let answer = refused_as(&server, method, path, token, body);
            let message = answer["message"].as_str().unwrap_or_default();
            assert!(
                message.contains("takes no contributions"),
                "{method} {path}: {answer}"
            );
            assert_eq!(answer["status_code"], json!(403), "{answer}");
        }
    }

    // 3. What it holds is served as before, offering no change.
    let in_item = format!("/collections/{collection}/items/{item}");
    let (status, sequence) = get_as(&server, &format!("/collections/{collection}"), &admin);
    assert_eq!(status, StatusCode::OK, "{sequence}");
    assert_eq!(
        sequence["title"],
        json!("before"),
        "the refused PATCH changed nothing"
    );
    let (status, picture) = get_as(&server, &in_item, &admin);
    assert_eq!(status, StatusCode::OK, "{picture}");
    for document in [&sequence, &picture] {
        for rel in ["edit", "delete", "annotations"] {
            assert!(!has_rel(document, rel), "{rel}: {document}");
        }
    }
    assert_eq!(server.collection_items(&collection).len(), 2);
    let search = server.get_ok(&format!("/search?ids={item}"));
    assert_eq!(
        search["features"].as_array().map(Vec::len),
        Some(1),
        "{search}"
    );

    // 4. Accounts and administration stay.
    let (status, me) = get_as(&server, "/users/me", &admin);
    assert_eq!(status, StatusCode::OK, "{me}");
    let (status, reports) = get_as(&server, "/reports", &admin);
    assert_eq!(status, StatusCode::OK, "{reports}");

    // 5. Clients are told where they look: no report link for viewers, the configuration
    //    key of instances taking no writes, and no contribution route in the document.
    let landing = server.get_ok("");
    assert!(!has_rel(&landing, "report"), "{landing}");
    assert!(has_rel(&landing, "search"), "{landing}");
    let configuration = server.get_ok("/configuration");
    assert_eq!(
        configuration["is_read_only"],
        json!(true),
        "{configuration}"
    );
    let document = server.get_ok("/docs/specs.json");
    let paths = document["paths"].as_object().expect("paths");
    let names: Vec<&String> = paths.keys().collect();
    assert!(
        !names.iter().any(|p| p.starts_with("/upload_sets")),
        "{names:?}"
    );
    assert!(paths["/reports"].get("get").is_some(), "{names:?}");
    assert!(paths["/collections/{id}"].get("get").is_some(), "{names:?}");
    // Only reads are left, but for accounts, their tokens, pages, areas and reports' review.
    for (path, operations) in paths {
        let is_account = [
            "/users/me",
            "/auth/",
            "/pages/",
            "/configuration/excluded_areas",
        ]
        .iter()
        .any(|prefix| path.starts_with(prefix));
        let writes: Vec<&String> = operations
            .as_object()
            .into_iter()
            .flat_map(|o| o.keys())
            .filter(|m| m.as_str() != "get")
            .collect();
        let is_allowed = is_account || path == "/search" || path == "/reports/{id}";
        assert!(is_allowed || writes.is_empty(), "{path}: {writes:?}");
    }
}

#[test]
fn an_instance_taking_contributions_says_so_nowhere() {
    let server = Server::start();
    assert!(has_rel(&server.get_ok(""), "report"));
    assert!(
        server
            .get_ok("/configuration")
            .get("is_read_only")
            .is_none()
    );
    let document = server.get_ok("/docs/specs.json");
    assert!(document["paths"].get("/upload_sets").is_some());
}
