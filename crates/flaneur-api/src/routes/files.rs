//! Picture files: `hd.jpg`, `sd.jpg`, `thumb.jpg` and 360° tiles, streamed from the blob
//! store with ETag, Range and cache headers, or, in [`PictureReads::Redirect`] mode, sent to
//! a time-limited address of the store for pictures anyone may see. A picture the caller may
//! not see answers 404 as an unknown one does, never 403, so that its id tells nothing.

use std::ops::Range;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG,
    IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE, LAST_MODIFIED, LOCATION, RANGE,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use flaneur_model::PictureId;
use flaneur_service::read::Asset;

use crate::params;
use crate::{ApiError, ApiResult, AppState, PictureReads, ReadAs};

/// Files of published pictures rarely change; a day of caching spares the instance.
const CACHE: &str = "public, max-age=86400";

/// The same for a logged-in caller, who may be answered files of restricted pictures: only
/// its own browser may keep them, never a shared cache.
const CACHE_PRIVATE: &str = "private, max-age=86400";

fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "Item doesn't exist")
}

/// `GET /api/pictures/{id}/{hd,sd,thumb}.jpg`.
pub async fn picture(
    State(state): State<AppState>,
    read_as: ReadAs,
    Path((id, file)): Path<(String, String)>,
    method: Method,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let id = params::picture_id(&id)?;
    let asset = match file.as_str() {
        "hd.jpg" => Asset::Hd,
        "sd.jpg" => Asset::Sd,
        "thumb.jpg" => Asset::Thumb,
        _ => return Err(not_found()),
    };
    serve(&state, read_as, id, asset, &method, &headers).await
}

/// `GET /api/collections/{id}/thumb.jpg`: the thumbnail of the first picture of the sequence
/// that the caller may see.
pub async fn collection_thumb(
    State(state): State<AppState>,
    read_as: ReadAs,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let id = params::sequence_id(&id)?;
    let first = state
        .services
        .collection_items(id, read_as.0, None, Some(1))
        .await?;
    let Some(picture) = first.first() else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "This sequence has no published picture yet, so no thumbnail",
        ));
    };
    serve(
        &state,
        read_as,
        picture.base.id,
        Asset::Thumb,
        &method,
        &headers,
    )
    .await
}

/// `GET /api/pictures/{id}/tiled/{col}_{row}.jpg`.
pub async fn tile(
    State(state): State<AppState>,
    read_as: ReadAs,
    Path((id, tile)): Path<(String, String)>,
    method: Method,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let id = params::picture_id(&id)?;
    let (col, row) = tile
        .strip_suffix(".jpg")
        .and_then(|t| t.split_once('_'))
        .and_then(|(c, r)| Some((c.parse::<u32>().ok()?, r.parse::<u32>().ok()?)))
        .ok_or_else(not_found)?;
    let asset = Asset::Tile { col, row };
    serve(&state, read_as, id, asset, &method, &headers).await
}

/// A file of a picture: from the store for a picture of this instance; for one harvested from
/// a peer, a 302 to the address its item gives at the peer (or 404 when it gives none). The
/// peer is asked for only once no stored file was found, so local files cost no extra read.
async fn serve(
    state: &AppState,
    read_as: ReadAs,
    id: PictureId,
    asset: Asset,
    method: &Method,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let stored = serve_stored(state, read_as, id, asset, method, headers).await;
    match stored {
        Err(err) if err.status() == StatusCode::NOT_FOUND => {
            match state
                .services
                .remote_picture_file(id, read_as.0, asset)
                .await
            {
                Ok(Some(url)) => Ok(found_at_peer(&url).unwrap_or_else(|| err.into_response())),
                Ok(None) => Err(err),
                Err(lookup) => Err(lookup.into()),
            }
        }
        other => other,
    }
}

/// A 302 to a file at a peer, cacheable as the address does not change; `None` for an
/// address no header can carry.
fn found_at_peer(url: &str) -> Option<Response> {
    let location = HeaderValue::from_str(url).ok()?;
    let mut response = StatusCode::FOUND.into_response();
    response.headers_mut().insert(LOCATION, location);
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static(CACHE));
    Some(response)
}

