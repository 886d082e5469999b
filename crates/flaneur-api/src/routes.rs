//! The route table. Each module serves one API resource.
//!
//! Every operation of the API is one [`Route`] of [`api`]: its method, path, handler and
//! description. The router and the OpenAPI document are both built from that table, so a
//! route cannot be served undescribed, nor described and not served; in debug builds each
//! route also checks that its handler reads only the query parameters its description names
//! (`params::check_documented`). Only the web front-end's pages and assets, which are no part
//! of the API, are routed outside it.

mod admin;
mod annotations;
mod catalog;
mod claim;
mod collections;
mod docs;
mod edit;
mod excluded;
pub(crate) mod federation;
mod files;
mod items;
mod listing;
mod login;
mod map;
mod me;
mod page_body;
mod pages;
mod reports;
mod search;
mod tokens;
mod upload_sets;
mod users;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::routing::{MethodFilter, MethodRouter, get, on};
use flaneur_service::read::MAX_USERS;
use flaneur_service::tile::geometry::MAX_ZOOM;
use flaneur_store::SequenceSortField;
use serde_json::{Value, json};

use crate::stac::openapi::schemas::{self, reference, uuid};
use crate::stac::openapi::{GEOJSON, JSON, Operation};
use crate::{ApiError, AppState, cql2, params, web};

/// One operation of the API.
pub struct Route {
    /// Its HTTP method.
    pub method: Method,
    /// Its path, in the router's syntax (`{name}` segments).
    pub path: &'static str,
    /// The handler, set up for a method.
    serve: fn(MethodFilter) -> MethodRouter<AppState>,
    /// How the OpenAPI document describes it.
    pub doc: Operation,
    /// Whether it adds, changes or removes contributions (pictures, sequences, upload sets,
    /// annotations, reports), which a catalog-only instance takes none of.
    pub is_contribution: bool,
}

/// Every route: the API's, from [`api`], and the web front-end's pages and assets. On a
/// catalog-only instance, the contribution routes answer that it takes none.
pub fn router(is_catalog_only: bool) -> Router<AppState> {
    let mut router = Router::new();
    for (route, file) in web::PAGES {
        router = router.route(
            route,
            get(move |state: State<AppState>, headers: HeaderMap| web::page(state, headers, file)),
        );
    }
    for route in api() {
        let filter = MethodFilter::try_from(route.method.clone())
            .expect("the route table uses only methods the router can filter on");
        // Still routed rather than left out, so that clients read why instead of a bare 404
        // or 405 from another route of the same path.
        let mut serve = if is_catalog_only && route.is_contribution {
            on(filter, refuse_contribution)
        } else {
            (route.serve)(filter)
        };
        // Release builds skip the check: a missing description is a bug the tests catch, not
        // a reason to refuse a request in production.
        if cfg!(debug_assertions) {
            let names: Arc<[&'static str]> = route.doc.query_names().into();
            serve = serve.layer(axum::middleware::from_fn_with_state(
                names,
                params::check_documented,
            ));
        }
        router = router.route(route.path, serve);
    }
    router
        .route("/assets/{*path}", get(web::asset))
        .route("/web/settings.json", get(web::settings))
        .route("/static/logo.svg", get(catalog::logo))
        // Browsers ask for it on their own, whatever the pages link to; SVG is read there too.
        .route("/favicon.ico", get(catalog::logo))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

/// The answer of every contribution route on a catalog-only instance.
async fn refuse_contribution() -> ApiError {
    ApiError::catalog_only()
}

/// The OpenAPI document of the API, without its `servers`; without the contribution routes
/// on a catalog-only instance.
pub fn openapi_document(is_catalog_only: bool) -> Value {
    let routes = api();
    let operations = routes
        .iter()
        .filter(|r| !(is_catalog_only && r.is_contribution))
        .map(|r| (method_name(&r.method), r.path, &r.doc));
    crate::stac::openapi::document(env!("CARGO_PKG_VERSION"), operations)
}

fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::POST => "post",
        Method::DELETE => "delete",
        Method::PUT => "put",
        Method::PATCH => "patch",
        _ => "get",
    }
}

impl Route {
    fn new(
        method: Method,
        path: &'static str,
        serve: fn(MethodFilter) -> MethodRouter<AppState>,
        doc: Operation,
    ) -> Route {
        Route {
            method,
            path,
            serve,
            doc,
            is_contribution: false,
        }
    }

    /// A route adding, changing or removing contributions.
    fn contribution(
        method: Method,
        path: &'static str,
        serve: fn(MethodFilter) -> MethodRouter<AppState>,
        doc: Operation,
    ) -> Route {
        Route {
            is_contribution: true,
            ..Route::new(method, path, serve, doc)
        }
    }
}

// Groups of operations in the document.
const CATALOG: &str = "Catalog";
const COLLECTIONS: &str = "Collections";
const ITEMS: &str = "Items";
const SEARCH: &str = "Search";
const FILES: &str = "Picture files";
const MAP: &str = "Map";
const USERS: &str = "Users";
const UPLOAD: &str = "Upload";
const AUTH: &str = "Authentication";

const JPEG: &str = "image/jpeg";
const FORM: &str = "application/x-www-form-urlencoded";
const MVT: &str = "application/vnd.mapbox-vector-tile";

/// Every operation of the API, in the order the document lists them.
pub fn api() -> Vec<Route> {
    let mut routes = table();
    routes.extend(login::routes());
    routes.extend(reports::routes());
    routes.extend(annotations::routes());
    routes.extend(excluded::routes());
    routes.extend(admin::routes());
    routes.extend(federation::routes());
    routes.extend(pages::routes());
    routes
}

