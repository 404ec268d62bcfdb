//! What `rm` and `prune` say on stderr about a plan: the bytes it frees, what it
//! keeps, what went meanwhile, and how to get the space back.

use anyhow::Result;

use super::rows::OutcomeRow;
use crate::commands::context::Invocation;
use crate::deletion::{self, Action, ActionReport, Outcome, Plan};
use crate::graph::{Loader, Snapshot};
use crate::output::{count, human_bytes};
use crate::registry::Digest;

/// Says on stderr how many bytes the plans free (once the registry's garbage
/// collector runs), and over which repositories that was computed (`scope`).
pub fn note_bytes_freed(ctx: &Invocation, plans: &[Plan], scope: &FreedScope) {
    let total = plans
        .iter()
        .map(Plan::total_freed)
        .fold(0, u64::saturating_add);
    let amount = format!("{} ({total} bytes)", human_bytes(total));
    ctx.printer.note(match scope {
        FreedScope::Registry(host) => {
            format!("frees {amount} once garbage is collected (reckoned over all of {host})")
        }
        FreedScope::Read(why) => format!("frees up to {amount} once garbage is collected: {why}"),
    });
}

/// What a plan's freed bytes were reckoned over.
#[derive(Debug, Clone)]
pub enum FreedScope {
    /// Every repository of the registry (this host): the collector's own view.
    Registry(String),
    /// Only the repositories read, for this reason: an upper bound, since
    /// another repository may use a blob too.
    Read(String),
}

/// The repositories of the registry that `read` leaves out, read too (their tags
/// and manifests, not their blobs) so that what a plan frees is reckoned as the
/// garbage collector sees it: over the whole registry. When the catalog cannot
/// be read, nothing more is read and the scope says why.
pub async fn rest_of_registry(
    loader: &Loader<'_>,
    read: &[&Snapshot],
) -> (Vec<Snapshot>, FreedScope) {
    use futures_util::stream::{self, StreamExt as _};
    let host = loader.registry.host().to_string();
    let all = match loader.registry.catalog().await {
        Ok(all) => all,
        Err(e) => {
            let why = format!(
                "the catalog could not be read ({}), so a blob another repository uses may stay",
                crate::output::escape(&e.to_string())
            );
            return (Vec::new(), FreedScope::Read(why));
        }
    };
    let known: std::collections::BTreeSet<&str> =
        read.iter().map(|s| s.repository.as_str()).collect();
    let rest: Vec<String> = all
        .into_iter()
        .filter(|r| !known.contains(r.as_str()))
        .filter(|r| crate::registry::reference::valid_repository(r))
        .collect();
    let snapshots: Vec<Result<Snapshot, crate::registry::RegistryError>> = stream::iter(&rest)
        .map(|repository| loader.snapshot(repository, crate::graph::Depth::default()))
        .buffered(loader.concurrency.clamp(1, 8))
        .collect()
        .await;
    let mut others = Vec::new();
    for (repository, snapshot) in rest.iter().zip(snapshots) {
        match snapshot {
            Ok(s) => others.push(s),
            Err(e) => {
                let why = format!(
                    "{host}/{repository} could not be read ({}), so a blob it uses may stay",
                    crate::output::escape(&e.to_string())
                );
                return (Vec::new(), FreedScope::Read(why));
            }
        }
    }
    (others, FreedScope::Registry(host))
}

/// Says on stderr what stays although it belongs to something deleted, and which
/// repositories are left with no tag.
pub fn note_plan(ctx: &Invocation, host: &str, plans: &[Plan]) {
    for plan in plans {
        for kept in &plan.kept {
            let why = match &kept.reason {
                deletion::KeptReason::Tagged(tags) => format!("it has tags: {}", tags.join(", ")),
                deletion::KeptReason::SharedWith(indexes) => format!(
                    "index {} references it too",
                    indexes
                        .iter()
                        .map(Digest::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                deletion::KeptReason::Unknowns => {
                    "the repository has tags or manifests regctl cannot read or verify".into()
                }
                deletion::KeptReason::KeepAttachments => "--keep-attachments".into(),
            };
            ctx.printer.note(format!(
                "kept {host}/{}@{} (belongs to {}): {why}",
                plan.repository, kept.digest, kept.of
            ));
        }
        if !plan.unverified_referrers.is_empty() {
            ctx.printer.note(format!(
                "{host}/{}: kept {} the referrers API lists without its own `subject` naming \
                 the subject asked about (not taken for an attachment): {}",
                plan.repository,
                count(plan.unverified_referrers.len(), "manifest"),
                plan.unverified_referrers
                    .iter()
                    .map(Digest::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    // Said once, however many repositories: at most five names and a count.
    let emptied: Vec<String> = plans
        .iter()
        .filter(|p| p.leaves_no_tags)
        .map(|p| p.repository.clone())
        .collect();
    match emptied.len() {
        0 => {}
        1 => ctx.printer.note(format!(
            "{host}/{}: this leaves the repository with no tag",
            emptied[0]
        )),
        n => {
            ctx.printer.note(format!(
                "this leaves {n} repositories of {host} with no tag:"
            ));
            ctx.printer
                .note(format!("  {}", crate::output::first_few(&emptied, 5)));
        }
    }
}

/// One note per repository for the kept tags that went by another client's change.
pub(super) fn note_gone_meanwhile(ctx: &Invocation, host: &str, done: &[ActionReport]) {
    let mut by_repository: std::collections::BTreeMap<&str, (Vec<&str>, bool)> = Default::default();
    for d in done {
        if let (Outcome::GoneMeanwhile { with_manifest }, Action::RestoreTag { tag, .. }) =
            (&d.outcome, &d.action)
        {
            let entry = by_repository.entry(&d.repository).or_default();
            entry.0.push(tag);
            entry.1 |= *with_manifest;
        }
    }
    for (repository, (tags, with_manifest)) in by_repository {
        let how = if with_manifest {
            "removed or deleted with their manifests"
        } else {
            "removed or moved"
        };
        ctx.printer.note(format!(
            "{host}/{repository}: {} the plan kept {} {how} meanwhile by another \
             client, not by this run; left as they are: {}",
            count(tags.len(), "tag"),
            if tags.len() == 1 { "was" } else { "were" },
            tags.join(", ")
        ));
    }
}

/// What a dry run cannot know without writing, said with its summary.
pub const DRY_RUN_UNCHECKED: &str = "deletion support not checked (that takes a DELETE)";

/// Says once, after the outcome, how to get the disk space back.
pub fn note_garbage_collection(ctx: &Invocation, outcomes: &[OutcomeRow]) {
    if outcomes.iter().any(|o| o.outcome.removed_something()) {
        for line in GC_NOTE {
            ctx.printer.note(line);
        }
    }
}

/// Said once after deleting, as the seed does by hand — but the plain collector:
/// `--delete-untagged` on Distribution 2.x deletes the platform manifests of every
/// multi-arch image in the registry.
pub const GC_NOTE: &[&str] = &[
    "the disk space comes back when the registry's garbage collector runs, with the",
    "registry stopped or read-only: registry garbage-collect /etc/docker/registry/config.yml",
    "(Debian: docker-registry garbage-collect ...); not with --delete-untagged on",
    "Distribution 2.x, which deletes the platforms of every multi-arch image",
];
