//! The web front-end: its pages (`/`, `/sequences`, `/upload`, `/my-sequences` and those the
//! API leads to, listed in [`PAGES`]), their static assets under `/assets/` and the settings
//! they read at start (`/web/settings.json`).
//!
//! The pages are built from npm packages into a folder (`web/dist` in the repository) that
//! the server reads at request time, so a new build needs no restart. This module only serves
//! that folder; what the pages do lives in `web/`. When the folder holds no build, the pages
//! answer a short HTML page saying how to build it, and the API works as before.

use std::path::{Component, Path, PathBuf};

use axum::Json;
use axum::extract::{Path as UrlPath, Request, State};
use axum::http::header::{ACCEPT_LANGUAGE, CACHE_CONTROL, CONTENT_TYPE, VARY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tower::ServiceExt;
use tower_http::services::ServeFile;
use tracing::debug;

use crate::{ApiError, AppState};

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

/// Every page of the front-end: its route and its file in the build. The pages the API
/// leads browsers to (a claimed token, terms to accept) are named as Panoramax instances'
/// websites name them, with and without `.html`.
pub const PAGES: [(&str, &str); 8] = [
    ("/", "index.html"),
    ("/sequences", "sequences.html"),
    ("/upload", "upload.html"),
    ("/my-sequences", "my-sequences.html"),
    ("/token-accepted", "token-accepted.html"),
    ("/token-accepted.html", "token-accepted.html"),
    ("/tos-validation", "tos-validation.html"),
    ("/tos-validation.html", "tos-validation.html"),
];

/// The route of the page built into `file`, when the front-end serves one and the build
/// holds it.
pub fn built_page(settings: &WebSettings, file: &str) -> Option<&'static str> {
    PAGES
        .iter()
        .find(|(_, built)| *built == file)
        .filter(|(_, built)| page_path(&settings.dir, built).is_file())
        .map(|(route, _)| *route)
}

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
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    file: &'static str,
) -> Response {
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
            not_built(&headers)
        }
    }
}

/// The answer of every page when the front-end is not built: a 404, since the pages are not
/// there, with a short explanation for whoever opened it in a browser, in their language.
fn not_built(headers: &HeaderMap) -> Response {
    let accepted = headers
        .get(ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let html = match preferred_language(accepted, &["en", "fr"]) {
        "fr" => NOT_BUILT_HTML_FR,
        _ => NOT_BUILT_HTML_EN,
    };
    (
        StatusCode::NOT_FOUND,
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CACHE_CONTROL, "no-store"),
            (VARY, "Accept-Language"),
        ],
        html,
    )
        .into_response()
}

