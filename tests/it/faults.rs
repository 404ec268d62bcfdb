//! Behaviour a real Distribution server cannot be made to show, against a fake
//! registry: other registries' pagination quirks and missing headers.

use std::sync::Arc;

use crate::fixture::sha256;
use crate::harness::{loopback_certificate, regctl, Regctl};
use crate::http::{serve_plain, serve_tls, Request, Response, Server};

fn json_with_link(value: serde_json::Value, link: Option<&str>) -> Response {
    let mut resp = Response::json(200, value);
    if let Some(link) = link {
        resp.headers
            .push(("Link".into(), format!("<{link}>; rel=\"next\"")));
    }
    resp
}

fn fake(handler: impl Fn(&Request) -> Response + Send + Sync + 'static) -> Server {
    serve_tls(loopback_certificate(), handler)
}

fn client(server: &Server) -> (Regctl, String) {
    let ca = loopback_certificate().cert.to_str().unwrap().to_string();
    (
        regctl().args(["--ca-file", &ca]),
        format!("127.0.0.1:{}", server.port),
    )
}

#[test]
fn page_size_refused_is_retried_without_n_and_every_page_is_followed() {
    let server = fake(|req| match req.target.as_str() {
        "/v2/" => Response::json(200, serde_json::json!({})),
        "/v2/_catalog?n=1000" => Response::json(
            400,
            serde_json::json!({"errors":[{"code":"PAGINATION_NUMBER_INVALID","message":"invalid number of results requested"}]}),
        ),
        "/v2/_catalog" => json_with_link(
            serde_json::json!({"repositories":["a"]}),
            Some("/v2/_catalog?last=a"),
        ),
        "/v2/_catalog?last=a" => json_with_link(
            serde_json::json!({"repositories":["b"]}),
            Some("/v2/_catalog?last=b"),
        ),
        "/v2/_catalog?last=b" => json_with_link(serde_json::json!({"repositories":[]}), None),
        "/v2/a/tags/list" => json_with_link(
            serde_json::json!({"name":"a","tags":["2"]}),
            Some("/v2/a/tags/list?last=2"),
        ),
        "/v2/a/tags/list?last=2" => {
            json_with_link(serde_json::json!({"name":"a","tags":["1"]}), None)
        }
        "/v2/b/tags/list" => json_with_link(serde_json::json!({"name":"b","tags":null}), None),
        _ => Response::json(404, serde_json::json!({})),
    });
    let (cmd, host) = client(&server);
    let run = cmd.args(["ls", &host]).run();
    run.success();
    assert_eq!(
        run.lines(),
        vec![format!("{host}/a:1"), format!("{host}/a:2")]
    );
    assert!(
        run.stderr
            .contains(&format!("1 repository has no tags: {host}/b")),
        "{}",
        run.stderr
    );
}

#[test]
fn pagination_link_to_another_origin_is_refused() {
    let other = Arc::new(fake(|_| {
        Response::json(200, serde_json::json!({"repositories":["stolen"]}))
    }));
    let other_url = format!("https://127.0.0.1:{}/v2/_catalog?last=a", other.port);
    let server = fake(move |req| match req.target.as_str() {
        "/v2/" => Response::json(200, serde_json::json!({})),
        "/v2/_catalog?n=1000" => {
            json_with_link(serde_json::json!({"repositories":["a"]}), Some(&other_url))
        }
        _ => Response::json(404, serde_json::json!({})),
    });
    let (cmd, host) = client(&server);
    let run = cmd.args(["ls", &host]).run();
    run.code(1);
    assert!(run.stderr.contains("another origin"), "{}", run.stderr);
    assert_eq!(run.stdout, "", "no partial listing printed as if complete");
    assert!(
        other.requests().is_empty(),
        "the other origin was never contacted"
    );
}

#[test]
fn head_without_digest_header_falls_back_to_get_and_hashes_the_bytes() {
    let manifest = br#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"x","size":1,"digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},"layers":[]}"#;
    let server = fake(
        move |req| match (req.method.as_str(), req.target.as_str()) {
            (_, "/v2/") => Response::json(200, serde_json::json!({})),
            (_, "/v2/app/manifests/v1") => Response::raw(
                200,
                vec![(
                    "Content-Type".into(),
                    "application/vnd.docker.distribution.manifest.v2+json".into(),
                )],
                manifest.to_vec(),
            ),
            _ => Response::json(404, serde_json::json!({})),
        },
    );
    let (cmd, host) = client(&server);
    let run = cmd.args(["digest", &format!("{host}/app:v1")]).run();
    run.success();
    assert_eq!(run.stdout.trim(), sha256(manifest));
    let methods: Vec<String> = server
        .requests()
        .iter()
        .filter(|r| r.target.contains("manifests"))
        .map(|r| r.method.clone())
        .collect();
    assert_eq!(methods, vec!["HEAD", "GET"]);
    let accept = server
        .requests()
        .iter()
        .find(|r| r.method == "GET" && r.target.contains("manifests"))
        .unwrap()
        .header("accept")
        .unwrap()
        .to_string();
    assert!(
        accept.contains("application/vnd.oci.image.index.v1+json"),
        "{accept}"
    );
}

