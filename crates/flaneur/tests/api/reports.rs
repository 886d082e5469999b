//! Reports over HTTP, with real tokens: a logged report hides a picture from everyone but its
//! owner at once, an anonymous one hides nothing; each role changes only what it may; lists,
//! counts and bad input.

use reqwest::StatusCode;
use reqwest::blocking::multipart;
use serde_json::{Value, json};

use crate::accounts::{account_with_token, bearer, client, get_as, post_as};
use crate::server::{Server, json_of};
use crate::{SONY, pictures};

fn patch_as(server: &Server, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
    json_of(
        bearer(client().patch(server.url(path)), token)
            .json(body)
            .send()
            .expect("PATCH"),
    )
}

/// Uploads `files` as the holder of `token` and waits for their sequence; returns it and its
/// items' ids.
fn walk(server: &Server, token: &str, files: &[&str]) -> (String, Vec<String>) {
    let body = json!({ "title": "walk", "estimated_nb_files": files.len() });
    let (status, set) = post_as(server, "/upload_sets", token, &body);
    assert_eq!(status, StatusCode::OK, "{set}");
    let set = set["id"].as_str().expect("upload set id").to_owned();
    for path in pictures(files) {
        let bytes = std::fs::read(&path).expect("picture");
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let part = multipart::Part::bytes(bytes)
            .file_name(name)
            .mime_str("image/jpeg")
            .expect("mime type");
        let form = multipart::Form::new().part("file", part);
        let url = server.url(&format!("/upload_sets/{set}/files"));
        let request = bearer(client().post(url), token).multipart(form);
        let (status, file) = json_of(request.send().expect("POST"));
        assert_eq!(status, StatusCode::ACCEPTED, "{file}");
    }
    let ready = server.wait_ready(&set);
    let sequence = ready["associated_collections"][0]["id"]
        .as_str()
        .expect("collection id")
        .to_owned();
    let items = server
        .collection_items(&sequence)
        .iter()
        .map(|i| i["id"].as_str().expect("item id").to_owned())
        .collect();
    (sequence, items)
}

