//! Accounts and API tokens: making them, finding who a bearer value acts for, claiming,
//! listing and revoking tokens. How a request carries its credentials is the API's business;
//! what they are worth is decided here.

use std::sync::Arc;

use flaneur_model::{
    Account, AccountId, AccountPreferences, ClaimOutcome, NewToken, Role, Token, TokenId,
};
use flaneur_store::Catalog;
use tokio::sync::OnceCell;
use tracing::info;

use crate::token::{BadValue, TokenKey, secret_sha256};
use crate::{Error, Result};

/// Name of the instance secret holding the key that signs token values.
const TOKEN_KEY_SECRET: &str = "token_signing_key";

/// Longest description of a token, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1000;

/// How long a generated token waits to be claimed before it is forgotten: anyone may generate
/// tokens, so unclaimed ones must not pile up.
pub const UNCLAIMED_FOR: chrono::TimeDelta = chrono::TimeDelta::days(7);

/// How many generated tokens may wait to be claimed at once by default: the oldest are
/// forgotten beyond it.
pub const MAX_UNCLAIMED_TOKENS: u64 = 10_000;

/// Longest account name, in characters.
pub const MAX_NAME_CHARS: usize = 250;

/// A name given for a new account, trimmed: 1 to [`MAX_NAME_CHARS`] characters, not only
/// spaces, and no control character (tab, line break, escape…), which would fake lines or
/// columns of account listings and reach the terminals showing them.
///
/// # Errors
/// [`Error::InvalidParameter`] saying what is wrong with the name.
pub fn checked_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::invalid(format!(
            "An account name is 1 to {MAX_NAME_CHARS} characters, not only spaces"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "An account name may not hold control characters (tabs, line breaks, escapes)",
        ));
    }
    Ok(name)
}

/// The account name for the name a login provider shows: each control character becomes a
/// space, and the ends are trimmed. `None` when nothing is left.
pub fn provider_account_name(shown: &str) -> Option<String> {
    let name: String = shown
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

/// Why a request's credentials were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// The `Authorization` header is not `Bearer <value>`.
    NotBearer,
    /// The value is not one this instance made (undecodable, or signed with another key).
    InvalidValue,
    /// The value was made here but its token no longer exists (revoked, or its account
    /// deleted).
    UnknownToken,
    /// The token was never claimed by an account.
    Unclaimed,
}

/// A token just made, with the only copy of its bearer value.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The token.
    pub token: Token,
    /// Its bearer value, given once: only its hash is kept.
    pub value: String,
}

/// A token that exists and may be claimed, as the account claiming it sees it.
#[derive(Debug, Clone)]
pub enum ClaimView {
    /// Claimed by nobody yet.
    Open(Token),
    /// Already acting for the account.
    Own(Token),
}

impl ClaimView {
    /// The token.
    pub fn token(&self) -> &Token {
        match self {
            ClaimView::Open(token) | ClaimView::Own(token) => token,
        }
    }
}

fn claimed_by_other() -> Error {
    Error::Forbidden(
        "This token was already claimed by another account; generate a new one".to_owned(),
    )
}

/// The accounts and tokens of an instance. Cheap to clone; clones share the signing key.
#[derive(Clone)]
pub struct Accounts {
    catalog: Arc<dyn Catalog>,
    /// The key signing token values, read from the catalog on first use.
    token_key: Arc<OnceCell<TokenKey>>,
    /// How many generated tokens may wait to be claimed at once.
    max_unclaimed: u64,
}

impl Accounts {
    /// The accounts and tokens kept in `catalog`.
    pub fn new(catalog: Arc<dyn Catalog>) -> Accounts {
        Accounts {
            catalog,
            token_key: Arc::new(OnceCell::new()),
            max_unclaimed: MAX_UNCLAIMED_TOKENS,
        }
    }

    /// The same, keeping at most `max_unclaimed` generated tokens waiting to be claimed (at
    /// least one): anyone may generate tokens, so the oldest go beyond it.
    #[must_use]
    pub fn with_max_unclaimed(mut self, max_unclaimed: u64) -> Accounts {
        self.max_unclaimed = max_unclaimed.max(1);
        self
    }

    /// The key signing token values, made and stored in the catalog on first use so that
    /// every process of the instance shares it.
    async fn token_key(&self) -> Result<&TokenKey> {
        self.token_key
            .get_or_try_init(|| async {
                let fresh = TokenKey::fresh_hex()?;
                let stored = self
                    .catalog
                    .instance_secret(TOKEN_KEY_SECRET, &fresh)
                    .await?;
                TokenKey::from_hex(&stored)
            })
            .await
    }

