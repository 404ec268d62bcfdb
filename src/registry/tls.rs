//! TLS set-up with rustls: the system's roots, extra CAs (a CA file, docker's
//! `certs.d/<host:port>/`), client certificates for mutual TLS, and certificate
//! errors turned into messages that say which flag or path fixes them.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use super::error::{RegistryError, Result};

/// Where docker keeps per-registry certificates.
pub const DEFAULT_CERTS_DIR: &str = "/etc/docker/certs.d";

/// How to verify the registry's certificate.
#[derive(Clone, Debug, Default)]
pub struct TlsOptions {
    /// Extra CA certificates (PEM).
    pub ca_files: Vec<PathBuf>,
    /// Docker's `certs.d` folder; `None` means [`DEFAULT_CERTS_DIR`].
    pub certs_dir: Option<PathBuf>,
    /// Skip certificate verification altogether.
    pub insecure: bool,
}

impl TlsOptions {
    /// The `certs.d` folder in force.
    pub fn certs_dir(&self) -> PathBuf {
        self.certs_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CERTS_DIR))
    }

    /// The folder docker reads for `registry` (`host:port`, or `host` for 443).
    pub fn host_dir(&self, registry: &str) -> PathBuf {
        self.certs_dir().join(registry)
    }
}

/// Builds the rustls configuration for talking to `registry` (`host[:port]`),
/// its own origin alone: `--insecure`, its `certs.d` folder (CAs and client
/// certificate) apply here and nowhere else ([`elsewhere_config`]).
pub fn client_config(registry: &str, opts: &TlsOptions) -> Result<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| RegistryError::Config(format!("TLS set-up: {e}")))?;

    let builder = if opts.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
    } else {
        // The system's trust store, or the bundle or folder named by
        // SSL_CERT_FILE / SSL_CERT_DIR, read at the first handshake (a plain
        // HTTP registry never needs it). A certificate there is trusted as one
        // given as CA is: a self-signed CA:TRUE certificate served as the
        // registry's own included (matched byte for byte).
        let mut given = Vec::new();
        for source in extra_sources(registry, opts) {
            given.extend(source.certs?);
        }
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier(given, true, provider)?))
    };

    let identity = match trusted_certs_d(registry, opts) {
        Ok(dir) => client_identity(&dir)?,
        Err(_) => None,
    };
    let config = match identity {
        Some((certs, key)) => builder
            .with_client_auth_cert(certs, key)
            .map_err(|e| RegistryError::Config(format!("client certificate: {e}")))?,
        None => builder.with_no_client_auth(),
    };
    Ok(http1(config))
}

/// Builds the rustls configuration for every other origin a registry sends the
/// client to (a token realm, a redirect to blob storage): verified with the
/// system's store and the CA files given, never with `--insecure` or the
/// registry's `certs.d`, and without a client certificate.
pub fn elsewhere_config(opts: &TlsOptions) -> Result<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut given = Vec::new();
    for source in ca_file_sources(opts) {
        given.extend(source.certs?);
    }
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| RegistryError::Config(format!("TLS set-up: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier(given, true, provider)?))
        .with_no_client_auth();
    Ok(http1(config))
}

/// HTTP/1.1 only: HTTP/2 cost Distribution 7-8% more CPU per request and made
/// no listing faster (measured in BENCHMARKS.md).
fn http1(mut config: ClientConfig) -> ClientConfig {
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}

/// The system's trust store (or the bundle or folder named by SSL_CERT_FILE /
/// SSL_CERT_DIR), read once per run however many clients and probes use it.
fn system_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| rustls_native_certs::load_native_certs().certs)
}

