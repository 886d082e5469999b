//! Excluded areas at upload and at a move: a real picture placed in a general area or in one
//! of its uploader's own is refused and recorded as such with nothing stored, while the areas
//! of other accounts do not concern it.

use std::sync::Arc;

use bytes::Bytes;
use flaneur_model::{
    AccountId, NewUploadSet, PictureEdit, RejectionReason, Role, UploadSetId, Viewer,
};
use flaneur_service::ingest::{FileOptions, stage};
use flaneur_service::{Error, IngestError, Services};
use flaneur_store::{
    DispatchPlan, FsBlobStore, NewExcludedArea, PlannedPicture, PlannedSequence, SqliteCatalog,
    polygons_from_geojson,
};
use serde_json::json;

#[path = "../../flaneur/tests/support/testdata.rs"]
mod testdata;

/// Where `1.jpg` was taken.
const LON: f64 = 1.919_185;
const LAT: f64 = 49.006_890;

struct Instance {
    services: Services,
    _dir: tempfile::TempDir,
}

impl Instance {
    async fn new() -> Instance {
        let dir = tempfile::tempdir().expect("temporary folder");
        let catalog = SqliteCatalog::open(&dir.path().join("catalog.sqlite"))
            .await
            .expect("catalog");
        let blobs = FsBlobStore::open(dir.path().join("pictures"))
            .await
            .expect("blob store");
        let services = Services::new(Arc::new(catalog), Arc::new(blobs), dir.path().join("s"));
        Instance {
            services,
            _dir: dir,
        }
    }

    async fn account(&self, name: &str) -> AccountId {
        let account = self.services.catalog.create_account(name, Role::User).await;
        account.expect("account").id
    }

    /// Adds a square of 0.02° around `(lon, lat)`, refusing the pictures of `account` only
    /// when given.
    async fn area(&self, lon: f64, lat: f64, account: Option<AccountId>) {
        let (w, s, e, n) = (lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01);
        let geometry = json!({ "type": "Polygon", "coordinates": [[
            [w, s], [e, s], [e, n], [w, n], [w, s]
        ]]});
        let area = NewExcludedArea {
            label: None,
            is_public: false,
            account_id: account,
            is_allowed: false,
            polygons: polygons_from_geojson(&geometry).expect("square"),
        };
        self.services
            .catalog
            .add_excluded_area(&area)
            .await
            .expect("area");
    }

    /// Sends `1.jpg` to a new upload set of `account`.
    async fn upload(&self, account: AccountId) -> (UploadSetId, flaneur_service::Result<()>) {
        let set = self
            .services
            .catalog
            .create_upload_set(NewUploadSet::titled("walk", account))
            .await
            .expect("set")
            .id;
        let bytes = std::fs::read(testdata::pictures_dir().join("1.jpg")).expect("picture");
        let body = futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from(bytes))]);
        let staged = stage(&self.services.staging_dir, body)
            .await
            .expect("staged");
        let options = FileOptions {
            file_name: "1.jpg".to_owned(),
            ..FileOptions::default()
        };
        let added = self.services.add_file(set, staged, options).await;
        (set, added.map(|_| ()))
    }
}

fn refused_as(result: &flaneur_service::Result<()>) -> Option<&'static str> {
    match result {
        Err(Error::Ingest(IngestError::InExcludedArea { error })) => Some(error),
        _ => None,
    }
}

#[tokio::test]
async fn pictures_in_general_or_own_areas_are_refused_and_recorded() {
    let instance = Instance::new().await;
    let ana = instance.account("ana").await;
    let bob = instance.account("bob").await;

    // Bob's own area covers the place: Bob's picture is refused, recorded, and nothing of
    // it is stored.
    instance.area(LON, LAT, Some(bob)).await;
    let (set, refused) = instance.upload(bob).await;
    assert_eq!(
        refused_as(&refused),
        Some("The picture is located within one of your own excluded area."),
        "{refused:?}"
    );
    let files = instance.services.catalog.upload_set_files(set).await;
    let files = files.expect("files");
    assert_eq!(files.len(), 1);
    let rejection = files[0].rejection.as_ref().expect("rejected");
    assert_eq!(rejection.reason, RejectionReason::InExcludedArea);
    assert_eq!(
        rejection.message,
        "Picture is located within an excluded area"
    );
    assert_eq!(files[0].picture_id, None);
    let pictures = instance.services.catalog.upload_set_pictures(set).await;
    assert!(pictures.expect("pictures").is_empty());

    // Ana's picture is accepted there.
    let (_, added) = instance.upload(ana).await;
    assert!(added.is_ok(), "{added:?}");

    // A general area refuses everyone's (on an instance that has not seen the picture yet).
    let instance = Instance::new().await;
    instance.area(LON, LAT, None).await;
    let carl = instance.account("carl").await;
    let (_, refused) = instance.upload(carl).await;
    assert_eq!(
        refused_as(&refused),
        Some("The picture is located within a general excluded area."),
        "{refused:?}"
    );
}

#[tokio::test]
async fn pictures_outside_every_area_are_accepted() {
    let instance = Instance::new().await;
    let ana = instance.account("ana").await;
    instance.area(LON + 0.1, LAT, None).await;
    instance.area(LON, LAT + 0.1, Some(ana)).await;
    let (_, added) = instance.upload(ana).await;
    assert!(added.is_ok(), "{added:?}");
}

#[tokio::test]
async fn a_picture_is_not_moved_into_an_area() {
    let instance = Instance::new().await;
    let ana = instance.account("ana").await;
    let (set, added) = instance.upload(ana).await;
    added.expect("accepted");
    let picture = instance.services.catalog.upload_set_pictures(set).await;
    let picture = picture.expect("pictures")[0].base.id;
    // Published in a sequence, as changes need.
    let plan = DispatchPlan {
        sequences: vec![PlannedSequence {
            title: "walk".to_owned(),
            sorted_by: "+gpsdate".to_owned(),
            pictures: vec![PlannedPicture {
                id: picture,
                heading_deg: None,
                heading_computed: false,
            }],
            length_km: 0.0,
            gps_accuracy_m: None,
        }],
        duplicates: Vec::new(),
    };
    let catalog = &instance.services.catalog;
    catalog.apply_dispatch(set, plan).await.expect("dispatch");
    instance.area(LON + 0.1, LAT, Some(ana)).await;

    let owner = Viewer::account(ana, false);
    let move_to = |lon: f64| PictureEdit {
        position: Some((lon, LAT)),
        ..PictureEdit::default()
    };
    let refused = instance
        .services
        .edit_item(owner, None, picture, move_to(LON + 0.1))
        .await;
    assert!(
        matches!(&refused, Err(Error::InvalidParameter { message, .. })
            if message == "Picture is located within an excluded area"),
        "{refused:?}"
    );
    let unchanged = instance.services.catalog.picture(picture).await;
    let unchanged = unchanged.expect("read").expect("picture");
    assert!((unchanged.base.lon - LON).abs() < 1e-5);

    let moved = instance
        .services
        .edit_item(owner, None, picture, move_to(LON + 0.05))
        .await;
    assert!(moved.is_ok(), "{moved:?}");
}
