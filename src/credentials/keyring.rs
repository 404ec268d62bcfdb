//! The OS keyring (Secret Service on Linux, Keychain on macOS, Credential
//! Manager on Windows), where `regctl login` keeps a password when docker's
//! config names no credential helper. The keyring holds the password under
//! service `regctl` and the registry's key; regctl's own config file records the
//! registry and user name, so that reads ask the keyring only for registries
//! logged in this way.
//!
//! A keyring is a service regctl does not control: each call runs under a time
//! limit (a locked keyring may wait for a prompt nobody answers).

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use super::json_file;
use super::{CredentialError, Secret};

/// The keyring service name regctl's entries are stored under.
pub const SERVICE: &str = "regctl";

/// The member of regctl's config that records keyring logins.
const RECORD: &str = "keyring";

/// regctl's own config file: `$XDG_CONFIG_HOME/regctl/config.json`, else
/// `~/.config/regctl/config.json` (`%APPDATA%\regctl\config.json` on Windows).
pub fn config_path() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let base = if cfg!(windows) {
        var("APPDATA").map(PathBuf::from)
    } else {
        var("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".config")))
    };
    base.map(|b| b.join("regctl").join("config.json"))
}

/// What regctl's config records of a keyring login.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The user name (the password is in the keyring).
    pub username: String,
    /// The docker config in which login named regctl's credential helper for
    /// the registry (`credHelpers`), for logout to take that entry away again.
    pub helper_named_in: Option<PathBuf>,
}

impl Record {
    fn from_json(path: &Path, key: &str, raw: &str) -> Result<Record, CredentialError> {
        let value: serde_json::Value = serde_json::from_str(raw).unwrap_or(serde_json::Value::Null);
        let Some(serde_json::Value::String(username)) = value.get("username") else {
            return Err(CredentialError::Config {
                path: path.to_path_buf(),
                detail: format!("`{RECORD}` entry for {key} has no `username` string"),
            });
        };
        let helper_named_in = match value.get(HELPER_NAMED_IN) {
            Some(serde_json::Value::String(named)) => Some(PathBuf::from(named)),
            _ => None,
        };
        Ok(Record {
            username: username.clone(),
            helper_named_in,
        })
    }
}

/// The member of a record naming the docker config where login named regctl's helper.
const HELPER_NAMED_IN: &str = "helper_named_in";

/// The record of `key`'s keyring login in regctl's config at `path`, if regctl
/// logged in to it with the keyring.
pub fn recorded(path: &Path, key: &str) -> Result<Option<Record>, CredentialError> {
    let records = read_records(path)?;
    records
        .get(key)
        .map(|raw| Record::from_json(path, key, raw.get()))
        .transpose()
}

/// The user name recorded for `key` in regctl's config at `path`, if regctl
/// logged in to it with the keyring.
pub fn recorded_user(path: &Path, key: &str) -> Result<Option<String>, CredentialError> {
    Ok(recorded(path, key)?.map(|r| r.username))
}

/// Every keyring login recorded in regctl's config at `path`: key and user name.
pub fn all_recorded(path: &Path) -> Result<Vec<(String, String)>, CredentialError> {
    read_records(path)?
        .iter()
        .map(|(key, raw)| {
            Record::from_json(path, key, raw.get()).map(|r| (key.clone(), r.username))
        })
        .collect()
}

fn read_records(path: &Path) -> Result<json_file::Members, CredentialError> {
    let members = json_file::read(path)?;
    json_file::object(&members, RECORD).map_err(|detail| CredentialError::Config {
        path: path.to_path_buf(),
        detail,
    })
}

/// Records in regctl's config that `key`'s password (for `username`) is in the
/// keyring, and where login named regctl's helper for it, waiting at most
/// `wait` for the config's lock. Returns what the user should know.
pub fn record(
    path: &Path,
    key: &str,
    record: &Record,
    wait: Duration,
) -> Result<Vec<String>, CredentialError> {
    let edit = json_file::Edit {
        wait,
        undo: json_file::Created::Nothing,
    };
    let mut value = serde_json::json!({ "username": record.username });
    if let Some(named) = &record.helper_named_in {
        value[HELPER_NAMED_IN] = named.display().to_string().into();
    }
    json_file::edit_object(path, RECORD, edit, |records| {
        records.insert(key.to_string(), json_file::raw_of(&value)?);
        Ok(true)
    })
    .map(|done| done.notes)
}

