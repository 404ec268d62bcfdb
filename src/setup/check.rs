//! `regctl setup check DIR`: reads a registry set-up (one made by hand from the
//! seed's recipe, or by `regctl setup registry`) and reports each trap with its
//! fix: a server certificate that is a CA (rustls and Firefox refuse it), one
//! without subjectAltName (Go refuses it), keys others can read, a config
//! whose indentation was lost or that leaves deletion off, password hashes
//! Distribution cannot read, and a CA that only the system store trusts
//! (docker and containerd do not read it for registries).

use std::path::{Path, PathBuf};

use x509_parser::prelude::*;

use super::client::{self, under};
use super::htpasswd::is_bcrypt;

/// One trap found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Finding {
    /// The file it is in.
    pub file: String,
    /// What is wrong, and what it breaks.
    pub problem: String,
    /// What to do.
    pub fix: String,
}

/// Why the set-up could not be read at all.
#[derive(Debug, thiserror::Error)]
#[error("{}: {why}", dir.display())]
pub struct CheckError {
    /// The folder.
    pub dir: PathBuf,
    /// Why.
    pub why: String,
}

/// How deep below DIR files are looked for (`certs/`, `auth/` in the seed).
const DEPTH: usize = 2;

/// Keys of Distribution's config that belong inside `storage` or `http`: at the
/// top level, they say the file's indentation was lost.
const NESTED_KEYS: [&str; 8] = [
    "delete",
    "filesystem",
    "rootdirectory",
    "blobdescriptor",
    "addr",
    "headers",
    "storagedriver",
    "enabled",
];

/// Every trap in the set-up at `dir`, with trust looked for under `root`;
/// `hosts` are the names clients reach the registry by (`host` or
/// `host:port`), each of which the certificate must name.
pub fn check(dir: &Path, root: &Path, hosts: &[String]) -> Result<Vec<Finding>, CheckError> {
    let files = files_under(dir, DEPTH).map_err(|e| CheckError {
        dir: dir.to_path_buf(),
        why: e.to_string(),
    })?;
    let mut findings = Vec::new();
    let config = config(&files, &mut findings);
    let tls_path = |key: &str| {
        config
            .as_ref()
            .and_then(|c| c["http"]["tls"][key].as_str())
            .map(|p| resolve(dir, p))
    };
    // A path the config names that is not here (a path inside a container,
    // `/certs/domain.crt`) leaves the files found here to look at.
    let server = tls_path("certificate")
        .filter(|p| p.is_file())
        .or_else(|| guess_server_certificate(&files));
    let Some(server) = server else {
        findings.push(Finding {
            file: dir.display().to_string(),
            problem: "no certificate found (http.tls in config.yml, or a .pem/.crt file)".into(),
            fix: "regctl setup registry DIR --host NAME writes a CA and a server certificate"
                .into(),
        });
        return Ok(findings);
    };
    let port = config
        .as_ref()
        .and_then(|c| c["http"]["addr"].as_str())
        .and_then(|a| a.rsplit_once(':'))
        .map(|(_, p)| p.to_string());
    let anchor = certificate(&server, port.as_deref(), hosts, &mut findings).map(|names| {
        let ca = server.with_file_name("ca.crt");
        let anchor = if ca.is_file() { ca } else { server.clone() };
        (anchor, names)
    });
    if let Some(key) = tls_path("key").or_else(|| sibling_key(&server)) {
        private_file(&key, &mut findings);
    }
    let htpasswd = config
        .as_ref()
        .and_then(|c| c["auth"]["htpasswd"]["path"].as_str())
        .map(|p| resolve(dir, p))
        .or_else(|| {
            files
                .iter()
                .find(|f| f.file_name().is_some_and(|n| n == "htpasswd"))
                .cloned()
        });
    if let Some(htpasswd) = htpasswd {
        password_file(&htpasswd, &mut findings);
    }
    if let Some((anchor, names)) = anchor {
        trust(&anchor, &names, root, &mut findings);
    }
    Ok(findings)
}

/// The files under `dir`, `depth` folders deep at most.
fn files_under(dir: &Path, depth: usize) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() && depth > 0 {
            out.extend(files_under(&path, depth - 1).unwrap_or_default());
        } else if path.is_file() {
            out.push(path);
        }
    }
    Ok(out)
}

fn resolve(dir: &Path, path: &str) -> PathBuf {
    let path = Path::new(path);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        dir.join(path)
    }
}

