//! A registry that lies, or sends text meant for the terminal rather than for
//! regctl: answers no real registry gives on purpose, so a proxy in front of the
//! real one (or a fake server) changes them. Deletion acts on evidence it can
//! check; text from outside reaches the terminal escaped.

use std::sync::Arc;

use crate::fixture::{image, Image, Storage};
use crate::harness::{loopback_certificate, regctl, Options, TestRegistry};
use crate::http::{serve_tls, Response};
use crate::resilience::{app, fronted_with, push_meanwhile, Forward, Fronted};

fn other() -> Image {
    image("linux/amd64", "2024-02-01T00:00:00Z", "hostile other")
}

/// `a`: v1 and v2 on one image, v3 on another.
fn populate(s: &Storage) {
    s.push("a", &["v1", "v2"], &app());
    s.push("a", &["v3"], &other());
}

/// `rm a:v1` succeeds, and the registry behind the proxy still has v2 and v3
/// where they were.
#[track_caller]
fn removing_v1_keeps_v2_and_v3(f: &Fronted) {
    let run = rm_v1(f);
    run.success();
    assert_eq!(
        f.backend_tags("a"),
        vec![
            format!("v2 {}", app().digest),
            format!("v3 {}", other().digest)
        ]
    );
}

/// `rm a:v1 --yes` through the proxy.
fn rm_v1(f: &Fronted) -> crate::harness::Run {
    f.regctl()
        .args(["rm", &format!("{}/a:v1", f.host()), "--yes"])
        .run()
}

/// A proxy that answers the first `lies` GETs of v2 with v3's manifest (body and
/// digest agree: a consistent lie), and tells the truth afterwards.
fn serving_v3_as_v2(lies: usize) -> Fronted {
    let told = std::sync::atomic::AtomicUsize::new(0);
    fronted_with(populate, move |req, fwd: Forward| {
        if manifest_of(&req.target, "v2")
            && req.method == "GET"
            && told.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < lies
        {
            let mut swapped = req.clone();
            swapped.target = "/v2/a/manifests/v3".into();
            return fwd(&swapped);
        }
        fwd(req)
    })
}

fn manifest_of(target: &str, tag: &str) -> bool {
    target == format!("/v2/a/manifests/{tag}")
}

#[test]
fn a_head_digest_that_lies_does_not_get_a_sibling_deleted() {
    // A stale cache in front of the registry: HEAD of v2 names another digest.
    let f = fronted_with(populate, |req, fwd: Forward| {
        let mut resp = fwd(req);
        if req.method == "HEAD" && manifest_of(&req.target, "v2") {
            for (k, v) in resp.headers.iter_mut() {
                if k.eq_ignore_ascii_case("docker-content-digest") {
                    *v = other().digest.clone();
                }
            }
        }
        resp
    });
    removing_v1_keeps_v2_and_v3(&f);
}

#[test]
fn a_listed_tag_the_registry_does_not_serve_keeps_its_manifest() {
    // The tag list names v2, but its manifest answers 404: it may well point at
    // v1's manifest, which is therefore not deleted by digest.
    let f = fronted_with(populate, |req, fwd: Forward| {
        if manifest_of(&req.target, "v2") {
            return Response::json(
                404,
                serde_json::json!({"errors":[{"code":"MANIFEST_UNKNOWN","message":"gone"}]}),
            );
        }
        fwd(req)
    });
    let host = f.host();
    let plan = f
        .regctl()
        .args(["rm", &format!("{host}/a:v1"), "--dry-run"])
        .run();
    plan.success();
    assert!(plan.stdout.starts_with("remove-tag "), "{}", plan.stdout);
    removing_v1_keeps_v2_and_v3(&f);
    // Named itself, such a tag is taken for a dangling one and removed alone
    // (through a throw-away manifest): here the proxy refuses that push too, and
    // nothing changes behind it.
    let run = f
        .regctl()
        .args(["rm", &format!("{host}/a:v2"), "--yes"])
        .run();
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("a:v2"), "{}", run.stderr);
    assert_eq!(
        f.backend_tags("a"),
        vec![
            format!("v2 {}", app().digest),
            format!("v3 {}", other().digest)
        ]
    );
}

