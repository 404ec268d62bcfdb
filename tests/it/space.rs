//! Bytes in every plan: what `rm` and `prune` say they free is what
//! Distribution's plain `garbage-collect` then removes from its storage folder,
//! byte for byte; every remaining tag still pulls.

use crate::du::populate;
use crate::fixture::image;
use crate::harness::{Options, TestRegistry};
use crate::target::Target;
use crate::verify::assert_pulls;

/// The bytes of every blob in the storage folder.
fn stored_bytes(reg: &TestRegistry) -> u64 {
    let root = reg.storage_root().join("docker/registry/v2/blobs/sha256");
    let mut total = 0;
    for prefix in std::fs::read_dir(root).unwrap().flatten() {
        for blob in std::fs::read_dir(prefix.path()).unwrap().flatten() {
            if let Ok(meta) = std::fs::metadata(blob.path().join("data")) {
                total += meta.len();
            }
        }
    }
    total
}

/// The bytes a JSON plan says it frees, row by row.
fn planned_bytes(plan: &str, field: &str) -> u64 {
    let rows: serde_json::Value = serde_json::from_str(plan).unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r[field].as_u64())
        .sum()
}

/// The total the stderr note gives: "frees … (N bytes) once …".
fn noted_bytes(stderr: &str) -> u64 {
    let start = stderr.find("frees ").expect(stderr);
    let text = &stderr[start..];
    let open = text.find('(').unwrap();
    let close = text.find(" bytes)").unwrap();
    text[open + 1..close].parse().unwrap()
}

fn collect_and_measure(target: &mut Target) -> (u64, u64) {
    let reg = target.distribution();
    let before = stored_bytes(reg);
    reg.garbage_collect();
    (before, stored_bytes(reg))
}

/// Runs `regctl ARGS --yes`, collects garbage, and checks that the collector
/// freed `planned` bytes and that each of `pulls` still pulls.
fn apply_and_check(target: &mut Target, args: &[&str], planned: u64, pulls: &[&str]) {
    target.regctl().args(args).args(["--yes"]).run().success();
    let (before, after) = collect_and_measure(target);
    assert_eq!(
        before - after,
        planned,
        "the collector freed what the plan said"
    );
    check_pulls(target, pulls);
}

fn check_pulls(target: &Target, references: &[&str]) {
    for r in references {
        assert_pulls(target, r);
    }
}

fn start() -> Target {
    Target::Distribution(TestRegistry::start_with(Options::default(), populate))
}

#[test]
fn rm_frees_what_its_plan_says_once_garbage_is_collected() {
    let mut target = start();
    let multi = target.reference("api:multi");
    let dry = target
        .regctl()
        .args(["rm", &multi, "--dry-run", "--format", "json"])
        .run();
    dry.success();
    let planned = planned_bytes(&dry.stdout, "bytes_freed");
    assert!(planned > 0, "{}", dry.stdout);
    assert_eq!(noted_bytes(&dry.stderr), planned, "{}", dry.stderr);
    // A tag-only removal frees nothing: its manifest stays.
    let tag_only = target
        .regctl()
        .args([
            "rm",
            &target.reference("web:latest"),
            "--dry-run",
            "--format",
            "json",
        ])
        .run();
    tag_only.success();
    assert_eq!(planned_bytes(&tag_only.stdout, "bytes_freed"), 0);

    apply_and_check(
        &mut target,
        &["rm", &multi],
        planned,
        &[
            "web:v1",
            "web:v2",
            "web:latest",
            "api:v1",
            "team/tools:stable",
        ],
    );
}

