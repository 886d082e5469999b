//! The body of a change: a JSON object or a URL-encoded form, read into the changes the
//! services apply. Every problem of a body is reported at once, each naming its field, in the
//! `details` list form of the upload set route; unknown fields are refused rather than
//! ignored, so that a misspelt field never reads as "nothing to change".

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use chrono::DateTime;
use flaneur_model::{PictureEdit, PictureSort, SequenceEdit, TagChange, Visibility};
use serde_json::{Map, Value, json};

use crate::{ApiError, nul, params};

/// How the body came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Json,
    UrlEncoded,
}

/// The fields of a change's body; `None` when the body is empty, which changes nothing.
struct Fields {
    form: Form,
    values: Map<String, Value>,
    problems: Vec<Value>,
}

/// Reads the fields of a body declared as JSON or as a URL-encoded form.
fn read(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Option<Fields>, ApiError> {
    let body = params::read_body(body)?;
    let media = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let (form, values) = match media.as_deref() {
        Some("application/json") => {
            if nul::json_holds_nul(&body) {
                return Err(nul::refused("the JSON body"));
            }
            let values = serde_json::from_slice::<Map<String, Value>>(&body).map_err(|e| {
                ApiError::bad_request(format!("The body is not a JSON object: {e}"))
            })?;
            (Form::Json, values)
        }
        Some("application/x-www-form-urlencoded") => {
            let mut values = Map::new();
            for (name, value) in url::form_urlencoded::parse(&body) {
                nul::check_form_text(&name, &value)?;
                values.insert(name.into_owned(), Value::String(value.into_owned()));
            }
            (Form::UrlEncoded, values)
        }
        _ => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Send the changes as a JSON object (Content-Type: application/json) or as a \
                 URL-encoded form (Content-Type: application/x-www-form-urlencoded)",
            ));
        }
    };
    if values.is_empty() {
        return Ok(None);
    }
    Ok(Some(Fields {
        form,
        values,
        problems: Vec::new(),
    }))
}

impl Fields {
    fn problem(&mut self, fields: &[&str], error: impl Into<String>, input: Option<Value>) {
        // Long inputs are echoed cut short: the client has them already.
        let input = match input {
            Some(Value::String(s)) if s.chars().count() > 100 => Some(json!(format!(
                "{}…",
                s.chars().take(100).collect::<String>()
            ))),
            other => other,
        };
        self.problems
            .push(json!({ "fields": fields, "error": error.into(), "input": input }));
    }

    /// Refuses every field not in `known`.
    fn refuse_unknown(&mut self, known: &[&str]) {
        let unknown: Vec<String> = self
            .values
            .keys()
            .filter(|k| !known.contains(&k.as_str()))
            .cloned()
            .collect();
        for name in unknown {
            let message = format!("Unknown field; this route reads {}", known.join(", "));
            self.problem(&[name.as_str()], message, None);
        }
    }

    /// A field's value; JSON `null` reads as absent.
    fn value(&self, name: &str) -> Option<Value> {
        self.values.get(name).filter(|v| !v.is_null()).cloned()
    }

