//! The engine's state machines over a scripted in-memory registry: a tag
//! removal ([`Untag::run`], [`Untag::point_back`]), the run of a plan with its
//! fresh looks at the tag list, and the check of the tag list after the
//! changes ([`check_tag_list`], [`kept_tag_gone`]). Each race the integration
//! tests meet by chance is staged here exactly, once per path.
//!
//! [`Untag::run`]: super::untag::Untag::run
//! [`Untag::point_back`]: super::untag::Untag
//! [`check_tag_list`]: super::execute
//! [`kept_tag_gone`]: super::execute

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use super::execute::{execute, Observer};
use super::outcome::TagRemoval;
use super::outcome::{ActionError, ActionReport, Change, Outcome};
use super::plan::{plan, Action, Plan, Request};
use super::store::memory::{server_error, unsupported, Memory, Reply, Request as Call, State};
use super::untag::{Expect, Untag};
use crate::graph::{Node, Snapshot};
use crate::registry::media::OCI_MANIFEST;
use crate::registry::reference::ManifestRef;
use crate::registry::Digest;

/// An image manifest of its own, by name.
fn image(name: &str) -> Vec<u8> {
    let config = Digest::sha256_of(name.as_bytes());
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config.to_string(), "size": 1},
        "layers": [],
    }))
    .unwrap()
}

/// Pushes image `name` tagged `tags`; returns its digest.
fn push(s: &mut State, name: &str, tags: &[&str]) -> Digest {
    let digest = s.manifest(OCI_MANIFEST, &image(name));
    for tag in tags {
        s.tag(tag, &digest);
    }
    digest
}

/// The repository as the loader would read it (every tag resolves; the
/// untagged manifests as if named by digest).
fn snapshot(registry: &Memory) -> Snapshot {
    registry.with(|s| {
        let mut snapshot = Snapshot::new("app");
        for (digest, (media_type, bytes)) in &s.manifests {
            snapshot.manifests.insert(
                digest.clone(),
                Node::from_bytes(media_type, Arc::from(bytes.as_slice())),
            );
        }
        snapshot.tags = s.tags.clone();
        snapshot
    })
}

/// The plan removing `tags` (and deleting `digests`) from the repository now.
fn planned(registry: &Memory, tags: &[&str], digests: &[&Digest]) -> Plan {
    let request = Request {
        remove_tags: tags.iter().map(|t| t.to_string()).collect(),
        delete: digests.iter().map(|d| (*d).clone()).collect(),
        ..Request::default()
    };
    plan(&snapshot(registry), &request)
}

/// Runs `plans` to the end on `registry`.
async fn run(registry: &Memory, plans: Vec<Plan>) -> Vec<ActionReport> {
    let cancel = AtomicBool::new(false);
    let observer = Observer {
        action: &|_| {},
        repository: &|_| {},
    };
    execute(registry, plans, 1, &cancel, &observer).await
}

fn untag<'a>(registry: &'a Memory, tag: &'a str, keep: &'a [String]) -> Untag<'a, Memory> {
    Untag {
        registry,
        repository: "app",
        tag,
        oci: true,
        keep,
        in_index: false,
    }
}

fn deletes_tags(s: &mut State) {
    s.deletes_tags = true;
}

fn tag_pairs(registry: &Memory) -> Vec<(String, Digest)> {
    registry.tags().into_iter().collect()
}

fn sent_changes(registry: &Memory) -> Vec<Call> {
    registry
        .requests()
        .into_iter()
        .filter(|r| {
            matches!(
                r,
                Call::Put(..) | Call::DeleteManifest(_) | Call::DeleteTag(_)
            )
        })
        .collect()
}

// ---- a tag removal ----

#[tokio::test]
async fn a_registry_that_deletes_tags_is_asked_to() {
    let mut d = None;
    let registry = Memory::new(|s| {
        deletes_tags(s);
        d = Some(push(s, "a", &["v1", "v2"]));
    });
    let d = d.unwrap();
    let outcome = untag(&registry, "v1", &["v2".into()])
        .run(Expect::Manifest(&d))
        .await;
    assert!(
        matches!(outcome, Outcome::TagRemoved(TagRemoval::Deleted)),
        "{outcome:?}"
    );
    assert_eq!(tag_pairs(&registry), vec![("v2".into(), d.clone())]);
    // The manifest must survive (v2 is on it): its HEAD says it did.
    assert_eq!(
        registry.requests(),
        vec![
            Call::Get(ManifestRef::tag("v1")),
            Call::DeleteTag("v1".into()),
            Call::Head((&d).into()),
        ]
    );
}