#[test]
fn prune_of_the_whole_registry_frees_what_its_plan_says_once_garbage_is_collected() {
    let mut target = start();
    let host = target.host();
    // v1 in web and in api is one image: deleting it in one repository alone
    // frees nothing, in both all of it.
    let one = target
        .regctl()
        .args([
            "prune",
            &format!("{host}/web"),
            "--match",
            "^v1$",
            "--keep",
            "0",
        ])
        .args(["--dry-run", "--format", "json"])
        .run();
    one.success();
    let both = target
        .regctl()
        .args([
            "prune",
            &host,
            "--match",
            "^v1$",
            "--keep",
            "0",
            "--dry-run",
            "--format",
            "json",
        ])
        .run();
    both.success();
    let planned = planned_bytes(&both.stdout, "bytes_freed");
    assert!(planned > 0, "{}", both.stdout);
    assert!(
        both.stderr.contains("reckoned over all of"),
        "{}",
        both.stderr
    );
    assert_eq!(noted_bytes(&both.stderr), planned);
    // web alone: api still uses the image, and the plan (reckoned over the whole
    // registry) says it frees nothing.
    assert!(
        one.stderr.contains("reckoned over all of"),
        "{}",
        one.stderr
    );
    assert_eq!(noted_bytes(&one.stderr), 0, "{}", one.stderr);

    apply_and_check(
        &mut target,
        &["prune", &host, "--match", "^v1$", "--keep", "0"],
        planned,
        &["web:v2", "web:latest", "api:multi", "team/tools:stable"],
    );
}

#[test]
fn attachments_forced_children_and_tag_removals_free_what_the_plan_says() {
    use crate::artifacts::Cosign;
    let mut target = Target::Distribution(TestRegistry::start(Options::default()));
    let signed = image("linux/amd64", "2024-01-01T00:00:00Z", "space-signed");
    let digest = target.push_image("app", &["signed", "also"], &signed);
    target.push_cosign("app", &digest, Cosign::Signature);
    let children = [
        image("linux/amd64", "2024-01-01T00:00:00Z", "space-child-a"),
        image("linux/arm64", "2024-01-01T00:00:00Z", "space-child-b"),
    ];
    target.push_index("app", &["multi"], &children);
    // Each step: the plan's total, then garbage collection frees exactly that.
    let steps: [&[&str]; 3] = [
        // A tag-only removal: its manifest stays, nothing is freed.
        &["rm", "app:also"],
        // The image and its signature.
        &["rm", "app:signed"],
        // A child the index still lists (--force): its manifest stays (the
        // index references it), its config and layer go.
        &["rm", "app@CHILD", "--force"],
    ];
    for step in steps {
        let args: Vec<String> = step
            .iter()
            .map(|a| match *a {
                "rm" | "--force" => a.to_string(),
                "app@CHILD" => target.reference(&format!("app@{}", children[1].digest)),
                other => target.reference(other),
            })
            .collect();
        let dry = target
            .regctl()
            .args(&args)
            .args(["--dry-run", "--format", "json"])
            .run();
        dry.success();
        let planned = planned_bytes(&dry.stdout, "bytes_freed");
        // Measured before the change: a tag removal's throw-away manifest comes
        // and goes within the run.
        target.distribution().garbage_collect();
        let before = stored_bytes(target.distribution());
        target.regctl().args(&args).args(["--yes"]).run().success();
        let (_, after) = collect_and_measure(&mut target);
        assert_eq!(before - after, planned, "{step:?}: {}", dry.stdout);
    }
}

/// Blobs another repository still uses: `rm` and `prune` of a prefix reckon over
/// the whole registry (its collector keeps a blob any repository's manifest
/// references), so what they say they free is what it frees.
#[test]
fn blobs_other_repositories_use_are_not_counted_as_freed() {
    let shared = image("linux/amd64", "2024-01-01T00:00:00Z", "space shared");
    let alone = image("linux/amd64", "2024-01-02T00:00:00Z", "space alone");
    let (s, a) = (shared.clone(), alone.clone());
    let mut target = Target::Distribution(TestRegistry::start_with(Options::default(), |st| {
        st.push("team/a", &["shared"], &s);
        st.push("team/a", &["alone"], &a);
        st.push("team/b", &["v1"], &s);
        st.push("other", &["v1"], &a);
    }));
    let plan = |target: &Target, args: &[&str]| {
        let run = target.regctl().args(args).args(["--dry-run"]).run();
        run.success();
        assert!(
            run.stderr.contains("reckoned over all of"),
            "{}",
            run.stderr
        );
        noted_bytes(&run.stderr)
    };
    // Every blob of team/a is used elsewhere: nothing is freed.
    let shared_ref = target.reference("team/a:shared");
    let alone_ref = target.reference("team/a:alone");
    assert_eq!(plan(&target, &["rm", &shared_ref, &alone_ref]), 0);
    let team_a = target.reference("team/a");
    assert_eq!(plan(&target, &["prune", &team_a, "--keep", "0"]), 0);
    apply_and_check(
        &mut target,
        &["rm", &shared_ref, &alone_ref],
        0,
        &["team/b:v1", "other:v1"],
    );
    // Now team/b holds the last reference to `shared`: all of it goes.
    let team = target.reference("team");
    let last = plan(&target, &["prune", &team, "--keep", "0"]);
    assert!(last > 0);
    apply_and_check(
        &mut target,
        &["prune", &team, "--keep", "0", "--allow-empty-repositories"],
        last,
        &["other:v1"],
    );
}

