//! `regctl doctor` against registries that are right, and wrong in one way each:
//! the verdict of every line, and the exit code of the first failure.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::fixture::{image, Storage};
use crate::harness::{regctl, seed_certificate, Options, Regctl, TestRegistry, USER};

fn populate(s: &Storage) {
    let img = image("linux/amd64", "2024-01-01T00:00:00Z", "doctor");
    s.push("app", &["v1", "v2"], &img);
}

/// The verdict of each check, and the whole report.
fn doctor(r: Regctl, host: &str, code: i32) -> (BTreeMap<String, (String, String)>, String) {
    let run = r.args(["doctor", host, "--format", "json"]).run();
    run.code(code);
    let checks: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let verdicts = checks
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["check"].as_str().unwrap().to_string(),
                (
                    c["verdict"].as_str().unwrap().to_string(),
                    format!(
                        "{} -- {}",
                        c["detail"].as_str().unwrap(),
                        c["fix"].as_str().unwrap_or("")
                    ),
                ),
            )
        })
        .collect();
    (verdicts, run.stdout)
}

fn verdict<'a>(checks: &'a BTreeMap<String, (String, String)>, check: &str) -> &'a str {
    checks.get(check).map_or("absent", |(v, _)| v.as_str())
}

fn says<'a>(checks: &'a BTreeMap<String, (String, String)>, check: &str) -> &'a str {
    checks.get(check).map_or("", |(_, d)| d.as_str())
}

#[test]
fn a_registry_set_up_right_passes_every_check() {
    let reg = TestRegistry::start_with(Options::default(), populate);
    let (checks, report) = doctor(regctl().trusted(&reg), &reg.host(), 0);
    for check in [
        "dns",
        "tcp",
        "tls",
        "api",
        "proxy",
        "auth",
        "credentials",
        "catalog",
        "deletion",
        "referrers",
        "tag paging",
    ] {
        assert_eq!(verdict(&checks, check), "pass", "{check}: {report}");
    }
    assert!(
        says(&checks, "tls").contains("verified by --ca-file"),
        "{report}"
    );
    assert!(
        says(&checks, "tls").contains("CA:TRUE"),
        "the seed's certificate: {report}"
    );
    assert!(says(&checks, "tls").contains("self-signed"), "{report}");
    assert!(says(&checks, "api").contains("registry/2.0"), "{report}");
    assert!(says(&checks, "auth").contains("Basic"), "{report}");
    assert!(
        says(&checks, "credentials").contains("REGCTL_USERNAME"),
        "{report}"
    );
    assert!(says(&checks, "referrers").contains("fallback"), "{report}");
    // Distribution 2.8 answers a tag list whole, whatever n asks.
    assert!(
        says(&checks, "tag paging").contains("not paged: n=1 answered 2 tags"),
        "{report}"
    );
}

#[test]
fn an_untrusted_or_misnamed_certificate_fails_tls_with_the_ways_to_trust_it() {
    let reg = TestRegistry::start_with(Options::default(), populate);
    let (checks, report) = doctor(regctl().logged_in(), &reg.host(), 1);
    assert_eq!(verdict(&checks, "tcp"), "pass");
    assert_eq!(verdict(&checks, "tls"), "fail", "{report}");
    assert!(
        says(&checks, "tls").contains("--ca-file") && says(&checks, "tls").contains("ca.crt"),
        "{report}"
    );
    assert_eq!(
        verdict(&checks, "api"),
        "absent",
        "nothing after a TLS failure: {report}"
    );

    let dir = tempfile::tempdir().unwrap();
    let other = seed_certificate(dir.path(), "other", "DNS:example.com");
    let misnamed = TestRegistry::start_with(
        Options {
            cert: Some((other.cert.clone(), other.key.clone())),
            ..Options::default()
        },
        populate,
    );
    let (checks, report) = doctor(
        regctl()
            .logged_in()
            .args(["--ca-file".as_ref(), other.cert.as_os_str()]),
        &misnamed.host(),
        1,
    );
    assert_eq!(verdict(&checks, "tls"), "fail", "{report}");
    assert!(
        says(&checks, "tls").contains("names: DNS:example.com"),
        "{report}"
    );
}

