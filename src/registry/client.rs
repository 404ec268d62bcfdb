//! One registry's HTTP client: connection pool, authentication, bounded bodies and
//! errors that name the request. Operations live in `listing.rs` and `manifests.rs`.

use std::error::Error as _;
use std::time::{Duration, Instant};

use base64::Engine as _;
use futures::StreamExt as _;
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, WWW_AUTHENTICATE};
use reqwest::{Method, Response, StatusCode};
use url::Url;

use super::auth::{parse_challenge, Challenge, Scope, TokenCache, TokenResponse};
use super::credential::{Credential, Resolved, Secret};
use super::error::{parse_error_body, ErrorInfo, RegistryError, Result};
use super::retry::{is_reset, worth_retrying, Backoff, RetryPolicy};
use super::tls::{self, TlsOptions};

/// Largest token response read (the token spec's answers are a few KiB).
const MAX_TOKEN_BODY: usize = 64 * 1024;
/// Scopes asked for in one token request when fetching ahead. Every request then
/// carries a token this many scopes wide, which the registry parses each time:
/// measured on Distribution 2.8 over HTTP/2 (BENCHMARKS.md), 32 scopes cost it
/// 1.41 ms of CPU per tag list, 8 scopes 1.14 ms, while 1 scope needs one token
/// request per repository. 8 keeps both costs small.
const TOKEN_BATCH: usize = 8;
/// Largest error body read, for its error codes.
const MAX_ERROR_BODY: usize = 64 * 1024;

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
    /// Talk HTTP instead of HTTPS (`--plain-http`).
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

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A whole response: status, headers and body.
pub(crate) struct Fetched {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body (empty when an error body could not be read).
    pub body: Vec<u8>,
}

/// A request body, kept so the request can be sent again after a 401.
struct Body {
    content_type: Option<String>,
    bytes: Vec<u8>,
}

/// What goes in the Authorization header.
#[derive(Clone)]
enum AuthHeader {
    Basic(Secret),
    Bearer(Secret),
}

