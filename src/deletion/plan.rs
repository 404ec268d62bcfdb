//! Pure planning: from a [`Snapshot`] and what was asked, the exact changes that
//! remove it and what goes with it (index children, attachments), and nothing
//! that anything remaining needs. No I/O: unit-tested from hand-built snapshots.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::snapshot::{fallback_tag, is_attachment_tag, AttachmentKind, Snapshot};
use crate::registry::manifest::MediaType;
use crate::registry::Digest;

/// What the user asked to remove from one repository.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// Tags to remove; a manifest goes when all its tags go and nothing needs it.
    pub remove_tags: BTreeSet<String>,
    /// Manifests to delete by digest, whatever tags point at them.
    pub delete: BTreeSet<Digest>,
    /// Delete the manifests in `delete` even when an index references them.
    pub force: bool,
    /// Leave the attachments of deleted manifests in place.
    pub keep_attachments: bool,
    /// Also delete attachments whose subject is gone.
    pub orphans: bool,
}

/// Why a manifest is deleted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cause {
    /// Named by digest.
    Named,
    /// Every tag on it is removed.
    AllTagsRemoved,
    /// A child of a deleted index that nothing else needs.
    ChildOf(Digest),
    /// Attached to a deleted manifest.
    AttachmentOf(Digest, AttachmentKind),
    /// Attached to a manifest that no longer exists.
    Orphan(Digest, AttachmentKind),
    /// A referrers fallback index left with no entries.
    EmptyReferrersIndex(Digest),
}

/// One change to the repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Delete a manifest by digest; `tags` disappear with it.
    DeleteManifest {
        /// The manifest.
        digest: Digest,
        /// Its media type.
        media_type: MediaType,
        /// Every tag that points at it.
        tags: Vec<String>,
        /// Why it goes.
        cause: Cause,
        /// Deleted although an index references it (`--force`).
        forced: bool,
    },
    /// Remove one tag; the manifest stays.
    RemoveTag {
        /// The tag.
        tag: String,
        /// What it points at.
        digest: Digest,
        /// The manifest's media type.
        media_type: MediaType,
        /// Tags on the same manifest that stay (checked afterwards).
        keep: Vec<String>,
        /// An index references the manifest (it must survive: checked afterwards).
        in_index: bool,
    },
    /// Re-push a referrers fallback index without the entries being deleted, then
    /// delete the old version by digest.
    RewriteReferrersIndex {
        /// The fallback tag (`sha256-<hex>`).
        tag: String,
        /// The index it points at now.
        digest: Digest,
        /// Its media type (the new one is pushed with the same).
        media_type: MediaType,
        /// The new index.
        bytes: Arc<[u8]>,
        /// The entries dropped.
        dropped: Vec<Digest>,
        /// The old version has no other tag, so it is deleted after the push.
        delete_old: bool,
    },
    /// Not planned: put back a tag that went although the plan kept it (found
    /// missing from the tag list after the plan's changes).
    RestoreTag {
        /// The tag.
        tag: String,
        /// The manifest it pointed at.
        digest: Digest,
    },
}

impl Action {
    /// The manifest acted on.
    pub fn digest(&self) -> &Digest {
        match self {
            Action::DeleteManifest { digest, .. }
            | Action::RemoveTag { digest, .. }
            | Action::RewriteReferrersIndex { digest, .. }
            | Action::RestoreTag { digest, .. } => digest,
        }
    }

    /// The tags that disappear.
    pub fn tags_removed(&self) -> Vec<String> {
        match self {
            Action::DeleteManifest { tags, .. } => tags.clone(),
            Action::RemoveTag { tag, .. } => vec![tag.clone()],
            Action::RewriteReferrersIndex { .. } | Action::RestoreTag { .. } => Vec::new(),
        }
    }

    /// True when the action deletes a manifest that is an image in its own right
    /// (not a child or an attachment swept along).
    pub fn deletes_image(&self) -> bool {
        matches!(
            self,
            Action::DeleteManifest {
                cause: Cause::Named | Cause::AllTagsRemoved,
                ..
            }
        )
    }
}

