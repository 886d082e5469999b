//! `/api/auth/tokens/{id}/claim`: attaching a generated token to the account logged in.
//!
//! A client such as `panoramax_cli login` generates a token and shows its claim link; its user
//! opens the link in a browser. Opening it (`GET`) changes nothing: it shows what is about to
//! happen (the token, when it was made, the account it will act for) and a button. Only the
//! button's `POST`, checked against CSRF like every write authenticated by the session
//! cookie, claims the token. A claim made by the `GET` itself would let any site claim its
//! own token for a logged-in visitor: browsers send the session cookie with top-level
//! navigations from other sites, so a link or a redirection would do, and every later upload
//! of that visitor made with the site's token would be known to it.
//!
//! Browsers (callers accepting `text/html`) get pages and redirections; other callers JSON.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::header::{
    ACCEPT_LANGUAGE, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION,
    REFERRER_POLICY, VARY, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use flaneur_model::{Account, Token, TokenId};
use flaneur_service::account::{ClaimView, UNCLAIMED_FOR};
use flaneur_store::SessionRecord;
use serde_json::json;

use crate::auth::{LoggedIn, accepts_html};
use crate::html::escape;
use crate::session::CSRF_FIELD;
use crate::url::BaseUrl;
use crate::{ApiError, ApiResult, AppState, params, web};

/// The page of the web front-end saying a token was claimed.
const ACCEPTED_PAGE: &str = "token-accepted.html";

fn token_id(text: &str) -> Result<TokenId, ApiError> {
    params::path_id(
        text,
        "Token doesn't exist: it was revoked, or never generated",
    )
}

/// `GET /api/auth/tokens/{id}/claim`: what claiming the token would do, with the button
/// doing it.
pub async fn confirm(
    State(state): State<AppState>,
    LoggedIn(account): LoggedIn,
    session: Option<Extension<SessionRecord>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = token_id(&id)?;
    let texts = Texts::of(&headers);
    let view = state.services.accounts.token_to_claim(id, account.id).await;
    if !accepts_html(&headers) {
        let view = view?;
        let token = view.token();
        return Ok(Json(json!({
            "id": token.id,
            "description": token.description,
            "generated_at": token.generated_at,
            "claimed": matches!(view, ClaimView::Own(_)),
            "account_id": account.id,
            "message": match view {
                ClaimView::Open(_) => "Send a POST to this address to attach the token to your \
                                       account",
                ClaimView::Own(_) => "This token already acts for your account",
            },
        }))
        .into_response());
    }

    let (status, body) = match view {
        Ok(ClaimView::Open(token)) => {
            let csrf = session.map(|Extension(s)| s.csrf_token).unwrap_or_default();
            (
                StatusCode::OK,
                confirmation(&texts, &token, &account, &csrf),
            )
        }
        Ok(ClaimView::Own(_)) => (StatusCode::OK, texts.already_own(&account)),
        // The status comes from the API's one error mapping; only the page is chosen here.
        Err(err) => {
            let body = match &err {
                flaneur_service::Error::TokenNotFound(_) => texts.unknown(),
                flaneur_service::Error::Forbidden(_) => texts.claimed_by_other(),
                _ => return Err(err.into()),
            };
            (ApiError::from(err).status(), body)
        }
    };
    Ok(page(status, &texts, &body))
}

/// `POST /api/auth/tokens/{id}/claim`: attaches the token to the caller's account, then leads
/// a browser to the page saying so.
pub async fn claim(
    State(state): State<AppState>,
    base: BaseUrl,
    LoggedIn(account): LoggedIn,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = token_id(&id)?;
    state.services.accounts.claim_token(id, &account).await?;
    if accepts_html(&headers) {
        let page = accepted_page(&state, &base, id);
        return Ok((StatusCode::FOUND, [(LOCATION, page)]).into_response());
    }
    let message = "Token claimed: it now acts for your account";
    Ok(Json(json!({ "message": message, "id": id, "account_id": account.id })).into_response())
}

