//! Reading the semantic tags of sequences and pictures, for the objects of one page at once.
//! Sequences receive theirs in dispatch (`sequence.rs`).

use std::collections::HashMap;

use flaneur_model::{PictureId, SemanticTag, SequenceId};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{Error, Result};

pub(super) async fn sequence_semantics(
    pool: &PgPool,
    ids: &[SequenceId],
) -> Result<HashMap<SequenceId, Vec<SemanticTag>>> {
    let ids: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
    tags_of(pool, "sequence_semantics", "sequence_id", &ids).await
}

pub(super) async fn picture_semantics(
    pool: &PgPool,
    ids: &[PictureId],
) -> Result<HashMap<PictureId, Vec<SemanticTag>>> {
    let ids: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
    tags_of(pool, "picture_semantics", "picture_id", &ids).await
}

/// The tags of `ids` in `table`, sorted by key then value; objects without tags are absent.
async fn tags_of<Id>(
    pool: &PgPool,
    table: &'static str,
    owner: &'static str,
    ids: &[Uuid],
) -> Result<HashMap<Id, Vec<SemanticTag>>>
where
    Id: From<Uuid> + Eq + std::hash::Hash,
{
    // One array parameter, whatever the number of ids.
    let sql = format!(
        "SELECT {owner}, key, value FROM {table} WHERE {owner} = ANY ($1)
         ORDER BY {owner}, key, value"
    );
    let rows: Vec<(Uuid, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(ids)
        .fetch_all(pool)
        .await
        .map_err(Error::db("read semantic tags"))?;
    let mut out: HashMap<Id, Vec<SemanticTag>> = HashMap::new();
    for (owner_id, key, value) in rows {
        out.entry(owner_id.into())
            .or_default()
            .push(SemanticTag { key, value });
    }
    Ok(out)
}
