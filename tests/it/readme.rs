//! The examples of README.md and docs/ are real output. Every ```sh block of
//! [`FILES`] (README.md, then docs/commands.md, then docs/reference.md) is read,
//! and every `$ ` line in it that runs regctl is run, in that order, as one shell
//! session (one HOME, so that `logout` sees what `login` stored) against one
//! Distribution registry (TLS, htpasswd) holding the images the examples talk
//! about; the lines under it must be what it printed. So an example that changes
//! the registry (`rm --yes`, `prune --yes`, `login`) changes it for every
//! example after it, in its file and in the files after it.
//!
//! Which lines run, and what is compared:
//!
//! - A `$ ` line is run with `sh -c` when every command of its pipeline is
//!   `regctl`, `printf` or `sha256sum` and one of them is `regctl` (the binary
//!   under test, first on PATH).
//! - A pipeline that goes on into another program (`regctl pull-secret … |
//!   kubectl apply -f -`) is run up to that program; its stdout goes there, so
//!   only its stderr is compared.
//! - Not run: lines that do not start regctl (`docker push …`), and those in
//!   [`SKIPPED`] (`regctl login` asking for a password on a terminal).
//! - The lines under a `$ ` line, up to the next `$ ` line or the end of the
//!   block, are its stdout followed by its stderr, every line of both. A `$ `
//!   line followed by none is still run. Every command must exit 0, unless its
//!   line ends with a comment `# exit N`: then it must exit N.
//! - The environment gives trust and credentials, never the example's line:
//!   `SSL_CERT_FILE` names the registry's CA, `REGCTL_USERNAME`/`REGCTL_PASSWORD`
//!   are user `ci` and its password, which `REGISTRY_PASSWORD` holds too (the
//!   login example reads it). HOME is a fresh folder, an OS keyring (a private
//!   Secret Service) is there, no proxy is set.
//!
//! What may differ between an example and a run (nothing else):
//!
//! - the host: `registry.example:5000` in a command is the registry's real
//!   `localhost:PORT`; in the output `localhost:PORT` is written back as
//!   `registry.example:5000`, and `localhost` as `registry.example`.
//!   `pull-secret` sends nothing to the registry, and its output holds the name
//!   inside base64: it is run with `registry.example:5000` as written;
//! - the session's HOME folder is written `~`;
//! - a digest may be written shortened, `sha256:<first hex>…<last hex>` (also in a
//!   tag, `sha256-<first hex>…<last hex>`): it matches a full digest that starts
//!   and ends so;
//! - a number of milliseconds, `N ms`, matches any number;
//! - `<date>` matches a certificate's date as regctl prints it (`Nov 26 06:48:57
//!   2027 +00:00`), and `<addresses>` the addresses a name resolves to (this
//!   machine's `/etc/hosts` decides whether `localhost` is also `::1`).
//!
//! The images are written into the registry's storage before it starts, byte for
//! byte the same on every run, so every digest is stable. A failing run prints,
//! for each example that differs (by file and line), what regctl printed with the
//! digests shortened as the examples write them (whole with
//! `README_FULL_DIGESTS=1`), ready to be copied in.

use std::path::Path;
use std::process::{Command, Stdio};

use clap::CommandFactory as _;
use regctl::cli::Cli;

use crate::artifacts::{self, cosign, cosign_tag, digest_tag, referrer, Cosign, Manifest};
use crate::fixture::{image, oci_image, Storage};
use crate::harness::{Options, TestRegistry};
use crate::keyring::SecretService;

/// The files whose examples run, in this order, as one session (paths from the
/// crate's root).
const FILES: &[&str] = &["README.md", "docs/commands.md", "docs/reference.md"];
/// The examples' own name for the registry, with and without its port.
const EXAMPLE_HOST: &str = "registry.example:5000";
const EXAMPLE_NAME: &str = "registry.example";
/// The name the registry is reached by here (its certificate names it).
const REAL_NAME: &str = "localhost";
/// The user the examples log in as, and its password.
const CI_USER: &str = "ci";
const CI_PASSWORD: &str = "ci-password";
/// `$ ` lines that run regctl but cannot run here, with why.
const SKIPPED: &[(&str, &str)] = &[(
    "regctl login registry.example:5000 -u alice --store config",
    "asks for the password on a terminal",
)];
/// The programs a `$ ` line may run for it to be run here.
const RUNNABLE: &[&str] = &["regctl", "printf", "sha256sum"];

/// One `$ ` line of an example file and the lines printed under it.
struct Example {
    /// The file (one of [`FILES`]) and line number in it (1-based), for messages.
    file: &'static str,
    line: usize,
    command: String,
    output: Vec<String>,
}