    /// A number within `range`, from a JSON number or a form's text.
    fn number(&mut self, name: &str, range: std::ops::RangeInclusive<f64>) -> Option<f64> {
        let value = self.value(name)?;
        let number = match &value {
            Value::Number(n) => n.as_f64(),
            Value::String(s) if self.form == Form::UrlEncoded => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        match number {
            Some(n) if n.is_finite() && range.contains(&n) => Some(n),
            _ => {
                let message = format!(
                    "Input should be a number between {} and {}",
                    range.start(),
                    range.end()
                );
                self.problem(&[name], message, Some(value));
                None
            }
        }
    }

    /// A string that parses as `T`.
    fn parsed<T: std::str::FromStr>(&mut self, name: &str, expected: &str) -> Option<T> {
        let value = self.value(name)?;
        match value.as_str().map(str::parse::<T>) {
            Some(Ok(parsed)) => Some(parsed),
            _ => {
                self.problem(&[name], format!("Input should be {expected}"), Some(value));
                None
            }
        }
    }

    /// `visibility`, or its deprecated form `visible` (`true` is `anyone`, `false`
    /// `owner-only`, as on Panoramax instances).
    fn visibility(&mut self) -> Option<Visibility> {
        let visibility =
            self.parsed::<Visibility>("visibility", "'anyone', 'logged-only' or 'owner-only'");
        let visible = match self.value("visible") {
            None => None,
            Some(v) => match (&v, v.as_str()) {
                (Value::Bool(b), _) => Some(*b),
                (_, Some("true")) => Some(true),
                (_, Some("false")) => Some(false),
                _ => {
                    self.problem(&["visible"], "Input should be 'true' or 'false'", Some(v));
                    None
                }
            },
        };
        let visible = visible.map(|v| {
            if v {
                Visibility::Anyone
            } else {
                Visibility::OwnerOnly
            }
        });
        match (visibility, visible) {
            (Some(a), Some(b)) if a != b => {
                self.problem(
                    &["visibility", "visible"],
                    "visibility and visible disagree; send visibility only",
                    None,
                );
                None
            }
            (a, b) => a.or(b),
        }
    }

    /// Tag changes: a JSON list only, since a form cannot hold one.
    fn semantics(&mut self) -> Vec<TagChange> {
        let Some(value) = self.value("semantics") else {
            return Vec::new();
        };
        if self.form == Form::UrlEncoded {
            self.problem(
                &["semantics"],
                "semantics can only be changed with a JSON body",
                None,
            );
            return Vec::new();
        }
        TagChange::list_from_json(&value).unwrap_or_else(|error| {
            self.problem(&["semantics"], error, None);
            Vec::new()
        })
    }

    /// The changes, or a 400 listing every problem.
    fn finish<T>(self, change: T) -> Result<T, ApiError> {
        if self.problems.is_empty() {
            return Ok(change);
        }
        Err(ApiError::bad_request("Impossible to parse parameters")
            .with("details", Value::Array(self.problems)))
    }
}

/// The change of a sequence a `PATCH /api/collections/{id}` body asks for; `None` for an
/// empty body.
///
/// # Errors
/// 415 for a body of another media type, 400 for a malformed one or any unknown, mistyped or
/// out of range field (all reported).
pub fn sequence_edit(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Option<SequenceEdit>, ApiError> {
    let Some(mut fields) = read(headers, body)? else {
        return Ok(None);
    };
    fields.refuse_unknown(&[
        "title",
        "visibility",
        "visible",
        "sortby",
        "relative_heading",
        "semantics",
    ]);
    let title = match fields.value("title") {
        None => None,
        Some(Value::String(t)) if !t.trim().is_empty() && t.chars().count() <= 250 => {
            Some(t.trim().to_owned())
        }
        Some(v) => {
            let message = "Title should be a non-empty string of at most 250 characters";
            fields.problem(&["title"], message, Some(v));
            None
        }
    };
    let expected = format!("one of {}", PictureSort::EXPECTED);
    let edit = SequenceEdit {
        title,
        visibility: fields.visibility(),
        sort: fields.parsed::<PictureSort>("sortby", &expected),
        relative_heading_deg: fields.number("relative_heading", -180.0..=180.0),
        semantics: fields.semantics(),
        collaborative: None,
    };
    fields.finish(Some(edit))
}

/// The change of a picture a `PATCH /api/collections/{id}/items/{item}` body asks for;
/// `None` for an empty body.
///
/// # Errors
/// As [`sequence_edit`]; `longitude` and `latitude` come together or not at all.
pub fn picture_edit(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Option<PictureEdit>, ApiError> {
    let Some(mut fields) = read(headers, body)? else {
        return Ok(None);
    };
    fields.refuse_unknown(&[
        "visibility",
        "visible",
        "heading",
        "capture_time",
        "longitude",
        "latitude",
        "pitch",
        "roll",
        "yaw",
        "semantics",
    ]);
    let capture = match fields.value("capture_time") {
        None => None,
        Some(v) => match v.as_str().map(DateTime::parse_from_rfc3339) {
            Some(Ok(t)) => Some(t),
            _ => {
                let message = "Input should be an RFC 3339 date and time with its offset, such \
                               as 2024-05-01T10:12:00+02:00";
                fields.problem(&["capture_time"], message, Some(v));
                None
            }
        },
    };
    let lon = fields.number("longitude", -180.0..=180.0);
    let lat = fields.number("latitude", -90.0..=90.0);
    let position = match (fields.value("longitude"), fields.value("latitude")) {
        (Some(_), None) | (None, Some(_)) => {
            let message = "longitude and latitude should be given together";
            fields.problem(&["longitude", "latitude"], message, None);
            None
        }
        _ => lon.zip(lat),
    };
    let edit = PictureEdit {
        visibility: fields.visibility(),
        heading_deg: fields.number("heading", 0.0..=360.0).map(|h| h % 360.0),
        captured_at: capture.map(|t| t.to_utc()),
        utc_offset_secs: capture.map(|t| t.offset().local_minus_utc()),
        position,
        pitch_deg: fields.number("pitch", -90.0..=90.0),
        roll_deg: fields.number("roll", -90.0..=90.0),
        yaw_deg: fields.number("yaw", 0.0..=360.0),
        semantics: fields.semantics(),
        collaborative: None,
    };
    fields.finish(Some(edit))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(media: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(media));
        headers
    }

    fn json_body(value: Value) -> Result<Bytes, BytesRejection> {
        Ok(Bytes::from(value.to_string()))
    }

    /// The fields a 400 names.
    fn refused_fields(err: ApiError) -> Vec<String> {
        let body = err.body();
        let details = body["details"].as_array().cloned().unwrap_or_default();
        details
            .iter()
            .flat_map(|d| d["fields"].as_array().cloned().unwrap_or_default())
            .filter_map(|f| f.as_str().map(str::to_owned))
            .collect()
    }

    #[test]
    fn reads_a_json_change_of_a_sequence() {
        let body = json!({
            "title": " Along the river ", "visible": "false", "sortby": "-filename",
            "relative_heading": -90, "semantics": [{"key": "a", "value": "b"}]
        });
        let edit = sequence_edit(&headers("application/json"), json_body(body));
        let edit = edit.ok().flatten().expect("edit");
        assert_eq!(edit.title.as_deref(), Some("Along the river"));
        assert_eq!(edit.visibility, Some(Visibility::OwnerOnly));
        assert_eq!(
            edit.sort.map(|s| s.to_string()).as_deref(),
            Some("-filename")
        );
        assert_eq!(edit.relative_heading_deg, Some(-90.0));
        assert_eq!(edit.semantics.len(), 1);
    }

    #[test]
    fn reads_a_form_change_of_a_picture() {
        let body =
            "heading=361&longitude=2.5&pitch=-10&capture_time=2024-05-01T10%3A12%3A00%2B02%3A00";
        let refused = picture_edit(
            &headers("application/x-www-form-urlencoded; charset=utf-8"),
            Ok(Bytes::from(body)),
        )
        .expect_err("refused");
        assert_eq!(
            refused_fields(refused),
            ["longitude", "latitude", "heading"]
        );

        let body =
            "heading=360&longitude=2.5&latitude=48&capture_time=2024-05-01T10%3A12%3A00%2B02%3A00";
        let edit = picture_edit(
            &headers("application/x-www-form-urlencoded"),
            Ok(Bytes::from(body)),
        );
        let edit = edit.ok().flatten().expect("edit");
        assert_eq!(edit.heading_deg, Some(0.0));
        assert_eq!(edit.position, Some((2.5, 48.0)));
        assert_eq!(edit.utc_offset_secs, Some(7200));
        assert_eq!(
            edit.captured_at.map(|t| t.to_rfc3339()).as_deref(),
            Some("2024-05-01T08:12:00+00:00")
        );
    }

    #[test]
    fn refuses_unknown_mistyped_and_out_of_range_fields_all_at_once() {
        let body = json!({
            "titel": "typo", "visibility": "everyone", "relative_heading": 200,
            "sortby": "gpsdate", "semantics": "transport=bike", "title": 3
        });
        let refused = sequence_edit(&headers("application/json"), json_body(body));
        let mut fields = refused_fields(refused.expect_err("refused"));
        fields.sort();
        assert_eq!(
            fields,
            [
                "relative_heading",
                "semantics",
                "sortby",
                "titel",
                "title",
                "visibility"
            ]
        );

        // Numbers as text only in forms; tags only in JSON.
        let refused = picture_edit(&headers("application/json"), json_body(json!({"yaw": "3"})));
        assert_eq!(refused_fields(refused.expect_err("refused")), ["yaw"]);
        let refused = picture_edit(
            &headers("application/x-www-form-urlencoded"),
            Ok(Bytes::from("semantics=%5B%5D")),
        );
        assert_eq!(refused_fields(refused.expect_err("refused")), ["semantics"]);
        let both = json!({"visibility": "anyone", "visible": false});
        let refused = picture_edit(&headers("application/json"), json_body(both));
        assert_eq!(
            refused_fields(refused.expect_err("refused")),
            ["visibility", "visible"]
        );
    }

    #[test]
    fn an_empty_body_changes_nothing_and_other_media_are_refused() {
        let empty = sequence_edit(&HeaderMap::new(), Ok(Bytes::new()));
        assert!(matches!(empty, Ok(None)));
        let empty = picture_edit(&headers("application/json"), json_body(json!({})));
        assert!(matches!(empty, Ok(None)));
        let refused = picture_edit(&headers("text/plain"), Ok(Bytes::from("heading=3")));
        assert_eq!(
            refused.err().map(|e| e.status()),
            Some(StatusCode::UNSUPPORTED_MEDIA_TYPE)
        );
        let refused = picture_edit(&headers("application/json"), Ok(Bytes::from("[1]")));
        assert_eq!(
            refused.err().map(|e| e.status()),
            Some(StatusCode::BAD_REQUEST)
        );
    }
}
