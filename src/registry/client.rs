//! One registry's client: its options and construction (connection pools, TLS,
//! the in-flight bound) and what the other parts share. Sending is in
//! `transport.rs`, authentication in `tokens.rs`, operations by resource in
//! `manifests.rs`, `blobs.rs`, `catalog.rs` and `tags.rs`; media types and
//! descriptors in `media.rs`.

use std::time::Duration;

use reqwest::Method;
use url::Url;

use super::auth::{Challenge, TokenCache};
use super::credential::{Credential, Resolved};
use super::direct::Direct;
use super::error::{RegistryError, Result};
use super::proxy::ProxyEnv;
use super::retry::RetryPolicy;
use super::tls::{self, TlsOptions};

/// One line of the request log (`-v`): never carries credentials.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    /// HTTP method.
    pub method: Method,
    /// The URL, with secret-looking query values replaced by `***`.
    pub url: String,
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
    /// [`DEFAULT_MAX_LIST_ITEMS`]).
    pub max_list_items: Option<usize>,
}

/// The most items a listing holds unless told otherwise.
pub const DEFAULT_MAX_LIST_ITEMS: usize = 1_000_000;

/// The per-request timeout unless told otherwise.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a connection may take to open (TCP and TLS).
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The `User-Agent` of every request.
pub(crate) const USER_AGENT: &str = concat!("regctl/", env!("CARGO_PKG_VERSION"));
/// Idle connections kept per pool.
pub(crate) const MAX_IDLE_CONNECTIONS: usize = 64;

/// A client for one registry (`host[:port]`). Cheap to share behind an `Arc`;
/// requests may run concurrently and reuse connections and tokens.
pub struct Registry {
    host: String,
    base: Url,
    /// Requests to the registry's own origin, with its TLS settings.
    http: reqwest::Client,
    /// GET and HEAD to the registry itself, when no proxy is set for it.
    direct: Option<Direct>,
    /// Requests to any other origin (a token realm, a redirect target): the
    /// system's trust store and the CA files given, nothing of the registry's.
    elsewhere: reqwest::Client,
    /// The environment's proxies, read once: every path decides by them.
    proxy: std::sync::Arc<ProxyEnv>,
    credential: Option<Resolved>,
    challenge: tokio::sync::OnceCell<Option<Challenge>>,
    tokens: TokenCache,
    in_flight: tokio::sync::Semaphore,
    /// Whether the registry deletes tags itself: 0 not known yet, 1 yes, 2 no.
    pub(crate) tag_deletion: std::sync::atomic::AtomicU8,
    opts: ClientOptions,
}

impl Registry {
    /// A client for `host` (`host[:port]`), with the credential to use, if any.
    pub fn new(host: &str, opts: ClientOptions, credential: Option<Resolved>) -> Result<Self> {
        let scheme = if opts.plain_http { "http" } else { "https" };
        let base = Url::parse(&format!("{scheme}://{host}/"))
            .map_err(|e| RegistryError::Config(format!("registry `{host}`: {e}")))?;
        // The registry's origin alone gets its TLS settings (--insecure, certs.d,
        // a client certificate); with plain HTTP too, for the direct path. Any
        // other origin is verified with the system's store and the CA files.
        let tls_config = tls::client_config(host, &opts.tls)?;
        let proxy = std::sync::Arc::new(ProxyEnv::from_env());
        let build = |tls: rustls::ClientConfig| -> Result<reqwest::Client> {
            let env = proxy.clone();
            reqwest::Client::builder()
                // The proxy decision is regctl's own (`proxy.rs`), so that the
                // direct path, the messages and `doctor` agree with it.
                .proxy(reqwest::Proxy::custom(move |url| {
                    env.proxy_for(url).map(|chosen| chosen.url.clone())
                }))
                .user_agent(USER_AGENT)
                .timeout(opts.timeout.unwrap_or(DEFAULT_TIMEOUT))
                .connect_timeout(CONNECT_TIMEOUT)
                // Redirects are followed by the transport, leg by leg, each on
                // the client for its origin; no Referer tells a leg where it came from.
                .redirect(reqwest::redirect::Policy::none())
                .referer(false)
                .pool_max_idle_per_host(MAX_IDLE_CONNECTIONS)
                .use_preconfigured_tls(tls)
                .build()
                .map_err(|e| RegistryError::Config(format!("HTTP client: {e}")))
        };
        let direct = match proxy.proxy_for(&base) {
            Some(_) => None,
            None => Some(Direct::new(&tls_config)),
        };
        Ok(Registry {
            host: host.to_string(),
            base,
            http: build(tls_config)?,
            elsewhere: build(tls::elsewhere_config(&opts.tls)?)?,
            direct,
            proxy,
            credential,
            challenge: tokio::sync::OnceCell::new(),
            tokens: TokenCache::default(),
            in_flight: tokio::sync::Semaphore::new(opts.max_in_flight.unwrap_or(16).max(1)),
            tag_deletion: std::sync::atomic::AtomicU8::new(0),
            opts,
        })
    }

