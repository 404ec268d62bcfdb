//! Why credentials could not be read or stored.

use std::path::PathBuf;

/// Why credentials could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// Docker's config exists but cannot be used.
    #[error("docker config {}: {detail}", path.display())]
    Config {
        /// The config file.
        path: PathBuf,
        /// What is wrong, with line and column for JSON errors.
        detail: String,
    },
    /// A credential helper failed.
    #[error("credential helper docker-credential-{helper}: {detail}")]
    Helper {
        /// The helper's name (after `docker-credential-`).
        helper: String,
        /// What went wrong.
        detail: String,
    },
    /// The credential helper docker's config names is not installed.
    #[error("credential helper docker-credential-{helper} is not installed (not on PATH); docker's config names it")]
    HelperMissing {
        /// The helper's name (after `docker-credential-`).
        helper: String,
    },
    /// The default store's helper (`credsStore`) is not installed: the caller
    /// may go on without credentials, saying so.
    #[error("docker's config names the default credential store docker-credential-{helper}, which is not installed (not on PATH)")]
    StoreMissing {
        /// The helper's name (after `docker-credential-`).
        helper: String,
    },
    /// `--store helper` where docker's config names no helper for the registry.
    #[error("docker's config names no credential helper for {key}: neither `credHelpers` for it nor a default `credsStore`")]
    NoHelperConfigured {
        /// The registry's config key.
        key: String,
    },
    /// The OS keyring failed (no answer in time, an entry it cannot give).
    #[error("{0}")]
    Keyring(String),
    /// There is no OS keyring here (no Secret Service on the session bus, no
    /// session bus): login may store elsewhere.
    #[error("{0}")]
    KeyringUnavailable(String),
    /// The OS keyring is there but locked, and no one answered its unlock
    /// prompt: never a reason to store a password elsewhere unasked.
    #[error("{0}")]
    KeyringLocked(String),
    /// Another process holds the lock on the folder of a config regctl
    /// rewrites, longer than `--timeout`.
    #[error(
        "cannot lock {} within {} s to rewrite {}: another process holds a lock (flock) on \
         the folder; if no other regctl or docker is at work, `fuser -v {}` finds the holder",
        folder.display(),
        waited.as_secs(),
        file.display(),
        folder.display()
    )]
    FolderLocked {
        /// The folder.
        folder: PathBuf,
        /// The file to rewrite.
        file: PathBuf,
        /// How long regctl waited.
        waited: std::time::Duration,
    },
    /// Flags or environment variables given half.
    #[error("{0}")]
    Incomplete(String),
    /// The run was interrupted (Ctrl-C, `--deadline`) while a helper ran; it
    /// was stopped.
    #[error("interrupted while docker-credential-{helper} ran; it was stopped")]
    Interrupted {
        /// The helper's name (after `docker-credential-`).
        helper: String,
    },
}