#[test]
fn a_wrong_password_fails_the_credentials_check_with_exit_3() {
    let reg = TestRegistry::start_with(Options::default(), populate);
    let r = regctl()
        .args(["--ca-file".as_ref(), reg.ca.as_os_str()])
        .env("REGCTL_USERNAME", USER)
        .env("REGCTL_PASSWORD", "Wr0ngPassw0rd!");
    let (checks, report) = doctor(r, &reg.host(), 3);
    assert_eq!(verdict(&checks, "tls"), "pass", "{report}");
    assert_eq!(verdict(&checks, "credentials"), "fail", "{report}");
    assert!(!report.contains("Wr0ngPassw0rd!"));
}

#[test]
fn deletion_disabled_fails_the_deletion_check_with_exit_5() {
    let reg = TestRegistry::start_with(
        Options {
            delete_enabled: false,
            ..Options::default()
        },
        populate,
    );
    let (checks, report) = doctor(regctl().trusted(&reg), &reg.host(), 5);
    assert_eq!(verdict(&checks, "credentials"), "pass", "{report}");
    assert_eq!(verdict(&checks, "deletion"), "fail", "{report}");
    assert!(
        says(&checks, "deletion").contains("storage.delete.enabled"),
        "{report}"
    );
    assert_eq!(
        verdict(&checks, "referrers"),
        "pass",
        "later checks still run: {report}"
    );
}

#[test]
fn read_only_mode_fails_the_deletion_check_as_read_only() {
    let reg = TestRegistry::start_with(
        Options {
            read_only: true,
            ..Options::default()
        },
        populate,
    );
    let (checks, report) = doctor(regctl().trusted(&reg), &reg.host(), 5);
    assert_eq!(verdict(&checks, "deletion"), "fail", "{report}");
    let said = says(&checks, "deletion");
    assert!(
        said.contains("read-only")
            && said.contains("garbage collection")
            && !said.contains("storage.delete.enabled"),
        "{report}"
    );
}

#[test]
fn plain_http_on_a_tls_port_is_named() {
    let reg = TestRegistry::start_with(Options::default(), populate);
    let (checks, report) = doctor(regctl().logged_in().args(["--plain-http"]), &reg.host(), 1);
    assert_eq!(verdict(&checks, "tls"), "skip");
    assert_eq!(verdict(&checks, "api"), "fail", "{report}");
    assert!(
        says(&checks, "api").contains("drop --plain-http"),
        "{report}"
    );
}

#[test]
fn tls_against_a_plain_http_port_says_the_port_does_not_speak_tls() {
    let reg = TestRegistry::start_with(Options::plain(), populate);
    let (checks, report) = doctor(regctl(), &reg.host(), 1);
    assert_eq!(verdict(&checks, "tls"), "fail", "{report}");
    // `says` is the detail, then `--`, then the fix.
    let said = says(&checks, "tls");
    assert!(
        said.contains("-- the port does not speak TLS") && said.contains("pass --plain-http"),
        "{report}"
    );
}

#[test]
fn on_ferro_the_referrers_api_is_found_and_tls_is_skipped() {
    let target = crate::target::Target::start(crate::target::Kind::Ferro);
    target.push_image(
        "app",
        &["v1"],
        &image("linux/amd64", "2024-01-01T00:00:00Z", "doctor-ferro"),
    );
    let (checks, report) = doctor(target.regctl(), &target.host(), 0);
    assert_eq!(verdict(&checks, "tls"), "skip", "{report}");
    assert_eq!(verdict(&checks, "referrers"), "pass", "{report}");
    assert!(
        says(&checks, "referrers").contains("API answers"),
        "{report}"
    );
    assert_eq!(verdict(&checks, "credentials"), "pass", "{report}");
}

#[test]
fn a_proxy_password_is_never_shown() {
    let reg = TestRegistry::start_with(Options::default(), populate);
    for proxy in [
        "http://user:s3cr3t-proxy@127.0.0.1:9",
        "user:s3cr3t-proxy@127.0.0.1:9",
    ] {
        let run = regctl()
            .trusted(&reg)
            .env("HTTPS_PROXY", proxy)
            .args(["doctor", &reg.host(), "--format", "plain"])
            .run();
        // Shown, with the password masked.
        assert!(run.stdout.contains("***@127.0.0.1:9"), "{}", run.stdout);
        assert!(
            !run.stdout.contains("s3cr3t") && !run.stderr.contains("s3cr3t"),
            "{}",
            run.stdout
        );
    }
}

