//! The OpenAPI document as a web page for a person, served at `/api/docs/swagger` where
//! Panoramax instances serve theirs.
//!
//! The page is rendered here from the document itself, as plain HTML with no script and no
//! asset: it works offline, whether or not the web front-end is built, and cannot show
//! anything the document does not say. It lists the operations by group with their
//! parameters, bodies and answers, then the component schemas as JSON.

use std::fmt::Write;

use serde_json::{Map, Value};

use crate::html::escape;

/// The page describing `document`, whose JSON lives at `document_href`.
pub fn html(document: &Value, document_href: &str) -> String {
    let info = &document["info"];
    let title = text(&info["title"]);
    let mut page = String::with_capacity(64 << 10);
    let _ = write!(
        page,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <link rel=\"icon\" href=\"/static/logo.svg\" type=\"image/svg+xml\">\
         <title>{title}</title><style>{STYLE}</style></head><body><header>\
         <h1>{title} <small>{version}</small></h1><p>{description}</p>\
         <p>Server: <code>{server}</code> · The same as OpenAPI 3.0 JSON: \
         <a href=\"{href}\">{href}</a></p></header><nav>",
        version = escape(&text(&info["version"])),
        description = inline(&text(&info["description"])),
        server = escape(&text(&document["servers"][0]["url"])),
        href = escape(document_href),
    );

    let tags: Vec<String> = list(&document["tags"])
        .iter()
        .map(|t| text(&t["name"]))
        .collect();
    for tag in &tags {
        let _ = write!(page, "<a href=\"#{}\">{}</a>", anchor(tag), escape(tag));
    }
    page.push_str("<a href=\"#schemas\">Schemas</a></nav><main>");

    let paths = object(&document["paths"]);
    for tag in &tags {
        let _ = write!(
            page,
            "<section id=\"{}\"><h2>{}</h2>",
            anchor(tag),
            escape(tag)
        );
        for (path, item) in &paths {
            for (method, operation) in object(item) {
                if list(&operation["tags"]).iter().any(|t| text(t) == *tag) {
                    write_operation(&mut page, &method, path, &operation);
                }
            }
        }
        page.push_str("</section>");
    }

    page.push_str("<section id=\"schemas\"><h2>Schemas</h2>");
    for (name, schema) in object(&document["components"]["schemas"]) {
        let json = serde_json::to_string_pretty(&schema).unwrap_or_default();
        let _ = write!(
            page,
            "<details id=\"schema-{name}\"><summary>{name}</summary><pre>{json}</pre></details>",
            name = escape(&name),
            json = escape(&json),
        );
    }
    page.push_str("</section></main></body></html>");
    page
}

fn write_operation(page: &mut String, method: &str, path: &str, operation: &Value) {
    let _ = write!(
        page,
        "<details class=\"op\" id=\"{id}\"><summary><span class=\"method {method}\">{upper}\
         </span> <code>{path}</code> {summary}</summary>",
        id = escape(&text(&operation["operationId"])),
        upper = method.to_ascii_uppercase(),
        path = escape(path),
        summary = escape(&text(&operation["summary"])),
    );
    if let Some(description) = operation["description"].as_str() {
        let _ = write!(page, "<p>{}</p>", inline(description));
    }

    let params = list(&operation["parameters"]);
    if !params.is_empty() {
        page.push_str(
            "<h4>Parameters</h4><table><tr><th>Name</th><th>In</th><th>Schema</th>\
             <th>Description</th></tr>",
        );
        for p in params {
            let required = if p["required"] == Value::Bool(true) {
                " <em>required</em>"
            } else {
                ""
            };
            let comma = if p["explode"] == Value::Bool(false) {
                ", comma-separated"
            } else {
                ""
            };
            let _ = write!(
                page,
                "<tr><td><code>{name}</code>{required}</td><td>{location}</td>\
                 <td>{schema}{comma}</td><td>{description}</td></tr>",
                name = escape(&text(&p["name"])),
                location = escape(&text(&p["in"])),
                schema = schema_summary(&p["schema"]),
                description = inline(&text(&p["description"])),
            );
        }
        page.push_str("</table>");
    }

    if let Some(content) = operation["requestBody"]["content"].as_object() {
        page.push_str("<h4>Request body</h4><ul>");
        for (media, body) in content {
            let _ = write!(
                page,
                "<li><code>{}</code>: {}</li>",
                escape(media),
                schema_summary(&body["schema"])
            );
        }
        page.push_str("</ul>");
    }

    page.push_str(
        "<h4>Answers</h4><table><tr><th>Status</th><th>Description</th><th>Body</th></tr>",
    );
    for (status, answer) in object(&operation["responses"]) {
        let bodies: Vec<String> = object(&answer["content"])
            .iter()
            .map(|(media, body)| {
                format!(
                    "<code>{}</code>: {}",
                    escape(media),
                    schema_summary(&body["schema"])
                )
            })
            .collect();
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&status),
            inline(&text(&answer["description"])),
            bodies.join("<br>")
        );
    }
    page.push_str("</table></details>");
}

