//! Space, as the API can see it: which blobs (manifests, configs, layers) the
//! manifests of a set of repositories reference, with the sizes their
//! descriptors give (no blob is downloaded). Untagged manifests that no tag
//! reaches are invisible to the API, so blobs only they use are not counted.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::snapshot::Snapshot;
use crate::registry::Digest;

/// Blobs by digest, with their sizes.
pub type Blobs = BTreeMap<Digest, u64>;

/// The sum of sizes the registry declared, saturating (a hostile size cannot wrap it).
pub fn total_of<'a>(sizes: impl IntoIterator<Item = &'a u64>) -> u64 {
    sizes.into_iter().fold(0, |a, b| a.saturating_add(*b))
}

/// Every blob referenced by the manifests of `snapshot`, except those in `without`.
pub fn referenced(snapshot: &Snapshot, without: &BTreeSet<Digest>) -> Blobs {
    snapshot
        .manifests
        .iter()
        .filter(|(digest, _)| !without.contains(*digest))
        .flat_map(|(digest, node)| node.blobs(digest))
        .collect()
}

/// One repository's share of the space.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RepositoryUsage {
    /// The repository.
    pub repository: String,
    /// Its tags.
    pub tags: usize,
    /// The distinct manifests its tags point at.
    pub images: usize,
    /// Bytes its manifests reference, each blob once.
    pub bytes: u64,
    /// Of those, bytes no other repository of the scan references.
    pub unique_bytes: u64,
    /// Of those, bytes another repository of the scan references too.
    pub shared_bytes: u64,
}

/// One tagged image's share of the space.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ImageUsage {
    /// The repository.
    pub repository: String,
    /// The manifest the tags point at.
    pub digest: Digest,
    /// Its tags.
    pub tags: Vec<String>,
    /// Bytes it references (an index with its children), each blob once.
    pub bytes: u64,
    /// Of those, bytes no other image of the scan references.
    pub unique_bytes: u64,
}

/// The space of each repository of `snapshots`, and of all of them together
/// (each blob counted once across the scan).
pub fn usage(snapshots: &[Snapshot]) -> (Vec<RepositoryUsage>, u64) {
    let none = BTreeSet::new();
    let per_repository: Vec<Blobs> = snapshots.iter().map(|s| referenced(s, &none)).collect();
    let mut users: HashMap<&Digest, usize> = HashMap::new();
    for blobs in &per_repository {
        for digest in blobs.keys() {
            *users.entry(digest).or_default() += 1;
        }
    }
    let total: Blobs = per_repository
        .iter()
        .flatten()
        .map(|(d, s)| (d.clone(), *s))
        .collect();
    let rows = snapshots
        .iter()
        .zip(&per_repository)
        .map(|(snapshot, blobs)| {
            let bytes = total_of(blobs.values());
            let unique_bytes = total_of(
                blobs
                    .iter()
                    .filter(|(d, _)| users.get(d).copied() == Some(1))
                    .map(|(_, s)| s),
            );
            RepositoryUsage {
                repository: snapshot.repository.clone(),
                tags: snapshot.tags.len(),
                images: snapshot.tags.values().collect::<BTreeSet<_>>().len(),
                bytes,
                unique_bytes,
                shared_bytes: bytes - unique_bytes,
            }
        })
        .collect();
    (rows, total_of(total.values()))
}

/// The space of each tagged image of `snapshots` (an index with its children).
pub fn image_usage(snapshots: &[Snapshot]) -> Vec<ImageUsage> {
    let mut images: Vec<(ImageUsage, Blobs)> = Vec::new();
    for snapshot in snapshots {
        for (digest, tags) in snapshot.tags_by_digest() {
            let mut tags = tags;
            tags.sort();
            let blobs = image_blobs(snapshot, &digest);
            images.push((
                ImageUsage {
                    repository: snapshot.repository.clone(),
                    bytes: total_of(blobs.values()),
                    digest,
                    tags,
                    unique_bytes: 0,
                },
                blobs,
            ));
        }
    }
    let mut users: HashMap<Digest, usize> = HashMap::new();
    for (_, blobs) in &images {
        for digest in blobs.keys() {
            *users.entry(digest.clone()).or_default() += 1;
        }
    }
    let mut rows: Vec<ImageUsage> = images
        .into_iter()
        .map(|(mut row, blobs)| {
            row.unique_bytes = total_of(
                blobs
                    .iter()
                    .filter(|(d, _)| users.get(*d).copied() == Some(1))
                    .map(|(_, s)| s),
            );
            row
        })
        .collect();
    rows.sort_by(|a, b| (&a.repository, &a.tags).cmp(&(&b.repository, &b.tags)));
    rows
}

/// The blobs of the manifest `digest` and, for an index, of its children, recursively.
fn image_blobs(snapshot: &Snapshot, digest: &Digest) -> Blobs {
    let mut blobs = Blobs::new();
    let mut pending = vec![digest.clone()];
    let mut seen = BTreeSet::new();
    while let Some(d) = pending.pop() {
        if !seen.insert(d.clone()) {
            continue;
        }
        if let Some(node) = snapshot.manifests.get(&d) {
            blobs.extend(node.blobs(&d));
            pending.extend(node.children.iter().cloned());
        }
    }
    blobs
}

#[cfg(test)]
mod tests {

    use super::*;

    use crate::graph::testing::image;

    #[test]
    fn each_blob_counts_once_and_shared_blobs_are_not_unique() {
        let (mut a, mut b) = (Snapshot::new("a"), Snapshot::new("b"));
        let (_, x) = image(&mut a, "x", &[("l1", 100), ("l2", 50)]);
        let (_, y) = image(&mut a, "y", &[("l1", 100), ("l3", 30)]);
        let (_, z) = image(&mut b, "z", &[("l2", 50), ("l4", 10)]);
        let (rows, total) = usage(&[a, b]);
        assert_eq!(rows[0].bytes, x + y + 7 + 7 + 100 + 50 + 30);
        assert_eq!(rows[0].unique_bytes, x + y + 7 + 7 + 100 + 30);
        assert_eq!(rows[0].shared_bytes, 50);
        assert_eq!((rows[0].tags, rows[0].images), (2, 2));
        assert_eq!(rows[1].bytes, z + 7 + 50 + 10);
        assert_eq!(rows[1].unique_bytes, z + 7 + 10);
        assert_eq!(total, x + y + z + 21 + 100 + 50 + 30 + 10);
    }

    #[test]
    fn an_image_of_two_repositories_is_unique_to_neither() {
        let (mut a, mut b) = (Snapshot::new("a"), Snapshot::new("b"));
        let (d, size) = image(&mut a, "x", &[("l1", 100)]);
        image(&mut b, "x", &[("l1", 100)]);
        let rows = image_usage(&[a, b]);
        assert_eq!(rows.len(), 2);
        assert!(rows
            .iter()
            .all(|r| r.digest == d && r.bytes == size + 107 && r.unique_bytes == 0));
    }
}
