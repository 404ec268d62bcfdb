//! What one repository holds, as a graph: tags point at manifests, indexes point at
//! their children, attachments (signatures, attestations, SBOMs, OCI referrers)
//! point at their subject. Pure data and queries; [`super::load`] fills it in.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::attachment::{cosign_tag, fallback_tag, Attachment, AttachmentKind};
use super::created::Created;
use super::node::Node;
use crate::registry::media::{Descriptor, MediaType};
use crate::registry::Digest;

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
    /// regctl knowing: a tag it cannot read or verify (apart from those in
    /// `removing`: removed along with the plan, they cannot hold anything back),
    /// or a manifest it cannot parse. Then no manifest is deleted by digest on
    /// the strength of what is known.
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

    fn artifact_type(&self, digest: &Digest) -> Option<String> {
        self.manifests
            .get(digest)
            .and_then(|n| n.artifact_type.clone())
    }

    /// The subject a manifest with `tags` (all of them, not empty) is attached
    /// to, if it is an attachment: its `subject` field, or the subject its tags
    /// name when every one is an attachment tag.
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
