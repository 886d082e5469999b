//! Excluded areas: the general ones (listed to anyone when public, changed by
//! administrators) and each account's own, as GeoJSON features.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::on;
use flaneur_model::ExcludedAreaId;
use flaneur_store::{ExcludedArea, polygons_to_geojson};
use serde_json::{Value, json};

use super::{Route, USERS, logged};
use crate::auth::LoggedIn;
use crate::params::{self, Params};
use crate::stac::openapi::schemas::uuid;
use crate::stac::openapi::{JSON, Operation};
use crate::viewer::ReadAs;
use crate::{ApiError, ApiResult, AppState};

const AREAS: &str = "Excluded areas";
const GEOJSON: &str = "application/geo+json";

/// One area as a GeoJSON Feature.
fn feature(area: &ExcludedArea) -> Value {
    let a = &area.area;
    let mut properties = json!({
        "id": area.id,
        "label": a.label,
        "is_public": a.is_public,
        "account_id": a.account_id,
    });
    if a.is_allowed {
        properties["is_allowed"] = json!(true);
    }
    json!({
        "type": "Feature",
        "id": area.id,
        "geometry": polygons_to_geojson(&a.polygons),
        "properties": properties,
    })
}

fn geojson(body: Value) -> Response {
    ([(CONTENT_TYPE, GEOJSON)], Json(body)).into_response()
}

fn collection(areas: &[ExcludedArea]) -> Response {
    let features: Vec<Value> = areas.iter().map(feature).collect();
    geojson(json!({ "type": "FeatureCollection", "features": features }))
}

/// A JSON body, GeoJSON or plain JSON.
fn body_json(headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> ApiResult<Value> {
    let body = params::read_body(body)?;
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with(GEOJSON));
    if !is_json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Excluded areas should be sent as GeoJSON (application/geo+json or application/json)",
        ));
    }
    if crate::nul::json_holds_nul(&body) {
        return Err(crate::nul::refused("the JSON body"));
    }
    serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("Invalid excluded area: not JSON: {e}")))
}

fn flag(params: &Params, name: &str) -> ApiResult<bool> {
    match params.get(name).map(|v| v.trim()) {
        None | Some("" | "false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "Parameter {name} '{other}' is not a boolean: use true or false"
        ))),
    }
}

fn area_id(text: &str) -> ApiResult<ExcludedAreaId> {
    params::path_id(text, "Excluded area doesn't exist")
}

/// `GET /api/configuration/excluded_areas?all=`.
pub async fn list_general(
    State(state): State<AppState>,
    ReadAs(viewer): ReadAs,
    Query(params): Query<Params>,
) -> ApiResult<Response> {
    let all = flag(&params, "all")?;
    let areas = state.services.general_areas(viewer, all).await?;
    Ok(collection(&areas))
}

/// `POST /api/configuration/excluded_areas`: a Feature.
pub async fn add_general(
    State(state): State<AppState>,
    LoggedIn(account): LoggedIn,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let viewer = account.viewer();
    if !viewer.is_admin() {
        // Refused before the body is read, so that a bad body does not hide the refusal.
        state.services.general_areas(viewer, true).await?;
    }
    let area = flaneur_service::excluded::area_from_feature(&body_json(&headers, body)?)?;
    let stored = state.services.add_general_area(viewer, area).await?;
    Ok(geojson(feature(&stored)))
}

/// `PUT /api/configuration/excluded_areas?invert=`: a FeatureCollection.
pub async fn replace_general(
    State(state): State<AppState>,
    LoggedIn(account): LoggedIn,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let viewer = account.viewer();
    let invert = flag(&params, "invert")?;
    if !viewer.is_admin() {
        state.services.general_areas(viewer, true).await?;
    }
    let areas = flaneur_service::excluded::areas_from_collection(&body_json(&headers, body)?)?;
    let stored = state
        .services
        .replace_general_areas(viewer, areas, invert)
        .await?;
    Ok(collection(&stored))
}

