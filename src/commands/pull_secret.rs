//! `regctl pull-secret HOST --name NAME`: the Kubernetes Secret of type
//! `kubernetes.io/dockerconfigjson` that lets kubelet pull from HOST, built from
//! the credential regctl finds for it, as `kubectl create secret docker-registry
//! --dry-run=client` prints it. Nothing is sent to the registry.

use anyhow::{Context as _, Result};
use base64::Engine as _;

use super::context::Invocation;
use crate::cli::{PullSecretArgs, SecretFormat};
use crate::exit::{Exit, UsageError};
use crate::registry::Credential;

/// Runs `regctl pull-secret`.
pub async fn run(args: &PullSecretArgs, ctx: &Invocation) -> Result<Exit> {
    // The key kubelet matches is HOST[:PORT], whatever scheme was typed.
    let host = ctx.registry_host(&args.registry)?;
    let resolved = ctx
        .credential(&host)
        .await
        .with_context(|| format!("looking up credentials for {host}"))?;
    let Some(resolved) = resolved else {
        ctx.printer.error(format!(
            "no credential is stored for {} (flags, REGCTL_USERNAME/REGCTL_PASSWORD, the OS keyring, docker's config); `regctl login` stores one",
            crate::output::escape(&host)
        ));
        return Ok(Exit::NotFound);
    };
    // kubelet sends a user name and password (Basic, or to the token realm); it
    // cannot use a refresh token.
    let (username, password) = match &resolved.credential {
        Credential::Basic { username, password } => (username, password),
        Credential::IdentityToken {
            username,
            password: Some(password),
            ..
        } if !username.is_empty() => (username, password),
        Credential::IdentityToken { .. } => {
            return Err(UsageError(format!(
                "the credential for {} (from {}) is an identity token, which kubelet cannot use; \
                 give a user name and password (or an access token as password) instead",
                host, resolved.source
            ))
            .into())
        }
    };
    let auth = crate::registry::credential::basic_auth(username, password);
    let config = serde_json::json!({"auths": {host.as_str(): {
        "username": username,
        "password": password.expose(),
        "auth": auth.expose(),
    }}});
    // Serialising a json! value cannot fail.
    let config = serde_json::to_string(&config).unwrap_or_default();
    let data = base64::engine::general_purpose::STANDARD.encode(config);
    let text = match args.output {
        SecretFormat::Json => json(args, &data),
        SecretFormat::Yaml => yaml(args, &data),
    };
    crate::output::write_stdout(&text).context("writing the secret")?;
    ctx.printer.note(format!(
        "to use it, add to the Pod's spec:\n  imagePullSecrets:\n  - name: {}",
        args.name
    ));
    Ok(Exit::Success)
}

fn json(args: &PullSecretArgs, data: &str) -> String {
    let mut metadata = serde_json::Map::new();
    metadata.insert("name".into(), args.name.clone().into());
    if let Some(ns) = &args.namespace {
        metadata.insert("namespace".into(), ns.clone().into());
    }
    metadata.insert("creationTimestamp".into(), serde_json::Value::Null);
    let secret = serde_json::json!({
        "kind": "Secret",
        "apiVersion": "v1",
        "metadata": metadata,
        "data": {".dockerconfigjson": data},
        "type": "kubernetes.io/dockerconfigjson",
    });
    // Serialising a json! value cannot fail.
    crate::output::json_pretty(&secret).unwrap_or_default() + "\n"
}

/// YAML with every string quoted as JSON (valid YAML), so that no name can
/// change the document's structure.
fn yaml(args: &PullSecretArgs, data: &str) -> String {
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut out = String::from("apiVersion: v1\ndata:\n");
    out += &format!("  .dockerconfigjson: {}\n", quote(data));
    out += "kind: Secret\nmetadata:\n  creationTimestamp: null\n";
    out += &format!("  name: {}\n", quote(&args.name));
    if let Some(ns) = &args.namespace {
        out += &format!("  namespace: {}\n", quote(ns));
    }
    out += "type: kubernetes.io/dockerconfigjson\n";
    out
}
