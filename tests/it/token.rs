//! A token server as Distribution 2.8 expects one: RS256 JWTs whose header carries
//! `x5c` with the signing certificate, checked against `auth.token.rootcertbundle`.
//! The test user gets every action asked for; anonymous callers get `pull` only.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use crate::harness::{loopback_certificate, Auth, Options, TestRegistry, PASSWORD, USER};
use crate::http::{serve_tls, Request, Response, Server};

pub const SERVICE: &str = "regctl-test-registry";
pub const ISSUER: &str = "regctl-test-issuer";

pub struct TokenServer {
    pub server: Server,
    /// Every token issued, to check that none is ever printed.
    pub issued: Arc<Mutex<Vec<String>>>,
}

impl TokenServer {
    pub fn realm(&self) -> String {
        format!("https://127.0.0.1:{}/token", self.server.port)
    }

    /// The registry's `auth:` section for this token server.
    pub fn auth(&self) -> Auth {
        Auth::Token {
            realm: self.realm(),
            service: SERVICE.into(),
            issuer: ISSUER.into(),
            root_cert: loopback_certificate().cert.clone(),
        }
    }

    /// Token requests received.
    pub fn token_requests(&self) -> Vec<Request> {
        self.server.requests()
    }

    /// Every `scope` asked for, over all token requests, in order.
    pub fn scopes(&self) -> Vec<String> {
        self.token_requests()
            .iter()
            .flat_map(|r| {
                r.params()
                    .into_iter()
                    .filter(|(k, _)| k == "scope")
                    .map(|(_, v)| v)
            })
            .collect()
    }
}

/// Starts a token server and a TLS registry that trusts it.
pub fn registry_with_token_auth(
    populate: impl FnOnce(&crate::fixture::Storage),
) -> (TestRegistry, TokenServer) {
    registry_trusting(start(3600), true, populate)
}

/// A registry (TLS or plain HTTP) whose auth is `tokens`.
pub fn registry_trusting(
    tokens: TokenServer,
    tls: bool,
    populate: impl FnOnce(&crate::fixture::Storage),
) -> (TestRegistry, TokenServer) {
    let registry = TestRegistry::start_with(
        Options {
            auth: tokens.auth(),
            tls,
            ..Options::default()
        },
        populate,
    );
    (registry, tokens)
}

/// A token server whose tokens last `lifetime_secs`.
pub fn start(lifetime_secs: u64) -> TokenServer {
    start_with(lifetime_secs, |_| false)
}

/// A token server that answers 401 to any request for the catalog scope (as
/// some do for users allowed to pull but not to list), and serves the rest.
pub fn refusing_the_catalog() -> TokenServer {
    serve(
        3600,
        |_| false,
        |scope| scope.starts_with("registry:catalog"),
    )
}

/// A token server that answers 401 to any request for a push scope (a user
/// allowed to pull and delete, not to push), and serves the rest.
pub fn refusing_push() -> TokenServer {
    serve(3600, |_| false, |scope| scope.contains("push"))
}

/// A token server that grants only `pull`, whatever is asked for (a read-only
/// account: the token comes, without the `push` and `delete` actions).
pub fn granting_pull_only() -> TokenServer {
    serve_granting(3600, |_| false, |_| false, |action| action == "pull")
}

/// A token server that issues an already expired token (while announcing a long
/// `expires_in`) when `expired(n)` says so, n counting the tokens issued before for
/// the scopes asked (the most of any):
/// the registry then refuses a token the client believes valid.
pub fn start_with(
    lifetime_secs: u64,
    expired: impl Fn(usize) -> bool + Send + Sync + 'static,
) -> TokenServer {
    serve(lifetime_secs, expired, |_| false)
}

fn serve(
    lifetime_secs: u64,
    expired: impl Fn(usize) -> bool + Send + Sync + 'static,
    refuse: impl Fn(&str) -> bool + Send + Sync + 'static,
) -> TokenServer {
    serve_granting(lifetime_secs, expired, refuse, |_| true)
}

