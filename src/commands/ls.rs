//! `regctl ls REGISTRY[/PREFIX]`: every REGISTRY/REPOSITORY:TAG, sorted, streamed
//! one repository at a time.

use anyhow::{Context as _, Result};
use futures_util::stream::{self, StreamExt as _};
use serde::Serialize;

use super::context::{add_uncatalogued, Invocation};
use crate::cli::LsArgs;
use crate::exit::Exit;
use crate::output::{Row, RowWriter};
use crate::registry::auth::Scope;
use crate::registry::reference::{valid_repository, valid_tag};
use crate::registry::{Digest, ErrorKind, Reference, Registry, RegistryError, RegistryTarget};

/// One listed tag; in JSON also a repository or tag that could not be read
/// (with `error`, and `tag` null for a repository).
#[derive(Debug, Serialize)]
struct Entry {
    reference: String,
    registry: String,
    repository: String,
    tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Option<Digest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
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
            self.tag.clone().unwrap_or_default(),
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

/// What listing one repository gave.
struct Listing {
    entries: Vec<Entry>,
    /// What could not be read, as JSON entries with an `error`.
    errors: Vec<Entry>,
    /// The repository, when it has no tags.
    untagged: Option<String>,
    failures: Vec<(String, RegistryError)>,
    /// Tags listed whose manifest is not served (404): dangling.
    dangling: usize,
}

/// How often a table that is still listing draws the rows it has.
const TABLE_DRAW_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

pub async fn run(args: &LsArgs, ctx: &Invocation) -> Result<Exit> {
    let target = super::context::parse_target(&args.target)?;
    let registry = ctx.registry(&target.registry).await?;
    let Some(Repositories {
        names,
        from_catalog,
        unlistable,
    }) = repositories(ctx, &registry, &target).await?
    else {
        return Ok(Exit::NotFound);
    };
    if names.is_empty() {
        ctx.printer
            .note(format!("no repositories in {}", args.target));
    }
    let Some(mut seen) =
        stream_listings(ctx, &registry, &target, names, args.digests, from_catalog).await?
    else {
        return Ok(ctx.interrupt.exit());
    };
    // JSON reports every item: a name that could not be listed too.
    if ctx.format == crate::cli::Format::Json {
        for (what, err) in &unlistable {
            let repository = what
                .strip_prefix(&format!("{}/", target.registry))
                .unwrap_or(what);
            let entry = Entry {
                reference: what.clone(),
                registry: target.registry.clone(),
                repository: repository.to_string(),
                tag: None,
                digest: None,
                error: Some(err.to_string()),
            };
            seen.writer.write(&entry).context("writing the listing")?;
        }
    }
    seen.failures.extend(unlistable);
    seen.writer.finish().context("writing the listing")?;
    Ok(report(ctx, seen.untagged, &seen.failures, seen.dangling))
}

/// The repositories to list, sorted, and those whose names cannot be put in a
/// URL; `None` when the target names none (said on stderr).
struct Repositories {
    names: Vec<String>,
    /// Read from the catalog (else the prefix alone, the catalog being refused).
    from_catalog: bool,
    unlistable: Vec<(String, RegistryError)>,
}

async fn repositories(
    ctx: &Invocation,
    registry: &Registry,
    target: &RegistryTarget,
) -> Result<Option<Repositories>> {
    let (mut names, from_catalog): (Vec<String>, bool) = match registry.catalog().await {
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
        // The error names the registry itself: the context says what was read.
        Err(e) => return Err(anyhow::Error::new(e).context("listing the catalog")),
    };
    if names.is_empty() && !add_uncatalogued(ctx, registry, target, &mut names).await? {
        return Ok(None);
    }
    // Names go into URL paths: anything off the grammar cannot be read. It is a
    // failure of the listing (an error entry in JSON, exit 1), never a quiet skip.
    let mut unlistable: Vec<(String, RegistryError)> = Vec::new();
    names.retain(|r| {
        let ok = valid_repository(r);
        if !ok {
            unlistable.push((
                format!("{}/{}", target.registry, r),
                RegistryError::InvalidResponse {
                    url: format!("the catalog of {}", target.registry),
                    reason: format!(
                        "it names {r:?}, which is not a repository name regctl can put in a \
                         URL; not listed"
                    ),
                },
            ));
        }
        ok
    });
    // Sorted repositories, listed in order: the output is sorted without holding it all.
    names.sort();
    names.dedup();
    Ok(Some(Repositories {
        names,
        from_catalog,
        unlistable,
    }))
}

/// What the listing wrote and met, for the report after it.
struct Seen {
    writer: RowWriter,
    untagged: Vec<String>,
    failures: Vec<(String, RegistryError)>,
    dangling: usize,
}

/// Lists `repositories` in order, writing rows as each repository's come;
/// `None` when Ctrl-C stopped it (said on stderr, the output finished).
async fn stream_listings(
    ctx: &Invocation,
    registry: &Registry,
    target: &RegistryTarget,
    repositories: Vec<String>,
    digests: bool,
    from_catalog: bool,
) -> Result<Option<Seen>> {
    let total = repositories.len();
    let scopes: Vec<Scope> = repositories
        .iter()
        .map(|r| Scope::Pull(r.clone()))
        .collect();
    // Tokens are fetched ahead, in batches, while the listing runs: polled first,
    // the prefetch takes the scopes' cache slots before its first token fetch.
    let mut prefetch = std::pin::pin!(registry.prefetch_tokens(&scopes));
    let mut prefetched = false;
    let mut listings = stream::iter(repositories)
        .map(|repo| {
            list_repository(
                registry,
                &target.registry,
                repo,
                digests,
                from_catalog,
                ctx.concurrency,
            )
        })
        .buffered(ctx.concurrency);
    let mut seen = Seen {
        writer: RowWriter::new(ctx.format),
        untagged: Vec::new(),
        failures: Vec::new(),
        dangling: 0,
    };
    let mut done = 0usize;
    ctx.interrupt.claim();
    let interrupted = ctx.interrupt.wait();
    let mut ctrl_c = std::pin::pin!(interrupted);
    // A table waits for its rows to size its columns; a listing that takes long
    // draws what it has every so often and goes on in the same columns.
    let mut draw = tokio::time::interval_at(
        tokio::time::Instant::now() + TABLE_DRAW_EVERY,
        TABLE_DRAW_EVERY,
    );
    draw.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let listing = tokio::select! {
            biased;
            () = &mut prefetch, if !prefetched => {
                prefetched = true;
                continue;
            }
            next = listings.next() => match next {
                Some(listing) => listing,
                None => break,
            },
            _ = draw.tick(), if ctx.format == crate::cli::Format::Table => {
                seen.writer.draw_pending().context("writing the listing")?;
                continue;
            }
            _ = &mut ctrl_c => {
                seen.writer.finish().context("writing the listing")?;
                ctx.printer.note(format!(
                    "interrupted: {done} of {total} repositories listed; the output is incomplete"
                ));
                return Ok(None);
            }
        };
        done += 1;
        write_listing(ctx, &mut seen, listing, &target.registry)?;
    }
    Ok(Some(seen))
}

