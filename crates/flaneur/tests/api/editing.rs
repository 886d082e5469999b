//! Changing and deleting collections and items over HTTP: who may, what a change answers and
//! moves, and that a refused request changes nothing.

use reqwest::StatusCode;
use reqwest::blocking::multipart;
use serde_json::{Value, json};

use crate::accounts::account_with_token;
use crate::server::{Server, json_of, poll};
use crate::{SONY, pictures};

/// The status and JSON body of an answer; `null` for an answer without a body (204, 304).
fn answer(response: reqwest::blocking::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().expect("body");
    if text.is_empty() {
        return (status, Value::Null);
    }
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status}: {e}: {text}"));
    (status, body)
}

/// `PATCH` of an API path with a JSON body, with a bearer token when given.
fn patch(server: &Server, path: &str, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
    let mut request = server.client().patch(server.url(path)).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    answer(request.send().expect("PATCH"))
}

/// `DELETE` of an API path, with a bearer token when given.
fn delete(server: &Server, path: &str, token: Option<&str>) -> (StatusCode, Value) {
    let mut request = server.client().delete(server.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    answer(request.send().expect("DELETE"))
}

#[test]
fn anonymous_callers_change_nothing() {
    let server = Server::start();
    let sequence = server.upload_sequence("walk", &pictures(&SONY[..2]), "anyone");
    let before = server.get_ok(&format!("/collections/{sequence}"));
    let item = server.collection_items(&sequence)[0]["id"]
        .as_str()
        .expect("item id")
        .to_owned();

    let refusals = [
        patch(
            &server,
            &format!("/collections/{sequence}"),
            None,
            &json!({"title": "x"}),
        ),
        patch(
            &server,
            &format!("/collections/{sequence}/items/{item}"),
            None,
            &json!({"heading": 3}),
        ),
        delete(
            &server,
            &format!("/collections/{sequence}/items/{item}"),
            None,
        ),
        delete(&server, &format!("/collections/{sequence}"), None),
        // Whatever the body or the id: nothing is read before the caller is known.
        patch(
            &server,
            "/collections/not-a-uuid",
            None,
            &json!({"titel": 3}),
        ),
    ];
    for (status, body) in refusals {
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["status_code"], 401, "{body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.starts_with("Authentication is mandatory"), "{body}");
    }
    assert_eq!(server.get_ok(&format!("/collections/{sequence}")), before);
    assert_eq!(server.collection_items(&sequence).len(), 2);
}

/// A server on a data folder the test keeps, with three accounts and their tokens: the owner
/// of what is uploaded, another account, and an administrator.
struct Cast {
    server: Server,
    data: tempfile::TempDir,
    owner: String,
    other: String,
    admin: String,
    /// The upload set of the last walk.
    last_set: std::cell::RefCell<String>,
}

impl Cast {
    fn new() -> Cast {
        let data = tempfile::tempdir().expect("data folder");
        let server = Server::start_in(data.path());
        let owner = account_with_token(data.path(), "owner", false);
        let other = account_with_token(data.path(), "other", false);
        let admin = account_with_token(data.path(), "admin", true);
        Cast {
            server,
            data,
            owner,
            other,
            admin,
            last_set: std::cell::RefCell::default(),
        }
    }

    /// Uploads `files` as the owner into a new upload set and waits for its sequence; returns
    /// the sequence and its items' ids in rank order.
    fn walk(&self, files: &[&str]) -> (String, Vec<String>) {
        let server = &self.server;
        let body = json!({ "title": "walk", "estimated_nb_files": files.len() });
        let request = server.client().post(server.url("/upload_sets")).json(&body);
        let (status, set) = json_of(request.bearer_auth(&self.owner).send().expect("POST"));
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
            let request = server.client().post(url).multipart(form);
            let (status, file) = json_of(request.bearer_auth(&self.owner).send().expect("POST"));
            assert_eq!(status, StatusCode::ACCEPTED, "{file}");
        }
        let ready = server.wait_ready(&set);
        let sequence = ready["associated_collections"][0]["id"]
            .as_str()
            .expect("collection id")
            .to_owned();
        let items = self.items(&sequence);
        self.last_set.replace(set);
        (sequence, items)
    }

    /// Ids of a sequence's items in rank order, as anyone sees them.
    fn items(&self, sequence: &str) -> Vec<String> {
        self.server
            .collection_items(sequence)
            .iter()
            .map(|i| i["id"].as_str().expect("item id").to_owned())
            .collect()
    }

    fn patch(&self, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
        patch(&self.server, path, Some(token), body)
    }

    fn patch_form(&self, path: &str, token: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let encode = |s: &str| {
            percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
        };
        let body: Vec<String> = form
            .iter()
            .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
            .collect();
        let request = self
            .server
            .client()
            .patch(self.server.url(path))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body.join("&"));
        answer(request.bearer_auth(token).send().expect("PATCH"))
    }

    fn delete(&self, path: &str, token: &str) -> (StatusCode, Value) {
        delete(&self.server, path, Some(token))
    }

    /// Whether the picture storage of the server holds `key`.
    fn stored(&self, key: &str) -> bool {
        if !crate::backend::is_remote() {
            return self.data.path().join("pictures").join(key).exists();
        }
        let remote = crate::backend::remote_for(self.data.path());
        let encode = |s: &str| {
            percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
        };
        let url = remote.fs_url.replacen(
            "s3://",
            &format!(
                "s3://{}:{}@",
                encode(&remote.s3.access_key),
                encode(&remote.s3.secret_key)
            ),
            1,
        );
        crate::backend::block_on(async {
            let store = flaneur_store::open_blob_store(&url).await.expect("bucket");
            store.stat(key).await.expect("stat").is_some()
        })
    }
}

