//! `regctl cp SRC DST` and `regctl cp -r HOST/PREFIX HOST/PREFIX`: images read
//! as graphs (with their attachments) and written blobs first, manifests
//! bottom-up, tags last, by the [`crate::copy`] engine. A row per image on
//! stdout, the counts on stderr.

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use anyhow::Result;
use futures_util::stream::{self, StreamExt as _};
use serde::Serialize;
use tokio::sync::Semaphore;

use super::context::{catalogued, parse_target, Invocation};
use crate::cli::CpArgs;
use crate::copy::layout_side::LayoutSide;
use crate::copy::registry_side::RegistrySide;
use crate::copy::transfer::{Options, MEMORY_MIB};
use crate::copy::{transfer, walk, CopyError, Manifest, Sink, Source, Summary};
use crate::exit::{Exit, UsageError};
use crate::graph::cosign_tag;
use crate::layout::oci::OciLayout;
use crate::layout::LocalRef;
use crate::output::{count, escape, human_bytes, render_data, Row};
use crate::registry::reference::ManifestRef;
use crate::registry::{Credential, Digest, Reference, Registry, Resolved, Secret};

/// Blobs of one image moved side by side in `cp -r`, where images move side
/// by side too.
const BLOBS_PER_IMAGE: usize = 4;

/// Said after Ctrl-C or the deadline.
const INTERRUPTED: &str =
    "interrupted: no tag was set on an image not wholly copied; the same copy again finishes it";

