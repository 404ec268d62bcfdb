//! Pure planning: from a [`Snapshot`] and what was asked, the exact changes that
//! remove it and what goes with it (index children, attachments), and nothing
//! that anything remaining needs. No I/O: unit-tested from hand-built snapshots.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use crate::graph::{Attachment, AttachmentKind, Snapshot};
use crate::registry::media::MediaType;
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
    /// The referrers fallback index of the subject, left with no entries: the
    /// referrers it listed (`dropped`) are deleted.
    EmptyReferrersIndex {
        /// The subject whose referrers it listed.
        subject: Digest,
        /// The entries that go (it stays if one of them does).
        dropped: Vec<Digest>,
    },
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
        /// What must go first, or this stays too: the deleted indexes that list it,
        /// its subject, the referrers index that is rewritten without it.
        holders: Vec<Digest>,
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
    /// Re-push a referrers fallback index without the entries being deleted
    /// (before they are deleted), then delete the old version by digest.
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
    /// Remove a dangling tag: listed, but its manifest is not served (most likely
    /// deleted). Nothing else goes with it.
    RemoveDanglingTag {
        /// The tag.
        tag: String,
    },
    /// Not planned: put back a tag that went although the plan kept it (found
    /// missing from the tag list after the plan's changes).
    RestoreTag {
        /// The tag.
        tag: String,
        /// The manifest it pointed at.
        digest: Digest,
    },
    /// Not planned: the read of the repository's tag list after its changes,
    /// which checks them; reported only when that read fails.
    CheckTagList,
}

impl Action {
    /// The manifest acted on (none for a dangling tag, whose manifest is missing).
    pub fn digest(&self) -> Option<&Digest> {
        match self {
            Action::DeleteManifest { digest, .. }
            | Action::RemoveTag { digest, .. }
            | Action::RewriteReferrersIndex { digest, .. }
            | Action::RestoreTag { digest, .. } => Some(digest),
            Action::RemoveDanglingTag { .. } | Action::CheckTagList => None,
        }
    }

