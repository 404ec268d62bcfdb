//! Bearer tokens: the token server's answer, how long a token is trusted, and
//! the cache of tokens per scope (one fetch per scope at a time).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::challenge::Scope;
use super::secret::Secret;

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
    use super::*;

    #[test]
    fn an_empty_token_beside_an_access_token_is_the_access_token() {
        let parsed: TokenResponse =
            serde_json::from_str(r#"{"token":"","access_token":"abc","expires_in":300}"#).unwrap();
        assert_eq!(parsed.into_token().unwrap().value.expose(), "abc");
        let none: TokenResponse =
            serde_json::from_str(r#"{"token":"","access_token":""}"#).unwrap();
        assert!(none.into_token().is_none());
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
