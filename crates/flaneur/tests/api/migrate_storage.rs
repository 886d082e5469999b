//! `flaneur migrate-storage`: an embedded instance copied into PostgreSQL and S3 serves the
//! same collections, items, picture bytes, tiles and search results, keeps its reports,
//! excluded areas, pages and browser sessions; a copy killed mid-way
//! completes on the next run; a run on a finished copy has nothing to do; a damaged original
//! stops the copy naming its picture; a catalog or a bucket prefix holding another instance's
//! data is refused.
//!
//! The servers are the test PostgreSQL and S3 ones (`FLANEUR_TEST_DATABASE_URL`,
//! `FLANEUR_TEST_S3_*`, printed by `scripts/services.sh start`): a database made from their
//! template and a random prefix of the bucket. Without them the test says it was skipped and
//! passes, unless `FLANEUR_REQUIRE_SERVICES=1`, where it fails.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use reqwest::StatusCode;
use serde_json::Value;

use crate::accounts::{post_as, upload_bytes_as};
use crate::excluded_areas::{LAT, LON, feature, send, square};
use crate::login::{Browser, log_in, oidc_env};
use crate::login_provider::Provider;
use crate::server::{Server, link};
use crate::{GOPRO, SONY, pictures};

/// Where a copy goes: a fresh database and a fresh prefix of the test bucket.
struct Destination {
    admin_url: String,
    database: String,
    db_url: String,
    fs_url: String,
    access_key: String,
    secret_key: String,
}

impl Destination {
    fn create() -> Option<Destination> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let (Some(admin_url), Some(endpoint)) = (
            var("FLANEUR_TEST_DATABASE_URL"),
            var("FLANEUR_TEST_S3_ENDPOINT"),
        ) else {
            assert!(
                std::env::var("FLANEUR_REQUIRE_SERVICES").as_deref() != Ok("1"),
                "FLANEUR_TEST_DATABASE_URL or FLANEUR_TEST_S3_ENDPOINT is not set: start the \
                 test servers with `scripts/services.sh start` and export what it prints"
            );
            skipped();
            return None;
        };
        let need = |name: &str| var(name).unwrap_or_else(|| panic!("{name} is not set"));
        let database = format!("migrate_{}", uuid::Uuid::new_v4().simple());
        psql(
            &admin_url,
            &format!("CREATE DATABASE {database} TEMPLATE flaneur_template"),
        );
        let (server, _) = admin_url
            .rsplit_once('/')
            .expect("FLANEUR_TEST_DATABASE_URL names a database");
        let encoded =
            percent_encoding::utf8_percent_encode(&endpoint, percent_encoding::NON_ALPHANUMERIC);
        let fs_url = format!(
            "s3://{}/migrate/{}?endpoint_url={encoded}&region={}",
            need("FLANEUR_TEST_S3_BUCKET"),
            uuid::Uuid::new_v4().simple(),
            need("FLANEUR_TEST_S3_REGION"),
        );
        Some(Destination {
            db_url: format!("{server}/{database}"),
            admin_url,
            database,
            fs_url,
            access_key: need("FLANEUR_TEST_S3_ACCESS_KEY"),
            secret_key: need("FLANEUR_TEST_S3_SECRET_KEY"),
        })
    }

    fn env(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("DB_URL", self.db_url.as_str()),
            ("FS_URL", self.fs_url.as_str()),
            ("AWS_ACCESS_KEY_ID", self.access_key.as_str()),
            ("AWS_SECRET_ACCESS_KEY", self.secret_key.as_str()),
        ]
    }

    /// `flaneur migrate-storage` from `data_dir` into this destination.
    fn command(&self, data_dir: &Path) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_flaneur"));
        command
            .arg("migrate-storage")
            .arg("--from-data-dir")
            .arg(data_dir)
            .envs(self.env())
            .stdin(Stdio::null());
        command
    }

    fn migrate(&self, data_dir: &Path) -> Output {
        self.command(data_dir)
            .output()
            .expect("flaneur migrate-storage runs")
    }

    /// Rows of a query on the destination catalog, one line each.
    fn query(&self, sql: &str) -> String {
        psql(&self.db_url, sql)
    }
}

