//! A registry in memory, for the engine's unit tests: one repository's tags and
//! manifests, answering as Distribution does (a manifest deletion takes the tags
//! on it; a tag deletion where the registry has none answers that it has none),
//! and a script: hooks that see each request before it is answered and may
//! change the repository first (another client's push, a tag moved), answer in
//! its place (a failure, a HEAD that lies about a digest or has none), or both. Every request is
//! logged, so that a test can say what was, and was not, sent.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::Store;
use crate::registry::manifests::Manifest;
use crate::registry::media::{DOCKER_MANIFEST, OCI_MANIFEST};
use crate::registry::reference::ManifestRef;
use crate::registry::tags::{Placeholder, TagDeletion, TagRemovalError};
use crate::registry::{Digest, RegistryError};

/// The repository as the registry holds it.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// Tags and the manifests they point at (one whose manifest is gone dangles:
    /// listed, not served).
    pub tags: BTreeMap<String, Digest>,
    /// Manifests by digest: media type and bytes.
    pub manifests: BTreeMap<Digest, (String, Vec<u8>)>,
    /// Tags served but left out of the tag list (a list that lags).
    pub unlisted: BTreeSet<String>,
    /// Whether `DELETE /manifests/<tag>` deletes the tag (else the registry
    /// answers that it has no such operation, as Distribution 2.8 does).
    pub deletes_tags: bool,
    /// What the registry is known to do about tag deletion.
    pub tag_deletion: Option<bool>,
}

impl State {
    /// Stores `bytes` as a manifest and returns its digest.
    pub fn manifest(&mut self, media_type: &str, bytes: &[u8]) -> Digest {
        let digest = Digest::sha256_of(bytes);
        self.manifests
            .insert(digest.clone(), (media_type.to_string(), bytes.to_vec()));
        digest
    }

    /// Points `tag` at `digest`.
    pub fn tag(&mut self, tag: &str, digest: &Digest) {
        self.tags.insert(tag.to_string(), digest.clone());
    }

    fn read(&self, reference: &ManifestRef) -> Result<Manifest, RegistryError> {
        let digest = match reference {
            ManifestRef::Tag(tag) => self.tags.get(tag).ok_or_else(|| not_found(reference))?,
            ManifestRef::Digest(digest) => digest,
        };
        let (media_type, bytes) = self
            .manifests
            .get(digest)
            .ok_or_else(|| not_found(reference))?;
        Ok(Manifest {
            digest: digest.clone(),
            media_type: media_type.clone(),
            bytes: bytes.clone(),
        })
    }
}

/// One request, as the registry sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Request {
    /// `GET /tags/list`.
    Tags,
    /// `GET /manifests/<reference>`.
    Get(ManifestRef),
    /// `HEAD /manifests/<reference>`.
    Head(ManifestRef),
    /// `PUT /manifests/<reference>` of the manifest with this digest.
    Put(ManifestRef, Digest),
    /// `DELETE /manifests/<digest>`.
    DeleteManifest(Digest),
    /// `DELETE /manifests/<tag>`.
    DeleteTag(String),
    /// The config blob of a throw-away manifest pushed for removing this tag.
    Placeholder(String),
}

/// An answer a hook gives in the registry's place.
#[derive(Debug)]
pub(crate) enum Reply {
    /// The request fails so.
    Fail(RegistryError),
    /// A HEAD answers with this digest (`None`: no digest header).
    Head(Option<Digest>),
    /// A change (PUT, DELETE) answers that it was made, and the registry
    /// leaves the repository as the hook left it.
    Ok,
}

/// A step of the script: sees each request (and the repository) before it is
/// answered; may change the repository, and may answer in the registry's place.
pub(crate) type Hook = Box<dyn FnMut(&Request, &mut State) -> Option<Reply> + Send>;

/// The in-memory registry.
#[derive(Default)]
pub(crate) struct Memory {
    state: Mutex<State>,
    hooks: Mutex<Vec<Hook>>,
    log: Mutex<Vec<Request>>,
    placeholders: AtomicU64,
}

/// A 404, as the registry words it.
pub(crate) fn not_found(reference: &ManifestRef) -> RegistryError {
    RegistryError::NotFound {
        what: format!("memory/app{}{reference}", reference.separator()),
        detail: "MANIFEST_UNKNOWN".into(),
    }
}

/// A 500.
pub(crate) fn server_error() -> RegistryError {
    RegistryError::Config("HTTP 500 (scripted)".into())
}

/// A 405: the registry turned read-only.
pub(crate) fn unsupported() -> RegistryError {
    RegistryError::Unsupported {
        registry: "memory".into(),
        operation: "deleting manifests".into(),
        detail: "HTTP 405".into(),
        hint: None,
    }
}

impl Memory {
    /// A registry holding what `fill` puts in it.
    pub fn new(fill: impl FnOnce(&mut State)) -> Memory {
        let mut state = State::default();
        fill(&mut state);
        Memory {
            state: Mutex::new(state),
            ..Memory::default()
        }
    }

    /// Adds a step to the script.
    pub fn on(&self, hook: impl FnMut(&Request, &mut State) -> Option<Reply> + Send + 'static) {
        self.hooks.lock().unwrap().push(Box::new(hook));
    }

    /// The repository as it is now.
    pub fn with<T>(&self, look: impl FnOnce(&State) -> T) -> T {
        look(&self.state.lock().unwrap())
    }