/// Why a manifest named for deletion is not deleted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// An index that stays references it (its tags given); `--force` overrides.
    ReferencedByIndex {
        /// The manifest.
        digest: Digest,
        /// Tags of the indexes that reference it.
        index_tags: Vec<String>,
    },
}

/// Why a child or attachment of a deleted manifest stays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeptReason {
    /// It has tags of its own that stay.
    Tagged(Vec<String>),
    /// An index that stays references it.
    SharedWith(Vec<Digest>),
    /// The repository has tags regctl cannot read or verify; one may point at it.
    OpaqueTags,
    /// `--keep-attachments`.
    KeepAttachments,
}

/// A child or attachment of a deleted manifest that stays, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kept {
    /// The manifest that stays.
    pub digest: Digest,
    /// The deleted manifest it belongs to.
    pub of: Digest,
    /// Why it stays.
    pub reason: KeptReason,
}

/// A tag the plan keeps, with what is needed to put it back should a change take
/// it against the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Survivor {
    /// The tag.
    pub tag: String,
    /// The manifest it points at.
    pub digest: Digest,
    /// The manifest's media type.
    pub media_type: MediaType,
    /// The manifest's bytes, as served.
    pub bytes: Arc<[u8]>,
}

/// The changes for one repository.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// The repository.
    pub repository: String,
    /// The changes, parents before children, subjects before attachments.
    pub actions: Vec<Action>,
    /// Manifests named for deletion that are not deleted.
    pub refused: Vec<Refusal>,
    /// Children and attachments of deleted manifests that stay.
    pub kept: Vec<Kept>,
    /// True when no tag is left in the repository afterwards.
    pub leaves_no_tags: bool,
    /// The tags that stay, checked after the changes.
    pub survivors: Vec<Survivor>,
}

impl Plan {
    /// Every manifest the plan deletes.
    pub fn deleted(&self) -> BTreeSet<&Digest> {
        self.actions
            .iter()
            .filter(|a| matches!(a, Action::DeleteManifest { .. }))
            .map(Action::digest)
            .collect()
    }

    /// Every tag the plan removes.
    pub fn tags_removed(&self) -> BTreeSet<String> {
        self.actions.iter().flat_map(Action::tags_removed).collect()
    }

    /// The manifests deleted, in the order the plan deletes them.
    pub fn deleted_in_order(&self) -> Vec<&Digest> {
        self.actions
            .iter()
            .filter(|a| matches!(a, Action::DeleteManifest { .. }))
            .map(Action::digest)
            .collect()
    }

    /// The images (manifests deleted in their own right) the plan deletes.
    pub fn images_deleted(&self) -> usize {
        self.actions.iter().filter(|a| a.deletes_image()).count()
    }
}

/// The plan that carries out `request` on `snapshot`.
pub fn plan(snapshot: &Snapshot, request: &Request) -> Plan {
    Planner::new(snapshot, request).run()
}

struct Planner<'a> {
    snapshot: &'a Snapshot,
    request: &'a Request,
    /// Manifests to delete, in the order decided, with why.
    deleting: Vec<(Digest, Cause)>,
    removed_tags: BTreeSet<String>,
    kept: BTreeMap<Digest, Kept>,
    refused: Vec<Refusal>,
}

impl<'a> Planner<'a> {
    fn new(snapshot: &'a Snapshot, request: &'a Request) -> Self {
        Planner {
            snapshot,
            request,
            deleting: Vec::new(),
            removed_tags: request
                .remove_tags
                .iter()
                .filter(|t| snapshot.tags.contains_key(*t))
                .cloned()
                .collect(),
            kept: BTreeMap::new(),
            refused: Vec::new(),
        }
    }

    fn is_deleting(&self, digest: &Digest) -> bool {
        self.deleting.iter().any(|(d, _)| d == digest)
    }

