//! Sequences as STAC collections: the paginated list and single collections.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use flaneur_model::{Sequence, SequenceId};
use flaneur_store::{Filter, Page, RankQuery, SEQUENCE_QUERYABLES, SequenceCursor, SequenceQuery};
use serde_json::{Value, json};

use crate::params::{self, Params};
use crate::url::BaseUrl;
use crate::{ApiError, ApiResult, AppState, cql2, feed, stac};

/// Default and largest page sizes, as on Panoramax instances.
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

/// Encodes a page position as `<created micros>_<id>`: opaque to clients, which only follow
/// the links.
fn cursor_text(c: &SequenceCursor) -> String {
    format!("{}_{}", c.created_at.timestamp_micros(), c.id)
}

fn parse_cursor(text: &str) -> Result<SequenceCursor, ApiError> {
    let bad = || {
        ApiError::bad_request(
            "Parameter page is not one this instance produced; follow the links of a previous \
             page instead of building it",
        )
    };
    let (micros, id) = text.split_once('_').ok_or_else(bad)?;
    let micros: i64 = micros.parse().map_err(|_| bad())?;
    let created_at = DateTime::<Utc>::from_timestamp_micros(micros).ok_or_else(bad)?;
    let id: SequenceId = id.parse().map_err(|_| bad())?;
    Ok(SequenceCursor { created_at, id })
}

/// `GET /api/collections`: visible sequences, oldest first, with keyset pagination; or, with
/// `format=rss` or `Accept: application/rss+xml`, the newest of them as an RSS feed.
pub async fn list(
    State(state): State<AppState>,
    base: BaseUrl,
    Query(params): Query<Params>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let is_rss = wants_rss(&params, &headers)?;
    let limit = params::limit(&params, MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT);
    let mut query = SequenceQuery {
        limit,
        newest_first: is_rss,
        ..SequenceQuery::default()
    };
    if let Some(b) = params.get("bbox") {
        query.bbox = Some(params::bbox_text(b)?);
    }
    if let Some(d) = params.get("datetime") {
        query.datetime = params::datetime(d)?;
    }
    query.filter = sequence_filter(&params)?;
    set_page(&mut query, params.get("page"))?;

    let page = state.services.collections(&query).await?;
    let mut producers = Vec::with_capacity(page.rows.len());
    let mut names = ProducerNames::default();
    for s in &page.rows {
        producers.push(names.get(&state, s.account_id).await?);
    }
    if is_rss {
        let entries: Vec<feed::Entry> = page
            .rows
            .iter()
            .zip(&producers)
            .map(|(sequence, producer)| feed::Entry { sequence, producer })
            .collect();
        let body = feed::rss(&base, &state.info, &entries, Utc::now());
        return Ok(([(CONTENT_TYPE, feed::MEDIA_TYPE)], body).into_response());
    }
    let collections: Vec<Value> = page
        .rows
        .iter()
        .zip(&producers)
        .map(|(s, producer)| stac::collection(&base, &state.info, s, producer, None))
        .collect();

    // Links keep the caller's filters and change only the page position.
    let keep: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k.as_str() != "page")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let href = |page: Option<String>| {
        let mut pairs = keep.clone();
        if let Some(p) = page {
            pairs.push(("page".to_owned(), p));
        }
        stac::with_query(base.api("/collections"), &pairs)
    };
    let mut links = vec![
        stac::root_link(&base),
        stac::link(
            "parent",
            Some("application/json"),
            base.api("/"),
            Some("Instance catalog"),
        ),
        stac::link(
            "self",
            Some("application/json"),
            href(params.get("page").cloned()),
            None,
        ),
        stac::link(
            stac::queryables::REL,
            Some(stac::queryables::MEDIA_TYPE),
            base.api("/collections/queryables"),
            Some("Queryables"),
        ),
    ];
    links.extend(page_links(&page, href));
    Ok(Json(json!({ "collections": collections, "links": links })).into_response())
}

/// Whether the caller asked for the RSS feed; a `format` other than `rss` or `json` is
/// refused.
fn wants_rss(params: &Params, headers: &HeaderMap) -> Result<bool, ApiError> {
    match params.get("format").map(|f| f.trim()) {
        Some("rss") => return Ok(true),
        Some("json") => return Ok(false),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Parameter format '{other}' is not supported here: use rss or json"
            )));
        }
        None => {}
    }
    let accept = headers.get(ACCEPT).and_then(|v| v.to_str().ok());
    Ok(accept.is_some_and(|a| {
        a.split(',')
            .any(|t| t.trim().starts_with("application/rss+xml"))
    }))
}

