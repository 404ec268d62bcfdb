//! The documented exit codes, and the one place that decides them.

use std::process::ExitCode;

use crate::credentials::CredentialError;
use crate::registry::{ErrorKind, RegistryError};

/// regctl's exit statuses (see `--help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Everything asked for was done.
    Success = 0,
    /// Network, TLS, protocol or any other failure.
    Failure = 1,
    /// Usage error or invalid input; no request was made.
    Usage = 2,
    /// Authentication or authorization refused.
    Auth = 3,
    /// Repository, tag or digest not found.
    NotFound = 4,
    /// The registry does not support the operation.
    Unsupported = 5,
    /// A change refused for safety, or not confirmed: nothing was done for it
    /// (a tag that points elsewhere than the digest given, a child an index
    /// needs, a tag the registry will not verify, a declined confirmation).
    Refused = 6,
    /// Stopped by Ctrl-C (SIGINT) after reporting what was done.
    Interrupted = 130,
}

impl Exit {
    /// Every status, in order.
    pub const ALL: [Exit; 8] = [
        Exit::Success,
        Exit::Failure,
        Exit::Usage,
        Exit::Auth,
        Exit::NotFound,
        Exit::Unsupported,
        Exit::Refused,
        Exit::Interrupted,
    ];
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}

/// A usage error raised by a command (bad flag combination, invalid input).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

impl Exit {
    /// The exit status for several failures: their common one, else 1; 0 for none.
    pub fn worst(kinds: &[ErrorKind]) -> Exit {
        match kinds.first() {
            Some(first) if kinds.iter().all(|k| k == first) => Exit::for_kind(*first),
            Some(_) => Exit::Failure,
            None => Exit::Success,
        }
    }

    /// The exit status for `err`, from the first typed error in its chain.
    pub fn for_error(err: &anyhow::Error) -> Exit {
        for cause in err.chain() {
            if let Some(e) = cause.downcast_ref::<RegistryError>() {
                return Self::for_kind(e.kind());
            }
            if cause.downcast_ref::<UsageError>().is_some() {
                return Exit::Usage;
            }
            if cause
                .downcast_ref::<crate::setup::files::Exists>()
                .is_some()
                || matches!(
                    cause.downcast_ref::<crate::setup::files::WriteError>(),
                    Some(
                        crate::setup::files::WriteError::Exists(_)
                            | crate::setup::files::WriteError::Symlink(_)
                    )
                )
            {
                return Exit::Refused;
            }
            if let Some(e) = cause.downcast_ref::<CredentialError>() {
                return Self::for_credential(e);
            }
            if cause
                .downcast_ref::<crate::registry::reference::ReferenceError>()
                .is_some()
            {
                return Exit::Usage;
            }
        }
        Exit::Failure
    }

    /// The exit status for a credential failure: 2 for what the user gave or
    /// configured (flags, docker's config), 1 for a store that failed.
    pub fn for_credential(e: &CredentialError) -> Exit {
        match e {
            CredentialError::Incomplete(_)
            | CredentialError::Config { .. }
            | CredentialError::NoHelperConfigured { .. } => Exit::Usage,
            CredentialError::Keyring(_)
            | CredentialError::KeyringUnavailable(_)
            | CredentialError::KeyringLocked(_)
            | CredentialError::FolderLocked { .. }
            | CredentialError::Helper { .. }
            | CredentialError::HelperMissing { .. }
            | CredentialError::StoreMissing { .. } => Exit::Failure,
            CredentialError::Interrupted { .. } => Exit::Interrupted,
        }
    }

    /// The exit status for a class of registry failure.
    pub fn for_kind(kind: ErrorKind) -> Exit {
        match kind {
            ErrorKind::Auth => Exit::Auth,
            ErrorKind::NotFound => Exit::NotFound,
            ErrorKind::Unsupported => Exit::Unsupported,
            ErrorKind::Usage => Exit::Usage,
            ErrorKind::Refused => Exit::Refused,
            ErrorKind::Other => Exit::Failure,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Exit;

    /// The codes a table of exit codes lists: the first number of each row
    /// (`| 4 | …` in docs/reference.md, `  4  …` in `--help`).
    fn codes(rows: impl Iterator<Item = String>) -> Vec<u8> {
        rows.filter_map(|row| row.split_whitespace().next()?.parse().ok())
            .collect()
    }

    #[test]
    fn the_documented_exit_codes_are_the_ones_regctl_has() {
        let ours: Vec<u8> = Exit::ALL.iter().map(|e| *e as u8).collect();
        let reference = include_str!("../docs/reference.md");
        let table = reference
            .split_once("## Exit codes")
            .map(|(_, rest)| rest)
            .expect("docs/reference.md has an exit-code section");
        let rows = table
            .lines()
            .skip_while(|l| !l.starts_with("| 0"))
            .take_while(|l| l.starts_with('|'))
            .map(|l| l.trim_start_matches('|').to_string());
        assert_eq!(codes(rows), ours, "docs/reference.md's exit-code table");
        let help = crate::cli::EXIT_CODES_HELP
            .split_once("Exit codes:")
            .map(|(_, rest)| rest)
            .expect("--help lists the exit codes");
        assert_eq!(
            codes(help.lines().map(str::to_string)),
            ours,
            "--help's list"
        );
    }
}
