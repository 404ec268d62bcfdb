//! `regctl setup proxy`: the systemd drop-ins that give docker and containerd
//! (and so the kubelet's image pulls) a proxy, as the seed writes them, with
//! `NO_PROXY` checked against what Go's `net/http` honours (a wildcard inside
//! an address, `172.20.1.*`, is read as a host name and matches nothing).
//! A proxy URL that carries a password goes to an `EnvironmentFile` only root
//! reads, since `systemctl show` prints a unit's `Environment=` to any user.

use std::path::Path;

use url::Url;

use super::client::under;
use super::files::Planned;
use super::quote::unit;

/// The services that get a drop-in.
pub const SERVICES: [&str; 2] = ["docker", "containerd"];

/// The proxy settings asked for.
#[derive(Debug, Clone, Default)]
pub struct ProxySettings {
    /// `HTTP_PROXY`.
    pub http: Option<String>,
    /// `HTTPS_PROXY`.
    pub https: Option<String>,
    /// `NO_PROXY`, comma-separated.
    pub no_proxy: Option<String>,
}

/// The drop-ins, and what was noticed on the way.
#[derive(Debug)]
pub struct ProxyPlan {
    /// The files to write.
    pub files: Vec<Planned>,
    /// Entries or values that will not do what they seem to.
    pub warnings: Vec<String>,
    /// What makes the services read them.
    pub reload: String,
}

/// Why the drop-ins cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// Neither proxy was given.
    #[error("no proxy: give --http URL and/or --https URL")]
    Nothing,
    /// A value holds a line break or another control character: in a unit
    /// file it would start a directive of its own.
    #[error("--{0}: holds a line break or another control character")]
    Control(&'static str),
    /// A proxy is not a URL Go takes.
    #[error("--{flag}: {why}")]
    BadUrl {
        /// `http` or `https`.
        flag: &'static str,
        /// Why.
        why: String,
    },
}

/// The drop-ins for `settings` under `root`.
pub fn plan(settings: &ProxySettings, root: &Path) -> Result<ProxyPlan, ProxyError> {
    for (flag, value) in [
        ("http", &settings.http),
        ("https", &settings.https),
        ("no-proxy", &settings.no_proxy),
    ] {
        if value
            .as_deref()
            .is_some_and(|v| v.chars().any(char::is_control))
        {
            return Err(ProxyError::Control(flag));
        }
    }
    let mut warnings = Vec::new();
    let mut vars = Vec::new();
    for (flag, name, value) in [
        ("http", "HTTP_PROXY", &settings.http),
        ("https", "HTTPS_PROXY", &settings.https),
    ] {
        if let Some(value) = value {
            vars.push((name, proxy_url(flag, value, &mut warnings)?));
        }
    }
    if vars.is_empty() {
        return Err(ProxyError::Nothing);
    }
    let secret = vars.iter().any(|(_, v)| v.contains('@'));
    match &settings.no_proxy {
        Some(list) => {
            warnings.extend(check_no_proxy(list));
            vars.push(("NO_PROXY", list.trim().to_string()));
        }
        None => warnings.push(
            "no --no-proxy: every registry, the private one too, is reached through the proxy"
                .into(),
        ),
    }
    let mut files = Vec::new();
    for service in SERVICES {
        let dir = format!("/etc/systemd/system/{service}.service.d");
        let mut conf = "# Written by `regctl setup proxy`.\n[Service]\n".to_string();
        if secret {
            let env_path = format!("{dir}/http-proxy.env");
            conf += &format!("EnvironmentFile={}\n", unit(&env_path));
            let env: String = vars
                .iter()
                .map(|(k, v)| format!("{k}={}\n", env_value(v)))
                .collect();
            files.push(Planned::private(
                under(root, &env_path),
                env,
                format!("{service}'s proxy settings, with the proxy's password (root only)"),
            ));
        } else {
            for (k, v) in &vars {
                conf += &format!("Environment={}\n", unit(&format!("{k}={v}")));
            }
        }
        files.push(Planned::public(
            under(root, &format!("{dir}/http-proxy.conf")),
            conf,
            format!("{service}'s proxy drop-in"),
        ));
    }
    if secret {
        warnings.push(
            "the proxy URL holds a password: it is written to http-proxy.env files only root reads, \
             not to the drop-ins that `systemctl show` prints to every user"
                .into(),
        );
    }
    Ok(ProxyPlan {
        files,
        warnings,
        reload: "systemctl daemon-reload && systemctl restart docker containerd".into(),
    })
}