/// The config, read as Distribution reads it (a repeated key: the last wins),
/// and its traps.
fn config(files: &[PathBuf], findings: &mut Vec<Finding>) -> Option<serde_json::Value> {
    let path = files.iter().find(|f| {
        f.file_name()
            .is_some_and(|n| n == "config.yml" || n == "config.yaml")
    })?;
    let shown = path.display().to_string();
    let text = match crate::file::read_text(path) {
        Ok(text) => text,
        Err(e) => {
            findings.push(Finding {
                file: shown,
                problem: format!("cannot be read: {e}"),
                fix: "make it a readable file".into(),
            });
            return None;
        }
    };
    let config: serde_json::Value = match serde_yaml_ng::from_str(&text) {
        Ok(config) => config,
        Err(e) => {
            findings.push(Finding {
                file: shown,
                problem: format!(
                    "not YAML Distribution can read: {}",
                    crate::text::escape(&e.to_string())
                ),
                fix: "fix the line named, or write a new one with regctl setup registry".into(),
            });
            return None;
        }
    };
    let top_level: Vec<&str> = NESTED_KEYS
        .iter()
        .copied()
        .filter(|k| config.get(k).is_some())
        .collect();
    if !top_level.is_empty() && !config["storage"].is_object() {
        findings.push(Finding {
            file: shown.clone(),
            problem: format!(
                "{} at the top level: the indentation was lost (as when copied from a web page); \
                 Distribution refuses the file (\"no storage configuration provided\")",
                top_level.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
            ),
            fix: "indent the keys under storage:, http: and health: as Distribution's documentation shows, \
                  or write a new config with regctl setup registry"
                .into(),
        });
    }
    if config["storage"]["delete"]["enabled"] != serde_json::Value::Bool(true) {
        findings.push(Finding {
            file: shown.clone(),
            problem: "deletion is not enabled (storage.delete.enabled): every DELETE answers 405, \
                      regctl rm and prune delete nothing"
                .into(),
            fix: "add under storage:\n  delete:\n    enabled: true\nthen restart the registry"
                .into(),
        });
    }
    if config["storage"]["maintenance"]["readonly"]["enabled"] == serde_json::Value::Bool(true) {
        findings.push(Finding {
            file: shown,
            problem:
                "read-only mode is on (storage.maintenance.readonly): pushes and deletes answer 405"
                    .into(),
            fix:
                "set storage.maintenance.readonly.enabled to false once garbage collection is done"
                    .into(),
        });
    }
    Some(config)
}

/// A certificate file other than a CA's, when the config names none.
fn guess_server_certificate(files: &[PathBuf]) -> Option<PathBuf> {
    let certs: Vec<&PathBuf> = files
        .iter()
        .filter(|f| {
            f.extension()
                .is_some_and(|e| e == "pem" || e == "crt" || e == "cert")
        })
        .filter(|f| !ders(f).is_empty())
        .collect();
    certs
        .iter()
        .find(|f| {
            !f.file_stem()
                .is_some_and(|s| s.to_string_lossy().starts_with("ca"))
        })
        .or(certs.first())
        .map(|f| f.to_path_buf())
}

/// The DER certificates of a PEM file (none when it cannot be read).
pub fn ders(path: &Path) -> Vec<Vec<u8>> {
    let Ok(bytes) = crate::file::read(path) else {
        return Vec::new();
    };
    Pem::iter_from_buffer(&bytes)
        .flatten()
        .filter(|p| p.label == "CERTIFICATE")
        .map(|p| p.contents)
        .collect()
}

