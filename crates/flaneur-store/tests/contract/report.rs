//! The contract of reports: a report hiding data hides it in the same write, as an edit of
//! its visibility would (`updated` and the map's version move); others hide nothing; changes
//! close and reopen; lists filter by status, reporter and owner; counts group by status and
//! issue.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use flaneur_model::{
    NewReport, NewUploadSet, PictureId, PictureStatus, ReportChange, ReportIssue, ReportQuery,
    ReportStatus, Role, SequenceId, Visibility,
};
use flaneur_store::{Catalog, ReportCount};

use crate::backend::catalog_contracts;
use crate::fixture::{self, offset};

catalog_contracts! {
    reports_hide_what_they_must_and_are_reviewed => reports;
}

/// A published walk of two ready pictures.
async fn walk(catalog: &dyn Catalog) -> (SequenceId, Vec<PictureId>) {
    let (account, _) = catalog.default_account().await.expect("account");
    let set = catalog
        .create_upload_set(NewUploadSet::titled("walk", account))
        .await
        .expect("set")
        .id;
    let pictures = (0..2)
        .map(|n| {
            let at = Utc
                .timestamp_opt(1_600_000_000 + 10 * n, 0)
                .single()
                .expect("instant");
            let picture =
                fixture::picture(set, account, n as usize, at, offset(10.0 * n as f64, 0.0));
            (picture, PictureStatus::Ready)
        })
        .collect();
    fixture::publish(catalog, set, "walk", pictures).await
}

fn report(
    issue: ReportIssue,
    picture: Option<PictureId>,
    sequence: Option<SequenceId>,
) -> NewReport {
    NewReport {
        issue,
        picture_id: picture,
        sequence_id: sequence,
        reporter: None,
        reporter_email: Some("someone@example.org".to_owned()),
        reporter_comments: Some("a face".to_owned()),
        hide: issue.hides_data(),
    }
}

