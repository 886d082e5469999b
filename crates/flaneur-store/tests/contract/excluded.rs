//! The contract of excluded areas: what is listed to whom, what a point test answers for
//! general, own and allowed areas, and that replacing and deleting touch only what they name.

use chrono::{TimeZone, Utc};
use flaneur_model::{ExcludedAreaId, NewUploadSet, PictureEdit, PictureStatus, Role, UploadFile};
use flaneur_store::{AreaScope, Catalog, Error, Exclusion, NewExcludedArea, polygons_from_geojson};
use serde_json::json;

use crate::backend::{Sql, sql_contracts};
use crate::fixture;

/// A square of `side` degrees from `(x, y)`, with a hole in its middle third when asked.
fn square(x: f64, y: f64, side: f64, holed: bool) -> flaneur_store::Polygons {
    let ring =
        |x: f64, y: f64, s: f64| json!([[x, y], [x + s, y], [x + s, y + s], [x, y + s], [x, y]]);
    let mut rings = vec![ring(x, y, side)];
    if holed {
        rings.push(ring(x + side / 3.0, y + side / 3.0, side / 3.0));
    }
    polygons_from_geojson(&json!({ "type": "Polygon", "coordinates": rings })).expect("square")
}

fn area(label: &str, polygons: flaneur_store::Polygons) -> NewExcludedArea {
    NewExcludedArea {
        label: Some(label.to_owned()),
        is_public: true,
        account_id: None,
        is_allowed: false,
        polygons,
    }
}

async fn points_in_general_and_own_areas_are_refused(catalog: &dyn Catalog, _sql: &Sql) {
    let ana = catalog
        .create_account("ana", Role::User)
        .await
        .expect("ana")
        .id;
    let bob = catalog
        .create_account("bob", Role::User)
        .await
        .expect("bob")
        .id;
    catalog
        .add_excluded_area(&area("base", square(2.0, 48.0, 0.3, true)))
        .await
        .expect("general");
    let mut own = area("home", square(10.0, 45.0, 0.1, false));
    own.account_id = Some(ana);
    own.is_public = false;
    let own = catalog.add_excluded_area(&own).await.expect("own");

    let at = |lon, lat, who| catalog.exclusion_at(lon, lat, who);
    assert_eq!(
        at(2.05, 48.05, Some(bob)).await.expect("t"),
        Some(Exclusion::General)
    );
    assert_eq!(
        at(2.05, 48.05, None).await.expect("t"),
        Some(Exclusion::General)
    );
    // The hole and the outside are free.
    assert_eq!(at(2.15, 48.15, Some(bob)).await.expect("t"), None);
    assert_eq!(at(3.0, 48.05, Some(bob)).await.expect("t"), None);
    // Ana's area refuses her pictures only.
    assert_eq!(
        at(10.05, 45.05, Some(ana)).await.expect("t"),
        Some(Exclusion::Own)
    );
    assert_eq!(at(10.05, 45.05, Some(bob)).await.expect("t"), None);
    assert_eq!(at(10.05, 45.05, None).await.expect("t"), None);

    // Listings: each account sees its own; the general ones are apart.
    let listed = catalog
        .excluded_areas(AreaScope::Account(ana))
        .await
        .expect("list");
    assert_eq!(listed, vec![own.clone()]);
    let none = catalog
        .excluded_areas(AreaScope::Account(bob))
        .await
        .expect("list");
    assert!(none.is_empty());
    let general = catalog
        .excluded_areas(AreaScope::General {
            include_private: false,
        })
        .await
        .expect("list");
    assert_eq!(general.len(), 1);
    assert_eq!(general[0].area.label.as_deref(), Some("base"));
    assert_eq!(general[0].area.polygons, square(2.0, 48.0, 0.3, true));

    // Deleting: never through another owner, nor as a general area.
    assert!(
        !catalog
            .delete_excluded_area(own.id, Some(bob))
            .await
            .expect("d")
    );
    assert!(!catalog.delete_excluded_area(own.id, None).await.expect("d"));
    assert!(
        !catalog
            .delete_excluded_area(ExcludedAreaId::new(), Some(ana))
            .await
            .expect("d")
    );
    assert!(
        catalog
            .delete_excluded_area(own.id, Some(ana))
            .await
            .expect("d")
    );
    assert_eq!(at(10.05, 45.05, Some(ana)).await.expect("t"), None);
}

