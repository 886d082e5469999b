//! The API's description: the OpenAPI document and the page showing it to a person.

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use serde_json::Value;

use crate::AppState;
use crate::stac::openapi;
use crate::url::BaseUrl;

/// The document, built once from the route table: it changes only with the binary and
/// whether the instance is a catalog only.
fn document(base: &BaseUrl, is_catalog_only: bool) -> Value {
    static DOCUMENTS: [OnceLock<Value>; 2] = [OnceLock::new(), OnceLock::new()];
    let document = DOCUMENTS[usize::from(is_catalog_only)]
        .get_or_init(|| super::openapi_document(is_catalog_only))
        .clone();
    openapi::with_server(document, base)
}

/// Caches may keep the description an hour, as they keep the queryables.
const CACHE: &str = crate::stac::queryables::CACHE_CONTROL;

/// `GET /api/docs/specs.json`: the OpenAPI description of the API.
pub async fn openapi(State(state): State<AppState>, base: BaseUrl) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, openapi::MEDIA_TYPE), (CACHE_CONTROL, CACHE)],
        document(&base, state.is_catalog_only).to_string(),
    )
}

/// `GET /api/docs/swagger`: the description as a web page.
pub async fn page(State(state): State<AppState>, base: BaseUrl) -> impl IntoResponse {
    let document = document(&base, state.is_catalog_only);
    let html = openapi::page::html(&document, &base.api(openapi::PATH));
    (
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CACHE_CONTROL, CACHE),
        ],
        html,
    )
}