#[tokio::test]
async fn a_tag_moved_before_its_removal_is_left_where_it_is() {
    let (mut d, mut e) = (None, None);
    let registry = Memory::new(|s| {
        deletes_tags(s);
        d = Some(push(s, "a", &["v1"]));
        e = Some(push(s, "b", &[]));
    });
    let (d, e) = (d.unwrap(), e.unwrap());
    // Another client moves v1 onto b right before it is read.
    let moved_to = e.clone();
    registry.on(move |call, s| {
        if *call == Call::Get(ManifestRef::tag("v1")) {
            s.tag("v1", &moved_to);
        }
        None
    });
    let outcome = untag(&registry, "v1", &[]).run(Expect::Manifest(&d)).await;
    assert!(
        matches!(&outcome, Outcome::Changed(Change::TagMoved(Some(now))) if *now == e),
        "{outcome:?}"
    );
    assert!(sent_changes(&registry).is_empty());
    assert_eq!(tag_pairs(&registry), vec![("v1".into(), e)]);
}

#[tokio::test]
async fn a_tag_gone_before_its_removal_is_already_gone_and_one_left_dangling_still_goes() {
    let mut d = None;
    let registry = Memory::new(|s| {
        deletes_tags(s);
        d = Some(push(s, "a", &["v1", "v2"]));
    });
    let d = d.unwrap();
    registry.on(|call, s| {
        if *call == Call::Get(ManifestRef::tag("v1")) {
            s.tags.remove("v1");
        }
        None
    });
    let outcome = untag(&registry, "v1", &[]).run(Expect::Manifest(&d)).await;
    assert!(matches!(outcome, Outcome::AlreadyGone), "{outcome:?}");
    assert!(sent_changes(&registry).is_empty());

    // v2's manifest deleted by someone else: v2 dangles, listed, not served.
    let registry = Memory::new(|s| {
        deletes_tags(s);
        push(s, "a", &["v2"]);
    });
    registry.on(|call, s| {
        if *call == Call::Get(ManifestRef::tag("v2")) {
            s.manifests.clear();
        }
        None
    });
    let outcome = untag(&registry, "v2", &[]).run(Expect::Manifest(&d)).await;
    assert!(
        matches!(outcome, Outcome::TagRemoved(TagRemoval::Deleted)),
        "{outcome:?}"
    );
    assert!(registry.tags().is_empty());
}

#[tokio::test]
async fn without_tag_deletion_the_tag_goes_through_a_throw_away_manifest() {
    let mut d = None;
    let registry = Memory::new(|s| d = Some(push(s, "a", &["v1", "v2"])));
    let d = d.unwrap();
    let outcome = untag(&registry, "v1", &["v2".into()])
        .run(Expect::Manifest(&d))
        .await;
    let Outcome::TagRemoved(TagRemoval::Placeholder(p)) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(tag_pairs(&registry), vec![("v2".into(), d.clone())]);
    assert!(registry.with(|s| s.manifests.contains_key(&d) && !s.manifests.contains_key(&p)));
    // The tag is read again after the registry said it has no tag deletion.
    assert_eq!(
        registry.requests(),
        vec![
            Call::Get(ManifestRef::tag("v1")),
            Call::DeleteTag("v1".into()),
            Call::Placeholder("v1".into()),
            Call::Get(ManifestRef::tag("v1")),
            Call::Put(ManifestRef::tag("v1"), p.clone()),
            Call::DeleteManifest(p),
        ]
    );
    // Known now: the next removal makes its throw-away manifest first.
    let outcome = untag(&registry, "v2", &[]).run(Expect::Manifest(&d)).await;
    assert!(matches!(
        outcome,
        Outcome::TagRemoved(TagRemoval::Placeholder(_))
    ));
    assert_eq!(
        registry.requests()[6..8],
        [
            Call::Placeholder("v2".into()),
            Call::Get(ManifestRef::tag("v2"))
        ]
    );
}