/// Writes one repository's rows (in JSON, what could not be read too) and
/// keeps what the report needs.
fn write_listing(ctx: &Invocation, seen: &mut Seen, listing: Listing, host: &str) -> Result<()> {
    seen.untagged
        .extend(listing.untagged.map(|r| format!("{host}/{r}")));
    seen.failures.extend(listing.failures);
    seen.dangling += listing.dangling;
    for entry in &listing.entries {
        seen.writer.write(entry).context("writing the listing")?;
    }
    if ctx.format == crate::cli::Format::Json {
        for entry in &listing.errors {
            seen.writer.write(entry).context("writing the listing")?;
        }
    }
    seen.writer.flush().context("writing the listing")?;
    Ok(())
}

/// Says on stderr what the listing left out, and gives its exit status.
fn report(
    ctx: &Invocation,
    mut untagged: Vec<String>,
    failures: &[(String, RegistryError)],
    dangling: usize,
) -> Exit {
    if !untagged.is_empty() {
        untagged.sort();
        ctx.printer.note(format!(
            "{} no tags: {}",
            crate::output::count_with(untagged.len(), "repository", ("has", "have")),
            crate::output::first_few(&untagged, 5)
        ));
    }
    if failures.is_empty() {
        return Exit::Success;
    }
    for (what, err) in failures {
        ctx.printer.error(format!("{what}: {err}"));
    }
    if dangling > 0 {
        ctx.printer.note(format!(
            "{} listed but their manifest is not served (dangling tags, most \
             likely left by a deletion): `regctl rm REF` removes one, `regctl prune` removes \
             them along with its plan",
            crate::output::count(dangling, "tag")
        ));
    }
    ctx.printer.error(format!(
        "the listing is incomplete: {} of its repositories or tags could not be read",
        failures.len()
    ));
    let kinds: Vec<ErrorKind> = failures.iter().map(|(_, e)| e.kind()).collect();
    Exit::worst(&kinds)
}

