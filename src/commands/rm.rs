//! `regctl rm REF...`: delete by digest, or remove tags without touching the tags
//! that share their manifest; what belongs to a deleted manifest (index children,
//! signatures, SBOMs, referrers) goes with it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{Context as _, Result};

use super::context::Invocation;
use super::deletion::{
    check_can_confirm, confirm_and_execute, note_bytes_freed, note_garbage_collection, note_plan,
    plan_rows, render_outcomes, rest_of_registry, FreedScope, OutcomeKind, OutcomeRow, PlanRow,
    DRY_RUN_UNCHECKED,
};
use crate::cli::RmArgs;
use crate::deletion::resolve::{self, Named, Skip};
use crate::deletion::{Action, Cause, Plan, Refusal};
use crate::exit::Exit;
use crate::graph::{Cache, Depth, Loader, Snapshot};
use crate::output::{render_data, Row};
use crate::registry::{Digest, Reference, RegistryError};

/// Runs `regctl rm`: plans the removal of each reference, asks, carries it out.
pub async fn run(args: &RmArgs, ctx: &Invocation) -> Result<Exit> {
    let parsed = parse(args, ctx)?;
    check_can_confirm(args.yes, args.dry_run)?;
    let references = ctx.resolve_prefixes(parsed).await?;

    // Each reference with the text the user gave for it: results name it so.
    let mut groups: BTreeMap<(String, String), Vec<(&Reference, &str)>> = BTreeMap::new();
    for (r, given) in references.iter().zip(&args.references) {
        groups
            .entry((r.registry().to_string(), r.repository().to_string()))
            .or_default()
            .push((r, given.as_str()));
    }
    // Before anything changes (and never in a dry run): does each registry delete at all?
    if !args.dry_run {
        let mut probed = BTreeSet::new();
        for (host, repository) in groups.keys() {
            if probed.insert(host.clone()) {
                ctx.registry(host).await?.probe_delete(repository).await?;
            }
        }
    }

    // One registry per run (checked when parsing, with run-wide credentials);
    // plans are kept per registry host.
    let mut planned = Planned {
        by_host: BTreeMap::new(),
        scopes: BTreeMap::new(),
        skipped: Vec::new(),
        attribution: Attribution::new(&references, &args.references),
        cache: Cache::default(),
    };
    let mut read: BTreeMap<String, Vec<Snapshot>> = BTreeMap::new();
    for ((host, repository), refs) in &groups {
        let registry = ctx.registry(host).await?;
        let loader = Loader {
            registry: &registry,
            concurrency: ctx.concurrency,
            cache: &planned.cache,
        };
        let (plan, snapshot, refused) = plan_repository(
            &loader,
            host,
            repository,
            refs,
            args,
            &mut planned.attribution,
        )
        .await
        .with_context(|| format!("reading {host}/{repository}"))?;
        planned.skipped.extend(refused);
        if !plan.actions.is_empty() {
            planned.by_host.entry(host.clone()).or_default().push(plan);
        }
        read.entry(host.clone()).or_default().push(snapshot);
    }
    planned.scopes = reckon_freed(ctx, &planned.cache, &mut planned.by_host, &read).await?;
    report_skipped(ctx, args, &planned.skipped);
    let skipped_exit = skipped_exit(&planned.skipped, args.ignore_missing);
    let exit = if args.dry_run {
        dry_run(ctx, planned)?;
        Exit::Success
    } else {
        carry_out(ctx, args, planned).await?
    };
    Ok(if exit == Exit::Success {
        skipped_exit
    } else {
        exit
    })
}

