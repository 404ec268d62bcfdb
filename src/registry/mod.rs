//! A client for the Docker Registry HTTP API v2 / OCI Distribution API.
//!
//! No printing and no `anyhow` here: every failure is a typed [`RegistryError`]
//! whose [`ErrorKind`] the CLI maps to an exit code.

pub mod auth;
pub mod client;
pub mod credential;
pub mod deletion;
pub mod digest;
pub mod error;
pub mod listing;
pub mod manifest;
pub mod manifests;
pub mod reference;
pub mod retry;
pub mod secret;
pub mod tls;
pub mod tokens;
pub mod transport;
pub mod upload;

pub use client::{ClientOptions, Observer, Registry, RequestRecord};
pub use credential::{Credential, Resolved, Secret};
pub use digest::Digest;
pub use error::{ErrorKind, RegistryError};
pub use manifest::Platform;
pub use reference::{Reference, RegistryTarget};
pub use tls::TlsOptions;
