//! Manifest media types and the few manifest fields regctl reads.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::digest::Digest;

/// OCI image index (multi-platform).
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Docker manifest list (multi-platform).
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker image manifest, schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// The bytes a manifest's digest covers. For a signed Docker schema 1 manifest
/// that is its JWS payload: the bytes before the signatures (the protected
/// header's `formatLength`) followed by its `formatTail`, so that signing anew
/// (Distribution signs on every read) does not change the digest. For every
/// other manifest, and for a schema 1 body whose signature block cannot be read,
/// the bytes as served.
pub fn digested_bytes(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    use base64::Engine as _;
    use std::borrow::Cow;
    let payload = || -> Option<Vec<u8>> {
        let json: serde_json::Value = serde_json::from_slice(bytes).ok()?;
        if json.get("schemaVersion")?.as_u64()? != 1 {
            return None;
        }
        let protected = json.get("signatures")?.get(0)?.get("protected")?.as_str()?;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header: serde_json::Value =
            serde_json::from_slice(&engine.decode(protected.trim_end_matches('=')).ok()?).ok()?;
        let length = usize::try_from(header.get("formatLength")?.as_u64()?).ok()?;
        let tail = engine
            .decode(header.get("formatTail")?.as_str()?.trim_end_matches('='))
            .ok()?;
        let mut payload = bytes.get(..length)?.to_vec();
        payload.extend_from_slice(&tail);
        Some(payload)
    };
    match payload() {
        Some(p) => Cow::Owned(p),
        None => Cow::Borrowed(bytes),
    }
}

/// True for a foreign (non-distributable) layer, which the registry does not
/// store: Docker's foreign media type, OCI's non-distributable ones, or any
/// layer with `urls` to fetch it from.
pub fn is_foreign_layer(media_type: &str, has_urls: bool) -> bool {
    has_urls
        || media_type.starts_with("application/vnd.docker.image.rootfs.foreign.")
        || media_type.starts_with("application/vnd.oci.image.layer.nondistributable.")
}

/// The Accept header for every manifest request. Without the list types,
/// Distribution answers a tag with one platform's child; without schema2 it may
/// convert to schema1: both give a digest other than the tag's.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// True for the config media types of runnable images.
pub fn is_image_config(media_type: &str) -> bool {
    matches!(
        media_type,
        "application/vnd.oci.image.config.v1+json"
            | "application/vnd.docker.container.image.v1+json"
    )
}

/// Whether a manifest is an index (OCI index or Docker manifest list), the one
/// place this is decided: its media type says so, or its JSON holds a
/// `manifests` list, whatever the media type said (a list of children is what
/// must be protected and followed).
pub fn is_index(media_type: &MediaType, json: &serde_json::Value) -> bool {
    media_type.is_index() || json.get("manifests").is_some_and(|m| m.is_array())
}

/// A manifest's media type, as the registry declared it (typed, so that what is
/// put back is put back as what it was).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MediaType {
    /// [`OCI_INDEX`].
    OciIndex,
    /// [`OCI_MANIFEST`].
    OciManifest,
    /// [`DOCKER_LIST`].
    DockerList,
    /// [`DOCKER_MANIFEST`].
    DockerManifest,
    /// Anything else, kept as given (possibly empty).
    Other(String),
}

impl MediaType {
    /// The media type of a `Content-Type` value or a `mediaType` field.
    pub fn parse(text: &str) -> Self {
        match text {
            OCI_INDEX => MediaType::OciIndex,
            OCI_MANIFEST => MediaType::OciManifest,
            DOCKER_LIST => MediaType::DockerList,
            DOCKER_MANIFEST => MediaType::DockerManifest,
            other => MediaType::Other(other.to_string()),
        }
    }

