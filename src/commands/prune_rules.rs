//! Where `prune`'s rules come from (the flags, or a policy file) and what is
//! protected (files, the cluster), all read before anything is asked of a
//! registry: a mistake stops the run with nothing read or deleted.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, Result};

use crate::cli::{PruneArgs, PruneOrder};
use crate::deletion::policy::{self, Policy};
use crate::deletion::protect::{self, Named, Protection};
use crate::deletion::retention::{Order, Rules};
use crate::exit::UsageError;

/// The rules in force: one set from the flags, or a policy's.
pub enum Selection {
    /// The flags: one rule for every repository.
    Flags(Box<Rules>),
    /// A policy file.
    Policy(Policy),
}

impl Selection {
    /// The rules for `repository` and the name of the rule (for a policy), or
    /// `None` when no rule of the policy covers it.
    pub fn for_repository(&self, repository: &str) -> Option<(Rules, Option<String>)> {
        match self {
            Selection::Flags(rules) => Some(((**rules).clone(), None)),
            Selection::Policy(policy) => policy
                .rule_for(repository)
                .map(|rule| (rule.rules.clone(), Some(rule.name.clone()))),
        }
    }
}

/// The rules from the flags or the policy file; a usage error when neither
/// says what to keep.
pub fn select(args: &PruneArgs) -> Result<Selection> {
    if let Some(path) = &args.policy {
        let text = crate::file::read_text(path)
            .map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
        let policy = policy::parse(path, &text).map_err(|e| UsageError(e.to_string()))?;
        return Ok(Selection::Policy(policy));
    }
    if args.keep.is_none() && args.older_than.is_none() {
        return Err(UsageError(
            "prune needs --keep N or --older-than AGE (to delete everything --match selects, say --keep 0), or --policy FILE"
                .into(),
        )
        .into());
    }
    Ok(Selection::Flags(Box::new(Rules {
        keep: args.keep,
        older_than: args.older_than,
        match_tags: args.match_.clone(),
        exclude_tags: args.exclude.clone(),
        keep_tags: args.keep_tags.clone(),
        group: args.group.clone(),
        order: match args.order {
            PruneOrder::Date => Order::Date,
            PruneOrder::Semver => Order::Semver,
        },
        protected: Default::default(),
    })))
}

/// Every protected reference: `--protect` files (`-` is stdin), the policy's
/// files, and with `--protect-kube` (or the policy's `protect-kube`) what
/// kubectl lists. A file that cannot be read is a usage error; a cluster that
/// cannot be read stops the run.
pub fn protection(
    args: &PruneArgs,
    password_stdin: bool,
    selection: &Selection,
    printer: &crate::output::Printer,
) -> Result<Arc<Protection>> {
    let mut files: Vec<&Path> = args.protect.iter().map(|p| p.as_path()).collect();
    let from_stdin = files.iter().filter(|f| **f == Path::new("-")).count();
    if from_stdin > 1 || (from_stdin == 1 && password_stdin) {
        return Err(UsageError(
            "standard input can be read once: give `--protect -` once, and not with --password-stdin \
             (put the list in a file)"
                .into(),
        )
        .into());
    }
    let mut kube = args.protect_kube;
    if let Selection::Policy(policy) = selection {
        files.extend(policy.protect.iter().map(|p| p.as_path()));
        kube |= policy.protect_kube;
    }
    let mut names: Vec<Named> = Vec::new();
    for file in files {
        let (name, text) = if file == Path::new("-") {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .context("reading the protection list from standard input")?;
            ("standard input".to_string(), text)
        } else {
            let text = crate::file::read_text(file)
                .map_err(|e| UsageError(format!("--protect {}: {e}", file.display())))?;
            (file.display().to_string(), text)
        };
        let read = protect::read(&name, &text).map_err(|e| UsageError(e.to_string()))?;
        printer.note(format!(
            "protected: {} from {}",
            crate::output::count(read.len(), "reference"),
            crate::output::escape(&name)
        ));
        names.extend(read);
    }
    if kube {
        let read = from_cluster()?;
        printer.note(format!(
            "protected: {} from the cluster (kubectl get {KUBE_KINDS} -A)",
            crate::output::count(read.len(), "reference")
        ));
        names.extend(read);
    }
    Ok(Arc::new(Protection::new(names)))
}

/// What kubectl lists in every namespace: the workloads, and the
/// ReplicaSets (and ReplicationControllers) that a rollback goes back to.
const KUBE_KINDS: &str =
    "pods,deployments,replicasets,replicationcontrollers,statefulsets,daemonsets,cronjobs,jobs";

/// The images of the workloads kubectl lists with the user's kubeconfig and
/// context.
fn from_cluster() -> Result<Vec<Named>> {
    let out = std::process::Command::new("kubectl")
        .args(["get", KUBE_KINDS, "-A", "-o", "json"])
        .stdin(std::process::Stdio::null())
        .output()
        .context("--protect-kube: kubectl cannot run; nothing was deleted")?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let first = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        anyhow::bail!(
            "--protect-kube: kubectl get {KUBE_KINDS} -A failed (exit {}): {}; nothing was deleted",
            out.status.code().unwrap_or(-1),
            crate::output::escape(first.chars().take(300).collect::<String>().as_str())
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(protect::read(
        &format!("kubectl get {KUBE_KINDS} -A"),
        &text,
    )?)
}