/// The references as given, checked before any request: each names its
/// registry (else it would mean Docker Hub) and a tag or digest (`REPO` alone
/// would mean `:latest`, an empty `$TAG` away from the wrong image).
fn parse(args: &RmArgs, ctx: &Invocation) -> Result<Vec<(Reference, Option<String>)>> {
    if let Some(input) = args
        .references
        .iter()
        .find(|i| !crate::registry::reference::names_registry(i))
    {
        return Err(crate::exit::UsageError(format!(
            "`{input}` names no registry, so docker would read it as Docker Hub; rm deletes only \
             where the registry is named: write it (registry.example:5000/{input}, or \
             docker.io/{input} for Docker Hub)"
        ))
        .into());
    }
    let parsed = ctx.parse_with_prefixes(&args.references)?;
    if let Some((_, input)) = parsed
        .iter()
        .zip(&args.references)
        .find(|((r, prefix), _)| r.tag().is_none() && r.digest().is_none() && prefix.is_none())
    {
        return Err(crate::exit::UsageError(format!(
            "`{}` names no tag or digest; rm removes only what is written: add :TAG (e.g. \
             {}:latest) or @DIGEST",
            crate::output::escape(input),
            crate::output::escape(input)
        ))
        .into());
    }
    Ok(parsed)
}

/// What was planned, per registry host, and what is not acted on.
struct Planned {
    by_host: BTreeMap<String, Vec<Plan>>,
    /// What each host's freed bytes were reckoned over.
    scopes: BTreeMap<String, FreedScope>,
    skipped: Vec<OutcomeRow>,
    attribution: Attribution,
    cache: Cache,
}

/// Each reference not acted on, on stderr (a missing one only noted with
/// `--ignore-missing`).
fn report_skipped(ctx: &Invocation, args: &RmArgs, skipped: &[OutcomeRow]) {
    for s in skipped {
        if s.outcome == OutcomeKind::Missing && args.ignore_missing {
            // Reported once: on stdout after a real run; here, for a dry run.
            if args.dry_run {
                ctx.printer
                    .note(format!("missing (ignored): {}", s.reference));
            }
            continue;
        }
        ctx.printer.error(super::context::about(
            &s.reference,
            s.error.as_deref().unwrap_or(s.outcome.as_str()),
        ));
    }
}

/// The plan on stdout, every reference answered (those not acted on too), in
/// the order given; nothing changes.
fn dry_run(ctx: &Invocation, planned: Planned) -> Result<()> {
    let attribution = &planned.attribution;
    let rows: Vec<PlanRow> = planned
        .by_host
        .iter()
        .flat_map(|(host, plans)| {
            let given = |repository: &str, action: &Action| {
                Some(attribution.given(host, repository, action))
            };
            plan_rows(host, plans, &given)
        })
        .collect();
    let count = rows.len();
    let mut report: Vec<DryRunRow> = rows
        .into_iter()
        .map(DryRunRow::Planned)
        .chain(planned.skipped.into_iter().map(DryRunRow::Skipped))
        .collect();
    report.sort_by_cached_key(|r| attribution.order(r.given()));
    render_data(ctx.format, &report).context("writing the plan")?;
    for (host, plans) in &planned.by_host {
        note_plan(ctx, host, plans);
        note_bytes_freed(ctx, plans, &planned.scopes[host]);
    }
    ctx.printer.note(format!(
        "dry run: {} planned, nothing changed",
        crate::output::count(count, "action")
    ));
    ctx.printer.note(DRY_RUN_UNCHECKED);
    Ok(())
}

/// Confirms and carries out each host's plans, then reports every reference's
/// outcome in the order given; the exit status of the changes.
async fn carry_out(ctx: &Invocation, args: &RmArgs, planned: Planned) -> Result<Exit> {
    let Planned {
        by_host,
        scopes,
        mut skipped,
        attribution,
        cache,
    } = planned;
    if by_host.is_empty() {
        skipped.sort_by_cached_key(|r| attribution.order(&r.given));
        render_data(ctx.format, &skipped).context("writing the outcome")?;
        return Ok(Exit::Success);
    }
    let mut outcomes = Vec::new();
    let mut exit = Exit::Success;
    for (host, plans) in by_host {
        note_plan(ctx, &host, &plans);
        note_bytes_freed(ctx, &plans, &scopes[&host]);
        let registry = ctx.registry(&host).await?;
        let loader = Loader {
            registry: &registry,
            concurrency: ctx.concurrency,
            cache: &cache,
        };
        let given =
            |repository: &str, action: &Action| Some(attribution.given(&host, repository, action));
        let Some((rows, host_exit)) =
            confirm_and_execute(ctx, &registry, &loader, plans, args.yes, &given).await?
        else {
            // The confirmation was declined: nothing was deleted.
            return Ok(Exit::Refused);
        };
        outcomes.extend(rows);
        if exit == Exit::Success {
            exit = host_exit;
        }
    }
    outcomes.extend(skipped);
    // In the order given; what belongs to a reference right after it.
    outcomes.sort_by_cached_key(|r| attribution.order(&r.given));
    render_outcomes(ctx.format, &outcomes).context("writing the outcome")?;
    note_garbage_collection(ctx, &outcomes);
    Ok(exit)
}

