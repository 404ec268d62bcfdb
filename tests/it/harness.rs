//! Starts the real Distribution registry (`docker-registry serve`) on a free loopback
//! port, in its own temporary folder, with TLS and auth set up the seed's way, and
//! runs the regctl binary against it with a clean environment.

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use tempfile::TempDir;

pub const USER: &str = "testuser";
pub const PASSWORD: &str = "testpassword";

/// A certificate and key made with the seed's recipe (`openssl req -x509`, CA:TRUE).
pub struct CertPair {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The seed's recipe, with `subject_alt_name` as given.
pub fn seed_certificate(dir: &Path, name: &str, subject_alt_name: &str) -> CertPair {
    seed_certificate_with(dir, name, subject_alt_name, &[])
}

/// The seed's recipe, with `subject_alt_name` and each of `extensions` added
/// (`-addext`, as `extendedKeyUsage = clientAuth`).
pub fn seed_certificate_with(
    dir: &Path,
    name: &str,
    subject_alt_name: &str,
    extensions: &[&str],
) -> CertPair {
    let cert = dir.join(format!("{name}.pem"));
    let key = dir.join(format!("{name}-key.pem"));
    let mut openssl = Command::new("openssl");
    openssl
        .args(["req", "-newkey", "rsa:2048", "-nodes", "-keyout"])
        .arg(&key)
        .args(["-x509", "-days", "365", "-out"])
        .arg(&cert)
        .args(["-subj", "/CN=example.com", "-addext"])
        .arg(format!("subjectAltName = {subject_alt_name}"));
    for extension in extensions {
        openssl.arg("-addext").arg(extension);
    }
    let status = openssl
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl is installed (scripts/test installs it)");
    assert!(status.success(), "openssl req failed");
    CertPair { cert, key }
}

/// One certificate for 127.0.0.1 and localhost, shared by the tests of this run
/// (RSA key generation is the slow part).
pub fn loopback_certificate() -> &'static CertPair {
    static CERT: OnceLock<(TempDir, CertPair)> = OnceLock::new();
    let (_, pair) = CERT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let pair = seed_certificate(dir.path(), "registry", "IP:127.0.0.1,DNS:localhost");
        (dir, pair)
    });
    pair
}

fn htpasswd_line() -> &'static str {
    static LINE: OnceLock<String> = OnceLock::new();
    LINE.get_or_init(|| {
        let out = Command::new("htpasswd")
            .args(["-Bbn", "-C", "4", USER, PASSWORD])
            .output()
            .expect("htpasswd is installed (apache2-utils; scripts/test installs it)");
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    })
}

/// How the registry authenticates.
#[derive(Clone)]
pub enum Auth {
    None,
    Htpasswd,
    /// Token auth with this realm, service and issuer; `rootcertbundle` verifies the JWTs.
    Token {
        realm: String,
        service: String,
        issuer: String,
        root_cert: PathBuf,
    },
}

/// How a registry is started.
pub struct Options {
    pub tls: bool,
    pub auth: Auth,
    pub delete_enabled: bool,
    /// Read-only mode (`storage.maintenance.readonly.enabled`), as for garbage
    /// collection: every write answers 405 with `Allow: GET, HEAD`.
    pub read_only: bool,
    /// Certificate to serve (default: [`loopback_certificate`]).
    pub cert: Option<(PathBuf, PathBuf)>,
    /// Require client certificates signed by this CA (mutual TLS).
    pub client_ca: Option<PathBuf>,
    /// Listen on `[::1]` instead of 127.0.0.1.
    pub ipv6: bool,
    /// Be a pull-through cache of this upstream URL (`proxy.remoteurl`).
    pub remote: Option<String>,
}

impl Options {
    /// Plain HTTP, no authentication.
    pub fn plain() -> Self {
        Options {
            tls: false,
            auth: Auth::None,
            ..Options::default()
        }
    }

    /// The loopback address to listen on, as a host.
    fn loopback(&self) -> &'static str {
        if self.ipv6 {
            "[::1]"
        } else {
            "127.0.0.1"
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            tls: true,
            auth: Auth::Htpasswd,
            delete_enabled: true,
            read_only: false,
            cert: None,
            client_ca: None,
            ipv6: false,
            remote: None,
        }
    }
}

