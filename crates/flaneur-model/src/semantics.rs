//! Semantic tags: `key=value` pairs contributors attach to sequences and pictures (what a
//! picture shows, how it was taken), as Panoramax instances keep them.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

/// Longest key a tag may have, in characters.
pub const MAX_KEY_CHARS: usize = 256;
/// Longest value a tag may have, in characters.
pub const MAX_VALUE_CHARS: usize = 2048;
/// Most tags an upload set may give its sequences. Far more than anyone describes a sequence
/// with; without a bound, the size of a request body would be the only one.
pub const MAX_TAGS: usize = 1000;

/// One tag. An object holds each `(key, value)` pair once; a key may come with several values.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SemanticTag {
    /// What is described, such as `transport` or `osm|traffic_sign`.
    pub key: String,
    /// Its value.
    pub value: String,
}

impl SemanticTag {
    /// The tags of a JSON list of `{key, value}` objects, each pair once, in first-seen order;
    /// `None` when the list is malformed (not a list, a member without string `key` and
    /// `value`, an empty key, or a key or value too long).
    pub fn list_from_json(value: &serde_json::Value) -> Option<Vec<SemanticTag>> {
        let items = value.as_array()?;
        let mut tags: Vec<SemanticTag> = Vec::with_capacity(items.len());
        let mut seen: HashSet<(&str, &str)> = HashSet::with_capacity(items.len());
        for item in items {
            let key = item.get("key")?.as_str()?;
            let value = item.get("value")?.as_str()?;
            let fits = !key.is_empty()
                && key.chars().count() <= MAX_KEY_CHARS
                && value.chars().count() <= MAX_VALUE_CHARS;
            if !fits {
                return None;
            }
            if seen.insert((key, value)) {
                tags.push(SemanticTag {
                    key: key.to_owned(),
                    value: value.to_owned(),
                });
            }
        }
        Some(tags)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_tag_lists_once_per_pair() {
        let tags = SemanticTag::list_from_json(&json!([
            {"key": "transport", "value": "car"},
            {"key": "transport", "value": "bike"},
            {"key": "transport", "value": "car"},
        ]));
        let pairs: Vec<(String, String)> = tags
            .unwrap_or_default()
            .into_iter()
            .map(|t| (t.key, t.value))
            .collect();
        assert_eq!(
            pairs,
            [
                ("transport".into(), "car".into()),
                ("transport".into(), "bike".into())
            ]
        );
    }

    #[test]
    fn refuses_malformed_lists() {
        assert_eq!(SemanticTag::list_from_json(&json!({"key": "a"})), None);
        assert_eq!(SemanticTag::list_from_json(&json!([{"key": "a"}])), None);
        assert_eq!(
            SemanticTag::list_from_json(&json!([{"key": "", "value": "b"}])),
            None
        );
        let long = "k".repeat(MAX_KEY_CHARS + 1);
        assert_eq!(
            SemanticTag::list_from_json(&json!([{"key": long, "value": "b"}])),
            None
        );
        assert_eq!(SemanticTag::list_from_json(&json!([])), Some(vec![]));
    }
}
