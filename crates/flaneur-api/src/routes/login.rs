//! `/api/auth/login`, `/redirect`, `/logout` and `/post_logout_redirect`: browser login with
//! the instance's login provider, the session cookies, and logout (through the provider when
//! it ends sessions of its own). Without a provider they answer 501, as on Panoramax
//! instances.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{AppendHeaders, IntoResponse, Response};
use axum::routing::on;
use flaneur_service::login::{LoggedIn, Login};
use percent_encoding::percent_decode_str;
use serde::Deserialize;
use serde_json::json;

use super::{AUTH, Route};
use crate::cookie;
use crate::rate::LoginRate;
use crate::stac::openapi::{JSON, Operation};
use crate::url::BaseUrl;
use crate::{ApiError, ApiResult, AppState};

/// How long a browser may take at the provider before the cookies of the step are dropped.
const STEP_COOKIE_SECS: u64 = 15 * 60;

/// The login routes of the table.
pub fn routes() -> Vec<Route> {
    use axum::http::Method as M;
    let next_url =
        |o: Operation, what: &'static str| o.query("next_url", what, json!({ "type": "string" }));
    vec![
        Route::new(
            M::GET,
            "/api/auth/login",
            |m| on(m, login),
            next_url(
                Operation::new(AUTH, "Log in from a browser").describe(
                    "Sends the browser to the instance's login provider (OpenID Connect \
                         or OpenStreetMap), which sends it back to `/api/auth/redirect`.",
                ),
                "The page of this instance to show once logged in (a path, or an address \
                 of this instance; others are ignored)",
            )
            .answer_empty(302, "To the provider's login page")
            .errors(&[429, 500, 501, 502]),
        ),
        Route::new(
            M::GET,
            "/api/auth/redirect",
            |m| on(m, redirect),
            Operation::new(AUTH, "Where the login provider sends the browser back")
                .describe(
                    "Checks the provider's answer against the login started in this \
                     browser, opens a session for the account (created on its first \
                     login) and sets the cookies `flaneur_session` (the session, out of \
                     reach of scripts), `flaneur_csrf` (to repeat in `X-CSRF-Token` when \
                     writing), `user_id`, `user_name` and `session` (a mark the \
                     Panoramax viewer reads).",
                )
                .query(
                    "code",
                    "The provider's authorization code",
                    json!({ "type": "string" }),
                )
                .query("state", "The login's state", json!({ "type": "string" }))
                .query(
                    "error",
                    "Why the provider refused",
                    json!({ "type": "string" }),
                )
                .query(
                    "error_description",
                    "The provider's explanation",
                    json!({ "type": "string" }),
                )
                .query("iss", "The provider's issuer", json!({ "type": "string" }))
                .query(
                    "session_state",
                    "The provider's session",
                    json!({ "type": "string" }),
                )
                .answer_empty(302, "Logged in: to the page asked for, or the home page")
                .errors(&[400, 401, 500, 501, 502]),
        ),
        Route::new(
            M::GET,
            "/api/auth/logout",
            |m| on(m, logout),
            next_url(
                Operation::new(AUTH, "Log out").describe(
                    "Ends the session and clears its cookies; with an OpenID Connect \
                         provider that ends sessions, sends the browser there too, which \
                         comes back to `/api/auth/post_logout_redirect`.",
                ),
                "The page of this instance to show once logged out",
            )
            .answer_empty(302, "To the provider, or to the page asked for")
            .answer(202, "Logged out", JSON, json!({ "type": "object" }))
            .errors(&[500, 501]),
        ),
        Route::new(
            M::GET,
            "/api/auth/post_logout_redirect",
            |m| on(m, post_logout_redirect),
            Operation::new(
                AUTH,
                "Where the login provider sends the browser after logout",
            )
            .query("state", "The logout's state", json!({ "type": "string" }))
            .answer_empty(302, "To the page asked for at logout")
            .answer(202, "Logged out", JSON, json!({ "type": "object" }))
            .errors(&[500, 501]),
        ),
    ]
}

/// The answer of every login route on an instance without a login provider.
fn not_activated() -> ApiError {
    ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "authentication is not activated on this instance",
    )
}

