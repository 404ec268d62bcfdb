//! Where `regctl login` stores a credential and `regctl logout` erases it: where
//! docker looks first (its credential helper for the registry, else its default
//! store), else the OS keyring, else docker's config `auths`.

use std::fmt;
use std::path::PathBuf;

use super::docker_config::{same_registry, DockerConfig, Lookup};
use super::{helper, json_file, keyring, CredentialError, Resolver, Secret};
use crate::registry::reference::credential_key;

/// A store `regctl login --store` can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreChoice {
    /// The credential helper docker's config names (credHelpers, else credsStore).
    Helper,
    /// The OS keyring, recorded in regctl's config.
    Keyring,
    /// docker's config `auths`, base64-encoded.
    Config,
}

/// A place a credential was stored in or erased from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// `docker-credential-<name>`, named by `credHelpers` or `credsStore`.
    Helper {
        /// The helper's name.
        name: String,
        /// The config field that names it.
        named_by: &'static str,
    },
    /// The OS keyring, with the record in regctl's config.
    Keyring {
        /// regctl's config file.
        record: PathBuf,
    },
    /// docker's config file, `auths`.
    Config {
        /// The file.
        path: PathBuf,
    },
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Helper { name, named_by } => write!(
                f,
                "docker-credential-{} (docker's {named_by})",
                crate::text::escape(name)
            ),
            Place::Keyring { record } => {
                write!(f, "the OS keyring (recorded in {})", record.display())
            }
            Place::Config { path } => write!(f, "{} (auths)", path.display()),
        }
    }
}

/// What a store did: where, and what the user should know.
#[derive(Debug)]
pub struct Stored {
    /// Where the credential went.
    pub place: Place,
    /// Warnings and notes for the user.
    pub notes: Vec<String>,
}

/// What a logout did: where the credential was erased, what failed, what to know.
#[derive(Debug, Default)]
pub struct Erased {
    /// Where it was erased.
    pub places: Vec<Place>,
    /// Places that could not be read or changed (the others were still tried).
    pub failures: Vec<CredentialError>,
    /// Notes for the user.
    pub notes: Vec<String>,
}

impl Resolver {
    /// Stores `username`/`password` for `registry` in `choice`, or where docker
    /// looks first: its helper for the registry, its default store, else the OS
    /// keyring, else its config's `auths` (with a warning).
    pub fn store(
        &self,
        registry: &str,
        username: &str,
        password: &Secret,
        choice: Option<StoreChoice>,
    ) -> Result<Stored, CredentialError> {
        let key = credential_key(registry);
        let config = self.load_docker_config()?;
        let helper = match &config {
            Some((path, config)) => named_helper(path, config, &key)?,
            None => None,
        };
        let mut notes = Vec::new();
        let place = match (choice, helper) {
            (Some(StoreChoice::Helper) | None, Some((name, named_by))) => {
                match helper::store(&name, &key, username, password, &self.helper_bounds()) {
                    Err(CredentialError::HelperMissing { helper }) => {
                        return Err(CredentialError::Incomplete(format!(
                            "docker's config names docker-credential-{helper} ({named_by}), which is not \
                             installed (not on PATH): install it, or choose --store keyring or --store config"
                        )))
                    }
                    other => other?,
                }
                Place::Helper { name, named_by }
            }
            (Some(StoreChoice::Helper), None) => {
                return Err(CredentialError::NoHelperConfigured { key })
            }
            (Some(StoreChoice::Keyring), _) => self.store_in_keyring(&key, username, password)?,
            (Some(StoreChoice::Config), helper) => {
                if let Some((name, named_by)) = helper {
                    notes.push(format!(
                        "docker's config names docker-credential-{} ({named_by}) for {key}, which docker, \
                         skopeo and regctl ask before auths: the entry stored now is not used while it does",
                        crate::text::escape(&name)
                    ));
                }
                self.store_in_config(&key, username, password, &mut notes)?
            }
            // Only a keyring that is not there makes way for the config: one that
            // is locked is the user's to unlock (a password stored in plain base64
            // is never a silent fall-back), and one that failed otherwise (no
            // answer in time) may still have stored it.
            (None, None) => match self.store_in_keyring(&key, username, password) {
                Ok(place) => place,
                Err(e @ CredentialError::KeyringUnavailable(_)) => {
                    notes.push(format!("{e}; storing in docker's config instead"));
                    self.store_in_config(&key, username, password, &mut notes)?
                }
                Err(CredentialError::KeyringLocked(why)) => {
                    return Err(CredentialError::KeyringLocked(format!(
                        "{why} or choose --store config (docker's config, the password only base64-encoded)"
                    )))
                }
                Err(e) => return Err(e),
            },
        };
        // A keyring login of regctl's is read before docker's config: one left
        // from before would hide the new login.
        if !matches!(place, Place::Keyring { .. }) {
            match self.erase_keyring(&key) {
                Ok(Some(erased)) => notes.push(format!("removed the earlier login from {erased}")),
                Ok(None) => {}
                Err(e) => notes.push(format!(
                    "the earlier login in the OS keyring stays ({e}); regctl reads it first, so \
                     run `regctl logout {key}` once the keyring is available, then log in again"
                )),
            }
        } else if let Some((path, config)) = &config {
            if matches!(config.lookup(&key), Ok(Lookup::Inline(_))) {
                notes.push(format!(
                    "{} also holds a credential for {key} (auths): regctl now uses the keyring's, \
                     docker and skopeo that one; `regctl logout {key}` removes both",
                    path.display()
                ));
            }
        }
        Ok(Stored { place, notes })
    }

