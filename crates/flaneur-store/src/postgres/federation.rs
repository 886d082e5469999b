//! Peers and the data harvested from them, in PostgreSQL (see [`crate::federation`]).
//!
//! An apply sends each kind of row in one statement, whatever the number of items: the rows
//! travel as arrays that `unnest` turns back into rows, so a collection of thousands of items
//! costs a handful of round trips.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use flaneur_model::{
    AccountId, ApplyOutcome, Claim, HarvestClaim, HarvestEnd, HarvestProgress, HarvestState,
    Holder, Peer, PeerId, PeerSource, PictureId, RemoteCollection, RemoteItem, RemoteRemoval,
    SequenceId, Skip,
};
use sqlx::postgres::PgRow;
use sqlx::postgres::types::PgInterval;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::codec::{get, parse_col, stored};
use super::sequence::refresh_sequence_figures;
use crate::federation::{
    HARVESTED_TOMBSTONE, HolderRow, RemotePictureDoc, TOMBSTONE_ASSIGNMENTS, TrackFigures,
    author_key, check_items, collection_tags, item_tags, peer_url, refuse_deleted, refuse_remote,
    sorted_by,
};
use crate::{Error, Result};

const PEER_COLUMNS: &str = "id, api_url, source, is_paused, added_at, last_attempt_at, \
     last_success_at, failures, next_attempt_at, last_error, watermark, resume_url, \
     nb_collections, nb_items, leased_until, \
     (SELECT count(*) FROM harvest_conflicts c WHERE c.peer_id = peers.id AND c.is_conflict)
         AS nb_conflicts";

fn peer_from_row(row: &PgRow) -> Result<Peer> {
    let t = "peers";
    let count = |col: &str| -> Result<u64> {
        u64::try_from(get::<i64>(row, t, col)?).map_err(|e| Error::corrupt(t, e))
    };
    Ok(Peer {
        id: get::<Uuid>(row, t, "id")?.into(),
        api_url: get(row, t, "api_url")?,
        source: parse_col::<PeerSource>(row, t, "source")?,
        is_paused: get(row, t, "is_paused")?,
        added_at: get(row, t, "added_at")?,
        harvest: HarvestState {
            last_attempt_at: get(row, t, "last_attempt_at")?,
            last_success_at: get(row, t, "last_success_at")?,
            failures: u32::try_from(get::<i64>(row, t, "failures")?)
                .map_err(|e| Error::corrupt(t, e))?,
            next_attempt_at: get(row, t, "next_attempt_at")?,
            last_error: get(row, t, "last_error")?,
            watermark: get(row, t, "watermark")?,
            resume_url: get(row, t, "resume_url")?,
            nb_collections: count("nb_collections")?,
            nb_items: count("nb_items")?,
            nb_conflicts: count("nb_conflicts")?,
            leased_until: get(row, t, "leased_until")?,
        },
    })
}

pub(super) async fn add_peer(pool: &PgPool, api_url: &str, source: PeerSource) -> Result<Peer> {
    let url = peer_url(api_url);
    sqlx::query(
        "INSERT INTO peers (id, api_url, source, added_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (api_url) DO UPDATE SET source = 'admin' WHERE excluded.source = 'admin'",
    )
    .bind(PeerId::new().0)
    .bind(url)
    .bind(source.as_str())
    .bind(stored(Utc::now()))
    .execute(pool)
    .await
    .map_err(Error::db("add peer"))?;
    peer_by_url(pool, url)
        .await?
        .ok_or_else(|| Error::corrupt("peers", "peer missing after its insert"))
}

