//! `regctl ls` against a TLS + htpasswd registry, the seed's set-up.

use crate::fixture::{image, Storage};
use crate::harness::{regctl, Options, TestRegistry};

const CREATED: &str = "2024-01-01T00:00:00Z";

fn many_repositories(s: &Storage) {
    for i in 0..130 {
        let img = image("linux/amd64", CREATED, &format!("repo{i}"));
        s.push(&format!("bulk/repo{i:03}"), &["v1", "latest"], &img);
    }
}

#[test]
fn lists_every_repository_past_the_first_catalog_page() {
    let reg = TestRegistry::start_with(Options::default(), many_repositories);
    let run = regctl().trusted(&reg).args(["ls", &reg.host()]).run();
    run.success();
    let lines = run.lines();
    assert_eq!(lines.len(), 260, "130 repositories x 2 tags");
    assert_eq!(lines[0], format!("{}/bulk/repo000:latest", reg.host()));
    assert_eq!(lines[1], format!("{}/bulk/repo000:v1", reg.host()));
    assert_eq!(lines[259], format!("{}/bulk/repo129:v1", reg.host()));
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(sorted, lines, "output is sorted");
}

fn nested(s: &Storage) {
    let a = image("linux/amd64", CREATED, "a");
    let b = image("linux/amd64", CREATED, "b");
    s.push("team/app", &["v1", "v2", "latest"], &a);
    s.push("team/app/worker", &["v1"], &b);
    s.push("teamster/app", &["v1"], &b);
    s.push("other", &["1.0"], &a);
    // A repository whose only manifest is untagged.
    s.image("team/untagged", &b);
}

#[test]
fn prefix_lists_the_repository_and_those_below_it_only() {
    let reg = TestRegistry::start_with(Options::default(), nested);
    let host = reg.host();
    let run = regctl()
        .trusted(&reg)
        .args(["ls", &format!("{host}/team")])
        .run();
    run.success();
    assert_eq!(
        run.lines(),
        vec![
            format!("{host}/team/app:latest"),
            format!("{host}/team/app:v1"),
            format!("{host}/team/app:v2"),
            format!("{host}/team/app/worker:v1"),
        ]
    );
    assert!(
        run.stderr
            .contains(&format!("1 repository has no tags: {host}/team/untagged")),
        "{}",
        run.stderr
    );
}

#[test]
fn digests_show_shared_manifests_and_json_has_every_field() {
    let reg = TestRegistry::start_with(Options::default(), nested);
    let host = reg.host();
    let a = image("linux/amd64", CREATED, "a").digest;
    let run = regctl()
        .trusted(&reg)
        .args([
            "ls",
            &format!("{host}/team/app"),
            "--digests",
            "--format",
            "json",
        ])
        .run();
    run.success();
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let items = json.as_array().unwrap();
    assert_eq!(items.len(), 4);
    let first = &items[0];
    assert_eq!(first["reference"], format!("{host}/team/app:latest"));
    assert_eq!(first["registry"], host);
    assert_eq!(first["repository"], "team/app");
    assert_eq!(first["tag"], "latest");
    for tag in ["latest", "v1", "v2"] {
        let item = items
            .iter()
            .find(|i| i["repository"] == "team/app" && i["tag"] == tag)
            .unwrap();
        assert_eq!(item["digest"], a, "three tags share one digest");
    }
    let plain = regctl()
        .trusted(&reg)
        .args(["ls", &format!("{host}/team/app"), "--digests"])
        .run();
    assert!(
        plain
            .lines()
            .contains(&format!("{host}/team/app:v1 {a}").as_str()),
        "{}",
        plain.stdout
    );
}

#[test]
fn empty_registry_lists_nothing_and_succeeds() {
    let reg = TestRegistry::start(Options::default());
    let run = regctl().trusted(&reg).args(["ls", &reg.host()]).run();
    run.success();
    assert_eq!(run.stdout, "");
}

#[test]
fn global_flags_go_before_or_after_the_subcommand() {
    let reg = TestRegistry::start_with(Options::default(), nested);
    let ca = reg.ca.to_str().unwrap().to_string();
    let host = reg.host();
    let before = regctl()
        .logged_in()
        .args([
            "--ca-file",
            &ca,
            "--format",
            "plain",
            "--concurrency",
            "2",
            "ls",
            &format!("{host}/other"),
        ])
        .run();
    let after = regctl()
        .logged_in()
        .args([
            "ls",
            &format!("{host}/other"),
            "--ca-file",
            &ca,
            "--format",
            "plain",
            "--concurrency",
            "2",
        ])
        .run();
    before.success();
    after.success();
    assert_eq!(before.stdout, format!("{host}/other:1.0\n"));
    assert_eq!(before.stdout, after.stdout);
}