/// A server that accepts TCP connections and answers each with the start of a
/// TLS handshake record, then its body one byte at a time, a byte every quarter
/// of a second (well within any per-read timeout): a handshake that never ends.
/// Each connection is said on the returned channel; each stops after 1,200 bytes
/// (5 minutes) or when the client goes.
fn trickling_tls_server() -> (u16, std::sync::mpsc::Receiver<()>) {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (accepted, connections) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let accepted = accepted.clone();
            std::thread::spawn(move || {
                // The client speaks first (its hello); then a handshake record
                // of 16 KiB that never arrives whole.
                let mut hello = [0u8; 512];
                let _ = stream.read(&mut hello);
                let _ = accepted.send(());
                if stream.write_all(&[0x16, 0x03, 0x03, 0x40, 0x00]).is_err() {
                    return;
                }
                for _ in 0..1200 {
                    std::thread::sleep(Duration::from_millis(250));
                    if stream.write_all(&[0x02]).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, connections)
}

/// Waits for `child` to exit, for at most `bound` (a failure then: it hung).
fn exit_within(child: std::process::Child, bound: Duration) -> std::process::Output {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(bound) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("regctl doctor did not exit within {bound:?}");
        }
    }
}

#[test]
fn a_tls_handshake_that_trickles_ends_within_the_timeout_the_deadline_or_ctrl_c() {
    let (port, connections) = trickling_tls_server();
    let host = format!("127.0.0.1:{port}");
    // Against --timeout: the tls check fails, naming the host and the time.
    let started = Instant::now();
    let out = exit_within(
        regctl()
            .args(["--timeout", "2", "doctor", &host, "--format", "plain"])
            .spawn(),
        Duration::from_secs(60),
    );
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let tls = stdout.lines().find(|l| l.starts_with("tls")).unwrap_or("");
    assert!(
        tls.contains("FAIL")
            && tls.contains(&format!(
                "{host}: the TLS handshake did not finish within 2 s"
            ))
            && tls.contains("--timeout"),
        "{stdout}"
    );
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");

    // Against --deadline, with a --timeout far off: the run stops there, exit 1.
    let out = exit_within(
        regctl()
            .args(["--timeout", "600", "--deadline", "1", "doctor", &host])
            .spawn(),
        Duration::from_secs(60),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("deadline: 1 s reached"), "{stderr}");

    // Ctrl-C once the handshake has begun: the run stops, exit 130.
    while connections.try_recv().is_ok() {}
    let child = regctl().args(["--timeout", "600", "doctor", &host]).spawn();
    connections
        .recv_timeout(Duration::from_secs(60))
        .expect("doctor connects");
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let out = exit_within(child, Duration::from_secs(60));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupt"), "{stderr}");
}

/// On a registry with no repository the deletion check still answers: a DELETE
/// of a digest that cannot exist, in a repository that does not exist, changes
/// nothing and tells 405 (disabled) from 404 (enabled).
#[test]
fn the_deletion_check_answers_on_an_empty_registry() {
    for (delete_enabled, code, expected) in [(true, 0, "pass"), (false, 5, "fail")] {
        let reg = TestRegistry::start(Options {
            delete_enabled,
            ..Options::default()
        });
        let (checks, report) = doctor(regctl().trusted(&reg), &reg.host(), code);
        assert_eq!(verdict(&checks, "deletion"), expected, "{report}");
        if !delete_enabled {
            assert!(
                says(&checks, "deletion").contains("storage.delete.enabled"),
                "{report}"
            );
        }
        assert_eq!(verdict(&checks, "referrers"), "skip", "{report}");
        let repositories = reg.storage_root().join("docker/registry/v2/repositories");
        assert!(
            !repositories.exists() || std::fs::read_dir(&repositories).unwrap().next().is_none(),
            "the probe created nothing: {report}"
        );
    }
}
