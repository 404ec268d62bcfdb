//! What `rm` and `prune` share: a repository's tag → digest map, the plan of
//! deletions that removes exactly the tags asked for, confirmation, and execution
//! that stops cleanly on Ctrl-C.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Result;
use futures::stream::{self, StreamExt as _};
use serde::Serialize;

use super::ls::worst;
use super::Context;
use crate::exit::{Exit, UsageError};
use crate::output::Row;
use crate::registry::deletion::{TagRemoval, TagRemovalError};
use crate::registry::manifest::{
    is_image_manifest, is_index, looks_like_index, Index, DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX,
    OCI_MANIFEST,
};
use crate::registry::reference::valid_tag;
use crate::registry::{Digest, ErrorKind, Reference, Registry, RegistryError};

/// Tags, their digests and which indexes reference which manifests, for one repository.
pub struct RepoState {
    /// The repository.
    pub repository: String,
    /// Every tag and the digest it points at.
    pub tags: BTreeMap<String, Digest>,
    /// Media type of each tagged manifest.
    pub media_types: HashMap<Digest, String>,
    /// For each manifest that an index references: the indexes that do.
    pub index_parents: HashMap<Digest, BTreeSet<Digest>>,
    /// Tags the registry listed that are not valid tag names (not read).
    pub opaque_tags: Vec<String>,
}

