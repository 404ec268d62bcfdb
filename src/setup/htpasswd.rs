//! The `htpasswd` file Distribution reads: `user:bcrypt-hash` lines, as
//! `htpasswd -B` writes them (`$2y$`), made here so that no `htpasswd` binary
//! (no longer in the registry image) is needed.

use crate::registry::Secret;

/// bcrypt's cost, as `htpasswd -B` and the registry's documentation use it.
/// Distribution checks the password on every request and caches nothing: at
/// cost 10 each request would spend about 60 ms of the server's CPU.
pub const DEFAULT_COST: u32 = 5;

/// The length of a generated password.
const GENERATED_LEN: usize = 24;

/// Why the line could not be made.
#[derive(Debug, thiserror::Error)]
pub enum HtpasswdError {
    /// The user name cannot be written in the file.
    #[error(
        "user name `{0}` cannot be used: it must be non-empty, without `:` or control characters"
    )]
    BadUser(String),
    /// The password cannot be hashed (bcrypt reads at most 72 bytes).
    #[error("the password cannot be used: {0}")]
    BadPassword(String),
    /// No random bytes.
    #[error("no random bytes from the system: {0}")]
    Random(String),
}

/// `user:$2y$cost$...` for `password`.
pub fn line(user: &str, password: &Secret, cost: u32) -> Result<String, HtpasswdError> {
    if user.is_empty() || user.contains(':') || user.chars().any(char::is_control) {
        return Err(HtpasswdError::BadUser(crate::text::escape(user)));
    }
    if password.is_empty() {
        return Err(HtpasswdError::BadPassword("it is empty".into()));
    }
    let hash = bcrypt::non_truncating_hash_with_result(password.expose(), cost).map_err(|e| {
        HtpasswdError::BadPassword(match e {
            bcrypt::BcryptError::Truncation(n) => {
                format!("it has {n} bytes, and bcrypt reads only the first 72")
            }
            other => other.to_string(),
        })
    })?;
    Ok(format!(
        "{user}:{}",
        hash.format_for_version(bcrypt::Version::TwoY)
    ))
}

/// A new password: 24 letters and digits from the system's random source
/// (about 142 bits).
pub fn generate_password() -> Result<Secret, HtpasswdError> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut out = String::with_capacity(GENERATED_LEN);
    while out.len() < GENERATED_LEN {
        let mut byte = [0u8; 1];
        getrandom::fill(&mut byte).map_err(|e| HtpasswdError::Random(e.to_string()))?;
        // Rejection sampling: every letter equally likely.
        let limit = 256 - 256 % ALPHABET.len();
        if usize::from(byte[0]) < limit {
            out.push(char::from(ALPHABET[usize::from(byte[0]) % ALPHABET.len()]));
        }
    }
    Ok(Secret::new(out))
}

/// True when `hash` is a bcrypt hash, the only kind Distribution accepts.
pub fn is_bcrypt(hash: &str) -> bool {
    ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_verifies_and_looks_as_htpasswd_writes_it() {
        let password = Secret::new("testpassword");
        let line = line("testuser", &password, 4).unwrap();
        let (user, hash) = line.split_once(':').unwrap();
        assert_eq!(user, "testuser");
        assert!(hash.starts_with("$2y$04$"), "{hash}");
        assert!(bcrypt::verify("testpassword", hash).unwrap());
        assert!(is_bcrypt(hash));
    }

    #[test]
    fn what_the_file_cannot_hold_is_refused() {
        let password = Secret::new("x");
        assert!(matches!(
            line("a:b", &password, 4),
            Err(HtpasswdError::BadUser(_))
        ));
        assert!(matches!(
            line("a\nb", &password, 4),
            Err(HtpasswdError::BadUser(_))
        ));
        let long = Secret::new("p".repeat(73));
        assert!(matches!(
            line("a", &long, 4),
            Err(HtpasswdError::BadPassword(_))
        ));
    }

    #[test]
    fn generated_passwords_differ_and_are_long() {
        let (a, b) = (generate_password().unwrap(), generate_password().unwrap());
        assert_eq!(a.expose().len(), GENERATED_LEN);
        assert_ne!(a, b);
    }
}
