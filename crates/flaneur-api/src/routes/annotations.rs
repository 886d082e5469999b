//! Annotations: semantic tags on a part of a picture, made on an item, then read, retagged and
//! deleted by their own id, under their item's path or alone. There is no list route: items
//! carry their annotations in `properties.annotations`. Who may do what is the services'
//! decision; an anonymous caller of a change is refused by [`LoggedIn`] before anything of
//! the request is read.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::on;
use flaneur_model::{AnnotationId, PictureId, SequenceId, Shape, TagChange, Viewer};
use flaneur_service::annotation::{AnnotationInput, AnnotationPath};
use serde_json::{Map, Value, json};

use super::{Route, logged};
use crate::auth::LoggedIn;
use crate::params;
use crate::stac::openapi::schemas::uuid;
use crate::stac::openapi::{JSON, Operation};
use crate::url::BaseUrl;
use crate::{ApiError, ApiResult, AppState, ReadAs, stac};

const ANNOTATIONS: &str = "Annotations";

fn annotation_id(text: &str) -> Result<AnnotationId, ApiError> {
    params::path_id(text, "Annotation doesn't exist")
}

/// The JSON object of a body, with only the fields of `known`.
fn fields(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    known: &[&str],
) -> Result<Map<String, Value>, ApiError> {
    let body = params::json_body(
        headers,
        body,
        "Send the annotation as a JSON object (Content-Type: application/json)",
    )?;
    let fields = match serde_json::from_slice(&body) {
        Ok(Value::Object(fields)) => fields,
        Ok(_) => return Err(ApiError::bad_request("The body should be a JSON object")),
        Err(e) => {
            return Err(ApiError::bad_request(format!(
                "The body is not valid JSON: {e}"
            )));
        }
    };
    if let Some(other) = fields.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(ApiError::bad_request(format!(
            "{other} cannot be given here: this route reads {}",
            known.join(", ")
        )));
    }
    Ok(fields)
}

/// The tag changes of a body; none when absent.
fn semantics(fields: &Map<String, Value>) -> Result<Vec<TagChange>, ApiError> {
    match fields.get("semantics") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(value) => TagChange::list_from_json(value).map_err(ApiError::bad_request),
    }
}

/// What `POST …/annotations` sends: `shape`, `semantics` and an optional `id`.
fn input(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<AnnotationInput, ApiError> {
    let fields = fields(headers, body, &["id", "semantics", "shape"])?;
    let shape = fields
        .get("shape")
        .ok_or_else(|| {
            ApiError::bad_request(
                "shape is missing: a box [min x, min y, max x, max y] or a Polygon, in pixels",
            )
        })
        .and_then(|s| Shape::from_json(s).map_err(ApiError::bad_request))?;
    let id = match fields.get("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(
            text.parse()
                .map_err(|e| ApiError::bad_request(format!("id should be a UUID: {e}")))?,
        ),
        Some(_) => return Err(ApiError::bad_request("id should be a UUID string")),
    };
    Ok(AnnotationInput {
        shape,
        semantics: semantics(&fields)?,
        id,
    })
}

/// An annotation answered, or 204 when it was left without tags and deleted.
fn answer(annotation: Option<flaneur_model::Annotation>, location: Option<String>) -> Response {
    let Some(annotation) = annotation else {
        return StatusCode::NO_CONTENT.into_response();
    };
    let body = Json(stac::annotation(&annotation));
    match location {
        Some(href) => ([(LOCATION, href)], body).into_response(),
        None => body.into_response(),
    }
}

