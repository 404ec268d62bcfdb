//! Copying images, a library: no printing, no CLI types.
//!
//! An image is read from a [`Source`] (a registry repository, an OCI layout)
//! as a graph ([`walk`]): its manifests, an index's children, and its
//! attachments (cosign tags, `subject` referrers, referrers fallback indexes);
//! then [`transfer`] writes it to a [`Sink`] in the only safe order: blobs first
//! (each streamed a chunk at a time and verified), manifests bottom-up by
//! digest (children before indexes, subjects before referrers), tags last, so
//! that no tag ever points at a half image. What the destination holds already
//! is not sent again; a blob in another repository of the same registry is
//! mounted.

pub(crate) mod any_source;
pub(crate) mod layout_side;
pub(crate) mod ready_side;
pub(crate) mod registry_side;
pub(crate) mod side;
pub(crate) mod transfer;
pub(crate) mod walk;

use crate::layout::LayoutError;
use crate::registry::RegistryError;

pub(crate) use side::{Manifest, Sink, Source};
pub(crate) use transfer::Summary;
pub(crate) use walk::pick_platform;

/// Why a copy failed.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// A registry, on either side, failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A local image could not be read or written.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// A blob's bytes do not hash to its digest: nothing of it was kept.
    #[error("blob {digest} from {source_name}: its bytes hash to {actual}; not copied")]
    DigestMismatch {
        /// The digest it was asked for by.
        digest: String,
        /// What its bytes hash to.
        actual: String,
        /// Where it was read.
        source_name: String,
    },
    /// A manifest that cannot be copied as it is.
    #[error("{0}")]
    Invalid(String),
    /// Ctrl-C or the deadline: nothing more was started.
    #[error("interrupted")]
    Interrupted,
}

/// Shorthand for copy results.
pub type Result<T, E = CopyError> = std::result::Result<T, E>;
