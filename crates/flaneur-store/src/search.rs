//! What a picture search may order by, where a page starts, and which pictures look at a place.
//!
//! These are backend-neutral: every catalog implementation pages with the same positions, so a
//! cursor written by one page is read back by the next whatever stores the pictures. Parsing
//! the request and encoding cursors for clients belong to the API.

use flaneur_model::{Picture, Projection};
use serde::{Deserialize, Serialize};

use crate::filter::{CompareOp, Filter, FilterError, Literal, Queryable, QueryableKind};
use crate::track::distance_m;

pub(crate) mod paging;
pub(crate) mod sql;

/// The properties the item search filter accepts besides the semantic tags.
pub const PICTURE_QUERYABLES: &[Queryable] = &[
    Queryable {
        name: "datetime",
        kind: QueryableKind::Timestamp,
        description: "When the picture was taken: a date-time or a date",
    },
    Queryable {
        name: "created",
        kind: QueryableKind::Timestamp,
        description: "When the picture was uploaded: a date-time or a date",
    },
    Queryable {
        name: "updated",
        kind: QueryableKind::Timestamp,
        description: "When the picture last changed: a date-time or a date",
    },
    Queryable {
        name: "id",
        kind: QueryableKind::Text,
        description: "Identifier of the picture",
    },
    Queryable {
        name: "collection",
        kind: QueryableKind::Text,
        description: "Identifier of the sequence holding the picture",
    },
    Queryable {
        name: "status",
        kind: QueryableKind::OneOf(&["ready"]),
        description: "Processing state; search shows ready pictures only",
    },
];

/// The property of the search filter standing for all semantic tags (`semantics IS NOT NULL`:
/// the picture, its sequence or one of its annotations has some tag); `semantics.<key>` stands
/// for the tags of one key.
pub const SEMANTICS: &str = "semantics";

/// Which semantic tags a filter property is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagProperty<'a> {
    /// Any tag (`semantics`).
    Any,
    /// The tags of one key (`semantics.<key>`).
    Key(&'a str),
}

impl<'a> TagProperty<'a> {
    /// The tags `property` names, or `None` when it names no tags.
    pub fn of(property: &'a str) -> Option<TagProperty<'a>> {
        if property == SEMANTICS {
            return Some(TagProperty::Any);
        }
        let key = property.strip_prefix(SEMANTICS)?.strip_prefix('.')?;
        (!key.is_empty()).then_some(TagProperty::Key(key))
    }
}

/// Checks an item search filter: semantic tags in the forms Panoramax instances read them
/// (`semantics.<key> = 'v'`, `semantics.<key> IN (…)`, `semantics.<key> IS [NOT] NULL`,
/// `semantics IS [NOT] NULL`), combined with `AND`, `OR` and `NOT` as freely as the other
/// properties, which are checked against [`PICTURE_QUERYABLES`].
///
/// # Errors
/// [`FilterError`] naming the first property that is unknown, compared with a value of
/// another type, or used with an operator that does not apply to it.
pub fn checked_picture_filter(filter: Filter) -> Result<Filter, FilterError> {
    match filter {
        Filter::And(parts) => Ok(Filter::And(check_parts(parts)?)),
        Filter::Or(parts) => Ok(Filter::Or(check_parts(parts)?)),
        Filter::Not(inner) => Ok(Filter::Not(Box::new(checked_picture_filter(*inner)?))),
        leaf => match leaf_property(&leaf).and_then(TagProperty::of) {
            Some(tags) => check_tag_condition(tags, &leaf).map(|()| leaf),
            None => leaf.checked(PICTURE_QUERYABLES).map_err(with_semantics),
        },
    }
}

fn check_parts(parts: Vec<Filter>) -> Result<Vec<Filter>, FilterError> {
    parts.into_iter().map(checked_picture_filter).collect()
}

/// The property a condition (not a combination) is about.
pub fn leaf_property(filter: &Filter) -> Option<&str> {
    match filter {
        Filter::Compare { property, .. }
        | Filter::In { property, .. }
        | Filter::IsNull { property }
        | Filter::Between { property, .. }
        | Filter::Like { property, .. } => Some(property),
        Filter::And(_) | Filter::Or(_) | Filter::Not(_) | Filter::Constant(_) => None,
    }
}

fn check_tag_condition(tags: TagProperty<'_>, leaf: &Filter) -> Result<(), FilterError> {
    let unsupported = |operator: &'static str| FilterError::UnsupportedOperator {
        property: leaf_property(leaf).unwrap_or(SEMANTICS).to_owned(),
        operator,
    };
    let text = |value: &Literal| match value {
        Literal::Text(_) => Ok(()),
        other => Err(FilterError::TypeMismatch {
            property: leaf_property(leaf).unwrap_or(SEMANTICS).to_owned(),
            expected: "a string".to_owned(),
            found: other.to_string(),
        }),
    };
    match (tags, leaf) {
        (_, Filter::IsNull { .. }) => Ok(()),
        (TagProperty::Key(_), Filter::Compare { op, value, .. }) => match op {
            CompareOp::Eq => text(value),
            other => Err(unsupported(other.as_str())),
        },
        (TagProperty::Key(_), Filter::In { values, .. }) => values.iter().try_for_each(text),
        (_, Filter::Between { .. }) => Err(unsupported("BETWEEN")),
        (_, Filter::Like { .. }) => Err(unsupported("LIKE")),
        (TagProperty::Any, Filter::Compare { op, .. }) => Err(unsupported(op.as_str())),
        (TagProperty::Any, Filter::In { .. }) => Err(unsupported("IN")),
        (_, Filter::And(_) | Filter::Or(_) | Filter::Not(_) | Filter::Constant(_)) => Ok(()),
    }
}

