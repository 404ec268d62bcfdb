//! What became of an action: done, changed by someone else meanwhile, failed or
//! not attempted, with the error that says why.

use super::plan::Action;
use crate::registry::{Digest, RegistryError};

/// Why an action failed.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// The registry failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A tag removal failed half-way, with the tag on its throw-away manifest; it
    /// was pointed back at `digest`, or could not be.
    #[error("{error}; the tag was left on a throw-away manifest and {} to {digest}", if *.restored { "pointed back" } else { "could not be pointed back" })]
    LeftOnPlaceholder {
        /// What failed.
        error: RegistryError,
        /// Whether the tag points at `digest` again.
        restored: bool,
        /// The manifest the tag pointed at.
        digest: Digest,
    },
    /// The registry deleted the tag, and the manifest, which other tags or an
    /// index need, is gone too: its tag deletion took it, or another client deleted
    /// it meanwhile. Not pushed back: it may have been deleted on purpose.
    #[error("the tag was removed, and its manifest {digest} is gone too{}: the registry's tag deletion took it, or another client deleted it meanwhile; it was not pushed back", tags_word(.tags))]
    ManifestGone {
        /// The manifest.
        digest: Digest,
        /// The tags it carried that the plan kept (gone with it).
        tags: Vec<String>,
    },
    /// The tag was removed, yet the tag list still names it, on a manifest the
    /// registry does not serve, after removing it again.
    #[error("the tag list still names {tag} after its removal, on a manifest the registry does not serve (a dangling tag); removing it again did not help")]
    StillListed {
        /// The tag.
        tag: String,
    },
}

impl ActionError {
    /// The class of failure, for the exit status.
    pub fn kind(&self) -> crate::registry::ErrorKind {
        match self {
            ActionError::Registry(e) | ActionError::LeftOnPlaceholder { error: e, .. } => e.kind(),
            ActionError::ManifestGone { .. } | ActionError::StillListed { .. } => {
                crate::registry::ErrorKind::Other
            }
        }
    }
}

fn tags_word(tags: &[String]) -> String {
    if tags.is_empty() {
        String::new()
    } else {
        format!(", with the tags the plan kept on it ({})", tags.join(", "))
    }
}

/// How the repository changed after planning, so that an action was left undone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// The tags on the manifest are not the ones planned (one was added or moved).
    TagsChanged {
        /// The tags planned.
        planned: Vec<String>,
        /// The tags now.
        now: Vec<String>,
    },
    /// The tag points elsewhere now (or nowhere).
    TagMoved(Option<Digest>),
    /// An index that stays references the manifest now.
    NowReferenced(Vec<Digest>),
    /// The manifest it belongs to is left in place, so it stays too.
    ParentLeft(Digest),
    /// The tag list no longer names the tag, yet the tag still answers: the
    /// registry contradicts itself, and nothing is pushed.
    Unlisted,
    /// Tags the registry lists now could not be verified: any might point at the
    /// manifest, so it is not deleted by digest.
    UnverifiedTags(Vec<String>),
    /// A manifest pushed meanwhile names it as its `subject` (a new signature,
    /// SBOM or attestation).
    NowAttached(Digest),
    /// Two reads of the tag list disagree: these tags, named by one, left out by
    /// the next, still answer. The list is not complete, so nothing is deleted
    /// by digest in the repository.
    ListIncomplete(Vec<String>),
}

/// What became of one action.
#[derive(Debug)]
pub enum Outcome {
    /// The manifest is deleted.
    Deleted,
    /// The tag is removed, the manifest kept.
    TagRemoved(TagRemoval),
    /// The referrers index was re-pushed without the deleted entries.
    Rewritten,
    /// A tag that went against the plan was put back.
    Restored,
    /// A tag the plan kept went meanwhile, and nothing this run sent can have
    /// taken it: another client's change, reported and left as it is.
    GoneMeanwhile {
        /// Its manifest went too.
        with_manifest: bool,
    },
    /// It was already gone (someone else deleted it meanwhile).
    AlreadyGone,
    /// Left undone: the repository changed after planning.
    Changed(Change),
    /// Not started: cancelled before its turn.
    NotStarted,
    /// Not sent: the registry refused a change as unsupported earlier in this
    /// run (it turned read-only, say), so no more changes went to it.
    NotAttempted(Halt),
    /// It failed.
    Failed(ActionError),
}

impl Outcome {
    /// True when the registry was changed as planned.
    pub fn is_done(&self) -> bool {
        matches!(
            self,
            Outcome::Deleted
                | Outcome::TagRemoved(_)
                | Outcome::Rewritten
                | Outcome::AlreadyGone
                | Outcome::Restored
        )
    }
}

/// Why a run stopped sending changes to the registry: it answered a change
/// with 405 (unsupported) after the check before the run said it deletes.
#[derive(Clone, Debug)]
pub struct Halt {
    /// The refusal, in words (with its hint: read-only mode, deletion disabled).
    pub reason: String,
}

/// An action and what became of it.
#[derive(Debug)]
pub struct ActionReport {
    /// The repository.
    pub repository: String,
    /// The action.
    pub action: Action,
    /// Its outcome.
    pub outcome: Outcome,
}

/// How a tag was removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagRemoval {
    /// The registry deleted the tag itself.
    Deleted,
    /// The tag was moved onto this throw-away manifest, deleted with it.
    Placeholder(Digest),
}
