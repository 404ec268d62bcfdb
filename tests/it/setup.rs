//! `regctl setup`: the generated registry is served by the real Distribution
//! 2.8.2 started as its generated unit says, used by regctl, skopeo and a real
//! containerd with only the generated CA trusted; a set-up made by the seed's
//! exact recipe is checked; proxy drop-ins pass systemd's verifier.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use tempfile::TempDir;

use crate::fixture::{image, sha256, Image, Storage};
use crate::harness::{free_port, output_ok, regctl, spawn_until_listening, stop, Run};

const CREATED: &str = "2024-01-01T00:00:00Z";
const USER: &str = "ci";
const PASSWORD: &str = "a-long-test-password";

/// A registry written by `setup registry`, its client trust by `setup client`
/// under `root`, served as its unit says.
struct Served {
    dir: TempDir,
    root: TempDir,
    /// Logs and other scratch files of the test, outside both.
    scratch: TempDir,
    port: u16,
    setup: Run,
    child: Child,
}

impl Served {
    fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn certs_d(&self) -> PathBuf {
        self.root.path().join("etc/docker/certs.d")
    }

    /// regctl trusting what `setup client` installed for docker, nothing else.
    fn regctl(&self, home: &Path) -> crate::harness::Regctl {
        regctl()
            .home(home)
            .args(["--certs-dir".as_ref(), self.certs_d().as_os_str()])
    }

    /// Starts the registry exactly as the generated unit's ExecStart says.
    fn serve(&mut self) {
        let unit =
            std::fs::read_to_string(self.dir.path().join("regctl-registry.service")).unwrap();
        let exec = unit
            .lines()
            .find_map(|l| l.strip_prefix("ExecStart="))
            .expect("the unit has an ExecStart line");
        let words: Vec<&str> = exec.split_whitespace().collect();
        let mut cmd = Command::new(words[0]);
        cmd.args(&words[1..]);
        self.child = spawn_until_listening(
            cmd,
            &self.scratch.path().join("registry.log"),
            "listening on",
        )
        .expect("the registry starts from the generated config");
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

fn shared() -> Image {
    image("linux/amd64", CREATED, "setup-shared")
}
fn lone() -> Image {
    image("linux/amd64", CREATED, "setup-lone")
}

/// `setup registry` into a new folder, images written into its storage, the
/// registry started from the unit, `setup client` under a new root.
fn served() -> Served {
    let (dir, root, scratch) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let port = free_port();
    let setup = regctl()
        .args(["setup", "registry"])
        .arg_path(dir.path())
        .args([
            "--host",
            "127.0.0.1",
            "--host",
            "localhost",
            "--port",
            &port.to_string(),
        ])
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--user",
            USER,
            "--password-stdin",
        ])
        .stdin(PASSWORD)
        .run();
    setup.success();
    let storage = Storage::new(&dir.path().join("data"));
    storage.push("app", &["v1", "latest"], &shared());
    storage.push("app", &["v2"], &lone());
    storage.push("other", &["v1"], &shared());
    let client = regctl()
        .args(["setup", "client", &format!("127.0.0.1:{port}"), "--ca"])
        .arg_path(&dir.path().join("ca.crt"))
        .arg("--root")
        .arg_path(root.path())
        .run();
    client.success();
    // Nothing is written outside the paths printed.
    let mut listed = printed_paths(&client);
    listed.sort();
    assert_eq!(tree(root.path()).into_keys().collect::<Vec<_>>(), listed);
    let child = Command::new("true").spawn().unwrap();
    let mut served = Served {
        dir,
        root,
        scratch,
        port,
        setup,
        child,
    };
    served.serve();
    served
}

/// Every file under `dir` with its bytes (the registry's storage left out).
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                if !path.ends_with("data") {
                    walk(&path, out);
                }
            } else {
                out.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, &mut out);
    out
}

fn printed_paths(run: &Run) -> Vec<PathBuf> {
    run.lines().iter().map(PathBuf::from).collect()
}

