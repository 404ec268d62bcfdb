//! What one repository holds, as a graph: tags point at manifests, indexes point at
//! their children, attachments (signatures, attestations, SBOMs, OCI referrers)
//! point at their subject. Pure data and queries; [`super::load`] fills it in.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use time::OffsetDateTime;

use serde_json::Value;

use crate::registry::media::{self, Descriptor, MediaType};
use crate::registry::Digest;

/// One manifest of the repository.
#[derive(Clone, Debug)]
pub struct Node {
    /// Its media type, as served.
    pub media_type: MediaType,
    /// The size of the bytes served (a manifest is a blob too).
    pub size: u64,
    /// The bytes exactly as served, kept for an OCI index only (a referrers
    /// fallback index is re-pushed without deleted entries); the loader drops
    /// them for an index no fallback tag names. Other manifests keep only what
    /// the graph needs, not their bytes.
    pub index_bytes: Option<Arc<[u8]>>,
    /// False when the bytes are not a manifest regctl can read: then what it points
    /// at is unknown, and nothing is deleted on the strength of it.
    pub readable: bool,
    /// An index's children.
    pub children: Vec<Digest>,
    /// The sizes their descriptors give, in the same order.
    child_sizes: Vec<u64>,
    /// An index (OCI index or Docker manifest list), as [`media::is_index`] decides.
    index: bool,
    /// An image's config.
    pub config: Option<Descriptor>,
    /// An image's layers (or an artifact's blobs), those whose descriptor reads
    /// and that the registry stores.
    pub layers: Vec<Descriptor>,
    /// Foreign (non-distributable) layers: fetched from their `urls`, never
    /// stored by the registry (a Windows base layer), so never counted as bytes
    /// it holds or frees.
    pub foreign_layers: Vec<Descriptor>,
    /// The manifest this one is attached to (OCI `subject`).
    pub subject: Option<Digest>,
    /// The artifact type (OCI `artifactType`, or the config's media type).
    pub artifact_type: Option<String>,
    /// A Docker schema 1 manifest's creation time, as its newest history entry
    /// gives it (schema 1 has no config blob).
    pub schema1_created: Option<String>,
}