/// Without a catalog (GHCR answers 404), other repositories cannot be read: the
/// figure is an upper bound and says so.
#[test]
fn without_a_catalog_the_figure_is_an_upper_bound_and_says_why() {
    let img = image("linux/amd64", "2024-01-01T00:00:00Z", "space no catalog");
    let f = crate::resilience::fronted_with(
        move |s| {
            s.push("a", &["v1"], &img);
        },
        |req, fwd| {
            if req.target.starts_with("/v2/_catalog") {
                crate::http::Response::json(404, serde_json::json!({"errors": []}))
            } else {
                fwd(req)
            }
        },
    );
    let run = f
        .regctl()
        .args(["rm", &format!("{}/a:v1", f.host()), "--dry-run"])
        .run();
    run.success();
    assert!(
        run.stderr.contains("frees up to") && run.stderr.contains("catalog could not be read"),
        "{}",
        run.stderr
    );
}

/// A foreign layer (a Windows base layer, fetched from its URLs) is not stored by
/// the registry: `du` does not count it, `inspect` shows it apart, and `rm`
/// frees what the collector frees.
#[test]
fn foreign_layers_are_neither_stored_bytes_nor_freed() {
    use crate::fixture::sha256;
    let config = br#"{"architecture":"amd64","os":"windows","created":"2024-01-01T00:00:00Z","rootfs":{"type":"layers","diff_ids":[]}}"#.to_vec();
    let local = b"a local layer on a foreign base".to_vec();
    let foreign = sha256(b"a 1.5 GB base layer nobody pushed");
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": crate::fixture::DOCKER_MANIFEST,
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
            "digest": sha256(&config), "size": config.len()},
        "layers": [
            {"mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
             "digest": foreign, "size": 1_500_000_000u64,
             "urls": ["https://mcr.example/base.tar.gz"]},
            {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
             "digest": sha256(&local), "size": local.len()}]}))
    .unwrap();
    let (c, l, m) = (config.clone(), local.clone(), manifest.clone());
    let mut target = Target::Distribution(TestRegistry::start_with(Options::default(), |s| {
        s.layer("win", &c);
        s.layer("win", &l);
        let d = s.manifest("win", &m);
        s.tag("win", "v1", &d);
    }));
    let stored = (manifest.len() + config.len() + local.len()) as u64;
    let du = target
        .regctl()
        .args(["du", &target.reference("win"), "--format", "json"])
        .run();
    du.success();
    let report: serde_json::Value = serde_json::from_str(&du.stdout).unwrap();
    let bytes = report.to_string();
    assert!(!bytes.contains("1500000"), "{}", du.stdout);
    assert!(bytes.contains(&stored.to_string()), "{}", du.stdout);
    let inspect = target
        .regctl()
        .args(["inspect", &target.reference("win:v1")])
        .run();
    inspect.success();
    assert!(
        format!("{}{}", inspect.stdout, inspect.stderr).contains("1 layer is foreign"),
        "{}{}",
        inspect.stdout,
        inspect.stderr
    );
    let dry = target
        .regctl()
        .args(["rm", &target.reference("win:v1"), "--dry-run"])
        .run();
    dry.success();
    assert_eq!(noted_bytes(&dry.stderr), stored, "{}", dry.stderr);
    let v1 = target.reference("win:v1");
    apply_and_check(&mut target, &["rm", &v1], stored, &[]);
}
