//! Carrying out plans, after the [`super::recheck`]: each repository's actions in order (parents before children, subjects
//! before attachments), repositories side by side, no new action after a cancel.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use futures_util::stream::{self, StreamExt as _};

use super::outcome::{ActionError, ActionReport, Change, Halt, Outcome, TagRemoval};
use super::plan::{Action, KeptTag, Plan};
use super::recheck::blocked_by;
use super::store::Store;
use super::untag::{Expect, Untag};
use super::watch::Watch;
use crate::registry::reference::ManifestRef;
use crate::registry::{Digest, RegistryError};

/// Runs `plans` on `registry`: each plan's actions in order, one at a time (a
/// repository is changed by one request at a time: on Distribution, concurrent
/// deletions in one repository can fail half-way and leave tags dangling), up to
/// `concurrency` repositories at once. After `cancel` is set no action starts;
/// after the registry refuses a change as unsupported (405: it went read-only,
/// or deletion was turned off) no other change is sent to it, and the rest are
/// [`Outcome::NotAttempted`]. Each repository changed is then checked against
/// its tag list ([`check_tag_list`]). `watch` hears of each action's outcome as it is
/// known, and of each repository's outcomes once they are final.
pub async fn execute<S: Store>(
    registry: &S,
    plans: Vec<Plan>,
    concurrency: usize,
    cancel: &AtomicBool,
    watch: &Observer<'_>,
) -> Vec<ActionReport> {
    let halt = OnceLock::new();
    let halt = &halt;
    let per_plan: Vec<Vec<ActionReport>> = stream::iter(plans)
        .map(|plan| execute_plan(registry, plan, concurrency, cancel, halt, watch))
        .buffered(concurrency.max(1))
        .collect()
        .await;
    per_plan.into_iter().flatten().collect()
}

/// Who hears how a run goes: each action's outcome as it ends (it may still be
/// revised by the check of the tag list afterwards), and each repository's
/// outcomes once they are final.
pub struct Observer<'a> {
    /// After each action.
    pub action: &'a (dyn Fn(&ActionReport) + Sync),
    /// After each repository, with its final outcomes.
    pub repository: &'a (dyn Fn(&[ActionReport]) + Sync),
}

/// One repository's part of [`execute`].
async fn execute_plan<S: Store>(
    registry: &S,
    plan: Plan,
    concurrency: usize,
    cancel: &AtomicBool,
    halt: &OnceLock<Halt>,
    observer: &Observer<'_>,
) -> Vec<ActionReport> {
    let mut done = Vec::with_capacity(plan.actions.len());
    let mut left_out: BTreeSet<Digest> = BTreeSet::new();
    // Whether any change was sent: even a failed one may have taken effect.
    let mut sent = false;
    let mut watch = Watch::new(registry, &plan, concurrency);
    // Planned manifests that what was pushed meanwhile needs now.
    let mut needed: HashMap<Digest, Change> = HashMap::new();
    let planned: HashMap<&Digest, &[String]> = plan
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::DeleteManifest { digest, tags, .. } => Some((digest, tags.as_slice())),
            _ => None,
        })
        .collect();
    for action in &plan.actions {
        let mut action = action.clone();
        let outcome = if cancel.load(Ordering::SeqCst) {
            Outcome::NotStarted
        } else if let Some(h) = halt.get() {
            Outcome::NotAttempted(h.clone())
        } else if let Some(d) = blocked_by(&action, &left_out) {
            // What it depends on stayed: so does it.
            Outcome::Changed(Change::ParentLeft(d))
        } else {
            match fresh(&mut watch, &action, &planned, &mut needed).await {
                Err(e) => Outcome::Failed(e.into()),
                Ok(Some(change)) => Outcome::Changed(change),
                Ok(None) => {
                    if let Action::DeleteManifest { digest, tags, .. } = &mut action {
                        // The tags it takes are those on it now (one moved away stays).
                        *tags = watch.tags_on(digest);
                    }
                    sent = true;
                    let outcome = run(registry, &plan.repository, &action).await;
                    note_change(&mut watch, &action, &outcome);
                    if let Outcome::Failed(e) = &outcome {
                        if e.kind() == crate::registry::ErrorKind::Unsupported {
                            let _ = halt.set(Halt {
                                reason: e.to_string(),
                            });
                        }
                    }
                    outcome
                }
            }
        };
        if !outcome.is_done() {
            left_out.extend(action.digest().cloned());
        }
        let one = ActionReport {
            repository: plan.repository.clone(),
            action,
            outcome,
        };
        (observer.action)(&one);
        done.push(one);
    }
    if sent {
        let checks = check_tag_list(registry, &plan.repository, &mut done, &plan.kept_tags).await;
        done.extend(checks);
    }
    (observer.repository)(&done);
    done
}

