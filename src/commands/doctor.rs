//! `regctl doctor HOST`: one line per check, from the network up (name, TCP, TLS,
//! the API, proxy, auth, credentials, catalog, deletion, referrers, paging), each
//! with a verdict and, for a failure, the fix. Nothing is changed on the registry.

use std::time::Instant;

use anyhow::Result;
use serde::Serialize;

use super::context::Invocation;
use crate::cli::DoctorArgs;
use crate::exit::Exit;
use crate::output::{escape, render_data, Row};
use crate::registry::auth::CredentialCheck;
use crate::registry::diagnose::{ListPage, Paging};
use crate::registry::error::Hint;
use crate::registry::tls_probe::{self, certificate_facts, ProbeError};
use crate::registry::{auth::Challenge, Registry, RegistryError};

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
enum Verdict {
    Pass,
    Warn,
    Fail,
    Skip,
}

/// One line of the report.
#[derive(Debug, Serialize)]
struct Check {
    check: &'static str,
    verdict: Verdict,
    detail: String,
    /// What to do, for a failure or a warning.
    fix: Option<String>,
    #[serde(skip)]
    exit: Exit,
}

impl Row for Check {
    fn headers(&self) -> Vec<&'static str> {
        vec!["CHECK", "VERDICT", "DETAIL", "FIX"]
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.check.into(),
            verdict_word(self.verdict).into(),
            self.detail.clone(),
            self.fix.clone().unwrap_or_default(),
        ]
    }

    fn plain(&self) -> String {
        let mut line = format!(
            "{:<12}{:<6}{}",
            self.check,
            verdict_word(self.verdict),
            self.detail
        );
        if let Some(fix) = &self.fix {
            line += &format!(" -- {fix}");
        }
        line
    }
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "ok",
        Verdict::Warn => "warn",
        Verdict::Fail => "FAIL",
        Verdict::Skip => "skip",
    }
}

/// The report being built: later checks are skipped once a failure makes them moot.
#[derive(Default)]
struct Report {
    checks: Vec<Check>,
}

impl Report {
    fn pass(&mut self, check: &'static str, detail: impl Into<String>) {
        self.push(check, Verdict::Pass, detail, None, Exit::Success);
    }

    fn warn(&mut self, check: &'static str, detail: impl Into<String>, fix: impl Into<String>) {
        self.push(
            check,
            Verdict::Warn,
            detail,
            Some(fix.into()),
            Exit::Success,
        );
    }

    fn fail(
        &mut self,
        check: &'static str,
        detail: impl Into<String>,
        fix: impl Into<String>,
        exit: Exit,
    ) {
        self.push(check, Verdict::Fail, detail, Some(fix.into()), exit);
    }

    fn skip(&mut self, check: &'static str, why: impl Into<String>) {
        self.push(check, Verdict::Skip, why, None, Exit::Success);
    }

    fn push(
        &mut self,
        check: &'static str,
        verdict: Verdict,
        detail: impl Into<String>,
        fix: Option<String>,
        exit: Exit,
    ) {
        self.checks.push(Check {
            check,
            verdict,
            // Text from the registry or the environment, shown escaped.
            detail: escape(&detail.into()),
            fix,
            exit,
        });
    }

    /// The first failure's exit status (earlier checks are the more basic).
    fn exit(&self) -> Exit {
        self.checks
            .iter()
            .find(|c| c.verdict == Verdict::Fail)
            .map_or(Exit::Success, |c| c.exit)
    }
}

/// Runs `regctl doctor`.
pub async fn run(args: &DoctorArgs, ctx: &Invocation) -> Result<Exit> {
    let target = super::context::parse_target(&args.registry)?;
    let registry = ctx.registry(&target.registry).await?;
    let mut report = Report::default();
    if network(&mut report, ctx, &registry).await {
        service(&mut report, &registry, target.prefix, ctx.timeout()).await;
    }
    render_data(ctx.format, &report.checks)?;
    Ok(report.exit())
}

/// Name resolution, TCP and TLS; false when the registry cannot be reached.
async fn network(report: &mut Report, ctx: &Invocation, registry: &Registry) -> bool {
    let base = registry.base().clone();
    let name = base.host_str().unwrap_or_default().to_string();
    let port = base.port_or_known_default().unwrap_or(443);
    let timeout = ctx.timeout();
    let Some(addresses) = dns(report, &name, port, timeout).await else {
        return false;
    };
    let Some(stream) = tcp(report, &addresses, &name, port, timeout).await else {
        return false;
    };
    if base.scheme() == "http" {
        report.skip("tls", "--plain-http: no TLS");
        return true;
    }
    tls(report, ctx, registry, stream, &name, port).await
}

