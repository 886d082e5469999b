//! The contract of sequence listings: every order paged forward from the first page and back
//! from the last one, hidden sequences and tombstones on demand, and filters, bboxes and time
//! ranges keeping exactly the sequences they describe.

use std::cmp::Ordering;

use chrono::{DateTime, TimeZone, Utc};
use flaneur_model::{AccountId, NewUploadSet, PictureStatus, Sequence, SequenceId, Visibility};
use flaneur_store::{
    Catalog, CompareOp, Filter, Literal, PagePosition, SequenceCursor, SequenceQuery, SequenceSort,
    SequenceSortField, TimeRange, total_order,
};

use crate::backend::catalog_contracts;
use crate::fixture;

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_600_000_000 + secs, 0)
        .single()
        .expect("instant")
}

/// Publishes one sequence of pictures captured at `captures` (seconds after a fixed instant),
/// `east_m` metres east of the fixture's spot, in an upload set seen by `visibility`.
async fn publish(
    catalog: &dyn Catalog,
    account: AccountId,
    captures: &[i64],
    east_m: f64,
    visibility: Visibility,
) -> (flaneur_model::UploadSetId, SequenceId) {
    let spec = NewUploadSet {
        visibility,
        ..NewUploadSet::titled("listed", account)
    };
    let set = catalog.create_upload_set(spec).await.expect("set").id;
    let pictures = captures
        .iter()
        .enumerate()
        .map(|(n, secs)| {
            let spot = fixture::offset(east_m + n as f64, 0.0);
            let picture = fixture::picture(set, account, n, at(*secs), spot);
            (picture, PictureStatus::Ready)
        })
        .collect();
    let (sequence, _) = fixture::publish(catalog, set, "listed", pictures).await;
    (set, sequence)
}

/// Every sequence `query` lists, page by page forward from the first page, then page by page
/// backward from the last one; both in the listing's order.
async fn walk(catalog: &dyn Catalog, query: &SequenceQuery) -> (Vec<Sequence>, Vec<Sequence>) {
    let mut query = query.clone();
    let mut forward = Vec::new();
    query.page = PagePosition::First;
    loop {
        let page = catalog.list_sequences(&query).await.expect("list");
        assert_eq!(
            page.has_prev,
            query.page != PagePosition::First && !page.rows.is_empty(),
            "{:?}",
            query.page
        );
        forward.extend(page.rows.iter().cloned());
        let Some(last) = page.rows.last().filter(|_| page.has_next) else {
            break;
        };
        query.page = PagePosition::After(SequenceCursor::at(last, &query.sort));
    }
    let mut backward: Vec<Vec<Sequence>> = Vec::new();
    query.page = PagePosition::Last;
    loop {
        let page = catalog.list_sequences(&query).await.expect("list");
        if query.page != PagePosition::Last {
            assert!(page.has_next, "a page before another has a next");
        }
        let first = page.rows.first().cloned().filter(|_| page.has_prev);
        backward.push(page.rows);
        let Some(first) = first else {
            break;
        };
        query.page = PagePosition::Before(SequenceCursor::at(&first, &query.sort));
    }
    let backward = backward.into_iter().rev().flatten().collect();
    (forward, backward)
}

