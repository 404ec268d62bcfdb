//! `regctl prune TARGET`: delete images by retention rules. Decided per image
//! (never a tag whose image stays); attachments and index children go with their
//! image.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use anyhow::{Context as _, Result};
use futures_util::stream::{self, StreamExt as _};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::context::{add_uncatalogued, Invocation};
use super::deletion::{
    check_can_confirm, confirm_and_execute, note_bytes_freed, note_garbage_collection, note_plan,
    render_outcomes, rest_of_registry, ActionKind, FreedScope, OutcomeKind, OutcomeRow,
    DRY_RUN_UNCHECKED,
};
use super::prune_report::{self, ReportLine};
use super::prune_rules::{self, Selection};
use crate::cli::PruneArgs;
use crate::deletion::protect::Protection;
use crate::deletion::retention::{self, DeleteReason, ImageDecision, KeepReason, Order, Verdict};
use crate::deletion::{Action, Cause, Plan, Request};
use crate::exit::{Exit, UsageError};
use crate::graph::{Cache, Created, Depth, Loader, Snapshot, Undated};
use crate::output::{count, count_with, render_data, Row};
use crate::registry::{Digest, RegistryError, RegistryTarget};

/// Keep or delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
enum Decision {
    Keep,
    Delete,
}

impl Decision {
    fn as_str(self) -> &'static str {
        match self {
            Decision::Keep => "keep",
            Decision::Delete => "delete",
        }
    }
}

/// One line of prune's plan: an image and the decision about it, or a manifest
/// that goes with a deleted image.
#[derive(Debug, Serialize)]
struct PlanLine {
    /// The registry host: plain and table lines give whole references, as rm's do.
    #[serde(skip)]
    host: String,
    repository: String,
    /// None for a dangling tag (its manifest is missing).
    digest: Option<Digest>,
    tags: Vec<String>,
    created: Option<String>,
    decision: Decision,
    /// `remove-tag` when the manifest stays (an index needs it); none for a kept
    /// image.
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<ActionKind>,
    reason: String,
    /// The image's group, with `--group` or a rule's `group`.
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<String>,
    /// The policy rule that decided, with `--policy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<String>,
    /// For children and attachments: the manifest they belong to.
    #[serde(skip_serializing_if = "Option::is_none")]
    of: Option<Digest>,
    /// Bytes the garbage collector frees once this is deleted; null when it
    /// deletes no manifest.
    bytes_freed: Option<u64>,
}

impl Row for PlanLine {
    fn headers(&self) -> Vec<&'static str> {
        vec![
            "REPOSITORY",
            "DIGEST",
            "TAGS",
            "CREATED",
            "DECISION",
            "WHY",
            "FREES",
        ]
    }

    fn cells(&self) -> Vec<String> {
        let indent = if self.of.is_some() { "  " } else { "" };
        vec![
            format!("{}/{}", self.host, self.repository),
            format!("{indent}{}", digest_or_dash(&self.digest)),
            self.tags.join(", "),
            self.created.clone().unwrap_or_else(|| "-".into()),
            self.decision.as_str().to_string(),
            self.reason.clone(),
            self.bytes_freed
                .map(crate::output::human_bytes)
                .unwrap_or_default(),
        ]
    }

    fn plain(&self) -> String {
        let reference = match (&self.digest, self.tags.first()) {
            (Some(digest), _) => format!("{}/{}@{digest}", self.host, self.repository),
            (None, Some(tag)) => format!("{}/{}:{tag}", self.host, self.repository),
            (None, None) => format!("{}/{}", self.host, self.repository),
        };
        format!(
            "{} {reference} [{}] {} ({}{})",
            self.decision.as_str(),
            self.tags.join(", "),
            self.created.as_deref().unwrap_or("-"),
            self.reason,
            self.bytes_freed
                .map(|b| format!("; frees {b} bytes"))
                .unwrap_or_default()
        )
    }
}

/// One repository's decisions, plan, orphan count, what was read of it, and
/// the policy rule that decided (with `--policy`).
type Planned = (Vec<ImageDecision>, Plan, usize, Snapshot, Option<String>);

