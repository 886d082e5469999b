//! Accounts, API tokens and the instance's secrets.

use chrono::{DateTime, Utc};
use flaneur_model::{
    Account, AccountId, AccountPreferences, ClaimOutcome, NewToken, OauthIdentity, Role, Token,
    TokenId,
};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection, SqlitePool};

use super::begin_write;
use super::codec::{from_micros, parse_col, parse_opt_col, to_micros};
use crate::account::{DEFAULT_ACCOUNT_NAME, TOUCH_EVERY, free_name, name_taken};
use crate::{Error, Result};

/// The columns [`account_from_row`] reads.
pub(super) const ACCOUNT_COLUMNS: &str = "a.id, a.name, a.role, a.is_default, a.oauth_provider, \
     a.oauth_id, a.default_visibility, a.collaborative_metadata, a.tos_accepted_at, \
     a.tos_latest_change_read_at, a.created_at, a.peer_id";

/// The columns [`token_from_row`] reads.
const TOKEN_COLUMNS: &str = "t.id AS token_id, t.account_id AS token_account_id, \
     t.description, t.generated_at, t.last_used_at";

pub(super) fn account_from_row(row: &SqliteRow) -> Result<Account> {
    let t = "accounts";
    let get_i64 = |col: &str| -> Result<Option<i64>> {
        row.try_get(col)
            .map_err(|e| Error::corrupt(t, format!("{col}: {e}")))
    };
    let text = |col: &str| -> Result<Option<String>> {
        row.try_get(col)
            .map_err(|e| Error::corrupt(t, format!("{col}: {e}")))
    };
    let oauth = match (text("oauth_provider")?, text("oauth_id")?) {
        (Some(provider), Some(id)) => Some(OauthIdentity { provider, id }),
        _ => None,
    };
    Ok(Account {
        id: parse_col(row, t, "id")?,
        name: text("name")?.unwrap_or_default(),
        role: parse_col(row, t, "role")?,
        is_default: get_i64("is_default")?.unwrap_or(0) != 0,
        oauth,
        default_visibility: parse_opt_col(row, t, "default_visibility")?,
        collaborative_metadata: get_i64("collaborative_metadata")?.map(|b| b != 0),
        tos_accepted_at: get_i64("tos_accepted_at")?.map(from_micros),
        tos_latest_change_read_at: get_i64("tos_latest_change_read_at")?.map(from_micros),
        created_at: from_micros(get_i64("created_at")?.unwrap_or(0)),
        origin: parse_opt_col(row, t, "peer_id")?,
    })
}

fn token_from_row(row: &SqliteRow) -> Result<Token> {
    let t = "tokens";
    let micros = |col: &str| -> Result<Option<i64>> {
        row.try_get(col)
            .map_err(|e| Error::corrupt(t, format!("{col}: {e}")))
    };
    Ok(Token {
        id: parse_col(row, t, "token_id")?,
        account_id: parse_opt_col(row, t, "token_account_id")?,
        description: row
            .try_get("description")
            .map_err(|e| Error::corrupt(t, e))?,
        generated_at: from_micros(micros("generated_at")?.unwrap_or(0)),
        last_used_at: micros("last_used_at")?.map(from_micros),
    })
}

pub(super) async fn ensure_default_account(pool: &SqlitePool) -> Result<(AccountId, String)> {
    let existing: Option<(String, String)> =
        sqlx::query_as("SELECT id, name FROM accounts WHERE is_default = 1")
            .fetch_optional(pool)
            .await
            .map_err(Error::db("read default account"))?;
    if let Some((id, name)) = existing {
        let id = id.parse().map_err(|e| Error::corrupt("accounts", e))?;
        return Ok((id, name));
    }
    let id = AccountId::new();
    sqlx::query(
        "INSERT INTO accounts (id, name, is_default, role, created_at) \
         VALUES (?, ?, 1, 'admin', ?)",
    )
    .bind(id.to_string())
    .bind(DEFAULT_ACCOUNT_NAME)
    .bind(to_micros(Utc::now()))
    .execute(pool)
    .await
    .map_err(Error::db("create default account"))?;
    Ok((id, DEFAULT_ACCOUNT_NAME.to_owned()))
}

