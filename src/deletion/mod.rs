//! The deletion engine, a library: no printing, no CLI types.
//!
//! It works over the [`crate::graph`]: a repository read into a
//! [`Snapshot`](crate::graph::Snapshot);
//! [`plan()`] decides, purely, what to delete so that exactly what was asked
//! goes, with the index children and attachments that nothing else needs, so that
//! the registry's plain garbage collector frees it all; [`retention`] holds
//! `prune`'s rules, decided per image; [`execute()`] carries plans out after a
//! [`recheck`].

pub(crate) mod execute;
pub(crate) mod freed;
pub(crate) mod outcome;
pub mod plan;
pub mod policy;
pub mod protect;
pub(crate) mod recheck;
pub(crate) mod referrers;
pub(crate) mod resolve;
pub mod retention;
pub(crate) mod store;
pub(crate) mod untag;
pub(crate) mod watch;

#[cfg(test)]
mod scenarios;

pub(crate) use execute::{execute, Observer};
pub(crate) use outcome::{ActionReport, Change, Outcome};
pub use plan::{plan, Action, Cause, KeptReason, Plan, Refusal, Request};
pub(crate) use recheck::recheck;
pub(crate) use referrers::plan_with_referrers;
