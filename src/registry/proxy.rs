//! Which proxy, if any, a request goes through. The environment's variables are
//! read once per client and every path asks here: the full client (through
//! `reqwest::Proxy::custom`), the direct path, error messages and `doctor`.
//!
//! `NO_PROXY` is read as Go's `net/http` (`golang.org/x/net/http/httpproxy`)
//! reads it, so regctl agrees with docker, containerd and skopeo on the same
//! environment: `host:port` matches that port only; `.domain` and `*.domain`
//! match subdomains; `domain` matches the domain and its subdomains; `*` alone
//! matches everything; IP addresses (with an optional `:port`) and CIDRs match
//! IP-literal hosts. One difference is kept on purpose: Go never proxies
//! `localhost` and loopback addresses; regctl proxies them when told to, as it
//! always has (a registry on loopback behind a local proxy is tested that way).

use std::net::IpAddr;

use url::Url;

/// A proxy the environment names, and the variable that named it.
#[derive(Clone, Debug)]
pub struct Chosen {
    /// `HTTPS_PROXY`, `https_proxy`, `HTTP_PROXY`, ... as set.
    pub variable: &'static str,
    /// The proxy's URL (`http://` when the value names no scheme), with any
    /// user and password it carries.
    pub url: Url,
}

impl Chosen {
    /// The proxy's URL for messages: user and password replaced by `***`.
    pub fn shown(&self) -> String {
        super::redact::DisplaySafeUrl::from(&self.url).to_string()
    }

    /// `host:port` of the proxy itself.
    pub fn authority(&self) -> String {
        super::redact::authority(&self.url)
    }
}

/// The proxy settings of the environment, read once.
#[derive(Clone, Debug, Default)]
pub struct ProxyEnv {
    http: Option<Chosen>,
    https: Option<Chosen>,
    no: NoProxy,
}

impl ProxyEnv {
    /// Reads `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (each
    /// upper case first, then lower case; the first that is set and not empty
    /// counts). Under CGI (`REQUEST_METHOD` set) `HTTP_PROXY` is ignored, as a
    /// client may have set it as a request header.
    pub fn from_env() -> ProxyEnv {
        let cgi = std::env::var_os("REQUEST_METHOD").is_some();
        let all = first_env(&["ALL_PROXY", "all_proxy"]);
        let http = if cgi {
            None
        } else {
            first_env(&["HTTP_PROXY", "http_proxy"])
        };
        let https = first_env(&["HTTPS_PROXY", "https_proxy"]);
        let no = first_env(&["NO_PROXY", "no_proxy"])
            .map_or_else(NoProxy::default, |(_, v)| NoProxy::parse(&v));
        ProxyEnv {
            http: http.or_else(|| all.clone()).and_then(chosen),
            https: https.or(all).and_then(chosen),
            no,
        }
    }

    /// The proxy a request to `url` goes through, or `None` to go directly.
    pub fn proxy_for(&self, url: &Url) -> Option<&Chosen> {
        let chosen = match url.scheme() {
            "https" => self.https.as_ref(),
            "http" => self.http.as_ref(),
            _ => None,
        }?;
        let host = url.host_str()?;
        let port = url.port_or_known_default()?;
        (!self.no.matches(host, port)).then_some(chosen)
    }

    /// The `NO_PROXY` list in force.
    pub fn no_proxy(&self) -> &NoProxy {
        &self.no
    }
}

fn first_env(names: &[&'static str]) -> Option<(&'static str, String)> {
    names.iter().find_map(|name| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(|v| (*name, v))
    })
}