impl RepoState {
    /// Reads the repository: its tags, a HEAD per tag, and each index's children.
    pub async fn load(
        registry: &Registry,
        repository: &str,
        concurrency: usize,
    ) -> Result<Self, RegistryError> {
        let tags = match registry.tags(repository).await {
            Ok(tags) => tags,
            Err(RegistryError::NotFound { .. }) => Vec::new(),
            Err(e) => return Err(e),
        };
        // Tags off the grammar cannot be named safely in a URL: not read, not touched,
        // and while there are any, no manifest of this repository is deleted by
        // digest on the strength of a tag list (it might carry one of them).
        let (tags, opaque): (Vec<String>, Vec<String>) =
            tags.into_iter().partition(|t| valid_tag(t));
        let heads: Vec<(
            String,
            Result<crate::registry::manifests::ManifestHead, RegistryError>,
        )> = stream::iter(tags)
            .map(|tag| async move {
                let reference = Reference::with_tag(registry.host(), repository, &tag);
                let head = registry.resolve(&reference).await;
                (tag, head)
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        let mut state = RepoState {
            repository: repository.to_string(),
            tags: BTreeMap::new(),
            media_types: HashMap::new(),
            index_parents: HashMap::new(),
            opaque_tags: opaque,
        };
        for (tag, head) in heads {
            match head {
                Ok(head) => {
                    state
                        .media_types
                        .insert(head.digest.clone(), head.media_type);
                    state.tags.insert(tag, head.digest);
                }
                // Deleted between the tag list and the HEAD: not there any more.
                Err(RegistryError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        // Every index reachable from a tag, nested ones too; a manifest whose
        // Content-Type is not a known image type is read to find out what it is.
        let mut queue: Vec<Digest> = state
            .media_types
            .iter()
            .filter(|(_, t)| !is_image_manifest(t))
            .map(|(d, _)| d.clone())
            .collect();
        let mut seen = BTreeSet::new();
        while let Some(digest) = queue.pop() {
            if !seen.insert(digest.clone()) {
                continue;
            }
            let manifest = registry
                .get_manifest(repository, &digest.to_string())
                .await?;
            if !is_index(&manifest.media_type) && !looks_like_index(&manifest.bytes) {
                continue;
            }
            let parsed: Index = serde_json::from_slice(&manifest.bytes).map_err(|e| {
                RegistryError::InvalidResponse {
                    url: format!("{}/{repository}@{digest}", registry.host()),
                    reason: format!("index is not valid: {e}"),
                }
            })?;
            for child in parsed.manifests {
                if !is_image_manifest(&child.media_type) {
                    queue.push(child.digest.clone());
                }
                state
                    .index_parents
                    .entry(child.digest)
                    .or_default()
                    .insert(digest.clone());
            }
        }
        Ok(state)
    }

    /// The tags pointing at `digest`, sorted.
    pub fn tags_on(&self, digest: &Digest) -> Vec<String> {
        self.tags
            .iter()
            .filter(|(_, d)| *d == digest)
            .map(|(t, _)| t.clone())
            .collect()
    }

    /// Tags of the indexes that reference `digest`, directly or through nested indexes.
    pub fn index_tags_referencing(&self, digest: &Digest) -> Vec<String> {
        let mut tags = BTreeSet::new();
        let mut seen = BTreeSet::new();
        let mut queue = vec![digest];
        while let Some(d) = queue.pop() {
            for parent in self.index_parents.get(d).into_iter().flatten() {
                if seen.insert(parent) {
                    tags.extend(self.tags_on(parent));
                    queue.push(parent);
                }
            }
        }
        tags.into_iter().collect()
    }
}

/// One change to a registry.
#[derive(Debug, Clone)]
pub enum Action {
    /// Delete a manifest by digest; `tags` disappear with it.
    DeleteManifest {
        /// Registry host.
        registry: String,
        /// Repository.
        repository: String,
        /// The manifest.
        digest: Digest,
        /// Every tag that points at it.
        tags: Vec<String>,
        /// The user named this digest with `--force`: an index referencing it does
        /// not stop it (without `--force`, `rm` refuses that when planning, and the
        /// re-check before deleting refuses it too).
        forced: bool,
    },
    /// Remove one tag; the manifest stays for `keep`.
    RemoveTag {
        /// Registry host.
        registry: String,
        /// Repository.
        repository: String,
        /// The tag to remove.
        tag: String,
        /// What it points at now.
        digest: Digest,
        /// The manifest's media type.
        media_type: String,
        /// Tags on the same digest that stay (checked afterwards).
        keep: Vec<String>,
        /// An index references the manifest (it must survive: checked afterwards).
        in_index: bool,
    },
}

impl Action {
    /// Registry host of the action.
    pub fn registry(&self) -> &str {
        match self {
            Action::DeleteManifest { registry, .. } | Action::RemoveTag { registry, .. } => {
                registry
            }
        }
    }

    /// Repository of the action.
    pub fn repository(&self) -> &str {
        match self {
            Action::DeleteManifest { repository, .. } | Action::RemoveTag { repository, .. } => {
                repository
            }
        }
    }

    /// The tags that disappear.
    pub fn tags_removed(&self) -> Vec<String> {
        match self {
            Action::DeleteManifest { tags, .. } => tags.clone(),
            Action::RemoveTag { tag, .. } => vec![tag.clone()],
        }
    }
}

/// The actions that remove exactly `remove` (tags of `state`): a manifest is
/// deleted by digest only when every tag on it goes and no index references it;
/// otherwise each tag is removed on its own. `delete_digests` are manifests the
/// user named by digest (they go whatever points at them).
pub fn plan(
    registry: &str,
    state: &RepoState,
    remove: &BTreeSet<String>,
    delete_digests: &BTreeSet<Digest>,
    forced: bool,
) -> Vec<Action> {
    let mut actions = Vec::new();
    for digest in delete_digests {
        actions.push(Action::DeleteManifest {
            registry: registry.to_string(),
            repository: state.repository.clone(),
            digest: digest.clone(),
            tags: state.tags_on(digest),
            forced,
        });
    }
    let mut by_digest: BTreeMap<&Digest, Vec<&String>> = BTreeMap::new();
    for tag in remove {
        if let Some(digest) = state.tags.get(tag) {
            if !delete_digests.contains(digest) {
                by_digest.entry(digest).or_default().push(tag);
            }
        }
    }
    for (digest, tags) in by_digest {
        let all = state.tags_on(digest);
        let keep: Vec<String> = all
            .iter()
            .filter(|t| !remove.contains(*t))
            .cloned()
            .collect();
        if keep.is_empty()
            && !state.index_parents.contains_key(digest)
            && state.opaque_tags.is_empty()
        {
            actions.push(Action::DeleteManifest {
                registry: registry.to_string(),
                repository: state.repository.clone(),
                digest: digest.clone(),
                tags: all,
                forced: false,
            });
        } else {
            for tag in tags {
                actions.push(Action::RemoveTag {
                    registry: registry.to_string(),
                    repository: state.repository.clone(),
                    tag: tag.clone(),
                    digest: digest.clone(),
                    media_type: state.media_types.get(digest).cloned().unwrap_or_default(),
                    keep: keep.clone(),
                    in_index: state.index_parents.contains_key(digest),
                });
            }
        }
    }
    actions
}

/// A plan line: what happens to which reference.
#[derive(Debug, Serialize)]
pub struct PlanRow {
    /// `registry/repo:tag` or `registry/repo@digest`.
    pub reference: String,
    /// `delete-manifest` or `remove-tag`.
    pub action: &'static str,
    /// The manifest concerned.
    pub digest: Digest,
    /// Tags that disappear.
    pub tags_removed: Vec<String>,
    /// Tags on the same manifest that stay.
    pub tags_kept: Vec<String>,
}

impl From<&Action> for PlanRow {
    fn from(action: &Action) -> Self {
        match action {
            Action::DeleteManifest {
                registry,
                repository,
                digest,
                tags,
                ..
            } => PlanRow {
                reference: format!("{registry}/{repository}@{digest}"),
                action: "delete-manifest",
                digest: digest.clone(),
                tags_removed: tags.clone(),
                tags_kept: Vec::new(),
            },
            Action::RemoveTag {
                registry,
                repository,
                tag,
                digest,
                keep,
                ..
            } => PlanRow {
                reference: format!("{registry}/{repository}:{tag}"),
                action: "remove-tag",
                digest: digest.clone(),
                tags_removed: vec![tag.clone()],
                tags_kept: keep.clone(),
            },
        }
    }
}

impl Row for PlanRow {
    fn headers(&self) -> Vec<&'static str> {
        vec!["ACTION", "REFERENCE", "TAGS REMOVED", "TAGS KEPT"]
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.action.to_string(),
            self.reference.clone(),
            self.tags_removed.join(", "),
            self.tags_kept.join(", "),
        ]
    }

    fn plain(&self) -> String {
        let mut line = format!("{} {}", self.action, self.reference);
        if self.action == "delete-manifest" {
            line += &format!(" (tags removed: {})", join_or_none(&self.tags_removed));
        } else {
            line += &format!(
                " ({}; kept on it: {})",
                self.digest,
                join_or_none(&self.tags_kept)
            );
        }
        line
    }
}

fn join_or_none(tags: &[String]) -> String {
    if tags.is_empty() {
        "none".into()
    } else {
        tags.join(", ")
    }
}

/// Refuses early (before any request) when a deletion would need a confirmation
/// nobody can give.
pub fn check_can_confirm(yes: bool, dry_run: bool) -> Result<()> {
    // The question goes to stderr and the answer comes from stdin: both must be a terminal.
    if yes || dry_run || (std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Ok(());
    }
    Err(UsageError(
        "refusing to delete without --yes: no terminal to ask for confirmation \
         (pass --yes in scripts, or --dry-run to see the plan)"
            .into(),
    )
    .into())
}

/// The answer to "delete as above?".
enum Answer {
    Yes,
    No,
    /// Ctrl-C at the prompt.
    Interrupted,
}

/// Shows the plan on stderr and asks (default no), unless `--yes`.
fn confirm(actions: &[Action], yes: bool) -> Result<Answer> {
    if yes {
        return Ok(Answer::Yes);
    }
    let rows: Vec<PlanRow> = actions.iter().map(PlanRow::from).collect();
    for row in &rows {
        eprintln!("  {}", row.plain());
    }
    let tags: usize = actions.iter().map(|a| a.tags_removed().len()).sum();
    let prompt = format!("Delete as above ({} actions, {tags} tags)?", actions.len());
    let term = dialoguer::console::Term::stderr();
    match dialoguer::Confirm::new()
        .with_prompt(prompt)
        .default(false)
        .interact_on(&term)
    {
        Ok(true) => Ok(Answer::Yes),
        Ok(false) => Ok(Answer::No),
        Err(dialoguer::Error::IO(e)) if e.kind() == std::io::ErrorKind::Interrupted => {
            // The prompt hid the cursor; give it back before leaving.
            let _ = term.show_cursor();
            eprintln!();
            Ok(Answer::Interrupted)
        }
        Err(e) => Err(e.into()),
    }
}

/// What became of one action.
#[derive(Debug, Serialize)]
pub struct Outcome {
    /// The reference acted on.
    pub reference: String,
    /// `deleted`, `tag-removed`, `failed`, `not-started` (after Ctrl-C),
    /// `missing` or `refused`.
    pub outcome: &'static str,
    /// The manifest concerned, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<Digest>,
    /// Tags that are gone.
    pub tags_removed: Vec<String>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Row for Outcome {
    fn headers(&self) -> Vec<&'static str> {
        vec!["OUTCOME", "REFERENCE", "TAGS REMOVED"]
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.outcome.to_string(),
            self.reference.clone(),
            self.tags_removed.join(", "),
        ]
    }

    fn plain(&self) -> String {
        match &self.error {
            Some(e) => format!("{} {}: {e}", self.outcome, self.reference),
            None => format!(
                "{} {} (tags removed: {})",
                self.outcome,
                self.reference,
                join_or_none(&self.tags_removed)
            ),
        }
    }
}

/// Runs `actions`, at most `concurrency` at once; after Ctrl-C no new action starts.
/// Returns an outcome per action (in plan order) and whether it was interrupted.
pub async fn execute(
    ctx: &Context,
    actions: Vec<Action>,
) -> Result<(Vec<Outcome>, Vec<RegistryError>, bool)> {
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    let watcher = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            flag.store(true, Ordering::SeqCst);
        }
    });
    let progress = progress_bar(actions.len());
    let mut registries = Vec::with_capacity(actions.len());
    for action in &actions {
        registries.push(ctx.registry(action.registry())?);
    }
    let results: Vec<(PlanRow, Option<Result<(), RegistryError>>)> =
        stream::iter(actions.iter().zip(registries))
            .map(|(action, registry)| {
                let interrupted = interrupted.clone();
                let progress = progress.clone();
                async move {
                    let row = PlanRow::from(action);
                    if interrupted.load(Ordering::SeqCst) {
                        return (row, None);
                    }
                    let result = run_action(&registry, action).await;
                    if let Some(p) = &progress {
                        p.inc(1);
                    }
                    (row, Some(result))
                }
            })
            .buffered(ctx.concurrency)
            .collect()
            .await;
    watcher.abort();
    if let Some(p) = progress {
        p.finish_and_clear();
    }
    let mut outcomes = Vec::new();
    let mut errors = Vec::new();
    for (row, result) in results {
        let (outcome, tags_removed, error) = match result {
            None => ("not-started", Vec::new(), None),
            Some(Ok(())) if row.action == "delete-manifest" => ("deleted", row.tags_removed, None),
            Some(Ok(())) => ("tag-removed", row.tags_removed, None),
            Some(Err(e)) => {
                let message = e.to_string();
                errors.push(e);
                ("failed", Vec::new(), Some(message))
            }
        };
        outcomes.push(Outcome {
            reference: row.reference,
            outcome,
            digest: Some(row.digest),
            tags_removed,
            error,
        });
    }
    Ok((outcomes, errors, interrupted.load(Ordering::SeqCst)))
}

