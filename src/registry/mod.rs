//! A client for the Docker Registry HTTP API v2 / OCI Distribution API.
//!
//! No printing and no `anyhow` here: every failure is a typed [`RegistryError`]
//! whose [`ErrorKind`] the CLI maps to an exit code.

pub mod auth;
pub mod blobs;
pub mod catalog;
pub mod client;
pub mod credential;
pub mod diagnose;
pub mod digest;
mod direct;
pub mod error;
pub mod manifests;
pub mod media;
pub mod prefix;
pub mod proxy;
mod redirect;
pub mod reference;
pub mod retry;
pub mod secret;
pub mod tags;
pub mod tls;
pub mod tokens;
pub mod transport;

pub use client::{ClientOptions, Observer, Registry, RequestRecord};
pub use credential::{Credential, Resolved, Secret};
pub use digest::Digest;
pub use error::{ErrorKind, RegistryError};
pub use media::Platform;
pub use reference::{Reference, RegistryTarget};
pub use tls::TlsOptions;
