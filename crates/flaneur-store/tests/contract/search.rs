//! The contract of item search: every order paged forward and backward from the positions of
//! page edges, the pictures looking at a place, and filters on semantic tags.

use std::collections::BTreeSet;

use chrono::{TimeZone, Utc};
use flaneur_model::{
    AccountId, NewPicture, NewUploadSet, Picture, PictureDetails, PictureId, PictureStatus,
    SequenceId,
};
use flaneur_store::{
    Catalog, CompareOp, Filter, Literal, PageStart, PictureOrder, PictureQuery, PlaceQuery,
    SortField, SortKey, checked_picture_filter,
};

use crate::backend::catalog_contracts;
use crate::fixture::{self, LAT, LON, METRES_PER_DEG};

/// Publishes one sequence of pictures facing `heading_deg`, `spacing_m` apart going west from
/// `start_east_m` metres east of (`LON`, `LAT`); capture times repeat every three pictures so
/// that orders need their id to decide. The upload set carries `tags`.
async fn publish(
    catalog: &dyn Catalog,
    account: AccountId,
    count: usize,
    start_east_m: f64,
    heading_deg: f64,
    tags: serde_json::Value,
) -> (SequenceId, Vec<PictureId>) {
    let row = Row {
        origin: [LON, LAT],
        count,
        start_east_m,
        heading_deg,
    };
    publish_row(catalog, account, row, tags).await
}

/// Pictures 2 m apart in a row going west from `start_east_m` metres east of `origin`.
struct Row {
    origin: [f64; 2],
    count: usize,
    start_east_m: f64,
    heading_deg: f64,
}

/// Publishes one sequence of the pictures of `row`, as [`publish`] does.
async fn publish_row(
    catalog: &dyn Catalog,
    account: AccountId,
    row: Row,
    tags: serde_json::Value,
) -> (SequenceId, Vec<PictureId>) {
    let Row {
        origin: [lon0, lat0],
        count,
        start_east_m,
        heading_deg,
    } = row;
    let spec = NewUploadSet {
        semantics: tags,
        ..NewUploadSet::titled("search", account)
    };
    let set = catalog.create_upload_set(spec).await.expect("create").id;
    let pictures = (0..count)
        .map(|n| {
            let at = Utc
                .timestamp_opt(1_600_000_000 + (n / 3) as i64, 0)
                .single()
                .expect("instant");
            let east = start_east_m - n as f64 * 2.0;
            let lon = wrapped(lon0 + east / (METRES_PER_DEG * lat0.to_radians().cos()));
            let picture = fixture::picture(set, account, n, at, (lon, lat0));
            let picture = NewPicture {
                heading_deg: Some(heading_deg),
                details: PictureDetails {
                    field_of_view_deg: Some(90.0),
                    ..PictureDetails::default()
                },
                ..picture
            };
            (picture, PictureStatus::Ready)
        })
        .collect();
    fixture::publish(catalog, set, "search", pictures).await
}

/// A longitude back in -180..=180.
fn wrapped(lon: f64) -> f64 {
    if lon > 180.0 { lon - 360.0 } else { lon }
}

/// Every picture of `query`, page by page forward, then page by page backward from the last
/// page; both lists in the query's order.
async fn walk(catalog: &dyn Catalog, query: &PictureQuery) -> (Vec<Picture>, Vec<Picture>) {
    let mut query = query.clone();
    let mut forward = Vec::new();
    let mut last_page;
    loop {
        let page = catalog.search_pictures(&query).await.expect("search");
        assert_eq!(
            page.has_prev,
            query.start.is_some(),
            "a page after another has a prev"
        );
        forward.extend(page.rows.iter().cloned());
        last_page = page.rows.clone();
        let Some(last) = page.rows.last().filter(|_| page.has_next) else {
            break;
        };
        query.start = Some(PageStart {
            position: query.order.position_of(last, query.place.as_ref()),
            backward: false,
        });
    }
    let mut backward: Vec<Vec<Picture>> = vec![last_page.clone()];
    let mut first = last_page.first().cloned();
    while let Some(edge) = first {
        query.start = Some(PageStart {
            position: query.order.position_of(&edge, query.place.as_ref()),
            backward: true,
        });
        let page = catalog.search_pictures(&query).await.expect("search");
        assert!(page.has_next, "a page before another has a next");
        first = page.rows.first().cloned().filter(|_| page.has_prev);
        backward.push(page.rows);
    }
    let backward = backward.into_iter().rev().flatten().collect();
    (forward, backward)
}

