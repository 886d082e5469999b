//! The web front-end: its pages (`/`, `/sequences`, `/upload`), their static assets under
//! `/assets/` and the settings they read at start (`/web/settings.json`).
//!
//! The pages are built from npm packages into a folder (`web/dist` in the repository) that
//! the server reads at request time, so a new build needs no restart. This module only serves
//! that folder; what the pages do lives in `web/`. When the folder holds no build, the pages
//! answer a short HTML page saying how to build it, and the API works as before.

use std::path::{Path, PathBuf};

use axum::Json;
use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tower::ServiceExt;
use tower_http::services::ServeDir;
use tracing::debug;

use crate::AppState;

/// Where the front-end's build is and how its pages are set up.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Folder holding the build: the pages' HTML files and `assets/`.
    pub dir: PathBuf,
    /// Address of a MapLibre style for the map's background; the pages' own offline
    /// background (land outlines served from `assets/`) when `None`.
    pub basemap_style: Option<String>,
}

impl WebSettings {
    /// Whether the folder holds a build of the front-end.
    pub fn is_built(&self) -> bool {
        page_path(&self.dir, "index.html").is_file()
    }
}

/// Every page of the front-end: its route and its file in the build.
pub const PAGES: [(&str, &str); 3] = [
    ("/", "index.html"),
    ("/sequences", "sequences.html"),
    ("/upload", "upload.html"),
];

fn page_path(dir: &Path, file: &str) -> PathBuf {
    dir.join(file)
}

/// Pages are revalidated on every visit: they are small, and they name the assets of the
/// current build, whose paths change with their content.
const PAGE_CACHE: &str = "no-cache";

/// Assets never change under a path: the build puts a version or a content hash in the name
/// of their folder.
const ASSET_CACHE: &str = "public, max-age=31536000, immutable";

/// `GET` of a page: its HTML from the build, or a page saying the build is missing.
pub async fn page(State(state): State<AppState>, file: &'static str) -> Response {
    let path = page_path(&state.web.dir, file);
    match tokio::fs::read(&path).await {
        Ok(html) => (
            [
                (CONTENT_TYPE, "text/html; charset=utf-8"),
                (CACHE_CONTROL, PAGE_CACHE),
            ],
            html,
        )
            .into_response(),
        Err(err) => {
            // Said once at startup already: here it would repeat on every visit.
            debug!(path = %path.display(), error = %err, "web page missing");
            not_built()
        }
    }
}

/// The answer of every page when the front-end is not built: a 404, since the pages are not
/// there, with a short explanation for whoever opened it in a browser.
fn not_built() -> Response {
    (
        StatusCode::NOT_FOUND,
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CACHE_CONTROL, "no-store"),
        ],
        NOT_BUILT_HTML,
    )
        .into_response()
}

const NOT_BUILT_HTML: &str = concat!(
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">",
    "<title>Flâneur: web pages not built</title></head><body>",
    "<h1>The web pages of this Flâneur instance are not built</h1>",
    "<p>The API works: start at <a href=\"/api\">/api</a>.</p>",
    "<p>To get the map, the picture viewer and the upload page, build them with ",
    "<code>npm ci &amp;&amp; npm run build</code> in the repository's <code>web/</code> ",
    "folder (<code>scripts/run.sh</code> does it), or point <code>flaneur serve --web-dir</code> ",
    "(<code>FLANEUR_WEB_DIR</code>) to a built folder.</p></body></html>"
);

/// `GET /assets/{*path}`: a file of the build's `assets/` folder, cached for long.
pub async fn asset(State(state): State<AppState>, request: Request) -> Response {
    // The request path starts with `/assets/`, so serving the build folder by path reaches
    // only that subfolder; `ServeDir` refuses `..` and answers Range and If-Modified-Since.
    let served = ServeDir::new(&state.web.dir)
        .oneshot(request)
        .await
        .map(IntoResponse::into_response);
    let mut response = match served {
        Ok(response) => response,
        Err(infallible) => match infallible {},
    };
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static(ASSET_CACHE));
    }
    response
}

/// `GET /web/settings.json`: what the pages need to know of the server's settings.
pub async fn settings(State(state): State<AppState>) -> impl IntoResponse {
    let body: Value = json!({ "basemap_style": state.web.basemap_style });
    ([(CACHE_CONTROL, PAGE_CACHE)], Json(body))
}
