//! Deletion on the image graph, end to end on both registries: images take their
//! signatures, SBOMs and referrers with them, indexes their platforms, `prune`
//! counts images (not tags, not signatures), and on Distribution the plain
//! `garbage-collect` then frees exactly what the deleted images alone used while
//! everything that remains still pulls.

use std::collections::BTreeSet;

use crate::artifacts::{self, cosign_tag, digest_tag, Cosign, Manifest};
use crate::fixture::{image, oci_image, Image};
use crate::on_both;
use crate::target::{Kind, Target};
use crate::verify::{assert_blobs_freed, assert_pulls, blobs_now, blobs_of};

const SPDX: &str = "application/spdx+json";

/// On Distribution: runs the plain garbage collector and checks that exactly the
/// blobs of `gone` that `kept` does not share were freed, and that every
/// reference in `pulls` still pulls (every platform). On ferro (which has no
/// garbage collector) only the pulls are checked.
fn collect_and_check(
    target: &mut Target,
    before: &BTreeSet<String>,
    gone: &[&Manifest],
    kept: &[&Manifest],
    pulls: &[String],
) {
    if target.kind() == Kind::Distribution {
        let freed: BTreeSet<String> = blobs_of(gone)
            .difference(&blobs_of(kept))
            .cloned()
            .collect();
        let registry = target.distribution();
        let output = registry.garbage_collect();
        let after = registry.blobs();
        assert_blobs_freed(before, &freed, &after, &output);
    }
    for reference in pulls {
        assert_pulls(target, reference);
    }
}

fn exists(target: &Target, repository: &str, digest: &str) -> bool {
    target.http().manifest(repository, digest).is_some()
}

fn listing(target: &Target, repository: &str) -> Vec<String> {
    target.listed_tags(repository)
}

