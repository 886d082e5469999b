//! The blob store contract: durable puts, whole and ranged reads, deletes, listings, key
//! safety, run
//! against the folder store and an S3 server; then what only S3 adds (multipart uploads,
//! signed requests, presigned URLs) and how a storage URL is read.
//!
//! S3 tests read the server from `FLANEUR_TEST_S3_*` (printed by `scripts/services.sh
//! start`), each under a random prefix of the bucket, with listings of 2 keys a page so that
//! any prefix of a few blobs takes several pages. Without the variables they say they were
//! skipped and pass, unless `FLANEUR_REQUIRE_SERVICES=1`, where they fail.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use flaneur_store::{
    BlobLocation, BlobStore, Error, FsBlobStore, S3BlobStore, S3Config, S3Credentials, Secret,
    open_blob_store, open_location,
};
use futures::TryStreamExt;

/// One store under test, with a scratch folder for staged files.
struct Backend {
    store: Arc<dyn BlobStore>,
    scratch: tempfile::TempDir,
}

/// The S3 server's settings, from the environment.
pub(crate) struct S3Server {
    pub(crate) endpoint: String,
    bucket: String,
    region: String,
    access_key: String,
    secret_key: String,
}

impl S3Server {
    /// The test server, or `None` when none is configured and none is required.
    pub(crate) fn from_env() -> Option<S3Server> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let Some(endpoint) = var("FLANEUR_TEST_S3_ENDPOINT") else {
            assert!(
                std::env::var("FLANEUR_REQUIRE_SERVICES").as_deref() != Ok("1"),
                "FLANEUR_TEST_S3_ENDPOINT is not set: start the test servers with \
                 `scripts/services.sh start` and export the variables it prints"
            );
            skipped();
            return None;
        };
        let need = |name: &str| var(name).unwrap_or_else(|| panic!("{name} is not set"));
        Some(S3Server {
            endpoint,
            bucket: need("FLANEUR_TEST_S3_BUCKET"),
            region: need("FLANEUR_TEST_S3_REGION"),
            access_key: need("FLANEUR_TEST_S3_ACCESS_KEY"),
            secret_key: need("FLANEUR_TEST_S3_SECRET_KEY"),
        })
    }

    /// A configuration of the test bucket under a fresh random prefix.
    pub(crate) fn config(&self) -> S3Config {
        S3Config {
            bucket: self.bucket.clone(),
            prefix: format!("contract/{}", uuid::Uuid::new_v4().simple()),
            endpoint: Some(self.endpoint.clone()),
            public_endpoint: None,
            region: self.region.clone(),
            path_style: true,
            acl: None,
            credentials: S3Credentials {
                access_key_id: self.access_key.clone(),
                secret_access_key: Secret::new(self.secret_key.clone()),
                session_token: None,
            },
        }
    }
}

#[expect(
    clippy::print_stderr,
    reason = "a skipped test says so in the test output"
)]
fn skipped() {
    eprintln!("skipped: FLANEUR_TEST_S3_ENDPOINT is not set (no S3 server)");
}

impl Backend {
    async fn folder() -> Backend {
        let scratch = tempfile::tempdir().expect("temp dir");
        let store = FsBlobStore::open(scratch.path().join("blobs"))
            .await
            .expect("open");
        Backend {
            store: Arc::new(store),
            scratch,
        }
    }

    async fn s3() -> Option<Backend> {
        let server = S3Server::from_env()?;
        let store = S3BlobStore::open(&server.config())
            .expect("open")
            .with_listing_page(2);
        store.check().await.expect("the test bucket answers");
        Some(Backend {
            store: Arc::new(store),
            scratch: tempfile::tempdir().expect("temp dir"),
        })
    }
}

/// Instantiates each contract once per backend.
macro_rules! blob_contract {
    ($($contract:ident),* $(,)?) => {
        mod folder {
            $(
                #[tokio::test]
                async fn $contract() {
                    let backend = super::Backend::folder().await;
                    super::$contract(&*backend.store, backend.scratch.path()).await;
                }
            )*
        }
        mod s3 {
            $(
                #[tokio::test]
                async fn $contract() {
                    let Some(backend) = super::Backend::s3().await else { return };
                    super::$contract(&*backend.store, backend.scratch.path()).await;
                }
            )*
        }
    };
}

