//! The OpenAPI 3.0 description of the API, served at `/api/docs/specs.json` and linked from
//! the landing page as its `service-desc` (STAC API core asks for one).
//!
//! This module owns the words of the description ([`Operation`]) and how they become the
//! document; which operations exist is the route table's business (`routes.rs`), which builds
//! the router and this document from the same entries, so neither can list what the other
//! lacks. The shapes the operations answer with are in [`schemas`].

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::url::BaseUrl;

pub mod page;
pub mod schemas;

/// The media type of the document, and of the `service-desc` link to it.
pub const MEDIA_TYPE: &str = "application/vnd.oai.openapi+json;version=3.0";

/// The path of the document under the API root, where Panoramax instances keep theirs.
pub const PATH: &str = "/docs/specs.json";

/// The path of the page showing the document to a person, under the API root.
pub const PAGE_PATH: &str = "/docs/swagger";

/// The media type of GeoJSON answers.
pub const GEOJSON: &str = "application/geo+json";

/// The media type of JSON answers.
pub const JSON: &str = "application/json";

/// How one operation is described: what it is for, what it reads and what it answers.
#[derive(Debug, Clone)]
pub struct Operation {
    tag: &'static str,
    summary: &'static str,
    description: Option<String>,
    params: Vec<Param>,
    body: Option<Value>,
    answers: BTreeMap<u16, Answer>,
}

/// Where a parameter is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// A `{name}` segment of the path.
    Path,
    /// A query parameter.
    Query,
    /// A request header.
    Header,
}

impl Location {
    fn as_str(self) -> &'static str {
        match self {
            Location::Path => "path",
            Location::Query => "query",
            Location::Header => "header",
        }
    }
}

/// One parameter of an operation.
#[derive(Debug, Clone)]
pub struct Param {
    /// Its name, as the handler reads it.
    pub name: &'static str,
    /// Where it is read from.
    pub location: Location,
    description: &'static str,
    is_required: bool,
    schema: Value,
    /// Lists given as `a,b,c` rather than as repeated parameters.
    is_comma_list: bool,
}

#[derive(Debug, Clone, Default)]
struct Answer {
    description: String,
    content: Vec<(&'static str, Value)>,
    headers: Vec<(&'static str, &'static str)>,
}

impl Operation {
    /// An operation of the group `tag`, with a one-line summary.
    pub fn new(tag: &'static str, summary: &'static str) -> Operation {
        Operation {
            tag,
            summary,
            description: None,
            params: Vec::new(),
            body: None,
            answers: BTreeMap::new(),
        }
    }

    /// `self` passed through `add`, which adds parameters shared by several operations.
    pub fn then(self, add: impl FnOnce(Operation) -> Operation) -> Operation {
        add(self)
    }

    /// Adds a paragraph to the longer description (CommonMark).
    pub fn describe(mut self, text: &'static str) -> Operation {
        self.description = Some(match self.description.take() {
            Some(before) => format!("{before}\n\n{text}"),
            None => text.to_owned(),
        });
        self
    }

    /// Adds a `{name}` segment of the path.
    pub fn path(self, name: &'static str, description: &'static str, schema: Value) -> Operation {
        self.param(name, Location::Path, description, schema, true, false)
    }

    /// Adds an optional query parameter.
    pub fn query(self, name: &'static str, description: &'static str, schema: Value) -> Operation {
        self.param(name, Location::Query, description, schema, false, false)
    }

    /// Adds a query parameter the operation cannot do without.
    pub fn query_required(
        self,
        name: &'static str,
        description: &'static str,
        schema: Value,
    ) -> Operation {
        self.param(name, Location::Query, description, schema, true, false)
    }

    /// Adds an optional query parameter holding a comma-separated list.
    pub fn query_list(
        self,
        name: &'static str,
        description: &'static str,
        schema: Value,
    ) -> Operation {
        self.param(name, Location::Query, description, schema, false, true)
    }

    /// Adds an optional request header the operation reads.
    pub fn header(self, name: &'static str, description: &'static str) -> Operation {
        let schema = json!({ "type": "string" });
        self.param(name, Location::Header, description, schema, false, false)
    }

