//! `regctl setup registry`: everything a private Distribution registry needs,
//! as the seed builds it by hand, without its traps: a CA and a server
//! certificate it signs (or the seed's single certificate, on request), a
//! bcrypt `htpasswd`, a `config.yml` with deletion enabled, a systemd unit,
//! the `docker run` line and the garbage-collect command, and a README.

use std::path::{Path, PathBuf};

use super::files::Planned;
use super::htpasswd::{self, HtpasswdError};
use super::pki::{self, PkiError};
use super::quote::{shell, unit};
use crate::registry::Secret;

/// The set-up asked for. Paths are absolute: the config and the unit name
/// them, and both are read from elsewhere.
#[derive(Debug, Clone)]
pub struct RegistryKit {
    /// The folder the files go to.
    pub dir: PathBuf,
    /// Every name clients reach the registry by (DNS names, IP addresses).
    pub hosts: Vec<String>,
    /// The port clients use.
    pub port: u16,
    /// The address the registry listens on (`:PORT` when not given).
    pub listen: Option<String>,
    /// The htpasswd user.
    pub user: String,
    /// Where the registry keeps images.
    pub storage: PathBuf,
    /// The certificates' lifetime.
    pub days: u32,
    /// The seed's single self-signed certificate instead of a CA and a server
    /// certificate.
    pub seed_style: bool,
    /// bcrypt's cost for the password.
    pub cost: u32,
    /// The registry program (`/usr/bin/docker-registry` on Debian, `registry`
    /// elsewhere).
    pub serve_binary: PathBuf,
}

/// The commands that run and maintain the registry.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Commands {
    /// Start it with docker, as the seed does.
    pub docker_run: String,
    /// Install and start the systemd unit.
    pub systemd: String,
    /// Collect garbage once images are deleted.
    pub garbage_collect: String,
    /// Trust the certificate on a client machine.
    pub trust: String,
}

