//! Who sees what over HTTP: every read route leaves out a sequence and pictures hidden from
//! the caller, answers 404 for them as for unknown ids, and lists the sequence as deleted
//! among tombstones; anonymous callers first, then accounts with their tokens.

use reqwest::StatusCode;
use reqwest::blocking::{Response, multipart};
use reqwest::header;
use serde_json::{Value, json};

use crate::accounts::{account_with_token, bearer, client, get_as, post_as};
use crate::server::{READY_DEADLINE, Server, json_of, poll};
use crate::tiles::{GOPRO_AT, tile_path};
use crate::{GOPRO, pictures};

/// Uploads `names` into a new upload set seen by `visibility`, waits until they are published
/// and returns the set, its sequence and its pictures.
fn publish(server: &Server, names: &[&str], visibility: &str) -> (String, String, Vec<String>) {
    let body = json!({
        "title": visibility,
        "visibility": visibility,
        "estimated_nb_files": names.len(),
    });
    let (_, set) = server.post_json("/upload_sets", &body);
    let set = set["id"].as_str().expect("upload set id").to_owned();
    let ids = server.upload_all(&set, &pictures(names));
    let sequence = if visibility == "anyone" {
        let ready = server.wait_ready(&set);
        ready["associated_collections"][0]["id"]
            .as_str()
            .expect("collection id")
            .to_owned()
    } else {
        server.wait_ready_hidden(&set)
    };
    (set, sequence, ids)
}

/// Whether `text` names none of `ids`.
fn names_none(text: &str, ids: &[&String]) -> bool {
    ids.iter().all(|id| !text.contains(id.as_str()))
}

#[test]
fn anonymous_callers_never_read_what_is_hidden_from_them() {
    let server = Server::start();
    let (hidden_set, hidden, hidden_pictures) = publish(&server, &GOPRO[..3], "owner-only");
    let (_, public, public_pictures) = publish(&server, &GOPRO[3..], "anyone");
    let mut secrets: Vec<&String> = hidden_pictures.iter().collect();
    secrets.push(&hidden);

    // By id: the same 404 as for an id that names nothing, for the sequence, its pictures,
    // their files and tiles, and the upload set.
    let mut paths = vec![
        format!("/collections/{hidden}"),
        format!("/collections/{hidden}/items"),
        format!("/collections/{hidden}/geovisio_status"),
        format!("/collections/{hidden}/thumb.jpg"),
        format!("/upload_sets/{hidden_set}"),
        format!("/upload_sets/{hidden_set}/files"),
    ];
    for id in &hidden_pictures {
        paths.push(format!("/pictures/{id}"));
        paths.push(format!("/collections/{hidden}/items/{id}"));
        paths.push(format!("/collections/{public}/items/{id}"));
        for file in ["hd.jpg", "sd.jpg", "thumb.jpg", "tiled/0_0.jpg"] {
            paths.push(format!("/pictures/{id}/{file}"));
        }
    }
    for path in &paths {
        let response = server.get_url(&server.url(path));
        let status = response.status();
        let body = response.text().unwrap_or_default();
        assert_eq!(status.as_u16(), 404, "GET {path}: {body}");
    }

    // In lists: search (GET and POST, by area and by id), collections, the feed, the
    // account's listings, and the links of the public items.
    let mut reads = vec![
        "/search?bbox=1.9,49.0,1.93,49.01&limit=100".to_owned(),
        format!("/search?ids={}", hidden_pictures.join(",")),
        format!("/search?collections={hidden}"),
        "/collections?limit=1000".to_owned(),
        "/collections?format=rss".to_owned(),
    ];
    let collection = server.get_ok(&format!("/collections/{public}"));
    let account = collection["providers"][0]["id"]
        .as_str()
        .expect("account id");
    reads.push(format!("/users/{account}/collection"));
    reads.push(format!("/users/{account}/collection?format=csv"));
    reads.push(format!("/users/{account}/catalog"));
    for id in &public_pictures {
        reads.push(format!("/pictures/{id}"));
    }
    reads.push(format!("/collections/{public}/items"));
    for path in &reads {
        let response = server.get_url(&server.url(path));
        assert!(response.status().is_success(), "GET {path}");
        let body = response.text().expect("body");
        assert!(names_none(&body, &secrets), "GET {path}: {body}");
    }
    let found = server.get_ok("/search?bbox=1.9,49.0,1.93,49.01&limit=100");
    assert_eq!(
        found["features"].as_array().map(Vec::len),
        Some(public_pictures.len()),
        "{found}"
    );
    let body = json!({ "ids": hidden_pictures, "bbox": [1.9, 49.0, 1.93, 49.01] });
    let (status, found) = server.post_json("/search", &body);
    assert_eq!(status.as_u16(), 200, "{found}");
    assert_eq!(found["features"], json!([]), "{found}");

    // Among tombstones, the hidden sequence is a deleted one, and nothing more.
    let listed = server.get_ok("/collections?show_deleted=true&limit=1000");
    let rows = listed["collections"].as_array().expect("collections");
    let tombstone: Vec<&Value> = rows.iter().filter(|c| c["id"] == json!(hidden)).collect();
    let updated = tombstone.first().map_or(&Value::Null, |c| &c["updated"]);
    assert!(updated.is_string(), "{listed}");
    assert_eq!(
        tombstone,
        [&json!({ "id": hidden, "geovisio:status": "deleted", "updated": updated })],
        "{listed}"
    );

    // Map tiles: nothing of the hidden pictures at any zoom, and publicly cacheable.
    for z in [6, 10, 14, 15] {
        let path = tile_path(z, GOPRO_AT);
        let response = server.get_url(&server.url(&path));
        assert_eq!(response.status().as_u16(), 200, "GET {path}");
        let cache = response.headers()[header::CACHE_CONTROL].clone();
        assert!(
            cache.to_str().is_ok_and(|c| c.starts_with("public")),
            "{cache:?}"
        );
        let bytes = response.bytes().expect("tile");
        let text = String::from_utf8_lossy(&bytes);
        assert!(names_none(&text, &secrets), "GET {path}");
        if z == 15 {
            assert!(
                text.contains(public.as_str()),
                "GET {path}: the public sequence"
            );
        }
    }
}