fn progress_bar(len: usize) -> Option<indicatif::ProgressBar> {
    if len < 20 || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} deletions ({eta})")
    {
        bar.set_style(style);
    }
    Some(bar)
}

async fn run_action(registry: &Registry, action: &Action) -> Result<(), RegistryError> {
    match action {
        Action::DeleteManifest {
            repository, digest, ..
        } => registry.delete_manifest(repository, digest).await,
        Action::RemoveTag {
            repository,
            tag,
            digest,
            media_type,
            keep,
            in_index,
            ..
        } => {
            // Kept to put things back should the registry take more than the tag.
            let original = registry
                .get_manifest(repository, &digest.to_string())
                .await?;
            let restore = Restore {
                registry,
                repository,
                digest,
                media_type: static_media_type(media_type),
                bytes: &original.bytes,
            };
            match registry.remove_tag(repository, tag, media_type).await {
                Ok(how) => restore.check(keep, *in_index, Some(how)).await,
                Err(failure) => {
                    let err = restore.tag_after_failure(tag, failure).await;
                    // The registry may have taken more than the tag before failing.
                    restore.check(keep, *in_index, None).await?;
                    Err(err)
                }
            }
        }
    }
}

/// What is needed to put a manifest and its tags back.
struct Restore<'a> {
    registry: &'a Registry,
    repository: &'a str,
    digest: &'a Digest,
    media_type: &'static str,
    bytes: &'a [u8],
}

