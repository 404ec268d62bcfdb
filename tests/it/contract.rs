//! The command-line contract, for scripts and for people: one digest line per
//! input, a tag@digest checked, usage errors that name the mistake, plurals,
//! names instead of counts, and hints that fit the case.

use crate::fixture::{image, Storage};
use crate::harness::{regctl, Options, TestRegistry};

fn populate(s: &Storage) {
    s.push(
        "app",
        &["v1"],
        &image("linux/amd64", "2024-01-01T00:00:00Z", "contract-1"),
    );
    s.push(
        "app",
        &["v2"],
        &image("linux/amd64", "2024-02-01T00:00:00Z", "contract-2"),
    );
    // A repository whose only manifest is untagged.
    s.image(
        "empty",
        &image("linux/amd64", "2024-03-01T00:00:00Z", "contract-3"),
    );
}

fn start() -> TestRegistry {
    TestRegistry::start_with(Options::default(), populate)
}

#[test]
fn digest_prints_one_line_per_input_in_order_and_checks_a_tag_at_a_digest() {
    let reg = start();
    let host = reg.host();
    let v1 = image("linux/amd64", "2024-01-01T00:00:00Z", "contract-1").digest;
    let v2 = image("linux/amd64", "2024-02-01T00:00:00Z", "contract-2").digest;
    let run = regctl()
        .trusted(&reg)
        .args([
            "digest",
            &format!("{host}/app:v1"),
            &format!("{host}/app:nope"),
            &format!("{host}/app:v2"),
        ])
        .run();
    run.code(4);
    assert_eq!(run.stdout, format!("{v1}\n\n{v2}\n"), "lines match inputs");
    assert!(run.stderr.contains("app:nope"), "{}", run.stderr);

    // v1@<v2's digest>: the tag does not point there. One word and one code with
    // `rm` of the same reference: refused, exit 6.
    let run = regctl()
        .trusted(&reg)
        .args(["digest", &format!("{host}/app:v1@{v2}")])
        .run();
    run.code(6);
    assert!(run.stderr.contains("the tag points at"), "{}", run.stderr);
    let rm = regctl()
        .trusted(&reg)
        .args(["rm", &format!("{host}/app:v1@{v2}"), "--dry-run"])
        .run();
    rm.code(6);
    assert!(rm.stderr.contains("the tag points at"), "{}", rm.stderr);
    let inspect = regctl()
        .trusted(&reg)
        .args(["inspect", &format!("{host}/app:v1@{v2}")])
        .run();
    inspect.code(6);
    assert!(
        inspect.stderr.contains("the tag points at"),
        "{}",
        inspect.stderr
    );
    let run = regctl()
        .trusted(&reg)
        .args(["digest", &format!("{host}/app:v1@{v1}")])
        .run();
    run.success();
    assert_eq!(run.stdout, format!("{v1}\n"));
}

#[test]
fn usage_errors_name_the_mistake() {
    let reg = start();
    let host = reg.host();
    let ls = regctl()
        .trusted(&reg)
        .args(["ls", &format!("{host}/app:v1")])
        .run();
    ls.code(2);
    assert!(ls.stderr.contains("not a tag"), "{}", ls.stderr);

    let rm = regctl()
        .trusted(&reg)
        .args(["rm", "app:v1", "--dry-run"])
        .run();
    rm.code(2);
    assert!(rm.stderr.contains("names no registry"), "{}", rm.stderr);

    let hex = "1a3f".repeat(16);
    let digest = regctl().trusted(&reg).args(["digest", &hex]).run();
    digest.code(2);
    assert!(digest.stderr.contains("image ID"), "{}", digest.stderr);

    let rm = regctl()
        .trusted(&reg)
        .args(["rm", &format!("{host}/app"), "--dry-run"])
        .run();
    rm.code(2);
    assert!(
        rm.stderr.contains("names no tag or digest"),
        "{}",
        rm.stderr
    );
}