impl Drop for Destination {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .arg(&self.admin_url)
            .args(["-v", "ON_ERROR_STOP=1", "-q", "-c"])
            .arg(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.database
            ))
            .output();
    }
}

fn psql(url: &str, sql: &str) -> String {
    let output = Command::new("psql")
        .arg(url)
        .args(["-v", "ON_ERROR_STOP=1", "-q", "-t", "-A", "-c", sql])
        .output()
        .expect("psql runs");
    assert!(
        output.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[expect(
    clippy::print_stderr,
    reason = "a skipped test says so in the test output"
)]
fn skipped() {
    eprintln!("skipped: FLANEUR_TEST_DATABASE_URL or FLANEUR_TEST_S3_ENDPOINT is not set");
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// What an instance shows: every document (links made relative to the server) and every
/// picture file and tile, by path.
#[derive(Debug, PartialEq)]
struct Snapshot {
    documents: Vec<(String, Value)>,
    files: Vec<(String, Vec<u8>)>,
}

fn snapshot(server: &Server, pictures_at: &[(f64, f64)]) -> Snapshot {
    let relative = |value: &Value| -> Value {
        let text = value.to_string().replace(&server.api, "API");
        serde_json::from_str(&text).expect("JSON stays JSON")
    };
    let mut documents = Vec::new();
    let mut files = Vec::new();
    let mut get = |path: String| {
        let (status, body) = server.get_json(&path);
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        documents.push((path, relative(&body)));
        body
    };

    let collections = get("/collections?limit=100".to_owned());
    let ids: Vec<String> = crate::server::collection_ids(&collections);
    for id in &ids {
        get(format!("/collections/{id}"));
        let items = get(format!("/collections/{id}/items?limit=100"));
        assert!(link(&items, "next").is_none(), "one page of items");
        for item in items["features"].as_array().expect("features") {
            let item_id = item["id"].as_str().expect("item id");
            let item = get(format!("/collections/{id}/items/{item_id}"));
            for (name, asset) in item["assets"].as_object().expect("assets") {
                let href = asset["href"].as_str().expect("asset href");
                files.push((format!("{item_id}/{name}"), server.get_bytes(href)));
            }
            if let Some(template) = item["asset_templates"]["tiles"]["href"].as_str() {
                let url = template.replace("{TileCol}", "1").replace("{TileRow}", "0");
                files.push((format!("{item_id}/tile 1_0"), server.get_bytes(&url)));
            }
        }
    }
    get("/search?limit=100".to_owned());
    get("/search?limit=100&sortby=-ts".to_owned());
    get("/users".to_owned());
    for &(lon, lat) in pictures_at {
        for z in [6, 14] {
            let path = tile_path(z, lon, lat);
            files.push((path.clone(), server.get_bytes(&server.url(&path))));
        }
    }
    Snapshot { documents, files }
}

/// The vector tile at zoom `z` holding a place.
fn tile_path(z: u32, lon: f64, lat: f64) -> String {
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n).floor();
    let lat = lat.to_radians();
    let y = ((1.0 - lat.tan().asinh() / std::f64::consts::PI) / 2.0 * n).floor();
    format!("/map/{z}/{x}/{y}.mvt")
}

/// Makes the account `name` (an administrator with `admin`) in the SQLite catalog of
/// `data_dir` (whatever the run's backend) and returns a token of it.
fn embedded_token(data_dir: &Path, name: &str, admin: bool) -> String {
    let run = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_flaneur"))
            .arg("account")
            .args(args)
            .arg("--data-dir")
            .arg(data_dir)
            .env_remove("DB_URL")
            .env_remove("FS_URL")
            .output()
            .expect("flaneur account runs");
        assert!(output.status.success(), "{}", stderr_of(&output));
        String::from_utf8(output.stdout).expect("UTF-8")
    };
    if admin {
        run(&["create", name, "--admin"]);
    } else {
        run(&["create", name]);
    }
    run(&["token", name]).trim().to_owned()
}

/// Sends one picture to a new upload set of the token's account.
fn upload_as(server: &Server, token: &str, picture: &Path) -> (StatusCode, Value) {
    let (status, set) = post_as(
        server,
        "/upload_sets",
        token,
        &serde_json::json!({"title": "x"}),
    );
    assert_eq!(status, StatusCode::OK, "{set}");
    let set = set["id"].as_str().expect("upload set id");
    upload_bytes_as(server, set, token, std::fs::read(picture).expect("picture"))
}

/// Rows of every copied table of the destination catalog, by table.
fn row_counts(destination: &Destination) -> String {
    destination.query(
        "SELECT string_agg(t || '=' || n, ' ' ORDER BY t) FROM (
            SELECT 'accounts' t, count(*) n FROM accounts
            UNION ALL SELECT 'upload_sets', count(*) FROM upload_sets
            UNION ALL SELECT 'pictures', count(*) FROM pictures
            UNION ALL SELECT 'files', count(*) FROM files
            UNION ALL SELECT 'sequences', count(*) FROM sequences
            UNION ALL SELECT 'sequence_pictures', count(*) FROM sequence_pictures
            UNION ALL SELECT 'sequence_semantics', count(*) FROM sequence_semantics
            UNION ALL SELECT 'annotations', count(*) FROM annotations
            UNION ALL SELECT 'annotation_semantics', count(*) FROM annotation_semantics
            UNION ALL SELECT 'reports', count(*) FROM reports
            UNION ALL SELECT 'excluded_areas', count(*) FROM excluded_areas
            UNION ALL SELECT 'sessions', count(*) FROM sessions
            UNION ALL SELECT 'pages', count(*) FROM pages
            UNION ALL SELECT 'jobs', count(*) FROM jobs) c",
    )
}

