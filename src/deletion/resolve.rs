//! What `rm`'s references ask of one repository, read into its graph: the
//! [`Request`] the planner takes, and for each reference that is not acted on,
//! why. Pure: the caller reads the repository, and finds out beforehand which
//! manifests named by digest alone the registry does not have (a manifest no
//! tag reaches is not in the graph until it is looked up).

use std::collections::BTreeSet;

use crate::graph::Snapshot;
use crate::registry::Digest;

use super::Request;

/// One reference as `rm` was given it: a tag, a digest, or both (`TAG@DIGEST`:
/// that tag, only while it points at that digest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Named<'a> {
    /// The tag, if one was written.
    pub tag: Option<&'a str>,
    /// The digest, if one was written.
    pub digest: Option<&'a Digest>,
}

/// Why a reference is not acted on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// The repository is not there.
    NoRepository,
    /// No such tag in the repository.
    NoTag,
    /// No such manifest in the repository.
    NoManifest,
    /// `TAG@DIGEST` where the tag points at another manifest.
    TagElsewhere {
        /// Where the tag points.
        current: Digest,
    },
    /// The registry lists the tag but serves no manifest that matches what it
    /// announces for it: what removing it would take cannot be known.
    Unverified,
}

impl Skip {
    /// True for the skips that say something is not there (exit 4), as
    /// against refusals (exit 6).
    pub fn is_missing(&self) -> bool {
        matches!(self, Skip::NoRepository | Skip::NoTag | Skip::NoManifest)
    }
}

/// The request for a repository, and the references (by position) not acted on.
#[derive(Debug, Default)]
pub struct Resolution {
    /// What the planner is asked.
    pub request: Request,
    /// Each reference not acted on, by its position in what was given, and why.
    pub skipped: Vec<(usize, Skip)>,
}

/// The digests named alone that are not in `snapshot`: the caller asks the
/// registry whether it has each (and reads those it has into the snapshot).
pub fn unknown_digests(snapshot: &Snapshot, references: &[Named<'_>]) -> Vec<Digest> {
    let mut unknown: Vec<Digest> = references
        .iter()
        .filter(|r| r.tag.is_none())
        .filter_map(|r| r.digest)
        .filter(|d| !snapshot.manifests.contains_key(*d))
        .cloned()
        .collect();
    unknown.sort();
    unknown.dedup();
    unknown
}

/// Resolves `references` against `snapshot`; `absent` are the digests named
/// alone that the registry answered it does not have. `force` and
/// `keep_attachments` go into the request as given.
pub fn resolve(
    snapshot: &Snapshot,
    references: &[Named<'_>],
    absent: &BTreeSet<Digest>,
    force: bool,
    keep_attachments: bool,
) -> Resolution {
    let mut resolution = Resolution {
        request: Request {
            force,
            keep_attachments,
            ..Request::default()
        },
        skipped: Vec::new(),
    };
    let unverified = |tag: &str| snapshot.unresolved_tags.iter().any(|t| t == tag);
    let dangling = |tag: &str| snapshot.dangling_tags.iter().any(|t| t == tag);
    for (position, named) in references.iter().enumerate() {
        let missing = |what: Skip| {
            if snapshot.absent_repository {
                Skip::NoRepository
            } else {
                what
            }
        };
        let skip = match (named.tag, named.digest) {
            // `repo:tag@digest`: remove that tag, if it still points at that digest.
            (Some(tag), Some(digest)) => match snapshot.tags.get(tag) {
                Some(current) if current == digest => {
                    resolution.request.remove_tags.insert(tag.to_string());
                    None
                }
                Some(current) => Some(Skip::TagElsewhere {
                    current: current.clone(),
                }),
                None if unverified(tag) || dangling(tag) => Some(Skip::Unverified),
                None => Some(missing(Skip::NoTag)),
            },
            (None, Some(digest)) => {
                if absent.contains(digest) && !snapshot.manifests.contains_key(digest) {
                    Some(missing(Skip::NoManifest))
                } else {
                    resolution.request.delete.insert(digest.clone());
                    None
                }
            }
            // A reference with neither names `latest`, as docker reads it
            // (`rm` refuses those before; other callers may not).
            (tag, None) => {
                let tag = tag.unwrap_or("latest");
                if snapshot.tags.contains_key(tag) || dangling(tag) {
                    resolution.request.remove_tags.insert(tag.to_string());
                    None
                } else if unverified(tag) {
                    Some(Skip::Unverified)
                } else {
                    Some(missing(Skip::NoTag))
                }
            }
        };
        if let Some(skip) = skip {
            resolution.skipped.push((position, skip));
        }
    }
    resolution
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(n: u8) -> Digest {
        Digest::sha256_of(&[n])
    }

    fn snapshot() -> Snapshot {
        let mut s = Snapshot::new("app");
        s.tags.insert("v1".into(), digest(1));
        s.tags.insert("latest".into(), digest(1));
        s.dangling_tags.push("gone".into());
        s.unresolved_tags.push("liar".into());
        s.manifests.insert(
            digest(1),
            crate::graph::Node::from_bytes(
                crate::registry::media::DOCKER_MANIFEST,
                b"{}".to_vec().into(),
            ),
        );
        s
    }

    fn tag(tag: &str) -> Named<'_> {
        Named {
            tag: Some(tag),
            digest: None,
        }
    }

    #[test]
    fn tags_digests_and_both_become_one_request() {
        let s = snapshot();
        let d1 = digest(1);
        let d2 = digest(2);
        let refs = [
            tag("v1"),
            Named {
                tag: None,
                digest: Some(&d2),
            },
            Named {
                tag: Some("latest"),
                digest: Some(&d1),
            },
            tag("gone"),
        ];
        assert_eq!(unknown_digests(&s, &refs), vec![d2.clone()]);
        let r = resolve(&s, &refs, &BTreeSet::new(), true, false);
        assert_eq!(
            r.request.remove_tags,
            ["v1", "latest", "gone"].map(String::from).into()
        );
        assert_eq!(r.request.delete, [d2].into());
        assert!(r.request.force && !r.request.keep_attachments);
        assert!(r.skipped.is_empty());
    }

    #[test]
    fn what_is_not_acted_on_says_why() {
        let s = snapshot();
        let (d1, d2, d3) = (digest(1), digest(2), digest(3));
        let refs = [
            tag("nope"),
            Named {
                tag: Some("v1"),
                digest: Some(&d2),
            },
            tag("liar"),
            Named {
                tag: None,
                digest: Some(&d3),
            },
            Named {
                tag: Some("liar"),
                digest: Some(&d1),
            },
        ];
        let r = resolve(&s, &refs, &[d3.clone()].into(), false, false);
        assert_eq!(
            r.skipped,
            vec![
                (0, Skip::NoTag),
                (1, Skip::TagElsewhere { current: d1 }),
                (2, Skip::Unverified),
                (3, Skip::NoManifest),
                (4, Skip::Unverified),
            ]
        );
        assert!(r.request.remove_tags.is_empty() && r.request.delete.is_empty());
        assert!(r.skipped[0].1.is_missing() && !r.skipped[1].1.is_missing());
    }

    #[test]
    fn in_a_repository_that_is_not_there_everything_is_missing_it() {
        let mut s = Snapshot::new("nope");
        s.absent_repository = true;
        let d = digest(9);
        let refs = [
            tag("v1"),
            Named {
                tag: None,
                digest: Some(&d),
            },
        ];
        let r = resolve(&s, &refs, &[d.clone()].into(), false, false);
        assert_eq!(
            r.skipped,
            vec![(0, Skip::NoRepository), (1, Skip::NoRepository)]
        );
    }
}
