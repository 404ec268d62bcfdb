//! How the client authenticates: the registry's challenge (learnt once, from
//! `GET /v2/`), the Authorization header each request carries, tokens from the
//! realm (fetched ahead in batches, renewed once after a 401), and the error when
//! the registry refuses.

use futures_util::StreamExt as _;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use url::Url;

use super::auth::{parse_challenges, Challenge, Scope, Token, TokenResponse};
use super::client::{redact_url, Registry};
use super::credential::{Credential, Secret};
use super::error::{parse_json, Hint, RegistryError, Result};
use super::transport::{read_answer, Fetched, Request, Retry, MAX_ERROR_BODY};

/// Largest token response read (the token spec's answers are a few KiB).
const MAX_TOKEN_BODY: usize = 64 * 1024;
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
        AuthHeader::Basic(super::credential::basic_auth(username, password))
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

/// The challenge of a 401: among every challenge of every `WWW-Authenticate`
/// header, the first Bearer one, else the first Basic one.
pub(crate) fn challenge_of(headers: &HeaderMap) -> Option<Challenge> {
    let all: Vec<Challenge> = headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(parse_challenges)
        .collect();
    all.iter()
        .find(|c| matches!(c, Challenge::Bearer { .. }))
        .or_else(|| all.first())
        .cloned()
}

/// What [`Registry::check_credentials`] learned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialCheck {
    /// The registry (or its token server) accepted the credential.
    Accepted,
    /// The registry answers `/v2/` without credentials, so it could not check them.
    NotAsked,
}

impl Registry {
    /// Checks that the registry answers the v2 API, learning how it wants to be
    /// authenticated (once per client).
    pub async fn ping(&self) -> Result<()> {
        self.challenge().await.map(|_| ())
    }

    /// Checks the client's credential as `docker login` does: `GET /v2/` with it
    /// (Basic), or a token from the realm for no particular scope (Bearer), then
    /// `GET /v2/` with that token. A refusal is [`RegistryError::Unauthorized`].
    pub async fn check_credentials(&self) -> Result<CredentialCheck> {
        if self.challenge().await?.is_none() {
            return Ok(CredentialCheck::NotAsked);
        }
        let url = self.url("v2/")?;
        let answer = self.get(&url, &Scope::None, None, MAX_ERROR_BODY).await?;
        if answer.status.is_success() {
            Ok(CredentialCheck::Accepted)
        } else {
            Err(self.error_for(&Method::GET, &url, &answer, "registry API"))
        }
    }

    /// `GET /v2/` (`url`) without credentials, once, as it comes.
    pub(crate) async fn get_api_root(&self, url: &Url) -> Result<Fetched> {
        let request = Request {
            method: Method::GET,
            url,
            scope: &Scope::None,
            accept: None,
            body: None,
            limit: MAX_ERROR_BODY,
        };
        self.execute(&request, None).await
    }

    /// The registry's challenge, from `GET /v2/` (asked once per client).
    pub(crate) async fn challenge(&self) -> Result<Option<Challenge>> {
        self.challenge_cell()
            .get_or_try_init(|| async {
                let url = self.url("v2/")?;
                let answer = self
                    .with_retries(&Method::GET, &url, Retry::Idempotent, || self.get_api_root(&url))
                    .await?;
                if answer.url.origin() != self.base().origin() {
                    // A challenge from wherever a redirect led would choose where
                    // the credentials go: only the registry's own counts.
                    return Err(RegistryError::InvalidResponse {
                        url: redact_url(&url),
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
                    StatusCode::BAD_REQUEST if self.base().scheme() == "http" => {
                        Err(RegistryError::Transport {
                            method: "GET".into(),
                            url: redact_url(&url),
                            detail: "HTTP 400: the server answered plain HTTP as a TLS server does"
                                .into(),
                            hint: Some(Hint::DropPlainHttp),
                            reset: false,
                        })
                    }
                    StatusCode::NOT_FOUND => Err(RegistryError::Unsupported {
                        registry: self.host().to_string(),
                        operation: "the registry API (GET /v2/ answered 404)".into(),
                        detail: "HTTP 404".into(),
                        hint: Some(Hint::CheckAddress),
                    }),
                    _ => Err(self.error_for(&Method::GET, &url, &answer, "registry API")),
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
                    .tokens()
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
    pub(crate) async fn renewed_authorization(
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
    /// [`Registry::unauthorized`].
    pub(crate) fn unauthorized_for(&self, headers: &HeaderMap, scope: &Scope) -> RegistryError {
        let insufficient_scope = matches!(
            challenge_of(headers),
            Some(Challenge::Bearer { error: Some(e), .. }) if e == "insufficient_scope"
        );
        let granted_nothing = matches!(scope, Scope::None);
        match self.resolved() {
            Some(r) if insufficient_scope && !granted_nothing => RegistryError::Unauthorized {
                registry: self.host().to_string(),
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
    pub(crate) fn unauthorized(&self, headers: &HeaderMap) -> RegistryError {
        let insufficient_scope = matches!(
            challenge_of(headers),
            Some(Challenge::Bearer { error: Some(e), .. }) if e == "insufficient_scope"
        );
        let (detail, hint) = match self.resolved() {
            None => (
                "no credentials were found for it".to_string(),
                Hint::GiveCredentials {
                    registry: self.host().to_string(),
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
            registry: self.host().to_string(),
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
    pub async fn prefetch_tokens(&self, scopes: &[Scope]) {
        let Ok(Some(Challenge::Bearer { realm, service, .. })) = self.challenge().await else {
            return;
        };
        let mut reserved = self.tokens().reserve(scopes).await.into_iter();
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
            url: self.base().to_string(),
            reason: format!("token realm `{realm}` is not a URL: {e}"),
        })?;
        // Plain HTTP is the user's choice for the registry's own host alone (a
        // realm on another port of it included); anywhere else it is not HTTPS.
        let own_host = realm_url.host_str() == self.base().host_str();
        if realm_url.scheme() != "https"
            && !(self.options().plain_http && realm_url.scheme() == "http" && own_host)
        {
            return Err(RegistryError::InvalidResponse {
                url: self.base().to_string(),
                reason: if self.options().plain_http {
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
        for scope in scopes.iter().filter(|s| **s != Scope::None) {
            params.push(("scope", scope.to_string()));
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
        let send = || async {
            // Another origin's realm gets none of the registry's TLS settings.
            let mut request = self.http_for(&url).request(method.clone(), url.clone());
            if let Some(body) = &body {
                request = request
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(body.clone());
            }
            if let Some(a) = &auth {
                request = request.header(AUTHORIZATION, a.header_value());
            }
            let resp = self.dispatch(&method, &url, request).await?;
            read_answer(resp, MAX_TOKEN_BODY, &url).await
        };
        let retry = if retry {
            Retry::Idempotent
        } else {
            Retry::Never
        };
        let answer = self.with_retries(&method, &url, retry, send).await?;
        self.token_of(answer, &method, &url)
    }

    /// The token in the token server's `answer`.
    fn token_of(&self, answer: Fetched, method: &Method, url: &Url) -> Result<Token> {
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
                    url: redact_url(url),
                    reason: format!("the token server answered a redirect ({s}); token requests do not follow redirects"),
                })
            }
            _ => return Err(self.error_for(method, url, &answer, "token")),
        }
        let parsed: TokenResponse = parse_json(&answer.body, url)?;
        parsed
            .into_token()
            .ok_or_else(|| RegistryError::InvalidResponse {
                url: redact_url(url),
                reason: "the token response carries no token".into(),
            })
    }
}
