//! `regctl setup`'s arguments: one Args struct per kind of set-up.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::setup::htpasswd;

/// `regctl setup`.
#[derive(Debug, Args)]
pub struct SetupArgs {
    /// What to set up.
    #[command(subcommand)]
    pub what: SetupCommand,
}

/// The set-ups.
#[derive(Debug, Subcommand)]
pub enum SetupCommand {
    /// Write a private registry's files into DIR: a CA and a server certificate it signs, htpasswd, config.yml (deletion on), a systemd unit, a README.
    #[command(
        after_help = "Examples:\n  regctl setup registry /srv/registry --host registry.example --host 10.0.0.5 --user ci\n  printf '%s' \"$PASSWORD\" | regctl setup registry /srv/registry --host registry.example --password-stdin\n\n\
The password is read from standard input with --password-stdin; otherwise one is\n\
generated and printed once on stderr. Nothing is overwritten without --force\n\
(exit 6 names the first file that exists)."
    )]
    Registry(SetupRegistryArgs),
    /// Install a registry's CA where docker, containerd, podman/skopeo and the system store look; print the k3s stanza.
    #[command(
        after_help = "Examples:\n  regctl setup client registry.example:5000 --ca /srv/registry/ca.crt\n  regctl setup client registry.example:5000 --ca ca.crt --root /build/rootfs\n  regctl setup client registry.example:5000 --ca ca.crt --print"
    )]
    Client(SetupClientArgs),
    /// Print (or write) the systemd drop-ins that give docker and containerd a proxy; NO_PROXY checked as Go reads it.
    #[command(
        after_help = "Examples:\n  regctl setup proxy --http http://proxy.example:3128 --https http://proxy.example:3128 --no-proxy registry.example,10.0.0.0/8\n  regctl setup proxy --https http://proxy.example:3128 --no-proxy registry.example --write"
    )]
    Proxy(SetupProxyArgs),
    /// Read an existing set-up (the seed's or regctl's) and report each trap with its fix; exit 1 when any.
    #[command(
        after_help = "Examples:\n  regctl setup check /srv/registry\n  regctl setup check ./registry --root /"
    )]
    Check(SetupCheckArgs),
}

/// `regctl setup registry`.
#[derive(Debug, Args)]
pub struct SetupRegistryArgs {
    /// The folder to write into (created when missing).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// A name clients reach the registry by (repeat for each: DNS names and IP
    /// addresses); the first names the registry.
    #[arg(long = "host", value_name = "NAME", required = true)]
    pub hosts: Vec<String>,
    /// The port clients use.
    #[arg(long, default_value_t = 5000)]
    pub port: u16,
    /// The address the registry listens on [default: :PORT, every interface].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// The user of the htpasswd file.
    #[arg(long, default_value = "admin", value_name = "NAME")]
    pub user: String,
    /// Where the registry keeps images [default: DIR/data].
    #[arg(long, value_name = "PATH")]
    pub storage: Option<PathBuf>,
    /// The certificates' lifetime, in days.
    #[arg(long, default_value_t = 825, value_parser = clap::value_parser!(u32).range(1..=36500))]
    pub days: u32,
    /// Write the seed's single self-signed certificate (CA:TRUE) instead of a
    /// CA and a server certificate; rustls and Firefox refuse it.
    #[arg(long)]
    pub seed_style: bool,
    /// bcrypt's cost (Distribution checks it on every request).
    #[arg(long, default_value_t = htpasswd::DEFAULT_COST, value_parser = clap::value_parser!(u32).range(4..=31))]
    pub bcrypt_cost: u32,
    /// The registry program the unit runs [default: docker-registry, else
    /// registry, as found on PATH].
    #[arg(long, value_name = "PATH")]
    pub registry_bin: Option<PathBuf>,
    /// Replace files that exist.
    #[arg(long)]
    pub force: bool,
}

/// `regctl setup client`.
#[derive(Debug, Args)]
pub struct SetupClientArgs {
    /// The registry as clients name it: HOST:PORT (HOST alone for 443).
    #[arg(value_name = "HOST:PORT")]
    pub registry: String,
    /// The CA certificate to trust (ca.crt of regctl setup registry).
    #[arg(long, value_name = "FILE")]
    pub ca: PathBuf,
    /// Write under this root instead of / (an image build, a test).
    #[arg(long, default_value = "/", value_name = "PATH")]
    pub root: PathBuf,
    /// Show each file and its contents; write nothing.
    #[arg(long)]
    pub print: bool,
    /// Replace files that exist.
    #[arg(long)]
    pub force: bool,
}

/// `regctl setup proxy`.
#[derive(Debug, Args)]
pub struct SetupProxyArgs {
    /// HTTP_PROXY: the proxy for plain-HTTP requests.
    #[arg(long, value_name = "URL")]
    pub http: Option<String>,
    /// HTTPS_PROXY: the proxy for HTTPS requests (registries).
    #[arg(long, value_name = "URL")]
    pub https: Option<String>,
    /// NO_PROXY: hosts, .domains, addresses and CIDRs reached directly, comma-separated.
    #[arg(long, value_name = "LIST")]
    pub no_proxy: Option<String>,
    /// Write the drop-ins (default: print them).
    #[arg(long)]
    pub write: bool,
    /// With --write: write under this root instead of /.
    #[arg(long, default_value = "/", value_name = "PATH", requires = "write")]
    pub root: PathBuf,
    /// With --write: replace files that exist.
    #[arg(long, requires = "write")]
    pub force: bool,
}

/// `regctl setup check`.
#[derive(Debug, Args)]
pub struct SetupCheckArgs {
    /// The set-up's folder (config.yml, certificates, htpasswd; two levels deep).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Look for the clients' trust under this root instead of /.
    #[arg(long, default_value = "/", value_name = "PATH")]
    pub root: PathBuf,
    /// A name clients reach the registry by (HOST or HOST:PORT; repeatable):
    /// the certificate must name each in its subjectAltName.
    #[arg(long = "host", value_name = "NAME")]
    pub hosts: Vec<String>,
}