#[test]
fn plain_http_against_tls_says_to_drop_it_and_insecure_does_not_warn_about_tls() {
    let reg = start();
    let run = regctl()
        .logged_in()
        .args(["--plain-http", "--insecure", "ls", &reg.host()])
        .run();
    run.code(1);
    assert!(run.stderr.contains("drop --plain-http"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("certificates are not verified"),
        "{}",
        run.stderr
    );
}

#[test]
fn counts_have_plurals_and_untagged_repositories_are_named() {
    let reg = start();
    let host = reg.host();
    let ls = regctl().trusted(&reg).args(["ls", &host]).run();
    ls.success();
    assert!(
        ls.stderr.contains("1 repository has no tags: ")
            && ls.stderr.contains(&format!("{host}/empty")),
        "{}",
        ls.stderr
    );
    let prune = regctl()
        .trusted(&reg)
        .args(["prune", &format!("{host}/app"), "--keep", "1", "--dry-run"])
        .run();
    prune.success();
    assert!(
        prune
            .stderr
            .contains("1 image (1 manifest, 1 tag) in 1 repository"),
        "{}",
        prune.stderr
    );
    // --older-than 0d: any age.
    let prune = regctl()
        .trusted(&reg)
        .args([
            "prune",
            &format!("{host}/app"),
            "--older-than",
            "0d",
            "--dry-run",
        ])
        .run();
    prune.success();
    assert!(prune.stderr.contains("2 images"), "{}", prune.stderr);
}

#[test]
fn help_puts_global_options_under_their_own_heading() {
    let run = regctl().args(["rm", "-h"]).run();
    run.success();
    let (own, rest) = run.stdout.split_once("Global options:").expect(&run.stdout);
    let global = rest.split("Examples:").next().unwrap();
    assert!(
        own.contains("--dry-run") && !own.contains("--ca-file"),
        "{own}"
    );
    assert!(
        global.contains("--ca-file") && !global.contains("--dry-run"),
        "{global}"
    );
    let long = regctl().args(["rm", "--help"]).run();
    assert!(
        long.stdout.contains("placeholder"),
        "the tag-removal window is documented"
    );
}

#[test]
fn a_table_on_a_narrow_terminal_fits_its_width_with_digests_shortened() {
    let out = ls_digests_on_a_terminal(60);
    let v1 = image("linux/amd64", "2024-01-01T00:00:00Z", "contract-1").digest;
    assert!(
        out.contains(&format!("{}…", &v1[..19])),
        "digests shortened: {out}"
    );
    assert!(!out.contains(&v1), "{out}");
    for line in out.lines() {
        assert!(
            line.chars().count() <= 60,
            "{} columns: {line}\n{out}",
            line.chars().count()
        );
    }
    assert!(out.contains("v1") && out.contains("v2"), "{out}");
}

#[test]
fn ls_json_reports_what_could_not_be_read_as_entries_with_an_error() {
    let reg = TestRegistry::start_with(Options::default(), |s| {
        populate(s);
        // A tag on a manifest the registry does not have.
        s.tag("app", "ghost", &format!("sha256:{}", "0".repeat(64)));
    });
    let host = reg.host();
    let run = regctl()
        .trusted(&reg)
        .args([
            "ls",
            &format!("{host}/app"),
            "--digests",
            "--format",
            "json",
        ])
        .run();
    run.code(4);
    let entries: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 3, "{}", run.stdout);
    let ghost = entries
        .iter()
        .find(|e| e["tag"] == "ghost")
        .expect(&run.stdout);
    assert_eq!(ghost["reference"], format!("{host}/app:ghost"));
    assert!(
        ghost["error"].is_string() && ghost.get("digest").is_none(),
        "{ghost}"
    );
    assert!(entries
        .iter()
        .filter(|e| e["tag"] != "ghost")
        .all(|e| e.get("error").is_none()));
    // Plain lines list what was read only; the rest goes to stderr.
    let plain = regctl()
        .trusted(&reg)
        .args(["ls", &format!("{host}/app"), "--digests"])
        .run();
    assert_eq!(plain.lines().len(), 2, "{}", plain.stdout);
}

#[test]
fn a_tag_removal_without_push_access_says_push_is_what_is_missing() {
    let (reg, _tokens) =
        crate::token::registry_trusting(crate::token::refusing_push(), true, |s| {
            s.push(
                "app",
                &["v1", "also"],
                &image("linux/amd64", "2024-01-01T00:00:00Z", "contract-push"),
            );
        });
    let host = reg.host();
    let run = regctl()
        .trusted(&reg)
        .args(["rm", &format!("{host}/app:also"), "--yes"])
        .run();
    run.code(3);
    assert!(
        run.stderr.contains("needs push access to app"),
        "{}",
        run.stderr
    );
    // Nothing changed: both tags still resolve.
    let digest = regctl()
        .trusted(&reg)
        .args([
            "digest",
            &format!("{host}/app:v1"),
            &format!("{host}/app:also"),
        ])
        .run();
    digest.success();
}

crate::on_both!(fn digest_platform_on_an_artifact_says_it_is_an_artifact(target) {
    let img = image("linux/amd64", "2024-01-01T00:00:00Z", "contract-artifact");
    target.push_image("app", &["v1"], &img);
    let sbom = crate::artifacts::referrer(&crate::artifacts::Manifest::from(&img), "application/spdx+json", b"{}");
    target.push_tagged("app", &["sbom"], &sbom);
    let run = target
        .regctl()
        .args(["digest", &target.reference("app:sbom"), "--platform", "linux/amd64"])
        .run();
    run.code(4);
    assert!(run.stderr.contains("artifact (application/spdx+json)"), "{}", run.stderr);
});

