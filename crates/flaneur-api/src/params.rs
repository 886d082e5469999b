//! Parsing of query parameters and search bodies, with the reference server's 400 messages.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::Deref;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use flaneur_model::{AccountId, PictureId, SequenceId};
use flaneur_store::{Area, TimeRange};
use serde::Deserialize;
use serde_json::{Value, json};
use tracing::error;

use crate::ApiError;

/// Query parameters by name (the last value wins when repeated).
///
/// Reading one by name ([`Params::get`], [`Params::contains_key`]) notes the name, so that a
/// debug build can tell when a route reads a parameter its OpenAPI description does not name
/// (see [`check_documented`]); the map's other methods are reached through `Deref`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(transparent)]
pub struct Params(HashMap<String, String>);

impl Params {
    /// The value of the parameter `name`.
    pub fn get(&self, name: &str) -> Option<&String> {
        note_read(name);
        self.0.get(name)
    }

    /// Whether the parameter `name` was given.
    pub fn contains_key(&self, name: &str) -> bool {
        note_read(name);
        self.0.contains_key(name)
    }
}

impl IntoIterator for Params {
    type Item = (String, String);
    type IntoIter = std::collections::hash_map::IntoIter<String, String>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl FromIterator<(String, String)> for Params {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Self {
        Params(pairs.into_iter().collect())
    }
}

impl Deref for Params {
    type Target = HashMap<String, String>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

tokio::task_local! {
    /// The query parameters the description of the operation being served names, and those
    /// its handler read without their being named.
    static DOCUMENTED: Documented;
}

struct Documented {
    names: Arc<[&'static str]>,
    undocumented: RefCell<Vec<String>>,
}

fn note_read(name: &str) {
    // Outside `check_documented` (release builds, unit tests of handlers) there is nothing
    // to check against.
    let _ = DOCUMENTED.try_with(|documented| {
        if !documented.names.contains(&name) {
            documented.undocumented.borrow_mut().push(name.to_owned());
        }
    });
}

/// Middleware of one operation whose description names the query parameters `names`: when
/// its handler reads another one, the answer becomes a 500 naming it, so the tests of any
/// route fail until the route table describes what the handler reads.
pub async fn check_documented(
    State(names): State<Arc<[&'static str]>>,
    request: Request,
    next: Next,
) -> Response {
    let documented = Documented {
        names,
        undocumented: RefCell::default(),
    };
    DOCUMENTED
        .scope(documented, async move {
            let response = next.run(request).await;
            let mut undocumented = DOCUMENTED.with(|d| d.undocumented.take());
            if undocumented.is_empty() {
                return response;
            }
            undocumented.sort();
            undocumented.dedup();
            let names = undocumented.join(", ");
            error!(params = %names, "query parameters read but not described");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!(
                    "This route reads query parameters its OpenAPI description does not name \
                     ({names}); describe them in the route table"
                ),
            )
            .into_response()
        })
        .await
}

/// A JSON request body: 415 with `not_json` when it is not declared as JSON, and a JSON error
/// saying why it could not be read (too large, cut short) or why it cannot be stored (a NUL
/// character).
pub fn json_body(
    headers: &HeaderMap,
    read: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
    not_json: &str,
) -> Result<axum::body::Bytes, ApiError> {
    let body = read_body(read)?;
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return Err(ApiError::new(
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            not_json,
        ));
    }
    if crate::nul::json_holds_nul(&body) {
        return Err(crate::nul::refused("the JSON body"));
    }
    Ok(body)
}

/// A request body, or a JSON error saying why it could not be read (too large, cut short).
pub fn read_body(
    read: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<axum::body::Bytes, ApiError> {
    read.map_err(|rejection| {
        let status = rejection.status();
        if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                status,
                format!(
                    "The request body is larger than the {} KiB this route accepts",
                    crate::MAX_BODY_BYTES >> 10
                ),
            )
        } else {
            ApiError::new(
                status,
                format!("The request body could not be read: {rejection}"),
            )
        }
    })
}

/// Reads the `limit` parameter within `1..=max`, refused with Panoramax's message otherwise.
pub fn limit(params: &Params, max: usize) -> Result<Option<usize>, ApiError> {
    let Some(v) = params.get("limit").filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    match v.trim().parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(Some(n)),
        _ => Err(ApiError::bad_request(format!(
            "limit parameter should be an integer between 1 and {max}"
        ))),
    }
}

