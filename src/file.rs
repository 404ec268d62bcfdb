//! Reading the small files regctl is pointed at: docker's config, regctl's own
//! config, CA certificates, client certificates and keys. Any of them may be
//! something else than a file (a FIFO, a symlink to `/dev/zero`) or huge: only
//! a regular file is read (a symlink is followed, its target must be one), and
//! at most [`MAX_FILE`] bytes of it. Trust (a CA, a certs.d folder) is taken
//! only from what no other user could have written ([`writable_by_others`]).

use std::io::Read as _;
use std::path::Path;

/// The most regctl reads of one such file: far more than any config or
/// certificate bundle needs.
pub const MAX_FILE: u64 = 4 * 1024 * 1024;

/// Why a file was not read. The caller names the file.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// It could not be opened or read (not there, no permission, ...).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// It is a FIFO, a device, a socket or a folder.
    #[error("not a regular file ({0})")]
    NotRegular(&'static str),
    /// It holds more than [`MAX_FILE`] bytes.
    #[error("larger than {} MiB, more than such a file ever holds", MAX_FILE >> 20)]
    TooLarge,
    /// Text was wanted and it is not UTF-8.
    #[error("not UTF-8 text")]
    NotText,
}

impl ReadError {
    /// True when the file does not exist (the callers treat that as empty).
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
    }
}

/// The bytes of the regular file at `path` (symlinks followed), at most
/// [`MAX_FILE`] of them. The file is opened without blocking (a FIFO cannot
/// hold the open), then its type is checked on the open file itself.
pub fn read(path: &Path) -> Result<Vec<u8>, ReadError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    // O_NONBLOCK changes nothing for reading a regular file; it only keeps the
    // open of a FIFO without a writer from waiting for one.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular(kind(&meta.file_type())));
    }
    if meta.len() > MAX_FILE {
        return Err(ReadError::TooLarge);
    }
    // The size can change under us (a file being written): the bound holds anyway.
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(MAX_FILE + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(ReadError::TooLarge);
    }
    Ok(bytes)
}

/// [`read`], as UTF-8 text.
pub fn read_text(path: &Path) -> Result<String, ReadError> {
    String::from_utf8(read(path)?).map_err(|_| ReadError::NotText)
}

/// What a file that is not a regular file is, in words.
fn kind(file_type: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_dir() {
        "a folder"
    } else {
        "neither a file nor a folder"
    }
}

/// Why another user could have written `path` (followed if a symlink), if one
/// could: it is writable by its group or by others, or it is owned by a user
/// who is neither root nor the one running regctl. As ssh judges the files it
/// trusts. `None` also when `path` cannot be examined (reading it will say why).
pub fn writable_by_others(path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        let meta = std::fs::metadata(path).ok()?;
        let mode = meta.mode() & 0o7777;
        let writers = match (mode & 0o020 != 0, mode & 0o002 != 0) {
            (true, true) => Some("its group and by others"),
            (true, false) => Some("its group"),
            (false, true) => Some("others"),
            (false, false) => None,
        };
        if let Some(writers) = writers {
            return Some(format!("it is writable by {writers} (mode {mode:04o})"));
        }
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != 0 && meta.uid() != me {
            return Some(format!(
                "it is owned by uid {}, neither root nor the user running regctl (uid {me})",
                meta.uid()
            ));
        }
        None
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// The first file named `name` on PATH that may be run, as a shell finds it
/// (empty PATH entries skipped).
pub fn on_path(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(name))
        .find(|file| is_executable(file))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.with_extension("exe").is_file() || path.is_file()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_is_read_and_anything_else_is_refused_saying_what_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.json");
        std::fs::write(&file, "{}").unwrap();
        assert_eq!(read_text(&file).unwrap(), "{}");
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert_eq!(read(&link).unwrap(), b"{}");

        let zero = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let err = read(&zero).unwrap_err().to_string();
        assert_eq!(err, "not a regular file (a character device)");
        assert_eq!(
            read(dir.path()).unwrap_err().to_string(),
            "not a regular file (a folder)"
        );
        let fifo = dir.path().join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        // Returns at once: no writer is waited for.
        assert_eq!(
            read(&fifo).unwrap_err().to_string(),
            "not a regular file (a FIFO)"
        );
        assert!(read(&dir.path().join("missing"))
            .unwrap_err()
            .is_not_found());
    }

    #[test]
    fn a_file_over_the_bound_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("big");
        let f = std::fs::File::create(&file).unwrap();
        f.set_len(MAX_FILE).unwrap();
        assert_eq!(read(&file).unwrap().len() as u64, MAX_FILE);
        f.set_len(MAX_FILE + 1).unwrap();
        assert!(matches!(read(&file), Err(ReadError::TooLarge)));
        std::fs::write(&file, [0xff, 0xfe]).unwrap();
        assert!(matches!(read_text(&file), Err(ReadError::NotText)));
    }

    #[test]
    fn what_another_user_could_write_is_named() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ca.crt");
        std::fs::write(&file, "x").unwrap();
        let chmod =
            |mode| std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        chmod(0o644);
        assert_eq!(writable_by_others(&file), None);
        chmod(0o664);
        assert_eq!(
            writable_by_others(&file).unwrap(),
            "it is writable by its group (mode 0664)"
        );
        chmod(0o646);
        assert!(writable_by_others(&file).unwrap().contains("by others"));
        chmod(0o777);
        assert!(writable_by_others(dir.path()).is_none());
        assert!(writable_by_others(&file)
            .unwrap()
            .contains("its group and by others"));
    }
}