fn blobs_of(image: &Image) -> Vec<String> {
    [&image.config, &image.layer, &image.manifest]
        .iter()
        .map(|b| sha256(b))
        .collect()
}

fn stored_blobs(dir: &Path) -> std::collections::BTreeSet<String> {
    let root = dir.join("data/docker/registry/v2/blobs/sha256");
    let mut out = std::collections::BTreeSet::new();
    for prefix in std::fs::read_dir(root).unwrap().flatten() {
        for blob in std::fs::read_dir(prefix.path()).unwrap().flatten() {
            if blob.path().join("data").is_file() {
                out.insert(format!("sha256:{}", blob.file_name().to_string_lossy()));
            }
        }
    }
    out
}

#[test]
fn a_generated_registry_serves_regctl_and_skopeo_with_only_its_ca_and_collects_exactly_what_was_deleted(
) {
    let mut s = served();
    let home = tempfile::tempdir().unwrap();
    let address = s.address();

    // The files written are the files printed; the unit passes systemd's verifier.
    let printed = printed_paths(&s.setup);
    let written: Vec<PathBuf> = tree(s.dir.path()).into_keys().collect();
    let mut sorted = printed.clone();
    sorted.sort();
    assert_eq!(sorted, written, "{}", s.setup.stdout);
    let verify = Command::new("systemd-analyze")
        .arg("verify")
        .arg(s.dir.path().join("regctl-registry.service"))
        .output()
        .expect("systemd-analyze is installed (scripts/test installs it)");
    assert!(
        verify.status.success() && verify.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    let htpasswd = std::fs::read_to_string(s.dir.path().join("htpasswd")).unwrap();
    assert!(!htpasswd.contains(PASSWORD) && htpasswd.starts_with("ci:$2y$05$"));
    assert!(
        !s.setup.stderr.contains(PASSWORD),
        "a password given is never echoed"
    );

    // Login, listing and deletion with only the generated CA trusted.
    s.regctl(home.path())
        .args(["login", &address, "-u", USER, "--password-stdin"])
        .stdin(PASSWORD)
        .run()
        .success();
    let ls = s.regctl(home.path()).args(["ls", &address]).run();
    ls.success();
    assert_eq!(
        ls.lines(),
        [
            format!("{address}/app:latest"),
            format!("{address}/app:v1"),
            format!("{address}/app:v2"),
            format!("{address}/other:v1"),
        ]
    );
    let untrusted = regctl().home(home.path()).args(["ls", &address]).run();
    assert_ne!(
        untrusted.code, 0,
        "the CA is trusted through --certs-dir alone"
    );
    s.regctl(home.path())
        .args(["rm", &format!("{address}/app:v2"), "--yes"])
        .run()
        .success();

    // The printed garbage-collect command, with the registry stopped, frees the
    // deleted image's own blobs and nothing else.
    let before = stored_blobs(s.dir.path());
    let gc = s
        .setup
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("collect garbage after deleting (registry stopped): "))
        .expect("the garbage-collect command is printed")
        .to_string();
    stop(&mut s.child);
    let words: Vec<&str> = gc.split_whitespace().collect();
    output_ok(Command::new(words[0]).args(&words[1..]));
    let after = stored_blobs(s.dir.path());
    let freed: Vec<String> = before.difference(&after).cloned().collect();
    let mut expected = blobs_of(&lone());
    expected.sort();
    assert_eq!(freed, expected);
    s.serve();

    // What remains pulls, through skopeo trusting the generated certs.d.
    let ls = s.regctl(home.path()).args(["ls", &address]).run();
    ls.success();
    assert_eq!(ls.lines().len(), 3, "{}", ls.stdout);
    for reference in ["app:v1", "app:latest", "other:v1"] {
        let dest = s.scratch.path().join(reference.replace(':', "-"));
        output_ok(
            Command::new("skopeo")
                .args([
                    "copy",
                    "--src-creds",
                    &format!("{USER}:{PASSWORD}"),
                    "--src-cert-dir",
                ])
                .arg(
                    s.root
                        .path()
                        .join(format!("etc/containers/certs.d/{address}")),
                )
                .arg(format!("docker://{address}/{reference}"))
                .arg(format!("oci:{}", dest.display())),
        );
    }

    // The set-up has no trap, and a second run without --force changes nothing.
    let check = regctl()
        .args(["setup", "check", "--host", &address, "--host", "localhost"])
        .arg_path(s.dir.path())
        .arg("--root")
        .arg_path(s.root.path())
        .run();
    assert_eq!(
        (check.code, check.stdout.as_str()),
        (0, ""),
        "{}",
        check.stderr
    );
    let (dir_before, root_before) = (tree(s.dir.path()), tree(s.root.path()));
    let again = regctl()
        .args(["setup", "registry"])
        .arg_path(s.dir.path())
        .args(["--host", "127.0.0.1"])
        .run();
    again.code(6);
    assert!(
        again
            .stderr
            .contains(&format!("{} exists", printed[0].display())),
        "{}",
        again.stderr
    );
    let client_again = regctl()
        .args(["setup", "client", &address, "--ca"])
        .arg_path(&s.dir.path().join("ca.crt"))
        .arg("--root")
        .arg_path(s.root.path())
        .run();
    client_again.code(6);
    assert_eq!(
        (tree(s.dir.path()), tree(s.root.path())),
        (dir_before, root_before)
    );
}