/// Adds the semantic properties to the accepted ones an unknown-property error lists.
fn with_semantics(err: FilterError) -> FilterError {
    match err {
        FilterError::UnknownProperty { property, accepted } => FilterError::UnknownProperty {
            property,
            accepted: format!("{accepted}, {SEMANTICS}, {SEMANTICS}.<key>"),
        },
        other => other,
    }
}

/// A picture property search results can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortField {
    /// Capture time (the item's `datetime`).
    Captured,
    /// When the picture was accepted.
    Created,
    /// When the picture last changed.
    Updated,
    /// The picture id: unique, so it ends every order.
    Id,
}

impl SortField {
    /// The name STAC clients use (`datetime`, `created`, `updated`, `id`).
    pub fn as_str(&self) -> &'static str {
        match self {
            SortField::Captured => "datetime",
            SortField::Created => "created",
            SortField::Updated => "updated",
            SortField::Id => "id",
        }
    }
}

/// One step of an order: a field and its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SortKey {
    /// What is compared.
    pub field: SortField,
    /// Largest first.
    pub descending: bool,
}

impl SortKey {
    /// Smallest first.
    pub fn asc(field: SortField) -> Self {
        Self {
            field,
            descending: false,
        }
    }

    /// Largest first.
    pub fn desc(field: SortField) -> Self {
        Self {
            field,
            descending: true,
        }
    }
}

/// How search results are ordered. Every order is total (it ends with the id), so keyset
/// pages neither repeat nor skip a picture.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PictureOrder {
    /// By these keys; the last one is always the id.
    Keys(Vec<SortKey>),
    /// Nearest to the searched place first, then by ascending id. Only with a place.
    Nearest,
}

impl Default for PictureOrder {
    /// Most recently updated first, then by id: what Panoramax instances answer.
    fn default() -> Self {
        PictureOrder::Keys(vec![
            SortKey::desc(SortField::Updated),
            SortKey::asc(SortField::Id),
        ])
    }
}

impl PictureOrder {
    /// The order by `keys`, made total: keys after the id are dropped (the id is unique, they
    /// could never decide), an ascending id is added when missing, and a repeated field keeps
    /// its first direction only.
    pub fn by(keys: &[SortKey]) -> Self {
        let mut out: Vec<SortKey> = Vec::with_capacity(keys.len() + 1);
        for key in keys {
            if out.iter().any(|k| k.field == key.field) {
                continue;
            }
            out.push(*key);
            if key.field == SortField::Id {
                return PictureOrder::Keys(out);
            }
        }
        out.push(SortKey::asc(SortField::Id));
        PictureOrder::Keys(out)
    }

