//! Finding the credential for a registry, in the documented order.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use super::docker_config::{self, DockerConfig};
use super::error::CredentialError;
use super::{helper, keyring, own_helper};
use crate::registry::credential::{Credential, Resolved, Secret};
use crate::registry::reference::credential_key;

/// Resolves credentials for registries, in the documented order.
#[derive(Clone, Debug, Default)]
pub struct Resolver {
    pub(super) explicit: Option<Resolved>,
    pub(super) docker_config: Option<PathBuf>,
    pub(super) regctl_config: Option<PathBuf>,
    pub(super) helper_timeout: Option<std::time::Duration>,
    pub(super) cancel: Arc<AtomicBool>,
}

impl Resolver {
    /// A resolver using `--username`/`--password-stdin` (if given), then the
    /// `REGCTL_USERNAME`/`REGCTL_PASSWORD` variables, then docker's config at
    /// `docker_config` (usually [`docker_config::default_path`]).
    pub fn new(
        flag_username: Option<String>,
        flag_password: Option<Secret>,
        env_username: Option<String>,
        env_password: Option<Secret>,
        docker_config: Option<PathBuf>,
    ) -> Result<Self, CredentialError> {
        let explicit = match (flag_username, flag_password) {
            (Some(username), Some(password)) => Some(Resolved {
                credential: Credential::Basic { username, password },
                source: "--username/--password-stdin".into(),
            }),
            (Some(_), None) => {
                return Err(CredentialError::Incomplete(
                    "--username needs --password-stdin, with the password on standard input".into(),
                ))
            }
            (None, Some(_)) => {
                return Err(CredentialError::Incomplete(
                    "--password-stdin needs --username".into(),
                ))
            }
            (None, None) => match (env_username, env_password) {
                (Some(username), Some(password)) => Some(Resolved {
                    credential: Credential::Basic { username, password },
                    source: "REGCTL_USERNAME/REGCTL_PASSWORD".into(),
                }),
                (Some(_), None) => {
                    return Err(CredentialError::Incomplete(
                        "REGCTL_USERNAME is set but REGCTL_PASSWORD is not".into(),
                    ))
                }
                (None, Some(_)) => {
                    return Err(CredentialError::Incomplete(
                        "REGCTL_PASSWORD is set but REGCTL_USERNAME is not".into(),
                    ))
                }
                (None, None) => None,
            },
        };
        Ok(Resolver {
            explicit,
            docker_config,
            regctl_config: None,
            helper_timeout: None,
            cancel: Arc::default(),
        })
    }

    /// Also reads the keyring logins recorded in regctl's config at `path`
    /// (usually [`keyring::config_path`]), before docker's config.
    pub fn with_regctl_config(mut self, path: Option<PathBuf>) -> Self {
        self.regctl_config = path;
        self
    }

    /// The time limit for a credential helper or the keyring.
    pub fn timeout(&self) -> std::time::Duration {
        self.helper_timeout.unwrap_or(helper::DEFAULT_TIMEOUT)
    }

    /// How long a credential helper may take before it is killed (default
    /// [`helper::DEFAULT_TIMEOUT`]).
    pub fn with_helper_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.helper_timeout = Some(timeout);
        self
    }

    /// Stops a credential helper that is running once `cancel` is set (the
    /// run's Ctrl-C and `--deadline`).
    pub fn with_cancel(mut self, cancel: Arc<AtomicBool>) -> Self {
        self.cancel = cancel;
        self
    }

    /// The bounds a credential helper runs within.
    pub(super) fn helper_bounds(&self) -> helper::Bounds {
        helper::Bounds {
            timeout: self.timeout(),
            cancel: self.cancel.clone(),
        }
    }

    /// Where credentials given for the whole run come from (`--username` or the
    /// `REGCTL_*` variables), if any: these are not tied to one registry.
    pub fn explicit_source(&self) -> Option<&str> {
        self.explicit.as_ref().map(|r| r.source.as_str())
    }

    fn ask_helper(&self, name: &str, key: &str) -> Result<Option<Resolved>, CredentialError> {
        Ok(
            helper::get(name, key, &self.helper_bounds())?.map(|credential| Resolved {
                credential,
                source: format!("docker-credential-{name}"),
            }),
        )
    }

    /// The credential for `registry` (`host[:port]`), or `None` for anonymous
    /// access. A keyring that cannot be read is passed over, with the reason
    /// added to `notes`.
    pub fn resolve(
        &self,
        registry: &str,
        notes: &mut Vec<String>,
    ) -> Result<Option<Resolved>, CredentialError> {
        if let Some(explicit) = &self.explicit {
            return Ok(Some(explicit.clone()));
        }
        let key = credential_key(registry);
        match self.keyring_login(&key) {
            Ok(Some(found)) => return Ok(Some(found)),
            Ok(None) => {}
            Err(e) => notes.push(format!("{e}; trying docker's config for {key}")),
        }
        let Some(path) = &self.docker_config else {
            return Ok(None);
        };
        let config = DockerConfig::load(path)?;
        let lookup = config
            .lookup(&key)
            .map_err(|detail| CredentialError::Config {
                path: path.clone(),
                detail: format!("entry for {key}: {detail}"),
            })?;
        Ok(match lookup {
            docker_config::Lookup::Inline(credential) => Some(Resolved {
                credential,
                source: path.display().to_string(),
            }),
            // regctl's own helper reads the keyring logins, asked above already.
            docker_config::Lookup::Helper(name) | docker_config::Lookup::Store(name)
                if name == own_helper::NAME && self.regctl_config.is_some() =>
            {
                None
            }
            docker_config::Lookup::Helper(name) => self.ask_helper(&name, &key)?,
            // A default store whose helper is missing (a config copied from Docker
            // Desktop) is skipped, as skopeo does: registries that need no
            // credentials still work. The caller is told, to say so.
            docker_config::Lookup::Store(name) => match self.ask_helper(&name, &key) {
                Err(CredentialError::HelperMissing { helper }) => {
                    return Err(CredentialError::StoreMissing { helper })
                }
                other => other?,
            },
            docker_config::Lookup::None => None,
        })
    }

    /// The credential `regctl login` kept in the OS keyring for `key`, if its
    /// config records one.
    fn keyring_login(&self, key: &str) -> Result<Option<Resolved>, CredentialError> {
        let Some(path) = &self.regctl_config else {
            return Ok(None);
        };
        let Some(username) = keyring::recorded_user(path, key)? else {
            return Ok(None);
        };
        match keyring::get(key, self.timeout())? {
            Some(password) => Ok(Some(Resolved {
                credential: Credential::Basic { username, password },
                source: "the OS keyring (regctl login)".into(),
            })),
            None => Err(CredentialError::Keyring(format!(
                "{} records a keyring login for {key}, but the OS keyring has no entry for it",
                path.display()
            ))),
        }
    }
}
