//! Builds registry content by writing Distribution's filesystem storage layout
//! directly (before the registry starts): fast for hundreds of repositories, and
//! byte-exact, so tests know every digest in advance.

use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// The config media type of artifacts that have no config.
pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
/// The empty config blob, `{}`, and its digest (OCI image spec 1.1).
pub const EMPTY_JSON: &[u8] = b"{}";
pub const EMPTY_DIGEST: &str =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

pub fn sha256(bytes: &[u8]) -> String {
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

/// A single-platform image: config, one layer, a schema2 or OCI manifest.
#[derive(Clone)]
pub struct Image {
    /// The manifest's media type: [`DOCKER_MANIFEST`] or [`OCI_MANIFEST`].
    pub media_type: &'static str,
    pub config: Vec<u8>,
    pub layer: Vec<u8>,
    pub manifest: Vec<u8>,
    pub digest: String,
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

/// A distinct Docker schema2 image for `os/arch[/variant]`; `seed` makes its
/// bytes unique.
pub fn image(platform: &str, created: &str, seed: &str) -> Image {
    build_image(&SCHEMA2, platform, created, seed)
}

/// Like [`image`], with OCI media types for the manifest, config and layer.
pub fn oci_image(platform: &str, created: &str, seed: &str) -> Image {
    build_image(&OCI, platform, created, seed)
}

/// The media types of one image format.
struct Format {
    manifest: &'static str,
    config: &'static str,
    layer: &'static str,
}

const SCHEMA2: Format = Format {
    manifest: DOCKER_MANIFEST,
    config: "application/vnd.docker.container.image.v1+json",
    layer: "application/vnd.docker.image.rootfs.diff.tar.gzip",
};

const OCI: Format = Format {
    manifest: OCI_MANIFEST,
    config: "application/vnd.oci.image.config.v1+json",
    layer: "application/vnd.oci.image.layer.v1.tar+gzip",
};

fn build_image(format: &Format, platform: &str, created: &str, seed: &str) -> Image {
    let parts: Vec<&str> = platform.split('/').collect();
    let (os, architecture, variant) = (parts[0], parts[1], parts.get(2).map(|v| v.to_string()));
    let layer = format!("layer for {seed} {platform}").into_bytes();
    let mut config = serde_json::json!({
        "architecture": architecture,
        "os": os,
        "created": created,
        "config": {"Labels": {"seed": seed}},
        "rootfs": {"type": "layers", "diff_ids": [sha256(&layer)]},
    });
    if let Some(v) = &variant {
        config["variant"] = v.clone().into();
    }
    let config = serde_json::to_vec(&config).unwrap();
    let manifest = serde_json::to_vec_pretty(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": format.manifest,
        "config": {
            "mediaType": format.config,
            "size": config.len(),
            "digest": sha256(&config),
        },
        "layers": [{
            "mediaType": format.layer,
            "size": layer.len(),
            "digest": sha256(&layer),
        }],
    }))
    .unwrap();
    Image {
        media_type: format.manifest,
        digest: sha256(&manifest),
        config,
        layer,
        manifest,
        os: os.into(),
        architecture: architecture.into(),
        variant,
    }
}

/// An OCI index over `children`: (bytes, digest).
pub fn index(children: &[Image]) -> (Vec<u8>, String) {
    let manifests: Vec<serde_json::Value> = children
        .iter()
        .map(|c| {
            let mut platform = serde_json::json!({"os": c.os, "architecture": c.architecture});
            if let Some(v) = &c.variant {
                platform["variant"] = v.clone().into();
            }
            serde_json::json!({
                "mediaType": c.media_type,
                "size": c.manifest.len(),
                "digest": c.digest,
                "platform": platform,
            })
        })
        .collect();
    let bytes = serde_json::to_vec_pretty(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": manifests,
    }))
    .unwrap();
    let digest = sha256(&bytes);
    (bytes, digest)
}