/// A verifier trusting `given` certificates, and the system's with `system`, as
/// CAs (a served certificate equal to one of them is accepted even when it is a
/// CA, its name still checked). A given certificate webpki cannot use is an
/// error now; the system's store is read at the first handshake, and what webpki
/// cannot parse there is skipped, as everywhere.
pub(super) fn verifier(
    given: Vec<CertificateDer<'static>>,
    system: bool,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<Verifier> {
    let mut roots = RootCertStore::empty();
    for cert in &given {
        roots
            .add(cert.clone())
            .map_err(|e| RegistryError::Config(format!("CA certificate rejected: {e}")))?;
    }
    Ok(Verifier {
        given,
        given_roots: roots,
        system,
        provider,
        inner: OnceLock::new(),
    })
}

/// A place certificates are trusted from, besides the system's store.
pub(super) struct Source {
    /// Where, in words: `--ca-file PATH`, `PATH (certs.d)`.
    pub(super) label: String,
    pub(super) certs: Result<Vec<CertificateDer<'static>>>,
}

/// The CA files given, which every origin trusts (but those another user could
/// have written: [`ca_files`] names them).
fn ca_file_sources(opts: &TlsOptions) -> Vec<Source> {
    sources(given_ca_files(opts).0)
}

pub(super) fn extra_sources(registry: &str, opts: &TlsOptions) -> Vec<Source> {
    sources(ca_files(registry, opts).0)
}

pub(super) fn sources(files: Vec<(String, PathBuf)>) -> Vec<Source> {
    files
        .into_iter()
        .map(|(label, file)| Source {
            label,
            certs: read_certs(&file),
        })
        .collect()
}

/// The CA files trusted for `registry`, each with its label (`--ca-file PATH`,
/// `PATH (certs.d)`): the `--ca-file`s, then the `*.crt` of its certs.d folder.
/// A file or folder another user could have written is left out, as ssh leaves
/// out such keys; the warnings (second) say which and why, for the caller to show.
pub fn ca_files(registry: &str, opts: &TlsOptions) -> (Vec<(String, PathBuf)>, Vec<String>) {
    let (mut files, mut refused) = given_ca_files(opts);
    match trusted_certs_d(registry, opts) {
        Ok(dir) => {
            for file in files_with_extension(&dir, "crt") {
                let label = format!("{} (certs.d)", file.display());
                trust(label, file, &mut files, &mut refused);
            }
        }
        Err(warning) => refused.push(warning),
    }
    (files, refused)
}

/// [`ca_files`] of `--ca-file` alone.
fn given_ca_files(opts: &TlsOptions) -> (Vec<(String, PathBuf)>, Vec<String>) {
    let (mut files, mut refused) = (Vec::new(), Vec::new());
    for file in &opts.ca_files {
        let label = format!("--ca-file {}", file.display());
        trust(label, file.clone(), &mut files, &mut refused);
    }
    (files, refused)
}

/// Adds `file` to `files`, or its warning to `refused` when another user could
/// have written it.
pub(super) fn trust(
    label: String,
    file: PathBuf,
    files: &mut Vec<(String, PathBuf)>,
    refused: &mut Vec<String>,
) {
    // What is not a regular file is not left out: reading it says what it is.
    let regular = std::fs::metadata(&file).is_ok_and(|m| m.is_file());
    match crate::file::writable_by_others(&file).filter(|_| regular) {
        Some(why) => refused.push(refusal(&file, &why)),
        None => files.push((label, file)),
    }
}

/// `registry`'s certs.d folder, unless another user could have written it (the
/// warning then).
fn trusted_certs_d(registry: &str, opts: &TlsOptions) -> std::result::Result<PathBuf, String> {
    let dir = opts.host_dir(registry);
    match crate::file::writable_by_others(&dir) {
        Some(why) => Err(format!(
            "{} (its CA and client certificates)",
            refusal(&dir, &why)
        )),
        None => Ok(dir),
    }
}

pub(super) fn refusal(path: &Path, why: &str) -> String {
    format!(
        "ignoring {}: {why}, so another user could make regctl trust a certificate of theirs \
         (`chmod go-w` it, and give it to root or to yourself)",
        path.display()
    )
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let fail = |e: &dyn std::fmt::Display| {
        RegistryError::Config(format!("cannot read CA file {}: {e}", path.display()))
    };
    let pem = crate::file::read(path).map_err(|e| fail(&e))?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&pem)
        .map(|cert| cert.map(CertificateDer::into_owned))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| fail(&e))?;
    if certs.is_empty() {
        return Err(RegistryError::Config(format!(
            "CA file {} holds no PEM certificate",
            path.display()
        )));
    }
    Ok(certs)
}

