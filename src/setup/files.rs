//! The files a set-up writes: planned whole first (path, bytes, mode, what it
//! is for), then written only when none of them exists, unless forced. Each file
//! is written to a temporary file beside it and renamed into place, so a
//! reader never sees half a key, and a symlink in its place is replaced, not
//! followed.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// One file to write.
#[derive(Debug, Clone)]
pub struct Planned {
    /// Where it goes.
    pub path: PathBuf,
    /// Its whole contents.
    pub contents: Vec<u8>,
    /// Its permission bits (0600 for keys and password hashes).
    pub mode: u32,
    /// What it is for, in a few words.
    pub what: String,
}

impl Planned {
    /// A file readable by everyone (0644).
    pub fn public(path: PathBuf, contents: impl Into<Vec<u8>>, what: impl Into<String>) -> Self {
        Planned {
            path,
            contents: contents.into(),
            mode: 0o644,
            what: what.into(),
        }
    }

    /// A file only its owner reads (0600): keys, password hashes.
    pub fn private(path: PathBuf, contents: impl Into<Vec<u8>>, what: impl Into<String>) -> Self {
        Planned {
            mode: 0o600,
            ..Planned::public(path, contents, what)
        }
    }
}

/// A file of the set-up is there already and `--force` was not given: nothing
/// was written.
#[derive(Debug, thiserror::Error)]
#[error("{} exists; nothing was written (--force replaces the set-up's files)", .0.display())]
pub struct Exists(pub PathBuf);

/// Why the files were not all written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A file is there already.
    #[error(transparent)]
    Exists(#[from] Exists),
    /// A folder on the way is a symlink: writing through it would put the file
    /// elsewhere than the path printed (outside the root, say).
    #[error("{} is a symlink; nothing was written (files go only where they are said to go)", .0.display())]
    Symlink(PathBuf),
    /// Writing failed (the files before it were written).
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The first of `files` that exists (a dangling symlink counts).
pub fn first_existing(files: &[Planned]) -> Option<&Path> {
    files
        .iter()
        .map(|f| f.path.as_path())
        .find(|p| p.symlink_metadata().is_ok())
}

/// The first folder between `root` and a file of `files` that is a symlink.
pub fn symlink_on_the_way(root: &Path, files: &[Planned]) -> Option<PathBuf> {
    files.iter().find_map(|file| {
        let below = file.path.strip_prefix(root).ok()?;
        let mut at = root.to_path_buf();
        let mut parts: Vec<_> = below.components().collect();
        parts.pop();
        parts.into_iter().find_map(|part| {
            at.push(part);
            at.symlink_metadata()
                .is_ok_and(|m| m.file_type().is_symlink())
                .then(|| at.clone())
        })
    })
}

/// Writes every file of `files` (each below `root`), creating the folders they
/// need. Nothing is written when a folder on the way is a symlink, nor,
/// without `force`, when any of the files exists.
pub fn write_all(files: &[Planned], root: &Path, force: bool) -> Result<(), WriteError> {
    if let Some(link) = symlink_on_the_way(root, files) {
        return Err(WriteError::Symlink(link));
    }
    if !force {
        if let Some(path) = first_existing(files) {
            return Err(Exists(path.to_path_buf()).into());
        }
    }
    for file in files {
        write_one(file).map_err(|source| WriteError::Io {
            path: file.path.clone(),
            source,
        })?;
    }
    Ok(())
}

fn write_one(file: &Planned) -> std::io::Result<()> {
    let dir = file.path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".regctl-setup")
        .tempfile_in(dir)?;
    set_mode(temp.path(), file.mode)?;
    temp.write_all(&file.contents)?;
    temp.as_file().sync_all()?;
    temp.persist(&file.path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_written_when_one_file_exists() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("sub/a"), dir.path().join("b"));
        std::fs::write(&b, "old").unwrap();
        let files = [
            Planned::public(a.clone(), "new a", "a"),
            Planned::private(b.clone(), "new b", "b"),
        ];
        let err = write_all(&files, dir.path(), false).unwrap_err();
        assert!(matches!(err, WriteError::Exists(Exists(ref p)) if *p == b));
        assert!(!a.exists());
        assert_eq!(std::fs::read_to_string(&b).unwrap(), "old");
        write_all(&files, dir.path(), true).unwrap();
        assert_eq!(std::fs::read_to_string(&b).unwrap(), "new b");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!((mode(&a), mode(&b)), (0o644, 0o600));
        }
    }

    #[cfg(unix)]
    #[test]
    fn nothing_is_written_through_a_symlinked_folder() {
        let (root, outside) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::create_dir_all(root.path().join("etc")).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("etc/docker")).unwrap();
        let file = Planned::public(
            root.path().join("etc/docker/certs.d/r:5000/ca.crt"),
            "x",
            "ca",
        );
        let err = write_all(&[file], root.path(), true).unwrap_err();
        assert!(
            matches!(err, WriteError::Symlink(ref p) if p.ends_with("etc/docker")),
            "{err}"
        );
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    }
}
