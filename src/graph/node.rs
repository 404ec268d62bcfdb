//! One manifest as the graph needs it: what it points at (an index's children, an
//! image's config and layers, its `subject`) and its size, read leniently from the
//! bytes served.

use std::sync::Arc;

use serde_json::Value;

use crate::registry::media::{self, Descriptor, MediaType};
use crate::registry::Digest;

/// One manifest of the repository.
#[derive(Clone, Debug)]
pub struct Node {
    /// Its media type, as served.
    pub media_type: MediaType,
    /// The size of the bytes served (a manifest is a blob too).
    pub size: u64,
    /// The bytes exactly as served, kept for an OCI index only (a referrers
    /// fallback index is re-pushed without deleted entries); the loader drops
    /// them for an index no fallback tag names. Other manifests keep only what
    /// the graph needs, not their bytes.
    pub index_bytes: Option<Arc<[u8]>>,
    /// False when the bytes are not a manifest regctl can read: then what it points
    /// at is unknown, and nothing is deleted on the strength of it.
    pub readable: bool,
    /// An index's children.
    pub children: Vec<Digest>,
    /// The sizes their descriptors give, in the same order.
    child_sizes: Vec<u64>,
    /// An index (OCI index or Docker manifest list), as [`media::is_index`] decides.
    index: bool,
    /// An image's config.
    pub config: Option<Descriptor>,
    /// An image's layers (or an artifact's blobs), those whose descriptor reads
    /// and that the registry stores.
    pub layers: Vec<Descriptor>,
    /// Foreign (non-distributable) layers: fetched from their `urls`, never
    /// stored by the registry (a Windows base layer), so never counted as bytes
    /// it holds or frees.
    pub foreign_layers: Vec<Descriptor>,
    /// The manifest this one is attached to (OCI `subject`).
    pub subject: Option<Digest>,
    /// The artifact type (OCI `artifactType`, or the config's media type).
    pub artifact_type: Option<String>,
    /// A Docker schema 1 manifest's creation time, as its newest history entry
    /// gives it (schema 1 has no config blob).
    pub schema1_created: Option<String>,
}