/// Reads `limit` of a STAC search: at least 1, and above `max` taken as `max` (STAC API
/// servers answer the most they allow rather than refuse a larger page).
pub fn limit_capped(
    value: Option<&str>,
    max: usize,
    message: &str,
) -> Result<Option<usize>, ApiError> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if !v.bytes().all(|b| b.is_ascii_digit()) || v.bytes().all(|b| b == b'0') {
        return Err(ApiError::bad_request(message));
    }
    Ok(Some(v.parse::<usize>().map_or(max, |n| n.min(max))))
}

/// Reads a bbox given as `minx,miny,maxx,maxy` (or its JSON array form); a 3D bbox
/// `minx,miny,minz,maxx,maxy,maxz` is read without its heights.
pub fn bbox_text(value: &str) -> Result<[f64; 4], ApiError> {
    let cleaned = value.trim().trim_start_matches('[').trim_end_matches(']');
    let numbers: Result<Vec<f64>, _> = cleaned
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect();
    match numbers {
        Ok(n) => flat_bbox(&n),
        _ => Err(bad_bbox()),
    }
}

/// Reads a bbox given as a JSON array of 4 numbers, or 6 for a 3D one.
pub fn bbox_json(value: &Value) -> Result<[f64; 4], ApiError> {
    let numbers: Option<Vec<f64>> = value
        .as_array()
        .and_then(|a| a.iter().map(Value::as_f64).collect());
    flat_bbox(&numbers.ok_or_else(bad_bbox)?)
}

/// A 2D bbox out of 4 numbers, or out of 6 (`minx,miny,minz,maxx,maxy,maxz`).
fn flat_bbox(n: &[f64]) -> Result<[f64; 4], ApiError> {
    match *n {
        [a, b, c, d] | [a, b, _, c, d, _] => bbox_checked([a, b, c, d]),
        _ => Err(bad_bbox()),
    }
}

fn bbox_checked(b: [f64; 4]) -> Result<[f64; 4], ApiError> {
    let finite = b.iter().all(|v| v.is_finite());
    let in_range = (-180.0..=180.0).contains(&b[0])
        && (-180.0..=180.0).contains(&b[2])
        && (-90.0..=90.0).contains(&b[1])
        && (-90.0..=90.0).contains(&b[3]);
    if !finite || !in_range || b[0] > b[2] || b[1] > b[3] {
        return Err(ApiError::bad_request(
            "Parameter bbox must be in format [minX, minY, maxX, maxY], with longitudes in \
             -180..180, latitudes in -90..90 and min values not above max values",
        ));
    }
    Ok(b)
}

fn bad_bbox() -> ApiError {
    ApiError::bad_request("Parameter bbox must be in format [minX, minY, maxX, maxY]")
}

/// Reads a STAC `datetime`: one instant, or an interval `start/end` whose ends may be open
/// (`..` or empty). A bare date stands for that whole UTC day.
pub fn datetime(value: &str) -> Result<TimeRange, ApiError> {
    datetime_with(value, true)
}

