//! Who may do what: every operation of the API, as the served description lists it, tried by
//! an anonymous caller, the owner of the data, another account and an administrator, on data
//! seen by anyone, by logged accounts only and by its owner only.
//!
//! The operations come from `/api/docs/specs.json`, which the server builds from the same route
//! table as its router: the test stays a black box, and an operation added to the table
//! without a row in [`ROWS`] (or a row left for a removed one) fails it by name. Each refused
//! write is checked to change nothing, each allowed one to take effect.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;

use reqwest::Method;
use reqwest::blocking::{Client, RequestBuilder, multipart};
use serde_json::{Value, json};

use crate::accounts::account_with_token;
use crate::server::{READY_DEADLINE, Server, poll};
use crate::{SONY, pictures};

/// The callers, in the order of the statuses of a row.
const CALLERS: [&str; 4] = ["anonymous", "owner", "other", "admin"];
/// The visibilities of the owner's data, in the order of the statuses of a data row.
const VISIBILITIES: [&str; 3] = ["anyone", "logged-only", "owner-only"];

/// The statuses an operation answers, by caller (anonymous, owner, other, admin).
type Statuses = [u16; 4];

/// What a row expects.
enum Cells {
    /// The operation touches no data of the owner that has a visibility: one status by caller.
    Free(Statuses),
    /// The operation touches the owner's sequence, picture or upload set: statuses by caller
    /// for data seen by anyone, by logged accounts only, by its owner only.
    Data([Statuses; 3]),
}

use Cells::{Data, Free};