/// `DELETE /api/configuration/excluded_areas/{id}`.
pub async fn delete_general(
    State(state): State<AppState>,
    LoggedIn(account): LoggedIn,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let viewer = account.viewer();
    let id = area_id(&id)?;
    if !state.services.delete_general_area(viewer, id).await? {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "Excluded area doesn't exist",
        ));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/users/me/excluded_areas`.
pub async fn list_own(
    State(state): State<AppState>,
    LoggedIn(account): LoggedIn,
) -> ApiResult<Response> {
    let areas = state.services.own_areas(account.id).await?;
    Ok(collection(&areas))
}

/// `POST /api/users/me/excluded_areas`: a Feature.
pub async fn add_own(
    State(state): State<AppState>,
    LoggedIn(account): LoggedIn,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let area = flaneur_service::excluded::area_from_feature(&body_json(&headers, body)?)?;
    let stored = state.services.add_own_area(account.id, area).await?;
    Ok(geojson(feature(&stored)))
}

/// `DELETE /api/users/me/excluded_areas/{id}`: one of the caller's own.
pub async fn delete_own(
    State(state): State<AppState>,
    LoggedIn(account): LoggedIn,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = area_id(&id)?;
    if !state.services.delete_own_area(account.id, id).await? {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "Excluded area doesn't exist",
        ));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A Feature with a Polygon or MultiPolygon geometry and the properties of an area.
fn feature_body() -> Value {
    json!({
        "type": "object",
        "required": ["type", "geometry"],
        "properties": {
            "type": { "type": "string", "enum": ["Feature"] },
            "geometry": {
                "type": "object",
                "description": "A Polygon or MultiPolygon, in WGS84 degrees",
            },
            "properties": {
                "type": "object",
                "properties": {
                    "label": { "type": "string", "nullable": true },
                    "is_public": { "type": "boolean", "default": false }
                }
            }
        }
    })
}

fn collection_body() -> Value {
    json!({
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": { "type": "string", "enum": ["FeatureCollection"] },
            "features": { "type": "array", "items": feature_body() }
        }
    })
}

/// The routes of excluded areas.
pub fn routes() -> Vec<Route> {
    use axum::http::Method as M;
    let area = || json!({ "type": "object" });
    vec![
        Route::new(
            M::GET,
            "/api/configuration/excluded_areas",
            |m| on(m, list_general),
            Operation::new(AREAS, "List the general excluded areas")
                .describe(
                    "Areas where pictures of every account are refused, as a GeoJSON \
                     FeatureCollection of MultiPolygons. The public ones only, unless an \
                     administrator asks for all of them. Allowed areas (set with \
                     `invert=true`) carry `is_allowed: true`.",
                )
                .query(
                    "all",
                    "Include the areas that are not public (administrators only)",
                    json!({ "type": "boolean" }),
                )
                .answer(200, "The areas", GEOJSON, area())
                .errors(&[400, 401, 403]),
        ),
        Route::new(
            M::POST,
            "/api/configuration/excluded_areas",
            |m| on(m, add_general),
            logged(
                Operation::new(AREAS, "Add a general excluded area")
                    .describe("Administrators only.")
                    .body(&[(GEOJSON, feature_body()), (JSON, feature_body())])
                    .answer(200, "The area added", GEOJSON, area())
                    .errors(&[400, 415]),
            ),
        ),
        Route::new(
            M::PUT,
            "/api/configuration/excluded_areas",
            |m| on(m, replace_general),
            logged(
                Operation::new(AREAS, "Replace every general excluded area")
                    .describe(
                        "Administrators only. With `invert=true`, the areas sent are the \
                         allowed ones: pictures outside all of them are refused, and the \
                         areas are public. Accounts' own areas are kept.",
                    )
                    .query(
                        "invert",
                        "The areas sent are where pictures are allowed",
                        json!({ "type": "boolean" }),
                    )
                    .body(&[(GEOJSON, collection_body()), (JSON, collection_body())])
                    .answer(200, "The areas now in force", GEOJSON, area())
                    .errors(&[400, 415]),
            ),
        ),
        Route::new(
            M::DELETE,
            "/api/configuration/excluded_areas/{id}",
            |m| on(m, delete_general),
            logged(
                Operation::new(AREAS, "Delete a general excluded area")
                    .describe("Administrators only.")
                    .path("id", "The area", uuid())
                    .answer_empty(204, "Deleted")
                    .errors(&[404]),
            ),
        ),
        Route::new(
            M::GET,
            "/api/users/me/excluded_areas",
            |m| on(m, list_own),
            logged(
                Operation::new(USERS, "The caller's own excluded areas")
                    .describe(
                        "Areas where the caller's pictures are refused. For the general ones, \
                         see `/api/configuration/excluded_areas`.",
                    )
                    .answer(200, "The areas", GEOJSON, area()),
            ),
        ),
        Route::new(
            M::POST,
            "/api/users/me/excluded_areas",
            |m| on(m, add_own),
            logged(
                Operation::new(USERS, "Add an excluded area of the caller's own")
                    .describe("It refuses the caller's pictures only.")
                    .body(&[(GEOJSON, feature_body()), (JSON, feature_body())])
                    .answer(200, "The area added", GEOJSON, area())
                    .errors(&[400, 415]),
            ),
        ),
        Route::new(
            M::DELETE,
            "/api/users/me/excluded_areas/{id}",
            |m| on(m, delete_own),
            logged(
                Operation::new(USERS, "Delete one of the caller's excluded areas")
                    .path("id", "The area", uuid())
                    .answer_empty(204, "Deleted")
                    .errors(&[404]),
            ),
        ),
    ]
}
