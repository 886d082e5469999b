//! The catalog contract: upload sets, files, pictures, dispatch, listings, search and jobs.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use flaneur_model::{
    AccountId, JobKind, NewPicture, NewUploadSet, PictureDetails, PictureId, PictureStatus,
    Projection, SequenceId, UploadFile, UploadSetId, Viewer, Visibility,
};
use flaneur_store::{
    Catalog, CompareOp, DispatchPlan, Filter, InsertOutcome, Literal, MapQuery, PictureQuery,
    PlannedPicture, PlannedSequence, SequenceQuery, SequenceSort, SqliteCatalog,
};

use crate::backend::{PgDatabase, catalog_contracts, pg_catalog};

fn spec(catalog_account: flaneur_model::AccountId, estimated: Option<i64>) -> NewUploadSet {
    NewUploadSet {
        estimated_nb_files: estimated,
        user_agent: Some("test".to_owned()),
        ..NewUploadSet::titled("walk", catalog_account)
    }
}

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_600_000_000 + secs, 0)
        .single()
        .expect("valid instant")
}

fn picture(
    set: UploadSetId,
    n: i64,
    account: flaneur_model::AccountId,
) -> (NewPicture, UploadFile) {
    let id = PictureId::new();
    let name = format!("{n}.jpg");
    let p = NewPicture {
        id,
        upload_set_id: Some(set),
        account_id: account,
        visibility: Visibility::Anyone,
        captured_at: at(n),
        utc_offset_secs: Some(3600),
        lon: 2.0 + n as f64 * 0.0001,
        lat: 48.0,
        heading_deg: Some(90.0),
        projection: Projection::Flat,
        width: 100,
        height: 50,
        orientation: 1,
        content_md5: format!("md5-{n}"),
        file_name: name.clone(),
        size_bytes: 1000,
        is_blurred: false,
        details: PictureDetails::default(),
    };
    let f = UploadFile {
        upload_set_id: set,
        file_name: name,
        size_bytes: Some(1000),
        content_md5: Some(format!("md5-{n}")),
        picture_id: Some(id),
        inserted_at: at(n),
        rejection: None,
    };
    (p, f)
}

