//! The administrators' overview of the instance (`/api/admin/stats`): accounts, pictures,
//! sequences and the job queue, counted. Report counts are the reports module's.

use axum::Json;
use axum::extract::State;
use axum::routing::on;
use flaneur_store::{CountBy, InstanceStats};
use serde_json::{Map, Value, json};

use super::{Route, logged};
use crate::stac::openapi::{JSON, Operation};
use crate::{ApiResult, AppState, ReadAs};

/// `{value: count}` and the total of the counts.
fn by_value<'a>(counts: impl Iterator<Item = (&'a str, i64)>) -> (Map<String, Value>, i64) {
    let mut map = Map::new();
    let mut total = 0;
    for (value, count) in counts {
        let now = map.get(value).and_then(Value::as_i64).unwrap_or(0);
        map.insert(value.to_owned(), json!(now + count));
        total += count;
    }
    (map, total)
}

fn pairs(counts: &[CountBy]) -> impl Iterator<Item = (&str, i64)> {
    counts.iter().map(|c| (c.value.as_str(), c.count))
}

/// The overview as clients read it: each kind of object with its total and its counts by
/// value; values no object has are absent.
fn stats_json(stats: &InstanceStats) -> Value {
    let (accounts_by_role, accounts) = by_value(pairs(&stats.accounts));
    let (pictures_by_status, pictures) = by_value(pairs(&stats.pictures));
    let sequences = &stats.sequences;
    let (sequences_by_status, sequence_total) =
        by_value(sequences.iter().map(|s| (s.status.as_str(), s.count)));
    let (sequences_by_visibility, _) =
        by_value(sequences.iter().map(|s| (s.visibility.as_str(), s.count)));
    let mut jobs_by_kind = Map::new();
    for job in &stats.jobs {
        jobs_by_kind.insert(
            job.kind.clone(),
            json!({ "queued": job.queued, "running": job.running, "retrying": job.retrying }),
        );
    }
    let sum = |f: fn(&flaneur_store::JobCount) -> i64| stats.jobs.iter().map(f).sum::<i64>();
    json!({
        "accounts": { "total": accounts, "by_role": accounts_by_role },
        "pictures": { "total": pictures, "by_status": pictures_by_status },
        "sequences": {
            "total": sequence_total,
            "by_status": sequences_by_status,
            "by_visibility": sequences_by_visibility,
        },
        "jobs": {
            "queued": sum(|j| j.queued),
            "running": sum(|j| j.running),
            "retrying": sum(|j| j.retrying),
            "by_kind": jobs_by_kind,
        },
    })
}

/// `GET /api/admin/stats`.
pub async fn stats(
    State(state): State<AppState>,
    ReadAs(viewer): ReadAs,
) -> ApiResult<Json<Value>> {
    let stats = state.services.instance_stats(viewer).await?;
    Ok(Json(stats_json(&stats)))
}

/// The routes of the administrators' overview.
pub fn routes() -> Vec<Route> {
    use axum::http::Method as M;
    let counts = |of: &str| {
        json!({
            "type": "object", "required": ["total"],
            "properties": {
                "total": { "type": "integer" },
                of: { "type": "object",
                      "additionalProperties": { "type": "integer" } }
            }
        })
    };
    vec![Route::new(
        M::GET,
        "/api/admin/stats",
        |m| on(m, stats),
        logged(
            Operation::new("Administration", "What the instance holds, counted")
                .describe(
                    "Accounts by role, pictures by status, sequences by status and by \
                     visibility, and the jobs waiting by kind (those a worker holds now, and \
                     those waiting for another attempt after a failure). For administrators \
                     only.",
                )
                .answer(
                    200,
                    "The counts",
                    JSON,
                    json!({
                        "type": "object",
                        "required": ["accounts", "pictures", "sequences", "jobs"],
                        "properties": {
                            "accounts": counts("by_role"),
                            "pictures": counts("by_status"),
                            "sequences": { "type": "object" },
                            "jobs": { "type": "object" }
                        }
                    }),
                ),
        ),
    )]
}

#[cfg(test)]
mod tests {
    use flaneur_store::{JobCount, SequenceCount};

    use super::*;

    #[test]
    fn counts_are_grouped_and_totalled() {
        let count = |value: &str, count| CountBy {
            value: value.to_owned(),
            count,
        };
        let sequence = |status: &str, visibility: &str, count| SequenceCount {
            status: status.to_owned(),
            visibility: visibility.to_owned(),
            count,
        };
        let stats = InstanceStats {
            accounts: vec![count("admin", 1), count("user", 4)],
            pictures: vec![count("ready", 7)],
            sequences: vec![
                sequence("ready", "anyone", 2),
                sequence("ready", "owner-only", 1),
                sequence("deleted", "anyone", 1),
            ],
            jobs: vec![JobCount {
                kind: "prepare".to_owned(),
                queued: 3,
                running: 1,
                retrying: 1,
            }],
        };
        let body = stats_json(&stats);
        assert_eq!(
            body["accounts"],
            json!({ "total": 5, "by_role": { "admin": 1, "user": 4 } })
        );
        assert_eq!(body["sequences"]["total"], json!(4));
        assert_eq!(
            body["sequences"]["by_status"],
            json!({ "ready": 3, "deleted": 1 })
        );
        assert_eq!(
            body["sequences"]["by_visibility"],
            json!({ "anyone": 3, "owner-only": 1 })
        );
        assert_eq!(body["jobs"]["queued"], json!(3));
        assert_eq!(body["jobs"]["by_kind"]["prepare"]["running"], json!(1));
    }
}
