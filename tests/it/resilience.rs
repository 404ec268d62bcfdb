//! Faults survived or reported clearly: a fault-injecting TLS proxy in front of the
//! real registry (plain HTTP behind it, htpasswd auth), and fake servers for what
//! no registry does on its own.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use crate::fixture::{image, Image, Storage};
use crate::harness::{loopback_certificate, regctl, Auth, Options, Regctl, TestRegistry};
use crate::http::{forward, serve_plain, serve_tls, Fault, Request, Response, Server};

pub fn app() -> Image {
    image("linux/amd64", "2024-01-01T00:00:00Z", "resilience")
}

fn populate(s: &Storage) {
    for repo in ["a", "b", "c"] {
        s.push(repo, &["v1", "v2"], &app());
    }
}

/// The real registry behind a proxy that applies `rule` to every request; `rule`
/// may answer itself or call `forward` and change what comes back.
pub struct Fronted {
    pub registry: TestRegistry,
    proxy: Server,
}

pub type Forward<'a> = &'a dyn Fn(&Request) -> Response;

fn fronted(rule: impl Fn(&Request, Forward) -> Response + Send + Sync + 'static) -> Fronted {
    fronted_with(populate, rule)
}

/// [`fronted`] over storage that `populate` writes.
pub fn fronted_with(
    populate: impl FnOnce(&Storage),
    rule: impl Fn(&Request, Forward) -> Response + Send + Sync + 'static,
) -> Fronted {
    let registry = TestRegistry::start_with(
        Options {
            tls: false,
            auth: Auth::Htpasswd,
            ..Options::default()
        },
        populate,
    );
    let port = registry.port;
    let proxy = serve_tls(loopback_certificate(), move |req| {
        rule(req, &|r| forward(port, r))
    });
    Fronted { registry, proxy }
}

impl Fronted {
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.proxy.port)
    }

    pub fn regctl(&self) -> Regctl {
        logged_in()
    }

    /// Whether a request `method target` went through the proxy.
    pub fn proxy_saw(&self, method: &str, target: &str) -> bool {
        self.count(method, target) > 0
    }

    /// The tags of `repository` as the registry behind the proxy has them, with
    /// their digests: what is really there.
    pub fn backend_tags(&self, repository: &str) -> Vec<String> {
        let run = regctl()
            .args(["--plain-http", "ls", "--digests"])
            .args([format!("{}/{repository}", self.registry.host())])
            .logged_in()
            .run();
        run.success();
        let prefix = format!("{}/{repository}:", self.registry.host());
        run.lines()
            .iter()
            .map(|l| l.trim_start_matches(&prefix).to_string())
            .collect()
    }

    /// Every request that went through the proxy, as `METHOD target`.
    pub fn requests_seen(&self) -> Vec<String> {
        self.proxy
            .requests()
            .iter()
            .map(|r| format!("{} {}", r.method, r.target))
            .collect()
    }

    /// Whether any request `method` went through the proxy.
    pub fn proxy_saw_method(&self, method: &str) -> bool {
        self.proxy.requests().iter().any(|r| r.method == method)
    }

    /// Whether a DELETE of a manifest by digest went through the proxy (the probe
    /// for deletion support, of a digest that cannot exist, aside).
    pub fn deleted_anything(&self) -> bool {
        let probe = crate::fixture::sha256(b"regctl: probe for deletion support; no such manifest");
        self.proxy
            .requests()
            .iter()
            .any(|r| r.method == "DELETE" && !r.target.ends_with(&probe))
    }

    fn count(&self, method: &str, target: &str) -> usize {
        self.proxy
            .requests()
            .iter()
            .filter(|r| r.method == method && r.target == target)
            .count()
    }
}

/// Another client's push, sent through the proxy while it handles `req` (whose
/// credentials it borrows): the Docker manifest `body` PUT to `target`.
pub fn push_meanwhile(req: &Request, fwd: Forward, target: &str, body: &[u8]) {
    let mut put = req.clone();
    put.method = "PUT".into();
    put.target = target.into();
    put.headers
        .retain(|(k, _)| k.eq_ignore_ascii_case("authorization"));
    put.headers.push((
        "Content-Type".into(),
        crate::fixture::DOCKER_MANIFEST.into(),
    ));
    put.body = body.to_vec();
    assert_eq!(fwd(&put).status, 201);
}