    /// The tags and where they point, as `tag digest` pairs.
    pub fn tags(&self) -> BTreeMap<String, Digest> {
        self.with(|s| s.tags.clone())
    }

    /// Every request answered so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }

    /// Logs `request`, runs the script on it, and answers: the script's reply,
    /// or `answer` on the repository.
    fn serve<T>(
        &self,
        request: Request,
        answer: impl FnOnce(&mut State) -> Result<T, RegistryError>,
        replied: impl FnOnce(Reply) -> Result<T, RegistryError>,
    ) -> Result<T, RegistryError> {
        self.log.lock().unwrap().push(request.clone());
        let mut state = self.state.lock().unwrap();
        let mut reply = None;
        for hook in self.hooks.lock().unwrap().iter_mut() {
            if let Some(r) = hook(&request, &mut state) {
                reply = Some(r);
                break;
            }
        }
        match reply {
            Some(Reply::Fail(e)) => Err(e),
            Some(other) => replied(other),
            None => answer(&mut state),
        }
    }
}

/// A reply a request of this kind cannot take.
fn misplaced(reply: Reply) -> ! {
    panic!("the script answered with {reply:?} where it does not fit")
}

impl Store for Memory {
    async fn tags(&self, _repository: &str) -> Result<Vec<String>, RegistryError> {
        self.serve(
            Request::Tags,
            |s| {
                Ok(s.tags
                    .keys()
                    .filter(|t| !s.unlisted.contains(*t))
                    .cloned()
                    .collect())
            },
            |r| misplaced(r),
        )
    }

    async fn get_manifest(
        &self,
        _repository: &str,
        reference: &ManifestRef,
    ) -> Result<Manifest, RegistryError> {
        self.serve(
            Request::Get(reference.clone()),
            |s| s.read(reference),
            |r| misplaced(r),
        )
    }

    async fn head_manifest(
        &self,
        _repository: &str,
        reference: &ManifestRef,
    ) -> Result<(Option<Digest>, String), RegistryError> {
        self.serve(
            Request::Head(reference.clone()),
            |s| s.read(reference).map(|m| (Some(m.digest), m.media_type)),
            |r| match r {
                Reply::Head(d) => Ok((d, OCI_MANIFEST.to_string())),
                r => misplaced(r),
            },
        )
    }

    async fn put_manifest(
        &self,
        _repository: &str,
        reference: &ManifestRef,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<Digest, RegistryError> {
        let digest = Digest::sha256_of(bytes);
        self.serve(
            Request::Put(reference.clone(), digest.clone()),
            |s| {
                s.manifest(media_type, bytes);
                if let ManifestRef::Tag(tag) = reference {
                    s.tag(tag, &digest);
                }
                Ok(digest.clone())
            },
            |r| match r {
                Reply::Ok => Ok(digest.clone()),
                r => misplaced(r),
            },
        )
    }

    async fn delete_manifest(
        &self,
        _repository: &str,
        digest: &Digest,
    ) -> Result<(), RegistryError> {
        self.serve(
            Request::DeleteManifest(digest.clone()),
            |s| {
                if s.manifests.remove(digest).is_none() {
                    return Err(not_found(&digest.into()));
                }
                s.tags.retain(|_, d| d != digest);
                Ok(())
            },
            |r| match r {
                Reply::Ok => Ok(()),
                r => misplaced(r),
            },
        )
    }

    fn tag_deletion(&self) -> TagDeletion {
        match self.with(|s| s.tag_deletion) {
            None => TagDeletion::Unknown,
            Some(true) => TagDeletion::Supported,
            Some(false) => TagDeletion::Unsupported,
        }
    }

    async fn delete_tag(&self, _repository: &str, tag: &str) -> Result<bool, RegistryError> {
        self.serve(
            Request::DeleteTag(tag.to_string()),
            |s| {
                s.tag_deletion = Some(s.deletes_tags);
                if !s.deletes_tags {
                    return Ok(false);
                }
                match s.tags.remove(tag) {
                    Some(_) => Ok(true),
                    None => Err(not_found(&ManifestRef::tag(tag))),
                }
            },
            |r| match r {
                Reply::Ok => Ok(true),
                r => misplaced(r),
            },
        )
    }

    async fn placeholder(
        &self,
        _repository: &str,
        tag: &str,
        oci: bool,
    ) -> Result<Placeholder, RegistryError> {
        let n = self.placeholders.fetch_add(1, Ordering::Relaxed);
        self.serve(
            Request::Placeholder(tag.to_string()),
            |_| {
                let media_type = if oci { OCI_MANIFEST } else { DOCKER_MANIFEST };
                let bytes = format!(r#"{{"schemaVersion":2,"placeholder":"{tag} {n}"}}"#);
                Ok(Placeholder {
                    media_type,
                    digest: Digest::sha256_of(bytes.as_bytes()),
                    bytes: bytes.into_bytes(),
                })
            },
            |r| misplaced(r),
        )
    }

    async fn untag_with(
        &self,
        repository: &str,
        tag: &str,
        placeholder: &Placeholder,
    ) -> Result<(), TagRemovalError> {
        self.put_manifest(
            repository,
            &ManifestRef::tag(tag),
            placeholder.media_type,
            &placeholder.bytes,
        )
        .await
        .map_err(|error| TagRemovalError {
            error,
            left_on: None,
        })?;
        self.delete_manifest(repository, &placeholder.digest)
            .await
            .map_err(|error| TagRemovalError {
                error,
                left_on: Some(placeholder.digest.clone()),
            })
    }
}
