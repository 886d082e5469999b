//! Annotations: semantic tags on a part of a picture, such as the road sign in one corner. The
//! part is a polygon in the picture's pixels, from its top left corner; an annotation holds
//! tags as pictures do, and lives as long as it has some and its picture exists.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::{AccountId, AnnotationId, PictureId, SemanticTag, TagAction, TagChange};

/// Most corners a shape may have, over all its rings. An outline drawn by hand or by a
/// detector has tens; the bound keeps one annotation from weighing more than its picture's
/// metadata.
pub const MAX_SHAPE_POINTS: usize = 1000;

/// The part of a picture an annotation covers: a polygon whose corners are whole pixels, as a
/// GeoJSON `Polygon` writes it (closed rings, the first the outline, the others holes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Shape {
    rings: Vec<Vec<[i64; 2]>>,
}

impl Shape {
    /// The rectangle `[min x, min y, max x, max y]`, as a ring starting at its top left corner
    /// and turning clockwise on screen.
    pub fn from_box(min_x: i64, min_y: i64, max_x: i64, max_y: i64) -> Shape {
        Shape {
            rings: vec![vec![
                [min_x, min_y],
                [max_x, min_y],
                [max_x, max_y],
                [min_x, max_y],
                [min_x, min_y],
            ]],
        }
    }

    /// The shape a client sends: a list of four integers `[min x, min y, max x, max y]`, or a
    /// GeoJSON-like `{"type": "Polygon", "coordinates": [[[x, y], …]]}` in pixels.
    ///
    /// # Errors
    /// A sentence saying what is wrong with it: another form, numbers that are no integers,
    /// an empty box, a ring that is not closed or has fewer than four positions, or more than
    /// [`MAX_SHAPE_POINTS`] positions.
    pub fn from_json(value: &Value) -> Result<Shape, String> {
        match value {
            Value::Array(numbers) => {
                let corners: Option<Vec<i64>> = numbers.iter().map(Value::as_i64).collect();
                let Some(&[min_x, min_y, max_x, max_y]) = corners.as_deref() else {
                    return Err(BOX_FORM.to_owned());
                };
                if min_x >= max_x || min_y >= max_y {
                    return Err(format!(
                        "shape [{min_x}, {min_y}, {max_x}, {max_y}] is an empty box: the minimums \
                         must be smaller than the maximums"
                    ));
                }
                Ok(Shape::from_box(min_x, min_y, max_x, max_y))
            }
            Value::Object(fields) => {
                if fields.get("type").and_then(Value::as_str) != Some("Polygon") {
                    return Err(POLYGON_FORM.to_owned());
                }
                let rings = fields
                    .get("coordinates")
                    .and_then(Value::as_array)
                    .filter(|rings| !rings.is_empty())
                    .ok_or(POLYGON_FORM)?;
                let rings = rings
                    .iter()
                    .map(ring_from_json)
                    .collect::<Result<Vec<_>, String>>()?;
                let points: usize = rings.iter().map(Vec::len).sum();
                if points > MAX_SHAPE_POINTS {
                    return Err(format!(
                        "shape has {points} positions; at most {MAX_SHAPE_POINTS} are accepted"
                    ));
                }
                Ok(Shape { rings })
            }
            _ => Err(format!("{BOX_FORM}, or {POLYGON_FORM}")),
        }
    }

    /// Refuses a shape reaching outside a picture of `width` × `height` pixels.
    ///
    /// # Errors
    /// A sentence naming the first position outside and the picture's size.
    pub fn check_within(&self, width: u32, height: u32) -> Result<(), String> {
        let (w, h) = (i64::from(width), i64::from(height));
        let outside = self
            .rings
            .iter()
            .flatten()
            .find(|[x, y]| !(0..=w).contains(x) || !(0..=h).contains(y));
        match outside {
            None => Ok(()),
            Some([x, y]) => Err(format!(
                "shape position [{x}, {y}] is outside the picture, which is {width} × {height} \
                 pixels: positions go from [0, 0] (top left) to [{width}, {height}]"
            )),
        }
    }

    /// The shape as annotations show it: a GeoJSON-like `Polygon` in pixels.
    pub fn to_json(&self) -> Value {
        json!({ "type": "Polygon", "coordinates": self.rings })
    }

    /// The shape as catalogs keep it: its JSON written without spaces, so that two equal
    /// shapes are the same text.
    pub fn to_text(&self) -> String {
        self.to_json().to_string()
    }

    /// A shape kept by [`Shape::to_text`]; `None` when the text is no such shape.
    pub fn from_text(text: &str) -> Option<Shape> {
        let value: Value = serde_json::from_str(text).ok()?;
        match value {
            Value::Object(_) => Shape::from_json(&value).ok(),
            _ => None,
        }
    }
}

