//! Browser login against a provider standing in on a loopback port: OpenID Connect and
//! OpenStreetMap logins, the session and CSRF cookies, logout, and hostile answers.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

use crate::login_provider::{CLIENT_ID, CLIENT_SECRET, Provider, Spoil};
use crate::server::Server;

/// A browser: keeps cookies as `Set-Cookie` says, follows no redirect by itself.
pub struct Browser {
    client: Client,
    /// Cookie values by name.
    pub cookies: BTreeMap<String, String>,
    /// The `Set-Cookie` lines of the last answer.
    pub last_set: Vec<String>,
}

impl Browser {
    pub fn new() -> Browser {
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .expect("client");
        Browser {
            client,
            cookies: BTreeMap::new(),
            last_set: Vec::new(),
        }
    }

    pub fn get(&mut self, url: &str) -> Response {
        let request = self.client.get(url);
        self.send(request)
    }

    /// A request of this browser's client, cookies added by [`Browser::send`].
    pub fn request(&self, method: reqwest::Method, url: &str) -> RequestBuilder {
        self.client.request(method, url)
    }

    pub fn send(&mut self, request: RequestBuilder) -> Response {
        let line: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let request = if line.is_empty() {
            request
        } else {
            request.header(COOKIE, line.join("; "))
        };
        let response = request.send().expect("request sent");
        self.last_set = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        for set in &self.last_set {
            let (pair, attributes) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').expect("name=value");
            if attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        response
    }

    /// The `Set-Cookie` line of `name` in the last answer.
    pub fn set_line(&self, name: &str) -> Option<&str> {
        let prefix = format!("{name}=");
        self.last_set
            .iter()
            .find(|l| l.starts_with(&prefix))
            .map(String::as_str)
    }
}

pub fn location(response: &Response) -> String {
    response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no Location in a {} answer", response.status()))
        .to_owned()
}

/// An instance logging in with `provider` as OpenID Connect provider.
pub fn oidc_server(provider: &Provider) -> Server {
    Server::start_with_env(&oidc_env(provider))
}

/// An instance logging in with `provider`, its web front-end's build in `web_dir`.
fn oidc_server_with_web(provider: &Provider, web_dir: &std::path::Path) -> Server {
    let web_dir = web_dir.to_str().expect("UTF-8 temporary path");
    let mut env = oidc_env(provider).to_vec();
    env.push(("FLANEUR_WEB_DIR", web_dir));
    Server::start_with_env(&env)
}

pub fn oidc_env(provider: &Provider) -> [(&'static str, &str); 4] {
    [
        ("OAUTH_PROVIDER", "oidc"),
        ("OAUTH_OIDC_URL", &provider.url),
        ("OAUTH_CLIENT_ID", CLIENT_ID),
        ("OAUTH_CLIENT_SECRET", CLIENT_SECRET),
    ]
}

/// `GET /api/users/me` as the browser.
fn me(browser: &mut Browser, server: &Server) -> (StatusCode, Value) {
    let response = browser.get(&format!("{}/users/me", server.api));
    let status = response.status();
    (status, response.json().unwrap_or(Value::Null))
}

/// Starts a login and follows it to the provider; returns the provider's answer: the
/// address of the instance's redirect route with the code and state.
pub fn to_provider(browser: &mut Browser, server: &Server, next_url: &str) -> String {
    let start = browser.get(&format!(
        "{}/auth/login?next_url={}",
        server.api,
        percent_encoding::utf8_percent_encode(next_url, percent_encoding::NON_ALPHANUMERIC)
    ));
    assert_eq!(start.status(), StatusCode::FOUND, "{}", server.logs());
    let authorize = location(&start);
    assert!(
        authorize.contains("code_challenge_method=S256"),
        "{authorize}"
    );
    let answered = browser.get(&authorize);
    assert_eq!(answered.status(), StatusCode::FOUND);
    location(&answered)
}

/// A whole login; returns the instance's last answer.
pub fn log_in(browser: &mut Browser, server: &Server, next_url: &str) -> Response {
    let back = to_provider(browser, server, next_url);
    browser.get(&back)
}

/// `http://127.0.0.1:PORT`: the instance's origin.
pub fn site(server: &Server) -> String {
    server.api.trim_end_matches("/api").to_owned()
}

fn error_of(response: Response) -> (StatusCode, String) {
    let status = response.status();
    let body: Value = response.json().expect("a JSON error");
    (
        status,
        body["message"].as_str().unwrap_or_default().to_owned(),
    )
}

#[test]
fn an_oidc_login_sets_the_session_cookies_and_goes_back_to_the_page_asked_for() {
    let provider = Provider::start();
    let server = oidc_server(&provider);
    let mut browser = Browser::new();

    let done = log_in(&mut browser, &server, "/sequences?sort=new");
    assert_eq!(done.status(), StatusCode::FOUND, "{}", server.logs());
    assert_eq!(location(&done), "/sequences?sort=new");
    let session = browser.set_line("flaneur_session").expect("session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    assert!(!session.contains("Secure"), "plain HTTP: {session}");
    let name = browser.set_line("user_name").expect("user_name cookie");
    assert!(
        name.starts_with("user_name=walker;") && !name.contains("HttpOnly"),
        "{name}"
    );
    for readable in ["user_id", "flaneur_csrf", "session"] {
        let line = browser.set_line(readable).expect(readable);
        assert!(!line.contains("HttpOnly"), "{line}");
    }
    assert!(
        !browser.cookies.contains_key("flaneur_login_state"),
        "login step cleared"
    );

    // The account was made at this first login, named as the provider says.
    let (status, profile) = me(&mut browser, &server);
    assert_eq!(status, StatusCode::OK, "{profile}");
    assert_eq!(profile["name"], "walker");
    assert_eq!(
        profile["id"].as_str(),
        Some(browser.cookies["user_id"].as_str())
    );
    assert_eq!(profile["oauth_provider"], "oidc");
    assert_eq!(profile["permissions"]["role"], "user");
    assert_eq!(
        profile["csrf_token"].as_str(),
        Some(browser.cookies["flaneur_csrf"].as_str())
    );

    // A second login, from another browser, reaches the same account.
    let mut other = Browser::new();
    log_in(&mut other, &server, "/");
    let (_, again) = me(&mut other, &server);
    assert_eq!(again["id"], profile["id"]);
    let users = server.get_ok("/users");
    let walkers = users["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter(|u| u["name"] == "walker")
        .count();
    assert_eq!(walkers, 1, "{users}");

    // Clients learn that logins are on, and where the profile is kept.
    let configuration = server.get_ok("/configuration");
    assert_eq!(configuration["auth"]["enabled"], true, "{configuration}");
    assert_eq!(
        configuration["auth"]["user_profile"]["url"],
        format!("{}/account/#/personal-info", provider.url)
    );

    // The session wins over a bearer token sent with it.
    let with_junk_bearer = browser
        .request(reqwest::Method::GET, &format!("{}/users/me", server.api))
        .bearer_auth("not-a-token");
    assert_eq!(browser.send(with_junk_bearer).status(), StatusCode::OK);
}

#[test]
fn a_login_answer_must_match_the_login_this_browser_started() {
    let provider = Provider::start();
    let server = oidc_server(&provider);
    let mut browser = Browser::new();
    let back = to_provider(&mut browser, &server, "/");
    let (redirect, query) = back.split_once('?').expect("query");
    let code = query
        .split('&')
        .find_map(|p| p.strip_prefix("code="))
        .expect("code");

    // Another state than the one this browser holds: refused, nothing logged in.
    let forged = browser.get(&format!("{redirect}?code={code}&state=forged"));
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    assert!(!browser.cookies.contains_key("flaneur_session"));
    // The right state from another browser (no cookie): refused.
    let mut other = Browser::new();
    assert_eq!(other.get(&back).status(), StatusCode::BAD_REQUEST);
    // A state this browser holds but no login was started with.
    let mut forger = Browser::new();
    forger
        .cookies
        .insert("flaneur_login_state".into(), "forged".into());
    let (status, message) = error_of(forger.get(&format!("{redirect}?code={code}&state=forged")));
    assert_eq!(status, StatusCode::BAD_REQUEST, "{message}");

    // The answer is good once, and only once.
    let state_cookie = browser.cookies["flaneur_login_state"].clone();
    assert_eq!(browser.get(&back).status(), StatusCode::FOUND);
    browser
        .cookies
        .insert("flaneur_login_state".into(), state_cookie);
    let (status, message) = error_of(browser.get(&back));
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "replayed answer: {message}"
    );
    assert!(message.contains("no login in progress"), "{message}");

    // The same code within a new login of this browser: the provider refuses it.
    let fresh = to_provider(&mut browser, &server, "/");
    let fresh_state = fresh.split("state=").nth(1).expect("state");
    let (status, message) =
        error_of(browser.get(&format!("{redirect}?code={code}&state={fresh_state}")));
    assert_eq!(status, StatusCode::UNAUTHORIZED, "replayed code: {message}");
    assert!(message.contains("invalid_grant"), "{message}");
}

#[test]
fn id_tokens_of_another_issuer_audience_nonce_key_or_time_log_nobody_in() {
    let provider = Provider::start();
    let server = oidc_server(&provider);
    let spoils = [
        (
            "issuer",
            Spoil {
                issuer: Some("http://127.0.0.1:1/other".into()),
                ..Spoil::default()
            },
        ),
        (
            "audience",
            Spoil {
                audience: Some("another-client".into()),
                ..Spoil::default()
            },
        ),
        (
            "nonce",
            Spoil {
                nonce: Some("another-nonce".into()),
                ..Spoil::default()
            },
        ),
        (
            "expiry",
            Spoil {
                expired: true,
                ..Spoil::default()
            },
        ),
        (
            "signature",
            Spoil {
                other_key: true,
                ..Spoil::default()
            },
        ),
    ];
    for (what, spoil) in spoils {
        provider.spoil(spoil);
        let mut browser = Browser::new();
        let (status, message) = error_of(log_in(&mut browser, &server, "/"));
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {message}");
        assert!(message.contains("does not prove"), "{what}: {message}");
        assert!(!browser.cookies.contains_key("flaneur_session"), "{what}");
    }
    // The provider's real tokens still log in after a forged signature made the keys be read
    // again.
    provider.spoil(Spoil::default());
    let mut browser = Browser::new();
    assert_eq!(
        log_in(&mut browser, &server, "/").status(),
        StatusCode::FOUND
    );
}

#[test]
fn after_login_the_browser_goes_only_to_pages_of_the_instance() {
    let provider = Provider::start();
    let server = oidc_server(&provider);
    let own = format!("{}/upload", site(&server));
    for (next_url, expected) in [
        ("https://evil.example/phish", "/"),
        ("//evil.example/phish", "/"),
        ("/\\evil.example", "/"),
        (own.as_str(), "/upload"),
    ] {
        let mut browser = Browser::new();
        let done = log_in(&mut browser, &server, next_url);
        assert_eq!(done.status(), StatusCode::FOUND, "{next_url}");
        assert_eq!(location(&done), expected, "{next_url}");
    }
}

#[test]
fn cookie_writes_need_the_csrf_value_or_the_instances_origin() {
    let provider = Provider::start();
    let server = oidc_server(&provider);
    let mut browser = Browser::new();
    log_in(&mut browser, &server, "/");
    let csrf = browser.cookies["flaneur_csrf"].clone();
    let sets = format!("{}/upload_sets", server.api);

    // A form of another site sends the cookie alone: refused, nothing made.
    let bare = browser
        .request(reqwest::Method::POST, &sets)
        .json(&json!({"title": "bare"}));
    let (status, message) = error_of(browser.send(bare));
    assert_eq!(status, StatusCode::FORBIDDEN, "{message}");
    assert!(message.contains("X-CSRF-Token"), "{message}");
    let wrong = browser
        .request(reqwest::Method::POST, &sets)
        .header("X-CSRF-Token", "guessed")
        .json(&json!({"title": "guessed"}));
    assert_eq!(browser.send(wrong).status(), StatusCode::FORBIDDEN);

    // With the CSRF value, or from the instance's own page.
    let with_token = browser
        .request(reqwest::Method::POST, &sets)
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"title": "with token"}));
    let created = browser.send(with_token);
    assert!(created.status().is_success(), "{}", created.status());
    let set: Value = created.json().expect("upload set");
    let set_url = format!("{sets}/{}", set["id"].as_str().expect("id"));
    let same_origin = browser
        .request(reqwest::Method::POST, &sets)
        .header("Origin", site(&server))
        .json(&json!({"title": "same origin"}));
    assert!(browser.send(same_origin).status().is_success());