impl Node {
    /// A node from the bytes served for it. Read leniently, field by field: an
    /// index entry with an odd `platform` still names its child. A manifest whose
    /// references cannot all be read is marked unreadable.
    pub fn from_bytes(media_type: &str, bytes: Arc<[u8]>) -> Node {
        let value = serde_json::from_slice::<Value>(&bytes).ok();
        let declared = value
            .as_ref()
            .and_then(|v| v.get("mediaType"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let media_type = match (media_type, declared) {
            ("", Some(declared)) => MediaType::parse(&declared),
            (given, _) => MediaType::parse(given),
        };
        let Some(json @ Value::Object(_)) = value else {
            return Node::unreadable(media_type, bytes);
        };
        let index = media::is_index(&media_type, &json);
        let Value::Object(fields) = json else {
            return Node::unreadable(media_type, bytes);
        };
        let digest_of = |d: &Value| d.get("digest")?.as_str()?.parse::<Digest>().ok();
        let mut readable = true;
        let mut children = Vec::new();
        let mut child_sizes = Vec::new();
        match fields.get("manifests") {
            None | Some(Value::Null) => {}
            Some(Value::Array(entries)) => {
                for entry in entries {
                    match digest_of(entry) {
                        Some(d) => {
                            children.push(d);
                            child_sizes
                                .push(entry.get("size").and_then(Value::as_u64).unwrap_or(0));
                        }
                        None => readable = false,
                    }
                }
            }
            Some(_) => readable = false,
        }
        let config: Option<Descriptor> = fields
            .get("config")
            .and_then(|c| serde_json::from_value(c.clone()).ok());
        let mut layers: Vec<Descriptor> = Vec::new();
        let mut foreign_layers: Vec<Descriptor> = Vec::new();
        if let Some(Value::Array(entries)) = fields.get("layers") {
            for entry in entries {
                let Ok(layer) = serde_json::from_value::<Descriptor>(entry.clone()) else {
                    continue;
                };
                if media::is_foreign_layer(&layer.media_type, entry.get("urls").is_some()) {
                    foreign_layers.push(layer);
                } else {
                    layers.push(layer);
                }
            }
        }
        // Docker schema 1: layers by `fsLayers[].blobSum`, without sizes (it
        // gives none), each once; the creation time in the newest history entry.
        let mut schema1_created = None;
        if fields.get("schemaVersion").and_then(Value::as_u64) == Some(1) {
            match fields.get("fsLayers") {
                Some(Value::Array(entries)) => {
                    for entry in entries {
                        match entry.get("blobSum").and_then(Value::as_str).map(str::parse) {
                            Some(Ok(digest)) => {
                                if !layers.iter().any(|l: &Descriptor| l.digest == digest) {
                                    layers.push(Descriptor {
                                        media_type: String::new(),
                                        digest,
                                        size: 0,
                                        platform: None,
                                        artifact_type: None,
                                    });
                                }
                            }
                            _ => readable = false,
                        }
                    }
                }
                _ => readable = false,
            }
            schema1_created = fields
                .get("history")
                .and_then(|h| h.get(0))
                .and_then(|h| h.get("v1Compatibility"))
                .and_then(Value::as_str)
                .and_then(|v| serde_json::from_str::<Value>(v).ok())
                .and_then(|v| v.get("created").and_then(Value::as_str).map(str::to_string));
        }
        let subject = match fields.get("subject") {
            None | Some(Value::Null) => None,
            Some(d) => {
                let parsed = digest_of(d);
                readable &= parsed.is_some();
                parsed
            }
        };
        let artifact_type = fields
            .get("artifactType")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| {
                config
                    .as_ref()
                    .map(|c| c.media_type.clone())
                    .filter(|t| !is_image_config(t) && t != EMPTY_CONFIG)
            });
        Node {
            // What the registry stores: for signed schema 1, the payload.
            size: media::digested_bytes(&bytes).len() as u64,
            index_bytes: (media_type == MediaType::OciIndex).then_some(bytes),
            schema1_created,
            media_type,
            readable,
            children,
            child_sizes,
            index,
            config,
            layers,
            foreign_layers,
            subject,
            artifact_type,
        }
    }

    /// The blobs this manifest references, with their sizes, as the garbage
    /// collector marks them: itself (a manifest is a blob too), its config and
    /// layers, and an index's children (their manifests, not what those
    /// reference: the collector does not follow an index further).
    pub fn blobs(&self, digest: &Digest) -> Vec<(Digest, u64)> {
        let mut blobs: Vec<(Digest, u64)> = self
            .children
            .iter()
            .cloned()
            .zip(self.child_sizes.iter().copied())
            .collect();
        blobs.push((digest.clone(), self.size));
        blobs.extend(
            self.config
                .iter()
                .chain(&self.layers)
                .map(|d| (d.digest.clone(), d.size)),
        );
        blobs
    }

    fn unreadable(media_type: MediaType, bytes: Arc<[u8]>) -> Node {
        Node {
            index: media_type.is_index(),
            size: bytes.len() as u64,
            index_bytes: None,
            schema1_created: None,
            media_type,
            readable: false,
            children: Vec::new(),
            child_sizes: Vec::new(),
            config: None,
            layers: Vec::new(),
            foreign_layers: Vec::new(),
            subject: None,
            artifact_type: None,
        }
    }

    /// True for an index (OCI index or Docker manifest list).
    pub fn is_index(&self) -> bool {
        self.index
    }
}

/// The OCI empty config (`{}`), used by artifacts.
pub const EMPTY_CONFIG: &str = "application/vnd.oci.empty.v1+json";

pub use crate::registry::media::is_image_config;
