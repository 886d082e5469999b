//! `GET` and `POST /api/search`: STAC item search in any order, with keyset pages both ways.
//!
//! Both forms build one [`PictureQuery`]. Paging links repeat the search as it came: a GET
//! page links to GETs with the same query string, a POST page to POSTs with the same body
//! (STAC API item search, "POST paging"), each with a `page` token added.

pub(super) mod place;
mod sort;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use flaneur_model::Picture;
use flaneur_store::{Filter, Page, PictureOrder, PictureQuery, checked_picture_filter};
use serde_json::{Map, Value, json};

use self::place::PlaceParams;
use super::items::{feature_collection, write_features};
use super::page_body::PageBody;
use crate::params::{self, Params};
use crate::url::BaseUrl;
use crate::{ApiError, ApiResult, AppState, ReadAs, cql2, stac};

pub(super) const DEFAULT_LIMIT: usize = 10;
pub(super) const MAX_LIMIT: usize = 10_000;
const LIMIT_MESSAGE: &str = "Parameter limit must be either empty or a number between 1 and 10000";
const BBOX_AND_INTERSECTS: &str = "Parameters bbox and intersects cannot be used together";

/// How the links of a page repeat its search.
enum Repeat {
    /// As a GET with these query pairs (all but `page`).
    Get(Vec<(String, String)>),
    /// As a POST with this body (all but `page`).
    Post(Map<String, Value>),
}

/// `GET /api/search`: pictures the caller may see, in sequences it may see.
pub async fn get(
    State(state): State<AppState>,
    ReadAs(viewer): ReadAs,
    base: BaseUrl,
    Query(params): Query<Params>,
) -> ApiResult<Response> {
    let mut query = PictureQuery {
        limit: params::limit_capped(
            params.get("limit").map(String::as_str),
            MAX_LIMIT,
            LIMIT_MESSAGE,
        )?
        .unwrap_or(DEFAULT_LIMIT),
        viewer,
        ..PictureQuery::default()
    };
    if params.contains_key("bbox") && params.contains_key("intersects") {
        return Err(ApiError::bad_request(BBOX_AND_INTERSECTS));
    }
    if let Some(b) = params.get("bbox") {
        // STAC API's query form is the bare list; brackets belong to the JSON body only.
        if b.trim_start().starts_with('[') {
            return Err(ApiError::bad_request(
                "Parameter bbox must be in format minX,minY,maxX,maxY, without brackets",
            ));
        }
        query.bbox = Some(params::bbox_text(b)?);
    }
    if let Some(i) = params.get("intersects") {
        let geometry: Value = serde_json::from_str(i).map_err(|_| {
            ApiError::bad_request("Parameter intersects should be a GeoJSON geometry as JSON")
        })?;
        query.intersects = Some(params::area(&geometry)?);
    }
    if let Some(d) = params.get("datetime") {
        query.datetime = params::datetime_rfc3339(d)?;
    }
    if let Some(ids) = params.get("ids") {
        query.ids = params::id_list_text(ids, "ids")?;
    }
    if let Some(c) = params.get("collections") {
        query.collections = params::id_list_text(c, "collections")?;
    }
    let text = |name: &str| params.get(name).map(|v| Value::String(v.clone()));
    let (position, distance, tolerance) = (
        text("place_position"),
        text("place_distance"),
        text("place_fov_tolerance"),
    );
    let place = PlaceParams {
        position: position.as_ref(),
        distance: distance.as_ref(),
        tolerance: tolerance.as_ref(),
    };
    query.place = place.read()?;
    check_crs(
        params
            .get("filter-crs")
            .map(|c| Value::String(c.clone()))
            .as_ref(),
    )?;
    query.filter = cql2::from_params(&params)?.map(checked).transpose()?;
    query.order = match params.get("sortby").filter(|v| !v.trim().is_empty()) {
        Some(s) => sort::order_text(s)?,
        None => default_order(&query),
    };
    if let Some(p) = params.get("page") {
        query.start = Some(sort::decode_page(p, &query)?);
    }

    let mut keep: Vec<(String, String)> = params.into_iter().filter(|(k, _)| k != "page").collect();
    keep.sort();
    run(state, base, query, Repeat::Get(keep)).await
}