fn updated(document: &Value) -> String {
    document["updated"]
        .as_str()
        .or_else(|| document["properties"]["updated"].as_str())
        .unwrap_or_else(|| panic!("no updated: {document}"))
        .to_owned()
}

/// Waits past the millisecond `updated` is read at, so that a change shows as a move.
fn tick() {
    std::thread::sleep(std::time::Duration::from_millis(5));
}

#[test]
fn owners_change_each_field_and_updated_moves() {
    let cast = Cast::new();
    let (sequence, items) = cast.walk(&SONY[..3]);
    let collection = format!("/collections/{sequence}");
    let first = format!("{collection}/items/{}", items[0]);
    let mut seen = updated(&cast.server.get_ok(&collection));

    // The collection, field by field, in JSON and in forms.
    let changes: [(&str, Value); 5] = [
        ("title", json!({"title": "Along the river"})),
        ("sortby", json!({"sortby": "-gpsdate"})),
        ("relative_heading", json!({"relative_heading": 90})),
        (
            "semantics",
            json!({"semantics": [{"key": "transport", "value": "bike"}]}),
        ),
        ("visibility", json!({"visibility": "owner-only"})),
    ];
    for (field, body) in changes {
        tick();
        let (status, answer) = cast.patch(&collection, &cast.owner, &body);
        assert_eq!(status, StatusCode::OK, "{field}: {answer}");
        let now = updated(&answer);
        assert!(now > seen, "{field}: updated {now} after {seen}");
        seen = now;
    }
    // Hidden from everyone else now, shown again with the deprecated form field.
    assert_eq!(cast.server.get_json(&collection).0, StatusCode::NOT_FOUND);
    let (status, answer) = cast.patch_form(&collection, &cast.owner, &[("visible", "true")]);
    assert_eq!(status, StatusCode::OK, "{answer}");
    let shown = cast.server.get_ok(&collection);
    assert_eq!(shown["title"], "Along the river");
    assert_eq!(shown["geovisio:sorted-by"], "-gpsdate", "{shown}");
    assert_eq!(shown["semantics"][0]["value"], "bike", "{shown}");
    let mut reversed = items.clone();
    reversed.reverse();
    assert_eq!(cast.items(&sequence), reversed);

    // An item, field by field; its sequence follows a move.
    let before = shown["extent"]["spatial"]["bbox"][0].clone();
    let changes: [(&str, Value); 6] = [
        ("heading", json!({"heading": 123})),
        (
            "capture_time",
            json!({"capture_time": "2030-01-01T10:00:00+01:00"}),
        ),
        ("position", json!({"longitude": 2.5, "latitude": 48.5})),
        ("pose", json!({"pitch": -10, "roll": 2, "yaw": 300})),
        (
            "semantics",
            json!({"semantics": [{"key": "osm|traffic_sign", "value": "stop"}]}),
        ),
        ("visibility", json!({"visibility": "logged-only"})),
    ];
    let mut item_seen = updated(&cast.server.get_ok(&first));
    for (field, body) in changes {
        tick();
        let (status, answer) = cast.patch(&first, &cast.owner, &body);
        assert_eq!(status, StatusCode::OK, "{field}: {answer}");
        let now = updated(&answer);
        assert!(now > item_seen, "{field}: updated {now} after {item_seen}");
        item_seen = now;
    }
    let (status, answer) = cast.patch_form(&first, &cast.owner, &[("visible", "true")]);
    assert_eq!(status, StatusCode::OK, "{answer}");
    // The answer says what its caller may do next.
    let rel = |rel: &str| {
        answer["links"]
            .as_array()
            .expect("links")
            .iter()
            .find(|l| l["rel"] == rel)
            .cloned()
    };
    assert_eq!(
        rel("edit").map(|l| l["method"].clone()),
        Some(json!("PATCH"))
    );
    assert_eq!(
        rel("delete").map(|l| l["href"].clone()),
        Some(json!(cast.server.url(&first)))
    );
    let item = cast.server.get_ok(&first);
    assert_eq!(item["properties"]["view:azimuth"], 123, "{item}");
    assert_eq!(
        item["geometry"]["coordinates"],
        json!([2.5, 48.5]),
        "{item}"
    );
    assert_eq!(
        item["properties"]["datetime"], "2030-01-01T09:00:00+00:00",
        "{item}"
    );
    let after = cast.server.get_ok(&collection);
    assert_ne!(
        after["extent"]["spatial"]["bbox"][0], before,
        "the extent follows"
    );
    assert!(
        updated(&after) > seen,
        "the sequence moves with its pictures"
    );
    // Taken last now, in a sequence sorted newest first: ranked first.
    assert_eq!(cast.items(&sequence)[0], items[0]);

    // An empty body changes nothing.
    let (status, _) = cast.patch(&first, &cast.owner, &json!({}));
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    let (status, _) = cast.patch(&collection, &cast.owner, &json!({}));
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert_eq!(updated(&cast.server.get_ok(&first)), updated(&item));
}

