//! `regctl setup client`: a registry's CA installed where each client looks.
//! Docker reads `/etc/docker/certs.d/HOST:PORT/`, not the system store;
//! containerd reads `hosts.toml` under its `config_path`, and only when that
//! is set (its key moved between 1.x and 2.x); podman, skopeo and CRI-O read
//! `/etc/containers/certs.d`; curl and most other programs read the system
//! store once `update-ca-certificates` has run; k3s reads `registries.yaml`.

use std::path::{Path, PathBuf};

use super::files::Planned;

/// Where containerd's `hosts.toml` folders are when its config names none.
pub const CONTAINERD_HOSTS_DIR: &str = "/etc/containerd/certs.d";

/// What installing the trust takes: the files, and what the user must do by hand.
#[derive(Debug)]
pub struct ClientPlan {
    /// The files to write.
    pub files: Vec<Planned>,
    /// Steps regctl does not take itself, each a line or a block to paste.
    pub steps: Vec<Step>,
}

/// A step left to the user.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Step {
    /// What it is for.
    pub what: String,
    /// The command to run or the text to add.
    pub text: String,
    /// The system store's update with the root `/`: regctl runs it itself
    /// once the files are written (it only shows it with `--print`).
    #[serde(skip)]
    pub updates_system_store: bool,
}

/// Why the trust cannot be installed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The CA file holds a private key: never copied anywhere.
    #[error("{0} holds a private key; give the certificate (ca.crt), never the key")]
    PrivateKey(String),
    /// The CA file holds no certificate.
    #[error("{0} holds no PEM certificate")]
    NoCertificate(String),
    /// containerd's config cannot be read.
    #[error("{path}: {why}")]
    ContainerdConfig {
        /// The file.
        path: String,
        /// Why.
        why: String,
    },
}

/// Checks that `pem` (read from `name`) is certificates only.
pub fn check_ca(name: &str, pem: &[u8]) -> Result<(), ClientError> {
    let text = String::from_utf8_lossy(pem);
    if text.contains("PRIVATE KEY-----") {
        return Err(ClientError::PrivateKey(name.to_string()));
    }
    if !text.contains("-----BEGIN CERTIFICATE-----") {
        return Err(ClientError::NoCertificate(name.to_string()));
    }
    Ok(())
}

/// containerd's registry host folder as its config at `root` names it, and the
/// config's version (1, 2 or 3) when there is a config.
#[derive(Debug, PartialEq)]
pub struct ContainerdConfig {
    /// `config_path`, when set (the first of a `:`-separated list).
    pub config_path: Option<String>,
    /// The config's `version`; `None` without a config file.
    pub version: Option<i64>,
}

/// Reads `ROOT/etc/containerd/config.toml`; no file is no config.
pub fn containerd_config(root: &Path) -> Result<ContainerdConfig, ClientError> {
    let path = under(root, "/etc/containerd/config.toml");
    let text = match crate::file::read_text(&path) {
        Ok(text) => text,
        Err(e) if e.is_not_found() => {
            return Ok(ContainerdConfig {
                config_path: None,
                version: None,
            })
        }
        Err(e) => {
            return Err(ClientError::ContainerdConfig {
                path: path.display().to_string(),
                why: e.to_string(),
            })
        }
    };
    let table: toml::Table =
        text.parse()
            .map_err(|e: toml::de::Error| ClientError::ContainerdConfig {
                path: path.display().to_string(),
                why: e.message().to_string(),
            })?;
    let version = table
        .get("version")
        .and_then(toml::Value::as_integer)
        .unwrap_or(1);
    let plugin = match version {
        3 => "io.containerd.cri.v1.images",
        2 => "io.containerd.grpc.v1.cri",
        _ => "cri",
    };
    let config_path = table
        .get("plugins")
        .and_then(|p| p.get(plugin))
        .and_then(|p| p.get("registry"))
        .and_then(|r| r.get("config_path"))
        .and_then(toml::Value::as_str)
        .and_then(|p| p.split(':').next())
        .filter(|p| !p.is_empty())
        .map(str::to_string);
    Ok(ContainerdConfig {
        config_path,
        version: Some(version),
    })
}

/// The lines that turn on containerd's `hosts.toml` folders, for a config of
/// `version` (both forms when unknown).
pub fn config_path_lines(version: Option<i64>) -> String {
    let v2 = format!(
        "# containerd 1.6 / 1.7 (config version 2):\n[plugins.\"io.containerd.grpc.v1.cri\".registry]\n  config_path = \"{CONTAINERD_HOSTS_DIR}\"\n"
    );
    let v3 = format!(
        "# containerd 2.x (config version 3):\n[plugins.\"io.containerd.cri.v1.images\".registry]\n  config_path = \"{CONTAINERD_HOSTS_DIR}\"\n"
    );
    match version {
        Some(3) => v3,
        Some(2) => v2,
        _ => format!("{v2}{v3}"),
    }
}