blob_contract!(
    keeps_bytes_whole_and_in_ranges,
    moves_staged_files_in_and_never_replaces_a_blob,
    stores_files_larger_than_a_part,
    stores_files_at_the_part_boundaries,
    lets_one_of_two_racing_writers_store_a_key,
    deletes_blobs_and_whole_prefixes,
    lists_the_keys_under_a_prefix,
    refuses_keys_that_leave_the_store,
    presigned_urls_give_the_bytes,
);

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

/// Bytes that differ from one position to the next, so a misplaced part shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(31) ^ (i >> 11)) as u8)
        .collect()
}

async fn keeps_bytes_whole_and_in_ranges(store: &dyn BlobStore, _scratch: &Path) {
    store
        .put_bytes("a/b/c.jpg", Bytes::from_static(b"0123456789"))
        .await
        .expect("put");
    assert_eq!(read_all(store, "a/b/c.jpg", None).await, b"0123456789");
    assert_eq!(read_all(store, "a/b/c.jpg", Some(2..5)).await, b"234");
    assert_eq!(read_all(store, "a/b/c.jpg", Some(8..50)).await, b"89");
    assert_eq!(read_all(store, "a/b/c.jpg", Some(20..30)).await, b"");
    let body = store
        .get("a/b/c.jpg", Some(8..50))
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(body.range, 8..10, "the range is clamped to the blob");
    assert_eq!(body.meta.size_bytes, 10, "the whole blob's size");
    let meta = store
        .stat("a/b/c.jpg")
        .await
        .expect("stat")
        .expect("exists");
    assert_eq!(meta.size_bytes, 10);

    // Bytes replace bytes; `a//b` names the same blob as `a/b`, as in a folder.
    store
        .put_bytes("a//b/c.jpg", Bytes::from_static(b"new"))
        .await
        .expect("replace");
    assert_eq!(
        store.get_bytes("a/b/c.jpg").await.expect("get").as_deref(),
        Some(&b"new"[..])
    );
    assert!(
        store
            .get_bytes("a/b/none.jpg")
            .await
            .expect("get")
            .is_none()
    );
    assert!(store.stat("a/b/none.jpg").await.expect("stat").is_none());
    assert!(
        store
            .get("a/b/none.jpg", None)
            .await
            .expect("get")
            .is_none()
    );
}

async fn moves_staged_files_in_and_never_replaces_a_blob(store: &dyn BlobStore, scratch: &Path) {
    let staged = scratch.join("staged.upload");
    std::fs::write(&staged, b"staged bytes").expect("write staged");
    store.put_file("x/y.jpg", &staged).await.expect("put_file");
    assert!(!staged.exists(), "a stored file leaves staging");
    assert_eq!(
        store.get_bytes("x/y.jpg").await.expect("get").as_deref(),
        Some(&b"staged bytes"[..])
    );

    std::fs::write(&staged, b"intruder").expect("write staged");
    let taken = store.put_file("x/y.jpg", &staged).await;
    assert!(matches!(taken, Err(Error::AlreadyExists(_))), "{taken:?}");
    assert_eq!(
        store.get_bytes("x/y.jpg").await.expect("get").as_deref(),
        Some(&b"staged bytes"[..])
    );
    assert!(staged.exists(), "a refused file stays where it was");
}

async fn stores_files_larger_than_a_part(store: &dyn BlobStore, scratch: &Path) {
    // Over one part of a multipart upload, ending in a short last part.
    let bytes = pattern(S3BlobStore::PART_SIZE_BYTES + (1 << 20) + 123);
    let staged = scratch.join("large.upload");
    std::fs::write(&staged, &bytes).expect("write staged");
    store
        .put_file("big/one.jpg", &staged)
        .await
        .expect("put_file");
    assert!(!staged.exists());

    let stored = read_all(store, "big/one.jpg", None).await;
    assert!(stored == bytes, "{} bytes read back differ", stored.len());
    let boundary = S3BlobStore::PART_SIZE_BYTES as u64;
    let across = read_all(store, "big/one.jpg", Some(boundary - 5..boundary + 5)).await;
    assert_eq!(across, bytes[boundary as usize - 5..boundary as usize + 5]);
    let meta = store
        .stat("big/one.jpg")
        .await
        .expect("stat")
        .expect("exists");
    assert_eq!(meta.size_bytes, bytes.len() as u64);

    // A large file is refused as a small one when the key is taken.
    std::fs::write(&staged, pattern(S3BlobStore::PART_SIZE_BYTES + 10)).expect("write");
    let taken = store.put_file("big/one.jpg", &staged).await;
    assert!(matches!(taken, Err(Error::AlreadyExists(_))), "{taken:?}");
    assert!(read_all(store, "big/one.jpg", None).await == bytes);
}

