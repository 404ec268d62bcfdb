//! The re-check right before changing the registry: each plan's repository is
//! read again and the actions that no longer hold are left out.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use futures_util::stream::{self, StreamExt as _};

use super::outcome::{ActionReport, Change, Outcome};
use super::plan::{Action, Cause, Plan};
use crate::graph::{Depth, Loader, Snapshot};
use crate::registry::{Digest, RegistryError};

/// Reads each plan's repository again and leaves out the actions that no longer
/// hold: a manifest whose tags changed or that an index now references, a tag that
/// moved, and whatever belongs to an action left out. What a tag removal must keep
/// is taken from what is there now.
pub async fn recheck(
    loader: &Loader<'_>,
    plans: Vec<Plan>,
) -> Result<(Vec<Plan>, Vec<ActionReport>), RegistryError> {
    let snapshots: Vec<(Instant, Result<Snapshot, RegistryError>)> = stream::iter(&plans)
        .map(|plan| async move {
            let at = Instant::now();
            (
                at,
                loader.snapshot(&plan.repository, Depth::default()).await,
            )
        })
        .buffered(loader.concurrency.clamp(1, 8))
        .collect()
        .await;
    let mut kept = Vec::with_capacity(plans.len());
    let mut changed = Vec::new();
    for (mut plan, (at, now)) in plans.into_iter().zip(snapshots) {
        let now = now?;
        plan.checked_at = Some(at);
        let (actions, left) = check_actions(&plan, &now);
        plan.actions = actions;
        plan.kept_tags = super::plan::kept_tags(&now, &plan.tags_removed());
        changed.extend(left.into_iter().map(|(action, change)| {
            let outcome = match (&action, change) {
                // A tag to remove that is gone already: done by someone else.
                (
                    Action::RemoveTag { .. } | Action::RemoveDanglingTag { .. },
                    Change::TagMoved(None),
                ) => Outcome::AlreadyGone,
                (_, change) => Outcome::Changed(change),
            };
            ActionReport {
                repository: plan.repository.clone(),
                action,
                outcome,
            }
        }));
        kept.push(plan);
    }
    Ok((kept, changed))
}

/// A snapshot with its tags and parents indexed once, for checking many actions.
struct Indexed<'a> {
    snapshot: &'a Snapshot,
    tags: HashMap<Digest, Vec<String>>,
    parents: HashMap<Digest, Vec<Digest>>,
}

impl Indexed<'_> {
    fn tags_on(&self, digest: &Digest) -> &[String] {
        self.tags.get(digest).map_or(&[], Vec::as_slice)
    }

    fn parents(&self, digest: &Digest) -> &[Digest] {
        self.parents.get(digest).map_or(&[], Vec::as_slice)
    }

    fn dangles(&self, tag: &str) -> bool {
        self.snapshot.dangling_tags.iter().any(|t| t == tag)
    }
}

/// The actions of `plan` that still hold on `now`, and the others with why. An
/// action left out leaves out what depends on it (its children and attachments,
/// the referrers index that would drop it), until nothing more changes.
pub fn check_actions(plan: &Plan, now: &Snapshot) -> (Vec<Action>, Vec<(Action, Change)>) {
    let removing = plan.tags_removed();
    let planned: BTreeSet<Digest> = plan.deleted().into_iter().cloned().collect();
    let unknown = now.unknown_tags(&removing);
    let graph = Indexed {
        snapshot: now,
        tags: now.tags_by_digest(),
        parents: now.parents_by_child(),
    };
    let mut changes: Vec<Option<Change>> = vec![None; plan.actions.len()];
    let mut left_out: BTreeSet<Digest> = BTreeSet::new();
    loop {
        let mut more = false;
        for (i, action) in plan.actions.iter().enumerate() {
            if changes[i].is_some() {
                continue;
            }
            let change = check_one(action, &graph, &planned, &left_out, &unknown);
            if let Some(change) = change {
                left_out.extend(action.digest().cloned());
                changes[i] = Some(change);
                more = true;
            }
        }
        if !more {
            break;
        }
    }
    let mut kept = Vec::new();
    let mut changed = Vec::new();
    for (action, change) in plan.actions.iter().zip(changes) {
        let mut action = action.clone();
        // What goes and what must survive are what is there now, not what was then.
        match &mut action {
            Action::RemoveTag {
                digest,
                keep,
                in_index,
                ..
            } => {
                *keep = graph
                    .tags_on(digest)
                    .iter()
                    .filter(|t| !removing.contains(*t))
                    .cloned()
                    .collect();
                *in_index = !graph.parents(digest).is_empty();
            }
            Action::DeleteManifest {
                digest,
                tags,
                cause,
                media_type,
                ..
            } if change.is_none() => {
                // A tag asked for that moved to another manifest meanwhile stays
                // there, and is reported (one named by digest only took its tags along).
                let now_tags = graph.tags_on(digest).to_vec();
                for tag in tags.iter().filter(|t| !now_tags.contains(t)) {
                    let moved_to = now.tags.get(tag.as_str());
                    if let (Some(moved_to), Cause::AllTagsRemoved) = (moved_to, &cause) {
                        let left = Action::RemoveTag {
                            tag: tag.clone(),
                            digest: digest.clone(),
                            media_type: media_type.clone(),
                            keep: Vec::new(),
                            in_index: false,
                        };
                        changed.push((left, Change::TagMoved(Some(moved_to.clone()))));
                    }
                }
                *tags = now_tags;
            }
            _ => {}
        }
        match change {
            None => kept.push(action),
            Some(change) => changed.push((action, change)),
        }
    }
    (kept, changed)
}

