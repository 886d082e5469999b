//! Peers and the data harvested from them, in SQLite (see [`crate::federation`]).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use flaneur_model::{
    AccountId, ApplyOutcome, Claim, HarvestClaim, HarvestEnd, HarvestProgress, HarvestState,
    Holder, Peer, PeerId, PeerSource, RemoteCollection, RemoteItem, RemoteRemoval, SequenceId,
    Skip,
};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use super::begin_write;
use super::codec::{from_micros, get, parse_col, to_micros};
use super::sequence::refresh_sequence_figures;
use crate::federation::{
    HARVESTED_TOMBSTONE, HolderRow, RemotePictureDoc, TOMBSTONE_ASSIGNMENTS, TrackFigures,
    author_key, check_items, collection_tags, item_tags, peer_url, refuse_deleted, refuse_remote,
};
use crate::{Error, Result};

/// Rows per multi-row `INSERT`: 16 parameters each stay far below SQLite's limit of 32,766.
const ROWS_PER_INSERT: usize = 500;

const PEER_COLUMNS: &str = "id, api_url, source, is_paused, added_at, last_attempt_at, \
     last_success_at, failures, next_attempt_at, last_error, watermark, resume_url, \
     nb_collections, nb_items, leased_until, \
     (SELECT count(*) FROM harvest_conflicts c WHERE c.peer_id = peers.id AND c.is_conflict)
         AS nb_conflicts";

fn peer_from_row(row: &SqliteRow) -> Result<Peer> {
    let t = "peers";
    let instant = |col: &str| -> Result<Option<DateTime<Utc>>> {
        Ok(get::<Option<i64>>(row, t, col)?.map(from_micros))
    };
    let count = |col: &str| -> Result<u64> {
        u64::try_from(get::<i64>(row, t, col)?).map_err(|e| Error::corrupt(t, e))
    };
    Ok(Peer {
        id: parse_col(row, t, "id")?,
        api_url: get(row, t, "api_url")?,
        source: parse_col::<PeerSource>(row, t, "source")?,
        is_paused: get::<i64>(row, t, "is_paused")? != 0,
        added_at: from_micros(get(row, t, "added_at")?),
        harvest: HarvestState {
            last_attempt_at: instant("last_attempt_at")?,
            last_success_at: instant("last_success_at")?,
            failures: u32::try_from(get::<i64>(row, t, "failures")?)
                .map_err(|e| Error::corrupt(t, e))?,
            next_attempt_at: instant("next_attempt_at")?,
            last_error: get(row, t, "last_error")?,
            watermark: instant("watermark")?,
            resume_url: get(row, t, "resume_url")?,
            nb_collections: count("nb_collections")?,
            nb_items: count("nb_items")?,
            nb_conflicts: count("nb_conflicts")?,
            leased_until: instant("leased_until")?,
        },
    })
}

pub(super) async fn add_peer(pool: &SqlitePool, api_url: &str, source: PeerSource) -> Result<Peer> {
    let url = peer_url(api_url);
    sqlx::query(
        "INSERT INTO peers (id, api_url, source, added_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (api_url) DO UPDATE SET source = 'admin' WHERE excluded.source = 'admin'",
    )
    .bind(PeerId::new().to_string())
    .bind(url)
    .bind(source.as_str())
    .bind(to_micros(Utc::now()))
    .execute(pool)
    .await
    .map_err(Error::db("add peer"))?;
    peer_by_url(pool, url)
        .await?
        .ok_or_else(|| Error::corrupt("peers", "peer missing after its insert"))
}

pub(super) async fn peers(pool: &SqlitePool) -> Result<Vec<Peer>> {
    let sql = format!("SELECT {PEER_COLUMNS} FROM peers ORDER BY added_at, id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool)
        .await
        .map_err(Error::db("list peers"))?;
    rows.iter().map(peer_from_row).collect()
}

pub(super) async fn peer(pool: &SqlitePool, id: PeerId) -> Result<Option<Peer>> {
    let sql = format!("SELECT {PEER_COLUMNS} FROM peers WHERE id = ?");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.to_string())
        .fetch_optional(pool)
        .await
        .map_err(Error::db("read peer"))?;
    row.as_ref().map(peer_from_row).transpose()
}

pub(super) async fn peer_by_url(pool: &SqlitePool, api_url: &str) -> Result<Option<Peer>> {
    let sql = format!("SELECT {PEER_COLUMNS} FROM peers WHERE api_url = ?");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(peer_url(api_url))
        .fetch_optional(pool)
        .await
        .map_err(Error::db("read peer"))?;
    row.as_ref().map(peer_from_row).transpose()
}

