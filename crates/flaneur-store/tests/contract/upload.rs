//! The contract of uploads: refused files, repeated bytes, names and ids, completion, the
//! picture states, a dispatch with duplicates and one made again, and what each leaves to
//! read; and uploads that race each other.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use flaneur_model::{
    AccountId, FileRejection, ItemsStatus, JobKind, NewPicture, NewUploadSet, PictureId,
    PictureStatus, RejectionReason, SemanticTag, UploadFile, UploadSetId, Viewer,
};
use flaneur_store::{
    Catalog, DispatchPlan, InsertOutcome, PlannedDuplicate, PlannedPicture, PlannedSequence,
    RankQuery,
};

use crate::backend::catalog_contracts;
use crate::fixture;

fn at(secs: i64) -> chrono::DateTime<Utc> {
    Utc.timestamp_opt(1_600_000_000 + secs, 0)
        .single()
        .expect("instant")
}

/// The `n`th picture of a set with its accepted file, its bytes standing for `md5`.
fn upload(set: UploadSetId, account: AccountId, n: usize, md5: &str) -> (NewPicture, UploadFile) {
    let place = fixture::offset(n as f64 * 5.0, 0.0);
    let mut picture = fixture::picture(set, account, n, at(n as i64), place);
    md5.clone_into(&mut picture.content_md5);
    let file = UploadFile {
        upload_set_id: set,
        file_name: picture.file_name.clone(),
        size_bytes: Some(1),
        content_md5: Some(md5.to_owned()),
        picture_id: Some(picture.id),
        inserted_at: at(n as i64),
        rejection: None,
    };
    (picture, file)
}

fn refused(set: UploadSetId, name: &str, secs: i64, reason: RejectionReason) -> UploadFile {
    UploadFile {
        upload_set_id: set,
        file_name: name.to_owned(),
        size_bytes: None,
        content_md5: None,
        picture_id: None,
        inserted_at: at(secs),
        rejection: Some(FileRejection {
            reason,
            message: format!("{name} refused"),
            details: Some(serde_json::json!({"why": name})),
        }),
    }
}

fn planned(title: &str, pictures: &[PictureId]) -> PlannedSequence {
    PlannedSequence {
        title: title.to_owned(),
        sorted_by: "+gpsdate".to_owned(),
        pictures: pictures
            .iter()
            .map(|&id| PlannedPicture {
                id,
                heading_deg: Some(45.0),
                heading_computed: true,
            })
            .collect(),
        length_km: 0.01,
        gps_accuracy_m: Some(3.0),
    }
}

