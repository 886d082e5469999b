//! The route table. Each module serves one API resource.

mod catalog;
mod collections;
mod files;
mod items;
mod search;
mod upload_sets;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};

use crate::{ApiError, AppState};

/// Every route of the API.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api", get(catalog::landing))
        .route("/api/conformance", get(catalog::conformance))
        .route("/api/configuration", get(catalog::configuration))
        .route("/static/logo.svg", get(catalog::logo))
        .route("/api/collections", get(collections::list))
        .route("/api/collections/{id}", get(collections::one))
        .route("/api/collections/{id}/items", get(items::list))
        .route(
            "/api/collections/{id}/items/{item}",
            get(items::one_in_collection),
        )
        .route("/api/pictures/{id}", get(items::one))
        .route("/api/search", get(search::get).post(search::post))
        .route("/api/pictures/{id}/{file}", get(files::picture))
        .route("/api/pictures/{id}/tiled/{tile}", get(files::tile))
        .route("/api/upload_sets", post(upload_sets::create))
        .route(
            "/api/upload_sets/{id}",
            get(upload_sets::one).delete(upload_sets::delete),
        )
        .route(
            "/api/upload_sets/{id}/files",
            get(upload_sets::files).post(upload_sets::add_file),
        )
        .route(
            "/api/upload_sets/{id}/complete",
            post(upload_sets::complete),
        )
        .fallback(not_found)
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "No such route; the API's entry point is /api, which links to everything else",
    )
}
