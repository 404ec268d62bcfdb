//! Reads a repository into a [`Snapshot`]: its tags (a GET each, the body hashed,
//! so the digest is known from evidence), every manifest they lead to (a GET each,
//! once per run: manifests are content-addressed, so a cache by digest is exact),
//! referrers, and for `prune` the images' creation times. The one reader of the
//! graph: `inspect`, `du` and the deletion engine all read through it.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::stream::{self, StreamExt as _};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::attachment::fallback_tag;
use super::created::{Created, Undated};
use super::node::{is_image_config, Node};
use super::snapshot::Snapshot;
use crate::registry::media::ImageConfig;
use crate::registry::reference::valid_tag;
use crate::registry::reference::ManifestRef;
use crate::registry::{Digest, Registry, RegistryError};

/// Largest config blob read for a creation time.
const MAX_CONFIG: usize = 4 * 1024 * 1024;

/// Manifests and creation times read during one run, by digest.
#[derive(Default)]
pub struct Cache {
    manifests: Mutex<HashMap<(String, Digest), Node>>,
    configs: Mutex<HashMap<Digest, Created>>,
    /// Set once the registry answered that it has no referrers API.
    no_referrers_api: AtomicBool,
}

impl Cache {
    fn manifest(&self, repository: &str, digest: &Digest) -> Option<Node> {
        let key = (repository.to_string(), digest.clone());
        self.manifests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned()
    }

    fn put_manifest(&self, repository: &str, digest: &Digest, node: &Node) {
        let key = (repository.to_string(), digest.clone());
        self.manifests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, node.clone());
    }
}

/// A tag read by GET: the digest its bytes hash to and the manifest.
type TagRead = Result<(Digest, Node), RegistryError>;

/// What to read besides tags and manifests.
#[derive(Clone, Copy, Debug, Default)]
pub struct Depth {
    /// Read each image's config for its creation time.
    pub created: bool,
}

/// A registry, a repository and the shared cache: what loading needs.
pub struct Loader<'a> {
    /// The registry.
    pub registry: &'a Registry,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Shared across the run.
    pub cache: &'a Cache,
}

