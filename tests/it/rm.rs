//! `regctl rm` against a TLS + htpasswd registry: what survives as much as what goes.

use std::collections::BTreeMap;
use std::path::Path;

use crate::fixture::{image, sha256, Image, Storage};
use crate::harness::{regctl, Options, Run, TestRegistry};

const CREATED: &str = "2024-01-01T00:00:00Z";

fn shared() -> Image {
    image("linux/amd64", CREATED, "shared")
}
fn lone() -> Image {
    image("linux/amd64", CREATED, "lone")
}
fn children() -> Vec<Image> {
    vec![
        image("linux/amd64", CREATED, "multi"),
        image("linux/arm64", CREATED, "multi"),
    ]
}

fn populate(s: &Storage) {
    s.push("app", &["v1", "latest", "stable"], &shared());
    s.push("app", &["v2"], &lone());
    s.push("other", &["v1"], &shared());
    s.push_index("multi", &["v1"], &children());
}

fn start() -> TestRegistry {
    TestRegistry::start_with(Options::default(), populate)
}

fn rm(reg: &TestRegistry, args: &[&str]) -> Run {
    regctl().trusted(reg).args(["rm"]).args(args).run()
}

fn listing(reg: &TestRegistry) -> Vec<String> {
    let run = regctl()
        .trusted(reg)
        .args(["ls", &reg.host(), "--digests"])
        .run();
    run.success();
    run.lines().iter().map(|l| l.to_string()).collect()
}

/// Every file of the registry's storage with its content: the whole state.
fn storage_state(reg: &TestRegistry) -> BTreeMap<String, Vec<u8>> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
            } else {
                let key = path.strip_prefix(root).unwrap().display().to_string();
                // Upload scratch space is not content.
                if !key.contains("_uploads") {
                    out.insert(key, std::fs::read(&path).unwrap());
                }
            }
        }
    }
    let root = reg.dir.path().join("data");
    let mut out = BTreeMap::new();
    walk(&root, &root, &mut out);
    out
}

fn head_status(reg: &TestRegistry, repository: &str, digest: &str) -> i32 {
    let run = regctl()
        .trusted(reg)
        .args(["digest", &format!("{}/{repository}@{digest}", reg.host())])
        .run();
    run.code
}

/// skopeo's view of a repository's tags: an independent client.
fn skopeo_tags(reg: &TestRegistry, repository: &str) -> Vec<String> {
    let (mut skopeo, _certs) = crate::harness::skopeo(reg, "list-tags");
    let out =
        crate::harness::output_ok(skopeo.arg(format!("docker://{}/{repository}", reg.host())));
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let mut tags: Vec<String> = v["Tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    tags.sort();
    tags
}

#[test]
fn removing_a_tag_keeps_the_tags_that_share_its_digest() {
    let reg = start();
    let host = reg.host();
    let run = rm(&reg, &[&format!("{host}/app:v1"), "--yes"]);
    run.success();
    assert!(
        run.stdout.contains(&format!("tag-removed {host}/app:v1")),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("garbage-collect"),
        "GC note: {}",
        run.stderr
    );
    let d = shared().digest;
    assert_eq!(
        listing(&reg),
        vec![
            format!("{host}/app:latest {d}"),
            format!("{host}/app:stable {d}"),
            format!("{host}/app:v2 {}", lone().digest),
            format!("{host}/multi:v1 {}", crate::fixture::index(&children()).1),
            format!("{host}/other:v1 {d}"),
        ]
    );
    assert_eq!(skopeo_tags(&reg, "app"), vec!["latest", "stable", "v2"]);
    assert_eq!(
        head_status(&reg, "app", &d),
        0,
        "the shared manifest is still there"
    );
}

#[test]
fn removing_the_only_tag_deletes_its_manifest_and_nothing_else() {
    let reg = start();
    let host = reg.host();
    let before = listing(&reg);
    let run = rm(&reg, &[&format!("{host}/app:v2"), "--yes"]);
    run.success();
    assert!(
        run.stdout
            .contains(&format!("deleted {host}/app@{}", lone().digest)),
        "{}",
        run.stdout
    );
    let after = listing(&reg);
    let expected: Vec<String> = before
        .into_iter()
        .filter(|l| !l.starts_with(&format!("{host}/app:v2 ")))
        .collect();
    assert_eq!(after, expected);
    assert_eq!(head_status(&reg, "app", &lone().digest), 4);
}

#[test]
fn deleting_by_digest_removes_exactly_the_tags_on_it_in_that_repository() {
    let reg = start();
    let host = reg.host();
    let d = shared().digest;
    let plan = rm(&reg, &[&format!("{host}/app@{d}"), "--dry-run"]);
    plan.success();
    // No other manifest of app uses its blobs, but other:v1 is the same image:
    // the collector frees none of them, and the plan says so.
    assert_eq!(
        plan.stdout.trim(),
        format!(
            "delete-manifest {host}/app@{d} (named; tags removed: latest, stable, v1; frees 0 bytes)"
        )
    );
    let run = rm(
        &reg,
        &[&format!("{host}/app@{d}"), "--yes", "--format", "json"],
    );
    run.success();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v[0]["outcome"], "deleted");
    assert_eq!(
        v[0]["tags_removed"],
        serde_json::json!(["latest", "stable", "v1"])
    );
    assert_eq!(skopeo_tags(&reg, "app"), vec!["v2"]);
    assert_eq!(
        skopeo_tags(&reg, "other"),
        vec!["v1"],
        "the same digest in another repository stays"
    );
}