async fn uploads(catalog: &dyn Catalog) {
    let (account, _) = catalog.default_account().await.expect("account");
    let spec = NewUploadSet {
        estimated_nb_files: Some(6),
        semantics: serde_json::json!([
            {"key": "transport", "value": "bike"},
            {"key": "surface", "value": "gravel"},
            {"key": "surface", "value": "asphalt"},
        ]),
        ..NewUploadSet::titled("walk", account)
    };
    let set = catalog.create_upload_set(spec).await.expect("create");
    assert_eq!(
        catalog
            .upload_set(set.id)
            .await
            .expect("read")
            .map(|s| s.id),
        Some(set.id)
    );
    let set = set.id;
    let other = catalog
        .create_upload_set(NewUploadSet::titled("other", account))
        .await
        .expect("create")
        .id;

    // 1. Accepted pictures, and what repeats them: the same bytes in this set or in another,
    //    the same name, the same id.
    let mut ids = Vec::new();
    for n in 0..3 {
        let (picture, file) = upload(set, account, n, &format!("bytes-{n}"));
        ids.push(picture.id);
        assert_eq!(
            catalog.insert_picture(picture, file).await.expect("insert"),
            InsertOutcome::Inserted
        );
    }
    let (mut again, mut again_file) = upload(set, account, 9, "bytes-0");
    assert_eq!(
        catalog
            .insert_picture(again.clone(), again_file.clone())
            .await
            .expect("insert"),
        InsertOutcome::SameBytes { existing: ids[0] }
    );
    let (elsewhere, elsewhere_file) = upload(other, account, 0, "bytes-1");
    assert_eq!(
        catalog
            .insert_picture(elsewhere, elsewhere_file)
            .await
            .expect("insert"),
        InsertOutcome::SameBytesElsewhere {
            existing: vec![(ids[1], Some(set))]
        }
    );
    "fresh-bytes".clone_into(&mut again.content_md5);
    again_file.file_name = "1.jpg".to_owned();
    again.file_name = "1.jpg".to_owned();
    assert_eq!(
        catalog
            .insert_picture(again.clone(), again_file.clone())
            .await
            .expect("insert"),
        InsertOutcome::NameTaken {
            existing: Some(ids[1])
        }
    );
    again.id = ids[2];
    again_file.file_name = "id.jpg".to_owned();
    again_file.picture_id = Some(ids[2]);
    assert_eq!(
        catalog
            .insert_picture(again, again_file)
            .await
            .expect("insert"),
        InsertOutcome::IdTaken
    );
    assert_eq!(
        catalog.pictures_by_md5("bytes-1").await.expect("md5"),
        vec![(ids[1], Some(set))]
    );

    // 2. Refused files: a later refusal replaces an earlier one of the same name, never an
    //    accepted file. Refused files count toward the expected number: the sixth completes
    //    the set and queues its dispatch.
    catalog
        .record_rejection(refused(set, "bad.jpg", 10, RejectionReason::InvalidFile))
        .await
        .expect("refuse");
    catalog
        .record_rejection(refused(set, "0.jpg", 11, RejectionReason::InvalidFile))
        .await
        .expect("refuse an accepted name");
    assert!(
        !catalog
            .upload_set(set)
            .await
            .expect("read")
            .expect("set")
            .completed
    );
    catalog
        .record_rejection(refused(
            set,
            "bad.jpg",
            12,
            RejectionReason::InvalidMetadata,
        ))
        .await
        .expect("refuse again");
    let files = catalog.upload_set_files(set).await.expect("files");
    let listed: Vec<(&str, Option<RejectionReason>)> = files
        .iter()
        .map(|f| (f.file_name.as_str(), f.rejection.as_ref().map(|r| r.reason)))
        .collect();
    assert_eq!(
        listed,
        [
            ("0.jpg", None),
            ("1.jpg", None),
            ("2.jpg", None),
            ("id.jpg", Some(RejectionReason::IdConflict)),
            ("bad.jpg", Some(RejectionReason::InvalidMetadata)),
        ],
        "in arrival order, files arriving together by name"
    );
    let bad = &files[4];
    assert_eq!(bad.inserted_at, at(12));
    let rejection = bad.rejection.as_ref().expect("refused");
    assert_eq!(rejection.message, "bad.jpg refused");
    assert_eq!(
        rejection.details,
        Some(serde_json::json!({"why": "bad.jpg"}))
    );
    assert_eq!(files[0].picture_id, Some(ids[0]));
    assert_eq!(files[0].content_md5.as_deref(), Some("bytes-0"));
    assert_eq!(files[0].size_bytes, Some(1));
    assert_eq!(files[3].picture_id, None, "a refused file names no picture");
    let other_files = catalog.upload_set_files(other).await.expect("files");
    assert_eq!(
        other_files[0].rejection.as_ref().map(|r| r.reason),
        Some(RejectionReason::FileDuplicate)
    );
    catalog
        .record_rejection(refused(set, "late.jpg", 13, RejectionReason::OtherError))
        .await
        .expect("refuse");
    let stored = catalog.upload_set(set).await.expect("read").expect("set");
    assert!(stored.completed && !stored.dispatched, "six files of six");
    assert_eq!(
        catalog.upload_set_items_status(set).await.expect("status"),
        ItemsStatus {
            not_processed: 3,
            rejected: 3,
            ..ItemsStatus::default()
        }
    );
    let job = catalog
        .claim_job(Duration::from_secs(60))
        .await
        .expect("claim")
        .expect("a job");
    assert_eq!(
        (job.kind, job.target.as_str()),
        (JobKind::Dispatch, set.to_string().as_str())
    );
    catalog.finish_job(&job).await.expect("finish");

    // 3. Picture states: a transition only from the states given.
    assert!(
        !catalog
            .transition_picture(
                ids[0],
                &[PictureStatus::Preparing],
                PictureStatus::Ready,
                None
            )
            .await
            .expect("transition")
    );
    assert!(
        catalog
            .transition_picture(
                ids[0],
                &[PictureStatus::WaitingForProcess, PictureStatus::Preparing],
                PictureStatus::Broken,
                Some("decode"),
            )
            .await
            .expect("transition")
    );
    let broken = catalog
        .picture(ids[0])
        .await
        .expect("read")
        .expect("picture");
    assert_eq!(
        (broken.status, broken.process_error.as_deref()),
        (PictureStatus::Broken, Some("decode"))
    );
    for &id in &ids {
        catalog
            .set_picture_status(id, PictureStatus::Ready, None)
            .await
            .expect("ready");
    }

    // 4. A dispatch dropping a duplicate: refused on its file, waiting for deletion, its
    //    files queued for removal; the set is dispatched.
    let plan = DispatchPlan {
        sequences: vec![planned("walk", &ids[..2])],
        duplicates: vec![PlannedDuplicate {
            id: ids[2],
            details: serde_json::json!({"duplicate_of": ids[1].to_string(), "distance": 1.0}),
        }],
    };
    let sequences = catalog.apply_dispatch(set, plan).await.expect("dispatch");
    assert_eq!(sequences.len(), 1);
    let sequence = sequences[0];
    let stored = catalog.upload_set(set).await.expect("read").expect("set");
    assert!(stored.dispatched);
    let dropped = catalog
        .picture(ids[2])
        .await
        .expect("read")
        .expect("picture");
    assert_eq!(dropped.status, PictureStatus::WaitingForDelete);
    assert_eq!(dropped.sequence_id, None);
    let pictures = catalog.upload_set_pictures(set).await.expect("pictures");
    let listed: Vec<_> = pictures.iter().map(|p| (p.created_at, p.base.id)).collect();
    let mut expected = listed.clone();
    expected.sort();
    assert_eq!(listed, expected, "by arrival, then id");
    assert_eq!(listed.len(), 2, "the duplicate is left out");
    assert!(
        pictures
            .iter()
            .all(|p| p.base.heading_deg == Some(45.0) && p.heading_computed)
    );
    let files = catalog.upload_set_files(set).await.expect("files");
    let dropped_file = files.iter().find(|f| f.file_name == "2.jpg").expect("file");
    assert_eq!(
        dropped_file.rejection.as_ref().map(|r| r.reason),
        Some(RejectionReason::CaptureDuplicate)
    );
    assert_eq!(
        catalog.pictures_by_md5("bytes-2").await.expect("md5"),
        vec![],
        "pictures waiting for deletion hold their bytes no more"
    );
    let job = catalog
        .claim_job(Duration::from_secs(60))
        .await
        .expect("claim")
        .expect("a job");
    assert_eq!(
        (job.kind, job.target.clone()),
        (JobKind::Prepare, ids[0].to_string())
    );
    catalog.finish_job(&job).await.expect("finish");
    let mut kinds = Vec::new();
    while let Some(job) = catalog
        .claim_job(Duration::from_secs(60))
        .await
        .expect("claim")
    {
        kinds.push((job.kind, job.target.clone()));
        catalog.finish_job(&job).await.expect("finish");
    }
    assert_eq!(
        kinds,
        [
            (JobKind::Prepare, ids[1].to_string()),
            (JobKind::DeleteFiles, ids[2].to_string()),
        ],
        "the duplicate's preparation is cancelled"
    );

    // 5. What the sequence reads.
    let summaries = catalog.upload_set_sequences(set).await.expect("sequences");
    assert_eq!(summaries.len(), 1);
    assert_eq!(summaries[0].sequence.id, sequence);
    assert_eq!(
        summaries[0].items_status,
        ItemsStatus {
            prepared: 2,
            ..ItemsStatus::default()
        }
    );
    let read = &summaries[0].sequence;
    assert_eq!(
        (read.nb_pictures, read.min_captured_at, read.max_captured_at),
        (2, Some(at(0)), Some(at(1)))
    );
    assert_eq!(
        (read.length_km, read.gps_accuracy_m),
        (Some(0.01), Some(3.0))
    );
    assert_eq!(read.user_agent, None);
    let tags = catalog.sequence_semantics(&[sequence]).await.expect("tags");
    let pairs: Vec<(&str, &str)> = tags[&sequence]
        .iter()
        .map(|SemanticTag { key, value }| (key.as_str(), value.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("surface", "asphalt"),
            ("surface", "gravel"),
            ("transport", "bike")
        ]
    );
    assert!(
        catalog
            .picture_semantics(&ids)
            .await
            .expect("tags")
            .is_empty()
    );
    assert_eq!(
        catalog
            .sequence_rank_bounds(sequence, Viewer::ANONYMOUS)
            .await
            .expect("bounds"),
        Some((1, 2))
    );
    catalog
        .set_picture_status(ids[0], PictureStatus::Preparing, None)
        .await
        .expect("preparing");
    let ranked = |query| async move {
        catalog
            .sequence_pictures(sequence, query)
            .await
            .expect("pictures")
            .iter()
            .map(|p| (p.base.id, p.rank))
            .collect::<Vec<_>>()
    };
    assert_eq!(ranked(RankQuery::default()).await, [(ids[1], Some(2))]);
    let all = RankQuery {
        include_unready: true,
        ..RankQuery::default()
    };
    assert_eq!(ranked(all).await, [(ids[0], Some(1)), (ids[1], Some(2))]);
    assert_eq!(
        ranked(RankQuery {
            after_rank: Some(1),
            ..all
        })
        .await,
        [(ids[1], Some(2))]
    );
    assert_eq!(
        ranked(RankQuery {
            limit: Some(1),
            ..all
        })
        .await,
        [(ids[0], Some(1))]
    );
    assert_eq!(
        catalog
            .sequence_rank_bounds(sequence, Viewer::ANONYMOUS)
            .await
            .expect("bounds"),
        Some((2, 2))
    );
    assert_eq!(
        catalog
            .sequence_items_status(sequence)
            .await
            .expect("status"),
        ItemsStatus {
            prepared: 1,
            preparing: 1,
            ..ItemsStatus::default()
        }
    );

    // 6. Dispatched again in two parts: the first keeps the sequence, the second is new.
    let parts = DispatchPlan {
        sequences: vec![
            planned("walk", &ids[..1]),
            planned("walk, part 2", &ids[1..2]),
        ],
        duplicates: Vec::new(),
    };
    let again = catalog.apply_dispatch(set, parts).await.expect("dispatch");
    assert_eq!(again[0], sequence);
    assert_ne!(again[1], sequence);
    let second = catalog
        .picture(ids[1])
        .await
        .expect("read")
        .expect("picture");
    assert_eq!((second.sequence_id, second.rank), (Some(again[1]), Some(1)));
    let summaries = catalog.upload_set_sequences(set).await.expect("sequences");
    let listed: Vec<_> = summaries.iter().map(|s| s.sequence.id).collect();
    assert_eq!(listed, again, "in creation order");

    // 7. Completing and deleting what does not exist.
    let missing = UploadSetId::new();
    assert!(
        catalog
            .complete_upload_set(missing)
            .await
            .expect("complete")
            .is_none()
    );
    assert!(!catalog.delete_upload_set(missing).await.expect("delete"));
    assert!(matches!(
        catalog
            .apply_dispatch(missing, DispatchPlan::default())
            .await,
        Err(flaneur_store::Error::NotFound { .. })
    ));
    let completed = catalog
        .complete_upload_set(other)
        .await
        .expect("complete")
        .expect("exists");
    assert!(completed.completed && !completed.dispatched);
}