/// Runs `regctl prune`: decides per image, plans, asks, carries it out.
/// `password_stdin` is the global flag: standard input was read for the password.
pub async fn run(args: &PruneArgs, password_stdin: bool, ctx: &Invocation) -> Result<Exit> {
    let target = super::context::parse_target(&args.target)?;
    // Rules and protection are read whole before the registry is asked anything.
    let selection = prune_rules::select(args)?;
    let protection = prune_rules::protection(args, password_stdin, &selection, &ctx.printer)?;
    if !args.check {
        check_can_confirm(args.yes, args.dry_run)?;
    }
    let registry = ctx.registry(&target.registry).await?;
    let mut repositories = super::context::catalogued(ctx, &registry, &target, "pruning").await?;
    if repositories.is_empty()
        && !add_uncatalogued(ctx, &registry, &target, &mut repositories).await?
    {
        return Ok(Exit::NotFound);
    }
    if args.check {
        return check_policy(ctx, &selection, &target.registry, &repositories);
    }
    if !args.dry_run {
        if let Some(first) = repositories.first() {
            registry.probe_delete(first).await?;
        }
    }
    let cache = Cache::default();
    let loader = Loader {
        registry: &registry,
        concurrency: ctx.concurrency,
        cache: &cache,
    };
    let read = plan_each(
        ctx,
        args,
        (&selection, &protection),
        &loader,
        &target.registry,
        &repositories,
    )
    .await?;
    let (lines, plans, orphans, scope) = reckon(&loader, &target, read).await;
    if let Some(path) = &args.report {
        std::fs::write(
            path,
            prune_report::markdown(&target.registry, &report_lines(&lines)),
        )
        .with_context(|| format!("writing the report {}", path.display()))?;
        ctx.printer
            .note(format!("report written to {}", path.display()));
    }

    // stdout holds the plan in a dry run, and what happened in a real one.
    if args.dry_run {
        render_data(ctx.format, &lines).context("writing the plan")?;
    }
    note_plan(ctx, &target.registry, &plans);
    note_bytes_freed(ctx, &plans, &scope);
    note_kept(ctx, args, &lines, orphans);
    let summary = summarize(&plans);
    if let Some(max) = args.max_delete {
        let images: usize = plans.iter().map(Plan::images_deleted).sum();
        if images > max {
            return Err(UsageError(format!(
                "the plan deletes {}, more than --max-delete {max}; nothing changed",
                count(images, "image")
            ))
            .into());
        }
    }
    if args.dry_run {
        ctx.printer
            .note(format!("dry run: would remove {summary}; nothing changed"));
        ctx.printer.note(DRY_RUN_UNCHECKED);
        return Ok(Exit::Success);
    }
    if let Some(refused) = refuse_emptying(ctx, args, &target.registry, &plans) {
        return Ok(refused);
    }
    carry_out(ctx, args, &loader, plans, &summary).await
}

/// Each repository read (with creation times), decided by the rules and
/// planned, a few at a time.
async fn plan_each(
    ctx: &Invocation,
    args: &PruneArgs,
    (selection, protection): (&Selection, &Protection),
    loader: &Loader<'_>,
    host: &str,
    repositories: &[String],
) -> Result<Vec<Planned>> {
    // A repository no rule of the policy covers is left alone, and not read.
    let covered: Vec<(&String, retention::Rules, Option<String>)> = repositories
        .iter()
        .filter_map(|repository| {
            let (mut rules, rule) = selection.for_repository(repository)?;
            rules.protected = protection.for_repository(host, repository);
            Some((repository, rules, rule))
        })
        .collect();
    // Dangling tags (listed, on a manifest the registry does not serve) go too:
    // nothing can be pulled through them.
    let request = |decisions: &[ImageDecision], snapshot: &Snapshot| Request {
        remove_tags: decisions
            .iter()
            .filter(|d| matches!(d.verdict, Verdict::Delete(_)))
            .flat_map(|d| d.tags.iter().cloned())
            .chain(snapshot.dangling_tags.iter().cloned())
            .collect(),
        keep_attachments: args.keep_attachments,
        orphans: args.orphans,
        ..Request::default()
    };
    let now = OffsetDateTime::now_utc();
    let planned: Vec<Result<Planned, RegistryError>> = stream::iter(&covered)
        .map(|(repository, rules, rule)| {
            let request = &request;
            async move {
                let mut snapshot = loader.snapshot(repository, Depth { created: true }).await?;
                let decisions = retention::decide(&snapshot, rules, now);
                let request = request(&decisions, &snapshot);
                let plan =
                    crate::deletion::plan_with_referrers(loader, &mut snapshot, &request).await?;
                let orphans = snapshot.orphans().len();
                Ok((decisions, plan, orphans, snapshot, rule.clone()))
            }
        })
        .buffered(ctx.concurrency.clamp(1, 8))
        .collect()
        .await;
    let mut read = Vec::new();
    for ((repository, _, _), result) in covered.iter().zip(planned) {
        read.push(result.with_context(|| format!("reading {host}/{repository}"))?);
    }
    Ok(read)
}