    /// The order in the `sortby` form of STAC API GET requests: `-updated,+id`, `+distance`.
    pub fn to_sortby(&self) -> String {
        match self {
            PictureOrder::Nearest => "+distance,+id".to_owned(),
            PictureOrder::Keys(keys) => keys
                .iter()
                .map(|k| {
                    format!(
                        "{}{}",
                        if k.descending { '-' } else { '+' },
                        k.field.as_str()
                    )
                })
                .collect::<Vec<_>>()
                .join(","),
        }
    }

    /// Where `picture` stands in this order. `place` gives the distances of
    /// [`PictureOrder::Nearest`]; without it every distance is zero.
    pub fn position_of(&self, picture: &Picture, place: Option<&PlaceQuery>) -> Position {
        let id = SortValue::Text(picture.base.id.to_string());
        match self {
            PictureOrder::Nearest => {
                let d = place.map_or(0.0, |p| p.distance_m(picture));
                Position(vec![SortValue::Float(d), id])
            }
            PictureOrder::Keys(keys) => Position(
                keys.iter()
                    .map(|k| match k.field {
                        SortField::Captured => {
                            SortValue::Int(picture.base.captured_at.timestamp_micros())
                        }
                        SortField::Created => SortValue::Int(picture.created_at.timestamp_micros()),
                        SortField::Updated => SortValue::Int(picture.updated_at.timestamp_micros()),
                        SortField::Id => id.clone(),
                    })
                    .collect(),
            ),
        }
    }

    /// Whether `position` has the shape of a position in this order (one value per key, each
    /// of the key's kind): a cursor made for another order is refused rather than misread.
    pub fn fits(&self, position: &Position) -> bool {
        let values = &position.0;
        match self {
            PictureOrder::Nearest => matches!(
                values.as_slice(),
                [SortValue::Float(d), SortValue::Text(_)] if d.is_finite()
            ),
            PictureOrder::Keys(keys) => {
                keys.len() == values.len()
                    && keys.iter().zip(values).all(|(k, v)| {
                        matches!(
                            (k.field, v),
                            (SortField::Id, SortValue::Text(_))
                                | (
                                    SortField::Captured | SortField::Created | SortField::Updated,
                                    SortValue::Int(_)
                                )
                        )
                    })
            }
        }
    }
}

/// One value of a position: instants in microseconds, distances in metres, ids as text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SortValue {
    /// An instant, in microseconds since the epoch.
    Int(i64),
    /// A distance, in metres.
    Float(f64),
    /// A picture id.
    Text(String),
}

/// The values a picture has for each key of an order, in the order's key order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Position(pub Vec<SortValue>);

/// Where a search page starts: strictly after a position (the next page), or strictly
/// before it (the previous page).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageStart {
    /// The edge picture of the page the client comes from.
    pub position: Position,
    /// Whether the page ends just before `position` instead of starting just after it.
    pub backward: bool,
}

/// Pictures near a place and looking at it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlaceQuery {
    /// `[lon, lat]` of the place.
    pub position: [f64; 2],
    /// Smallest distance from the picture to the place, in metres.
    pub min_distance_m: f64,
    /// Largest distance from the picture to the place, in metres.
    pub max_distance_m: f64,
    /// Full width, in degrees, of the cone around a flat picture's heading the place has to
    /// fall in.
    pub fov_tolerance_deg: f64,
}

/// Metres per degree of latitude, a little under the true figure so that boxes built from it
/// are never too small.
const METRES_PER_DEGREE: f64 = 110_000.0;

/// Metres per unit of [`PlaceQuery::planar_sq_deg`]'s root, below and above the true figure
/// (111,195 m per degree on the sphere distances are measured on) by more than the planar
/// approximation strays within [`PlaceQuery::is_planar_close`]: under 0.1% there.
const PLANAR_MIN_M_PER_DEG: f64 = 108_900.0;
const PLANAR_MAX_M_PER_DEG: f64 = 113_500.0;

