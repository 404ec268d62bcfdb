//! How each side of a copy is reached: cp's own per-side flags.

use std::sync::Arc;

use anyhow::Result;

use crate::cli::CpArgs;
use crate::commands::context::Invocation;
use crate::exit::UsageError;
use crate::registry::{Credential, Registry, Resolved, Secret};

/// How one side's registry is reached, by cp's own flags.
pub(super) struct Reach {
    plain_http: bool,
    credential: Option<Resolved>,
}

/// The source's and the destination's [`Reach`].
pub(super) fn reaches(args: &CpArgs, ctx: &Invocation) -> Result<(Reach, Reach)> {
    let from_stdin = args.src_password_stdin || args.dst_password_stdin;
    if from_stdin && ctx.resolver().explicit_source() == Some("--username/--password-stdin") {
        return Err(UsageError(
            "--password-stdin and --src/--dst-password-stdin both read standard input: give one"
                .into(),
        )
        .into());
    }
    let stdin = if from_stdin {
        Some(super::super::context::password_from_stdin()?)
    } else {
        None
    };
    let side = |side: &str, plain_http: bool, user: &Option<String>, stdin_given: bool| {
        let Some(username) = user.clone() else {
            return Ok(Reach {
                plain_http,
                credential: None,
            });
        };
        let variable = format!("REGCTL_{}_PASSWORD", side.to_uppercase());
        let password = if stdin_given {
            stdin.clone()
        } else {
            std::env::var(&variable)
                .ok()
                .filter(|v| !v.is_empty())
                .map(Secret::new)
        };
        let Some(password) = password else {
            return Err(UsageError(format!(
                "--{side}-username needs --{side}-password-stdin or {variable}"
            )));
        };
        Ok(Reach {
            plain_http,
            credential: Some(Resolved {
                credential: Credential::Basic { username, password },
                source: format!("--{side}-username"),
            }),
        })
    };
    Ok((
        side(
            "src",
            args.src_plain_http,
            &args.src_username,
            args.src_password_stdin,
        )?,
        side(
            "dst",
            args.dst_plain_http,
            &args.dst_username,
            args.dst_password_stdin,
        )?,
    ))
}

pub(super) async fn reach(ctx: &Invocation, host: &str, how: &Reach) -> Result<Arc<Registry>> {
    ctx.registry_for_side(host, how.plain_http, how.credential.clone())
        .await
}
