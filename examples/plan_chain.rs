//! Times the deletion planner on a referrer chain (an image, a referrer of it, a
//! referrer of that, ...) of each depth given, from a hand-built snapshot: no
//! registry, only the planning. `bench/plan-chain` runs it in a release build.

use std::sync::Arc;
use std::time::Instant;

use regctl::deletion::{plan, Request};
use regctl::graph::{Node, Snapshot};
use regctl::registry::Digest;

fn node(body: serde_json::Value, media_type: &str) -> (Digest, Node) {
    let bytes: Arc<[u8]> = Arc::from(serde_json::to_vec(&body).expect("JSON"));
    (
        Digest::sha256_of(&bytes),
        Node::from_bytes(media_type, bytes),
    )
}

fn chain(depth: usize) -> Snapshot {
    let mut snapshot = Snapshot::new("app");
    let (image, n) = node(
        serde_json::json!({"schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": Digest::sha256_of(b"config").to_string(), "size": 6},
            "layers": []}),
        "application/vnd.oci.image.manifest.v1+json",
    );
    snapshot.manifests.insert(image.clone(), n);
    snapshot.tags.insert("v1".into(), image.clone());
    let mut last = image;
    for i in 0..depth {
        let (digest, n) = node(
            serde_json::json!({"schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "artifactType": "application/x-link", "annotations": {"n": i.to_string()},
                "config": {"mediaType": "application/vnd.oci.empty.v1+json",
                    "digest": Digest::sha256_of(b"{}").to_string(), "size": 2},
                "layers": [],
                "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": last.to_string(), "size": 1}}),
            "application/vnd.oci.image.manifest.v1+json",
        );
        snapshot.manifests.insert(digest.clone(), n);
        last = digest;
    }
    snapshot
}

fn main() {
    let depths: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("a depth"))
        .collect();
    println!("| depth | actions | plan ms |");
    println!("| ---: | ---: | ---: |");
    for depth in depths {
        let snapshot = chain(depth);
        let request = Request {
            remove_tags: ["v1".to_string()].into(),
            ..Request::default()
        };
        let started = Instant::now();
        let planned = plan(&snapshot, &request);
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(planned.actions.len(), depth + 1);
        println!("| {depth} | {} | {ms:.1} |", planned.actions.len());
    }
}
