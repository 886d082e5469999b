//! Refusal of text holding a NUL character (U+0000), wherever a client sends it: in the URL,
//! in a JSON body, or in an upload form.
//!
//! PostgreSQL cannot store that character in `text` or `jsonb`, while SQLite can; refusing it
//! as the request is read gives one answer on both catalogs, a 400 naming the character,
//! instead of a failed write. The check sits where bytes become text (this module's three
//! entry points), so no handler or field has to remember it, and nothing is half stored when
//! a request is refused.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::ApiError;

/// The answer to a request holding a NUL character in `place`.
pub fn refused(place: &str) -> ApiError {
    ApiError::bad_request(format!(
        "The request holds a NUL character (U+0000) in {place}, which this instance cannot \
         store; remove it and send the request again"
    ))
}

/// Middleware refusing a request whose path or query string encodes a NUL character.
///
/// A URL can only carry one as `%00` (the raw byte is refused by the HTTP parser), and every
/// `%` of a URL starts an escape, so finding `%00` in the raw text is exact: `%2500` is a
/// percent sign followed by two zeros.
pub async fn refuse_in_url(request: Request, next: Next) -> Response {
    let uri = request.uri();
    let holds_nul = |text: &str| text.as_bytes().windows(3).any(|w| w == b"%00");
    if holds_nul(uri.path()) {
        return refused("the URL path").into_response();
    }
    if uri.query().is_some_and(holds_nul) {
        return refused("the query string").into_response();
    }
    next.run(request).await
}

/// Whether a JSON text writes a NUL character: a `\u0000` escape, the only way JSON can hold
/// one (raw control characters are invalid in JSON strings).
///
/// An escape starts at a backslash only when an even number of backslashes precede it, so
/// `"\\u0000"` (a backslash, then the letters `u0000`) is not one.
pub fn json_holds_nul(json: &[u8]) -> bool {
    let mut backslashes = 0usize;
    for (at, &byte) in json.iter().enumerate() {
        if byte != b'\\' {
            backslashes = 0;
            continue;
        }
        backslashes += 1;
        let is_escape_start = backslashes % 2 == 1;
        if is_escape_start && json[at + 1..].starts_with(b"u0000") {
            return true;
        }
    }
    false
}

/// Refuses a value of an upload form holding a NUL character; `field` names it for the
/// client. Names of fields and files need no check: they come in the headers of the form's
/// parts, where the form parser refuses the character already.
pub fn check_form_text(field: &str, value: &str) -> Result<(), ApiError> {
    if value.contains('\0') {
        return Err(refused(&format!("the form field {field}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nul_escapes_of_json_strings_only() {
        assert!(json_holds_nul(br#"{"title": "a\u0000b"}"#));
        assert!(json_holds_nul(br#"{"a\u0000": 1}"#));
        assert!(json_holds_nul(br#"["\\\u0000"]"#));
        assert!(!json_holds_nul(br#"{"title": "C:\\u0000"}"#));
        assert!(!json_holds_nul(br#""\u000"#));
        assert!(!json_holds_nul(br#"{"title": "u0000 \u0001"}"#));
        assert!(!json_holds_nul(br"\"));
    }
}