/// Where a browser goes once its token is claimed: the front-end's page saying so, else this
/// claim's own page, which says the token now acts for the account.
fn accepted_page(state: &AppState, base: &BaseUrl, id: TokenId) -> String {
    if let Some(website) = &state.auth.website_url {
        return format!("{}/token-accepted", website.trim_end_matches('/'));
    }
    match web::built_page(&state.web, ACCEPTED_PAGE) {
        Some(route) => format!("{}{route}", base.0),
        None => base.api(&format!("/auth/tokens/{id}/claim")),
    }
}

/// The confirmation form. It posts to the page's own address, with the session's CSRF value
/// in a field, as a form cannot set the header.
fn confirmation(texts: &Texts, token: &Token, account: &Account, csrf: &str) -> String {
    let description = if token.description.trim().is_empty() {
        format!("<em>{}</em>", texts.no_description)
    } else {
        escape(&token.description)
    };
    let generated = token.generated_at.format("%Y-%m-%d %H:%M UTC");
    format!(
        "<h1>{title}</h1><p>{intro}</p><dl><dt>{description_label}</dt><dd>{description}</dd>\
         <dt>{generated_label}</dt><dd>{generated}</dd><dt>{account_label}</dt>\
         <dd><strong>{name}</strong></dd></dl><p>{warning}</p>\
         <form method=\"post\"><input type=\"hidden\" name=\"{CSRF_FIELD}\" value=\"{csrf}\">\
         <button type=\"submit\">{button}</button></form><p>{expiry}</p>",
        title = texts.title,
        intro = texts.intro,
        description_label = texts.description,
        generated_label = texts.generated,
        account_label = texts.account,
        name = escape(&account.name),
        warning = texts.warning,
        csrf = escape(csrf),
        button = texts.button,
        expiry = texts.expiry,
    )
}

