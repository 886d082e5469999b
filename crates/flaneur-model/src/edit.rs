//! Changes contributors make to published sequences and pictures: what a change may hold and
//! how it applies to a picture. Who may make which change is decided by the services; the
//! catalogs write changes as they are given.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::{
    MAX_KEY_CHARS, MAX_TAGS, MAX_VALUE_CHARS, ParseEnumError, Picture, SemanticTag, Visibility,
};

/// Whether a tag change adds the tag or takes it away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TagAction {
    /// Adds the tag; adding one already there changes nothing.
    Add,
    /// Removes the tag; removing one that is not there changes nothing.
    Delete,
}

/// One change of an object's semantic tags.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TagChange {
    /// The tag.
    pub tag: SemanticTag,
    /// What to do with it.
    pub action: TagAction,
}

impl TagChange {
    /// The changes of a JSON list of `{key, value, action}` objects, `action` being `add`
    /// (the default) or `delete`, in the order given.
    ///
    /// # Errors
    /// A sentence saying what is wrong: not a list, more than [`MAX_TAGS`] changes, a member
    /// without string `key` and `value`, an empty or too long key, a too long value, an
    /// unknown action or an unknown member key.
    pub fn list_from_json(value: &serde_json::Value) -> Result<Vec<TagChange>, String> {
        let items = value
            .as_array()
            .ok_or("semantics should be a list of {key, value, action} objects")?;
        if items.len() > MAX_TAGS {
            return Err(format!("semantics may hold at most {MAX_TAGS} changes"));
        }
        items.iter().map(TagChange::from_json).collect()
    }

    fn from_json(item: &serde_json::Value) -> Result<TagChange, String> {
        let fields = item
            .as_object()
            .ok_or("each semantics change should be an object {key, value, action}")?;
        if let Some(other) = fields
            .keys()
            .find(|k| !["key", "value", "action"].contains(&k.as_str()))
        {
            return Err(format!(
                "semantics change has an unknown field '{other}': only key, value and action \
                 are read"
            ));
        }
        let text = |name: &str| fields.get(name).and_then(serde_json::Value::as_str);
        let (Some(key), Some(value)) = (text("key"), text("value")) else {
            return Err("each semantics change needs a string key and a string value".into());
        };
        if key.is_empty() || key.chars().count() > MAX_KEY_CHARS {
            return Err(format!(
                "semantics key '{key}' should be 1 to {MAX_KEY_CHARS} characters long"
            ));
        }
        if value.chars().count() > MAX_VALUE_CHARS {
            return Err(format!(
                "semantics value of key '{key}' should be at most {MAX_VALUE_CHARS} \
                 characters long"
            ));
        }
        let action = match fields.get("action") {
            None | Some(serde_json::Value::Null) => TagAction::Add,
            Some(serde_json::Value::String(a)) if a == "add" => TagAction::Add,
            Some(serde_json::Value::String(a)) if a == "delete" => TagAction::Delete,
            Some(other) => {
                return Err(format!(
                    "semantics action {other} is unknown: use \"add\" or \"delete\""
                ));
            }
        };
        Ok(TagChange {
            tag: SemanticTag {
                key: key.to_owned(),
                value: value.to_owned(),
            },
            action,
        })
    }
}

/// What the pictures of a sequence are ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PictureSortKey {
    /// Capture time as the GPS gave it.
    GpsDate,
    /// Capture time as the camera's clock gave it.
    FileDate,
    /// The name of the uploaded file.
    FileName,
}

/// The order of a sequence's pictures, as collections show it in `geovisio:sorted-by`
/// (`+gpsdate`, `-filename`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PictureSort {
    /// What is compared.
    pub key: PictureSortKey,
    /// Whether the largest comes first.
    pub descending: bool,
}

impl PictureSort {
    /// Every accepted wire form, for messages.
    pub const EXPECTED: &'static str = "+gpsdate, -gpsdate, +filedate, -filedate, +filename, \
                                         -filename";
}

impl fmt::Display for PictureSort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.descending { '-' } else { '+' };
        let key = match self.key {
            PictureSortKey::GpsDate => "gpsdate",
            PictureSortKey::FileDate => "filedate",
            PictureSortKey::FileName => "filename",
        };
        write!(f, "{sign}{key}")
    }
}

impl FromStr for PictureSort {
    type Err = ParseEnumError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let error = || ParseEnumError {
            kind: "picture sort",
            value: s.to_owned(),
            expected: PictureSort::EXPECTED,
        };
        // `+` often arrives as a space when a client forgets to encode it in a form.
        let (descending, key) = match s.chars().next() {
            Some('+' | ' ') => (false, &s[1..]),
            Some('-') => (true, &s[1..]),
            _ => return Err(error()),
        };
        let key = match key {
            "gpsdate" => PictureSortKey::GpsDate,
            "filedate" => PictureSortKey::FileDate,
            "filename" => PictureSortKey::FileName,
            _ => return Err(error()),
        };
        Ok(PictureSort { key, descending })
    }
}

/// The condition of a change that only collaborative editing lets an account other than the
/// owner make (order, headings, capture time, place): the owner allows it, or says nothing
/// and the instance does (`instance_default`, allowed when `None`). The catalog tests it in
/// the transaction of the change, so an owner's refusal given meanwhile is not missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Collaborative {
    /// The instance's choice for owners who made none.
    pub instance_default: Option<bool>,
}

impl Collaborative {
    /// Whether an owner whose choice is `owner_choice` lets others make the change.
    pub fn is_allowed_by(&self, owner_choice: Option<bool>) -> bool {
        owner_choice.or(self.instance_default).unwrap_or(true)
    }
}

