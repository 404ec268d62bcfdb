//! Proxies from the environment, as the seed's CRI proxy set-up has them.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use crate::fixture::{image, Storage};
use crate::harness::{regctl, Options, TestRegistry};

/// A name only the proxy resolves (to loopback): a registry named so can be
/// reached through the proxy and no other way.
const PROXY_ONLY: &str = "registry.test";

/// An HTTP CONNECT proxy on loopback that records each tunnel's target.
struct ConnectProxy {
    port: u16,
    targets: Arc<Mutex<Vec<String>>>,
}

fn start_proxy() -> ConnectProxy {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let targets = Arc::new(Mutex::new(Vec::new()));
    let seen = targets.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let seen = seen.clone();
            std::thread::spawn(move || tunnel(client, &seen));
        }
    });
    ConnectProxy { port, targets }
}

fn tunnel(client: TcpStream, seen: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let target = line
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
            break;
        }
    }
    seen.lock().unwrap().push(target.clone());
    let address = match target.strip_prefix(PROXY_ONLY) {
        Some(port) => format!("127.0.0.1{port}"),
        None => target.clone(),
    };
    let Ok(upstream) = TcpStream::connect(&address) else {
        return;
    };
    let mut client_w = client.try_clone().unwrap();
    client_w
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .unwrap();
    let mut up_r = upstream.try_clone().unwrap();
    let mut up_w = upstream;
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut up_r, &mut client_w);
    });
    // Bytes the BufReader already holds are part of the TLS stream.
    let _ = up_w.write_all(reader.buffer());
    let mut rest = reader.into_inner();
    let _ = std::io::copy(&mut rest, &mut up_w);
}

/// A registry serving a certificate for `san` (on `[::1]` with `ipv6`), with an
/// image tagged `app:<tag>` for each tag; the folder of the certificate is kept
/// alongside.
fn registry_named(san: &str, ipv6: bool, tags: &[&str]) -> (TestRegistry, tempfile::TempDir) {
    let certs = tempfile::tempdir().unwrap();
    let pair = crate::harness::seed_certificate(certs.path(), "named", san);
    let tags: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
    let reg = TestRegistry::start_with(
        Options {
            ipv6,
            cert: Some((pair.cert.clone(), pair.key.clone())),
            ..Options::default()
        },
        move |s: &Storage| {
            for (day, tag) in tags.iter().enumerate() {
                let created = format!("2024-01-{:02}T00:00:00Z", day + 1);
                s.push("app", &[tag], &image("linux/amd64", &created, tag));
            }
        },
    );
    (reg, certs)
}

#[test]
fn https_proxy_from_the_environment_is_used_and_no_proxy_bypasses_it() {
    let reg = TestRegistry::start_with(Options::default(), |s: &Storage| {
        s.push(
            "app",
            &["v1"],
            &image("linux/amd64", "2024-01-01T00:00:00Z", "proxy"),
        );
    });
    let proxy = start_proxy();
    let run = regctl()
        .trusted(&reg)
        .env("HTTPS_PROXY", format!("http://127.0.0.1:{}", proxy.port))
        .args(["ls", &reg.host()])
        .run();
    run.success();
    assert_eq!(run.stdout, format!("{}/app:v1\n", reg.host()));
    let targets = proxy.targets.lock().unwrap().clone();
    assert!(
        !targets.is_empty() && targets.iter().all(|t| *t == reg.host()),
        "{targets:?}"
    );

    let before = targets.len();
    let run = regctl()
        .trusted(&reg)
        .env("HTTPS_PROXY", format!("http://127.0.0.1:{}", proxy.port))
        .env("NO_PROXY", "127.0.0.1")
        .args(["ls", &reg.host()])
        .run();
    run.success();
    assert_eq!(
        proxy.targets.lock().unwrap().len(),
        before,
        "NO_PROXY bypassed the proxy"
    );
}

#[test]
fn an_ipv6_literal_registry_is_reached_directly_and_through_an_https_proxy() {
    let (reg, _certs) = registry_named("IP:::1", true, &["v1"]);
    let host = reg.host();
    assert!(host.starts_with("[::1]:"), "{host}");
    let expected = format!("{host}/app:v1\n");
    let direct = regctl().trusted(&reg).args(["ls", &host]).run();
    direct.success();
    assert_eq!(direct.stdout, expected);

    let proxy = start_proxy();
    let run = regctl()
        .trusted(&reg)
        .env("HTTPS_PROXY", format!("http://127.0.0.1:{}", proxy.port))
        .args(["ls", &host])
        .run();
    run.success();
    assert_eq!(run.stdout, expected);
    let targets = proxy.targets.lock().unwrap().clone();
    assert!(
        !targets.is_empty() && targets.iter().all(|t| *t == host),
        "{targets:?}"
    );
}

#[test]
fn with_a_proxy_set_every_request_goes_through_it() {
    // The registry's name resolves only at the proxy: a request sent around it
    // (a manifest HEAD or GET, a tag list, a deletion) could not reach it.
    let (reg, _certs) = registry_named(&format!("DNS:{PROXY_ONLY}"), false, &["v1", "v2"]);
    let host = format!("{PROXY_ONLY}:{}", reg.port);
    let proxy = start_proxy();
    let via_proxy = |args: &[&str]| {
        regctl()
            .trusted(&reg)
            .env("HTTPS_PROXY", format!("http://127.0.0.1:{}", proxy.port))
            .args(args)
            .run()
    };
    let ls = via_proxy(&["ls", &host, "--digests"]);
    ls.success();
    assert_eq!(ls.lines().len(), 2, "{}", ls.stdout);
    let v2 = via_proxy(&["digest", &format!("{host}/app:v2")]);
    v2.success();
    let rm = via_proxy(&["rm", &format!("{host}/app:v1"), "--yes"]);
    rm.success();
    let after = via_proxy(&["ls", &host, "--digests"]);
    after.success();
    assert_eq!(after.stdout, format!("{host}/app:v2 {}", v2.stdout));
    let targets = proxy.targets.lock().unwrap().clone();
    assert!(targets.iter().all(|t| *t == host), "{targets:?}");

    // Without the proxy the name does not resolve.
    let around = regctl().trusted(&reg).args(["ls", &host]).run();
    around.code(1);
}

