//! Absolute URLs for links, built from the request's host as clients reached it.

use axum::extract::FromRequestParts;
use axum::http::header::HOST;
use axum::http::request::Parts;

/// The `http(s)://host` prefix of the request, used for every `href`.
#[derive(Debug, Clone)]
pub struct BaseUrl(pub String);

impl BaseUrl {
    /// `{base}/api{path}`.
    pub fn api(&self, path: &str) -> String {
        format!("{}/api{path}", self.0)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for BaseUrl {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // A reverse proxy says how the client reached it; without one, the Host header does.
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let proto = header("x-forwarded-proto").unwrap_or_else(|| "http".to_owned());
        let host = header("x-forwarded-host")
            .or_else(|| {
                parts
                    .headers
                    .get(HOST)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            })
            .or_else(|| parts.uri.authority().map(|a| a.to_string()))
            .unwrap_or_else(|| "localhost".to_owned());
        Ok(BaseUrl(format!("{proto}://{host}")))
    }
}