#[tokio::test]
async fn a_manifest_taken_by_the_registrys_tag_deletion_is_reported_not_pushed_back() {
    let mut d = None;
    let registry = Memory::new(|s| {
        deletes_tags(s);
        d = Some(push(s, "a", &["v1", "v2"]));
    });
    let d = d.unwrap();
    // A registry whose tag deletion deletes the manifest, and its other tags.
    registry.on(|call, s| {
        if let Call::DeleteTag(tag) = call {
            let digest = s.tags[tag].clone();
            s.manifests.remove(&digest);
            s.tags.retain(|_, t| *t != digest);
            return Some(Reply::Ok);
        }
        None
    });
    let keep = vec!["v2".to_string()];
    let outcome = untag(&registry, "v1", &keep)
        .run(Expect::Manifest(&d))
        .await;
    assert!(
        matches!(&outcome, Outcome::Failed(ActionError::ManifestGone { digest, tags })
            if *digest == d && *tags == keep),
        "{outcome:?}"
    );
    assert!(!registry
        .requests()
        .iter()
        .any(|r| matches!(r, Call::Put(..))));
}

/// Removing v1 through a throw-away manifest whose deletion fails after the
/// tag moved onto it; `meanwhile` runs at that failure.
async fn deletion_of_the_placeholder_fails(
    meanwhile: impl Fn(&mut State) + Send + 'static,
    put_back_fails: bool,
) -> (Memory, Digest, Outcome) {
    let mut d = None;
    let registry = Memory::new(|s| d = Some(push(s, "a", &["v1", "v2"])));
    let d = d.unwrap();
    let original = d.clone();
    registry.on(move |call, s| match call {
        Call::DeleteManifest(p) if *p != original => {
            meanwhile(s);
            Some(Reply::Fail(server_error()))
        }
        Call::Put(ManifestRef::Tag(_), put) if *put == original && put_back_fails => {
            Some(Reply::Fail(server_error()))
        }
        _ => None,
    });
    let keep = vec!["v2".to_string()];
    let outcome = untag(&registry, "v1", &keep)
        .run(Expect::Manifest(&d))
        .await;
    (registry, d, outcome)
}

#[tokio::test]
async fn a_tag_left_on_the_throw_away_manifest_is_pointed_back() {
    let (registry, d, outcome) = deletion_of_the_placeholder_fails(|_| {}, false).await;
    assert!(
        matches!(&outcome, Outcome::Failed(ActionError::LeftOnPlaceholder { restored: true, digest, .. })
            if *digest == d),
        "{outcome:?}"
    );
    assert_eq!(
        tag_pairs(&registry),
        vec![("v1".into(), d.clone()), ("v2".into(), d)]
    );
}

#[tokio::test]
async fn a_failed_point_back_says_so() {
    let (registry, d, outcome) = deletion_of_the_placeholder_fails(|_| {}, true).await;
    assert!(
        matches!(
            &outcome,
            Outcome::Failed(ActionError::LeftOnPlaceholder {
                restored: false,
                ..
            })
        ),
        "{outcome:?}"
    );
    assert_ne!(
        registry.tags()["v1"],
        d,
        "v1 is still on the throw-away manifest"
    );
}

#[tokio::test]
async fn a_tag_another_client_moved_meanwhile_is_not_pointed_back() {
    let other = Digest::sha256_of(b"theirs");
    let theirs = other.clone();
    let (registry, d, outcome) = deletion_of_the_placeholder_fails(
        move |s| {
            s.manifests
                .insert(theirs.clone(), (OCI_MANIFEST.into(), b"theirs".to_vec()));
            s.tag("v1", &theirs);
        },
        false,
    )
    .await;
    assert!(
        matches!(&outcome, Outcome::Failed(ActionError::Registry(_))),
        "{outcome:?}"
    );
    assert_eq!(
        tag_pairs(&registry),
        vec![("v1".into(), other), ("v2".into(), d.clone())]
    );
    // The tag was asked where it points; nothing was pushed onto it again.
    let puts = registry
        .requests()
        .into_iter()
        .filter(|r| matches!(r, Call::Put(..)))
        .count();
    assert_eq!(puts, 1, "only the throw-away manifest");
}