impl Restore<'_> {
    /// The tag removal failed half-way (e.g. the throw-away manifest was pushed but
    /// could not be deleted): if the tag is on that throw-away manifest, point it
    /// back at the original. A tag someone else moved meanwhile is left alone.
    async fn tag_after_failure(&self, tag: &str, failure: TagRemovalError) -> RegistryError {
        let TagRemovalError {
            error: err,
            left_on,
        } = failure;
        let Some(left_on) = left_on else { return err };
        let reference = Reference::with_tag(self.registry.host(), self.repository, tag);
        if let Ok(head) = self.registry.resolve(&reference).await {
            if head.digest == left_on {
                let put = self
                    .registry
                    .put_manifest(self.repository, tag, self.media_type, self.bytes)
                    .await;
                let outcome = if put.is_ok() {
                    "restored"
                } else {
                    "could not be restored"
                };
                return RegistryError::InvalidResponse {
                    url: format!("{}/{}:{tag}", self.registry.host(), self.repository),
                    reason: format!(
                        "{err}; the tag was left on a throw-away manifest and {outcome} to {}",
                        self.digest
                    ),
                };
            }
        }
        err
    }

    /// After removing a tag: every kept tag must still exist, and the manifest too
    /// when an index needs it. What vanished is put back and reported as the
    /// registry's overreach. A kept tag that now points elsewhere was moved by
    /// someone else meanwhile: it is left as it is.
    async fn check(
        &self,
        keep: &[String],
        in_index: bool,
        how: Option<TagRemoval>,
    ) -> Result<(), RegistryError> {
        let mut lost = Vec::new();
        for tag in keep {
            let reference = Reference::with_tag(self.registry.host(), self.repository, tag);
            match self.registry.resolve(&reference).await {
                Ok(_) => {}
                Err(RegistryError::NotFound { .. }) => lost.push(tag.clone()),
                Err(e) => return Err(e),
            }
        }
        let mut manifest_lost = false;
        if in_index && lost.is_empty() {
            match self
                .registry
                .head_manifest(self.repository, &self.digest.to_string())
                .await
            {
                Ok(_) => {}
                Err(RegistryError::NotFound { .. }) => manifest_lost = true,
                Err(e) => return Err(e),
            }
        }
        if manifest_lost {
            let reference = self.digest.to_string();
            self.registry
                .put_manifest(self.repository, &reference, self.media_type, self.bytes)
                .await?;
        }
        for tag in &lost {
            self.registry
                .put_manifest(self.repository, tag, self.media_type, self.bytes)
                .await?;
        }
        let mut problems = Vec::new();
        if !lost.is_empty() {
            problems.push(format!(
                "it also removed {} (restored to {})",
                lost.join(", "),
                self.digest
            ));
        }
        if manifest_lost {
            problems.push(format!(
                "it also deleted {}, which an index needs (restored)",
                self.digest
            ));
        }
        if problems.is_empty() {
            return Ok(());
        }
        Err(RegistryError::InvalidResponse {
            url: format!("{}/{}", self.registry.host(), self.repository),
            reason: format!(
                "removing one tag ({}): {}",
                how.map_or("failed".to_string(), |h| format!("{h:?}")),
                problems.join("; ")
            ),
        })
    }
}

