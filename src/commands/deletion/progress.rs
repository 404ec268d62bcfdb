//! How far a long run of deletions got: a bar on a terminal, a line now and then
//! without one.

use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::deletion::Outcome;

/// How often a run without a terminal says how far the deletions got.
pub(super) const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// How many actions ended, and how many of them failed, for the progress line.
#[derive(Default)]
pub(super) struct Counts {
    ended: AtomicUsize,
    failed: AtomicUsize,
}

impl Counts {
    pub(super) fn note(&self, outcome: &Outcome) {
        self.ended.fetch_add(1, Ordering::Relaxed);
        if matches!(outcome, Outcome::Failed(_)) {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(super) fn line(&self, planned: usize) -> String {
        format!(
            "deleting: {} of {planned} actions done, {} failed",
            self.ended.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed)
        )
    }
}

pub(super) fn progress_bar(len: usize) -> Option<indicatif::ProgressBar> {
    if len < 20 || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} deletions ({eta})")
    {
        bar.set_style(style);
    }
    Some(bar)
}
