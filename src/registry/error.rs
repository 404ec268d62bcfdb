//! Typed errors of the registry client. Each says what happened, to what, and what
//! to do next; [`RegistryError::kind`] is what the CLI turns into an exit code.

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use url::Url;

use super::client::{redact_url, Registry};
use super::transport::Fetched;
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
/// Used through [`Fetched::errors`].
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

/// What the user can do about an error, as data: the library names no flag or
/// command of its own. [`Hint`]'s `Display` uses the words of the program, set
/// once with [`set_hint_words`]; without them, plain words of the library's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hint {
    /// No credentials were found: give some.
    GiveCredentials {
        /// The registry, `host[:port]`.
        registry: String,
    },
    /// The credentials were refused: check them.
    CheckCredentials,
    /// The credentials were accepted, but the token server did not grant this
    /// scope: ask for the right, or use an account that has it.
    AskForScope {
        /// The scope refused, as the token server writes it
        /// (`repository:app:delete`).
        scope: String,
    },
    /// A tag removal pushes a placeholder: the credentials need push access.
    NeedPush {
        /// The repository.
        repository: String,
    },
    /// A redirect led elsewhere: check the registry's redirect settings.
    CheckRedirects,
    /// The certificate's issuer is not trusted: trust its CA, as a file given or
    /// at `certs_d/ca.crt` (docker's folder for the host).
    TrustCa {
        /// docker's `certs.d/<host:port>` folder for this registry.
        certs_d: String,
    },
    /// The certificate of another host the registry sent the client to (a
    /// token realm, a redirect) is not trusted: trust its CA (a file given, or
    /// the system's store; the registry's own settings do not apply there).
    TrustCaElsewhere {
        /// The registry that sent the client there.
        registry: String,
    },
    /// TLS with another host the registry sent the client to failed.
    CheckElsewhere {
        /// The registry that sent the client there.
        registry: String,
    },
    /// The certificate does not carry the name used.
    UseCertificateName,
    /// The certificate has expired.
    RenewCertificate,
    /// The certificate is not valid yet.
    CheckClock,
    /// The server does not speak TLS: it may speak plain HTTP.
    UsePlainHttp,
    /// Plain HTTP reached a port that speaks TLS.
    DropPlainHttp,
    /// A scheme was typed in a registry address.
    DropScheme,
    /// Another TLS failure.
    CheckTls,
    /// No answer in time: allow more time per request.
    RaiseTimeout,
    /// A listing went past the bound on items.
    RaiseListBound,
    /// The registry has no catalog: list one repository of `registry` instead.
    ListOneRepository {
        /// The registry host.
        registry: String,
    },
    /// Deletion is disabled in the registry's configuration.
    EnableDeletion,
    /// The registry is in read-only mode (for garbage collection): every write
    /// is refused until it is taken out of it.
    LeaveReadOnly,
    /// `/v2/` answered 404: check the address and port.
    CheckAddress,
}

/// Renders hints in a program's own words (its flags and commands).
pub type HintWords = fn(&Hint) -> String;

static HINT_WORDS: std::sync::OnceLock<HintWords> = std::sync::OnceLock::new();

/// Sets, once per process, how hints are worded in error messages.
pub fn set_hint_words(words: HintWords) {
    let _ = HINT_WORDS.set(words);
}

impl std::fmt::Display for Hint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match HINT_WORDS.get() {
            Some(words) => f.write_str(&words(self)),
            None => f.write_str(&self.default_words()),
        }
    }
}

