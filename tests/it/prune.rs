//! `regctl prune` on a registry built for it: exactly the expected set survives.

use std::time::{Duration, SystemTime};

use crate::fixture::{image, Image, Storage};
use crate::harness::{regctl, Options, Run, TestRegistry};

fn img(day: u32) -> Image {
    image(
        "linux/amd64",
        &format!("2024-01-{day:02}T00:00:00Z"),
        &format!("day{day}"),
    )
}

/// An RFC 3339 time `days` ago.
fn days_ago(days: u64) -> String {
    let t = SystemTime::now() - Duration::from_secs(days * 86_400);
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() as i64;
    time::OffsetDateTime::from_unix_timestamp(secs)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// An image whose config has no usable `created`: kept and reported.
fn undated() -> Image {
    image("linux/amd64", "not a time", "undated")
}

fn populate(s: &Storage) {
    for day in 1..=5 {
        s.push("svc", &[&format!("a{day}")], &img(day));
    }
    s.tag("svc", "stable", &img(2).digest);
    s.tag("svc", "latest", &img(5).digest);
    s.push("svc", &["nodate"], &undated());
    s.push("svc/worker", &["a1", "a2", "a3"], &img(9));
    s.push("keepme", &["a1"], &img(1));
    let old = [
        image("linux/amd64", "2023-01-01T00:00:00Z", "old"),
        image("linux/arm64", "2023-02-01T00:00:00Z", "old"),
    ];
    let new = [
        image("linux/amd64", "2023-01-01T00:00:00Z", "new"),
        image("linux/arm64", "2024-06-01T00:00:00Z", "new"),
    ];
    s.push_index("multi", &["m-old"], &old);
    s.push_index("multi", &["m-new"], &new);
    s.push(
        "fresh",
        &["old"],
        &image("linux/amd64", &days_ago(90), "f-old"),
    );
    s.push(
        "fresh",
        &["new"],
        &image("linux/amd64", &days_ago(2), "f-new"),
    );
}

fn start() -> TestRegistry {
    TestRegistry::start_with(Options::default(), populate)
}

fn prune(reg: &TestRegistry, target: &str, args: &[&str]) -> Run {
    regctl()
        .trusted(reg)
        .args(["prune", &format!("{}/{target}", reg.host())])
        .args(args)
        .run()
}

fn tags(reg: &TestRegistry, prefix: &str) -> Vec<String> {
    let run = regctl()
        .trusted(reg)
        .args(["ls", &format!("{}/{prefix}", reg.host()), "--digests"])
        .run();
    run.success();
    let host = format!("{}/", reg.host());
    run.lines()
        .iter()
        .map(|l| l.trim_start_matches(&host).to_string())
        .collect()
}

#[test]
fn keep_newest_with_match_keeps_exactly_the_expected_set() {
    let reg = start();
    // The plan (a dry run's stdout), then what a real run did (its stdout).
    let plan = prune(&reg, "svc", &["--keep", "2", "--match", "^a", "--dry-run"]);
    plan.success();
    let run = prune(&reg, "svc", &["--keep", "2", "--match", "^a", "--yes"]);
    run.success();
    // Images, not tags: a2 shares its image with `stable` and a5 with `latest`,
    // which --match does not select, so those images stay whole. Of the images
    // whose every tag matches (a1, a3, a4) the newest two stay.
    assert!(
        plan.stdout
            .contains(&format!("delete {}/svc@{} [a1]", reg.host(), img(1).digest)),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(&format!(
            "keep {}/svc@{} [a2, stable] 2024-01-02T00:00:00Z (tag stable does not match --match)",
            reg.host(),
            img(2).digest
        )),
        "{}",
        plan.stdout
    );
    assert_eq!(
        run.stdout,
        format!(
            "deleted {}/svc@{} (tags removed: a1)\n",
            reg.host(),
            img(1).digest
        ),
        "a real run prints what it did"
    );
    assert!(
        run.stderr.contains("1 image has no creation time"),
        "{}",
        run.stderr
    );
    assert_eq!(
        tags(&reg, "svc"),
        vec![
            format!("svc:a2 {}", img(2).digest),
            format!("svc:a3 {}", img(3).digest),
            format!("svc:a4 {}", img(4).digest),
            format!("svc:a5 {}", img(5).digest),
            format!("svc:latest {}", img(5).digest),
            format!("svc:nodate {}", undated().digest),
            format!("svc:stable {}", img(2).digest),
            format!("svc/worker:a1 {}", img(9).digest),
            format!("svc/worker:a2 {}", img(9).digest),
            format!("svc/worker:a3 {}", img(9).digest),
        ]
    );
    assert_eq!(
        tags(&reg, "keepme"),
        vec![format!("keepme:a1 {}", img(1).digest)],
        "outside the target"
    );
    // a1's image had no other tag: its manifest is gone.
    let gone = regctl()
        .trusted(&reg)
        .args(["digest", &format!("{}/svc@{}", reg.host(), img(1).digest)])
        .run();
    gone.code(4);
}

#[test]
fn older_than_deletes_only_old_images_and_exclude_protects() {
    let reg = start();
    let run = prune(&reg, "fresh", &["--older-than", "30d", "--yes"]);
    run.success();
    assert_eq!(tags(&reg, "fresh").len(), 1);
    assert!(tags(&reg, "fresh")[0].starts_with("fresh:new "));

    let rules = ["--older-than", "30d", "--exclude", "^(latest|stable)$"];
    let dry = regctl()
        .trusted(&reg)
        .args(["prune", &format!("{}/svc", reg.host())])
        .args(rules)
        .args(["--dry-run", "--format", "json"])
        .run();
    dry.success();
    // svc/worker would be left with no tag: under --yes that is refused (exit 6)
    // and nothing changes anywhere, until it is said to be meant.
    let before = (tags(&reg, "svc"), tags(&reg, "svc/worker"));
    let refused = regctl()
        .trusted(&reg)
        .args(["prune", &format!("{}/svc", reg.host())])
        .args(rules)
        .args(["--yes", "--format", "json"])
        .run();
    refused.code(6);
    assert!(
        refused.stderr.contains("svc/worker")
            && refused.stderr.contains("--allow-empty-repositories"),
        "{}",
        refused.stderr
    );
    assert_eq!((tags(&reg, "svc"), tags(&reg, "svc/worker")), before);
    let run = regctl()
        .trusted(&reg)
        .args(["prune", &format!("{}/svc", reg.host())])
        .args(rules)
        .args(["--yes", "--allow-empty-repositories", "--format", "json"])
        .run();
    run.success();
    let outcomes: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let outcomes = outcomes.as_array().unwrap();
    assert!(
        outcomes
            .iter()
            .all(|o| o["outcome"] == "deleted" || o["outcome"] == "tag-removed"),
        "{}",
        run.stdout
    );
    let plan: serde_json::Value = serde_json::from_str(&dry.stdout).unwrap();
    // One outcome per planned action: none left out.
    let planned = plan
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| !l["action"].is_null())
        .count();
    assert!(planned > 0, "{}", dry.stdout);
    assert_eq!(outcomes.len(), planned, "{}\n{}", dry.stdout, run.stdout);
    let stable = plan
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["tags"].as_array().unwrap().contains(&"stable".into()))
        .unwrap();
    assert_eq!(stable["decision"], "keep");
    assert_eq!(stable["tags"], serde_json::json!(["a2", "stable"]));
    assert_eq!(stable["reason"], "tag stable matches --exclude");
    assert!(
        run.stderr
            .contains("svc/worker: this leaves the repository with no tag"),
        "{}",
        run.stderr
    );
    let left: Vec<String> = tags(&reg, "svc")
        .into_iter()
        .filter(|t| t.starts_with("svc:"))
        .collect();
    assert_eq!(
        left,
        vec![
            format!("svc:a2 {}", img(2).digest),
            format!("svc:a5 {}", img(5).digest),
            format!("svc:latest {}", img(5).digest),
            format!("svc:nodate {}", undated().digest),
            format!("svc:stable {}", img(2).digest),
        ]
    );
}

