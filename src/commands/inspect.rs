//! `regctl inspect REF...`: what each manifest is (platforms, config, layers,
//! attachments), as text or JSON; `--raw` the manifest's bytes exactly as served,
//! `--config` the config blob's.

use anyhow::{Context as _, Result};
use futures_util::stream::{self, StreamExt as _};

use super::context::{collect_interruptible, Invocation};
use crate::cli::{Format, InspectArgs};
use crate::exit::{Exit, UsageError};
use crate::inspect::{inspect, Inspection};
use crate::output::{escape, human_bytes};
use crate::registry::{ErrorKind, Platform, Reference, Registry, RegistryError};

/// Runs `regctl inspect`.
pub async fn run(args: &InspectArgs, ctx: &Invocation) -> Result<Exit> {
    if (args.raw || args.config) && args.references.len() != 1 {
        return Err(
            UsageError("--raw and --config print one document: give one reference".into()).into(),
        );
    }
    let platform = args
        .platform
        .as_deref()
        .map(|p| p.parse::<Platform>().map_err(UsageError))
        .transpose()?;
    let references = ctx.references(&args.references).await?;
    let mut registries = Vec::with_capacity(references.len());
    for reference in &references {
        registries.push(ctx.registry(reference.registry()).await?);
    }
    if let (true, [reference], [registry]) = (args.raw, &references[..], &registries[..]) {
        return print_raw(registry, reference, platform.as_ref()).await;
    }
    let reading = stream::iter(references.iter().zip(registries))
        .map(|(reference, registry)| {
            let platform = platform.clone();
            async move {
                let read = async {
                    let target = chosen(&registry, reference, platform.as_ref()).await?;
                    inspect(&registry, &target).await
                };
                match read.await {
                    Err(e) => Err(registry.explain_missing(reference.repository(), e).await),
                    read => read,
                }
            }
        })
        .buffered(ctx.concurrency.clamp(1, 8));
    let Some(results) = collect_interruptible(ctx, "references", references.len(), reading).await
    else {
        return Ok(ctx.interrupt.exit());
    };
    let (inspections, failed) = reported(ctx, &references, results);
    // (`--raw` returned above, with the manifest alone.)
    if args.config {
        return print_config(ctx, inspections.first(), &failed);
    }
    let text = match ctx.format {
        Format::Json => crate::output::json_pretty(&inspections)? + "\n",
        format => inspections
            .iter()
            .map(|i| describe(i, format == Format::Table))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    crate::output::write_stdout(&text).context("writing the inspection")?;
    Ok(Exit::worst(&failed))
}

/// `--raw`: the manifest alone, as served; nothing else it points at is read.
async fn print_raw(
    registry: &Registry,
    reference: &Reference,
    platform: Option<&Platform>,
) -> Result<Exit> {
    let read = async {
        let target = chosen(registry, reference, platform).await?;
        registry
            .get_manifest(target.repository(), &target.manifest_reference())
            .await
    };
    let manifest = match read.await {
        Ok(manifest) => manifest,
        Err(e) => {
            return Err(registry
                .explain_missing(reference.repository(), e)
                .await
                .into())
        }
    };
    write_bytes(&manifest.bytes).context("writing the manifest")?;
    Ok(Exit::Success)
}

/// The inspections that were read (their warnings said on stderr), and the
/// kinds of the failures (each said on stderr, led by its reference).
fn reported(
    ctx: &Invocation,
    references: &[Reference],
    results: Vec<Result<Inspection, RegistryError>>,
) -> (Vec<Inspection>, Vec<ErrorKind>) {
    let mut inspections = Vec::new();
    let mut failed = Vec::new();
    for (reference, result) in references.iter().zip(results) {
        match result {
            Ok(i) => {
                for warning in &i.warnings {
                    ctx.printer
                        .warn(format!("{reference}: {}", escape(warning)));
                }
                inspections.push(i)
            }
            Err(e) => {
                ctx.printer.error(super::context::about(
                    &reference.to_string(),
                    &e.to_string(),
                ));
                failed.push(e.kind());
            }
        }
    }
    (inspections, failed)
}

/// `--config`: the image config of the one inspection, as served. Known only
/// once the manifest is read: an index or an artifact is a failure of this
/// reference, not a usage error (exit 2 says no request was made).
fn print_config(
    ctx: &Invocation,
    inspection: Option<&Inspection>,
    failed: &[ErrorKind],
) -> Result<Exit> {
    let Some(inspection) = inspection else {
        return Ok(Exit::worst(failed));
    };
    let Some(bytes) = &inspection.raw_config else {
        ctx.printer.error(format!(
            "{} has no image config to print (an index, or an artifact whose config is \
             {}); for an index, choose a platform with --platform OS/ARCH",
            escape(&inspection.reference),
            inspection
                .config
                .as_ref()
                .map_or("absent".to_string(), |c| escape(&c.media_type))
        ));
        return Ok(Exit::Failure);
    };
    write_bytes(bytes).context("writing the document")?;
    Ok(Exit::Success)
}

/// What to read for `reference`: itself, or with `platform` the child of the
/// index it names for that platform, by digest (a single image of that
/// platform is itself).
async fn chosen(
    registry: &Registry,
    reference: &Reference,
    platform: Option<&Platform>,
) -> Result<Reference, RegistryError> {
    match platform {
        None => Ok(reference.clone()),
        Some(p) => Ok(reference.sibling(registry.resolve_platform(reference, p).await?)),
    }
}

/// The bytes as they are (a closed pipe is no error). On a terminal, control
/// characters other than newlines and tabs are shown escaped: the bytes come
/// from the registry.
fn write_bytes(bytes: &[u8]) -> std::io::Result<()> {
    use std::io::IsTerminal as _;
    if std::io::stdout().is_terminal() {
        let text = String::from_utf8_lossy(bytes);
        let shown: Vec<String> = text
            .split('\n')
            .map(|line| line.split('\t').map(escape).collect::<Vec<_>>().join("\t"))
            .collect();
        return crate::output::write_stdout(shown.join("\n"));
    }
    crate::output::write_stdout(bytes)
}

/// The inspection as `key: value` lines; sizes for people when `human`.
fn describe(i: &Inspection, human: bool) -> String {
    let size = |b: u64| if human { human_bytes(b) } else { b.to_string() };
    let mut out = String::new();
    let mut line = |key: &str, value: String| {
        out += &format!("{key:<14}{}\n", escape(&value));
    };
    line("reference", i.reference.clone());
    line("digest", i.digest.to_string());
    line("media type", i.media_type.clone());
    line("size", size(i.size));
    if let Some(t) = &i.artifact_type {
        line("artifact type", t.clone());
    }
    if let Some(s) = &i.subject {
        line("subject", s.to_string());
    }
    for p in &i.platforms {
        line(
            "platform",
            format!(
                "{} {} {}{}",
                p.platform.as_deref().unwrap_or("-"),
                p.digest,
                size(p.size),
                p.total_size
                    .map(|t| format!(" (total {})", size(t)))
                    .unwrap_or_default()
            ),
        );
    }
    if let Some(c) = &i.config {
        line("config", format!("{} {}", c.digest, size(c.size)));
        if let Some(created) = &c.created {
            line("created", created.clone());
        }
        if let Some(p) = &c.platform {
            line("os/arch", p.clone());
        }
        if let Some(e) = &c.entrypoint {
            line("entrypoint", format!("{e:?}"));
        }
        if let Some(cmd) = &c.cmd {
            line("cmd", format!("{cmd:?}"));
        }
        for (k, v) in &c.labels {
            line("label", format!("{k}={v}"));
        }
    }
    for l in &i.layers {
        line("layer", format!("{} {}", l.digest, size(l.size)));
    }
    line("total", size(i.total_size));
    for a in &i.attachments {
        line(
            a.kind,
            format!(
                "{}{}",
                a.digest,
                a.artifact_type
                    .as_ref()
                    .map(|t| format!(" ({t})"))
                    .unwrap_or_default()
            ),
        );
    }
    out
}