pub(super) async fn peers(pool: &PgPool) -> Result<Vec<Peer>> {
    let sql = format!("SELECT {PEER_COLUMNS} FROM peers ORDER BY added_at, id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool)
        .await
        .map_err(Error::db("list peers"))?;
    rows.iter().map(peer_from_row).collect()
}

pub(super) async fn peer(pool: &PgPool, id: PeerId) -> Result<Option<Peer>> {
    let sql = format!("SELECT {PEER_COLUMNS} FROM peers WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(pool)
        .await
        .map_err(Error::db("read peer"))?;
    row.as_ref().map(peer_from_row).transpose()
}

pub(super) async fn peer_by_url(pool: &PgPool, api_url: &str) -> Result<Option<Peer>> {
    let sql = format!("SELECT {PEER_COLUMNS} FROM peers WHERE api_url = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(peer_url(api_url))
        .fetch_optional(pool)
        .await
        .map_err(Error::db("read peer"))?;
    row.as_ref().map(peer_from_row).transpose()
}

pub(super) async fn remove_peer(pool: &PgPool, id: PeerId) -> Result<bool> {
    let mut tx = pool.begin().await.map_err(Error::db("remove peer"))?;
    // The peer's row first, locked as applies lock it: an apply under way commits before
    // the removal reads what to delete, rather than adding rows the removal then trips on.
    sqlx::query("SELECT 1 FROM peers WHERE id = $1 FOR UPDATE")
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(Error::db("remove peer"))?;
    // The sequences go with their ranks: no stamp is worth moving.
    stamp_ranks_once(&mut tx).await?;
    // Pictures first (their ranks go with them), then the sequences left without ranks
    // become tombstones, then the accounts nothing credits any more go.
    let tombstones = format!("UPDATE sequences SET {TOMBSTONE_ASSIGNMENTS} WHERE peer_id = $1");
    for sql in [
        "DELETE FROM harvest_conflicts WHERE peer_id = $1",
        "DELETE FROM pictures WHERE peer_id = $1",
        "DELETE FROM sequence_semantics
         WHERE sequence_id IN (SELECT id FROM sequences WHERE peer_id = $1)",
        tombstones.as_str(),
        "DELETE FROM accounts WHERE peer_id = $1",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("remove peer data"))?;
    }
    let done = sqlx::query("DELETE FROM peers WHERE id = $1")
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(Error::db("remove peer"))?;
    tx.commit().await.map_err(Error::db("remove peer"))?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn set_peer_paused(pool: &PgPool, id: PeerId, paused: bool) -> Result<bool> {
    // A pause drops the next attempt rather than keep one nothing will make; resuming makes
    // the peer due at once.
    let done = sqlx::query(
        "UPDATE peers SET is_paused = $1,
             next_attempt_at = CASE WHEN $1 THEN NULL ELSE next_attempt_at END
         WHERE id = $2",
    )
    .bind(paused)
    .bind(id.0)
    .execute(pool)
    .await
    .map_err(Error::db("pause peer"))?;
    Ok(done.rows_affected() == 1)
}

/// A lease's term as a PostgreSQL interval, capped far beyond any term.
fn term(claim: &HarvestClaim) -> PgInterval {
    PgInterval {
        months: 0,
        days: 0,
        microseconds: i64::try_from(claim.term.as_micros()).unwrap_or(i64::MAX / 2),
    }
}

pub(super) async fn claim_harvest(pool: &PgPool, id: PeerId, claim: &HarvestClaim) -> Result<bool> {
    // One statement, by the database's clock (the one every process shares): a claim made
    // while another commits waits for it and reads its lease, so two never both take the peer.
    let done = sqlx::query(
        "UPDATE peers SET lease_holder = $1, leased_until = clock_timestamp() + $2
         WHERE id = $3
           AND (lease_holder IS NULL OR lease_holder = $1 OR leased_until < clock_timestamp())",
    )
    .bind(claim.pass.0)
    .bind(term(claim))
    .bind(id.0)
    .execute(pool)
    .await
    .map_err(Error::db("claim harvest"))?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn renew_harvest(pool: &PgPool, id: PeerId, claim: &HarvestClaim) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE peers SET leased_until = clock_timestamp() + $1
         WHERE id = $2 AND lease_holder = $3",
    )
    .bind(term(claim))
    .bind(id.0)
    .bind(claim.pass.0)
    .execute(pool)
    .await
    .map_err(Error::db("renew harvest lease"))?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn release_harvest(pool: &PgPool, id: PeerId, claim: &HarvestClaim) -> Result<()> {
    sqlx::query(
        "UPDATE peers SET lease_holder = NULL, leased_until = NULL
         WHERE id = $1 AND lease_holder = $2",
    )
    .bind(id.0)
    .bind(claim.pass.0)
    .execute(pool)
    .await
    .map_err(Error::db("release harvest"))?;
    Ok(())
}

pub(super) async fn start_harvest(pool: &PgPool, id: PeerId, at: DateTime<Utc>) -> Result<()> {
    sqlx::query("UPDATE peers SET last_attempt_at = $1 WHERE id = $2")
        .bind(stored(at))
        .bind(id.0)
        .execute(pool)
        .await
        .map_err(Error::db("start harvest"))?;
    Ok(())
}

/// The end of an `UPDATE peers` writing a pass's end (`$3` the peer, `$4` the pass or null):
/// written only while the pass holds the peer, freeing it; without a pass, whoever holds it,
/// leaving the lease alone.
const END_FENCE: &str = "lease_holder = CASE WHEN $4::uuid IS NULL THEN lease_holder END,
     leased_until = CASE WHEN $4::uuid IS NULL THEN leased_until END
     WHERE id = $3 AND ($4::uuid IS NULL OR lease_holder = $4)";

pub(super) async fn finish_harvest(
    pool: &PgPool,
    id: PeerId,
    claim: Option<&HarvestClaim>,
    end: &HarvestEnd,
) -> Result<()> {
    // One statement: a pass taking the peer over between a check of the lease and the write
    // would have its state overwritten by the end of the pass it replaced. A claim committed
    // meanwhile is seen, as the update waits for the row and reads it again.
    let query = match end {
        HarvestEnd::Success {
            at,
            next_attempt_at,
        } => sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE peers SET last_success_at = $1,
                 next_attempt_at = CASE WHEN is_paused THEN NULL ELSE $2 END, failures = 0,
                 last_error = NULL, resume_url = NULL, {END_FENCE}"
        )))
        .bind(stored(*at))
        .bind(stored(*next_attempt_at)),
        HarvestEnd::Failure {
            at: _,
            error,
            next_attempt_at,
        } => sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE peers SET last_error = $1,
                 next_attempt_at = CASE WHEN is_paused THEN NULL ELSE $2 END,
                 failures = failures + 1, {END_FENCE}"
        )))
        .bind(error.clone())
        .bind(stored(*next_attempt_at)),
    };
    let done = query
        .bind(id.0)
        .bind(claim.map(|c| c.pass.0))
        .execute(pool)
        .await
        .map_err(Error::db("finish harvest"))?;
    if claim.is_some() && done.rows_affected() == 0 {
        return Err(Error::HarvestTaken { peer: id });
    }
    Ok(())
}