/// A proxy value as a URL (`http://` when it names no scheme); `None` when it
/// is not one, as the HTTP stack would not use it either.
fn chosen((variable, value): (&'static str, String)) -> Option<Chosen> {
    let value = value.trim();
    let with_scheme = if value.contains("://") {
        value.to_string()
    } else {
        format!("http://{value}")
    };
    let url = Url::parse(&with_scheme).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    Some(Chosen { variable, url })
}

/// A parsed `NO_PROXY` list.
#[derive(Clone, Debug, Default)]
pub struct NoProxy {
    raw: String,
    entries: Vec<Entry>,
}

#[derive(Clone, Debug, PartialEq)]
enum Entry {
    /// `*`: every host.
    All,
    /// An address, on any port or on one.
    Ip(IpAddr, Option<u16>),
    /// A network: any address in it, on any port.
    Net(IpAddr, u8),
    /// `.suffix` (kept with its dot): hosts that end with it; with `exact`,
    /// the suffix without its dot too. On any port or on one.
    Domain {
        suffix: String,
        exact: bool,
        port: Option<u16>,
    },
}

impl NoProxy {
    /// Parses a comma-separated list as Go's `httpproxy` does. Entries it
    /// cannot read (an empty host, a port that is not a number) are ignored.
    pub fn parse(list: &str) -> NoProxy {
        let mut entries = Vec::new();
        for part in list.split(',') {
            let part = part.trim().to_ascii_lowercase();
            if part.is_empty() {
                continue;
            }
            if part == "*" {
                entries = vec![Entry::All];
                break;
            }
            if let Some(net) = cidr(&part) {
                entries.push(net);
                continue;
            }
            let Some((host, port)) = split_host_port(&part) else {
                continue;
            };
            if let Ok(ip) = host.parse::<IpAddr>() {
                entries.push(Entry::Ip(ip, port));
                continue;
            }
            let host = host
                .strip_prefix('*')
                .filter(|h| h.starts_with('.'))
                .unwrap_or(host);
            let (suffix, exact) = match host.strip_prefix('.') {
                Some(_) => (host.to_string(), false),
                None => (format!(".{host}"), true),
            };
            if suffix.len() > 1 {
                entries.push(Entry::Domain {
                    suffix,
                    exact,
                    port,
                });
            }
        }
        NoProxy {
            raw: list.trim().to_string(),
            entries,
        }
    }

    /// True when `host` (a name, an IP address, `[v6]`) on `port` is to be
    /// reached without the proxy.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let ip = host.parse::<IpAddr>().ok();
        let on = |p: &Option<u16>| p.is_none_or(|p| p == port);
        self.entries.iter().any(|entry| match entry {
            Entry::All => true,
            Entry::Ip(addr, p) => ip == Some(*addr) && on(p),
            Entry::Net(net, bits) => ip.is_some_and(|ip| in_network(ip, *net, *bits)),
            Entry::Domain {
                suffix,
                exact,
                port: p,
            } => (host.ends_with(suffix.as_str()) || (*exact && host == suffix[1..])) && on(p),
        })
    }

    /// The list as the environment gave it (empty when not set).
    pub fn raw(&self) -> &str {
        &self.raw
    }
}

/// `address/bits`, when the entry is a CIDR.
fn cidr(entry: &str) -> Option<Entry> {
    let (address, bits) = entry.split_once('/')?;
    let address: IpAddr = address.parse().ok()?;
    let bits: u8 = bits.parse().ok()?;
    let max = if address.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some(Entry::Net(address, bits))
}

/// True when `ip` is in the network `net/bits` (of the same family).
fn in_network(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    let (ip, net, width) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(u32::from(a)), u128::from(u32::from(b)), 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        _ => return false,
    };
    let shift = width - u32::from(bits);
    shift >= width || (ip >> shift) == (net >> shift)
}

/// `host` and its port, if the entry names one (`host:port`, `[v6]:port`,
/// `[v6]`); `None` for an entry that cannot be read.
fn split_host_port(entry: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = entry.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after.strip_prefix(':') {
            Some(port) => Some((host, Some(port.parse().ok()?))),
            None if after.is_empty() => Some((host, None)),
            None => None,
        };
    }
    match entry.rsplit_once(':') {
        // A bare IPv6 address has colons of its own.
        Some(_) if entry.parse::<IpAddr>().is_ok() => Some((entry, None)),
        Some((host, port)) if !host.is_empty() => Some((host, Some(port.parse().ok()?))),
        Some(_) => None,
        None => Some((entry, None)),
    }
}

/// What a proxy said when asked to open a tunnel.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// No connection to the proxy could be made.
    #[error("cannot connect to the proxy {proxy}: {source}")]
    Connect {
        /// The proxy, redacted.
        proxy: String,
        /// Why.
        source: std::io::Error,
    },
    /// The proxy did not answer in time.
    #[error("the proxy {proxy} did not answer within {seconds} s")]
    TimedOut {
        /// The proxy, redacted.
        proxy: String,
        /// The time allowed.
        seconds: u64,
    },
    /// The proxy answered the tunnel request with something other than 2xx.
    #[error("the proxy {proxy} refused a tunnel to {target}: {status}")]
    Refused {
        /// The proxy, redacted.
        proxy: String,
        /// `host:port` asked for.
        target: String,
        /// Its status line, escaped.
        status: String,
    },
}

