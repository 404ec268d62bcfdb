//! Writing blobs: whether a blob is there, mounting it from another repository
//! of the registry, and uploads — the whole blob in the closing PUT when it is
//! small, else chunks (`PATCH` with `Content-Range`, at least the registry's
//! `OCI-Chunk-Min-Length`) resumed from the offset the registry reports after a
//! reset or a 5xx; and reads of a blob one range at a time, so that no layer is
//! held whole in memory.

use std::time::Duration;

use bytes::Bytes;

use reqwest::header::{HeaderMap, HeaderValue, CONTENT_RANGE, LOCATION, RANGE};
use reqwest::{Method, StatusCode};
use url::Url;

use super::auth::Scope;
use super::client::Registry;
use super::digest::Digest;
use super::error::{RegistryError, Result};
use super::limits::MAX_ERROR_BODY;
use super::redact::DisplaySafeUrl;
use super::transport::{Answer, Request};

/// How many times a chunk is sent again after a reset or a 5xx, each time from
/// the offset the registry reports.
pub const CHUNK_RESUMES: usize = 4;

/// An upload session of one repository: where the next request goes, and how
/// many bytes the registry holds.
#[derive(Debug)]
pub struct Upload {
    repository: String,
    location: Url,
    /// Bytes the registry has taken so far.
    pub offset: u64,
    /// The smallest chunk the registry takes (`OCI-Chunk-Min-Length`), if it said.
    pub min_chunk: Option<u64>,
}

/// What a mount request came to.
#[derive(Debug)]
pub enum Mount {
    /// The blob is in the repository now; nothing was sent.
    Mounted,
    /// The registry did not mount it and opened an upload instead.
    Upload(Upload),
}

impl Registry {
    /// Whether blob `digest` is in `repository` (`HEAD`).
    pub async fn has_blob(&self, repository: &str, digest: &Digest) -> Result<bool> {
        let url = self.url(&format!("v2/{repository}/blobs/{digest}"))?;
        let answer = self
            .request(
                plain(Method::HEAD, &url, 0),
                &Scope::Pull(repository.to_string()),
            )
            .await?;
        match answer.status {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => {
                let what = format!("blob {}/{repository}@{digest}", self.host());
                Err(self.error_for(&Method::HEAD, &url, &answer, &what))
            }
        }
    }

    /// `len` bytes of blob `digest` (of `total` bytes) from `offset`: a `Range`
    /// request unless that is the whole blob. A registry that ignores `Range`
    /// answers the whole blob; from offset 0 that answer is returned as it is
    /// (the caller takes what it got), past it it is an error. Retried as any
    /// read is.
    pub async fn read_blob_range(
        &self,
        repository: &str,
        digest: &Digest,
        offset: u64,
        len: u64,
        total: u64,
    ) -> Result<Vec<u8>> {
        let url = self.url(&format!("v2/{repository}/blobs/{digest}"))?;
        let whole = offset == 0 && len == total;
        let limit = if offset == 0 { total } else { len };
        let mut request = plain(Method::GET, &url, limit as usize);
        if !whole {
            let range = format!("bytes={offset}-{}", offset + len - 1);
            if let Ok(value) = HeaderValue::from_str(&range) {
                request.headers.insert(RANGE, value);
            }
        }
        let answer = self
            .request(request, &Scope::Pull(repository.to_string()))
            .await?;
        let expected = match answer.status {
            StatusCode::PARTIAL_CONTENT => len,
            StatusCode::OK if offset == 0 => total,
            StatusCode::OK => {
                return Err(RegistryError::InvalidResponse {
                    url: DisplaySafeUrl::from(&url).to_string(),
                    reason: format!(
                        "asked for bytes from {offset} of a {total}-byte blob, the registry \
                         answered the whole blob"
                    ),
                })
            }
            _ => {
                let what = format!("blob {}/{repository}@{digest}", self.host());
                return Err(self.error_for(&Method::GET, &url, &answer, &what));
            }
        };
        if answer.body.len() as u64 != expected {
            return Err(RegistryError::InvalidResponse {
                url: DisplaySafeUrl::from(&url).to_string(),
                reason: format!(
                    "expected {expected} bytes from offset {offset}, got {}",
                    answer.body.len()
                ),
            });
        }
        Ok(answer.body)
    }