pub(super) async fn remote_collection_updated(
    pool: &PgPool,
    peer: PeerId,
    id: SequenceId,
) -> Result<Option<DateTime<Utc>>> {
    let updated: Option<Option<DateTime<Utc>>> = sqlx::query_scalar(
        "SELECT remote_updated_at FROM sequences WHERE id = $1 AND peer_id = $2",
    )
    .bind(id.0)
    .bind(peer.0)
    .fetch_optional(pool)
    .await
    .map_err(Error::db("read remote collection"))?;
    Ok(updated.flatten())
}

pub(super) async fn collection_holder(pool: &PgPool, id: SequenceId) -> Result<Option<Holder>> {
    let mut conn = pool.acquire().await.map_err(Error::db("read holder"))?;
    holder_of(&mut conn, id.0).await
}

/// A sequence's peer, the peer's API root, the `flaneur:origin` and `flaneur:origin_updated`
/// its JSON gives, its peer's `updated`, whether it is a harvested tombstone and when its
/// origin removed it.
type HolderColumns = (
    Option<Uuid>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<DateTime<Utc>>,
    bool,
    Option<DateTime<Utc>>,
);

/// Who holds the sequence `id`, with the origin of a peer's copy read from the JSON it came
/// with.
async fn holder_of(conn: &mut PgConnection, id: Uuid) -> Result<Option<Holder>> {
    let row: Option<HolderColumns> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT s.peer_id, p.api_url,
                 CASE WHEN jsonb_typeof(s.remote_doc -> 'flaneur:origin') = 'string'
                      THEN s.remote_doc ->> 'flaneur:origin' END,
                 CASE WHEN jsonb_typeof(s.remote_doc -> 'flaneur:origin_updated') = 'string'
                      THEN s.remote_doc ->> 'flaneur:origin_updated' END,
                 s.remote_updated_at, {HARVESTED_TOMBSTONE}, s.origin_removed_at
             FROM sequences s LEFT JOIN peers p ON p.id = s.peer_id
             WHERE s.id = $1",
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
    let row = HolderRow {
        peer: peer.map(PeerId::from),
        api_url,
        claimed,
        claimed_updated,
        updated,
        is_harvested_tombstone,
        origin_removed_at: removed,
    };
    Ok(row.holder())
}

pub(super) async fn record_skip(
    pool: &PgPool,
    peer: PeerId,
    id: SequenceId,
    skip: Skip,
    progress: &HarvestProgress,
) -> Result<()> {
    let mut tx = pool.begin().await.map_err(Error::db("record skip"))?;
    note_skip(&mut tx, peer, id.0, Some(skip)).await?;
    save_progress(&mut tx, peer, progress).await?;
    tx.commit().await.map_err(Error::db("record skip"))
}

/// Records why a peer's collection is not held from it, or clears that (`None`).
async fn note_skip(
    conn: &mut PgConnection,
    peer: PeerId,
    sequence: Uuid,
    skip: Option<Skip>,
) -> Result<()> {
    let query = match skip {
        Some(skip) => sqlx::query(
            "INSERT INTO harvest_conflicts (peer_id, sequence_id, is_conflict) VALUES ($1, $2, $3)
             ON CONFLICT (peer_id, sequence_id) DO UPDATE SET is_conflict = excluded.is_conflict",
        )
        .bind(peer.0)
        .bind(sequence)
        .bind(skip == Skip::Conflict),
        None => {
            sqlx::query("DELETE FROM harvest_conflicts WHERE peer_id = $1 AND sequence_id = $2")
                .bind(peer.0)
                .bind(sequence)
        }
    };
    query
        .execute(&mut *conn)
        .await
        .map_err(Error::db("record skip"))?;
    Ok(())
}