fn table() -> Vec<Route> {
    use Method as M;
    vec![
        // The catalog and what describes it.
        Route::new(
            M::GET,
            "/api",
            |m| on(m, catalog::landing),
            Operation::new(CATALOG, "Landing page")
                .describe(
                    "The STAC catalog of the instance: its extent and links to \
                     everything else.",
                )
                .answer(200, "The catalog", JSON, reference(schemas::CATALOG))
                .errors(&[500]),
        ),
        Route::new(
            M::GET,
            "/api/conformance",
            |m| on(m, catalog::conformance),
            Operation::new(CATALOG, "Conformance classes").answer(
                200,
                "The classes this API conforms to",
                JSON,
                json!({
                    "type": "object", "required": ["conformsTo"],
                    "properties": { "conformsTo": {
                        "type": "array", "items": { "type": "string" } } }
                }),
            ),
        ),
        Route::new(
            M::GET,
            "/api/configuration",
            |m| on(m, catalog::configuration),
            Operation::new(CATALOG, "Instance configuration")
                .describe(
                    "Name, description, logo, licence of the pictures and the upload \
                     defaults, as Panoramax clients read them.",
                )
                .answer(200, "The configuration", JSON, json!({ "type": "object" })),
        ),
        Route::new(
            M::GET,
            "/api/docs/specs.json",
            |m| on(m, docs::openapi),
            Operation::new(CATALOG, "This OpenAPI document").answer(
                200,
                "The document",
                crate::stac::openapi::MEDIA_TYPE,
                json!({ "type": "object" }),
            ),
        ),
        Route::new(
            M::GET,
            "/api/docs/swagger",
            |m| on(m, docs::page),
            Operation::new(CATALOG, "This OpenAPI document as a web page").answer(
                200,
                "The page",
                "text/html",
                json!({ "type": "string" }),
            ),
        ),
        Route::new(
            M::GET,
            "/api/queryables",
            |m| on(m, catalog::queryables),
            queryables(Operation::new(SEARCH, "What item search can filter on")),
        ),
        Route::new(
            M::GET,
            "/api/collections/queryables",
            |m| on(m, catalog::collections_queryables),
            queryables(Operation::new(
                COLLECTIONS,
                "What the collection list can filter on",
            )),
        ),
        // Sequences as collections, and their pictures as items.
        Route::new(
            M::GET,
            "/api/collections",
            |m| on(m, collections::list),
            Operation::new(COLLECTIONS, "Ready sequences as STAC collections")
                .describe(
                    "Visible sequences, oldest first unless sortby says otherwise, a page \
                     at a time with first, prev, next and last links; or, with \
                     `format=rss` or `Accept: application/rss+xml`, the newest of them as \
                     an RSS feed. With `show_deleted=true`, deleted and hidden sequences \
                     come too, as tombstones `{id, geovisio:status: deleted}`.",
                )
                .query(
                    "limit",
                    "Collections a page holds",
                    limit(collections::DEFAULT_LIMIT, collections::MAX_LIMIT),
                )
                .query_list("bbox", "Only sequences overlapping this box", bbox())
                .query(
                    "datetime",
                    "Only sequences captured within this time",
                    datetime(true),
                )
                .then(|o| cql2_filter(o, SEQUENCE_FILTER, "created >= '2024-01-01'"))
                .query(
                    "sortby",
                    "Order of the sequences",
                    sequence_sortby(
                        "+created (+updated with show_deleted, -created for the RSS feed)",
                    ),
                )
                .query(
                    "show_deleted",
                    "Whether deleted and hidden sequences come too, as tombstones; a filter \
                     opening with `status IN ('deleted','ready') AND` asks the same. Such a \
                     list is filtered and sorted on `updated` and `id` only, and is not \
                     offered as RSS",
                    json!({ "type": "boolean", "default": false }),
                )
                .query("page", PAGE_DESCRIPTION, json!({ "type": "string" }))
                .query(
                    "format",
                    "The answer's format; otherwise taken from Accept",
                    json!({ "type": "string", "enum": ["json", "rss"] }),
                )
                .header("Accept", "`application/rss+xml` asks for the RSS feed")
                .answer(
                    200,
                    "A page of collections",
                    JSON,
                    reference(schemas::COLLECTIONS),
                )
                .answer(
                    200,
                    "The RSS feed",
                    "application/rss+xml",
                    json!({ "type": "string" }),
                )
                .errors(&[400, 500]),
        ),
        Route::new(
            M::GET,
            "/api/collections/{id}",
            |m| on(m, collections::one),
            Operation::new(COLLECTIONS, "One sequence")
                .path("id", "The sequence", uuid())
                .answer(200, "The collection", JSON, reference(schemas::COLLECTION))
                .errors(&[404, 500]),
        ),
        Route::contribution(
            M::PATCH,
            "/api/collections/{id}",
            |m| on(m, edit::patch_collection),
            Operation::new(COLLECTIONS, "Change a sequence")
                .describe(
                    "Its owner (or an administrator) changes everything; another logged-in \
                     account changes its tags, and its order and relative heading when \
                     collaborative editing is allowed. `semantics` only in a JSON body. An \
                     empty body changes nothing and answers 304.",
                )
                .path("id", "The sequence", uuid())
                .body(&[
                    (JSON, reference(schemas::SEQUENCE_EDIT)),
                    (FORM, reference(schemas::SEQUENCE_EDIT)),
                ])
                .answer(
                    200,
                    "The changed collection",
                    JSON,
                    reference(schemas::COLLECTION),
                )
                .answer_empty(304, "Nothing to change")
                .errors(&[400, 401, 403, 404, 415, 500]),
        ),
        Route::contribution(
            M::DELETE,
            "/api/collections/{id}",
            |m| on(m, edit::delete_collection),
            Operation::new(COLLECTIONS, "Delete a sequence and its pictures")
                .describe(
                    "By its owner or an administrator. The sequence stays as a tombstone in \
                     `show_deleted=true` listings; its pictures' files are removed in the \
                     background.",
                )
                .path("id", "The sequence", uuid())
                .answer_empty(204, "Deleted")
                .errors(&[401, 403, 404, 500]),
        ),
        Route::new(
            M::GET,
            "/api/collections/{id}/items",
            |m| on(m, items::list),
            Operation::new(ITEMS, "Pictures of a sequence")
                .describe(
                    "The whole sequence in rank order, or with `limit` a page of it, \
                     with first, prev, next and last links.",
                )
                .path("id", "The sequence", uuid())
                .query(
                    "limit",
                    "Items a page holds; the whole sequence when absent",
                    json!({ "type": "integer", "minimum": 1, "maximum": items::MAX_LIMIT }),
                )
                .query(
                    "startAfterRank",
                    "Only pictures whose rank is above this one",
                    json!({ "type": "integer", "minimum": 1 }),
                )
                .answer(
                    200,
                    "The pictures",
                    GEOJSON,
                    reference(schemas::FEATURE_COLLECTION),
                )
                .errors(&[400, 404, 500]),
        ),
        Route::new(
            M::GET,
            "/api/collections/{id}/items/{item}",
            |m| on(m, items::one_in_collection),
            Operation::new(ITEMS, "One picture")
                .describe(
                    "A picture of another sequence than the path's is answered as an \
                     unknown item.",
                )
                .path(
                    "id",
                    "The sequence of the picture",
                    json!({ "type": "string" }),
                )
                .path("item", "The picture", uuid())
                .answer(
                    200,
                    "The item, with prev and next links",
                    GEOJSON,
                    reference(schemas::ITEM),
                )
                .errors(&[404, 500]),
        ),
        Route::contribution(
            M::PATCH,
            "/api/collections/{id}/items/{item}",
            |m| on(m, edit::patch_item),
            Operation::new(ITEMS, "Change a picture")
                .describe(
                    "Its owner (or an administrator) changes everything; another logged-in \
                     account changes its tags, and its heading, capture time and place when \
                     collaborative editing is allowed. `semantics` only in a JSON body. The \
                     sequence's order, extent and computed headings follow a new time or \
                     place. An empty body changes nothing and answers 304.",
                )
                .path(
                    "id",
                    "The sequence of the picture (else 404)",
                    json!({ "type": "string" }),
                )
                .path("item", "The picture", uuid())
                .body(&[
                    (JSON, reference(schemas::ITEM_EDIT)),
                    (FORM, reference(schemas::ITEM_EDIT)),
                ])
                .answer(
                    200,
                    "The changed item, with prev and next links",
                    GEOJSON,
                    reference(schemas::ITEM),
                )
                .answer_empty(304, "Nothing to change")
                .errors(&[400, 401, 403, 404, 415, 500]),
        ),
        Route::contribution(
            M::DELETE,
            "/api/collections/{id}/items/{item}",
            |m| on(m, edit::delete_item),
            Operation::new(ITEMS, "Delete a picture")
                .describe(
                    "By its owner or an administrator; its files are removed in the \
                     background, and its sequence's extent and computed headings follow.",
                )
                .path(
                    "id",
                    "The sequence of the picture (else 404)",
                    json!({ "type": "string" }),
                )
                .path("item", "The picture", uuid())
                .answer_empty(204, "Deleted")
                .errors(&[401, 403, 404, 500]),
        ),
        Route::new(
            M::GET,
            "/api/collections/{id}/geovisio_status",
            |m| on(m, collections::status),
            Operation::new(COLLECTIONS, "Processing status of a sequence")
                .path("id", "The sequence", uuid())
                .answer(
                    200,
                    "The sequence's status and each picture's",
                    JSON,
                    json!({
                        "type": "object", "required": ["status", "items"],
                        "properties": {
                            "status": { "type": "string" },
                            "items": { "type": "array", "items": { "type": "object" } }
                        }
                    }),
                )
                .errors(&[404, 500]),
        ),
        Route::new(
            M::GET,
            "/api/collections/{id}/thumb.jpg",
            |m| on(m, files::collection_thumb),
            file_operation("Thumbnail of a sequence's first picture").path(
                "id",
                "The sequence",
                uuid(),
            ),
        ),
        Route::new(
            M::GET,
            "/api/pictures/{id}",
            |m| on(m, items::one),
            Operation::new(ITEMS, "One picture, whatever its sequence")
                .path("id", "The picture", uuid())
                .answer(
                    200,
                    "The item, with prev and next links",
                    GEOJSON,
                    reference(schemas::ITEM),
                )
                .errors(&[404, 500]),
        ),
        // Item search.
        Route::new(
            M::GET,
            "/api/search",
            |m| on(m, search::get),
            Operation::new(SEARCH, "Item search")
                .describe(
                    "Published pictures matching every criterion given, a page at a \
                     time, with first, prev and next links where such pages exist.",
                )
                .query(
                    "limit",
                    "Items a page holds",
                    json!({ "type": "integer", "minimum": 1, "default": search::DEFAULT_LIMIT,
                            "description": format!(
                                "values above {max} are taken as {max}", max = search::MAX_LIMIT
                            ) }),
                )
                .query_list(
                    "bbox",
                    "Only pictures in this box; not with intersects; no \
                     brackets",
                    bbox(),
                )
                .query(
                    "intersects",
                    "Only pictures in (or exactly on) this GeoJSON geometry, \
                     given as JSON text; not with bbox",
                    json!({ "type": "string" }),
                )
                .query(
                    "datetime",
                    "Only pictures captured within this time",
                    datetime(false),
                )
                .query_list(
                    "ids",
                    "Only these pictures: comma-separated, or a JSON array",
                    id_list(),
                )
                .query_list(
                    "collections",
                    "Only pictures of these sequences: \
                     comma-separated, or a JSON array",
                    id_list(),
                )
                .then(place_search)
                .then(|o| cql2_filter(o, PICTURE_FILTER, "created >= '2024-01-01'"))
                .query(
                    "filter-crs",
                    "The coordinate system of filter: only CRS84 (longitude, latitude)",
                    json!({ "type": "string", "enum": [cql2::CRS84], "default": cql2::CRS84 }),
                )
                .query(
                    "sortby",
                    "Order of the items: fields `datetime` (or `ts`), `created`, `updated` \
                     and `id`, optionally prefixed by `properties.`, each ascending or with \
                     `-` descending; by default nearest first with place_position, else \
                     `-updated,+id`",
                    json!({ "type": "string", "example": "-datetime,+id" }),
                )
                .query(
                    "page",
                    "A page token from a first, prev or next link, valid with the same \
                     search (all but limit may not change); never built by hand",
                    json!({ "type": "string" }),
                )
                .answer(
                    200,
                    "A page of items",
                    GEOJSON,
                    reference(schemas::FEATURE_COLLECTION),
                )
                .errors(&[400, 500]),
        ),
        Route::new(
            M::POST,
            "/api/search",
            |m| on(m, search::post),
            Operation::new(SEARCH, "Item search with a JSON body")
                .describe(
                    "The criteria of `GET /search` as JSON; the paging links of a page \
                     are POSTs whose body repeats them with a page token.",
                )
                .body(&[(JSON, reference(schemas::SEARCH_BODY))])
                .answer(
                    200,
                    "A page of items",
                    GEOJSON,
                    reference(schemas::FEATURE_COLLECTION),
                )
                .errors(&[400, 413, 415, 500]),
        ),
        // Picture files.
        Route::new(
            M::GET,
            "/api/pictures/{id}/{file}",
            |m| on(m, files::picture),
            file_operation("A picture's file")
                .describe(
                    "`hd.jpg` is the picture as sent (blurred if asked), `sd.jpg` 2048 \
                     pixels wide and `thumb.jpg` a small preview.",
                )
                .path("id", "The picture", uuid())
                .path(
                    "file",
                    "Which file",
                    json!({
                    "type": "string", "enum": ["hd.jpg", "sd.jpg", "thumb.jpg"] }),
                ),
        ),
        Route::new(
            M::GET,
            "/api/pictures/{id}/tiled/{tile}",
            |m| on(m, files::tile),
            file_operation("A tile of a 360° picture")
                .describe(
                    "The tile grid is in the item's `tiles:tile_matrix_sets`; tiles are \
                     numbered from `0_0` at the top left.",
                )
                .path("id", "The picture", uuid())
                .path(
                    "tile",
                    "`{col}_{row}.jpg`",
                    json!({
                    "type": "string", "pattern": "^[0-9]+_[0-9]+\\.jpg$" }),
                ),
        ),
        // The map.
        Route::new(
            M::GET,
            "/api/map/style.json",
            |m| on(m, map::style),
            Operation::new(MAP, "MapLibre style of the vector tiles").answer(
                200,
                "The style",
                JSON,
                json!({ "type": "object" }),
            ),
        ),
        Route::new(
            M::GET,
            "/api/map/{z}/{x}/{y_fmt}",
            |m| on(m, map::tile),
            tile_operation(Operation::new(
                MAP,
                "Vector tile of the published pictures and sequences",
            )),
        ),
        // Accounts.
        Route::new(
            M::GET,
            "/api/users",
            |m| on(m, users::list),
            Operation::new(USERS, "Every account")
                .answer(
                    200,
                    "A catalog listing the accounts",
                    JSON,
                    reference(schemas::CATALOG),
                )
                .errors(&[500]),
        ),
        Route::new(
            M::GET,
            "/api/users/search",
            |m| on(m, users::search),
            Operation::new(USERS, "Accounts whose name contains some text")
                .query_required(
                    "q",
                    "Part of the name",
                    json!({
                    "type": "string", "minLength": 1 }),
                )
                .query(
                    "limit",
                    "Accounts the answer holds at most",
                    limit(users::DEFAULT_SEARCH_LIMIT, MAX_USERS),
                )
                .answer(
                    200,
                    "The accounts found",
                    JSON,
                    json!({
                        "type": "object", "required": ["features"],
                        "properties": { "features": { "type": "array", "items": {
                            "type": "object", "properties": {
                                "id": uuid(), "label": { "type": "string" } } } } }
                    }),
                )
                .errors(&[400, 500]),
        ),
        Route::new(
            M::GET,
            "/api/users/{id}",
            |m| on(m, users::one),
            Operation::new(USERS, "An account's public profile")
                .path("id", "The account", uuid())
                .answer(
                    200,
                    "The account",
                    JSON,
                    json!({
                        "type": "object", "required": ["id", "name", "links"],
                        "properties": { "id": uuid(), "name": { "type": "string" },
                                        "links": { "type": "array", "items":
                                            reference(schemas::LINK) } }
                    }),
                )
                .errors(&[404, 500]),
        ),
        Route::new(
            M::GET,
            "/api/users/{id}/collection",
            |m| on(m, users::collection),
            user_listing("An account's published sequences as one STAC collection")
                .describe(
                    "A page of `child` links, one a sequence; or, with `format=csv` or \
                     `Accept: text/csv`, every sequence as CSV, without paging.",
                )
                .query(
                    "format",
                    "The answer's format; otherwise taken from Accept",
                    json!({ "type": "string", "enum": ["json", "csv"] }),
                )
                .header("Accept", "`text/csv` asks for CSV")
                .answer(200, "The collection", JSON, json!({ "type": "object" }))
                .answer(
                    200,
                    "The sequences as CSV",
                    "text/csv",
                    json!({ "type": "string" }),
                ),
        ),
        Route::new(
            M::GET,
            "/api/users/{id}/catalog",
            |m| on(m, users::catalog),
            user_listing("An account's published sequences as a STAC catalog (deprecated)").answer(
                200,
                "The catalog",
                JSON,
                reference(schemas::CATALOG),
            ),
        ),
        Route::new(
            M::GET,
            "/api/users/{id}/map/style.json",
            |m| on(m, map::user_style),
            Operation::new(MAP, "MapLibre style of an account's vector tiles")
                .path("id", "The account", uuid())
                .answer(200, "The style", JSON, json!({ "type": "object" }))
                .errors(&[404]),
        ),
        Route::new(
            M::GET,
            "/api/users/{id}/map/{z}/{x}/{y_fmt}",
            |m| on(m, map::user_tile),
            tile_operation(
                Operation::new(MAP, "Vector tile of an account's published pictures")
                    .describe("An id that names no account gives empty tiles.")
                    .path("id", "The account", uuid()),
            )
            .then(|o| cql2_filter(o, MAP_FILTER, "visibility <> 'anyone'")),
        ),
        // The caller's account and its tokens.
        Route::new(
            M::GET,
            "/api/users/me",
            |m| on(m, me::get),
            logged(Operation::new(USERS, "The caller's account").answer(
                200,
                "Its profile, role and preferences",
                JSON,
                json!({ "type": "object" }),
            )),
        ),
        Route::new(
            M::PATCH,
            "/api/users/me",
            |m| on(m, me::patch),
            logged(
                Operation::new(USERS, "Change the caller's preferences")
                    .describe(
                        "`collaborative_metadata` (true, false, or null for the instance's \
                         choice) and `default_visibility` (or null for the instance's \
                         default).",
                    )
                    .body(&[(JSON, preferences_body())])
                    .answer(
                        200,
                        "The profile as changed",
                        JSON,
                        json!({ "type": "object" }),
                    )
                    .errors(&[400, 415]),
            ),
        ),
        Route::new(
            M::POST,
            "/api/users/me/accept_tos",
            |m| on(m, me::accept_tos),
            logged(
                Operation::new(USERS, "Accept the terms of service")
                    .describe(
                        "Records that the caller accepts them, and read their latest change. \
                         Instances enforcing them refuse uploads until then.",
                    )
                    .answer(
                        200,
                        "The profile as changed",
                        JSON,
                        json!({ "type": "object" }),
                    ),
            ),
        ),
        Route::new(
            M::POST,
            "/api/users/me/tos_read",
            |m| on(m, me::tos_read),
            logged(
                Operation::new(USERS, "Mark the latest change of the terms of service read")
                    .describe("`tos_latest_change_read` of the profile turns true.")
                    .answer(
                        200,
                        "The profile as changed",
                        JSON,
                        json!({ "type": "object" }),
                    ),
            ),
        ),
        Route::new(
            M::GET,
            "/api/users/me/collection",
            |m| on(m, me::collection),
            logged(
                Operation::new(USERS, "The caller's sequences")
                    .describe("A redirection to `/api/users/{id}/collection` of the caller.")
                    .answer_empty(302, "To the caller's collection"),
            ),
        ),
        Route::new(
            M::GET,
            "/api/users/me/catalog",
            |m| on(m, me::catalog),
            logged(
                Operation::new(USERS, "The caller's sequences as a catalog (deprecated)")
                    .describe("A redirection to `/api/users/{id}/catalog` of the caller.")
                    .answer_empty(302, "To the caller's catalog"),
            ),
        ),
        Route::new(
            M::GET,
            "/api/users/me/map/style.json",
            |m| on(m, map::me_style),
            logged(
                Operation::new(MAP, "MapLibre style of the caller's vector tiles")
                    .describe("Its source is `geovisio_me`, the caller's own tiles.")
                    .answer(200, "The style", JSON, json!({ "type": "object" })),
            ),
        ),
        Route::new(
            M::GET,
            "/api/users/me/map/{z}/{x}/{y_fmt}",
            |m| on(m, map::me_tile),
            logged(
                tile_operation(Operation::new(
                    MAP,
                    "Vector tile of the caller's pictures, hidden ones included",
                ))
                .then(|o| cql2_filter(o, MAP_FILTER, "visibility <> 'anyone'")),
            ),
        ),
        Route::new(
            M::GET,
            "/api/users/me/tokens",
            |m| on(m, tokens::list),
            logged(
                Operation::new(AUTH, "The caller's API tokens")
                    .describe(
                        "Their metadata only: a token's value is shown once, when it is made.",
                    )
                    .answer(
                        200,
                        "The tokens",
                        JSON,
                        json!({ "type": "array", "items": { "type": "object" } }),
                    ),
            ),
        ),
        Route::new(
            M::POST,
            "/api/users/me/tokens",
            |m| on(m, tokens::create),
            logged(
                Operation::new(AUTH, "Make an API token of the caller")
                    .describe(
                        "The answer holds the token's value in `jwt_token`, shown this once: \
                         only its hash is kept. Clients send it as \
                         `Authorization: Bearer <value>`.",
                    )
                    .body(&[(
                        JSON,
                        json!({ "type": "object",
                                "properties": { "description": { "type": "string" } } }),
                    )])
                    .answer(
                        200,
                        "The token and its value",
                        JSON,
                        json!({ "type": "object" }),
                    )
                    .errors(&[400, 415]),
            ),
        ),
        Route::new(
            M::GET,
            "/api/users/me/tokens/{id}",
            |m| on(m, tokens::one),
            logged(
                Operation::new(AUTH, "One of the caller's API tokens")
                    .describe(
                        "Its metadata; its value is not kept, so it cannot be shown again: \
                         make a new token when it is lost.",
                    )
                    .path("id", "The token", uuid())
                    .answer(200, "The token", JSON, json!({ "type": "object" }))
                    .errors(&[404]),
            ),
        ),
        Route::new(
            M::DELETE,
            "/api/users/me/tokens/{id}",
            |m| on(m, tokens::revoke),
            logged(
                Operation::new(AUTH, "Revoke one of the caller's API tokens")
                    .describe("The token stops working at once.")
                    .path("id", "The token", uuid())
                    .answer(200, "Revoked", JSON, json!({ "type": "object" }))
                    .errors(&[404]),
            ),
        ),
        Route::new(
            M::POST,
            "/api/auth/tokens/generate",
            |m| on(m, tokens::generate),
            Operation::new(AUTH, "Make an API token to claim")
                .describe(
                    "Anonymous: the token acts for nobody until someone logged in opens its \
                     `claim` link. Its value (`jwt_token`) is shown this once.",
                )
                .query(
                    "description",
                    "What the token is for",
                    json!({ "type": "string",
                            "maxLength": flaneur_service::account::MAX_DESCRIPTION_CHARS }),
                )
                .answer(
                    200,
                    "The token, its value and its claim link",
                    JSON,
                    json!({ "type": "object" }),
                )
                .errors(&[400, 429, 500]),
        ),
        Route::new(
            M::GET,
            "/api/auth/tokens/{id}/claim",
            |m| on(m, claim::confirm),
            logged(
                Operation::new(AUTH, "What claiming an API token would do")
                    .describe(
                        "The link a client shows after generating a token. Changes nothing: \
                         to a browser, a page naming the token, when it was made and the \
                         account it would act for, with a button sending the `POST` that \
                         claims it; to other callers, the same as JSON. A browser not logged \
                         in is sent to log in first, then back here.",
                    )
                    .path("id", "The token", uuid())
                    .answer(
                        200,
                        "The token to claim, or already the caller's",
                        JSON,
                        json!({ "type": "object" }),
                    )
                    .answer(
                        200,
                        "The confirmation page",
                        "text/html",
                        json!({ "type": "string" }),
                    )
                    .answer_empty(302, "To the login, for a browser not logged in")
                    .errors(&[404]),
            ),
        ),
        Route::new(
            M::POST,
            "/api/auth/tokens/{id}/claim",
            |m| on(m, claim::claim),
            logged(
                Operation::new(AUTH, "Claim an API token")
                    .describe(
                        "Attaches a generated token to the caller's account. Claiming one's \
                         own token again is harmless; one claimed by another account is \
                         refused and stays theirs. Authenticated by the session cookie, it \
                         needs the `flaneur_csrf` value, in `X-CSRF-Token` or in a \
                         `csrf_token` form field (as the confirmation page sends it). \
                         Browsers are then sent to the page saying the token was claimed.",
                    )
                    .path("id", "The token", uuid())
                    .answer(200, "Claimed", JSON, json!({ "type": "object" }))
                    .answer_empty(302, "Claimed: to the page saying so, for a browser")
                    .errors(&[404]),
            ),
        ),
        // Upload sets: create, send files, complete.
        Route::contribution(
            M::POST,
            "/api/upload_sets",
            |m| on(m, upload_sets::create),
            Operation::new(UPLOAD, "Create an upload set")
                .describe(
                    "An upload set gathers pictures sent one by one; once complete, \
                     they are sorted and split into sequences.",
                )
                .body(&[(JSON, reference(schemas::UPLOAD_SET_CREATE))])
                .answer(
                    200,
                    "The new upload set",
                    JSON,
                    reference(schemas::UPLOAD_SET),
                )
                .answer_header(200, "Location", "The address of the new upload set")
                .errors(&[400, 401, 403, 413, 415, 500]),
        ),
        Route::contribution(
            M::GET,
            "/api/upload_sets/{id}",
            |m| on(m, upload_sets::one),
            Operation::new(UPLOAD, "An upload set and where its pictures are")
                .path("id", "The upload set", uuid())
                .answer(200, "The upload set", JSON, reference(schemas::UPLOAD_SET))
                .errors(&[404, 500]),
        ),
        Route::contribution(
            M::DELETE,
            "/api/upload_sets/{id}",
            |m| on(m, upload_sets::delete),
            Operation::new(UPLOAD, "Delete an upload set and its pictures")
                .path("id", "The upload set", uuid())
                .answer_empty(204, "Deleted")
                .errors(&[401, 403, 404, 500]),
        ),
        Route::contribution(
            M::GET,
            "/api/upload_sets/{id}/files",
            |m| on(m, upload_sets::files),
            Operation::new(UPLOAD, "Files sent to an upload set, accepted and refused")
                .path("id", "The upload set", uuid())
                .answer(
                    200,
                    "The files",
                    JSON,
                    json!({
                        "type": "object", "required": ["files", "links"],
                        "properties": {
                            "files": { "type": "array", "items": reference(schemas::UPLOAD_FILE) },
                            "links": { "type": "array", "items": reference(schemas::LINK) }
                        }
                    }),
                )
                .errors(&[404, 500]),
        ),
        Route::contribution(
            M::POST,
            "/api/upload_sets/{id}/files",
            |m| on(m, upload_sets::add_file).layer(DefaultBodyLimit::max(crate::MAX_UPLOAD_BYTES)),
            Operation::new(UPLOAD, "Send one picture to an upload set")
                .describe(concat!(
                    "One JPEG a request, at most 512 MiB. The picture is stored and queued ",
                    "for processing; a refused picture is recorded among the set's files."
                ))
                .path("id", "The upload set", uuid())
                .body(&[("multipart/form-data", reference(schemas::UPLOAD_FORM))])
                .answer(
                    202,
                    "The file, accepted",
                    JSON,
                    reference(schemas::UPLOAD_FILE),
                )
                .errors(&[400, 401, 403, 404, 409, 413, 415, 500]),
        ),
        Route::contribution(
            M::POST,
            "/api/upload_sets/{id}/complete",
            |m| on(m, upload_sets::complete),
            Operation::new(UPLOAD, "Declare an upload set complete")
                .describe(
                    "No more files are expected: its pictures are dispatched into \
                     sequences.",
                )
                .path("id", "The upload set", uuid())
                .answer(200, "The upload set", JSON, reference(schemas::UPLOAD_SET))
                .errors(&[401, 403, 404, 500]),
        ),
    ]
}

