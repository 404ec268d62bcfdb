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
use crate::registry::deletion::TagRemoval;
use crate::registry::manifest::{
    is_index, Index, DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST,
};
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
        let indexes: BTreeSet<Digest> = state
            .media_types
            .iter()
            .filter(|(_, t)| is_index(t))
            .map(|(d, _)| d.clone())
            .collect();
        for index in indexes {
            let manifest = registry
                .get_manifest(repository, &index.to_string())
                .await?;
            let parsed: Index = serde_json::from_slice(&manifest.bytes).map_err(|e| {
                RegistryError::InvalidResponse {
                    url: format!("{}/{repository}@{index}", registry.host()),
                    reason: format!("index is not valid: {e}"),
                }
            })?;
            for child in parsed.manifests {
                state
                    .index_parents
                    .entry(child.digest)
                    .or_default()
                    .insert(index.clone());
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

    /// Tags of the indexes that reference `digest`.
    pub fn index_tags_referencing(&self, digest: &Digest) -> Vec<String> {
        self.index_parents
            .get(digest)
            .into_iter()
            .flatten()
            .flat_map(|index| self.tags_on(index))
            .collect()
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
    },
}

impl Action {
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
) -> Vec<Action> {
    let mut actions = Vec::new();
    for digest in delete_digests {
        actions.push(Action::DeleteManifest {
            registry: registry.to_string(),
            repository: state.repository.clone(),
            digest: digest.clone(),
            tags: state.tags_on(digest),
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
        if keep.is_empty() && !state.index_parents.contains_key(digest) {
            actions.push(Action::DeleteManifest {
                registry: registry.to_string(),
                repository: state.repository.clone(),
                digest: digest.clone(),
                tags: all,
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
    if yes || dry_run || std::io::stdin().is_terminal() {
        return Ok(());
    }
    Err(UsageError(
        "refusing to delete without --yes: standard input is not a terminal \
         (pass --yes in scripts, or --dry-run to see the plan)"
            .into(),
    )
    .into())
}

/// Shows the plan on stderr and asks (default no), unless `--yes`.
fn confirm(actions: &[Action], yes: bool) -> Result<bool> {
    if yes {
        return Ok(true);
    }
    let rows: Vec<PlanRow> = actions.iter().map(PlanRow::from).collect();
    for row in &rows {
        eprintln!("  {}", row.plain());
    }
    let tags: usize = actions.iter().map(|a| a.tags_removed().len()).sum();
    let prompt = format!("Delete as above ({} actions, {tags} tags)?", actions.len());
    Ok(dialoguer::Confirm::new()
        .with_prompt(prompt)
        .default(false)
        .interact_on(&dialoguer::console::Term::stderr())?)
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
        let host = match action {
            Action::DeleteManifest { registry, .. } | Action::RemoveTag { registry, .. } => {
                registry
            }
        };
        registries.push(ctx.registry(host)?);
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
            ..
        } => {
            // Kept to restore the siblings should the registry take them too.
            let original = registry
                .get_manifest(repository, &digest.to_string())
                .await?;
            let how = registry.remove_tag(repository, tag, media_type).await?;
            verify_kept(
                registry,
                repository,
                digest,
                keep,
                &original.bytes,
                media_type,
                how,
            )
            .await
        }
    }
}

/// After removing a tag, checks that every sibling still points at `digest`;
/// re-tags any that vanished and reports the registry's overreach.
async fn verify_kept(
    registry: &Registry,
    repository: &str,
    digest: &Digest,
    keep: &[String],
    original: &[u8],
    media_type: &str,
    how: TagRemoval,
) -> Result<(), RegistryError> {
    let mut lost = Vec::new();
    for tag in keep {
        let reference = Reference::with_tag(registry.host(), repository, tag);
        match registry.resolve(&reference).await {
            Ok(head) if head.digest == *digest => {}
            Ok(_) | Err(RegistryError::NotFound { .. }) => lost.push(tag.clone()),
            Err(e) => return Err(e),
        }
    }
    if lost.is_empty() {
        return Ok(());
    }
    let static_type = static_media_type(media_type);
    for tag in &lost {
        registry
            .put_manifest(repository, tag, static_type, original)
            .await?;
    }
    Err(RegistryError::InvalidResponse {
        url: format!("{}/{repository}", registry.host()),
        reason: format!(
            "removing one tag ({how:?}) also removed {}; they were restored to {digest}",
            lost.join(", ")
        ),
    })
}

fn static_media_type(media_type: &str) -> &'static str {
    [OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST]
        .into_iter()
        .find(|t| *t == media_type)
        .unwrap_or(DOCKER_MANIFEST)
}

/// Asks for confirmation (unless `yes`), runs the actions and reports failures,
/// the garbage-collection note and an interruption on stderr. `None` when the
/// user declined; else the outcomes and the exit status they call for.
pub async fn confirm_and_execute(
    ctx: &Context,
    actions: Vec<Action>,
    yes: bool,
) -> Result<Option<(Vec<Outcome>, Exit)>> {
    if !confirm(&actions, yes)? {
        ctx.printer.note("aborted: nothing was deleted");
        return Ok(None);
    }
    let (outcomes, errors, interrupted) = execute(ctx, actions).await?;
    let done = |o: &&Outcome| o.outcome == "deleted" || o.outcome == "tag-removed";
    for o in outcomes.iter().filter(|o| o.outcome == "failed") {
        ctx.printer.error(format!(
            "{}: {}",
            o.reference,
            o.error.as_deref().unwrap_or("failed")
        ));
    }
    if outcomes.iter().any(|o| done(&o)) {
        ctx.printer.note(GC_NOTE);
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
    } else {
        let kinds: Vec<ErrorKind> = errors.iter().map(RegistryError::kind).collect();
        worst(&kinds)
    };
    Ok(Some((outcomes, exit)))
}

/// Said once after deleting, as the seed does by hand.
pub const GC_NOTE: &str =
    "note: the registry frees disk space only when its garbage collector runs, e.g. \
`registry garbage-collect --delete-untagged /etc/docker/registry/config.yml` \
(Debian: `docker-registry garbage-collect ...`)";
