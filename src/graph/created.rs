//! When an image was made, or why that is not known.

use time::OffsetDateTime;

/// When an image was made, or why that is not known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Created {
    /// The config's `created`.
    At(OffsetDateTime),
    /// Not known, for this reason.
    Unknown(Undated),
}

/// Why an image has no creation time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Undated {
    /// The config has no `created`, or one that is not RFC 3339.
    NoCreatedField,
    /// The config is larger than regctl reads.
    ConfigTooLarge,
    /// The config is not JSON.
    ConfigNotJson,
    /// The config is not an image config (an artifact with its own config type).
    NotAnImageConfig(String),
    /// The registry served a config that is over the size limit or does not
    /// match its digest.
    ConfigUnreadable,
    /// The config blob is missing.
    ConfigMissing,
    /// The manifest could not be read as a manifest.
    UnreadableManifest,
    /// An index none of whose children has a creation time.
    NoDatedChild,
    /// The config's `created` cannot be true: before 1981 (what Jib, ko, Bazel,
    /// Nix and buildpacks write for reproducible builds) or more than a day
    /// ahead of the clock.
    ImplausibleDate(OffsetDateTime),
}

/// Dates before this are not taken for creation times: reproducible builds
/// write 1970-01-01 (Jib, ko, Bazel, Nix) or 1980-01-01 (buildpacks).
pub const EARLIEST_PLAUSIBLE: OffsetDateTime = time::macros::datetime!(1981-01-01 0:00 UTC);

/// How far ahead of the clock a creation time may be (clocks drift).
pub const FUTURE_ALLOWANCE: time::Duration = time::Duration::DAY;

impl Created {
    /// This creation time as one to rank and age by, given the clock: a time
    /// before [`EARLIEST_PLAUSIBLE`] or more than [`FUTURE_ALLOWANCE`] ahead of
    /// `now` makes the image undated.
    pub fn plausible(self, now: OffsetDateTime) -> Created {
        match self {
            Created::At(t) if t < EARLIEST_PLAUSIBLE || t > now + FUTURE_ALLOWANCE => {
                Created::Unknown(Undated::ImplausibleDate(t))
            }
            other => other,
        }
    }
}
