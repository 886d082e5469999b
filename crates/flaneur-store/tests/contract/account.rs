//! Accounts and API tokens: names stay unique, logins find their account again, tokens are
//! claimed once and resolve by the hash of their value only, and a revoked token or a deleted
//! account stops resolving at once.

use flaneur_model::{
    AccountPreferences, ClaimOutcome, NewToken, OauthIdentity, Role, TokenId, Visibility,
};
use flaneur_store::{Catalog, Error};

use crate::backend::catalog_contracts;

fn new_token(account: Option<flaneur_model::AccountId>, hash: &str) -> NewToken {
    NewToken {
        id: TokenId::new(),
        account_id: account,
        description: format!("token {hash}"),
        secret_sha256: hash.to_owned(),
    }
}

async fn accounts_are_made_found_and_changed(catalog: &dyn Catalog) {
    // The default account administers the instance.
    let (default_id, _) = catalog.default_account().await.expect("default");
    let default = catalog
        .account(default_id)
        .await
        .expect("read")
        .expect("default account");
    assert!(default.is_default);
    assert_eq!(default.role, Role::Admin);

    // 1. Made, then found by id and by name; a second one of the same name is refused.
    let ana = catalog
        .create_account("ana", Role::User)
        .await
        .expect("create");
    assert_eq!(ana.role, Role::User);
    assert!(!ana.is_default);
    assert_eq!(
        catalog.account(ana.id).await.expect("read"),
        Some(ana.clone())
    );
    assert_eq!(
        catalog.account_by_name("ana").await.expect("read"),
        Some(ana.clone())
    );
    assert!(
        catalog
            .account_by_name("bob")
            .await
            .expect("read")
            .is_none()
    );
    let taken = catalog.create_account("ana", Role::Admin).await;
    assert!(matches!(taken, Err(Error::Refused(_))), "{taken:?}");

    // 2. Role and preferences.
    assert!(
        catalog
            .set_account_role(ana.id, Role::Admin)
            .await
            .expect("role")
    );
    let prefs = AccountPreferences {
        default_visibility: Some(Some(Visibility::OwnerOnly)),
        collaborative_metadata: Some(Some(false)),
        tos_accepted_at: None,
        tos_latest_change_read_at: None,
    };
    let updated = catalog
        .update_account_preferences(ana.id, &prefs)
        .await
        .expect("update")
        .expect("account");
    assert_eq!(updated.role, Role::Admin);
    assert_eq!(updated.default_visibility, Some(Visibility::OwnerOnly));
    assert_eq!(updated.collaborative_metadata, Some(false));
    // A field left out keeps its value; one given as None is cleared.
    let prefs = AccountPreferences {
        collaborative_metadata: Some(None),
        ..AccountPreferences::default()
    };
    let updated = catalog
        .update_account_preferences(ana.id, &prefs)
        .await
        .expect("update")
        .expect("account");
    assert_eq!(updated.default_visibility, Some(Visibility::OwnerOnly));
    assert_eq!(updated.collaborative_metadata, None);
}

async fn logins_find_their_account_and_names_stay_unique(catalog: &dyn Catalog) {
    catalog
        .create_account("ana", Role::User)
        .await
        .expect("create");
    let osm = OauthIdentity {
        provider: "osm".to_owned(),
        id: "42".to_owned(),
    };

    // 1. The first login makes an account; its name is taken, so it is numbered.
    let first = catalog
        .upsert_oauth_account(&osm, "ana")
        .await
        .expect("first login");
    assert_eq!(first.name, "ana_2");
    assert_eq!(first.oauth, Some(osm.clone()));
    assert_eq!(first.role, Role::User);

    // 2. The next login finds it again and refreshes its name.
    let again = catalog
        .upsert_oauth_account(&osm, "ana renamed")
        .await
        .expect("second login");
    assert_eq!(again.id, first.id);
    assert_eq!(again.name, "ana renamed");
    // Keeping its own name is no conflict.
    let same = catalog
        .upsert_oauth_account(&osm, "ana renamed")
        .await
        .expect("third login");
    assert_eq!(same.name, "ana renamed");

    // 3. The same id at another provider is another account.
    let other = OauthIdentity {
        provider: "oidc".to_owned(),
        id: "42".to_owned(),
    };
    let other = catalog
        .upsert_oauth_account(&other, "ana renamed")
        .await
        .expect("other provider");
    assert_ne!(other.id, first.id);
    assert_eq!(other.name, "ana renamed_2");
}