    /// The tags that disappear.
    pub fn tags_removed(&self) -> Vec<String> {
        match self {
            Action::DeleteManifest { tags, .. } => tags.clone(),
            Action::RemoveTag { tag, .. } | Action::RemoveDanglingTag { tag } => vec![tag.clone()],
            Action::RewriteReferrersIndex { .. }
            | Action::RestoreTag { .. }
            | Action::CheckTagList => Vec::new(),
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
    /// The repository has tags or manifests regctl cannot read or verify; one may
    /// reference it.
    Unknowns,
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
pub struct KeptTag {
    /// The tag.
    pub tag: String,
    /// The manifest it points at.
    pub digest: Digest,
    /// The manifest's media type.
    pub media_type: MediaType,
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
    /// Manifests a referrers list names that do not name its subject as their
    /// own: not taken for attachments, so kept (said once per repository).
    pub unverified_referrers: Vec<Digest>,
    /// The tags that stay, checked after the changes.
    pub kept_tags: Vec<KeptTag>,
    /// The bytes each action frees, by position; `None` for an action that
    /// deletes no manifest. Empty until [`super::freed::annotate`] fills it.
    pub freed: Vec<Option<u64>>,
    /// When the re-check started reading the repository the actions were
    /// checked against (none before the re-check).
    pub checked_at: Option<std::time::Instant>,
}

impl Plan {
    /// The bytes the `i`th action frees, when known.
    pub fn bytes_freed(&self, i: usize) -> Option<u64> {
        self.freed.get(i).copied().flatten()
    }

    /// The bytes the whole plan frees.
    pub fn total_freed(&self) -> u64 {
        crate::graph::space::total_of(self.freed.iter().flatten())
    }

    /// Every manifest the plan deletes.
    pub fn deleted(&self) -> BTreeSet<&Digest> {
        self.actions
            .iter()
            .filter(|a| matches!(a, Action::DeleteManifest { .. }))
            .filter_map(Action::digest)
            .collect()
    }

    /// Every tag the plan removes.
    pub fn tags_removed(&self) -> BTreeSet<String> {
        self.actions.iter().flat_map(Action::tags_removed).collect()
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

/// The planner's working state, with the snapshot's graph indexed once.
struct Planner<'a> {
    snapshot: &'a Snapshot,
    request: &'a Request,
    tags_on: HashMap<Digest, Vec<String>>,
    parents: HashMap<Digest, Vec<Digest>>,
    attachments: BTreeMap<Digest, Vec<Attachment>>,
    /// What each attachment tag attaches its manifest to, read once: deciding
    /// that a `sha256-<hex>` tag is a fallback index reads the index's entries,
    /// which the planner would otherwise do for every look at a tag.
    attachment_tags: HashMap<String, (Digest, AttachmentKind)>,
    unknowns: bool,
    /// Manifests to delete, in the order decided, with why.
    deleting: Vec<(Digest, Cause)>,
    deleting_set: HashSet<Digest>,
    removed_tags: BTreeSet<String>,
    kept: BTreeMap<Digest, Kept>,
    /// Manifests all of whose tags are removed, not (yet) deleted.
    waiting: BTreeSet<Digest>,
    /// For each manifest, the waiting ones whose fate its deletion may change
    /// (it is their parent, or the subject of an attachment tag on them).
    wakes: HashMap<Digest, Vec<Digest>>,
    /// How far [`Planner::cascade`] has gone through `deleting`.
    cascaded: usize,
}

impl<'a> Planner<'a> {
    fn new(snapshot: &'a Snapshot, request: &'a Request) -> Self {
        Planner {
            snapshot,
            request,
            tags_on: snapshot.tags_by_digest(),
            parents: snapshot.parents_by_child(),
            attachments: snapshot.attachment_map(),
            attachment_tags: snapshot
                .tags
                .keys()
                .filter_map(|t| Some((t.clone(), snapshot.attachment_tag(t)?)))
                .collect(),
            unknowns: snapshot.has_unknowns_besides(&request.remove_tags),
            deleting: Vec::new(),
            deleting_set: HashSet::new(),
            removed_tags: request
                .remove_tags
                .iter()
                .filter(|t| snapshot.tags.contains_key(*t))
                .cloned()
                .collect(),
            kept: BTreeMap::new(),
            waiting: BTreeSet::new(),
            wakes: HashMap::new(),
            cascaded: 0,
        }
    }

    fn tags_of(&self, digest: &Digest) -> &[String] {
        self.tags_on.get(digest).map_or(&[], Vec::as_slice)
    }

    fn parents_of(&self, digest: &Digest) -> &[Digest] {
        self.parents.get(digest).map_or(&[], Vec::as_slice)
    }

    fn attachment_tag(&self, tag: &str) -> Option<&(Digest, AttachmentKind)> {
        self.attachment_tags.get(tag)
    }

    /// [`Snapshot::are_referrers_index_tags`], from the tags read once.
    fn is_referrers_index(&self, digest: &Digest) -> bool {
        let tags = self.tags_of(digest);
        !tags.is_empty()
            && tags.iter().all(|t| {
                matches!(
                    self.attachment_tag(t),
                    Some((_, AttachmentKind::ReferrersIndex))
                )
            })
    }

    fn delete(&mut self, digest: Digest, cause: Cause) {
        self.deleting_set.insert(digest.clone());
        self.kept.remove(&digest);
        self.deleting.push((digest, cause));
    }

    /// Indexes that reference `digest` and stay (referrers fallback indexes are
    /// rewritten, not counted).
    fn staying_parents(&self, digest: &Digest) -> Vec<Digest> {
        self.parents_of(digest)
            .iter()
            .filter(|p| !self.deleting_set.contains(*p) && !self.is_referrers_index(p))
            .cloned()
            .collect()
    }

    /// Tags on `digest` that stay once the plan so far is carried out.
    fn staying_tags(&self, digest: &Digest) -> Vec<String> {
        self.tags_of(digest)
            .iter()
            .filter(|t| !self.removed_tags.contains(*t) && !self.attachment_tag_going(t))
            .cloned()
            .collect()
    }

    /// An attachment tag whose subject is deleted (or gone) goes with it.
    fn attachment_tag_going(&self, tag: &str) -> bool {
        if self.request.keep_attachments {
            return false;
        }
        self.attachment_tag(tag).is_some_and(|(subject, _)| {
            self.deleting_set.contains(subject) || self.snapshot.absent.contains(subject)
        })
    }

    fn run(mut self) -> Plan {
        // Named manifests that an index keeps are refused; refusing one may keep
        // more, so this runs until the refusals settle.
        let mut refused: BTreeSet<Digest> = BTreeSet::new();
        loop {
            self.deleting.clear();
            self.deleting_set.clear();
            self.kept.clear();
            self.cascaded = 0;
            let named: Vec<Digest> = self.request.delete.difference(&refused).cloned().collect();
            for digest in named {
                self.delete(digest, Cause::Named);
            }
            // What goes by its own tags is settled before anything is swept along
            // as a child or attachment (so it counts as an image). Each manifest
            // deleted is looked at once for what goes with it, and wakes only the
            // waiting manifests it may free: linear in the graph.
            self.wait_for_tags();
            let waiting = self.waiting.clone();
            self.by_tags(waiting);
            loop {
                let from = self.deleting.len();
                if !self.cascade() {
                    break;
                }
                let woken: BTreeSet<Digest> = self.deleting[from..]
                    .iter()
                    .flat_map(|(d, _)| self.wakes.get(d).into_iter().flatten().cloned())
                    .collect();
                self.by_tags(woken);
            }
            let newly: Vec<Digest> = self
                .request
                .delete
                .iter()
                .filter(|d| !refused.contains(*d))
                .filter(|d| !self.request.force && !self.staying_parents(d).is_empty())
                .cloned()
                .collect();
            if newly.is_empty() {
                break;
            }
            refused.extend(newly);
        }
        let mut plan = Plan {
            repository: self.snapshot.repository.clone(),
            refused: refused
                .into_iter()
                .map(|digest| Refusal::ReferencedByIndex {
                    index_tags: self.snapshot.index_tags_referencing(&digest),
                    digest,
                })
                .collect(),
            ..Plan::default()
        };
        plan.unverified_referrers = self.snapshot.unverified_referrers();
        let rewrites = self.rewrites();
        let mut deletions: Vec<Action> = self
            .deleting
            .iter()
            .map(|(digest, cause)| self.deletion(digest, cause, &rewrites))
            .collect();
        deletions.extend(rewrites);
        plan.actions = in_dependency_order(deletions);
        let removed_with_manifests: BTreeSet<String> = self
            .deleting
            .iter()
            .flat_map(|(d, _)| self.tags_of(d).to_vec())
            .collect();
        for tag in &self.removed_tags {
            if removed_with_manifests.contains(tag) {
                continue;
            }
            let Some(digest) = self.snapshot.tags.get(tag) else {
                continue;
            };
            plan.actions.push(Action::RemoveTag {
                tag: tag.clone(),
                digest: digest.clone(),
                media_type: self.media_type(digest),
                keep: self.staying_tags(digest),
                in_index: !self.parents_of(digest).is_empty(),
            });
        }
        for tag in &self.snapshot.dangling_tags {
            if self.request.remove_tags.contains(tag) {
                plan.actions
                    .push(Action::RemoveDanglingTag { tag: tag.clone() });
            }
        }
        let removed = plan.tags_removed();
        plan.leaves_no_tags = !self.snapshot.tags.is_empty()
            && self.snapshot.opaque_tags.is_empty()
            && self.snapshot.unresolved_tags.is_empty()
            && self
                .snapshot
                .dangling_tags
                .iter()
                .all(|t| removed.contains(t))
            && self.snapshot.tags.keys().all(|t| removed.contains(t));
        plan.kept_tags = kept_tags(self.snapshot, &removed);
        let acted_on: HashSet<&Digest> = plan.actions.iter().filter_map(Action::digest).collect();
        plan.kept = self
            .kept
            .into_values()
            .filter(|k| !acted_on.contains(&k.digest))
            .collect();
        plan
    }

    /// The action that deletes `digest`, with what must go first.
    fn deletion(&self, digest: &Digest, cause: &Cause, rewrites: &[Action]) -> Action {
        let mut holders: Vec<Digest> = self
            .parents_of(digest)
            .iter()
            .filter(|p| self.deleting_set.contains(*p))
            .cloned()
            .collect();
        if let Cause::AttachmentOf(subject, _) = cause {
            holders.push(subject.clone());
        }
        for rewrite in rewrites {
            if let Action::RewriteReferrersIndex {
                digest: index,
                dropped,
                ..
            } = rewrite
            {
                if dropped.contains(digest) {
                    holders.push(index.clone());
                }
            }
        }
        holders.sort();
        holders.dedup();
        Action::DeleteManifest {
            digest: digest.clone(),
            media_type: self.media_type(digest),
            tags: self.tags_of(digest).to_vec(),
            cause: cause.clone(),
            forced: matches!(cause, Cause::Named)
                && self.request.force
                && !self.staying_parents(digest).is_empty(),
            holders,
        }
    }

    fn media_type(&self, digest: &Digest) -> MediaType {
        self.snapshot
            .manifests
            .get(digest)
            .map_or(MediaType::Other(String::new()), |n| n.media_type.clone())
    }

    /// The manifests whose every tag is removed, and what may free each.
    fn wait_for_tags(&mut self) {
        self.waiting = self
            .removed_tags
            .iter()
            .filter_map(|t| self.snapshot.tags.get(t).cloned())
            .filter(|d| !self.deleting_set.contains(d))
            .collect();
        let mut wakes: HashMap<Digest, Vec<Digest>> = HashMap::new();
        for digest in &self.waiting {
            let subjects = self
                .tags_of(digest)
                .iter()
                .filter_map(|t| self.attachment_tag(t).map(|(s, _)| s.clone()));
            for key in self.parents_of(digest).iter().cloned().chain(subjects) {
                wakes.entry(key).or_default().push(digest.clone());
            }
        }
        self.wakes = wakes;
    }

    /// Waiting manifests among `candidates` go by digest, unless something needs
    /// them; each that goes wakes those it may free, until none is left to look at.
    fn by_tags(&mut self, mut candidates: BTreeSet<Digest>) {
        while let Some(digest) = candidates.pop_first() {
            if self.deleting_set.contains(&digest) || !self.waiting.contains(&digest) {
                continue;
            }
            let goes = !self.unknowns
                && self.staying_tags(&digest).is_empty()
                && self.staying_parents(&digest).is_empty();
            if goes {
                self.waiting.remove(&digest);
                candidates.extend(self.wakes.get(&digest).into_iter().flatten().cloned());
                self.delete(digest, Cause::AllTagsRemoved);
            }
        }
    }

    /// One pass: children and attachments of deleted manifests (and orphans, if
    /// asked) that nothing else needs. True when it added any.
    fn cascade(&mut self) -> bool {
        let mut candidates: Vec<(Digest, Digest, Cause)> = Vec::new();
        let first = self.cascaded == 0;
        let from = std::mem::replace(&mut self.cascaded, self.deleting.len());
        for (parent, _) in &self.deleting[from..] {
            // A referrers index's entries belong to its subject, not to it.
            if !self.is_referrers_index(parent) {
                if let Some(node) = self.snapshot.manifests.get(parent) {
                    for child in &node.children {
                        let cause = Cause::ChildOf(parent.clone());
                        candidates.push((child.clone(), parent.clone(), cause));
                    }
                }
            }
            for attachment in self.attachments.get(parent).into_iter().flatten() {
                let cause = Cause::AttachmentOf(parent.clone(), attachment.kind.clone());
                candidates.push((attachment.digest.clone(), parent.clone(), cause));
            }
        }
        if self.request.orphans && first {
            // Attachments of subjects known to be gone (the map is built once).
            for subject in &self.snapshot.absent {
                for attachment in self.attachments.get(subject).into_iter().flatten() {
                    let cause = Cause::Orphan(subject.clone(), attachment.kind.clone());
                    candidates.push((attachment.digest.clone(), subject.clone(), cause));
                }
            }
        }
        let mut added = false;
        for (digest, of, cause) in candidates {
            if self.deleting_set.contains(&digest) {
                continue;
            }
            match self.blocker(&digest, &cause) {
                None => {
                    self.delete(digest, cause);
                    added = true;
                }
                Some(reason) => {
                    self.kept
                        .insert(digest.clone(), Kept { digest, of, reason });
                }
            }
        }
        added
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
        if self.unknowns {
            return Some(KeptReason::Unknowns);
        }
        None
    }

    /// Referrers fallback indexes that stay but list deleted referrers: re-pushed
    /// without them, or deleted when nothing is left in them.
    fn rewrites(&mut self) -> Vec<Action> {
        let mut actions = Vec::new();
        let mut emptied = Vec::new();
        for (tag, index) in &self.snapshot.tags {
            let Some((subject, AttachmentKind::ReferrersIndex)) = self.attachment_tag(tag).cloned()
            else {
                continue;
            };
            if self.deleting_set.contains(index) || self.removed_tags.contains(tag) {
                continue;
            }
            let Some(node) = self.snapshot.manifests.get(index) else {
                continue;
            };
            let dropped: Vec<Digest> = node
                .children
                .iter()
                .filter(|c| self.deleting_set.contains(*c))
                .cloned()
                .collect();
            if dropped.is_empty() {
                continue;
            }
            if dropped.len() == node.children.len() && self.tags_of(index).len() == 1 {
                emptied.push((
                    index.clone(),
                    Cause::EmptyReferrersIndex { subject, dropped },
                ));
                continue;
            }
            let Some(bytes) = node
                .index_bytes
                .as_deref()
                .and_then(|b| without_entries(b, &dropped))
            else {
                continue;
            };
            actions.push(Action::RewriteReferrersIndex {
                tag: tag.clone(),
                digest: index.clone(),
                media_type: node.media_type.clone(),
                bytes,
                dropped,
                delete_old: self.tags_of(index).len() == 1,
            });
        }
        for (index, cause) in emptied {
            self.delete(index, cause);
        }
        actions
    }
}

/// `actions` ordered so that each comes after its holders (what must go first),
/// otherwise in the order given: a topological sort, linear in the actions and
/// their holders.
fn in_dependency_order(actions: Vec<Action>) -> Vec<Action> {
    let holders_of = |a: &Action| -> Vec<Digest> {
        match a {
            Action::DeleteManifest { holders, .. } => holders.clone(),
            _ => Vec::new(),
        }
    };
    let mut by_digest: HashMap<Digest, Vec<usize>> = HashMap::new();
    for (i, action) in actions.iter().enumerate() {
        if let Some(d) = action.digest() {
            by_digest.entry(d.clone()).or_default().push(i);
        }
    }
    // Each action waits for every action on each of its holders.
    let mut waits = vec![0usize; actions.len()];
    let mut then: Vec<Vec<usize>> = vec![Vec::new(); actions.len()];
    for (i, action) in actions.iter().enumerate() {
        for holder in holders_of(action) {
            for &j in by_digest.get(&holder).into_iter().flatten() {
                if j != i {
                    waits[i] += 1;
                    then[j].push(i);
                }
            }
        }
    }
    let mut ready: BTreeSet<usize> = (0..actions.len()).filter(|&i| waits[i] == 0).collect();
    let mut order = Vec::with_capacity(actions.len());
    while let Some(i) = ready.pop_first() {
        order.push(i);
        for &k in &then[i] {
            waits[k] -= 1;
            if waits[k] == 0 {
                ready.insert(k);
            }
        }
    }
    // Content addresses make a cycle impossible; should one appear, what is in
    // it keeps the order given.
    let placed: HashSet<usize> = order.iter().copied().collect();
    order.extend((0..actions.len()).filter(|i| !placed.contains(i)));
    let mut slots: Vec<Option<Action>> = actions.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// The tags of `snapshot` not in `removed`, with what puts them back.
pub fn kept_tags(snapshot: &Snapshot, removed: &BTreeSet<String>) -> Vec<KeptTag> {
    snapshot
        .tags
        .iter()
        .filter(|(tag, _)| !removed.contains(*tag))
        .filter_map(|(tag, digest)| {
            let node = snapshot.manifests.get(digest)?;
            Some(KeptTag {
                tag: tag.clone(),
                digest: digest.clone(),
                media_type: node.media_type.clone(),
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
    use crate::graph::{fallback_tag_for, Node};

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
                crate::registry::media::OCI_MANIFEST,
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
                crate::registry::media::OCI_INDEX,
            )
        }

        fn referrer(&mut self, name: &str, subject: &Digest) -> Digest {
            self.node(
                name,
                serde_json::json!({"schemaVersion": 2, "artifactType": "application/spdx+json",
                    "config": {"mediaType": "application/vnd.oci.empty.v1+json",
                        "digest": digest("{}").to_string(), "size": 2},
                    "subject": {"digest": subject.to_string(), "size": 1, "mediaType": ""}}),
                crate::registry::media::OCI_MANIFEST,
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
        let order: Vec<&Digest> = plan.actions.iter().filter_map(Action::digest).collect();
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
        // The index is re-pushed first: it never lists a manifest already gone.
        let Some(Action::RewriteReferrersIndex {
            bytes,
            dropped,
            delete_old: true,
            ..
        }) = plan.actions.first()
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
            plan.actions.first(),
            Some(Action::DeleteManifest { cause: Cause::EmptyReferrersIndex { subject, .. }, tags, .. })
                if *subject == a && tags.len() == 1
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

    // ---- review: shapes where the plan deletes something that stays needed ----

    /// A referrer whose subject is B (kept) but which A's fallback index also
    /// lists: deleting A must not delete B's referrer.
    #[test]
    fn referrer_listed_in_another_subjects_fallback_index_stays() {
        let mut r = Repo::new();
        let a = r.image("a");
        let b = r.image("b");
        r.tag("v1", &a);
        r.tag("v2", &b);
        let rb = r.referrer("sbom of b", &b);
        let fa = r.index("fallback a", &[&rb]);
        r.tag(&fallback_tag_for(&a), &fa);
        let plan = super::plan(&r.0, &remove(&["v1"]));
        assert!(
            !plan.deleted().contains(&rb),
            "B's referrer deleted although B stays: {:#?}",
            plan.actions
        );
    }

    /// A manifest tagged both as an image (`v0`) and as A's cosign signature:
    /// prune counts it as an image and, when it is old, deletes it with both tags,
    /// so A (kept) loses its signature.
    #[test]
    fn image_that_is_also_a_kept_images_signature() {
        use crate::deletion::retention::{decide, Rules, Verdict};
        let mut r = Repo::new();
        let a = r.image("a");
        r.tag("v1", &a);
        let m = r.image("m");
        r.tag("v0", &m);
        r.tag(&format!("{}.sig", fallback_tag_for(&a)), &m);
        let day = |d| time::macros::datetime!(2024-01-01 0:00 UTC) + time::Duration::days(d);
        r.0.created
            .insert(a.clone(), crate::graph::Created::At(day(2)));
        r.0.created
            .insert(m.clone(), crate::graph::Created::At(day(1)));
        let rules = Rules {
            keep: Some(1),
            ..Rules::default()
        };
        let decisions = decide(&r.0, &rules, day(3));
        let request = Request {
            remove_tags: decisions
                .iter()
                .filter(|d| matches!(d.verdict, Verdict::Delete(_)))
                .flat_map(|d| d.tags.iter().cloned())
                .collect(),
            ..Request::default()
        };
        let plan = super::plan(&r.0, &request);
        assert!(
            !plan.deleted().contains(&m),
            "A stays but its signature {m} is deleted: {:#?}",
            plan.actions
        );
    }

    /// `rm REPO@<fallback index digest>` takes every referrer of a subject that
    /// stays (as "children" of the index).
    #[test]
    fn naming_a_fallback_index_does_not_delete_a_kept_subjects_referrers() {
        let mut r = Repo::new();
        let a = r.image("a");
        r.tag("v1", &a);
        let s1 = r.referrer("sbom1", &a);
        let fallback = r.index("fallback", &[&s1]);
        r.tag(&fallback_tag_for(&a), &fallback);
        let plan = super::plan(
            &r.0,
            &Request {
                delete: [fallback.clone()].into(),
                ..Request::default()
            },
        );
        assert!(
            !plan.deleted().contains(&s1),
            "A stays but its SBOM is deleted: {:#?}",
            plan.actions
        );
    }

    /// An image tagged on its own (`v1-amd64`) whose index (`v1`) also goes: when
    /// its digest sorts before the index's, `by_tags` sees the index as staying,
    /// the cascade then deletes it as a child, and it is not counted as an image
    /// (so `--max-delete` and the summary undercount).
    #[test]
    fn a_tagged_platform_deleted_with_its_index_counts_as_an_image() {
        let mut n = 0;
        let (p, q, i, r) = loop {
            let mut r = Repo::new();
            let p = r.image(&format!("p{n}"));
            let q = r.image(&format!("q{n}"));
            let i = r.index(&format!("i{n}"), &[&p, &q]);
            if p < i {
                break (p, q, i, r);
            }
            n += 1;
        };
        let mut r = r;
        r.tag("v1", &i);
        r.tag("v1-amd64", &p);
        let _ = q;
        let plan = super::plan(&r.0, &remove(&["v1", "v1-amd64"]));
        assert_eq!(plan.deleted().len(), 3, "{:#?}", plan.actions);
        assert_eq!(plan.images_deleted(), 2, "{:#?}", plan.actions);
    }

    /// A sha512-addressed image's cosign signature (`sha512-<hex>.sig`) is not an
    /// attachment: it stays when its subject goes, and prune counts it as an image.
    #[test]
    fn sha512_cosign_signature_follows_its_subject() {
        let mut r = Repo::new();
        let a: Digest = format!("sha512:{}", "ab".repeat(64)).parse().unwrap();
        let body = serde_json::json!({"schemaVersion": 2, "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": digest("c").to_string(), "size": 2}});
        r.0.manifests.insert(
            a.clone(),
            Node::from_bytes(
                crate::registry::media::OCI_MANIFEST,
                Arc::from(serde_json::to_vec(&body).unwrap()),
            ),
        );
        r.tag("v1", &a);
        let sig = r.image("sig");
        r.tag(&format!("sha512-{}.sig", a.hex()), &sig);
        assert!(
            r.0.subject_of_tagged(&sig, &r.0.tags_on(&sig)).is_some(),
            "counted by prune as an image"
        );
        let plan = super::plan(&r.0, &remove(&["v1"]));
        assert!(plan.deleted().contains(&sig), "{:#?}", plan.actions);
    }

    /// A user's own image tagged `sha256-<hex>` (not an index): with its
    /// "subject" absent, `--orphans` deletes it as an orphaned referrers index.
    #[test]
    fn a_plain_image_with_a_digest_like_tag_is_not_an_orphan() {
        let mut r = Repo::new();
        let m = r.image("user image");
        let gone = digest("nothing");
        r.tag(&fallback_tag_for(&gone), &m);
        r.0.absent.insert(gone);
        let plan = super::plan(
            &r.0,
            &Request {
                orphans: true,
                ..Request::default()
            },
        );
        assert!(!plan.deleted().contains(&m), "{:#?}", plan.actions);
    }

    /// A `sha256-<hex>` index pushed by anyone, listing untagged images that have
    /// no `subject` (releases deployed by digest): not the subject's fallback
    /// index, so neither it nor what it lists goes with the subject, nor as
    /// orphans of a digest that does not exist.
    #[test]
    fn a_fallback_tag_on_an_index_of_images_without_subject_takes_none_of_them() {
        let mut r = Repo::new();
        let s = r.image("subject");
        r.tag("v1", &s);
        let release = r.image("release deployed by digest");
        let poisoned = r.index("poisoned", &[&release]);
        r.tag(&fallback_tag_for(&s), &poisoned);
        let gone = digest("never pushed");
        let other = r.image("another release");
        let orphaned = r.index("poisoned for nothing", &[&other]);
        r.tag(&fallback_tag_for(&gone), &orphaned);
        r.0.absent.insert(gone);
        let plan = super::plan(
            &r.0,
            &Request {
                orphans: true,
                ..remove(&["v1"])
            },
        );
        let deleted = plan.deleted();
        assert!(deleted.contains(&s), "{:#?}", plan.actions);
        for kept in [&release, &poisoned, &other, &orphaned] {
            assert!(
                !deleted.contains(kept),
                "{kept} deleted: {:#?}",
                plan.actions
            );
        }
        assert!(
            !plan
                .actions
                .iter()
                .any(|a| matches!(a, Action::RewriteReferrersIndex { .. })),
            "{:#?}",
            plan.actions
        );
    }

    /// A multi-arch image a user tagged `sha256-<hex>` of one of its platforms is
    /// an image: deleting that platform's sibling image by digest does not
    /// rewrite it, and `--orphans` does not take it.
    #[test]
    fn a_multi_arch_image_tagged_like_a_digest_is_an_image() {
        let mut r = Repo::new();
        let amd64 = r.image("amd64");
        let arm64 = r.image("arm64");
        let index = r.index("multi-arch", &[&amd64, &arm64]);
        r.tag(&fallback_tag_for(&arm64), &index);
        assert_eq!(r.0.attachment_tag(&fallback_tag_for(&arm64)), None);
        let plan = super::plan(
            &r.0,
            &Request {
                delete: [arm64.clone()].into(),
                force: true,
                orphans: true,
                ..Request::default()
            },
        );
        assert!(
            plan.actions
                .iter()
                .all(|a| !matches!(a, Action::RewriteReferrersIndex { .. })),
            "{:#?}",
            plan.actions
        );
        assert!(!plan.deleted().contains(&index));
        assert!(!plan.deleted().contains(&amd64));
        // The same index as a true fallback index (entries naming the subject) is one.
        let mut r = Repo::new();
        let s = r.image("subject");
        let sbom = r.referrer("sbom", &s);
        let fallback = r.index("fallback", &[&sbom]);
        r.tag(&fallback_tag_for(&s), &fallback);
        assert_eq!(
            r.0.attachment_tag(&fallback_tag_for(&s)),
            Some((s.clone(), AttachmentKind::ReferrersIndex))
        );
    }

    /// The referrers API listing a manifest that has no `subject` (or another
    /// one): not an attachment of the subject asked about; kept and named.
    #[test]
    fn a_referrer_listed_without_its_own_subject_is_kept_and_named() {
        use crate::registry::media::Descriptor;
        let mut r = Repo::new();
        let s = r.image("subject");
        r.tag("v1", &s);
        let stranger = r.image("untagged release");
        let honest = r.referrer("signature", &s);
        let listed = |d: &Digest| Descriptor {
            media_type: crate::registry::media::OCI_MANIFEST.into(),
            digest: d.clone(),
            size: 1,
            platform: None,
            artifact_type: None,
        };
        r.0.referrers
            .insert(s.clone(), vec![listed(&stranger), listed(&honest)]);
        let plan = super::plan(&r.0, &remove(&["v1"]));
        let deleted = plan.deleted();
        assert!(deleted.contains(&s) && deleted.contains(&honest));
        assert!(!deleted.contains(&stranger), "{:#?}", plan.actions);
        assert_eq!(plan.unverified_referrers, vec![stranger]);
    }

    /// A chain of referrers (a signature of a signature of ... the image), each
    /// the subject of the next: all of it goes with the image, each after its
    /// subject. The planner is linear in the graph, so depth 10,000 plans at
    /// once (the benchmark times it in a release build).
    #[test]
    fn a_deep_referrer_chain_goes_whole_in_order() {
        let mut r = Repo::new();
        let image = r.image("chained image");
        r.tag("v1", &image);
        let mut chain = vec![image.clone()];
        for i in 0..10_000 {
            let next = r.referrer(&format!("link {i}"), chain.last().unwrap());
            chain.push(next);
        }
        let plan = super::plan(&r.0, &remove(&["v1"]));
        let order: Vec<&Digest> = plan.actions.iter().filter_map(Action::digest).collect();
        assert_eq!(order, chain.iter().collect::<Vec<_>>());
    }

    /// A tagged index that regctl cannot parse (here: one entry's `platform`
    /// lacks `os`) has no known children, so a platform it shares with a deleted
    /// index is deleted and the unreadable index is left pointing at nothing.
    #[test]
    fn an_unreadable_index_keeps_what_it_may_reference() {
        let mut r = Repo::new();
        let s = r.image("shared");
        let i1 = r.index("i1", &[&s]);
        r.tag("v1", &i1);
        let body = serde_json::json!({"schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": s.to_string(), "size": 1, "platform": {"architecture": "amd64"}}]});
        let bytes = serde_json::to_vec(&body).unwrap();
        let u = Digest::sha256_of(&bytes);
        let node = Node::from_bytes(crate::registry::media::OCI_INDEX, Arc::from(bytes));
        // Read leniently: the odd platform does not hide the child.
        assert!(node.readable && node.children == vec![s.clone()]);
        r.0.manifests.insert(u.clone(), node);
        r.tag("v2", &u);
        let plan = super::plan(&r.0, &remove(&["v1"]));
        assert!(
            !plan.deleted().contains(&s),
            "v2's index still lists {s}: {:#?}",
            plan.actions
        );
    }

    /// An index with an entry regctl cannot read at all may reference anything:
    /// nothing is deleted by digest while it is there.
    #[test]
    fn an_index_with_an_unreadable_entry_keeps_every_manifest() {
        let mut r = Repo::new();
        let s = r.image("shared");
        let i1 = r.index("i1", &[&s]);
        r.tag("v1", &i1);
        let body = serde_json::json!({"schemaVersion": 2, "manifests": [
            {"digest": "sha256:not-hex", "size": 1, "mediaType": ""}]});
        let node = Node::from_bytes(
            crate::registry::media::OCI_INDEX,
            Arc::from(serde_json::to_vec(&body).unwrap()),
        );
        assert!(!node.readable);
        r.0.manifests.insert(digest("u"), node);
        r.tag("v2", &digest("u"));
        let plan = super::plan(&r.0, &remove(&["v1"]));
        assert!(plan.deleted().is_empty(), "{:#?}", plan.actions);
        assert!(matches!(&plan.actions[..], [Action::RemoveTag { .. }]));
    }

    #[test]
    #[ignore = "a timing probe: N=4000 cargo test --release -- --ignored"]
    fn plan_time_on_a_large_repository() {
        let n: usize = std::env::var("N")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000);
        let mut r = Repo::new();
        let mut tags = Vec::new();
        for i in 0..n {
            let a = r.image(&format!("img{i}"));
            r.tag(&format!("v{i}"), &a);
            r.sign(&a);
            tags.push(format!("v{i}"));
        }
        let req = Request {
            remove_tags: tags.into_iter().collect(),
            ..Request::default()
        };
        let t = std::time::Instant::now();
        let plan = super::plan(&r.0, &req);
        eprintln!("N={n}: {} actions in {:?}", plan.actions.len(), t.elapsed());
    }
}
