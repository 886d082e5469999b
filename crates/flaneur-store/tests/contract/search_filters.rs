//! The contract of what item search keeps: ids, sequences, capture intervals, bboxes, areas
//! and filters each keep exactly the pictures they describe, combined with each other.

use chrono::{DateTime, TimeZone, Utc};
use flaneur_model::{AccountId, NewUploadSet, Picture, PictureId, PictureStatus, SequenceId};
use flaneur_store::{
    Area, Catalog, CompareOp, Filter, Literal, PageStart, PictureOrder, PictureQuery, Position,
    SortField, SortKey, SortValue, TimeRange, checked_picture_filter,
};

use crate::backend::catalog_contracts;
use crate::fixture;

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_600_000_000 + secs, 0)
        .single()
        .expect("instant")
}

/// Publishes a sequence of pictures `n` metres east of the fixture's spot for each `n` of
/// `east_m`, captured `n` seconds after a fixed instant, its upload set tagged with `tags`.
async fn publish(
    catalog: &dyn Catalog,
    account: AccountId,
    east_m: &[i64],
    tags: serde_json::Value,
) -> (SequenceId, Vec<PictureId>) {
    let spec = NewUploadSet {
        semantics: tags,
        ..NewUploadSet::titled("kept", account)
    };
    let set = catalog.create_upload_set(spec).await.expect("set").id;
    let pictures = east_m
        .iter()
        .enumerate()
        .map(|(n, east)| {
            let spot = fixture::offset(*east as f64, 0.0);
            (
                fixture::picture(set, account, n, at(*east), spot),
                PictureStatus::Ready,
            )
        })
        .collect();
    fixture::publish(catalog, set, "kept", pictures).await
}