#[test]
fn containerd_pulls_through_the_generated_hosts_toml_and_not_without_it() {
    let s = served();
    let scratch = s.scratch.path();
    let config = scratch.join("containerd.toml");
    std::fs::write(
        &config,
        "version = 2\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n",
    )
    .unwrap();
    let socket = scratch.join("containerd.sock");
    let mut containerd = Command::new("containerd");
    containerd
        .arg("--config")
        .arg(&config)
        .arg("--address")
        .arg(&socket)
        .arg("--root")
        .arg(scratch.join("root"))
        .arg("--state")
        .arg(scratch.join("state"));
    let mut daemon = spawn_until_listening(
        containerd,
        &scratch.join("containerd.log"),
        "containerd successfully booted",
    )
    .expect("containerd starts (scripts/test installs it)");
    let fetch = |hosts_dir: Option<&Path>| {
        let mut ctr = Command::new("ctr");
        ctr.arg("--address").arg(&socket).args([
            "content",
            "fetch",
            "--user",
            &format!("{USER}:{PASSWORD}"),
        ]);
        if let Some(dir) = hosts_dir {
            ctr.arg("--hosts-dir").arg(dir);
        }
        for var in [
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "SSL_CERT_FILE",
            "SSL_CERT_DIR",
        ] {
            ctr.env_remove(var);
        }
        ctr.arg(format!("{}/app:v1", s.address())).output().unwrap()
    };
    let without = fetch(None);
    assert!(
        !without.status.success(),
        "the CA is not trusted without the hosts folder"
    );
    let with = fetch(Some(&s.root.path().join("etc/containerd/certs.d")));
    stop(&mut daemon);
    assert!(
        with.status.success(),
        "{}",
        String::from_utf8_lossy(&with.stderr)
    );
    // containerd's content store holds the image's layer, as pulled.
    let layer = sha256(&shared().layer);
    let stored = scratch
        .join("root/io.containerd.content.v1.content/blobs/sha256")
        .join(&layer["sha256:".len()..]);
    assert_eq!(std::fs::read(stored).unwrap(), shared().layer);
}

/// The seed's config.yml as its text gives it: the indentation lost.
const SEED_CONFIG: &str = "version: 0.1\nlog:\nfields:\nservice: registry\nstorage:\ndelete:\nenabled: true\ncache:\nblobdescriptor: inmemory\nfilesystem:\nrootdirectory: /var/lib/registry\nhttp:\naddr: localhost:5000\nheaders:\nX-Content-Type-Options: [nosniff]\nhealth:\nstoragedriver:\nenabled: true\ninterval: 10s\nthreshold: 3\n";