#[test]
fn an_embedded_instance_moved_to_postgresql_and_s3_serves_the_same_pictures() {
    let Some(destination) = Destination::create() else {
        return;
    };
    let data = tempfile::tempdir().expect("data folder");

    // 1. An embedded instance with a 360° sequence (tiled) and a flat one, logging browsers
    //    in through a provider.
    let provider = Provider::start();
    let server = Server::start_on_storage(data.path(), Vec::new(), &oidc_env(&provider));
    let gopro = pictures(&GOPRO[..2]);
    let sony = pictures(&SONY[..2]);
    server.upload_sequence("360", &gopro, "anyone");
    let body = serde_json::json!({
        "title": "flat",
        "estimated_nb_files": sony.len(),
        "semantics": [{"key": "transport", "value": "bike"}, {"key": "surface", "value": "cobblestone"}],
    });
    let (status, set) = server.post_json("/upload_sets", &body);
    assert_eq!(status, StatusCode::OK, "{set}");
    let set = set["id"].as_str().expect("upload set id").to_owned();
    let flat = server.upload_all(&set, &sony);
    server.wait_ready(&set);
    // An account and its token, which must still be accepted once moved.
    let token = embedded_token(data.path(), "ana", false);
    let root = embedded_token(data.path(), "root", true);
    // An annotation of the account on a flat picture, which items show once moved.
    let picture = &flat[0];
    let annotation = serde_json::json!({
        "shape": [10, 10, 60, 40],
        "semantics": [{"key": "osm|amenity", "value": "bench"}, {"key": "colour", "value": "green"}],
    });
    let request = server
        .client()
        .post(server.url(&format!("/pictures/{picture}/annotations")));
    let (status, annotated) = crate::server::json_of(
        request
            .bearer_auth(&token)
            .json(&annotation)
            .send()
            .expect("POST annotation"),
    );
    assert_eq!(status, StatusCode::OK, "{annotated}");
    // A report, an excluded area for everybody (where the 360° pictures were taken) and one
    // for Ana's uploads only (where the flat ones were), and a browser logged in.
    let report = serde_json::json!({"issue": "mislocated", "picture_id": flat[1]});
    let (status, report) = post_as(&server, "/reports", &token, &report);
    assert_eq!(status, StatusCode::OK, "{report}");
    let report_path = format!("/reports/{}", report["id"].as_str().expect("report id"));
    let (status, report) = crate::accounts::get_as(&server, &report_path, &root);
    assert_eq!(status, StatusCode::OK, "{report}");
    let report_before = report.to_string().replace(&server.api, "API");
    let general = feature(square(LON, LAT), "airfield", true);
    let path = "/configuration/excluded_areas";
    let (status, area) = send(&server, reqwest::Method::POST, path, &root, Some(&general));
    assert_eq!(status, StatusCode::OK, "{area}");
    let (lon, lat) = (-1.6846, 48.1551);
    let own = feature(square(lon, lat), "home", false);
    let path = "/users/me/excluded_areas";
    let (status, area) = send(&server, reqwest::Method::POST, path, &token, Some(&own));
    assert_eq!(status, StatusCode::OK, "{area}");
    let terms = server.url("/pages/terms-of-service/en");
    let written = crate::accounts::bearer(server.client().put(&terms), &root)
        .header("Content-Type", "text/html; charset=utf-8")
        .body("<h1>Terms</h1><p>Be kind.</p>")
        .send()
        .expect("PUT the terms of service");
    assert_eq!(written.status(), StatusCode::OK, "{}", server.logs());
    let terms_before = server.get_bytes(&terms);
    let mut browser = Browser::new();
    log_in(&mut browser, &server, "/");
    let me_url = format!("{}/users/me", server.api);
    let logged = browser.get(&me_url);
    assert_eq!(logged.status(), StatusCode::OK, "{}", server.logs());

    // While it runs, the copy refuses to start and says how to stop it.
    let refused = destination.migrate(data.path());
    assert_eq!(refused.status.code(), Some(2), "{}", stderr_of(&refused));
    assert!(
        stderr_of(&refused).contains("is using the data folder"),
        "{}",
        stderr_of(&refused)
    );
    let places = [(1.9192, 49.0069), (-1.6846, 48.1551)];
    let before = snapshot(&server, &places);
    server.kill();

    // 2. A copy killed (SIGKILL) once it has copied some of the picture files.
    let mut child = destination
        .command(data.path())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("flaneur migrate-storage starts");
    let stderr = child.stderr.take().expect("piped stderr");
    let mut lines = BufReader::new(stderr).lines();
    let started = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|line| line.starts_with("picture files: ") && line.contains(" checked "));
    assert!(started, "the copy reports the picture files it checked");
    child.kill().expect("SIGKILL the copy");
    let _ = child.wait();

    // 3. The next run completes; the one after finds nothing to do.
    let completed = destination.migrate(data.path());
    let report = stderr_of(&completed);
    assert!(completed.status.success(), "{report}");
    assert!(report.contains("summary:"), "{report}");
    assert!(!report.contains("nothing to do"), "{report}");
    let total = summary_number(&report, " files (");
    let copied = summary_number(&report, " copied (");
    assert!(
        copied > 0 && copied < total,
        "the files copied before the kill are not sent again: {report}"
    );
    let counts = row_counts(&destination);
    assert_eq!(
        counts,
        "accounts=4 annotation_semantics=2 annotations=1 excluded_areas=2 files=4 jobs=0 \
         pages=1 pictures=4 reports=1 sequence_pictures=4 sequence_semantics=2 sequences=2 sessions=1 \
         upload_sets=2",
        "{report}"
    );
    let again = destination.migrate(data.path());
    let report = stderr_of(&again);
    assert!(again.status.success(), "{report}");
    assert!(report.contains("nothing to do"), "{report}");
    assert_eq!(row_counts(&destination), counts, "no row twice");

    // 4. Served from PostgreSQL and S3, the instance shows the same, byte for byte.
    let elsewhere = tempfile::tempdir().expect("another data folder");
    let mut env = destination.env();
    env.extend(oidc_env(&provider));
    let moved = Server::start_in_with_env(elsewhere.path(), &env);
    let after = snapshot(&moved, &places);
    assert_eq!(
        before.documents.len(),
        after.documents.len(),
        "same documents"
    );
    for ((path, was), (_, is)) in before.documents.iter().zip(&after.documents) {
        assert_eq!(was, is, "GET {path}");
    }
    assert_eq!(before.files.len(), after.files.len(), "same files");
    for ((path, was), (_, is)) in before.files.iter().zip(&after.files) {
        assert!(was == is, "{path} differs");
    }
    assert!(
        before
            .files
            .iter()
            .any(|(path, _)| path.ends_with("tile 1_0")),
        "a 360° tile was compared"
    );
    let me = moved
        .client()
        .get(moved.url("/users/me"))
        .bearer_auth(&token)
        .send()
        .expect("GET /users/me");
    assert_eq!(
        me.status(),
        StatusCode::OK,
        "the token moved with its signing key"
    );
    // The report and the terms of service read as they did, and the browser is still
    // logged in.
    let terms = moved.url("/pages/terms-of-service/en");
    assert!(
        moved.get_bytes(&terms) == terms_before,
        "the terms of service moved"
    );
    let (status, report) = crate::accounts::get_as(&moved, &report_path, &root);
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report.to_string().replace(&moved.api, "API"), report_before);
    let logged = browser.get(&format!("{}/users/me", moved.api));
    assert_eq!(logged.status(), StatusCode::OK, "the session moved");
    let logged: Value = logged.json().expect("JSON");
    assert_eq!(logged["name"], "walker", "{logged}");
    moved.kill();

    // A file cut short at the destination (here a folder) is written again, and nothing
    // else is.
    let folder = tempfile::tempdir().expect("destination folder");
    let mut to_folder = Destination::create().expect("services are there");
    to_folder.fs_url = folder.path().display().to_string();
    let first = to_folder.migrate(data.path());
    assert!(first.status.success(), "{}", stderr_of(&first));
    let copies = list_files(folder.path());
    let sd = copies
        .iter()
        .find(|p| p.ends_with("sd.jpg"))
        .expect("a derivative was copied");
    let whole = std::fs::read(sd).expect("copied derivative");
    std::fs::write(sd, &whole[..whole.len() / 2]).expect("cut the copy short");
    let redone = to_folder.migrate(data.path());
    let report = stderr_of(&redone);
    assert!(redone.status.success(), "{report}");
    assert!(report.contains(" 1 copied"), "{report}");
    assert!(!report.contains("nothing to do"), "{report}");
    assert!(std::fs::read(sd).expect("copy again") == whole);
    assert_eq!(list_files(folder.path()), copies, "no file added");

    // The excluded areas refuse uploads from PostgreSQL as they did: a 360° picture for
    // everybody, a flat one for Ana only (pictures not sent yet, which would be refused as
    // duplicates first).
    let served = tempfile::tempdir().expect("a data folder");
    let moved = Server::start_in_with_env(served.path(), &to_folder.env());
    let (gopro, sony) = (pictures(&GOPRO[2..3]), pictures(&SONY[2..4]));
    let (status, refusal) = upload_as(&moved, &root, &gopro[0]);
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refusal}");
    assert!(
        refusal["details"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("general excluded area")),
        "{refusal}"
    );
    let (status, refusal) = upload_as(&moved, &token, &sony[0]);
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refusal}");
    assert!(
        refusal["details"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("your own excluded area")),
        "{refusal}"
    );
    let (status, accepted) = upload_as(&moved, &root, &sony[1]);
    assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
    moved.kill();

    // 5. An original damaged in the data folder stops the copy, naming its picture, and
    //    stays where it was.
    let items = before
        .documents
        .iter()
        .find(|(path, _)| path.contains("/items?"))
        .map(|(_, page)| page["features"][0]["id"].as_str().expect("id").to_owned())
        .expect("an item page");
    let hd = find_file(&data.path().join("pictures/permanent"), &items[9..])
        .expect("the original is in the data folder");
    let mut damaged = std::fs::read(&hd).expect("original");
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0xFF;
    std::fs::write(&hd, &damaged).expect("damage the original");
    let stopped = destination.migrate(data.path());
    let report = stderr_of(&stopped);
    assert_eq!(stopped.status.code(), Some(1), "{report}");
    assert!(report.contains(&format!("picture {items}")), "{report}");
    assert!(report.contains("does not match"), "{report}");
    assert!(std::fs::read(&hd).expect("still there") == damaged);
}

