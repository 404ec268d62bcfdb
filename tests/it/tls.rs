//! TLS: the seed's self-signed certificate via --ca-file or certs.d, clear errors
//! for untrusted, misnamed and expired certificates, --insecure, --plain-http, and
//! client certificates from certs.d.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};

use crate::fixture::{image, Storage};
use crate::harness::{regctl, seed_certificate, seed_certificate_with, Options, TestRegistry};

fn populate(s: &Storage) {
    s.push(
        "app",
        &["v1"],
        &image("linux/amd64", "2024-01-01T00:00:00Z", "tls"),
    );
}

fn with_credentials(r: crate::harness::Regctl) -> crate::harness::Regctl {
    r.logged_in()
}

#[test]
fn untrusted_certificate_names_the_fix_and_makes_no_fallback() {
    let reg = TestRegistry::start_with(Options::default(), populate);
    let certs = tempfile::tempdir().unwrap();
    let run = with_credentials(regctl())
        .args(["ls", &reg.host(), "--certs-dir"])
        .args([certs.path()])
        .run();
    run.code(1);
    assert_eq!(run.stdout, "");
    let expected_path = certs.path().join(reg.host()).join("ca.crt");
    assert!(run.stderr.contains("unknown authority"), "{}", run.stderr);
    assert!(run.stderr.contains("--ca-file"), "{}", run.stderr);
    assert!(
        run.stderr.contains(expected_path.to_str().unwrap()),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(&reg.host()), "{}", run.stderr);
}

#[test]
fn certs_d_folder_is_read_as_docker_reads_it() {
    let reg = TestRegistry::start_with(Options::default(), populate);
    let certs = tempfile::tempdir().unwrap();
    let host_dir = certs.path().join(reg.host());
    std::fs::create_dir_all(&host_dir).unwrap();
    std::fs::copy(&reg.ca, host_dir.join("ca.crt")).unwrap();
    let run = with_credentials(regctl())
        .args(["ls", &reg.host(), "--certs-dir"])
        .args([certs.path()])
        .run();
    run.success();
    assert_eq!(run.stdout, format!("{}/app:v1\n", reg.host()));
}

#[test]
fn insecure_skips_verification_with_a_warning() {
    let reg = TestRegistry::start_with(Options::default(), populate);
    let run = with_credentials(regctl())
        .args(["ls", &reg.host(), "--insecure"])
        .run();
    run.success();
    assert_eq!(run.stdout, format!("{}/app:v1\n", reg.host()));
    assert!(run.stderr.contains("warning: --insecure"), "{}", run.stderr);
}

#[test]
fn plain_http_talks_http_and_https_never_falls_back() {
    let reg = TestRegistry::start_with(Options::plain(), populate);
    let run = regctl().args(["ls", &reg.host(), "--plain-http"]).run();
    run.success();
    assert_eq!(run.stdout, format!("{}/app:v1\n", reg.host()));
    let https = regctl().args(["ls", &reg.host()]).run();
    https.code(1);
    assert!(
        https.stderr.contains("--plain-http"),
        "suggests the flag: {}",
        https.stderr
    );
    assert_eq!(https.stdout, "");
}