/// What each deletion frees, over the whole registry as its collector sees it
/// (for a prefix, the other repositories' manifests read too); the plan's
/// lines, the plans with something to do, the orphans seen, and the scope of
/// the freed figure.
async fn reckon(
    loader: &Loader<'_>,
    target: &RegistryTarget,
    read: Vec<Planned>,
) -> (Vec<PlanLine>, Vec<Plan>, usize, FreedScope) {
    let mine: Vec<&Snapshot> = read.iter().map(|(_, _, _, s, _)| s).collect();
    let (others, scope) = match &target.prefix {
        None => (Vec::new(), FreedScope::Registry(target.registry.clone())),
        Some(_) => rest_of_registry(loader, &mine).await,
    };
    let snapshots: Vec<&Snapshot> = mine.into_iter().chain(&others).collect();
    let all_plans: Vec<&Plan> = read.iter().map(|(_, p, _, _, _)| p).collect();
    let freed = crate::deletion::freed::freed(&snapshots, &all_plans);
    let mut lines = Vec::new();
    let mut plans = Vec::new();
    let mut orphans = 0;
    for ((decisions, mut plan, orphan_count, snapshot, rule), freed) in read.into_iter().zip(freed)
    {
        plan.freed = freed;
        let mut these = plan_lines(&target.registry, &snapshot.repository, &decisions, &plan);
        for line in &mut these {
            line.rule.clone_from(&rule);
        }
        lines.extend(these);
        orphans += orphan_count;
        if !plan.actions.is_empty() {
            plans.push(plan);
        }
    }
    (lines, plans, orphans, scope)
}

/// Says what was kept for want of a date, and the orphans left.
fn note_kept(ctx: &Invocation, args: &PruneArgs, lines: &[PlanLine], orphans: usize) {
    let undated = lines
        .iter()
        .filter(|l| l.of.is_none() && l.created.is_none() && l.decision == Decision::Keep)
        .count();
    if undated > 0 {
        ctx.printer.note(format!(
            "{} no creation time and kept",
            count_with(undated, "image", ("has", "have"))
        ));
    }
    if orphans > 0 && !args.orphans {
        ctx.printer.note(format!(
            "{} no subject any more (orphans); --orphans deletes them",
            count_with(orphans, "attachment", ("has", "have"))
        ));
    }
}

/// `Some(exit)` when `--yes` would leave a repository with no tag and that was
/// not allowed (said on stderr); nothing changes then.
fn refuse_emptying(ctx: &Invocation, args: &PruneArgs, host: &str, plans: &[Plan]) -> Option<Exit> {
    let emptied: Vec<String> = plans
        .iter()
        .filter(|p| p.leaves_no_tags)
        .map(|p| format!("{host}/{}", p.repository))
        .collect();
    if !args.yes || args.allow_empty_repositories || emptied.is_empty() {
        return None;
    }
    ctx.printer.error(format!(
        "refused: the plan leaves {} with no tag ({}); nothing changed. Check the rules \
         with --dry-run, or add --allow-empty-repositories if that is meant",
        count(emptied.len(), "repository"),
        crate::output::first_few(&emptied, 5)
    ));
    Some(Exit::Refused)
}

/// Confirms and carries out `plans`, then reports what was done.
async fn carry_out(
    ctx: &Invocation,
    args: &PruneArgs,
    loader: &Loader<'_>,
    plans: Vec<Plan>,
    summary: &str,
) -> Result<Exit> {
    if plans.is_empty() {
        render_data(ctx.format, &[] as &[OutcomeRow]).context("writing the outcome")?;
        ctx.printer.note("nothing to delete");
        return Ok(Exit::Success);
    }
    let Some((outcomes, exit)) =
        confirm_and_execute(ctx, loader.registry, loader, plans, args.yes, &|_, _| None).await?
    else {
        // The confirmation was declined: nothing was deleted.
        return Ok(Exit::Refused);
    };
    render_outcomes(ctx.format, &outcomes).context("writing the outcome")?;
    let removed_tags: usize = outcomes
        .iter()
        .filter(|o| o.outcome.removed_something())
        .map(|o| o.tags_removed.len())
        .sum();
    let manifests = outcomes
        .iter()
        .filter(|o| o.outcome == OutcomeKind::Deleted)
        .count();
    ctx.printer.note(format!(
        "removed {} and deleted {} (planned: {summary})",
        count(removed_tags, "tag"),
        count(manifests, "manifest")
    ));
    note_garbage_collection(ctx, &outcomes);
    Ok(exit)
}