/// regctl trusting the loopback certificate, logged in as the test user.
fn logged_in() -> Regctl {
    regctl()
        .args([
            "--ca-file".as_ref(),
            loopback_certificate().cert.as_os_str(),
        ])
        .logged_in()
}

/// Fails the first `n` requests matching `target` with `fail`, then forwards.
fn first_n(
    target: &'static str,
    n: usize,
    fail: fn() -> Response,
) -> impl Fn(&Request, Forward) -> Response + Send + Sync {
    let seen = AtomicUsize::new(0);
    move |req, fwd| {
        if req.target == target && seen.fetch_add(1, Ordering::SeqCst) < n {
            fail()
        } else {
            fwd(req)
        }
    }
}

fn status(code: u16) -> Response {
    Response::json(
        code,
        serde_json::json!({"errors":[{"code":"UNAVAILABLE","message":"try later"}]}),
    )
}

#[test]
fn rate_limit_429_with_retry_after_then_success() {
    let f = fronted(first_n("/v2/_catalog?n=1000", 1, || {
        let mut r = status(429);
        r.headers.push(("Retry-After".into(), "1".into()));
        r
    }));
    let run = f.regctl().args(["ls", &f.host()]).run();
    run.success();
    assert_eq!(run.lines().len(), 6);
    assert_eq!(f.count("GET", "/v2/_catalog?n=1000"), 2);
}

#[test]
fn service_unavailable_twice_then_success() {
    let f = fronted(first_n("/v2/b/tags/list", 2, || status(503)));
    let run = f.regctl().args(["ls", &f.host()]).run();
    run.success();
    assert_eq!(run.lines().len(), 6);
    assert_eq!(f.count("GET", "/v2/b/tags/list"), 3);
}

