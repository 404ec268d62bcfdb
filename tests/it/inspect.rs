//! `regctl inspect` on both registries: what it says of an image, an index and
//! their attachments matches what was pushed; `--raw` is the manifest exactly as
//! served (it hashes to the digest, and equals skopeo's), `--config` the config.

use crate::artifacts::{Cosign, Manifest};
use crate::fixture::{image, sha256};
use crate::on_both;
use crate::target::{Kind, Target};

on_both!(fn an_image_its_config_layers_and_attachments(target) {
    let img = image("linux/arm64/v8", "2024-05-06T07:08:09Z", "inspect");
    let digest = target.push_image("app", &["v1"], &img);
    let subject = Manifest::from(&img);
    let signature = target.push_cosign("app", &digest, Cosign::Signature);
    let sbom = target.push_referrer("app", &subject, "application/spdx+json", b"{}");
    if !target.has_referrers_api() {
        target.push_referrers_fallback("app", &digest, std::slice::from_ref(&sbom));
    }
    let run = target
        .regctl()
        .args(["inspect", &target.reference("app:v1"), "--format", "json"])
        .run();
    run.success();
    let all: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let i = &all[0];
    assert_eq!(i["digest"], digest);
    assert_eq!(i["kind"], "image");
    assert_eq!(i["size"], img.manifest.len());
    assert_eq!(i["config"]["digest"], sha256(&img.config));
    assert_eq!(i["config"]["created"], "2024-05-06T07:08:09Z");
    assert_eq!(i["config"]["platform"], "linux/arm64/v8");
    assert_eq!(i["layers"][0]["size"], img.layer.len());
    assert_eq!(
        i["total_size"],
        img.manifest.len() + img.config.len() + img.layer.len()
    );
    let kinds: Vec<(String, String)> = i["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["kind"].as_str().unwrap().to_string(), a["digest"].as_str().unwrap().to_string()))
        .collect();
    assert!(kinds.contains(&("signature".into(), signature.digest.clone())), "{kinds:?}");
    assert!(kinds.contains(&("referrer".into(), sbom.digest.clone())), "{kinds:?}");
    let sbom_entry = i["attachments"].as_array().unwrap().iter().find(|a| a["digest"] == sbom.digest).unwrap();
    assert_eq!(sbom_entry["artifact_type"], "application/spdx+json");

    let raw = target
        .regctl()
        .args(["inspect", &target.reference("app:v1"), "--raw"])
        .run_bytes();
    assert_eq!(sha256(&raw), digest, "--raw hashes to the digest");
    assert_eq!(raw, img.manifest);
    let config = target
        .regctl()
        .args(["inspect", &target.reference("app:v1"), "--config"])
        .run_bytes();
    assert_eq!(config, img.config);
    if target.kind() == Kind::Distribution {
        assert_eq!(raw, skopeo_raw(target, "app:v1"), "equal to skopeo's");
    }
});

on_both!(fn an_index_lists_its_platforms_with_sizes(target) {
    let children = [
        image("linux/amd64", "2024-01-01T00:00:00Z", "inspect-amd64"),
        image("linux/arm64", "2024-01-01T00:00:00Z", "inspect-arm64"),
    ];
    let digest = target.push_index("app", &["multi"], &children);
    let run = target
        .regctl()
        .args(["inspect", &target.reference("app:multi"), "--format", "json"])
        .run();
    run.success();
    let all: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let i = &all[0];
    assert_eq!((i["kind"].as_str(), i["digest"].as_str()), (Some("index"), Some(digest.as_str())));
    let platforms = i["platforms"].as_array().unwrap();
    assert_eq!(platforms.len(), 2);
    for (entry, child) in platforms.iter().zip(&children) {
        assert_eq!(entry["digest"], child.digest);
        assert_eq!(entry["size"], child.manifest.len());
        assert_eq!(
            entry["total_size"],
            child.manifest.len() + child.config.len() + child.layer.len()
        );
    }
    assert!(i["config"].is_null() && i["layers"].as_array().unwrap().is_empty());
    // Plain text names each platform.
    let text = target.regctl().args(["inspect", &target.reference("app:multi")]).run();
    text.success();
    assert!(text.stdout.contains("linux/arm64"), "{}", text.stdout);
    // An index has no config to print: a failure of that reference, exit 1.
    target
        .regctl()
        .args(["inspect", &target.reference("app:multi"), "--config"])
        .run()
        .code(1);
});

on_both!(fn platform_inspects_that_child_of_an_index_as_crane_and_skopeo_do(target) {
    let children = [
        image("linux/amd64", "2024-01-01T00:00:00Z", "platform-amd64"),
        image("linux/arm64/v8", "2024-02-02T00:00:00Z", "platform-arm64"),
    ];
    target.push_index("app", &["multi"], &children);
    let multi = target.reference("app:multi");
    let arm = &children[1];
    let run = target
        .regctl()
        .args(["inspect", &multi, "--platform", "linux/arm64/v8", "--format", "json"])
        .run();
    run.success();
    let all: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(all[0]["kind"], "image");
    assert_eq!(all[0]["digest"], arm.digest);
    assert_eq!(all[0]["config"]["platform"], "linux/arm64/v8");
    // The manifest and the config of that platform, byte for byte.
    let raw = target
        .regctl()
        .args(["inspect", &multi, "--platform", "linux/arm64/v8", "--raw"])
        .run();
    raw.success();
    assert_eq!(raw.stdout.as_bytes(), arm.manifest.as_slice());
    let config = target
        .regctl()
        .args(["inspect", &multi, "--platform", "linux/arm64/v8", "--config"])
        .run();
    config.success();
    assert_eq!(config.stdout.as_bytes(), arm.config.as_slice());
    // A platform the index does not have: not found, naming those it has.
    let none = target
        .regctl()
        .args(["inspect", &multi, "--platform", "linux/s390x"])
        .run();
    none.code(4);
    assert!(none.stderr.contains("linux/amd64"), "{}", none.stderr);
    // A malformed platform: a usage error before any request.
    target
        .regctl()
        .args(["inspect", &multi, "--platform", "linux"])
        .run()
        .code(2);
});

/// skopeo's `inspect --raw` of `repository:tag` on Distribution.
fn skopeo_raw(target: &mut Target, reference: &str) -> Vec<u8> {
    crate::harness::skopeo_raw(target.distribution(), reference)
}

/// `inspect --config` of an index: known only once it is read, so not a usage
/// error (exit 2 says no request was made) but a failure, exit 1, with what to do.
#[test]
fn config_of_an_index_is_a_failure_not_a_usage_error() {
    let reg = crate::harness::TestRegistry::start_with(crate::harness::Options::default(), |s| {
        s.push_index(
            "multi",
            &["v1"],
            &[crate::fixture::image(
                "linux/amd64",
                "2024-01-01T00:00:00Z",
                "cfg index",
            )],
        );
    });
    let run = crate::harness::regctl()
        .trusted(&reg)
        .args(["inspect", &format!("{}/multi:v1", reg.host()), "--config"])
        .run();
    run.code(1);
    assert!(
        run.stderr.contains("no image config") && run.stderr.contains("platform"),
        "{}",
        run.stderr
    );
}
