//! What a plan frees: the blobs its deleted manifests referenced and no
//! remaining manifest of the scan does, which the registry's plain garbage
//! collector then removes. Untagged manifests that no tag reaches are invisible
//! to the API, so a blob one of them shares may stay after a deletion.

use std::collections::{BTreeSet, HashMap};

use super::plan::{Action, Plan};
use crate::graph::space::referenced;
use crate::graph::Snapshot;
use crate::registry::Digest;

/// The manifests a plan's actions delete, by action; `None` for actions that
/// delete none (a tag removal leaves its manifest, and its blobs, in place).
fn deleted_by(action: &Action) -> Option<&Digest> {
    match action {
        Action::DeleteManifest { digest, .. } => Some(digest),
        // The old fallback index goes only when no other tag keeps it.
        Action::RewriteReferrersIndex {
            digest,
            delete_old: true,
            ..
        } => Some(digest),
        _ => None,
    }
}

/// What carrying out `plans` frees, over the repositories of `scope` (every
/// plan's repository must be in it): per plan, per action, the bytes that no
/// remaining manifest of the scan references once all plans are done (each
/// blob counted once, at the first action that frees it); `None` for actions
/// that delete no manifest.
pub fn freed(scope: &[&Snapshot], plans: &[&Plan]) -> Vec<Vec<Option<u64>>> {
    let deleted: HashMap<&str, BTreeSet<Digest>> = plans
        .iter()
        .map(|p| {
            let digests = p.actions.iter().filter_map(deleted_by).cloned().collect();
            (p.repository.as_str(), digests)
        })
        .collect();
    let none = BTreeSet::new();
    let remaining: BTreeSet<Digest> = scope
        .iter()
        .flat_map(|s| {
            let without = deleted.get(s.repository.as_str()).unwrap_or(&none);
            referenced(s, without).into_keys()
        })
        .collect();
    let snapshots: HashMap<&str, &Snapshot> =
        scope.iter().map(|s| (s.repository.as_str(), *s)).collect();
    let mut counted = BTreeSet::new();
    plans
        .iter()
        .map(|plan| {
            let snapshot = snapshots.get(plan.repository.as_str());
            plan.actions
                .iter()
                .map(|action| {
                    let digest = deleted_by(action)?;
                    let node = snapshot.and_then(|s| s.manifests.get(digest))?;
                    Some(
                        node.blobs(digest)
                            .into_iter()
                            .filter(|(blob, _)| !remaining.contains(blob))
                            .filter(|(blob, _)| counted.insert(blob.clone()))
                            .map(|(_, size)| size)
                            .fold(0, u64::saturating_add),
                    )
                })
                .collect()
        })
        .collect()
}

/// Sets each plan's [`Plan::freed`], over the repositories of `scope`.
pub fn annotate(scope: &[&Snapshot], plans: &mut [Plan]) {
    let freed = freed(scope, &plans.iter().collect::<Vec<_>>());
    for (plan, freed) in plans.iter_mut().zip(freed) {
        plan.freed = freed;
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::deletion::plan::Cause;

    use crate::registry::media::{MediaType, OCI_MANIFEST};

    use crate::graph::testing::image;

    fn deleting(repository: &str, digests: &[&Digest]) -> Plan {
        Plan {
            repository: repository.into(),
            actions: digests
                .iter()
                .map(|d| Action::DeleteManifest {
                    digest: (*d).clone(),
                    media_type: MediaType::parse(OCI_MANIFEST),
                    tags: vec![],
                    cause: Cause::Named,
                    forced: false,
                    holders: vec![],
                })
                .collect(),
            refused: vec![],
            kept: vec![],
            leaves_no_tags: false,
            unverified_referrers: vec![],
            checked_at: None,
            kept_tags: vec![],
            freed: vec![],
        }
    }

    #[test]
    fn a_deletion_frees_what_no_remaining_manifest_references() {
        let (mut a, mut b) = (Snapshot::new("a"), Snapshot::new("b"));
        let (dx, x) = image(&mut a, "x", &[("l1", 100), ("l2", 50), ("l5", 5)]);
        let (dy, y) = image(&mut a, "y", &[("l1", 100), ("l3", 30)]);
        image(&mut b, "z", &[("l2", 50)]);
        // x alone: its manifest, config and l5; l1 (y) and l2 (z in b) stay.
        let plan = deleting("a", &[&dx]);
        assert_eq!(freed(&[&a, &b], &[&plan]), vec![vec![Some(x + 7 + 5)]]);
        // Scanning `a` alone, l2 looks free: the scan decides.
        assert_eq!(freed(&[&a], &[&plan]), vec![vec![Some(x + 7 + 5 + 50)]]);
        // x and y: l1 goes with the first that frees it, once.
        let plan = deleting("a", &[&dx, &dy]);
        assert_eq!(
            freed(&[&a, &b], &[&plan]),
            vec![vec![Some(x + 7 + 100 + 5), Some(y + 7 + 30)]]
        );
    }
}
