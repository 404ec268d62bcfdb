//! Deletion while another client writes, on both registries: during `prune`'s
//! deletion phase (after the plan and its re-check), a second client tags a
//! planned image for a rollback and pushes an index over another planned image.
//! Both must survive and be reported; everything else planned goes; on
//! Distribution, its garbage collector then frees exactly what went.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;

use crate::ferro::FerroRegistry;
use crate::fixture::{image, index, sha256, Image, Storage, OCI_INDEX};
use crate::harness::{loopback_certificate, regctl, Regctl, PASSWORD, USER};
use crate::http::{forward, serve_tls, Request, Response, Server};
use crate::resilience::{fronted_with, Forward, Fronted};
use crate::target::{Kind, Target};

/// Old builds, each its own image; the prune deletes them all but what is
/// written meanwhile.
const BUILDS: usize = 24;

fn builds() -> Vec<(String, Image)> {
    (1..=BUILDS)
        .map(|i| {
            let day = format!("2024-02-{:02}T00:00:00Z", i);
            (
                format!("build-{i:02}"),
                image("linux/amd64", &day, &format!("build {i}")),
            )
        })
        .collect()
}

/// The image `latest` points at: recent, so `--keep 1` keeps it.
fn latest() -> Image {
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    image("linux/amd64", &now, "writers latest")
}

/// Another client's PUT of a manifest, sent through the proxy while it handles
/// `req` (whose credentials it borrows).
fn put_meanwhile(req: &Request, fwd: Forward, target: &str, media_type: &str, body: &[u8]) {
    let mut put = req.clone();
    put.method = "PUT".into();
    put.target = target.into();
    put.headers
        .retain(|(k, _)| k.eq_ignore_ascii_case("authorization"));
    put.headers.push(("Content-Type".into(), media_type.into()));
    put.body = body.to_vec();
    assert_eq!(fwd(&put).status, 201, "the second client's push");
}

/// The registry under test behind a TLS proxy that runs `rule` on each request.
enum Watched {
    Distribution(Fronted),
    /// The registry (alive while this is) and the proxy in front of it.
    Ferro(#[allow(dead_code)] FerroRegistry, Server),
}

impl Watched {
    fn start(
        kind: Kind,
        images: &[(String, Image)],
        rule: impl Fn(&Request, Forward) -> Response + Send + Sync + 'static,
    ) -> Watched {
        match kind {
            Kind::Distribution => {
                let images = images.to_vec();
                Watched::Distribution(fronted_with(
                    move |s: &Storage| {
                        for (tag, img) in &images {
                            s.push("app", &[tag.as_str()], img);
                        }
                    },
                    rule,
                ))
            }
            Kind::Ferro => {
                let target = Target::Ferro(FerroRegistry::start());
                for (tag, img) in images {
                    target.push_image("app", &[tag.as_str()], img);
                }
                let Target::Ferro(ferro) = target else {
                    unreachable!()
                };
                let port = ferro.port;
                let proxy = serve_tls(loopback_certificate(), move |req| {
                    rule(req, &|r| forward(port, r))
                });
                Watched::Ferro(ferro, proxy)
            }
        }
    }

    fn host(&self) -> String {
        match self {
            Watched::Distribution(f) => f.host(),
            Watched::Ferro(_, proxy) => format!("127.0.0.1:{}", proxy.port),
        }
    }

    fn regctl(&self) -> Regctl {
        let cert = loopback_certificate().cert.as_os_str();
        match self {
            Watched::Distribution(f) => f.regctl(),
            Watched::Ferro(..) => regctl().args(["--ca-file".as_ref(), cert]),
        }
    }

    /// `tag digest` for every tag of `app`, read through the proxy.
    fn tags(&self) -> Vec<String> {
        let run = self
            .regctl()
            .args(["ls", "--digests", &format!("{}/app", self.host())])
            .run();
        run.success();
        let prefix = format!("{}/app:", self.host());
        run.lines()
            .iter()
            .map(|l| l.trim_start_matches(&prefix).to_string())
            .collect()
    }

    /// Whether `app@digest` is there.
    fn exists(&self, digest: &str) -> bool {
        let run = self
            .regctl()
            .args(["digest", &format!("{}/app@{digest}", self.host())])
            .run();
        match run.code {
            0 => true,
            4 => false,
            _ => panic!("digest: {}", run.stderr),
        }
    }

    /// skopeo pulls `app:tag` (every blob) through the proxy.
    fn assert_pulls(&self, tag: &str) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(&loopback_certificate().cert, dir.path().join("ca.crt")).unwrap();
        std::fs::write(
            dir.path().join("policy.json"),
            r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
        )
        .unwrap();
        let mut cmd = std::process::Command::new("skopeo");
        cmd.arg("--policy")
            .arg(dir.path().join("policy.json"))
            .arg("copy")
            .arg("--src-cert-dir")
            .arg(dir.path());
        if let Watched::Distribution(_) = self {
            cmd.args(["--src-creds", &format!("{USER}:{PASSWORD}")]);
        }
        for var in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] {
            cmd.env_remove(var);
        }
        cmd.arg(format!("docker://{}/app:{tag}", self.host()))
            .arg(format!(
                "oci:{}:pulled",
                dir.path().join("layout").display()
            ));
        crate::harness::output_ok(&mut cmd);
    }
}