pub(super) async fn released_skips(
    pool: &PgPool,
    peer: PeerId,
    limit: u32,
) -> Result<Vec<SequenceId>> {
    let ids: Vec<Uuid> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT c.sequence_id FROM harvest_conflicts c
         WHERE c.peer_id = $1 AND EXISTS (
             SELECT 1 FROM sequences s
             WHERE s.id = c.sequence_id
               AND {HARVESTED_TOMBSTONE} AND s.origin_removed_at IS NULL)
         ORDER BY c.sequence_id LIMIT $2"
    )))
    .bind(peer.0)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(Error::db("read skipped collections"))?;
    Ok(ids.into_iter().map(SequenceId::from).collect())
}

pub(super) async fn save_harvest_progress(
    pool: &PgPool,
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
    conn: &mut PgConnection,
    peer: PeerId,
    progress: &HarvestProgress,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE peers SET watermark = $1, resume_url = $2,
             leased_until = CASE WHEN $4::uuid IS NULL THEN leased_until
                                 ELSE clock_timestamp() + $5 END
         WHERE id = $3 AND ($4::uuid IS NULL OR lease_holder = $4)",
    )
    .bind(progress.watermark.map(stored))
    .bind(progress.resume_url.as_deref())
    .bind(peer.0)
    .bind(progress.claim.map(|c| c.pass.0))
    .bind(progress.claim.as_ref().map(term))
    .execute(&mut *conn)
    .await
    .map_err(Error::db("save harvest progress"))?;
    if progress.claim.is_some() && done.rows_affected() == 0 {
        return Err(Error::HarvestTaken { peer });
    }
    Ok(())
}

/// Has the transaction write the stamps of the ranks it changes itself, once, rather than
/// the rank triggers moving them row by row (see the `harvest_stamps` migration).
async fn stamp_ranks_once(conn: &mut PgConnection) -> Result<()> {
    sqlx::query("SELECT set_config('flaneur.stamp_ranks', 'off', true)")
        .execute(&mut *conn)
        .await
        .map_err(Error::db("defer rank stamps"))?;
    Ok(())
}

/// Moves `updated_at` of sequences whose ranks a harvest changed, as the rank triggers would
/// have, once each; their pictures were all written anew.
async fn stamp_sequences(conn: &mut PgConnection, ids: &[Uuid]) -> Result<()> {
    sqlx::query(
        "UPDATE sequences SET updated_at = greatest(clock_timestamp(), updated_at)
         WHERE id = ANY($1)",
    )
    .bind(ids)
    .execute(&mut *conn)
    .await
    .map_err(Error::db("stamp sequences"))?;
    Ok(())
}

/// Moves a peer's counts by what a change added or removed.
async fn count_change(
    conn: &mut PgConnection,
    peer: PeerId,
    collections: i64,
    items: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE peers SET nb_collections = greatest(nb_collections + $1, 0),
             nb_items = greatest(nb_items + $2, 0)
         WHERE id = $3",
    )
    .bind(collections)
    .bind(items)
    .bind(peer.0)
    .execute(&mut *conn)
    .await
    .map_err(Error::db("count peer data"))?;
    Ok(())
}

/// Who holds an id of the items other than `peer`, leaving out the items of `sequence` (a
/// relay's, when this copy takes over from it): `local`, or the address of another peer.
async fn items_holder(
    conn: &mut PgConnection,
    peer: PeerId,
    sequence: Uuid,
    items: &[RemoteItem],
) -> Result<Option<String>> {
    let ids: Vec<Uuid> = items.iter().map(|i| i.id.0).collect();
    sqlx::query_scalar(
        "SELECT CASE WHEN t.peer_id IS NULL THEN 'local'
                     ELSE (SELECT api_url FROM peers WHERE id = t.peer_id) END
         FROM pictures t
         WHERE t.id = ANY($1) AND t.peer_id IS DISTINCT FROM $2
           AND t.id NOT IN (SELECT picture_id FROM sequence_pictures WHERE sequence_id = $3)
         LIMIT 1",
    )
    .bind(&ids)
    .bind(peer.0)
    .bind(sequence)
    .fetch_optional(&mut *conn)
    .await
    .map_err(Error::db("look for conflicting ids"))
}