/// Before an action that deletes a manifest: the tag list read again when the
/// view is stale, what was pushed meanwhile taken into account, and why the
/// action must not go ahead, if it must not.
async fn fresh<S: Store>(
    watch: &mut Watch<'_, S>,
    action: &Action,
    planned: &HashMap<&Digest, &[String]>,
    needed: &mut HashMap<Digest, Change>,
) -> Result<Option<Change>, RegistryError> {
    let deletes = matches!(
        action,
        Action::DeleteManifest { .. } | Action::RewriteReferrersIndex { .. }
    );
    if !deletes {
        return Ok(None);
    }
    if watch.stale() {
        let look = watch.refresh().await?;
        if !look.unlisted.is_empty() {
            // The list is not complete: any tag might be on any manifest.
            for digest in planned.keys() {
                needed
                    .entry((*digest).clone())
                    .or_insert_with(|| Change::ListIncomplete(look.unlisted.clone()));
            }
        }
        for arrival in look.arrivals {
            if let Some(tags) = planned.get(&arrival.digest) {
                let change = Change::TagsChanged {
                    planned: tags.to_vec(),
                    now: watch.tags_on(&arrival.digest),
                };
                needed.entry(arrival.digest.clone()).or_insert(change);
            }
            for child in &arrival.node.children {
                if planned.contains_key(child) && arrival.digest != *child {
                    needed
                        .entry(child.clone())
                        .or_insert_with(|| Change::NowReferenced(vec![arrival.digest.clone()]));
                }
            }
            if let Some(subject) = &arrival.node.subject {
                if planned.contains_key(subject) {
                    needed
                        .entry(subject.clone())
                        .or_insert_with(|| Change::NowAttached(arrival.digest.clone()));
                }
            }
        }
    }
    Ok(match action {
        Action::DeleteManifest { digest, .. } => needed.get(digest).cloned(),
        Action::RewriteReferrersIndex { tag, digest, .. } => {
            (watch.tag(tag) != Some(digest)).then(|| Change::TagMoved(watch.tag(tag).cloned()))
        }
        _ => None,
    })
}

/// Records in `watch` what `action` changed, so that the next look does not
/// take this run's own changes for another client's.
fn note_change<S: Store>(watch: &mut Watch<'_, S>, action: &Action, outcome: &Outcome) {
    match (action, outcome) {
        (Action::DeleteManifest { digest, .. }, _) => watch.deleted(digest),
        (
            Action::RewriteReferrersIndex {
                tag,
                bytes,
                delete_old,
                digest,
                ..
            },
            Outcome::Rewritten,
        ) => {
            watch.moved(tag, Some(&Digest::sha256_of(bytes)));
            if *delete_old {
                watch.deleted(digest);
            }
        }
        (Action::RemoveTag { tag, .. } | Action::RemoveDanglingTag { tag }, o) if o.is_done() => {
            watch.moved(tag, None)
        }
        _ => {}
    }
}

/// How many times a tag left behind by a removal is removed again.
const REPAIRS: usize = 3;

