//! Files regctl reads that are not regular files (a FIFO, a symlink to a
//! device), that are huge, or that another user could have written: docker's
//! config, regctl's own config, certs.d and --ca-file. Each is refused with an
//! error (or, for trust another user could have planted, a warning) naming it;
//! none makes regctl hang or read without end.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::fixture::{image, Storage};
use crate::harness::{free_port, loopback_certificate, regctl, Options, TestRegistry};

/// Long enough for a loaded machine; only a bug makes a run take it.
const LIMIT: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, Debug)]
enum Odd {
    /// A named pipe nobody writes to: opening it for reading blocks.
    Fifo,
    /// A symlink to `/dev/zero`: reading it never ends.
    DevZero,
    /// A regular file of 5 MiB (sparse).
    Huge,
}

const ODDITIES: [Odd; 3] = [Odd::Fifo, Odd::DevZero, Odd::Huge];

impl Odd {
    fn make(self, path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        match self {
            Odd::Fifo => {
                let status = std::process::Command::new("mkfifo")
                    .arg(path)
                    .status()
                    .unwrap();
                assert!(status.success());
            }
            Odd::DevZero => std::os::unix::fs::symlink("/dev/zero", path).unwrap(),
            Odd::Huge => std::fs::File::create(path)
                .unwrap()
                .set_len(5 << 20)
                .unwrap(),
        }
    }

    /// What the error says about it.
    fn said(self) -> &'static str {
        match self {
            Odd::Fifo => "not a regular file (a FIFO)",
            Odd::DevZero => "not a regular file (a character device)",
            Odd::Huge => "larger than 4 MiB",
        }
    }
}

/// A registry address nothing listens on: a run that got past its files fails
/// to connect there.
fn nowhere() -> String {
    format!("127.0.0.1:{}", free_port())
}

#[track_caller]
fn names(stderr: &str, path: &Path, odd: Odd) {
    assert!(
        stderr.contains(path.to_str().unwrap()) && stderr.contains(odd.said()),
        "{odd:?}: {stderr}"
    );
}

#[test]
fn a_docker_config_that_is_not_a_regular_file_is_refused_naming_it() {
    for odd in ODDITIES {
        let run = regctl();
        let path = run.home.path().join(".docker").join("config.json");
        odd.make(&path);
        let out = run.args(["ls", &nowhere()]).run_within(LIMIT);
        out.code(2);
        names(&out.stderr, &path, odd);

        // The same through DOCKER_CONFIG, and for login (which rewrites it).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        odd.make(&path);
        let out = regctl()
            .env("DOCKER_CONFIG", dir.path())
            .args(["logout", &nowhere()])
            .run_within(LIMIT);
        out.code(2);
        names(&out.stderr, &path, odd);
    }
}

#[test]
fn a_regctl_config_that_is_not_a_regular_file_is_refused_naming_it() {
    for odd in ODDITIES {
        let run = regctl();
        let path = run
            .home
            .path()
            .join(".config")
            .join("regctl")
            .join("config.json");
        odd.make(&path);
        let out = run.args(["logout", &nowhere()]).run_within(LIMIT);
        out.code(2);
        names(&out.stderr, &path, odd);
    }
}

/// A certs.d folder for `host` in a new temporary folder, with `ca.crt`,
/// `client.cert` and `client.key` made by `files`.
fn certs_d(host: &str, files: impl FnOnce(&Path)) -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join(host);
    std::fs::create_dir_all(&dir).unwrap();
    files(&dir);
    (root, dir)
}

