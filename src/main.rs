//! The `regctl` binary: parse, run, exit.

use std::process::ExitCode;

use clap::Parser as _;

// mimalloc: a listing allocates and frees a few dozen small blocks per request
// (mostly in the HTTP stack), and glibc's malloc took 11% of the client's CPU on
// a fast registry. mimalloc cuts that CPU by 10% for ~10 MB more peak memory
// (measured in BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    let exit = runtime.block_on(regctl::run(cli));
    // The outcome is known: leave without waiting long for blocking work still
    // running (a name lookup on the blocking pool or a keyring call, abandoned by
    // Ctrl-C or --deadline), which dropping the runtime would wait for, however
    // long. The moment given lets a credential helper's thread, which sees the
    // interrupt within milliseconds, kill its helper rather than leave it behind.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    exit
}