    // A delete without either changes nothing; with the value, it deletes.
    let delete = browser.request(reqwest::Method::DELETE, &set_url);
    let (status, message) = error_of(browser.send(delete));
    assert_eq!(status, StatusCode::FORBIDDEN, "{message}");
    assert!(message.contains("X-CSRF-Token"), "{message}");
    let still: Value = browser.get(&set_url).json().expect("upload set");
    assert_eq!(still["id"], set["id"]);
    assert_eq!(
        still["account_id"].as_str(),
        Some(browser.cookies["user_id"].as_str())
    );
    let delete = browser
        .request(reqwest::Method::DELETE, &set_url)
        .header("X-CSRF-Token", &csrf);
    assert!(browser.send(delete).status().is_success());

    // Clients with no cookie are not concerned.
    let (status, _) = server.post_json("/upload_sets", &json!({"title": "anonymous"}));
    assert!(status.is_success(), "{status}");
}

#[test]
fn logout_ends_the_session_at_the_instance_and_at_the_provider() {
    let provider = Provider::start();
    let server = oidc_server(&provider);
    let mut browser = Browser::new();
    log_in(&mut browser, &server, "/");
    let session = browser.cookies["flaneur_session"].clone();
    let csrf = browser.cookies["flaneur_csrf"].clone();

    let out = browser.get(&format!("{}/auth/logout?next_url=/sequences", server.api));
    assert_eq!(out.status(), StatusCode::FOUND);
    let at_provider = location(&out);
    assert!(
        at_provider.starts_with(&format!("{}/logout?", provider.url)),
        "{at_provider}"
    );
    for cleared in [
        "flaneur_session",
        "flaneur_csrf",
        "user_id",
        "user_name",
        "session",
    ] {
        assert!(!browser.cookies.contains_key(cleared), "{cleared} kept");
    }
    let back = browser.get(&at_provider);
    let done = browser.get(&location(&back));
    assert_eq!(done.status(), StatusCode::FOUND);
    assert_eq!(location(&done), "/sequences");
    let logouts = provider.logouts();
    assert_eq!(logouts.len(), 1);
    assert!(
        logouts[0]
            .get("id_token_hint")
            .is_some_and(|t| t.split('.').count() == 3)
    );
    assert_eq!(
        logouts[0]
            .get("post_logout_redirect_uri")
            .map(String::as_str),
        Some(format!("{}/auth/post_logout_redirect", server.api).as_str())
    );

    // The old cookie is worth nothing now: the account is not reached with it.
    browser
        .cookies
        .insert("flaneur_session".into(), session.clone());
    browser.cookies.insert("flaneur_csrf".into(), csrf.clone());
    let (status, body) = me(&mut browser, &server);
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let again = browser.get(&format!("{}/auth/post_logout_redirect", server.api));
    assert_eq!(again.status(), StatusCode::ACCEPTED);
}

