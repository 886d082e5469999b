//! Accounts: `/api/users`, a user's profile, their sequences as a STAC collection (paged,
//! sorted, as CSV) or deprecated catalog, and the user search.

use reqwest::StatusCode;
use reqwest::header;
use serde_json::{Value, json};

use crate::accounts::{account_command, account_with_token};
use crate::server::{Server, link};
use crate::visibility::publish_as;
use crate::{GOPRO, SONY, pictures};

/// The default account's id, which every upload belongs to.
fn default_account(server: &Server) -> String {
    let users = server.get_ok("/users");
    let users = users["users"].as_array().expect("users");
    assert_eq!(users.len(), 1, "only the default account: {users:?}");
    assert_eq!(users[0]["name"], json!("Default account"));
    users[0]["id"].as_str().expect("user id").to_owned()
}

/// Uploads pictures in a new upload set and returns its sequence once ready.
fn sequence(server: &Server, title: &str, names: &[&str], visibility: &str) -> String {
    server.upload_sequence(title, &pictures(names), visibility)
}

/// Sequence ids of the `child` links of a document.
fn children(document: &Value) -> Vec<String> {
    document["links"]
        .as_array()
        .expect("links")
        .iter()
        .filter(|l| l["rel"] == "child")
        .map(|l| {
            let href = l["href"].as_str().expect("child href");
            href.rsplit('/').next().expect("id").to_owned()
        })
        .collect()
}

fn assert_status(server: &Server, path: &str, status: StatusCode, message: &str) {
    let (got, body) = server.get_json(path);
    assert_eq!(got, status, "GET {path}: {body}");
    assert_eq!(body["message"], json!(message), "GET {path}: {body}");
}

#[test]
fn users_list_profile_and_search_show_the_default_account() {
    let server = Server::start();
    let id = default_account(&server);

    let user = server.get_ok(&format!("/users/{id}"));
    assert_eq!(user["name"], json!("Default account"), "{user}");
    assert_eq!(
        link(&user, "collection"),
        Some(server.url(&format!("/users/{id}/collection")))
    );

    let found = server.get_ok("/users/search?q=DEFAULT");
    assert_eq!(found["features"][0]["id"], json!(id), "{found}");
    assert_eq!(found["features"][0]["label"], json!("Default account"));
    let none = server.get_ok("/users/search?q=nobody");
    assert_eq!(none["features"], json!([]), "{none}");
    let (status, body) = server.get_json("/users/search");
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let unknown = "00000000-0000-0000-0000-000000000000";
    for path in [
        format!("/users/{unknown}"),
        format!("/users/{unknown}/collection"),
        format!("/users/{unknown}/catalog"),
        "/users/not-a-uuid/collection".to_owned(),
    ] {
        assert_status(&server, &path, StatusCode::NOT_FOUND, "User doesn't exist");
    }
}

