//! Typed errors of the registry client. Each says what happened, to what, and what
//! to do next; [`RegistryError::kind`] is what the CLI turns into an exit code.

use serde::Deserialize;
use url::Url;

use super::digest::Digest;
pub use super::hint::{set_hint_words, Hint};
use super::redact::DisplaySafeUrl;
use super::reference::ReferenceError;
use crate::text::escape;

/// One entry of the spec's error body: `{"errors":[{"code":..,"message":..}]}`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct ErrorInfo {
    /// The spec's error code, e.g. `MANIFEST_UNKNOWN`, `UNSUPPORTED`, `DENIED`.
    pub code: String,
    /// The registry's message.
    #[serde(default)]
    pub message: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    errors: Vec<ErrorInfo>,
}

/// Parses an error body; anything that is not the spec's shape gives no entries.
/// Used through `Answer::errors` of the transport.
pub(crate) fn parse_error_body(body: &[u8]) -> Vec<ErrorInfo> {
    serde_json::from_slice::<ErrorBody>(body)
        .map(|b| b.errors)
        .unwrap_or_default()
}

/// Renders error entries as `CODE: message; CODE: message`, escaped for display
/// (the registry chose the text).
pub fn describe(errors: &[ErrorInfo]) -> String {
    errors
        .iter()
        .map(|e| {
            if e.message.is_empty() {
                escape(&e.code)
            } else {
                format!("{}: {}", escape(&e.code), escape(&e.message))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// ` (detail)` when the detail says more than "not found" does: a bare 404,
/// or the spec's own codes for it, are left out so that a missing thing reads
/// the same whatever request found it missing.
fn informative(detail: &str) -> String {
    const PLAIN: [&str; 4] = [
        "HTTP 404",
        "NAME_UNKNOWN",
        "MANIFEST_UNKNOWN",
        "BLOB_UNKNOWN",
    ];
    let plain = detail.split("; ").all(|part| {
        PLAIN
            .iter()
            .any(|p| part == *p || part.starts_with(&format!("{p}: ")))
    });
    if plain {
        String::new()
    } else {
        format!(" ({detail})")
    }
}

/// `; hint`, or nothing.
fn then_hint(hint: &Option<Hint>) -> String {
    hint.as_ref().map_or_else(String::new, |h| format!("; {h}"))
}

/// The broad classes of failure, each with its own exit code in the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Credentials refused or access denied.
    Auth,
    /// Repository, tag, manifest or digest does not exist.
    NotFound,
    /// The registry does not offer the operation.
    Unsupported,
    /// The input was invalid before any request was made.
    Usage,
    /// Not done for safety: what was given does not hold (a tag that points
    /// elsewhere than the digest given).
    Refused,
    /// Anything else: network, TLS, protocol.
    Other,
}

/// Everything the registry client can fail with.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// A reference or target the user typed is malformed.
    #[error(transparent)]
    InvalidReference(#[from] ReferenceError),

    /// The registry refused the credentials (or there were none and it wants some).
    #[error("{registry}: authentication required or refused ({detail}); {hint}")]
    Unauthorized {
        /// Registry host.
        registry: String,
        /// What the registry or token server said.
        detail: String,
        /// What the user can do.
        hint: Hint,
        /// The token server did not grant the scope asked for (e.g. catalog).
        insufficient_scope: bool,
        /// The token server refused (not the registry).
        at_token_server: bool,
    },

    /// Authenticated, but not allowed to do this.
    #[error("{method} {url}: access denied ({detail})")]
    Denied {
        /// HTTP method.
        method: String,
        /// Request URL.
        url: DisplaySafeUrl,
        /// What the registry said.
        detail: String,
    },

    /// `REPO:TAG@DIGEST` where the tag points at another manifest.
    #[error("{reference}: the tag points at {actual}, not at {expected}")]
    TagPointsElsewhere {
        /// `registry/repo:tag`.
        reference: String,
        /// What the tag points at.
        actual: Digest,
        /// The digest given.
        expected: Digest,
    },

    /// A digest prefix that more than one tagged manifest's digest starts with.
    #[error("{prefix}… is ambiguous: {} start so; give more of the digest", candidates.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))]
    AmbiguousDigest {
        /// The prefix given (`sha256:HEX`).
        prefix: String,
        /// The digests that start with it.
        candidates: Vec<Digest>,
    },

    /// The named repository, tag, manifest or blob does not exist.
    #[error("{what} not found{}", informative(.detail))]
    NotFound {
        /// What was looked for, e.g. `127.0.0.1:5000/app:v1`.
        what: String,
        /// The registry's error codes, or the HTTP status.
        detail: String,
    },

    /// The registry does not offer this operation.
    #[error("{registry} does not support {operation} ({detail}){}", then_hint(.hint))]
    Unsupported {
        /// Registry host.
        registry: String,
        /// What was attempted, e.g. `listing repositories (catalog)`.
        operation: String,
        /// The registry's error codes, or the HTTP status.
        detail: String,
        /// What the user can do.
        hint: Option<Hint>,
    },

    /// Any other HTTP status.
    #[error("{method} {url}: HTTP {status}{}{}",
        if errors.is_empty() { String::new() } else { format!(" ({})", describe(errors)) },
        if *attempts > 1 { format!("; gave up after {attempts} attempts") } else { String::new() })]
    Status {
        /// HTTP method.
        method: String,
        /// Request URL.
        url: DisplaySafeUrl,
        /// HTTP status code.
        status: u16,
        /// The registry's error entries.
        errors: Vec<ErrorInfo>,
        /// How many times the request was sent.
        attempts: u32,
    },

    /// The TLS handshake failed: certificate not trusted, wrong name, expired.
    #[error("TLS with {host} failed: {reason}; {hint}")]
    Tls {
        /// The host with port: the registry's, or that of a token realm or a
        /// redirect target elsewhere.
        host: String,
        /// Why, in words.
        reason: String,
        /// What fixes it.
        hint: Hint,
    },

    /// Could not send the request or read the answer.
    #[error("{method} {url}: {detail}{}", then_hint(.hint))]
    Transport {
        /// HTTP method.
        method: String,
        /// Request URL.
        url: DisplaySafeUrl,
        /// The cause chain, in words.
        detail: String,
        /// What the user can do (a timeout: allow more time).
        hint: Option<Hint>,
        /// The connection was reset or closed mid-message (worth a retry).
        reset: bool,
    },

    /// The registry answered with something that is not what the spec says.
    #[error("{url}: invalid response: {reason}")]
    InvalidResponse {
        /// Where it came from: the request URL (redacted, as a
        /// [`DisplaySafeUrl`] shows it), or the name of what was read.
        url: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A listing went past the bound on items (a registry whose pagination
    /// never ends must not grow memory and requests without limit).
    #[error(
        "{url}: {what} goes on past {bound} entries; stopped there; {}",
        Hint::RaiseListBound
    )]
    TooManyItems {
        /// Request URL.
        url: DisplaySafeUrl,
        /// What was listed.
        what: String,
        /// The bound.
        bound: usize,
    },

    /// A listing went past the bound on pages (a registry paging one entry at a
    /// time must not cost requests without limit).
    #[error(
        "{url}: {what} goes on past {bound} pages; stopped there; {}",
        Hint::RaiseListBound
    )]
    TooManyPages {
        /// Request URL.
        url: DisplaySafeUrl,
        /// What was listed.
        what: String,
        /// The bound.
        bound: usize,
    },

    /// Content does not hash to the digest it was asked for or announced with.
    #[error("{url}: content digest {actual} does not match {expected}")]
    DigestMismatch {
        /// Where it came from: the request URL (redacted, as a
        /// [`DisplaySafeUrl`] shows it), or the name of what was read.
        url: String,
        /// The digest asked for or announced.
        expected: String,
        /// The digest of the bytes received.
        actual: String,
    },

    /// A TLS or client setting could not be applied (bad CA file, client key).
    #[error("{0}")]
    Config(String),
}