/// Removes `key`'s record from regctl's config, waiting at most `wait` for the
/// config's lock; the config (regctl's own) goes once nothing is left in it.
/// Returns what the user should know.
pub fn forget(path: &Path, key: &str, wait: Duration) -> Result<Vec<String>, CredentialError> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let edit = json_file::Edit {
        wait,
        undo: json_file::Created::File,
    };
    json_file::edit_object(path, RECORD, edit, |records| {
        Ok(records.shift_remove(key).is_some())
    })
    .map(|done| done.notes)
}

/// The password stored for `key`, `None` when the keyring has no entry.
pub fn get(key: &str, timeout: Duration) -> Result<Option<Secret>, CredentialError> {
    let key = key.to_string();
    match with_entry(&key, timeout, |entry| entry.get_password()) {
        Ok(password) => Ok(Some(Secret::new(password))),
        Err(Failure::Keyring(keyring::Error::NoEntry)) => Ok(None),
        Err(e) => Err(e.into_error("read")),
    }
}

/// Stores `password` for `key`.
pub fn set(key: &str, password: &Secret, timeout: Duration) -> Result<(), CredentialError> {
    let password = password.clone();
    with_entry(key, timeout, move |entry| {
        entry.set_password(password.expose())
    })
    .map_err(|e| e.into_error("store in"))
}

/// Deletes `key`'s entry; false when there was none.
pub fn delete(key: &str, timeout: Duration) -> Result<bool, CredentialError> {
    match with_entry(key, timeout, |entry| entry.delete_credential()) {
        Ok(()) => Ok(true),
        Err(Failure::Keyring(keyring::Error::NoEntry)) => Ok(false),
        Err(e) => Err(e.into_error("erase from")),
    }
}

enum Failure {
    Keyring(keyring::Error),
    TimedOut(Duration),
    /// The thread ended without an answer (it panicked).
    Gone,
}

impl Failure {
    /// The error, in words that never carry a stored value. Only a keyring
    /// that is not there (no session bus, no Secret Service on it) is
    /// [`CredentialError::KeyringUnavailable`], after which login may store
    /// elsewhere; one that is there but locked is [`CredentialError::KeyringLocked`].
    fn into_error(self, verb: &str) -> CredentialError {
        let unavailable = |why: String| {
            CredentialError::KeyringUnavailable(format!("cannot {verb} the OS keyring: {why}"))
        };
        match self {
            Failure::Keyring(keyring::Error::NoDefaultStore) => match keyring::Entry::store_status() {
                Err(why) => unavailable(format!("it is not available ({why})")),
                Ok(()) => unavailable("it is not available".into()),
            },
            Failure::Keyring(e @ keyring::Error::NoStorageAccess(_)) => CredentialError::KeyringLocked(format!(
                "cannot {verb} the OS keyring: it is locked, and no one answered its unlock prompt ({e}); unlock it"
            )),
            Failure::Keyring(keyring::Error::BadEncoding(_) | keyring::Error::BadDataFormat(..)) => {
                CredentialError::Keyring(format!("cannot {verb} the OS keyring: the entry it holds is not text"))
            }
            Failure::Keyring(e) => CredentialError::Keyring(format!("cannot {verb} the OS keyring: {e}")),
            Failure::TimedOut(t) => CredentialError::Keyring(format!(
                "cannot {verb} the OS keyring: no answer within {} s (is it waiting for an unlock prompt?)",
                t.as_secs()
            )),
            Failure::Gone => CredentialError::Keyring(format!(
                "cannot {verb} the OS keyring: its client stopped without an answer"
            )),
        }
    }
}

/// Runs `op` on `key`'s entry in a thread of its own, waiting at most `timeout`.
fn with_entry<T: Send + 'static>(
    key: &str,
    timeout: Duration,
    op: impl FnOnce(&keyring::Entry) -> keyring::Result<T> + Send + 'static,
) -> Result<T, Failure> {
    let key = key.to_string();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(keyring::Entry::new(SERVICE, &key).and_then(|entry| op(&entry)));
    });
    match rx.recv_timeout(timeout) {
        Ok(result) => result.map_err(Failure::Keyring),
        // The thread is left to finish or die with the process.
        Err(mpsc::RecvTimeoutError::Timeout) => Err(Failure::TimedOut(timeout)),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(Failure::Gone),
    }
}