fn ids_of(pictures: &[Picture]) -> Vec<PictureId> {
    pictures.iter().map(|p| p.base.id).collect()
}

async fn search_contract(catalog: &dyn Catalog) {
    let (account, _) = catalog.default_account().await.expect("account");
    // Eleven pictures facing west from 20 m east of the origin, tagged as a car ride; four
    // facing east from 30 m west, tagged as a bike ride.
    let car = serde_json::json!([{"key": "transport", "value": "car"}]);
    let (_, west) = publish(catalog, account, 11, 20.0, 270.0, car).await;
    let bike = serde_json::json!([{"key": "transport", "value": "bike"}]);
    let (bikes, east) = publish(catalog, account, 4, -30.0, 90.0, bike).await;
    let all: BTreeSet<PictureId> = west.iter().chain(&east).copied().collect();

    // 1. Every order pages forward and back over every picture once, in order.
    let orders = [
        PictureOrder::default(),
        PictureOrder::by(&[SortKey::asc(SortField::Captured)]),
        PictureOrder::by(&[SortKey::desc(SortField::Captured)]),
        PictureOrder::by(&[
            SortKey::desc(SortField::Captured),
            SortKey::desc(SortField::Id),
        ]),
        PictureOrder::by(&[SortKey::asc(SortField::Created)]),
        PictureOrder::by(&[SortKey::desc(SortField::Id)]),
    ];
    for order in orders {
        let query = PictureQuery {
            order: order.clone(),
            limit: 4,
            ..PictureQuery::default()
        };
        let (forward, backward) = walk(catalog, &query).await;
        let ids = ids_of(&forward);
        assert_eq!(ids.len(), all.len(), "{}: {ids:?}", order.to_sortby());
        assert_eq!(ids.iter().copied().collect::<BTreeSet<_>>(), all);
        assert_eq!(ids_of(&backward), ids, "{}", order.to_sortby());
        let whole = PictureQuery {
            order: order.clone(),
            limit: 100,
            ..PictureQuery::default()
        };
        let in_one = catalog.search_pictures(&whole).await.expect("search");
        assert_eq!(
            ids_of(&in_one.rows),
            ids,
            "pages join into the one-page answer"
        );
        assert!(!in_one.has_next && !in_one.has_prev);
    }

    // 2. A place 10 m west of the origin: west-facing pictures 3..15 m east of it see it,
    //    nearest first; east-facing ones stand on the other side, facing away.
    let place = PlaceQuery {
        position: [LON - 10.0 / (METRES_PER_DEG * LAT.to_radians().cos()), LAT],
        min_distance_m: 3.0,
        max_distance_m: 15.0,
        fov_tolerance_deg: 30.0,
    };
    let query = PictureQuery {
        place: Some(place),
        order: PictureOrder::Nearest,
        limit: 2,
        ..PictureQuery::default()
    };
    let (forward, backward) = walk(catalog, &query).await;
    // West pictures stand at 20, 18, …, 0 m east of the origin: 30 … 10 m from the place.
    // Those 10, 12 and 14 m away (the last three) see it; east pictures face away from it.
    assert_eq!(ids_of(&forward), vec![west[10], west[9], west[8]]);
    assert_eq!(ids_of(&backward), ids_of(&forward));
    let wide = PictureQuery {
        place: Some(PlaceQuery {
            max_distance_m: 45.0,
            ..place
        }),
        order: PictureOrder::Nearest,
        limit: 3,
        ..PictureQuery::default()
    };
    let (forward, backward) = walk(catalog, &wide).await;
    let distances: Vec<f64> = forward.iter().map(|p| place.distance_m(p)).collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "{distances:?}");
    // All eleven west pictures (10..30 m), and the east ones whose heading points at the
    // place from its west side (20..26 m away, facing east).
    assert_eq!(forward.len(), 15, "{distances:?}");
    assert_eq!(ids_of(&backward), ids_of(&forward));

    // 3. Tag filters match the tags the sequences received from their upload sets.
    let tag = |value: &str| Filter::Compare {
        property: "semantics.transport".to_owned(),
        op: CompareOp::Eq,
        value: Literal::Text(value.to_owned()),
    };
    let filtered = |filter: Filter| PictureQuery {
        filter: Some(checked_picture_filter(filter).expect("a valid filter")),
        limit: 100,
        ..PictureQuery::default()
    };
    let found = catalog
        .search_pictures(&filtered(tag("bike")))
        .await
        .expect("search");
    let found: BTreeSet<PictureId> = ids_of(&found.rows).into_iter().collect();
    assert_eq!(found, east.iter().copied().collect());
    let either = Filter::Or(vec![tag("bike"), tag("car")]);
    let found = catalog
        .search_pictures(&filtered(either))
        .await
        .expect("search");
    assert_eq!(found.rows.len(), all.len());
    let both = Filter::And(vec![tag("bike"), tag("car")]);
    let found = catalog
        .search_pictures(&filtered(both))
        .await
        .expect("search");
    assert!(found.rows.is_empty());
    let untagged = Filter::IsNull {
        property: "semantics".to_owned(),
    };
    let found = catalog
        .search_pictures(&filtered(untagged))
        .await
        .expect("search");
    assert!(found.rows.is_empty());
    let in_bikes = Filter::Compare {
        property: "collection".to_owned(),
        op: CompareOp::Eq,
        value: Literal::Text(bikes.to_string()),
    };
    let found = catalog
        .search_pictures(&filtered(in_bikes))
        .await
        .expect("search");
    assert_eq!(found.rows.len(), east.len());
    let tags = catalog.sequence_semantics(&[bikes]).await.expect("tags");
    assert_eq!(tags[&bikes].len(), 1);
    assert_eq!(
        (tags[&bikes][0].key.as_str(), tags[&bikes][0].value.as_str()),
        ("transport", "bike")
    );
}