/// The body of `PATCH /api/users/me`.
fn preferences_body() -> Value {
    json!({
        "type": "object",
        "properties": {
            "collaborative_metadata": { "type": "boolean", "nullable": true },
            "default_visibility": {
                "type": "string", "nullable": true,
                "enum": ["anyone", "logged-only", "owner-only", null]
            }
        }
    })
}

/// `operation` needing a logged account.
fn logged(operation: Operation) -> Operation {
    operation
        .header(
            "Authorization",
            "`Bearer <token>`: an API token of the account",
        )
        .errors(&[401, 403])
}

/// A `limit` within `1..=max`, `default` when absent.
fn limit(default: usize, max: usize) -> Value {
    json!({ "type": "integer", "minimum": 1, "maximum": max, "default": default })
}

/// A box `minX,minY,maxX,maxY` in WGS 84; 6 numbers for a 3D box, whose heights are ignored.
fn bbox() -> Value {
    json!({
        "type": "array", "items": { "type": "number" }, "minItems": 4, "maxItems": 6,
        "example": [2.2, 48.8, 2.5, 48.9]
    })
}

/// A STAC `datetime`: an instant or an interval; `with_dates` when a bare date stands for
/// its whole UTC day.
fn datetime(with_dates: bool) -> Value {
    let description = if with_dates {
        "An RFC 3339 instant or a date (its whole UTC day), or an interval start/end with .. \
         or nothing for an open end"
    } else {
        "An RFC 3339 instant, or an interval start/end with .. or nothing for an open end"
    };
    json!({ "type": "string", "description": description,
            "example": "2021-07-01T00:00:00Z/.." })
}

