//! `regctl cp SRC DST` and `regctl cp -r HOST/PREFIX HOST/PREFIX`: images read
//! as graphs (with their attachments) and written blobs first, manifests
//! bottom-up, tags last, by the [`crate::copy`] engine. A row per image on
//! stdout, the counts on stderr. One image in `single.rs`, a prefix in
//! `recursive.rs`.

mod reach;
mod recursive;
mod row;
mod single;

use anyhow::Result;

use super::context::Invocation;
use crate::cli::CpArgs;
use crate::copy::{CopyError, Summary};
use crate::exit::Exit;
use crate::output::{count, render_data};
use row::{summary_line, NOT_ATTEMPTED};

/// Said after Ctrl-C or the deadline.
const INTERRUPTED: &str =
    "interrupted: no tag was set on an image not wholly copied; the same copy again finishes it";

pub async fn run(args: &CpArgs, ctx: &Invocation) -> Result<Exit> {
    let copied = if args.recursive {
        recursive::run(args, ctx).await
    } else {
        single::run(args, ctx).await.map(|row| vec![row])
    };
    let rows = match copied {
        Ok(rows) => rows,
        Err(e) if matches!(e.downcast_ref::<CopyError>(), Some(CopyError::Interrupted)) => {
            ctx.printer.note(INTERRUPTED);
            return Ok(ctx.interrupt.exit());
        }
        Err(e) => return Err(e),
    };
    let mut total = Summary::default();
    for row in rows.iter().filter(|r| r.error.is_none()) {
        total.add(&row.summary);
    }
    // Images left alone after the destination refused writes are said once.
    let mut not_attempted: Vec<&str> = Vec::new();
    for row in rows.iter().filter_map(|r| r.error.as_ref().map(|e| (r, e))) {
        match row.1.strip_prefix(NOT_ATTEMPTED) {
            Some(why) => not_attempted.push(why),
            None => ctx.printer.error(format!(
                "{} -> {}: {}",
                row.0.source, row.0.destination, row.1
            )),
        }
    }
    if let Some(why) = not_attempted.first() {
        ctx.printer.error(format!(
            "{} not attempted: {why}",
            count(not_attempted.len(), "image")
        ));
    }
    ctx.printer.note(summary_line(&total, args.dry_run));
    render_data(ctx.format, &rows)?;
    if ctx.interrupt.is_set() {
        ctx.printer.note(INTERRUPTED);
        return Ok(ctx.interrupt.exit());
    }
    Ok(if rows.iter().any(|r| r.error.is_some()) {
        Exit::Failure
    } else {
        Exit::Success
    })
}
