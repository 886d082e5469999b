//! Storage out of reach: a server whose catalog server or object store stops answering tells
//! clients `503 Service Unavailable` with `Retry-After`, not an internal error.
//!
//! The server reaches the test PostgreSQL and S3 servers (`scripts/services.sh start`) through
//! a relay on a loopback port; cutting the relay closes its connections and refuses new ones,
//! as a stopped server would. Without the test servers the tests say they were skipped and
//! pass, unless `FLANEUR_REQUIRE_SERVICES=1`, where they fail.

use std::io::ErrorKind;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::RETRY_AFTER;
use serde_json::Value;

use crate::backend::{S3Env, create_database};
use crate::server::{Server, json_of};

/// Forwards TCP connections from a loopback port to a target until cut.
struct Relay {
    port: u16,
    cut: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
    accepting: Option<JoinHandle<()>>,
}

impl Relay {
    fn to(target: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("relay port");
        listener.set_nonblocking(true).expect("non-blocking relay");
        let port = listener.local_addr().expect("relay address").port();
        let cut = Arc::new(AtomicBool::new(false));
        let open = Arc::new(Mutex::new(Vec::new()));
        let accepting = {
            let cut = Arc::clone(&cut);
            let open = Arc::clone(&open);
            std::thread::spawn(move || {
                while !cut.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((client, _)) => {
                            client.set_nonblocking(false).expect("blocking connection");
                            let Ok(server) = TcpStream::connect(target) else {
                                continue;
                            };
                            let mut list = open.lock().expect("relay connections");
                            for stream in [&client, &server] {
                                list.push(stream.try_clone().expect("clone connection"));
                            }
                            pipe(&client, &server);
                            pipe(&server, &client);
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(10));
                        }
                        Err(e) => panic!("relay accept: {e}"),
                    }
                }
                // The listener is dropped here: new connections are refused.
            })
        };
        Relay {
            port,
            cut,
            open,
            accepting: Some(accepting),
        }
    }

    /// Closes every relayed connection and stops listening.
    fn cut(&mut self) {
        self.cut.store(true, Ordering::SeqCst);
        if let Some(accepting) = self.accepting.take() {
            accepting.join().expect("relay thread");
        }
        for stream in self.open.lock().expect("relay connections").drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

/// Copies bytes from one connection to the other on a thread, until either closes.
fn pipe(from: &TcpStream, to: &TcpStream) {
    let mut from = from.try_clone().expect("clone connection");
    let mut to = to.try_clone().expect("clone connection");
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(Shutdown::Both);
    });
}

/// The loopback address of a URL's host and port.
fn address_of(url: &reqwest::Url) -> SocketAddr {
    let port = url.port_or_known_default().expect("port");
    format!("127.0.0.1:{port}").parse().expect("address")
}

/// Asserts a 503 that asks the client to retry.
fn assert_unavailable(response: reqwest::blocking::Response, what: &str) {
    let retry = response.headers().get(RETRY_AFTER).cloned();
    let (status, body) = json_of(response);
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {body}");
    let seconds: u64 = retry
        .unwrap_or_else(|| panic!("{what}: no Retry-After"))
        .to_str()
        .expect("Retry-After text")
        .parse()
        .expect("Retry-After seconds");
    assert!(seconds > 0, "{what}: Retry-After {seconds}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("unavailable") && message.contains("retry"),
        "{what}: {body}"
    );
    assert_eq!(body["status_code"], Value::from(503), "{what}: {body}");
}

fn services_missing(name: &str) -> bool {
    if std::env::var(name).is_ok_and(|v| !v.is_empty()) {
        return false;
    }
    assert!(
        std::env::var("FLANEUR_REQUIRE_SERVICES").as_deref() != Ok("1"),
        "{name} is not set: start the test servers with `scripts/services.sh start` and \
         export the variables it prints"
    );
    skipped(name);
    true
}

#[expect(
    clippy::print_stderr,
    reason = "a skipped test says so in the test output"
)]
fn skipped(name: &str) {
    eprintln!("skipped: {name} is not set (no test server)");
}

#[test]
fn a_catalog_server_out_of_reach_answers_503() {
    if services_missing("FLANEUR_TEST_DATABASE_URL") {
        return;
    }
    let mut url = reqwest::Url::parse(&create_database()).expect("database URL");
    let mut relay = Relay::to(address_of(&url));
    url.set_port(Some(relay.port)).expect("relay port");
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start_on_storage(
        dir.path(),
        vec![("DB_URL".to_owned(), url.to_string())],
        &[],
    );
    let (status, _) = server.get_json("/collections");
    assert_eq!(status, StatusCode::OK);

    relay.cut();
    let response = server.get_url(&server.url("/collections"));
    assert_unavailable(response, "GET /api/collections with the database down");
    assert!(
        server.logs().contains("storage unavailable"),
        "the cause is logged"
    );
}

