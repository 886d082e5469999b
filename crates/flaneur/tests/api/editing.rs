//! Changing and deleting collections and items over HTTP: who may, what a change answers and
//! moves, and that a refused request changes nothing.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::server::{Server, json_of};
use crate::{SONY, pictures};

/// `PATCH` of an API path with a JSON body, with a bearer token when given.
fn patch(server: &Server, path: &str, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
    let mut request = server.client().patch(server.url(path)).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    json_of(request.send().expect("PATCH"))
}

/// `DELETE` of an API path, with a bearer token when given.
fn delete(server: &Server, path: &str, token: Option<&str>) -> (StatusCode, Value) {
    let mut request = server.client().delete(server.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    json_of(request.send().expect("DELETE"))
}

#[test]
fn anonymous_callers_change_nothing() {
    let server = Server::start();
    let sequence = server.upload_sequence("walk", &pictures(&SONY[..2]), "anyone");
    let before = server.get_ok(&format!("/collections/{sequence}"));
    let item = server.collection_items(&sequence)[0]["id"]
        .as_str()
        .expect("item id")
        .to_owned();

    let refusals = [
        patch(
            &server,
            &format!("/collections/{sequence}"),
            None,
            &json!({"title": "x"}),
        ),
        patch(
            &server,
            &format!("/collections/{sequence}/items/{item}"),
            None,
            &json!({"heading": 3}),
        ),
        delete(
            &server,
            &format!("/collections/{sequence}/items/{item}"),
            None,
        ),
        delete(&server, &format!("/collections/{sequence}"), None),
        // Whatever the body or the id: nothing is read before the caller is known.
        patch(
            &server,
            "/collections/not-a-uuid",
            None,
            &json!({"titel": 3}),
        ),
    ];
    for (status, body) in refusals {
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["status_code"], 401, "{body}");
    }
    assert_eq!(server.get_ok(&format!("/collections/{sequence}")), before);
    assert_eq!(server.collection_items(&sequence).len(), 2);
}
