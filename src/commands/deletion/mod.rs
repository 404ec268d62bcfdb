//! What `rm` and `prune` share on the command line: plan rows, confirmation,
//! carrying out the plans under Ctrl-C, outcome rows and the exit status. The
//! deciding is done by the [`crate::deletion`] engine.

mod notes;
mod progress;
mod rows;

use notes::note_gone_meanwhile;
use progress::{progress_bar, Counts, PROGRESS_EVERY};

pub use notes::{
    note_bytes_freed, note_garbage_collection, note_plan, rest_of_registry, FreedScope,
    DRY_RUN_UNCHECKED,
};
pub use rows::{plan_rows, render_outcomes, ActionKind, Given, OutcomeKind, OutcomeRow, PlanRow};

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::sync::atomic::Ordering;
use std::sync::Mutex;

use anyhow::Result;

use super::context::Invocation;
use crate::deletion::outcome::Halt;
use crate::deletion::{self, ActionReport, Outcome, Plan};
use crate::exit::{Exit, UsageError};
use crate::graph::Loader;
use crate::interrupt::Interrupt;
use crate::output::{count, escape, write_stdout, Format, Row};
use crate::registry::{ErrorKind, Registry};

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

/// Shows the plan on stderr and asks (default no; `y` and Enter), unless `--yes`.
async fn confirm(rows: &[PlanRow], yes: bool, interrupt: &Interrupt) -> Result<Answer> {
    if yes {
        return Ok(Answer::Yes);
    }
    for row in rows {
        let indent = if row.of.is_some() { "    " } else { "  " };
        crate::output::to_stderr(format_args!("{indent}{}", row.plain()));
    }
    let tags: usize = rows.iter().map(|r| r.tags_removed.len()).sum();
    let prompt = format!(
        "Delete as above ({}, {})?",
        count(rows.len(), "action"),
        count(tags, "tag")
    );
    let answer = super::prompt::ask(interrupt, move |term| {
        dialoguer::Confirm::new()
            .with_prompt(prompt)
            .default(false)
            .wait_for_newline(true)
            .interact_on(term)
    })
    .await?;
    Ok(match answer {
        Some(true) => Answer::Yes,
        Some(false) => Answer::No,
        None => Answer::Interrupted,
    })
}

/// Asks for confirmation (unless `yes`), re-checks the plans, carries them out
/// and reports failures and an interruption on stderr. `None` when the user
/// declined; else the outcomes (each with what `given` says it answers) and the
/// exit status they call for.
pub async fn confirm_and_execute(
    ctx: &Invocation,
    registry: &Registry,
    loader: &Loader<'_>,
    plans: Vec<Plan>,
    yes: bool,
    given: Given<'_>,
) -> Result<Option<(Vec<OutcomeRow>, Exit)>> {
    let host = registry.host().to_string();
    // From here on this part reports a Ctrl-C: at the prompt, during the
    // re-check or between deletions.
    ctx.interrupt.claim();
    let cancel = ctx.interrupt.flag();
    match confirm(&plan_rows(&host, &plans, given), yes, &ctx.interrupt).await? {
        Answer::Yes => {}
        Answer::No => {
            ctx.printer.note("aborted: nothing was deleted");
            return Ok(None);
        }
        Answer::Interrupted => {
            ctx.printer.note("interrupted: nothing was deleted");
            return Ok(Some((Vec::new(), ctx.interrupt.exit())));
        }
    }
    let (plans, changed) = deletion::recheck(loader, plans).await?;
    if cancel.load(Ordering::SeqCst) {
        ctx.printer.note("interrupted: nothing was deleted");
        return Ok(Some((Vec::new(), ctx.interrupt.exit())));
    }
    let (mut done, streamed) = carry_out(ctx, registry, plans).await;
    let interrupted = cancel.load(Ordering::SeqCst);
    done.extend(changed);
    let rows = outcome_rows(&host, &done, given, streamed);
    report(ctx, &host, &done, &rows);
    let exit = exit_status(ctx, interrupted, &done, &rows);
    Ok(Some((rows, exit)))
}

/// Lines already written to stdout as the run went, by text, with how many times.
type Streamed = HashMap<String, usize>;

