//! The body of one page of a listing or search (`/api/search`, `/api/collections`,
//! `/api/collections/{id}/items`), written document by document within the bytes one answer
//! may hold ([`AppState::max_page_bytes`](crate::AppState::max_page_bytes)). Which documents
//! go in, and the links leading on from the last one, are left to the routes.
//!
//! Documents harvested from peers are served as their instances sent them, each up to 64 KiB,
//! and a page may ask for 10,000 of them: built whole, one answer could take hundreds of MiB.
//! A page stops instead before the first document that would take it past the bound, and the
//! route's `next` link starts right after the last document it holds, so that a client
//! following the links still gets every document once. The first document always goes in,
//! whatever its size, so that every page moves on.
//!
//! Each document is serialized as soon as it is made, and only its bytes are kept: building
//! the whole page as a tree of JSON values first would take several times its size.

use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

// TODO: the catalog still reads every row a page asks for before the page is written, up to
// 10,000 harvested documents of 64 KiB for search and items — reading rows in slices by keyset
// until the page is full would bound that too, at the cost of more queries for local pages;
// meanwhile the memory one request takes grows with its `limit`.

/// The documents of one page, serialized, within a number of bytes.
#[derive(Debug)]
pub struct PageBody {
    /// The documents written so far, separated by commas.
    documents: Vec<u8>,
    /// How many documents `documents` holds.
    count: usize,
    /// Bytes `documents` may reach, unless it holds a single document.
    max_bytes: usize,
}

impl PageBody {
    /// An empty page holding at most `max_bytes` of documents (one document at least).
    pub fn new(max_bytes: usize) -> PageBody {
        PageBody {
            documents: Vec::new(),
            count: 0,
            max_bytes,
        }
    }

    /// Adds `document` when it fits, or when the page holds none yet. Returns `false`, leaving
    /// the page as it was, when it does not fit: the page is full, and ends before it.
    pub fn push(&mut self, document: &Value) -> bool {
        let before = self.documents.len();
        if self.count > 0 {
            self.documents.push(b',');
        }
        serde_json::to_writer(&mut self.documents, document)
            .expect("a JSON value always serializes into memory");
        if self.count > 0 && self.documents.len() > self.max_bytes {
            self.documents.truncate(before);
            return false;
        }
        self.count += 1;
        true
    }

    /// How many documents the page holds.
    pub fn len(&self) -> usize {
        self.count
    }

    /// The answer: a JSON object with the documents as an array under `key`, then the other
    /// members of `rest`, as `content_type`.
    pub fn into_response(
        self,
        content_type: &'static str,
        key: &str,
        rest: &[(&str, Value)],
    ) -> Response {
        ([(CONTENT_TYPE, content_type)], self.into_json(key, rest)).into_response()
    }

    /// The JSON object of [`PageBody::into_response`].
    fn into_json(self, key: &str, rest: &[(&str, Value)]) -> Vec<u8> {
        let mut out = self.documents;
        let mut head = Vec::with_capacity(key.len() + 8);
        head.push(b'{');
        write_json(&mut head, &Value::from(key));
        head.extend_from_slice(b":[");
        out.splice(0..0, head);
        out.push(b']');
        for (name, value) in rest {
            out.push(b',');
            write_json(&mut out, &Value::from(*name));
            out.push(b':');
            write_json(&mut out, value);
        }
        out.push(b'}');
        out
    }
}

/// Appends `value` as JSON.
fn write_json(out: &mut Vec<u8>, value: &Value) {
    serde_json::to_writer(out, value).expect("a JSON value always serializes into memory");
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn document(bytes: usize) -> Value {
        // `{"a":"…"}` takes 8 bytes besides its text.
        json!({ "a": "x".repeat(bytes - 8) })
    }

    #[test]
    fn a_page_ends_before_the_document_that_would_take_it_past_its_bytes() {
        let mut page = PageBody::new(100);
        assert!(page.push(&document(40)));
        // 40 + a comma + 40.
        assert!(page.push(&document(40)));
        assert!(!page.push(&document(40)));
        assert_eq!(page.len(), 2);

        let body: Value =
            serde_json::from_slice(&page.into_json("features", &[])).expect("the page is JSON");
        assert_eq!(body, json!({ "features": [document(40), document(40)] }));
    }

    #[test]
    fn the_first_document_goes_in_whatever_its_size() {
        let mut page = PageBody::new(10);
        assert!(page.push(&document(50)));
        assert!(!page.push(&document(9)));
        assert_eq!(page.len(), 1);
    }

    #[test]
    fn the_other_members_follow_the_documents() {
        let mut page = PageBody::new(1 << 20);
        for n in 0..3 {
            assert!(page.push(&json!({ "id": n })));
        }
        let rest = [("links", json!([{ "rel": "self" }])), ("type", json!("X"))];
        let body: Value =
            serde_json::from_slice(&page.into_json("features", &rest)).expect("the page is JSON");
        let expected = json!({
            "features": [{ "id": 0 }, { "id": 1 }, { "id": 2 }],
            "links": [{ "rel": "self" }],
            "type": "X",
        });
        assert_eq!(body, expected);

        let empty = PageBody::new(10).into_json("collections", &[]);
        assert_eq!(empty, br#"{"collections":[]}"#);
    }
}