fn summarize(plans: &[Plan]) -> String {
    let tags: usize = plans.iter().map(|p| p.tags_removed().len()).sum();
    let manifests: usize = plans.iter().map(|p| p.deleted().len()).sum();
    let images: usize = plans.iter().map(Plan::images_deleted).sum();
    format!(
        "{} ({}, {}) in {}",
        count(images, "image"),
        count(manifests, "manifest"),
        count(tags, "tag"),
        count(plans.len(), "repository")
    )
}

/// The decision lines of one repository, each deleted image followed by what
/// goes with it.
fn plan_lines(
    host: &str,
    repository: &str,
    decisions: &[ImageDecision],
    plan: &Plan,
) -> Vec<PlanLine> {
    let (acting_on, dependents_of) = by_digest(plan);
    let decided: HashSet<&Digest> = decisions.iter().map(|d| &d.digest).collect();
    let mut lines = Vec::new();
    // Every action is shown, once: under its image, under the orphan it goes
    // with, or on a line of its own.
    let mut shown: HashSet<usize> = HashSet::new();
    // The lines of what goes with the action at `i`, recursively; a child that
    // is an image of its own has its own line already.
    let with = |i: usize, lines: &mut Vec<PlanLine>, shown: &mut HashSet<usize>| {
        let mut parents: Vec<&Digest> = plan.actions[i].digest().into_iter().collect();
        while let Some(parent) = parents.pop() {
            for &j in dependents_of.get(parent).into_iter().flatten() {
                let line = dependent_line(host, repository, plan, j);
                if !line.digest.as_ref().is_some_and(|d| decided.contains(d)) && shown.insert(j) {
                    lines.push(line);
                }
                parents.extend(plan.actions[j].digest());
            }
        }
    };
    for decision in decisions {
        let at = acting_on.get(&decision.digest).copied();
        shown.extend(at);
        lines.push(decision_line(host, repository, decision, plan, at));
        if let (Verdict::Delete(_), Some(i)) = (&decision.verdict, at) {
            with(i, &mut lines, &mut shown);
        }
    }
    // Orphans, each followed by what goes with it (its own attachments, an
    // orphaned referrers index's entries), then whatever else the plan does.
    for i in 0..plan.actions.len() {
        let orphan = matches!(
            plan.actions[i],
            Action::DeleteManifest {
                cause: Cause::Orphan(..),
                ..
            }
        );
        if orphan && shown.insert(i) {
            lines.push(dependent_line(host, repository, plan, i));
            with(i, &mut lines, &mut shown);
        }
    }
    for i in 0..plan.actions.len() {
        if shown.insert(i) {
            lines.push(dependent_line(host, repository, plan, i));
            with(i, &mut lines, &mut shown);
        }
    }
    lines
}

/// Looked up by digest, once: the action on each manifest (not the rewrite of a
/// referrers index, which names the index it replaces), and the children and
/// attachments deleted with each.
fn by_digest(plan: &Plan) -> (HashMap<&Digest, usize>, HashMap<&Digest, Vec<usize>>) {
    let mut acting_on: HashMap<&Digest, usize> = HashMap::new();
    let mut dependents_of: HashMap<&Digest, Vec<usize>> = HashMap::new();
    for (i, action) in plan.actions.iter().enumerate() {
        if let Some(digest) = action.digest() {
            if !matches!(action, Action::RewriteReferrersIndex { .. }) {
                acting_on.entry(digest).or_insert(i);
            }
        }
        if let Action::DeleteManifest {
            cause: Cause::ChildOf(parent) | Cause::AttachmentOf(parent, _),
            ..
        } = action
        {
            dependents_of.entry(parent).or_default().push(i);
        }
    }
    (acting_on, dependents_of)
}

