//! A small HTTP/1.1 server over TLS (or plain TCP) for the token server and for
//! faults a real registry cannot be made to produce. Keep-alive, Content-Length
//! bodies, one thread per connection; records every request.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::harness::CertPair;

#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Whether the client presented a certificate in the TLS handshake (asked
    /// for by [`serve_tls_asking_for_client_certificates`] only).
    pub client_certificate: bool,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Query (and, for form posts, body) parameters, decoded.
    pub fn params(&self) -> Vec<(String, String)> {
        let query = self.target.split_once('?').map_or("", |(_, q)| q);
        let mut params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        if self
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
        {
            params.extend(url::form_urlencoded::parse(&self.body).into_owned());
        }
        params
    }
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// A fault to act out instead of answering normally.
    pub fault: Option<Fault>,
}

/// Misbehaviour a real registry cannot be made to show.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// Say nothing for this long, then answer.
    Stall(std::time::Duration),
    /// Send the headers (with the full Content-Length) and this many body bytes, then close.
    CutBodyAfter(usize),
    /// Close the connection without answering.
    Close,
}

impl Response {
    pub fn json(status: u16, value: serde_json::Value) -> Self {
        Response::raw(
            status,
            vec![("Content-Type".into(), "application/json".into())],
            serde_json::to_vec(&value).unwrap(),
        )
    }

    pub fn raw(status: u16, headers: Vec<(String, String)>, body: Vec<u8>) -> Self {
        Response {
            status,
            headers,
            body,
            fault: None,
        }
    }

    pub fn with_fault(mut self, fault: Fault) -> Self {
        self.fault = Some(fault);
        self
    }
}

/// Sends `req` to a plain-HTTP server on loopback `port` (as HTTP/1.0, so the
/// answer is unchunked and ends at EOF) and returns its answer.
pub fn forward(port: u16, req: &Request) -> Response {
    let mut upstream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut head = format!("{} {} HTTP/1.0\r\n", req.method, req.target);
    for (k, v) in &req.headers {
        if !["connection", "content-length"].contains(&k.to_ascii_lowercase().as_str()) {
            head += &format!("{k}: {v}\r\n");
        }
    }
    head += &format!(
        "X-Forwarded-Proto: https\r\nContent-Length: {}\r\n\r\n",
        req.body.len()
    );
    upstream.write_all(head.as_bytes()).unwrap();
    upstream.write_all(&req.body).unwrap();
    let mut raw = Vec::new();
    upstream.read_to_end(&mut raw).unwrap();
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let text = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = text.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, _)| {
            !["content-length", "transfer-encoding", "connection"]
                .contains(&k.to_ascii_lowercase().as_str())
        })
        .collect();
    Response::raw(status, headers, raw[end + 4..].to_vec())
}

type Handler = dyn Fn(&Request) -> Response + Send + Sync;