#[test]
fn seed_certificate_for_another_name_is_refused_with_the_name() {
    let dir = tempfile::tempdir().unwrap();
    // The seed's exact recipe: CN and SAN example.com, connected to by IP.
    let pair = seed_certificate(dir.path(), "seed", "DNS:example.com");
    let reg = TestRegistry::start_with(
        Options {
            cert: Some((pair.cert.clone(), pair.key.clone())),
            ..Options::default()
        },
        populate,
    );
    let run = regctl().trusted(&reg).args(["ls", &reg.host()]).run();
    run.code(1);
    assert!(
        run.stderr.contains("not valid for the name `127.0.0.1`"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_pinned_self_signed_ca_for_client_authentication_only_is_refused() {
    // The seed's recipe (openssl req -x509: CA:TRUE), for the right name, but
    // marked for TLS clients only: trusting it byte for byte (as a CA file, in
    // certs.d, or by doctor) does not make it a server's certificate.
    let dir = tempfile::tempdir().unwrap();
    let for_clients = seed_certificate_with(
        dir.path(),
        "for-clients",
        "IP:127.0.0.1",
        &["extendedKeyUsage = clientAuth"],
    );
    let reg = TestRegistry::start_with(
        Options {
            cert: Some((for_clients.cert.clone(), for_clients.key.clone())),
            ..Options::default()
        },
        populate,
    );
    let ls = regctl().trusted(&reg).args(["ls", &reg.host()]).run();
    ls.code(1);
    assert_eq!(ls.stdout, "");
    assert!(
        ls.stderr.contains("lacks serverAuth") && ls.stderr.contains(&reg.host()),
        "{}",
        ls.stderr
    );
    let certs = tempfile::tempdir().unwrap();
    let host_dir = certs.path().join(reg.host());
    std::fs::create_dir_all(&host_dir).unwrap();
    std::fs::copy(&reg.ca, host_dir.join("ca.crt")).unwrap();
    let certs_d = with_credentials(regctl())
        .args(["--certs-dir".as_ref(), certs.path().as_os_str()])
        .args(["digest", &format!("{}/app:v1", reg.host())])
        .run();
    certs_d.code(1);
    assert!(
        certs_d.stderr.contains("lacks serverAuth"),
        "{}",
        certs_d.stderr
    );
    let doctor = regctl()
        .trusted(&reg)
        .args(["doctor", &reg.host(), "--format", "plain"])
        .run();
    doctor.code(1);
    let tls_line = doctor.lines().into_iter().find(|l| l.starts_with("tls"));
    assert!(
        tls_line.is_some_and(|l| l.contains("FAIL") && l.contains("lacks serverAuth")),
        "{}",
        doctor.stdout
    );

    // Marked for servers (and clients): accepted, as is the seed's own
    // certificate, which has no extended key usage (every other test here).
    let for_servers = seed_certificate_with(
        dir.path(),
        "for-servers",
        "IP:127.0.0.1",
        &["extendedKeyUsage = serverAuth, clientAuth"],
    );
    let reg = TestRegistry::start_with(
        Options {
            cert: Some((for_servers.cert.clone(), for_servers.key.clone())),
            ..Options::default()
        },
        populate,
    );
    let ls = regctl().trusted(&reg).args(["ls", &reg.host()]).run();
    ls.success();
    assert_eq!(ls.stdout, format!("{}/app:v1\n", reg.host()));
}

fn write_pem(dir: &Path, name: &str, pem: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, pem).unwrap();
    path
}

#[test]
fn expired_self_signed_ca_is_refused_even_when_given_as_ca() {
    let dir = tempfile::tempdir().unwrap();
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let cert = params.self_signed(&key).unwrap();
    let cert_path = write_pem(dir.path(), "expired.pem", &cert.pem());
    let key_path = write_pem(dir.path(), "expired-key.pem", &key.serialize_pem());
    let reg = TestRegistry::start_with(
        Options {
            cert: Some((cert_path, key_path)),
            ..Options::default()
        },
        populate,
    );
    let run = regctl().trusted(&reg).args(["ls", &reg.host()]).run();
    run.code(1);
    assert!(run.stderr.contains("expired"), "{}", run.stderr);
}

#[test]
fn client_certificate_from_certs_d_for_mutual_tls() {
    let dir = tempfile::tempdir().unwrap();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let client_key = KeyPair::generate().unwrap();
    let client = CertificateParams::new(vec!["regctl-client".to_string()])
        .unwrap()
        .signed_by(&client_key, &ca, &ca_key)
        .unwrap();
    let client_ca = write_pem(dir.path(), "client-ca.pem", &ca.pem());
    let reg = TestRegistry::start_with(
        Options {
            client_ca: Some(client_ca),
            ..Options::default()
        },
        populate,
    );
    let certs = tempfile::tempdir().unwrap();
    let host_dir = certs.path().join(reg.host());
    std::fs::create_dir_all(&host_dir).unwrap();
    std::fs::copy(&reg.ca, host_dir.join("ca.crt")).unwrap();

    let without = with_credentials(regctl())
        .args(["ls", &reg.host(), "--certs-dir"])
        .args([certs.path()])
        .run();
    without.code(1);

    write_pem(&host_dir, "client.cert", &client.pem());
    write_pem(&host_dir, "client.key", &client_key.serialize_pem());
    let with = with_credentials(regctl())
        .args(["ls", &reg.host(), "--certs-dir"])
        .args([certs.path()])
        .run();
    with.success();
    assert_eq!(with.stdout, format!("{}/app:v1\n", reg.host()));
}

#[test]
fn the_seeds_certificate_in_a_bundle_named_by_ssl_cert_file_is_trusted() {
    // The seed installs its self-signed (CA:TRUE) certificate system-wide; a
    // bundle named by SSL_CERT_FILE stands for the system's store here. Another
    // self-signed certificate in the same bundle, for another name, trusts no
    // registry that serves it under a name it does not carry.
    let dir = tempfile::tempdir().unwrap();
    let other = seed_certificate(dir.path(), "other", "DNS:example.com");
    let reg = TestRegistry::start_with(Options::default(), populate);
    let bundle = dir.path().join("bundle.pem");
    let pem = |p: &Path| std::fs::read_to_string(p).unwrap();
    std::fs::write(&bundle, pem(&other.cert) + &pem(&reg.ca)).unwrap();
    let certs_d = tempfile::tempdir().unwrap();
    let system = |args: &[String]| {
        with_credentials(regctl())
            .env("SSL_CERT_FILE", &bundle)
            .args(["--certs-dir".as_ref(), certs_d.path().as_os_str()])
            .args(args)
            .run()
    };
    let host = reg.host();
    let ls = system(&["ls".into(), host.clone()]);
    ls.success();
    assert_eq!(ls.stdout, format!("{host}/app:v1\n"));
    system(&["digest".into(), format!("{host}/app:v1")]).success();
    system(&["rm".into(), format!("{host}/app:v1"), "--yes".into()]).success();

    let misnamed = TestRegistry::start_with(
        Options {
            cert: Some((other.cert.clone(), other.key.clone())),
            ..Options::default()
        },
        populate,
    );
    let refused = system(&["ls".into(), misnamed.host()]);
    refused.code(1);
    assert!(
        refused
            .stderr
            .contains("not valid for the name `127.0.0.1`"),
        "{}",
        refused.stderr
    );
    // Without the bundle, the error names every way to trust a certificate.
    let untrusted = with_credentials(regctl())
        .args(["--certs-dir".as_ref(), certs_d.path().as_os_str()])
        .args(["ls", &host])
        .run();
    untrusted.code(1);
    for way in ["--ca-file", "ca.crt", "SSL_CERT_FILE"] {
        assert!(untrusted.stderr.contains(way), "{}", untrusted.stderr);
    }
}

#[test]
fn an_empty_trust_store_fails_only_a_tls_handshake_and_says_so() {
    // A machine without CA certificates (a slim container): the store is read
    // at the first handshake, so plain HTTP works and a TLS registry's error
    // says what is missing and how to trust its CA.
    let empty = tempfile::tempdir().unwrap();
    let bundle = empty.path().join("empty.pem");
    std::fs::write(&bundle, "").unwrap();
    let bare = |r: crate::harness::Regctl| {
        r.env("SSL_CERT_FILE", &bundle)
            .env("SSL_CERT_DIR", empty.path())
    };
    let plain = TestRegistry::start_with(Options::plain(), populate);
    let run = bare(regctl())
        .args(["--plain-http", "ls", &plain.host()])
        .run();
    run.success();
    assert_eq!(run.stdout, format!("{}/app:v1\n", plain.host()));

    let reg = TestRegistry::start_with(Options::default(), populate);
    let refused = bare(with_credentials(regctl()))
        .args(["ls", &reg.host()])
        .run();
    refused.code(1);
    assert_eq!(refused.stdout, "");
    for expected in ["no CA certificate is trusted", "SSL_CERT_FILE", "--ca-file"] {
        assert!(refused.stderr.contains(expected), "{}", refused.stderr);
    }
    let trusted = bare(with_credentials(regctl()))
        .args(["--ca-file".as_ref(), reg.ca.as_os_str()])
        .args(["ls", &reg.host()])
        .run();
    trusted.success();
    assert_eq!(trusted.stdout, format!("{}/app:v1\n", reg.host()));
}

/// Rust debug text in `text`: a name that starts with a capital letter right
/// before `(` (`Other(`, `DnsName(`, `Some(`).
fn debug_text(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    (0..bytes.len()).find_map(|i| {
        if bytes[i] != b'(' {
            return None;
        }
        let start = text[..i]
            .rfind(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .map_or(0, |p| p + 1);
        let word = &text[start..i];
        (word.len() > 1 && word.starts_with(|c: char| c.is_ascii_uppercase()))
            .then(|| word.to_string())
    })
}

/// A registry serving `cert`.
fn serving(cert: PathBuf, key: PathBuf) -> TestRegistry {
    TestRegistry::start_with(
        Options {
            cert: Some((cert, key)),
            ..Options::default()
        },
        populate,
    )
}

/// A CA, and a certificate for 127.0.0.1 it signs that is itself marked
/// `CA:TRUE`; the CA's PEM and the certificate's and key's paths.
fn ca_true_leaf(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    leaf.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = leaf.signed_by(&key, &ca_cert, &ca_key).unwrap();
    (
        write_pem(dir, "ca.pem", &ca_cert.pem()),
        write_pem(dir, "leaf.pem", &cert.pem()),
        write_pem(dir, "leaf-key.pem", &key.serialize_pem()),
    )
}

/// What a case is, its certificate and key, the CA file to trust (none: no
/// trust; an empty path: the certificate itself), and what errors must say.
type Case<'a> = (&'a str, (PathBuf, PathBuf), Option<PathBuf>, &'a str);

#[test]
fn the_common_tls_failures_are_said_in_words_without_debug_text() {
    let dir = tempfile::tempdir().unwrap();
    let expired = {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        let cert = params.self_signed(&key).unwrap();
        (
            write_pem(dir.path(), "expired.pem", &cert.pem()),
            write_pem(dir.path(), "expired-key.pem", &key.serialize_pem()),
        )
    };
    let pair = |name: &str, san: &str, ext: &[&str]| {
        let p = seed_certificate_with(dir.path(), name, san, ext);
        (p.cert, p.key)
    };
    let (leaf_ca, leaf, leaf_key) = ca_true_leaf(dir.path());
    // (what, certificate and key, the CA file to trust, what stderr must say)
    let cases: Vec<Case> = vec![
        (
            "unknown CA",
            pair("seed", "IP:127.0.0.1", &[]),
            None,
            "unknown authority",
        ),
        (
            "expired",
            expired.clone(),
            Some(expired.0.clone()),
            "expired",
        ),
        (
            "wrong name",
            pair("other", "DNS:example.com", &[]),
            Some(PathBuf::new()),
            "not valid for the name `127.0.0.1`; it carries DNS:example.com",
        ),
        (
            "IP as DNS SAN",
            pair("ipdns", "DNS:127.0.0.1", &[]),
            Some(PathBuf::new()),
            "an IP address needs an IP SAN, not a DNS one",
        ),
        (
            "CA:TRUE end entity",
            (leaf, leaf_key),
            Some(leaf_ca),
            "CA:TRUE",
        ),
        (
            "client-only EKU",
            pair("client", "IP:127.0.0.1", &["extendedKeyUsage = clientAuth"]),
            Some(PathBuf::new()),
            "lacks serverAuth",
        ),
    ];
    for (what, (cert, key), trust, says) in cases {
        let reg = serving(cert, key);
        let run = |args: &[&str]| {
            let r = match &trust {
                None => regctl().logged_in(),
                Some(p) if p.as_os_str().is_empty() => regctl().trusted(&reg),
                Some(p) => regctl()
                    .logged_in()
                    .args(["--ca-file".as_ref(), p.as_os_str()]),
            };
            r.stdin("not-the-password\n").args(args).run()
        };
        let image = format!("{}/app:v1", reg.host());
        for args in [
            &["ls", &reg.host()][..],
            &["digest", &image],
            &["inspect", &image],
            &["login", &reg.host(), "-u", "x", "--password-stdin"],
        ] {
            let out = run(args);
            assert_ne!(out.code, 0, "{what} {args:?}");
            eprintln!("{what} {args:?}: {}", out.stderr);
            assert_eq!(debug_text(&out.stderr), None, "{what}: {}", out.stderr);
            assert!(out.stderr.contains(says), "{what} {args:?}: {}", out.stderr);
        }
        let doctor = run(&["doctor", &reg.host(), "--format", "plain"]);
        doctor.code(1);
        eprintln!("{what}: {}", doctor.stdout);
        assert_eq!(
            debug_text(&doctor.stdout),
            None,
            "{what}: {}",
            doctor.stdout
        );
        let tls = doctor.lines().into_iter().find(|l| l.starts_with("tls "));
        let tls = tls.unwrap_or_default();
        assert!(tls.contains("FAIL") && tls.contains(says), "{what}: {tls}");
        if what.contains("name") || what.contains("SAN") {
            // The CA is trusted: the fix is on the name, not the trust.
            let fix = tls.split(" -- ").nth(1).unwrap_or_default();
            assert!(
                !fix.starts_with("trust its CA") && fix.contains("name"),
                "{what}: {tls}"
            );
        }
    }
}
