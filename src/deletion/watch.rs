//! A repository's tags kept fresh during the deletion phase. The plan is checked
//! once before any change ([`super::recheck`]), but a deletion phase can last
//! minutes, and another client may meanwhile tag an old image for a rollback or
//! push an index over a planned manifest. So no manifest is deleted without a
//! view of the tag list at most [`MAX_AGE`] old or [`MAX_DELETIONS`] deletions
//! behind: the list is read again, a tag not seen before is read (GET, hashed),
//! a tag seen before is asked where it points (HEAD, GET when the answer differs
//! or carries no digest), and what is new or moved is handed back so that what it
//! needs is kept.
//!
//! There is no API for the tags of a digest: only the tag list says which tags
//! exist. So before the first manifest deletion in a repository the list is
//! always read again, and a tag one read named that the next does not, yet that
//! still answers, shows the list to be incomplete: nothing is then deleted by
//! digest in that repository.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt as _};

use super::plan::{Action, Plan};
use super::store::Store;
use crate::graph::Node;
use crate::registry::reference::{valid_tag, ManifestRef};
use crate::registry::{Digest, RegistryError};

/// The oldest view of the tag list a manifest is deleted on.
pub const MAX_AGE: Duration = Duration::from_secs(1);

/// The most manifest deletions made on one view of the tag list.
pub const MAX_DELETIONS: usize = 8;

/// A tag found new or moved: where it points now and what that manifest is.
#[derive(Debug)]
pub struct Arrival {
    /// The tag.
    pub tag: String,
    /// The manifest it points at now.
    pub digest: Digest,
    /// That manifest, as read.
    pub node: Node,
}

/// What a look at the tag list found.
#[derive(Debug, Default)]
pub struct Look {
    /// Tags new or moved since the last look.
    pub arrivals: Vec<Arrival>,
    /// Tags the last look saw that this list leaves out although they still
    /// answer: the tag list is not complete.
    pub unlisted: Vec<String>,
}

/// The tags of one repository as last seen, and how fresh that is.
pub struct Watch<'a, S: Store> {
    registry: &'a S,
    repository: &'a str,
    known: BTreeMap<String, Digest>,
    read_at: Instant,
    deletions: usize,
    looked: bool,
    concurrency: usize,
}

impl<'a, S: Store> Watch<'a, S> {
    /// The view the re-check left for `plan`: the tags it keeps and those its
    /// actions remove, read at `plan.checked_at`.
    pub fn new(registry: &'a S, plan: &'a Plan, concurrency: usize) -> Watch<'a, S> {
        let mut known: BTreeMap<String, Digest> = plan
            .kept_tags
            .iter()
            .map(|s| (s.tag.clone(), s.digest.clone()))
            .collect();
        for action in &plan.actions {
            match action {
                Action::DeleteManifest { digest, tags, .. } => {
                    for tag in tags {
                        known.insert(tag.clone(), digest.clone());
                    }
                }
                Action::RemoveTag { tag, digest, .. }
                | Action::RewriteReferrersIndex { tag, digest, .. } => {
                    known.insert(tag.clone(), digest.clone());
                }
                Action::RemoveDanglingTag { .. }
                | Action::RestoreTag { .. }
                | Action::CheckTagList => {}
            }
        }
        Watch {
            registry,
            repository: &plan.repository,
            known,
            read_at: plan.checked_at.unwrap_or_else(Instant::now),
            deletions: 0,
            looked: false,
            concurrency: concurrency.max(1),
        }
    }

    /// True when a manifest must not be deleted before [`Watch::refresh`].
    pub fn stale(&self) -> bool {
        !self.looked || self.read_at.elapsed() >= MAX_AGE || self.deletions >= MAX_DELETIONS
    }

    /// Counts a manifest deletion sent on this view, and forgets the tags it took.
    pub fn deleted(&mut self, digest: &Digest) {
        self.deletions += 1;
        self.known.retain(|_, d| d != digest);
    }

    /// Records a change this run made itself: `tag` now points at `digest`
    /// (`None`: removed).
    pub fn moved(&mut self, tag: &str, digest: Option<&Digest>) {
        match digest {
            Some(d) => self.known.insert(tag.to_string(), d.clone()),
            None => self.known.remove(tag),
        };
    }

    /// Where `tag` points, as last seen.
    pub fn tag(&self, tag: &str) -> Option<&Digest> {
        self.known.get(tag)
    }

    /// The tags on `digest`, as last seen, sorted.
    pub fn tags_on(&self, digest: &Digest) -> Vec<String> {
        self.known
            .iter()
            .filter(|(_, d)| *d == digest)
            .map(|(t, _)| t.clone())
            .collect()
    }

    /// Reads the tag list again and returns the tags that are new or point
    /// elsewhere than last seen, with their manifests, and those it leaves out
    /// that still answer. Tags gone are forgotten; a tag listed whose manifest is
    /// not served is passed over.
    pub async fn refresh(&mut self) -> Result<Look, RegistryError> {
        let started = Instant::now();
        let listed: BTreeSet<String> = match self.registry.tags(self.repository).await {
            Ok(tags) => tags.into_iter().filter(|t| valid_tag(t)).collect(),
            Err(RegistryError::NotFound { .. }) => BTreeSet::new(),
            Err(e) => return Err(e),
        };
        let (registry, repository) = (self.registry, self.repository);
        let missing: Vec<String> = self
            .known
            .keys()
            .filter(|t| !listed.contains(*t))
            .cloned()
            .collect();
        let answering: Vec<Result<Option<String>, RegistryError>> = stream::iter(missing)
            .map(|tag| async move {
                match registry
                    .head_manifest(repository, &ManifestRef::tag(&tag))
                    .await
                {
                    Ok(_) => Ok(Some(tag)),
                    Err(RegistryError::NotFound { .. }) => Ok(None),
                    Err(e) => Err(e),
                }
            })
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        let mut look = Look::default();
        for tag in answering {
            look.unlisted.extend(tag?);
        }
        look.unlisted.sort();
        self.known
            .retain(|t, _| listed.contains(t) || look.unlisted.contains(t));
        let known = &self.known;
        let looked: Vec<Result<Option<Arrival>, RegistryError>> = stream::iter(listed)
            .map(|tag| async move {
                let seen = known.get(&tag);
                if let Some(seen) = seen {
                    match registry
                        .head_manifest(repository, &ManifestRef::tag(&tag))
                        .await
                    {
                        Ok((Some(now), _)) if &now == seen => return Ok(None),
                        Ok(_) => {}
                        Err(RegistryError::NotFound { .. }) => return Ok(None),
                        Err(e) => return Err(e),
                    }
                }
                match registry
                    .get_manifest(repository, &ManifestRef::tag(&tag))
                    .await
                {
                    Ok(m) if Some(&m.digest) == seen => Ok(None),
                    Ok(m) => Ok(Some(Arrival {
                        node: Node::from_bytes(&m.media_type, Arc::from(m.bytes)),
                        digest: m.digest,
                        tag,
                    })),
                    Err(RegistryError::NotFound { .. }) => Ok(None),
                    Err(e) => Err(e),
                }
            })
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        for arrival in looked {
            if let Some(arrival) = arrival? {
                self.known
                    .insert(arrival.tag.clone(), arrival.digest.clone());
                look.arrivals.push(arrival);
            }
        }
        look.arrivals.sort_by(|a, b| a.tag.cmp(&b.tag));
        self.read_at = started;
        self.deletions = 0;
        self.looked = true;
        Ok(look)
    }
}
