//! Durability: what was acknowledged before a crash (SIGKILL) is there after a restart on the
//! same data folder, and its processing resumes.

use reqwest::StatusCode;
use serde_json::json;

use crate::pictures;
use crate::server::Server;

#[test]
fn an_acknowledged_upload_survives_sigkill_and_ends_in_a_ready_sequence() {
    let data = tempfile::tempdir().expect("data folder");
    let file = pictures(&["e1.jpg"]).remove(0);

    let server = Server::start_in(data.path());
    let set = server.create_upload_set("crash", None);
    let (status, added) = server.upload_file(&set, &file);
    assert_eq!(status, StatusCode::ACCEPTED, "{added}");
    server.kill();

    let server = Server::start_in(data.path());
    let files = server.get_ok(&format!("/upload_sets/{set}/files"));
    let names: Vec<_> = files["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["file_name"].clone())
        .collect();
    assert_eq!(names, [json!("e1.jpg")], "{files}");

    let (status, body) = server.post_json(&format!("/upload_sets/{set}/complete"), &json!({}));
    assert_eq!(status, StatusCode::OK, "{body}");
    let set_json = server.wait_ready(&set);
    let collections = set_json["associated_collections"]
        .as_array()
        .expect("associated_collections");
    assert_eq!(collections.len(), 1, "{set_json}");
    let collection = collections[0]["id"].as_str().expect("collection id");
    let items = server.collection_items(collection);
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["id"], added["picture_id"]);
    assert_eq!(items[0]["properties"]["geovisio:status"], json!("ready"));
    let hd = items[0]["assets"]["hd"]["href"].as_str().expect("hd asset");
    let original = std::fs::read(&file).expect("original picture");
    assert!(
        server.get_bytes(hd) == original,
        "hd.jpg differs after the restart"
    );
}
