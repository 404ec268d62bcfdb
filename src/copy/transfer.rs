//! Writing an image to a sink, in the order that never leaves a tag on a half
//! image: the blobs (side by side, each streamed a chunk at a time and
//! verified while it goes), then the manifests by digest, bottom-up, then the
//! tags. What the sink holds already is not sent again: a manifest there means
//! everything below it is there too (a registry takes a manifest only once
//! what it names is there), a blob there is not read, a blob in another
//! repository of the same registry is mounted.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use futures_util::future::try_join_all;
use futures_util::stream::{self, TryStreamExt as _};
use serde::Serialize;
use tokio::sync::Semaphore;

use super::side::Manifest;
use super::side::{Blob, BlobWriter, Mounted, Sink, Source};
use super::walk::{walk, ImagePlan};
use super::{CopyError, Result};
use crate::registry::digest::Hasher;
use crate::registry::{Digest, RegistryError};

/// The most bytes of blob chunks held in memory at once, in MiB: a bound on
/// memory however many blobs move side by side.
pub const MEMORY_MIB: u32 = 48;

/// What a copy did, counted.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// Images copied.
    pub images: usize,
    /// Manifests written.
    pub manifests_sent: usize,
    /// Manifests the destination had.
    pub manifests_present: usize,
    /// Blobs sent.
    pub blobs_sent: usize,
    /// Blobs mounted from another repository of the registry.
    pub blobs_mounted: usize,
    /// Blobs the destination had.
    pub blobs_present: usize,
    /// Bytes of blobs sent.
    pub bytes_sent: u64,
    /// Tags written.
    pub tags_set: usize,
    /// Tags that pointed at the right manifest already.
    pub tags_present: usize,
}

impl Summary {
    /// Adds another copy's counts.
    pub fn add(&mut self, other: &Summary) {
        self.images += other.images;
        self.manifests_sent += other.manifests_sent;
        self.manifests_present += other.manifests_present;
        self.blobs_sent += other.blobs_sent;
        self.blobs_mounted += other.blobs_mounted;
        self.blobs_present += other.blobs_present;
        self.bytes_sent += other.bytes_sent;
        self.tags_set += other.tags_set;
        self.tags_present += other.tags_present;
    }
}

/// How a copy runs.
pub struct Options<'a> {
    /// Blobs moved side by side.
    pub concurrency: usize,
    /// Check every blob even where the manifest is there.
    pub force: bool,
    /// Set: start nothing more.
    pub cancel: &'a AtomicBool,
    /// Count what would be sent, send nothing.
    pub dry_run: bool,
    /// The memory bound shared by every copy of the run.
    memory: Semaphore,
    /// Bytes sent so far, for a progress display.
    pub progress: AtomicU64,
    /// Blobs this run put in repositories of the destination registry, and
    /// where: another repository there mounts them instead of a second upload.
    placed: Placed,
    /// One slot per blob and destination repository: images that share a blob
    /// place it once, one after the other. Distribution rewrites a blob's link
    /// file in the repository on every upload or mount of it, and a manifest
    /// PUT that reads the link while another upload rewrites it fails
    /// (`DIGEST_INVALID`, `MANIFEST_BLOB_UNKNOWN`); placing it once also saves
    /// the other images' HEADs.
    slots: Slots,
}

/// Blob slots by destination `host/repository` and digest; `true` once placed.
type Slots =
    std::sync::Mutex<std::collections::HashMap<(String, Digest), Arc<tokio::sync::Mutex<bool>>>>;

impl<'a> Options<'a> {
    /// The options of one run: `concurrency` blobs of an image side by side,
    /// stopped by `cancel`; memory, progress and placed blobs shared by all its
    /// copies.
    pub fn new(concurrency: usize, force: bool, dry_run: bool, cancel: &'a AtomicBool) -> Self {
        Options {
            concurrency,
            force,
            cancel,
            dry_run,
            memory: Semaphore::new(MEMORY_MIB as usize),
            progress: AtomicU64::new(0),
            placed: Placed::default(),
            slots: Slots::default(),
        }
    }

    /// The slot of `digest` in `repository` of `host`.
    fn slot(&self, host: &str, repository: &str, digest: &Digest) -> Arc<tokio::sync::Mutex<bool>> {
        let mut slots = self
            .slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        slots
            .entry((format!("{host}/{repository}"), digest.clone()))
            .or_default()
            .clone()
    }
}

