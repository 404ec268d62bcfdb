//! Deletion with more than one thing happening at once, on the real registry
//! (Distribution 2.8, TLS and htpasswd): regctl processes racing each other, and
//! closed pipes. The races are probabilistic, so each scenario runs a few times,
//! each time on a repository of its own, and after each the whole tag list and
//! every remaining tag's manifest are checked against what must be there. Each
//! path such a race can take through the engine is staged exactly, over a
//! scripted in-memory registry, by the unit tests of `src/deletion/scenarios.rs`:
//! these rounds check that the real registry and real processes agree.

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::Child;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, OnceLock};

use crate::fixture::{image, sha256, Image, Storage};
use crate::harness::{regctl, Options, Run, TestRegistry};
use crate::http::Response;
use crate::resilience::{fronted_with, push_meanwhile, Forward, Fronted};

const ROUNDS: usize = 3;
const CREATED: &str = "2024-01-01T00:00:00Z";

fn shared() -> Image {
    image("linux/amd64", CREATED, "concurrency shared")
}
fn other() -> Image {
    image("linux/amd64", CREATED, "concurrency other")
}

fn tags(prefix: &str, n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("{prefix}{i}")).collect()
}

/// Starts `regctl ARGS` against `reg`, logged in, stdout and stderr piped.
fn spawn(reg: &TestRegistry, args: &[String]) -> Child {
    regctl().trusted(reg).args(args).spawn()
}