pub(super) async fn account_name(pool: &SqlitePool, id: AccountId) -> Result<Option<String>> {
    sqlx::query_scalar("SELECT name FROM accounts WHERE id = ?")
        .bind(id.to_string())
        .fetch_optional(pool)
        .await
        .map_err(Error::db("read account"))
}

pub(super) async fn accounts(pool: &SqlitePool, limit: usize) -> Result<Vec<(AccountId, String)>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, name FROM accounts WHERE deleted_at IS NULL AND peer_id IS NULL \
         ORDER BY created_at, id LIMIT ?",
    )
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await
    .map_err(Error::db("list accounts"))?;
    rows.into_iter()
        .map(|(id, name)| Ok((id.parse().map_err(|e| Error::corrupt("accounts", e))?, name)))
        .collect()
}

pub(super) async fn create_account(pool: &SqlitePool, name: &str, role: Role) -> Result<Account> {
    let id = AccountId::new();
    sqlx::query("INSERT INTO accounts (id, name, role, created_at) VALUES (?, ?, ?, ?)")
        .bind(id.to_string())
        .bind(name)
        .bind(role.as_str())
        .bind(to_micros(Utc::now()))
        .execute(pool)
        .await
        .map_err(|e| name_taken(e, name, "create account"))?;
    account(pool, id)
        .await?
        .ok_or_else(|| Error::corrupt("accounts", "account missing after its insert"))
}

pub(super) async fn account(pool: &SqlitePool, id: AccountId) -> Result<Option<Account>> {
    let sql =
        format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.id = ? AND a.deleted_at IS NULL");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.to_string())
        .fetch_optional(pool)
        .await
        .map_err(Error::db("read account"))?;
    row.as_ref().map(account_from_row).transpose()
}

pub(super) async fn account_by_name(pool: &SqlitePool, name: &str) -> Result<Option<Account>> {
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts a \
         WHERE a.name = ? AND a.deleted_at IS NULL AND a.peer_id IS NULL"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(name)
        .fetch_optional(pool)
        .await
        .map_err(Error::db("read account by name"))?;
    row.as_ref().map(account_from_row).transpose()
}

pub(super) async fn rekey_oauth_provider(pool: &SqlitePool, from: &str, to: &str) -> Result<u64> {
    let moved = sqlx::query(
        "UPDATE accounts SET oauth_provider = ?2 WHERE oauth_provider = ?1 \
         AND NOT EXISTS (SELECT 1 FROM accounts held \
                         WHERE held.oauth_provider = ?2 AND held.oauth_id = accounts.oauth_id)",
    )
    .bind(from)
    .bind(to)
    .execute(pool)
    .await
    .map_err(Error::db("rekey login identities"))?;
    Ok(moved.rows_affected())
}

