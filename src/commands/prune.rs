//! `regctl prune TARGET`: delete tags by retention rules, never a manifest that a
//! kept tag points at.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{Context as _, Result};
use futures::stream::{self, StreamExt as _};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::deletion::{
    check_can_confirm, confirm_and_execute, note_garbage_collection, plan, Action, RepoState,
};
use super::Context;
use crate::cli::PruneArgs;
use crate::exit::{Exit, UsageError};
use crate::output::{render, Row};
use crate::registry::manifest::{is_index, ImageConfig, ImageManifest, Index};
use crate::registry::manifests::MAX_MANIFEST_BODY;
use crate::registry::{Digest, Registry, RegistryError, RegistryTarget};

/// One tag and the decision about it.
#[derive(Debug, Serialize)]
struct Decision {
    repository: String,
    tag: String,
    digest: Digest,
    created: Option<String>,
    decision: &'static str,
    reason: String,
}

impl Row for Decision {
    fn headers(&self) -> Vec<&'static str> {
        vec!["REPOSITORY", "TAG", "DIGEST", "CREATED", "DECISION", "WHY"]
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.repository.clone(),
            self.tag.clone(),
            self.digest.to_string(),
            self.created.clone().unwrap_or_else(|| "-".into()),
            self.decision.to_string(),
            self.reason.clone(),
        ]
    }

    fn plain(&self) -> String {
        format!(
            "{} {}:{} {} {} ({})",
            self.decision,
            self.repository,
            self.tag,
            self.digest,
            self.created.as_deref().unwrap_or("-"),
            self.reason
        )
    }
}

pub async fn run(args: &PruneArgs, ctx: &Context) -> Result<Exit> {
    let target: RegistryTarget = args
        .target
        .parse()
        .map_err(|e: crate::registry::reference::ReferenceError| UsageError(e.to_string()))?;
    if args.keep.is_none() && args.older_than.is_none() && args.match_.is_none() {
        return Err(
            UsageError("prune needs a rule: --keep, --older-than or --match".into()).into(),
        );
    }
    check_can_confirm(args.yes, args.dry_run)?;
    let registry = ctx.registry(&target.registry)?;

    let repositories: Vec<String> = match registry.catalog().await {
        Ok(all) => all
            .into_iter()
            .filter(|r| target.contains(r) && crate::registry::reference::valid_repository(r))
            .collect(),
        Err(e @ RegistryError::Unsupported { .. }) => match &target.prefix {
            Some(prefix) => {
                ctx.printer
                    .warn(format!("{e}; pruning repository {prefix} alone"));
                vec![prefix.clone()]
            }
            None => return Err(e.into()),
        },
        Err(e) => return Err(e.into()),
    };
    if let Some(first) = repositories.first() {
        registry.probe_delete(first).await?;
    }

    let now = OffsetDateTime::now_utc();
    let mut decisions = Vec::new();
    let mut actions: Vec<Action> = Vec::new();
    for repository in &repositories {
        let state = RepoState::load(&registry, repository, ctx.concurrency)
            .await
            .with_context(|| format!("reading {}/{repository}", target.registry))?;
        let created = creation_times(&registry, &state, ctx.concurrency).await?;
        let repo_decisions = decide(args, &state, &created, now);
        let remove: BTreeSet<String> = repo_decisions
            .iter()
            .filter(|d| d.decision == "delete")
            .map(|d| d.tag.clone())
            .collect();
        actions.extend(plan(
            &target.registry,
            &state,
            &remove,
            &BTreeSet::new(),
            false,
        ));
        decisions.extend(repo_decisions);
    }

    render(ctx.format, &decisions).context("writing the plan")?;
    let undated = decisions.iter().filter(|d| d.created.is_none()).count();
    if undated > 0 {
        ctx.printer
            .note(format!("{undated} tags have no creation time and are kept"));
    }
    let summary = summarize(&actions);
    if args.dry_run {
        ctx.printer
            .note(format!("dry run: would remove {summary}; nothing changed"));
        return Ok(Exit::Success);
    }
    if actions.is_empty() {
        ctx.printer.note("nothing to delete");
        return Ok(Exit::Success);
    }
    let Some((outcomes, exit)) = confirm_and_execute(ctx, actions, args.yes).await? else {
        return Ok(Exit::Failure);
    };
    let removed_tags: usize = outcomes
        .iter()
        .filter(|o| o.outcome == "deleted" || o.outcome == "tag-removed")
        .map(|o| o.tags_removed.len())
        .sum();
    let manifests = outcomes.iter().filter(|o| o.outcome == "deleted").count();
    ctx.printer.note(format!(
        "removed {removed_tags} tags and deleted {manifests} manifests (planned: {summary})"
    ));
    note_garbage_collection(ctx, &outcomes);
    Ok(exit)
}

