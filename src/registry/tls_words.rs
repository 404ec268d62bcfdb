//! TLS and certificate errors in words, each with what fixes it: names the
//! certificate carries, expiry, purpose, the CA to trust; never Rust debug text.

use rustls::CertificateError;

use super::error::RegistryError;
use super::hint::Hint;

use super::tls::{is_ca_used_as_end_entity, TlsOptions, NO_TRUSTED_CA};

/// Whose certificate a handshake checked.
#[derive(Clone, Copy, Debug)]
pub enum Peer<'a> {
    /// The registry's own origin.
    Registry,
    /// Another origin the registry sent the client to (a token realm, a
    /// redirect), `host:port`: its failure names it, and suggests nothing that
    /// applies to the registry alone.
    Elsewhere(&'a str),
}

/// If `err` (from reqwest) was a TLS failure with `peer`, the error that
/// explains it.
pub fn explain(
    err: &(dyn std::error::Error + 'static),
    registry: &str,
    peer: Peer<'_>,
    opts: &TlsOptions,
) -> Option<RegistryError> {
    let mut source = Some(err);
    while let Some(e) = source {
        if let Some(tls) = find_in_io(e) {
            let described = describe_tls(tls, registry, opts);
            return Some(match peer {
                Peer::Registry => described,
                Peer::Elsewhere(host) => elsewhere(described, tls, host, registry),
            });
        }
        source = e.source();
    }
    None
}

/// `described` (worded for the registry) made about `host`, another origin:
/// its name checked, and hints that apply to it.
fn elsewhere(
    described: RegistryError,
    err: &rustls::Error,
    host: &str,
    registry: &str,
) -> RegistryError {
    let RegistryError::Tls { reason, hint, .. } = described else {
        return described;
    };
    let reason = match err {
        rustls::Error::InvalidCertificate(CertificateError::NotValidForName) => {
            name_mismatch(host_only(host), None)
        }
        rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext {
            presented,
            ..
        }) => name_mismatch(host_only(host), Some(presented)),
        _ if is_ca_used_as_end_entity(err) => ca_as_end_entity("the host's"),
        _ => reason,
    };
    let registry = registry.to_string();
    let hint = match hint {
        Hint::TrustCa { .. } => Hint::TrustCaElsewhere { registry },
        Hint::RenewCertificate | Hint::CheckClock => hint,
        _ => Hint::CheckElsewhere { registry },
    };
    RegistryError::Tls {
        host: host.to_string(),
        reason,
        hint,
    }
}

/// `e` as a rustls error, looking inside (nested) io::Errors, whose payload
/// `source()` does not show.
pub(super) fn find_in_io<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::Error> {
    if let Some(tls) = e.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    let inner = e.downcast_ref::<std::io::Error>()?.get_ref()?;
    find_in_io(inner)
}

pub(super) fn describe_tls(
    err: &rustls::Error,
    registry: &str,
    opts: &TlsOptions,
) -> RegistryError {
    let (reason, hint) = reason_and_hint(err, registry, opts);
    RegistryError::Tls {
        host: registry.to_string(),
        reason,
        hint,
    }
}

/// What went wrong with the handshake, in words, and what to do about it.
pub(super) fn reason_and_hint(
    err: &rustls::Error,
    registry: &str,
    opts: &TlsOptions,
) -> (String, Hint) {
    let ca_hint = Hint::TrustCa {
        certs_d: opts.host_dir(registry).display().to_string(),
    };
    match err {
        rustls::Error::InvalidCertificate(cert) => match cert {
            CertificateError::UnknownIssuer => ("certificate signed by an unknown authority".to_string(), ca_hint),
            CertificateError::NotValidForName => (
                name_mismatch(host_only(registry), None),
                Hint::UseCertificateName,
            ),
            CertificateError::NotValidForNameContext { presented, .. } => (
                name_mismatch(host_only(registry), Some(presented)),
                Hint::UseCertificateName,
            ),
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => (
                "the certificate has expired".to_string(),
                Hint::RenewCertificate,
            ),
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => (
                "the certificate is not valid yet".to_string(),
                Hint::CheckClock,
            ),
            CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => (
                "the certificate is not one for a TLS server: its extended key usage lacks serverAuth \
                 (reissue it with extendedKeyUsage = serverAuth, or without that extension)"
                    .to_string(),
                Hint::CheckTls,
            ),
            _ if is_ca_used_as_end_entity(err) => (ca_as_end_entity("the registry's"), ca_hint),
            other => certificate_words(other, ca_hint),
        },
        rustls::Error::General(reason) if reason == NO_TRUSTED_CA => (reason.clone(), ca_hint),
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => (
            format!("the server did not answer with TLS ({err})"),
            Hint::UsePlainHttp,
        ),
        other => (words_without_debug(&other.to_string()), Hint::CheckTls),
    }
}

/// `TLS 1.3`, not `TLSv1_3`.
pub(super) fn protocol_words(version: rustls::ProtocolVersion) -> String {
    match version {
        rustls::ProtocolVersion::TLSv1_3 => "TLS 1.3".into(),
        rustls::ProtocolVersion::TLSv1_2 => "TLS 1.2".into(),
        other => words_without_debug(&format!("{other:?}")),
    }
}

/// The refusal of a `CA:TRUE` certificate served as `whose` own that is not
/// itself trusted (a self-signed one nobody trusts, or one a CA signed).
fn ca_as_end_entity(whose: &str) -> String {
    format!(
        "certificate from an unknown authority: it is a CA certificate (CA:TRUE) served as \
         {whose} own, which is accepted only when that very certificate is trusted (give it as \
         the CA file); a certificate a CA signed must not be marked CA:TRUE"
    )
}

