//! The HTTP side of a harvest: reads JSON pages from one peer within the limits, and refuses
//! to go anywhere else. Parsing what the pages hold is left to [`super::parse`].

use std::collections::HashSet;
use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use serde_json::Value;
use tokio::time::Instant;
use url::Url;

use super::{HarvestError, HarvestLimits};

/// A client bound to one peer, counting what it asks and reads.
pub(crate) struct PeerClient {
    http: reqwest::Client,
    /// The peer's API root, always ending with `/` so that joins and prefix checks agree.
    api: Url,
    max_response_bytes: u64,
    timeout: Duration,
    budget: Duration,
    deadline: Instant,
    /// Requests sent.
    pub(crate) requests: u64,
    /// Body bytes read.
    pub(crate) bytes_read: u64,
}

impl PeerClient {
    /// A client for the peer whose API root is `api_url`, with the pass's budget starting now.
    pub(crate) fn new(api_url: &str, limits: &HarvestLimits) -> Result<PeerClient, HarvestError> {
        let bad = |reason: &str| HarvestError::BadApiUrl {
            url: api_url.to_owned(),
            reason: reason.to_owned(),
        };
        let mut api = Url::parse(api_url).map_err(|e| bad(&e.to_string()))?;
        if !matches!(api.scheme(), "http" | "https") || api.host().is_none() {
            return Err(bad("not an http(s) address with a host"));
        }
        if api.query().is_some() || api.fragment().is_some() {
            return Err(bad("it has a query or a fragment"));
        }
        if !api.path().ends_with('/') {
            let path = format!("{}/", api.path());
            api.set_path(&path);
        }

        // Redirects are followed only when they stay on the peer, like `next` links: the
        // default policy would follow one to any host.
        let scope = api.clone();
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 || off_peer(&scope, attempt.url()).is_some() {
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        let http = reqwest::Client::builder()
            .connect_timeout(limits.connect_timeout)
            .timeout(limits.request_timeout)
            .redirect(redirects)
            .user_agent(concat!("flaneur-harvester/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| bad(&e.to_string()))?;
        Ok(PeerClient {
            http,
            api,
            max_response_bytes: limits.max_response_bytes,
            timeout: limits.request_timeout,
            budget: limits.budget,
            deadline: Instant::now() + limits.budget,
            requests: 0,
            bytes_read: 0,
        })
    }

    /// The address of `path` (no leading `/`) under the peer's API root.
    pub(crate) fn endpoint(&self, path: &str) -> Result<Url, HarvestError> {
        self.api.join(path).map_err(|e| HarvestError::BadApiUrl {
            url: self.api.to_string(),
            reason: e.to_string(),
        })
    }

    /// Reads a link a page gave, refusing it unless it stays on the peer.
    pub(crate) fn link(&self, href: &str, base: &Url) -> Result<Url, HarvestError> {
        let url = base.join(href).map_err(|e| HarvestError::OffPeer {
            url: href.to_owned(),
            reason: format!("not an address: {e}"),
        })?;
        match off_peer(&self.api, &url) {
            Some(reason) => Err(HarvestError::OffPeer {
                url: url.to_string(),
                reason: reason.to_owned(),
            }),
            None => Ok(url),
        }
    }

    /// Fails once the pass has spent its time budget.
    pub(crate) fn check_budget(&self) -> Result<(), HarvestError> {
        if Instant::now() >= self.deadline {
            return Err(HarvestError::BudgetExceeded {
                budget: self.budget,
            });
        }
        Ok(())
    }

    /// GETs `url` and parses its answer as JSON.
    ///
    /// # Errors
    ///
    /// When the address leaves the peer, the request fails or times out, the status is not
    /// 200, the answer is not declared JSON, is larger than the cap (checked while reading, so
    /// an endless answer stops at the cap) or does not parse.
    pub(crate) async fn get_json(&mut self, url: &Url) -> Result<Value, HarvestError> {
        if let Some(reason) = off_peer(&self.api, url) {
            return Err(HarvestError::OffPeer {
                url: url.to_string(),
                reason: reason.to_owned(),
            });
        }
        self.check_budget()?;

        // The client's own timeout covers one request; the budget may end sooner.
        let left = self.deadline.saturating_duration_since(Instant::now());
        let body = tokio::time::timeout(left.min(self.timeout), self.read(url)).await;
        let body = match body {
            Ok(body) => body?,
            Err(_) if left < self.timeout => {
                return Err(HarvestError::BudgetExceeded {
                    budget: self.budget,
                });
            }
            Err(_) => {
                return Err(HarvestError::Timeout {
                    url: url.to_string(),
                    timeout: self.timeout,
                });
            }
        };
        serde_json::from_slice(&body).map_err(|e| HarvestError::InvalidJson {
            url: url.to_string(),
            reason: e.to_string(),
        })
    }

    /// Sends the request and reads the body up to the cap.
    async fn read(&mut self, url: &Url) -> Result<Vec<u8>, HarvestError> {
        let failed = |source: reqwest::Error| {
            if source.is_timeout() {
                HarvestError::Timeout {
                    url: url.to_string(),
                    timeout: self.timeout,
                }
            } else {
                HarvestError::Request {
                    url: url.to_string(),
                    source,
                }
            }
        };

        self.requests += 1;
        tracing::debug!(url = %url, "harvest request");
        let mut response = self
            .http
            .get(url.clone())
            .header(
                reqwest::header::ACCEPT,
                "application/json, application/geo+json",
            )
            .send()
            .await
            .map_err(failed)?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(HarvestError::Status {
                url: url.to_string(),
                status: response.status().as_u16(),
            });
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if !content_type.as_deref().is_some_and(is_json) {
            return Err(HarvestError::NotJson {
                url: url.to_string(),
                content_type,
            });
        }

        // A declared length over the cap fails before reading; an undeclared or false one is
        // caught chunk by chunk, so no more than the cap (plus one chunk) is ever held.
        let too_large = || HarvestError::TooLarge {
            url: url.to_string(),
            limit_bytes: self.max_response_bytes,
        };
        if response
            .content_length()
            .is_some_and(|n| n > self.max_response_bytes)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            self.bytes_read += chunk.len() as u64;
            if (body.len() + chunk.len()) as u64 > self.max_response_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// Why `url` is not on the peer whose API root is `api`, or `None` when it is.
fn off_peer(api: &Url, url: &Url) -> Option<&'static str> {
    if url.origin() != api.origin() {
        return Some("another scheme, host or port than the peer's");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Some("it carries credentials");
    }
    // `api` ends with `/`, so `/api` does not admit `/apix`; the root itself is allowed.
    let root = api.path().trim_end_matches('/');
    if url.path() != root && !url.path().starts_with(api.path()) {
        return Some("outside the peer's API path");
    }
    if url
        .path()
        .split('/')
        .any(|s| s == ".." || s == "%2e%2e" || s == "%2E%2E")
    {
        return Some("its path climbs out of the API path");
    }
    None
}

/// Whether a `Content-Type` value declares JSON (`application/json`, `application/geo+json`
/// or any other `+json` type).
fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    let essence = essence.to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The set of pages read in one listing and how many, ending loops and endless chains.
pub(crate) struct PageTrail {
    first: String,
    seen: HashSet<String>,
    max_pages: u32,
}

impl PageTrail {
    /// A trail starting at `first`, allowing `max_pages` pages.
    pub(crate) fn new(first: &Url, max_pages: u32) -> PageTrail {
        PageTrail {
            first: first.to_string(),
            seen: HashSet::new(),
            max_pages,
        }
    }

    /// Records that `url` is about to be read.
    ///
    /// # Errors
    ///
    /// When it was read already in this listing, or the listing has had its pages.
    pub(crate) fn enter(&mut self, url: &Url) -> Result<(), HarvestError> {
        if self.seen.len() as u64 >= u64::from(self.max_pages) {
            return Err(HarvestError::TooManyPages {
                url: self.first.clone(),
                max_pages: self.max_pages,
            });
        }
        if !self.seen.insert(page_key(url)) {
            return Err(HarvestError::Loop {
                url: url.to_string(),
            });
        }
        Ok(())
    }
}

/// `url` with its query pairs decoded and sorted, so that a link back to a page read already
/// is known whatever the order and encoding of its parameters.
fn page_key(url: &Url) -> String {
    let mut pairs: Vec<_> = url.query_pairs().collect();
    pairs.sort();
    let mut key = url.clone();
    key.set_fragment(None);
    key.query_pairs_mut().clear().extend_pairs(pairs);
    key.to_string()
}

/// The `href` of the page's first link with `rel` equal to `next`, if any.
///
/// # Errors
///
/// When `links` is present but not an array, or the `next` link has no string `href`.
pub(crate) fn next_link<'a>(page: &'a Value, url: &Url) -> Result<Option<&'a str>, HarvestError> {
    let shape = |reason: &str| HarvestError::Shape {
        url: url.to_string(),
        field: "links",
        reason: reason.to_owned(),
    };
    let links = match page.get("links") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(links)) => links,
        Some(_) => return Err(shape("not an array")),
    };
    let Some(next) = links
        .iter()
        .find(|l| l.get("rel").and_then(Value::as_str) == Some("next"))
    else {
        return Ok(None);
    };
    match next.get("href").and_then(Value::as_str) {
        Some(href) => Ok(Some(href)),
        None => Err(shape("the next link has no href")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test address")
    }

    #[test]
    fn links_must_stay_under_the_peers_api() {
        let api = url("https://peer.example/api/");
        assert!(off_peer(&api, &url("https://peer.example/api/collections?limit=2")).is_none());
        assert!(off_peer(&api, &url("https://peer.example/api")).is_none());
        assert!(off_peer(&api, &url("http://peer.example/api/collections")).is_some());
        assert!(off_peer(&api, &url("https://peer.example:8443/api/collections")).is_some());
        assert!(off_peer(&api, &url("https://other.example/api/collections")).is_some());
        assert!(off_peer(&api, &url("https://peer.example/apix/collections")).is_some());
        assert!(off_peer(&api, &url("https://peer.example/admin")).is_some());
        assert!(off_peer(&api, &url("https://u:p@peer.example/api/collections")).is_some());
    }

    #[test]
    fn json_content_types_are_recognised() {
        assert!(is_json("application/json"));
        assert!(is_json("application/geo+json; charset=utf-8"));
        assert!(is_json("Application/JSON"));
        assert!(!is_json("text/html; charset=utf-8"));
        assert!(!is_json("text/json+html"));
    }

    #[test]
    fn trail_ends_loops_and_long_chains() {
        let mut trail = PageTrail::new(&url("http://p/api/a"), 3);
        trail.enter(&url("http://p/api/a")).expect("first page");
        assert!(matches!(
            trail.enter(&url("http://p/api/a")),
            Err(HarvestError::Loop { .. })
        ));
        assert!(matches!(
            trail.enter(&url("http://p/api/a?")),
            Err(HarvestError::Loop { .. })
        ));
        trail
            .enter(&url("http://p/api/b?y=1&x=%41"))
            .expect("second page");
        assert!(matches!(
            trail.enter(&url("http://p/api/b?x=A&y=1#f")),
            Err(HarvestError::Loop { .. })
        ));
        trail.enter(&url("http://p/api/c")).expect("third page");
        assert!(matches!(
            trail.enter(&url("http://p/api/d")),
            Err(HarvestError::TooManyPages { max_pages: 3, .. })
        ));
    }
}
