//! Images on disk, for copies to and from a registry: an OCI image layout
//! folder (`oci:PATH[:TAG]`), the same folder in a tar (`oci-archive:FILE[:TAG]`),
//! and what `docker save` writes (`docker-archive:FILE[:IMAGE]`, `-` for
//! standard input). A library: typed errors, no printing; the files are read and
//! written with blocking calls (callers run them off the async threads).

pub mod docker_archive;
pub mod docker_save;
pub mod oci;
pub mod oci_archive;
pub mod push_ready;

use std::path::{Path, PathBuf};

/// An image on disk, as the user names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalRef {
    /// `oci:PATH[:TAG]`: an OCI image layout folder, and the
    /// `org.opencontainers.image.ref.name` of one of its entries.
    Oci {
        /// The folder.
        path: PathBuf,
        /// The entry's name; `None`: the layout's only entry.
        tag: Option<String>,
    },
    /// `oci-archive:FILE[:TAG]`: an OCI image layout in a tar file.
    OciArchive {
        /// The tar file.
        file: PathBuf,
        /// The entry's name; `None`: the layout's only entry.
        tag: Option<String>,
    },
    /// `docker-archive:FILE[:IMAGE]`: what `docker save` writes.
    DockerArchive {
        /// The tar file; `None` for standard input (`-`).
        file: Option<PathBuf>,
        /// The image as `docker save` named it (`web:1.0`); `None`: the only one.
        image: Option<String>,
    },
}

