//! What the catalog keeps of browser logins: requests sent to the login provider and not yet
//! answered, and the sessions of logged-in browsers. The secrets a browser holds (the login
//! `state`, the session cookie) are kept as SHA-256 hashes only; checking them, and choosing
//! lifetimes, is the login service's business.

use chrono::{DateTime, Utc};
use flaneur_model::{Account, AccountId};

/// A login sent to the provider, waiting for the browser to come back with its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRequest {
    /// SHA-256 of the `state` the provider gives back, hex.
    pub state_hash: String,
    /// The PKCE verifier whose challenge went to the provider.
    pub pkce_verifier: String,
    /// The nonce the ID token must carry (unused by plain OAuth 2 providers).
    pub nonce: String,
    /// The page of this instance to show once logged in.
    pub next_url: Option<String>,
    /// The address the provider was told to send the browser back to.
    pub redirect_url: String,
    /// When the request is no longer answered.
    pub expires_at: DateTime<Utc>,
}

/// A session to open for a logged-in browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// SHA-256 of the session cookie's value, hex.
    pub id_hash: String,
    /// Who logged in.
    pub account_id: AccountId,
    /// The value writes authenticated by this session must repeat in a header.
    pub csrf_token: String,
    /// The provider's ID token, for the logout hint.
    pub id_token: Option<String>,
    /// When the session ends on its own.
    pub expires_at: DateTime<Utc>,
}

/// An open session, with the account it logs in.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    /// Who is logged in.
    pub account: Account,
    /// The value writes authenticated by this session must repeat in a header.
    pub csrf_token: String,
    /// The provider's ID token, for the logout hint.
    pub id_token: Option<String>,
    /// When the session ends on its own.
    pub expires_at: DateTime<Utc>,
}

/// A session just ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedSession {
    /// The provider's ID token, for the logout hint.
    pub id_token: Option<String>,
}
