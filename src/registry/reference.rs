//! Image references (`host[:port]/path/repo[:tag][@digest]`) and listing targets
//! (`host[:port][/prefix]`), validated against the distribution reference grammar.

use super::hint::Hint;
use std::fmt;
use std::str::FromStr;

use super::digest::Digest;

/// Where Docker Hub's registry API lives; `docker.io` names normalise to it.
pub const DOCKER_HUB_REGISTRY: &str = "registry-1.docker.io";
/// The key under which docker's config stores Docker Hub credentials.
pub const DOCKER_HUB_CONFIG_KEY: &str = "https://index.docker.io/v1/";
const MAX_NAME_LEN: usize = 255;
const MAX_TAG_LEN: usize = 128;

/// Why a reference was rejected. Always names the bad part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid reference `{input}`: {reason}{}", hint.as_ref().map_or_else(String::new, |h| format!("; {h}")))]
pub struct ReferenceError {
    /// What the user typed.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
    /// What to do instead, if anything.
    pub hint: Option<Hint>,
}

fn invalid(input: &str, reason: impl Into<String>) -> ReferenceError {
    ReferenceError {
        input: input.to_string(),
        reason: reason.into(),
        hint: None,
    }
}

/// A fully qualified image reference: registry, repository, and a tag and/or digest.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    /// A reference to `registry/repository:tag` (parts already validated by the caller,
    /// e.g. names read back from the registry).
    pub fn with_tag(registry: &str, repository: &str, tag: &str) -> Self {
        Reference {
            registry: registry.to_string(),
            repository: repository.to_string(),
            tag: Some(tag.to_string()),
            digest: None,
        }
    }

    /// This reference, naming `digest` too (a tag, if any, is kept: it must
    /// point there).
    pub fn with_digest(self, digest: Digest) -> Self {
        Reference {
            digest: Some(digest),
            ..self
        }
    }

    /// The manifest `digest` in the same repository, by digest alone (no tag).
    pub fn sibling(&self, digest: Digest) -> Self {
        Reference {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag: None,
            digest: Some(digest),
        }
    }

    /// The registry host, with `:port` when one was given.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path inside the registry.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, if the reference names one.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if the reference names one.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// What goes after `/manifests/`: the digest when there is one, else the tag
    /// (`latest` when neither was given, as docker does).
    pub fn manifest_reference(&self) -> ManifestRef {
        match (&self.digest, &self.tag) {
            (Some(d), _) => ManifestRef::Digest(d.clone()),
            (None, Some(t)) => ManifestRef::Tag(t.clone()),
            (None, None) => ManifestRef::Tag("latest".to_string()),
        }
    }
}

/// How a request names a manifest: by tag or by digest, as a type (never guessed
/// from the text).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ManifestRef {
    /// A tag.
    Tag(String),
    /// A digest.
    Digest(Digest),
}

impl ManifestRef {
    /// The manifest tagged `tag`.
    pub fn tag(tag: impl Into<String>) -> ManifestRef {
        ManifestRef::Tag(tag.into())
    }

    /// The digest asked for, when it is one.
    pub fn digest(&self) -> Option<&Digest> {
        match self {
            ManifestRef::Digest(d) => Some(d),
            ManifestRef::Tag(_) => None,
        }
    }

    /// `:` before a tag, `@` before a digest, as references write them.
    pub fn separator(&self) -> char {
        match self {
            ManifestRef::Tag(_) => ':',
            ManifestRef::Digest(_) => '@',
        }
    }
}

impl From<&Digest> for ManifestRef {
    fn from(digest: &Digest) -> ManifestRef {
        ManifestRef::Digest(digest.clone())
    }
}

