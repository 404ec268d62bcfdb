//! Where `regctl login` stores a credential and `regctl logout` erases it: where
//! docker looks first (its credential helper for the registry, else its default
//! store), else the OS keyring (naming regctl's own helper in docker's
//! `credHelpers`, so that docker sees it), else docker's config `auths`.

use std::fmt;
use std::path::{Path, PathBuf};

use super::docker_config::{same_registry, DockerConfig, Lookup};
use super::json_file::Created;
use super::{helper, json_file, keyring, own_helper, CredentialError, Resolver, Secret};
use crate::registry::reference::credential_key;

/// The member of docker's config naming a helper per registry.
const CRED_HELPERS: &str = "credHelpers";

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
        // regctl's own helper reads the keyring logins: storing through it is
        // storing in the keyring.
        let (choice, helper) = match helper {
            Some((name, _)) if name == own_helper::NAME => (
                choice.map(|c| match c {
                    StoreChoice::Helper => StoreChoice::Keyring,
                    other => other,
                }),
                None,
            ),
            other => (choice, other),
        };
        let name_helper = helper.is_none();
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
            (Some(StoreChoice::Keyring), helper) => {
                if let Some((name, named_by)) = helper {
                    notes.push(format!(
                        "docker's config names docker-credential-{} ({named_by}) for {key}: docker and \
                         skopeo ask it, not the OS keyring",
                        crate::text::escape(&name)
                    ));
                }
                self.store_in_keyring(&key, username, password, name_helper, &mut notes)?
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
            (None, None) => match self.store_in_keyring(&key, username, password, true, &mut notes) {
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
                Ok(Some((erased, named_in))) => {
                    notes.push(format!("removed the earlier login from {erased}"));
                    if let Some(path) = named_in {
                        match self.unname_own_helper(&path, &key) {
                            Ok(more) => notes.extend(more),
                            Err(e) => notes.push(e.to_string()),
                        }
                    }
                }
                Ok(None) => {}
                Err(e) => notes.push(format!(
                    "the earlier login in the OS keyring stays ({e}); regctl reads it first, so \
                     run `regctl logout {key}` once the keyring is available, then log in again"
                )),
            }
        } else if let Some((path, config)) = &config {
            if matches!(config.lookup(&key), Ok(Lookup::Inline(_))) {
                notes.push(format!(
                    "{} also holds a credential for {key} (auths), which docker and skopeo read \
                     unless a credential helper is named for it; `regctl logout {key}` removes both",
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
        // Where login named regctl's helper for the registry: that entry goes
        // with the keyring login (and stays while the login does).
        let helper_named_in = match self.erase_keyring(&key, &mut done.notes) {
            Ok(Some((place, named_in))) => {
                done.places.push(place);
                named_in
            }
            Ok(None) => None,
            Err(e) => {
                done.failures.push(e);
                None
            }
        };
        let (path, config) = match self.load_docker_config() {
            Ok(Some(found)) => found,
            Ok(None) => return done,
            Err(e) => {
                done.failures.push(e);
                return done;
            }
        };
        match named_helper(&path, &config, &key) {
            // regctl's own helper holds the keyring login, erased above.
            Ok(Some((name, _))) if name == own_helper::NAME => {}
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
        if helper_named_in.as_deref() == Some(path.as_path()) {
            match self.unname_own_helper(&path, &key) {
                Ok(notes) => done.notes.extend(notes),
                Err(e) => done.notes.push(format!(
                    "{e}; docker's config still names docker-credential-regctl for {key}, which \
                     now answers that it holds no credential"
                )),
            }
        }
        // What login created (the member, the file) goes too once nothing is
        // left in it: the file as it was before login.
        let undo = self.created_by_login(&path, "auths");
        let removed = json_file::edit_object(&path, "auths", self.edit(undo), |auths| {
            let before = auths.len();
            auths.retain(|stored, _| !same_registry(stored, &key));
            Ok(auths.len() != before)
        });
        match removed {
            Ok(edited) => {
                done.notes.extend(edited.notes);
                self.forget_created(&path, "auths", edited.removed, &mut done.notes);
                if edited.changed {
                    done.places.push(Place::Config { path });
                }
            }
            Err(e) => done.failures.push(e),
        }
        done
    }

    /// Takes away the `credHelpers` entry naming regctl's helper for `key` that
    /// login added to docker's config at `path` (and the member or file login
    /// created for it, once empty).
    fn unname_own_helper(&self, path: &Path, key: &str) -> Result<Vec<String>, CredentialError> {
        let undo = self.created_by_login(path, CRED_HELPERS);
        let own = format!("\"{}\"", own_helper::NAME);
        let edited = json_file::edit_object(path, CRED_HELPERS, self.edit(undo), |helpers| {
            let before = helpers.len();
            helpers.retain(|stored, name| !(same_registry(stored, key) && name.get() == own));
            Ok(helpers.len() != before)
        })?;
        let mut notes = edited.notes;
        self.forget_created(path, CRED_HELPERS, edited.removed, &mut notes);
        Ok(notes)
    }

    /// Names regctl's helper for `key` in docker's config (`credHelpers`), so
    /// that docker and skopeo ask it for the keyring login; returns the config
    /// when this login named it there. A config that names another helper, or
    /// a helper that is not installed, is left as it is, with a note.
    fn name_own_helper(
        &self,
        key: &str,
        earlier: Option<keyring::Record>,
        notes: &mut Vec<String>,
    ) -> Option<PathBuf> {
        let path = self.docker_config.as_ref()?;
        let unseen = "docker and skopeo do not see this login";
        match DockerConfig::load(path).map(|c| c.helper_for(key)) {
            Ok(Ok(None)) => {}
            // Named already: by an earlier login (which stays recorded), or by hand.
            Ok(Ok(Some(Lookup::Helper(name)))) if name == own_helper::NAME => {
                return earlier.and_then(|r| r.helper_named_in)
            }
            Ok(Ok(_)) => return None,
            Ok(Err(detail)) => {
                notes.push(format!("{}; {unseen}", config_error(path, key, detail)));
                return None;
            }
            Err(e) => {
                notes.push(format!("{e}; {unseen}"));
                return None;
            }
        }
        if !helper::installed(own_helper::NAME) {
            notes.push(format!(
                "docker-credential-regctl is not on PATH, so {} is left as it is and {unseen}: \
                 install it (`cargo install` puts it next to regctl) and log in again, or choose \
                 --store config",
                path.display()
            ));
            return None;
        }
        let name = serde_json::Value::from(own_helper::NAME);
        let edited =
            json_file::edit_object(path, CRED_HELPERS, self.edit(Created::Nothing), |helpers| {
                helpers.retain(|stored, _| !same_registry(stored, key));
                helpers.insert(key.to_string(), json_file::raw_of(&name)?);
                Ok(true)
            });
        match edited {
            Ok(edited) => {
                notes.extend(edited.notes);
                self.record_created(path, CRED_HELPERS, edited.created, notes);
                Some(path.clone())
            }
            Err(e) => {
                notes.push(format!("{e}; {unseen}"));
                None
            }
        }
    }

    /// How a config file is edited: waiting at most `--timeout` for its lock.
    pub(super) fn edit(&self, undo: Created) -> json_file::Edit {
        json_file::Edit {
            wait: self.timeout(),
            undo,
        }
    }

    fn load_docker_config(&self) -> Result<Option<(PathBuf, DockerConfig)>, CredentialError> {
        match &self.docker_config {
            Some(path) => Ok(Some((path.clone(), DockerConfig::load(path)?))),
            None => Ok(None),
        }
    }

    /// Stores the password in the OS keyring and records the login in regctl's
    /// config; with `name_helper`, also names regctl's helper for `key` in
    /// docker's config, so that docker and skopeo see the login.
    fn store_in_keyring(
        &self,
        key: &str,
        username: &str,
        password: &Secret,
        name_helper: bool,
        notes: &mut Vec<String>,
    ) -> Result<Place, CredentialError> {
        let Some(record) = &self.regctl_config else {
            return Err(CredentialError::KeyringUnavailable(
                "cannot use the OS keyring: no folder for regctl's config (HOME is not set)".into(),
            ));
        };
        keyring::set(key, password, self.timeout())?;
        let earlier = keyring::recorded(record, key).ok().flatten();
        let helper_named_in = if name_helper {
            self.name_own_helper(key, earlier, notes)
        } else {
            None
        };
        let login = keyring::Record {
            username: username.to_string(),
            helper_named_in,
        };
        notes.extend(keyring::record(record, key, &login, self.timeout())?);
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
        self.record_created(path, "auths", edited.created, notes);
        notes.push(format!(
            "the password is stored in {} only base64-encoded, readable by anyone who can read the file; \
             a credential helper (docker's credsStore) or the OS keyring keeps it safer",
            path.display()
        ));
        Ok(Place::Config { path: path.clone() })
    }

    /// Removes regctl's keyring login for `key` (entry and record), if there
    /// is one; with the docker config where login named regctl's helper for it.
    fn erase_keyring(
        &self,
        key: &str,
        notes: &mut Vec<String>,
    ) -> Result<Option<(Place, Option<PathBuf>)>, CredentialError> {
        let Some(record) = &self.regctl_config else {
            return Ok(None);
        };
        let Some(login) = keyring::recorded(record, key)? else {
            return Ok(None);
        };
        keyring::delete(key, self.timeout())?;
        notes.extend(keyring::forget(record, key, self.timeout())?);
        let place = Place::Keyring {
            record: record.clone(),
        };
        Ok(Some((place, login.helper_named_in)))
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