/// The sorted tags of one repository, with their digests when asked. The client
/// bounds how many requests run at once, across all repositories.
async fn list_repository(
    registry: &Registry,
    host: &str,
    repo: String,
    digests: bool,
    from_catalog: bool,
    window: usize,
) -> Listing {
    let mut listing = Listing {
        entries: Vec::new(),
        errors: Vec::new(),
        untagged: None,
        failures: Vec::new(),
        dangling: 0,
    };
    let mut tags = match registry.tags(&repo).await {
        Ok(tags) => tags,
        // Listed by the catalog but without a tag list: all its tags were deleted.
        Err(RegistryError::NotFound { .. }) if from_catalog => Vec::new(),
        Err(e) => {
            listing.errors.push(Entry {
                reference: format!("{host}/{repo}"),
                registry: host.to_string(),
                repository: repo.clone(),
                tag: None,
                digest: None,
                error: Some(e.to_string()),
            });
            listing.failures.push((repo, e));
            return listing;
        }
    };
    if tags.is_empty() {
        listing.untagged = Some(repo);
        return listing;
    }
    for bad in tags.iter().filter(|t| !valid_tag(t)) {
        listing.failures.push((
            format!("{host}/{repo}"),
            RegistryError::InvalidResponse {
                url: format!("{host}/{repo}"),
                reason: format!("the tag list holds {bad:?}, which is not a valid tag; skipped"),
            },
        ));
    }
    tags.retain(|t| valid_tag(t));
    tags.sort();
    tags.dedup();
    // Through a window of `window` lookups at a time: memory follows the window,
    // not the number of tags.
    let resolved: Vec<Option<Result<Digest, RegistryError>>> = if digests {
        stream::iter(tags.iter())
            .map(|tag| async {
                let reference = Reference::with_tag(host, &repo, tag);
                Some(registry.resolve(&reference).await.map(|h| h.digest))
            })
            .buffered(window)
            .collect()
            .await
    } else {
        tags.iter().map(|_| None).collect()
    };
    record(&mut listing, host, &repo, tags, resolved);
    listing
}

/// Each tag as a row, or as an error entry when its digest could not be read.
fn record(
    listing: &mut Listing,
    host: &str,
    repo: &str,
    tags: Vec<String>,
    resolved: Vec<Option<Result<Digest, RegistryError>>>,
) {
    for (tag, digest) in tags.into_iter().zip(resolved) {
        let reference = Reference::with_tag(host, repo, &tag).to_string();
        let digest = match digest {
            Some(Ok(d)) => Some(d),
            Some(Err(e)) => {
                if matches!(e, RegistryError::NotFound { .. }) {
                    listing.dangling += 1;
                }
                listing.errors.push(Entry {
                    reference: reference.clone(),
                    registry: host.to_string(),
                    repository: repo.to_string(),
                    tag: Some(tag),
                    digest: None,
                    error: Some(e.to_string()),
                });
                listing.failures.push((reference, e));
                continue;
            }
            None => None,
        };
        listing.entries.push(Entry {
            reference,
            registry: host.to_string(),
            repository: repo.to_string(),
            tag: Some(tag),
            digest,
            error: None,
        });
    }
}
