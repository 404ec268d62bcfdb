//! What one repository holds, as a graph: tags point at manifests, indexes point at
//! their children, attachments (signatures, attestations, SBOMs, OCI referrers)
//! point at their subject. Pure data and queries; [`super::load`] fills it in.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use time::OffsetDateTime;

use crate::registry::manifest::{Descriptor, ManifestFields, MediaType};
use crate::registry::Digest;

/// One manifest of the repository.
#[derive(Clone, Debug)]
pub struct Node {
    /// Its media type, as served.
    pub media_type: MediaType,
    /// The bytes exactly as served (their hash is the digest).
    pub bytes: Arc<[u8]>,
    /// False when the bytes are not a manifest regctl can read: then what it points
    /// at is unknown, and nothing is deleted on the strength of it.
    pub readable: bool,
    /// An index's children.
    pub children: Vec<Digest>,
    /// An image's config.
    pub config: Option<Descriptor>,
    /// The manifest this one is attached to (OCI `subject`).
    pub subject: Option<Digest>,
    /// The artifact type (OCI `artifactType`, or the config's media type).
    pub artifact_type: Option<String>,
}

impl Node {
    /// A node from the bytes served for it.
    pub fn from_bytes(media_type: &str, bytes: Arc<[u8]>) -> Node {
        let fields = serde_json::from_slice::<ManifestFields>(&bytes).ok();
        let declared = fields.as_ref().and_then(|f| f.media_type.clone());
        let media_type = match (media_type, declared) {
            ("", Some(declared)) => MediaType::parse(&declared),
            (given, _) => MediaType::parse(given),
        };
        let Some(fields) = fields else {
            return Node::unreadable(media_type, bytes);
        };
        let artifact_type = fields.artifact_type.clone().or_else(|| {
            fields
                .config
                .as_ref()
                .map(|c| c.media_type.clone())
                .filter(|t| !is_image_config(t) && t != EMPTY_CONFIG)
        });
        Node {
            media_type,
            readable: true,
            children: fields
                .manifests
                .unwrap_or_default()
                .into_iter()
                .map(|d| d.digest)
                .collect(),
            config: fields.config,
            subject: fields.subject.map(|s| s.digest),
            artifact_type,
            bytes,
        }
    }

    fn unreadable(media_type: MediaType, bytes: Arc<[u8]>) -> Node {
        Node {
            media_type,
            bytes,
            readable: false,
            children: Vec::new(),
            config: None,
            subject: None,
            artifact_type: None,
        }
    }

    /// True for an index (OCI index or Docker manifest list).
    pub fn is_index(&self) -> bool {
        self.media_type.is_index() || !self.children.is_empty()
    }
}

/// The OCI empty config (`{}`), used by artifacts.
pub const EMPTY_CONFIG: &str = "application/vnd.oci.empty.v1+json";

/// True for the config media types of runnable images.
pub fn is_image_config(media_type: &str) -> bool {
    matches!(
        media_type,
        "application/vnd.oci.image.config.v1+json"
            | "application/vnd.docker.container.image.v1+json"
    )
}

/// When an image was made, or why that is not known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Created {
    /// The config's `created`.
    At(OffsetDateTime),
    /// Not known, for this reason.
    Unknown(Undated),
}

/// Why an image has no creation time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Undated {
    /// The config has no `created`, or one that is not RFC 3339.
    NoCreatedField,
    /// The config is larger than regctl reads.
    ConfigTooLarge,
    /// The config is not JSON.
    ConfigNotJson,
    /// The config is not an image config (an artifact with its own config type).
    NotAnImageConfig(String),
    /// The registry served a config that is over the size limit or does not
    /// match its digest.
    ConfigUnreadable,
    /// The config blob is missing.
    ConfigMissing,
    /// The manifest could not be read as a manifest.
    UnreadableManifest,
    /// An index none of whose children has a creation time.
    NoDatedChild,
}

/// What kind of attachment a manifest is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AttachmentKind {
    /// A cosign signature (`sha256-<hex>.sig`).
    Signature,
    /// A cosign attestation (`sha256-<hex>.att`).
    Attestation,
    /// A cosign SBOM (`sha256-<hex>.sbom`).
    Sbom,
    /// An OCI 1.1 referrer (its `subject` is the manifest), with its artifact type.
    Referrer(Option<String>),
    /// The referrers fallback index (tag `sha256-<hex>`) listing the referrers.
    ReferrersIndex,
}

