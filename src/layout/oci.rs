//! An OCI image layout folder (image-spec `image-layout.md`): `oci-layout`,
//! `index.json` naming its entries (by `org.opencontainers.image.ref.name`),
//! and the blobs under `blobs/<algorithm>/<hex>`. Blobs are written to a
//! temporary file beside their place, checked against their digest, then
//! renamed: a blob is whole or absent. `index.json` is rewritten the same way,
//! after the blobs it names, keeping every entry and field it does not change.

use std::fs::File;
use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::{copy, io, LayoutError, Result};
use crate::registry::digest::Hasher;
use crate::registry::Digest;

/// The annotation an entry's name is kept in.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// The most of `index.json` read: far more than any real layout's.
const MAX_INDEX: u64 = 64 * 1024 * 1024;

/// An OCI image layout folder.
#[derive(Debug, Clone)]
pub struct OciLayout {
    root: PathBuf,
}

/// One entry of `index.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The manifest's media type.
    pub media_type: String,
    /// Its digest.
    pub digest: Digest,
    /// Its size.
    pub size: u64,
    /// Its `org.opencontainers.image.ref.name`, if any.
    pub name: Option<String>,
}

impl OciLayout {
    /// The layout at `root`, which must be one (`oci-layout` and `index.json`).
    pub fn open(root: &Path) -> Result<OciLayout> {
        let layout = OciLayout {
            root: root.to_path_buf(),
        };
        let marker = root.join("oci-layout");
        let text = std::fs::read(&marker).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => LayoutError::Malformed {
                path: root.to_path_buf(),
                reason: "not an OCI image layout (no oci-layout file)".into(),
            },
            _ => io(&marker)(e),
        })?;
        let version = serde_json::from_slice::<Value>(&text)
            .ok()
            .and_then(|v| v.get("imageLayoutVersion")?.as_str().map(str::to_string));
        if version.as_deref() != Some("1.0.0") {
            return Err(LayoutError::Malformed {
                path: marker,
                reason: "imageLayoutVersion is not 1.0.0".into(),
            });
        }
        layout.index()?;
        Ok(layout)
    }

    /// The layout at `root`, made (folders, `oci-layout`, an empty
    /// `index.json`) where it is not one yet.
    pub fn create(root: &Path) -> Result<OciLayout> {
        if root.join("oci-layout").exists() {
            return OciLayout::open(root);
        }
        std::fs::create_dir_all(root.join("blobs")).map_err(io(root))?;
        let layout = OciLayout {
            root: root.to_path_buf(),
        };
        if !root.join("index.json").exists() {
            layout.write_index(&json!({"schemaVersion": 2, "manifests": []}))?;
        }
        write_whole(
            &root.join("oci-layout"),
            br#"{"imageLayoutVersion":"1.0.0"}"#,
        )?;
        Ok(layout)
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every entry of `index.json`, in order.
    pub fn entries(&self) -> Result<Vec<Entry>> {
        let index = self.index()?;
        let path = self.root.join("index.json");
        let manifests = index
            .get("manifests")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        manifests
            .iter()
            .map(|m| {
                let malformed = |reason: &str| LayoutError::Malformed {
                    path: path.clone(),
                    reason: format!("an entry {reason}"),
                };
                Ok(Entry {
                    media_type: m
                        .get("mediaType")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    digest: m
                        .get("digest")
                        .and_then(Value::as_str)
                        .ok_or_else(|| malformed("has no digest"))?
                        .parse()
                        .map_err(|_| malformed("has an invalid digest"))?,
                    size: m
                        .get("size")
                        .and_then(Value::as_u64)
                        .ok_or_else(|| malformed("has no size"))?,
                    name: m
                        .get("annotations")
                        .and_then(|a| a.get(REF_NAME))
                        .and_then(Value::as_str)
                        .map(str::to_string),
                })
            })
            .collect()
    }

    /// The entry named `name`, or without a name the layout's only entry.
    pub fn resolve(&self, name: Option<&str>) -> Result<Entry> {
        let entries = self.entries()?;
        let names = || {
            let named: Vec<&str> = entries.iter().filter_map(|e| e.name.as_deref()).collect();
            if named.is_empty() {
                "it names none".to_string()
            } else {
                format!("it names {}", named.join(", "))
            }
        };
        let found: Vec<&Entry> = match name {
            Some(name) => entries
                .iter()
                .filter(|e| e.name.as_deref() == Some(name))
                .collect(),
            None => entries.iter().collect(),
        };
        match (found.as_slice(), name) {
            ([one], _) => Ok((*one).clone()),
            ([], Some(name)) => Err(LayoutError::NotFound {
                path: self.root.clone(),
                reason: format!("no image named {name}; {}", names()),
            }),
            ([], None) => Err(LayoutError::NotFound {
                path: self.root.clone(),
                reason: "the layout holds no image".into(),
            }),
            (_, _) => Err(LayoutError::NotFound {
                path: self.root.clone(),
                reason: format!(
                    "{} images{}; name one (oci:PATH:NAME); {}",
                    found.len(),
                    name.map_or(String::new(), |n| format!(" are named {n}")),
                    names()
                ),
            }),
        }
    }

    /// Where the blob `digest` lives (whether or not it is there).
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root
            .join("blobs")
            .join(digest.algorithm().name())
            .join(digest.hex())
    }

    /// True when the blob `digest` is there with `size` bytes (its content is
    /// checked when it is read).
    pub fn has_blob(&self, digest: &Digest, size: u64) -> bool {
        std::fs::metadata(self.blob_path(digest)).is_ok_and(|m| m.is_file() && m.len() == size)
    }

    /// The blob `digest`, opened for streaming (the reader checks nothing:
    /// see [`OciLayout::read_blob`] for small ones).
    pub fn open_blob(&self, digest: &Digest) -> Result<File> {
        let path = self.blob_path(digest);
        File::open(&path).map_err(io(&path))
    }

    /// The whole blob `digest`, at most `limit` bytes, checked against its digest.
    pub fn read_blob(&self, digest: &Digest, limit: u64) -> Result<Vec<u8>> {
        let path = self.blob_path(digest);
        let mut bytes = Vec::new();
        self.open_blob(digest)?
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(io(&path))?;
        if bytes.len() as u64 > limit {
            return Err(LayoutError::Malformed {
                path,
                reason: format!("larger than {limit} bytes, more than such a document holds"),
            });
        }
        let actual = digest.recompute(&bytes);
        if actual != *digest {
            return Err(LayoutError::DigestMismatch {
                path,
                expected: digest.to_string(),
                actual: actual.to_string(),
            });
        }
        Ok(bytes)
    }

    /// Writes the blob `digest` from `content`, hashing it as it goes: kept
    /// only when it hashes to `digest` (else nothing is left behind). A blob
    /// already there is not written again. The bytes written.
    pub fn write_blob(&self, digest: &Digest, content: &mut dyn Read) -> Result<u64> {
        let path = self.blob_path(digest);
        if let Ok(meta) = std::fs::metadata(&path) {
            if meta.is_file() {
                return Ok(0);
            }
        }
        let dir = path.parent().unwrap_or(&self.root).to_path_buf();
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let mut temp = tempfile::NamedTempFile::new_in(&dir).map_err(io(&dir))?;
        let mut hasher = Hasher::new(digest.algorithm());
        let mut buffer = vec![0u8; 256 * 1024];
        copy(content, &mut buffer, |chunk| {
            hasher.update(chunk);
            temp.write_all(chunk)
        })
        .map_err(io(&path))?;
        let written = hasher.len();
        let actual = hasher.finish();
        if actual != *digest {
            return Err(LayoutError::DigestMismatch {
                path,
                expected: digest.to_string(),
                actual: actual.to_string(),
            });
        }
        temp.as_file().sync_all().map_err(io(&path))?;
        temp.persist(&path).map_err(|e| io(&path)(e.error))?;
        Ok(written)
    }

    /// Names the manifest `entry` in `index.json` (as `entry.name`, replacing
    /// an entry of that name; without a name, added unless the same manifest
    /// is listed unnamed already). Its blobs must be written first.
    pub fn put_entry(&self, entry: &Entry) -> Result<()> {
        let mut index = self.index()?;
        let descriptor = {
            let mut d = json!({
                "mediaType": entry.media_type,
                "digest": entry.digest.to_string(),
                "size": entry.size,
            });
            if let Some(name) = &entry.name {
                d["annotations"] = json!({ REF_NAME: name });
            }
            d
        };
        let manifests = index
            .get_mut("manifests")
            .and_then(Value::as_array_mut)
            .ok_or_else(|| LayoutError::Malformed {
                path: self.root.join("index.json"),
                reason: "it has no manifests list".into(),
            })?;
        let same = |m: &Value| match &entry.name {
            Some(name) => {
                m.get("annotations")
                    .and_then(|a| a.get(REF_NAME))
                    .and_then(Value::as_str)
                    == Some(name)
            }
            None => {
                m.get("digest").and_then(Value::as_str) == Some(&entry.digest.to_string())
                    && m.get("annotations").and_then(|a| a.get(REF_NAME)).is_none()
            }
        };
        match manifests.iter().position(same) {
            Some(at) => manifests[at] = descriptor,
            None => manifests.push(descriptor),
        }
        self.write_index(&index)
    }

    fn index(&self) -> Result<Value> {
        let path = self.root.join("index.json");
        let mut bytes = Vec::new();
        File::open(&path)
            .map_err(io(&path))?
            .take(MAX_INDEX)
            .read_to_end(&mut bytes)
            .map_err(io(&path))?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| LayoutError::Malformed {
            path: path.clone(),
            reason: format!("invalid JSON: {e}"),
        })?;
        if !value.get("manifests").is_some_and(Value::is_array) {
            return Err(LayoutError::Malformed {
                path,
                reason: "it has no manifests list".into(),
            });
        }
        Ok(value)
    }

    fn write_index(&self, index: &Value) -> Result<()> {
        let bytes = serde_json::to_vec(index).map_err(|e| LayoutError::Malformed {
            path: self.root.join("index.json"),
            reason: e.to_string(),
        })?;
        write_whole(&self.root.join("index.json"), &bytes)
    }
}

