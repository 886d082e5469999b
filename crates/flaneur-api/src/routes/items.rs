//! Pictures as STAC items: a sequence's items in rank order, and single items.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use flaneur_model::{Picture, PictureId, SequenceId, Viewer};
use flaneur_service::read::{ItemView, Tags};
use serde_json::{Value, json};

use super::collections::{ProducerNames, producer_name};
use super::federation::PeerUrls;
use super::page_body::PageBody;
use crate::params::{self, Params};
use crate::url::BaseUrl;
use crate::{ApiError, ApiResult, AppState, ReadAs, stac};

pub(super) const MAX_LIMIT: usize = 10_000;

/// The media type of GeoJSON answers.
const GEOJSON: &str = "application/geo+json";

/// A GeoJSON answer with its media type.
pub fn geojson(body: Value) -> Response {
    ([(CONTENT_TYPE, GEOJSON)], Json(body)).into_response()
}

/// Writes the item JSON of `pictures` (no neighbour links, as in lists on Panoramax
/// instances) into `body`, in order, until it is full; returns how many it took.
pub(super) async fn write_features(
    state: &AppState,
    base: &BaseUrl,
    pictures: &[Picture],
    body: &mut PageBody,
) -> ApiResult<usize> {
    let sequences: Vec<SequenceId> = pictures.iter().filter_map(|p| p.sequence_id).collect();
    let ids: Vec<PictureId> = pictures.iter().map(|p| p.base.id).collect();
    let tags = state.services.semantics(&sequences, &ids).await?;

    let mut names = ProducerNames::default();
    let peers = PeerUrls::read(state, pictures.iter().any(|p| p.origin.is_some())).await?;
    for p in pictures {
        let item = if let Some(origin) = &p.origin {
            let url = peers.of(origin.peer_id);
            stac::remote::item(base, p, origin, url, (None, None))
        } else {
            let name = names.get(state, p.base.account_id).await?;
            let mut item = stac::item(base, &state.info, p, &name, (None, None));
            set_tags(&mut item, p, &tags);
            item
        };
        if !body.push(&item) {
            break;
        }
    }
    Ok(body.len())
}

/// A page of items as a GeoJSON answer, with its links.
pub(super) fn feature_collection(body: PageBody, links: Vec<Value>) -> Response {
    body.into_response(
        GEOJSON,
        "features",
        &[
            ("links", Value::Array(links)),
            ("type", json!("FeatureCollection")),
        ],
    )
}

/// Puts the tags of the picture and of its sequence into its item JSON.
fn set_tags(item: &mut Value, picture: &Picture, tags: &Tags) {
    let of_picture = tags.pictures.get(&picture.base.id);
    let of_sequence = picture.sequence_id.and_then(|s| tags.sequences.get(&s));
    stac::set_item_semantics(
        item,
        of_picture.map_or(&[], Vec::as_slice),
        of_sequence.map_or(&[], Vec::as_slice),
    );
    let annotations = tags.annotations.get(&picture.base.id);
    stac::set_item_annotations(item, annotations.map_or(&[], Vec::as_slice));
}

/// `GET /api/collections/{id}/items`: the whole sequence, or a page of it with `limit` and
/// `startAfterRank`; only the pictures the caller may see.
pub async fn list(
    State(state): State<AppState>,
    ReadAs(viewer): ReadAs,
    base: BaseUrl,
    Path(id): Path<String>,
    Query(params): Query<Params>,
) -> ApiResult<Response> {
    let id = params::sequence_id(&id)?;
    let limit = params::limit(&params, MAX_LIMIT)?;
    let after = match params.get("startAfterRank").filter(|v| !v.is_empty()) {
        Some(v) => match v.parse::<i64>() {
            Ok(r) if r >= 1 => Some(r),
            _ => {
                return Err(ApiError::bad_request(
                    "startAfterRank parameter should be a positive integer",
                ));
            }
        },
        None => None,
    };

    let mut pictures = state
        .services
        .collection_items(id, viewer, after, limit)
        .await?;
    let mut body = PageBody::new(state.max_page_bytes);
    let written = write_features(&state, &base, &pictures, &mut body).await?;
    // A page too large for one answer ends at its last item written, and its links lead on
    // from there, by rank as every page.
    let is_cut = written < pictures.len();
    pictures.truncate(written);

    let coll = base.api(&format!("/collections/{id}"));
    let items = format!("{coll}/items");
    let mut links = vec![
        stac::root_link(&base),
        stac::link("parent", Some("application/json"), coll, None),
    ];
    let self_href = match (limit, after) {
        (Some(l), Some(a)) => format!("{items}?limit={l}&startAfterRank={a}"),
        (Some(l), None) => format!("{items}?limit={l}"),
        (None, Some(a)) => format!("{items}?startAfterRank={a}"),
        (None, None) => items.clone(),
    };
    links.push(stac::link(
        "self",
        Some("application/geo+json"),
        self_href,
        None,
    ));

    // Paging links only when the caller pages, as on Panoramax instances, or when the answer
    // could not hold the whole sequence asked for.
    if let (None, true, Some(last)) = (limit, is_cut, pictures.last().and_then(|p| p.rank)) {
        links.push(stac::link(
            "next",
            Some(GEOJSON),
            format!("{items}?startAfterRank={last}"),
            None,
        ));
    }
    if let (Some(l), Some((min_rank, max_rank))) = (
        limit,
        state.services.collection_rank_bounds(id, viewer).await?,
    ) {
        let l64 = i64::try_from(l).unwrap_or(i64::MAX);
        let first_rank = pictures.first().and_then(|p| p.rank);
        let last_rank = pictures.last().and_then(|p| p.rank);
        let page = |after: Option<i64>| match after {
            Some(a) => format!("{items}?limit={l}&startAfterRank={a}"),
            None => format!("{items}?limit={l}"),
        };
        if first_rank.is_some_and(|r| r > min_rank) {
            links.push(stac::link(
                "first",
                Some("application/geo+json"),
                page(None),
                None,
            ));
            let prev_after = first_rank.map(|r| r - l64 - 1).filter(|a| *a >= 1);
            links.push(stac::link(
                "prev",
                Some("application/geo+json"),
                page(prev_after),
                None,
            ));
        }
        if let Some(last) = last_rank.filter(|r| *r < max_rank) {
            links.push(stac::link(
                "next",
                Some("application/geo+json"),
                page(Some(last)),
                None,
            ));
            let last_after = (max_rank - l64).max(0);
            let last_page = if last_after >= 1 {
                Some(last_after)
            } else {
                None
            };
            links.push(stac::link(
                "last",
                Some("application/geo+json"),
                page(last_page),
                None,
            ));
        }
    }
    Ok(feature_collection(body, links))
}

