//! Browser logins: the authorization code flow with a login provider (any OpenID Connect
//! provider, or OpenStreetMap's OAuth 2), the accounts it creates, and the sessions it opens.
//!
//! A login goes in two steps. [`Login::begin`] keeps a request (PKCE verifier, nonce, the page
//! to come back to) under the hash of a random `state` and gives the provider's address to
//! send the browser to. [`Login::finish`] takes that request back (each is answered once),
//! exchanges the code, proves who came back (an ID token's signature, issuer, audience, nonce
//! and expiry; or OpenStreetMap's user details), finds or creates the account and opens a
//! session. Sessions live in the catalog under the hash of the cookie's value, so that any
//! process of the instance reads them and a logout or a deleted account ends them at once.
//! Cookies, redirects and CSRF checks are the API's business.

mod http;
mod oidc;
mod osm;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use flaneur_model::{AccountId, OauthIdentity};
use flaneur_store::{Catalog, LoginRequest, NewSession, SessionRecord};
use oauth2::{CsrfToken, PkceCodeChallenge};
use sha2::{Digest, Sha256};
use tracing::{info, warn};

pub use http::HttpError;
use http::ProviderHttp;

/// How long a browser may stay at the provider's login page before its request is forgotten.
const LOGIN_REQUEST_TTL: Duration = Duration::from_secs(15 * 60);

/// How many logins may be in progress at once by default: the oldest are forgotten beyond it.
pub const MAX_PENDING_LOGINS: u64 = 10_000;

/// The provider accounts log in with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderSettings {
    /// Any OpenID Connect provider, found by discovery from its issuer address.
    Oidc {
        /// The issuer, such as `https://keycloak.example.org/realms/panoramax`.
        issuer_url: String,
    },
    /// OpenStreetMap's OAuth 2, or a server speaking the same API.
    Osm {
        /// The site, `https://www.openstreetmap.org` unless told otherwise.
        base_url: String,
    },
}

/// How the instance logs browsers in.
#[derive(Debug, Clone)]
pub struct LoginSettings {
    /// Who proves identities.
    pub provider: ProviderSettings,
    /// The instance's client id at the provider.
    pub client_id: String,
    /// The instance's client secret at the provider (public clients have none).
    pub client_secret: Option<String>,
    /// Scopes asked for, space-separated; each provider's default when `None`.
    pub scope: Option<String>,
    /// How long a session lasts.
    pub session_ttl: Duration,
    /// How many logins may be in progress at once: anyone may start one, so the oldest are
    /// forgotten beyond it.
    pub max_pending: u64,
}

/// Why a login or logout failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// The `state` of a provider's answer matches no login request of this browser: forged,
    /// already used, or forgotten.
    #[error("login answer matches no login in progress")]
    UnknownState,
    /// The login request was made too long ago.
    #[error("login request expired")]
    Expired,
    /// The provider said no (the user refused, or the client is misconfigured).
    #[error("the login provider refused the login: {0}")]
    Refused(String),
    /// The provider's answer does not prove who logged in.
    #[error("identity not proven: {0}")]
    NotProven(String),
    /// The provider could not be reached or answered something unusable.
    #[error("login provider unavailable: {0}")]
    Provider(String),
    /// The catalog failed.
    #[error(transparent)]
    Store(#[from] flaneur_store::Error),
}

/// Someone the provider vouched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The kind of provider (`oidc`, `osm`).
    pub provider: &'static str,
    /// The provider's stable identifier of the user.
    pub subject: String,
    /// The display name to give the account.
    pub name: String,
    /// The OpenID Connect ID token, kept for the logout hint.
    pub id_token: Option<String>,
}

/// A login just completed.
#[derive(Debug, Clone)]
pub struct LoggedIn {
    /// The session cookie's value, known only to the browser (the catalog keeps its hash).
    pub session_id: String,
    /// The value the browser's writes must repeat.
    pub csrf_token: String,
    /// The account logged in.
    pub account_id: AccountId,
    /// Its display name.
    pub account_name: String,
    /// The page of this instance asked for at the start, as given then.
    pub next_url: Option<String>,
    /// How long the session lasts.
    pub ttl: Duration,
}

/// Where to send a browser to log in.
#[derive(Debug, Clone)]
pub struct LoginStart {
    /// The provider's authorization address, with every parameter.
    pub authorize_url: String,
    /// The `state` sent: the browser keeps it in a cookie, binding the answer to it.
    pub state: String,
}

/// The provider, as far as it is known. Built once and shared behind an `Arc`, so that the
/// size of its clients does not matter.
#[expect(
    clippy::large_enum_variant,
    reason = "one value per process, behind an Arc"
)]
enum Provider {
    Oidc(oidc::Oidc),
    Osm(osm::Osm),
}

