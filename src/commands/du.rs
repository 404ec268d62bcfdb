//! `regctl du TARGET`: the space images take, per repository (with a total that
//! counts each blob once) or per tagged image, from the manifests' descriptors.
//! Human sizes in a table; exact bytes in plain lines and JSON.

use anyhow::{Context as _, Result};
use futures_util::stream::{self, StreamExt as _};
use serde::Serialize;

use super::context::{add_uncatalogued, catalogued, collect_interruptible, Invocation};
use crate::cli::{DuArgs, DuBy, Format};
use crate::exit::Exit;
use crate::graph::space::{self, ImageUsage, RepositoryUsage};
use crate::graph::{Cache, Depth, Loader, Snapshot};
use crate::output::{human_bytes, render_data, write_stdout, Row};

/// What the sizes are, said on stderr after every report.
const SEEN_BY_THE_API: &str = "sizes are those the manifests declare, each blob counted once; \
untagged manifests that no tag reaches are invisible to the API and not counted";

/// A row of `du`: one repository, or the total.
#[derive(Debug, Serialize)]
struct RepositoryRow {
    #[serde(flatten)]
    usage: RepositoryUsage,
    #[serde(skip)]
    registry: String,
}

impl Row for RepositoryRow {
    fn headers(&self) -> Vec<&'static str> {
        vec!["REPOSITORY", "TAGS", "IMAGES", "SIZE", "UNIQUE", "SHARED"]
    }

    fn cells(&self) -> Vec<String> {
        let u = &self.usage;
        vec![
            format!("{}/{}", self.registry, u.repository),
            u.tags.to_string(),
            u.images.to_string(),
            human_bytes(u.bytes),
            human_bytes(u.unique_bytes),
            human_bytes(u.shared_bytes),
        ]
    }

    fn plain(&self) -> String {
        let u = &self.usage;
        format!(
            "{}/{} {} {} {} {} {}",
            self.registry, u.repository, u.tags, u.images, u.bytes, u.unique_bytes, u.shared_bytes
        )
    }
}

/// The last row of the table and of the plain lines.
#[derive(Debug, Serialize)]
struct TotalRow {
    tags: usize,
    images: usize,
    bytes: u64,
}

impl Row for TotalRow {
    fn headers(&self) -> Vec<&'static str> {
        vec!["REPOSITORY", "TAGS", "IMAGES", "SIZE", "UNIQUE", "SHARED"]
    }

    fn cells(&self) -> Vec<String> {
        vec![
            "total (each blob once)".into(),
            self.tags.to_string(),
            self.images.to_string(),
            human_bytes(self.bytes),
            String::new(),
            String::new(),
        ]
    }

    fn plain(&self) -> String {
        format!("total {} {} {}", self.tags, self.images, self.bytes)
    }
}

/// A row of `du --by tag`: one tagged image.
#[derive(Debug, Serialize)]
struct ImageRow {
    #[serde(flatten)]
    usage: ImageUsage,
    #[serde(skip)]
    registry: String,
}

impl Row for ImageRow {
    fn headers(&self) -> Vec<&'static str> {
        vec!["REPOSITORY", "TAGS", "DIGEST", "SIZE", "UNIQUE"]
    }

    fn cells(&self) -> Vec<String> {
        let u = &self.usage;
        vec![
            format!("{}/{}", self.registry, u.repository),
            u.tags.join(", "),
            u.digest.to_string(),
            human_bytes(u.bytes),
            human_bytes(u.unique_bytes),
        ]
    }

    fn plain(&self) -> String {
        let u = &self.usage;
        format!(
            "{}/{}@{} {} {} {}",
            self.registry,
            u.repository,
            u.digest,
            u.bytes,
            u.unique_bytes,
            u.tags.join(",")
        )
    }
}

/// Either kind of row, so that a table holds repositories and the total.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum DuRow {
    Repository(RepositoryRow),
    Total(TotalRow),
}

impl Row for DuRow {
    fn headers(&self) -> Vec<&'static str> {
        match self {
            DuRow::Repository(r) => r.headers(),
            DuRow::Total(t) => t.headers(),
        }
    }

    fn cells(&self) -> Vec<String> {
        match self {
            DuRow::Repository(r) => r.cells(),
            DuRow::Total(t) => t.cells(),
        }
    }

    fn plain(&self) -> String {
        match self {
            DuRow::Repository(r) => r.plain(),
            DuRow::Total(t) => t.plain(),
        }
    }
}

/// Runs `regctl du`.
pub async fn run(args: &DuArgs, ctx: &Invocation) -> Result<Exit> {
    let target = super::context::parse_target(&args.target)?;
    let registry = ctx.registry(&target.registry).await?;
    let mut repositories = catalogued(ctx, &registry, &target, "measuring")
        .await
        .context("listing the catalog")?;
    if repositories.is_empty()
        && !add_uncatalogued(ctx, &registry, &target, &mut repositories).await?
    {
        return Ok(Exit::NotFound);
    }
    let cache = Cache::default();
    let loader = Loader {
        registry: &registry,
        concurrency: ctx.concurrency,
        cache: &cache,
    };
    let reading = stream::iter(&repositories)
        .map(|repository| {
            let loader = &loader;
            async move { loader.snapshot(repository, Depth::default()).await }
        })
        .buffered(ctx.concurrency.clamp(1, 8));
    let Some(read) = collect_interruptible(ctx, "repositories", repositories.len(), reading).await
    else {
        return Ok(ctx.interrupt.exit());
    };
    let snapshots = repositories
        .iter()
        .zip(read)
        .map(|(repository, result)| {
            result.with_context(|| format!("reading {}/{repository}", target.registry))
        })
        .collect::<Result<Vec<Snapshot>>>()?;
    let (repository_rows, total) = space::usage(&snapshots);
    let registry_name = target.registry.clone();
    match args.by {
        DuBy::Repository if ctx.format == Format::Json => {
            write_document(&registry_name, "repositories", &repository_rows, total)?;
        }
        DuBy::Repository => {
            let total_row = TotalRow {
                tags: repository_rows.iter().map(|r| r.tags).sum(),
                images: repository_rows.iter().map(|r| r.images).sum(),
                bytes: total,
            };
            let mut rows: Vec<DuRow> = repository_rows
                .into_iter()
                .map(|usage| {
                    DuRow::Repository(RepositoryRow {
                        usage,
                        registry: registry_name.clone(),
                    })
                })
                .collect();
            rows.push(DuRow::Total(total_row));
            render_data(ctx.format, &rows).context("writing the report")?;
        }
        DuBy::Tag => {
            let images = space::image_usage(&snapshots);
            if ctx.format == Format::Json {
                write_document(&registry_name, "images", &images, total)?;
            } else {
                let rows: Vec<ImageRow> = images
                    .into_iter()
                    .map(|usage| ImageRow {
                        usage,
                        registry: registry_name.clone(),
                    })
                    .collect();
                render_data(ctx.format, &rows).context("writing the report")?;
            }
        }
    }
    ctx.printer.note(SEEN_BY_THE_API);
    Ok(Exit::Success)
}

/// The JSON report: `{"registry", <rows_key>: rows, "total_bytes"}`.
fn write_document<T: Serialize>(
    registry: &str,
    rows_key: &str,
    rows: &[T],
    total: u64,
) -> Result<()> {
    let mut document = serde_json::Map::new();
    document.insert("registry".into(), registry.into());
    document.insert(rows_key.into(), serde_json::to_value(rows)?);
    document.insert("total_bytes".into(), total.into());
    write_stdout(&(crate::output::json_pretty(&document)? + "\n"))?;
    Ok(())
}