// ---- the run of a plan ----

#[tokio::test]
async fn a_tag_pushed_onto_a_planned_manifest_meanwhile_keeps_it() {
    let mut d = None;
    let registry = Memory::new(|s| {
        deletes_tags(s);
        d = Some(push(s, "a", &["v1"]));
        push(s, "b", &["keep"]);
    });
    let d = d.unwrap();
    let plan = planned(&registry, &["v1"], &[]);
    assert!(plan.deleted().contains(&d));
    // Between the re-check and the deletion, another client tags it.
    let pinned = d.clone();
    registry.on(move |call, s| {
        if *call == Call::Tags && !s.tags.contains_key("pinned") {
            s.tag("pinned", &pinned);
        }
        None
    });
    let done = run(&registry, vec![plan]).await;
    assert!(
        matches!(&done[0].outcome, Outcome::Changed(Change::TagsChanged { now, .. })
            if now.contains(&"pinned".to_string())),
        "{done:#?}"
    );
    assert!(registry.with(|s| s.manifests.contains_key(&d)));
    assert!(!sent_changes(&registry)
        .iter()
        .any(|r| matches!(r, Call::DeleteManifest(_))));
}

#[tokio::test]
async fn a_tag_list_that_leaves_out_a_tag_still_served_stops_deletions_by_digest() {
    let mut d = None;
    let registry = Memory::new(|s| {
        d = Some(push(s, "a", &["v1"]));
        push(s, "b", &["keep"]);
    });
    let d = d.unwrap();
    let plan = planned(&registry, &[], &[&d]);
    registry.on(|call, s| {
        if *call == Call::Tags {
            s.unlisted.insert("keep".into());
        }
        None
    });
    let done = run(&registry, vec![plan]).await;
    assert!(
        matches!(&done[0].outcome, Outcome::Changed(Change::ListIncomplete(t)) if *t == vec!["keep".to_string()]),
        "{done:#?}"
    );
    assert!(sent_changes(&registry).is_empty());
}

#[tokio::test]
async fn after_a_refusal_as_unsupported_nothing_more_is_sent() {
    let (mut a, mut b) = (None, None);
    let registry = Memory::new(|s| {
        a = Some(push(s, "a", &[]));
        b = Some(push(s, "b", &[]));
        push(s, "c", &["keep"]);
    });
    let (a, b) = (a.unwrap(), b.unwrap());
    let plan = planned(&registry, &[], &[&a, &b]);
    registry.on(|call, _| match call {
        Call::DeleteManifest(_) => Some(Reply::Fail(unsupported())),
        _ => None,
    });
    let done = run(&registry, vec![plan]).await;
    let outcomes: Vec<&Outcome> = done.iter().map(|d| &d.outcome).collect();
    assert!(
        matches!(
            outcomes[..],
            [Outcome::Failed(_), Outcome::NotAttempted(_), ..]
        ),
        "{done:#?}"
    );
    assert_eq!(sent_changes(&registry).len(), 1);
}

#[tokio::test]
async fn a_cancelled_run_starts_nothing() {
    let mut a = None;
    let registry = Memory::new(|s| a = Some(push(s, "a", &["v1"])));
    let plan = planned(&registry, &["v1"], &[]);
    let cancel = AtomicBool::new(true);
    let observer = Observer {
        action: &|_| {},
        repository: &|_| {},
    };
    let done = execute(&registry, vec![plan], 1, &cancel, &observer).await;
    assert!(done
        .iter()
        .all(|d| matches!(d.outcome, Outcome::NotStarted)));
    assert!(registry.requests().is_empty());
}

// ---- the check of the tag list after the changes ----

