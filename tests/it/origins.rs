//! What applies to the registry's own origin only: `--insecure`, docker's
//! `certs.d/<host:port>/` (its CAs and client certificate) and `--plain-http`.
//! A token realm or a redirect target on another origin is verified with the
//! system's store and `--ca-file`, gets no client certificate, no `Referer`, and
//! is never plain HTTP on another host.

use std::path::Path;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};

use crate::fixture::{image, Storage};
use crate::harness::{
    loopback_certificate, regctl, seed_certificate, Options, Regctl, TestRegistry,
};
use crate::http::{
    serve_plain, serve_tls, serve_tls_asking_for_client_certificates, Request, Response, Server,
};

fn populate(s: &Storage) {
    s.push(
        "app",
        &["v1"],
        &image("linux/amd64", "2024-01-01T00:00:00Z", "origins"),
    );
}

/// The loopback certificate as a CA file.
fn ca_file() -> String {
    loopback_certificate().cert.to_str().unwrap().to_string()
}

/// stderr without regctl's warnings (`warning: --insecure: …` names the flag).
fn errors(stderr: &str) -> String {
    stderr
        .lines()
        .filter(|l| !l.starts_with("warning:"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The realm's one token.
const TOKEN: &str = "origin-token";

/// A fake registry whose challenge names `realm`: `/v2/_catalog` answers with
/// one repository to a request carrying [`TOKEN`], anything else 401.
fn registry_with_realm(realm: String) -> impl Fn(&Request) -> Response + Send + Sync {
    move |req| {
        if req.header("authorization") == Some(&format!("Bearer {TOKEN}")) {
            if req.target.starts_with("/v2/_catalog") {
                return Response::json(200, serde_json::json!({"repositories": ["app"]}));
            }
            if req.target == "/v2/app/tags/list" {
                return Response::json(200, serde_json::json!({"name": "app", "tags": ["v1"]}));
            }
        }
        let mut resp = Response::json(401, serde_json::json!({"errors":[{"code":"UNAUTHORIZED"}]}));
        resp.headers.push((
            "WWW-Authenticate".into(),
            format!("Bearer realm=\"{realm}\",service=\"origins\""),
        ));
        resp
    }
}

/// A fake token realm that gives [`TOKEN`] to anyone.
fn realm(_: &Request) -> Response {
    Response::json(200, serde_json::json!({"token": TOKEN}))
}

fn carries_the_password(server: &Server) -> bool {
    server
        .requests()
        .iter()
        .any(|r| r.header("authorization").is_some())
}

#[test]
fn insecure_verifies_a_token_realm_on_another_origin_and_sends_it_nothing_untrusted() {
    // The registry serves a self-signed certificate no one trusts (hence
    // --insecure); its token server, on another port, serves the loopback one.
    let dir = tempfile::tempdir().unwrap();
    let own = seed_certificate(dir.path(), "own", "IP:127.0.0.1");
    let tokens = crate::token::start(3600);
    let reg = TestRegistry::start_with(
        Options {
            auth: tokens.auth(),
            cert: Some((own.cert.clone(), own.key.clone())),
            ..Options::default()
        },
        populate,
    );
    let realm_host = format!("127.0.0.1:{}", tokens.server.port);

    let run = regctl()
        .logged_in()
        .args(["--insecure", "ls", &reg.host()])
        .run();
    run.code(1);
    assert_eq!(run.stdout, "");
    assert!(
        tokens.token_requests().is_empty(),
        "nothing reached the unverified realm: {:?}",
        tokens.token_requests()
    );
    let errors = errors(&run.stderr);
    assert!(
        errors.contains(&format!("TLS with {realm_host} failed")),
        "{errors}"
    );
    assert!(errors.contains("unknown authority"), "{errors}");
    assert!(errors.contains("--ca-file"), "{errors}");
    assert!(!errors.contains("--insecure"), "{errors}");
    assert!(
        !errors.contains(&format!("TLS with {} failed", reg.host())),
        "{errors}"
    );

    // --ca-file applies to the realm: the registry unverified, the realm verified.
    let run = regctl()
        .logged_in()
        .args(["--insecure", "--ca-file", &ca_file(), "ls", &reg.host()])
        .run();
    run.success();
    assert_eq!(run.stdout, format!("{}/app:v1\n", reg.host()));
    assert!(!tokens.token_requests().is_empty());
}

#[test]
fn certs_d_of_the_registry_does_not_vouch_for_its_realm() {
    // The CA in certs.d/<registry>/ is for the registry alone: the realm on
    // another port, serving a certificate signed by nothing else trusted, is refused.
    let tokens = crate::token::start(3600);
    let reg = TestRegistry::start_with(
        Options {
            auth: tokens.auth(),
            ..Options::default()
        },
        populate,
    );
    let certs = tempfile::tempdir().unwrap();
    let host_dir = certs.path().join(reg.host());
    std::fs::create_dir_all(&host_dir).unwrap();
    std::fs::copy(&reg.ca, host_dir.join("ca.crt")).unwrap();
    let run = regctl()
        .logged_in()
        .args(["--certs-dir".as_ref(), certs.path().as_os_str()])
        .args(["ls", &reg.host()])
        .run();
    run.code(1);
    assert!(tokens.token_requests().is_empty());
    let realm_host = format!("127.0.0.1:{}", tokens.server.port);
    assert!(
        run.stderr
            .contains(&format!("TLS with {realm_host} failed")),
        "{}",
        run.stderr
    );
    // The registry's own folder is not where the realm's CA goes.
    assert!(
        !run.stderr.contains(host_dir.to_str().unwrap()),
        "{}",
        run.stderr
    );
}

#[test]
fn insecure_verifies_a_redirect_to_another_origin_which_gets_no_credentials_or_referer() {
    let storage = Arc::new(serve_tls(loopback_certificate(), |_| {
        Response::json(200, serde_json::json!({"repositories": ["stored"]}))
    }));
    let location = format!("https://127.0.0.1:{}/storage/catalog", storage.port);
    let registry = serve_tls(loopback_certificate(), move |req| {
        match req.target.as_str() {
            "/v2/" => Response::json(200, serde_json::json!({})),
            t if t.starts_with("/v2/_catalog") => {
                Response::raw(307, vec![("Location".into(), location.clone())], Vec::new())
            }
            _ => Response::json(200, serde_json::json!({"name": "stored", "tags": ["v1"]})),
        }
    });
    let host = format!("127.0.0.1:{}", registry.port);
    let storage_host = format!("127.0.0.1:{}", storage.port);

    let run = regctl().logged_in().args(["--insecure", "ls", &host]).run();
    run.code(1);
    assert_eq!(run.stdout, "");
    assert!(
        storage.requests().is_empty(),
        "nothing reached the unverified redirect target"
    );
    let errors = errors(&run.stderr);
    assert!(
        errors.contains(&format!("TLS with {storage_host} failed")),
        "{errors}"
    );
    assert!(!errors.contains("--insecure"), "{errors}");

    // Trusted with --ca-file, the redirect is followed, without the
    // credentials and without saying where it came from.
    let run = regctl()
        .logged_in()
        .args(["--insecure", "--ca-file", &ca_file(), "ls", &host])
        .run();
    run.success();
    assert_eq!(run.stdout, format!("{host}/stored:v1\n"));
    let at_storage = storage.requests();
    assert_eq!(at_storage.len(), 1);
    assert_eq!(at_storage[0].header("authorization"), None);
    assert_eq!(at_storage[0].header("referer"), None);
}

fn write_pem(dir: &Path, name: &str, pem: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, pem).unwrap();
    path
}

#[test]
fn the_client_certificate_of_certs_d_goes_to_the_registry_and_not_to_its_realm() {
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

    let token_realm = Arc::new(serve_tls_asking_for_client_certificates(
        loopback_certificate(),
        &client_ca,
        realm,
    ));
    let registry = serve_tls_asking_for_client_certificates(
        loopback_certificate(),
        &client_ca,
        registry_with_realm(format!("https://127.0.0.1:{}/token", token_realm.port)),
    );
    let host = format!("127.0.0.1:{}", registry.port);
    let certs = tempfile::tempdir().unwrap();
    let host_dir = certs.path().join(&host);
    std::fs::create_dir_all(&host_dir).unwrap();
    write_pem(&host_dir, "client.cert", &client.pem());
    write_pem(&host_dir, "client.key", &client_key.serialize_pem());

    let run = regctl()
        .logged_in()
        .args(["--ca-file", &ca_file(), "--certs-dir"])
        .args([certs.path()])
        .args(["ls", &host])
        .run();
    run.success();
    assert_eq!(run.stdout, format!("{host}/app:v1\n"));
    assert!(
        registry.requests().iter().all(|r| r.client_certificate),
        "the registry got the client certificate"
    );
    let at_realm = token_realm.requests();
    assert!(!at_realm.is_empty());
    assert!(
        at_realm.iter().all(|r| !r.client_certificate),
        "the realm on another origin got no client certificate"
    );
}

fn plain_http(host: &str) -> Regctl {
    regctl().logged_in().args(["--plain-http", "ls", host])
}

#[test]
fn plain_http_sends_credentials_only_to_a_plain_realm_on_the_registrys_own_host() {
    // The registry on 127.0.0.1, its realm named `localhost`: another host.
    let token_realm = Arc::new(serve_plain(realm));
    let registry = serve_plain(registry_with_realm(format!(
        "http://localhost:{}/token",
        token_realm.port
    )));
    let host = format!("127.0.0.1:{}", registry.port);
    let run = plain_http(&host).run();
    run.code(1);
    assert_eq!(run.stdout, "");
    assert!(
        token_realm.requests().is_empty() && !carries_the_password(&token_realm),
        "nothing was sent to the plain-HTTP realm on another host"
    );
    assert!(
        run.stderr
            .contains(&format!("localhost:{}", token_realm.port))
            && run.stderr.contains("not HTTPS"),
        "{}",
        run.stderr
    );

    // On the registry's own host (another port), a plain-HTTP realm is used.
    let same_host = Arc::new(serve_plain(realm));
    let registry = serve_plain(registry_with_realm(format!(
        "http://127.0.0.1:{}/token",
        same_host.port
    )));
    let host = format!("127.0.0.1:{}", registry.port);
    let run = plain_http(&host).run();
    run.success();
    assert_eq!(run.stdout, format!("{host}/app:v1\n"));
    assert!(carries_the_password(&same_host));
}

#[test]
fn a_redirect_from_https_to_http_is_refused() {
    let plain = Arc::new(serve_plain(|_| {
        Response::json(200, serde_json::json!({"repositories": ["plain"]}))
    }));
    let location = format!("http://127.0.0.1:{}/v2/_catalog", plain.port);
    let registry = serve_tls(loopback_certificate(), move |req| {
        match req.target.as_str() {
            "/v2/" => Response::json(200, serde_json::json!({})),
            _ => Response::raw(307, vec![("Location".into(), location.clone())], Vec::new()),
        }
    });
    let run = regctl()
        .logged_in()
        .args(["--ca-file", &ca_file(), "ls"])
        .args([format!("127.0.0.1:{}", registry.port)])
        .run();
    run.code(1);
    assert!(run.stderr.contains("from HTTPS to HTTP"), "{}", run.stderr);
    assert!(plain.requests().is_empty());
}