/// The accounts standing for the collection's and the items' authors, made or renamed as the
/// peer names them now, by key (see [`author_key`]).
async fn author_accounts(
    conn: &mut PgConnection,
    peer: PeerId,
    collection: &RemoteCollection,
    items: &[RemoteItem],
) -> Result<HashMap<String, AccountId>> {
    let mut names: HashMap<String, String> = HashMap::new();
    let authors = std::iter::once(&collection.author).chain(items.iter().map(|i| &i.author));
    for author in authors {
        let (key, name) = author_key(author);
        names.entry(key).or_insert(name);
    }
    let (keys, names): (Vec<String>, Vec<String>) = names.into_iter().unzip();
    let rows: Vec<(String, Uuid)> = sqlx::query_as(
        "INSERT INTO accounts (id, name, role, created_at, peer_id, remote_key)
         SELECT gen_random_uuid(), a.name, 'user', $3, $4, a.key
         FROM unnest($1::text[], $2::text[]) AS a(key, name)
         ON CONFLICT (peer_id, remote_key) WHERE peer_id IS NOT NULL
         DO UPDATE SET name = excluded.name
         RETURNING remote_key, id",
    )
    .bind(&keys)
    .bind(&names)
    .bind(stored(Utc::now()))
    .bind(peer.0)
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::db("write remote authors"))?;
    Ok(rows.into_iter().map(|(k, id)| (k, id.into())).collect())
}

/// Deletes the pictures of `peer` ranked in `sequence` or named in `items`, returning how
/// many went and the other sequences of the peer they leave.
async fn clear_items(
    conn: &mut PgConnection,
    peer: PeerId,
    sequence: Uuid,
    items: &[RemoteItem],
) -> Result<(i64, Vec<Uuid>)> {
    let ids: Vec<Uuid> = items.iter().map(|i| i.id.0).collect();
    let others: Vec<Uuid> = sqlx::query_scalar(
        "SELECT DISTINCT sequence_id FROM sequence_pictures
         WHERE picture_id = ANY($1) AND sequence_id != $2",
    )
    .bind(&ids)
    .bind(sequence)
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::db("find moved items"))?;
    let done = sqlx::query(
        "DELETE FROM pictures WHERE peer_id = $1
           AND (id = ANY($2)
                OR id IN (SELECT picture_id FROM sequence_pictures WHERE sequence_id = $3))",
    )
    .bind(peer.0)
    .bind(&ids)
    .bind(sequence)
    .execute(&mut *conn)
    .await
    .map_err(Error::db("clear remote items"))?;
    Ok((
        i64::try_from(done.rows_affected()).unwrap_or(i64::MAX),
        others,
    ))
}