fn provider(state: &AppState) -> ApiResult<&Login> {
    state.auth.provider.as_ref().ok_or_else(not_activated)
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    next_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RedirectQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `next_url` as a path of this instance, or `None` for anything that could lead elsewhere:
/// after a login, the browser goes only where the instance's own pages are.
fn local_path(next_url: &str, base: &str) -> Option<String> {
    let next_url = next_url.trim();
    let path = match next_url.strip_prefix(base) {
        Some("") => "/",
        Some(rest) if rest.starts_with(['/', '?', '#']) => rest,
        Some(_) => return None,
        None => next_url,
    };
    // `//host` and `/\host` are addresses of other sites to browsers.
    let is_path = path.starts_with('/') && !path.starts_with("//") && !path.starts_with("/\\");
    let is_plain = path.chars().all(|c| !c.is_control() && c != '\\');
    if path.starts_with(['?', '#']) {
        return Some(format!("/{path}"));
    }
    (is_path && is_plain).then(|| path.to_owned())
}

fn found(location: &str, cookies: Vec<(axum::http::HeaderName, String)>) -> Response {
    (
        StatusCode::FOUND,
        [(LOCATION, location.to_owned())],
        AppendHeaders(cookies),
    )
        .into_response()
}

/// `GET /api/auth/login`.
async fn login(
    _: LoginRate,
    State(state): State<AppState>,
    base: BaseUrl,
    Query(query): Query<NextQuery>,
) -> ApiResult<Response> {
    let login = provider(&state)?;
    let next_url = query
        .next_url
        .as_deref()
        .and_then(|n| local_path(n, &base.0));
    let start = login.begin(&base.api("/auth/redirect"), next_url).await?;
    let bound = cookie::set(
        cookie::LOGIN_STATE,
        &start.state,
        STEP_COOKIE_SECS,
        cookie::options(&state, &base, true, true),
    );
    Ok(found(&start.authorize_url, vec![(SET_COOKIE, bound)]))
}

/// `GET /api/auth/redirect`.
async fn redirect(
    State(state): State<AppState>,
    base: BaseUrl,
    headers: HeaderMap,
    Query(query): Query<RedirectQuery>,
) -> ApiResult<Response> {
    let login = provider(&state)?;
    if let Some(error) = query.error {
        let why = query
            .error_description
            .map(|d| format!("{error}: {d}"))
            .unwrap_or(error);
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            format!(
                "The login provider did not log you in ({why}); start again from \
                 /api/auth/login"
            ),
        ));
    }
    let (Some(code), Some(answered)) = (query.code, query.state) else {
        return Err(ApiError::bad_request(
            "This address is where the login provider sends browsers back, with `code` and \
             `state`; start a login from /api/auth/login",
        ));
    };
    // The answer must come to the browser that started the login: otherwise someone could
    // log a victim's browser into their own account by sending them their answer's link.
    let started = cookie::get(&headers, cookie::LOGIN_STATE);
    if started != Some(answered.as_str()) {
        return Err(ApiError::bad_request(
            "This login answer does not belong to a login started in this browser (or the \
             login took too long); start again from /api/auth/login",
        ));
    }

    let logged_in = login.finish(&answered, &code).await?;
    // A session this browser held before is replaced, not left open beside the new one.
    if let Some(previous) = cookie::get(&headers, cookie::SESSION) {
        login.end_session(previous).await?;
    }
    let mut next = logged_in.next_url.clone().unwrap_or_else(|| "/".to_owned());
    let account = state.services.catalog.account(logged_in.account_id).await;
    if let Some(account) = account.map_err(flaneur_service::Error::from)? {
        next = crate::auth::after_login(&state, &base, &account, next);
    }
    Ok(found(&next, session_cookies(&state, &base, &logged_in)))
}