#[test]
fn a_tag_that_goes_against_the_plan_is_put_back_and_reported() {
    // The registry serves v3's manifest for v2, consistently (body and digest):
    // regctl believes v1 alone is on its manifest and deletes it by digest, which
    // takes the real v2 too. The check after the change finds v2 gone, puts it
    // back (to what it was told v2 was) and says so with a failing exit.
    // It lies while regctl plans, re-checks and looks again before the deletion
    // (the first three GETs of v2), and tells the truth afterwards: v2 is gone.
    let f = serving_v3_as_v2(3);
    let run = rm_v1(&f);
    run.code(1);
    assert!(
        run.stderr.contains("a:v2") && run.stderr.contains("put back"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("restored "), "{}", run.stdout);
    assert_eq!(
        f.backend_tags("a"),
        vec![
            format!("v2 {}", other().digest),
            format!("v3 {}", other().digest)
        ]
    );
}

#[test]
fn a_lie_that_ends_before_the_deletion_is_caught_by_the_look_before_it() {
    // The same lie, told while regctl plans and re-checks only: the tag list
    // read again right before the deletion finds v2 on v1's manifest, which is
    // left untouched.
    let f = serving_v3_as_v2(2);
    let run = rm_v1(&f);
    run.code(1);
    assert!(
        run.stderr.contains(&app().digest) && run.stderr.contains("now: v1, v2"),
        "{}",
        run.stderr
    );
    assert!(!f.deleted_anything(), "{:?}", f.requests_seen());
    assert_eq!(
        f.backend_tags("a"),
        vec![
            format!("v1 {}", app().digest),
            format!("v2 {}", app().digest),
            format!("v3 {}", other().digest)
        ]
    );
}

const HOSTILE: &str = "\u{1b}[2J\u{1b}[31mred\r\nerror: FAKE LINE\u{7}";

/// No raw control character and no line the server made up.
#[track_caller]
fn assert_clean(text: &str) {
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "raw control characters: {text:?}"
    );
    assert!(
        !text.lines().any(|l| l.starts_with("error: FAKE")),
        "a line the server wrote: {text:?}"
    );
}

#[test]
fn registry_text_reaches_the_terminal_escaped() {
    let server = serve_tls(loopback_certificate(), |req| {
        match req.target.as_str() {
            "/v2/" => Response::json(200, serde_json::json!({})),
            "/v2/_catalog?n=1000" => {
                Response::json(200, serde_json::json!({"repositories": ["a", "b"]}))
            }
            // An error code and message with escape sequences and a newline.
            "/v2/a/tags/list" => Response::json(
                403,
                serde_json::json!({"errors":[{"code": HOSTILE, "message": HOSTILE}]}),
            ),
            // A manifest whose platforms carry them.
            "/v2/b/manifests/v1" => Response::raw(
                200,
                vec![(
                    "Content-Type".into(),
                    "application/vnd.oci.image.index.v1+json".into(),
                )],
                serde_json::to_vec(&serde_json::json!({
                    "schemaVersion": 2,
                    "mediaType": "application/vnd.oci.image.index.v1+json",
                    "manifests": [{
                        "mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "digest": format!("sha256:{}", "a".repeat(64)),
                        "size": 1,
                        "platform": {"os": HOSTILE, "architecture": "amd64"}
                    }]
                }))
                .unwrap(),
            ),
            // A manifest that is not what it claims, with the text in a value.
            "/v2/b/manifests/v2" => Response::raw(
                200,
                vec![(
                    "Content-Type".into(),
                    "application/vnd.oci.image.index.v1+json".into(),
                )],
                serde_json::to_vec(&serde_json::json!({"manifests": HOSTILE})).unwrap(),
            ),
            _ => Response::json(404, serde_json::json!({})),
        }
    });
    let host = format!("127.0.0.1:{}", server.port);
    let ca = loopback_certificate().cert.clone();
    let run = |args: &[&str]| {
        regctl()
            .args(["--ca-file".as_ref(), ca.as_os_str()])
            .args(args)
            .run()
    };
    for args in [
        vec!["ls".to_string(), host.clone()],
        vec!["ls".to_string(), format!("{host}/a")],
        vec![
            "digest".to_string(),
            format!("{host}/b:v1"),
            "--platform".into(),
            "linux/arm64".into(),
        ],
        vec![
            "digest".to_string(),
            format!("{host}/b:v2"),
            "--platform".into(),
            "linux/arm64".into(),
        ],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&args);
        assert_ne!(out.code, 0, "{args:?}");
        assert_clean(&out.stderr);
        assert_clean(&out.stdout);
        assert!(
            out.stderr.contains("\\u{1b}") || out.stdout.contains("\\u{1b}"),
            "{args:?}: the text is shown, escaped: {}",
            out.stderr
        );
    }
}

