//! API tokens: generating one to claim (claiming it is `claim`'s), and an account's own
//! tokens (list, make, read, revoke). A token's value is shown only when it is made: only its
//! hash is kept.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use flaneur_model::{Token, TokenId};
use flaneur_service::account::IssuedToken;
use serde_json::{Value, json};

use crate::auth::LoggedIn;
use crate::params::{self, Params};
use crate::rate::LoginRate;
use crate::url::BaseUrl;
use crate::{ApiError, ApiResult, AppState, stac};

fn token_id(text: &str) -> Result<TokenId, ApiError> {
    params::path_id(
        text,
        "Token doesn't exist: it was revoked, or belongs to another account",
    )
}

/// A token's metadata, as listed.
fn token_json(base: &BaseUrl, token: &Token) -> Value {
    json!({
        "id": token.id,
        "description": token.description,
        "generated_at": token.generated_at,
        "last_used_at": token.last_used_at,
        "links": [stac::link(
            "self",
            Some("application/json"),
            base.api(&format!("/users/me/tokens/{}", token.id)),
            None,
        )],
    })
}

/// A token just made, with its value.
fn issued_json(base: &BaseUrl, issued: &IssuedToken) -> Value {
    let mut body = token_json(base, &issued.token);
    body["jwt_token"] = json!(issued.value);
    body
}

/// `POST /api/auth/tokens/generate?description=`: an unclaimed token, for a client to hand
/// its claim link to someone who logs in.
pub async fn generate(
    _: LoginRate,
    State(state): State<AppState>,
    base: BaseUrl,
    Query(params): Query<Params>,
) -> ApiResult<Json<Value>> {
    let description = params.get("description").map_or("", |d| d.as_str());
    let issued = state
        .services
        .accounts
        .issue_token(None, description)
        .await?;
    let mut body = issued_json(&base, &issued);
    body["links"] = json!([stac::link(
        "claim",
        Some("text/html"),
        base.api(&format!("/auth/tokens/{}/claim", issued.token.id)),
        None,
    )]);
    Ok(Json(body))
}

/// `GET /api/users/me/tokens`: the caller's tokens, without their values.
pub async fn list(
    State(state): State<AppState>,
    base: BaseUrl,
    LoggedIn(account): LoggedIn,
) -> ApiResult<Json<Value>> {
    let tokens = state.services.accounts.account_tokens(account.id).await?;
    let tokens: Vec<Value> = tokens.iter().map(|t| token_json(&base, t)).collect();
    Ok(Json(json!(tokens)))
}

/// `POST /api/users/me/tokens`: a new token of the caller, from `{"description": …}`.
pub async fn create(
    State(state): State<AppState>,
    base: BaseUrl,
    LoggedIn(account): LoggedIn,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let body = params::json_body(&headers, body, "The token's parameters should be JSON")?;
    let fields: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(format!("The token's parameters are not valid JSON: {e}"))
        })?
    };
    let description = match fields.get("description") {
        None | Some(Value::Null) => "",
        Some(Value::String(d)) => d.as_str(),
        Some(_) => {
            return Err(ApiError::bad_request(
                "description should be a string saying what the token is for",
            ));
        }
    };
    let issued = state
        .services
        .accounts
        .issue_token(Some(account.id), description)
        .await?;
    Ok(Json(issued_json(&base, &issued)))
}

/// `GET /api/users/me/tokens/{id}`: one of the caller's tokens, without its value.
pub async fn one(
    State(state): State<AppState>,
    base: BaseUrl,
    LoggedIn(account): LoggedIn,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let token = state
        .services
        .accounts
        .account_token(account.id, token_id(&id)?)
        .await?;
    Ok(Json(token_json(&base, &token)))
}

/// `DELETE /api/users/me/tokens/{id}`: revokes one of the caller's tokens, at once.
pub async fn revoke(
    State(state): State<AppState>,
    LoggedIn(account): LoggedIn,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = token_id(&id)?;
    state.services.accounts.revoke_token(account.id, id).await?;
    Ok(Json(json!({ "message": "token revoked" })))
}
