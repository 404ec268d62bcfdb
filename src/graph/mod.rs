//! The image graph of a repository, a library: no printing, no CLI types.
//!
//! What a manifest points at (an index's children, an image's config and
//! layers), what points at it (the indexes that list it, its attachments: OCI
//! referrers by `subject`, cosign and referrers fallback tags), and the bytes
//! it all takes. One [`Loader`] reads a repository into a [`Snapshot`]; `inspect`,
//! `du` and the deletion engine read the graph from there. Nothing here knows of
//! deletion or of the command line.

pub mod attachment;
pub mod created;
pub(crate) mod load;
pub mod node;
pub mod snapshot;
pub(crate) mod space;
#[cfg(test)]
pub(crate) mod testing;

pub use attachment::{cosign_tag, fallback_tag_for, Attachment, AttachmentKind};
pub use created::{Created, Undated};
pub(crate) use load::{Cache, Depth, Loader};
pub use node::{is_image_config, Node};
pub use snapshot::Snapshot;
