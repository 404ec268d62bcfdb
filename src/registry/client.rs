//! The face of the client: [`Registry`], one registry's client, built over the
//! authenticator (`auth.rs`), itself over the transport (`transport.rs`). The
//! operations by resource add its methods in files of their own (`catalog.rs`,
//! `tags.rs`, `manifests.rs`, `blobs.rs`, `referrers.rs`), through the few
//! crate-visible methods here; this file imports none of them.

use reqwest::header::HeaderMap;
use reqwest::Method;
use url::Url;

use super::auth::{AuthHeader, Authenticator, Challenge, CredentialCheck, Scope};
use super::credential::Resolved;
use super::error::{RegistryError, Result};
use super::limits::{DEFAULT_MAX_LIST_ITEMS, MAX_ERROR_BODY};
use super::options::ClientOptions;
use super::proxy::{Chosen, ProxyEnv};
use super::redirect::Body;
use super::retry::RetryPolicy;
use super::tag_deletion::LearntTagDeletion;
use super::transport::{Answer, Request, Retry, Transport};

/// A client for one registry (`host[:port]`). Cheap to share behind an `Arc`;
/// requests may run concurrently and reuse connections and tokens.
pub struct Registry {
    auth: Authenticator,
    max_list_items: usize,
    tag_deletion: LearntTagDeletion,
    /// Set once the registry answered 404 to the referrers API: it has none,
    /// and is not asked again in this run.
    no_referrers_api: std::sync::atomic::AtomicBool,
}

impl Registry {
    /// A client for `host` (`host[:port]`), with the credential to use, if any.
    pub fn new(host: &str, opts: ClientOptions, credential: Option<Resolved>) -> Result<Self> {
        let max_list_items = opts.max_list_items.unwrap_or(DEFAULT_MAX_LIST_ITEMS);
        let transport = Transport::new(host, opts)?;
        Ok(Registry {
            auth: Authenticator::new(transport, credential),
            max_list_items,
            tag_deletion: LearntTagDeletion::default(),
            no_referrers_api: std::sync::atomic::AtomicBool::new(false),
        })
    }

    fn transport(&self) -> &Transport {
        self.auth.transport()
    }

    /// The registry host, as given.
    pub fn host(&self) -> &str {
        self.transport().host()
    }

    /// The most items one listing may hold.
    pub fn max_list_items(&self) -> usize {
        self.max_list_items
    }

    /// The retry settings in force.
    pub fn retry_policy(&self) -> &RetryPolicy {
        self.transport().retry_policy()
    }

    /// True when requests carry credentials (else they are anonymous).
    pub fn has_credential(&self) -> bool {
        self.auth.has_credential()
    }

    /// `https://host:port/` (or `http://` for plain HTTP).
    pub fn base(&self) -> &Url {
        self.transport().base()
    }

    /// Whether the registry deletes tags itself, as learnt so far.
    pub(crate) fn learnt_tag_deletion(&self) -> &LearntTagDeletion {
        &self.tag_deletion
    }

    /// Whether the registry was found to have no referrers API.
    pub(crate) fn learnt_no_referrers_api(&self) -> &std::sync::atomic::AtomicBool {
        &self.no_referrers_api
    }

    /// The proxy a request to `url` goes through, if any.
    pub fn proxy_for(&self, url: &Url) -> Option<&Chosen> {
        self.transport().proxy_for(url)
    }

    /// The environment's proxy settings.
    pub fn proxy_env(&self) -> &ProxyEnv {
        self.transport().proxy_env()
    }

    /// Checks the client's credential as `docker login` does: `GET /v2/` with it
    /// (Basic), or a token from the realm for no particular scope (Bearer), then
    /// `GET /v2/` with that token. A refusal is [`RegistryError::Unauthorized`].
    pub async fn check_credentials(&self) -> Result<CredentialCheck> {
        self.auth.check_credentials().await
    }

    /// Fetches tokens for many scopes ahead of use, a few scopes per token
    /// request (the token spec allows several `scope` parameters), so that
    /// listing a thousand repositories costs a few dozen token requests, not a
    /// thousand. Does nothing unless the registry uses bearer tokens; a failed
    /// batch leaves its requests to fetch their own tokens.
    pub async fn prefetch_tokens(&self, scopes: &[Scope]) {
        self.auth.prefetch_tokens(scopes).await;
    }

    /// The credential in use, and where it was found.
    pub(crate) fn resolved(&self) -> Option<&Resolved> {
        self.auth.resolved()
    }

    /// `base` joined with `path` (a path relative to the registry root).
    pub(crate) fn url(&self, path: &str) -> Result<Url> {
        self.transport().url(path)
    }

    /// Sends `request` with the authorization `scope` needs, reads the answer,
    /// and retries as its method allows ([`Retry::Idempotent`] for GET and HEAD,
    /// else [`Retry::Never`]).
    pub(crate) async fn request(&self, request: Request<'_>, scope: &Scope) -> Result<Answer> {
        let retry = if request.method == Method::GET || request.method == Method::HEAD {
            Retry::Idempotent
        } else {
            Retry::Never
        };
        self.auth.send(request, scope, retry).await
    }

    /// [`Registry::request`] with the retry rule given.
    pub(crate) async fn request_with(
        &self,
        request: Request<'_>,
        scope: &Scope,
        retry: Retry<'_>,
    ) -> Result<Answer> {
        self.auth.send(request, scope, retry).await
    }

    /// GET `url` with the authorization `scope` needs, reading at most `limit`
    /// bytes of a successful answer.
    pub(crate) async fn get(
        &self,
        url: &Url,
        scope: &Scope,
        accept: Option<&'static str>,
        limit: usize,
    ) -> Result<Answer> {
        let request = Request {
            method: Method::GET,
            url,
            accept,
            body: None,
            limit,
            headers: HeaderMap::new(),
        };
        self.request(request, scope).await
    }

    /// Sends `bytes` of `content_type`, with further `headers` (once: a write
    /// is not repeated).
    pub(crate) async fn send_body(
        &self,
        (method, url, scope): (Method, &Url, &Scope),
        content_type: Option<&str>,
        bytes: bytes::Bytes,
        headers: HeaderMap,
    ) -> Result<Answer> {
        let request = Request {
            method,
            url,
            accept: None,
            body: Some(Body {
                content_type: content_type.map(str::to_string),
                bytes,
            }),
            limit: MAX_ERROR_BODY,
            headers,
        };
        self.request(request, scope).await
    }

    /// The error for an unexpected answer: 403 denied, 404 not found (`what`),
    /// 405 unsupported, else the status with the registry's error codes.
    pub(crate) fn error_for(
        &self,
        method: &Method,
        url: &Url,
        answer: &Answer,
        what: &str,
    ) -> RegistryError {
        self.transport().error_for(method, url, answer, what)
    }

    /// The registry's challenge, from `GET /v2/` (asked once per client).
    pub(crate) async fn challenge(&self) -> Result<Option<Challenge>> {
        self.auth.challenge().await
    }

    /// The authorization for `scope` under `challenge`.
    pub(crate) async fn authorization(
        &self,
        challenge: &Challenge,
        scope: &Scope,
    ) -> Result<Option<AuthHeader>> {
        self.auth.authorization(challenge, scope, None).await
    }

    /// `GET /v2/` (`url`) without credentials, once, as it comes.
    pub(crate) async fn api_root(&self, url: &Url) -> Result<Answer> {
        self.auth.api_root(url).await
    }
}