#[tokio::test]
async fn a_removed_tag_left_dangling_is_removed_again() {
    let mut d = None;
    let registry = Memory::new(|s| {
        deletes_tags(s);
        d = Some(push(s, "a", &["v1", "v2"]));
    });
    let plan = planned(&registry, &["v1"], &[]);
    // The first removal leaves v1 listed on a manifest the registry does not
    // serve, as Distribution does when a deletion fails half-way.
    let times = Arc::new(AtomicUsize::new(0));
    let seen = times.clone();
    registry.on(move |call, s| {
        if *call == Call::DeleteTag("v1".into()) && seen.fetch_add(1, Ordering::SeqCst) == 0 {
            s.tag("v1", &Digest::sha256_of(b"gone"));
            return Some(Reply::Ok);
        }
        None
    });
    let done = run(&registry, vec![plan]).await;
    assert!(done.iter().all(|d| d.outcome.is_done()), "{done:#?}");
    assert_eq!(times.load(Ordering::SeqCst), 2, "removed once more");
    assert_eq!(tag_pairs(&registry), vec![("v2".into(), d.unwrap())]);
}

#[tokio::test]
async fn a_removed_tag_that_stays_listed_fails_its_action() {
    let registry = Memory::new(|s| {
        deletes_tags(s);
        push(s, "a", &["v1", "v2"]);
    });
    let plan = planned(&registry, &["v1"], &[]);
    registry.on(move |call, s| {
        if *call == Call::DeleteTag("v1".into()) {
            s.tag("v1", &Digest::sha256_of(b"gone"));
            return Some(Reply::Ok);
        }
        None
    });
    let done = run(&registry, vec![plan]).await;
    assert!(
        matches!(&done[0].outcome, Outcome::Failed(ActionError::StillListed { tag }) if tag == "v1"),
        "{done:#?}"
    );
    let removals = registry
        .requests()
        .iter()
        .filter(|r| **r == Call::DeleteTag("v1".into()))
        .count();
    assert_eq!(removals, 4, "once, then three repairs");
}

#[tokio::test]
async fn a_tag_list_unreadable_after_the_changes_is_reported_as_such() {
    let registry = Memory::new(|s| {
        deletes_tags(s);
        push(s, "a", &["v1", "v2"]);
    });
    let plan = planned(&registry, &["v1"], &[]);
    registry.on(|call, _| match call {
        Call::Tags => Some(Reply::Fail(server_error())),
        _ => None,
    });
    let done = run(&registry, vec![plan]).await;
    assert!(
        matches!(done[0].outcome, Outcome::TagRemoved(_)),
        "{done:#?}"
    );
    assert!(
        matches!(
            &done[1],
            ActionReport {
                action: Action::CheckTagList,
                outcome: Outcome::Failed(_),
                ..
            }
        ),
        "{done:#?}"
    );
}

/// Deletes manifest `a` (tag `old`) while tag `kept`, on `b`, goes meanwhile by
/// `meanwhile`, run at the deletion; returns what became of `kept`.
async fn kept_tag_goes(
    meanwhile: impl Fn(&mut State, &Digest) + Send + 'static,
) -> (Memory, Digest, ActionReport) {
    let mut b = None;
    let registry = Memory::new(|s| {
        deletes_tags(s);
        push(s, "a", &["old"]);
        b = Some(push(s, "b", &["kept", "other"]));
    });
    let b = b.unwrap();
    let plan = planned(&registry, &["old"], &[]);
    let on = b.clone();
    registry.on(move |call, s| {
        if matches!(call, Call::DeleteManifest(_)) {
            meanwhile(s, &on);
        }
        None
    });
    let done = run(&registry, vec![plan]).await;
    assert!(done[0].outcome.is_done(), "{done:#?}");
    let check = done
        .into_iter()
        .find(|d| matches!(&d.action, Action::RestoreTag { tag, digest } if tag == "kept" && *digest == b))
        .expect("a check of the kept tag");
    (registry, b, check)
}

#[tokio::test]
async fn a_kept_tag_that_went_with_a_deletion_is_put_back() {
    // The registry took `kept` with the deletion, its manifest still there.
    let (registry, b, check) = kept_tag_goes(|s, _| {
        s.tags.remove("kept");
    })
    .await;
    assert!(matches!(check.outcome, Outcome::Restored), "{check:#?}");
    assert_eq!(registry.tags()["kept"], b);
}

#[tokio::test]
async fn a_kept_tag_gone_with_its_manifest_was_another_clients_change() {
    let (registry, _, check) = kept_tag_goes(|s, b| {
        s.manifests.remove(b);
        s.tags.retain(|_, d| d != b);
    })
    .await;
    assert!(
        matches!(
            check.outcome,
            Outcome::GoneMeanwhile {
                with_manifest: true
            }
        ),
        "{check:#?}"
    );
    assert!(!registry.tags().contains_key("kept"));
}

