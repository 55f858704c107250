//! The phases of a history scan, in the order [`super::scan_history_with`] runs them:
//!
//! 1. [`select_commits`]: which tips and which hidden commits (refs, ranges, `--since-commit`);
//! 2. [`pack_session`]: the pack mappings and the page limiter that keeps them in budget;
//! 3. [`walk_commits`]: the commits, newest first (with the tree store loading alongside);
//! 4. [`diff_trees`]: each commit's file changes against its parents;
//! 5. [`settle_blobs`]: the changes grouped into jobs, the distinct new blobs classified and
//!    prefiltered in one delta-order pass over the packs;
//! 6. [`run_jobs`]: line diffs and detection for the candidates, findings mapped to commits;
//! 7. [`finish`]: commit metadata, dedup, report order, counters into the report.
//!
//! Each phase takes and returns plain data and records its time in a [`Clock`].

pub(crate) mod diff_trees;
pub(crate) mod finish;
pub(crate) mod pack_session;
pub(crate) mod run_jobs;
pub(crate) mod select_commits;
pub(crate) mod settle_blobs;
pub(crate) mod walk_commits;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::{GitError, GitScanOptions, GitTuning, PhaseTiming};

/// What every phase needs to know besides its inputs: the size limits, the thread pool, the
/// interrupt flag and the tuning.
pub(crate) struct Setup<'a> {
    /// Repository path as given (for error messages).
    pub path: &'a Path,
    /// Blobs above this many bytes are not scanned (`--max-target-megabytes`).
    pub max_bytes: Option<u64>,
    /// Without `max_bytes`: blobs above this many bytes are streamed.
    pub stream_above: Option<u64>,
    /// Options of the shared content pipeline for archive blobs.
    pub content: crate::source::SourceOptions,
    /// The scan's own thread pool.
    pub pool: rayon::ThreadPool,
    /// Set by the caller to stop the scan early.
    pub interrupt: Option<Arc<AtomicBool>>,
    /// Cache sizes, budgets, pass choices.
    pub tuning: GitTuning,
}

impl<'a> Setup<'a> {
    /// The setup of a scan of `path` with `opts`: its limits and a pool of `opts.threads`
    /// threads (0 = one per core).
    pub(crate) fn new(path: &'a Path, opts: &GitScanOptions) -> Result<Setup<'a>, GitError> {
        // 0 means no limit, as in gitleaks.
        let max_bytes = opts
            .max_target_megabytes
            .filter(|&m| m > 0)
            .map(|m| m.saturating_mul(1_000_000));
        let stream_above = if max_bytes.is_none() {
            opts.stream_above_bytes
        } else {
            None
        };
        let content = crate::source::SourceOptions {
            max_target_megabytes: opts.max_target_megabytes.filter(|&m| m > 0),
            max_archive_depth: opts.max_archive_depth,
            archive_limits: crate::source::archive::ArchiveLimits {
                max_member_bytes: max_bytes,
                ..opts.archive_limits
            },
            ..crate::source::SourceOptions::default()
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(opts.threads)
            .thread_name(|i| format!("git-scan-{i}"))
            .build()
            .map_err(|e| {
                GitError::Options(format!("cannot start {} threads: {e}", opts.threads))
            })?;
        Ok(Setup {
            path,
            max_bytes,
            stream_above,
            content,
            pool,
            interrupt: opts.interrupt.clone(),
            tuning: opts.tuning.clone(),
        })
    }

    /// Whether the caller asked the scan to stop.
    pub(crate) fn interrupted(&self) -> bool {
        self.interrupt
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Relaxed))
    }

    /// An error when the caller asked the scan to stop: an interrupted scan is incomplete.
    pub(crate) fn check_interrupt(&self, phase: &'static str) -> Result<(), GitError> {
        if self.interrupted() {
            return Err(GitError::Interrupted {
                repo: self.path.to_path_buf(),
                phase,
            });
        }
        Ok(())
    }

