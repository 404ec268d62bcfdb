//! Where `regctl login` stores a credential and `regctl logout` erases it: where
//! docker looks first (its credential helper for the registry, else its default
//! store), else the OS keyring, else docker's config `auths`.

use std::fmt;
use std::path::{Path, PathBuf};

use super::docker_config::{same_registry, DockerConfig, Lookup};
use super::json_file::Created;
use super::{helper, json_file, keyring, CredentialError, Resolver, Secret};
use crate::registry::reference::credential_key;

/// The member of regctl's config that records, per docker config file, what
/// login created there: `"auths"` (the member) or `"file"`.
const ADDED: &str = "added_by_login";

/// How [`ADDED`] names what login created.
fn created_name(created: Created) -> Option<&'static str> {
    match created {
        Created::Nothing => None,
        Created::Member => Some("auths"),
        Created::File => Some("file"),
    }
}

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
            (Some(StoreChoice::Keyring), _) => {
                self.store_in_keyring(&key, username, password, &mut notes)?
            }
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
            (None, None) => match self.store_in_keyring(&key, username, password, &mut notes) {
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
            match self.erase_keyring(&key, &mut notes) {
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
        match self.erase_keyring(&key, &mut done.notes) {
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
        // What login created (the member, the file) goes too once nothing is
        // left in it: the file as it was before login.
        let undo = self.created_by_login(&path);
        let removed = json_file::edit_object(&path, "auths", self.edit(undo), |auths| {
            let before = auths.len();
            auths.retain(|stored, _| !same_registry(stored, &key));
            Ok(auths.len() != before)
        });
        match removed {
            Ok(edited) => {
                done.notes.extend(edited.notes);
                if edited.removed != Created::Nothing {
                    self.forget_created(&path, &mut done.notes);
                }
                if edited.changed {
                    done.places.push(Place::Config { path });
                }
            }
            Err(e) => done.failures.push(e),
        }
        done
    }

    /// How a config file is edited: waiting at most `--timeout` for its lock.
    fn edit(&self, undo: Created) -> json_file::Edit {
        json_file::Edit {
            wait: self.timeout(),
            undo,
        }
    }

    /// Records in regctl's config that login created `created` (the `auths`
    /// member, or the file) in docker's config at `path`, for logout to take
    /// away again.
    fn record_created(&self, path: &Path, created: Created, notes: &mut Vec<String>) {
        let (Some(record), Some(kind)) = (&self.regctl_config, created_name(created)) else {
            return;
        };
        let result = json_file::edit_object(record, ADDED, self.edit(Created::Nothing), |added| {
            added.insert(path.display().to_string(), json_file::raw_of(&kind.into())?);
            Ok(true)
        });
        match result {
            Ok(edited) => notes.extend(edited.notes),
            Err(e) => notes.push(format!(
                "{e}; logout will leave an empty `auths` in {}",
                path.display()
            )),
        }
    }

    /// What login recorded it created in docker's config at `path`.
    fn created_by_login(&self, path: &Path) -> Created {
        let Some(record) = &self.regctl_config else {
            return Created::Nothing;
        };
        let recorded = json_file::read(record)
            .ok()
            .and_then(|members| json_file::object(&members, ADDED).ok())
            .and_then(|added| {
                added
                    .get(&path.display().to_string())
                    .map(|kind| kind.get().to_string())
            });
        match recorded.as_deref() {
            Some(r#""auths""#) => Created::Member,
            Some(r#""file""#) => Created::File,
            _ => Created::Nothing,
        }
    }

    /// Forgets what login created in docker's config at `path` (it is gone); the
    /// record goes, and regctl's config with it when nothing else is in it.
    fn forget_created(&self, path: &Path, notes: &mut Vec<String>) {
        let Some(record) = &self.regctl_config else {
            return;
        };
        let forgotten = json_file::edit_object(record, ADDED, self.edit(Created::File), |added| {
            Ok(added.shift_remove(&path.display().to_string()).is_some())
        });
        match forgotten {
            Ok(edited) => notes.extend(edited.notes),
            Err(e) => notes.push(e.to_string()),
        }
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
        notes: &mut Vec<String>,
    ) -> Result<Place, CredentialError> {
        let Some(record) = &self.regctl_config else {
            return Err(CredentialError::KeyringUnavailable(
                "cannot use the OS keyring: no folder for regctl's config (HOME is not set)".into(),
            ));
        };
        keyring::set(key, password, self.timeout())?;
        notes.extend(keyring::record(record, key, username, self.timeout())?);
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
        let edited = json_file::edit_object(path, "auths", self.edit(Created::Nothing), |auths| {
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
        notes.extend(edited.notes);
        self.record_created(path, edited.created, notes);
        notes.push(format!(
            "the password is stored in {} only base64-encoded, readable by anyone who can read the file; \
             a credential helper (docker's credsStore) or the OS keyring keeps it safer",
            path.display()
        ));
        Ok(Place::Config { path: path.clone() })
    }

    /// Removes regctl's keyring login for `key` (entry and record), if there is one.
    fn erase_keyring(
        &self,
        key: &str,
        notes: &mut Vec<String>,
    ) -> Result<Option<Place>, CredentialError> {
        let Some(record) = &self.regctl_config else {
            return Ok(None);
        };
        if keyring::recorded_user(record, key)?.is_none() {
            return Ok(None);
        }
        keyring::delete(key, self.timeout())?;
        notes.extend(keyring::forget(record, key, self.timeout())?);
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
