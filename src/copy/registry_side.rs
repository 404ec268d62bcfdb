//! A repository of a registry as either side of a copy.

use std::sync::Arc;

use serde_json::{json, Value};

use super::side::{Blob, BlobWriter, Manifest, Mounted, Sink, Source};
use super::{CopyError, Result};
use crate::graph::{fallback_tag_for, Node};
use crate::registry::media::OCI_INDEX;
use crate::registry::reference::ManifestRef;
use crate::registry::uploads::{Mount, Upload};
use crate::registry::{Digest, ErrorKind, Registry};

/// Blobs up to this size go in one request (the upload's closing PUT); larger
/// ones in chunks of this size, so that none is held whole in memory.
pub const CHUNK: u64 = 8 * 1024 * 1024;

/// One repository of a registry.
pub(crate) struct RegistrySide {
    /// The registry.
    pub registry: Arc<Registry>,
    /// The repository.
    pub repository: String,
}

impl RegistrySide {
    fn reference(&self, digest: &Digest) -> ManifestRef {
        ManifestRef::Digest(digest.clone())
    }
}

impl Source for RegistrySide {
    fn name(&self) -> String {
        format!("{}/{}", self.registry.host(), self.repository)
    }

    fn registry_repository(&self) -> Option<(&str, &str)> {
        Some((self.registry.host(), &self.repository))
    }

    async fn manifest(&self, reference: &ManifestRef) -> Result<Manifest> {
        let got = self
            .registry
            .get_manifest(&self.repository, reference)
            .await?;
        Ok(Manifest {
            digest: got.digest,
            media_type: got.media_type,
            bytes: got.bytes,
        })
    }

    async fn read_blob(&self, blob: &Blob, offset: u64, len: u64) -> Result<Vec<u8>> {
        Ok(self
            .registry
            .read_blob_range(&self.repository, &blob.digest, offset, len, blob.size)
            .await?)
    }

    async fn tags(&self) -> Result<Vec<String>> {
        Ok(self.registry.tags(&self.repository).await?)
    }

    async fn referrers(&self, digest: &Digest) -> Result<Vec<Digest>> {
        let found = self.registry.referrers(&self.repository, digest).await?;
        Ok(found
            .unwrap_or_default()
            .into_iter()
            .map(|d| d.digest)
            .collect())
    }
}

impl Sink for RegistrySide {
    type Writer = RegistryWriter;

    fn registry_repository(&self) -> Option<(&str, &str)> {
        Some((self.registry.host(), &self.repository))
    }

    async fn has_blob(&self, blob: &Blob) -> Result<bool> {
        Ok(self
            .registry
            .has_blob(&self.repository, &blob.digest)
            .await?)
    }

    async fn mount(&self, blob: &Blob, from: &str) -> Result<Mounted<RegistryWriter>> {
        match self
            .registry
            .mount_blob(&self.repository, &blob.digest, from)
            .await?
        {
            Mount::Mounted => Ok(Mounted::Yes),
            Mount::Upload(upload) => Ok(Mounted::No(self.writer_with(blob, Some(upload)))),
        }
    }

    async fn writer(&self, blob: &Blob) -> Result<RegistryWriter> {
        // A large blob's session is opened now, to learn the chunk size it takes.
        let upload = if blob.size > CHUNK {
            Some(self.registry.start_upload(&self.repository).await?)
        } else {
            None
        };
        Ok(self.writer_with(blob, upload))
    }

