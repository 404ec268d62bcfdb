//! Credentials: flags, environment, docker's config, credential helpers; refusals
//! give exit 3 and never echo a secret.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use base64::Engine as _;

use crate::fixture::{image, Storage};
use crate::harness::{regctl, Options, Regctl, TestRegistry, PASSWORD, USER};

fn populate(s: &Storage) {
    s.push(
        "app",
        &["v1"],
        &image("linux/amd64", "2024-01-01T00:00:00Z", "creds"),
    );
}

fn start() -> TestRegistry {
    TestRegistry::start_with(Options::default(), populate)
}

fn ca(reg: &TestRegistry, r: Regctl) -> Regctl {
    r.args(["--ca-file".as_ref(), reg.ca.as_os_str()])
}

fn auth_entry(user: &str, password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

fn expect_listing(reg: &TestRegistry, run: &crate::harness::Run) {
    run.success();
    assert_eq!(run.stdout, format!("{}/app:v1\n", reg.host()));
}

#[test]
fn wrong_password_is_exit_3_and_the_password_is_not_echoed() {
    let reg = start();
    let run = ca(&reg, regctl())
        .env("REGCTL_USERNAME", USER)
        .env("REGCTL_PASSWORD", "Wr0ngPassw0rd!")
        .args(["ls", &reg.host()])
        .run();
    run.code(3);
    assert!(
        run.stderr.contains("refused the credentials"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("REGCTL_USERNAME"),
        "says where they came from: {}",
        run.stderr
    );
    assert!(!run.stderr.contains("Wr0ngPassw0rd!"));
    assert_eq!(run.stdout, "");
}

#[test]
fn no_credentials_is_exit_3_with_the_ways_to_give_them() {
    let reg = start();
    let run = ca(&reg, regctl())
        .args(["digest", &format!("{}/app:v1", reg.host())])
        .run();
    run.code(3);
    assert!(
        run.stderr.contains("--password-stdin") && run.stderr.contains("REGCTL_USERNAME"),
        "{}",
        run.stderr
    );
}

#[test]
fn username_with_password_on_stdin() {
    let reg = start();
    let run = ca(&reg, regctl())
        .args(["ls", &reg.host(), "--username", USER, "--password-stdin"])
        .stdin(&format!("{PASSWORD}\n"))
        .run();
    expect_listing(&reg, &run);
    let half = ca(&reg, regctl())
        .args(["ls", &reg.host(), "--username", USER])
        .run();
    half.code(2);
    assert!(half.stderr.contains("--password-stdin"), "{}", half.stderr);
}

#[test]
fn docker_config_auths_in_home_and_in_docker_config_dir() {
    let reg = start();
    let config = format!(
        r#"{{"auths":{{"https://{}/v1/":{{"auth":"{}"}}}}}}"#,
        reg.host(),
        auth_entry(USER, PASSWORD)
    );
    let run = ca(&reg, regctl())
        .docker_config(&config)
        .args(["ls", &reg.host()])
        .run();
    expect_listing(&reg, &run);

    // DOCKER_CONFIG wins over ~/.docker: a wrong entry at home is not used.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), &config).unwrap();
    let wrong = format!(
        r#"{{"auths":{{"{}":{{"username":"{USER}","password":"nope"}}}}}}"#,
        reg.host()
    );
    let run = ca(&reg, regctl())
        .docker_config(&wrong)
        .env("DOCKER_CONFIG", dir.path())
        .args(["ls", &reg.host()])
        .run();
    expect_listing(&reg, &run);
}

#[test]
fn environment_comes_before_docker_config() {
    let reg = start();
    let wrong = format!(
        r#"{{"auths":{{"{}":{{"username":"{USER}","password":"nope"}}}}}}"#,
        reg.host()
    );
    let run = ca(&reg, regctl())
        .docker_config(&wrong)
        .logged_in()
        .args(["ls", &reg.host()])
        .run();
    expect_listing(&reg, &run);
    let half = ca(&reg, regctl())
        .env("REGCTL_USERNAME", USER)
        .args(["ls", &reg.host()])
        .run();
    half.code(2);
    assert!(half.stderr.contains("REGCTL_PASSWORD"), "{}", half.stderr);
}

/// Writes `docker-credential-<name>` into `dir`: it records its stdin and prints `output`.
fn helper(dir: &Path, name: &str, script_body: &str) {
    let path = dir.join(format!("docker-credential-{name}"));
    std::fs::write(&path, format!("#!/bin/sh\n[ \"$1\" = get ] || exit 9\ncat > \"$(dirname \"$0\")/{name}.stdin\"\n{script_body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// PATH with `dir` first.
pub fn path_with(dir: &Path) -> String {
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[test]
fn credential_helpers_from_cred_helpers_and_creds_store() {
    let reg = start();
    let bin = tempfile::tempdir().unwrap();
    helper(
        bin.path(),
        "regtest",
        &format!(r#"printf '{{"ServerURL":"x","Username":"{USER}","Secret":"{PASSWORD}"}}'"#),
    );
    helper(
        bin.path(),
        "empty",
        "echo 'credentials not found in native keychain'; exit 1",
    );
    helper(
        bin.path(),
        "broken",
        "echo 'the keychain is locked' >&2; exit 3",
    );

    // credHelpers for this host beats credsStore and auths.
    let config = format!(
        r#"{{"credsStore":"broken","credHelpers":{{"{}":"regtest"}},"auths":{{"{}":{{"auth":"{}"}}}}}}"#,
        reg.host(),
        reg.host(),
        auth_entry(USER, "nope")
    );
    let run = ca(&reg, regctl())
        .docker_config(&config)
        .env("PATH", path_with(bin.path()))
        .args(["ls", &reg.host()])
        .run();
    expect_listing(&reg, &run);
    let sent = std::fs::read_to_string(bin.path().join("regtest.stdin")).unwrap();
    assert_eq!(
        sent,
        reg.host(),
        "the helper is asked for the registry's host"
    );

    // credsStore answering "not found" means anonymous: refused with exit 3.
    let run = ca(&reg, regctl())
        .docker_config(r#"{"credsStore":"empty"}"#)
        .env("PATH", path_with(bin.path()))
        .args(["ls", &reg.host()])
        .run();
    run.code(3);
    assert!(run.stderr.contains("no credentials"), "{}", run.stderr);

    // A failing helper is an error that names it; what it printed is not echoed
    // (a helper may print its JSON, secret included, and then fail).
    let run = ca(&reg, regctl())
        .docker_config(r#"{"credsStore":"broken"}"#)
        .env("PATH", path_with(bin.path()))
        .args(["ls", &reg.host()])
        .run();
    run.code(1);
    assert!(
        run.stderr.contains("docker-credential-broken")
            && run.stderr.contains("exit status: 3")
            && !run.stderr.contains("keychain is locked"),
        "{}",
        run.stderr
    );

    // A default store whose helper is not installed (a config copied from Docker
    // Desktop) is skipped with a warning: this registry wants credentials, so it
    // refuses (exit 3); one that needs none lists.
    let run = ca(&reg, regctl())
        .docker_config(r#"{"credsStore":"absent"}"#)
        .args(["ls", &reg.host()])
        .run();
    run.code(3);
    assert!(
        run.stderr.contains("docker-credential-absent") && run.stderr.contains("PATH"),
        "{}",
        run.stderr
    );
    let open = TestRegistry::start_with(
        Options {
            auth: crate::harness::Auth::None,
            ..Options::default()
        },
        populate,
    );
    let run = ca(&open, regctl())
        .docker_config(r#"{"credsStore":"absent"}"#)
        .args(["ls", &open.host()])
        .run();
    expect_listing(&open, &run);
    assert!(run.stderr.contains("not installed"), "{}", run.stderr);
    // A helper named for this very registry (credHelpers) must be there.
    let run = ca(&open, regctl())
        .docker_config(&format!(
            r#"{{"credHelpers":{{"{}":"absent"}}}}"#,
            open.host()
        ))
        .args(["ls", &open.host()])
        .run();
    run.code(1);
    assert!(
        run.stderr.contains("docker-credential-absent"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_helper_that_hangs_floods_or_fails_is_stopped_and_never_echoed() {
    let reg = start();
    let bin = tempfile::tempdir().unwrap();
    let secret = "helper-secret-do-not-print";
    helper(bin.path(), "hangs", "exec sleep 600");
    helper(bin.path(), "floods", "exec cat /dev/zero");
    // Answers, but a process it started keeps its output open.
    helper(
        bin.path(),
        "lingers",
        r#"sleep 5 & printf '{"Username":"u","Secret":"s"}'"#,
    );
    helper(
        bin.path(),
        "leaks",
        &format!(r#"printf '{{"Username":"u","Secret":"{secret}"}}'; echo '{secret}' >&2; exit 1"#),
    );
    helper(
        bin.path(),
        "typed",
        &format!(r#"printf '{{"Username":["{secret}"],"Secret":"{secret}"}}'"#),
    );
    for (name, says) in [
        ("hangs", "did not answer `get` within 1 s"),
        ("floods", "printed more than"),
        ("lingers", "left its output open"),
        ("leaks", "exit status: 1"),
        ("typed", "`Username` is not a string"),
    ] {
        let run = ca(&reg, regctl())
            .docker_config(&format!(r#"{{"credsStore":"{name}"}}"#))
            .env("PATH", path_with(bin.path()))
            .args(["--timeout", "1", "ls", &reg.host()])
            .run();
        run.code(1);
        assert!(
            run.stderr.contains(&format!("docker-credential-{name}")) && run.stderr.contains(says),
            "{name}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains(secret), "{name}: {}", run.stderr);
    }
}

#[test]
fn a_malformed_docker_config_entry_names_the_field_never_the_value() {
    let reg = start();
    let secret = "config-secret-do-not-print";
    let config = format!(
        r#"{{"auths":{{"{}":{{"username":"{USER}","password":{{"v":"{secret}"}}}},
                     "other.example":{{"username":"u","password":["{secret}"]}}}}}}"#,
        reg.host()
    );
    let run = ca(&reg, regctl())
        .docker_config(&config)
        .args(["ls", &reg.host()])
        .run();
    run.code(2);
    assert!(
        run.stderr.contains("`password` is not a string"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(secret), "{}", run.stderr);
    // Another registry's broken entry does not stand in the way.
    let good = format!(
        r#"{{"auths":{{"{}":{{"auth":"{}"}},
                     "other.example":{{"username":"u","password":["{secret}"]}}}}}}"#,
        reg.host(),
        auth_entry(USER, PASSWORD)
    );
    let run = ca(&reg, regctl())
        .docker_config(&good)
        .args(["ls", &reg.host()])
        .run();
    expect_listing(&reg, &run);
}

#[test]
fn invalid_docker_config_names_file_and_line_instead_of_going_anonymous() {
    let reg = start();
    let run = ca(&reg, regctl())
        .docker_config("{\n  \"auths\": {\n    oops\n  }\n}")
        .args(["ls", &reg.host()])
        .run();
    run.code(2);
    assert!(
        run.stderr.contains(".docker/config.json") && run.stderr.contains("line 3"),
        "{}",
        run.stderr
    );
}

#[test]
fn verbose_log_shows_requests_but_no_secret() {
    let reg = start();
    let config = format!(
        r#"{{"auths":{{"{}":{{"auth":"{}"}}}}}}"#,
        reg.host(),
        auth_entry(USER, PASSWORD)
    );
    let run = ca(&reg, regctl())
        .docker_config(&config)
        .args(["ls", &reg.host(), "--digests", "-v"])
        .run();
    run.success();
    assert!(
        run.stderr.contains(&format!(
            "GET https://{}/v2/_catalog?n=1000 -> 200",
            reg.host()
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("HEAD https://"), "{}", run.stderr);
    for secret in [PASSWORD.to_string(), auth_entry(USER, PASSWORD)] {
        assert!(
            !run.stderr.contains(&secret) && !run.stdout.contains(&secret),
            "leaked {secret}"
        );
    }
}

#[test]
fn an_entry_with_both_auth_and_identitytoken_logs_in_to_a_basic_auth_registry() {
    // What Docker Desktop and some logins leave behind: both fields. A registry
    // with htpasswd (Basic) auth is sent the user name and password, as docker
    // and skopeo send them.
    let reg = start();
    let config = format!(
        r#"{{"auths":{{"{}":{{"auth":"{}","identitytoken":"some-refresh-token"}}}}}}"#,
        reg.host(),
        auth_entry(USER, PASSWORD)
    );
    let run = ca(&reg, regctl())
        .docker_config(&config)
        .args(["ls", &reg.host()])
        .run();
    expect_listing(&reg, &run);
}

/// Long enough for a loaded machine; only a bug makes a run take it.
const LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

#[test]
fn a_helper_name_that_is_a_path_is_refused_before_anything_runs() {
    // `docker-credential-../../x/evil` run from `cwd` is `cwd/x/evil`, once the
    // folder `cwd/docker-credential-..` exists.
    let work = tempfile::tempdir().unwrap();
    let cwd = work.path().join("a");
    std::fs::create_dir_all(cwd.join("docker-credential-..")).unwrap();
    std::fs::create_dir_all(cwd.join("x")).unwrap();
    let ran = work.path().join("ran");
    let evil = cwd.join("x").join("evil");
    std::fs::write(
        &evil,
        format!(
            "#!/bin/sh\ntouch '{}'\nprintf '{{\"Username\":\"u\",\"Secret\":\"s\"}}'\n",
            ran.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&evil, std::fs::Permissions::from_mode(0o755)).unwrap();
    let host = "reg.example:5000";
    for config in [
        r#"{"credsStore": "../../x/evil"}"#.to_string(),
        format!(r#"{{"credHelpers": {{"{host}": "../../x/evil"}}}}"#),
    ] {
        for command in [
            &["ls", host][..],
            &["logout", host],
            &["pull-secret", host, "--name", "regcred"],
        ] {
            let run = regctl()
                .docker_config(&config)
                .current_dir(&cwd)
                .args(command)
                .run_within(LIMIT);
            run.code(2);
            assert!(
                run.stderr.contains("../../x/evil") && run.stderr.contains("not a helper name"),
                "{command:?}: {}",
                run.stderr
            );
            assert!(!ran.exists(), "{command:?} ran {}", evil.display());
        }
    }
    for name in [".hidden", "a\\\\b", "ev\\u001bil", "sub/dir", ".."] {
        let run = regctl()
            .docker_config(&format!(r#"{{"credsStore": "{name}"}}"#))
            .current_dir(&cwd)
            .args(["ls", host])
            .run_within(LIMIT);
        run.code(2);
        assert!(
            run.stderr.contains("not a helper name"),
            "{name}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains('\u{1b}'), "{}", run.stderr);
    }
}

#[test]
fn a_helper_gets_no_regctl_variables() {
    let bin = tempfile::tempdir().unwrap();
    let env = bin.path().join("env");
    let path = bin.path().join("docker-credential-envdump");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\ncat > /dev/null\nenv > '{}'\necho 'credentials not found in native keychain'\nexit 1\n",
            env.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    // logout leaves REGCTL_USERNAME and REGCTL_PASSWORD to itself: they are
    // set, and must not reach the helper.
    let run = regctl()
        .docker_config(r#"{"credsStore": "envdump"}"#)
        .env("PATH", path_with(bin.path()))
        .env("REGCTL_USERNAME", USER)
        .env("REGCTL_PASSWORD", "regctl-password-not-for-helpers")
        .env("REGCTL_OTHER", "x")
        .args(["logout", "reg.example:5000"])
        .run_within(LIMIT);
    run.code(4);
    let seen = std::fs::read_to_string(&env).unwrap();
    assert!(seen.contains("PATH="), "{seen}");
    assert!(!seen.contains("REGCTL_"), "{seen}");
    assert!(!seen.contains("regctl-password-not-for-helpers"));
}

/// A registry without authentication: login cannot check credentials there and
/// goes on to store them.
fn open_registry() -> TestRegistry {
    TestRegistry::start_with(
        Options {
            auth: crate::harness::Auth::None,
            ..Options::default()
        },
        populate,
    )
}

/// `docker-credential-deaf` in `bin`: never reads its input; says it started by
/// writing a line to the FIFO `started` (the test waits for that line), then
/// sleeps.
fn deaf_helper(bin: &Path) -> std::path::PathBuf {
    let started = bin.join("started");
    let status = std::process::Command::new("mkfifo")
        .arg(&started)
        .status()
        .unwrap();
    assert!(status.success());
    let path = bin.join("docker-credential-deaf");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\necho started > '{}'\nexec sleep 600\n",
            started.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    started
}

/// A login through the deaf helper, with a password longer than a pipe holds.
fn deaf_login(reg: &TestRegistry, bin: &Path, extra: &[&str]) -> Regctl {
    ca(reg, regctl())
        .docker_config(r#"{"credsStore": "deaf"}"#)
        .env("PATH", path_with(bin))
        .args(extra)
        .args(["login", &reg.host(), "-u", USER, "--password-stdin"])
        .stdin(&format!("{}\n", "p".repeat(200 * 1024)))
}

/// Waits for the deaf helper's line on its FIFO (the open blocks until it writes).
fn wait_started(started: &Path) {
    let line = std::fs::read_to_string(started).unwrap();
    assert_eq!(line, "started\n");
}

#[test]
fn a_helper_that_does_not_read_a_long_input_is_stopped_by_the_timeout() {
    let reg = open_registry();
    let bin = tempfile::tempdir().unwrap();
    let started = deaf_helper(bin.path());
    let child = deaf_login(&reg, bin.path(), &["--timeout", "2"]).spawn();
    wait_started(&started);
    let run = crate::harness::finish_within(child, LIMIT);
    run.code(1);
    assert!(
        run.stderr.contains("docker-credential-deaf")
            && run.stderr.contains("did not answer `store` within 2 s"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_helper_that_does_not_read_a_long_input_is_stopped_by_ctrl_c_and_the_deadline() {
    let reg = open_registry();
    let bin = tempfile::tempdir().unwrap();
    let started = deaf_helper(bin.path());
    let child = deaf_login(&reg, bin.path(), &["--timeout", "600"]).spawn();
    wait_started(&started);
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let run = crate::harness::finish_within(child, LIMIT);
    run.code(130);
    assert!(run.stderr.contains("interrupt"), "{}", run.stderr);

    // The deadline may come before the helper starts: its line is awaited aside.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        wait_started(&started);
        let _ = tx.send(());
    });
    let child = deaf_login(&reg, bin.path(), &["--timeout", "600", "--deadline", "2"]).spawn();
    let run = crate::harness::finish_within(child, LIMIT);
    run.code(1);
    assert!(run.stderr.contains("deadline"), "{}", run.stderr);
    assert!(
        rx.recv_timeout(LIMIT).is_ok(),
        "the helper was running: {}",
        run.stderr
    );
}