#[test]
fn registry_without_a_catalog_is_exit_5_and_a_named_repository_still_lists() {
    // GHCR answers the catalog with 404.
    let server = fake(|req| match req.target.as_str() {
        "/v2/" => Response::json(200, serde_json::json!({})),
        "/v2/team/app/tags/list" => {
            json_with_link(serde_json::json!({"name":"team/app","tags":["v1"]}), None)
        }
        _ => Response::json(
            404,
            serde_json::json!({"errors":[{"code":"NOT_FOUND","message":"404 page not found"}]}),
        ),
    });
    let (cmd, host) = client(&server);
    let run = cmd.args(["ls", &host]).run();
    run.code(5);
    assert!(
        run.stderr.contains("does not support listing repositories"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!("regctl ls {host}/REPOSITORY")),
        "{}",
        run.stderr
    );
    let (cmd, _) = client(&server);
    let one = cmd.args(["ls", &format!("{host}/team/app")]).run();
    one.success();
    assert_eq!(one.stdout, format!("{host}/team/app:v1\n"));
}

#[test]
fn pagination_that_never_ends_is_stopped_at_the_bound() {
    // Every catalog page names a new repository and a next page, forever.
    let server = fake(|req| {
        let target = req.target.as_str();
        if target == "/v2/" {
            return Response::json(200, serde_json::json!({}));
        }
        if let Some(rest) = target.strip_prefix("/v2/_catalog") {
            let n: u64 = rest
                .rsplit("last=r")
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            return json_with_link(
                serde_json::json!({"repositories": [format!("r{}", n + 1)]}),
                Some(&format!("/v2/_catalog?last=r{}", n + 1)),
            );
        }
        Response::json(404, serde_json::json!({}))
    });
    let (cmd, host) = client(&server);
    let run = cmd.args(["ls", &host, "--max-list-items", "50"]).run();
    run.code(1);
    assert!(
        run.stderr.contains("goes on past 50 entries"),
        "{}",
        run.stderr
    );
    let catalog_pages = server
        .requests()
        .iter()
        .filter(|r| r.target.starts_with("/v2/_catalog"))
        .count();
    assert!(catalog_pages <= 52, "{catalog_pages} pages read");

    // Empty tag pages that keep pointing to another are stopped after a few.
    let server = fake(|req| {
        let target = req.target.as_str();
        if target == "/v2/" {
            return Response::json(200, serde_json::json!({}));
        }
        if target.starts_with("/v2/_catalog") {
            return json_with_link(serde_json::json!({"repositories": ["empty"]}), None);
        }
        if let Some(rest) = target.strip_prefix("/v2/empty/tags/list") {
            return json_with_link(
                serde_json::json!({"name": "empty", "tags": []}),
                Some(&format!(
                    "/v2/empty/tags/list?last=x{}",
                    rest.trim_start_matches("?last=")
                )),
            );
        }
        Response::json(404, serde_json::json!({}))
    });
    let (cmd, host) = client(&server);
    let run = cmd.args(["ls", &format!("{host}/empty")]).run();
    run.code(1);
    assert!(
        run.stderr.contains("pages in a row were empty"),
        "{}",
        run.stderr
    );
}

/// The number in `page=N` of a request target, 0 when there is none.
fn page_number(target: &str) -> u64 {
    target
        .rsplit("page=")
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn count(server: &Server, prefix: &str) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.target.starts_with(prefix))
        .count()
}

/// A fake registry whose catalog pages and whose tag list of `same` pages are
/// answered by `page(path, target)`; with `catalog` false its catalog answers
/// 404 (as GHCR's), so that `ls REGISTRY/same` lists that repository alone.
fn paging(catalog: bool, page: impl Fn(&str, &str) -> Response + Send + Sync + 'static) -> Server {
    fake(move |req| {
        let target = req.target.as_str();
        match target.split('?').next().unwrap_or("") {
            "/v2/" => Response::json(200, serde_json::json!({})),
            path @ "/v2/_catalog" if catalog => page(path, target),
            path @ "/v2/same/tags/list" => page(path, target),
            _ => Response::json(404, serde_json::json!({})),
        }
    })
}

