//! A login provider on a loopback port of the test process, standing in for an OpenID Connect
//! provider and for OpenStreetMap's OAuth 2 and user details. It checks what a real one
//! checks (client, redirect address, PKCE, single-use codes) and issues ID tokens whose
//! claims a test may spoil: another issuer or audience, expired, another nonce, another key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::header::{AUTHORIZATION, LOCATION};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{Duration, Utc};
use openidconnect::core::{
    CoreIdToken, CoreIdTokenClaims, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
    CoreRsaPrivateSigningKey,
};
use openidconnect::{
    AccessToken, Audience, EmptyAdditionalClaims, EndUserUsername, IssuerUrl, JsonWebKeyId, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, PrivateSigningKey, StandardClaims, SubjectIdentifier,
};
use serde_json::{Value, json};

/// The client id the instance is registered with.
pub const CLIENT_ID: &str = "flaneur-test";
/// Its secret.
pub const CLIENT_SECRET: &str = "flaneur-test-secret";

const KEY: &str = include_str!("../fixtures/login/provider-key.pem");
const OTHER_KEY: &str = include_str!("../fixtures/login/other-key.pem");

/// How the next ID token is spoiled, if at all.
#[derive(Debug, Clone, Default)]
pub struct Spoil {
    /// Another issuer than the provider's.
    pub issuer: Option<String>,
    /// Another audience than the instance.
    pub audience: Option<String>,
    /// Expired an hour ago.
    pub expired: bool,
    /// Another nonce than the login's.
    pub nonce: Option<String>,
    /// Signed by a key the provider does not publish.
    pub other_key: bool,
}

/// The user who logs in at the provider.
#[derive(Debug, Clone)]
pub struct User {
    /// Their stable id at the provider.
    pub subject: String,
    /// Their user name.
    pub name: String,
}

struct Grant {
    redirect_uri: String,
    challenge: String,
    nonce: Option<String>,
    used: bool,
}

struct Stand {
    url: String,
    user: User,
    spoil: Spoil,
    grants: HashMap<String, Grant>,
    access_tokens: Vec<String>,
    logouts: Vec<HashMap<String, String>>,
}

type Shared = Arc<Mutex<Stand>>;

/// The provider, serving until dropped with the test.
pub struct Provider {
    /// `http://127.0.0.1:PORT`: the OpenID Connect issuer and the OpenStreetMap site.
    pub url: String,
    stand: Shared,
}

impl Provider {
    /// Starts a provider whose user is `walker`.
    pub fn start() -> Provider {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        listener.set_nonblocking(true).expect("non-blocking");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let stand = Arc::new(Mutex::new(Stand {
            url: url.clone(),
            user: User {
                subject: "f7c1-walker".to_owned(),
                name: "walker".to_owned(),
            },
            spoil: Spoil::default(),
            grants: HashMap::new(),
            access_tokens: Vec::new(),
            logouts: Vec::new(),
        }));
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/logout", get(logout))
            .route("/oauth2/authorize", get(authorize))
            .route("/oauth2/token", post(token))
            .route("/api/0.6/user/details.json", get(user_details))
            .with_state(stand.clone());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                axum::serve(listener, app).await.expect("provider serves");
            });
        });
        Provider { url, stand }
    }

    /// Spoils the ID tokens issued from now on.
    pub fn spoil(&self, spoil: Spoil) {
        self.stand.lock().expect("stand").spoil = spoil;
    }

    /// Changes who logs in.
    pub fn set_user(&self, subject: &str, name: &str) {
        self.stand.lock().expect("stand").user = User {
            subject: subject.to_owned(),
            name: name.to_owned(),
        };
    }

    /// The query of each logout the provider was sent.
    pub fn logouts(&self) -> Vec<HashMap<String, String>> {
        self.stand.lock().expect("stand").logouts.clone()
    }
}

fn signing_key(pem: &str) -> CoreRsaPrivateSigningKey {
    CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new("test-key".to_owned())))
        .expect("the test key")
}

