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
use super::retry::{worth_retrying, Backoff};

const DELETE_HINT: &str =
    "; enable deletion in the registry's config (storage.delete.enabled: true, \
or REGISTRY_STORAGE_DELETE_ENABLED=true) and restart it";

/// A tag removal that failed, and the throw-away manifest the tag may have been
/// left on (so that it can be pointed back, and nothing else touched).
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct TagRemovalError {
    /// What failed.
    pub error: RegistryError,
    /// The throw-away manifest's digest, once one was pushed onto the tag.
    pub left_on: Option<Digest>,
}

/// How a tag was removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagRemoval {
    /// The registry deleted the tag itself (`DELETE /manifests/<tag>` answered 202).
    Deleted,
    /// The tag was moved onto a unique throw-away manifest, which was then deleted.
    Placeholder,
}

impl Registry {
    /// `DELETE /v2/<repository>/manifests/<reference>`, as one attempt.
    async fn delete_request(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<(url::Url, reqwest::Response)> {
        let url = self.url(&format!("v2/{repository}/manifests/{reference}"))?;
        let resp = self
            .send(
                Method::DELETE,
                &url,
                &Scope::Delete(repository.to_string()),
                None,
            )
            .await?;
        Ok((url, resp))
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
        let (url, resp) = self
            .delete_request(repository, &nothing.to_string())
            .await?;
        match resp.status() {
            StatusCode::NOT_FOUND | StatusCode::ACCEPTED => Ok(()),
            StatusCode::METHOD_NOT_ALLOWED => {
                let (_, errors) = self.error_entries(resp, &url).await;
                let detail = if errors.is_empty() {
                    "HTTP 405".to_string()
                } else {
                    super::error::describe(&errors)
                };
                Err(self.delete_unsupported(detail))
            }
            _ => Err(self
                .status_error(
                    &Method::DELETE,
                    &url,
                    resp,
                    &format!("repository {}/{repository}", self.host()),
                )
                .await),
        }
    }

    /// Deletes the manifest `digest` of `repository`. Every tag pointing at it goes
    /// too. A DELETE that fails in a way worth retrying (5xx, 429, a reset) is not
    /// simply sent again: a HEAD first checks whether it took effect.
    pub async fn delete_manifest(&self, repository: &str, digest: &Digest) -> Result<()> {
        let url = self.url(&format!("v2/{repository}/manifests/{digest}"))?;
        let scope = Scope::Delete(repository.to_string());
        let mut backoff = Backoff::new(self.retry_policy());
        loop {
            let outcome = self.send(Method::DELETE, &url, &scope, None).await;
            if worth_retrying(&outcome).is_some() {
                match self.head_manifest(repository, &digest.to_string()).await {
                    Err(RegistryError::NotFound { .. }) => return Ok(()),
                    Ok(_) if backoff.wait(None).await => continue,
                    _ => {}
                }
            }
            let resp = outcome?;
            return match resp.status() {
                StatusCode::ACCEPTED | StatusCode::OK => Ok(()),
                StatusCode::METHOD_NOT_ALLOWED => Err(self.delete_unsupported("HTTP 405".into())),
                _ => {
                    let what = format!("manifest {}/{repository}@{digest}", self.host());
                    Err(self.status_error(&Method::DELETE, &url, resp, &what).await)
                }
            };
        }
    }

    /// Removes `tag` from `repository` and nothing else. Tries the registry's tag
    /// deletion first; where it has none (Distribution 2.8 answers 400), moves the
    /// tag onto a unique throw-away manifest of the same family (OCI when `oci`, else Docker)
    /// and deletes that manifest's digest, which takes only this tag with it.
    pub async fn remove_tag(
        &self,
        repository: &str,
        tag: &str,
        oci: bool,
    ) -> std::result::Result<TagRemoval, TagRemovalError> {
        let before = |error| TagRemovalError {
            error,
            left_on: None,
        };
        let (url, resp) = self.delete_request(repository, tag).await.map_err(before)?;
        match resp.status() {
            StatusCode::ACCEPTED | StatusCode::OK => return Ok(TagRemoval::Deleted),
            StatusCode::FORBIDDEN => {
                return Err(before(
                    self.status_error(&Method::DELETE, &url, resp, &format!("tag {tag}"))
                        .await,
                ))
            }
            _ => {}
        }
        let (manifest_type, config_type) = if oci {
            (OCI_MANIFEST, "application/vnd.oci.image.config.v1+json")
        } else {
            (
                DOCKER_MANIFEST,
                "application/vnd.docker.container.image.v1+json",
            )
        };
        let config = placeholder_config(repository, tag);
        let config_digest = self
            .upload_blob(repository, &config)
            .await
            .map_err(before)?;
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": manifest_type,
            "config": {"mediaType": config_type, "size": config.len(), "digest": config_digest.to_string()},
            "layers": [],
        });
        // Serialising a json! value cannot fail.
        let bytes = serde_json::to_vec(&manifest).unwrap_or_default();
        // From here on the tag may point at the throw-away manifest: say so on failure.
        let after = |error| TagRemovalError {
            error,
            left_on: Some(Digest::sha256_of(&bytes)),
        };
        let placeholder = self
            .put_manifest(repository, tag, manifest_type, &bytes)
            .await
            .map_err(after)?;
        self.delete_manifest(repository, &placeholder)
            .await
            .map_err(after)?;
        Ok(TagRemoval::Placeholder)
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
