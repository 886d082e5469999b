//! Changing and deleting sequences and pictures: `PATCH` and `DELETE` of collections and
//! items. The body is read by [`fields`]; who may change what is the services' decision. An
//! anonymous caller is refused by [`LoggedIn`] before anything of the request is read: who
//! may not change anything learns nothing of the body's problems or of what exists.

mod fields;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::collections::collection_document;
use super::items::{geojson, item_document};
use crate::auth::LoggedIn;
use crate::params;
use crate::url::BaseUrl;
use crate::{ApiResult, AppState};

/// `PATCH /api/collections/{id}`: title, visibility, order, relative heading and tags.
pub async fn patch_collection(
    State(state): State<AppState>,
    LoggedIn(account): LoggedIn,
    base: BaseUrl,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let viewer = account.viewer();
    let id = params::sequence_id(&id)?;
    let Some(edit) = fields::sequence_edit(&headers, body)? else {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    };
    let sequence = state.services.edit_collection(viewer, id, edit).await?;
    let collection = collection_document(&state, &base, viewer, &sequence).await?;
    Ok(Json(collection).into_response())
}

/// `DELETE /api/collections/{id}`.
pub async fn delete_collection(
    State(state): State<AppState>,
    LoggedIn(account): LoggedIn,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let viewer = account.viewer();
    let id = params::sequence_id(&id)?;
    state.services.delete_collection(viewer, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PATCH /api/collections/{id}/items/{item}`: visibility, heading, capture time, place, pose
/// and tags. As for reading, a picture of another collection than the path's is unknown.
pub async fn patch_item(
    State(state): State<AppState>,
    LoggedIn(account): LoggedIn,
    base: BaseUrl,
    Path((collection, item)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let viewer = account.viewer();
    let (collection, id) = params::item_path(&collection, &item)?;
    let Some(edit) = fields::picture_edit(&headers, body)? else {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    };
    let view = (state.services)
        .edit_item(viewer, Some(collection), id, edit)
        .await?;
    Ok(geojson(item_document(&state, &base, viewer, &view).await?))
}

/// `DELETE /api/collections/{id}/items/{item}`.
pub async fn delete_item(
    State(state): State<AppState>,
    LoggedIn(account): LoggedIn,
    Path((collection, item)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let viewer = account.viewer();
    let (collection, id) = params::item_path(&collection, &item)?;
    (state.services)
        .delete_item(viewer, Some(collection), id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
