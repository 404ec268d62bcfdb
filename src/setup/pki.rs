//! The certificates of a set-up, made with rcgen (ECDSA P-256 keys):
//!
//! - the default: a local CA (CA:TRUE, path length 0, allowed to sign only the
//!   registry's own names) and a server certificate it signs: CA:FALSE,
//!   serverAuth, every host in subjectAltName (DNS names as DNS, addresses as
//!   IP). Every client accepts that pair: Go since 1.15 (docker, containerd,
//!   Distribution, skopeo), rustls and browsers;
//! - the seed's style: one self-signed certificate that is its own CA
//!   (CA:TRUE), as `openssl req -x509` makes it. rustls and Firefox refuse it
//!   as a server certificate.

use std::net::IpAddr;

use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DnType, ExtendedKeyUsagePurpose,
    GeneralSubtree, IsCa, KeyPair, KeyUsagePurpose, NameConstraints, SanType, SerialNumber,
};
use time::{Duration, OffsetDateTime};

/// A certificate and its private key, both PEM.
pub struct Pem {
    /// The certificate.
    pub cert: String,
    /// Its private key (PKCS#8).
    pub key: String,
}

/// Why certificates could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// A host is neither an IP address nor a DNS name.
    #[error("`{0}` is not a host name or an IP address")]
    BadHost(String),
    /// No host was given.
    #[error("no host name: give --host with each name clients use to reach the registry")]
    NoHost,
    /// The certificate library failed.
    #[error("cannot make the certificate: {0}")]
    Rcgen(#[from] rcgen::Error),
    /// No random bytes for the serial number.
    #[error("no random bytes from the system: {0}")]
    Random(String),
}

/// A local CA and a server certificate it signs for `hosts`, both valid for
/// `days` from an hour ago (an hour for clocks a little behind).
pub fn ca_and_server(hosts: &[String], days: u32) -> Result<(Pem, Pem), PkiError> {
    let names = names(hosts)?;
    let ca_key = KeyPair::generate()?;
    let mut ca = params(&format!("regctl registry CA for {}", hosts[0]), days)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.name_constraints = Some(NameConstraints {
        permitted_subtrees: names.iter().map(subtree).collect(),
        excluded_subtrees: Vec::new(),
    });
    let ca_cert = ca.self_signed(&ca_key)?;

    let server_key = KeyPair::generate()?;
    let mut server = params(&hosts[0], days)?;
    server.is_ca = IsCa::ExplicitNoCa;
    server.subject_alt_names = names;
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server.use_authority_key_identifier_extension = true;
    let server_cert = server.signed_by(&server_key, &ca_cert, &ca_key)?;
    Ok((
        Pem {
            cert: ca_cert.pem(),
            key: ca_key.serialize_pem(),
        },
        Pem {
            cert: server_cert.pem(),
            key: server_key.serialize_pem(),
        },
    ))
}

/// The seed's certificate: self-signed, CA:TRUE, `hosts` in subjectAltName.
pub fn seed_style(hosts: &[String], days: u32) -> Result<Pem, PkiError> {
    let key = KeyPair::generate()?;
    let mut params = params(&hosts[0], days)?;
    params.subject_alt_names = names(hosts)?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key)?;
    Ok(Pem {
        cert: cert.pem(),
        key: key.serialize_pem(),
    })
}

fn params(common_name: &str, days: u32) -> Result<CertificateParams, PkiError> {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(i64::from(days));
    params.serial_number = Some(serial()?);
    Ok(params)
}

/// 16 random bytes, the first bit clear (a positive number, as RFC 5280 wants).
fn serial() -> Result<SerialNumber, PkiError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| PkiError::Random(e.to_string()))?;
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    Ok(SerialNumber::from_slice(&bytes))
}

/// Each host as a subjectAltName: an IP address, else a DNS name.
fn names(hosts: &[String]) -> Result<Vec<SanType>, PkiError> {
    if hosts.is_empty() {
        return Err(PkiError::NoHost);
    }
    hosts
        .iter()
        .map(|host| match host.parse::<IpAddr>() {
            Ok(ip) => Ok(SanType::IpAddress(ip)),
            Err(_) if valid_dns_name(host) => Ok(SanType::DnsName(
                host.as_str()
                    .try_into()
                    .map_err(|_| PkiError::BadHost(host.clone()))?,
            )),
            Err(_) => Err(PkiError::BadHost(host.clone())),
        })
        .collect()
}

/// Letters, digits and hyphens in dot-separated labels of 1 to 63 characters.
pub fn valid_dns_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// The name constraint that lets the CA sign `name` and nothing else.
fn subtree(name: &SanType) -> GeneralSubtree {
    match name {
        SanType::IpAddress(IpAddr::V4(ip)) => {
            GeneralSubtree::IpAddress(CidrSubnet::V4(ip.octets(), [255; 4]))
        }
        SanType::IpAddress(IpAddr::V6(ip)) => {
            GeneralSubtree::IpAddress(CidrSubnet::V6(ip.octets(), [255; 16]))
        }
        SanType::DnsName(name) => GeneralSubtree::DnsName(name.as_str().to_string()),
        other => unreachable!("names() makes only IP and DNS names, not {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::prelude::*;

    fn parse(pem: &str) -> Vec<u8> {
        let (_, pem) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).unwrap();
        pem.contents
    }

    #[test]
    fn the_server_certificate_is_no_ca_and_names_every_host() {
        let hosts = ["registry.example".to_string(), "10.0.0.5".to_string()];
        let (ca, server) = ca_and_server(&hosts, 30).unwrap();
        let der = parse(&server.cert);
        let (_, cert) = X509Certificate::from_der(&der).unwrap();
        assert!(!cert.is_ca());
        let san = cert.subject_alternative_name().unwrap().unwrap().value;
        let names: Vec<String> = san.general_names.iter().map(|n| n.to_string()).collect();
        assert_eq!(
            names,
            ["DNSName(registry.example)", "IPAddress(0a:00:00:05)"]
        );
        let eku = cert.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.server_auth);
        let ca_der = parse(&ca.cert);
        let (_, ca_cert) = X509Certificate::from_der(&ca_der).unwrap();
        assert!(ca_cert.is_ca());
        assert!(ca_cert.name_constraints().unwrap().is_some());
        assert!(server.key.contains("PRIVATE KEY") && ca.key.contains("PRIVATE KEY"));
    }

    #[test]
    fn a_host_that_is_no_name_is_refused() {
        assert!(matches!(
            ca_and_server(&["bad name".into()], 1),
            Err(PkiError::BadHost(_))
        ));
        assert!(matches!(ca_and_server(&[], 1), Err(PkiError::NoHost)));
    }
}
