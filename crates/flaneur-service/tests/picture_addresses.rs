//! Presigned picture addresses: anyone holding one reads the file until it expires, so only
//! pictures that anyone may see get one, even from a store that signs every key it is asked
//! for.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{TimeZone, Utc};
use flaneur_model::{
    AccountId, NewPicture, NewUploadSet, PictureDetails, PictureId, PictureStatus, Projection,
    UploadFile, UploadSetId, Viewer, Visibility,
};
use flaneur_service::Services;
use flaneur_service::read::Asset;
use flaneur_store::{
    BlobBody, BlobMeta, BlobStore, Catalog, DispatchPlan, FsBlobStore, PlannedPicture,
    PlannedSequence, Result, SqliteCatalog,
};
use futures::stream::BoxStream;

/// A folder store that also signs addresses, as a bucket does: each key gets one.
struct SigningStore(FsBlobStore);

#[async_trait]
impl BlobStore for SigningStore {
    async fn put_file(&self, key: &str, staged: &Path) -> Result<()> {
        self.0.put_file(key, staged).await
    }
    async fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<()> {
        self.0.put_bytes(key, bytes).await
    }
    async fn get(&self, key: &str, range: Option<Range<u64>>) -> Result<Option<BlobBody>> {
        self.0.get(key, range).await
    }
    async fn get_bytes(&self, key: &str) -> Result<Option<Bytes>> {
        self.0.get_bytes(key).await
    }
    async fn stat(&self, key: &str) -> Result<Option<BlobMeta>> {
        self.0.stat(key).await
    }
    async fn delete(&self, key: &str) -> Result<()> {
        self.0.delete(key).await
    }
    async fn delete_prefix(&self, prefix: &str) -> Result<()> {
        self.0.delete_prefix(prefix).await
    }
    async fn list(&self, prefix: &str) -> Result<BoxStream<'static, Result<String>>> {
        self.0.list(prefix).await
    }
    async fn presign_read(&self, key: &str, expires: Duration) -> Result<Option<String>> {
        Ok(Some(format!(
            "https://bucket.example.org/{key}?X-Amz-Expires={}",
            expires.as_secs()
        )))
    }
}

/// The `n`th picture of an upload set of `account`, shown to `visibility`.
fn picture(set: UploadSetId, account: AccountId, n: u32, visibility: Visibility) -> NewPicture {
    let id = PictureId::new();
    NewPicture {
        id,
        upload_set_id: Some(set),
        account_id: account,
        visibility,
        captured_at: Utc
            .timestamp_opt(1_600_000_000 + i64::from(n), 0)
            .single()
            .expect("instant"),
        utc_offset_secs: None,
        lon: 2.0 + f64::from(n) * 1e-5,
        lat: 48.0,
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

#[tokio::test]
async fn restricted_pictures_never_get_a_presigned_address() {
    let dir = tempfile::tempdir().expect("temp dir");
    let catalog = SqliteCatalog::open(&dir.path().join("catalog.sqlite"))
        .await
        .expect("catalog");
    let blobs = FsBlobStore::open(dir.path().join("blobs"))
        .await
        .expect("blobs");
    let (account, _) = catalog.default_account().await.expect("account");

    // One sequence anyone may see, holding a ready picture of each visibility.
    let set = catalog
        .create_upload_set(NewUploadSet::titled("mixed", account))
        .await
        .expect("upload set")
        .id;
    let visibilities = [
        Visibility::Anyone,
        Visibility::LoggedOnly,
        Visibility::OwnerOnly,
    ];
    let mut planned = Vec::new();
    let mut ids = Vec::new();
    for (n, visibility) in (0..).zip(visibilities) {
        let picture = picture(set, account, n, visibility);
        let file = UploadFile {
            upload_set_id: set,
            file_name: picture.file_name.clone(),
            size_bytes: Some(1),
            content_md5: Some(picture.content_md5.clone()),
            picture_id: Some(picture.id),
            inserted_at: picture.captured_at,
            rejection: None,
        };
        planned.push(PlannedPicture {
            id: picture.id,
            heading_deg: None,
            heading_computed: false,
        });
        ids.push(picture.id);
        catalog.insert_picture(picture, file).await.expect("insert");
    }
    let plan = DispatchPlan {
        sequences: vec![PlannedSequence {
            title: "mixed".to_owned(),
            sorted_by: "+gpsdate".to_owned(),
            pictures: planned,
            length_km: 0.0,
            gps_accuracy_m: None,
        }],
        duplicates: Vec::new(),
    };
    catalog.apply_dispatch(set, plan).await.expect("dispatch");
    for &id in &ids {
        catalog
            .set_picture_status(id, PictureStatus::Ready, None)
            .await
            .expect("ready");
    }

    let services = Services::new(
        Arc::new(catalog),
        Arc::new(SigningStore(blobs)),
        dir.path().join("staging"),
    );
    let ttl = Duration::from_secs(600);
    // An administrator sees every picture: whether an address is given depends on who else
    // may read it, not on who asks.
    let admin = Viewer::account(AccountId::new(), true);
    for (id, visibility) in ids.into_iter().zip(visibilities) {
        for asset in [Asset::Hd, Asset::Thumb] {
            let address = services.picture_file_url(id, admin, asset, ttl).await;
            if visibility == Visibility::Anyone {
                // The store signs: a public picture gets its address.
                let address = address.expect("a public picture's address");
                assert!(
                    address.is_some_and(|a| a.contains("X-Amz-Expires=600")),
                    "{asset:?}"
                );
            } else {
                // Left to the API to stream to whoever may see it: never an address.
                assert!(
                    matches!(address, Ok(None)),
                    "{visibility:?} picture got {address:?}"
                );
                let anonymous = services
                    .picture_file_url(id, Viewer::ANONYMOUS, asset, ttl)
                    .await;
                assert!(
                    anonymous.is_err(),
                    "{visibility:?} picture got {anonymous:?}"
                );
            }
        }
    }
}