    async fn has_manifest(&self, digest: &Digest) -> Result<bool> {
        match self
            .registry
            .head_manifest(&self.repository, &self.reference(digest))
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn tagged(&self, tag: &str) -> Result<Option<Digest>> {
        let reference = ManifestRef::Tag(tag.to_string());
        match self
            .registry
            .head_or_get(&self.repository, &reference)
            .await
        {
            Ok(head) => Ok(Some(head.digest)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn put_manifest(&self, manifest: &Manifest, tag: Option<&str>) -> Result<()> {
        let reference = match tag {
            Some(tag) => ManifestRef::Tag(tag.to_string()),
            None => self.reference(&manifest.digest),
        };
        self.registry
            .put_manifest(
                &self.repository,
                &reference,
                &manifest.media_type,
                &manifest.bytes,
            )
            .await?;
        Ok(())
    }

    async fn list_referrer(&self, subject: &Digest, referrer: &Manifest) -> Result<bool> {
        let listed = self.registry.referrers(&self.repository, subject).await?;
        if listed.is_some() {
            // The registry has the API: it lists the referrer by its `subject`.
            return Ok(false);
        }
        let tag = ManifestRef::Tag(fallback_tag_for(subject));
        let mut index = match self.registry.get_manifest(&self.repository, &tag).await {
            Ok(existing) => serde_json::from_slice::<Value>(&existing.bytes).map_err(|e| {
                CopyError::Invalid(format!(
                    "the fallback index {tag} of {}: {e}",
                    Source::name(self)
                ))
            })?,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []})
            }
            Err(e) => return Err(e.into()),
        };
        let Some(manifests) = index.get_mut("manifests").and_then(Value::as_array_mut) else {
            return Err(CopyError::Invalid(format!(
                "the fallback index {tag} of {} has no manifests list",
                Source::name(self)
            )));
        };
        let digest = referrer.digest.to_string();
        if manifests
            .iter()
            .any(|m| m.get("digest").and_then(Value::as_str) == Some(&digest))
        {
            return Ok(false);
        }
        let node = Node::from_bytes(&referrer.media_type, Arc::from(referrer.bytes.as_slice()));
        let mut descriptor = json!({
            "mediaType": referrer.media_type,
            "digest": digest,
            "size": referrer.bytes.len(),
        });
        if let Some(kind) = node.artifact_type {
            descriptor["artifactType"] = kind.into();
        }
        if let Some(annotations) = serde_json::from_slice::<Value>(&referrer.bytes)
            .ok()
            .and_then(|v| v.get("annotations").cloned())
        {
            descriptor["annotations"] = annotations;
        }
        manifests.push(descriptor);
        let bytes = serde_json::to_vec(&index)
            .map_err(|e| CopyError::Invalid(format!("the fallback index {tag}: {e}")))?;
        self.registry
            .put_manifest(&self.repository, &tag, OCI_INDEX, &bytes)
            .await?;
        Ok(true)
    }
}

impl RegistrySide {
    fn writer_with(&self, blob: &Blob, upload: Option<Upload>) -> RegistryWriter {
        let chunk = upload
            .as_ref()
            .and_then(|u| u.min_chunk)
            .map_or(CHUNK, |min| min.max(CHUNK));
        RegistryWriter {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            whole: blob.size <= CHUNK,
            upload,
            small: Vec::new(),
            chunk,
        }
    }
}

/// A blob on its way into a registry: held for the closing PUT when small,
/// else sent a chunk at a time.
pub(crate) struct RegistryWriter {
    registry: Arc<Registry>,
    repository: String,
    whole: bool,
    upload: Option<Upload>,
    small: Vec<u8>,
    chunk: u64,
}

impl BlobWriter for RegistryWriter {
    fn chunk_size(&self) -> u64 {
        self.chunk
    }

    async fn write(&mut self, chunk: Vec<u8>) -> Result<()> {
        if self.whole {
            // Held for the closing PUT; the first chunk as it is, without a copy.
            if self.small.is_empty() {
                self.small = chunk;
            } else {
                self.small.extend_from_slice(&chunk);
            }
            return Ok(());
        }
        let upload = match &mut self.upload {
            Some(upload) => upload,
            None => self
                .upload
                .insert(self.registry.start_upload(&self.repository).await?),
        };
        self.registry.upload_chunk(upload, chunk.into()).await?;
        Ok(())
    }

    async fn finish(mut self, digest: &Digest) -> Result<()> {
        let upload = match self.upload.take() {
            Some(upload) => upload,
            None => self.registry.start_upload(&self.repository).await?,
        };
        let last = std::mem::take(&mut self.small);
        self.registry
            .finish_upload(upload, digest, last.into())
            .await?;
        Ok(())
    }

    async fn cancel(mut self) {
        if let Some(upload) = self.upload.take() {
            self.registry.cancel_upload(upload).await;
        }
    }
}