#[test]
fn certs_d_and_ca_files_that_are_not_regular_files_are_refused_naming_them() {
    let pair = loopback_certificate();
    for odd in ODDITIES {
        let host = nowhere();
        for name in ["ca.crt", "client.cert", "client.key"] {
            let (root, dir) = certs_d(&host, |dir| {
                // The other files of a client identity, regular and valid.
                std::fs::copy(&pair.cert, dir.join("client.cert")).unwrap();
                std::fs::copy(&pair.key, dir.join("client.key")).unwrap();
                let _ = std::fs::remove_file(dir.join(name));
                odd.make(&dir.join(name));
            });
            let out = regctl()
                .args(["ls", &host, "--certs-dir"])
                .args([root.path()])
                .run_within(LIMIT);
            out.code(2);
            names(&out.stderr, &dir.join(name), odd);
        }
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        odd.make(&ca);
        let out = regctl()
            .args(["ls", &host, "--ca-file"])
            .args([&ca])
            .run_within(LIMIT);
        out.code(2);
        names(&out.stderr, &ca, odd);
    }
}

fn populate(s: &Storage) {
    s.push(
        "app",
        &["v1"],
        &image("linux/amd64", "2024-01-01T00:00:00Z", "files"),
    );
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn trust_another_user_could_have_written_is_ignored_with_a_warning_naming_it() {
    let reg = TestRegistry::start_with(Options::default(), populate);
    let host = reg.host();
    let listing = format!("{host}/app:v1\n");
    let ls = |certs: &Path| {
        regctl()
            .logged_in()
            .args(["ls", &host, "--certs-dir"])
            .args([certs])
            .run_within(LIMIT)
    };
    let (root, dir) = certs_d(&host, |dir| {
        std::fs::copy(&reg.ca, dir.join("ca.crt")).unwrap();
        chmod(&dir.join("ca.crt"), 0o644);
    });
    let ca = dir.join("ca.crt");
    let run = ls(root.path());
    run.success();
    assert_eq!(run.stdout, listing);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);

    // A folder others may write to: its CA is not trusted; the warning names it.
    for mode in [0o777, 0o775] {
        chmod(&dir, mode);
        let run = ls(root.path());
        run.code(1);
        assert!(
            run.stderr
                .contains(&format!("warning: ignoring {}", dir.display()))
                && run.stderr.contains("writable by"),
            "{}",
            run.stderr
        );
    }
    chmod(&dir, 0o755);
    // A CA file others may write to.
    for mode in [0o666, 0o664] {
        chmod(&ca, mode);
        let run = ls(root.path());
        run.code(1);
        assert!(
            run.stderr
                .contains(&format!("warning: ignoring {}", ca.display()))
                && run.stderr.contains("writable by"),
            "{}",
            run.stderr
        );
    }
    chmod(&ca, 0o644);
    ls(root.path()).success();

    // --ca-file alike.
    let given = tempfile::tempdir().unwrap();
    let file = given.path().join("ca.pem");
    std::fs::copy(&reg.ca, &file).unwrap();
    chmod(&file, 0o646);
    let run = regctl()
        .logged_in()
        .args(["ls", &host, "--ca-file"])
        .args([&file])
        .run_within(LIMIT);
    run.code(1);
    assert!(
        run.stderr
            .contains(&format!("warning: ignoring {}", file.display())),
        "{}",
        run.stderr
    );

    // Owned by another user who is not root (regctl is root here: see the
    // test's note when it is not).
    if !crate::harness::is_root() {
        eprintln!("not root: the ownership case needs chown and is skipped");
        return;
    }
    std::os::unix::fs::chown(&ca, Some(4242), Some(4242)).unwrap();
    let run = ls(root.path());
    run.code(1);
    assert!(
        run.stderr
            .contains(&format!("warning: ignoring {}", ca.display()))
            && run.stderr.contains("owned by uid 4242"),
        "{}",
        run.stderr
    );
    std::os::unix::fs::chown(&ca, Some(0), Some(0)).unwrap();
    std::os::unix::fs::chown(&dir, Some(4242), Some(4242)).unwrap();
    let run = ls(root.path());
    run.code(1);
    assert!(
        run.stderr
            .contains(&format!("warning: ignoring {}", dir.display()))
            && run.stderr.contains("owned by uid 4242"),
        "{}",
        run.stderr
    );
}
