//! `regctl cp` and `regctl tag` against real registries: digests kept,
//! attachments carried, nothing sent twice, mounts within one registry, OCI
//! layouts that skopeo reads, and no tag on a half image.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;

use crate::artifacts::{self, Cosign};
use crate::fixture::{image, oci_image, sha256, Image, OCI_MANIFEST};
use crate::harness::{loopback_certificate, regctl, Options, Regctl, TestRegistry, PASSWORD, USER};
use crate::http::{Fault, Response};
use crate::resilience::fronted_with;
use crate::target::{Kind, Target};
use crate::verify::assert_pulls;

fn platforms(seed: &str) -> Vec<Image> {
    vec![
        image(
            "linux/amd64",
            "2024-01-01T00:00:00Z",
            &format!("{seed}-amd64"),
        ),
        image(
            "linux/arm64",
            "2024-01-01T00:00:00Z",
            &format!("{seed}-arm64"),
        ),
    ]
}

/// A regctl that reaches every registry of `targets`: each Distribution's CA
/// and the test user in docker's config for its host (run-wide credentials
/// go to one registry only).
fn reaching(targets: &[&Target]) -> Regctl {
    let mut auths = serde_json::Map::new();
    let mut r = regctl();
    for target in targets {
        if let Target::Distribution(reg) = target {
            let auth =
                base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
            auths.insert(reg.host(), serde_json::json!({ "auth": auth }));
            r = r.args(["--ca-file".as_ref(), reg.ca.as_os_str()]);
        }
    }
    if targets.iter().all(|t| t.kind() == Kind::Ferro) {
        r = r.args(["--plain-http"]);
    }
    r.docker_config(&serde_json::json!({ "auths": auths }).to_string())
}

fn copy_rows(r: Regctl, args: &[&str]) -> Vec<Value> {
    let run = r.args(["cp"]).args(args).args(["--format", "json"]).run();
    run.success();
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

fn digest_of(target: &Target, reference: &str) -> String {
    let run = target
        .regctl()
        .args(["digest", &target.reference(reference)])
        .run();
    run.success();
    run.stdout.trim().to_string()
}

/// Copies the local image `local` back into `a` as `to`, and checks it came with
/// `digest` and pulls.
fn assert_comes_back(a: &Target, local: &str, to: &str, digest: &str) {
    let rows = copy_rows(reaching(&[a]), &[local, &a.reference(to)]);
    assert_eq!(rows[0]["digest"], digest, "{rows:?}");
    assert_eq!(digest_of(a, to), digest);
    assert_pulls(a, to);
}

#[test]
fn a_signed_multi_arch_image_keeps_its_digest_and_signature_and_a_rerun_sends_nothing() {
    let a = Target::start(Kind::Distribution);
    let mut b = Target::start(Kind::Distribution);
    let children = platforms("sig");
    let digest = a.push_index("app", &["v1", "stable"], &children);
    let signature = a.push_cosign("app", &digest, Cosign::Signature);
    let (from, to) = (a.reference("app:v1"), b.reference("mirror/app:v1"));

    let rows = copy_rows(reaching(&[&a, &b]), &[&from, &to]);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["digest"], digest.as_str());
    assert_eq!(rows[0]["attachments"], 1);
    // The index, two platform manifests and the signature; every blob of them.
    assert_eq!(rows[0]["manifests_sent"], 4, "{rows:?}");
    assert_eq!(rows[0]["tags_set"], 2, "{rows:?}");
    assert_eq!(digest_of(&b, "mirror/app:v1"), digest);
    let sig_tag = artifacts::cosign_tag(&digest, Cosign::Signature);
    assert_eq!(
        digest_of(&b, &format!("mirror/app:{sig_tag}")),
        signature.digest
    );
    // Only the tag asked for: `stable` stays behind.
    let listed = b.regctl().args(["ls", &b.reference("mirror")]).run();
    listed.success();
    assert!(!listed.stdout.contains(":stable"), "{}", listed.stdout);
    assert_pulls(&b, "mirror/app:v1");

    let again = copy_rows(reaching(&[&a, &b]), &[&from, &to]);
    for field in [
        "manifests_sent",
        "blobs_sent",
        "bytes_sent",
        "tags_set",
        "blobs_mounted",
    ] {
        assert_eq!(again[0][field], 0, "{field}: {again:?}");
    }
    assert_eq!(again[0]["tags_present"], 2, "{again:?}");
    // With the tag in place, the index's platforms are not read again.
    let verbose = reaching(&[&a, &b])
        .args(["--verbose", "cp", &from, &to])
        .run();
    verbose.success();
    for child in &children {
        assert!(
            !verbose
                .stderr
                .contains(&format!("/manifests/{}", child.digest)),
            "{}",
            verbose.stderr
        );
    }

    // The collector keeps everything copied: each tag still pulls.
    b.distribution().garbage_collect();
    assert_pulls(&b, "mirror/app:v1");
    assert_pulls(&b, &format!("mirror/app:{sig_tag}"));
}