    /// The registry host, as given.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The most items one listing may hold.
    pub fn max_list_items(&self) -> usize {
        self.opts.max_list_items.unwrap_or(DEFAULT_MAX_LIST_ITEMS)
    }

    /// The retry settings in force.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.opts.retry
    }

    /// True when requests carry credentials (else they are anonymous).
    pub fn has_credential(&self) -> bool {
        self.credential.is_some()
    }

    /// `https://host:port/` (or `http://` for plain HTTP).
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// `base` joined with `path` (a path relative to the registry root).
    pub(crate) fn url(&self, path: &str) -> Result<Url> {
        self.base
            .join(path)
            .map_err(|e| RegistryError::Config(format!("bad URL path `{path}`: {e}")))
    }

    /// The client for requests to `url`: the registry's own, for its origin
    /// only; for any other, the one that applies none of its TLS settings.
    pub(crate) fn http_for(&self, url: &Url) -> &reqwest::Client {
        if self.is_own_origin(url) {
            &self.http
        } else {
            &self.elsewhere
        }
    }

    /// True when `url` is on the registry's own origin (scheme, host and port).
    pub(crate) fn is_own_origin(&self, url: &Url) -> bool {
        url.origin() == self.base.origin()
    }

    /// The proxy a request to `url` goes through, if any.
    pub fn proxy_for(&self, url: &Url) -> Option<&super::proxy::Chosen> {
        self.proxy.proxy_for(url)
    }

    /// The environment's proxy settings.
    pub fn proxy_env(&self) -> &ProxyEnv {
        &self.proxy
    }

    pub(crate) fn direct(&self) -> Option<&Direct> {
        self.direct.as_ref()
    }

    pub(crate) fn options(&self) -> &ClientOptions {
        &self.opts
    }

    /// The time a request (its answer and body) may take.
    pub(crate) fn request_timeout(&self) -> Duration {
        self.opts.timeout.unwrap_or(DEFAULT_TIMEOUT)
    }

    pub(crate) fn observer(&self) -> Option<&Observer> {
        self.opts.observer.as_ref()
    }

    /// The credential in use, and where it was found.
    pub(crate) fn resolved(&self) -> Option<&Resolved> {
        self.credential.as_ref()
    }

    /// The credential in use.
    pub(crate) fn credential(&self) -> Option<&Credential> {
        self.credential.as_ref().map(|r| &r.credential)
    }

    pub(crate) fn challenge_cell(&self) -> &tokio::sync::OnceCell<Option<Challenge>> {
        &self.challenge
    }

    pub(crate) fn tokens(&self) -> &TokenCache {
        &self.tokens
    }

    /// A place among the requests in flight (waits while the bound is reached).
    pub(crate) async fn in_flight_permit(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        // The semaphore is never closed, so acquiring only waits.
        self.in_flight.acquire().await.ok()
    }
}

/// The URL with secret-looking query values replaced by `***`.
pub fn redact_url(url: &Url) -> String {
    const SECRET_WORDS: [&str; 6] = ["token", "password", "secret", "key", "sig", "credential"];
    let mut redacted = url.clone();
    // User info a server put in a URL (a Location, a Link) is a credential too.
    if !url.username().is_empty() || url.password().is_some() {
        let _ = redacted.set_username("***");
        let _ = redacted.set_password(None);
    }
    if url.query().is_none() {
        return redacted.to_string();
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let lower = k.to_ascii_lowercase();
            let hidden = SECRET_WORDS.iter().any(|w| lower.contains(w));
            (
                k.into_owned(),
                if hidden {
                    "***".to_string()
                } else {
                    v.into_owned()
                },
            )
        })
        .collect();
    redacted.query_pairs_mut().clear().extend_pairs(pairs);
    redacted.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_secret_query_values() {
        let url = Url::parse(
            "https://r.example/token?service=s&refresh_token=abc&X-Amz-Signature=zz&scope=a",
        )
        .unwrap();
        let shown = redact_url(&url);
        assert!(!shown.contains("abc") && !shown.contains("zz"), "{shown}");
        assert!(shown.contains("service=s") && shown.contains("scope=a"));
        assert_eq!(
            redact_url(&Url::parse("https://r.example/v2/").unwrap()),
            "https://r.example/v2/"
        );
    }

    #[test]
    fn redacts_user_info_in_urls() {
        for raw in [
            "https://user:hunter2@r.example/v2/_catalog?last=a",
            "https://hunter2@r.example/v2/",
            "https://:hunter2@r.example/v2/",
        ] {
            let shown = redact_url(&Url::parse(raw).unwrap());
            assert!(
                !shown.contains("hunter2") && !shown.contains("user"),
                "{shown}"
            );
            assert!(shown.starts_with("https://***@r.example/v2/"), "{shown}");
        }
    }
}
