//! Whether a registry deletes tags itself: learnt from the first try, and kept
//! by its client for every later removal.

use std::sync::atomic::{AtomicU8, Ordering};

/// Whether the registry deletes tags itself, once known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagDeletion {
    /// Not tried yet.
    Unknown,
    /// `DELETE /manifests/<tag>` answered 202.
    Supported,
    /// It answered that it has no such operation (Distribution 2.8: 400).
    Unsupported,
}

impl From<TagDeletion> for u8 {
    fn from(known: TagDeletion) -> u8 {
        match known {
            TagDeletion::Unknown => 0,
            TagDeletion::Supported => 1,
            TagDeletion::Unsupported => 2,
        }
    }
}

impl From<u8> for TagDeletion {
    /// The inverse of `u8::from`; any other value is not known.
    fn from(stored: u8) -> TagDeletion {
        match stored {
            1 => TagDeletion::Supported,
            2 => TagDeletion::Unsupported,
            _ => TagDeletion::Unknown,
        }
    }
}

/// A [`TagDeletion`] that concurrent removals share: the last answer learnt
/// is what the next removal reads.
#[derive(Debug)]
pub(crate) struct LearntTagDeletion(AtomicU8);

impl Default for LearntTagDeletion {
    fn default() -> Self {
        LearntTagDeletion(AtomicU8::new(TagDeletion::Unknown.into()))
    }
}

impl LearntTagDeletion {
    /// What is known so far.
    pub(crate) fn get(&self) -> TagDeletion {
        self.0.load(Ordering::Relaxed).into()
    }

    /// Records what the registry answered.
    pub(crate) fn set(&self, learnt: TagDeletion) {
        self.0.store(learnt.into(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_learnt_is_what_is_read_and_nothing_is_known_at_first() {
        let learnt = LearntTagDeletion::default();
        assert_eq!(learnt.get(), TagDeletion::Unknown);
        for state in [
            TagDeletion::Supported,
            TagDeletion::Unsupported,
            TagDeletion::Unknown,
        ] {
            learnt.set(state);
            assert_eq!(learnt.get(), state);
            assert_eq!(TagDeletion::from(u8::from(state)), state);
        }
    }
}