/// The cookies of a new session, and the login step's removed.
fn session_cookies(
    state: &AppState,
    base: &BaseUrl,
    logged_in: &LoggedIn,
) -> Vec<(axum::http::HeaderName, String)> {
    let ttl = logged_in.ttl.as_secs();
    let site = cookie::options(state, base, true, false);
    let readable = cookie::options(state, base, false, false);
    let id = logged_in.account_id.to_string();
    vec![
        (
            SET_COOKIE,
            cookie::set(cookie::SESSION, &logged_in.session_id, ttl, site),
        ),
        (
            SET_COOKIE,
            cookie::set(cookie::CSRF, &logged_in.csrf_token, ttl, readable),
        ),
        (SET_COOKIE, cookie::set(cookie::USER_ID, &id, ttl, readable)),
        (
            SET_COOKIE,
            cookie::set(cookie::USER_NAME, &logged_in.account_name, ttl, readable),
        ),
        (
            SET_COOKIE,
            cookie::set(
                cookie::VIEWER_MARK,
                cookie::VIEWER_MARK_VALUE,
                ttl,
                readable,
            ),
        ),
        (
            SET_COOKIE,
            cookie::clear(
                cookie::LOGIN_STATE,
                cookie::options(state, base, true, true),
            ),
        ),
    ]
}

/// `GET /api/auth/logout`.
async fn logout(
    State(state): State<AppState>,
    base: BaseUrl,
    headers: HeaderMap,
    Query(query): Query<NextQuery>,
) -> ApiResult<Response> {
    let login = provider(&state)?;
    let next_url = query
        .next_url
        .as_deref()
        .and_then(|n| local_path(n, &base.0));
    let session = cookie::get(&headers, cookie::SESSION);
    let back = base.api("/auth/post_logout_redirect");
    let at_provider = login.logout(session, &back).await?;
    let mut cookies = cookie::cleared(&state, &base);
    let Some(at_provider) = at_provider else {
        return Ok(logged_out(next_url, cookies));
    };
    if let Some(next_url) = next_url {
        let step = cookie::options(&state, &base, true, true);
        cookies.push((
            SET_COOKIE,
            cookie::set(cookie::LOGOUT_NEXT, &next_url, STEP_COOKIE_SECS, step),
        ));
    }
    Ok(found(&at_provider, cookies))
}

/// `GET /api/auth/post_logout_redirect`.
async fn post_logout_redirect(
    State(state): State<AppState>,
    base: BaseUrl,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let login = provider(&state)?;
    // A session opened again meanwhile ends too: the user asked to be logged out.
    if let Some(session) = cookie::get(&headers, cookie::SESSION) {
        login.end_session(session).await?;
    }
    let next_url = cookie::get(&headers, cookie::LOGOUT_NEXT)
        .map(|v| percent_decode_str(v).decode_utf8_lossy().into_owned())
        .and_then(|n| local_path(&n, &base.0));
    let mut cookies = cookie::cleared(&state, &base);
    cookies.push((
        SET_COOKIE,
        cookie::clear(
            cookie::LOGOUT_NEXT,
            cookie::options(&state, &base, true, true),
        ),
    ));
    Ok(logged_out(next_url, cookies))
}

fn logged_out(
    next_url: Option<String>,
    cookies: Vec<(axum::http::HeaderName, String)>,
) -> Response {
    match next_url {
        Some(next_url) => found(&next_url, cookies),
        None => (
            StatusCode::ACCEPTED,
            AppendHeaders(cookies),
            Json(json!({ "message": "Logged out", "status_code": 202 })),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_url_stays_on_the_instance() {
        let base = "http://127.0.0.1:5000";
        let path = |n| local_path(n, base);
        assert_eq!(path("/sequences").as_deref(), Some("/sequences"));
        assert_eq!(path("/upload?x=1#y").as_deref(), Some("/upload?x=1#y"));
        assert_eq!(
            path("http://127.0.0.1:5000/upload").as_deref(),
            Some("/upload")
        );
        assert_eq!(path("http://127.0.0.1:5000").as_deref(), Some("/"));
        assert_eq!(path("http://127.0.0.1:5000?a").as_deref(), Some("/?a"));
        assert_eq!(path("http://127.0.0.1:5000.evil.example/"), None);
        assert_eq!(path("http://127.0.0.1:5000@evil.example/"), None);
        assert_eq!(path("https://evil.example/"), None);
        assert_eq!(path("//evil.example/"), None);
        assert_eq!(path("/\\evil.example/"), None);
        assert_eq!(path("/\tx"), None);
        assert_eq!(path("javascript:alert(1)"), None);
        assert_eq!(path("evil.example"), None);
    }
}