/// The registry's name resolved; `None` when it does not resolve.
async fn dns(
    report: &mut Report,
    name: &str,
    port: u16,
    timeout: std::time::Duration,
) -> Option<Vec<std::net::SocketAddr>> {
    let lookup =
        tokio::net::lookup_host((name.trim_start_matches('[').trim_end_matches(']'), port));
    // The lookup runs on the blocking pool: bounded here, left behind at exit.
    let found = match tokio::time::timeout(timeout, lookup).await {
        Ok(found) => found,
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("no answer within {} s", timeout.as_secs()),
        )),
    };
    let addresses: Vec<std::net::SocketAddr> = match found {
        Ok(found) => found.collect(),
        Err(e) => {
            report.fail(
                "dns",
                format!("{name}: {e}"),
                "check the host name (and /etc/hosts or DNS)",
                Exit::Failure,
            );
            return None;
        }
    };
    let shown: Vec<String> = addresses.iter().map(|a| a.ip().to_string()).collect();
    report.pass("dns", format!("{name} -> {}", shown.join(", ")));
    Some(addresses)
}

/// A TCP connection to one of `addresses`; `None` when none answers in time.
async fn tcp(
    report: &mut Report,
    addresses: &[std::net::SocketAddr],
    name: &str,
    port: u16,
    timeout: std::time::Duration,
) -> Option<tokio::net::TcpStream> {
    let started = Instant::now();
    let stream =
        match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addresses)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                report.fail(
                    "tcp",
                    format!("{name}:{port}: {e}"),
                    "check that the registry runs and listens on this port (and the firewall)",
                    Exit::Failure,
                );
                return None;
            }
            Err(_) => {
                report.fail(
                    "tcp",
                    format!("{name}:{port}: no answer within {} s", timeout.as_secs()),
                    "check the firewall, or raise --timeout",
                    Exit::Failure,
                );
                return None;
            }
        };
    report.pass(
        "tcp",
        format!(
            "connected to {name}:{port} in {} ms",
            started.elapsed().as_millis()
        ),
    );
    Some(stream)
}

/// The TLS handshake, and which trust source (if any) verifies the chain;
/// false when the registry cannot be reached over TLS as configured.
async fn tls(
    report: &mut Report,
    ctx: &Invocation,
    registry: &Registry,
    stream: tokio::net::TcpStream,
    name: &str,
    port: u16,
) -> bool {
    let timeout = ctx.timeout();
    // The whole handshake within the timeout: a server may accept the connection
    // and then trickle its answer a byte at a time, or never finish it.
    let probed = tokio::time::timeout(
        timeout,
        tls_probe::probe(stream, registry.host(), name, ctx.tls_options()),
    )
    .await;
    let tls = match probed {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            let fix = if matches!(e, ProbeError::NotTls(_)) {
                "the port does not speak TLS: if the registry serves plain HTTP, pass --plain-http"
            } else {
                "check that the registry serves TLS on this port"
            };
            report.fail("tls", e.to_string(), fix, Exit::Failure);
            return false;
        }
        Err(_) => {
            report.fail(
                "tls",
                format!(
                    "{name}:{port}: the TLS handshake did not finish within {} s",
                    timeout.as_secs()
                ),
                "check that the registry serves TLS on this port (a plain TCP proxy in front of it?), or raise --timeout",
                Exit::Failure,
            );
            return false;
        }
    };
    let facts = tls
        .chain
        .first()
        .map(|leaf| certificate_facts(leaf.as_ref()))
        .unwrap_or_default();
    match (&tls.trusted_by, &tls.refused) {
        (Some(source), _) => report.pass("tls", format!("{}; verified by {source}; {facts}", tls.protocol)),
        (None, refused) if ctx.insecure() => report.warn(
            "tls",
            format!("{}; NOT verified ({}); {facts}", tls.protocol, refused.as_deref().unwrap_or("no trust source")),
            "--insecure is on: trust the certificate instead (--ca-file, certs.d or the system store)",
        ),
        (None, refused) => {
            // Trusting the CA is the fix only when the trust is what is missing:
            // a wrong name, an expiry or a purpose is fixed on the certificate.
            let fix = match &tls.fix {
                Some(hint) if !matches!(hint, Hint::TrustCa { .. }) => hint.to_string(),
                _ => format!(
                    "trust its CA: --ca-file <ca.pem>, or {}/ca.crt, or the system store (update-ca-certificates, or SSL_CERT_FILE)",
                    ctx.tls_options().host_dir(registry.host()).display()
                ),
            };
            report.fail(
                "tls",
                format!("{}; refused: {}; {facts}", tls.protocol, refused.as_deref().unwrap_or("no trust source")),
                fix,
                Exit::Failure,
            );
            return false;
        }
    }
    true
}

