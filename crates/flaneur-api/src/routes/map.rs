//! Map vector tiles and their styles: general, per user, and the caller's own
//! (panoramax-api.md §6).

use std::hash::{DefaultHasher, Hash, Hasher};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use flaneur_model::Viewer;
use flaneur_service::tile::MapKind;
use flaneur_service::tile::filter::MAP_QUERYABLES;
use flaneur_service::tile::geometry::{MAX_ZOOM, TileId};
use flaneur_store::Filter;
use serde_json::Value;

use crate::auth::LoggedIn;
use crate::params::Params;
use crate::style::StyledMap;
use crate::url::BaseUrl;
use crate::{ApiError, ApiResult, AppState, ReadAs, cql2, params, style};

/// The media type of vector tiles.
const MVT: &str = "application/vnd.mapbox-vector-tile";

/// Tiles change as pictures are published: caches may keep them a minute, then revalidate.
const CACHE: &str = "public, max-age=60";

/// A tile drawn for a logged-in caller may show what others may not see: only its own browser
/// may keep it, and asks again before each use (answered 304 by the ETag naming the viewer),
/// since one address serves every account: `/api/users/me/map` tiles of the account logged in
/// before would otherwise be shown to the one logged in after, in the same browser.
const CACHE_VIEWER: &str = "private, no-cache";

/// What a tile's content depends on besides its address: the credentials it was drawn for.
const VARY_CALLER: &str = "Cookie, Authorization";

/// The style of the caller's own tiles: the same for every account, but served to the logged-in
/// only.
const CACHE_STYLE_ME: &str = "private, max-age=60";

/// The tile addressed by `z`, `x` and `{y}.{format}`, or the answer GeoVisio gives, checked
/// in its order: 404 for an address that is not numbers and an extension (no route of
/// GeoVisio's matches it), then 400 for a format other than `mvt` or `pbf`, then 404 for a tile
/// outside the pyramid.
fn parse_tile(z: &str, x: &str, y_fmt: &str) -> Result<TileId, ApiError> {
    let no_route = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "No such route; the API's entry point is /api, which links to everything else",
        )
    };
    let (y, format) = y_fmt.split_once('.').ok_or_else(no_route)?;
    let (Ok(z), Ok(x), Ok(y)) = (z.parse::<u32>(), x.parse::<u32>(), y.parse::<u32>()) else {
        return Err(no_route());
    };
    if format != "mvt" && format != "pbf" {
        return Err(ApiError::bad_request(
            "Tile format is invalid, should be either pbf or mvt",
        ));
    }
    let z = u8::try_from(z)
        .ok()
        .filter(|z| *z <= MAX_ZOOM)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("Z parameter is out of bounds (should be 0-{MAX_ZOOM})"),
            )
        })?;
    TileId::new(z, x, y)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "X or Y parameter is out of bounds"))
}

/// The `filter` of a user map: CQL2 on the visibility of sequences and pictures
/// (`visibility <> 'anyone'` draws what is hidden from some readers).
///
/// # Errors
/// A 400 when it cannot be read or names another property, such as the `status` the
/// reference's older documentation shows.
fn map_filter(params: &Params) -> Result<Option<Filter>, ApiError> {
    let Some(filter) = cql2::from_params(params)? else {
        return Ok(None);
    };
    filter
        .checked(MAP_QUERYABLES)
        .map(Some)
        .map_err(|e| ApiError::bad_request(format!("Parameter filter cannot be used here: {e}")))
}