    /// Indexes that reference `digest` and stay (referrers fallback indexes are
    /// rewritten, not counted).
    fn staying_parents(&self, digest: &Digest) -> Vec<Digest> {
        self.snapshot
            .parents(digest)
            .into_iter()
            .filter(|p| !self.is_deleting(p) && !self.snapshot.is_referrers_index(p))
            .collect()
    }

    /// Tags on `digest` that stay once the plan so far is carried out.
    fn staying_tags(&self, digest: &Digest) -> Vec<String> {
        self.snapshot
            .tags_on(digest)
            .into_iter()
            .filter(|t| !self.removed_tags.contains(t) && !self.attachment_tag_going(t))
            .collect()
    }

    /// An attachment tag whose subject is deleted goes with it.
    fn attachment_tag_going(&self, tag: &str) -> bool {
        if self.request.keep_attachments || !is_attachment_tag(tag) {
            return false;
        }
        let subject = super::snapshot::cosign_tag(tag)
            .map(|(s, _)| s)
            .or_else(|| fallback_tag(tag));
        subject.is_some_and(|s| self.is_deleting(&s) || self.snapshot.absent.contains(&s))
    }

    fn run(mut self) -> Plan {
        self.named();
        self.by_tags();
        self.cascade();
        let mut plan = Plan {
            repository: self.snapshot.repository.clone(),
            ..Plan::default()
        };
        let removed_with_manifests: BTreeSet<String> = self
            .deleting
            .iter()
            .flat_map(|(d, _)| self.snapshot.tags_on(d))
            .collect();
        for (digest, cause) in &self.deleting {
            let forced = matches!(cause, Cause::Named)
                && self.request.force
                && !self.staying_parents(digest).is_empty();
            plan.actions.push(Action::DeleteManifest {
                digest: digest.clone(),
                media_type: self.media_type(digest),
                tags: self.snapshot.tags_on(digest),
                cause: cause.clone(),
                forced,
            });
        }
        for tag in &self.removed_tags {
            if removed_with_manifests.contains(tag) {
                continue;
            }
            let digest = &self.snapshot.tags[tag];
            plan.actions.push(Action::RemoveTag {
                tag: tag.clone(),
                digest: digest.clone(),
                media_type: self.media_type(digest),
                keep: self.staying_tags(digest),
                in_index: !self.snapshot.parents(digest).is_empty(),
            });
        }
        plan.actions.extend(self.rewrites());
        let removed = plan.tags_removed();
        plan.leaves_no_tags = !self.snapshot.tags.is_empty()
            && !self.snapshot.has_unknown_tags()
            && self.snapshot.tags.keys().all(|t| removed.contains(t));
        plan.survivors = survivors(self.snapshot, &removed);
        plan.refused = self.refused;
        plan.kept = self
            .kept
            .into_values()
            .filter(|k| !plan.actions.iter().any(|a| a.digest() == &k.digest))
            .collect();
        plan
    }

    fn media_type(&self, digest: &Digest) -> MediaType {
        self.snapshot
            .manifests
            .get(digest)
            .map_or(MediaType::Other(String::new()), |n| n.media_type.clone())
    }

    /// Manifests named by digest: deleted unless an index that stays needs them.
    fn named(&mut self) {
        for digest in &self.request.delete {
            self.deleting.push((digest.clone(), Cause::Named));
        }
        let mut refused = Vec::new();
        for digest in &self.request.delete {
            if !self.request.force && !self.staying_parents(digest).is_empty() {
                refused.push(digest.clone());
            }
        }
        for digest in refused {
            self.deleting.retain(|(d, _)| *d != digest);
            self.refused.push(Refusal::ReferencedByIndex {
                index_tags: self.snapshot.index_tags_referencing(&digest),
                digest,
            });
        }
    }

    /// Manifests whose every tag is removed go by digest, unless something needs them.
    fn by_tags(&mut self) {
        let digests: BTreeSet<Digest> = self
            .removed_tags
            .iter()
            .map(|t| self.snapshot.tags[t].clone())
            .collect();
        for digest in digests {
            if self.is_deleting(&digest) {
                continue;
            }
            let goes = self.staying_tags(&digest).is_empty()
                && !self.snapshot.has_unknown_tags()
                && self.staying_parents(&digest).is_empty();
            if goes {
                self.deleting.push((digest, Cause::AllTagsRemoved));
            }
        }
    }