#[test]
fn a_catalog_holding_another_instance_is_refused() {
    let Some(destination) = Destination::create() else {
        return;
    };
    let first = tempfile::tempdir().expect("data folder");
    let second = tempfile::tempdir().expect("data folder");
    let server = Server::start_embedded_in(first.path());
    server.create_upload_set("first", None);
    server.kill();
    let notes = first.path().join("pictures/notes");
    std::fs::create_dir_all(&notes).expect("a folder of the first instance");
    std::fs::write(notes.join("first.txt"), "first").expect("a file of the first instance");
    Server::start_embedded_in(second.path()).kill();
    let copied = destination.migrate(first.path());
    assert!(copied.status.success(), "{}", stderr_of(&copied));

    let refused = destination.migrate(second.path());
    let report = stderr_of(&refused);
    assert_eq!(refused.status.code(), Some(2), "{report}");
    assert!(
        report.contains("holds data of another instance"),
        "{report}"
    );
    assert_eq!(destination.query("SELECT count(*) FROM accounts"), "1");

    // The bucket side: a fresh database, but the prefix holds the first instance's files.
    let mut same_prefix = Destination::create().expect("services are there");
    same_prefix.fs_url.clone_from(&destination.fs_url);
    let refused = same_prefix.migrate(second.path());
    let report = stderr_of(&refused);
    assert_eq!(refused.status.code(), Some(2), "{report}");
    assert!(
        report.contains("holds files that are not in the data folder"),
        "{report}"
    );
    assert!(report.contains("notes/first.txt"), "{report}");
    assert!(report.contains("another prefix"), "{report}");
    assert_eq!(same_prefix.query("SELECT count(*) FROM accounts"), "0");

    let no_instance = tempfile::tempdir().expect("empty folder");
    let refused = destination.migrate(no_instance.path());
    assert_eq!(refused.status.code(), Some(2), "{}", stderr_of(&refused));
    assert!(stderr_of(&refused).contains("no catalog"));
}