/// After a repository's changes, its tag list, read again, must agree with them:
/// - every tag removed is gone from it. One still listed on a manifest the
///   registry does not serve (a dangling tag: Distribution can fail a deletion
///   half-way while another client writes) or on this run's throw-away manifest
///   is removed again; one that cannot be is a failure of its action. One
///   pushed anew meanwhile is another client's, left alone.
/// - every tag the plan kept is in it. One that went although no request of
///   this run can have taken it is another client's change: reported, left as
///   it is. One that went while this run deleted manifests, whose own manifest
///   is still there, may have gone with them (the registry said it pointed
///   elsewhere): it is put back and reported.
async fn check_tag_list<S: Store>(
    registry: &S,
    repository: &str,
    done: &mut [ActionReport],
    kept_tags: &[KeptTag],
) -> Vec<ActionReport> {
    let placeholders: BTreeSet<Digest> = done
        .iter()
        .filter_map(|d| match &d.outcome {
            Outcome::TagRemoved(TagRemoval::Placeholder(p)) => Some(p.clone()),
            _ => None,
        })
        .collect();
    // Tags removed, and the action that removed each.
    let mut removed: Vec<(String, usize)> = done
        .iter()
        .enumerate()
        .filter(|(_, d)| d.outcome.is_done())
        .flat_map(|(i, d)| d.action.tags_removed().into_iter().map(move |t| (t, i)))
        .collect();
    let mut attempts = 0;
    let listed = loop {
        // A repository gone altogether lists nothing.
        let listed: BTreeSet<String> = match registry.tags(repository).await {
            Ok(tags) => tags.into_iter().collect(),
            Err(RegistryError::NotFound { .. }) => BTreeSet::new(),
            Err(e) => return vec![check_failed(repository, e)],
        };
        removed.retain(|(tag, _)| listed.contains(tag));
        if removed.is_empty() {
            break listed;
        }
        if attempts == REPAIRS {
            for (tag, i) in removed {
                done[i].outcome = Outcome::Failed(ActionError::StillListed { tag });
            }
            break listed;
        }
        attempts += 1;
        let mut still = Vec::new();
        for (tag, i) in removed {
            match registry
                .get_manifest(repository, &ManifestRef::tag(&tag))
                .await
            {
                Err(RegistryError::NotFound { .. }) => still.push((tag, i, None)),
                Ok(m) if placeholders.contains(&m.digest) => still.push((tag, i, Some(m.digest))),
                // Pushed anew since it was removed: another client's.
                Ok(_) => {}
                Err(e) => done[i].outcome = Outcome::Failed(e.into()),
            }
        }
        removed = Vec::new();
        for (tag, i, on) in still {
            let untag = Untag {
                registry,
                repository,
                tag: &tag,
                oci: false,
                keep: &[],
                in_index: false,
            };
            let expect = on.as_ref().map_or(Expect::Missing, Expect::Manifest);
            match untag.run(expect).await {
                Outcome::Failed(e) => done[i].outcome = Outcome::Failed(e),
                _ => removed.push((tag, i)),
            }
        }
    };
    let deleted_manifests = done.iter().any(|d| {
        matches!(
            (&d.action, &d.outcome),
            (Action::DeleteManifest { .. }, Outcome::Deleted)
                | (
                    Action::RewriteReferrersIndex {
                        delete_old: true,
                        ..
                    },
                    Outcome::Rewritten
                )
        )
    });
    // Manifests already reported gone with a tag removal, and their tags with them.
    let reported: BTreeSet<&Digest> = done
        .iter()
        .filter_map(|d| match &d.outcome {
            Outcome::Failed(ActionError::ManifestGone { digest, .. }) => Some(digest),
            _ => None,
        })
        .collect();
    let mut checks = Vec::new();
    for kept in kept_tags
        .iter()
        .filter(|s| !listed.contains(&s.tag) && !reported.contains(&s.digest))
    {
        let outcome = kept_tag_gone(registry, repository, kept, deleted_manifests).await;
        checks.push(ActionReport {
            repository: repository.to_string(),
            action: Action::RestoreTag {
                tag: kept.tag.clone(),
                digest: kept.digest.clone(),
            },
            outcome,
        });
    }
    checks
}

