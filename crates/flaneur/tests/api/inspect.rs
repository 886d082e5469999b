//! `flaneur inspect --json` tells what the server will store: the same reading of each file.

use std::process::Command;

use serde_json::Value;

use crate::server::Server;
use crate::{GOPRO, pictures};

#[test]
fn inspect_prints_the_values_the_server_stores() {
    let files = pictures(&GOPRO[..1]);
    let output = Command::new(env!("CARGO_BIN_EXE_flaneur"))
        .arg("inspect")
        .arg("--json")
        .args(&files)
        .output()
        .expect("run flaneur inspect");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = String::from_utf8_lossy(&output.stdout);
    let inspected: Value = serde_json::from_str(line.trim()).expect("one JSON object");

    let server = Server::start();
    let set = server.create_upload_set("inspect", Some(1));
    let ids = server.upload_all(&set, &files);
    server.wait_ready(&set);
    let item = server.get_ok(&format!("/pictures/{}", ids[0]));
    let properties = &item["properties"];

    let coords = &item["geometry"]["coordinates"];
    let close = |a: &Value, b: &Value| {
        (a.as_f64().unwrap_or(f64::NAN) - b.as_f64().unwrap_or(0.0)).abs() < 1e-9
    };
    assert!(
        close(&inspected["lon"], &coords[0]) && close(&inspected["lat"], &coords[1]),
        "{inspected}\n{item}"
    );

    // Same instant: inspect gives UTC with milliseconds, the item UTC with +00:00.
    let instant = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap_or_default()).map(|t| t.to_utc())
    };
    let stored = instant(&properties["datetime"]).expect("item datetime");
    assert_eq!(
        instant(&inspected["datetime"]).expect("inspect datetime"),
        stored
    );
    assert_eq!(
        inspected["heading"].as_f64().map(f64::round),
        properties["view:azimuth"].as_f64(),
        "{inspected}"
    );
    let interior = &properties["pers:interior_orientation"];
    assert_eq!(inspected["make"], interior["camera_manufacturer"]);
    assert_eq!(inspected["model"], interior["camera_model"]);
    assert_eq!(inspected["type"], "equirectangular");
    assert!(
        properties["tiles:tile_matrix_sets"].is_object(),
        "360° item has tiles"
    );
}
