//! `cp -r`: every repository under a prefix, each image once with all its
//! tags, images side by side.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use anyhow::Result;
use futures_util::stream::{self, StreamExt as _};

use super::reach::{reach, reaches};
use super::row::with_progress;
use super::row::Copied;
use super::row::NOT_ATTEMPTED;
use crate::cli::CpArgs;
use crate::commands::context::{catalogued, parse_target, Invocation};
use crate::copy::registry_side::RegistrySide;
use crate::copy::transfer::{copy_image, Options};
use crate::copy::{CopyError, Manifest, Source, Summary};
use crate::graph::cosign_tag;
use crate::registry::auth::Scope;
use crate::registry::reference::ManifestRef;
use crate::registry::{Digest, ErrorKind, Registry};

/// Blobs of one image moved side by side in `cp -r`, where images move side
/// by side too.
const BLOBS_PER_IMAGE: usize = 4;

/// One image of `cp -r`: a repository's manifest and the tags on it.
struct Job {
    repository: String,
    destination: String,
    /// The manifest, as read by one of its tags.
    root: Manifest,
    tags: Vec<String>,
    all_tags: Arc<Vec<String>>,
}

/// `cp -r HOST/PREFIX HOST/PREFIX`: every repository under the prefix, each
/// image once with all its tags, images side by side.
pub(super) async fn run(args: &CpArgs, ctx: &Invocation) -> Result<Vec<Copied>> {
    let from = parse_target(&args.source)?;
    let to = parse_target(&args.destination)?;
    let sides = reaches(args, ctx)?;
    let source = reach(ctx, &from.registry, &sides.0).await?;
    let sink = reach(ctx, &to.registry, &sides.1).await?;
    let repositories = catalogued(ctx, &source, &from, "copying").await?;
    ctx.interrupt.claim();
    let destinations: Vec<String> = repositories
        .iter()
        .map(|r| destination_repository(r, from.prefix.as_deref(), to.prefix.as_deref()))
        .collect();
    // Under token auth, the tokens every repository needs, a few requests for all
    // of them (reading the source, reading and writing the destination).
    let reads: Vec<Scope> = repositories
        .iter()
        .map(|r| Scope::Pull(r.clone()))
        .collect();
    let writes: Vec<Scope> = destinations
        .iter()
        .flat_map(|r| [Scope::Pull(r.clone()), Scope::Push(r.clone())])
        .collect();
    tokio::join!(
        source.prefetch_tokens(&reads),
        sink.prefetch_tokens(&writes)
    );
    let options = Options::new(
        BLOBS_PER_IMAGE,
        args.force,
        args.dry_run,
        ctx.interrupt.flag(),
    );
    let attachments = !args.no_attachments;
    let halt = Halt::default();
    let (done, listed) = (AtomicUsize::new(0), AtomicUsize::new(0));
    // Each repository's images, a few repositories at a time, each image copied
    // as soon as its repository is read: no wait for the whole listing. The
    // listing runs beside the copies (a channel between them), so that a copy
    // waiting for a request slot never waits on a listing nobody polls. A
    // repository that cannot be read is a row of its own, with its error.
    let (found, mut queue) = tokio::sync::mpsc::unbounded_channel::<Result<Job, Unlisted>>();
    let listing = async {
        let (source, sink) = (&source, &sink);
        let mut repositories = stream::iter(repositories.iter().zip(destinations))
            .map(|(repository, destination)| async move {
                let jobs = jobs_of(args, source, repository, destination.clone()).await;
                jobs.map_err(|e| Unlisted {
                    source: format!("{}/{repository}", source.host()),
                    destination: format!("{}/{destination}", sink.host()),
                    error: format!("{e:#}"),
                })
            })
            .buffered(4);
        while let Some(jobs) = repositories.next().await {
            match jobs {
                Ok(jobs) => {
                    listed.fetch_add(jobs.len(), Ordering::Relaxed);
                    jobs.into_iter().for_each(|job| drop(found.send(Ok(job))));
                }
                Err(unlisted) => {
                    listed.fetch_add(1, Ordering::Relaxed);
                    drop(found.send(Err(unlisted)));
                }
            }
        }
        // The copies' queue ends with the listing.
        drop(found);
    };
    let copying = stream::poll_fn(|cx| queue.poll_recv(cx))
        .map(|job| async {
            let row = match job {
                Ok(job) => copy_job(&job, (&source, &sink), attachments, &options, &halt).await,
                Err(unlisted) => unlisted.row(options.dry_run),
            };
            done.fetch_add(1, Ordering::Relaxed);
            row
        })
        .buffer_unordered(ctx.concurrency.max(1))
        .collect::<Vec<Copied>>();
    let ((), rows) = tokio::join!(
        listing,
        with_progress(copying, &options.progress, Some((&done, &listed)))
    );
    Ok(rows)
}

/// A repository whose images could not be listed.
struct Unlisted {
    source: String,
    destination: String,
    error: String,
}

impl Unlisted {
    fn row(self, dry_run: bool) -> Copied {
        Copied {
            source: self.source,
            destination: self.destination,
            digest: None,
            attachments: 0,
            summary: Summary::default(),
            error: Some(self.error),
            dry_run,
        }
    }
}