#[test]
fn rm_dry_run_reports_every_reference_as_given() {
    let reg = start();
    let host = reg.host();
    let v1 = image("linux/amd64", "2024-01-01T00:00:00Z", "contract-1").digest;
    let v2 = image("linux/amd64", "2024-02-01T00:00:00Z", "contract-2").digest;
    let missing = format!("{host}/app:nope");
    let moved = format!("{host}/app:v1@{v2}");
    let run = regctl()
        .trusted(&reg)
        .args([
            "rm",
            &format!("{host}/app:v1"),
            &missing,
            &moved,
            "--dry-run",
            "--format",
            "json",
        ])
        .run();
    run.code(6);
    let rows: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert!(
        rows.iter()
            .any(|r| r["action"] == "remove-tag" || r["action"] == "delete-manifest"),
        "{}",
        run.stdout
    );
    let nope = rows
        .iter()
        .find(|r| r["reference"] == missing.as_str())
        .expect(&run.stdout);
    assert_eq!(nope["outcome"], "missing");
    let refused = rows
        .iter()
        .find(|r| r["reference"] == moved.as_str())
        .expect(&run.stdout);
    assert_eq!(refused["outcome"], "refused", "{refused}");
    assert!(
        refused["error"].as_str().unwrap().contains(&v1),
        "{refused}"
    );
}

#[test]
fn a_declined_confirmation_is_exit_6_and_deletes_nothing() {
    let reg = start();
    let host = reg.host();
    let mut pty = crate::pty::Pty::open();
    let mut child = pty.spawn(
        regctl()
            .trusted(&reg)
            .args(["rm", &format!("{host}/app:v1")])
            .command(),
    );
    let mut seen = String::new();
    let mut answered = false;
    loop {
        match pty.read() {
            crate::pty::Packet::Output(text) => seen.push_str(&text),
            crate::pty::Packet::Closed => break,
            _ => {}
        }
        if !answered && seen.contains("Delete as above") {
            pty.type_in("n\r");
            answered = true;
        }
    }
    assert_eq!(child.wait().unwrap().code(), Some(6), "{seen}");
    assert!(seen.contains("nothing was deleted"), "{seen}");
    regctl()
        .trusted(&reg)
        .args(["digest", &format!("{host}/app:v1")])
        .run()
        .success();
}

#[test]
fn rm_reports_each_row_with_the_references_it_answers_in_the_order_given() {
    let keep = image("linux/amd64", "2024-04-01T00:00:00Z", "contract-4");
    let reg = TestRegistry::start_with(Options::default(), |s| {
        populate(s);
        s.push("app", &["v3"], &keep);
    });
    let host = reg.host();
    let v1 = image("linux/amd64", "2024-01-01T00:00:00Z", "contract-1").digest;
    let v2 = image("linux/amd64", "2024-02-01T00:00:00Z", "contract-2").digest;
    let given = [
        format!("{host}/app@{v2}"),
        format!("{host}/app:nope"),
        format!("{host}/app:v1@{v1}"),
    ];
    let order = |stdout: &str| -> Vec<Vec<String>> {
        let rows: Vec<serde_json::Value> = serde_json::from_str(stdout).unwrap();
        rows.iter()
            .map(|r| serde_json::from_value(r["given"].clone()).expect(stdout))
            .collect()
    };
    let expected: Vec<Vec<String>> = given.iter().map(|g| vec![g.clone()]).collect();

    let mut dry = vec!["rm", "--dry-run", "--format", "json"];
    dry.extend(given.iter().map(String::as_str));
    let run = regctl().trusted(&reg).args(dry).run();
    run.code(4);
    assert_eq!(order(&run.stdout), expected, "{}", run.stdout);

    let mut real = vec!["rm", "--yes", "--format", "json"];
    real.extend(given.iter().map(String::as_str));
    let run = regctl().trusted(&reg).args(real).run();
    run.code(4);
    assert_eq!(order(&run.stdout), expected, "{}", run.stdout);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).unwrap();
    let outcomes: Vec<&str> = rows
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        ["deleted", "missing", "deleted"],
        "{}",
        run.stdout
    );

    // What survives: v3, untouched.
    let survivor = regctl()
        .trusted(&reg)
        .args(["digest", &format!("{host}/app:v3")])
        .run();
    survivor.success();
    assert_eq!(survivor.stdout.trim(), keep.digest);
    let gone = regctl()
        .trusted(&reg)
        .args([
            "digest",
            &format!("{host}/app:v1"),
            &format!("{host}/app:v2"),
        ])
        .run();
    gone.code(4);
}