pub(super) async fn remove_peer(pool: &SqlitePool, id: PeerId) -> Result<bool> {
    let id = id.to_string();
    let mut tx = begin_write(pool).await.map_err(Error::db("remove peer"))?;
    // Pictures first: their rows take their ranks with them (see the map migration), so the
    // sequences become tombstones with no rank left, and the accounts go with nothing
    // crediting them.
    let tombstones = format!("UPDATE sequences SET {TOMBSTONE_ASSIGNMENTS} WHERE peer_id = ?");
    for sql in [
        "DELETE FROM harvest_conflicts WHERE peer_id = ?",
        "DELETE FROM pictures WHERE peer_id = ?",
        "DELETE FROM sequence_semantics
         WHERE sequence_id IN (SELECT id FROM sequences WHERE peer_id = ?)",
        tombstones.as_str(),
        "DELETE FROM accounts WHERE peer_id = ?",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&id)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("remove peer data"))?;
    }
    let done = sqlx::query("DELETE FROM peers WHERE id = ?")
        .bind(&id)
        .execute(&mut *tx)
        .await
        .map_err(Error::db("remove peer"))?;
    tx.commit().await.map_err(Error::db("remove peer"))?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn set_peer_paused(pool: &SqlitePool, id: PeerId, paused: bool) -> Result<bool> {
    // A pause drops the next attempt rather than keep one nothing will make; resuming makes
    // the peer due at once.
    let done = sqlx::query(
        "UPDATE peers SET is_paused = ?1,
             next_attempt_at = CASE WHEN ?1 THEN NULL ELSE next_attempt_at END
         WHERE id = ?2",
    )
    .bind(i64::from(paused))
    .bind(id.to_string())
    .execute(pool)
    .await
    .map_err(Error::db("pause peer"))?;
    Ok(done.rows_affected() == 1)
}

/// The end of a lease of `term` taken or renewed now, in microseconds.
fn lease_end(term: std::time::Duration) -> i64 {
    let term = i64::try_from(term.as_micros()).unwrap_or(i64::MAX / 2);
    to_micros(Utc::now()).saturating_add(term)
}

pub(super) async fn claim_harvest(
    pool: &SqlitePool,
    id: PeerId,
    claim: &HarvestClaim,
) -> Result<bool> {
    // One statement: SQLite runs writes one at a time, so two claims never both see the
    // peer free.
    let done = sqlx::query(
        "UPDATE peers SET lease_holder = ?1, leased_until = ?2
         WHERE id = ?3 AND (lease_holder IS NULL OR lease_holder = ?1 OR leased_until < ?4)",
    )
    .bind(claim.pass.to_string())
    .bind(lease_end(claim.term))
    .bind(id.to_string())
    .bind(to_micros(Utc::now()))
    .execute(pool)
    .await
    .map_err(Error::db("claim harvest"))?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn renew_harvest(
    pool: &SqlitePool,
    id: PeerId,
    claim: &HarvestClaim,
) -> Result<bool> {
    let done = sqlx::query("UPDATE peers SET leased_until = ? WHERE id = ? AND lease_holder = ?")
        .bind(lease_end(claim.term))
        .bind(id.to_string())
        .bind(claim.pass.to_string())
        .execute(pool)
        .await
        .map_err(Error::db("renew harvest lease"))?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn release_harvest(
    pool: &SqlitePool,
    id: PeerId,
    claim: &HarvestClaim,
) -> Result<()> {
    sqlx::query(
        "UPDATE peers SET lease_holder = NULL, leased_until = NULL
         WHERE id = ? AND lease_holder = ?",
    )
    .bind(id.to_string())
    .bind(claim.pass.to_string())
    .execute(pool)
    .await
    .map_err(Error::db("release harvest"))?;
    Ok(())
}

pub(super) async fn start_harvest(pool: &SqlitePool, id: PeerId, at: DateTime<Utc>) -> Result<()> {
    sqlx::query("UPDATE peers SET last_attempt_at = ? WHERE id = ?")
        .bind(to_micros(at))
        .bind(id.to_string())
        .execute(pool)
        .await
        .map_err(Error::db("start harvest"))?;
    Ok(())
}

/// The end of an `UPDATE peers` writing a pass's end (`?3` the peer, `?4` the pass or null):
/// written only while the pass holds the peer, freeing it; without a pass, whoever holds it,
/// leaving the lease alone.
const END_FENCE: &str = "lease_holder = CASE WHEN ?4 IS NULL THEN lease_holder END,
     leased_until = CASE WHEN ?4 IS NULL THEN leased_until END
     WHERE id = ?3 AND (?4 IS NULL OR lease_holder = ?4)";

pub(super) async fn finish_harvest(
    pool: &SqlitePool,
    id: PeerId,
    claim: Option<&HarvestClaim>,
    end: &HarvestEnd,
) -> Result<()> {
    // One statement: a pass taking the peer over between a check of the lease and the write
    // would have its state overwritten by the end of the pass it replaced.
    let query = match end {
        HarvestEnd::Success {
            at,
            next_attempt_at,
        } => sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE peers SET last_success_at = ?1,
                 next_attempt_at = CASE WHEN is_paused THEN NULL ELSE ?2 END, failures = 0,
                 last_error = NULL, resume_url = NULL, {END_FENCE}"
        )))
        .bind(to_micros(*at))
        .bind(to_micros(*next_attempt_at)),
        HarvestEnd::Failure {
            at: _,
            error,
            next_attempt_at,
        } => sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE peers SET last_error = ?1,
                 next_attempt_at = CASE WHEN is_paused THEN NULL ELSE ?2 END,
                 failures = failures + 1, {END_FENCE}"
        )))
        .bind(error.clone())
        .bind(to_micros(*next_attempt_at)),
    };
    let done = query
        .bind(id.to_string())
        .bind(claim.map(|c| c.pass.to_string()))
        .execute(pool)
        .await
        .map_err(Error::db("finish harvest"))?;
    if claim.is_some() && done.rows_affected() == 0 {
        return Err(Error::HarvestTaken { peer: id });
    }
    Ok(())
}