#[test]
fn dry_run_changes_nothing() {
    let reg = start();
    let host = reg.host();
    let before = (listing(&reg), storage_state(&reg));
    let run = rm(
        &reg,
        &[
            &format!("{host}/app:v1"),
            &format!("{host}/app:v2"),
            &format!("{host}/multi:v1"),
            "--dry-run",
            "--format",
            "json",
        ],
    );
    run.success();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let actions: Vec<(&str, &str)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["action"].as_str().unwrap(),
                a["reference"].as_str().unwrap(),
            )
        })
        .collect();
    // app:v1 and app:v2 by tag; multi:v1's index, and its two platforms with it.
    assert_eq!(actions.len(), 5, "{actions:?}");
    assert!(actions.contains(&("remove-tag", format!("{host}/app:v1").as_str())));
    for c in children() {
        let child = format!("{host}/multi@{}", c.digest);
        assert!(
            actions.contains(&("delete-manifest", child.as_str())),
            "{actions:?}"
        );
    }
    let v1 = v
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "remove-tag")
        .unwrap();
    assert_eq!(
        v1["tags_kept"],
        serde_json::json!(["latest", "stable"]),
        "{}",
        run.stdout
    );
    assert_eq!((listing(&reg), storage_state(&reg)), before);
}

#[test]
fn registry_without_deletion_is_exit_5_and_unchanged() {
    let reg = TestRegistry::start_with(
        Options {
            delete_enabled: false,
            ..Options::default()
        },
        populate,
    );
    let host = reg.host();
    let before = storage_state(&reg);
    for target in [
        format!("{host}/app:v1"),
        format!("{host}/app:v2"),
        format!("{host}/app@{}", shared().digest),
    ] {
        let run = rm(&reg, &[&target, "--yes"]);
        run.code(5);
        assert!(
            run.stderr.contains("storage.delete.enabled")
                && run.stderr.contains("REGISTRY_STORAGE_DELETE_ENABLED")
                && run.stderr.contains("pull-through cache"),
            "{}",
            run.stderr
        );
    }
    assert_eq!(storage_state(&reg), before);
}

/// Read-only mode (which garbage collection wants) is not "deletion disabled":
/// Distribution answers 405 with `Allow: GET, HEAD` and a text body there, and
/// 405 `UNSUPPORTED` when deletion is off. The message names the mode and says
/// to leave it once the collector is done, not to enable deletion.
#[test]
fn read_only_registry_is_named_read_only_exit_5_and_unchanged() {
    let reg = TestRegistry::start_with(
        Options {
            read_only: true,
            ..Options::default()
        },
        populate,
    );
    let host = reg.host();
    let before = storage_state(&reg);
    let run = rm(&reg, &[&format!("{host}/app:v1"), "--yes"]);
    run.code(5);
    assert!(
        run.stderr.contains("read-only")
            && run.stderr.contains("storage.maintenance.readonly")
            && run.stderr.contains("garbage collection")
            && !run.stderr.contains("storage.delete.enabled"),
        "{}",
        run.stderr
    );
    assert_eq!(storage_state(&reg), before);
}

