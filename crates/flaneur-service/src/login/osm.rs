//! Logins with OpenStreetMap's OAuth 2: the account is OpenStreetMap's user, as its API's
//! user details name it.

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope, TokenResponse,
    TokenUrl,
};
use serde::Deserialize;

use super::http::ProviderHttp;
use super::oidc::chain;
use super::{Identity, LoginError, LoginSettings};
use flaneur_store::LoginRequest;

/// How accounts logged in this way are stored.
pub(super) const PROVIDER: &str = "osm";

/// Reading the user's details is all the instance needs.
const DEFAULT_SCOPE: &str = "read_prefs";

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

pub(super) struct Osm {
    base_url: String,
    client: Client,
    scopes: Vec<Scope>,
    http: ProviderHttp,
}

/// What `/api/0.6/user/details.json` says, as far as it is read.
#[derive(Deserialize)]
struct Details {
    user: User,
}

#[derive(Deserialize)]
struct User {
    id: u64,
    display_name: String,
}

impl Osm {
    pub(super) fn new(
        base_url: &str,
        settings: &LoginSettings,
        http: ProviderHttp,
    ) -> Result<Osm, String> {
        let base_url = base_url.trim_end_matches('/').to_owned();
        let bad =
            |e: url::ParseError| format!("the OpenStreetMap address {base_url} is not one: {e}");
        let mut client = BasicClient::new(ClientId::new(settings.client_id.clone()))
            .set_auth_uri(AuthUrl::new(format!("{base_url}/oauth2/authorize")).map_err(bad)?)
            .set_token_uri(TokenUrl::new(format!("{base_url}/oauth2/token")).map_err(bad)?);
        if let Some(secret) = &settings.client_secret {
            client = client.set_client_secret(ClientSecret::new(secret.clone()));
        }
        let scope = settings.scope.as_deref().unwrap_or(DEFAULT_SCOPE);
        let scopes = scope
            .split_whitespace()
            .map(|s| Scope::new(s.to_owned()))
            .collect();
        Ok(Osm {
            base_url,
            client,
            scopes,
            http,
        })
    }

    pub(super) fn profile_url(&self) -> String {
        format!("{}/account/edit", self.base_url)
    }

    pub(super) fn authorize_url(
        &self,
        redirect_url: &str,
        state: &str,
        challenge: PkceCodeChallenge,
    ) -> Result<String, LoginError> {
        let state = state.to_owned();
        let (url, _) = self
            .client
            .clone()
            .set_redirect_uri(redirect(redirect_url)?)
            .authorize_url(move || CsrfToken::new(state))
            .add_scopes(self.scopes.iter().cloned())
            .set_pkce_challenge(challenge)
            .url();
        Ok(url.to_string())
    }

    pub(super) async fn identity(
        &self,
        request: &LoginRequest,
        code: &str,
    ) -> Result<Identity, LoginError> {
        let client = self
            .client
            .clone()
            .set_redirect_uri(redirect(&request.redirect_url)?);
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(request.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(answer) => {
                    LoginError::Refused(answer.to_string())
                }
                other => LoginError::Provider(chain(&other)),
            })?;

        // The token proves nothing by itself: the user is whoever the API says it belongs to.
        let url = format!("{}/api/0.6/user/details.json", self.base_url);
        let answer = self
            .http
            .client()
            .get(&url)
            .bearer_auth(token.access_token().secret())
            .send()
            .await
            .map_err(|e| LoginError::Provider(chain(&e)))?;
        if !answer.status().is_success() {
            return Err(LoginError::NotProven(format!(
                "user details answered {}",
                answer.status()
            )));
        }
        let details: Details = answer.json().await.map_err(|e| {
            LoginError::Provider(format!("user details not understood: {}", chain(&e)))
        })?;
        Ok(Identity {
            provider: PROVIDER,
            subject: details.user.id.to_string(),
            name: details.user.display_name,
            id_token: None,
        })
    }
}

fn redirect(url: &str) -> Result<RedirectUrl, LoginError> {
    RedirectUrl::new(url.to_owned())
        .map_err(|e| LoginError::Provider(format!("redirect address {url}: {e}")))
}