/// `POST /api/search` with a JSON body: as `GET /api/search`.
pub async fn post(
    State(state): State<AppState>,
    ReadAs(viewer): ReadAs,
    base: BaseUrl,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body = params::json_body(
        &headers,
        body,
        "Search parameters should be sent as JSON with Content-Type: application/json",
    )?;
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("Search body is not valid JSON: {e}")))?;
    let Value::Object(mut body) = body else {
        return Err(ApiError::bad_request("Search body should be a JSON object"));
    };
    // A null member means the parameter is absent, as STAC clients send them.
    body.retain(|_, v| !v.is_null());

    // A string of digits is read as in GET, since some clients copy query parameters over.
    let limit = match body.get("limit") {
        None => None,
        Some(Value::String(text)) => params::limit_capped(Some(text), MAX_LIMIT, LIMIT_MESSAGE)?,
        Some(Value::Number(n)) => {
            params::limit_capped(Some(&n.to_string()), MAX_LIMIT, LIMIT_MESSAGE)?
        }
        Some(_) => return Err(ApiError::bad_request(LIMIT_MESSAGE)),
    };
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    let mut query = PictureQuery {
        limit,
        viewer,
        ..PictureQuery::default()
    };
    if body.contains_key("bbox") && body.contains_key("intersects") {
        return Err(ApiError::bad_request(BBOX_AND_INTERSECTS));
    }
    if let Some(b) = body.get("bbox") {
        query.bbox = Some(params::bbox_json(b)?);
    }
    if let Some(i) = body.get("intersects") {
        query.intersects = Some(params::area(i)?);
    }
    if let Some(d) = body.get("datetime") {
        let text = d
            .as_str()
            .ok_or_else(|| ApiError::bad_request("Invalid `datetime` argument"))?;
        query.datetime = params::datetime_rfc3339(text)?;
    }
    if let Some(ids) = body.get("ids") {
        query.ids = params::id_list_json(ids, "ids")?;
    }
    if let Some(c) = body.get("collections") {
        query.collections = params::id_list_json(c, "collections")?;
    }
    let place = PlaceParams {
        position: body.get("place_position"),
        distance: body.get("place_distance"),
        tolerance: body.get("place_fov_tolerance"),
    };
    query.place = place.read()?;
    check_crs(body.get("filter-crs"))?;
    if let Some(f) = body.get("filter") {
        let lang = match body.get("filter-lang") {
            Some(Value::String(l)) => Some(l.as_str()),
            Some(_) => {
                return Err(ApiError::bad_request(
                    "Parameter filter-lang should be a string",
                ));
            }
            None => None,
        };
        query.filter = Some(checked(cql2::from_body(f, lang)?)?);
    }
    // An empty sort, as a blank GET sortby, asks for the default order.
    let is_empty_sort = |s: &&Value| match s {
        Value::String(text) => text.trim().is_empty(),
        Value::Array(keys) => keys.is_empty(),
        _ => false,
    };
    query.order = match body.get("sortby").filter(|s| !is_empty_sort(s)) {
        Some(s) => sort::order_json(s)?,
        None => default_order(&query),
    };
    if let Some(p) = body.remove("page") {
        let p = p
            .as_str()
            .ok_or_else(|| ApiError::bad_request("Parameter page should be a string"))?;
        query.start = Some(sort::decode_page(p, &query)?);
    }
    run(state, base, query, Repeat::Post(body)).await
}

/// Refuses a `filter-crs` other than [`cql2::CRS84`]: filters compare no coordinates today, but
/// one written for another system would be misread silently once they do.
fn check_crs(crs: Option<&Value>) -> Result<(), ApiError> {
    match crs {
        None => Ok(()),
        Some(Value::String(c)) if c.trim() == cql2::CRS84 => Ok(()),
        Some(_) => Err(ApiError::bad_request(format!(
            "Parameter filter-crs only supports CRS84 ({})",
            cql2::CRS84
        ))),
    }
}

/// The filter checked against what item search can filter on.
fn checked(filter: Filter) -> Result<Filter, ApiError> {
    checked_picture_filter(filter)
        .map_err(|e| ApiError::bad_request(format!("Parameter filter cannot be used here: {e}")))
}

/// Nearest first when looking for a place, else most recently updated first.
fn default_order(query: &PictureQuery) -> PictureOrder {
    if query.place.is_some() {
        PictureOrder::Nearest
    } else {
        PictureOrder::default()
    }
}

async fn run(
    state: AppState,
    base: BaseUrl,
    query: PictureQuery,
    repeat: Repeat,
) -> ApiResult<Response> {
    let mut page = state.services.search(&query).await?;
    let mut body = PageBody::new(state.max_page_bytes);
    let written = write_features(&state, &base, &page.rows, &mut body).await?;
    // A page too large for one answer ends at its last item written; its `next` link starts
    // right after it, as after any page's last item.
    if written < page.rows.len() {
        page.rows.truncate(written);
        page.has_next = true;
    }
    let links = links(&base, &query, &page, &repeat);
    Ok(feature_collection(body, links))
}

/// `root` and `self`, then `first`, `prev` and `next` where such pages exist.
fn links(
    base: &BaseUrl,
    query: &PictureQuery,
    page: &Page<Picture>,
    repeat: &Repeat,
) -> Vec<Value> {
    let mut links = vec![
        stac::root_link(base),
        stac::link(
            "self",
            Some("application/geo+json"),
            base.api("/search"),
            None,
        ),
    ];
    let position = |p: &Picture| query.order.position_of(p, query.place.as_ref());
    let mut pages = Vec::with_capacity(3);
    if page.has_prev {
        pages.push(("first", None));
        // An empty page (its pictures removed since) has no edge to step back from; `first`
        // still leads back.
        if let Some(first) = page.rows.first() {
            pages.push(("prev", Some(sort::start_at(position(first), true))));
        }
    }
    if let (true, Some(last)) = (page.has_next, page.rows.last()) {
        pages.push(("next", Some(sort::start_at(position(last), false))));
    }
    for (rel, start) in pages {
        let token = start.map(|s| sort::encode_page(query, s));
        links.push(page_link(base, rel, token, repeat));
    }
    links
}

/// A link to the same search starting at a page token (the first page without one).
fn page_link(base: &BaseUrl, rel: &str, token: Option<String>, repeat: &Repeat) -> Value {
    let href = base.api("/search");
    match repeat {
        Repeat::Get(pairs) => {
            let mut pairs = pairs.clone();
            if let Some(token) = token {
                pairs.push(("page".to_owned(), token));
            }
            stac::link(
                rel,
                Some("application/geo+json"),
                stac::with_query(href, &pairs),
                None,
            )
        }
        Repeat::Post(body) => {
            let mut body = body.clone();
            if let Some(token) = token {
                body.insert("page".to_owned(), Value::String(token));
            }
            let mut link = stac::link(rel, Some("application/geo+json"), href, None);
            if let Some(l) = link.as_object_mut() {
                l.insert("method".to_owned(), json!("POST"));
                l.insert("body".to_owned(), Value::Object(body));
                // The body is the whole search: clients must not mix in their first one.
                l.insert("merge".to_owned(), json!(false));
            }
            link
        }
    }
}
