//! What `cp` prints: a row per image, the counts, and the progress line.

use serde::Serialize;

use crate::copy::Summary;
use crate::output::{count, escape, human_bytes, Row};
use crate::registry::Digest;

/// One image copied (or not), as printed.
#[derive(Debug, Serialize)]
pub(super) struct Copied {
    pub source: String,
    pub destination: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<Digest>,
    pub attachments: usize,
    #[serde(flatten)]
    pub summary: Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip)]
    pub dry_run: bool,
}

impl Row for Copied {
    fn headers(&self) -> Vec<&'static str> {
        vec!["SOURCE", "DESTINATION", "DIGEST", "SENT"]
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.source.clone(),
            self.destination.clone(),
            self.digest
                .as_ref()
                .map(Digest::to_string)
                .unwrap_or_default(),
            match &self.error {
                Some(e) => format!("error: {}", escape(e)),
                None => human_bytes(self.summary.bytes_sent),
            },
        ]
    }

    fn plain(&self) -> String {
        let digest = self
            .digest
            .as_ref()
            .map(Digest::to_string)
            .unwrap_or_default();
        match (&self.error, self.dry_run) {
            (Some(e), _) => format!("failed {} -> {}: {e}", self.source, self.destination),
            (None, true) => format!(
                "would copy {} -> {} {digest}",
                self.source, self.destination
            ),
            (None, false) => format!("copied {} -> {} {digest}", self.source, self.destination),
        }
    }
}

/// The counts, in words, for stderr: what was sent, then (when any) what was
/// mounted and what was there already.
pub(super) fn summary_line(total: &Summary, dry_run: bool) -> String {
    let mut line = format!(
        "{}: {} {}, {} ({}), {}",
        count(total.images, "image"),
        if dry_run { "would send" } else { "sent" },
        count(total.manifests_sent, "manifest"),
        count(total.blobs_sent, "blob"),
        human_bytes(total.bytes_sent),
        count(total.tags_set, "tag"),
    );
    if total.blobs_mounted > 0 {
        let verb = if dry_run { "would mount" } else { "mounted" };
        line += &format!("; {verb} {}", count(total.blobs_mounted, "blob"));
    }
    let there: Vec<String> = [
        (total.manifests_present, "manifest"),
        (total.blobs_present, "blob"),
        (total.tags_present, "tag"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| count(n, what))
    .collect();
    if !there.is_empty() {
        line += &format!("; already there: {}", there.join(", "));
    }
    line
}

/// How the error of an image left alone begins.
pub(super) const NOT_ATTEMPTED: &str = "not attempted: ";

/// Runs `work` with, on a terminal, a line of the bytes sent so far (from
/// `bytes`) and, when `images` is given, the images done of how many; in a pipe,
/// nothing.
pub(super) async fn with_progress<T>(
    work: impl std::future::Future<Output = T>,
    bytes: &std::sync::atomic::AtomicU64,
    images: Option<(
        &std::sync::atomic::AtomicUsize,
        &std::sync::atomic::AtomicUsize,
    )>,
) -> T {
    use std::io::IsTerminal as _;
    use std::sync::atomic::Ordering;
    if !std::io::stderr().is_terminal() {
        return work.await;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg}") {
        bar.set_style(style);
    }
    tokio::pin!(work);
    loop {
        tokio::select! {
            out = &mut work => {
                bar.finish_and_clear();
                return out;
            }
            () = tokio::time::sleep(std::time::Duration::from_millis(120)) => {
                let sent = crate::output::human_bytes(bytes.load(Ordering::Relaxed));
                bar.set_message(match images {
                    Some((done, of)) => format!(
                        "{} of {} images, {sent} sent",
                        done.load(Ordering::Relaxed),
                        of.load(Ordering::Relaxed)
                    ),
                    None => format!("{sent} sent"),
                });
                bar.tick();
            }
        }
    }
}