pub(super) async fn apply_remote_collection(
    pool: &PgPool,
    peer: PeerId,
    collection: &RemoteCollection,
    items: &[RemoteItem],
    progress: &HarvestProgress,
) -> Result<ApplyOutcome> {
    refuse_deleted(collection)?;
    check_items(collection, items)?;
    let sequence = collection.id.0;
    let mut tx = pool
        .begin()
        .await
        .map_err(Error::db("apply remote collection"))?;

    // 1. The peer's row and the id, locked (see `lock_for_write`). Then whether this copy
    //    may be held (see `Claim`): a relay's copy of one held from its origin is left out,
    //    and an id held by local data or an unrelated peer is a conflict; either way only
    //    the conflict and the progress are written.
    let peer_url = lock_for_write(&mut tx, peer, sequence).await?;
    let held = holder_of(&mut tx, sequence).await?;
    // Whether the origin is a peer matters for a relay's copy only: a copy straight from
    // its origin, the usual one, costs no read.
    let origin = collection.origin(&peer_url);
    let origin_is_peer = origin != peer_url
        && sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM peers WHERE api_url = $1)")
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
        let holder = items_holder(&mut tx, peer, sequence, items).await?;
        refusal = holder.map(|holder| ApplyOutcome::Conflict { holder });
    }
    if let Some(outcome) = refusal {
        let skip = match outcome {
            ApplyOutcome::Conflict { .. } => Skip::Conflict,
            _ => Skip::Relayed,
        };
        note_skip(&mut tx, peer, sequence, Some(skip)).await?;
        save_progress(&mut tx, peer, progress).await?;
        tx.commit()
            .await
            .map_err(Error::db("apply remote collection"))?;
        return Ok(outcome);
    }

    // A relay's copy gives way to this one, straight from its origin: the relay's rows go as
    // if it had removed the collection, its counts with them. Its peer row is locked as its
    // own applies lock it; two applies locking each other's peers in turn would deadlock,
    // which PostgreSQL breaks by failing one pass, tried again after its backoff.
    stamp_ranks_once(&mut tx).await?;
    if let Some(Holder::Peer { id: relay, .. }) =
        held.filter(|h| !matches!(h, Holder::Peer { id, .. } if *id == peer))
    {
        sqlx::query("SELECT 1 FROM peers WHERE id = $1 FOR UPDATE")
            .bind(relay.0)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("read peer"))?;
        remove_rows(&mut tx, relay, sequence).await?;
    }

    // 2. The authors, then the items as they were go: the new ones replace them all.
    let accounts = author_accounts(&mut tx, peer, collection, items).await?;
    let account = |author| accounts.get(&author_key(author).0).copied();
    let Some(owner) = account(&collection.author) else {
        return Err(Error::corrupt(
            "accounts",
            "remote author missing after its write",
        ));
    };
    // New to the peer's counts unless the peer has it: the row may be a tombstone.
    let is_new: bool = sqlx::query_scalar(
        "SELECT NOT EXISTS (SELECT 1 FROM sequences WHERE id = $1 AND peer_id = $2)",
    )
    .bind(sequence)
    .bind(peer.0)
    .fetch_one(&mut *tx)
    .await
    .map_err(Error::db("read remote collection"))?;
    let (removed, others) = clear_items(&mut tx, peer, sequence, items).await?;

    // 3. The sequence row, its figures from the track computed here as dispatch does; a
    //    tombstone of the collection comes back to life with it.
    let figures = TrackFigures::of(items);
    let now = stored(Utc::now());
    sqlx::query(
        "INSERT INTO sequences (id, account_id, title, status, visibility, sorted_by,
             created_at, updated_at, length_km, gps_accuracy_m, peer_id, remote_doc,
             remote_updated_at)
         VALUES ($1, $2, $3, 'ready', 'anyone', $4, $5, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (id) DO UPDATE SET account_id = excluded.account_id,
             title = excluded.title, status = 'ready', visibility = 'anyone',
             sorted_by = excluded.sorted_by, length_km = excluded.length_km,
             gps_accuracy_m = excluded.gps_accuracy_m, peer_id = excluded.peer_id,
             remote_doc = excluded.remote_doc, remote_updated_at = excluded.remote_updated_at,
             origin_removed_at = NULL",
    )
    .bind(sequence)
    .bind(owner.0)
    .bind(&collection.title)
    .bind(sorted_by(collection))
    .bind(now)
    .bind(figures.length_km)
    .bind(figures.gps_accuracy_m)
    .bind(peer.0)
    .bind(Json(&collection.doc))
    .bind(stored(collection.updated))
    .execute(&mut *tx)
    .await
    .map_err(Error::db("write remote collection"))?;
    sqlx::query("DELETE FROM sequence_semantics WHERE sequence_id = $1")
        .bind(sequence)
        .execute(&mut *tx)
        .await
        .map_err(Error::db("clear remote collection tags"))?;
    let tags = collection_tags(collection);
    let owners = vec![sequence; tags.len()];
    write_tags(
        &mut tx,
        "sequence_semantics (sequence_id, key, value)",
        &owners,
        tags,
    )
    .await?;

    // 4. The items and their ranks, each kind in one statement.
    let mut rows = ItemColumns::with_capacity(items.len());
    for item in items {
        let owner = account(&item.author).unwrap_or(owner);
        rows.push(item, owner)?;
    }
    sqlx::query(
        "INSERT INTO pictures (id, account_id, status, visibility, captured_at, lon, lat,
             heading_deg, projection, content_md5, file_name, created_at, updated_at, doc,
             peer_id, remote_doc)
         SELECT i.id, i.account_id, 'ready', 'anyone', i.captured_at, i.lon, i.lat,
                i.heading_deg, i.projection, '', '', $9, $9, i.doc::jsonb, $10,
                i.remote_doc::jsonb
         FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::float8[], $5::float8[],
                     $6::float8[], $7::text[], $8::text[], $11::text[])
              AS i(id, account_id, captured_at, lon, lat, heading_deg, projection, doc,
                   remote_doc)",
    )
    .bind(&rows.ids)
    .bind(&rows.accounts)
    .bind(&rows.captured_at)
    .bind(&rows.lon)
    .bind(&rows.lat)
    .bind(&rows.heading_deg)
    .bind(&rows.projection)
    .bind(&rows.doc)
    .bind(now)
    .bind(peer.0)
    .bind(&rows.remote_doc)
    .execute(&mut *tx)
    .await
    .map_err(Error::db("write remote items"))?;
    sqlx::query(
        "INSERT INTO sequence_pictures (sequence_id, rank, picture_id)
         SELECT $1, r.rank, r.id FROM unnest($2::bigint[], $3::uuid[]) AS r(rank, id)",
    )
    .bind(sequence)
    .bind(&rows.rank)
    .bind(&rows.ids)
    .execute(&mut *tx)
    .await
    .map_err(Error::db("write remote ranks"))?;
    let (mut owners, mut tags) = (Vec::new(), Vec::new());
    for item in items {
        for tag in item_tags(item) {
            owners.push(item.id.0);
            tags.push(tag);
        }
    }
    write_tags(
        &mut tx,
        "picture_semantics (picture_id, key, value)",
        &owners,
        tags,
    )
    .await?;

    // 5. Figures of the sequences touched, the peer's counts and the progress, committed
    //    with the rows.
    refresh_sequence_figures(&mut tx, sequence).await?;
    for other in &others {
        refresh_sequence_figures(&mut tx, *other).await?;
    }
    let mut touched = others;
    touched.push(sequence);
    stamp_sequences(&mut tx, &touched).await?;
    let added = i64::try_from(items.len()).unwrap_or(i64::MAX);
    count_change(&mut tx, peer, i64::from(is_new), added - removed).await?;
    note_skip(&mut tx, peer, sequence, None).await?;
    save_progress(&mut tx, peer, progress).await?;
    tx.commit()
        .await
        .map_err(Error::db("apply remote collection"))?;
    Ok(ApplyOutcome::Applied)
}

