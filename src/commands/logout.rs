//! `regctl logout HOST`: erases the credential stored for HOST from every place
//! regctl and docker keep one, and says where it was.

use anyhow::Result;

use super::context::Invocation;
use crate::cli::LogoutArgs;
use crate::exit::Exit;

/// Runs `regctl logout`.
pub async fn run(args: &LogoutArgs, ctx: &Invocation) -> Result<Exit> {
    let host = ctx.registry_host(&args.registry)?;
    let resolver = ctx.resolver().clone();
    let key = host.clone();
    let erased = super::context::blocking(move || resolver.erase(&key)).await?;
    for note in &erased.notes {
        ctx.printer.warn(note);
    }
    for place in &erased.places {
        ctx.printer
            .note(format!("removed the credential for {host} from {place}"));
    }
    for failure in &erased.failures {
        ctx.printer.error(format!(
            "{failure}; the credential for {host} may still be stored there"
        ));
    }
    // The first failure decides: 2 for a config that cannot be used, 1 for a
    // store that failed.
    if let Some(first) = erased.failures.first() {
        return Ok(Exit::for_credential(first));
    }
    if erased.places.is_empty() {
        ctx.printer.error(format!(
            "no credential is stored for {host}; nothing was erased"
        ));
        return Ok(Exit::NotFound);
    }
    Ok(Exit::Success)
}
