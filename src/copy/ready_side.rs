//! An image of a `docker save` archive, made ready for a registry
//! ([`crate::layout::push_ready`]), as the source of a copy: its manifest and
//! config in memory, its compressed layers in temporary files.

use std::io::{Read as _, Seek as _, SeekFrom};
use std::sync::Arc;

use super::side::{Blob, Manifest, Source};
use super::{CopyError, Result};
use crate::layout::push_ready::ReadyImage;
use crate::layout::{io, LayoutError};
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
        if Digest::sha256_of(&self.image.config) == blob.digest {
            let start = offset as usize;
            let end = (offset + len) as usize;
            return self
                .image
                .config
                .get(start..end)
                .map(<[u8]>::to_vec)
                .ok_or_else(|| {
                    CopyError::Invalid(format!("the config has no bytes {start}..{end}"))
                });
        }
        let image = self.image.clone();
        let digest = blob.digest.clone();
        let read = tokio::task::spawn_blocking(move || {
            let layer = image
                .layers
                .iter()
                .find(|l| l.digest == digest)
                .ok_or_else(|| LayoutError::NotFound {
                    path: std::path::PathBuf::from("-"),
                    reason: format!("no layer {digest}"),
                })?;
            let path = layer.file.path().to_path_buf();
            let mut file = layer.file.reopen().map_err(io(&path))?;
            file.seek(SeekFrom::Start(offset)).map_err(io(&path))?;
            let mut bytes = vec![0u8; len as usize];
            file.read_exact(&mut bytes).map_err(io(&path))?;
            Ok::<_, LayoutError>(bytes)
        })
        .await;
        match read {
            Ok(bytes) => Ok(bytes?),
            Err(e) => Err(CopyError::Invalid(format!(
                "reading a layer stopped without an answer: {e}"
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