impl Node {
    /// A node from the bytes served for it. Read leniently, field by field: an
    /// index entry with an odd `platform` still names its child. A manifest whose
    /// references cannot all be read is marked unreadable.
    pub fn from_bytes(media_type: &str, bytes: Arc<[u8]>) -> Node {
        let value = serde_json::from_slice::<Value>(&bytes).ok();
        let declared = value
            .as_ref()
            .and_then(|v| v.get("mediaType"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let media_type = match (media_type, declared) {
            ("", Some(declared)) => MediaType::parse(&declared),
            (given, _) => MediaType::parse(given),
        };
        let Some(json @ Value::Object(_)) = value else {
            return Node::unreadable(media_type, bytes);
        };
        let index = media::is_index(&media_type, &json);
        let Value::Object(fields) = json else {
            return Node::unreadable(media_type, bytes);
        };
        let digest_of = |d: &Value| d.get("digest")?.as_str()?.parse::<Digest>().ok();
        let mut readable = true;
        let mut children = Vec::new();
        let mut child_sizes = Vec::new();
        match fields.get("manifests") {
            None | Some(Value::Null) => {}
            Some(Value::Array(entries)) => {
                for entry in entries {
                    match digest_of(entry) {
                        Some(d) => {
                            children.push(d);
                            child_sizes
                                .push(entry.get("size").and_then(Value::as_u64).unwrap_or(0));
                        }
                        None => readable = false,
                    }
                }
            }
            Some(_) => readable = false,
        }
        let config: Option<Descriptor> = fields
            .get("config")
            .and_then(|c| serde_json::from_value(c.clone()).ok());
        let mut layers: Vec<Descriptor> = Vec::new();
        let mut foreign_layers: Vec<Descriptor> = Vec::new();
        if let Some(Value::Array(entries)) = fields.get("layers") {
            for entry in entries {
                let Ok(layer) = serde_json::from_value::<Descriptor>(entry.clone()) else {
                    continue;
                };
                if media::is_foreign_layer(&layer.media_type, entry.get("urls").is_some()) {
                    foreign_layers.push(layer);
                } else {
                    layers.push(layer);
                }
            }
        }
        // Docker schema 1: layers by `fsLayers[].blobSum`, without sizes (it
        // gives none), each once; the creation time in the newest history entry.
        let mut schema1_created = None;
        if fields.get("schemaVersion").and_then(Value::as_u64) == Some(1) {
            match fields.get("fsLayers") {
                Some(Value::Array(entries)) => {
                    for entry in entries {
                        match entry.get("blobSum").and_then(Value::as_str).map(str::parse) {
                            Some(Ok(digest)) => {
                                if !layers.iter().any(|l: &Descriptor| l.digest == digest) {
                                    layers.push(Descriptor {
                                        media_type: String::new(),
                                        digest,
                                        size: 0,
                                        platform: None,
                                        artifact_type: None,
                                    });
                                }
                            }
                            _ => readable = false,
                        }
                    }
                }
                _ => readable = false,
            }
            schema1_created = fields
                .get("history")
                .and_then(|h| h.get(0))
                .and_then(|h| h.get("v1Compatibility"))
                .and_then(Value::as_str)
                .and_then(|v| serde_json::from_str::<Value>(v).ok())
                .and_then(|v| v.get("created").and_then(Value::as_str).map(str::to_string));
        }
        let subject = match fields.get("subject") {
            None | Some(Value::Null) => None,
            Some(d) => {
                let parsed = digest_of(d);
                readable &= parsed.is_some();
                parsed
            }
        };
        let artifact_type = fields
            .get("artifactType")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| {
                config
                    .as_ref()
                    .map(|c| c.media_type.clone())
                    .filter(|t| !is_image_config(t) && t != EMPTY_CONFIG)
            });
        Node {
            // What the registry stores: for signed schema 1, the payload.
            size: media::digested_bytes(&bytes).len() as u64,
            index_bytes: (media_type == MediaType::OciIndex).then_some(bytes),
            schema1_created,
            media_type,
            readable,
            children,
            child_sizes,
            index,
            config,
            layers,
            foreign_layers,
            subject,
            artifact_type,
        }
    }

    /// The blobs this manifest references, with their sizes, as the garbage
    /// collector marks them: itself (a manifest is a blob too), its config and
    /// layers, and an index's children (their manifests, not what those
    /// reference: the collector does not follow an index further).
    pub fn blobs(&self, digest: &Digest) -> Vec<(Digest, u64)> {
        let mut blobs: Vec<(Digest, u64)> = self
            .children
            .iter()
            .cloned()
            .zip(self.child_sizes.iter().copied())
            .collect();
        blobs.push((digest.clone(), self.size));
        blobs.extend(
            self.config
                .iter()
                .chain(&self.layers)
                .map(|d| (d.digest.clone(), d.size)),
        );
        blobs
    }

    fn unreadable(media_type: MediaType, bytes: Arc<[u8]>) -> Node {
        Node {
            index: media_type.is_index(),
            size: bytes.len() as u64,
            index_bytes: None,
            schema1_created: None,
            media_type,
            readable: false,
            children: Vec::new(),
            child_sizes: Vec::new(),
            config: None,
            layers: Vec::new(),
            foreign_layers: Vec::new(),
            subject: None,
            artifact_type: None,
        }
    }

    /// True for an index (OCI index or Docker manifest list).
    pub fn is_index(&self) -> bool {
        self.index
    }
}

/// The OCI empty config (`{}`), used by artifacts.
pub const EMPTY_CONFIG: &str = "application/vnd.oci.empty.v1+json";

pub use crate::registry::media::is_image_config;

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
    /// The config's `created` cannot be true: before 1981 (what Jib, ko, Bazel,
    /// Nix and buildpacks write for reproducible builds) or more than a day
    /// ahead of the clock.
    ImplausibleDate(OffsetDateTime),
}

/// Dates before this are not taken for creation times: reproducible builds
/// write 1970-01-01 (Jib, ko, Bazel, Nix) or 1980-01-01 (buildpacks).
pub const EARLIEST_PLAUSIBLE: OffsetDateTime = time::macros::datetime!(1981-01-01 0:00 UTC);

/// How far ahead of the clock a creation time may be (clocks drift).
pub const FUTURE_ALLOWANCE: time::Duration = time::Duration::DAY;