/// Blobs placed in the destination registry this run: digest -> repository.
pub type Placed = std::sync::Mutex<std::collections::HashMap<Digest, String>>;

/// What each of `tags` points at in `sink` now.
pub async fn read_tags<D: Sink>(
    sink: &D,
    tags: &[String],
) -> Result<Vec<(String, Option<Digest>)>> {
    let now = try_join_all(tags.iter().map(|tag| sink.tagged(tag))).await?;
    Ok(tags.iter().cloned().zip(now).collect())
}

/// Copies the image `root` of `source` to `sink` under `tags`. The
/// destination's tags are read first: one already on the image says the
/// destination has all of it, and then nothing below it is read. The image is
/// walked with its attachments when `source_tags` is given (the source's tags),
/// then written. The attachments that went along, and the counts.
pub async fn copy_image<S: Source, D: Sink>(
    source: &S,
    sink: &D,
    root: Manifest,
    (source_tags, tags): (Option<&[String]>, &[String]),
    options: &Options<'_>,
) -> Result<(usize, Summary)> {
    let now = read_tags(sink, tags).await?;
    let shallow = !options.force && now.iter().any(|(_, d)| d.as_ref() == Some(&root.digest));
    let plan = walk(source, root, source_tags, shallow).await?;
    let summary = transfer(source, sink, &plan, &now, options).await?;
    Ok((plan.attachments(), summary))
}

/// Writes `plan` to `sink`, tagging its image `tags` (each with what it points
/// at now, from [`read_tags`]) and the attachments with theirs.
pub async fn transfer<S: Source, D: Sink>(
    source: &S,
    sink: &D,
    plan: &ImagePlan,
    tags: &[(String, Option<Digest>)],
    options: &Options<'_>,
) -> Result<Summary> {
    let counts = Counts::default();
    // What each tag to set points at now, read once before anything is written.
    let mut wanted: Vec<(&str, &Digest)> =
        tags.iter().map(|(t, _)| (t.as_str(), &plan.root)).collect();
    wanted.extend(plan.tags.iter().map(|(t, d)| (t.as_str(), d)));
    let attachment_tags = try_join_all(plan.tags.iter().map(|(tag, _)| sink.tagged(tag))).await?;
    let now: Vec<Option<Digest>> = tags
        .iter()
        .map(|(_, now)| now.clone())
        .chain(attachment_tags)
        .collect();
    // A tag on the manifest already says the manifest is there: no other question.
    let tagged: BTreeSet<&Digest> = wanted
        .iter()
        .zip(&now)
        .filter(|((_, d), n)| n.as_ref() == Some(*d))
        .map(|((_, d), _)| *d)
        .collect();
    let present = present(sink, plan, options.force, &tagged, &counts).await?;
    let missing: Vec<&Digest> = plan
        .manifests
        .iter()
        .map(|m| &m.digest)
        .filter(|d| !present.contains(*d))
        .collect();
    let blobs = plan.blobs(missing.iter().copied());
    let mount_from = mount_source(source, sink);
    stream::iter(blobs.iter().map(Ok))
        .try_for_each_concurrent(options.concurrency.max(1), |blob| {
            copy_blob(source, sink, blob, mount_from, options, &counts)
        })
        .await?;
    for manifest in plan
        .manifests
        .iter()
        .filter(|m| !present.contains(&m.digest))
    {
        stopped(options)?;
        if !options.dry_run {
            sink.put_manifest(manifest, None).await?;
        }
        counts.manifests_sent.fetch_add(1, Ordering::Relaxed);
    }
    // Before the tags: a referrer found by the API stays findable where there is none.
    for (subject, referrer) in plan.referrers.iter().filter(|(_, r)| !present.contains(r)) {
        stopped(options)?;
        let Some(manifest) = plan.manifests.iter().find(|m| &m.digest == referrer) else {
            continue;
        };
        if !options.dry_run && sink.list_referrer(subject, manifest).await? {
            counts.tags_set.fetch_add(1, Ordering::Relaxed);
        }
    }
    for ((tag, digest), now) in wanted.into_iter().zip(now) {
        stopped(options)?;
        if now.as_ref() == Some(digest) {
            counts.tags_present.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let manifest = plan
            .manifests
            .iter()
            .find(|m| &m.digest == digest)
            .ok_or_else(|| CopyError::Invalid(format!("tag {tag}: manifest {digest} not read")))?;
        if !options.dry_run {
            sink.put_manifest(manifest, Some(tag)).await?;
        }
        counts.tags_set.fetch_add(1, Ordering::Relaxed);
    }
    Ok(counts.summary())
}

/// The manifests the sink has: each top (the image, each attachment) that no
/// tag showed there is asked about; one that is there brings everything below it.
async fn present<D: Sink>(
    sink: &D,
    plan: &ImagePlan,
    force: bool,
    tagged: &BTreeSet<&Digest>,
    counts: &Counts,
) -> Result<BTreeSet<Digest>> {
    let mut present = BTreeSet::new();
    for (top, tree) in &plan.trees {
        if force {
            // Every blob is checked again: nothing below a manifest is taken as there.
            if sink.has_manifest(top).await? {
                present.insert(top.clone());
            }
        } else if tagged.contains(top) || sink.has_manifest(top).await? {
            present.extend(tree.iter().cloned());
        }
    }
    counts
        .manifests_present
        .fetch_add(present.len(), Ordering::Relaxed);
    Ok(present)
}

/// The repository blobs are mounted from: the source's, when both sides are
/// repositories of one registry.
fn mount_source<'a, S: Source, D: Sink>(source: &'a S, sink: &D) -> Option<&'a str> {
    let (from_host, from_repository) = source.registry_repository()?;
    let (to_host, to_repository) = sink.registry_repository()?;
    (from_host == to_host && from_repository != to_repository).then_some(from_repository)
}