#[tokio::test]
async fn a_kept_tag_pushed_anew_elsewhere_is_left_as_it_is() {
    let elsewhere = Digest::sha256_of(b"elsewhere");
    let to = elsewhere.clone();
    let (registry, _, check) = kept_tag_goes(move |s, _| {
        s.tags.remove("kept");
        s.manifests
            .insert(to.clone(), (OCI_MANIFEST.into(), b"elsewhere".to_vec()));
        // Served at once, listed only later.
        s.tags.insert("kept".into(), to.clone());
        s.unlisted.insert("kept".into());
    })
    .await;
    assert!(
        matches!(
            check.outcome,
            Outcome::GoneMeanwhile {
                with_manifest: false
            }
        ),
        "{check:#?}"
    );
    assert_eq!(registry.tags()["kept"], elsewhere);
}

#[tokio::test]
async fn a_kept_tag_unlisted_yet_served_is_a_registry_that_contradicts_itself() {
    let (registry, b, check) = kept_tag_goes(|s, _| {
        s.unlisted.insert("kept".into());
    })
    .await;
    assert!(
        matches!(check.outcome, Outcome::Changed(Change::Unlisted)),
        "{check:#?}"
    );
    assert_eq!(registry.tags()["kept"], b);
    assert!(!registry
        .requests()
        .iter()
        .any(|r| matches!(r, Call::Put(..))));
}

#[tokio::test]
async fn a_head_without_a_digest_is_followed_by_a_get() {
    // A proxy strips Docker-Content-Digest from HEAD answers; meanwhile v2 was
    // moved onto the manifest planned away: the GET finds it there.
    let (mut a, mut b) = (None, None);
    let registry = Memory::new(|s| {
        deletes_tags(s);
        a = Some(push(s, "a", &["v1"]));
        b = Some(push(s, "b", &["v2"]));
    });
    let (a, b) = (a.unwrap(), b.unwrap());
    let plan = planned(&registry, &["v1"], &[]);
    assert!(plan.deleted().contains(&a));
    let onto = a.clone();
    registry.on(move |call, s| match call {
        Call::Tags => {
            s.tag("v2", &onto);
            None
        }
        Call::Head(_) => Some(Reply::Head(None)),
        _ => None,
    });
    let done = run(&registry, vec![plan]).await;
    assert!(
        matches!(&done[0].outcome, Outcome::Changed(Change::TagsChanged { now, .. })
            if now.contains(&"v2".to_string())),
        "{done:#?}"
    );
    assert!(registry
        .requests()
        .contains(&Call::Get(ManifestRef::tag("v2"))));
    assert!(sent_changes(&registry).is_empty());
    assert!(registry.with(|s| s.manifests.contains_key(&a) && s.manifests.contains_key(&b)));
}

#[tokio::test]
async fn a_head_that_says_a_tag_moved_is_checked_by_a_get_before_anything_is_kept() {
    // Every HEAD names another digest than the tag's: the GET, hashed, shows
    // nothing moved, and the deletion goes ahead.
    let (mut a, mut b) = (None, None);
    let registry = Memory::new(|s| {
        deletes_tags(s);
        a = Some(push(s, "a", &["v1"]));
        b = Some(push(s, "b", &["v2"]));
    });
    let (a, b) = (a.unwrap(), b.unwrap());
    let plan = planned(&registry, &["v1"], &[]);
    let lie = Digest::sha256_of(b"a lie");
    registry.on(move |call, _| match call {
        Call::Head(ManifestRef::Tag(_)) => Some(Reply::Head(Some(lie.clone()))),
        _ => None,
    });
    let done = run(&registry, vec![plan]).await;
    assert!(matches!(done[0].outcome, Outcome::Deleted), "{done:#?}");
    assert!(registry
        .requests()
        .contains(&Call::Get(ManifestRef::tag("v2"))));
    assert_eq!(tag_pairs(&registry), vec![("v2".into(), b)]);
    assert!(!registry.with(|s| s.manifests.contains_key(&a)));
}
