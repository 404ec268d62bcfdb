//! A repository's tags kept fresh during the deletion phase. The plan is checked
//! once before any change ([`super::recheck`]), but a deletion phase can last
//! minutes, and another client may meanwhile tag an old image for a rollback or
//! push an index over a planned manifest. So no manifest is deleted without a
//! view of the tag list at most [`MAX_AGE`] old or [`MAX_DELETIONS`] deletions
//! behind: the list is read again, a tag not seen before is read (GET, hashed),
//! a tag seen before is asked where it points (HEAD, GET when the answer differs
//! or carries no digest), and what is new or moved is handed back so that what it
//! needs is kept.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt as _};

use super::plan::{Action, Plan};
use super::snapshot::Node;
use crate::registry::reference::{valid_tag, ManifestRef};
use crate::registry::{Digest, Registry, RegistryError};

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

/// The tags of one repository as last seen, and how fresh that is.
pub struct Watch<'a> {
    registry: &'a Registry,
    repository: &'a str,
    known: BTreeMap<String, Digest>,
    read_at: Instant,
    deletions: usize,
    concurrency: usize,
}

impl<'a> Watch<'a> {
    /// The view the re-check left for `plan`: the tags it keeps and those its
    /// actions remove, read at `plan.checked_at`.
    pub fn new(registry: &'a Registry, plan: &'a Plan, concurrency: usize) -> Watch<'a> {
        let mut known: BTreeMap<String, Digest> = plan
            .survivors
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
                Action::RemoveDanglingTag { .. } | Action::RestoreTag { .. } => {}
            }
        }
        Watch {
            registry,
            repository: &plan.repository,
            known,
            read_at: plan.checked_at.unwrap_or_else(Instant::now),
            deletions: 0,
            concurrency: concurrency.max(1),
        }
    }

    /// True when a manifest must not be deleted before [`Watch::refresh`].
    pub fn stale(&self) -> bool {
        self.read_at.elapsed() >= MAX_AGE || self.deletions >= MAX_DELETIONS
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
    /// elsewhere than last seen, with their manifests. Tags gone from the list
    /// are forgotten; a tag listed whose manifest is not served is passed over.
    pub async fn refresh(&mut self) -> Result<Vec<Arrival>, RegistryError> {
        let started = Instant::now();
        let listed: BTreeSet<String> = match self.registry.tags(self.repository).await {
            Ok(tags) => tags.into_iter().filter(|t| valid_tag(t)).collect(),
            Err(RegistryError::NotFound { .. }) => BTreeSet::new(),
            Err(e) => return Err(e),
        };
        self.known.retain(|t, _| listed.contains(t));
        let known = &self.known;
        let (registry, repository) = (self.registry, self.repository);
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
        let mut arrivals = Vec::new();
        for arrival in looked {
            if let Some(arrival) = arrival? {
                self.known
                    .insert(arrival.tag.clone(), arrival.digest.clone());
                arrivals.push(arrival);
            }
        }
        arrivals.sort_by(|a, b| a.tag.cmp(&b.tag));
        self.read_at = started;
        self.deletions = 0;
        Ok(arrivals)
    }
}
