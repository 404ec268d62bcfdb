//! A client for the Docker Registry HTTP API v2 / OCI Distribution API.
//!
//! No printing and no `anyhow` here: every failure is a typed [`RegistryError`]
//! whose [`ErrorKind`] the CLI maps to an exit code.
//!
//! The modules are layered one way: a module imports only modules of its own
//! layer or of a layer below, never one above, and no two import each other
//! (the test `layers::imports_point_down` reads the `use` lines and holds it).
//! From the bottom:
//!
//! 1. leaves, which import nothing of the client: `secret`, `digest`, `hint`,
//!    `redact`, `limits`, `retry`, `proxy`;
//! 2. the vocabulary: `error`, `reference`, `media`, `credential`, `challenge`
//!    (scopes and `WWW-Authenticate`), `token_cache`, `tag_deletion`;
//! 3. what the transport is made of: `tls` (with `tls_words`, its errors in
//!    words, and `tls_probe`, doctor's look at it), `options`, `redirect`, `direct`;
//! 4. `transport`: sending, redirects, the retry loop, body limits, the
//!    observer; it knows no authentication;
//! 5. `auth`: the challenge, Basic and Bearer authorization, token fetching,
//!    over the transport;
//! 6. `client`: [`Registry`], the face, over the authenticator;
//! 7. operations, each adding [`Registry`] methods: `catalog`, `tags`,
//!    `manifests`, `blobs`, `uploads` (mounts, chunked and resumed uploads,
//!    ranged reads), `referrers`;
//! 8. compositions of operations: `diagnose`, `prefix`.

pub mod auth;
pub(crate) mod blobs;
pub mod catalog;
mod challenge;
pub(crate) mod client;
pub(crate) mod credential;
pub(crate) mod diagnose;
pub(crate) mod digest;
mod direct;
pub(crate) mod error;
pub(crate) mod hint;
pub(crate) mod limits;
pub(crate) mod manifests;
pub mod media;
mod options;
pub(crate) mod prefix;
pub(crate) mod proxy;
pub(crate) mod redact;
mod redirect;
pub(crate) mod reference;
mod referrers;
pub(crate) mod retry;
pub(crate) mod secret;
mod tag_deletion;
pub(crate) mod tags;
pub(crate) mod tls;
pub(crate) mod tls_probe;
pub(crate) mod tls_words;
mod token_cache;
pub(crate) mod transport;
pub(crate) mod uploads;

pub use client::Registry;
pub use credential::{Credential, Resolved, Secret};
pub use digest::Digest;
pub use error::{ErrorKind, RegistryError};
pub use media::Platform;
pub use options::{ClientOptions, Observer, RequestRecord};
pub use reference::{Reference, RegistryTarget};
pub use tls::TlsOptions;

#[cfg(test)]
mod layers;
#[cfg(test)]
mod test_server;