    /// The media type's text.
    pub fn as_str(&self) -> &str {
        match self {
            MediaType::OciIndex => OCI_INDEX,
            MediaType::OciManifest => OCI_MANIFEST,
            MediaType::DockerList => DOCKER_LIST,
            MediaType::DockerManifest => DOCKER_MANIFEST,
            MediaType::Other(other) => other,
        }
    }

    /// An OCI index or a Docker manifest list.
    pub fn is_index(&self) -> bool {
        matches!(self, MediaType::OciIndex | MediaType::DockerList)
    }

    /// An OCI media type (as opposed to Docker's), for choosing a manifest family.
    pub fn is_oci(&self) -> bool {
        matches!(self, MediaType::OciIndex | MediaType::OciManifest)
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A content descriptor as it appears in manifests and indexes.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// The media type of the content.
    #[serde(default)]
    pub media_type: String,
    /// The content's digest.
    pub digest: Digest,
    /// The content's size in bytes.
    #[serde(default)]
    pub size: u64,
    /// For index entries: the platform the child is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// For artifacts (referrers): what kind of artifact it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
}

/// An index or manifest list.
#[derive(Clone, Debug, Deserialize)]
pub struct Index {
    /// The children.
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
}

/// A single-platform image manifest.
#[derive(Clone, Debug, Deserialize)]
pub struct ImageManifest {
    /// The image's config blob.
    pub config: Descriptor,
}

/// The fields of an image config regctl reads.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ImageConfig {
    /// Operating system, e.g. `linux`.
    #[serde(default)]
    pub os: String,
    /// CPU architecture, e.g. `amd64`.
    #[serde(default)]
    pub architecture: String,
    /// CPU variant, e.g. `v8`.
    #[serde(default)]
    pub variant: Option<String>,
    /// RFC 3339 creation time.
    #[serde(default)]
    pub created: Option<String>,
}

/// A platform: `os/architecture[/variant]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq, Hash)]
pub struct Platform {
    /// Operating system.
    pub os: String,
    /// CPU architecture.
    pub architecture: String,
    /// CPU variant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    /// True when `other` satisfies this platform as asked: os and architecture equal,
    /// and the variant equal when this one names a variant.
    pub fn matches(&self, os: &str, architecture: &str, variant: Option<&str>) -> bool {
        self.os == os
            && self.architecture == architecture
            && self.variant.as_deref().is_none_or(|v| Some(v) == variant)
    }
}

impl FromStr for Platform {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split('/').collect();
        let valid = |p: &&str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
        };
        if !(2..=3).contains(&parts.len()) || !parts.iter().all(valid) {
            return Err(format!(
                "platform `{s}` must be os/arch or os/arch/variant, e.g. linux/arm64/v8"
            ));
        }
        Ok(Platform {
            os: parts[0].to_string(),
            architecture: parts[1].to_string(),
            variant: parts.get(2).map(|v| v.to_string()),
        })
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_parse_and_match() {
        let p: Platform = "linux/arm64".parse().unwrap();
        assert!(p.matches("linux", "arm64", Some("v8")));
        assert!(p.matches("linux", "arm64", None));
        let v: Platform = "linux/arm/v7".parse().unwrap();
        assert!(!v.matches("linux", "arm", Some("v6")));
        assert_eq!(v.to_string(), "linux/arm/v7");
        for bad in ["linux", "linux/", "a/b/c/d", "linux/am d64"] {
            assert!(bad.parse::<Platform>().is_err(), "{bad}");
        }
    }

    #[test]
    fn accept_lists_all_four_types() {
        for t in [OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST] {
            assert!(MANIFEST_ACCEPT.contains(t));
        }
        let none = serde_json::json!({"schemaVersion": 2});
        let list = serde_json::json!({"manifests": []});
        assert!(is_index(&MediaType::parse(DOCKER_LIST), &none));
        assert!(!is_index(&MediaType::parse(DOCKER_MANIFEST), &none));
        assert!(is_index(&MediaType::parse(""), &list), "by its JSON");
    }
}
