//! `regctl tag REF TAG...`: the manifest REF names, PUT again under each new
//! tag with its own bytes and media type (so its digest is unchanged); no blob
//! moves. A tag that points there already is left as it is.

use anyhow::Result;
use serde::Serialize;

use super::context::Invocation;
use crate::cli::TagArgs;
use crate::exit::{Exit, UsageError};
use crate::output::{render_data, Row};
use crate::registry::reference::{valid_tag, ManifestRef};
use crate::registry::{Digest, ErrorKind};

/// One tag added (or found in place).
#[derive(Debug, Serialize)]
struct Tagged {
    reference: String,
    digest: Digest,
    /// `tagged`, or `present` when the tag pointed there already.
    outcome: &'static str,
}

impl Row for Tagged {
    fn headers(&self) -> Vec<&'static str> {
        vec!["REFERENCE", "DIGEST", "OUTCOME"]
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.reference.clone(),
            self.digest.to_string(),
            self.outcome.to_string(),
        ]
    }

    fn plain(&self) -> String {
        format!("{} {} {}", self.outcome, self.reference, self.digest)
    }
}

pub async fn run(args: &TagArgs, ctx: &Invocation) -> Result<Exit> {
    for tag in &args.tags {
        if !valid_tag(tag) {
            return Err(UsageError(format!(
                "`{}` is not a valid tag (letters, digits, `_`, `.`, `-`; at most 128, not \
                 starting with `.` or `-`)",
                crate::output::escape(tag)
            ))
            .into());
        }
    }
    let reference = ctx
        .references(std::slice::from_ref(&args.source))
        .await?
        .remove(0);
    let registry = ctx.registry(reference.registry()).await?;
    let repository = reference.repository();
    let manifest = match registry
        .get_manifest(repository, &reference.manifest_reference())
        .await
    {
        Ok(m) => m,
        Err(e) => return Err(registry.explain_missing(repository, e).await.into()),
    };
    let mut rows = Vec::new();
    for tag in &args.tags {
        let at = ManifestRef::Tag(tag.clone());
        let now = match registry.head_or_get(repository, &at).await {
            Ok(head) => Some(head.digest),
            Err(e) if e.kind() == ErrorKind::NotFound => None,
            Err(e) => return Err(e.into()),
        };
        let outcome = if now.as_ref() == Some(&manifest.digest) {
            "present"
        } else {
            registry
                .put_manifest(repository, &at, &manifest.media_type, &manifest.bytes)
                .await?;
            "tagged"
        };
        rows.push(Tagged {
            reference: format!("{}/{repository}:{tag}", registry.host()),
            digest: manifest.digest.clone(),
            outcome,
        });
    }
    render_data(ctx.format, &rows)?;
    Ok(Exit::Success)
}