    /// Run `f` on the scan's pool, turning a panic into an error naming `phase`: a bug in a
    /// fast path fails the scan instead of silently costing its speed-up or its results.
    pub(crate) fn on_pool<T: Send>(
        &self,
        phase: &'static str,
        f: impl FnOnce() -> T + Send,
    ) -> Result<T, GitError> {
        guard(self.path, phase, || self.pool.install(f))
    }
}

/// Run `f`, turning a panic into [`GitError::Panic`] naming `phase`.
pub(crate) fn guard<T>(
    path: &Path,
    phase: &'static str,
    f: impl FnOnce() -> T,
) -> Result<T, GitError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| GitError::Panic {
        repo: path.to_path_buf(),
        phase,
        message: panic_message(payload.as_ref()),
    })
}

/// The text of a panic payload (`panic!` with a string or a format), or a placeholder.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-text payload".into()
    }
}

/// Records how long each phase took.
#[derive(Debug)]
pub(crate) struct Clock {
    start: Instant,
    timings: Vec<PhaseTiming>,
}

impl Clock {
    /// A clock whose first phase starts now.
    pub(crate) fn start() -> Clock {
        Clock {
            start: Instant::now(),
            timings: Vec::new(),
        }
    }

    /// Record that `phase` ended now (it started when the previous one ended).
    pub(crate) fn lap(&mut self, phase: &'static str, detail: String) {
        let now = Instant::now();
        self.timings.push(PhaseTiming {
            phase,
            elapsed: now - self.start,
            detail,
        });
        self.start = now;
    }

    /// Record a phase timed elsewhere (one that ran alongside another).
    pub(crate) fn record(&mut self, timing: PhaseTiming) {
        self.timings.push(timing);
    }

    /// The recorded timings, in order.
    pub(crate) fn into_timings(self) -> Vec<PhaseTiming> {
        self.timings
    }
}

/// The process' memory figures, for timing details.
pub(crate) fn memory() -> String {
    super::resident::memory_summary()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_a_guarded_phase_is_an_error_naming_the_phase() {
        let r: Result<(), GitError> = guard(Path::new("repo"), "walk", || panic!("boom {}", 7));
        let e = r.expect_err("panic must become an error");
        let text = e.to_string();
        assert!(text.contains("walk"), "{text}");
        assert!(text.contains("boom 7"), "{text}");
        assert!(text.contains("repo"), "{text}");
    }

    #[test]
    fn a_set_interrupt_flag_stops_at_the_next_phase() {
        let flag = Arc::new(AtomicBool::new(false));
        let opts = GitScanOptions {
            interrupt: Some(Arc::clone(&flag)),
            threads: 1,
            ..GitScanOptions::default()
        };
        let setup = Setup::new(Path::new("r"), &opts).expect("setup");
        assert!(setup.check_interrupt("walk").is_ok());
        flag.store(true, Ordering::Relaxed);
        let e = setup.check_interrupt("walk").expect_err("interrupted");
        assert!(
            matches!(e, GitError::Interrupted { phase: "walk", .. }),
            "{e}"
        );
    }

    #[test]
    fn the_pool_has_the_requested_threads() {
        let opts = GitScanOptions {
            threads: 3,
            ..GitScanOptions::default()
        };
        let setup = Setup::new(Path::new("r"), &opts).expect("setup");
        assert_eq!(setup.pool.current_num_threads(), 3);
        let n = setup
            .on_pool("t", rayon::current_num_threads)
            .expect("runs");
        assert_eq!(n, 3);
    }

    #[test]
    fn clock_records_phases_in_order() {
        let mut c = Clock::start();
        c.lap("a", String::new());
        c.lap("b", "x".into());
        let t = c.into_timings();
        assert_eq!(t.iter().map(|t| t.phase).collect::<Vec<_>>(), ["a", "b"]);
        assert!(t[1].to_string().ends_with("(x)"));
    }
}
