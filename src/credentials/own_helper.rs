//! `docker-credential-regctl`: docker's credential-helper protocol
//! (`get`, `store`, `erase`, `list`) over the keyring logins of `regctl login`,
//! so that docker and skopeo, told by `credHelpers` to ask it, see the same
//! login regctl does while the password stays in the OS keyring.
//!
//! The protocol: `get` and `erase` read a server URL on stdin; `store` reads
//! `{"ServerURL", "Username", "Secret"}`; `get` prints that JSON, `list` prints
//! `{server: username}`. A failure is a message on stdout and exit status 1;
//! a missing credential is the message [`NOT_FOUND`]. Nothing here prints: the
//! binary writes what [`answer`] returns.

use std::path::Path;
use std::time::Duration;

use super::{keyring, CredentialError, Secret};
use crate::registry::reference::{credential_key, DOCKER_HUB_REGISTRY};

/// The helper's name in docker's config (`docker-credential-regctl`).
pub const NAME: &str = "regctl";

/// What docker's helpers answer for a credential they do not hold; docker and
/// skopeo match this text.
pub const NOT_FOUND: &str = "credentials not found in native keychain";

/// The most the helper reads on stdin: a server URL or a small JSON object.
pub const MAX_INPUT: usize = 64 * 1024;

/// How long a keyring call may take before the helper gives up.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// A protocol action, the helper's only argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Print the credential for a server URL.
    Get,
    /// Store a credential.
    Store,
    /// Erase the credential for a server URL.
    Erase,
    /// Print every server and its user name.
    List,
    /// Print the helper's version.
    Version,
}

impl Action {
    /// The action named `arg`, if the protocol has one of that name.
    pub fn parse(arg: &str) -> Option<Action> {
        Some(match arg {
            "get" => Action::Get,
            "store" => Action::Store,
            "erase" => Action::Erase,
            "list" => Action::List,
            "version" => Action::Version,
            _ => None?,
        })
    }
}