/// A list page of `names`: a catalog page or a tag list of `same`.
fn names_page(path: &str, names: &[String], next: Option<&str>) -> Response {
    let value = if path == "/v2/_catalog" {
        serde_json::json!({"repositories": names})
    } else {
        serde_json::json!({"name": "same", "tags": names})
    };
    json_with_link(value, next)
}

#[test]
fn pages_that_bring_nothing_new_end_the_listing_at_once() {
    // Every page names the same entry, and a next page under a new URL.
    let repeating = |path: &str, target: &str| {
        let next = format!("{path}?last=same&page={}", page_number(target) + 1);
        names_page(path, &["same".to_string()], Some(&next))
    };
    for (catalog, target, listed) in [
        (true, "", "/v2/_catalog"),
        (false, "/same", "/v2/same/tags/list"),
    ] {
        let server = paging(catalog, repeating);
        let (cmd, host) = client(&server);
        let run = cmd
            .args(["ls", &format!("{host}{target}"), "--max-list-items", "200"])
            .run();
        run.code(1);
        assert_eq!(run.stdout, "");
        assert!(run.stderr.contains("brings nothing new"), "{}", run.stderr);
        assert_eq!(count(&server, listed), 2, "{listed}");
    }
}

#[test]
fn a_last_page_over_the_bound_is_refused() {
    let sixty = |path: &str, _: &str| {
        let names: Vec<String> = (0..60).map(|i| format!("n{i}")).collect();
        names_page(path, &names, None)
    };
    for (catalog, target) in [(true, ""), (false, "/same")] {
        let server = paging(catalog, sixty);
        let (cmd, host) = client(&server);
        let run = cmd
            .args(["ls", &format!("{host}{target}"), "--max-list-items", "50"])
            .run();
        run.code(1);
        assert_eq!(run.stdout, "", "{target}");
        assert!(
            run.stderr.contains("goes on past 50 entries"),
            "{target}: {}",
            run.stderr
        );
        // At the bound exactly, the listing is whole.
        let (cmd, host) = client(&server);
        let run = cmd
            .args(["ls", &format!("{host}/same"), "--max-list-items", "60"])
            .run();
        run.success();
        assert_eq!(run.lines().len(), 60);
    }
}

#[test]
fn pages_are_bounded_whatever_they_bring() {
    // One new tag per page, forever: under the item bound, the page bound stops
    // it. Plain HTTP, for ten thousand requests.
    let server = serve_plain(|req| {
        let target = req.target.as_str();
        if target == "/v2/" {
            return Response::json(200, serde_json::json!({}));
        }
        if !target.starts_with("/v2/same/tags/list") {
            return Response::json(404, serde_json::json!({}));
        }
        let n = page_number(target);
        names_page(
            "/v2/same/tags/list",
            &[format!("t{n}")],
            Some(&format!("/v2/same/tags/list?last=t{n}&page={}", n + 1)),
        )
    });
    let host = format!("127.0.0.1:{}", server.port);
    let run = regctl()
        .args(["--plain-http", "ls", &format!("{host}/same")])
        .args(["--max-list-items", "20000"])
        .run();
    run.code(1);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("goes on past 10000 pages"),
        "{}",
        run.stderr
    );
    assert_eq!(count(&server, "/v2/same/tags/list"), 10_000);
}

#[test]
fn a_tag_at_digest_is_checked_when_head_sends_no_digest() {
    // The tag v1 points at `one`; `two` exists by digest. No HEAD answer carries
    // Docker-Content-Digest, so both are resolved by GET and hashing.
    let manifest = |size: u8| {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{{"mediaType":"x","size":{size},"digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}},"layers":[]}}"#
        )
        .into_bytes()
    };
    let (one, two) = (manifest(1), manifest(2));
    let (d_one, d_two) = (sha256(&one), sha256(&two));
    let by_two = format!("/v2/app/manifests/{d_two}");
    let server = fake(move |req| {
        let body = match req.target.as_str() {
            "/v2/" => return Response::json(200, serde_json::json!({})),
            "/v2/app/manifests/v1" => one.clone(),
            t if t == by_two => two.clone(),
            _ => return Response::json(404, serde_json::json!({})),
        };
        Response::raw(
            200,
            vec![(
                "Content-Type".into(),
                "application/vnd.docker.distribution.manifest.v2+json".into(),
            )],
            body,
        )
    });
    let (cmd, host) = client(&server);
    let run = cmd
        .args(["digest", &format!("{host}/app:v1@{d_two}")])
        .run();
    run.code(6);
    assert_eq!(
        run.stdout, "\n",
        "no digest printed for a tag pointing elsewhere"
    );
    assert!(
        run.stderr.contains(&format!("the tag points at {d_one}")),
        "{}",
        run.stderr
    );
}
