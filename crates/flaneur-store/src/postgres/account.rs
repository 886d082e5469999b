//! Accounts, API tokens and the instance's secrets.
//!
//! Several processes write at once: an account's name is chosen under a lock on the accounts
//! table's names (an advisory lock), so that two first logins wanting the same name get two
//! names.

use chrono::{DateTime, Utc};
use flaneur_model::{
    Account, AccountId, AccountPreferences, ClaimOutcome, NewToken, OauthIdentity, Role, Token,
    TokenId,
};
use sqlx::postgres::PgRow;
use sqlx::{Acquire, PgConnection, PgPool};
use uuid::Uuid;

use super::codec::{get, parse_col, stored};
use crate::account::{DEFAULT_ACCOUNT_NAME, TOUCH_EVERY, free_name, name_taken};
use crate::{Error, Result};

/// Key of the advisory lock under which account names are chosen.
const NAME_LOCK: i64 = 0x666c_616e_6575_7203;

/// The columns [`account_from_row`] reads.
pub(super) const ACCOUNT_COLUMNS: &str = "a.id, a.name, a.role, a.is_default, a.oauth_provider, \
     a.oauth_id, a.default_visibility, a.collaborative_metadata, a.tos_accepted_at, \
     a.tos_latest_change_read_at, a.created_at, a.peer_id";

/// The columns [`token_from_row`] reads.
const TOKEN_COLUMNS: &str = "t.id AS token_id, t.account_id AS token_account_id, \
     t.description, t.generated_at, t.last_used_at";

pub(super) fn account_from_row(row: &PgRow) -> Result<Account> {
    let t = "accounts";
    let id: Uuid = get(row, t, "id")?;
    let provider: Option<String> = get(row, t, "oauth_provider")?;
    let oauth_id: Option<String> = get(row, t, "oauth_id")?;
    let oauth = match (provider, oauth_id) {
        (Some(provider), Some(id)) => Some(OauthIdentity { provider, id }),
        _ => None,
    };
    let visibility: Option<String> = get(row, t, "default_visibility")?;
    Ok(Account {
        id: id.into(),
        name: get(row, t, "name")?,
        role: parse_col(row, t, "role")?,
        is_default: get(row, t, "is_default")?,
        oauth,
        default_visibility: visibility
            .map(|v| v.parse())
            .transpose()
            .map_err(|e| Error::corrupt(t, e))?,
        collaborative_metadata: get(row, t, "collaborative_metadata")?,
        tos_accepted_at: get(row, t, "tos_accepted_at")?,
        tos_latest_change_read_at: get(row, t, "tos_latest_change_read_at")?,
        created_at: get(row, t, "created_at")?,
        origin: get::<Option<Uuid>>(row, t, "peer_id")?.map(Into::into),
    })
}

fn token_from_row(row: &PgRow) -> Result<Token> {
    let t = "tokens";
    let id: Uuid = get(row, t, "token_id")?;
    let account_id: Option<Uuid> = get(row, t, "token_account_id")?;
    Ok(Token {
        id: id.into(),
        account_id: account_id.map(AccountId::from),
        description: get(row, t, "description")?,
        generated_at: get(row, t, "generated_at")?,
        last_used_at: get(row, t, "last_used_at")?,
    })
}