#[test]
fn bad_bodies_and_paths_are_refused_without_effect() {
    let cast = Cast::new();
    let (sequence, items) = cast.walk(&SONY[..2]);
    let collection = format!("/collections/{sequence}");
    let item = format!("{collection}/items/{}", items[0]);
    let before = (cast.server.get_ok(&collection), cast.server.get_ok(&item));

    let bodies = [
        (collection.as_str(), json!({"titel": "typo"}), "titel"),
        (collection.as_str(), json!({"title": ""}), "title"),
        (
            collection.as_str(),
            json!({"relative_heading": 181}),
            "relative_heading",
        ),
        (collection.as_str(), json!({"sortby": "+time"}), "sortby"),
        (
            collection.as_str(),
            json!({"visibility": "everyone"}),
            "visibility",
        ),
        (
            collection.as_str(),
            json!({"semantics": [{"key": ""}]}),
            "semantics",
        ),
        (item.as_str(), json!({"heading": -1}), "heading"),
        (item.as_str(), json!({"heading": "north"}), "heading"),
        (item.as_str(), json!({"longitude": 2.0}), "longitude"),
        (
            item.as_str(),
            json!({"latitude": 91, "longitude": 2}),
            "latitude",
        ),
        (item.as_str(), json!({"pitch": 100}), "pitch"),
        (
            item.as_str(),
            json!({"capture_time": "yesterday"}),
            "capture_time",
        ),
    ];
    for (path, body, field) in bodies {
        let (status, answer) = cast.patch(path, &cast.owner, &body);
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert!(answer.to_string().contains(field), "{body}: {answer}");
    }
    let (status, answer) = cast.patch_form(&item, &cast.owner, &[("semantics", "[]")]);
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");

    // Ids that are no UUID, or try to leave their place in the path.
    let tricks = [
        "/collections/not-a-uuid".to_owned(),
        "/collections/..%2F..%2Fupload_sets".to_owned(),
        format!("/collections/{sequence}%2F..%2F{sequence}"),
        format!("/collections/{sequence}/items/..%2F{}", items[1]),
        format!("/collections/{sequence}/items/{}%00", items[1]),
        "/collections/00000000-0000-0000-0000-000000000000".to_owned(),
    ];
    for path in &tricks {
        let (status, answer) = cast.patch(path, &cast.owner, &json!({"title": "x"}));
        assert!(
            [StatusCode::BAD_REQUEST, StatusCode::NOT_FOUND].contains(&status),
            "PATCH {path}: {status} {answer}"
        );
        let (status, answer) = cast.delete(path, &cast.owner);
        assert!(
            [StatusCode::BAD_REQUEST, StatusCode::NOT_FOUND].contains(&status),
            "DELETE {path}: {status} {answer}"
        );
    }
    let after = (cast.server.get_ok(&collection), cast.server.get_ok(&item));
    assert_eq!(after, before);
    assert_eq!(cast.items(&sequence).len(), 2);
}

