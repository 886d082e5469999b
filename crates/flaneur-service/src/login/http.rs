//! The HTTP client of the login providers: the tree's reqwest behind the interface the OAuth 2
//! and OpenID Connect crates call, so that no second client or TLS stack comes with them.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use oauth2::{AsyncHttpClient, HttpRequest, HttpResponse};

/// Longest answer read from a provider: discovery documents and key sets are a few KiB.
const MAX_ANSWER_BYTES: usize = 1 << 20;

/// How long one call to a provider may take.
const TIMEOUT: Duration = Duration::from_secs(15);

/// Why a call to a provider failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The provider could not be reached, or the exchange broke off.
    #[error("request to the login provider failed")]
    Request(#[from] reqwest::Error),
    /// The answer was larger than any a provider sends.
    #[error("answer of the login provider over {MAX_ANSWER_BYTES} bytes")]
    TooLarge,
    /// The answer could not be represented (an invalid header).
    #[error("answer of the login provider not understood: {0}")]
    Malformed(String),
}

/// Calls to the login provider.
#[derive(Debug, Clone)]
pub struct ProviderHttp {
    client: reqwest::Client,
}

impl ProviderHttp {
    /// A client that never follows redirects: a provider answering the token request with
    /// a redirect could otherwise send the code and secret on to another host.
    ///
    /// # Errors
    /// Fails when the TLS backend cannot be set up.
    pub fn new() -> Result<ProviderHttp, HttpError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .build()?;
        Ok(ProviderHttp { client })
    }

    /// The underlying client, for the calls made outside the OAuth crates.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let (parts, body) = request.into_parts();
        let mut response = self
            .client
            .request(parts.method, parts.uri.to_string())
            .headers(parts.headers)
            .body(body)
            .send()
            .await?;
        let mut builder = oauth2::http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            builder = builder.header(name, value);
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(HttpError::TooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        builder
            .body(bytes)
            .map_err(|e| HttpError::Malformed(e.to_string()))
    }
}

impl<'c> AsyncHttpClient<'c> for ProviderHttp {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}