impl Created {
    /// This creation time as one to rank and age by, given the clock: a time
    /// before [`EARLIEST_PLAUSIBLE`] or more than [`FUTURE_ALLOWANCE`] ahead of
    /// `now` makes the image undated.
    pub fn plausible(self, now: OffsetDateTime) -> Created {
        match self {
            Created::At(t) if t < EARLIEST_PLAUSIBLE || t > now + FUTURE_ALLOWANCE => {
                Created::Unknown(Undated::ImplausibleDate(t))
            }
            other => other,
        }
    }
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

impl AttachmentKind {
    /// The word printed for it: `signature`, `attestation`, `sbom`, `referrer`,
    /// `referrers-index`.
    pub fn word(&self) -> &'static str {
        match self {
            AttachmentKind::Signature => "signature",
            AttachmentKind::Attestation => "attestation",
            AttachmentKind::Sbom => "sbom",
            AttachmentKind::Referrer(_) => "referrer",
            AttachmentKind::ReferrersIndex => "referrers-index",
        }
    }
}

/// A manifest attached to another.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Attachment {
    /// The attached manifest.
    pub digest: Digest,
    /// What it is.
    pub kind: AttachmentKind,
}

/// The subject named by a cosign tag (`sha256-<hex>.sig|.att|.sbom`, or
/// `sha512-...`) and its kind.
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

/// The subject named by a tag of the referrers tag schema (`sha256-<hex>`, or
/// `sha512-<hex>`): the algorithm, a dash, the lower-case hex of the digest.
pub fn fallback_tag(tag: &str) -> Option<Digest> {
    let (algorithm, hex) = tag.split_once('-')?;
    let length = match algorithm {
        "sha256" => 64,
        "sha512" => 128,
        _ => return None,
    };
    let lower_hex = hex.len() == length
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !lower_hex {
        return None;
    }
    format!("{algorithm}:{hex}").parse().ok()
}

/// The referrers fallback tag for `subject`.
pub fn fallback_tag_for(subject: &Digest) -> String {
    subject.to_string().replacen(':', "-", 1)
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
    /// its digest (a body that does not hash to the digest announced, or that is
    /// not a manifest): each might point at any manifest, so, like opaque tags,
    /// they keep every manifest of the repository from deletion by digest.
    pub unresolved_tags: Vec<String>,
    /// Tags the registry lists whose manifest it does not serve (a GET by tag
    /// answers 404): dangling, most likely left on a deleted manifest. They can be
    /// removed; while they stay they count as unknowns, like unresolved tags.
    pub dangling_tags: Vec<String>,
    /// Every manifest read: tagged ones, index children, referrers.
    pub manifests: BTreeMap<Digest, Node>,
    /// The referrers API's answer per subject asked about.
    pub referrers: BTreeMap<Digest, Vec<Descriptor>>,
    /// Manifests looked up by digest and not found (subjects of orphans).
    pub absent: BTreeSet<Digest>,
    /// Creation time of each image read for it.
    pub created: BTreeMap<Digest, Created>,
    /// The registry answered that it has no such repository: 404 to its tag
    /// list, or a list with no tag (registries answer either for a name they
    /// never held, and `ls` reads both so).
    pub absent_repository: bool,
}

impl Snapshot {
    /// An empty snapshot of `repository`.
    pub fn new(repository: &str) -> Snapshot {
        Snapshot {
            repository: repository.to_string(),
            ..Snapshot::default()
        }
    }

    /// True when something in the repository might reference a manifest without
    /// regctl knowing: a tag it cannot read or verify, or a manifest it cannot
    /// parse. Then no manifest is deleted by digest on the strength of what is known.
    pub fn has_unknowns(&self) -> bool {
        self.has_unknowns_besides(&BTreeSet::new())
    }

    /// [`Snapshot::has_unknowns`], leaving out the tags in `removing` (those
    /// removed along with the plan cannot hold anything back).
    pub fn has_unknowns_besides(&self, removing: &BTreeSet<String>) -> bool {
        !self.unknown_tags(removing).is_empty() || self.manifests.values().any(|n| !n.readable)
    }

    /// Listed tags that cannot be tied to a manifest (opaque, unresolved or
    /// dangling), apart from those in `removing`: each might point at any manifest.
    pub fn unknown_tags(&self, removing: &BTreeSet<String>) -> Vec<String> {
        self.opaque_tags
            .iter()
            .chain(&self.unresolved_tags)
            .chain(&self.dangling_tags)
            .filter(|t| !removing.contains(*t))
            .cloned()
            .collect()
    }

    /// The tags pointing at `digest`, sorted.
    pub fn tags_on(&self, digest: &Digest) -> Vec<String> {
        self.tags
            .iter()
            .filter(|(_, d)| *d == digest)
            .map(|(t, _)| t.clone())
            .collect()
    }