/// A name the certificate does not carry, with the names it does (`DNS:…`,
/// `IP:…`; `None` when not known) and, for an IP address the certificate
/// carries as a DNS name, that it needs an IP SAN.
pub(super) fn name_mismatch(host: &str, presented: Option<&[String]>) -> String {
    let mut words = format!("the certificate is not valid for the name `{host}`");
    let Some(presented) = presented else {
        return words;
    };
    let names: Vec<String> = presented.iter().map(|n| presented_name(n)).collect();
    if names.is_empty() {
        words += ": it carries no names in its subjectAltName (a CN alone is not read)";
    } else {
        words += &format!("; it carries {}", names.join(", "));
    }
    let ip = host.parse::<std::net::IpAddr>().is_ok();
    if ip && names.iter().any(|n| n.strip_prefix("DNS:") == Some(host)) {
        words += &format!(
            "; an IP address needs an IP SAN, not a DNS one (subjectAltName = IP:{host}, not DNS:{host})"
        );
    }
    words
}

/// A name as webpki presents it (`DnsName("a")`, `IpAddress(1.2.3.4)`,
/// `UniformResourceIdentifier("u")`), as openssl writes it (`DNS:a`, `IP:…`,
/// `URI:…`); anything else in plain words.
fn presented_name(presented: &str) -> String {
    let inner = |prefix: &str| {
        presented
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(')'))
            .map(|v| v.trim_matches('"').to_string())
    };
    if let Some(dns) = inner("DnsName(") {
        format!("DNS:{}", crate::text::escape(&dns))
    } else if let Some(ip) = inner("IpAddress(") {
        format!("IP:{}", crate::text::escape(&ip))
    } else if let Some(uri) = inner("UniformResourceIdentifier(") {
        format!("URI:{}", crate::text::escape(&uri))
    } else {
        words_without_debug(presented)
    }
}

/// Words for a certificate refusal that has none of its own above.
fn certificate_words(err: &CertificateError, ca_hint: Hint) -> (String, Hint) {
    let reason = match err {
        CertificateError::BadEncoding => "the certificate could not be read (bad encoding)",
        CertificateError::BadSignature
        | CertificateError::UnsupportedSignatureAlgorithmContext { .. }
        | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
            "the certificate's signature is invalid or uses an algorithm that is not supported"
        }
        CertificateError::Revoked => "the certificate has been revoked",
        CertificateError::ApplicationVerificationFailure => "the certificate was refused",
        CertificateError::Other(other) => {
            return match other.0.downcast_ref::<webpki::Error>() {
                Some(e) => webpki_words(e, ca_hint),
                None => (
                    format!(
                        "certificate rejected: {}",
                        words_without_debug(&other.to_string())
                    ),
                    ca_hint,
                ),
            };
        }
        other => {
            return (
                format!(
                    "certificate rejected: {}",
                    words_without_debug(&format!("{other:?}"))
                ),
                ca_hint,
            )
        }
    };
    (reason.to_string(), Hint::CheckTls)
}

/// webpki's refusals that rustls passes on as `Other`, in words.
fn webpki_words(err: &webpki::Error, ca_hint: Hint) -> (String, Hint) {
    use webpki::Error as E;
    let reason = match err {
        E::CaUsedAsEndEntity => return (ca_as_end_entity("the server's"), ca_hint),
        E::EndEntityUsedAsCa => {
            "a certificate in the chain that is not a CA (CA:FALSE) signed the server's certificate"
        }
        E::PathLenConstraintViolated => "the chain is longer than a CA in it allows (pathlen)",
        E::UnsupportedCriticalExtension => {
            "the certificate has a critical extension that is not supported"
        }
        E::UnsupportedCertVersion => "the certificate is not an X.509 v3 certificate",
        E::MaximumPathDepthExceeded | E::MaximumPathBuildCallsExceeded => {
            "the certificate chain is too long or too tangled to verify"
        }
        E::NameConstraintViolation => "the certificate's name is outside its CA's name constraints",
        _ => {
            return (
                format!(
                    "certificate rejected: {}",
                    words_without_debug(&format!("{err:?}"))
                ),
                ca_hint,
            )
        }
    };
    (reason.to_string(), Hint::CheckTls)
}

/// Debug text (`SomeName(Inner(x))`) as words: each `CamelCase` name split
/// and lower-cased, the brackets and quotes dropped (`some name: inner: x`).
fn words_without_debug(text: &str) -> String {
    let debug = text
        .char_indices()
        .any(|(i, c)| c == '(' && text[..i].ends_with(|p: char| p.is_ascii_alphanumeric()))
        || text.chars().next().is_some_and(|c| c.is_ascii_uppercase());
    if !debug {
        return text.to_string();
    }
    let mut out = String::new();
    let mut prev_lower = false;
    for c in text.chars() {
        match c {
            '(' | '{' => {
                out.push_str(": ");
                prev_lower = false;
            }
            ')' | '}' | '"' => {}
            c if c.is_ascii_uppercase() => {
                if prev_lower {
                    out.push(' ');
                }
                out.push(c.to_ascii_lowercase());
                prev_lower = false;
            }
            c => {
                prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
                out.push(c);
            }
        }
    }
    out.trim().to_string()
}

fn host_only(registry: &str) -> &str {
    if let Some(rest) = registry.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    registry.split(':').next().unwrap_or(registry)
}
