//! `regctl rm REF...`: delete by digest, or remove tags without touching the tags
//! that share their manifest.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context as _, Result};

use super::deletion::{
    check_can_confirm, confirm_and_execute, note_garbage_collection, plan, Outcome, PlanRow,
    RepoState,
};
use super::Context;
use crate::cli::RmArgs;
use crate::exit::Exit;
use crate::output::render;
use crate::registry::{Reference, RegistryError};

pub async fn run(args: &RmArgs, ctx: &Context) -> Result<Exit> {
    let references = ctx.parse_references(&args.references)?;
    check_can_confirm(args.yes, args.dry_run)?;

    let mut groups: BTreeMap<(String, String), Vec<&Reference>> = BTreeMap::new();
    for r in &references {
        groups
            .entry((r.registry().to_string(), r.repository().to_string()))
            .or_default()
            .push(r);
    }
    // Before anything changes: does each registry delete at all?
    let mut probed = BTreeSet::new();
    for (host, repository) in groups.keys() {
        if probed.insert(host.clone()) {
            ctx.registry(host)?.probe_delete(repository).await?;
        }
    }

    let mut actions = Vec::new();
    let mut skipped: Vec<Outcome> = Vec::new();
    for ((host, repository), refs) in &groups {
        let registry = ctx.registry(host)?;
        let state = RepoState::load(&registry, repository, ctx.concurrency)
            .await
            .with_context(|| format!("reading {host}/{repository}"))?;
        let mut remove_tags = BTreeSet::new();
        let mut delete_digests = BTreeSet::new();
        for r in refs {
            let missing = || Outcome {
                reference: r.to_string(),
                outcome: "missing",
                digest: r.digest().cloned(),
                tags_removed: Vec::new(),
                error: Some("not found".into()),
            };
            match (r.tag(), r.digest()) {
                // `repo:tag@digest`: remove that tag, if it still points at that digest.
                (Some(tag), Some(digest)) => match state.tags.get(tag) {
                    Some(current) if current == digest => {
                        remove_tags.insert(tag.to_string());
                    }
                    Some(current) => skipped.push(Outcome {
                        reference: r.to_string(),
                        outcome: "refused",
                        digest: Some(digest.clone()),
                        tags_removed: Vec::new(),
                        error: Some(format!("tag {tag} points at {current}, not {digest}; nothing done")),
                    }),
                    None => skipped.push(missing()),
                },
                (None, Some(digest)) => match registry.head_manifest(repository, &digest.to_string()).await {
                    Err(RegistryError::NotFound { .. }) => skipped.push(missing()),
                    Err(e) => return Err(e.into()),
                    Ok(_) if state.index_parents.contains_key(digest) && !args.force => skipped.push(Outcome {
                        reference: r.to_string(),
                        outcome: "refused",
                        digest: Some(digest.clone()),
                        tags_removed: Vec::new(),
                        error: Some(format!(
                            "an index references it (tags: {}); deleting it would break them; pass --force to delete it anyway",
                            state.index_tags_referencing(digest).join(", ")
                        )),
                    }),
                    Ok(_) => {
                        delete_digests.insert(digest.clone());
                    }
                },
                (tag, None) => {
                    let tag = tag.unwrap_or("latest");
                    if state.tags.contains_key(tag) {
                        remove_tags.insert(tag.to_string());
                    } else {
                        skipped.push(missing());
                    }
                }
            }
        }
        actions.extend(plan(
            host,
            &state,
            &remove_tags,
            &delete_digests,
            args.force,
        ));
    }

    for s in &skipped {
        ctx.printer.error(format!(
            "{}: {}",
            s.reference,
            s.error.as_deref().unwrap_or(s.outcome)
        ));
    }
    let skipped_exit = skipped_exit(&skipped, args.ignore_missing);

    if args.dry_run {
        let rows: Vec<PlanRow> = actions.iter().map(PlanRow::from).collect();
        render(ctx.format, &rows).context("writing the plan")?;
        ctx.printer.note(format!(
            "dry run: {} actions planned, nothing changed",
            rows.len()
        ));
        return Ok(skipped_exit);
    }
    if actions.is_empty() {
        render(ctx.format, &skipped).context("writing the outcome")?;
        return Ok(skipped_exit);
    }
    let Some((mut outcomes, exit)) = confirm_and_execute(ctx, actions, args.yes).await? else {
        return Ok(Exit::Failure);
    };
    outcomes.extend(skipped);
    render(ctx.format, &outcomes).context("writing the outcome")?;
    note_garbage_collection(ctx, &outcomes);
    Ok(if exit == Exit::Success {
        skipped_exit
    } else {
        exit
    })
}

/// Exit status for references not acted on: 4 for missing ones (0 with
/// `--ignore-missing`), 1 for refused ones.
fn skipped_exit(skipped: &[Outcome], ignore_missing: bool) -> Exit {
    if skipped.iter().any(|s| s.outcome == "refused") {
        Exit::Failure
    } else if skipped.iter().any(|s| s.outcome == "missing") && !ignore_missing {
        Exit::NotFound
    } else {
        Exit::Success
    }
}