/// A schema in a few words: its type with format, bounds, choices and default, or a link to
/// the component it refers to.
fn schema_summary(schema: &Value) -> String {
    if let Some(target) = schema["$ref"].as_str() {
        let name = target.rsplit('/').next().unwrap_or(target);
        return format!("<a href=\"#schema-{name}\">{name}</a>", name = escape(name));
    }
    let mut words = text(&schema["type"]);
    if words.is_empty() {
        words = "any".to_owned();
    }
    if let Some(format) = schema["format"].as_str() {
        words = format!("{words} ({format})");
    }
    if words == "array" {
        words = format!("array of {}", schema_summary(&schema["items"]));
    } else {
        words = escape(&words);
    }
    let mut facts = Vec::new();
    if let Some(choices) = schema["enum"].as_array() {
        let choices: Vec<String> = choices
            .iter()
            .map(|c| format!("<code>{}</code>", escape(&text(c))))
            .collect();
        facts.push(format!("one of {}", choices.join(", ")));
    }
    for (key, word) in [
        ("minimum", "≥"),
        ("maximum", "≤"),
        ("minItems", "items ≥"),
        ("maxItems", "items ≤"),
        ("minLength", "length ≥"),
        ("maxLength", "length ≤"),
    ] {
        if let Some(bound) = schema.get(key) {
            facts.push(format!("{word} {}", escape(&bound.to_string())));
        }
    }
    if let Some(pattern) = schema["pattern"].as_str() {
        facts.push(format!("matching <code>{}</code>", escape(pattern)));
    }
    if let Some(default) = schema.get("default") {
        facts.push(format!("default <code>{}</code>", escape(&text(default))));
    }
    if let Some(description) = schema["description"].as_str() {
        facts.push(inline(description));
    }
    if facts.is_empty() {
        return words;
    }
    format!("{words}; {}", facts.join("; "))
}

/// A string as itself, any other value as JSON; nothing for null.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn list(value: &Value) -> Vec<Value> {
    value.as_array().cloned().unwrap_or_default()
}

fn object(value: &Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

fn anchor(tag: &str) -> String {
    tag.to_ascii_lowercase()
        .replace(|c: char| !c.is_ascii_alphanumeric(), "-")
}

/// Escapes text, and shows its `code` spans (the only markup the descriptions use) as code.
fn inline(s: &str) -> String {
    escape(s)
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{part}</code>")
            } else {
                part.to_owned()
            }
        })
        .collect()
}

const STYLE: &str = concat!(
    "body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1b1b1b}",
    "header,main{max-width:70rem;margin:auto;padding:0 1rem}",
    "nav{position:sticky;top:0;background:#3d5a80;padding:.4rem 1rem}",
    "nav a{color:#fff;margin-right:1rem}h1 small{font-size:55%;color:#666}",
    "details.op{border:1px solid #ccd;border-radius:4px;margin:.4rem 0;padding:.3rem .6rem}",
    "summary{cursor:pointer}table{border-collapse:collapse;width:100%;margin:.3rem 0}",
    "th,td{border:1px solid #dde;padding:.2rem .4rem;text-align:left;vertical-align:top}",
    ".method{display:inline-block;min-width:4.2rem;text-align:center;color:#fff;",
    "border-radius:3px;font-weight:600;font-size:85%}",
    ".get{background:#2a7ab0}.post{background:#2f9e44}.delete{background:#c92a2a}",
    "pre{background:#f5f5f8;padding:.5rem;overflow:auto}code{font-size:90%}"
);

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn summarises_schemas_in_words() {
        let limit = json!({ "type": "integer", "minimum": 1, "maximum": 1000, "default": 100 });
        assert_eq!(
            schema_summary(&limit),
            "integer; ≥ 1; ≤ 1000; default <code>100</code>"
        );
        let reference = json!({ "$ref": "#/components/schemas/Item" });
        assert_eq!(
            schema_summary(&reference),
            "<a href=\"#schema-Item\">Item</a>"
        );
    }

    #[test]
    fn escapes_what_it_shows() {
        assert_eq!(inline("a `<b>` c"), "a <code>&lt;b&gt;</code> c");
    }
}