#[test]
fn files_larger_than_a_read_are_streamed_and_verified_several_at_a_time() {
    let Some(destination) = Destination::create() else {
        return;
    };
    let data = tempfile::tempdir().expect("data folder");
    Server::start_embedded_in(data.path()).kill();

    // Bad `--parallel` values are refused before anything is read.
    for bad in ["0", "65", "many"] {
        let refused = destination
            .command(data.path())
            .args(["--parallel", bad])
            .output()
            .expect("flaneur migrate-storage runs");
        assert_eq!(refused.status.code(), Some(2), "--parallel {bad}");
    }

    // Files of many read chunks, with bytes that differ all along, copied 3 at a time. The
    // copy hashes and sends them a chunk at a time (`put_file` from a staged file, a
    // streamed read-back): a memory bound is not measured here, as a process's peak memory
    // is too noisy to assert on.
    let folder = data.path().join("pictures/extra");
    std::fs::create_dir_all(&folder).expect("extra folder");
    let mut big = Vec::with_capacity(5 << 20);
    let mut state = 0x2545_f491_u32;
    while big.len() < 5 << 20 {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        big.extend_from_slice(&state.to_le_bytes());
    }
    for n in 0..4u8 {
        big[0] = n;
        std::fs::write(folder.join(format!("big-{n}.bin")), &big).expect("big file");
    }
    let copied = destination
        .command(data.path())
        .args(["--parallel", "3"])
        .output()
        .expect("flaneur migrate-storage runs");
    let report = stderr_of(&copied);
    assert!(copied.status.success(), "{report}");
    assert_eq!(summary_number(&report, " copied ("), 4, "{report}");

    // Copied into a folder too, each file holds exactly the bytes it had.
    let to = tempfile::tempdir().expect("a copy folder");
    let mut to_folder = Destination::create().expect("services are there");
    to_folder.fs_url = to.path().display().to_string();
    let copied = to_folder.migrate(data.path());
    assert!(copied.status.success(), "{}", stderr_of(&copied));
    for n in 0..4u8 {
        big[0] = n;
        let copy = std::fs::read(to.path().join(format!("extra/big-{n}.bin"))).expect("copy");
        assert!(copy == big, "big-{n}.bin copied whole");
    }
    let again = destination.migrate(data.path());
    let report = stderr_of(&again);
    assert!(again.status.success(), "{report}");
    assert!(report.contains("nothing to do"), "{report}");
}

