//! Where `regctl login` stores a credential and `regctl logout` erases it: where
//! docker looks first (its credential helper for the registry, else its default
//! store), else the OS keyring, else docker's config `auths`.

use std::fmt;
use std::path::PathBuf;

use base64::Engine as _;

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
                helper::store(&name, &key, username, password, self.timeout())?;
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
            (None, None) => match self.store_in_keyring(&key, username, password) {
                Ok(place) => place,
                Err(e) => {
                    notes.push(format!("{e}; storing in docker's config instead"));
                    self.store_in_config(&key, username, password, &mut notes)?
                }
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
    /// Returns where it was; nothing erased is an empty list.
    pub fn erase(
        &self,
        registry: &str,
        notes: &mut Vec<String>,
    ) -> Result<Vec<Place>, CredentialError> {
        let key = credential_key(registry);
        let mut erased: Vec<Place> = self.erase_keyring(&key)?.into_iter().collect();
        let Some((path, config)) = self.load_docker_config()? else {
            return Ok(erased);
        };
        if let Some((name, named_by)) = named_helper(&path, &config, &key)? {
            match helper::erase(&name, &key, self.timeout()) {
                Ok(true) => erased.push(Place::Helper { name, named_by }),
                Ok(false) => {}
                // A default store copied from Docker Desktop, not installed here.
                Err(CredentialError::HelperMissing { helper }) if named_by == "credsStore" => {
                    notes.push(format!(
                        "docker's default credential store docker-credential-{helper} is not installed; nothing was asked of it"
                    ))
                }
                Err(e) => return Err(e),
            }
        }
        let removed = json_file::edit_object(&path, "auths", |auths| {
            let before = auths.len();
            auths.retain(|stored, _| !same_registry(stored, &key));
            Ok(auths.len() != before)
        })?;
        if removed {
            erased.push(Place::Config { path });
        }
        Ok(erased)
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
            return Err(CredentialError::Keyring(
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
        let auth = base64::engine::general_purpose::STANDARD
            .encode(format!("{username}:{}", password.expose()));
        json_file::edit_object(path, "auths", |auths| {
            let stored = auths
                .keys()
                .find(|k| same_registry(k, key))
                .cloned()
                .unwrap_or_else(|| key.to_string());
            let mut entry = match auths.get(&stored) {
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
            auths.insert(stored, json_file::raw_of(&serde_json::Value::Object(entry)));
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
