//! The image graph of a repository, a library: no printing, no CLI types.
//!
//! What a manifest points at (an index's children, an image's config and
//! layers), what points at it (the indexes that list it, its attachments: OCI
//! referrers by `subject`, cosign and referrers fallback tags), and the bytes
//! it all takes. One [`Loader`] reads a repository into a [`Snapshot`]; `inspect`,
//! `du` and the deletion engine read the graph from there. Nothing here knows of
//! deletion or of the command line.

pub mod attachment;
pub mod created;
pub(crate) mod load;
pub mod node;
pub mod snapshot;
pub(crate) mod space;

pub use attachment::{cosign_tag, fallback_tag_for, Attachment, AttachmentKind};
pub use created::{Created, Undated};
pub(crate) use load::{Cache, Depth, Loader};
pub use node::{is_image_config, Node};
pub use snapshot::Snapshot;

#[cfg(test)]
mod tests {
    /// The code (tests left out) of every file under `src/<folder>`, by path.
    pub(crate) fn sources(folder: &str) -> Vec<(String, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut pending = vec![root.join(folder)];
        let mut files = Vec::new();
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    pending.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    // The code, not its tests.
                    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                    files.push((path.display().to_string(), code.to_string()));
                }
            }
        }
        assert!(!files.is_empty(), "no source under src/{folder}");
        files
    }

    #[test]
    fn the_graph_reads_only_the_registry_below_it() {
        for (path, text) in sources("graph") {
            for above in [
                "crate::deletion",
                "crate::commands",
                "crate::inspect",
                "crate::cli",
                "crate::output",
                "println!",
                "eprintln!",
            ] {
                assert!(!text.contains(above), "{path} uses {above}");
            }
        }
    }

    #[test]
    fn the_deletion_engine_knows_no_command_line() {
        for (path, text) in sources("deletion") {
            for above in [
                "crate::commands",
                "crate::inspect",
                "crate::cli",
                "crate::output",
                "println!",
                "eprintln!",
            ] {
                assert!(!text.contains(above), "{path} uses {above}");
            }
        }
    }
}
