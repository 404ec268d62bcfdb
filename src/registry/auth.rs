//! Authentication: `WWW-Authenticate` challenges, scopes, and the bearer-token cache.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::secret::Secret;

/// What a request needs to be allowed, in the token server's vocabulary.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Listing repositories: `registry:catalog:*`.
    Catalog,
    /// Reading a repository: `repository:<name>:pull`.
    Pull(String),
    /// Uploading to a repository: `repository:<name>:pull,push`.
    Push(String),
    /// Deleting from a repository: `repository:<name>:delete`.
    Delete(String),
    /// Nothing beyond a valid login (the `/v2/` ping).
    None,
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Catalog => f.write_str("registry:catalog:*"),
            Scope::Pull(repo) => write!(f, "repository:{repo}:pull"),
            Scope::Push(repo) => write!(f, "repository:{repo}:pull,push"),
            Scope::Delete(repo) => write!(f, "repository:{repo}:delete"),
            Scope::None => Ok(()),
        }
    }
}

impl Scope {
    /// What the scope grants, in words: "the `delete` action on repository app".
    pub fn what(&self) -> String {
        match self {
            Scope::Catalog => "the catalog (registry:catalog:*)".into(),
            Scope::Pull(repo) => format!("the `pull` action on repository {repo}"),
            Scope::Push(repo) => format!("the `push` action on repository {repo}"),
            Scope::Delete(repo) => format!("the `delete` action on repository {repo}"),
            Scope::None => "access to the registry".into(),
        }
    }
}

/// A parsed `WWW-Authenticate` challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Challenge {
    /// `Basic realm="..."`.
    Basic,
    /// `Bearer realm="...",service="..."`.
    Bearer {
        /// Where to ask for tokens.
        realm: String,
        /// The `service` parameter to pass along.
        service: Option<String>,
        /// `error="insufficient_scope"` and the like, when present.
        error: Option<String>,
    },
}

/// Parses the first Basic or Bearer challenge of a `WWW-Authenticate` value.
/// Unknown schemes and malformed values give `None`; this never panics.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header
        .split_once(char::is_whitespace)
        .unwrap_or((header, ""));
    let params = parse_params(rest);
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => Some(Challenge::Basic),
        "bearer" => Some(Challenge::Bearer {
            realm: params.get("realm")?.clone(),
            service: params.get("service").cloned(),
            error: params.get("error").cloned(),
        }),
        _ => None,
    }
}

/// Every Basic or Bearer challenge of one `WWW-Authenticate` value, which may
/// hold several (`Basic realm="r", Bearer realm="t",service="s"`), in order.
/// Unknown schemes are skipped; this never panics.
pub fn parse_challenges(header: &str) -> Vec<Challenge> {
    // Split on commas outside quotes; a part that starts with a token followed by
    // whitespace (or is a lone token) starts a new challenge, the others are
    // parameters of the current one.
    let mut parts = Vec::new();
    let (mut current, mut quoted, mut escaped) = (String::new(), false, false);
    for c in header.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current);
    let mut challenges: Vec<String> = Vec::new();
    for part in parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        let first = part
            .split(|c: char| c.is_whitespace() || c == '=')
            .next()
            .unwrap_or("");
        let rest = &part[first.len()..];
        let starts_challenge = rest.is_empty() || rest.starts_with(char::is_whitespace);
        match challenges.last_mut() {
            Some(last) if !starts_challenge => {
                last.push(',');
                last.push_str(part);
            }
            _ => challenges.push(part.to_string()),
        }
    }
    challenges
        .iter()
        .filter_map(|c| parse_challenge(c))
        .collect()
}

/// `key="quoted \"value\"", key2=token` into a map with lowercase keys.
fn parse_params(input: &str) -> HashMap<String, String> {
    let mut params = HashMap::new();
    let mut chars = input.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek().copied().filter(|c| *c != ',') {
                value.push(c);
                chars.next();
            }
            value = value.trim().to_string();
        }
        params.insert(key.trim().to_ascii_lowercase(), value);
    }
    params
}

