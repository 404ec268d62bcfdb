//! Docker credential helpers: `docker-credential-<name> get|store|erase`; for
//! `get`, the server URL on stdin and `{"Username":..,"Secret":..}` on stdout. A helper is a program regctl does not
//! control: it runs under a time limit and a cap on what is read, is killed when
//! it overruns or the run is interrupted, its input is written while its output
//! is read, and nothing it printed is echoed (it may hold the secret).

use std::io::{Read, Write as _};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Credential, CredentialError, Secret};

/// How long a helper may run when no other limit is given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The most regctl reads of a helper's stdout or stderr.
pub const MAX_OUTPUT: u64 = 64 * 1024;

/// When a helper must stop: its time limit, and the run's interrupt (Ctrl-C,
/// `--deadline`), a flag set from elsewhere while the helper runs.
#[derive(Clone, Debug)]
pub struct Bounds {
    /// How long it may take, its input and output included.
    pub timeout: Duration,
    /// Set when the run is interrupted.
    pub cancel: Arc<AtomicBool>,
}

/// Asks helper `name` for the credentials of `server_url`, within `bounds`.
/// "credentials not found" means anonymous access.
pub fn get(
    name: &str,
    server_url: &str,
    bounds: &Bounds,
) -> Result<Option<Credential>, CredentialError> {
    match run(name, "get", server_url.as_bytes(), bounds)? {
        Answer::NotFound => Ok(None),
        Answer::Done(stdout) => parse(&stdout).map_err(|detail| failure(name, detail)),
    }
}

/// Stores `username` and `secret` for `server_url` with helper `name`
/// (`docker-credential-<name> store`), as `docker login` does.
pub fn store(
    name: &str,
    server_url: &str,
    username: &str,
    secret: &Secret,
    bounds: &Bounds,
) -> Result<(), CredentialError> {
    let input = serde_json::json!({
        "ServerURL": server_url,
        "Username": username,
        "Secret": secret.expose(),
    });
    let input = serde_json::to_vec(&input)
        .map_err(|e| failure(name, format!("cannot build its input: {e}")))?;
    match run(name, "store", &input, bounds)? {
        Answer::Done(_) => Ok(()),
        Answer::NotFound => Err(failure(
            name,
            "answered \"credentials not found\" to `store`".into(),
        )),
    }
}

/// Erases what helper `name` holds for `server_url`; false when it held nothing.
pub fn erase(name: &str, server_url: &str, bounds: &Bounds) -> Result<bool, CredentialError> {
    Ok(matches!(
        run(name, "erase", server_url.as_bytes(), bounds)?,
        Answer::Done(_)
    ))
}

/// Whether `docker-credential-<name>` is a file on PATH that may be run, as
/// docker looks for it.
pub fn installed(name: &str) -> bool {
    crate::file::on_path(&format!("docker-credential-{name}")).is_some()
}

/// How a helper run ended, when it did not fail.
enum Answer {
    /// It exited 0; what it printed on stdout.
    Done(Vec<u8>),
    /// It said "credentials not found".
    NotFound,
}

fn failure(name: &str, detail: String) -> CredentialError {
    CredentialError::Helper {
        // The name comes from docker's config: shown escaped.
        helper: crate::text::escape(name),
        detail,
    }
}

/// Why `name`, from docker's config, cannot name a credential helper: with a
/// `/` or `\` (or a leading `.`), `docker-credential-<name>` is a path, run from
/// the current folder, instead of a program found on PATH; a control character
/// has no place in a program's name either.
pub fn check_name(name: &str) -> Result<(), String> {
    let why = if name.contains(['/', '\\']) {
        "it holds a `/` or `\\`, which would make docker-credential-NAME a path run from the current folder"
    } else if name.starts_with('.') {
        "it starts with `.`"
    } else if name.chars().any(char::is_control) {
        "it holds a control character"
    } else {
        return Ok(());
    };
    Err(format!(
        "`{}` is not a helper name: {why}; nothing was run",
        crate::text::escape(name)
    ))
}

