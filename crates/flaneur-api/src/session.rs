//! Browser sessions as a credential: the session cookie names the account of a request (see
//! `auth`, which reads it), and writes it authenticates must prove they come from the
//! instance's own pages.
//!
//! A cookie goes with every request the browser sends to the instance, whichever page sends
//! it, so a write carrying only the cookie could come from a form of another site. Such a
//! write must also carry either a same-origin `Origin` (or `Sec-Fetch-Site: same-origin`),
//! which only the instance's pages can send, or the session's CSRF value in `X-CSRF-Token`,
//! which only they can read. A form of the instance's pages, which cannot set headers, may
//! carry that value in a `csrf_token` field instead. Requests with a bearer token are not
//! concerned: no browser adds one on its own.

use axum::body::Body;
use axum::http::header::{CONTENT_TYPE, ORIGIN};
use axum::http::{HeaderMap, Method, StatusCode};
use flaneur_store::SessionRecord;

use crate::origin::{READS_BY_POST, authority};
use crate::{ApiError, AppState, cookie};

/// The session a request's cookie names, if it is open and its account exists.
///
/// # Errors
/// A 503 or 500 when the catalog cannot be read.
pub async fn from_cookie(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<SessionRecord>, ApiError> {
    let provider = &state.auth.provider;
    let (Some(login), Some(id)) = (provider, cookie::get(headers, cookie::SESSION)) else {
        return Ok(None);
    };
    Ok(login.session(id).await?)
}

/// Whether a request may change data.
pub fn is_write(method: &Method, path: &str) -> bool {
    !(matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
        || (*method == Method::POST && READS_BY_POST.contains(&path)))
}

/// Whether a write authenticated by `session` shows it comes from the instance's own pages.
pub fn is_from_own_pages(headers: &HeaderMap, session: &SessionRecord, own: &str) -> bool {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(origin) = text(ORIGIN.as_str()) {
        if origin != "null" && authority(origin) == authority(own) {
            return true;
        }
    } else if text("sec-fetch-site") == Some("same-origin") {
        return true;
    }
    text(cookie::CSRF_HEADER).is_some_and(|token| same_secret(token, &session.csrf_token))
}

/// The form field of [`is_proven_by_form`].
pub const CSRF_FIELD: &str = "csrf_token";

/// Largest form body read for its CSRF field: the forms of the instance's pages are a few
/// fields long.
const MAX_FORM_BYTES: usize = 16 << 10;

/// Whether a URL-encoded form body carries the session's CSRF value in [`CSRF_FIELD`]; gives
/// the body back whole for the handler. A body too long to be one of the instance's forms
/// proves nothing and is given back empty, since the request is refused.
pub async fn is_proven_by_form(
    headers: &HeaderMap,
    body: Body,
    session: &SessionRecord,
) -> (bool, Body) {
    let is_form = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return (false, body);
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
        return (false, Body::empty());
    };
    let is_proven = url::form_urlencoded::parse(&bytes)
        .any(|(key, value)| key == CSRF_FIELD && same_secret(&value, &session.csrf_token));
    (is_proven, Body::from(bytes))
}

/// Compares secrets in a time that does not depend on where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

/// The answer to a cookie write that shows no sign of coming from the instance's pages.
pub fn csrf_refused() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        format!(
            "This change is authenticated by a login cookie but does not show it comes from \
             this instance's pages: send the value of the {} cookie in an X-CSRF-Token header \
             or a {CSRF_FIELD} form field (pages of the instance read it), or use an API \
             token",
            cookie::CSRF
        ),
    )
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use chrono::Utc;
    use flaneur_model::{Account, AccountId, Role};

    use super::*;

    fn session() -> SessionRecord {
        SessionRecord {
            account: Account {
                id: AccountId::new(),
                name: "walker".to_owned(),
                role: Role::User,
                is_default: false,
                oauth: None,
                default_visibility: None,
                collaborative_metadata: None,
                tos_accepted_at: None,
                tos_latest_change_read_at: None,
                created_at: Utc::now(),
                origin: None,
            },
            csrf_token: "s3cret-value".to_owned(),
            id_token: None,
            expires_at: Utc::now(),
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn cookie_writes_need_the_own_origin_or_the_csrf_value() {
        let own = "http://127.0.0.1:5000";
        let ok = |pairs| is_from_own_pages(&headers(pairs), &session(), own);
        assert!(ok(&[("origin", "http://127.0.0.1:5000")]));
        assert!(ok(&[("sec-fetch-site", "same-origin")]));
        assert!(ok(&[("x-csrf-token", "s3cret-value")]));
        assert!(ok(&[("origin", "null"), ("x-csrf-token", "s3cret-value")]));
        assert!(!ok(&[]), "nothing but the cookie");
        assert!(!ok(&[("x-csrf-token", "s3cret-valuf")]));
        assert!(!ok(&[("x-csrf-token", "s3cret")]));
        assert!(!ok(&[("origin", "null")]));
        assert!(!ok(&[("origin", "http://evil.example")]));
        assert!(
            !ok(&[
                ("origin", "http://evil.example"),
                ("sec-fetch-site", "same-origin")
            ]),
            "Origin, when sent, decides"
        );
    }

    fn form(content_type: &'static str, body: &'static str) -> (HeaderMap, Body) {
        (headers(&[("content-type", content_type)]), Body::from(body))
    }

    #[tokio::test]
    async fn a_form_proves_its_page_by_its_csrf_field_and_keeps_its_body() {
        let form_type = "application/x-www-form-urlencoded";
        for (content_type, body, expected) in [
            (form_type, "csrf_token=s3cret-value", true),
            (form_type, "a=1&csrf_token=s3cret%2Dvalue&b=2", true),
            (form_type, "csrf_token=s3cret-valuf", false),
            (form_type, "csrf=s3cret-value", false),
            (form_type, "", false),
            ("application/json", "csrf_token=s3cret-value", false),
        ] {
            let (headers, sent) = form(content_type, body);
            let (is_proven, kept) = is_proven_by_form(&headers, sent, &session()).await;
            assert_eq!(is_proven, expected, "{content_type} {body}");
            let kept = axum::body::to_bytes(kept, usize::MAX).await.expect("body");
            assert_eq!(kept, body.as_bytes(), "the handler reads the same body");
        }
        let long = "x".repeat(MAX_FORM_BYTES) + "&csrf_token=s3cret-value";
        let (headers, _) = form(form_type, "");
        let (is_proven, _) = is_proven_by_form(&headers, Body::from(long), &session()).await;
        assert!(!is_proven, "a body longer than any form of the pages");
    }

    #[test]
    fn reads_are_not_writes() {
        assert!(!is_write(&Method::GET, "/api/users/me"));
        assert!(!is_write(&Method::POST, "/api/search"));
        assert!(is_write(&Method::POST, "/api/upload_sets"));
        assert!(is_write(&Method::DELETE, "/api/upload_sets/x"));
        assert!(is_write(&Method::PATCH, "/api/users/me"));
    }
}