/// A client for one registry (`host[:port]`). Cheap to share behind an `Arc`;
/// requests may run concurrently and reuse connections and tokens.
pub struct Registry {
    host: String,
    base: Url,
    http: reqwest::Client,
    token_http: reqwest::Client,
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
        let build = |redirects: reqwest::redirect::Policy| -> Result<reqwest::Client> {
            let mut builder = reqwest::Client::builder()
                .user_agent(concat!("regctl/", env!("CARGO_PKG_VERSION")))
                .timeout(opts.timeout.unwrap_or(DEFAULT_TIMEOUT))
                .connect_timeout(CONNECT_TIMEOUT)
                .redirect(redirects)
                .pool_max_idle_per_host(64);
            if !opts.plain_http {
                builder = builder.use_preconfigured_tls(tls::client_config(host, &opts.tls)?);
            }
            builder
                .build()
                .map_err(|e| RegistryError::Config(format!("HTTP client: {e}")))
        };
        Ok(Registry {
            host: host.to_string(),
            base,
            http: build(reqwest::redirect::Policy::custom(|attempt| {
                let downgrade = attempt
                    .previous()
                    .last()
                    .is_some_and(|p| p.scheme() == "https")
                    && attempt.url().scheme() != "https";
                if downgrade {
                    attempt.error("refusing a redirect from HTTPS to HTTP")
                } else if attempt.previous().len() >= 10 {
                    attempt.error("too many redirects")
                } else {
                    attempt.follow()
                }
            }))?,
            token_http: build(reqwest::redirect::Policy::none())?,
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

    /// `https://host:port/` (or `http://` with `--plain-http`).
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// `base` joined with `path` (a path relative to the registry root).
    pub(crate) fn url(&self, path: &str) -> Result<Url> {
        self.base
            .join(path)
            .map_err(|e| RegistryError::Config(format!("bad URL path `{path}`: {e}")))
    }

    /// Checks that the registry answers the v2 API, learning how it wants to be
    /// authenticated (once per client).
    pub async fn ping(&self) -> Result<()> {
        self.challenge().await.map(|_| ())
    }

    async fn challenge(&self) -> Result<Option<Challenge>> {
        self.challenge
            .get_or_try_init(|| async {
                let url = self.url("v2/")?;
                let mut backoff = Backoff::new(&self.opts.retry);
                let resp = loop {
                    let result = self.execute(Method::GET, &url, None, None, None).await;
                    match worth_retrying(&result) {
                        Some(wait) if backoff.wait(wait).await => continue,
                        // Retried here already: callers must not retry it again.
                        _ => break result.map_err(|e| match e {
                            RegistryError::Transport { method, url, detail, .. } => {
                                RegistryError::Transport { method, url, detail, reset: false }
                            }
                            other => other,
                        })?,
                    }
                };
                if resp.url().origin() != self.base.origin() {
                    // A challenge from wherever a redirect led would choose where
                    // the credentials go: only the registry's own counts.
                    return Err(RegistryError::InvalidResponse {
                        url: redact_url(&url),
                        reason: format!(
                            "GET /v2/ was redirected to another origin ({}); not followed for authentication",
                            resp.url().origin().ascii_serialization()
                        ),
                    });
                }
                match resp.status() {
                    s if s.is_success() => Ok(None),
                    StatusCode::UNAUTHORIZED => Ok(challenge_of(&resp)),
                    StatusCode::NOT_FOUND => Err(RegistryError::Unsupported {
                        registry: self.host.clone(),
                        operation: "the registry API (GET /v2/ answered 404)".into(),
                        detail: "HTTP 404".into(),
                        hint: "; is this the registry's address and port?".into(),
                    }),
                    _ => Err(self
                        .status_error(&Method::GET, &url, resp, "registry API")
                        .await),
                }
            })
            .await
            .cloned()
    }

    /// Sends a request with the authorization `scope` needs; on a 401, renews the
    /// token (or adds Basic credentials) once and tries again.
    pub(crate) async fn send(
        &self,
        method: Method,
        url: &Url,
        scope: &Scope,
        accept: Option<&'static str>,
    ) -> Result<Response> {
        self.send_with(method, url, scope, accept, None).await
    }

    /// [`Registry::send`] with a request body of `content_type`.
    pub(crate) async fn send_body(
        &self,
        method: Method,
        url: &Url,
        scope: &Scope,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<Response> {
        self.send_with(
            method,
            url,
            scope,
            None,
            Some(&Body {
                content_type: content_type.map(str::to_string),
                bytes: body,
            }),
        )
        .await
    }

    async fn send_with(
        &self,
        method: Method,
        url: &Url,
        scope: &Scope,
        accept: Option<&'static str>,
        body: Option<&Body>,
    ) -> Result<Response> {
        let idempotent = method == Method::GET || method == Method::HEAD;
        let mut backoff = Backoff::new(&self.opts.retry);
        loop {
            let result = self
                .send_authorized(method.clone(), url, scope, accept, body)
                .await;
            let wait = if idempotent {
                worth_retrying(&result)
            } else {
                None
            };
            let Some(wait) = wait else { return result };
            if backoff.wait(wait).await {
                continue;
            }
            return match result {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let errors = read_limited(resp, MAX_ERROR_BODY, url)
                        .await
                        .map(|b| parse_error_body(&b))
                        .unwrap_or_default();
                    Err(RegistryError::Status {
                        method: method.to_string(),
                        url: redact_url(url),
                        status,
                        errors,
                        attempts: backoff.attempts(),
                    })
                }
                Err(e) => Err(e),
            };
        }
    }

    /// One attempt: with the authorization in force, and on a 401 from the
    /// registry itself, renewed authorization once.
    async fn send_authorized(
        &self,
        method: Method,
        url: &Url,
        scope: &Scope,
        accept: Option<&'static str>,
        body: Option<&Body>,
    ) -> Result<Response> {
        let challenge = self.challenge().await?;
        let auth = match &challenge {
            Some(c) => self.authorization(c, scope, None).await?,
            None => None,
        };
        let resp = self
            .execute(method.clone(), url, accept, auth.as_ref(), body)
            .await?;
        if resp.status() != StatusCode::UNAUTHORIZED {
            return Ok(resp);
        }
        if resp.url().origin() != self.base.origin() {
            // Another host's challenge (after a redirect) is never answered, and
            // its 401 says nothing about the credentials for this registry.
            return Err(RegistryError::Unauthorized {
                registry: self.host.clone(),
                detail: format!(
                    "a redirect led to {}, which asked for credentials; regctl sends this registry's credentials only to it",
                    resp.url().origin().ascii_serialization()
                ),
                hint: "check the registry's redirect (storage middleware) settings",
                insufficient_scope: false,
            });
        }
        let retry_challenge = challenge_of(&resp).or(challenge);
        let stale = match &auth {
            Some(AuthHeader::Bearer(t)) => Some(t.clone()),
            _ => None,
        };
        let retry_auth = match &retry_challenge {
            Some(Challenge::Basic) if auth.is_none() && self.credential.is_some() => {
                self.authorization(&Challenge::Basic, scope, None).await?
            }
            Some(c @ Challenge::Bearer { .. }) => {
                self.authorization(c, scope, stale.as_ref()).await?
            }
            _ => return Err(self.unauthorized(&resp)),
        };
        let resp = self
            .execute(method, url, accept, retry_auth.as_ref(), body)
            .await?;
        if resp.status() == StatusCode::UNAUTHORIZED {
            return Err(self.unauthorized(&resp));
        }
        Ok(resp)
    }

    /// GET with the body read (at most `limit` bytes for a success, a little for an
    /// error); a connection reset mid-body is retried like one before the headers.
    pub(crate) async fn fetch(
        &self,
        url: &Url,
        scope: &Scope,
        accept: Option<&'static str>,
        limit: usize,
    ) -> Result<Fetched> {
        let mut backoff = Backoff::new(&self.opts.retry);
        loop {
            let resp = self.send(Method::GET, url, scope, accept).await?;
            let status = resp.status();
            let headers = resp.headers().clone();
            let limit = if status.is_success() {
                limit
            } else {
                MAX_ERROR_BODY
            };
            match read_limited(resp, limit, url).await {
                Ok(body) => {
                    return Ok(Fetched {
                        status,
                        headers,
                        body,
                    })
                }
                Err(RegistryError::Transport { reset: true, .. }) if backoff.wait(None).await => {
                    continue
                }
                Err(e) if status.is_success() => return Err(e),
                Err(_) => {
                    return Ok(Fetched {
                        status,
                        headers,
                        body: Vec::new(),
                    })
                }
            }
        }
    }

    fn unauthorized(&self, resp: &Response) -> RegistryError {
        let insufficient_scope = matches!(
            challenge_of(resp),
            Some(Challenge::Bearer { error: Some(e), .. }) if e == "insufficient_scope"
        );
        let (detail, hint) = match &self.credential {
            None => (
                "no credentials were found for it".to_string(),
                "pass --username with --password-stdin, set REGCTL_USERNAME and REGCTL_PASSWORD, or run `docker login`",
            ),
            Some(r) => (
                format!(
                    "{} from {}",
                    if insufficient_scope { "access not granted to the credentials" } else { "the registry refused the credentials" },
                    r.source
                ),
                "check the user name and password",
            ),
        };
        RegistryError::Unauthorized {
            registry: self.host.clone(),
            detail,
            hint,
            insufficient_scope,
        }
    }

    async fn authorization(
        &self,
        challenge: &Challenge,
        scope: &Scope,
        stale: Option<&Secret>,
    ) -> Result<Option<AuthHeader>> {
        match challenge {
            Challenge::Basic => Ok(self.credential.as_ref().and_then(|r| match &r.credential {
                Credential::Basic { username, password } => {
                    let raw = format!("{username}:{}", password.expose());
                    let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
                    Some(AuthHeader::Basic(Secret::new(encoded)))
                }
                Credential::IdentityToken { .. } => None,
            })),
            Challenge::Bearer { realm, service, .. } => {
                let token = self
                    .tokens
                    .get(scope, stale, || {
                        self.fetch_token(
                            realm,
                            service.as_deref(),
                            std::slice::from_ref(scope),
                            true,
                        )
                    })
                    .await?;
                Ok(Some(AuthHeader::Bearer(token)))
            }
        }
    }

    /// Fetches tokens for many scopes ahead of use, `TOKEN_BATCH` scopes per token
    /// request (the token spec allows several `scope` parameters), so that listing
    /// a thousand repositories costs a few dozen token requests, not a thousand.
    /// The scopes' cache slots are taken before the first fetch, so requests that
    /// need them wait for their batch instead of asking on their own (one that got
    /// to its slot earlier simply fetches its own token); batches are fetched in
    /// order, two at a time, so the first are ready first. Does nothing unless the
    /// registry uses bearer tokens; a failed batch leaves its requests to fetch
    /// their own tokens.
    pub async fn prefetch_tokens(&self, scopes: &[Scope]) {
        let Ok(Some(Challenge::Bearer { realm, service, .. })) = self.challenge().await else {
            return;
        };
        let mut reserved = self.tokens.reserve(scopes).await.into_iter();
        let mut batches = Vec::new();
        loop {
            let batch: Vec<_> = reserved.by_ref().take(TOKEN_BATCH).collect();
            if batch.is_empty() {
                break;
            }
            batches.push(batch);
        }
        let (realm, service) = (&realm, service.as_deref());
        futures::stream::iter(batches)
            .map(|batch| async move {
                let scopes: Vec<Scope> = batch.iter().map(|r| r.scope.clone()).collect();
                // No retries here: requests waiting on a failed batch fetch their own
                // tokens (with retries) rather than wait out this one's backoff.
                if let Ok(token) = self.fetch_token(realm, service, &scopes, false).await {
                    for reservation in batch {
                        reservation.fill(token.clone());
                    }
                }
            })
            .buffered(2)
            .collect::<Vec<()>>()
            .await;
    }

    /// Asks the realm for a token: GET with Basic credentials (or anonymously), or
    /// POST with the refresh token when the credential is an identity token.
    async fn fetch_token(
        &self,
        realm: &str,
        service: Option<&str>,
        scopes: &[Scope],
        retry: bool,
    ) -> Result<super::auth::Token> {
        let realm_url = Url::parse(realm).map_err(|e| RegistryError::InvalidResponse {
            url: self.base.to_string(),
            reason: format!("token realm `{realm}` is not a URL: {e}"),
        })?;
        if realm_url.scheme() != "https" && !(self.opts.plain_http && realm_url.scheme() == "http")
        {
            return Err(RegistryError::InvalidResponse {
                url: self.base.to_string(),
                reason: format!(
                    "token realm `{realm}` is not HTTPS; credentials are not sent to it"
                ),
            });
        }
        let mut params: Vec<(&str, String)> = Vec::new();
        if let Some(s) = service {
            params.push(("service", s.to_string()));
        }
        for scope in scopes.iter().filter(|s| **s != Scope::None) {
            params.push(("scope", scope.to_string()));
        }
        let (method, url, body, auth) = match self.credential.as_ref().map(|r| &r.credential) {
            Some(Credential::IdentityToken { token, .. }) => {
                params.push(("grant_type", "refresh_token".into()));
                params.push(("client_id", "regctl".into()));
                params.push(("refresh_token", token.expose().to_string()));
                let body = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(params.iter())
                    .finish();
                (Method::POST, realm_url, Some(body), None)
            }
            other => {
                let mut url = realm_url;
                url.query_pairs_mut().extend_pairs(params.iter());
                let auth = match other {
                    Some(Credential::Basic { username, password }) => {
                        let raw = format!("{username}:{}", password.expose());
                        Some(AuthHeader::Basic(Secret::new(
                            base64::engine::general_purpose::STANDARD.encode(raw),
                        )))
                    }
                    _ => None,
                };
                (Method::GET, url, None, auth)
            }
        };
        let mut request = self.token_http.request(method.clone(), url.clone());
        if let Some(body) = body {
            request = request
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(body);
        }
        if let Some(a) = &auth {
            request = request.header(AUTHORIZATION, header_value(a));
        }
        let no_retries = RetryPolicy {
            retries: 0,
            ..self.opts.retry.clone()
        };
        let mut backoff = Backoff::new(if retry { &self.opts.retry } else { &no_retries });
        let resp = loop {
            let attempt = request
                .try_clone()
                .ok_or_else(|| RegistryError::InvalidResponse {
                    url: redact_url(&url),
                    reason: "the token request cannot be sent again".into(),
                })?;
            let outcome = self.dispatch(&method, &url, attempt).await;
            let Some(wait) = worth_retrying(&outcome) else {
                break outcome?;
            };
            if !backoff.wait(wait).await {
                return Err(RegistryError::InvalidResponse {
                    url: redact_url(&url),
                    reason: format!(
                        "the token server kept failing ({} attempts)",
                        backoff.attempts()
                    ),
                });
            }
        };
        match resp.status() {
            s if s.is_success() => {}
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                let mut err = self.unauthorized(&resp);
                if let RegistryError::Unauthorized { detail, .. } = &mut err {
                    detail.push_str(" (at the token server)");
                }
                return Err(err);
            }
            s if s.is_redirection() => {
                return Err(RegistryError::InvalidResponse {
                    url: redact_url(&url),
                    reason: format!("the token server answered a redirect ({s}); token requests do not follow redirects"),
                })
            }
            _ => return Err(self.status_error(&method, &url, resp, "token").await),
        }
        let bytes = read_limited(resp, MAX_TOKEN_BODY, &url).await?;
        let parsed: TokenResponse = parse_json(&bytes, &url)?;
        parsed
            .into_token()
            .ok_or_else(|| RegistryError::InvalidResponse {
                url: redact_url(&url),
                reason: "the token response carries no token".into(),
            })
    }

    async fn execute(
        &self,
        method: Method,
        url: &Url,
        accept: Option<&'static str>,
        auth: Option<&AuthHeader>,
        body: Option<&Body>,
    ) -> Result<Response> {
        let mut request = self.http.request(method.clone(), url.clone());
        if let Some(accept) = accept {
            request = request.header(ACCEPT, accept);
        }
        if let Some(body) = body {
            if let Some(content_type) = &body.content_type {
                request = request.header(reqwest::header::CONTENT_TYPE, content_type);
            }
            request = request.body(body.bytes.clone());
        }
        if let Some(auth) = auth {
            request = request.header(AUTHORIZATION, header_value(auth));
        }
        self.dispatch(&method, url, request).await
    }

    async fn dispatch(
        &self,
        method: &Method,
        url: &Url,
        request: reqwest::RequestBuilder,
    ) -> Result<Response> {
        // The semaphore is never closed, so acquiring only waits.
        let _permit = self.in_flight.acquire().await.ok();
        let started = Instant::now();
        let result = request.send().await;
        if let Some(observer) = &self.opts.observer {
            observer(&RequestRecord {
                method: method.clone(),
                url: redact_url(url),
                status: result.as_ref().ok().map(|r| r.status().as_u16()),
                elapsed: started.elapsed(),
            });
        }
        result.map_err(|e| self.transport_error(method, url, &e))
    }

    /// Turns a reqwest failure into a TLS, timeout or transport error.
    pub(crate) fn transport_error(
        &self,
        method: &Method,
        url: &Url,
        err: &reqwest::Error,
    ) -> RegistryError {
        if let Some(tls_err) = tls::explain(err, &self.host, &self.opts.tls) {
            return tls_err;
        }
        let detail = if err.is_connect() && err.is_timeout() {
            format!(
                "cannot connect to {} within {} s (the connect timeout)",
                authority(url),
                CONNECT_TIMEOUT.as_secs()
            )
        } else if err.is_timeout() {
            format!(
                "no answer from {} within {} s (raise --timeout if the registry is slow)",
                authority(url),
                self.opts.timeout.unwrap_or(DEFAULT_TIMEOUT).as_secs()
            )
        } else if err.is_connect() {
            format!("cannot connect to {}: {}", authority(url), innermost(err))
        } else {
            // reqwest's own message repeats the URL; its causes say what happened.
            err.source().map_or_else(|| err.to_string(), cause_chain)
        };
        RegistryError::Transport {
            method: method.to_string(),
            url: redact_url(url),
            detail,
            reset: !err.is_timeout() && is_reset(err),
        }
    }

    /// The error for an unexpected status: 403 denied, 404 not found (`what`),
    /// 405 unsupported, else the status with the registry's error codes.
    pub(crate) async fn status_error(
        &self,
        method: &Method,
        url: &Url,
        resp: Response,
        what: &str,
    ) -> RegistryError {
        let status = resp.status();
        let body = read_limited(resp, MAX_ERROR_BODY, url)
            .await
            .unwrap_or_default();
        self.error_for(method, url, status, &body, what)
    }

    /// [`Registry::status_error`] for a response already read.
    pub(crate) fn error_for(
        &self,
        method: &Method,
        url: &Url,
        status: StatusCode,
        body: &[u8],
        what: &str,
    ) -> RegistryError {
        let errors = parse_error_body(body);
        let detail = if errors.is_empty() {
            format!("HTTP {}", status.as_u16())
        } else {
            super::error::describe(&errors)
        };
        match status {
            StatusCode::FORBIDDEN => RegistryError::Denied {
                method: method.to_string(),
                url: redact_url(url),
                detail,
            },
            StatusCode::NOT_FOUND => RegistryError::NotFound {
                what: what.to_string(),
                detail,
            },
            StatusCode::METHOD_NOT_ALLOWED => RegistryError::Unsupported {
                registry: self.host.clone(),
                operation: format!("{method} on {what}"),
                detail,
                hint: String::new(),
            },
            _ => RegistryError::Status {
                method: method.to_string(),
                url: redact_url(url),
                status: status.as_u16(),
                errors,
                attempts: 1,
            },
        }
    }

    /// The status and error entries of a failed response, for callers that
    /// handle particular codes themselves.
    pub(crate) async fn error_entries(
        &self,
        resp: Response,
        url: &Url,
    ) -> (StatusCode, Vec<ErrorInfo>) {
        let status = resp.status();
        let errors = read_limited(resp, MAX_ERROR_BODY, url)
            .await
            .map(|b| parse_error_body(&b))
            .unwrap_or_default();
        (status, errors)
    }
}

fn header_value(auth: &AuthHeader) -> HeaderValue {
    let text = match auth {
        AuthHeader::Basic(v) => format!("Basic {}", v.expose()),
        AuthHeader::Bearer(v) => format!("Bearer {}", v.expose()),
    };
    // Tokens and base64 are visible ASCII; a value that is not becomes an empty
    // header, which the registry refuses with a 401 like any bad credential.
    let mut value = HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""));
    value.set_sensitive(true);
    value
}

