//! Who may call the API from a browser page: any site may read, only the instance's own pages
//! may write.
//!
//! Reading is open to every origin so that viewers and catalogs hosted elsewhere can show the
//! pictures; item search by `POST` is a read too, only with its criteria in the body. Writing
//! is not: a page of another site opened in a contributor's browser could otherwise delete
//! their uploads, even on an instance reachable only from their machine. Browsers name the
//! page that sends a request in `Origin`; command-line clients send none and are not
//! concerned.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{HOST, ORIGIN};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowHeaders, Any, CorsLayer};

use crate::url::BaseUrl;
use crate::{ApiError, AppState};

/// Routes whose `POST` only reads, open to every site like `GET`.
pub(crate) const READS_BY_POST: [&str; 1] = ["/api/search"];

/// CORS for reads only: a preflight for `PATCH`, `PUT` or `DELETE` is answered without
/// permission, so the browser does not send the request. `POST` is allowed for the searches
/// sent that way; a `POST` to any other route from another site is refused by
/// [`refuse_cross_site_writes`] before its handler runs.
pub fn cors(exposed: impl Into<Vec<HeaderName>>) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::HEAD, Method::POST])
        // Named back rather than `*`: browsers never let a wildcard cover `Authorization`,
        // and viewers of other sites send their user's API token with reads.
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers(exposed.into())
}

/// `scheme://host[:port]` without the scheme: the part both sides agree on behind a proxy
/// that ends TLS without saying so.
pub(crate) fn authority(url: &str) -> &str {
    url.split_once("://").map_or(url, |(_, rest)| rest)
}

/// Whether a request that may change data was sent by a page of another site.
fn is_cross_site(
    origin: Option<&HeaderValue>,
    fetch_site: Option<&HeaderValue>,
    own: &str,
) -> bool {
    match origin.map(HeaderValue::to_str) {
        // `null` comes from sandboxed frames and local files: never the instance's pages.
        Some(Ok(origin)) => origin == "null" || authority(origin) != authority(own),
        Some(Err(_)) => true,
        // Older browsers omit `Origin` on some requests but name the kind of site.
        None => fetch_site
            .and_then(|v| v.to_str().ok())
            .is_some_and(|site| site == "cross-site"),
    }
}

/// Refuses writes sent by pages of other sites, before any handler reads the body.
pub async fn refuse_cross_site_writes(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method();
    let is_read = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
        || (*method == Method::POST && READS_BY_POST.contains(&request.uri().path()));
    if is_read {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let own = match BaseUrl::from_request_parts(&mut parts, &state).await {
        Ok(base) => base.0,
        Err(never) => match never {},
    };
    let fetch_site = parts.headers.get("sec-fetch-site");
    if is_cross_site(parts.headers.get(ORIGIN), fetch_site, &own) {
        let host = parts
            .headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("this instance");
        return ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "Changes can only be sent by the pages of {host} or by clients outside a \
                 browser; this request came from a page of another site"
            ),
        )
        .into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(s: &str) -> HeaderValue {
        HeaderValue::from_str(s).expect("header value")
    }

    #[test]
    fn only_pages_of_the_instance_itself_may_write() {
        let own = "http://127.0.0.1:5000";
        let cross = |origin: Option<&str>, site: Option<&str>| {
            is_cross_site(origin.map(value).as_ref(), site.map(value).as_ref(), own)
        };
        assert!(!cross(None, None), "clients outside a browser");
        assert!(!cross(Some("http://127.0.0.1:5000"), Some("same-origin")));
        assert!(
            !cross(Some("https://127.0.0.1:5000"), None),
            "TLS ended by a proxy"
        );
        assert!(cross(Some("http://127.0.0.1:5099"), None));
        assert!(cross(Some("http://evil.example"), None));
        assert!(cross(Some("null"), None));
        assert!(cross(None, Some("cross-site")));
        assert!(!cross(None, Some("same-origin")));
    }
}
