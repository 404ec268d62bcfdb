//! What one manifest is, read from the registry: its media type, digest and size;
//! an index's platforms; an image's config (created, platform, labels,
//! entrypoint, cmd) and layers; the attachments that point at it (cosign's
//! `.sig`/`.att`/`.sbom` tags, OCI referrers from the API or its fallback tag).
//! A library over [`crate::graph`]: no printing.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::graph::{cosign_tag, fallback_tag_for, is_image_config, AttachmentKind, Node};
use crate::registry::media::Descriptor;
use crate::registry::reference::ManifestRef;
use crate::registry::{Digest, Reference, Registry, RegistryError};

use crate::registry::manifests::MAX_CONFIG_BODY;

/// One manifest, inspected. Every field is always present (null or empty when
/// it does not apply), so that scripts can rely on the shape.
#[derive(Clone, Debug, Serialize)]
pub struct Inspection {
    /// The reference as given.
    pub reference: String,
    /// The manifest's digest (sha256 of the bytes served).
    pub digest: Digest,
    /// Its media type, as served.
    pub media_type: String,
    /// The manifest's own size in bytes.
    pub size: u64,
    /// `index` or `image` (an artifact is an image-shaped manifest).
    pub kind: &'static str,
    /// The OCI `artifactType`, or an artifact's config media type.
    pub artifact_type: Option<String>,
    /// The manifest this one is attached to (OCI `subject`).
    pub subject: Option<Digest>,
    /// An index's children, one per platform.
    pub platforms: Vec<PlatformEntry>,
    /// An image's config.
    pub config: Option<ConfigSummary>,
    /// An image's layers.
    pub layers: Vec<BlobEntry>,
    /// The manifest, config and layers (for an index: with every child's), each
    /// blob once.
    pub total_size: u64,
    /// The manifests attached to this one.
    pub attachments: Vec<AttachmentEntry>,
    /// What could not be read (a config, a child, the attachments): the rest is
    /// still reported.
    pub warnings: Vec<String>,
    /// The config blob's bytes exactly as served, when one was read.
    #[serde(skip)]
    pub raw_config: Option<Vec<u8>>,
}

/// A child of an index.
#[derive(Clone, Debug, Serialize)]
pub struct PlatformEntry {
    /// `os/arch[/variant]`, or null for an entry without a platform.
    pub platform: Option<String>,
    /// The child's digest.
    pub digest: Digest,
    /// Its media type.
    pub media_type: String,
    /// The child manifest's size.
    pub size: u64,
    /// The child's manifest, config and layers (null when it could not be read).
    pub total_size: Option<u64>,
}

/// A blob an image references.
#[derive(Clone, Debug, Serialize)]
pub struct BlobEntry {
    /// Its digest.
    pub digest: Digest,
    /// Its media type.
    pub media_type: String,
    /// Its size.
    pub size: u64,
}

/// An image's config, summarised.
#[derive(Clone, Debug, Serialize)]
pub struct ConfigSummary {
    /// The config blob's digest.
    pub digest: Digest,
    /// Its media type.
    pub media_type: String,
    /// Its size.
    pub size: u64,
    /// `created`, as written.
    pub created: Option<String>,
    /// `os/architecture[/variant]`.
    pub platform: Option<String>,
    /// `config.Labels`.
    pub labels: BTreeMap<String, String>,
    /// `config.Entrypoint`.
    pub entrypoint: Option<Vec<String>>,
    /// `config.Cmd`.
    pub cmd: Option<Vec<String>>,
}

/// A manifest attached to the inspected one.
#[derive(Clone, Debug, Serialize)]
pub struct AttachmentEntry {
    /// `signature`, `attestation`, `sbom` (cosign tags) or `referrer`.
    pub kind: &'static str,
    /// The attached manifest.
    pub digest: Digest,
    /// Its artifact type, when it declares one.
    pub artifact_type: Option<String>,
    /// The tag it is found by (cosign), or null (referrers).
    pub tag: Option<String>,
}