    /// Erases the credential for `registry` from every place it is stored:
    /// regctl's keyring login, docker's credential helper, docker's `auths`.
    /// Every place is tried, whatever became of the others.
    pub fn erase(&self, registry: &str) -> Erased {
        let key = credential_key(registry);
        let mut done = Erased::default();
        match self.erase_keyring(&key) {
            Ok(place) => done.places.extend(place),
            Err(e) => done.failures.push(e),
        }
        let (path, config) = match self.load_docker_config() {
            Ok(Some(found)) => found,
            Ok(None) => return done,
            Err(e) => {
                done.failures.push(e);
                return done;
            }
        };
        match named_helper(&path, &config, &key) {
            Ok(Some((name, named_by))) => match helper::erase(&name, &key, &self.helper_bounds()) {
                Ok(true) => done.places.push(Place::Helper { name, named_by }),
                Ok(false) => {}
                // A default store copied from Docker Desktop, not installed here.
                Err(CredentialError::HelperMissing { helper }) if named_by == "credsStore" => {
                    done.notes.push(format!(
                        "docker's default credential store docker-credential-{helper} is not installed; nothing was asked of it"
                    ))
                }
                Err(e) => done.failures.push(e),
            },
            Ok(None) => {}
            Err(e) => done.failures.push(e),
        }
        let removed = json_file::edit_object(&path, "auths", |auths| {
            let before = auths.len();
            auths.retain(|stored, _| !same_registry(stored, &key));
            Ok(auths.len() != before)
        });
        match removed {
            Ok(true) => done.places.push(Place::Config { path }),
            Ok(false) => {}
            Err(e) => done.failures.push(e),
        }
        done
    }

    fn load_docker_config(&self) -> Result<Option<(PathBuf, DockerConfig)>, CredentialError> {
        match &self.docker_config {
            Some(path) => Ok(Some((path.clone(), DockerConfig::load(path)?))),
            None => Ok(None),
        }
    }

    fn store_in_keyring(
        &self,
        key: &str,
        username: &str,
        password: &Secret,
    ) -> Result<Place, CredentialError> {
        let Some(record) = &self.regctl_config else {
            return Err(CredentialError::KeyringUnavailable(
                "cannot use the OS keyring: no folder for regctl's config (HOME is not set)".into(),
            ));
        };
        keyring::set(key, password, self.timeout())?;
        keyring::record(record, key, username)?;
        Ok(Place::Keyring {
            record: record.clone(),
        })
    }

    fn store_in_config(
        &self,
        key: &str,
        username: &str,
        password: &Secret,
        notes: &mut Vec<String>,
    ) -> Result<Place, CredentialError> {
        let Some(path) = &self.docker_config else {
            return Err(CredentialError::Incomplete(
                "no docker config to store in: set DOCKER_CONFIG or HOME".into(),
            ));
        };
        let auth = crate::registry::credential::basic_auth(username, password)
            .expose()
            .to_string();
        json_file::edit_object(path, "auths", |auths| {
            // The entry under the registry's own key, else the first that names
            // it, keeps the fields regctl does not know; every other entry naming
            // the registry goes, as docker would read one of them instead.
            let mut entry = match auths
                .get(key)
                .or_else(|| auths.iter().find(|(k, _)| same_registry(k, key)).map(|(_, v)| v))
            {
                Some(raw) => serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(raw.get())
                    .map_err(|_| format!("the `auths` entry for {key} is not a JSON object; the file is left as it is"))?,
                None => serde_json::Map::new(),
            };
            // The old credential goes; fields regctl does not know stay.
            for field in [
                "auth",
                "username",
                "password",
                "identitytoken",
                "registrytoken",
            ] {
                entry.remove(field);
            }
            entry.insert("auth".into(), auth.into());
            let raw = json_file::raw_of(&serde_json::Value::Object(entry))?;
            match auths.get_mut(key) {
                Some(slot) => *slot = raw,
                None => {
                    auths.insert(key.to_string(), raw);
                }
            }
            auths.retain(|k, _| k == key || !same_registry(k, key));
            Ok(true)
        })?;
        notes.push(format!(
            "the password is stored in {} only base64-encoded, readable by anyone who can read the file; \
             a credential helper (docker's credsStore) or the OS keyring keeps it safer",
            path.display()
        ));
        Ok(Place::Config { path: path.clone() })
    }