impl fmt::Display for ManifestRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManifestRef::Tag(t) => f.write_str(t),
            ManifestRef::Digest(d) => write!(f, "{d}"),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        if input.is_empty() {
            return Err(invalid(input, "it is empty"));
        }
        // An image reference has no scheme; say so, as for a registry address.
        if input.starts_with("http://") || input.starts_with("https://") {
            return Err(ReferenceError {
                hint: Some(Hint::DropScheme),
                ..invalid(input, "an image reference has no scheme")
            });
        }
        let (rest, digest) = match input.rsplit_once('@') {
            Some((rest, d)) => {
                let digest = d
                    .parse::<Digest>()
                    .map_err(|e| invalid(input, format!("digest `{d}`: {e}")))?;
                (rest, Some(digest))
            }
            None => (input, None),
        };
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => {
                let (name, tag) = rest.split_at(last_slash + i);
                (name, Some(&tag[1..]))
            }
            None => (rest, None),
        };
        if let Some(tag) = tag {
            check_tag(tag).map_err(|reason| invalid(input, reason))?;
        }
        if !names_registry(name)
            && name.len() == 64
            && name
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        {
            return Err(invalid(
                input,
                "64 hexadecimal characters are an image ID to docker, not a repository name; \
                 write the registry and repository (host/name)",
            ));
        }
        let (registry, repository) = split_registry(name).map_err(|r| invalid(input, r))?;
        Ok(Reference {
            registry,
            repository,
            tag: tag.map(str::to_string),
            digest,
        })
    }
}

/// What `regctl ls` lists: a whole registry, or the repositories under a prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryTarget {
    /// Registry host with optional `:port`.
    pub registry: String,
    /// Repository prefix (`team` matches `team` and `team/...`), if any.
    pub prefix: Option<String>,
}

impl RegistryTarget {
    /// True when `repository` is the prefix itself or lies under it.
    pub fn contains(&self, repository: &str) -> bool {
        match &self.prefix {
            None => true,
            Some(p) => {
                repository == p
                    || (repository.starts_with(p.as_str())
                        && repository.as_bytes().get(p.len()) == Some(&b'/'))
            }
        }
    }
}

impl FromStr for RegistryTarget {
    type Err = ReferenceError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        if input.starts_with("http://") {
            return Err(ReferenceError {
                hint: Some(Hint::DropScheme),
                ..invalid(input, "a registry address has no scheme")
            });
        }
        let trimmed = input.strip_prefix("https://").unwrap_or(input);
        let trimmed = trimmed.trim_end_matches('/');
        let (host, prefix) = match trimmed.split_once('/') {
            Some((h, p)) => (h, Some(p)),
            None => (trimmed, None),
        };
        check_domain(host).map_err(|r| invalid(input, r))?;
        if let Some(p) = prefix {
            if p.contains([':', '@']) {
                return Err(invalid(
                    input,
                    "a registry or a repository prefix is expected here (host/team), not a tag or digest",
                ));
            }
            check_path(p).map_err(|r| invalid(input, r))?;
        }
        Ok(RegistryTarget {
            registry: normalise_registry(host),
            prefix: prefix.map(str::to_string),
        })
    }
}

/// True when a repository name read from a registry follows the grammar (and so
/// is safe to put in a URL path).
pub fn valid_repository(name: &str) -> bool {
    name.len() <= MAX_NAME_LEN && check_path(name).is_ok()
}

/// True when a tag read from a registry follows the grammar.
pub fn valid_tag(tag: &str) -> bool {
    check_tag(tag).is_ok()
}

/// True when `input` starts with a registry host (`host.tld/…`, `host:port/…`,
/// `localhost/…`); false when docker would read it as a Docker Hub name.
pub fn names_registry(input: &str) -> bool {
    input.split_once('/').is_some_and(|(first, _)| {
        first.contains(['.', ':'])
            || first == "localhost"
            || first.chars().any(|c| c.is_ascii_uppercase())
    })
}

