//! `regctl digest REF...`: one digest per line, in the order given.

use anyhow::{Context as _, Result};
use futures_util::stream::{self, StreamExt as _};
use serde::Serialize;

use super::ls::worst;
use super::{collect_interruptible, Context};
use crate::cli::DigestArgs;
use crate::exit::{Exit, UsageError};
use crate::output::{render_data, Row};
use crate::registry::{Digest, Platform};

/// One resolved reference (or why it could not be).
#[derive(Debug, Serialize)]
struct Resolved {
    reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Option<Digest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl Row for Resolved {
    fn headers(&self) -> Vec<&'static str> {
        vec!["REFERENCE", "DIGEST"]
    }

    fn cells(&self) -> Vec<String> {
        vec![self.reference.clone(), self.plain()]
    }

    fn plain(&self) -> String {
        self.digest
            .as_ref()
            .map(Digest::to_string)
            .unwrap_or_default()
    }
}

pub async fn run(args: &DigestArgs, ctx: &Context) -> Result<Exit> {
    // Validate everything before the first request.
    let references = ctx.parse_references(&args.references)?;
    let platform = args
        .platform
        .as_deref()
        .map(|p| p.parse::<Platform>().map_err(UsageError))
        .transpose()?;
    let registries = references
        .iter()
        .map(|r| ctx.registry(r.registry()))
        .collect::<Result<Vec<_>>>()?;

    let resolving = stream::iter(references.iter().zip(registries))
        .map(|(reference, registry)| {
            let platform = platform.clone();
            async move {
                match &platform {
                    Some(p) => registry.resolve_platform(reference, p).await,
                    None => registry.resolve(reference).await.map(|h| h.digest),
                }
            }
        })
        .buffered(ctx.concurrency);
    let Some(results) = collect_interruptible(ctx, "references", references.len(), resolving).await
    else {
        return Ok(ctx.interrupt.exit());
    };

    let mut rows = Vec::new();
    let mut failed = Vec::new();
    for (reference, result) in references.iter().zip(results) {
        match result {
            Ok(digest) => rows.push(Resolved {
                reference: reference.to_string(),
                digest: Some(digest),
                error: None,
            }),
            Err(e) => {
                let message = e.to_string();
                if message.contains(&reference.to_string()) {
                    ctx.printer.error(message);
                } else {
                    ctx.printer.error(format!("{reference}: {message}"));
                }
                failed.push(e.kind());
                if ctx.format == crate::cli::Format::Json {
                    rows.push(Resolved {
                        reference: reference.to_string(),
                        digest: None,
                        error: Some(e.to_string()),
                    });
                }
            }
        }
    }
    render_data(ctx.format, &rows).context("writing digests")?;
    Ok(worst(&failed))
}