    /// Removes regctl's keyring login for `key` (entry and record), if there is one.
    fn erase_keyring(&self, key: &str) -> Result<Option<Place>, CredentialError> {
        let Some(record) = &self.regctl_config else {
            return Ok(None);
        };
        if keyring::recorded_user(record, key)?.is_none() {
            return Ok(None);
        }
        keyring::delete(key, self.timeout())?;
        keyring::forget(record, key)?;
        Ok(Some(Place::Keyring {
            record: record.clone(),
        }))
    }
}

/// The helper docker's config names for `key`, and the field that names it.
fn named_helper(
    path: &std::path::Path,
    config: &DockerConfig,
    key: &str,
) -> Result<Option<(String, &'static str)>, CredentialError> {
    let lookup = config
        .helper_for(key)
        .map_err(|detail| config_error(path, key, detail))?;
    Ok(match lookup {
        Some(Lookup::Helper(name)) => Some((name, "credHelpers")),
        Some(Lookup::Store(name)) => Some((name, "credsStore")),
        _ => None,
    })
}

fn config_error(path: &std::path::Path, key: &str, detail: String) -> CredentialError {
    CredentialError::Config {
        path: path.to_path_buf(),
        detail: format!("entry for {key}: {detail}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolver(docker_config: &std::path::Path) -> Resolver {
        Resolver::new(None, None, None, None, Some(docker_config.to_path_buf())).unwrap()
    }

    fn found(r: &Resolver, registry: &str) -> Option<String> {
        match r.resolve(registry, &mut Vec::new()).unwrap()?.credential {
            crate::registry::Credential::Basic { username, .. } => Some(username),
            crate::registry::Credential::IdentityToken { username, .. } => Some(username),
        }
    }

    #[test]
    fn a_login_replaces_every_entry_naming_the_registry_whatever_its_case() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"auths": {"https://reg.example:5000/v1/": {"auth": "b2xkOm9sZA==", "email": "e"},
                          "reg.example:5000": {"auth": "b2xkOm9sZA=="},
                          "other.example": {"auth": "b3RoZXI6eA=="}}}"#,
        )
        .unwrap();
        let r = resolver(&path);
        let stored = r
            .store(
                "Reg.Example:5000",
                "new",
                &Secret::new("pw"),
                Some(StoreChoice::Config),
            )
            .unwrap();
        assert_eq!(stored.place, Place::Config { path: path.clone() });
        assert_eq!(found(&r, "reg.example:5000").as_deref(), Some("new"));
        assert_eq!(found(&r, "REG.example:5000").as_deref(), Some("new"));
        let auths = json_file::object(&json_file::read(&path).unwrap(), "auths").unwrap();
        let keys: Vec<&String> = auths.keys().collect();
        assert_eq!(keys, ["reg.example:5000", "other.example"]);
        let erased = r.erase("reg.example:5000");
        assert_eq!(erased.places, [Place::Config { path: path.clone() }]);
        assert!(erased.failures.is_empty());
        assert_eq!(found(&r, "reg.example:5000"), None);
        assert_eq!(found(&r, "other.example").as_deref(), Some("other"));
    }

    #[test]
    fn an_empty_docker_config_is_an_empty_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, "").unwrap();
        let r = resolver(&path);
        assert_eq!(found(&r, "reg.example"), None);
        assert!(r.erase("reg.example").places.is_empty());
        r.store(
            "reg.example",
            "u",
            &Secret::new("p"),
            Some(StoreChoice::Config),
        )
        .unwrap();
        assert_eq!(found(&r, "reg.example").as_deref(), Some("u"));
    }
}
