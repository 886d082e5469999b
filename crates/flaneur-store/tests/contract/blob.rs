//! The blob store contract: durable puts, whole and ranged reads, deletes, key safety.

use bytes::Bytes;
use flaneur_store::{BlobStore, Error, FsBlobStore};
use futures::TryStreamExt;

async fn read_all(
    store: &dyn BlobStore,
    key: &str,
    range: Option<std::ops::Range<u64>>,
) -> Vec<u8> {
    let body = store
        .get(key, range)
        .await
        .expect("get works")
        .expect("blob exists");
    let chunks: Vec<Bytes> = body.stream.try_collect().await.expect("stream reads");
    chunks.concat()
}

async fn contract(store: &dyn BlobStore, scratch: &std::path::Path) {
    // Bytes in, same bytes out, whole or in part.
    store
        .put_bytes("a/b/c.jpg", Bytes::from_static(b"0123456789"))
        .await
        .expect("put");
    assert_eq!(read_all(store, "a/b/c.jpg", None).await, b"0123456789");
    assert_eq!(read_all(store, "a/b/c.jpg", Some(2..5)).await, b"234");
    assert_eq!(read_all(store, "a/b/c.jpg", Some(8..50)).await, b"89");
    let meta = store
        .stat("a/b/c.jpg")
        .await
        .expect("stat")
        .expect("exists");
    assert_eq!(meta.size_bytes, 10);

    // A staged file is moved in and gone from staging.
    let staged = scratch.join("staged.upload");
    std::fs::write(&staged, b"staged bytes").expect("write staged");
    store.put_file("x/y.jpg", &staged).await.expect("put_file");
    assert!(!staged.exists());
    assert_eq!(
        store.get_bytes("x/y.jpg").await.expect("get").as_deref(),
        Some(&b"staged bytes"[..])
    );

    // An existing blob is never replaced by a staged file.
    std::fs::write(&staged, b"intruder").expect("write staged");
    let taken = store.put_file("x/y.jpg", &staged).await;
    assert!(matches!(taken, Err(Error::AlreadyExists(_))), "{taken:?}");
    assert_eq!(
        store.get_bytes("x/y.jpg").await.expect("get").as_deref(),
        Some(&b"staged bytes"[..])
    );
    assert!(staged.exists(), "a refused file stays where it was");

    // Missing keys read as absent; deleting twice is fine; prefixes go whole.
    assert!(
        store
            .get("nope.jpg", None)
            .await
            .expect("get missing")
            .is_none()
    );
    store.delete("x/y.jpg").await.expect("delete");
    store.delete("x/y.jpg").await.expect("delete again");
    store.delete_prefix("a").await.expect("delete prefix");
    assert!(store.stat("a/b/c.jpg").await.expect("stat").is_none());

    // Keys cannot escape the store.
    for bad in ["", "../etc/passwd", "/abs", "a/../../b"] {
        let err = store.put_bytes(bad, Bytes::from_static(b"x")).await;
        assert!(
            matches!(err, Err(Error::InvalidKey(_))),
            "key {bad:?} accepted"
        );
    }
}

#[tokio::test]
async fn folder_store_keeps_the_blob_contract() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = FsBlobStore::open(dir.path().join("blobs"))
        .await
        .expect("open");
    contract(&store, dir.path()).await;
}
