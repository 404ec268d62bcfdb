//! An image of a `docker save` archive, made ready for a registry
//! ([`crate::layout::push_ready`]), as the source of a copy: its manifest and
//! config in memory, its compressed layers in temporary files.

use std::sync::Arc;

use super::layout_side::blocking;
use super::side::{Blob, Manifest, Source};
use super::{CopyError, Result};
use crate::layout::push_ready::ReadyImage;
use crate::layout::{io, read_range};
use crate::registry::media::DOCKER_MANIFEST;
use crate::registry::reference::ManifestRef;
use crate::registry::Digest;

/// A `docker save` image ready to send.
pub(crate) struct ReadySide {
    /// The image.
    pub image: Arc<ReadyImage>,
    /// The archive, in words.
    pub shown: String,
}

impl ReadySide {
    /// The image's manifest.
    pub fn manifest(&self) -> Manifest {
        Manifest {
            digest: Digest::sha256_of(&self.image.manifest),
            media_type: DOCKER_MANIFEST.to_string(),
            bytes: self.image.manifest.clone(),
        }
    }
}

impl Source for ReadySide {
    fn name(&self) -> String {
        self.shown.clone()
    }

    fn registry_repository(&self) -> Option<(&str, &str)> {
        None
    }

    async fn manifest(&self, reference: &ManifestRef) -> Result<Manifest> {
        let manifest = ReadySide::manifest(self);
        match reference {
            ManifestRef::Digest(d) if *d == manifest.digest => Ok(manifest),
            _ => Err(CopyError::Invalid(format!(
                "{} holds one image, {}; {reference} is not it",
                self.shown, manifest.digest
            ))),
        }
    }

    async fn read_blob(&self, blob: &Blob, offset: u64, len: u64) -> Result<Vec<u8>> {
        // The image's blobs are its layers (in temporary files) and its config.
        let image = self.image.clone();
        let digest = blob.digest.clone();
        let layer = image.layers.iter().position(|l| l.digest == digest);
        if let Some(n) = layer {
            return blocking(move || {
                let file = &image.layers[n].file;
                let path = file.path().to_path_buf();
                read_range(file.reopen().map_err(io(&path))?, &path, offset, len)
            })
            .await;
        }
        let (start, end) = (offset as usize, (offset + len) as usize);
        match self.image.config.get(start..end) {
            Some(bytes) if Digest::sha256_of(&self.image.config) == digest => Ok(bytes.to_vec()),
            _ => Err(CopyError::Invalid(format!(
                "{} holds no blob {digest} with bytes {start}..{end}",
                self.shown
            ))),
        }
    }

    async fn tags(&self) -> Result<Vec<String>> {
        Ok(Vec::new())
    }

    async fn referrers(&self, _digest: &Digest) -> Result<Vec<Digest>> {
        Ok(Vec::new())
    }
}