pub(super) async fn ensure_default_account(pool: &PgPool) -> Result<(AccountId, String)> {
    // Processes starting at once on an empty catalog: the first insert wins, the others read
    // its row.
    sqlx::query(
        "INSERT INTO accounts (id, name, is_default, role, created_at)
         VALUES ($1, $2, true, 'admin', $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(Uuid::new_v4())
    .bind(DEFAULT_ACCOUNT_NAME)
    .bind(stored(Utc::now()))
    .execute(pool)
    .await
    .map_err(Error::db("create default account"))?;
    let (id, name): (Uuid, String) =
        sqlx::query_as("SELECT id, name FROM accounts WHERE is_default")
            .fetch_one(pool)
            .await
            .map_err(Error::db("read default account"))?;
    Ok((id.into(), name))
}

pub(super) async fn account_name(pool: &PgPool, id: AccountId) -> Result<Option<String>> {
    sqlx::query_scalar("SELECT name FROM accounts WHERE id = $1")
        .bind(id.0)
        .fetch_optional(pool)
        .await
        .map_err(Error::db("read account"))
}

pub(super) async fn accounts(pool: &PgPool, limit: usize) -> Result<Vec<(AccountId, String)>> {
    let rows: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT id, name FROM accounts WHERE deleted_at IS NULL AND peer_id IS NULL \
         ORDER BY created_at, id LIMIT $1",
    )
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await
    .map_err(Error::db("list accounts"))?;
    Ok(rows
        .into_iter()
        .map(|(id, name)| (id.into(), name))
        .collect())
}

pub(super) async fn create_account(pool: &PgPool, name: &str, role: Role) -> Result<Account> {
    let id = AccountId::new();
    sqlx::query("INSERT INTO accounts (id, name, role, created_at) VALUES ($1, $2, $3, $4)")
        .bind(id.0)
        .bind(name)
        .bind(role.as_str())
        .bind(stored(Utc::now()))
        .execute(pool)
        .await
        .map_err(|e| name_taken(e, name, "create account"))?;
    account(pool, id)
        .await?
        .ok_or_else(|| Error::corrupt("accounts", "account missing after its insert"))
}

pub(super) async fn account(pool: &PgPool, id: AccountId) -> Result<Option<Account>> {
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.id = $1 AND a.deleted_at IS NULL"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(pool)
        .await
        .map_err(Error::db("read account"))?;
    row.as_ref().map(account_from_row).transpose()
}

pub(super) async fn account_by_name(pool: &PgPool, name: &str) -> Result<Option<Account>> {
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts a \
         WHERE a.name = $1 AND a.deleted_at IS NULL AND a.peer_id IS NULL"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(name)
        .fetch_optional(pool)
        .await
        .map_err(Error::db("read account by name"))?;
    row.as_ref().map(account_from_row).transpose()
}

pub(super) async fn rekey_oauth_provider(pool: &PgPool, from: &str, to: &str) -> Result<u64> {
    let moved = sqlx::query(
        "UPDATE accounts SET oauth_provider = $2 WHERE oauth_provider = $1 \
         AND NOT EXISTS (SELECT 1 FROM accounts held \
                         WHERE held.oauth_provider = $2 AND held.oauth_id = accounts.oauth_id)",
    )
    .bind(from)
    .bind(to)
    .execute(pool)
    .await
    .map_err(Error::db("rekey login identities"))?;
    Ok(moved.rows_affected())
}

pub(super) async fn upsert_oauth_account(
    pool: &PgPool,
    identity: &OauthIdentity,
    name: &str,
) -> Result<Account> {
    let mut conn = pool
        .acquire()
        .await
        .map_err(Error::db("begin account upsert"))?;
    let mut tx = conn
        .begin()
        .await
        .map_err(Error::db("begin account upsert"))?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(NAME_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(Error::db("lock account names"))?;
    let existing: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM accounts WHERE oauth_provider = $1 AND oauth_id = $2 \
         AND deleted_at IS NULL",
    )
    .bind(&identity.provider)
    .bind(&identity.id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(Error::db("find account by login"))?;
    let id = existing.unwrap_or_else(Uuid::new_v4);
    let name = unused_name(&mut tx, name, id).await?;
    sqlx::query(
        "INSERT INTO accounts (id, name, role, oauth_provider, oauth_id, created_at) \
         VALUES ($1, $2, 'user', $3, $4, $5) \
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name",
    )
    .bind(id)
    .bind(&name)
    .bind(&identity.provider)
    .bind(&identity.id)
    .bind(stored(Utc::now()))
    .execute(&mut *tx)
    .await
    .map_err(Error::db("upsert account"))?;
    tx.commit()
        .await
        .map_err(Error::db("commit account upsert"))?;
    account(pool, id.into())
        .await?
        .ok_or_else(|| Error::corrupt("accounts", "account missing after its upsert"))
}

/// `wanted`, or the first of its numbered variants that no account but `id` holds.
async fn unused_name(conn: &mut PgConnection, wanted: &str, id: Uuid) -> Result<String> {
    let mut attempt = 0;
    loop {
        let name = free_name(wanted, attempt);
        let holder: Option<Uuid> =
            sqlx::query_scalar("SELECT id FROM accounts WHERE name = $1 AND peer_id IS NULL")
                .bind(&name)
                .fetch_optional(&mut *conn)
                .await
                .map_err(Error::db("check account name"))?;
        if holder.is_none_or(|h| h == id) {
            return Ok(name);
        }
        attempt += 1;
    }
}

pub(super) async fn set_account_role(pool: &PgPool, id: AccountId, role: Role) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE accounts SET role = $1 WHERE id = $2 AND deleted_at IS NULL AND peer_id IS NULL",
    )
    .bind(role.as_str())
    .bind(id.0)
    .execute(pool)
    .await
    .map_err(Error::db("set account role"))?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn update_account_preferences(
    pool: &PgPool,
    id: AccountId,
    prefs: &AccountPreferences,
) -> Result<Option<Account>> {
    // One statement: a field left out keeps its value.
    sqlx::query(
        "UPDATE accounts SET
            default_visibility = CASE WHEN $2 THEN $3 ELSE default_visibility END,
            collaborative_metadata = CASE WHEN $4 THEN $5 ELSE collaborative_metadata END,
            tos_accepted_at = CASE WHEN $6 THEN $7 ELSE tos_accepted_at END,
            tos_latest_change_read_at =
                CASE WHEN $8 THEN $9 ELSE tos_latest_change_read_at END
         WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(id.0)
    .bind(prefs.default_visibility.is_some())
    .bind(prefs.default_visibility.flatten().map(|v| v.as_str()))
    .bind(prefs.collaborative_metadata.is_some())
    .bind(prefs.collaborative_metadata.flatten())
    .bind(prefs.tos_accepted_at.is_some())
    .bind(prefs.tos_accepted_at.flatten().map(stored))
    .bind(prefs.tos_latest_change_read_at.is_some())
    .bind(prefs.tos_latest_change_read_at.flatten().map(stored))
    .execute(pool)
    .await
    .map_err(Error::db("update account preferences"))?;
    account(pool, id).await
}

pub(super) async fn delete_account(pool: &PgPool, id: AccountId) -> Result<bool> {
    let mut tx = pool
        .begin()
        .await
        .map_err(Error::db("begin account deletion"))?;
    let done = sqlx::query(
        "UPDATE accounts SET deleted_at = $2, oauth_provider = NULL, oauth_id = NULL \
         WHERE id = $1 AND deleted_at IS NULL AND NOT is_default",
    )
    .bind(id.0)
    .bind(stored(Utc::now()))
    .execute(&mut *tx)
    .await
    .map_err(Error::db("delete account"))?;
    sqlx::query("DELETE FROM tokens WHERE account_id = $1")
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(Error::db("delete account tokens"))?;
    tx.commit()
        .await
        .map_err(Error::db("commit account deletion"))?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn create_token(pool: &PgPool, new: NewToken) -> Result<Token> {
    sqlx::query(
        "INSERT INTO tokens (id, account_id, description, generated_at, secret_sha256) \
         SELECT $1, $2, $3, $4, $5 \
         WHERE $2::uuid IS NULL \
            OR EXISTS (SELECT 1 FROM accounts
                       WHERE id = $2 AND deleted_at IS NULL AND peer_id IS NULL)",
    )
    .bind(new.id.0)
    .bind(new.account_id.map(|a| a.0))
    .bind(&new.description)
    .bind(stored(Utc::now()))
    .bind(&new.secret_sha256)
    .execute(pool)
    .await
    .map_err(Error::db("create token"))?;
    token(pool, new.id).await?.ok_or_else(|| Error::NotFound {
        kind: "account",
        id: new.account_id.map(|a| a.to_string()).unwrap_or_default(),
    })
}

pub(super) async fn claim_token(
    pool: &PgPool,
    id: TokenId,
    account: AccountId,
) -> Result<ClaimOutcome> {
    // The update claims only an unclaimed token; when it changes nothing, the row says why.
    let claimed = sqlx::query(
        "UPDATE tokens SET account_id = $2 WHERE id = $1 AND account_id IS NULL \
         AND EXISTS (SELECT 1 FROM accounts
                     WHERE id = $2 AND deleted_at IS NULL AND peer_id IS NULL)",
    )
    .bind(id.0)
    .bind(account.0)
    .execute(pool)
    .await
    .map_err(Error::db("claim token"))?;
    if claimed.rows_affected() > 0 {
        return Ok(ClaimOutcome::Claimed);
    }
    let holder: Option<Option<Uuid>> =
        sqlx::query_scalar("SELECT account_id FROM tokens WHERE id = $1")
            .bind(id.0)
            .fetch_optional(pool)
            .await
            .map_err(Error::db("read token"))?;
    Ok(match holder {
        None => ClaimOutcome::Unknown,
        Some(Some(holder)) if holder == account.0 => ClaimOutcome::AlreadyOwn,
        Some(Some(_)) => ClaimOutcome::ClaimedByOther,
        // Unclaimed and still unclaimed: the account is gone.
        Some(None) => {
            return Err(Error::NotFound {
                kind: "account",
                id: account.to_string(),
            });
        }
    })
}

pub(super) async fn account_tokens(pool: &PgPool, account: AccountId) -> Result<Vec<Token>> {
    let sql = format!(
        "SELECT {TOKEN_COLUMNS} FROM tokens t WHERE t.account_id = $1 \
         ORDER BY t.generated_at, t.id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(account.0)
        .fetch_all(pool)
        .await
        .map_err(Error::db("list tokens"))?;
    rows.iter().map(token_from_row).collect()
}

pub(super) async fn token(pool: &PgPool, id: TokenId) -> Result<Option<Token>> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens t WHERE t.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(pool)
        .await
        .map_err(Error::db("read token"))?;
    row.as_ref().map(token_from_row).transpose()
}

pub(super) async fn resolve_token(
    pool: &PgPool,
    secret_sha256: &str,
) -> Result<Option<(Token, Option<Account>)>> {
    let sql = format!(
        "SELECT {TOKEN_COLUMNS}, {ACCOUNT_COLUMNS} FROM tokens t \
         LEFT JOIN accounts a ON a.id = t.account_id AND a.deleted_at IS NULL AND a.peer_id IS NULL \
         WHERE t.secret_sha256 = $1"
    );
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(secret_sha256)
        .fetch_optional(pool)
        .await
        .map_err(Error::db("resolve token"))?
    else {
        return Ok(None);
    };
    let mut token = token_from_row(&row)?;
    let joined: Option<Uuid> = get(&row, "accounts", "id")?;
    let account = match joined {
        Some(_) => Some(account_from_row(&row)?),
        None => None,
    };

    // The last use is written at most once per TOUCH_EVERY, so that a busy client does not
    // turn each of its reads into a write.
    let now = stored(Utc::now());
    if is_stale(token.last_used_at, now) {
        sqlx::query("UPDATE tokens SET last_used_at = $2 WHERE id = $1")
            .bind(token.id.0)
            .bind(now)
            .execute(pool)
            .await
            .map_err(Error::db("touch token"))?;
        token.last_used_at = Some(now);
    }
    Ok(Some((token, account)))
}

fn is_stale(last_used_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last_used_at.is_none_or(|t| now - t >= TOUCH_EVERY)
}

pub(super) async fn revoke_token(pool: &PgPool, id: TokenId) -> Result<bool> {
    let done = sqlx::query("DELETE FROM tokens WHERE id = $1")
        .bind(id.0)
        .execute(pool)
        .await
        .map_err(Error::db("revoke token"))?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn forget_unclaimed_tokens(
    pool: &PgPool,
    before: DateTime<Utc>,
    keep: u64,
) -> Result<u64> {
    let done = sqlx::query(
        "DELETE FROM tokens WHERE account_id IS NULL AND (generated_at < $1 OR id NOT IN \
         (SELECT id FROM tokens WHERE account_id IS NULL \
          ORDER BY generated_at DESC, id DESC LIMIT $2))",
    )
    .bind(before)
    .bind(i64::try_from(keep).unwrap_or(i64::MAX))
    .execute(pool)
    .await
    .map_err(Error::db("forget unclaimed tokens"))?;
    Ok(done.rows_affected())
}

pub(super) async fn instance_secret(pool: &PgPool, name: &str, fresh: &str) -> Result<String> {
    // The first process to ask stores its value; every other one reads it.
    sqlx::query(
        "INSERT INTO instance_secrets (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(name)
    .bind(fresh)
    .execute(pool)
    .await
    .map_err(Error::db("store instance secret"))?;
    sqlx::query_scalar("SELECT value FROM instance_secrets WHERE name = $1")
        .bind(name)
        .fetch_one(pool)
        .await
        .map_err(Error::db("read instance secret"))
}
