//! The rows `rm` and `prune` print: what a plan does, and what became of each action.

use anyhow::Result;
use serde::Serialize;

use crate::deletion::{Action, ActionReport, Cause, Change, Outcome, Plan};
use crate::graph::AttachmentKind;
use crate::output::{human_bytes, Format, Row};
use crate::registry::Digest;

/// What a plan line does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionKind {
    /// Delete a manifest by digest.
    DeleteManifest,
    /// Remove one tag, keep the manifest.
    RemoveTag,
    /// Remove a tag whose manifest is missing.
    RemoveDanglingTag,
    /// Re-push a referrers fallback index without deleted entries.
    RewriteReferrersIndex,
    /// Put back a tag a change took against the plan.
    RestoreTag,
    /// Read the tag list after the changes (never planned; reported when the
    /// read fails).
    CheckTagList,
}

impl ActionKind {
    /// The action of `action`.
    pub fn of(action: &Action) -> ActionKind {
        match action {
            Action::DeleteManifest { .. } => ActionKind::DeleteManifest,
            Action::RemoveTag { .. } => ActionKind::RemoveTag,
            Action::RemoveDanglingTag { .. } => ActionKind::RemoveDanglingTag,
            Action::RewriteReferrersIndex { .. } => ActionKind::RewriteReferrersIndex,
            Action::RestoreTag { .. } => ActionKind::RestoreTag,
            Action::CheckTagList => ActionKind::CheckTagList,
        }
    }

    /// The word printed for it.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::DeleteManifest => "delete-manifest",
            ActionKind::RemoveTag => "remove-tag",
            ActionKind::RemoveDanglingTag => "remove-dangling-tag",
            ActionKind::RewriteReferrersIndex => "rewrite-referrers-index",
            ActionKind::RestoreTag => "restore-tag",
            ActionKind::CheckTagList => "check-tag-list",
        }
    }
}

/// What became of a reference or an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutcomeKind {
    /// The manifest is deleted.
    Deleted,
    /// The tag is removed, the manifest kept.
    TagRemoved,
    /// The referrers index was re-pushed.
    Rewritten,
    /// A tag taken against the plan was put back.
    Restored,
    /// Someone else deleted it meanwhile.
    AlreadyGone,
    /// A tag the plan kept went meanwhile, by another client's change; left so.
    GoneMeanwhile,
    /// Left untouched: the registry changed after planning.
    Changed,
    /// Not started: interrupted before its turn.
    NotStarted,
    /// Not sent: the registry refused a change as unsupported earlier in the
    /// run (it went read-only), so nothing more was sent to it.
    NotAttempted,
    /// It failed.
    Failed,
    /// The reference does not exist.
    Missing,
    /// Not done, for the reason given.
    Refused,
}

impl OutcomeKind {
    /// The word printed for it.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Deleted => "deleted",
            OutcomeKind::TagRemoved => "tag-removed",
            OutcomeKind::Rewritten => "rewritten",
            OutcomeKind::Restored => "restored",
            OutcomeKind::AlreadyGone => "already-gone",
            OutcomeKind::GoneMeanwhile => "gone-meanwhile",
            OutcomeKind::Changed => "changed",
            OutcomeKind::NotStarted => "not-started",
            OutcomeKind::NotAttempted => "not-attempted",
            OutcomeKind::Failed => "failed",
            OutcomeKind::Missing => "missing",
            OutcomeKind::Refused => "refused",
        }
    }

    /// True when it changed the registry as planned.
    pub fn removed_something(self) -> bool {
        matches!(self, OutcomeKind::Deleted | OutcomeKind::TagRemoved)
    }
}