    /// The tags of every tagged manifest, in one pass: for loops over many
    /// manifests, where [`Snapshot::tags_on`] each time would scan every tag.
    pub fn tags_by_digest(&self) -> HashMap<Digest, Vec<String>> {
        let mut by_digest: HashMap<Digest, Vec<String>> = HashMap::new();
        for (tag, digest) in &self.tags {
            by_digest
                .entry(digest.clone())
                .or_default()
                .push(tag.clone());
        }
        by_digest
    }

    /// The indexes that list each manifest, in one pass (see
    /// [`Snapshot::tags_by_digest`]).
    pub fn parents_by_child(&self) -> HashMap<Digest, Vec<Digest>> {
        let mut parents: HashMap<Digest, Vec<Digest>> = HashMap::new();
        for (digest, node) in &self.manifests {
            for child in &node.children {
                parents
                    .entry(child.clone())
                    .or_default()
                    .push(digest.clone());
            }
        }
        parents
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

    /// What `tag` attaches its manifest to, if it is an attachment tag: a cosign
    /// tag (`sha256-<hex>.sig|.att|.sbom`) names its subject; a fallback tag
    /// (`sha256-<hex>`) does so only on a referrers fallback index (see
    /// [`Snapshot::is_fallback_index_for`]): anything else so tagged is somebody's
    /// image, whatever its tag looks like.
    pub fn attachment_tag(&self, tag: &str) -> Option<(Digest, AttachmentKind)> {
        if let Some(found) = cosign_tag(tag) {
            return Some(found);
        }
        let subject = fallback_tag(tag)?;
        let digest = self.tags.get(tag)?;
        self.is_fallback_index_for(digest, &subject)
            .then_some((subject, AttachmentKind::ReferrersIndex))
    }

    /// True when `digest` is a referrers fallback index of `subject`: an OCI
    /// index, read in full, every entry of which is a manifest read whose own
    /// `subject` is `subject`. A multi-arch image that happens to be tagged
    /// `sha256-<hex>` is not one: its platforms name no subject.
    pub fn is_fallback_index_for(&self, digest: &Digest, subject: &Digest) -> bool {
        let Some(node) = self.manifests.get(digest) else {
            return false;
        };
        node.readable
            && node.media_type == MediaType::OciIndex
            && node.children.iter().all(|child| {
                self.manifests
                    .get(child)
                    .is_some_and(|n| n.subject.as_ref() == Some(subject))
            })
    }

    /// True for a referrers fallback index: an index every tag of which is a
    /// fallback tag. Its entries are rewritten, never kept alive by it.
    pub fn is_referrers_index(&self, digest: &Digest) -> bool {
        self.are_referrers_index_tags(&self.tags_on(digest))
    }

    /// True when `tags` (all the tags of one manifest) make it a referrers
    /// fallback index.
    pub fn are_referrers_index_tags(&self, tags: &[String]) -> bool {
        !tags.is_empty()
            && tags.iter().all(|t| {
                matches!(
                    self.attachment_tag(t),
                    Some((_, AttachmentKind::ReferrersIndex))
                )
            })
    }

    /// The distinct tagged manifests, in digest order.
    pub fn tagged(&self) -> BTreeSet<Digest> {
        self.tags.values().cloned().collect()
    }

    /// Every subject's attachments, found in one pass: cosign tags, the
    /// referrers fallback index and the referrers it lists, the referrers API's
    /// answers, and manifests whose `subject` names it. A manifest is attached to
    /// a subject only when its own `subject` names it (cosign tags keep their own
    /// rule): one a referrers list names that has no `subject`, or another one, is
    /// not an attachment of that subject ([`Snapshot::unverified_referrers`]).
    pub fn attachment_map(&self) -> BTreeMap<Digest, Vec<Attachment>> {
        let mut map: BTreeMap<Digest, BTreeMap<Digest, AttachmentKind>> = BTreeMap::new();
        let mut add = |subject: &Digest, digest: &Digest, kind: AttachmentKind| {
            if subject != digest {
                map.entry(subject.clone())
                    .or_default()
                    .entry(digest.clone())
                    .or_insert(kind);
            }
        };
        let own_subject = |d: &Digest| self.manifests.get(d).and_then(|n| n.subject.clone());
        for (tag, digest) in &self.tags {
            let Some((subject, kind)) = self.attachment_tag(tag) else {
                continue;
            };
            if kind == AttachmentKind::ReferrersIndex {
                if let Some(index) = self.manifests.get(digest) {
                    for child in &index.children {
                        if own_subject(child).is_some_and(|s| s == subject) {
                            add(
                                &subject,
                                child,
                                AttachmentKind::Referrer(self.artifact_type(child)),
                            );
                        }
                    }
                }
            }
            add(&subject, digest, kind);
        }
        for (subject, list) in &self.referrers {
            for descriptor in list {
                if own_subject(&descriptor.digest).is_some_and(|s| s == *subject) {
                    let kind = AttachmentKind::Referrer(
                        descriptor
                            .artifact_type
                            .clone()
                            .or_else(|| self.artifact_type(&descriptor.digest)),
                    );
                    add(subject, &descriptor.digest, kind);
                }
            }
        }
        for (digest, node) in &self.manifests {
            if let Some(subject) = &node.subject {
                add(
                    subject,
                    digest,
                    AttachmentKind::Referrer(node.artifact_type.clone()),
                );
            }
        }
        map.into_iter()
            .map(|(subject, found)| {
                let list = found
                    .into_iter()
                    .map(|(digest, kind)| Attachment { digest, kind })
                    .collect();
                (subject, list)
            })
            .collect()
    }

    /// Manifests the referrers API lists for a subject that do not name it as
    /// their own `subject` (none, or another one, or not read): not attachments of
    /// it, so never deleted with it. Sorted, each once.
    pub fn unverified_referrers(&self) -> Vec<Digest> {
        let mut listed: BTreeSet<Digest> = BTreeSet::new();
        for (subject, list) in &self.referrers {
            for descriptor in list {
                let own = self
                    .manifests
                    .get(&descriptor.digest)
                    .and_then(|n| n.subject.as_ref());
                if own != Some(subject) {
                    listed.insert(descriptor.digest.clone());
                }
            }
        }
        listed.into_iter().collect()
    }

    /// Everything attached to `subject` (see [`Snapshot::attachment_map`]).
    pub fn attachments_of(&self, subject: &Digest) -> Vec<Attachment> {
        self.attachment_map().remove(subject).unwrap_or_default()
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
        let tags = self.tags_on(digest);
        if !tags.is_empty() {
            return self.subject_of_tagged(digest, &tags);
        }
        if let Some(subject) = self.manifests.get(digest).and_then(|n| n.subject.clone()) {
            return Some(subject);
        }
        self.attachment_map()
            .into_iter()
            .find(|(_, list)| list.iter().any(|a| a.digest == *digest))
            .map(|(subject, _)| subject)
    }

    /// [`Snapshot::subject_of`] for a manifest with `tags` (all of them, not
    /// empty): its `subject` field, or the subject its tags name when every one is
    /// an attachment tag.
    pub fn subject_of_tagged(&self, digest: &Digest, tags: &[String]) -> Option<Digest> {
        if let Some(subject) = self.manifests.get(digest).and_then(|n| n.subject.clone()) {
            return Some(subject);
        }
        let by_tag: Vec<Digest> = tags
            .iter()
            .filter_map(|t| self.attachment_tag(t).map(|(s, _)| s))
            .collect();
        if by_tag.len() == tags.len() {
            return by_tag.into_iter().next();
        }
        None
    }

    /// True when `digest` is an attachment, not an image of its own.
    pub fn is_attachment(&self, digest: &Digest) -> bool {
        self.subject_of(digest).is_some()
    }

    /// Attachments whose subject is known to be gone from the repository.
    pub fn orphans(&self) -> Vec<(Digest, Attachment)> {
        let map = self.attachment_map();
        let mut out = Vec::new();
        for subject in &self.absent {
            for attachment in map.get(subject).into_iter().flatten() {
                out.push((subject.clone(), attachment.clone()));
            }
        }
        out
    }

    /// Subjects named by attachments that are not among the manifests read: the
    /// loader looks them up to tell orphans from attachments of untagged manifests.
    pub fn unresolved_subjects(&self) -> BTreeSet<Digest> {
        let mut subjects = BTreeSet::new();
        for tag in self.tags.keys() {
            if let Some((subject, _)) = self.attachment_tag(tag) {
                subjects.insert(subject);
            }
        }
        for node in self.manifests.values() {
            subjects.extend(node.subject.clone());
        }
        subjects.retain(|s| !self.manifests.contains_key(s));
        subjects
    }
}
