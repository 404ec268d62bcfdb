//! Reading an image as a graph: its manifests (an index's children, at any
//! depth), the blobs each names, and its attachments — cosign's `.sig`, `.att`
//! and `.sbom` tags, the manifests the referrers API lists with a `subject`
//! naming it (checked, not trusted), and a referrers fallback index — with
//! theirs in turn.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use futures_util::future::try_join_all;

use super::side::{Blob, Manifest, Source};
use super::{CopyError, Result};
use crate::graph::{fallback_tag_for, Node};
use crate::registry::media::Index;
use crate::registry::reference::ManifestRef;
use crate::registry::{Digest, Platform};

/// cosign's attachment tags of a manifest end in these.
const COSIGN_SUFFIXES: [&str; 3] = ["sig", "att", "sbom"];

/// Everything one image is, read from its source.
#[derive(Debug)]
pub struct ImagePlan {
    /// The image named.
    pub root: Digest,
    /// Every manifest, children before their indexes and subjects before
    /// their attachments: the order they are written in.
    pub manifests: Vec<Manifest>,
    /// The manifests below each top (the image, each attachment), itself included.
    pub trees: BTreeMap<Digest, Vec<Digest>>,
    /// The blobs each manifest names (foreign layers, which no registry holds, left out).
    pub blobs_of: BTreeMap<Digest, Vec<Blob>>,
    /// Attachment tags and what they point at (cosign tags, fallback indexes).
    pub tags: Vec<(String, Digest)>,
    /// Referrers the referrers API listed, as (subject, referrer): a destination
    /// without the API lists them in the subject's fallback index instead.
    pub referrers: Vec<(Digest, Digest)>,
}

impl ImagePlan {
    /// Every blob of the manifests in `manifests`, each once.
    pub fn blobs<'a>(&self, manifests: impl IntoIterator<Item = &'a Digest>) -> Vec<Blob> {
        let mut all = BTreeSet::new();
        for digest in manifests {
            for blob in self.blobs_of.get(digest).into_iter().flatten() {
                all.insert(blob.clone());
            }
        }
        all.into_iter().collect()
    }

    /// How many attachments go along.
    pub fn attachments(&self) -> usize {
        self.trees.len().saturating_sub(1)
    }
}