    fn param(
        mut self,
        name: &'static str,
        location: Location,
        description: &'static str,
        schema: Value,
        is_required: bool,
        is_comma_list: bool,
    ) -> Operation {
        self.params.push(Param {
            name,
            location,
            description,
            is_required,
            schema,
            is_comma_list,
        });
        self
    }

    /// Adds a required request body: media types and their schemas.
    pub fn body(mut self, content: &[(&'static str, Value)]) -> Operation {
        let content: Map<String, Value> = content
            .iter()
            .map(|(media, schema)| ((*media).to_owned(), json!({ "schema": schema })))
            .collect();
        self.body = Some(json!({ "required": true, "content": content }));
        self
    }

    /// Adds an answer with a body of `media` type; called again with the same status, adds
    /// another media type to that answer.
    pub fn answer(
        mut self,
        status: u16,
        description: &'static str,
        media: &'static str,
        schema: Value,
    ) -> Operation {
        let answer = self.answers.entry(status).or_default();
        if answer.description.is_empty() {
            answer.description = description.to_owned();
        } else if !answer.description.contains(description) {
            answer.description = format!("{}; or {description}", answer.description);
        }
        answer.content.push((media, schema));
        self
    }

    /// Adds an answer without a body.
    pub fn answer_empty(mut self, status: u16, description: &'static str) -> Operation {
        self.answers.entry(status).or_default().description = description.to_owned();
        self
    }

    /// Adds a header to the answer of `status`, which must be declared before.
    pub fn answer_header(
        mut self,
        status: u16,
        name: &'static str,
        description: &'static str,
    ) -> Operation {
        self.answers
            .entry(status)
            .or_default()
            .headers
            .push((name, description));
        self
    }

    /// Adds the error answers of `statuses`, each a JSON [`schemas::ERROR`] body.
    pub fn errors(mut self, statuses: &[u16]) -> Operation {
        for &status in statuses {
            self = self.answer(
                status,
                error_description(status),
                JSON,
                schemas::reference(schemas::ERROR),
            );
        }
        self
    }

    /// The names of the query parameters described.
    pub fn query_names(&self) -> Vec<&'static str> {
        self.parameters(Location::Query).map(|p| p.name).collect()
    }

    /// The parameters described at `location`.
    pub fn parameters(&self, location: Location) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(move |p| p.location == location)
    }

    /// The statuses of the answers described.
    pub fn statuses(&self) -> impl Iterator<Item = u16> {
        self.answers.keys().copied()
    }

    fn to_json(&self, method: &str, path: &str) -> Value {
        let parameters: Vec<Value> = self.params.iter().map(Param::to_json).collect();
        let responses: Map<String, Value> = self
            .answers
            .iter()
            .map(|(status, answer)| (status.to_string(), answer.to_json()))
            .collect();
        let mut operation = json!({
            "tags": [self.tag],
            "summary": self.summary,
            "operationId": operation_id(method, path),
            "parameters": parameters,
            "responses": responses,
        });
        if let Some(description) = &self.description {
            operation["description"] = json!(description);
        }
        if let Some(body) = &self.body {
            operation["requestBody"] = body.clone();
        }
        operation
    }
}

impl Param {
    fn to_json(&self) -> Value {
        let mut param = json!({
            "name": self.name,
            "in": self.location.as_str(),
            "description": self.description,
            "required": self.is_required,
            "schema": self.schema,
        });
        if self.is_comma_list {
            param["style"] = json!("form");
            param["explode"] = json!(false);
        }
        param
    }
}

impl Answer {
    fn to_json(&self) -> Value {
        let mut answer = json!({ "description": self.description });
        if !self.content.is_empty() {
            let content: Map<String, Value> = self
                .content
                .iter()
                .map(|(media, schema)| ((*media).to_owned(), json!({ "schema": schema })))
                .collect();
            answer["content"] = Value::Object(content);
        }
        if !self.headers.is_empty() {
            let headers: Map<String, Value> = self
                .headers
                .iter()
                .map(|(name, description)| {
                    let header =
                        json!({ "description": description, "schema": { "type": "string" } });
                    ((*name).to_owned(), header)
                })
                .collect();
            answer["headers"] = Value::Object(headers);
        }
        answer
    }
}

/// What an error status means on every route of this API.
fn error_description(status: u16) -> &'static str {
    match status {
        400 => "Invalid parameters; the message says which and why",
        401 => {
            "No credentials where an account is needed, or a token this instance did not \
                make"
        }
        403 => {
            "Not allowed: a token revoked or not yet claimed, data of another account, or \
                a picture still being processed"
        }
        404 => "No such resource, or an id that is not a UUID",
        409 => "Conflicts with what the upload set or the instance already holds",
        413 => "The request body is larger than this route accepts",
        415 => "The request body is not of the media type this route reads",
        416 => "The range asked for lies outside the file",
        429 => "Too many such requests from this client; `Retry-After` says when to try again",
        500 => "Internal error; the body's request_id finds its cause in the instance's logs",
        501 => "Not offered by this instance: no login provider is configured",
        _ => "Error",
    }
}