/// Nearest first over many candidates, on both sides of the antimeridian.
async fn place_contract(catalog: &dyn Catalog) {
    let (account, _) = catalog.default_account().await.expect("account");
    // Forty pictures facing west, 2 m apart from 40 m east of the antimeridian (at -179.99…)
    // to 38 m west of it (at 179.99…), all looking at a place 50 m west of it: 12..90 m.
    let row = Row {
        origin: [180.0, 0.0],
        count: 40,
        start_east_m: 40.0,
        heading_deg: 270.0,
    };
    let (_, ids) = publish_row(catalog, account, row, serde_json::json!([])).await;
    let place = PlaceQuery {
        position: [180.0 - 50.0 / METRES_PER_DEG, 0.0],
        min_distance_m: 0.0,
        max_distance_m: 100.0,
        fov_tolerance_deg: 30.0,
    };
    let nearest_first: Vec<PictureId> = ids.iter().rev().copied().collect();
    for limit in [1, 5, 7, 100] {
        let query = PictureQuery {
            place: Some(place),
            order: PictureOrder::Nearest,
            limit,
            ..PictureQuery::default()
        };
        let (forward, backward) = walk(catalog, &query).await;
        assert_eq!(ids_of(&forward), nearest_first, "pages of {limit}");
        assert_eq!(
            ids_of(&backward),
            nearest_first,
            "pages of {limit} backward"
        );
    }

    // A smallest distance skips the nearest ones; a bbox keeps one side of the antimeridian.
    let query = PictureQuery {
        place: Some(PlaceQuery {
            min_distance_m: 51.0,
            ..place
        }),
        order: PictureOrder::Nearest,
        limit: 3,
        ..PictureQuery::default()
    };
    let (forward, _) = walk(catalog, &query).await;
    assert_eq!(ids_of(&forward), nearest_first[20..]);
    let query = PictureQuery {
        place: Some(place),
        bbox: Some([-180.0, -1.0, -170.0, 1.0]),
        order: PictureOrder::Nearest,
        limit: 3,
        ..PictureQuery::default()
    };
    let (forward, _) = walk(catalog, &query).await;
    assert_eq!(ids_of(&forward), nearest_first[20..]);
}

catalog_contracts! {
    finds_places_nearest_first_across_the_antimeridian => place_contract;
    keeps_the_search_contract => search_contract;
}