/// One side of `cp`, as the user named it.
enum Side {
    Registry(Reference),
    Oci { path: PathBuf, name: Option<String> },
}

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
        recursive(args, ctx).await
    } else {
        single(args, ctx).await.map(|row| vec![row])
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

fn parse_side(ctx: &Invocation, input: &str) -> Result<Side> {
    match LocalRef::parse(input) {
        Some(Ok(LocalRef::Oci { path, tag })) => Ok(Side::Oci { path, name: tag }),
        Some(Ok(_)) => Err(UsageError(format!(
            "`{}`: cp reads and writes OCI layout folders (oci:PATH[:NAME]); oci-archive: and \
             docker-archive: are not supported yet",
            escape(input)
        ))
        .into()),
        Some(Err(e)) => Err(UsageError(e.to_string()).into()),
        None => Ok(Side::Registry(
            ctx.parse_references(std::slice::from_ref(&input.to_string()))?
                .remove(0),
        )),
    }
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

/// `cp SRC DST`: one image.
async fn single(args: &CpArgs, ctx: &Invocation) -> Result<Copied> {
    let source = parse_side(ctx, &args.source)?;
    let destination = parse_side(ctx, &args.destination)?;
    if let (Side::Oci { .. }, Side::Oci { .. }) = (&source, &destination) {
        return Err(
            UsageError("copy from or to a registry: both sides are OCI layouts".into()).into(),
        );
    }
    if let Side::Registry(r) = &destination {
        if r.digest().is_some() {
            return Err(UsageError(format!(
                "`{}`: the destination takes a tag or nothing (the image keeps its digest)",
                escape(&args.destination)
            ))
            .into());
        }
    }
    let sides = reaches(args, ctx)?;
    ctx.interrupt.claim();
    let memory = Semaphore::new(MEMORY_MIB as usize);
    let progress = AtomicU64::new(0);
    let options = Options {
        concurrency: ctx.concurrency,
        force: args.force,
        cancel: ctx.interrupt.flag(),
        memory: &memory,
        progress: &progress,
        dry_run: args.dry_run,
    };
    let attachments = !args.no_attachments;
    match source {
        Side::Registry(r) => {
            let side = RegistrySide {
                registry: reach(ctx, r.registry(), &sides.0).await?,
                repository: r.repository().to_string(),
            };
            let root = match side.manifest(&r.manifest_reference()).await {
                Ok(m) => m,
                Err(CopyError::Registry(e)) => {
                    return Err(side
                        .registry
                        .explain_missing(&side.repository, e)
                        .await
                        .into())
                }
                Err(e) => return Err(e.into()),
            };
            let named = Named {
                text: r.to_string(),
                tag: r.tag().map(str::to_string),
            };
            to_destination(
                ctx,
                &side,
                root,
                named,
                (destination, &sides.1),
                attachments,
                &options,
            )
            .await
        }
        Side::Oci { path, name } => {
            let side = LayoutSide {
                layout: OciLayout::open(&path)?,
            };
            let entry = side.entry(name.as_deref()).await?;
            let root = side.manifest(&ManifestRef::Digest(entry.digest)).await?;
            let named = Named {
                text: escape(&args.source),
                tag: entry.name,
            };
            to_destination(
                ctx,
                &side,
                root,
                named,
                (destination, &sides.1),
                attachments,
                &options,
            )
            .await
        }
    }
}

/// The source as named, and the tag it carries there.
struct Named {
    text: String,
    tag: Option<String>,
}

async fn to_destination<S: Source>(
    ctx: &Invocation,
    source: &S,
    root: Manifest,
    named: Named,
    (destination, how): (Side, &Reach),
    attachments: bool,
    options: &Options<'_>,
) -> Result<Copied> {
    match destination {
        Side::Registry(r) => {
            let sink = RegistrySide {
                registry: reach(ctx, r.registry(), how).await?,
                repository: r.repository().to_string(),
            };
            let tag = r.tag().map(str::to_string).or(named.tag.clone());
            let shown = match &tag {
                Some(tag) => format!("{}/{}:{tag}", r.registry(), r.repository()),
                None => format!("{}/{}", r.registry(), r.repository()),
            };
            copy_image(
                source,
                &sink,
                root,
                &named.text,
                shown,
                tag,
                attachments,
                options,
            )
            .await
        }
        Side::Oci { path, name } => {
            let layout = match OciLayout::open(&path) {
                Ok(layout) => layout,
                Err(_) if !path.join("index.json").exists() => OciLayout::create(&path)?,
                Err(e) => return Err(e.into()),
            };
            let sink = LayoutSide { layout };
            // Without a name the image is listed unnamed, as skopeo lists it.
            let tag = name.or(named.tag.clone()).unwrap_or_default();
            let shown = format!(
                "oci:{}{}",
                path.display(),
                if tag.is_empty() {
                    String::new()
                } else {
                    format!(":{tag}")
                }
            );
            copy_image(
                source,
                &sink,
                root,
                &named.text,
                escape(&shown),
                Some(tag),
                attachments,
                options,
            )
            .await
        }
    }
}

/// Reads the image `root` (with its attachments) and writes it to `sink` under `tag`.
#[allow(clippy::too_many_arguments)]
async fn copy_image<S: Source, D: Sink>(
    source: &S,
    sink: &D,
    root: Manifest,
    shown_source: &str,
    shown_destination: String,
    tag: Option<String>,
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

/// One image of `cp -r`: a repository's manifest and the tags on it.
struct Job {
    repository: String,
    destination: String,
    digest: Digest,
    tags: Vec<String>,
    all_tags: Arc<Vec<String>>,
}

/// `cp -r HOST/PREFIX HOST/PREFIX`: every repository under the prefix, each
/// image once with all its tags, images side by side.
async fn recursive(args: &CpArgs, ctx: &Invocation) -> Result<Vec<Copied>> {
    let from = parse_target(&args.source)?;
    let to = parse_target(&args.destination)?;
    let sides = reaches(args, ctx)?;
    let source = reach(ctx, &from.registry, &sides.0).await?;
    let sink = reach(ctx, &to.registry, &sides.1).await?;
    let repositories = catalogued(ctx, &source, &from, "copying").await?;
    ctx.interrupt.claim();
    let mut jobs = Vec::new();
    for repository in &repositories {
        let destination =
            destination_repository(repository, from.prefix.as_deref(), to.prefix.as_deref());
        jobs.extend(jobs_of(args, &source, repository, destination).await?);
    }
    let memory = Semaphore::new(MEMORY_MIB as usize);
    let progress = AtomicU64::new(0);
    let options = Options {
        concurrency: BLOBS_PER_IMAGE,
        force: args.force,
        cancel: ctx.interrupt.flag(),
        memory: &memory,
        progress: &progress,
        dry_run: args.dry_run,
    };
    let attachments = !args.no_attachments;
    let rows = stream::iter(jobs.iter())
        .map(|job| copy_job(job, &source, &sink, attachments, &options))
        .buffer_unordered(ctx.concurrency.max(1))
        .collect::<Vec<Copied>>()
        .await;
    Ok(rows)
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
    let heads = stream::iter(selected.iter())
        .map(|tag| async move {
            let reference = Reference::with_tag(source.host(), repository, tag);
            (
                tag.to_string(),
                source.resolve(&reference).await.map(|h| h.digest),
            )
        })
        .buffered(16)
        .collect::<Vec<_>>()
        .await;
    let mut by_digest: std::collections::BTreeMap<Digest, Vec<String>> = Default::default();
    for (tag, digest) in heads {
        by_digest.entry(digest?).or_default().push(tag);
    }
    Ok(by_digest
        .into_iter()
        .map(|(digest, mut tags)| {
            tags.sort();
            (digest, tags)
        })
        .map(|(digest, tags)| Job {
            repository: repository.to_string(),
            destination: destination.clone(),
            digest,
            tags,
            all_tags: all_tags.clone(),
        })
        .collect())
}

/// `sha256-<hex>`: the referrers fallback tag of a manifest.
fn is_fallback_tag(tag: &str) -> bool {
    tag.strip_prefix("sha256-")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

async fn copy_job(
    job: &Job,
    source: &Arc<Registry>,
    sink: &Arc<Registry>,
    attachments: bool,
    options: &Options<'_>,
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
        let root = from
            .manifest(&ManifestRef::Digest(job.digest.clone()))
            .await?;
        let tags = attachments.then_some(job.all_tags.as_slice());
        let plan = walk(&from, root, tags).await?;
        let summary = transfer(&from, &to, &plan, &job.tags, options).await?;
        Ok::<_, CopyError>((plan.attachments(), summary))
    };
    match done.await {
        Ok((attachments, summary)) => Copied {
            source: shown_source,
            destination: shown_destination,
            digest: Some(job.digest.clone()),
            attachments,
            summary,
            error: None,
            dry_run: options.dry_run,
        },
        Err(e) => Copied {
            source: shown_source,
            destination: shown_destination,
            digest: Some(job.digest.clone()),
            attachments: 0,
            summary: Summary::default(),
            error: Some(e.to_string()),
            dry_run: options.dry_run,
        },
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
