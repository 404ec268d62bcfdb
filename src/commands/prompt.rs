//! Questions asked on the terminal (confirmations, user name, password), each on
//! a thread of its own so that Ctrl-C can end the wait.

use anyhow::Result;
use dialoguer::console::Term;

use crate::interrupt::Interrupt;

/// Asks with `question` on the terminal (stderr); `None` when the run was
/// interrupted meanwhile.
///
/// Ctrl-C at the prompt arrives as SIGINT: raised by the terminal library when
/// it reads the key (it has restored the terminal then), from the terminal
/// between reads, or from outside. The run's one listener catches it in every
/// case, instead of the process being killed with the cursor hidden. The
/// terminal's settings are put back, as the prompt may hold it in raw mode.
pub async fn ask<T: Send + 'static>(
    interrupt: &Interrupt,
    question: impl FnOnce(&Term) -> dialoguer::Result<T> + Send + 'static,
) -> Result<Option<T>> {
    let term = Term::stderr();
    #[cfg(unix)]
    let saved = crate::terminal::save();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let prompt_term = term.clone();
    std::thread::spawn(move || {
        let _ = tx.send(question(&prompt_term));
    });
    let answer = tokio::select! {
        answer = rx => answer,
        () = interrupt.wait() => {
            #[cfg(unix)]
            if let Some(saved) = &saved {
                crate::terminal::restore(saved);
            }
            return Ok(interrupted(&term));
        }
    };
    match answer {
        Ok(Ok(answer)) => Ok(Some(answer)),
        Ok(Err(dialoguer::Error::IO(e))) if e.kind() == std::io::ErrorKind::Interrupted => {
            Ok(interrupted(&term))
        }
        Ok(Err(e)) => Err(e.into()),
        Err(_) => Ok(interrupted(&term)),
    }
}

/// The prompt hid the cursor; give it back before leaving.
fn interrupted<T>(term: &Term) -> Option<T> {
    let _ = term.show_cursor();
    crate::output::to_stderr("");
    None
}
