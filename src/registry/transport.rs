//! Sending requests, knowing nothing of authentication: the HTTP clients of one
//! registry (its own origin with its TLS settings, any other origin without
//! them, and the direct path), redirects followed leg by leg, the one retry loop
//! (one time budget per request), bounded bodies, the in-flight bound, the
//! request observer, transport failures turned into errors, and the error for
//! an unexpected answer. An `Authorization` value is given to it by the layer
//! above (`auth.rs`) as an opaque header, sent on the registry's own origin only.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use futures_util::future::BoxFuture;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION};
use reqwest::{Method, Response, StatusCode};
use url::Url;

use super::direct::Direct;
use super::error::{
    cause_chain, describe, innermost, parse_error_body, ErrorInfo, RegistryError, Result,
};
use super::hint::Hint;
use super::limits::{
    CONNECT_TIMEOUT, DEFAULT_MAX_IN_FLIGHT, DEFAULT_TIMEOUT, MAX_ERROR_BODY, MAX_IDLE_CONNECTIONS,
    USER_AGENT,
};
use super::options::{ClientOptions, Observer, RequestRecord};
use super::proxy::{Chosen, ProxyEnv};
use super::redact::{authority, DisplaySafeUrl};
use super::redirect::{next_leg, Body, Leg};
use super::retry::{io_causes, is_reset, retry_after, retryable_status, Backoff, RetryPolicy};
use super::{tls, tls_words};

/// A whole answer: status, headers, the URL it came from (after redirects) and
/// the body, read up to a limit (an error's, a little of it; empty when it could
/// not be read).
#[derive(Debug)]
pub(crate) struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// Where the answer came from.
    pub url: Url,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The spec's error entries in the body (none when it is not that shape):
    /// the one place an error body is parsed.
    pub fn errors(&self) -> Vec<ErrorInfo> {
        parse_error_body(&self.body)
    }
}

/// When a request may be sent again after a retryable answer (408, 429, 5xx) or
/// a connection reset.
pub(crate) enum Retry<'a> {
    /// Reading requests (GET, HEAD): sent again.
    Idempotent,
    /// Requests that change something (PUT, POST): sent once.
    Never,
    /// A deletion: sent again only when `done` says it has not taken effect (a
    /// DELETE answered 5xx may have been carried out).
    UnlessDone(&'a (dyn Fn() -> BoxFuture<'a, bool> + Sync)),
}

/// What a request is: everything needed to send it again.
pub(crate) struct Request<'a> {
    /// The method.
    pub method: Method,
    /// The URL.
    pub url: &'a Url,
    /// The `Accept` header.
    pub accept: Option<&'static str>,
    /// The body, if any.
    pub body: Option<Body>,
    /// The most bytes of a successful answer's body read.
    pub limit: usize,
    /// Further headers (`Range`, `Content-Range`), sent on every leg.
    pub headers: HeaderMap,
}

/// The HTTP side of one registry (`host[:port]`): its connection pools, the
/// in-flight bound, and the options that shape every request.
pub(crate) struct Transport {
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
    proxy: Arc<ProxyEnv>,
    in_flight: tokio::sync::Semaphore,
    opts: ClientOptions,
}

impl Transport {
    /// The transport for `host` (`host[:port]`), through the environment's
    /// proxies.
    pub(crate) fn new(host: &str, opts: ClientOptions) -> Result<Self> {
        Transport::with_proxies(host, opts, ProxyEnv::from_env())
    }

    /// The transport for `host` (`host[:port]`), through the proxies `proxy`
    /// names.
    pub(crate) fn with_proxies(host: &str, opts: ClientOptions, proxy: ProxyEnv) -> Result<Self> {
        let scheme = if opts.plain_http { "http" } else { "https" };
        let base = Url::parse(&format!("{scheme}://{host}/"))
            .map_err(|e| RegistryError::Config(format!("registry `{host}`: {e}")))?;
        // The registry's origin alone gets its TLS settings (--insecure, certs.d,
        // a client certificate); with plain HTTP too, for the direct path. Any
        // other origin is verified with the system's store and the CA files.
        let tls_config = tls::client_config(host, &opts.tls)?;
        let proxy = Arc::new(proxy);
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
        let max_in_flight = opts.max_in_flight.unwrap_or(DEFAULT_MAX_IN_FLIGHT).max(1);
        Ok(Transport {
            host: host.to_string(),
            base,
            http: build(tls_config)?,
            elsewhere: build(tls::elsewhere_config(&opts.tls)?)?,
            direct,
            proxy,
            in_flight: tokio::sync::Semaphore::new(max_in_flight),
            opts,
        })
    }

