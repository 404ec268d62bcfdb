//! `regctl setup registry|client|proxy|check`: plans the files with
//! [`crate::setup`], writes them (never over a file without `--force`), and
//! says what each is for and what is left to do by hand.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use serde::Serialize;

use super::context::Invocation;
use crate::cli::{SetupClientArgs, SetupCommand, SetupProxyArgs, SetupRegistryArgs};
use crate::exit::{Exit, UsageError};
use crate::output::{escape, json_pretty, render_data, write_stdout, Format, Row};
use crate::setup::check::{self, Finding};
use crate::setup::client::{self, Step};
use crate::setup::files::{write_all, Planned};
use crate::setup::proxy::{self, ProxySettings};
use crate::setup::registry_kit::RegistryKit;

/// One file written.
#[derive(Debug, Serialize)]
struct Written {
    path: String,
    what: String,
    mode: String,
}

impl Written {
    fn of(file: &Planned) -> Self {
        Written {
            path: file.path.display().to_string(),
            what: file.what.clone(),
            mode: format!("{:o}", file.mode),
        }
    }
}

impl Row for Written {
    fn headers(&self) -> Vec<&'static str> {
        vec!["FILE", "MODE", "WHAT"]
    }

    fn cells(&self) -> Vec<String> {
        vec![self.path.clone(), self.mode.clone(), self.what.clone()]
    }

    fn plain(&self) -> String {
        self.path.clone()
    }
}

/// Runs `regctl setup ...`; `password_stdin` is the global flag.
pub async fn run(what: &SetupCommand, password_stdin: bool, ctx: &Invocation) -> Result<Exit> {
    match what {
        SetupCommand::Registry(args) => registry(args, password_stdin, ctx),
        SetupCommand::Client(args) => client(args, ctx),
        SetupCommand::Proxy(args) => proxy(args, ctx),
        SetupCommand::Check(args) => {
            let findings = check::check(&args.dir, &args.root, &args.hosts)
                .map_err(|e| UsageError(e.to_string()))?;
            print_findings(&findings, ctx.format)?;
            if findings.is_empty() {
                ctx.printer
                    .note(format!("no trap found in {}", args.dir.display()));
                Ok(Exit::Success)
            } else {
                Ok(Exit::Failure)
            }
        }
    }
}

fn registry(args: &SetupRegistryArgs, password_stdin: bool, ctx: &Invocation) -> Result<Exit> {
    let dir = std::path::absolute(&args.dir).context("the set-up's folder")?;
    let storage = match &args.storage {
        Some(path) => std::path::absolute(path).context("the storage folder")?,
        None => dir.join("data"),
    };
    let kit = RegistryKit {
        dir,
        hosts: args.hosts.clone(),
        port: args.port,
        listen: args.listen.clone(),
        user: args.user.clone(),
        storage,
        days: args.days,
        seed_style: args.seed_style,
        cost: args.bcrypt_cost,
        serve_binary: args.registry_bin.clone().unwrap_or_else(serve_binary),
    };
    let (password, generated) = if password_stdin {
        (super::context::password_from_stdin()?, false)
    } else {
        (crate::setup::htpasswd::generate_password()?, true)
    };
    let files = kit
        .files(&password)
        .map_err(|e| UsageError(e.to_string()))?;
    write_all(&files, &kit.dir, args.force)?;
    let commands = kit.commands();
    if ctx.format == Format::Json {
        #[derive(Serialize)]
        struct Report<'a> {
            files: Vec<Written>,
            commands: &'a crate::setup::registry_kit::Commands,
        }
        let report = Report {
            files: files.iter().map(Written::of).collect(),
            commands: &commands,
        };
        write_stdout(format!("{}\n", json_pretty(&report)?))?;
    } else {
        let rows: Vec<Written> = files.iter().map(Written::of).collect();
        render_data(ctx.format, &rows)?;
    }
    if args.seed_style {
        ctx.printer.warn(
            "--seed-style: server.crt is its own CA (CA:TRUE), as the seed's openssl line makes it; \
             rustls clients (regctl among them) and Firefox refuse it as a server certificate",
        );
    }
    if generated {
        ctx.printer.note(format!(
            "password for {} (shown this once; htpasswd holds only its bcrypt hash): {}",
            escape(&kit.user),
            password.expose()
        ));
    }
    ctx.printer.note(format!(
        "run it: {}\n   or: {}\ntrust it on each client: {}\ncollect garbage after deleting (registry stopped): {}",
        commands.systemd, commands.docker_run, commands.trust, commands.garbage_collect
    ));
    Ok(Exit::Success)
}

/// `docker-registry` (Debian's name) or `registry`, as found on PATH.
fn serve_binary() -> PathBuf {
    crate::file::on_path("docker-registry")
        .or_else(|| crate::file::on_path("registry"))
        .unwrap_or_else(|| PathBuf::from("/usr/bin/docker-registry"))
}

