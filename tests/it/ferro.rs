//! Starts ferro-oci-server 1.0.0, a second registry implementation (OCI
//! Distribution 1.1, with the referrers API), on a free loopback port in its own
//! temporary folder. It has neither TLS nor auth: tests reach it over plain HTTP
//! (`regctl --plain-http`, `skopeo --src-tls-verify=false`, `curl http://`).
//!
//! What ferro 1.0.0 answers, found with curl against the running binary (the
//! deletion tests rely on these; Distribution 2.8.2's answers in brackets):
//!
//! | request | ferro 1.0.0 |
//! | --- | --- |
//! | `GET /v2/` | 200, body `{}`, `Docker-Distribution-Api-Version: registry/2.0`, no challenge |
//! | `POST /v2/<name>/blobs/uploads/` | 202, relative `Location: /v2/<name>/blobs/uploads/<uuid>` without `?` |
//! | `PUT` of a manifest that has a `subject` | 201 with `OCI-Subject: <subject digest>`, `Docker-Content-Digest`, `Location` [Distribution: 201, no `OCI-Subject`] |
//! | `DELETE /v2/<name>/manifests/<tag>` | 405, `{"errors":[{"code":"UNSUPPORTED","message":"DELETE manifest by tag is not supported; use digest"}]}` [Distribution 2.8.2: 400 `DIGEST_INVALID` "provided digest did not match uploaded content"; nothing deleted] |
//! | `DELETE /v2/<name>/manifests/<digest>` | 202, empty body; then `GET` of it is 404 `MANIFEST_UNKNOWN`, tags that pointed at it are gone from `tags/list`; its blobs still answer 200 (no GC) [Distribution: 202, its tags go too] |
//! | the same `DELETE` again | 404 `MANIFEST_UNKNOWN` |
//! | `DELETE` of a subject that has referrers | 202; the referrers stay, and `referrers/<subject>` still lists them |
//! | `GET /v2/<name>/manifests/<ref>` of an OCI manifest without an OCI `Accept` | 200 [Distribution: 404 `MANIFEST_UNKNOWN` "OCI manifest found, but accept header does not support OCI manifests"] |
//! | `GET /v2/<name>/referrers/<digest>` | 200, `Content-Type: application/vnd.oci.image.index.v1+json`, an index whose `manifests` hold one descriptor per referrer (`mediaType`, `digest`, `size`, `artifactType`, `annotations`) [Distribution: 404] |
//! | the same with `?artifactType=application/spdx%2Bjson` | 200, the matching referrers, `OCI-Filters-Applied: artifactType` |
//! | the same with a literal `+` (`?artifactType=application/spdx+json`) | 200, `"manifests": []`: the `+` is decoded as a space, so clients must percent-encode it |
//! | the same with a type nobody has, or for a digest nobody refers to, or in an unknown repository | 200, `"manifests": []` |
//! | `GET /v2/<name>/referrers/<tag>` | 400 `DIGEST_INVALID` |
//! | `GET /v2/_catalog` | 200, `{"repositories":[...]}`, sorted; a repository stays listed after all its manifests are deleted |
//! | `GET /v2/_catalog?n=1` | 200, one repository, `Link: </v2/_catalog?last=<repository>&n=1>; rel="next"` |
//! | `GET /v2/<name>/tags/list?n=2` | 200, two tags, `Link: </v2/<name>/tags/list?last=<tag>&n=2>; rel="next"`; a last page holding exactly `n` tags also has a `Link`, and the page after it is `"tags": []` without one |
//! | `GET /v2/<name>/tags/list` of an unknown repository | 200, `"tags": []` (not 404 `NAME_UNKNOWN`) |
//!
//! Blobs live in one content-addressed store shared by all repositories
//! (`<storage>/sha256/<2 hex>/<62 hex>`, config and layers only); manifests, tags
//! and the referrer index live in `<storage>/metadata.json`.

use std::process::{Child, Command};

use tempfile::TempDir;

use crate::harness::{free_port, spawn_until_listening, stop};

/// The binary, installed by `scripts/test` with
/// `cargo install --locked ferro-oci-server --version 1.0.0`.
const BINARY: &str = "ferro-oci-server";

/// A running ferro-oci-server; killed when dropped.
pub struct FerroRegistry {
    /// Holds `storage/` (blobs and metadata) and `ferro.log`.
    pub dir: TempDir,
    pub port: u16,
    child: Child,
}

impl FerroRegistry {
    /// Starts it on a free port, retrying on a lost port race; waits until it
    /// logs that it is listening.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("ferro.log");
        for attempt in 0.. {
            let port = free_port();
            let mut cmd = Command::new(BINARY);
            cmd.env("FERRO_OCI_LISTEN", format!("127.0.0.1:{port}"))
                .env("FERRO_OCI_STORAGE_DIR", dir.path().join("storage"))
                .env("RUST_LOG", "info")
                .env("NO_COLOR", "1");
            if let Some(child) = spawn_until_listening(cmd, &log, "listening") {
                return FerroRegistry { dir, port, child };
            }
            // Exited before listening: most likely the port was taken meanwhile.
            let said = std::fs::read_to_string(&log).unwrap_or_default();
            assert!(attempt < 3, "ferro-oci-server did not start: {said}");
        }
        unreachable!()
    }

    /// `host:port` as users type it.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// What the server logged (at `info` and above).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("ferro.log")).unwrap_or_default()
    }
}

impl Drop for FerroRegistry {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}