async fn contract(catalog: &dyn Catalog) {
    let (account, name) = catalog.default_account().await.expect("default account");
    assert_eq!(
        catalog.account_name(account).await.expect("name"),
        Some(name)
    );

    // 1. Files count toward the expected number; reaching it completes and queues dispatch.
    let set = catalog
        .create_upload_set(spec(account, Some(3)))
        .await
        .expect("create")
        .id;
    let mut ids = Vec::new();
    for n in 1..=3 {
        let (p, f) = picture(set, n, account);
        ids.push(p.id);
        assert_eq!(
            catalog.insert_picture(p, f).await.expect("insert"),
            InsertOutcome::Inserted
        );
    }
    let stored = catalog
        .upload_set(set)
        .await
        .expect("read")
        .expect("exists");
    assert!(stored.completed, "three of three files complete the set");
    assert_eq!(
        catalog.pictures_by_md5("md5-2").await.expect("md5"),
        vec![(ids[1], Some(set))]
    );

    // 2. A second accepted file of the same name is refused without overwriting.
    let (mut p, f) = picture(set, 1, account);
    p.content_md5 = "other".to_owned();
    let outcome = catalog.insert_picture(p, f).await.expect("insert");
    assert_eq!(
        outcome,
        InsertOutcome::NameTaken {
            existing: Some(ids[0])
        }
    );

    // 3. Jobs: prepare jobs and the dispatch job are claimed once each, under a lease.
    let mut claimed = Vec::new();
    while let Some(job) = catalog
        .claim_job(Duration::from_secs(60))
        .await
        .expect("claim")
    {
        claimed.push((job.kind, job.target.clone()));
        catalog.finish_job(&job).await.expect("finish");
    }
    assert_eq!(
        claimed.first().map(|c| c.0),
        Some(JobKind::Dispatch),
        "dispatch goes first"
    );
    assert_eq!(
        claimed.iter().filter(|c| c.0 == JobKind::Prepare).count(),
        3
    );
    assert_eq!(catalog.pending_jobs().await.expect("pending"), 0);

    // An expired lease hands the job out again; a retried job waits for its delay.
    catalog
        .enqueue_job(JobKind::Prepare, &ids[0].to_string())
        .await
        .expect("enqueue");
    let job = catalog
        .claim_job(Duration::ZERO)
        .await
        .expect("claim")
        .expect("a job");
    tokio::time::sleep(Duration::from_millis(5)).await;
    let again = catalog
        .claim_job(Duration::from_secs(60))
        .await
        .expect("claim")
        .expect("again");
    assert_eq!((again.id, again.attempt), (job.id, 2));
    catalog
        .retry_job(&again, "boom", Duration::from_secs(3600))
        .await
        .expect("retry");
    assert!(
        catalog
            .claim_job(Duration::from_secs(60))
            .await
            .expect("claim")
            .is_none()
    );

    // 4. Dispatch writes a sequence with ranks and figures; pictures become searchable
    //    once ready.
    let plan = DispatchPlan {
        sequences: vec![PlannedSequence {
            title: "walk".to_owned(),
            sorted_by: "+gpsdate".to_owned(),
            pictures: ids
                .iter()
                .map(|id| PlannedPicture {
                    id: *id,
                    heading_deg: Some(90.0),
                    heading_computed: false,
                })
                .collect(),
            length_km: 0.015,
            gps_accuracy_m: Some(4.0),
        }],
        duplicates: vec![],
    };
    let seqs = catalog.apply_dispatch(set, plan).await.expect("dispatch");
    assert_eq!(seqs.len(), 1);
    let seq = catalog
        .sequence(seqs[0])
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(
        (seq.nb_pictures, seq.min_captured_at, seq.max_captured_at),
        (3, Some(at(1)), Some(at(3)))
    );
    for id in &ids {
        catalog
            .set_picture_status(*id, PictureStatus::Ready, None)
            .await
            .expect("ready");
    }
    let found = catalog
        .search_pictures(&PictureQuery {
            bbox: Some([1.9, 47.9, 2.00025, 48.1]),
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("search");
    let mut found: Vec<PictureId> = found.rows.iter().map(|p| p.base.id).collect();
    found.sort();
    let mut expected = vec![ids[0], ids[1]];
    expected.sort();
    assert_eq!(found, expected);
    let pic = catalog
        .picture(ids[1])
        .await
        .expect("read")
        .expect("exists");
    assert_eq!((pic.sequence_id, pic.rank), (Some(seqs[0]), Some(2)));
    let (prev, next) = catalog
        .sequence_neighbours(seqs[0], 2, Viewer::ANONYMOUS)
        .await
        .expect("neighbours");
    assert_eq!(prev.map(|p| p.base.id), Some(ids[0]));
    assert_eq!(next.map(|p| p.base.id), Some(ids[2]));

    // 5. Listing pages by keyset.
    let page = catalog
        .list_sequences(&SequenceQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(page.rows.len(), 1);
    assert!(!page.has_next && !page.has_prev);

    // 5a. Filters run in the catalog, with the capture span matching when some instant of
    //     it does.
    let compare = |property: &str, op, value| Filter::Compare {
        property: property.to_owned(),
        op,
        value,
    };
    for (filter, expected) in [
        (
            compare("datetime", CompareOp::Ge, Literal::Timestamp(at(3))),
            1,
        ),
        (
            compare("datetime", CompareOp::Gt, Literal::Timestamp(at(3))),
            0,
        ),
        (
            compare("datetime", CompareOp::Eq, Literal::Timestamp(at(2))),
            1,
        ),
        (
            compare("id", CompareOp::Eq, Literal::Text(seqs[0].to_string())),
            1,
        ),
        (
            compare("id", CompareOp::Ne, Literal::Text(seqs[0].to_string())),
            0,
        ),
        (
            Filter::In {
                property: "visibility".to_owned(),
                values: vec![Literal::Text("owner-only".to_owned())],
            },
            0,
        ),
    ] {
        let page = catalog
            .list_sequences(&SequenceQuery {
                limit: 10,
                filter: Some(filter.clone()),
                ..Default::default()
            })
            .await
            .expect("list with a filter");
        assert_eq!(page.rows.len(), expected, "{filter:?}");
    }

    // 5b. One account's sequences, newest first, and what they cover.
    let owner = account;
    let owner_name = catalog
        .account_name(owner)
        .await
        .expect("name")
        .expect("named");
    for (account, expected) in [(owner, vec![seqs[0]]), (AccountId::new(), vec![])] {
        let page = catalog
            .list_sequences(&SequenceQuery {
                limit: 10,
                account: Some(account),
                sort: vec![SequenceSort::CREATED_DESC],
                ..Default::default()
            })
            .await
            .expect("list an account's sequences");
        let ids: Vec<SequenceId> = page.rows.iter().map(|s| s.id).collect();
        assert_eq!(ids, expected);
    }
    let summary = catalog
        .account_summary(owner, Viewer::ANONYMOUS)
        .await
        .expect("summary");
    assert_eq!(summary.nb_sequences, 1);
    assert_eq!(summary.extent.interval, Some((at(1), at(3))));
    assert!(summary.extent.bbox.is_some());
    let accounts = catalog.accounts(10).await.expect("accounts");
    assert_eq!(accounts, [(owner, owner_name)]);

    // 6. What maps are drawn from: stored lines and pictures in a bbox, the grid, and a
    //    version that changes with the catalog.
    let near = MapQuery {
        bbox: [1.99, 47.99, 2.01, 48.01],
        ..MapQuery::default()
    };
    let lines = catalog.map_sequences(&near).await.expect("lines");
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].id, seqs[0]);
    assert_eq!(lines[0].lines.len(), 1, "pictures 11 m apart make one line");
    assert_eq!(lines[0].lines[0].len(), 3);
    assert_eq!(lines[0].capture_date.as_deref(), Some("2020-09-13"));
    let pictures = catalog.map_pictures(&near).await.expect("pictures");
    let ranked: Vec<PictureId> = pictures.iter().map(|p| p.id).collect();
    assert_eq!(ranked, ids);
    let far = MapQuery {
        bbox: [10.0, 10.0, 11.0, 11.0],
        ..MapQuery::default()
    };
    assert!(catalog.map_sequences(&far).await.expect("lines").is_empty());
    assert!(
        catalog
            .map_pictures(&far)
            .await
            .expect("pictures")
            .is_empty()
    );
    let other = MapQuery {
        account: Some(flaneur_model::AccountId::new()),
        ..near
    };
    assert!(
        catalog
            .map_sequences(&other)
            .await
            .expect("lines")
            .is_empty()
    );
    assert!(
        catalog
            .map_pictures(&other)
            .await
            .expect("pictures")
            .is_empty()
    );
    let grid = catalog.picture_grid().await.expect("grid");
    assert_eq!(grid.len(), 1, "{grid:?}");
    assert_eq!((grid[0].nb_pictures, grid[0].nb_360_pictures), (3, 0));
    assert!((grid[0].lon - 2.0).abs() < 1e-9 && (grid[0].lat - 48.0).abs() < 1e-9);
    let version = catalog.data_version().await.expect("version");

    // 7. Deleting the set leaves a tombstone and queues file removal.
    assert!(catalog.delete_upload_set(set).await.expect("delete"));
    assert_ne!(catalog.data_version().await.expect("version"), version);
    assert!(catalog.picture_grid().await.expect("grid").is_empty());
    assert!(
        catalog
            .map_sequences(&near)
            .await
            .expect("lines")
            .is_empty()
    );
    assert!(
        catalog
            .map_pictures(&near)
            .await
            .expect("pictures")
            .is_empty()
    );
    let seq = catalog
        .sequence(seqs[0])
        .await
        .expect("read")
        .expect("tombstone kept");
    assert_eq!(seq.status, flaneur_model::SequenceStatus::Deleted);
    assert!(catalog.picture(ids[0]).await.expect("read").is_none());
    assert!(catalog.pending_jobs().await.expect("pending") >= 3);
}

/// Leases: a job whose lease ran out is taken over, and its former holder can then neither
/// renew, finish nor re-arm it; a job queued again while held runs again once finished.
async fn lease_contract(catalog: &dyn Catalog) {
    let claim = |lease| async move { catalog.claim_job(lease).await.expect("claim") };
    catalog
        .enqueue_job(JobKind::Prepare, "a")
        .await
        .expect("enqueue");
    let first = claim(Duration::ZERO).await.expect("a job");
    assert_eq!(first.attempt, 1);
    tokio::time::sleep(Duration::from_millis(5)).await;
    let second = claim(Duration::ZERO).await.expect("the lapsed job");
    assert_eq!((second.id, second.attempt), (first.id, 2));
    tokio::time::sleep(Duration::from_millis(5)).await;

    // The first holder renewing does not keep the job from the next claim.
    catalog
        .renew_job(&first, Duration::from_secs(3600))
        .await
        .expect("stale renew");
    let third = claim(Duration::from_secs(60)).await.expect("taken over");
    assert_eq!((third.id, third.attempt), (first.id, 3));

    // Former holders finishing or re-arming leave it to the current one.
    catalog.finish_job(&first).await.expect("stale finish");
    catalog.finish_job(&second).await.expect("stale finish");
    catalog
        .retry_job(&second, "late", Duration::ZERO)
        .await
        .expect("stale retry");
    assert_eq!(catalog.pending_jobs().await.expect("pending"), 1);
    assert!(claim(Duration::from_secs(60)).await.is_none(), "still held");

    // Queued again while held: finishing re-arms it instead of removing it.
    catalog
        .renew_job(&third, Duration::from_secs(3600))
        .await
        .expect("renew");
    catalog
        .enqueue_job(JobKind::Prepare, "a")
        .await
        .expect("enqueue again");
    assert!(claim(Duration::from_secs(60)).await.is_none(), "still held");
    catalog.finish_job(&third).await.expect("finish");
    let again = claim(Duration::from_secs(60)).await.expect("re-armed");
    assert_eq!((again.id, again.attempt), (first.id, 1));
    catalog.finish_job(&again).await.expect("finish");
    assert_eq!(catalog.pending_jobs().await.expect("pending"), 0);
}

catalog_contracts! {
    keeps_the_catalog_contract => contract;
    hands_a_job_to_one_holder_at_a_time => lease_contract;
}

#[tokio::test]
async fn sqlite_catalog_survives_reopening() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("catalog.sqlite");
    let catalog = SqliteCatalog::open(&path).await.expect("open");
    let (account, _) = catalog.default_account().await.expect("account");
    let set = catalog
        .create_upload_set(spec(account, None))
        .await
        .expect("create")
        .id;
    catalog.close().await;
    let reopened = SqliteCatalog::open(&path).await.expect("reopen");
    assert!(reopened.upload_set(set).await.expect("read").is_some());
    assert_eq!(
        reopened.default_account().await.expect("account").0,
        account
    );
}

