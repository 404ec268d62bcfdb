//! The deletion engine, a library: no printing, no CLI types.
//!
//! A repository is read into a [`Snapshot`] (tags, manifests, the graph between
//! them); [`plan()`] decides, purely, what to delete so that exactly what was asked
//! goes, with the index children and attachments that nothing else needs, so that
//! the registry's plain garbage collector frees it all; [`retention`] holds
//! `prune`'s rules, decided per image; [`execute()`] carries plans out after a
//! [`recheck`].

pub mod execute;
pub mod load;
pub mod plan;
pub mod retention;
pub mod snapshot;
pub mod space;
pub mod untag;
pub mod watch;

pub use execute::{
    check_actions, execute, recheck, ActionError, Change, Done, Halt, Observer, Outcome,
};
pub use load::{Cache, Depth, Loader};
pub use plan::{plan, Action, Cause, Kept, KeptReason, Plan, Refusal, Request};
pub use snapshot::{Attachment, AttachmentKind, Created, Node, Snapshot, Undated};
pub use untag::TagRemoval;
