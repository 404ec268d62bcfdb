//! `regctl cp SRC DST` and `regctl cp -r HOST/PREFIX HOST/PREFIX`: images read
//! as graphs (with their attachments) and written blobs first, manifests
//! bottom-up, tags last, by the [`crate::copy`] engine. A row per image on
//! stdout, the counts on stderr. One image in `single.rs`, a prefix in
//! `recursive.rs`.

mod recursive;
mod single;

use std::sync::Arc;

use anyhow::Result;
use serde::Serialize;

use super::context::Invocation;
use crate::cli::CpArgs;
use crate::copy::transfer::Options;
use crate::copy::{transfer, walk};
use crate::copy::{CopyError, Manifest, Sink, Source, Summary};
use crate::exit::{Exit, UsageError};
use crate::output::{count, escape, human_bytes, render_data, Row};
use crate::registry::{Credential, Digest, Registry, Resolved, Secret};

/// Said after Ctrl-C or the deadline.
const INTERRUPTED: &str =
    "interrupted: no tag was set on an image not wholly copied; the same copy again finishes it";

/// One image copied (or not), as printed.
#[derive(Debug, Serialize)]
struct Copied {
    source: String,
    destination: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Option<Digest>,
    attachments: usize,
    #[serde(flatten)]
    summary: Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip)]
    dry_run: bool,
}

impl Row for Copied {
    fn headers(&self) -> Vec<&'static str> {
        vec!["SOURCE", "DESTINATION", "DIGEST", "SENT"]
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.source.clone(),
            self.destination.clone(),
            self.digest
                .as_ref()
                .map(Digest::to_string)
                .unwrap_or_default(),
            match &self.error {
                Some(e) => format!("error: {}", escape(e)),
                None => human_bytes(self.summary.bytes_sent),
            },
        ]
    }

    fn plain(&self) -> String {
        let digest = self
            .digest
            .as_ref()
            .map(Digest::to_string)
            .unwrap_or_default();
        match (&self.error, self.dry_run) {
            (Some(e), _) => format!("failed {} -> {}: {e}", self.source, self.destination),
            (None, true) => format!(
                "would copy {} -> {} {digest}",
                self.source, self.destination
            ),
            (None, false) => format!("copied {} -> {} {digest}", self.source, self.destination),
        }
    }
}

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
    for row in rows.iter().filter_map(|r| r.error.as_ref().map(|e| (r, e))) {
        ctx.printer.error(format!(
            "{} -> {}: {}",
            row.0.source, row.0.destination, row.1
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

/// The counts, in words, for stderr: what was sent, then (when any) what was
/// mounted and what was there already.
fn summary_line(total: &Summary, dry_run: bool) -> String {
    let mut line = format!(
        "{}: {} {}, {} ({}), {}",
        count(total.images, "image"),
        if dry_run { "would send" } else { "sent" },
        count(total.manifests_sent, "manifest"),
        count(total.blobs_sent, "blob"),
        human_bytes(total.bytes_sent),
        count(total.tags_set, "tag"),
    );
    if total.blobs_mounted > 0 {
        let verb = if dry_run { "would mount" } else { "mounted" };
        line += &format!("; {verb} {}", count(total.blobs_mounted, "blob"));
    }
    let there: Vec<String> = [
        (total.manifests_present, "manifest"),
        (total.blobs_present, "blob"),
        (total.tags_present, "tag"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| count(n, what))
    .collect();
    if !there.is_empty() {
        line += &format!("; already there: {}", there.join(", "));
    }
    line
}

/// How one side's registry is reached, by cp's own flags.
struct Reach {
    plain_http: bool,
    credential: Option<Resolved>,
}

/// The source's and the destination's [`Reach`].
fn reaches(args: &CpArgs, ctx: &Invocation) -> Result<(Reach, Reach)> {
    let from_stdin = args.src_password_stdin || args.dst_password_stdin;
    if from_stdin && ctx.resolver().explicit_source() == Some("--username/--password-stdin") {
        return Err(UsageError(
            "--password-stdin and --src/--dst-password-stdin both read standard input: give one"
                .into(),
        )
        .into());
    }
    let stdin = if from_stdin {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)?;
        Some(Secret::new(text.trim_end_matches(['\r', '\n'])))
    } else {
        None
    };
    let side = |side: &str, plain_http: bool, user: &Option<String>, stdin_given: bool| {
        let Some(username) = user.clone() else {
            return Ok(Reach {
                plain_http,
                credential: None,
            });
        };
        let variable = format!("REGCTL_{}_PASSWORD", side.to_uppercase());
        let password = if stdin_given {
            stdin.clone()
        } else {
            std::env::var(&variable)
                .ok()
                .filter(|v| !v.is_empty())
                .map(Secret::new)
        };
        let Some(password) = password else {
            return Err(UsageError(format!(
                "--{side}-username needs --{side}-password-stdin or {variable}"
            )));
        };
        Ok(Reach {
            plain_http,
            credential: Some(Resolved {
                credential: Credential::Basic { username, password },
                source: format!("--{side}-username"),
            }),
        })
    };
    Ok((
        side(
            "src",
            args.src_plain_http,
            &args.src_username,
            args.src_password_stdin,
        )?,
        side(
            "dst",
            args.dst_plain_http,
            &args.dst_username,
            args.dst_password_stdin,
        )?,
    ))
}

async fn reach(ctx: &Invocation, host: &str, how: &Reach) -> Result<Arc<Registry>> {
    ctx.registry_for_side(host, how.plain_http, how.credential.clone())
        .await
}

/// Reads the image `root` (with its attachments) and writes it to `sink`
/// (shown as given) under `tag`.
async fn copy_image<S: Source, D: Sink>(
    source: &S,
    (sink, shown_destination, tag): (&D, String, Option<String>),
    root: Manifest,
    shown_source: &str,
    attachments: bool,
    options: &Options<'_>,
) -> Result<Copied> {
    let tags = if attachments {
        Some(source.tags().await?)
    } else {
        None
    };
    let plan = walk(source, root, tags.as_deref()).await?;
    let summary = transfer(source, sink, &plan, tag.as_slice(), options).await?;
    Ok(Copied {
        source: shown_source.to_string(),
        destination: shown_destination,
        digest: Some(plan.root.clone()),
        attachments: plan.attachments(),
        summary,
        error: None,
        dry_run: options.dry_run,
    })
}
