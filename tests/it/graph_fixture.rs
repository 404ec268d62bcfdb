//! The graph-aware deletion tests' infrastructure, proven: images, signatures,
//! SBOM referrers and multi-arch indexes pushed over the HTTP API to both
//! registries are seen by regctl, and Distribution's garbage collection frees
//! exactly the blobs of a deleted image.

use std::collections::BTreeSet;

use crate::artifacts::{self, cosign_tag, digest_tag, Cosign, Manifest};
use crate::fixture::{image, oci_image, Image};
use crate::on_both;
use crate::target::{Kind, Target};
use crate::verify::{assert_blobs_freed, assert_pulls};

const CREATED: &str = "2024-01-01T00:00:00Z";
const SPDX: &str = "application/spdx+json";

/// What [`push_graph`] pushed to `app` and `multi`.
struct Graph {
    image: Manifest,
    signature: Manifest,
    sbom: Manifest,
    index: String,
    children: Vec<Image>,
}

/// `app:v1` (OCI) with a cosign signature and an SBOM referrer (plus the
/// referrers fallback tag where there is no referrers API), and `multi:v1`, an
/// index over two platforms (schema2 children).
fn push_graph(target: &Target) -> Graph {
    let img = oci_image("linux/amd64", CREATED, "graph app");
    target.push_image("app", &["v1"], &img);
    let app = Manifest::from(&img);
    let signature = target.push_cosign("app", &app.digest, Cosign::Signature);
    let sbom = target.push_referrer("app", &app, SPDX, b"{\"spdxVersion\":\"SPDX-2.3\"}");
    if !target.has_referrers_api() {
        target.push_referrers_fallback("app", &app.digest, std::slice::from_ref(&sbom));
    }
    let children = vec![
        image("linux/amd64", CREATED, "graph multi"),
        image("linux/arm64/v8", CREATED, "graph multi"),
    ];
    let index = target.push_index("multi", &["v1"], &children);
    Graph {
        image: app,
        signature,
        sbom,
        index,
        children,
    }
}

fn regctl_digest(target: &Target, reference: &str) -> String {
    let run = target
        .regctl()
        .args(["digest", &target.reference(reference)])
        .run();
    run.success();
    run.stdout.trim().to_string()
}

on_both!(
    fn pushed_graph_is_listed_and_resolves(target) {
        let graph = push_graph(target);
        let host = target.host();

        let run = target.regctl().args(["ls", &format!("{host}/app")]).run();
        run.success();
        let mut expected = vec![
            format!("{host}/app:{}", cosign_tag(&graph.image.digest, Cosign::Signature)),
            format!("{host}/app:v1"),
        ];
        if !target.has_referrers_api() {
            expected.push(format!("{host}/app:{}", digest_tag(&graph.image.digest)));
        }
        expected.sort();
        assert_eq!(run.lines(), expected);

        let run = target.regctl().args(["ls", &format!("{host}/multi")]).run();
        run.success();
        assert_eq!(run.lines(), vec![format!("{host}/multi:v1")]);

        assert_eq!(regctl_digest(target, "app:v1"), graph.image.digest);
        let sig_tag = cosign_tag(&graph.image.digest, Cosign::Signature);
        assert_eq!(
            regctl_digest(target, &format!("app:{sig_tag}")),
            graph.signature.digest
        );
        assert_eq!(regctl_digest(target, "multi:v1"), graph.index);

        assert_pulls(target, "multi:v1");
        assert_pulls(target, "app:v1");
        for child in &graph.children {
            assert_pulls(target, &format!("multi@{}", child.digest));
        }
        assert_pulls(target, &format!("app@{}", graph.sbom.digest));
    }
);

#[test]
fn ferro_lists_the_sbom_through_the_referrers_api() {
    let target = Target::start(Kind::Ferro);
    let graph = push_graph(&target);
    let http = target.http();
    let path = format!("/v2/app/referrers/{}", graph.image.digest);

    let all = http.get(&path);
    assert_eq!(all.status, 200, "{}", all.text());
    let listed = &all.json()["manifests"];
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["digest"], graph.sbom.digest.as_str());
    assert_eq!(listed[0]["artifactType"], SPDX);

    // '+' must be percent-encoded: ferro decodes a literal '+' as a space.
    let filtered = http.get(&format!("{path}?artifactType=application/spdx%2Bjson"));
    assert_eq!(filtered.header("oci-filters-applied"), Some("artifactType"));
    assert_eq!(
        filtered.json()["manifests"][0]["digest"],
        graph.sbom.digest.as_str()
    );
    let other = http.get(&format!("{path}?artifactType=application/x-none"));
    assert_eq!(other.json()["manifests"], serde_json::json!([]));

    // The signature is tag-attached, not a referrer of anything.
    let of_signature = http.get(&format!("/v2/app/referrers/{}", graph.signature.digest));
    assert_eq!(of_signature.json()["manifests"], serde_json::json!([]));
}

