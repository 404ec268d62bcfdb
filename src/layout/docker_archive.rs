//! What `docker save` (and `skopeo copy … docker-archive:`, `podman save`)
//! writes: a tar with `manifest.json` listing each image's config file, the
//! names it was saved under (`RepoTags`) and its layer files, in order. The
//! tar's entries are indexed once (name → where its bytes are), so that each
//! file is then read where it lies; standard input is first kept in a
//! temporary file, as a tar lists `manifest.json` last.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{io, LayoutError, Result};

/// The most of `manifest.json` or a config read: far more than any holds.
pub const MAX_DOCUMENT: u64 = 16 * 1024 * 1024;

/// One image of the archive, as `manifest.json` lists it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct ArchiveImage {
    /// The file holding its config.
    #[serde(rename = "Config")]
    pub config: String,
    /// The names it was saved under (`docker.io/library/web:1.0`).
    #[serde(rename = "RepoTags", default)]
    pub repo_tags: Option<Vec<String>>,
    /// Its layer files, bottom first: uncompressed tars (or compressed ones,
    /// as some tools write).
    #[serde(rename = "Layers")]
    pub layers: Vec<String>,
}

/// Where one file's bytes lie in the tar.
#[derive(Debug, Clone, Copy)]
struct Span {
    offset: u64,
    size: u64,
}

/// A `docker save` archive, indexed.
#[derive(Debug)]
pub struct DockerArchive {
    /// The file read (the temporary copy of standard input, for `-`).
    path: PathBuf,
    /// Shown in messages: the file as named, or `-`.
    shown: PathBuf,
    entries: HashMap<String, Span>,
    images: Vec<ArchiveImage>,
    /// Standard input kept on disk while the archive is read.
    _spool: Option<tempfile::NamedTempFile>,
}

impl DockerArchive {
    /// The archive in `file`, or on standard input when `None`.
    pub fn open(file: Option<&Path>) -> Result<DockerArchive> {
        let (path, shown, spool) = match file {
            Some(path) => (path.to_path_buf(), path.to_path_buf(), None),
            None => {
                let stdin = PathBuf::from("-");
                let mut spool = tempfile::NamedTempFile::new().map_err(io(&stdin))?;
                std::io::copy(&mut std::io::stdin().lock(), spool.as_file_mut())
                    .map_err(io(&stdin))?;
                (spool.path().to_path_buf(), stdin, Some(spool))
            }
        };
        let entries = index(&path, &shown)?;
        let mut archive = DockerArchive {
            path,
            shown,
            entries,
            images: Vec::new(),
            _spool: spool,
        };
        let manifest = archive.read("manifest.json", MAX_DOCUMENT)?;
        archive.images = serde_json::from_slice(&manifest).map_err(|e| {
            archive.malformed(&format!(
                "manifest.json is not what docker save writes: {e}"
            ))
        })?;
        Ok(archive)
    }

    /// Every image of the archive, in `manifest.json`'s order.
    pub fn images(&self) -> &[ArchiveImage] {
        &self.images
    }

    /// The image saved as `name` (`web:1.0`, matched as docker normalises
    /// names, so `docker.io/library/web:1.0` too), `@N` for the Nth (from 0),
    /// or without a name the archive's only image.
    pub fn image(&self, name: Option<&str>) -> Result<&ArchiveImage> {
        let saved = || {
            let names: Vec<String> = self
                .images
                .iter()
                .flat_map(|i| i.repo_tags.clone().unwrap_or_default())
                .collect();
            if names.is_empty() {
                "its images have no names (use @0, @1, ...)".to_string()
            } else {
                format!("it holds {}", names.join(", "))
            }
        };
        let not_found = |reason: String| LayoutError::NotFound {
            path: self.shown.clone(),
            reason,
        };
        match name {
            None => match self.images.as_slice() {
                [one] => Ok(one),
                [] => Err(not_found("the archive holds no image".into())),
                many => Err(not_found(format!(
                    "{} images; name one (docker-archive:FILE:NAME); {}",
                    many.len(),
                    saved()
                ))),
            },
            Some(index) if index.starts_with('@') => index[1..]
                .parse::<usize>()
                .ok()
                .and_then(|n| self.images.get(n))
                .ok_or_else(|| {
                    not_found(format!("no image {index}: it holds {}", self.images.len()))
                }),
            Some(name) => {
                let wanted = normalise(name);
                self.images
                    .iter()
                    .find(|i| i.repo_tags.iter().flatten().any(|t| normalise(t) == wanted))
                    .ok_or_else(|| not_found(format!("no image named {name}; {}", saved())))
            }
        }
    }

    /// The whole file `name` of the archive, at most `limit` bytes.
    pub fn read(&self, name: &str, limit: u64) -> Result<Vec<u8>> {
        let (mut reader, size) = self.open_entry(name)?;
        if size > limit {
            return Err(self.malformed(&format!(
                "{name} is larger than {limit} bytes, more than such a document holds"
            )));
        }
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        reader.read_to_end(&mut bytes).map_err(io(&self.shown))?;
        Ok(bytes)
    }

    /// The file `name` of the archive, opened for streaming, and its size.
    pub fn open_entry(&self, name: &str) -> Result<(impl Read, u64)> {
        let span = self.entries.get(clean(name)).ok_or_else(|| {
            self.malformed(&format!("manifest.json names {name}, which is not in it"))
        })?;
        let mut file = File::open(&self.path).map_err(io(&self.shown))?;
        file.seek(SeekFrom::Start(span.offset))
            .map_err(io(&self.shown))?;
        Ok((file.take(span.size), span.size))
    }