pub(super) async fn remote_collection_updated(
    pool: &SqlitePool,
    peer: PeerId,
    id: SequenceId,
) -> Result<Option<DateTime<Utc>>> {
    let updated: Option<Option<i64>> =
        sqlx::query_scalar("SELECT remote_updated_at FROM sequences WHERE id = ? AND peer_id = ?")
            .bind(id.to_string())
            .bind(peer.to_string())
            .fetch_optional(pool)
            .await
            .map_err(Error::db("read remote collection"))?;
    Ok(updated.flatten().map(from_micros))
}

pub(super) async fn collection_holder(pool: &SqlitePool, id: SequenceId) -> Result<Option<Holder>> {
    let mut conn = pool.acquire().await.map_err(Error::db("read holder"))?;
    holder_of(&mut conn, &id.to_string()).await
}

/// A sequence's peer, the peer's API root, the `flaneur:origin` and `flaneur:origin_updated`
/// its JSON gives, its peer's `updated`, whether it is a harvested tombstone and when its
/// origin removed it.
type HolderColumns = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    bool,
    Option<i64>,
);

/// Who holds the sequence `id`, with the origin of a peer's copy read from the JSON it came
/// with.
async fn holder_of(conn: &mut SqliteConnection, id: &str) -> Result<Option<Holder>> {
    let row: Option<HolderColumns> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT s.peer_id, p.api_url,
                 CASE WHEN json_type(s.remote_doc, '$.\"flaneur:origin\"') = 'text'
                      THEN json_extract(s.remote_doc, '$.\"flaneur:origin\"') END,
                 CASE WHEN json_type(s.remote_doc, '$.\"flaneur:origin_updated\"') = 'text'
                      THEN json_extract(s.remote_doc, '$.\"flaneur:origin_updated\"') END,
                 s.remote_updated_at, {HARVESTED_TOMBSTONE}, s.origin_removed_at
             FROM sequences s LEFT JOIN peers p ON p.id = s.peer_id
             WHERE s.id = ?",
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(Error::db("read holder"))?;
    let Some((peer, api_url, claimed, claimed_updated, updated, is_harvested_tombstone, removed)) =
        row
    else {
        return Ok(None);
    };
    let peer = peer
        .map(|peer| peer.parse())
        .transpose()
        .map_err(|e| Error::corrupt("sequences", format!("peer_id: {e}")))?;
    let row = HolderRow {
        peer,
        api_url,
        claimed,
        claimed_updated,
        updated: updated.map(from_micros),
        is_harvested_tombstone,
        origin_removed_at: removed.map(from_micros),
    };
    Ok(row.holder())
}

pub(super) async fn record_skip(
    pool: &SqlitePool,
    peer: PeerId,
    id: SequenceId,
    skip: Skip,
    progress: &HarvestProgress,
) -> Result<()> {
    let mut tx = begin_write(pool).await.map_err(Error::db("record skip"))?;
    note_skip(&mut tx, &peer.to_string(), &id.to_string(), Some(skip)).await?;
    save_progress(&mut tx, peer, progress).await?;
    tx.commit().await.map_err(Error::db("record skip"))
}