fn id_list() -> Value {
    json!({ "type": "array", "items": uuid(), "maxItems": params::MAX_IDS })
}

/// The answers of a picture file: bytes with ETag and Range support.
fn file_operation(summary: &'static str) -> Operation {
    Operation::new(FILES, summary)
        .header(
            "Range",
            "One byte range, `bytes=a-b`, `bytes=a-` or `bytes=-n`",
        )
        .header("If-Range", "The range applies only to this ETag or date")
        .header("If-None-Match", "ETags of a copy the client holds")
        .header("If-Modified-Since", "Date of a copy the client holds")
        .answer(200, "The JPEG", JPEG, binary())
        .answer_header(200, "ETag", "The version of the file")
        .answer_header(200, "Last-Modified", "When the file was made")
        .answer(206, "The range asked for", JPEG, binary())
        .answer_header(206, "Content-Range", "Which bytes of the file")
        .answer_empty(304, "The client's copy is current")
        .errors(&[403, 404, 416, 500])
}

/// `operation` as a vector tile: `{z}/{x}/{y}.mvt` (or `.pbf`) with ETag support.
fn tile_operation(operation: Operation) -> Operation {
    operation
        .describe(
            "Layers `sequences` and `pictures` (and `grid` at low zooms) in Mapbox \
             vector tile format; the style tells how to draw them.",
        )
        .path(
            "z",
            "Zoom",
            json!({ "type": "integer", "minimum": 0, "maximum": MAX_ZOOM }),
        )
        .path("x", "Column", json!({ "type": "integer", "minimum": 0 }))
        .path(
            "y_fmt",
            "Row and format: `{y}.mvt` or `{y}.pbf`",
            json!({
            "type": "string", "pattern": "^[0-9]+\\.(mvt|pbf)$" }),
        )
        .header("If-None-Match", "ETags of a copy the client holds")
        .answer(200, "The tile", MVT, binary())
        .answer_header(200, "ETag", "The version of the tile")
        .answer_empty(304, "The client's copy is current")
        .errors(&[400, 404, 500])
}