/// The API, proxy, auth, credentials, catalog, deletion, referrers and paging.
async fn service(
    report: &mut Report,
    registry: &Registry,
    named: Option<String>,
    timeout: std::time::Duration,
) {
    if !proxy(report, registry, timeout).await
        || !api(report, registry).await
        || !credentials(report, registry).await
    {
        return;
    }
    let repository = catalog(report, registry, named).await;
    deletion(report, registry, repository.as_deref()).await;
    match repository {
        Some(repository) => repository_checks(report, registry, &repository).await,
        None => {
            for check in ["referrers", "tag paging"] {
                report.skip(check, "no repository to ask about");
            }
        }
    }
}

/// GET /v2/ and the auth it asks for; false when it is not a registry API.
async fn api(report: &mut Report, registry: &Registry) -> bool {
    let api = match registry.api_answer().await {
        Ok(api) => api,
        Err(e) => {
            report.fail(
                "api",
                e.to_string(),
                "check the address: the registry API is at /v2/",
                Exit::for_kind(e.kind()),
            );
            return false;
        }
    };
    let version = api
        .api_version
        .clone()
        .unwrap_or_else(|| "no Docker-Distribution-API-Version header".into());
    match api.status {
        200 | 401 => report.pass(
            "api",
            format!("GET /v2/ answered {}; {version}", api.status),
        ),
        400 if registry.base().scheme() == "http" => {
            report.fail(
                "api",
                "GET /v2/ answered 400",
                "the port may speak TLS: drop --plain-http",
                Exit::Failure,
            );
            return false;
        }
        status => {
            report.fail(
                "api",
                format!("GET /v2/ answered {status}"),
                "check the address: is this a registry?",
                Exit::Failure,
            );
            return false;
        }
    }
    match &api.challenge {
        None if api.status == 200 => report.pass("auth", "none asked: anonymous access"),
        None => report.warn(
            "auth",
            "a 401 without a challenge regctl understands",
            "check the registry's auth configuration",
        ),
        Some(Challenge::Basic) => report.pass("auth", "Basic"),
        Some(Challenge::Bearer { realm, service, .. }) => report.pass(
            "auth",
            format!(
                "Bearer; realm {realm}; service {}",
                service.as_deref().unwrap_or("-")
            ),
        ),
    }
    true
}

/// Whether the credentials in use are accepted; false when refused.
async fn credentials(report: &mut Report, registry: &Registry) -> bool {
    // Looked up once, with the client: where the credential in use came from.
    let credential = registry.resolved().map(|r| r.source.clone());
    match (registry.check_credentials().await, credential) {
        (Ok(CredentialCheck::NotAsked), _) => report.pass("credentials", "not needed"),
        (Ok(CredentialCheck::Accepted), Some(source)) => {
            report.pass("credentials", format!("from {source}; accepted"))
        }
        (Ok(CredentialCheck::Accepted), None) => {
            report.pass("credentials", "none found; anonymous access accepted")
        }
        (Err(e), source) => {
            let fix = match source {
                Some(s) => format!(
                    "the credentials from {s} were refused: check them, or `regctl login {}` again",
                    registry.host()
                ),
                None => format!("no credentials found: `regctl login {}`", registry.host()),
            };
            report.fail("credentials", e.to_string(), fix, Exit::for_kind(e.kind()));
            return false;
        }
    }
    true
}

/// Whether the catalog may be read, and paged; the repository the later
/// checks ask about (`named`, else the catalog's first).
async fn catalog(
    report: &mut Report,
    registry: &Registry,
    named: Option<String>,
) -> Option<String> {
    match registry.catalog_paging().await {
        Ok(ListPage {
            paging: Paging::Refused(status),
            ..
        }) => {
            report.warn(
                "catalog",
                format!("refused ({status})"),
                "`regctl ls` and `prune` of the whole registry need it; name a repository \
                 instead (to doctor too: HOST/REPOSITORY)",
            );
            named
        }
        Ok(page) => {
            report.pass(
                "catalog",
                format!("allowed; {}", paging_words(page.paging, "repositories")),
            );
            match named {
                Some(named) => Some(named),
                None => first_repository(registry, page.items).await,
            }
        }
        Err(e) => {
            report.warn(
                "catalog",
                e.to_string(),
                "`regctl ls` of the whole registry needs it",
            );
            named
        }
    }
}

