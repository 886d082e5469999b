//! Harvesting into the SQLite catalog: the harvester and the catalog agree on what is held,
//! so that a second pass skips what did not change.

use std::sync::Arc;

use chrono::Utc;
use flaneur_model::PeerSource;
use flaneur_service::harvest::harvest_all;
use flaneur_store::{Catalog, SqliteCatalog};

use super::*;

#[tokio::test]
async fn passes_into_the_catalog_apply_skip_and_remove_collections() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let catalog = SqliteCatalog::open(&dir.path().join("catalog.sqlite"))
        .await
        .expect("catalog");
    let catalog: Arc<dyn Catalog> = Arc::new(catalog);
    let peer = MockPeer::start(collections(3, 2)).await;
    let declared = catalog
        .add_peer(&peer.api_url(), PeerSource::Config)
        .await
        .expect("peer declared");
    let stored = async || {
        let peer = catalog.peer(declared.id).await.expect("peer read");
        peer.expect("peer kept")
    };

    let reports = harvest_all(catalog.as_ref(), &limits(), Utc::now())
        .await
        .expect("harvested");
    let [report] = &reports[..] else {
        panic!("one peer harvested");
    };
    assert_eq!(report.error, None);
    assert_eq!((report.collections_applied, report.items), (3, 6));
    let harvest = stored().await.harvest;
    assert_eq!((harvest.nb_collections, harvest.nb_items), (3, 6));
    assert_eq!(harvest.watermark, Some(peer.data().collections[2].updated));
    assert_eq!(harvest.last_error, None);

    // The `updated` the catalog gives back must equal the peer's to the microsecond, or
    // every pass would read every collection again.
    peer.touch(1, false);
    let report = harvest_peer(
        catalog.as_ref(),
        &stored().await,
        &limits(),
        PassKind::OnDemand,
    )
    .await;
    assert_eq!(report.error, None);
    assert_eq!(
        (report.collections_applied, report.collections_unchanged),
        (1, 1)
    );

    peer.touch(2, true);
    let report = harvest_peer(
        catalog.as_ref(),
        &stored().await,
        &limits(),
        PassKind::OnDemand,
    )
    .await;
    assert_eq!(report.error, None);
    assert_eq!(report.collections_removed, 1);
    let harvest = stored().await.harvest;
    assert_eq!((harvest.nb_collections, harvest.nb_items), (2, 4));
}

/// Items the catalog refuses (one id listed twice) skip their collection, and the pass goes
/// on to the others rather than stopping there at every attempt.
#[tokio::test]
async fn a_collection_the_catalog_refuses_is_skipped_and_the_pass_goes_on() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let catalog = SqliteCatalog::open(&dir.path().join("catalog.sqlite"))
        .await
        .expect("catalog");
    let catalog: Arc<dyn Catalog> = Arc::new(catalog);
    let peer = MockPeer::start(collections(2, 1)).await;
    catalog
        .add_peer(&peer.api_url(), PeerSource::Config)
        .await
        .expect("peer declared");
    let twice = r#"{"type": "FeatureCollection", "links": [], "features": [
        {"type": "Feature", "id": "0f9e8d7c-6b5a-4c3d-9e2f-1a0b9c8d7e6f",
         "geometry": {"type": "Point", "coordinates": [2.0, 48.0]},
         "properties": {"datetime": "2024-01-01T10:00:00+00:00"}},
        {"type": "Feature", "id": "0f9e8d7c-6b5a-4c3d-9e2f-1a0b9c8d7e6f",
         "geometry": {"type": "Point", "coordinates": [2.0, 48.0]},
         "properties": {"datetime": "2024-01-01T10:00:00+00:00"}}]}"#;
    peer.set_trouble(Trouble::ItemsBody(twice));

    let reports = harvest_all(catalog.as_ref(), &limits(), Utc::now())
        .await
        .expect("harvested");
    let [report] = &reports[..] else {
        panic!("one peer harvested");
    };
    assert_eq!(report.error, None, "{report:?}");
    assert_eq!((report.collections_applied, report.skipped), (0, 2));
    assert!(report.skip_reasons[0].contains("twice"), "{report:?}");
}
