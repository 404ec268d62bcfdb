//! Authentication over the transport: the registry's challenge (learnt once,
//! from `GET /v2/`), the `Authorization` each request carries (Basic
//! credentials, or a Bearer token from the realm, cached per scope, fetched
//! ahead in batches, renewed once after a 401), and the error when the registry
//! or its token server refuses. The transport below knows none of this: it is
//! given the header value to send.

use futures_util::StreamExt as _;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use url::Url;

use super::challenge::challenge_of;
pub use super::challenge::{parse_challenge, parse_challenges, Challenge, Scope};
use super::credential::{basic_auth, Credential, Resolved, Secret};
use super::error::{parse_json, RegistryError, Result};
use super::hint::Hint;
use super::limits::{MAX_ERROR_BODY, MAX_TOKEN_BODY};
use super::redact::DisplaySafeUrl;
use super::redirect::Body;
use super::token_cache::{Token, TokenCache, TokenResponse};
use super::transport::{Answer, Request, Retry, Transport};

/// Scopes asked for in one token request when fetching ahead. Every request then
/// carries a token this many scopes wide, which the registry parses each time:
/// measured on Distribution 2.8 over HTTP/2 (BENCHMARKS.md), 32 scopes cost it
/// 1.41 ms of CPU per tag list, 8 scopes 1.14 ms, while 1 scope needs one token
/// request per repository. 8 keeps both costs small.
const TOKEN_BATCH: usize = 8;

/// What goes in the Authorization header.
#[derive(Clone)]
pub(crate) enum AuthHeader {
    /// `Basic <base64(user:password)>`.
    Basic(Secret),
    /// `Bearer <token>`.
    Bearer(Secret),
}

impl AuthHeader {
    /// Basic credentials, encoded once here for every use.
    pub(crate) fn basic(username: &str, password: &Secret) -> AuthHeader {
        AuthHeader::Basic(basic_auth(username, password))
    }

    /// The header value, marked sensitive (never logged by the HTTP stack).
    pub(crate) fn header_value(&self) -> HeaderValue {
        let text = match self {
            AuthHeader::Basic(v) => format!("Basic {}", v.expose()),
            AuthHeader::Bearer(v) => format!("Bearer {}", v.expose()),
        };
        // Tokens and base64 are visible ASCII; a value that is not becomes an empty
        // header, which the registry refuses with a 401 like any bad credential.
        let mut value =
            HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""));
        value.set_sensitive(true);
        value
    }
}

/// What a credential check (`Registry::check_credentials`) learned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialCheck {
    /// The registry (or its token server) accepted the credential.
    Accepted,
    /// The registry answers `/v2/` without credentials, so it could not check them.
    NotAsked,
}

/// The authenticating side of one registry's client, over its transport: the
/// credential in use, the challenge (asked once) and the tokens per scope.
pub(crate) struct Authenticator {
    transport: Transport,
    credential: Option<Resolved>,
    challenge: tokio::sync::OnceCell<Option<Challenge>>,
    tokens: TokenCache,
}

impl Authenticator {
    /// Authenticates requests over `transport` with `credential`, if any.
    pub(crate) fn new(transport: Transport, credential: Option<Resolved>) -> Self {
        Authenticator {
            transport,
            credential,
            challenge: tokio::sync::OnceCell::new(),
            tokens: TokenCache::default(),
        }
    }

    /// The transport requests go out on.
    pub(crate) fn transport(&self) -> &Transport {
        &self.transport
    }

    /// True when requests carry credentials (else they are anonymous).
    pub(crate) fn has_credential(&self) -> bool {
        self.credential.is_some()
    }

    /// The credential in use, and where it was found.
    pub(crate) fn resolved(&self) -> Option<&Resolved> {
        self.credential.as_ref()
    }

    /// The credential in use.
    fn credential(&self) -> Option<&Credential> {
        self.credential.as_ref().map(|r| &r.credential)
    }

    /// Sends `request` with the authorization `scope` needs, reads the answer,
    /// and sends it again as `retry` allows.
    pub(crate) async fn send(
        &self,
        request: Request<'_>,
        scope: &Scope,
        retry: Retry<'_>,
    ) -> Result<Answer> {
        let (method, url) = (request.method.clone(), request.url);
        self.transport
            .with_retries(&method, url, retry, || self.attempt(&request, scope))
            .await
    }

