//! `prune`'s rules, decided per image (a distinct tagged manifest that is not an
//! attachment), never per tag: a tag goes only when its image goes. Images are
//! ranked within their group (`--group`), by date or by their greatest semver
//! tag (`--order`); what a protection list names, and images with a tag that
//! `--keep-tags` matches, stay whatever the ranking says.

use std::collections::HashMap;
use std::time::Duration;

use regex::Regex;
use time::OffsetDateTime;

use crate::graph::{Created, Snapshot, Undated};
use crate::registry::Digest;

/// How images are ranked, newest first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// By creation time.
    #[default]
    Date,
    /// By the greatest semver tag; images without one after them, by date.
    Semver,
}

/// What one repository's protection lists name: tags and digests, each with
/// where it was named (`FILE: Kind/namespace/name`).
#[derive(Clone, Debug, Default)]
pub struct Protected {
    /// Tags of this repository.
    pub tags: HashMap<String, String>,
    /// Manifests of this repository (an image, an index, a platform's manifest).
    pub digests: HashMap<Digest, String>,
}

impl Protected {
    /// True when nothing is protected.
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty() && self.digests.is_empty()
    }
}

/// What to keep.
#[derive(Clone, Debug, Default)]
pub struct Rules {
    /// Keep the newest N images of each group (among those the name rules select).
    pub keep: Option<usize>,
    /// Delete only images older than this.
    pub older_than: Option<Duration>,
    /// Only images all of whose tags match are considered.
    pub match_tags: Option<Regex>,
    /// Images with a tag matching this are never considered.
    pub exclude_tags: Option<Regex>,
    /// Images with a tag matching this are kept, outside the count.
    pub keep_tags: Option<Regex>,
    /// The group of an image: the first capture group (else the whole match) of
    /// the first of its tags that matches; images with no such tag form one group.
    pub group: Option<Regex>,
    /// How images are ranked.
    pub order: Order,
    /// What must stay, whatever the rules say.
    pub protected: Protected,
}

/// Why an image stays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeepReason {
    /// Among the newest N (of its group).
    Newest(usize),
    /// Newer than the age limit.
    NewerThan(Duration),
    /// This tag of it does not match `--match`.
    NotMatched(String),
    /// This tag of it matches `--exclude`.
    Excluded(String),
    /// This tag of it matches `--keep-tags`.
    KeepTag(String),
    /// A protection list names it (or its index, or one of its platforms):
    /// where.
    Protected(String),
    /// It is a platform of this tagged index (with a tag of its own, as
    /// `v2.0.0-amd64`): it follows the index, never ranked as an image.
    PlatformOf(Digest),
    /// Its creation time is not known.
    Undated(Undated),
    /// One of its tags makes it an attachment (a signature, say) of this
    /// manifest, which is there: it follows that manifest, not the rules.
    AttachedTo(Digest),
}

/// Why an image goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeleteReason {
    /// Not among the newest N (of its group).
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
    /// Its group, with `--group` (none: the group of images no tag puts in one).
    pub group: Option<String>,
    /// Its greatest semver tag, with `--order semver`.
    pub semver: Option<String>,
    /// The order it was ranked in.
    pub order: Order,
    /// Keep or delete, and why.
    pub verdict: Verdict,
}

/// An image still to be ranked.
struct Candidate {
    digest: Digest,
    tags: Vec<String>,
    created: Created,
    group: Option<String>,
    semver: Option<(semver::Version, String)>,
}

