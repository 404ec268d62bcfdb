//! `regctl logout HOST`: erases the credential stored for HOST from every place
//! regctl and docker keep one, and says where it was.

use anyhow::{Context as _, Result};

use super::Context;
use crate::cli::LogoutArgs;
use crate::exit::Exit;

/// Runs `regctl logout`.
pub async fn run(args: &LogoutArgs, ctx: &Context) -> Result<Exit> {
    let host = super::login::registry_host(&args.registry)?;
    let mut notes = Vec::new();
    let erased = ctx
        .resolver()
        .erase(&host, &mut notes)
        .with_context(|| format!("erasing the credential for {host}"))?;
    for note in notes {
        ctx.printer.warn(note);
    }
    if erased.is_empty() {
        ctx.printer.error(format!(
            "no credential is stored for {host}; nothing was erased"
        ));
        return Ok(Exit::NotFound);
    }
    for place in erased {
        ctx.printer
            .note(format!("removed the credential for {host} from {place}"));
    }
    Ok(Exit::Success)
}
