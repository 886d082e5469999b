//! Changing and deleting sequences and pictures: `PATCH` and `DELETE` of collections and
//! items. The body is read by [`fields`]; who may change what is the services' decision.

mod fields;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use flaneur_model::{Sequence, SequenceId, Viewer};
use flaneur_store::RankQuery;
use serde_json::Value;

use super::collections::producer_name;
use super::items::{geojson, set_tags};
use crate::params;
use crate::url::BaseUrl;
use crate::{ApiError, ApiResult, AppState, ReadAs, stac};

/// Refuses an anonymous caller before anything of the request is read: who may not change
/// anything learns nothing of the body's problems or of what exists.
fn logged(viewer: Viewer) -> Result<Viewer, ApiError> {
    if viewer.is_anonymous() {
        return Err(flaneur_service::Error::LoginRequired.into());
    }
    Ok(viewer)
}

/// `PATCH /api/collections/{id}`: title, visibility, order, relative heading and tags.
pub async fn patch_collection(
    State(state): State<AppState>,
    ReadAs(viewer): ReadAs,
    base: BaseUrl,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let viewer = logged(viewer)?;
    let id = params::sequence_id(&id)?;
    let Some(edit) = fields::sequence_edit(&headers, body)? else {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    };
    let sequence = state.services.edit_collection(viewer, id, edit).await?;
    let mut collection = collection_json(&state, &base, &sequence).await?;
    let rights = state.services.collection_rights(viewer, &sequence).await?;
    let href = base.api(&format!("/collections/{id}"));
    stac::add_rights_links(&mut collection, &href, rights.as_ref());
    Ok(Json(collection).into_response())
}

/// `DELETE /api/collections/{id}`.
pub async fn delete_collection(
    State(state): State<AppState>,
    ReadAs(viewer): ReadAs,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let viewer = logged(viewer)?;
    let id = params::sequence_id(&id)?;
    state.services.delete_collection(viewer, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PATCH /api/collections/{id}/items/{item}`: visibility, heading, capture time, place, pose
/// and tags. As for reading, the collection part is not checked.
pub async fn patch_item(
    State(state): State<AppState>,
    ReadAs(viewer): ReadAs,
    base: BaseUrl,
    Path((_, item)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let viewer = logged(viewer)?;
    let id = params::picture_id(&item)?;
    let Some(edit) = fields::picture_edit(&headers, body)? else {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    };
    let view = state.services.edit_item(viewer, id, edit).await?;
    let producer = producer_name(&state, view.picture.base.account_id).await?;
    let neighbours = (view.prev.as_ref(), view.next.as_ref());
    let mut item = stac::item(&base, &state.info, &view.picture, &producer, neighbours);
    let sequences: Vec<SequenceId> = view.picture.sequence_id.into_iter().collect();
    let tags = state.services.semantics(&sequences, &[id]).await?;
    set_tags(&mut item, &view.picture, &tags);
    // Items are changed through their sequence's path; one not in a sequence yet has none.
    if let Some(sequence) = view.picture.sequence_id {
        let rights = state.services.item_rights(viewer, &view.picture).await?;
        let href = base.api(&format!("/collections/{sequence}/items/{id}"));
        stac::add_rights_links(&mut item, &href, rights.as_ref());
    }
    Ok(geojson(item))
}

/// `DELETE /api/collections/{id}/items/{item}`.
pub async fn delete_item(
    State(state): State<AppState>,
    ReadAs(viewer): ReadAs,
    Path((_, item)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let viewer = logged(viewer)?;
    let id = params::picture_id(&item)?;
    state.services.delete_item(viewer, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A changed sequence as its single collection route shows it.
async fn collection_json(
    state: &AppState,
    base: &BaseUrl,
    sequence: &Sequence,
) -> ApiResult<Value> {
    let pictures = state
        .services
        .catalog
        .sequence_pictures(sequence.id, RankQuery::default())
        .await
        .map_err(flaneur_service::Error::from)?;
    let producer = producer_name(state, sequence.account_id).await?;
    let summaries = stac::summaries(&pictures);
    let mut collection = stac::collection(base, &state.info, sequence, &producer, Some(summaries));
    let tags = state.services.semantics(&[sequence.id], &[]).await?;
    let of_sequence = tags
        .sequences
        .get(&sequence.id)
        .map_or(&[][..], Vec::as_slice);
    stac::set_collection_semantics(&mut collection, of_sequence);
    Ok(collection)
}
