//! Any source, as one type: the command picks one at run time.

use super::layout_side::LayoutSide;
use super::ready_side::ReadySide;
use super::registry_side::RegistrySide;
use super::side::{Blob, Manifest, Source};
use super::Result;
use crate::registry::reference::ManifestRef;
use crate::registry::Digest;

/// A registry repository, an OCI layout (from a folder or an archive), or a
/// `docker save` image.
pub(crate) enum AnySource {
    /// A repository of a registry.
    Registry(RegistrySide),
    /// An OCI image layout.
    Layout(LayoutSide),
    /// A `docker save` image.
    Ready(ReadySide),
}

macro_rules! each {
    ($self:ident, $side:ident => $body:expr) => {
        match $self {
            AnySource::Registry($side) => $body,
            AnySource::Layout($side) => $body,
            AnySource::Ready($side) => $body,
        }
    };
}

impl Source for AnySource {
    fn name(&self) -> String {
        each!(self, s => s.name())
    }

    fn registry_repository(&self) -> Option<(&str, &str)> {
        each!(self, s => s.registry_repository())
    }

    async fn manifest(&self, reference: &ManifestRef) -> Result<Manifest> {
        each!(self, s => Source::manifest(s, reference).await)
    }

    async fn read_blob(&self, blob: &Blob, offset: u64, len: u64) -> Result<Vec<u8>> {
        each!(self, s => s.read_blob(blob, offset, len).await)
    }

    async fn tags(&self) -> Result<Vec<String>> {
        each!(self, s => s.tags().await)
    }

    async fn referrers(&self, digest: &Digest) -> Result<Vec<Digest>> {
        each!(self, s => s.referrers(digest).await)
    }
}