/// [`serve`], granting a logged-in user only the actions `grant` allows.
fn serve_granting(
    lifetime_secs: u64,
    expired: impl Fn(usize) -> bool + Send + Sync + 'static,
    refuse: impl Fn(&str) -> bool + Send + Sync + 'static,
    grant: impl Fn(&str) -> bool + Send + Sync + 'static,
) -> TokenServer {
    let pair = loopback_certificate();
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(&std::fs::read(&pair.key).unwrap()).unwrap();
    let der = CertificateDer::from_pem_file(&pair.cert).unwrap();
    let x5c = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let issued = Arc::new(Mutex::new(Vec::new()));
    let per_scope: Mutex<HashMap<String, usize>> = Mutex::new(HashMap::new());
    let record = issued.clone();
    let server = serve_tls(pair, move |req| {
        // n: how many tokens were issued before for the most-served scope asked for.
        let scopes: Vec<String> = req
            .params()
            .into_iter()
            .filter(|(k, _)| k == "scope")
            .map(|(_, v)| v)
            .collect();
        let n = {
            let mut counts = per_scope.lock().unwrap();
            let n = scopes
                .iter()
                .map(|s| counts.get(s).copied().unwrap_or(0))
                .max()
                .unwrap_or(0);
            for s in scopes {
                *counts.entry(s).or_default() += 1;
            }
            n
        };
        if req.params().iter().any(|(k, v)| k == "scope" && refuse(v)) {
            return Response::json(
                401,
                serde_json::json!({"errors":[{"code":"UNAUTHORIZED","message":"not for you"}]}),
            );
        }
        let resp = issue(req, &key, &x5c, lifetime_secs, expired(n), &grant);
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&resp.body) {
            if let Some(t) = v["token"].as_str() {
                record.lock().unwrap().push(t.to_string());
            }
        }
        resp
    });
    TokenServer { server, issued }
}

/// The refresh token (docker's `identitytoken`) this server accepts.
pub const REFRESH_TOKEN: &str = "refresh-secret-123";

fn authorized(req: &Request) -> Option<bool> {
    if req.method == "POST" {
        let params = req.params();
        let grant = params
            .iter()
            .find(|(k, _)| k == "refresh_token")
            .map(|(_, v)| v.as_str());
        return (grant == Some(REFRESH_TOKEN)).then_some(true);
    }
    let Some(header) = req.header("authorization") else {
        return Some(false);
    };
    let encoded = header.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    (decoded == format!("{USER}:{PASSWORD}").as_bytes()).then_some(true)
}

fn issue(
    req: &Request,
    key: &jsonwebtoken::EncodingKey,
    x5c: &str,
    lifetime: u64,
    expired: bool,
    grant: &dyn Fn(&str) -> bool,
) -> Response {
    let Some(logged_in) = authorized(req) else {
        return Response::json(
            401,
            serde_json::json!({"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}),
        );
    };
    let params = req.params();
    let access: Vec<serde_json::Value> = params
        .iter()
        .filter(|(k, _)| k == "scope")
        .filter_map(|(_, scope)| {
            let mut parts = scope.splitn(3, ':');
            let (kind, name, actions) = (parts.next()?, parts.next()?, parts.next()?);
            let granted: Vec<&str> = actions
                .split(',')
                .filter(|a| (logged_in && grant(a)) || *a == "pull")
                .collect();
            Some(serde_json::json!({"type": kind, "name": name, "actions": granted}))
        })
        .collect();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = serde_json::json!({
        "iss": ISSUER,
        "sub": if logged_in { USER } else { "" },
        "aud": SERVICE,
        "exp": if expired { now - 3600 } else { now + lifetime },
        "nbf": now - 7200,
        "iat": now,
        "jti": format!("{now}-{}", rand_suffix()),
        "access": access,
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.x5c = Some(vec![x5c.to_string()]);
    let token = jsonwebtoken::encode(&header, &claims, key).unwrap();
    Response::json(
        200,
        serde_json::json!({"token": token, "expires_in": lifetime}),
    )
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    COUNTER.fetch_add(1, Ordering::SeqCst)
}
