//! Flâneur at scale: two API processes without workers and two worker processes, each on a data
//! folder of its own, sharing one PostgreSQL catalog and one S3 prefix. Two hundred distinct
//! pictures go in through both APIs at once, one worker is killed with SIGKILL in the middle of
//! a job, and the end state is checked three ways: through the API, in the catalog, and in the
//! bucket.
//!
//! Skipped (and passing) without the test servers (`FLANEUR_TEST_DATABASE_URL` and
//! `FLANEUR_TEST_S3_*`, printed by `scripts/services.sh start`), unless
//! `FLANEUR_REQUIRE_SERVICES=1`, where it fails. It picks its own storage, whatever
//! `FLANEUR_TEST_BACKEND` says.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{FixedOffset, TimeZone};
use flaneur_metadata::{TagOverrides, write_overrides};
use flaneur_model::PictureId;
use flaneur_store::{BlobStore, S3BlobStore, S3Config, S3Credentials, Secret, blob_keys};
use futures::TryStreamExt;
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::backend::{Remote, S3Env, block_on, create_database};
use crate::server::Server;
use crate::workers::{Worker, log_entries};

/// Pictures of the walk.
const PICTURES: usize = 200;
/// Upload sets the walk is cut into, each a stretch of it that becomes one sequence.
const SETS: usize = 2;
/// Upload threads per API process.
const CLIENTS_PER_API: usize = 3;
/// The workers' job lease: short, so that the killed worker's job is taken up soon.
const LEASE_SECS: &str = "10";
/// Distance and time between two pictures of the walk: further apart than the 1 m under which
/// pictures may be duplicates, closer than the 100 m and 5 minutes that split sequences.
const STEP_M: f64 = 4.0;
const STEP_SECS: i64 = 2;
/// Metres in a degree of latitude.
const METRES_PER_DEGREE: f64 = 111_320.0;
/// How long each stage may take, on a debug build and two busy cores.
const STAGE_DEADLINE: Duration = Duration::from_secs(300);
/// Tries at killing a worker in the middle of a job, should one finish its job in the
/// instant between the check and the signal.
const KILL_TRIES: usize = 3;

#[expect(
    clippy::print_stderr,
    reason = "the test reports its progress and why it was skipped"
)]
fn progress(started: Instant, message: &str) {
    eprintln!(
        "[scale-out {:>5.1}s] {message}",
        started.elapsed().as_secs_f64()
    );
}

/// The test S3 server when both servers are configured; `None` (skipped) when they are not
/// and are not required.
fn services(started: Instant) -> Option<S3Env> {
    let database = std::env::var("FLANEUR_TEST_DATABASE_URL").is_ok_and(|v| !v.is_empty());
    if let Some(s3) = S3Env::from_env().filter(|_| database) {
        return Some(s3);
    }
    assert!(
        std::env::var("FLANEUR_REQUIRE_SERVICES").as_deref() != Ok("1"),
        "FLANEUR_TEST_DATABASE_URL or FLANEUR_TEST_S3_ENDPOINT is not set: start the test \
         servers with `scripts/services.sh start` and export the variables it prints"
    );
    progress(
        started,
        "skipped: FLANEUR_TEST_DATABASE_URL or FLANEUR_TEST_S3_ENDPOINT is not set \
         (no PostgreSQL or no S3 server)",
    );
    None
}

/// The walk: a real flat picture (1920 × 1080, upright) written again with a position
/// `STEP_M` further north and a capture time `STEP_SECS` later each time, so that every file
/// has bytes of its own and dispatch lines them up.
fn walk() -> Vec<(String, Vec<u8>)> {
    let source = crate::pictures(&["e1.jpg"]).remove(0);
    let source = std::fs::read(&source).unwrap_or_else(|e| panic!("{}: {e}", source.display()));
    let start = FixedOffset::east_opt(2 * 3600)
        .and_then(|zone| zone.with_ymd_and_hms(2024, 5, 1, 9, 0, 0).single())
        .expect("a valid instant");
    (0..PICTURES)
        .map(|i| {
            let step = i32::try_from(i).expect("a small index");
            let overrides = TagOverrides {
                position: Some((
                    -1.6778,
                    48.1173 + STEP_M * f64::from(step) / METRES_PER_DEGREE,
                )),
                captured_at: Some(start + chrono::Duration::seconds(STEP_SECS * i64::from(step))),
                heading_deg: Some(0.0),
                raw: Vec::new(),
            };
            let written = write_overrides(&source, &overrides).expect("the overrides fit");
            (format!("walk-{i:03}.jpg"), written.bytes)
        })
        .collect()
}

