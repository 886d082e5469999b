//! Annotations over HTTP: made on a picture by box or polygon, joined by the same shape, their
//! tags changed as diffs, shown in items and found by the search filter; who may read and
//! change them; and that every change moves the picture's and its collection's `updated`.

use reqwest::StatusCode;
use reqwest::blocking::RequestBuilder;
use serde_json::{Value, json};

use crate::accounts::account_with_token;
use crate::server::{Server, link};
use crate::{SONY, pictures};

/// The status and JSON body of an answer (`null` for none), and its `Location` header.
fn answer(request: RequestBuilder) -> (StatusCode, Value, Option<String>) {
    let response = request.send().expect("request");
    let status = response.status();
    let location = response
        .headers()
        .get("Location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = response.text().expect("body");
    let body = match text.as_str() {
        "" => Value::Null,
        text => serde_json::from_str(text).unwrap_or_else(|e| panic!("{status}: {e}: {text}")),
    };
    (status, body, location)
}

/// A server with a walk of the default account seen by anyone, another of it seen by its
/// owner only, and two accounts: one like any other, one administrator.
struct Scene {
    server: Server,
    _data: tempfile::TempDir,
    other: String,
    admin: String,
    sequence: String,
    items: Vec<String>,
    hidden_sequence: String,
    hidden_item: String,
}

impl Scene {
    fn new() -> Scene {
        let data = tempfile::tempdir().expect("data folder");
        let server = Server::start_in(data.path());
        let other = account_with_token(data.path(), "other", false);
        let admin = account_with_token(data.path(), "admin", true);
        let sequence = server.upload_sequence("walk", &pictures(&SONY[..2]), "anyone");
        let items = server
            .collection_items(&sequence)
            .iter()
            .map(|i| i["id"].as_str().expect("item id").to_owned())
            .collect();
        let hidden_sequence =
            server.upload_sequence("hidden", &pictures(&SONY[2..3]), "owner-only");
        let (status, hidden) = self::get(
            &server,
            &format!("/collections/{hidden_sequence}/items"),
            Some(&admin),
        );
        assert_eq!(status, StatusCode::OK, "{hidden}");
        let hidden_item = hidden["features"][0]["id"]
            .as_str()
            .expect("hidden item id")
            .to_owned();
        Scene {
            server,
            _data: data,
            other,
            admin,
            sequence,
            items,
            hidden_sequence,
            hidden_item,
        }
    }

    fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, Value, Option<String>) {
        let mut request = self.server.client().request(method, self.server.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        answer(request)
    }

    fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
        let (status, body, _) = self.send(reqwest::Method::POST, path, token, Some(body));
        (status, body)
    }

    fn patch(&self, path: &str, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
        let (status, body, _) = self.send(reqwest::Method::PATCH, path, token, Some(body));
        (status, body)
    }

    fn delete(&self, path: &str, token: Option<&str>) -> StatusCode {
        self.send(reqwest::Method::DELETE, path, token, None).0
    }

    fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        get(&self.server, path, token)
    }

    /// The item of the walk at `index`, as anyone reads it.
    fn item(&self, index: usize) -> Value {
        let path = format!("/collections/{}/items/{}", self.sequence, self.items[index]);
        self.server.get_ok(&path)
    }

    /// `updated` of the walk's first item and of the walk.
    fn stamps(&self) -> (String, String) {
        let item = self.item(0)["properties"]["updated"].clone();
        let collection = self
            .server
            .get_ok(&format!("/collections/{}", self.sequence));
        let collection = collection["updated"].clone();
        (
            item.as_str().expect("item updated").to_owned(),
            collection.as_str().expect("collection updated").to_owned(),
        )
    }
}

