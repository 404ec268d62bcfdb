//! Sending requests: the one retry loop (one time budget per request), the
//! authorization in force with one renewal after a 401, bounded bodies, the
//! request observer, and transport failures turned into errors.

use std::future::Future;
use std::time::{Instant, SystemTime};

use futures_util::future::BoxFuture;
use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION};
use reqwest::{Method, Response, StatusCode};
use url::Url;

use super::auth::Scope;
use super::client::{redact_url, Registry, RequestRecord, CONNECT_TIMEOUT};
use super::direct::Direct;
use super::error::{
    cause_chain, innermost, parse_error_body, ErrorInfo, Hint, RegistryError, Result,
};
use super::redirect::{next_leg, Leg};
use super::retry::{io_causes, is_reset, retry_after, retryable_status, Backoff};
use super::tls;
use super::tokens::AuthHeader;

/// Largest error body read, for its error codes.
pub(crate) const MAX_ERROR_BODY: usize = 64 * 1024;

/// A request body, kept so that the request can be sent again.
pub(crate) struct Body {
    /// Its `Content-Type`.
    pub content_type: Option<String>,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// A whole answer: status, headers, the URL it came from (after redirects) and
/// the body, read up to a limit (an error's, a little of it; empty when it could
/// not be read).
pub(crate) struct Fetched {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// Where the answer came from.
    pub url: Url,
    /// The body.
    pub body: Vec<u8>,
}

impl Fetched {
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
    /// The authorization it needs.
    pub scope: &'a Scope,
    /// The `Accept` header.
    pub accept: Option<&'static str>,
    /// The body, if any.
    pub body: Option<Body>,
    /// The most bytes of a successful answer's body read.
    pub limit: usize,
}

impl Registry {
    /// Sends `request` with the authorization its scope needs, reads the answer,
    /// and retries as its method allows ([`Retry::Idempotent`] for GET and HEAD,
    /// else [`Retry::Never`]).
    pub(crate) async fn request(&self, request: Request<'_>) -> Result<Fetched> {
        let retry = if request.method == Method::GET || request.method == Method::HEAD {
            Retry::Idempotent
        } else {
            Retry::Never
        };
        self.request_with(request, retry).await
    }

    /// GET `url` with the authorization `scope` needs, reading at most `limit`
    /// bytes of a successful answer.
    pub(crate) async fn get(
        &self,
        url: &Url,
        scope: &Scope,
        accept: Option<&'static str>,
        limit: usize,
    ) -> Result<Fetched> {
        self.request(Request {
            method: Method::GET,
            url,
            scope,
            accept,
            body: None,
            limit,
        })
        .await
    }

    /// Sends `bytes` of `content_type` (once: a write is not repeated).
    pub(crate) async fn send_body(
        &self,
        method: Method,
        url: &url::Url,
        scope: &Scope,
        content_type: Option<&str>,
        bytes: Vec<u8>,
    ) -> Result<Fetched> {
        self.request(Request {
            method,
            url,
            scope,
            accept: None,
            body: Some(Body {
                content_type: content_type.map(str::to_string),
                bytes,
            }),
            limit: MAX_ERROR_BODY,
        })
        .await
    }

    /// [`Registry::request`] with the retry rule given.
    pub(crate) async fn request_with(
        &self,
        request: Request<'_>,
        retry: Retry<'_>,
    ) -> Result<Fetched> {
        let (method, url) = (request.method.clone(), request.url);
        self.with_retries(&method, url, retry, || self.attempt(&request))
            .await
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
    ) -> Result<Fetched>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Fetched>>,
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
                return Ok(Fetched {
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
                    url: redact_url(url),
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

    /// One attempt: the request with the authorization in force (renewed once
    /// after a 401 from the registry itself), and its answer read.
    async fn attempt(&self, request: &Request<'_>) -> Result<Fetched> {
        let challenge = self.challenge().await?;
        let auth = match &challenge {
            Some(c) => self.authorization(c, request.scope, None).await?,
            None => None,
        };
        let answer = self.execute(request, auth.as_ref()).await?;
        if answer.status != StatusCode::UNAUTHORIZED {
            return Ok(answer);
        }
        if answer.url.origin() != self.base().origin() {
            // Another host's challenge (after a redirect) is never answered, and
            // its 401 says nothing about the credentials for this registry.
            return Err(RegistryError::Unauthorized {
                registry: self.host().to_string(),
                detail: format!(
                    "a redirect led to {}, which asked for credentials; regctl sends this registry's credentials only to it",
                    answer.url.origin().ascii_serialization()
                ),
                hint: Hint::CheckRedirects,
                insufficient_scope: false,
                at_token_server: false,
            });
        }
        let renewed = self
            .renewed_authorization(
                &answer.headers,
                challenge.as_ref(),
                auth.as_ref(),
                request.scope,
            )
            .await?;
        let answer = self.execute(request, renewed.as_ref()).await?;
        if answer.status == StatusCode::UNAUTHORIZED {
            return Err(self.unauthorized_for(&answer.headers, request.scope));
        }
        Ok(answer)
    }

    /// Sends the request with `auth` and reads the answer, following redirects
    /// leg by leg (`redirect.rs`): each leg on the direct path when it can take
    /// it, else through the full client for its origin.
    pub(crate) async fn execute(
        &self,
        request: &Request<'_>,
        auth: Option<&AuthHeader>,
    ) -> Result<Fetched> {
        let mut leg = Leg {
            method: request.method.clone(),
            url: request.url.clone(),
            body: request.body.as_ref(),
            auth: auth.filter(|_| self.is_own_origin(request.url)),
        };
        let own = self.base().origin();
        let mut followed = 0;
        loop {
            let answer = match self.direct_for(&leg) {
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
                        url: redact_url(&leg.url),
                        reason,
                    })
                }
            }
        }
    }

