//! A registry client for tests built on `curl`, an independent implementation:
//! what it pushes does not depend on regctl's own HTTP code. Monolithic blob
//! uploads, manifest PUTs, DELETEs and plain GETs.

use std::path::PathBuf;
use std::process::Command;

use crate::artifacts::Manifest;
use crate::fixture::{sha256, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST};

/// Every manifest media type the tests push.
const MANIFEST_TYPES: [&str; 4] = [
    OCI_MANIFEST,
    OCI_INDEX,
    DOCKER_MANIFEST,
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// How to reach one registry: its base URL, the CA to trust, the login.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// `https://127.0.0.1:PORT` or `http://127.0.0.1:PORT`, no trailing slash.
    pub base: String,
    pub ca: Option<PathBuf>,
    pub credentials: Option<(String, String)>,
}

/// One HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// Header names in lower case, in the order received (last response only).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    #[track_caller]
    fn expect(self, status: u16, what: &str) -> Self {
        assert_eq!(
            self.status,
            status,
            "{what}: headers {:?}, body {}",
            self.headers,
            self.text()
        );
        self
    }
}

impl Endpoint {
    /// Sends `method` to `target` (a path starting with `/`, or an absolute URL)
    /// with an optional body and Content-Type; returns the final answer.
    pub fn request(
        &self,
        method: &str,
        target: &str,
        content_type: Option<&str>,
        body: Option<&[u8]>,
    ) -> Reply {
        let headers: Vec<String> = content_type
            .map(|t| format!("Content-Type: {t}"))
            .into_iter()
            .collect();
        self.request_with(method, target, &headers, body)
    }

    /// Like [`Endpoint::request`], with whole header lines (`Name: value`).
    pub fn request_with(
        &self,
        method: &str,
        target: &str,
        headers: &[String],
        body: Option<&[u8]>,
    ) -> Reply {
        let url = if target.starts_with('/') {
            format!("{}{target}", self.base)
        } else {
            target.to_string()
        };
        let dir = tempfile::tempdir().unwrap();
        let (head, out) = (dir.path().join("head"), dir.path().join("body"));
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "--noproxy", "*", "-X", method, "-H", "Expect:"])
            .arg("-D")
            .arg(&head)
            .arg("-o")
            .arg(&out)
            .args(["-w", "%{http_code}"]);
        if let Some(ca) = &self.ca {
            cmd.arg("--cacert").arg(ca);
        }
        if let Some((user, password)) = &self.credentials {
            cmd.arg("-u").arg(format!("{user}:{password}"));
        }
        for header in headers {
            cmd.arg("-H").arg(header);
        }
        match body {
            Some(bytes) => {
                let file = dir.path().join("request");
                std::fs::write(&file, bytes).unwrap();
                cmd.arg("--data-binary").arg(format!("@{}", file.display()));
            }
            // A POST without a body still sends Content-Length: 0.
            None if method == "POST" => {
                cmd.args(["--data-binary", ""]);
            }
            None => {}
        }
        cmd.arg(&url);
        let output = cmd.output().expect("curl is installed (scripts/test)");
        assert!(
            output.status.success(),
            "curl {method} {url}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let status = String::from_utf8_lossy(&output.stdout).parse().unwrap();
        let head = std::fs::read_to_string(&head).unwrap_or_default();
        Reply {
            status,
            headers: last_headers(&head),
            body: std::fs::read(&out).unwrap_or_default(),
        }
    }

    pub fn get(&self, target: &str) -> Reply {
        self.request("GET", target, None, None)
    }

    /// `GET /v2/<repository>/manifests/<reference>` accepting every manifest
    /// media type (Distribution answers 404 to an OCI manifest otherwise):
    /// `Some(bytes)` on 200, `None` on 404, a panic on anything else.
    pub fn manifest(&self, repository: &str, reference: &str) -> Option<Vec<u8>> {
        let accept = format!("Accept: {}", MANIFEST_TYPES.join(", "));
        let reply = self.request_with(
            "GET",
            &format!("/v2/{repository}/manifests/{reference}"),
            &[accept],
            None,
        );
        match reply.status {
            200 => Some(reply.body),
            404 => None,
            status => panic!(
                "GET manifest {repository}:{reference}: {status} {}",
                reply.text()
            ),
        }
    }

    /// Uploads `bytes` as one blob of `repository` (POST, then PUT of the whole
    /// body to the Location with `digest=`); returns its digest.
    pub fn push_blob(&self, repository: &str, bytes: &[u8]) -> String {
        let digest = sha256(bytes);
        let start = self
            .request(
                "POST",
                &format!("/v2/{repository}/blobs/uploads/"),
                None,
                None,
            )
            .expect(202, "start blob upload");
        let location = start
            .header("location")
            .expect("upload Location")
            .to_string();
        let separator = if location.contains('?') { '&' } else { '?' };
        self.request(
            "PUT",
            &format!("{location}{separator}digest={digest}"),
            Some("application/octet-stream"),
            Some(bytes),
        )
        .expect(201, &format!("finish blob upload of {digest}"));
        digest
    }

    /// Pushes the blobs `manifest` names, then the manifest as `reference` (a tag
    /// or its digest) with its media type; returns the answer (201 asserted).
    pub fn push_manifest(&self, repository: &str, reference: &str, manifest: &Manifest) -> Reply {
        for blob in &manifest.blobs {
            self.push_blob(repository, blob);
        }
        let reply = self
            .request(
                "PUT",
                &format!("/v2/{repository}/manifests/{reference}"),
                Some(manifest.media_type),
                Some(&manifest.bytes),
            )
            .expect(201, &format!("put manifest {repository}:{reference}"));
        if let Some(d) = reply.header("docker-content-digest") {
            assert_eq!(d, manifest.digest, "the registry computed another digest");
        }
        reply
    }

    /// `DELETE /v2/<repository>/manifests/<reference>`; the answer as it comes.
    pub fn delete_manifest(&self, repository: &str, reference: &str) -> Reply {
        self.request(
            "DELETE",
            &format!("/v2/{repository}/manifests/{reference}"),
            None,
            None,
        )
    }
}

/// The headers of the last response in a `curl -D` dump (which holds one block
/// per response, e.g. after a `100 Continue`).
fn last_headers(dump: &str) -> Vec<(String, String)> {
    let block = dump
        .split("\r\n\r\n")
        .filter(|b| !b.trim().is_empty())
        .last()
        .unwrap_or("");
    block
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect()
}
