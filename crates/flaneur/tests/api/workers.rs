//! Processes sharing one storage: API processes without workers beside `flaneur worker`
//! processes on one data folder, workers stopped mid-job, several API processes, processes of
//! their own folders on PostgreSQL and S3 (when the test servers run), and storage URLs
//! refused at start.

use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::json;

use crate::s3_pictures::s3_env;
use crate::server::{READY_DEADLINE, Server, drain, poll};
use crate::{GOPRO, SONY, pictures};

/// How long a stopped worker may take to exit (its grace period is 0 s in these tests).
const EXIT_DEADLINE: Duration = Duration::from_secs(60);

/// A running `flaneur worker`, killed when dropped. Its JSON logs show each job's start
/// (`job started`, at debug level) and end, with the job's kind, target and attempt.
pub struct Worker {
    child: Child,
    logs: Arc<Mutex<Vec<String>>>,
    readers: Vec<JoinHandle<()>>,
}

impl Worker {
    /// Starts one worker process with `workers` job workers on `data_dir`; a stopped worker
    /// gives its job back at once.
    fn start(data_dir: &Path, workers: usize) -> Worker {
        Self::start_with_env(data_dir, workers, &[])
    }

    /// Like [`Worker::start`], with extra environment variables.
    fn start_with_env(data_dir: &Path, workers: usize, envs: &[(&str, &str)]) -> Worker {
        Self::spawn(
            data_dir,
            crate::backend::storage_env(data_dir),
            workers,
            &[],
            envs,
        )
    }

    /// Starts one worker process with `workers` job workers on `data_dir`, keeping the
    /// catalog and pictures where the `storage` variables say whatever the run's backend,
    /// with extra command-line arguments.
    pub fn start_on_storage(
        data_dir: &Path,
        storage: Vec<(String, String)>,
        workers: usize,
        args: &[&str],
    ) -> Worker {
        Self::spawn(data_dir, storage, workers, args, &[])
    }

    fn spawn(
        data_dir: &Path,
        storage: Vec<(String, String)>,
        workers: usize,
        args: &[&str],
        envs: &[(&str, &str)],
    ) -> Worker {
        let mut child = Command::new(env!("CARGO_BIN_EXE_flaneur"))
            .arg("worker")
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--workers", &workers.to_string()])
            .args(["--stop-grace-secs", "0", "--log-format", "json"])
            .args(args)
            .env("RUST_LOG", "info,sqlx=warn,flaneur_service::worker=debug")
            .envs(storage)
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("flaneur worker starts");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let readers = vec![
            drain(child.stdout.take().expect("stdout"), logs.clone(), None),
            drain(child.stderr.take().expect("stderr"), logs.clone(), None),
        ];
        Worker {
            child,
            logs,
            readers,
        }
    }

    /// Everything the worker logged so far.
    pub fn logs(&self) -> String {
        self.logs.lock().map(|l| l.join("\n")).unwrap_or_default()
    }

    /// Log entries whose message is `message`.
    pub fn entries(&self, message: &str) -> Vec<serde_json::Value> {
        log_entries(&self.logs(), message)
    }

    /// Kills the process with SIGKILL, with no chance to give anything back, and returns
    /// everything it logged before it died.
    pub fn kill(mut self) -> String {
        self.child.kill().expect("SIGKILL the worker");
        self.child.wait().expect("reap the worker");
        for reader in std::mem::take(&mut self.readers) {
            reader.join().expect("the log reader ends with the process");
        }
        self.logs()
    }