async fn reports(catalog: &dyn Catalog) {
    let (owner, _) = catalog.default_account().await.expect("owner");
    let reporter = catalog
        .create_account("reporter", Role::User)
        .await
        .expect("reporter")
        .id;
    let (seq, ids) = walk(catalog).await;
    let before = catalog
        .picture(ids[0])
        .await
        .expect("read")
        .expect("picture");
    let version = catalog.data_version().await.expect("version");
    tokio::time::sleep(Duration::from_millis(3)).await;

    // A privacy report hides the picture, and only it.
    let hiding = catalog
        .create_report(&NewReport {
            reporter: Some(reporter),
            ..report(ReportIssue::Privacy, Some(ids[0]), Some(seq))
        })
        .await
        .expect("create");
    assert_eq!(hiding.status, ReportStatus::OpenAutofix);
    assert_eq!(hiding.owner, Some(owner));
    assert_eq!(hiding.reporter, Some(reporter));
    assert_eq!(hiding.closed_at, None);
    let hidden = catalog
        .picture(ids[0])
        .await
        .expect("read")
        .expect("picture");
    assert_eq!(hidden.base.visibility, Visibility::OwnerOnly);
    assert!(hidden.updated_at > before.updated_at, "updated moved");
    let after = catalog.data_version().await.expect("version");
    assert!(version.is_before(&after), "{version} then {after}");
    let other = catalog
        .picture(ids[1])
        .await
        .expect("read")
        .expect("picture");
    assert_eq!(other.base.visibility, Visibility::Anyone);
    let sequence = catalog
        .sequence(seq)
        .await
        .expect("read")
        .expect("sequence");
    assert_eq!(
        (sequence.nb_pictures, sequence.min_captured_at),
        (1, Some(other.base.captured_at)),
        "the sequence's figures leave the hidden picture out"
    );

    // A report of a mislocated sequence hides nothing.
    let plain = catalog
        .create_report(&report(ReportIssue::Mislocated, None, Some(seq)))
        .await
        .expect("create");
    assert_eq!(plain.status, ReportStatus::Open);
    assert_eq!(plain.owner, Some(owner));
    let sequence = catalog
        .sequence(seq)
        .await
        .expect("read")
        .expect("sequence");
    assert_eq!(sequence.visibility, Visibility::Anyone);

    // A copyright report of the sequence alone hides the sequence.
    let seq_hiding = catalog
        .create_report(&report(ReportIssue::Copyright, None, Some(seq)))
        .await
        .expect("create");
    assert_eq!(seq_hiding.status, ReportStatus::OpenAutofix);
    let sequence = catalog
        .sequence(seq)
        .await
        .expect("read")
        .expect("sequence");
    assert_eq!(sequence.visibility, Visibility::OwnerOnly);

    // Closing sets the closing time and the resolver; opening again clears the time.
    let closed = catalog
        .update_report(
            plain.id,
            &ReportChange {
                status: Some(ReportStatus::ClosedIgnored),
                resolver_comments: Some("it is where it is".to_owned()),
                resolver: Some(owner),
                ..ReportChange::default()
            },
        )
        .await
        .expect("update")
        .expect("report");
    assert_eq!(closed.status, ReportStatus::ClosedIgnored);
    assert!(closed.closed_at.is_some());
    assert_eq!(closed.resolver, Some(owner));
    assert_eq!(closed.reporter_email, plain.reporter_email);
    let reopened = catalog
        .update_report(
            plain.id,
            &ReportChange {
                status: Some(ReportStatus::Waiting),
                ..ReportChange::default()
            },
        )
        .await
        .expect("update")
        .expect("report");
    assert_eq!(reopened.closed_at, None);
    assert_eq!(
        reopened.resolver_comments.as_deref(),
        Some("it is where it is")
    );
    assert_eq!(
        catalog.report(plain.id).await.expect("read"),
        Some(reopened.clone())
    );
    let unknown = catalog
        .update_report(flaneur_model::ReportId::new(), &ReportChange::default())
        .await
        .expect("update");
    assert_eq!(unknown, None);

    // Lists, most recent first.
    let ids_of = |query: ReportQuery| async move {
        let found = catalog.list_reports(&query).await.expect("list");
        found.into_iter().map(|r| r.id).collect::<Vec<_>>()
    };
    let all = ReportQuery {
        limit: 10,
        ..ReportQuery::default()
    };
    assert_eq!(
        ids_of(all.clone()).await,
        [seq_hiding.id, plain.id, hiding.id]
    );
    assert_eq!(
        ids_of(ReportQuery {
            statuses: vec![ReportStatus::OpenAutofix],
            ..all.clone()
        })
        .await,
        [seq_hiding.id, hiding.id]
    );
    assert_eq!(
        ids_of(ReportQuery {
            reporter: Some(reporter),
            ..all.clone()
        })
        .await,
        [hiding.id]
    );
    assert_eq!(
        ids_of(ReportQuery {
            owner: Some(reporter),
            ..all.clone()
        })
        .await,
        []
    );
    assert_eq!(
        ids_of(ReportQuery {
            involving: Some(reporter),
            ..all.clone()
        })
        .await,
        [hiding.id]
    );
    assert_eq!(
        ids_of(ReportQuery {
            involving: Some(owner),
            limit: 2,
            ..all.clone()
        })
        .await,
        [seq_hiding.id, plain.id]
    );

    let mut counts = catalog.report_counts().await.expect("counts");
    counts.sort_by_key(|c| (c.status.as_str(), c.issue.as_str()));
    assert_eq!(
        counts,
        [
            ReportCount {
                status: ReportStatus::OpenAutofix,
                issue: ReportIssue::Copyright,
                count: 1
            },
            ReportCount {
                status: ReportStatus::OpenAutofix,
                issue: ReportIssue::Privacy,
                count: 1
            },
            ReportCount {
                status: ReportStatus::Waiting,
                issue: ReportIssue::Mislocated,
                count: 1
            },
        ]
    );
}