/// A running registry process; stopped when dropped.
pub struct TestRegistry {
    pub dir: TempDir,
    pub port: u16,
    pub ca: PathBuf,
    /// The loopback address it listens on, as a host: `127.0.0.1` or `[::1]`.
    loopback: &'static str,
    child: Child,
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl TestRegistry {
    /// `host:port` as users type it.
    pub fn host(&self) -> String {
        format!("{}:{}", self.loopback, self.port)
    }

    /// `host:port/repository`.
    pub fn reference_for(&self, repository: &str) -> String {
        format!("{}/{repository}", self.host())
    }

    /// Creates the folder and config, lets `populate` write storage, then starts it.
    pub fn start_with(opts: Options, populate: impl FnOnce(&crate::fixture::Storage)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        populate(&crate::fixture::Storage::new(&data));
        let (cert, key) = opts.cert.clone().unwrap_or_else(|| {
            let pair = loopback_certificate();
            (pair.cert.clone(), pair.key.clone())
        });
        for attempt in 0.. {
            let port = free_port();
            let config = config_yaml(dir.path(), port, &opts, &cert, &key);
            let config_path = dir.path().join("config.yml");
            std::fs::write(&config_path, config).unwrap();
            if let Some(child) = spawn_serve(dir.path()) {
                return TestRegistry {
                    dir,
                    port,
                    ca: cert,
                    loopback: opts.loopback(),
                    child,
                };
            }
            // Exited before listening: most likely the port was taken meanwhile.
            let log = std::fs::read_to_string(dir.path().join("registry.log")).unwrap_or_default();
            assert!(attempt < 3, "registry did not start: {log}");
        }
        unreachable!()
    }

    pub fn start(opts: Options) -> Self {
        Self::start_with(opts, |_| {})
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// Runs Distribution's garbage collector the documented way: stops the
    /// registry, runs plain `docker-registry garbage-collect <config>` (not
    /// `--delete-untagged`), asserts it succeeded, and restarts the registry on
    /// the same port with the same config. Returns the collector's output.
    pub fn garbage_collect(&mut self) -> String {
        stop(&mut self.child);
        let out = Command::new("docker-registry")
            .arg("garbage-collect")
            .arg(self.dir.path().join("config.yml"))
            .output()
            .expect("docker-registry is installed (scripts/test installs it)");
        let report = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "garbage-collect failed:\n{report}");
        let Some(restarted) = spawn_serve(self.dir.path()) else {
            panic!(
                "registry did not restart on port {} after garbage-collect:\n{}",
                self.port,
                self.log()
            )
        };
        self.child = restarted;
        report
    }

    /// The registry's storage root (`rootdirectory` of its filesystem driver).
    pub fn storage_root(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    /// The digests of the blobs in storage
    /// (`data/docker/registry/v2/blobs/sha256/<2>/<hex>/data`).
    pub fn blobs(&self) -> std::collections::BTreeSet<String> {
        let root = self.dir.path().join("data/docker/registry/v2/blobs/sha256");
        let mut digests = std::collections::BTreeSet::new();
        let Ok(prefixes) = std::fs::read_dir(&root) else {
            return digests;
        };
        for prefix in prefixes.flatten() {
            for blob in std::fs::read_dir(prefix.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                if blob.path().join("data").is_file() {
                    let hex = blob.file_name().to_string_lossy().into_owned();
                    digests.insert(format!("sha256:{hex}"));
                }
            }
        }
        digests
    }
}

/// `docker-registry serve` of the config in `dir`, its output in
/// `dir/registry.log`; `None` when it exits before it listens (a lost port race).
fn spawn_serve(dir: &Path) -> Option<Child> {
    let mut cmd = Command::new("docker-registry");
    cmd.arg("serve").arg(dir.join("config.yml"));
    spawn_until_listening(cmd, &dir.join("registry.log"), "listening on")
}

/// Starts a server with its stdout and stderr copied, line by line, to `log`,
/// and waits for the event that says it accepts connections: a line holding
/// `listening` (the server logs it once its socket is bound). `None` when the
/// server exits first. The wait has a deadline only so that a broken server
/// fails the test instead of hanging it.
pub fn spawn_until_listening(mut cmd: Command, log: &Path, listening: &str) -> Option<Child> {
    use std::io::BufRead as _;
    let file = std::sync::Arc::new(std::sync::Mutex::new(
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap(),
    ));
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?} cannot start (scripts/test installs it): {e}"));
    let (tx, events) = std::sync::mpsc::channel::<bool>();
    let pipes: Vec<Box<dyn std::io::Read + Send>> = vec![
        Box::new(child.stdout.take().unwrap()),
        Box::new(child.stderr.take().unwrap()),
    ];
    for pipe in pipes {
        let (file, tx, listening) = (file.clone(), tx.clone(), listening.to_string());
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
                let _ = writeln!(file.lock().unwrap(), "{line}");
                if line.contains(&listening) {
                    let _ = tx.send(true);
                }
            }
            let _ = tx.send(false);
        });
    }
    drop(tx);
    let mut closed = 0;
    loop {
        match events.recv_timeout(Duration::from_secs(60)) {
            Ok(true) => return Some(child),
            Ok(false) if closed == 0 => closed += 1,
            _ => {
                stop(&mut child);
                return None;
            }
        }
    }
}