/// Why a plan line is there, printed and serialised as a word: `named`,
/// `all-tags-removed`, `child`, `signature`, `attestation`, `sbom`, `referrer`,
/// `referrers-index`, `orphan-<kind>`, `empty-referrers-index`, `tag-only`,
/// `dangling`, `referrer-deleted`, `went-against-the-plan`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// A manifest named by digest, or a tag whose manifest goes.
    Named,
    /// Every tag of the manifest is removed, so it goes.
    AllTagsRemoved,
    /// A child of an index that goes.
    Child,
    /// An attachment of a manifest that goes, of this kind.
    Attachment(AttachmentKind),
    /// An attachment, of this kind, whose subject is gone.
    Orphan(AttachmentKind),
    /// A referrers fallback index left with no entries.
    EmptyReferrersIndex,
    /// A tag removed, its manifest kept.
    TagOnly,
    /// A tag whose manifest is missing.
    Dangling,
    /// A referrers fallback index rewritten without a deleted referrer.
    ReferrerDeleted,
    /// A tag the plan kept that went against it.
    WentAgainstThePlan,
    /// The check of the tag list after the changes.
    CheckAfterChanges,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::Named => f.write_str("named"),
            Reason::AllTagsRemoved => f.write_str("all-tags-removed"),
            Reason::Child => f.write_str("child"),
            Reason::Attachment(kind) => f.write_str(kind.word()),
            Reason::Orphan(kind) => write!(f, "orphan-{}", kind.word()),
            Reason::EmptyReferrersIndex => f.write_str("empty-referrers-index"),
            Reason::TagOnly => f.write_str("tag-only"),
            Reason::Dangling => f.write_str("dangling"),
            Reason::ReferrerDeleted => f.write_str("referrer-deleted"),
            Reason::WentAgainstThePlan => f.write_str("went-against-the-plan"),
            Reason::CheckAfterChanges => f.write_str("check-after-changes"),
        }
    }
}

impl Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A plan line: what happens to which reference, and why.
#[derive(Debug, Serialize)]
pub struct PlanRow {
    /// `registry/repo:tag` or `registry/repo@digest`.
    pub reference: String,
    /// What is done.
    pub action: ActionKind,
    /// The manifest concerned (none for a dangling tag: its manifest is missing).
    pub digest: Option<Digest>,
    /// Tags that disappear.
    pub tags_removed: Vec<String>,
    /// Tags on the same manifest that stay.
    pub tags_kept: Vec<String>,
    /// Why it is done.
    pub reason: Reason,
    /// The index or subject it belongs to, for children and attachments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub of: Option<Digest>,
    /// Bytes that no remaining manifest of the scan references once the plan is
    /// done (what the garbage collector frees); null when it deletes no manifest.
    pub bytes_freed: Option<u64>,
    /// `rm`: the references given that this row answers, exactly as typed (for a
    /// child or an attachment, those of what it belongs to).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given: Option<Vec<String>>,
}

impl PlanRow {
    /// The row for `action` in `repository` of `host` (bytes freed unknown).
    pub fn new(host: &str, repository: &str, action: &Action) -> PlanRow {
        let (reason, of) = match action {
            Action::DeleteManifest { cause, .. } => match cause {
                Cause::Named => (Reason::Named, None),
                Cause::AllTagsRemoved => (Reason::AllTagsRemoved, None),
                Cause::ChildOf(p) => (Reason::Child, Some(p.clone())),
                Cause::AttachmentOf(s, kind) => (Reason::Attachment(kind.clone()), Some(s.clone())),
                Cause::Orphan(s, kind) => (Reason::Orphan(kind.clone()), Some(s.clone())),
                Cause::EmptyReferrersIndex { subject, .. } => {
                    (Reason::EmptyReferrersIndex, Some(subject.clone()))
                }
            },
            Action::RemoveTag { .. } => (Reason::TagOnly, None),
            Action::RemoveDanglingTag { .. } => (Reason::Dangling, None),
            Action::RewriteReferrersIndex { .. } => (Reason::ReferrerDeleted, None),
            Action::RestoreTag { .. } => (Reason::WentAgainstThePlan, None),
            Action::CheckTagList => (Reason::CheckAfterChanges, None),
        };
        let (reference, tags_kept) = match action {
            Action::DeleteManifest { digest, .. } => {
                (format!("{host}/{repository}@{digest}"), Vec::new())
            }
            Action::RemoveTag { tag, keep, .. } => {
                (format!("{host}/{repository}:{tag}"), keep.clone())
            }
            Action::RewriteReferrersIndex { tag, .. }
            | Action::RestoreTag { tag, .. }
            | Action::RemoveDanglingTag { tag } => {
                (format!("{host}/{repository}:{tag}"), Vec::new())
            }
            Action::CheckTagList => (format!("{host}/{repository}"), Vec::new()),
        };
        PlanRow {
            reference,
            action: ActionKind::of(action),
            digest: action.digest().cloned(),
            tags_removed: action.tags_removed(),
            tags_kept,
            reason,
            of,
            bytes_freed: None,
            given: None,
        }
    }

