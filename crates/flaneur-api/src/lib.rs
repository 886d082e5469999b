//! Flâneur's HTTP API: the routes of a Panoramax instance (STAC API, upload sets, picture
//! files) over the services, and the pages of the web front-end ([`web`]). Handlers parse the
//! request, call one service function and shape the answer; the JSON shapes live in [`stac`],
//! the error mapping in the `error` module, and who may call from a browser in `origin`.

mod auth;
mod cookie;
mod cql2;
mod error;
mod feed;
mod html;
mod nul;
mod origin;
mod params;
mod rate;
mod routes;
mod session;
pub mod stac;
mod style;
mod url;
mod viewer;
pub mod web;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::HeaderName;
use axum::http::header::{ACCEPT_RANGES, CONTENT_RANGE, ETAG, LOCATION};
use flaneur_service::Services;
use tower::Layer;
use tower_http::compression::CompressionLayer;
use tower_http::normalize_path::{NormalizePath, NormalizePathLayer};
use tower_http::trace::TraceLayer;

pub use auth::{AuthSettings, LoginSettings};
pub use error::{ApiError, ApiResult};
pub use rate::RateLimit;
pub use viewer::ReadAs;
pub use web::WebSettings;

/// Facts about the instance shown by the landing page and the configuration route.
#[derive(Debug, Clone)]
pub struct InstanceInfo {
    /// Display name.
    pub name: LocalizedText,
    /// One-line description.
    pub description: LocalizedText,
    /// Where pictures may be taken, for contributors choosing an instance.
    pub geo_coverage: LocalizedText,
    /// SPDX id of the pictures' licence.
    pub license_id: String,
    /// URL of the licence text.
    pub license_url: String,
    /// Contact address.
    pub email: String,
    /// Address of the instance's logo; the built-in one when `None`.
    pub logo_url: Option<String>,
    /// Main colour of the instance's pages, as CSS.
    pub color: String,
}

impl Default for InstanceInfo {
    fn default() -> Self {
        InstanceInfo {
            name: LocalizedText::english("Flâneur"),
            description: LocalizedText::english("Street-level pictures, shared as a commons"),
            geo_coverage: LocalizedText::english(
                "Worldwide\nThe picture can be sent from anywhere in the world.",
            ),
            license_id: "CC-BY-SA-4.0".to_owned(),
            license_url: "https://spdx.org/licenses/CC-BY-SA-4.0.html".to_owned(),
            email: "contact@example.invalid".to_owned(),
            logo_url: None,
            color: "#3d5a80".to_owned(),
        }
    }
}

/// A text of the instance's description, with its translations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalizedText {
    /// The text shown when no translation is chosen.
    pub label: String,
    /// The text by language code (`en`, `fr`, …), the label's language included.
    pub langs: BTreeMap<String, String>,
}

impl LocalizedText {
    /// A text known in English only.
    pub fn english(text: &str) -> Self {
        LocalizedText {
            label: text.to_owned(),
            langs: BTreeMap::from([("en".to_owned(), text.to_owned())]),
        }
    }

    /// A text from its translations: the label is the English one, or else the first by
    /// language code. `None` when there is no translation.
    pub fn from_langs(langs: BTreeMap<String, String>) -> Option<Self> {
        let label = langs.get("en").or_else(|| langs.values().next())?.clone();
        Some(LocalizedText { label, langs })
    }
}

impl std::fmt::Display for LocalizedText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label)
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The services.
    pub services: Services,
    /// The instance's description.
    pub info: Arc<InstanceInfo>,
    /// Whether `X-Forwarded-Proto` and `X-Forwarded-Host` come from a reverse proxy of the
    /// operator and say how clients reach the instance.
    pub trust_forwarded_headers: bool,
    /// Where the web front-end's build is, and its settings.
    pub web: Arc<WebSettings>,
    /// How picture files reach clients.
    pub picture_reads: PictureReads,
    /// How callers are known.
    pub auth: Arc<AuthSettings>,
    /// Whether the instance is a catalog taking no contributions: its upload, edit,
    /// annotation and report routes refuse every request, and its answers offer none of them.
    pub is_catalog_only: bool,
    /// Bytes of documents one page of a listing or search may hold: a page reaching them ends
    /// early, its `next` link leading on from its last document (see [`DEFAULT_MAX_PAGE_BYTES`]).
    pub max_page_bytes: usize,
}

/// The default of [`AppState::max_page_bytes`]: room for a full page of 10,000 of this
/// instance's own items, which take 5 to 7 KiB each with their EXIF tags, and for about 1,500
/// documents harvested from peers at their largest (64 KiB each).
pub const DEFAULT_MAX_PAGE_BYTES: usize = 96 << 20;

/// How the picture file routes (`hd.jpg`, `sd.jpg`, `thumb.jpg`, tiles) answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PictureReads {
    /// The API streams every file, with Range and ETag.
    #[default]
    Proxy,
    /// Files of pictures anyone may see are answered with a `302` to an address of the blob
    /// store valid for `url_ttl`, so their bytes never pass through the API; files of
    /// restricted pictures, `HEAD` requests and stores without such addresses are streamed.
    Redirect {
        /// How long each address stays valid.
        url_ttl: std::time::Duration,
    },
}

/// Response headers browser code may read across origins: where a created upload set lives,
/// and what the picture routes say about the bytes.
const EXPOSED_HEADERS: [HeaderName; 4] = [LOCATION, ETAG, CONTENT_RANGE, ACCEPT_RANGES];

/// Largest request body of every route but the picture upload: JSON bodies are small.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Largest picture accepted by the upload route, in bytes.
pub const MAX_UPLOAD_BYTES: usize = 512 << 20;

/// The whole API as a service, trailing slashes ignored as on Panoramax instances.
pub fn app(state: AppState) -> NormalizePath<Router> {
    let router = routes::router(state.is_catalog_only)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            routes::federation::name_origin,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::resolve_caller,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            origin::refuse_cross_site_writes,
        ))
        .layer(axum::middleware::from_fn(nul::refuse_in_url))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(CompressionLayer::new())
        .layer(origin::cors(EXPOSED_HEADERS))
        .layer(TraceLayer::new_for_http())
        .with_state(state);
    NormalizePathLayer::trim_trailing_slash().layer(router)
}
