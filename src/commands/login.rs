//! `regctl login HOST`: asks for what is missing, checks the credentials against
//! the registry (Basic, or the token flow at its realm), and only then stores
//! them where docker looks, else in the OS keyring, else in docker's config.

use std::io::{IsTerminal as _, Read as _};

use anyhow::{Context as _, Result};

use super::context::Invocation;
use crate::cli::{LoginArgs, StoreArg};
use crate::credentials::store::StoreChoice;
use crate::exit::{Exit, UsageError};
use crate::registry::auth::CredentialCheck;
use crate::registry::{Credential, Resolved, Secret};

/// Runs `regctl login`; `username` and `password_stdin` are the global flags.
pub async fn run(
    args: &LoginArgs,
    username_flag: Option<&str>,
    password_stdin: bool,
    ctx: &Invocation,
) -> Result<Exit> {
    let host = ctx.registry_host(&args.registry)?;
    let Some(username) = username_of(username_flag, password_stdin, ctx).await? else {
        return Ok(ctx.interrupt.exit());
    };
    let Some(password) = password_of(password_stdin, &username, ctx).await? else {
        return Ok(ctx.interrupt.exit());
    };
    let registry = ctx.registry_with(
        &host,
        Resolved {
            credential: Credential::Basic {
                username: username.clone(),
                password: password.clone(),
            },
            // Where each came from, as it was given.
            source: format!(
                "user {} {} and the password {}",
                crate::output::escape(&username),
                if username_flag.is_some() {
                    "from -u"
                } else {
                    "typed at the prompt"
                },
                if password_stdin {
                    "from --password-stdin"
                } else {
                    "typed at the prompt"
                }
            ),
        },
    )?;
    let check = registry
        .check_credentials()
        .await
        .with_context(|| format!("checking the credentials with {host}; nothing was stored"))?;
    if check == CredentialCheck::NotAsked {
        ctx.printer.warn(format!(
            "{host} answers without credentials, so it could not check them; storing them all the same"
        ));
    }
    let resolver = ctx.resolver().clone();
    let store = args.store.map(choice);
    let (key, user) = (host.clone(), username.clone());
    let stored = super::context::blocking(move || resolver.store(&key, &user, &password, store))
        .await?
        .with_context(|| format!("storing the credential for {host}"))?;
    for note in &stored.notes {
        ctx.printer.warn(note);
    }
    ctx.printer.note(format!(
        "logged in to {host} as {}; stored in {}",
        crate::output::escape(&username),
        stored.place
    ));
    Ok(Exit::Success)
}

fn choice(arg: StoreArg) -> StoreChoice {
    match arg {
        StoreArg::Helper => StoreChoice::Helper,
        StoreArg::Keyring => StoreChoice::Keyring,
        StoreArg::Config => StoreChoice::Config,
    }
}

/// The user name: `-u`, else asked on the terminal.
async fn username_of(
    flag: Option<&str>,
    password_stdin: bool,
    ctx: &Invocation,
) -> Result<Option<String>> {
    let username = match flag {
        Some(u) => u.to_string(),
        None if password_stdin => {
            return Err(UsageError(
                "give the user name with -u USER (with --password-stdin, standard input \
                 carries the password)"
                    .into(),
            )
            .into())
        }
        None if !std::io::stdin().is_terminal() => {
            return Err(UsageError(
                "give the user name with -u USER (there is no terminal to ask on)".into(),
            )
            .into())
        }
        None => {
            let asked = super::prompt::ask(&ctx.interrupt, |term| {
                dialoguer::Input::<String>::new()
                    .with_prompt("Username")
                    .interact_text_on(term)
            })
            .await?;
            match asked {
                Some(u) => u,
                None => return Ok(None),
            }
        }
    };
    if username.is_empty() || username.contains(':') {
        return Err(UsageError(
            "the user name is empty or holds `:`, which Basic auth cannot carry".into(),
        )
        .into());
    }
    Ok(Some(username))
}

/// The password: standard input with `--password-stdin` (one trailing newline
/// dropped), else asked, hidden, on the terminal. Empty is a usage error.
async fn password_of(
    password_stdin: bool,
    username: &str,
    ctx: &Invocation,
) -> Result<Option<Secret>> {
    let password = if password_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading the password from standard input")?;
        let text = text.strip_suffix('\n').unwrap_or(&text);
        Secret::new(text.strip_suffix('\r').unwrap_or(text))
    } else if std::io::stdin().is_terminal() {
        let prompt = format!("Password for {}", crate::output::escape(username));
        let asked = super::prompt::ask(&ctx.interrupt, move |term| {
            dialoguer::Password::new()
                .with_prompt(prompt)
                .allow_empty_password(true)
                .interact_on(term)
        })
        .await?;
        match asked {
            Some(p) => Secret::new(p),
            None => return Ok(None),
        }
    } else {
        return Err(UsageError(
            "no terminal to ask the password on: pipe it with --password-stdin".into(),
        )
        .into());
    };
    if password.is_empty() {
        return Err(UsageError("the password is empty; nothing was stored".into()).into());
    }
    Ok(Some(password))
}