    fn malformed(&self, reason: &str) -> LayoutError {
        LayoutError::Malformed {
            path: self.shown.clone(),
            reason: reason.to_string(),
        }
    }
}

/// Each regular file of the tar at `path` and where its bytes lie; links
/// (skopeo writes `ID/layer.tar` as a symlink to the layer) lead to their
/// target's bytes.
fn index(path: &Path, shown: &Path) -> Result<HashMap<String, Span>> {
    let malformed = |reason: String| LayoutError::Malformed {
        path: shown.to_path_buf(),
        reason,
    };
    let file = File::open(path).map_err(io(shown))?;
    let mut archive = tar::Archive::new(file);
    let mut entries = HashMap::new();
    let mut links: Vec<(String, String)> = Vec::new();
    let listed = archive
        .entries_with_seek()
        .map_err(|e| malformed(format!("not a tar archive: {e}")))?;
    for entry in listed {
        let entry = entry.map_err(|e| malformed(format!("not a tar archive: {e}")))?;
        let name = entry
            .path()
            .map_err(|e| malformed(format!("an entry's name: {e}")))?
            .to_string_lossy()
            .to_string();
        let name = clean(&name).to_string();
        let kind = entry.header().entry_type();
        if kind.is_file() {
            entries.insert(
                name,
                Span {
                    offset: entry.raw_file_position(),
                    size: entry.size(),
                },
            );
        } else if kind.is_symlink() || kind.is_hard_link() {
            let target = entry
                .link_name()
                .ok()
                .flatten()
                .map(|t| t.to_string_lossy().to_string())
                .unwrap_or_default();
            let target = if kind.is_symlink() {
                relative_to(&name, &target)
            } else {
                clean(&target).to_string()
            };
            links.push((name, target));
        }
    }
    // A link to a link is followed a few steps at most.
    for _ in 0..8 {
        for (name, target) in &links {
            if let Some(span) = entries.get(target).copied() {
                entries.entry(name.clone()).or_insert(span);
            }
        }
    }
    Ok(entries)
}

/// `target` of a symlink at `name`, as a name in the archive.
fn relative_to(name: &str, target: &str) -> String {
    let mut parts: Vec<&str> = match name.rfind('/') {
        Some(at) if !target.starts_with('/') => name[..at].split('/').collect(),
        _ => Vec::new(),
    };
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    parts.join("/")
}

fn clean(name: &str) -> &str {
    name.trim_start_matches("./").trim_start_matches('/')
}

/// A name as docker reads it: `web:1.0` is `docker.io/library/web:1.0`.
fn normalise(name: &str) -> String {
    let (first, rest) = name.split_once('/').unwrap_or(("", name));
    let is_host = first.contains('.') || first.contains(':') || first == "localhost";
    let full = match (first, is_host) {
        ("", _) => format!("docker.io/library/{rest}"),
        (_, true) => name.to_string(),
        (_, false) => format!("docker.io/{name}"),
    };
    if full
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains(':') || last.contains('@'))
    {
        full
    } else {
        format!("{full}:latest")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_matched_as_docker_normalises_them() {
        assert_eq!(normalise("web:1.0"), "docker.io/library/web:1.0");
        assert_eq!(normalise("web"), "docker.io/library/web:latest");
        assert_eq!(normalise("team/web:1"), "docker.io/team/web:1");
        assert_eq!(normalise("localhost/web:1"), "localhost/web:1");
        assert_eq!(normalise("reg:5000/web:1"), "reg:5000/web:1");
        assert_eq!(
            normalise("docker.io/library/web:1.0"),
            "docker.io/library/web:1.0"
        );
    }

    #[test]
    fn symlinks_are_read_from_their_folder() {
        assert_eq!(relative_to("abc/layer.tar", "../x.tar"), "x.tar");
        assert_eq!(relative_to("abc/layer.tar", "y.tar"), "abc/y.tar");
        assert_eq!(relative_to("layer.tar", "/x.tar"), "x.tar");
    }

    /// An archive as `docker save` lays it out, written here with the tar crate.
    #[test]
    fn an_archive_is_indexed_and_its_files_read_where_they_lie() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.tar");
        let mut builder = tar::Builder::new(File::create(&path).unwrap());
        let mut add = |name: &str, bytes: &[u8]| {
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, name, bytes).unwrap();
        };
        add("abc.tar", b"layer bytes");
        add("cfg.json", b"{\"os\":\"linux\"}");
        add(
            "manifest.json",
            br#"[{"Config":"cfg.json","RepoTags":["docker.io/library/web:1.0"],"Layers":["abc/layer.tar"]}]"#,
        );
        let mut link = tar::Header::new_gnu();
        link.set_entry_type(tar::EntryType::Symlink);
        link.set_size(0);
        link.set_cksum();
        builder
            .append_link(&mut link, "abc/layer.tar", "../abc.tar")
            .unwrap();
        builder.into_inner().unwrap();

        let archive = DockerArchive::open(Some(&path)).unwrap();
        let image = archive.image(Some("web:1.0")).unwrap();
        assert_eq!(archive.image(None).unwrap(), image);
        assert_eq!(archive.image(Some("@0")).unwrap(), image);
        let (mut layer, size) = archive.open_entry(&image.layers[0]).unwrap();
        let mut bytes = Vec::new();
        layer.read_to_end(&mut bytes).unwrap();
        assert_eq!((bytes.as_slice(), size), (&b"layer bytes"[..], 11));
        assert_eq!(
            archive.read("cfg.json", 100).unwrap(),
            b"{\"os\":\"linux\"}"
        );
        let missing = archive.image(Some("web:2.0")).unwrap_err().to_string();
        assert!(
            missing.contains("it holds docker.io/library/web:1.0"),
            "{missing}"
        );
    }
}
