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
            vec!["digest".into(), format!("{host}/Bad/Name:v1")],
            "`Bad`",
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
        (vec!["ls".into(), format!("{host}/UPPER")], "`UPPER`"),
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
            vec!["rm".into(), format!("{host}/Bad:v1"), "--yes".into()],
            "`Bad`",
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
