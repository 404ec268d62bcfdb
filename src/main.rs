//! The `regctl` binary: parse, run, exit.

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = match regctl::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                regctl::exit::Exit::Usage.into()
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    // One thread: the listing and its connections on the same thread, without a
    // handoff per request (measured in BENCHMARKS.md); blocking work (credential
    // helpers, the keyring, prompts) runs on threads of its own.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            regctl::output::to_stderr(format_args!("error: cannot start the async runtime: {e}"));
            return regctl::exit::Exit::Failure.into();
        }
    };
    runtime.block_on(regctl::run(cli))
}
