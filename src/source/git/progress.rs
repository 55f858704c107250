//! The optional progress bar on stderr: commits (or changes) and megabytes scanned, rate and
//! ETA. It stays hidden unless enabled, stderr is a terminal, and the scan has run for a second.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Shared, thread-safe progress reporting.
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    start: Instant,
    shown: AtomicBool,
    bytes: AtomicU64,
}

impl Progress {
    /// A progress reporter; draws only when `enabled` and stderr is a terminal.
    pub(crate) fn new(enabled: bool) -> Progress {
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden());
            let style = ProgressStyle::with_template(
                "{spinner} {prefix:>8} [{bar:30}] {pos}/{len} {msg} {per_sec} ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar
        });
        Progress {
            bar,
            start: Instant::now(),
            shown: AtomicBool::new(false),
            bytes: AtomicU64::new(0),
        }
    }

    /// Start a phase of `total` steps.
    pub(crate) fn phase(&self, name: &'static str, total: u64) {
        if let Some(bar) = &self.bar {
            bar.set_prefix(name);
            bar.set_length(total);
            bar.set_position(0);
            bar.reset_eta();
        }
    }

    /// `steps` more done, `bytes` more read.
    pub(crate) fn inc(&self, steps: u64, bytes: u64) {
        let Some(bar) = &self.bar else { return };
        let total = self.bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if !self.shown.load(Ordering::Relaxed)
            && self.start.elapsed() > Duration::from_secs(1)
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        bar.set_message(format!("{:.1} MB", total as f64 / 1e6));
        bar.inc(steps);
    }

    /// Remove the bar.
    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