#[test]
fn the_sessions_of_a_deleted_account_end_with_it() {
    let provider = Provider::start();
    let dir = tempfile::tempdir().expect("data folder");
    let server = Server::start_in_with_env(dir.path(), &oidc_env(&provider));
    let mut browser = Browser::new();
    log_in(&mut browser, &server, "/");
    assert_eq!(me(&mut browser, &server).0, StatusCode::OK);
    let dead = browser.cookies["flaneur_session"].clone();

    crate::accounts::account_command(dir.path(), &["delete", "walker"]);
    let (status, body) = me(&mut browser, &server);
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // The dead cookies are removed, so that pages stop showing who was logged in.
    for cleared in [
        "flaneur_session",
        "flaneur_csrf",
        "user_id",
        "user_name",
        "session",
    ] {
        assert!(!browser.cookies.contains_key(cleared), "{cleared} kept");
    }

    // A browser still sending a dead session cookie when it comes back from the provider
    // logs in all the same: its new session is not removed with the dead one.
    let back = to_provider(&mut browser, &server, "/");
    browser.cookies.insert("flaneur_session".into(), dead);
    let done = browser.get(&back);
    assert_eq!(done.status(), StatusCode::FOUND);
    let (status, body) = me(&mut browser, &server);
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[test]
fn control_characters_of_a_provider_s_name_become_spaces() {
    let provider = Provider::start();
    let dir = tempfile::tempdir().expect("data folder");
    let server = Server::start_in_with_env(dir.path(), &oidc_env(&provider));
    provider.set_user("sub-9", "eve\t\u{1b}[31madmin\nroot\r\n");
    let mut browser = Browser::new();
    log_in(&mut browser, &server, "/");
    let (status, profile) = me(&mut browser, &server);
    assert_eq!(status, StatusCode::OK, "{profile}");
    assert_eq!(profile["name"], "eve  [31madmin root");

    // Nothing left: the subject names the account.
    provider.set_user("sub-10", "\t\u{7f}\n");
    let mut other = Browser::new();
    log_in(&mut other, &server, "/");
    let (status, profile) = me(&mut other, &server);
    assert_eq!(status, StatusCode::OK, "{profile}");
    assert_eq!(profile["name"], "sub-10");

    // One line per account in the operator's listing.
    let listed = crate::accounts::account_command(dir.path(), &["list"]);
    assert_eq!(listed.lines().count(), 3, "{listed:?}");
    assert!(!listed.contains('\u{1b}'), "{listed:?}");
}

/// Generates a token as a client does; returns its value and its claim link.
pub fn generate_token(server: &Server) -> (String, String) {
    let (status, generated) = server.post_json("/auth/tokens/generate?description=cli", &json!({}));
    assert!(status.is_success(), "{status}: {generated}");
    let token = generated["jwt_token"].as_str().expect("token").to_owned();
    let claim = crate::server::link(&generated, "claim").expect("claim link");
    (token, claim)
}

/// The status of `GET /api/users/me` with a bearer token, and the account's name.
fn token_user(server: &Server, token: &str) -> (StatusCode, Value) {
    let client = Client::builder().no_proxy().build().expect("client");
    let response = client
        .get(format!("{}/users/me", server.api))
        .bearer_auth(token)
        .send()
        .expect("sent");
    let status = response.status();
    (
        status,
        response.json::<Value>().unwrap_or(Value::Null)["name"].clone(),
    )
}

/// A browser opening a page: asking for HTML.
pub fn navigate(browser: &mut Browser, url: &str) -> Response {
    let request = browser
        .request(reqwest::Method::GET, url)
        .header("Accept", "text/html,application/xhtml+xml");
    browser.send(request)
}

/// The confirmation form's CSRF field in a claim page.
pub fn form_csrf(html: &str) -> String {
    let field = html
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no csrf_token field in {html}"));
    field.split('"').next().expect("value").to_owned()
}

/// A URL-encoded form body holding `csrf_token`.
pub fn csrf_form(csrf: &str) -> String {
    let value = percent_encoding::utf8_percent_encode(csrf, percent_encoding::NON_ALPHANUMERIC);
    format!("csrf_token={value}")
}

/// The confirmation form posted as a browser sending no `Origin` does: its CSRF field alone
/// shows it comes from the instance's page.
pub fn confirm_claim(browser: &mut Browser, claim: &str, csrf: &str) -> Response {
    let request = browser
        .request(reqwest::Method::POST, claim)
        .header("Accept", "text/html")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(csrf_form(csrf));
    browser.send(request)
}

#[test]
fn a_token_is_claimed_in_the_browser_then_used_by_its_client() {
    let provider = Provider::start();
    // No front-end build: the claim's own page says the token was claimed.
    let unbuilt = tempfile::tempdir().expect("web folder");
    let server = oidc_server_with_web(&provider, unbuilt.path());

    // 1. A client (such as panoramax_cli login) asks for a token and shows its claim link.
    let (token, claim) = generate_token(&server);
    assert_eq!(
        token_user(&server, &token).0,
        StatusCode::FORBIDDEN,
        "not claimed yet"
    );

    // 2. The user opens it: not logged in, the browser is sent to log in and back.
    let mut browser = Browser::new();
    let first = navigate(&mut browser, &claim);
    assert_eq!(first.status(), StatusCode::FOUND);
    let login = location(&first);
    assert!(login.contains("/api/auth/login?next_url="), "{login}");
    let authorize = location(&browser.get(&login));
    let back = location(&browser.get(&authorize));
    let done = browser.get(&back);
    assert_eq!(done.status(), StatusCode::FOUND, "{}", server.logs());
    let claim_path = location(&done);
    assert!(claim.ends_with(&claim_path), "{claim} vs {claim_path}");

    // 3. Back there, a page says what the claim would do; nothing is claimed yet.
    let page = navigate(&mut browser, &format!("{}{claim_path}", site(&server)));
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().expect("page");
    for shown in ["walker", "cli", "<form method=\"post\">"] {
        assert!(html.contains(shown), "{shown} not in {html}");
    }
    assert_eq!(token_user(&server, &token).0, StatusCode::FORBIDDEN);

    // 4. Its button claims the token, then leads to the page saying so.
    let confirmed = confirm_claim(&mut browser, &claim, &form_csrf(&html));
    assert_eq!(confirmed.status(), StatusCode::FOUND, "{}", server.logs());
    assert_eq!(location(&confirmed), claim);
    let accepted = navigate(&mut browser, &location(&confirmed));
    assert_eq!(accepted.status(), StatusCode::OK);
    assert!(
        accepted
            .text()
            .expect("page")
            .contains("now acts for your account")
    );

    // 5. The client's token now acts for the account logged in.
    let (status, name) = token_user(&server, &token);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(name, "walker");
}

#[test]
fn a_claim_link_opened_from_another_site_claims_nothing_without_the_confirmation() {
    let provider = Provider::start();
    let build = tempfile::tempdir().expect("web folder");
    for page in ["index.html", "token-accepted.html"] {
        std::fs::write(build.path().join(page), "<p>built</p>").expect("page");
    }
    let server = oidc_server_with_web(&provider, build.path());
    let mut browser = Browser::new();
    log_in(&mut browser, &server, "/");
    let (token, claim) = generate_token(&server);
    let unclaimed = || token_user(&server, &token).0 == StatusCode::FORBIDDEN;

    // A hostile page sends the logged-in browser to the link (a top-level navigation, which
    // carries the session cookie): a page asking to confirm, that no site may frame.
    let request = browser
        .request(reqwest::Method::GET, &claim)
        .header("Accept", "text/html")
        .header("Sec-Fetch-Site", "cross-site")
        .header("Referer", "http://evil.example/");
    let page = browser.send(request);
    assert_eq!(page.status(), StatusCode::OK);
    let headers = page.headers().clone();
    assert_eq!(headers["x-frame-options"], "DENY");
    let policy = headers["content-security-policy"].to_str().expect("policy");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert_eq!(headers["cache-control"], "no-store");
    let html = page.text().expect("page");
    assert_eq!(form_csrf(&html), browser.cookies["flaneur_csrf"]);
    assert!(unclaimed(), "a GET claims nothing");

    // Posts showing no sign of the instance's pages are refused and change nothing: the
    // cookie alone, a wrong field, or another site's form.
    let csrf = browser.cookies["flaneur_csrf"].clone();
    let refused = [
        browser.request(reqwest::Method::POST, &claim),
        browser
            .request(reqwest::Method::POST, &claim)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(csrf_form("guessed")),
        browser
            .request(reqwest::Method::POST, &claim)
            .header("Origin", "http://evil.example")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(csrf_form(&csrf)),
        browser
            .request(reqwest::Method::POST, &claim)
            .header("Sec-Fetch-Site", "cross-site")
            .header("X-CSRF-Token", &csrf),
    ];
    for (n, request) in refused.into_iter().enumerate() {
        let (status, message) = error_of(browser.send(request));
        assert_eq!(status, StatusCode::FORBIDDEN, "{n}: {message}");
        assert!(unclaimed(), "{n}: refused, yet claimed");
    }

    // The CSRF value in the header is enough, as for every cookie write; JSON when asked.
    let request = browser
        .request(reqwest::Method::POST, &claim)
        .header("X-CSRF-Token", &csrf)
        .header("Accept", "application/json");
    let claimed = browser.send(request);
    assert_eq!(claimed.status(), StatusCode::OK);
    let body: Value = claimed.json().expect("JSON");
    assert_eq!(
        body["account_id"].as_str(),
        Some(browser.cookies["user_id"].as_str())
    );
    assert_eq!(
        token_user(&server, &token),
        (StatusCode::OK, json!("walker"))
    );

    // The confirmation form leads to the front-end's page; claiming again is harmless.
    let confirmed = confirm_claim(&mut browser, &claim, &csrf);
    assert_eq!(confirmed.status(), StatusCode::FOUND);
    assert_eq!(
        location(&confirmed),
        format!("{}/token-accepted", site(&server))
    );

    // Another account can neither see nor take it: it stays walker's.
    provider.set_user("sub-2", "runner");
    let mut other = Browser::new();
    log_in(&mut other, &server, "/");
    let page = navigate(&mut other, &claim);
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    let html = page.text().expect("page");
    assert!(
        html.contains("another account") && !html.contains("cli"),
        "{html}"
    );
    let other_csrf = other.cookies["flaneur_csrf"].clone();
    let (status, _) = error_of(confirm_claim(&mut other, &claim, &other_csrf));
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        token_user(&server, &token),
        (StatusCode::OK, json!("walker"))
    );

    // A link naming no token: a page saying so.
    let unknown = claim.replace(
        claim.split('/').rev().nth(1).expect("id"),
        "00000000-0000-4000-8000-000000000000",
    );
    let page = navigate(&mut other, &unknown);
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(page.text().expect("page").contains("no token to claim"));
}