/// Why `action` no longer holds on `now`, if it does not.
fn check_one(
    action: &Action,
    now: &Indexed,
    planned: &BTreeSet<Digest>,
    left_out: &BTreeSet<Digest>,
    unknown: &[String],
) -> Option<Change> {
    if let Some(d) = blocked_by(action, left_out) {
        return Some(Change::ParentLeft(d));
    }
    let moved = |tag: &str, digest: &Digest| {
        let current = now.snapshot.tags.get(tag);
        (current != Some(digest)).then(|| Change::TagMoved(current.cloned()))
    };
    match action {
        Action::DeleteManifest {
            digest,
            tags,
            forced,
            ..
        } => {
            let now_tags = now.tags_on(digest).to_vec();
            let staying_parents: Vec<Digest> = now
                .parents(digest)
                .iter()
                .filter(|p| {
                    let still_going = planned.contains(p) && !left_out.contains(p);
                    !still_going && !now.snapshot.are_referrers_index_tags(now.tags_on(p))
                })
                .cloned()
                .collect();
            if !unknown.is_empty() {
                Some(Change::UnverifiedTags(unknown.to_vec()))
            } else if now_tags.iter().any(|t| !tags.contains(t)) {
                // A tag added or moved onto it (one that went meanwhile is no reason).
                Some(Change::TagsChanged {
                    planned: tags.clone(),
                    now: now_tags,
                })
            } else if !*forced && !staying_parents.is_empty() {
                Some(Change::NowReferenced(staying_parents))
            } else {
                None
            }
        }
        // A tag to remove that dangles now (its manifest deleted meanwhile) still goes.
        Action::RemoveTag { tag, .. } if now.dangles(tag) => None,
        Action::RemoveTag { tag, digest, .. }
        | Action::RewriteReferrersIndex { tag, digest, .. }
        | Action::RestoreTag { tag, digest } => moved(tag, digest),
        Action::RemoveDanglingTag { tag } => (!now.dangles(tag))
            .then(|| Change::TagMoved(now.snapshot.tags.get(tag.as_str()).cloned())),
        Action::CheckTagList => None,
    }
}