#[test]
fn within_one_registry_blobs_are_mounted_not_sent() {
    let a = Target::start(Kind::Distribution);
    let digest = a.push_index("app", &["v1"], &platforms("mount"));
    let rows = copy_rows(
        reaching(&[&a]),
        &[&a.reference("app:v1"), &a.reference("other/app:v2")],
    );
    assert_eq!(rows[0]["bytes_sent"], 0, "{rows:?}");
    assert_eq!(rows[0]["blobs_sent"], 0, "{rows:?}");
    // Two configs and two layers.
    assert_eq!(rows[0]["blobs_mounted"], 4, "{rows:?}");
    assert_eq!(digest_of(&a, "other/app:v2"), digest);
    assert_pulls(&a, "other/app:v2");
    // The source is untouched.
    assert_eq!(digest_of(&a, "app:v1"), digest);
}

#[test]
fn on_ferro_a_referrer_goes_along_and_the_destination_lists_it() {
    let a = Target::start(Kind::Ferro);
    let b = Target::start(Kind::Ferro);
    let img = oci_image("linux/amd64", "2024-01-01T00:00:00Z", "referred");
    a.push_image("app", &["v1"], &img);
    let subject = artifacts::Manifest::from(&img);
    let sbom = a.push_referrer("app", &subject, "application/spdx+json", b"{}");
    let rows = copy_rows(
        reaching(&[&a, &b]),
        &[&a.reference("app:v1"), &b.reference("app:v1")],
    );
    assert_eq!(rows[0]["attachments"], 1, "{rows:?}");
    let listed = b.http().request(
        "GET",
        &format!("/v2/app/referrers/{}", subject.digest),
        None,
        None,
    );
    assert!(
        String::from_utf8_lossy(&listed.body).contains(&sbom.digest),
        "{}",
        String::from_utf8_lossy(&listed.body)
    );
}

#[test]
fn an_image_goes_to_an_oci_layout_that_skopeo_reads_and_comes_back_with_its_digest() {
    let a = Target::start(Kind::Distribution);
    let digest = a.push_index("app", &["v1"], &platforms("layout"));
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("backup");
    let out = format!("oci:{}:v1", layout.display());
    copy_rows(reaching(&[&a]), &[&a.reference("app:v1"), &out]);
    let inspected = std::process::Command::new("skopeo")
        .args(["inspect", "--raw", &out])
        .output()
        .unwrap();
    assert!(
        inspected.status.success(),
        "{}",
        String::from_utf8_lossy(&inspected.stderr)
    );
    assert_eq!(crate::fixture::sha256(&inspected.stdout), digest);

    assert_comes_back(&a, &out, "restored:v1", &digest);
}

#[test]
fn tag_adds_tags_to_the_manifest_and_moves_no_blob() {
    let a = Target::start(Kind::Distribution);
    let digest = a.push_index("app", &["v1"], &platforms("tag"));
    let run = a
        .regctl()
        .args([
            "tag",
            &a.reference("app:v1"),
            "stable",
            "v1.0",
            "--format",
            "json",
        ])
        .run();
    run.success();
    let rows: Vec<Value> = serde_json::from_str(&run.stdout).unwrap();
    assert!(rows.iter().all(|r| r["outcome"] == "tagged"), "{rows:?}");
    assert_eq!(digest_of(&a, "app:stable"), digest);
    assert_eq!(digest_of(&a, "app:v1.0"), digest);
    let again = a
        .regctl()
        .args(["tag", &a.reference("app:v1"), "stable", "--format", "json"])
        .run();
    again.success();
    assert!(again.stdout.contains("\"present\""), "{}", again.stdout);
}