/// `files` as they may be shown: a proxy's password replaced by `***` (it is
/// written only with `--write`, never printed where a CI log keeps it).
pub fn shown(files: &[Planned]) -> Vec<Planned> {
    let password = regex::Regex::new(r#"://([^:/@\s"]*):[^@\s"]*@"#)
        .unwrap_or_else(|_| unreachable!("a fixed, valid pattern"));
    files
        .iter()
        .map(|f| {
            let text = String::from_utf8_lossy(&f.contents);
            Planned {
                contents: password
                    .replace_all(&text, "://$1:***@")
                    .into_owned()
                    .into_bytes(),
                ..f.clone()
            }
        })
        .collect()
}

/// `value` as an URL Go takes as a proxy (`http://` added when no scheme is given).
fn proxy_url(
    flag: &'static str,
    value: &str,
    warnings: &mut Vec<String>,
) -> Result<String, ProxyError> {
    let bad = |why: String| ProxyError::BadUrl { flag, why };
    let value = value.trim();
    let with_scheme = if value.contains("://") {
        value.to_string()
    } else {
        warnings.push(format!(
            "--{flag}: no scheme; written as http://{}",
            crate::text::escape(&redacted(value))
        ));
        format!("http://{value}")
    };
    let url = Url::parse(&with_scheme).map_err(|e| bad(format!("not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https" | "socks5") {
        return Err(bad(format!(
            "scheme `{}`: Go takes http, https and socks5 proxies",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host".into()));
    }
    if value
        .chars()
        .any(|c| c.is_whitespace() || c == '"' || c == '\\')
    {
        return Err(bad(
            "spaces, quotes and backslashes do not belong in a proxy URL".into(),
        ));
    }
    Ok(with_scheme)
}

/// `user:password@` of a value replaced by `***@`, for messages.
fn redacted(value: &str) -> String {
    match value.rsplit_once('@') {
        Some((_, host)) => format!("***@{host}"),
        None => value.to_string(),
    }
}

/// A value for an `EnvironmentFile`: double-quoted, `\` and `"` escaped.
fn env_value(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// What Go's `net/http` does not honour in a `NO_PROXY` list, entry by entry,
/// with what to write instead.
pub fn check_no_proxy(list: &str) -> Vec<String> {
    let mut out = Vec::new();
    for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let shown = crate::text::escape(entry);
        if entry == "*" {
            out.push("NO_PROXY `*`: nothing at all goes through the proxy".into());
        } else if entry.contains("://") || entry.contains('/') && !is_cidr(entry) {
            out.push(format!(
                "NO_PROXY `{shown}`: Go matches host names, addresses and CIDRs, not URLs or paths; \
                 write the host alone"
            ));
        } else if entry.contains('*') && !is_domain_wildcard(entry) {
            let hint = cidr_for_wildcard(entry)
                .map(|c| format!("write {c}"))
                .unwrap_or_else(|| "write `.domain` for a domain and its subdomains".into());
            out.push(format!(
                "NO_PROXY `{shown}`: Go does not read a `*` inside an entry (it is taken as a host \
                 name and matches nothing); {hint}"
            ));
        } else if entry.starts_with(':') {
            out.push(format!(
                "NO_PROXY `{shown}`: a port without a host matches nothing in Go; write host:port"
            ));
        } else if entry.contains(char::is_whitespace) {
            out.push(format!(
                "NO_PROXY `{shown}`: spaces inside an entry; separate entries with commas"
            ));
        } else if entry.contains('-')
            && entry
                .split('-')
                .all(|p| p.parse::<std::net::IpAddr>().is_ok())
        {
            out.push(format!(
                "NO_PROXY `{shown}`: Go does not read address ranges; write the network as a CIDR"
            ));
        }
    }
    out
}

/// `*.domain`, which Go reads as `.domain`.
fn is_domain_wildcard(entry: &str) -> bool {
    entry
        .strip_prefix("*.")
        .is_some_and(|rest| !rest.contains('*'))
}

/// An address and a prefix length its family allows (Go's `ParseCIDR`).
fn is_cidr(entry: &str) -> bool {
    entry.split_once('/').is_some_and(|(ip, bits)| {
        let most = match ip.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(_)) => 32,
            Ok(std::net::IpAddr::V6(_)) => 128,
            Err(_) => return false,
        };
        bits.parse::<u8>().is_ok_and(|b| b <= most)
    })
}

/// `172.20.1.*` -> `172.20.1.0/24`, when the entry is an IPv4 address with
/// its last parts `*`.
fn cidr_for_wildcard(entry: &str) -> Option<String> {
    let parts: Vec<&str> = entry.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let fixed = parts.iter().take_while(|p| **p != "*").count();
    if fixed == 0
        || parts[fixed..].iter().any(|p| *p != "*")
        || parts[..fixed].iter().any(|p| p.parse::<u8>().is_err())
    {
        return None;
    }
    let mut octets: Vec<&str> = parts[..fixed].to_vec();
    octets.resize(4, "0");
    Some(format!("{}/{}", octets.join("."), fixed * 8))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::proxy::NoProxy;

    #[test]
    fn entries_go_ignores_are_named_with_what_to_write() {
        let warnings = check_no_proxy(
            "172.20.1.150, 172.20.1.*,.corp.example,*.svc,http://reg:5000,10.0.0.0/8",
        );
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        let wrong = check_no_proxy("10.0.0.0/33,:5000,fd00::/64");
        assert_eq!(wrong.len(), 2, "{wrong:?}");
        assert!(warnings[0].contains("172.20.1.0/24"), "{warnings:?}");
        assert!(warnings[1].contains("not URLs"), "{warnings:?}");
        // What the check calls honoured, Go's reading (regctl's own) honours.
        let no = NoProxy::parse("172.20.1.150,.corp.example,*.svc,10.0.0.0/8");
        assert!(no.matches("172.20.1.150", 5000) && no.matches("r.corp.example", 443));
        assert!(no.matches("api.svc", 443) && no.matches("10.1.2.3", 80));
        assert!(!NoProxy::parse("172.20.1.*").matches("172.20.1.7", 5000));
    }

    #[test]
    fn a_password_stays_out_of_the_drop_in() {
        let root = tempfile::tempdir().unwrap();
        let settings = ProxySettings {
            http: Some("http://u:p%40ss@proxy:3128".into()),
            https: None,
            no_proxy: Some("registry.example".into()),
        };
        let plan = plan(&settings, root.path()).unwrap();
        let conf = plan
            .files
            .iter()
            .find(|f| f.path.ends_with("docker.service.d/http-proxy.conf"))
            .unwrap();
        let env = plan
            .files
            .iter()
            .find(|f| f.path.ends_with("docker.service.d/http-proxy.env"))
            .unwrap();
        assert!(!String::from_utf8_lossy(&conf.contents).contains("p%40ss"));
        assert!(String::from_utf8_lossy(&env.contents)
            .contains("HTTP_PROXY=\"http://u:p%40ss@proxy:3128\""));
        assert_eq!(env.mode, 0o600);
        let printed = shown(&plan.files);
        assert!(printed
            .iter()
            .all(|f| !String::from_utf8_lossy(&f.contents).contains("p%40ss")));
        assert!(printed
            .iter()
            .any(|f| String::from_utf8_lossy(&f.contents).contains("http://u:***@proxy:3128")));
    }

    #[test]
    fn percent_signs_are_doubled_in_the_drop_in() {
        let root = tempfile::tempdir().unwrap();
        let settings = ProxySettings {
            http: Some("proxy.example:3128/%7E".into()),
            ..ProxySettings::default()
        };
        let plan = plan(&settings, root.path()).unwrap();
        let conf = String::from_utf8(plan.files[0].contents.clone()).unwrap();
        assert!(
            conf.contains("Environment=HTTP_PROXY=http://proxy.example:3128/%%7E"),
            "{conf}"
        );
        assert!(plan.warnings.iter().any(|w| w.contains("no scheme")));
    }

    #[test]
    fn a_line_break_cannot_add_a_directive() {
        let settings = ProxySettings {
            https: Some("http://proxy:3128".into()),
            no_proxy: Some("a\nExecStartPre=/bin/touch /tmp/x".into()),
            ..ProxySettings::default()
        };
        let root = tempfile::tempdir().unwrap();
        assert!(matches!(
            plan(&settings, root.path()),
            Err(ProxyError::Control("no-proxy"))
        ));
    }
}