    /// Children and attachments of deleted manifests (and orphans, if asked),
    /// until nothing more goes.
    fn cascade(&mut self) {
        loop {
            let mut candidates: Vec<(Digest, Digest, Cause)> = Vec::new();
            for (parent, _) in &self.deleting {
                if let Some(node) = self.snapshot.manifests.get(parent) {
                    for child in &node.children {
                        candidates.push((
                            child.clone(),
                            parent.clone(),
                            Cause::ChildOf(parent.clone()),
                        ));
                    }
                }
                for attachment in self.snapshot.attachments_of(parent) {
                    candidates.push((
                        attachment.digest,
                        parent.clone(),
                        Cause::AttachmentOf(parent.clone(), attachment.kind),
                    ));
                }
            }
            if self.request.orphans {
                for (subject, attachment) in self.snapshot.orphans() {
                    candidates.push((
                        attachment.digest,
                        subject.clone(),
                        Cause::Orphan(subject, attachment.kind),
                    ));
                }
            }
            let mut changed = false;
            for (digest, of, cause) in candidates {
                if self.is_deleting(&digest) {
                    continue;
                }
                match self.blocker(&digest, &cause) {
                    None => {
                        self.kept.remove(&digest);
                        self.deleting.push((digest, cause));
                        changed = true;
                    }
                    Some(reason) => {
                        self.kept
                            .insert(digest.clone(), Kept { digest, of, reason });
                    }
                }
            }
            if !changed {
                return;
            }
        }
    }

    /// What keeps a child or attachment from going with its parent or subject.
    fn blocker(&self, digest: &Digest, cause: &Cause) -> Option<KeptReason> {
        let attachment = matches!(cause, Cause::AttachmentOf(..) | Cause::Orphan(..));
        if attachment && self.request.keep_attachments {
            return Some(KeptReason::KeepAttachments);
        }
        let tags = self.staying_tags(digest);
        if !tags.is_empty() {
            return Some(KeptReason::Tagged(tags));
        }
        let parents = self.staying_parents(digest);
        if !parents.is_empty() {
            return Some(KeptReason::SharedWith(parents));
        }
        if self.snapshot.has_unknown_tags() {
            return Some(KeptReason::OpaqueTags);
        }
        None
    }

    /// Referrers fallback indexes that stay but list deleted referrers: re-pushed
    /// without them, or deleted when nothing is left in them.
    fn rewrites(&self) -> Vec<Action> {
        let mut actions = Vec::new();
        for (tag, index) in &self.snapshot.tags {
            let Some(subject) = fallback_tag(tag) else {
                continue;
            };
            if self.is_deleting(index) || self.removed_tags.contains(tag) {
                continue;
            }
            let Some(node) = self.snapshot.manifests.get(index) else {
                continue;
            };
            let dropped: Vec<Digest> = node
                .children
                .iter()
                .filter(|c| self.is_deleting(c))
                .cloned()
                .collect();
            if dropped.is_empty() {
                continue;
            }
            if dropped.len() == node.children.len() && self.snapshot.tags_on(index).len() == 1 {
                actions.push(Action::DeleteManifest {
                    digest: index.clone(),
                    media_type: node.media_type.clone(),
                    tags: vec![tag.clone()],
                    cause: Cause::EmptyReferrersIndex(subject),
                    forced: false,
                });
                continue;
            }
            let Some(bytes) = without_entries(&node.bytes, &dropped) else {
                continue;
            };
            actions.push(Action::RewriteReferrersIndex {
                tag: tag.clone(),
                digest: index.clone(),
                media_type: node.media_type.clone(),
                bytes,
                dropped,
                delete_old: self.snapshot.tags_on(index).len() == 1,
            });
        }
        actions
    }
}

