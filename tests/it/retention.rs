//! Retention people ask for, end to end on both registries: keep per release
//! line (`--group`), semver order, `--keep-tags`, and never what is running
//! (`--protect` files made by the real kubectl, a helm-style multi-document
//! YAML, a compose file); a policy file for CI; a Markdown report. After each
//! real prune the kept and protected images pull with skopeo and, on
//! Distribution, the plain garbage collector frees exactly what the deleted
//! images alone used.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::artifacts::{self, cosign_tag, Cosign, Manifest};
use crate::fixture::{oci_image, Image};
use crate::harness::output_ok;
use crate::on_both;
use crate::target::{Kind, Target};
use crate::verify::{assert_blobs_freed, assert_pulls, blobs_now, blobs_of};

fn dated(day: u32, seed: &str) -> Image {
    oci_image("linux/amd64", &format!("2024-01-{day:02}T00:00:00Z"), seed)
}

fn tags(target: &Target, repository: &str) -> Vec<String> {
    target.listed_tags(repository)
}

/// `kubectl ... --dry-run=client -o FORMAT` with no cluster and no kubeconfig.
fn kubectl(args: &[&str]) -> String {
    let out = output_ok(
        Command::new("kubectl")
            .args(args)
            .args(["--dry-run=client"])
            .env("KUBECONFIG", "/dev/null"),
    );
    String::from_utf8(out).unwrap()
}

/// The repository of the scenario: release lines 1.2 and 1.3 (pre-releases
/// among them), a multi-arch release, `stable`, development builds; each image
/// signed.
struct Releases {
    v120: Vec<Image>,
    v121: Image,
    v122rc: Image,
    v130: Image,
    v131: Image,
    v090: Image,
    stable: Image,
    dev_old: Image,
    dev_new: Image,
}

fn releases() -> Releases {
    Releases {
        v120: vec![
            oci_image("linux/amd64", "2024-01-01T00:00:00Z", "r120"),
            oci_image("linux/arm64", "2024-01-01T00:00:00Z", "r120"),
        ],
        v121: dated(2, "r121"),
        v122rc: dated(5, "r122rc"),
        v130: dated(6, "r130"),
        v131: dated(3, "r131"),
        v090: dated(1, "r090"),
        stable: dated(1, "stable"),
        dev_old: dated(7, "dev-old"),
        dev_new: dated(8, "dev-new"),
    }
}

