//! Uploads: monolithic blob upload and manifest PUT, as deletion by tag needs them.

use reqwest::header::LOCATION;
use reqwest::{Method, StatusCode};

use super::auth::Scope;
use super::client::{redact_url, Registry};
use super::digest::Digest;
use super::error::{RegistryError, Result};
use super::transport::{Body, Fetched, Request, MAX_ERROR_BODY};

impl Registry {
    /// Uploads `bytes` as a blob of `repository` (POST, then one PUT with the digest).
    pub async fn upload_blob(&self, repository: &str, bytes: &[u8]) -> Result<Digest> {
        let digest = Digest::sha256_of(bytes);
        let scope = Scope::Push(repository.to_string());
        let start = self.url(&format!("v2/{repository}/blobs/uploads/"))?;
        let answer = self
            .send_body(Method::POST, &start, &scope, None, Vec::new())
            .await?;
        if answer.status != StatusCode::ACCEPTED {
            let what = format!("repository {}/{repository}", self.host());
            return Err(self.error_for(&Method::POST, &start, &answer, &what));
        }
        let location = answer
            .headers
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
        let answer = self
            .send_body(
                Method::PUT,
                &url,
                &scope,
                Some("application/octet-stream"),
                bytes.to_vec(),
            )
            .await?;
        if answer.status != StatusCode::CREATED {
            let what = format!("upload to {}/{repository}", self.host());
            return Err(self.error_for(&Method::PUT, &url, &answer, &what));
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
        let answer = self
            .send_body(Method::PUT, &url, &scope, Some(media_type), bytes.to_vec())
            .await?;
        if answer.status != StatusCode::CREATED {
            let what = format!(
                "manifest upload to {}/{repository}:{reference}",
                self.host()
            );
            return Err(self.error_for(&Method::PUT, &url, &answer, &what));
        }
        Ok(Digest::sha256_of(bytes))
    }

    /// Sends `bytes` of `content_type` (once: a write is not repeated).
    async fn send_body(
        &self,
        method: Method,
        url: &url::Url,
        scope: &Scope,
        content_type: Option<&str>,
        bytes: Vec<u8>,
    ) -> Result<Fetched> {
        self.request(Request {
            method,
            url,
            scope,
            accept: None,
            body: Some(Body {
                content_type: content_type.map(str::to_string),
                bytes,
            }),
            limit: MAX_ERROR_BODY,
        })
        .await
    }
}
