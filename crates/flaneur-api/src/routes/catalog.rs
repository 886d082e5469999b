//! The instance catalog: landing page, conformance and configuration.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::url::BaseUrl;
use crate::{ApiResult, AppState, stac};

/// `GET /api`: the STAC landing page, with every link the Panoramax viewer needs.
pub async fn landing(State(state): State<AppState>, base: BaseUrl) -> ApiResult<Json<Value>> {
    let extent = state.services.extent().await?;
    Ok(Json(stac::landing(&base, &state.info, &extent)))
}

/// `GET /api/conformance`.
pub async fn conformance() -> Json<Value> {
    Json(json!({ "conformsTo": stac::CONFORMANCE }))
}

/// `GET /api/configuration`: instance description and upload defaults.
pub async fn configuration(State(state): State<AppState>) -> Json<Value> {
    Json(stac::configuration(
        &state.info,
        &state.services.dispatch_defaults,
    ))
}