/// True when the tests run as root (they may then chown files to other users).
pub fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Kills a server and reaps it.
pub fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

fn config_yaml(dir: &Path, port: u16, opts: &Options, cert: &Path, key: &Path) -> String {
    let loopback = opts.loopback();
    let mut yaml = format!(
        "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: {}\n  maintenance:\n    uploadpurging:\n      enabled: false\n    readonly:\n      enabled: {}\nhttp:\n  addr: \"{loopback}:{port}\"\n  headers:\n    X-Content-Type-Options: [nosniff]\n",
        dir.join("data").display(),
        opts.delete_enabled,
        opts.read_only
    );
    if opts.tls {
        yaml += &format!(
            "  tls:\n    certificate: {}\n    key: {}\n",
            cert.display(),
            key.display()
        );
        if let Some(ca) = &opts.client_ca {
            yaml += &format!("    clientcas:\n      - {}\n", ca.display());
        }
    }
    if let Some(remote) = &opts.remote {
        yaml += &format!("proxy:\n  remoteurl: {remote}\n");
    }
    match &opts.auth {
        Auth::None => {}
        Auth::Htpasswd => {
            let path = dir.join("htpasswd");
            std::fs::write(&path, format!("{}\n", htpasswd_line())).unwrap();
            yaml += &format!(
                "auth:\n  htpasswd:\n    realm: Registry Realm\n    path: {}\n",
                path.display()
            );
        }
        Auth::Token {
            realm,
            service,
            issuer,
            root_cert,
        } => {
            yaml += &format!(
                "auth:\n  token:\n    realm: {realm}\n    service: {service}\n    issuer: {issuer}\n    rootcertbundle: {}\n",
                root_cert.display()
            );
        }
    }
    yaml
}

/// Runs `cmd` (another program: skopeo) to its end and returns its stdout; a
/// failure fails the test with its stderr.
#[track_caller]
pub fn output_ok(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{:?} does not run: {e}", cmd.get_program()));
    assert!(
        out.status.success(),
        "{:?}: {}",
        cmd.get_program(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// skopeo's `inspect --raw` of `reference` (`repository:tag`) on `registry`: the
/// manifest as an independent client fetches it.
pub fn skopeo_raw(registry: &TestRegistry, reference: &str) -> Vec<u8> {
    let (mut cmd, _certs) = skopeo(registry, "inspect");
    output_ok(
        cmd.arg("--raw")
            .arg(format!("docker://{}/{reference}", registry.host())),
    )
}

/// skopeo, logged in as the test user and trusting `registry`'s certificate (a
/// cert dir of its own, alive as long as the returned folder).
pub fn skopeo(registry: &TestRegistry, subcommand: &str) -> (Command, TempDir) {
    let certs = tempfile::tempdir().unwrap();
    std::fs::copy(&registry.ca, certs.path().join("ca.crt")).unwrap();
    let mut cmd = Command::new("skopeo");
    cmd.args([
        subcommand,
        "--creds",
        &format!("{USER}:{PASSWORD}"),
        "--cert-dir",
    ])
    .arg(certs.path());
    for var in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] {
        cmd.env_remove(var);
    }
    (cmd, certs)
}

/// Waits for `child` (stdout and stderr piped) to end and returns what it
/// printed; one still going after `limit` is killed and fails the test.
#[track_caller]
pub fn finish_within(child: std::process::Child, limit: Duration) -> Run {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => {
            let out = out.unwrap();
            Run {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            }
        }
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("regctl was still running after {} s", limit.as_secs())
        }
    }
}

