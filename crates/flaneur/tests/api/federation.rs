//! Federation between two real instances on loopback: a peer with uploaded pictures, and a
//! catalog declaring it (`flaneur peer add`, or `--peer` at start) and harvesting it (`flaneur
//! harvest`, or on its own) into its catalog, listed by `/api/federation/peers`; pausing and
//! removing a peer from the command line.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::accounts::{account_with_token, bearer, client, get_as};
use crate::server::{Server, json_of, link, poll};
use crate::tiles::{features, fetch_tile, tile_path};
use crate::{GOPRO, pictures};

/// Runs `flaneur ARGS` on the catalog of `data_dir` (as the run's backend keeps it).
fn flaneur(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flaneur"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .envs(crate::backend::storage_env(data_dir))
        .env("RUST_LOG", "warn")
        .output()
        .expect("flaneur runs")
}

/// Runs `flaneur ARGS` expecting the exit code `code`; returns its stdout.
pub(crate) fn flaneur_exits(data_dir: &Path, args: &[&str], code: i32) -> String {
    let output = flaneur(data_dir, args);
    assert_eq!(
        output.status.code(),
        Some(code),
        "flaneur {args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// The peers the catalog lists, as `token` reads them.
fn peers(server: &Server, token: &str) -> Vec<Value> {
    let (status, body) = get_as(server, "/federation/peers", token);
    assert_eq!(status, StatusCode::OK, "{body}");
    body["peers"].as_array().expect("peers").clone()
}

/// A peer instance holding one public sequence of the five GoPro pictures; its id.
fn peer_with_pictures() -> (Server, String) {
    let peer = Server::start();
    let collection = peer.upload_sequence("at the peer", &pictures(&GOPRO), "anyone");
    (peer, collection)
}

/// The first line of `flaneur peer list`, naming its columns.
const LIST_HEADER: &str = "api_url\tsource\tstate\tnb_collections\tnb_items\t\
                           last_success_at\tfailures\tlast_error\tnb_conflicts\tharvesting_until";

/// The line of `flaneur peer list` for the peer at `api`, as its columns by name.
fn listed_peer(data_dir: &Path, api: &str) -> std::collections::HashMap<String, String> {
    let listed = flaneur_exits(data_dir, &["peer", "list"], 0);
    let mut lines = listed.lines();
    let names: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let line = lines
        .find(|l| l.starts_with(&format!("{api}\t")))
        .unwrap_or_else(|| panic!("{api} not listed:\n{listed}"));
    let values: Vec<&str> = line.split('\t').collect();
    assert_eq!(values.len(), names.len(), "{listed}");
    names
        .into_iter()
        .zip(values)
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

#[test]
fn peers_are_added_paused_resumed_and_removed_from_the_command_line() {
    let dir = tempfile::tempdir().expect("data folder");
    let data = dir.path();
    let url = "http://127.0.0.1:9/api";

    assert_eq!(
        flaneur_exits(data, &["peer", "add", "http://127.0.0.1:9/api/"], 0),
        format!("{url}\tadded\n")
    );
    flaneur_exits(data, &["peer", "add", "ftp://127.0.0.1:9/api"], 2);
    flaneur_exits(data, &["peer", "pause", url], 0);
    let listed = flaneur_exits(data, &["peer", "list"], 0);
    assert_eq!(
        listed,
        format!("{LIST_HEADER}\n{url}\tadmin\tpaused\t0\t0\t-\t0\t-\t0\t-\n")
    );

    // A paused peer is left out of a pass: nothing is asked of it, and it records no failure
    // although nothing listens at its address.
    assert_eq!(flaneur_exits(data, &["harvest"], 0), "");
    assert!(flaneur_exits(data, &["peer", "list"], 0).contains("\tpaused\t0\t0\t-\t0\t-\t0"));

    // Resumed, it is harvested, and its failure is told by the exit code and the list.
    flaneur_exits(data, &["peer", "resume", url], 0);
    let report = flaneur_exits(data, &["harvest"], 1);
    assert!(report.starts_with(&format!("{url}\tfailed: ")), "{report}");
    let listed = flaneur_exits(data, &["peer", "list"], 0);
    assert!(listed.contains("\tactive\t0\t0\t-\t1\t"), "{listed}");

    flaneur_exits(data, &["peer", "remove", url], 0);
    assert_eq!(
        flaneur_exits(data, &["peer", "list"], 0),
        format!("{LIST_HEADER}\n")
    );
    flaneur_exits(data, &["peer", "remove", url], 1);
    flaneur_exits(data, &["harvest", "--peer", url], 1);
}

/// Runs `flaneur ARGS` on an SQLite catalog in `data_dir`, whatever the run's backend, expecting
/// the exit code `code`; returns its standard error.
fn flaneur_on_folder(data_dir: &Path, args: &[&str], code: i32) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_flaneur"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("DB_URL")
        .env("RUST_LOG", "warn")
        .output()
        .expect("flaneur runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(code),
        "flaneur {args:?}: {stderr}"
    );
    stderr
}

#[test]
fn a_peer_at_a_site_address_is_refused_naming_its_api_root() {
    let dir = tempfile::tempdir().expect("data folder");
    let err = flaneur_on_folder(dir.path(), &["peer", "add", "http://127.0.0.1:9/"], 2);
    assert!(
        err.contains("API root") && err.contains("http://127.0.0.1:9/api"),
        "{err}"
    );
    // Refused before anything is made.
    assert!(!dir.path().join("catalog.sqlite").exists());
}

#[test]
fn peer_commands_on_a_folder_without_a_catalog_refuse_naming_it() {
    let dir = tempfile::tempdir().expect("data folder");
    let mistyped = dir.path().join("mistyped");
    let url = "http://127.0.0.1:9/api";
    for args in [
        &["peer", "list"][..],
        &["peer", "pause", url],
        &["peer", "resume", url],
        &["peer", "remove", url],
    ] {
        let err = flaneur_on_folder(&mistyped, args, 2);
        assert!(
            err.contains(&mistyped.display().to_string()) && err.contains("no catalog"),
            "{args:?}: {err}"
        );
        assert!(!mistyped.exists(), "{args:?} made {}", mistyped.display());
    }

    // Once a peer is declared there, the catalog exists and is read.
    flaneur_on_folder(&mistyped, &["peer", "add", url], 0);
    flaneur_on_folder(&mistyped, &["peer", "list"], 0);
}

#[test]
fn a_harvested_peer_is_served_counted_and_removed_with_its_data() {
    let (peer, collection) = peer_with_pictures();
    let dir = tempfile::tempdir().expect("catalog data folder");
    let data = dir.path();

    // 1. Declared and harvested from the command line, before the catalog serves.
    flaneur_exits(data, &["peer", "add", &peer.api], 0);
    let report = flaneur_exits(data, &["harvest"], 0);
    assert!(
        report.starts_with(&format!("{}\tharvested\tapplied 1\t", peer.api)),
        "{report}"
    );
    assert!(report.contains("\titems 5\t"), "{report}");

    // 2. The catalog lists the peer with its counts; only administrators read its last error.
    let catalog = Server::start_in(data);
    let listed = peers(&catalog, "anonymous");
    assert_eq!(listed.len(), 1, "{listed:?}");
    let shown = &listed[0];
    assert_eq!(shown["api_url"], json!(peer.api));
    assert_eq!(shown["source"], json!("admin"));
    assert_eq!(shown["paused"], json!(false));
    assert_eq!(shown["failures"], json!(0));
    assert_eq!(shown["nb_collections"], json!(1));
    assert_eq!(shown["nb_items"], json!(5));
    assert!(shown["last_success_at"].is_string(), "{shown}");
    assert!(shown["next_attempt_at"].is_string(), "{shown}");
    // The pass ended: no harvest holds the peer.
    assert_eq!(shown["harvesting_until"], json!(null), "{shown}");
    assert!(shown.get("last_error").is_none(), "{shown}");
    let admin = account_with_token(data, "operator", true);
    assert_eq!(peers(&catalog, &admin)[0]["last_error"], json!(null));

    // 3. The peer's pictures are found in the catalog's search.
    let found = |server: &Server| {
        let (status, page) = server.get_json(&format!("/search?collections={collection}"));
        assert_eq!(status, StatusCode::OK, "{page}");
        page["features"].as_array().map_or(0, Vec::len)
    };
    assert_eq!(found(&catalog), 5);
    shows_as_remote(&catalog, &peer, &collection);
    refuses_changes(&catalog, &admin, &collection, &peer.api);

    // 4. Paused, the peer is left out of a pass, and what was harvested stays served.
    flaneur_exits(data, &["peer", "pause", &peer.api], 0);
    let paused = &peers(&catalog, "anonymous")[0];
    assert_eq!(paused["paused"], json!(true));
    assert_eq!(paused["next_attempt_at"], json!(null), "{paused}");
    assert_eq!(flaneur_exits(data, &["harvest"], 0), "");
    assert_eq!(found(&catalog), 5);

    // 5. Removed, the peer and everything harvested from it go, from the map too: the
    //    tile drawn before is not served again from the cache.
    let first = catalog.collection_items(&collection)[0]["geometry"]["coordinates"].clone();
    let at = (
        first[0].as_f64().expect("lon"),
        first[1].as_f64().expect("lat"),
    );
    let on_map =
        |server: &Server| features(&fetch_tile(server, &tile_path(15, at)), "pictures").len();
    assert_eq!(on_map(&catalog), 5);
    let removed = flaneur_exits(data, &["peer", "remove", &peer.api], 0);
    assert!(
        removed.contains("with 1 collections and 5 items"),
        "{removed}"
    );
    assert!(peers(&catalog, "anonymous").is_empty());
    assert_eq!(found(&catalog), 0);
    assert_eq!(on_map(&catalog), 0);
}

/// O → R → C, then C also harvests O: C serves O as the origin whether it read the
/// collection through the relay R or from O itself, holds it once, and counts no conflict.
#[test]
fn a_catalog_harvesting_a_relay_serves_the_origin_and_takes_the_origins_own_copy() {
    let (origin, collection) = peer_with_pictures();
    let relay_dir = tempfile::tempdir().expect("relay data folder");
    flaneur_exits(relay_dir.path(), &["peer", "add", &origin.api], 0);
    flaneur_exits(relay_dir.path(), &["harvest"], 0);
    let relay = Server::start_in(relay_dir.path());
    let dir = tempfile::tempdir().expect("catalog data folder");
    let data = dir.path();

    // 1. Through the relay, the collection is served as the origin's.
    flaneur_exits(data, &["peer", "add", &relay.api], 0);
    let report = flaneur_exits(data, &["harvest"], 0);
    assert!(report.contains("\tapplied 1\t"), "{report}");
    let catalog = Server::start_in(data);
    shows_as_remote(&catalog, &origin, &collection);

    // 2. The origin's own copy takes the relay's place, then the relay's is left out quietly.
    flaneur_exits(data, &["peer", "add", &origin.api], 0);
    let line = |report: &str, api: &str| {
        let found = report.lines().find(|l| l.starts_with(&format!("{api}\t")));
        found
            .unwrap_or_else(|| panic!("no line for {api} in:\n{report}"))
            .to_owned()
    };
    let report = flaneur_exits(data, &["harvest"], 0);
    let taken = line(&report, &origin.api);
    assert!(taken.contains("\tapplied 1\t"), "{report}");
    assert!(taken.contains("\tconflicting 0\t"), "{report}");
    let report = flaneur_exits(data, &["harvest"], 0);
    let relayed = line(&report, &relay.api);
    assert!(relayed.contains("\tconflicting 0\trelayed 1\t"), "{report}");
    shows_as_remote(&catalog, &origin, &collection);

    // 3. Held once, from the origin, with no conflict at either peer.
    let listed = peers(&catalog, "anonymous");
    let counts = |api: &str| {
        let peer = listed
            .iter()
            .find(|p| p["api_url"] == json!(api))
            .expect("peer listed");
        (
            peer["nb_collections"].clone(),
            peer["nb_items"].clone(),
            peer["nb_conflicts"].clone(),
        )
    };
    assert_eq!(counts(&origin.api), (json!(1), json!(5), json!(0)));
    assert_eq!(counts(&relay.api), (json!(0), json!(0), json!(0)));
    let (_, page) = catalog.get_json(&format!("/search?collections={collection}"));
    assert_eq!(page["features"].as_array().map(Vec::len), Some(5), "{page}");
}

/// The link of `rel` in a document.
fn href(document: &Value, rel: &str) -> String {
    link(document, rel).unwrap_or_else(|| panic!("no {rel} link in {document}"))
}

/// The catalog serves the peer's collection and items as the peer sent them, with links of
/// its own, a `via` link to the peer's document and `flaneur:origin`; the files stay at the
/// peer; changes are refused. The peer's own documents carry none of it.
fn shows_as_remote(catalog: &Server, peer: &Server, collection: &str) {
    let at_peer = |path: &str| format!("{}{path}", peer.api);
    let here = |path: &str| catalog.url(path);

    let shown = catalog.get_ok(&format!("/collections/{collection}"));
    assert_eq!(shown["flaneur:origin"], json!(peer.api), "{shown}");
    assert_eq!(
        href(&shown, "self"),
        here(&format!("/collections/{collection}"))
    );
    // `via` names the instance's root, as the Panoramax viewer reads it; `alternate` the
    // document there.
    let peer_root = peer.api.strip_suffix("/api").expect("peer API root");
    assert_eq!(href(&shown, "via"), peer_root);
    assert_eq!(
        href(&shown, "alternate"),
        at_peer(&format!("/collections/{collection}"))
    );
    let original = peer.get_ok(&format!("/collections/{collection}"));
    assert!(original.get("flaneur:origin").is_none(), "{original}");
    assert_eq!(shown["title"], original["title"]);

    let items = catalog.collection_items(collection);
    assert_eq!(items.len(), 5);
    for item in &items {
        let id = item["id"].as_str().expect("item id");
        let path = format!("/collections/{collection}/items/{id}");
        assert_eq!(
            item["properties"]["flaneur:origin"],
            json!(peer.api),
            "{item}"
        );
        assert_eq!(href(item, "self"), here(&path));
        assert_eq!(href(item, "via"), peer_root);
        assert_eq!(href(item, "alternate"), at_peer(&path));
        let hd = item["assets"]["hd"]["href"].as_str().expect("hd asset");
        assert!(hd.starts_with(&peer.api), "{hd}");
    }

    // The single item leads to its neighbours here.
    let second = items[1]["id"].as_str().expect("item id");
    let one = catalog.get_ok(&format!("/collections/{collection}/items/{second}"));
    let first = items[0]["id"].as_str().expect("item id");
    assert_eq!(
        href(&one, "prev"),
        here(&format!("/collections/{collection}/items/{first}"))
    );
    let original = peer.get_ok(&format!("/collections/{collection}/items/{second}"));
    assert!(original["properties"].get("flaneur:origin").is_none());

    // Search shows them alike.
    let (_, page) = catalog.get_json(&format!("/search?collections={collection}"));
    for item in page["features"].as_array().expect("features") {
        assert_eq!(
            item["properties"]["flaneur:origin"],
            json!(peer.api),
            "{item}"
        );
    }
}

/// Even an administrator of the catalog may not change, delete, annotate or report what it
/// harvested: the answer names the instance it comes from, where changes go.
fn refuses_changes(catalog: &Server, admin: &str, collection: &str, origin: &str) {
    let items = catalog.collection_items(collection);
    let item = items[0]["id"].as_str().expect("item id");
    let in_collection = format!("/collections/{collection}");
    let in_item = format!("{in_collection}/items/{item}");
    for (method, path, body) in [
        (Method::PATCH, in_item.clone(), json!({ "heading": 90 })),
        (Method::DELETE, in_item.clone(), json!(null)),
        (
            Method::PATCH,
            in_collection.clone(),
            json!({ "title": "mine" }),
        ),
        (Method::DELETE, in_collection.clone(), json!(null)),
        (
            Method::POST,
            format!("{in_item}/annotations"),
            json!({ "shape": [0, 0, 10, 10], "semantics": [{ "key": "a", "value": "b" }] }),
        ),
        (
            Method::POST,
            "/reports".to_owned(),
            json!({ "issue": "mislocated", "picture_id": item }),
        ),
        (
            Method::POST,
            "/reports".to_owned(),
            json!({ "issue": "mislocated", "sequence_id": collection }),
        ),
    ] {
        let (status, answer) = json_of(
            bearer(client().request(method.clone(), catalog.url(&path)), admin)
                .json(&body)
                .send()
                .expect("request"),
        );
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {answer}");
        let message = answer["message"].as_str().expect("message");
        assert!(message.contains("another instance"), "{message}");
        assert!(message.contains(origin), "{method} {path}: {message}");
        assert_eq!(answer["origin"], json!(origin), "{method} {path}: {answer}");
    }
    assert_eq!(catalog.collection_items(collection).len(), 5);

    // The files are the peer's: the catalog sends clients there.
    let hd = items[0]["assets"]["hd"]["href"].as_str().expect("hd asset");
    let no_redirect = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("client");
    let answer = no_redirect
        .get(catalog.url(&format!("/pictures/{item}/hd.jpg")))
        .send()
        .expect("GET");
    assert_eq!(answer.status(), StatusCode::FOUND);
    assert_eq!(answer.headers()["location"], hd);
}

#[test]
fn serve_harvests_its_configured_peers_on_its_own() {
    let (peer, _collection) = peer_with_pictures();
    let catalog = Server::start_with_env(&[("FLANEUR_PEERS", &peer.api)]);
    let harvested = poll(Duration::from_secs(60), "the peer harvested", || {
        let listed = peers(&catalog, "anonymous");
        (listed.first()?["nb_items"] == json!(5)).then_some(listed)
    })
    .unwrap_or_else(|last| panic!("{last}\nlogs:\n{}", catalog.logs()));
    assert_eq!(harvested[0]["source"], json!("config"));
    assert_eq!(harvested[0]["failures"], json!(0));
}

/// A peer that never answers holds up only its own pass: a peer declared while that pass
/// waits is harvested at the next look rather than after the first pass gives up, and
/// `flaneur harvest` leaves the peer to the pass holding it.
#[test]
fn a_peer_that_never_answers_holds_up_no_other_harvest() {
    // Accepts connections and keeps them open without a word, until the test ends.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("silent peer");
    let silent_url = format!("http://{}/api", silent.local_addr().expect("address"));
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in silent.incoming().flatten() {
            held.push(stream);
        }
    });

    let (peer, _collection) = peer_with_pictures();
    let dir = tempfile::tempdir().expect("data folder");
    let catalog = Server::start_in_with_env(
        dir.path(),
        &[
            ("FLANEUR_PEERS", &silent_url),
            ("FLANEUR_HARVEST_TIMEOUT_SECS", "600"),
        ],
    );
    poll(Duration::from_secs(30), "the silent peer asked", || {
        let listed = peers(&catalog, "anonymous");
        listed.first()?["last_attempt_at"]
            .as_str()
            .map(str::to_owned)
    })
    .unwrap_or_else(|last| panic!("{last}\nlogs:\n{}", catalog.logs()));

    // The server's pass holds the silent peer, and the list and the command line show until
    // when its lease runs unless renewed.
    let until = peers(&catalog, "anonymous")[0]["harvesting_until"].clone();
    let until: chrono::DateTime<chrono::Utc> = serde_json::from_value(until.clone())
        .unwrap_or_else(|e| panic!("harvesting_until {until}: {e}"));
    let listed = listed_peer(dir.path(), &silent_url);
    assert_eq!(
        listed["harvesting_until"],
        until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "{listed:?}"
    );

    // A pass from the command line leaves it to it, says so and exits with 3, rather than
    // wait on the peer beside it.
    let busy = flaneur_exits(dir.path(), &["harvest", "--peer", &silent_url], 3);
    assert!(
        busy.starts_with(&format!(
            "{silent_url}\tbusy: another harvest holds it (lease until "
        )),
        "{busy}"
    );

    flaneur_exits(dir.path(), &["peer", "add", &peer.api], 0);
    let other = poll(Duration::from_secs(60), "the other peer harvested", || {
        let listed = peers(&catalog, "anonymous");
        let other = listed.iter().find(|p| p["api_url"] == json!(peer.api))?;
        let is_ended = other["last_success_at"].is_string();
        (other["nb_items"] == json!(5) && is_ended).then(|| other.clone())
    })
    .unwrap_or_else(|last| panic!("{last:?}\nlogs:\n{}", catalog.logs()));
    // Its pass ended, freeing it in the same write, while the silent peer is still held.
    assert_eq!(other["harvesting_until"], json!(null), "{other}");
    assert_eq!(listed_peer(dir.path(), &peer.api)["harvesting_until"], "-");
    assert!(peers(&catalog, "anonymous")[0]["harvesting_until"].is_string());
}
