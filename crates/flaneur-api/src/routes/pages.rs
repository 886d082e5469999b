//! Pages administrators write (`/api/pages/{page}`): the languages of a page, its HTML text in
//! one of them, and their changes. The names and rules of pages are the services'.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LAST_MODIFIED, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::on;
use flaneur_service::page::{MAX_PAGE_BYTES, PAGE_NAMES};
use flaneur_store::PageText;
use serde_json::{Value, json};

use super::{Route, logged};
use crate::stac::openapi::{JSON, Operation};
use crate::url::BaseUrl;
use crate::{ApiError, ApiResult, AppState, ReadAs, nul, params, stac};

const PAGES: &str = "Pages";
const HTML: &str = "text/html";
/// The content security policy of a page's text.
const PAGE_POLICY: &str = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src * data:";

/// A page and the languages it is written in, each with the address of its text.
fn listing(base: &BaseUrl, name: &str, texts: &[PageText]) -> Value {
    let languages: Vec<Value> = texts
        .iter()
        .map(|t| {
            let href = base.api(&format!("/pages/{name}/{}", t.lang));
            json!({
                "language": t.lang,
                "updated_at": t.updated_at,
                "links": [stac::link("self", Some(HTML), href, None)],
            })
        })
        .collect();
    let latest_change = texts.iter().filter_map(|t| t.change_published_at).max();
    json!({ "name": name, "languages": languages, "latest_change": latest_change })
}

/// `GET /api/pages/{page}`.
pub async fn languages(
    State(state): State<AppState>,
    base: BaseUrl,
    Path(page): Path<String>,
) -> ApiResult<Json<Value>> {
    let texts = state.services.page_texts(&page).await?;
    Ok(Json(listing(&base, &page, &texts)))
}

/// `GET /api/pages/{page}/{lang}`: the HTML text, as last saved.
pub async fn text(
    State(state): State<AppState>,
    Path((page, lang)): Path<(String, String)>,
) -> ApiResult<Response> {
    let text = state.services.page_text(&page, &lang).await?;
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // The text is shown by the front-end in a sandboxed frame; opened directly from the API's
    // origin, it runs no script and reaches nothing of that origin: styles and pictures only.
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_POLICY),
    );
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Administrators change pages at any time: clients revalidate.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    let modified = text
        .updated_at
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    if let Ok(v) = HeaderValue::from_str(&modified) {
        headers.insert(LAST_MODIFIED, v);
    }
    Ok((headers, text.content).into_response())
}

/// `POST` or `PUT /api/pages/{page}/{lang}`: saves an HTML text sent as `text/html`.
pub async fn save(
    State(state): State<AppState>,
    base: BaseUrl,
    ReadAs(viewer): ReadAs,
    Path((page, lang)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let body = params::read_body(body)?;
    let is_html = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with(HTML));
    if !is_html {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "A page is sent as HTML, with Content-Type: text/html",
        ));
    }
    if body.len() > MAX_PAGE_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "The page's text is {} bytes: at most {MAX_PAGE_BYTES} are kept",
                body.len()
            ),
        ));
    }
    let html = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request("The page's text is not UTF-8"))?;
    if html.contains('\0') {
        return Err(nul::refused("the page's text"));
    }
    state.services.save_page(viewer, &page, &lang, html).await?;
    let texts = state.services.page_texts(&page).await?;
    Ok(Json(listing(&base, &page, &texts)))
}

/// `DELETE /api/pages/{page}/{lang}`.
pub async fn delete(
    State(state): State<AppState>,
    ReadAs(viewer): ReadAs,
    Path((page, lang)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state.services.delete_page(viewer, &page, &lang).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST` or `PUT /api/pages/{page}/publish-change`: announces a change of the page, which
/// accounts have to read again (`tos_latest_change_read` of `/api/users/me`).
pub async fn publish_change(
    State(state): State<AppState>,
    base: BaseUrl,
    ReadAs(viewer): ReadAs,
    Path(page): Path<String>,
) -> ApiResult<Json<Value>> {
    state.services.publish_page_change(viewer, &page).await?;
    let texts = state.services.page_texts(&page).await?;
    Ok(Json(listing(&base, &page, &texts)))
}

/// The routes of pages.
pub fn routes() -> Vec<Route> {
    use axum::http::Method as M;
    let name = || json!({ "type": "string", "enum": PAGE_NAMES });
    let lang = || {
        json!({ "type": "string", "pattern": "^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$",
                           "example": "en" })
    };
    let listed = |o: Operation| {
        o.answer(
            200,
            "The page and its languages",
            JSON,
            json!({ "type": "object", "required": ["name", "languages"] }),
        )
    };
    let page = |o: Operation| o.path("page", "The page", name());
    let page_lang = |o: Operation| page(o).path("lang", "The language code", lang());
    let save = |method: M| {
        Route::new(
            method,
            "/api/pages/{page}/{lang}",
            |m| on(m, save),
            logged(listed(page_lang(Operation::new(
                PAGES,
                "Write a page in one language",
            ))))
            .describe(
                "For administrators. The HTML text is the body, sent as `text/html`, at most \
                 512 KiB; it replaces the text there was.",
            )
            .body(&[(HTML, json!({ "type": "string" }))])
            .errors(&[400, 404, 413, 415]),
        )
    };
    let publish = |method: M| {
        Route::new(
            method,
            "/api/pages/{page}/publish-change",
            |m| on(m, publish_change),
            logged(listed(page(Operation::new(
                PAGES,
                "Announce a change of a page",
            ))))
            .describe(
                "For administrators. Accounts that read the terms of service before must read \
                 them again (`tos_latest_change_read` turns false).",
            )
            .errors(&[400, 404]),
        )
    };
    vec![
        Route::new(
            M::GET,
            "/api/pages/{page}",
            |m| on(m, languages),
            listed(page(Operation::new(PAGES, "The languages of a page"))).errors(&[400]),
        ),
        Route::new(
            M::GET,
            "/api/pages/{page}/{lang}",
            |m| on(m, text),
            page_lang(Operation::new(PAGES, "A page in one language"))
                .answer(200, "The HTML text", HTML, json!({ "type": "string" }))
                .answer_header(200, "Last-Modified", "When the text was saved")
                .errors(&[400, 404]),
        ),
        save(M::POST),
        save(M::PUT),
        Route::new(
            M::DELETE,
            "/api/pages/{page}/{lang}",
            |m| on(m, delete),
            logged(page_lang(Operation::new(PAGES, "Remove a page's language")))
                .describe("For administrators.")
                .answer_empty(204, "Removed")
                .errors(&[400, 404]),
        ),
        publish(M::POST),
        publish(M::PUT),
    ]
}