/// [`datetime`], its refusals naming dates as accepted or not.
fn datetime_with(value: &str, dates: bool) -> Result<TimeRange, ApiError> {
    let bad = |what: &str| {
        let forms = if dates {
            "an RFC 3339 instant such as 2021-07-29T09:16:54Z, a date"
        } else {
            "an RFC 3339 instant such as 2021-07-29T09:16:54Z"
        };
        ApiError::bad_request("Invalid `datetime` argument").with(
            "details",
            json!({ "error": format!(
                "Unknown string format: {what}; expected {forms}, or an interval start/end \
                 with .. for an open end"
            )}),
        )
    };
    let value = value.trim();
    if let Some((start, end)) = value.split_once('/') {
        let start = open_end(start)
            .map(|s| instant(s, false).ok_or_else(|| bad(s)))
            .transpose()?;
        let end = open_end(end)
            .map(|e| instant(e, true).ok_or_else(|| bad(e)))
            .transpose()?;
        if start.is_none() && end.is_none() {
            return Err(bad(value));
        }
        if let (Some(s), Some(e)) = (start, end)
            && s > e
        {
            return Err(ApiError::bad_request("Invalid `datetime` argument").with(
                "details",
                json!({ "error": "the interval ends before it starts: put the earlier instant first" }),
            ));
        }
        return Ok(TimeRange { start, end });
    }
    let start = instant(value, false).ok_or_else(|| bad(value))?;
    let end = instant(value, true).ok_or_else(|| bad(value))?;
    Ok(TimeRange {
        start: Some(start),
        end: Some(end),
    })
}

/// Reads a STAC search `datetime`, whose instants must be RFC 3339 date-times (a bare date is
/// refused, as STAC API asks).
pub fn datetime_rfc3339(value: &str) -> Result<TimeRange, ApiError> {
    let ends = value.trim().split('/').filter_map(open_end);
    if let Some(end) = ends
        .into_iter()
        .find(|e| DateTime::parse_from_rfc3339(e).is_err())
    {
        return Err(ApiError::bad_request("Invalid `datetime` argument").with(
            "details",
            json!({ "error": format!(
                "Unknown string format: {end}; expected an RFC 3339 instant such as \
                 2021-07-29T09:16:54Z, or an interval start/end with .. for an open end"
            )}),
        ));
    }
    datetime_with(value, false)
}

fn open_end(s: &str) -> Option<&str> {
    let s = s.trim();
    (!s.is_empty() && s != "..").then_some(s)
}

/// An RFC 3339 instant, or a date taken as the start (or end) of that UTC day.
fn instant(s: &str, end_of_day: bool) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    let time = if end_of_day {
        date.and_hms_micro_opt(23, 59, 59, 999_999)?
    } else {
        date.and_hms_opt(0, 0, 0)?
    };
    Some(time.and_utc())
}

/// Most ids one search may name; longer lists are refused rather than slowing the catalog.
pub const MAX_IDS: usize = 1000;

fn too_many_ids(name: &str) -> ApiError {
    ApiError::bad_request(format!(
        "Parameter {name} names more than {MAX_IDS} ids; split the request"
    ))
}

/// Reads a list of ids given as `a,b`, or as a JSON array.
pub fn id_list_text<T: std::str::FromStr>(value: &str, name: &str) -> Result<Vec<T>, ApiError> {
    let trimmed = value.trim();
    let items: Vec<String> = if trimmed.starts_with('[') {
        serde_json::from_str(trimmed).map_err(|_| bad_ids(name))?
    } else {
        trimmed
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    };
    if items.len() > MAX_IDS {
        return Err(too_many_ids(name));
    }
    items
        .iter()
        .map(|s| s.parse().map_err(|_| bad_ids(name)))
        .collect()
}

/// Reads a list of ids given as a JSON array, or as one string in the query form (some STAC
/// clients send a single collection that way).
pub fn id_list_json<T: std::str::FromStr>(value: &Value, name: &str) -> Result<Vec<T>, ApiError> {
    if let Some(text) = value.as_str() {
        return id_list_text(text, name);
    }
    let Some(items) = value.as_array() else {
        return Err(bad_ids(name));
    };
    if items.len() > MAX_IDS {
        return Err(too_many_ids(name));
    }
    items
        .iter()
        .map(|v| {
            v.as_str()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| bad_ids(name))
        })
        .collect()
}

fn bad_ids(name: &str) -> ApiError {
    ApiError::bad_request(format!(
        "Parameter {name} should be a list of UUIDs, comma separated or as a JSON array"
    ))
}