/// The parameters of a listing of one account's sequences.
fn user_listing(summary: &'static str) -> Operation {
    Operation::new(USERS, summary)
        .path("id", "The account", uuid())
        .query(
            "limit",
            "Sequences a page holds",
            limit(users::DEFAULT_LIMIT, users::MAX_LIMIT),
        )
        .query(
            "sortby",
            "Order of the sequences",
            sequence_sortby("-created"),
        )
        .query(
            "show_deleted",
            "Not offered here: `true` is refused with a 400, as tombstones are listed by \
             /collections only",
            json!({ "type": "boolean", "enum": [false], "default": false }),
        )
        .query_list("bbox", "Only sequences overlapping this box", bbox())
        .then(|o| cql2_filter(o, SEQUENCE_FILTER, "created >= '2024-01-01'"))
        .query("page", PAGE_DESCRIPTION, json!({ "type": "string" }))
        .errors(&[400, 404, 500])
}

/// The answers of a queryables schema: the same body under either media type.
fn queryables(operation: Operation) -> Operation {
    let media = crate::stac::queryables::MEDIA_TYPE;
    operation
        .header(
            "Accept",
            "`application/schema+json` asks for the schema under that type",
        )
        .answer(200, "A JSON schema", JSON, json!({ "type": "object" }))
        .answer(200, "A JSON schema", media, json!({ "type": "object" }))
}