/// The latitude beyond which a place's neighbourhood is not flat enough for the planar
/// distance to bound the true one.
const PLANAR_MAX_LAT_DEG: f64 = 85.0;

impl PlaceQuery {
    /// Distance from a picture to the place, in metres.
    pub fn distance_m(&self, picture: &Picture) -> f64 {
        distance_m([picture.base.lon, picture.base.lat], self.position)
    }

    /// Boxes `[min lon, min lat, max lon, max lat]` together holding every point within the
    /// largest distance of the place (a little more: the space index narrows, the exact test
    /// decides): one box, or two split at the antimeridian when the range crosses it.
    pub fn boxes(&self) -> Vec<[f64; 4]> {
        let [lon, lat] = self.position;
        let dlat = self.max_distance_m / METRES_PER_DEGREE;
        let (south, north) = ((lat - dlat).max(-90.0), (lat + dlat).min(90.0));
        // Degrees of longitude shrink towards the poles, so the box is as wide as the range
        // at its poleward edge; near a pole it spans every longitude rather than dividing by
        // almost zero.
        let cos = south.abs().max(north.abs()).to_radians().cos();
        let dlon = if cos < 0.01 { 180.0 } else { dlat / cos };
        let (west, east) = (lon - dlon, lon + dlon);
        if dlon >= 180.0 {
            vec![[-180.0, south, 180.0, north]]
        } else if west < -180.0 {
            vec![
                [west + 360.0, south, 180.0, north],
                [-180.0, south, east, north],
            ]
        } else if east > 180.0 {
            vec![
                [west, south, 180.0, north],
                [-180.0, south, east - 360.0, north],
            ]
        } else {
            vec![[west, south, east, north]]
        }
    }

    /// Whether the place is far enough from the poles for [`Self::planar_sq_deg`] to bound
    /// true distances by [`Self::planar_min_m`] and [`Self::planar_max_m`].
    pub fn is_planar_close(&self) -> bool {
        self.position[1].abs() + self.max_distance_m / METRES_PER_DEGREE <= PLANAR_MAX_LAT_DEG
    }

    /// The scale of longitude differences in [`Self::planar_sq_deg`]: the cosine of the
    /// place's latitude.
    pub fn planar_lon_scale(&self) -> f64 {
        self.position[1].to_radians().cos()
    }

    /// A cheap stand-in for the distance from `[lon, lat]` to the place, to order candidates
    /// before measuring them: the squared planar distance in degrees, longitude differences
    /// taken across the antimeridian when shorter and scaled by [`Self::planar_lon_scale`].
    pub fn planar_sq_deg(&self, at: [f64; 2]) -> f64 {
        let mut dlon = at[0] - self.position[0];
        if dlon > 180.0 {
            dlon -= 360.0;
        } else if dlon < -180.0 {
            dlon += 360.0;
        }
        let dlon = dlon * self.planar_lon_scale();
        let dlat = at[1] - self.position[1];
        dlon * dlon + dlat * dlat
    }

    /// At most the true distance, in metres, of a point at planar distance `sq_deg`.
    pub fn planar_min_m(sq_deg: f64) -> f64 {
        sq_deg.sqrt() * PLANAR_MIN_M_PER_DEG
    }

    /// At least the true distance, in metres, of a point at planar distance `sq_deg`.
    pub fn planar_max_m(sq_deg: f64) -> f64 {
        sq_deg.sqrt() * PLANAR_MAX_M_PER_DEG
    }

    /// The smallest planar distance of a point at least `distance_m` away.
    pub fn planar_sq_deg_beyond(distance_m: f64) -> f64 {
        (distance_m / PLANAR_MAX_M_PER_DEG).powi(2)
    }

    /// The largest planar distance of a point at most `distance_m` away.
    pub fn planar_sq_deg_within(distance_m: f64) -> f64 {
        (distance_m / PLANAR_MIN_M_PER_DEG).powi(2)
    }

