//! `GET` and `POST /api/search`: STAC item search with keyset paging.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, Utc};
use flaneur_model::PictureId;
use flaneur_store::PictureQuery;
use serde_json::{Value, json};

use super::items::{features, geojson};
use crate::params::{self, Params};
use crate::url::BaseUrl;
use crate::{ApiError, ApiResult, AppState, stac};

const DEFAULT_LIMIT: usize = 10;
const MAX_LIMIT: usize = 10_000;
const LIMIT_MESSAGE: &str = "Parameter limit must be either empty or a number between 1 and 10000";
const BBOX_AND_INTERSECTS: &str = "Parameters bbox and intersects cannot be used together";

/// `GET /api/search`.
pub async fn get(
    State(state): State<AppState>,
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
    if let Some(p) = params.get("page") {
        query.after = Some(parse_page(p)?);
    }
    let keep: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k.as_str() != "page")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    run(state, base, query, keep).await
}

/// `POST /api/search` with a JSON body.
pub async fn post(
    State(state): State<AppState>,
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
    let limit = match body.get("limit") {
        None | Some(Value::Null) => DEFAULT_LIMIT,
        Some(v) => params::limit_capped(Some(&v.to_string()), MAX_LIMIT, LIMIT_MESSAGE)?
            .unwrap_or(DEFAULT_LIMIT),
    };
    let mut query = PictureQuery {
        limit,
        ..PictureQuery::default()
    };
    let mut keep = vec![("limit".to_owned(), limit.to_string())];
    let given = |name: &str| body.get(name).is_some_and(|v| !v.is_null());
    if given("bbox") && given("intersects") {
        return Err(ApiError::bad_request(BBOX_AND_INTERSECTS));
    }
    if let Some(b) = body.get("bbox").filter(|v| !v.is_null()) {
        let bbox = params::bbox_json(b)?;
        keep.push(("bbox".to_owned(), bbox.map(|v| v.to_string()).join(",")));
        query.bbox = Some(bbox);
    }
    if let Some(i) = body.get("intersects").filter(|v| !v.is_null()) {
        query.intersects = Some(params::area(i)?);
        keep.push(("intersects".to_owned(), i.to_string()));
    }
    if let Some(d) = body.get("datetime").filter(|v| !v.is_null()) {
        let text = d
            .as_str()
            .ok_or_else(|| ApiError::bad_request("Invalid `datetime` argument"))?;
        query.datetime = params::datetime_rfc3339(text)?;
        keep.push(("datetime".to_owned(), text.to_owned()));
    }
    if let Some(ids) = body.get("ids").filter(|v| !v.is_null()) {
        query.ids = params::id_list_json(ids, "ids")?;
        keep.push(("ids".to_owned(), ids.to_string()));
    }
    if let Some(c) = body.get("collections").filter(|v| !v.is_null()) {
        query.collections = params::id_list_json(c, "collections")?;
        keep.push(("collections".to_owned(), c.to_string()));
    }
    if let Some(p) = body.get("page").and_then(Value::as_str) {
        query.after = Some(parse_page(p)?);
    }
    run(state, base, query, keep).await
}

async fn run(
    state: AppState,
    base: BaseUrl,
    query: PictureQuery,
    keep: Vec<(String, String)>,
) -> ApiResult<Response> {
    let pictures = state.services.search(&query).await?;
    let features = features(&state, &base, &pictures).await?;

    let mut links = vec![
        stac::root_link(&base),
        stac::link(
            "self",
            Some("application/geo+json"),
            base.api("/search"),
            None,
        ),
    ];
    // A full page may have a next one; its position is the last row's (updated, id).
    if let (true, Some(last)) = (pictures.len() == query.limit, pictures.last()) {
        let mut pairs = keep;
        pairs.push((
            "page".to_owned(),
            format!("{}_{}", last.updated_at.timestamp_micros(), last.base.id),
        ));
        let href = stac::with_query(base.api("/search"), &pairs);
        links.push(stac::link("next", Some("application/geo+json"), href, None));
    }
    Ok(geojson(
        json!({ "type": "FeatureCollection", "features": features, "links": links }),
    ))
}

fn parse_page(text: &str) -> Result<(DateTime<Utc>, PictureId), ApiError> {
    let bad = || {
        ApiError::bad_request(
            "Parameter page is not one this instance produced; follow the next link of a \
             previous page instead of building it",
        )
    };
    let (micros, id) = text.split_once('_').ok_or_else(bad)?;
    let micros: i64 = micros.parse().map_err(|_| bad())?;
    let at = DateTime::<Utc>::from_timestamp_micros(micros).ok_or_else(bad)?;
    Ok((at, id.parse().map_err(|_| bad())?))
}