/// The `place_*` parameters of a search: pictures near a place and looking at it.
fn place_search(operation: Operation) -> Operation {
    let (min_m, max_m) = search::place::DEFAULT_DISTANCE_M;
    operation
        .query(
            "place_position",
            "Only pictures near this place and looking at it, nearest first: `lon,lat` in \
             degrees",
            json!({ "type": "string", "example": "2.35,48.85" }),
        )
        .query(
            "place_distance",
            "With place_position: how far from the place the pictures may be, in metres, as \
             `min-max`",
            json!({ "type": "string", "default": format!("{min_m}-{max_m}"),
                    "description": format!(
                        "0 ≤ min ≤ max ≤ {}", search::place::MAX_DISTANCE_M) }),
        )
        .query(
            "place_fov_tolerance",
            "With place_position: how far off a flat picture's heading the place may be, in \
             degrees",
            json!({ "type": "number", "minimum": 2, "maximum": 180,
                    "default": search::place::DEFAULT_TOLERANCE_DEG }),
        )
}

/// The `page` of a listing of sequences.
const PAGE_DESCRIPTION: &str = concat!(
    "A page position from a first, prev, next or last link, valid with the same ",
    "sortby; never built by hand",
);

/// The `sortby` of a listing of sequences, whose order is `default` when absent.
fn sequence_sortby(default: &str) -> Value {
    let fields: Vec<&str> = SequenceSortField::ALL.iter().map(|f| f.as_str()).collect();
    json!({
        "type": "string",
        "description": format!(
            "Comma-separated fields among {}, each ascending (`+`, the default) or \
             descending (`-`); default {default}",
            fields.join(", ")
        ),
        "example": "+updated"
    })
}