/// Who reads in [`each_caller_reads_what_the_rule_lets_it_see`]: a name and a token, or
/// `anonymous`.
struct Caller {
    name: &'static str,
    token: String,
}

impl Caller {
    fn get(&self, server: &Server, path: &str) -> Response {
        bearer(client().get(server.url(path)), &self.token)
            .send()
            .unwrap_or_else(|e| panic!("GET {path} as {}: {e}", self.name))
    }

    fn get_json(&self, server: &Server, path: &str) -> (StatusCode, Value) {
        get_as(server, path, &self.token)
    }
}

/// Uploads `names` with `token` into a new upload set seen by `visibility`, waits until its
/// owner sees it ready, and returns the set, its sequence and its pictures.
pub(crate) fn publish_as(
    server: &Server,
    token: &str,
    names: &[&str],
    visibility: &str,
) -> (String, String, Vec<String>) {
    let body = json!({
        "title": visibility,
        "visibility": visibility,
        "estimated_nb_files": names.len(),
    });
    let (status, set) = post_as(server, "/upload_sets", token, &body);
    assert_eq!(status, StatusCode::OK, "{set}");
    let set = set["id"].as_str().expect("upload set id").to_owned();
    let mut ids = Vec::new();
    for path in pictures(names) {
        let name = path.file_name().and_then(|n| n.to_str()).expect("name");
        let part = multipart::Part::bytes(std::fs::read(&path).expect("picture"))
            .file_name(name.to_owned())
            .mime_str("image/jpeg")
            .expect("mime");
        let form = multipart::Form::new().part("file", part);
        let url = server.url(&format!("/upload_sets/{set}/files"));
        let (status, body) = json_of(
            bearer(client().post(url), token)
                .multipart(form)
                .send()
                .expect("POST file"),
        );
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        ids.push(body["picture_id"].as_str().expect("picture id").to_owned());
    }
    let ready = poll(READY_DEADLINE, "upload set ready", || {
        let (_, body) = get_as(server, &format!("/upload_sets/{set}"), token);
        (body["ready"] == json!(true)).then_some(body)
    })
    .unwrap_or_else(|last| panic!("{last}\nlogs:\n{}", server.logs()));
    let sequence = ready["associated_collections"][0]["id"]
        .as_str()
        .expect("collection id")
        .to_owned();
    (set, sequence, ids)
}