async fn stores_files_at_the_part_boundaries(store: &dyn BlobStore, scratch: &Path) {
    // Empty, exactly one part, exactly two: the sizes where a multipart writer decides
    // between one request and several, and where a last part may come out empty.
    let part = S3BlobStore::PART_SIZE_BYTES;
    for (key, size) in [
        ("sizes/empty.jpg", 0),
        ("sizes/one-part.jpg", part),
        ("sizes/two-parts.jpg", 2 * part),
    ] {
        let bytes = pattern(size);
        let staged = scratch.join("sized.upload");
        std::fs::write(&staged, &bytes).expect("write staged");
        store.put_file(key, &staged).await.expect("put_file");
        assert!(!staged.exists(), "{key} left staging");
        let meta = store.stat(key).await.expect("stat").expect("exists");
        assert_eq!(meta.size_bytes, size as u64, "{key}");
        let stored = read_all(store, key, None).await;
        assert!(
            stored == bytes,
            "{key}: {} bytes read back differ",
            stored.len()
        );
    }
}

async fn lets_one_of_two_racing_writers_store_a_key(store: &dyn BlobStore, scratch: &Path) {
    // Both may find the key free; the store itself (a hard link, a conditional S3 write)
    // must still refuse one of them. Some S3 servers (SeaweedFS) test `If-None-Match` before
    // completing a multipart upload rather than with it, so two completes landing together can
    // both pass there: the race is run a few times, every stored object must be one writer's
    // whole, and at least one race must end in a refusal.
    let size = S3BlobStore::PART_SIZE_BYTES + 100;
    let first = pattern(size);
    let second: Vec<u8> = first.iter().map(|b| !b).collect();
    let mut refusals = 0;
    for round in 0..5 {
        let (a, b) = (scratch.join("a.upload"), scratch.join("b.upload"));
        std::fs::write(&a, &first).expect("write");
        std::fs::write(&b, &second).expect("write");
        let key = format!("race/{round}.jpg");
        let (put_a, put_b) = tokio::join!(store.put_file(&key, &a), store.put_file(&key, &b));
        let stored = read_all(store, &key, None).await;
        match (put_a, put_b) {
            (Ok(()), Err(Error::AlreadyExists(_))) => {
                assert!(stored == first && b.exists());
                refusals += 1;
            }
            (Err(Error::AlreadyExists(_)), Ok(())) => {
                assert!(stored == second && a.exists());
                refusals += 1;
            }
            (Ok(()), Ok(())) => assert!(stored == first || stored == second),
            other => panic!("neither stored: {other:?}"),
        }
        if refusals > 0 {
            return;
        }
    }
    panic!("five races for one key each let both writers store it");
}

async fn deletes_blobs_and_whole_prefixes(store: &dyn BlobStore, _scratch: &Path) {
    store
        .put_bytes("x/y.jpg", Bytes::from_static(b"y"))
        .await
        .expect("put");
    store.delete("x/y.jpg").await.expect("delete");
    store.delete("x/y.jpg").await.expect("delete again");
    assert!(store.stat("x/y.jpg").await.expect("stat").is_none());

    // Seven blobs at several depths: more than one listing page.
    let inside = [
        "d/p/1.jpg",
        "d/p/2.jpg",
        "d/p/3.jpg",
        "d/p/tiles/0_0.jpg",
        "d/p/tiles/0_1.jpg",
        "d/p/tiles/1_0.jpg",
        "d/p/deep/er/x.jpg",
    ];
    let outside = ["d/p.jpg", "d/pp/1.jpg", "d/q/1.jpg"];
    for key in inside.iter().chain(&outside) {
        store
            .put_bytes(key, Bytes::from_static(b"x"))
            .await
            .expect("put");
    }
    store.delete_prefix("d/p").await.expect("delete prefix");
    for key in inside {
        assert!(store.stat(key).await.expect("stat").is_none(), "{key} left");
    }
    for key in outside {
        assert!(store.stat(key).await.expect("stat").is_some(), "{key} gone");
    }
    store
        .delete_prefix("d/p")
        .await
        .expect("an empty prefix deletes nothing");
}

/// The keys `store.list(prefix)` gives, sorted, each once.
async fn listed(store: &dyn BlobStore, prefix: &str) -> Vec<String> {
    let keys: Vec<String> = store
        .list(prefix)
        .await
        .expect("list")
        .try_collect()
        .await
        .expect("the listing reads to its end");
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), keys.len(), "a key listed twice: {keys:?}");
    sorted
}