async fn login_identities_move_to_another_provider_key(catalog: &dyn Catalog) {
    let login = |provider: &str, id: &str| OauthIdentity {
        provider: provider.to_owned(),
        id: id.to_owned(),
    };
    let ana = catalog
        .upsert_oauth_account(&login("oidc", "1"), "ana")
        .await
        .expect("ana");
    let bob = catalog
        .upsert_oauth_account(&login("oidc", "2"), "bob")
        .await
        .expect("bob");
    // Already under the new key: it keeps its identity, and bob's stays where it was.
    let bob_again = catalog
        .upsert_oauth_account(&login("https://issuer.example", "2"), "bob again")
        .await
        .expect("bob again");
    let osm = catalog
        .upsert_oauth_account(&login("osm", "1"), "zoe")
        .await
        .expect("zoe");

    let moved = catalog
        .rekey_oauth_provider("oidc", "https://issuer.example")
        .await
        .expect("rekey");
    assert_eq!(moved, 1);
    let found = catalog
        .upsert_oauth_account(&login("https://issuer.example", "1"), "ana")
        .await
        .expect("ana's next login");
    assert_eq!(found.id, ana.id, "the same account, under the new key");
    assert_eq!(found.oauth, Some(login("https://issuer.example", "1")));
    let again = catalog
        .upsert_oauth_account(&login("https://issuer.example", "2"), "bob again")
        .await
        .expect("bob's next login");
    assert_eq!(again.id, bob_again.id);
    assert_ne!(again.id, bob.id);
    let zoe = catalog.account(osm.id).await.expect("read").expect("zoe");
    assert_eq!(
        zoe.oauth,
        Some(login("osm", "1")),
        "another key is left alone"
    );
    assert_eq!(
        catalog
            .rekey_oauth_provider("oidc", "https://issuer.example")
            .await
            .expect("rekey again"),
        0
    );
}