/// Reads a GeoJSON geometry of any type as a search area: pictures match inside its polygons,
/// or exactly on its lines and points.
pub fn area(value: &Value) -> Result<Area, ApiError> {
    let mut area = Area::default();
    add_geometry(&mut area, value, 0).ok_or_else(|| {
        ApiError::bad_request("Parameter intersects should be a GeoJSON geometry")
    })?;
    if area.polygons.is_empty() && area.lines.is_empty() && area.points.is_empty() {
        return Err(ApiError::bad_request(
            "Parameter intersects should be a GeoJSON geometry with coordinates",
        ));
    }
    let on_earth =
        |p: &[f64; 2]| (-180.0..=180.0).contains(&p[0]) && (-90.0..=90.0).contains(&p[1]);
    let all_on_earth = area.points.iter().all(on_earth)
        && area.lines.iter().flatten().all(on_earth)
        && area.polygons.iter().flatten().flatten().all(on_earth);
    if !all_on_earth {
        return Err(ApiError::bad_request(
            "Parameter intersects has positions off the Earth: write [longitude, latitude] in              degrees, longitudes in -180..180 and latitudes in -90..90",
        ));
    }
    Ok(area)
}

/// Adds one GeoJSON geometry to `area`; `None` when it is not valid GeoJSON. Collections nest
/// at most a few levels deep.
fn add_geometry(area: &mut Area, value: &Value, depth: usize) -> Option<()> {
    let coords = value.get("coordinates");
    let list = |v: Option<&Value>| v.and_then(Value::as_array).cloned();
    match value.get("type")?.as_str()? {
        "Point" => area.points.push(position(coords?)?),
        "MultiPoint" => area.points.extend(positions(coords?)?),
        "LineString" => area.lines.push(line(positions(coords?)?)?),
        "MultiLineString" => {
            for l in list(coords)? {
                area.lines.push(line(positions(&l)?)?);
            }
        }
        "Polygon" => area.polygons.push(polygon(coords?)?),
        "MultiPolygon" => {
            for p in list(coords)? {
                area.polygons.push(polygon(&p)?);
            }
        }
        "GeometryCollection" if depth < 4 => {
            for g in value.get("geometries")?.as_array()? {
                add_geometry(area, g, depth + 1)?;
            }
        }
        _ => return None,
    }
    Some(())
}

/// A GeoJSON position as `[lon, lat]`, any elevation dropped.
fn position(value: &Value) -> Option<[f64; 2]> {
    match value.as_array()?.as_slice() {
        [lon, lat, ..] => Some([lon.as_f64()?, lat.as_f64()?]),
        _ => None,
    }
}

fn positions(value: &Value) -> Option<Vec<[f64; 2]>> {
    value.as_array()?.iter().map(position).collect()
}

fn line(positions: Vec<[f64; 2]>) -> Option<Vec<[f64; 2]>> {
    (positions.len() >= 2).then_some(positions)
}

fn polygon(value: &Value) -> Option<Vec<Vec<[f64; 2]>>> {
    let rings: Option<Vec<_>> = value.as_array()?.iter().map(positions).collect();
    rings.filter(|r| r.first().is_some_and(|outer| outer.len() >= 4))
}

/// Reads an id in a path, answering 404 with the right message when it is not a UUID.
pub fn path_id<T: std::str::FromStr>(value: &str, not_found: &str) -> Result<T, ApiError> {
    value
        .parse()
        .map_err(|_| ApiError::new(axum::http::StatusCode::NOT_FOUND, not_found))
}

/// A sequence id from the path.
pub fn sequence_id(value: &str) -> Result<SequenceId, ApiError> {
    path_id(value, "Collection doesn't exist")
}

/// An account id from the path.
pub fn account_id(value: &str) -> Result<AccountId, ApiError> {
    path_id(value, "User doesn't exist")
}

/// A picture id from the path.
pub fn picture_id(value: &str) -> Result<PictureId, ApiError> {
    path_id(value, "Item doesn't exist")
}