/// Distribution's `docker/registry/v2` tree under a storage root.
pub struct Storage {
    v2: PathBuf,
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn hex(digest: &str) -> &str {
    digest.strip_prefix("sha256:").unwrap()
}

impl Storage {
    pub fn new(root: &Path) -> Self {
        Storage {
            v2: root.join("docker/registry/v2"),
        }
    }

    fn blob(&self, bytes: &[u8]) -> String {
        let digest = sha256(bytes);
        let h = hex(&digest);
        write(
            &self.v2.join(format!("blobs/sha256/{}/{h}/data", &h[..2])),
            bytes,
        );
        digest
    }

    fn repo(&self, repository: &str) -> PathBuf {
        self.v2.join("repositories").join(repository)
    }

    /// Stores `bytes` as a blob linked into `repository` (a layer or config).
    pub fn layer(&self, repository: &str, bytes: &[u8]) {
        let digest = self.blob(bytes);
        write(
            &self
                .repo(repository)
                .join(format!("_layers/sha256/{}/link", hex(&digest))),
            digest.as_bytes(),
        );
    }

    /// Stores a manifest revision in `repository`; returns its digest.
    pub fn manifest(&self, repository: &str, bytes: &[u8]) -> String {
        let digest = self.blob(bytes);
        write(
            &self
                .repo(repository)
                .join(format!("_manifests/revisions/sha256/{}/link", hex(&digest))),
            digest.as_bytes(),
        );
        digest
    }

    /// Points `repository:tag` at `digest`.
    pub fn tag(&self, repository: &str, tag: &str, digest: &str) {
        let dir = self.repo(repository).join("_manifests/tags").join(tag);
        write(&dir.join("current/link"), digest.as_bytes());
        write(
            &dir.join(format!("index/sha256/{}/link", hex(digest))),
            digest.as_bytes(),
        );
    }

    /// Stores an image's blobs and manifest in `repository` (untagged).
    pub fn image(&self, repository: &str, image: &Image) -> String {
        self.layer(repository, &image.config);
        self.layer(repository, &image.layer);
        self.manifest(repository, &image.manifest)
    }

    /// Stores `image` and tags it with each of `tags`.
    pub fn push(&self, repository: &str, tags: &[&str], image: &Image) -> String {
        let digest = self.image(repository, image);
        for tag in tags {
            self.tag(repository, tag, &digest);
        }
        digest
    }

    /// Stores an index over `children` (and the children) and tags it.
    pub fn push_index(&self, repository: &str, tags: &[&str], children: &[Image]) -> String {
        for child in children {
            self.image(repository, child);
        }
        let (bytes, _) = index(children);
        let digest = self.manifest(repository, &bytes);
        for tag in tags {
            self.tag(repository, tag, &digest);
        }
        digest
    }

    /// Stores a Docker schema 1 image (one layer, made `created`) as Distribution
    /// keeps one: the manifest's payload, unsigned (it signs it on every read,
    /// served as `…v1+prettyjws`; the digest is the payload's), tagged `tag`.
    /// Returns (manifest digest, layer digest).
    pub fn push_schema1(&self, repository: &str, tag: &str, created: &str) -> (String, String) {
        let layer = format!("schema 1 layer of {repository}:{tag}").into_bytes();
        self.layer(repository, &layer);
        let history = serde_json::json!({"id": sha256(&layer)[7..].to_string(),
            "created": created, "architecture": "amd64", "os": "linux"});
        let manifest = serde_json::to_vec_pretty(&serde_json::json!({
            "schemaVersion": 1, "name": repository, "tag": tag, "architecture": "amd64",
            "fsLayers": [{"blobSum": sha256(&layer)}, {"blobSum": sha256(&layer)}],
            "history": [{"v1Compatibility": history.to_string()},
                {"v1Compatibility": history.to_string()}],
        }))
        .unwrap();
        let digest = self.manifest(repository, &manifest);
        self.tag(repository, tag, &digest);
        (digest, sha256(&layer))
    }
}