#[test]
fn cp_r_copies_the_prefix_with_the_tags_selected() {
    let a = Target::start(Kind::Distribution);
    let b = Target::start(Kind::Distribution);
    let one = a.push_image(
        "team/web",
        &["v1", "v2"],
        &image("linux/amd64", "2024-01-01T00:00:00Z", "r-web"),
    );
    a.push_image(
        "team/web",
        &["dev"],
        &image("linux/amd64", "2024-01-02T00:00:00Z", "r-dev"),
    );
    let api = a.push_index("team/api", &["v3"], &platforms("r-api"));
    a.push_image(
        "other",
        &["v1"],
        &image("linux/amd64", "2024-01-01T00:00:00Z", "r-other"),
    );
    let rows = copy_rows(
        reaching(&[&a, &b]),
        &[
            "-r",
            &a.reference("team"),
            &b.reference("prod"),
            "--tags",
            "^v",
        ],
    );
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(digest_of(&b, "prod/web:v1"), one);
    assert_eq!(digest_of(&b, "prod/web:v2"), one);
    assert_eq!(digest_of(&b, "prod/api:v3"), api);
    let listed = b.regctl().args(["ls", &b.host()]).run();
    listed.success();
    assert_eq!(
        listed.lines(),
        [
            format!("{}/prod/api:v3", b.host()),
            format!("{}/prod/web:v1", b.host()),
            format!("{}/prod/web:v2", b.host()),
        ]
    );
}

/// Images of one repository that share a layer, copied side by side: the
/// layer is asked about and sent once, not once per image (Distribution
/// rewrites a blob's link on every upload of it, and a manifest PUT that reads
/// the link meanwhile fails), and every image arrives whole.
#[test]
fn images_sharing_a_layer_place_it_once_and_all_arrive() {
    let a = Target::start(Kind::Distribution);
    let b = Target::start(Kind::Distribution);
    let mut digests = Vec::new();
    for day in 1..=8 {
        let image = image(
            "linux/amd64",
            &format!("2024-01-{day:02}T00:00:00Z"),
            "one-layer",
        );
        digests.push(a.push_image("app", &[&format!("v{day}")], &image));
    }
    let layer = sha256(&image("linux/amd64", "2024-01-01T00:00:00Z", "one-layer").layer);
    let run = reaching(&[&a, &b])
        .args([
            "-v",
            "--concurrency",
            "16",
            "cp",
            "-r",
            &a.reference("app"),
            &b.reference("app"),
        ])
        .run();
    run.success();
    let dst = format!("https://{}/v2/app/blobs/", b.host());
    let heads = run
        .stderr
        .lines()
        .filter(|l| l.starts_with(&format!("HEAD {dst}{layer}")))
        .count();
    let puts = run
        .stderr
        .lines()
        .filter(|l| l.starts_with(&format!("PUT {dst}uploads/")) && l.contains(&layer[7..]))
        .count();
    assert_eq!((heads, puts), (1, 1), "{}", run.stderr);
    for (i, digest) in digests.iter().enumerate() {
        assert_eq!(digest_of(&b, &format!("app:v{}", i + 1)), *digest);
    }
    assert_pulls(&b, "app:v8");
}

#[test]
fn a_destination_that_refuses_pushes_gets_no_tag() {
    let a = Target::start(Kind::Distribution);
    let ro = Target::Distribution(TestRegistry::start(Options {
        read_only: true,
        ..Options::default()
    }));
    a.push_image(
        "app",
        &["v1"],
        &image("linux/amd64", "2024-01-01T00:00:00Z", "ro"),
    );
    let run = reaching(&[&a, &ro])
        .args(["cp", &a.reference("app:v1"), &ro.reference("app:v1")])
        .run();
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains(&ro.host()), "{}", run.stderr);
    let listed = ro.regctl().args(["ls", &ro.host()]).run();
    assert!(!listed.stdout.contains("app:v1"), "{}", listed.stdout);
}