/// The collection and picture ids of an item's path; either unreadable is an unknown item.
pub fn item_path(collection: &str, item: &str) -> Result<(SequenceId, PictureId), ApiError> {
    let collection = path_id(collection, "Item doesn't exist")?;
    Ok((collection, picture_id(item)?))
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::extract::Query;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn a_route_reading_an_undescribed_parameter_answers_500() {
        async fn handler(Query(params): Query<Params>) -> &'static str {
            let _ = params.get("limit");
            let _ = params.contains_key("secret");
            "read"
        }
        let names: Arc<[&'static str]> = vec!["limit"].into();
        let router = Router::new().route(
            "/x",
            get(handler).layer(axum::middleware::from_fn_with_state(
                names,
                check_documented,
            )),
        );
        let request = Request::builder().uri("/x?limit=1").body(Body::empty());
        let response = router
            .oneshot(request.unwrap_or_default())
            .await
            .map_err(|infallible| match infallible {});
        let status = response.map(|r| r.status()).ok();
        assert_eq!(status, Some(StatusCode::INTERNAL_SERVER_ERROR));
    }

    #[test]
    fn parses_datetime_forms() {
        let r = datetime("2021-07-29T00:00:00Z/2021-07-30T00:00:00Z").ok();
        assert!(r.is_some_and(|r| r.start.is_some() && r.end.is_some()));
        let r = datetime("../2021-07-30T00:00:00Z").ok();
        assert!(r.is_some_and(|r| r.start.is_none() && r.end.is_some()));
        let r = datetime("2021-07-29").ok();
        assert!(r.is_some_and(|r| r.start < r.end));
        assert!(datetime("yesterday").is_err());
        assert!(datetime("../..").is_err());
        assert!(datetime_rfc3339("2021-07-29").is_err());
        assert!(datetime_rfc3339("2021-07-29T00:00:00Z/..").is_ok());
        assert!(datetime_rfc3339("/2021-07-29T00:00:00Z/2021-07-30T00:00:00Z").is_err());
    }

    #[test]
    fn parses_bbox_and_ids() {
        assert!(bbox_text("1,2,3,4").is_ok());
        assert!(bbox_text("1,2,3").is_err());
        assert!(bbox_text("3,2,1,4").is_err());
        assert_eq!(bbox_text("1,2,0,3,4,9").ok(), Some([1.0, 2.0, 3.0, 4.0]));
        assert!(limit_capped(Some("0"), 10, "").is_err());
        assert_eq!(
            limit_capped(Some("99999999999999999999"), 10, "").ok(),
            Some(Some(10))
        );
        let ids: Vec<PictureId> =
            id_list_text("[\"ad2a4048-b27c-4f86-8d27-451c4cb1601e\"]", "ids").unwrap_or_default();
        assert_eq!(ids.len(), 1);
        assert!(id_list_text::<PictureId>("nope", "ids").is_err());
        let one = json!("ad2a4048-b27c-4f86-8d27-451c4cb1601e");
        assert_eq!(
            id_list_json::<PictureId>(&one, "ids").map(|v| v.len()).ok(),
            Some(1)
        );
        assert!(id_list_json::<PictureId>(&json!(3), "ids").is_err());
    }

    #[test]
    fn refuses_positions_off_the_earth_and_dates_where_instants_are_needed() {
        let point = |lon: f64, lat: f64| json!({ "type": "Point", "coordinates": [lon, lat] });
        assert!(area(&point(2.0, 48.0)).is_ok());
        assert!(area(&point(500.0, 10.0)).is_err());
        assert!(area(&point(10.0, 91.0)).is_err());
        let far = json!({ "type": "Polygon",
            "coordinates": [[[0.0, 0.0], [361.95, 0.0], [1.0, 1.0], [0.0, 0.0]]] });
        assert!(area(&far).is_err());

        for text in ["../..", "", "2021-13-01T00:00:00Z"] {
            let message = format!("{:?}", datetime_rfc3339(text).err());
            assert!(!message.contains("a date"), "{text}: {message}");
        }
        let message = format!("{:?}", datetime("nope").err());
        assert!(message.contains("a date"), "{message}");
    }
}