fn json(run: &crate::harness::Run) -> Vec<serde_json::Value> {
    serde_json::from_str::<serde_json::Value>(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
        .as_array()
        .unwrap()
        .clone()
}

/// A signed image with an SBOM referrer (and, where the registry has no referrers
/// API, the fallback index listing it).
struct Signed {
    image: Manifest,
    signature: Manifest,
    attestation: Manifest,
    sbom: Manifest,
    fallback: Option<Manifest>,
}

impl Signed {
    fn push(target: &Target, repository: &str, tag: &str, seed: &str) -> Signed {
        let img = oci_image("linux/amd64", "2024-01-01T00:00:00Z", seed);
        target.push_image(repository, &[tag], &img);
        let image = Manifest::from(&img);
        let signature = target.push_cosign(repository, &image.digest, Cosign::Signature);
        let attestation = target.push_cosign(repository, &image.digest, Cosign::Attestation);
        let sbom = target.push_referrer(repository, &image, SPDX, seed.as_bytes());
        let fallback = (!target.has_referrers_api()).then(|| {
            target.push_referrers_fallback(repository, &image.digest, std::slice::from_ref(&sbom));
            artifacts::referrers_fallback(std::slice::from_ref(&sbom))
        });
        Signed {
            image,
            signature,
            attestation,
            sbom,
            fallback,
        }
    }

    fn all(&self) -> Vec<&Manifest> {
        let mut all = vec![&self.image, &self.signature, &self.attestation, &self.sbom];
        all.extend(self.fallback.as_ref());
        all
    }

    /// Its tags, as `ls` lists them.
    fn tags(&self, tag: &str) -> Vec<String> {
        let mut tags = vec![
            tag.to_string(),
            cosign_tag(&self.image.digest, Cosign::Signature),
            cosign_tag(&self.image.digest, Cosign::Attestation),
        ];
        if self.fallback.is_some() {
            tags.push(digest_tag(&self.image.digest));
        }
        tags
    }
}

on_both!(
    fn removing_an_image_takes_its_signature_attestation_and_sbom_and_nothing_else(target) {
        let v1 = Signed::push(target, "app", "v1", "rm v1");
        let v2 = Signed::push(target, "app", "v2", "rm v2");
        let before = blobs_now(target);

        let plan = target
            .regctl()
            .args(["rm", &target.reference("app:v1"), "--dry-run", "--format", "json"])
            .run();
        plan.success();
        let mut reasons: Vec<(String, String)> = json(&plan)
            .iter()
            .map(|r| {
                (
                    r["digest"].as_str().unwrap().to_string(),
                    r["reason"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        reasons.sort();
        let mut expected = vec![
            (v1.image.digest.clone(), "all-tags-removed".to_string()),
            (v1.signature.digest.clone(), "signature".to_string()),
            (v1.attestation.digest.clone(), "attestation".to_string()),
            (v1.sbom.digest.clone(), "referrer".to_string()),
        ];
        if let Some(f) = &v1.fallback {
            expected.push((f.digest.clone(), "referrers-index".to_string()));
        }
        expected.sort();
        assert_eq!(reasons, expected, "{}", plan.stdout);
        // Each attachment answers the reference its subject answers.
        for row in json(&plan) {
            assert_eq!(row["given"], serde_json::json!([target.reference("app:v1")]), "{row}");
        }

        let run = target
            .regctl()
            .args(["rm", &target.reference("app:v1"), "--yes"])
            .run();
        run.success();
        let mut left = v2.tags("v2");
        left.sort();
        assert_eq!(listing(target, "app"), left);
        for m in v1.all() {
            assert!(!exists(target, "app", &m.digest), "{} is left", m.digest);
        }
        for m in v2.all() {
            assert!(exists(target, "app", &m.digest), "{} went too", m.digest);
        }
        let sig2 = format!("app:{}", cosign_tag(&v2.image.digest, Cosign::Signature));
        collect_and_check(
            target,
            &before,
            &v1.all(),
            &v2.all(),
            &["app:v2".to_string(), sig2, format!("app@{}", v2.sbom.digest)],
        );
    }
);

on_both!(
    fn keep_attachments_leaves_them(target) {
        let v1 = Signed::push(target, "app", "v1", "keep v1");
        let before = blobs_now(target);
        let run = target
            .regctl()
            .args(["rm", &target.reference("app:v1"), "--yes", "--keep-attachments"])
            .run();
        run.success();
        assert!(!exists(target, "app", &v1.image.digest));
        let mut kept = vec![&v1.signature, &v1.attestation, &v1.sbom];
        kept.extend(v1.fallback.as_ref());
        for m in &kept {
            assert!(exists(target, "app", &m.digest), "{} went", m.digest);
        }
        let sig = format!("app:{}", cosign_tag(&v1.image.digest, Cosign::Signature));
        collect_and_check(target, &before, &[&v1.image], &kept, &[sig]);
    }
);

/// Three platforms: a and b in index v1, b and c in index v2, c tagged on its own.
fn platforms() -> [Image; 3] {
    [
        image("linux/amd64", "2024-01-01T00:00:00Z", "platform a"),
        image("linux/arm64/v8", "2024-01-01T00:00:00Z", "platform b"),
        image("linux/s390x", "2024-01-01T00:00:00Z", "platform c"),
    ]
}

on_both!(
    fn an_index_takes_its_platforms_but_not_shared_or_tagged_ones(target) {
        let [a, b, c] = platforms();
        target.push_index("multi", &["v1"], &[a.clone(), b.clone()]);
        target.push_index("multi", &["v2"], &[b.clone(), c.clone()]);
        target.push_image("multi", &["c"], &c);
        let (i1, i2) = (
            artifacts::index(&[a.clone(), b.clone()]),
            artifacts::index(&[b.clone(), c.clone()]),
        );
        let (ma, mb, mc) = (Manifest::from(&a), Manifest::from(&b), Manifest::from(&c));
        let before = blobs_now(target);

        let run = target
            .regctl()
            .args(["rm", &target.reference("multi:v1"), "--yes"])
            .run();
        run.success();
        assert!(!exists(target, "multi", &i1.digest));
        assert!(!exists(target, "multi", &a.digest), "a went with its index");
        assert!(exists(target, "multi", &b.digest), "b is in v2 too");
        assert!(
            run.stderr.contains(&format!("kept {}/multi@{}", target.host(), b.digest))
                && run.stderr.contains("references it too"),
            "{}",
            run.stderr
        );
        collect_and_check(
            target,
            &before,
            &[&i1, &ma],
            &[&i2, &mb, &mc],
            &["multi:v2".to_string(), "multi:c".to_string()],
        );

        let before = blobs_now(target);
        let run = target
            .regctl()
            .args(["rm", &target.reference("multi:v2"), "--yes"])
            .run();
        run.success();
        assert!(!exists(target, "multi", &b.digest), "b goes with v2");
        assert!(exists(target, "multi", &c.digest), "c is tagged");
        assert!(run.stderr.contains("it has tags: c"), "{}", run.stderr);
        assert_eq!(listing(target, "multi"), vec!["c"]);
        collect_and_check(target, &before, &[&i2, &mb], &[&mc], &["multi:c".to_string()]);
    }
);

fn dated(day: u32, seed: &str) -> Image {
    oci_image("linux/amd64", &format!("2024-01-{day:02}T00:00:00Z"), seed)
}

on_both!(
    fn prune_keeps_images_not_tags_and_never_counts_signatures(target) {
        let (i1, i2, i3) = (dated(1, "p1"), dated(2, "p2"), dated(3, "p3"));
        target.push_image("app", &["v1"], &i1);
        target.push_image("app", &["v2", "latest"], &i2);
        target.push_image("app", &["v3"], &i3);
        let old = [
            image("linux/amd64", "2023-06-01T00:00:00Z", "old multi"),
            image("linux/arm64/v8", "2023-06-01T00:00:00Z", "old multi"),
        ];
        target.push_index("app", &["old-multi"], &old);
        let (m1, m2, m3) = (Manifest::from(&i1), Manifest::from(&i2), Manifest::from(&i3));
        // Signed last: by push order and by name the signatures are the "newest tags".
        let s1 = target.push_cosign("app", &m1.digest, Cosign::Signature);
        let s2 = target.push_cosign("app", &m2.digest, Cosign::Signature);
        let s3 = target.push_cosign("app", &m3.digest, Cosign::Signature);
        let index = artifacts::index(&old);
        let before = blobs_now(target);

        let dry = target
            .regctl()
            .args(["-v", "prune", &target.reference("app"), "--keep", "2", "--dry-run", "--format", "json"])
            .run();
        dry.success();
        for method in ["DELETE ", "PUT ", "POST ", "PATCH "] {
            assert!(
                !dry.stderr.lines().any(|l| l.starts_with(method)),
                "a dry run sent {method}: {}",
                dry.stderr
            );
        }
        let lines = json(&dry);
        let find = |digest: &str| {
            lines
                .iter()
                .find(|l| l["digest"] == digest)
                .unwrap_or_else(|| panic!("{digest} not in {}", dry.stdout))
        };
        assert_eq!(find(&m2.digest)["decision"], "keep");
        assert_eq!(find(&m2.digest)["tags"], serde_json::json!(["latest", "v2"]));
        assert_eq!(find(&m1.digest)["decision"], "delete");
        assert_eq!(find(&s1.digest)["reason"], format!("signature of {}", m1.digest));
        for child in &old {
            assert_eq!(find(&child.digest)["reason"], format!("child of {}", index.digest));
        }
        assert!(
            lines.iter().all(|l| l["digest"] != s2.digest && l["digest"] != s3.digest),
            "signatures of kept images are not images: {}",
            dry.stdout
        );

        let run = target
            .regctl()
            .args(["prune", &target.reference("app"), "--keep", "2", "--yes"])
            .run();
        run.success();
        let mut left = vec![
            "latest".to_string(),
            "v2".to_string(),
            "v3".to_string(),
            cosign_tag(&m2.digest, Cosign::Signature),
            cosign_tag(&m3.digest, Cosign::Signature),
        ];
        left.sort();
        assert_eq!(listing(target, "app"), left);
        let gone_children: Vec<Manifest> = old.iter().map(Manifest::from).collect();
        let mut gone = vec![&m1, &s1, &index];
        gone.extend(gone_children.iter());
        collect_and_check(
            target,
            &before,
            &gone,
            &[&m2, &m3, &s2, &s3],
            &["app:latest".to_string(), "app:v3".to_string()],
        );
    }
);

on_both!(
    fn deleting_a_referrer_alone_takes_it_out_of_its_subjects_referrers(target) {
        let img = oci_image("linux/amd64", "2024-01-01T00:00:00Z", "lone referrer");
        target.push_image("app", &["v1"], &img);
        let image = Manifest::from(&img);
        let a = target.push_referrer("app", &image, SPDX, b"sbom a");
        let b = target.push_referrer("app", &image, SPDX, b"sbom b");
        let fallback_tag = digest_tag(&image.digest);
        let both = artifacts::referrers_fallback(&[a.clone(), b.clone()]);
        if !target.has_referrers_api() {
            target.push_referrers_fallback("app", &image.digest, &[a.clone(), b.clone()]);
        }
        let listed = |target: &Target| -> Vec<String> {
            let body = if target.has_referrers_api() {
                target
                    .http()
                    .get(&format!("/v2/app/referrers/{}", image.digest))
                    .json()
            } else {
                match target.http().manifest("app", &fallback_tag) {
                    Some(bytes) => serde_json::from_slice(&bytes).unwrap(),
                    None => return Vec::new(),
                }
            };
            body["manifests"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["digest"].as_str().unwrap().to_string())
                .collect()
        };
        let before = blobs_now(target);

        let run = target
            .regctl()
            .args(["rm", &target.reference(&format!("app@{}", a.digest)), "--yes"])
            .run();
        run.success();
        assert_eq!(listed(target), vec![b.digest.clone()]);
        assert!(exists(target, "app", &image.digest) && exists(target, "app", &b.digest));

        let run = target
            .regctl()
            .args(["rm", &target.reference(&format!("app@{}", b.digest)), "--yes"])
            .run();
        run.success();
        assert_eq!(listed(target), Vec::<String>::new());
        assert_eq!(listing(target, "app"), vec!["v1"], "the fallback tag went when empty");
        let mut gone = vec![&a, &b];
        if !target.has_referrers_api() {
            gone.push(&both);
        }
        collect_and_check(target, &before, &gone, &[&image], &["app:v1".to_string()]);
    }
);

on_both!(
    fn orphaned_attachments_are_counted_and_deleted_with_orphans(target) {
        let (keep, gone) = (dated(5, "orphan keep"), dated(1, "orphan gone"));
        target.push_image("app", &["keep"], &keep);
        target.push_image("app", &["gone"], &gone);
        let gone_m = Manifest::from(&gone);
        let sig = target.push_cosign("app", &gone_m.digest, Cosign::Signature);
        // The signature signed in turn, an SBOM referrer (untagged: where the
        // registry has a referrers API, only that API lists it) and, without the
        // API, the fallback index listing it.
        let sig_sig = target.push_cosign("app", &sig.digest, Cosign::Signature);
        let sbom = target.push_referrer("app", &gone_m, SPDX, b"orphan sbom");
        let fallback = (!target.has_referrers_api()).then(|| {
            target.push_referrers_fallback("app", &gone_m.digest, std::slice::from_ref(&sbom));
            artifacts::referrers_fallback(std::slice::from_ref(&sbom))
        });
        let before = blobs_now(target);
        // Another tool deletes the image and leaves its attachments behind.
        let reply = target.delete_manifest("app", &gone_m.digest);
        assert_eq!(reply.status, 202, "{}", reply.text());

        let run = target
            .regctl()
            .args(["prune", &target.reference("app"), "--keep", "5", "--dry-run"])
            .run();
        run.success();
        assert!(run.stderr.contains("no subject any more"), "{}", run.stderr);

        // The plan shows every deletion the real run makes: the orphans and what
        // goes with them.
        let plan = target
            .regctl()
            .args(["prune", &target.reference("app"), "--keep", "5", "--orphans", "--dry-run"])
            .args(["--format", "json"])
            .run();
        plan.success();
        let planned: BTreeSet<String> = json(&plan)
            .iter()
            .filter(|r| r["decision"] == "delete")
            .map(|r| r["digest"].as_str().unwrap().to_string())
            .collect();
        let mut orphans = vec![&sig, &sig_sig, &sbom];
        orphans.extend(fallback.as_ref());
        let expected: BTreeSet<String> = orphans.iter().map(|m| m.digest.clone()).collect();
        assert_eq!(planned, expected, "{}", plan.stdout);
        let text = target
            .regctl()
            .args(["prune", &target.reference("app"), "--keep", "5", "--orphans", "--dry-run"])
            .run();
        for m in &orphans {
            assert!(text.stdout.contains(&m.digest), "{} not shown: {}", m.digest, text.stdout);
        }
        assert!(text.stdout.contains("orphan-signature"), "{}", text.stdout);

        let run = target
            .regctl()
            .args(["prune", &target.reference("app"), "--keep", "5", "--orphans", "--yes"])
            .args(["--format", "json"])
            .run();
        run.success();
        let deleted: BTreeSet<String> = json(&run)
            .iter()
            .filter(|r| r["outcome"] == "deleted")
            .map(|r| r["digest"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(deleted, expected, "{}", run.stdout);
        for m in &orphans {
            assert!(!exists(target, "app", &m.digest), "{} is left", m.digest);
        }
        assert_eq!(listing(target, "app"), vec!["keep"]);
        let mut gone_all = vec![&gone_m];
        gone_all.extend(orphans.iter().copied());
        collect_and_check(
            target,
            &before,
            &gone_all,
            &[&Manifest::from(&keep)],
            &["app:keep".to_string()],
        );
    }
);

on_both!(
    fn max_delete_refuses_a_large_plan_before_changing_anything(target) {
        for day in 1..=3 {
            target.push_image("app", &[&format!("v{day}")], &dated(day, "max"));
        }
        let run = target
            .regctl()
            .args([
                "prune",
                &target.reference("app"),
                "--keep",
                "0",
                "--max-delete",
                "2",
                "--yes",
            ])
            .run();
        run.code(2);
        assert!(
            run.stderr
                .contains("the plan deletes 3 images, more than --max-delete 2"),
            "{}",
            run.stderr
        );
        assert_eq!(run.stdout, "", "nothing was done");
        assert_eq!(listing(target, "app"), vec!["v1", "v2", "v3"]);
    }
);

on_both!(
    fn an_unreadable_config_keeps_its_image_and_the_rest_goes_on(target) {
        let readable = dated(1, "readable");
        target.push_image("app", &["old"], &readable);
        // A config that is not JSON, and an artifact with a 5 MiB config of its own type.
        let mut broken = dated(2, "broken");
        broken.config = b"not json".to_vec();
        let broken_m = fixture_manifest(&broken, "application/vnd.oci.image.config.v1+json");
        target.push_tagged("app", &["broken"], &broken_m);
        let mut artifact = dated(3, "artifact");
        artifact.config = vec![b' '; 5 * 1024 * 1024];
        let artifact_m = fixture_manifest(&artifact, "application/vnd.example.config+json");
        target.push_tagged("app", &["artifact"], &artifact_m);
        let before = blobs_now(target);

        // The plan says why each image stays; the real run does it.
        let plan = target
            .regctl()
            .args(["prune", &target.reference("app"), "--keep", "0", "--dry-run"])
            .run();
        plan.success();
        let run = target
            .regctl()
            .args(["prune", &target.reference("app"), "--keep", "0", "--yes"])
            .run();
        run.success();
        assert!(
            plan.stdout.contains("the config is not JSON"),
            "{}",
            plan.stdout
        );
        assert!(
            plan.stdout
                .contains("an artifact with config type application/vnd.example.config+json"),
            "{}",
            plan.stdout
        );
        assert!(
            run.stderr.contains("2 images have no creation time"),
            "{}",
            run.stderr
        );
        assert_eq!(listing(target, "app"), vec!["artifact", "broken"]);
        collect_and_check(
            target,
            &before,
            &[&Manifest::from(&readable)],
            &[&broken_m, &artifact_m],
            &["app:broken".to_string()],
        );
    }
);

/// An OCI manifest over `image`'s (possibly altered) config and layer, with the
/// config declared as `config_type`.
fn fixture_manifest(image: &Image, config_type: &str) -> Manifest {
    let body = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": crate::fixture::OCI_MANIFEST,
        "config": {
            "mediaType": config_type,
            "size": image.config.len(),
            "digest": crate::fixture::sha256(&image.config),
        },
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "size": image.layer.len(),
            "digest": crate::fixture::sha256(&image.layer),
        }],
    });
    let bytes = serde_json::to_vec(&body).unwrap();
    Manifest {
        media_type: crate::fixture::OCI_MANIFEST,
        artifact_type: None,
        digest: crate::fixture::sha256(&bytes),
        bytes,
        blobs: vec![image.config.clone(), image.layer.clone()],
    }
}

on_both!(
    /// A missing repository, or a missing tag, reads the same from every
    /// command, once, with the same exit code 4.
    fn a_missing_repository_or_tag_reads_the_same_in_every_command(target) {
        target.push_image("app", &["v1"], &dated(1, "exists"));
        let repo = target.reference("nope");
        let gone = format!("{repo}:v1");
        let repository_missing = format!("repository {repo} not found");
        let s = |a: &[&str]| a.iter().map(ToString::to_string).collect::<Vec<_>>();
        for args in [
            s(&["ls", &repo]),
            s(&["du", &repo]),
            s(&["prune", &repo, "--keep", "1", "--dry-run"]),
            s(&["digest", &gone]),
            s(&["inspect", &gone]),
            s(&["rm", &gone, "--yes"]),
        ] {
            let run = target.regctl().args(&args).run();
            run.code(4);
            assert!(run.stderr.contains(&repository_missing), "{args:?}: {}", run.stderr);
        }
        let tag = format!("{}:nope", target.reference("app"));
        for args in [
            s(&["digest", &tag]),
            s(&["inspect", &tag]),
            s(&["rm", &tag, "--yes"]),
        ] {
            let run = target.regctl().args(&args).run();
            run.code(4);
            assert!(
                run.stderr.contains(&format!("error: tag {tag} not found\n")),
                "{args:?}: {}",
                run.stderr
            );
        }
        // What survives: the image that was there.
        let left = target.regctl().args(["ls", &target.reference("app")]).run();
        left.success();
        assert_eq!(left.lines(), vec![format!("{}:v1", target.reference("app"))]);
    }
);

on_both!(
    fn ignore_missing_reports_a_missing_reference_once_on_stdout(target) {
        target.push_image("app", &["v1"], &dated(1, "missing"));
        let run = target
            .regctl()
            .args([
                "rm",
                &target.reference("app:nope"),
                "--ignore-missing",
                "--yes",
            ])
            .run();
        run.success();
        assert_eq!(run.stdout.matches("missing").count(), 1, "{}", run.stdout);
        assert!(run.stdout.starts_with("missing "), "{}", run.stdout);
        assert!(!run.stderr.contains("error:"), "{}", run.stderr);
    }
);

/// `app`: v1, latest and stable on one image; v2 alone on another. `other`: v1 on
/// the first image too (the same digest in another repository).
struct Shared {
    shared: Manifest,
    lone: Manifest,
}

fn push_shared(target: &Target) -> Shared {
    let shared = image("linux/amd64", "2024-01-01T00:00:00Z", "rm shared");
    let lone = image("linux/amd64", "2024-01-01T00:00:00Z", "rm lone");
    target.push_image("app", &["v1", "latest", "stable"], &shared);
    target.push_image("app", &["v2"], &lone);
    target.push_image("other", &["v1"], &shared);
    Shared {
        shared: Manifest::from(&shared),
        lone: Manifest::from(&lone),
    }
}

on_both!(
    fn removing_a_tag_keeps_the_tags_that_share_its_manifest(target) {
        let s = push_shared(target);
        let before = blobs_now(target);
        let run = target
            .regctl()
            .args(["rm", &target.reference("app:v1"), "--yes"])
            .run();
        run.success();
        assert!(run.stdout.starts_with("tag-removed "), "{}", run.stdout);
        assert_eq!(listing(target, "app"), vec!["latest", "stable", "v2"]);
        assert_eq!(listing(target, "other"), vec!["v1"]);
        assert!(exists(target, "app", &s.shared.digest));
        // Nothing an image uses is freed; a throw-away manifest, if one was
        // needed, is freed by the collector.
        collect_and_check(
            target,
            &before,
            &[],
            &[&s.shared, &s.lone],
            &["app:latest".into(), "app:stable".into(), "other:v1".into()],
        );
    }
);

on_both!(
    fn removing_the_only_tag_deletes_its_manifest_and_nothing_else(target) {
        let s = push_shared(target);
        let before = blobs_now(target);
        let run = target
            .regctl()
            .args(["rm", &target.reference("app:v2"), "--yes"])
            .run();
        run.success();
        assert!(!exists(target, "app", &s.lone.digest));
        assert_eq!(listing(target, "app"), vec!["latest", "stable", "v1"]);
        collect_and_check(
            target,
            &before,
            &[&s.lone],
            &[&s.shared],
            &["app:v1".into(), "other:v1".into()],
        );
    }
);

on_both!(
    fn deleting_by_digest_takes_exactly_its_tags_in_that_repository(target) {
        let s = push_shared(target);
        let before = blobs_now(target);
        let run = target
            .regctl()
            .args([
                "rm",
                &target.reference(&format!("app@{}", s.shared.digest)),
                "--yes",
                "--format",
                "json",
            ])
            .run();
        run.success();
        let rows = json(&run);
        assert_eq!(rows[0]["outcome"], "deleted");
        assert_eq!(
            rows[0]["tags_removed"],
            serde_json::json!(["latest", "stable", "v1"])
        );
        assert_eq!(listing(target, "app"), vec!["v2"]);
        assert_eq!(listing(target, "other"), vec!["v1"], "the other repository keeps it");
        // The blobs stay: `other` still uses them (on Distribution, the
        // manifest's blob too, as `other`'s revision).
        collect_and_check(
            target,
            &before,
            &[],
            &[&s.shared, &s.lone],
            &["app:v2".into(), "other:v1".into()],
        );
    }
);

on_both!(
    fn a_manifest_inside_a_nested_index_is_protected(target) {
        let m = image("linux/amd64", "2024-01-01T00:00:00Z", "nested");
        target.push_image("nest", &["m"], &m);
        // all -> outer index -> inner (untagged) index -> m
        let inner = artifacts::index(std::slice::from_ref(&m));
        target.push("nest", &inner.digest, &inner);
        let outer = artifacts::nest(&[&inner]);
        target.push_tagged("nest", &["all"], &outer);
        let m_digest = Manifest::from(&m).digest;
        let refused = target
            .regctl()
            .args(["rm", &target.reference(&format!("nest@{m_digest}")), "--yes"])
            .run();
        refused.code(6);
        assert!(refused.stderr.contains("tags: all"), "{}", refused.stderr);
        // Removing `m` removes the tag only: the nested index still needs it.
        let run = target
            .regctl()
            .args(["rm", &target.reference("nest:m"), "--yes"])
            .run();
        run.success();
        assert!(run.stdout.starts_with("tag-removed "), "{}", run.stdout);
        assert!(exists(target, "nest", &m_digest));
        assert_eq!(listing(target, "nest"), vec!["all"]);
        // skopeo 1.9 does not copy an index of indexes; the inner one it does.
        assert_pulls(target, &format!("nest@{}", inner.digest));
    }
);

/// An RFC 3339 time `days` ago.
fn days_ago(days: u64) -> String {
    let t = std::time::SystemTime::now() - std::time::Duration::from_secs(days * 86_400);
    let secs = t
        .duration_since(std::time::SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    time::OffsetDateTime::from_unix_timestamp(secs)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

on_both!(
    fn older_than_deletes_only_old_images_and_exclude_protects_a_whole_image(target) {
        let old = oci_image("linux/amd64", &days_ago(90), "aged old");
        let pinned = oci_image("linux/amd64", &days_ago(80), "aged pinned");
        let new = oci_image("linux/amd64", &days_ago(2), "aged new");
        target.push_image("app", &["old"], &old);
        target.push_image("app", &["pinned", "1.0"], &pinned);
        target.push_image("app", &["new"], &new);
        let before = blobs_now(target);
        let run = target
            .regctl()
            .args([
                "prune",
                &target.reference("app"),
                "--older-than",
                "30d",
                "--exclude",
                "^pinned$",
                "--yes",
            ])
            .run();
        run.success();
        // `1.0` is not excluded, but its image is (through `pinned`): kept whole.
        assert_eq!(listing(target, "app"), vec!["1.0", "new", "pinned"]);
        collect_and_check(
            target,
            &before,
            &[&Manifest::from(&old)],
            &[&Manifest::from(&pinned), &Manifest::from(&new)],
            &["app:1.0".into(), "app:new".into()],
        );
    }
);

on_both!(
    fn a_poisoned_fallback_index_takes_nobody_elses_images(target) {
        // Anyone with push access tags `sha256-<hex of v1>` on an index that lists
        // other people's untagged releases (deployed by digest, no `subject`), and
        // another such index for a digest that does not exist.
        let subject = dated(1, "poison subject");
        target.push_image("app", &["v1"], &subject);
        let (r1, r2) = (dated(2, "release one"), dated(3, "release two"));
        target.push_image("app", &[], &r1);
        target.push_image("app", &[], &r2);
        let (m1, m2) = (Manifest::from(&r1), Manifest::from(&r2));
        let poisoned = artifacts::referrers_fallback(std::slice::from_ref(&m1));
        let subject_tag = digest_tag(&subject.digest);
        target.push_tagged("app", &[&subject_tag], &poisoned);
        let nothing = crate::fixture::sha256(b"never pushed");
        let orphaned = artifacts::referrers_fallback(std::slice::from_ref(&m2));
        target.push_tagged("app", &[&digest_tag(&nothing)], &orphaned);
        let before = blobs_now(target);

        let run = target
            .regctl()
            .args(["rm", &target.reference("app:v1"), "--yes", "--format", "json"])
            .run();
        run.success();
        let deleted: Vec<String> = json(&run)
            .iter()
            .filter_map(|r| r["digest"].as_str().map(str::to_string))
            .collect();
        assert_eq!(deleted, vec![subject.digest.clone()], "{}", run.stdout);
        let prune = target
            .regctl()
            .args(["prune", &target.reference("app"), "--keep", "5", "--orphans", "--yes"])
            .run();
        prune.success();
        for m in [&m1, &m2, &poisoned, &orphaned] {
            assert!(exists(target, "app", &m.digest), "{} was deleted", m.digest);
        }
        collect_and_check(
            target,
            &before,
            &[&Manifest::from(&subject)],
            &[&m1, &m2, &poisoned, &orphaned],
            &[
                format!("app@{}", m1.digest),
                format!("app@{}", m2.digest),
                format!("app:{subject_tag}"),
            ],
        );
    }
);

on_both!(
    fn a_multi_arch_image_tagged_like_a_digest_keeps_its_platforms(target) {
        // A multi-arch image a user tagged `sha256-<hex>` of another image, `x`:
        // removing `x` leaves the index whole (it was read as x's fallback index,
        // its platforms as x's referrers).
        let [a, b, _] = platforms();
        let x = dated(4, "sibling x");
        target.push_image("multi", &["x"], &x);
        let tag = digest_tag(&x.digest);
        target.push_index("multi", &[&tag], &[a.clone(), b.clone()]);
        let index = artifacts::index(&[a.clone(), b.clone()]);
        let before = blobs_now(target);
        let run = target
            .regctl()
            .args(["rm", &target.reference("multi:x"), "--yes"])
            .run();
        run.success();
        for d in [&index.digest, &a.digest, &b.digest] {
            assert!(exists(target, "multi", d), "{d} went with x");
        }
        assert_eq!(listing(target, "multi"), vec![tag.clone()]);
        let (ma, mb) = (Manifest::from(&a), Manifest::from(&b));
        collect_and_check(
            target,
            &before,
            &[&Manifest::from(&x)],
            &[&index, &ma, &mb],
            &[format!("multi:{tag}")],
        );
    }
);

on_both!(
    /// A digest as a shortened table shows it (`sha256:` and 12 hex digits,
    /// with the `…`) names that image in `digest`, `inspect` and `rm`; one that
    /// no tag's digest starts with is exit 4, and nothing is deleted.
    fn a_digest_prefix_from_a_table_names_the_one_image_it_starts(target) {
        let v1 = Signed::push(target, "app", "v1", "prefix v1");
        let v2 = Signed::push(target, "app", "v2", "prefix v2");
        let before = blobs_now(target);
        let short = |m: &Manifest| format!("{}…", &m.digest[..7 + 12]);
        let given = format!("{}@{}", target.reference("app"), short(&v1.image));

        let digest = target.regctl().args(["digest", &given]).run();
        digest.success();
        assert_eq!(digest.lines(), vec![v1.image.digest.clone()]);
        let inspect = target.regctl().args(["inspect", &given, "--format", "json"]).run();
        inspect.success();
        assert!(inspect.stdout.contains(&v1.image.digest), "{}", inspect.stdout);

        // A prefix of no tag's digest: not found, nothing deleted.
        let nowhere = format!("{}@sha256:{}", target.reference("app"), "0".repeat(12));
        let run = target.regctl().args(["rm", &nowhere, "--yes"]).run();
        run.code(4);
        assert!(run.stderr.contains("starts so"), "{}", run.stderr);
        assert_eq!(listing(target, "app").len(), v1.tags("v1").len() + v2.tags("v2").len());

        let rm = target.regctl().args(["rm", &given, "--yes", "--format", "json"]).run();
        rm.success();
        let image_row = json(&rm)
            .into_iter()
            .find(|r| r["digest"] == v1.image.digest.as_str())
            .unwrap_or_else(|| panic!("{}", rm.stdout));
        assert_eq!(image_row["given"], serde_json::json!([given]), "{}", rm.stdout);
        // What survives: v2 with everything attached to it.
        let mut left = listing(target, "app");
        left.sort();
        let mut expected = v2.tags("v2");
        expected.sort();
        assert_eq!(left, expected);
        collect_and_check(
            target,
            &before,
            &v1.all(),
            &v2.all(),
            &["app:v2".to_string()],
        );
    }
);