/// Text whose every line break (as Python's `str.splitlines()` reads them) and
/// invisible character would start a line of its own, forged to look like
/// regctl's: a digest line, a deletion, an error.
const SEPARATED: &str = "ok\u{2028}digest sha256:FAKE\u{2029}deleted FAKE\u{85}error: FAKE\u{b}FAKE\u{c}FAKE\u{1c}FAKE\u{1d}FAKE\u{1e}FAKE\rFAKE \u{ad}\u{61c}\u{180e}\u{2060}\u{2064}\u{e0001}\u{e0041}\u{e007f}";

/// The lines of `text` as Python's `str.splitlines()` splits it.
fn python_lines(text: &str) -> Vec<&str> {
    const BREAKS: [char; 10] = [
        '\n', '\r', '\u{b}', '\u{c}', '\u{1c}', '\u{1d}', '\u{1e}', '\u{85}', '\u{2028}',
        '\u{2029}',
    ];
    let mut lines = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(BREAKS) {
        lines.push(&rest[..at]);
        let skip = if rest[at..].starts_with("\r\n") {
            2
        } else {
            rest[at..].chars().next().map_or(1, char::len_utf8)
        };
        rest = &rest[at + skip..];
    }
    if !rest.is_empty() {
        lines.push(rest);
    }
    lines
}

/// No line (as Python reads lines) the registry started, and no invisible
/// character of the registry's.
#[track_caller]
fn assert_no_forged_line(what: &str, text: &str) {
    for line in python_lines(text) {
        assert!(
            !["digest sha256:FAKE", "deleted FAKE", "error: FAKE", "FAKE"]
                .iter()
                .any(|forged| line.starts_with(forged)),
            "{what}: a line the registry wrote: {line:?} in {text:?}"
        );
    }
    let hidden = [
        '\u{ad}',
        '\u{61c}',
        '\u{180e}',
        '\u{2060}',
        '\u{2064}',
        '\u{e0001}',
        '\u{e0041}',
        '\u{e007f}',
    ];
    assert!(
        !text.contains(hidden),
        "{what}: raw invisible characters: {text:?}"
    );
}