fn files_with_extension(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

/// Docker's rule: `client.cert` goes with `client.key` (same stem) in the host folder.
fn client_identity(
    dir: &Path,
) -> Result<Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>> {
    let Some(cert_file) = files_with_extension(dir, "cert").into_iter().next() else {
        return Ok(None);
    };
    let key_file = cert_file.with_extension("key");
    if !key_file.exists() {
        return Err(RegistryError::Config(format!(
            "client certificate {} has no matching key {}",
            cert_file.display(),
            key_file.display()
        )));
    }
    let certs = read_certs(&cert_file)?;
    let key = crate::file::read(&key_file)
        .map_err(|e| e.to_string())
        .and_then(|pem| PrivateKeyDer::from_pem_slice(&pem).map_err(|e| e.to_string()))
        .map_err(|e| {
            RegistryError::Config(format!(
                "cannot read client key {}: {e}",
                key_file.display()
            ))
        })?;
    Ok(Some((certs, key)))
}

/// The standard verifier, plus one allowance docker and skopeo make: a self-signed
/// certificate marked `CA:TRUE` (what `openssl req -x509` makes) is accepted as the
/// server's own when it is exactly a certificate trusted as CA (given, in
/// `certs.d`, or in the system's trust store). Serving a trusted CA certificate
/// takes its private key (the handshake proves it), so this trusts no one new. The
/// rest of what webpki checks of a server's certificate is checked here
/// ([`check_as_server_certificate`]): its validity period, its extended key usage
/// and the name.
#[derive(Debug)]
pub(super) struct Verifier {
    /// The certificates the user gave (a CA file, `certs.d`).
    given: Vec<CertificateDer<'static>>,
    /// The same, as trust anchors (checked when the verifier is made).
    given_roots: RootCertStore,
    /// Whether the system's trust store is trusted too.
    system: bool,
    provider: Arc<rustls::crypto::CryptoProvider>,
    /// webpki's verifier over the trusted certificates, built at the first
    /// handshake.
    inner: OnceLock<std::result::Result<Arc<WebPkiServerVerifier>, String>>,
}

/// Certificates trusted as CAs, and whether the system's store is trusted too.
pub(super) type TrustSet = (Vec<CertificateDer<'static>>, bool);

/// The handshake error when not one CA certificate is trusted.
pub(super) const NO_TRUSTED_CA: &str = "no CA certificate is trusted: the system's trust store is empty or unreadable (or SSL_CERT_FILE / SSL_CERT_DIR name none)";

impl Verifier {
    fn inner(&self) -> std::result::Result<&Arc<WebPkiServerVerifier>, rustls::Error> {
        self.inner
            .get_or_init(|| {
                let mut roots = self.given_roots.clone();
                roots.add_parsable_certificates(self.system_roots().iter().cloned());
                // Fails only when no certificate is trusted at all.
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
                    .build()
                    .map_err(|_| NO_TRUSTED_CA.to_string())
            })
            .as_ref()
            .map_err(|e| rustls::Error::General(e.clone()))
    }

    /// True when `cert` is exactly one of the trusted certificates.
    fn trusts_exactly(&self, cert: &CertificateDer<'_>) -> bool {
        let same = |p: &CertificateDer<'_>| p.as_ref() == cert.as_ref();
        self.given.iter().any(same) || self.system_roots().iter().any(same)
    }

    fn system_roots(&self) -> &'static [CertificateDer<'static>] {
        if self.system {
            system_roots()
        } else {
            &[]
        }
    }
}

/// What webpki checks of a server's own certificate, besides its chain, for a
/// trusted CA certificate served as the server's own: valid at `now`, for TLS
/// servers (an extended key usage with `serverAuth`, or none at all, as webpki
/// asks), and for `server_name` (its subjectAltName; webpki reads no CN). webpki
/// stops at `CaUsedAsEndEntity` before its key-usage check, and the order of its
/// other checks is not a promise: each is made here.
fn check_as_server_certificate(
    cert: &CertificateDer<'_>,
    server_name: &ServerName<'_>,
    now: UnixTime,
) -> std::result::Result<(), rustls::Error> {
    use x509_parser::prelude::{FromDer as _, X509Certificate};
    let (_, parsed) = X509Certificate::from_der(cert.as_ref())
        .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
    let validity = parsed.validity();
    let now_secs = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    if now_secs < validity.not_before.timestamp() {
        return Err(CertificateError::NotValidYet.into());
    }
    if now_secs > validity.not_after.timestamp() {
        return Err(CertificateError::Expired.into());
    }
    match parsed.extended_key_usage() {
        Ok(None) => {}
        Ok(Some(eku)) if eku.value.server_auth => {}
        Ok(Some(_)) => return Err(CertificateError::InvalidPurpose.into()),
        // Twice, or unreadable.
        Err(_) => return Err(CertificateError::BadEncoding.into()),
    }
    let parsed = rustls::server::ParsedCertificate::try_from(cert)?;
    rustls::client::verify_server_name(&parsed, server_name)
}

pub(super) fn is_ca_used_as_end_entity(err: &rustls::Error) -> bool {
    match err {
        rustls::Error::InvalidCertificate(CertificateError::Other(other)) => {
            other.0.downcast_ref::<webpki::Error>() == Some(&webpki::Error::CaUsedAsEndEntity)
        }
        _ => false,
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match self.inner()?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(e) if is_ca_used_as_end_entity(&e) && self.trusts_exactly(end_entity) => {
                check_as_server_certificate(end_entity, server_name, now)?;
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Verification off: any certificate is accepted; handshake signatures are still checked.
#[derive(Debug)]
pub(super) struct NoVerification(pub(super) Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::tls_words::{describe_tls, name_mismatch, reason_and_hint};
    use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair};
    use std::time::Duration;

    /// A self-signed CA:TRUE certificate for 127.0.0.1 and registry.example (the
    /// seed's kind), changed by `edit`.
    fn self_signed_ca(edit: impl FnOnce(&mut CertificateParams)) -> CertificateDer<'static> {
        let names = vec!["127.0.0.1".to_string(), "registry.example".to_string()];
        let mut params = CertificateParams::new(names).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        edit(&mut params);
        params
            .self_signed(&KeyPair::generate().unwrap())
            .unwrap()
            .der()
            .clone()
    }

    /// `cert` served as the server's own, for `name`, with `cert` alone trusted.
    fn verify(
        cert: &CertificateDer<'static>,
        name: &str,
    ) -> std::result::Result<(), rustls::Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = verifier(vec![cert.clone()], false, provider).unwrap();
        let name = ServerName::try_from(name.to_string()).unwrap();
        verifier
            .verify_server_cert(cert, &[], &name, &[], UnixTime::now())
            .map(|_| ())
    }

    fn words(err: &rustls::Error) -> String {
        describe_tls(err, "127.0.0.1:5000", &TlsOptions::default()).to_string()
    }

    #[test]
    fn a_trusted_ca_served_as_the_servers_own_is_still_checked_as_a_server_certificate() {
        let seed = self_signed_ca(|_| {});
        verify(&seed, "127.0.0.1").unwrap();
        verify(&seed, "registry.example").unwrap();
        let for_servers_too = self_signed_ca(|p| {
            p.extended_key_usages = vec![
                ExtendedKeyUsagePurpose::ClientAuth,
                ExtendedKeyUsagePurpose::ServerAuth,
            ]
        });
        verify(&for_servers_too, "127.0.0.1").unwrap();

        let for_clients =
            self_signed_ca(|p| p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth]);
        let err = verify(&for_clients, "127.0.0.1").unwrap_err();
        assert!(
            matches!(
                err,
                rustls::Error::InvalidCertificate(CertificateError::InvalidPurpose)
            ),
            "{err:?}"
        );
        assert!(words(&err).contains("lacks serverAuth"), "{}", words(&err));
        let for_code =
            self_signed_ca(|p| p.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning]);
        assert!(verify(&for_code, "127.0.0.1").is_err());

        let err = verify(&seed, "other.example").unwrap_err();
        assert!(words(&err).contains("not valid for the name"), "{err:?}");

        let expired = self_signed_ca(|p| {
            p.not_before = rcgen::date_time_ymd(2020, 1, 1);
            p.not_after = rcgen::date_time_ymd(2021, 1, 1);
        });
        let err = verify(&expired, "127.0.0.1").unwrap_err();
        assert!(words(&err).contains("expired"), "{err:?}");
    }

    #[test]
    fn the_allowance_checks_the_validity_period_itself() {
        // webpki checks it before it stops at CaUsedAsEndEntity today; the
        // allowance does not count on that order.
        let seed = self_signed_ca(|p| {
            p.not_before = rcgen::date_time_ymd(2030, 1, 1);
            p.not_after = rcgen::date_time_ymd(2031, 1, 1);
        });
        let name = ServerName::try_from("127.0.0.1").unwrap();
        // A year of 365.25 days from 1970: `at(2030.5)` is mid-2030.
        let at = |year: f64| {
            UnixTime::since_unix_epoch(Duration::from_secs_f64((year - 1970.0) * 31_557_600.0))
        };
        check_as_server_certificate(&seed, &name, at(2030.5)).unwrap();
        assert_eq!(
            check_as_server_certificate(&seed, &name, at(2029.5)),
            Err(CertificateError::NotValidYet.into())
        );
        assert_eq!(
            check_as_server_certificate(&seed, &name, at(2032.0)),
            Err(CertificateError::Expired.into())
        );
    }

    #[test]
    fn a_name_mismatch_lists_the_names_and_says_when_an_ip_needs_an_ip_san() {
        let dns_ip = name_mismatch("127.0.0.1", Some(&[r#"DnsName("127.0.0.1")"#.into()]));
        assert!(dns_ip.contains("it carries DNS:127.0.0.1"), "{dns_ip}");
        assert!(
            dns_ip.contains("an IP address needs an IP SAN, not a DNS one"),
            "{dns_ip}"
        );
        let other = name_mismatch(
            "registry.lan",
            Some(&[
                r#"DnsName("example.com")"#.into(),
                "IpAddress(10.0.0.1)".into(),
            ]),
        );
        assert!(
            other.ends_with("it carries DNS:example.com, IP:10.0.0.1"),
            "{other}"
        );
        assert!(name_mismatch("r", Some(&[])).contains("no names"));
    }

    #[test]
    fn no_refusal_reads_as_rust_debug_text() {
        let opts = TlsOptions::default();
        let all: Vec<rustls::Error> = vec![
            CertificateError::Other(rustls::OtherError(Arc::new(
                webpki::Error::CaUsedAsEndEntity,
            )))
            .into(),
            CertificateError::Other(rustls::OtherError(Arc::new(
                webpki::Error::UnsupportedCriticalExtension,
            )))
            .into(),
            CertificateError::Other(rustls::OtherError(Arc::new(webpki::Error::TrailingData(
                webpki::DerTypeId::Certificate,
            ))))
            .into(),
            CertificateError::NotValidForNameContext {
                expected: ServerName::try_from("127.0.0.1").unwrap(),
                presented: vec![r#"DnsName("127.0.0.1")"#.into()],
            }
            .into(),
            CertificateError::BadEncoding.into(),
            CertificateError::Revoked.into(),
            CertificateError::UnknownRevocationStatus.into(),
            rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure),
            rustls::Error::PeerIncompatible(rustls::PeerIncompatible::Tls12NotOffered),
        ];
        for err in all {
            let (reason, _) = reason_and_hint(&err, "127.0.0.1:5000", &opts);
            let debug = reason.char_indices().any(|(i, c)| {
                c == '(' && reason[..i].ends_with(|p: char| p.is_ascii_alphanumeric())
            });
            assert!(!debug, "{err:?}: {reason}");
            assert!(
                !reason.contains("Other") && !reason.contains("Name("),
                "{reason}"
            );
        }
    }
}