/// Runs `docker-credential-<name> <verb>` with `input` on stdin, within
/// `bounds` and the output cap, without regctl's own `REGCTL_*` variables (a
/// password among them) in its environment.
fn run(name: &str, verb: &str, input: &[u8], bounds: &Bounds) -> Result<Answer, CredentialError> {
    let timeout = bounds.timeout;
    check_name(name).map_err(|why| failure(name, why))?;
    let program = format!("docker-credential-{name}");
    let fail = |detail: String| failure(name, detail);
    let mut command = Command::new(&program);
    for (var, _) in std::env::vars_os() {
        if var.as_encoded_bytes().starts_with(b"REGCTL_") {
            command.env_remove(var);
        }
    }
    let mut child = command
        .arg(verb)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => CredentialError::HelperMissing {
                helper: crate::text::escape(name),
            },
            _ => fail(format!(
                "cannot run `{}`: {e}",
                crate::text::escape(&program)
            )),
        })?;
    let deadline = Instant::now() + timeout;
    // The input is written by a thread of its own while the output is read and
    // the clock runs: a helper that does not read it (more than a pipe holds)
    // cannot hold regctl. The write ends with the helper (a broken pipe); one
    // that exits without reading its input is judged by its output below.
    if let Some(mut stdin) = child.stdin.take() {
        let input = input.to_vec();
        std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }
    let over = Arc::new(AtomicBool::new(false));
    let stdout = capped_reader(child.stdout.take(), over.clone());
    let stderr = capped_reader(child.stderr.take(), over.clone());
    let status = match wait(&mut child, deadline, &over, &bounds.cancel) {
        // One that flooded may have died of the closed pipe before it was killed.
        Ended::Exited(_) if over.load(Ordering::SeqCst) => Ended::Flooded,
        ended => ended,
    };
    let status = match status {
        Ended::Exited(status) => status,
        Ended::Flooded => {
            return Err(fail(format!(
                "printed more than {MAX_OUTPUT} bytes and was stopped; a credential is far smaller"
            )))
        }
        Ended::TimedOut => {
            return Err(fail(format!(
                "did not answer `{verb}` within {} s and was stopped (raise --timeout if it needs longer)",
                timeout.as_secs()
            )))
        }
        Ended::Interrupted => {
            return Err(CredentialError::Interrupted {
                helper: crate::text::escape(name),
            })
        }
    };
    // A process the helper started may hold its output open after it exits:
    // the time limit covers the reading too.
    let (Some(stdout), Some(stderr)) = (collect(&stdout, deadline), collect(&stderr, deadline))
    else {
        return Err(fail(format!(
            "left its output open past {} s (a process it started holds it)",
            timeout.as_secs()
        )));
    };
    if status.success() {
        return Ok(Answer::Done(stdout));
    }
    let said = format!(
        "{} {}",
        String::from_utf8_lossy(&stdout),
        String::from_utf8_lossy(&stderr)
    );
    if said.to_ascii_lowercase().contains("credentials not found") {
        return Ok(Answer::NotFound);
    }
    Err(fail(format!(
        "`{verb}` exited with {status} (what it printed is not shown, as it may hold a secret; \
         run `{} {verb}` to see it)",
        crate::text::escape(&program)
    )))
}

/// The helper's answer; an error names the field and position, never a value.
fn parse(stdout: &[u8]) -> Result<Option<Credential>, String> {
    let value: serde_json::Value = serde_json::from_slice(stdout).map_err(|e| {
        format!(
            "its output is not JSON (line {}, column {})",
            e.line(),
            e.column()
        )
    })?;
    let field = |name: &str| -> Result<Option<String>, String> {
        match value.get(name) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("its output's `{name}` is not a string")),
        }
    };
    if !value.is_object() {
        return Err("its output is not a JSON object".into());
    }
    let username = field("Username")?.unwrap_or_default();
    let secret = field("Secret")?.ok_or("its output has no `Secret`")?;
    if username == "<token>" {
        return Ok(Some(Credential::IdentityToken {
            username: String::new(),
            token: Secret::new(secret),
            password: None,
        }));
    }
    Ok(Some(Credential::Basic {
        username,
        password: Secret::new(secret),
    }))
}

/// Reads at most [`MAX_OUTPUT`] bytes in a thread of its own (so that a helper
/// filling a pipe cannot block it); sets `over` when there was more.
fn capped_reader<R: Read + Send + 'static>(
    pipe: Option<R>,
    over: Arc<AtomicBool>,
) -> Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(pipe) = pipe {
            let mut limited = pipe.take(MAX_OUTPUT + 1);
            let _ = limited.read_to_end(&mut bytes);
            if bytes.len() as u64 > MAX_OUTPUT {
                over.store(true, Ordering::SeqCst);
                bytes.truncate(MAX_OUTPUT as usize);
            }
        }
        let _ = tx.send(bytes);
    });
    rx
}

/// What a reader read, if it finished by `deadline`.
fn collect(reader: &Receiver<Vec<u8>>, deadline: Instant) -> Option<Vec<u8>> {
    reader
        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        .ok()
}

/// How a helper's run ended.
enum Ended {
    /// It exited by itself.
    Exited(std::process::ExitStatus),
    /// It was killed: it printed too much.
    Flooded,
    /// It was killed: its time was up.
    TimedOut,
    /// It was killed: the run was interrupted.
    Interrupted,
}

/// Waits for `child` to exit, and kills it when it overruns `deadline`, prints
/// too much (`over`) or the run is interrupted (`cancel`).
fn wait(child: &mut Child, deadline: Instant, over: &AtomicBool, cancel: &AtomicBool) -> Ended {
    loop {
        let ended = match child.try_wait() {
            Ok(Some(status)) => return Ended::Exited(status),
            _ if over.load(Ordering::SeqCst) => Ended::Flooded,
            _ if cancel.load(Ordering::SeqCst) => Ended::Interrupted,
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            _ => Ended::TimedOut,
        };
        let _ = child.kill();
        let _ = child.wait();
        return ended;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_names_fields_never_values() {
        let secret = "s3cr3t-value";
        for (output, says) in [
            (
                format!(r#"{{"Username":"u","Secret":5,"x":"{secret}"}}"#),
                "`Secret` is not a string",
            ),
            (
                format!(r#"{{"Username":["{secret}"],"Secret":"a"}}"#),
                "`Username` is not a string",
            ),
            (format!(r#"{{"Username":"{secret}"}}"#), "no `Secret`"),
            (format!(r#"{{"Secret":"{secret}""#), "not JSON"),
            (format!(r#"["{secret}"]"#), "not a JSON object"),
        ] {
            let err = parse(output.as_bytes()).unwrap_err();
            assert!(err.contains(says), "{err}");
            assert!(!err.contains(secret), "{err}");
        }
        assert!(matches!(
            parse(br#"{"Username":"<token>","Secret":"t"}"#),
            Ok(Some(Credential::IdentityToken { .. }))
        ));
    }
}