#[test]
fn an_index_is_as_old_as_its_newest_child() {
    let reg = start();
    let run = prune(&reg, "multi", &["--keep", "1", "--yes"]);
    run.success();
    let left = tags(&reg, "multi");
    assert_eq!(left.len(), 1);
    assert!(left[0].starts_with("multi:m-new "), "{left:?}");
}

#[test]
fn dry_run_changes_nothing_and_bad_rules_are_exit_2() {
    let reg = start();
    let before = tags(&reg, "");
    let run = prune(&reg, "", &["--keep", "0", "--dry-run"]);
    run.success();
    assert!(
        run.stderr.contains("dry run: would remove"),
        "{}",
        run.stderr
    );
    assert_eq!(tags(&reg, ""), before);
    for (args, says) in [
        (vec!["--keep", "-1"], "0 or more"),
        (vec!["--match", "(unclosed"], "regular expression"),
        (vec!["--older-than", "30 days"], "not a duration"),
        (vec!["--older-than", "12"], "not a duration"),
        (vec!["--yes"], "needs --keep N or --older-than"),
        (vec!["--match", "^a", "--yes"], "say --keep 0"),
    ] {
        let run = prune(&reg, "svc", &args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
    }
    assert_eq!(tags(&reg, ""), before);
}

/// A Docker schema 1 image (Distribution serves it signed anew on each read, its
/// digest the payload's): read, dated, shown, inspected, counted and deleted like
/// any image, and the garbage collector then frees exactly its blobs.
#[test]
fn a_schema_1_image_is_read_shown_and_deleted_like_any_image() {
    let recent = image("linux/amd64", &days_ago(1), "schema1 neighbour");
    let mut ids = (String::new(), String::new());
    let r = recent.clone();
    let mut reg = TestRegistry::start_with(Options::default(), |s| {
        ids = s.push_schema1("legacy", "old", "2016-01-01T00:00:00Z");
        s.push("legacy", &["new"], &r);
    });
    let (old, layer) = ids;
    assert_eq!(
        tags(&reg, "legacy"),
        vec![
            format!("legacy:new {}", recent.digest),
            format!("legacy:old {old}")
        ]
    );
    let inspect = regctl()
        .trusted(&reg)
        .args([
            "inspect",
            &format!("{}/legacy:old", reg.host()),
            "--format",
            "json",
        ])
        .run();
    inspect.success();
    assert!(
        inspect.stdout.contains(&layer) && inspect.stdout.contains("v1+prettyjws"),
        "{}",
        inspect.stdout
    );
    let du = regctl()
        .trusted(&reg)
        .args(["du", &format!("{}/legacy", reg.host()), "--format", "json"])
        .run();
    du.success();
    assert!(du.stdout.contains("\"images\": 2"), "{}", du.stdout);

    let dry = prune(
        &reg,
        "legacy",
        &["--older-than", "30d", "--dry-run", "--format", "json"],
    );
    dry.success();
    let lines: Vec<serde_json::Value> = serde_json::from_str(&dry.stdout).unwrap();
    let line = lines.iter().find(|l| l["digest"] == old.as_str()).unwrap();
    assert_eq!(line["decision"], "delete", "{line}");
    assert_eq!(line["created"], "2016-01-01T00:00:00Z", "{line}");
    assert_eq!(line["action"], "delete-manifest", "{line}");

    let before = reg.blobs();
    let run = prune(&reg, "legacy", &["--older-than", "30d", "--yes"]);
    run.success();
    assert_eq!(
        tags(&reg, "legacy"),
        vec![format!("legacy:new {}", recent.digest)]
    );
    let output = reg.garbage_collect();
    let freed = [old.clone(), layer].into_iter().collect();
    crate::verify::assert_blobs_freed(&before, &freed, &reg.blobs(), &output);
    let target = crate::target::Target::Distribution(reg);
    crate::verify::assert_pulls(&target, "legacy:new");
}

/// stderr says each thing once, under 100 columns: seven repositories left with
/// no tag are one line with five names and a count, and the notes on space and
/// garbage collection are short lines.
#[test]
fn stderr_says_each_thing_once_in_short_lines() {
    let reg = TestRegistry::start_with(Options::default(), |s| {
        for i in 1..=7 {
            s.push(&format!("many/r{i}"), &["v1"], &img(i));
        }
    });
    for args in [
        vec!["--keep", "0", "--dry-run"],
        vec!["--keep", "0", "--yes", "--allow-empty-repositories"],
    ] {
        let run = prune(&reg, "many", &args);
        run.success();
        let lines: Vec<&str> = run.stderr.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.contains("with no tag"))
            .unwrap();
        assert_eq!(
            lines.iter().filter(|l| l.contains("with no tag")).count(),
            1,
            "{}",
            run.stderr
        );
        assert!(lines[at].contains("7 repositories"), "{}", run.stderr);
        assert_eq!(
            lines[at + 1],
            "  many/r1, many/r2, many/r3, many/r4, many/r5 and 2 more"
        );
        for line in run.stderr.lines() {
            assert!(
                line.chars().count() < 100,
                "{} columns: {line}",
                line.chars().count()
            );
        }
    }
}