async fn lists_the_keys_under_a_prefix(store: &dyn BlobStore, scratch: &Path) {
    assert!(listed(store, "").await.is_empty(), "a new store is empty");

    // Blobs at several depths (more than one listing page), beside names that only start
    // like the prefix; one moved in from staging, the others written as bytes.
    let staged = scratch.join("staged.upload");
    std::fs::write(&staged, b"staged").expect("write staged");
    store
        .put_file("l/b/c.jpg", &staged)
        .await
        .expect("put_file");
    let inside = [
        "l/a.jpg",
        "l/b/c.jpg",
        "l/b/d/e.jpg",
        "l/b/d/f.jpg",
        "l/bb.jpg",
    ];
    let outside = ["lx/out.jpg", "l.jpg", "m/n.jpg"];
    for key in inside.iter().chain(&outside) {
        if *key != "l/b/c.jpg" {
            store
                .put_bytes(key, Bytes::from_static(b"x"))
                .await
                .expect("put");
        }
    }

    // A prefix is a folder: `l/b` holds `l/b/c.jpg`, not `l/bb.jpg`; `l//b` names it too.
    assert_eq!(listed(store, "l").await, inside);
    assert_eq!(
        listed(store, "l/b").await,
        ["l/b/c.jpg", "l/b/d/e.jpg", "l/b/d/f.jpg"]
    );
    assert_eq!(listed(store, "l//b/").await, listed(store, "l/b").await);
    let mut everything: Vec<&str> = inside.iter().chain(&outside).copied().collect();
    everything.sort_unstable();
    assert_eq!(listed(store, "").await, everything);

    // Nothing under a blob or a missing folder; deleted blobs leave the listing.
    assert!(listed(store, "l/a.jpg").await.is_empty());
    assert!(listed(store, "nowhere").await.is_empty());
    store.delete_prefix("l/b").await.expect("delete prefix");
    store.delete("l.jpg").await.expect("delete");
    assert_eq!(
        listed(store, "").await,
        ["l/a.jpg", "l/bb.jpg", "lx/out.jpg", "m/n.jpg"]
    );
}

async fn refuses_keys_that_leave_the_store(store: &dyn BlobStore, scratch: &Path) {
    let staged = scratch.join("staged.upload");
    std::fs::write(&staged, b"x").expect("write staged");
    for bad in ["", "../etc/passwd", "/abs", "a/../../b", "./a", "a/.."] {
        let refused = |result: Result<(), Error>| {
            assert!(
                matches!(result, Err(Error::InvalidKey(_))),
                "key {bad:?}: {result:?}"
            );
        };
        refused(store.put_bytes(bad, Bytes::from_static(b"x")).await);
        refused(store.put_file(bad, &staged).await);
        refused(store.get(bad, None).await.map(|_| ()));
        refused(store.get_bytes(bad).await.map(|_| ()));
        refused(store.stat(bad).await.map(|_| ()));
        refused(store.delete(bad).await);
        refused(store.delete_prefix(bad).await);
        if !bad.is_empty() {
            // The empty prefix lists the whole store.
            refused(store.list(bad).await.map(|_| ()));
        }
        refused(
            store
                .presign_read(bad, Duration::from_secs(60))
                .await
                .map(|_| ()),
        );
    }
    assert!(staged.exists());
}

async fn presigned_urls_give_the_bytes(store: &dyn BlobStore, _scratch: &Path) {
    store
        .put_bytes("p/q.jpg", Bytes::from_static(b"public bytes"))
        .await
        .expect("put");
    let url = store
        .presign_read("p/q.jpg", Duration::from_secs(300))
        .await
        .expect("presign");
    // A folder has no addresses of its own; a bucket's URL works in any HTTP client.
    let Some(url) = url else {
        assert!(store.stat("p/q.jpg").await.expect("stat").is_some());
        return;
    };
    assert!(url.contains("X-Amz-Signature="), "{url}");
    let response = reqwest::get(&url).await.expect("fetch the presigned URL");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("image/jpeg")
    );
    assert_eq!(&response.bytes().await.expect("body")[..], b"public bytes");

    // The signature covers the key: the same URL for another key is refused.
    let forged = url.replace("p/q.jpg", "p/other.jpg");
    let response = reqwest::get(&forged).await.expect("fetch");
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn folder_store_hands_out_no_urls() {
    let backend = Backend::folder().await;
    backend
        .store
        .put_bytes("a.jpg", Bytes::from_static(b"a"))
        .await
        .expect("put");
    let url = backend
        .store
        .presign_read("a.jpg", Duration::from_secs(60))
        .await
        .expect("presign");
    assert!(url.is_none());
}

