//! The contract of browser logins: a login request is answered once, a session is read while
//! it is open and its account exists, and ends for good.

use chrono::{Duration, Utc};
use flaneur_model::AccountId;
use flaneur_store::{Catalog, LoginRequest, NewSession};

use crate::backend::{Sql, sql_contracts};
use flaneur_model::Role;

fn request(state_hash: &str, expires_in: Duration) -> LoginRequest {
    LoginRequest {
        state_hash: state_hash.to_owned(),
        pkce_verifier: "verifier".to_owned(),
        nonce: "nonce".to_owned(),
        next_url: Some("/sequences".to_owned()),
        redirect_url: "http://127.0.0.1:5000/api/auth/redirect".to_owned(),
        expires_at: Utc::now() + expires_in,
    }
}

fn session(id_hash: &str, account_id: AccountId, expires_in: Duration) -> NewSession {
    NewSession {
        id_hash: id_hash.to_owned(),
        account_id,
        csrf_token: format!("csrf of {id_hash}"),
        id_token: Some("header.claims.signature".to_owned()),
        expires_at: Utc::now() + expires_in,
    }
}

async fn login_requests_are_answered_once(catalog: &dyn Catalog, _sql: &Sql) {
    let kept = request("a1", Duration::minutes(10));
    catalog.put_login_request(&kept, 100).await.expect("put");
    catalog
        .put_login_request(&request("old", Duration::minutes(-1)), 100)
        .await
        .expect("put an expired one");
    // A later request purges the expired one.
    catalog
        .put_login_request(&request("b2", Duration::minutes(10)), 100)
        .await
        .expect("put");

    let taken = catalog.take_login_request("a1").await.expect("take");
    assert_eq!(taken.as_ref().map(|r| &r.next_url), Some(&kept.next_url));
    assert_eq!(taken.map(|r| r.pkce_verifier), Some(kept.pkce_verifier));
    assert_eq!(catalog.take_login_request("a1").await.expect("again"), None);
    assert_eq!(catalog.take_login_request("old").await.expect("old"), None);
    assert_eq!(
        catalog.take_login_request("zz").await.expect("unknown"),
        None
    );
}

async fn the_oldest_login_requests_go_when_too_many_wait(catalog: &dyn Catalog, _sql: &Sql) {
    for (n, hash) in ["c1", "c2", "c3"].iter().enumerate() {
        let expires_in = Duration::minutes(10) + Duration::seconds(i64::try_from(n).expect("n"));
        catalog
            .put_login_request(&request(hash, expires_in), 2)
            .await
            .expect("put");
    }
    assert_eq!(catalog.take_login_request("c1").await.expect("c1"), None);
    for kept in ["c2", "c3"] {
        let taken = catalog.take_login_request(kept).await.expect("take");
        assert!(taken.is_some(), "{kept} forgotten");
    }
}

async fn sessions_live_until_ended_expired_or_orphaned(catalog: &dyn Catalog, sql: &Sql) {
    let walker = catalog
        .create_account("walker", Role::Admin)
        .await
        .expect("walker")
        .id;
    let cyclist = catalog
        .create_account("cyclist", Role::User)
        .await
        .expect("cyclist")
        .id;
    catalog
        .create_session(&session("s1", walker, Duration::days(7)))
        .await
        .expect("create");
    catalog
        .create_session(&session("s2", walker, Duration::seconds(-1)))
        .await
        .expect("create an expired one");
    catalog
        .create_session(&session("s3", cyclist, Duration::days(7)))
        .await
        .expect("create");

    // Open, with its account and CSRF value.
    let now = Utc::now();
    let open = catalog
        .session("s1", now)
        .await
        .expect("read")
        .expect("open");
    assert_eq!(open.account.id, walker);
    assert_eq!(open.account.name, "walker");
    assert!(open.account.is_admin());
    assert_eq!(open.csrf_token, "csrf of s1");
    assert_eq!(open.id_token.as_deref(), Some("header.claims.signature"));
    // Past its expiry, and unknown.
    assert_eq!(catalog.session("s2", now).await.expect("read"), None);
    let later = open.expires_at + Duration::seconds(1);
    assert_eq!(catalog.session("s1", later).await.expect("read"), None);
    assert_eq!(catalog.session("nope", now).await.expect("read"), None);

    // Ended: gone for good, and ending it again finds nothing.
    let ended = catalog
        .end_session("s1")
        .await
        .expect("end")
        .expect("ended");
    assert_eq!(ended.id_token.as_deref(), Some("header.claims.signature"));
    assert_eq!(catalog.session("s1", now).await.expect("read"), None);
    assert_eq!(catalog.end_session("s1").await.expect("end again"), None);

    // The sessions of a deleted account die with it, whether its row goes or stays marked.
    assert!(catalog.session("s3", now).await.expect("read").is_some());
    assert!(catalog.delete_account(cyclist).await.expect("delete"));
    assert_eq!(catalog.session("s3", now).await.expect("read"), None);
    catalog
        .create_session(&session("s4", walker, Duration::days(7)))
        .await
        .expect("create");
    sql.run(
        "DELETE FROM accounts WHERE id = ?",
        "DELETE FROM accounts WHERE id = $1",
        &[walker.0],
    )
    .await;
    assert_eq!(catalog.session("s4", now).await.expect("read"), None);
}

sql_contracts! {
    login_requests_are_answered_once => login_requests_are_answered_once;
    the_oldest_login_requests_go_when_too_many_wait =>
        the_oldest_login_requests_go_when_too_many_wait;
    sessions_live_until_ended_expired_or_orphaned => sessions_live_until_ended_expired_or_orphaned;
}