#[test]
fn an_item_is_only_reached_through_its_own_collection() {
    let cast = Cast::new();
    let (first, items) = cast.walk(&SONY[..2]);
    let (second, _) = cast.walk(&SONY[2..3]);
    let own = format!("/collections/{first}/items/{}", items[0]);
    let before = cast.server.get_ok(&own);

    for wrong in [second.as_str(), "not-a-uuid"] {
        let path = format!("/collections/{wrong}/items/{}", items[0]);
        let (status, body) = cast.server.get_json(&path);
        assert_eq!(status, StatusCode::NOT_FOUND, "GET {path}: {body}");
        assert_eq!(body["message"], "Item doesn't exist", "GET {path}: {body}");
        let (status, body) = cast.patch(&path, &cast.owner, &json!({"heading": 90}));
        assert_eq!(status, StatusCode::NOT_FOUND, "PATCH {path}: {body}");
        assert_eq!(
            body["message"], "Item doesn't exist",
            "PATCH {path}: {body}"
        );
        let (status, body) = cast.delete(&path, &cast.owner);
        assert_eq!(status, StatusCode::NOT_FOUND, "DELETE {path}: {body}");
        assert_eq!(
            body["message"], "Item doesn't exist",
            "DELETE {path}: {body}"
        );
    }
    assert_eq!(cast.server.get_ok(&own), before);
    assert_eq!(cast.items(&first), items);
}

/// The bbox of items' points, as a collection's extent gives it.
fn bbox_of(items: &[Value]) -> Value {
    let coordinate = |item: &Value, axis: usize| {
        item["geometry"]["coordinates"][axis]
            .as_f64()
            .expect("coordinate")
    };
    let (mut low, mut high) = ([f64::MAX; 2], [f64::MIN; 2]);
    for item in items {
        for axis in 0..2 {
            low[axis] = low[axis].min(coordinate(item, axis));
            high[axis] = high[axis].max(coordinate(item, axis));
        }
    }
    json!([[low[0], low[1], high[0], high[1]]])
}

