//! Reading the semantic tags of sequences and pictures, for the objects of one page at once.
//! Sequences receive theirs in dispatch (`sequence.rs`); the search filter tests them in SQL
//! (`search.rs`).

use std::collections::HashMap;
use std::str::FromStr;

use flaneur_model::{PictureId, SemanticTag, SequenceId};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use crate::{Error, Result};

pub(super) async fn sequence_semantics(
    pool: &SqlitePool,
    ids: &[SequenceId],
) -> Result<HashMap<SequenceId, Vec<SemanticTag>>> {
    tags_of(pool, "sequence_semantics", "sequence_id", ids).await
}

pub(super) async fn picture_semantics(
    pool: &SqlitePool,
    ids: &[PictureId],
) -> Result<HashMap<PictureId, Vec<SemanticTag>>> {
    tags_of(pool, "picture_semantics", "picture_id", ids).await
}

/// The tags of `ids` in `table`, sorted by key then value; objects without tags are absent.
async fn tags_of<Id>(
    pool: &SqlitePool,
    table: &'static str,
    owner: &'static str,
    ids: &[Id],
) -> Result<HashMap<Id, Vec<SemanticTag>>>
where
    Id: ToString + FromStr + Eq + std::hash::Hash,
    Id::Err: std::fmt::Display,
{
    let mut out: HashMap<Id, Vec<SemanticTag>> = HashMap::new();
    // SQLite takes at most 32766 bound values; pages are far smaller, lists are cut anyway.
    for chunk in ids.chunks(10_000) {
        let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "SELECT {owner}, key, value FROM {table} WHERE {owner} IN ("
        ));
        let mut list = sql.separated(", ");
        for id in chunk {
            list.push_bind(id.to_string());
        }
        sql.push(format!(") ORDER BY {owner}, key, value"));
        let rows: Vec<(String, String, String)> = sql
            .build_query_as()
            .fetch_all(pool)
            .await
            .map_err(Error::db("read semantic tags"))?;
        for (owner_id, key, value) in rows {
            let id = owner_id
                .parse()
                .map_err(|e: Id::Err| Error::corrupt(table, e.to_string()))?;
            out.entry(id).or_default().push(SemanticTag { key, value });
        }
    }
    Ok(out)
}