/// Uploads racing each other: of two pictures with the same bytes, or with the same name in
/// one set, exactly one is stored.
async fn racing_uploads(catalog: &dyn Catalog) {
    let (account, _) = catalog.default_account().await.expect("account");
    for round in 0..10 {
        let mut sets = Vec::new();
        for _ in 0..2 {
            let spec = NewUploadSet::titled("race", account);
            sets.push(catalog.create_upload_set(spec).await.expect("create").id);
        }
        let bytes = format!("race-{round}");
        let (a, a_file) = upload(sets[0], account, 0, &bytes);
        let (b, b_file) = upload(sets[1], account, 0, &bytes);
        let (first, second) = futures::join!(
            catalog.insert_picture(a, a_file),
            catalog.insert_picture(b, b_file)
        );
        let mut outcomes = [first.expect("insert"), second.expect("insert")];
        outcomes.sort_by_key(|o| matches!(o, InsertOutcome::Inserted));
        assert!(
            matches!(
                outcomes,
                [
                    InsertOutcome::SameBytesElsewhere { .. },
                    InsertOutcome::Inserted
                ]
            ),
            "same bytes: {outcomes:?}"
        );

        let (c, c_file) = upload(sets[0], account, 1, &format!("{bytes}-c"));
        let (d, d_file) = upload(sets[0], account, 1, &format!("{bytes}-d"));
        let (first, second) = futures::join!(
            catalog.insert_picture(c, c_file),
            catalog.insert_picture(d, d_file)
        );
        let mut outcomes = [first.expect("insert"), second.expect("insert")];
        outcomes.sort_by_key(|o| matches!(o, InsertOutcome::Inserted));
        assert!(
            matches!(
                outcomes,
                [
                    InsertOutcome::NameTaken { existing: Some(_) },
                    InsertOutcome::Inserted
                ]
            ),
            "same name: {outcomes:?}"
        );
        assert_eq!(
            catalog
                .upload_set_files(sets[0])
                .await
                .expect("files")
                .len(),
            2
        );
    }
}