fn check_failed(repository: &str, error: RegistryError) -> ActionReport {
    ActionReport {
        repository: repository.to_string(),
        action: Action::CheckTagList,
        outcome: Outcome::Failed(error.into()),
    }
}

/// What became of `kept`, a tag the plan kept that its repository's tag list
/// no longer names.
async fn kept_tag_gone<S: Store>(
    registry: &S,
    repository: &str,
    kept: &KeptTag,
    deleted_manifests: bool,
) -> Outcome {
    // The list may lag: only a tag its own read says is gone is gone.
    match registry
        .get_manifest(repository, &ManifestRef::tag(&kept.tag))
        .await
    {
        Err(RegistryError::NotFound { .. }) => {}
        // Still on its manifest although unlisted: the registry contradicts itself.
        Ok(m) if m.digest == kept.digest => return Outcome::Changed(Change::Unlisted),
        // Pushed anew by another client (after the list was read): theirs.
        Ok(_) => {
            return Outcome::GoneMeanwhile {
                with_manifest: false,
            }
        }
        Err(e) => return Outcome::Failed(e.into()),
    }
    // Its manifest, read again (bytes are not kept from the plan: they could be
    // many megabytes a tag), checked against its digest.
    let manifest = match registry
        .get_manifest(repository, &(&kept.digest).into())
        .await
    {
        // This run deletes no manifest a kept tag is on: someone else deleted it.
        Err(RegistryError::NotFound { .. }) => {
            return Outcome::GoneMeanwhile {
                with_manifest: true,
            }
        }
        Ok(m) if deleted_manifests => m,
        // Only throw-away manifests were deleted, which carry no other tag.
        Ok(_) => {
            return Outcome::GoneMeanwhile {
                with_manifest: false,
            }
        }
        Err(e) => return Outcome::Failed(e.into()),
    };
    let put = registry
        .put_manifest(
            repository,
            &ManifestRef::tag(&kept.tag),
            kept.media_type.as_str(),
            &manifest.bytes,
        )
        .await;
    match put {
        Ok(_) => Outcome::Restored,
        Err(e) => Outcome::Failed(e.into()),
    }
}

async fn run<S: Store>(registry: &S, repository: &str, action: &Action) -> Outcome {
    match action {
        // Only made by the check after the changes, never planned.
        Action::RestoreTag { .. } | Action::CheckTagList => Outcome::NotStarted,
        Action::DeleteManifest { digest, .. } => {
            match registry.delete_manifest(repository, digest).await {
                Ok(()) => Outcome::Deleted,
                Err(RegistryError::NotFound { .. }) => Outcome::AlreadyGone,
                Err(e) => Outcome::Failed(e.into()),
            }
        }
        Action::RewriteReferrersIndex {
            tag,
            digest,
            media_type,
            bytes,
            delete_old,
            ..
        } => {
            let put = registry
                .put_manifest(
                    repository,
                    &ManifestRef::tag(tag),
                    media_type.as_str(),
                    bytes,
                )
                .await;
            if let Err(e) = put {
                return Outcome::Failed(e.into());
            }
            if *delete_old {
                match registry.delete_manifest(repository, digest).await {
                    Ok(()) | Err(RegistryError::NotFound { .. }) => {}
                    Err(e) => return Outcome::Failed(e.into()),
                }
            }
            Outcome::Rewritten
        }
        Action::RemoveTag {
            tag,
            digest,
            media_type,
            keep,
            in_index,
        } => {
            let untag = Untag {
                registry,
                repository,
                tag,
                oci: media_type.is_oci(),
                keep,
                in_index: *in_index,
            };
            untag.run(Expect::Manifest(digest)).await
        }
        Action::RemoveDanglingTag { tag } => {
            let untag = Untag {
                registry,
                repository,
                tag,
                oci: false,
                keep: &[],
                in_index: false,
            };
            untag.run(Expect::Missing).await
        }
    }
}
