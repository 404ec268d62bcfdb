//! The registry as the deletion engine changes it: the handful of requests the
//! executor, the tag watch and the tag removal send, behind one trait. The
//! [`Registry`] is the one real implementation; the tests drive the engine's
//! state machines over an in-memory registry (`store/memory.rs`, built for
//! tests only) that can be scripted to move a tag between two calls, fail a
//! request, or lie about a digest.

use std::future::Future;

use crate::registry::manifests::Manifest;
use crate::registry::reference::ManifestRef;
use crate::registry::tags::{Placeholder, TagDeletion, TagRemovalError};
use crate::registry::{Digest, Registry, RegistryError};

#[cfg(test)]
pub(crate) mod memory;

/// What the deletion engine asks of a registry, one repository at a time.
pub trait Store: Sync {
    /// The repository's tag list (`NotFound` for a repository it does not know).
    fn tags(&self, repository: &str) -> impl Future<Output = Result<Vec<String>, RegistryError>>;

    /// A manifest by tag or digest, its digest computed from the bytes.
    fn get_manifest(
        &self,
        repository: &str,
        reference: &ManifestRef,
    ) -> impl Future<Output = Result<Manifest, RegistryError>>;

    /// What a HEAD of a manifest says: its digest (when the registry sends one)
    /// and media type.
    fn head_manifest(
        &self,
        repository: &str,
        reference: &ManifestRef,
    ) -> impl Future<Output = Result<(Option<Digest>, String), RegistryError>>;

    /// Pushes `bytes` under `reference`; returns their digest.
    fn put_manifest(
        &self,
        repository: &str,
        reference: &ManifestRef,
        media_type: &str,
        bytes: &[u8],
    ) -> impl Future<Output = Result<Digest, RegistryError>>;

    /// Deletes the manifest `digest`, and with it every tag on it.
    fn delete_manifest(
        &self,
        repository: &str,
        digest: &Digest,
    ) -> impl Future<Output = Result<(), RegistryError>>;

    /// Whether the registry deletes tags itself, as known so far.
    fn tag_deletion(&self) -> TagDeletion;

    /// Deletes `tag` itself: false when the registry has no tag deletion.
    fn delete_tag(
        &self,
        repository: &str,
        tag: &str,
    ) -> impl Future<Output = Result<bool, RegistryError>>;

    /// A throw-away manifest unique to removing `repository:tag`, its config
    /// blob pushed.
    fn placeholder(
        &self,
        repository: &str,
        tag: &str,
        oci: bool,
    ) -> impl Future<Output = Result<Placeholder, RegistryError>>;

    /// Removes `tag` where the registry has no tag deletion: moves it onto
    /// `placeholder`, then deletes that manifest.
    fn untag_with(
        &self,
        repository: &str,
        tag: &str,
        placeholder: &Placeholder,
    ) -> impl Future<Output = Result<(), TagRemovalError>>;
}

impl Store for Registry {
    async fn tags(&self, repository: &str) -> Result<Vec<String>, RegistryError> {
        Registry::tags(self, repository).await
    }

    async fn get_manifest(
        &self,
        repository: &str,
        reference: &ManifestRef,
    ) -> Result<Manifest, RegistryError> {
        Registry::get_manifest(self, repository, reference).await
    }

    async fn head_manifest(
        &self,
        repository: &str,
        reference: &ManifestRef,
    ) -> Result<(Option<Digest>, String), RegistryError> {
        Registry::head_manifest(self, repository, reference).await
    }

    async fn put_manifest(
        &self,
        repository: &str,
        reference: &ManifestRef,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<Digest, RegistryError> {
        Registry::put_manifest(self, repository, reference, media_type, bytes).await
    }

    async fn delete_manifest(
        &self,
        repository: &str,
        digest: &Digest,
    ) -> Result<(), RegistryError> {
        Registry::delete_manifest(self, repository, digest).await
    }

    fn tag_deletion(&self) -> TagDeletion {
        Registry::tag_deletion(self)
    }

    async fn delete_tag(&self, repository: &str, tag: &str) -> Result<bool, RegistryError> {
        Registry::delete_tag(self, repository, tag).await
    }

    async fn placeholder(
        &self,
        repository: &str,
        tag: &str,
        oci: bool,
    ) -> Result<Placeholder, RegistryError> {
        Registry::placeholder(self, repository, tag, oci).await
    }

    async fn untag_with(
        &self,
        repository: &str,
        tag: &str,
        placeholder: &Placeholder,
    ) -> Result<(), TagRemovalError> {
        Registry::untag_with(self, repository, tag, placeholder).await
    }
}