/// A change of a sequence. Fields left `None` (and an empty tag list) stay as they are.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SequenceEdit {
    /// A new title.
    pub title: Option<String>,
    /// A new visibility.
    pub visibility: Option<Visibility>,
    /// A new order of its pictures; they are ranked again.
    pub sort: Option<PictureSort>,
    /// A new heading of the camera relative to the direction of travel, in degrees; headings
    /// computed from the track are computed again.
    pub relative_heading_deg: Option<f64>,
    /// Tags to add or remove, in order.
    pub semantics: Vec<TagChange>,
    /// Made only under collaborative editing, when given.
    pub collaborative: Option<Collaborative>,
}

impl SequenceEdit {
    /// Whether the change asks for the pictures to be ranked or their headings computed
    /// again.
    pub fn rearranges(&self) -> bool {
        self.sort.is_some() || self.relative_heading_deg.is_some()
    }
}

/// A change of a picture. Fields left `None` (and an empty tag list) stay as they are.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PictureEdit {
    /// A new visibility.
    pub visibility: Option<Visibility>,
    /// A new heading, in degrees clockwise from north; it is no longer computed.
    pub heading_deg: Option<f64>,
    /// A new capture instant.
    pub captured_at: Option<DateTime<Utc>>,
    /// The offset of the new capture instant's time zone, in seconds east of UTC.
    pub utc_offset_secs: Option<i32>,
    /// A new place, `(longitude, latitude)`.
    pub position: Option<(f64, f64)>,
    /// A new pitch, in degrees.
    pub pitch_deg: Option<f64>,
    /// A new roll, in degrees.
    pub roll_deg: Option<f64>,
    /// A new yaw, in degrees.
    pub yaw_deg: Option<f64>,
    /// Tags to add or remove, in order.
    pub semantics: Vec<TagChange>,
    /// Made only under collaborative editing, when given.
    pub collaborative: Option<Collaborative>,
}

impl PictureEdit {
    /// Whether the change moves the picture in time or space, so that its sequence's order,
    /// track and computed headings may change.
    pub fn moves(&self) -> bool {
        self.captured_at.is_some() || self.position.is_some()
    }

    /// Whether the change touches the picture's own fields, not only its tags.
    pub fn changes_row(&self) -> bool {
        self.visibility.is_some()
            || self.heading_deg.is_some()
            || self.moves()
            || self.pitch_deg.is_some()
            || self.roll_deg.is_some()
            || self.yaw_deg.is_some()
    }

    /// Applies the change to a picture's own fields (tags are kept elsewhere).
    pub fn apply_to(&self, picture: &mut Picture) {
        let base = &mut picture.base;
        if let Some(v) = self.visibility {
            base.visibility = v;
        }
        if let Some(h) = self.heading_deg {
            base.heading_deg = Some(h);
            picture.heading_computed = false;
        }
        if let Some(t) = self.captured_at {
            base.captured_at = t;
            base.utc_offset_secs = self.utc_offset_secs;
        }
        if let Some((lon, lat)) = self.position {
            base.lon = lon;
            base.lat = lat;
        }
        let details = &mut base.details;
        for (value, field) in [
            (self.pitch_deg, &mut details.pitch_deg),
            (self.roll_deg, &mut details.roll_deg),
            (self.yaw_deg, &mut details.yaw_deg),
        ] {
            if value.is_some() {
                *field = value;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_tag_changes_with_add_as_the_default_action() {
        let changes = TagChange::list_from_json(&json!([
            {"key": "transport", "value": "bike"},
            {"key": "transport", "value": "car", "action": "delete"},
        ]))
        .expect("changes");
        let actions: Vec<TagAction> = changes.iter().map(|c| c.action).collect();
        assert_eq!(actions, [TagAction::Add, TagAction::Delete]);
        assert_eq!(changes[1].tag.value, "car");
    }

    #[test]
    fn refuses_malformed_tag_changes_saying_why() {
        for (bad, says) in [
            (json!({"key": "a", "value": "b"}), "list"),
            (json!([{"key": "a"}]), "string key and a string value"),
            (json!([{"key": "", "value": "b"}]), "1 to 256"),
            (
                json!([{"key": "a", "value": "b", "action": "replace"}]),
                "unknown",
            ),
            (
                json!([{"key": "a", "value": "b", "colour": "red"}]),
                "colour",
            ),
            (json!([{"key": "a", "value": 3}]), "string value"),
        ] {
            let error = TagChange::list_from_json(&bad).expect_err("refused");
            assert!(error.contains(says), "{bad}: {error}");
        }
        let many: Vec<_> = (0..=MAX_TAGS)
            .map(|i| json!({"key": "k", "value": i.to_string()}))
            .collect();
        assert!(TagChange::list_from_json(&json!(many)).is_err());
    }

    #[test]
    fn picture_sorts_read_and_write_their_wire_form() {
        for text in [
            "+gpsdate",
            "-gpsdate",
            "+filedate",
            "-filedate",
            "+filename",
            "-filename",
        ] {
            let sort: PictureSort = text.parse().expect("sort");
            assert_eq!(sort.to_string(), text);
        }
        assert_eq!(
            " filename".parse::<PictureSort>().map(|s| s.to_string()),
            Ok("+filename".to_owned())
        );
        for bad in ["gpsdate", "+time", "", "-"] {
            assert!(bad.parse::<PictureSort>().is_err(), "{bad}");
        }
    }
}
