//! `/api/collections/{id}/geovisio_status`: the processing status of a sequence's pictures.

use reqwest::StatusCode;
use serde_json::json;

use crate::server::Server;
use crate::{GOPRO, pictures};

#[test]
fn status_lists_every_picture_in_rank_order() {
    let server = Server::start();
    let set = server.create_upload_set("status", Some(5));
    let uploaded = server.upload_all(&set, &pictures(&GOPRO));
    let set_json = server.wait_ready(&set);
    let collection = set_json["associated_collections"][0]["id"]
        .as_str()
        .expect("collection id");

    let status = server.get_ok(&format!("/collections/{collection}/geovisio_status"));
    assert_eq!(status["status"], json!("ready"), "{status}");
    let items = status["items"].as_array().expect("items");
    let ids: Vec<&str> = items.iter().filter_map(|i| i["id"].as_str()).collect();
    assert_eq!(ids, uploaded, "pictures in capture order: {status}");
    for (i, item) in items.iter().enumerate() {
        assert_eq!(item["rank"], json!(i + 1), "{item}");
        assert_eq!(item["status"], json!("ready"), "{item}");
        assert_eq!(item["processing_in_progress"], json!(false), "{item}");
        assert_eq!(item["nb_errors"], json!(0), "{item}");
        assert!(item["processed_at"].is_string(), "{item}");
        assert!(item.get("process_error").is_none(), "{item}");
    }
}

#[test]
fn status_of_an_unknown_collection_is_a_json_404() {
    let server = Server::start();
    for id in ["00000000-0000-0000-0000-000000000000", "not-a-uuid"] {
        let (status, body) = server.get_json(&format!("/collections/{id}/geovisio_status"));
        assert_eq!(status, StatusCode::NOT_FOUND, "{id}: {body}");
        assert_eq!(body["message"], json!("Collection doesn't exist"), "{body}");
    }
}