fn static_media_type(media_type: &str) -> &'static str {
    [OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST]
        .into_iter()
        .find(|t| *t == media_type)
        .unwrap_or(DOCKER_MANIFEST)
}

/// Asks for confirmation (unless `yes`), runs the actions and reports failures
/// and an interruption on stderr. `None` when the
/// user declined; else the outcomes and the exit status they call for.
pub async fn confirm_and_execute(
    ctx: &Context,
    actions: Vec<Action>,
    yes: bool,
) -> Result<Option<(Vec<Outcome>, Exit)>> {
    match confirm(&actions, yes)? {
        Answer::Yes => {}
        Answer::No => {
            ctx.printer.note("aborted: nothing was deleted");
            return Ok(None);
        }
        Answer::Interrupted => {
            ctx.printer.note("interrupted: nothing was deleted");
            return Ok(Some((Vec::new(), Exit::Interrupted)));
        }
    }
    let (actions, changed) = revalidate(ctx, actions).await?;
    let (mut outcomes, errors, interrupted) = execute(ctx, actions).await?;
    for c in &changed {
        ctx.printer.error(format!(
            "{}: {}",
            c.reference,
            c.error.as_deref().unwrap_or("changed")
        ));
    }
    let changed_any = !changed.is_empty();
    outcomes.extend(changed);
    let done = |o: &&Outcome| o.outcome == "deleted" || o.outcome == "tag-removed";
    for o in outcomes.iter().filter(|o| o.outcome == "failed") {
        ctx.printer.error(format!(
            "{}: {}",
            o.reference,
            o.error.as_deref().unwrap_or("failed")
        ));
    }
    let exit = if interrupted {
        let left = outcomes
            .iter()
            .filter(|o| o.outcome == "not-started")
            .count();
        ctx.printer.note(format!(
            "interrupted: {} done, {} failed, {left} not started",
            outcomes.iter().filter(done).count(),
            errors.len()
        ));
        Exit::Interrupted
    } else if changed_any && errors.is_empty() {
        Exit::Failure
    } else {
        let kinds: Vec<ErrorKind> = errors.iter().map(RegistryError::kind).collect();
        worst(&kinds)
    };
    Ok(Some((outcomes, exit)))
}

