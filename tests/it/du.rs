//! `regctl du` against the real registry: its figures equal sizes computed
//! independently from the registry's storage folder (each repository's
//! manifest revisions and layer links, each blob's file size).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::fixture::{image, Storage};
use crate::harness::{regctl, Options, TestRegistry};

/// web (v1; v2 and latest on one image), api (web's v1 image, and a two-platform
/// index), team/tools (one image).
pub fn populate(s: &Storage) {
    let a = image("linux/amd64", "2024-01-01T00:00:00Z", "du-a");
    let b = image("linux/amd64", "2024-02-01T00:00:00Z", "du-b");
    s.push("web", &["v1"], &a);
    s.push("web", &["v2", "latest"], &b);
    // The same image in another repository: shared, unique to neither.
    s.push("api", &["v1"], &a);
    s.push_index(
        "api",
        &["multi"],
        &[
            image("linux/amd64", "2024-03-01T00:00:00Z", "du-c"),
            image("linux/arm64", "2024-03-01T00:00:00Z", "du-d"),
        ],
    );
    s.push(
        "team/tools",
        &["stable"],
        &image("linux/amd64", "2024-04-01T00:00:00Z", "du-e"),
    );
}

/// Each repository's blobs, read from the storage folder: its manifest
/// revisions and its layer links (configs and layers), with their file sizes.
fn from_storage(v2: &Path) -> BTreeMap<String, BTreeMap<String, u64>> {
    let size = |hex: &str| {
        std::fs::metadata(v2.join(format!("blobs/sha256/{}/{hex}/data", &hex[..2])))
            .unwrap()
            .len()
    };
    let links = |dir: &Path| -> Vec<String> {
        std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut repositories = BTreeMap::new();
    let mut pending = vec![v2.join("repositories")];
    while let Some(dir) = pending.pop() {
        if dir.join("_manifests").is_dir() {
            let name = dir
                .strip_prefix(v2.join("repositories"))
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let mut blobs = BTreeMap::new();
            for folder in ["_manifests/revisions/sha256", "_layers/sha256"] {
                for hex in links(&dir.join(folder)) {
                    blobs.insert(hex.clone(), size(&hex));
                }
            }
            repositories.insert(name, blobs);
            continue;
        }
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            if entry.path().is_dir() {
                pending.push(entry.path());
            }
        }
    }
    repositories
}

#[test]
fn du_equals_the_sizes_in_the_storage_folder() {
    let reg = TestRegistry::start_with(Options::default(), populate);
    let run = regctl()
        .trusted(&reg)
        .args(["du", &reg.host(), "--format", "json"])
        .run();
    run.success();
    assert!(run.stderr.contains("untagged manifests"), "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();

    let storage = from_storage(&reg.storage_root().join("docker/registry/v2"));
    assert_eq!(storage.len(), 3);
    let users = |hex: &str| storage.values().filter(|b| b.contains_key(hex)).count();
    let mut everything = BTreeMap::new();
    let rows = report["repositories"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for row in rows {
        let name = row["repository"].as_str().unwrap();
        let blobs = &storage[name];
        let bytes: u64 = blobs.values().sum();
        let unique: u64 = blobs
            .iter()
            .filter(|(hex, _)| users(hex) == 1)
            .map(|(_, s)| s)
            .sum();
        assert_eq!(row["bytes"], bytes, "{name}");
        assert_eq!(row["unique_bytes"], unique, "{name}");
        assert_eq!(row["shared_bytes"], bytes - unique, "{name}");
        everything.extend(blobs.clone());
    }
    let total: u64 = everything.values().sum();
    assert_eq!(report["total_bytes"], total);
    let web = rows.iter().find(|r| r["repository"] == "web").unwrap();
    assert_eq!(
        (web["tags"].as_u64(), web["images"].as_u64()),
        (Some(3), Some(2))
    );
    let api = rows.iter().find(|r| r["repository"] == "api").unwrap();
    assert!(api["shared_bytes"].as_u64().unwrap() > 0);

    // Plain lines: exact bytes, and the total last.
    let plain = regctl().trusted(&reg).args(["du", &reg.host()]).run();
    plain.success();
    assert_eq!(
        plain.lines().last().copied(),
        Some(format!("total 6 5 {total}").as_str())
    );
    let web_line = format!("{}/web 3 2 {}", reg.host(), web["bytes"]);
    assert!(plain.stdout.contains(&web_line), "{}", plain.stdout);
}

#[test]
fn du_by_tag_counts_an_index_with_its_children_and_a_shared_image_as_unique_to_none() {
    let reg = TestRegistry::start_with(Options::default(), populate);
    let run = regctl()
        .trusted(&reg)
        .args([
            "du",
            &format!("{}/api", reg.host()),
            "--by",
            "tag",
            "--format",
            "json",
        ])
        .run();
    run.success();
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let images = report["images"].as_array().unwrap();
    assert_eq!(images.len(), 2);
    let storage = from_storage(&reg.storage_root().join("docker/registry/v2"));
    let api: u64 = storage["api"].values().sum();
    let bytes: u64 = images.iter().map(|i| i["bytes"].as_u64().unwrap()).sum();
    assert_eq!(
        bytes, api,
        "the two images hold every blob of api, none twice"
    );
    // Scanning api alone, its v1 image is unique to it.
    assert!(images.iter().all(|i| i["bytes"] == i["unique_bytes"]));
    let multi = images.iter().find(|i| i["tags"][0] == "multi").unwrap();
    let tagged: BTreeSet<&str> = images
        .iter()
        .map(|i| i["tags"][0].as_str().unwrap())
        .collect();
    assert_eq!(tagged, BTreeSet::from(["multi", "v1"]));
    assert!(
        multi["bytes"].as_u64().unwrap()
            > images.iter().find(|i| i["tags"][0] == "v1").unwrap()["bytes"]
                .as_u64()
                .unwrap()
    );
}