fn blobs_of(img: &Image) -> [String; 3] {
    [img.digest.clone(), sha256(&img.config), sha256(&img.layer)]
}

/// The deletion phase is the window: the second client writes while the first
/// manifest DELETE of the run is in flight. The two images it writes over are
/// those deleted last (the plan deletes in digest order), so a run that looked
/// at the tag list only before its first change would delete both.
fn second_client_writes_during_the_deletion_phase(kind: Kind) {
    let builds = builds();
    let mut by_digest: Vec<&(String, Image)> = builds.iter().collect();
    by_digest.sort_by(|a, b| a.1.digest.cmp(&b.1.digest));
    let (rollback, indexed) = (by_digest[BUILDS - 1].clone(), by_digest[BUILDS - 2].clone());
    let mut all = builds.clone();
    all.push(("latest".into(), latest()));
    let (index_bytes, index_digest) = index(std::slice::from_ref(&indexed.1));

    let wrote = Arc::new(AtomicBool::new(false));
    let probe = sha256(b"regctl: probe for deletion support; no such manifest");
    let (w, rb, ib) = (wrote.clone(), rollback.1.clone(), index_bytes.clone());
    let mut watched = Watched::start(kind, &all, move |req, fwd| {
        let deletes = req.method == "DELETE"
            && req.target.contains("/manifests/sha256:")
            && !req.target.ends_with(&probe);
        if deletes && !w.swap(true, SeqCst) {
            put_meanwhile(
                req,
                fwd,
                "/v2/app/manifests/hotfix-rollback",
                rb.media_type,
                &rb.manifest,
            );
            put_meanwhile(req, fwd, "/v2/app/manifests/rollback-multi", OCI_INDEX, &ib);
        }
        fwd(req)
    });
    let before = match &watched {
        Watched::Distribution(f) => f.registry.blobs(),
        Watched::Ferro(..) => BTreeSet::new(),
    };

    let run = watched
        .regctl()
        .args(["prune", &format!("{}/app", watched.host()), "--keep", "1"])
        .args(["--yes", "--format", "json"])
        .run();
    assert!(wrote.load(SeqCst), "the second client wrote during the run");
    run.code(1);
    for kept in [&rollback.1.digest, &indexed.1.digest] {
        assert!(
            run.stderr.contains(kept.as_str()) && run.stderr.contains("left untouched"),
            "{kept} not reported: {}",
            run.stderr
        );
    }
    let rows: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).unwrap();
    for row in &rows {
        let digest = row["digest"].as_str().unwrap_or_default();
        let expected = if digest == rollback.1.digest || digest == indexed.1.digest {
            "changed"
        } else {
            "deleted"
        };
        assert_eq!(row["outcome"], expected, "{row}");
    }

    // What survives: latest, the two written over (with their build tags, left
    // untouched), the second client's tags; nothing else.
    let mut expected = vec![
        format!("{} {}", rollback.0, rollback.1.digest),
        format!("{} {}", indexed.0, indexed.1.digest),
        format!("hotfix-rollback {}", rollback.1.digest),
        format!("latest {}", all[BUILDS].1.digest),
        format!("rollback-multi {index_digest}"),
    ];
    expected.sort();
    assert_eq!(watched.tags(), expected);
    for (tag, img) in &builds {
        let kept = img.digest == rollback.1.digest || img.digest == indexed.1.digest;
        assert_eq!(watched.exists(&img.digest), kept, "{tag}");
    }
    if let Watched::Distribution(f) = &mut watched {
        let mut freed = BTreeSet::new();
        for (_, img) in builds
            .iter()
            .filter(|(_, i)| i.digest != rollback.1.digest && i.digest != indexed.1.digest)
        {
            freed.extend(blobs_of(img));
        }
        // The second client's index is stored too, and stays.
        let mut before = before;
        before.insert(index_digest.clone());
        let output = f.registry.garbage_collect();
        crate::verify::assert_blobs_freed(&before, &freed, &f.registry.blobs(), &output);
    }
    for tag in [
        "hotfix-rollback",
        "rollback-multi",
        "latest",
        &rollback.0,
        &indexed.0,
    ] {
        watched.assert_pulls(tag);
    }
}

#[test]
fn a_second_client_writing_during_the_deletion_phase_keeps_what_it_wrote_distribution() {
    second_client_writes_during_the_deletion_phase(Kind::Distribution);
}

#[test]
fn a_second_client_writing_during_the_deletion_phase_keeps_what_it_wrote_ferro() {
    second_client_writes_during_the_deletion_phase(Kind::Ferro);
}