/// Reads each repository again right before changing it, and drops the actions
/// that no longer hold: a manifest that gained a tag not planned to go (or became
/// referenced by an index, unless forced), a tag that moved. The tags to keep and
/// the index check of a tag removal are taken from what is there now. The
/// confirmation may have waited a long time; others may have pushed meanwhile.
async fn revalidate(ctx: &Context, actions: Vec<Action>) -> Result<(Vec<Action>, Vec<Outcome>)> {
    let repositories: BTreeSet<(String, String)> = actions
        .iter()
        .map(|a| (a.registry().to_string(), a.repository().to_string()))
        .collect();
    let mut states = HashMap::new();
    for (host, repository) in repositories {
        let registry = ctx.registry(&host)?;
        let state = RepoState::load(&registry, &repository, ctx.concurrency).await?;
        states.insert((host, repository), state);
    }
    // Tags the plan removes, per repository: the rest of a manifest's tags are kept.
    let mut removing: HashMap<(String, String), BTreeSet<String>> = HashMap::new();
    for action in &actions {
        removing
            .entry((
                action.registry().to_string(),
                action.repository().to_string(),
            ))
            .or_default()
            .extend(action.tags_removed());
    }
    let mut kept = Vec::with_capacity(actions.len());
    let mut changed = Vec::new();
    for mut action in actions {
        let key = (
            action.registry().to_string(),
            action.repository().to_string(),
        );
        let Some(state) = states.get(&key) else {
            continue;
        };
        let still = match &mut action {
            Action::DeleteManifest {
                digest,
                tags,
                forced,
                ..
            } => {
                let planned: BTreeSet<&String> = tags.iter().collect();
                state.tags_on(digest).iter().all(|t| planned.contains(t))
                    && (*forced || !state.index_parents.contains_key(digest))
            }
            Action::RemoveTag {
                tag,
                digest,
                keep,
                in_index,
                ..
            } => {
                // What must survive is what is there now, not what was there then.
                let removed = removing.get(&key);
                *keep = state
                    .tags_on(digest)
                    .into_iter()
                    .filter(|t| removed.is_none_or(|r| !r.contains(t)))
                    .collect();
                *in_index = state.index_parents.contains_key(digest);
                state.tags.get(tag.as_str()) == Some(&*digest)
            }
        };
        if still {
            kept.push(action);
        } else {
            let row = PlanRow::from(&action);
            changed.push(Outcome {
                reference: row.reference,
                outcome: "changed",
                digest: Some(row.digest),
                tags_removed: Vec::new(),
                error: Some("changed since it was planned; left untouched".into()),
            });
        }
    }
    Ok((kept, changed))
}

/// Says once, after the outcome, that deleting frees no disk space by itself.
pub fn note_garbage_collection(ctx: &Context, outcomes: &[Outcome]) {
    if outcomes
        .iter()
        .any(|o| o.outcome == "deleted" || o.outcome == "tag-removed")
    {
        ctx.printer.note(GC_NOTE);
    }
}

/// Said once after deleting, as the seed does by hand.
pub const GC_NOTE: &str =
    "note: the registry frees disk space only when its garbage collector runs, e.g. \
`registry garbage-collect --delete-untagged /etc/docker/registry/config.yml` \
(Debian: `docker-registry garbage-collect ...`)";