    /// Sends SIGTERM and waits for the process to exit.
    fn terminate(mut self) -> (ExitStatus, String) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(sent.success(), "SIGTERM to worker {pid}");
        let status = poll(EXIT_DEADLINE, "the worker to exit", || {
            self.child.try_wait().expect("worker status")
        })
        .unwrap_or_else(|e| panic!("{e}\nlogs:\n{}", self.logs()));
        // The output threads end with the process; what they read is in the logs.
        (status, self.logs())
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn an_api_process_without_workers_and_a_worker_process_share_a_data_folder() {
    let data = tempfile::tempdir().expect("data folder");
    let server = Server::start_in_with_env(data.path(), &[("FLANEUR_NO_WORKERS", "true")]);
    let files = pictures(&SONY[..2]);
    let set = server.create_upload_set("two processes", Some(files.len()));
    let ids = server.upload_all(&set, &files);

    // 1. Without any worker, the jobs wait.
    let waiting = server.get_ok(&format!("/upload_sets/{set}"));
    assert_eq!(waiting["completed"], json!(true), "{waiting}");
    assert_eq!(waiting["dispatched"], json!(false), "{waiting}");
    assert_eq!(waiting["ready"], json!(false), "{waiting}");

    // 2. A worker process on the same folder processes them.
    let worker = Worker::start(data.path(), 1);
    let ready = server.wait_ready(&set);
    let collection = ready["associated_collections"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{ready}\nworker logs:\n{}", worker.logs()));
    let items = server.collection_items(collection);
    let mut item_ids: Vec<_> = items.iter().map(|i| i["id"].clone()).collect();
    item_ids.sort_by_key(|id| id.to_string());
    let mut expected: Vec<_> = ids.iter().map(|id| json!(id)).collect();
    expected.sort_by_key(|id| id.to_string());
    assert_eq!(item_ids, expected);
    for item in &items {
        assert_eq!(
            item["properties"]["geovisio:status"],
            json!("ready"),
            "{item}"
        );
        let id = item["id"].as_str().expect("item id");
        let file = &files[ids
            .iter()
            .position(|i| i == id)
            .expect("an uploaded picture")];
        let hd = item["assets"]["hd"]["href"].as_str().expect("hd asset");
        let original = std::fs::read(file).expect("original picture");
        assert!(
            server.get_bytes(hd) == original,
            "hd.jpg of {id} is the original"
        );
        let sd = item["assets"]["sd"]["href"].as_str().expect("sd asset");
        assert!(
            server.get_bytes(sd).starts_with(&[0xFF, 0xD8]),
            "sd.jpg is a JPEG"
        );
    }
    assert_eq!(
        worker.entries("job done").len(),
        1 + 2,
        "one dispatch and two prepare jobs ran in the worker process:\n{}",
        worker.logs()
    );

    // 3. SIGTERM stops the worker cleanly.
    let (status, logs) = worker.terminate();
    assert_eq!(status.code(), Some(0), "{logs}");
    assert!(logs.contains("\"stopped\""), "{logs}");
}

#[test]
fn a_worker_stopped_mid_job_gives_it_back_and_another_worker_completes_everything() {
    let data = tempfile::tempdir().expect("data folder");
    let server = Server::start_in_with_env(data.path(), &[("FLANEUR_NO_WORKERS", "true")]);
    let files = pictures(&GOPRO);
    let set = server.create_upload_set("stopped mid-job", Some(files.len()));
    server.upload_all(&set, &files);

    // 1. The first worker is stopped as soon as it starts a picture's preparation, with no
    //    grace: it gives the job back and exits with 0.
    let first = Worker::start(data.path(), 1);
    let prepare_started = || {
        first
            .entries("job started")
            .into_iter()
            .find(|entry| entry["span"]["job.kind"] == json!("prepare"))
    };
    poll(
        READY_DEADLINE,
        "the first prepare job to start",
        prepare_started,
    )
    .unwrap_or_else(|e| panic!("{e}\nlogs:\n{}", first.logs()));
    let (status, logs) = first.terminate();
    assert_eq!(status.code(), Some(0), "{logs}");

    // 2. A second worker completes everything, the given-back job included.
    let second = Worker::start(data.path(), 2);
    let ready = server.wait_ready(&set);
    assert_eq!(ready["items_status"]["prepared"], json!(5), "{ready}");
    assert_eq!(ready["items_status"]["broken"], json!(0), "{ready}");
    let done_by_second = second.entries("job done");
    assert_eq!(
        log_entries(&logs, "job done").len() + done_by_second.len(),
        1 + 5,
        "each job ran to its end once\nfirst:\n{logs}\nsecond:\n{}",
        second.logs()
    );

    // 3. A job given back (rather than finished within the signal's delivery) was run by the
    //    second worker, as the next attempt.
    for given_back in log_entries(
        &logs,
        "job still running at the end of the grace period; given back",
    ) {
        let span = &given_back["span"];
        let rerun = done_by_second
            .iter()
            .find(|done| done["span"]["job.target"] == span["job.target"])
            .unwrap_or_else(|| panic!("{span} not run again:\n{}", second.logs()));
        assert_eq!(
            rerun["span"]["job.attempt"].as_i64(),
            span["job.attempt"].as_i64().map(|a| a + 1),
            "{rerun}"
        );
    }
    let (status, logs) = second.terminate();
    assert_eq!(status.code(), Some(0), "{logs}");
}

/// The JSON log entries of `logs` whose message is `message`.
pub fn log_entries(logs: &str, message: &str) -> Vec<serde_json::Value> {
    logs.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|entry| entry["fields"]["message"] == json!(message))
        .collect()
}

#[test]
fn two_api_processes_share_a_data_folder() {
    let data = tempfile::tempdir().expect("data folder");
    let first = Server::start_in(data.path());
    let second = Server::start_in(data.path());
    let files = pictures(&SONY[..1]);
    let set = first.create_upload_set("shared", Some(1));
    first.upload_all(&set, &files);
    let ready = second.wait_ready(&set);
    assert_eq!(ready["items_status"]["prepared"], json!(1), "{ready}");
}

/// Runs `flaneur` with `args` on a fresh data folder until it exits.
fn run_flaneur(args: &[&str]) -> Output {
    let data = tempfile::tempdir().expect("data folder");
    Command::new(env!("CARGO_BIN_EXE_flaneur"))
        .args(args)
        .arg("--data-dir")
        .arg(data.path())
        .env_remove("DB_URL")
        .env_remove("FS_URL")
        .stdin(Stdio::null())
        .output()
        .expect("run flaneur")
}

#[test]
fn storage_urls_that_name_no_store_stop_the_start_with_code_2() {
    let cases: [(&[&str], &str); 8] = [
        (
            &[
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--db-url",
                "mysql://root:hunter2@db/x",
            ],
            "unknown catalog scheme 'mysql'",
        ),
        (
            &["worker", "--db-url", "/srv/catalog.sqlite"],
            "expected sqlite://PATH",
        ),
        (
            &["worker", "--fs-url", "ftp://user:hunter2@host/pictures"],
            "the scheme 'ftp' is not supported",
        ),
        (
            &["serve", "--listen", "127.0.0.1:0", "--fs-url", "file://"],
            "needs an absolute path",
        ),
        (&["worker", "--workers", "0"], "at least one worker"),
        (&["worker", "--job-lease-secs", "1"], "1 is not in 5..=3600"),
        (
            &["worker", "--db-url", "postgresql://u:hunter2@[::1/flaneur"],
            "invalid IPv6 address",
        ),
        (
            &[
                "worker",
                "--db-url",
                "postgres://u:hunter2@db/x?sslmode=sometimes",
            ],
            "unknown value \"sometimes\"",
        ),
    ];
    for (args, message) in cases {
        let output = run_flaneur(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(!stderr.contains("hunter2"), "{args:?}: {stderr}");
    }
}

/// A database of its own on the test PostgreSQL server (`FLANEUR_TEST_DATABASE_URL`, printed by
/// `scripts/services.sh start`), made from its PostGIS template with `psql` and dropped with
/// the value.
struct PgDatabase {
    admin_url: String,
    name: String,
}

impl PgDatabase {
    /// `None` when no server is configured and none is required.
    fn create() -> Option<PgDatabase> {
        let admin_url = match std::env::var("FLANEUR_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => {
                assert!(
                    std::env::var("FLANEUR_REQUIRE_SERVICES").as_deref() != Ok("1"),
                    "FLANEUR_TEST_DATABASE_URL is not set: start the test servers with \
                     `scripts/services.sh start` and export the variables it prints"
                );
                skipped("FLANEUR_TEST_DATABASE_URL is not set (no PostgreSQL)");
                return None;
            }
        };
        let name = format!("flaneur_api_{}", uuid::Uuid::new_v4().simple());
        psql(
            &admin_url,
            &format!("CREATE DATABASE {name} TEMPLATE flaneur_template"),
        );
        Some(PgDatabase { admin_url, name })
    }

    /// The database's address, with a password the server does not ask for, so that logs can
    /// be searched for it.
    fn url(&self) -> String {
        let (server, _) = self
            .admin_url
            .rsplit_once('/')
            .expect("a database in the URL");
        let server = server.replacen("postgres@", "postgres:hunter2@", 1);
        format!("{server}/{}", self.name)
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        psql(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

fn psql(url: &str, sql: &str) {
    let status = Command::new("psql")
        .args([url, "-q", "-c", sql])
        .stdin(Stdio::null())
        .status()
        .expect("psql, installed with the PostgreSQL test server");
    assert!(status.success(), "psql: {sql}");
}

#[expect(
    clippy::print_stderr,
    reason = "a skipped test says so in the test output"
)]
fn skipped(why: &str) {
    eprintln!("skipped: {why}");
}

#[test]
fn processes_with_data_folders_of_their_own_share_a_postgresql_catalog_and_an_s3_bucket() {
    let Some(database) = PgDatabase::create() else {
        return;
    };
    let Some([endpoint, bucket, region, access_key, secret_key]) = s3_env() else {
        return;
    };
    let encoded =
        percent_encoding::utf8_percent_encode(&endpoint, percent_encoding::NON_ALPHANUMERIC);
    let prefix = format!("workers/{}", uuid::Uuid::new_v4().simple());
    let fs_url = format!("s3://{bucket}/{prefix}?endpoint_url={encoded}&region={region}");
    let db_url = database.url();
    let storage = [
        ("DB_URL", db_url.as_str()),
        ("FS_URL", fs_url.as_str()),
        ("AWS_ACCESS_KEY_ID", access_key.as_str()),
        ("AWS_SECRET_ACCESS_KEY", secret_key.as_str()),
    ];

    // 1. The API process and the worker process share nothing local.
    let api_dir = tempfile::tempdir().expect("API data folder");
    let worker_dir = tempfile::tempdir().expect("worker data folder");
    let mut api_env = storage.to_vec();
    api_env.push(("FLANEUR_NO_WORKERS", "true"));
    let server = Server::start_in_with_env(api_dir.path(), &api_env);
    let worker = Worker::start_with_env(worker_dir.path(), 2, &storage);

    // 2. Uploads end in ready pictures whose files the API reads back from the bucket.
    let files = pictures(&SONY[..2]);
    let set = server.create_upload_set("at scale", Some(files.len()));
    let ids = server.upload_all(&set, &files);
    let ready = server.wait_ready(&set);
    assert_eq!(ready["items_status"]["prepared"], json!(2), "{ready}");
    for (id, file) in ids.iter().zip(&files) {
        let hd = server.get_bytes(&server.url(&format!("/pictures/{id}/hd.jpg")));
        assert!(
            hd == std::fs::read(file).expect("original"),
            "hd.jpg of {id}"
        );
    }

    // 3. The worker stops cleanly, and no log shows the catalog's password.
    let (status, logs) = worker.terminate();
    assert_eq!(status.code(), Some(0), "{logs}");
    assert!(logs.contains("postgresql://postgres:***@"), "{logs}");
    for logs in [logs, server.logs()] {
        assert!(!logs.contains("hunter2"), "{logs}");
    }
}

#[test]
fn a_stalled_client_does_not_keep_the_server_from_stopping() {
    use std::io::Write;

    let server = Server::start_with_env(&[
        ("FLANEUR_STOP_GRACE_SECS", "1"),
        ("RUST_LOG", "info,sqlx=warn,tower_http=debug"),
    ]);
    // A request whose body never arrives whole, as from a client gone quiet mid-upload.
    let address = server
        .api
        .trim_start_matches("http://")
        .trim_end_matches("/api")
        .to_owned();
    let mut stalled = std::net::TcpStream::connect(&address).expect("connect");
    stalled
        .write_all(
            b"POST /api/upload_sets HTTP/1.1\r\nHost: flaneur\r\n\
              Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"ti",
        )
        .expect("send the start of a request");
    // The stop comes once the server read the request head and waits for the body.
    poll(EXIT_DEADLINE, "the stalled request to start", || {
        server
            .logs()
            .lines()
            .any(|l| l.contains("started processing request") && l.contains("/api/upload_sets"))
            .then_some(())
    })
    .unwrap_or_else(|e| panic!("{e}\nlogs:\n{}", server.logs()));

    // The stop waits for the request the grace period long, then ends it.
    let (status, logs) = server.terminate(EXIT_DEADLINE);
    assert!(status.success(), "exit status {status}\nlogs:\n{logs}");
    assert!(
        !log_entries(
            &logs,
            "requests still running at the end of the grace period; cut off"
        )
        .is_empty(),
        "{logs}"
    );
    drop(stalled);
}