/// The config key docker uses for a registry's credentials.
pub fn credential_key(registry: &str) -> String {
    if registry == DOCKER_HUB_REGISTRY {
        DOCKER_HUB_CONFIG_KEY.to_string()
    } else {
        // Host names know no case: one key however the user wrote it.
        registry.to_ascii_lowercase()
    }
}

fn normalise_registry(host: &str) -> String {
    match host {
        "docker.io" | "index.docker.io" => DOCKER_HUB_REGISTRY.to_string(),
        other => other.to_string(),
    }
}

/// Splits `name` into registry and repository the way docker does: the first
/// component is a registry if it has a `.` or `:`, is `localhost`, or has capitals.
fn split_registry(name: &str) -> Result<(String, String), String> {
    let (registry, path) = match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            check_domain(first)?;
            (normalise_registry(first), rest.to_string())
        }
        _ => (DOCKER_HUB_REGISTRY.to_string(), name.to_string()),
    };
    check_path(&path)?;
    let path = if registry == DOCKER_HUB_REGISTRY && !path.contains('/') {
        format!("library/{path}")
    } else {
        path
    };
    if registry.len() + 1 + path.len() > MAX_NAME_LEN {
        return Err(format!("the name is longer than {MAX_NAME_LEN} characters"));
    }
    Ok((registry, path))
}

fn check_tag(tag: &str) -> Result<(), String> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut chars = tag.chars();
    let first_ok = chars.next().is_some_and(word);
    if !first_ok || !chars.all(|c| word(c) || c == '.' || c == '-') || tag.len() > MAX_TAG_LEN {
        return Err(format!(
            "tag `{tag}` must be 1 to {MAX_TAG_LEN} of [A-Za-z0-9_.-], not starting with `.` or `-`"
        ));
    }
    Ok(())
}

fn check_domain(host: &str) -> Result<(), String> {
    let bad = || format!("registry `{host}` is not a valid host[:port]");
    if host.is_empty() {
        return Err(bad());
    }
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        let (addr, after) = rest.split_once(']').ok_or_else(bad)?;
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(bad());
        }
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or_else(bad)?),
        };
        (None, port)
    } else {
        match host.split_once(':') {
            Some((n, p)) => (Some(n), Some(p)),
            None => (Some(host), None),
        }
    };
    if let Some(port) = port {
        if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("port `{port}` in `{host}` is not a number"));
        }
        if port.parse::<u32>().map_or(true, |p| p == 0 || p > 65_535) {
            return Err(format!("port `{port}` in `{host}` is not one (1 to 65535)"));
        }
    }
    if let Some(name) = name {
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if !name.split('.').all(label_ok) {
            return Err(bad());
        }
    }
    Ok(())
}

fn check_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("the repository name is empty".to_string());
    }
    for component in path.split('/') {
        if !path_component_ok(component) {
            return Err(format!(
                "repository component `{component}` must be letters and digits, separated \
                 by `.`, `_`, `__` or dashes"
            ));
        }
    }
    Ok(())
}