#[test]
fn a_hidden_picture_shapes_no_figure_of_its_collection() {
    let cast = Cast::new();
    let (sequence, items) = cast.walk(&SONY[..3]);
    let collection = format!("/collections/{sequence}");
    let whole = cast.server.get_ok(&collection);
    assert_eq!(whole["stats:items"]["count"], 3, "{whole}");

    // The last picture hidden: anonymous readers get the extent and count of the other two.
    let last = format!("{collection}/items/{}", items[2]);
    let hidden = json!({"visibility": "owner-only"});
    let (status, answer) = cast.patch(&last, &cast.owner, &hidden);
    assert_eq!(status, StatusCode::OK, "{answer}");
    let shown = cast.server.collection_items(&sequence);
    assert_eq!(shown.len(), 2);
    let shrunk = cast.server.get_ok(&collection);
    assert_eq!(shrunk["stats:items"]["count"], 2, "{shrunk}");
    assert_eq!(
        shrunk["extent"]["spatial"]["bbox"],
        bbox_of(&shown),
        "{shrunk}"
    );
    assert_ne!(shrunk["extent"], whole["extent"], "{shrunk}");
    // The track, too, ends at the last picture they see.
    let length = |c: &Value| c["geovisio:length_km"].as_f64().expect("length");
    assert!(length(&shrunk) < length(&whole), "{shrunk} {whole}");
    let listed = cast.server.get_ok("/collections");
    assert_eq!(
        listed["collections"][0]["stats:items"]["count"], 2,
        "{listed}"
    );

    // Its owner reads the same figures, and still every picture.
    let (status, owned) = crate::accounts::get_as(&cast.server, &collection, &cast.owner);
    assert_eq!(status, StatusCode::OK, "{owned}");
    assert_eq!(owned["stats:items"], shrunk["stats:items"], "{owned}");
    assert_eq!(owned["extent"], shrunk["extent"], "{owned}");
    let (_, owned_items) =
        crate::accounts::get_as(&cast.server, &format!("{collection}/items"), &cast.owner);
    assert_eq!(owned_items["features"].as_array().map(Vec::len), Some(3));

    // Shown again, it counts again.
    let (status, answer) = cast.patch(&last, &cast.owner, &json!({"visibility": "anyone"}));
    assert_eq!(status, StatusCode::OK, "{answer}");
    let again = cast.server.get_ok(&collection);
    assert_eq!(again["stats:items"], whole["stats:items"], "{again}");
    assert_eq!(length(&again), length(&whole), "{again}");
    assert_eq!(
        again["extent"]["spatial"], whole["extent"]["spatial"],
        "{again}"
    );
}

