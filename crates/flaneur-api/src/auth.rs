//! Who calls the API: the one middleware reading a request's credentials ([`resolve_caller`]),
//! and the extractors of handlers that need a logged account ([`LoggedIn`]) or act for an
//! uploader ([`Uploader`]).
//!
//! Credentials come from one place, [`caller`]: the session cookie of a browser logged in
//! through the login provider (see `session` for its CSRF rule), else an
//! `Authorization: Bearer` API token. The session wins when both are sent, as on Panoramax
//! instances. A refused token is an error whatever the route, so that a client with a revoked
//! or mistyped token hears it at once instead of being served as anonymous; a session cookie
//! that opens no session (ended, expired) is only ignored, since browsers keep sending it. The
//! account found is put in the request's extensions twice: as a [`Viewer`] for reads
//! ([`crate::ReadAs`]) and as a [`Caller`] for the handlers that act for it.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{ACCEPT, AUTHORIZATION, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use flaneur_model::{Account, AccountId, Viewer, Visibility};
use flaneur_service::account::AuthFailure;
use flaneur_store::SessionRecord;

use crate::url::BaseUrl;
use crate::{ApiError, AppState, cookie, session};

/// How the instance knows its callers.
#[derive(Debug, Clone, Default)]
pub struct AuthSettings {
    /// The login provider's description, when browsers can log in; `None` leaves API tokens
    /// as the only credentials, made by `flaneur account token`.
    pub login: Option<LoginSettings>,
    /// Whether uploads need a logged account; otherwise anonymous ones go to the default
    /// account.
    pub force_auth_on_upload: bool,
    /// Whether an account must accept the terms of service before uploading; logins then
    /// lead to the front-end's page asking it first.
    pub enforce_tos_acceptance: bool,
    /// Address of a web front-end of its own showing the page a browser goes to once it
    /// claimed a token (`{website_url}/token-accepted`); without it, the instance's front-end
    /// page, or the claim's own page when the front-end has none.
    pub website_url: Option<String>,
    /// The login service, set with `login`.
    pub provider: Option<flaneur_service::login::Login>,
    /// Whether login cookies are sent over HTTPS only; `None`: when the request came over
    /// HTTPS.
    pub cookie_secure: Option<bool>,
    /// How often each client may start a login or generate a token; no limit by default.
    pub login_rate: Arc<crate::RateLimit>,
}

/// What clients are told about browser login, in `/api/configuration`.
#[derive(Debug, Clone, Default)]
pub struct LoginSettings {
    /// Where an account edits its profile at the provider.
    pub profile_url: Option<String>,
    /// Whether the terms of service must be accepted before uploading.
    pub enforce_tos_acceptance: bool,
    /// Whether anyone may make an account at the provider.
    pub registration_is_open: bool,
}

/// The account a request acts for, put in its extensions by [`resolve_caller`].
#[derive(Debug, Clone)]
pub struct Caller(pub Arc<Account>);

/// Reads the request's credentials and names its account in the extensions; answers the
/// error when credentials are given but refused, or when a write authenticated by the session
/// cookie does not come from the instance's pages.
pub async fn resolve_caller(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, mut body) = request.into_parts();
    // A session cookie that opens no session (ended elsewhere, account deleted) is removed,
    // with the cookies telling pages who is logged in.
    let has_cookie =
        state.auth.provider.is_some() && cookie::get(&parts.headers, cookie::SESSION).is_some();
    let is_stale = match caller(&state, &parts.headers).await {
        Ok(None) => has_cookie,
        Ok(Some((account, session))) => {
            let is_stale = has_cookie && session.is_none();
            if let Some(session) = &session
                && session::is_write(&parts.method, parts.uri.path())
            {
                let own = match BaseUrl::from_request_parts(&mut parts, &state).await {
                    Ok(base) => base.0,
                    Err(never) => match never {},
                };
                if !session::is_from_own_pages(&parts.headers, session, &own) {
                    let (is_proven, kept) =
                        session::is_proven_by_form(&parts.headers, body, session).await;
                    if !is_proven {
                        return session::csrf_refused().into_response();
                    }
                    body = kept;
                }
            }
            parts.extensions.insert::<Viewer>(account.viewer());
            parts.extensions.insert(Caller(Arc::new(account)));
            if let Some(session) = session {
                parts.extensions.insert(session);
            }
            is_stale
        }
        Err(err) => return err.into_response(),
    };
    let base = match BaseUrl::from_request_parts(&mut parts, &state).await {
        Ok(base) => base,
        Err(never) => match never {},
    };
    let mut response = next.run(Request::from_parts(parts, body)).await;
    // A login answered now sets a session of its own, which must not be removed.
    let sets_session = response.headers().get_all(SET_COOKIE).iter().any(|v| {
        v.as_bytes()
            .starts_with(format!("{}=", cookie::SESSION).as_bytes())
    });
    if is_stale && !sets_session {
        for (name, value) in cookie::cleared(&state, &base) {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().append(name, value);
            }
        }
    }
    response
}

/// The account behind a request's credentials, with its session when the session cookie
/// named it; `None` when it carries none.
///
/// # Errors
/// The answer to give when credentials are there but act for nobody.
async fn caller(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(Account, Option<SessionRecord>)>, ApiError> {
    if let Some(session) = session::from_cookie(state, headers).await? {
        return Ok(Some((session.account.clone(), Some(session))));
    }
    let Some(header) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = header
        .to_str()
        .ok()
        .and_then(|v| {
            let (scheme, value) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| value.trim())
        })
        .filter(|v| !v.is_empty())
        .ok_or(flaneur_service::Error::Auth(AuthFailure::NotBearer))?;
    let account = state.services.accounts.authenticate_bearer(value).await?;
    Ok(Some((account, None)))
}

