//! The real `flaneur serve` process on a free loopback port, and the HTTP helpers the tests
//! share to talk to it.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use flaneur_model::{SequenceStatus, UploadSetId};
use flaneur_store::{CatalogOptions, CatalogUrl, open_catalog};
use reqwest::StatusCode;
use reqwest::blocking::{Client, Response, multipart};
use serde_json::{Value, json};

/// How long a server may take to start answering.
const START_DEADLINE: Duration = Duration::from_secs(60);
/// How long pictures may take to be processed into ready sequences.
pub const READY_DEADLINE: Duration = Duration::from_secs(300);

/// A running `flaneur serve`, killed when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT/api`, without a trailing slash.
    pub api: String,
    client: Client,
    logs: Arc<Mutex<Vec<String>>>,
    /// The threads reading its output, which end when it exits and its streams close.
    readers: Vec<std::thread::JoinHandle<()>>,
    /// Where the server keeps its catalog.
    catalog: CatalogUrl,
    /// The data folder, removed on drop when this server created it.
    _own_dir: Option<tempfile::TempDir>,
}

impl Server {
    /// Starts a server on its own fresh data folder.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temporary data folder");
        let mut server = Self::start_in(dir.path());
        server._own_dir = Some(dir);
        server
    }

    /// Starts a server on its own fresh data folder, with extra environment variables.
    pub fn start_with_env(envs: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temporary data folder");
        let mut server = Self::launch(dir.path(), envs);
        server._own_dir = Some(dir);
        server
    }

    /// Starts a server on `data_dir`, which the caller keeps alive (to restart on it).
    pub fn start_in(data_dir: &Path) -> Self {
        Self::launch(data_dir, &[])
    }

    /// Starts a server on `data_dir`, which the caller keeps alive, with extra environment
    /// variables.
    pub fn start_in_with_env(data_dir: &Path, envs: &[(&str, &str)]) -> Self {
        Self::launch(data_dir, envs)
    }

    /// Starts a server on `data_dir` keeping everything in the folder (SQLite and picture
    /// files), whatever the run's backend: the source of a storage migration.
    pub fn start_embedded_in(data_dir: &Path) -> Self {
        Self::launch_with_storage(data_dir, Vec::new(), &[])
    }

    /// Starts a server on `data_dir` keeping its catalog and pictures where the `storage`
    /// variables (`DB_URL`, `FS_URL`...) say, whatever the run's backend.
    pub fn start_on_storage(
        data_dir: &Path,
        storage: Vec<(String, String)>,
        envs: &[(&str, &str)],
    ) -> Self {
        Self::launch_with_storage(data_dir, storage, envs)
    }

    fn launch(data_dir: &Path, envs: &[(&str, &str)]) -> Self {
        Self::launch_with_storage(data_dir, crate::backend::storage_env(data_dir), envs)
    }

    fn launch_with_storage(
        data_dir: &Path,
        storage: Vec<(String, String)>,
        envs: &[(&str, &str)],
    ) -> Self {
        let catalog = match storage.iter().find(|(k, _)| k == "DB_URL") {
            Some((_, url)) => CatalogUrl::Postgres(url.clone()),
            None => CatalogUrl::Sqlite(data_dir.join("catalog.sqlite")),
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_flaneur"))
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--workers")
            .arg("2")
            .arg("--log-format")
            .arg("json")
            .env("RUST_LOG", "info,sqlx=warn")
            .env("NO_COLOR", "1")
            .envs(storage)
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("flaneur serve starts");

        // Both streams are drained for the whole life of the process, so it never blocks on a
        // full pipe; the lines are kept to explain failures.
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (address_tx, address_rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let readers = vec![
            drain(stdout, logs.clone(), Some(address_tx.clone())),
            drain(stderr, logs.clone(), Some(address_tx)),
        ];

        let address = match address_rx.recv_timeout(START_DEADLINE) {
            Ok(address) => address,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "flaneur serve did not log its listening address in {START_DEADLINE:?}; \
                     logs:\n{}",
                    logs.lock().map(|l| l.join("\n")).unwrap_or_default()
                );
            }
        };
        let client = Client::builder()
            .timeout(Duration::from_secs(120))
            .no_proxy()
            .build()
            .expect("HTTP client");
        let server = Self {
            child,
            api: format!("http://{address}/api"),
            client,
            logs,
            readers,
            catalog,
            _own_dir: None,
        };
        server.wait_until_answering();
        server
    }

    fn wait_until_answering(&self) {
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            if let Ok(response) = self.client.get(&self.api).send()
                && response.status() == StatusCode::OK
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "flaneur serve did not answer GET /api in {START_DEADLINE:?}; logs:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Everything the server logged so far.
    pub fn logs(&self) -> String {
        self.logs.lock().map(|l| l.join("\n")).unwrap_or_default()
    }

    /// Kills the process with SIGKILL, without any chance to clean up.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL the server");
        self.child.wait().expect("reap the server");
    }

    /// Sends SIGTERM and waits, up to `deadline`, for the process to exit; returns its status
    /// and its logs.
    pub fn terminate(mut self, deadline: Duration) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(sent.success(), "SIGTERM to server {pid}");
        let status = poll(deadline, "the server to exit", || {
            self.child.try_wait().expect("server status")
        })
        .unwrap_or_else(|e| panic!("{e}\nlogs:\n{}", self.logs()));
        // Its last lines may still be in the pipes: they are read to the end of its output,
        // which closes with it (a few seconds at most, should anything keep it open).
        let _ = poll(
            Duration::from_secs(10),
            "the server's output to end",
            || self.readers.iter().all(|r| r.is_finished()).then_some(()),
        );
        (status, self.logs())
    }

    /// The absolute URL of an API path (`/collections` → `http://…/api/collections`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// GET an absolute URL.
    pub fn get_url(&self, url: &str) -> Response {
        self.client
            .get(url)
            .send()
            .unwrap_or_else(|e| panic!("GET {url}: {e}\nlogs:\n{}", self.logs()))
    }

    /// GET an API path, returning the status and the JSON body.
    pub fn get_json(&self, path: &str) -> (StatusCode, Value) {
        json_of(self.get_url(&self.url(path)))
    }

    /// GET an absolute URL, returning the status and the JSON body.
    pub fn get_json_url(&self, url: &str) -> (StatusCode, Value) {
        json_of(self.get_url(url))
    }

    /// GET an API path that must answer 200, returning its JSON body.
    pub fn get_ok(&self, path: &str) -> Value {
        let (status, body) = self.get_json(path);
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    /// GET the bytes of an absolute URL that must answer 200.
    pub fn get_bytes(&self, url: &str) -> Vec<u8> {
        let response = self.get_url(url);
        assert_eq!(response.status(), StatusCode::OK, "GET {url}");
        response.bytes().expect("response body").to_vec()
    }

    /// POST a JSON body to an API path.
    pub fn post_json(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let url = self.url(path);
        json_of(
            self.client
                .post(&url)
                .json(body)
                .send()
                .unwrap_or_else(|e| panic!("POST {url}: {e}")),
        )
    }

    /// Creates an upload set, returning its id.
    pub fn create_upload_set(&self, title: &str, estimated_nb_files: Option<usize>) -> String {
        let mut body = json!({ "title": title });
        if let Some(n) = estimated_nb_files {
            body["estimated_nb_files"] = json!(n);
        }
        let (status, set) = self.post_json("/upload_sets", &body);
        assert_eq!(status, StatusCode::OK, "creating an upload set: {set}");
        set["id"].as_str().expect("upload set id").to_owned()
    }

    /// Sends one file in the multipart field `file` under the given name.
    pub fn upload_bytes(&self, set: &str, name: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
        let part = multipart::Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str("image/jpeg")
            .expect("mime type");
        let form = multipart::Form::new()
            .text("isBlurred", "false")
            .part("file", part);
        self.post_form(set, form)
    }

    /// Sends a file of the disk (named after it) to an upload set.
    pub fn upload_file(&self, set: &str, path: &Path) -> (StatusCode, Value) {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("file name");
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        self.upload_bytes(set, name, bytes)
    }

    /// POSTs a multipart form to `/upload_sets/{set}/files`.
    pub fn post_form(&self, set: &str, form: multipart::Form) -> (StatusCode, Value) {
        let url = self.url(&format!("/upload_sets/{set}/files"));
        json_of(
            self.client
                .post(&url)
                .multipart(form)
                .send()
                .unwrap_or_else(|e| panic!("POST {url}: {e:?}\nlogs:\n{}", self.logs())),
        )
    }

    /// Sends every file, expecting 202 for each, and returns the picture ids in order.
    pub fn upload_all(&self, set: &str, files: &[PathBuf]) -> Vec<String> {
        files
            .iter()
            .map(|file| {
                let (status, body) = self.upload_file(set, file);
                assert_eq!(status, StatusCode::ACCEPTED, "{}: {body}", file.display());
                body["picture_id"]
                    .as_str()
                    .expect("accepted file has a picture_id")
                    .to_owned()
            })
            .collect()
    }

    /// Polls an upload set until it is `ready`, returning its last JSON.
    pub fn wait_ready(&self, set: &str) -> Value {
        let path = format!("/upload_sets/{set}");
        poll(READY_DEADLINE, &format!("upload set {set} ready"), || {
            let body = self.get_ok(&path);
            (body["ready"] == json!(true)).then_some(body)
        })
        .unwrap_or_else(|last| panic!("{last}\nlogs:\n{}", self.logs()))
    }

    /// Polls an upload set hidden from anonymous callers until it is ready, reading the
    /// server's catalog as nobody logged in can read it through the API, and returns its
    /// first sequence. Checks on the way that the API answers 404 for it, as for no set.
    pub fn wait_ready_hidden(&self, set: &str) -> String {
        let (status, body) = self.get_json(&format!("/upload_sets/{set}"));
        assert_eq!(status, StatusCode::NOT_FOUND, "a hidden upload set: {body}");
        let id: UploadSetId = set.parse().expect("upload set id");
        let ready = || {
            crate::backend::block_on(async {
                let catalog = open_catalog(&self.catalog, &CatalogOptions::default())
                    .await
                    .expect("open the server's catalog");
                let set = catalog.upload_set(id).await.expect("read the upload set");
                let sequences = catalog
                    .upload_set_sequences(id)
                    .await
                    .expect("read its sequences");
                catalog.close().await;
                let is_ready = set.is_some_and(|s| s.dispatched)
                    && sequences.iter().all(|s| {
                        s.sequence.status == SequenceStatus::Ready
                            && s.items_status.not_processed == 0
                            && s.items_status.preparing == 0
                    });
                is_ready
                    .then(|| sequences.first().map(|s| s.sequence.id.to_string()))
                    .flatten()
            })
        };
        poll(READY_DEADLINE, &format!("upload set {set} ready"), ready)
            .unwrap_or_else(|last| panic!("{last}\nlogs:\n{}", self.logs()))
    }

    /// Uploads files into a new upload set of the given title and visibility, waits until it is
    /// ready, and returns the id of its (first) sequence.
    pub fn upload_sequence(&self, title: &str, files: &[PathBuf], visibility: &str) -> String {
        let body = json!({
            "title": title,
            "estimated_nb_files": files.len(),
            "visibility": visibility,
        });
        let (status, set) = self.post_json("/upload_sets", &body);
        assert_eq!(status, StatusCode::OK, "creating an upload set: {set}");
        let set = set["id"].as_str().expect("upload set id").to_owned();
        self.upload_all(&set, files);
        if visibility != "anyone" {
            return self.wait_ready_hidden(&set);
        }
        self.wait_ready(&set)["associated_collections"][0]["id"]
            .as_str()
            .expect("collection id")
            .to_owned()
    }

    /// Every item of a collection, following `next` links.
    pub fn collection_items(&self, collection: &str) -> Vec<Value> {
        let mut url = self.url(&format!("/collections/{collection}/items"));
        let mut items = Vec::new();
        for _ in 0..100 {
            let (status, page) = self.get_json_url(&url);
            assert_eq!(status, StatusCode::OK, "GET {url}: {page}");
            items.extend(
                page["features"]
                    .as_array()
                    .expect("features")
                    .iter()
                    .cloned(),
            );
            match link(&page, "next") {
                Some(next) => url = next,
                None => return items,
            }
        }
        panic!("more than 100 pages of items in {collection}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Keeps every line of a child's output stream, reading it until the child closes it; sends
/// the listening address of a `serve` process when it logs it. The reading thread ends with
/// the stream.
pub fn drain(
    stream: impl Read + Send + 'static,
    logs: Arc<Mutex<Vec<String>>>,
    address: Option<mpsc::Sender<String>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if let Some(tx) = &address
                && let Ok(entry) = serde_json::from_str::<Value>(&line)
                && let Some(listen) = entry["fields"]["listen"].as_str()
            {
                let _ = tx.send(listen.to_owned());
            }
            if let Ok(mut logs) = logs.lock() {
                logs.push(line);
            }
        }
    })
}

