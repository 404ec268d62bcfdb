//! Byte-exact manifests of an image graph beyond plain images: multi-arch
//! indexes, cosign-style signatures (tag `sha256-<hex>.sig`), OCI 1.1 referrers
//! (`subject`), and the referrers fallback tag (`sha256-<hex>`). Every digest is
//! known before anything is pushed.

use serde_json::{json, Value};

use crate::fixture::{
    self, sha256, Image, EMPTY_DIGEST, EMPTY_JSON, OCI_EMPTY, OCI_INDEX, OCI_MANIFEST,
};

/// A manifest and the blobs it names (config and layers, or none for an index):
/// what one push sends.
#[derive(Clone, Debug)]
pub struct Manifest {
    pub media_type: &'static str,
    /// The manifest's `artifactType`, if it declares one.
    pub artifact_type: Option<String>,
    pub bytes: Vec<u8>,
    pub digest: String,
    pub blobs: Vec<Vec<u8>>,
}

impl Manifest {
    fn new(media_type: &'static str, body: &Value, blobs: Vec<Vec<u8>>) -> Self {
        let bytes = serde_json::to_vec_pretty(body).unwrap();
        Manifest {
            media_type,
            artifact_type: body["artifactType"].as_str().map(str::to_string),
            digest: sha256(&bytes),
            bytes,
            blobs,
        }
    }

    /// The descriptor that points at this manifest (with `artifactType` when set),
    /// as a `subject` or an index entry.
    pub fn descriptor(&self) -> Value {
        let mut d = json!({
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.bytes.len(),
        });
        if let Some(t) = &self.artifact_type {
            d["artifactType"] = t.clone().into();
        }
        d
    }

    /// The digests of the blobs it names (not its own).
    pub fn blob_digests(&self) -> Vec<String> {
        self.blobs.iter().map(|b| sha256(b)).collect()
    }
}

impl From<&Image> for Manifest {
    fn from(image: &Image) -> Self {
        Manifest {
            media_type: image.media_type,
            artifact_type: None,
            bytes: image.manifest.clone(),
            digest: image.digest.clone(),
            blobs: vec![image.config.clone(), image.layer.clone()],
        }
    }
}

/// An OCI index over `children` (with their platforms); the children are pushed
/// separately, by digest.
pub fn index(children: &[Image]) -> Manifest {
    let (bytes, digest) = fixture::index(children);
    Manifest {
        media_type: OCI_INDEX,
        artifact_type: None,
        bytes,
        digest,
        blobs: Vec::new(),
    }
}

/// An OCI index over other indexes (`children`), nested.
pub fn nest(children: &[&Manifest]) -> Manifest {
    let manifests: Vec<Value> = children.iter().map(|c| c.descriptor()).collect();
    let body = json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": manifests,
    });
    Manifest::new(OCI_INDEX, &body, Vec::new())
}

/// The three kinds of manifest cosign attaches to an image by tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cosign {
    /// `sha256-<hex>.sig`
    Signature,
    /// `sha256-<hex>.att`
    Attestation,
    /// `sha256-<hex>.sbom`
    Sbom,
}

impl Cosign {
    fn suffix(self) -> &'static str {
        match self {
            Cosign::Signature => "sig",
            Cosign::Attestation => "att",
            Cosign::Sbom => "sbom",
        }
    }

    /// The media type of the payload layer, as cosign writes it.
    pub fn layer_media_type(self) -> &'static str {
        match self {
            Cosign::Signature => "application/vnd.dev.cosign.simplesigning.v1+json",
            Cosign::Attestation => "application/vnd.dsse.envelope.v1+json",
            Cosign::Sbom => "application/spdx+json",
        }
    }
}

/// `sha256-<hex>`: the digest as a tag (cosign's prefix, and the OCI 1.1
/// referrers fallback tag).
pub fn digest_tag(subject: &str) -> String {
    subject.replacen(':', "-", 1)
}

