//! The direct path: GET and HEAD requests to the registry's own origin, sent on
//! a hyper connection pool of their own, without reqwest's layers around each
//! request (its redirect policy, URL parsing twice more, boxing). Those layers
//! were a quarter of regctl's time listing a fast registry (BENCHMARKS.md).
//!
//! Only for a registry reached without a proxy (the environment names none for
//! it), over HTTP/1.1 with the same TLS settings. A redirect is not followed here:
//! `transport.rs` sends the request again through the full client, which follows
//! it by its policy. Everything else (the retry loop, authorization, limits,
//! errors) is the transport's, whichever path a request takes.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, USER_AGENT};
use reqwest::Method;
use url::Url;

/// The connection pool of the direct path, for one registry.
pub(crate) struct Direct {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

/// What the full client sends when a request names no `Accept`.
const ANY: HeaderValue = HeaderValue::from_static("*/*");
const AGENT: HeaderValue = HeaderValue::from_static(concat!("regctl/", env!("CARGO_PKG_VERSION")));

impl Direct {
    /// A pool for the registry at `base`, or `None` when the environment sets a
    /// proxy for it (the full client goes through the proxy).
    pub(crate) fn new(
        base: &Url,
        tls: &rustls::ClientConfig,
        connect_timeout: Duration,
    ) -> Option<Direct> {
        let uri: http::Uri = base.as_str().parse().ok()?;
        if Matcher::from_system().intercept(&uri).is_some() {
            return None;
        }
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(connect_timeout));
        // The builder offers HTTP/1.1 by ALPN itself, and wants it unset.
        let mut tls = tls.clone();
        tls.alpn_protocols.clear();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_max_idle_per_host(64)
            .build(connector);
        Some(Direct { client })
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