    /// Why, in words: `child of sha256:…`, `signature of sha256:…`, `named`.
    pub fn why(&self) -> String {
        match &self.of {
            Some(of) if self.reason == Reason::Child => format!("child of {of}"),
            Some(of) => format!("{} of {of}", self.reason),
            None => self.reason.to_string(),
        }
    }
}

impl Row for PlanRow {
    fn headers(&self) -> Vec<&'static str> {
        vec![
            "ACTION",
            "REFERENCE",
            "WHY",
            "TAGS REMOVED",
            "TAGS KEPT",
            "FREES",
        ]
    }

    fn cells(&self) -> Vec<String> {
        let indent = if self.of.is_some() { "  " } else { "" };
        vec![
            format!("{indent}{}", self.action.as_str()),
            self.reference.clone(),
            self.why(),
            self.tags_removed.join(", "),
            self.tags_kept.join(", "),
            self.bytes_freed.map(human_bytes).unwrap_or_default(),
        ]
    }

    fn plain(&self) -> String {
        let mut line = format!("{} {}", self.action.as_str(), self.reference);
        match self.action {
            ActionKind::RemoveTag => {
                line += &format!(
                    " ({}; kept on it: {})",
                    digest_or_none(&self.digest),
                    join_or_none(&self.tags_kept)
                )
            }
            ActionKind::RemoveDanglingTag => {
                line += " (dangling: the registry lists it but serves no manifest for it)"
            }
            ActionKind::RewriteReferrersIndex => {
                line += &format!(" ({}; {})", digest_or_none(&self.digest), self.why())
            }
            _ => {
                line += &format!(
                    " ({}; tags removed: {}{})",
                    self.why(),
                    join_or_none(&self.tags_removed),
                    self.bytes_freed
                        .map(|b| format!("; frees {b} bytes"))
                        .unwrap_or_default()
                )
            }
        }
        line
    }
}

fn digest_or_none(digest: &Option<Digest>) -> String {
    digest
        .as_ref()
        .map_or_else(|| "none".into(), Digest::to_string)
}

fn join_or_none(tags: &[String]) -> String {
    if tags.is_empty() {
        "none".into()
    } else {
        tags.join(", ")
    }
}

/// Every plan's rows, in order, each with what `given` says it answers.
pub fn plan_rows(host: &str, plans: &[Plan], given: Given<'_>) -> Vec<PlanRow> {
    plans
        .iter()
        .flat_map(|p| {
            p.actions.iter().enumerate().map(move |(i, a)| PlanRow {
                bytes_freed: p.bytes_freed(i),
                given: given(&p.repository, a),
                ..PlanRow::new(host, &p.repository, a)
            })
        })
        .collect()
}