fn stopped(options: &Options<'_>) -> Result<()> {
    if options.cancel.load(Ordering::SeqCst) {
        return Err(CopyError::Interrupted);
    }
    Ok(())
}

/// One blob, placed once per destination repository in the run: an image
/// that finds it placed by another (or being placed: it waits) counts it as there.
async fn copy_blob<S: Source, D: Sink>(
    source: &S,
    sink: &D,
    blob: &Blob,
    mount_from: Option<&str>,
    options: &Options<'_>,
    counts: &Counts,
) -> Result<()> {
    let Some((host, repository)) = sink.registry_repository() else {
        return place_blob(source, sink, blob, mount_from, options, counts).await;
    };
    let slot = options.slot(host, repository, &blob.digest);
    let mut placed = slot.lock().await;
    if *placed {
        counts.blobs_present.fetch_add(1, Ordering::Relaxed);
        return Ok(());
    }
    place_blob(source, sink, blob, mount_from, options, counts).await?;
    *placed = true;
    Ok(())
}

/// One blob: skipped when there, mounted when it can be, else streamed.
async fn place_blob<S: Source, D: Sink>(
    source: &S,
    sink: &D,
    blob: &Blob,
    mount_from: Option<&str>,
    options: &Options<'_>,
    counts: &Counts,
) -> Result<()> {
    stopped(options)?;
    if sink.has_blob(blob).await? {
        counts.blobs_present.fetch_add(1, Ordering::Relaxed);
        return Ok(());
    }
    // Within one registry a blob is mounted from the source's repository, or
    // from the one this run put it in already.
    let placed = options
        .placed
        .lock()
        .ok()
        .and_then(|p| p.get(&blob.digest).cloned())
        .filter(|repository| Some(repository.as_str()) != sink.registry_repository().map(|r| r.1));
    let mount_from = mount_from.map(str::to_string).or(placed);
    let mount_from = mount_from.as_deref();
    if options.dry_run {
        // Within one registry it would be mounted (unless the registry declines).
        if mount_from.is_some() {
            counts.blobs_mounted.fetch_add(1, Ordering::Relaxed);
        } else {
            counts.blobs_sent.fetch_add(1, Ordering::Relaxed);
            counts.bytes_sent.fetch_add(blob.size, Ordering::Relaxed);
        }
        return Ok(());
    }
    // An upload the registry cannot resume (it lost its state with the
    // connection) is begun again, once.
    let mut again = true;
    loop {
        let writer = match mount_from {
            Some(from) => match sink.mount(blob, from).await? {
                Mounted::Yes => {
                    counts.blobs_mounted.fetch_add(1, Ordering::Relaxed);
                    note_placed(sink, blob, options);
                    return Ok(());
                }
                Mounted::No(writer) => writer,
            },
            None => sink.writer(blob).await?,
        };
        match stream_blob(source, writer, blob, options).await {
            Ok(()) => break,
            Err(CopyError::Registry(e)) if again && worth_another_upload(&e) => again = false,
            Err(e) => return Err(e),
        }
    }
    counts.blobs_sent.fetch_add(1, Ordering::Relaxed);
    counts.bytes_sent.fetch_add(blob.size, Ordering::Relaxed);
    note_placed(sink, blob, options);
    Ok(())
}