/// The shared catalog, read directly to see what the processes recorded.
struct Catalog {
    runtime: tokio::runtime::Runtime,
    pool: PgPool,
}

/// A row of the job queue.
#[derive(Debug, Clone, PartialEq, Eq)]
struct JobRow {
    id: i64,
    kind: String,
    target: String,
    attempts: i64,
    /// Whether a worker's lease on it still runs.
    is_claimed: bool,
    last_error: Option<String>,
}

impl Catalog {
    fn connect(url: &str) -> Catalog {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let pool = runtime
            .block_on(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(1)
                    .connect(url),
            )
            .expect("connect to the shared catalog");
        Catalog { runtime, pool }
    }

    fn jobs(&self) -> Vec<JobRow> {
        let rows: Vec<(i64, String, String, i64, bool, Option<String>)> = self
            .runtime
            .block_on(
                sqlx::query_as(
                    "SELECT id, kind, target, attempts,
                            coalesce(leased_until > clock_timestamp(), false), last_error
                     FROM jobs ORDER BY id",
                )
                .fetch_all(&self.pool),
            )
            .expect("read the job queue");
        rows.into_iter()
            .map(
                |(id, kind, target, attempts, is_claimed, last_error)| JobRow {
                    id,
                    kind,
                    target,
                    attempts,
                    is_claimed,
                    last_error,
                },
            )
            .collect()
    }

    fn job(&self, id: i64) -> Option<JobRow> {
        self.jobs().into_iter().find(|job| job.id == id)
    }

    /// The one row of a query's integer columns.
    fn counts(&self, sql: &'static str) -> Vec<i64> {
        let row = self
            .runtime
            .block_on(sqlx::query(sql).fetch_one(&self.pool))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        use sqlx::Row;
        (0..row.len())
            .map(|i| row.try_get::<i64, _>(i).expect("an integer column"))
            .collect()
    }

    /// The ids of the pictures in `status`.
    fn pictures_in(&self, status: &str) -> Vec<String> {
        self.runtime
            .block_on(
                sqlx::query_scalar("SELECT id::text FROM pictures WHERE status = $1 ORDER BY id")
                    .bind(status)
                    .fetch_all(&self.pool),
            )
            .expect("read the pictures")
    }
}

/// What the job queue showed while it was watched: the highest attempt of each job and every
/// failure recorded.
#[derive(Default)]
struct QueueWatch {
    max_attempts: BTreeMap<(String, String), i64>,
    errors: Vec<JobRow>,
    samples: usize,
}

/// Reads the job queue every 200 ms on a connection of its own until `stop` is set.
fn watch_queue(url: &str, stop: &AtomicBool) -> QueueWatch {
    let catalog = Catalog::connect(url);
    let mut watch = QueueWatch::default();
    while !stop.load(Ordering::Relaxed) {
        for job in catalog.jobs() {
            let seen = watch
                .max_attempts
                .entry((job.kind.clone(), job.target.clone()))
                .or_default();
            *seen = (*seen).max(job.attempts);
            if job.last_error.is_some() {
                watch.errors.push(job);
            }
        }
        watch.samples += 1;
        std::thread::sleep(Duration::from_millis(200));
    }
    watch
}

/// A job as a worker logged it: kind, target, attempt.
type JobRun = (String, String, i64);

/// The jobs a worker's logs show under `message` (`job started`, `job done`).
fn runs(logs: &str, message: &str) -> Vec<JobRun> {
    log_entries(logs, message)
        .iter()
        .map(|entry| {
            let span = &entry["span"];
            let text = |field: &str| span[field].as_str().expect("a job field").to_owned();
            (
                text("job.kind"),
                text("job.target"),
                span["job.attempt"].as_i64().expect("the job's attempt"),
            )
        })
        .collect()
}