/// A page of the claim, which no other site may show in a frame: a frame hiding the button
/// under a decoy would make a click claim the token.
fn page(status: StatusCode, texts: &Texts, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <link rel=\"icon\" href=\"/static/logo.svg\" type=\"image/svg+xml\">\
         <title>{title}</title><style>{STYLE}</style></head><body><main>{body}</main>\
         </body></html>",
        lang = texts.lang,
        title = texts.title,
    );
    (
        status,
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CACHE_CONTROL, "no-store"),
            (X_FRAME_OPTIONS, "DENY"),
            (
                CONTENT_SECURITY_POLICY,
                "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; \
                 form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
            ),
            // The page's address names the token: other sites never get it. Not
            // `no-referrer`, under which browsers send the button's `POST` with
            // `Origin: null`, refused as another site's write.
            (REFERRER_POLICY, "same-origin"),
            (VARY, "Accept, Accept-Language"),
        ],
        html,
    )
        .into_response()
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;background:#f4f5f7}\
    main{max-width:34rem;margin:3rem auto;padding:1.5rem 2rem;background:#fff;\
    border-radius:.5rem;box-shadow:0 1px 4px #0002}dt{font-weight:600;margin-top:.6rem}\
    dd{margin:0}button{font-size:1.05rem;padding:.6rem 1.2rem;background:#3d5a80;color:#fff;\
    border:0;border-radius:.3rem;cursor:pointer}";

/// The words of the pages, in the browser's language.
struct Texts {
    lang: &'static str,
    title: &'static str,
    intro: &'static str,
    description: &'static str,
    no_description: &'static str,
    generated: &'static str,
    account: &'static str,
    warning: &'static str,
    button: &'static str,
    expiry: &'static str,
    own: &'static str,
    unknown: &'static str,
    other: &'static str,
}

impl Texts {
    fn of(headers: &HeaderMap) -> Texts {
        let accepted = headers
            .get(ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        match web::preferred_language(accepted, &["en", "fr"]) {
            "fr" => FRENCH,
            _ => ENGLISH,
        }
    }

    fn already_own(&self, account: &Account) -> String {
        format!(
            "<h1>{}</h1><p>{} <strong>{}</strong>.</p>",
            self.title,
            self.own,
            escape(&account.name)
        )
    }

    fn unknown(&self) -> String {
        let days = UNCLAIMED_FOR.num_days();
        format!(
            "<h1>{}</h1><p>{}</p>",
            self.title,
            self.unknown.replace("{days}", &days.to_string())
        )
    }

    fn claimed_by_other(&self) -> String {
        format!("<h1>{}</h1><p>{}</p>", self.title, self.other)
    }
}

const ENGLISH: Texts = Texts {
    lang: "en",
    title: "Claim an API token",
    intro: "A program asked this instance for a token, to send pictures and make changes in \
            your name. Attaching it gives that program the rights of your account.",
    description: "Token description",
    no_description: "none given",
    generated: "Generated",
    account: "Account it will act for",
    warning: "Confirm only if you started this yourself, just now (for example with \
              <code>panoramax_cli login</code>). If you did not, close this page: nothing \
              changes.",
    button: "Attach the token to my account",
    expiry: "You can revoke the token at any time from your account's token list.",
    own: "Done: this token now acts for your account. You may close this page and go back to \
          the program that asked for it. Account:",
    unknown: "There is no token to claim at this address: the link is wrong, the token was \
              revoked, or it waited more than {days} days and was forgotten. Ask the program \
              for a new link.",
    other: "This token was already claimed by another account, and stays theirs. Ask the \
            program for a new link.",
};

// French typography puts a no-break space (U+00A0) before ':'.
const FRENCH: Texts = Texts {
    lang: "fr",
    title: "Réclamer un jeton d'API",
    intro: "Un programme a demandé un jeton à cette instance, pour envoyer des photos et faire \
            des modifications en votre nom. L'associer donne à ce programme les droits de votre \
            compte.",
    description: "Description du jeton",
    no_description: "aucune",
    generated: "Créé le",
    account: "Compte pour lequel il agira",
    warning: "Ne confirmez que si vous venez de le demander vous-même (par exemple avec \
              <code>panoramax_cli login</code>). Sinon, fermez cette page\u{a0}: rien ne \
              change.",
    button: "Associer le jeton à mon compte",
    expiry: "Vous pouvez révoquer le jeton à tout moment depuis la liste des jetons de votre \
             compte.",
    own: "C'est fait\u{a0}: ce jeton agit désormais pour votre compte. Vous pouvez fermer cette \
          page et revenir au programme qui l'a demandé. Compte\u{a0}:",
    unknown: "Il n'y a pas de jeton à réclamer à cette adresse\u{a0}: le lien est faux, le jeton \
              a été révoqué, ou il a attendu plus de {days} jours et a été oublié. Demandez un \
              nouveau lien au programme.",
    other: "Ce jeton a déjà été réclamé par un autre compte, et reste le sien. Demandez un \
            nouveau lien au programme.",
};

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use flaneur_model::{AccountId, Role};

    use super::*;

    #[test]
    fn the_confirmation_escapes_what_the_generator_and_the_provider_chose() {
        let token = Token {
            id: TokenId::new(),
            account_id: None,
            description: "<script>alert(1)</script>".to_owned(),
            generated_at: Utc::now(),
            last_used_at: None,
        };
        let account = Account {
            id: AccountId::new(),
            name: "Zoé \"<b>\"".to_owned(),
            role: Role::User,
            is_default: false,
            oauth: None,
            default_visibility: None,
            collaborative_metadata: None,
            tos_accepted_at: None,
            tos_latest_change_read_at: None,
            created_at: Utc::now(),
            origin: None,
        };
        let html = confirmation(&ENGLISH, &token, &account, "a\"b");
        assert!(!html.contains("<script>"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(html.contains("Zoé &quot;&lt;b&gt;&quot;"), "{html}");
        assert!(
            html.contains("name=\"csrf_token\" value=\"a&quot;b\""),
            "{html}"
        );
        assert!(html.contains("<form method=\"post\">"), "{html}");
    }
}