/// Writes the `tags` of `owners` (one owner per tag) into `table` (with its columns), in one
/// statement.
async fn write_tags(
    tx: &mut PgConnection,
    table: &'static str,
    owners: &[Uuid],
    tags: Vec<(String, String)>,
) -> Result<()> {
    let (keys, values): (Vec<String>, Vec<String>) = tags.into_iter().unzip();
    // `table` is one of the two fixed names the callers give.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {table} SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[])
         ON CONFLICT DO NOTHING"
    )))
    .bind(owners)
    .bind(keys)
    .bind(values)
    .execute(&mut *tx)
    .await
    .map_err(Error::db("write remote tags"))?;
    Ok(())
}

/// The items of an apply, column by column, as `unnest` reads them.
struct ItemColumns {
    ids: Vec<Uuid>,
    accounts: Vec<Uuid>,
    captured_at: Vec<DateTime<Utc>>,
    lon: Vec<f64>,
    lat: Vec<f64>,
    heading_deg: Vec<Option<f64>>,
    projection: Vec<&'static str>,
    doc: Vec<String>,
    remote_doc: Vec<String>,
    rank: Vec<i64>,
}

impl ItemColumns {
    fn with_capacity(n: usize) -> ItemColumns {
        ItemColumns {
            ids: Vec::with_capacity(n),
            accounts: Vec::with_capacity(n),
            captured_at: Vec::with_capacity(n),
            lon: Vec::with_capacity(n),
            lat: Vec::with_capacity(n),
            heading_deg: Vec::with_capacity(n),
            projection: Vec::with_capacity(n),
            doc: Vec::with_capacity(n),
            remote_doc: Vec::with_capacity(n),
            rank: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, item: &RemoteItem, owner: AccountId) -> Result<()> {
        let doc = RemotePictureDoc::from_item(item, owner);
        self.doc
            .push(serde_json::to_string(&doc).map_err(|e| Error::corrupt("pictures", e))?);
        self.remote_doc
            .push(serde_json::to_string(&item.doc).map_err(|e| Error::corrupt("pictures", e))?);
        self.ids.push(item.id.0);
        self.accounts.push(owner.0);
        self.captured_at.push(stored(item.captured_at));
        self.lon.push(item.lon);
        self.lat.push(item.lat);
        self.heading_deg.push(item.heading_deg);
        self.projection.push(item.projection.as_str());
        self.rank.push(item.rank);
        Ok(())
    }
}

pub(super) async fn remove_remote_collection(
    pool: &PgPool,
    peer: PeerId,
    removal: &RemoteRemoval,
    progress: &HarvestProgress,
) -> Result<bool> {
    let sequence = removal.id.0;
    // Tombstones are listed again at every pass until the watermark moves past them, and
    // those of a peer's peer removed whole come by thousands: one that takes out nothing
    // here costs reads rather than a write transaction. A pass that no longer holds the peer
    // is told so all the same, as a write would tell it.
    let mut conn = pool
        .acquire()
        .await
        .map_err(Error::db("read remote collection"))?;
    let (peer_url, has_conflict, is_leased): (Option<String>, bool, bool) = sqlx::query_as(
        "SELECT (SELECT api_url FROM peers WHERE id = $2),
             EXISTS (SELECT 1 FROM harvest_conflicts WHERE sequence_id = $1 AND peer_id = $2),
             $3::uuid IS NULL
             OR EXISTS (SELECT 1 FROM peers WHERE id = $2 AND lease_holder = $3)",
    )
    .bind(sequence)
    .bind(peer.0)
    .bind(progress.claim.map(|c| c.pass.0))
    .fetch_one(&mut *conn)
    .await
    .map_err(Error::db("read remote collection"))?;
    if !is_leased {
        return Err(Error::HarvestTaken { peer });
    }
    let Some(peer_url) = peer_url else {
        return Ok(false);
    };
    let held = holder_of(&mut conn, sequence).await?;
    if removal.takes_out(peer, &peer_url, held.as_ref()).is_none() && !has_conflict {
        return Ok(false);
    }
    drop(conn);

    let mut tx = pool
        .begin()
        .await
        .map_err(Error::db("remove remote collection"))?;
    let peer_url = lock_for_write(&mut tx, peer, sequence).await?;
    stamp_ranks_once(&mut tx).await?;
    let held = holder_of(&mut tx, sequence).await?;
    let mut existed = false;
    if let Some((holder, removed_at)) = removal.takes_out(peer, &peer_url, held.as_ref()) {
        // A relay's copy taken out by its origin's word moves the relay's counts: its row is
        // locked first, as an apply taking over that copy does.
        if holder != peer {
            sqlx::query("SELECT 1 FROM peers WHERE id = $1 FOR UPDATE")
                .bind(holder.0)
                .execute(&mut *tx)
                .await
                .map_err(Error::db("read peer"))?;
        }
        existed = tombstone_rows(&mut tx, holder, sequence, removed_at).await?;
    }
    note_skip(&mut tx, peer, sequence, None).await?;
    save_progress(&mut tx, peer, progress).await?;
    tx.commit()
        .await
        .map_err(Error::db("remove remote collection"))?;
    Ok(existed)
}

/// Locks, for a write of a peer's collection, the peer's row (one peer's writes run one after
/// the other, and a removal of the peer waits for them), then the collection's id: writes of
/// two peers lock two peer rows, so nothing else orders two peers bringing the same new id at
/// once, and both would read no holder; the lock on the id, held to the commit, makes the
/// second read the first's row as its holder (each statement reads what committed before
/// it). The peer's API root.
async fn lock_for_write(conn: &mut PgConnection, peer: PeerId, sequence: Uuid) -> Result<String> {
    let peer_url: Option<String> =
        sqlx::query_scalar("SELECT api_url FROM peers WHERE id = $1 FOR UPDATE")
            .bind(peer.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(Error::db("read peer"))?;
    let Some(peer_url) = peer_url else {
        return Err(Error::NotFound {
            kind: "peer",
            id: peer.to_string(),
        });
    };
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))")
        .bind(sequence)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("lock collection id"))?;
    Ok(peer_url)
}