/// Records why a peer's collection is not held from it, or clears that (`None`).
async fn note_skip(
    conn: &mut SqliteConnection,
    peer: &str,
    sequence: &str,
    skip: Option<Skip>,
) -> Result<()> {
    let query = match skip {
        Some(skip) => sqlx::query(
            "INSERT INTO harvest_conflicts (peer_id, sequence_id, is_conflict) VALUES (?, ?, ?)
             ON CONFLICT (peer_id, sequence_id) DO UPDATE SET is_conflict = excluded.is_conflict",
        )
        .bind(peer)
        .bind(sequence)
        .bind(skip == Skip::Conflict),
        None => sqlx::query("DELETE FROM harvest_conflicts WHERE peer_id = ? AND sequence_id = ?")
            .bind(peer)
            .bind(sequence),
    };
    query
        .execute(&mut *conn)
        .await
        .map_err(Error::db("record skip"))?;
    Ok(())
}

pub(super) async fn released_skips(
    pool: &SqlitePool,
    peer: PeerId,
    limit: u32,
) -> Result<Vec<SequenceId>> {
    let ids: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT sequence_id FROM harvest_conflicts
         WHERE peer_id = ? AND sequence_id IN (
             SELECT id FROM sequences
             WHERE {HARVESTED_TOMBSTONE} AND origin_removed_at IS NULL)
         ORDER BY sequence_id LIMIT ?"
    )))
    .bind(peer.to_string())
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(Error::db("read skipped collections"))?;
    ids.iter()
        .map(|id| id.parse())
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| Error::corrupt("harvest_conflicts", format!("sequence_id: {e}")))
}

pub(super) async fn save_harvest_progress(
    pool: &SqlitePool,
    peer: PeerId,
    progress: &HarvestProgress,
) -> Result<()> {
    let mut conn = pool.acquire().await.map_err(Error::db("save progress"))?;
    save_progress(&mut conn, peer, progress).await
}

/// Writes the progress, renewing the lease of the pass saving it; a pass that no longer holds
/// the peer writes nothing and gets [`Error::HarvestTaken`], which undoes the transaction
/// the progress is saved in.
async fn save_progress(
    conn: &mut SqliteConnection,
    peer: PeerId,
    progress: &HarvestProgress,
) -> Result<()> {
    let holder = progress.claim.map(|c| c.pass.to_string());
    let done = sqlx::query(
        "UPDATE peers SET watermark = ?1, resume_url = ?2,
             leased_until = coalesce(?3, leased_until)
         WHERE id = ?4 AND (?5 IS NULL OR lease_holder = ?5)",
    )
    .bind(progress.watermark.map(to_micros))
    .bind(progress.resume_url.as_deref())
    .bind(progress.claim.map(|c| lease_end(c.term)))
    .bind(peer.to_string())
    .bind(holder)
    .execute(&mut *conn)
    .await
    .map_err(Error::db("save harvest progress"))?;
    if progress.claim.is_some() && done.rows_affected() == 0 {
        return Err(Error::HarvestTaken { peer });
    }
    Ok(())
}

/// Moves a peer's counts by what a change added or removed.
async fn count_change(
    conn: &mut SqliteConnection,
    peer: &str,
    collections: i64,
    items: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE peers SET nb_collections = max(nb_collections + ?, 0),
             nb_items = max(nb_items + ?, 0)
         WHERE id = ?",
    )
    .bind(collections)
    .bind(items)
    .bind(peer)
    .execute(&mut *conn)
    .await
    .map_err(Error::db("count peer data"))?;
    Ok(())
}

/// Who holds an id of the items other than `peer`, leaving out the items of `sequence`
/// (a relay's, when this copy takes over from it): `local`, or the address of another peer.
async fn items_holder(
    conn: &mut SqliteConnection,
    peer: &str,
    sequence: &str,
    items: &[RemoteItem],
) -> Result<Option<String>> {
    const HOLDER: &str = "CASE WHEN t.peer_id IS NULL THEN 'local'
                               ELSE (SELECT api_url FROM peers WHERE id = t.peer_id) END";
    for chunk in items.chunks(ROWS_PER_INSERT) {
        let mut sql = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {HOLDER} FROM pictures t WHERE t.peer_id IS NOT "
        ));
        sql.push_bind(peer)
            .push(" AND t.id NOT IN (SELECT picture_id FROM sequence_pictures WHERE sequence_id = ")
            .push_bind(sequence)
            .push(") AND t.id IN (");
        let mut ids = sql.separated(", ");
        for item in chunk {
            ids.push_bind(item.id.to_string());
        }
        sql.push(") LIMIT 1");
        let held: Option<String> = sql
            .build_query_scalar()
            .fetch_optional(&mut *conn)
            .await
            .map_err(Error::db("look for conflicting items"))?;
        if held.is_some() {
            return Ok(held);
        }
    }
    Ok(None)
}

