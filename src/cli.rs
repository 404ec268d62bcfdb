//! The command line: global flags and one `Args` struct per subcommand.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Exit codes, shown at the end of `--help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  other failure (network, TLS, unexpected answer)
  2  usage error or invalid input (no request is made)
  3  authentication or authorization refused
  4  not found (repository, tag or digest)
  5  the registry does not support the operation";

/// List, resolve and safely delete images in private container registries.
#[derive(Debug, Parser)]
#[command(name = "regctl", version, about, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    /// Flags accepted before or after the subcommand.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Connection, credential and output flags, shared by every subcommand.
#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// Trust this CA certificate (PEM) in addition to the system's roots; repeatable.
    #[arg(long, global = true, value_name = "PATH")]
    pub ca_file: Vec<PathBuf>,

    /// Docker-style certificate folder: <DIR>/<host:port>/ca.crt, client.cert, client.key.
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        default_value = "/etc/docker/certs.d"
    )]
    pub certs_dir: PathBuf,

    /// Do not verify the registry's TLS certificate (a warning is printed).
    #[arg(long, global = true)]
    pub insecure: bool,

    /// Talk plain HTTP instead of HTTPS.
    #[arg(long, global = true)]
    pub plain_http: bool,

    /// User name; the password is read from standard input (--password-stdin).
    #[arg(short = 'u', long, global = true, value_name = "USER")]
    pub username: Option<String>,

    /// Read the password from standard input.
    #[arg(long, global = true)]
    pub password_stdin: bool,

    /// How many requests may run at once.
    #[arg(long, global = true, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,

    /// Per-request timeout in seconds.
    #[arg(long, global = true, default_value_t = 30, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,

    /// Output format [default: table on a terminal, plain otherwise].
    #[arg(long, global = true, value_enum)]
    pub format: Option<Format>,

    /// Log each request (method, URL, status, time) to stderr, credentials redacted.
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

/// How data is written to stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One item per line, for scripts.
    Plain,
    /// An aligned table, for people.
    Table,
    /// One JSON document.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List every REGISTRY/REPOSITORY:TAG, sorted.
    #[command(
        after_help = "Examples:\n  regctl ls registry.example:5000\n  regctl ls registry.example:5000/team --digests --format json"
    )]
    Ls(LsArgs),
    /// Print the digest of each reference, in the order given.
    #[command(
        after_help = "Examples:\n  regctl digest registry.example:5000/app:v1\n  regctl digest registry.example:5000/app:v1 --platform linux/arm64"
    )]
    Digest(DigestArgs),
}

/// `regctl ls`.
#[derive(Debug, Args)]
pub struct LsArgs {
    /// REGISTRY[/REPOSITORY-PREFIX], e.g. `localhost:5000` or `localhost:5000/team`.
    pub target: String,
    /// Also resolve each tag's digest.
    #[arg(long)]
    pub digests: bool,
}

/// `regctl digest`.
#[derive(Debug, Args)]
pub struct DigestArgs {
    /// References: REGISTRY/REPOSITORY[:TAG][@DIGEST].
    #[arg(required = true, value_name = "REF")]
    pub references: Vec<String>,
    /// Resolve the child of a multi-platform index for os/arch[/variant].
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
}