    /// Whether the picture is within the distance range and shows the place.
    ///
    /// A full 360° picture shows every direction. Another picture shows the place when the
    /// bearing from it to the place lies within half the tolerance of its heading and within
    /// half its own field of view when that is known: a wide tolerance cannot make a place
    /// outside the frame visible. A picture without heading shows no known direction.
    pub fn is_seen_by(&self, picture: &Picture) -> bool {
        let distance = self.distance_m(picture);
        if !(self.min_distance_m..=self.max_distance_m).contains(&distance) {
            return false;
        }
        let fov = picture.base.details.field_of_view_deg;
        let is_full_sphere = match fov {
            Some(fov) => fov >= 360.0,
            None => picture.base.projection == Projection::Equirectangular,
        };
        if is_full_sphere {
            return true;
        }
        let Some(heading) = picture.base.heading_deg else {
            return false;
        };
        let half_cone = self.fov_tolerance_deg.min(fov.unwrap_or(360.0)) / 2.0;
        let bearing = bearing_deg([picture.base.lon, picture.base.lat], self.position);
        angle_between_deg(heading, bearing) <= half_cone
    }
}

/// Initial bearing from `a` to `b` (`[lon, lat]`), in degrees clockwise from north, 0..360.
pub fn bearing_deg(a: [f64; 2], b: [f64; 2]) -> f64 {
    let (lat1, lat2) = (a[1].to_radians(), b[1].to_radians());
    let dlon = (b[0] - a[0]).to_radians();
    let y = dlon.sin() * lat2.cos();
    let x = lat1.cos() * lat2.sin() - lat1.sin() * lat2.cos() * dlon.cos();
    y.atan2(x).to_degrees().rem_euclid(360.0)
}