/// Whether the registry deletes manifests, asked without changing anything.
async fn deletion(report: &mut Report, registry: &Registry, repository: Option<&str>) {
    // With no repository to ask about, deletion is asked about in one that
    // does not exist: a DELETE of a digest that cannot exist there changes
    // nothing, and still tells 404 (enabled) from 405 (disabled, read-only).
    let probed = repository.unwrap_or(PROBE_REPOSITORY);
    match registry.probe_delete(probed).await {
        Ok(()) => report.pass(
            "deletion",
            format!("enabled (a DELETE of a manifest that cannot exist in {probed} answered 404)"),
        ),
        Err(e @ RegistryError::Unsupported { .. }) => {
            // Read-only mode and deletion disabled call for different fixes.
            let fix = match &e {
                RegistryError::Unsupported { hint: Some(hint), .. } => hint.to_string(),
                _ => "set storage.delete.enabled: true in the registry's config (or REGISTRY_STORAGE_DELETE_ENABLED=true); a pull-through cache accepts no deletes".into(),
            };
            report.fail("deletion", e.to_string(), fix, Exit::Unsupported)
        }
        Err(e) => report.warn(
            "deletion",
            e.to_string(),
            "the deletion probe failed; `regctl rm` may too",
        ),
    }
}

/// The referrers API and tag paging, asked of `repository`.
async fn repository_checks(report: &mut Report, registry: &Registry, repository: &str) {
    match registry.has_referrers_api(repository).await {
        Ok(true) => report.pass("referrers", "the OCI referrers API answers"),
        Ok(false) => report.pass(
            "referrers",
            "no referrers API (404): the sha256-<hex> fallback tags are used",
        ),
        Err(e) => report.warn("referrers", e.to_string(), "attachments may be missed"),
    }
    match registry
        .tags_paging(repository)
        .await
        .map(|page| page.paging)
    {
        Ok(paging @ (Paging::Paged | Paging::OnePage | Paging::Unpaged(_))) => report.pass(
            "tag paging",
            format!("{repository}: {}", paging_words(paging, "tags")),
        ),
        Ok(Paging::Refused(status)) => report.warn(
            "tag paging",
            format!("{repository}: refused ({status})"),
            "check pull access",
        ),
        Err(e) => report.warn("tag paging", e.to_string(), "check pull access"),
    }
}

/// The repository the deletion check asks about when the registry has none: a
/// name nobody pushes to (the DELETE it gets changes nothing either way).
const PROBE_REPOSITORY: &str = "regctl-doctor-probe/no-such-repository";

fn paging_words(paging: Paging, items: &str) -> String {
    match paging {
        Paging::Paged => "paged (Link headers)".into(),
        Paging::OnePage => {
            format!("no more than one of the {items} asked for came: paging not needed yet")
        }
        Paging::Unpaged(n) => format!(
            "not paged: n=1 answered {n} {items} at once (the whole list comes in one answer)"
        ),
        Paging::Refused(status) => format!("refused ({status})"),
    }
}

/// The proxy the environment sets for this registry, if any, and whether it
/// answers: connected to, and for HTTPS asked for a tunnel to the registry.
/// False when it cannot be used (the checks through it are then moot).
async fn proxy(report: &mut Report, registry: &Registry, timeout: std::time::Duration) -> bool {
    let base = registry.base();
    let no_proxy = registry.proxy_env().no_proxy().raw();
    let no_proxy = if no_proxy.is_empty() {
        String::new()
    } else {
        format!("; NO_PROXY={}", escape(no_proxy))
    };
    let Some(chosen) = registry.proxy_for(base) else {
        let why = if no_proxy.is_empty() {
            "none for this registry in the environment".to_string()
        } else {
            format!("none: the registry is in NO_PROXY{no_proxy}")
        };
        report.pass("proxy", why);
        return true;
    };
    let target = crate::registry::redact::authority(base);
    let named = format!("{}={}", chosen.variable, escape(&chosen.shown()));
    let tunnel = base.scheme() == "https";
    match crate::registry::proxy::probe(chosen, &target, tunnel, timeout).await {
        Ok(done) => {
            report.pass("proxy", format!("{named}: {done}{no_proxy}"));
            true
        }
        Err(e) => {
            report.fail(
                "proxy",
                format!("{named}: {}{no_proxy}", escape(&e.to_string())),
                format!(
                    "check that the proxy runs and may reach {target}, or add {} to NO_PROXY \
                     to reach the registry directly",
                    base.host_str().unwrap_or_default()
                ),
                Exit::Failure,
            );
            false
        }
    }
}

/// The first repository the catalog names (one that follows the grammar): from
/// the page already read, else from the whole catalog.
async fn first_repository(registry: &Registry, page: Vec<String>) -> Option<String> {
    let valid = |r: &String| crate::registry::reference::valid_repository(r);
    if let Some(first) = page.into_iter().find(valid) {
        return Some(first);
    }
    registry.catalog().await.ok()?.into_iter().find(valid)
}