#[test]
fn a_slow_listing_on_a_terminal_draws_its_table_as_rows_come_within_the_width() {
    use std::sync::{Arc, Condvar, Mutex};

    use crate::harness::loopback_certificate;
    use crate::http::{serve_tls, Response};

    // One repository answers at once; the other's tag list waits for the test.
    let release = Arc::new((Mutex::new(false), Condvar::new()));
    let held = release.clone();
    let long = "release-2024-01-01-build-000123-with-a-long-suffix";
    let server = serve_tls(loopback_certificate(), move |req| {
        let path = req.target.split('?').next().unwrap_or_default();
        match path {
            "/v2/" => Response::json(200, serde_json::json!({})),
            "/v2/_catalog" => {
                Response::json(200, serde_json::json!({"repositories": ["alpha", "omega"]}))
            }
            "/v2/alpha/tags/list" => Response::json(
                200,
                serde_json::json!({"name": "alpha", "tags": ["1", "2", long]}),
            ),
            "/v2/omega/tags/list" => {
                let (lock, released) = &*held;
                let mut go = lock.lock().unwrap();
                while !*go {
                    go = released.wait(go).unwrap();
                }
                Response::json(200, serde_json::json!({"name": "omega", "tags": ["9"]}))
            }
            _ => Response::json(404, serde_json::json!({})),
        }
    });
    let host = format!("127.0.0.1:{}", server.port);
    let ca = loopback_certificate().cert.to_str().unwrap().to_string();
    let command = regctl().args(["--ca-file", &ca, "ls", &host]).command();
    let window = crate::tmux::Tmux::run(&command, 60, 40);

    // alpha's rows show while omega's tag list is still held.
    let row = |s: &str, repository: &str, tag: &str| {
        s.lines().any(|l| {
            let cells: Vec<&str> = l.split_whitespace().collect();
            cells.contains(&format!("{host}/{repository}").as_str()) && cells.contains(&tag)
        })
    };
    let first = window.wait_for("alpha's rows", |s| row(s, "alpha", "2"));
    assert!(!first.contains("omega"), "{first}");
    assert!(
        !first.contains("└"),
        "the table is not closed yet:\n{first}"
    );
    {
        let (lock, released) = &*release;
        *lock.lock().unwrap() = true;
        released.notify_all();
    }
    let (code, screen) = window.wait_exit();
    assert_eq!(code, 0, "{screen}");
    let table: Vec<&str> = screen
        .lines()
        .filter(|l| l.starts_with(['┌', '│', '╞', '└']))
        .collect();
    assert!(row(&screen, "omega", "9"), "{screen}");
    assert!(table.last().unwrap().starts_with('└'), "{screen}");
    assert_eq!(
        table.iter().filter(|l| l.starts_with('┌')).count(),
        1,
        "{screen}"
    );
    for line in &table {
        assert!(
            line.chars().count() <= 60,
            "wider than the window: {line:?}\n{screen}"
        );
        assert!(
            line.ends_with(['┐', '│', '╡', '┘']),
            "a broken row: {line:?}\n{screen}"
        );
    }
    // The long tag, wrapped within its column, is all there.
    let cells: String = table
        .iter()
        .flat_map(|l| l.split(|c: char| c.is_whitespace() || c == '│'))
        .collect();
    assert!(cells.contains(long), "{screen}");
}

/// On a terminal wide enough, a table shows whole digests (a shortened one is
/// of no use to `rm` or `digest`).
#[test]
fn a_table_on_a_wide_terminal_shows_whole_digests() {
    let out = ls_digests_on_a_terminal(160);
    let v1 = image("linux/amd64", "2024-01-01T00:00:00Z", "contract-1").digest;
    assert!(out.contains(&v1), "whole digests: {out}");
    assert!(!out.contains('…'), "{out}");
    for line in out.lines() {
        assert!(line.chars().count() <= 160, "{line}");
    }
}

/// What `ls --digests` of the contract registry draws on a terminal `columns`
/// wide (stdout on a pty); the run must succeed.
fn ls_digests_on_a_terminal(columns: u16) -> String {
    let reg = start();
    let mut pty = crate::pty::Pty::open();
    pty.set_size(columns, 40);
    let mut child = regctl()
        .trusted(&reg)
        .args(["ls", &reg.host(), "--digests"])
        .command()
        .stdin(std::process::Stdio::null())
        .stdout(pty.stdio())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    pty.release();
    let out = pty.read_all();
    assert!(child.wait().unwrap().success(), "{out}");
    out
}