#[test]
fn each_caller_reads_what_the_rule_lets_it_see() {
    let dir = tempfile::tempdir().expect("data folder");
    let ana = account_with_token(dir.path(), "ana", false);
    let bob = account_with_token(dir.path(), "bob", false);
    let root = account_with_token(dir.path(), "root", true);
    let server = Server::start_in(dir.path());
    let (_, me) = get_as(&server, "/users/me", &ana);
    let ana_id = me["id"].as_str().expect("account id").to_owned();

    // Ana's sequences at each level, in the same place.
    let own = publish_as(&server, &ana, &GOPRO[..2], "owner-only");
    let logged = publish_as(&server, &ana, &GOPRO[2..3], "logged-only");
    let public = publish_as(&server, &ana, &GOPRO[3..], "anyone");

    let callers = [
        Caller {
            name: "anonymous",
            token: "anonymous".to_owned(),
        },
        Caller {
            name: "another account",
            token: bob,
        },
        Caller {
            name: "the owner",
            token: ana,
        },
        Caller {
            name: "an administrator",
            token: root,
        },
    ];
    for (n, caller) in callers.iter().enumerate() {
        let who = caller.name;
        // Whether this caller sees each of the sequences: the owner-only one from the owner
        // on, the logged-only one from any account on, the public one always.
        let sees = [
            (n >= 2, "owner-only", &own),
            (n >= 1, "logged-only", &logged),
            (true, "anyone", &public),
        ];
        let mut seen_pictures = 0;
        for (sees, level, (set, sequence, ids)) in sees {
            let expected = if sees { 200 } else { 404 };
            let mut paths = vec![
                format!("/upload_sets/{set}"),
                format!("/collections/{sequence}"),
                format!("/collections/{sequence}/items"),
                format!("/collections/{sequence}/geovisio_status"),
                format!("/collections/{sequence}/thumb.jpg"),
            ];
            for id in ids {
                paths.push(format!("/pictures/{id}"));
                paths.push(format!("/pictures/{id}/hd.jpg"));
                paths.push(format!("/pictures/{id}/thumb.jpg"));
                paths.push(format!("/pictures/{id}/tiled/0_0.jpg"));
            }
            for path in &paths {
                let response = caller.get(&server, path);
                assert_eq!(response.status().as_u16(), expected, "GET {path} as {who}");
            }
            if sees {
                seen_pictures += ids.len();
                // Files of restricted pictures are never kept by shared caches.
                let response = caller.get(&server, &format!("/pictures/{}/thumb.jpg", ids[0]));
                let cache = response.headers()[header::CACHE_CONTROL]
                    .to_str()
                    .unwrap_or("");
                assert_eq!(cache.starts_with("public"), n == 0, "{cache} as {who}");
                // Only the owner and administrators learn which picture a file became.
                let (_, files) = caller.get_json(&server, &format!("/upload_sets/{set}/files"));
                let told = files["files"][0]["picture_id"].is_string();
                assert_eq!(told, n >= 2, "{files} as {who}");
            }

            // Lists: search, collections (with tombstones), the feed, the owner's listing,
            // and tiles.
            let (_, found) = caller.get_json(&server, &format!("/search?collections={sequence}"));
            let found = found["features"].as_array().map_or(0, Vec::len);
            assert_eq!(found, if sees { ids.len() } else { 0 }, "search as {who}");
            for path in [
                "/collections?limit=1000".to_owned(),
                "/collections?format=rss".to_owned(),
                format!("/users/{ana_id}/collection"),
                format!("/users/{ana_id}/collection?format=csv"),
                format!("/users/{ana_id}/catalog"),
            ] {
                let text = caller.get(&server, &path).text().expect("body");
                assert_eq!(
                    text.contains(sequence.as_str()),
                    sees,
                    "GET {path} as {who}"
                );
            }
            // The account's listing tells its owner and administrators each sequence's state
            // and visibility, and no one else.
            let (_, listing) = caller.get_json(&server, &format!("/users/{ana_id}/collection"));
            let child = listing["links"]
                .as_array()
                .and_then(|links| links.iter().find(|l| l["id"] == json!(sequence)))
                .cloned();
            assert_eq!(child.is_some(), sees, "listing as {who}: {listing}");
            if let Some(child) = child {
                let told = |key: &str| child.get(key).cloned();
                let (status, visibility) = if n >= 2 {
                    (Some(json!("ready")), Some(json!(level)))
                } else {
                    (None, None)
                };
                assert_eq!(told("geovisio:status"), status, "listing as {who}: {child}");
                assert_eq!(
                    told("geovisio:visibility"),
                    visibility,
                    "listing as {who}: {child}"
                );
            }
            let (_, listed) = caller.get_json(&server, "/collections?show_deleted=true");
            let row = listed["collections"]
                .as_array()
                .and_then(|rows| rows.iter().find(|c| c["id"] == json!(sequence)))
                .cloned();
            let is_tombstone = row.is_some_and(|c| c["geovisio:status"] == json!("deleted"));
            assert_eq!(is_tombstone, !sees, "tombstones as {who}: {listed}");
            // At z15 every picture names its sequence (a one-picture sequence draws no line).
            let path = tile_path(15, GOPRO_AT);
            let tile = caller.get(&server, &path).bytes().expect("tile");
            let text = String::from_utf8_lossy(&tile);
            assert_eq!(
                text.contains(sequence.as_str()),
                sees,
                "GET {path} as {who}"
            );
        }
        let (_, found) = caller.get_json(&server, "/search?bbox=1.9,49.0,1.93,49.01");
        let found = found["features"].as_array().map_or(0, Vec::len);
        assert_eq!(found, seen_pictures, "search by area as {who}");

        // Tiles drawn for an account are private to it, and an anonymous tile a client holds
        // is never confirmed to an account as current.
        let path = tile_path(15, GOPRO_AT);
        let tile = caller.get(&server, &path);
        let cache = tile.headers()[header::CACHE_CONTROL].to_str().unwrap_or("");
        assert_eq!(cache.starts_with("public"), n == 0, "{cache} as {who}");
        if n > 0 {
            let anonymous = callers[0].get(&server, &path);
            let etag = anonymous.headers()[header::ETAG].clone();
            let revalidated = bearer(client().get(server.url(&path)), &caller.token)
                .header(header::IF_NONE_MATCH, etag)
                .send()
                .expect("GET");
            assert_eq!(revalidated.status(), StatusCode::OK, "tile as {who}");
        }
    }
}
