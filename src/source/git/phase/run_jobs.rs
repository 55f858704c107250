//! Phase 6: the jobs, in parallel on the scan's pool. Blobs the delta-order pass settled as
//! unable to match are skipped; candidates get a line diff against their old versions and a
//! detector pass per added hunk; findings are mapped to every commit carrying the change.
//! The interrupt flag is checked between jobs: an interrupted run is an error.

use super::super::GitError;
use super::super::engine::{self, Job, JobsOutcome};
use super::super::packs::PassOutcome;
use super::super::walk::WalkedCommit;
use super::Setup;
use crate::source::FragmentScanner;
use crate::source::progress::Progress;

/// Scan `jobs` (changes of `commits`, or of the index or work tree when `commits` is empty)
/// with `scanner`, using what the delta-order pass settled.
pub(crate) fn run_jobs<S: FragmentScanner + ?Sized>(
    ts: &gix::ThreadSafeRepository,
    jobs: &[Job],
    commits: &[WalkedCommit],
    pass: &PassOutcome,
    scanner: &S,
    setup: &Setup<'_>,
    progress: &Progress,
) -> Result<JobsOutcome, GitError> {
    let commit_hex: Vec<String> = commits.iter().map(|c| c.id.to_string()).collect();
    let ctx = engine::Ctx {
        scanner,
        commit_hex: &commit_hex,
        commits,
        max_bytes: setup.max_bytes,
        stream_above: setup.stream_above,
        progress,
        path_rules: scanner.has_path_rules(),
        per_commit: !commits.is_empty() && scanner.commit_sensitive(),
        verdicts: &pass.verdicts,
        retained: &pass.retained,
        content: &setup.content,
        tuning: &setup.tuning,
        interrupt: setup.interrupt.as_deref(),
    };
    progress.phase("files", jobs.len() as u64);
    let out = setup.on_pool("jobs", || engine::run(ts, jobs, &ctx));
    progress.finish();
    let out = out?;
    setup.check_interrupt("jobs")?;
    Ok(out)
}