/// Runs the plans, with a progress bar on a terminal or a line every
/// [`PROGRESS_EVERY`] without one; in plain format each repository's rows go
/// out as soon as they are final, so that a long run is not silent.
async fn carry_out(
    ctx: &Invocation,
    registry: &Registry,
    plans: Vec<Plan>,
) -> (Vec<ActionReport>, Streamed) {
    let host = registry.host();
    let total: usize = plans.iter().map(|p| p.actions.len()).sum();
    let progress = progress_bar(total);
    let counts = Counts::default();
    let streamed: Mutex<Streamed> = Mutex::default();
    let stream_rows = ctx.format == Format::Plain;
    // The closures borrow the bar and the lines until the work is done.
    let done = {
        let tick = |one: &ActionReport| {
            counts.note(&one.outcome);
            if let Some(p) = &progress {
                p.inc(1);
            }
        };
        let finished = |repository: &[ActionReport]| {
            if !stream_rows {
                return;
            }
            let Ok(mut lines) = streamed.lock() else {
                return;
            };
            for one in repository {
                let line = escape(&OutcomeRow::new(host, one, None).plain());
                // A reader gone away is no reason to stop; the final output says the same.
                let _ = write_stdout(format!("{line}\n"));
                *lines.entry(line).or_default() += 1;
            }
        };
        let observer = deletion::Observer {
            action: &tick,
            repository: &finished,
        };
        let work = deletion::execute(
            registry,
            plans,
            ctx.concurrency,
            ctx.interrupt.flag(),
            &observer,
        );
        tokio::pin!(work);
        loop {
            tokio::select! {
                done = &mut work => break done,
                // Without a terminal (CI), a line now and then says the run is alive.
                () = tokio::time::sleep(PROGRESS_EVERY), if progress.is_none() && total > 0 => {
                    ctx.printer.note(counts.line(total));
                }
            }
        }
    };
    if let Some(p) = progress {
        p.finish_and_clear();
    }
    (done, streamed.into_inner().unwrap_or_default())
}

/// The rows of what was done, each with what `given` says it answers; a row
/// written as it happened, and unchanged since, is marked not to be written again.
fn outcome_rows(
    host: &str,
    done: &[ActionReport],
    given: Given<'_>,
    mut streamed: Streamed,
) -> Vec<OutcomeRow> {
    done.iter()
        .map(|d| {
            let mut row = OutcomeRow::new(host, d, given(&d.repository, &d.action));
            if let Some(n) = streamed.get_mut(&escape(&row.plain())).filter(|n| **n > 0) {
                *n -= 1;
                row.streamed = true;
            }
            row
        })
        .collect()
}

/// Says on stderr what failed or changed, what went meanwhile, and what a
/// registry refusing changes mid-run left not attempted.
fn report(ctx: &Invocation, host: &str, done: &[ActionReport], rows: &[OutcomeRow]) {
    for row in rows.iter().filter(|r| {
        matches!(
            r.outcome,
            OutcomeKind::Failed | OutcomeKind::Changed | OutcomeKind::Restored
        )
    }) {
        ctx.printer.error(format!(
            "{}: {}",
            row.reference,
            row.error.as_deref().unwrap_or(row.outcome.as_str())
        ));
    }
    note_gone_meanwhile(ctx, host, done);
    if let Some(halt) = halted(done) {
        let left = rows
            .iter()
            .filter(|r| r.outcome == OutcomeKind::NotAttempted)
            .count();
        ctx.printer.error(format!(
            "{host} refused a change as unsupported during the run ({}); {} not attempted",
            halt.reason,
            count(left, "action")
        ));
    }
}

/// Why the run stopped sending changes part-way, if it did.
fn halted(done: &[ActionReport]) -> Option<&Halt> {
    done.iter().find_map(|d| match &d.outcome {
        Outcome::NotAttempted(halt) => Some(halt),
        _ => None,
    })
}

/// The exit status the outcomes call for (saying how far an interrupted run got).
fn exit_status(
    ctx: &Invocation,
    interrupted: bool,
    done: &[ActionReport],
    rows: &[OutcomeRow],
) -> Exit {
    if interrupted {
        let count = |kind: OutcomeKind| rows.iter().filter(|r| r.outcome == kind).count();
        ctx.printer.note(format!(
            "interrupted: {} done, {} failed, {} not started",
            done.iter().filter(|d| d.outcome.is_done()).count(),
            count(OutcomeKind::Failed),
            count(OutcomeKind::NotStarted)
        ));
        return ctx.interrupt.exit();
    }
    let kinds: Vec<ErrorKind> = done
        .iter()
        .filter_map(|d| match &d.outcome {
            Outcome::Failed(e) => Some(e.kind()),
            _ => None,
        })
        .collect();
    let changed_any = done
        .iter()
        .any(|d| matches!(d.outcome, Outcome::Changed(_) | Outcome::Restored));
    if halted(done).is_some() {
        // Cut short part-way: some of the plan is done, the rest not attempted.
        Exit::Failure
    } else if !kinds.is_empty() {
        Exit::worst(&kinds)
    } else if changed_any {
        Exit::Failure
    } else {
        Exit::Success
    }
}