/// What became of one action, as printed.
#[derive(Debug, Serialize)]
pub struct OutcomeRow {
    /// The reference acted on.
    pub reference: String,
    /// What became of it.
    pub outcome: OutcomeKind,
    /// The manifest concerned, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<Digest>,
    /// Tags that are gone.
    pub tags_removed: Vec<String>,
    /// Why it was not done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `rm`: the references given that this row answers, exactly as typed (for a
    /// child or an attachment, those of what it belongs to).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given: Option<Vec<String>>,
    /// Already written to stdout as the run went (plain format): not again.
    #[serde(skip)]
    pub streamed: bool,
}

impl Row for OutcomeRow {
    fn headers(&self) -> Vec<&'static str> {
        vec!["OUTCOME", "REFERENCE", "TAGS REMOVED"]
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.outcome.as_str().to_string(),
            self.reference.clone(),
            self.tags_removed.join(", "),
        ]
    }

    fn plain(&self) -> String {
        match &self.error {
            Some(e) => format!("{} {}: {e}", self.outcome.as_str(), self.reference),
            None => format!(
                "{} {} (tags removed: {})",
                self.outcome.as_str(),
                self.reference,
                join_or_none(&self.tags_removed)
            ),
        }
    }
}

fn describe_change(change: &Change) -> String {
    match change {
        Change::TagsChanged { planned, now } => format!(
            "its tags changed since it was planned (planned: {}; now: {}); left untouched",
            join_or_none(planned),
            join_or_none(now)
        ),
        Change::TagMoved(Some(d)) => {
            format!("the tag moved to {d} since it was planned; left untouched")
        }
        Change::TagMoved(None) => "the tag is gone since it was planned; left untouched".into(),
        Change::NowReferenced(indexes) => format!(
            "an index references it now ({}); left untouched",
            indexes
                .iter()
                .map(Digest::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Change::ParentLeft(p) => format!("{p}, which it belongs to, was left in place; so is it"),
        Change::Unlisted => "the tag list no longer names this tag, kept by the plan, yet it still \
                             answers; the registry contradicts itself, so nothing was pushed"
            .into(),
        Change::UnverifiedTags(tags) => format!(
            "the registry now lists tags regctl cannot verify ({}); one may point at it, so it is left untouched",
            tags.iter().map(|t| crate::output::escape(t)).collect::<Vec<_>>().join(", ")
        ),
        Change::ListIncomplete(tags) => format!(
            "two reads of the tag list disagree: it leaves out {}, which still answer; with \
             an incomplete list any tag might be on it, so it is left untouched",
            crate::output::first_few(
                &tags.iter().map(|t| crate::output::escape(t)).collect::<Vec<_>>(),
                5
            )
        ),
        Change::NowAttached(referrer) => format!(
            "{referrer}, pushed since it was planned, is attached to it; left untouched"
        ),
    }
}

impl OutcomeRow {
    pub(super) fn new(host: &str, done: &ActionReport, given: Option<Vec<String>>) -> OutcomeRow {
        let row = PlanRow::new(host, &done.repository, &done.action);
        let (outcome, error): (OutcomeKind, Option<String>) = match &done.outcome {
            Outcome::Deleted => (OutcomeKind::Deleted, None),
            Outcome::TagRemoved(_) => (OutcomeKind::TagRemoved, None),
            Outcome::Rewritten => (OutcomeKind::Rewritten, None),
            Outcome::Restored => (
                OutcomeKind::Restored,
                Some(format!(
                    "this tag, which the plan kept, went while this run deleted manifests, \
                     although the registry said it pointed elsewhere; it was put back to {}",
                    digest_or_none(&row.digest)
                )),
            ),
            Outcome::GoneMeanwhile { with_manifest } => (
                OutcomeKind::GoneMeanwhile,
                Some(if *with_manifest {
                    "this tag, which the plan kept, went meanwhile with its manifest, which \
                     this run did not delete: another client deleted it; not pushed back"
                        .into()
                } else {
                    "this tag, which the plan kept, was removed or moved meanwhile, not by this run \
                     (another client); left as it is"
                        .into()
                }),
            ),
            Outcome::AlreadyGone => (OutcomeKind::AlreadyGone, None),
            Outcome::Changed(c) => (OutcomeKind::Changed, Some(describe_change(c))),
            Outcome::NotStarted => (OutcomeKind::NotStarted, None),
            Outcome::NotAttempted(halt) => (
                OutcomeKind::NotAttempted,
                Some(format!(
                    "not attempted: the registry refused a change earlier in this run, so \
                     nothing more was sent to it ({})",
                    halt.reason
                )),
            ),
            Outcome::Failed(e) => (OutcomeKind::Failed, Some(e.to_string())),
        };
        OutcomeRow {
            reference: row.reference,
            outcome,
            digest: row.digest,
            tags_removed: if done.outcome.is_done() {
                row.tags_removed
            } else {
                Vec::new()
            },
            error,
            given,
            streamed: false,
        }
    }
}

/// What the rows of one repository's actions answer (`rm`: the references
/// given), or nothing to say (`prune`).
pub type Given<'a> = &'a dyn Fn(&str, &Action) -> Option<Vec<String>>;

/// Writes `rows` to stdout in `format`, leaving out those already written as
/// the run went.
pub fn render_outcomes(format: Format, rows: &[OutcomeRow]) -> std::io::Result<()> {
    let rest: Vec<&OutcomeRow> = rows.iter().filter(|r| !r.streamed).collect();
    crate::output::render_data(format, &rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deletion::outcome::ActionError;
    use crate::registry::media::{MediaType, OCI_MANIFEST};
    use crate::registry::RegistryError;

    fn delete(cause: Cause) -> Action {
        Action::DeleteManifest {
            digest: Digest::sha256_of(b"m"),
            media_type: MediaType::parse(OCI_MANIFEST),
            tags: vec![],
            cause,
            forced: false,
            holders: vec![],
        }
    }

    #[test]
    fn reasons_are_written_as_the_words_scripts_read() {
        let s = Digest::sha256_of(b"s");
        let tag = |t: &str| t.to_string();
        let cases = [
            (delete(Cause::Named), "named"),
            (delete(Cause::AllTagsRemoved), "all-tags-removed"),
            (delete(Cause::ChildOf(s.clone())), "child"),
            (
                delete(Cause::AttachmentOf(s.clone(), AttachmentKind::Signature)),
                "signature",
            ),
            (
                delete(Cause::AttachmentOf(
                    s.clone(),
                    AttachmentKind::Referrer(Some("application/spdx+json".into())),
                )),
                "referrer",
            ),
            (
                delete(Cause::Orphan(s.clone(), AttachmentKind::Sbom)),
                "orphan-sbom",
            ),
            (
                delete(Cause::EmptyReferrersIndex {
                    subject: s.clone(),
                    dropped: vec![],
                }),
                "empty-referrers-index",
            ),
            (Action::RemoveDanglingTag { tag: tag("t") }, "dangling"),
            (
                Action::RestoreTag {
                    tag: tag("t"),
                    digest: s.clone(),
                },
                "went-against-the-plan",
            ),
        ];
        for (action, word) in cases {
            let row = PlanRow::new("r", "app", &action);
            let json = serde_json::to_value(&row).unwrap();
            assert_eq!(json["reason"], word, "{action:?}");
        }
        let row = PlanRow::new("r", "app", &delete(Cause::ChildOf(s.clone())));
        assert_eq!(row.why(), format!("child of {s}"));
    }

    #[test]
    fn a_tag_list_unreadable_after_the_changes_names_the_repository() {
        let done = ActionReport {
            repository: "app".into(),
            action: Action::CheckTagList,
            outcome: Outcome::Failed(ActionError::Registry(RegistryError::Config(
                "unreadable".into(),
            ))),
        };
        let row = OutcomeRow::new("r", &done, None);
        assert_eq!(row.reference, "r/app");
        assert_eq!(row.digest, None);
        assert_eq!(row.outcome, OutcomeKind::Failed);
    }
}