#[test]
fn between_distribution_and_ferro_each_way_the_image_keeps_its_digest_and_attachments() {
    let d = Target::start(Kind::Distribution);
    let f = Target::start(Kind::Ferro);
    let img = oci_image("linux/amd64", "2024-01-01T00:00:00Z", "both ways");
    let digest = f.push_image("app", &["v1"], &img);
    let subject = artifacts::Manifest::from(&img);
    let signature = f.push_cosign("app", &digest, Cosign::Signature);
    // On ferro the referrer is found by the referrers API only: no fallback tag.
    let sbom = f.push_referrer("app", &subject, "application/spdx+json", b"{}");

    let rows = copy_rows(
        reaching(&[&f, &d]),
        &[
            "--src-plain-http",
            &f.reference("app:v1"),
            &d.reference("app:v1"),
        ],
    );
    assert_eq!(rows[0]["attachments"], 2, "{rows:?}");
    assert_eq!(digest_of(&d, "app:v1"), digest);
    let sig_tag = artifacts::cosign_tag(&digest, Cosign::Signature);
    assert_eq!(digest_of(&d, &format!("app:{sig_tag}")), signature.digest);
    // Distribution has no referrers API: the SBOM is listed in the fallback index.
    let fallback = d
        .http()
        .manifest("app", &artifacts::digest_tag(&digest))
        .expect("the fallback index is there");
    assert!(
        String::from_utf8_lossy(&fallback).contains(&sbom.digest),
        "{}",
        String::from_utf8_lossy(&fallback)
    );
    assert_pulls(&d, "app:v1");
    // regctl sees the same attachments on both.
    let inspect = |t: &Target, r: Regctl| {
        let run = r
            .args(["inspect", &t.reference("app:v1"), "--format", "json"])
            .run();
        run.success();
        let v: Value = serde_json::from_str(&run.stdout).unwrap();
        let mut kinds: Vec<String> = v[0]["attachments"]
            .as_array()
            .unwrap_or(&Vec::new())
            .iter()
            .map(|a| a["digest"].as_str().unwrap_or_default().to_string())
            .collect();
        kinds.sort();
        kinds
    };
    let on_d = inspect(&d, d.regctl());
    assert_eq!(on_d.len(), 2, "{on_d:?}");
    assert_eq!(on_d, inspect(&f, f.regctl()));

    // And back, into another repository of ferro.
    let back = copy_rows(
        reaching(&[&d, &f]),
        &[
            "--dst-plain-http",
            &d.reference("app:v1"),
            &f.reference("back:v1"),
        ],
    );
    assert_eq!(back[0]["digest"], digest.as_str(), "{back:?}");
    assert_eq!(digest_of(&f, "back:v1"), digest);
    let listed = f
        .http()
        .request("GET", &format!("/v2/back/referrers/{digest}"), None, None);
    assert!(String::from_utf8_lossy(&listed.body).contains(&sbom.digest));
}

/// An image whose one layer is `size` bytes (more than a chunk: sent in pieces).
fn big_image(size: usize, seed: u8) -> artifacts::Manifest {
    let layer: Vec<u8> = (0..size)
        .map(|i| ((i as u64 * 2_654_435_761) >> 13) as u8 ^ seed)
        .collect();
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["{}"]}}}}"#,
        sha256(&layer)
    )
    .into_bytes();
    let body = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": sha256(&config),
            "size": config.len(),
        },
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": sha256(&layer),
            "size": layer.len(),
        }],
    });
    let bytes = serde_json::to_vec_pretty(&body).unwrap();
    artifacts::Manifest {
        media_type: OCI_MANIFEST,
        artifact_type: None,
        digest: sha256(&bytes),
        bytes,
        blobs: vec![config, layer],
    }
}

/// regctl copying `app:v1` from the fronted Distribution (TLS through the fault
/// proxy, the test user) to plain-HTTP ferro.
fn fronted_to_ferro(source: &crate::resilience::Fronted, f: &Target) -> Regctl {
    regctl()
        .args(["cp", "--dst-plain-http"])
        .args([
            "--ca-file".as_ref(),
            loopback_certificate().cert.as_os_str(),
        ])
        .logged_in()
        .args([&format!("{}/app:v1", source.host()), &f.reference("app:v1")])
}

/// regctl copying from plain-HTTP ferro to the fronted Distribution (TLS through
/// the fault proxy, htpasswd).
fn ferro_to_fronted(args: &[&str]) -> Regctl {
    regctl()
        .args(["cp", "--src-plain-http", "--dst-username", USER])
        .args([
            "--ca-file".as_ref(),
            loopback_certificate().cert.as_os_str(),
        ])
        .args(args)
        .env("REGCTL_DST_PASSWORD", PASSWORD)
}