/// The CQL2 `filter` of a listing of sequences.
const SEQUENCE_FILTER: &str = concat!(
    "Only sequences matching this CQL2 filter (comparisons, IN, BETWEEN, LIKE, ",
    "IS NULL, AND, OR, NOT); /collections/queryables lists the properties it may name",
);

/// The CQL2 `filter` of a user's map tiles.
const MAP_FILTER: &str = concat!(
    "Only sequences and pictures matching this CQL2 filter on `visibility` (a picture counts ",
    "as the narrower of its own and its sequence's), e.g. `visibility <> 'anyone'`",
);

/// The CQL2 `filter` of item search.
const PICTURE_FILTER: &str = concat!(
    "Only pictures matching this CQL2 filter (comparisons, IN, BETWEEN, LIKE, ",
    "IS NULL, AND, OR, NOT); /queryables lists the properties it may name",
);

/// A CQL2 `filter`, described by `description`, with an example, and its language.
fn cql2_filter(operation: Operation, description: &'static str, example: &str) -> Operation {
    operation
        .query(
            "filter",
            description,
            json!({ "type": "string", "maxLength": cql2::MAX_TEXT_CHARS, "example": example }),
        )
        .query(
            "filter-lang",
            "The language of filter",
            json!({ "type": "string", "enum": ["cql2-text", "cql2-json"],
                    "default": "cql2-text" }),
        )
}

