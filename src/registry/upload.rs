//! Uploads: monolithic blob upload and manifest PUT, as deletion by tag needs them.

use reqwest::header::LOCATION;
use reqwest::{Method, StatusCode};

use super::auth::Scope;
use super::client::{redact_url, Registry};
use super::digest::Digest;
use super::error::{RegistryError, Result};

impl Registry {
    /// Uploads `bytes` as a blob of `repository` (POST, then one PUT with the digest).
    pub async fn upload_blob(&self, repository: &str, bytes: &[u8]) -> Result<Digest> {
        let digest = Digest::sha256_of(bytes);
        let scope = Scope::Push(repository.to_string());
        let start = self.url(&format!("v2/{repository}/blobs/uploads/"))?;
        let resp = self
            .send_body(Method::POST, &start, &scope, None, Vec::new())
            .await?;
        if resp.status() != StatusCode::ACCEPTED {
            let what = format!("repository {}/{repository}", self.host());
            return Err(self.status_error(&Method::POST, &start, resp, &what).await);
        }
        let location = resp
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| RegistryError::InvalidResponse {
                url: redact_url(&start),
                reason: "the upload answer has no Location".into(),
            })?;
        let mut url = start
            .join(location)
            .map_err(|e| RegistryError::InvalidResponse {
                url: redact_url(&start),
                reason: format!("upload Location `{location}`: {e}"),
            })?;
        if url.origin() != self.base().origin() {
            return Err(RegistryError::InvalidResponse {
                url: redact_url(&start),
                reason: "the upload Location leads to another origin; not followed".into(),
            });
        }
        url.query_pairs_mut()
            .append_pair("digest", &digest.to_string());
        let resp = self
            .send_body(
                Method::PUT,
                &url,
                &scope,
                Some("application/octet-stream"),
                bytes.to_vec(),
            )
            .await?;
        if resp.status() != StatusCode::CREATED {
            let what = format!("upload to {}/{repository}", self.host());
            return Err(self.status_error(&Method::PUT, &url, resp, &what).await);
        }
        Ok(digest)
    }

    /// PUTs a manifest under `reference` (a tag or its digest); returns its digest.
    pub async fn put_manifest(
        &self,
        repository: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<Digest> {
        let url = self.url(&format!("v2/{repository}/manifests/{reference}"))?;
        let scope = Scope::Push(repository.to_string());
        let resp = self
            .send_body(Method::PUT, &url, &scope, Some(media_type), bytes.to_vec())
            .await?;
        if resp.status() != StatusCode::CREATED {
            let what = format!(
                "manifest upload to {}/{repository}:{reference}",
                self.host()
            );
            return Err(self.status_error(&Method::PUT, &url, resp, &what).await);
        }
        Ok(Digest::sha256_of(bytes))
    }
}