/// `first`, `prev` and `next` links of a page of sequences, those that lead somewhere;
/// `href` makes the address of a page position (`None` for the first page).
pub(super) fn page_links(
    page: &Page<Sequence>,
    href: impl Fn(Option<String>) -> String,
) -> Vec<Value> {
    let position = |s: &Sequence| {
        cursor_text(&SequenceCursor {
            created_at: s.created_at,
            id: s.id,
        })
    };
    let mut links = Vec::new();
    if page.has_prev {
        links.push(stac::link(
            "first",
            Some("application/json"),
            href(None),
            None,
        ));
    }
    if let (true, Some(first)) = (page.has_prev, page.rows.first()) {
        let at = format!("before:{}", position(first));
        links.push(stac::link(
            "prev",
            Some("application/json"),
            href(Some(at)),
            None,
        ));
    }
    if let (true, Some(last)) = (page.has_next, page.rows.last()) {
        let at = format!("after:{}", position(last));
        links.push(stac::link(
            "next",
            Some("application/json"),
            href(Some(at)),
            None,
        ));
    }
    links
}

/// Reads the `filter` parameter of a listing of sequences, checked against the properties
/// such a listing offers.
pub(super) fn sequence_filter(params: &Params) -> Result<Option<Filter>, ApiError> {
    let Some(filter) = cql2::from_params(params)? else {
        return Ok(None);
    };
    let checked = filter
        .checked(SEQUENCE_QUERYABLES)
        .map_err(|e| ApiError::bad_request(format!("Parameter filter cannot be used here: {e}")))?;
    Ok(Some(checked))
}

/// Reads the `page` parameter of a listing of sequences into `query`.
pub(super) fn set_page(query: &mut SequenceQuery, page: Option<&String>) -> Result<(), ApiError> {
    let Some(p) = page else {
        return Ok(());
    };
    match p.split_once(':') {
        Some(("after", c)) => query.after = Some(parse_cursor(c)?),
        Some(("before", c)) => query.before = Some(parse_cursor(c)?),
        _ => {
            return Err(parse_cursor("")
                .err()
                .unwrap_or_else(|| ApiError::bad_request(p)));
        }
    }
    Ok(())
}

/// The display name of an account.
pub async fn producer_name(state: &AppState, id: flaneur_model::AccountId) -> ApiResult<String> {
    let name = state
        .services
        .catalog
        .account_name(id)
        .await
        .map_err(flaneur_service::Error::from)?;
    Ok(name.unwrap_or_else(|| "Unknown account".to_owned()))
}

/// Account names looked up once per listing: a page usually holds one or two producers.
#[derive(Default)]
pub struct ProducerNames(Vec<(flaneur_model::AccountId, String)>);

impl ProducerNames {
    /// The display name of an account, from this listing's earlier lookups when possible.
    pub async fn get(
        &mut self,
        state: &AppState,
        id: flaneur_model::AccountId,
    ) -> ApiResult<String> {
        if let Some((_, name)) = self.0.iter().find(|(known, _)| *known == id) {
            return Ok(name.clone());
        }
        let name = producer_name(state, id).await?;
        self.0.push((id, name.clone()));
        Ok(name)
    }
}

/// `GET /api/collections/{id}`.
pub async fn one(
    State(state): State<AppState>,
    base: BaseUrl,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = params::sequence_id(&id)?;
    let sequence = state.services.collection(id).await?;
    let pictures = state
        .services
        .catalog
        .sequence_pictures(id, RankQuery::default())
        .await
        .map_err(flaneur_service::Error::from)?;
    let producer = producer_name(&state, sequence.account_id).await?;
    let summaries = stac::summaries(&pictures);
    Ok(Json(stac::collection(
        &base,
        &state.info,
        &sequence,
        &producer,
        Some(summaries),
    )))
}

/// `GET /api/collections/{id}/geovisio_status`: where the processing of each picture is.
pub async fn status(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = params::sequence_id(&id)?;
    let (sequence, pictures) = state.services.collection_status(id).await?;
    Ok(Json(stac::collection_status(&sequence, &pictures)))
}