on_both!(
    fn release_lines_semver_and_what_kubernetes_runs_decide_together(target) {
        let r = releases();
        let index = artifacts::index(&r.v120);
        target.push_index("app", &["v1.2.0"], &r.v120);
        for (tags, image) in [
            (&["v1.2.1"][..], &r.v121),
            (&["v1.2.2-rc.1"], &r.v122rc),
            (&["v1.3.0"], &r.v130),
            (&["v1.3.1", "latest"], &r.v131),
            (&["v0.9.0"], &r.v090),
            (&["stable"], &r.stable),
            (&["dev-old"], &r.dev_old),
            (&["dev-new"], &r.dev_new),
        ] {
            target.push_image("app", tags, image);
        }
        let m = |i: &Image| Manifest::from(i);
        let signed = [&index.digest, &m(&r.v121).digest, &m(&r.v131).digest, &m(&r.dev_old).digest];
        let sigs: Vec<Manifest> = signed.iter().map(|d| target.push_cosign("app", d, Cosign::Signature)).collect();

        // What runs, as the real kubectl writes it: a Deployment (JSON) and a
        // CronJob (YAML, a helm-style multi-document file with a ConfigMap), a
        // pod as `kubectl get pods -o json` lists it, its status naming the
        // platform it pulled by digest, and a compose file pinning by digest.
        let dir = tempfile::tempdir().unwrap();
        let host = target.host();
        let deployment = kubectl(&["create", "deployment", "api", "--image", &format!("{host}/app:v1.3.0"), "-o", "json"]);
        let pod = serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-7d4b9", "namespace": "prod"},
            "spec": {"containers": [{"name": "web", "image": format!("{host}/app:v1.2.0")}]},
            "status": {"containerStatuses": [{"name": "web", "image": format!("{host}/app:v1.2.0"),
                "imageID": format!("{host}/app@{}", r.v120[0].digest)}]}
        });
        let deployment: serde_json::Value = serde_json::from_str(&deployment).unwrap();
        let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [deployment, pod]});
        std::fs::write(dir.path().join("running.json"), list.to_string()).unwrap();
        let cronjob = kubectl(&["create", "cronjob", "report", "--image", &format!("{host}/app:stable"), "--schedule", "0 3 * * *", "-o", "yaml"]);
        let rendered = format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n---\n{cronjob}");
        std::fs::write(dir.path().join("chart.yaml"), rendered).unwrap();
        std::fs::write(
            dir.path().join("compose.yaml"),
            format!("services:\n  legacy:\n    image: {host}/app@{}\n", m(&r.v090).digest),
        )
        .unwrap();
        let report = dir.path().join("plan.md");
        let app = target.reference("app");
        let args = |extra: &[&str]| {
            let mut a: Vec<String> = ["prune", &app, "--keep", "1", "--order", "semver", "--group", r"^v(\d+\.\d+)\."]
                .iter()
                .map(|s| s.to_string())
                .collect();
            for f in ["running.json", "chart.yaml", "compose.yaml"] {
                a.push("--protect".into());
                a.push(dir.path().join(f).display().to_string());
            }
            a.extend(extra.iter().map(|s| s.to_string()));
            a
        };

        let dry = target.regctl().args(args(&["--dry-run", "--format", "json", "--report"])).arg_path(&report).run();
        dry.success();
        let lines: Vec<serde_json::Value> = serde_json::from_str(&dry.stdout).unwrap();
        let line = |digest: &str| lines.iter().find(|l| l["digest"] == digest).unwrap_or_else(|| panic!("{digest}: {}", dry.stdout));
        let reason = |digest: &str| line(digest)["reason"].as_str().unwrap().to_string();
        let decision = |digest: &str| line(digest)["decision"].as_str().unwrap().to_string();
        let running = dir.path().join("running.json").display().to_string();
        assert_eq!(reason(&index.digest), format!("protected: named by {running}: Pod/prod/web-7d4b9"));
        assert_eq!(reason(&m(&r.v130).digest), format!("protected: named by {running}: Deployment/api"));
        assert!(reason(&m(&r.stable).digest).ends_with("chart.yaml: CronJob/report"), "{}", reason(&m(&r.stable).digest));
        assert!(reason(&m(&r.v090).digest).ends_with("compose.yaml: service legacy"));
        // Semver beats the date in a release line; a pre-release ranks above the
        // release before it.
        assert_eq!(decision(&m(&r.v131).digest), "keep");
        assert_eq!(reason(&m(&r.v131).digest), "among the newest 1 of group 1.3 (by semver: v1.3.1)");
        assert_eq!(reason(&m(&r.v122rc).digest), "among the newest 1 of group 1.2 (by semver: v1.2.2-rc.1)");
        assert_eq!(line(&m(&r.v122rc).digest)["group"], "1.2");
        assert_eq!(decision(&m(&r.v121).digest), "delete");
        // Images without a semver tag form their own group, ranked by date.
        assert_eq!(reason(&m(&r.dev_new).digest), "among the newest 1 (no semver tag: ranked by date, after those with one)");
        assert_eq!(decision(&m(&r.dev_old).digest), "delete");
        let markdown = std::fs::read_to_string(&report).unwrap();
        assert!(markdown.contains(&format!("## {host}/app")), "{markdown}");
        assert!(markdown.contains("### Kept") && markdown.contains("### Deleted"));
        assert!(markdown.contains("protected: named by") && markdown.contains("not among the newest 1 of group 1.2"));

        let before = blobs_now(target);
        target.regctl().args(args(&["--yes"])).run().success();
        let mut left: Vec<String> = ["latest", "stable", "v0.9.0", "v1.2.0", "v1.2.2-rc.1", "v1.3.0", "v1.3.1", "dev-new"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        left.push(cosign_tag(&index.digest, Cosign::Signature));
        left.push(cosign_tag(&m(&r.v131).digest, Cosign::Signature));
        left.sort();
        assert_eq!(tags(target, "app"), left);
        if target.kind() == Kind::Distribution {
            let gone = [&m(&r.v121), &m(&r.dev_old), &sigs[1], &sigs[3]];
            let kept_images: Vec<Manifest> = [&r.v122rc, &r.v130, &r.v131, &r.v090, &r.stable, &r.dev_new]
                .iter()
                .map(|i| m(i))
                .chain(r.v120.iter().map(Manifest::from))
                .collect();
            let mut kept: Vec<&Manifest> = kept_images.iter().collect();
            kept.extend([&index, &sigs[0], &sigs[2]]);
            let freed: BTreeSet<String> = blobs_of(&gone).difference(&blobs_of(&kept)).cloned().collect();
            let registry = target.distribution();
            let output = registry.garbage_collect();
            let after = registry.blobs();
            assert_blobs_freed(&before, &freed, &after, &output);
        }
        for reference in ["app:v1.2.0", "app:v1.3.0", "app:stable", "app:v0.9.0", "app:v1.3.1", "app:v1.2.2-rc.1", "app:dev-new"] {
            assert_pulls(target, reference);
        }
    }
);

