//! The instance catalog: landing page, conformance and configuration.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::url::BaseUrl;
use crate::{ApiResult, AppState, stac};

/// `GET /api`: the STAC landing page, with every link the Panoramax viewer needs.
pub async fn landing(State(state): State<AppState>, base: BaseUrl) -> ApiResult<Json<Value>> {
    let extent = state.services.extent().await?;
    Ok(Json(stac::landing(
        &base,
        &state.info,
        &extent,
        state.is_catalog_only,
    )))
}

/// `GET /api/conformance`.
pub async fn conformance() -> Json<Value> {
    Json(json!({ "conformsTo": stac::CONFORMANCE }))
}

/// `GET /api/configuration`: instance description and upload defaults.
pub async fn configuration(State(state): State<AppState>, base: BaseUrl) -> ApiResult<Json<Value>> {
    let pages = state.services.page_names().await?;
    Ok(Json(stac::configuration(
        &base,
        &state.info,
        &state.services.dispatch_defaults,
        &state.services.editing,
        &state.auth,
        &pages,
        state.is_catalog_only,
    )))
}

/// `GET /api/queryables`: what item search can filter on.
pub async fn queryables(base: BaseUrl, headers: HeaderMap) -> impl IntoResponse {
    schema(stac::queryables::items(&base), &headers)
}

/// `GET /api/collections/queryables`: what the collection list can filter on.
pub async fn collections_queryables(base: BaseUrl, headers: HeaderMap) -> impl IntoResponse {
    schema(stac::queryables::collections(&base), &headers)
}

/// A schema as JSON Schema's own media type when the client asks for it (as OGC API clients
/// do), else as plain JSON like Panoramax instances answer; the body is the same.
fn schema(body: Value, headers: &HeaderMap) -> Response {
    let asks_schema = headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains(stac::queryables::MEDIA_TYPE));
    let media_type = if asks_schema {
        stac::queryables::MEDIA_TYPE
    } else {
        "application/json"
    };
    (
        [
            (CONTENT_TYPE, media_type),
            (CACHE_CONTROL, stac::queryables::CACHE_CONTROL),
        ],
        body.to_string(),
    )
        .into_response()
}

/// The built-in logo: a picture frame on a street, in the instance colour.
const LOGO_SVG: &str = concat!(
    r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">"##,
    r##"<rect x="4" y="10" width="56" height="44" rx="6" fill="#3d5a80"/>"##,
    r##"<path d="M8 50 L28 26 L36 36 L44 28 L56 50 Z" fill="#e0fbfc"/>"##,
    r##"<circle cx="46" cy="20" r="5" fill="#ee6c4d"/></svg>"##
);

/// `GET /static/logo.svg`.
pub async fn logo() -> impl IntoResponse {
    (
        [
            (axum::http::header::CONTENT_TYPE, "image/svg+xml"),
            (CACHE_CONTROL, "public, max-age=86400"),
        ],
        LOGO_SVG,
    )
}
