//! The viewer of a request, for handlers: whoever the authentication layer found behind it, or
//! nobody. Handlers of reads take a [`ReadAs`] and hand its viewer to the services, which
//! decide what it may see.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use flaneur_model::Viewer;

/// The viewer of the request being served: anonymous unless the authentication layer put an
/// account in the request's extensions.
#[derive(Debug, Clone, Copy)]
pub struct ReadAs(pub Viewer);

impl<S: Send + Sync> FromRequestParts<S> for ReadAs {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let viewer = parts.extensions.get::<Viewer>().copied();
        Ok(ReadAs(viewer.unwrap_or(Viewer::ANONYMOUS)))
    }
}
