//! `flaneur upload` against an instance that fails for a while: transient failures are retried,
//! and files still failing leave the upload set open for a rerun that resumes it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::json;

use crate::server::Server;
use crate::{GOPRO, pictures};

/// A loopback HTTP/1.1 relay in front of `upstream` that answers 503 (with `Retry-After: 1`)
/// to as many file posts as `failures` holds, counting it down, and relays everything else.
/// One request per connection: every answer closes it.
fn start_flaky_relay(upstream: String, failures: Arc<AtomicU32>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let address = listener.local_addr().expect("a bound address");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let upstream = upstream.clone();
            let failures = failures.clone();
            std::thread::spawn(move || relay_one(stream, &upstream, &failures));
        }
    });
    format!("http://{address}")
}

fn relay_one(mut client: TcpStream, upstream: &str, failures: &AtomicU32) {
    let mut reader = BufReader::new(client.try_clone().expect("a socket clone"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return;
    }
    let mut head = request_line.clone();
    let mut length = 0_usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("a header line");
        if line == "\r\n" || line.is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("content-length:") {
            length = value.trim().parse().expect("a content length");
        }
        if lower.starts_with("transfer-encoding:") {
            panic!("the relay only handles bodies with a Content-Length");
        }
        if !lower.starts_with("connection:") {
            head.push_str(&line);
        }
    }
    head.push_str("Connection: close\r\n\r\n");
    let mut body = vec![0; length];
    reader.read_exact(&mut body).expect("the request body");

    let is_file_post = request_line.starts_with("POST ") && request_line.contains("/files ");
    let fail = is_file_post
        && failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
    if fail {
        let answer = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n\
                      Content-Type: application/json\r\nContent-Length: 2\r\n\
                      Connection: close\r\n\r\n{}";
        let _ = client.write_all(answer.as_bytes());
        return;
    }
    let mut server = TcpStream::connect(upstream).expect("the instance answers");
    server.write_all(head.as_bytes()).expect("head relayed");
    server.write_all(&body).expect("body relayed");
    let mut answer = Vec::new();
    server.read_to_end(&mut answer).expect("the answer");
    let _ = client.write_all(&answer);
}

fn run_upload(api: &str, dir: &Path, extra: &[&str]) -> (Output, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_flaneur"))
        .args(["upload", "--wait", "--parallel", "2", "--api", api])
        .args(extra)
        .arg(dir)
        .output()
        .expect("run flaneur upload");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output, text)
}

#[test]
fn failed_files_leave_the_set_open_and_a_rerun_completes_it_as_one_sequence() {
    let server = Server::start();
    let upstream = server
        .url("")
        .trim_start_matches("http://")
        .split('/')
        .next()
        .expect("a host and port")
        .to_owned();
    let failures = Arc::new(AtomicU32::new(2));
    let relay = start_flaky_relay(upstream, failures.clone());
    let dir = tempfile::tempdir().expect("temp dir");
    for file in pictures(&GOPRO) {
        let name = file.file_name().expect("a file name");
        std::fs::copy(&file, dir.path().join(name)).expect("copy picture");
    }

    // Without retries, the two 503s are failures: nothing is completed.
    let (output, text) = run_upload(&relay, dir.path(), &["--retry-for", "0s"]);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("sent 3,"), "{text}");
    assert!(text.contains("failed 2"), "{text}");
    assert!(text.contains("run the same command again"), "{text}");
    let note = std::fs::read_to_string(dir.path().join(".flaneur-upload.json"))
        .expect("the open set is noted in the folder");
    let note: serde_json::Value = serde_json::from_str(&note).expect("a JSON note");
    let set_id = note["upload_set_id"].as_str().expect("a set id").to_owned();
    let (_, set) = server.get_json(&format!("/upload_sets/{set_id}"));
    assert_eq!(set["completed"], json!(false), "{set}");

    // The rerun meets two more 503s, waits them out, sends only the two missing pictures and
    // completes the same set.
    failures.store(2, Ordering::SeqCst);
    let (output, text) = run_upload(&relay, dir.path(), &[]);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.contains(&format!("resuming upload set {set_id}")),
        "{text}"
    );
    assert!(text.contains("sent 2, skipped 3"), "{text}");
    assert!(text.contains("ready: 1 sequence(s)"), "{text}");
    assert_eq!(failures.load(Ordering::SeqCst), 0, "both 503s were met");
    assert!(!dir.path().join(".flaneur-upload.json").exists());

    let (_, set) = server.get_json(&format!("/upload_sets/{set_id}"));
    assert_eq!(set["completed"], json!(true), "{set}");
    let collections = set["associated_collections"]
        .as_array()
        .expect("collections");
    assert_eq!(collections.len(), 1, "{set}");
    assert_eq!(collections[0]["nb_items"], json!(5), "{set}");
}
