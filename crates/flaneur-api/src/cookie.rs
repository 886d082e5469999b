//! The cookies of browser logins: reading them from requests and writing `Set-Cookie`.
//!
//! The session cookie is `HttpOnly`, so that scripts (an injected one included) never see it;
//! `user_id`, `user_name` and a `session` mark are readable, for the web pages and the
//! Panoramax viewer to show who is logged in, as on Panoramax instances; the CSRF cookie is
//! readable too, since pages repeat its value in the `X-CSRF-Token` header of their writes.
//! All are `SameSite=Lax`: sent when a link of another site is followed (the provider sending
//! the browser back), never with another site's writes.

use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderName};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::AppState;
use crate::url::BaseUrl;

/// The session: its value is a 256-bit secret.
pub const SESSION: &str = "flaneur_session";
/// The value writes authenticated by the session must repeat in [`CSRF_HEADER`].
pub const CSRF: &str = "flaneur_csrf";
/// The header repeating [`CSRF`].
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The `state` of a login in progress, binding the provider's answer to this browser.
pub const LOGIN_STATE: &str = "flaneur_login_state";
/// The page to show after a logout through the provider.
pub const LOGOUT_NEXT: &str = "flaneur_logout_next";
/// The logged-in account's id, for web pages.
pub const USER_ID: &str = "user_id";
/// The logged-in account's name, percent-encoded, for web pages.
pub const USER_NAME: &str = "user_name";
/// A readable mark that a session is open, under the name the Panoramax web viewer looks for:
/// it offers what needs an account (editing tags, reporting in the account's name) only when
/// it can read a `session` cookie beside [`USER_ID`] and [`USER_NAME`]. Its value says
/// nothing; the session itself stays in the unreadable [`SESSION`].
pub const VIEWER_MARK: &str = "session";
/// The value of [`VIEWER_MARK`].
pub const VIEWER_MARK_VALUE: &str = "open";

/// Where the cookies of the login steps are sent: only to the login routes.
const AUTH_PATH: &str = "/api/auth";

/// Characters kept as they are in a cookie value: those of RFC 6265's `cookie-octet` that
/// `encodeURIComponent` keeps too, so that pages decode it with `decodeURIComponent`.
const COOKIE_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// The value of the cookie `name` of a request, the first when several have the name.
pub fn get<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
        .filter(|value| !value.is_empty())
}

/// How a cookie is sent.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Sent over HTTPS only.
    pub secure: bool,
    /// Out of reach of scripts.
    pub http_only: bool,
    /// Sent to the login routes only, rather than to the whole site.
    pub auth_only: bool,
}

/// A `Set-Cookie` value setting `name` for `max_age_secs`; the value is percent-encoded.
pub fn set(name: &str, value: &str, max_age_secs: u64, options: Options) -> String {
    let value = utf8_percent_encode(value, COOKIE_VALUE);
    let path = if options.auth_only { AUTH_PATH } else { "/" };
    let mut cookie = format!("{name}={value}; Path={path}; Max-Age={max_age_secs}; SameSite=Lax");
    if options.http_only {
        cookie.push_str("; HttpOnly");
    }
    if options.secure {
        cookie.push_str("; Secure");
    }
    cookie
}

/// A `Set-Cookie` value removing `name`.
pub fn clear(name: &str, options: Options) -> String {
    set(name, "", 0, options)
}

/// How the instance's cookies are sent to a client reaching it at `base`.
pub fn options(state: &AppState, base: &BaseUrl, http_only: bool, auth_only: bool) -> Options {
    Options {
        secure: state
            .auth
            .cookie_secure
            .unwrap_or_else(|| base.0.starts_with("https://")),
        http_only,
        auth_only,
    }
}

/// The `Set-Cookie` headers removing a session's cookies.
pub fn cleared(state: &AppState, base: &BaseUrl) -> Vec<(HeaderName, String)> {
    let site = options(state, base, true, false);
    let readable = options(state, base, false, false);
    vec![
        (SET_COOKIE, clear(SESSION, site)),
        (SET_COOKIE, clear(CSRF, readable)),
        (SET_COOKIE, clear(USER_ID, readable)),
        (SET_COOKIE, clear(USER_NAME, readable)),
        (SET_COOKIE, clear(VIEWER_MARK, readable)),
    ]
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn reads_a_cookie_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            HeaderValue::from_static("a=1; flaneur_session=abc ; b=2"),
        );
        headers.append(COOKIE, HeaderValue::from_static("user_id=\"u\""));
        assert_eq!(get(&headers, SESSION), Some("abc"));
        assert_eq!(get(&headers, USER_ID), Some("u"));
        assert_eq!(get(&headers, "flaneur"), None);
        assert_eq!(get(&headers, "c"), None);
    }

    #[test]
    fn writes_values_that_cannot_break_out_of_the_cookie() {
        let options = Options {
            secure: true,
            http_only: false,
            auth_only: false,
        };
        assert_eq!(
            set(USER_NAME, "Zoé; Path=/x", 60, options),
            "user_name=Zo%C3%A9%3B%20Path%3D%2Fx; Path=/; Max-Age=60; SameSite=Lax; Secure"
        );
        let login = Options {
            secure: false,
            http_only: true,
            auth_only: true,
        };
        assert_eq!(
            clear(LOGIN_STATE, login),
            "flaneur_login_state=; Path=/api/auth; Max-Age=0; SameSite=Lax; HttpOnly"
        );
    }
}