/// The line of one image's decision, with the action `at` (an index into the
/// plan's actions) that carries it out, if any.
fn decision_line(
    host: &str,
    repository: &str,
    decision: &ImageDecision,
    plan: &Plan,
    at: Option<usize>,
) -> PlanLine {
    let action = at.map(|i| &plan.actions[i]);
    let (verdict, mut reason) = match &decision.verdict {
        Verdict::Keep(reason) => (Decision::Keep, keep_reason(reason)),
        Verdict::Delete(reason) => (Decision::Delete, delete_reason(reason)),
    };
    reason += &ranking_note(decision);
    // Why only the tags go, as the plan found it (never a reason it did not).
    if let Some(Action::RemoveTag { in_index, keep, .. }) = action {
        reason += if *in_index {
            "; an index needs the manifest, so only its tags go"
        } else if !keep.is_empty() {
            "; other tags stay on the manifest, so only these go"
        } else {
            "; the repository has tags or manifests regctl cannot read or verify, one \
             may point at the manifest, so only its tags go"
        };
    }
    PlanLine {
        host: host.to_string(),
        repository: repository.to_string(),
        digest: Some(decision.digest.clone()),
        tags: decision.tags.clone(),
        created: created_text(&decision.created),
        decision: verdict,
        action: action.map(ActionKind::of),
        reason,
        group: decision.group.clone(),
        rule: None,
        of: None,
        bytes_freed: at.and_then(|i| plan.bytes_freed(i)),
    }
}

/// The line for the `i`th action of `plan`, deleted along with something else.
fn dependent_line(host: &str, repository: &str, plan: &Plan, i: usize) -> PlanLine {
    let action = &plan.actions[i];
    let row = super::deletion::PlanRow::new("", repository, action);
    PlanLine {
        host: host.to_string(),
        repository: repository.to_string(),
        digest: action.digest().cloned(),
        tags: action.tags_removed(),
        created: None,
        decision: Decision::Delete,
        action: Some(row.action),
        reason: row.why(),
        group: None,
        rule: None,
        of: row.of.or_else(|| action.digest().cloned()),
        bytes_freed: plan.bytes_freed(i),
    }
}

fn digest_or_dash(digest: &Option<Digest>) -> String {
    digest
        .as_ref()
        .map_or_else(|| "-".into(), Digest::to_string)
}

fn created_text(created: &Created) -> Option<String> {
    match created {
        Created::At(t) => t.format(&Rfc3339).ok(),
        Created::Unknown(_) => None,
    }
}

fn keep_reason(reason: &KeepReason) -> String {
    match reason {
        KeepReason::Newest(n) => format!("among the newest {n}"),
        KeepReason::NewerThan(limit) => format!("newer than {}", human(*limit)),
        KeepReason::NotMatched(tag) => format!("tag {tag} does not match --match"),
        KeepReason::Excluded(tag) => format!("tag {tag} matches --exclude"),
        KeepReason::KeepTag(tag) => format!("tag {tag} matches --keep-tags"),
        KeepReason::Protected(source) => format!("protected: named by {source}"),
        KeepReason::PlatformOf(index) => {
            format!("a platform of {index}, which is tagged: it follows that index")
        }
        KeepReason::Undated(why) => format!("no creation time: {}", undated_text(why)),
        KeepReason::AttachedTo(subject) => {
            format!("also an attachment of {subject}, which stays with it")
        }
    }
}

/// What ranked the image, for a verdict that came from its rank: its group,
/// its semver tag, or why it ranks after the semver ones.
fn ranking_note(decision: &ImageDecision) -> String {
    let ranked = matches!(
        decision.verdict,
        Verdict::Keep(KeepReason::Newest(_) | KeepReason::NewerThan(_)) | Verdict::Delete(_)
    );
    if !ranked {
        return String::new();
    }
    let mut note = String::new();
    if let Some(group) = &decision.group {
        note += &format!(" of group {group}");
    }
    match (&decision.semver, decision.order) {
        (Some(tag), _) => note += &format!(" (by semver: {tag})"),
        (None, Order::Semver) => note += " (no semver tag: ranked by date, after those with one)",
        (None, Order::Date) => {}
    }
    note
}

/// The plan's lines as the Markdown report shows them.
fn report_lines(lines: &[PlanLine]) -> Vec<ReportLine> {
    lines
        .iter()
        .map(|l| ReportLine {
            repository: l.repository.clone(),
            digest: l.digest.as_ref().map(Digest::to_string),
            tags: l.tags.clone(),
            created: l.created.clone(),
            delete: l.decision == Decision::Delete,
            reason: l.reason.clone(),
            rule: l.rule.clone(),
            bytes_freed: l.bytes_freed,
            along: l.of.is_some(),
        })
        .collect()
}