/// Writes `path` whole or not at all: a temporary file beside it, renamed.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(io(dir))?;
    temp.write_all(bytes).map_err(io(path))?;
    temp.as_file().sync_all().map_err(io(path))?;
    temp.persist(path).map_err(|e| io(path)(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(bytes: &[u8], name: Option<&str>) -> Entry {
        Entry {
            media_type: crate::registry::media::OCI_MANIFEST.into(),
            digest: Digest::sha256_of(bytes),
            size: bytes.len() as u64,
            name: name.map(str::to_string),
        }
    }

    #[test]
    fn blobs_are_whole_and_checked_and_entries_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let layout = OciLayout::create(&dir.path().join("l")).unwrap();
        let manifest = br#"{"schemaVersion":2}"#;
        let digest = Digest::sha256_of(manifest);
        assert_eq!(
            layout.write_blob(&digest, &mut &manifest[..]).unwrap(),
            manifest.len() as u64
        );
        assert!(layout.has_blob(&digest, manifest.len() as u64));
        assert_eq!(layout.read_blob(&digest, 1024).unwrap(), manifest);
        // Content that does not hash to its name leaves nothing behind.
        let wrong = Digest::sha256_of(b"other");
        assert!(matches!(
            layout.write_blob(&wrong, &mut &b"not other"[..]),
            Err(LayoutError::DigestMismatch { .. })
        ));
        assert!(!layout.blob_path(&wrong).exists());
        let leftovers = std::fs::read_dir(layout.blob_path(&wrong).parent().unwrap())
            .unwrap()
            .count();
        assert_eq!(leftovers, 1, "only the good blob");

        layout.put_entry(&entry(manifest, Some("v1"))).unwrap();
        layout.put_entry(&entry(manifest, Some("v2"))).unwrap();
        // Renaming v1 onto another manifest replaces that entry alone.
        layout.put_entry(&entry(b"{}", Some("v1"))).unwrap();
        let reopened = OciLayout::open(layout.root()).unwrap();
        assert_eq!(reopened.resolve(Some("v2")).unwrap().digest, digest);
        assert_eq!(
            reopened.resolve(Some("v1")).unwrap().digest,
            Digest::sha256_of(b"{}")
        );
        assert_eq!(reopened.entries().unwrap().len(), 2);
        let none = reopened.resolve(Some("v3")).unwrap_err().to_string();
        assert!(
            none.contains("no image named v3; it names v1, v2"),
            "{none}"
        );
        let two = reopened.resolve(None).unwrap_err().to_string();
        assert!(two.contains("2 images; name one"), "{two}");
    }

    #[test]
    fn a_folder_that_is_not_a_layout_is_named_so() {
        let dir = tempfile::tempdir().unwrap();
        let err = OciLayout::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not an OCI image layout"), "{err}");
    }
}