/// The server certificate's traps; returns the `host:port` names clients may
/// reach it by (the first is the one fixes name; `PORT` when the config does
/// not say).
fn certificate(
    path: &Path,
    port: Option<&str>,
    hosts: &[String],
    findings: &mut Vec<Finding>,
) -> Option<Vec<String>> {
    let shown = path.display().to_string();
    let ders = ders(path);
    let Some(der) = ders.first() else {
        findings.push(Finding {
            file: shown,
            problem: "no PEM certificate in it".into(),
            fix: "point http.tls.certificate at the server certificate".into(),
        });
        return None;
    };
    let Ok((_, cert)) = X509Certificate::from_der(der) else {
        findings.push(Finding {
            file: shown,
            problem: "the certificate cannot be parsed".into(),
            fix: "write a new one with regctl setup registry".into(),
        });
        return None;
    };
    let new_pair = "regctl setup registry NEWDIR --host NAME... writes a CA and a CA:FALSE server \
                    certificate signed by it; serve those, and trust the CA (regctl setup client)";
    if cert.is_ca() {
        findings.push(Finding {
            file: shown.clone(),
            problem: "the server certificate is a CA (CA:TRUE), as `openssl req -x509` makes it: \
                      rustls (regctl, other Rust clients) and Firefox refuse a CA as a server certificate"
                .into(),
            fix: new_pair.into(),
        });
    }
    let names: Vec<String> = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    GeneralName::DNSName(d) => Some(d.to_string()),
                    GeneralName::IPAddress(b) => ip(b),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    if names.is_empty() {
        findings.push(Finding {
            file: shown.clone(),
            problem: "no subjectAltName: Go since 1.15 (docker, containerd, skopeo) ignores the \
                      common name and refuses the certificate"
                .into(),
            fix: new_pair.into(),
        });
    }
    let unnamed: Vec<&str> = hosts
        .iter()
        .map(|h| host_of(h))
        .filter(|h| !names.iter().any(|n| names_host(n, h)))
        .collect();
    if !unnamed.is_empty() {
        findings.push(Finding {
            file: shown.clone(),
            problem: format!(
                "does not name {} in subjectAltName (it names {}): clients reaching the registry \
                 so refuse it (Go: \"x509: certificate is valid for ..., not ...\")",
                unnamed.join(", "),
                if names.is_empty() {
                    "nothing".to_string()
                } else {
                    names.join(", ")
                }
            ),
            fix: new_pair.into(),
        });
    }
    let validity = cert.validity();
    let now = ASN1Time::now();
    if validity.not_after < now {
        findings.push(Finding {
            file: shown.clone(),
            problem: format!("expired on {}", validity.not_after),
            fix: new_pair.into(),
        });
    } else if validity
        .time_to_expiration()
        .is_some_and(|left| left.whole_days() < 30)
    {
        findings.push(Finding {
            file: shown.clone(),
            problem: format!("expires on {}, in less than 30 days", validity.not_after),
            fix: new_pair.into(),
        });
    }
    let mut names = names;
    if names.is_empty() {
        names.push("HOST".into());
    }
    Some(
        names
            .into_iter()
            .map(|host| {
                let host = if host.contains(':') {
                    format!("[{host}]")
                } else {
                    host
                };
                format!("{host}:{}", port.unwrap_or("PORT"))
            })
            .collect(),
    )
}

/// `host` of `host`, `host:port`, `[v6]:port` or `[v6]`.
fn host_of(address: &str) -> &str {
    if let Some(rest) = address.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match address.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            host
        }
        _ => address,
    }
}

/// Whether the subjectAltName entry `name` covers `host`, as a TLS client
/// checks it: an address equal, a DNS name equal whatever its case, or `*.`
/// standing for one label.
fn names_host(name: &str, host: &str) -> bool {
    if let (Ok(a), Ok(b)) = (
        name.parse::<std::net::IpAddr>(),
        host.parse::<std::net::IpAddr>(),
    ) {
        return a == b;
    }
    let (name, host) = (name.to_ascii_lowercase(), host.to_ascii_lowercase());
    match name.strip_prefix("*.") {
        Some(suffix) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix),
        None => name == host,
    }
}

fn ip(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => Some(std::net::Ipv4Addr::from(<[u8; 4]>::try_from(bytes).ok()?).to_string()),
        16 => Some(std::net::Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?).to_string()),
        _ => None,
    }
}

/// `key.pem` or `server.key` beside the certificate, as the seed and regctl name them.
fn sibling_key(cert: &Path) -> Option<PathBuf> {
    ["key.pem", "server.key"]
        .iter()
        .map(|n| cert.with_file_name(n))
        .find(|p| p.is_file())
}

/// A key or password file other users can read.
fn private_file(path: &Path, findings: &mut Vec<Finding>) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                findings.push(Finding {
                    file: path.display().to_string(),
                    problem: format!(
                        "readable by other users (mode {:o})",
                        meta.permissions().mode() & 0o777
                    ),
                    fix: format!(
                        "chmod 600 {}",
                        super::quote::shell(&path.display().to_string())
                    ),
                });
            }
        }
    }
}

