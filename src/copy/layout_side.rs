//! An OCI image layout folder as either side of a copy. File work runs on
//! threads of its own, off the run's one async thread.

use std::io::Write as _;

use super::side::{Blob, BlobWriter, Manifest, Mounted, Sink, Source};
use super::{CopyError, Result};
use crate::layout::oci::{Entry, OciLayout};
use crate::layout::{io, read_range, LayoutError};
use crate::registry::digest::Hasher;
use crate::registry::manifests::MAX_MANIFEST_BODY;
use crate::registry::reference::ManifestRef;
use crate::registry::Digest;

/// Chunks read from and written to files.
const CHUNK: u64 = 8 * 1024 * 1024;

/// An OCI image layout folder.
pub(crate) struct LayoutSide {
    /// The folder.
    pub layout: OciLayout,
}

/// Runs file work on a thread of its own.
pub(super) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, LayoutError> + Send + 'static,
) -> Result<T> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => Ok(result?),
        Err(e) => Err(CopyError::Invalid(format!(
            "file work stopped without an answer: {e}"
        ))),
    }
}

impl LayoutSide {
    /// The manifest entry `name` names (without a name, the layout's only one).
    pub async fn entry(&self, name: Option<&str>) -> Result<Entry> {
        let layout = self.layout.clone();
        let name = name.map(str::to_string);
        blocking(move || layout.resolve(name.as_deref())).await
    }

    async fn manifest_bytes(&self, digest: &Digest) -> Result<Vec<u8>> {
        let layout = self.layout.clone();
        let digest = digest.clone();
        blocking(move || layout.read_blob(&digest, MAX_MANIFEST_BODY as u64)).await
    }
}

/// The media type a manifest's own `mediaType` field names (a layout's blobs
/// carry no type of their own).
fn media_type_of(bytes: &[u8], fallback: &str) -> String {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| v.get("mediaType")?.as_str().map(str::to_string))
        .unwrap_or_else(|| fallback.to_string())
}

impl Source for LayoutSide {
    fn name(&self) -> String {
        format!("oci:{}", self.layout.root().display())
    }

    fn registry_repository(&self) -> Option<(&str, &str)> {
        None
    }

    async fn manifest(&self, reference: &ManifestRef) -> Result<Manifest> {
        let (digest, media_type) = match reference {
            ManifestRef::Tag(name) => {
                let entry = self.entry(Some(name)).await?;
                (entry.digest, entry.media_type)
            }
            ManifestRef::Digest(digest) => (digest.clone(), String::new()),
        };
        let bytes = self.manifest_bytes(&digest).await?;
        Ok(Manifest {
            media_type: media_type_of(&bytes, &media_type),
            digest,
            bytes,
        })
    }

    async fn read_blob(&self, blob: &Blob, offset: u64, len: u64) -> Result<Vec<u8>> {
        let layout = self.layout.clone();
        let digest = blob.digest.clone();
        blocking(move || {
            let file = layout.open_blob(&digest)?;
            read_range(file, &layout.blob_path(&digest), offset, len)
        })
        .await
    }

    async fn tags(&self) -> Result<Vec<String>> {
        let layout = self.layout.clone();
        let entries = blocking(move || layout.entries()).await?;
        Ok(entries.into_iter().filter_map(|e| e.name).collect())
    }

    async fn referrers(&self, _digest: &Digest) -> Result<Vec<Digest>> {
        Ok(Vec::new())
    }
}

impl Sink for LayoutSide {
    type Writer = LayoutWriter;

    fn registry_repository(&self) -> Option<(&str, &str)> {
        None
    }

    async fn has_blob(&self, blob: &Blob) -> Result<bool> {
        Ok(self.layout.has_blob(&blob.digest, blob.size))
    }

    async fn mount(&self, blob: &Blob, _from: &str) -> Result<Mounted<LayoutWriter>> {
        Ok(Mounted::No(self.writer(blob).await?))
    }

    async fn writer(&self, blob: &Blob) -> Result<LayoutWriter> {
        let path = self.layout.blob_path(&blob.digest);
        let algorithm = blob.digest.algorithm();
        let file = blocking(move || {
            let dir = path.parent().map(|p| p.to_path_buf()).unwrap_or_default();
            std::fs::create_dir_all(&dir).map_err(io(&dir))?;
            tempfile::NamedTempFile::new_in(&dir).map_err(io(&dir))
        })
        .await?;
        Ok(LayoutWriter {
            file: Some(file),
            hasher: Hasher::new(algorithm),
            path: self.layout.blob_path(&blob.digest),
        })
    }

    async fn has_manifest(&self, digest: &Digest) -> Result<bool> {
        let path = self.layout.blob_path(digest);
        Ok(path.is_file())
    }

    async fn tagged(&self, tag: &str) -> Result<Option<Digest>> {
        if tag.is_empty() {
            return Ok(None);
        }
        match self.entry(Some(tag)).await {
            Ok(entry) => Ok(Some(entry.digest)),
            Err(CopyError::Layout(LayoutError::NotFound { .. })) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn put_manifest(&self, manifest: &Manifest, tag: Option<&str>) -> Result<()> {
        let layout = self.layout.clone();
        let manifest = manifest.clone();
        let tag = tag.map(str::to_string);
        blocking(move || {
            layout.write_blob(&manifest.digest, &mut manifest.bytes.as_slice())?;
            // An empty name: listed in index.json without one.
            if let Some(name) = tag {
                layout.put_entry(&Entry {
                    media_type: manifest.media_type.clone(),
                    digest: manifest.digest.clone(),
                    size: manifest.bytes.len() as u64,
                    name: (!name.is_empty()).then_some(name),
                })?;
            }
            Ok(())
        })
        .await
    }

    async fn list_referrer(&self, _subject: &Digest, _referrer: &Manifest) -> Result<bool> {
        // A layout lists what it holds in index.json; the referrer is a blob of it.
        Ok(false)
    }
}

/// A blob on its way into a layout: a temporary file beside where it goes,
/// hashed as it is written, moved into place only when it hashes to its digest.
pub(crate) struct LayoutWriter {
    file: Option<tempfile::NamedTempFile>,
    hasher: Hasher,
    path: std::path::PathBuf,
}

impl BlobWriter for LayoutWriter {
    fn chunk_size(&self) -> u64 {
        CHUNK
    }

    async fn write(&mut self, chunk: Vec<u8>) -> Result<()> {
        self.hasher.update(&chunk);
        let Some(mut file) = self.file.take() else {
            return Err(CopyError::Invalid("write after the end of a blob".into()));
        };
        let path = self.path.clone();
        let file = blocking(move || {
            file.write_all(&chunk).map_err(io(&path))?;
            Ok(file)
        })
        .await?;
        self.file = Some(file);
        Ok(())
    }

    async fn finish(mut self, digest: &Digest) -> Result<()> {
        let actual = self.hasher.finish();
        if actual != *digest {
            return Err(CopyError::DigestMismatch {
                digest: digest.to_string(),
                actual: actual.to_string(),
                source_name: "the copy".into(),
            });
        }
        let Some(file) = self.file.take() else {
            return Ok(());
        };
        let path = self.path.clone();
        blocking(move || {
            file.as_file().sync_all().map_err(io(&path))?;
            file.persist(&path).map_err(|e| io(&path)(e.error))?;
            Ok(())
        })
        .await
    }

    async fn cancel(self) {}
}