#[test]
fn others_tag_administrators_do_everything() {
    let cast = Cast::new();
    let (sequence, items) = cast.walk(&SONY[..2]);
    let collection = format!("/collections/{sequence}");
    let item = format!("{collection}/items/{}", items[0]);
    let before = cast.server.get_ok(&collection);

    for (path, body) in [
        (&collection, json!({"title": "mine now"})),
        (&collection, json!({"visibility": "owner-only"})),
        (&item, json!({"visibility": "owner-only"})),
        (&item, json!({"pitch": 3})),
    ] {
        let (status, answer) = cast.patch(path, &cast.other, &body);
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}: {answer}");
    }
    for path in [&item, &collection] {
        let (status, answer) = cast.delete(path, &cast.other);
        assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    }
    assert_eq!(cast.server.get_ok(&collection), before, "nothing changed");

    // Tags always; the track's metadata as collaborative editing allows by default. The
    // answer's links say so, and offer no deletion.
    let tag = json!({"semantics": [{"key": "surface", "value": "gravel"}]});
    let (_, answer) = cast.patch(&collection, &cast.other, &tag);
    let links = answer["links"].as_array().expect("links");
    let edit = links
        .iter()
        .find(|l| l["rel"] == "edit")
        .expect("edit link");
    assert_eq!(
        edit["attributes"],
        json!(["relative_heading", "semantics", "sortby"])
    );
    assert!(!links.iter().any(|l| l["rel"] == "delete"), "{answer}");
    for (path, body) in [
        (&collection, tag.clone()),
        (&item, tag),
        (&collection, json!({"sortby": "-filename"})),
        (&item, json!({"heading": 45})),
    ] {
        let (status, answer) = cast.patch(path, &cast.other, &body);
        assert_eq!(status, StatusCode::OK, "{body}: {answer}");
    }

    // Reads say the same to each caller: nothing to anonymous ones.
    let links_of = |token: Option<&str>, path: &str| {
        let mut request = cast.server.client().get(cast.server.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let (status, document) = self::answer(request.send().expect("GET"));
        assert_eq!(status, StatusCode::OK, "{document}");
        let links = document["links"].as_array().cloned().unwrap_or_default();
        let find = |rel: &str| links.iter().find(|l| l["rel"] == rel).cloned();
        (
            find("edit").map(|l| l["attributes"].clone()),
            find("delete").is_some(),
        )
    };
    assert_eq!(links_of(None, &collection), (None, false));
    assert_eq!(
        links_of(Some(&cast.other), &item),
        (
            Some(json!([
                "capture_time",
                "heading",
                "latitude",
                "longitude",
                "semantics"
            ])),
            false
        )
    );
    let (owner_fields, owner_deletes) = links_of(Some(&cast.owner), &collection);
    assert!(owner_deletes && owner_fields.is_some_and(|f| f.to_string().contains("title")));

    // An administrator changes and deletes what it does not own.
    let (status, answer) = cast.patch(&collection, &cast.admin, &json!({"title": "moderated"}));
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, answer) = cast.patch(
        &collection,
        &cast.admin,
        &json!({"visibility": "owner-only"}),
    );
    assert_eq!(status, StatusCode::OK, "{answer}");
    // Hidden from the other account: it does not exist for it.
    let (status, _) = cast.patch(&collection, &cast.other, &json!({"sortby": "+filename"}));
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = cast.delete(&collection, &cast.admin);
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[test]
fn deletions_leave_tombstones_and_no_files() {
    let cast = Cast::new();
    let (sequence, items) = cast.walk(&SONY[..3]);
    let collection = format!("/collections/{sequence}");
    let shown = cast.server.get_ok(&collection);
    let key = |id: &str| {
        let id: flaneur_model::PictureId = id.parse().expect("picture id");
        flaneur_store::blob_keys::original(id)
    };
    assert!(cast.stored(&key(&items[0])));
    let before = updated(&shown);
    tick();

    // One picture: gone from the sequence, the sequence's extent and `updated` follow.
    let (status, answer) = cast.delete(&format!("{collection}/items/{}", items[0]), &cast.owner);
    assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");
    let (status, _) = cast.server.get_json(&format!("/pictures/{}", items[0]));
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(cast.items(&sequence), items[1..]);
    let after = cast.server.get_ok(&collection);
    assert!(updated(&after) > before);
    assert_ne!(after["extent"], shown["extent"]);
    poll(
        std::time::Duration::from_secs(60),
        "the deleted picture's files removed",
        || (!cast.stored(&key(&items[0]))).then_some(()),
    )
    .unwrap_or_else(|last| panic!("{last}"));
    assert!(cast.stored(&key(&items[1])), "the others' files stay");

    // The sequence: a tombstone for harvesters, gone everywhere else.
    let (status, answer) = cast.delete(&collection, &cast.owner);
    assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");
    assert_eq!(cast.server.get_json(&collection).0, StatusCode::NOT_FOUND);
    assert_eq!(
        cast.server.get_json(&format!("{collection}/items")).0,
        StatusCode::NOT_FOUND
    );
    let listed = cast.server.get_ok("/collections");
    assert!(!listed.to_string().contains(&sequence), "{listed}");
    assert!(is_tombstone(&cast.server, &sequence));
    let (status, _) = cast.delete(&collection, &cast.owner);
    assert_eq!(status, StatusCode::NOT_FOUND, "deleted once");
    for id in &items[1..] {
        poll(
            std::time::Duration::from_secs(60),
            "the sequence's files removed",
            || (!cast.stored(&key(id))).then_some(()),
        )
        .unwrap_or_else(|last| panic!("{last}"));
    }
}

#[test]
fn the_operator_may_keep_the_track_s_metadata_to_owners() {
    let data = tempfile::tempdir().expect("data folder");
    let server =
        Server::start_in_with_env(data.path(), &[("FLANEUR_COLLABORATIVE_METADATA", "false")]);
    let defaults = server.get_ok("/configuration")["defaults"].clone();
    assert_eq!(defaults["collaborative_metadata"], false, "{defaults}");
    let other = account_with_token(data.path(), "other", false);
    let cast = Cast {
        owner: account_with_token(data.path(), "owner", false),
        admin: account_with_token(data.path(), "admin", true),
        other,
        server,
        data,
        last_set: std::cell::RefCell::default(),
    };
    let (sequence, items) = cast.walk(&SONY[..2]);
    let collection = format!("/collections/{sequence}");
    let item = format!("{collection}/items/{}", items[0]);
    for (path, body) in [
        (&collection, json!({"sortby": "-filename"})),
        (&item, json!({"heading": 45})),
    ] {
        let (status, answer) = cast.patch(path, &cast.other, &body);
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}: {answer}");
    }
    let tag = json!({"semantics": [{"key": "surface", "value": "gravel"}]});
    let (status, answer) = cast.patch(&item, &cast.other, &tag);
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, answer) = cast.patch(&item, &cast.admin, &json!({"heading": 45}));
    assert_eq!(status, StatusCode::OK, "{answer}");
}