impl RegistryError {
    /// The class of this failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            RegistryError::InvalidReference(_) | RegistryError::AmbiguousDigest { .. } => {
                ErrorKind::Usage
            }
            RegistryError::Unauthorized { .. } | RegistryError::Denied { .. } => ErrorKind::Auth,
            RegistryError::NotFound { .. } => ErrorKind::NotFound,
            RegistryError::TagPointsElsewhere { .. } => ErrorKind::Refused,
            RegistryError::Unsupported { .. } => ErrorKind::Unsupported,
            RegistryError::Config(_) => ErrorKind::Usage,
            RegistryError::Status { .. }
            | RegistryError::Tls { .. }
            | RegistryError::Transport { .. }
            | RegistryError::InvalidResponse { .. }
            | RegistryError::TooManyItems { .. }
            | RegistryError::TooManyPages { .. }
            | RegistryError::DigestMismatch { .. } => ErrorKind::Other,
        }
    }
}

/// Shorthand for client results.
pub type Result<T, E = RegistryError> = std::result::Result<T, E>;

/// Parses JSON, naming the URL when it is invalid or truncated.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8], url: &Url) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| RegistryError::InvalidResponse {
        url: DisplaySafeUrl::from(url).to_string(),
        reason: format!("invalid JSON: {}", escape(&e.to_string())),
    })
}

/// The deepest cause of `err`, looking inside io::Errors.
pub(crate) fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
    let mut last = err;
    while let Some(next) = last.source().or_else(|| {
        last.downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map(|e| e as &(dyn std::error::Error + 'static))
    }) {
        last = next;
    }
    last.to_string()
}

/// An error and its causes, joined with `: `, without repeats: the one
/// formatter of cause chains (the CLI uses it for its own errors too).
pub fn cause_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = Some(err);
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_spec_error_bodies() {
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}"#;
        let errors = parse_error_body(body);
        assert_eq!(describe(&errors), "MANIFEST_UNKNOWN: manifest unknown");
        assert!(parse_error_body(b"<html>").is_empty());
        assert!(parse_error_body(b"").is_empty());
    }

    #[test]
    fn an_error_shows_and_debugs_its_url_redacted() {
        let url = Url::parse("https://r.example/v2/?access_token=s3cret").unwrap();
        let err = RegistryError::Status {
            method: "GET".into(),
            url: DisplaySafeUrl::from(&url),
            status: 500,
            errors: Vec::new(),
            attempts: 1,
        };
        assert_eq!(
            err.to_string(),
            "GET https://r.example/v2/?access_token=***: HTTP 500"
        );
        assert!(!format!("{err:?}").contains("s3cret"));
    }
}
