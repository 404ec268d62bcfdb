//! Checks after a destructive operation, made with tools other than regctl:
//! that what should remain still pulls (skopeo, every platform), and that
//! garbage collection freed exactly the blobs it should.

use std::collections::BTreeSet;
use std::process::Command;

use crate::target::Target;

/// A policy that accepts every image: these pulls check reachability, not trust.
const ACCEPT_ANYTHING: &str = r#"{"default":[{"type":"insecureAcceptAnything"}]}"#;

/// Pulls `repository_and_reference` (`repo:tag` or `repo@digest`) from `target`
/// with `skopeo copy --all` (every platform of an index, every blob) into a
/// temporary `oci:` layout. Err carries skopeo's stderr.
///
/// Trust: for Distribution a cert dir holding the registry's certificate as
/// `ca.crt` plus `--src-creds`; for ferro (plain HTTP) `--src-tls-verify=false`.
/// The policy and registries configuration are the test's own, not the machine's.
pub fn pulls(target: &Target, repository_and_reference: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let to = format!("oci:{}:pulled", dir.path().join("layout").display());
    skopeo_copy(target, repository_and_reference, &["--all"], &to)
}

/// `skopeo copy [extra] docker://<target>/<repository_and_reference> <to>`,
/// trusting and logged in to `target` as [`pulls`] says. Err carries skopeo's stderr.
pub fn skopeo_copy(
    target: &Target,
    repository_and_reference: &str,
    extra: &[&str],
    to: &str,
) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.json");
    std::fs::write(&policy, ACCEPT_ANYTHING).unwrap();
    let registries = dir.path().join("registries.conf");
    std::fs::write(&registries, "").unwrap();
    let mut cmd = Command::new("skopeo");
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "no_proxy",
        "REGISTRY_AUTH_FILE",
        "DOCKER_CONFIG",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("HOME", dir.path())
        .env("CONTAINERS_REGISTRIES_CONF", &registries)
        .arg("--policy")
        .arg(&policy)
        .args(["copy", "--retry-times", "0"])
        .args(extra);
    match target {
        Target::Distribution(registry) => {
            let certs = dir.path().join("certs");
            std::fs::create_dir(&certs).unwrap();
            std::fs::copy(&registry.ca, certs.join("ca.crt")).unwrap();
            cmd.arg("--src-cert-dir")
                .arg(&certs)
                .arg("--src-creds")
                .arg(format!(
                    "{}:{}",
                    crate::harness::USER,
                    crate::harness::PASSWORD
                ));
        }
        Target::Ferro(_) => {
            cmd.arg("--src-tls-verify=false").arg("--src-no-creds");
        }
    }
    let out = cmd
        .arg(format!(
            "docker://{}",
            target.reference(repository_and_reference)
        ))
        .arg(to)
        .output()
        .expect("skopeo is installed (scripts/test installs it)");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Asserts that `repository_and_reference` pulls from `target`.
#[track_caller]
pub fn assert_pulls(target: &Target, repository_and_reference: &str) {
    if let Err(stderr) = pulls(target, repository_and_reference) {
        panic!(
            "skopeo could not pull {repository_and_reference}:\n{stderr}\nregistry log:\n{}",
            target.log()
        );
    }
}

/// Asserts that after garbage collection exactly `before - freed` remain:
/// every blob in `freed` was present before, and `after` is the rest.
#[track_caller]
pub fn assert_blobs_freed(
    before: &BTreeSet<String>,
    freed: &BTreeSet<String>,
    after: &BTreeSet<String>,
    gc_output: &str,
) {
    let unknown: Vec<_> = freed.difference(before).collect();
    assert!(
        unknown.is_empty(),
        "expected freed blobs that were never stored: {unknown:?}"
    );
    let expected: BTreeSet<String> = before.difference(freed).cloned().collect();
    let kept_too_many: Vec<_> = after.difference(&expected).collect();
    let freed_too_many: Vec<_> = expected.difference(after).collect();
    assert!(
        kept_too_many.is_empty() && freed_too_many.is_empty(),
        "after garbage collection:\n  still present but expected freed: {kept_too_many:?}\n  freed but expected kept: {freed_too_many:?}\ngarbage-collect said:\n{gc_output}"
    );
}

/// Every blob a set of manifests stores (their own bytes included).
pub fn blobs_of(manifests: &[&crate::artifacts::Manifest]) -> BTreeSet<String> {
    let mut blobs = BTreeSet::new();
    for m in manifests {
        blobs.insert(m.digest.clone());
        blobs.extend(m.blob_digests());
    }
    blobs
}

/// The blobs in a Distribution registry's storage; none for ferro (which has
/// no garbage collector to check).
pub fn blobs_now(target: &mut Target) -> BTreeSet<String> {
    match target.kind() {
        crate::target::Kind::Distribution => target.distribution().blobs(),
        crate::target::Kind::Ferro => BTreeSet::new(),
    }
}