async fn discovery(State(stand): State<Shared>) -> axum::Json<Value> {
    let url = stand.lock().expect("stand").url.clone();
    axum::Json(json!({
        "issuer": url,
        "authorization_endpoint": format!("{url}/authorize"),
        "token_endpoint": format!("{url}/token"),
        "jwks_uri": format!("{url}/jwks"),
        "end_session_endpoint": format!("{url}/logout"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

async fn jwks() -> axum::Json<Value> {
    let set = CoreJsonWebKeySet::new(vec![signing_key(KEY).as_verification_key()]);
    axum::Json(serde_json::to_value(set).expect("key set"))
}

fn refuse(status: StatusCode, error: &str) -> Response {
    (status, axum::Json(json!({ "error": error }))).into_response()
}

/// Logs the user in at once (no form: the browser test uses a real provider) and sends the
/// browser back with a code.
async fn authorize(
    State(stand): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let param = |name: &str| query.get(name).cloned().unwrap_or_default();
    if param("client_id") != CLIENT_ID || param("response_type") != "code" {
        return refuse(StatusCode::BAD_REQUEST, "unauthorized_client");
    }
    if param("code_challenge_method") != "S256" || param("code_challenge").is_empty() {
        return refuse(StatusCode::BAD_REQUEST, "invalid_request");
    }
    let code = uuid::Uuid::new_v4().simple().to_string();
    let redirect_uri = param("redirect_uri");
    stand.lock().expect("stand").grants.insert(
        code.clone(),
        Grant {
            redirect_uri: redirect_uri.clone(),
            challenge: param("code_challenge"),
            nonce: query.get("nonce").cloned(),
            used: false,
        },
    );
    let state = param("state");
    let back = format!("{redirect_uri}?code={code}&state={state}");
    (StatusCode::FOUND, [(LOCATION, back)]).into_response()
}

async fn token(
    State(stand): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let param = |name: &str| form.get(name).cloned().unwrap_or_default();
    let basic = format!(
        "Basic {}",
        base64_of(&format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    if headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) != Some(basic.as_str()) {
        return refuse(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let mut stand = stand.lock().expect("stand");
    let Some(grant) = stand.grants.get_mut(&param("code")) else {
        return refuse(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    // A code is exchanged once, by whoever holds the verifier of its challenge.
    if grant.used || grant.redirect_uri != param("redirect_uri") {
        return refuse(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    grant.used = true;
    let verifier = PkceCodeVerifier::new(param("code_verifier"));
    let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
    if challenge.as_str() != grant.challenge {
        return refuse(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    let nonce = grant.nonce.clone();
    let access = uuid::Uuid::new_v4().simple().to_string();
    stand.access_tokens.push(access.clone());
    let mut answer = json!({ "access_token": access, "token_type": "Bearer", "expires_in": 300 });
    if let Some(nonce) = nonce {
        answer["id_token"] = json!(id_token(&stand, &nonce, &access));
    }
    axum::Json(answer).into_response()
}

fn id_token(stand: &Stand, nonce: &str, access: &str) -> String {
    let spoil = &stand.spoil;
    let issuer = spoil.issuer.clone().unwrap_or_else(|| stand.url.clone());
    let audience = spoil
        .audience
        .clone()
        .unwrap_or_else(|| CLIENT_ID.to_owned());
    let now = Utc::now();
    let (issued, expiry) = if spoil.expired {
        (now - Duration::hours(2), now - Duration::hours(1))
    } else {
        (now, now + Duration::minutes(5))
    };
    let claims = CoreIdTokenClaims::new(
        IssuerUrl::new(issuer).expect("issuer"),
        vec![Audience::new(audience)],
        expiry,
        issued,
        StandardClaims::new(SubjectIdentifier::new(stand.user.subject.clone()))
            .set_preferred_username(Some(EndUserUsername::new(stand.user.name.clone()))),
        EmptyAdditionalClaims {},
    )
    .set_nonce(Some(Nonce::new(
        spoil.nonce.clone().unwrap_or_else(|| nonce.to_owned()),
    )));
    let key = signing_key(if spoil.other_key { OTHER_KEY } else { KEY });
    CoreIdToken::new(
        claims,
        &key,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        Some(&AccessToken::new(access.to_owned())),
        None,
    )
    .expect("signed ID token")
    .to_string()
}

async fn logout(
    State(stand): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let back = query.get("post_logout_redirect_uri").cloned();
    stand.lock().expect("stand").logouts.push(query);
    match back {
        Some(back) => (StatusCode::FOUND, [(LOCATION, back)]).into_response(),
        None => (StatusCode::OK, "logged out").into_response(),
    }
}

async fn user_details(State(stand): State<Shared>, headers: HeaderMap) -> Response {
    let stand = stand.lock().expect("stand");
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !bearer.is_some_and(|b| stand.access_tokens.iter().any(|t| t == b)) {
        return refuse(StatusCode::UNAUTHORIZED, "invalid_token");
    }
    let id: u64 = stand.user.subject.bytes().map(u64::from).sum();
    axum::Json(json!({
        "version": "0.6",
        "user": { "id": id, "display_name": stand.user.name, "account_created": "2020-01-01" }
    }))
    .into_response()
}

/// Standard base64 with padding, as HTTP Basic authentication writes it.
fn base64_of(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}