/// The `$ ` lines of the ```sh blocks of `text` (the contents of `file`), with
/// their output lines.
fn examples(file: &'static str, text: &str) -> Vec<Example> {
    let mut examples: Vec<Example> = Vec::new();
    let mut in_block = false;
    let mut current: Option<Example> = None;
    for (n, line) in text.lines().enumerate() {
        if !in_block {
            in_block = line.trim_end() == "```sh";
            continue;
        }
        if line.trim_end() == "```" {
            in_block = false;
            examples.extend(current.take());
            continue;
        }
        if let Some(command) = line.strip_prefix("$ ") {
            examples.extend(current.take());
            current = Some(Example {
                file,
                line: n + 1,
                command: command.to_string(),
                output: Vec::new(),
            });
        } else if let Some(example) = &mut current {
            example.output.push(line.to_string());
        }
    }
    examples
}

/// The exit code a `# exit N` comment asks for, else 0.
fn expected_code(command: &str) -> i32 {
    command
        .rsplit_once("# exit ")
        .and_then(|(_, code)| code.trim().parse().ok())
        .unwrap_or(0)
}

/// How a `$ ` line is run here.
#[derive(Debug, PartialEq)]
enum Plan {
    /// `sh -c` this; compare stdout and stderr.
    Whole(String),
    /// `sh -c` this part of a pipeline whose stdout goes on into a program that
    /// cannot run here; compare stderr.
    StderrOf(String),
    /// Not run, for this reason.
    Skip(String),
}

/// How a `$ ` line is run here (see the module's doc).
fn plan(command: &str) -> Plan {
    if let Some((_, why)) = SKIPPED.iter().find(|(line, _)| command.trim() == *line) {
        return Plan::Skip((*why).to_string());
    }
    let code = command.split(" # ").next().unwrap_or(command);
    let stages: Vec<&str> = code.split('|').collect();
    let program = |stage: &str| stage.split_whitespace().next().unwrap_or("").to_string();
    let runs = stages
        .iter()
        .take_while(|stage| RUNNABLE.contains(&program(stage).as_str()))
        .count();
    if !stages[..runs]
        .iter()
        .any(|stage| program(stage) == "regctl")
    {
        return Plan::Skip("does not run regctl".into());
    }
    if runs == stages.len() {
        Plan::Whole(command.to_string())
    } else {
        Plan::StderrOf(stages[..runs].join("|").trim().to_string())
    }
}

/// An example's output line as a regex: literal, except shortened digests, `N ms`,
/// `<date>` and `<addresses>`.
fn pattern(expected: &str) -> regex::Regex {
    let shortened =
        regex::Regex::new(r"sha256([:-])([0-9a-f]+)…([0-9a-f]+)|\d+ ms|<date>|<addresses>")
            .unwrap();
    let mut pattern = String::from("^");
    let mut last = 0;
    for found in shortened.captures_iter(expected) {
        let whole = found.get(0).unwrap();
        pattern += &regex::escape(&expected[last..whole.start()]);
        last = whole.end();
        pattern += &match (found.get(1), found.get(2), found.get(3)) {
            (Some(sep), Some(first), Some(end)) => {
                let middle = 64usize.saturating_sub(first.len() + end.len());
                format!(
                    "sha256{}{}[0-9a-f]{{{middle}}}{}",
                    regex::escape(sep.as_str()),
                    first.as_str(),
                    end.as_str()
                )
            }
            _ if whole.as_str() == "<date>" => {
                r"[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d \d{4} \+00:00".to_string()
            }
            _ if whole.as_str() == "<addresses>" => r"[0-9a-f.:]+(, [0-9a-f.:]+)*".to_string(),
            _ => r"\d+ ms".to_string(),
        };
    }
    pattern += &regex::escape(&expected[last..]);
    pattern += "$";
    regex::Regex::new(&pattern).unwrap()
}

/// Every full digest in `text` shortened to 4 + 4 hex digits, as an example may
/// write it (for the messages of a failing comparison).
fn shortened(text: &str) -> String {
    if std::env::var_os("README_FULL_DIGESTS").is_some() {
        return text.to_string();
    }
    let digest = regex::Regex::new(r"sha256([:-])([0-9a-f]{4})[0-9a-f]{56}([0-9a-f]{4})").unwrap();
    digest.replace_all(text, "sha256$1$2…$3").into_owned()
}

