//! How to reach registries: [`ClientOptions`], and the request log it may ask
//! for ([`Observer`], [`RequestRecord`]).

use std::time::Duration;

use reqwest::Method;

use super::redact::DisplaySafeUrl;
use super::retry::RetryPolicy;
use super::tls::TlsOptions;

/// One line of the request log (`-v`): never carries credentials.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    /// HTTP method.
    pub method: Method,
    /// The URL, shown with secret-looking query values replaced by `***`.
    pub url: DisplaySafeUrl,
    /// Response status, or `None` when no response came.
    pub status: Option<u16>,
    /// Time from sending to the response headers.
    pub elapsed: Duration,
}

/// Receives a [`RequestRecord`] for each request sent.
pub type Observer = std::sync::Arc<dyn Fn(&RequestRecord) + Send + Sync>;

/// How to reach registries.
#[derive(Clone, Default)]
pub struct ClientOptions {
    /// Certificate verification.
    pub tls: TlsOptions,
    /// Talk HTTP instead of HTTPS.
    pub plain_http: bool,
    /// Per-request timeout (`None`: 30 s).
    pub timeout: Option<Duration>,
    /// Called for every request sent.
    pub observer: Option<Observer>,
    /// Retries of idempotent requests.
    pub retry: RetryPolicy,
    /// Requests in flight at once, across all callers (`None`: 16).
    pub max_in_flight: Option<usize>,
    /// The most items one listing (catalog, tags, referrers) may hold (`None`:
    /// [`DEFAULT_MAX_LIST_ITEMS`](super::limits::DEFAULT_MAX_LIST_ITEMS)).
    pub max_list_items: Option<usize>,
}