/// `path` (absolute, as the system sees it) under `root`.
pub fn under(root: &Path, path: &str) -> PathBuf {
    root.join(path.trim_start_matches('/'))
}

/// The plan for trusting `pem` for `address` (`host[:port]`) under `root`.
pub fn plan(address: &str, pem: &[u8], root: &Path) -> Result<ClientPlan, ClientError> {
    let containerd = containerd_config(root)?;
    let hosts_dir = containerd
        .config_path
        .clone()
        .unwrap_or_else(|| CONTAINERD_HOSTS_DIR.to_string());
    let docker_ca = format!("/etc/docker/certs.d/{address}/ca.crt");
    let store_name = format!("regctl-{address}.crt");
    let files = vec![
        Planned::public(
            under(root, &docker_ca),
            pem,
            "docker's trust for the registry",
        ),
        Planned::public(
            under(root, &format!("/etc/containers/certs.d/{address}/ca.crt")),
            pem,
            "podman's, skopeo's, buildah's and CRI-O's trust",
        ),
        Planned::public(
            under(root, &format!("{hosts_dir}/{address}/ca.crt")),
            pem,
            "containerd's copy of the CA",
        ),
        Planned::public(
            under(root, &format!("{hosts_dir}/{address}/hosts.toml")),
            hosts_toml(address),
            "containerd's settings for the registry (ctr --hosts-dir, CRI)",
        ),
        Planned::public(
            under(
                root,
                &format!("/usr/local/share/ca-certificates/{store_name}"),
            ),
            pem,
            "the system store's copy (curl, most programs)",
        ),
    ];
    let mut steps = Vec::new();
    if containerd.config_path.is_none() {
        steps.push(Step {
            what: format!(
                "containerd reads hosts.toml only with config_path set; add to {}",
                under(root, "/etc/containerd/config.toml").display()
            ),
            text: config_path_lines(containerd.version),
            updates_system_store: false,
        });
    }
    let here = root == Path::new("/");
    steps.push(Step {
        what: "the system store takes the CA once this runs".into(),
        text: if here {
            "update-ca-certificates".into()
        } else {
            format!("chroot {} update-ca-certificates", root.display())
        },
        updates_system_store: here,
    });
    steps.push(Step {
        what: "k3s: merge into /etc/rancher/k3s/registries.yaml, then restart k3s".into(),
        text: format!("configs:\n  \"{address}\":\n    tls:\n      ca_file: {docker_ca}\n"),
        updates_system_store: false,
    });
    Ok(ClientPlan { files, steps })
}

/// containerd's `hosts.toml` for `address`: HTTPS, the CA beside it.
fn hosts_toml(address: &str) -> String {
    format!(
        "# containerd's settings for {address}, written by `regctl setup client`.\n\
         server = \"https://{address}\"\n\n\
         [host.\"https://{address}\"]\n  \
         capabilities = [\"pull\", \"resolve\", \"push\"]\n  \
         # relative to this folder\n  \
         ca = \"ca.crt\"\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containerd_config_path_is_read_in_each_version() {
        let root = tempfile::tempdir().unwrap();
        let none = containerd_config(root.path()).unwrap();
        assert_eq!(
            none,
            ContainerdConfig {
                config_path: None,
                version: None
            }
        );
        let file = under(root.path(), "/etc/containerd/config.toml");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        for (version, plugin) in [
            (2, "io.containerd.grpc.v1.cri"),
            (3, "io.containerd.cri.v1.images"),
        ] {
            std::fs::write(
                &file,
                format!("version = {version}\n[plugins.\"{plugin}\".registry]\n  config_path = \"/etc/hosts.d:/x\"\n"),
            )
            .unwrap();
            let read = containerd_config(root.path()).unwrap();
            assert_eq!(read.config_path.as_deref(), Some("/etc/hosts.d"));
            assert_eq!(read.version, Some(version));
        }
        std::fs::write(&file, "version = 2\n").unwrap();
        assert_eq!(containerd_config(root.path()).unwrap().config_path, None);
    }

    #[test]
    fn a_private_key_is_never_taken_for_a_ca() {
        let key = b"-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n";
        assert!(matches!(
            check_ca("k", key),
            Err(ClientError::PrivateKey(_))
        ));
        assert!(matches!(
            check_ca("x", b"hello"),
            Err(ClientError::NoCertificate(_))
        ));
    }
}
