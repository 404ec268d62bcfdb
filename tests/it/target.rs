//! One handle over the two registry implementations the deletion tests run on:
//! Distribution 2.8.2 (TLS, htpasswd, no referrers API) and ferro-oci-server
//! 1.0.0 (plain HTTP, no auth, referrers API). Pushes go over the HTTP API with
//! curl; [`on_both!`] makes one test per registry.

use crate::artifacts::{self, Cosign, Manifest};
use crate::curl::{Endpoint, Reply};
use crate::ferro::FerroRegistry;
use crate::fixture::Image;
use crate::harness::{regctl, Options, Regctl, TestRegistry, PASSWORD, USER};

/// A running registry of either kind.
pub enum Target {
    Distribution(TestRegistry),
    Ferro(FerroRegistry),
}

/// Which implementation a [`Target`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Distribution,
    Ferro,
}

impl Target {
    /// Starts a fresh registry of `kind` (Distribution: TLS, htpasswd, deletion
    /// enabled).
    pub fn start(kind: Kind) -> Self {
        match kind {
            Kind::Distribution => Target::Distribution(TestRegistry::start(Options::default())),
            Kind::Ferro => Target::Ferro(FerroRegistry::start()),
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Target::Distribution(_) => Kind::Distribution,
            Target::Ferro(_) => Kind::Ferro,
        }
    }

    /// `host:port` as users type it.
    pub fn host(&self) -> String {
        match self {
            Target::Distribution(r) => r.host(),
            Target::Ferro(r) => r.host(),
        }
    }

    /// `host:port/repository[:tag|@digest]`, as regctl and skopeo take it.
    pub fn reference(&self, repository_and_reference: &str) -> String {
        format!("{}/{repository_and_reference}", self.host())
    }

    /// A regctl invocation that reaches this registry: the CA and the test user
    /// for Distribution, `--plain-http` for ferro.
    pub fn regctl(&self) -> Regctl {
        match self {
            Target::Distribution(r) => regctl().trusted(r),
            Target::Ferro(_) => regctl().args(["--plain-http"]),
        }
    }

    /// The tags `regctl ls` lists in `repository`, without the registry and
    /// repository (exit 0 asserted).
    pub fn listed_tags(&self, repository: &str) -> Vec<String> {
        let run = self
            .regctl()
            .args(["ls", &self.reference(repository)])
            .run();
        run.success();
        let prefix = format!("{}/{repository}:", self.host());
        run.lines()
            .iter()
            .map(|l| l.trim_start_matches(&prefix).to_string())
            .collect()
    }

    /// The curl client for this registry.
    pub fn http(&self) -> Endpoint {
        match self {
            Target::Distribution(r) => Endpoint {
                base: format!("https://{}", r.host()),
                ca: Some(r.ca.clone()),
                credentials: Some((USER.to_string(), PASSWORD.to_string())),
            },
            Target::Ferro(r) => Endpoint {
                base: format!("http://{}", r.host()),
                ca: None,
                credentials: None,
            },
        }
    }

    /// Whether it serves `GET /v2/<name>/referrers/<digest>`.
    pub fn has_referrers_api(&self) -> bool {
        self.kind() == Kind::Ferro
    }

    /// The Distribution registry, for storage checks and garbage collection.
    #[track_caller]
    pub fn distribution(&mut self) -> &mut TestRegistry {
        match self {
            Target::Distribution(r) => r,
            Target::Ferro(_) => panic!("this check needs Distribution's storage"),
        }
    }

    /// The server's log, for failure messages.
    pub fn log(&self) -> String {
        match self {
            Target::Distribution(r) => r.log(),
            Target::Ferro(r) => r.log(),
        }
    }

    /// Pushes `manifest` (and its blobs) as `reference`, a tag or its own digest;
    /// returns its digest.
    pub fn push(&self, repository: &str, reference: &str, manifest: &Manifest) -> String {
        self.http().push_manifest(repository, reference, manifest);
        manifest.digest.clone()
    }

