//! `regctl digest` against a TLS + htpasswd registry, cross-checked with skopeo.

use crate::fixture::{image, sha256, Image, Storage};
use crate::harness::{regctl, Options, TestRegistry};

const CREATED: &str = "2024-01-01T00:00:00Z";

fn images() -> (Image, Image, Image) {
    (
        image("linux/amd64", CREATED, "multi"),
        image("linux/arm64/v8", CREATED, "multi"),
        image("linux/amd64", CREATED, "single"),
    )
}

fn populate(s: &Storage) {
    let (amd, arm, single) = images();
    s.push_index("multi", &["v1", "latest"], &[amd, arm]);
    s.push("single", &["v1", "stable"], &single);
}

/// The digest of the raw manifest skopeo fetches: an independent client's view.
fn skopeo_digest(reg: &TestRegistry, reference: &str) -> String {
    sha256(&crate::harness::skopeo_raw(reg, reference))
}

#[test]
fn resolves_tags_of_indexes_and_images_as_skopeo_sees_them() {
    let reg = TestRegistry::start_with(Options::default(), populate);
    let host = reg.host();
    let (amd, arm, single) = images();
    let refs = ["multi:v1", "single:stable", "multi:latest", "single:v1"];
    let args: Vec<String> = refs.iter().map(|r| format!("{host}/{r}")).collect();
    let run = regctl().trusted(&reg).args(["digest"]).args(&args).run();
    run.success();
    let lines = run.lines();
    let index_digest = crate::fixture::index(&[amd.clone(), arm.clone()]).1;
    assert_eq!(
        lines,
        vec![
            index_digest.as_str(),
            &single.digest,
            &index_digest,
            &single.digest
        ]
    );
    // The index digest, not a child's: the full Accept list was sent.
    for (line, r) in lines.iter().zip(refs) {
        assert_eq!(*line, skopeo_digest(&reg, r), "{r}");
    }
}

#[test]
fn platform_picks_the_matching_child_of_an_index() {
    let reg = TestRegistry::start_with(Options::default(), populate);
    let host = reg.host();
    let (amd, arm, single) = images();
    let platform = |repository: &str, platform: &str| {
        regctl()
            .trusted(&reg)
            .args([
                "digest",
                &format!("{host}/{repository}:v1"),
                "--platform",
                platform,
            ])
            .run()
    };
    for (repository, wanted, digest) in [
        ("multi", "linux/arm64", &arm.digest),
        ("multi", "linux/amd64", &amd.digest),
        ("single", "linux/amd64", &single.digest),
    ] {
        let run = platform(repository, wanted);
        run.success();
        assert_eq!(run.stdout.trim(), digest, "{repository} {wanted}");
    }
    let missing = platform("multi", "windows/amd64");
    missing.code(4);
    assert!(
        missing.stderr.contains("linux/arm64/v8"),
        "names what the index has: {}",
        missing.stderr
    );
    let wrong = platform("single", "linux/arm64");
    wrong.code(4);
    assert!(wrong.stderr.contains("linux/amd64"), "{}", wrong.stderr);
}

#[test]
fn digest_references_are_verified_and_missing_ones_reported_in_order() {
    let reg = TestRegistry::start_with(Options::default(), populate);
    let host = reg.host();
    let single = images().2;
    let unknown = sha256(b"nothing");
    let run = regctl()
        .trusted(&reg)
        .args([
            "digest",
            &format!("{host}/single@{}", single.digest),
            &format!("{host}/single:nope"),
            &format!("{host}/single@{unknown}"),
            &format!("{host}/absent/repo:v1"),
            &format!("{host}/single:v1"),
        ])
        .run();
    run.code(4);
    assert_eq!(
        run.lines(),
        vec![single.digest.as_str(), "", "", "", &single.digest],
        "one line per reference, in order: empty for those that failed"
    );
    for missing in [
        "single:nope",
        &format!("single@{unknown}"),
        "absent/repo:v1",
    ] {
        assert!(
            run.stderr.contains(&format!("{host}/{missing}")),
            "names {missing}: {}",
            run.stderr
        );
    }
    let json = regctl()
        .trusted(&reg)
        .args([
            "digest",
            &format!("{host}/single:v1"),
            &format!("{host}/single:nope"),
            "--format",
            "json",
        ])
        .run();
    json.code(4);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v[0]["reference"], format!("{host}/single:v1"));
    assert_eq!(v[0]["digest"], single.digest);
    assert_eq!(v[1]["reference"], format!("{host}/single:nope"));
    assert!(v[1]["error"].as_str().unwrap().contains("not found"));
}