/// What a run printed, as an example shows it: `stdout` (if shown) then
/// `stderr`, the real host written as the example's and HOME as `~`.
fn as_shown(stdout: Option<&str>, stderr: &str, host: &str, home: &Path) -> Vec<String> {
    let home = home.to_string_lossy();
    stdout
        .unwrap_or("")
        .lines()
        .chain(stderr.lines())
        .map(|line| {
            line.replace(host, EXAMPLE_HOST)
                .replace(REAL_NAME, EXAMPLE_NAME)
                .replace(&*home, "~")
        })
        .collect()
}

/// The examples' repositories, written into storage:
/// - `web`: `1.0` (OCI, signed with a cosign signature, and an SBOM referrer with
///   its `sha256-<hex>` fallback index), `2.0` and `latest` on one image, `pr-17`
///   and `pr-18`;
/// - `team/api`: `v1` and `stable` on one image;
/// - `multi`: `v1`, an index over linux/amd64 and linux/arm64.
fn populate(s: &Storage) {
    let web1 = oci_image("linux/amd64", "2024-01-01T00:00:00Z", "web 1.0");
    s.push("web", &["1.0"], &web1);
    let subject = Manifest::from(&web1);
    let signature = cosign("web", &web1.digest, Cosign::Signature, "web 1.0");
    push_manifest(
        s,
        "web",
        &[&cosign_tag(&web1.digest, Cosign::Signature)],
        &signature,
    );
    let sbom = referrer(
        &subject,
        "application/spdx+json",
        br#"{"spdxVersion":"SPDX-2.3","name":"web 1.0"}"#,
    );
    push_manifest(s, "web", &[], &sbom);
    let fallback = artifacts::referrers_fallback(&[sbom]);
    push_manifest(s, "web", &[&digest_tag(&web1.digest)], &fallback);
    let web2 = oci_image("linux/amd64", "2024-05-06T07:08:09Z", "web 2.0");
    s.push("web", &["2.0", "latest"], &web2);
    s.push(
        "web",
        &["pr-17"],
        &oci_image("linux/amd64", "2024-02-17T00:00:00Z", "web pr-17"),
    );
    s.push(
        "web",
        &["pr-18"],
        &oci_image("linux/amd64", "2024-02-18T00:00:00Z", "web pr-18"),
    );
    s.push(
        "team/api",
        &["v1", "stable"],
        &image("linux/amd64", "2024-03-01T00:00:00Z", "team/api v1"),
    );
    s.push_index(
        "multi",
        &["v1"],
        &[
            image("linux/amd64", "2024-04-01T00:00:00Z", "multi v1"),
            image("linux/arm64", "2024-04-01T00:00:00Z", "multi v1"),
        ],
    );
}

/// Stores `manifest` and its blobs in `repository`, tagged with `tags`.
fn push_manifest(s: &Storage, repository: &str, tags: &[&str], manifest: &Manifest) {
    for blob in &manifest.blobs {
        s.layer(repository, blob);
    }
    let digest = s.manifest(repository, &manifest.bytes);
    for tag in tags {
        s.tag(repository, tag, &digest);
    }
}

/// Adds user `ci` to the registry's htpasswd (Distribution reads the file again
/// when it changes).
fn add_ci_user(registry: &TestRegistry) {
    let out = Command::new("htpasswd")
        .args(["-Bbn", "-C", "4", CI_USER, CI_PASSWORD])
        .output()
        .expect("htpasswd is installed (apache2-utils; scripts/test installs it)");
    assert!(out.status.success());
    let path = registry.dir.path().join("htpasswd");
    let mut htpasswd = std::fs::read_to_string(&path).unwrap();
    htpasswd += String::from_utf8(out.stdout).unwrap().trim();
    htpasswd += "\n";
    std::fs::write(&path, htpasswd).unwrap();
}