#[test]
fn ferro_answers_as_documented() {
    let target = Target::start(Kind::Ferro);
    let img = oci_image("linux/amd64", CREATED, "ferro answers");
    let image = Manifest::from(&img);
    target.push_image("app", &["v1"], &img);
    let sbom = artifacts::referrer(&image, SPDX, b"sbom");
    let put = target.http().push_manifest("app", &sbom.digest, &sbom);
    assert_eq!(put.header("oci-subject"), Some(image.digest.as_str()));

    assert_eq!(target.delete_manifest("app", "v1").status, 405);
    assert_eq!(target.delete_manifest("app", &image.digest).status, 202);
    assert_eq!(target.delete_manifest("app", &image.digest).status, 404);
    assert!(target.http().manifest("app", &image.digest).is_none());
    let tags = target.http().get("/v2/app/tags/list");
    assert_eq!(tags.json()["tags"], serde_json::json!([]));
    // The referrer outlives its subject.
    let referrers = target
        .http()
        .get(&format!("/v2/app/referrers/{}", image.digest));
    assert_eq!(
        referrers.json()["manifests"][0]["digest"],
        sbom.digest.as_str()
    );
}

#[test]
fn distribution_has_no_referrers_api_and_no_subject_header() {
    let target = Target::start(Kind::Distribution);
    let img = oci_image("linux/amd64", CREATED, "distribution answers");
    let image = Manifest::from(&img);
    target.push_image("app", &["v1"], &img);
    let sbom = artifacts::referrer(&image, SPDX, b"sbom");
    let put = target.http().push_manifest("app", &sbom.digest, &sbom);
    assert_eq!(put.header("oci-subject"), None);
    let referrers = target
        .http()
        .get(&format!("/v2/app/referrers/{}", image.digest));
    assert_eq!(referrers.status, 404, "{}", referrers.text());
    // Distribution 2.8.2 reads a tag in a DELETE as a malformed digest.
    let by_tag = target.delete_manifest("app", "v1");
    assert_eq!(by_tag.status, 400, "{}", by_tag.text());
    assert!(
        target.http().manifest("app", "v1").is_some(),
        "the tag survives"
    );
    let by_digest = target.delete_manifest("app", &image.digest);
    assert_eq!(by_digest.status, 202, "{}", by_digest.text());
    assert!(target.http().manifest("app", &image.digest).is_none());
    assert!(
        target.http().manifest("app", "v1").is_none(),
        "its tag went with it"
    );
}

/// The blobs of one image that no other manifest shares: manifest, config, layer.
fn own_blobs(image: &Image) -> BTreeSet<String> {
    let manifest = Manifest::from(image);
    let mut blobs: BTreeSet<String> = manifest.blob_digests().into_iter().collect();
    blobs.insert(manifest.digest);
    blobs
}

#[test]
fn garbage_collection_frees_exactly_the_deleted_images_blobs() {
    let mut target = Target::start(Kind::Distribution);
    let graph = push_graph(&target);
    let keep = image("linux/amd64", CREATED, "gc keep");
    let gone = image("linux/amd64", CREATED, "gc gone");
    target.push_image("app", &["keep"], &keep);
    target.push_image("app", &["gone"], &gone);

    // Nothing deleted yet: the collector frees nothing (signature, referrer,
    // fallback index and untagged index children are all kept).
    let before = target.distribution().blobs();
    let report = target.distribution().garbage_collect();
    assert_blobs_freed(
        &before,
        &BTreeSet::new(),
        &target.distribution().blobs(),
        &report,
    );

    let reply = target.delete_manifest("app", &gone.digest);
    assert_eq!(reply.status, 202, "{}", reply.text());
    let report = target.distribution().garbage_collect();
    let after = target.distribution().blobs();
    assert_blobs_freed(&before, &own_blobs(&gone), &after, &report);

    assert_pulls(&target, "app:keep");
    assert_pulls(&target, "app:v1");
    assert_pulls(&target, "multi:v1");
    assert_pulls(&target, &format!("app@{}", graph.sbom.digest));
    assert!(crate::verify::pulls(&target, "app:gone").is_err());
    let run = target
        .regctl()
        .args(["ls", &format!("{}/app", target.host())])
        .run();
    run.success();
    assert!(
        !run.stdout.contains("app:gone"),
        "the deleted image's tag is gone: {}",
        run.stdout
    );
}