/// `--policy FILE --check`: which rule each repository falls under (only the
/// catalog was read).
fn check_policy(
    ctx: &Invocation,
    selection: &Selection,
    host: &str,
    repositories: &[String],
) -> Result<Exit> {
    #[derive(Serialize)]
    struct Covered {
        #[serde(skip)]
        host: String,
        repository: String,
        rule: Option<String>,
    }
    impl Row for Covered {
        fn headers(&self) -> Vec<&'static str> {
            vec!["REPOSITORY", "RULE"]
        }
        fn cells(&self) -> Vec<String> {
            vec![
                format!("{}/{}", self.host, self.repository),
                self.rule
                    .clone()
                    .unwrap_or_else(|| "- (no rule: left alone)".into()),
            ]
        }
        fn plain(&self) -> String {
            let rule = self.rule.as_deref().unwrap_or("-");
            format!("{}/{} {rule}", self.host, self.repository)
        }
    }
    let rows: Vec<Covered> = repositories
        .iter()
        .map(|repository| Covered {
            host: host.to_string(),
            repository: repository.clone(),
            rule: selection
                .for_repository(repository)
                .and_then(|(_, rule)| rule),
        })
        .collect();
    render_data(ctx.format, &rows).context("writing the rules")?;
    let uncovered = rows.iter().filter(|r| r.rule.is_none()).count();
    ctx.printer.note(format!(
        "the policy is valid; {} under a rule, {} left alone",
        count(rows.len() - uncovered, "repository"),
        count(uncovered, "repository")
    ));
    Ok(Exit::Success)
}

fn undated_text(why: &Undated) -> String {
    match why {
        Undated::NoCreatedField => "the config has no valid `created`".into(),
        Undated::ConfigTooLarge => "the config is larger than regctl reads".into(),
        Undated::ConfigNotJson => "the config is not JSON".into(),
        Undated::ConfigUnreadable => "the config could not be read".into(),
        Undated::NotAnImageConfig(t) => {
            format!("an artifact with config type {}", crate::output::escape(t))
        }
        Undated::ConfigMissing => "the config blob is missing".into(),
        Undated::UnreadableManifest => "the manifest could not be read".into(),
        Undated::NoDatedChild => "no platform of the index has a creation time".into(),
        Undated::ImplausibleDate(t) => format!(
            "its date {} cannot be true (before 1981, as reproducible builds write, or more \
             than a day ahead of the clock)",
            t.format(&Rfc3339).unwrap_or_default()
        ),
    }
}

fn delete_reason(reason: &DeleteReason) -> String {
    match reason {
        DeleteReason::NotAmongNewest(n) => format!("not among the newest {n}"),
        DeleteReason::OlderThan(limit) => format!("older than {}", human(*limit)),
    }
}

fn human(d: Duration) -> String {
    let secs = d.as_secs();
    for (unit, size) in [("w", 604_800), ("d", 86_400), ("h", 3600), ("m", 60)] {
        if secs.is_multiple_of(size) {
            return format!("{}{unit}", secs / size);
        }
    }
    format!("{secs}s")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deletion::retention::Rules;
    use std::sync::Arc;

    /// A manifest that stays because the repository holds a tag regctl cannot
    /// verify is said to stay for that reason, never because of an index.
    #[test]
    fn only_tags_go_for_the_reason_the_plan_found() {
        let mut snapshot = Snapshot::new("murky");
        let bytes: Arc<[u8]> = Arc::from(&br#"{"schemaVersion":2}"#[..]);
        let digest = Digest::sha256_of(&bytes);
        snapshot.manifests.insert(
            digest.clone(),
            crate::graph::Node::from_bytes(crate::registry::media::OCI_MANIFEST, bytes),
        );
        snapshot.tags.insert("old".into(), digest.clone());
        snapshot.unresolved_tags.push("unverifiable".into());
        let created = time::macros::datetime!(2023-01-01 0:00 UTC);
        snapshot
            .created
            .insert(digest.clone(), Created::At(created));
        let rules = Rules {
            older_than: Some(Duration::from_secs(86_400)),
            ..Rules::default()
        };
        let decisions = retention::decide(&snapshot, &rules, created + time::Duration::days(60));
        let request = Request {
            remove_tags: ["old".to_string()].into(),
            ..Request::default()
        };
        let plan = crate::deletion::plan(&snapshot, &request);
        let lines = plan_lines("registry.example", "murky", &decisions, &plan);
        let line = lines
            .iter()
            .find(|l| l.digest.as_ref() == Some(&digest))
            .unwrap();
        assert_eq!(line.action, Some(ActionKind::RemoveTag));
        assert!(
            line.reason.contains("cannot read or verify") && !line.reason.contains("index"),
            "{}",
            line.reason
        );
    }
}