/// Turns a peer's sequence into its tombstone, keeping when its origin removed it, and
/// deletes its pictures and tags, moving the peer's counts; whether it was held.
async fn tombstone_rows(
    conn: &mut PgConnection,
    peer: PeerId,
    sequence: Uuid,
    removed_at: Option<DateTime<Utc>>,
) -> Result<bool> {
    let (removed, _) = clear_items(conn, peer, sequence, &[]).await?;
    sqlx::query(
        "DELETE FROM sequence_semantics
         WHERE sequence_id = (SELECT id FROM sequences WHERE id = $1 AND peer_id = $2)",
    )
    .bind(sequence)
    .bind(peer.0)
    .execute(&mut *conn)
    .await
    .map_err(Error::db("clear remote collection tags"))?;
    let sql = format!(
        "UPDATE sequences SET {TOMBSTONE_ASSIGNMENTS}, origin_removed_at = $3
         WHERE id = $1 AND peer_id = $2"
    );
    let done = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(sequence)
        .bind(peer.0)
        .bind(removed_at)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("remove remote collection"))?;
    let existed = done.rows_affected() == 1;
    count_change(conn, peer, -i64::from(existed), -removed).await?;
    Ok(existed)
}

/// Deletes a peer's sequence and its pictures, moving the peer's counts; whether it was held.
async fn remove_rows(conn: &mut PgConnection, peer: PeerId, sequence: Uuid) -> Result<bool> {
    let (removed, _) = clear_items(conn, peer, sequence, &[]).await?;
    let done = sqlx::query("DELETE FROM sequences WHERE id = $1 AND peer_id = $2")
        .bind(sequence)
        .bind(peer.0)
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
    conn: &mut PgConnection,
    picture: Option<PictureId>,
    sequence: Option<SequenceId>,
) -> Result<()> {
    for (kind, table, id) in [
        ("picture", "pictures", picture.map(|p| p.0)),
        ("sequence", "sequences", sequence.map(|s| s.0)),
    ] {
        let Some(id) = id else { continue };
        let sql = format!("SELECT peer_id FROM {table} WHERE id = $1");
        let peer: Option<Option<Uuid>> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(Error::db("read origin"))?;
        refuse_remote(kind, id, peer.flatten().map(PeerId::from))?;
    }
    Ok(())
}