#[test]
fn unavailable_forever_gives_up_after_the_retries_and_names_what_is_missing() {
    let f = fronted(first_n("/v2/b/tags/list", usize::MAX, || status(503)));
    let run = f.regctl().args(["ls", &f.host(), "--retries", "2"]).run();
    run.code(1);
    assert!(
        run.stderr.contains("gave up after 3 attempts"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("b: ") && run.stderr.contains("listing is incomplete"),
        "{}",
        run.stderr
    );
    assert_eq!(f.count("GET", "/v2/b/tags/list"), 3);
    assert!(!run.stdout.contains("/b:"), "{}", run.stdout);
}

#[test]
fn stalled_server_times_out_naming_the_host() {
    let f = fronted(|req, fwd| {
        let resp = fwd(req);
        if req.target == "/v2/a/tags/list" {
            resp.with_fault(Fault::Stall(Duration::from_secs(4)))
        } else {
            resp
        }
    });
    let run = f
        .regctl()
        .args(["ls", &f.host(), "--timeout", "1", "-v"])
        .run();
    run.code(1);
    assert!(
        run.stderr
            .contains(&format!("no answer from {} within 1 s", f.host())),
        "{}",
        run.stderr
    );
    // The request log has the request that got no answer, each time it was sent.
    let unanswered = run
        .stderr
        .lines()
        .filter(|l| l.contains("/v2/a/tags/list") && l.contains("no response"))
        .count();
    assert_eq!(
        unanswered,
        f.count("GET", "/v2/a/tags/list"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_server_that_never_finishes_the_tls_handshake_is_the_connect_timeout() {
    // It accepts connections and says nothing: the handshake counts against the
    // connect timeout (10 s), not the request timeout.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let run = regctl()
        .args([
            "--timeout",
            "60",
            "--retries",
            "0",
            "ls",
            &format!("127.0.0.1:{port}"),
        ])
        .run();
    run.code(1);
    assert!(
        run.stderr.contains(&format!(
            "cannot connect to 127.0.0.1:{port} within 10 s (the connect timeout)"
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn connection_reset_mid_body_is_retried() {
    let seen = AtomicUsize::new(0);
    let f = fronted(move |req, fwd| {
        let resp = fwd(req);
        if req.target == "/v2/_catalog?n=1000" && seen.fetch_add(1, Ordering::SeqCst) == 0 {
            resp.with_fault(Fault::CutBodyAfter(5))
        } else {
            resp
        }
    });
    let run = f.regctl().args(["ls", &f.host()]).run();
    run.success();
    assert_eq!(run.lines().len(), 6);
    assert_eq!(f.count("GET", "/v2/_catalog?n=1000"), 2);
}

#[test]
fn truncated_json_is_an_error_naming_the_url_with_no_output() {
    let f = fronted(|req, fwd| {
        let mut resp = fwd(req);
        if req.target == "/v2/_catalog?n=1000" {
            resp.body.truncate(resp.body.len() / 2);
        }
        resp
    });
    let run = f.regctl().args(["ls", &f.host()]).run();
    run.code(1);
    assert!(
        run.stderr.contains("invalid JSON") && run.stderr.contains("/v2/_catalog"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
}

#[test]
fn oversized_manifest_is_refused() {
    let f = fronted(|req, fwd| {
        let mut resp = fwd(req);
        if req.method == "GET" && req.target == "/v2/a/manifests/v1" {
            resp.body = vec![b' '; 5 * 1024 * 1024];
        }
        resp
    });
    let run = f
        .regctl()
        .args([
            "digest",
            &format!("{}/a:v1", f.host()),
            "--platform",
            "linux/amd64",
        ])
        .run();
    run.code(1);
    assert!(
        run.stderr.contains("larger than 4194304 bytes"),
        "{}",
        run.stderr
    );
}

#[test]
fn head_without_digest_header_is_resolved_by_hashing_the_manifest() {
    let f = fronted(|req, fwd| {
        let mut resp = fwd(req);
        resp.headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case("docker-content-digest"));
        resp
    });
    let run = f
        .regctl()
        .args(["digest", &format!("{}/a:v1", f.host())])
        .run();
    run.success();
    assert_eq!(run.stdout.trim(), app().digest);
}

#[test]
fn content_that_does_not_match_its_digest_is_refused() {
    let digest = app().digest;
    let target = format!("/v2/a/manifests/{digest}");
    let f = fronted(move |req, fwd| {
        let mut resp = fwd(req);
        if req.method == "GET" && req.target == target {
            resp.body.extend_from_slice(b"\n");
        }
        resp
    });
    let run = f
        .regctl()
        .args([
            "digest",
            &format!("{}/a@{}", f.host(), app().digest),
            "--platform",
            "linux/amd64",
        ])
        .run();
    run.code(1);
    assert!(run.stderr.contains("does not match"), "{}", run.stderr);
}

#[test]
fn redirect_to_another_origin_carries_no_credentials() {
    let config = app().config.clone();
    let blob_store = Arc::new(serve_tls(loopback_certificate(), move |_| {
        Response::raw(200, vec![], config.clone())
    }));
    let location = format!("https://127.0.0.1:{}/blob-storage/config", blob_store.port);
    let config_digest = crate::fixture::sha256(&app().config);
    let f = fronted(move |req, fwd| {
        if req.target == format!("/v2/a/blobs/{config_digest}") {
            Response::raw(307, vec![("Location".into(), location.clone())], Vec::new())
        } else {
            fwd(req)
        }
    });
    let run = f
        .regctl()
        .args([
            "digest",
            &format!("{}/a:v1", f.host()),
            "--platform",
            "linux/amd64",
        ])
        .run();
    run.success();
    assert_eq!(run.stdout.trim(), app().digest);
    let at_store = blob_store.requests();
    assert_eq!(at_store.len(), 1);
    assert_eq!(
        at_store[0].header("authorization"),
        None,
        "no credentials to another origin"
    );
}

#[test]
fn http_token_realm_for_an_https_registry_is_refused() {
    let realm = Arc::new(serve_plain(|_| {
        Response::json(200, serde_json::json!({"token":"t"}))
    }));
    let challenge = format!(
        "Bearer realm=\"http://127.0.0.1:{}/token\",service=\"x\"",
        realm.port
    );
    let registry = serve_tls(loopback_certificate(), move |_| {
        let mut r = Response::json(401, serde_json::json!({"errors":[{"code":"UNAUTHORIZED"}]}));
        r.headers
            .push(("WWW-Authenticate".into(), challenge.clone()));
        r
    });
    let run = logged_in()
        .args(["ls", &format!("127.0.0.1:{}", registry.port)])
        .run();
    run.code(1);
    assert!(run.stderr.contains("is not HTTPS"), "{}", run.stderr);
    assert!(
        realm.requests().is_empty(),
        "nothing was sent to the HTTP realm"
    );
}

#[test]
fn a_delete_that_took_effect_despite_an_error_is_not_sent_twice() {
    let digest = image("linux/amd64", "2024-01-01T00:00:00Z", "resilience").digest;
    let target = format!("/v2/a/manifests/{digest}");
    let f = fronted(move |req, fwd| {
        let resp = fwd(req);
        if req.method == "DELETE" && req.target == target {
            status(503)
        } else {
            resp
        }
    });
    let run = f
        .regctl()
        .args(["rm", &format!("{}/a@{}", f.host(), app().digest), "--yes"])
        .run();
    run.success();
    assert_eq!(
        f.count("DELETE", &format!("/v2/a/manifests/{}", app().digest)),
        1
    );
    let gone = f
        .regctl()
        .args(["digest", &format!("{}/a:v1", f.host())])
        .run();
    gone.code(4);
    let kept = f.regctl().args(["ls", &format!("{}/b", f.host())]).run();
    kept.success();
    assert_eq!(kept.lines().len(), 2, "other repositories untouched");
}

/// A request the proxy holds: the test learns when it arrives, and lets it go.
struct Held {
    arrived: std::sync::mpsc::Receiver<()>,
    release: std::sync::mpsc::SyncSender<()>,
}

/// The proxy side of [`Held`]: `hold()` says the request arrived and waits to be
/// let go (at most a minute, so that a failed test does not hang the proxy).
#[derive(Clone)]
struct Holder {
    arrived: Arc<Mutex<std::sync::mpsc::SyncSender<()>>>,
    release: Arc<Mutex<std::sync::mpsc::Receiver<()>>>,
}

impl Holder {
    fn hold(&self) {
        let _ = self.arrived.lock().unwrap().try_send(());
        let _ = self
            .release
            .lock()
            .unwrap()
            .recv_timeout(Duration::from_secs(60));
    }
}

fn held() -> (Held, Holder) {
    let (arrived_tx, arrived) = std::sync::mpsc::sync_channel(8);
    let (release, release_rx) = std::sync::mpsc::sync_channel(8);
    (
        Held { arrived, release },
        Holder {
            arrived: Arc::new(Mutex::new(arrived_tx)),
            release: Arc::new(Mutex::new(release_rx)),
        },
    )
}

/// Sends Ctrl-C (SIGINT) to `child` once `held` has arrived, waits until regctl
/// says on stderr that it took it, then lets the held requests go. Returns the
/// exit code and what regctl wrote to stderr.
fn interrupt_while_held(mut child: std::process::Child, held: &Held) -> (Option<i32>, String) {
    use std::io::BufRead as _;
    held.arrived
        .recv_timeout(Duration::from_secs(60))
        .expect("the request reaches the registry");
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut said = String::new();
    while !said.contains("interrupt: stopping") {
        if stderr.read_line(&mut said).unwrap() == 0 {
            break;
        }
    }
    for _ in 0..8 {
        let _ = held.release.try_send(());
    }
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let status = child.wait().unwrap();
    (status.code(), said + &rest)
}

#[test]
fn ctrl_c_stops_between_deletions_and_reports_what_was_done() {
    let deleted = format!("/manifests/{}", app().digest);
    let (held, holder) = held();
    let f = fronted(move |req, fwd| {
        let resp = fwd(req);
        if req.method == "DELETE" && req.target.ends_with(&deleted) {
            // Done; its answer waits until regctl has taken the Ctrl-C.
            holder.hold();
        }
        resp
    });
    // 3 repositories x 2 tags on one manifest each: 3 deletions by digest.
    let child = prune_every_v_tag_one_at_a_time(&f).spawn();
    let (code, stderr) = interrupt_while_held(child, &held);
    assert_eq!(code, Some(130), "{stderr}");
    let done: usize = stderr
        .split("interrupted: ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("summary: {stderr}"));
    let left = f.regctl().args(["ls", &f.host()]).run();
    left.success();
    assert_eq!(
        done, 1,
        "the deletion in flight finishes, no other starts: {stderr}"
    );
    assert!(stderr.contains("not started"), "{stderr}");
    assert_eq!(
        left.lines().len(),
        6 - 2 * done,
        "exactly the reported deletions happened: {stderr}"
    );
}

#[test]
fn ctrl_c_while_planning_stops_before_any_change() {
    let (held, holder) = held();
    let f = fronted(move |req, fwd| {
        if req.target == "/v2/c/tags/list" {
            holder.hold();
        }
        fwd(req)
    });
    let child = f
        .regctl()
        .args(["prune", &f.host(), "--keep", "0", "--yes"])
        .spawn();
    let (code, stderr) = interrupt_while_held(child, &held);
    assert_eq!(code, Some(130), "{stderr}");
    // Said as it is: nothing was in flight but reads, nothing was printed.
    assert!(
        stderr.contains("stopped before any change or output") && !stderr.contains("in flight"),
        "{stderr}"
    );
    assert!(
        !f.proxy_saw_method("PUT") && !f.deleted_anything(),
        "{stderr}"
    );
    let left = f.regctl().args(["ls", &f.host()]).run();
    left.success();
    assert_eq!(left.lines().len(), 6, "{stderr}");
}

#[test]
fn ctrl_c_during_a_listing_says_how_far_it_got_and_that_the_output_is_incomplete() {
    use std::io::{BufRead as _, Read as _};
    let (held, holder) = held();
    let f = fronted(move |req, fwd| {
        if req.target == "/v2/c/tags/list" {
            holder.hold();
        }
        fwd(req)
    });
    let mut child = f.regctl().args(["ls", &f.host()]).spawn();
    // Ctrl-C once a and b are printed, while c's tag list is held back.
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut listed = String::new();
    for _ in 0..4 {
        stdout.read_line(&mut listed).unwrap();
    }
    let (code, stderr) = interrupt_while_held(child, &held);
    stdout.read_to_string(&mut listed).unwrap();
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted: 2 of 3 repositories listed; the output is incomplete"),
        "{stderr}"
    );
    // Output streams per repository: what was listed before Ctrl-C is there, in order.
    let host = f.host();
    assert_eq!(
        listed,
        format!("{host}/a:v1\n{host}/a:v2\n{host}/b:v1\n{host}/b:v2\n")
    );
}

#[test]
fn ping_is_retried_like_any_idempotent_request() {
    let f = fronted(first_n("/v2/", 1, || status(503)));
    let run = f.regctl().args(["ls", &f.host()]).run();
    run.success();
    assert_eq!(f.count("GET", "/v2/"), 2);
}

#[test]
fn a_ping_redirected_elsewhere_does_not_choose_where_credentials_go() {
    let realm = Arc::new(serve_tls(loopback_certificate(), |_| {
        Response::json(200, serde_json::json!({"token":"t"}))
    }));
    let challenge = format!(
        "Bearer realm=\"https://127.0.0.1:{}/token\",service=\"x\"",
        realm.port
    );
    let elsewhere = Arc::new(serve_tls(loopback_certificate(), move |_| {
        let mut r = Response::json(401, serde_json::json!({}));
        r.headers
            .push(("WWW-Authenticate".into(), challenge.clone()));
        r
    }));
    let target = format!("https://127.0.0.1:{}/v2/", elsewhere.port);
    let registry = serve_tls(loopback_certificate(), move |_| {
        Response::raw(307, vec![("Location".into(), target.clone())], Vec::new())
    });
    let run = logged_in()
        .args(["ls", &format!("127.0.0.1:{}", registry.port)])
        .run();
    run.code(1);
    assert!(run.stderr.contains("another origin"), "{}", run.stderr);
    assert!(
        realm.requests().is_empty(),
        "no credentials went to the other realm"
    );
}

#[test]
fn a_manifest_that_gains_a_tag_after_planning_is_left_untouched() {
    // Both tags of `a` share one manifest, so removing both plans a delete by
    // digest. A new tag is pushed onto that manifest between the plan and the
    // deletion (at the second tag list, the re-check): nothing may be deleted.
    let lists = AtomicUsize::new(0);
    let manifest = app().manifest.clone();
    let f = fronted(move |req, fwd| {
        if req.method == "GET"
            && req.target == "/v2/a/tags/list"
            && lists.fetch_add(1, Ordering::SeqCst) == 1
        {
            push_meanwhile(req, fwd, "/v2/a/manifests/pushed-meanwhile", &manifest);
        }
        fwd(req)
    });
    let host = f.host();
    let run = f
        .regctl()
        .args([
            "rm",
            &format!("{host}/a:v1"),
            &format!("{host}/a:v2"),
            "--yes",
        ])
        .run();
    run.code(1);
    assert!(
        run.stderr.contains("changed since it was planned"),
        "{}",
        run.stderr
    );
    let left = f.regctl().args(["ls", &format!("{host}/a")]).run();
    left.success();
    assert_eq!(
        left.lines(),
        vec![
            format!("{host}/a:pushed-meanwhile"),
            format!("{host}/a:v1"),
            format!("{host}/a:v2")
        ]
    );
}

#[test]
fn a_deadline_stops_the_run_like_ctrl_c_and_exits_1() {
    let (held, holder) = held();
    let f = fronted(move |req, fwd| {
        if req.target == "/v2/c/tags/list" {
            holder.hold();
        }
        fwd(req)
    });
    let run = f.regctl().args(["--deadline", "1", "ls", &f.host()]).run();
    let _ = held.release.try_send(());
    run.code(1);
    assert!(
        run.stderr.contains("deadline: 1 s reached")
            && run.stderr.contains("the output is incomplete")
            && !run.stderr.contains("nothing was deleted or printed")
            && !run.stderr.contains("in flight"),
        "{}",
        run.stderr
    );
    assert_eq!(run.lines().len(), 4, "a and b were listed: {}", run.stdout);
}

#[test]
fn an_upload_location_on_another_origin_is_not_followed_and_named_with_its_likely_cause() {
    // A reverse proxy that rewrites the upload's Location to another origin (as
    // one that drops the port or the scheme does).
    let front = fronted(|req, fwd| {
        let mut resp = fwd(req);
        if req.method == "POST" && req.target.contains("/blobs/uploads/") {
            for (name, value) in resp.headers.iter_mut() {
                if name.eq_ignore_ascii_case("location") {
                    let path = value.find("/v2/").map_or("/v2/", |i| &value[i..]);
                    *value = format!("http://registry.internal{path}");
                }
            }
        }
        resp
    });
    let before = front.backend_tags("a");
    let run = front
        .regctl()
        .args(["rm", &format!("{}/a:v1", front.host()), "--yes"])
        .run();
    run.code(1);
    assert!(
        run.stderr.contains("http://registry.internal/v2/"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("X-Forwarded-Proto"), "{}", run.stderr);
    assert!(
        !front.proxy_saw_method("PUT") && !front.proxy_saw_method("PATCH"),
        "nothing was written after the refusal: {:?}",
        front.requests_seen()
    );
    // What survives: both tags, on the same manifest.
    assert_eq!(front.backend_tags("a"), before);
    assert_eq!(before.len(), 2, "{before:?}");
}

/// `prune` of every `v` tag behind `f`, for real, one request at a time.
fn prune_every_v_tag_one_at_a_time(f: &Fronted) -> Regctl {
    f.regctl().args([
        "prune",
        &f.host(),
        "--keep",
        "0",
        "--match",
        "v",
        "--yes",
        "--allow-empty-repositories",
        "--concurrency",
        "1",
    ])
}

/// Whether `req` is a DELETE of a manifest other than the probe for deletion
/// support (a digest that cannot exist).
fn is_real_delete(req: &Request) -> bool {
    let probe = crate::fixture::sha256(b"regctl: probe for deletion support; no such manifest");
    req.method == "DELETE" && req.target.contains("/manifests/") && !req.target.ends_with(&probe)
}

/// A registry put in read-only mode during a run (for garbage collection, say)
/// answers every write 405 with `Allow: GET, HEAD`, as Distribution does. The
/// run stops sending changes at the first such answer: the rest are reported
/// `not-attempted` with the reason, and the exit is 1.
#[test]
fn a_registry_that_turns_read_only_mid_run_gets_no_more_deletions() {
    let sent = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let (s, r) = (sent.clone(), refused.clone());
    let f = fronted(move |req, fwd| {
        let authorized = req
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization"));
        if !is_real_delete(req) || !authorized {
            return fwd(req);
        }
        if s.fetch_add(1, Ordering::SeqCst) == 0 {
            // The first deletion goes through; then the registry is read-only.
            return fwd(req);
        }
        r.fetch_add(1, Ordering::SeqCst);
        Response::raw(
            405,
            vec![
                ("Allow".into(), "GET, HEAD".into()),
                ("Content-Type".into(), "text/plain; charset=utf-8".into()),
            ],
            b"Method Not Allowed\n".to_vec(),
        )
    });
    // 3 repositories x 2 tags on one manifest each: 3 deletions by digest.
    let run = prune_every_v_tag_one_at_a_time(&f).run();
    run.code(1);
    assert!(
        refused.load(Ordering::SeqCst) <= 1,
        "after the first 405 no other deletion is sent: {:?}",
        f.requests_seen()
    );
    let outcomes: Vec<&str> = run
        .lines()
        .iter()
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        ["deleted", "failed", "not-attempted"],
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stdout.contains("read-only") && run.stderr.contains("not attempted"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    let left = f.regctl().args(["ls", &f.host()]).run();
    left.success();
    assert_eq!(left.lines().len(), 4, "only the first deletion happened");
}

/// Plain outcome rows go to stdout as each repository's outcomes are final: the
/// first repository's is readable while the second's deletion is still held.
#[test]
fn outcome_rows_are_written_as_the_run_goes() {
    use std::io::BufRead as _;
    let (held, holder) = held();
    let sent = AtomicUsize::new(0);
    let f = fronted(move |req, fwd| {
        let resp = fwd(req);
        if is_real_delete(req) && resp.status == 202 && sent.fetch_add(1, Ordering::SeqCst) == 1 {
            // The second deletion: its answer waits until the test lets it go.
            holder.hold();
        }
        resp
    });
    let mut child = prune_every_v_tag_one_at_a_time(&f).spawn();
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    held.arrived
        .recv_timeout(Duration::from_secs(60))
        .expect("the second deletion reaches the registry");
    let first = lines
        .recv_timeout(Duration::from_secs(60))
        .expect("the first row is on stdout while the second deletion is held");
    assert!(
        child.try_wait().unwrap().is_none(),
        "the first row came only when the run ended: {first}"
    );
    assert!(first.starts_with("deleted "), "{first}");
    for _ in 0..8 {
        let _ = held.release.try_send(());
    }
    let run = crate::harness::finish_within(child, Duration::from_secs(120));
    run.success();
    let rest: Vec<String> = lines.iter().collect();
    assert_eq!(
        rest.iter().filter(|l| l.starts_with("deleted ")).count(),
        2,
        "each row once: {first}\n{rest:?}\n{}",
        run.stderr
    );
    assert!(!rest.contains(&first), "{rest:?}");
}