const MIB: usize = 1024 * 1024;

#[test]
fn a_reset_mid_upload_resumes_and_only_the_lost_chunk_is_sent_again() {
    let f = Target::start(Kind::Ferro);
    let image = big_image(9 * MIB, 1);
    f.push_tagged("app", &["v1"], &image);
    let dropped = Arc::new(AtomicBool::new(false));
    let forwarded = Arc::new(AtomicUsize::new(0));
    let (d, fw) = (dropped.clone(), forwarded.clone());
    let front = fronted_with(
        |_| {},
        move |req, forward| {
            if req.method == "PATCH" && !d.swap(true, Ordering::SeqCst) {
                // The first chunk never reaches the registry: the connection goes.
                return Response::raw(500, Vec::new(), Vec::new()).with_fault(Fault::Close);
            }
            if req.method == "PATCH" || req.method == "PUT" {
                fw.fetch_add(req.body.len(), Ordering::SeqCst);
            }
            forward(req)
        },
    );
    let to = format!("{}/app:v1", front.host());
    let run = ferro_to_fronted(&["--format", "json", &f.reference("app:v1"), &to]).run();
    run.success();
    assert!(
        dropped.load(Ordering::SeqCst),
        "no PATCH was sent: {}",
        run.stderr
    );
    // Every byte of the layer reached the registry once, with the config and the
    // manifests; the chunk lost on the way was the only one sent twice.
    let layer = image.blobs[1].len();
    let others = image.blobs[0].len() + 2 * image.bytes.len();
    assert_eq!(
        forwarded.load(Ordering::SeqCst),
        layer + others,
        "{}",
        run.stderr
    );
    let digest = regctl()
        .args([
            "--ca-file".as_ref(),
            loopback_certificate().cert.as_os_str(),
        ])
        .logged_in()
        .args(["digest", &to])
        .run();
    digest.success();
    assert_eq!(digest.stdout.trim(), image.digest);
}

#[test]
fn a_blob_that_does_not_hash_to_its_digest_is_not_kept_and_no_tag_is_set() {
    let image = big_image(MIB, 2);
    let layer = sha256(&image.blobs[1]);
    let source = fronted_with(
        |_| {},
        move |req, forward| {
            let mut answer = forward(req);
            if req.method == "GET" && req.target.contains(&format!("/blobs/{layer}")) {
                if let Some(byte) = answer.body.get_mut(100) {
                    *byte ^= 0xff;
                }
            }
            answer
        },
    );
    // The image goes in through the proxy's registry directly.
    let http = crate::curl::Endpoint {
        base: format!("http://127.0.0.1:{}", source.registry.port),
        ca: None,
        credentials: Some((USER.to_string(), PASSWORD.to_string())),
    };
    http.push_manifest("app", "v1", &image);
    let f = Target::start(Kind::Ferro);
    let run = fronted_to_ferro(&source, &f).run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&sha256(&image.blobs[1])) && run.stderr.contains("not copied"),
        "{}",
        run.stderr
    );
    let tags = f.http().get("/v2/app/tags/list");
    assert!(!tags.text().contains("v1"), "{}", tags.text());
}

#[test]
fn a_429_with_retry_after_is_waited_out_and_the_copy_completes() {
    let f = Target::start(Kind::Ferro);
    let image = big_image(MIB, 3);
    f.push_tagged("app", &["v1"], &image);
    let refused = Arc::new(AtomicUsize::new(0));
    let r = refused.clone();
    let front = fronted_with(
        |_| {},
        move |req, forward| {
            if req.method == "HEAD"
                && req.target.contains("/blobs/")
                && r.fetch_add(1, Ordering::SeqCst) == 0
            {
                return Response::raw(429, vec![("Retry-After".into(), "1".into())], Vec::new());
            }
            forward(req)
        },
    );
    let to = format!("{}/app:v1", front.host());
    let run = ferro_to_fronted(&[&f.reference("app:v1"), &to]).run();
    run.success();
    assert!(refused.load(Ordering::SeqCst) >= 2, "{}", run.stderr);
}