/// The accounts standing for the collection's and the items' authors, made or renamed as the
/// peer names them now, by key (see [`author_key`]).
async fn author_accounts(
    conn: &mut SqliteConnection,
    peer: &str,
    collection: &RemoteCollection,
    items: &[RemoteItem],
) -> Result<HashMap<String, AccountId>> {
    let mut accounts = HashMap::new();
    let now = to_micros(Utc::now());
    let authors = std::iter::once(&collection.author).chain(items.iter().map(|i| &i.author));
    for author in authors {
        let (key, name) = author_key(author);
        if accounts.contains_key(&key) {
            continue;
        }
        let id: String = sqlx::query_scalar(
            "INSERT INTO accounts (id, name, role, created_at, peer_id, remote_key)
             VALUES (?, ?, 'user', ?, ?, ?)
             ON CONFLICT (peer_id, remote_key) WHERE peer_id IS NOT NULL
             DO UPDATE SET name = excluded.name
             RETURNING id",
        )
        .bind(AccountId::new().to_string())
        .bind(&name)
        .bind(now)
        .bind(peer)
        .bind(&key)
        .fetch_one(&mut *conn)
        .await
        .map_err(Error::db("write remote author"))?;
        let id = id.parse().map_err(|e| Error::corrupt("accounts", e))?;
        accounts.insert(key, id);
    }
    Ok(accounts)
}

/// Deletes the pictures of `peer` ranked in `sequence` or named in `items`, returning how
/// many went and the other sequences of the peer they leave.
async fn clear_items(
    conn: &mut SqliteConnection,
    peer: &str,
    sequence: &str,
    items: &[RemoteItem],
) -> Result<(i64, Vec<String>)> {
    let mut others: Vec<String> = Vec::new();
    let mut removed = 0;
    for chunk in items.chunks(ROWS_PER_INSERT) {
        let mut sql = QueryBuilder::<Sqlite>::new(
            "SELECT DISTINCT sequence_id FROM sequence_pictures WHERE sequence_id != ",
        );
        sql.push_bind(sequence).push(" AND picture_id IN (");
        let mut ids = sql.separated(", ");
        for item in chunk {
            ids.push_bind(item.id.to_string());
        }
        sql.push(")");
        let found: Vec<String> = sql
            .build_query_scalar()
            .fetch_all(&mut *conn)
            .await
            .map_err(Error::db("find moved items"))?;
        others.extend(found);

        // `+peer_id` keeps SQLite on the primary key: through the `pictures_peer` index it
        // would read every picture of the peer, making each apply slower as the peer grows.
        let mut sql = QueryBuilder::<Sqlite>::new("DELETE FROM pictures WHERE +peer_id = ");
        sql.push_bind(peer).push(" AND id IN (");
        let mut ids = sql.separated(", ");
        for item in chunk {
            ids.push_bind(item.id.to_string());
        }
        sql.push(")");
        let done = sql
            .build()
            .execute(&mut *conn)
            .await
            .map_err(Error::db("clear remote items"))?;
        removed += i64::try_from(done.rows_affected()).unwrap_or(i64::MAX);
    }
    let done = sqlx::query(
        "DELETE FROM pictures WHERE +peer_id = ?1
           AND id IN (SELECT picture_id FROM sequence_pictures WHERE sequence_id = ?2)",
    )
    .bind(peer)
    .bind(sequence)
    .execute(&mut *conn)
    .await
    .map_err(Error::db("clear remote items"))?;
    removed += i64::try_from(done.rows_affected()).unwrap_or(i64::MAX);
    others.sort();
    others.dedup();
    Ok((removed, others))
}