/// The verdict on every image of `snapshot` (attachments are not images: they
/// follow their subject). Within each group, images are ranked newest first: by
/// date (equal times ordered by their greatest tag name, the later name counting
/// as newer), or with `Order::Semver` by their greatest semver tag, those
/// without one after them by date.
pub fn decide(snapshot: &Snapshot, rules: &Rules, now: OffsetDateTime) -> Vec<ImageDecision> {
    let mut decisions = Vec::new();
    let mut groups: HashMap<Option<String>, Vec<Candidate>> = HashMap::new();
    let tags_by_digest = snapshot.tags_by_digest();
    let parents = snapshot.parents_by_child();
    let mut by_digest: Vec<(Digest, Vec<String>)> = tags_by_digest.clone().into_iter().collect();
    by_digest.sort();
    for (digest, tags) in by_digest {
        if snapshot.subject_of_tagged(&digest, &tags).is_some() {
            continue;
        }
        let tagged_index = tagged_ancestor(&digest, &parents, &tags_by_digest);
        // A date that cannot be true decides nothing: the image is undated.
        let created = snapshot
            .created
            .get(&digest)
            .cloned()
            .unwrap_or(Created::Unknown(Undated::UnreadableManifest))
            .plausible(now);
        let candidate = Candidate {
            group: rules.group.as_ref().and_then(|re| group_of(re, &tags)),
            semver: (rules.order == Order::Semver)
                .then(|| greatest_semver(&tags))
                .flatten(),
            digest,
            tags,
            created,
        };
        let set_aside = match tagged_index {
            Some(index) => Some(KeepReason::PlatformOf(index)),
            None => set_aside(snapshot, rules, &candidate),
        };
        match set_aside {
            Some(reason) => decisions.push(candidate.decided(Verdict::Keep(reason))),
            None => groups
                .entry(candidate.group.clone())
                .or_default()
                .push(candidate),
        }
    }
    for (_, mut candidates) in groups {
        candidates.sort_by(|a, b| rank(b, a));
        let mut rank = 0;
        for candidate in candidates {
            let verdict = verdict(rules, &candidate, &mut rank, now);
            decisions.push(candidate.decided(verdict));
        }
    }
    for decision in &mut decisions {
        decision.order = rules.order;
    }
    decisions.sort_by(|a, b| a.tags.first().cmp(&b.tags.first()));
    decisions
}

impl Candidate {
    fn decided(self, verdict: Verdict) -> ImageDecision {
        ImageDecision {
            digest: self.digest,
            tags: self.tags,
            created: self.created,
            group: self.group,
            semver: self.semver.map(|(_, tag)| tag),
            order: Order::Date,
            verdict,
        }
    }

    fn date(&self) -> Option<OffsetDateTime> {
        match self.created {
            Created::At(when) => Some(when),
            Created::Unknown(_) => None,
        }
    }
}

/// A tagged index that lists `digest`, directly or through nested indexes.
fn tagged_ancestor(
    digest: &Digest,
    parents: &HashMap<Digest, Vec<Digest>>,
    tagged: &HashMap<Digest, Vec<String>>,
) -> Option<Digest> {
    let mut stack: Vec<&Digest> = parents.get(digest).into_iter().flatten().collect();
    let mut seen = std::collections::HashSet::new();
    while let Some(next) = stack.pop() {
        if !seen.insert(next) {
            continue;
        }
        if tagged.contains_key(next) {
            return Some(next.clone());
        }
        stack.extend(parents.get(next).into_iter().flatten());
    }
    None
}

/// Why an image is kept before any ranking, if it is.
fn set_aside(snapshot: &Snapshot, rules: &Rules, image: &Candidate) -> Option<KeepReason> {
    let tags = &image.tags;
    let attached_to = tags.iter().find_map(|t| {
        snapshot
            .attachment_tag(t)
            .map(|(subject, _)| subject)
            .filter(|s| snapshot.manifests.contains_key(s))
    });
    if let Some(subject) = attached_to {
        return Some(KeepReason::AttachedTo(subject));
    }
    if let Some(source) = protected_by(snapshot, &rules.protected, &image.digest, tags) {
        return Some(KeepReason::Protected(source));
    }
    let first = |re: &Option<Regex>, matching: bool| {
        re.as_ref()
            .and_then(|re| tags.iter().find(|t| re.is_match(t) == matching))
            .cloned()
    };
    if let Some(tag) = first(&rules.keep_tags, true) {
        return Some(KeepReason::KeepTag(tag));
    }
    if let Some(tag) = first(&rules.match_tags, false) {
        return Some(KeepReason::NotMatched(tag));
    }
    if let Some(tag) = first(&rules.exclude_tags, true) {
        return Some(KeepReason::Excluded(tag));
    }
    // Ranked by semver, an undated image with a semver tag still has a place.
    match (&image.created, &image.semver) {
        (Created::Unknown(why), None) => Some(KeepReason::Undated(why.clone())),
        _ => None,
    }
}

