//! Why a harvest pass of one peer stopped. Each variant names the address that failed, which
//! also names the peer; entries a peer sends that cannot be read are not errors of the pass
//! (see [`super::parse::EntryError`]).

use std::time::Duration;

/// What stopped a harvest pass.
#[derive(Debug, thiserror::Error)]
pub enum HarvestError {
    /// The peer's configured API address cannot be used as a base for requests.
    #[error("peer API address {url} is not usable: {reason}")]
    BadApiUrl {
        /// The address as configured.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The request could not be sent or its answer not read (connection refused, TLS, reset).
    #[error("request to {url} failed: {source}")]
    Request {
        /// The address asked.
        url: String,
        /// The client's error.
        #[source]
        source: reqwest::Error,
    },
    /// The peer took longer than the per-request timeout to answer.
    #[error("request to {url} timed out after {}s", timeout.as_secs_f64())]
    Timeout {
        /// The address asked.
        url: String,
        /// The limit that ran out.
        timeout: Duration,
    },
    /// The peer answered with a status other than 200.
    #[error("peer answered {url} with HTTP status {status}")]
    Status {
        /// The address asked.
        url: String,
        /// The status received.
        status: u16,
    },
    /// The answer is not declared as JSON.
    #[error("answer of {url} is not JSON (content type {content_type:?})")]
    NotJson {
        /// The address asked.
        url: String,
        /// The `Content-Type` received, if any.
        content_type: Option<String>,
    },
    /// The answer is larger than the cap on one answer.
    #[error("answer of {url} exceeds {limit_bytes} bytes")]
    TooLarge {
        /// The address asked.
        url: String,
        /// The cap.
        limit_bytes: u64,
    },
    /// The answer does not parse as JSON.
    #[error("answer of {url} is not valid JSON: {reason}")]
    InvalidJson {
        /// The address asked.
        url: String,
        /// The parser's explanation, with line and column.
        reason: String,
    },
    /// The answer parses, but a field every page needs is missing or of the wrong type.
    #[error("answer of {url} has an invalid {field}: {reason}")]
    Shape {
        /// The address asked.
        url: String,
        /// The field (`collections`, `features`, `links`).
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A `next` link leaves the peer: another scheme, host or port, or outside its API path.
    #[error("link {url} leaves the peer ({reason}); it was not followed")]
    OffPeer {
        /// The link's target.
        url: String,
        /// Why it is refused.
        reason: String,
    },
    /// A `next` link leads back to a page already read in the same listing.
    #[error("link {url} points back to a page already read")]
    Loop {
        /// The link's target.
        url: String,
    },
    /// A listing went on for more pages than allowed.
    #[error("listing starting at {url} goes on past {max_pages} pages")]
    TooManyPages {
        /// The listing's first page.
        url: String,
        /// The cap.
        max_pages: u32,
    },
    /// The pass took longer than its time budget.
    #[error("harvest exceeded its time budget of {}s", budget.as_secs())]
    BudgetExceeded {
        /// The budget.
        budget: Duration,
    },
    /// The catalog could not record what was harvested.
    #[error("catalog failed while recording the harvest")]
    Store(#[from] flaneur_store::Error),
}

impl HarvestError {
    /// Whether the peer answered, but wrongly (not JSON, a wrong shape, too large, a link off
    /// the peer or in a loop, pages without end, a 4xx status): a fault of what it serves at
    /// that address, unlike a peer unreachable, slow or failing (5xx), or this catalog.
    pub fn is_faulty_answer(&self) -> bool {
        match self {
            HarvestError::NotJson { .. }
            | HarvestError::TooLarge { .. }
            | HarvestError::InvalidJson { .. }
            | HarvestError::Shape { .. }
            | HarvestError::OffPeer { .. }
            | HarvestError::Loop { .. }
            | HarvestError::TooManyPages { .. } => true,
            HarvestError::Status { status, .. } => (400..500).contains(status),
            HarvestError::BadApiUrl { .. }
            | HarvestError::Request { .. }
            | HarvestError::Timeout { .. }
            | HarvestError::BudgetExceeded { .. }
            | HarvestError::Store(_) => false,
        }
    }
}