const POLICY: &str = "# nightly clean-up\nrules:\n  - name: releases\n    repositories: [app]\n    keep: 1\n    keep-tags: '^stable$'\n  - name: teams\n    repositories: ['team/**']\n    older-than: 1d\n";

on_both!(
    fn a_policy_file_decides_per_repository_and_leaves_the_rest_alone(target) {
        target.push_image("app", &["a"], &dated(1, "pa"));
        target.push_image("app", &["b"], &dated(2, "pb"));
        target.push_image("app", &["stable"], &dated(1, "ps"));
        target.push_image("team/x/api", &["old"], &dated(1, "tx"));
        target.push_image("other", &["old"], &dated(1, "o1"));
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("policy.yaml");
        std::fs::write(&policy, POLICY).unwrap();

        let check = target.regctl().args(["prune", &target.host(), "--policy"]).arg_path(&policy).arg("--check").run();
        check.success();
        let host = target.host();
        assert_eq!(
            check.lines(),
            [format!("{host}/app releases"), format!("{host}/other -"), format!("{host}/team/x/api teams")]
        );

        let run = target.regctl().args(["prune", &target.host(), "--policy"]).arg_path(&policy).args(["--yes", "--allow-empty-repositories"]).run();
        run.success();
        assert_eq!(tags(target, "app"), ["b", "stable"]);
        assert_eq!(tags(target, "other"), ["old"], "no rule: left alone");
        let gone = target.regctl().args(["ls", &target.reference("team/x/api")]).run();
        assert!(gone.stdout.is_empty(), "{}", gone.stdout);
        assert_pulls(target, "app:b");
        assert_pulls(target, "other:old");
    }
);