/// An upload set deleted while one of its files was on its way (by another request or
/// process): the file's writes say the set is gone, and store nothing.
async fn writes_to_a_deleted_upload_set(catalog: &dyn Catalog) {
    let (account, _) = catalog.default_account().await.expect("account");
    let set = catalog
        .create_upload_set(NewUploadSet::titled("gone", account))
        .await
        .expect("create")
        .id;
    assert!(catalog.delete_upload_set(set).await.expect("delete"));
    let is_missing_set = |err: &flaneur_store::Error| {
        matches!(err, flaneur_store::Error::NotFound { kind: "upload set", id }
                 if *id == set.to_string())
    };

    let (picture, file) = upload(set, account, 1, "md5-of-a-late-file");
    let err = catalog
        .insert_picture(picture, file)
        .await
        .expect_err("no set to insert into");
    assert!(is_missing_set(&err), "{err:?}");
    let err = catalog
        .record_rejection(refused(set, "late.jpg", 2, RejectionReason::InvalidFile))
        .await
        .expect_err("no set to record into");
    assert!(is_missing_set(&err), "{err:?}");

    assert!(
        catalog
            .pictures_by_md5("md5-of-a-late-file")
            .await
            .expect("look up")
            .is_empty()
    );
    assert!(
        catalog
            .upload_set_files(set)
            .await
            .expect("files")
            .is_empty()
    );
}

catalog_contracts! {
    keeps_the_upload_contract => uploads;
    stores_one_of_two_racing_uploads => racing_uploads;
    refuses_writes_to_a_deleted_upload_set => writes_to_a_deleted_upload_set;
    refuses_a_picture_given_with_a_file_of_another_set => picture_of_another_set;
}

async fn picture_of_another_set(catalog: &dyn Catalog) {
    let (owner, _) = catalog.default_account().await.expect("account");
    let set = catalog
        .create_upload_set(NewUploadSet::titled("one", owner))
        .await
        .expect("set")
        .id;
    let other = catalog
        .create_upload_set(NewUploadSet::titled("other", owner))
        .await
        .expect("set")
        .id;
    let (mut picture, file) = upload(set, owner, 1, "aaaa");
    for upload_set_id in [Some(other), None] {
        picture.upload_set_id = upload_set_id;
        let refused = catalog.insert_picture(picture.clone(), file.clone()).await;
        assert!(
            matches!(refused, Err(flaneur_store::Error::Refused(_))),
            "{refused:?}"
        );
    }
    assert_eq!(catalog.picture(picture.id).await.expect("read"), None);
    assert!(
        catalog
            .upload_set_files(set)
            .await
            .expect("files")
            .is_empty()
    );
}