/// A stable identifier for an operation: its method and path words, `get_collections_id`.
fn operation_id(method: &str, path: &str) -> String {
    let words: Vec<String> = path
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    if words.is_empty() {
        return format!("{method}_landing");
    }
    format!("{method}_{}", words.join("_"))
}

/// The path of a route in the document, which names the API root as its server: `/api/x`
/// is `/x`, and `/api` itself `/`. `None` for routes outside the API.
pub fn document_path(route: &str) -> Option<&str> {
    match route.strip_prefix("/api")? {
        "" => Some("/"),
        rest if rest.starts_with('/') => Some(rest),
        _ => None,
    }
}

/// The `{name}` segments of a path template, in order.
pub fn path_names(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .collect()
}

/// The document describing `operations` (HTTP method in lowercase, route path, description),
/// without its `servers`, which depend on the address a client used (see [`with_server`]).
pub fn document<'a>(
    version: &str,
    operations: impl IntoIterator<Item = (&'a str, &'a str, &'a Operation)>,
) -> Value {
    let mut paths = Map::new();
    let mut tags: Vec<&str> = Vec::new();
    for (method, route, operation) in operations {
        let Some(path) = document_path(route) else {
            continue;
        };
        if !tags.contains(&operation.tag) {
            tags.push(operation.tag);
        }
        let entry = paths.entry(path).or_insert_with(|| json!({}));
        entry[method] = operation.to_json(method, path);
    }
    let tags: Vec<Value> = tags.iter().map(|name| json!({ "name": name })).collect();
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Flâneur API",
            "version": version,
            "description": concat!(
                "The API of a Flâneur instance: a STAC API over its sequences (collections) ",
                "and pictures (items), the Panoramax routes to upload pictures in upload ",
                "sets, picture files, vector tiles of the map, and accounts. Errors are JSON ",
                "`{message, status_code, details?}`."
            ),
            "license": { "name": "MIT" },
        },
        "tags": tags,
        "paths": paths,
        "components": { "schemas": schemas::components() },
    })
}

/// `document` with `base` as its only server.
pub fn with_server(mut document: Value, base: &BaseUrl) -> Value {
    document["servers"] = json!([{ "url": base.api("") }]);
    document
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_path_parameters() {
        let names = path_names("/api/map/{z}/{x}/{y_fmt}");
        assert_eq!(names, ["z", "x", "y_fmt"]);
    }

    #[test]
    fn document_paths_are_under_the_api_root() {
        assert_eq!(document_path("/api"), Some("/"));
        assert_eq!(document_path("/api/search"), Some("/search"));
        assert_eq!(document_path("/apix"), None);
        assert_eq!(document_path("/assets/{*path}"), None);
    }

    #[test]
    fn operation_ids_name_method_and_path() {
        assert_eq!(operation_id("get", "/"), "get_landing");
        assert_eq!(
            operation_id("post", "/upload_sets/{id}/files"),
            "post_upload_sets_id_files"
        );
        assert_eq!(operation_id("get", "/map/style.json"), "get_map_style_json");
    }

    #[test]
    fn answers_of_one_status_gather_their_media_types() {
        let operation = Operation::new("t", "s")
            .answer(200, "JSON", JSON, json!({}))
            .answer(200, "RSS", "application/rss+xml", json!({}));
        let answer = operation.to_json("get", "/x")["responses"]["200"].clone();
        assert_eq!(answer["description"], json!("JSON; or RSS"));
        assert_eq!(answer["content"].as_object().map(Map::len), Some(2));
    }
}