/// Where repository `repository` (under prefix `from`) goes under prefix `to`.
fn destination_repository(repository: &str, from: Option<&str>, to: Option<&str>) -> String {
    let rest = match from {
        Some(prefix) if repository == prefix => "",
        Some(prefix) => repository
            .strip_prefix(prefix)
            .and_then(|r| r.strip_prefix('/'))
            .unwrap_or(repository),
        None => repository,
    };
    match (to, rest) {
        (Some(to), "") => to.to_string(),
        (Some(to), rest) => format!("{to}/{rest}"),
        (None, "") => repository.to_string(),
        (None, rest) => rest.to_string(),
    }
}

/// The images of `repository` the flags select, each with its tags.
async fn jobs_of(
    args: &CpArgs,
    source: &Arc<Registry>,
    repository: &str,
    destination: String,
) -> Result<Vec<Job>> {
    let all_tags = Arc::new(source.tags(repository).await?);
    let selected: Vec<&String> = all_tags
        .iter()
        // Attachment tags go along with what they are attached to.
        .filter(|t| cosign_tag(t).is_none() && !is_fallback_tag(t))
        .filter(|t| args.tags.as_ref().is_none_or(|re| re.is_match(t)))
        .filter(|t| !args.exclude.as_ref().is_some_and(|re| re.is_match(t)))
        .collect();
    // Each tag's manifest, read once: its digest groups the tags, its bytes are
    // the image's root (no second read by digest).
    let side = RegistrySide {
        registry: source.clone(),
        repository: repository.to_string(),
    };
    let read = stream::iter(selected.iter())
        .map(|tag| {
            let side = &side;
            async move {
                let manifest = side.manifest(&ManifestRef::Tag(tag.to_string())).await;
                (tag.to_string(), manifest)
            }
        })
        .buffered(16)
        .collect::<Vec<_>>()
        .await;
    let mut by_digest: std::collections::BTreeMap<Digest, (Manifest, Vec<String>)> =
        Default::default();
    for (tag, manifest) in read {
        let manifest = manifest?;
        by_digest
            .entry(manifest.digest.clone())
            .or_insert_with(|| (manifest, Vec::new()))
            .1
            .push(tag);
    }
    Ok(by_digest
        .into_values()
        .map(|(root, mut tags)| {
            tags.sort();
            Job {
                repository: repository.to_string(),
                destination: destination.clone(),
                root,
                tags,
                all_tags: all_tags.clone(),
            }
        })
        .collect())
}

/// `sha256-<hex>`: the referrers fallback tag of a manifest.
fn is_fallback_tag(tag: &str) -> bool {
    tag.strip_prefix("sha256-")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Why the destination refuses what a copy writes, once one image found out:
/// the images after it are not attempted.
type Halt = std::sync::OnceLock<String>;

/// Whether `e` says the destination refuses every write (read-only, a
/// pull-through cache, no push right), not just this one.
fn refuses_writes(e: &CopyError) -> bool {
    matches!(e, CopyError::Registry(r) if matches!(r.kind(), ErrorKind::Unsupported | ErrorKind::Auth))
}

async fn copy_job(
    job: &Job,
    (source, sink): (&Arc<Registry>, &Arc<Registry>),
    attachments: bool,
    options: &Options<'_>,
    halt: &Halt,
) -> Copied {
    let from = RegistrySide {
        registry: source.clone(),
        repository: job.repository.clone(),
    };
    let to = RegistrySide {
        registry: sink.clone(),
        repository: job.destination.clone(),
    };
    let shown_source = format!(
        "{}/{}:{}",
        source.host(),
        job.repository,
        job.tags.join(",")
    );
    let shown_destination = format!("{}/{}:{}", sink.host(), job.destination, job.tags.join(","));
    let done = async {
        if let Some(why) = halt.get() {
            return Err(CopyError::Invalid(format!("{NOT_ATTEMPTED}{why}")));
        }
        let source_tags = attachments.then_some(job.all_tags.as_slice());
        let tags = (source_tags, job.tags.as_slice());
        copy_image(&from, &to, job.root.clone(), tags, options).await
    };
    match done.await {
        Ok((attachments, summary)) => Copied {
            source: shown_source,
            destination: shown_destination,
            digest: Some(job.root.digest.clone()),
            attachments,
            summary,
            error: None,
            dry_run: options.dry_run,
        },
        Err(e) => {
            if refuses_writes(&e) {
                let _ = halt.set(format!("{} refused a write ({e})", sink.host()));
            }
            Copied {
                source: shown_source,
                destination: shown_destination,
                digest: Some(job.root.digest.clone()),
                attachments: 0,
                summary: Summary::default(),
                error: Some(e.to_string()),
                dry_run: options.dry_run,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_keep_their_place_under_the_new_prefix() {
        assert_eq!(
            destination_repository("team/app", Some("team"), Some("prod")),
            "prod/app"
        );
        assert_eq!(
            destination_repository("team", Some("team"), Some("prod")),
            "prod"
        );
        assert_eq!(
            destination_repository("team/a/b", Some("team"), None),
            "a/b"
        );
        assert_eq!(
            destination_repository("app", None, Some("mirror")),
            "mirror/app"
        );
        assert_eq!(destination_repository("app", None, None), "app");
    }

    #[test]
    fn fallback_tags_are_told_from_image_tags() {
        assert!(is_fallback_tag(&format!("sha256-{}", "a".repeat(64))));
        assert!(!is_fallback_tag("sha256-abc"));
        assert!(!is_fallback_tag("v1"));
    }
}