#[test]
fn a_copy_stopped_part_way_sets_no_tag_and_running_it_again_finishes_it() {
    let f = Target::start(Kind::Ferro);
    let image = big_image(MIB, 4);
    f.push_tagged("app", &["v1"], &image);
    let stalled = Arc::new(AtomicBool::new(false));
    let s = stalled.clone();
    let front = fronted_with(
        |_| {},
        move |req, forward| {
            let answer = forward(req);
            // The first blob upload ends well after the deadline.
            if req.method == "PUT"
                && req.target.contains("/blobs/uploads/")
                && !s.swap(true, Ordering::SeqCst)
            {
                return answer.with_fault(Fault::Stall(Duration::from_millis(2500)));
            }
            answer
        },
    );
    let to = format!("{}/app:v1", front.host());
    let run = ferro_to_fronted(&["--deadline", "1", &f.reference("app:v1"), &to]).run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("no tag was set"), "{}", run.stderr);
    assert!(front.backend_tags("app").is_empty());

    let again = ferro_to_fronted(&[&f.reference("app:v1"), &to, "--format", "json"]).run();
    again.success();
    let tags = front.backend_tags("app");
    assert_eq!(tags.len(), 1, "{tags:?}");
    assert!(
        tags[0].starts_with(&format!("v1 {}", image.digest)),
        "{tags:?}"
    );
}