async fn private_general_areas_are_listed_on_request(catalog: &dyn Catalog, _sql: &Sql) {
    let mut hidden = area("hidden", square(0.0, 0.0, 1.0, false));
    hidden.is_public = false;
    catalog.add_excluded_area(&hidden).await.expect("hidden");
    catalog
        .add_excluded_area(&area("shown", square(5.0, 5.0, 1.0, false)))
        .await
        .expect("shown");
    let public = catalog
        .excluded_areas(AreaScope::General {
            include_private: false,
        })
        .await
        .expect("list");
    let labels: Vec<_> = public.iter().map(|a| a.area.label.clone()).collect();
    assert_eq!(labels, vec![Some("shown".to_owned())]);
    let all = catalog
        .excluded_areas(AreaScope::General {
            include_private: true,
        })
        .await
        .expect("list");
    assert_eq!(all.len(), 2);
    // A private general area refuses pictures all the same.
    assert_eq!(
        catalog.exclusion_at(0.5, 0.5, None).await.expect("t"),
        Some(Exclusion::General)
    );
}

async fn replacing_keeps_own_areas_and_allowed_areas_refuse_the_rest(
    catalog: &dyn Catalog,
    _sql: &Sql,
) {
    let ana = catalog
        .create_account("ana", Role::User)
        .await
        .expect("ana")
        .id;
    catalog
        .add_excluded_area(&area("old", square(20.0, 20.0, 1.0, false)))
        .await
        .expect("old");
    let mut own = area("home", square(0.2, 0.2, 0.1, false));
    own.account_id = Some(ana);
    catalog.add_excluded_area(&own).await.expect("own");

    let allowed: Vec<NewExcludedArea> =
        [square(0.0, 0.0, 1.0, false), square(5.0, 0.0, 1.0, false)]
            .into_iter()
            .map(|polygons| NewExcludedArea {
                is_allowed: true,
                ..area("allowed", polygons)
            })
            .collect();
    let stored = catalog
        .replace_general_areas(&allowed)
        .await
        .expect("replace");
    assert_eq!(stored.len(), 2);

    let at = |lon, lat, who| catalog.exclusion_at(lon, lat, who);
    assert_eq!(at(0.5, 0.5, None).await.expect("t"), None);
    assert_eq!(at(5.5, 0.5, None).await.expect("t"), None);
    assert_eq!(
        at(3.0, 0.5, None).await.expect("t"),
        Some(Exclusion::General)
    );
    assert_eq!(
        at(20.5, 20.5, None).await.expect("t"),
        Some(Exclusion::General)
    );
    // Inside an allowed area, the uploader's own area still refuses.
    assert_eq!(
        at(0.25, 0.25, Some(ana)).await.expect("t"),
        Some(Exclusion::Own)
    );
    assert_eq!(
        catalog
            .excluded_areas(AreaScope::Account(ana))
            .await
            .expect("l")
            .len(),
        1
    );

    // An empty set lifts every general restriction.
    catalog.replace_general_areas(&[]).await.expect("replace");
    assert_eq!(at(3.0, 0.5, None).await.expect("t"), None);
    assert_eq!(at(20.5, 20.5, None).await.expect("t"), None);
}

async fn many_areas_are_tested_through_their_boxes(catalog: &dyn Catalog, _sql: &Sql) {
    let areas: Vec<NewExcludedArea> = (0..400)
        .map(|i| {
            area(
                "grid",
                square(f64::from(i % 20), f64::from(i / 20), 0.5, false),
            )
        })
        .collect();
    catalog
        .replace_general_areas(&areas)
        .await
        .expect("replace");
    for i in 0..20 {
        let x = f64::from(i);
        assert_eq!(
            catalog.exclusion_at(x + 0.25, 7.25, None).await.expect("t"),
            Some(Exclusion::General)
        );
        assert_eq!(
            catalog.exclusion_at(x + 0.75, 7.25, None).await.expect("t"),
            None
        );
    }
}