/// Keeps the login identities of an embedded catalog under `key`, as versions keeping them
/// under the provider's kind alone did.
fn key_identities_as(data_dir: &std::path::Path, key: &str) {
    use sqlx::Connection;
    let path = data_dir.join("catalog.sqlite");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let url = format!("sqlite://{}", path.display());
        let mut db = sqlx::SqliteConnection::connect(&url)
            .await
            .expect("catalog");
        sqlx::query("UPDATE accounts SET oauth_provider = ? WHERE oauth_provider IS NOT NULL")
            .bind(key)
            .execute(&mut db)
            .await
            .expect("rekeyed");
    });
}

#[test]
fn logins_are_kept_under_their_providers_address_and_older_ones_found_again() {
    let first = Provider::start();
    let second = Provider::start();
    let dir = tempfile::tempdir().expect("data folder");
    let serve =
        |provider: &Provider| Server::start_on_storage(dir.path(), Vec::new(), &oidc_env(provider));
    let logged_in_as = |server: &Server| {
        let mut browser = Browser::new();
        log_in(&mut browser, server, "/");
        let (status, profile) = me(&mut browser, server);
        assert_eq!(status, StatusCode::OK, "{profile}\n{}", server.logs());
        profile
    };

    // 1. Walker's first login, kept as earlier versions kept it.
    let server = serve(&first);
    let walker = logged_in_as(&server);
    server.kill();
    key_identities_as(dir.path(), "oidc");

    // 2. The instance moves it to its provider's address: walker is found again.
    let server = serve(&first);
    let again = logged_in_as(&server);
    assert_eq!(again["id"], walker["id"], "{again}");
    assert_eq!(again["oauth_provider"], "oidc", "clients are told the kind");
    server.kill();

    // 3. The same user id at another provider is another account.
    let server = serve(&second);
    let stranger = logged_in_as(&server);
    assert_ne!(stranger["id"], walker["id"], "{stranger}");
    assert_eq!(stranger["name"], "walker_2");
}