/// Each mistake: exit 2, naming the file, line and key; no request sent.
#[test]
fn bad_policies_and_protection_files_stop_before_any_request() {
    let registry = crate::harness::TestRegistry::start(crate::harness::Options::default());
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "unknown.yaml",
            POLICY.replace("keep: 1", "kep: 1"),
            "line 5",
            "unknown field `kep`",
        ),
        (
            "regex.yaml",
            POLICY.replace("'^stable$'", "'^(stable'"),
            "line 6",
            "keep-tags: invalid regular expression",
        ),
        (
            "twice.yaml",
            POLICY.replace("['team/**']", "[app]"),
            "line 7",
            "`app` is also in releases (line 3)",
        ),
    ];
    for (name, text, line, words) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let run = crate::harness::regctl()
            .trusted(&registry)
            .args(["-v", "prune", &registry.host(), "--dry-run", "--policy"])
            .arg_path(&path)
            .run();
        run.code(2);
        assert!(
            run.stderr
                .contains(&format!("{}: {line}: ", path.display()))
                && run.stderr.contains(words),
            "{name}: {}",
            run.stderr
        );
        assert!(
            !run.stderr.contains("GET "),
            "a request was sent: {}",
            run.stderr
        );
    }
    // Flags a policy would silently override, and standard input read twice.
    let policy = dir.path().join("good.yaml");
    std::fs::write(&policy, POLICY).unwrap();
    let both = crate::harness::regctl()
        .trusted(&registry)
        .args([
            "prune",
            &registry.host(),
            "--dry-run",
            "--order",
            "semver",
            "--policy",
        ])
        .arg_path(&policy)
        .run();
    both.code(2);
    let twice = crate::harness::regctl()
        .trusted(&registry)
        .args([
            "-v",
            "-u",
            "testuser",
            "--password-stdin",
            "prune",
            &registry.reference_for("app"),
            "--keep",
            "1",
            "--dry-run",
            "--protect",
            "-",
        ])
        .stdin("testpassword\nregistry.example/app:v1\n")
        .run();
    twice.code(2);
    assert!(
        twice.stderr.contains("standard input can be read once"),
        "{}",
        twice.stderr
    );
    assert!(!twice.stderr.contains("GET "), "{}", twice.stderr);
    // A file in a shape that names no image protects nothing: refused.
    let shapeless = dir.path().join("values.yaml");
    std::fs::write(&shapeless, "app: registry.example/app:v1\n").unwrap();
    let run = crate::harness::regctl()
        .trusted(&registry)
        .args([
            "prune",
            &registry.reference_for("app"),
            "--keep",
            "1",
            "--dry-run",
            "--protect",
        ])
        .arg_path(&shapeless)
        .run();
    run.code(2);
    assert!(run.stderr.contains("names no image"), "{}", run.stderr);
    let junk = dir.path().join("pods.json");
    std::fs::write(&junk, "{\"kind\": \"List\", \"items\": [\n").unwrap();
    let run = crate::harness::regctl()
        .trusted(&registry)
        .args([
            "-v",
            "prune",
            &registry.reference_for("app"),
            "--keep",
            "1",
            "--dry-run",
            "--protect",
        ])
        .arg_path(&junk)
        .run();
    run.code(2);
    assert!(
        run.stderr
            .contains(&format!("{}: not JSON", junk.display()))
            && run.stderr.contains("line 2"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("GET "), "{}", run.stderr);
}

/// `--protect-kube` with a cluster that cannot be reached deletes nothing.
#[test]
fn an_unreachable_cluster_stops_the_prune_before_anything_is_deleted() {
    let registry =
        crate::harness::TestRegistry::start_with(crate::harness::Options::default(), |s| {
            s.push("app", &["old"], &dated(1, "k1"));
            s.push("app", &["new"], &dated(2, "k2"));
        });
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("config");
    let port = crate::harness::free_port();
    std::fs::write(
        &kubeconfig,
        format!("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:{port}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user:\n    token: t\n"),
    )
    .unwrap();
    let run = crate::harness::regctl()
        .trusted(&registry)
        .env("KUBECONFIG", &kubeconfig)
        .args([
            "prune",
            &registry.reference_for("app"),
            "--keep",
            "1",
            "--protect-kube",
            "--yes",
        ])
        .run();
    run.code(1);
    assert!(
        run.stderr.contains("--protect-kube: kubectl get")
            && run.stderr.contains("nothing was deleted"),
        "{}",
        run.stderr
    );
    let ls = crate::harness::regctl()
        .trusted(&registry)
        .args(["ls", &registry.reference_for("app")])
        .run();
    assert_eq!(ls.lines().len(), 2, "{}", ls.stdout);
    assert!(Path::new(&kubeconfig).exists());
}