/// `GET /api/collections/{id}/items/{item}`: as `GET /api/pictures/{item}`, for a picture of
/// that collection only; one of another collection is answered as an unknown item.
pub async fn one_in_collection(
    State(state): State<AppState>,
    ReadAs(viewer): ReadAs,
    base: BaseUrl,
    Path((collection, item)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (collection, id) = params::item_path(&collection, &item)?;
    let view = state.services.item(Some(collection), id, viewer).await?;
    Ok(geojson(item_document(&state, &base, viewer, &view).await?))
}

/// `GET /api/pictures/{id}`: one picture with its `prev`/`next` and `related` links, among
/// the pictures the caller may see; 404 when it may not see this one.
pub async fn one(
    State(state): State<AppState>,
    ReadAs(viewer): ReadAs,
    base: BaseUrl,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = params::picture_id(&id)?;
    let view = state.services.item(None, id, viewer).await?;
    Ok(geojson(item_document(&state, &base, viewer, &view).await?))
}

/// A picture as its single item route shows it to `viewer`: neighbour and related links,
/// tags, and the `edit` and `delete` links of what it may do.
pub(super) async fn item_document(
    state: &AppState,
    base: &BaseUrl,
    viewer: Viewer,
    view: &ItemView,
) -> ApiResult<Value> {
    let picture = &view.picture;
    let id = picture.base.id;
    let neighbours = (view.prev.as_ref(), view.next.as_ref());
    // A remote picture is shown as its instance sent it, tags included, and may not be
    // changed here: no tags of ours and no rights links.
    if let Some(origin) = &picture.origin {
        let peers = PeerUrls::read(state, true).await?;
        let url = peers.of(origin.peer_id);
        let mut item = stac::remote::item(base, picture, origin, url, neighbours);
        if let Some(links) = item["links"].as_array_mut() {
            links.extend(view.related.iter().map(|p| stac::related_link(base, p)));
        }
        return Ok(item);
    }
    let producer = producer_name(state, picture.base.account_id).await?;
    let mut item = stac::item(base, &state.info, picture, &producer, neighbours);
    let sequences: Vec<SequenceId> = picture.sequence_id.into_iter().collect();
    let tags = state.services.semantics(&sequences, &[id]).await?;
    set_tags(&mut item, picture, &tags);
    // Only the single item has them, as on Panoramax instances: a list would cost one space
    // query per item.
    if let Some(links) = item["links"].as_array_mut() {
        links.extend(view.related.iter().map(|p| stac::related_link(base, p)));
    }
    // Items are changed through their sequence's path; one not in a sequence yet has none,
    // and a catalog-only instance changes none.
    if let (Some(sequence), false) = (picture.sequence_id, state.is_catalog_only) {
        let rights = state.services.item_rights(viewer, picture).await?;
        let href = base.api(&format!("/collections/{sequence}/items/{id}"));
        stac::add_rights_links(&mut item, &href, rights.as_ref());
        if state.services.may_annotate(viewer, picture).await? {
            stac::add_annotation_link(&mut item, format!("{href}/annotations"));
        }
    }
    Ok(item)
}
