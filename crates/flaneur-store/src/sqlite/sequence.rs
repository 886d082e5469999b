//! Sequences: writing a dispatch, reading and listing them. Listing pages are read through
//! [`crate::listing::paging`], as the PostgreSQL catalog reads them.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use flaneur_model::{
    AccountId, FileRejection, ItemsStatus, JobKind, RejectionReason, SemanticTag, Sequence,
    SequenceId, UploadSetId, Viewer,
};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use super::codec::{from_micros, push_bbox_overlap, sequence_from_row, to_micros};
use super::job;
use crate::catalog::{AccountSummary, DispatchPlan, Extent, Page, SequenceSummary};
use crate::filter::sql::push_filter;
use crate::listing::SequenceQuery;
use crate::listing::paging::{self, Bound, SequenceSource, push_listed, sequence_column};
use crate::visibility::{REACHES_SEQUENCE, push_visible};
use crate::{Error, Result};

/// Folds `(status, count)` rows of pictures into the Panoramax status counters.
pub(super) fn items_status_from_counts(rows: &[(String, i64)]) -> ItemsStatus {
    let mut s = ItemsStatus::default();
    for (status, n) in rows {
        match status.as_str() {
            "ready" => s.prepared += n,
            "preparing" => s.preparing += n,
            "broken" => s.broken += n,
            "waiting-for-process" => s.not_processed += n,
            // Duplicates awaiting removal are counted as rejected files instead.
            _ => {}
        }
    }
    s
}

pub(super) async fn sequence_items_status(
    pool: &SqlitePool,
    id: SequenceId,
) -> Result<ItemsStatus> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT p.status, count(*) FROM sequence_pictures sp
         JOIN pictures p ON p.id = sp.picture_id
         WHERE sp.sequence_id = ? GROUP BY p.status",
    )
    .bind(id.to_string())
    .fetch_all(pool)
    .await
    .map_err(Error::db("count sequence pictures"))?;
    Ok(items_status_from_counts(&rows))
}

pub(super) async fn sequence(pool: &SqlitePool, id: SequenceId) -> Result<Option<Sequence>> {
    let row = sqlx::query("SELECT * FROM sequences WHERE id = ?")
        .bind(id.to_string())
        .fetch_optional(pool)
        .await
        .map_err(Error::db("read sequence"))?;
    row.as_ref().map(sequence_from_row).transpose()
}

pub(super) async fn upload_set_sequences(
    pool: &SqlitePool,
    id: UploadSetId,
) -> Result<Vec<SequenceSummary>> {
    let rows = sqlx::query(
        "SELECT * FROM sequences WHERE upload_set_id = ? AND status != 'deleted'
         ORDER BY created_at, id",
    )
    .bind(id.to_string())
    .fetch_all(pool)
    .await
    .map_err(Error::db("list upload set sequences"))?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let sequence = sequence_from_row(row)?;
        let items_status = sequence_items_status(pool, sequence.id).await?;
        out.push(SequenceSummary {
            sequence,
            items_status,
        });
    }
    Ok(out)
}

pub(super) async fn list_sequences(
    pool: &SqlitePool,
    query: &SequenceQuery,
) -> Result<Page<Sequence>> {
    paging::list_sequences(pool, query).await
}

impl SequenceSource for SqlitePool {
    type Db = Sqlite;

    const CAPTURE_SORT: &'static str = "coalesce(min_captured_at, 0)";

    fn push_bound(sql: &mut QueryBuilder<Sqlite>, bound: Bound) {
        match bound {
            Bound::Instant(micros) => sql.push_bind(micros),
            Bound::Id(id) => sql.push_bind(id.to_string()),
        };
    }

    fn filtered_sequences(query: &SequenceQuery, head: &str) -> Result<QueryBuilder<Sqlite>> {
        let mut sql = QueryBuilder::new(format!("{head} FROM sequences WHERE "));
        push_listed(&mut sql, query);
        if let Some(account) = query.account {
            sql.push(" AND account_id = ")
                .push_bind(account.to_string());
        }
        if let Some(bbox) = query.bbox {
            sql.push(" AND ");
            push_bbox_overlap(&mut sql, "", bbox);
        }
        if let Some(start) = query.datetime.start {
            sql.push(" AND max_captured_at >= ")
                .push_bind(to_micros(start));
        }
        if let Some(end) = query.datetime.end {
            sql.push(" AND min_captured_at <= ")
                .push_bind(to_micros(end));
        }
        if let Some(filter) = &query.filter {
            sql.push(" AND ");
            push_filter(&mut sql, filter, &sequence_column)?;
        }
        Ok(sql)
    }

