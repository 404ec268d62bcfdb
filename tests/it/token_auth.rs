//! Bearer-token auth: a registry configured with `auth.token`, our token server
//! issuing RS256 JWTs with `x5c`, as Distribution 2.8 verifies them.

use crate::fixture::{image, Storage};
use crate::harness::{regctl, USER};
use crate::token::{registry_with_token_auth, REFRESH_TOKEN};

fn populate(s: &Storage) {
    let img = image("linux/amd64", "2024-01-01T00:00:00Z", "token");
    for repo in ["alpha", "beta", "team/gamma"] {
        s.push(repo, &["v1", "v2"], &img);
    }
}

#[test]
fn lists_and_resolves_with_tokens_reused_per_scope() {
    let (reg, tokens) = registry_with_token_auth(populate);
    let host = reg.host();
    let digest = image("linux/amd64", "2024-01-01T00:00:00Z", "token").digest;
    let run = regctl()
        .trusted(&reg)
        .args(["ls", &host, "--digests"])
        .run();
    run.success();
    assert_eq!(run.lines().len(), 6);
    assert_eq!(run.lines()[0], format!("{host}/alpha:v1 {digest}"));

    let requests = tokens.token_requests();
    // One token for the catalog, one for the three repositories' pull scopes together.
    assert_eq!(requests.len(), 2, "token requests are batched");
    let scopes = tokens.scopes();
    assert!(
        scopes.contains(&"registry:catalog:*".to_string()),
        "{scopes:?}"
    );
    for repo in ["alpha", "beta", "team/gamma"] {
        let wanted = format!("repository:{repo}:pull");
        // Tag lists and six HEADs need this scope; one token serves them all.
        assert_eq!(
            scopes.iter().filter(|s| **s == wanted).count(),
            1,
            "{scopes:?}"
        );
    }
    assert!(requests.iter().all(|r| r
        .params()
        .iter()
        .any(|(k, v)| k == "service" && v == crate::token::SERVICE)));
    assert!(
        requests.iter().all(|r| r.header("authorization").is_some()),
        "credentials sent to the realm"
    );
}

#[test]
fn anonymous_pull_works_and_anonymous_catalog_is_refused_clearly() {
    let (reg, tokens) = registry_with_token_auth(populate);
    let host = reg.host();
    let ca = reg.ca.to_str().unwrap().to_string();
    let digest = image("linux/amd64", "2024-01-01T00:00:00Z", "token").digest;
    let run = regctl()
        .args(["--ca-file", &ca, "digest", &format!("{host}/beta:v2")])
        .run();
    run.success();
    assert_eq!(run.stdout.trim(), digest);
    assert!(
        tokens
            .token_requests()
            .iter()
            .all(|r| r.header("authorization").is_none()),
        "anonymous token requests"
    );

    let all = regctl().args(["--ca-file", &ca, "ls", &host]).run();
    all.code(5);
    assert!(
        all.stderr.contains("registry:catalog:*") && all.stderr.contains("log in"),
        "{}",
        all.stderr
    );

    // Naming the repository still lists it.
    let one = regctl()
        .args(["--ca-file", &ca, "ls", &format!("{host}/team/gamma")])
        .run();
    assert_lists_gamma(&host, &one);
}

#[test]
fn wrong_password_at_the_token_server_is_exit_3() {
    let (reg, _tokens) = registry_with_token_auth(populate);
    let run = regctl()
        .args(["--ca-file".as_ref(), reg.ca.as_os_str()])
        .env("REGCTL_USERNAME", USER)
        .env("REGCTL_PASSWORD", "not-the-password")
        .args(["ls", &reg.host()])
        .run();
    run.code(3);
    assert!(run.stderr.contains("token server"), "{}", run.stderr);
    assert!(!run.stderr.contains("not-the-password"));
}