#[test]
fn table_format_has_headers() {
    let reg = TestRegistry::start_with(Options::default(), nested);
    let run = regctl()
        .trusted(&reg)
        .args(["ls", &format!("{}/other", reg.host()), "--format", "table"])
        .run();
    run.success();
    assert!(
        run.stdout.contains("REPOSITORY")
            && run.stdout.contains("TAG")
            && run.stdout.contains("1.0"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_pull_through_cache_lists_a_repository_its_catalog_does_not_name_and_refuses_deletion() {
    // The upstream, and a Distribution caching it that has stored nothing yet.
    let upstream = TestRegistry::start_with(Options::plain(), |s: &Storage| {
        s.push(
            "lib/app",
            &["v1"],
            &image("linux/amd64", "2024-01-01T00:00:00Z", "cached"),
        );
    });
    let cache = TestRegistry::start(Options {
        remote: Some(format!("http://{}", upstream.host())),
        ..Options::default()
    });
    let host = cache.host();
    let catalog = regctl().trusted(&cache).args(["ls", &host]).run();
    catalog.success();
    assert!(
        !catalog.stdout.contains("lib/app"),
        "the cache's catalog names it already: {}",
        catalog.stdout
    );

    let run = regctl()
        .trusted(&cache)
        .args(["ls", &format!("{host}/lib/app")])
        .run();
    run.success();
    assert_eq!(run.stdout, format!("{host}/lib/app:v1\n"), "{}", run.stderr);

    // Deletion: the cache answers 405 whatever its config says; both causes named.
    let rm = regctl()
        .trusted(&cache)
        .args(["rm", &format!("{host}/lib/app:v1"), "--yes"])
        .run();
    rm.code(5);
    assert!(rm.stderr.contains("pull-through cache"), "{}", rm.stderr);
    assert!(rm.stderr.contains("upstream"), "{}", rm.stderr);
    // Still there, on the cache and upstream.
    let cached = format!("{host}/lib/app:v1");
    regctl()
        .trusted(&cache)
        .args(["digest", &cached])
        .run()
        .success();
    let origin = format!("{}/lib/app:v1", upstream.host());
    regctl()
        .args(["--plain-http", "digest", &origin])
        .run()
        .success();
}

/// A repository whose name has capitals (the registry holds it; the grammar wants
/// lower case) is listed and can be addressed; a name that cannot go in a URL is
/// a failure of the listing, in JSON too, never a quiet skip with exit 0.
#[test]
fn a_repository_named_with_capitals_is_listed_and_addressed() {
    let img = crate::fixture::image("linux/amd64", "2024-01-01T00:00:00Z", "capitals");
    let i = img.clone();
    let reg = TestRegistry::start_with(Options::default(), |s| {
        s.push("cA/rm", &["v1"], &i);
        s.push("ok/app", &["v1"], &i);
    });
    let run = regctl().trusted(&reg).args(["ls", &reg.host()]).run();
    run.success();
    assert_eq!(
        run.lines(),
        vec![
            format!("{}/cA/rm:v1", reg.host()).as_str(),
            format!("{}/ok/app:v1", reg.host()).as_str()
        ]
    );
    let digest = regctl()
        .trusted(&reg)
        .args(["digest", &format!("{}/cA/rm:v1", reg.host())])
        .run();
    digest.success();
    assert_eq!(digest.stdout.trim(), img.digest);
}

#[test]
fn a_catalog_name_that_cannot_be_listed_is_an_error_entry_and_exit_1() {
    let img = crate::fixture::image("linux/amd64", "2024-01-01T00:00:00Z", "odd names");
    let f = crate::resilience::fronted_with(
        move |s| {
            s.push("ok/app", &["v1"], &img);
        },
        |req, fwd| {
            let mut answer = fwd(req);
            if req.target.starts_with("/v2/_catalog") {
                let mut page: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
                page["repositories"]
                    .as_array_mut()
                    .unwrap()
                    .push("we ird/../x".into());
                answer.body = serde_json::to_vec(&page).unwrap();
            }
            answer
        },
    );
    let run = f.regctl().args(["ls", &f.host(), "--format", "json"]).run();
    run.code(1);
    let entries: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).unwrap();
    assert!(entries
        .iter()
        .any(|e| e["repository"] == "ok/app" && e["tag"] == "v1"));
    let bad = entries
        .iter()
        .find(|e| e["repository"] == "we ird/../x")
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(
        bad["error"]
            .as_str()
            .unwrap()
            .contains("not a repository name"),
        "{bad}"
    );
    assert!(run.stderr.contains("incomplete"), "{}", run.stderr);
}
