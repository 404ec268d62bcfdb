//! `regctl login` and `regctl logout` against the real registry (TLS, htpasswd
//! or token auth): the credentials are checked before anything is stored, then
//! stored where docker looks (a credential helper), in the OS keyring (a real
//! Secret Service), or in docker's config; read back by a fresh process (and by
//! skopeo); erased by logout.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::credentials::path_with;
use crate::fixture::{image, Storage};
use crate::harness::{regctl, Options, Regctl, TestRegistry, PASSWORD, USER};
use crate::keyring::SecretService;
use crate::pty::{Packet, Pty};

fn populate(s: &Storage) {
    s.push(
        "app",
        &["v1"],
        &image("linux/amd64", "2024-01-01T00:00:00Z", "login"),
    );
}

fn start() -> TestRegistry {
    TestRegistry::start_with(Options::default(), populate)
}

/// regctl in `home`, trusting `reg`'s certificate, with no credentials given.
fn at(home: &Path, reg: &TestRegistry) -> Regctl {
    regctl()
        .home(home)
        .args(["--ca-file".as_ref(), reg.ca.as_os_str()])
}

fn login(home: &Path, reg: &TestRegistry, password: &str, extra: &[&str]) -> crate::harness::Run {
    at(home, reg)
        .args(["login", &reg.host(), "-u", USER, "--password-stdin"])
        .args(extra)
        .stdin(&format!("{password}\n"))
        .run()
}

fn docker_config(home: &Path) -> PathBuf {
    home.join(".docker").join("config.json")
}

fn regctl_config(home: &Path) -> PathBuf {
    home.join(".config").join("regctl").join("config.json")
}