#[test]
fn identity_token_from_docker_config_is_exchanged_at_the_realm() {
    let (reg, tokens) = registry_with_token_auth(populate);
    let config = format!(
        r#"{{"auths":{{"{}":{{"auth":"","identitytoken":"{REFRESH_TOKEN}"}}}}}}"#,
        reg.host()
    );
    let run = regctl()
        .args(["--ca-file".as_ref(), reg.ca.as_os_str()])
        .docker_config(&config)
        .args(["ls", &reg.host(), "-v"])
        .run();
    run.success();
    assert_eq!(run.lines().len(), 6);
    let posts: Vec<_> = tokens
        .token_requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert!(!posts.is_empty());
    assert!(posts.iter().all(|r| r
        .params()
        .iter()
        .any(|(k, v)| k == "grant_type" && v == "refresh_token")));
    assert!(
        !run.stderr.contains(REFRESH_TOKEN),
        "the refresh token is not logged"
    );
}

fn scope_counts(tokens: &crate::token::TokenServer) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for scope in tokens.scopes() {
        *counts.entry(scope).or_default() += 1;
    }
    counts
}

#[test]
fn a_token_refused_as_expired_is_renewed_once() {
    // The first token of every scope is already expired though announced for an hour.
    let (reg, tokens) =
        crate::token::registry_trusting(crate::token::start_with(3600, |n| n == 0), true, populate);
    let run = regctl()
        .trusted(&reg)
        .args(["ls", &reg.host(), "--digests"])
        .run();
    run.success();
    assert_eq!(run.lines().len(), 6);
    for (scope, n) in scope_counts(&tokens) {
        assert_eq!(n, 2, "{scope}: one refused token, one fresh");
    }
}

#[test]
fn tokens_that_keep_being_refused_end_with_exit_3_after_one_renewal() {
    let (reg, tokens) =
        crate::token::registry_trusting(crate::token::start_with(3600, |_| true), true, populate);
    let run = regctl().trusted(&reg).args(["ls", &reg.host()]).run();
    run.code(3);
    assert_eq!(scope_counts(&tokens).get("registry:catalog:*"), Some(&2));
}

#[test]
fn verbose_log_of_a_full_run_carries_no_token_or_password() {
    let (reg, tokens) = registry_with_token_auth(populate);
    let run = regctl()
        .trusted(&reg)
        .args(["ls", &reg.host(), "--digests", "-v"])
        .run();
    run.success();
    assert!(
        run.stderr.contains("GET https://127.0.0.1"),
        "{}",
        run.stderr
    );
    let issued = tokens.issued.lock().unwrap().clone();
    assert!(!issued.is_empty());
    for secret in issued
        .iter()
        .map(String::as_str)
        .chain([crate::harness::PASSWORD])
    {
        assert!(
            !run.stderr.contains(secret) && !run.stdout.contains(secret),
            "a secret was printed"
        );
    }
}

#[test]
fn a_token_server_that_refuses_only_the_catalog_leaves_a_named_repository_listable() {
    let (reg, _tokens) =
        crate::token::registry_trusting(crate::token::refusing_the_catalog(), true, populate);
    let host = reg.host();
    let all = regctl().trusted(&reg).args(["ls", &host]).run();
    all.code(5);
    assert!(all.stderr.contains("registry:catalog:*"), "{}", all.stderr);
    let one = regctl()
        .trusted(&reg)
        .args(["ls", &format!("{host}/team/gamma")])
        .run();
    assert_lists_gamma(&host, &one);
    let plan = regctl()
        .trusted(&reg)
        .args([
            "prune",
            &format!("{host}/team/gamma"),
            "--keep",
            "1",
            "--dry-run",
        ])
        .run();
    plan.success();
}

/// `run` listed team/gamma's two tags, and nothing else.
#[track_caller]
fn assert_lists_gamma(host: &str, run: &crate::harness::Run) {
    run.success();
    assert_eq!(
        run.lines(),
        vec![
            format!("{host}/team/gamma:v1"),
            format!("{host}/team/gamma:v2")
        ]
    );
}