fn get(server: &Server, path: &str, token: Option<&str>) -> (StatusCode, Value) {
    let mut request = server.client().get(server.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let (status, body, _) = answer(request);
    (status, body)
}

fn tag(key: &str, value: &str) -> Value {
    json!({ "key": key, "value": value })
}

#[test]
fn annotations_tag_parts_of_pictures_as_diffs() {
    let scene = Scene::new();
    let (seq, first) = (&scene.sequence, &scene.items[0]);
    let on_item = format!("/collections/{seq}/items/{first}/annotations");
    let other = Some(scene.other.as_str());
    let sign = json!([10, 20, 110, 220]);
    let body = json!({
        "shape": sign,
        "semantics": [tag("osm|traffic_sign", "FR:B14"), tag("detection", "yes")],
    });

    // Nobody anonymous annotates, whatever it sends.
    let before = scene.stamps();
    let (status, refused) = scene.post(&on_item, None, &body);
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{refused}");
    assert_eq!(scene.item(0)["properties"]["annotations"], json!([]));
    assert_eq!(scene.stamps(), before);

    // 1. Any account annotates a picture it sees, by box: 200, the annotation and where to
    //    read it; the item and its collection changed for harvesters.
    let (status, made, location) = scene.send(reqwest::Method::POST, &on_item, other, Some(&body));
    assert_eq!(status, StatusCode::OK, "{made}");
    let id = made["id"].as_str().expect("annotation id").to_owned();
    assert_eq!(made["picture_id"], json!(first));
    assert_eq!(
        made["shape"],
        json!({"type": "Polygon", "coordinates":
            [[[10, 20], [110, 20], [110, 220], [10, 220], [10, 20]]]})
    );
    assert_eq!(
        made["semantics"],
        json!([tag("detection", "yes"), tag("osm|traffic_sign", "FR:B14")])
    );
    let location = location.expect("Location");
    assert!(location.ends_with(&format!("{on_item}/{id}")), "{location}");
    assert_eq!(
        scene
            .server
            .get_ok(&location.replacen(&scene.server.url(""), "", 1)),
        made
    );
    let after = scene.stamps();
    assert!(
        after.0 > before.0 && after.1 > before.1,
        "{before:?} then {after:?}"
    );

    // 2. The same shape as a polygon, through the picture's own path, joins it: its tags
    //    change as a diff.
    let (status, joined) = scene.post(
        &format!("/pictures/{first}/annotations"),
        Some(&scene.admin),
        &json!({
            "shape": made["shape"],
            "semantics": [
                {"key": "detection", "value": "yes", "action": "delete"},
                tag("colour", "red"),
            ],
        }),
    );
    assert_eq!(status, StatusCode::OK, "{joined}");
    assert_eq!(joined["id"], json!(id));
    assert_eq!(
        joined["semantics"],
        json!([tag("colour", "red"), tag("osm|traffic_sign", "FR:B14")])
    );

    // 3. Another shape is another annotation.
    let wheel = json!({"type": "Polygon", "coordinates": [[[0, 0], [50, 0], [25, 40], [0, 0]]]});
    let (status, second) = scene.post(
        &on_item,
        other,
        &json!({"shape": wheel, "semantics": [tag("thing", "wheel")]}),
    );
    assert_eq!(status, StatusCode::OK, "{second}");
    let second_id = second["id"].as_str().expect("annotation id").to_owned();
    assert_ne!(second_id, id);

    // 4. Refused, each with its reason: a tag added twice, a shape outside the picture (the
    //    answer says the picture's size), no tag, a form body, a collection not the
    //    picture's.
    let twice = json!({"shape": [0, 0, 5, 5], "semantics": [tag("a", "b"), tag("a", "b")]});
    let (status, refused) = scene.post(&on_item, other, &twice);
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap_or_default()
            .contains("duplicates"),
        "{refused}"
    );
    let outside = json!({"shape": [0, 0, 100000, 5], "semantics": [tag("a", "b")]});
    let (status, refused) = scene.post(&on_item, other, &outside);
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    let message = refused["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("outside the picture") && message.contains(" × "),
        "{refused}"
    );
    let empty = json!({"shape": [0, 0, 5, 5], "semantics": []});
    assert_eq!(
        scene.post(&on_item, other, &empty).0,
        StatusCode::BAD_REQUEST
    );
    let bad_shape = json!({"shape": [0, 0, 5], "semantics": [tag("a", "b")]});
    assert_eq!(
        scene.post(&on_item, other, &bad_shape).0,
        StatusCode::BAD_REQUEST
    );
    let form = scene
        .server
        .client()
        .patch(scene.server.url(&format!("/annotations/{id}")))
        .bearer_auth(&scene.other)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("semantics=x");
    let (status, refused, _) = answer(form);
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{refused}");
    let elsewhere = format!(
        "/collections/{}/items/{first}/annotations",
        scene.hidden_sequence
    );
    assert_eq!(
        scene.post(&elsewhere, Some(&scene.admin), &body).0,
        StatusCode::NOT_FOUND
    );
    let under_other = format!(
        "/collections/{seq}/items/{}/annotations/{id}",
        scene.items[1]
    );
    assert_eq!(scene.get(&under_other, None).0, StatusCode::NOT_FOUND);

    // 5. Read by anyone, under the item or alone; items carry them, with the link to add one
    //    for logged-in callers only.
    let (status, read) = scene.get(&format!("{on_item}/{id}"), None);
    assert_eq!((status, &read), (StatusCode::OK, &joined));
    assert_eq!(scene.get(&format!("/annotations/{id}"), None).1, joined);
    let item = scene.item(0);
    assert_eq!(
        item["properties"]["annotations"],
        json!([
            {"id": id, "shape": joined["shape"], "semantics": joined["semantics"]},
            {"id": second_id, "shape": wheel, "semantics": [tag("thing", "wheel")]},
        ])
    );
    assert_eq!(link(&item, "add_annotation"), None);
    let (_, as_other) = scene.get(&format!("/collections/{seq}/items/{first}"), other);
    assert_eq!(
        link(&as_other, "add_annotation").as_deref(),
        Some(scene.server.url(&on_item).as_str())
    );
    let listed = scene.server.collection_items(seq);
    assert_eq!(
        listed[0]["properties"]["annotations"],
        item["properties"]["annotations"]
    );
    assert_eq!(listed[1]["properties"]["annotations"], json!([]));

    // 6. The search filter on a tag finds the pictures one of whose annotations has it.
    let search = |filter: &str| {
        let body = json!({ "filter": filter, "filter-lang": "cql2-text", "limit": 10 });
        let (status, page) = scene.post("/search", None, &body);
        assert_eq!(status, StatusCode::OK, "{page}");
        crate::server::feature_ids(&page)
    };
    assert_eq!(
        search("\"semantics.osm|traffic_sign\"='FR:B14'"),
        [first.as_str()]
    );
    assert!(search("\"semantics.osm|traffic_sign\"='FR:B15'").is_empty());
    let (_, page, _) = answer(
        scene
            .server
            .client()
            .get(scene.server.url(&format!("/search?ids={first}"))),
    );
    assert_eq!(
        page["features"][0]["properties"]["annotations"],
        item["properties"]["annotations"]
    );

    // 7. A change of tags answers the annotation; removing the last ones deletes it (204).
    let before = scene.stamps();
    let (status, changed) = scene.patch(
        &format!("/annotations/{id}"),
        other,
        &json!({"semantics": [{"key": "colour", "value": "red", "action": "delete"}]}),
    );
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        changed["semantics"],
        json!([tag("osm|traffic_sign", "FR:B14")])
    );
    let after = scene.stamps();
    assert!(
        after.0 > before.0 && after.1 > before.1,
        "{before:?} then {after:?}"
    );
    let (status, shape_change) = scene.patch(
        &format!("/annotations/{id}"),
        other,
        &json!({"shape": [0, 0, 1, 1]}),
    );
    assert_eq!(status, StatusCode::BAD_REQUEST, "{shape_change}");
    let (status, gone) = scene.patch(
        &format!("{on_item}/{id}"),
        other,
        &json!({"semantics": [{"key": "osm|traffic_sign", "value": "FR:B14", "action": "delete"}]}),
    );
    assert_eq!((status, gone), (StatusCode::NO_CONTENT, Value::Null));
    assert_eq!(
        scene.get(&format!("/annotations/{id}"), None).0,
        StatusCode::NOT_FOUND
    );
    assert!(search("\"semantics.osm|traffic_sign\"='FR:B14'").is_empty());

    // 8. Deleted by anyone logged in; then unknown.
    assert_eq!(
        scene.delete(&format!("/annotations/{second_id}"), None),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        scene.delete(&format!("{on_item}/{second_id}"), other),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        scene.delete(&format!("/annotations/{second_id}"), other),
        StatusCode::NOT_FOUND
    );
    assert_eq!(scene.item(0)["properties"]["annotations"], json!([]));
    assert!(scene.stamps().0 > after.0);
}