async fn tokens_are_claimed_once_and_resolve_by_their_hash(catalog: &dyn Catalog) {
    let ana = catalog
        .create_account("ana", Role::User)
        .await
        .expect("ana");
    let bob = catalog
        .create_account("bob", Role::Admin)
        .await
        .expect("bob");

    // 1. An unclaimed token resolves without an account.
    let loose = catalog
        .create_token(new_token(None, "aa11"))
        .await
        .expect("create");
    assert_eq!(loose.account_id, None);
    let (found, account) = catalog
        .resolve_token("aa11")
        .await
        .expect("resolve")
        .expect("token");
    assert_eq!(found.id, loose.id);
    assert!(account.is_none());
    assert!(found.last_used_at.is_some(), "the use is recorded");
    // A use soon after is not written again: resolving stays a read.
    let (again, _) = catalog
        .resolve_token("aa11")
        .await
        .expect("resolve")
        .expect("token");
    assert_eq!(again.last_used_at, found.last_used_at);
    assert!(
        catalog
            .resolve_token("aa12")
            .await
            .expect("resolve")
            .is_none()
    );

    // 2. Claimed by ana; claiming again is harmless for her and refused for bob.
    let claim = |id, account| catalog.claim_token(id, account);
    assert_eq!(
        claim(loose.id, ana.id).await.expect("claim"),
        ClaimOutcome::Claimed
    );
    assert_eq!(
        claim(loose.id, ana.id).await.expect("claim"),
        ClaimOutcome::AlreadyOwn
    );
    assert_eq!(
        claim(loose.id, bob.id).await.expect("claim"),
        ClaimOutcome::ClaimedByOther
    );
    assert_eq!(
        claim(TokenId::new(), bob.id).await.expect("claim"),
        ClaimOutcome::Unknown
    );
    let (_, account) = catalog
        .resolve_token("aa11")
        .await
        .expect("resolve")
        .expect("token");
    assert_eq!(account.map(|a| a.id), Some(ana.id));

    // 3. Tokens made for an account are listed, oldest first.
    let attached = catalog
        .create_token(new_token(Some(bob.id), "bb22"))
        .await
        .expect("create");
    assert_eq!(attached.account_id, Some(bob.id));
    let second = catalog
        .create_token(new_token(Some(bob.id), "bb33"))
        .await
        .expect("create");
    let listed: Vec<TokenId> = catalog
        .account_tokens(bob.id)
        .await
        .expect("list")
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(listed, vec![attached.id, second.id]);
    let (_, account) = catalog
        .resolve_token("bb22")
        .await
        .expect("resolve")
        .expect("token");
    assert_eq!(account.map(|a| a.role), Some(Role::Admin));

    // 4. Revoked: gone at once.
    assert!(catalog.revoke_token(attached.id).await.expect("revoke"));
    assert!(
        !catalog
            .revoke_token(attached.id)
            .await
            .expect("revoke twice")
    );
    assert!(
        catalog
            .resolve_token("bb22")
            .await
            .expect("resolve")
            .is_none()
    );
    assert!(catalog.token(attached.id).await.expect("read").is_none());
    assert!(catalog.token(second.id).await.expect("read").is_some());

    // 5. A token for an account that does not exist is refused, and such an account claims
    //    nothing.
    let gone = catalog
        .create_account("gone", Role::User)
        .await
        .expect("gone");
    assert!(catalog.delete_account(gone.id).await.expect("delete"));
    let unclaimed = catalog
        .create_token(new_token(None, "ee66"))
        .await
        .expect("create");
    let claim = catalog.claim_token(unclaimed.id, gone.id).await;
    assert!(matches!(claim, Err(Error::NotFound { .. })), "{claim:?}");
    let token = catalog
        .token(unclaimed.id)
        .await
        .expect("read")
        .expect("token");
    assert_eq!(token.account_id, None);
    let missing = catalog
        .create_token(new_token(Some(flaneur_model::AccountId::new()), "cc44"))
        .await;
    assert!(
        matches!(missing, Err(Error::NotFound { .. })),
        "{missing:?}"
    );
}

async fn a_deleted_account_loses_its_tokens_and_its_login(catalog: &dyn Catalog) {
    let osm = OauthIdentity {
        provider: "osm".to_owned(),
        id: "7".to_owned(),
    };
    let ana = catalog
        .upsert_oauth_account(&osm, "ana")
        .await
        .expect("login");
    catalog
        .create_token(new_token(Some(ana.id), "dd55"))
        .await
        .expect("token");

    assert!(catalog.delete_account(ana.id).await.expect("delete"));
    assert!(!catalog.delete_account(ana.id).await.expect("delete twice"));
    assert!(catalog.account(ana.id).await.expect("read").is_none());
    assert!(
        catalog
            .account_by_name("ana")
            .await
            .expect("read")
            .is_none()
    );
    assert!(
        catalog
            .resolve_token("dd55")
            .await
            .expect("resolve")
            .is_none()
    );
    assert!(
        catalog
            .account_tokens(ana.id)
            .await
            .expect("list")
            .is_empty()
    );
    // Its name still labels its pictures.
    assert_eq!(
        catalog.account_name(ana.id).await.expect("name").as_deref(),
        Some("ana")
    );
    // It is listed no more.
    let listed = catalog.accounts(100).await.expect("accounts");
    assert!(listed.iter().all(|(id, _)| *id != ana.id), "{listed:?}");

    // Logging in again makes a new account, under another name.
    let again = catalog
        .upsert_oauth_account(&osm, "ana")
        .await
        .expect("login again");
    assert_ne!(again.id, ana.id);
    assert_eq!(again.name, "ana_2");

    // The default account stays.
    let (default_id, _) = catalog.default_account().await.expect("default");
    assert!(
        !catalog
            .delete_account(default_id)
            .await
            .expect("delete default")
    );
}