/// The status and JSON body of a response (a non-JSON body is a test failure).
pub fn json_of(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let url = response.url().to_string();
    let text = response.text().expect("response body");
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{url} answered {status} with non-JSON ({e}): {text}"));
    (status, body)
}

/// The `href` of the first link with relation `rel`.
pub fn link(document: &Value, rel: &str) -> Option<String> {
    document["links"]
        .as_array()?
        .iter()
        .find(|l| l["rel"] == rel)
        .and_then(|l| l["href"].as_str())
        .map(str::to_owned)
}

/// Ids of the collections of a listing page.
pub fn collection_ids(page: &Value) -> Vec<String> {
    page["collections"]
        .as_array()
        .expect("collections")
        .iter()
        .map(|c| c["id"].as_str().expect("collection id").to_owned())
        .collect()
}

/// Ids of the features of an item page, in page order.
pub fn feature_ids(page: &Value) -> Vec<String> {
    page["features"]
        .as_array()
        .unwrap_or_else(|| panic!("no features: {page}"))
        .iter()
        .map(|f| f["id"].as_str().expect("feature id").to_owned())
        .collect()
}

/// Calls `check` until it returns `Some` or the deadline passes; on timeout, returns an error
/// naming what was awaited.
pub fn poll<T>(
    deadline: Duration,
    what: &str,
    mut check: impl FnMut() -> Option<T>,
) -> Result<T, String> {
    let end = Instant::now() + deadline;
    loop {
        if let Some(value) = check() {
            return Ok(value);
        }
        if Instant::now() >= end {
            return Err(format!("timed out after {deadline:?} waiting for {what}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