/// How `a` and `b` compare in a listing sorted by `sort`, as the listing must order them.
fn compare(a: &Sequence, b: &Sequence, sort: &[SequenceSort]) -> Ordering {
    let micros = |t: Option<DateTime<Utc>>| t.map_or(0, |t| t.timestamp_micros());
    for key in total_order(sort) {
        let o = match key.field {
            SequenceSortField::Created => a.created_at.cmp(&b.created_at),
            SequenceSortField::Updated => a.updated_at.cmp(&b.updated_at),
            SequenceSortField::Datetime => {
                micros(a.min_captured_at).cmp(&micros(b.min_captured_at))
            }
            SequenceSortField::Id => a.id.to_string().cmp(&b.id.to_string()),
        };
        let o = if key.descending { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

fn ids(sequences: &[Sequence]) -> Vec<SequenceId> {
    sequences.iter().map(|s| s.id).collect()
}

async fn listing_contract(catalog: &dyn Catalog) {
    let (account, _) = catalog.default_account().await.expect("account");
    // Seven sequences: capture times tie between some, one is seen by its owner only, one is
    // deleted (a tombstone).
    let mut published = Vec::new();
    for (captures, east) in [
        (&[30, 31][..], 0.0),
        (&[10][..], 100.0),
        (&[30][..], 200.0),
        (&[5, 50][..], 300.0),
        (&[20, 21, 22][..], 400.0),
    ] {
        published.push(publish(catalog, account, captures, east, Visibility::Anyone).await);
    }
    let (_, hidden) = publish(catalog, account, &[40], 500.0, Visibility::OwnerOnly).await;
    let (gone_set, gone) = publish(catalog, account, &[1], 600.0, Visibility::Anyone).await;
    catalog.delete_upload_set(gone_set).await.expect("delete");
    let visible: Vec<SequenceId> = published.iter().map(|(_, s)| *s).collect();

    let everything = |with_hidden: bool, sort: Vec<SequenceSort>| SequenceQuery {
        limit: 100,
        sort,
        with_hidden,
        ..SequenceQuery::default()
    };
    let key = |field, descending| SequenceSort { field, descending };
    use SequenceSortField::{Created, Datetime, Id, Updated};
    let sorts = [
        vec![],
        vec![key(Created, true)],
        vec![key(Updated, false)],
        vec![key(Updated, true)],
        vec![key(Datetime, false)],
        vec![key(Datetime, true)],
        vec![key(Id, true)],
        vec![key(Datetime, true), key(Created, false)],
        vec![key(Datetime, false), key(Id, true)],
    ];
    for with_hidden in [false, true] {
        for sort in &sorts {
            let all = catalog
                .list_sequences(&everything(with_hidden, sort.clone()))
                .await
                .expect("list");
            assert!(!all.has_next && !all.has_prev);
            let mut listed: Vec<SequenceId> = ids(&all.rows);
            listed.sort();
            let mut expected = visible.clone();
            if with_hidden {
                expected.extend([hidden, gone]);
            }
            expected.sort();
            assert_eq!(listed, expected, "{sort:?}, hidden: {with_hidden}");
            assert!(
                all.rows
                    .windows(2)
                    .all(|w| compare(&w[0], &w[1], sort) == Ordering::Less),
                "{sort:?}: {:?}",
                ids(&all.rows)
            );
            for limit in [1, 2, 3] {
                let query = SequenceQuery {
                    limit,
                    ..everything(with_hidden, sort.clone())
                };
                let (forward, backward) = walk(catalog, &query).await;
                assert_eq!(ids(&forward), ids(&all.rows), "{sort:?} by {limit}");
                assert_eq!(ids(&backward), ids(&all.rows), "{sort:?} by {limit} back");
            }
        }
    }

    // Filters, boxes and time ranges keep exactly the sequences they describe.
    let all = catalog
        .list_sequences(&everything(true, vec![]))
        .await
        .expect("list")
        .rows;
    let some = all[2].clone();
    let id_text = some.id.to_string();
    let shouted = id_text.to_uppercase();
    let cmp = |property: &str, op, value| Filter::Compare {
        property: property.to_owned(),
        op,
        value,
    };
    let text = |t: &str| Literal::Text(t.to_owned());
    type Keep = Box<dyn Fn(&Sequence) -> bool>;
    let span = |s: &Sequence| (s.min_captured_at, s.max_captured_at);
    let cases: Vec<(Filter, Keep)> = vec![
        (cmp("id", CompareOp::Eq, text(&id_text)), {
            let id = some.id;
            Box::new(move |s| s.id == id)
        }),
        // Ids are text to filters: written otherwise, they name no sequence.
        (
            cmp("id", CompareOp::Eq, text(&shouted)),
            Box::new(|_| false),
        ),
        (cmp("id", CompareOp::Ge, text(&shouted)), {
            let shouted = shouted.clone();
            Box::new(move |s| s.id.to_string() >= shouted)
        }),
        (cmp("id", CompareOp::Lt, text(&id_text)), {
            let id_text = id_text.clone();
            Box::new(move |s| s.id.to_string() < id_text)
        }),
        (
            Filter::Like {
                property: "id".to_owned(),
                pattern: format!("{}%", &id_text[..2]),
            },
            {
                let prefix = id_text[..2].to_owned();
                Box::new(move |s| s.id.to_string().starts_with(&prefix))
            },
        ),
        (
            Filter::Like {
                property: "id".to_owned(),
                pattern: format!("{}%", &shouted[..2]),
            },
            {
                let prefix = shouted[..2].to_owned();
                Box::new(move |s| s.id.to_string().starts_with(&prefix))
            },
        ),
        (
            Filter::In {
                property: "visibility".to_owned(),
                values: vec![text("owner-only"), text("logged-only")],
            },
            Box::new(|s| s.visibility != Visibility::Anyone),
        ),
        (
            cmp("visibility", CompareOp::Gt, text("logged-only")),
            Box::new(|s| s.visibility == Visibility::OwnerOnly),
        ),
        (
            Filter::Not(Box::new(cmp(
                "datetime",
                CompareOp::Gt,
                Literal::Timestamp(at(30)),
            ))),
            Box::new(move |s| span(s).1.is_none_or(|end| end <= at(30))),
        ),
        (
            cmp("datetime", CompareOp::Eq, Literal::Timestamp(at(21))),
            Box::new(move |s| matches!(span(s), (Some(a), Some(b)) if a <= at(21) && at(21) <= b)),
        ),
        (
            Filter::Between {
                property: "datetime".to_owned(),
                low: Literal::Timestamp(at(41)),
                high: Literal::Timestamp(at(49)),
            },
            Box::new(move |s| matches!(span(s), (Some(a), Some(b)) if a <= at(49) && b >= at(41))),
        ),
        (
            Filter::Or(vec![
                cmp(
                    "created",
                    CompareOp::Le,
                    Literal::Timestamp(some.created_at),
                ),
                cmp(
                    "updated",
                    CompareOp::Gt,
                    Literal::Timestamp(some.updated_at),
                ),
            ]),
            {
                let (created, updated) = (some.created_at, some.updated_at);
                Box::new(move |s| s.created_at <= created || s.updated_at > updated)
            },
        ),
        (
            Filter::IsNull {
                property: "datetime".to_owned(),
            },
            Box::new(move |s| span(s).0.is_none()),
        ),
        (Filter::And(vec![]), Box::new(|_| true)),
        (Filter::Or(vec![]), Box::new(|_| false)),
    ];
    for (filter, keep) in cases {
        let query = SequenceQuery {
            filter: Some(filter.clone()),
            ..everything(true, vec![])
        };
        let found = catalog.list_sequences(&query).await.expect("filter");
        let expected: Vec<SequenceId> = all.iter().filter(|s| keep(s)).map(|s| s.id).collect();
        assert_eq!(ids(&found.rows), expected, "{filter:?}");
    }

    // The boxes of the sequences 100 m apart, and the capture intervals they overlap.
    let (west, _) = fixture::offset(150.0, 0.0);
    let (east, _) = fixture::offset(350.0, 0.0);
    let boxed = SequenceQuery {
        bbox: Some([west, fixture::LAT - 0.1, east, fixture::LAT + 0.1]),
        ..everything(true, vec![])
    };
    let found = catalog.list_sequences(&boxed).await.expect("bbox");
    assert_eq!(ids(&found.rows), vec![published[2].1, published[3].1]);
    let during = SequenceQuery {
        datetime: TimeRange {
            start: Some(at(31)),
            end: Some(at(45)),
        },
        ..everything(false, vec![])
    };
    let found = catalog.list_sequences(&during).await.expect("interval");
    assert_eq!(ids(&found.rows), vec![published[0].1, published[3].1]);
    let open_ended = SequenceQuery {
        datetime: TimeRange {
            start: None,
            end: Some(at(9)),
        },
        ..everything(true, vec![])
    };
    let found = catalog.list_sequences(&open_ended).await.expect("interval");
    assert_eq!(ids(&found.rows), vec![published[3].1, gone]);
}

catalog_contracts! {
    pages_through_every_order_and_filter => listing_contract;
}