/// Users whose hash Distribution cannot check.
fn password_file(path: &Path, findings: &mut Vec<Finding>) {
    let Ok(text) = crate::file::read_text(path) else {
        return;
    };
    let users: Vec<String> = text
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(_, hash)| !is_bcrypt(hash.trim()))
        .map(|(user, _)| crate::text::escape(user))
        .collect();
    if !users.is_empty() {
        findings.push(Finding {
            file: path.display().to_string(),
            problem: format!(
                "not bcrypt for {}: Distribution reads only bcrypt hashes, so these users cannot log in",
                users.join(", ")
            ),
            fix: "write the entry again with bcrypt (regctl setup registry, or htpasswd -B)".into(),
        });
    }
    private_file(path, findings);
}

/// Where the CA (or the self-signed certificate) is trusted under `root`.
fn trust(anchor: &Path, names: &[String], root: &Path, findings: &mut Vec<Finding>) {
    let address = &names[0];
    let wanted = ders(anchor);
    // The files of `files` that hold the anchor.
    let holding = |files: Vec<PathBuf>| -> Vec<PathBuf> {
        files
            .into_iter()
            .filter(|f| ders(f).iter().any(|d| wanted.contains(d)))
            .collect()
    };
    let fix = format!(
        "regctl setup client {address} --ca {}",
        super::quote::shell(&anchor.display().to_string())
    );
    let crts = |dir: &str| {
        files_under(&under(root, dir), 1)
            .unwrap_or_default()
            .into_iter()
            .filter(|f| f.extension().is_some_and(|e| e == "crt"))
            .collect::<Vec<_>>()
    };
    let containerd = client::containerd_config(root).ok();
    let hosts_dir = containerd
        .as_ref()
        .and_then(|c| c.config_path.clone())
        .unwrap_or_else(|| client::CONTAINERD_HOSTS_DIR.to_string());
    let docker_files = holding(crts("/etc/docker/certs.d"));
    let docker = !docker_files.is_empty();
    // docker looks in the folder named as clients name the registry, port
    // included: a CA in `certs.d/registry.example/` serves only port 443.
    let folders: Vec<String> = docker_files
        .iter()
        .filter_map(|f| f.parent()?.file_name())
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .collect();
    if docker
        && !address.ends_with(":PORT")
        && !names
            .iter()
            .any(|n| folders.contains(&n.to_ascii_lowercase()))
    {
        findings.push(Finding {
            file: docker_files[0].display().to_string(),
            problem: format!(
                "docker reads certs.d/HOST:PORT as clients name the registry ({}); this folder is \
                 not one of those names, so docker does not use it",
                names.join(", ")
            ),
            fix: fix.clone(),
        });
    }
    let containerd_hosts = !holding(crts(&hosts_dir)).is_empty();
    let mut system_files = crts("/usr/local/share/ca-certificates");
    system_files.push(under(root, "/etc/ssl/certs/ca-certificates.crt"));
    let system = !holding(system_files).is_empty();
    let shown = anchor.display().to_string();
    if !docker && system {
        findings.push(Finding {
            file: shown,
            problem: "trusted by the system store only: docker and containerd do not read it for \
                      registries (\"x509: certificate signed by unknown authority\" on pull)"
                .into(),
            fix,
        });
    } else if !docker && !containerd_hosts && !system {
        findings.push(Finding {
            file: shown,
            problem: format!("no client under {} trusts it", root.display()),
            fix,
        });
    } else if containerd_hosts
        && containerd
            .as_ref()
            .is_some_and(|c| c.version.is_some() && c.config_path.is_none())
    {
        findings.push(Finding {
            file: under(root, "/etc/containerd/config.toml")
                .display()
                .to_string(),
            problem:
                "containerd has a hosts.toml folder for the registry but config_path is not set, \
                      so the CRI (the kubelet's pulls) never reads it"
                    .into(),
            fix: client::config_path_lines(containerd.and_then(|c| c.version)),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::{host_of, names_host};

    #[test]
    fn hosts_are_matched_as_a_tls_client_matches_them() {
        assert_eq!(host_of("registry.example:5000"), "registry.example");
        assert_eq!(host_of("[::1]:5000"), "::1");
        assert_eq!(host_of("10.0.0.5"), "10.0.0.5");
        assert!(names_host("Registry.Example", "registry.example"));
        assert!(names_host("*.example", "registry.example"));
        assert!(!names_host("*.example", "a.registry.example"));
        assert!(names_host("10.0.0.5", "10.0.0.5"));
        assert!(!names_host("example.com", "127.0.0.1"));
    }
}