/// The manifest of `root` for `platform`: the matching child of an index, or
/// `root` itself when it is an image of that platform (its config says). The
/// digest of the index it was picked from, if it was.
pub async fn pick_platform<S: Source>(
    source: &S,
    root: Manifest,
    platform: &Platform,
) -> Result<(Manifest, Option<Digest>)> {
    let node = Node::from_bytes(&root.media_type, Arc::from(root.bytes.as_slice()));
    let parsed: serde_json::Value = serde_json::from_slice(&root.bytes).unwrap_or_default();
    if node.is_index() {
        let index: Index = serde_json::from_value(parsed).map_err(|e| {
            CopyError::Invalid(format!("index {} cannot be read: {e}", root.digest))
        })?;
        let available: Vec<String> = index
            .manifests
            .iter()
            .filter_map(|d| d.platform.as_ref().map(|p| p.to_string()))
            .collect();
        let Some(child) = index.manifests.iter().find(|d| {
            d.platform
                .as_ref()
                .is_some_and(|p| platform.matches(&p.os, &p.architecture, p.variant.as_deref()))
        }) else {
            return Err(CopyError::Invalid(format!(
                "{} has no {platform} image; it has {}",
                root.digest,
                if available.is_empty() {
                    "none named".to_string()
                } else {
                    available.join(", ")
                }
            )));
        };
        let picked = source
            .manifest(&ManifestRef::Digest(child.digest.clone()))
            .await?;
        return Ok((picked, Some(root.digest)));
    }
    let Some(config) = &node.config else {
        return Err(CopyError::Invalid(format!(
            "{} is neither an index nor an image: it has no platform",
            root.digest
        )));
    };
    let blob = Blob {
        digest: config.digest.clone(),
        size: config.size,
    };
    let bytes = source.read_blob(&blob, 0, blob.size).await?;
    let fields: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let text = |key: &str| {
        fields
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let (os, architecture) = (text("os"), text("architecture"));
    let variant = fields.get("variant").and_then(|v| v.as_str());
    if !platform.matches(&os, &architecture, variant) {
        return Err(CopyError::Invalid(format!(
            "{} is a single {os}/{architecture} image, not {platform}",
            root.digest
        )));
    }
    Ok((root, None))
}

/// Reads the image `root` from `source`, with its attachments when
/// `source_tags` is given (the source's tags, where cosign's and fallback tags
/// are found). With `shallow` (the destination has the image already), an
/// index's children are not read: only their digests, to find what is
/// attached to them.
pub async fn walk<S: Source>(
    source: &S,
    root: Manifest,
    source_tags: Option<&[String]>,
    shallow: bool,
) -> Result<ImagePlan> {
    let mut walker = Walker {
        source,
        loaded: BTreeMap::new(),
        order: Vec::new(),
        trees: BTreeMap::new(),
        blobs_of: BTreeMap::new(),
        tags: Vec::new(),
        referrers: Vec::new(),
    };
    let root_digest = root.digest.clone();
    walker.loaded.insert(root.digest.clone(), root);
    let mut tops = vec![root_digest.clone()];
    if shallow {
        let node = walker.node(&root_digest)?;
        let mut tree = node.children.clone();
        tree.push(root_digest.clone());
        walker.order.push(root_digest.clone());
        tops.clear();
        if let Some(tags) = source_tags {
            for digest in &tree {
                tops.extend(walker.attachments(digest, tags).await?);
            }
        }
        walker.trees.insert(root_digest.clone(), tree);
    }
    while let Some(top) = tops.pop() {
        let tree = walker.tree(&top).await?;
        if let Some(tags) = source_tags {
            for digest in &tree {
                tops.extend(walker.attachments(digest, tags).await?);
            }
        }
        walker.trees.insert(top, tree);
    }
    let Walker {
        mut loaded,
        order,
        trees,
        blobs_of,
        tags,
        referrers,
        ..
    } = walker;
    let manifests = order.iter().filter_map(|d| loaded.remove(d)).collect();
    Ok(ImagePlan {
        root: root_digest,
        manifests,
        trees,
        blobs_of,
        tags,
        referrers,
    })
}

struct Walker<'a, S> {
    source: &'a S,
    loaded: BTreeMap<Digest, Manifest>,
    /// Manifests in the order they are written.
    order: Vec<Digest>,
    trees: BTreeMap<Digest, Vec<Digest>>,
    blobs_of: BTreeMap<Digest, Vec<Blob>>,
    tags: Vec<(String, Digest)>,
    referrers: Vec<(Digest, Digest)>,
}

