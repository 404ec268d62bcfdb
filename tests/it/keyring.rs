//! A real Secret Service for the tests: a private D-Bus session bus (as
//! `dbus-run-session` starts) with gnome-keyring-daemon on it, its login
//! keyring created unlocked in a temporary folder. Never the user's own.

use std::io::{BufRead as _, Write as _};
use std::process::{Child, Command, Stdio};

use tempfile::TempDir;

use crate::harness::stop;

pub struct SecretService {
    pub address: String,
    bus: Child,
    daemon: Child,
    _dir: TempDir,
}

impl SecretService {
    /// Starts the bus, then the keyring daemon, and returns once the daemon owns
    /// `org.freedesktop.secrets` on the bus (`gdbus wait`, an event).
    pub fn start() -> SecretService {
        let dir = tempfile::tempdir().unwrap();
        let mut bus = Command::new("dbus-daemon")
            .args([
                "--config-file=/usr/share/dbus-1/session.conf",
                "--nofork",
                "--print-address=1",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (scripts/test installs it)");
        let mut address = String::new();
        std::io::BufReader::new(bus.stdout.take().unwrap())
            .read_line(&mut address)
            .unwrap();
        let address = address.trim().to_string();
        assert!(!address.is_empty(), "dbus-daemon printed no address");
        let mut daemon = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--components=secrets", "--unlock"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("HOME", dir.path())
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("XDG_RUNTIME_DIR", dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon (scripts/test installs it)");
        // The login keyring's password; the keyring is created with it, unlocked.
        let mut stdin = daemon.stdin.take().unwrap();
        stdin.write_all(b"test-keyring").unwrap();
        drop(stdin);
        let waited = Command::new("gdbus")
            .args(["wait", "--address", &address, "--timeout", "60"])
            .arg("org.freedesktop.secrets")
            .status()
            .expect("gdbus (scripts/test installs it)");
        assert!(waited.success(), "the keyring daemon did not come up");
        SecretService {
            address,
            bus,
            daemon,
            _dir: dir,
        }
    }

    /// Locks the login keyring, as a screen lock does; reading it then needs a
    /// prompt, which nobody here can answer.
    pub fn lock(&self) {
        let status = Command::new("gdbus")
            .args(["call", "--address", &self.address])
            .args(["--dest", "org.freedesktop.secrets"])
            .args(["--object-path", "/org/freedesktop/secrets"])
            .args(["--method", "org.freedesktop.Secret.Service.Lock"])
            .arg("['/org/freedesktop/secrets/collection/login']")
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// The secret stored under `service` and `user`, read with `secret-tool`.
    pub fn lookup(&self, attributes: &[(&str, &str)]) -> Option<String> {
        let mut cmd = Command::new("secret-tool");
        cmd.arg("lookup")
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address);
        for (k, v) in attributes {
            cmd.args([k, v]);
        }
        let out = cmd
            .output()
            .expect("secret-tool (scripts/test installs it)");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        stop(&mut self.daemon);
        stop(&mut self.bus);
    }
}