/// The job a worker killed in the middle of it held: its queue row as the worker died, and
/// its run as the worker logged it.
struct KilledJob {
    row: JobRow,
    run: JobRun,
}

/// Waits until `worker` (with one job worker) holds a claimed `prepare` job, as its last
/// logged start says and the catalog confirms, then kills it with SIGKILL. Returns the job it
/// held and everything it logged; `None` with the logs when the job ended in the instant
/// before the signal, so that nothing was held.
fn kill_mid_job(worker: Worker, catalog: &Catalog) -> (Option<KilledJob>, String) {
    let held = |logs: &str| -> Option<(i64, JobRun)> {
        let entry = log_entries(logs, "job started").pop()?;
        let id = entry["span"]["job.id"].as_i64().expect("the job's id");
        let run = runs(logs, "job started").pop()?;
        let row = catalog.job(id)?;
        (row.is_claimed && row.attempts == run.2 && run.0 == "prepare").then_some((id, run))
    };
    let deadline = Instant::now() + STAGE_DEADLINE;
    while held(&worker.logs()).is_none() {
        assert!(
            Instant::now() < deadline,
            "the worker never held a prepare job:\n{}",
            worker.logs()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let logs = worker.kill();

    // What it held as it died: the last job it started (its logs are complete now), still
    // claimed at the same attempt, so neither finished nor given back.
    let Some((id, run)) = held(&logs) else {
        return (None, logs);
    };
    let row = catalog.job(id).expect("the killed job is still queued");
    (Some(KilledJob { row, run }), logs)
}

/// Kills `doomed` in the middle of a job, or the worker `restart` starts in its place when a
/// job ended in the instant before the signal. Returns the job held by the worker killed
/// mid-job, and the logs of every worker killed.
fn kill_one(
    doomed: Worker,
    restart: impl Fn() -> Worker,
    catalog: &Catalog,
    started: Instant,
) -> (KilledJob, Vec<String>) {
    let mut all_logs = Vec::new();
    let mut first = Some(doomed);
    for _ in 0..KILL_TRIES {
        let worker = first.take().unwrap_or_else(&restart);
        let (job, logs) = kill_mid_job(worker, catalog);
        all_logs.push(logs);
        if let Some(job) = job {
            assert_eq!(job.row.attempts, 1, "{:?}", job.row);
            progress(
                started,
                &format!(
                    "killed a worker holding {} {} (attempt {})",
                    job.run.0, job.run.1, job.run.2
                ),
            );
            return (job, all_logs);
        }
        progress(
            started,
            "the job ended as the signal left; another worker to kill",
        );
    }
    panic!("no worker was killed mid-job in {KILL_TRIES} tries:\n{all_logs:#?}");
}

/// Waits until every upload set is ready, reporting the catalog's progress every 10 s.
fn wait_ready(
    api: &Server,
    sets: &[String],
    catalog: &Catalog,
    survivor: &Worker,
    started: Instant,
) {
    let deadline = Instant::now() + STAGE_DEADLINE;
    let mut last_report = Instant::now();
    loop {
        let is_ready =
            |set: &String| api.get_ok(&format!("/upload_sets/{set}"))["ready"] == json!(true);
        if sets.iter().all(is_ready) {
            return;
        }
        if last_report.elapsed() >= Duration::from_secs(10) {
            let counts = catalog.counts(
                "SELECT (SELECT count(*) FROM pictures WHERE status = 'ready'),
                        (SELECT count(*) FROM jobs)",
            );
            progress(
                started,
                &format!(
                    "{}/{PICTURES} pictures ready, {} jobs queued",
                    counts[0], counts[1]
                ),
            );
            last_report = Instant::now();
        }
        assert!(
            Instant::now() < deadline,
            "the upload sets were not ready in {STAGE_DEADLINE:?}: jobs {:#?}\n\
             surviving worker:\n{}",
            catalog.jobs(),
            survivor.logs()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The test bucket's prefix, opened as the processes open it.
fn bucket(s3: &S3Env, prefix: &str) -> S3BlobStore {
    S3BlobStore::open(&S3Config {
        bucket: s3.bucket.clone(),
        prefix: prefix.to_owned(),
        endpoint: Some(s3.endpoint.clone()),
        public_endpoint: None,
        region: s3.region.clone(),
        path_style: true,
        acl: None,
        credentials: S3Credentials {
            access_key_id: s3.access_key.clone(),
            secret_access_key: Secret::new(s3.secret_key.clone()),
            session_token: None,
        },
    })
    .expect("open the bucket")
}

#[test]
fn two_apis_and_two_workers_on_postgresql_and_s3_survive_a_killed_worker() {
    let started = Instant::now();
    let Some(s3) = services(started) else {
        return;
    };

    // 1. One fresh database and one fresh prefix, shared by four processes with data folders
    //    of their own (each API stages uploads in its own).
    let prefix = format!("scale-out/{}", uuid::Uuid::new_v4().simple());
    let remote = Remote {
        db_url: create_database(),
        fs_url: s3.fs_url(&prefix),
        s3: s3.clone(),
    };
    let folders: Vec<_> = (0..4)
        .map(|_| tempfile::tempdir().expect("data folder"))
        .collect();
    let apis: Vec<Server> = folders[..2]
        .iter()
        .map(|dir| {
            Server::start_on_storage(dir.path(), remote.env(), &[("FLANEUR_NO_WORKERS", "true")])
        })
        .collect();
    let lease = ["--job-lease-secs", LEASE_SECS];
    // The first worker runs one job at a time, so that it holds exactly one when killed. The
    // other runs four: their claims often race, which the queue's row locks must settle (with
    // four, a claim without them was seen to hand one job to two of them).
    let doomed = Worker::start_on_storage(folders[2].path(), remote.env(), 1, &lease);
    let survivor = Worker::start_on_storage(folders[3].path(), remote.env(), 4, &lease);
    let catalog = Catalog::connect(&remote.db_url);
    let stop_watch = AtomicBool::new(false);
    progress(started, "2 API processes and 2 worker processes are up");

    // 2. The upload sets, each created on one API, with the walk cut into stretches.
    let files = walk();
    let per_set = PICTURES / SETS;
    let sets: Vec<String> = (0..SETS)
        .map(|s| apis[s % 2].create_upload_set(&format!("walk part {s}"), None))
        .collect();

    // 3. Files go to the API of their parity, so that each set's files are spread over both
    //    processes, through several client threads per API at once.
    let queues: Vec<Mutex<Vec<usize>>> = (0..2)
        .map(|api| Mutex::new((0..PICTURES).filter(|i| i % 2 == api).rev().collect()))
        .collect();
    let accepted = Mutex::new(HashMap::new());
    std::thread::scope(|scope| {
        let watcher = scope.spawn(|| watch_queue(&remote.db_url, &stop_watch));
        let uploaders: Vec<_> = (0..2 * CLIENTS_PER_API)
            .map(|client| {
                let api = client % 2;
                let (apis, sets, files, queues, accepted) =
                    (&apis, &sets, &files, &queues, &accepted);
                scope.spawn(move || {
                    loop {
                        let next = queues[api].lock().expect("queue").pop();
                        let Some(i) = next else { break };
                        let (name, bytes) = &files[i];
                        let set = &sets[i / per_set];
                        let (status, body) = apis[api].upload_bytes(set, name, bytes.clone());
                        assert_eq!(status, StatusCode::ACCEPTED, "{name}: {body}");
                        let id = body["picture_id"].as_str().expect("a picture id");
                        accepted.lock().expect("ids").insert(id.to_owned(), i);
                    }
                })
            })
            .collect();

        // 4. Meanwhile, the first worker is killed in the middle of a job.
        let restart = || Worker::start_on_storage(folders[2].path(), remote.env(), 1, &lease);
        let (killed, doomed_logs) = kill_one(doomed, restart, &catalog, started);

        for uploader in uploaders {
            uploader.join().expect("an upload thread");
        }
        let accepted = accepted.lock().expect("ids").clone();
        assert_eq!(
            accepted.len(),
            PICTURES,
            "each file became a picture of its own"
        );
        progress(
            started,
            &format!("{PICTURES} pictures uploaded through both APIs"),
        );

        // 5. Each set completed through the API that did not create it.
        for (s, set) in sets.iter().enumerate() {
            let (status, body) =
                apis[(s + 1) % 2].post_json(&format!("/upload_sets/{set}/complete"), &json!({}));
            assert_eq!(status, StatusCode::OK, "completing {set}: {body}");
        }

        // 6. Everything ready, the killed job included once its lease ran out.
        wait_ready(&apis[0], &sets, &catalog, &survivor, started);
        stop_watch.store(true, Ordering::Relaxed);
        let watch = watcher.join().expect("the queue watcher");
        progress(started, "every upload set is ready");

        check_api(&apis, &sets, &accepted, per_set);
        check_catalog(&catalog, &killed);
        check_history(&doomed_logs, &survivor.logs(), &killed, &watch, &accepted);
        check_bucket(&s3, &prefix, &catalog);
        progress(started, "API, catalog, job history and bucket agree");
    });
}

/// Every picture ready once, in the sequence of its set, in capture order, seen through
/// either API.
fn check_api(apis: &[Server], sets: &[String], accepted: &HashMap<String, usize>, per_set: usize) {
    let mut seen = BTreeSet::new();
    for (s, set) in sets.iter().enumerate() {
        let api = &apis[s % 2];
        let view = api.get_ok(&format!("/upload_sets/{set}"));
        assert_eq!(view["items_status"]["prepared"], json!(per_set), "{view}");
        for state in ["preparing", "broken", "not_processed"] {
            assert_eq!(view["items_status"][state], json!(0), "{state}: {view}");
        }
        let collections = view["associated_collections"]
            .as_array()
            .unwrap_or_else(|| panic!("no collections: {view}"));
        assert_eq!(collections.len(), 1, "one sequence per stretch: {view}");
        let collection = collections[0]["id"].as_str().expect("a collection id");

        // The other API shows the same sequence, its pictures in walk (capture) order.
        let items = apis[(s + 1) % 2].collection_items(collection);
        let order: Vec<usize> = items
            .iter()
            .map(|item| {
                assert_eq!(
                    item["properties"]["geovisio:status"],
                    json!("ready"),
                    "{item}"
                );
                let id = item["id"].as_str().expect("an item id");
                assert!(seen.insert(id.to_owned()), "{id} shown twice");
                *accepted
                    .get(id)
                    .unwrap_or_else(|| panic!("{id} was never uploaded"))
            })
            .collect();
        let expected: Vec<usize> = (s * per_set..(s + 1) * per_set).collect();
        assert_eq!(order, expected, "sequence {collection} of set {set}");
    }
    assert_eq!(seen.len(), PICTURES);
}

/// The catalog's own account: one row per picture, each ready and ranked once, every file
/// accepted, no job left.
fn check_catalog(catalog: &Catalog, killed: &KilledJob) {
    let total = i64::try_from(PICTURES).expect("a small count");
    assert_eq!(
        catalog.counts(
            "SELECT count(*), count(DISTINCT content_md5),
                    count(*) FILTER (WHERE status = 'ready'),
                    count(*) FILTER (WHERE process_error IS NOT NULL)
             FROM pictures"
        ),
        [total, total, total, 0],
        "pictures: rows, distinct files, ready, with an error"
    );
    assert_eq!(
        catalog.counts(
            "SELECT count(*), count(DISTINCT picture_id),
                    count(*) FILTER (WHERE rejection_reason IS NOT NULL)
             FROM files"
        ),
        [total, total, 0],
        "files: rows, pictures, refused"
    );
    assert_eq!(
        catalog.counts(
            "SELECT count(*), count(DISTINCT picture_id), count(DISTINCT sequence_id)
             FROM sequence_pictures"
        ),
        [total, total, i64::try_from(SETS).expect("a small count")],
        "ranks: rows, pictures, sequences"
    );
    assert_eq!(
        catalog.jobs(),
        [],
        "no job left, claimed or failed (killed: {:?})",
        killed.row
    );
}

/// Each job ran once to its end, but the killed one, which ran again once, at the next
/// attempt, in the surviving worker. The workers' logs give every run; the queue, which
/// forgets a job once it is done, was watched while the jobs ran and must agree.
fn check_history(
    doomed_logs: &[String],
    survivor_logs: &str,
    killed: &KilledJob,
    watch: &QueueWatch,
    accepted: &HashMap<String, usize>,
) {
    let (kind, target, attempt) = &killed.run;
    let mut starts: BTreeMap<(String, String), Vec<(&str, i64)>> = BTreeMap::new();
    for (who, logs) in doomed_logs
        .iter()
        .map(|logs| ("killed", logs.as_str()))
        .chain([("survivor", survivor_logs)])
    {
        for (kind, target, attempt) in runs(logs, "job started") {
            starts
                .entry((kind, target))
                .or_default()
                .push((who, attempt));
        }
    }

    // Every picture prepared and each set dispatched, nothing else.
    let prepared: BTreeSet<&str> = starts
        .keys()
        .filter(|(kind, _)| kind == "prepare")
        .map(|(_, target)| target.as_str())
        .collect();
    let uploaded: BTreeSet<&str> = accepted.keys().map(String::as_str).collect();
    assert_eq!(prepared, uploaded, "one prepare job per picture");
    let kinds: BTreeSet<&str> = starts.keys().map(|(kind, _)| kind.as_str()).collect();
    assert_eq!(kinds, BTreeSet::from(["dispatch", "prepare"]));
    let dispatched = starts.keys().filter(|(kind, _)| kind == "dispatch").count();
    assert_eq!(dispatched, SETS, "one dispatch job per set");

    // One start each, at the first attempt; the killed job twice, the second time in the
    // survivor at the next attempt.
    let killed_key = (kind.clone(), target.clone());
    for (job, runs) in &starts {
        if *job == killed_key {
            assert_eq!(
                runs,
                &[("killed", *attempt), ("survivor", attempt + 1)],
                "{job:?}"
            );
        } else {
            let attempts: Vec<i64> = runs.iter().map(|(_, attempt)| *attempt).collect();
            assert_eq!(attempts, [1], "{job:?} ran {runs:?}");
        }
    }
    let done = runs(survivor_logs, "job done");
    assert!(
        done.contains(&(kind.clone(), target.clone(), attempt + 1)),
        "the killed job was done again: {done:?}"
    );

    // The queue agrees: no job ever reached a second attempt but the killed one, and none
    // failed.
    assert!(watch.samples > 0, "the queue was never read");
    for (job, max) in &watch.max_attempts {
        let limit = if *job == killed_key { attempt + 1 } else { 1 };
        assert!(*max <= limit, "{job:?} reached attempt {max}");
    }
    assert!(watch.errors.is_empty(), "jobs failed: {:#?}", watch.errors);
}

/// The bucket holds exactly what the ready pictures need: each original and its thumbnail.
/// These pictures are 1920 px wide and upright, so they get no SD copy (their original serves
/// as one) and, being flat, no tiles.
fn check_bucket(s3: &S3Env, prefix: &str, catalog: &Catalog) {
    let mut expected = BTreeSet::new();
    for id in catalog.pictures_in("ready") {
        let id: PictureId = id.parse().expect("a picture id");
        expected.insert(blob_keys::original(id));
        expected.insert(blob_keys::derivative(id, "thumb.jpg"));
    }
    let store = bucket(s3, prefix);
    let listed: Vec<String> = block_on(async {
        store
            .list("")
            .await
            .expect("list the prefix")
            .try_collect()
            .await
            .expect("the listing reads to its end")
    });
    let stored: BTreeSet<String> = listed.iter().cloned().collect();
    assert_eq!(stored.len(), listed.len(), "a key listed twice");
    let orphans: Vec<_> = stored.difference(&expected).take(10).collect();
    let missing: Vec<_> = expected.difference(&stored).take(10).collect();
    assert!(
        orphans.is_empty() && missing.is_empty(),
        "{} objects for {} expected; orphans {orphans:?}, missing {missing:?}",
        stored.len(),
        expected.len()
    );
    assert_eq!(stored.len(), 2 * PICTURES);
}
