//! Carrying out plans: a re-check against the registry right before changing it,
//! then each repository's actions in order (parents before children, subjects
//! before attachments), repositories side by side, no new action after a cancel.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

use futures_util::stream::{self, StreamExt as _};

use super::plan::{Action, Cause, KeptTag, Plan};
use super::store::Store;
use super::untag::{Expect, TagRemoval, Untag};
use super::watch::Watch;
use crate::graph::{Depth, Loader, Snapshot};
use crate::registry::reference::ManifestRef;
use crate::registry::{Digest, RegistryError};

/// Why an action failed.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// The registry failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A tag removal failed half-way, with the tag on its throw-away manifest; it
    /// was pointed back at `digest`, or could not be.
    #[error("{error}; the tag was left on a throw-away manifest and {} to {digest}", if *.restored { "pointed back" } else { "could not be pointed back" })]
    LeftOnPlaceholder {
        /// What failed.
        error: RegistryError,
        /// Whether the tag points at `digest` again.
        restored: bool,
        /// The manifest the tag pointed at.
        digest: Digest,
    },
    /// The registry deleted the tag, and the manifest, which other tags or an
    /// index need, is gone too: its tag deletion took it, or another client deleted
    /// it meanwhile. Not pushed back: it may have been deleted on purpose.
    #[error("the tag was removed, and its manifest {digest} is gone too{}: the registry's tag deletion took it, or another client deleted it meanwhile; it was not pushed back", tags_word(.tags))]
    ManifestGone {
        /// The manifest.
        digest: Digest,
        /// The tags it carried that the plan kept (gone with it).
        tags: Vec<String>,
    },
    /// The tag was removed, yet the tag list still names it, on a manifest the
    /// registry does not serve, after removing it again.
    #[error("the tag list still names {tag} after its removal, on a manifest the registry does not serve (a dangling tag); removing it again did not help")]
    StillListed {
        /// The tag.
        tag: String,
    },
}

impl ActionError {
    /// The class of failure, for the exit status.
    pub fn kind(&self) -> crate::registry::ErrorKind {
        match self {
            ActionError::Registry(e) | ActionError::LeftOnPlaceholder { error: e, .. } => e.kind(),
            ActionError::ManifestGone { .. } | ActionError::StillListed { .. } => {
                crate::registry::ErrorKind::Other
            }
        }
    }
}

fn tags_word(tags: &[String]) -> String {
    if tags.is_empty() {
        String::new()
    } else {
        format!(", with the tags the plan kept on it ({})", tags.join(", "))
    }
}

/// How the repository changed after planning, so that an action was left undone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// The tags on the manifest are not the ones planned (one was added or moved).
    TagsChanged {
        /// The tags planned.
        planned: Vec<String>,
        /// The tags now.
        now: Vec<String>,
    },
    /// The tag points elsewhere now (or nowhere).
    TagMoved(Option<Digest>),
    /// An index that stays references the manifest now.
    NowReferenced(Vec<Digest>),
    /// The manifest it belongs to is left in place, so it stays too.
    ParentLeft(Digest),
    /// The tag list no longer names the tag, yet the tag still answers: the
    /// registry contradicts itself, and nothing is pushed.
    Unlisted,
    /// Tags the registry lists now could not be verified: any might point at the
    /// manifest, so it is not deleted by digest.
    UnverifiedTags(Vec<String>),
    /// A manifest pushed meanwhile names it as its `subject` (a new signature,
    /// SBOM or attestation).
    NowAttached(Digest),
    /// Two reads of the tag list disagree: these tags, named by one, left out by
    /// the next, still answer. The list is not complete, so nothing is deleted
    /// by digest in the repository.
    ListIncomplete(Vec<String>),
}

/// What became of one action.
#[derive(Debug)]
pub enum Outcome {
    /// The manifest is deleted.
    Deleted,
    /// The tag is removed, the manifest kept.
    TagRemoved(TagRemoval),
    /// The referrers index was re-pushed without the deleted entries.
    Rewritten,
    /// A tag that went against the plan was put back.
    Restored,
    /// A tag the plan kept went meanwhile, and nothing this run sent can have
    /// taken it: another client's change, reported and left as it is.
    GoneMeanwhile {
        /// Its manifest went too.
        with_manifest: bool,
    },
    /// It was already gone (someone else deleted it meanwhile).
    AlreadyGone,
    /// Left undone: the repository changed after planning.
    Changed(Change),
    /// Not started: cancelled before its turn.
    NotStarted,
    /// Not sent: the registry refused a change as unsupported earlier in this
    /// run (it turned read-only, say), so no more changes went to it.
    NotAttempted(Halt),
    /// It failed.
    Failed(ActionError),
}

impl Outcome {
    /// True when the registry was changed as planned.
    pub fn is_done(&self) -> bool {
        matches!(
            self,
            Outcome::Deleted
                | Outcome::TagRemoved(_)
                | Outcome::Rewritten
                | Outcome::AlreadyGone
                | Outcome::Restored
        )
    }
}

/// Why a run stopped sending changes to the registry: it answered a change
/// with 405 (unsupported) after the check before the run said it deletes.
#[derive(Clone, Debug)]
pub struct Halt {
    /// The refusal, in words (with its hint: read-only mode, deletion disabled).
    pub reason: String,
}

/// An action and what became of it.
#[derive(Debug)]
pub struct ActionReport {
    /// The repository.
    pub repository: String,
    /// The action.
    pub action: Action,
    /// Its outcome.
    pub outcome: Outcome,
}

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
fn blocked_by(action: &Action, left_out: &BTreeSet<Digest>) -> Option<Digest> {
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

#[cfg(test)]
mod tests {
    use super::*;
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
    fn review_a_shared_child_stays_when_one_of_its_indexes_is_left() {
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
    fn review_a_referrer_left_at_recheck_stays_in_the_fallback_index() {
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
