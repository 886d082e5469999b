//! Pictures for the tests of the SQLite catalog, alike but for where, when and as what they
//! are filed.

use chrono::{DateTime, Utc};
use flaneur_model::{
    AccountId, NewPicture, PictureDetails, PictureId, Projection, UploadFile, UploadSetId,
    Visibility,
};

/// A flat picture seen by anyone, without heading, one byte long, its id standing for its MD5.
pub(super) fn picture(
    set: UploadSetId,
    account: AccountId,
    file_name: String,
    captured_at: DateTime<Utc>,
    lon: f64,
    lat: f64,
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
        file_name,
        size_bytes: 1,
        is_blurred: false,
        details: PictureDetails::default(),
    }
}

/// The accepted upload file that brought `picture`, received when it was captured.
pub(super) fn upload_file(picture: &NewPicture) -> UploadFile {
    UploadFile {
        upload_set_id: picture
            .upload_set_id
            .expect("the fixture's pictures belong to an upload set"),
        file_name: picture.file_name.clone(),
        size_bytes: Some(1),
        content_md5: Some(picture.id.to_string()),
        picture_id: Some(picture.id),
        inserted_at: picture.captured_at,
        rejection: None,
    }
}
