//! What every command is handed: how to reach registries, whose credentials
//! to use, how to print, the run's Ctrl-C; and the small helpers commands share.

use std::collections::{BTreeSet, HashMap};
use std::io::Read as _;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};

use crate::cli::{Format, GlobalArgs};
use crate::credentials::CredentialError;
use crate::credentials::{docker_config, keyring, Resolver, Secret};
use crate::exit::UsageError;
use crate::interrupt::Interrupt;
use crate::output::{resolve_format, Printer};
use crate::registry::reference::names_registry;
use crate::registry::retry::RetryPolicy;
use crate::registry::{
    ClientOptions, Reference, Registry, RegistryError, RegistryTarget, RequestRecord, TlsOptions,
};

/// What every command needs: how to reach registries, whose credentials to use,
/// how to print.
pub struct Invocation {
    options: ClientOptions,
    resolver: Resolver,
    registries: tokio::sync::Mutex<HashMap<String, Arc<Registry>>>,
    /// How many requests may run at once.
    pub concurrency: usize,
    /// Output format for stdout.
    pub format: Format,
    /// stderr printer.
    pub printer: Printer,
    /// The run's Ctrl-C.
    pub interrupt: Interrupt,
}

impl Invocation {
    /// `HOST[:PORT]` from what the user typed for a registry alone (login,
    /// logout, pull-secret): `https://` or `http://` allowed, as docker allows
    /// them (the seed writes `docker login http://HOST:PORT`), and a trailing `/`.
    /// The scheme is dropped; for `http://` a note says that `--plain-http`, not
    /// the scheme, decides how regctl talks to it.
    pub fn registry_host(&self, input: &str) -> Result<String> {
        let (address, plain) = match input.strip_prefix("http://") {
            Some(rest) => (rest, true),
            None => (input, false),
        };
        let target = parse_target(address)?;
        if target.prefix.is_some() {
            return Err(UsageError(format!(
                "`{}` names a repository; give the registry alone, HOST[:PORT]",
                crate::output::escape(input)
            ))
            .into());
        }
        if plain && !self.options.plain_http {
            self.printer.note(format!(
                "`http://` dropped: regctl reaches {} over HTTPS unless --plain-http is given",
                target.registry
            ));
        }
        Ok(target.registry)
    }
}

/// A password read from standard input to its end (`--password-stdin`), the
/// line breaks that end it dropped.
pub fn password_from_stdin() -> Result<Secret> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("reading the password from standard input")?;
    Ok(Secret::new(text.trim_end_matches(['\r', '\n'])))
}

/// Parses a `REGISTRY[/REPOSITORY-PREFIX]` argument; a mistake is a usage error.
pub fn parse_target(input: &str) -> Result<RegistryTarget> {
    input
        .parse()
        .map_err(|e: crate::registry::reference::ReferenceError| UsageError(e.to_string()).into())
}