/// Reads one repository, resolves the references given for it
/// ([`crate::deletion::resolve`]) and plans; the plan, the repository as read,
/// and a row for each reference not acted on (or refused by the plan).
async fn plan_repository(
    loader: &Loader<'_>,
    host: &str,
    repository: &str,
    refs: &[(&Reference, &str)],
    args: &RmArgs,
    attribution: &mut Attribution,
) -> Result<(Plan, Snapshot, Vec<OutcomeRow>)> {
    let mut snapshot = loader.snapshot(repository, Depth::default()).await?;
    let named: Vec<Named<'_>> = refs
        .iter()
        .map(|(r, _)| Named {
            tag: r.tag(),
            digest: r.digest(),
        })
        .collect();
    // A manifest no tag reaches is looked up by digest, and read when there.
    let mut absent = BTreeSet::new();
    let mut present = Vec::new();
    for digest in resolve::unknown_digests(&snapshot, &named) {
        match loader
            .registry
            .head_manifest(repository, &(&digest).into())
            .await
        {
            Ok(_) => present.push(digest),
            Err(RegistryError::NotFound { .. }) => {
                absent.insert(digest);
            }
            Err(e) => return Err(e.into()),
        }
    }
    if !present.is_empty() {
        loader.read_digests(&mut snapshot, present).await?;
    }
    let resolution = resolve::resolve(
        &snapshot,
        &named,
        &absent,
        args.force,
        args.keep_attachments,
    );
    let mut rows: Vec<OutcomeRow> = resolution
        .skipped
        .iter()
        .map(|(position, skip)| {
            let (r, given) = refs[*position];
            skipped_row(host, repository, r, given, skip)
        })
        .collect();
    let plan =
        crate::deletion::plan_with_referrers(loader, &mut snapshot, &resolution.request).await?;
    attribution.learn(host, &plan);
    for refusal in &plan.refused {
        let Refusal::ReferencedByIndex { digest, index_tags } = refusal;
        rows.push(OutcomeRow {
            given: Some(attribution.named(host, repository, digest)),
            reference: format!("{host}/{repository}@{digest}"),
            outcome: OutcomeKind::Refused,
            digest: Some(digest.clone()),
            tags_removed: Vec::new(),
            error: Some(format!(
                "an index references it (tags: {}); deleting it would break them; pass --force to delete it anyway",
                index_tags.join(", ")
            )),
            streamed: false,
        });
    }
    Ok((plan, snapshot, rows))
}

/// The row of a reference not acted on, in the words `digest` and `inspect`
/// use for the same thing.
fn skipped_row(
    host: &str,
    repository: &str,
    r: &Reference,
    given: &str,
    skip: &Skip,
) -> OutcomeRow {
    let error = match skip {
        Skip::NoRepository => format!("repository {host}/{repository} not found"),
        Skip::NoTag => format!(
            "tag {host}/{repository}:{} not found",
            r.tag().unwrap_or("latest")
        ),
        Skip::NoManifest => format!(
            "manifest {host}/{repository}@{} not found",
            r.digest().map(ToString::to_string).unwrap_or_default()
        ),
        Skip::TagElsewhere { current } => format!(
            "the tag points at {current}, not at {}; nothing done",
            r.digest().map(ToString::to_string).unwrap_or_default()
        ),
        Skip::Unverified => "the registry lists this tag but does not serve a manifest that \
                             matches its digest; nothing done"
            .into(),
    };
    OutcomeRow {
        reference: given.to_string(),
        outcome: if skip.is_missing() {
            OutcomeKind::Missing
        } else {
            OutcomeKind::Refused
        },
        digest: r.digest().cloned(),
        tags_removed: Vec::new(),
        error: Some(error),
        given: Some(vec![given.to_string()]),
        streamed: false,
    }
}

