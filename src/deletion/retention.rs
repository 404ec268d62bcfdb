//! `prune`'s rules, decided per image (a distinct tagged manifest that is not an
//! attachment), never per tag: a tag goes only when its image goes.

use std::time::Duration;

use regex::Regex;
use time::OffsetDateTime;

use crate::graph::{Created, Snapshot, Undated};
use crate::registry::Digest;

/// What to keep.
#[derive(Clone, Debug, Default)]
pub struct Rules {
    /// Keep the newest N images (among those the name rules select).
    pub keep: Option<usize>,
    /// Delete only images older than this.
    pub older_than: Option<Duration>,
    /// Only images all of whose tags match are considered.
    pub match_tags: Option<Regex>,
    /// Images with a tag matching this are never considered.
    pub exclude_tags: Option<Regex>,
}

/// Why an image stays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeepReason {
    /// Among the newest N.
    Newest(usize),
    /// Newer than the age limit.
    NewerThan(Duration),
    /// This tag of it does not match `--match`.
    NotMatched(String),
    /// This tag of it matches `--exclude`.
    Excluded(String),
    /// Its creation time is not known.
    Undated(Undated),
    /// One of its tags makes it an attachment (a signature, say) of this
    /// manifest, which is there: it follows that manifest, not the rules.
    AttachedTo(Digest),
}

/// Why an image goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeleteReason {
    /// Not among the newest N.
    NotAmongNewest(usize),
    /// Older than the age limit.
    OlderThan(Duration),
}

/// The verdict on one image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// It stays, with all its tags.
    Keep(KeepReason),
    /// It goes, with all its tags.
    Delete(DeleteReason),
}

/// One image and the verdict on it.
#[derive(Clone, Debug)]
pub struct ImageDecision {
    /// The image's manifest.
    pub digest: Digest,
    /// Its tags, sorted.
    pub tags: Vec<String>,
    /// When it was made.
    pub created: Created,
    /// Keep or delete, and why.
    pub verdict: Verdict,
}

