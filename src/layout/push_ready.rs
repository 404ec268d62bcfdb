//! An image of a `docker save` archive made ready for a registry: the archive
//! holds uncompressed layer tars and no manifest, so each layer is compressed
//! (gzip, deterministic: the same layer gives the same digest on every run, so
//! a re-run finds it in place) into a temporary file, checked against the
//! config's `rootfs.diff_ids` as it streams, and a Docker image manifest is
//! built over the config and the compressed layers.

use std::io::{Read, Write as _};

use flate2::write::GzEncoder;
use serde_json::{json, Value};

use super::docker_archive::{ArchiveImage, DockerArchive, MAX_DOCUMENT};
use super::{copy, io, LayoutError, Result};
use crate::registry::digest::{Algorithm, Hasher};
use crate::registry::media::DOCKER_MANIFEST;
use crate::registry::Digest;

/// Docker's media type of a gzip-compressed layer.
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// Docker's media type of an image config.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// OCI's media type of a zstd-compressed layer.
const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";

/// A layer ready to send: its bytes in a temporary file, and how the manifest
/// names them.
#[derive(Debug)]
pub struct ReadyLayer {
    /// The bytes to send.
    pub file: tempfile::NamedTempFile,
    /// Their digest.
    pub digest: Digest,
    /// Their size.
    pub size: u64,
    /// Their media type.
    pub media_type: &'static str,
}

/// An archive image ready to send: its config, its layers, and the manifest
/// over them.
#[derive(Debug)]
pub struct ReadyImage {
    /// The config's bytes, as saved.
    pub config: Vec<u8>,
    /// The layers, bottom first.
    pub layers: Vec<ReadyLayer>,
    /// The Docker image manifest naming them.
    pub manifest: Vec<u8>,
}

/// Prepares `image` of `archive`.
pub fn prepare(archive: &DockerArchive, image: &ArchiveImage) -> Result<ReadyImage> {
    let config = archive.read(&image.config, MAX_DOCUMENT)?;
    let diff_ids = diff_ids(&config).map_err(|reason| malformed(&image.config, reason))?;
    if diff_ids.len() != image.layers.len() {
        return Err(malformed(
            &image.config,
            format!(
                "the config lists {} layers (rootfs.diff_ids), manifest.json {}",
                diff_ids.len(),
                image.layers.len()
            ),
        ));
    }
    let mut layers = Vec::with_capacity(image.layers.len());
    for (name, diff_id) in image.layers.iter().zip(&diff_ids) {
        let (reader, _) = archive.open_entry(name)?;
        layers.push(ready_layer(reader, name, diff_id)?);
    }
    let manifest = manifest(&config, &layers);
    Ok(ReadyImage {
        config,
        layers,
        manifest,
    })
}

fn malformed(name: &str, reason: String) -> LayoutError {
    LayoutError::Malformed {
        path: name.into(),
        reason,
    }
}

/// The config's `rootfs.diff_ids`.
fn diff_ids(config: &[u8]) -> std::result::Result<Vec<Digest>, String> {
    let value: Value =
        serde_json::from_slice(config).map_err(|e| format!("the config is not JSON: {e}"))?;
    value
        .pointer("/rootfs/diff_ids")
        .and_then(Value::as_array)
        .ok_or("the config has no rootfs.diff_ids")?
        .iter()
        .map(|d| {
            d.as_str()
                .and_then(|d| d.parse().ok())
                .ok_or_else(|| "a diff_id is not a digest".to_string())
        })
        .collect()
}