    /// Makes a token for `account`, or an unclaimed one to be claimed by whoever logs in
    /// with its claim link within [`UNCLAIMED_FOR`] (older unclaimed ones are forgotten
    /// then, and the oldest beyond the most that may wait).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a description too long; [`Error::AccountNotFound`]
    /// when the account does not exist.
    pub async fn issue_token(
        &self,
        account: Option<AccountId>,
        description: &str,
    ) -> Result<IssuedToken> {
        if description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(Error::invalid(format!(
                "The token description is longer than {MAX_DESCRIPTION_CHARS} characters; \
                 give a shorter one"
            )));
        }
        let key = self.token_key().await?;
        if account.is_none() {
            let forgotten = self
                .catalog
                .forget_unclaimed_tokens(chrono::Utc::now() - UNCLAIMED_FOR, self.max_unclaimed - 1)
                .await?;
            if forgotten > 0 {
                info!(tokens = forgotten, "unclaimed tokens forgotten");
            }
        }
        let id = TokenId::new();
        let value = key.mint(id)?;
        let token = self
            .catalog
            .create_token(NewToken {
                id,
                account_id: account,
                description: description.to_owned(),
                secret_sha256: secret_sha256(&value),
            })
            .await
            .map_err(|e| match e {
                flaneur_store::Error::NotFound {
                    kind: "account",
                    id,
                    ..
                } => Error::AccountNotFound(id),
                other => other.into(),
            })?;
        info!(token.id = %id, account.id = ?account, "token issued");
        Ok(IssuedToken { token, value })
    }

    /// The account a bearer value acts for.
    ///
    /// # Errors
    /// [`Error::Auth`] saying why the value acts for nobody.
    pub async fn authenticate_bearer(&self, value: &str) -> Result<Account> {
        let key = self.token_key().await?;
        key.verify(value).map_err(|e| match e {
            BadValue::Malformed | BadValue::BadSignature => Error::Auth(AuthFailure::InvalidValue),
        })?;
        match self.catalog.resolve_token(&secret_sha256(value)).await? {
            None => Err(Error::Auth(AuthFailure::UnknownToken)),
            Some((_, None)) => Err(Error::Auth(AuthFailure::Unclaimed)),
            Some((_, Some(account))) => Ok(account),
        }
    }

    /// The token `id` as `account` finds it before claiming it.
    ///
    /// # Errors
    /// [`Error::TokenNotFound`] when it does not exist or waited longer than
    /// [`UNCLAIMED_FOR`]; [`Error::Forbidden`] when another account claimed it.
    pub async fn token_to_claim(&self, id: TokenId, account: AccountId) -> Result<ClaimView> {
        let token = self
            .catalog
            .token(id)
            .await?
            .ok_or_else(|| Error::TokenNotFound(id.to_string()))?;
        match token.account_id {
            // Forgotten at the next generation anyway: nobody may take it meanwhile.
            None if token.generated_at < chrono::Utc::now() - UNCLAIMED_FOR => {
                Err(Error::TokenNotFound(id.to_string()))
            }
            None => Ok(ClaimView::Open(token)),
            Some(owner) if owner == account => Ok(ClaimView::Own(token)),
            Some(_) => Err(claimed_by_other()),
        }
    }

    /// Attaches an unclaimed token to `account`; claiming one's own token again is harmless.
    ///
    /// # Errors
    /// [`Error::TokenNotFound`] when it does not exist or waited longer than
    /// [`UNCLAIMED_FOR`]; [`Error::Forbidden`] when another account claimed it.
    pub async fn claim_token(&self, id: TokenId, account: &Account) -> Result<()> {
        if let ClaimView::Own(_) = self.token_to_claim(id, account.id).await? {
            return Ok(());
        }
        let outcome = self
            .catalog
            .claim_token(id, account.id)
            .await
            .map_err(|e| match e {
                flaneur_store::Error::NotFound {
                    kind: "account",
                    id,
                    ..
                } => Error::AccountNotFound(id),
                other => other.into(),
            })?;
        match outcome {
            ClaimOutcome::Claimed => {
                info!(token.id = %id, account.id = %account.id, "token claimed");
                Ok(())
            }
            ClaimOutcome::AlreadyOwn => Ok(()),
            ClaimOutcome::ClaimedByOther => Err(claimed_by_other()),
            ClaimOutcome::Unknown => Err(Error::TokenNotFound(id.to_string())),
        }
    }

    /// The tokens of an account, oldest first.
    ///
    /// # Errors
    /// Fails when the catalog cannot be read.
    pub async fn account_tokens(&self, account: AccountId) -> Result<Vec<Token>> {
        Ok(self.catalog.account_tokens(account).await?)
    }

    /// One token of an account.
    ///
    /// # Errors
    /// [`Error::TokenNotFound`] when it does not exist or acts for another account.
    pub async fn account_token(&self, account: AccountId, id: TokenId) -> Result<Token> {
        match self.catalog.token(id).await? {
            Some(token) if token.account_id == Some(account) => Ok(token),
            _ => Err(Error::TokenNotFound(id.to_string())),
        }
    }

    /// Revokes one token of an account: it stops working at once.
    ///
    /// # Errors
    /// [`Error::TokenNotFound`] when it does not exist or acts for another account.
    pub async fn revoke_token(&self, account: AccountId, id: TokenId) -> Result<()> {
        self.account_token(account, id).await?;
        if !self.catalog.revoke_token(id).await? {
            return Err(Error::TokenNotFound(id.to_string()));
        }
        info!(token.id = %id, account.id = %account, "token revoked");
        Ok(())
    }

    /// Makes an account.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a name [`checked_name`] refuses, or one already taken.
    pub async fn create_account(&self, name: &str, role: Role) -> Result<Account> {
        let name = checked_name(name)?;
        let account = self
            .catalog
            .create_account(name, role)
            .await
            .map_err(|e| match e {
                flaneur_store::Error::Refused(message) => Error::invalid(message),
                other => other.into(),
            })?;
        info!(account.id = %account.id, account.role = %role, "account created");
        Ok(account)
    }

    /// The account of this name.
    ///
    /// # Errors
    /// [`Error::AccountNotFound`] when there is none.
    pub async fn account_named(&self, name: &str) -> Result<Account> {
        self.catalog
            .account_by_name(name)
            .await?
            .ok_or_else(|| Error::AccountNotFound(name.to_owned()))
    }

    /// Every account, oldest first, with its role.
    ///
    /// # Errors
    /// Fails when the catalog cannot be read.
    pub async fn all_accounts(&self) -> Result<Vec<Account>> {
        let mut accounts = Vec::new();
        for (id, _) in self.catalog.accounts(usize::MAX).await? {
            accounts.extend(self.catalog.account(id).await?);
        }
        Ok(accounts)
    }

    /// Changes what an account may do.
    ///
    /// # Errors
    /// [`Error::AccountNotFound`] when it does not exist.
    pub async fn set_role(&self, id: AccountId, role: Role) -> Result<()> {
        if !self.catalog.set_account_role(id, role).await? {
            return Err(Error::AccountNotFound(id.to_string()));
        }
        info!(account.id = %id, account.role = %role, "account role set");
        Ok(())
    }

    /// Deletes an account and revokes its tokens; its pictures stay.
    ///
    /// # Errors
    /// [`Error::Forbidden`] for the default account; [`Error::AccountNotFound`] when it does
    /// not exist.
    pub async fn delete_account(&self, account: &Account) -> Result<()> {
        if account.is_default {
            return Err(Error::Forbidden(
                "The default account owns anonymous uploads and cannot be deleted".to_owned(),
            ));
        }
        if !self.catalog.delete_account(account.id).await? {
            return Err(Error::AccountNotFound(account.id.to_string()));
        }
        info!(account.id = %account.id, "account deleted");
        Ok(())
    }

    /// Changes an account's preferences.
    ///
    /// # Errors
    /// [`Error::AccountNotFound`] when it does not exist.
    pub async fn update_preferences(
        &self,
        id: AccountId,
        prefs: &AccountPreferences,
    ) -> Result<Account> {
        self.catalog
            .update_account_preferences(id, prefs)
            .await?
            .ok_or_else(|| Error::AccountNotFound(id.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_control_characters_are_refused_or_cleaned() {
        assert_eq!(checked_name("  Zoé Marcheuse ").ok(), Some("Zoé Marcheuse"));
        for name in [
            "",
            "   ",
            "ana\tadmin",
            "ana\nbob",
            "\u{1b}[31mana",
            "ana\u{85}bob",
            "ana\u{9b}31m",
        ] {
            assert!(checked_name(name).is_err(), "{name:?}");
        }
        assert!(checked_name(&"a".repeat(MAX_NAME_CHARS + 1)).is_err());

        let cleaned = |s: &str| provider_account_name(s);
        assert_eq!(cleaned("ana\tadmin\n").as_deref(), Some("ana admin"));
        assert_eq!(cleaned("\u{1b}[31mana").as_deref(), Some("[31mana"));
        assert_eq!(cleaned(" Zoé ").as_deref(), Some("Zoé"));
        assert_eq!(cleaned("\r\n\t "), None);
        assert_eq!(cleaned(""), None);
    }
}