/// Remembers that `blob` is in the sink's repository now.
fn note_placed<D: Sink>(sink: &D, blob: &Blob, options: &Options<'_>) {
    if let (Some((_, repository)), Ok(mut placed)) =
        (sink.registry_repository(), options.placed.lock())
    {
        placed
            .entry(blob.digest.clone())
            .or_insert_with(|| repository.to_string());
    }
}

/// A reset, a timeout or a 5xx: a new upload may go through where the old one
/// could not be resumed.
fn worth_another_upload(e: &RegistryError) -> bool {
    match e {
        RegistryError::Transport { .. } => true,
        RegistryError::Status { status, .. } => *status >= 500,
        _ => false,
    }
}

/// Reads `blob` a chunk at a time into `writer`, hashing as it goes; kept only
/// when it hashes to its digest.
async fn stream_blob<S: Source, W: BlobWriter>(
    source: &S,
    mut writer: W,
    blob: &Blob,
    options: &Options<'_>,
) -> Result<()> {
    let mut hasher = Hasher::new(blob.digest.algorithm());
    let chunk = writer.chunk_size().max(1);
    let mut offset = 0;
    // The memory the last chunk holds: kept until the blob is finished, since a
    // writer of a small blob holds its bytes for the closing request.
    let mut held = None;
    while offset < blob.size {
        if let Err(e) = stopped(options) {
            writer.cancel().await;
            return Err(e);
        }
        let len = chunk.min(blob.size - offset);
        let mib = len.div_ceil(1024 * 1024).clamp(1, u64::from(MEMORY_MIB)) as u32;
        // The previous chunk is sent: its memory goes back before more is asked
        // (holding it while waiting could leave every blob waiting on another).
        drop(held.take());
        held = Some(
            options
                .memory
                .acquire_many(mib)
                .await
                .map_err(|_| CopyError::Interrupted)?,
        );
        let bytes = match source.read_blob(blob, offset, len).await {
            Ok(bytes) => bytes,
            Err(e) => {
                writer.cancel().await;
                return Err(e);
            }
        };
        // A source that cannot read a range gives the whole blob at once: it
        // goes on in the writer's chunks.
        let got = bytes.len() as u64;
        hasher.update(&bytes);
        let pieces: Vec<Vec<u8>> = if got > len {
            bytes.chunks(chunk as usize).map(<[u8]>::to_vec).collect()
        } else {
            vec![bytes]
        };
        for piece in pieces {
            if let Err(e) = writer.write(piece).await {
                writer.cancel().await;
                return Err(e);
            }
        }
        offset += got;
        options.progress.fetch_add(got, Ordering::Relaxed);
    }
    let actual = hasher.finish();
    if actual != blob.digest {
        writer.cancel().await;
        return Err(CopyError::DigestMismatch {
            digest: blob.digest.to_string(),
            actual: actual.to_string(),
            source_name: source.name(),
        });
    }
    let finished = writer.finish(&blob.digest).await;
    drop(held);
    finished
}

#[derive(Default)]
struct Counts {
    manifests_sent: AtomicUsize,
    manifests_present: AtomicUsize,
    blobs_sent: AtomicUsize,
    blobs_mounted: AtomicUsize,
    blobs_present: AtomicUsize,
    bytes_sent: AtomicU64,
    tags_set: AtomicUsize,
    tags_present: AtomicUsize,
}

impl Counts {
    fn summary(&self) -> Summary {
        let n = |a: &AtomicUsize| a.load(Ordering::Relaxed);
        Summary {
            images: 1,
            manifests_sent: n(&self.manifests_sent),
            manifests_present: n(&self.manifests_present),
            blobs_sent: n(&self.blobs_sent),
            blobs_mounted: n(&self.blobs_mounted),
            blobs_present: n(&self.blobs_present),
            bytes_sent: self.bytes_sent.load(Ordering::Relaxed),
            tags_set: n(&self.tags_set),
            tags_present: n(&self.tags_present),
        }
    }
}
