//! Docker credential helpers: `docker-credential-<name> get`, server URL on stdin,
//! `{"Username":..,"Secret":..}` on stdout.

use std::io::Write as _;
use std::process::{Command, Stdio};

use serde::Deserialize;

use super::{Credential, CredentialError, Secret};

#[derive(Deserialize)]
struct HelperOutput {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret")]
    secret: String,
}

/// Asks helper `name` for the credentials of `server_url`. "credentials not found"
/// means anonymous access.
pub fn get(name: &str, server_url: &str) -> Result<Option<Credential>, CredentialError> {
    let program = format!("docker-credential-{name}");
    let fail = |detail: String| CredentialError::Helper {
        helper: name.to_string(),
        detail,
    };
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => fail(format!(
                "`{program}` is not on PATH (docker's config names it in credHelpers or credsStore)"
            )),
            _ => fail(format!("cannot run `{program}`: {e}")),
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading stdin is judged by its output below.
        let _ = stdin.write_all(server_url.as_bytes());
    }
    let output = child
        .wait_with_output()
        .map_err(|e| fail(format!("cannot read its output: {e}")))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let said = format!(
            "{} {}",
            stdout.trim(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
        if said.to_ascii_lowercase().contains("credentials not found") {
            return Ok(None);
        }
        return Err(fail(format!(
            "exited with {}: {}",
            output.status,
            said.trim()
        )));
    }
    let parsed: HelperOutput = serde_json::from_str(stdout.trim())
        .map_err(|e| fail(format!("its output is not the expected JSON: {e}")))?;
    if parsed.username == "<token>" {
        return Ok(Some(Credential::IdentityToken {
            username: String::new(),
            token: Secret::new(parsed.secret),
        }));
    }
    Ok(Some(Credential::Basic {
        username: parsed.username,
        password: Secret::new(parsed.secret),
    }))
}
