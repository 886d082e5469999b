//! The caller's own account: its profile and preferences, and its sequences.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use flaneur_model::{Account, AccountPreferences, Visibility};
use flaneur_store::SessionRecord;
use serde_json::{Map, Value, json};

use crate::auth::LoggedIn;
use crate::url::BaseUrl;
use crate::{ApiError, ApiResult, AppState, params, stac};

/// The caller's profile, as Panoramax clients read it.
async fn profile(state: &AppState, base: &BaseUrl, account: &Account) -> ApiResult<Value> {
    let has_read_terms = state.services.has_read_latest_terms(account).await?;
    let link = |rel: &str, path: &str| {
        stac::link(
            rel,
            Some("application/json"),
            base.api(&format!("/users/{}{path}", account.id)),
            None,
        )
    };
    let is_admin = account.is_admin();
    let mut body = json!({
        "id": account.id,
        "name": account.name,
        "links": [link("catalog", "/catalog"), link("collection", "/collection"), link("self", "")],
        "permissions": {
            "role": account.role,
            "can_check_reports": is_admin,
            "can_edit_excluded_areas": is_admin,
            "can_edit_pages": is_admin,
        },
        "default_visibility": account.default_visibility,
        "collaborative_metadata": account.collaborative_metadata,
        "tos_accepted": account.tos_accepted_at.is_some(),
        "tos_accepted_at": account.tos_accepted_at,
        "tos_latest_change_read": has_read_terms,
    });
    if let Some(oauth) = &account.oauth {
        // Identities are kept under their provider's address; clients are told its kind, as
        // on Panoramax instances.
        let provider = state
            .auth
            .provider
            .as_ref()
            .filter(|login| login.identity_key() == oauth.provider)
            .map_or(oauth.provider.as_str(), |login| login.provider_name());
        body["oauth_provider"] = json!(provider);
        body["oauth_id"] = json!(oauth.id);
    }
    Ok(body)
}

/// `GET /api/users/me`; with the CSRF value of the session when the session cookie logged the
/// caller in, for pages to repeat in `X-CSRF-Token` when they write.
pub async fn get(
    State(state): State<AppState>,
    base: BaseUrl,
    LoggedIn(account): LoggedIn,
    session: Option<Extension<SessionRecord>>,
) -> ApiResult<Json<Value>> {
    let mut body = profile(&state, &base, &account).await?;
    if let Some(Extension(session)) = session {
        body["csrf_token"] = json!(session.csrf_token);
    }
    Ok(Json(body))
}

/// `POST /api/users/me/accept_tos`: the caller accepts the terms of service (and so reads
/// their latest change); answers its profile.
pub async fn accept_tos(
    State(state): State<AppState>,
    base: BaseUrl,
    LoggedIn(account): LoggedIn,
) -> ApiResult<Json<Value>> {
    let updated = state.services.accept_terms(&account).await?;
    Ok(Json(profile(&state, &base, &updated).await?))
}

/// `POST /api/users/me/tos_read`: the caller read the latest change of the terms of service;
/// answers its profile.
pub async fn tos_read(
    State(state): State<AppState>,
    base: BaseUrl,
    LoggedIn(account): LoggedIn,
) -> ApiResult<Json<Value>> {
    let updated = state.services.mark_terms_read(&account).await?;
    Ok(Json(profile(&state, &base, &updated).await?))
}

/// `PATCH /api/users/me`: `collaborative_metadata` (a boolean, or null for the instance's
/// choice) and `default_visibility` (a visibility, or null for the instance's default).
pub async fn patch(
    State(state): State<AppState>,
    base: BaseUrl,
    LoggedIn(account): LoggedIn,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let body = params::json_body(&headers, body, "The account's settings should be JSON")?;
    let fields: Map<String, Value> = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!("The account's settings are not a JSON object: {e}"))
    })?;
    let prefs = preferences(&fields)?;
    if let Some(visibility) = prefs.default_visibility {
        state.services.check_visibility(visibility)?;
    }
    let updated = state
        .services
        .accounts
        .update_preferences(account.id, &prefs)
        .await?;
    Ok(Json(profile(&state, &base, &updated).await?))
}

/// The preferences a PATCH body changes; unknown keys are refused so that a typo is not lost.
fn preferences(fields: &Map<String, Value>) -> Result<AccountPreferences, ApiError> {
    let mut prefs = AccountPreferences::default();
    for (key, value) in fields {
        match (key.as_str(), value) {
            ("collaborative_metadata", Value::Null) => prefs.collaborative_metadata = Some(None),
            ("collaborative_metadata", Value::Bool(b)) => {
                prefs.collaborative_metadata = Some(Some(*b));
            }
            ("collaborative_metadata", _) => {
                return Err(ApiError::bad_request(
                    "collaborative_metadata should be true, false or null",
                ));
            }
            ("default_visibility", Value::Null) => prefs.default_visibility = Some(None),
            ("default_visibility", Value::String(v)) => {
                let visibility: Visibility = v.parse().map_err(|_| {
                    ApiError::bad_request(
                        "default_visibility should be 'anyone', 'logged-only', 'owner-only' \
                         or null",
                    )
                })?;
                prefs.default_visibility = Some(Some(visibility));
            }
            ("default_visibility", _) => {
                return Err(ApiError::bad_request(
                    "default_visibility should be 'anyone', 'logged-only', 'owner-only' or null",
                ));
            }
            (other, _) => {
                return Err(ApiError::bad_request(format!(
                    "Unknown setting '{other}': only collaborative_metadata and \
                     default_visibility can be changed"
                )));
            }
        }
    }
    Ok(prefs)
}

/// `GET /api/users/me/collection`: a 302 to the caller's own collection, query kept.
pub async fn collection(base: BaseUrl, LoggedIn(account): LoggedIn, uri: Uri) -> Response {
    to_own(&base, &account, "collection", &uri)
}

/// `GET /api/users/me/catalog`: a 302 to the caller's own catalog, query kept.
pub async fn catalog(base: BaseUrl, LoggedIn(account): LoggedIn, uri: Uri) -> Response {
    to_own(&base, &account, "catalog", &uri)
}

fn to_own(base: &BaseUrl, account: &Account, what: &str, uri: &Uri) -> Response {
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    let target = base.api(&format!("/users/{}/{what}{query}", account.id));
    (StatusCode::FOUND, [(LOCATION, target)]).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_read_and_bad_ones_named() {
        let fields = |v: Value| v.as_object().cloned().unwrap_or_default();
        let prefs = preferences(&fields(json!({
            "collaborative_metadata": false, "default_visibility": null
        })))
        .expect("valid");
        assert_eq!(prefs.collaborative_metadata, Some(Some(false)));
        assert_eq!(prefs.default_visibility, Some(None));
        assert_eq!(prefs.tos_accepted_at, None);
        for bad in [
            json!({ "collaborative_metadata": "yes" }),
            json!({ "default_visibility": "everyone" }),
            json!({ "name": "x" }),
        ] {
            assert!(preferences(&fields(bad.clone())).is_err(), "{bad}");
        }
    }
}
