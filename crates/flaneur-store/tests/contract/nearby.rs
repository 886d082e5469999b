//! The contract of what an item's links are drawn from: nearby pictures of other sequences
//! (`related`) and neighbours along its own (`prev`, `next`).

use chrono::{TimeZone, Utc};
use flaneur_model::{
    AccountId, NewPicture, NewUploadSet, PictureId, PictureStatus, SequenceId, Viewer, Visibility,
};
use flaneur_store::{Catalog, NearbyQuery};

use crate::backend::catalog_contracts;
use crate::fixture::{self, LAT, LON};

/// A picture to publish: metres east and north of (`LON`, `LAT`), heading, visibility and
/// whether it is ready.
struct Spot(f64, f64, Option<f64>, Visibility, bool);

impl Spot {
    fn at(east_m: f64, north_m: f64, heading_deg: Option<f64>) -> Spot {
        Spot(east_m, north_m, heading_deg, Visibility::Anyone, true)
    }
}

/// Publishes one sequence of the spots, in their order; returns it and its pictures.
async fn publish(
    catalog: &dyn Catalog,
    account: AccountId,
    spots: &[Spot],
) -> (SequenceId, Vec<PictureId>) {
    let set = catalog
        .create_upload_set(NewUploadSet::titled("nearby", account))
        .await
        .expect("create")
        .id;
    let pictures = spots
        .iter()
        .enumerate()
        .map(|(n, &Spot(east, north, heading, visibility, ready))| {
            let at = Utc
                .timestamp_opt(1_600_000_000 + n as i64, 0)
                .single()
                .expect("instant");
            let picture = NewPicture {
                visibility,
                heading_deg: heading,
                ..fixture::picture(set, account, n, at, fixture::offset(east, north))
            };
            let status = if ready {
                PictureStatus::Ready
            } else {
                PictureStatus::Preparing
            };
            (picture, status)
        })
        .collect();
    fixture::publish(catalog, set, "nearby", pictures).await
}

async fn nearby_contract(catalog: &dyn Catalog) {
    let (account, _) = catalog.default_account().await.expect("account");
    // The picture the links are for, facing east, and one more of its own sequence.
    let (own, _) = publish(
        catalog,
        account,
        &[
            Spot::at(0.0, 0.0, Some(90.0)),
            Spot::at(1.0, 0.0, Some(90.0)),
        ],
    )
    .await;
    // Its nearest picture at 3 m, another at 10 m.
    let (b, b_ids) = publish(
        catalog,
        account,
        &[
            Spot::at(10.0, 0.0, Some(100.0)),
            Spot::at(0.0, 3.0, Some(350.0)),
        ],
    )
    .await;
    // Facing back at 8 m; too far at 20 m.
    let (_, c_ids) = publish(
        catalog,
        account,
        &[Spot::at(8.0, 0.0, Some(270.0)), Spot::at(20.0, 0.0, None)],
    )
    .await;
    // No heading, at 12 m west.
    let (_, d_ids) = publish(catalog, account, &[Spot::at(-12.0, 0.0, None)]).await;
    // Near but hidden, or not ready yet, between two far ones.
    let (e, e_ids) = publish(
        catalog,
        account,
        &[
            Spot::at(100.0, 0.0, None),
            Spot(1.0, 1.0, None, Visibility::OwnerOnly, true),
            Spot(2.0, 0.0, None, Visibility::Anyone, false),
            Spot::at(200.0, 0.0, None),
        ],
    )
    .await;

    let query = NearbyQuery {
        lon: LON,
        lat: LAT,
        sequence: own,
        within_m: 15.0,
        facing: Some((90.0, 101.0)),
        viewer: Viewer::ANONYMOUS,
    };
    let ids = |found: Vec<flaneur_model::Picture>| -> Vec<PictureId> {
        found.iter().map(|p| p.base.id).collect()
    };
    let facing = catalog.nearby_pictures(&query).await.expect("nearby");
    assert_eq!(
        ids(facing),
        vec![b_ids[1], d_ids[0]],
        "350° is 100° from 90°"
    );

    let any_heading = NearbyQuery {
        facing: None,
        ..query
    };
    let found = catalog.nearby_pictures(&any_heading).await.expect("nearby");
    assert_eq!(ids(found), vec![b_ids[1], c_ids[0], d_ids[0]]);

    // Seen from the second sequence, the first is one of the others.
    let from_b = NearbyQuery {
        sequence: b,
        facing: None,
        ..query
    };
    let found = catalog.nearby_pictures(&from_b).await.expect("nearby");
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(found[0].sequence_id, Some(own));

    // Neighbours along a sequence skip what is hidden or not ready.
    let (prev, next) = catalog
        .sequence_neighbours(e, 1, Viewer::ANONYMOUS)
        .await
        .expect("neighbours");
    assert_eq!((prev, next.map(|p| p.base.id)), (None, Some(e_ids[3])));
    let (prev, next) = catalog
        .sequence_neighbours(e, 4, Viewer::ANONYMOUS)
        .await
        .expect("neighbours");
    assert_eq!((prev.map(|p| p.base.id), next), (Some(e_ids[0]), None));
}

catalog_contracts! {
    keeps_the_nearby_contract => nearby_contract;
}