pub(super) async fn apply_remote_collection(
    pool: &SqlitePool,
    peer: PeerId,
    collection: &RemoteCollection,
    items: &[RemoteItem],
    progress: &HarvestProgress,
) -> Result<ApplyOutcome> {
    refuse_deleted(collection)?;
    check_items(collection, items)?;
    let peer_text = peer.to_string();
    let sequence = collection.id.to_string();
    let mut tx = begin_write(pool)
        .await
        .map_err(Error::db("apply remote collection"))?;

    // 1. Whether this copy may be held (see `Claim`): a relay's copy of one held from its
    //    origin is left out, and an id held by local data or an unrelated peer is a
    //    conflict; either way only the conflict and the progress are written.
    let peer_url: Option<String> = sqlx::query_scalar("SELECT api_url FROM peers WHERE id = ?")
        .bind(&peer_text)
        .fetch_optional(&mut *tx)
        .await
        .map_err(Error::db("read peer"))?;
    let Some(peer_url) = peer_url else {
        return Err(Error::NotFound {
            kind: "peer",
            id: peer_text,
        });
    };
    let held = holder_of(&mut tx, &sequence).await?;
    // Whether the origin is a peer matters for a relay's copy only: a copy straight from
    // its origin, the usual one, costs no read.
    let origin = collection.origin(&peer_url);
    let origin_is_peer = origin != peer_url
        && sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM peers WHERE api_url = ?)")
            .bind(&origin)
            .fetch_one(&mut *tx)
            .await
            .map_err(Error::db("read peer"))?;
    let claim = Claim::of(peer, &peer_url, collection, held.as_ref(), origin_is_peer);
    let mut refusal = match claim {
        Claim::Take => None,
        Claim::Relayed { holder } => Some(ApplyOutcome::Relayed { holder }),
        Claim::Conflict { holder } => Some(ApplyOutcome::Conflict { holder }),
    };
    if refusal.is_none() {
        let holder = items_holder(&mut tx, &peer_text, &sequence, items).await?;
        refusal = holder.map(|holder| ApplyOutcome::Conflict { holder });
    }
    if let Some(outcome) = refusal {
        let skip = match outcome {
            ApplyOutcome::Conflict { .. } => Skip::Conflict,
            _ => Skip::Relayed,
        };
        note_skip(&mut tx, &peer_text, &sequence, Some(skip)).await?;
        save_progress(&mut tx, peer, progress).await?;
        tx.commit()
            .await
            .map_err(Error::db("apply remote collection"))?;
        return Ok(outcome);
    }

    // A relay's copy gives way to this one, straight from its origin: the relay's rows go as
    // if it had removed the collection, its counts with them.
    if let Some(Holder::Peer { id: relay, .. }) =
        held.filter(|h| !matches!(h, Holder::Peer { id, .. } if *id == peer))
    {
        remove_rows(&mut tx, &relay.to_string(), &sequence).await?;
    }

    // 2. The authors, then the items as they were go: the new ones replace them all.
    let accounts = author_accounts(&mut tx, &peer_text, collection, items).await?;
    let account = |author| accounts.get(&author_key(author).0).copied();
    let Some(owner) = account(&collection.author) else {
        return Err(Error::corrupt(
            "accounts",
            "remote author missing after its write",
        ));
    };
    // New to the peer's counts unless the peer has it: the row may be a tombstone.
    let is_new: bool = sqlx::query_scalar(
        "SELECT NOT EXISTS (SELECT 1 FROM sequences WHERE id = ? AND peer_id = ?)",
    )
    .bind(&sequence)
    .bind(&peer_text)
    .fetch_one(&mut *tx)
    .await
    .map_err(Error::db("read remote collection"))?;
    let (removed, others) = clear_items(&mut tx, &peer_text, &sequence, items).await?;

    // 3. The sequence row, its figures from the track computed here as dispatch does; a
    //    tombstone of the collection comes back to life with it.
    let figures = TrackFigures::of(items);
    let doc = serde_json::to_string(&collection.doc).map_err(|e| Error::corrupt("sequences", e))?;
    let now = to_micros(Utc::now());
    sqlx::query(
        "INSERT INTO sequences (id, account_id, title, status, visibility, sorted_by,
             created_at, updated_at, length_km, gps_accuracy_m, peer_id, remote_doc,
             remote_updated_at)
         VALUES (?1, ?2, ?3, 'ready', 'anyone', ?4, ?5, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (id) DO UPDATE SET account_id = excluded.account_id,
             title = excluded.title, status = 'ready', visibility = 'anyone',
             sorted_by = excluded.sorted_by, length_km = excluded.length_km,
             gps_accuracy_m = excluded.gps_accuracy_m, peer_id = excluded.peer_id,
             remote_doc = excluded.remote_doc, remote_updated_at = excluded.remote_updated_at,
             origin_removed_at = NULL",
    )
    .bind(&sequence)
    .bind(owner.to_string())
    .bind(&collection.title)
    .bind(crate::federation::sorted_by(collection))
    .bind(now)
    .bind(figures.length_km)
    .bind(figures.gps_accuracy_m)
    .bind(&peer_text)
    .bind(doc)
    .bind(to_micros(collection.updated))
    .execute(&mut *tx)
    .await
    .map_err(Error::db("write remote collection"))?;
    sqlx::query("DELETE FROM sequence_semantics WHERE sequence_id = ?")
        .bind(&sequence)
        .execute(&mut *tx)
        .await
        .map_err(Error::db("clear remote collection tags"))?;
    let tags: Vec<(String, String, String)> = collection_tags(collection)
        .into_iter()
        .map(|(key, value)| (sequence.clone(), key, value))
        .collect();
    write_tags(
        &mut tx,
        "sequence_semantics (sequence_id, key, value)",
        &tags,
    )
    .await?;

    // 4. The items and their ranks, many rows per statement.
    for chunk in items.chunks(ROWS_PER_INSERT) {
        let mut rows = Vec::with_capacity(chunk.len());
        for item in chunk {
            let owner = account(&item.author).unwrap_or(owner);
            let doc = RemotePictureDoc::from_item(item, owner);
            let doc = serde_json::to_string(&doc).map_err(|e| Error::corrupt("pictures", e))?;
            let received =
                serde_json::to_string(&item.doc).map_err(|e| Error::corrupt("pictures", e))?;
            rows.push((item, owner, doc, received));
        }
        let mut sql = QueryBuilder::<Sqlite>::new(
            "INSERT INTO pictures (id, account_id, status, visibility, captured_at, lon, lat,
                 heading_deg, projection, content_md5, file_name, created_at, updated_at, doc,
                 peer_id, remote_doc) ",
        );
        sql.push_values(&rows, |mut b, (item, owner, doc, received)| {
            b.push_bind(item.id.to_string())
                .push_bind(owner.to_string())
                .push("'ready'")
                .push("'anyone'")
                .push_bind(to_micros(item.captured_at))
                .push_bind(item.lon)
                .push_bind(item.lat)
                .push_bind(item.heading_deg)
                .push_bind(item.projection.as_str())
                .push("''")
                .push("''")
                .push_bind(now)
                .push_bind(now)
                .push_bind(doc.as_str())
                .push_bind(peer_text.as_str())
                .push_bind(received.as_str());
        });
        sql.build()
            .execute(&mut *tx)
            .await
            .map_err(Error::db("write remote items"))?;

        let mut sql = QueryBuilder::<Sqlite>::new(
            "INSERT INTO sequence_pictures (sequence_id, rank, picture_id) ",
        );
        sql.push_values(chunk, |mut b, item| {
            b.push_bind(sequence.as_str())
                .push_bind(item.rank)
                .push_bind(item.id.to_string());
        });
        sql.build()
            .execute(&mut *tx)
            .await
            .map_err(Error::db("write remote ranks"))?;

        let tags: Vec<(String, String, String)> = chunk
            .iter()
            .flat_map(|item| {
                let id = item.id.to_string();
                item_tags(item)
                    .into_iter()
                    .map(move |(key, value)| (id.clone(), key, value))
            })
            .collect();
        write_tags(&mut tx, "picture_semantics (picture_id, key, value)", &tags).await?;
    }

    // 5. Figures of the sequences touched, the peer's counts and the progress, committed
    //    with the rows.
    refresh_sequence_figures(&mut tx, &sequence).await?;
    for other in &others {
        refresh_sequence_figures(&mut tx, other).await?;
    }
    let added = i64::try_from(items.len()).unwrap_or(i64::MAX);
    count_change(&mut tx, &peer_text, i64::from(is_new), added - removed).await?;
    note_skip(&mut tx, &peer_text, &sequence, None).await?;
    save_progress(&mut tx, peer, progress).await?;
    tx.commit()
        .await
        .map_err(Error::db("apply remote collection"))?;
    Ok(ApplyOutcome::Applied)
}