/// A logged account, for routes that need one. An anonymous request is answered 401 JSON, or,
/// from a browser asking for a page when a login provider is configured, redirected to the
/// login with a way back.
#[derive(Debug, Clone)]
pub struct LoggedIn(pub Arc<Account>);

impl FromRequestParts<AppState> for LoggedIn {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(Caller(account)) = parts.extensions.get::<Caller>() {
            return Ok(LoggedIn(account.clone()));
        }
        if state.auth.login.is_some() && parts.method == Method::GET && accepts_html(&parts.headers)
        {
            let base = BaseUrl::from_request_parts(parts, state)
                .await
                .map_err(IntoResponse::into_response)?;
            let here = format!("{}{}", base.0, parts.uri);
            let login = base.api(&format!("/auth/login?next_url={}", encode(&here)));
            return Err((StatusCode::FOUND, [(LOCATION, login)]).into_response());
        }
        Err(login_required(state).into_response())
    }
}

/// The 401 of an anonymous request to a route needing an account.
pub fn login_required(state: &AppState) -> ApiError {
    let how = if state.auth.login.is_some() {
        "log in, or send an API token as `Authorization: Bearer <token>`"
    } else {
        "send an API token as `Authorization: Bearer <token>` (the instance's operators make \
         one with `flaneur account token`)"
    };
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        format!("Authentication is mandatory: {how}"),
    )
}

/// Who an upload acts for: the caller's account, or for an anonymous request the default
/// account, unless the instance wants uploads authenticated.
#[derive(Debug, Clone)]
pub struct Uploader {
    /// The account uploads are made for.
    pub account_id: AccountId,
    /// Whether it may act on other accounts' upload sets (administrators).
    pub is_admin: bool,
    /// Visibility of its new upload sets when they do not say.
    pub default_visibility: Option<Visibility>,
}

impl Uploader {
    /// Refuses to act on an upload set of `owner` unless the uploader owns it or administers
    /// the instance.
    ///
    /// # Errors
    /// A 403 saying whose credentials to send.
    pub fn check_owns(&self, owner: AccountId) -> Result<(), ApiError> {
        if self.is_admin || self.account_id == owner {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "You're not authorized to change this upload set: it belongs to another account; \
             send a token of its owner",
        ))
    }
}

impl FromRequestParts<AppState> for Uploader {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(Caller(account)) = parts.extensions.get::<Caller>() {
            if state.auth.enforce_tos_acceptance && account.tos_accepted_at.is_none() {
                let base = match BaseUrl::from_request_parts(parts, state).await {
                    Ok(base) => base,
                    Err(never) => match never {},
                };
                let page = tos_validation_page(state, &base);
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    format!(
                        "You must accept the terms of service of this instance before \
                         uploading: read and accept them at {page}, or POST \
                         /api/users/me/accept_tos"
                    ),
                )
                .with("details", serde_json::json!({ "validation_page": page })));
            }
            return Ok(Uploader {
                account_id: account.id,
                is_admin: account.is_admin(),
                default_visibility: account.default_visibility,
            });
        }
        if state.auth.force_auth_on_upload {
            return Err(login_required(state));
        }
        // Anonymous uploads are the default account's, without its administration rights:
        // nobody acts on others' upload sets without their token.
        let (account_id, _) = state
            .services
            .catalog
            .default_account()
            .await
            .map_err(flaneur_service::Error::from)?;
        Ok(Uploader {
            account_id,
            is_admin: false,
            default_visibility: None,
        })
    }
}

/// The front-end's page asking an account to accept the terms of service: under the
/// configured website, else this instance's own pages.
pub fn tos_validation_page(state: &AppState, base: &BaseUrl) -> String {
    match &state.auth.website_url {
        Some(website) => format!("{}/tos-validation", website.trim_end_matches('/')),
        None => format!("{}/tos-validation.html", base.0),
    }
}

/// Where a login leads an account: first to the terms of service when the instance enforces
/// them and the account has not accepted them, with `next` as the way on.
pub fn after_login(state: &AppState, base: &BaseUrl, account: &Account, next: String) -> String {
    if !state.auth.enforce_tos_acceptance || account.tos_accepted_at.is_some() {
        return next;
    }
    format!(
        "{}?next_url={}",
        tos_validation_page(state, base),
        encode(&next)
    )
}

/// Whether a browser asks for a web page.
pub(crate) fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/html"))
}

/// Percent-encodes a URL to carry it in a query parameter.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(byte));
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_carried_whole_in_a_parameter() {
        assert_eq!(
            encode("http://h/api/users/me?a=1&b=é"),
            "http%3A%2F%2Fh%2Fapi%2Fusers%2Fme%3Fa%3D1%26b%3D%C3%A9"
        );
    }

    #[test]
    fn only_the_uploader_or_an_administrator_acts_on_an_upload_set() {
        let owner = AccountId::new();
        let own = Uploader {
            account_id: owner,
            is_admin: false,
            default_visibility: None,
        };
        let other = Uploader {
            account_id: AccountId::new(),
            ..own.clone()
        };
        let admin = Uploader {
            is_admin: true,
            ..other.clone()
        };
        assert!(own.check_owns(owner).is_ok());
        assert!(admin.check_owns(owner).is_ok());
        assert!(other.check_owns(owner).is_err());
    }
}