/// A token server's answer.
#[derive(Deserialize)]
pub struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// Tokens last 60 s when the server does not say (the token spec's default).
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(60);
/// The longest a token is trusted, whatever the server says.
const MAX_TOKEN_LIFETIME_SECS: u64 = 86_400;
/// Renew a little before expiry so a request does not carry a token that dies in flight.
const EXPIRY_MARGIN: Duration = Duration::from_secs(5);

/// A bearer token and when it stops being valid.
#[derive(Clone, Debug)]
pub struct Token {
    /// The token.
    pub value: Secret,
    expires_at: Instant,
}

impl TokenResponse {
    /// The token it carries (`token` or `access_token`), if any.
    pub fn into_token(self) -> Option<Token> {
        // An empty `token` beside a set `access_token` is the latter (some servers
        // fill both fields, one of them empty).
        let set = |t: &String| !t.is_empty();
        let value = self.token.filter(set).or(self.access_token.filter(set))?;
        // A server's number is capped: no token is trusted for more than a day,
        // and an absurd `expires_in` cannot overflow the clock.
        let lifetime = self
            .expires_in
            .filter(|s| *s > 0)
            .map_or(DEFAULT_TOKEN_LIFETIME, |s| {
                Duration::from_secs(s.min(MAX_TOKEN_LIFETIME_SECS))
            });
        let now = Instant::now();
        Some(Token {
            value: Secret::new(value),
            expires_at: now.checked_add(lifetime).unwrap_or(now),
        })
    }
}

impl Token {
    fn fresh(&self) -> bool {
        Instant::now() + EXPIRY_MARGIN < self.expires_at
    }
}

/// One slot per scope; its async lock makes concurrent requests for the same scope
/// wait for a single token fetch.
type Slot = Arc<tokio::sync::Mutex<Option<Token>>>;

/// A held token slot, waiting for a token fetched ahead of use.
pub struct Reservation {
    /// The scope whose slot is held.
    pub scope: Scope,
    guard: tokio::sync::OwnedMutexGuard<Option<Token>>,
}

impl Reservation {
    /// Stores `token` and releases the slot.
    pub fn fill(mut self, token: Token) {
        *self.guard = Some(token);
    }
}

/// Tokens cached per scope, for one registry.
#[derive(Default)]
pub struct TokenCache {
    slots: Mutex<HashMap<Scope, Slot>>,
}

impl TokenCache {
    fn slot(&self, scope: &Scope) -> Slot {
        // A poisoned lock only means another task panicked mid-insert; the map is intact.
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.entry(scope.clone()).or_default().clone()
    }

    /// Holds the slots of `scopes` that have no fresh token, so that requests
    /// needing them wait for [`Reservation::fill`] instead of fetching tokens of
    /// their own. Dropping a reservation unfilled lets them fetch as usual.
    pub async fn reserve(&self, scopes: &[Scope]) -> Vec<Reservation> {
        let mut reserved = Vec::new();
        for scope in scopes {
            let guard = self.slot(scope).lock_owned().await;
            if !guard.as_ref().is_some_and(Token::fresh) {
                reserved.push(Reservation {
                    scope: scope.clone(),
                    guard,
                });
            }
        }
        reserved
    }

