//! Writing what `docker save` writes, for `docker load`: one image of an OCI
//! layout as a tar holding `manifest.json` (its config file, the name it is
//! loaded under, its layer files in order), the config, and each layer as the
//! uncompressed tar docker expects (a gzip layer is decompressed on the way and
//! checked against the config's `rootfs.diff_ids`). Written beside the target
//! and renamed over it: a failure leaves nothing half-written.

use std::io::{Read, Write as _};
use std::path::Path;

use serde_json::{json, Value};

use super::docker_archive::MAX_DOCUMENT;
use super::oci::OciLayout;
use super::{copy, io, LayoutError, Result};
use crate::registry::digest::{Algorithm, Hasher};
use crate::registry::Digest;

/// Writes the image `manifest` of `layout` to `file`, named `name` (as
/// `docker load` will tag it), if given.
pub fn write(layout: &OciLayout, manifest: &Digest, name: Option<&str>, file: &Path) -> Result<()> {
    let malformed = |reason: String| LayoutError::Malformed {
        path: file.to_path_buf(),
        reason,
    };
    let bytes = layout.read_blob(manifest, MAX_DOCUMENT)?;
    let parsed: Value = serde_json::from_slice(&bytes)
        .map_err(|e| malformed(format!("manifest {manifest} is not JSON: {e}")))?;
    if parsed.get("manifests").is_some() {
        return Err(malformed(format!(
            "{manifest} is an index: a docker-archive holds one image; pick it with --platform"
        )));
    }
    let digest_at = |v: &Value| -> Result<Digest> {
        v.get("digest")
            .and_then(Value::as_str)
            .and_then(|d| d.parse().ok())
            .ok_or_else(|| malformed(format!("manifest {manifest} names a blob without a digest")))
    };
    let config_digest = digest_at(&parsed["config"])?;
    let config = layout.read_blob(&config_digest, MAX_DOCUMENT)?;
    let diff_ids: Vec<String> = serde_json::from_slice::<Value>(&config)
        .ok()
        .and_then(|c| {
            c.get("rootfs")?.get("diff_ids")?.as_array().map(|ids| {
                ids.iter()
                    .filter_map(|d| d.as_str().map(str::to_string))
                    .collect()
            })
        })
        .unwrap_or_default();
    let layers = parsed["layers"].as_array().cloned().unwrap_or_default();
    if !diff_ids.is_empty() && diff_ids.len() != layers.len() {
        return Err(malformed(format!(
            "the config lists {} layers (rootfs.diff_ids), the manifest {}",
            diff_ids.len(),
            layers.len()
        )));
    }

    let dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let temp = tempfile::NamedTempFile::new_in(dir).map_err(io(dir))?;
    let mut tar = tar::Builder::new(temp);
    let config_name = format!("{}.json", config_digest.hex());
    append(
        &mut tar,
        &config_name,
        &mut config.as_slice(),
        config.len() as u64,
        file,
    )?;
    let mut layer_names = Vec::new();
    for (n, layer) in layers.iter().enumerate() {
        let digest = digest_at(layer)?;
        let media_type = layer.get("mediaType").and_then(Value::as_str).unwrap_or("");
        if media_type.contains("zstd") {
            return Err(malformed(format!(
                "layer {digest} is zstd-compressed, which docker load does not read"
            )));
        }
        let (plain, diff_id) = uncompressed(layout, &digest, dir)?;
        if let Some(expected) = diff_ids.get(n) {
            if *expected != diff_id.to_string() {
                return Err(LayoutError::DigestMismatch {
                    path: layout.blob_path(&digest),
                    expected: expected.clone(),
                    actual: diff_id.to_string(),
                });
            }
        }
        let name = format!("{}.tar", diff_id.hex());
        let size = plain.as_file().metadata().map_err(io(plain.path()))?.len();
        let mut reader = plain.reopen().map_err(io(plain.path()))?;
        append(&mut tar, &name, &mut reader, size, file)?;
        layer_names.push(name);
    }
    let listing = json!([{
        "Config": config_name,
        "RepoTags": name.map(|n| vec![n.to_string()]).unwrap_or_default(),
        "Layers": layer_names,
    }]);
    let listing = serde_json::to_vec(&listing).map_err(|e| malformed(e.to_string()))?;
    append(
        &mut tar,
        "manifest.json",
        &mut listing.as_slice(),
        listing.len() as u64,
        file,
    )?;
    let mut temp = tar.into_inner().map_err(io(file))?;
    temp.flush().map_err(io(file))?;
    temp.as_file().sync_all().map_err(io(file))?;
    temp.persist(file).map_err(|e| io(file)(e.error))?;
    Ok(())
}

fn append(
    tar: &mut tar::Builder<tempfile::NamedTempFile>,
    name: &str,
    content: &mut dyn Read,
    size: u64,
    file: &Path,
) -> Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(size);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, name, content)
        .map_err(io(file))
}

/// The layer `digest` as an uncompressed tar in a temporary file in `dir`, and
/// its digest (the diff ID). A layer that is no gzip is taken as a plain tar.
fn uncompressed(
    layout: &OciLayout,
    digest: &Digest,
    dir: &Path,
) -> Result<(tempfile::NamedTempFile, Digest)> {
    let path = layout.blob_path(digest);
    let mut magic = [0u8; 2];
    let gzip = {
        let mut probe = layout.open_blob(digest)?;
        probe.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b]
    };
    let blob = layout.open_blob(digest)?;
    let mut reader: Box<dyn Read> = if gzip {
        Box::new(flate2::read::MultiGzDecoder::new(blob))
    } else {
        Box::new(blob)
    };
    let mut out = tempfile::NamedTempFile::new_in(dir).map_err(io(dir))?;
    let mut hasher = Hasher::new(Algorithm::Sha256);
    let mut buffer = vec![0u8; 256 * 1024];
    copy(&mut reader, &mut buffer, |chunk| {
        hasher.update(chunk);
        out.write_all(chunk)
    })
    .map_err(io(&path))?;
    out.flush().map_err(io(&path))?;
    Ok((out, hasher.finish()))
}