#[test]
fn without_a_terminal_it_refuses_to_delete_without_yes() {
    let reg = start();
    let before = storage_state(&reg);
    let run = rm(&reg, &[&format!("{}/app:v1", reg.host())]);
    run.code(2);
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
    assert_eq!(storage_state(&reg), before);
}

#[test]
fn missing_references_are_exit_4_or_0_with_ignore_missing() {
    let reg = start();
    let host = reg.host();
    let gone = sha256(b"never pushed");
    let run = rm(
        &reg,
        &[
            &format!("{host}/app:nope"),
            &format!("{host}/app@{gone}"),
            "--yes",
            "--format",
            "json",
        ],
    );
    run.code(4);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .all(|o| o["outcome"] == "missing"),
        "{}",
        run.stdout
    );
    // One present, one gone: the present one is removed, and the exit is 0 when asked.
    let run = rm(
        &reg,
        &[
            &format!("{host}/app:nope"),
            &format!("{host}/app:v1"),
            "--yes",
            "--ignore-missing",
        ],
    );
    run.success();
    assert_eq!(skopeo_tags(&reg, "app"), vec!["latest", "stable", "v2"]);
}

#[test]
fn a_manifest_an_index_references_needs_force_and_the_index_takes_its_children() {
    let reg = start();
    let host = reg.host();
    let child = children()[1].digest.clone();
    let before = storage_state(&reg);
    let run = rm(&reg, &[&format!("{host}/multi@{child}"), "--yes"]);
    run.code(6);
    assert!(
        run.stderr.contains("--force") && run.stderr.contains("v1"),
        "{}",
        run.stderr
    );
    assert_eq!(storage_state(&reg), before);

    let run = rm(&reg, &[&format!("{host}/multi:v1"), "--yes"]);
    run.success();
    assert_eq!(
        head_status(&reg, "multi", &crate::fixture::index(&children()).1),
        4
    );
    for c in children() {
        assert_eq!(
            head_status(&reg, "multi", &c.digest),
            4,
            "the platforms go with their index, so garbage collection frees them"
        );
    }
    let run = rm(&reg, &[&format!("{host}/multi@{child}"), "--yes"]);
    run.code(4);
}

#[test]
fn works_through_token_auth_with_delete_scope() {
    let (reg, tokens) = crate::token::registry_with_token_auth(populate);
    let host = reg.host();
    // A dry run asks for no write scope and says what it could not check.
    let dry = rm(
        &reg,
        &[
            &format!("{host}/app:v1"),
            &format!("{host}/multi:v1"),
            "--dry-run",
        ],
    );
    dry.success();
    let scopes = tokens.scopes();
    // Pull scopes, and the catalog (to reckon what is freed over the registry).
    assert!(
        scopes
            .iter()
            .all(|s| s.ends_with(":pull") || s == "registry:catalog:*"),
        "a dry run asked for {scopes:?}"
    );
    assert!(
        dry.stderr.contains("deletion support not checked"),
        "{}",
        dry.stderr
    );
    let run = rm(
        &reg,
        &[
            &format!("{host}/app:v1"),
            &format!("{host}/app:v2"),
            "--yes",
        ],
    );
    run.success();
    let listed: Vec<String> = regctl()
        .trusted(&reg)
        .args(["ls", &format!("{host}/app")])
        .run()
        .lines()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        listed,
        vec![format!("{host}/app:latest"), format!("{host}/app:stable")]
    );
    let scopes = tokens.scopes();
    assert!(
        scopes.contains(&"repository:app:delete".to_string()),
        "{scopes:?}"
    );
}

#[test]
fn a_manifest_inside_a_nested_index_is_protected() {
    let m = image("linux/amd64", CREATED, "nested");
    let reg = TestRegistry::start_with(Options::default(), |s: &Storage| {
        s.push("nest", &["m"], &m);
        // all -> outer index -> inner (untagged) index -> m
        let (inner, inner_digest) = crate::fixture::index(std::slice::from_ref(&m));
        s.manifest("nest", &inner);
        let outer = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": crate::fixture::OCI_INDEX,
            "manifests": [{"mediaType": crate::fixture::OCI_INDEX, "size": inner.len(), "digest": inner_digest}],
        }))
        .unwrap();
        let outer_digest = s.manifest("nest", &outer);
        s.tag("nest", "all", &outer_digest);
    });
    let host = reg.host();
    let refused = rm(&reg, &[&format!("{host}/nest@{}", m.digest), "--yes"]);
    refused.code(6);
    assert!(refused.stderr.contains("tags: all"), "{}", refused.stderr);
    let run = rm(&reg, &[&format!("{host}/nest:m"), "--dry-run"]);
    run.success();
    assert!(
        run.stdout.starts_with("remove-tag"),
        "the manifest is kept for the index: {}",
        run.stdout
    );
    rm(&reg, &[&format!("{host}/nest:m"), "--yes"]).success();
    assert_eq!(
        head_status(&reg, "nest", &m.digest),
        0,
        "still there for the nested index"
    );
    assert_eq!(skopeo_tags(&reg, "nest"), vec!["all"]);
}

