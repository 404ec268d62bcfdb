//! The direct path: GET and HEAD requests to the registry's own origin, sent on
//! a hyper connection pool of their own, without reqwest's layers around each
//! request (its redirect policy, URL parsing twice more, boxing). Those layers
//! were a quarter of regctl's time listing a fast registry (BENCHMARKS.md).
//!
//! Only for a registry reached without a proxy (the environment names none for
//! it), over HTTP/1.1 with the same TLS settings, User-Agent, connect timeout
//! (TCP and TLS) and keepalive. A redirect is not followed here: `transport.rs`
//! follows it leg by leg, each leg on the path and client its origin calls for.
//! Everything else (the retry loop, authorization, limits, errors, the request
//! log) is the transport's, whichever path a request takes.
//!
//! Kept beside reqwest, a second HTTP stack, because it was measured to pay for
//! itself: `BASE=<this build with no direct path> RUNS=11 bench/fast`
//! (BENCHMARKS.md, "One HTTP stack or two"), the same source with and without
//! it, alternating runs on one machine: `ls --digests` of 11,002 requests took
//! 0.442 s with it against 0.504 s without (removing it: 1.14x the wall time)
//! and 18.7 against 26.3 µs of client CPU per request (1.41x). The bar for
//! removing it was under 10%. Measure again before adding to it or removing it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, USER_AGENT};
use reqwest::Method;

use super::limits::{CONNECT_TIMEOUT, MAX_IDLE_CONNECTIONS, USER_AGENT as AGENT_TEXT};

type Connector = ConnectWithin<hyper_rustls::HttpsConnector<HttpConnector>>;

/// The connection pool of the direct path, for one registry.
pub(crate) struct Direct {
    client: Client<Connector, Empty<Bytes>>,
}

/// What the full client sends when a request names no `Accept`.
const ANY: HeaderValue = HeaderValue::from_static("*/*");
const AGENT: HeaderValue = HeaderValue::from_static(AGENT_TEXT);

impl Direct {
    /// A pool for the registry; made only when the environment sets no proxy
    /// for it (`proxy.rs` decides; the full client goes through the proxy).
    pub(crate) fn new(tls: &rustls::ClientConfig) -> Direct {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_keepalive(Some(Duration::from_secs(15)));
        let mut tls = tls.clone();
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let connector = ConnectWithin {
            inner: hyper_rustls::HttpsConnector::from((http, Arc::new(tls))),
            limit: CONNECT_TIMEOUT,
        };
        let client = Client::builder(TokioExecutor::new())
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_max_idle_per_host(MAX_IDLE_CONNECTIONS)
            .build(connector);
        Direct { client }
    }

    /// Sends a request without a body to `uri` and gives the answer's head, its
    /// body still to be read.
    pub(crate) async fn send(
        &self,
        method: &Method,
        uri: http::Uri,
        accept: Option<&'static str>,
        authorization: Option<HeaderValue>,
    ) -> Result<http::Response<Incoming>, hyper_util::client::legacy::Error> {
        let mut request = http::Request::new(Empty::new());
        *request.method_mut() = method.clone();
        *request.uri_mut() = uri;
        let headers = request.headers_mut();
        headers.insert(USER_AGENT, AGENT);
        headers.insert(ACCEPT, accept.map_or(ANY, HeaderValue::from_static));
        if let Some(value) = authorization {
            headers.insert(AUTHORIZATION, value);
        }
        self.client.request(request).await
    }
}

/// A connector whose connections (TCP and the TLS handshake) must be made
/// within `limit`, as the full client's; running out is an I/O `TimedOut`.
#[derive(Clone)]
struct ConnectWithin<C> {
    inner: C,
    limit: Duration,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<C> tower_service::Service<http::Uri> for ConnectWithin<C>
where
    C: tower_service::Service<http::Uri>,
    C::Future: Send + 'static,
    C::Error: Into<BoxError>,
{
    type Response = C::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<C::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let connecting = self.inner.call(uri);
        let limit = self.limit;
        Box::pin(async move {
            match tokio::time::timeout(limit, connecting).await {
                Ok(connected) => connected.map_err(Into::into),
                Err(_) => Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no connection within {} s", limit.as_secs()),
                )
                .into()),
            }
        })
    }
}