/// The login service.
#[derive(Clone)]
pub struct Login {
    catalog: Arc<dyn Catalog>,
    provider: Arc<Provider>,
    /// What accounts' identities are kept under: the provider's address.
    identity_key: Arc<str>,
    session_ttl: Duration,
    max_pending: u64,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("provider", &self.provider_name())
            .finish_non_exhaustive()
    }
}

/// SHA-256 of a secret the browser holds, hex: what the catalog keeps of it.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new random secret: 256 bits, URL-safe base64.
fn random_secret() -> String {
    CsrfToken::new_random_len(32).into_secret()
}

impl Login {
    /// Sets the login up. An OpenID Connect provider's discovery document is asked for at
    /// once; when it cannot be read, a warning says so and it is asked again at each login
    /// until it answers, so that a provider down at start does not keep the instance down.
    ///
    /// # Errors
    /// Fails when the settings cannot be used (an address that is not one).
    pub async fn new(settings: LoginSettings, catalog: Arc<dyn Catalog>) -> Result<Login, String> {
        let http = ProviderHttp::new().map_err(|e| e.to_string())?;
        let provider = match &settings.provider {
            ProviderSettings::Oidc { issuer_url } => {
                let oidc = oidc::Oidc::new(issuer_url, &settings, http)?;
                if let Err(err) = oidc.metadata().await {
                    warn!(
                        issuer = %issuer_url,
                        error = %err,
                        fix = "check oauth_oidc_url and that the provider is reachable",
                        "login provider discovery failed; retried at each login"
                    );
                }
                Provider::Oidc(oidc)
            }
            ProviderSettings::Osm { base_url } => {
                Provider::Osm(osm::Osm::new(base_url, &settings, http)?)
            }
        };
        let identity_key = match &settings.provider {
            ProviderSettings::Oidc { issuer_url } => issuer_url,
            ProviderSettings::Osm { base_url } => base_url,
        };
        let login = Login {
            catalog,
            provider: Arc::new(provider),
            identity_key: identity_key.trim().trim_end_matches('/').into(),
            session_ttl: settings.session_ttl,
            max_pending: settings.max_pending.max(1),
        };
        info!(provider = login.provider_name(), "browser login enabled");
        Ok(login)
    }