    /// The cached token for `scope`, or a new one from `fetch`. With `stale`, the
    /// token the caller saw refused: it is replaced unless another task already did.
    pub async fn get<F, Fut, E>(
        &self,
        scope: &Scope,
        stale: Option<&Secret>,
        fetch: F,
    ) -> Result<Secret, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Token, E>>,
    {
        let slot = self.slot(scope);
        let mut cached = slot.lock().await;
        if let Some(token) = cached.as_ref() {
            let refused = stale.is_some_and(|s| *s == token.value);
            if token.fresh() && !refused {
                return Ok(token.value.clone());
            }
        }
        let token = fetch().await?;
        let value = token.value.clone();
        *cached = Some(token);
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_empty_token_beside_an_access_token_is_the_access_token() {
        let parsed: TokenResponse =
            serde_json::from_str(r#"{"token":"","access_token":"abc","expires_in":300}"#).unwrap();
        assert_eq!(parsed.into_token().unwrap().value.expose(), "abc");
        let none: TokenResponse =
            serde_json::from_str(r#"{"token":"","access_token":""}"#).unwrap();
        assert!(none.into_token().is_none());
    }

    #[test]
    fn a_header_with_two_challenges_gives_both() {
        let both = parse_challenges(
            r#"Basic realm="r, with comma", Bearer realm="https://t/token",service="s",scope="a:b:pull,push""#,
        );
        assert_eq!(
            both,
            vec![
                Challenge::Basic,
                Challenge::Bearer {
                    realm: "https://t/token".into(),
                    service: Some("s".into()),
                    error: None
                }
            ]
        );
        assert_eq!(parse_challenges("Negotiate, Basic"), vec![Challenge::Basic]);
    }

    use super::*;

    #[test]
    fn parses_bearer_and_basic() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a:pull",error="insufficient_scope""#,
        );
        assert_eq!(
            c,
            Some(Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: Some("registry.example".into()),
                error: Some("insufficient_scope".into()),
            })
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(
            parse_challenge("bearer realm=https://x/t , service = s"),
            Some(Challenge::Bearer {
                realm: "https://x/t".into(),
                service: Some("s".into()),
                error: None
            })
        );
    }

    #[test]
    fn odd_challenges_do_not_panic() {
        for input in [
            "",
            "Bearer",
            "Bearer realm",
            "Bearer realm=\"unterminated",
            "Negotiate abc",
            "Bearer ,,,=",
            "\u{0}\"\\",
        ] {
            let _ = parse_challenge(input);
        }
        assert_eq!(
            parse_challenge("Bearer service=\"x\""),
            None,
            "no realm, no bearer"
        );
        let escaped = parse_challenge(r#"Bearer realm="https://a/\"q\"""#);
        assert!(
            matches!(escaped, Some(Challenge::Bearer { realm, .. }) if realm == "https://a/\"q\"")
        );
    }

    #[test]
    fn scopes_render_as_the_token_spec_says() {
        assert_eq!(Scope::Catalog.to_string(), "registry:catalog:*");
        assert_eq!(Scope::Pull("a/b".into()).to_string(), "repository:a/b:pull");
    }

    #[tokio::test]
    async fn cache_fetches_once_and_refreshes_a_refused_token() {
        let cache = TokenCache::default();
        let scope = Scope::Pull("a".into());
        let make = |v: &str| {
            let t = Token {
                value: Secret::new(v),
                expires_at: Instant::now() + Duration::from_secs(60),
            };
            move || async move { Ok::<_, ()>(t) }
        };
        assert_eq!(
            cache.get(&scope, None, make("one")).await.unwrap().expose(),
            "one"
        );
        assert_eq!(
            cache.get(&scope, None, make("two")).await.unwrap().expose(),
            "one"
        );
        let stale = Secret::new("one");
        assert_eq!(
            cache
                .get(&scope, Some(&stale), make("three"))
                .await
                .unwrap()
                .expose(),
            "three"
        );
        // Someone else already replaced the refused token: keep theirs.
        assert_eq!(
            cache
                .get(&scope, Some(&stale), make("four"))
                .await
                .unwrap()
                .expose(),
            "three"
        );
    }

    #[test]
    fn token_lifetime_defaults_to_60s() {
        let t: TokenResponse = serde_json::from_str(r#"{"access_token":"x"}"#).unwrap();
        let t = t.into_token().unwrap();
        assert!(t.fresh());
        assert!(t.expires_at <= Instant::now() + DEFAULT_TOKEN_LIFETIME);
        let huge: TokenResponse =
            serde_json::from_str(r#"{"token":"x","expires_in":18446744073709551615}"#).unwrap();
        assert!(
            huge.into_token().unwrap().expires_at
                <= Instant::now() + Duration::from_secs(MAX_TOKEN_LIFETIME_SECS)
        );
        let none: TokenResponse = serde_json::from_str(r#"{"token":""}"#).unwrap();
        assert!(none.into_token().is_none());
    }
}