impl<S: Source> Walker<'_, S> {
    /// Loads `top` and everything below it, depth first; each manifest's
    /// children are read side by side. The manifests of the tree.
    async fn tree(&mut self, top: &Digest) -> Result<Vec<Digest>> {
        let mut tree = Vec::new();
        // (manifest, its children already pushed)
        let mut stack = vec![(top.clone(), false)];
        let mut seen = BTreeSet::new();
        while let Some((digest, expanded)) = stack.pop() {
            if expanded {
                if !self.order.contains(&digest) {
                    self.order.push(digest.clone());
                }
                tree.push(digest);
                continue;
            }
            if !seen.insert(digest.clone()) {
                continue;
            }
            let node = self.node(&digest)?;
            self.blobs_of.insert(
                digest.clone(),
                node.config
                    .iter()
                    .chain(&node.layers)
                    .map(|d| Blob {
                        digest: d.digest.clone(),
                        size: d.size,
                    })
                    .collect(),
            );
            self.load(&node.children).await?;
            stack.push((digest, true));
            for child in node.children.iter().rev() {
                stack.push((child.clone(), false));
            }
        }
        Ok(tree)
    }

    /// The graph node of a loaded manifest.
    fn node(&self, digest: &Digest) -> Result<Node> {
        let manifest = self.loaded.get(digest).ok_or_else(|| {
            CopyError::Invalid(format!("manifest {digest} was not read before its use"))
        })?;
        let node = Node::from_bytes(&manifest.media_type, Arc::from(manifest.bytes.as_slice()));
        if !node.readable {
            return Err(CopyError::Invalid(format!(
                "manifest {digest} of {} cannot be read as an image, an index or an artifact",
                self.source.name()
            )));
        }
        Ok(node)
    }

    /// Reads the manifests of `digests` not read yet, side by side.
    async fn load(&mut self, digests: &[Digest]) -> Result<()> {
        let missing: Vec<ManifestRef> = digests
            .iter()
            .filter(|d| !self.loaded.contains_key(*d))
            .map(|d| ManifestRef::Digest(d.clone()))
            .collect();
        let source = self.source;
        let got = try_join_all(missing.iter().map(|r| source.manifest(r))).await?;
        for manifest in got {
            self.loaded.insert(manifest.digest.clone(), manifest);
        }
        Ok(())
    }

    /// The attachments of `digest` not read yet: cosign tags, referrers whose
    /// `subject` is `digest`, the fallback index. Each is loaded, its tag noted.
    async fn attachments(&mut self, digest: &Digest, tags: &[String]) -> Result<Vec<Digest>> {
        let mut found = Vec::new();
        let stem = fallback_tag_for(digest);
        let mut named: Vec<String> = COSIGN_SUFFIXES
            .iter()
            .map(|suffix| format!("{stem}.{suffix}"))
            .collect();
        named.push(stem);
        for tag in named.into_iter().filter(|t| tags.contains(t)) {
            let manifest = self.source.manifest(&ManifestRef::Tag(tag.clone())).await?;
            self.tags.push((tag, manifest.digest.clone()));
            if !self.loaded.contains_key(&manifest.digest) {
                found.push(manifest.digest.clone());
                self.loaded.insert(manifest.digest.clone(), manifest);
            }
        }
        let referrers: Vec<Digest> = self
            .source
            .referrers(digest)
            .await?
            .into_iter()
            .filter(|d| !self.loaded.contains_key(d) && !found.contains(d))
            .collect();
        self.load(&referrers).await?;
        for referrer in referrers {
            // A referrer is taken only when its own `subject` names this manifest.
            if self.node(&referrer)?.subject.as_ref() == Some(digest) {
                self.referrers.push((digest.clone(), referrer.clone()));
                found.push(referrer);
            } else {
                self.loaded.remove(&referrer);
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::registry::media::OCI_MANIFEST;

    /// A source that holds manifests by digest and lists `referrers` for any subject.
    struct Fake {
        manifests: HashMap<Digest, Manifest>,
        referrers: Vec<Digest>,
    }

    impl Source for Fake {
        fn name(&self) -> String {
            "fake".into()
        }
        fn registry_repository(&self) -> Option<(&str, &str)> {
            None
        }
        async fn manifest(&self, reference: &ManifestRef) -> Result<Manifest> {
            let digest = reference
                .digest()
                .cloned()
                .unwrap_or_else(|| Digest::sha256_of(b""));
            self.manifests
                .get(&digest)
                .cloned()
                .ok_or_else(|| CopyError::Invalid(format!("no {digest}")))
        }
        async fn read_blob(&self, _: &Blob, _: u64, _: u64) -> Result<Vec<u8>> {
            Err(CopyError::Invalid("no blobs here".into()))
        }
        async fn tags(&self) -> Result<Vec<String>> {
            Ok(Vec::new())
        }
        async fn referrers(&self, _: &Digest) -> Result<Vec<Digest>> {
            Ok(self.referrers.clone())
        }
    }

    fn manifest(seed: &str, subject: Option<&Digest>) -> Manifest {
        let mut body = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": Digest::sha256_of(seed.as_bytes()).to_string(),
                "size": 2,
            },
            "layers": [],
        });
        if let Some(subject) = subject {
            body["subject"] = serde_json::json!({"mediaType": OCI_MANIFEST, "digest": subject.to_string(), "size": 1});
        }
        let bytes = serde_json::to_vec(&body).unwrap();
        Manifest {
            digest: Digest::sha256_of(&bytes),
            media_type: OCI_MANIFEST.into(),
            bytes,
        }
    }

    #[tokio::test]
    async fn a_listed_referrer_is_taken_only_when_its_own_subject_names_the_image() {
        let root = manifest("root", None);
        let other = manifest("other", None);
        let sbom = manifest("sbom", Some(&root.digest));
        let rogue = manifest("rogue", Some(&other.digest));
        let source = Fake {
            manifests: [&root, &sbom, &rogue]
                .into_iter()
                .map(|m| (m.digest.clone(), m.clone()))
                .collect(),
            referrers: vec![sbom.digest.clone(), rogue.digest.clone()],
        };
        let plan = walk(&source, root.clone(), Some(&[]), false).await.unwrap();
        let copied: Vec<&Digest> = plan.manifests.iter().map(|m| &m.digest).collect();
        assert_eq!(copied, [&root.digest, &sbom.digest]);
        assert_eq!(plan.referrers, [(root.digest.clone(), sbom.digest.clone())]);
        assert!(!plan.trees.contains_key(&rogue.digest));
    }
}
