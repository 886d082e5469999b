//! Options of browser login: the provider, the instance's client there, and the sessions.
//!
//! Environment variables take the names Panoramax instances use (`OAUTH_PROVIDER`,
//! `OAUTH_OIDC_URL`, `OAUTH_CLIENT_ID`, `OAUTH_CLIENT_SECRET`, `OAUTH_SCOPE`), so that an
//! operator's settings carry over. Without a provider there is no login: the login routes say
//! so and every client is anonymous unless it sends a token.

use std::time::Duration;

use flaneur_service::login::{LoginSettings, ProviderSettings};

use crate::Misuse;

/// The login options of `serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct LoginArgs {
    /// Who logs users in from the web pages: `oidc` (any OpenID Connect provider, such as
    /// Keycloak) or `osm` (OpenStreetMap); none by default.
    #[arg(long, env = "OAUTH_PROVIDER")]
    oauth_provider: Option<ProviderKind>,
    /// The OpenID Connect provider's issuer address; its discovery document is read from
    /// `{address}/.well-known/openid-configuration`.
    #[arg(long, env = "OAUTH_OIDC_URL")]
    oauth_oidc_url: Option<String>,
    /// The address of OpenStreetMap, or of a server speaking its API.
    #[arg(
        long,
        env = "FLANEUR_OSM_URL",
        default_value = "https://www.openstreetmap.org"
    )]
    osm_url: String,
    /// The instance's client id at the provider.
    #[arg(long, env = "OAUTH_CLIENT_ID")]
    oauth_client_id: Option<String>,
    /// The instance's client secret at the provider; prefer the variable, or
    /// `OAUTH_CLIENT_SECRET_FILE` naming a file holding it.
    #[arg(long, env = "OAUTH_CLIENT_SECRET", hide_env_values = true)]
    oauth_client_secret: Option<String>,
    /// Scopes asked for, space-separated [default: `openid profile email` for OpenID
    /// Connect, `read_prefs` for OpenStreetMap].
    #[arg(long, env = "OAUTH_SCOPE")]
    oauth_scope: Option<String>,
    /// Where users edit their profile at the provider, shown to clients in
    /// `/api/configuration` [default: Keycloak's account page for OpenID Connect, the account
    /// page of OpenStreetMap].
    #[arg(long, env = "OAUTH_PROFILE_URL")]
    oauth_profile_url: Option<String>,
    /// How long a browser stays logged in, in seconds.
    #[arg(
        long,
        env = "FLANEUR_SESSION_TTL_SECS",
        default_value_t = 7 * 24 * 3600,
        value_parser = clap::value_parser!(u64).range(60..=31_536_000)
    )]
    session_ttl_secs: u64,
    /// Whether login cookies are sent over HTTPS only: `auto` when the instance is reached
    /// over HTTPS (as the request, or the proxy's `X-Forwarded-Proto`, says).
    #[arg(long, env = "FLANEUR_COOKIE_SECURE", default_value = "auto")]
    cookie_secure: CookieSecure,
    /// How many logins (`GET /api/auth/login`) and token generations
    /// (`POST /api/auth/tokens/generate`) each client address may start per minute, in
    /// bursts of as many; more are answered 429 until the next is allowed. IPv6 clients are
    /// counted by their /64 network; `0` sets no limit.
    #[arg(long, env = "FLANEUR_LOGIN_RATE_PER_MINUTE", default_value_t = 20)]
    login_rate_per_minute: u32,
    /// How many logins in progress and how many generated tokens waiting to be claimed are
    /// kept at most, each: the oldest are forgotten beyond it.
    #[arg(
        long,
        env = "FLANEUR_MAX_PENDING_LOGINS",
        default_value_t = flaneur_service::login::MAX_PENDING_LOGINS,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    max_pending_logins: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ProviderKind {
    Oidc,
    Osm,
}

/// Whether cookies carry the `Secure` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CookieSecure {
    /// When the instance is reached over HTTPS.
    Auto,
    /// Always: the instance is only reached over HTTPS.
    Always,
    /// Never: the instance is reached over plain HTTP only (tests, a private network).
    Never,
}

