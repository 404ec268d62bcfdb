//! One interrupt for the whole run. Ctrl-C (SIGINT) is caught from start-up, said
//! at once on stderr, and seen by every part through one [`Interrupt`]: a listing
//! stops and says how far it got, a prompt gives the terminal back, deletions stop
//! between actions. While no part has taken charge of it (planning, reading), the
//! run stops where it is: nothing has been changed then. A second Ctrl-C ends the
//! process at once. `--deadline` fires the same interrupt when its time is up.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::watch;

/// What stopped the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// Ctrl-C (SIGINT).
    CtrlC,
    /// `--deadline` seconds went by.
    Deadline(u64),
}

/// The run's interrupt: set once, by Ctrl-C or the deadline.
#[derive(Clone)]
pub struct Interrupt {
    set: Arc<AtomicBool>,
    cause: Arc<std::sync::OnceLock<Cause>>,
    claimed: Arc<AtomicBool>,
    changed: watch::Receiver<bool>,
}

impl Interrupt {
    /// Starts listening for Ctrl-C, and the clock when there is a `deadline`
    /// (seconds); inside the runtime, before any work.
    pub fn listen(deadline: Option<u64>) -> std::io::Result<Interrupt> {
        let (tx, rx) = watch::channel(false);
        let tx = Arc::new(tx);
        let set = Arc::new(AtomicBool::new(false));
        let cause = Arc::new(std::sync::OnceLock::new());
        #[cfg(unix)]
        let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
        let fire = {
            let (set, cause, tx) = (set.clone(), cause.clone(), tx.clone());
            move |why: Cause, message: String| {
                if cause.set(why).is_ok() {
                    set.store(true, Ordering::SeqCst);
                    crate::output::to_stderr(message);
                    let _ = tx.send(true);
                }
            }
        };
        if let Some(seconds) = deadline {
            let fire = fire.clone();
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_secs(seconds)).await;
                fire(
                    Cause::Deadline(seconds),
                    format!("deadline: {seconds} s reached; stopping"),
                );
            });
        }
        tokio::spawn(async move {
            let mut count = 0u32;
            loop {
                #[cfg(unix)]
                let got = sigint.recv().await.is_some();
                #[cfg(not(unix))]
                let got = tokio::signal::ctrl_c().await.is_ok();
                if !got {
                    return;
                }
                count += 1;
                if count > 1 {
                    crate::output::to_stderr("interrupted again: stopping now");
                    std::process::exit(130);
                }
                fire(
                    Cause::CtrlC,
                    "interrupt: stopping (Ctrl-C again to stop now)".into(),
                );
            }
        });
        Ok(Interrupt {
            set,
            cause,
            claimed: Arc::new(AtomicBool::new(false)),
            changed: rx,
        })
    }

    /// What stopped the run, if anything did.
    pub fn cause(&self) -> Option<Cause> {
        self.cause.get().copied()
    }

    /// The exit status of a run stopped by this interrupt: 130 after Ctrl-C, 1
    /// when the deadline passed.
    pub fn exit(&self) -> crate::exit::Exit {
        match self.cause() {
            Some(Cause::Deadline(_)) => crate::exit::Exit::Failure,
            _ => crate::exit::Exit::Interrupted,
        }
    }

    /// True once Ctrl-C was pressed (or the deadline passed).
    pub fn is_set(&self) -> bool {
        self.set.load(Ordering::SeqCst)
    }

    /// The flag itself, for the deletion engine (no action starts once it is set).
    pub fn flag(&self) -> &AtomicBool {
        &self.set
    }

    /// The flag, shared with work on threads of its own that must stop once
    /// it is set (a credential helper).
    pub fn shared_flag(&self) -> Arc<AtomicBool> {
        self.set.clone()
    }

    /// Resolves once Ctrl-C was pressed (at once if it was already).
    pub async fn wait(&self) {
        let mut changed = self.changed.clone();
        if changed.wait_for(|set| *set).await.is_err() && !self.is_set() {
            // No listener any more (or never one): no interrupt will come.
            std::future::pending::<()>().await;
        }
    }

    /// Says that the caller handles the interrupt from now on (reports what was
    /// done and stops cleanly), so the run is not stopped around it.
    pub fn claim(&self) {
        self.claimed.store(true, Ordering::SeqCst);
    }

    /// Resolves on Ctrl-C while no part has claimed it.
    pub async fn wait_unclaimed(&self) {
        self.wait().await;
        if self.claimed.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
    }
}
