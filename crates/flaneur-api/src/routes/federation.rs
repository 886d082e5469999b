//! The peers this instance harvests (`/api/federation/peers`): where each one is and how its
//! harvests went, so that readers know what the catalog holds from whom and how fresh it is.
//!
//! The list is public: it names public catalogs and counts what is served from them anyway.
//! The text of a harvest's last error is shown to administrators only, as it may name
//! addresses and answers from the network this instance sits in.

use axum::Json;
use axum::extract::State;
use axum::routing::on;
use chrono::{DateTime, SecondsFormat, Utc};
use flaneur_model::{Peer, PeerId};
use serde_json::{Value, json};

use super::Route;
use crate::stac::openapi::{JSON, Operation};
use axum::http::StatusCode;

use crate::error::{RemoteOrigin, err_text};
use crate::{ApiError, ApiResult, AppState, ReadAs};

/// One peer as the list shows it at `now`; `last_error` only when `with_error`.
fn peer_json(peer: &Peer, now: DateTime<Utc>, with_error: bool) -> Value {
    let harvest = &peer.harvest;
    let mut shown = json!({
        "api_url": peer.api_url,
        "source": peer.source.as_str(),
        "paused": peer.is_paused,
        "added_at": instant(Some(peer.added_at)),
        "last_attempt_at": instant(harvest.last_attempt_at),
        "last_success_at": instant(harvest.last_success_at),
        "failures": harvest.failures,
        "next_attempt_at": instant(harvest.next_attempt_at),
        "nb_collections": harvest.nb_collections,
        "nb_items": harvest.nb_items,
        "nb_conflicts": harvest.nb_conflicts,
        "harvesting_until": instant(harvest.harvesting_until(now)),
    });
    if with_error {
        shown["last_error"] = json!(harvest.last_error);
    }
    shown
}

fn instant(at: Option<DateTime<Utc>>) -> Value {
    at.map_or(Value::Null, |at| {
        json!(at.to_rfc3339_opts(SecondsFormat::Micros, true))
    })
}

/// `GET /api/federation/peers`.
pub async fn peers(
    State(state): State<AppState>,
    ReadAs(viewer): ReadAs,
) -> ApiResult<Json<Value>> {
    let peers = state.services.peers().await?;
    let now = Utc::now();
    let shown: Vec<Value> = peers
        .iter()
        .map(|peer| peer_json(peer, now, viewer.is_admin()))
        .collect();
    Ok(Json(json!({ "peers": shown })))
}

/// The routes of the federation.
pub fn routes() -> Vec<Route> {
    use axum::http::Method as M;
    let instant = json!({ "type": "string", "format": "date-time", "nullable": true });
    let peer = json!({
        "type": "object",
        "required": [
            "api_url", "source", "paused", "added_at", "last_attempt_at", "last_success_at",
            "failures", "next_attempt_at", "nb_collections", "nb_items", "nb_conflicts",
            "harvesting_until"
        ],
        "properties": {
            "api_url": { "type": "string", "format": "uri" },
            "source": { "type": "string", "enum": ["config", "admin"] },
            "paused": { "type": "boolean" },
            "added_at": { "type": "string", "format": "date-time" },
            "last_attempt_at": instant,
            "last_success_at": instant,
            "failures": { "type": "integer", "minimum": 0 },
            "next_attempt_at": instant,
            "last_error": { "type": "string", "nullable": true },
            "nb_collections": { "type": "integer", "minimum": 0 },
            "nb_items": { "type": "integer", "minimum": 0 },
            "nb_conflicts": { "type": "integer", "minimum": 0 },
            "harvesting_until": instant
        }
    });
    vec![Route::new(
        M::GET,
        "/api/federation/peers",
        |m| on(m, peers),
        Operation::new("Federation", "The peers harvested")
            .describe(
                "The other instances whose public catalogs this one harvests and serves \
                 read-only beside its own: each one's API root, whether its harvests are \
                 paused, where it was declared (`config`: the server's configuration; \
                 `admin`: `flaneur peer add`), when its harvests last started and last went \
                 through, the failures in a row since, when the next one may start, the \
                 collections and items held from it, and its conflicts: the collections it \
                 lists whose id is held here by local data or an unrelated peer, not \
                 harvested. `harvesting_until` is set while a harvest of the peer is under \
                 way, by this process or another sharing the catalog: when its lease runs \
                 out unless the harvest renews it (a harvest whose process died holds the \
                 peer until then, five minutes at most); no other harvest of the peer starts \
                 before. `last_error`, the text of the last failure, is given to \
                 administrators only.",
            )
            .header(
                "Authorization",
                "`Bearer <token>`: an administrator's API token, to read `last_error`",
            )
            .answer(
                200,
                "The peers, oldest first",
                JSON,
                json!({
                    "type": "object",
                    "required": ["peers"],
                    "properties": { "peers": { "type": "array", "items": peer } }
                }),
            )
            .errors(&[500]),
    )]
}

/// The API roots of the peers, read once for an answer showing remote data.
#[derive(Debug, Default)]
pub(super) struct PeerUrls(Vec<(PeerId, String)>);

impl PeerUrls {
    /// The peers' API roots when `is_needed` (some row to show is remote), else none.
    pub(super) async fn read(state: &AppState, is_needed: bool) -> ApiResult<PeerUrls> {
        if !is_needed {
            return Ok(PeerUrls::default());
        }
        let peers = state.services.peers().await?;
        Ok(PeerUrls(
            peers.into_iter().map(|p| (p.id, p.api_url)).collect(),
        ))
    }

    /// The API root of a peer; empty for one removed since its rows were read.
    pub(super) fn of(&self, id: PeerId) -> &str {
        self.0
            .iter()
            .find(|(known, _)| *known == id)
            .map_or("", |(_, url)| url.as_str())
    }
}

/// Names, in a refusal of a change to harvested data, the instance the data comes from and
/// where changes go: the one error mapping cannot read the catalog, so the refusal carries
/// the peer's id out of the handler and is rewritten here.
pub(crate) async fn name_origin(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut response = next.run(request).await;
    let Some(remote) = response.extensions_mut().remove::<RemoteOrigin>() else {
        return response;
    };
    let Ok(Some(peer)) = state.services.peer(remote.peer).await else {
        return response;
    };
    ApiError::new(
        StatusCode::FORBIDDEN,
        err_text(remote.kind, Some(&peer.api_url)),
    )
    .with("origin", json!(peer.api_url))
    .into_response()
}