    /// Opens an upload session in `repository` (`POST .../blobs/uploads/`).
    pub async fn start_upload(&self, repository: &str) -> Result<Upload> {
        let url = self.url(&format!("v2/{repository}/blobs/uploads/"))?;
        let answer = self
            .write(
                Method::POST,
                &url,
                repository,
                None,
                Bytes::new(),
                HeaderMap::new(),
            )
            .await?;
        if answer.status != StatusCode::ACCEPTED {
            let what = format!("repository {}/{repository}", self.host());
            return Err(self.error_for(&Method::POST, &url, &answer, &what));
        }
        self.session(repository, &url, &answer, 0)
    }

    /// Asks the registry to mount blob `digest` from repository `from` into
    /// `repository` (`POST ...?mount=&from=`): 201 is done, 202 an upload opened
    /// instead (the registry could not, or would not, mount it).
    pub async fn mount_blob(&self, repository: &str, digest: &Digest, from: &str) -> Result<Mount> {
        let mut url = self.url(&format!("v2/{repository}/blobs/uploads/"))?;
        url.query_pairs_mut()
            .append_pair("mount", &digest.to_string())
            .append_pair("from", from);
        let request = plain(Method::POST, &url, MAX_ERROR_BODY);
        let scope = Scope::Mount {
            to: repository.to_string(),
            from: from.to_string(),
        };
        let answer = self.request(request, &scope).await?;
        match answer.status {
            StatusCode::CREATED => Ok(Mount::Mounted),
            StatusCode::ACCEPTED => Ok(Mount::Upload(self.session(repository, &url, &answer, 0)?)),
            _ => {
                let what = format!("repository {}/{repository}", self.host());
                Err(self.error_for(&Method::POST, &url, &answer, &what))
            }
        }
    }

