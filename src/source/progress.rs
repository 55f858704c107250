//! The progress bar on stderr, shared by every source.
//!
//! A scan is a short plan of named phases ("1/3 commits", "2/3 blobs", "3/3 files"). The bar
//! appears 200 ms after the start (so a quick scan never flickers, and a slow one shows
//! something within a quarter of a second), ticks on its own while a phase makes no visible
//! step, shows whole-number rates, and shows an ETA only once the rate has had time to settle.
//! The byte counter restarts with each phase, so the last phase ends on the number of bytes
//! the summary reports. Nothing is drawn unless enabled and stderr is a terminal; the caller
//! decides about `--quiet` and CI.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// How long the bar stays hidden after the start.
const SHOW_AFTER: Duration = Duration::from_millis(200);
/// How often the bar redraws itself when nothing else moves it.
const TICK: Duration = Duration::from_millis(120);
/// An ETA is shown only after this long in a phase ...
const ETA_AFTER: Duration = Duration::from_secs(3);
/// ... and once this share of the phase is done.
const ETA_AFTER_SHARE: f64 = 0.05;

/// Shared, thread-safe progress reporting.
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    plan: Mutex<&'static [&'static str]>,
    /// Bytes of the current phase (read by the style's `bytes` and `rate` keys).
    bytes: Arc<AtomicU64>,
    done: Arc<AtomicBool>,
    shower: Mutex<Option<JoinHandle<()>>>,
}

impl Progress {
    /// A progress reporter; draws only when `enabled` and stderr is a terminal.
    pub(crate) fn new(enabled: bool) -> Progress {
        let bytes = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden());
            bar.set_style(style(false, &bytes));
            bar
        });
        let shower = bar.as_ref().map(|bar| {
            let (bar, done) = (bar.clone(), done.clone());
            std::thread::spawn(move || {
                std::thread::park_timeout(SHOW_AFTER);
                if !done.load(Ordering::Acquire) {
                    bar.set_draw_target(ProgressDrawTarget::stderr());
                    bar.enable_steady_tick(TICK);
                }
            })
        });
        Progress {
            bar,
            plan: Mutex::new(&[]),
            bytes,
            done,
            shower: Mutex::new(shower),
        }
    }

    /// The phases this scan will go through, in order; [`Progress::phase`] numbers them.
    pub(crate) fn plan(&self, phases: &'static [&'static str]) {
        if let Ok(mut p) = self.plan.lock() {
            *p = phases;
        }
    }

    /// Start the phase `name` of `total` steps (0: the total is not known).
    pub(crate) fn phase(&self, name: &'static str, total: u64) {
        let Some(bar) = &self.bar else { return };
        let plan = self.plan.lock().map(|p| *p).unwrap_or(&[]);
        bar.set_prefix(phase_label(plan, name));
        bar.set_style(style(total > 0, &self.bytes));
        self.bytes.store(0, Ordering::Relaxed);
        bar.set_length(total);
        bar.set_position(0);
        bar.reset_elapsed();
        bar.reset_eta();
    }

    /// `steps` more done, `bytes` more read in the current phase.
    pub(crate) fn inc(&self, steps: u64, bytes: u64) {
        let Some(bar) = &self.bar else { return };
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        bar.inc(steps);
    }

    /// Remove the bar.
    pub(crate) fn finish(&self) {
        self.done.store(true, Ordering::Release);
        if let Some(shower) = self.shower.lock().ok().and_then(|mut s| s.take()) {
            shower.thread().unpark();
            let _ = shower.join();
        }
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// "2/3 blobs" for the second of three planned phases; the bare name when it is not planned.
fn phase_label(plan: &[&str], name: &str) -> String {
    match plan.iter().position(|p| *p == name) {
        Some(i) => format!("{}/{} {name}", i + 1, plan.len()),
        None => name.to_string(),
    }
}

/// The bar's look: with a bar and counts when the phase's total is known, a spinner and a count
/// otherwise.
fn style(known_total: bool, bytes: &Arc<AtomicU64>) -> ProgressStyle {
    let template = if known_total {
        "{spinner} {prefix} [{bar:30}] {pos}/{len} {bytes} {rate}{eta}"
    } else {
        "{spinner} {prefix} {pos} {bytes} {rate}"
    };
    let (b1, b2) = (bytes.clone(), bytes.clone());
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
        .with_key(
            "bytes",
            move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                // Phases that read no bytes (the commit walk) show none.
                let n = b1.load(Ordering::Relaxed);
                if n > 0 {
                    let _ = w.write_str(&crate::report::summary::human_bytes(n));
                }
            },
        )
        .with_key(
            "rate",
            move |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&rate(s.pos(), b2.load(Ordering::Relaxed), s.elapsed()));
            },
        )
        .with_key("eta", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            if let Some(eta) = stable_eta(s.pos(), s.len(), s.elapsed()) {
                let _ = write!(w, " ETA {eta}");
            }
        })
}