    /// One attempt: the request with the authorization in force (renewed once
    /// after a 401 from the registry itself), and its answer read.
    async fn attempt(&self, request: &Request<'_>, scope: &Scope) -> Result<Answer> {
        let challenge = self.challenge().await?;
        let auth = match &challenge {
            Some(c) => self.authorization(c, scope, None).await?,
            None => None,
        };
        let answer = self
            .transport
            .execute(
                request,
                auth.as_ref().map(AuthHeader::header_value).as_ref(),
            )
            .await?;
        if answer.status != StatusCode::UNAUTHORIZED {
            return Ok(answer);
        }
        if !self.transport.is_own_origin(&answer.url) {
            // Another host's challenge (after a redirect) is never answered, and
            // its 401 says nothing about the credentials for this registry.
            return Err(RegistryError::Unauthorized {
                registry: self.transport.host().to_string(),
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
            .renewed_authorization(&answer.headers, challenge.as_ref(), auth.as_ref(), scope)
            .await?;
        let answer = self
            .transport
            .execute(
                request,
                renewed.as_ref().map(AuthHeader::header_value).as_ref(),
            )
            .await?;
        if answer.status == StatusCode::UNAUTHORIZED {
            return Err(self.unauthorized_for(&answer.headers, scope));
        }
        Ok(answer)
    }

    /// Checks the client's credential as `docker login` does: `GET /v2/` with it
    /// (Basic), or a token from the realm for no particular scope (Bearer), then
    /// `GET /v2/` with that token. A refusal is [`RegistryError::Unauthorized`].
    pub(crate) async fn check_credentials(&self) -> Result<CredentialCheck> {
        if self.challenge().await?.is_none() {
            return Ok(CredentialCheck::NotAsked);
        }
        let url = self.transport.url("v2/")?;
        let request = Request {
            method: Method::GET,
            url: &url,
            accept: None,
            body: None,
            limit: MAX_ERROR_BODY,
            headers: HeaderMap::new(),
        };
        let answer = self.send(request, &Scope::None, Retry::Idempotent).await?;
        if answer.status.is_success() {
            Ok(CredentialCheck::Accepted)
        } else {
            Err(self
                .transport
                .error_for(&Method::GET, &url, &answer, "registry API"))
        }
    }

    /// `GET /v2/` (`url`) without credentials, once, as it comes.
    pub(crate) async fn api_root(&self, url: &Url) -> Result<Answer> {
        let request = Request {
            method: Method::GET,
            url,
            accept: None,
            body: None,
            limit: MAX_ERROR_BODY,
            headers: HeaderMap::new(),
        };
        self.transport.execute(&request, None).await
    }

    /// The registry's challenge, from `GET /v2/` (asked once per client).
    pub(crate) async fn challenge(&self) -> Result<Option<Challenge>> {
        self.challenge
            .get_or_try_init(|| async {
                let url = self.transport.url("v2/")?;
                let answer = self
                    .transport
                    .with_retries(&Method::GET, &url, Retry::Idempotent, || self.api_root(&url))
                    .await?;
                if !self.transport.is_own_origin(&answer.url) {
                    // A challenge from wherever a redirect led would choose where
                    // the credentials go: only the registry's own counts.
                    return Err(RegistryError::InvalidResponse {
                        url: DisplaySafeUrl::from(&url).to_string(),
                        reason: format!(
                            "GET /v2/ was redirected to another origin ({}); not followed for authentication",
                            answer.url.origin().ascii_serialization()
                        ),
                    });
                }
                match answer.status {
                    s if s.is_success() => Ok(None),
                    StatusCode::UNAUTHORIZED => Ok(challenge_of(&answer.headers)),
                    // Go's TLS server answers plain HTTP with a bare 400.
                    StatusCode::BAD_REQUEST if self.transport.plain_http() => {
                        Err(RegistryError::Transport {
                            method: "GET".into(),
                            url: DisplaySafeUrl::from(&url),
                            detail: "HTTP 400: the server answered plain HTTP as a TLS server does"
                                .into(),
                            hint: Some(Hint::DropPlainHttp),
                            reset: false,
                        })
                    }
                    StatusCode::NOT_FOUND => Err(RegistryError::Unsupported {
                        registry: self.transport.host().to_string(),
                        operation: "the registry API (GET /v2/ answered 404)".into(),
                        detail: "HTTP 404".into(),
                        hint: Some(Hint::CheckAddress),
                    }),
                    _ => Err(self
                        .transport
                        .error_for(&Method::GET, &url, &answer, "registry API")),
                }
            })
            .await
            .cloned()
    }

    /// The authorization for `scope` under `challenge`: Basic credentials, or a
    /// token (cached per scope; `stale` is one the registry just refused).
    pub(crate) async fn authorization(
        &self,
        challenge: &Challenge,
        scope: &Scope,
        stale: Option<&Secret>,
    ) -> Result<Option<AuthHeader>> {
        match challenge {
            Challenge::Basic => Ok(self.credential().and_then(|c| match c {
                Credential::Basic { username, password } => {
                    Some(AuthHeader::basic(username, password))
                }
                Credential::IdentityToken {
                    username,
                    password: Some(password),
                    ..
                } if !username.is_empty() => Some(AuthHeader::basic(username, password)),
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

    /// The authorization to try after `refused` (a 401 from the registry): Basic
    /// credentials where none were sent, or a new token; else the 401's error.
    async fn renewed_authorization(
        &self,
        refused: &HeaderMap,
        challenge: Option<&Challenge>,
        sent: Option<&AuthHeader>,
        scope: &Scope,
    ) -> Result<Option<AuthHeader>> {
        let challenge = challenge_of(refused).or_else(|| challenge.cloned());
        let stale = match sent {
            Some(AuthHeader::Bearer(t)) => Some(t.clone()),
            _ => None,
        };
        match &challenge {
            Some(Challenge::Basic) if sent.is_none() && self.has_credential() => {
                self.authorization(&Challenge::Basic, scope, None).await
            }
            Some(c @ Challenge::Bearer { .. }) => {
                self.authorization(c, scope, stale.as_ref()).await
            }
            _ => Err(self.unauthorized_for(refused, scope)),
        }
    }

    /// The error for the registry's 401 to a request for `scope` after a token
    /// was fetched for it: a token refused as lacking the action
    /// (`insufficient_scope`, the credentials accepted) names the action and the
    /// repository the token server did not grant; anything else is as
    /// [`Authenticator::unauthorized`].
    fn unauthorized_for(&self, headers: &HeaderMap, scope: &Scope) -> RegistryError {
        let insufficient_scope = matches!(
            challenge_of(headers),
            Some(Challenge::Bearer { error: Some(e), .. }) if e == "insufficient_scope"
        );
        let granted_nothing = matches!(scope, Scope::None);
        match self.resolved() {
            Some(r) if insufficient_scope && !granted_nothing => RegistryError::Unauthorized {
                registry: self.transport.host().to_string(),
                detail: format!(
                    "the token server accepted the credentials from {} but did not grant {}; \
                     the registry refused the token without it",
                    r.source,
                    scope.what()
                ),
                hint: Hint::AskForScope {
                    scope: scope.to_string(),
                },
                insufficient_scope,
                at_token_server: false,
            },
            _ => self.unauthorized(headers),
        }
    }

    /// The error for a 401 (or a token server's 401/403): what was refused, and
    /// what to do.
    fn unauthorized(&self, headers: &HeaderMap) -> RegistryError {
        let insufficient_scope = matches!(
            challenge_of(headers),
            Some(Challenge::Bearer { error: Some(e), .. }) if e == "insufficient_scope"
        );
        let (detail, hint) = match self.resolved() {
            None => (
                "no credentials were found for it".to_string(),
                Hint::GiveCredentials {
                    registry: self.transport.host().to_string(),
                },
            ),
            Some(r) => (
                format!(
                    "{} from {}",
                    if insufficient_scope {
                        "access not granted to the credentials"
                    } else {
                        "the registry refused the credentials"
                    },
                    r.source
                ),
                Hint::CheckCredentials,
            ),
        };
        RegistryError::Unauthorized {
            registry: self.transport.host().to_string(),
            detail,
            hint,
            insufficient_scope,
            at_token_server: false,
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
    pub(crate) async fn prefetch_tokens(&self, scopes: &[Scope]) {
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
        futures_util::stream::iter(batches)
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
    ) -> Result<Token> {
        let realm_url = Url::parse(realm).map_err(|e| RegistryError::InvalidResponse {
            url: self.transport.base().to_string(),
            reason: format!("token realm `{realm}` is not a URL: {e}"),
        })?;
        // Plain HTTP is the user's choice for the registry's own host alone (a
        // realm on another port of it included); anywhere else it is not HTTPS.
        let own_host = realm_url.host_str() == self.transport.base().host_str();
        if realm_url.scheme() != "https"
            && !(self.transport.plain_http() && realm_url.scheme() == "http" && own_host)
        {
            return Err(RegistryError::InvalidResponse {
                url: self.transport.base().to_string(),
                reason: if self.transport.plain_http() {
                    format!(
                        "token realm `{realm}` is not HTTPS, and plain HTTP is accepted only on the \
                         registry's own host; credentials are not sent to it"
                    )
                } else {
                    format!("token realm `{realm}` is not HTTPS; credentials are not sent to it")
                },
            });
        }
        let mut params: Vec<(&str, String)> = Vec::new();
        if let Some(s) = service {
            params.push(("service", s.to_string()));
        }
        // One `scope` parameter per scope (a mount is two).
        for scope in scopes.iter().filter(|s| **s != Scope::None) {
            for part in scope.to_string().split(' ') {
                params.push(("scope", part.to_string()));
            }
        }
        let (method, url, body, auth) = match self.credential() {
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
                        Some(AuthHeader::basic(username, password))
                    }
                    _ => None,
                };
                (Method::GET, url, None, auth)
            }
        };
        let body = body.map(|form| Body {
            content_type: Some("application/x-www-form-urlencoded".into()),
            bytes: form.into_bytes().into(),
        });
        let auth = auth.as_ref().map(AuthHeader::header_value);
        let request = Request {
            method: method.clone(),
            url: &url,
            accept: None,
            body,
            limit: MAX_TOKEN_BODY,
            headers: HeaderMap::new(),
        };
        // Another origin's realm gets none of the registry's TLS settings; a
        // redirect is the token server's answer, not followed.
        let send = || self.transport.send_unfollowed(&request, auth.as_ref());
        let retry = if retry {
            Retry::Idempotent
        } else {
            Retry::Never
        };
        let answer = self
            .transport
            .with_retries(&method, &url, retry, send)
            .await?;
        self.token_of(answer, &method, &url)
    }

    /// The token in the token server's `answer`.
    fn token_of(&self, answer: Answer, method: &Method, url: &Url) -> Result<Token> {
        match answer.status {
            s if s.is_success() => {}
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                let mut err = self.unauthorized(&answer.headers);
                if let RegistryError::Unauthorized {
                    detail,
                    at_token_server,
                    ..
                } = &mut err
                {
                    detail.push_str(" (at the token server)");
                    *at_token_server = true;
                }
                return Err(err);
            }
            s if s.is_redirection() => {
                return Err(RegistryError::InvalidResponse {
                    url: DisplaySafeUrl::from(url).to_string(),
                    reason: format!("the token server answered a redirect ({s}); token requests do not follow redirects"),
                })
            }
            _ => return Err(self.transport.error_for(method, url, &answer, "token")),
        }
        let parsed: TokenResponse = parse_json(&answer.body, url)?;
        parsed
            .into_token()
            .ok_or_else(|| RegistryError::InvalidResponse {
                url: DisplaySafeUrl::from(url).to_string(),
                reason: "the token response carries no token".into(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::options::ClientOptions;
    use crate::registry::proxy::ProxyEnv;
    use crate::registry::test_server::{answer, Seen, TestServer};

    fn authenticator(addr: &str, credential: Option<Credential>) -> Authenticator {
        let opts = ClientOptions {
            plain_http: true,
            ..ClientOptions::default()
        };
        let transport = Transport::with_proxies(addr, opts, ProxyEnv::default()).unwrap();
        let resolved = credential.map(|credential| Resolved {
            credential,
            source: "the test".into(),
        });
        Authenticator::new(transport, resolved)
    }

    fn alice() -> Option<Credential> {
        Some(Credential::Basic {
            username: "alice".into(),
            password: Secret::new("hunter2"),
        })
    }

    /// A registry whose token realm is itself (`/token`), and that answers
    /// `/v2/app/...` with `serve` (told its own `host:port`) once a token is sent.
    fn bearer_registry(serve: fn(&Seen, &str) -> String) -> TestServer {
        TestServer::start(move |seen, own| {
            let challenge = format!(r#"Bearer realm="http://{own}/token",service="reg""#);
            match (seen.target.as_str(), seen.header("authorization")) {
                (t, _) if t.starts_with("/token") => answer(200, &[], r#"{"token":"tok"}"#),
                (_, Some("Bearer tok")) => serve(seen, own),
                _ => answer(401, &[("WWW-Authenticate", &challenge)], ""),
            }
        })
    }

    async fn get(auth: &Authenticator, path: &str, scope: &Scope) -> Result<Answer> {
        let url = auth.transport().url(path).unwrap();
        let request = Request {
            method: Method::GET,
            url: &url,
            accept: None,
            body: None,
            limit: 1000,
            headers: HeaderMap::new(),
        };
        auth.send(request, scope, Retry::Never).await
    }

    #[tokio::test]
    async fn a_token_is_fetched_with_the_credentials_once_per_scope() {
        let server = bearer_registry(|_, _| answer(200, &[], "{}"));
        let auth = authenticator(&server.addr, alice());
        let scope = Scope::Pull("app".into());
        for _ in 0..2 {
            let fetched = get(&auth, "v2/app/tags/list", &scope).await.unwrap();
            assert_eq!(fetched.status.as_u16(), 200);
        }
        let seen = server.seen();
        let tokens: Vec<&Seen> = seen
            .iter()
            .filter(|s| s.target.starts_with("/token"))
            .collect();
        assert_eq!(tokens.len(), 1, "{seen:?}");
        assert_eq!(
            tokens[0].target,
            "/token?service=reg&scope=repository%3Aapp%3Apull"
        );
        // base64("alice:hunter2")
        assert_eq!(
            tokens[0].header("authorization"),
            Some("Basic YWxpY2U6aHVudGVyMg==")
        );
        let with_token = seen
            .iter()
            .filter(|s| s.header("authorization") == Some("Bearer tok"))
            .count();
        assert_eq!(with_token, 2);
    }

    #[tokio::test]
    async fn a_token_refused_for_its_scope_is_renewed_once_then_names_the_scope() {
        let server = bearer_registry(|_, own| {
            let refusal =
                format!(r#"Bearer realm="http://{own}/token",error="insufficient_scope""#);
            answer(401, &[("WWW-Authenticate", &refusal)], "")
        });
        let auth = authenticator(&server.addr, alice());
        let scope = Scope::Delete("app".into());
        let err = get(&auth, "v2/app/manifests/x", &scope).await.unwrap_err();
        match err {
            RegistryError::Unauthorized {
                hint: Hint::AskForScope { scope },
                insufficient_scope: true,
                at_token_server: false,
                ..
            } => assert_eq!(scope, "repository:app:delete"),
            other => panic!("{other:?}"),
        }
        let refused = server
            .seen()
            .iter()
            .filter(|s| s.target == "/v2/app/manifests/x")
            .count();
        assert_eq!(refused, 2, "the first try and one renewal");
    }

    #[tokio::test]
    async fn basic_credentials_go_to_a_registry_that_asks_for_them() {
        let server = TestServer::start(|seen, _| match seen.header("authorization") {
            Some("Basic YWxpY2U6aHVudGVyMg==") => answer(200, &[], ""),
            _ => answer(401, &[("WWW-Authenticate", r#"Basic realm="r""#)], ""),
        });
        let auth = authenticator(&server.addr, alice());
        let fetched = get(&auth, "v2/app/tags/list", &Scope::Pull("app".into()))
            .await
            .unwrap();
        assert_eq!(fetched.status.as_u16(), 200);
        let anonymous = authenticator(&server.addr, None);
        let err = get(&anonymous, "v2/app/tags/list", &Scope::Pull("app".into()))
            .await
            .unwrap_err();
        assert!(
            matches!(
                &err,
                RegistryError::Unauthorized {
                    hint: Hint::GiveCredentials { .. },
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_token_server_refusal_is_said_to_come_from_it() {
        let server = TestServer::start(|seen, own| {
            if seen.target.starts_with("/token") {
                return answer(401, &[], "");
            }
            let challenge = format!(r#"Bearer realm="http://{own}/token",service="reg""#);
            answer(401, &[("WWW-Authenticate", &challenge)], "")
        });
        let auth = authenticator(&server.addr, alice());
        let err = get(&auth, "v2/app/tags/list", &Scope::Pull("app".into()))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, RegistryError::Unauthorized { at_token_server: true, detail, .. } if detail.ends_with("(at the token server)")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn an_identity_token_is_exchanged_at_the_realm_by_post() {
        let server = bearer_registry(|_, _| answer(200, &[], "{}"));
        let refresh = Credential::IdentityToken {
            username: "alice".into(),
            token: Secret::new("refresh"),
            password: None,
        };
        let auth = authenticator(&server.addr, Some(refresh));
        get(&auth, "v2/app/tags/list", &Scope::Pull("app".into()))
            .await
            .unwrap();
        let seen = server.seen();
        let token = seen
            .iter()
            .find(|s| s.target.starts_with("/token"))
            .unwrap();
        assert_eq!(
            (token.method.as_str(), token.target.as_str()),
            ("POST", "/token")
        );
        assert_eq!(
            token.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(
            String::from_utf8_lossy(&token.body),
            "service=reg&scope=repository%3Aapp%3Apull&grant_type=refresh_token&client_id=regctl&refresh_token=refresh"
        );
        assert_eq!(token.header("authorization"), None);
    }
}