/// Whether `/collections?show_deleted=true` lists `sequence` as a tombstone: its id, its
/// status and when it changed, which harvesters move their watermark with, and nothing else.
fn is_tombstone(server: &Server, sequence: &str) -> bool {
    let listed = server.get_ok("/collections?show_deleted=true");
    listed["collections"]
        .as_array()
        .expect("collections")
        .iter()
        .any(|c| {
            let updated = c["updated"].as_str().unwrap_or_default();
            chrono::DateTime::parse_from_rfc3339(updated).is_ok()
                && *c == json!({"id": sequence, "geovisio:status": "deleted", "updated": updated})
        })
}

#[test]
fn deleting_an_upload_set_deletes_its_sequences_for_its_owner_only() {
    let cast = Cast::new();
    let (sequence, items) = cast.walk(&SONY[..2]);
    let set = cast.last_set.borrow().clone();
    let path = format!("/upload_sets/{set}");

    let (status, answer) = cast.delete(&path, &cast.other);
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert_eq!(cast.items(&sequence), items, "nothing changed");

    let (status, answer) = cast.delete(&path, &cast.owner);
    assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");
    assert_eq!(
        cast.server.get_json(&format!("/collections/{sequence}")).0,
        StatusCode::NOT_FOUND
    );
    assert!(is_tombstone(&cast.server, &sequence));
    for id in &items {
        let id: flaneur_model::PictureId = id.parse().expect("picture id");
        let key = flaneur_store::blob_keys::original(id);
        poll(
            std::time::Duration::from_secs(60),
            "the upload set's files removed",
            || (!cast.stored(&key)).then_some(()),
        )
        .unwrap_or_else(|last| panic!("{last}"));
    }
}

#[test]
fn upload_sets_hidden_from_a_caller_are_unknown_to_its_changes() {
    let cast = Cast::new();
    let server = &cast.server;
    let mut sets = Vec::new();
    for visibility in ["logged-only", "owner-only"] {
        let body = json!({ "title": visibility, "visibility": visibility });
        let request = server.client().post(server.url("/upload_sets")).json(&body);
        let (status, set) = json_of(request.bearer_auth(&cast.owner).send().expect("POST"));
        assert_eq!(status, StatusCode::OK, "{set}");
        sets.push(set["id"].as_str().expect("upload set id").to_owned());
    }
    let [logged_only, owner_only] = [&sets[0], &sets[1]];

    // As for reading: 404 where the caller may not see the set, 403 where it may but does not
    // own it. Anonymous callers act for the default account.
    let cases = [
        (None, logged_only, StatusCode::NOT_FOUND),
        (None, owner_only, StatusCode::NOT_FOUND),
        (Some(&cast.other), logged_only, StatusCode::FORBIDDEN),
        (Some(&cast.other), owner_only, StatusCode::NOT_FOUND),
    ];
    for (token, set, expected) in cases {
        let path = format!("/upload_sets/{set}");
        let before = server
            .client()
            .get(server.url(&path))
            .bearer_auth(&cast.owner)
            .send()
            .expect("GET")
            .text()
            .expect("body");
        let (status, answer) = delete(server, &path, token.map(String::as_str));
        assert_eq!(status, expected, "DELETE {path}: {answer}");
        let mut request = server
            .client()
            .post(server.url(&format!("{path}/complete")));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let (status, answer) = json_of(request.send().expect("POST"));
        assert_eq!(status, expected, "complete {path}: {answer}");
        let part = multipart::Part::bytes(vec![0xFF, 0xD8, 0xFF])
            .file_name("1.jpg")
            .mime_str("image/jpeg")
            .expect("mime type");
        let form = multipart::Form::new().part("file", part);
        let mut request = server
            .client()
            .post(server.url(&format!("{path}/files")))
            .multipart(form);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let (status, answer) = json_of(request.send().expect("POST"));
        assert_eq!(status, expected, "file into {path}: {answer}");
        let after = server
            .client()
            .get(server.url(&path))
            .bearer_auth(&cast.owner)
            .send()
            .expect("GET")
            .text()
            .expect("body");
        assert_eq!(after, before, "{path} changed");
    }
}