/// A loopback port nothing listens on (bound, noted, let go).
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn a_dead_proxy_is_named_in_the_error_not_blamed_on_the_registry() {
    let reg = TestRegistry::start_with(Options::default(), |_: &Storage| {});
    let port = closed_port();
    let run = regctl()
        .trusted(&reg)
        .env(
            "HTTPS_PROXY",
            format!("http://user:s3cr3t@127.0.0.1:{port}"),
        )
        .args(["ls", &reg.host()])
        .run();
    run.code(1);
    let proxy = format!("the proxy http://***@127.0.0.1:{port}/ (from HTTPS_PROXY)");
    assert!(run.stderr.contains(&proxy), "{}", run.stderr);
    assert!(run.stderr.contains("NO_PROXY"), "{}", run.stderr);
    assert!(
        !run.stderr
            .contains(&format!("cannot connect to {}:", reg.host())),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("s3cr3t"), "{}", run.stderr);
}

#[test]
fn doctor_connects_to_the_proxy_and_asks_it_for_a_tunnel() {
    let reg = TestRegistry::start_with(Options::default(), |_: &Storage| {});
    let doctor = |proxy: u16, no_proxy: Option<String>| {
        let mut r = regctl()
            .trusted(&reg)
            .env("HTTPS_PROXY", format!("http://127.0.0.1:{proxy}"));
        if let Some(no) = no_proxy {
            r = r.env("NO_PROXY", no);
        }
        r.args(["doctor", &reg.host(), "--format", "plain"]).run()
    };
    let line = |out: &str| {
        out.lines()
            .find(|l| l.starts_with("proxy "))
            .unwrap_or_default()
            .to_string()
    };
    let dead = doctor(closed_port(), None);
    dead.code(1);
    let said = line(&dead.stdout);
    assert!(said.contains("FAIL"), "{}", dead.stdout);
    assert!(said.contains("cannot connect to the proxy"), "{said}");

    let live = start_proxy();
    let alive = doctor(live.port, None);
    alive.success();
    let said = line(&alive.stdout);
    assert!(
        said.contains("ok") && said.contains(&format!("opened a tunnel to {}", reg.host())),
        "{}",
        alive.stdout
    );
    assert_eq!(live.targets.lock().unwrap().first(), Some(&reg.host()));

    // A registry the NO_PROXY list names is not sent there, by doctor either.
    let bypassed = doctor(closed_port(), Some(format!("127.0.0.1:{}", reg.port)));
    bypassed.success();
    assert!(
        line(&bypassed.stdout).contains("in NO_PROXY"),
        "{}",
        bypassed.stdout
    );
}

#[test]
fn no_proxy_entries_are_read_as_go_reads_them() {
    let reg = TestRegistry::start_with(Options::default(), |s: &Storage| {
        s.push(
            "app",
            &["v1"],
            &image("linux/amd64", "2024-01-01T00:00:00Z", "np"),
        );
    });
    let proxy = start_proxy();
    let tunnels = || proxy.targets.lock().unwrap().len();
    let ls = |no_proxy: &str| {
        regctl()
            .trusted(&reg)
            .env("HTTPS_PROXY", format!("http://127.0.0.1:{}", proxy.port))
            .env("NO_PROXY", no_proxy)
            .args(["ls", &reg.host()])
            .run()
    };
    // `host:port` of the registry: direct; of another port: through the proxy.
    let before = tunnels();
    ls(&format!("127.0.0.1:{}", reg.port)).success();
    assert_eq!(tunnels(), before, "host:port did not bypass the proxy");
    ls(&format!("127.0.0.1:{}", closed_port())).success();
    assert!(tunnels() > before, "host:other-port bypassed the proxy");
    // A CIDR and `*`.
    for list in ["127.0.0.0/8", "*"] {
        let before = tunnels();
        ls(list).success();
        assert_eq!(tunnels(), before, "{list} did not bypass the proxy");
    }

    // A name only the proxy resolves: bypassing the proxy fails to resolve it,
    // going through it works.
    let (named, _certs) = registry_named(&format!("DNS:{PROXY_ONLY}"), false, &["v1"]);
    let host = format!("{PROXY_ONLY}:{}", named.port);
    let ls = |no_proxy: &str| {
        regctl()
            .trusted(&named)
            .env("HTTPS_PROXY", format!("http://127.0.0.1:{}", proxy.port))
            .env("NO_PROXY", no_proxy)
            .args(["ls", &host])
            .run()
    };
    for list in ["*.test", ".test", "test", &host] {
        let before = tunnels();
        ls(list).code(1);
        assert_eq!(tunnels(), before, "{list} did not bypass the proxy");
    }
    // `.domain` and `*.domain` do not match the domain itself; another port.
    for list in ["*.registry.test", ".registry.test", "registry.test:1"] {
        ls(list).success();
    }
}