#[test]
fn each_client_may_start_only_so_many_logins_and_token_generations_a_minute() {
    let provider = Provider::start();
    let mut env = oidc_env(&provider).to_vec();
    env.push(("FLANEUR_LOGIN_RATE_PER_MINUTE", "3"));
    let server = Server::start_with_env(&env);
    let mut browser = Browser::new();
    let login = format!("{}/auth/login", server.api);

    // Three in a burst, logins and generations counted together.
    assert_eq!(browser.get(&login).status(), StatusCode::FOUND);
    for _ in 0..2 {
        let (status, body) = server.post_json("/auth/tokens/generate", &json!({}));
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    // Then 429, saying when to come back; nothing is written.
    let (status, body) = server.post_json("/auth/tokens/generate", &json!({}));
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(
        body["retry_after_secs"],
        json!(20),
        "one every 20 s: {body}"
    );
    let refused = browser.get(&login);
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = refused.headers()["retry-after"]
        .to_str()
        .expect("text")
        .parse()
        .expect("seconds");
    assert!((1..=20).contains(&retry), "{retry}");
    assert!(
        browser.set_line("flaneur_login_state").is_none(),
        "no login started"
    );

    // Other routes are not counted.
    assert_eq!(server.get_json("/collections").0, StatusCode::OK);
}

#[test]
fn the_oldest_logins_in_progress_and_unclaimed_tokens_go_beyond_the_cap() {
    let provider = Provider::start();
    let mut env = oidc_env(&provider).to_vec();
    env.push(("FLANEUR_MAX_PENDING_LOGINS", "2"));
    let server = Server::start_with_env(&env);

    // Three logins started: the first one's answer finds no login in progress any more.
    let mut browsers: Vec<(Browser, String)> = (0..3)
        .map(|_| {
            let mut browser = Browser::new();
            let back = to_provider(&mut browser, &server, "/");
            (browser, back)
        })
        .collect();
    let (first, back) = &mut browsers[0];
    let (status, message) = error_of(first.get(back));
    assert_eq!(status, StatusCode::BAD_REQUEST, "{message}");
    assert!(message.contains("no login in progress"), "{message}");
    for (browser, back) in &mut browsers[1..] {
        assert_eq!(browser.get(back).status(), StatusCode::FOUND);
    }

    // Three tokens generated: the oldest is forgotten, the two newest wait.
    let claims: Vec<String> = (0..3).map(|_| generate_token(&server).1).collect();
    let (browser, _) = &mut browsers[1];
    let csrf = browser.cookies["flaneur_csrf"].clone();
    let statuses: Vec<StatusCode> = claims
        .iter()
        .map(|claim| {
            let request = browser
                .request(reqwest::Method::POST, claim)
                .header("X-CSRF-Token", &csrf);
            browser.send(request).status()
        })
        .collect();
    assert_eq!(
        statuses,
        [StatusCode::NOT_FOUND, StatusCode::OK, StatusCode::OK]
    );
}

/// Logs a browser in as a client reaching the instance through a proxy ending TLS would:
/// every request says `X-Forwarded-Proto: https`. Returns the `Set-Cookie` lines of the
/// login's start and of its end.
fn log_in_over_https(browser: &mut Browser, server: &Server) -> Vec<String> {
    let over_https = |browser: &Browser, url: &str| {
        browser
            .request(
                reqwest::Method::GET,
                &url.replacen("https://", "http://", 1),
            )
            .header("X-Forwarded-Proto", "https")
    };
    let start = over_https(browser, &format!("{}/auth/login", server.api));
    let start = browser.send(start);
    assert_eq!(start.status(), StatusCode::FOUND, "{}", server.logs());
    let mut lines = browser.last_set.clone();
    let back = location(&browser.get(&location(&start)));
    let done = over_https(browser, &back);
    let done = browser.send(done);
    assert_eq!(done.status(), StatusCode::FOUND, "{}", server.logs());
    lines.extend(browser.last_set.clone());
    lines
}

#[test]
fn login_cookies_are_secure_when_the_instance_is_reached_over_https_or_told_so() {
    let provider = Provider::start();
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut env = oidc_env(&provider).to_vec();
        env.extend_from_slice(extra);
        Server::start_with_env(&env)
    };
    let is_secure = |line: &String| line.split(';').any(|a| a.trim() == "Secure");

    // By default, as the client reached the instance: HTTPS, as a trusted proxy says.
    let proxied = with(&[("FLANEUR_TRUST_FORWARDED_HEADERS", "true")]);
    let lines = log_in_over_https(&mut Browser::new(), &proxied);
    for name in [
        "flaneur_login_state",
        "flaneur_session",
        "flaneur_csrf",
        "user_id",
    ] {
        let prefix = format!("{name}=");
        assert!(
            lines.iter().any(|l| l.starts_with(&prefix)),
            "{name}: {lines:?}"
        );
    }
    assert!(lines.iter().all(is_secure), "{lines:?}");
    let mut plain = Browser::new();
    plain.get(&format!("{}/auth/login", proxied.api));
    assert!(
        !plain.last_set.iter().any(is_secure),
        "{:?}",
        plain.last_set
    );

    // A proxy that is not trusted proves nothing.
    let direct = with(&[]);
    let lines = log_in_over_https(&mut Browser::new(), &direct);
    assert!(!lines.iter().any(is_secure), "{lines:?}");

    // Told so: always, even over plain HTTP (a proxy ending TLS without saying it) ...
    let always = with(&[("FLANEUR_COOKIE_SECURE", "always")]);
    let mut browser = Browser::new();
    log_in(&mut browser, &always, "/");
    let line = browser.set_line("flaneur_session").expect("session");
    assert!(is_secure(&line.to_owned()), "{line}");

    // ... or never.
    let never = with(&[
        ("FLANEUR_COOKIE_SECURE", "never"),
        ("FLANEUR_TRUST_FORWARDED_HEADERS", "true"),
    ]);
    let lines = log_in_over_https(&mut Browser::new(), &never);
    assert!(!lines.iter().any(is_secure), "{lines:?}");
}