/// Inspects `reference` on `registry`. A `REPO:TAG@DIGEST` reference is read by
/// digest, and the tag is checked to point at it.
pub async fn inspect(
    registry: &Registry,
    reference: &Reference,
) -> Result<Inspection, RegistryError> {
    let repository = reference.repository();
    let target = reference.manifest_reference();
    let manifest = registry.get_manifest(repository, &target).await?;
    if let (Some(tag), Some(_)) = (reference.tag(), reference.digest()) {
        let tagged = registry
            .get_manifest(repository, &ManifestRef::tag(tag))
            .await?;
        if tagged.digest != manifest.digest {
            return Err(RegistryError::TagPointsElsewhere {
                reference: format!("{}/{repository}:{tag}", registry.host()),
                actual: tagged.digest,
                expected: manifest.digest,
            });
        }
    }
    let node = Node::from_bytes(&manifest.media_type, manifest.bytes.clone().into());
    let json: Value = serde_json::from_slice(&manifest.bytes).unwrap_or(Value::Null);
    let mut inspection = Inspection {
        reference: reference.to_string(),
        digest: manifest.digest.clone(),
        media_type: node.media_type.as_str().to_string(),
        size: manifest.bytes.len() as u64,
        kind: if node.is_index() { "index" } else { "image" },
        artifact_type: node.artifact_type.clone(),
        subject: node.subject.clone(),
        platforms: Vec::new(),
        config: None,
        layers: blob_entries(&node.layers),
        total_size: 0,
        attachments: Vec::new(),
        warnings: Vec::new(),
        raw_config: None,
    };
    if !node.foreign_layers.is_empty() {
        let foreign: Vec<String> = node
            .foreign_layers
            .iter()
            .map(|l| format!("{} ({} bytes)", l.digest, l.size))
            .collect();
        let many = if foreign.len() == 1 {
            "1 layer is".to_string()
        } else {
            format!("{} layers are", foreign.len())
        };
        inspection.warnings.push(format!(
            "{many} foreign (not stored by the registry, fetched from their URLs; not in \
             the total): {}",
            foreign.join(", ")
        ));
    }
    let mut blobs: BTreeMap<Digest, u64> = node.blobs(&manifest.digest).into_iter().collect();
    if node.is_index() {
        for entry in index_entries(&json) {
            let child = match registry
                .get_manifest(repository, &ManifestRef::from(&entry.digest))
                .await
            {
                Ok(m) => Some(Node::from_bytes(&m.media_type, m.bytes.into())),
                Err(e) => {
                    inspection.warnings.push(format!(
                        "child {} could not be read ({e}); the total leaves it out",
                        entry.digest
                    ));
                    None
                }
            };
            let child_blobs = child.as_ref().map(|c| c.blobs(&entry.digest));
            let total = child_blobs
                .as_ref()
                .map(|b| crate::graph::space::total_of(b.iter().map(|(_, s)| s)));
            blobs.extend(child_blobs.into_iter().flatten());
            inspection.platforms.push(PlatformEntry {
                platform: entry.platform.map(|p| p.to_string()),
                digest: entry.digest,
                media_type: entry.media_type,
                size: entry.size,
                total_size: total,
            });
        }
    }
    if let Some(config) = &node.config {
        let raw = if is_image_config(&config.media_type) {
            match registry
                .get_blob(repository, &config.digest, MAX_CONFIG_BODY)
                .await
            {
                Ok(raw) => Some(raw),
                Err(e) => {
                    inspection
                        .warnings
                        .push(format!("the config could not be read: {e}"));
                    None
                }
            }
        } else {
            None
        };
        inspection.config = Some(summarise_config(config, raw.as_deref()));
        inspection.raw_config = raw;
    }
    inspection.total_size = crate::graph::space::total_of(blobs.values());
    match attachments(registry, repository, &manifest.digest).await {
        Ok(found) => inspection.attachments = found,
        Err(e) => inspection
            .warnings
            .push(format!("the attachments could not be read: {e}")),
    }
    Ok(inspection)
}

