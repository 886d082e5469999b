//! The `sortby` of a search and the page tokens that carry a position in its order.
//!
//! A token is the order it was made for, the position of the edge picture and the direction,
//! as hex-encoded JSON: opaque to clients, and refused when it does not belong to the order of
//! the request it comes back with.

use flaneur_store::{PageStart, PictureOrder, Position, SortField, SortKey};
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
    /// Where the page starts.
    start: PageStart,
}

/// The token of a page starting at `start` in `order`.
pub fn encode_page(order: &PictureOrder, start: PageStart) -> String {
    let token = Token {
        order: order.to_sortby(),
        start,
    };
    // Serialising plain strings and numbers cannot fail.
    hex::encode(serde_json::to_vec(&token).unwrap_or_default())
}

/// Reads a token made by [`encode_page`] for the same order.
pub fn decode_page(text: &str, order: &PictureOrder) -> Result<PageStart, ApiError> {
    let bad = || {
        ApiError::bad_request(
            "Parameter page is not one this instance produced for this search; follow the \
             next or prev link of a previous page, keeping its other parameters",
        )
    };
    let bytes = hex::decode(text.trim()).map_err(|_| bad())?;
    let token: Token = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if token.order != order.to_sortby() || !order.fits(&token.start.position) {
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
    fn page_tokens_come_back_only_for_their_order() {
        let order = order_text("-created").expect("order");
        let position = Position(vec![
            SortValue::Int(1_666_166_194_000_000),
            SortValue::Text("00000000-0000-4000-8000-000000000001".into()),
        ]);
        let token = encode_page(&order, start_at(position.clone(), true));
        let back = decode_page(&token, &order).expect("same order");
        assert_eq!(back.position, position);
        assert!(back.backward);
        assert!(decode_page(&token, &PictureOrder::default()).is_err());
        assert!(decode_page("zz", &order).is_err());
        assert!(decode_page(&hex::encode("{}"), &order).is_err());
    }
}