/// Every operation of the API with what each caller gets. An operation of the route table
/// (`crates/flaneur-api/src/routes.rs`) needs its row here, keyed as the description's paths
/// are (without `/api`).
const ROWS: &[(&str, &str, Cells)] = &[
    ("GET", "/", Free([200, 200, 200, 200])),
    ("GET", "/conformance", Free([200, 200, 200, 200])),
    ("GET", "/configuration", Free([200, 200, 200, 200])),
    ("GET", "/docs/specs.json", Free([200, 200, 200, 200])),
    ("GET", "/docs/swagger", Free([200, 200, 200, 200])),
    ("GET", "/queryables", Free([200, 200, 200, 200])),
    ("GET", "/collections/queryables", Free([200, 200, 200, 200])),
    ("GET", "/collections", Free([200, 200, 200, 200])),
    ("GET", "/collections/{id}", Data(READ)),
    ("PATCH", "/collections/{id}", Data(OWN)),
    ("DELETE", "/collections/{id}", Data(DELETE)),
    ("GET", "/collections/{id}/items", Data(READ)),
    ("GET", "/collections/{id}/items/{item}", Data(READ)),
    ("PATCH", "/collections/{id}/items/{item}", Data(OWN)),
    ("DELETE", "/collections/{id}/items/{item}", Data(DELETE)),
    ("GET", "/collections/{id}/geovisio_status", Data(READ)),
    ("GET", "/collections/{id}/thumb.jpg", Data(READ)),
    ("GET", "/pictures/{id}", Data(READ)),
    ("GET", "/search", Free([200, 200, 200, 200])),
    ("POST", "/search", Free([200, 200, 200, 200])),
    ("GET", "/pictures/{id}/{file}", Data(READ)),
    ("GET", "/pictures/{id}/tiled/{tile}", Data(READ)),
    ("GET", "/map/style.json", Free([200, 200, 200, 200])),
    ("GET", "/map/{z}/{x}/{y_fmt}", Free([200, 200, 200, 200])),
    ("GET", "/users", Free([200, 200, 200, 200])),
    ("GET", "/users/search", Free([200, 200, 200, 200])),
    ("GET", "/users/{id}", Free([200, 200, 200, 200])),
    ("GET", "/users/{id}/collection", Free([200, 200, 200, 200])),
    ("GET", "/users/{id}/catalog", Free([200, 200, 200, 200])),
    (
        "GET",
        "/users/{id}/map/style.json",
        Free([200, 200, 200, 200]),
    ),
    (
        "GET",
        "/users/{id}/map/{z}/{x}/{y_fmt}",
        Free([200, 200, 200, 200]),
    ),
    ("GET", "/users/me", Free([401, 200, 200, 200])),
    ("PATCH", "/users/me", Free([401, 200, 200, 200])),
    ("GET", "/users/me/collection", Free([401, 302, 302, 302])),
    ("GET", "/users/me/catalog", Free([401, 302, 302, 302])),
    (
        "GET",
        "/users/me/map/style.json",
        Free([401, 200, 200, 200]),
    ),
    (
        "GET",
        "/users/me/map/{z}/{x}/{y_fmt}",
        Free([401, 200, 200, 200]),
    ),
    ("GET", "/users/me/tokens", Free([401, 200, 200, 200])),
    ("POST", "/users/me/tokens", Free([401, 200, 200, 200])),
    // The owner's token: nobody else learns of it.
    ("GET", "/users/me/tokens/{id}", Free([401, 200, 404, 404])),
    (
        "DELETE",
        "/users/me/tokens/{id}",
        Free([401, 200, 404, 404]),
    ),
    ("POST", "/auth/tokens/generate", Free([200, 200, 200, 200])),
    // A token just generated: shown to whoever calls, claimed by whoever posts.
    ("GET", "/auth/tokens/{id}/claim", Free([401, 200, 200, 200])),
    (
        "POST",
        "/auth/tokens/{id}/claim",
        Free([401, 200, 200, 200]),
    ),
    // Anonymous uploads are the instance's default account's, as on Panoramax instances that
    // do not force logins for uploads.
    ("POST", "/upload_sets", Free([200, 200, 200, 200])),
    ("GET", "/upload_sets/{id}", Data(READ)),
    ("DELETE", "/upload_sets/{id}", Data(DELETE_SET)),
    ("GET", "/upload_sets/{id}/files", Data(READ)),
    ("POST", "/upload_sets/{id}/files", Data(SEND)),
    ("POST", "/upload_sets/{id}/complete", Data(COMPLETE)),
    // A report of the owner's public picture, by anyone. `{id}` is a report the other account
    // made of it: its reporter, the owner of what it names and administrators read and
    // change it.
    ("POST", "/reports", Free([200, 200, 200, 200])),
    ("GET", "/reports", Free([401, 403, 403, 200])),
    ("GET", "/reports/{id}", Free([401, 200, 200, 200])),
    ("PATCH", "/reports/{id}", Free([401, 200, 200, 200])),
    ("GET", "/users/me/reports", Free([401, 200, 200, 200])),
    ("GET", "/admin/reports/stats", Free([401, 403, 403, 200])),
    ("GET", "/admin/stats", Free([401, 403, 403, 200])),
    // Public: only the text of a harvest's last error is kept for administrators.
    ("GET", "/federation/peers", Free([200, 200, 200, 200])),
    // Pages are the administrators' to write and anyone's to read; the terms of service are
    // written first, then read, their change announced, and removed last.
    ("POST", "/pages/{page}/{lang}", Free([401, 403, 403, 200])),
    ("PUT", "/pages/{page}/{lang}", Free([401, 403, 403, 200])),
    ("GET", "/pages/{page}", Free([200, 200, 200, 200])),
    ("GET", "/pages/{page}/{lang}", Free([200, 200, 200, 200])),
    (
        "POST",
        "/pages/{page}/publish-change",
        Free([401, 403, 403, 200]),
    ),
    (
        "PUT",
        "/pages/{page}/publish-change",
        Free([401, 403, 403, 200]),
    ),
    ("DELETE", "/pages/{page}/{lang}", Free([401, 403, 403, 204])),
    ("POST", "/users/me/accept_tos", Free([401, 200, 200, 200])),
    ("POST", "/users/me/tos_read", Free([401, 200, 200, 200])),
    // Excluded areas: the general ones are the administrators' to change; `{id}` is an area
    // of the owner's, or a general one, which no other account finds among its own.
    (
        "GET",
        "/configuration/excluded_areas",
        Free([200, 200, 200, 200]),
    ),
    (
        "POST",
        "/configuration/excluded_areas",
        Free([401, 403, 403, 200]),
    ),
    (
        "PUT",
        "/configuration/excluded_areas",
        Free([401, 403, 403, 200]),
    ),
    (
        "DELETE",
        "/configuration/excluded_areas/{id}",
        Free([401, 403, 403, 204]),
    ),
    (
        "GET",
        "/users/me/excluded_areas",
        Free([401, 200, 200, 200]),
    ),
    (
        "POST",
        "/users/me/excluded_areas",
        Free([401, 200, 200, 200]),
    ),
    (
        "DELETE",
        "/users/me/excluded_areas/{id}",
        Free([401, 204, 404, 404]),
    ),
    // Annotations: any logged-in account that sees a picture tags parts of it, as it tags the
    // picture. `{annotation}`, and `{id}` of `/annotations/{id}`, are annotations the owner
    // made on its first picture.
    (
        "POST",
        "/collections/{id}/items/{item}/annotations",
        Data(TAG),
    ),
    ("POST", "/pictures/{id}/annotations", Data(TAG)),
    (
        "GET",
        "/collections/{id}/items/{item}/annotations/{annotation}",
        Data(READ),
    ),
    ("GET", "/annotations/{id}", Data(READ)),
    (
        "PATCH",
        "/collections/{id}/items/{item}/annotations/{annotation}",
        Data(TAG),
    ),
    ("PATCH", "/annotations/{id}", Data(TAG)),
    (
        "DELETE",
        "/collections/{id}/items/{item}/annotations/{annotation}",
        Data(UNTAG),
    ),
    ("DELETE", "/annotations/{id}", Data(UNTAG)),
    // Without a login provider configured.
    ("GET", "/auth/login", Free([501, 501, 501, 501])),
    ("GET", "/auth/redirect", Free([501, 501, 501, 501])),
    ("GET", "/auth/logout", Free([501, 501, 501, 501])),
    (
        "GET",
        "/auth/post_logout_redirect",
        Free([501, 501, 501, 501]),
    ),
];

