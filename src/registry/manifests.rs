//! Manifest HEAD/GET, digest resolution (with platform selection) and blob reads.

use reqwest::header::{HeaderMap, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use url::Url;

use super::auth::Scope;
use super::client::{redact_url, Registry};
use super::digest::Digest;
use super::error::parse_json;
use super::error::{RegistryError, Result};
use super::manifest::{
    is_index, looks_like_index, ImageConfig, ImageManifest, Index, Platform, MANIFEST_ACCEPT,
};
use super::reference::Reference;
use super::transport::{Fetched, Request};
use crate::text::escape;

/// Largest manifest read (Distribution's own limit is 4 MiB).
pub const MAX_MANIFEST_BODY: usize = 4 * 1024 * 1024;
/// Largest config blob read.
const MAX_CONFIG_BODY: usize = 4 * 1024 * 1024;
const DIGEST_HEADER: &str = "docker-content-digest";

/// What a manifest HEAD says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestHead {
    /// The manifest's digest.
    pub digest: Digest,
    /// Its media type.
    pub media_type: String,
}

/// A manifest's raw bytes, with the digest computed from them.
#[derive(Clone, Debug)]
pub struct Manifest {
    /// sha256 of `bytes` (or the algorithm of the digest asked for).
    pub digest: Digest,
    /// The media type the registry gave.
    pub media_type: String,
    /// The bytes exactly as served.
    pub bytes: Vec<u8>,
}

/// `registry/repo:tag` or `registry/repo@digest`, for messages.
fn display(host: &str, repository: &str, reference: &str) -> String {
    let sep = if reference.contains(':') { '@' } else { ':' };
    format!("{host}/{repository}{sep}{reference}")
}

fn header_digest(headers: &HeaderMap, url: &Url) -> Result<Option<Digest>> {
    let Some(value) = headers.get(DIGEST_HEADER) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default();
    text.parse()
        .map(Some)
        .map_err(|e| RegistryError::InvalidResponse {
            url: redact_url(url),
            reason: format!("Docker-Content-Digest `{text}`: {e}"),
        })
}

fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_string())
        .unwrap_or_default()
}

impl Registry {
    async fn manifest_request(
        &self,
        method: Method,
        repository: &str,
        reference: &str,
    ) -> Result<(Url, Fetched)> {
        let url = self.url(&format!("v2/{repository}/manifests/{reference}"))?;
        let answer = self
            .request(Request {
                method: method.clone(),
                url: &url,
                scope: &Scope::Pull(repository.to_string()),
                accept: Some(MANIFEST_ACCEPT),
                body: None,
                limit: MAX_MANIFEST_BODY,
            })
            .await?;
        if answer.status == StatusCode::OK {
            return Ok((url, answer));
        }
        let what = format!("manifest {}", display(self.host(), repository, reference));
        Err(self.error_for(&method, &url, &answer, &what))
    }

    /// HEAD of a manifest by tag or digest. `None` digest means the registry did not
    /// send `Docker-Content-Digest`.
    pub async fn head_manifest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<(Option<Digest>, String)> {
        let (url, answer) = self
            .manifest_request(Method::HEAD, repository, reference)
            .await?;
        Ok((
            header_digest(&answer.headers, &url)?,
            media_type(&answer.headers),
        ))
    }

    /// GET of a manifest by tag or digest; the digest is computed from the bytes and
    /// checked against the one asked for and the one the registry announced.
    pub async fn get_manifest(&self, repository: &str, reference: &str) -> Result<Manifest> {
        let (url, got) = self
            .manifest_request(Method::GET, repository, reference)
            .await?;
        let announced = header_digest(&got.headers, &url)?;
        let media_type = media_type(&got.headers);
        let bytes = got.body;
        let asked = reference.parse::<Digest>().ok();
        let digest = match asked.as_ref().or(announced.as_ref()) {
            Some(d) => d.recompute(&bytes),
            None => Digest::sha256_of(&bytes),
        };
        for expected in [asked, announced].into_iter().flatten() {
            if expected.algorithm() == digest.algorithm() && expected != digest {
                return Err(RegistryError::DigestMismatch {
                    url: redact_url(&url),
                    expected: expected.to_string(),
                    actual: digest.to_string(),
                });
            }
        }
        Ok(Manifest {
            digest,
            media_type,
            bytes,
        })
    }

    /// The digest a reference resolves to: a HEAD, falling back to GET and hashing
    /// when the registry sends no digest. A reference with a digest is verified.
    pub async fn resolve(&self, reference: &Reference) -> Result<ManifestHead> {
        let target = reference.manifest_reference();
        let (digest, media_type) = self.head_manifest(reference.repository(), &target).await?;
        let head = match digest {
            Some(digest) => ManifestHead { digest, media_type },
            None => {
                let m = self.get_manifest(reference.repository(), &target).await?;
                return Ok(ManifestHead {
                    digest: m.digest,
                    media_type: m.media_type,
                });
            }
        };
        if let Some(expected) = reference.digest() {
            if *expected != head.digest {
                return Err(RegistryError::DigestMismatch {
                    url: display(self.host(), reference.repository(), &target),
                    expected: expected.to_string(),
                    actual: head.digest.to_string(),
                });
            }
        }
        Ok(head)
    }

    /// The digest of the manifest for `platform`: the matching child of an index, or
    /// the manifest itself when it is a single image of that platform.
    pub async fn resolve_platform(
        &self,
        reference: &Reference,
        platform: &Platform,
    ) -> Result<Digest> {
        let target = reference.manifest_reference();
        let repo = reference.repository();
        let manifest = self.get_manifest(repo, &target).await?;
        let url = display(self.host(), repo, &target);
        if is_index(&manifest.media_type)
            || (manifest.media_type.is_empty() && looks_like_index(&manifest.bytes))
        {
            let index: Index = parse_manifest(&manifest.bytes, &url)?;
            let available: Vec<String> = index
                .manifests
                .iter()
                .filter_map(|d| d.platform.as_ref().map(|p| escape(&p.to_string())))
                .collect();
            return index
                .manifests
                .into_iter()
                .find(|d| {
                    d.platform.as_ref().is_some_and(|p| {
                        platform.matches(&p.os, &p.architecture, p.variant.as_deref())
                    })
                })
                .map(|d| d.digest)
                .ok_or_else(|| RegistryError::NotFound {
                    what: format!("platform {platform} in {url}"),
                    detail: format!("the index has {}", available.join(", ")),
                });
        }
        let image: ImageManifest = parse_manifest(&manifest.bytes, &url)?;
        let config: ImageConfig = parse_json(
            &self
                .get_blob(repo, &image.config.digest, MAX_CONFIG_BODY)
                .await?,
            &self.url("v2/")?,
        )?;
        if platform.matches(&config.os, &config.architecture, config.variant.as_deref()) {
            Ok(manifest.digest)
        } else {
            let actual = Platform {
                os: config.os,
                architecture: config.architecture,
                variant: config.variant,
            };
            Err(RegistryError::NotFound {
                what: format!("platform {platform} in {url}"),
                detail: format!("it is a single {} image", escape(&actual.to_string())),
            })
        }
    }

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
                url: redact_url(&url),
                expected: digest.to_string(),
                actual: digest.recompute(&got.body).to_string(),
            });
        }
        Ok(got.body)
    }
}

fn parse_manifest<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| RegistryError::InvalidResponse {
        url: what.to_string(),
        reason: format!("manifest is not valid: {}", escape(&e.to_string())),
    })
}
