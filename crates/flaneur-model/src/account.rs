//! Accounts, their role and preferences, and the API tokens that act for them. Who an account
//! is and what it may do is decided here; storing them is the catalog's business and reading
//! them from a request the API's.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{AccountId, ParseEnumError, PeerId, TokenId, Viewer, Visibility};

/// What an account may do beyond its own data, named as on Panoramax instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Acts on its own data.
    #[default]
    User,
    /// Administers the instance: sees and acts on everything.
    Admin,
}

impl Role {
    /// The wire and database name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = ParseEnumError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "user" => Ok(Role::User),
            "admin" => Ok(Role::Admin),
            _ => Err(ParseEnumError {
                kind: "role",
                value: s.to_owned(),
                expected: "user, admin",
            }),
        }
    }
}

/// An identity at a login provider: `(provider, id there)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OauthIdentity {
    /// The provider: its address (an OpenID Connect issuer, OpenStreetMap's site).
    pub provider: String,
    /// The account's id at that provider.
    pub id: String,
}

/// An account of the instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    /// Its id.
    pub id: AccountId,
    /// Its display name, unique on the instance.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// Whether it is the account anonymous uploads belong to.
    pub is_default: bool,
    /// Who it is at a login provider, when it logged in through one.
    pub oauth: Option<OauthIdentity>,
    /// Visibility of its new uploads when they do not say; the instance's default when `None`.
    pub default_visibility: Option<Visibility>,
    /// Whether others may edit the metadata of its pictures; the instance's choice when `None`.
    pub collaborative_metadata: Option<bool>,
    /// When it accepted the terms of service.
    pub tos_accepted_at: Option<DateTime<Utc>>,
    /// When it last read the terms of service, to tell whether it read their latest change.
    pub tos_latest_change_read_at: Option<DateTime<Utc>>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// The peer whose author it stands for, `None` for an account of this instance. Such an
    /// account never logs in, holds no name of a local account, and is left out of the
    /// lists of local accounts.
    pub origin: Option<PeerId>,
}

impl Account {
    /// Whether it administers the instance.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// The viewer it reads as.
    pub fn viewer(&self) -> Viewer {
        Viewer::account(self.id, self.is_admin())
    }
}

/// A change of an account's preferences: `None` leaves a field as it is, `Some(None)` clears
/// it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountPreferences {
    /// New default visibility of its uploads.
    pub default_visibility: Option<Option<Visibility>>,
    /// New collaborative editing choice.
    pub collaborative_metadata: Option<Option<bool>>,
    /// When it accepted the terms of service.
    pub tos_accepted_at: Option<Option<DateTime<Utc>>>,
    /// When it last read the terms of service.
    pub tos_latest_change_read_at: Option<Option<DateTime<Utc>>>,
}

/// An API token: it acts for its account once claimed. Its secret value is given once, when
/// it is made; only a hash of it is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// Its id.
    pub id: TokenId,
    /// The account it acts for; `None` until someone claims it.
    pub account_id: Option<AccountId>,
    /// What its holder said it is for.
    pub description: String,
    /// When it was made.
    pub generated_at: DateTime<Utc>,
    /// When it was last used, to within a few minutes.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A token to store: its metadata and the SHA-256 of its secret value, in hexadecimal.
#[derive(Debug, Clone, PartialEq)]
pub struct NewToken {
    /// Its id.
    pub id: TokenId,
    /// The account it acts for at once, or `None` for a token to claim.
    pub account_id: Option<AccountId>,
    /// What it is for.
    pub description: String,
    /// SHA-256 of the whole secret value, lowercase hexadecimal.
    pub secret_sha256: String,
}

/// What came of claiming a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// It now acts for the account.
    Claimed,
    /// It already acted for that account; nothing changed.
    AlreadyOwn,
    /// Another account claimed it before; nothing changed.
    ClaimedByOther,
    /// No such token (never made, or revoked).
    Unknown,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_read_back_from_their_names() {
        for role in [Role::User, Role::Admin] {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn an_admin_account_reads_as_an_admin_viewer() {
        let mut account = Account {
            id: AccountId::new(),
            name: "a".to_owned(),
            role: Role::Admin,
            is_default: false,
            oauth: None,
            default_visibility: None,
            collaborative_metadata: None,
            tos_accepted_at: None,
            tos_latest_change_read_at: None,
            origin: None,
            created_at: Utc::now(),
        };
        assert!(account.viewer().is_admin());
        account.role = Role::User;
        assert!(!account.viewer().is_admin());
        assert_eq!(account.viewer().account_id(), Some(account.id));
    }
}