/// Where a protection list names the image: one of its tags, its digest, or a
/// manifest it holds (an index's platform, as a pod's `imageID` names it).
fn protected_by(
    snapshot: &Snapshot,
    protected: &Protected,
    digest: &Digest,
    tags: &[String],
) -> Option<String> {
    if protected.is_empty() {
        return None;
    }
    if let Some(source) = tags.iter().find_map(|t| protected.tags.get(t)) {
        return Some(source.clone());
    }
    let mut stack = vec![digest.clone()];
    let mut seen = std::collections::HashSet::new();
    while let Some(next) = stack.pop() {
        if !seen.insert(next.clone()) {
            continue;
        }
        if let Some(source) = protected.digests.get(&next) {
            return Some(source.clone());
        }
        if let Some(node) = snapshot.manifests.get(&next) {
            stack.extend(node.children.iter().cloned());
        }
    }
    None
}

/// Newer first: `a` against `b`.
fn rank(a: &Candidate, b: &Candidate) -> std::cmp::Ordering {
    let semver = |c: &Candidate| c.semver.as_ref().map(|(v, _)| v.clone());
    semver(a)
        .is_some()
        .cmp(&semver(b).is_some())
        .then_with(|| semver(a).cmp(&semver(b)))
        .then_with(|| a.date().cmp(&b.date()))
        .then_with(|| a.tags.last().cmp(&b.tags.last()))
}

/// The verdict on the next image of a group, `rank` images having come before.
fn verdict(rules: &Rules, image: &Candidate, rank: &mut usize, now: OffsetDateTime) -> Verdict {
    let place = *rank;
    *rank += 1;
    match (rules.keep, rules.older_than, image.date()) {
        (Some(keep), _, _) if place < keep => Verdict::Keep(KeepReason::Newest(keep)),
        (_, Some(limit), Some(when)) if now - when < limit => {
            Verdict::Keep(KeepReason::NewerThan(limit))
        }
        (_, Some(limit), Some(_)) => Verdict::Delete(DeleteReason::OlderThan(limit)),
        // Ranked by semver but with no date: the age limit cannot be told.
        (_, Some(_), None) => Verdict::Keep(KeepReason::Undated(match &image.created {
            Created::Unknown(why) => why.clone(),
            Created::At(_) => Undated::NoCreatedField,
        })),
        (Some(keep), None, _) => Verdict::Delete(DeleteReason::NotAmongNewest(keep)),
        // A usage error for the command; here, keep everything.
        (None, None, _) => Verdict::Keep(KeepReason::Newest(usize::MAX)),
    }
}

/// The group `re` puts an image with `tags` in: its first capture group (else
/// the whole match) on the first tag that matches.
fn group_of(re: &Regex, tags: &[String]) -> Option<String> {
    tags.iter().find_map(|t| {
        let captures = re.captures(t)?;
        captures
            .get(1)
            .or_else(|| captures.get(0))
            .map(|m| m.as_str().to_string())
    })
}