/// The tag cosign gives `kind` for `subject` (a digest), e.g. `sha256-<hex>.sig`.
pub fn cosign_tag(subject: &str, kind: Cosign) -> String {
    format!("{}.{}", digest_tag(subject), kind.suffix())
}

/// A cosign-style manifest for `subject` (a digest in `repository`): an OCI
/// manifest whose one layer is a small payload naming the subject, with a small
/// OCI config over that layer. `seed` varies the payload (two signatures of one
/// image differ).
pub fn cosign(repository: &str, subject: &str, kind: Cosign, seed: &str) -> Manifest {
    let payload = serde_json::to_vec(&json!({
        "critical": {
            "identity": {"docker-reference": repository},
            "image": {"docker-manifest-digest": subject},
            "type": format!("cosign container image {}", kind.suffix()),
        },
        "optional": {"seed": seed},
    }))
    .unwrap();
    let config = serde_json::to_vec(&json!({
        "architecture": "",
        "os": "",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [sha256(&payload)]},
    }))
    .unwrap();
    let body = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "size": config.len(),
            "digest": sha256(&config),
        },
        "layers": [{
            "mediaType": kind.layer_media_type(),
            "size": payload.len(),
            "digest": sha256(&payload),
            "annotations": {"dev.cosignproject.cosign/signature": format!("MEUCIQ{seed}==")},
        }],
    });
    Manifest::new(OCI_MANIFEST, &body, vec![config, payload])
}

/// An OCI 1.1 referrer of `subject`: an image manifest with `artifactType`, the
/// empty config, one layer holding `payload`, and `subject` = the subject's
/// descriptor. It is pushed by digest.
pub fn referrer(subject: &Manifest, artifact_type: &str, payload: &[u8]) -> Manifest {
    let body = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": {
            "mediaType": OCI_EMPTY,
            "size": EMPTY_JSON.len(),
            "digest": EMPTY_DIGEST,
        },
        "layers": [{
            "mediaType": artifact_type,
            "size": payload.len(),
            "digest": sha256(payload),
        }],
        "subject": subject_descriptor(subject),
        "annotations": {"org.opencontainers.image.created": "2024-01-01T00:00:00Z"},
    });
    Manifest::new(
        OCI_MANIFEST,
        &body,
        vec![EMPTY_JSON.to_vec(), payload.to_vec()],
    )
}

/// A subject is named without `artifactType`.
fn subject_descriptor(subject: &Manifest) -> Value {
    json!({
        "mediaType": subject.media_type,
        "digest": subject.digest,
        "size": subject.bytes.len(),
    })
}

/// The referrers fallback index (OCI distribution spec 1.1, "Referrers Tag
/// Schema"): an OCI index listing `referrers` with their `artifactType` and
/// annotations, to be tagged [`digest_tag`] of their subject.
pub fn referrers_fallback(referrers: &[Manifest]) -> Manifest {
    let manifests: Vec<Value> = referrers
        .iter()
        .map(|r| {
            let mut d = r.descriptor();
            let body: Value = serde_json::from_slice(&r.bytes).unwrap();
            if let Some(a) = body.get("annotations") {
                d["annotations"] = a.clone();
            }
            d
        })
        .collect();
    let body = json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": manifests,
    });
    Manifest::new(OCI_INDEX, &body, Vec::new())
}

#[test]
fn empty_config_digest_is_the_specs() {
    assert_eq!(sha256(EMPTY_JSON), EMPTY_DIGEST);
}

#[test]
fn cosign_tags_name_the_subject() {
    let d = "sha256:0123";
    assert_eq!(cosign_tag(d, Cosign::Signature), "sha256-0123.sig");
    assert_eq!(cosign_tag(d, Cosign::Attestation), "sha256-0123.att");
    assert_eq!(cosign_tag(d, Cosign::Sbom), "sha256-0123.sbom");
    assert_eq!(digest_tag(d), "sha256-0123");
}
