//! Deletion: manifests by digest, and single tags without touching the tags that
//! share their manifest.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use reqwest::{Method, StatusCode};

use super::auth::Scope;
use super::client::Registry;
use super::digest::Digest;
use super::error::{RegistryError, Result};
use super::manifest::{DOCKER_MANIFEST, OCI_MANIFEST};
use super::transport::{Fetched, Request, Retry, MAX_ERROR_BODY};
use futures::future::BoxFuture;

const DELETE_HINT: &str =
    "; enable deletion in the registry's config (storage.delete.enabled: true, \
or REGISTRY_STORAGE_DELETE_ENABLED=true) and restart it";

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

/// Whether the registry deletes tags itself, once known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagDeletion {
    /// Not tried yet.
    Unknown,
    /// `DELETE /manifests/<tag>` answered 202.
    Supported,
    /// It answered that it has no such operation (Distribution 2.8: 400).
    Unsupported,
}

impl Registry {
    /// `DELETE /v2/<repository>/manifests/<reference>`, sent again after a
    /// retryable answer only when `done` says it did not take effect.
    async fn delete_request(
        &self,
        repository: &str,
        reference: &str,
        retry: Retry<'_>,
    ) -> Result<(url::Url, Fetched)> {
        let url = self.url(&format!("v2/{repository}/manifests/{reference}"))?;
        let request = Request {
            method: Method::DELETE,
            url: &url,
            scope: &Scope::Delete(repository.to_string()),
            accept: None,
            body: None,
            limit: MAX_ERROR_BODY,
        };
        let answer = self.request_with(request, retry).await?;
        Ok((url, answer))
    }

    fn delete_unsupported(&self, detail: String) -> RegistryError {
        RegistryError::Unsupported {
            registry: self.host().to_string(),
            operation: "deleting manifests".into(),
            detail,
            hint: DELETE_HINT.into(),
        }
    }

    /// Checks that the registry deletes manifests, without changing anything: a
    /// DELETE of a digest that cannot exist answers 404 where deletion is enabled
    /// and 405 `UNSUPPORTED` where it is not.
    pub async fn probe_delete(&self, repository: &str) -> Result<()> {
        let nothing = Digest::sha256_of(b"regctl: probe for deletion support; no such manifest");
        let (url, answer) = self
            .delete_request(repository, &nothing.to_string(), Retry::Never)
            .await?;
        match answer.status {
            StatusCode::NOT_FOUND | StatusCode::ACCEPTED => Ok(()),
            StatusCode::METHOD_NOT_ALLOWED => {
                let errors = super::error::parse_error_body(&answer.body);
                let detail = if errors.is_empty() {
                    "HTTP 405".to_string()
                } else {
                    super::error::describe(&errors)
                };
                Err(self.delete_unsupported(detail))
            }
            _ => Err(self.error_for(
                &Method::DELETE,
                &url,
                &answer,
                &format!("repository {}/{repository}", self.host()),
            )),
        }
    }

    /// Deletes the manifest `digest` of `repository`. Every tag pointing at it goes
    /// too. A DELETE that fails in a way worth retrying (5xx, 429, a reset) is not
    /// simply sent again: a HEAD first checks whether it took effect.
    pub async fn delete_manifest(&self, repository: &str, digest: &Digest) -> Result<()> {
        let reference = digest.to_string();
        let gone = || -> BoxFuture<'_, bool> {
            Box::pin(async {
                matches!(
                    self.head_manifest(repository, &reference).await,
                    Err(RegistryError::NotFound { .. })
                )
            })
        };
        let (url, answer) = self
            .delete_request(repository, &reference, Retry::UnlessDone(&gone))
            .await?;
        match answer.status {
            StatusCode::ACCEPTED | StatusCode::OK => Ok(()),
            StatusCode::METHOD_NOT_ALLOWED => Err(self.delete_unsupported("HTTP 405".into())),
            _ => {
                let what = format!("manifest {}/{repository}@{digest}", self.host());
                Err(self.error_for(&Method::DELETE, &url, &answer, &what))
            }
        }
    }

    /// Whether this registry deletes tags itself, as learnt from the first try.
    pub fn tag_deletion(&self) -> TagDeletion {
        match self.tag_deletion.load(Ordering::Relaxed) {
            1 => TagDeletion::Supported,
            2 => TagDeletion::Unsupported,
            _ => TagDeletion::Unknown,
        }
    }

    /// `DELETE /v2/<repository>/manifests/<tag>`: true when the registry deleted
    /// the tag, false when it has no tag deletion (remembered, so that the next
    /// tag goes straight to a throw-away manifest).
    pub async fn delete_tag(&self, repository: &str, tag: &str) -> Result<bool> {
        let (url, answer) = self.delete_request(repository, tag, Retry::Never).await?;
        let status = answer.status;
        let supported = match status {
            StatusCode::ACCEPTED | StatusCode::OK => true,
            StatusCode::BAD_REQUEST
            | StatusCode::NOT_FOUND
            | StatusCode::METHOD_NOT_ALLOWED
            | StatusCode::NOT_IMPLEMENTED => false,
            _ => return Err(self.error_for(&Method::DELETE, &url, &answer, &format!("tag {tag}"))),
        };
        self.tag_deletion
            .store(if supported { 1 } else { 2 }, Ordering::Relaxed);
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
        self.put_manifest(repository, tag, placeholder.media_type, &placeholder.bytes)
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