/// With the catalog refused, `prune` and `du` of a prefix that is not itself a
/// repository cannot list what is below it: an error naming the catalog and what
/// to pass instead, exit 3, never a silent "nothing to delete" with exit 0.
#[test]
fn a_refused_catalog_makes_a_prefix_an_error_not_a_silent_no_op() {
    let (reg, _tokens) = registry_with_token_auth(populate);
    let host = reg.host();
    let ca = reg.ca.to_str().unwrap().to_string();
    for args in [vec!["prune", "--keep", "0", "--dry-run"], vec!["du"]] {
        let mut cmd = regctl().args(["--ca-file", &ca]).args(&args[..1]);
        cmd = cmd.args([format!("{host}/team")]).args(&args[1..]);
        let run = cmd.run();
        run.code(3);
        assert!(
            run.stderr.contains("catalog")
                && run.stderr.contains("team")
                && run.stderr.contains(&format!("{host}/team/REPOSITORY")),
            "{args:?}: {}",
            run.stderr
        );
        assert!(
            run.stdout.trim().is_empty() || run.stdout.trim() == "[]",
            "{}",
            run.stdout
        );
    }
    // The repository itself still works.
    let one = regctl()
        .args(["--ca-file", &ca, "du", &format!("{host}/team/gamma")])
        .run();
    one.success();
}

/// A token server that issues tokens without the `delete` action (a read-only
/// account): the credentials are right, so the error names the action and the
/// repository that were not granted, not the password.
#[test]
fn a_token_without_the_delete_action_names_the_action_and_repository() {
    let (reg, _tokens) =
        crate::token::registry_trusting(crate::token::granting_pull_only(), true, populate);
    let host = reg.host();
    let run = regctl()
        .trusted(&reg)
        .args(["rm", &format!("{host}/alpha:v1"), "--yes"])
        .run();
    run.code(3);
    assert!(
        run.stderr.contains("`delete` action on repository alpha")
            && run.stderr.contains("repository:alpha:delete")
            && !run.stderr.contains("check the user name and password"),
        "{}",
        run.stderr
    );
    // Reading still works with the same credentials: nothing was deleted.
    regctl()
        .trusted(&reg)
        .args(["digest", &format!("{host}/alpha:v1")])
        .run()
        .success();
}

#[test]
fn a_copy_within_the_registry_mounts_with_a_token_for_both_repositories() {
    let (reg, tokens) = registry_with_token_auth(populate);
    let host = reg.host();
    let run = regctl()
        .trusted(&reg)
        .args([
            "cp",
            &format!("{host}/alpha:v1"),
            &format!("{host}/copies/alpha:v1"),
        ])
        .args(["--format", "json"])
        .run();
    run.success();
    let rows: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    // The config and the layer: mounted, not sent.
    assert_eq!(rows[0]["blobs_mounted"], 2, "{}", run.stdout);
    assert_eq!(rows[0]["bytes_sent"], 0, "{}", run.stdout);
    // The mount's token names both repositories, each in a scope of its own.
    let scopes = tokens.scopes();
    assert!(
        scopes.contains(&"repository:copies/alpha:pull,push".to_string())
            && scopes.contains(&"repository:alpha:pull".to_string()),
        "{scopes:?}"
    );
    assert!(!scopes.iter().any(|s| s.contains(' ')), "{scopes:?}");
}

#[test]
fn cp_r_asks_the_token_server_for_all_repositories_at_once() {
    let (reg, tokens) = registry_with_token_auth(populate);
    let host = reg.host();
    let run = regctl()
        .trusted(&reg)
        .args(["cp", "-r", &host, &format!("{host}/copies")])
        .run();
    run.success();
    // The catalog, the three source repositories together, the three
    // destinations (read and write) together, and one mount token per
    // destination: not a token per repository for each kind of access.
    let asked = tokens.token_requests().len();
    assert!(asked <= 6, "{asked} token requests: {:?}", tokens.scopes());
    let listed = regctl()
        .trusted(&reg)
        .args(["ls", &format!("{host}/copies")])
        .run();
    listed.success();
    assert_eq!(listed.lines().len(), 6, "{}", listed.stdout);
}
