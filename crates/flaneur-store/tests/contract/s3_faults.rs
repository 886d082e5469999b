//! The S3 store through a loopback proxy that loses answers and holds requests, as a flaky
//! network or a client hanging up would: a write whose answer was lost still counts as
//! stored, and an abandoned upload is aborted rather than left open in the bucket.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use flaneur_store::{BlobStore, S3BlobStore};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, oneshot};

use crate::blob::S3Server;

/// What a request does to an object, read from its method and query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A whole object in one PUT.
    Put,
    /// One part of a multipart upload.
    Part,
    /// The request completing a multipart upload.
    Complete,
    /// The request aborting one.
    Abort,
    /// Anything else (stat, reads, listings, starting an upload).
    Other,
}

fn kind_of(method: &str, target: &str) -> Kind {
    let query = target.split_once('?').map_or("", |(_, q)| q);
    let has = |name: &str| query.split('&').any(|p| p.split('=').next() == Some(name));
    match method {
        "PUT" if has("partNumber") => Kind::Part,
        "PUT" => Kind::Put,
        "POST" if has("uploadId") => Kind::Complete,
        "DELETE" if has("uploadId") => Kind::Abort,
        _ => Kind::Other,
    }
}

/// What the proxy does to the next request of a kind.
#[derive(Default)]
struct Plan {
    /// Kinds whose next request is forwarded but whose answer is lost: the connection closes
    /// instead. Each entry fires once.
    lose_answer: Vec<Kind>,
    /// The next part is held until the receiver fires; the sender says it arrived.
    hold_part: Option<(oneshot::Sender<()>, oneshot::Receiver<()>)>,
}

/// The proxy's shared state: its plan, and the requests seen (with whether their answer was
/// lost).
#[derive(Default)]
struct State {
    plan: Mutex<Plan>,
    seen: Mutex<Vec<(Kind, bool)>>,
    changed: Notify,
}

impl State {
    fn seen(&self) -> Vec<(Kind, bool)> {
        self.seen.lock().expect("lock").clone()
    }
}

struct FaultProxy {
    endpoint: String,
    state: Arc<State>,
}

impl FaultProxy {
    async fn start(upstream: &str, plan: Plan) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("address"));
        let state = Arc::new(State {
            plan: Mutex::new(plan),
            ..State::default()
        });
        let client = reqwest::Client::new();
        let upstream = upstream.trim_end_matches('/').to_owned();
        tokio::spawn({
            let state = state.clone();
            async move {
                while let Ok((socket, _)) = listener.accept().await {
                    tokio::spawn(serve(
                        socket,
                        client.clone(),
                        upstream.clone(),
                        state.clone(),
                    ));
                }
            }
        });
        FaultProxy { endpoint, state }
    }

    /// Waits until a request of `kind` was seen, for at most a minute.
    async fn wait_for(&self, kind: Kind) {
        let seen = async {
            loop {
                let changed = self.state.changed.notified();
                if self.state.seen().iter().any(|(k, _)| *k == kind) {
                    return;
                }
                changed.await;
            }
        };
        tokio::time::timeout(Duration::from_secs(60), seen)
            .await
            .unwrap_or_else(|_| panic!("no {kind:?} request came: {:?}", self.state.seen()));
    }
}

/// Serves one client connection, request after request, until it closes or an answer is lost.
async fn serve(socket: TcpStream, client: reqwest::Client, upstream: String, state: Arc<State>) {
    let mut socket = BufReader::new(socket);
    loop {
        let mut line = String::new();
        if socket.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
            return;
        };
        let (method, target) = (method.to_owned(), target.to_owned());
        let mut headers = Vec::new();
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            socket.read_line(&mut header).await.expect("read header");
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').expect("a header");
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_owned());
            assert!(
                !(name == "transfer-encoding" && value.contains("chunked")),
                "the proxy reads bodies by length only"
            );
            if name == "content-length" {
                length = value.parse().expect("a length");
            }
            if name != "connection" {
                headers.push((name, value));
            }
        }
        let mut body = vec![0; length];
        socket.read_exact(&mut body).await.expect("read body");

        let kind = kind_of(&method, &target);
        let (lose, hold) = {
            let mut plan = state.plan.lock().expect("lock");
            let lose = plan.lose_answer.iter().position(|k| *k == kind);
            let lose = lose.map(|i| plan.lose_answer.remove(i)).is_some();
            let hold = if kind == Kind::Part {
                plan.hold_part.take()
            } else {
                None
            };
            (lose, hold)
        };
        if let Some((arrived, release)) = hold {
            let _ = arrived.send(());
            let _ = release.await;
        }

        let mut request = client.request(
            method.parse().expect("a method"),
            format!("{upstream}{target}"),
        );
        for (name, value) in &headers {
            request = request.header(name, value);
        }
        let response = request.body(body).send().await.expect("upstream answers");
        let status = response.status();
        let response_headers = response.headers().clone();
        let response_body = response.bytes().await.expect("upstream body");

        state.seen.lock().expect("lock").push((kind, lose));
        state.changed.notify_waiters();
        if lose {
            // Done upstream, never told: the client sees the connection close.
            return;
        }

        let mut head = format!(
            "HTTP/1.1 {} {}\r\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        );
        for (name, value) in &response_headers {
            let name = name.as_str();
            if matches!(name, "content-length" | "transfer-encoding" | "connection") {
                continue;
            }
            head.push_str(&format!(
                "{name}: {}\r\n",
                value.to_str().expect("an ASCII header")
            ));
        }
        let length = if method == "HEAD" {
            response_headers
                .get("content-length")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("0")
                .to_owned()
        } else {
            response_body.len().to_string()
        };
        head.push_str(&format!("content-length: {length}\r\n\r\n"));
        let socket = socket.get_mut();
        if socket.write_all(head.as_bytes()).await.is_err()
            || socket.write_all(&response_body).await.is_err()
        {
            return;
        }
    }
}