async fn unclaimed_tokens_are_forgotten_after_a_while(catalog: &dyn Catalog) {
    let ana = catalog
        .create_account("ana", Role::User)
        .await
        .expect("ana");
    let loose = catalog
        .create_token(new_token(None, "ff77"))
        .await
        .expect("create");
    let claimed = catalog
        .create_token(new_token(None, "ff88"))
        .await
        .expect("create");
    catalog
        .claim_token(claimed.id, ana.id)
        .await
        .expect("claim");
    let attached = catalog
        .create_token(new_token(Some(ana.id), "ff99"))
        .await
        .expect("create");

    // Made after the limit: kept.
    let earlier = loose.generated_at - chrono::TimeDelta::seconds(1);
    let forgotten = catalog
        .forget_unclaimed_tokens(earlier, 100)
        .await
        .expect("forget");
    assert_eq!(forgotten, 0);
    assert!(catalog.token(loose.id).await.expect("read").is_some());

    // Made before: only the unclaimed one goes.
    let later = attached.generated_at + chrono::TimeDelta::seconds(1);
    let forgotten = catalog
        .forget_unclaimed_tokens(later, 100)
        .await
        .expect("forget");
    assert_eq!(forgotten, 1);
    assert!(catalog.token(loose.id).await.expect("read").is_none());
    assert!(catalog.token(claimed.id).await.expect("read").is_some());
    assert!(catalog.token(attached.id).await.expect("read").is_some());
}

async fn unclaimed_tokens_beyond_the_newest_are_forgotten(catalog: &dyn Catalog) {
    let ana = catalog
        .create_account("ana", Role::User)
        .await
        .expect("ana");
    let mut loose = Vec::new();
    for hash in ["aa01", "aa02", "aa03"] {
        let token = catalog
            .create_token(new_token(None, hash))
            .await
            .expect("create");
        loose.push(token.id);
    }
    let attached = catalog
        .create_token(new_token(Some(ana.id), "aa04"))
        .await
        .expect("create");

    // Whatever their age, only the newest unclaimed one stays; claimed ones are not counted.
    let long_ago = chrono::Utc::now() - chrono::TimeDelta::days(365);
    let forgotten = catalog
        .forget_unclaimed_tokens(long_ago, 1)
        .await
        .expect("forget");
    assert_eq!(forgotten, 2);
    for (n, id) in loose.iter().enumerate() {
        let is_kept = catalog.token(*id).await.expect("read").is_some();
        assert_eq!(is_kept, n == 2, "token {n}");
    }
    assert!(catalog.token(attached.id).await.expect("read").is_some());
}

async fn the_instance_secret_is_made_once(catalog: &dyn Catalog) {
    let first = catalog
        .instance_secret("token_key", "first")
        .await
        .expect("secret");
    let second = catalog
        .instance_secret("token_key", "second")
        .await
        .expect("secret");
    assert_eq!(first, "first");
    assert_eq!(second, "first");
}

catalog_contracts! {
    accounts_are_made_found_and_changed => accounts_are_made_found_and_changed;
    logins_find_their_account_and_names_stay_unique =>
        logins_find_their_account_and_names_stay_unique;
    login_identities_move_to_another_provider_key =>
        login_identities_move_to_another_provider_key;
    tokens_are_claimed_once_and_resolve_by_their_hash =>
        tokens_are_claimed_once_and_resolve_by_their_hash;
    a_deleted_account_loses_its_tokens_and_its_login =>
        a_deleted_account_loses_its_tokens_and_its_login;
    unclaimed_tokens_are_forgotten_after_a_while =>
        unclaimed_tokens_are_forgotten_after_a_while;
    unclaimed_tokens_beyond_the_newest_are_forgotten =>
        unclaimed_tokens_beyond_the_newest_are_forgotten;
    the_instance_secret_is_made_once => the_instance_secret_is_made_once;
}