/// One layer: compressed with gzip while its uncompressed digest is checked
/// against `diff_id`; a layer saved compressed already is sent as it is.
fn ready_layer(mut reader: impl Read, name: &str, diff_id: &Digest) -> Result<ReadyLayer> {
    let path = std::path::PathBuf::from(name);
    let mut head = [0u8; 4];
    let mut got = 0;
    while got < head.len() {
        match reader.read(&mut head[got..]).map_err(io(&path))? {
            0 => break,
            n => got += n,
        }
    }
    let mut reader = (&head[..got]).chain(reader);
    let file = tempfile::NamedTempFile::new().map_err(io(&path))?;
    let mut sent = Hasher::new(Algorithm::Sha256);
    let mut plain = Hasher::new(diff_id.algorithm());
    let kind = match head {
        [0x1f, 0x8b, ..] => Kind::Gzip,
        [0x28, 0xb5, 0x2f, 0xfd] => Kind::Zstd,
        _ => Kind::Tar,
    };
    let mut out = HashingWriter {
        inner: file.as_file(),
        hasher: &mut sent,
    };
    let mut buffer = vec![0u8; 256 * 1024];
    match kind {
        Kind::Tar => {
            let mut gz = GzEncoder::new(&mut out, flate2::Compression::default());
            copy(&mut reader, &mut buffer, |chunk| {
                plain.update(chunk);
                gz.write_all(chunk)
            })
            .map_err(io(&path))?;
            gz.finish().map_err(io(&path))?;
        }
        Kind::Gzip => {
            // Sent as saved; its content is checked by decompressing a copy.
            let mut check = flate2::write::GzDecoder::new(HashingWriter {
                inner: std::io::sink(),
                hasher: &mut plain,
            });
            copy(&mut reader, &mut buffer, |chunk| {
                check.write_all(chunk)?;
                out.write_all(chunk)
            })
            .map_err(io(&path))?;
            check.finish().map_err(io(&path))?;
        }
        Kind::Zstd => {
            copy(&mut reader, &mut buffer, |chunk| out.write_all(chunk)).map_err(io(&path))?;
        }
    }
    if kind != Kind::Zstd {
        let actual = plain.finish();
        if actual != *diff_id {
            return Err(LayoutError::DigestMismatch {
                path,
                expected: diff_id.to_string(),
                actual: actual.to_string(),
            });
        }
    }
    let size = sent.len();
    Ok(ReadyLayer {
        file,
        digest: sent.finish(),
        size,
        media_type: if kind == Kind::Zstd {
            OCI_LAYER_ZSTD
        } else {
            DOCKER_LAYER_GZIP
        },
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Tar,
    Gzip,
    Zstd,
}

/// Writes through to `inner`, hashing what goes by.
struct HashingWriter<'a, W> {
    inner: W,
    hasher: &'a mut Hasher,
}

impl<W: std::io::Write> std::io::Write for HashingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A Docker image manifest over `config` and `layers` (compact JSON).
fn manifest(config: &[u8], layers: &[ReadyLayer]) -> Vec<u8> {
    let value = json!({
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": {
            "mediaType": DOCKER_CONFIG,
            "size": config.len(),
            "digest": Digest::sha256_of(config).to_string(),
        },
        "layers": layers.iter().map(|l| json!({
            "mediaType": l.media_type,
            "size": l.size,
            "digest": l.digest.to_string(),
        })).collect::<Vec<_>>(),
    });
    // A JSON value always serialises.
    serde_json::to_vec(&value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layer_is_compressed_the_same_way_every_time_and_checked() {
        let tar = b"pretend this is a tar".repeat(100);
        let diff_id = Digest::sha256_of(&tar);
        let one = ready_layer(&tar[..], "l", &diff_id).unwrap();
        let two = ready_layer(&tar[..], "l", &diff_id).unwrap();
        assert_eq!(
            (one.digest.clone(), one.size),
            (two.digest.clone(), two.size)
        );
        assert!(one.size < tar.len() as u64);
        let sent = std::fs::read(one.file.path()).unwrap();
        assert_eq!(Digest::sha256_of(&sent), one.digest);
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&sent[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, tar);
        // Saved compressed already: sent as it is, still checked.
        let again = ready_layer(&sent[..], "l", &diff_id).unwrap();
        assert_eq!(again.digest, one.digest);
        // A layer that is not the one the config names is refused.
        let wrong = ready_layer(&b"other"[..], "l", &diff_id).unwrap_err();
        assert!(matches!(wrong, LayoutError::DigestMismatch { .. }));
    }

    #[test]
    fn the_manifest_names_the_config_and_the_sent_layers() {
        let tar = b"layer";
        let layer = ready_layer(&tar[..], "l", &Digest::sha256_of(tar)).unwrap();
        let config = br#"{"rootfs":{"type":"layers","diff_ids":[]}}"#;
        let bytes = manifest(config, std::slice::from_ref(&layer));
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            value["config"]["digest"],
            Digest::sha256_of(config).to_string()
        );
        assert_eq!(value["layers"][0]["digest"], layer.digest.to_string());
        assert_eq!(value["layers"][0]["size"], layer.size);
    }
}