/// The smaller angle between two directions in degrees, 0..=180.
fn angle_between_deg(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(360.0);
    d.min(360.0 - d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_leaf(property: &str, op: CompareOp, value: Literal) -> Filter {
        Filter::Compare {
            property: property.to_owned(),
            op,
            value,
        }
    }

    #[test]
    fn tag_conditions_take_the_panoramax_forms_and_combine_freely() {
        let sign = || {
            parse_leaf(
                "semantics.osm|traffic_sign",
                CompareOp::Eq,
                Literal::Text("yes".into()),
            )
        };
        let any = Filter::Not(Box::new(Filter::IsNull {
            property: "semantics".into(),
        }));
        let kinds = Filter::In {
            property: "semantics.transport".into(),
            values: vec![Literal::Text("car".into()), Literal::Text("bike".into())],
        };
        let recent = parse_leaf("updated", CompareOp::Ge, Literal::Text("2026-01-01".into()));
        let all = Filter::And(vec![sign(), Filter::Or(vec![any, kinds]), recent]);
        assert!(checked_picture_filter(all).is_ok());

        let other_op = parse_leaf("semantics.k", CompareOp::Ne, Literal::Text("v".into()));
        assert!(checked_picture_filter(other_op).is_err());
        let number = parse_leaf("semantics.k", CompareOp::Eq, Literal::Number(1.0));
        assert!(checked_picture_filter(number).is_err());
        let bare = parse_leaf("semantics", CompareOp::Eq, Literal::Text("v".into()));
        assert!(checked_picture_filter(bare).is_err());
        let empty_key = parse_leaf("semantics.", CompareOp::Eq, Literal::Text("v".into()));
        let message = checked_picture_filter(empty_key)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(message.contains("semantics.<key>"), "{message}");
        let hidden = parse_leaf("status", CompareOp::Eq, Literal::Text("hidden".into()));
        assert!(checked_picture_filter(hidden).is_err());
    }

    #[test]
    fn orders_end_with_the_id_once() {
        let order = PictureOrder::by(&[SortKey::desc(SortField::Captured)]);
        assert_eq!(order.to_sortby(), "-datetime,+id");
        let order = PictureOrder::by(&[
            SortKey::desc(SortField::Id),
            SortKey::asc(SortField::Updated),
        ]);
        assert_eq!(order.to_sortby(), "-id");
        let order = PictureOrder::by(&[
            SortKey::asc(SortField::Created),
            SortKey::desc(SortField::Created),
        ]);
        assert_eq!(order.to_sortby(), "+created,+id");
        assert_eq!(PictureOrder::default().to_sortby(), "-updated,+id");
    }

    #[test]
    fn positions_fit_only_their_order() {
        let by_time = PictureOrder::by(&[SortKey::desc(SortField::Captured)]);
        let time = Position(vec![SortValue::Int(5), SortValue::Text("a".into())]);
        let near = Position(vec![SortValue::Float(2.5), SortValue::Text("a".into())]);
        assert!(by_time.fits(&time));
        assert!(!by_time.fits(&near));
        assert!(PictureOrder::Nearest.fits(&near));
        assert!(!PictureOrder::Nearest.fits(&time));
        assert!(!PictureOrder::default().fits(&Position(vec![SortValue::Int(1)])));
    }

    #[test]
    fn positions_survive_json() {
        let position = Position(vec![
            SortValue::Float(12.345_678_901_234),
            SortValue::Int(1_666_166_194_000_000),
            SortValue::Text("x".into()),
        ]);
        let text = serde_json::to_string(&position).expect("serialise");
        let back: Position = serde_json::from_str(&text).expect("parse");
        assert_eq!(back, position);

        // Distances in a page position are compared exactly: every float must come back
        // bit for bit, not only the easy ones.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..100_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let distance = (state >> 11) as f64 / (1_u64 << 53) as f64 * 1000.0;
            let position = Position(vec![SortValue::Float(distance)]);
            let text = serde_json::to_string(&position).expect("serialise");
            let back: Position = serde_json::from_str(&text).expect("parse");
            assert_eq!(back, position, "{distance} came back changed from {text}");
        }
    }

    #[test]
    fn bearings_point_the_compass_way() {
        let here = [2.0, 48.0];
        assert!(bearing_deg(here, [2.0, 48.001]).abs() < 1e-6);
        assert!((bearing_deg(here, [2.001, 48.0]) - 90.0).abs() < 0.01);
        assert!((bearing_deg(here, [2.0, 47.999]) - 180.0).abs() < 1e-6);
        assert!((bearing_deg(here, [1.999, 48.0]) - 270.0).abs() < 0.01);
        assert_eq!(angle_between_deg(350.0, 10.0), 20.0);
        assert_eq!(angle_between_deg(10.0, 190.0), 180.0);
    }

    fn picture(lon: f64, lat: f64, heading: Option<f64>, fov: Option<f64>) -> Picture {
        let json = serde_json::json!({
            "id": "00000000-0000-4000-8000-000000000001",
            "upload_set_id": "00000000-0000-4000-8000-000000000002",
            "account_id": "00000000-0000-4000-8000-000000000003",
            "visibility": "anyone",
            "captured_at": "2022-10-19T07:56:34Z",
            "utc_offset_secs": null,
            "lon": lon, "lat": lat, "heading_deg": heading,
            "projection": if fov.is_some_and(|f| f >= 360.0) { "equirectangular" } else { "flat" },
            "width": 1920, "height": 1080, "orientation": 1,
            "content_md5": "", "file_name": "p.jpg", "size_bytes": 1, "is_blurred": false,
            "details": { "field_of_view_deg": fov, "warnings": [], "exif": {} },
            "status": "ready", "heading_computed": false, "sequence_id": null, "rank": null,
            "created_at": "2022-10-19T07:56:34Z", "updated_at": "2022-10-19T07:56:34Z",
            "process_error": null
        });
        serde_json::from_value(json).expect("a picture")
    }

    /// A place 10 m west of the origin, at 48° N.
    fn place(tolerance: f64) -> PlaceQuery {
        PlaceQuery {
            position: [2.0 - 10.0 / 74_465.0, 48.0],
            min_distance_m: 3.0,
            max_distance_m: 15.0,
            fov_tolerance_deg: tolerance,
        }
    }

    #[test]
    fn flat_pictures_see_a_place_only_when_heading_at_it() {
        let looking_west = picture(2.0, 48.0, Some(272.0), Some(95.0));
        let looking_east = picture(2.0, 48.0, Some(90.0), Some(95.0));
        let looking_north_west = picture(2.0, 48.0, Some(300.0), Some(95.0));
        let headless = picture(2.0, 48.0, None, Some(95.0));
        assert!((place(30.0).distance_m(&looking_west) - 10.0).abs() < 0.05);
        assert!(place(30.0).is_seen_by(&looking_west));
        assert!(!place(30.0).is_seen_by(&looking_east));
        assert!(!place(30.0).is_seen_by(&headless));
        // 30° off the heading: outside a 30° cone (±15°), inside a 90° one (±45°).
        assert!(!place(30.0).is_seen_by(&looking_north_west));
        assert!(place(90.0).is_seen_by(&looking_north_west));
        // A tolerance wider than the frame does not widen the frame.
        let narrow = picture(2.0, 48.0, Some(300.0), Some(40.0));
        assert!(!place(180.0).is_seen_by(&narrow));
    }

    #[test]
    fn spheres_see_a_place_in_range_whatever_their_heading() {
        let sphere = picture(2.0, 48.0, Some(90.0), Some(360.0));
        assert!(place(2.0).is_seen_by(&sphere));
        let too_close = picture(2.0 - 9.0 / 74_465.0, 48.0, Some(90.0), Some(360.0));
        assert!(!place(2.0).is_seen_by(&too_close));
        let too_far = picture(2.0 + 6.0 / 74_465.0, 48.0, Some(90.0), Some(360.0));
        assert!(!place(2.0).is_seen_by(&too_far));
    }

    #[test]
    fn place_boxes_hold_the_whole_range() {
        let p = place(30.0);
        let [b] = p.boxes()[..] else {
            panic!("one box away from the antimeridian")
        };
        for bearing in (0..360).step_by(15) {
            let a = f64::from(bearing).to_radians();
            // 15 m in every direction, in degrees at 48° N.
            let lon = p.position[0] + 15.0 * a.sin() / 74_465.0;
            let lat = p.position[1] + 15.0 * a.cos() / 111_195.0;
            assert!(b[0] <= lon && lon <= b[2] && b[1] <= lat && lat <= b[3]);
        }
    }

    #[test]
    fn place_boxes_wrap_at_the_antimeridian() {
        let east = PlaceQuery {
            position: [179.9999, 0.0],
            ..place(30.0)
        };
        let boxes = east.boxes();
        assert_eq!(boxes.len(), 2, "{boxes:?}");
        assert_eq!(boxes[0][2], 180.0);
        assert_eq!(boxes[1][0], -180.0);
        assert!(boxes[1][2] > -180.0 && boxes[1][2] < -179.9);
        let west = PlaceQuery {
            position: [-180.0, 0.0],
            ..place(30.0)
        };
        assert_eq!(west.boxes().len(), 2);
    }

    #[test]
    fn planar_distances_bound_true_ones() {
        for lat in [0.0, 48.0, -70.0, 84.9] {
            let p = PlaceQuery {
                position: [179.9995, lat],
                max_distance_m: 1_000.0,
                ..place(30.0)
            };
            assert!(p.is_planar_close());
            for bearing in (0..360).step_by(10) {
                let a = f64::from(bearing).to_radians();
                for metres in [1.0, 20.0, 400.0, 1_000.0] {
                    let dlat = metres * a.cos() / 111_195.0;
                    let dlon = metres * a.sin() / (111_195.0 * lat.to_radians().cos());
                    let mut lon = p.position[0] + dlon;
                    if lon > 180.0 {
                        lon -= 360.0;
                    }
                    let at = [lon, lat + dlat];
                    let exact = distance_m(at, p.position);
                    let sq = p.planar_sq_deg(at);
                    assert!(
                        PlaceQuery::planar_min_m(sq) <= exact,
                        "{lat} {bearing} {metres}"
                    );
                    assert!(
                        PlaceQuery::planar_max_m(sq) >= exact,
                        "{lat} {bearing} {metres}"
                    );
                }
            }
        }
        let polar = PlaceQuery {
            position: [0.0, 89.0],
            ..place(30.0)
        };
        assert!(!polar.is_planar_close());
    }
}