/// `skopeo inspect --raw` of a local image.
fn skopeo_raw(image: &str) -> Vec<u8> {
    let out = std::process::Command::new("skopeo")
        .args(["inspect", "--raw", image])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The config digest of a manifest.
fn config_of(manifest: &[u8]) -> String {
    let v: Value = serde_json::from_slice(manifest).unwrap();
    v["config"]["digest"].as_str().unwrap().to_string()
}

#[test]
fn a_docker_save_archive_from_skopeo_is_pushed_from_a_file_and_from_standard_input() {
    let a = Target::start(Kind::Distribution);
    a.push_image(
        "web",
        &["1.0"],
        &image("linux/amd64", "2024-01-01T00:00:00Z", "saved"),
    );
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("web.tar");
    crate::verify::skopeo_copy(
        &a,
        "web:1.0",
        &[],
        &format!("docker-archive:{}:web:1.0", archive.display()),
    )
    .unwrap();
    let saved_config = {
        let raw = skopeo_raw(&format!("docker-archive:{}", archive.display()));
        config_of(&raw)
    };

    // From the file: the tag it was saved under goes along.
    let rows = copy_rows(
        reaching(&[&a]),
        &[
            &format!("docker-archive:{}", archive.display()),
            &a.reference("loaded"),
        ],
    );
    assert_eq!(rows[0]["destination"], format!("{}/loaded:1.0", a.host()));
    assert_pulls(&a, "loaded:1.0");
    let pushed = a.http().manifest("loaded", "1.0").unwrap();
    assert_eq!(config_of(&pushed), saved_config);

    // From standard input, as `docker save web:1.0 | regctl cp docker-archive:- ...`.
    let mut cmd = reaching(&[&a])
        .args(["cp", "docker-archive:-", &a.reference("piped:v1")])
        .command();
    let out = cmd
        .stdin(std::fs::File::open(&archive).unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The same layers compress the same way: the same image.
    assert_eq!(digest_of(&a, "piped:v1"), digest_of(&a, "loaded:1.0"));
}

#[test]
fn an_oci_archive_round_trip_keeps_the_digest_and_skopeo_reads_it() {
    let a = Target::start(Kind::Distribution);
    let digest = a.push_index("app", &["v1"], &platforms("archive"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.tar");
    let out = format!("oci-archive:{}:v1", file.display());
    copy_rows(reaching(&[&a]), &[&a.reference("app:v1"), &out]);
    assert_eq!(crate::fixture::sha256(&skopeo_raw(&out)), digest);
    assert_comes_back(&a, &out, "back:v1", &digest);
}

#[test]
fn an_oci_layout_written_by_skopeo_is_pushed_with_its_digest() {
    let a = Target::start(Kind::Distribution);
    a.push_index("app", &["v1"], &platforms("skopeo layout"));
    let dir = tempfile::tempdir().unwrap();
    let layout = format!("oci:{}:v1", dir.path().join("layout").display());
    crate::verify::skopeo_copy(&a, "app:v1", &["--all"], &layout).unwrap();
    // skopeo writes a layout in OCI's media types: the digest is the layout's own.
    let digest = crate::fixture::sha256(&skopeo_raw(&layout));
    assert_comes_back(&a, &layout, "from-skopeo:v1", &digest);
}

#[test]
fn platform_copies_one_child_of_an_index_under_its_own_digest_and_says_so() {
    let a = Target::start(Kind::Distribution);
    let children = platforms("one platform");
    let index = a.push_index("app", &["v1"], &children);
    let arm = children[1].digest.clone();
    let run = reaching(&[&a])
        .args([
            "cp",
            "--platform",
            "linux/arm64",
            &a.reference("app:v1"),
            &a.reference("arm:v1"),
        ])
        .run();
    run.success();
    assert!(
        run.stderr.contains(&index) && run.stderr.contains(&arm),
        "{}",
        run.stderr
    );
    assert_eq!(digest_of(&a, "arm:v1"), arm);
    assert_pulls(&a, "arm:v1");

    let missing = reaching(&[&a])
        .args([
            "cp",
            "--platform",
            "linux/s390x",
            &a.reference("app:v1"),
            &a.reference("s390x:v1"),
        ])
        .run();
    assert_eq!(missing.code, 1, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("no linux/s390x image") && missing.stderr.contains("linux/arm64"),
        "{}",
        missing.stderr
    );
}

#[test]
fn a_source_tag_moved_during_the_copy_is_copied_as_first_read_and_said() {
    let first = image("linux/amd64", "2024-01-01T00:00:00Z", "first");
    let second = image("linux/amd64", "2024-01-02T00:00:00Z", "second");
    let (first_digest, second_manifest) = (first.digest.clone(), second.manifest.clone());
    let moved = Arc::new(AtomicBool::new(false));
    let m = moved.clone();
    let source = fronted_with(
        move |s| {
            s.push("app", &["v1"], &first);
            s.image("app", &second);
        },
        move |req, forward| {
            // While the first blob is read, another client moves the tag.
            if req.method == "GET"
                && req.target.contains("/blobs/")
                && !m.swap(true, Ordering::SeqCst)
            {
                crate::resilience::push_meanwhile(
                    req,
                    forward,
                    "/v2/app/manifests/v1",
                    &second_manifest,
                );
            }
            forward(req)
        },
    );
    let f = Target::start(Kind::Ferro);
    let run = fronted_to_ferro(&source, &f).run();
    run.success();
    assert!(moved.load(Ordering::SeqCst));
    assert!(
        run.stderr.contains("moved to") && run.stderr.contains(&first_digest),
        "{}",
        run.stderr
    );
    assert_eq!(digest_of(&f, "app:v1"), first_digest);
}

#[test]
fn cp_r_to_a_read_only_registry_stops_at_the_first_refusal_and_says_it_once() {
    let a = Target::start(Kind::Distribution);
    let ro = Target::Distribution(TestRegistry::start(Options {
        read_only: true,
        ..Options::default()
    }));
    for n in 0..6 {
        let seed = format!("ro-{n}");
        a.push_image(
            &format!("team/app{n}"),
            &["v1"],
            &image("linux/amd64", "2024-01-01T00:00:00Z", &seed),
        );
    }
    let run = reaching(&[&a, &ro])
        .args([
            "--concurrency",
            "1",
            "cp",
            "-r",
            &a.reference("team"),
            &ro.reference("team"),
        ])
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    // One image found the refusal; the others were not attempted, said in one line.
    assert!(
        run.stderr.contains("5 images not attempted"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("read-only") || run.stderr.contains("405"),
        "{}",
        run.stderr
    );
    let listed = ro.regctl().args(["ls", &ro.host()]).run();
    assert!(listed.stdout.is_empty(), "{}", listed.stdout);
}

#[test]
fn an_image_is_written_as_a_docker_archive_that_skopeo_reads_and_regctl_pushes_back() {
    let a = Target::start(Kind::Distribution);
    let children = platforms("to docker-archive");
    let index = a.push_index("app", &["v1"], &children);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.tar");
    let archive = format!("docker-archive:{}", file.display());

    // An index does not fit in a docker-archive: one platform of it does.
    let refused = reaching(&[&a])
        .args(["cp", &a.reference("app:v1"), &archive])
        .run();
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(refused.stderr.contains("--platform"), "{}", refused.stderr);
    assert!(!file.exists(), "nothing half-written");

    let run = reaching(&[&a])
        .args([
            "cp",
            "--platform",
            "linux/amd64",
            &a.reference("app:v1"),
            &format!("{archive}:app:v1"),
        ])
        .run();
    run.success();
    assert!(run.stderr.contains(&index), "{}", run.stderr);
    // skopeo reads it: the same config, the layers as docker keeps them.
    let raw = skopeo_raw(&format!("{archive}:app:v1"));
    let source = a.http().manifest("app", &children[0].digest).unwrap();
    assert_eq!(config_of(&raw), config_of(&source));

    // And regctl pushes it back: the tag it was saved under, the same config.
    let rows = copy_rows(reaching(&[&a]), &[&archive, &a.reference("restored")]);
    assert_eq!(rows[0]["destination"], format!("{}/restored:v1", a.host()));
    let restored = a.http().manifest("restored", "v1").unwrap();
    assert_eq!(config_of(&restored), config_of(&source));
    assert_pulls(&a, "restored:v1");
}

#[test]
fn an_upload_location_on_another_origin_is_not_followed_and_no_tag_is_set() {
    let f = Target::start(Kind::Ferro);
    f.push_image(
        "app",
        &["v1"],
        &image("linux/amd64", "2024-01-01T00:00:00Z", "elsewhere"),
    );
    let other = crate::http::serve_tls(loopback_certificate(), |_| {
        Response::json(202, serde_json::json!({}))
    });
    let elsewhere = format!("https://127.0.0.1:{}/upload/1", other.port);
    let destination = crate::http::serve_tls(loopback_certificate(), move |req| {
        match (req.method.as_str(), req.target.as_str()) {
            ("GET", "/v2/") => Response::json(200, serde_json::json!({})),
            ("POST", t) if t.starts_with("/v2/app/blobs/uploads/") => Response::raw(
                202,
                vec![("Location".into(), elsewhere.clone())],
                Vec::new(),
            ),
            _ => Response::json(404, serde_json::json!({"errors": []})),
        }
    });
    let run = regctl()
        .args(["cp", "--src-plain-http"])
        .args([
            "--ca-file".as_ref(),
            loopback_certificate().cert.as_os_str(),
        ])
        .args([
            &f.reference("app:v1"),
            &format!("127.0.0.1:{}/app:v1", destination.port),
        ])
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("another origin"), "{}", run.stderr);
    assert!(
        other.requests().is_empty(),
        "the other origin was never contacted"
    );
    assert!(
        !destination.requests().iter().any(|r| r.method == "PUT"),
        "nothing was written"
    );
}

#[test]
fn on_a_terminal_the_bytes_sent_show_while_the_copy_runs_and_go_at_the_end() {
    let f = Target::start(Kind::Ferro);
    let image = big_image(MIB, 5);
    f.push_tagged("app", &["v1"], &image);
    // The first manifest written waits until the test has seen the progress line.
    let release = Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
    let held = release.clone();
    let front = fronted_with(
        |_| {},
        move |req, forward| {
            if req.method == "PUT" && req.target.contains("/manifests/") {
                let (lock, released) = &*held;
                let mut go = lock.lock().unwrap();
                while !*go {
                    go = released.wait(go).unwrap();
                }
            }
            forward(req)
        },
    );
    let to = format!("{}/app:v1", front.host());
    let command = ferro_to_fronted(&[&f.reference("app:v1"), &to]).command();
    let window = crate::tmux::Tmux::run(&command, 100, 20);
    let during = window.wait_for("the bytes sent", |s| s.contains("MiB sent"));
    assert!(during.contains("1.0 MiB sent"), "{during}");
    {
        let (lock, released) = &*release;
        *lock.lock().unwrap() = true;
        released.notify_all();
    }
    let (code, screen) = window.wait_exit();
    assert_eq!(code, 0, "{screen}");
    assert!(
        !screen.contains("MiB sent"),
        "the line is cleared:\n{screen}"
    );
    assert!(
        screen.contains("1 image: sent 1 manifest, 2 blobs"),
        "{screen}"
    );
}