#[test]
fn user_collection_pages_newest_first_and_hides_what_is_not_public() {
    let server = Server::start();
    let id = default_account(&server);
    let gopro = sequence(&server, "gopro", &GOPRO, "anyone");
    let sony = sequence(&server, "sony", &SONY[..3], "anyone");
    let hidden = sequence(&server, "hidden", &SONY[3..], "owner-only");
    let path = format!("/users/{id}/collection");

    // Newest first by default; the hidden sequence is absent everywhere.
    let all = server.get_ok(&path);
    assert_eq!(children(&all), [sony.clone(), gopro.clone()], "{all}");
    assert_eq!(all["stats:collections"]["count"], json!(2), "{all}");
    assert_eq!(all["type"], json!("Collection"), "{all}");
    let oldest_first = server.get_ok(&format!("{path}?sortby=%2Bcreated"));
    assert_eq!(children(&oldest_first), [gopro.clone(), sony.clone()]);
    let by_update = server.get_ok(&format!("{path}?sortby=-updated,%2Bid"));
    assert_eq!(children(&by_update).len(), 2, "{by_update}");
    let filtered = server.get_ok(&format!("{path}?filter=id%20%3D%20%27{gopro}%27"));
    assert_eq!(children(&filtered), [gopro.as_str()], "{filtered}");
    let catalog = server.get_ok(&format!("/users/{id}/catalog"));
    assert_eq!(
        children(&catalog),
        [sony.clone(), gopro.clone()],
        "{catalog}"
    );

    // One per page: next, then back with prev and first.
    let first = server.get_ok(&format!("{path}?limit=1"));
    assert_eq!(children(&first), [sony.as_str()], "{first}");
    assert_eq!(link(&first, "prev"), None, "{first}");
    let next = link(&first, "next").expect("next link");
    let (status, second) = server.get_json_url(&next);
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(children(&second), [gopro.as_str()], "{second}");
    assert_eq!(link(&second, "next"), None, "{second}");
    let prev = link(&second, "prev").expect("prev link");
    let (_, back) = server.get_json_url(&prev);
    assert_eq!(children(&back), [sony.as_str()], "{back}");
    assert!(link(&second, "first").is_some(), "{second}");

    // CSV: every public sequence, asked by parameter or by Accept.
    let response = server.get_url(&server.url(&format!("{path}?format=csv")));
    assert_eq!(response.status(), StatusCode::OK);
    let kind = response.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap_or("")
        .to_owned();
    assert!(kind.starts_with("text/csv"), "{kind}");
    let csv = response.text().expect("CSV body");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "header and two sequences:\n{csv}");
    assert!(lines[0].starts_with("id,status,name,"), "{csv}");
    assert!(
        csv.contains(&gopro) && csv.contains(&sony) && !csv.contains(&hidden),
        "{csv}"
    );
    let by_accept = server
        .client()
        .get(server.url(&path))
        .header(header::ACCEPT, "text/csv")
        .send()
        .expect("GET with Accept: text/csv");
    assert_eq!(by_accept.text().expect("CSV body"), csv);

    // Bad parameters say what is wrong.
    for query in [
        "sortby=-visibility",
        "show_deleted=true",
        "limit=0",
        "page=nowhere",
        "format=xml",
        "filter=x",
    ] {
        let (status, body) = server.get_json(&format!("{path}?{query}"));
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert!(body["message"].is_string(), "{query}: {body}");
    }
}

#[test]
fn deleted_accounts_are_listed_nowhere_and_their_pictures_stay_credited() {
    let dir = tempfile::tempdir().expect("data folder");
    let token = account_with_token(dir.path(), "leaver", false);
    let server = Server::start_in(dir.path());
    let (_, sequence, pictures) = publish_as(&server, &token, &SONY[..1], "anyone");
    let collection = server.get_ok(&format!("/collections/{sequence}"));
    let id = collection["providers"][0]["id"]
        .as_str()
        .expect("account id")
        .to_owned();
    assert_eq!(server.get_ok(&format!("/users/{id}"))["name"], "leaver");

    account_command(dir.path(), &["delete", "leaver"]);

    // No list or search names it, and its profile is gone.
    let users = server.get_ok("/users");
    assert!(!users.to_string().contains("leaver"), "{users}");
    let found = server.get_ok("/users/search?q=leaver");
    assert_eq!(found["features"], json!([]), "{found}");
    let profile = format!("/users/{id}");
    assert_status(
        &server,
        &profile,
        StatusCode::NOT_FOUND,
        "User doesn't exist",
    );

    // Its published pictures stay, credited to it, and listed under it.
    let collection = server.get_ok(&format!("/collections/{sequence}"));
    assert_eq!(collection["providers"][0]["name"], "leaver", "{collection}");
    let item = server.get_ok(&format!("/collections/{sequence}/items/{}", pictures[0]));
    assert!(item["providers"].to_string().contains("leaver"), "{item}");
    let listed = server.get_ok(&format!("/users/{id}/collection"));
    assert_eq!(children(&listed), [sequence], "{listed}");
}