#[test]
fn tag_and_digest_together_remove_that_tag_only_if_it_points_there() {
    let reg = start();
    let host = reg.host();
    let wrong = rm(
        &reg,
        &[&format!("{host}/app:v1@{}", lone().digest), "--yes"],
    );
    wrong.code(6);
    assert!(wrong.stderr.contains("points at"), "{}", wrong.stderr);
    let right = rm(
        &reg,
        &[&format!("{host}/app:v1@{}", shared().digest), "--yes"],
    );
    right.success();
    assert_eq!(
        skopeo_tags(&reg, "app"),
        vec!["latest", "stable", "v2"],
        "latest and stable stay"
    );
}

#[test]
fn run_wide_credentials_are_not_sent_to_docker_hub_or_to_several_registries() {
    let reg = start();
    let host = reg.host();
    let hub = regctl()
        .trusted(&reg)
        .args(["digest", "ubuntu:22.04"])
        .run();
    hub.code(2);
    assert!(hub.stderr.contains("Docker Hub"), "{}", hub.stderr);
    let two = regctl()
        .trusted(&reg)
        .args([
            "digest",
            &format!("{host}/app:v1"),
            "other.example:5000/app:v1",
        ])
        .run();
    two.code(2);
    assert!(two.stderr.contains("2 registries"), "{}", two.stderr);
    let removal = regctl()
        .trusted(&reg)
        .args(["rm", "library/app:v1", "--yes"])
        .run();
    removal.code(2);
}

#[test]
fn a_tag_name_off_the_grammar_keeps_its_manifest_from_deletion_by_digest() {
    let reg = TestRegistry::start_with(Options::default(), |s: &Storage| {
        let img = image("linux/amd64", CREATED, "opaque");
        s.push("odd", &["v1"], &img);
        // Written straight into storage: no client could push this name.
        s.tag("odd", "-not-a-tag", &img.digest);
    });
    let host = reg.host();
    let plan = rm(&reg, &[&format!("{host}/odd:v1"), "--dry-run"]);
    plan.success();
    assert!(plan.stdout.starts_with("remove-tag"), "{}", plan.stdout);
    rm(&reg, &[&format!("{host}/odd:v1"), "--yes"]).success();
    let odd = reg
        .dir
        .path()
        .join("data/docker/registry/v2/repositories/odd/_manifests/tags/-not-a-tag/current/link");
    assert!(odd.exists(), "the tag regctl could not name is untouched");
    assert_eq!(
        head_status(&reg, "odd", &image("linux/amd64", CREATED, "opaque").digest),
        0
    );
}

#[test]
fn a_closed_stderr_neither_stops_nor_breaks_a_removal() {
    // `regctl -v rm ... 2>&1 | head -1`: the reader goes away at once. Every
    // write to stderr then fails; the removal must finish, and exit 0.
    let reg = start();
    let host = reg.host();
    let mut child = regctl()
        .trusted(&reg)
        .args(["-v", "rm", &format!("{host}/app:v1"), "--yes"])
        .spawn();
    drop(child.stderr.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("tag-removed "));
    assert_eq!(skopeo_tags(&reg, "app"), vec!["latest", "stable", "v2"]);
}

/// regctl on a terminal (a pty made by `script`), answering its prompt.
struct Terminal {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    output: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    grew: std::sync::mpsc::Receiver<()>,
}