/// `GET /api/map/{z}/{x}/{y}.mvt` (or `.pbf`): the published pictures in a vector tile.
pub async fn tile(
    State(state): State<AppState>,
    ReadAs(viewer): ReadAs,
    Path((z, x, y_fmt)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let tile = parse_tile(&z, &x, &y_fmt)?;
    let drawn = Drawn {
        kind: MapKind::General,
        viewer,
        filter: None,
    };
    tile_response(&state, drawn, tile, &headers).await
}

/// `GET /api/users/{id}/map/{z}/{x}/{y}.mvt` (or `.pbf`): one account's published pictures,
/// those passing `filter` only when given. An id that names no account gives empty tiles; one
/// that is no id at all, a 404.
pub async fn user_tile(
    State(state): State<AppState>,
    ReadAs(viewer): ReadAs,
    Path((id, z, x, y_fmt)): Path<(String, String, String, String)>,
    Query(params): Query<Params>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let account = params::account_id(&id)?;
    let tile = parse_tile(&z, &x, &y_fmt)?;
    let drawn = Drawn {
        kind: MapKind::User(account),
        viewer,
        filter: map_filter(&params)?,
    };
    tile_response(&state, drawn, tile, &headers).await
}

/// `GET /api/users/me/map/{z}/{x}/{y}.mvt` (or `.pbf`): the caller's own published pictures,
/// hidden ones included, those passing `filter` only when given; never kept by shared caches.
pub async fn me_tile(
    State(state): State<AppState>,
    LoggedIn(account): LoggedIn,
    Path((z, x, y_fmt)): Path<(String, String, String)>,
    Query(params): Query<Params>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let tile = parse_tile(&z, &x, &y_fmt)?;
    let drawn = Drawn {
        kind: MapKind::User(account.id),
        viewer: account.viewer(),
        filter: map_filter(&params)?,
    };
    tile_response(&state, drawn, tile, &headers).await
}

/// What a tile is drawn of and for.
struct Drawn {
    kind: MapKind,
    viewer: Viewer,
    filter: Option<Filter>,
}

/// A tile as its viewer may see it, with its ETag and cache headers, or 304 when the client
/// holds it already. Anonymous tiles are public and cached alike for everyone; a logged-in
/// caller's are private to it.
async fn tile_response(
    state: &AppState,
    drawn: Drawn,
    tile: TileId,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let Drawn {
        kind,
        viewer,
        filter,
    } = drawn;
    // The ETag names the map, the viewer it was drawn for when logged in, the tile, the
    // catalog and its state the tile was drawn from, and the release that drew it, so a
    // client holding it is answered without drawing the tile again, and never given a tile
    // of another catalog, of another viewer, or drawn otherwise.
    let version = state.services.map_version().await?;
    let map = match kind {
        MapKind::General => String::new(),
        MapKind::User(id) => format!("{id}-"),
    };
    let seen_by = match viewer.account_id() {
        None => String::new(),
        Some(id) if viewer.is_admin() => format!("as-{id}-admin-"),
        Some(id) => format!("as-{id}-"),
    };
    // A filter is named by a hash of its parsed form: two spellings of one condition share it.
    let only = filter.as_ref().map_or_else(String::new, |f| {
        let mut hasher = DefaultHasher::new();
        format!("{f:?}").hash(&mut hasher);
        format!("only-{:016x}-", hasher.finish())
    });
    let etag = format!(
        "\"{map}{seen_by}{only}{}-{}-{}-{version}-{}\"",
        tile.z,
        tile.x,
        tile.y,
        env!("CARGO_PKG_VERSION")
    );
    let mut response_headers = HeaderMap::new();
    let cache = if viewer.is_anonymous() {
        CACHE
    } else {
        CACHE_VIEWER
    };
    response_headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    response_headers.insert(VARY, HeaderValue::from_static(VARY_CALLER));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        response_headers.insert(ETAG, v);
    }
    let cached = headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',').map(str::trim).any(|t| {
                let t = t.strip_prefix("W/").unwrap_or(t);
                t == etag || t == "*"
            })
        });
    if cached {
        return Ok((StatusCode::NOT_MODIFIED, response_headers).into_response());
    }

    let body = state
        .services
        .map_tile(kind, tile, viewer, filter.as_ref(), &version)
        .await?;
    response_headers.insert(CONTENT_TYPE, HeaderValue::from_static(MVT));
    Ok((response_headers, body).into_response())
}

/// `GET /api/map/style.json`: the MapLibre style of the tiles.
pub async fn style(State(state): State<AppState>, base: BaseUrl) -> Json<Value> {
    Json(style::map_style(&base, &state.info, StyledMap::General))
}

/// `GET /api/users/me/map/style.json`: the MapLibre style of the caller's own tiles. It names
/// no account, but answers only the logged-in: private to the caller, as its tiles are.
pub async fn me_style(
    State(state): State<AppState>,
    base: BaseUrl,
    LoggedIn(_): LoggedIn,
) -> Response {
    let body = style::map_style(&base, &state.info, StyledMap::Me);
    ([(CACHE_CONTROL, CACHE_STYLE_ME)], Json(body)).into_response()
}

/// `GET /api/users/{id}/map/style.json`: the MapLibre style of one account's tiles.
pub async fn user_style(
    State(state): State<AppState>,
    base: BaseUrl,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let account = params::account_id(&id)?;
    Ok(Json(style::map_style(
        &base,
        &state.info,
        StyledMap::User(account),
    )))
}