/// The tags of `snapshot` not in `removed`, with what puts them back.
pub fn survivors(snapshot: &Snapshot, removed: &BTreeSet<String>) -> Vec<Survivor> {
    snapshot
        .tags
        .iter()
        .filter(|(tag, _)| !removed.contains(*tag))
        .filter_map(|(tag, digest)| {
            let node = snapshot.manifests.get(digest)?;
            Some(Survivor {
                tag: tag.clone(),
                digest: digest.clone(),
                media_type: node.media_type.clone(),
                bytes: node.bytes.clone(),
            })
        })
        .collect()
}

/// The index `bytes` with the entries for `dropped` taken out, every other field
/// kept; `None` when the bytes are not an index.
fn without_entries(bytes: &[u8], dropped: &[Digest]) -> Option<Arc<[u8]>> {
    let mut value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let manifests = value.get_mut("manifests")?.as_array_mut()?;
    manifests.retain(|entry| {
        let digest = entry.get("digest").and_then(|d| d.as_str());
        !dropped
            .iter()
            .any(|d| Some(d.to_string().as_str()) == digest)
    });
    serde_json::to_vec(&value).ok().map(Arc::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deletion::snapshot::{fallback_tag_for, Node};

    fn digest(name: &str) -> Digest {
        Digest::sha256_of(name.as_bytes())
    }

    /// A hand-built repository: `image(name)` nodes, indexes, attachments, tags.
    struct Repo(Snapshot);

    impl Repo {
        fn new() -> Repo {
            Repo(Snapshot::new("app"))
        }

        fn node(&mut self, name: &str, body: serde_json::Value, media_type: &str) -> Digest {
            let bytes: Arc<[u8]> = Arc::from(serde_json::to_vec(&body).unwrap());
            self.0
                .manifests
                .insert(digest(name), Node::from_bytes(media_type, bytes));
            digest(name)
        }

        fn image(&mut self, name: &str) -> Digest {
            let config = digest(&format!("{name} config"));
            self.node(
                name,
                serde_json::json!({"schemaVersion": 2, "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": config.to_string(), "size": 2}}),
                crate::registry::manifest::OCI_MANIFEST,
            )
        }

        fn index(&mut self, name: &str, children: &[&Digest]) -> Digest {
            let manifests: Vec<_> = children
                .iter()
                .map(|c| serde_json::json!({"digest": c.to_string(), "size": 1, "mediaType": ""}))
                .collect();
            self.node(
                name,
                serde_json::json!({"schemaVersion": 2, "manifests": manifests}),
                crate::registry::manifest::OCI_INDEX,
            )
        }

        fn referrer(&mut self, name: &str, subject: &Digest) -> Digest {
            self.node(
                name,
                serde_json::json!({"schemaVersion": 2, "artifactType": "application/spdx+json",
                    "config": {"mediaType": "application/vnd.oci.empty.v1+json",
                        "digest": digest("{}").to_string(), "size": 2},
                    "subject": {"digest": subject.to_string(), "size": 1, "mediaType": ""}}),
                crate::registry::manifest::OCI_MANIFEST,
            )
        }

        fn tag(&mut self, tag: &str, digest: &Digest) {
            self.0.tags.insert(tag.to_string(), digest.clone());
        }

        fn sign(&mut self, subject: &Digest) -> Digest {
            let sig = self.image(&format!("signature of {subject}"));
            self.tag(&format!("{}.sig", fallback_tag_for(subject)), &sig);
            sig
        }
    }

    fn remove(tags: &[&str]) -> Request {
        Request {
            remove_tags: tags.iter().map(|t| t.to_string()).collect(),
            ..Request::default()
        }
    }

    /// The manifests deleted, each after whatever it belongs to; sorted by
    /// digest for comparison once that order is checked.
    fn deleted(plan: &Plan) -> Vec<(Digest, Cause)> {
        let order: Vec<&Digest> = plan.deleted_in_order();
        for (i, action) in plan.actions.iter().enumerate() {
            if let Action::DeleteManifest {
                cause: Cause::ChildOf(p) | Cause::AttachmentOf(p, _),
                ..
            } = action
            {
                let parent = order.iter().position(|d| *d == p);
                assert!(parent.is_some_and(|at| at < i), "{p} after its dependent");
            }
        }
        let mut deleted: Vec<(Digest, Cause)> = plan
            .actions
            .iter()
            .filter_map(|a| match a {
                Action::DeleteManifest { digest, cause, .. } => {
                    Some((digest.clone(), cause.clone()))
                }
                _ => None,
            })
            .collect();
        deleted.sort_by(|a, b| a.0.cmp(&b.0));
        deleted
    }

    fn sorted(mut v: Vec<(Digest, Cause)>) -> Vec<(Digest, Cause)> {
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    #[test]
    fn a_tag_shared_with_another_is_removed_alone() {
        let mut r = Repo::new();
        let a = r.image("a");
        r.tag("v1", &a);
        r.tag("latest", &a);
        let plan = super::plan(&r.0, &remove(&["v1"]));
        assert_eq!(plan.actions.len(), 1);
        assert!(matches!(
            &plan.actions[0],
            Action::RemoveTag { tag, keep, .. } if tag == "v1" && keep == &["latest".to_string()]
        ));
        assert!(!plan.leaves_no_tags);
    }

    #[test]
    fn the_last_tag_takes_the_image_and_its_attachments_after_it() {
        let mut r = Repo::new();
        let a = r.image("a");
        let b = r.image("b");
        r.tag("v1", &a);
        r.tag("v2", &b);
        let sig = r.sign(&a);
        let sbom = r.referrer("sbom", &a);
        r.sign(&b);
        let plan = super::plan(&r.0, &remove(&["v1"]));
        assert_eq!(
            deleted(&plan),
            sorted(vec![
                (a.clone(), Cause::AllTagsRemoved),
                (
                    sig.clone(),
                    Cause::AttachmentOf(a.clone(), AttachmentKind::Signature)
                ),
                (
                    sbom,
                    Cause::AttachmentOf(
                        a.clone(),
                        AttachmentKind::Referrer(Some("application/spdx+json".into()))
                    )
                ),
            ])
        );
        assert_eq!(plan.images_deleted(), 1);
        let kept = Request {
            keep_attachments: true,
            ..remove(&["v1"])
        };
        let plan = super::plan(&r.0, &kept);
        assert_eq!(deleted(&plan), vec![(a, Cause::AllTagsRemoved)]);
        assert!(plan
            .kept
            .iter()
            .any(|k| k.digest == sig && k.reason == KeptReason::KeepAttachments));
    }

    #[test]
    fn an_index_takes_children_nothing_else_needs() {
        let mut r = Repo::new();
        let (a, b, c) = (r.image("a"), r.image("b"), r.image("c"));
        let i1 = r.index("i1", &[&a, &b]);
        let i2 = r.index("i2", &[&b, &c]);
        let nested = r.index("nested", &[&i1]);
        r.tag("v1", &i1);
        r.tag("v2", &i2);
        r.tag("c", &c);
        let _ = nested;
        // v1's index is inside `nested` (untagged, so not kept alive by a tag),
        // but an index that stays references it: removing v1 removes the tag only.
        let plan = super::plan(&r.0, &remove(&["v1"]));
        assert!(matches!(
            &plan.actions[..],
            [Action::RemoveTag { in_index: true, .. }]
        ));

        r.0.manifests.remove(&digest("nested"));
        let plan = super::plan(&r.0, &remove(&["v1"]));
        assert_eq!(
            deleted(&plan),
            sorted(vec![
                (i1.clone(), Cause::AllTagsRemoved),
                (a, Cause::ChildOf(i1.clone()))
            ])
        );
        assert_eq!(
            plan.kept,
            vec![Kept {
                digest: b.clone(),
                of: i1.clone(),
                reason: KeptReason::SharedWith(vec![i2.clone()])
            }]
        );
        let both = plan_both(&r.0);
        assert_eq!(
            both,
            sorted(vec![
                (i1.clone(), Cause::AllTagsRemoved),
                (i2.clone(), Cause::AllTagsRemoved),
                (digest("a"), Cause::ChildOf(i1)),
                (b, Cause::ChildOf(i2)),
            ]),
            "c stays: it is tagged"
        );
    }

    fn plan_both(s: &Snapshot) -> Vec<(Digest, Cause)> {
        deleted(&super::plan(s, &remove(&["v1", "v2"])))
    }

    #[test]
    fn a_named_child_needs_force() {
        let mut r = Repo::new();
        let a = r.image("a");
        let i = r.index("i", &[&a]);
        r.tag("v1", &i);
        let named = Request {
            delete: [a.clone()].into(),
            ..Request::default()
        };
        let refused = super::plan(&r.0, &named);
        assert!(refused.actions.is_empty());
        assert_eq!(
            refused.refused,
            vec![Refusal::ReferencedByIndex {
                digest: a.clone(),
                index_tags: vec!["v1".into()]
            }]
        );
        let forced = super::plan(
            &r.0,
            &Request {
                force: true,
                ..named
            },
        );
        assert!(matches!(
            &forced.actions[..],
            [Action::DeleteManifest {
                forced: true,
                cause: Cause::Named,
                ..
            }]
        ));
    }

    #[test]
    fn a_referrer_deleted_alone_is_taken_out_of_the_fallback_index() {
        let mut r = Repo::new();
        let a = r.image("a");
        r.tag("v1", &a);
        let s1 = r.referrer("sbom1", &a);
        let s2 = r.referrer("sbom2", &a);
        let fallback = r.index("fallback", &[&s1, &s2]);
        r.tag(&fallback_tag_for(&a), &fallback);
        let one = Request {
            delete: [s1.clone()].into(),
            ..Request::default()
        };
        let plan = super::plan(&r.0, &one);
        assert_eq!(deleted(&plan), vec![(s1.clone(), Cause::Named)]);
        let Some(Action::RewriteReferrersIndex {
            bytes,
            dropped,
            delete_old: true,
            ..
        }) = plan.actions.last()
        else {
            panic!("{:?}", plan.actions)
        };
        assert_eq!(dropped, &vec![s1.clone()]);
        let rewritten = Node::from_bytes("", bytes.clone());
        assert_eq!(rewritten.children, vec![s2.clone()]);

        let all = Request {
            delete: [s1, s2].into(),
            ..Request::default()
        };
        let plan = super::plan(&r.0, &all);
        assert!(matches!(
            plan.actions.last(),
            Some(Action::DeleteManifest { cause: Cause::EmptyReferrersIndex(s), tags, .. })
                if *s == a && tags.len() == 1
        ));
    }

    #[test]
    fn orphans_go_only_when_asked() {
        let mut r = Repo::new();
        let a = r.image("a");
        r.tag("v1", &a);
        let gone = digest("gone");
        let sig = r.sign(&gone);
        r.0.absent.insert(gone.clone());
        assert_eq!(r.0.orphans().len(), 1);
        assert!(super::plan(&r.0, &Request::default()).actions.is_empty());
        let plan = super::plan(
            &r.0,
            &Request {
                orphans: true,
                ..Request::default()
            },
        );
        assert_eq!(
            deleted(&plan),
            vec![(sig, Cause::Orphan(gone, AttachmentKind::Signature))]
        );
    }

    #[test]
    fn tags_regctl_cannot_read_keep_manifests_from_deletion_by_digest() {
        let mut r = Repo::new();
        let a = r.image("a");
        r.tag("v1", &a);
        r.0.opaque_tags.push("bad tag".into());
        let plan = super::plan(&r.0, &remove(&["v1"]));
        assert!(matches!(&plan.actions[..], [Action::RemoveTag { .. }]));
        assert!(!plan.leaves_no_tags);
    }

    #[test]
    fn removing_every_tag_says_so() {
        let mut r = Repo::new();
        let a = r.image("a");
        r.tag("v1", &a);
        r.sign(&a);
        assert!(super::plan(&r.0, &remove(&["v1"])).leaves_no_tags);
    }
}