/// Reads: anyone's data by everyone, logged-only data by accounts, owner-only data by its
/// owner and administrators; hidden data is as unknown (404), never forbidden.
const READ: [Statuses; 3] = [
    [200, 200, 200, 200],
    [404, 200, 200, 200],
    [404, 200, 404, 200],
];
/// Changes of what only the owner and administrators may change.
const OWN: [Statuses; 3] = [
    [401, 200, 403, 200],
    [401, 200, 403, 200],
    [401, 200, 404, 200],
];
const DELETE: [Statuses; 3] = [
    [401, 204, 403, 204],
    [401, 204, 403, 204],
    [401, 204, 404, 204],
];
/// Changes of tags, which any account that sees the data may make.
const TAG: [Statuses; 3] = [
    [401, 200, 200, 200],
    [401, 200, 200, 200],
    [401, 200, 404, 200],
];
const UNTAG: [Statuses; 3] = [
    [401, 204, 204, 204],
    [401, 204, 204, 204],
    [401, 204, 404, 204],
];
/// Changes of an upload set: anonymous callers act for the default account, which owns none of
/// the owner's sets.
const DELETE_SET: [Statuses; 3] = [
    [403, 204, 403, 204],
    [404, 204, 403, 204],
    [404, 204, 404, 204],
];
const SEND: [Statuses; 3] = [
    [403, 202, 403, 202],
    [404, 202, 403, 202],
    [404, 202, 404, 202],
];
const COMPLETE: [Statuses; 3] = [
    [403, 200, 403, 200],
    [404, 200, 403, 200],
    [404, 200, 404, 200],
];

/// Requests that are no operation of the description: ids that are no UUID or try to leave
/// their place in the path, and ids of the wrong kind or owner. `{seq}`, `{pic}` and `{set}`
/// are the owner's, seen by anyone; `{hidden_seq}`, `{hidden_pic}`, `{hidden_set}` its
/// owner-only ones;
/// `{other_set}` an upload set of the other account seen by anyone.
const TRICKS: &[(&str, &str, Statuses)] = &[
    ("GET", "/collections/not-a-uuid", [404, 404, 404, 404]),
    ("GET", "/collections/..%2Fupload_sets", [404, 404, 404, 404]),
    ("GET", "/collections/{seq}%2Fitems", [404, 404, 404, 404]),
    (
        "GET",
        "/collections/{seq}/items/..%2F{pic}",
        [404, 404, 404, 404],
    ),
    ("GET", "/pictures/{pic}%2Fsd.jpg", [404, 404, 404, 404]),
    (
        "GET",
        "/pictures/{pic}/..%2F..%2Fconfiguration",
        [404, 404, 404, 404],
    ),
    (
        "GET",
        "/pictures/{pic}/tiled/..%2Fsd.jpg",
        [404, 404, 404, 404],
    ),
    ("PATCH", "/collections/not-a-uuid", [401, 404, 404, 404]),
    ("DELETE", "/collections/..%2F{seq}", [401, 404, 404, 404]),
    ("DELETE", "/upload_sets/not-a-uuid", [404, 404, 404, 404]),
    (
        "POST",
        "/upload_sets/..%2F{set}/complete",
        [404, 404, 404, 404],
    ),
    // A sequence's id is no upload set's, a picture's no sequence's.
    ("GET", "/upload_sets/{seq}", [404, 404, 404, 404]),
    ("GET", "/collections/{pic}", [404, 404, 404, 404]),
    ("PATCH", "/collections/{pic}", [401, 404, 404, 404]),
    // An item is reached only through its own sequence: another sequence's path names no
    // item, even for those who may see and change it.
    (
        "GET",
        "/collections/{seq}/items/{hidden_pic}",
        [404, 404, 404, 404],
    ),
    (
        "PATCH",
        "/collections/{seq}/items/{hidden_pic}",
        [401, 404, 404, 404],
    ),
    // Hidden data is unknown to those it is hidden from, whatever they ask.
    (
        "GET",
        "/collections/{hidden_seq}/items",
        [404, 200, 404, 200],
    ),
    ("PATCH", "/collections/{hidden_seq}", [401, 200, 404, 200]),
    (
        "GET",
        "/upload_sets/{hidden_set}/files",
        [404, 200, 404, 200],
    ),
    // An annotation is found only under its own picture, a picture only in its own
    // collection.
    (
        "GET",
        "/collections/{seq}/items/{pic}/annotations/{hidden_annotation}",
        [404, 404, 404, 404],
    ),
    (
        "POST",
        "/collections/{hidden_seq}/items/{pic}/annotations",
        [401, 404, 404, 404],
    ),
    // Sending a file into someone else's upload set.
    (
        "POST",
        "/upload_sets/{other_set}/files",
        [403, 403, 202, 202],
    ),
    (
        "POST",
        "/upload_sets/{other_set}/complete",
        [403, 403, 200, 200],
    ),
];