/// `[a-zA-Z0-9]+(?:(?:[._]|__|[-]*)[a-zA-Z0-9]+)*`: the distribution grammar,
/// with upper-case letters too. The grammar wants lower case, but a registry may
/// hold (and its catalog list) a name with capitals; such a name is still safe
/// in a URL path, so it can be listed and addressed as the registry serves it.
fn path_component_ok(c: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_alphanumeric();
    let bytes = c.as_bytes();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Reference {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn private_registry_references() {
        let r = parse("127.0.0.1:5000/team/app:v1");
        assert_eq!(r.registry(), "127.0.0.1:5000");
        assert_eq!(r.repository(), "team/app");
        assert_eq!(r.tag(), Some("v1"));
        assert_eq!(r.manifest_reference(), ManifestRef::tag("v1"));
        let d = "sha256:60f2883fbfca71ff7740a6eca7bd8bd466988031dcf55093bb8ff2b26f2c5479";
        let r = parse(&format!("localhost/app@{d}"));
        assert_eq!(r.registry(), "localhost");
        assert_eq!(r.tag(), None);
        assert_eq!(
            r.manifest_reference(),
            ManifestRef::Digest(d.parse().unwrap())
        );
        assert_eq!(r.manifest_reference().to_string(), d);
        let r = parse(&format!("[::1]:5000/a/b:t@{d}"));
        assert_eq!(r.registry(), "[::1]:5000");
        assert_eq!(r.to_string(), format!("[::1]:5000/a/b:t@{d}"));
    }

    #[test]
    fn docker_hub_names_normalise() {
        for s in [
            "ubuntu",
            "library/ubuntu",
            "docker.io/ubuntu",
            "index.docker.io/library/ubuntu",
        ] {
            let r = parse(s);
            assert_eq!(r.registry(), DOCKER_HUB_REGISTRY, "{s}");
            assert_eq!(r.repository(), "library/ubuntu", "{s}");
            assert_eq!(r.manifest_reference(), ManifestRef::tag("latest"));
        }
        assert_eq!(credential_key(DOCKER_HUB_REGISTRY), DOCKER_HUB_CONFIG_KEY);
        assert_eq!(parse("bitnami/redis").repository(), "bitnami/redis");
        assert!(!names_registry("ubuntu") && !names_registry("bitnami/redis"));
        assert!(
            names_registry("docker.io/ubuntu")
                && names_registry("localhost/a")
                && names_registry("h:5000/a")
        );
    }

    #[test]
    fn malformed_references_name_the_bad_part() {
        let cases = [
            ("", "empty"),
            ("host:5000/Ap..p:v1", "`Ap..p`"),
            ("host:5000/app:-v1", "tag `-v1`"),
            ("host:5000/app@sha256:abc", "digest"),
            ("host:port/app", "port `port`"),
            ("host:5000/a//b", "component ``"),
            ("host:5000/a-/b", "`a-`"),
            ("bad_host.com/a", "registry `bad_host.com`"),
        ];
        for (input, part) in cases {
            let err = input.parse::<Reference>().unwrap_err();
            assert!(err.to_string().contains(part), "{input}: {err}");
        }
        for input in ["http://h:5000/app:v1", "https://h:5000/app:v1"] {
            let err = input.parse::<Reference>().unwrap_err();
            assert!(err.to_string().contains("no scheme"), "{input}: {err}");
        }
        for input in ["h:65536/app:v1", "h:99999/app", "h:0/app"] {
            let err = input.parse::<Reference>().unwrap_err();
            assert!(err.to_string().contains("1 to 65535"), "{input}: {err}");
        }
        assert!("h:65535/app:v1".parse::<Reference>().is_ok());
        let long_tag = format!("h:1/a:{}", "t".repeat(129));
        assert!(long_tag.parse::<Reference>().is_err());
    }

    #[test]
    fn path_components_follow_the_grammar() {
        for ok in ["a", "a.b", "a_b", "a__b", "a---b", "0x"] {
            assert!(path_component_ok(ok), "{ok}");
        }
        // Capitals are allowed: a registry may hold such a name.
        assert!(path_component_ok("cA"));
        for bad in ["", "a..b", "a___b", "_a", "a.", "a-_b", "a b", "a%2f"] {
            assert!(!path_component_ok(bad), "{bad}");
        }
    }

    #[test]
    fn registry_targets() {
        let t: RegistryTarget = "https://127.0.0.1:5000/team/".parse().unwrap();
        assert_eq!(t.registry, "127.0.0.1:5000");
        assert_eq!(t.prefix.as_deref(), Some("team"));
        assert!(t.contains("team"));
        assert!(t.contains("team/app"));
        assert!(!t.contains("teamster"));
        assert!("http://h:1".parse::<RegistryTarget>().is_err());
        let all: RegistryTarget = "localhost:5000".parse().unwrap();
        assert!(all.contains("anything"));
    }
}