/// What each host's plans free, over the whole registry as its collector sees
/// it (the other repositories' manifests read too), or an upper bound; the
/// plans are annotated, and the scope of each host's figure returned.
async fn reckon_freed(
    ctx: &Invocation,
    cache: &Cache,
    by_host: &mut BTreeMap<String, Vec<Plan>>,
    read: &BTreeMap<String, Vec<Snapshot>>,
) -> Result<BTreeMap<String, FreedScope>> {
    let mut scopes = BTreeMap::new();
    for (host, plans) in by_host.iter_mut() {
        let registry = ctx.registry(host).await?;
        let loader = Loader {
            registry: &registry,
            concurrency: ctx.concurrency,
            cache,
        };
        let mine: Vec<&Snapshot> = read.get(host).into_iter().flatten().collect();
        let (others, scope) = rest_of_registry(&loader, &mine).await;
        let snapshots: Vec<&Snapshot> = mine.into_iter().chain(&others).collect();
        crate::deletion::freed::annotate(&snapshots, plans);
        scopes.insert(host.clone(), scope);
    }
    Ok(scopes)
}

/// Exit status for references not acted on: 4 for missing ones (0 with
/// `--ignore-missing`), 1 for refused ones.
fn skipped_exit(skipped: &[OutcomeRow], ignore_missing: bool) -> Exit {
    if skipped.iter().any(|s| s.outcome == OutcomeKind::Refused) {
        Exit::Refused
    } else if skipped.iter().any(|s| s.outcome == OutcomeKind::Missing) && !ignore_missing {
        Exit::NotFound
    } else {
        Exit::Success
    }
}

/// A dry run's row: an action planned, or a reference that will not be acted on
/// (missing, refused), as a real run reports it.
#[derive(Debug, serde::Serialize)]
#[serde(untagged)]
enum DryRunRow {
    Planned(PlanRow),
    Skipped(OutcomeRow),
}

impl DryRunRow {
    fn given(&self) -> &Option<Vec<String>> {
        match self {
            DryRunRow::Planned(r) => &r.given,
            DryRunRow::Skipped(r) => &r.given,
        }
    }
}

/// Which of the references given each action answers: those that name its tag,
/// or its digest alone, and for a child or an attachment those of what it
/// belongs to. Rows are reported in the order of the first reference they answer.
struct Attribution {
    /// The references as given, by position.
    given: Vec<String>,
    /// By registry and repository.
    repositories: HashMap<(String, String), Positions>,
}

/// Positions (in the references given) within one repository.
#[derive(Default)]
struct Positions {
    /// Of the references naming each tag (with a digest or not).
    tags: HashMap<String, Vec<usize>>,
    /// Of the references naming each digest alone.
    digests: HashMap<Digest, Vec<usize>>,
    /// That each manifest the plan deletes answers.
    deleted: HashMap<Digest, Vec<usize>>,
}

impl Positions {
    /// What the deletion of each of `digests` answers, together, in order.
    fn deleted<'a>(&self, digests: impl IntoIterator<Item = &'a Digest>) -> Vec<usize> {
        let mut all: Vec<usize> = digests
            .into_iter()
            .flat_map(|d| self.deleted.get(d).into_iter().flatten().copied())
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }
}

impl Attribution {
    fn new(references: &[Reference], given: &[String]) -> Attribution {
        let mut repositories: HashMap<(String, String), Positions> = HashMap::new();
        for (position, r) in references.iter().enumerate() {
            let at = repositories
                .entry((r.registry().to_string(), r.repository().to_string()))
                .or_default();
            match (r.tag(), r.digest()) {
                (None, Some(digest)) => at.digests.entry(digest.clone()).or_default(),
                (tag, _) => at
                    .tags
                    .entry(tag.unwrap_or("latest").to_string())
                    .or_default(),
            }
            .push(position);
        }
        Attribution {
            given: given.to_vec(),
            repositories,
        }
    }