    /// The registry host, as given.
    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    /// `https://host:port/` (or `http://` for plain HTTP).
    pub(crate) fn base(&self) -> &Url {
        &self.base
    }

    /// `base` joined with `path` (a path relative to the registry root).
    pub(crate) fn url(&self, path: &str) -> Result<Url> {
        self.base
            .join(path)
            .map_err(|e| RegistryError::Config(format!("bad URL path `{path}`: {e}")))
    }

    /// True when the registry is talked to over plain HTTP.
    pub(crate) fn plain_http(&self) -> bool {
        self.opts.plain_http
    }

    /// The retry settings in force.
    pub(crate) fn retry_policy(&self) -> &RetryPolicy {
        &self.opts.retry
    }

    /// The client for requests to `url`: the registry's own, for its origin
    /// only; for any other, the one that applies none of its TLS settings.
    fn http_for(&self, url: &Url) -> &reqwest::Client {
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
    pub(crate) fn proxy_for(&self, url: &Url) -> Option<&Chosen> {
        self.proxy.proxy_for(url)
    }

    /// The environment's proxy settings.
    pub(crate) fn proxy_env(&self) -> &ProxyEnv {
        &self.proxy
    }

    fn direct(&self) -> Option<&Direct> {
        self.direct.as_ref()
    }

    /// The time a request (its answer and body) may take.
    fn request_timeout(&self) -> Duration {
        self.opts.timeout.unwrap_or(DEFAULT_TIMEOUT)
    }

    fn observer(&self) -> Option<&Observer> {
        self.opts.observer.as_ref()
    }

    /// A place among the requests in flight (waits while the bound is reached).
    async fn in_flight_permit(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        // The semaphore is never closed, so acquiring only waits.
        self.in_flight.acquire().await.ok()
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
        let errors = answer.errors();
        let detail = if errors.is_empty() {
            format!("HTTP {}", answer.status.as_u16())
        } else {
            describe(&errors)
        };
        match answer.status {
            StatusCode::FORBIDDEN => RegistryError::Denied {
                method: method.to_string(),
                url: DisplaySafeUrl::from(url),
                detail,
            },
            StatusCode::NOT_FOUND => RegistryError::NotFound {
                what: what.to_string(),
                detail,
            },
            StatusCode::METHOD_NOT_ALLOWED => RegistryError::Unsupported {
                registry: self.host().to_string(),
                operation: format!("{method} on {what}"),
                detail,
                hint: None,
            },
            _ => RegistryError::Status {
                method: method.to_string(),
                url: DisplaySafeUrl::from(url),
                status: answer.status.as_u16(),
                errors,
                attempts: 1,
            },
        }
    }

    /// The retry loop, the only one: runs `attempt` until it gives an answer that
    /// is not worth retrying, or the policy (attempts, time budget) says stop, or
    /// `retry` forbids it. An error it gives up on is final: it is marked so that
    /// no caller retries it again.
    pub(crate) async fn with_retries<F, Fut>(
        &self,
        method: &Method,
        url: &Url,
        retry: Retry<'_>,
        mut attempt: F,
    ) -> Result<Answer>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Answer>>,
    {
        let mut backoff = Backoff::new(self.retry_policy());
        loop {
            let outcome = attempt().await;
            let wait = match (&outcome, &retry) {
                (_, Retry::Never) => None,
                (Ok(f), _) if retryable_status(f.status) => {
                    Some(retry_after(&f.headers, SystemTime::now()))
                }
                (Err(RegistryError::Transport { reset: true, .. }), _) => Some(None),
                _ => None,
            };
            let Some(wait) = wait else { return outcome };
            let worth_it = match &retry {
                Retry::UnlessDone(done) => !done().await,
                _ => true,
            };
            if !worth_it {
                // It took effect although the answer said otherwise: accepted.
                return Ok(Answer {
                    status: StatusCode::ACCEPTED,
                    headers: HeaderMap::new(),
                    url: url.clone(),
                    body: Vec::new(),
                });
            }
            if backoff.wait(wait).await {
                continue;
            }
            return match outcome {
                Ok(f) => Err(RegistryError::Status {
                    method: method.to_string(),
                    url: DisplaySafeUrl::from(url),
                    status: f.status.as_u16(),
                    errors: f.errors(),
                    attempts: backoff.attempts(),
                }),
                Err(RegistryError::Transport {
                    method,
                    url,
                    detail,
                    hint,
                    ..
                }) => Err(RegistryError::Transport {
                    method,
                    url,
                    detail,
                    hint,
                    reset: false,
                }),
                Err(e) => Err(e),
            };
        }
    }

    /// Sends the request with `auth` and reads the answer, following redirects
    /// leg by leg (`redirect.rs`): each leg on the direct path when it can take
    /// it, else through the full client for its origin.
    pub(crate) async fn execute(
        &self,
        request: &Request<'_>,
        auth: Option<&HeaderValue>,
    ) -> Result<Answer> {
        let mut leg = Leg {
            method: request.method.clone(),
            url: request.url.clone(),
            body: request.body.as_ref(),
            auth: auth.filter(|_| self.is_own_origin(request.url)),
        };
        let own = self.base().origin();
        let mut followed = 0;
        loop {
            let answer = match self.direct_for(request, &leg) {
                Some((direct, uri)) => self.send_direct(direct, uri, request, &leg).await?,
                None => {
                    let resp = self.send_full(request, &leg).await?;
                    read_answer(resp, request.limit, &leg.url).await?
                }
            };
            match next_leg(&leg, answer.status, &answer.headers, followed, &own) {
                Ok(Some(next)) => {
                    leg = next;
                    followed += 1;
                }
                Ok(None) => return Ok(answer),
                Err(reason) => {
                    return Err(RegistryError::InvalidResponse {
                        url: DisplaySafeUrl::from(&leg.url).to_string(),
                        reason,
                    })
                }
            }
        }
    }

    /// The direct path and the leg's URI, when the leg can take it: a GET or
    /// HEAD without a body, to the registry's own origin.
    fn direct_for(&self, request: &Request<'_>, leg: &Leg<'_>) -> Option<(&Direct, http::Uri)> {
        let direct = self.direct()?;
        let reads = leg.method == Method::GET || leg.method == Method::HEAD;
        let plain = request.headers.is_empty();
        if !reads || !plain || leg.body.is_some() || !self.is_own_origin(&leg.url) {
            return None;
        }
        Some((direct, leg.url.as_str().parse().ok()?))
    }

    /// A leg on the direct path, its answer read, all within the request
    /// timeout.
    async fn send_direct(
        &self,
        direct: &Direct,
        uri: http::Uri,
        request: &Request<'_>,
        leg: &Leg<'_>,
    ) -> Result<Answer> {
        let (method, url) = (&leg.method, &leg.url);
        // One deadline for the answer and its body, as the full client has.
        let deadline = tokio::time::Instant::now() + self.request_timeout();
        let auth = leg.auth.cloned();
        let sent = async {
            match tokio::time::timeout_at(deadline, direct.send(method, uri, request.accept, auth))
                .await
            {
                Ok(Ok(resp)) => Ok(resp),
                Ok(Err(e)) => Err(self.direct_error(method, url, &e)),
                Err(_) => Err(self.timed_out(method, url)),
            }
        };
        let resp = self
            .observed(method, url, sent, |r| r.status().as_u16())
            .await?;
        let (head, body) = resp.into_parts();
        let read = read_body(
            head.status,
            head.headers,
            url.clone(),
            body,
            request.limit,
            url,
        );
        tokio::time::timeout_at(deadline, read)
            .await
            .unwrap_or_else(|_| Err(self.timed_out(method, url)))
    }

    /// A leg through the full client for its origin (reqwest): proxies.
    async fn send_full(&self, request: &Request<'_>, leg: &Leg<'_>) -> Result<Response> {
        let mut builder = self
            .http_for(&leg.url)
            .request(leg.method.clone(), leg.url.clone());
        if let Some(accept) = request.accept {
            builder = builder.header(ACCEPT, accept);
        }
        if !request.headers.is_empty() {
            builder = builder.headers(request.headers.clone());
        }
        if let Some(body) = leg.body {
            if let Some(content_type) = &body.content_type {
                builder = builder.header(reqwest::header::CONTENT_TYPE, content_type);
            }
            builder = builder.body(body.bytes.clone());
        }
        if let Some(auth) = leg.auth {
            builder = builder.header(AUTHORIZATION, auth.clone());
        }
        self.dispatch(&leg.method, &leg.url, builder).await
    }

    /// Sends `request` once through the full client for its URL's origin,
    /// with `auth` whatever the origin, and follows no redirect: for the token
    /// server, whose redirect is an answer of its own.
    pub(crate) async fn send_unfollowed(
        &self,
        request: &Request<'_>,
        auth: Option<&HeaderValue>,
    ) -> Result<Answer> {
        let leg = Leg {
            method: request.method.clone(),
            url: request.url.clone(),
            body: request.body.as_ref(),
            auth,
        };
        let resp = self.send_full(request, &leg).await?;
        read_answer(resp, request.limit, request.url).await
    }

    /// Sends a built request within the in-flight bound and tells the observer.
    async fn dispatch(
        &self,
        method: &Method,
        url: &Url,
        request: reqwest::RequestBuilder,
    ) -> Result<Response> {
        self.observed(method, url, request.send(), |r| r.status().as_u16())
            .await
            .map_err(|e| self.transport_error(method, url, &e))
    }

    /// Runs `send` within the in-flight bound and tells the observer what came
    /// of it.
    async fn observed<T, E>(
        &self,
        method: &Method,
        url: &Url,
        send: impl Future<Output = std::result::Result<T, E>>,
        status: fn(&T) -> u16,
    ) -> std::result::Result<T, E> {
        let _permit = self.in_flight_permit().await;
        let started = Instant::now();
        let result = send.await;
        if let Some(observer) = self.observer() {
            observer(&RequestRecord {
                method: method.clone(),
                url: DisplaySafeUrl::from(url),
                status: result.as_ref().ok().map(status),
                elapsed: started.elapsed(),
            });
        }
        result
    }

    /// Turns a reqwest failure into a TLS, timeout or transport error.
    fn transport_error(&self, method: &Method, url: &Url, err: &reqwest::Error) -> RegistryError {
        self.failure(method, url, err, err.is_connect(), err.is_timeout())
    }

    /// Turns a failure of the direct path into a TLS or transport error (its
    /// timeout is [`Transport::timed_out`]).
    fn direct_error(
        &self,
        method: &Method,
        url: &Url,
        err: &hyper_util::client::legacy::Error,
    ) -> RegistryError {
        let timed_out =
            err.is_connect() && io_causes(err).any(|io| io.kind() == std::io::ErrorKind::TimedOut);
        self.failure(method, url, err, err.is_connect(), timed_out)
    }

    /// The error for a request that had no answer within the request timeout.
    fn timed_out(&self, method: &Method, url: &Url) -> RegistryError {
        RegistryError::Transport {
            method: method.to_string(),
            url: DisplaySafeUrl::from(url),
            detail: format!(
                "no answer from {} within {} s",
                authority(url),
                self.request_timeout().as_secs()
            ),
            hint: Some(Hint::RaiseTimeout),
            reset: false,
        }
    }

    /// A request's failure as a TLS, timeout or transport error: `connect` when
    /// no connection could be made, `timeout` when time ran out.
    fn failure(
        &self,
        method: &Method,
        url: &Url,
        err: &(dyn std::error::Error + 'static),
        connect: bool,
        timeout: bool,
    ) -> RegistryError {
        let host = authority(url);
        let peer = if self.is_own_origin(url) {
            tls_words::Peer::Registry
        } else {
            tls_words::Peer::Elsewhere(&host)
        };
        if let Some(tls_err) = tls_words::explain(err, self.host(), peer, &self.opts.tls) {
            return tls_err;
        }
        if timeout && !connect {
            return self.timed_out(method, url);
        }
        let detail = if connect && timeout {
            format!(
                "cannot connect to {} within {} s (the connect timeout)",
                authority(url),
                CONNECT_TIMEOUT.as_secs()
            )
        } else if let (true, Some(proxy)) = (connect, self.proxy_for(url)) {
            through_proxy(proxy, &host, err)
        } else if connect {
            format!("cannot connect to {}: {}", authority(url), innermost(err))
        } else {
            // The HTTP stack's own message repeats the URL; its causes say what happened.
            err.source().map_or_else(|| err.to_string(), cause_chain)
        };
        RegistryError::Transport {
            method: method.to_string(),
            url: DisplaySafeUrl::from(url),
            detail,
            hint: None,
            reset: !timeout && is_reset(err),
        }
    }
}

/// Why a connection through `proxy` to `host` failed: the proxy itself could
/// not be reached (an I/O error is always the proxy's: no other connection is
/// made), or it would not open the tunnel.
fn through_proxy(proxy: &Chosen, host: &str, err: &(dyn std::error::Error + 'static)) -> String {
    let shown = format!("the proxy {} (from {})", proxy.shown(), proxy.variable);
    if io_causes(err).next().is_some() {
        format!(
            "cannot connect to {shown}, through which {host} is reached: {}; check that the \
             proxy runs, or add {host} to NO_PROXY to reach it directly",
            innermost(err)
        )
    } else {
        format!(
            "cannot connect to {host} through {shown}: {}; check that the proxy may reach \
             {host}, or add {host} to NO_PROXY to reach it directly",
            innermost(err)
        )
    }
}

/// Reads an answer of the full client: at most `limit` bytes of a success's
/// body; of an error's, a little (for its error codes), or nothing if that
/// cannot be read.
async fn read_answer(resp: Response, limit: usize, url: &Url) -> Result<Answer> {
    let from = resp.url().clone();
    let (head, body) = http::Response::<reqwest::Body>::from(resp).into_parts();
    read_body(head.status, head.headers, from, body, limit, url).await
}

/// An answer whose head came (`status`, `headers`, from `from`), with its body
/// read: at most `limit` bytes of a success's; of an error's, a little (for its
/// error codes), or nothing if that cannot be read.
async fn read_body<B>(
    status: StatusCode,
    headers: HeaderMap,
    from: Url,
    body: B,
    limit: usize,
    url: &Url,
) -> Result<Answer>
where
    B: http_body::Body<Data = bytes::Bytes>,
    B::Error: std::error::Error + 'static,
{
    let body = if status.is_success() {
        read_limited(body, limit, url).await?
    } else {
        match read_limited(body, MAX_ERROR_BODY, url).await {
            Ok(body) => body,
            // A reset is worth another attempt; anything else leaves the codes out.
            Err(e @ RegistryError::Transport { reset: true, .. }) => return Err(e),
            Err(_) => Vec::new(),
        }
    };
    Ok(Answer {
        status,
        headers,
        url: from,
        body,
    })
}

/// Reads at most `limit` bytes of body; more is an error naming the URL.
async fn read_limited<B>(body: B, limit: usize, url: &Url) -> Result<Vec<u8>>
where
    B: http_body::Body<Data = bytes::Bytes>,
    B::Error: std::error::Error + 'static,
{
    use http_body_util::BodyExt;
    let too_large = || RegistryError::InvalidResponse {
        url: DisplaySafeUrl::from(url).to_string(),
        reason: format!("the body is larger than {limit} bytes"),
    };
    // The announced length, when the body has one.
    if body.size_hint().lower() > limit as u64 {
        return Err(too_large());
    }
    // An announced length is taken at its word (within the limit): one
    // allocation, not a doubling vector's several.
    let announced = body.size_hint().exact().unwrap_or(0).min(limit as u64) as usize;
    let mut body = std::pin::pin!(body);
    let mut bytes = Vec::with_capacity(announced);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            let timeout = has_timed_out(&e);
            RegistryError::Transport {
                method: "reading body of".into(),
                url: DisplaySafeUrl::from(url),
                detail: if timeout {
                    format!("no data from {} within the timeout", authority(url))
                } else {
                    cause_chain(&e)
                },
                hint: timeout.then_some(Hint::RaiseTimeout),
                reset: !timeout && is_reset(&e),
            }
        })?;
        if let Ok(data) = frame.into_data() {
            if bytes.len() + data.len() > limit {
                return Err(too_large());
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok(bytes)
}

/// True when the full client gave up reading for its timeout.
fn has_timed_out(err: &(dyn std::error::Error + 'static)) -> bool {
    err.downcast_ref::<reqwest::Error>()
        .is_some_and(reqwest::Error::is_timeout)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::test_server::{answer, TestServer};

    /// A transport to `addr` over plain HTTP, with no proxy, retrying at once.
    fn transport_to(addr: &str) -> Transport {
        let opts = ClientOptions {
            plain_http: true,
            retry: RetryPolicy {
                retries: 2,
                base: Duration::ZERO,
                max_backoff: Duration::ZERO,
                ..RetryPolicy::default()
            },
            ..ClientOptions::default()
        };
        Transport::with_proxies(addr, opts, ProxyEnv::default()).unwrap()
    }

    fn get(url: &Url, limit: usize) -> Request<'_> {
        Request {
            method: Method::GET,
            url,
            accept: None,
            body: None,
            limit,
            headers: HeaderMap::new(),
        }
    }

    #[tokio::test]
    async fn a_retryable_answer_is_sent_again_unless_retries_are_forbidden() {
        let server = TestServer::start(|_, _| answer(503, &[], ""));
        let transport = transport_to(&server.addr);
        let url = transport.url("v2/").unwrap();
        let request = get(&url, 100);
        let once = transport
            .with_retries(&Method::GET, &url, Retry::Never, || {
                transport.execute(&request, None)
            })
            .await
            .unwrap();
        assert_eq!((once.status.as_u16(), server.seen().len()), (503, 1));
        let err = transport
            .with_retries(&Method::GET, &url, Retry::Idempotent, || {
                transport.execute(&request, None)
            })
            .await
            .unwrap_err();
        // Two retries after the first attempt, then the status is final.
        assert!(
            matches!(
                err,
                RegistryError::Status {
                    status: 503,
                    attempts: 3,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(server.seen().len(), 4);
    }

    #[tokio::test]
    async fn the_authorization_given_stays_on_the_registry_origin() {
        let storage = TestServer::start(|_, _| answer(200, &[], "blob"));
        let to = format!("http://{}/blob", storage.addr);
        let registry = TestServer::start(move |_, _| answer(307, &[("Location", &to)], ""));
        let transport = transport_to(&registry.addr);
        let url = transport.url("v2/app/blobs/x").unwrap();
        let auth = HeaderValue::from_static("Bearer t");
        let fetched = transport
            .execute(&get(&url, 100), Some(&auth))
            .await
            .unwrap();
        assert_eq!(
            (fetched.status.as_u16(), &fetched.body[..]),
            (200, &b"blob"[..])
        );
        assert_eq!(registry.seen()[0].header("authorization"), Some("Bearer t"));
        assert_eq!(storage.seen()[0].header("authorization"), None);
    }

    #[tokio::test]
    async fn a_body_is_read_up_to_its_limit_and_an_error_body_for_its_codes() {
        let server = TestServer::start(|seen, _| match seen.target.as_str() {
            "/big" => answer(200, &[], "0123456789A"),
            _ => answer(
                404,
                &[],
                r#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known"}]}"#,
            ),
        });
        let transport = transport_to(&server.addr);
        let big = transport.url("big").unwrap();
        let err = transport.execute(&get(&big, 10), None).await.unwrap_err();
        assert!(
            matches!(&err, RegistryError::InvalidResponse { reason, .. } if reason == "the body is larger than 10 bytes"),
            "{err:?}"
        );
        let exact = transport.execute(&get(&big, 11), None).await.unwrap();
        assert_eq!(exact.body, b"0123456789A");
        // An error's body is read for its codes whatever the success limit.
        let missing = transport.url("missing").unwrap();
        let fetched = transport.execute(&get(&missing, 10), None).await.unwrap();
        assert_eq!(fetched.errors()[0].code, "NAME_UNKNOWN");
    }

    #[tokio::test]
    async fn an_unfollowed_request_gives_the_redirect_itself() {
        let server = TestServer::start(|_, _| answer(307, &[("Location", "/elsewhere")], ""));
        let transport = transport_to(&server.addr);
        let url = transport.url("token").unwrap();
        let auth = HeaderValue::from_static("Basic abc");
        let fetched = transport
            .send_unfollowed(&get(&url, 100), Some(&auth))
            .await
            .unwrap();
        assert_eq!(fetched.status.as_u16(), 307);
        let seen = server.seen();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].header("authorization"), Some("Basic abc"));
    }

    #[test]
    fn an_unexpected_answer_becomes_the_error_its_status_means() {
        let transport = transport_to("127.0.0.1:9");
        let url = Url::parse("http://127.0.0.1:9/v2/app/manifests/v1?token=s3cret").unwrap();
        let fetched = |status: u16| Answer {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            url: url.clone(),
            body: br#"{"errors":[{"code":"DENIED","message":"no"}]}"#.to_vec(),
        };
        let error = |status| transport.error_for(&Method::GET, &url, &fetched(status), "tag v1");
        assert!(
            matches!(error(403), RegistryError::Denied { url, detail, .. } if detail == "DENIED: no" && !url.to_string().contains("s3cret"))
        );
        assert!(matches!(error(404), RegistryError::NotFound { what, .. } if what == "tag v1"));
        assert!(
            matches!(error(405), RegistryError::Unsupported { registry, operation, .. } if registry == "127.0.0.1:9" && operation == "GET on tag v1")
        );
        assert!(matches!(
            error(500),
            RegistryError::Status {
                status: 500,
                attempts: 1,
                ..
            }
        ));
    }
}