const BOX_FORM: &str = "shape should be a box [min x, min y, max x, max y] of 4 integers";
const POLYGON_FORM: &str = "shape should be a polygon {\"type\": \"Polygon\", \"coordinates\": \
                            [[[x, y], …]]} in pixels";

/// One closed ring of at least four integer positions.
fn ring_from_json(value: &Value) -> Result<Vec<[i64; 2]>, String> {
    let positions = value.as_array().ok_or(POLYGON_FORM)?;
    let ring = positions
        .iter()
        .map(|p| match p.as_array().map(Vec::as_slice) {
            Some([x, y]) => Some([x.as_i64()?, y.as_i64()?]),
            _ => None,
        })
        .collect::<Option<Vec<[i64; 2]>>>()
        .ok_or_else(|| {
            "shape positions should be pairs of integers [x, y], in pixels".to_owned()
        })?;
    if ring.len() < 4 || ring.first() != ring.last() {
        return Err(
            "each ring of a shape should have at least 4 positions, the last one repeating the \
             first"
                .to_owned(),
        );
    }
    Ok(ring)
}

/// Refuses a list of tag changes that adds the same tag twice, as Panoramax instances do.
///
/// # Errors
/// A sentence naming the repeated tag.
pub fn refuse_duplicate_tags(changes: &[TagChange]) -> Result<(), String> {
    let mut seen: HashSet<(&str, &str)> = HashSet::with_capacity(changes.len());
    for change in changes.iter().filter(|c| c.action == TagAction::Add) {
        if !seen.insert((&change.tag.key, &change.tag.value)) {
            return Err(format!(
                "Impossible to add semantic tags because of duplicates: {}={} is given twice",
                change.tag.key, change.tag.value
            ));
        }
    }
    Ok(())
}

/// An annotation to make, when its picture has none of the same shape.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAnnotation {
    /// Its id, when it is new.
    pub id: AnnotationId,
    /// The picture annotated.
    pub picture_id: PictureId,
    /// The part of it.
    pub shape: Shape,
    /// Who makes it.
    pub account_id: AccountId,
}

/// A stored annotation with its tags.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    /// Its id.
    pub id: AnnotationId,
    /// The picture annotated.
    pub picture_id: PictureId,
    /// The part of it.
    pub shape: Shape,
    /// Who made it.
    pub account_id: AccountId,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When its tags last changed.
    pub updated_at: DateTime<Utc>,
    /// Its tags, sorted by key then value.
    pub semantics: Vec<SemanticTag>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_become_closed_rectangles() {
        let shape =
            Shape::from_json(&json!([100, 250, 600, 900])).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            shape.to_json(),
            json!({"type": "Polygon", "coordinates":
                [[[100, 250], [600, 250], [600, 900], [100, 900], [100, 250]]]})
        );
        let polygon = Shape::from_json(&shape.to_json());
        assert_eq!(polygon.as_ref(), Ok(&shape));
        assert_eq!(Shape::from_text(&shape.to_text()).as_ref(), Some(&shape));
    }

    #[test]
    fn refuses_malformed_shapes() {
        for bad in [
            json!([1, 2, 3]),
            json!([1, 2, 3, 4.5]),
            json!([5, 2, 3, 4]),
            json!("0,0,1,1"),
            json!({"type": "Point", "coordinates": [1, 2]}),
            json!({"type": "Polygon", "coordinates": []}),
            json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}),
            json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}),
            json!({"type": "Polygon", "coordinates": [[[0, 0], [1.5, 0], [1, 1], [0, 0]]]}),
        ] {
            assert!(Shape::from_json(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shapes_stay_within_the_picture() {
        let inside = Shape::from_box(0, 0, 640, 480);
        assert_eq!(inside.check_within(640, 480), Ok(()));
        let message = Shape::from_box(10, 10, 641, 20)
            .check_within(640, 480)
            .err()
            .unwrap_or_default();
        assert!(
            message.contains("641") && message.contains("640 × 480"),
            "{message}"
        );
        assert!(Shape::from_box(-1, 0, 5, 5).check_within(640, 480).is_err());
    }

    #[test]
    fn the_same_tag_may_not_be_added_twice_in_one_change() {
        let change = |value: &str, action| TagChange {
            tag: SemanticTag {
                key: "k".to_owned(),
                value: value.to_owned(),
            },
            action,
        };
        let twice = [change("a", TagAction::Add), change("a", TagAction::Add)];
        assert!(refuse_duplicate_tags(&twice).is_err());
        let fine = [
            change("a", TagAction::Add),
            change("b", TagAction::Add),
            change("a", TagAction::Delete),
        ];
        assert_eq!(refuse_duplicate_tags(&fine), Ok(()));
    }
}
