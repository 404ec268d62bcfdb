//! What a request needs to be allowed (its [`Scope`]) and how a registry asks
//! for credentials (its `WWW-Authenticate` [`Challenge`]): parsed here, with no
//! request of its own.

use std::collections::HashMap;
use std::fmt;

use reqwest::header::{HeaderMap, WWW_AUTHENTICATE};

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
    /// Mounting a blob of repository `from` into `to`: push on `to` and pull
    /// on `from`, two scopes in one token.
    Mount {
        /// The repository the blob goes into.
        to: String,
        /// The repository it is in.
        from: String,
    },
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
            Scope::Mount { to, from } => {
                write!(f, "repository:{to}:pull,push repository:{from}:pull")
            }
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
            Scope::Mount { to, from } => {
                format!("the `push` action on repository {to} and `pull` on repository {from}")
            }
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
