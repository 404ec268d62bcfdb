//! The referrers API: the manifests whose `subject` is a given manifest.

use std::sync::atomic::Ordering;

use super::auth::Scope;
use super::catalog::PageError;
use super::client::Registry;
use super::digest::Digest;
use super::error::{parse_json, RegistryError, Result};
use super::media::{Descriptor, Index};

impl Registry {
    /// The manifests whose `subject` is `digest` (`GET /v2/<name>/referrers/<digest>`,
    /// all pages), or `None` when the registry has no referrers API (it answers 404;
    /// one that has it answers 200, with an empty list for an unknown subject).
    /// Clients of such registries use the `sha256-<hex>` fallback tag instead.
    /// After one 404 the registry is not asked again by this client.
    pub async fn referrers(
        &self,
        repository: &str,
        digest: &Digest,
    ) -> Result<Option<Vec<Descriptor>>> {
        // A registry without the API answers 404 for every subject: once is enough.
        let learnt = self.learnt_no_referrers_api();
        if learnt.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let first = self.url(&format!("v2/{repository}/referrers/{digest}"))?;
        let what = format!("referrers of {}/{repository}@{digest}", self.host());
        let result = self
            .pages(
                first,
                &Scope::Pull(repository.to_string()),
                &what,
                |bytes, url| Ok(parse_json::<Index>(bytes, url)?.manifests),
            )
            .await;
        match result {
            Ok(descriptors) => Ok(Some(descriptors)),
            Err(PageError::Registry(RegistryError::NotFound { .. })) => {
                learnt.store(true, Ordering::Relaxed);
                Ok(None)
            }
            Err(PageError::Registry(e)) => Err(e),
            Err(PageError::PageSizeRefused) => Err(RegistryError::InvalidResponse {
                url: what,
                reason: "the registry refused the referrers list's page size".into(),
            }),
        }
    }
}