    /// The kind of provider: `oidc` or `osm`.
    pub fn provider_name(&self) -> &'static str {
        match *self.provider {
            Provider::Oidc(_) => oidc::PROVIDER,
            Provider::Osm(_) => osm::PROVIDER,
        }
    }

    /// What the identities of accounts logging in are kept under: the OpenID Connect
    /// issuer's address, or OpenStreetMap's, so that the same user id at two providers never
    /// names one account.
    pub fn identity_key(&self) -> &str {
        &self.identity_key
    }

    /// Moves the identities kept under the provider's kind alone (`oidc`, `osm`), as earlier
    /// versions kept them, to [`Login::identity_key`], so that their accounts are found
    /// again; returns how many moved. Identities of another kind are left alone.
    ///
    /// # Errors
    /// Fails when the catalog does.
    pub async fn adopt_kind_keyed_identities(&self) -> Result<u64, LoginError> {
        let moved = self
            .catalog
            .rekey_oauth_provider(self.provider_name(), &self.identity_key)
            .await?;
        if moved > 0 {
            // Earlier versions did not record which provider an identity came from: these are
            // taken to come from the one configured now. Loud, so that an operator who changed
            // provider in the same upgrade sees which accounts were filed under the new one.
            warn!(
                accounts = moved,
                provider = %self.identity_key,
                "login identities kept under the provider's kind alone are now filed under the \
                 provider configured at this start, taken to be the one they came from"
            );
        }
        Ok(moved)
    }

    /// How long a session lasts.
    pub fn session_ttl(&self) -> Duration {
        self.session_ttl
    }

    /// The page where users manage their account at the provider, when it has one.
    pub fn profile_url(&self) -> Option<String> {
        match &*self.provider {
            Provider::Oidc(oidc) => Some(oidc.profile_url()),
            Provider::Osm(osm) => Some(osm.profile_url()),
        }
    }

    /// Starts a login: keeps its request and says where to send the browser, which the
    /// provider sends back to `redirect_url`.
    ///
    /// # Errors
    /// [`LoginError::Provider`] when an OpenID Connect provider's discovery document cannot be
    /// read; [`LoginError::Store`] when the request cannot be kept.
    pub async fn begin(
        &self,
        redirect_url: &str,
        next_url: Option<String>,
    ) -> Result<LoginStart, LoginError> {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let state = random_secret();
        let nonce = random_secret();
        let authorize_url = match &*self.provider {
            Provider::Oidc(oidc) => {
                oidc.authorize_url(redirect_url, &state, &nonce, challenge)
                    .await?
            }
            Provider::Osm(osm) => osm.authorize_url(redirect_url, &state, challenge)?,
        };
        let expires_at = Utc::now() + LOGIN_REQUEST_TTL;
        self.catalog
            .put_login_request(
                &LoginRequest {
                    state_hash: secret_hash(&state),
                    pkce_verifier: verifier.into_secret(),
                    nonce,
                    next_url,
                    redirect_url: redirect_url.to_owned(),
                    expires_at,
                },
                self.max_pending,
            )
            .await?;
        Ok(LoginStart {
            authorize_url,
            state,
        })
    }

    /// Completes a login with the provider's answer: the `state` it gave back and the `code`
    /// to exchange. Opens a session for the account of the identity proven, created on its
    /// first login.
    ///
    /// # Errors
    /// [`LoginError::UnknownState`] for a `state` of no login in progress (forged, or
    /// already answered: each request is taken once), [`LoginError::Expired`] for one too old,
    /// [`LoginError::Refused`] when the provider refuses the code, [`LoginError::NotProven`]
    /// when its answer does not prove an identity, [`LoginError::Provider`] when it cannot be
    /// reached, [`LoginError::Store`] when the catalog fails.
    pub async fn finish(&self, state: &str, code: &str) -> Result<LoggedIn, LoginError> {
        // 1. The request, taken so that the same answer never logs in twice.
        let request = self
            .catalog
            .take_login_request(&secret_hash(state))
            .await?
            .ok_or(LoginError::UnknownState)?;
        if request.expires_at < Utc::now() {
            return Err(LoginError::Expired);
        }

        // 2. Who came back, as the provider proves it.
        let identity = match &*self.provider {
            Provider::Oidc(oidc) => oidc.identity(&request, code).await?,
            Provider::Osm(osm) => osm.identity(&request, code).await?,
        };

        // 3. Their account, then a session for it. The name shown by the provider loses its
        // control characters; the subject names an account left with none.
        let name = crate::account::provider_account_name(&identity.name)
            .unwrap_or_else(|| identity.subject.clone());
        let account = self
            .catalog
            .upsert_oauth_account(
                &OauthIdentity {
                    provider: self.identity_key.to_string(),
                    id: identity.subject.clone(),
                },
                &name,
            )
            .await?;
        let (account_id, account_name) = (account.id, account.name);
        let session_id = random_secret();
        let csrf_token = random_secret();
        self.catalog
            .create_session(&NewSession {
                id_hash: secret_hash(&session_id),
                account_id,
                csrf_token: csrf_token.clone(),
                id_token: identity.id_token,
                expires_at: Utc::now() + self.session_ttl,
            })
            .await?;
        info!(account.id = %account_id, provider = identity.provider, "logged in");
        Ok(LoggedIn {
            session_id,
            csrf_token,
            account_id,
            account_name,
            next_url: request.next_url,
            ttl: self.session_ttl,
        })
    }

    /// The open session of a cookie's value, with its account; `None` when it was never
    /// opened, has ended or expired, or its account was deleted.
    ///
    /// # Errors
    /// Fails when the catalog does.
    pub async fn session(&self, session_id: &str) -> Result<Option<SessionRecord>, LoginError> {
        Ok(self
            .catalog
            .session(&secret_hash(session_id), Utc::now())
            .await?)
    }

    /// Ends a session; nothing happens when it was not open.
    ///
    /// # Errors
    /// Fails when the catalog does.
    pub async fn end_session(&self, session_id: &str) -> Result<(), LoginError> {
        self.catalog.end_session(&secret_hash(session_id)).await?;
        Ok(())
    }

    /// Ends a session. Returns the provider's address ending its own session too (OpenID
    /// Connect providers with an `end_session_endpoint`), which sends the browser back to
    /// `post_logout_url`; `None` when there is nothing more to do.
    ///
    /// # Errors
    /// Fails when the catalog does.
    pub async fn logout(
        &self,
        session_id: Option<&str>,
        post_logout_url: &str,
    ) -> Result<Option<String>, LoginError> {
        let ended = match session_id {
            Some(id) => self.catalog.end_session(&secret_hash(id)).await?,
            None => None,
        };
        let Provider::Oidc(oidc) = &*self.provider else {
            return Ok(None);
        };
        let id_token = ended.and_then(|e| e.id_token);
        Ok(oidc.end_session_url(id_token, post_logout_url).await)
    }
}