fn expect_listing(home: &Path, reg: &TestRegistry) {
    let run = at(home, reg).args(["ls", &reg.host()]).run();
    run.success();
    assert_eq!(run.stdout, format!("{}/app:v1\n", reg.host()));
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

const UNKNOWN_FIELDS: &str = "{\n\t\"auths\": {\n\t\t\"other.example:5000\": {\n\t\t\t\"auth\": \"b3RoZXI6c2VjcmV0\",\n\t\t\t\"email\": \"x@example.org\"\n\t\t}\n\t},\n\t\"proxies\": {\"default\": {\"noProxy\": \"*.internal\"}},\n\t\"detachKeys\": \"ctrl-e,e\",\n\t\"plugins\": {\"x\": [1, 2.50, 1e3]}\n}\n";

#[test]
fn without_a_keyring_login_stores_in_docker_config_keeping_every_other_byte() {
    let reg = start();
    let home = tempfile::tempdir().unwrap();
    let config = docker_config(home.path());
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, UNKNOWN_FIELDS).unwrap();

    let run = login(home.path(), &reg, PASSWORD, &[]);
    run.success();
    assert!(
        run.stderr.contains("keyring"),
        "says why not the keyring: {}",
        run.stderr
    );
    assert!(run.stderr.contains("base64"), "warns: {}", run.stderr);
    assert!(!run.stderr.contains(PASSWORD) && !run.stdout.contains(PASSWORD));

    let text = std::fs::read_to_string(&config).unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    let expected = UNKNOWN_FIELDS.replace(
        "\t\t}\n\t},",
        &format!(
            "\t\t}},\n\t\t\"{}\": {{\n\t\t\t\"auth\": \"{auth}\"\n\t\t}}\n\t}},",
            reg.host()
        ),
    );
    assert_eq!(text, expected, "only the new entry is added");
    assert_eq!(mode(&config), 0o600);
    expect_listing(home.path(), &reg);

    // skopeo reads the same entry.
    let certs = tempfile::tempdir().unwrap();
    std::fs::copy(&reg.ca, certs.path().join("ca.crt")).unwrap();
    crate::harness::output_ok(
        std::process::Command::new("skopeo")
            .args(["list-tags", "--authfile"])
            .arg(&config)
            .arg("--cert-dir")
            .arg(certs.path())
            .arg(format!("docker://{}/app", reg.host()))
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy"),
    );

    let run = at(home.path(), &reg).args(["logout", &reg.host()]).run();
    run.success();
    assert!(run.stderr.contains("config.json"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        UNKNOWN_FIELDS,
        "back to the bytes before login"
    );
    let run = at(home.path(), &reg).args(["ls", &reg.host()]).run();
    run.code(3);
    let run = at(home.path(), &reg).args(["logout", &reg.host()]).run();
    run.code(4);
    assert!(
        run.stderr.contains("no credential is stored"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_refused_password_stores_nothing_anywhere() {
    let reg = start();
    let home = tempfile::tempdir().unwrap();
    let run = login(home.path(), &reg, "Wr0ngPassw0rd!", &["--store", "config"]);
    run.code(3);
    assert!(run.stderr.contains("nothing was stored"), "{}", run.stderr);
    assert!(!run.stderr.contains("Wr0ngPassw0rd!"));
    assert!(!docker_config(home.path()).exists());
    assert!(!regctl_config(home.path()).exists());
}

#[test]
fn an_empty_password_or_no_way_to_ask_is_a_usage_error() {
    let reg = start();
    let home = tempfile::tempdir().unwrap();
    let run = login(home.path(), &reg, "", &[]);
    run.code(2);
    assert!(run.stderr.contains("empty"), "{}", run.stderr);
    // No terminal, no --password-stdin: nothing to ask on.
    let run = at(home.path(), &reg)
        .args(["login", &reg.host(), "-u", USER])
        .run();
    run.code(2);
    assert!(run.stderr.contains("--password-stdin"), "{}", run.stderr);
    let run = at(home.path(), &reg)
        .args(["login", &reg.host(), "--password-stdin"])
        .stdin(PASSWORD)
        .run();
    run.code(2);
    assert!(run.stderr.contains("-u USER"), "{}", run.stderr);
    let run = at(home.path(), &reg)
        .args([
            "login",
            &format!("{}/app", reg.host()),
            "-u",
            USER,
            "--password-stdin",
        ])
        .stdin(PASSWORD)
        .run();
    run.code(2);
    assert!(!docker_config(home.path()).exists());
}

#[test]
fn a_symlinked_config_stays_a_symlink() {
    let reg = start();
    let home = tempfile::tempdir().unwrap();
    let dotfiles = home.path().join("dotfiles");
    std::fs::create_dir_all(&dotfiles).unwrap();
    std::fs::write(
        dotfiles.join("docker.json"),
        "{\"detachKeys\": \"ctrl-e,e\"}",
    )
    .unwrap();
    std::fs::create_dir_all(home.path().join(".docker")).unwrap();
    std::os::unix::fs::symlink("../dotfiles/docker.json", docker_config(home.path())).unwrap();

    login(home.path(), &reg, PASSWORD, &["--store", "config"]).success();
    let link = std::fs::symlink_metadata(docker_config(home.path())).unwrap();
    assert!(link.file_type().is_symlink());
    let text = std::fs::read_to_string(dotfiles.join("docker.json")).unwrap();
    assert!(
        text.starts_with("{\"detachKeys\": \"ctrl-e,e\", \"auths\": {"),
        "{text}"
    );
    assert_eq!(mode(&dotfiles.join("docker.json")), 0o600);
    expect_listing(home.path(), &reg);
}

/// `docker-credential-<name>` keeping one file per server in its folder: store,
/// get, erase and list, as docker's helpers behave.
fn file_helper(dir: &Path, name: &str) -> PathBuf {
    let store = dir.join(format!("{name}.d"));
    std::fs::create_dir_all(&store).unwrap();
    let script = format!(
        r#"#!/bin/sh
store="{store}"
input=$(cat)
case "$1" in
  store)
    server=$(printf '%s' "$input" | sed -n 's/.*"ServerURL":"\([^"]*\)".*/\1/p')
    printf '%s' "$input" > "$store/$server" ;;
  get)
    [ -f "$store/$input" ] || {{ echo "credentials not found in native keychain"; exit 1; }}
    cat "$store/$input" ;;
  erase)
    [ -f "$store/$input" ] || {{ echo "credentials not found in native keychain"; exit 1; }}
    rm "$store/$input" ;;
  list)
    printf '{{'; sep=''
    for f in "$store"/*; do [ -f "$f" ] && printf '%s"%s":"x"' "$sep" "$(basename "$f")" && sep=,; done
    printf '}}' ;;
  *) exit 9 ;;
esac
"#,
        store = store.display()
    );
    let path = dir.join(format!("docker-credential-{name}"));
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    store
}

#[test]
fn login_stores_through_the_helper_docker_would_ask_and_logout_erases_it() {
    let reg = start();
    let home = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    let store = file_helper(bin.path(), "regtest");
    let config = docker_config(home.path());
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    let original = "{\"credsStore\": \"regtest\", \"proxies\": {}}";
    std::fs::write(&config, original).unwrap();
    let path = path_with(bin.path());

    let run = at(home.path(), &reg)
        .env("PATH", &path)
        .args(["login", &reg.host(), "-u", USER, "--password-stdin"])
        .stdin(PASSWORD)
        .run();
    run.success();
    assert!(
        run.stderr.contains("docker-credential-regtest"),
        "{}",
        run.stderr
    );
    let stored = std::fs::read_to_string(store.join(reg.host())).unwrap();
    let stored: serde_json::Value = serde_json::from_str(&stored).unwrap();
    assert_eq!(stored["Username"], USER);
    assert_eq!(stored["Secret"], PASSWORD);
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        original,
        "config untouched"
    );

    let run = at(home.path(), &reg)
        .env("PATH", &path)
        .args(["-v", "ls", &reg.host()])
        .run();
    run.success();
    assert!(
        run.stderr.contains("from docker-credential-regtest"),
        "{}",
        run.stderr
    );

    let run = at(home.path(), &reg)
        .env("PATH", &path)
        .args(["logout", &reg.host()])
        .run();
    run.success();
    assert!(
        run.stderr.contains("docker-credential-regtest"),
        "{}",
        run.stderr
    );
    assert!(!store.join(reg.host()).exists());
    at(home.path(), &reg)
        .env("PATH", &path)
        .args(["logout", &reg.host()])
        .run()
        .code(4);
}

#[test]
fn a_store_that_is_not_available_fails_and_stores_nothing() {
    let reg = start();
    let home = tempfile::tempdir().unwrap();
    // No helper named in docker's config; no session bus for the keyring.
    for (store, code, says) in [("helper", 2, "credsStore"), ("keyring", 1, "OS keyring")] {
        let run = login(home.path(), &reg, PASSWORD, &["--store", store]);
        run.code(code);
        assert!(run.stderr.contains(says), "{store}: {}", run.stderr);
        assert!(!docker_config(home.path()).exists());
        assert!(!regctl_config(home.path()).exists());
    }
}

#[test]
fn with_a_secret_service_login_stores_in_the_keyring_and_a_fresh_process_reads_it() {
    let reg = start();
    let keyring = SecretService::start();
    let home = tempfile::tempdir().unwrap();
    let with_bus = |r: Regctl| r.env("DBUS_SESSION_BUS_ADDRESS", &keyring.address);

    let run = with_bus(at(home.path(), &reg))
        .args(["login", &reg.host(), "-u", USER, "--password-stdin"])
        .stdin(PASSWORD)
        .run();
    run.success();
    assert!(run.stderr.contains("OS keyring"), "{}", run.stderr);
    assert!(
        !docker_config(home.path()).exists(),
        "docker's config untouched"
    );
    assert!(
        run.stderr
            .contains("docker-credential-regctl is not on PATH"),
        "{}",
        run.stderr
    );
    assert_eq!(
        keyring
            .lookup(&[("service", "regctl"), ("username", &reg.host())])
            .as_deref(),
        Some(PASSWORD)
    );
    assert_eq!(mode(&regctl_config(home.path())), 0o600);
    assert!(!std::fs::read_to_string(regctl_config(home.path()))
        .unwrap()
        .contains(PASSWORD));

    let run = with_bus(at(home.path(), &reg))
        .args(["-v", "ls", &reg.host()])
        .run();
    run.success();
    assert!(run.stderr.contains("from the OS keyring"), "{}", run.stderr);
    assert_eq!(run.stdout, format!("{}/app:v1\n", reg.host()));

    // Without the bus the keyring is passed over (-v says why), not an error.
    let run = at(home.path(), &reg).args(["-v", "ls", &reg.host()]).run();
    run.code(3);
    assert!(run.stderr.contains("keyring"), "{}", run.stderr);

    let run = with_bus(at(home.path(), &reg))
        .args(["logout", &reg.host()])
        .run();
    run.success();
    assert!(run.stderr.contains("OS keyring"), "{}", run.stderr);
    assert_eq!(
        keyring.lookup(&[("service", "regctl"), ("username", &reg.host())]),
        None
    );
    with_bus(at(home.path(), &reg))
        .args(["ls", &reg.host()])
        .run()
        .code(3);

    // Logged in again, then the keyring locked (as a screen lock does).
    with_bus(at(home.path(), &reg))
        .args(["login", &reg.host(), "-u", USER, "--password-stdin"])
        .stdin(PASSWORD)
        .run()
        .success();
    keyring.lock();
    // A locked keyring is passed over, without waiting for a prompt.
    let run = with_bus(at(home.path(), &reg))
        .args(["-v", "ls", &reg.host()])
        .run();
    run.code(3);
    assert!(
        run.stderr.contains("cannot read the OS keyring"),
        "{}",
        run.stderr
    );
    // Logout cannot erase from a locked keyring: it says so and keeps the record.
    let run = with_bus(at(home.path(), &reg))
        .args(["logout", &reg.host()])
        .run();
    run.code(1);
    assert!(run.stderr.contains("OS keyring"), "{}", run.stderr);
    assert!(std::fs::read_to_string(regctl_config(home.path()))
        .unwrap()
        .contains(&reg.host()));
}

#[test]
fn token_auth_login_is_checked_at_the_realm() {
    let (reg, tokens) = crate::token::registry_with_token_auth(populate);
    let home = tempfile::tempdir().unwrap();
    let run = login(home.path(), &reg, "Wr0ngPassw0rd!", &["--store", "config"]);
    run.code(3);
    assert!(!docker_config(home.path()).exists());
    login(home.path(), &reg, PASSWORD, &["--store", "config"]).success();
    assert!(
        tokens.token_requests().len() >= 2,
        "both checked at the realm"
    );
    expect_listing(home.path(), &reg);
}

/// `regctl login` on a terminal, answering its prompts with the user name and
/// `password`: whether it succeeded, and what the terminal showed.
fn login_on_a_terminal(home: &Path, reg: &TestRegistry, password: &str) -> (bool, String) {
    let mut pty = Pty::open();
    let mut child = pty.spawn(
        at(home, reg)
            .args(["login", &reg.host(), "--store", "config"])
            .env("TERM", "dumb")
            .command(),
    );
    let mut seen = String::new();
    let (mut user_typed, mut flushed, mut password_typed) = (false, false, false);
    loop {
        match pty.read() {
            Packet::Output(text) => seen.push_str(&text),
            // The password prompt flushes typed-ahead input, then reads: the
            // password is typed once both its prompt and that flush are seen
            // (a state change may be reported before output written earlier).
            Packet::InputFlushed => flushed |= user_typed,
            Packet::Other => {}
            Packet::Closed => break,
        }
        if seen.contains("Username") && !user_typed {
            pty.type_in(&format!("{USER}\r"));
            user_typed = true;
        }
        if flushed && seen.contains("Password for") && !password_typed {
            pty.type_in(&format!("{password}\r"));
            password_typed = true;
        }
    }
    assert!(password_typed, "{seen}");
    assert!(!seen.contains(password), "the password was echoed: {seen}");
    (child.wait().unwrap().success(), seen)
}

#[test]
fn on_a_terminal_login_asks_for_the_user_and_the_hidden_password() {
    let reg = start();
    let home = tempfile::tempdir().unwrap();
    let (ok, seen) = login_on_a_terminal(home.path(), &reg, PASSWORD);
    assert!(ok && seen.contains("logged in"), "{seen}");
    expect_listing(home.path(), &reg);
}

#[test]
fn a_refused_password_typed_at_the_prompt_is_said_to_come_from_the_prompt() {
    let reg = start();
    let home = tempfile::tempdir().unwrap();
    let (ok, seen) = login_on_a_terminal(home.path(), &reg, "Wr0ngPassw0rd!");
    assert!(!ok, "{seen}");
    assert!(
        seen.contains("typed at the prompt") && !seen.contains("from -u"),
        "{seen}"
    );
    assert!(!docker_config(home.path()).exists(), "nothing was stored");
}

#[test]
fn a_helper_named_for_the_registry_in_cred_helpers_is_the_one_asked() {
    let reg = start();
    let home = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    let named = file_helper(bin.path(), "named");
    let default = file_helper(bin.path(), "default");
    let config = docker_config(home.path());
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        format!(
            r#"{{"credHelpers": {{"{}": "named"}}, "credsStore": "default"}}"#,
            reg.host()
        ),
    )
    .unwrap();
    let run = at(home.path(), &reg)
        .env("PATH", path_with(bin.path()))
        .args(["login", &reg.host(), "-u", USER, "--password-stdin"])
        .stdin(PASSWORD)
        .run();
    run.success();
    assert!(
        run.stderr
            .contains("docker-credential-named (docker's credHelpers)"),
        "{}",
        run.stderr
    );
    assert!(named.join(reg.host()).exists());
    assert!(!default.join(reg.host()).exists());
    // --store config beside a helper: stored, with a note that it is not read.
    let run = login(home.path(), &reg, PASSWORD, &["--store", "config"]);
    run.success();
    assert!(
        run.stderr.contains("not used while it does"),
        "{}",
        run.stderr
    );
}

#[test]
fn logout_clears_every_place_it_can_and_reports_the_one_it_cannot() {
    // A keyring login recorded, but no keyring reachable; docker's auths too.
    let home = tempfile::tempdir().unwrap();
    let record = regctl_config(home.path());
    std::fs::create_dir_all(record.parent().unwrap()).unwrap();
    std::fs::write(
        &record,
        r#"{"keyring": {"reg.example:5000": {"username": "u"}}}"#,
    )
    .unwrap();
    let config = docker_config(home.path());
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        r#"{"auths": {"reg.example:5000": {"auth": "dTpw"}}}"#,
    )
    .unwrap();
    let run = regctl()
        .home(home.path())
        .args(["logout", "Reg.Example:5000"])
        .run();
    run.code(1);
    assert!(run.stderr.contains("config.json (auths)"), "{}", run.stderr);
    assert!(run.stderr.contains("OS keyring"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        r#"{"auths": {}}"#,
        "the entry goes, every other byte stays"
    );
    assert!(
        std::fs::read_to_string(&record)
            .unwrap()
            .contains("reg.example:5000"),
        "the record stays while its entry may"
    );
}

/// Long enough for a loaded machine; only a bug makes a run take it.
const LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

#[test]
fn a_lock_another_process_holds_on_the_config_folder_fails_login_and_logout_in_time() {
    let reg = start();
    let home = tempfile::tempdir().unwrap();
    let config = docker_config(home.path());
    let folder = config.parent().unwrap().to_path_buf();
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        &config,
        r#"{"auths": {"reg.example:5000": {"auth": "dTpw"}}}"#,
    )
    .unwrap();
    // What `flock ~/.docker sleep 1000` by another user does.
    let held = std::fs::File::open(&folder).unwrap();
    held.lock().unwrap();
    let run = at(home.path(), &reg)
        .args(["--timeout", "1", "login", &reg.host(), "-u", USER])
        .args(["--password-stdin", "--store", "config"])
        .stdin(PASSWORD)
        .run_within(LIMIT);
    run.code(1);
    let says = |stderr: &str| {
        stderr.contains(&format!("cannot lock {}", folder.display()))
            && stderr.contains("within 1 s")
    };
    assert!(says(&run.stderr), "{}", run.stderr);
    let run = regctl()
        .home(home.path())
        .args(["--timeout", "1", "logout", "reg.example:5000"])
        .run_within(LIMIT);
    run.code(1);
    assert!(says(&run.stderr), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        r#"{"auths": {"reg.example:5000": {"auth": "dTpw"}}}"#
    );
    drop(held);
    login(home.path(), &reg, PASSWORD, &["--store", "config"]).success();
    expect_listing(home.path(), &reg);
}

#[test]
fn a_locked_keyring_is_an_error_never_a_fall_back_to_docker_config() {
    let reg = start();
    let keyring = SecretService::start();
    keyring.lock();
    let home = tempfile::tempdir().unwrap();
    let run = at(home.path(), &reg)
        .env("DBUS_SESSION_BUS_ADDRESS", &keyring.address)
        .args(["login", &reg.host(), "-u", USER, "--password-stdin"])
        .stdin(PASSWORD)
        .run_within(LIMIT);
    run.code(1);
    assert!(
        run.stderr.contains("locked") && run.stderr.contains("unlock it or choose --store config"),
        "{}",
        run.stderr
    );
    assert!(!docker_config(home.path()).exists());
    assert!(!regctl_config(home.path()).exists());
    // Chosen, docker's config is used.
    let run = at(home.path(), &reg)
        .env("DBUS_SESSION_BUS_ADDRESS", &keyring.address)
        .args(["login", &reg.host(), "-u", USER, "--password-stdin"])
        .args(["--store", "config"])
        .stdin(PASSWORD)
        .run_within(LIMIT);
    run.success();
    assert!(docker_config(home.path()).exists());
}

#[test]
fn login_as_root_keeps_the_old_owner_only_when_it_is_root_or_the_sudo_user() {
    use std::os::unix::fs::MetadataExt as _;
    if !crate::harness::is_root() {
        eprintln!("not root: login cannot hand a file to another user, skipped");
        return;
    }
    let reg = start();
    let home = tempfile::tempdir().unwrap();
    let config = docker_config(home.path());
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    let give_away = || {
        std::fs::write(&config, "{}").unwrap();
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::os::unix::fs::chown(&config, Some(4242), Some(4343)).unwrap();
    };
    give_away();
    let run = login(home.path(), &reg, PASSWORD, &["--store", "config"]);
    run.success();
    let meta = std::fs::metadata(&config).unwrap();
    assert_eq!((meta.uid(), meta.mode() & 0o777), (0, 0o600));
    assert!(
        run.stderr.contains("uid 4242") && run.stderr.contains(config.to_str().unwrap()),
        "{}",
        run.stderr
    );
    // regctl run with sudo by uid 4242: the file stays theirs.
    give_away();
    let run = at(home.path(), &reg)
        .env("SUDO_UID", "4242")
        .args(["login", &reg.host(), "-u", USER, "--password-stdin"])
        .args(["--store", "config"])
        .stdin(PASSWORD)
        .run();
    run.success();
    let meta = std::fs::metadata(&config).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid(), meta.mode() & 0o777),
        (4242, 4343, 0o600)
    );
    assert!(!run.stderr.contains("uid 4242"), "{}", run.stderr);
}

#[test]
fn logout_gives_back_the_bytes_from_before_login() {
    let reg = start();
    for before in [
        None,
        // As docker writes it: tab-indented, no final newline.
        Some("{\n\t\"detachKeys\": \"ctrl-e,e\"\n}"),
        Some("{\"proxies\":{\"default\":{\"noProxy\":\"*.internal\"}}}\n"),
        // As docker's own logout leaves it.
        Some("{\n\t\"auths\": {}\n}"),
        Some("{\n\t\"auths\": {\n\t\t\"other.example\": {\n\t\t\t\"auth\": \"b3RoZXI6c2VjcmV0\"\n\t\t}\n\t}\n}"),
        Some("{\r\n  \"auths\": {\r\n    \"other.example\": {\"auth\": \"b3RoZXI6c2VjcmV0\"}\r\n  },\r\n  \"x\": 1\r\n}\r\n"),
        Some("{}"),
    ] {
        let home = tempfile::tempdir().unwrap();
        let config = docker_config(home.path());
        if let Some(text) = before {
            std::fs::create_dir_all(config.parent().unwrap()).unwrap();
            std::fs::write(&config, text).unwrap();
        }
        login(home.path(), &reg, PASSWORD, &["--store", "config"]).success();
        expect_listing(home.path(), &reg);
        at(home.path(), &reg)
            .args(["logout", &reg.host()])
            .run()
            .success();
        match before {
            None => assert!(!config.exists(), "the file login made is gone"),
            Some(text) => assert_eq!(
                std::fs::read_to_string(&config).unwrap(),
                text,
                "back to the bytes before login"
            ),
        }
        assert!(
            !regctl_config(home.path()).exists(),
            "{before:?}: nothing of regctl's is left"
        );
    }
}

/// `docker-credential-<name> ACTION` with `input`, in `home`, with the keyring's bus.
fn own_helper(home: &Path, keyring: &SecretService, action: &str, input: &str) -> (i32, String) {
    use std::io::Write as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_docker-credential-regctl"))
        .arg(action)
        .env("HOME", home)
        .env_remove("XDG_CONFIG_HOME")
        .env("DBUS_SESSION_BUS_ADDRESS", &keyring.address)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn a_keyring_login_is_seen_by_docker_and_skopeo_through_regctls_helper_without_a_secret_in_docker_config(
) {
    let reg = start();
    let keyring = SecretService::start();
    let home = tempfile::tempdir().unwrap();
    let helper = Path::new(env!("CARGO_BIN_EXE_docker-credential-regctl"));
    let path = path_with(helper.parent().unwrap());
    let config = docker_config(home.path());
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    let original = "{\n\t\"detachKeys\": \"ctrl-e,e\"\n}";
    std::fs::write(&config, original).unwrap();
    let with_bus = |r: Regctl| {
        r.env("DBUS_SESSION_BUS_ADDRESS", &keyring.address)
            .env("PATH", &path)
    };

    // Twice: a login again keeps what the first one named.
    for _ in 0..2 {
        let run = with_bus(at(home.path(), &reg))
            .args(["login", &reg.host(), "-u", USER, "--password-stdin"])
            .stdin(PASSWORD)
            .run();
        run.success();
        assert!(run.stderr.contains("OS keyring"), "{}", run.stderr);
        assert!(!run.stderr.contains(PASSWORD), "{}", run.stderr);
    }

    // docker's config names the helper, and holds no secret.
    let text = std::fs::read_to_string(&config).unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    assert!(!text.contains(PASSWORD) && !text.contains(&auth), "{text}");
    let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed["credHelpers"][reg.host()], "regctl", "{text}");
    assert!(parsed.get("auths").is_none(), "{text}");
    assert_eq!(parsed["detachKeys"], "ctrl-e,e");

    // The helper answers docker's protocol from the keyring.
    let (code, out) = own_helper(home.path(), &keyring, "get", &reg.host());
    assert_eq!(code, 0, "{out}");
    let got: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(got["Username"], USER);
    assert_eq!(got["Secret"], PASSWORD);
    assert_eq!(got["ServerURL"], reg.host());
    let (code, out) = own_helper(
        home.path(),
        &keyring,
        "get",
        &format!("https://{}/v1/", reg.host()),
    );
    assert_eq!(code, 0, "{out}");
    let (code, out) = own_helper(home.path(), &keyring, "list", "");
    assert_eq!(
        (code, out),
        (0, format!("{{\"{}\":\"{USER}\"}}", reg.host()))
    );
    let (code, out) = own_helper(home.path(), &keyring, "get", "other.example:5000");
    assert_eq!(
        (code, out.as_str()),
        (1, "credentials not found in native keychain\n")
    );

    // skopeo honours credHelpers in the file it is given, and lists the tags.
    let certs = tempfile::tempdir().unwrap();
    std::fs::copy(&reg.ca, certs.path().join("ca.crt")).unwrap();
    let listed = crate::harness::output_ok(
        std::process::Command::new("skopeo")
            .args(["list-tags", "--authfile"])
            .arg(&config)
            .arg("--cert-dir")
            .arg(certs.path())
            .arg(format!("docker://{}/app", reg.host()))
            .env("PATH", &path)
            .env("HOME", home.path())
            .env_remove("XDG_CONFIG_HOME")
            .env("DBUS_SESSION_BUS_ADDRESS", &keyring.address)
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy"),
    );
    let listed = String::from_utf8(listed).unwrap();
    assert!(listed.contains("\"v1\""), "{listed}");

    // Logout takes the entry away: the file is back to its bytes.
    let run = with_bus(at(home.path(), &reg))
        .args(["logout", &reg.host()])
        .run();
    run.success();
    assert_eq!(std::fs::read_to_string(&config).unwrap(), original);
    assert!(
        !regctl_config(home.path()).exists(),
        "nothing of regctl's is left"
    );
    let (code, _) = own_helper(home.path(), &keyring, "get", &reg.host());
    assert_eq!(code, 1);

    // What `docker login` does through the helper: store, then erase.
    let stored = format!(
        r#"{{"ServerURL":"{}","Username":"dockeruser","Secret":"D0cker-Secret"}}"#,
        reg.host()
    );
    assert_eq!(own_helper(home.path(), &keyring, "store", &stored).0, 0);
    let (code, out) = own_helper(home.path(), &keyring, "get", &reg.host());
    assert_eq!(code, 0);
    assert!(out.contains("\"Username\":\"dockeruser\"") && out.contains("D0cker-Secret"));
    assert_eq!(
        own_helper(home.path(), &keyring, "erase", &reg.host()),
        (0, String::new())
    );
    let (code, out) = own_helper(home.path(), &keyring, "erase", &reg.host());
    assert_eq!(
        (code, out.as_str()),
        (1, "credentials not found in native keychain\n")
    );
    assert!(!regctl_config(home.path()).exists());
    assert_eq!(own_helper(home.path(), &keyring, "bogus", "").0, 1);

    // A default store docker's config names still wins: it is left alone.
    let bin = tempfile::tempdir().unwrap();
    file_helper(bin.path(), "regtest");
    let with_store = "{\"credsStore\": \"regtest\"}";
    std::fs::write(&config, with_store).unwrap();
    let run = with_bus(at(home.path(), &reg))
        .args(["login", &reg.host(), "-u", USER, "--password-stdin"])
        .args(["--store", "keyring"])
        .stdin(PASSWORD)
        .run();
    run.success();
    assert!(
        run.stderr.contains("docker-credential-regtest"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), with_store);
}