/// Why a local image could not be named, read or written.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    /// A local reference that does not parse.
    #[error("invalid local image `{input}`: {reason}")]
    Invalid {
        /// What the user typed.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The folder or archive is not what it was named as.
    #[error("{}: {reason}", path.display())]
    Malformed {
        /// The folder, archive or file in it.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// No entry of that name, or several where one was needed.
    #[error("{}: {reason}", path.display())]
    NotFound {
        /// The folder or archive.
        path: PathBuf,
        /// What is missing, and what there is.
        reason: String,
    },
    /// Content that does not hash to its name.
    #[error("{}: content digest {actual} does not match {expected}", path.display())]
    DigestMismatch {
        /// The blob's file.
        path: PathBuf,
        /// The digest it is stored under.
        expected: String,
        /// The digest of its bytes.
        actual: String,
    },
}

/// Shorthand for layout results.
pub type Result<T, E = LayoutError> = std::result::Result<T, E>;

/// Reads `reader` to its end through `buffer`, handing each chunk to `sink`.
pub(crate) fn copy(
    reader: &mut (impl std::io::Read + ?Sized),
    buffer: &mut [u8],
    mut sink: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> std::io::Result<()> {
    loop {
        match reader.read(buffer) {
            Ok(0) => return Ok(()),
            Ok(n) => sink(&buffer[..n])?,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// `len` bytes of `file` (at `path`) from `offset`.
pub(crate) fn read_range(
    mut file: std::fs::File,
    path: &Path,
    offset: u64,
    len: u64,
) -> Result<Vec<u8>> {
    use std::io::{Read as _, Seek as _};
    file.seek(std::io::SeekFrom::Start(offset))
        .map_err(io(path))?;
    let mut bytes = vec![0u8; len as usize];
    file.read_exact(&mut bytes).map_err(io(path))?;
    Ok(bytes)
}

/// The error for an I/O failure on `path`.
pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LayoutError + '_ {
    move |source| LayoutError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl LocalRef {
    /// `input` as a local image when it starts with one of the transports
    /// (`oci:`, `oci-archive:`, `docker-archive:`); `None` for anything else (a
    /// registry reference).
    pub fn parse(input: &str) -> Option<Result<LocalRef>> {
        let (transport, rest) = input.split_once(':')?;
        // `oci:5000/app:v1` is a registry named `oci` on port 5000.
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && rest[digits..].starts_with('/') {
            return None;
        }
        let invalid = |reason: &str| LayoutError::Invalid {
            input: input.to_string(),
            reason: reason.to_string(),
        };
        let parsed = match transport {
            "oci" | "oci-archive" => {
                let (path, tag) = split_name(rest);
                if path.is_empty() {
                    return Some(Err(invalid("the path is empty")));
                }
                if let Some(tag) = &tag {
                    if !crate::registry::reference::valid_tag(tag) {
                        return Some(Err(invalid("the name after the path is not a valid tag")));
                    }
                }
                let path = PathBuf::from(path);
                if transport == "oci" {
                    LocalRef::Oci { path, tag }
                } else {
                    LocalRef::OciArchive { file: path, tag }
                }
            }
            "docker-archive" => {
                let (path, image) = split_name(rest);
                if path.is_empty() {
                    return Some(Err(invalid("the path is empty (`-` reads standard input)")));
                }
                LocalRef::DockerArchive {
                    file: (path != "-").then(|| PathBuf::from(path)),
                    image,
                }
            }
            _ => return None,
        };
        Some(Ok(parsed))
    }
}

/// `PATH[:NAME]`: the name is what follows the last `:` when it has no `/`
/// (a path may hold colons; a name, like `web:1.0`, may too for an archive, so
/// for `docker-archive` the name is what follows the first `:` after the
/// path's last `/`).
fn split_name(rest: &str) -> (String, Option<String>) {
    let file_start = rest.rfind('/').map_or(0, |i| i + 1);
    match rest[file_start..].find(':') {
        Some(at) => {
            let at = file_start + at;
            let name = &rest[at + 1..];
            (
                rest[..at].to_string(),
                (!name.is_empty()).then(|| name.to_string()),
            )
        }
        None => (rest.to_string(), None),
    }
}

impl std::fmt::Display for LocalRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let with = |name: &Option<String>| name.as_ref().map_or(String::new(), |n| format!(":{n}"));
        match self {
            LocalRef::Oci { path, tag } => write!(f, "oci:{}{}", path.display(), with(tag)),
            LocalRef::OciArchive { file, tag } => {
                write!(f, "oci-archive:{}{}", file.display(), with(tag))
            }
            LocalRef::DockerArchive { file, image } => write!(
                f,
                "docker-archive:{}{}",
                file.as_ref()
                    .map_or("-".into(), |p| p.display().to_string()),
                with(image)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &str) -> LocalRef {
        LocalRef::parse(input).unwrap().unwrap()
    }

    #[test]
    fn local_images_are_named_as_skopeo_names_them() {
        assert_eq!(
            parse("oci:/backups/web:1.0"),
            LocalRef::Oci {
                path: "/backups/web".into(),
                tag: Some("1.0".into())
            }
        );
        assert_eq!(
            parse("oci:layout"),
            LocalRef::Oci {
                path: "layout".into(),
                tag: None
            }
        );
        assert_eq!(
            parse("docker-archive:-"),
            LocalRef::DockerArchive {
                file: None,
                image: None
            }
        );
        assert_eq!(
            parse("docker-archive:/tmp/web.tar:web:1.0"),
            LocalRef::DockerArchive {
                file: Some("/tmp/web.tar".into()),
                image: Some("web:1.0".into())
            }
        );
        assert_eq!(
            parse("oci-archive:a:b/c.tar:v2"),
            LocalRef::OciArchive {
                file: "a:b/c.tar".into(),
                tag: Some("v2".into())
            }
        );
        assert_eq!(parse("oci:/x/y:v1").to_string(), "oci:/x/y:v1");
        // Registry references are not local images.
        assert!(LocalRef::parse("registry.example:5000/web:1.0").is_none());
        assert!(LocalRef::parse("web").is_none());
        assert!(LocalRef::parse("oci:5000/app:v1").is_none());
        assert!(LocalRef::parse("oci:").unwrap().is_err());
        assert!(LocalRef::parse("oci:/x:bad tag").unwrap().is_err());
    }
}