/// Writes `(owner id, key, value)` rows into `table` (with its columns), many per statement.
async fn write_tags(
    tx: &mut SqliteConnection,
    table: &'static str,
    tags: &[(String, String, String)],
) -> Result<()> {
    for chunk in tags.chunks(ROWS_PER_INSERT) {
        let mut sql = QueryBuilder::<Sqlite>::new(format!("INSERT OR IGNORE INTO {table} "));
        sql.push_values(chunk, |mut b, (id, key, value)| {
            b.push_bind(id.as_str())
                .push_bind(key.as_str())
                .push_bind(value.as_str());
        });
        sql.build()
            .execute(&mut *tx)
            .await
            .map_err(Error::db("write remote tags"))?;
    }
    Ok(())
}

pub(super) async fn remove_remote_collection(
    pool: &SqlitePool,
    peer: PeerId,
    removal: &RemoteRemoval,
    progress: &HarvestProgress,
) -> Result<bool> {
    let peer_text = peer.to_string();
    let sequence = removal.id.to_string();
    // Tombstones are listed again at every pass until the watermark moves past them, and
    // those of a peer's peer removed whole come by thousands: one that takes out nothing
    // here costs reads rather than a write transaction. A pass that no longer holds the peer
    // is told so all the same, as a write would tell it.
    let mut conn = pool
        .acquire()
        .await
        .map_err(Error::db("read remote collection"))?;
    let (peer_url, has_conflict, is_leased): (Option<String>, bool, bool) = sqlx::query_as(
        "SELECT (SELECT api_url FROM peers WHERE id = ?2),
             EXISTS (SELECT 1 FROM harvest_conflicts WHERE sequence_id = ?1 AND peer_id = ?2),
             ?3 IS NULL OR EXISTS (SELECT 1 FROM peers WHERE id = ?2 AND lease_holder = ?3)",
    )
    .bind(&sequence)
    .bind(&peer_text)
    .bind(progress.claim.map(|c| c.pass.to_string()))
    .fetch_one(&mut *conn)
    .await
    .map_err(Error::db("read remote collection"))?;
    if !is_leased {
        return Err(Error::HarvestTaken { peer });
    }
    let Some(peer_url) = peer_url else {
        return Ok(false);
    };
    let held = holder_of(&mut conn, &sequence).await?;
    if removal.takes_out(peer, &peer_url, held.as_ref()).is_none() && !has_conflict {
        return Ok(false);
    }
    drop(conn);

    let mut tx = begin_write(pool)
        .await
        .map_err(Error::db("remove remote collection"))?;
    let held = holder_of(&mut tx, &sequence).await?;
    let mut existed = false;
    if let Some((holder, removed_at)) = removal.takes_out(peer, &peer_url, held.as_ref()) {
        existed = tombstone_rows(&mut tx, &holder.to_string(), &sequence, removed_at).await?;
    }
    note_skip(&mut tx, &peer_text, &sequence, None).await?;
    save_progress(&mut tx, peer, progress).await?;
    tx.commit()
        .await
        .map_err(Error::db("remove remote collection"))?;
    Ok(existed)
}

