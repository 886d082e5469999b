//! Absolute URLs for links, built from the host the client reached.

use axum::extract::FromRequestParts;
use axum::http::header::HOST;
use axum::http::request::Parts;

use crate::AppState;

/// The `http(s)://host` prefix of the request, used for every `href`.
#[derive(Debug, Clone)]
pub struct BaseUrl(pub String);

impl BaseUrl {
    /// `{base}/api{path}`.
    pub fn api(&self, path: &str) -> String {
        format!("{}/api{path}", self.0)
    }
}

/// Whether a host (with its optional port) is made only of what host names and IP addresses
/// contain, so that it cannot break out of a URL or of the JSON or HTML it lands in.
fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
}

impl FromRequestParts<AppState> for BaseUrl {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_owned())
        };

        // A reverse proxy says how the client reached it, but only a proxy the operator
        // declared is believed: anyone else could point every link at another site.
        let forwarded = |name: &str| header(name).filter(|_| state.trust_forwarded_headers);
        let proto = forwarded("x-forwarded-proto")
            .filter(|p| p == "http" || p == "https")
            .unwrap_or_else(|| "http".to_owned());
        let host = forwarded("x-forwarded-host")
            .filter(|h| is_plain_host(h))
            .or_else(|| header(HOST.as_str()).filter(|h| is_plain_host(h)))
            .or_else(|| parts.uri.authority().map(|a| a.to_string()))
            .unwrap_or_else(|| "localhost".to_owned());
        Ok(BaseUrl(format!("{proto}://{host}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_hosts_make_links() {
        assert!(is_plain_host("127.0.0.1:5000"));
        assert!(is_plain_host("[::1]:5000"));
        assert!(is_plain_host("pictures.example.org"));
        assert!(!is_plain_host("evil\"><x"));
        assert!(!is_plain_host("a/b"));
        assert!(!is_plain_host(""));
    }
}
