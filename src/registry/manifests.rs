//! Manifests: HEAD, GET (bytes verified against the digest), PUT and DELETE,
//! and digest resolution with platform selection.

use reqwest::header::{HeaderMap, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use url::Url;

use super::auth::Scope;
use super::client::Registry;
use super::digest::Digest;
use super::error::{describe, parse_json, RegistryError, Result};
use super::hint::Hint;
use super::limits::MAX_ERROR_BODY;
use super::media::{
    is_index, ImageConfig, ImageManifest, Index, MediaType, Platform, MANIFEST_ACCEPT,
};
use super::redact::DisplaySafeUrl;
use super::reference::{ManifestRef, Reference};
use super::transport::{Answer, Request, Retry};
use crate::text::escape;
use futures_util::future::BoxFuture;

/// Largest manifest read (Distribution's own limit is 4 MiB).
pub const MAX_MANIFEST_BODY: usize = 4 * 1024 * 1024;
/// Largest config blob read.
pub const MAX_CONFIG_BODY: usize = 4 * 1024 * 1024;
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
fn display(host: &str, repository: &str, reference: &ManifestRef) -> String {
    format!("{host}/{repository}{}{reference}", reference.separator())
}

fn header_digest(headers: &HeaderMap, url: &Url) -> Result<Option<Digest>> {
    let Some(value) = headers.get(DIGEST_HEADER) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default();
    text.parse()
        .map(Some)
        .map_err(|e| RegistryError::InvalidResponse {
            url: DisplaySafeUrl::from(url).to_string(),
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
        reference: &ManifestRef,
    ) -> Result<(Url, Answer)> {
        let url = self.url(&format!("v2/{repository}/manifests/{reference}"))?;
        let request = Request {
            method: method.clone(),
            url: &url,
            accept: Some(MANIFEST_ACCEPT),
            body: None,
            limit: MAX_MANIFEST_BODY,
            headers: HeaderMap::new(),
        };
        let answer = self
            .request(request, &Scope::Pull(repository.to_string()))
            .await?;
        if answer.status == StatusCode::OK {
            return Ok((url, answer));
        }
        let shown = display(self.host(), repository, reference);
        let what = match reference {
            // The registry's own word that the repository is not there.
            _ if answer.errors().iter().any(|e| e.code == "NAME_UNKNOWN") => {
                format!("repository {}/{repository}", self.host())
            }
            ManifestRef::Tag(_) => format!("tag {shown}"),
            ManifestRef::Digest(_) => format!("manifest {shown}"),
        };
        Err(self.error_for(&method, &url, &answer, &what))
    }

    /// `err` in the words every command uses for a missing thing: when a tag or
    /// manifest of `repository` was not found and the repository itself is
    /// not there, it is the repository that is named. One more request, made
    /// only for a command's answer to the user (not on the hot paths that
    /// expect a 404).
    pub async fn explain_missing(&self, repository: &str, err: RegistryError) -> RegistryError {
        match err {
            RegistryError::NotFound { what, detail }
                if !what.starts_with("repository ") && self.repository_absent(repository).await =>
            {
                RegistryError::NotFound {
                    what: format!("repository {}/{repository}", self.host()),
                    detail,
                }
            }
            other => other,
        }
    }

    /// True when the registry answers that it has no `repository`: 404 to its
    /// tag list, or a list with no tag (some registries answer so for a name
    /// they never held; `ls` reads it the same). Any other answer, or none, is
    /// not taken as that.
    async fn repository_absent(&self, repository: &str) -> bool {
        let Ok(url) = self.url(&format!("v2/{repository}/tags/list?n=1")) else {
            return false;
        };
        let request = Request {
            method: Method::GET,
            url: &url,
            accept: None,
            body: None,
            limit: MAX_MANIFEST_BODY,
            headers: HeaderMap::new(),
        };
        self.request(request, &Scope::Pull(repository.to_string()))
            .await
            .is_ok_and(|a| {
                a.status == StatusCode::NOT_FOUND
                    || (a.status == StatusCode::OK
                        && serde_json::from_slice::<serde_json::Value>(&a.body).is_ok_and(|v| {
                            v.get("tags").is_none_or(|t| {
                                t.is_null() || t.as_array().is_some_and(Vec::is_empty)
                            })
                        }))
            })
    }

    /// HEAD of a manifest by tag or digest. `None` digest means the registry did not
    /// send `Docker-Content-Digest`.
    pub async fn head_manifest(
        &self,
        repository: &str,
        reference: &ManifestRef,
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
    pub async fn get_manifest(
        &self,
        repository: &str,
        reference: &ManifestRef,
    ) -> Result<Manifest> {
        let (url, got) = self
            .manifest_request(Method::GET, repository, reference)
            .await?;
        let announced = header_digest(&got.headers, &url)?;
        let media_type = media_type(&got.headers);
        let bytes = got.body;
        let asked = reference.digest().cloned();
        let digested = super::media::digested_bytes(&bytes);
        let digest = match asked.as_ref().or(announced.as_ref()) {
            Some(d) => d.recompute(&digested),
            None => Digest::sha256_of(&digested),
        };
        for expected in [asked, announced].into_iter().flatten() {
            if expected.algorithm() == digest.algorithm() && expected != digest {
                return Err(RegistryError::DigestMismatch {
                    url: DisplaySafeUrl::from(&url).to_string(),
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

    /// The digest a reference resolves to (see [`Registry::head_or_get`]). A
    /// reference with a digest is verified; `REPO:TAG@DIGEST`'s tag too.
    pub async fn resolve(&self, reference: &Reference) -> Result<ManifestHead> {
        let target = reference.manifest_reference();
        let head = self.head_or_get(reference.repository(), &target).await?;
        if let Some(expected) = reference.digest() {
            if *expected != head.digest {
                return Err(RegistryError::DigestMismatch {
                    url: display(self.host(), reference.repository(), &target),
                    expected: expected.to_string(),
                    actual: head.digest.to_string(),
                });
            }
            // REPO:TAG@DIGEST: the tag must point at the digest too.
            if let Some(tag) = reference.tag() {
                let tagged = ManifestRef::tag(tag);
                let digest = self
                    .head_or_get(reference.repository(), &tagged)
                    .await?
                    .digest;
                if digest != *expected {
                    return Err(RegistryError::TagPointsElsewhere {
                        reference: display(self.host(), reference.repository(), &tagged),
                        actual: digest,
                        expected: expected.clone(),
                    });
                }
            }
        }
        Ok(head)
    }

    /// A HEAD of the manifest, falling back to GET and hashing when the registry
    /// sends no digest.
    pub(crate) async fn head_or_get(
        &self,
        repository: &str,
        reference: &ManifestRef,
    ) -> Result<ManifestHead> {
        let (digest, media_type) = self.head_manifest(repository, reference).await?;
        Ok(match digest {
            Some(digest) => ManifestHead { digest, media_type },
            None => {
                let m = self.get_manifest(repository, reference).await?;
                ManifestHead {
                    digest: m.digest,
                    media_type: m.media_type,
                }
            }
        })
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
        let json = serde_json::from_slice(&manifest.bytes).unwrap_or_default();
        if is_index(&MediaType::parse(&manifest.media_type), &json) {
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
        if !super::media::is_image_config(&image.config.media_type) {
            // An artifact (a signature, an SBOM...): it has no platform to match.
            let kind = json
                .get("artifactType")
                .and_then(serde_json::Value::as_str)
                .unwrap_or(&image.config.media_type);
            return Err(RegistryError::NotFound {
                what: format!("platform {platform} in {url}"),
                detail: format!(
                    "it is an artifact ({}), not an image: it has no platform",
                    escape(kind)
                ),
            });
        }
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
}

fn parse_manifest<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| RegistryError::InvalidResponse {
        url: what.to_string(),
        reason: format!("manifest is not valid: {}", escape(&e.to_string())),
    })
}

impl Registry {
    /// PUTs a manifest under `reference` (a tag or its digest); returns its digest.
    pub async fn put_manifest(
        &self,
        repository: &str,
        reference: &ManifestRef,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<Digest> {
        let url = self.url(&format!("v2/{repository}/manifests/{reference}"))?;
        let scope = Scope::Push(repository.to_string());
        let answer = self
            .send_body(
                (Method::PUT, &url, &scope),
                Some(media_type),
                bytes.to_vec().into(),
                HeaderMap::new(),
            )
            .await?;
        if answer.status != StatusCode::CREATED {
            let what = format!(
                "manifest upload to {}",
                display(self.host(), repository, reference)
            );
            return Err(self.error_for(&Method::PUT, &url, &answer, &what));
        }
        Ok(Digest::sha256_of(bytes))
    }

    /// `DELETE /v2/<repository>/manifests/<reference>`, sent again after a
    /// retryable answer only when `done` says it did not take effect.
    pub(crate) async fn delete_request(
        &self,
        repository: &str,
        reference: &ManifestRef,
        retry: Retry<'_>,
    ) -> Result<(url::Url, Answer)> {
        let url = self.url(&format!("v2/{repository}/manifests/{reference}"))?;
        let request = Request {
            method: Method::DELETE,
            url: &url,
            accept: None,
            body: None,
            limit: MAX_ERROR_BODY,
            headers: HeaderMap::new(),
        };
        let answer = self
            .request_with(request, &Scope::Delete(repository.to_string()), retry)
            .await?;
        Ok((url, answer))
    }

    /// The error for a 405 to a manifest DELETE, telling read-only mode from
    /// deletion disabled: Distribution in read-only mode has no DELETE route and
    /// answers with `Allow` naming what it still serves and a text body; with
    /// deletion disabled it answers with the spec's JSON `UNSUPPORTED`.
    fn delete_refused(&self, answer: &Answer) -> RegistryError {
        let errors = answer.errors();
        let allow = answer
            .headers
            .get(reqwest::header::ALLOW)
            .and_then(|v| v.to_str().ok())
            .map(str::trim);
        let read_only = errors.is_empty()
            && allow.is_some_and(|a| {
                !a.split(',')
                    .any(|m| m.trim().eq_ignore_ascii_case("DELETE"))
            });
        let detail = match (&errors[..], allow) {
            ([], Some(allow)) => format!("HTTP 405, Allow: {}", escape(allow)),
            ([], None) => "HTTP 405".to_string(),
            (errors, _) => describe(errors),
        };
        RegistryError::Unsupported {
            registry: self.host().to_string(),
            operation: "deleting manifests".into(),
            detail,
            hint: Some(if read_only {
                Hint::LeaveReadOnly
            } else {
                Hint::EnableDeletion
            }),
        }
    }

    /// Checks that the registry deletes manifests, without changing anything: a
    /// DELETE of a digest that cannot exist answers 404 where deletion is enabled,
    /// 405 `UNSUPPORTED` where it is not, and a bare 405 with `Allow: GET, HEAD`
    /// in read-only mode.
    pub async fn probe_delete(&self, repository: &str) -> Result<()> {
        let nothing = Digest::sha256_of(b"regctl: probe for deletion support; no such manifest");
        let (url, answer) = self
            .delete_request(repository, &(&nothing).into(), Retry::Never)
            .await?;
        match answer.status {
            StatusCode::NOT_FOUND | StatusCode::ACCEPTED => Ok(()),
            StatusCode::METHOD_NOT_ALLOWED => Err(self.delete_refused(&answer)),
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
        let reference = ManifestRef::from(digest);
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
            StatusCode::METHOD_NOT_ALLOWED => Err(self.delete_refused(&answer)),
            _ => {
                let what = format!("manifest {}/{repository}@{digest}", self.host());
                Err(self.error_for(&Method::DELETE, &url, &answer, &what))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn the_digest_header_is_read_checked_or_absent() {
        let url = Url::parse("https://r.example/v2/app/manifests/v1?sig=s3cret").unwrap();
        let hex = "a".repeat(64);
        let sent = headers(&[(DIGEST_HEADER, &format!("sha256:{hex}"))]);
        assert_eq!(
            header_digest(&sent, &url).unwrap().unwrap().to_string(),
            format!("sha256:{hex}")
        );
        assert_eq!(header_digest(&HeaderMap::new(), &url).unwrap(), None);
        let bad = headers(&[(DIGEST_HEADER, "sha256:xyz")]);
        match header_digest(&bad, &url).unwrap_err() {
            RegistryError::InvalidResponse { url, reason } => {
                assert!(reason.starts_with("Docker-Content-Digest `sha256:xyz`: "));
                assert!(!url.contains("s3cret"), "{url}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_media_type_is_the_content_type_without_parameters() {
        let typed = headers(&[(
            "content-type",
            "application/vnd.oci.image.index.v1+json ; charset=utf-8",
        )]);
        assert_eq!(
            media_type(&typed),
            "application/vnd.oci.image.index.v1+json"
        );
        assert_eq!(media_type(&HeaderMap::new()), "");
    }

    #[test]
    fn a_manifest_is_named_by_tag_or_digest_as_references_are_written() {
        let digest: Digest = format!("sha256:{}", "b".repeat(64)).parse().unwrap();
        assert_eq!(
            display("r:5000", "team/app", &ManifestRef::tag("v1")),
            "r:5000/team/app:v1"
        );
        assert_eq!(
            display("r:5000", "app", &ManifestRef::from(&digest)),
            format!("r:5000/app@{digest}")
        );
    }

    #[test]
    fn an_invalid_manifest_names_what_was_read() {
        let err = parse_manifest::<Index>(b"{", "r/app:v1").unwrap_err();
        assert!(
            matches!(&err, RegistryError::InvalidResponse { url, reason } if url == "r/app:v1" && reason.starts_with("manifest is not valid: ")),
            "{err:?}"
        );
    }
}