    async fn fetch_sequences(&self, mut sql: QueryBuilder<Sqlite>) -> Result<Vec<Sequence>> {
        let rows = sql
            .build()
            .fetch_all(self)
            .await
            .map_err(Error::db("list sequences"))?;
        rows.iter().map(sequence_from_row).collect()
    }

    async fn has_row(&self, mut sql: QueryBuilder<Sqlite>) -> Result<bool> {
        let row = sql
            .build()
            .fetch_optional(self)
            .await
            .map_err(Error::db("probe sequences"))?;
        Ok(row.is_some())
    }
}

pub(super) async fn account_summary(
    pool: &SqlitePool,
    id: AccountId,
    viewer: Viewer,
) -> Result<AccountSummary> {
    type Row = (
        i64,
        Option<f64>,
        Option<f64>,
        Option<f64>,
        Option<f64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
    );
    let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(
        "SELECT count(*), min(min_lon), min(min_lat), max(max_lon), max(max_lat),
                min(min_captured_at), max(max_captured_at), min(created_at), max(updated_at)
         FROM sequences
         WHERE status = 'ready' AND account_id = ",
    );
    sql.push_bind(id.to_string()).push(" AND ");
    push_visible(&mut sql, viewer, "");
    let row: Row = sql
        .build_query_as()
        .fetch_one(pool)
        .await
        .map_err(Error::db("summarize account sequences"))?;
    let (nb_sequences, min_lon, min_lat, max_lon, max_lat, start, end, created, updated) = row;
    let bbox = match (min_lon, min_lat, max_lon, max_lat) {
        (Some(a), Some(b), Some(c), Some(d)) => Some([a, b, c, d]),
        _ => None,
    };
    let interval = match (start, end) {
        (Some(a), Some(b)) => Some((from_micros(a), from_micros(b))),
        _ => None,
    };
    Ok(AccountSummary {
        nb_sequences,
        extent: Extent { bbox, interval },
        first_created_at: created.map(from_micros),
        last_updated_at: updated.map(from_micros),
    })
}

