//! Where credentials come from: flags, environment, the OS keyring (when regctl
//! logged in there), docker's config and its credential helpers, in that order;
//! and where `regctl login` stores them ([`store`]).

mod added;
pub mod docker_config;
mod error;
mod helper;
pub mod json_file;
mod json_text;
pub mod keyring;
pub mod own_helper;
mod resolver;
pub mod store;

pub use crate::registry::credential::{Credential, Resolved, Secret};
pub use docker_config::DockerConfig;
pub use error::CredentialError;
pub use resolver::Resolver;
