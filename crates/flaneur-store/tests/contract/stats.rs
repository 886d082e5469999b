//! The contract of the administrators' counts: accounts by role, pictures by status,
//! sequences by status and visibility, and jobs by kind with those running and retrying.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use flaneur_model::{JobKind, NewUploadSet, PictureStatus, Role, Visibility};
use flaneur_store::{Catalog, CountBy, JobCount};

use crate::backend::catalog_contracts;
use crate::fixture::{self, offset};

catalog_contracts! {
    instance_counts_group_what_the_catalog_holds => instance_counts;
}

fn count(value: &str, count: i64) -> CountBy {
    CountBy {
        value: value.to_owned(),
        count,
    }
}

async fn instance_counts(catalog: &dyn Catalog) {
    // An empty catalog: its default account only.
    let stats = catalog.instance_stats().await.expect("stats");
    assert_eq!(stats.accounts, [count("admin", 1)]);
    assert!(stats.pictures.is_empty() && stats.sequences.is_empty() && stats.jobs.is_empty());

    // Three jobs of one kind: one held by a worker, one failed once and waiting.
    let lease = Duration::from_secs(600);
    for target in ["a", "b", "c"] {
        catalog
            .enqueue_job(JobKind::DeleteFiles, target)
            .await
            .expect("enqueue");
    }
    let failed = catalog.claim_job(lease).await.expect("claim").expect("job");
    catalog
        .retry_job(&failed, "unreachable", Duration::from_secs(3600))
        .await
        .expect("retry");
    catalog.claim_job(lease).await.expect("claim").expect("job");
    let stats = catalog.instance_stats().await.expect("stats");
    let deletions: Vec<&JobCount> = stats
        .jobs
        .iter()
        .filter(|j| j.kind == "delete_files")
        .collect();
    assert_eq!(
        deletions,
        [&JobCount {
            kind: "delete_files".to_owned(),
            queued: 3,
            running: 1,
            retrying: 1,
        }]
    );

    // An account, and a hidden walk of one ready and one broken picture.
    catalog
        .create_account("ana", Role::User)
        .await
        .expect("account");
    let (owner, _) = catalog.default_account().await.expect("account");
    let set = catalog
        .create_upload_set(NewUploadSet {
            visibility: Visibility::OwnerOnly,
            ..NewUploadSet::titled("walk", owner)
        })
        .await
        .expect("set")
        .id;
    let at = |n: i64| {
        Utc.timestamp_opt(1_600_000_000 + n, 0)
            .single()
            .expect("instant")
    };
    let pictures = vec![
        (
            fixture::picture(set, owner, 0, at(0), offset(0.0, 0.0)),
            PictureStatus::Ready,
        ),
        (
            fixture::picture(set, owner, 1, at(10), offset(10.0, 0.0)),
            PictureStatus::Broken,
        ),
    ];
    fixture::publish(catalog, set, "walk", pictures).await;
    let stats = catalog.instance_stats().await.expect("stats");
    assert_eq!(stats.accounts, [count("admin", 1), count("user", 1)]);
    assert_eq!(stats.pictures, [count("broken", 1), count("ready", 1)]);
    assert_eq!(stats.sequences.len(), 1, "{:?}", stats.sequences);
    assert_eq!(stats.sequences[0].visibility, "owner-only");
    assert_eq!(stats.sequences[0].count, 1);
}