/// Connects to `proxy` and, for an HTTPS `target` (`host:port`), asks it for
/// a tunnel there (`CONNECT`), reading only its status line. Gives what was
/// checked, in words.
pub async fn probe(
    proxy: &Chosen,
    target: &str,
    tunnel: bool,
    timeout: std::time::Duration,
) -> std::result::Result<String, ProbeError> {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    let shown = proxy.shown();
    let timed_out = || ProbeError::TimedOut {
        proxy: shown.clone(),
        seconds: timeout.as_secs(),
    };
    let host = proxy.url.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = proxy.url.port_or_known_default().unwrap_or(80);
    let stream = tokio::time::timeout(timeout, tokio::net::TcpStream::connect((host, port)))
        .await
        .map_err(|_| timed_out())?
        .map_err(|source| ProbeError::Connect {
            proxy: shown.clone(),
            source,
        })?;
    if !tunnel || proxy.url.scheme() == "https" {
        return Ok(format!("connected to {}", proxy.authority()));
    }
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if !proxy.url.username().is_empty() {
        use base64::Engine;
        let pair = format!(
            "{}:{}",
            percent_decode(proxy.url.username()),
            percent_decode(proxy.url.password().unwrap_or_default())
        );
        let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
        request += &format!("Proxy-Authorization: Basic {encoded}\r\n");
    }
    request += "\r\n";
    let mut stream = tokio::io::BufReader::new(stream);
    let mut line = String::new();
    let asked = async {
        stream.get_mut().write_all(request.as_bytes()).await?;
        (&mut stream).take(1024).read_line(&mut line).await
    };
    let answered = tokio::time::timeout(timeout, asked)
        .await
        .map_err(|_| timed_out())?;
    let connect_error = |source| ProbeError::Connect {
        proxy: shown.clone(),
        source,
    };
    answered.map_err(connect_error)?;
    let status = line.trim_end();
    let code = status.split_whitespace().nth(1).unwrap_or_default();
    if code.len() == 3 && code.starts_with('2') {
        Ok(format!("{} opened a tunnel to {target}", proxy.authority()))
    } else {
        Err(ProbeError::Refused {
            proxy: shown.clone(),
            target: target.to_string(),
            status: if status.is_empty() {
                "the connection closed without an answer".into()
            } else {
                crate::text::escape(status)
            },
        })
    }
}

/// `%xx` sequences of a URL's user or password decoded.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bypass(list: &str, host: &str, port: u16) -> bool {
        NoProxy::parse(list).matches(host, port)
    }

    #[test]
    fn host_and_port_entries_match_that_port_only() {
        assert!(bypass("registry:6000", "registry", 6000));
        assert!(!bypass("registry:6000", "registry", 443));
        assert!(bypass("registry.example:443", "registry.example", 443));
        assert!(bypass("10.0.0.5:5000", "10.0.0.5", 5000));
        assert!(!bypass("10.0.0.5:5000", "10.0.0.5", 5001));
        assert!(bypass("[::1]:5000", "[::1]", 5000));
        assert!(!bypass("[::1]:5000", "[::1]", 443));
    }

    #[test]
    fn domain_entries_match_as_go_reads_them() {
        // `domain`: itself and its subdomains.
        assert!(bypass("example.com", "example.com", 443));
        assert!(bypass("example.com", "r.example.com", 443));
        assert!(!bypass("example.com", "notexample.com", 443));
        // `.domain` and `*.domain`: subdomains only.
        for list in [".example.com", "*.example.com"] {
            assert!(bypass(list, "r.example.com", 443), "{list}");
            assert!(bypass(list, "a.b.example.com", 443), "{list}");
            assert!(!bypass(list, "example.com", 443), "{list}");
            assert!(!bypass(list, "notexample.com", 443), "{list}");
        }
        assert!(bypass("*.example.com:5000", "r.example.com", 5000));
        assert!(!bypass("*.example.com:5000", "r.example.com", 443));
        assert!(bypass("EXAMPLE.com", "R.Example.COM", 443));
    }

    #[test]
    fn a_lone_star_matches_all_and_other_stars_match_nothing_more() {
        assert!(bypass("*", "anything", 1));
        assert!(bypass("x, *", "10.1.2.3", 443));
        assert!(!bypass("*example.com", "r.example.com", 443));
    }

    #[test]
    fn addresses_and_networks_match_ip_literals() {
        assert!(bypass("127.0.0.1", "127.0.0.1", 6000));
        assert!(bypass("10.0.0.0/8", "10.20.30.40", 443));
        assert!(!bypass("10.0.0.0/8", "11.0.0.1", 443));
        assert!(bypass("::1", "[::1]", 443));
        assert!(bypass("fd00::/8", "[fd12::1]", 443));
        assert!(!bypass("10.0.0.0/8", "ten.example", 443));
        assert!(!bypass("", "registry", 443));
        assert!(!bypass(" , registry:x", "registry", 443));
    }

    #[test]
    fn the_proxy_for_a_url_honours_no_proxy_with_the_default_port() {
        let env = ProxyEnv {
            https: chosen(("HTTPS_PROXY", "user:pw@proxy:3128".into())),
            http: None,
            no: NoProxy::parse("registry:443"),
        };
        let url = |s: &str| Url::parse(s).unwrap();
        assert!(env.proxy_for(&url("https://registry/v2/")).is_none());
        let other = env.proxy_for(&url("https://registry:5000/v2/")).unwrap();
        assert_eq!(other.variable, "HTTPS_PROXY");
        assert_eq!(other.authority(), "proxy:3128");
        assert!(!other.shown().contains("pw"), "{}", other.shown());
        assert!(env.proxy_for(&url("http://registry:5000/v2/")).is_none());
    }
}