pub(super) async fn upsert_oauth_account(
    pool: &SqlitePool,
    identity: &OauthIdentity,
    name: &str,
) -> Result<Account> {
    let mut tx = begin_write(pool)
        .await
        .map_err(Error::db("begin account upsert"))?;
    let existing: Option<String> = sqlx::query_scalar(
        "SELECT id FROM accounts WHERE oauth_provider = ? AND oauth_id = ? \
         AND deleted_at IS NULL",
    )
    .bind(&identity.provider)
    .bind(&identity.id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(Error::db("find account by login"))?;
    let id = match existing {
        Some(id) => id,
        None => AccountId::new().to_string(),
    };
    let name = unused_name(&mut tx, name, &id).await?;
    sqlx::query(
        "INSERT INTO accounts (id, name, role, oauth_provider, oauth_id, created_at) \
         VALUES (?1, ?2, 'user', ?3, ?4, ?5) \
         ON CONFLICT (id) DO UPDATE SET name = ?2",
    )
    .bind(&id)
    .bind(&name)
    .bind(&identity.provider)
    .bind(&identity.id)
    .bind(to_micros(Utc::now()))
    .execute(&mut *tx)
    .await
    .map_err(Error::db("upsert account"))?;
    tx.commit()
        .await
        .map_err(Error::db("commit account upsert"))?;
    let id = id.parse().map_err(|e| Error::corrupt("accounts", e))?;
    account(pool, id)
        .await?
        .ok_or_else(|| Error::corrupt("accounts", "account missing after its upsert"))
}

/// `wanted`, or the first of its numbered variants that no account but `id` holds.
async fn unused_name(conn: &mut SqliteConnection, wanted: &str, id: &str) -> Result<String> {
    let mut attempt = 0;
    loop {
        let name = free_name(wanted, attempt);
        let holder: Option<String> =
            sqlx::query_scalar("SELECT id FROM accounts WHERE name = ? AND peer_id IS NULL")
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

pub(super) async fn set_account_role(pool: &SqlitePool, id: AccountId, role: Role) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE accounts SET role = ? WHERE id = ? AND deleted_at IS NULL AND peer_id IS NULL",
    )
    .bind(role.as_str())
    .bind(id.to_string())
    .execute(pool)
    .await
    .map_err(Error::db("set account role"))?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn update_account_preferences(
    pool: &SqlitePool,
    id: AccountId,
    prefs: &AccountPreferences,
) -> Result<Option<Account>> {
    let mut tx = begin_write(pool)
        .await
        .map_err(Error::db("begin preferences update"))?;
    if let Some(visibility) = prefs.default_visibility {
        sqlx::query("UPDATE accounts SET default_visibility = ? WHERE id = ?")
            .bind(visibility.map(|v| v.as_str()))
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(Error::db("update default visibility"))?;
    }
    if let Some(collaborative) = prefs.collaborative_metadata {
        sqlx::query("UPDATE accounts SET collaborative_metadata = ? WHERE id = ?")
            .bind(collaborative)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(Error::db("update collaborative editing"))?;
    }
    if let Some(accepted) = prefs.tos_accepted_at {
        sqlx::query("UPDATE accounts SET tos_accepted_at = ? WHERE id = ?")
            .bind(accepted.map(to_micros))
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(Error::db("update terms acceptance"))?;
    }
    if let Some(read) = prefs.tos_latest_change_read_at {
        sqlx::query("UPDATE accounts SET tos_latest_change_read_at = ? WHERE id = ?")
            .bind(read.map(to_micros))
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(Error::db("update terms reading"))?;
    }
    tx.commit()
        .await
        .map_err(Error::db("commit preferences update"))?;
    account(pool, id).await
}

pub(super) async fn delete_account(pool: &SqlitePool, id: AccountId) -> Result<bool> {
    let mut tx = begin_write(pool)
        .await
        .map_err(Error::db("begin account deletion"))?;
    let done = sqlx::query(
        "UPDATE accounts SET deleted_at = ?, oauth_provider = NULL, oauth_id = NULL \
         WHERE id = ? AND deleted_at IS NULL AND is_default = 0",
    )
    .bind(to_micros(Utc::now()))
    .bind(id.to_string())
    .execute(&mut *tx)
    .await
    .map_err(Error::db("delete account"))?;
    sqlx::query("DELETE FROM tokens WHERE account_id = ?")
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(Error::db("delete account tokens"))?;
    tx.commit()
        .await
        .map_err(Error::db("commit account deletion"))?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn create_token(pool: &SqlitePool, new: NewToken) -> Result<Token> {
    let now = to_micros(Utc::now());
    sqlx::query(
        "INSERT INTO tokens (id, account_id, description, generated_at, secret_sha256) \
         SELECT ?1, ?2, ?3, ?4, ?5 \
         WHERE ?2 IS NULL OR EXISTS (SELECT 1 FROM accounts \
                                    WHERE id = ?2 AND deleted_at IS NULL AND peer_id IS NULL)",
    )
    .bind(new.id.to_string())
    .bind(new.account_id.map(|a| a.to_string()))
    .bind(&new.description)
    .bind(now)
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
    pool: &SqlitePool,
    id: TokenId,
    account: AccountId,
) -> Result<ClaimOutcome> {
    let mut tx = begin_write(pool)
        .await
        .map_err(Error::db("begin token claim"))?;
    let holder: Option<Option<String>> =
        sqlx::query_scalar("SELECT account_id FROM tokens WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(Error::db("read token"))?;
    let outcome = match holder {
        None => ClaimOutcome::Unknown,
        Some(Some(holder)) if holder == account.to_string() => ClaimOutcome::AlreadyOwn,
        Some(Some(_)) => ClaimOutcome::ClaimedByOther,
        Some(None) => {
            let claimed = sqlx::query(
                "UPDATE tokens SET account_id = ?1 WHERE id = ?2 AND account_id IS NULL \
                 AND EXISTS (SELECT 1 FROM accounts \
                             WHERE id = ?1 AND deleted_at IS NULL AND peer_id IS NULL)",
            )
            .bind(account.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(Error::db("claim token"))?;
            if claimed.rows_affected() == 0 {
                return Err(Error::NotFound {
                    kind: "account",
                    id: account.to_string(),
                });
            }
            ClaimOutcome::Claimed
        }
    };
    tx.commit().await.map_err(Error::db("commit token claim"))?;
    Ok(outcome)
}

pub(super) async fn account_tokens(pool: &SqlitePool, account: AccountId) -> Result<Vec<Token>> {
    let sql = format!(
        "SELECT {TOKEN_COLUMNS} FROM tokens t WHERE t.account_id = ? \
         ORDER BY t.generated_at, t.id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(account.to_string())
        .fetch_all(pool)
        .await
        .map_err(Error::db("list tokens"))?;
    rows.iter().map(token_from_row).collect()
}

pub(super) async fn token(pool: &SqlitePool, id: TokenId) -> Result<Option<Token>> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens t WHERE t.id = ?");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.to_string())
        .fetch_optional(pool)
        .await
        .map_err(Error::db("read token"))?;
    row.as_ref().map(token_from_row).transpose()
}

pub(super) async fn resolve_token(
    reader: &SqlitePool,
    writer: &SqlitePool,
    secret_sha256: &str,
) -> Result<Option<(Token, Option<Account>)>> {
    let sql = format!(
        "SELECT {TOKEN_COLUMNS}, {ACCOUNT_COLUMNS} FROM tokens t \
         LEFT JOIN accounts a ON a.id = t.account_id AND a.deleted_at IS NULL AND a.peer_id IS NULL \
         WHERE t.secret_sha256 = ?"
    );
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(secret_sha256)
        .fetch_optional(reader)
        .await
        .map_err(Error::db("resolve token"))?
    else {
        return Ok(None);
    };
    let mut token = token_from_row(&row)?;
    let has_account: Option<String> = row
        .try_get("name")
        .map_err(|e| Error::corrupt("accounts", e))?;
    let account = match has_account {
        Some(_) => Some(account_from_row(&row)?),
        None => None,
    };

    // The last use is written at most once per TOUCH_EVERY, so that a busy client does not
    // turn each of its reads into a write.
    // Cut to the microseconds stored, so that the value returned reads back the same.
    let now = from_micros(to_micros(Utc::now()));
    if is_stale(token.last_used_at, now) {
        sqlx::query("UPDATE tokens SET last_used_at = ? WHERE id = ?")
            .bind(to_micros(now))
            .bind(token.id.to_string())
            .execute(writer)
            .await
            .map_err(Error::db("touch token"))?;
        token.last_used_at = Some(now);
    }
    Ok(Some((token, account)))
}

fn is_stale(last_used_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last_used_at.is_none_or(|t| now - t >= TOUCH_EVERY)
}

pub(super) async fn revoke_token(pool: &SqlitePool, id: TokenId) -> Result<bool> {
    let done = sqlx::query("DELETE FROM tokens WHERE id = ?")
        .bind(id.to_string())
        .execute(pool)
        .await
        .map_err(Error::db("revoke token"))?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn forget_unclaimed_tokens(
    pool: &SqlitePool,
    before: DateTime<Utc>,
    keep: u64,
) -> Result<u64> {
    let done = sqlx::query(
        "DELETE FROM tokens WHERE account_id IS NULL AND (generated_at < ?1 OR id NOT IN \
         (SELECT id FROM tokens WHERE account_id IS NULL \
          ORDER BY generated_at DESC, id DESC LIMIT ?2))",
    )
    .bind(to_micros(before))
    .bind(i64::try_from(keep).unwrap_or(i64::MAX))
    .execute(pool)
    .await
    .map_err(Error::db("forget unclaimed tokens"))?;
    Ok(done.rows_affected())
}

pub(super) async fn instance_secret(pool: &SqlitePool, name: &str, fresh: &str) -> Result<String> {
    // The first process to ask stores its value; every other one reads it.
    sqlx::query("INSERT INTO instance_secrets (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING")
        .bind(name)
        .bind(fresh)
        .execute(pool)
        .await
        .map_err(Error::db("store instance secret"))?;
    sqlx::query_scalar("SELECT value FROM instance_secrets WHERE name = ?")
        .bind(name)
        .fetch_one(pool)
        .await
        .map_err(Error::db("read instance secret"))
}