async fn writes_refuse_pictures_placed_in_an_area(catalog: &dyn Catalog, _sql: &Sql) {
    let (account, _) = catalog.default_account().await.expect("account");
    let set = catalog
        .create_upload_set(NewUploadSet::titled("walk", account))
        .await
        .expect("set")
        .id;
    let at = Utc
        .timestamp_opt(1_600_000_000, 0)
        .single()
        .expect("instant");
    let first = fixture::picture(set, account, 0, at, fixture::offset(0.0, 0.0));
    let (_, ids) =
        fixture::publish(catalog, set, "walk", vec![(first, PictureStatus::Ready)]).await;
    let mut own = area("home", square(2.5, 48.5, 0.1, false));
    own.account_id = Some(account);
    catalog.add_excluded_area(&own).await.expect("own area");

    // A move into the area is refused whole, and a move elsewhere is made.
    let before = catalog.picture(ids[0]).await.expect("read");
    let move_to = |place| PictureEdit {
        position: Some(place),
        heading_deg: Some(90.0),
        ..PictureEdit::default()
    };
    let refused = catalog
        .edit_picture(ids[0], &move_to((2.55, 48.55)), None)
        .await;
    assert!(
        matches!(refused, Err(Error::InExcludedArea(Exclusion::Own))),
        "{refused:?}"
    );
    assert_eq!(catalog.picture(ids[0]).await.expect("read"), before);
    let moved = catalog
        .edit_picture(ids[0], &move_to((2.45, 48.55)), None)
        .await;
    assert!(moved.expect("move").is_some());

    // A picture inserted there is refused, and nothing of it is kept.
    let second = fixture::picture(set, account, 1, at, (2.55, 48.55));
    let id = second.id;
    let file = UploadFile {
        upload_set_id: set,
        file_name: second.file_name.clone(),
        size_bytes: Some(1),
        content_md5: Some(id.to_string()),
        picture_id: Some(id),
        inserted_at: at,
        rejection: None,
    };
    let refused = catalog.insert_picture(second, file).await;
    assert!(
        matches!(refused, Err(Error::InExcludedArea(Exclusion::Own))),
        "{refused:?}"
    );
    assert_eq!(catalog.picture(id).await.expect("read"), None);
    let files = catalog.upload_set_files(set).await.expect("files");
    assert_eq!(files.len(), 1, "{files:?}");
}

async fn a_move_waits_for_an_area_being_written(catalog: &dyn Catalog, sql: &Sql) {
    let (account, _) = catalog.default_account().await.expect("account");
    let bob = catalog
        .create_account("bob", Role::User)
        .await
        .expect("bob")
        .id;
    let set = catalog
        .create_upload_set(NewUploadSet::titled("walk", account))
        .await
        .expect("set")
        .id;
    let at = Utc
        .timestamp_opt(1_600_000_000, 0)
        .single()
        .expect("instant");
    let first = fixture::picture(set, account, 0, at, fixture::offset(0.0, 0.0));
    let (_, ids) =
        fixture::publish(catalog, set, "walk", vec![(first, PictureStatus::Ready)]).await;
    let mut theirs = area("bob's", square(2.5, 48.5, 0.1, false));
    theirs.account_id = Some(bob);
    let theirs = catalog.add_excluded_area(&theirs).await.expect("area");

    // Another writer gives the area to the picture's owner, and commits while the move runs:
    // the move waits for it and is refused, rather than testing the area as it was.
    let move_there = PictureEdit {
        position: Some((2.55, 48.55)),
        ..PictureEdit::default()
    };
    let pause = std::time::Duration::from_millis(300);
    let moved = match sql {
        Sql::Sqlite(pool) => {
            let mut tx = pool.begin().await.expect("begin");
            sqlx::query("UPDATE excluded_areas SET account_id = ? WHERE id = ?")
                .bind(account.to_string())
                .bind(theirs.id.to_string())
                .execute(&mut *tx)
                .await
                .expect("give");
            let (moved, ()) =
                tokio::join!(catalog.edit_picture(ids[0], &move_there, None), async {
                    tokio::time::sleep(pause).await;
                    tx.commit().await.expect("commit");
                });
            moved
        }
        Sql::Postgres(pool) => {
            let mut tx = pool.begin().await.expect("begin");
            sqlx::query("UPDATE excluded_areas SET account_id = $1 WHERE id = $2")
                .bind(account.0)
                .bind(theirs.id.0)
                .execute(&mut *tx)
                .await
                .expect("give");
            let (moved, ()) =
                tokio::join!(catalog.edit_picture(ids[0], &move_there, None), async {
                    tokio::time::sleep(pause).await;
                    tx.commit().await.expect("commit");
                });
            moved
        }
    };
    assert!(
        matches!(moved, Err(Error::InExcludedArea(Exclusion::Own))),
        "{moved:?}"
    );
}

sql_contracts! {
    a_move_waits_for_an_area_being_written => a_move_waits_for_an_area_being_written;
    writes_refuse_pictures_placed_in_an_area => writes_refuse_pictures_placed_in_an_area;
    points_in_general_and_own_areas_are_refused => points_in_general_and_own_areas_are_refused;
    private_general_areas_are_listed_on_request => private_general_areas_are_listed_on_request;
    replacing_keeps_own_areas_and_allowed_areas_refuse_the_rest =>
        replacing_keeps_own_areas_and_allowed_areas_refuse_the_rest;
    many_areas_are_tested_through_their_boxes => many_areas_are_tested_through_their_boxes;
}