fn wait(child: Child) -> Run {
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `rm` of `repository:tag` for each of `tags`, as arguments.
fn rm_args(reg: &TestRegistry, repository: &str, tags: &[String], extra: &[&str]) -> Vec<String> {
    let mut args = vec!["rm".to_string()];
    args.extend(
        tags.iter()
            .map(|t| format!("{}/{repository}:{t}", reg.host())),
    );
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push("--yes".into());
    args
}

/// What the registry holds in `repository`: every listed tag with the digest its
/// manifest resolves to. A listed tag whose manifest does not answer fails the
/// listing (exit 4), and the test with it.
#[track_caller]
fn state(reg: &TestRegistry, repository: &str) -> Vec<String> {
    let run = regctl()
        .trusted(reg)
        .args(["ls", "--digests", &format!("{}/{repository}", reg.host())])
        .run();
    assert_eq!(
        run.code, 0,
        "every listed tag of {repository} resolves: {}{}",
        run.stdout, run.stderr
    );
    run.lines()
        .iter()
        .map(|l| {
            let (reference, digest) = l.split_once(' ').unwrap();
            let tag = reference.rsplit_once(':').unwrap().1;
            format!("{tag} {digest}")
        })
        .collect()
}

/// The expected state: `tag digest` lines, sorted as `ls` sorts them.
fn expect(pairs: &[(&str, &str)]) -> Vec<String> {
    let mut lines: Vec<String> = pairs.iter().map(|(t, d)| format!("{t} {d}")).collect();
    lines.sort();
    lines
}

/// Whether the manifest `digest` still answers in `repository`.
fn manifest_exists(reg: &TestRegistry, repository: &str, digest: &str) -> bool {
    let run = regctl()
        .trusted(reg)
        .args(["digest", &format!("{}/{repository}@{digest}", reg.host())])
        .run();
    match run.code {
        0 => true,
        4 => false,
        _ => panic!("{}", run.stderr),
    }
}

/// `rounds` repositories `r0…`, each populated by `each`.
fn registry(rounds: usize, each: impl Fn(&Storage, &str)) -> TestRegistry {
    TestRegistry::start_with(Options::default(), |s| {
        for round in 0..rounds {
            each(s, &format!("r{round}"));
        }
    })
}

#[test]
fn one_run_removing_forty_tags_of_one_manifest_leaves_no_broken_tag() {
    let forty = tags("t", 40);
    let reg = registry(ROUNDS, |s, repository| {
        let mut all: Vec<&str> = forty.iter().map(String::as_str).collect();
        all.push("latest");
        s.push(repository, &all, &shared());
    });
    for round in 0..ROUNDS {
        let repository = format!("r{round}");
        let run = wait(spawn(&reg, &rm_args(&reg, &repository, &forty, &[])));
        run.success();
        assert_eq!(
            state(&reg, &repository),
            expect(&[("latest", &shared().digest)]),
            "round {round}: {}",
            run.stderr
        );
    }
}

#[test]
fn concurrent_runs_removing_tags_of_one_manifest_leave_no_broken_tag() {
    // Six clients, each removing three of the tags that share one manifest: their
    // throw-away manifests are deleted while the others write in the repository,
    // which makes Distribution fail some deletions half-way (500, the manifest
    // gone, its tag still listed).
    let all = tags("t", 18);
    let rounds = ROUNDS - 1;
    let reg = registry(rounds, |s, repository| {
        let mut names: Vec<&str> = all.iter().map(String::as_str).collect();
        names.push("latest");
        s.push(repository, &names, &shared());
    });
    for round in 0..rounds {
        let repository = format!("r{round}");
        let clients: Vec<Child> = all
            .chunks(3)
            .map(|some| spawn(&reg, &rm_args(&reg, &repository, some, &[])))
            .collect();
        let runs: Vec<Run> = clients.into_iter().map(wait).collect();
        let said: Vec<&str> = runs.iter().map(|r| r.stderr.as_str()).collect();
        assert_eq!(
            state(&reg, &repository),
            expect(&[("latest", &shared().digest)]),
            "round {round}:\n{}",
            said.join("\n")
        );
        // Each did what it was asked: none has a failure to report.
        for run in &runs {
            run.success();
        }
    }
}

#[test]
fn a_tag_removal_beside_a_deletion_of_its_manifest_pushes_nothing_back() {
    // a, b and c on D; one client removes a, another deletes D by digest.
    let reg = registry(ROUNDS, |s, repository| {
        s.push(repository, &["a", "b", "c"], &shared());
        s.push(repository, &["keep"], &other());
    });
    let d = shared().digest;
    for round in 0..ROUNDS {
        let repository = format!("r{round}");
        let by_tag = spawn(&reg, &rm_args(&reg, &repository, &["a".into()], &[]));
        let by_digest = spawn(
            &reg,
            &[
                "rm".into(),
                format!("{}/{repository}@{d}", reg.host()),
                "--yes".into(),
            ],
        );
        let (by_tag, by_digest) = (wait(by_tag), wait(by_digest));
        let said = format!("round {round}:\n{}\n{}", by_tag.stderr, by_digest.stderr);
        let left = state(&reg, &repository);
        if manifest_exists(&reg, &repository, &d) {
            // The digest run's re-check caught the tag run half-way (a listed on a
            // manifest being deleted, or on a throw-away one): D is left untouched,
            // and it says so and fails. Nothing else changed but a's removal.
            by_digest.code(1);
            assert!(by_digest.stderr.contains("left untouched"), "{said}");
            assert_eq!(
                left,
                expect(&[("b", &d), ("c", &d), ("keep", &other().digest)]),
                "{said}"
            );
        } else {
            // D and its tags are gone, and nothing was pushed back.
            assert_eq!(left, expect(&[("keep", &other().digest)]), "{said}");
            by_digest.success();
        }
        // The tag run succeeds; or it reads the repository after D went and finds
        // no tag a to remove (exit 4); or it meets the digest run half-way (a moved
        // onto that run's throw-away manifest, left to it) and says what it left
        // (exit 1). Whatever it meets, it never pushes anything back.
        match by_tag.code {
            0 => {}
            4 => assert!(by_tag.stdout.starts_with("missing "), "{said}"),
            _ => {
                by_tag.code(1);
                assert!(!by_tag.stderr.contains("put back"), "{said}");
            }
        }
        assert!(
            !by_tag.stdout.contains("restored") && !by_digest.stdout.contains("restored"),
            "{said}"
        );
    }
}

#[test]
fn two_tag_removals_on_one_manifest_each_take_their_own_tag() {
    let reg = registry(ROUNDS, |s, repository| {
        s.push(repository, &["a", "b", "c"], &shared());
    });
    let d = shared().digest;
    for round in 0..ROUNDS {
        let repository = format!("r{round}");
        let one = spawn(&reg, &rm_args(&reg, &repository, &["a".into()], &[]));
        let two = spawn(&reg, &rm_args(&reg, &repository, &["b".into()], &[]));
        let (one, two) = (wait(one), wait(two));
        assert_eq!(
            state(&reg, &repository),
            expect(&[("c", &d)]),
            "round {round}: neither tag came back\n{}\n{}",
            one.stderr,
            two.stderr
        );
        one.success();
        two.success();
    }
}

#[test]
fn a_tag_on_a_missing_manifest_can_be_removed_by_rm_and_by_prune() {
    let missing = sha256(b"a manifest that was deleted");
    let reg = registry(2, |s, repository| {
        s.push(repository, &["v1", "latest"], &shared());
        s.push(repository, &["v2"], &other());
        s.tag(repository, "broken", &missing);
    });
    let host = reg.host();
    // Listing says which tag is broken, lists the others, and fails.
    let ls = regctl()
        .trusted(&reg)
        .args(["ls", "--digests", &format!("{host}/r0")])
        .run();
    ls.code(4);
    assert!(
        ls.stderr.contains("r0:broken") && ls.stderr.contains("dangling tags"),
        "{}",
        ls.stderr
    );
    assert_eq!(ls.lines().len(), 3, "{}", ls.stdout);

    let plan = regctl()
        .trusted(&reg)
        .args(["rm", &format!("{host}/r0:broken"), "--dry-run"])
        .run();
    plan.success();
    assert!(plan.stdout.contains("broken"), "{}", plan.stdout);
    regctl()
        .trusted(&reg)
        .args(["rm", &format!("{host}/r0:broken"), "--yes"])
        .run()
        .success();
    assert_eq!(
        state(&reg, "r0"),
        expect(&[
            ("latest", &shared().digest),
            ("v1", &shared().digest),
            ("v2", &other().digest)
        ])
    );

    // prune takes the broken tag as well as what its rule removes (of two images
    // created at the same time, the one with the greatest tag stays).
    let plan = regctl()
        .trusted(&reg)
        .args(["prune", &format!("{host}/r1"), "--keep", "1", "--dry-run"])
        .run();
    plan.success();
    assert!(
        plan.stdout
            .contains(&format!("delete {host}/r1:broken [broken]")),
        "{}",
        plan.stdout
    );
    let run = regctl()
        .trusted(&reg)
        .args(["prune", &format!("{host}/r1"), "--keep", "1", "--yes"])
        .run();
    run.success();
    assert_eq!(state(&reg, "r1"), expect(&[("v2", &other().digest)]));
}

#[test]
fn a_prune_whose_reader_stops_after_one_line_is_carried_out() {
    // `regctl prune ... --yes | head -1`
    let reg = registry(1, |s, repository| {
        for (i, tag) in tags("v", 5).iter().enumerate() {
            s.push(
                repository,
                &[tag],
                &image("linux/amd64", CREATED, &format!("pipe {i}")),
            );
        }
    });
    let mut child = spawn(
        &reg,
        &[
            "prune".into(),
            format!("{}/r0", reg.host()),
            "--keep".into(),
            "1".into(),
            "--yes".into(),
        ],
    );
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(!first.is_empty());
    let run = wait(child);
    run.success();
    assert_eq!(state(&reg, "r0").len(), 1, "{}", run.stderr);
}

#[test]
fn digest_exits_the_same_whether_its_stdout_is_closed_or_not() {
    let reg = registry(1, |s, repository| {
        s.push(repository, &["v1"], &shared());
    });
    let args: Vec<String> = vec![
        "digest".into(),
        format!("{}/r0:v1", reg.host()),
        format!("{}/r0:gone", reg.host()),
    ];
    let open = wait(spawn(&reg, &args));
    open.code(4);
    let mut child = spawn(&reg, &args);
    drop(child.stdout.take());
    let closed = wait(child);
    assert_eq!(closed.code, open.code, "{}", closed.stderr);
    assert!(closed.stderr.contains("gone"), "{}", closed.stderr);
}

/// A proxy in front of the registry that makes the first `times` deletions by
/// digest in repository `a` fail half-way, as Distribution does when another
/// client writes in the repository meanwhile: the manifest is gone (its revision
/// link removed from storage), its tags are still listed, and the answer is 500.
fn deletions_failing_half_way(times: usize) -> Fronted {
    let storage: Arc<OnceLock<PathBuf>> = Arc::new(OnceLock::new());
    let seen = AtomicUsize::new(0);
    let root = storage.clone();
    let f = fronted_with(
        |s| {
            s.push("a", &["v1", "v2"], &shared());
            s.push("a", &["v3"], &other());
        },
        move |req, fwd: Forward| {
            let revision = req
                .target
                .strip_prefix("/v2/a/manifests/sha256:")
                .filter(|_| req.method == "DELETE")
                .map(|hex| {
                    root.get()
                        .unwrap()
                        .join("docker/registry/v2/repositories/a/_manifests/revisions/sha256")
                        .join(hex)
                });
            match revision {
                // Deletions of manifests that exist (not the probe for deletion support).
                Some(revision) if revision.exists() && seen.fetch_add(1, SeqCst) < times => {
                    std::fs::remove_dir_all(&revision).unwrap();
                    Response::json(
                        500,
                        serde_json::json!({"errors":[{"code":"UNKNOWN","message":"invalid checksum digest format"}]}),
                    )
                }
                _ => fwd(req),
            }
        },
    );
    storage.set(f.registry.dir.path().join("data")).unwrap();
    f
}

#[test]
fn a_tag_left_dangling_by_a_deletion_failed_half_way_is_removed_again() {
    let f = deletions_failing_half_way(1);
    let run = f
        .regctl()
        .args(["rm", &format!("{}/a:v1", f.host()), "--yes"])
        .run();
    run.success();
    assert_eq!(
        f.backend_tags("a"),
        vec![
            format!("v2 {}", shared().digest),
            format!("v3 {}", other().digest)
        ],
        "{}",
        run.stderr
    );
}

#[test]
fn a_tag_that_stays_dangling_is_reported_as_not_removed() {
    let f = deletions_failing_half_way(usize::MAX);
    let run = f
        .regctl()
        .args(["rm", &format!("{}/a:v1", f.host()), "--yes"])
        .run();
    run.code(1);
    assert!(
        run.stdout.starts_with("failed ") && run.stderr.contains("still names v1"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    // v1 dangles; v2 and v3 are untouched.
    let ls = f
        .regctl()
        .args(["ls", "--digests", &format!("{}/a", f.host())])
        .run();
    ls.code(4);
    assert_eq!(
        ls.lines(),
        vec![
            format!("{}/a:v2 {}", f.host(), shared().digest),
            format!("{}/a:v3 {}", f.host(), other().digest)
        ]
    );
}

/// An RFC 3339 time `days` days before now.
fn days_ago(days: i64) -> String {
    let t = time::OffsetDateTime::now_utc() - time::Duration::days(days);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

#[test]
fn a_fresh_image_pushed_to_a_planned_tag_during_a_prune_keeps_its_tag() {
    // v1 is on an old image, v2 on a recent one; `prune --older-than 30d` plans
    // v1's image away. Between the plan and the changes, another client pushes a
    // fresh image to v1: the old image goes (no tag is on it any more), v1 stays
    // on the fresh one, and the run says so and fails.
    let old = image("linux/amd64", "2024-01-01T00:00:00Z", "prune old");
    let recent = image("linux/amd64", &days_ago(1), "prune recent");
    let fresh = image("linux/amd64", &days_ago(0), "prune fresh");
    let reads = AtomicUsize::new(0);
    let fresh_manifest = fresh.manifest.clone();
    let (o, r, fr) = (old.clone(), recent.clone(), fresh.clone());
    let f = fronted_with(
        move |s| {
            s.push("a", &["v1"], &o);
            s.push("a", &["v2"], &r);
            s.image("a", &fr);
        },
        move |req, fwd: Forward| {
            // The second read of v1 is the re-check before the changes.
            if req.method == "GET"
                && req.target == "/v2/a/manifests/v1"
                && reads.fetch_add(1, SeqCst) == 1
            {
                push_meanwhile(req, fwd, &req.target, &fresh_manifest);
            }
            fwd(req)
        },
    );
    let run = f
        .regctl()
        .args([
            "prune",
            &format!("{}/a", f.host()),
            "--older-than",
            "30d",
            "--yes",
        ])
        .run();
    run.code(1);
    assert!(
        run.stderr.contains("a:v1") && run.stderr.contains("the tag moved"),
        "{}",
        run.stderr
    );
    assert_eq!(
        f.backend_tags("a"),
        vec![
            format!("v1 {}", fresh.digest),
            format!("v2 {}", recent.digest)
        ]
    );
    let old_there = f
        .regctl()
        .args(["digest", &format!("{}/a@{}", f.host(), old.digest)])
        .run();
    old_there.code(4);
}
