//! Attachments: signatures, attestations, SBOMs and OCI referrers, and the tags
//! that name their subject (cosign's `sha256-<hex>.sig|.att|.sbom`, the referrers
//! fallback tag `sha256-<hex>`).

use crate::registry::Digest;

/// What kind of attachment a manifest is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AttachmentKind {
    /// A cosign signature (`sha256-<hex>.sig`).
    Signature,
    /// A cosign attestation (`sha256-<hex>.att`).
    Attestation,
    /// A cosign SBOM (`sha256-<hex>.sbom`).
    Sbom,
    /// An OCI 1.1 referrer (its `subject` is the manifest), with its artifact type.
    Referrer(Option<String>),
    /// The referrers fallback index (tag `sha256-<hex>`) listing the referrers.
    ReferrersIndex,
}

impl AttachmentKind {
    /// The word printed for it: `signature`, `attestation`, `sbom`, `referrer`,
    /// `referrers-index`.
    pub fn word(&self) -> &'static str {
        match self {
            AttachmentKind::Signature => "signature",
            AttachmentKind::Attestation => "attestation",
            AttachmentKind::Sbom => "sbom",
            AttachmentKind::Referrer(_) => "referrer",
            AttachmentKind::ReferrersIndex => "referrers-index",
        }
    }
}

/// A manifest attached to another.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Attachment {
    /// The attached manifest.
    pub digest: Digest,
    /// What it is.
    pub kind: AttachmentKind,
}

/// The subject named by a cosign tag (`sha256-<hex>.sig|.att|.sbom`, or
/// `sha512-...`) and its kind.
pub fn cosign_tag(tag: &str) -> Option<(Digest, AttachmentKind)> {
    let (stem, suffix) = tag.rsplit_once('.')?;
    let kind = match suffix {
        "sig" => AttachmentKind::Signature,
        "att" => AttachmentKind::Attestation,
        "sbom" => AttachmentKind::Sbom,
        _ => return None,
    };
    Some((fallback_tag(stem)?, kind))
}

/// The subject named by a tag of the referrers tag schema (`sha256-<hex>`, or
/// `sha512-<hex>`): the algorithm, a dash, the lower-case hex of the digest.
pub fn fallback_tag(tag: &str) -> Option<Digest> {
    let (algorithm, hex) = tag.split_once('-')?;
    let length = match algorithm {
        "sha256" => 64,
        "sha512" => 128,
        _ => return None,
    };
    let lower_hex = hex.len() == length
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !lower_hex {
        return None;
    }
    format!("{algorithm}:{hex}").parse().ok()
}

/// The referrers fallback tag for `subject`.
pub fn fallback_tag_for(subject: &Digest) -> String {
    subject.to_string().replacen(':', "-", 1)
}