#[test]
fn reports_hide_review_and_list_by_role() {
    let data = tempfile::tempdir().expect("data folder");
    let server = Server::start_in(data.path());
    let owner = account_with_token(data.path(), "owner", false);
    let reporter = account_with_token(data.path(), "reporter", false);
    let other = account_with_token(data.path(), "other", false);
    let admin = account_with_token(data.path(), "admin", true);
    let anonymous = "anonymous";
    let (sequence, items) = walk(&server, &owner, &SONY[..2]);
    let item = |n: usize| format!("/collections/{sequence}/items/{}", items[n]);
    assert_eq!(get_as(&server, &item(0), anonymous).0, StatusCode::OK);

    // A logged privacy report hides the picture from all but its owner (and admins).
    let body = json!({
        "issue": "privacy",
        "picture_id": items[0],
        "sequence_id": sequence,
        "reporter_email": "reporter@example.org",
        "reporter_comments": "a face in the window",
    });
    let (status, report) = post_as(&server, "/reports", &reporter, &body);
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["status"], "open_autofix", "{report}");
    assert_eq!(report["issue"], "privacy");
    assert_eq!(report["picture_id"], json!(items[0]));
    assert!(report.get("reporter_email").is_none(), "{report}");
    let id = report["id"].as_str().expect("report id").to_owned();
    let path = format!("/reports/{id}");
    assert_eq!(
        get_as(&server, &item(0), anonymous).0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(get_as(&server, &item(0), &other).0, StatusCode::NOT_FOUND);
    assert_eq!(get_as(&server, &item(0), &owner).0, StatusCode::OK);
    assert_eq!(get_as(&server, &item(0), &admin).0, StatusCode::OK);
    let (_, found) = get_as(&server, &format!("/search?ids={}", items[0]), anonymous);
    assert_eq!(found["features"], json!([]), "{found}");

    // An anonymous report records the problem but hides nothing. It is sent as the Panoramax
    // viewer's form sends it, found through the landing's link, its empty fields included.
    let (_, landing) = get_as(&server, "/", anonymous);
    let links = landing["links"].as_array().expect("landing links");
    let report_link = links
        .iter()
        .find(|l| l["rel"] == "report" && l["type"] == "application/json")
        .unwrap_or_else(|| panic!("no report link: {landing}"));
    assert_eq!(report_link["href"], server.url("/reports"));
    let body = json!({
        "issue": "inappropriate",
        "picture_id": items[1],
        "sequence_id": sequence,
        "reporter_comments": "",
        "reporter_email": "",
    });
    let (status, anonymous_report) = post_as(&server, "/reports", anonymous, &body);
    assert_eq!(status, StatusCode::OK, "{anonymous_report}");
    assert_eq!(anonymous_report["status"], "open");
    assert_eq!(anonymous_report["reporter_comments"], Value::Null);
    assert_eq!(get_as(&server, &item(1), anonymous).0, StatusCode::OK);
    let anonymous_path = format!("/reports/{}", anonymous_report["id"].as_str().expect("id"));
    let (_, anonymous_full) = get_as(&server, &anonymous_path, &admin);
    assert_eq!(
        anonymous_full["reporter_email"],
        Value::Null,
        "{anonymous_full}"
    );

    // Reading: admins all of it, the reporter and the owner without the address, others not.
    let (status, full) = get_as(&server, &path, &admin);
    assert_eq!(status, StatusCode::OK, "{full}");
    assert_eq!(full["reporter_email"], "reporter@example.org");
    for token in [&owner, &reporter] {
        let (status, public) = get_as(&server, &path, token);
        assert_eq!(status, StatusCode::OK, "{public}");
        assert!(public.get("reporter_email").is_none(), "{public}");
        assert_eq!(public["reporter_comments"], "a face in the window");
    }
    assert_eq!(get_as(&server, &path, &other).0, StatusCode::FORBIDDEN);
    assert_eq!(
        get_as(&server, &path, anonymous).0,
        StatusCode::UNAUTHORIZED
    );

    // Reviewing: what each role may not do is refused and changes nothing.
    let refused = [
        (&other, json!({ "status": "waiting" })),
        (&reporter, json!({ "status": "closed_ignored" })),
        (&reporter, json!({ "resolver_comments": "done" })),
        (&owner, json!({ "issue": "other" })),
        (&owner, json!({ "status": "open" })),
        (&owner, json!({ "reporter_email": "x@example.org" })),
    ];
    for (token, change) in &refused {
        let (status, body) = patch_as(&server, &path, token, change);
        assert_eq!(status, StatusCode::FORBIDDEN, "{change}: {body}");
        assert_eq!(
            get_as(&server, &path, &admin).1,
            full,
            "{change} changed nothing"
        );
    }
    let (status, _) = patch_as(&server, &path, anonymous, &json!({ "status": "waiting" }));
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, body) = patch_as(&server, &path, &reporter, &json!({ "status": "waiting" }));
    assert_eq!(
        (status, &body["status"]),
        (StatusCode::OK, &json!("waiting")),
        "{body}"
    );
    let change = json!({ "status": "closed_ignored", "resolver_comments": "not a face" });
    let (status, body) = patch_as(&server, &path, &owner, &change);
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "closed_ignored");
    assert_eq!(body["resolver_comments"], "not a face");
    assert!(body["ts_closed"].is_string(), "{body}");
    let change = json!({ "issue": "blur_missing", "status": "open" });
    let (status, body) = patch_as(&server, &path, &admin, &change);
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (&body["issue"], &body["status"]),
        (&json!("blur_missing"), &json!("open"))
    );
    assert!(body["ts_closed"].is_null(), "{body}");

    // The owner reviews the picture and shows it again.
    let (status, body) = patch_as(
        &server,
        &item(0),
        &owner,
        &json!({ "visibility": "anyone" }),
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(get_as(&server, &item(0), anonymous).0, StatusCode::OK);

    // Lists: every report for admins, filtered; one's own elsewhere.
    let count = |path: &str, token: &str| {
        let (status, body) = get_as(&server, path, token);
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body["reports"].as_array().expect("reports").len()
    };
    assert_eq!(count("/reports", &admin), 2);
    assert_eq!(count("/reports?limit=1", &admin), 1);
    assert_eq!(
        count("/reports?filter=status%3D%27closed_solved%27", &admin),
        0
    );
    assert_eq!(
        count("/reports?filter=status%20IN%20(%27open%27)", &admin),
        2
    );
    assert_eq!(count("/reports?filter=reporter%3D%27me%27", &admin), 0);
    assert_eq!(count("/users/me/reports", &owner), 2);
    assert_eq!(count("/users/me/reports", &reporter), 1);
    assert_eq!(count("/users/me/reports", &other), 0);
    assert_eq!(
        count("/users/me/reports?filter=owner%3D%27me%27", &reporter),
        0
    );
    assert_eq!(get_as(&server, "/reports", &owner).0, StatusCode::FORBIDDEN);
    assert_eq!(
        get_as(&server, "/reports", anonymous).0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get_as(&server, "/users/me/reports", anonymous).0,
        StatusCode::UNAUTHORIZED
    );
    let (status, body) = get_as(&server, "/reports?filter=title%3D%27x%27", &admin);
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = get_as(&server, "/reports?limit=1001", &admin);
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let (status, stats) = get_as(&server, "/admin/reports/stats", &admin);
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert_eq!(stats["total"], 2, "{stats}");
    assert_eq!(stats["by_status"]["open"], 2, "{stats}");
    assert_eq!(
        get_as(&server, "/admin/reports/stats", &owner).0,
        StatusCode::FORBIDDEN
    );

    // Bad input: a clear 400 (404 for what does not exist), and no report made.
    let unknown = "00000000-0000-4000-8000-000000000000";
    let bad = [
        (
            json!({ "issue": "ugly", "picture_id": items[1] }),
            400,
            "issue",
        ),
        (
            json!({ "issue": "other" }),
            400,
            "picture_id or sequence_id",
        ),
        (json!({ "picture_id": items[1] }), 400, "issue is missing"),
        (
            json!({ "issue": "other", "picture_id": "nope" }),
            400,
            "picture_id",
        ),
        (
            json!({ "issue": "other", "picture_id": unknown }),
            404,
            "Item",
        ),
        (
            json!({ "issue": "other", "sequence_id": unknown }),
            404,
            "Collection",
        ),
        (
            json!({ "issue": "other", "picture_id": items[1], "sequence_id": unknown }),
            400,
            "sequence_id",
        ),
        (
            json!({ "issue": "other", "picture_id": items[1], "reporter_email": "nobody" }),
            400,
            "email",
        ),
        (
            json!({ "issue": "other", "picture_id": items[1],
                    "reporter_comments": "x".repeat(100_000) }),
            400,
            "too long",
        ),
        (json!(["issue"]), 400, "object"),
    ];
    for (body, expected, says) in &bad {
        let (status, answer) = post_as(&server, "/reports", &reporter, body);
        assert_eq!(status.as_u16(), *expected, "{body}: {answer}");
        let message = answer["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{body}: {answer}");
    }
    let (status, _) = get_as(&server, &format!("/reports/{unknown}"), &admin);
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        get_as(&server, "/admin/reports/stats", &admin).1["total"],
        2
    );
}