#[test]
fn the_seeds_recipe_is_checked_trap_by_trap_with_fixes() {
    let dir = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    // The seed's commands, as it gives them.
    let certs = dir.path().join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    output_ok(
        Command::new("openssl")
            .current_dir(&certs)
            .args([
                "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-x509", "-days",
                "365",
            ])
            .args([
                "-out",
                "certificate.pem",
                "-subj",
                "/CN=example.com",
                "-addext",
                "subjectAltName = DNS:example.com",
            ]),
    );
    std::fs::create_dir_all(dir.path().join("auth")).unwrap();
    let htpasswd = output_ok(Command::new("htpasswd").args(["-Bbn", "testuser", "testpassword"]));
    std::fs::write(dir.path().join("auth/htpasswd"), htpasswd).unwrap();
    std::fs::write(dir.path().join("config.yml"), SEED_CONFIG).unwrap();
    let store = root.path().join("usr/local/share/ca-certificates");
    std::fs::create_dir_all(&store).unwrap();
    std::fs::copy(
        certs.join("certificate.pem"),
        store.join("registry-certificate.crt"),
    )
    .unwrap();

    let run = regctl()
        .args(["setup", "check", "--format", "json"])
        .arg_path(dir.path())
        .arg("--root")
        .arg_path(root.path())
        .run();
    run.code(1);
    let findings: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).unwrap();
    let about = |file: &str, words: &str| {
        findings.iter().find(|f| {
            f["file"].as_str().unwrap().ends_with(file)
                && f["problem"].as_str().unwrap().contains(words)
        })
    };
    let ca_leaf = about("certs/certificate.pem", "is a CA (CA:TRUE)").expect("the CA:TRUE leaf");
    assert!(ca_leaf["fix"]
        .as_str()
        .unwrap()
        .contains("regctl setup registry"));
    let delete = about("config.yml", "deletion is not enabled").expect("the delete switch");
    assert!(delete["fix"].as_str().unwrap().contains("enabled: true"));
    assert!(
        about("config.yml", "indentation was lost").is_some(),
        "{findings:#?}"
    );
    let trust =
        about("certs/certificate.pem", "system store only").expect("system-store-only trust");
    assert!(
        trust["fix"]
            .as_str()
            .unwrap()
            .starts_with("regctl setup client example.com:"),
        "{trust}"
    );
    // The shell's redirect made the password hashes readable by every user.
    let mode = about("auth/htpasswd", "readable by other users").expect("htpasswd's mode");
    assert!(mode["fix"].as_str().unwrap().starts_with("chmod 600 "));
    // The key openssl wrote is 0600: no finding about it; no other finding.
    assert_eq!(findings.len(), 5, "{findings:#?}");

    // The same in text: each trap on its line, its fix below.
    let text = regctl()
        .args(["setup", "check"])
        .arg_path(dir.path())
        .arg("--root")
        .arg_path(root.path())
        .run();
    text.code(1);
    assert_eq!(
        text.stdout.matches("\n  fix: ").count(),
        5,
        "{}",
        text.stdout
    );
    // The seed reaches it as `localhost:6000`, which the certificate does not name.
    let named = regctl()
        .args(["setup", "check", "--host", "localhost:6000"])
        .arg_path(dir.path())
        .arg("--root")
        .arg_path(root.path())
        .run();
    named.code(1);
    assert!(
        named
            .stdout
            .contains("does not name localhost in subjectAltName (it names example.com)"),
        "{}",
        named.stdout
    );
}