/// Runs `command` (an example's text, or the part of it that runs here) as the
/// examples' reader would, in `home`, with `bus` as the session's D-Bus.
fn run(command: &str, host: &str, ca: &Path, home: &Path, bus: &str) -> std::process::Output {
    let command = if command.contains("regctl pull-secret ") {
        command.to_string()
    } else {
        command.replace(EXAMPLE_HOST, host)
    };
    let bin = Path::new(env!("CARGO_BIN_EXE_regctl")).parent().unwrap();
    Command::new("sh")
        .arg("-c")
        .arg(&command)
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("HOME", home)
        .env("XDG_RUNTIME_DIR", home.join("run"))
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .env("SSL_CERT_FILE", ca)
        .env("REGCTL_USERNAME", CI_USER)
        .env("REGCTL_PASSWORD", CI_PASSWORD)
        .env("REGISTRY_PASSWORD", CI_PASSWORD)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// The text of `file` (a path from the crate's root).
fn read(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The examples of every file of [`FILES`], in order.
fn all_examples() -> Vec<Example> {
    let mut all = Vec::new();
    let mut texts = String::new();
    for &file in FILES {
        let text = read(file);
        all.extend(examples(file, &text));
        texts += &text;
    }
    for (line, _) in SKIPPED {
        assert!(
            texts.contains(&format!("$ {line}")),
            "SKIPPED names `{line}`, which no example has any more: take it out"
        );
    }
    all
}

#[test]
fn every_example_of_the_readme_and_docs_is_what_regctl_prints() {
    let examples = all_examples();
    let registry = TestRegistry::start_with(Options::default(), populate);
    add_ci_user(&registry);
    let keyring = SecretService::start();
    let home = tempfile::tempdir().unwrap();
    let host = format!("{REAL_NAME}:{}", registry.port);
    let mut failures = Vec::new();
    let mut ran = 0;
    for example in examples {
        let (command, stdout_shown) = match plan(&example.command) {
            Plan::Whole(command) => (command, true),
            Plan::StderrOf(command) => (command, false),
            Plan::Skip(_) => continue,
        };
        ran += 1;
        let out = run(&command, &host, &registry.ca, home.path(), &keyring.address);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = stdout_shown.then_some(&*stdout);
        let shown = as_shown(stdout, &stderr, &host, home.path());
        let code = out.status.code().unwrap_or(-1);
        let lines_match = shown.len() == example.output.len()
            && example
                .output
                .iter()
                .zip(&shown)
                .all(|(expected, real)| pattern(expected).is_match(real));
        if code != expected_code(&example.command) || !lines_match {
            failures.push(format!(
                "{}:{} $ {}\n--- the example shows:\n{}\n--- regctl printed ({}exit {code}; digests shortened):\n{}\n",
                example.file,
                example.line,
                example.command,
                example.output.join("\n"),
                if stdout_shown { "" } else { "stderr only; " },
                shortened(&shown.join("\n")),
            ));
        }
    }
    assert!(ran >= 20, "only {ran} examples were run");
    assert!(
        failures.is_empty(),
        "{} of {ran} examples differ from what regctl prints:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// README promises an example of every command: each subcommand the CLI defines
/// is run by a `$ ` line of README that the session runs.
#[test]
fn the_readme_shows_every_command() {
    let readme = examples("README.md", &read("README.md"));
    for sub in Cli::command().get_subcommands() {
        let name = sub.get_name();
        if name == "help" {
            continue;
        }
        let runs_it = |example: &Example| {
            !matches!(plan(&example.command), Plan::Skip(_))
                && example
                    .command
                    .split('|')
                    .any(|stage| stage.split_whitespace().take(2).eq(["regctl", name]))
        };
        assert!(
            readme.iter().any(runs_it),
            "README.md has no example that runs `regctl {name}`"
        );
    }
}

#[test]
fn the_rules_read_the_readme_as_documented() {
    let readme =
        "text\n```sh\n$ regctl ls x\na\nb\n$ regctl rm y # exit 4\n```\n```sh\nnot run\n```\n";
    let found = examples("README.md", readme);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].output, ["a", "b"]);
    assert!(found[1].output.is_empty());
    assert_eq!(expected_code(&found[1].command), 4);
    assert_eq!(expected_code(&found[0].command), 0);
    let login = "printf x | regctl login h -u ci --password-stdin";
    assert_eq!(plan(login), Plan::Whole(login.into()));
    assert_eq!(
        plan("regctl pull-secret h --name r | kubectl apply -f -"),
        Plan::StderrOf("regctl pull-secret h --name r".into())
    );
    assert!(matches!(
        plan("docker push h/app:v1    # asks docker-credential-regctl"),
        Plan::Skip(_)
    ));
    assert!(matches!(
        plan("kubectl get secret | regctl ls h"),
        Plan::Skip(_)
    ));

    let digest = format!("sha256:0123{}cdef", "a".repeat(56));
    assert!(pattern("x sha256:0123…cdef y").is_match(&format!("x {digest} y")));
    assert!(!pattern("x sha256:0124…cdef y").is_match(&format!("x {digest} y")));
    assert!(!pattern("x sha256:0123…cdef").is_match(&format!("x {digest} y")));
    assert!(
        pattern("[sha256-0123…cdef.sig]").is_match(&format!("[{}.sig]", digest.replace(':', "-")))
    );
    assert!(pattern("in 1 ms").is_match("in 27 ms"));
    assert!(pattern("until <date>;").is_match("until Nov  6 06:48:57 2027 +00:00;"));
    assert!(!pattern("a.b").is_match("axb"));
    assert!(pattern("n -> <addresses>").is_match("n -> 127.0.0.1, ::1"));
    assert_eq!(shortened(&digest), "sha256:0123…cdef");
}