/// The language of `known` that an `Accept-Language` header ranks highest, by weight then by
/// order; the first of `known` when it names none of them.
pub(crate) fn preferred_language<'a>(accept_language: &str, known: &[&'a str]) -> &'a str {
    let mut best: Option<(&'a str, f32)> = None;
    for range in accept_language.split(',') {
        let mut parts = range.split(';');
        let tag = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let weight = parts
            .filter_map(|param| param.trim().strip_prefix("q="))
            .find_map(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let base = tag.split('-').next().unwrap_or_default();
        let Some(&language) = known.iter().find(|&&known| known == base) else {
            continue;
        };
        if weight > 0.0 && best.is_none_or(|(_, best_weight)| weight > best_weight) {
            best = Some((language, weight));
        }
    }
    best.map_or(known[0], |(language, _)| language)
}

const NOT_BUILT_HTML_EN: &str = concat!(
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">",
    "<link rel=\"icon\" href=\"/static/logo.svg\" type=\"image/svg+xml\">",
    "<title>Flâneur: web pages not built</title></head><body>",
    "<h1>The web pages of this Flâneur instance are not built</h1>",
    "<p>The API works: start at <a href=\"/api\">/api</a>.</p>",
    "<p>To get the map, the picture viewer and the upload page, build them with ",
    "<code>npm ci &amp;&amp; npm run build</code> in the repository's <code>web/</code> ",
    "folder (<code>scripts/run.sh</code> does it), or point <code>flaneur serve --web-dir</code> ",
    "(<code>FLANEUR_WEB_DIR</code>) to a built folder.</p></body></html>"
);

// French typography puts a no-break space (U+00A0) before ':'.
const NOT_BUILT_HTML_FR: &str = concat!(
    "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\">",
    "<link rel=\"icon\" href=\"/static/logo.svg\" type=\"image/svg+xml\">",
    "<title>Flâneur\u{a0}: pages web non construites</title></head><body>",
    "<h1>Les pages web de cette instance Flâneur ne sont pas construites</h1>",
    "<p>L'API fonctionne\u{a0}: commencez par <a href=\"/api\">/api</a>.</p>",
    "<p>Pour avoir la carte, la visionneuse de photos et la page d'envoi, construisez-les avec ",
    "<code>npm ci &amp;&amp; npm run build</code> dans le dossier <code>web/</code> du dépôt ",
    "(<code>scripts/run.sh</code> le fait), ou indiquez à <code>flaneur serve --web-dir</code> ",
    "(<code>FLANEUR_WEB_DIR</code>) un dossier construit.</p></body></html>"
);

/// `GET /assets/{*path}`: a file of the build's `assets/` folder, cached for long.
///
/// Only regular files whose real path lies inside the build folder are served: a folder
/// answers 404 rather than a redirect, and a symbolic link leading out of the build is
/// refused as if missing, so a build can never expose the rest of the machine.
pub async fn asset(
    State(state): State<AppState>,
    UrlPath(path): UrlPath<String>,
    request: Request,
) -> Response {
    let Some(file) = asset_file(&state.web.dir, &path).await else {
        return asset_not_found();
    };
    // `ServeFile` answers Range and If-Modified-Since, and names the content type.
    let served = ServeFile::new(file)
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
    } else if response.status() == StatusCode::NOT_FOUND {
        // Removed between the check and the read.
        return asset_not_found();
    }
    response
}

/// The real path of the asset `path` (relative to `assets/`), when it is a regular file
/// inside the build folder.
async fn asset_file(dir: &Path, path: &str) -> Option<PathBuf> {
    let relative = Path::new(path);
    // Only plain names: no `..`, no root, no prefix, no `.`.
    if path.is_empty()
        || !relative
            .components()
            .all(|part| matches!(part, Component::Normal(_)))
    {
        return None;
    }
    let root = tokio::fs::canonicalize(dir).await.ok()?;
    let real = tokio::fs::canonicalize(dir.join("assets").join(relative))
        .await
        .ok()?;
    if !real.starts_with(&root) {
        debug!(path, real = %real.display(), "asset outside the web folder refused");
        return None;
    }
    let metadata = tokio::fs::metadata(&real).await.ok()?;
    metadata.is_file().then_some(real)
}

/// The 404 of `/assets/`: the API's JSON error, since a missing asset is a bug of the build
/// or a stale page, and whoever looks at it reads the network panel.
fn asset_not_found() -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "No such file among the web front-end's assets",
    )
    .into_response()
}

/// `GET /web/settings.json`: what the pages need to know of the server's settings.
pub async fn settings(State(state): State<AppState>) -> impl IntoResponse {
    let body: Value = json!({ "basemap_style": state.web.basemap_style });
    ([(CACHE_CONTROL, PAGE_CACHE)], Json(body))
}

#[cfg(test)]
mod tests {
    use super::preferred_language;

    #[test]
    fn the_language_is_the_best_ranked_known_one() {
        let known = ["en", "fr"];
        assert_eq!(preferred_language("", &known), "en");
        assert_eq!(preferred_language("de-DE,de;q=0.9", &known), "en");
        assert_eq!(preferred_language("fr-FR,fr;q=0.9,en;q=0.8", &known), "fr");
        assert_eq!(preferred_language("de,en;q=0.5,fr;q=0.7", &known), "fr");
        assert_eq!(preferred_language("fr;q=0,en;q=0.1", &known), "en");
        assert_eq!(preferred_language("EN-gb, FR", &known), "en");
    }
}