/// Whole-number rates of steps and bytes: "1234/s 56 MB/s" ("1234/s" when no bytes were read).
fn rate(steps: u64, bytes: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    if secs < 0.05 {
        return String::new();
    }
    let per_sec = |n: u64| (n as f64 / secs).round() as u64;
    match bytes {
        0 => format!("{}/s", per_sec(steps)),
        _ => format!("{}/s {} MB/s", per_sec(steps), per_sec(bytes) / 1_000_000),
    }
}

/// The remaining time as "1m05s" or "42s", once the phase has run long enough and done enough
/// for the rate to mean something; `None` before that.
fn stable_eta(pos: u64, len: Option<u64>, elapsed: Duration) -> Option<String> {
    let len = len.filter(|&l| l > 0)?;
    let share = pos as f64 / len as f64;
    if elapsed < ETA_AFTER || share < ETA_AFTER_SHARE || pos >= len {
        return None;
    }
    let left = (elapsed.as_secs_f64() * (1.0 - share) / share).round() as u64;
    Some(if left >= 60 {
        format!("{}m{:02}s", left / 60, left % 60)
    } else {
        format!("{left}s")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_are_numbered_by_the_plan() {
        let plan = ["commits", "blobs", "files"];
        assert_eq!(phase_label(&plan, "blobs"), "2/3 blobs");
        assert_eq!(phase_label(&plan, "files"), "3/3 files");
        assert_eq!(phase_label(&["files"], "files"), "1/1 files");
        assert_eq!(phase_label(&[], "walk"), "walk");
    }

    #[test]
    fn rates_are_whole_numbers() {
        let r = rate(1000, 3_000_000, Duration::from_millis(1500));
        assert_eq!(r, "667/s 2 MB/s");
        assert!(!r.contains('.'));
        assert_eq!(rate(5, 5, Duration::from_millis(10)), "");
        assert_eq!(rate(30, 0, Duration::from_secs(3)), "10/s");
    }

    #[test]
    fn no_eta_until_the_rate_has_settled() {
        let long = Duration::from_secs(10);
        assert_eq!(stable_eta(50, Some(100), Duration::from_secs(1)), None);
        assert_eq!(stable_eta(1, Some(100), long), None);
        assert_eq!(stable_eta(5, None, long), None);
        assert_eq!(stable_eta(100, Some(100), long), None);
        assert_eq!(stable_eta(50, Some(100), long).as_deref(), Some("10s"));
        assert_eq!(stable_eta(10, Some(100), long).as_deref(), Some("1m30s"));
    }

    #[test]
    fn a_disabled_reporter_draws_nothing_and_finishes() {
        let p = Progress::new(false);
        p.plan(&["files"]);
        p.phase("files", 3);
        p.inc(1, 10);
        assert!(p.bar.is_none());
        p.finish();
    }
}