impl CookieSecure {
    /// The API's setting: `None` for each request to decide.
    pub fn forced(self) -> Option<bool> {
        match self {
            CookieSecure::Auto => None,
            CookieSecure::Always => Some(true),
            CookieSecure::Never => Some(false),
        }
    }
}

impl LoginArgs {
    /// The profile page configured, if any.
    pub fn profile_url(&self) -> Option<String> {
        self.oauth_profile_url
            .clone()
            .filter(|u| !u.trim().is_empty())
    }

    /// Whether cookies carry `Secure`.
    pub fn cookie_secure(&self) -> CookieSecure {
        self.cookie_secure
    }

    /// How many logins and token generations a client may start per minute; `0`: no limit.
    pub fn login_rate_per_minute(&self) -> u32 {
        self.login_rate_per_minute
    }

    /// How many logins in progress and unclaimed tokens are kept at most, each.
    pub fn max_pending_logins(&self) -> u64 {
        self.max_pending_logins
    }

    /// The login settings, `None` without a provider.
    ///
    /// # Errors
    /// [`Misuse`] naming every missing or conflicting option at once.
    pub fn settings(&self) -> Result<Option<LoginSettings>, Misuse> {
        let mut problems = Vec::new();
        let secret = match self.client_secret() {
            Ok(secret) => secret,
            Err(problem) => {
                problems.push(problem);
                None
            }
        };
        let Some(kind) = self.oauth_provider else {
            if self.oauth_client_id.is_some() || self.oauth_oidc_url.is_some() || secret.is_some() {
                problems.push(
                    "login options are set but no provider: set OAUTH_PROVIDER \
                     (--oauth-provider) to oidc or osm, or remove them"
                        .to_owned(),
                );
            }
            return if problems.is_empty() {
                Ok(None)
            } else {
                Err(Misuse(problems.join("; ")))
            };
        };
        let client_id = self
            .oauth_client_id
            .clone()
            .filter(|id| !id.trim().is_empty());
        if client_id.is_none() {
            problems.push(
                "OAUTH_CLIENT_ID (--oauth-client-id) is required with a login provider: the \
                 id the provider gave this instance when it was registered there"
                    .to_owned(),
            );
        }
        let provider = match kind {
            ProviderKind::Oidc => {
                let url = self.oauth_oidc_url.clone().filter(|u| !u.trim().is_empty());
                if url.is_none() {
                    problems.push(
                        "OAUTH_OIDC_URL (--oauth-oidc-url) is required with OAUTH_PROVIDER=oidc: \
                         the provider's issuer address, such as \
                         https://keycloak.example.org/realms/panoramax"
                            .to_owned(),
                    );
                }
                ProviderSettings::Oidc {
                    issuer_url: url.unwrap_or_default(),
                }
            }
            ProviderKind::Osm => ProviderSettings::Osm {
                base_url: self.osm_url.clone(),
            },
        };
        if !problems.is_empty() {
            return Err(Misuse(problems.join("; ")));
        }
        Ok(Some(LoginSettings {
            provider,
            client_id: client_id.unwrap_or_default(),
            client_secret: secret,
            scope: self.oauth_scope.clone().filter(|s| !s.trim().is_empty()),
            session_ttl: Duration::from_secs(self.session_ttl_secs),
            max_pending: self.max_pending_logins,
        }))
    }

    /// The client secret, from the option or the file `OAUTH_CLIENT_SECRET_FILE` names.
    fn client_secret(&self) -> Result<Option<String>, String> {
        let from_file = match std::env::var("OAUTH_CLIENT_SECRET_FILE") {
            Ok(path) if !path.trim().is_empty() => Some(
                flaneur_store::blob::read_secret_file("OAUTH_CLIENT_SECRET_FILE", path.trim())
                    .map_err(|e| e.to_string())?,
            ),
            _ => None,
        };
        let given = self
            .oauth_client_secret
            .clone()
            .filter(|s| !s.trim().is_empty());
        match (given, from_file) {
            (Some(_), Some(_)) => {
                Err("set OAUTH_CLIENT_SECRET or OAUTH_CLIENT_SECRET_FILE, not both".to_owned())
            }
            (Some(secret), None) => Ok(Some(secret.trim().to_owned())),
            (None, Some(secret)) => Ok(Some(secret.expose().to_owned())),
            (None, None) => Ok(None),
        }
    }
}
