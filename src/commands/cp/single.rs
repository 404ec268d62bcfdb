//! `cp SRC DST`: one image, between a registry and a registry, an OCI layout
//! (a folder or an archive), or from a `docker save` archive.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;

use super::reach::{reach, reaches, Reach};
use super::row::with_progress;
use super::row::Copied;
use crate::cli::CpArgs;
use crate::commands::context::{blocking, Invocation};
use crate::copy::any_source::AnySource;
use crate::copy::layout_side::LayoutSide;
use crate::copy::ready_side::ReadySide;
use crate::copy::registry_side::RegistrySide;
use crate::copy::transfer::{self, Options};
use crate::copy::{pick_platform, CopyError, Manifest, Sink, Source};
use crate::exit::UsageError;
use crate::layout::docker_archive::DockerArchive;
use crate::layout::oci::OciLayout;
use crate::layout::oci_archive::{self, Unpacked};
use crate::layout::{docker_save, push_ready, LocalRef};
use crate::output::escape;
use crate::registry::reference::ManifestRef;
use crate::registry::{Platform, Reference};

/// One side of `cp`, as the user named it.
enum Side {
    Registry(Reference),
    /// An OCI layout: a folder, or (`archive`) a tar of one.
    Oci {
        path: PathBuf,
        name: Option<String>,
        archive: bool,
    },
    /// A `docker save` archive (`None`: standard input).
    DockerArchive {
        file: Option<PathBuf>,
        image: Option<String>,
    },
}

impl Side {
    fn parse(ctx: &Invocation, input: &str) -> Result<Side> {
        match LocalRef::parse(input) {
            Some(Ok(LocalRef::Oci { path, tag })) => Ok(Side::Oci {
                path,
                name: tag,
                archive: false,
            }),
            Some(Ok(LocalRef::OciArchive { file, tag })) => Ok(Side::Oci {
                path: file,
                name: tag,
                archive: true,
            }),
            Some(Ok(LocalRef::DockerArchive { file, image })) => {
                Ok(Side::DockerArchive { file, image })
            }
            Some(Err(e)) => Err(UsageError(e.to_string()).into()),
            None => Ok(Side::Registry(
                ctx.parse_references(std::slice::from_ref(&input.to_string()))?
                    .remove(0),
            )),
        }
    }

    fn is_local(&self) -> bool {
        !matches!(self, Side::Registry(_))
    }
}

/// The source as named, and the tag it carries there (the destination's tag
/// when it names none).
struct Named {
    text: String,
    tag: Option<String>,
}

/// `cp SRC DST`: one image.
pub(super) async fn run(args: &CpArgs, ctx: &Invocation) -> Result<Copied> {
    let source = Side::parse(ctx, &args.source)?;
    let destination = Side::parse(ctx, &args.destination)?;
    if source.is_local() && destination.is_local() {
        return Err(
            UsageError("one side of a copy is a registry: both name local images".into()).into(),
        );
    }
    match &destination {
        Side::Registry(r) if r.digest().is_some() => {
            return Err(UsageError(format!(
                "`{}`: the destination takes a tag or nothing (the image keeps its digest)",
                escape(&args.destination)
            ))
            .into())
        }
        Side::DockerArchive { file: None, .. } => {
            return Err(UsageError(
                "docker-archive:- reads standard input; to write, name a file \
                 (docker-archive:FILE[:NAME])"
                    .into(),
            )
            .into())
        }
        _ => {}
    }
    let sides = reaches(args, ctx)?;
    ctx.interrupt.claim();
    let options = Options::new(
        ctx.concurrency,
        args.force,
        args.dry_run,
        ctx.interrupt.flag(),
    );
    let platform = args
        .platform
        .as_deref()
        .map(|p| p.parse::<Platform>().map_err(UsageError))
        .transpose()?;
    // A source tag is read again afterwards: one that moved meanwhile is said.
    let tagged_source = match &source {
        Side::Registry(r) if r.tag().is_some() && r.digest().is_none() => Some(r.clone()),
        _ => None,
    };
    // What was unpacked stays on disk until the copy is done.
    let (source, root, named, _unpacked) = open_source(ctx, source, &args.source, &sides.0).await?;
    let first = root.digest.clone();
    let root = match &platform {
        Some(platform) => {
            let (picked, index) = pick_platform(&source, root, platform).await?;
            if let Some(index) = index {
                ctx.printer.note(format!(
                    "the {platform} image of index {index}: the copy's digest is {}, its own",
                    picked.digest
                ));
            }
            picked
        }
        None => root,
    };
    let copying = to_destination(
        ctx,
        &source,
        root,
        named,
        (destination, &sides.1),
        !args.no_attachments,
        &options,
    );
    let copied = with_progress(copying, &options.progress, None).await?;
    if let Some(r) = tagged_source {
        let registry = reach(ctx, r.registry(), &sides.0).await?;
        if let Ok(now) = registry.resolve(&r).await {
            if now.digest != first {
                ctx.printer.note(format!(
                    "{r} moved to {} during the copy; copied as it was first read, {first}",
                    now.digest
                ));
            }
        }
    }
    Ok(copied)
}

