//! What the user can do about an error, as data, and how it is worded.

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