fn client(args: &SetupClientArgs, ctx: &Invocation) -> Result<Exit> {
    let address = ctx.registry_host(args.registry.trim_end_matches('/'))?;
    let pem = crate::file::read(&args.ca)
        .map_err(|e| UsageError(format!("--ca {}: {e}", args.ca.display())))?;
    client::check_ca(&args.ca.display().to_string(), &pem)
        .map_err(|e| UsageError(e.to_string()))?;
    let plan = client::plan(&address, &pem, &args.root)?;
    if args.print {
        print_files(&plan.files, &plan.steps, ctx.format)?;
        return Ok(Exit::Success);
    }
    write_all(&plan.files, &args.root, args.force)?;
    let rows: Vec<Written> = plan.files.iter().map(Written::of).collect();
    render_data(ctx.format, &rows)?;
    for step in plan.steps {
        if step.updates_system_store {
            update_ca_certificates(ctx);
        } else {
            ctx.printer
                .note(format!("{}:\n{}", step.what, step.text.trim_end()));
        }
    }
    Ok(Exit::Success)
}

/// Runs `update-ca-certificates` for the system store; a failure is a warning
/// (the other clients are set up).
fn update_ca_certificates(ctx: &Invocation) {
    match std::process::Command::new("update-ca-certificates").output() {
        Ok(out) if out.status.success() => ctx.printer.note("update-ca-certificates: done"),
        Ok(out) => ctx.printer.warn(format!(
            "update-ca-certificates failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => ctx.printer.warn(format!(
            "update-ca-certificates cannot run ({e}): the system store does not have the CA yet"
        )),
    }
}

fn proxy(args: &SetupProxyArgs, ctx: &Invocation) -> Result<Exit> {
    let settings = ProxySettings {
        http: args.http.clone(),
        https: args.https.clone(),
        no_proxy: args.no_proxy.clone(),
    };
    let plan = proxy::plan(&settings, &args.root).map_err(|e| UsageError(e.to_string()))?;
    for warning in &plan.warnings {
        ctx.printer.warn(warning);
    }
    if args.write {
        write_all(&plan.files, &args.root, args.force)?;
        let rows: Vec<Written> = plan.files.iter().map(Written::of).collect();
        render_data(ctx.format, &rows)?;
    } else {
        print_files(&proxy::shown(&plan.files), &[], ctx.format)?;
    }
    ctx.printer.note(format!("then: {}", plan.reload));
    Ok(Exit::Success)
}

/// Each file with its contents, then each step, as text or one JSON object.
fn print_files(files: &[Planned], steps: &[Step], format: Format) -> Result<()> {
    if format == Format::Json {
        #[derive(Serialize)]
        struct Shown<'a> {
            path: String,
            what: &'a str,
            mode: String,
            contents: String,
        }
        #[derive(Serialize)]
        struct Report<'a> {
            files: Vec<Shown<'a>>,
            steps: &'a [Step],
        }
        let report = Report {
            files: files
                .iter()
                .map(|f| Shown {
                    path: f.path.display().to_string(),
                    what: &f.what,
                    mode: format!("{:o}", f.mode),
                    contents: String::from_utf8_lossy(&f.contents).into_owned(),
                })
                .collect(),
            steps,
        };
        write_stdout(format!("{}\n", json_pretty(&report)?))?;
        return Ok(());
    }
    let mut text = String::new();
    for file in files {
        text += &format!(
            "# {} ({}, mode {:o})\n",
            file.path.display(),
            file.what,
            file.mode
        );
        text += &String::from_utf8_lossy(&file.contents);
        text += "\n";
    }
    for step in steps {
        text += &format!("# {}\n{}\n", step.what, step.text.trim_end());
    }
    write_stdout(escaped_lines(&text))?;
    Ok(())
}

/// Findings as text blocks (fixes may span lines) or a JSON array.
fn print_findings(findings: &[Finding], format: Format) -> Result<()> {
    if format == Format::Json {
        write_stdout(format!("{}\n", json_pretty(findings)?))?;
        return Ok(());
    }
    let mut text = String::new();
    for finding in findings {
        text += &format!("{}: {}\n", finding.file, finding.problem);
        let mut lines = finding.fix.lines();
        text += &format!("  fix: {}\n", lines.next().unwrap_or_default());
        for line in lines {
            text += &format!("       {line}\n");
        }
    }
    write_stdout(escaped_lines(&text))?;
    Ok(())
}

/// `text` with every line escaped for a terminal (newlines kept).
fn escaped_lines(text: &str) -> String {
    text.split('\n').map(escape).collect::<Vec<_>>().join("\n")
}
