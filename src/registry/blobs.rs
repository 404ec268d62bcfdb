//! Blobs: upload (POST then one PUT with the digest) and reads verified against
//! their digest.

use reqwest::Method;

use super::auth::Scope;
use super::client::Registry;
use super::digest::Digest;
use super::error::{RegistryError, Result};
use super::redact::DisplaySafeUrl;

impl Registry {
    /// Uploads `bytes` as a blob of `repository` (POST, then one PUT with the
    /// bytes and their digest).
    pub async fn upload_blob(&self, repository: &str, bytes: &[u8]) -> Result<Digest> {
        let digest = Digest::sha256_of(bytes);
        let upload = self.start_upload(repository).await?;
        self.finish_upload(upload, &digest, bytes.to_vec().into())
            .await?;
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