/// Turns a peer's sequence into its tombstone, keeping when its origin removed it, and
/// deletes its pictures and tags, moving the peer's counts; whether it was held.
async fn tombstone_rows(
    conn: &mut SqliteConnection,
    peer: &str,
    sequence: &str,
    removed_at: Option<DateTime<Utc>>,
) -> Result<bool> {
    let (removed, _) = clear_items(conn, peer, sequence, &[]).await?;
    sqlx::query(
        "DELETE FROM sequence_semantics
         WHERE sequence_id = (SELECT id FROM sequences WHERE id = ? AND peer_id = ?)",
    )
    .bind(sequence)
    .bind(peer)
    .execute(&mut *conn)
    .await
    .map_err(Error::db("clear remote collection tags"))?;
    let sql = format!(
        "UPDATE sequences SET {TOMBSTONE_ASSIGNMENTS}, origin_removed_at = ?
         WHERE id = ? AND peer_id = ?"
    );
    let done = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(removed_at.map(to_micros))
        .bind(sequence)
        .bind(peer)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("remove remote collection"))?;
    let existed = done.rows_affected() == 1;
    count_change(conn, peer, -i64::from(existed), -removed).await?;
    Ok(existed)
}

/// Deletes a peer's sequence and its pictures, moving the peer's counts; whether it was held.
async fn remove_rows(conn: &mut SqliteConnection, peer: &str, sequence: &str) -> Result<bool> {
    let (removed, _) = clear_items(conn, peer, sequence, &[]).await?;
    let done = sqlx::query("DELETE FROM sequences WHERE id = ? AND peer_id = ?")
        .bind(sequence)
        .bind(peer)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("remove remote collection"))?;
    let existed = done.rows_affected() == 1;
    count_change(conn, peer, -i64::from(existed), -removed).await?;
    Ok(existed)
}

/// Refuses a write naming a picture or a sequence harvested from a peer (see
/// [`refuse_remote`]); rows that do not exist are left to the write to report.
pub(super) async fn refuse_remote_rows(
    conn: &mut SqliteConnection,
    picture: Option<&str>,
    sequence: Option<&str>,
) -> Result<()> {
    for (kind, table, id) in [
        ("picture", "pictures", picture),
        ("sequence", "sequences", sequence),
    ] {
        let Some(id) = id else { continue };
        let sql = format!("SELECT peer_id FROM {table} WHERE id = ?");
        let peer: Option<Option<String>> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(Error::db("read origin"))?;
        let peer = peer
            .flatten()
            .map(|p| p.parse::<PeerId>())
            .transpose()
            .map_err(|e| Error::corrupt(table, format!("peer_id: {e}")))?;
        refuse_remote(kind, id, peer)?;
    }
    Ok(())
}