    /// Pushes `manifest` by digest, then tags it with each of `tags`; returns
    /// the digest.
    pub fn push_tagged(&self, repository: &str, tags: &[&str], manifest: &Manifest) -> String {
        let digest = self.push(repository, &manifest.digest, manifest);
        let http = self.http();
        for tag in tags {
            let reply = http.request(
                "PUT",
                &format!("/v2/{repository}/manifests/{tag}"),
                Some(manifest.media_type),
                Some(&manifest.bytes),
            );
            assert_eq!(
                reply.status,
                201,
                "tag {repository}:{tag}: {}",
                reply.text()
            );
        }
        digest
    }

    /// Pushes a single-platform image and tags it; returns its digest.
    pub fn push_image(&self, repository: &str, tags: &[&str], image: &Image) -> String {
        self.push_tagged(repository, tags, &Manifest::from(image))
    }

    /// Pushes `children` by digest, then an OCI index over them with `tags`;
    /// returns the index's digest.
    pub fn push_index(&self, repository: &str, tags: &[&str], children: &[Image]) -> String {
        for child in children {
            self.push_image(repository, &[], child);
        }
        self.push_tagged(repository, tags, &artifacts::index(children))
    }

    /// Pushes a cosign-style `kind` manifest for `subject` (a digest), tagged
    /// `sha256-<hex>.sig|.att|.sbom`; returns it (its digest, tag via
    /// [`artifacts::cosign_tag`]).
    pub fn push_cosign(&self, repository: &str, subject: &str, kind: Cosign) -> Manifest {
        let manifest = artifacts::cosign(
            &self.reference(repository),
            subject,
            kind,
            &format!("{repository}{subject}"),
        );
        let tag = artifacts::cosign_tag(subject, kind);
        self.push_tagged(repository, &[&tag], &manifest);
        manifest
    }

    /// Pushes an OCI 1.1 referrer of `subject` by digest (no tag); returns it.
    /// Distribution 2.8.2 stores it as a plain manifest; ferro indexes it.
    pub fn push_referrer(
        &self,
        repository: &str,
        subject: &Manifest,
        artifact_type: &str,
        payload: &[u8],
    ) -> Manifest {
        let manifest = artifacts::referrer(subject, artifact_type, payload);
        self.push(repository, &manifest.digest, &manifest);
        manifest
    }

    /// Pushes the referrers fallback index for `subject` (a digest) listing
    /// `referrers`, tagged `sha256-<hex>`; returns its digest.
    pub fn push_referrers_fallback(
        &self,
        repository: &str,
        subject: &str,
        referrers: &[Manifest],
    ) -> String {
        let fallback = artifacts::referrers_fallback(referrers);
        self.push_tagged(repository, &[&artifacts::digest_tag(subject)], &fallback)
    }

    /// `DELETE /v2/<repository>/manifests/<reference>`, the answer as it comes.
    pub fn delete_manifest(&self, repository: &str, reference: &str) -> Reply {
        self.http().delete_manifest(repository, reference)
    }
}

/// Generates one test per registry implementation from one body:
///
/// ```ignore
/// on_both!(fn signed_image_is_listed(target) {
///     target.push_image("app", &["v1"], &image);
/// });
/// ```
///
/// makes `signed_image_is_listed::distribution` and
/// `signed_image_is_listed::ferro`, each with its own fresh registry bound to
/// `target` (a `&mut Target`).
#[macro_export]
macro_rules! on_both {
    ($(#[$meta:meta])* fn $name:ident($target:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn scenario($target: &mut $crate::target::Target) $body

            #[test]
            fn distribution() {
                scenario(&mut $crate::target::Target::start($crate::target::Kind::Distribution));
            }

            #[test]
            fn ferro() {
                scenario(&mut $crate::target::Target::start($crate::target::Kind::Ferro));
            }
        }
    };
}
