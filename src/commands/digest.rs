//! `regctl digest REF...`: one line per reference, in the order given: its digest,
//! or an empty line when it could not be resolved (the error is on stderr).

use anyhow::{Context as _, Result};
use futures_util::stream::{self, StreamExt as _};
use serde::Serialize;

use super::context::{collect_interruptible, Invocation};
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
        let digest = match (&self.digest, &self.error) {
            (Some(d), _) => d.to_string(),
            (None, Some(e)) => format!("error: {}", crate::output::escape(e)),
            (None, None) => String::new(),
        };
        vec![self.reference.clone(), digest]
    }

    /// The digest, or an empty line for a reference that failed (its error is on
    /// stderr): one line per reference, in order, so that lines match inputs.
    fn plain(&self) -> String {
        self.digest
            .as_ref()
            .map(Digest::to_string)
            .unwrap_or_default()
    }
}

pub async fn run(args: &DigestArgs, ctx: &Invocation) -> Result<Exit> {
    // Validate everything before the first request.
    let references = ctx.references(&args.references).await?;
    let platform = args
        .platform
        .as_deref()
        .map(|p| p.parse::<Platform>().map_err(UsageError))
        .transpose()?;
    let mut registries = Vec::with_capacity(references.len());
    for reference in &references {
        registries.push(ctx.registry(reference.registry()).await?);
    }

    let resolving = stream::iter(references.iter().zip(registries))
        .map(|(reference, registry)| {
            let platform = platform.clone();
            async move {
                let resolved = match &platform {
                    Some(p) => registry.resolve_platform(reference, p).await,
                    None => registry.resolve(reference).await.map(|h| h.digest),
                };
                match resolved {
                    Err(e) => Err(registry.explain_missing(reference.repository(), e).await),
                    resolved => resolved,
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
                ctx.printer.error(super::context::about(
                    &reference.to_string(),
                    &e.to_string(),
                ));
                failed.push(e.kind());
                rows.push(Resolved {
                    reference: reference.to_string(),
                    digest: None,
                    error: Some(e.to_string()),
                });
            }
        }
    }
    render_data(ctx.format, &rows).context("writing digests")?;
    Ok(Exit::worst(&failed))
}