fn blob_entries(descriptors: &[Descriptor]) -> Vec<BlobEntry> {
    descriptors
        .iter()
        .map(|d| BlobEntry {
            digest: d.digest.clone(),
            media_type: d.media_type.clone(),
            size: d.size,
        })
        .collect()
}

/// An index's entries, those whose descriptor reads.
fn index_entries(json: &Value) -> Vec<Descriptor> {
    json.get("manifests")
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .filter_map(|e| serde_json::from_value(e.clone()).ok())
                .collect()
        })
        .unwrap_or_default()
}

fn summarise_config(descriptor: &Descriptor, raw: Option<&[u8]>) -> ConfigSummary {
    let json: Value = raw
        .and_then(|r| serde_json::from_slice(r).ok())
        .unwrap_or(Value::Null);
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    let strings = |v: Option<&Value>| -> Option<Vec<String>> {
        v?.as_array()?
            .iter()
            .map(|s| s.as_str().map(str::to_string))
            .collect()
    };
    let run = json.get("config").cloned().unwrap_or(Value::Null);
    let platform = match (text(&json, "os"), text(&json, "architecture")) {
        (Some(os), Some(arch)) => Some(match text(&json, "variant") {
            Some(v) => format!("{os}/{arch}/{v}"),
            None => format!("{os}/{arch}"),
        }),
        _ => None,
    };
    ConfigSummary {
        digest: descriptor.digest.clone(),
        media_type: descriptor.media_type.clone(),
        size: descriptor.size,
        created: text(&json, "created"),
        platform,
        labels: run
            .get("Labels")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default(),
        entrypoint: strings(run.get("Entrypoint")),
        cmd: strings(run.get("Cmd")),
    }
}

/// The manifests attached to `digest`: cosign's tags for it, and its referrers
/// (from the API, or from the fallback tag where there is none).
async fn attachments(
    registry: &Registry,
    repository: &str,
    digest: &Digest,
) -> Result<Vec<AttachmentEntry>, RegistryError> {
    let mut found = Vec::new();
    let tags = registry.tags(repository).await?;
    for tag in &tags {
        let Some((subject, kind)) = cosign_tag(tag) else {
            continue;
        };
        if subject != *digest {
            continue;
        }
        let attached = match registry
            .get_manifest(repository, &ManifestRef::tag(tag))
            .await
        {
            Ok(attached) => attached,
            // Listed, but its manifest is gone (a dangling tag): nothing attached.
            Err(RegistryError::NotFound { .. }) => continue,
            Err(e) => return Err(e),
        };
        let node = Node::from_bytes(&attached.media_type, attached.bytes.into());
        found.push(AttachmentEntry {
            kind: kind.word(),
            digest: attached.digest,
            artifact_type: node.artifact_type,
            tag: Some(tag.clone()),
        });
    }
    let referrers = match registry.referrers(repository, digest).await? {
        Some(referrers) => referrers,
        None => {
            let fallback = fallback_tag_for(digest);
            if tags.contains(&fallback) {
                let index = registry
                    .get_manifest(repository, &ManifestRef::tag(&fallback))
                    .await?;
                index_entries(&serde_json::from_slice(&index.bytes).unwrap_or(Value::Null))
            } else {
                Vec::new()
            }
        }
    };
    for referrer in referrers {
        if found.iter().any(|a| a.digest == referrer.digest) {
            continue;
        }
        found.push(AttachmentEntry {
            kind: AttachmentKind::Referrer(None).word(),
            digest: referrer.digest,
            artifact_type: referrer.artifact_type,
            tag: None,
        });
    }
    Ok(found)
}