/// A store on the test bucket reached through a proxy following `plan`.
async fn store_through(plan: Plan) -> Option<(S3BlobStore, FaultProxy)> {
    let server = S3Server::from_env()?;
    let proxy = FaultProxy::start(&server.endpoint, plan).await;
    let mut config = server.config();
    config.endpoint = Some(proxy.endpoint.clone());
    let store = S3BlobStore::open(&config).expect("open");
    Some((store, proxy))
}

fn staged(dir: &Path, len: usize) -> (std::path::PathBuf, Vec<u8>) {
    let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    let path = dir.join("staged.upload");
    std::fs::write(&path, &bytes).expect("write staged");
    (path, bytes)
}

/// Stores a file whose write's answer is lost once, and checks that it counts as stored.
async fn a_lost_answer_is_not_a_refusal(kind: Kind, len: usize) {
    let plan = Plan {
        lose_answer: vec![kind],
        ..Plan::default()
    };
    let Some((store, proxy)) = store_through(plan).await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, bytes) = staged(dir.path(), len);
    store
        .put_file("lost/answer.jpg", &path)
        .await
        .expect("the write went through: its retry is no conflict");
    assert!(
        proxy.state.seen().contains(&(kind, true)),
        "no {kind:?} answer was lost: {:?}",
        proxy.state.seen()
    );
    assert!(!path.exists(), "a stored file leaves staging");
    let stored = store
        .get_bytes("lost/answer.jpg")
        .await
        .expect("get")
        .expect("stored");
    assert!(stored == bytes, "{} bytes read back differ", stored.len());

    // Another writer is still refused.
    let (path, _) = staged(dir.path(), 10);
    let taken = store.put_file("lost/answer.jpg", &path).await;
    assert!(
        matches!(taken, Err(flaneur_store::Error::AlreadyExists(_))),
        "{taken:?}"
    );
}

#[tokio::test]
async fn a_put_whose_answer_was_lost_is_stored() {
    a_lost_answer_is_not_a_refusal(Kind::Put, 1000).await;
}

#[tokio::test]
async fn a_multipart_complete_whose_answer_was_lost_is_stored() {
    a_lost_answer_is_not_a_refusal(Kind::Complete, S3BlobStore::PART_SIZE_BYTES + 1000).await;
}

#[tokio::test]
async fn an_abandoned_upload_is_aborted() {
    let (arrived, part_arrived) = oneshot::channel();
    let (release_part, release) = oneshot::channel();
    let plan = Plan {
        hold_part: Some((arrived, release)),
        ..Plan::default()
    };
    let Some((store, proxy)) = store_through(plan).await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, _) = staged(dir.path(), 2 * S3BlobStore::PART_SIZE_BYTES + 1000);

    // The caller goes away while the first part is on its way.
    let put = store.put_file("gone/away.jpg", &path);
    tokio::select! {
        result = put => panic!("the upload ended with its first part held: {result:?}"),
        _ = part_arrived => {}
    }
    let _ = release_part.send(());

    proxy.wait_for(Kind::Abort).await;
    let seen = proxy.state.seen();
    assert!(
        !seen.iter().any(|(k, _)| *k == Kind::Complete),
        "an abandoned upload was completed: {seen:?}"
    );
    assert!(
        store.stat("gone/away.jpg").await.expect("stat").is_none(),
        "an abandoned upload left an object"
    );
    assert!(path.exists(), "an abandoned file stays in staging");
}
