//! `doctor`'s look at a registry's TLS: a handshake that accepts any
//! certificate (to see it), then the served chain checked against each trust
//! source alone, so that the diagnosis can say which one verifies it.

use std::sync::Arc;

use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::ClientConfig;

use super::error::Result;
use super::hint::Hint;

use super::tls::{extra_sources, verifier, NoVerification, TlsOptions, TrustSet};
use super::tls_words::{find_in_io, protocol_words, reason_and_hint};

/// Why the TLS handshake gave nothing to look at.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// regctl's own TLS set-up failed.
    #[error("{0}")]
    Setup(String),
    /// The host cannot be a TLS server name.
    #[error("`{host}` is not a TLS server name: {reason}")]
    NotAServerName {
        /// The host as given.
        host: String,
        /// Why not.
        reason: String,
    },
    /// The first answer was not TLS: the port speaks something else (plain HTTP?).
    #[error("handshake: {0}")]
    NotTls(String),
    /// The handshake failed otherwise.
    #[error("handshake: {0}")]
    Handshake(String),
    /// The handshake ended without a certificate.
    #[error("the registry sent no certificate")]
    NoCertificate,
}

/// What a TLS handshake with the registry showed, for a diagnosis.
#[derive(Clone, Debug)]
pub struct TlsReport {
    /// The protocol negotiated (`TLS 1.3`).
    pub protocol: String,
    /// The served certificate chain, leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    /// The trust source that verifies it: `the system's trust store`, `--ca-file
    /// PATH` or `PATH (certs.d)`; none when none does.
    pub trusted_by: Option<String>,
    /// Why the certificate is refused when no source verifies it.
    pub refused: Option<String>,
    /// What to do about that refusal (`None` for a reason of regctl's own:
    /// an unreadable trust source, no CA trusted at all).
    pub fix: Option<Hint>,
}

/// Shakes hands with `host:port` over `stream` (accepting any certificate, to
/// see it), then checks the served chain against each trust source alone. The
/// handshake is asynchronous: the caller bounds it in time (a server may trickle
/// it a byte at a time, or never finish it), and dropping the future abandons it.
pub async fn probe(
    stream: tokio::net::TcpStream,
    registry: &str,
    host: &str,
    opts: &TlsOptions,
) -> std::result::Result<TlsReport, ProbeError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ProbeError::Setup(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(NoVerification(provider.clone())))
        .with_no_client_auth();
    let name = ServerName::try_from(
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
    )
    .map_err(|e| ProbeError::NotAServerName {
        host: host.to_string(),
        reason: e.to_string(),
    })?;
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name.clone(), stream)
        .await
        .map_err(|e| {
            // A corrupt first record: what answered does not speak TLS.
            if matches!(find_in_io(&e), Some(rustls::Error::InvalidMessage(_))) {
                ProbeError::NotTls(e.to_string())
            } else {
                ProbeError::Handshake(e.to_string())
            }
        })?;
    let (_, connection) = tls.get_ref();
    let protocol = connection
        .protocol_version()
        .map(protocol_words)
        .unwrap_or_default();
    let chain: Vec<CertificateDer<'static>> = connection
        .peer_certificates()
        .unwrap_or_default()
        .iter()
        .map(|c| c.clone().into_owned())
        .collect();
    let Some((leaf, intermediates)) = chain.split_first() else {
        return Err(ProbeError::NoCertificate);
    };
    let now = UnixTime::now();
    let check = |(certs, system): TrustSet| {
        verifier(certs, system, provider.clone())
            .map_err(|e| (e.to_string(), None))
            .and_then(|v| {
                v.verify_server_cert(leaf, intermediates, &name, &[], now)
                    .map(|_| ())
                    .map_err(|e| match e {
                        // Our own words, without rustls' "unexpected error" before them.
                        rustls::Error::General(reason) => (reason, None),
                        other => {
                            let (reason, hint) = reason_and_hint(&other, registry, opts);
                            (reason, Some(hint))
                        }
                    })
            })
    };
    // The sources the user gave first: their refusal is the one worth reading.
    let mut sources: Vec<(String, Result<TrustSet>)> = extra_sources(registry, opts)
        .into_iter()
        .map(|s| (s.label, s.certs.map(|c| (c, false))))
        .collect();
    sources.push((
        "the system's trust store (or SSL_CERT_FILE / SSL_CERT_DIR)".to_string(),
        Ok((Vec::new(), true)),
    ));
    let mut refused = None;
    let mut trusted_by = None;
    for (label, certs) in sources {
        match certs.map_err(|e| (e.to_string(), None)).and_then(check) {
            Ok(()) => {
                trusted_by = Some(label);
                break;
            }
            Err(e) => {
                refused.get_or_insert(e);
            }
        }
    }
    let (refused, fix) = match (&trusted_by, refused) {
        (None, Some((reason, fix))) => (Some(reason), fix),
        _ => (None, None),
    };
    Ok(TlsReport {
        protocol,
        chain,
        refused,
        fix,
        trusted_by,
    })
}

/// Names, expiry, self-signed, CA:TRUE, in words.
pub fn certificate_facts(der: &[u8]) -> String {
    use x509_parser::prelude::*;
    let Ok((_, cert)) = X509Certificate::from_der(der) else {
        return "the certificate could not be parsed".into();
    };
    let mut names: Vec<String> = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(d) => names.push(format!("DNS:{}", crate::text::escape(d))),
                GeneralName::IPAddress(ip) => names.push(match ip.len() {
                    4 => format!("IP:{}", std::net::Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3])),
                    16 => <[u8; 16]>::try_from(*ip)
                        .map(|b| format!("IP:{}", std::net::Ipv6Addr::from(b)))
                        .unwrap_or_default(),
                    _ => String::new(),
                }),
                _ => {}
            }
        }
    }
    let mut facts = vec![format!(
        "names: {}",
        if names.is_empty() {
            "none (subject alternative names missing)".into()
        } else {
            names.join(", ")
        }
    )];
    let not_after = cert.validity().not_after;
    let expired = !cert.validity().is_valid();
    facts.push(format!(
        "{} {}",
        if expired {
            "EXPIRED or not yet valid, until"
        } else {
            "valid until"
        },
        not_after
    ));
    if cert.subject() == cert.issuer() {
        facts.push("self-signed".into());
    }
    if cert.is_ca() {
        facts.push(
            "CA:TRUE served as the registry's own (accepted when trusted byte for byte)".into(),
        );
    }
    facts.join("; ")
}