/// `POST /api/collections/{id}/items/{item}/annotations`.
pub async fn create_in_collection(
    State(state): State<AppState>,
    LoggedIn(account): LoggedIn,
    base: BaseUrl,
    Path((collection, item)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let viewer = account.viewer();
    let collection = params::sequence_id(&collection)?;
    let item = params::picture_id(&item)?;
    let input = input(&headers, body)?;
    let annotation = (state.services)
        .annotate(viewer, item, Some(collection), input)
        .await?;
    let location = annotation.as_ref().map(|a| {
        base.api(&format!(
            "/collections/{collection}/items/{item}/annotations/{}",
            a.id
        ))
    });
    Ok(answer(annotation, location))
}

/// `POST /api/pictures/{id}/annotations`.
pub async fn create(
    State(state): State<AppState>,
    LoggedIn(account): LoggedIn,
    base: BaseUrl,
    Path(item): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let viewer = account.viewer();
    let item: PictureId = params::picture_id(&item)?;
    let input = input(&headers, body)?;
    let annotation = state.services.annotate(viewer, item, None, input).await?;
    let location = (annotation.as_ref()).map(|a| base.api(&format!("/annotations/{}", a.id)));
    Ok(answer(annotation, location))
}

/// The path of an annotation under its item.
fn under_item(
    collection: &str,
    item: &str,
    id: &str,
) -> Result<(AnnotationId, AnnotationPath), ApiError> {
    let not_found = "Annotation doesn't exist";
    let collection: SequenceId = params::path_id(collection, not_found)?;
    let item: PictureId = params::path_id(item, not_found)?;
    let path = AnnotationPath {
        collection: Some(collection),
        item: Some(item),
    };
    Ok((annotation_id(id)?, path))
}

/// `GET /api/collections/{id}/items/{item}/annotations/{annotation}`.
pub async fn one_in_collection(
    State(state): State<AppState>,
    ReadAs(viewer): ReadAs,
    Path((collection, item, id)): Path<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let (id, path) = under_item(&collection, &item, &id)?;
    let annotation = state.services.annotation(viewer, id, path).await?;
    Ok(Json(stac::annotation(&annotation)))
}

/// `GET /api/annotations/{id}`.
pub async fn one(
    State(state): State<AppState>,
    ReadAs(viewer): ReadAs,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = annotation_id(&id)?;
    let annotation = (state.services)
        .annotation(viewer, id, AnnotationPath::default())
        .await?;
    Ok(Json(stac::annotation(&annotation)))
}

async fn patch_at(
    state: &AppState,
    viewer: Viewer,
    id: AnnotationId,
    path: AnnotationPath,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let fields = fields(headers, body, &["semantics"])?;
    let changes = semantics(&fields)?;
    let annotation = (state.services)
        .edit_annotation(viewer, id, path, &changes)
        .await?;
    Ok(answer(annotation, None))
}

/// `PATCH /api/collections/{id}/items/{item}/annotations/{annotation}`.
pub async fn patch_in_collection(
    State(state): State<AppState>,
    LoggedIn(account): LoggedIn,
    Path((collection, item, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let viewer = account.viewer();
    let (id, path) = under_item(&collection, &item, &id)?;
    patch_at(&state, viewer, id, path, &headers, body).await
}

/// `PATCH /api/annotations/{id}`.
pub async fn patch(
    State(state): State<AppState>,
    LoggedIn(account): LoggedIn,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let viewer = account.viewer();
    let id = annotation_id(&id)?;
    patch_at(
        &state,
        viewer,
        id,
        AnnotationPath::default(),
        &headers,
        body,
    )
    .await
}

/// `DELETE /api/collections/{id}/items/{item}/annotations/{annotation}`.
pub async fn delete_in_collection(
    State(state): State<AppState>,
    LoggedIn(account): LoggedIn,
    Path((collection, item, id)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let viewer = account.viewer();
    let (id, path) = under_item(&collection, &item, &id)?;
    state.services.delete_annotation(viewer, id, path).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/annotations/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    LoggedIn(account): LoggedIn,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let viewer = account.viewer();
    let id = annotation_id(&id)?;
    (state.services)
        .delete_annotation(viewer, id, AnnotationPath::default())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The JSON schema of an annotation as answered.
fn annotation_schema() -> Value {
    json!({
        "type": "object",
        "required": ["id", "picture_id", "shape", "semantics"],
        "properties": {
            "id": uuid(),
            "picture_id": uuid(),
            "shape": {
                "type": "object",
                "description": "A polygon in the picture's pixels, from its top left corner",
                "properties": {
                    "type": { "type": "string", "enum": ["Polygon"] },
                    "coordinates": { "type": "array", "items": { "type": "array",
                        "items": { "type": "array", "items": { "type": "integer" },
                                   "minItems": 2, "maxItems": 2 } } },
                },
            },
            "semantics": { "type": "array", "items": { "type": "object", "properties": {
                "key": { "type": "string" }, "value": { "type": "string" } } } },
        },
    })
}

fn changes_schema() -> Value {
    json!({
        "type": "array",
        "description": "Tags to add or delete, in order; adding the same tag twice is refused",
        "items": { "type": "object", "required": ["key", "value"], "properties": {
            "key": { "type": "string", "maxLength": flaneur_model::MAX_KEY_CHARS },
            "value": { "type": "string", "maxLength": flaneur_model::MAX_VALUE_CHARS },
            "action": { "type": "string", "enum": ["add", "delete"], "default": "add" },
        } },
    })
}

/// The routes of annotations.
pub fn routes() -> Vec<Route> {
    use axum::http::Method as M;
    let post_body = json!({
        "type": "object",
        "required": ["shape", "semantics"],
        "properties": {
            "shape": { "oneOf": [
                { "type": "array", "items": { "type": "integer" }, "minItems": 4, "maxItems": 4,
                  "description": "[min x, min y, max x, max y] in pixels" },
                { "type": "object", "description": "A GeoJSON-like Polygon in pixels" },
            ] },
            "semantics": changes_schema(),
            "id": uuid(),
        },
    });
    let patch_body = json!({
        "type": "object",
        "properties": { "semantics": changes_schema() },
    });
    let create = |summary: &'static str| {
        logged(
            Operation::new(ANNOTATIONS, summary)
                .describe(
                    "Tags a part of a picture: `shape` is a box `[min x, min y, max x, max y]` \
                     or a Polygon, in pixels from the top left corner, within the picture; \
                     `semantics` the tags to add (or delete). An annotation of the same shape \
                     on the picture takes the changes instead of a new one. Any logged-in \
                     account that sees the picture may annotate it.",
                )
                .body(&[(JSON, post_body.clone())])
                .answer(200, "The annotation", JSON, annotation_schema())
                .answer_header(200, "Location", "Where the annotation is read")
                .answer_empty(
                    204,
                    "The changes left an annotation of this shape without tags: it was deleted",
                )
                .errors(&[400, 404, 415]),
        )
    };
    let read = |summary: &'static str| {
        Operation::new(ANNOTATIONS, summary)
            .describe("Anyone who sees its picture may read it.")
            .answer(200, "The annotation", JSON, annotation_schema())
            .errors(&[404])
    };
    let change = |summary: &'static str| {
        logged(
            Operation::new(ANNOTATIONS, summary)
                .describe(
                    "Changes its tags (its shape stays); when none is left, the annotation is \
                     deleted and the answer is 204.",
                )
                .body(&[(JSON, patch_body.clone())])
                .answer(200, "The annotation as changed", JSON, annotation_schema())
                .answer_empty(204, "The annotation has no tags left: it was deleted")
                .errors(&[400, 404, 415]),
        )
    };
    let remove = |summary: &'static str| {
        logged(
            Operation::new(ANNOTATIONS, summary)
                .answer_empty(204, "Deleted")
                .errors(&[404]),
        )
    };
    let in_collection = |o: Operation| {
        o.path("id", "The collection of the picture", uuid()).path(
            "item",
            "The annotated picture",
            uuid(),
        )
    };
    let under_item = |o: Operation| in_collection(o).path("annotation", "The annotation", uuid());
    let alone = |o: Operation| o.path("id", "The annotation", uuid());
    vec![
        Route::contribution(
            M::POST,
            "/api/collections/{id}/items/{item}/annotations",
            |m| on(m, create_in_collection),
            in_collection(create("Annotate a picture")),
        ),
        Route::contribution(
            M::POST,
            "/api/pictures/{id}/annotations",
            |m| on(m, self::create),
            create("Annotate a picture, found by its id alone").path(
                "id",
                "The annotated picture",
                uuid(),
            ),
        ),
        Route::new(
            M::GET,
            "/api/collections/{id}/items/{item}/annotations/{annotation}",
            |m| on(m, one_in_collection),
            under_item(read("One annotation of a picture")),
        ),
        Route::new(
            M::GET,
            "/api/annotations/{id}",
            |m| on(m, one),
            alone(read("One annotation, found by its id alone")),
        ),
        Route::contribution(
            M::PATCH,
            "/api/collections/{id}/items/{item}/annotations/{annotation}",
            |m| on(m, patch_in_collection),
            under_item(change("Change the tags of an annotation")),
        ),
        Route::contribution(
            M::PATCH,
            "/api/annotations/{id}",
            |m| on(m, self::patch),
            alone(change(
                "Change the tags of an annotation, found by its id alone",
            )),
        ),
        Route::contribution(
            M::DELETE,
            "/api/collections/{id}/items/{item}/annotations/{annotation}",
            |m| on(m, delete_in_collection),
            under_item(remove("Delete an annotation")),
        ),
        Route::contribution(
            M::DELETE,
            "/api/annotations/{id}",
            |m| on(m, self::delete),
            alone(remove("Delete an annotation, found by its id alone")),
        ),
    ]
}
