//! Test helpers shared by the graph's users: snapshots made by hand.

use std::sync::Arc;

use super::{Node, Snapshot};
use crate::registry::media::OCI_MANIFEST;
use crate::registry::Digest;

/// A digest named by `name`.
pub(crate) fn digest(name: &str) -> Digest {
    Digest::sha256_of(name.as_bytes())
}

/// Adds image `name` with a 7-byte config and `layers` (name, size), tagged `name`.
pub(crate) fn image(snapshot: &mut Snapshot, name: &str, layers: &[(&str, u64)]) -> (Digest, u64) {
    let layers: Vec<_> = layers
        .iter()
        .map(|(l, size)| {
            serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": digest(l).to_string(), "size": size})
        })
        .collect();
    let body = serde_json::json!({"schemaVersion": 2, "config": {
        "mediaType": "application/vnd.oci.image.config.v1+json",
        "digest": digest(&format!("{name} config")).to_string(), "size": 7}, "layers": layers});
    let bytes: Arc<[u8]> = Arc::from(serde_json::to_vec(&body).unwrap());
    let size = bytes.len() as u64;
    let d = Digest::sha256_of(&bytes);
    snapshot
        .manifests
        .insert(d.clone(), Node::from_bytes(OCI_MANIFEST, bytes));
    snapshot.tags.insert(name.to_string(), d.clone());
    (d, size)
}
