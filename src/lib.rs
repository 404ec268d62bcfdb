//! regctl: list, resolve and safely delete images in private container registries.
//!
//! The [`registry`] module is a library client for the distribution API; the
//! [`commands`] are thin glue that compose it for the command line.
#![deny(missing_docs)]

pub mod cli;
pub mod commands;
pub(crate) mod copy;
pub mod credentials;
pub mod deletion;
pub mod exit;
pub mod file;
pub mod graph;
pub mod hints;
pub(crate) mod inspect;
pub mod interrupt;
pub mod layout;
pub mod output;
pub mod registry;
pub mod setup;
pub mod terminal;
pub mod text;

pub use commands::run;