async fn serve_stored(
    state: &AppState,
    ReadAs(viewer): ReadAs,
    id: PictureId,
    asset: Asset,
    method: &Method,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    // A presigned address is signed for GET only, so HEAD is always answered here.
    if let PictureReads::Redirect { url_ttl } = state.picture_reads
        && method == Method::GET
        && let Some(url) = state
            .services
            .picture_file_url(id, viewer, asset, url_ttl)
            .await?
        && let Some(response) = redirect(&url, url_ttl)
    {
        return Ok(response);
    }

    let range_header = headers.get(RANGE).and_then(|v| v.to_str().ok());
    let wanted = range_header.map(parse_range);

    // The first open tells the size, needed to resolve suffix ranges (`bytes=-500`).
    let body = state.services.picture_file(id, viewer, asset, None).await?;
    let size = body.meta.size_bytes;
    let etag = format!(
        "\"{}-{:?}-{}-{}\"",
        id,
        asset,
        size,
        body.meta.modified.timestamp_micros()
    )
    .replace([' ', '{', '}', ':', ','], "");
    let mut response_headers = HeaderMap::new();
    response_headers.insert(CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
    let cache = if viewer.is_anonymous() {
        CACHE
    } else {
        CACHE_PRIVATE
    };
    response_headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    response_headers.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        response_headers.insert(ETAG, v);
    }
    let modified = body
        .meta
        .modified
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    if let Ok(v) = HeaderValue::from_str(&modified) {
        response_headers.insert(LAST_MODIFIED, v);
    }

    if is_not_modified(headers, &etag, body.meta.modified) {
        return Ok((StatusCode::NOT_MODIFIED, response_headers).into_response());
    }

    // A range applies only to the version the client has (If-Range); otherwise the whole
    // file is sent, so a resumed download never mixes two versions.
    let range_applies = headers
        .get(IF_RANGE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.trim() == etag || v.trim() == modified);
    let range = match wanted.filter(|_| range_applies) {
        None => None,
        Some(Ok(spec)) => match spec.resolve(size) {
            Some(r) => Some(r),
            None => {
                let mut error = ApiError::new(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    format!("Range outside the file, which has {size} bytes"),
                )
                .into_response();
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    error.headers_mut().insert(CONTENT_RANGE, v);
                }
                return Ok(error);
            }
        },
        // A Range header we do not understand is ignored, as HTTP allows.
        Some(Err(())) => None,
    };

    let Some(range) = range else {
        response_headers.insert(CONTENT_LENGTH, HeaderValue::from(size));
        return Ok((
            StatusCode::OK,
            response_headers,
            Body::from_stream(body.stream),
        )
            .into_response());
    };
    drop(body);
    let part = state
        .services
        .picture_file(id, viewer, asset, Some(range.clone()))
        .await?;
    response_headers.insert(CONTENT_LENGTH, HeaderValue::from(range.end - range.start));
    let content_range = format!("bytes {}-{}/{size}", range.start, range.end - 1);
    if let Ok(v) = HeaderValue::from_str(&content_range) {
        response_headers.insert(CONTENT_RANGE, v);
    }
    Ok((
        StatusCode::PARTIAL_CONTENT,
        response_headers,
        Body::from_stream(part.stream),
    )
        .into_response())
}

/// A `302` to a presigned address. Caches may keep it for half the address's life, so that a
/// kept redirect always leads to an address still valid. `None` for an address that cannot
/// be a header (never one a store builds): the file is then streamed.
fn redirect(url: &str, url_ttl: std::time::Duration) -> Option<Response> {
    let location = HeaderValue::from_str(url).ok()?;
    let cache =
        HeaderValue::from_str(&format!("public, max-age={}", url_ttl.as_secs() / 2)).ok()?;
    let headers = [(LOCATION, location), (CACHE_CONTROL, cache)];
    Some((StatusCode::FOUND, headers).into_response())
}

/// Whether the client's cached copy is current: `If-None-Match` (weak comparison) decides
/// when present, else `If-Modified-Since`.
fn is_not_modified(
    headers: &HeaderMap,
    etag: &str,
    modified: chrono::DateTime<chrono::Utc>,
) -> bool {
    if let Some(tags) = headers.get(IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        return tags.split(',').map(str::trim).any(|t| {
            let t = t.strip_prefix("W/").unwrap_or(t);
            t == etag || t == "*"
        });
    }
    let since = headers
        .get(IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| chrono::NaiveDateTime::parse_from_str(v.trim(), HTTP_DATE).ok());
    // HTTP dates have whole seconds: compare at that precision.
    since.is_some_and(|since| modified.timestamp() <= since.and_utc().timestamp())
}

/// The date format of HTTP headers (IMF-fixdate).
const HTTP_DATE: &str = "%a, %d %b %Y %H:%M:%S GMT";

/// One byte range of a `Range: bytes=...` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeSpec {
    /// `bytes=a-b` or `bytes=a-`.
    From { start: u64, end: Option<u64> },
    /// `bytes=-n`: the last n bytes.
    Suffix(u64),
}

impl RangeSpec {
    /// The byte range within a blob of `size` bytes, or `None` when it cannot be satisfied.
    fn resolve(self, size: u64) -> Option<Range<u64>> {
        match self {
            RangeSpec::From { start, end } => {
                if start >= size {
                    return None;
                }
                let end = end.map_or(size, |e| e.saturating_add(1).min(size));
                (start < end).then_some(start..end)
            }
            RangeSpec::Suffix(n) => (n > 0 && size > 0).then(|| size.saturating_sub(n)..size),
        }
    }
}

/// Parses a single-range `Range` header; several ranges are not supported (served whole).
fn parse_range(value: &str) -> Result<RangeSpec, ()> {
    let spec = value.trim().strip_prefix("bytes=").ok_or(())?;
    if spec.contains(',') {
        return Err(());
    }
    let (start, end) = spec.split_once('-').ok_or(())?;
    let (start, end) = (start.trim(), end.trim());
    if start.is_empty() {
        return end.parse().map(RangeSpec::Suffix).map_err(|_| ());
    }
    let start: u64 = start.parse().map_err(|_| ())?;
    let end = if end.is_empty() {
        None
    } else {
        Some(end.parse::<u64>().map_err(|_| ())?)
    };
    if end.is_some_and(|e| e < start) {
        return Err(());
    }
    Ok(RangeSpec::From { start, end })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_ranges() {
        let r = |s: &str| parse_range(s).ok().and_then(|r| r.resolve(1000));
        assert_eq!(r("bytes=0-99"), Some(0..100));
        assert_eq!(r("bytes=900-"), Some(900..1000));
        assert_eq!(r("bytes=-100"), Some(900..1000));
        assert_eq!(r("bytes=990-2000"), Some(990..1000));
        assert_eq!(r("bytes=1000-"), None);
        assert!(parse_range("bytes=5-1").is_err());
        assert!(parse_range("items=1-2").is_err());
    }
}