/// The greatest of `tags` read as semver (`v` prefix allowed, build metadata
/// ignored), with the tag.
pub fn greatest_semver(tags: &[String]) -> Option<(semver::Version, String)> {
    tags.iter()
        .filter_map(|t| {
            let mut version = semver::Version::parse(t.strip_prefix('v').unwrap_or(t)).ok()?;
            version.build = semver::BuildMetadata::EMPTY;
            Some((version, t.clone()))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
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

    fn kept(s: &Snapshot, rules: &Rules) -> Vec<String> {
        let mut kept: Vec<String> = verdicts(s, rules)
            .into_iter()
            .filter(|(_, v)| matches!(v, Verdict::Keep(_)))
            .map(|(tags, _)| tags.join(","))
            .collect();
        kept.sort();
        kept
    }

    #[test]
    fn keep_applies_within_each_group_and_ungrouped_images_form_one() {
        let s = repo(&[
            (&["v1.2.1"], at(1)),
            (&["v1.2.2"], at(2)),
            (&["v1.3.0"], at(3)),
            (&["v1.3.1"], at(4)),
            (&["dev-a"], at(5)),
            (&["dev-b"], at(6)),
        ]);
        let rules = Rules {
            keep: Some(1),
            group: Some(Regex::new(r"^v(\d+\.\d+)\.").unwrap()),
            ..Rules::default()
        };
        assert_eq!(kept(&s, &rules), ["dev-b", "v1.2.2", "v1.3.1"]);
        let groups: Vec<Option<String>> = decide(&s, &rules, BASE)
            .into_iter()
            .map(|d| d.group)
            .collect();
        assert!(groups.contains(&Some("1.2".into())) && groups.contains(&None));
    }

    #[test]
    fn semver_order_puts_prereleases_below_releases_and_the_rest_after_by_date() {
        let s = repo(&[
            (&["v1.10.0"], at(1)),
            (&["v1.9.0"], at(3)),
            (&["v2.0.0-rc.1"], at(4)),
            (&["2.0.0"], at(2)),
            (&["nightly"], at(9)),
            (
                &["v3.0.0", "latest"],
                Created::Unknown(Undated::NoCreatedField),
            ),
        ]);
        let rules = Rules {
            keep: Some(3),
            order: Order::Semver,
            ..Rules::default()
        };
        // An undated image with a semver tag still ranks; the newest by date
        // without one ranks after every semver image.
        assert_eq!(kept(&s, &rules), ["2.0.0", "latest,v3.0.0", "v2.0.0-rc.1"]);
        let decisions = decide(&s, &rules, BASE + time::Duration::days(100));
        let nightly = decisions.iter().find(|d| d.tags == ["nightly"]).unwrap();
        assert_eq!(
            (nightly.semver.as_deref(), nightly.order),
            (None, Order::Semver)
        );
        assert_eq!(
            nightly.verdict,
            Verdict::Delete(DeleteReason::NotAmongNewest(3))
        );
    }

    #[test]
    fn protected_tags_digests_and_platforms_and_keep_tags_stay_outside_the_count() {
        let mut s = repo(&[
            (&["v1"], at(1)),
            (&["v2"], at(2)),
            (&["stable"], at(3)),
            (&["v4"], at(4)),
        ]);
        // v1 is an index whose platform a pod status names.
        let child = Digest::sha256_of(b"platform");
        let v1 = s.tags["v1"].clone();
        s.manifests
            .get_mut(&v1)
            .unwrap()
            .children
            .push(child.clone());
        let mut protected = Protected::default();
        protected.digests.insert(child, "pods.json: Pod/web".into());
        protected.tags.insert("v2".into(), "list: line 1".into());
        let rules = Rules {
            keep: Some(0),
            keep_tags: Some(Regex::new("^stable$").unwrap()),
            protected,
            ..Rules::default()
        };
        let got = verdicts(&s, &rules);
        assert_eq!(
            got[0],
            (
                vec!["stable".into()],
                Verdict::Keep(KeepReason::KeepTag("stable".into()))
            )
        );
        assert_eq!(
            got[1],
            (
                vec!["v1".into()],
                Verdict::Keep(KeepReason::Protected("pods.json: Pod/web".into()))
            )
        );
        assert_eq!(
            got[2],
            (
                vec!["v2".into()],
                Verdict::Keep(KeepReason::Protected("list: line 1".into()))
            )
        );
        assert_eq!(
            got[3],
            (
                vec!["v4".into()],
                Verdict::Delete(DeleteReason::NotAmongNewest(0))
            )
        );
    }

    #[test]
    fn a_tagged_platform_of_a_tagged_index_is_not_an_image_of_its_own() {
        let mut s = repo(&[
            (&["v2.0.0"], at(2)),
            (&["v2.0.0-amd64"], at(2)),
            (&["v1.9.0"], at(1)),
        ]);
        let (index, child) = (s.tags["v2.0.0"].clone(), s.tags["v2.0.0-amd64"].clone());
        s.manifests.get_mut(&index).unwrap().children.push(child);
        let rules = Rules {
            keep: Some(2),
            order: Order::Semver,
            ..Rules::default()
        };
        let got = verdicts(&s, &rules);
        assert_eq!(
            got[2],
            (
                vec!["v2.0.0-amd64".into()],
                Verdict::Keep(KeepReason::PlatformOf(index))
            )
        );
        assert_eq!(kept(&s, &rules), ["v1.9.0", "v2.0.0", "v2.0.0-amd64"]);
    }
}
