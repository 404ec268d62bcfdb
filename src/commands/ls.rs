//! `regctl ls REGISTRY[/PREFIX]`: every REGISTRY/REPOSITORY:TAG, sorted.

use anyhow::{Context as _, Result};
use futures::stream::{self, StreamExt as _};
use serde::Serialize;

use super::{collect_interruptible, Context};
use crate::cli::LsArgs;
use crate::exit::{Exit, UsageError};
use crate::output::{render, Row};
use crate::registry::{Digest, ErrorKind, Reference, RegistryError, RegistryTarget};

/// One listed tag.
#[derive(Debug, Serialize)]
struct Entry {
    reference: String,
    registry: String,
    repository: String,
    tag: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Option<Digest>,
}

impl Row for Entry {
    fn headers(&self) -> Vec<&'static str> {
        if self.digest.is_some() {
            vec!["REPOSITORY", "TAG", "DIGEST"]
        } else {
            vec!["REPOSITORY", "TAG"]
        }
    }

    fn cells(&self) -> Vec<String> {
        let mut cells = vec![
            format!("{}/{}", self.registry, self.repository),
            self.tag.clone(),
        ];
        cells.extend(self.digest.as_ref().map(Digest::to_string));
        cells
    }

    fn plain(&self) -> String {
        match &self.digest {
            Some(d) => format!("{} {d}", self.reference),
            None => self.reference.clone(),
        }
    }
}

pub async fn run(args: &LsArgs, ctx: &Context) -> Result<Exit> {
    let target: RegistryTarget = args
        .target
        .parse()
        .map_err(|e: crate::registry::reference::ReferenceError| UsageError(e.to_string()))?;
    let registry = ctx.registry(&target.registry)?;

    let (repositories, from_catalog): (Vec<String>, bool) = match registry.catalog().await {
        Ok(all) => (
            all.into_iter().filter(|r| target.contains(r)).collect(),
            true,
        ),
        Err(e @ RegistryError::Unsupported { .. }) => match &target.prefix {
            Some(prefix) => {
                ctx.printer
                    .warn(format!("{e}; listing repository {prefix} alone"));
                (vec![prefix.clone()], false)
            }
            None => return Err(e.into()),
        },
        Err(e) => return Err(anyhow::Error::new(e).context(format!("listing {}", target.registry))),
    };
    if repositories.is_empty() {
        ctx.printer
            .note(format!("no repositories in {}", args.target));
    }

    let total = repositories.len();
    let tag_stream = stream::iter(repositories)
        .map(|repo| {
            let registry = registry.clone();
            async move {
                let tags = registry.tags(&repo).await;
                (repo, tags)
            }
        })
        .buffer_unordered(ctx.concurrency);
    let Some(tag_lists) = collect_interruptible(ctx, "repositories", total, tag_stream).await
    else {
        return Ok(Exit::Interrupted);
    };

    let mut entries = Vec::new();
    let mut untagged = 0usize;
    let mut failures: Vec<(String, RegistryError)> = Vec::new();
    for (repo, tags) in tag_lists {
        match tags {
            Ok(tags) if tags.is_empty() => untagged += 1,
            Ok(tags) => entries.extend(tags.into_iter().map(|tag| Entry {
                reference: Reference::with_tag(&target.registry, &repo, &tag).to_string(),
                registry: target.registry.clone(),
                repository: repo.clone(),
                tag,
                digest: None,
            })),
            // Listed by the catalog but without a tag list: a repository whose tags were all deleted.
            Err(RegistryError::NotFound { .. }) if from_catalog => untagged += 1,
            Err(e) => failures.push((repo, e)),
        }
    }
    entries.sort_by(|a, b| (&a.repository, &a.tag).cmp(&(&b.repository, &b.tag)));

    if args.digests {
        let digest_stream = stream::iter(entries.iter())
            .map(|e| {
                let registry = registry.clone();
                let reference = Reference::with_tag(&e.registry, &e.repository, &e.tag);
                async move { registry.resolve(&reference).await.map(|h| h.digest) }
            })
            .buffered(ctx.concurrency);
        let Some(resolved) =
            collect_interruptible(ctx, "digests", entries.len(), digest_stream).await
        else {
            return Ok(Exit::Interrupted);
        };
        let mut kept = Vec::with_capacity(entries.len());
        for (mut entry, digest) in entries.into_iter().zip(resolved) {
            match digest {
                Ok(d) => {
                    entry.digest = Some(d);
                    kept.push(entry);
                }
                Err(e) => failures.push((entry.reference.clone(), e)),
            }
        }
        entries = kept;
    }

    render(ctx.format, &entries).context("writing the listing")?;
    if untagged > 0 {
        ctx.printer
            .note(format!("{untagged} repositories have no tags"));
    }
    if failures.is_empty() {
        return Ok(Exit::Success);
    }
    for (what, err) in &failures {
        ctx.printer.error(format!("{what}: {err}"));
    }
    ctx.printer.error(format!(
        "the listing is incomplete: {} of its repositories or tags could not be read",
        failures.len()
    ));
    let kinds: Vec<ErrorKind> = failures.iter().map(|(_, e)| e.kind()).collect();
    Ok(worst(&kinds))
}

/// The exit status for several failures: their common one, else 1.
pub(super) fn worst(kinds: &[ErrorKind]) -> Exit {
    match kinds.first() {
        Some(first) if kinds.iter().all(|k| k == first) => Exit::for_kind(*first),
        Some(_) => Exit::Failure,
        None => Exit::Success,
    }
}
