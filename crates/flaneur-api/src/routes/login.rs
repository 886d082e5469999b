//! Browser login routes. Without a login provider they answer 501, as Panoramax instances do:
//! API tokens are the only credentials then.

use axum::http::StatusCode;

use crate::ApiError;

/// `GET /api/auth/login`, `/redirect`, `/logout` and `/post_logout_redirect` on an instance
/// without a login provider.
pub async fn not_activated() -> ApiError {
    ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "authentication is not activated on this instance",
    )
}
