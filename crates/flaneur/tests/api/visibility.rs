//! What nobody logged in sees: every read route leaves out a sequence hidden from anonymous
//! callers and its pictures, answers 404 for them as for unknown ids, and lists the sequence
//! as deleted among tombstones.

use reqwest::header;
use serde_json::{Value, json};

use crate::server::Server;
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
    assert_eq!(
        tombstone,
        [&json!({ "id": hidden, "geovisio:status": "deleted" })],
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