async fn search_filters_contract(catalog: &dyn Catalog) {
    let (account, _) = catalog.default_account().await.expect("account");
    let tags = serde_json::json!([{"key": "surface", "value": "gravel"}]);
    let (gravel, _) = publish(catalog, account, &[0, 10, 20, 30], tags).await;
    let (plain, _) = publish(catalog, account, &[40, 50, 60], serde_json::json!([])).await;
    // Hidden pictures and pictures not ready yet are never found.
    let (_, not_ready) = {
        let set = catalog
            .create_upload_set(NewUploadSet::titled("pending", account))
            .await
            .expect("set")
            .id;
        let pictures = (0..2)
            .map(|n| {
                let p = fixture::picture(set, account, n, at(5), fixture::offset(5.0, 0.0));
                (p, PictureStatus::Preparing)
            })
            .collect();
        fixture::publish(catalog, set, "pending", pictures).await
    };

    let by_id = PictureOrder::by(&[SortKey::asc(SortField::Id)]);
    let everything = PictureQuery {
        order: by_id.clone(),
        limit: 100,
        ..PictureQuery::default()
    };
    let all: Vec<Picture> = catalog
        .search_pictures(&everything)
        .await
        .expect("search")
        .rows;
    assert_eq!(all.len(), 7);
    assert!(all.iter().all(|p| !not_ready.contains(&p.base.id)));
    let east_of = |p: &Picture| p.base.captured_at.timestamp() - 1_600_000_000;
    let some = all[3].clone();
    let some_id = some.base.id.to_string();

    let cmp = |property: &str, op, value| Filter::Compare {
        property: property.to_owned(),
        op,
        value,
    };
    let text = |t: &str| Literal::Text(t.to_owned());
    type Keep = Box<dyn Fn(&Picture) -> bool>;
    let tag = |value: &str| cmp("semantics.surface", CompareOp::Eq, text(value));
    let cases: Vec<(PictureQuery, Keep)> = vec![
        (
            PictureQuery {
                ids: vec![some.base.id, not_ready[0]],
                ..everything.clone()
            },
            {
                let id = some.base.id;
                Box::new(move |p| p.base.id == id)
            },
        ),
        (
            PictureQuery {
                collections: vec![plain],
                ..everything.clone()
            },
            Box::new(move |p| p.sequence_id == Some(plain)),
        ),
        (
            PictureQuery {
                datetime: TimeRange {
                    start: Some(at(10)),
                    end: Some(at(40)),
                },
                ..everything.clone()
            },
            Box::new(move |p| (10..=40).contains(&east_of(p))),
        ),
        (
            // Instants are kept to the microsecond: bounds finer than that are cut to it.
            PictureQuery {
                datetime: TimeRange {
                    start: Some(at(10) + chrono::Duration::nanoseconds(500)),
                    end: Some(at(20) + chrono::Duration::nanoseconds(999)),
                },
                ..everything.clone()
            },
            Box::new(move |p| (10..=20).contains(&east_of(p))),
        ),
        (
            PictureQuery {
                datetime: TimeRange {
                    start: Some(at(45)),
                    end: None,
                },
                collections: vec![gravel, plain],
                ..everything.clone()
            },
            Box::new(move |p| east_of(p) >= 45),
        ),
        (
            PictureQuery {
                bbox: Some([
                    fixture::offset(15.0, 0.0).0,
                    fixture::LAT - 0.001,
                    fixture::offset(45.0, 0.0).0,
                    fixture::LAT + 0.001,
                ]),
                ..everything.clone()
            },
            Box::new(move |p| (15..=45).contains(&east_of(p))),
        ),
        (
            PictureQuery {
                // A quadrilateral holding the pictures up to 28 m east, whose box holds them
                // all.
                intersects: Some(Area {
                    polygons: vec![vec![vec![
                        [fixture::offset(-1.0, 0.0).0, fixture::LAT - 0.001],
                        [fixture::offset(25.0, 0.0).0, fixture::LAT - 0.001],
                        [fixture::offset(65.0, 0.0).0, fixture::LAT + 0.01],
                        [fixture::offset(-1.0, 0.0).0, fixture::LAT + 0.001],
                        [fixture::offset(-1.0, 0.0).0, fixture::LAT - 0.001],
                    ]]],
                    ..Area::default()
                }),
                ..everything.clone()
            },
            Box::new(move |p| east_of(p) <= 25),
        ),
        (
            PictureQuery {
                // The box of the query and that of the area do not meet.
                bbox: Some([0.0, 0.0, 1.0, 1.0]),
                intersects: Some(Area {
                    points: vec![[some.base.lon, some.base.lat]],
                    ..Area::default()
                }),
                ..everything.clone()
            },
            Box::new(|_| false),
        ),
        (
            PictureQuery {
                intersects: Some(Area {
                    points: vec![[some.base.lon, some.base.lat]],
                    ..Area::default()
                }),
                ..everything.clone()
            },
            {
                let id = some.base.id;
                Box::new(move |p| p.base.id == id)
            },
        ),
    ];
    let filters: Vec<(Filter, Keep)> = vec![
        (cmp("id", CompareOp::Eq, text(&some_id)), {
            let id = some.base.id;
            Box::new(move |p| p.base.id == id)
        }),
        (
            cmp("id", CompareOp::Eq, text(&some_id.to_uppercase())),
            Box::new(|_| false),
        ),
        (cmp("id", CompareOp::Gt, text(&some_id)), {
            let id = some_id.clone();
            Box::new(move |p| p.base.id.to_string() > id)
        }),
        (
            Filter::Like {
                property: "id".to_owned(),
                pattern: format!("{}%", &some_id[..1]),
            },
            {
                let first = some_id[..1].to_owned();
                Box::new(move |p| p.base.id.to_string().starts_with(&first))
            },
        ),
        (
            cmp("collection", CompareOp::Ne, text(&gravel.to_string())),
            Box::new(move |p| p.sequence_id != Some(gravel)),
        ),
        (
            Filter::In {
                property: "collection".to_owned(),
                values: vec![text(&plain.to_string()), text("not an id")],
            },
            Box::new(move |p| p.sequence_id == Some(plain)),
        ),
        (
            Filter::Between {
                property: "datetime".to_owned(),
                low: text("2020-09-13T12:26:50Z"),
                high: text("2020-09-13T12:27:20Z"),
            },
            // 1_600_000_010 to 1_600_000_040.
            Box::new(move |p| (10..=40).contains(&east_of(p))),
        ),
        (
            Filter::Not(Box::new(cmp(
                "datetime",
                CompareOp::Lt,
                Literal::Timestamp(at(30)),
            ))),
            Box::new(move |p| east_of(p) >= 30),
        ),
        (
            Filter::And(vec![
                cmp(
                    "created",
                    CompareOp::Le,
                    Literal::Timestamp(some.created_at),
                ),
                cmp(
                    "updated",
                    CompareOp::Ge,
                    Literal::Timestamp(some.updated_at),
                ),
            ]),
            {
                let (created, updated) = (some.created_at, some.updated_at);
                Box::new(move |p| p.created_at <= created && p.updated_at >= updated)
            },
        ),
        (
            cmp("status", CompareOp::Eq, text("ready")),
            Box::new(|_| true),
        ),
        (
            Filter::Or(vec![
                tag("gravel"),
                cmp("datetime", CompareOp::Ge, Literal::Timestamp(at(60))),
            ]),
            Box::new(move |p| p.sequence_id == Some(gravel) || east_of(p) >= 60),
        ),
        (
            Filter::Not(Box::new(Filter::IsNull {
                property: "semantics.surface".to_owned(),
            })),
            Box::new(move |p| p.sequence_id == Some(gravel)),
        ),
        (
            Filter::In {
                property: "semantics.surface".to_owned(),
                values: vec![text("asphalt"), text("gravel")],
            },
            Box::new(move |p| p.sequence_id == Some(gravel)),
        ),
        (
            Filter::IsNull {
                property: "semantics".to_owned(),
            },
            Box::new(move |p| p.sequence_id == Some(plain)),
        ),
    ];
    let filtered = filters.into_iter().map(|(filter, keep)| {
        let filter = checked_picture_filter(filter).expect("a valid filter");
        let query = PictureQuery {
            filter: Some(filter),
            ..everything.clone()
        };
        (query, keep)
    });
    for (query, keep) in cases.into_iter().chain(filtered) {
        let expected: Vec<PictureId> = all.iter().filter(|p| keep(p)).map(|p| p.base.id).collect();
        // In one page, and in pages of two (forward, each from the last picture of the one
        // before): both find the same pictures in the same order.
        let found = catalog.search_pictures(&query).await.expect("search");
        let found: Vec<PictureId> = found.rows.iter().map(|p| p.base.id).collect();
        assert_eq!(found, expected, "{query:?}");
        let mut paged = Vec::new();
        let mut query = PictureQuery { limit: 2, ..query };
        loop {
            let page = catalog.search_pictures(&query).await.expect("search");
            paged.extend(page.rows.iter().map(|p| p.base.id));
            let Some(last) = page.rows.last().filter(|_| page.has_next) else {
                break;
            };
            query.start = Some(PageStart {
                position: query.order.position_of(last, None),
                backward: false,
            });
        }
        assert_eq!(paged, expected, "{query:?} in pages");
    }

    // Page positions of another order's shape (which callers refuse before searching) still
    // compare as instants in microseconds and ids as text do: every number before every text.
    let micros = |secs: i64| at(secs).timestamp_micros();
    let by_capture = PictureOrder::by(&[SortKey::asc(SortField::Captured)]);
    let odd_positions: Vec<(PictureOrder, Vec<SortValue>, Keep)> = vec![
        (
            by_capture.clone(),
            vec![
                SortValue::Float(micros(10) as f64 + 0.5),
                SortValue::Text(String::new()),
            ],
            Box::new(move |p| east_of(p) > 10),
        ),
        (
            by_capture.clone(),
            // Tied at 30 s, every id (text) comes after the number 0.
            vec![SortValue::Int(micros(30)), SortValue::Int(0)],
            Box::new(move |p| east_of(p) >= 30),
        ),
        (
            by_capture,
            vec![
                SortValue::Text("later".to_owned()),
                SortValue::Text(String::new()),
            ],
            Box::new(|_| false),
        ),
        // A number compared with an id is its text.
        (
            by_id.clone(),
            vec![SortValue::Int(5)],
            Box::new(|p| p.base.id.to_string().as_str() > "5"),
        ),
        (
            by_id.clone(),
            vec![SortValue::Text(some_id.to_uppercase())],
            {
                let shouted = some_id.to_uppercase();
                Box::new(move |p| p.base.id.to_string() > shouted)
            },
        ),
    ];
    for (order, position, keep) in odd_positions {
        let query = PictureQuery {
            order,
            start: Some(PageStart {
                position: Position(position.clone()),
                backward: false,
            }),
            ..everything.clone()
        };
        let found = catalog.search_pictures(&query).await.expect("search");
        let mut found: Vec<PictureId> = found.rows.iter().map(|p| p.base.id).collect();
        found.sort();
        let mut expected: Vec<PictureId> =
            all.iter().filter(|p| keep(p)).map(|p| p.base.id).collect();
        expected.sort();
        assert_eq!(found, expected, "{position:?}");
    }

    let extent = catalog.extent().await.expect("extent");
    assert_eq!(extent.interval, Some((at(0), at(60))));
    let bbox = extent.bbox.expect("a bbox");
    assert_eq!(bbox[0], fixture::LON);
    assert_eq!(bbox[2], fixture::offset(60.0, 0.0).0);
}

catalog_contracts! {
    keeps_what_each_condition_describes => search_filters_contract;
}