#[test]
fn proxy_drop_ins_pass_systemds_verifier_and_no_proxy_is_read_as_go_reads_it() {
    let root = tempfile::tempdir().unwrap();
    let args = [
        "setup",
        "proxy",
        "--http",
        "http://proxy.example:3128",
        "--https",
        "http://proxy.example:3128",
        "--no-proxy",
        "172.20.1.150,172.20.1.*,.corp.example",
    ];
    let printed = regctl().args(args).run();
    printed.success();
    assert!(
        printed
            .stdout
            .contains("Environment=HTTPS_PROXY=http://proxy.example:3128\n"),
        "{}",
        printed.stdout
    );
    assert!(printed
        .stdout
        .contains("/etc/systemd/system/containerd.service.d/http-proxy.conf"));
    assert!(
        printed.stderr.contains("`172.20.1.*`") && printed.stderr.contains("172.20.1.0/24"),
        "{}",
        printed.stderr
    );
    assert!(
        !printed.stderr.contains("`.corp.example`"),
        "{}",
        printed.stderr
    );
    assert!(tree(root.path()).is_empty(), "printing writes nothing");

    let written = regctl()
        .args(args)
        .args(["--write", "--root"])
        .arg_path(root.path())
        .run();
    written.success();
    let files: Vec<PathBuf> = tree(root.path()).into_keys().collect();
    let mut listed = printed_paths(&written);
    listed.sort();
    assert_eq!(files, listed);
    assert_eq!(files.len(), 2);
    // Each drop-in, beside a unit of the service's name, as systemd loads it.
    for service in ["docker", "containerd"] {
        let unit_dir = tempfile::tempdir().unwrap();
        let unit = unit_dir.path().join(format!("{service}.service"));
        std::fs::write(
            &unit,
            "[Unit]\nDescription=test\n[Service]\nExecStart=/usr/bin/env\n",
        )
        .unwrap();
        let dropins = unit_dir.path().join(format!("{service}.service.d"));
        std::fs::create_dir_all(&dropins).unwrap();
        std::fs::copy(
            root.path().join(format!(
                "etc/systemd/system/{service}.service.d/http-proxy.conf"
            )),
            dropins.join("http-proxy.conf"),
        )
        .unwrap();
        let verify = Command::new("systemd-analyze")
            .arg("verify")
            .arg(&unit)
            .output()
            .unwrap();
        assert!(
            verify.status.success() && verify.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&verify.stderr)
        );
    }
    let again = regctl()
        .args(args)
        .args(["--write", "--root"])
        .arg_path(root.path())
        .run();
    again.code(6);
}

/// docker reads `certs.d/HOST:PORT`: a CA in a folder without the port, and a
/// root whose `etc/docker` is a symlink to elsewhere, are each caught.
#[test]
fn a_certs_d_folder_without_the_port_is_reported_and_symlinks_are_not_followed() {
    let (dir, root, outside) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    regctl()
        .args(["setup", "registry"])
        .arg_path(dir.path())
        .args([
            "--host",
            "registry.example",
            "--port",
            "5000",
            "--password-stdin",
        ])
        .stdin(PASSWORD)
        .run()
        .success();
    let wrong = root.path().join("etc/docker/certs.d/registry.example");
    std::fs::create_dir_all(&wrong).unwrap();
    std::fs::copy(dir.path().join("ca.crt"), wrong.join("ca.crt")).unwrap();
    let check = regctl()
        .args(["setup", "check"])
        .arg_path(dir.path())
        .arg("--root")
        .arg_path(root.path())
        .run();
    check.code(1);
    assert!(
        check
            .stdout
            .contains("this folder is not one of those names"),
        "{}",
        check.stdout
    );
    assert!(
        check
            .stdout
            .contains("fix: regctl setup client registry.example:5000 --ca"),
        "{}",
        check.stdout
    );

    let linked = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(linked.path().join("etc")).unwrap();
    std::os::unix::fs::symlink(outside.path(), linked.path().join("etc/docker")).unwrap();
    let client = regctl()
        .args(["setup", "client", "registry.example:5000", "--ca"])
        .arg_path(&dir.path().join("ca.crt"))
        .arg("--root")
        .arg_path(linked.path())
        .run();
    client.code(6);
    assert!(
        client.stderr.contains("is a symlink; nothing was written"),
        "{}",
        client.stderr
    );
    assert!(tree(outside.path()).is_empty());
    assert_eq!(tree(linked.path()).len(), 0, "nothing written anywhere");
}