/// A manifest attached to another.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Attachment {
    /// The attached manifest.
    pub digest: Digest,
    /// What it is.
    pub kind: AttachmentKind,
}

/// The subject named by a cosign tag (`sha256-<hex>.sig|.att|.sbom`) and its kind.
pub fn cosign_tag(tag: &str) -> Option<(Digest, AttachmentKind)> {
    let (stem, suffix) = tag.rsplit_once('.')?;
    let kind = match suffix {
        "sig" => AttachmentKind::Signature,
        "att" => AttachmentKind::Attestation,
        "sbom" => AttachmentKind::Sbom,
        _ => return None,
    };
    Some((fallback_tag(stem)?, kind))
}

/// The subject named by a referrers fallback tag (`sha256-<hex>`).
pub fn fallback_tag(tag: &str) -> Option<Digest> {
    let hex = tag.strip_prefix("sha256-")?;
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    format!("sha256:{}", hex.to_ascii_lowercase()).parse().ok()
}

/// The referrers fallback tag for `subject`.
pub fn fallback_tag_for(subject: &Digest) -> String {
    subject.to_string().replacen(':', "-", 1)
}

/// True for the tags that name an attachment rather than an image.
pub fn is_attachment_tag(tag: &str) -> bool {
    cosign_tag(tag).is_some() || fallback_tag(tag).is_some()
}

/// A repository's tags and manifests.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// The repository.
    pub repository: String,
    /// Every readable tag and the manifest it points at.
    pub tags: BTreeMap<String, Digest>,
    /// Tags the registry listed that are not valid tag names (not read): while
    /// there are any, no manifest is deleted by digest on the strength of the tag
    /// list (it might carry one of them).
    pub opaque_tags: Vec<String>,
    /// Tags the registry listed whose manifest could not be read in agreement with
    /// its digest (a GET by tag answered 404, or a body that does not hash to the
    /// digest announced): each might point at any manifest, so, like opaque tags,
    /// they keep every manifest of the repository from deletion by digest.
    pub unresolved_tags: Vec<String>,
    /// Every manifest read: tagged ones, index children, referrers.
    pub manifests: BTreeMap<Digest, Node>,
    /// The referrers API's answer per subject asked about.
    pub referrers: BTreeMap<Digest, Vec<Descriptor>>,
    /// Manifests looked up by digest and not found (subjects of orphans).
    pub absent: BTreeSet<Digest>,
    /// Creation time of each image read for it.
    pub created: BTreeMap<Digest, Created>,
}

impl Snapshot {
    /// An empty snapshot of `repository`.
    pub fn new(repository: &str) -> Snapshot {
        Snapshot {
            repository: repository.to_string(),
            ..Snapshot::default()
        }
    }

    /// True when some listed tag could not be tied to a manifest (opaque or
    /// unresolved): no manifest may then be deleted by digest on the strength of
    /// the tag list.
    pub fn has_unknown_tags(&self) -> bool {
        !self.opaque_tags.is_empty() || !self.unresolved_tags.is_empty()
    }

    /// The tags pointing at `digest`, sorted.
    pub fn tags_on(&self, digest: &Digest) -> Vec<String> {
        self.tags
            .iter()
            .filter(|(_, d)| *d == digest)
            .map(|(t, _)| t.clone())
            .collect()
    }

    /// The indexes read that list `digest` among their children.
    pub fn parents(&self, digest: &Digest) -> Vec<Digest> {
        self.manifests
            .iter()
            .filter(|(_, n)| n.children.contains(digest))
            .map(|(d, _)| d.clone())
            .collect()
    }

    /// Tags of the indexes that reference `digest`, directly or through nested ones.
    pub fn index_tags_referencing(&self, digest: &Digest) -> Vec<String> {
        let mut tags = BTreeSet::new();
        let mut seen = BTreeSet::new();
        let mut queue = vec![digest.clone()];
        while let Some(d) = queue.pop() {
            for parent in self.parents(&d) {
                if seen.insert(parent.clone()) {
                    tags.extend(self.tags_on(&parent));
                    queue.push(parent);
                }
            }
        }
        tags.into_iter().collect()
    }

    /// True for a referrers fallback index: every tag on it is a `sha256-<hex>`
    /// fallback tag. Its entries are rewritten, never kept alive by it.
    pub fn is_referrers_index(&self, digest: &Digest) -> bool {
        let tags = self.tags_on(digest);
        !tags.is_empty() && tags.iter().all(|t| fallback_tag(t).is_some())
    }

