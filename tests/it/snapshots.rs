//! Snapshots of what users see: the exit code, stdout and stderr of the main
//! commands against the real Distribution registry (TLS + htpasswd), whole,
//! where a `contains` would check one phrase. Only what varies per run is
//! replaced: the registry's address (`[REGISTRY]`), milliseconds (`[MS]`) and
//! the certificate's dates and paths (`[DATE]`, `[PATH]`). The fixture's
//! images are deterministic, so digests are real and stable.
//!
//! After an intended change of output: `INSTA_UPDATE=always cargo test --test
//! it snapshots::`, then review the diff of `tests/it/snapshots/`.

use crate::fixture::{image, Storage};
use crate::harness::{regctl, Options, Regctl, Run, TestRegistry};

fn populate(s: &Storage) {
    let created = |month: u32| format!("2024-{month:02}-01T00:00:00Z");
    s.push(
        "web",
        &["1.0", "latest"],
        &image("linux/amd64", &created(1), "web 1.0"),
    );
    s.push(
        "web",
        &["2.0"],
        &image("linux/amd64", &created(2), "web 2.0"),
    );
    s.push(
        "team/api",
        &["v1", "stable"],
        &image("linux/amd64", &created(3), "api v1"),
    );
    s.push_index(
        "multi",
        &["v1"],
        &[
            image("linux/amd64", &created(4), "multi amd64"),
            image("linux/arm64/v8", &created(4), "multi arm64"),
        ],
    );
}

/// The run as a user reads it, with what varies per run replaced.
fn shown(run: &Run) -> String {
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        run.code, run.stdout, run.stderr
    )
}

/// Asserts the snapshot `name` of `run`, with `reg`'s address and the run's
/// varying values filtered.
fn check(name: &str, reg: &TestRegistry, run: &Run) {
    let host = regex_escape(&reg.host());
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.add_filter(&host, "[REGISTRY]");
    settings.add_filter(r"\b\d+ ms\b", "[MS] ms");
    settings.add_filter(
        r"[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2} \d{4} \+00:00",
        "[DATE]",
    );
    settings.add_filter(r"/tmp/[^\s;,)]+", "[PATH]");
    settings.bind(|| insta::assert_snapshot!(name, shown(run)));
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$".contains(c);
            special.then_some('\\').into_iter().chain([c])
        })
        .collect()
}

fn run(reg: &TestRegistry, args: &[&str]) -> Run {
    let host = reg.host();
    let args: Vec<String> = args.iter().map(|a| a.replace("REG", &host)).collect();
    let cmd: Regctl = regctl().trusted(reg);
    cmd.args(&args).run()
}

#[test]
fn what_the_main_commands_print() {
    let reg = TestRegistry::start_with(Options::default(), populate);
    let cases: &[(&str, &[&str])] = &[
        ("ls", &["ls", "REG"]),
        // (A table's width follows the address: loopback ports the kernel
        // hands out have five digits, so the box is the same in every run.)
        (
            "ls_digests_table",
            &["ls", "REG/web", "--digests", "--format", "table"],
        ),
        (
            "digest_in_order",
            &["digest", "REG/web:1.0", "REG/web:nope", "REG/multi:v1"],
        ),
        (
            "digest_platform",
            &["digest", "REG/multi:v1", "--platform", "linux/arm64"],
        ),
        ("inspect_index", &["inspect", "REG/multi:v1"]),
        ("inspect_image", &["inspect", "REG/web:1.0"]),
        ("du", &["du", "REG"]),
        ("rm_tag_dry_run", &["rm", "REG/web:latest", "--dry-run"]),
        ("rm_no_tag", &["rm", "REG/web"]),
        ("rm_missing_repository", &["rm", "REG/nope:v1", "--yes"]),
        (
            "prune_dry_run",
            &["prune", "REG", "--keep", "1", "--dry-run"],
        ),
        ("rm_tag", &["rm", "REG/web:latest", "--yes"]),
        ("ls_after_rm", &["ls", "REG/web", "--digests"]),
    ];
    for (name, args) in cases {
        check(name, &reg, &run(&reg, args));
    }
    // Without credentials: refused, with what to do.
    let anonymous = regctl()
        .args(["--ca-file".as_ref(), reg.ca.as_os_str()])
        .args(["ls", &reg.host()])
        .run();
    check("ls_without_credentials", &reg, &anonymous);
}