/// The owner's data seen by one visibility.
struct Owned {
    /// An upload set holding `sequence`.
    set: String,
    /// A sequence of pictures, the first of which is never deleted.
    sequence: String,
    pictures: Vec<String>,
    /// Pictures of `sequence` and whole sequences left for deletions.
    spare_pictures: RefCell<Vec<String>>,
    spare_sequences: RefCell<Vec<String>>,
    /// An annotation of the owner on the first picture, never deleted.
    annotation: String,
}

/// One server with the three accounts, the owner's data at each visibility, and what the cells
/// need besides.
struct Fixture {
    server: Server,
    _data: tempfile::TempDir,
    /// Tokens by caller; `anonymous` for none.
    tokens: [String; 4],
    owner_id: String,
    owned: Vec<Owned>,
    /// An upload set of the other account, seen by anyone.
    other_set: String,
    /// An API token of the owner that no cell revokes.
    spare_token: String,
    /// A report by the other account of the owner's picture seen by anyone.
    report: String,
    /// An excluded area of the owner's that no cell deletes.
    own_area: String,
    /// A client that follows no redirection and keeps no connection.
    client: Client,
    /// Makes each change different from the last.
    counter: Cell<u32>,
}

/// The description's operations, as `(METHOD, path)`.
fn operations(server: &Server) -> BTreeSet<(String, String)> {
    let document = server.get_ok("/docs/specs.json");
    let mut all = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            all.insert((method.to_uppercase(), path.clone()));
        }
    }
    all
}

/// How many cells of an operation at a visibility expect success: that many fresh objects.
fn successes(method: &str, path: &str, visibility: usize) -> usize {
    ROWS.iter()
        .filter(|(m, p, _)| *m == method && *p == path)
        .map(|(_, _, cells)| match cells {
            Data(statuses) => statuses[visibility]
                .iter()
                .filter(|s| is_success(**s))
                .count(),
            Free(_) => 0,
        })
        .sum()
}

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