impl Loader<'_> {
    /// Reads `repository`. A repository whose tag list the registry does not
    /// know (never pushed, or every tag deleted since the catalog listed it) is
    /// an empty snapshot.
    pub async fn snapshot(
        &self,
        repository: &str,
        depth: Depth,
    ) -> Result<Snapshot, RegistryError> {
        let mut snapshot = Snapshot::new(repository);
        let tags = match self.registry.tags(repository).await {
            Ok(tags) => tags,
            Err(RegistryError::NotFound { .. }) => {
                snapshot.absent_repository = true;
                return Ok(snapshot);
            }
            Err(e) => return Err(e),
        };
        snapshot.absent_repository = tags.is_empty();
        let (tags, opaque): (Vec<String>, Vec<String>) =
            tags.into_iter().partition(|t| valid_tag(t));
        snapshot.opaque_tags = opaque;
        // Each tag is read with a GET whose body is hashed: the digest it points at
        // is known from evidence, not from a header a cache or a liar could set.
        let read: Vec<(String, TagRead)> = stream::iter(tags)
            .map(|tag| async move {
                let manifest = self
                    .registry
                    .get_manifest(repository, &ManifestRef::tag(&tag))
                    .await;
                let node = manifest.map(|m| {
                    let mut node = Node::from_bytes(&m.media_type, Arc::from(m.bytes));
                    // Bytes are kept only where a rewrite may need them: an
                    // index a fallback tag names.
                    if fallback_tag(&tag).is_none() {
                        node.index_bytes = None;
                    }
                    self.cache.put_manifest(repository, &m.digest, &node);
                    (m.digest, node)
                });
                (tag, node)
            })
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        for (tag, read) in read {
            match read {
                Ok((digest, node)) => {
                    let kept = snapshot
                        .manifests
                        .entry(digest.clone())
                        .or_insert(node.clone());
                    if kept.index_bytes.is_none() {
                        kept.index_bytes = node.index_bytes;
                    }
                    snapshot.tags.insert(tag, digest);
                }
                // Listed but not served.
                Err(RegistryError::NotFound { .. }) => snapshot.dangling_tags.push(tag),
                // Served with a digest that does not match the bytes: it might
                // point anywhere.
                Err(
                    RegistryError::DigestMismatch { .. } | RegistryError::InvalidResponse { .. },
                ) => snapshot.unresolved_tags.push(tag),
                Err(e) => return Err(e),
            }
        }
        snapshot.unresolved_tags.sort();
        snapshot.dangling_tags.sort();
        // The children of the indexes read, and theirs, recursively.
        let children: BTreeSet<Digest> = snapshot
            .manifests
            .values()
            .flat_map(|n| n.children.iter().cloned())
            .collect();
        self.read_manifests(&mut snapshot, children).await?;
        self.read_subjects(&mut snapshot).await?;
        if depth.created {
            self.read_created(&mut snapshot).await?;
        }
        Ok(snapshot)
    }

    /// Adds manifests named by digest (untagged ones a user named) to `snapshot`,
    /// with their children and the subjects of attachments among them.
    pub async fn read_digests(
        &self,
        snapshot: &mut Snapshot,
        digests: impl IntoIterator<Item = Digest>,
    ) -> Result<(), RegistryError> {
        self.read_manifests(snapshot, digests.into_iter().collect())
            .await?;
        self.read_subjects(snapshot).await
    }

    /// Reads `digests` and, recursively, the children of indexes among them.
    async fn read_manifests(
        &self,
        snapshot: &mut Snapshot,
        digests: BTreeSet<Digest>,
    ) -> Result<(), RegistryError> {
        let mut wanted: Vec<Digest> = digests.into_iter().collect();
        while !wanted.is_empty() {
            wanted.retain(|d| !snapshot.manifests.contains_key(d));
            wanted.sort();
            wanted.dedup();
            let repository = snapshot.repository.clone();
            let read: Vec<(Digest, Result<Node, RegistryError>)> =
                stream::iter(std::mem::take(&mut wanted))
                    .map(|digest| {
                        let repository = repository.clone();
                        async move {
                            let node = self.manifest(&repository, &digest).await;
                            (digest, node)
                        }
                    })
                    .buffer_unordered(self.concurrency)
                    .collect()
                    .await;
            for (digest, node) in read {
                match node {
                    Ok(node) => {
                        wanted.extend(node.children.iter().cloned());
                        snapshot.manifests.insert(digest, node);
                    }
                    Err(RegistryError::NotFound { .. }) => {
                        snapshot.absent.insert(digest);
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    async fn manifest(&self, repository: &str, digest: &Digest) -> Result<Node, RegistryError> {
        if let Some(node) = self.cache.manifest(repository, digest) {
            return Ok(node);
        }
        let manifest = self
            .registry
            .get_manifest(repository, &digest.into())
            .await?;
        let mut node = Node::from_bytes(&manifest.media_type, Arc::from(manifest.bytes));
        // Read by digest: not an index a fallback tag names (those are read by tag).
        node.index_bytes = None;
        self.cache.put_manifest(repository, digest, &node);
        Ok(node)
    }

    /// Looks up the subjects attachments name that were not read, so that
    /// attachments of untagged manifests are told from orphans.
    async fn read_subjects(&self, snapshot: &mut Snapshot) -> Result<(), RegistryError> {
        let subjects = snapshot.unresolved_subjects();
        self.read_manifests(snapshot, subjects).await
    }

    /// Asks the referrers API about `subjects` (where the registry has it) and reads
    /// the referrers found. Returns false when the registry has no referrers API.
    pub async fn read_referrers(
        &self,
        snapshot: &mut Snapshot,
        subjects: &[Digest],
    ) -> Result<bool, RegistryError> {
        let mut found = BTreeSet::new();
        for subject in subjects {
            if self.cache.no_referrers_api.load(Ordering::Relaxed) {
                return Ok(false);
            }
            if snapshot.referrers.contains_key(subject) {
                continue;
            }
            match self
                .registry
                .referrers(&snapshot.repository, subject)
                .await?
            {
                None => {
                    self.cache.no_referrers_api.store(true, Ordering::Relaxed);
                    return Ok(false);
                }
                Some(list) => {
                    found.extend(list.iter().map(|d| d.digest.clone()));
                    snapshot.referrers.insert(subject.clone(), list);
                }
            }
        }
        self.read_manifests(snapshot, found).await?;
        Ok(true)
    }

    /// The creation time of every image and index that a tag names.
    async fn read_created(&self, snapshot: &mut Snapshot) -> Result<(), RegistryError> {
        let mut images: BTreeSet<Digest> = BTreeSet::new();
        for digest in snapshot.tagged() {
            match snapshot.manifests.get(&digest) {
                Some(node) if node.is_index() => images.extend(node.children.iter().cloned()),
                Some(_) => {
                    images.insert(digest);
                }
                None => {}
            }
        }
        let repository = snapshot.repository.as_str();
        let configs: Vec<(Digest, Result<Created, RegistryError>)> = stream::iter(images)
            .filter_map(|digest| async {
                let node = snapshot.manifests.get(&digest)?;
                Some((digest, node.clone()))
            })
            .map(|(digest, node)| async move {
                let created = self.created(repository, &node).await;
                (digest, created)
            })
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        for (digest, created) in configs {
            snapshot.created.insert(digest, created?);
        }
        for digest in snapshot.tagged() {
            let Some(node) = snapshot.manifests.get(&digest) else {
                continue;
            };
            if !node.is_index() {
                continue;
            }
            let newest = node
                .children
                .iter()
                .filter_map(|c| match snapshot.created.get(c) {
                    Some(Created::At(t)) => Some(*t),
                    _ => None,
                })
                .max();
            let created = newest.map_or(Created::Unknown(Undated::NoDatedChild), Created::At);
            snapshot.created.insert(digest, created);
        }
        Ok(())
    }

    /// An image's creation time from its config; why not, when it cannot be read.
    async fn created(&self, repository: &str, node: &Node) -> Result<Created, RegistryError> {
        if !node.readable {
            return Ok(Created::Unknown(Undated::UnreadableManifest));
        }
        let Some(config) = &node.config else {
            // Docker schema 1 keeps its creation time in the manifest itself.
            if let Some(created) = &node.schema1_created {
                return Ok(OffsetDateTime::parse(created, &Rfc3339)
                    .map_or(Created::Unknown(Undated::NoCreatedField), Created::At));
            }
            return Ok(Created::Unknown(Undated::UnreadableManifest));
        };
        if !is_image_config(&config.media_type) {
            return Ok(Created::Unknown(Undated::NotAnImageConfig(
                config.media_type.clone(),
            )));
        }
        if config.size > MAX_CONFIG as u64 {
            return Ok(Created::Unknown(Undated::ConfigTooLarge));
        }
        if let Some(created) = self
            .cache
            .configs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&config.digest)
        {
            return Ok(created.clone());
        }
        let created = match self
            .registry
            .get_blob(repository, &config.digest, MAX_CONFIG)
            .await
        {
            Ok(bytes) => match serde_json::from_slice::<ImageConfig>(&bytes) {
                Ok(config) => config
                    .created
                    .and_then(|c| OffsetDateTime::parse(&c, &Rfc3339).ok())
                    .map_or(Created::Unknown(Undated::NoCreatedField), Created::At),
                Err(_) => Created::Unknown(Undated::ConfigNotJson),
            },
            Err(RegistryError::NotFound { .. }) => Created::Unknown(Undated::ConfigMissing),
            // Served oddly, or not served to these credentials: this image has no
            // date, the rest of the plan goes on.
            Err(
                RegistryError::InvalidResponse { .. }
                | RegistryError::DigestMismatch { .. }
                | RegistryError::Denied { .. },
            ) => Created::Unknown(Undated::ConfigUnreadable),
            Err(e) => return Err(e),
        };
        self.cache
            .configs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(config.digest.clone(), created.clone());
        Ok(created)
    }
}