pub struct Server {
    pub port: u16,
    stop: Arc<AtomicBool>,
    pub requests: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Serves HTTPS with `cert` on a free loopback port.
pub fn serve_tls(
    cert: &CertPair,
    handler: impl Fn(&Request) -> Response + Send + Sync + 'static,
) -> Server {
    let config = tls_config(cert, |builder| builder.with_no_client_auth());
    serve(Some(config), Arc::new(handler))
}

/// Serves HTTPS with `cert` on a free loopback port, asking each client for a
/// certificate signed by `client_ca` (a client without one is served too;
/// [`Request::client_certificate`] says whether one came).
pub fn serve_tls_asking_for_client_certificates(
    cert: &CertPair,
    client_ca: &std::path::Path,
    handler: impl Fn(&Request) -> Response + Send + Sync + 'static,
) -> Server {
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_file_iter(client_ca).unwrap() {
        roots.add(ca.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .allow_unauthenticated()
            .build()
            .unwrap();
    let config = tls_config(cert, |builder| builder.with_client_cert_verifier(verifier));
    serve(Some(config), Arc::new(handler))
}

type ServerBuilder = rustls::ConfigBuilder<rustls::ServerConfig, rustls::WantsVerifier>;
type WithClientAuth = rustls::ConfigBuilder<rustls::ServerConfig, rustls::server::WantsServerCert>;

fn tls_config(
    cert: &CertPair,
    client_auth: impl FnOnce(ServerBuilder) -> WithClientAuth,
) -> Arc<rustls::ServerConfig> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert.cert)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(&cert.key).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap();
    Arc::new(client_auth(builder).with_single_cert(certs, key).unwrap())
}

/// Serves plain HTTP on a free loopback port.
pub fn serve_plain(handler: impl Fn(&Request) -> Response + Send + Sync + 'static) -> Server {
    serve(None, Arc::new(handler))
}

fn serve(tls: Option<Arc<rustls::ServerConfig>>, handler: Arc<Handler>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let (stop2, requests2) = (stop.clone(), requests.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            if stop2.load(Ordering::SeqCst) {
                break;
            }
            let Ok(stream) = stream else { continue };
            // Answers go out whole, without waiting on Nagle's algorithm (which,
            // with the client's delayed ACK, costs 40 ms per request).
            let _ = stream.set_nodelay(true);
            let (handler, requests, tls) = (handler.clone(), requests2.clone(), tls.clone());
            std::thread::spawn(move || match tls {
                Some(config) => {
                    let Ok(conn) = rustls::ServerConnection::new(config) else {
                        return;
                    };
                    let mut tls = rustls::StreamOwned::new(conn, stream);
                    // A refused handshake records no request.
                    while tls.conn.is_handshaking() {
                        if tls.conn.complete_io(&mut tls.sock).is_err() {
                            return;
                        }
                    }
                    let presented = tls.conn.peer_certificates().is_some();
                    connection(tls, &*handler, &requests, presented);
                }
                None => connection(stream, &*handler, &requests, false),
            });
        }
    });
    Server {
        port,
        stop,
        requests,
    }
}

fn connection<S: Read + Write>(
    mut stream: S,
    handler: &Handler,
    requests: &Mutex<Vec<Request>>,
    client_certificate: bool,
) {
    let mut buf = Vec::new();
    loop {
        let Some(mut request) = read_request(&mut stream, &mut buf) else {
            return;
        };
        request.client_certificate = client_certificate;
        requests.lock().unwrap().push(request.clone());
        let resp = handler(&request);
        if let Some(Fault::Stall(d)) = resp.fault {
            std::thread::sleep(d);
        }
        if let Some(Fault::Close) = resp.fault {
            return;
        }
        let mut head = format!(
            "HTTP/1.1 {} X\r\nContent-Length: {}\r\n",
            resp.status,
            resp.body.len()
        );
        for (k, v) in &resp.headers {
            head += &format!("{k}: {v}\r\n");
        }
        head += "\r\n";
        if let Some(Fault::CutBodyAfter(n)) = resp.fault {
            if stream.write_all(head.as_bytes()).is_err() {
                return;
            }
            let _ = stream.write_all(&resp.body[..n.min(resp.body.len())]);
            let _ = stream.flush();
            return;
        }
        // Head and body in one write: one TLS record, one segment.
        let mut answer = head.into_bytes();
        if request.method != "HEAD" {
            answer.extend_from_slice(&resp.body);
        }
        if stream.write_all(&answer).is_err() {
            return;
        }
        let _ = stream.flush();
    }
}

fn read_request<S: Read>(stream: &mut S, buf: &mut Vec<u8>) -> Option<Request> {
    let mut chunk = [0u8; 8192];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut chunk).ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    buf.drain(..end + 4);
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, target) = (first.next()?.to_string(), first.next()?.to_string());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < length {
        let n = stream.read(&mut chunk).ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf.drain(..length).collect();
    Some(Request {
        method,
        target,
        headers,
        body,
        client_certificate: false,
    })
}
