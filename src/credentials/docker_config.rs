//! Docker's `config.json`: `credHelpers`, `credsStore` and `auths`, read with the
//! docker CLI's precedence.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Deserialize;
use serde_json::Value;

use super::{Credential, CredentialError, Secret};

/// The parts of docker's config that hold credentials. Entries are kept as JSON
/// and checked when looked up: a malformed entry for one registry does not break
/// lookups for the others, and an error names the field, never its value (the
/// value may be a secret).
#[derive(Debug, Default, Deserialize)]
pub struct DockerConfig {
    #[serde(default)]
    auths: Option<Value>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: Option<Value>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<Value>,
}

#[derive(Debug, Default)]
struct AuthEntry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<Secret>,
    identitytoken: Option<Secret>,
}

impl AuthEntry {
    /// The entry's fields; an error names the field that is not a string.
    fn from_value(value: &Value) -> Result<Self, String> {
        let Value::Object(map) = value else {
            return Err("the entry is not a JSON object".into());
        };
        let field = |name: &str| match map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("`{name}` is not a string")),
        };
        Ok(AuthEntry {
            auth: field("auth")?,
            username: field("username")?,
            password: field("password")?.map(Secret::new),
            identitytoken: field("identitytoken")?.map(Secret::new),
        })
    }
}

/// Where the credentials for a registry are to be found, per the config.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Ask `docker-credential-<name>`, named for this registry in `credHelpers`.
    Helper(String),
    /// Ask `docker-credential-<name>`, the default store (`credsStore`).
    Store(String),
    /// Stored inline in `auths`.
    Inline(Credential),
    /// Nothing configured: anonymous.
    None,
}

/// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn default_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".docker").join("config.json"))
}

impl DockerConfig {
    /// Reads the config at `path`; a missing file is an empty config, a file that is
    /// not valid JSON is an error naming the file and line.
    pub fn load(path: &Path) -> Result<Self, CredentialError> {
        let text = match crate::file::read_text(path) {
            Ok(t) => t,
            Err(e) if e.is_not_found() => return Ok(Self::default()),
            Err(e) => {
                return Err(CredentialError::Config {
                    path: path.to_path_buf(),
                    detail: e.to_string(),
                })
            }
        };
        if text.trim().is_empty() {
            // docker reads an empty file as an empty config.
            return Ok(Self::default());
        }
        Self::parse(&text).map_err(|e| CredentialError::Config {
            path: path.to_path_buf(),
            // A type error would quote the value, which may be a secret.
            detail: match e.classify() {
                serde_json::error::Category::Data => {
                    "it is not a JSON object (or a credential field is not one)".into()
                }
                _ => format!("line {} column {}: not valid JSON", e.line(), e.column()),
            },
        })
    }

    /// Parses config text.
    pub fn parse(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The credential helper docker's config names for `key`: `credHelpers[host]`
    /// ([`Lookup::Helper`]), else the default store `credsStore` ([`Lookup::Store`]).
    pub fn helper_for(&self, key: &str) -> Result<Option<Lookup>, String> {
        let wanted = normalise_key(key);
        let helpers = object(self.cred_helpers.as_ref(), "credHelpers")?;
        if let Some((_, helper)) = helpers.iter().find(|(k, _)| normalise_key(k) == wanted) {
            let Value::String(helper) = helper else {
                return Err("its `credHelpers` value is not a string".into());
            };
            super::helper::check_name(helper)
                .map_err(|why| format!("its `credHelpers` value {why}"))?;
            return Ok(Some(Lookup::Helper(helper.clone())));
        }
        match &self.creds_store {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(store)) if store.is_empty() => Ok(None),
            Some(Value::String(store)) => {
                super::helper::check_name(store).map_err(|why| format!("`credsStore`: {why}"))?;
                Ok(Some(Lookup::Store(store.clone())))
            }
            Some(_) => Err("`credsStore` is not a string".into()),
        }
    }

    /// Docker's precedence for the registry whose config key is `key`:
    /// `credHelpers[host]`, then `credsStore`, then `auths[host]`.
    pub fn lookup(&self, key: &str) -> Result<Lookup, String> {
        if let Some(helper) = self.helper_for(key)? {
            return Ok(helper);
        }
        let wanted = normalise_key(key);
        // Prefer an exact key, then any key that normalises to the same host.
        let auths = object(self.auths.as_ref(), "auths")?;
        let entry = auths.get(key).or_else(|| {
            auths
                .iter()
                .find(|(k, _)| normalise_key(k) == wanted)
                .map(|(_, v)| v)
        });
        match entry {
            Some(entry) => AuthEntry::from_value(entry)?
                .credential()
                .map(|c| c.map_or(Lookup::None, Lookup::Inline)),
            None => Ok(Lookup::None),
        }
    }
}

/// The map at `field`, or an empty one when it is absent.
fn object<'a>(
    value: Option<&'a Value>,
    field: &str,
) -> Result<std::borrow::Cow<'a, serde_json::Map<String, Value>>, String> {
    match value {
        None | Some(Value::Null) => Ok(std::borrow::Cow::Owned(serde_json::Map::new())),
        Some(Value::Object(map)) => Ok(std::borrow::Cow::Borrowed(map)),
        Some(_) => Err(format!("`{field}` is not a JSON object")),
    }
}

