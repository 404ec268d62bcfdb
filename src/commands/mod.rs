//! One module per subcommand; each composes the registry client and renders its
//! result. Errors carry context here (anyhow); exit codes come from [`Exit`].

mod context;
mod cp;
mod deletion;
mod digest;
mod doctor;
mod du;
mod inspect;
mod login;
mod logout;
mod ls;
mod prompt;
mod prune;
mod prune_report;
mod prune_rules;
mod pull_secret;
mod rm;
mod setup;
mod tag;

use std::process::ExitCode;

use context::Invocation;

use crate::cli::{Cli, Command};
use crate::credentials::CredentialError;
use crate::exit::Exit;
use crate::interrupt::Interrupt;

/// Runs the parsed command line and returns the process exit status.
pub async fn run(cli: Cli) -> ExitCode {
    crate::hints::install();
    let interrupt = match Interrupt::listen(cli.global.deadline) {
        Ok(interrupt) => interrupt,
        Err(e) => {
            crate::output::to_stderr(format_args!("error: cannot listen for Ctrl-C: {e}"));
            return Exit::Failure.into();
        }
    };
    // A global flag a command does not use is refused there, never ignored.
    let formatless = match &cli.command {
        Command::PullSecret(_) => Some("pull-secret prints a Secret; choose it with -o yaml|json"),
        Command::Login(_) | Command::Logout(_) => Some("login and logout print no data"),
        _ => None,
    };
    if let (Some(_), Some(why)) = (cli.global.format, formatless) {
        crate::output::to_stderr(format_args!("error: --format does not apply here: {why}"));
        return Exit::Usage.into();
    }
    if let (Command::Setup(_), Some(_)) = (&cli.command, &cli.global.username) {
        crate::output::to_stderr(format_args!(
            "error: --username does not apply to setup: name the htpasswd user with --user"
        ));
        return Exit::Usage.into();
    }
    let run_credentials = !matches!(
        cli.command,
        Command::Login(_) | Command::Logout(_) | Command::Setup(_)
    );
    let result = match Invocation::from_args(&cli.global, interrupt, run_credentials) {
        Ok(ctx) => {
            let command = async {
                match &cli.command {
                    Command::Ls(args) => ls::run(args, &ctx).await,
                    Command::Digest(args) => digest::run(args, &ctx).await,
                    Command::Rm(args) => rm::run(args, &ctx).await,
                    Command::Prune(args) => prune::run(args, cli.global.password_stdin, &ctx).await,
                    Command::PullSecret(args) => pull_secret::run(args, &ctx).await,
                    Command::Login(args) => {
                        let global = &cli.global;
                        login::run(
                            args,
                            global.username.as_deref(),
                            global.password_stdin,
                            &ctx,
                        )
                        .await
                    }
                    Command::Logout(args) => logout::run(args, &ctx).await,
                    Command::Du(args) => du::run(args, &ctx).await,
                    Command::Inspect(args) => inspect::run(args, &ctx).await,
                    Command::Doctor(args) => doctor::run(args, &ctx).await,
                    Command::Cp(args) => cp::run(args, &ctx).await,
                    Command::Tag(args) => tag::run(args, &ctx).await,
                    Command::Setup(args) => {
                        setup::run(&args.what, cli.global.password_stdin, &ctx).await
                    }
                }
            };
            // Until a part of the command takes charge of Ctrl-C (a listing, a
            // prompt, deletions), it stops the run where it is: only reads (and
            // the deletion-support probe, which changes nothing) happen then.
            // The command is polled first, so that a part of it that waits for
            // Ctrl-C itself (a prompt putting the terminal back) sees it first.
            let result = tokio::select! {
                biased;
                result = command => result,
                () = ctx.interrupt.wait_unclaimed() => {
                    // Only reads happened: nothing was changed. Say whether
                    // the output was begun, so a script knows it is cut short.
                    ctx.printer.note(if crate::output::wrote_stdout() {
                        "stopped: nothing was changed; the output is incomplete"
                    } else {
                        "stopped before any change or output"
                    });
                    Ok(ctx.interrupt.exit())
                }
            };
            // A credential helper stopped by the interrupt ends the run as
            // the interrupt does, wherever it ran.
            match result {
                Err(e) if stopped_helper(&e) => {
                    ctx.printer.note(chain(&e));
                    Ok(ctx.interrupt.exit())
                }
                other => other,
            }
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(exit) => exit.into(),
        Err(err) if is_broken_pipe(&err) => Exit::Success.into(),
        Err(err) => {
            crate::output::to_stderr(format_args!("error: {}", chain(&err)));
            Exit::for_error(&err).into()
        }
    }
}

/// `context: cause: cause`, without repeated parts (the registry library's one
/// cause-chain formatter).
pub fn chain(err: &anyhow::Error) -> String {
    crate::registry::error::cause_chain(err.as_ref())
}

fn stopped_helper(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        matches!(
            c.downcast_ref::<CredentialError>(),
            Some(CredentialError::Interrupted { .. })
        )
    })
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