/// The file under `root` whose path ends with `suffix` (a picture id without its first
/// segment, as the picture folder spreads it).
fn find_file(root: &Path, suffix: &str) -> Option<std::path::PathBuf> {
    for entry in std::fs::read_dir(root).ok()? {
        let path = entry.ok()?.path();
        if path.is_dir() {
            if let Some(found) = find_file(&path, suffix) {
                return Some(found);
            }
        } else if path.to_string_lossy().ends_with(&format!("{suffix}.jpg")) {
            return Some(path);
        }
    }
    None
}

/// Every file under `root`, sorted.
fn list_files(root: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![root.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("list folder") {
            let path = entry.expect("folder entry").path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The number just before `marker` on the summary's line of picture files.
fn summary_number(report: &str, marker: &str) -> u64 {
    let line = report
        .lines()
        .find(|l| l.trim_start().starts_with("picture files ") && l.contains("verified"))
        .unwrap_or_else(|| panic!("no summary of picture files: {report}"));
    let before = &line[..line.find(marker).expect("marker on the line")];
    before
        .rsplit(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number before {marker:?}: {line}"))
}

/// `flaneur migrate-storage` from `data_dir` with these destination URLs, no server needed.
fn migrate_to(data_dir: &Path, db_url: &str, fs_url: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flaneur"))
        .current_dir(fs_url)
        .arg("migrate-storage")
        .arg("--from-data-dir")
        .arg(data_dir)
        .env("DB_URL", db_url)
        .env("FS_URL", fs_url)
        .stdin(Stdio::null())
        .output()
        .expect("flaneur migrate-storage runs")
}

#[test]
fn an_sqlite_destination_is_refused_before_anything_is_opened() {
    let data = tempfile::tempdir().expect("data folder");
    Server::start_embedded_in(data.path()).kill();
    let before = list_files(data.path());
    let to = tempfile::tempdir().expect("picture folder");
    let target = to.path().join("x.sqlite");
    for db_url in [
        format!("sqlite://{}", target.display()),
        "sqlite://lib/rel.sqlite".to_owned(),
    ] {
        let refused = migrate_to(data.path(), &db_url, to.path());
        let report = stderr_of(&refused);
        assert_eq!(refused.status.code(), Some(2), "{db_url}: {report}");
        assert!(report.contains("DB_URL"), "{report}");
        assert!(report.contains("postgresql://"), "{report}");
        assert!(!report.contains("5432"), "{report}");
    }
    assert_eq!(list_files(to.path()), Vec::<std::path::PathBuf>::new());
    assert_eq!(list_files(data.path()), before);
}

#[test]
fn a_copy_in_progress_refuses_a_second_one() {
    let data = tempfile::tempdir().expect("data folder");
    let to = tempfile::tempdir().expect("picture folder");
    let held = std::fs::File::create(data.path().join(".lock")).expect("lock file");
    held.try_lock().expect("the test holds the lock");
    let refused = migrate_to(data.path(), "postgresql://flaneur@127.0.0.1:1/x", to.path());
    let report = stderr_of(&refused);
    assert_eq!(refused.status.code(), Some(2), "{report}");
    assert!(
        report.contains("another flaneur process (a server, worker or a copy in progress)"),
        "{report}"
    );
}