/// The verdict on every image of `snapshot` (attachments are not images: they
/// follow their subject). Images are ranked newest first; equal times are ordered
/// by their greatest tag name, the later name counting as newer.
pub fn decide(snapshot: &Snapshot, rules: &Rules, now: OffsetDateTime) -> Vec<ImageDecision> {
    let mut decisions = Vec::new();
    let mut candidates: Vec<(Digest, Vec<String>, OffsetDateTime)> = Vec::new();
    let mut by_digest: Vec<(Digest, Vec<String>)> = snapshot.tags_by_digest().into_iter().collect();
    by_digest.sort();
    for (digest, tags) in by_digest {
        if snapshot.subject_of_tagged(&digest, &tags).is_some() {
            continue;
        }
        // A date that cannot be true decides nothing: the image is undated.
        let created = snapshot
            .created
            .get(&digest)
            .cloned()
            .unwrap_or(Created::Unknown(Undated::UnreadableManifest))
            .plausible(now);
        let keep = |reason| ImageDecision {
            digest: digest.clone(),
            tags: tags.clone(),
            created: created.clone(),
            verdict: Verdict::Keep(reason),
        };
        let unmatched = rules
            .match_tags
            .as_ref()
            .and_then(|re| tags.iter().find(|t| !re.is_match(t)));
        let excluded = rules
            .exclude_tags
            .as_ref()
            .and_then(|re| tags.iter().find(|t| re.is_match(t)));
        let attached_to = tags.iter().find_map(|t| {
            snapshot
                .attachment_tag(t)
                .map(|(subject, _)| subject)
                .filter(|s| snapshot.manifests.contains_key(s))
        });
        if let Some(subject) = attached_to {
            decisions.push(keep(KeepReason::AttachedTo(subject)));
        } else if let Some(tag) = unmatched {
            decisions.push(keep(KeepReason::NotMatched(tag.clone())));
        } else if let Some(tag) = excluded {
            decisions.push(keep(KeepReason::Excluded(tag.clone())));
        } else {
            match &created {
                Created::At(when) => candidates.push((digest.clone(), tags, *when)),
                Created::Unknown(why) => decisions.push(keep(KeepReason::Undated(why.clone()))),
            }
        }
    }
    candidates.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| b.1.last().cmp(&a.1.last())));
    for (rank, (digest, tags, when)) in candidates.into_iter().enumerate() {
        let age = now - when;
        let verdict = match (rules.keep, rules.older_than) {
            (Some(keep), _) if rank < keep => Verdict::Keep(KeepReason::Newest(keep)),
            (_, Some(limit)) if age < limit => Verdict::Keep(KeepReason::NewerThan(limit)),
            (_, Some(limit)) => Verdict::Delete(DeleteReason::OlderThan(limit)),
            (Some(keep), None) => Verdict::Delete(DeleteReason::NotAmongNewest(keep)),
            // A usage error for the command; here, keep everything.
            (None, None) => Verdict::Keep(KeepReason::Newest(usize::MAX)),
        };
        decisions.push(ImageDecision {
            digest,
            tags,
            created: Created::At(when),
            verdict,
        });
    }
    decisions.sort_by(|a, b| a.tags.first().cmp(&b.tags.first()));
    decisions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{fallback_tag_for, Node};
    use std::sync::Arc;

    const BASE: OffsetDateTime = time::macros::datetime!(2024-01-01 0:00 UTC);

    fn at(day: i64) -> Created {
        Created::At(BASE + time::Duration::days(day))
    }

    /// Images with (tags, created); each also signed.
    fn repo(images: &[(&[&str], Created)]) -> Snapshot {
        let mut s = Snapshot::new("app");
        for (i, (tags, created)) in images.iter().enumerate() {
            let d = Digest::sha256_of(format!("image {i}").as_bytes());
            s.manifests.insert(
                d.clone(),
                Node::from_bytes(
                    crate::registry::media::OCI_MANIFEST,
                    Arc::from(&b"{\"schemaVersion\":2}"[..]),
                ),
            );
            for t in *tags {
                s.tags.insert(t.to_string(), d.clone());
            }
            s.created.insert(d.clone(), created.clone());
            let sig = Digest::sha256_of(format!("sig {i}").as_bytes());
            s.tags.insert(format!("{}.sig", fallback_tag_for(&d)), sig);
        }
        s
    }

    fn verdicts(s: &Snapshot, rules: &Rules) -> Vec<(Vec<String>, Verdict)> {
        decide(s, rules, BASE + time::Duration::days(100))
            .into_iter()
            .map(|d| (d.tags, d.verdict))
            .collect()
    }

    #[test]
    fn keep_counts_images_and_never_signatures() {
        let s = repo(&[
            (&["v1"], at(1)),
            (&["v2", "latest"], at(2)),
            (&["v3"], at(3)),
        ]);
        let rules = Rules {
            keep: Some(2),
            ..Rules::default()
        };
        assert_eq!(
            verdicts(&s, &rules),
            vec![
                (
                    vec!["latest".into(), "v2".into()],
                    Verdict::Keep(KeepReason::Newest(2))
                ),
                (
                    vec!["v1".into()],
                    Verdict::Delete(DeleteReason::NotAmongNewest(2))
                ),
                (vec!["v3".into()], Verdict::Keep(KeepReason::Newest(2))),
            ]
        );
    }

    #[test]
    fn an_image_with_an_unselected_tag_is_kept_whole() {
        let s = repo(&[(&["v1", "stable"], at(1)), (&["v2"], at(2))]);
        let rules = Rules {
            keep: Some(0),
            match_tags: Some(Regex::new("^v").unwrap()),
            ..Rules::default()
        };
        assert_eq!(
            verdicts(&s, &rules),
            vec![
                (
                    vec!["stable".into(), "v1".into()],
                    Verdict::Keep(KeepReason::NotMatched("stable".into()))
                ),
                (
                    vec!["v2".into()],
                    Verdict::Delete(DeleteReason::NotAmongNewest(0))
                ),
            ]
        );
    }

    #[test]
    fn equal_times_are_ranked_by_tag_name_and_undated_images_kept() {
        let s = repo(&[
            (&["a"], at(1)),
            (&["b"], at(1)),
            (&["c"], Created::Unknown(Undated::ConfigNotJson)),
        ]);
        let rules = Rules {
            keep: Some(1),
            older_than: Some(Duration::from_secs(86_400)),
            ..Rules::default()
        };
        assert_eq!(
            verdicts(&s, &rules),
            vec![
                (
                    vec!["a".into()],
                    Verdict::Delete(DeleteReason::OlderThan(Duration::from_secs(86_400)))
                ),
                (vec!["b".into()], Verdict::Keep(KeepReason::Newest(1))),
                (
                    vec!["c".into()],
                    Verdict::Keep(KeepReason::Undated(Undated::ConfigNotJson))
                ),
            ]
        );
    }

    /// Reproducible builds date their images 1970 (1980 for buildpacks); anyone
    /// who can push can date images in the future. Neither decides: such images
    /// are kept by `--older-than` and never take a place among the newest.
    #[test]
    fn dates_that_cannot_be_true_make_an_image_undated() {
        let epoch = Created::At(OffsetDateTime::UNIX_EPOCH);
        let buildpacks = Created::At(time::macros::datetime!(1980-01-01 0:00:01 UTC));
        let future = at(100 + 2);
        let s = repo(&[
            (&["latest"], epoch),
            (&["bp"], buildpacks),
            (&["f1"], future.clone()),
            (&["f2"], at(100 + 3)),
            (&["real"], at(50)),
            (&["old"], at(1)),
        ]);
        let rules = Rules {
            keep: Some(1),
            older_than: Some(Duration::from_secs(30 * 86_400)),
            ..Rules::default()
        };
        let got = verdicts(&s, &rules);
        let verdict = |tag: &str| {
            got.iter()
                .find(|(tags, _)| tags.iter().any(|t| t == tag))
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        for tag in ["latest", "bp", "f1", "f2"] {
            assert!(
                matches!(
                    verdict(tag),
                    Verdict::Keep(KeepReason::Undated(Undated::ImplausibleDate(_)))
                ),
                "{tag}: {:?}",
                verdict(tag)
            );
        }
        // The future images take no place among the newest: `real` is the newest.
        assert_eq!(verdict("real"), Verdict::Keep(KeepReason::Newest(1)));
        assert_eq!(
            verdict("old"),
            Verdict::Delete(DeleteReason::OlderThan(Duration::from_secs(30 * 86_400)))
        );
        // Within a day ahead of the clock is clock drift, not a lie.
        let drift = Created::At(BASE + time::Duration::days(100) + time::Duration::hours(20));
        assert_eq!(
            drift.clone().plausible(BASE + time::Duration::days(100)),
            drift
        );
    }
}