/// Why the set-up could not be planned.
#[derive(Debug, thiserror::Error)]
pub enum KitError {
    /// Certificates.
    #[error(transparent)]
    Pki(#[from] PkiError),
    /// The password file.
    #[error(transparent)]
    Htpasswd(#[from] HtpasswdError),
    /// A path or address holds a line break or another control character: in
    /// the unit or the config it would start a line of its own.
    #[error("{0} holds a line break or another control character")]
    Control(&'static str),
}

/// The unit's file name.
pub const UNIT: &str = "regctl-registry.service";

impl RegistryKit {
    /// The address in `config.yml`.
    pub fn listen(&self) -> String {
        self.listen
            .clone()
            .unwrap_or_else(|| format!(":{}", self.port))
    }

    /// `host:port` of the first host, as clients name the registry.
    pub fn address(&self) -> String {
        let host = &self.hosts[0];
        if host.contains(':') {
            format!("[{host}]:{}", self.port)
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// The certificate clients must trust: the CA, or the seed's certificate.
    pub fn trust_file(&self) -> PathBuf {
        self.dir.join(if self.seed_style {
            "server.crt"
        } else {
            "ca.crt"
        })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Every file of the set-up, with `password` hashed into `htpasswd`.
    pub fn files(&self, password: &Secret) -> Result<Vec<Planned>, KitError> {
        let control = |text: &str| text.chars().any(char::is_control);
        for (what, text) in [
            ("the folder", self.dir.display().to_string()),
            ("--storage", self.storage.display().to_string()),
            ("--registry-bin", self.serve_binary.display().to_string()),
            ("--listen", self.listen()),
        ] {
            if control(&text) {
                return Err(KitError::Control(what));
            }
        }
        let mut files = Vec::new();
        if self.seed_style {
            let pem = pki::seed_style(&self.hosts, self.days)?;
            files.push(Planned::public(
                self.path("server.crt"),
                pem.cert,
                "self-signed server certificate (CA:TRUE, the seed's style); clients trust this file",
            ));
            files.push(Planned::private(
                self.path("server.key"),
                pem.key,
                "its private key",
            ));
        } else {
            let (ca, server) = pki::ca_and_server(&self.hosts, self.days)?;
            files.push(Planned::public(
                self.path("ca.crt"),
                ca.cert,
                "the local CA: clients trust this file (regctl setup client)",
            ));
            files.push(Planned::private(
                self.path("ca.key"),
                ca.key,
                "the CA's private key: keep it off the registry host once done",
            ));
            files.push(Planned::public(
                self.path("server.crt"),
                server.cert,
                "the registry's certificate (CA:FALSE, serverAuth, every --host)",
            ));
            files.push(Planned::private(
                self.path("server.key"),
                server.key,
                "the registry's private key",
            ));
        }
        let line = htpasswd::line(&self.user, password, self.cost)?;
        files.push(Planned::private(
            self.path("htpasswd"),
            format!("{line}\n"),
            "users and their bcrypt password hashes",
        ));
        files.push(Planned::public(
            self.path("config.yml"),
            self.config_yml(),
            "Distribution's configuration: TLS, htpasswd, deletion enabled",
        ));
        files.push(Planned::public(
            self.path(UNIT),
            self.unit(),
            "systemd unit that serves the registry",
        ));
        files.push(Planned::public(
            self.path("README"),
            self.readme(&files),
            "what each file is for and how to run the registry",
        ));
        Ok(files)
    }

    /// Distribution's `config.yml`. Paths are written as JSON strings, which
    /// YAML reads as double-quoted scalars.
    pub fn config_yml(&self) -> String {
        let q = |p: &Path| serde_json::Value::from(p.display().to_string()).to_string();
        format!(
            "# Distribution's configuration, written by `regctl setup registry`.\n\
             version: 0.1\n\
             log:\n  fields:\n    service: registry\n\
             storage:\n  filesystem:\n    rootdirectory: {storage}\n  \
             delete:\n    enabled: true\n  cache:\n    blobdescriptor: inmemory\n\
             http:\n  addr: {listen}\n  headers:\n    X-Content-Type-Options: [nosniff]\n  \
             tls:\n    certificate: {cert}\n    key: {key}\n\
             auth:\n  htpasswd:\n    realm: \"Registry Realm\"\n    path: {htpasswd}\n\
             health:\n  storagedriver:\n    enabled: true\n    interval: 10s\n    threshold: 3\n",
            storage = q(&self.storage),
            listen = serde_json::Value::from(self.listen()),
            cert = q(&self.path("server.crt")),
            key = q(&self.path("server.key")),
            htpasswd = q(&self.path("htpasswd")),
        )
    }

    /// The systemd unit.
    pub fn unit(&self) -> String {
        format!(
            "# Written by `regctl setup registry`; install it with:\n\
             #   cp {unit_path} /etc/systemd/system/ && systemctl daemon-reload && systemctl enable --now {UNIT}\n\
             [Unit]\n\
             Description=Private container registry (Distribution), set up by regctl\n\
             After=network-online.target\n\
             Wants=network-online.target\n\
             \n\
             [Service]\n\
             ExecStart={binary} serve {config}\n\
             Restart=on-failure\n\
             \n\
             [Install]\n\
             WantedBy=multi-user.target\n",
            unit_path = self.path(UNIT).display(),
            binary = unit(&self.serve_binary.display().to_string()),
            config = unit(&self.path("config.yml").display().to_string()),
        )
    }

    /// How to run and maintain it.
    pub fn commands(&self) -> Commands {
        let dir = shell(&self.dir.display().to_string());
        let storage = shell(&self.storage.display().to_string());
        let config = shell(&self.path("config.yml").display().to_string());
        let publish = match self.listen.as_deref() {
            Some(listen) if !listen.starts_with(':') => listen.to_string(),
            _ => self.port.to_string(),
        };
        Commands {
            docker_run: format!(
                "docker run -d --name registry --restart=always -p {publish}:{port} \
                 -e REGISTRY_HTTP_ADDR=:{port} -v {dir}:{dir}:ro -v {storage}:{storage} \
                 -v {config}:/etc/docker/registry/config.yml:ro registry:2",
                port = self.port,
            ),
            systemd: format!(
                "cp {} /etc/systemd/system/ && systemctl daemon-reload && systemctl enable --now {UNIT}",
                shell(&self.path(UNIT).display().to_string())
            ),
            garbage_collect: format!(
                "{} garbage-collect {config}",
                shell(&self.serve_binary.display().to_string())
            ),
            trust: format!(
                "regctl setup client {} --ca {}",
                self.address(),
                shell(&self.trust_file().display().to_string())
            ),
        }
    }

    fn readme(&self, files: &[Planned]) -> String {
        let commands = self.commands();
        let mut text = format!(
            "A private container registry for {hosts}, written by `regctl setup registry`.\n\n\
             Files:\n",
            hosts = self.hosts.join(", ")
        );
        for file in files {
            let name = file.path.file_name().unwrap_or_default().to_string_lossy();
            text += &format!("  {name:<24} {}\n", file.what);
        }
        text += &format!("  {:<24} what you are reading\n", "README");
        text += &format!(
            "\nImages are stored in {storage}.\n\n\
             Run it with systemd (Debian's docker-registry package, or the registry binary):\n  {systemd}\n\n\
             or with docker, as the seed does:\n  {docker}\n\n\
             Trust it on each client machine (docker, containerd, podman, skopeo, the system store):\n  {trust}\n\n\
             Log in and look:\n  regctl login {address} -u {user}\n  regctl ls {address}\n\n\
             Deleting (regctl rm, regctl prune) removes manifests; the space comes back when\n\
             the garbage collector runs. Stop the registry first (or put it in read-only\n\
             mode), and start it again after: its in-memory blob cache would otherwise\n\
             still answer for what was collected.\n  \
             systemctl stop {UNIT}\n  {gc}\n  systemctl start {UNIT}\n\
             With docker: docker exec registry registry garbage-collect /etc/docker/registry/config.yml\n",
            storage = self.storage.display(),
            systemd = commands.systemd,
            docker = commands.docker_run,
            trust = commands.trust,
            address = self.address(),
            user = self.user,
            gc = commands.garbage_collect,
        );
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kit(seed_style: bool) -> RegistryKit {
        RegistryKit {
            dir: "/srv/registry".into(),
            hosts: vec!["registry.example".into(), "10.0.0.5".into()],
            port: 5000,
            listen: None,
            user: "ci".into(),
            storage: "/srv/registry/data".into(),
            days: 30,
            seed_style,
            cost: 4,
            serve_binary: "/usr/bin/docker-registry".into(),
        }
    }

    #[test]
    fn the_config_enables_deletion_tls_and_htpasswd() {
        let config: serde_json::Value = serde_yaml_ng::from_str(&kit(false).config_yml()).unwrap();
        assert_eq!(config["storage"]["delete"]["enabled"], true);
        assert_eq!(
            config["http"]["tls"]["certificate"],
            "/srv/registry/server.crt"
        );
        assert_eq!(config["auth"]["htpasswd"]["path"], "/srv/registry/htpasswd");
        assert_eq!(config["http"]["addr"], ":5000");
    }

    #[test]
    fn keys_and_hashes_are_private_and_the_seed_style_has_no_ca() {
        let files = kit(false).files(&Secret::new("pw")).unwrap();
        let private: Vec<_> = files
            .iter()
            .filter(|f| f.mode == 0o600)
            .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(private, ["ca.key", "server.key", "htpasswd"]);
        let seed = kit(true).files(&Secret::new("pw")).unwrap();
        assert!(seed.iter().all(|f| !f.path.ends_with("ca.crt")));
        assert_eq!(
            kit(true).trust_file(),
            Path::new("/srv/registry/server.crt")
        );
    }

    #[test]
    fn a_line_break_in_a_path_is_refused() {
        let mut k = kit(false);
        k.dir = "/srv/a\nExecStartPre=/bin/true".into();
        assert!(matches!(
            k.files(&Secret::new("pw")),
            Err(KitError::Control("the folder"))
        ));
    }
}
