//! Published pictures for the contracts that read sequences: pictures placed in metres around
//! one spot, and one step that uploads, dispatches and readies them.

use chrono::{DateTime, Utc};
use flaneur_model::{
    AccountId, NewPicture, PictureDetails, PictureId, PictureStatus, Projection, SequenceId,
    UploadFile, UploadSetId, Visibility,
};
use flaneur_store::{Catalog, DispatchPlan, PlannedPicture, PlannedSequence};

/// The spot pictures are placed around, in degrees.
pub const LON: f64 = 2.0;
pub const LAT: f64 = 48.0;
/// Metres per degree of latitude on the sphere the catalog measures with.
pub const METRES_PER_DEG: f64 = 6_371_008.8 * std::f64::consts::PI / 180.0;

/// The longitude and latitude `east_m` metres east and `north_m` metres north of (`LON`,
/// `LAT`).
pub fn offset(east_m: f64, north_m: f64) -> (f64, f64) {
    (
        LON + east_m / (METRES_PER_DEG * LAT.to_radians().cos()),
        LAT + north_m / METRES_PER_DEG,
    )
}

/// The `n`th picture of an upload set, named `{n}.jpg`: flat, seen by anyone, without heading,
/// one byte long, its id standing for its MD5.
pub fn picture(
    set: UploadSetId,
    account: AccountId,
    n: usize,
    captured_at: DateTime<Utc>,
    (lon, lat): (f64, f64),
) -> NewPicture {
    let id = PictureId::new();
    NewPicture {
        id,
        upload_set_id: Some(set),
        account_id: account,
        visibility: Visibility::Anyone,
        captured_at,
        utc_offset_secs: None,
        lon,
        lat,
        heading_deg: None,
        projection: Projection::Flat,
        width: 100,
        height: 50,
        orientation: 1,
        content_md5: id.to_string(),
        file_name: format!("{n}.jpg"),
        size_bytes: 1,
        is_blurred: false,
        details: PictureDetails::default(),
    }
}

/// Inserts the pictures as files of upload set `set`, dispatches them as one sequence titled
/// `title` in their order, then gives each its status; returns the sequence and the pictures.
pub async fn publish(
    catalog: &dyn Catalog,
    set: UploadSetId,
    title: &str,
    pictures: Vec<(NewPicture, PictureStatus)>,
) -> (SequenceId, Vec<PictureId>) {
    let mut planned = Vec::new();
    let mut statuses = Vec::new();
    for (picture, status) in pictures {
        let file = UploadFile {
            upload_set_id: set,
            file_name: picture.file_name.clone(),
            size_bytes: Some(1),
            content_md5: Some(picture.id.to_string()),
            picture_id: Some(picture.id),
            inserted_at: picture.captured_at,
            rejection: None,
        };
        planned.push(PlannedPicture {
            id: picture.id,
            heading_deg: picture.heading_deg,
            heading_computed: false,
        });
        statuses.push((picture.id, status));
        catalog.insert_picture(picture, file).await.expect("insert");
    }
    let plan = DispatchPlan {
        sequences: vec![PlannedSequence {
            title: title.to_owned(),
            sorted_by: "+gpsdate".to_owned(),
            pictures: planned,
            length_km: 0.0,
            gps_accuracy_m: None,
        }],
        duplicates: Vec::new(),
    };
    let sequence = catalog.apply_dispatch(set, plan).await.expect("dispatch")[0];
    for &(id, status) in &statuses {
        catalog
            .set_picture_status(id, status, None)
            .await
            .expect("status");
    }
    (sequence, statuses.into_iter().map(|(id, _)| id).collect())
}