    /// The distinct tagged manifests, in digest order.
    pub fn tagged(&self) -> BTreeSet<Digest> {
        self.tags.values().cloned().collect()
    }

    /// Everything attached to `subject`: cosign tags, OCI referrers (from the
    /// referrers API, the fallback index, or a tagged manifest's `subject`), and
    /// the fallback index itself.
    pub fn attachments_of(&self, subject: &Digest) -> Vec<Attachment> {
        let mut found = BTreeMap::<Digest, AttachmentKind>::new();
        for (tag, digest) in &self.tags {
            if let Some((s, kind)) = cosign_tag(tag) {
                if s == *subject {
                    found.entry(digest.clone()).or_insert(kind);
                }
            } else if fallback_tag(tag).as_ref() == Some(subject) {
                found.insert(digest.clone(), AttachmentKind::ReferrersIndex);
                if let Some(index) = self.manifests.get(digest) {
                    for child in &index.children {
                        let kind = AttachmentKind::Referrer(self.artifact_type(child));
                        found.entry(child.clone()).or_insert(kind);
                    }
                }
            }
        }
        for descriptor in self.referrers.get(subject).into_iter().flatten() {
            let kind = AttachmentKind::Referrer(
                descriptor
                    .artifact_type
                    .clone()
                    .or_else(|| self.artifact_type(&descriptor.digest)),
            );
            found.entry(descriptor.digest.clone()).or_insert(kind);
        }
        for (digest, node) in &self.manifests {
            if node.subject.as_ref() == Some(subject) {
                let kind = AttachmentKind::Referrer(node.artifact_type.clone());
                found.entry(digest.clone()).or_insert(kind);
            }
        }
        found.remove(subject);
        found
            .into_iter()
            .map(|(digest, kind)| Attachment { digest, kind })
            .collect()
    }

    fn artifact_type(&self, digest: &Digest) -> Option<String> {
        self.manifests
            .get(digest)
            .and_then(|n| n.artifact_type.clone())
    }

    /// The subject `digest` is attached to, if it is an attachment: by its `subject`
    /// field, or because every tag on it is an attachment tag, or because a
    /// fallback index or the referrers API lists it.
    pub fn subject_of(&self, digest: &Digest) -> Option<Digest> {
        if let Some(subject) = self.manifests.get(digest).and_then(|n| n.subject.clone()) {
            return Some(subject);
        }
        let tags = self.tags_on(digest);
        if !tags.is_empty() && tags.iter().all(|t| is_attachment_tag(t)) {
            return tags
                .iter()
                .find_map(|t| cosign_tag(t).map(|(s, _)| s).or_else(|| fallback_tag(t)));
        }
        for (tag, index) in &self.tags {
            if let Some(subject) = fallback_tag(tag) {
                let listed = self
                    .manifests
                    .get(index)
                    .is_some_and(|n| n.children.contains(digest));
                if listed {
                    return Some(subject);
                }
            }
        }
        self.referrers
            .iter()
            .find(|(_, list)| list.iter().any(|d| d.digest == *digest))
            .map(|(subject, _)| subject.clone())
    }

    /// True when `digest` is an attachment, not an image of its own.
    pub fn is_attachment(&self, digest: &Digest) -> bool {
        self.subject_of(digest).is_some()
    }

    /// Attachments whose subject is known to be gone from the repository.
    pub fn orphans(&self) -> Vec<(Digest, Attachment)> {
        let mut out = Vec::new();
        for subject in &self.absent {
            for attachment in self.attachments_of(subject) {
                out.push((subject.clone(), attachment));
            }
        }
        out
    }

    /// Subjects named by attachments that are not among the manifests read: the
    /// loader looks them up to tell orphans from attachments of untagged manifests.
    pub fn unresolved_subjects(&self) -> BTreeSet<Digest> {
        let mut subjects = BTreeSet::new();
        for tag in self.tags.keys() {
            if let Some(s) = cosign_tag(tag)
                .map(|(s, _)| s)
                .or_else(|| fallback_tag(tag))
            {
                subjects.insert(s);
            }
        }
        for node in self.manifests.values() {
            subjects.extend(node.subject.clone());
        }
        subjects.retain(|s| !self.manifests.contains_key(s));
        subjects
    }
}