impl Invocation {
    /// Builds the context from the global flags (reads the password from stdin
    /// when `--password-stdin` is given). With `run_credentials` false (login,
    /// logout), `--username`, `--password-stdin` and `REGCTL_*` are left to the
    /// command: the context resolves stored credentials only.
    pub fn from_args(
        global: &GlobalArgs,
        interrupt: Interrupt,
        run_credentials: bool,
    ) -> Result<Self> {
        let printer = Printer {
            verbose: global.verbose,
        };
        let password = if global.password_stdin && run_credentials {
            Some(password_from_stdin()?)
        } else {
            None
        };
        let env = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty() && run_credentials)
        };
        let resolver = Resolver::new(
            global.username.clone().filter(|_| run_credentials),
            password,
            env("REGCTL_USERNAME"),
            env("REGCTL_PASSWORD").map(Secret::new),
            docker_config::default_path(),
        )?
        .with_regctl_config(keyring::config_path())
        .with_helper_timeout(Duration::from_secs(global.timeout))
        .with_cancel(interrupt.shared_flag());
        if global.insecure && !global.plain_http {
            printer.warn(
                "--insecure: the registry's TLS certificate is not verified (a token realm or \
                 redirect on another host still is)",
            );
        }
        let observer: Option<crate::registry::Observer> = global.verbose.then(|| {
            Arc::new(|r: &RequestRecord| {
                let status = r
                    .status
                    .map_or("no response".to_string(), |s| s.to_string());
                crate::output::to_stderr(format_args!(
                    "{} {} -> {} ({} ms)",
                    r.method,
                    r.url,
                    status,
                    r.elapsed.as_millis()
                ));
            }) as crate::registry::Observer
        });
        Ok(Invocation {
            options: ClientOptions {
                tls: TlsOptions {
                    ca_files: global.ca_file.clone(),
                    certs_dir: Some(global.certs_dir.clone()),
                    insecure: global.insecure,
                },
                plain_http: global.plain_http,
                timeout: Some(Duration::from_secs(global.timeout)),
                observer,
                max_in_flight: Some(usize::from(global.concurrency)),
                max_list_items: Some(usize::try_from(global.max_list_items).unwrap_or(usize::MAX)),
                retry: RetryPolicy {
                    retries: global.retries,
                    budget: Duration::from_secs(global.timeout.saturating_mul(2)),
                    ..RetryPolicy::default()
                },
            },
            resolver,
            registries: Default::default(),
            concurrency: usize::from(global.concurrency),
            format: resolve_format(global.format),
            printer,
            interrupt,
        })
    }

    /// Parses the references the user typed (all of them, before any request) and
    /// checks that run-wide credentials can go to them.
    pub fn parse_references(&self, inputs: &[String]) -> Result<Vec<Reference>> {
        let references = inputs
            .iter()
            .map(|r| {
                r.parse::<Reference>()
                    .map_err(|e| UsageError(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.check_credential_scope(inputs, &references)?;
        Ok(references)
    }

    /// [`Invocation::parse_references`], with digest prefixes as tables show them
    /// (`REPO@sha256:0123456789ab…`, 12 hex digits or more) resolved against the
    /// digests the repository's tags point at: refused when none or several
    /// start so. Whole references need no request.
    pub async fn references(&self, inputs: &[String]) -> Result<Vec<Reference>> {
        let parsed = self.parse_with_prefixes(inputs)?;
        self.resolve_prefixes(parsed).await
    }

    /// Each input parsed, with the hex digits of a digest prefix it ends with
    /// (the reference then names no digest yet): no request is made.
    pub fn parse_with_prefixes(
        &self,
        inputs: &[String],
    ) -> Result<Vec<(Reference, Option<String>)>> {
        let (written, prefixes): (Vec<String>, Vec<Option<String>>) = inputs
            .iter()
            .map(|input| match crate::registry::prefix::split_prefix(input) {
                Some((name, hex)) => (name.to_string(), Some(hex)),
                None => (input.clone(), None),
            })
            .unzip();
        Ok(self
            .parse_references(&written)?
            .into_iter()
            .zip(prefixes)
            .collect())
    }

    /// The references of [`Invocation::parse_with_prefixes`], each prefix resolved
    /// to the one digest of a tag of its repository that starts with it.
    pub async fn resolve_prefixes(
        &self,
        parsed: Vec<(Reference, Option<String>)>,
    ) -> Result<Vec<Reference>> {
        let mut references = Vec::with_capacity(parsed.len());
        for (reference, hex) in parsed {
            let Some(hex) = hex else {
                references.push(reference);
                continue;
            };
            let registry = self.registry(reference.registry()).await?;
            let digest = registry
                .resolve_prefix(reference.repository(), &hex, self.concurrency)
                .await?;
            references.push(reference.with_digest(digest));
        }
        Ok(references)
    }

    /// Credentials from `--username` or `REGCTL_*` name no registry: refuse to send
    /// them anywhere but the one registry the user typed. References without a
    /// registry host (Docker Hub names) and runs across several registries are
    /// usage errors, before any request.
    fn check_credential_scope(&self, inputs: &[String], references: &[Reference]) -> Result<()> {
        let Some(source) = self.resolver.explicit_source() else {
            return Ok(());
        };
        if let Some(input) = inputs.iter().find(|i| !names_registry(i)) {
            return Err(UsageError(format!(
                "`{input}` names no registry, so it means Docker Hub; the credentials from {source} \
                 are not sent there unless you write the registry (docker.io/...)"
            ))
            .into());
        }
        let registries: BTreeSet<&str> = references.iter().map(Reference::registry).collect();
        if registries.len() > 1 {
            return Err(UsageError(format!(
                "the credentials from {source} would go to {} registries ({}); name one registry per run, \
                 or keep per-registry credentials in docker's config",
                registries.len(),
                registries.into_iter().collect::<Vec<_>>().join(", ")
            ))
            .into());
        }
        Ok(())
    }

    /// The credential found for `host` (a default store whose helper is missing
    /// is skipped, with a warning), and where it came from. Looked up on a
    /// thread of its own (a helper or the keyring may take a while): Ctrl-C and
    /// `--deadline` are seen meanwhile, and stop a helper that runs.
    pub async fn credential(&self, host: &str) -> Result<Option<crate::registry::Resolved>> {
        let resolver = self.resolver.clone();
        let owned = host.to_string();
        let (found, notes) = blocking(move || {
            let mut notes = Vec::new();
            let found = resolver.resolve(&owned, &mut notes);
            (found, notes)
        })
        .await?;
        for note in notes {
            self.printer.verbose(note);
        }
        match found {
            Err(e @ CredentialError::StoreMissing { .. }) => {
                self.printer
                    .warn(format!("{e}; going on without credentials for {host}"));
                Ok(None)
            }
            other => Ok(other?),
        }
    }

    /// The per-request timeout.
    pub fn timeout(&self) -> Duration {
        self.options
            .timeout
            .unwrap_or(crate::registry::limits::DEFAULT_TIMEOUT)
    }

    /// How registries' certificates are verified.
    pub fn tls_options(&self) -> &TlsOptions {
        &self.options.tls
    }

    /// True with `--insecure`.
    pub fn insecure(&self) -> bool {
        self.options.tls.insecure
    }

    /// Where credentials are found and stored.
    pub fn resolver(&self) -> &Resolver {
        &self.resolver
    }

    /// A client for `host` with `credential` (not the one stored for it), for
    /// checking credentials before they are stored.
    pub fn registry_with(
        &self,
        host: &str,
        credential: crate::registry::Resolved,
    ) -> Result<Registry> {
        self.warn_untrusted(host);
        Ok(Registry::new(host, self.options.clone(), Some(credential))?)
    }

    /// The client for `host` as one side of a copy: over plain HTTP when
    /// `plain_http`, with `credential` when given (else the one stored for it).
    /// Without either, the run's shared client.
    pub async fn registry_for_side(
        &self,
        host: &str,
        plain_http: bool,
        credential: Option<crate::registry::Resolved>,
    ) -> Result<Arc<Registry>> {
        if !plain_http && credential.is_none() {
            return self.registry(host).await;
        }
        let mut options = self.options.clone();
        options.plain_http |= plain_http;
        let credential = match credential {
            Some(c) => Some(c),
            None => self
                .credential(host)
                .await
                .with_context(|| format!("looking up credentials for {host}"))?,
        };
        if !options.plain_http {
            self.warn_untrusted(host);
        }
        Ok(Arc::new(Registry::new(host, options, credential)?))
    }

    /// Says which CA files and certs.d folder for `host` are left out because
    /// another user could have written them.
    fn warn_untrusted(&self, host: &str) {
        if self.options.tls.insecure || self.options.plain_http {
            return;
        }
        for warning in crate::registry::tls::ca_files(host, &self.options.tls).1 {
            self.printer.warn(warning);
        }
    }

    /// The client for `host`, created on first use with its credentials; one per
    /// registry per run, so connections and tokens are reused.
    pub async fn registry(&self, host: &str) -> Result<Arc<Registry>> {
        let mut registries = self.registries.lock().await;
        if let Some(r) = registries.get(host) {
            return Ok(r.clone());
        }
        let credential = self
            .credential(host)
            .await
            .with_context(|| format!("looking up credentials for {host}"))?;
        if let Some(c) = &credential {
            self.printer
                .verbose(format_args!("credentials for {host} from {}", c.source));
        }
        self.warn_untrusted(host);
        let registry = Arc::new(Registry::new(host, self.options.clone(), credential)?);
        registries.insert(host.to_string(), registry.clone());
        Ok(registry)
    }
}

/// Runs `work` (a credential helper, the keyring, a config file under lock) on
/// a thread of its own, so that the run's one thread goes on seeing Ctrl-C.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| anyhow::anyhow!("work on a thread of its own stopped without an answer: {e}"))
}

/// Collects `stream` (of `total` items). On Ctrl-C it stops, says how far it got
/// (nothing partial reaches stdout) and returns `None`.
pub(crate) async fn collect_interruptible<S: futures_util::Stream>(
    ctx: &Invocation,
    what: &str,
    total: usize,
    stream: S,
) -> Option<Vec<S::Item>> {
    use futures_util::StreamExt as _;
    let mut items = Vec::with_capacity(total);
    let mut stream = std::pin::pin!(stream);
    ctx.interrupt.claim();
    let interrupted = ctx.interrupt.wait();
    let mut interrupted = std::pin::pin!(interrupted);
    loop {
        tokio::select! {
            item = stream.next() => match item {
                Some(item) => items.push(item),
                None => return Some(items),
            },
            _ = &mut interrupted => {
                ctx.printer.note(format!(
                    "interrupted: {} of {total} {what} done; nothing was printed",
                    items.len()
                ));
                return None;
            }
        }
    }
}

/// The repositories `target` names, from the catalog; where the registry has no
/// catalog, the repository named (a warning says so, with `doing`: "pruning").
pub(crate) async fn catalogued(
    ctx: &Invocation,
    registry: &Registry,
    target: &RegistryTarget,
    doing: &str,
) -> Result<Vec<String>> {
    Ok(match registry.catalog().await {
        Ok(all) => all
            .into_iter()
            .filter(|r| target.contains(r) && crate::registry::reference::valid_repository(r))
            .collect(),
        Err(e @ RegistryError::Unsupported { .. }) => match &target.prefix {
            // The prefix may be a repository of its own: then it alone.
            Some(prefix) => match registry.tags(prefix).await {
                Ok(tags) if !tags.is_empty() => {
                    ctx.printer
                        .warn(format!("{e}; {doing} repository {prefix} alone"));
                    vec![prefix.clone()]
                }
                // Not a repository: what is below it cannot be listed. Never a
                // silent "nothing to do".
                Ok(_) | Err(RegistryError::NotFound { .. }) => {
                    let RegistryError::Unsupported { detail, .. } = e else {
                        unreachable!("matched as Unsupported above")
                    };
                    return Err(RegistryError::Unauthorized {
                        registry: registry.host().to_string(),
                        detail: format!(
                            "the catalog is refused to this client ({detail}), so the \
                             repositories under {prefix} cannot be listed"
                        ),
                        hint: crate::registry::error::Hint::ListOneRepository {
                            registry: format!("{}/{prefix}", registry.host()),
                        },
                        insufficient_scope: true,
                        at_token_server: false,
                    }
                    .into());
                }
                Err(other) => return Err(other.into()),
            },
            None => return Err(e.into()),
        },
        Err(e) => return Err(e.into()),
    })
}

/// For a target naming a repository (or prefix) that the catalog does not list:
/// asks the repository's own tag list, as a pull-through cache lists only what it
/// stored. Adds it to `repositories` when it has tags; otherwise says that it does
/// not exist and returns false (some registries answer any name with an empty
/// list, so a repository neither listed nor tagged is not there).
pub(crate) async fn add_uncatalogued(
    ctx: &Invocation,
    registry: &Registry,
    target: &RegistryTarget,
    repositories: &mut Vec<String>,
) -> Result<bool> {
    let Some(prefix) = &target.prefix else {
        return Ok(true);
    };
    match registry.tags(prefix).await {
        Ok(tags) if !tags.is_empty() => {
            repositories.push(prefix.clone());
            Ok(true)
        }
        Ok(_) | Err(RegistryError::NotFound { .. }) => {
            ctx.printer.error(format!(
                "repository {}/{prefix} not found (nor any below it)",
                target.registry
            ));
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

/// `message` about `reference`, led by the reference unless it names it
/// already (`tag H/R:T not found` is not written `H/R:T: tag H/R:T not found`).
pub fn about(reference: &str, message: &str) -> String {
    if message.contains(reference) {
        return message.to_string();
    }
    // A message led by the registry (`H: authentication required`) is led by
    // the whole reference instead, not by both.
    let host = reference.split('/').next().unwrap_or(reference);
    let message = message
        .strip_prefix(host)
        .and_then(|rest| rest.strip_prefix(": "))
        .unwrap_or(message);
    format!("{reference}: {message}")
}

#[cfg(test)]
mod tests {
    use super::about;

    #[test]
    fn a_message_is_led_by_its_reference_once() {
        let r = "h:5000/app:v1";
        assert_eq!(
            about(r, "tag h:5000/app:v1 not found"),
            "tag h:5000/app:v1 not found"
        );
        // Which of several references failed stays said.
        assert_eq!(
            about(r, "repository h:5000/app not found"),
            "h:5000/app:v1: repository h:5000/app not found"
        );
        assert_eq!(about(r, "HTTP 500"), "h:5000/app:v1: HTTP 500");
        assert_eq!(
            about(r, "h:5000: authentication required"),
            "h:5000/app:v1: authentication required"
        );
    }
}