#[test]
fn annotations_of_hidden_pictures_are_unknown_to_others() {
    let scene = Scene::new();
    let (seq, item) = (&scene.hidden_sequence, &scene.hidden_item);
    let on_item = format!("/collections/{seq}/items/{item}/annotations");
    let body = json!({"shape": [0, 0, 10, 10], "semantics": [tag("k", "v")]});

    // Its owner (here an administrator acting for it) annotates it.
    let (status, made) = scene.post(&on_item, Some(&scene.admin), &body);
    assert_eq!(status, StatusCode::OK, "{made}");
    let id = made["id"].as_str().expect("annotation id");

    // Others neither read nor change it, nor annotate the picture: 404, as for no picture.
    let other = Some(scene.other.as_str());
    for token in [None, other] {
        assert_eq!(
            scene.get(&format!("/annotations/{id}"), token).0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            scene.get(&format!("{on_item}/{id}"), token).0,
            StatusCode::NOT_FOUND
        );
    }
    let change = json!({"semantics": [tag("k", "w")]});
    assert_eq!(
        scene.patch(&format!("/annotations/{id}"), other, &change).0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        scene.delete(&format!("/annotations/{id}"), other),
        StatusCode::NOT_FOUND
    );
    assert_eq!(scene.post(&on_item, other, &body).0, StatusCode::NOT_FOUND);
    assert_eq!(
        scene
            .post(&format!("/pictures/{item}/annotations"), other, &body)
            .0,
        StatusCode::NOT_FOUND
    );
    let (status, read) = scene.get(&format!("/annotations/{id}"), Some(&scene.admin));
    assert_eq!((status, read), (StatusCode::OK, made));
}
