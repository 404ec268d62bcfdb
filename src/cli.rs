//! The command line: global flags and one `Args` struct per subcommand.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

// The defaults the flags show are the library's own.
use crate::registry::{limits, retry, tls};

pub use crate::output::Format;

mod setup;
pub use setup::{
    SetupArgs, SetupCheckArgs, SetupClientArgs, SetupCommand, SetupProxyArgs, SetupRegistryArgs,
};

/// Where credentials come from, and the exit codes, shown at the end of `--help`.
pub const EXIT_CODES_HELP: &str = "\
Credentials, per registry, the first found:
  --username with --password-stdin; REGCTL_USERNAME and REGCTL_PASSWORD;
  the OS keyring, for a registry `regctl login` stored there (recorded in
  ~/.config/regctl/config.json); docker's config ($DOCKER_CONFIG/config.json,
  else ~/.docker/config.json): credHelpers[registry], then credsStore
  (docker-credential-<name>), then auths. `regctl login` stores in the helper
  docker would ask, else the OS keyring, else docker's auths.

Trust: the system's store (or SSL_CERT_FILE / SSL_CERT_DIR), --ca-file, and
  <certs-dir>/<host:port>/*.crt (default /etc/docker/certs.d).

Exit codes:
  0  success
  1  other failure (network, TLS, unexpected answer, --deadline passed)
  2  usage error or invalid input (no request is made)
  3  authentication or authorization refused
  4  not found (repository, tag or digest)
  5  the registry does not support the operation
  6  a change refused for safety or not confirmed (nothing done for it)
  130  interrupted (Ctrl-C) after reporting what was done";

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
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Trust this CA certificate (PEM) in addition to the system's roots; repeatable.
    #[arg(long, global = true, value_name = "PATH")]
    pub ca_file: Vec<PathBuf>,

    /// Docker-style certificate folder: <DIR>/<host:port>/ca.crt, client.cert, client.key.
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        default_value = tls::DEFAULT_CERTS_DIR
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
    #[arg(long, global = true, default_value_t = limits::DEFAULT_MAX_IN_FLIGHT as u16, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,

    /// Per-request timeout in seconds.
    #[arg(long, global = true, default_value_t = limits::DEFAULT_TIMEOUT.as_secs(), value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,

    /// Stop the whole run after this many seconds, as Ctrl-C does (deletions in
    /// flight finish and are reported); exit 1.
    #[arg(long, global = true, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub deadline: Option<u64>,

    /// Retries of idempotent requests on 408, 429, 5xx and connection resets.
    #[arg(long, global = true, default_value_t = retry::DEFAULT_RETRIES, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=10))]
    pub retries: u32,

    /// The most repositories (or tags of one repository) a listing may hold: a
    /// registry whose pagination never ends is stopped here.
    #[arg(long, global = true, default_value_t = limits::DEFAULT_MAX_LIST_ITEMS as u64, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_list_items: u64,

    /// Output format [default: table on a terminal, plain otherwise].
    #[arg(long, global = true, value_enum)]
    pub format: Option<Format>,

    /// Log each request (method, URL, status, time) to stderr, credentials redacted.
    #[arg(short, long, global = true)]
    pub verbose: bool,
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
    /// Delete manifests by digest, or remove tags without touching the tags that share their manifest.
    #[command(
        after_help = "Examples:\n  regctl rm registry.example:5000/app:v1 --dry-run\n  regctl rm registry.example:5000/app:v1 registry.example:5000/app@sha256:... --yes\n\n\
Removing one tag of a manifest that other tags share, on a registry without tag\n\
deletion (Distribution), moves the tag to a tiny placeholder image and deletes\n\
that: for that moment (one round trip) a pull of the tag gets the placeholder,\n\
and a registry webhook sees a push and a delete."
    )]
    Rm(RmArgs),
    /// Delete images by retention rules, decided per image (never a tag whose image stays): keep the newest N, delete older than a duration, match or exclude tag names.
    #[command(
        after_help = "Examples:\n  regctl prune registry.example:5000/team --keep 10 --dry-run\n  regctl prune registry.example:5000/app --older-than 30d --exclude '^(latest|stable)$' --yes\n\nREGEX matches anywhere in the tag name; anchor it with ^...$ for whole names."
    )]
    Prune(PruneArgs),
    /// Print a Kubernetes pull secret (kubernetes.io/dockerconfigjson) built from the credential stored for a registry.
    #[command(
        name = "pull-secret",
        after_help = "Examples:\n  regctl pull-secret registry.example:5000 --name regcred > regcred.yaml\n  regctl pull-secret registry.example:5000 --name regcred --namespace ci -o json | kubectl apply -f -\n\nThe credential is looked up as for every command: flags, REGCTL_USERNAME/REGCTL_PASSWORD, the OS keyring (regctl login), docker's config and its credential helpers."
    )]
    PullSecret(PullSecretArgs),
    /// Show what each manifest is: platforms, config, layers with sizes, attachments.
    #[command(
        after_help = "Examples:\n  regctl inspect registry.example:5000/app:v1\n  regctl inspect registry.example:5000/app:v1 --format json\n  regctl inspect registry.example:5000/app:v1 --raw | sha256sum"
    )]
    Inspect(InspectArgs),
    /// Show the space images take, per repository or per image, as the registry's API sees it.
    #[command(
        after_help = "Examples:\n  regctl du registry.example:5000\n  regctl du registry.example:5000/team --by tag --format json\n\n\
Sizes come from the manifests' descriptors (no blob is downloaded): each blob\n\
(manifest, config, layer) counts once per repository, and once in the total.\n\
UNIQUE is what no other repository (or image, with --by tag) of the scan uses:\n\
roughly what deleting it gives back. Untagged manifests that no tag reaches are\n\
invisible to the API and not counted."
    )]
    Du(DuArgs),
    /// Diagnose a registry: name, TCP, TLS and its trust source, the API, proxy, auth, credentials, catalog, deletion, referrers, paging.
    #[command(
        after_help = "Examples:\n  regctl doctor registry.example:5000\n  regctl doctor registry.example:5000 --format json\n\nNothing on the registry is changed. Exit 0 when every check passes (warnings\nincluded), else the exit code of the first failure."
    )]
    Doctor(DoctorArgs),
    /// Copy images between registries and to or from OCI layout folders, keeping digests, signatures and SBOMs.
    #[command(
        after_help = "Examples:\n  regctl cp ci.example:5000/app:v1 prod.example:5000/app:v1\n  regctl cp registry.example:5000/app:v1 oci:backup/app:v1\n  regctl cp -r ci.example:5000/team prod.example:5000/team --tags '^v'\n\n\
Blobs go first, then manifests bottom-up, then tags: a copy cut short leaves no\n\
tag on a half image, and running it again sends only what is missing."
    )]
    Cp(CpArgs),
    /// Add tags to a manifest that is there: one manifest PUT each, no blob moves.
    #[command(
        after_help = "Examples:\n  regctl tag registry.example:5000/app:v1 stable v1.2\n  regctl tag registry.example:5000/app@sha256:... release"
    )]
    Tag(TagArgs),
    /// Check credentials against a registry, then store them where docker looks (or in the OS keyring).
    #[command(
        after_help = "Examples:\n  regctl login registry.example:5000 -u alice\n  printf '%s' \"$PASSWORD\" | regctl login registry.example:5000 -u ci --password-stdin\n  regctl login registry.example:5000 -u alice --store keyring\n\n\
Where it stores, unless --store says: docker's credential helper for the registry\n\
(credHelpers), else docker's default store (credsStore), else the OS keyring\n\
(recorded in ~/.config/regctl/config.json), else docker's config auths (the\n\
password only base64-encoded there; a warning says so). Nothing is stored when\n\
the registry refuses the credentials (exit 3)."
    )]
    Login(LoginArgs),
    /// Erase the credential stored for a registry (helper, OS keyring, docker's config).
    #[command(
        after_help = "Examples:\n  regctl logout registry.example:5000\n\nExit 4 when no credential was stored for the registry."
    )]
    Logout(LogoutArgs),
    /// Write what a private registry needs (certificates, htpasswd, config, unit), install client trust and proxy drop-ins, or check a set-up.
    #[command(
        after_help = "Examples:\n  regctl setup registry /srv/registry --host registry.example\n  regctl setup client registry.example:5000 --ca /srv/registry/ca.crt\n  regctl setup proxy --https http://proxy.example:3128 --no-proxy registry.example\n  regctl setup check /srv/registry"
    )]
    Setup(SetupArgs),
}

/// `regctl inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// References: REGISTRY/REPOSITORY[:TAG][@DIGEST]; the digest may be shortened to 12
    /// or more hex digits, as tables show it (resolved against the repository's tags).
    #[arg(required = true, value_name = "REF")]
    pub references: Vec<String>,
    /// Print the manifest's bytes exactly as served (their sha256 is the digest).
    #[arg(long, conflicts_with = "config")]
    pub raw: bool,
    /// Print the image's config blob exactly as served.
    #[arg(long)]
    pub config: bool,
    /// Inspect the child of a multi-platform index for os/arch[/variant] (with --raw or
    /// --config, that platform's manifest or config).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
}

/// `regctl du`.
#[derive(Debug, Args)]
pub struct DuArgs {
    /// REGISTRY, REGISTRY/PREFIX (the repository and those below it) or REGISTRY/REPOSITORY.
    pub target: String,
    /// One row per repository (with a total), or per tagged image.
    #[arg(long, value_enum, default_value = "repository")]
    pub by: DuBy,
}

/// How `regctl du` groups its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DuBy {
    /// One row per repository, and a total.
    Repository,
    /// One row per tagged image (an index with its children).
    Tag,
}

/// `regctl login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The registry, HOST[:PORT]. The user name is -u USER (asked on a terminal
    /// when missing); the password comes from --password-stdin or is asked,
    /// hidden, on a terminal.
    pub registry: String,
    /// Where to store the credential (default: the first available of helper,
    /// keyring, config).
    #[arg(long, value_enum, value_name = "STORE")]
    pub store: Option<StoreArg>,
}

/// Where `regctl login --store` keeps the credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StoreArg {
    /// The credential helper docker's config names (credHelpers for the registry, else credsStore).
    Helper,
    /// The OS keyring (Secret Service, Keychain, Credential Manager).
    Keyring,
    /// docker's config.json `auths` (base64-encoded, not encrypted).
    Config,
}

/// `regctl doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The registry, HOST[:PORT], or HOST[:PORT]/REPOSITORY to ask about that
    /// repository (deletion, referrers, paging) instead of the catalog's first.
    pub registry: String,
}

/// `regctl logout`.
#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The registry, HOST[:PORT].
    pub registry: String,
}

/// `regctl pull-secret`.
#[derive(Debug, Args)]
pub struct PullSecretArgs {
    /// The registry, HOST[:PORT], as pods name it in their images.
    pub registry: String,
    /// The Secret's name.
    #[arg(long)]
    pub name: String,
    /// The Secret's namespace (none: kubectl's current one when applied).
    #[arg(long)]
    pub namespace: Option<String>,
    /// How to print the Secret.
    #[arg(short = 'o', long, value_enum, default_value = "yaml")]
    pub output: SecretFormat,
}

/// How `pull-secret` prints the Secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SecretFormat {
    /// YAML, as `kubectl create secret ... -o yaml` prints it.
    Yaml,
    /// JSON, as `kubectl create secret ... -o json` prints it.
    Json,
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
    /// References: REGISTRY/REPOSITORY[:TAG][@DIGEST]; the digest may be shortened to 12
    /// or more hex digits, as tables show it (resolved against the repository's tags).
    #[arg(required = true, value_name = "REF")]
    pub references: Vec<String>,
    /// Resolve the child of a multi-platform index for os/arch[/variant].
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
}

/// `regctl rm`.
#[derive(Debug, Args)]
pub struct RmArgs {
    /// REGISTRY/REPOSITORY:TAG (removes that tag only) or REGISTRY/REPOSITORY@DIGEST
    /// (deletes the manifest and every tag on it); the digest may be shortened to 12 or
    /// more hex digits, as tables show it, when one tag's digest alone starts so.
    #[arg(required = true, value_name = "REF")]
    pub references: Vec<String>,
    /// Print the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Delete a digest even though an index references it.
    #[arg(long)]
    pub force: bool,
    /// Exit 0 when a reference is already gone.
    #[arg(long)]
    pub ignore_missing: bool,
    /// Leave the signatures, attestations, SBOMs and referrers of deleted
    /// manifests in place (by default they are deleted with their subject).
    #[arg(long)]
    pub keep_attachments: bool,
}

/// `regctl cp`.
#[derive(Debug, Args)]
pub struct CpArgs {
    /// What to copy: REGISTRY/REPOSITORY:TAG, REGISTRY/REPOSITORY@DIGEST or
    /// oci:PATH[:NAME]; with -r, REGISTRY/PREFIX.
    #[arg(value_name = "SRC")]
    pub source: String,
    /// Where: REGISTRY/REPOSITORY[:TAG] (without a tag, the source's) or
    /// oci:PATH[:NAME]; with -r, REGISTRY/PREFIX.
    #[arg(value_name = "DST")]
    pub destination: String,
    /// Copy every repository under SRC's prefix, with every tag.
    #[arg(short = 'r', long)]
    pub recursive: bool,
    /// With -r: copy only tags that match REGEX.
    #[arg(long, value_name = "REGEX", value_parser = parse_regex, requires = "recursive")]
    pub tags: Option<regex::Regex>,
    /// With -r: leave out tags that match REGEX.
    #[arg(long, value_name = "REGEX", value_parser = parse_regex, requires = "recursive")]
    pub exclude: Option<regex::Regex>,
    /// Leave signatures, attestations, SBOMs and referrers behind (by default
    /// they go along).
    #[arg(long)]
    pub no_attachments: bool,
    /// Print what would be sent and what is there already; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Check every blob, even where the destination has the image's manifest.
    #[arg(long)]
    pub force: bool,
    /// Copy only this platform of a multi-arch image (its own digest, not the
    /// index's): OS/ARCH[/VARIANT].
    #[arg(long, value_name = "OS/ARCH[/VARIANT]", conflicts_with = "recursive")]
    pub platform: Option<String>,
    /// Reach the source registry over plain HTTP (--plain-http: both).
    #[arg(long)]
    pub src_plain_http: bool,
    /// Reach the destination registry over plain HTTP.
    #[arg(long)]
    pub dst_plain_http: bool,
    /// User for the source registry; the password from --src-password-stdin or
    /// REGCTL_SRC_PASSWORD.
    #[arg(long, value_name = "USER")]
    pub src_username: Option<String>,
    /// Read the source registry's password from standard input.
    #[arg(long, requires = "src_username", conflicts_with = "dst_password_stdin")]
    pub src_password_stdin: bool,
    /// User for the destination registry; the password from
    /// --dst-password-stdin or REGCTL_DST_PASSWORD.
    #[arg(long, value_name = "USER")]
    pub dst_username: Option<String>,
    /// Read the destination registry's password from standard input.
    #[arg(long, requires = "dst_username")]
    pub dst_password_stdin: bool,
}

/// `regctl tag`.
#[derive(Debug, Args)]
pub struct TagArgs {
    /// REGISTRY/REPOSITORY:TAG or REGISTRY/REPOSITORY@DIGEST: the manifest to tag.
    #[arg(value_name = "REF")]
    pub source: String,
    /// The tags to add, in the same repository.
    #[arg(required = true, value_name = "TAG")]
    pub tags: Vec<String>,
}

/// `regctl prune`.
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// REGISTRY, REGISTRY/PREFIX (the repository and those below it) or REGISTRY/REPOSITORY.
    pub target: String,
    /// Keep the newest N images per repository (distinct manifests, among those
    /// the name rules select); attachments are not counted.
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_keep)]
    pub keep: Option<usize>,
    /// Delete only images older than this: 30d, 12h, 90m, 2w, 1y (365 days),
    /// 1d12h; 0d means any age.
    #[arg(long, value_name = "DURATION", value_parser = parse_age)]
    pub older_than: Option<std::time::Duration>,
    /// Consider only images all of whose tags match REGEX (needs --keep or
    /// --older-than; to delete all it selects, say --keep 0).
    #[arg(long = "match", value_name = "REGEX", value_parser = parse_regex)]
    pub match_: Option<regex::Regex>,
    /// Never consider images with a tag matching REGEX.
    #[arg(long, value_name = "REGEX", value_parser = parse_regex)]
    pub exclude: Option<regex::Regex>,
    /// Keep any image with a tag matching REGEX (latest, stable, prod-.*),
    /// outside the count.
    #[arg(long, value_name = "REGEX", value_parser = parse_regex)]
    pub keep_tags: Option<regex::Regex>,
    /// Apply --keep within each group: the first capture group of REGEX on an
    /// image's tags ('^v(\d+\.\d+)\.' keeps the newest N of every minor release
    /// line); images no tag matches form one group of their own.
    #[arg(long, value_name = "REGEX", value_parser = parse_regex)]
    pub group: Option<regex::Regex>,
    /// Rank images by creation date, or by their greatest semver tag (v prefix
    /// allowed; pre-releases below their release); images without one rank
    /// after them, by date.
    #[arg(long, value_enum, default_value = "date")]
    pub order: PruneOrder,
    /// Never delete an image this file names (repeatable; - for stdin): kubectl's
    /// JSON or YAML (pods, deployments, ... or a List; pod statuses' imageID
    /// digests too), rendered manifests, a compose file, or a list of references.
    #[arg(long, value_name = "FILE")]
    pub protect: Vec<PathBuf>,
    /// Never delete what the cluster runs: `kubectl get pods,deployments,
    /// replicasets,replicationcontrollers,statefulsets,daemonsets,cronjobs,jobs
    /// -A -o json` with your kubeconfig and context; if the cluster cannot be
    /// read, nothing is deleted.
    #[arg(long)]
    pub protect_kube: bool,
    /// Take the rules from a YAML policy file (per repository, the first rule
    /// whose pattern matches) instead of the rule flags.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["keep", "older_than", "match_", "exclude", "keep_tags", "group", "order"])]
    pub policy: Option<PathBuf>,
    /// With --policy: check the file and print which rule each repository of the
    /// registry falls under (only the catalog is read); change nothing.
    #[arg(long, requires = "policy")]
    pub check: bool,
    /// Also write the plan as a Markdown report a reviewer can read: per
    /// repository, what is kept and why, what goes and why, the bytes freed.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Refuse, before changing anything, a plan that deletes more than N images.
    #[arg(long, value_name = "N")]
    pub max_delete: Option<usize>,
    /// Leave the attachments of deleted images in place.
    #[arg(long)]
    pub keep_attachments: bool,
    /// Also delete attachments whose subject no longer exists.
    #[arg(long)]
    pub orphans: bool,
    /// Print the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// With --yes, carry out a plan that leaves a repository with no tag (refused
    /// otherwise, exit 6: a rule that empties a repository is more often a mistake).
    #[arg(long)]
    pub allow_empty_repositories: bool,
}

/// `prune --order`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PruneOrder {
    /// By creation date, newest first.
    Date,
    /// By the greatest semver tag, greatest first.
    Semver,
}

fn parse_keep(s: &str) -> Result<usize, String> {
    s.parse::<usize>()
        .map_err(|_| format!("`{s}` is not a count: --keep takes a whole number, 0 or more"))
}

fn parse_regex(s: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(s).map_err(|e| format!("invalid regular expression: {e}"))
}

pub use crate::deletion::policy::parse_age;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_must_be_a_count() {
        assert_eq!(parse_keep("3"), Ok(3));
        assert!(parse_keep("-1").unwrap_err().contains("0 or more"));
    }
}