impl Fixture {
    fn new() -> Fixture {
        let data = tempfile::tempdir().expect("data folder");
        let owner = account_with_token(data.path(), "owner", false);
        let other = account_with_token(data.path(), "other", false);
        let admin = account_with_token(data.path(), "admin", true);
        let server = Server::start_in(data.path());
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(0)
            .no_proxy()
            .build()
            .expect("client");
        let mut fixture = Fixture {
            server,
            _data: data,
            tokens: ["anonymous".to_owned(), owner, other, admin],
            owner_id: String::new(),
            owned: Vec::new(),
            other_set: String::new(),
            spare_token: String::new(),
            report: String::new(),
            own_area: String::new(),
            client,
            counter: Cell::new(0),
        };
        let (_, me) = fixture.send_as(1, Method::GET, "/users/me", None);
        fixture.owner_id = me["id"].as_str().expect("account id").to_owned();
        let (_, token) = fixture.send_as(1, Method::POST, "/users/me/tokens", Some(json!({})));
        fixture.spare_token = token["id"].as_str().expect("token id").to_owned();
        fixture.other_set = fixture.upload_set(2, "anyone", 10);

        // Every upload first, so that the workers process them together; then each sequence
        // is waited for, and given its visibility again by its owner.
        let mut sets = Vec::new();
        for (v, visibility) in VISIBILITIES.iter().enumerate() {
            let extra = successes("DELETE", "/collections/{id}/items/{item}", v);
            let walk = crate::GOPRO[..1 + extra].to_vec();
            let mut mine = vec![(fixture.upload(visibility, &walk), walk.len())];
            for _ in 0..successes("DELETE", "/collections/{id}", v) {
                mine.push((fixture.upload(visibility, &SONY[3..4]), 1));
            }
            sets.push(mine);
        }
        for (v, mine) in sets.into_iter().enumerate() {
            let mut sequences = Vec::new();
            for (set, count) in mine {
                let sequence = fixture.wait_ready(&set);
                let path = format!("/collections/{sequence}");
                let body = json!({ "visibility": VISIBILITIES[v] });
                let (status, answer) = fixture.send_as(1, Method::PATCH, &path, Some(body));
                assert!(
                    [200, 304].contains(&status),
                    "PATCH {path}: {status} {answer}"
                );
                let (_, items) = fixture.send_as(1, Method::GET, &format!("{path}/items"), None);
                let pictures: Vec<String> = items["features"]
                    .as_array()
                    .expect("items")
                    .iter()
                    .map(|f| f["id"].as_str().expect("item id").to_owned())
                    .collect();
                assert_eq!(pictures.len(), count, "{items}");
                sequences.push((set, sequence, pictures));
            }
            let (set, sequence, mut pictures) = sequences.remove(0);
            let spare_pictures = pictures.split_off(1);
            fixture.owned.push(Owned {
                set,
                sequence,
                pictures,
                spare_pictures: RefCell::new(spare_pictures),
                spare_sequences: RefCell::new(sequences.into_iter().map(|(_, s, _)| s).collect()),
                annotation: String::new(),
            });
        }
        let body = json!({ "issue": "mislocated", "picture_id": fixture.owned[0].pictures[0] });
        let (status, report) = fixture.send_as(2, Method::POST, "/reports", Some(body));
        assert_eq!(status, 200, "{report}");
        fixture.report = report["id"].as_str().expect("report id").to_owned();
        fixture.own_area = fixture.excluded_area(1, "/users/me/excluded_areas");
        for v in 0..VISIBILITIES.len() {
            fixture.owned[v].annotation = fixture.annotation(v);
        }
        fixture
    }

    /// A request of `caller`, with a body: JSON, or a multipart form for `Part`.
    fn request(&self, caller: usize, method: Method, path: &str) -> RequestBuilder {
        let request = self.client.request(method, self.server.url(path));
        match caller {
            0 => request,
            _ => request.bearer_auth(&self.tokens[caller]),
        }
    }