#[test]
fn an_object_store_out_of_reach_answers_503_on_upload() {
    if services_missing("FLANEUR_TEST_S3_ENDPOINT") {
        return;
    }
    let mut s3 = S3Env::from_env().expect("S3 server");
    let mut endpoint = reqwest::Url::parse(&s3.endpoint).expect("S3 endpoint");
    let mut relay = Relay::to(address_of(&endpoint));
    endpoint.set_port(Some(relay.port)).expect("relay port");
    s3.endpoint = endpoint.as_str().trim_end_matches('/').to_owned();
    let prefix = format!("api/{}", uuid::Uuid::new_v4().simple());
    let storage = vec![
        ("FS_URL".to_owned(), s3.fs_url(&prefix)),
        ("AWS_ACCESS_KEY_ID".to_owned(), s3.access_key.clone()),
        ("AWS_SECRET_ACCESS_KEY".to_owned(), s3.secret_key.clone()),
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    // Backtraces on, as an operator debugging may have them: retry warnings stay one line.
    let server = Server::start_on_storage(dir.path(), storage, &[("RUST_BACKTRACE", "1")]);
    let set = server.create_upload_set("out of reach", None);

    relay.cut();
    let file = &crate::pictures(&["e1.jpg"])[0];
    let bytes = std::fs::read(file).expect("test picture");
    let form = reqwest::blocking::multipart::Form::new().part(
        "file",
        reqwest::blocking::multipart::Part::bytes(bytes)
            .file_name("e1.jpg")
            .mime_str("image/jpeg")
            .expect("mime"),
    );
    let response = server
        .client()
        .post(server.url(&format!("/upload_sets/{set}/files")))
        .multipart(form)
        .send()
        .expect("upload");
    assert_unavailable(response, "POST a file with the object store down");
    let logs = server.logs();
    let retries: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("sending it again"))
        .collect();
    assert!(!retries.is_empty(), "retries are logged: {logs}");
    for line in retries {
        assert!(
            !line.contains("Backtrace") && !line.contains("backtrace") && line.len() < 1500,
            "a retry warning carries a backtrace: {line}"
        );
    }
}

/// Runs `flaneur serve` on a picture store until it stops, returning its exit code and stderr.
fn start_on_store(fs_url: &str, access_key: &str, secret_key: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_flaneur"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("FS_URL", fs_url)
        .env("AWS_ACCESS_KEY_ID", access_key)
        .env("AWS_SECRET_ACCESS_KEY", secret_key)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run flaneur");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_missing_bucket_or_refused_key_pair_stops_the_start_as_a_configuration_error() {
    if services_missing("FLANEUR_TEST_S3_ENDPOINT") {
        return;
    }
    let s3 = S3Env::from_env().expect("S3 server");
    let missing = S3Env {
        bucket: format!("missing-{}", uuid::Uuid::new_v4().simple()),
        ..s3.clone()
    };
    let cases = [
        ("missing bucket", missing.fs_url("p"), s3.secret_key.clone()),
        ("wrong secret", s3.fs_url("p"), "not-the-secret".to_owned()),
    ];
    for (case, fs_url, secret) in cases {
        let (code, stderr) = start_on_store(&fs_url, &s3.access_key, &secret);
        assert_eq!(code, Some(2), "{case}: {stderr}");
        assert!(
            stderr.contains("does not exist or these credentials may not list it")
                && stderr.contains("FS_URL"),
            "{case}: {stderr}"
        );
        assert!(!stderr.contains("Parts {"), "{case}: raw dump: {stderr}");
    }

    // A server out of reach may come back: not a configuration error.
    let closed = TcpListener::bind("127.0.0.1:0").expect("free port");
    let port = closed.local_addr().expect("address").port();
    drop(closed);
    let away = S3Env {
        endpoint: format!("http://127.0.0.1:{port}"),
        ..s3.clone()
    };
    let (code, stderr) = start_on_store(&away.fs_url("p"), &s3.access_key, &s3.secret_key);
    assert_eq!(code, Some(1), "unreachable: {stderr}");
    assert!(
        stderr.contains("cannot be reached"),
        "unreachable: {stderr}"
    );
}