    fn at(&self, host: &str, repository: &str) -> Option<&Positions> {
        self.repositories
            .get(&(host.to_string(), repository.to_string()))
    }

    /// Learns what each manifest `plan` deletes answers (repeated until nothing
    /// changes: a referrers index may come before the referrers it listed).
    fn learn(&mut self, host: &str, plan: &Plan) {
        let Some(at) = self
            .repositories
            .get_mut(&(host.to_string(), plan.repository.clone()))
        else {
            return;
        };
        loop {
            let mut changed = false;
            for action in &plan.actions {
                let Action::DeleteManifest {
                    digest,
                    tags,
                    cause,
                    ..
                } = action
                else {
                    continue;
                };
                let belongs_to: Vec<&Digest> = match cause {
                    Cause::ChildOf(parent) | Cause::AttachmentOf(parent, _) => vec![parent],
                    Cause::EmptyReferrersIndex { dropped, .. } => dropped.iter().collect(),
                    Cause::Named | Cause::AllTagsRemoved | Cause::Orphan(..) => Vec::new(),
                };
                let mut positions = at.deleted(belongs_to);
                positions.extend(at.digests.get(digest).into_iter().flatten());
                for tag in tags {
                    positions.extend(at.tags.get(tag).into_iter().flatten());
                }
                positions.sort_unstable();
                positions.dedup();
                let entry = at.deleted.entry(digest.clone()).or_default();
                if *entry != positions {
                    *entry = positions;
                    changed = true;
                }
            }
            if !changed {
                return;
            }
        }
    }

    /// The references given that `action` answers, as typed.
    fn given(&self, host: &str, repository: &str, action: &Action) -> Vec<String> {
        let Some(at) = self.at(host, repository) else {
            return Vec::new();
        };
        let positions: Vec<usize> = match action {
            Action::DeleteManifest { digest, .. } => at.deleted([digest]),
            Action::RemoveTag { tag, .. } | Action::RemoveDanglingTag { tag } => {
                at.tags.get(tag).cloned().unwrap_or_default()
            }
            Action::RewriteReferrersIndex { dropped, .. } => at.deleted(dropped),
            Action::RestoreTag { .. } | Action::CheckTagList => Vec::new(),
        };
        self.texts(&positions)
    }

    /// The references given that name `digest` alone, as typed.
    fn named(&self, host: &str, repository: &str, digest: &Digest) -> Vec<String> {
        let positions = self
            .at(host, repository)
            .and_then(|at| at.digests.get(digest));
        self.texts(positions.map_or(&[], Vec::as_slice))
    }

    fn texts(&self, positions: &[usize]) -> Vec<String> {
        positions.iter().map(|&p| self.given[p].clone()).collect()
    }

    /// Where a row goes: at the first reference it answers; last if none.
    fn order(&self, given: &Option<Vec<String>>) -> usize {
        given
            .as_ref()
            .and_then(|g| g.first())
            .and_then(|first| self.given.iter().position(|g| g == first))
            .unwrap_or(usize::MAX)
    }
}

impl Row for DryRunRow {
    fn headers(&self) -> Vec<&'static str> {
        match self {
            DryRunRow::Planned(r) => r.headers(),
            DryRunRow::Skipped(r) => r.headers(),
        }
    }

    fn cells(&self) -> Vec<String> {
        match self {
            DryRunRow::Planned(r) => r.cells(),
            // In the plan's columns: ACTION, REFERENCE, WHY, ...
            DryRunRow::Skipped(r) => vec![
                r.outcome.as_str().to_string(),
                r.reference.clone(),
                r.error.clone().unwrap_or_default(),
                String::new(),
                String::new(),
                String::new(),
            ],
        }
    }

    fn plain(&self) -> String {
        match self {
            DryRunRow::Planned(r) => r.plain(),
            DryRunRow::Skipped(r) => r.plain(),
        }
    }
}