pub(super) async fn apply_dispatch(
    pool: &SqlitePool,
    upload_set: UploadSetId,
    plan: DispatchPlan,
) -> Result<Vec<SequenceId>> {
    let set_text = upload_set.to_string();
    let now = to_micros(Utc::now());
    let mut tx = super::begin_write(pool)
        .await
        .map_err(Error::db("apply dispatch"))?;

    // 1. What an earlier dispatch made: sequence of each picture.
    let previous: Vec<(String, String)> = sqlx::query_as(
        "SELECT sp.picture_id, sp.sequence_id FROM sequence_pictures sp
         JOIN sequences s ON s.id = sp.sequence_id
         WHERE s.upload_set_id = ? AND s.status != 'deleted'",
    )
    .bind(&set_text)
    .fetch_all(&mut *tx)
    .await
    .map_err(Error::db("read previous dispatch"))?;
    let previous: HashMap<String, String> = previous.into_iter().collect();
    let mut old_sequences: HashSet<String> = previous.values().cloned().collect();

    let spec: (String, String) =
        sqlx::query_as("SELECT account_id, spec FROM upload_sets WHERE id = ?")
            .bind(&set_text)
            .fetch_optional(&mut *tx)
            .await
            .map_err(Error::db("read upload set"))?
            .ok_or_else(|| Error::NotFound {
                kind: "upload set",
                id: set_text.clone(),
            })?;
    let (account_id, spec) = spec;
    let spec: flaneur_model::NewUploadSet =
        serde_json::from_str(&spec).map_err(|e| Error::corrupt("upload_sets", e))?;

    // Each sequence carries the upload set's tags as they are at dispatch. The upload set
    // route refused malformed ones: tags that cannot be read here are a damaged row, and
    // taking them as none would delete every tag of the sequences made again.
    let tags = SemanticTag::list_from_json(&spec.semantics).ok_or_else(|| {
        Error::corrupt(
            "upload_sets",
            "semantics are not a list of {key, value} tags",
        )
    })?;
    let tag_pairs: HashSet<(&str, &str)> = tags
        .iter()
        .map(|t| (t.key.as_str(), t.value.as_str()))
        .collect();

    // 2. Each planned sequence reuses an earlier one holding one of its pictures, or is new.
    let mut ids = Vec::with_capacity(plan.sequences.len());
    for planned in &plan.sequences {
        let reused = planned
            .pictures
            .iter()
            .filter_map(|p| previous.get(&p.id.to_string()))
            .find(|s| old_sequences.contains(*s))
            .cloned();
        let id = match &reused {
            Some(s) => {
                old_sequences.remove(s);
                s.parse().map_err(|e| Error::corrupt("sequences", e))?
            }
            None => SequenceId::new(),
        };
        let id_text = id.to_string();

        // A sequence made again keeps its `updated_at` unless its row changes: the triggers of
        // the `updated_at` migration move it then, as they do for each write below.
        sqlx::query(
            "INSERT INTO sequences (id, upload_set_id, account_id, title, status, visibility,
                 sorted_by, user_agent, relative_heading_deg, created_at, updated_at, length_km,
                 gps_accuracy_m)
             VALUES (?, ?, ?, ?, 'ready', ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET title = excluded.title, status = 'ready',
                 sorted_by = excluded.sorted_by, length_km = excluded.length_km,
                 gps_accuracy_m = excluded.gps_accuracy_m",
        )
        .bind(&id_text)
        .bind(&set_text)
        .bind(&account_id)
        .bind(&planned.title)
        .bind(spec.visibility.as_str())
        .bind(&planned.sorted_by)
        .bind(&spec.user_agent)
        .bind(spec.relative_heading_deg)
        .bind(now)
        .bind(now)
        .bind(planned.length_km)
        .bind(planned.gps_accuracy_m)
        .execute(&mut *tx)
        .await
        .map_err(Error::db("write sequence"))?;

        // Tags already there stay, as ranks do below: taking them out and in again would move
        // the sequence's `updated_at` with nothing changed. Adding one already there is ignored.
        let stored: Vec<(String, String)> =
            sqlx::query_as("SELECT key, value FROM sequence_semantics WHERE sequence_id = ?")
                .bind(&id_text)
                .fetch_all(&mut *tx)
                .await
                .map_err(Error::db("read sequence tags"))?;
        for (key, value) in stored {
            if tag_pairs.contains(&(key.as_str(), value.as_str())) {
                continue;
            }
            sqlx::query(
                "DELETE FROM sequence_semantics WHERE sequence_id = ? AND key = ? AND value = ?",
            )
            .bind(&id_text)
            .bind(&key)
            .bind(&value)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("remove sequence tag"))?;
        }
        for tag in &tags {
            sqlx::query(
                "INSERT OR IGNORE INTO sequence_semantics (sequence_id, key, value)
                 VALUES (?, ?, ?)",
            )
            .bind(&id_text)
            .bind(&tag.key)
            .bind(&tag.value)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("write sequence tag"))?;
        }

        // Ranks already as planned stay: writing them again would move the `updated_at` of
        // the sequence and of its pictures, and the map's version, with nothing changed. The
        // others are taken out first, which frees their places for the planned ones.
        let ranks: Vec<(i64, String)> = sqlx::query_as(
            "SELECT rank, picture_id FROM sequence_pictures WHERE sequence_id = ? ORDER BY rank",
        )
        .bind(&id_text)
        .fetch_all(&mut *tx)
        .await
        .map_err(Error::db("read sequence ranks"))?;
        let planned_ranks: HashSet<(i64, String)> = (1_i64..)
            .zip(&planned.pictures)
            .map(|(rank, p)| (rank, p.id.to_string()))
            .collect();
        for (rank, _) in ranks.iter().filter(|r| !planned_ranks.contains(*r)) {
            sqlx::query("DELETE FROM sequence_pictures WHERE sequence_id = ? AND rank = ?")
                .bind(&id_text)
                .bind(rank)
                .execute(&mut *tx)
                .await
                .map_err(Error::db("clear sequence rank"))?;
        }
        let kept: HashSet<&(i64, String)> = ranks.iter().collect();
        for (rank, picture) in (1_i64..).zip(&planned.pictures) {
            let pic_text = picture.id.to_string();
            if !kept.contains(&(rank, pic_text.clone())) {
                // A picture moving from another sequence of this set leaves it first.
                sqlx::query("DELETE FROM sequence_pictures WHERE picture_id = ?")
                    .bind(&pic_text)
                    .execute(&mut *tx)
                    .await
                    .map_err(Error::db("move picture"))?;
                sqlx::query(
                    "INSERT INTO sequence_pictures (sequence_id, rank, picture_id)
                     VALUES (?, ?, ?)",
                )
                .bind(&id_text)
                .bind(rank)
                .bind(&pic_text)
                .execute(&mut *tx)
                .await
                .map_err(Error::db("write sequence rank"))?;
            }
            sqlx::query("UPDATE pictures SET heading_deg = ?, heading_computed = ? WHERE id = ?")
                .bind(picture.heading_deg)
                .bind(i64::from(picture.heading_computed))
                .bind(&pic_text)
                .execute(&mut *tx)
                .await
                .map_err(Error::db("write picture heading"))?;
        }
        refresh_sequence_figures(&mut tx, &id_text).await?;
        ids.push(id);
    }

    // 3. Earlier sequences no longer needed become tombstones.
    for old in old_sequences {
        sqlx::query("DELETE FROM sequence_pictures WHERE sequence_id = ?")
            .bind(&old)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("clear old sequence"))?;
        sqlx::query("UPDATE sequences SET status = 'deleted', nb_pictures = 0 WHERE id = ?")
            .bind(&old)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("tombstone old sequence"))?;
    }

    // 4. Duplicates: refused as such on their file, their files removed by a job.
    for dup in &plan.duplicates {
        let pic_text = dup.id.to_string();
        let rejection = FileRejection {
            reason: RejectionReason::CaptureDuplicate,
            message: "The picture is too similar to another one (nearby and taken almost at the \
                      same time)"
                .to_owned(),
            details: Some(dup.details.clone()),
        };
        sqlx::query(
            "UPDATE files SET rejection_reason = ?, rejection_message = ?, rejection_details = ?
             WHERE upload_set_id = ? AND picture_id = ?",
        )
        .bind(rejection.reason.as_str())
        .bind(&rejection.message)
        .bind(rejection.details.as_ref().map(|d| d.to_string()))
        .bind(&set_text)
        .bind(&pic_text)
        .execute(&mut *tx)
        .await
        .map_err(Error::db("reject duplicate"))?;
        sqlx::query("DELETE FROM sequence_pictures WHERE picture_id = ?")
            .bind(&pic_text)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("unlink duplicate"))?;
        sqlx::query("UPDATE pictures SET status = 'waiting-for-delete' WHERE id = ?")
            .bind(&pic_text)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("mark duplicate"))?;
        sqlx::query("DELETE FROM jobs WHERE kind = 'prepare' AND target = ?")
            .bind(&pic_text)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("cancel duplicate processing"))?;
        job::enqueue(&mut tx, JobKind::DeleteFiles, &pic_text).await?;
    }

    // 5. The set is dispatched only if no picture arrived after the plan was made; otherwise
    //    it is planned again, with the newcomers.
    let planned: usize = plan.sequences.iter().map(|s| s.pictures.len()).sum();
    let live: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pictures WHERE upload_set_id = ? AND status != 'waiting-for-delete'",
    )
    .bind(&set_text)
    .fetch_one(&mut *tx)
    .await
    .map_err(Error::db("count dispatched pictures"))?;
    if usize::try_from(live).ok() == Some(planned) {
        sqlx::query("UPDATE upload_sets SET dispatched = 1 WHERE id = ?")
            .bind(&set_text)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("mark dispatched"))?;
    } else {
        job::enqueue(&mut tx, JobKind::Dispatch, &set_text).await?;
    }
    tx.commit().await.map_err(Error::db("apply dispatch"))?;
    Ok(ids)
}

