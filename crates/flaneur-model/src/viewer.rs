//! Who is reading: the account behind a request, if any, and whether it administers the
//! instance. What a viewer may see is decided here and nowhere else; the catalogs translate
//! the same rule into their queries.

use crate::{AccountId, Visibility};

/// The caller of a read, as far as visibility is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Viewer {
    account: Option<AccountId>,
    is_admin: bool,
}

impl Viewer {
    /// Nobody logged in: sees only what anyone may see.
    pub const ANONYMOUS: Viewer = Viewer {
        account: None,
        is_admin: false,
    };

    /// A logged-in account, administrator or not.
    pub fn account(id: AccountId, is_admin: bool) -> Viewer {
        Viewer {
            account: Some(id),
            is_admin,
        }
    }

    /// The logged-in account, if any.
    pub fn account_id(&self) -> Option<AccountId> {
        self.account
    }

    /// Whether the viewer administers the instance and so sees everything.
    pub fn is_admin(&self) -> bool {
        self.is_admin
    }

    /// Whether nobody is logged in.
    pub fn is_anonymous(&self) -> bool {
        self.account.is_none()
    }

    /// Whether the viewer owns what `owner` owns, or may act as its owner (administrators).
    pub fn acts_as_owner_of(&self, owner: AccountId) -> bool {
        self.is_admin || self.account == Some(owner)
    }

    /// Whether the viewer may see something of `owner` shown at `visibility`.
    pub fn may_see(&self, visibility: Visibility, owner: AccountId) -> bool {
        match visibility {
            Visibility::Anyone => true,
            Visibility::LoggedOnly => self.account.is_some(),
            Visibility::OwnerOnly => self.acts_as_owner_of(owner),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_level_is_seen_by_whom_it_names() {
        let owner = AccountId::new();
        let other = Viewer::account(AccountId::new(), false);
        let admin = Viewer::account(AccountId::new(), true);
        let own = Viewer::account(owner, false);

        let seen = |viewer: Viewer| Visibility::ALL.map(|v| viewer.may_see(v, owner));
        assert_eq!(seen(Viewer::ANONYMOUS), [true, false, false]);
        assert_eq!(seen(other), [true, true, false]);
        assert_eq!(seen(own), [true, true, true]);
        assert_eq!(seen(admin), [true, true, true]);
    }
}
