//! `oci-archive:FILE`: an OCI image layout in a tar. Read by unpacking it into a
//! temporary folder (regular files and folders only: a link in someone else's
//! archive could point anywhere on this machine); written by building the
//! layout in a temporary folder and packing it, then renaming the tar into
//! place, so that the file named is whole or untouched.

use std::fs::File;
use std::path::Path;

use super::oci::OciLayout;
use super::{io, LayoutError, Result};

/// An archive unpacked: the layout, in a folder removed when this is dropped.
#[derive(Debug)]
pub struct Unpacked {
    /// The layout.
    pub layout: OciLayout,
    _dir: tempfile::TempDir,
}

impl Unpacked {
    /// A new, empty layout in a temporary folder (to be packed into an archive).
    pub fn empty() -> Result<Unpacked> {
        let dir = tempfile::tempdir().map_err(io(Path::new(".")))?;
        let layout = OciLayout::create(dir.path())?;
        Ok(Unpacked { layout, _dir: dir })
    }
}

/// The layout in the tar `file`.
pub fn unpack(file: &Path) -> Result<Unpacked> {
    let dir = tempfile::tempdir().map_err(io(file))?;
    let malformed = |reason: String| LayoutError::Malformed {
        path: file.to_path_buf(),
        reason,
    };
    let mut archive = tar::Archive::new(File::open(file).map_err(io(file))?);
    let entries = archive
        .entries()
        .map_err(|e| malformed(format!("not a tar archive: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| malformed(format!("not a tar archive: {e}")))?;
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_dir()) {
            continue;
        }
        // `unpack_in` refuses names that would leave the folder (`..`, absolute).
        let inside = entry
            .unpack_in(dir.path())
            .map_err(|e| malformed(format!("an entry could not be unpacked: {e}")))?;
        if !inside {
            return Err(malformed(
                "an entry's name leads outside the archive".into(),
            ));
        }
    }
    let layout = OciLayout::open(dir.path()).map_err(|e| match e {
        LayoutError::Malformed { reason, .. } => malformed(reason),
        other => other,
    })?;
    Ok(Unpacked { layout, _dir: dir })
}

/// Packs `layout` into the tar `file`, replacing it whole.
pub fn pack(layout: &OciLayout, file: &Path) -> Result<()> {
    let dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let temp = tempfile::NamedTempFile::new_in(dir).map_err(io(dir))?;
    let mut builder = tar::Builder::new(temp);
    builder.follow_symlinks(false);
    for name in ["oci-layout", "index.json"] {
        builder
            .append_path_with_name(layout.root().join(name), name)
            .map_err(io(file))?;
    }
    builder
        .append_dir_all("blobs", layout.root().join("blobs"))
        .map_err(io(file))?;
    let temp = builder.into_inner().map_err(io(file))?;
    temp.as_file().sync_all().map_err(io(file))?;
    temp.persist(file).map_err(|e| io(file)(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::oci::Entry;
    use crate::registry::Digest;

    #[test]
    fn a_layout_packed_and_unpacked_is_the_same_layout() {
        let dir = tempfile::tempdir().unwrap();
        let layout = OciLayout::create(&dir.path().join("l")).unwrap();
        let bytes = br#"{"schemaVersion":2}"#;
        let digest = Digest::sha256_of(bytes);
        layout.write_blob(&digest, &mut &bytes[..]).unwrap();
        let entry = Entry {
            media_type: crate::registry::media::OCI_MANIFEST.into(),
            digest: digest.clone(),
            size: bytes.len() as u64,
            name: Some("v1".into()),
        };
        layout.put_entry(&entry).unwrap();
        let file = dir.path().join("a.tar");
        pack(&layout, &file).unwrap();
        let unpacked = unpack(&file).unwrap();
        assert_eq!(unpacked.layout.resolve(Some("v1")).unwrap(), entry);
        assert_eq!(unpacked.layout.read_blob(&digest, 100).unwrap(), bytes);
    }

    #[test]
    fn links_and_escapes_in_an_archive_are_not_unpacked() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("evil.tar");
        let mut builder = tar::Builder::new(File::create(&file).unwrap());
        let mut link = tar::Header::new_gnu();
        link.set_entry_type(tar::EntryType::Symlink);
        link.set_size(0);
        link.set_cksum();
        builder
            .append_link(&mut link, "oci-layout", "/etc/passwd")
            .unwrap();
        builder.into_inner().unwrap();
        let err = unpack(&file).unwrap_err().to_string();
        assert!(err.contains("not an OCI image layout"), "{err}");
    }
}
