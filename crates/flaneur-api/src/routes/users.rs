//! Accounts: the list of users, a user's profile, their sequences (as a STAC collection, a
//! deprecated catalog, or CSV) and the user search.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use flaneur_model::Viewer;
use flaneur_service::read::MAX_USERS;
use flaneur_service::read::SequencePage;
use flaneur_store::{SequenceQuery, SequenceSort};
use serde_json::Value;

use super::listing;
use crate::params::{self, Params};
use crate::url::BaseUrl;
use crate::{ApiError, ApiResult, AppState, ReadAs, stac};

/// Default and largest page sizes of a user's sequences.
pub(super) const DEFAULT_LIMIT: usize = 100;
pub(super) const MAX_LIMIT: usize = 1000;

/// Default and largest number of accounts a user search returns.
pub(super) const DEFAULT_SEARCH_LIMIT: usize = 20;

/// `GET /api/users`: every account.
pub async fn list(State(state): State<AppState>, base: BaseUrl) -> ApiResult<Json<Value>> {
    let accounts = state.services.users(MAX_USERS).await?;
    Ok(Json(stac::user::users(&base, &accounts)))
}

/// `GET /api/users/{id}`: an account's public profile.
pub async fn one(
    State(state): State<AppState>,
    base: BaseUrl,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = params::account_id(&id)?;
    let name = state.services.user(id).await?;
    Ok(Json(stac::user::user(&base, id, &name)))
}

/// `GET /api/users/search?q=`: accounts whose name contains `q`.
pub async fn search(
    State(state): State<AppState>,
    base: BaseUrl,
    Query(params): Query<Params>,
) -> ApiResult<Json<Value>> {
    let Some(text) = params.get("q").map(|q| q.trim()).filter(|q| !q.is_empty()) else {
        return Err(ApiError::bad_request(
            "Parameter q is required: give part of the user name to look for",
        ));
    };
    let limit = params::limit(&params, MAX_USERS)?.unwrap_or(DEFAULT_SEARCH_LIMIT);
    let found = state.services.search_users(text, limit).await?;
    Ok(Json(stac::user::user_search(&base, &found)))
}

/// `GET /api/users/{id}/collection`: the account's published sequences the caller may see
/// as one STAC collection, newest first by default, paginated (its owner also finds those not
/// published yet); as CSV (every published sequence, no paging) with `format=csv` or
/// `Accept: text/csv`.
pub async fn collection(
    State(state): State<AppState>,
    ReadAs(viewer): ReadAs,
    base: BaseUrl,
    Path(id): Path<String>,
    Query(params): Query<Params>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let id = params::account_id(&id)?;
    if wants_csv(&params, &headers)? {
        let sequences = state.services.user_all_collections(id, viewer).await?;
        let csv = stac::user::user_csv(&sequences);
        return Ok(([(CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response());
    }

    let query = query(&params, viewer)?;
    let (name, summary, page) = state.services.user_collections(id, &query).await?;
    let path = format!("/users/{id}/collection");
    let links = self_and_page_links(&base, &path, &params, &page);
    Ok(Json(stac::user::user_collection(
        &base,
        &state.info,
        (id, &name),
        &summary,
        (&page.into_shown(), viewer.acts_as_owner_of(id)),
        links,
    ))
    .into_response())
}

/// `GET /api/users/{id}/catalog`: the deprecated form of the user's sequences, a STAC
/// catalog of `child` links, those the caller may see.
pub async fn catalog(
    State(state): State<AppState>,
    ReadAs(viewer): ReadAs,
    base: BaseUrl,
    Path(id): Path<String>,
    Query(params): Query<Params>,
) -> ApiResult<Json<Value>> {
    let id = params::account_id(&id)?;
    let query = query(&params, viewer)?;
    let (name, _, page) = state.services.user_collections(id, &query).await?;
    let path = format!("/users/{id}/catalog");
    let links = self_and_page_links(&base, &path, &params, &page);
    Ok(Json(stac::user::user_catalog(
        &base,
        (id, &name),
        &page.into_shown(),
        links,
    )))
}

/// Whether the caller asked for CSV; any `format` other than `csv` or `json` is refused.
fn wants_csv(params: &Params, headers: &HeaderMap) -> Result<bool, ApiError> {
    match params.get("format").map(|f| f.trim()) {
        Some("csv") => return Ok(true),
        Some("json") => return Ok(false),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Parameter format '{other}' is not supported here: use csv or json"
            )));
        }
        None => {}
    }
    let accept = headers.get(ACCEPT).and_then(|v| v.to_str().ok());
    Ok(accept.is_some_and(|a| a.split(',').any(|t| t.trim().starts_with("text/csv"))))
}

/// The page of sequences the parameters ask for, as `viewer` may see them, newest first
/// unless `sortby` says otherwise. Tombstones are not offered here (asking for them is a
/// 400): harvesters follow the collection list.
fn query(params: &Params, viewer: Viewer) -> Result<SequenceQuery, ApiError> {
    let limit = params::limit(params, MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT);
    let sort = listing::sortby(params, SequenceSort::CREATED_DESC)?;
    let (filter, asks_deleted) = listing::filter(params)?;
    if asks_deleted || listing::show_deleted(params)? {
        return Err(ApiError::bad_request(
            "Deleted and hidden sequences are listed by /api/collections with \
             show_deleted=true, not by a user's collection",
        ));
    }
    let mut query = SequenceQuery {
        limit,
        page: listing::page(params, &sort)?,
        sort,
        filter,
        viewer,
        ..SequenceQuery::default()
    };
    if let Some(b) = params.get("bbox") {
        query.bbox = Some(params::bbox_text(b)?);
    }
    Ok(query)
}

/// The `self` link and the paging links of a listing at `path`, keeping the caller's other
/// parameters.
fn self_and_page_links(
    base: &BaseUrl,
    path: &str,
    params: &Params,
    page: &SequencePage,
) -> Vec<Value> {
    let href = listing::page_href(base, path, params);
    let mut links = vec![stac::link(
        "self",
        Some("application/json"),
        href(params.get("page").cloned()),
        None,
    )];
    let is_first = params.get("page").is_none_or(|p| p.is_empty());
    links.extend(listing::page_links(page, is_first, href));
    links
}
