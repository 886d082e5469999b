//! Sequences as STAC collections: the paginated list and single collections.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use flaneur_model::{Sequence, SequenceId, Viewer};
use flaneur_service::read::Listed;
use flaneur_store::{PagePosition, SequenceQuery, SequenceSort};
use serde_json::{Value, json};

use super::federation::PeerUrls;
use super::listing;
use super::page_body::PageBody;
use crate::params::{self, Params};
use crate::url::BaseUrl;
use crate::{ApiError, ApiResult, AppState, ReadAs, feed, stac};

/// Default and largest page sizes, as on Panoramax instances.
pub(super) const DEFAULT_LIMIT: usize = 100;
pub(super) const MAX_LIMIT: usize = 1000;

/// `GET /api/collections`: sequences the caller may see, oldest first unless `sortby` says
/// otherwise, with keyset pagination; with `show_deleted=true`, deleted ones and those hidden
/// from the caller too, as tombstones, least recently updated first, and only `updated` and
/// `id` to filter and sort on. With `format=rss` or `Accept: application/rss+xml`, the newest
/// of them as an RSS feed.
pub async fn list(
    State(state): State<AppState>,
    ReadAs(viewer): ReadAs,
    base: BaseUrl,
    Query(params): Query<Params>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let is_rss = wants_rss(&params, &headers)?;
    let limit = params::limit(&params, MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT);
    let (filter, asks_deleted) = listing::filter(&params)?;
    let with_hidden = asks_deleted || listing::show_deleted(&params)?;
    // A feed is read by people, who have no use for tombstones; were they fetched, they
    // would take places of the feed's limit.
    if is_rss && with_hidden {
        return Err(ApiError::bad_request(
            "Parameter show_deleted cannot be used with the RSS feed, which lists only \
             published sequences: leave it out, or ask for format=json",
        ));
    }
    // Tombstones may only be ordered by what they show, so their listing runs by `updated`.
    let default_sort = if is_rss {
        SequenceSort::CREATED_DESC
    } else if with_hidden {
        SequenceSort::UPDATED_ASC
    } else {
        SequenceSort::CREATED_ASC
    };
    let sort = listing::sortby(&params, default_sort)?;
    let mut query = SequenceQuery {
        limit,
        page: listing::page(&params, &sort)?,
        sort,
        filter,
        with_hidden,
        viewer,
        ..SequenceQuery::default()
    };
    if let Some(b) = params.get("bbox") {
        query.bbox = Some(params::bbox_text(b)?);
    }
    if let Some(d) = params.get("datetime") {
        query.datetime = params::datetime(d)?;
    }

    let mut page = state.services.collections(&query).await?;
    let mut producers = Vec::with_capacity(page.rows.len());
    let mut names = ProducerNames::default();
    for row in &page.rows {
        producers.push(match row {
            Listed::Shown(s) => Some(names.get(&state, s.account_id).await?),
            Listed::Tombstone { .. } => None,
        });
    }
    if is_rss {
        let entries: Vec<feed::Entry> = page
            .rows
            .iter()
            .zip(&producers)
            .filter_map(|(row, producer)| match (row, producer) {
                (Listed::Shown(sequence), Some(producer)) => {
                    Some(feed::Entry { sequence, producer })
                }
                _ => None,
            })
            .collect();
        let body = feed::rss(&base, &state.info, &entries, Utc::now());
        return Ok(([(CONTENT_TYPE, feed::MEDIA_TYPE)], body).into_response());
    }
    let ids: Vec<SequenceId> = page
        .rows
        .iter()
        .filter_map(|row| match row {
            Listed::Shown(s) => Some(s.id),
            Listed::Tombstone { .. } => None,
        })
        .collect();
    let tags = state.services.semantics(&ids, &[]).await?;
    let is_remote = |row: &Listed| matches!(row, Listed::Shown(s) if s.origin.is_some());
    let peers = PeerUrls::read(&state, page.rows.iter().any(is_remote)).await?;
    let document = |row: &Listed, producer: &Option<String>| match row {
        Listed::Shown(s) => {
            if let Some(origin) = &s.origin {
                let url = peers.of(origin.peer_id);
                return stac::remote::collection(&base, s, origin, url);
            }
            let mut collection = stac::collection(
                &base,
                &state.info,
                s,
                producer.as_deref().unwrap_or_default(),
                None,
            );
            let of_sequence = tags.sequences.get(&s.id).map_or(&[][..], Vec::as_slice);
            stac::set_collection_semantics(&mut collection, of_sequence);
            collection
        }
        // GeoVisio's tombstones have no `updated`; ours give it, so that a harvester can move
        // its watermark past them rather than list them again at every pass. That of a
        // collection its origin removed tells when, so that a catalog harvesting this one
        // holds that removal against relays' stale copies as this one does.
        Listed::Tombstone {
            id,
            updated_at,
            origin_removed_at,
        } => {
            let mut tombstone = json!({
                "id": id,
                "geovisio:status": "deleted",
                "updated": stac::ts(*updated_at),
            });
            if let Some(at) = origin_removed_at {
                tombstone[stac::remote::ORIGIN_UPDATED_KEY] = json!(stac::ts(*at));
            }
            tombstone
        }
    };
    let mut body = PageBody::new(state.max_page_bytes);
    for (row, producer) in page.rows.iter().zip(&producers) {
        if !body.push(&document(row, producer)) {
            break;
        }
    }
    // A page too large for one answer ends at its last collection written; its `next` link
    // starts right after it, as after any page's last collection.
    page.truncate(body.len());

    // Links keep the caller's filters and change only the page position.
    let href = listing::page_href(&base, "/collections", &params);
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
    let is_first = query.page == PagePosition::First;
    links.extend(listing::page_links(&page, is_first, href));
    Ok(body.into_response(
        "application/json",
        "collections",
        &[("links", Value::Array(links))],
    ))
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
    ReadAs(viewer): ReadAs,
    base: BaseUrl,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = params::sequence_id(&id)?;
    let sequence = state.services.collection(id, viewer).await?;
    Ok(Json(
        collection_document(&state, &base, viewer, &sequence).await?,
    ))
}