impl Terminal {
    fn start(reg: &TestRegistry, args: &[&str]) -> Terminal {
        use std::io::Read as _;
        let mut command = vec![env!("CARGO_BIN_EXE_regctl").to_string()];
        command.extend(["--ca-file".into(), reg.ca.display().to_string()]);
        command.extend(args.iter().map(|a| a.to_string()));
        let mut child = std::process::Command::new("script")
            .args(["-qec", &command.join(" "), "/dev/null"])
            .env("REGCTL_USERNAME", crate::harness::USER)
            .env("REGCTL_PASSWORD", crate::harness::PASSWORD)
            .env("HOME", reg.dir.path())
            .env("TERM", "xterm")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("script (util-linux) is installed");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let output = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (tx, grew) = std::sync::mpsc::channel();
        let sink = output.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
                let _ = tx.send(());
            }
        });
        Terminal {
            child,
            stdin,
            output,
            grew,
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }

    /// Waits until the terminal shows `what`.
    fn wait_for(&self, what: &str) {
        while !self.text().contains(what) {
            self.grew
                .recv_timeout(std::time::Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("never showed {what:?}: {:?}", self.text()));
        }
    }

    fn send(&mut self, keys: &str) {
        use std::io::Write as _;
        self.stdin.write_all(keys.as_bytes()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn finish(mut self) -> (i32, String) {
        let status = self.child.wait().unwrap();
        while self.grew.recv().is_ok() {}
        (status.code().unwrap_or(-1), self.text())
    }
}

#[test]
fn the_prompt_needs_y_and_enter_and_ctrl_c_deletes_nothing() {
    let reg = start();
    let host = reg.host();
    let before = storage_state(&reg);
    // `y` alone does nothing; Ctrl-C then leaves, the cursor visible again.
    let mut term = Terminal::start(&reg, &["rm", &format!("{host}/app:v1")]);
    term.wait_for("Delete as above");
    term.send("y");
    term.wait_for("y");
    term.send("\u{3}");
    let (code, shown) = term.finish();
    assert_eq!(code, 130, "{shown:?}");
    assert!(shown.contains("nothing was deleted"), "{shown:?}");
    assert!(
        !shown.contains("in flight"),
        "nothing is in flight at a prompt: {shown:?}"
    );
    assert!(
        shown.contains("\u{1b}[?25h"),
        "cursor shown again: {shown:?}"
    );
    assert_eq!(storage_state(&reg), before);

    // `y` and Enter deletes.
    let mut term = Terminal::start(&reg, &["rm", &format!("{host}/app:v1")]);
    term.wait_for("Delete as above");
    term.send("y\r");
    let (code, shown) = term.finish();
    assert_eq!(code, 0, "{shown:?}");
    assert_eq!(skopeo_tags(&reg, "app"), vec!["latest", "stable", "v2"]);
}

#[test]
fn a_closed_stdout_changes_neither_the_work_nor_the_exit_status() {
    // `regctl ... | head -0`: the reader is gone before regctl writes a line.
    let reg = start();
    let host = reg.host();
    let closed = |args: &[&str]| {
        let mut child = regctl().trusted(&reg).args(args).spawn();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stderr) = closed(&[
        "rm",
        &format!("{host}/app:v2"),
        &format!("{host}/app:gone"),
        "--yes",
    ]);
    assert_eq!(
        code,
        Some(4),
        "the missing reference still decides: {stderr}"
    );
    assert_eq!(
        head_status(&reg, "app", &lone().digest),
        4,
        "v2's image was deleted"
    );
    let (code, stderr) = closed(&[
        "prune",
        &format!("{host}/multi"),
        "--keep",
        "0",
        "--yes",
        "--allow-empty-repositories",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        head_status(&reg, "multi", &crate::fixture::index(&children()).1),
        4,
        "the prune was carried out: {stderr}"
    );
}

#[test]
fn a_reference_without_tag_or_digest_is_refused_and_latest_stays() {
    // In a script, `rm "$REGISTRY/app:$TAG"` with an empty TAG reads `app:`, and
    // `rm "$REGISTRY/app"` would mean `app:latest` to docker: neither removes
    // anything.
    let reg = start();
    let before = storage_state(&reg);
    for input in [
        format!("{}/app", reg.host()),
        format!("{}/app:", reg.host()),
    ] {
        let run = rm(&reg, &[&input, "--yes"]);
        run.code(2);
        assert!(
            run.stderr.contains("tag or digest") || run.stderr.contains("tag"),
            "{input}: {}",
            run.stderr
        );
    }
    assert_eq!(storage_state(&reg), before, "nothing changed");
    assert!(listing(&reg).iter().any(|l| l.contains("/app:latest ")));
}