#[tokio::test]
async fn s3_refuses_a_wrong_secret() {
    let Some(server) = S3Server::from_env() else {
        return;
    };
    let mut config = server.config();
    config.credentials.secret_access_key = Secret::new("not-the-secret");
    let refused = open_location(&BlobLocation::S3(config.clone())).await;
    let Err(err @ Error::ObjectStore { .. }) = refused else {
        panic!("a wrong secret was accepted: {:?}", refused.map(|_| ()));
    };
    let chain = format!("{:?}", anyhow_chain(&err));
    assert!(chain.contains("SignatureDoesNotMatch"), "{chain}");
    // The check is on the whole bucket: no key is named.
    assert!(
        anyhow_chain(&err).starts_with("object store request check failed: "),
        "{chain}"
    );
    assert!(!chain.contains("not-the-secret"), "{chain}");

    // Each request is signed: a store opened without the check fails on its first write.
    let store = S3BlobStore::open(&config).expect("open");
    let put = store.put_bytes("a.jpg", Bytes::from_static(b"a")).await;
    assert!(matches!(put, Err(Error::ObjectStore { .. })), "{put:?}");
}

/// An error and its sources, as one string.
fn anyhow_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[tokio::test]
async fn s3_urls_open_the_bucket_they_name() {
    let Some(server) = S3Server::from_env() else {
        return;
    };
    let encode = |v: &str| {
        percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let prefix = format!("contract/{}", uuid::Uuid::new_v4().simple());
    let url = format!(
        "s3://{}:{}@{}/{prefix}?endpoint_url={}&region={}",
        encode(&server.access_key),
        encode(&server.secret_key),
        server.bucket,
        encode(&server.endpoint),
        server.region,
    );
    let store = open_blob_store(&url).await.expect("open by URL");
    store
        .put_bytes("k/v.jpg", Bytes::from_static(b"by url"))
        .await
        .expect("put");

    // The prefix is a folder of the bucket: the same blob is seen from the bucket's root.
    let mut config = server.config();
    config.prefix = String::new();
    let root = open_location(&BlobLocation::S3(config))
        .await
        .expect("open");
    let seen = root
        .get_bytes(&format!("{prefix}/k/v.jpg"))
        .await
        .expect("get");
    assert_eq!(seen.as_deref(), Some(&b"by url"[..]));
    root.delete_prefix(&prefix).await.expect("clean up");
}

#[tokio::test]
async fn bad_storage_urls_are_refused_with_the_expected_form() {
    for (url, reason) in [
        (
            "s3://bucket?region=r&endpoint=http%3A%2F%2Fh",
            "unknown parameter 'endpoint'",
        ),
        ("s3://:secret@bucket?region=r", "both parts"),
        ("ftp://host/folder", "scheme 'ftp'"),
    ] {
        let refused = open_blob_store(url).await;
        let Err(err @ Error::InvalidBlobUrl(_)) = refused else {
            panic!("{url} was not refused as a URL: {:?}", refused.map(|_| ()));
        };
        let message = err.to_string();
        assert!(message.contains(reason), "{url}: {message}");
        assert!(
            message.contains("s3://[ACCESS_KEY:SECRET@]bucket[/prefix]?endpoint_url="),
            "{message}"
        );
        assert!(!message.contains("secret@"), "{message}");
    }
}

#[tokio::test]
async fn s3_presigns_for_the_public_endpoint() {
    let Some(server) = S3Server::from_env() else {
        return;
    };
    // The same server under another name, as clients would reach it from outside.
    let public = server.endpoint.replace("127.0.0.1", "localhost");
    assert_ne!(public, server.endpoint, "the test server is on 127.0.0.1");
    let mut config = server.config();
    config.public_endpoint = Some(public.clone());
    let store = S3BlobStore::open(&config).expect("open");
    store
        .put_bytes("pub/a.jpg", Bytes::from_static(b"from outside"))
        .await
        .expect("put through the endpoint");
    let url = store
        .presign_read("pub/a.jpg", Duration::from_secs(300))
        .await
        .expect("presign")
        .expect("an address");
    assert!(url.starts_with(&format!("{public}/")), "{url}");
    let response = reqwest::get(&url).await.expect("fetch the presigned URL");
    assert_eq!(response.status(), 200);
    assert_eq!(&response.bytes().await.expect("body")[..], b"from outside");
}