/// Why the helper failed; its `Display` is what it prints (never a secret, never its input).
#[derive(Debug, thiserror::Error)]
pub enum HelperError {
    /// No credential is stored for the server.
    #[error("{NOT_FOUND}")]
    NotFound,
    /// The input is not what the action reads.
    #[error("{0}")]
    Input(String),
    /// The keyring or regctl's config failed.
    #[error("{0}")]
    Credentials(#[from] CredentialError),
}

/// The keyring key for a server URL as docker and skopeo pass it:
/// `host[:port]`, perhaps with `https://` and a path; Docker Hub's names all
/// become its one key.
pub fn key_for(server_url: &str) -> String {
    let url = server_url.trim();
    let host = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    let host = host.split('/').next().unwrap_or(host).to_ascii_lowercase();
    match host.as_str() {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => {
            credential_key(DOCKER_HUB_REGISTRY)
        }
        _ => credential_key(&host),
    }
}

/// What `docker-credential-regctl ACTION` answers to `input`, with regctl's
/// config at `config` (`None`: no folder for it). The answer holds the secret
/// for `get`: it is for stdout only.
pub fn answer(action: Action, input: &[u8], config: Option<&Path>) -> Result<Secret, HelperError> {
    if input.len() > MAX_INPUT {
        return Err(HelperError::Input(format!(
            "the input is longer than {MAX_INPUT} bytes; nothing was done"
        )));
    }
    let text = || {
        std::str::from_utf8(input)
            .map_err(|_| HelperError::Input("the input is not UTF-8 text; nothing was done".into()))
    };
    let config = || {
        config.ok_or_else(|| {
            HelperError::Input(
                "no folder for regctl's config (HOME is not set), where keyring logins are recorded".into(),
            )
        })
    };
    match action {
        Action::Version => Ok(Secret::new(format!(
            "docker-credential-regctl {}\n",
            env!("CARGO_PKG_VERSION")
        ))),
        Action::Get => get(config()?, &key_for(text()?)),
        Action::Store => store(config()?, text()?),
        Action::Erase => erase(config()?, &key_for(text()?)),
        Action::List => list(config()?),
    }
}

fn get(config: &Path, key: &str) -> Result<Secret, HelperError> {
    if key.is_empty() {
        return Err(HelperError::NotFound);
    }
    let Some(username) = keyring::recorded_user(config, key)? else {
        return Err(HelperError::NotFound);
    };
    let Some(password) = keyring::get(key, TIMEOUT)? else {
        return Err(HelperError::NotFound);
    };
    let out = serde_json::json!({
        "ServerURL": key,
        "Username": username,
        "Secret": password.expose(),
    });
    Ok(Secret::new(out.to_string()))
}

fn store(config: &Path, input: &str) -> Result<Secret, HelperError> {
    #[derive(serde::Deserialize)]
    struct Input {
        #[serde(rename = "ServerURL")]
        server_url: String,
        #[serde(rename = "Username")]
        username: String,
        #[serde(rename = "Secret")]
        secret: String,
    }
    // serde's message may quote the input: only its position is told.
    let input: Input = serde_json::from_str(input).map_err(|e| {
        HelperError::Input(format!(
            "the input is not {{\"ServerURL\", \"Username\", \"Secret\"}} JSON (line {} column {}); nothing was stored",
            e.line(),
            e.column()
        ))
    })?;
    let secret = Secret::new(input.secret);
    let key = key_for(&input.server_url);
    if key.is_empty() || input.username.is_empty() {
        return Err(HelperError::Input(
            "the input has an empty ServerURL or Username; nothing was stored".into(),
        ));
    }
    keyring::set(&key, &secret, TIMEOUT)?;
    // Where regctl login named this helper stays recorded.
    let helper_named_in = keyring::recorded(config, &key)
        .ok()
        .flatten()
        .and_then(|r| r.helper_named_in);
    let record = keyring::Record {
        username: input.username,
        helper_named_in,
    };
    keyring::record(config, &key, &record, TIMEOUT)?;
    Ok(Secret::new(""))
}

fn erase(config: &Path, key: &str) -> Result<Secret, HelperError> {
    // Only a login regctl recorded is erased: the keyring is not asked otherwise.
    if key.is_empty() || keyring::recorded(config, key)?.is_none() {
        return Err(HelperError::NotFound);
    }
    keyring::delete(key, TIMEOUT)?;
    keyring::forget(config, key, TIMEOUT)?;
    Ok(Secret::new(""))
}

fn list(config: &Path) -> Result<Secret, HelperError> {
    let all: serde_json::Map<String, serde_json::Value> = keyring::all_recorded(config)?
        .into_iter()
        .map(|(key, user)| (key, user.into()))
        .collect();
    Ok(Secret::new(serde_json::Value::Object(all).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_become_the_keys_login_uses() {
        assert_eq!(key_for("Reg.Example:5000"), "reg.example:5000");
        assert_eq!(
            key_for("https://reg.example:5000/v1/\n"),
            "reg.example:5000"
        );
        assert_eq!(
            key_for("https://index.docker.io/v1/"),
            credential_key(DOCKER_HUB_REGISTRY)
        );
        assert_eq!(key_for("docker.io"), credential_key(DOCKER_HUB_REGISTRY));
    }

    #[test]
    fn bad_input_is_refused_without_quoting_it() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.json");
        let big = vec![b'a'; MAX_INPUT + 1];
        let err = answer(Action::Get, &big, Some(&config)).unwrap_err();
        assert!(err.to_string().contains("longer than"), "{err}");
        let err = answer(
            Action::Store,
            br#"{"ServerURL": "h", "Username": "u", "Secret": hunter2-secret}"#,
            Some(&config),
        )
        .unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(!config.exists());
        // Nothing recorded: not found, without asking the keyring.
        let err = answer(Action::Get, b"reg.example", Some(&config)).unwrap_err();
        assert_eq!(err.to_string(), NOT_FOUND);
        assert_eq!(
            answer(Action::List, b"", Some(&config)).unwrap().expose(),
            "{}"
        );
        assert_eq!(Action::parse("get"), Some(Action::Get));
        assert_eq!(Action::parse("nope"), None);
    }
}