    /// The direct path and the leg's URI, when the leg can take it: a GET or
    /// HEAD without a body, to the registry's own origin.
    fn direct_for(&self, leg: &Leg<'_>) -> Option<(&Direct, http::Uri)> {
        let direct = self.direct()?;
        let reads = leg.method == Method::GET || leg.method == Method::HEAD;
        if !reads || leg.body.is_some() || !self.is_own_origin(&leg.url) {
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
    ) -> Result<Fetched> {
        let (method, url) = (&leg.method, &leg.url);
        // One deadline for the answer and its body, as the full client has.
        let deadline = tokio::time::Instant::now() + self.request_timeout();
        let auth = leg.auth.map(AuthHeader::header_value);
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
        if let Some(body) = leg.body {
            if let Some(content_type) = &body.content_type {
                builder = builder.header(reqwest::header::CONTENT_TYPE, content_type);
            }
            builder = builder.body(body.bytes.clone());
        }
        if let Some(auth) = leg.auth {
            builder = builder.header(AUTHORIZATION, auth.header_value());
        }
        self.dispatch(&leg.method, &leg.url, builder).await
    }

    /// Sends a built request within the in-flight bound and tells the observer.
    pub(crate) async fn dispatch(
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
                url: redact_url(url),
                status: result.as_ref().ok().map(status),
                elapsed: started.elapsed(),
            });
        }
        result
    }

    /// Turns a reqwest failure into a TLS, timeout or transport error.
    pub(crate) fn transport_error(
        &self,
        method: &Method,
        url: &Url,
        err: &reqwest::Error,
    ) -> RegistryError {
        self.failure(method, url, err, err.is_connect(), err.is_timeout())
    }

    /// Turns a failure of the direct path into a TLS or transport error (its
    /// timeout is [`Registry::timed_out`]).
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
            url: redact_url(url),
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
            tls::Peer::Registry
        } else {
            tls::Peer::Elsewhere(&host)
        };
        if let Some(tls_err) = tls::explain(err, self.host(), peer, &self.options().tls) {
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
            url: redact_url(url),
            detail,
            hint: None,
            reset: !timeout && is_reset(err),
        }
    }
}

/// Why a connection through `proxy` to `host` failed: the proxy itself could
/// not be reached (an I/O error is always the proxy's: no other connection is
/// made), or it would not open the tunnel.
fn through_proxy(
    proxy: &super::proxy::Chosen,
    host: &str,
    err: &(dyn std::error::Error + 'static),
) -> String {
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
pub(crate) async fn read_answer(resp: Response, limit: usize, url: &Url) -> Result<Fetched> {
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
) -> Result<Fetched>
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
    Ok(Fetched {
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
        url: redact_url(url),
        reason: format!("the body is larger than {limit} bytes"),
    };
    // The announced length, when the body has one.
    if body.size_hint().lower() > limit as u64 {
        return Err(too_large());
    }
    let mut body = std::pin::pin!(body);
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            let timeout = has_timed_out(&e);
            RegistryError::Transport {
                method: "reading body of".into(),
                url: redact_url(url),
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

/// `host:port` of a URL, for messages.
pub(crate) fn authority(url: &Url) -> String {
    let host = url.host_str().unwrap_or("?");
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}