#[test]
fn an_openstreetmap_login_reads_the_user_from_its_api() {
    let provider = Provider::start();
    provider.set_user("osm-7", "Zoé Marcheuse");
    let server = Server::start_with_env(&[
        ("OAUTH_PROVIDER", "osm"),
        ("FLANEUR_OSM_URL", &provider.url),
        ("OAUTH_CLIENT_ID", CLIENT_ID),
        ("OAUTH_CLIENT_SECRET", CLIENT_SECRET),
        ("OAUTH_PROFILE_URL", "https://profile.example.org/me"),
    ]);
    let configuration = server.get_ok("/configuration");
    assert_eq!(
        configuration["auth"]["user_profile"]["url"],
        "https://profile.example.org/me"
    );
    let mut browser = Browser::new();
    let start = browser.get(&format!("{}/auth/login", server.api));
    let authorize = location(&start);
    assert!(authorize.starts_with(&format!("{}/oauth2/authorize?", provider.url)));
    assert!(authorize.contains("scope=read_prefs"), "{authorize}");
    let back = location(&browser.get(&authorize));
    let done = browser.get(&back);
    assert_eq!(done.status(), StatusCode::FOUND, "{}", server.logs());
    assert_eq!(location(&done), "/");
    assert_eq!(browser.cookies["user_name"], "Zo%C3%A9%20Marcheuse");
    let (status, profile) = me(&mut browser, &server);
    assert_eq!(status, StatusCode::OK, "{profile}");
    assert_eq!(profile["name"], "Zoé Marcheuse");
    assert_eq!(profile["oauth_provider"], "osm");

    // No provider session to end: logged out at once.
    let out = browser.get(&format!("{}/auth/logout", server.api));
    assert_eq!(out.status(), StatusCode::ACCEPTED);
    assert!(!browser.cookies.contains_key("flaneur_session"));
}

#[test]
fn without_a_provider_the_login_routes_say_authentication_is_off() {
    let server = Server::start();
    for route in ["login", "redirect", "logout", "post_logout_redirect"] {
        let (status, body) = server.get_json(&format!("/auth/{route}"));
        assert_eq!(status, StatusCode::NOT_IMPLEMENTED, "{route}");
        assert_eq!(
            body["message"],
            "authentication is not activated on this instance"
        );
    }
}