fn summarize(actions: &[Action]) -> String {
    let tags: usize = actions.iter().map(|a| a.tags_removed().len()).sum();
    let manifests = actions
        .iter()
        .filter(|a| matches!(a, Action::DeleteManifest { .. }))
        .count();
    let repositories: BTreeSet<&str> = actions.iter().map(Action::repository).collect();
    format!(
        "{tags} tags, {manifests} manifests, in {} repositories",
        repositories.len()
    )
}

/// The decision for each tag of one repository.
fn decide(
    args: &PruneArgs,
    state: &RepoState,
    created: &std::collections::HashMap<Digest, Option<OffsetDateTime>>,
    now: OffsetDateTime,
) -> Vec<Decision> {
    let mut decisions = Vec::new();
    let mut candidates: Vec<(&String, &Digest, OffsetDateTime)> = Vec::new();
    for (tag, digest) in &state.tags {
        let when = created.get(digest).copied().flatten();
        let decision = |decision: &'static str, reason: String| Decision {
            repository: state.repository.clone(),
            tag: tag.clone(),
            digest: digest.clone(),
            created: when.and_then(|t| t.format(&Rfc3339).ok()),
            decision,
            reason,
        };
        if args.match_.as_ref().is_some_and(|re| !re.is_match(tag)) {
            decisions.push(decision("keep", "does not match --match".into()));
        } else if args.exclude.as_ref().is_some_and(|re| re.is_match(tag)) {
            decisions.push(decision("keep", "matches --exclude".into()));
        } else if let Some(when) = when {
            candidates.push((tag, digest, when));
        } else {
            decisions.push(decision("keep", "no creation time".into()));
        }
    }
    // Newest first; equal times by name, so the plan is the same on every run.
    candidates.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| b.0.cmp(a.0)));
    for (rank, (tag, digest, when)) in candidates.into_iter().enumerate() {
        let age = now - when;
        let (decision, reason) = match (args.keep, args.older_than) {
            (Some(keep), _) if rank < keep => ("keep", format!("among the newest {keep}")),
            (_, Some(limit)) if age < limit => ("keep", format!("newer than {}", human(limit))),
            (_, Some(limit)) => ("delete", format!("older than {}", human(limit))),
            (Some(keep), None) => ("delete", format!("not among the newest {keep}")),
            (None, None) => ("delete", "matches --match".into()),
        };
        decisions.push(Decision {
            repository: state.repository.clone(),
            tag: tag.clone(),
            digest: digest.clone(),
            created: when.format(&Rfc3339).ok(),
            decision,
            reason,
        });
    }
    decisions.sort_by(|a, b| a.tag.cmp(&b.tag));
    decisions
}

fn human(d: Duration) -> String {
    let secs = d.as_secs();
    for (unit, size) in [("w", 604_800), ("d", 86_400), ("h", 3600), ("m", 60)] {
        if secs % size == 0 {
            return format!("{}{unit}", secs / size);
        }
    }
    format!("{secs}s")
}

/// Creation time of each tagged manifest: the config's `created`, or for an
/// index the newest of its children's. `None` when there is none to read.
async fn creation_times(
    registry: &Registry,
    state: &RepoState,
    concurrency: usize,
) -> Result<std::collections::HashMap<Digest, Option<OffsetDateTime>>, RegistryError> {
    let digests: BTreeSet<&Digest> = state.tags.values().collect();
    let repository = state.repository.as_str();
    stream::iter(digests)
        .map(|digest| async move {
            let when = created(registry, repository, digest, true).await?;
            Ok::<_, RegistryError>((digest.clone(), when))
        })
        .buffer_unordered(concurrency)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

async fn created(
    registry: &Registry,
    repository: &str,
    digest: &Digest,
    follow_index: bool,
) -> Result<Option<OffsetDateTime>, RegistryError> {
    let manifest = registry
        .get_manifest(repository, &digest.to_string())
        .await?;
    if is_index(&manifest.media_type) {
        if !follow_index {
            return Ok(None);
        }
        let Ok(index) = serde_json::from_slice::<Index>(&manifest.bytes) else {
            return Ok(None);
        };
        let mut newest = None;
        for child in &index.manifests {
            let when = Box::pin(created(registry, repository, &child.digest, false)).await;
            match when {
                Ok(w) => newest = newest.max(w),
                Err(RegistryError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        return Ok(newest);
    }
    let Ok(image) = serde_json::from_slice::<ImageManifest>(&manifest.bytes) else {
        return Ok(None);
    };
    let config = match registry
        .get_blob(repository, &image.config.digest, MAX_MANIFEST_BODY)
        .await
    {
        Ok(bytes) => bytes,
        Err(RegistryError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let config: ImageConfig = serde_json::from_slice(&config).unwrap_or_default();
    Ok(config
        .created
        .and_then(|c| OffsetDateTime::parse(&c, &Rfc3339).ok()))
}
