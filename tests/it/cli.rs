//! Usage errors are exit 2 with a message naming the bad part, and no request.

use crate::harness::{loopback_certificate, regctl};
use crate::http::{serve_tls, Response};

#[test]
fn invalid_input_is_exit_2_before_any_request() {
    let server = serve_tls(loopback_certificate(), |_| {
        Response::json(200, serde_json::json!({}))
    });
    let host = format!("127.0.0.1:{}", server.port);
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["digest".into(), format!("{host}/bad..name:v1")],
            "`bad..name`",
        ),
        (
            vec![
                "digest".into(),
                format!("{host}/ok:v1"),
                format!("{host}/app:-tag"),
            ],
            "tag `-tag`",
        ),
        (
            vec!["digest".into(), format!("{host}/app@sha256:1234")],
            "digest",
        ),
        (
            vec![
                "digest".into(),
                format!("{host}/app:v1"),
                "--platform".into(),
                "linux".into(),
            ],
            "platform `linux`",
        ),
        (
            vec!["ls".into(), "bad_host:5000".into()],
            "registry `bad_host:5000`",
        ),
        (vec!["ls".into(), format!("{host}/UP..PER")], "`UP..PER`"),
        (vec!["ls".into(), format!("http://{host}")], "--plain-http"),
        (
            vec!["ls".into(), host.clone(), "--format".into(), "yaml".into()],
            "yaml",
        ),
        (
            vec![
                "ls".into(),
                host.clone(),
                "--concurrency".into(),
                "0".into(),
            ],
            "concurrency",
        ),
        (vec!["digest".into()], "REF"),
        (
            vec!["rm".into(), format!("{host}/Bad_:v1"), "--yes".into()],
            "`Bad_`",
        ),
        (vec!["rm".into(), format!("{host}/app:v1")], "--yes"),
        (
            vec!["prune".into(), host.clone(), "--keep".into(), "-1".into()],
            "0 or more",
        ),
        (
            vec!["prune".into(), host.clone(), "--match".into(), "(".into()],
            "regular expression",
        ),
        (
            vec![
                "prune".into(),
                host.clone(),
                "--older-than".into(),
                "soon".into(),
            ],
            "not a duration",
        ),
        (
            vec!["prune".into(), host.clone(), "--yes".into()],
            "needs --keep N or --older-than",
        ),
    ];
    for (args, expected) in cases {
        let run = regctl().args(&args).run();
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains(expected),
            "{args:?} should name {expected}: {}",
            run.stderr
        );
        assert_eq!(run.stdout, "", "{args:?}");
    }
    assert!(server.requests().is_empty(), "no request was made");
}

#[test]
fn help_documents_exit_codes_and_version_prints() {
    let help = regctl().args(["--help"]).run();
    help.success();
    for line in [
        "Exit codes:",
        "3  authentication",
        "4  not found",
        "5  the registry does not support",
    ] {
        assert!(help.stdout.contains(line), "{line}: {}", help.stdout);
    }
    let version = regctl().args(["--version"]).run();
    version.success();
    assert_eq!(
        version.stdout.trim(),
        format!("regctl {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn unreachable_registry_is_a_clear_failure() {
    let port = crate::harness::free_port();
    let run = regctl().args(["ls", &format!("127.0.0.1:{port}")]).run();
    run.code(1);
    assert!(
        run.stderr
            .contains(&format!("cannot connect to 127.0.0.1:{port}")),
        "{}",
        run.stderr
    );
}

/// The seed's `docker login http://HOST:PORT`: login, logout and pull-secret
/// take `http://` and `https://` as docker does, drop the scheme (the auths key
/// is HOST:PORT), and say that --plain-http decides the transport; an image
/// reference with a scheme gets the same hint as `ls`.
#[test]
fn registry_addresses_with_a_scheme_are_taken_as_docker_takes_them() {
    use base64::Engine as _;
    let reg = crate::harness::TestRegistry::start(crate::harness::Options::default());
    let host = reg.host();
    let home = tempfile::tempdir().unwrap();
    let at = || {
        regctl()
            .home(home.path())
            .args(["--ca-file".as_ref(), reg.ca.as_os_str()])
    };
    let login = at()
        .args([
            "login",
            &format!("http://{host}"),
            "-u",
            crate::harness::USER,
        ])
        .args(["--password-stdin", "--store", "config"])
        .stdin(&format!("{}\n", crate::harness::PASSWORD))
        .run();
    login.success();
    assert!(
        login.stderr.contains("`http://` dropped"),
        "{}",
        login.stderr
    );
    let config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(home.path().join(".docker/config.json")).unwrap(),
    )
    .unwrap();
    assert!(config["auths"][host.as_str()].is_object(), "{config}");

    let secret = at()
        .args([
            "pull-secret",
            &format!("https://{host}/"),
            "--name",
            "pull",
            "-o",
            "json",
        ])
        .run();
    secret.success();
    let value: serde_json::Value = serde_json::from_str(&secret.stdout).unwrap();
    let data = value["data"][".dockerconfigjson"].as_str().unwrap();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(data)
        .unwrap();
    let inner: serde_json::Value = serde_json::from_slice(&decoded).unwrap();
    assert!(inner["auths"][host.as_str()].is_object(), "{inner}");

    let digest = at()
        .args(["digest", &format!("http://{host}/app:v1")])
        .run();
    digest.code(2);
    assert!(
        digest.stderr.contains("no scheme") && digest.stderr.contains("--plain-http"),
        "{}",
        digest.stderr
    );
    let logout = at().args(["logout", &format!("http://{host}")]).run();
    logout.success();
}

/// `--format` is refused where it would be ignored (exit 2), before any request.
#[test]
fn format_is_refused_where_a_command_would_ignore_it() {
    for args in [
        vec![
            "pull-secret",
            "127.0.0.1:1",
            "--name",
            "x",
            "--format",
            "json",
        ],
        vec!["login", "127.0.0.1:1", "--format", "json"],
        vec!["logout", "127.0.0.1:1", "--format", "table"],
    ] {
        let run = regctl().args(&args).run();
        run.code(2);
        assert!(
            run.stderr.contains("--format does not apply"),
            "{args:?}: {}",
            run.stderr
        );
    }
}

/// A refused password names the registry once (it read `listing H: H: ...`
/// and `H/app:v1: H: ...`), in every command that reads.
#[test]
fn a_refused_listing_names_the_registry_once() {
    let reg = crate::harness::TestRegistry::start(crate::harness::Options::default());
    let host = reg.host();
    let image = format!("{host}/app:v1");
    for args in [
        vec!["ls", &host],
        vec!["du", &host],
        vec!["digest", &image],
        vec!["inspect", &image],
    ] {
        let run = regctl()
            .args(["--ca-file".as_ref(), reg.ca.as_os_str()])
            .env("REGCTL_USERNAME", crate::harness::USER)
            .env("REGCTL_PASSWORD", "wrong")
            .args(&args)
            .run();
        run.code(3);
        assert!(
            !run.stderr.contains(&format!("{host}: {host}"))
                && !run.stderr.contains(&format!("{image}: {host}")),
            "{args:?}: {}",
            run.stderr
        );
        assert!(run.stderr.contains(&host), "{}", run.stderr);
    }
}
