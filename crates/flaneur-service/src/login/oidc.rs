//! Logins with an OpenID Connect provider (Keycloak, Authentik, Auth0...), found by discovery.

use std::str::FromStr;
use std::sync::Arc;

use oauth2::{
    EndpointMaybeSet, EndpointNotSet, EndpointSet, RequestTokenError, TokenResponse as _,
};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreUserInfoClaims};
use openidconnect::{
    AccessToken, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    IssuerUrl, LogoutRequest, Nonce, PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl,
    ProviderMetadataWithLogout, RedirectUrl, Scope, SubjectIdentifier, TokenResponse,
};
use tokio::sync::Mutex;
use tracing::debug;

use super::http::ProviderHttp;
use super::{Identity, LoginError, LoginSettings};
use flaneur_store::LoginRequest;

/// How accounts logged in this way are stored.
pub(super) const PROVIDER: &str = "oidc";

/// Scopes asked for when none are configured: the name and address shown as the account's.
const DEFAULT_SCOPE: &str = "openid profile email";

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

pub(super) struct Oidc {
    issuer: IssuerUrl,
    client_id: ClientId,
    client_secret: Option<ClientSecret>,
    scopes: Vec<Scope>,
    http: ProviderHttp,
    /// The discovery document and the provider's keys, once read.
    metadata: Mutex<Option<Arc<ProviderMetadataWithLogout>>>,
}

impl Oidc {
    pub(super) fn new(
        issuer_url: &str,
        settings: &LoginSettings,
        http: ProviderHttp,
    ) -> Result<Oidc, String> {
        let issuer = IssuerUrl::new(issuer_url.trim_end_matches('/').to_owned())
            .map_err(|e| format!("the OpenID Connect address {issuer_url} is not one: {e}"))?;
        let scope = settings.scope.as_deref().unwrap_or(DEFAULT_SCOPE);
        // `openid` is always asked for by the client itself.
        let scopes = scope
            .split_whitespace()
            .filter(|s| *s != "openid")
            .map(|s| Scope::new(s.to_owned()))
            .collect();
        Ok(Oidc {
            issuer,
            client_id: ClientId::new(settings.client_id.clone()),
            client_secret: settings.client_secret.clone().map(ClientSecret::new),
            scopes,
            http,
            metadata: Mutex::new(None),
        })
    }

