//! `docker-credential-regctl get|store|erase|list`: docker's credential-helper
//! protocol over the OS keyring logins of `regctl login` (see
//! `regctl::credentials::own_helper`). docker, skopeo and podman run it when
//! docker's config names it in `credHelpers`, as `regctl login` does.

use std::io::{Read as _, Write as _};
use std::process::ExitCode;

use regctl::credentials::{keyring, own_helper};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let action = match args.as_slice() {
        [one] => own_helper::Action::parse(one),
        _ => None,
    };
    // Messages go to stdout, where docker reads a helper's errors.
    let mut stdout = std::io::stdout().lock();
    let Some(action) = action else {
        let _ = writeln!(
            stdout,
            "Usage: docker-credential-regctl <store|get|erase|list|version>"
        );
        return ExitCode::FAILURE;
    };
    // Bounded: one byte more than allowed is enough to refuse.
    let mut input = Vec::new();
    let limit = own_helper::MAX_INPUT as u64 + 1;
    if let Err(e) = std::io::stdin().take(limit).read_to_end(&mut input) {
        let _ = writeln!(stdout, "cannot read standard input: {e}");
        return ExitCode::FAILURE;
    }
    let config = keyring::config_path();
    match own_helper::answer(action, &input, config.as_deref()) {
        Ok(out) => match stdout.write_all(out.expose().as_bytes()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::FAILURE,
        },
        // The message is the answer docker reads; it never holds the input.
        Err(e) => {
            let _ = writeln!(stdout, "{e}");
            ExitCode::FAILURE
        }
    }
}