impl Hint {
    /// The library's own words for this hint.
    pub fn default_words(&self) -> String {
        match self {
        Hint::GiveCredentials { .. } => "give credentials for it".into(),
        Hint::NeedPush { repository } => format!(
            "removing one tag of a shared manifest on this registry pushes a placeholder, which \
             needs push access to {repository}: the credentials work but do not grant it"
        ),
        Hint::CheckCredentials => "check the user name and password".into(),
        Hint::AskForScope { scope } => format!(
            "the credentials are right, but this account may not do that: have {scope} granted \
             to it on the token server (its role or access rules), or use an account that has it"
        ),
        Hint::CheckRedirects => "check the registry's redirect (storage middleware) settings".into(),
        Hint::TrustCa { certs_d } => format!(
            "trust its CA certificate (give it as a CA file, put it at {certs_d}/ca.crt, or install it in the system trust store)"
        ),
        Hint::TrustCaElsewhere { registry } => format!(
            "{registry} sent the client to this host (a token realm or a redirect): trust its CA \
             certificate (give it as a CA file, or install it in the system trust store); the \
             certificate settings for {registry} do not apply to another host"
        ),
        Hint::CheckElsewhere { registry } => format!(
            "{registry} sent the client to this host (a token realm or a redirect): check that \
             host's TLS set-up, or the registry's setting that names it"
        ),
        Hint::UseCertificateName => {
            "use a name the certificate carries in its subjectAltName, or reissue it with this one".into()
        }
        Hint::RenewCertificate => {
            "renew the registry's certificate (or check this machine's clock)".into()
        }
        Hint::CheckClock => "check this machine's clock, or the certificate's start date".into(),
        Hint::UsePlainHttp => "if the registry speaks plain HTTP, talk plain HTTP to it".into(),
        Hint::DropPlainHttp => "the port speaks TLS: talk HTTPS to it".into(),
        Hint::DropScheme => "drop the `http://`; talk plain HTTP instead".into(),
        Hint::CheckTls => "check the registry's TLS set-up".into(),
        Hint::RaiseTimeout => "allow more time per request if the registry is slow".into(),
        Hint::RaiseListBound => "raise the bound on listed items if it really holds more".into(),
        Hint::ListOneRepository { registry } => {
            format!("list one repository instead: {registry}/REPOSITORY")
        }
        Hint::EnableDeletion => "either deletion is disabled in the registry's config (enable it: \
storage.delete.enabled: true, or REGISTRY_STORAGE_DELETE_ENABLED=true, and restart it), or the \
registry is a pull-through cache (proxy.remoteurl), which accepts no deletes: delete on the \
upstream registry"
            .into(),
        Hint::LeaveReadOnly => "the registry is in read-only mode (storage.maintenance.readonly.enabled: \
true), as it is put for garbage collection: it refuses every write, deletion included. Once garbage \
collection is done, take it out of read-only mode (readonly enabled: false) and restart it"
            .into(),
        Hint::CheckAddress => "is this the registry's address and port?".into(),
    }
    }
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
    InvalidReference(#[from] super::reference::ReferenceError),

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
        url: String,
        /// What the registry said.
        detail: String,
    },

    /// `REPO:TAG@DIGEST` where the tag points at another manifest.
    #[error("{reference}: the tag points at {actual}, not at {expected}")]
    TagPointsElsewhere {
        /// `registry/repo:tag`.
        reference: String,
        /// What the tag points at.
        actual: super::Digest,
        /// The digest given.
        expected: super::Digest,
    },

    /// A digest prefix that more than one tagged manifest's digest starts with.
    #[error("{prefix}… is ambiguous: {} start so; give more of the digest", candidates.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))]
    AmbiguousDigest {
        /// The prefix given (`sha256:HEX`).
        prefix: String,
        /// The digests that start with it.
        candidates: Vec<super::Digest>,
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
        url: String,
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
        url: String,
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
        /// Request URL.
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
        url: String,
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
        url: String,
        /// What was listed.
        what: String,
        /// The bound.
        bound: usize,
    },

    /// Content does not hash to the digest it was asked for or announced with.
    #[error("{url}: content digest {actual} does not match {expected}")]
    DigestMismatch {
        /// Request URL.
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
            _ => ErrorKind::Other,
        }
    }
}

/// Shorthand for client results.
pub type Result<T, E = RegistryError> = std::result::Result<T, E>;

impl Registry {
    /// The error for an unexpected answer: 403 denied, 404 not found (`what`),
    /// 405 unsupported, else the status with the registry's error codes.
    pub(crate) fn error_for(
        &self,
        method: &Method,
        url: &Url,
        answer: &Fetched,
        what: &str,
    ) -> RegistryError {
        let errors = answer.errors();
        let detail = if errors.is_empty() {
            format!("HTTP {}", answer.status.as_u16())
        } else {
            describe(&errors)
        };
        match answer.status {
            StatusCode::FORBIDDEN => RegistryError::Denied {
                method: method.to_string(),
                url: redact_url(url),
                detail,
            },
            StatusCode::NOT_FOUND => RegistryError::NotFound {
                what: what.to_string(),
                detail,
            },
            StatusCode::METHOD_NOT_ALLOWED => RegistryError::Unsupported {
                registry: self.host().to_string(),
                operation: format!("{method} on {what}"),
                detail,
                hint: None,
            },
            _ => RegistryError::Status {
                method: method.to_string(),
                url: redact_url(url),
                status: answer.status.as_u16(),
                errors,
                attempts: 1,
            },
        }
    }
}

/// Parses JSON, naming the URL when it is invalid or truncated.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8], url: &Url) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| RegistryError::InvalidResponse {
        url: redact_url(url),
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
}