    /// The discovery document and keys, read on first use and kept.
    pub(super) async fn metadata(&self) -> Result<Arc<ProviderMetadataWithLogout>, LoginError> {
        let mut known = self.metadata.lock().await;
        if let Some(metadata) = &*known {
            return Ok(metadata.clone());
        }
        let metadata = ProviderMetadataWithLogout::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|e| LoginError::Provider(chain(&e)))?;
        let metadata = Arc::new(metadata);
        *known = Some(metadata.clone());
        Ok(metadata)
    }

    /// Forgets the keys, so that the next login reads them again: the provider may have
    /// rotated them.
    async fn forget_metadata(&self) {
        *self.metadata.lock().await = None;
    }

    fn client(&self, metadata: &ProviderMetadataWithLogout) -> Client {
        CoreClient::from_provider_metadata(
            metadata.clone(),
            self.client_id.clone(),
            self.client_secret.clone(),
        )
    }

    pub(super) fn profile_url(&self) -> String {
        // Keycloak's account page; other providers' differ and may be configured.
        format!("{}/account/#/personal-info", self.issuer.as_str())
    }

    pub(super) async fn authorize_url(
        &self,
        redirect_url: &str,
        state: &str,
        nonce: &str,
        challenge: PkceCodeChallenge,
    ) -> Result<String, LoginError> {
        let metadata = self.metadata().await?;
        let client = self
            .client(&metadata)
            .set_redirect_uri(redirect(redirect_url)?);
        let (state, nonce) = (state.to_owned(), nonce.to_owned());
        let (url, _, _) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state),
                move || Nonce::new(nonce),
            )
            .add_scopes(self.scopes.iter().cloned())
            .set_pkce_challenge(challenge)
            .url();
        Ok(url.to_string())
    }

    /// Exchanges the code and checks the ID token: signature by a key of the provider,
    /// issuer, audience (this client), nonce of this login, and expiry.
    pub(super) async fn identity(
        &self,
        request: &LoginRequest,
        code: &str,
    ) -> Result<Identity, LoginError> {
        let metadata = self.metadata().await?;
        let client = self
            .client(&metadata)
            .set_redirect_uri(redirect(&request.redirect_url)?);
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| LoginError::Provider(format!("no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(request.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(answer) => {
                    LoginError::Refused(answer.to_string())
                }
                other => LoginError::Provider(chain(&other)),
            })?;
        let id_token = token
            .id_token()
            .ok_or_else(|| LoginError::NotProven("the provider sent no ID token".to_owned()))?;
        let verifier = client.id_token_verifier();
        let nonce = Nonce::new(request.nonce.clone());
        let claims = match id_token.claims(&verifier, &nonce) {
            Ok(claims) => claims,
            Err(err) => {
                if matches!(err, ClaimsVerificationError::SignatureVerification(_)) {
                    self.forget_metadata().await;
                }
                return Err(LoginError::NotProven(chain(&err)));
            }
        };

        // The name shown, in the order Panoramax instances choose it. Providers that keep
        // the profile out of the ID token give it from their userinfo endpoint.
        let subject = claims.subject().clone();
        let mut name = claims
            .preferred_username()
            .map(|u| u.as_str().to_owned())
            .or_else(|| {
                claims
                    .name()
                    .and_then(|n| n.get(None))
                    .map(|n| n.to_string())
            })
            .or_else(|| claims.email().map(|e| e.as_str().to_owned()))
            .or_else(|| {
                claims
                    .nickname()
                    .and_then(|n| n.get(None))
                    .map(|n| n.to_string())
            });
        if name.is_none() {
            name = self
                .userinfo_name(&client, token.access_token().clone(), &subject)
                .await;
        }
        Ok(Identity {
            provider: PROVIDER,
            subject: subject.to_string(),
            name: name.unwrap_or_else(|| subject.to_string()),
            id_token: Some(id_token.to_string()),
        })
    }

    /// The user's name as the userinfo endpoint gives it, if the provider has one and it
    /// answers for the subject of the ID token; `None` otherwise, the subject then naming the
    /// account.
    async fn userinfo_name(
        &self,
        client: &Client,
        access_token: AccessToken,
        subject: &SubjectIdentifier,
    ) -> Option<String> {
        let request = client.user_info(access_token, Some(subject.clone())).ok()?;
        let info: CoreUserInfoClaims = match request.request_async(&self.http).await {
            Ok(info) => info,
            Err(err) => {
                debug!(error = %chain(&err), "userinfo unread; the subject names the account");
                return None;
            }
        };
        info.preferred_username()
            .map(|u| u.as_str().to_owned())
            .or_else(|| info.name().and_then(|n| n.get(None)).map(|n| n.to_string()))
            .or_else(|| info.email().map(|e| e.as_str().to_owned()))
            .or_else(|| {
                info.nickname()
                    .and_then(|n| n.get(None))
                    .map(|n| n.to_string())
            })
    }

    /// The provider's address ending its session, if it has one.
    pub(super) async fn end_session_url(
        &self,
        id_token: Option<String>,
        post_logout_url: &str,
    ) -> Option<String> {
        let metadata = self.metadata().await.ok()?;
        let endpoint = metadata
            .additional_metadata()
            .end_session_endpoint
            .clone()?;
        let back = PostLogoutRedirectUrl::new(post_logout_url.to_owned()).ok()?;
        let mut request = LogoutRequest::from(endpoint)
            .set_post_logout_redirect_uri(back)
            .set_client_id(self.client_id.clone());
        if let Some(hint) = id_token.and_then(|t| CoreIdToken::from_str(&t).ok()) {
            request = request.set_id_token_hint(&hint);
        }
        Some(request.http_get_url().to_string())
    }
}

fn redirect(url: &str) -> Result<RedirectUrl, LoginError> {
    RedirectUrl::new(url.to_owned())
        .map_err(|e| LoginError::Provider(format!("redirect address {url}: {e}")))
}

/// An error and its sources, on one line.
pub(super) fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