    /// Sends `chunk`, the bytes from `upload.offset` on (`PATCH` with
    /// `Content-Range`). After a reset or a 5xx the registry is asked how much
    /// it holds, and the rest of the chunk is sent from there, up to
    /// [`CHUNK_RESUMES`] times.
    pub async fn upload_chunk(&self, upload: &mut Upload, chunk: Bytes) -> Result<()> {
        let end = upload.offset + chunk.len() as u64;
        let mut resumes = 0;
        while upload.offset < end {
            let from = (chunk.len() as u64 - (end - upload.offset)) as usize;
            match self.patch(upload, chunk.slice(from..)).await {
                Ok(()) => {}
                Err(e) if resumes < CHUNK_RESUMES && worth_resuming(&e) => {
                    resumes += 1;
                    tokio::time::sleep(Duration::from_millis(200 << resumes)).await;
                    let held = self.upload_status(upload).await?;
                    if held > end || held < upload.offset - (from as u64) {
                        return Err(e);
                    }
                    upload.offset = held;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Closes the upload with `last` (the whole blob for a small one, else
    /// nothing) and the digest the registry checks it against (`PUT ?digest=`).
    pub async fn finish_upload(&self, upload: Upload, digest: &Digest, last: Bytes) -> Result<()> {
        let mut url = upload.location.clone();
        url.query_pairs_mut()
            .append_pair("digest", &digest.to_string());
        let answer = self
            .write(
                Method::PUT,
                &url,
                &upload.repository,
                Some("application/octet-stream"),
                last,
                HeaderMap::new(),
            )
            .await?;
        if answer.status != StatusCode::CREATED {
            let what = format!(
                "upload of {digest} to {}/{}",
                self.host(),
                upload.repository
            );
            return Err(self.error_for(&Method::PUT, &url, &answer, &what));
        }
        Ok(())
    }

    /// How many bytes the registry holds of `upload` (`GET` of the session,
    /// whose `Range: 0-N` says N + 1).
    pub async fn upload_status(&self, upload: &Upload) -> Result<u64> {
        let answer = self
            .request(
                plain(Method::GET, &upload.location, MAX_ERROR_BODY),
                &Scope::Push(upload.repository.clone()),
            )
            .await?;
        if !answer.status.is_success() {
            let what = format!("upload to {}/{}", self.host(), upload.repository);
            return Err(self.error_for(&Method::GET, &upload.location, &answer, &what));
        }
        Ok(held_bytes(&answer.headers).unwrap_or(0))
    }

    /// Gives up an upload (`DELETE` of the session); the registry drops what it held.
    pub async fn cancel_upload(&self, upload: Upload) {
        let _ = self
            .write(
                Method::DELETE,
                &upload.location,
                &upload.repository,
                None,
                Bytes::new(),
                HeaderMap::new(),
            )
            .await;
    }

    async fn patch(&self, upload: &mut Upload, bytes: Bytes) -> Result<()> {
        let mut headers = HeaderMap::new();
        let range = format!(
            "{}-{}",
            upload.offset,
            upload.offset + bytes.len() as u64 - 1
        );
        if let Ok(value) = HeaderValue::from_str(&range) {
            headers.insert(CONTENT_RANGE, value);
        }
        let url = upload.location.clone();
        let answer = self
            .write(
                Method::PATCH,
                &url,
                &upload.repository,
                Some("application/octet-stream"),
                bytes.clone(),
                headers,
            )
            .await?;
        if answer.status != StatusCode::ACCEPTED && answer.status != StatusCode::NO_CONTENT {
            let what = format!("upload to {}/{}", self.host(), upload.repository);
            return Err(self.error_for(&Method::PATCH, &url, &answer, &what));
        }
        let next = self.session(&upload.repository, &url, &answer, upload.offset)?;
        upload.location = next.location;
        upload.offset = held_bytes(&answer.headers).unwrap_or(upload.offset + bytes.len() as u64);
        Ok(())
    }

    /// A write to `repository`, sent once (uploads resume on their own terms).
    async fn write(
        &self,
        method: Method,
        url: &Url,
        repository: &str,
        content_type: Option<&str>,
        bytes: Bytes,
        headers: HeaderMap,
    ) -> Result<Answer> {
        let scope = Scope::Push(repository.to_string());
        self.send_body((method, url, &scope), content_type, bytes, headers)
            .await
    }

    /// The session an answer leads to: its `Location`, on the registry's own
    /// origin only (credentials are never sent elsewhere).
    fn session(
        &self,
        repository: &str,
        asked: &Url,
        answer: &Answer,
        offset: u64,
    ) -> Result<Upload> {
        let location = answer
            .headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| RegistryError::InvalidResponse {
                url: DisplaySafeUrl::from(asked).to_string(),
                reason: "the upload answer has no Location".into(),
            })?;
        let url = asked
            .join(location)
            .map_err(|e| RegistryError::InvalidResponse {
                url: DisplaySafeUrl::from(asked).to_string(),
                reason: format!("upload Location `{}`: {e}", crate::text::escape(location)),
            })?;
        if url.origin() != self.base().origin() {
            return Err(RegistryError::InvalidResponse {
                url: DisplaySafeUrl::from(asked).to_string(),
                reason: format!(
                    "the upload Location leads to another origin ({}), where this registry's \
                     credentials are not sent; not followed. The usual cause is a reverse proxy in \
                     front of the registry that does not pass X-Forwarded-Proto, or drops the port \
                     from Host (set http.host or the proxy headers in the registry's config)",
                    crate::text::escape(&DisplaySafeUrl::from(&url).to_string())
                ),
            });
        }
        let min_chunk = answer
            .headers
            .get("oci-chunk-min-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        Ok(Upload {
            repository: repository.to_string(),
            location: url,
            offset,
            min_chunk,
        })
    }
}

/// A request without a body.
fn plain(method: Method, url: &Url, limit: usize) -> Request<'_> {
    Request {
        method,
        url,
        accept: None,
        body: None,
        limit,
        headers: HeaderMap::new(),
    }
}

/// The bytes an upload's `Range: 0-N` says the registry holds (N + 1); `0-0`
/// on an empty session is taken as none (Distribution's answer before any byte).
fn held_bytes(headers: &HeaderMap) -> Option<u64> {
    let range = headers.get(RANGE)?.to_str().ok()?;
    let range = range.trim().trim_start_matches("bytes=");
    let (start, end) = range.split_once('-')?;
    let (start, end): (u64, u64) = (start.trim().parse().ok()?, end.trim().parse().ok()?);
    if start != 0 {
        return None;
    }
    Some(if end == 0 { 0 } else { end + 1 })
}

/// A reset connection, a timeout or a 5xx/429: the registry may hold part of
/// the chunk, and says how much.
fn worth_resuming(e: &RegistryError) -> bool {
    match e {
        RegistryError::Transport { .. } => true,
        RegistryError::Status { status, .. } => *status >= 500 || *status == 429,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(range: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(RANGE, HeaderValue::from_str(range).unwrap());
        h
    }

    #[test]
    fn the_held_bytes_are_read_from_the_range_header() {
        assert_eq!(held_bytes(&headers("0-1023")), Some(1024));
        assert_eq!(held_bytes(&headers("bytes=0-9")), Some(10));
        assert_eq!(held_bytes(&headers("0-0")), Some(0));
        assert_eq!(held_bytes(&headers("5-9")), None);
        assert_eq!(held_bytes(&headers("junk")), None);
        assert_eq!(held_bytes(&HeaderMap::new()), None);
    }
}