    /// Sends a request as `caller`; returns its status and its JSON body (`null` for none or
    /// what is no JSON).
    fn send_as(
        &self,
        caller: usize,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.request(caller, method.clone(), path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        answer(request, &method, path)
    }

    /// A new upload set of the owner (or `caller`) seen by `visibility`, expecting `files`.
    fn upload_set(&self, caller: usize, visibility: &str, files: usize) -> String {
        let body = json!({
            "title": "matrix",
            "visibility": visibility,
            "estimated_nb_files": files,
        });
        let (status, set) = self.send_as(caller, Method::POST, "/upload_sets", Some(body));
        assert_eq!(status, 200, "{set}");
        set["id"].as_str().expect("upload set id").to_owned()
    }

    /// Sends `names` as the owner into a new upload set seen by `visibility`; returns the set.
    fn upload(&self, visibility: &str, names: &[&str]) -> String {
        let set = self.upload_set(1, visibility, names.len());
        for path in pictures(names) {
            let bytes = std::fs::read(&path).expect("picture");
            let name = path.file_name().and_then(|n| n.to_str()).expect("name");
            let (status, body) = self.send_file(1, &set, name, bytes);
            assert_eq!(status, 202, "{body}");
        }
        set
    }

    /// Sends a picture into `set` as `caller`. The bytes get a mark after the image's end, so
    /// that no two sendings are the same file, which the server would refuse as sent already.
    fn send_file(&self, caller: usize, set: &str, name: &str, mut bytes: Vec<u8>) -> (u16, Value) {
        let n = self.next();
        bytes.extend_from_slice(format!("matrix {n}").as_bytes());
        let part = multipart::Part::bytes(bytes)
            .file_name(format!("{n}-{name}"))
            .mime_str("image/jpeg")
            .expect("mime");
        let path = format!("/upload_sets/{set}/files");
        let request = self.request(caller, Method::POST, &path);
        answer(
            request.multipart(multipart::Form::new().part("file", part)),
            &Method::POST,
            &path,
        )
    }

    /// Waits until the owner sees `set` ready; returns its sequence.
    fn wait_ready(&self, set: &str) -> String {
        let path = format!("/upload_sets/{set}");
        let ready = poll(READY_DEADLINE, &format!("upload set {set} ready"), || {
            let (_, body) = self.send_as(1, Method::GET, &path, None);
            (body["ready"] == json!(true)).then_some(body)
        })
        .unwrap_or_else(|last| panic!("{last}\nlogs:\n{}", self.server.logs()));
        ready["associated_collections"][0]["id"]
            .as_str()
            .expect("collection id")
            .to_owned()
    }

    /// A new excluded area made by `caller` at `list`; returns its id.
    fn excluded_area(&self, caller: usize, list: &str) -> String {
        let Body::Json(body) = self.body("POST", list, caller, 200) else {
            unreachable!("an area is sent as JSON")
        };
        let (status, area) = self.send_as(caller, Method::POST, list, Some(body));
        assert_eq!(status, 200, "POST {list}: {area}");
        area["properties"]["id"]
            .as_str()
            .expect("area id")
            .to_owned()
    }

    /// A new annotation of the owner on its first picture seen by `visibility`; returns its id.
    fn annotation(&self, visibility: usize) -> String {
        let picture = &self.owned[visibility].pictures[0];
        let path = format!("/pictures/{picture}/annotations");
        let Body::Json(body) = self.body("POST", &path, 1, 200) else {
            unreachable!("an annotation is sent as JSON")
        };
        let (status, annotation) = self.send_as(1, Method::POST, &path, Some(body));
        assert_eq!(status, 200, "POST {path}: {annotation}");
        annotation["id"].as_str().expect("annotation id").to_owned()
    }

    fn next(&self) -> u32 {
        self.counter.set(self.counter.get() + 1);
        self.counter.get()
    }
}

/// The status of an answer and its JSON body, `null` when it has none or it is no JSON.
fn answer(request: RequestBuilder, method: &Method, path: &str) -> (u16, Value) {
    let response = request
        .send()
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = response.status().as_u16();
    let text = response.text().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// What a cell sends.
enum Body {
    None,
    Json(Value),
    /// A picture, whole when the upload should be accepted; a few bytes otherwise, as a
    /// refusal comes before the body is read.
    File(Vec<u8>),
    /// An HTML text.
    Html(String),
}

/// A tile of the GoPro walk's place.
const TILE: &str = "15/16558/11252.mvt";

impl Fixture {
    /// The path of a cell: `template` with the ids of the owner's data seen by `visibility`,
    /// fresh ones for writes expected to succeed where the write uses its object up.
    fn fill(&self, method: &str, template: &str, visibility: usize, expected: u16) -> String {
        let owned = &self.owned[visibility];
        let fresh = method != "GET" && is_success(expected);
        let pop = |spares: &RefCell<Vec<String>>| {
            spares.borrow_mut().pop().unwrap_or_else(|| {
                panic!("no object left for {method} {template}: the fixture counts too few")
            })
        };
        let id = if template.starts_with("/collections/{id}") {
            if fresh && method == "DELETE" && template == "/collections/{id}" {
                pop(&owned.spare_sequences)
            } else {
                owned.sequence.clone()
            }
        } else if template.starts_with("/pictures/{id}") {
            owned.pictures[0].clone()
        } else if template.starts_with("/upload_sets/{id}") {
            if fresh {
                self.upload_set(1, VISIBILITIES[visibility], 1)
            } else {
                owned.set.clone()
            }
        } else if template.starts_with("/users/me/tokens/{id}") {
            if fresh {
                let body = Some(json!({ "description": "revoked" }));
                let (_, token) = self.send_as(1, Method::POST, "/users/me/tokens", body);
                token["id"].as_str().expect("token id").to_owned()
            } else {
                self.spare_token.clone()
            }
        } else if template.starts_with("/reports/{id}") {
            self.report.clone()
        } else if template == "/users/me/excluded_areas/{id}" {
            match fresh {
                true => self.excluded_area(1, "/users/me/excluded_areas"),
                false => self.own_area.clone(),
            }
        } else if template == "/configuration/excluded_areas/{id}" {
            // Always a new one: replacing the general areas (PUT) removed the earlier ones.
            self.excluded_area(3, "/configuration/excluded_areas")
        } else if template == "/annotations/{id}" {
            match fresh && method == "DELETE" {
                true => self.annotation(visibility),
                false => owned.annotation.clone(),
            }
        } else if template.starts_with("/auth/tokens/{id}") {
            let (_, token) = self.send_as(0, Method::POST, "/auth/tokens/generate", None);
            token["id"].as_str().expect("generated token id").to_owned()
        } else {
            self.owner_id.clone()
        };
        let item = if fresh && method == "DELETE" && template.ends_with("{item}") {
            pop(&owned.spare_pictures)
        } else {
            owned.pictures[0].clone()
        };
        let annotation = match fresh && method == "DELETE" {
            true if template.contains("{annotation}") => self.annotation(visibility),
            _ => owned.annotation.clone(),
        };
        let hidden = &self.owned[2];
        template
            .replace("{annotation}", &annotation)
            .replace("{hidden_annotation}", &hidden.annotation)
            .replace("{id}", &id)
            .replace("{item}", &item)
            .replace("/users/search", "/users/search?q=own")
            .replace("{file}", "sd.jpg")
            .replace("{tile}", "0_0.jpg")
            .replace("{page}", "terms-of-service")
            .replace("{lang}", "en")
            .replace("{z}/{x}/{y_fmt}", TILE)
            .replace("{seq}", &self.owned[0].sequence)
            .replace("{pic}", &self.owned[0].pictures[0])
            .replace("{hidden_seq}", &hidden.sequence)
            .replace("{hidden_pic}", &hidden.pictures[0])
            .replace("{set}", &self.owned[0].set)
            .replace("{hidden_set}", &hidden.set)
            .replace("{other_set}", &self.other_set)
    }

    /// What is read, as the owner or the caller, to see whether a write took effect.
    fn watched(
        &self,
        method: &str,
        template: &str,
        path: &str,
        caller: usize,
    ) -> Vec<(usize, String)> {
        if method == "GET" || template == "/search" {
            return Vec::new();
        }
        // A new annotation shows in its picture; one changed or deleted in itself.
        if let Some(picture) = template
            .ends_with("/annotations")
            .then(|| path.trim_end_matches("/annotations"))
        {
            return vec![(1, picture.to_owned())];
        }
        if template.contains("annotation") {
            return vec![(1, path.to_owned())];
        }
        if template.starts_with("/reports/{id}") {
            return vec![(3, path.to_owned())];
        }
        if template.starts_with("/pages/") {
            return vec![(0, "/pages/terms-of-service".to_owned())];
        }
        if template == "/users/me/excluded_areas/{id}" {
            return vec![(1, "/users/me/excluded_areas".to_owned())];
        }
        if template == "/configuration/excluded_areas/{id}" {
            return vec![(3, "/configuration/excluded_areas?all=true".to_owned())];
        }
        if template.starts_with("/upload_sets/{id}") {
            let set = path
                .trim_end_matches("/files")
                .trim_end_matches("/complete");
            return vec![(1, set.to_owned()), (1, format!("{set}/files"))];
        }
        if template.starts_with("/collections/{id}")
            || template.starts_with("/users/me/tokens/{id}")
        {
            return vec![(1, path.to_owned())];
        }
        match (template, caller) {
            (_, 0) => Vec::new(),
            ("/users/me" | "/users/me/accept_tos", _) => vec![(caller, "/users/me".to_owned())],
            ("/users/me/tokens" | "/auth/tokens/{id}/claim", _) => {
                vec![(caller, "/users/me/tokens".to_owned())]
            }
            _ => Vec::new(),
        }
    }

    fn snapshot(&self, watched: &[(usize, String)]) -> Vec<(u16, Value)> {
        watched
            .iter()
            .map(|(caller, path)| self.send_as(*caller, Method::GET, path, None))
            .collect()
    }

    /// The body of a cell.
    fn body(&self, method: &str, template: &str, caller: usize, expected: u16) -> Body {
        let n = self.next();
        match (method, template) {
            ("PATCH", "/users/me") => {
                let (_, me) = self.send_as(caller, Method::GET, "/users/me", None);
                let collaborative = me["collaborative_metadata"] != json!(true);
                Body::Json(json!({ "collaborative_metadata": collaborative }))
            }
            ("POST", "/reports") => Body::Json(json!({
                "issue": "mislocated",
                "picture_id": self.owned[0].pictures[0],
            })),
            // Each caller moves the report to another status than the last.
            ("PATCH", "/reports/{id}") => {
                let status = ["waiting", "closed_solved"][caller % 2];
                Body::Json(json!({ "status": status }))
            }
            // A new shape each time, inside every picture of the fixture.
            ("POST", t) if t.ends_with("/annotations") => Body::Json(json!({
                "shape": [n, 0, n + 10, 10],
                "semantics": [{ "key": "matrix", "value": "sign" }],
            })),
            ("PATCH", t) if t.contains("annotation") => Body::Json(json!({
                "semantics": [{ "key": "matrix", "value": format!("change {n}") }],
            })),
            ("PATCH", t) if t.contains("/items/") => Body::Json(json!({ "pitch": n % 80 })),
            ("PATCH", _) => Body::Json(json!({ "title": format!("Walk {n}") })),
            ("POST", "/search") => Body::Json(json!({ "limit": 1 })),
            ("POST", "/users/me/tokens") => Body::Json(json!({ "description": "matrix" })),
            // A small square in the sea, far from every picture of the fixture.
            ("POST", t) if t.ends_with("/excluded_areas") => Body::Json(json!({
                "type": "Feature",
                "geometry": { "type": "Polygon", "coordinates": [[
                    [0.0, 0.0], [0.001, 0.0], [0.001, 0.001], [0.0, 0.001], [0.0, 0.0]
                ]]},
                "properties": { "label": "matrix" },
            })),
            ("PUT", "/configuration/excluded_areas") => {
                Body::Json(json!({ "type": "FeatureCollection", "features": [] }))
            }
            ("POST" | "PUT", "/pages/{page}/{lang}") => Body::Html(format!("<p>Terms {n}</p>")),
            ("POST", "/upload_sets") => {
                Body::Json(json!({ "title": "matrix", "estimated_nb_files": 1 }))
            }
            ("POST", t) if t.ends_with("/files") => {
                let mut bytes = std::fs::read(&pictures(&SONY[4..])[0]).expect("picture");
                if !is_success(expected) {
                    bytes.truncate(200);
                }
                Body::File(bytes)
            }
            _ => Body::None,
        }
    }

    /// Runs one cell; returns what is wrong with it.
    fn run(
        &self,
        method: &str,
        template: &str,
        caller: usize,
        visibility: usize,
        expected: u16,
    ) -> Option<String> {
        let path = self.fill(method, template, visibility, expected);
        let who = CALLERS[caller];
        let on = VISIBILITIES[visibility];
        let body = self.body(method, template, caller, expected);
        let watched = self.watched(method, template, &path, caller);
        let before = self.snapshot(&watched);
        let verb: Method = method.parse().expect("method");
        let (status, answer) = match body {
            Body::None => self.send_as(caller, verb, &path, None),
            Body::Json(body) => self.send_as(caller, verb, &path, Some(body)),
            Body::Html(html) => {
                let request = self.request(caller, verb.clone(), &path);
                let request = request.header("Content-Type", "text/html").body(html);
                answer(request, &verb, &path)
            }
            Body::File(bytes) => {
                let set = path
                    .trim_start_matches("/upload_sets/")
                    .trim_end_matches("/files");
                self.send_file(caller, set, SONY[4], bytes)
            }
        };
        let cell = format!("{method} {path} ({template}) as {who} on data seen by {on}");
        if status != expected {
            return Some(format!(
                "{cell}: expected {expected}, got {status}: {answer}"
            ));
        }
        let after = self.snapshot(&watched);
        if !is_success(status) && after != before {
            return Some(format!(
                "{cell}: refused but changed {before:?} into {after:?}"
            ));
        }
        let reads_itself = watched.first().is_some_and(|(_, p)| *p == path);
        if is_success(status)
            && method == "DELETE"
            && reads_itself
            && after.first().is_some_and(|(s, _)| *s != 404)
        {
            return Some(format!("{cell}: deleted but still there: {after:?}"));
        }
        if is_success(status) && after == before && !watched.is_empty() {
            return Some(format!("{cell}: allowed but changed nothing: {after:?}"));
        }
        None
    }
}

#[test]
fn each_caller_may_do_what_the_matrix_says_and_nothing_more() {
    let fixture = Fixture::new();

    // The rows and the route table name the same operations.
    let served = operations(&fixture.server);
    let rows: BTreeSet<(String, String)> = ROWS
        .iter()
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(rows.len(), ROWS.len(), "an operation has two rows in ROWS");
    let mut wrong = Vec::new();
    for (method, path) in served.difference(&rows) {
        wrong.push(format!(
            "{method} /api{path} is in the route table but has no row: add one to ROWS in \
             crates/flaneur/tests/api/authorization.rs"
        ));
    }
    for (method, path) in rows.difference(&served) {
        wrong.push(format!(
            "ROWS in crates/flaneur/tests/api/authorization.rs has a row for {method} \
             /api{path}, which the route table no longer has: remove it"
        ));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    let mut cells = 0;
    for (method, template, expected) in ROWS {
        let by_visibility: Vec<(usize, &Statuses)> = match expected {
            Free(statuses) => vec![(0, statuses)],
            Data(statuses) => statuses.iter().enumerate().collect(),
        };
        for (visibility, statuses) in by_visibility {
            for (caller, status) in statuses.iter().enumerate() {
                cells += 1;
                wrong.extend(fixture.run(method, template, caller, visibility, *status));
            }
        }
    }
    for (method, template, statuses) in TRICKS {
        for (caller, status) in statuses.iter().enumerate() {
            cells += 1;
            wrong.extend(fixture.run(method, template, caller, 0, *status));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} cells of {cells} differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
