//! Removing single tags without touching the tags that share their manifest:
//! the registry's own tag deletion where it has one, else a throw-away manifest.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use reqwest::{Method, StatusCode};

use super::client::Registry;
use super::digest::Digest;
use super::error::{RegistryError, Result};
use super::media::{DOCKER_MANIFEST, OCI_MANIFEST};
use super::reference::ManifestRef;
pub use super::tag_deletion::TagDeletion;
use super::transport::Retry;

/// A throw-away manifest made to remove one tag: unique to that removal, so that
/// deleting its digest takes that tag and nothing else. Its config blob is already
/// in the repository.
#[derive(Debug, Clone)]
pub struct Placeholder {
    /// Its media type: of the same family (OCI or Docker) as the tag's manifest.
    pub media_type: &'static str,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Its digest.
    pub digest: Digest,
}

/// Moving a tag onto a throw-away manifest and deleting it failed after the tag
/// may have moved: `left_on` says where it may be now.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct TagRemovalError {
    /// What failed.
    pub error: RegistryError,
    /// The throw-away manifest's digest, once it was pushed onto the tag.
    pub left_on: Option<Digest>,
}

impl Registry {
    /// Whether this registry deletes tags itself, as learnt from the first try.
    pub fn tag_deletion(&self) -> TagDeletion {
        self.learnt_tag_deletion().get()
    }

    /// `DELETE /v2/<repository>/manifests/<tag>`: true when the registry deleted
    /// the tag, false when it has no tag deletion (remembered, so that the next
    /// tag goes straight to a throw-away manifest).
    pub async fn delete_tag(&self, repository: &str, tag: &str) -> Result<bool> {
        let (url, answer) = self
            .delete_request(repository, &ManifestRef::tag(tag), Retry::Never)
            .await?;
        let status = answer.status;
        let supported = match status {
            StatusCode::ACCEPTED | StatusCode::OK => true,
            StatusCode::BAD_REQUEST
            | StatusCode::NOT_FOUND
            | StatusCode::METHOD_NOT_ALLOWED
            | StatusCode::NOT_IMPLEMENTED => false,
            _ => return Err(self.error_for(&Method::DELETE, &url, &answer, &format!("tag {tag}"))),
        };
        self.learnt_tag_deletion().set(if supported {
            TagDeletion::Supported
        } else {
            TagDeletion::Unsupported
        });
        Ok(supported)
    }

    /// Uploads the config blob of a new throw-away manifest for removing
    /// `repository:tag` (OCI when `oci`, else Docker), and returns the manifest.
    pub async fn placeholder(&self, repository: &str, tag: &str, oci: bool) -> Result<Placeholder> {
        let (media_type, config_type) = if oci {
            (OCI_MANIFEST, "application/vnd.oci.image.config.v1+json")
        } else {
            (
                DOCKER_MANIFEST,
                "application/vnd.docker.container.image.v1+json",
            )
        };
        let config = placeholder_config(repository, tag);
        let config_digest = self.upload_blob(repository, &config).await?;
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": {"mediaType": config_type, "size": config.len(), "digest": config_digest.to_string()},
            "layers": [],
        });
        // Serialising a json! value cannot fail.
        let bytes = serde_json::to_vec(&manifest).unwrap_or_default();
        Ok(Placeholder {
            media_type,
            digest: Digest::sha256_of(&bytes),
            bytes,
        })
    }

    /// Removes `tag` from `repository` and nothing else, where the registry has
    /// no tag deletion: moves the tag onto `placeholder` and deletes that
    /// manifest's digest, which only this tag points at.
    pub async fn untag_with(
        &self,
        repository: &str,
        tag: &str,
        placeholder: &Placeholder,
    ) -> std::result::Result<(), TagRemovalError> {
        // From the push on, the tag may point at the throw-away manifest: say so on failure.
        let after = |error| TagRemovalError {
            error,
            left_on: Some(placeholder.digest.clone()),
        };
        self.put_manifest(
            repository,
            &ManifestRef::tag(tag),
            placeholder.media_type,
            &placeholder.bytes,
        )
        .await
        .map_err(|error| TagRemovalError {
            error,
            left_on: None,
        })?;
        self.delete_manifest(repository, &placeholder.digest)
            .await
            .map_err(after)
    }
}

/// A config blob unique to this removal, so its manifest's digest is shared with
/// no other tag.
fn placeholder_config(repository: &str, tag: &str) -> Vec<u8> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let value = serde_json::json!({
        "architecture": "none",
        "os": "none",
        "config": {"Labels": {"org.regctl.placeholder": format!("{repository}:{tag}")}},
        "regctl.nonce": format!("{nanos}-{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed)),
        "rootfs": {"type": "layers", "diff_ids": []},
    });
    serde_json::to_vec(&value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_placeholder_config_is_unique_and_names_its_tag() {
        let first = placeholder_config("team/app", "v1");
        let second = placeholder_config("team/app", "v1");
        assert_ne!(Digest::sha256_of(&first), Digest::sha256_of(&second));
        let value: serde_json::Value = serde_json::from_slice(&first).unwrap();
        assert_eq!(
            value["config"]["Labels"]["org.regctl.placeholder"],
            "team/app:v1"
        );
        assert_eq!(value["rootfs"]["diff_ids"], serde_json::json!([]));
    }
}
