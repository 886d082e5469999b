//! The `sortby` of a search and the page tokens that carry a position in its order.
//!
//! A token is the order it was made for, a digest of the search's other criteria, the position
//! of the edge picture and the direction, as hex-encoded JSON: opaque to clients, and refused
//! when it does not belong to the search it comes back with (another place would make its
//! distance meaningless, another filter its position a gap or a repeat).

use flaneur_store::{PageStart, PictureOrder, PictureQuery, Position, SortField, SortKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ApiError;

const SORTBY_MESSAGE: &str = "Parameter sortby accepts the fields datetime (or ts), created, \
     updated and id, each optionally prefixed by properties. and, in the query string, by + \
     (ascending, the default) or - (descending), e.g. sortby=-datetime,+id";

/// Reads the GET form, `-datetime,+id`. A `+` arrives as a space when the client did not
/// percent-encode it, so a leading space means ascending too.
pub fn order_text(value: &str) -> Result<PictureOrder, ApiError> {
    let mut keys = Vec::new();
    for part in value.split(',') {
        let part = part.trim();
        let (descending, name) = match part.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, part.strip_prefix('+').unwrap_or(part)),
        };
        keys.push(SortKey {
            field: field(name)?,
            descending,
        });
    }
    Ok(PictureOrder::by(&keys))
}

/// Reads the POST form, `[{"field": "datetime", "direction": "desc"}]`, or the GET form as a
/// string.
pub fn order_json(value: &Value) -> Result<PictureOrder, ApiError> {
    if let Some(text) = value.as_str() {
        return order_text(text);
    }
    let items = value
        .as_array()
        .ok_or_else(|| ApiError::bad_request(SORTBY_MESSAGE))?;
    let mut keys = Vec::with_capacity(items.len());
    for item in items {
        let name = item.get("field").and_then(Value::as_str);
        let name = name.ok_or_else(|| ApiError::bad_request(SORTBY_MESSAGE))?;
        let descending = match item.get("direction").and_then(Value::as_str) {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "Parameter sortby has direction '{other}': use asc or desc"
                )));
            }
        };
        keys.push(SortKey {
            field: field(name)?,
            descending,
        });
    }
    Ok(PictureOrder::by(&keys))
}

fn field(name: &str) -> Result<SortField, ApiError> {
    match name.strip_prefix("properties.").unwrap_or(name) {
        "datetime" | "ts" => Ok(SortField::Captured),
        "created" => Ok(SortField::Created),
        "updated" => Ok(SortField::Updated),
        "id" => Ok(SortField::Id),
        _ => Err(ApiError::bad_request(SORTBY_MESSAGE).with("field", Value::from(name))),
    }
}

/// What a page token holds.
#[derive(Serialize, Deserialize)]
struct Token {
    /// The order, in `sortby` form.
    order: String,
    /// The [`criteria_digest`] of the search.
    search: String,
    /// Where the page starts.
    start: PageStart,
}

/// A short digest of everything that decides which pictures a search finds and in which
/// order: all of `query` but its page size and start.
///
/// It is taken over the parsed query, not the request, so that a GET and a POST of the same
/// search (or `bbox=1,2,3,4` and `bbox=1.0,2,3,4`) agree. The query's debug form is the
/// digest's input: every criterion has one and it prints floats exactly. It may change
/// between releases, which only refuses tokens of pages served by an older version.
pub fn criteria_digest(query: &PictureQuery) -> String {
    let criteria = PictureQuery {
        limit: 0,
        start: None,
        ..query.clone()
    };
    // 64-bit FNV-1a: short, stable across builds and platforms, and enough to tell searches
    // apart (tokens are not secrets; a client forging one only gets a page it could ask for).
    let digest = format!("{criteria:?}")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    format!("{digest:016x}")
}

/// The token of a page starting at `start` in the search `query`.
pub fn encode_page(query: &PictureQuery, start: PageStart) -> String {
    let token = Token {
        order: query.order.to_sortby(),
        search: criteria_digest(query),
        start,
    };
    // Serialising plain strings and numbers cannot fail.
    hex::encode(serde_json::to_vec(&token).unwrap_or_default())
}

/// Reads a token made by [`encode_page`] for the same search as `query`; `query.start` and
/// `query.limit` are not looked at.
pub fn decode_page(text: &str, query: &PictureQuery) -> Result<PageStart, ApiError> {
    let order = &query.order;
    let bad = || {
        ApiError::bad_request(
            "Parameter page is not one this instance produced for this search; follow the \
             next or prev link of a previous page, keeping its other parameters",
        )
    };
    let bytes = hex::decode(text.trim()).map_err(|_| bad())?;
    let token: Token = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if token.order != order.to_sortby()
        || token.search != criteria_digest(query)
        || !order.fits(&token.start.position)
    {
        return Err(bad());
    }
    Ok(token.start)
}

/// The start of the page after (or before) the picture at `position`.
pub fn start_at(position: Position, backward: bool) -> PageStart {
    PageStart { position, backward }
}

#[cfg(test)]
mod tests {
    use flaneur_store::SortValue;

    use super::*;

    #[test]
    fn reads_both_sortby_forms() {
        let text = order_text("-datetime, id").expect("text form");
        assert_eq!(text.to_sortby(), "-datetime,+id");
        let json = serde_json::json!([{"field": "properties.datetime", "direction": "desc"}]);
        assert_eq!(order_json(&json).expect("json form"), text);
        assert_eq!(order_text("+ts").expect("ts").to_sortby(), "+datetime,+id");
        assert!(order_text("-altitude").is_err());
        assert!(order_text("").is_err());
        let sideways = serde_json::json!([{"field": "id", "direction": "up"}]);
        assert!(order_json(&sideways).is_err());
    }

    #[test]
    fn page_tokens_come_back_only_for_their_search() {
        let query = PictureQuery {
            order: order_text("-created").expect("order"),
            limit: 10,
            ..PictureQuery::default()
        };
        let position = Position(vec![
            SortValue::Int(1_666_166_194_000_000),
            SortValue::Text("00000000-0000-4000-8000-000000000001".into()),
        ]);
        let token = encode_page(&query, start_at(position.clone(), true));
        let back = decode_page(&token, &query).expect("same search");
        assert_eq!(back.position, position);
        assert!(back.backward);

        // Another page size is the same search; another order or criterion is not.
        let resized = PictureQuery {
            limit: 50,
            ..query.clone()
        };
        assert!(decode_page(&token, &resized).is_ok());
        let reordered = PictureQuery {
            order: PictureOrder::default(),
            ..query.clone()
        };
        assert!(decode_page(&token, &reordered).is_err());
        let elsewhere = PictureQuery {
            bbox: Some([2.0, 48.0, 3.0, 49.0]),
            ..query.clone()
        };
        assert!(decode_page(&token, &elsewhere).is_err());
        assert!(decode_page("zz", &query).is_err());
        assert!(decode_page(&hex::encode("{}"), &query).is_err());
    }
}