#[tokio::test]
async fn postgres_catalog_survives_reconnecting() {
    PgDatabase::run(|url| async move {
        let catalog = pg_catalog(&url).await;
        let (account, _) = catalog.default_account().await.expect("account");
        let set = catalog
            .create_upload_set(spec(account, None))
            .await
            .expect("create")
            .id;
        catalog.close().await;
        let reopened = pg_catalog(&url).await;
        assert!(reopened.upload_set(set).await.expect("read").is_some());
        assert_eq!(
            reopened.default_account().await.expect("account").0,
            account
        );
        reopened.close().await;
    })
    .await;
}

/// The message of a catalog refusing a schema a later version of Flâneur migrated.
fn assert_newer_schema_refused(err: &flaneur_store::Error) {
    let message = err.to_string();
    assert!(
        message.contains("newer") && message.contains("upgrade"),
        "{message}"
    );
}

/// A process of an older version starting on a catalog a newer one migrated stops rather than
/// write rows that break what the newer schema expects.
#[tokio::test]
async fn sqlite_catalog_refuses_a_schema_newer_than_it_knows() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("catalog.sqlite");
    SqliteCatalog::open(&path)
        .await
        .expect("open")
        .close()
        .await;
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("connect");
    sqlx::query("INSERT INTO schema_migrations (version, name) VALUES (9999, 'from_the_future')")
        .execute(&pool)
        .await
        .expect("record a future migration");
    pool.close().await;
    let err = SqliteCatalog::open(&path)
        .await
        .expect_err("a newer schema is refused");
    assert_newer_schema_refused(&err);
}

#[tokio::test]
async fn postgres_catalog_refuses_a_schema_newer_than_it_knows() {
    PgDatabase::run(|url| async move {
        pg_catalog(&url).await.close().await;
        let pool = sqlx::PgPool::connect(&url).await.expect("connect");
        sqlx::query(
            "INSERT INTO schema_migrations (version, name) VALUES (9999, 'from_the_future')",
        )
        .execute(&pool)
        .await
        .expect("record a future migration");
        pool.close().await;
        let err =
            flaneur_store::PgCatalog::connect(&url, flaneur_store::PgCatalogOptions::default())
                .await
                .expect_err("a newer schema is refused");
        assert_newer_schema_refused(&err);
    })
    .await;
}