/// What `action` waits on that was left in place, if anything: a holder (an
/// index listing it, its subject, the referrers index rewritten without it), or,
/// for a change to a referrers index, an entry it would drop.
pub(crate) fn blocked_by(action: &Action, left_out: &BTreeSet<Digest>) -> Option<Digest> {
    let waits_on: &[Digest] = match action {
        Action::DeleteManifest {
            cause: Cause::EmptyReferrersIndex { dropped, .. },
            holders,
            ..
        } => {
            return holders
                .iter()
                .chain(dropped)
                .find(|d| left_out.contains(*d))
                .cloned()
        }
        Action::DeleteManifest { holders, .. } => holders,
        Action::RewriteReferrersIndex { dropped, .. } => dropped,
        Action::RemoveTag { .. }
        | Action::RemoveDanglingTag { .. }
        | Action::RestoreTag { .. }
        | Action::CheckTagList => &[],
    };
    waits_on.iter().find(|d| left_out.contains(*d)).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deletion::plan::Cause;
    use crate::deletion::plan::{plan, Request};
    use crate::graph::Node;
    use std::sync::Arc;

    fn digest(name: &str) -> Digest {
        Digest::sha256_of(name.as_bytes())
    }

    /// An index `i` over `a`, tagged v1 and v2.
    fn repository() -> Snapshot {
        let mut s = Snapshot::new("app");
        let a = digest("a");
        let body = format!(
            r#"{{"schemaVersion":2,"manifests":[{{"digest":"{a}","size":1,"mediaType":""}}]}}"#
        );
        s.manifests.insert(
            digest("i"),
            Node::from_bytes(
                crate::registry::media::OCI_INDEX,
                Arc::from(body.as_bytes()),
            ),
        );
        s.manifests.insert(
            a,
            Node::from_bytes(
                crate::registry::media::OCI_MANIFEST,
                Arc::from(&br#"{"schemaVersion":2}"#[..]),
            ),
        );
        s.tags.insert("v1".into(), digest("i"));
        s.tags.insert("v2".into(), digest("i"));
        s
    }

    fn removing_both() -> Plan {
        let request = Request {
            remove_tags: ["v1".to_string(), "v2".to_string()].into(),
            ..Request::default()
        };
        plan(&repository(), &request)
    }

    #[test]
    fn an_unchanged_repository_keeps_the_whole_plan() {
        let plan = removing_both();
        assert_eq!(plan.actions.len(), 2, "the index and its child");
        let (kept, changed) = check_actions(&plan, &repository());
        assert_eq!(kept, plan.actions);
        assert!(changed.is_empty());
    }

    #[test]
    fn a_tag_pushed_meanwhile_leaves_the_manifest_and_its_children() {
        let plan = removing_both();
        let mut now = repository();
        now.tags.insert("v3".into(), digest("i"));
        let (kept, changed) = check_actions(&plan, &now);
        assert!(kept.is_empty(), "{kept:?}");
        assert!(matches!(
            &changed[0].1,
            Change::TagsChanged { now, .. } if now.contains(&"v3".to_string())
        ));
        assert_eq!(changed[1].1, Change::ParentLeft(digest("i")));
    }

    #[test]
    fn a_planned_tag_that_moved_is_left_where_it_is_and_reported() {
        let plan = removing_both();
        let mut now = repository();
        now.tags.insert("v2".into(), digest("elsewhere"));
        let (kept, changed) = check_actions(&plan, &now);
        assert_eq!(
            kept.len(),
            2,
            "the index (with v1 alone) and its child: {kept:?}"
        );
        assert_eq!(kept[0].tags_removed(), vec!["v1".to_string()]);
        assert!(matches!(
            &changed[..],
            [(Action::RemoveTag { tag, .. }, Change::TagMoved(Some(d)))]
                if tag == "v2" && *d == digest("elsewhere")
        ));
    }

    #[test]
    fn a_planned_tag_that_went_meanwhile_changes_nothing() {
        let plan = removing_both();
        let mut now = repository();
        now.tags.remove("v2");
        let (kept, changed) = check_actions(&plan, &now);
        assert_eq!(kept.len(), 2, "{kept:?}");
        assert!(changed.is_empty(), "{changed:?}");
    }

    // ---- review: re-check ----

    /// v1 -> I1 {a, s}, v2 -> I2 {b, s}; both tags planned away. While the
    /// prompt waited, I2 was tagged v3: I2 and b are left, but s (planned as a
    /// child of I1) is still deleted, and I2 points at nothing.
    #[test]
    fn a_shared_child_stays_when_one_of_its_indexes_is_left() {
        use crate::deletion::plan::Action;
        let index = |children: &[&Digest]| {
            let m: Vec<_> = children
                .iter()
                .map(|c| serde_json::json!({"digest": c.to_string(), "size": 1, "mediaType": ""}))
                .collect();
            let body = serde_json::json!({"schemaVersion": 2, "manifests": m});
            Node::from_bytes(
                crate::registry::media::OCI_INDEX,
                Arc::from(serde_json::to_vec(&body).unwrap()),
            )
        };
        let image = || {
            Node::from_bytes(
                crate::registry::media::OCI_MANIFEST,
                Arc::from(&br#"{"schemaVersion":2}"#[..]),
            )
        };
        let (a, b, s) = (digest("a"), digest("b"), digest("s"));
        let mut before = Snapshot::new("app");
        before.manifests.insert(digest("i1"), index(&[&a, &s]));
        before.manifests.insert(digest("i2"), index(&[&b, &s]));
        for d in [&a, &b, &s] {
            before.manifests.insert(d.clone(), image());
        }
        before.tags.insert("v1".into(), digest("i1"));
        before.tags.insert("v2".into(), digest("i2"));
        let request = Request {
            remove_tags: ["v1".to_string(), "v2".to_string()].into(),
            ..Request::default()
        };
        let planned = plan(&before, &request);
        assert!(planned.deleted().contains(&s));
        // Leave the index that s was NOT planned under (s's cause names the other).
        let cause_parent = planned
            .actions
            .iter()
            .find_map(|a| match a {
                Action::DeleteManifest {
                    digest,
                    cause: Cause::ChildOf(p),
                    ..
                } if *digest == s => Some(p.clone()),
                _ => None,
            })
            .unwrap();
        let other = if cause_parent == digest("i1") {
            digest("i2")
        } else {
            digest("i1")
        };
        let mut now = before.clone();
        now.tags.insert("v3".into(), other.clone());
        let (kept, _) = check_actions(&planned, &now);
        let deleting: Vec<&Digest> = kept
            .iter()
            .filter(|a| matches!(a, Action::DeleteManifest { .. }))
            .filter_map(Action::digest)
            .collect();
        assert!(deleting.contains(&&cause_parent));
        assert!(!deleting.contains(&&other));
        assert!(
            !deleting.contains(&&s),
            "s is deleted while {other} (tagged v3) still lists it: {kept:#?}"
        );
    }

    /// A referrer planned for deletion is left at the re-check (someone tagged
    /// it meanwhile); the fallback index must keep listing it.
    #[test]
    fn a_referrer_left_at_recheck_stays_in_the_fallback_index() {
        use crate::deletion::plan::Action;
        use crate::graph::fallback_tag_for;
        let a = digest("a");
        let referrer = |name: &str| {
            let body = serde_json::json!({"schemaVersion": 2, "artifactType": "application/spdx+json",
                "config": {"mediaType": "application/vnd.oci.empty.v1+json",
                    "digest": digest("{}").to_string(), "size": 2},
                "subject": {"digest": a.to_string(), "size": 1, "mediaType": ""}, "n": name});
            let bytes = serde_json::to_vec(&body).unwrap();
            (
                Digest::sha256_of(&bytes),
                Node::from_bytes(crate::registry::media::OCI_MANIFEST, Arc::from(bytes)),
            )
        };
        let (r1, n1) = referrer("1");
        let (r2, n2) = referrer("2");
        let body = serde_json::json!({"schemaVersion": 2, "manifests": [
            {"digest": r1.to_string(), "size": 1, "mediaType": ""},
            {"digest": r2.to_string(), "size": 1, "mediaType": ""}]});
        let mut s = Snapshot::new("app");
        s.manifests.insert(
            a.clone(),
            Node::from_bytes(
                crate::registry::media::OCI_MANIFEST,
                Arc::from(&br#"{"schemaVersion":2}"#[..]),
            ),
        );
        s.manifests.insert(r1.clone(), n1);
        s.manifests.insert(r2.clone(), n2);
        s.manifests.insert(
            digest("f"),
            Node::from_bytes(
                crate::registry::media::OCI_INDEX,
                Arc::from(serde_json::to_vec(&body).unwrap()),
            ),
        );
        s.tags.insert("v1".into(), a.clone());
        s.tags.insert(fallback_tag_for(&a), digest("f"));
        let planned = plan(
            &s,
            &Request {
                delete: [r1.clone()].into(),
                ..Request::default()
            },
        );
        assert!(matches!(
            planned.actions.first(),
            Some(Action::RewriteReferrersIndex { .. })
        ));
        let mut now = s.clone();
        now.tags.insert("pinned".into(), r1.clone());
        let (kept, changed) = check_actions(&planned, &now);
        assert_eq!(
            changed.len(),
            2,
            "r1 and the rewrite are left: {changed:#?}"
        );
        assert!(
            !kept
                .iter()
                .any(|a| matches!(a, Action::RewriteReferrersIndex { .. })),
            "the fallback index is still re-pushed without r1, which stays: {kept:#?}"
        );
    }
}