/// The source, the image it names, and what was unpacked to read it.
async fn open_source(
    ctx: &Invocation,
    side: Side,
    input: &str,
    how: &Reach,
) -> Result<(AnySource, Manifest, Named, Option<Unpacked>)> {
    match side {
        Side::Registry(r) => {
            let side = RegistrySide {
                registry: reach(ctx, r.registry(), how).await?,
                repository: r.repository().to_string(),
            };
            let root = match side.manifest(&r.manifest_reference()).await {
                Ok(m) => m,
                Err(CopyError::Registry(e)) => {
                    let explained = side.registry.explain_missing(&side.repository, e).await;
                    return Err(explained.into());
                }
                Err(e) => return Err(e.into()),
            };
            let named = Named {
                text: r.to_string(),
                tag: r.tag().map(str::to_string),
            };
            Ok((AnySource::Registry(side), root, named, None))
        }
        Side::Oci {
            path,
            name,
            archive,
        } => {
            let (layout, unpacked) = if archive {
                let unpacked = blocking(move || oci_archive::unpack(&path)).await??;
                (unpacked.layout.clone(), Some(unpacked))
            } else {
                (OciLayout::open(&path)?, None)
            };
            let side = LayoutSide { layout };
            let entry = side.entry(name.as_deref()).await?;
            let root = side.manifest(&ManifestRef::Digest(entry.digest)).await?;
            let named = Named {
                text: escape(input),
                tag: entry.name,
            };
            Ok((AnySource::Layout(side), root, named, unpacked))
        }
        Side::DockerArchive { file, image } => {
            let (ready, tag) = blocking(move || {
                let archive = DockerArchive::open(file.as_deref())?;
                let chosen = archive.image(image.as_deref())?.clone();
                let ready = push_ready::prepare(&archive, &chosen)?;
                // `docker save web:1.0` names it `web:1.0`: its tag goes along.
                let tag = chosen
                    .repo_tags
                    .iter()
                    .flatten()
                    .find_map(|t| t.rsplit_once(':').map(|(_, tag)| tag.to_string()))
                    .filter(|t| !t.contains('/'));
                Ok::<_, crate::layout::LayoutError>((ready, tag))
            })
            .await??;
            let side = ReadySide {
                image: Arc::new(ready),
                shown: escape(input),
            };
            let root = side.manifest();
            let named = Named {
                text: escape(input),
                tag,
            };
            Ok((AnySource::Ready(side), root, named, None))
        }
    }
}

async fn to_destination(
    ctx: &Invocation,
    source: &AnySource,
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
            let to = (&sink, shown, tag);
            copy_image(source, to, root, &named.text, attachments, options).await
        }
        Side::Oci {
            path,
            name,
            archive,
        } => {
            let (layout, unpacked) = layout_to_write(&path, archive).await?;
            let sink = LayoutSide { layout };
            // Without a name the image is listed unnamed, as skopeo lists it.
            let tag = name.or(named.tag.clone()).unwrap_or_default();
            let scheme = if archive { "oci-archive" } else { "oci" };
            let shown = match tag.as_str() {
                "" => format!("{scheme}:{}", path.display()),
                tag => format!("{scheme}:{}:{tag}", path.display()),
            };
            let to = (&sink, escape(&shown), Some(tag));
            let copied = copy_image(source, to, root, &named.text, attachments, options).await?;
            if archive && !options.dry_run {
                let layout = sink.layout.clone();
                blocking(move || oci_archive::pack(&layout, &path)).await??;
            }
            drop(unpacked);
            Ok(copied)
        }
        Side::DockerArchive { file, image } => {
            let Some(path) = file else {
                return Err(UsageError("docker-archive:- is read only".into()).into());
            };
            // A docker-archive holds one image and nothing attached to it.
            let unpacked = Unpacked::empty()?;
            let sink = LayoutSide {
                layout: unpacked.layout.clone(),
            };
            let shown = format!("docker-archive:{}", path.display());
            let to = (&sink, escape(&shown), Some(String::new()));
            let copied = copy_image(source, to, root, &named.text, false, options).await?;
            if attachments {
                ctx.printer
                    .note("a docker-archive holds one image: attachments are left behind");
            }
            // Loaded under the name given, else the source's reference.
            let name = image.or_else(|| named.tag.is_some().then(|| named.text.clone()));
            if let (Some(digest), false) = (copied.digest.clone(), options.dry_run) {
                let layout = sink.layout.clone();
                blocking(move || docker_save::write(&layout, &digest, name.as_deref(), &path))
                    .await??;
            }
            drop(unpacked);
            Ok(copied)
        }
    }
}

/// The layout to write: the folder (made when missing), or for an archive the
/// one in it (kept whole: a copy adds to it) or a new one, packed afterwards.
async fn layout_to_write(
    path: &std::path::Path,
    archive: bool,
) -> Result<(OciLayout, Option<Unpacked>)> {
    if archive {
        let path = path.to_path_buf();
        if path.exists() {
            let unpacked = blocking(move || oci_archive::unpack(&path)).await??;
            return Ok((unpacked.layout.clone(), Some(unpacked)));
        }
        let unpacked = Unpacked::empty()?;
        return Ok((unpacked.layout.clone(), Some(unpacked)));
    }
    Ok(match OciLayout::open(path) {
        Ok(layout) => layout,
        Err(_) if !path.join("index.json").exists() => OciLayout::create(path)?,
        Err(e) => return Err(e.into()),
    })
    .map(|layout| (layout, None))
}

/// Reads the image `root` (with its attachments) and writes it to `sink`
/// Copies the image `root` (with its attachments) to `sink` (shown as given)
/// under `tag`, as a row.
async fn copy_image<S: Source, D: Sink>(
    source: &S,
    (sink, shown_destination, tag): (&D, String, Option<String>),
    root: Manifest,
    shown_source: &str,
    attachments: bool,
    options: &Options<'_>,
) -> Result<Copied> {
    let source_tags = if attachments {
        Some(source.tags().await?)
    } else {
        None
    };
    let digest = root.digest.clone();
    let tags = (source_tags.as_deref(), tag.as_slice());
    let (attachments, summary) = transfer::copy_image(source, sink, root, tags, options).await?;
    Ok(Copied {
        source: shown_source.to_string(),
        destination: shown_destination,
        digest: Some(digest),
        attachments,
        summary,
        error: None,
        dry_run: options.dry_run,
    })
}
