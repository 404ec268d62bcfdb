//! The two sides of a copy, as traits: where an image is read ([`Source`]) and
//! where it is written ([`Sink`], through a [`BlobWriter`] per blob).

use super::Result;
use crate::registry::reference::ManifestRef;
use crate::registry::Digest;

/// A manifest with its bytes exactly as served (the digest is of these bytes).
#[derive(Debug, Clone)]
pub struct Manifest {
    /// Its digest.
    pub digest: Digest,
    /// Its media type.
    pub media_type: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// A blob an image needs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Blob {
    /// Its digest.
    pub digest: Digest,
    /// Its size, from the manifest that names it.
    pub size: u64,
}

/// Where an image is read.
pub(crate) trait Source {
    /// The source in words, for messages (`host/repo`, `oci:PATH`).
    fn name(&self) -> String;
    /// The repository of a registry this is, as (host, repository).
    fn registry_repository(&self) -> Option<(&str, &str)>;
    /// A manifest by tag or digest, verified against the digest asked for.
    async fn manifest(&self, reference: &ManifestRef) -> Result<Manifest>;
    /// `len` bytes of `blob` from `offset`; from offset 0 a source that cannot
    /// read a part gives the whole blob.
    async fn read_blob(&self, blob: &Blob, offset: u64, len: u64) -> Result<Vec<u8>>;
    /// Every tag (cosign's attachment tags and fallback indexes are found by name).
    async fn tags(&self) -> Result<Vec<String>>;
    /// The manifests whose `subject` is `digest`, by the referrers API; empty
    /// when the source has none (its fallback tag is read instead).
    async fn referrers(&self, digest: &Digest) -> Result<Vec<Digest>>;
}

/// What a request to mount a blob came to.
pub(crate) enum Mounted<W> {
    /// It is in the destination now.
    Yes,
    /// Not mounted; the bytes go through this writer.
    No(W),
}

/// Where an image is written.
pub(crate) trait Sink {
    /// Writes one blob.
    type Writer: BlobWriter;
    /// The repository of a registry this is, as (host, repository).
    fn registry_repository(&self) -> Option<(&str, &str)>;
    /// Whether `blob` is there already.
    async fn has_blob(&self, blob: &Blob) -> Result<bool>;
    /// Asks for `blob` to be mounted from repository `from` of the same registry.
    async fn mount(&self, blob: &Blob, from: &str) -> Result<Mounted<Self::Writer>>;
    /// A writer for `blob`'s bytes.
    async fn writer(&self, blob: &Blob) -> Result<Self::Writer>;
    /// Whether the manifest `digest` is there already.
    async fn has_manifest(&self, digest: &Digest) -> Result<bool>;
    /// The digest `tag` points at, if the tag is there.
    async fn tagged(&self, tag: &str) -> Result<Option<Digest>>;
    /// Writes `manifest` under its digest, or under `tag` too.
    async fn put_manifest(&self, manifest: &Manifest, tag: Option<&str>) -> Result<()>;
    /// Makes `referrer` (written already) findable from `subject`: where the
    /// destination has no referrers API, it is added to the subject's fallback
    /// index (`sha256-<hex>`). True when that index was written.
    async fn list_referrer(&self, subject: &Digest, referrer: &Manifest) -> Result<bool>;
}

/// The bytes of one blob, written a chunk at a time, kept only once finished
/// with the digest they hash to.
pub(crate) trait BlobWriter {
    /// The size of the chunks it wants (the last may be shorter).
    fn chunk_size(&self) -> u64;
    /// The next chunk.
    async fn write(&mut self, chunk: Vec<u8>) -> Result<()>;
    /// Keeps the blob under `digest` (checked by the destination too).
    async fn finish(self, digest: &Digest) -> Result<()>;
    /// Drops what was written.
    async fn cancel(self);
}
