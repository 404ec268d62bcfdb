//! Removing one tag and nothing else, as near to a compare-and-remove as the API
//! allows: the tag is read right before it goes (everything else is prepared
//! first), and a tag that moved meanwhile is someone else's change, left alone.
//!
//! A registry that deletes tags (`DELETE /manifests/<tag>`) is asked to; on one
//! that has no tag deletion (Distribution 2.8) the tag is moved onto a throw-away
//! manifest unique to this removal, whose digest is then deleted: that takes only
//! the tags on it, which is this one.

use super::outcome::{ActionError, Change, Outcome, TagRemoval};
use super::store::Store;
use crate::registry::manifests::Manifest;
use crate::registry::reference::ManifestRef;
use crate::registry::tags::{Placeholder, TagDeletion, TagRemovalError};
use crate::registry::{Digest, RegistryError};

/// What the tag must point at right before it is removed.
#[derive(Debug, Clone, Copy)]
pub enum Expect<'a> {
    /// This manifest.
    Manifest(&'a Digest),
    /// Nothing the registry serves: a dangling tag.
    Missing,
}

/// One tag of one repository to remove.
pub struct Untag<'a, S: Store> {
    /// The registry.
    pub registry: &'a S,
    /// The repository.
    pub repository: &'a str,
    /// The tag.
    pub tag: &'a str,
    /// A throw-away manifest, if one is needed, of the OCI family (else Docker's).
    pub oci: bool,
    /// Tags on the same manifest that stay: the manifest must survive.
    pub keep: &'a [String],
    /// An index references the manifest: it must survive.
    pub in_index: bool,
}

impl<S: Store> Untag<'_, S> {
    /// Removes the tag if it still points where `expect` says. A tag found gone
    /// (no longer listed) is [`Outcome::AlreadyGone`]; one found dangling (its
    /// manifest deleted by someone else meanwhile) is removed all the same.
    pub async fn run(&self, expect: Expect<'_>) -> Outcome {
        // Made first, so that the tag moves right after it was read.
        let mut placeholder = None;
        if self.registry.tag_deletion() == TagDeletion::Unsupported {
            match self.placeholder().await {
                Ok(p) => placeholder = Some(p),
                Err(e) => return Outcome::Failed(e.into()),
            }
        }
        loop {
            let original = match self.read(expect).await {
                Ok(original) => original,
                Err(outcome) => return outcome,
            };
            let Some(p) = &placeholder else {
                match self.registry.delete_tag(self.repository, self.tag).await {
                    Ok(true) => return self.after_tag_deletion(original.as_ref()).await,
                    // No tag deletion here: through a throw-away manifest, read again.
                    Ok(false) => match self.placeholder().await {
                        Ok(p) => {
                            placeholder = Some(p);
                            continue;
                        }
                        Err(e) => return Outcome::Failed(e.into()),
                    },
                    Err(e) => return Outcome::Failed(e.into()),
                }
            };
            return match self.registry.untag_with(self.repository, self.tag, p).await {
                Ok(()) => Outcome::TagRemoved(TagRemoval::Placeholder(p.digest.clone())),
                Err(failure) => Outcome::Failed(self.point_back(failure, original).await),
            };
        }
    }

    /// The placeholder, pushed; a refusal says that push access is what is missing.
    async fn placeholder(&self) -> Result<Placeholder, RegistryError> {
        let need_push = || crate::registry::error::Hint::NeedPush {
            repository: self.repository.to_string(),
        };
        self.registry
            .placeholder(self.repository, self.tag, self.oci)
            .await
            .map_err(|mut e| {
                // A refusal here is a refusal to push: say that is what is needed.
                match &mut e {
                    RegistryError::Unauthorized { hint, .. } => *hint = need_push(),
                    RegistryError::Denied { detail, .. } => {
                        *detail = format!("{detail}; {}", need_push())
                    }
                    _ => {}
                }
                e
            })
    }

    /// The tag as it is now: its manifest (none when it dangles), or, when it is
    /// not what the plan removes, what became of the action.
    async fn read(&self, expect: Expect<'_>) -> Result<Option<Manifest>, Outcome> {
        let read = self
            .registry
            .get_manifest(self.repository, &ManifestRef::tag(self.tag))
            .await;
        match (read, expect) {
            (Ok(m), Expect::Manifest(d)) if m.digest == *d => Ok(Some(m)),
            (Ok(m), _) => Err(Outcome::Changed(Change::TagMoved(Some(m.digest)))),
            (Err(RegistryError::NotFound { .. }), Expect::Missing) => Ok(None),
            // Gone, or left dangling by whoever deleted its manifest: the list says.
            (Err(RegistryError::NotFound { .. }), Expect::Manifest(_)) => {
                match self.registry.tags(self.repository).await {
                    Ok(tags) if tags.iter().any(|t| t == self.tag) => Ok(None),
                    Ok(_) | Err(RegistryError::NotFound { .. }) => Err(Outcome::AlreadyGone),
                    Err(e) => Err(Outcome::Failed(e.into())),
                }
            }
            (Err(e), _) => Err(Outcome::Failed(e.into())),
        }
    }

    /// The registry deleted the tag: its manifest must still be there when
    /// something needs it. If it is gone, nothing tells whether the registry's tag
    /// deletion took it or another client deleted it meanwhile: it is reported,
    /// and not pushed back (it may have been deleted on purpose).
    async fn after_tag_deletion(&self, original: Option<&Manifest>) -> Outcome {
        let needed = self.in_index || !self.keep.is_empty();
        let Some(original) = original.filter(|_| needed) else {
            return Outcome::TagRemoved(TagRemoval::Deleted);
        };
        let digest = ManifestRef::from(&original.digest);
        match self.registry.head_manifest(self.repository, &digest).await {
            Ok(_) => Outcome::TagRemoved(TagRemoval::Deleted),
            Err(RegistryError::NotFound { .. }) => Outcome::Failed(ActionError::ManifestGone {
                digest: original.digest.clone(),
                tags: self.keep.to_vec(),
            }),
            Err(e) => Outcome::Failed(e.into()),
        }
    }

    /// Moving the tag onto the throw-away manifest and deleting that failed half
    /// way: if the tag is on the throw-away manifest, it is pointed back at the
    /// original. A tag someone else moved meanwhile is left alone; a dangling one
    /// is left to the check after the repository's changes.
    async fn point_back(
        &self,
        failure: TagRemovalError,
        original: Option<Manifest>,
    ) -> ActionError {
        let TagRemovalError { error, left_on } = failure;
        let (Some(left_on), Some(original)) = (left_on, original) else {
            return error.into();
        };
        let now = self
            .registry
            .head_manifest(self.repository, &ManifestRef::tag(self.tag))
            .await;
        if !matches!(now, Ok((Some(d), _)) if d == left_on) {
            return error.into();
        }
        let put = self
            .registry
            .put_manifest(
                self.repository,
                &ManifestRef::tag(self.tag),
                &original.media_type,
                &original.bytes,
            )
            .await;
        ActionError::LeftOnPlaceholder {
            error,
            restored: put.is_ok(),
            digest: original.digest,
        }
    }
}