/// Recomputes a sequence's count, time span and bbox from the pictures that reach as far as
/// it (see [`REACHES_SEQUENCE`]): the figures everyone who may read the sequence reads, its
/// owner included.
pub(super) async fn refresh_sequence_figures(
    conn: &mut sqlx::SqliteConnection,
    id: &str,
) -> Result<()> {
    let figures = format!(
        "UPDATE sequences SET (nb_pictures, min_captured_at, max_captured_at,
                               min_lon, min_lat, max_lon, max_lat) =
             (SELECT count(*), min(p.captured_at), max(p.captured_at),
                     min(p.lon), min(p.lat), max(p.lon), max(p.lat)
              FROM sequence_pictures sp
              JOIN pictures p ON p.id = sp.picture_id
              JOIN sequences s ON s.id = sp.sequence_id
              WHERE sp.sequence_id = ?1 AND {REACHES_SEQUENCE})
         WHERE id = ?1"
    );
    sqlx::query(sqlx::AssertSqlSafe(figures))
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(Error::db("refresh sequence figures"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use sqlx::Row;

    use super::*;
    use crate::SqliteCatalog;
    use crate::filter::{CompareOp, Filter, Literal};
    use crate::listing::{
        PagePosition, SequenceCursor, SequenceSort, SequenceSortField, total_order,
    };

    /// SQLite's plan of the page query, one line per step.
    async fn plan(catalog: &SqliteCatalog, query: &SequenceQuery) -> Vec<String> {
        let keys = total_order(&query.sort);
        let mut sql = paging::page_sql::<SqlitePool>(query, &keys, "EXPLAIN QUERY PLAN SELECT *")
            .expect("page SQL");
        let rows = sql.build().fetch_all(&catalog.reader).await.expect("plan");
        rows.iter()
            .map(|r| r.try_get::<String, _>("detail").unwrap_or_default())
            .collect()
    }

    #[tokio::test]
    async fn changes_since_a_date_page_through_the_update_index_without_sorting() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let catalog = SqliteCatalog::open(&dir.path().join("catalog.db"))
            .await
            .expect("catalog");
        let since = Utc
            .timestamp_opt(1_767_225_600, 0)
            .single()
            .expect("instant");
        let at = SequenceCursor {
            values: vec![to_micros(since) + 5],
            id: SequenceId::new(),
        };
        for (page, with_hidden) in [
            (PagePosition::First, true),
            (PagePosition::After(at.clone()), true),
            (PagePosition::Before(at), false),
            (PagePosition::Last, true),
        ] {
            let query = SequenceQuery {
                limit: 100,
                sort: vec![SequenceSort {
                    field: SequenceSortField::Updated,
                    descending: false,
                }],
                filter: Some(Filter::Compare {
                    property: "updated".to_owned(),
                    op: CompareOp::Ge,
                    value: Literal::Timestamp(since),
                }),
                with_hidden,
                page: page.clone(),
                ..SequenceQuery::default()
            };
            let steps = plan(&catalog, &query).await;
            assert!(
                steps
                    .iter()
                    .any(|s| s.contains("USING INDEX sequences_updated")),
                "{page:?}: {steps:?}"
            );
            assert!(
                !steps.iter().any(|s| s.contains("TEMP B-TREE")),
                "{page:?} sorts its rows: {steps:?}"
            );
        }

        // Newest captures first reads the capture index backwards.
        let by_capture = SequenceQuery {
            limit: 100,
            sort: vec![SequenceSort {
                field: SequenceSortField::Datetime,
                descending: true,
            }],
            ..SequenceQuery::default()
        };
        let steps = plan(&catalog, &by_capture).await;
        assert!(
            steps.iter().any(|s| s.contains("sequences_captured")),
            "{steps:?}"
        );
        assert!(
            !steps.iter().any(|s| s.contains("TEMP B-TREE")),
            "{steps:?}"
        );
    }
}
