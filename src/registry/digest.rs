//! Content digests (`sha256:<hex>`), as the distribution spec defines them.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest as _, Sha256, Sha512};

/// A validated content digest such as `sha256:60f2…`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: Algorithm,
    hex: String,
}

/// The digest algorithms regctl can verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// SHA-256, 64 lowercase hex characters.
    Sha256,
    /// SHA-512, 128 lowercase hex characters.
    Sha512,
}

impl Algorithm {
    /// Its name, as digests write it (`sha256`).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }
}

/// Why a string is not a digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    /// No `algorithm:` prefix.
    #[error("a digest looks like sha256:<64 hex characters>")]
    MissingAlgorithm,
    /// An algorithm other than sha256 or sha512.
    #[error("unsupported digest algorithm `{0}` (expected sha256 or sha512)")]
    UnsupportedAlgorithm(String),
    /// Wrong length or characters other than lowercase hex.
    #[error("the {algorithm} digest must be {expected} lowercase hex characters")]
    BadHex {
        /// The algorithm named in the digest.
        algorithm: &'static str,
        /// How many hex characters it needs.
        expected: usize,
    },
}

impl Digest {
    /// The SHA-256 digest of `bytes`: how the registry names this content.
    pub fn sha256_of(bytes: &[u8]) -> Self {
        Self::compute(Algorithm::Sha256, bytes)
    }

    fn compute(algorithm: Algorithm, bytes: &[u8]) -> Self {
        let raw: Vec<u8> = match algorithm {
            Algorithm::Sha256 => Sha256::digest(bytes).to_vec(),
            Algorithm::Sha512 => Sha512::digest(bytes).to_vec(),
        };
        let hex = raw.iter().map(|b| format!("{b:02x}")).collect();
        Digest { algorithm, hex }
    }

    /// True when `bytes` hash to this digest (with this digest's algorithm).
    pub fn matches(&self, bytes: &[u8]) -> bool {
        Self::compute(self.algorithm, bytes) == *self
    }

    /// The digest of `bytes` computed with this digest's algorithm.
    pub fn recompute(&self, bytes: &[u8]) -> Digest {
        Self::compute(self.algorithm, bytes)
    }

    /// The algorithm part.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The hex part.
    pub fn hex(&self) -> &str {
        &self.hex
    }
}

/// Hashes content as it streams by, with one algorithm, counting its bytes:
/// what a blob is checked with when it is too large to hold.
#[derive(Clone)]
pub struct Hasher {
    state: HasherState,
    len: u64,
}

#[derive(Clone)]
enum HasherState {
    Sha256(Sha256),
    Sha512(Sha512),
}

impl Hasher {
    /// A hasher for `algorithm`.
    pub fn new(algorithm: Algorithm) -> Self {
        let state = match algorithm {
            Algorithm::Sha256 => HasherState::Sha256(Sha256::new()),
            Algorithm::Sha512 => HasherState::Sha512(Sha512::new()),
        };
        Hasher { state, len: 0 }
    }

    /// Adds `bytes`.
    pub fn update(&mut self, bytes: &[u8]) {
        self.len += bytes.len() as u64;
        match &mut self.state {
            HasherState::Sha256(h) => h.update(bytes),
            HasherState::Sha512(h) => h.update(bytes),
        }
    }

    /// How many bytes went in.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// The digest of what went in.
    pub fn finish(self) -> Digest {
        let (algorithm, raw) = match self.state {
            HasherState::Sha256(h) => (Algorithm::Sha256, h.finalize().to_vec()),
            HasherState::Sha512(h) => (Algorithm::Sha512, h.finalize().to_vec()),
        };
        let hex = raw.iter().map(|b| format!("{b:02x}")).collect();
        Digest { algorithm, hex }
    }
}

impl FromStr for Digest {
    type Err = DigestError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (algorithm, hex) = s.split_once(':').ok_or(DigestError::MissingAlgorithm)?;
        let algorithm = match algorithm {
            "sha256" => Algorithm::Sha256,
            "sha512" => Algorithm::Sha512,
            other => return Err(DigestError::UnsupportedAlgorithm(other.to_string())),
        };
        let hex_ok = hex.len() == algorithm.hex_len()
            && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !hex_ok {
            return Err(DigestError::BadHex {
                algorithm: algorithm.name(),
                expected: algorithm.hex_len(),
            });
        }
        Ok(Digest {
            algorithm,
            hex: hex.to_string(),
        })
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.name(), self.hex)
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_empty_is_the_well_known_value() {
        assert_eq!(
            Digest::sha256_of(b"").to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn a_streamed_hash_equals_the_whole_one() {
        let mut h = Hasher::new(Algorithm::Sha256);
        h.update(b"hello ");
        h.update(b"world");
        assert_eq!(h.len(), 11);
        assert_eq!(h.finish(), Digest::sha256_of(b"hello world"));
        assert!(Hasher::new(Algorithm::Sha512)
            .finish()
            .to_string()
            .starts_with("sha512:"));
    }

    #[test]
    fn parses_and_rejects() {
        let d: Digest = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
            .parse()
            .unwrap();
        assert!(d.matches(b""));
        assert!(!d.matches(b"x"));
        assert_eq!(
            "sha256".parse::<Digest>(),
            Err(DigestError::MissingAlgorithm)
        );
        assert!(matches!(
            "md5:abc".parse::<Digest>(),
            Err(DigestError::UnsupportedAlgorithm(_))
        ));
        assert!(matches!(
            "sha256:E3B0".parse::<Digest>(),
            Err(DigestError::BadHex { .. })
        ));
    }
}
