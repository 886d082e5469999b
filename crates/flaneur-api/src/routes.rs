//! The route table. Each module serves one API resource.

mod catalog;
mod collections;
mod files;
mod items;
mod listing;
mod map;
mod search;
mod upload_sets;
mod users;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};

use crate::{ApiError, AppState, web};

/// Every route of the API, and the web front-end's pages and assets.
pub fn router() -> Router<AppState> {
    let mut router = Router::new();
    for (route, file) in web::PAGES {
        router = router.route(
            route,
            get(move |state: State<AppState>, headers: HeaderMap| web::page(state, headers, file)),
        );
    }
    router
        .route("/assets/{*path}", get(web::asset))
        .route("/web/settings.json", get(web::settings))
        .route("/api", get(catalog::landing))
        .route("/api/conformance", get(catalog::conformance))
        .route("/api/configuration", get(catalog::configuration))
        .route("/api/docs/specs.json", get(catalog::openapi))
        .route("/api/queryables", get(catalog::queryables))
        .route("/static/logo.svg", get(catalog::logo))
        // Browsers ask for it on their own, whatever the pages link to; SVG is read there too.
        .route("/favicon.ico", get(catalog::logo))
        .route("/api/collections", get(collections::list))
        .route(
            "/api/collections/queryables",
            get(catalog::collections_queryables),
        )
        .route("/api/collections/{id}", get(collections::one))
        .route("/api/collections/{id}/items", get(items::list))
        .route(
            "/api/collections/{id}/geovisio_status",
            get(collections::status),
        )
        .route(
            "/api/collections/{id}/thumb.jpg",
            get(files::collection_thumb),
        )
        .route(
            "/api/collections/{id}/items/{item}",
            get(items::one_in_collection),
        )
        .route("/api/pictures/{id}", get(items::one))
        .route("/api/search", get(search::get).post(search::post))
        .route("/api/pictures/{id}/{file}", get(files::picture))
        .route("/api/pictures/{id}/tiled/{tile}", get(files::tile))
        .route("/api/map/style.json", get(map::style))
        .route("/api/map/{z}/{x}/{y_fmt}", get(map::tile))
        .route("/api/users", get(users::list))
        .route("/api/users/search", get(users::search))
        .route("/api/users/{id}", get(users::one))
        .route("/api/users/{id}/collection", get(users::collection))
        .route("/api/users/{id}/catalog", get(users::catalog))
        .route("/api/users/{id}/map/style.json", get(map::user_style))
        .route("/api/users/{id}/map/{z}/{x}/{y_fmt}", get(map::user_tile))
        .route("/api/upload_sets", post(upload_sets::create))
        .route(
            "/api/upload_sets/{id}",
            get(upload_sets::one).delete(upload_sets::delete),
        )
        .route(
            "/api/upload_sets/{id}/files",
            get(upload_sets::files)
                .post(upload_sets::add_file)
                .layer(DefaultBodyLimit::max(crate::MAX_UPLOAD_BYTES)),
        )
        .route(
            "/api/upload_sets/{id}/complete",
            post(upload_sets::complete),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "This route does not accept this HTTP method; the API description lists what it does",
    )
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "No such route; the API's entry point is /api, which links to everything else",
    )
}