/// What a regctl run returned.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    #[track_caller]
    pub fn success(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// A regctl invocation with an isolated environment: HOME and DOCKER_CONFIG in a
/// temporary folder, proxies and REGCTL_* cleared.
pub struct Regctl {
    cmd: Command,
    stdin: Option<String>,
    pub home: TempDir,
}

pub fn regctl() -> Regctl {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_regctl"));
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "all_proxy",
        "REGCTL_USERNAME",
        "REGCTL_PASSWORD",
        "DOCKER_CONFIG",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "DBUS_SESSION_BUS_ADDRESS",
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("HOME", home.path());
    // No session bus here unless a test starts one: never the user's keyring.
    cmd.env("XDG_RUNTIME_DIR", home.path().join("run"));
    Regctl {
        cmd,
        stdin: None,
        home,
    }
}

impl Regctl {
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(args);
        self
    }

    pub fn arg(self, arg: impl AsRef<std::ffi::OsStr>) -> Self {
        self.args([arg])
    }

    pub fn arg_path(self, path: &Path) -> Self {
        self.args([path.as_os_str()])
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    pub fn stdin(mut self, input: &str) -> Self {
        self.stdin = Some(input.to_string());
        self
    }

    /// Log in as the test user (through regctl's environment variables).
    pub fn logged_in(self) -> Self {
        self.env("REGCTL_USERNAME", USER)
            .env("REGCTL_PASSWORD", PASSWORD)
    }

    /// Trust `registry`'s certificate and log in as the test user.
    pub fn trusted(self, registry: &TestRegistry) -> Self {
        let ca = registry.ca.clone();
        self.args(["--ca-file".as_ref(), ca.as_os_str()])
            .logged_in()
    }

    /// Runs with `home` as HOME (shared by several runs), instead of a fresh one.
    pub fn home(mut self, home: &Path) -> Self {
        self.cmd.env("HOME", home);
        self.cmd.env("XDG_RUNTIME_DIR", home.join("run"));
        self
    }

    /// Writes `config` as `$HOME/.docker/config.json`.
    pub fn docker_config(self, config: &str) -> Self {
        let dir = self.home.path().join(".docker");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config.json"), config).unwrap();
        self
    }

    /// The command, for a test that connects its standard streams itself. The
    /// home folder is kept until the test process ends.
    pub fn command(self) -> Command {
        std::mem::forget(self.home);
        self.cmd
    }

    /// Runs in `dir` instead of the test's working folder.
    pub fn current_dir(mut self, dir: &Path) -> Self {
        self.cmd.current_dir(dir);
        self
    }

    /// Starts regctl and returns the running process (stdout and stderr piped;
    /// the input given with [`Regctl::stdin`] written by a thread of its own).
    pub fn spawn(mut self) -> std::process::Child {
        self.cmd
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.cmd.spawn().unwrap();
        if let (Some(input), Some(mut pipe)) = (self.stdin.take(), child.stdin.take()) {
            std::thread::spawn(move || {
                let _ = pipe.write_all(input.as_bytes());
            });
        }
        // The home folder must outlive the process; it is small and temporary.
        std::mem::forget(self.home);
        child
    }

    /// Runs as [`Regctl::run`] does, for a run that a bug would make hang: one
    /// still going after `limit` is killed and fails the test.
    #[track_caller]
    pub fn run_within(self, limit: Duration) -> Run {
        finish_within(self.spawn(), limit)
    }

    /// Runs with stdin closed; stdout's bytes as they are (exit 0 asserted).
    pub fn run_bytes(mut self) -> Vec<u8> {
        output_ok(self.cmd.stdin(Stdio::null()).stderr(Stdio::piped()))
    }

    pub fn run(mut self) -> Run {
        self.cmd.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        self.cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = self.cmd.spawn().unwrap();
        if let Some(input) = &self.stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        let out: Output = child.wait_with_output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}