impl AuthEntry {
    fn credential(&self) -> Result<Option<Credential>, String> {
        let (mut username, mut password) = (self.username.clone(), self.password.clone());
        if let Some(auth) = self.auth.as_deref().filter(|a| !a.is_empty()) {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .map_err(|_| "`auth` is not valid base64".to_string())?;
            let decoded = String::from_utf8(decoded)
                .map_err(|_| "`auth` does not decode to text".to_string())?;
            let (u, p) = decoded
                .split_once(':')
                .ok_or_else(|| "`auth` does not decode to user:password".to_string())?;
            username = Some(u.to_string());
            password = Some(Secret::new(p));
        }
        if let Some(token) = self.identitytoken.as_ref().filter(|t| !t.is_empty()) {
            return Ok(Some(Credential::IdentityToken {
                username: username.unwrap_or_default(),
                token: token.clone(),
                password: password.filter(|p| !p.is_empty()),
            }));
        }
        match (username, password) {
            (Some(username), Some(password)) if !username.is_empty() => {
                Ok(Some(Credential::Basic { username, password }))
            }
            _ => Ok(None),
        }
    }
}

/// Whether `stored`, a key of `auths` or `credHelpers`, names the registry whose key is `key`.
pub fn same_registry(stored: &str, key: &str) -> bool {
    normalise_key(stored) == normalise_key(key)
}

/// `https://host:port/v1/` and `host:port/` both become `host:port`.
fn normalise_key(key: &str) -> String {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    key.split('/').next().unwrap_or(key).to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(u: &str, p: &str) -> Lookup {
        Lookup::Inline(Credential::Basic {
            username: u.into(),
            password: Secret::new(p),
        })
    }

    #[test]
    fn auths_match_with_or_without_scheme_and_suffix() {
        // dGVzdHVzZXI6dGVzdHBhc3N3b3Jk = testuser:testpassword
        let cfg = DockerConfig::parse(
            r#"{"auths":{
                "https://reg.example:5000/v1/":{"auth":"dGVzdHVzZXI6dGVzdHBhc3N3b3Jk"},
                "other.example/":{"username":"u","password":"p"},
                "tok.example":{"auth":"dTo=","identitytoken":"refresh"},
                "both.example":{"auth":"dGVzdHVzZXI6dGVzdHBhc3N3b3Jk","identitytoken":"refresh"},
                "empty.example":{}
            }}"#,
        )
        .unwrap();
        assert_eq!(
            cfg.lookup("reg.example:5000").unwrap(),
            basic("testuser", "testpassword")
        );
        assert_eq!(cfg.lookup("other.example").unwrap(), basic("u", "p"));
        assert_eq!(
            cfg.lookup("tok.example").unwrap(),
            Lookup::Inline(Credential::IdentityToken {
                username: "u".into(),
                token: Secret::new("refresh"),
                password: None,
            })
        );
        assert_eq!(
            cfg.lookup("both.example").unwrap(),
            Lookup::Inline(Credential::IdentityToken {
                username: "testuser".into(),
                token: Secret::new("refresh"),
                password: Some(Secret::new("testpassword")),
            })
        );
        assert_eq!(cfg.lookup("empty.example").unwrap(), Lookup::None);
        assert_eq!(cfg.lookup("unknown.example").unwrap(), Lookup::None);
    }

    #[test]
    fn helpers_take_precedence() {
        let cfg = DockerConfig::parse(
            r#"{"auths":{"a.example":{"username":"u","password":"p"}},
                "credHelpers":{"https://a.example":"pass"},
                "credsStore":"secretservice"}"#,
        )
        .unwrap();
        assert_eq!(
            cfg.lookup("a.example").unwrap(),
            Lookup::Helper("pass".into())
        );
        assert_eq!(
            cfg.lookup("b.example").unwrap(),
            Lookup::Store("secretservice".into())
        );
    }

    #[test]
    fn a_helper_name_that_would_be_a_path_is_an_error() {
        for name in [
            "../../x/evil",
            "a/b",
            "a\\\\b",
            ".hidden",
            "..",
            "e\\u001bvil",
        ] {
            let cfg = DockerConfig::parse(&format!(r#"{{"credsStore": "{name}"}}"#)).unwrap();
            let err = cfg.lookup("a.example").unwrap_err();
            assert!(err.contains("not a helper name"), "{name}: {err}");
            assert!(!err.contains('\u{1b}'), "{err}");
            let cfg =
                DockerConfig::parse(&format!(r#"{{"credHelpers": {{"a.example": "{name}"}}}}"#))
                    .unwrap();
            assert!(cfg.helper_for("a.example").is_err(), "{name}");
        }
        let cfg = DockerConfig::parse(r#"{"credsStore": "desktop.exe"}"#).unwrap();
        assert_eq!(
            cfg.lookup("a").unwrap(),
            Lookup::Store("desktop.exe".into())
        );
    }

    #[test]
    fn bad_auth_field_is_an_error() {
        let cfg = DockerConfig::parse(r#"{"auths":{"a":{"auth":"!!"}}}"#).unwrap();
        assert!(cfg.lookup("a").unwrap_err().contains("base64"));
    }

    #[test]
    fn a_malformed_entry_names_the_field_not_the_value_and_spares_the_others() {
        let cfg = DockerConfig::parse(
            r#"{"auths":{"bad.example":{"username":"u","password":["hunter2-secret"]},
                         "good.example":{"username":"u","password":"p"}},
                "credHelpers":{"odd.example":{"x":"hunter2-secret"}}}"#,
        )
        .unwrap();
        let err = cfg.lookup("bad.example").unwrap_err();
        assert!(err.contains("`password` is not a string"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        let err = cfg.lookup("odd.example").unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
        assert_eq!(cfg.lookup("good.example").unwrap(), basic("u", "p"));
    }

    #[test]
    fn invalid_json_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, "{\n  \"auths\": {,\n}").unwrap();
        let err = DockerConfig::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("config.json") && err.contains("line 2"),
            "{err}"
        );
        assert!(DockerConfig::load(&dir.path().join("missing.json")).is_ok());
    }
}
