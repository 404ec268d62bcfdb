//! Blobs: upload (POST then one PUT with the digest) and reads verified against
//! their digest.

use reqwest::header::LOCATION;
use reqwest::{Method, StatusCode};

use super::auth::Scope;
use super::client::Registry;
use super::digest::Digest;
use super::error::{RegistryError, Result};
use super::redact::DisplaySafeUrl;

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
                url: DisplaySafeUrl::from(&start).to_string(),
                reason: "the upload answer has no Location".into(),
            })?;
        let mut url = start
            .join(location)
            .map_err(|e| RegistryError::InvalidResponse {
                url: DisplaySafeUrl::from(&start).to_string(),
                reason: format!("upload Location `{location}`: {e}"),
            })?;
        if url.origin() != self.base().origin() {
            return Err(RegistryError::InvalidResponse {
                url: DisplaySafeUrl::from(&start).to_string(),
                reason: format!(
                    "the upload Location leads to another origin ({}), where this registry's \
                     credentials are not sent; not followed. The usual cause is a reverse proxy in \
                     front of the registry that does not pass X-Forwarded-Proto, or drops the port \
                     from Host (set http.host or the proxy headers in the registry's config)",
                    crate::text::escape(&DisplaySafeUrl::from(&url).to_string())
                ),
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
}

impl Registry {
    /// A blob's bytes (at most `limit`), verified against its digest. Redirects to
    /// blob storage are followed without the registry's credentials.
    pub async fn get_blob(
        &self,
        repository: &str,
        digest: &Digest,
        limit: usize,
    ) -> Result<Vec<u8>> {
        let url = self.url(&format!("v2/{repository}/blobs/{digest}"))?;
        let got = self
            .get(&url, &Scope::Pull(repository.to_string()), None, limit)
            .await?;
        if !got.status.is_success() {
            let what = format!("blob {}/{repository}@{digest}", self.host());
            return Err(self.error_for(&Method::GET, &url, &got, &what));
        }
        if !digest.matches(&got.body) {
            return Err(RegistryError::DigestMismatch {
                url: DisplaySafeUrl::from(&url).to_string(),
                expected: digest.to_string(),
                actual: digest.recompute(&got.body).to_string(),
            });
        }
        Ok(got.body)
    }
}