/// A sequence as its single collection route shows it to `viewer`: summaries of the pictures
/// it may see, tags, and the `edit` and `delete` links of what it may do.
pub(super) async fn collection_document(
    state: &AppState,
    base: &BaseUrl,
    viewer: Viewer,
    sequence: &Sequence,
) -> ApiResult<Value> {
    let id = sequence.id;
    // A remote sequence is shown as its instance sent it, summaries and tags included, and
    // may not be changed here.
    if let Some(origin) = &sequence.origin {
        let peers = PeerUrls::read(state, true).await?;
        let url = peers.of(origin.peer_id);
        return Ok(stac::remote::collection(base, sequence, origin, url));
    }
    let pictures = state
        .services
        .collection_items(id, viewer, None, None)
        .await?;
    let producer = producer_name(state, sequence.account_id).await?;
    let summaries = stac::summaries(&pictures);
    let mut collection = stac::collection(base, &state.info, sequence, &producer, Some(summaries));
    let tags = state.services.semantics(&[id], &[]).await?;
    let of_sequence = tags.sequences.get(&id).map_or(&[][..], Vec::as_slice);
    stac::set_collection_semantics(&mut collection, of_sequence);
    let rights = if state.is_catalog_only {
        None
    } else {
        state.services.collection_rights(viewer, sequence).await?
    };
    let href = base.api(&format!("/collections/{id}"));
    stac::add_rights_links(&mut collection, &href, rights.as_ref());
    Ok(collection)
}

/// `GET /api/collections/{id}/geovisio_status`: where the processing of each picture is.
pub async fn status(
    State(state): State<AppState>,
    ReadAs(viewer): ReadAs,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = params::sequence_id(&id)?;
    let (sequence, pictures) = state.services.collection_status(id, viewer).await?;
    Ok(Json(stac::collection_status(&sequence, &pictures)))
}
