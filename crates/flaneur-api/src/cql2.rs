//! CQL2 filters (OGC API Features part 3): reading the `filter` parameter, in the text form
//! (`cql2-text`, the default for query strings) or the JSON form (`cql2-json`, the default for
//! a JSON object in a request body), into the store's [`Filter`] tree.
//!
//! Only the basic and advanced comparison classes are read: `AND`, `OR`, `NOT`, the
//! comparisons `= <> < <= > >=`, `IN`, `IS [NOT] NULL`, `BETWEEN`, `LIKE`, with string,
//! number, boolean, `TIMESTAMP` and `DATE` values. Which properties a listing accepts, and
//! the types of their values, are checked afterwards against its queryables
//! ([`Filter::checked`]); running the filter is the catalog's business.
//!
//! Input is bounded before any work grows with it: nesting is limited to [`MAX_DEPTH`] levels
//! and a filter to [`MAX_NODES`] conditions and values, so hostile input gets a 400 rather
//! than a deep recursion or a huge SQL statement.

mod json;
mod text;

use std::fmt;

use flaneur_store::Filter;
use serde_json::Value;

use crate::ApiError;
use crate::params::Params;

pub use json::parse_json;
pub use text::parse_text;

/// The coordinate system filters are written in, the only `filter-crs` accepted: longitude
/// then latitude in degrees.
pub const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

/// Deepest nesting of parentheses, `NOT`s or JSON operations a filter may have.
pub const MAX_DEPTH: usize = 32;

/// Most conditions and values one filter may hold.
pub const MAX_NODES: usize = 500;

/// Longest filter text, in characters.
pub const MAX_TEXT_CHARS: usize = 20_000;

/// Where in the input a parse error was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    /// A character of CQL2 text, counted from 1.
    Char(usize),
    /// A JSON pointer into a CQL2 JSON document (`""` for the whole document).
    Pointer(String),
}

/// Why a filter could not be read: where, and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Where the problem is.
    pub at: Position,
    /// What is wrong, starting in lowercase.
    pub message: String,
}

impl ParseError {
    pub(crate) fn at_char(at: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            at: Position::Char(at),
            message: message.into(),
        }
    }

    pub(crate) fn at_pointer(pointer: &str, message: impl Into<String>) -> ParseError {
        ParseError {
            at: Position::Pointer(pointer.to_owned()),
            message: message.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.at {
            Position::Char(n) => write!(f, "at character {n}: {}", self.message),
            Position::Pointer(p) if p.is_empty() => write!(f, "at the top: {}", self.message),
            Position::Pointer(p) => write!(f, "at {p}: {}", self.message),
        }
    }
}

/// The two encodings of CQL2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// `cql2-text`.
    Text,
    /// `cql2-json`.
    Json,
}

impl Lang {
    /// Reads a `filter-lang` value.
    ///
    /// # Errors
    /// A 400 naming the accepted values.
    pub fn from_param(value: &str) -> Result<Lang, ApiError> {
        match value.trim() {
            "cql2-text" => Ok(Lang::Text),
            "cql2-json" => Ok(Lang::Json),
            other => Err(ApiError::bad_request(format!(
                "Parameter filter-lang '{other}' is not supported: use cql2-text or cql2-json"
            ))),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Lang::Text => "CQL2 text",
            Lang::Json => "CQL2 JSON",
        }
    }
}

/// The `filter` query parameter, in the language `filter-lang` names (CQL2 text by default);
/// `None` when absent or blank.
///
/// # Errors
/// A 400 saying where and why the filter could not be read.
pub fn from_params(params: &Params) -> Result<Option<Filter>, ApiError> {
    let Some(text) = params.get("filter").filter(|f| !f.trim().is_empty()) else {
        return Ok(None);
    };
    let lang = match params.get("filter-lang") {
        Some(l) => Lang::from_param(l)?,
        None => Lang::Text,
    };
    let parsed = match lang {
        Lang::Text => parse_text(text),
        Lang::Json => serde_json::from_str::<Value>(text)
            .map_err(|e| ParseError::at_pointer("", format!("not JSON ({e})")))
            .and_then(|v| parse_json(&v)),
    };
    parsed.map(Some).map_err(|e| refusal(lang, &e))
}

/// The `filter` member of a JSON request body: a JSON object is CQL2 JSON and a string CQL2
/// text unless `filter-lang` says otherwise.
///
/// # Errors
/// A 400 saying where and why the filter could not be read.
pub fn from_body(filter: &Value, lang: Option<&str>) -> Result<Filter, ApiError> {
    let lang = match (lang, filter) {
        (Some(l), _) => Lang::from_param(l)?,
        (None, Value::String(_)) => Lang::Text,
        (None, _) => Lang::Json,
    };
    let parsed = match (lang, filter) {
        (Lang::Text, Value::String(text)) => parse_text(text),
        (Lang::Text, _) => Err(ParseError::at_pointer(
            "",
            "CQL2 text must be given as a JSON string",
        )),
        (Lang::Json, Value::String(text)) => serde_json::from_str::<Value>(text)
            .map_err(|e| ParseError::at_pointer("", format!("not JSON ({e})")))
            .and_then(|v| parse_json(&v)),
        (Lang::Json, v) => parse_json(v),
    };
    parsed.map_err(|e| refusal(lang, &e))
}

/// The 400 for a filter that could not be read.
fn refusal(lang: Lang, err: &ParseError) -> ApiError {
    ApiError::bad_request(format!(
        "Parameter filter is not valid {} {err}",
        lang.name()
    ))
}

/// Counts the depth and size of a filter as it is read, refusing it past the limits.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    depth: usize,
    nodes: usize,
}

impl Budget {
    /// Enters one nesting level; `leave` must follow.
    pub(crate) fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!(
                "the filter is nested more than {MAX_DEPTH} levels deep; flatten it"
            ));
        }
        Ok(())
    }

    pub(crate) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Counts one more condition or value.
    pub(crate) fn count(&mut self) -> Result<(), String> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(format!(
                "the filter holds more than {MAX_NODES} conditions and values; split it \
                 into several requests"
            ));
        }
        Ok(())
    }
}