#[test]
fn line_separators_from_the_registry_cannot_forge_a_line() {
    // A label of an image on the real registry: shown by `inspect`.
    let reg = TestRegistry::start_with(Options::default(), |s| {
        s.push(
            "app",
            &["v1"],
            &image("linux/amd64", "2024-01-01T00:00:00Z", SEPARATED),
        );
    });
    for format in ["plain", "table"] {
        let run = regctl()
            .trusted(&reg)
            .args(["inspect", &format!("{}/app:v1", reg.host())])
            .args(["--format", format])
            .run();
        run.success();
        assert!(
            run.stdout.contains("\\u{2028}digest sha256:FAKE"),
            "the label is shown, escaped: {}",
            run.stdout
        );
        assert_no_forged_line(&format!("inspect --format {format}"), &run.stdout);
        assert_no_forged_line(&format!("inspect --format {format} (stderr)"), &run.stderr);
    }
    // JSON carries the label as it is, with the separators as \u escapes.
    let run = regctl()
        .trusted(&reg)
        .args([
            "inspect",
            &format!("{}/app:v1", reg.host()),
            "--format",
            "json",
        ])
        .run();
    run.success();
    assert!(
        run.stdout.contains("\\u2028digest sha256:FAKE"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("\\udb40\\udc41"), "{}", run.stdout);
    assert_no_forged_line("inspect --format json", &run.stdout);
    // Error messages, and a tag list, from a registry that means harm.
    let server = serve_tls(loopback_certificate(), |req| {
        let error = || {
            Response::json(
                403,
                serde_json::json!({"errors":[{"code": SEPARATED, "message": SEPARATED}]}),
            )
        };
        match req.target.as_str() {
            "/v2/" => Response::json(200, serde_json::json!({})),
            "/v2/_catalog?n=1000" => {
                Response::json(200, serde_json::json!({"repositories": ["a", "b"]}))
            }
            // No digest in a HEAD's answer: the GET that follows is refused, with words.
            _ if req.method == "HEAD" => Response::raw(200, Vec::new(), Vec::new()),
            "/v2/b/tags/list" | "/v2/b/tags/list?n=1000" => Response::json(
                200,
                serde_json::json!({"name": "b", "tags": ["v1", format!("v2{SEPARATED}")]}),
            ),
            _ => error(),
        }
    });
    let host = format!("127.0.0.1:{}", server.port);
    let ca = loopback_certificate().cert.clone();
    for args in [
        vec!["ls".to_string(), host.clone()],
        vec!["ls".to_string(), format!("{host}/a")],
        vec![
            "ls".to_string(),
            format!("{host}/b"),
            "--format".into(),
            "table".into(),
        ],
        vec!["digest".to_string(), format!("{host}/a:v1")],
        vec!["inspect".to_string(), format!("{host}/a:v1")],
        vec!["rm".to_string(), format!("{host}/a:v1"), "--yes".into()],
        vec!["-v".to_string(), "ls".into(), format!("{host}/a")],
    ] {
        let out = regctl()
            .args(["--ca-file".as_ref(), ca.as_os_str()])
            .args(&args)
            .run();
        assert_no_forged_line(&format!("{args:?}"), &out.stdout);
        assert_no_forged_line(&format!("{args:?} (stderr)"), &out.stderr);
        assert!(
            out.stderr.contains("\\u{2028}"),
            "{args:?}: the text is shown, escaped: {}",
            out.stderr
        );
    }
}

#[test]
fn a_401_from_where_a_redirect_led_is_not_blamed_on_the_credentials() {
    let elsewhere = std::sync::Arc::new(serve_tls(loopback_certificate(), |_| {
        let mut resp = Response::json(401, serde_json::json!({}));
        resp.headers.push((
            "WWW-Authenticate".into(),
            "Basic realm=\"elsewhere\"".into(),
        ));
        resp
    }));
    let target = format!("https://127.0.0.1:{}/v2/_catalog", elsewhere.port);
    let server = serve_tls(loopback_certificate(), move |req| {
        match req.target.as_str() {
            "/v2/" => Response::json(200, serde_json::json!({})),
            _ => Response::raw(307, vec![("Location".into(), target.clone())], Vec::new()),
        }
    });
    let run = regctl()
        .args([
            "--ca-file".as_ref(),
            loopback_certificate().cert.as_os_str(),
        ])
        .env("REGCTL_USERNAME", "someone")
        .env("REGCTL_PASSWORD", "not-sent-elsewhere")
        .args(["ls", &format!("127.0.0.1:{}", server.port)])
        .run();
    run.code(3);
    assert!(
        run.stderr.contains("a redirect led to") && !run.stderr.contains("refused the credentials"),
        "{}",
        run.stderr
    );
    assert!(elsewhere
        .requests()
        .iter()
        .all(|r| r.header("authorization").is_none()));
}

#[test]
fn a_tag_pushed_anew_right_before_its_removal_is_left_alone() {
    // Another client pushes v3's image to v1 after the plan and the re-check have
    // read v1 (its third read is the one right before the removal).
    let reads = std::sync::atomic::AtomicUsize::new(0);
    let other_manifest = other().manifest.clone();
    let f = fronted_with(populate, move |req, fwd: Forward| {
        if req.method == "GET"
            && manifest_of(&req.target, "v1")
            && reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 2
        {
            push_meanwhile(req, fwd, &req.target, &other_manifest);
        }
        fwd(req)
    });
    let run = rm_v1(&f);
    run.code(1);
    assert!(run.stderr.contains("the tag moved"), "{}", run.stderr);
    assert_eq!(
        f.backend_tags("a"),
        vec![
            format!("v1 {}", other().digest),
            format!("v2 {}", app().digest),
            format!("v3 {}", other().digest)
        ],
        "the fresh push stays where its client put it"
    );
}

#[test]
fn a_registry_that_contradicts_itself_after_a_deletion_gets_nothing_pushed() {
    // As above, but the lie goes on: the tag list says v2 is gone, a read of v2
    // still answers. regctl says so, pushes nothing, and fails.
    let f = serving_v3_as_v2(usize::MAX);
    let run = rm_v1(&f);
    run.code(1);
    assert!(
        run.stderr.contains("a:v2") && run.stderr.contains("contradicts itself"),
        "{}",
        run.stderr
    );
    assert!(
        !f.proxy_saw("PUT", "/v2/a/manifests/v2"),
        "nothing was pushed"
    );
}

#[test]
fn a_tag_deletion_that_takes_the_manifest_is_reported_and_nothing_is_pushed_back() {
    // The registry offers tag deletion, and deletes the tag's manifest with it
    // (v2 goes too). Whether the registry or another client deleted it, regctl
    // cannot tell: it says so, fails, and pushes nothing back.
    let digest = app().digest;
    let f = fronted_with(populate, move |req, fwd: Forward| {
        if req.method == "DELETE" && manifest_of(&req.target, "v1") {
            let mut by_digest = req.clone();
            by_digest.target = format!("/v2/a/manifests/{digest}");
            return fwd(&by_digest);
        }
        fwd(req)
    });
    let run = rm_v1(&f);
    run.code(1);
    assert!(
        run.stderr.contains("a:v1")
            && run.stderr.contains("is gone too")
            && run.stderr.contains("(v2)"),
        "{}",
        run.stderr
    );
    assert!(
        !f.proxy_saw("PUT", "/v2/a/manifests/v2"),
        "nothing was pushed back"
    );
    assert_eq!(f.backend_tags("a"), vec![format!("v3 {}", other().digest)]);
}

/// A proxy that leaves `hidden` out of the tag lists of `a` it answers with
/// `hide(n)` true (n counts the lists asked for, from 0).
fn hiding(
    populate: impl FnOnce(&Storage),
    hide: impl Fn(usize) -> bool + Send + Sync + 'static,
) -> Fronted {
    let lists = std::sync::atomic::AtomicUsize::new(0);
    fronted_with(populate, move |req, fwd: Forward| {
        let mut answer = fwd(req);
        let n = if req.target.starts_with("/v2/a/tags/list") {
            lists.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        } else {
            return answer;
        };
        if hide(n) {
            let mut list: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
            list["tags"]
                .as_array_mut()
                .unwrap()
                .retain(|t| t != "hidden");
            answer.body = serde_json::to_vec(&list).unwrap();
        }
        answer
    })
}

#[test]
fn a_tag_the_list_left_out_while_planning_keeps_its_manifest() {
    // v1 and hidden share a manifest; the lists read for the plan and its
    // re-check leave hidden out, as a registry with an incomplete list would. The
    // list read again before the deletion names it: the manifest is not deleted.
    let f = hiding(
        |s| {
            s.push("a", &["v1", "hidden"], &app());
            s.push("a", &["v3"], &other());
        },
        |n| n < 2,
    );
    let run = rm_v1(&f);
    run.code(1);
    assert!(
        run.stderr.contains(&app().digest) && run.stderr.contains("left untouched"),
        "{}",
        run.stderr
    );
    assert_eq!(
        f.backend_tags("a"),
        vec![
            format!("hidden {}", app().digest),
            format!("v1 {}", app().digest),
            format!("v3 {}", other().digest)
        ]
    );
}

#[test]
fn two_tag_lists_that_disagree_stop_deletion_by_digest() {
    // v1 alone on one image; hidden and v3 on another. The lists read for the
    // plan and its re-check name hidden, the next leaves it out although it still
    // answers: the list is incomplete, so v1's manifest is not deleted by digest.
    let f = hiding(
        |s| {
            s.push("a", &["v1"], &app());
            s.push("a", &["v3", "hidden"], &other());
        },
        |n| n >= 2,
    );
    let run = rm_v1(&f);
    run.code(1);
    assert!(
        run.stderr.contains("two reads of the tag list disagree") && run.stderr.contains("hidden"),
        "{}",
        run.stderr
    );
    assert!(!f.deleted_anything(), "{:?}", f.requests_seen());
    let ls = regctl()
        .args(["--plain-http", "digest"])
        .args([format!("{}/a:v1", f.registry.host())])
        .logged_in()
        .run();
    ls.success();
    assert!(ls.stdout.contains(&app().digest), "{}", ls.stdout);
}

/// A fake registry whose referrers API invents a new referrer (a manifest that
/// names the subject asked about) for every subject: a chain without end.
#[test]
fn a_referrers_api_that_invents_referrers_for_ever_stops_at_the_bound() {
    use crate::fixture::{sha256, EMPTY_DIGEST, OCI_EMPTY, OCI_INDEX, OCI_MANIFEST};
    use std::collections::HashMap;
    use std::sync::Mutex;
    let image = serde_json::to_vec(&serde_json::json!({"schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": sha256(b"config"), "size": 6},
        "layers": []}))
    .unwrap();
    let served: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
    served.lock().unwrap().insert(sha256(&image), image.clone());
    let manifest = |bytes: &[u8]| {
        Response::raw(
            200,
            vec![
                ("Content-Type".into(), OCI_MANIFEST.into()),
                ("Docker-Content-Digest".into(), sha256(bytes)),
            ],
            bytes.to_vec(),
        )
    };
    let store = served.clone();
    let server = serve_tls(loopback_certificate(), move |req| {
        let path = req.target.as_str();
        if path == "/v2/" {
            return Response::json(200, serde_json::json!({}));
        }
        if path.starts_with("/v2/a/tags/list") {
            return Response::json(200, serde_json::json!({"name": "a", "tags": ["v1"]}));
        }
        if path == "/v2/a/manifests/v1" {
            return manifest(&image);
        }
        if let Some(digest) = path.strip_prefix("/v2/a/manifests/") {
            return match store.lock().unwrap().get(digest) {
                Some(bytes) => manifest(bytes),
                None => Response::json(404, serde_json::json!({"errors": []})),
            };
        }
        if let Some(subject) = path.strip_prefix("/v2/a/referrers/") {
            let subject = subject.split('?').next().unwrap();
            let referrer = serde_json::to_vec(&serde_json::json!({"schemaVersion": 2,
                "mediaType": OCI_MANIFEST, "artifactType": "application/x-invented",
                "config": {"mediaType": OCI_EMPTY, "digest": EMPTY_DIGEST, "size": 2},
                "layers": [],
                "subject": {"mediaType": OCI_MANIFEST, "digest": subject, "size": 1}}))
            .unwrap();
            let digest = sha256(&referrer);
            let size = referrer.len();
            store.lock().unwrap().insert(digest.clone(), referrer);
            return Response::raw(
                200,
                vec![("Content-Type".into(), OCI_INDEX.into())],
                serde_json::to_vec(&serde_json::json!({"schemaVersion": 2,
                    "mediaType": OCI_INDEX,
                    "manifests": [{"mediaType": OCI_MANIFEST, "digest": digest,
                        "size": size, "artifactType": "application/x-invented"}]}))
                .unwrap(),
            );
        }
        Response::json(404, serde_json::json!({"errors": []}))
    });
    let run = regctl()
        .args([
            "--ca-file".as_ref(),
            loopback_certificate().cert.as_os_str(),
        ])
        .args([
            "rm",
            &format!("127.0.0.1:{}/a:v1", server.port),
            "--dry-run",
        ])
        .run();
    run.code(1);
    assert!(
        run.stderr.contains("1000 levels deep") && run.stderr.contains("invents referrers"),
        "{}",
        run.stderr
    );
    let asked = server
        .requests()
        .iter()
        .filter(|r| r.target.starts_with("/v2/a/referrers/"))
        .count();
    assert!(asked <= 1_001, "{asked} referrers lists asked for");
    assert!(
        run.stdout.is_empty(),
        "no plan from a walk that was stopped: {}",
        run.stdout
    );
}