fn challenge_of(resp: &Response) -> Option<Challenge> {
    resp.headers()
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(parse_challenge)
}

/// Reads at most `limit` bytes of body; more is an error naming the URL.
pub(crate) async fn read_limited(mut resp: Response, limit: usize, url: &Url) -> Result<Vec<u8>> {
    let too_large = || RegistryError::InvalidResponse {
        url: redact_url(url),
        reason: format!("the body is larger than {limit} bytes"),
    };
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => {
                return Err(RegistryError::Transport {
                    method: "reading body of".into(),
                    url: redact_url(url),
                    detail: if e.is_timeout() {
                        format!("no data from {} within the timeout (raise --timeout if the registry is slow)", authority(url))
                    } else {
                        cause_chain(&e)
                    },
                    reset: !e.is_timeout() && is_reset(&e),
                })
            }
        }
    }
}

/// Parses JSON, naming the URL when it is invalid or truncated.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8], url: &Url) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| RegistryError::InvalidResponse {
        url: redact_url(url),
        reason: format!("invalid JSON: {}", crate::text::escape(&e.to_string())),
    })
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

/// `host:port` of a URL, for messages.
fn authority(url: &Url) -> String {
    let host = url.host_str().unwrap_or("?");
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// The deepest cause of `err`, looking inside io::Errors.
fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
    let mut last = err;
    while let Some(next) = last.source().or_else(|| {
        last.downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map(|e| e as &(dyn std::error::Error + 'static))
    }) {
        last = next;
    }
    last.to_string()
}

/// An error and its causes, joined with `: `, without repeats.
fn cause_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = Some(err);
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
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