fn binary() -> Value {
    json!({ "type": "string", "format": "binary" })
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "This route does not accept this HTTP method; the API description lists what it does",
    )
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "No such route; the API's entry point is /api, which links to everything else",
    )
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::stac::openapi::{Location, path_names};

    #[test]
    fn every_route_is_under_the_api_and_describes_its_path_segments() {
        for route in api() {
            let described: Vec<&str> = route
                .doc
                .parameters(Location::Path)
                .map(|p| p.name)
                .collect();
            assert!(route.path.starts_with("/api"), "{}", route.path);
            assert_eq!(path_names(route.path), described, "{}", route.path);
            // A redirection is the success of routes that only lead elsewhere (`/users/me/…`,
            // the login routes).
            assert!(
                route.doc.statuses().any(|s| (200..400).contains(&s)),
                "{} {} describes no success",
                route.method,
                route.path
            );
        }
    }

    #[test]
    fn no_operation_is_routed_twice() {
        let mut seen = HashSet::new();
        for route in api() {
            let key = format!("{} {}", route.method, route.path);
            assert!(seen.insert(key.clone()), "{key} is in the table twice");
        }
    }

    #[test]
    fn the_search_body_describes_every_criterion_of_the_query_form() {
        let get = api()
            .into_iter()
            .find(|r| r.method == Method::GET && r.path == "/api/search")
            .map(|r| r.doc.query_names())
            .unwrap_or_default();
        let body = &schemas::components()[schemas::SEARCH_BODY]["properties"];
        assert!(!get.is_empty());
        for name in get {
            assert!(body.get(name).is_some(), "{name} is not in the search body");
        }
    }

    #[test]
    fn operation_ids_are_unique_and_references_resolve() {
        let document = openapi_document(false);
        let mut ids = HashSet::new();
        for item in document["paths"]
            .as_object()
            .into_iter()
            .flat_map(|p| p.values())
        {
            for operation in item.as_object().into_iter().flat_map(|o| o.values()) {
                let id = operation["operationId"].as_str().unwrap_or_default();
                assert!(ids.insert(id.to_owned()), "operationId {id} twice");
            }
        }
        assert_eq!(ids.len(), api().len());

        let text = document.to_string();
        let components = &document["components"]["schemas"];
        for target in text.split("\"#/components/schemas/").skip(1) {
            let name = target.split('"').next().unwrap_or_default();
            assert!(components.get(name).is_some(), "no schema {name}");
        }
    }
}
